/* Pod Security Admission: the Pod Security Standards (privileged, baseline,
 * restricted) applied from namespace labels, as kube-apiserver's built-in
 * PodSecurity admission does by default.
 *
 *   pod-security.kubernetes.io/enforce: LEVEL   pods that violate LEVEL
 *                                               are refused (403);
 *   pod-security.kubernetes.io/warn: LEVEL      the answer carries a
 *                                               Warning header per
 *                                               violation, for pods and
 *                                               for workload templates;
 *   pod-security.kubernetes.io/audit: LEVEL     the request's audit event
 *                                               carries the violations
 *                                               (annotation
 *                                               pod-security.kubernetes.io/
 *                                               audit-violations).
 *
 * A level that is not privileged, baseline or restricted counts as
 * restricted (failing closed, as kube-apiserver does). The -version labels
 * are read as "latest". Only creates are checked: a pod's spec barely
 * changes after it, and kube-apiserver exempts updates that leave it be.
 * The check runs with the namespace the create's write is conditioned on
 * (resources.c's namespace check), so a label this member has not applied
 * yet is not missed: it catches up first, as for a new namespace. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/obj.h"
#include "api/object/registry.h"
#include "api/object/validate.h"
#include "api/server/internal.h"
#include "api/server/objects.h"
#include "raft/repl.h"
#include "lib/mem.h"
#include "store/store.h"

#define LABEL "pod-security.kubernetes.io/"

enum level { PRIVILEGED, BASELINE, RESTRICTED };

static const char *const level_names[] = {"privileged", "baseline",
                                          "restricted"};

/* Violations found, as "check (detail)" items joined by ", ". */
struct findings {
    struct obj_buf text;
    unsigned n;
    int rv; /* -ENOMEM once an append failed */
};

static bool is(const char *s, const char *want)
{
    return s != NULL && strcmp(s, want) == 0;
}

static void add(struct findings *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add(struct findings *f, const char *fmt, ...)
{
    char item[512];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(item, sizeof item, fmt, ap);
    va_end(ap);
    if (f->rv == 0 && f->n > 0)
        f->rv = obj_buf_append(&f->text, ", ", 2);
    if (f->rv == 0)
        f->rv = obj_buf_append(&f->text, item, strlen(item));
    f->n++;
}

static const char *str(const struct obj *o, const char *path)
{
    return obj_str_or(obj_get_path(o, path), NULL);
}

static bool is_true(const struct obj *o, const char *path)
{
    return obj_bool_or(obj_get_path(o, path), false);
}

/* Is @path of @o set to false (not absent, not true)? */
static bool is_false(const struct obj *o, const char *path)
{
    return !obj_bool_or(obj_get_path(o, path), true);
}

/* Call @fn for every container of @spec (init, regular and ephemeral). */
static void each_container(const struct obj *spec, struct findings *f,
                           enum level lv,
                           void (*fn)(const struct obj *c, const char *name,
                                      const struct obj *spec,
                                      struct findings *f, enum level lv))
{
    static const char *const lists[] = {"initContainers", "containers",
                                        "ephemeralContainers"};

    for (size_t l = 0; l < 3; l++) {
        const struct obj *cs = obj_map_get(spec, lists[l]);
        for (size_t i = 0; i < obj_array_len(cs); i++) {
            const struct obj *c = obj_array_get(cs, i);
            fn(c, obj_str_or(obj_map_get(c, "name"), ""), spec, f, lv);
        }
    }
}

/* ---- baseline --------------------------------------------------------------*/

static bool baseline_capability(const char *cap)
{
    static const char *const allowed[] = {
        "AUDIT_WRITE", "CHOWN",  "DAC_OVERRIDE", "FOWNER",
        "FSETID",      "KILL",   "MKNOD",        "NET_BIND_SERVICE",
        "SETFCAP",     "SETGID", "SETPCAP",      "SETUID",
        "SYS_CHROOT",
    };

    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (is(cap, allowed[i]))
            return true;
    return false;
}

static bool safe_sysctl(const char *name)
{
    static const char *const safe[] = {
        "kernel.shm_rmid_forced",       "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",    "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",  "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
    };

    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
        if (is(name, safe[i]))
            return true;
    return false;
}

static bool selinux_ok(const struct obj *opts)
{
    const char *type = str(opts, "type");

    return opts == NULL ||
           ((type == NULL || is(type, "") || is(type, "container_t") ||
             is(type, "container_init_t") || is(type, "container_kvm_t") ||
             is(type, "container_engine_t")) &&
            obj_str_or(obj_map_get(opts, "user"), "")[0] == '\0' &&
            obj_str_or(obj_map_get(opts, "role"), "")[0] == '\0');
}

static void baseline_container(const struct obj *c, const char *name,
                               const struct obj *spec, struct findings *f,
                               enum level lv)
{
    const struct obj *sc = obj_map_get(c, "securityContext");
    const struct obj *adds = obj_get_path(sc, "capabilities.add");
    const struct obj *ports = obj_map_get(c, "ports");

    (void)spec;
    (void)lv;
    if (is_true(sc, "privileged"))
        add(f, "privileged (container \"%s\" must not set "
               "securityContext.privileged=true)", name);
    for (size_t i = 0; i < obj_array_len(adds); i++) {
        const char *cap = obj_str_or(obj_array_get(adds, i), "");
        if (!baseline_capability(cap))
            add(f, "non-default capabilities (container \"%s\" must not "
                   "include \"%s\" in securityContext.capabilities.add)",
                name, cap);
    }
    for (size_t i = 0; i < obj_array_len(ports); i++) {
        int64_t hp = obj_int_or(obj_map_get(obj_array_get(ports, i),
                                            "hostPort"), 0);
        if (hp != 0)
            add(f, "hostPort (container \"%s\" uses hostPort %lld)", name,
                (long long)hp);
    }
    if (is(str(sc, "appArmorProfile.type"), "Unconfined"))
        add(f, "forbidden AppArmor profile (container \"%s\" must not set "
               "securityContext.appArmorProfile.type to \"Unconfined\")",
            name);
    if (!selinux_ok(obj_map_get(sc, "seLinuxOptions")))
        add(f, "seLinuxOptions (container \"%s\" set forbidden "
               "securityContext.seLinuxOptions)", name);
    if (str(sc, "procMount") != NULL && !is(str(sc, "procMount"), "Default"))
        add(f, "procMount (container \"%s\" must not set "
               "securityContext.procMount to \"%s\")",
            name, str(sc, "procMount"));
    if (is(str(sc, "seccompProfile.type"), "Unconfined"))
        add(f, "seccompProfile (container \"%s\" must not set "
               "securityContext.seccompProfile.type to \"Unconfined\")",
            name);
    if (is_true(sc, "windowsOptions.hostProcess"))
        add(f, "hostProcess (container \"%s\" must not set "
               "securityContext.windowsOptions.hostProcess=true)", name);
}

static void baseline_pod(const struct obj *spec, struct findings *f)
{
    const struct obj *psc = obj_map_get(spec, "securityContext");
    const struct obj *vols = obj_map_get(spec, "volumes");
    const struct obj *sysctls = obj_map_get(psc, "sysctls");
    char hosts[64] = "";

    if (is_true(spec, "hostNetwork"))
        strcat(hosts, "hostNetwork=true");
    if (is_true(spec, "hostPID"))
        strcat(hosts, hosts[0] ? ", hostPID=true" : "hostPID=true");
    if (is_true(spec, "hostIPC"))
        strcat(hosts, hosts[0] ? ", hostIPC=true" : "hostIPC=true");
    if (hosts[0] != '\0')
        add(f, "host namespaces (%s)", hosts);
    for (size_t i = 0; i < obj_array_len(vols); i++) {
        const struct obj *v = obj_array_get(vols, i);
        if (obj_map_get(v, "hostPath") != NULL)
            add(f, "hostPath volumes (volume \"%s\")",
                obj_str_or(obj_map_get(v, "name"), ""));
    }
    if (is(str(psc, "appArmorProfile.type"), "Unconfined"))
        add(f, "forbidden AppArmor profile (pod must not set "
               "securityContext.appArmorProfile.type to \"Unconfined\")");
    if (!selinux_ok(obj_map_get(psc, "seLinuxOptions")))
        add(f, "seLinuxOptions (pod set forbidden "
               "securityContext.seLinuxOptions)");
    if (is(str(psc, "seccompProfile.type"), "Unconfined"))
        add(f, "seccompProfile (pod must not set "
               "securityContext.seccompProfile.type to \"Unconfined\")");
    for (size_t i = 0; i < obj_array_len(sysctls); i++) {
        const char *n = obj_str_or(obj_map_get(obj_array_get(sysctls, i),
                                               "name"), "");
        if (!safe_sysctl(n))
            add(f, "forbidden sysctls (%s)", n);
    }
    if (is_true(psc, "windowsOptions.hostProcess"))
        add(f, "hostProcess (pod must not set "
               "securityContext.windowsOptions.hostProcess=true)");
}

/* ---- restricted -----------------------------------------------------------*/

static bool restricted_volume(const struct obj *v, const char **type)
{
    static const char *const allowed[] = {
        "configMap", "csi",       "downwardAPI", "emptyDir", "ephemeral",
        "name",      "persistentVolumeClaim",    "projected", "secret",
    };

    for (size_t k = 0; k < obj_map_len(v); k++) {
        size_t klen = 0;
        const char *key = obj_map_key(v, k, &klen);
        bool ok = false;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
            ok |= is(key, allowed[i]);
        if (!ok) {
            *type = key;
            return false;
        }
    }
    return true;
}

static void restricted_container(const struct obj *c, const char *name,
                                 const struct obj *spec, struct findings *f,
                                 enum level lv)
{
    const struct obj *sc = obj_map_get(c, "securityContext");
    const struct obj *psc = obj_map_get(spec, "securityContext");
    const struct obj *drop = obj_get_path(sc, "capabilities.drop");
    const struct obj *adds = obj_get_path(sc, "capabilities.add");
    const char *seccomp = str(sc, "seccompProfile.type");
    const char *pod_seccomp = str(psc, "seccompProfile.type");
    const struct obj *nonroot = obj_map_get(sc, "runAsNonRoot");
    bool drops_all = false;

    (void)lv;
    if (!is_false(sc, "allowPrivilegeEscalation"))
        add(f, "allowPrivilegeEscalation != false (container \"%s\" must "
               "set securityContext.allowPrivilegeEscalation=false)", name);
    for (size_t i = 0; i < obj_array_len(drop); i++)
        drops_all |= is(obj_str_or(obj_array_get(drop, i), ""), "ALL");
    if (!drops_all)
        add(f, "unrestricted capabilities (container \"%s\" must set "
               "securityContext.capabilities.drop=[\"ALL\"])", name);
    for (size_t i = 0; i < obj_array_len(adds); i++) {
        const char *cap = obj_str_or(obj_array_get(adds, i), "");
        if (!is(cap, "NET_BIND_SERVICE"))
            add(f, "unrestricted capabilities (container \"%s\" must not "
                   "include \"%s\" in securityContext.capabilities.add)",
                name, cap);
    }
    if (nonroot != NULL ? !is_true(sc, "runAsNonRoot")
                        : !is_true(psc, "runAsNonRoot"))
        add(f, "runAsNonRoot != true (pod or container \"%s\" must set "
               "securityContext.runAsNonRoot=true)", name);
    if (obj_map_get(sc, "runAsUser") != NULL &&
        obj_int_or(obj_map_get(sc, "runAsUser"), -1) == 0)
        add(f, "runAsUser=0 (container \"%s\" must not set runAsUser=0)",
            name);
    if (seccomp == NULL)
        seccomp = pod_seccomp;
    if (!is(seccomp, "RuntimeDefault") && !is(seccomp, "Localhost") &&
        !is(seccomp, "Unconfined")) /* Unconfined: reported by baseline */
        add(f, "seccompProfile (pod or container \"%s\" must set "
               "securityContext.seccompProfile.type to \"RuntimeDefault\" "
               "or \"Localhost\")", name);
}

static void restricted_pod(const struct obj *spec, struct findings *f)
{
    const struct obj *vols = obj_map_get(spec, "volumes");
    const struct obj *psc = obj_map_get(spec, "securityContext");
    const char *type;

    for (size_t i = 0; i < obj_array_len(vols); i++) {
        const struct obj *v = obj_array_get(vols, i);
        if (!restricted_volume(v, &type))
            add(f, "restricted volume types (volume \"%s\" uses restricted "
                   "volume type \"%s\")",
                obj_str_or(obj_map_get(v, "name"), ""), type);
    }
    if (obj_map_get(psc, "runAsUser") != NULL &&
        obj_int_or(obj_map_get(psc, "runAsUser"), -1) == 0)
        add(f, "runAsUser=0 (pod must not set runAsUser=0)");
    if (is_false(psc, "runAsNonRoot"))
        add(f, "runAsNonRoot != true (pod must not set "
               "securityContext.runAsNonRoot=false)");
}

/* ---- admission --------------------------------------------------------------*/

static const struct obj *pod_spec_at(const struct obj_resource *res,
                                     const struct obj *o, bool *is_pod);

/* The AppArmor annotations older clients (and kubelets) still read. */
static void apparmor_annotations(const struct obj *annotations,
                                 struct findings *f)
{
    static const char prefix[] = "container.apparmor.security.beta."
                                 "kubernetes.io/";

    for (size_t i = 0; i < obj_map_len(annotations); i++) {
        size_t kl = 0;
        const char *k = obj_map_key(annotations, i, &kl);
        const char *v = obj_str_or(obj_map_getn(annotations, k, kl), "");
        if (kl > sizeof prefix - 1 &&
            strncmp(k, prefix, sizeof prefix - 1) == 0 &&
            !is(v, "runtime/default") && strncmp(v, "localhost/", 10) != 0)
            add(f, "forbidden AppArmor profile (annotation \"%.*s\"=\"%s\")",
                (int)kl, k, v);
    }
}

static void check(const struct obj *spec, const struct obj *annotations,
                  enum level lv, struct findings *f)
{
    if (lv >= BASELINE) {
        baseline_pod(spec, f);
        apparmor_annotations(annotations, f);
        each_container(spec, f, lv, baseline_container);
    }
    if (lv >= RESTRICTED) {
        restricted_pod(spec, f);
        each_container(spec, f, lv, restricted_container);
    }
}

static enum level level_of(const struct obj *labels, const char *mode)
{
    char key[64];
    const char *v;

    (void)snprintf(key, sizeof key, LABEL "%s", mode);
    v = obj_str_or(obj_map_get(labels, key), NULL);
    if (v == NULL || is(v, "privileged"))
        return PRIVILEGED;
    if (is(v, "baseline"))
        return BASELINE;
    return RESTRICTED; /* restricted, or anything unknown: fail closed */
}

/* The pod spec @o carries: its own for a Pod, its template's for the
 * workload kinds; NULL for anything else. The annotations beside it into
 * *@annotations. */
static const struct obj *pod_spec_of(const struct obj_resource *res,
                                     const struct obj *o, bool *is_pod,
                                     const struct obj **annotations)
{
    const struct obj *spec = pod_spec_at(res, o, is_pod);
    const struct obj *tmpl = NULL;

    if (spec == NULL)
        return NULL;
    if (*is_pod)
        tmpl = o;
    else if (is(res->resource, "cronjobs"))
        tmpl = obj_get_path(o, "spec.jobTemplate.spec.template");
    else
        tmpl = obj_get_path(o, "spec.template");
    *annotations = obj_get_path(tmpl, "metadata.annotations");
    return spec;
}

static const struct obj *pod_spec_at(const struct obj_resource *res,
                                     const struct obj *o, bool *is_pod)
{
    *is_pod = false;
    if (!is(res->group, "") && !is(res->group, "apps") &&
        !is(res->group, "batch"))
        return NULL;
    if (is(res->resource, "pods")) {
        *is_pod = true;
        return obj_map_get(o, "spec");
    }
    if (is(res->resource, "cronjobs"))
        return obj_get_path(o, "spec.jobTemplate.spec.template.spec");
    if (is(res->resource, "deployments") || is(res->resource, "replicasets") ||
        is(res->resource, "statefulsets") || is(res->resource, "daemonsets") ||
        is(res->resource, "jobs") || is(res->resource, "replicationcontrollers"))
        return obj_get_path(o, "spec.template.spec");
    return NULL;
}

/* The labels of the namespace stored as @ns_kv, or NULL (owned). */
static struct obj *namespace_labels(struct srv_api *api,
                                    const struct store_kv *ns_kv)
{
    const struct obj_resource *res =
        obj_registry_find(api->reg, "", "v1", "namespaces");
    struct obj *o = res != NULL ? srv__obj_load(api, res, ns_kv, ns_kv->mod_rev)
                                : NULL;
    struct obj *labels = obj_ref(obj_get_path(o, "metadata.labels"));

    obj_unref(o);
    return labels;
}

/* Append a Warning header line for @text to c->warnings. */
static int warn(struct srv_call *c, const char *text, size_t len)
{
    struct obj_buf b;
    int rv;

    obj_buf_init(&b);
    rv = c->warnings != NULL
             ? obj_buf_append(&b, c->warnings, strlen(c->warnings))
             : 0;
    if (rv == 0)
        rv = obj_buf_append(&b, "Warning: 299 - ", 15);
    if (rv == 0)
        rv = obj_quote_go(&b, text, len);
    if (rv == 0)
        rv = obj_buf_append(&b, "\r\n", 3); /* with the NUL */
    if (rv == 0) {
        mem_free(c->warnings);
        c->warnings = mem_strdup(b.data);
        rv = c->warnings != NULL ? 0 : -ENOMEM;
    }
    obj_buf_done(&b);
    return rv;
}

/* @verb ("violates", "would violate") PodSecurity "LEVEL:latest": and
 * what @spec violates of @lv, into @line; @line stays empty when it
 * passes. 0 or -ENOMEM. */
static int violations(const struct obj *spec, const struct obj *annotations,
                      enum level lv, const char *verb, struct obj_buf *line)
{
    struct findings f = {.rv = 0};
    char head[128];
    int n, rv;

    obj_buf_init(&f.text);
    check(spec, annotations, lv, &f);
    rv = f.rv;
    if (rv == 0 && f.n > 0) {
        n = snprintf(head, sizeof head, "%s PodSecurity \"%s:latest\": ", verb,
                     level_names[lv]);
        rv = obj_buf_append(line, head, (size_t)n);
        if (rv == 0)
            rv = obj_buf_append(line, f.text.data, f.text.len);
    }
    obj_buf_done(&f.text);
    return rv;
}

int srv__pod_security(struct srv_call *c, const struct obj *o,
                      const struct store_kv *ns_kv)
{
    bool is_pod;
    const struct obj *annotations = NULL;
    const struct obj *spec = pod_spec_of(c->res, o, &is_pod, &annotations);
    struct obj *labels;
    enum level lv[3]; /* enforce, warn, audit */
    struct obj_buf line;
    int rv = 0;

    if (spec == NULL || (labels = namespace_labels(c->api, ns_kv)) == NULL)
        return 0;
    lv[0] = is_pod ? level_of(labels, "enforce") : PRIVILEGED;
    lv[1] = level_of(labels, "warn");
    lv[2] = level_of(labels, "audit");
    obj_unref(labels);
    /* Enforced on every attempt (a retry may see new labels), warned and
     * audited once. */
    for (int m = 0; m < (c->psa_checked ? 1 : 3) && rv == 0; m++) {
        if (lv[m] == PRIVILEGED)
            continue;
        obj_buf_init(&line);
        rv = violations(spec, annotations, lv[m],
                        m == 0 ? "violates" : "would violate", &line);
        if (rv == 0 && line.len > 0) {
            if (m == 0) {
                srv__respond_bad(c->req, 403, "Forbidden",
                                 "pods \"%s\" is forbidden: %s", c->name,
                                 line.data);
                obj_buf_done(&line);
                return -EACCES;
            }
            rv = m == 1 ? warn(c, line.data, line.len)
                        : srv_req_set_note(c->req, line.data);
        }
        obj_buf_done(&line);
    }
    c->psa_checked = true;
    if (rv != 0)
        srv__respond_code(c->req, c->res, c->name, rv);
    return rv;
}
