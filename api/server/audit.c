/* Audit log (audit.h). */
#include "api/server/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/object/codec.h"
#include "api/object/obj.h"
#include "api/object/protobuf.h"
#include "api/object/schema.h"
#include "api/server/objects.h"
#include "lib/log.h"
#include "lib/mem.h"

#define POLICY_MAX_BYTES (1024 * 1024)
#define PROTOBUF_TYPE "application/vnd.kubernetes.protobuf"

struct srv_audit {
    int fd;              /* the log, O_APPEND: one write() per event, so
                            members sharing a file never interleave */
    struct obj *rules;   /* the policy's rules, or NULL: all Metadata */
    unsigned long lost;  /* lines that could not be written */
};

/* ---- the policy ------------------------------------------------------------*/

static int level_from(const char *s, enum srv_audit_level *ret)
{
    if (strcmp(s, "None") == 0)
        *ret = SRV_AUDIT_NONE;
    else if (strcmp(s, "Metadata") == 0)
        *ret = SRV_AUDIT_METADATA;
    else if (strcmp(s, "Request") == 0 || strcmp(s, "RequestResponse") == 0)
        *ret = SRV_AUDIT_REQUEST;
    else
        return -EINVAL;
    return 0;
}

/* Absent, null, or a list of strings. */
static bool strings_only(const struct obj *l)
{
    if (l == NULL || obj_type(l) == OBJ_NULL)
        return true;
    if (obj_type(l) != OBJ_ARRAY)
        return false;
    for (size_t i = 0; i < obj_array_len(l); i++)
        if (obj_type(obj_array_get(l, i)) != OBJ_STRING)
            return false;
    return true;
}

/* Every rule has a known level and lists where lists belong. */
static int check_rules(const struct obj *rules, const char *path,
                       struct err *e)
{
    static const char *const lists[] = {"users", "userGroups", "verbs",
                                        "namespaces", "nonResourceURLs",
                                        "resources"};
    enum srv_audit_level lv;

    if (obj_type(rules) != OBJ_ARRAY)
        return err_setf(e, -EINVAL, "--audit-policy-file %s: rules must be "
                                    "a list", path);
    for (size_t i = 0; i < obj_array_len(rules); i++) {
        const struct obj *r = obj_array_get(rules, i);
        const char *level = obj_str_or(obj_map_get(r, "level"), "");
        if (obj_type(r) != OBJ_MAP || level_from(level, &lv) != 0)
            return err_setf(e, -EINVAL, "--audit-policy-file %s: rule %zu: "
                            "level must be None, Metadata, Request or "
                            "RequestResponse", path, i + 1);
        for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
            const struct obj *l = obj_map_get(r, lists[k]);
            if (l != NULL && obj_type(l) != OBJ_ARRAY && obj_type(l) != OBJ_NULL)
                return err_setf(e, -EINVAL, "--audit-policy-file %s: rule "
                                "%zu: %s must be a list", path, i + 1,
                                lists[k]);
            /* Entries are strings (resources: objects of strings): a
             * number would otherwise match as "" (the nameless user). */
            for (size_t j = 0; j < obj_array_len(l); j++) {
                const struct obj *v = obj_array_get(l, j);
                bool ok = k == 5 ? obj_type(v) == OBJ_MAP
                                 : obj_type(v) == OBJ_STRING;
                if (ok && k == 5)
                    ok = strings_only(obj_map_get(v, "resources")) &&
                         strings_only(obj_map_get(v, "resourceNames")) &&
                         (obj_map_get(v, "group") == NULL ||
                          obj_type(obj_map_get(v, "group")) == OBJ_STRING);
                if (!ok)
                    return err_setf(e, -EINVAL, "--audit-policy-file %s: "
                                    "rule %zu: %s: entry %zu is not a %s",
                                    path, i + 1, lists[k], j + 1,
                                    k == 5 ? "group and resources"
                                           : "string");
            }
        }
    }
    return 0;
}

static int read_policy(struct srv_audit *a, const char *path, struct err *e)
{
    char *text = mem_malloc(POLICY_MAX_BYTES + 1);
    FILE *f = fopen(path, "r");
    size_t n = 0;
    struct obj *doc = NULL;
    struct err pe = {0};
    int rv;

    if (text == NULL || f == NULL) {
        rv = f == NULL ? err_setf(e, -errno, "--audit-policy-file %s: %s",
                                  path, strerror(errno))
                       : err_setf(e, -ENOMEM, "out of memory");
        mem_free(text);
        if (f != NULL)
            fclose(f);
        return rv;
    }
    n = fread(text, 1, POLICY_MAX_BYTES + 1, f);
    fclose(f);
    if (n > POLICY_MAX_BYTES) {
        mem_free(text);
        return err_setf(e, -EFBIG, "--audit-policy-file %s: larger than "
                                   "1 MiB", path);
    }
    rv = obj_yaml_decode(text, n, NULL, &doc, &pe);
    mem_free(text);
    if (rv != 0)
        return err_setf(e, -EINVAL, "--audit-policy-file %s: %s", path,
                        pe.msg);
    if (obj_type(doc) != OBJ_MAP ||
        strcmp(obj_str_or(obj_map_get(doc, "kind"), ""), "Policy") != 0) {
        obj_unref(doc);
        return err_setf(e, -EINVAL, "--audit-policy-file %s: not an audit "
                                    "Policy (kind: Policy)", path);
    }
    a->rules = obj_ref(obj_map_get(doc, "rules"));
    obj_unref(doc);
    if (a->rules == NULL)
        a->rules = obj_array_new();
    return a->rules == NULL ? -ENOMEM : check_rules(a->rules, path, e);
}

int srv_audit_open(const char *path, const char *policy_file,
                   struct srv_audit **ret, struct err *e)
{
    struct srv_audit *a = mem_calloc(1, sizeof *a);
    int rv = 0;

    if (a == NULL)
        return err_setf(e, -ENOMEM, "out of memory");
    a->fd = -1;
    if (policy_file != NULL)
        rv = read_policy(a, policy_file, e);
    if (rv == 0 &&
        (a->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                      0600)) < 0)
        rv = err_setf(e, -errno, "--audit-log-path %s: %s", path,
                      strerror(errno));
    if (rv != 0) {
        srv_audit_close(a);
        return rv;
    }
    *ret = a;
    return 0;
}

void srv_audit_close(struct srv_audit *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0)
        close(a->fd);
    obj_unref(a->rules);
    mem_free(a);
}

/* ---- matching ---------------------------------------------------------------*/

/* An absent or empty list matches anything; else one entry must be @s
 * (or "*"). */
static bool list_any(const struct obj *l, const char *s)
{
    if (obj_array_len(l) == 0)
        return true;
    for (size_t i = 0; i < obj_array_len(l); i++) {
        const char *e = obj_str_or(obj_array_get(l, i), "");
        if (strcmp(e, "*") == 0 || strcmp(e, s) == 0)
            return true;
    }
    return false;
}

static bool groups_match(const struct obj *l, const struct srv_user *u)
{
    if (obj_array_len(l) == 0)
        return true;
    for (size_t g = 0; g < u->n_groups; g++)
        if (list_any(l, u->groups[g]))
            return true;
    return false;
}

/* One entry of a rule's resources list against the request: a resource
 * ("pods"), a subresource ("pods/log"), every resource ("*"), every
 * subresource of one (pods, slash, star) and one subresource of every
 * resource (star, slash, scale), as kube-apiserver reads them. */
static bool resource_name_matches(const char *e,
                                  const struct srv_audit_event *ev)
{
    const char *slash = strchr(e, '/');
    size_t n = slash != NULL ? (size_t)(slash - e) : strlen(e);

    if (strcmp(e, "*") == 0)
        return true;
    if (slash == NULL)
        return ev->subresource[0] == '\0' && strcmp(e, ev->resource) == 0;
    if (ev->subresource[0] == '\0')
        return false;
    return ((n == 1 && e[0] == '*') ||
            (strlen(ev->resource) == n && strncmp(e, ev->resource, n) == 0)) &&
           (strcmp(slash + 1, "*") == 0 ||
            strcmp(slash + 1, ev->subresource) == 0);
}

/* resources: [{group, resources: [...], resourceNames: [...]}]; empty
 * lists match anything. */
static bool resources_match(const struct obj *l,
                            const struct srv_audit_event *ev)
{
    if (obj_array_len(l) == 0)
        return true;
    for (size_t i = 0; i < obj_array_len(l); i++) {
        const struct obj *gr = obj_array_get(l, i);
        const struct obj *names = obj_map_get(gr, "resources");
        const struct obj *objs = obj_map_get(gr, "resourceNames");
        bool any = obj_array_len(names) == 0;
        if (strcmp(obj_str_or(obj_map_get(gr, "group"), ""), ev->api_group) !=
            0)
            continue;
        for (size_t k = 0; k < obj_array_len(names) && !any; k++)
            any = resource_name_matches(obj_str_or(obj_array_get(names, k), ""),
                                        ev);
        if (any && (obj_array_len(objs) == 0 || list_any(objs, ev->name)))
            return true;
    }
    return false;
}

static bool urls_match(const struct obj *l, const char *path)
{
    if (obj_array_len(l) == 0)
        return true;
    for (size_t i = 0; i < obj_array_len(l); i++) {
        const char *u = obj_str_or(obj_array_get(l, i), "");
        size_t n = strlen(u);
        if (strcmp(u, path) == 0 ||
            (n > 0 && u[n - 1] == '*' && strncmp(u, path, n - 1) == 0))
            return true;
    }
    return false;
}

static bool rule_matches(const struct obj *r, const struct srv_audit_event *ev)
{
    bool resource = ev->resource != NULL;

    if (!list_any(obj_map_get(r, "users"), ev->user->name) ||
        !groups_match(obj_map_get(r, "userGroups"), ev->user) ||
        !list_any(obj_map_get(r, "verbs"), ev->verb))
        return false;
    if (resource)
        /* A rule for paths that are no resource does not match one. */
        return obj_array_len(obj_map_get(r, "nonResourceURLs")) == 0 &&
               resources_match(obj_map_get(r, "resources"), ev) &&
               list_any(obj_map_get(r, "namespaces"), ev->ns);
    return obj_array_len(obj_map_get(r, "resources")) == 0 &&
           obj_array_len(obj_map_get(r, "namespaces")) == 0 &&
           urls_match(obj_map_get(r, "nonResourceURLs"), ev->path);
}

enum srv_audit_level srv_audit_level(const struct srv_audit *a,
                                     const struct srv_audit_event *ev)
{
    enum srv_audit_level lv = SRV_AUDIT_NONE;

    if (a->rules == NULL)
        return SRV_AUDIT_METADATA;
    for (size_t i = 0; i < obj_array_len(a->rules); i++) {
        const struct obj *r = obj_array_get(a->rules, i);
        if (rule_matches(r, ev)) {
            (void)level_from(obj_str_or(obj_map_get(r, "level"), ""), &lv);
            return lv;
        }
    }
    return SRV_AUDIT_NONE;
}

/* ---- the event ------------------------------------------------------------*/

static void stamp(double t, char out[40])
{
    time_t s = (time_t)t;
    struct tm tm;
    long us = (long)((t - (double)s) * 1e6);

    (void)gmtime_r(&s, &tm);
    (void)strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(out + strlen(out), 16, ".%06ldZ", us < 0 ? 0 : us % 1000000);
}

static int put(struct obj *m, const char *k, struct obj *v)
{
    if (v == NULL || obj_map_set(m, k, v) != 0) {
        obj_unref(v);
        return -ENOMEM;
    }
    return 0;
}

static int put_s(struct obj *m, const char *k, const char *v)
{
    return put(m, k, obj_str_new_c(v != NULL ? v : ""));
}

static struct obj *user_obj(const struct srv_user *u)
{
    struct obj *m = obj_map_new(), *g = obj_array_new();
    int rv = m && g ? put_s(m, "username", u->name) : -ENOMEM;

    if (rv == 0 && u->uid[0] != '\0')
        rv = put_s(m, "uid", u->uid);
    for (size_t i = 0; rv == 0 && i < u->n_groups; i++) {
        struct obj *s = obj_str_new_c(u->groups[i]);
        if (s == NULL || obj_array_append(g, s) != 0) {
            obj_unref(s);
            rv = -ENOMEM;
        }
    }
    if (rv == 0 && (rv = put(m, "groups", g)) == 0)
        g = NULL;
    obj_unref(g);
    return rv == 0 ? m : obj_unref(m);
}

static struct obj *object_ref(const struct srv_audit_event *ev)
{
    struct obj *m = obj_map_new();
    int rv = m != NULL ? put_s(m, "resource", ev->resource) : -ENOMEM;

    if (rv == 0 && ev->ns[0] != '\0')
        rv = put_s(m, "namespace", ev->ns);
    if (rv == 0 && ev->name[0] != '\0')
        rv = put_s(m, "name", ev->name);
    if (rv == 0)
        rv = put_s(m, "apiGroup", ev->api_group);
    if (rv == 0)
        rv = put_s(m, "apiVersion", ev->api_version);
    if (rv == 0 && ev->subresource[0] != '\0')
        rv = put_s(m, "subresource", ev->subresource);
    return rv == 0 ? m : obj_unref(m);
}

/* The request's body as an object: JSON (patches included) or
 * Kubernetes protobuf, which kubectl 1.32+ sends for built-in kinds;
 * anything else (YAML) is left out. */
static struct obj *request_object(const struct srv_audit_event *ev)
{
    const char *ct = ev->content_type != NULL ? ev->content_type : "";
    struct obj *o = NULL;
    int rv = -EINVAL;

    if (ev->body_len == 0)
        return NULL;
    if (strncmp(ct, PROTOBUF_TYPE, strlen(PROTOBUF_TYPE)) == 0) {
        if (obj_schemas_builtin(NULL) != NULL)
            rv = obj_protobuf_decode(obj_schemas_builtin(NULL), ev->body,
                                     ev->body_len, &o, NULL);
    } else if (ct[0] == '\0' || strstr(ct, "json") != NULL) {
        rv = obj_json_decode(ev->body, ev->body_len, NULL, &o, NULL);
    }
    return rv == 0 ? o : NULL;
}

static struct obj *event_obj(const struct srv_audit_event *ev,
                             enum srv_audit_level lv)
{
    struct obj *m = obj_map_new(), *st = obj_map_new(), *ips = obj_array_new();
    char id[37], t0[40], t1[40];
    int rv = m && st && ips ? 0 : -ENOMEM;

    srv__uuid(id);
    stamp(ev->received, t0);
    stamp(ev->completed, t1);
    if (rv == 0)
        rv = put_s(m, "kind", "Event");
    if (rv == 0)
        rv = put_s(m, "apiVersion", "audit.k8s.io/v1");
    if (rv == 0)
        rv = put_s(m, "level", lv == SRV_AUDIT_REQUEST ? "Request" : "Metadata");
    if (rv == 0)
        rv = put_s(m, "auditID", id);
    if (rv == 0)
        rv = put_s(m, "stage", "ResponseComplete");
    if (rv == 0)
        rv = put_s(m, "requestURI", ev->uri);
    if (rv == 0)
        rv = put_s(m, "verb", ev->verb);
    if (rv == 0)
        rv = put(m, "user", user_obj(ev->user));
    if (rv == 0 && ev->impersonated != NULL) {
        struct obj *imp = obj_map_new();
        rv = imp != NULL ? put_s(imp, "username", ev->impersonated) : -ENOMEM;
        rv = rv == 0 ? put(m, "impersonatedUser", imp) : (obj_unref(imp), rv);
    }
    if (rv == 0 && ev->source_ip[0] != '\0') {
        struct obj *ip = obj_str_new_c(ev->source_ip);
        rv = ip != NULL && obj_array_append(ips, ip) == 0 ? 0 : -ENOMEM;
        if (rv != 0)
            obj_unref(ip);
    }
    if (rv == 0 && (rv = put(m, "sourceIPs", ips)) == 0)
        ips = NULL;
    if (rv == 0 && ev->user_agent != NULL)
        rv = put_s(m, "userAgent", ev->user_agent);
    if (rv == 0 && ev->resource != NULL)
        rv = put(m, "objectRef", object_ref(ev));
    if (rv == 0 && (rv = put(st, "code", obj_int_new(ev->code))) == 0 &&
        (rv = put(m, "responseStatus", st)) == 0)
        st = NULL;
    if (rv == 0 && lv >= SRV_AUDIT_REQUEST) {
        struct obj *body = request_object(ev);
        if (body != NULL)
            rv = put(m, "requestObject", body);
    }
    if (rv == 0)
        rv = put_s(m, "requestReceivedTimestamp", t0);
    if (rv == 0)
        rv = put_s(m, "stageTimestamp", t1);
    if (rv == 0 && ev->psa_violations != NULL) {
        struct obj *ann = obj_map_new();
        rv = ann != NULL ? put_s(ann, "pod-security.kubernetes.io/"
                                      "audit-violations",
                                 ev->psa_violations)
                         : -ENOMEM;
        rv = rv == 0 ? put(m, "annotations", ann) : (obj_unref(ann), rv);
    }
    obj_unref(st);
    obj_unref(ips);
    return rv == 0 ? m : obj_unref(m);
}

void srv_audit_log(struct srv_audit *a, const struct srv_audit_event *ev)
{
    enum srv_audit_level lv = srv_audit_level(a, ev);
    struct obj *o;
    struct obj_buf b;
    bool ok;

    if (lv == SRV_AUDIT_NONE)
        return;
    o = event_obj(ev, lv);
    obj_buf_init(&b);
    ok = o != NULL && obj_json_encode(o, 0, &b, NULL) == 0 &&
         obj_buf_append(&b, "\n", 1) == 0 &&
         write(a->fd, b.data, b.len) == (ssize_t)b.len;
    if (!ok && a->lost++ == 0)
        log_error("api", "audit log: cannot write an event (%s); later "
                         "failures are not logged",
                  strerror(errno));
    obj_buf_done(&b);
    obj_unref(o);
}
