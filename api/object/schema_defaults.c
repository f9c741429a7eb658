/* Defaults that depend on other fields, one function per struct type,
 * following Kubernetes' SetDefaults_* functions (each API group's
 * defaults.go, v1.33). Each gets the struct's private map after the
 * schema's plain defaults were set. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "api/object/schema.h"

/* Whether @key is set; an empty string counts as unset, as in Go. */
static bool has(const struct obj *m, const char *key)
{
    const struct obj *v = obj_map_get(m, key);
    return v != NULL &&
           (obj_type(v) != OBJ_STRING || obj_str_or(v, "x")[0] != '\0');
}

static const char *str(const struct obj *m, const char *key)
{
    return obj_str_or(obj_map_get(m, key), "");
}

static int set_str(struct obj *m, const char *key, const char *v)
{
    struct obj *s = obj_str_new_c(v);
    int rv = obj_map_set(m, key, s);
    if (rv != 0)
        obj_unref(s);
    return rv;
}

static int set_int(struct obj *m, const char *key, int64_t v)
{
    struct obj *i = obj_int_new(v);
    int rv = obj_map_set(m, key, i);
    if (rv != 0)
        obj_unref(i);
    return rv;
}

static int set_empty(struct obj *m, const char *key)
{
    struct obj *e = obj_map_new();
    int rv = obj_map_set(m, key, e);
    if (rv != 0)
        obj_unref(e);
    return rv;
}

/* A map field made private, created empty when absent; NULL on -ENOMEM
 * or when it holds something else. */
static struct obj *child_map(struct obj *m, const char *key)
{
    if (!has(m, key) && set_empty(m, key) != 0)
        return NULL;
    struct obj *c = obj_map_get_mut(m, key);
    return obj_type(c) == OBJ_MAP ? c : NULL;
}

/* ---- core/v1
 * ----------------------------------------------------------------*/

/* Whether an image reference names the tag "latest", or no tag and no
 * digest ("nginx", "host:5000/nginx"): then kubelet must always pull. */
static bool image_floats(const char *image)
{
    const char *slash = strrchr(image, '/');
    const char *name = slash ? slash + 1 : image;
    const char *colon = strrchr(name, ':');

    if (strchr(image, '@') != NULL)
        return false;
    return colon == NULL || strcmp(colon + 1, "latest") == 0;
}

/* Container, EphemeralContainer: imagePullPolicy from the image's tag. */
static int container(struct obj *m)
{
    if (has(m, "imagePullPolicy") || !has(m, "image"))
        return 0;
    return set_str(m, "imagePullPolicy",
                   image_floats(str(m, "image")) ? "Always" : "IfNotPresent");
}

/* ServicePort: targetPort is the port unless given. */
static int service_port(struct obj *m)
{
    struct obj *port = obj_map_get(m, "port");
    struct obj *target = obj_map_get(m, "targetPort");

    if (obj_type(port) != OBJ_INT ||
        (target != NULL && obj_int_or(target, 1) != 0 &&
         obj_str_or(target, "x")[0] != '\0'))
        return 0;
    return set_int(m, "targetPort", obj_int_or(port, 0));
}

/* ServiceSpec: traffic policies and the IP family by type. */
static int service_spec(struct obj *m)
{
    const char *type = str(m, "type");
    bool external_name = strcmp(type, "ExternalName") == 0;
    int rv = 0;

    if (!external_name && !has(m, "internalTrafficPolicy"))
        rv = set_str(m, "internalTrafficPolicy", "Cluster");
    bool external = strcmp(type, "NodePort") == 0 ||
                    strcmp(type, "LoadBalancer") == 0 ||
                    (strcmp(type, "ClusterIP") == 0 &&
                     obj_array_len(obj_map_get(m, "externalIPs")) > 0);
    if (rv == 0 && str(m, "externalTrafficPolicy")[0] == '\0') {
        (void)obj_map_del(m, "externalTrafficPolicy");
        if (external)
            rv = set_str(m, "externalTrafficPolicy", "Cluster");
    }
    if (rv == 0 && strcmp(type, "LoadBalancer") == 0 &&
        !has(m, "allocateLoadBalancerNodePorts"))
        rv =
            obj_map_set(m, "allocateLoadBalancerNodePorts", obj_bool_new(true));
    if (rv == 0 && !external_name && !has(m, "ipFamilyPolicy"))
        rv = set_str(m, "ipFamilyPolicy", "SingleStack");
    if (rv == 0 && !external_name && !has(m, "ipFamilies")) {
        struct obj *fam = obj_array_new();
        if (fam == NULL || obj_array_append(fam, obj_str_new_c("IPv4")) != 0 ||
            obj_map_set(m, "ipFamilies", fam) != 0) {
            obj_unref(fam);
            return -ENOMEM;
        }
    }
    if (rv == 0 && strcmp(str(m, "sessionAffinity"), "None") == 0)
        (void)obj_map_del(m, "sessionAffinityConfig");
    if (rv == 0 && strcmp(str(m, "sessionAffinity"), "ClientIP") == 0 &&
        !has(m, "sessionAffinityConfig")) {
        struct obj *cfg = obj_map_new(), *cip = obj_map_new();
        if (cfg == NULL || cip == NULL ||
            obj_map_set(cip, "timeoutSeconds", obj_int_new(10800)) != 0 ||
            obj_map_set(cfg, "clientIP", cip) != 0) {
            obj_unref(cip);
            obj_unref(cfg);
            return -ENOMEM;
        }
        if ((rv = obj_map_set(m, "sessionAffinityConfig", cfg)) != 0)
            obj_unref(cfg);
    }
    return rv;
}

/* ImageVolumeSource: pullPolicy from the reference's tag, as for a
 * container's image. */
static int image_volume(struct obj *m)
{
    if (has(m, "pullPolicy") || !has(m, "reference"))
        return 0;
    return set_str(
        m, "pullPolicy",
        image_floats(str(m, "reference")) ? "Always" : "IfNotPresent");
}

/* PodSpec: the deprecated serviceAccount field mirrors serviceAccountName
 * (v1's conversion keeps the two in step; the name wins). */
static int pod_spec(struct obj *m)
{
    if (has(m, "serviceAccountName"))
        return set_str(m, "serviceAccount", str(m, "serviceAccountName"));
    if (has(m, "serviceAccount"))
        return set_str(m, "serviceAccountName", str(m, "serviceAccount"));
    return 0;
}

/* A container of a Pod: requests default to the limits, and with host
 * networking a port's hostPort is its containerPort. */
static int pod_container(struct obj *c, bool host_network)
{
    struct obj *limits = obj_get(c, "resources", "limits", NULL);
    struct obj *res, *req, *ports;

    if (obj_map_len(limits) > 0) {
        if ((res = obj_map_get_mut(c, "resources")) == NULL ||
            (req = child_map(res, "requests")) == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < obj_map_len(limits); i++) {
            const char *k = obj_map_key(limits, i, NULL);
            if (!has(req, k) &&
                obj_map_set(req, k, obj_ref(obj_map_value(limits, i))) != 0)
                return -ENOMEM;
        }
    }
    if (!host_network || obj_array_len(obj_map_get(c, "ports")) == 0)
        return 0;
    if ((ports = obj_map_get_mut(c, "ports")) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < obj_array_len(ports); i++) {
        struct obj *p = obj_array_get_mut(ports, i);
        struct obj *cp = obj_map_get(p, "containerPort");
        if (p == NULL)
            return -ENOMEM;
        if (obj_type(p) == OBJ_MAP && cp != NULL &&
            obj_int_or(obj_map_get(p, "hostPort"), 0) == 0 &&
            set_int(p, "hostPort", obj_int_or(cp, 0)) != 0)
            return -ENOMEM;
    }
    return 0;
}

/* Pod (not a pod template): enableServiceLinks, and the per-container
 * defaults above for containers and init containers. */
static int pod(struct obj *m)
{
    static const char *const lists[] = {"containers", "initContainers"};
    struct obj *spec = child_map(m, "spec");
    bool host_network;

    if (spec == NULL)
        return -ENOMEM;
    if (!has(spec, "enableServiceLinks") &&
        obj_map_set(spec, "enableServiceLinks", obj_bool_new(true)) != 0)
        return -ENOMEM;
    host_network = obj_bool_or(obj_map_get(spec, "hostNetwork"), false);
    for (size_t l = 0; l < 2; l++) {
        struct obj *list;
        if (obj_array_len(obj_map_get(spec, lists[l])) == 0)
            continue;
        if ((list = obj_map_get_mut(spec, lists[l])) == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < obj_array_len(list); i++) {
            struct obj *c = obj_array_get_mut(list, i);
            if (c == NULL)
                return -ENOMEM;
            if (obj_type(c) == OBJ_MAP && pod_container(c, host_network) != 0)
                return -ENOMEM;
        }
    }
    return 0;
}

/* Volume: a volume with no source is an emptyDir. */
static int volume(struct obj *m)
{
    for (size_t i = 0; i < obj_map_len(m); i++)
        if (strcmp(obj_map_key(m, i, NULL), "name") != 0)
            return 0;
    return set_empty(m, "emptyDir");
}

/* ---- apps/v1, batch/v1
 * ------------------------------------------------------*/

/* Deployment, DaemonSet and StatefulSet strategies: a RollingUpdate
 * strategy gets its parameters (their own defaults come from the text). */
static int rolling_strategy(struct obj *m)
{
    if (strcmp(str(m, "type"), "RollingUpdate") != 0 || has(m, "rollingUpdate"))
        return 0;
    return set_empty(m, "rollingUpdate");
}

/* StatefulSetUpdateStrategy: only an absent type brings rollingUpdate
 * (an explicit RollingUpdate without it stays without); a present
 * rollingUpdate gets partition 0. */
static int statefulset_strategy(struct obj *m)
{
    struct obj *ru;
    int rv = 0;

    if (!has(m, "type") && (rv = set_str(m, "type", "RollingUpdate")) == 0 &&
        !has(m, "rollingUpdate"))
        rv = set_empty(m, "rollingUpdate");
    if (rv != 0 || strcmp(str(m, "type"), "RollingUpdate") != 0 ||
        !has(m, "rollingUpdate"))
        return rv;
    if ((ru = obj_map_get_mut(m, "rollingUpdate")) == NULL)
        return -ENOMEM;
    if (obj_type(ru) != OBJ_MAP || has(ru, "partition"))
        return 0;
    return set_int(ru, "partition", 0);
}

/* Job (not the JobSpec of a CronJob's template, which Kubernetes leaves
 * alone): parallelism and completions, backoffLimit, the policies, and
 * the Job's labels from its template. */
static int job_spec(struct obj *spec)
{
    int rv = 0;

    if (!has(spec, "parallelism") && !has(spec, "completions"))
        rv = set_int(spec, "completions", 1);
    if (rv == 0 && !has(spec, "parallelism"))
        rv = set_int(spec, "parallelism", 1);
    if (rv == 0 && !has(spec, "backoffLimit"))
        rv = set_int(spec, "backoffLimit",
                     has(spec, "backoffLimitPerIndex") ? 2147483647 : 6);
    if (rv == 0 && !has(spec, "podReplacementPolicy"))
        rv = set_str(
            spec, "podReplacementPolicy",
            has(spec, "podFailurePolicy") ? "Failed" : "TerminatingOrFailed");
    if (rv == 0 && !has(spec, "completionMode"))
        rv = set_str(spec, "completionMode", "NonIndexed");
    if (rv == 0 && !has(spec, "suspend"))
        rv = obj_map_set(spec, "suspend", obj_bool_new(false));
    if (rv == 0 && !has(spec, "manualSelector"))
        rv = obj_map_set(spec, "manualSelector", obj_bool_new(false));
    return rv;
}

static int job(struct obj *m)
{
    struct obj *spec = child_map(m, "spec"), *meta, *tl;
    int rv;

    if (spec == NULL || (rv = job_spec(spec)) != 0)
        return -ENOMEM;
    tl = obj_get(spec, "template", "metadata", "labels", NULL);
    if (obj_map_len(tl) == 0 ||
        obj_map_len(obj_get(m, "metadata", "labels", NULL)) > 0)
        return 0;
    if ((meta = child_map(m, "metadata")) == NULL)
        return -ENOMEM;
    return obj_map_set(meta, "labels", obj_ref(tl));
}

/* Namespace: the immutable label with its own name. */
static int namespace(struct obj *m)
{
    struct obj *meta, *labels;
    const char *name = obj_str_or(obj_get(m, "metadata", "name", NULL), "");

    if (name[0] == '\0')
        return 0;
    if ((meta = child_map(m, "metadata")) == NULL ||
        (labels = child_map(meta, "labels")) == NULL)
        return -ENOMEM;
    return set_str(labels, "kubernetes.io/metadata.name", name);
}

/* NodeStatus: allocatable is the capacity unless given. */
static int node_status(struct obj *m)
{
    struct obj *cap = obj_map_get(m, "capacity");

    if (has(m, "allocatable") || cap == NULL)
        return 0;
    return obj_map_set(m, "allocatable", obj_ref(cap));
}

/* ---- the table
 * --------------------------------------------------------------*/

static const struct {
    const char *pkg;
    const char *name;
    obj_sdefault_fn fn;
} hooks[] = {
    {"core/v1", "Container", container},
    {"core/v1", "EphemeralContainer", container},
    {"core/v1", "ServicePort", service_port},
    {"core/v1", "ServiceSpec", service_spec},
    {"core/v1", "Volume", volume},
    {"core/v1", "ImageVolumeSource", image_volume},
    {"core/v1", "PodSpec", pod_spec},
    {"core/v1", "Pod", pod},
    {"apps/v1", "DeploymentStrategy", rolling_strategy},
    {"apps/v1", "DaemonSetUpdateStrategy", rolling_strategy},
    {"apps/v1", "StatefulSetUpdateStrategy", statefulset_strategy},
    {"batch/v1", "Job", job},
    {"core/v1", "Namespace", namespace},
    {"core/v1", "NodeStatus", node_status},
};

obj_sdefault_fn obj_schema_default_hook(const char *pkg, const char *name)
{
    for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++)
        if (strcmp(hooks[i].pkg, pkg) == 0 && strcmp(hooks[i].name, name) == 0)
            return hooks[i].fn;
    return NULL;
}

size_t obj_schema_n_hooks(void)
{
    return sizeof hooks / sizeof hooks[0];
}

void obj_schema_hook_at(size_t i, const char **pkg, const char **name)
{
    *pkg = hooks[i].pkg;
    *name = hooks[i].name;
}
