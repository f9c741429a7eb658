/* What some kinds need beyond their schema, as kube-apiserver's
 * strategies do it (k8s pkg/apis/apps/validation, pkg/registry/batch/job,
 * pkg/registry/core/secret): a controller's selector must select its own
 * pod template and, in apps/v1, never changes; a Job gets its selector and
 * labels from its uid unless it asks for manualSelector; a Secret's
 * stringData is folded into data. */
#include <string.h>

#include <openssl/evp.h>

#include "api/object/selector.h"
#include "api/object/validate.h"
#include "api/server/objects.h"
#include "lib/mem.h"

/* Whether @res is one of the apps/v1 controllers of pods. */
static bool apps_controller(const struct obj_resource *res)
{
    static const char *const kinds[] = {"deployments", "replicasets",
                                        "daemonsets", "statefulsets", NULL};

    if (strcmp(res->group, "apps") != 0)
        return false;
    for (size_t i = 0; kinds[i] != NULL; i++)
        if (strcmp(res->resource, kinds[i]) == 0)
            return true;
    return false;
}

static bool is_job(const struct obj_resource *res)
{
    return strcmp(res->group, "batch") == 0 &&
           strcmp(res->resource, "jobs") == 0;
}

/* spec.selector against spec.template.metadata.labels. */
static int check_selector(const struct srv_call *c,
                          const struct obj *o,
                          struct obj_ferrs *l)
{
    const struct obj *sel = obj_get_path(o, "spec.selector");
    const struct obj *labels = obj_get_path(o, "spec.template.metadata.labels");
    struct obj_fpath spec = obj_fpath_child(NULL, "spec");
    struct obj_fpath at_sel = obj_fpath_child(&spec, "selector");
    struct obj_fpath tmpl = obj_fpath_child(&spec, "template");
    struct obj_fpath meta = obj_fpath_child(&tmpl, "metadata");
    struct obj_fpath at_labels = obj_fpath_child(&meta, "labels");
    struct obj_lsel *s = NULL;
    struct err e = {0};
    int rv;

    if (sel == NULL || obj_type(sel) != OBJ_MAP)
        return 0; /* the schema says Required */
    if (obj_map_len(obj_map_get(sel, "matchLabels")) == 0 &&
        obj_array_len(obj_map_get(sel, "matchExpressions")) == 0)
        return obj_ferrs_addf(l, OBJ_FERR_INVALID, &at_sel, sel,
                              "empty selector is invalid for %s",
                              c->res->singular);
    if ((rv = obj_lsel_from_obj(sel, &s, &e)) != 0)
        return rv == -ENOMEM ? rv : obj_ferrs_invalid(l, &at_sel, sel, e.msg);
    if (!obj_lsel_match(s, labels))
        rv = obj_ferrs_invalid(l, &at_labels, labels,
                               "`selector` does not match template `labels`");
    obj_lsel_free(s);
    return rv;
}

/* @spec without what a pod update may change: container images,
 * activeDeadlineSeconds and tolerations (only added to, checked apart).
 * NULL when out of memory. */
static struct obj *pod_spec_fixed_part(const struct obj *spec)
{
    static const char *const lists[] = {"containers", "initContainers"};
    struct obj *s = obj_copy(spec);

    if (s == NULL || obj_type(s) != OBJ_MAP)
        return s;
    (void)obj_map_del(s, "activeDeadlineSeconds");
    (void)obj_map_del(s, "tolerations");
    for (size_t k = 0; k < 2; k++) {
        struct obj *cs = obj_map_get_mut(s, lists[k]);
        for (size_t i = 0; i < obj_array_len(cs); i++) {
            struct obj *c = obj_array_get_mut(cs, i);
            if (c != NULL && obj_type(c) == OBJ_MAP)
                (void)obj_map_del(c, "image");
        }
    }
    return s;
}

/* Every toleration of @old is still in @new. */
static bool tolerations_kept(const struct obj *new, const struct obj *old)
{
    for (size_t i = 0; i < obj_array_len(old); i++) {
        bool found = false;
        for (size_t k = 0; k < obj_array_len(new) && !found; k++)
            found = obj_equal(obj_array_get(old, i), obj_array_get(new, k));
        if (!found)
            return false;
    }
    return true;
}

/* A pod's spec is fixed once created, but for what kube-apiserver lets an
 * update change (its words). Pod Security and the other admission checks
 * run on creates: this is what keeps them true. */
static int pod_update_check(const struct obj *o, const struct obj *old,
                            struct obj_ferrs *l)
{
    const struct obj *spec = obj_map_get(o, "spec");
    const struct obj *old_spec = obj_map_get(old, "spec");
    struct obj *a = pod_spec_fixed_part(spec);
    struct obj *b = pod_spec_fixed_part(old_spec);
    int rv = 0;

    if ((spec != NULL && a == NULL) || (old_spec != NULL && b == NULL))
        rv = -ENOMEM;
    else if (!obj_equal(a, b) ||
             !tolerations_kept(obj_map_get(spec, "tolerations"),
                               obj_map_get(old_spec, "tolerations"))) {
        struct obj_fpath at = obj_fpath_child(NULL, "spec");
        rv = obj_ferrs_forbidden(
            l, &at,
            "pod updates may not change fields other than "
            "`spec.containers[*].image`,`spec.initContainers[*].image`,"
            "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
            "to existing tolerations)");
    }
    obj_unref(a);
    obj_unref(b);
    return rv;
}

int srv__workload_check(const struct srv_call *c,
                        const struct obj *o,
                        const struct obj *old,
                        struct obj_ferrs *l)
{
    int rv;

    if (old != NULL && c->res->group[0] == '\0' &&
        strcmp(c->res->resource, "pods") == 0 && c->route.sub[0] == '\0')
        return pod_update_check(o, old, l);
    if (!apps_controller(c->res) && !is_job(c->res))
        return 0;
    if ((rv = check_selector(c, o, l)) != 0)
        return rv;
    if (old != NULL && apps_controller(c->res) &&
        !obj_equal(obj_get_path(o, "spec.selector"),
                   obj_get_path(old, "spec.selector"))) {
        struct obj_fpath spec = obj_fpath_child(NULL, "spec");
        struct obj_fpath at = obj_fpath_child(&spec, "selector");
        return obj_ferrs_invalid(l, &at, obj_get_path(o, "spec.selector"),
                                 "field is immutable");
    }
    return 0;
}

struct obj *srv__map_at(struct obj *m, const char *key)
{
    struct obj *v = obj_map_get_mut(m, key);

    if (v == NULL) {
        if ((v = obj_map_new()) == NULL || obj_map_set(m, key, v) != 0) {
            obj_unref(v);
            return NULL;
        }
        v = obj_map_get_mut(m, key);
    }
    return v != NULL && obj_type(v) == OBJ_MAP ? v : NULL;
}

/* A new Job without manualSelector: its pods carry its uid and name, and
 * its selector is the uid (what the Job controller and `kubectl logs
 * job/x` rely on). A selector given without manualSelector is refused. */
int srv__job_create(struct srv_call *c)
{
    static const char *const uid_keys[] = {"batch.kubernetes.io/controller-uid",
                                           "controller-uid"};
    static const char *const name_keys[] = {"batch.kubernetes.io/job-name",
                                            "job-name"};
    struct obj *spec, *tmpl, *meta, *labels, *sel, *ml;
    const char *uid = srv__str(c->obj, "metadata.uid");
    const char *name = srv__str(c->obj, "metadata.name");

    if (!is_job(c->res) || (spec = srv__map_at(c->obj, "spec")) == NULL ||
        obj_bool_or(obj_map_get(spec, "manualSelector"), false))
        return spec == NULL && is_job(c->res) ? -ENOMEM : 0;
    if (obj_map_get(spec, "selector") != NULL) {
        srv__respond_bad(c->req, 422, "Invalid",
                         "Job.batch \"%s\" is invalid: spec.selector: "
                         "Invalid value: `selector` not auto-generated "
                         "(set manualSelector to give one)",
                         c->name);
        return -EINVAL;
    }
    if ((tmpl = srv__map_at(spec, "template")) == NULL ||
        (meta = srv__map_at(tmpl, "metadata")) == NULL ||
        (labels = srv__map_at(meta, "labels")) == NULL ||
        (sel = srv__map_at(spec, "selector")) == NULL ||
        (ml = srv__map_at(sel, "matchLabels")) == NULL)
        return -ENOMEM;
    for (int i = 0; i < 2; i++)
        if (srv__set_str(labels, uid_keys[i], uid) != 0 ||
            srv__set_str(labels, name_keys[i], name) != 0)
            return -ENOMEM;
    return srv__set_str(ml, uid_keys[0], uid);
}

/* ---- Secrets ------------------------------------------------------------*/

/* A Secret's stringData is a write-only convenience: its entries go into
 * data, base64-encoded, winning over data's (Kubernetes' Secret strategy),
 * and it is never stored or returned. */
int srv__secret_prepare(const struct srv_call *c, struct obj *o)
{
    const struct obj *sd = obj_map_get(o, "stringData");
    struct obj *data = NULL;

    if (strcmp(c->res->group, "") != 0 ||
        strcmp(c->res->resource, "secrets") != 0 || sd == NULL)
        return 0;
    if (obj_map_len(sd) > 0 && (data = srv__map_at(o, "data")) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < obj_map_len(sd); i++) {
        size_t len = 0;
        const char *v = obj_str(obj_map_value(sd, i), &len);
        char *b64 = mem_malloc(4 * ((len + 2) / 3) + 1);
        int rv;
        if (b64 == NULL)
            return -ENOMEM;
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)v,
                        (int)len);
        rv = srv__set_str(data, obj_map_key(sd, i, NULL), b64);
        mem_free(b64);
        if (rv != 0)
            return rv;
    }
    return obj_map_del(o, "stringData");
}

/* ---- status on create -----------------------------------------------------*/

/* A Pod's quality-of-service class from its containers' resources:
 * BestEffort without any request or limit, Guaranteed when every
 * container limits cpu and memory and requests exactly that (requests
 * default to limits), Burstable otherwise. */
static const char *pod_qos(const struct obj *pod)
{
    static const char *const lists[] = {"spec.containers",
                                        "spec.initContainers"};
    bool any = false, guaranteed = true;

    for (size_t l = 0; l < 2; l++) {
        const struct obj *cs = obj_get_path(pod, lists[l]);
        for (size_t i = 0; i < obj_array_len(cs); i++) {
            const struct obj *r =
                obj_map_get(obj_array_get(cs, i), "resources");
            const struct obj *req = obj_map_get(r, "requests");
            const struct obj *lim = obj_map_get(r, "limits");
            any |= obj_map_len(req) > 0 || obj_map_len(lim) > 0;
            for (int k = 0; k < 2; k++) {
                const char *res = k ? "memory" : "cpu";
                const struct obj *lv = obj_map_get(lim, res);
                const struct obj *rq = obj_map_get(req, res);
                if (lv == NULL || (rq != NULL && !obj_equal(rq, lv)))
                    guaranteed = false;
            }
        }
    }
    return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

/* What a client may not set when it creates an object: the status of the
 * kinds whose status a controller or kubelet owns (those with a status
 * subresource, but Namespaces and Nodes) starts empty (a Pod Pending, with
 * its QoS class), as kube-apiserver's strategies do. */
int srv__status_on_create(const struct srv_call *c, struct obj *o)
{
    const char *r = c->res->resource;
    struct obj *st;

    if (obj_resource_subresource(c->res, "status") == NULL ||
        strcmp(r, "namespaces") == 0 || strcmp(r, "nodes") == 0 ||
        obj_type(o) != OBJ_MAP)
        return 0;
    if (c->res->schema != NULL) {
        /* A custom resource's status is written through /status only. */
        (void)obj_map_del(o, "status");
        return 0;
    }
    if ((st = obj_map_new()) == NULL)
        return -ENOMEM;
    if (strcmp(r, "pods") == 0 &&
        (srv__set_str(st, "phase", "Pending") != 0 ||
         srv__set_str(st, "qosClass", pod_qos(o)) != 0)) {
        obj_unref(st);
        return -ENOMEM;
    }
    if (strcmp(r, "persistentvolumes") == 0 ||
        strcmp(r, "persistentvolumeclaims") == 0) {
        if (srv__set_str(st, "phase", "Pending") != 0) {
            obj_unref(st);
            return -ENOMEM;
        }
    }
    if (obj_map_set(o, "status", st) != 0) {
        obj_unref(st);
        return -ENOMEM;
    }
    return 0;
}

/* ServiceAccount admission, its defaulting half: a Pod runs as
 * spec.serviceAccountName, "default" when it names none (the deprecated
 * spec.serviceAccount is read when only it is set, and kept equal). */
int srv__pod_service_account(const struct srv_call *c, struct obj *o)
{
    struct obj *spec;
    const char *name;

    if (strcmp(c->res->resource, "pods") != 0 || c->res->group[0] != '\0' ||
        (spec = obj_map_get_mut(o, "spec")) == NULL ||
        obj_type(spec) != OBJ_MAP)
        return 0;
    name = obj_str_or(obj_map_get(spec, "serviceAccountName"), "");
    if (name[0] == '\0')
        name = obj_str_or(obj_map_get(spec, "serviceAccount"), "");
    if (name[0] == '\0')
        name = "default";
    /* @name may point into @spec: copy it before the sets replace it. */
    char copy[256];
    (void)snprintf(copy, sizeof copy, "%s", name);
    if (srv__set_str(spec, "serviceAccountName", copy) != 0 ||
        srv__set_str(spec, "serviceAccount", copy) != 0)
        return -ENOMEM;
    return 0;
}

int srv__pod_qos_update(struct obj *pod)
{
    struct obj *st = obj_map_get_mut(pod, "status");

    if (st == NULL || obj_type(st) != OBJ_MAP)
        return 0;
    return srv__set_str(st, "qosClass", pod_qos(pod)) != 0 ? -ENOMEM : 0;
}
