/* Server-side tables (table.h): column definitions per kind and the cells
 * of each row, worked out as kube-apiserver's printers work them out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/object/codec.h"
#include "api/object/table.h"
#include "lib/mem.h"

#define NONE "<none>"

/* A cell's value: a string or an integer. */
struct cell {
    char s[512];
    int64_t i;
    bool is_int;
};

typedef void (*cell_fn)(const struct obj *o, int64_t now, struct cell *c);

struct column {
    const char *name;        /* header, kubectl upper-cases it */
    const char *type;        /* "string" or "integer" */
    bool is_name;            /* format "name": kind/ prefix when mixed */
    int priority;            /* 0 always, 1 with -o wide */
    const char *description; /* in our own words */
    cell_fn cell;            /* NULL: the value at path (custom columns) */
    const char *path;        /* a custom column's JSONPath */
    const char *format;      /* a custom column's format, or NULL */
};

struct obj_table {
    const char *group, *kind;
    const struct column *cols;
    size_t n;
    struct column *owned; /* custom tables: cols, freed with the table */
};

/* ---- small readers ---------------------------------------------------*/

static const char *str_at(const struct obj *o, const char *path)
{
    return obj_str_or(obj_get_path(o, path), NULL);
}

static int64_t int_at(const struct obj *o, const char *path)
{
    return obj_int_or(obj_get_path(o, path), 0);
}

static size_t len_at(const struct obj *o, const char *path)
{
    const struct obj *v = *path != '\0' ? obj_get_path(o, path) : NULL;

    /* Both are 0 for anything else (and for NULL). */
    return obj_array_len(v) + obj_map_len(v);
}

static void set_str(struct cell *c, const char *s)
{
    (void)snprintf(c->s, sizeof c->s, "%s", s != NULL && *s ? s : NONE);
}

static void set_int(struct cell *c, int64_t v)
{
    c->i = v;
    c->is_int = true;
}

/* Append @s to @c's string, comma-separated; "..." once it is full. */
static void add_item(struct cell *c, const char *s)
{
    size_t l = strlen(c->s);

    if (l + strlen(s) + 5 >= sizeof c->s) {
        if (l + 4 < sizeof c->s && (l < 3 || strcmp(c->s + l - 3, "...") != 0))
            strcat(c->s, "...");
        return;
    }
    if (l > 0)
        strcat(c->s, ",");
    strcat(c->s, s);
}

/* ---- time ------------------------------------------------------------*/

int64_t obj_table_parse_time(const char *s)
{
    struct tm tm = {0};
    int n = 0, off_h = 0, off_m = 0;
    const char *p;
    int64_t t;

    if (s == NULL ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
        n != 19)
        return -1;
    p = s + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    t = (int64_t)timegm(&tm);
    if (*p == 'Z' || *p == 'z')
        return p[1] == '\0' ? t : -1;
    if ((*p == '+' || *p == '-') &&
        sscanf(p + 1, "%2d:%2d", &off_h, &off_m) == 2 && strlen(p) == 6)
        return t - (*p == '+' ? 1 : -1) * (off_h * 3600 + off_m * 60);
    return -1;
}

void obj_table_age(int64_t d, char *buf, size_t size)
{
    int64_t m = d / 60, h = d / 3600, days = d / 86400;

    if (d < -1)
        (void)snprintf(buf, size, "<invalid>");
    else if (d < 0)
        (void)snprintf(buf, size, "0s");
    else if (d < 120)
        (void)snprintf(buf, size, "%llds", (long long)d);
    else if (m < 10 && d % 60 != 0)
        (void)snprintf(buf, size, "%lldm%llds", (long long)m,
                       (long long)(d % 60));
    else if (m < 180)
        (void)snprintf(buf, size, "%lldm", (long long)m);
    else if (h < 8 && m % 60 != 0)
        (void)snprintf(buf, size, "%lldh%lldm", (long long)h,
                       (long long)(m % 60));
    else if (h < 48)
        (void)snprintf(buf, size, "%lldh", (long long)h);
    else if (h < 24 * 8 && h % 24 != 0)
        (void)snprintf(buf, size, "%lldd%lldh", (long long)days,
                       (long long)(h % 24));
    else if (h < 24 * 365 * 2)
        (void)snprintf(buf, size, "%lldd", (long long)days);
    else if (h < 24 * 365 * 8 && days % 365 != 0)
        (void)snprintf(buf, size, "%lldy%lldd", (long long)(days / 365),
                       (long long)(days % 365));
    else
        (void)snprintf(buf, size, "%lldy", (long long)(days / 365));
}

/* The age of the time at @path, or "<unknown>" when there is none. */
static void age_at(const struct obj *o, const char *path, int64_t now,
                   struct cell *c)
{
    int64_t t = obj_table_parse_time(str_at(o, path));

    if (t < 0)
        set_str(c, "<unknown>");
    else
        obj_table_age(now - t, c->s, sizeof c->s);
}

/* Cells that are one field. */
#define INT_CELL(fn, path)                                                   \
    static void fn(const struct obj *o, int64_t now, struct cell *c)        \
    {                                                                        \
        (void)now;                                                           \
        set_int(c, int_at(o, path));                                         \
    }
#define STR_CELL(fn, path)                                                   \
    static void fn(const struct obj *o, int64_t now, struct cell *c)        \
    {                                                                        \
        (void)now;                                                           \
        set_str(c, str_at(o, path));                                         \
    }
#define LEN_CELL(fn, path1, path2)                                           \
    static void fn(const struct obj *o, int64_t now, struct cell *c)        \
    {                                                                        \
        (void)now;                                                           \
        set_int(c, (int64_t)(len_at(o, path1) + len_at(o, path2)));         \
    }

/* ---- cells shared by kinds -------------------------------------------*/

static void c_name(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    set_str(c, str_at(o, "metadata.name"));
}

static void c_age(const struct obj *o, int64_t now, struct cell *c)
{
    age_at(o, "metadata.creationTimestamp", now, c);
}

/* Containers and images of the pod template at @tmpl. */
static void containers_of(const struct obj *o, const char *tmpl,
                          const char *field, struct cell *c)
{
    char path[128];
    const struct obj *cs;

    (void)snprintf(path, sizeof path, "%s.containers", tmpl);
    cs = obj_get_path(o, path);
    c->s[0] = '\0';
    for (size_t i = 0; i < obj_array_len(cs); i++)
        add_item(c, obj_str_or(obj_map_get(obj_array_get(cs, i), field), ""));
    if (c->s[0] == '\0')
        set_str(c, NULL);
}

/* A label selector as kubectl prints it: "a=b,c in (d,e)". */
static void selector_of(const struct obj *sel, struct cell *c)
{
    const struct obj *ml = obj_map_get(sel, "matchLabels");
    const struct obj *me = obj_map_get(sel, "matchExpressions");

    c->s[0] = '\0';
    for (size_t i = 0; i < obj_map_len(ml); i++) {
        char kv[300];

        (void)snprintf(kv, sizeof kv, "%s=%s", obj_map_key(ml, i, NULL),
                       obj_str_or(obj_map_value(ml, i), ""));
        add_item(c, kv);
    }
    for (size_t i = 0; i < obj_array_len(me); i++) {
        const struct obj *e = obj_array_get(me, i);
        const struct obj *vals = obj_map_get(e, "values");
        const char *op = obj_str_or(obj_map_get(e, "operator"), "");
        const char *key = obj_str_or(obj_map_get(e, "key"), "");
        char ex[400];
        size_t l;

        if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) {
            (void)snprintf(ex, sizeof ex, "%s%s", op[0] == 'D' ? "!" : "",
                           key);
        } else {
            l = (size_t)snprintf(ex, sizeof ex, "%s %s (", key,
                                 strcmp(op, "In") == 0 ? "in" : "notin");
            for (size_t k = 0; k < obj_array_len(vals) && l < sizeof ex; k++)
                l += (size_t)snprintf(ex + l, sizeof ex - l, "%s%s",
                                      k ? "," : "",
                                      obj_str_or(obj_array_get(vals, k), ""));
            if (l < sizeof ex - 1)
                strcat(ex, ")");
        }
        add_item(c, ex);
    }
    if (c->s[0] == '\0')
        set_str(c, NULL);
}

/* A plain map selector (a Service's, a node selector): "a=b,c=d". */
static void map_selector(const struct obj *m, struct cell *c)
{
    c->s[0] = '\0';
    for (size_t i = 0; i < obj_map_len(m); i++) {
        char kv[300];

        (void)snprintf(kv, sizeof kv, "%s=%s", obj_map_key(m, i, NULL),
                       obj_str_or(obj_map_value(m, i), ""));
        add_item(c, kv);
    }
    if (c->s[0] == '\0')
        set_str(c, NULL);
}

static void c_tmpl_containers(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    containers_of(o, "spec.template.spec", "name", c);
}

static void c_tmpl_images(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    containers_of(o, "spec.template.spec", "image", c);
}

static void c_selector(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    selector_of(obj_get_path(o, "spec.selector"), c);
}

static void ratio(struct cell *c, int64_t a, int64_t b)
{
    (void)snprintf(c->s, sizeof c->s, "%lld/%lld", (long long)a,
                   (long long)b);
}

/* ---- pods ------------------------------------------------------------*/

static bool pod_condition_true(const struct obj *o, const char *type)
{
    const struct obj *cs = obj_get_path(o, "status.conditions");

    for (size_t i = 0; i < obj_array_len(cs); i++) {
        const struct obj *k = obj_array_get(cs, i);

        if (strcmp(obj_str_or(obj_map_get(k, "type"), ""), type) == 0)
            return strcmp(obj_str_or(obj_map_get(k, "status"), ""),
                          "True") == 0;
    }
    return false;
}

/* Ready containers, restarts and the STATUS reason of a pod, as kubectl
 * users know them: the phase, or the reason of the first init container
 * still at work ("Init:0/2", "Init:CrashLoopBackOff"), or of a container
 * that waits or ended, "Terminating" once deletion started. */
struct pod_summary {
    int64_t ready, total, restarts;
    char reason[128];
};

static void init_reason(const struct obj *o, struct pod_summary *p,
                        bool *initializing)
{
    const struct obj *st = obj_get_path(o, "status.initContainerStatuses");
    size_t n_init = len_at(o, "spec.initContainers");

    for (size_t i = 0; i < obj_array_len(st); i++) {
        const struct obj *s = obj_array_get(st, i);
        const struct obj *term = obj_get_path(s, "state.terminated");
        const char *wait = str_at(s, "state.waiting.reason");

        p->restarts += int_at(s, "restartCount");
        if (term != NULL && int_at(term, "exitCode") == 0)
            continue;
        *initializing = true;
        if (term != NULL) {
            const char *r = str_at(term, "reason");

            if (r != NULL && *r)
                (void)snprintf(p->reason, sizeof p->reason, "Init:%s", r);
            else if (int_at(term, "signal") != 0)
                (void)snprintf(p->reason, sizeof p->reason, "Init:Signal:%lld",
                               (long long)int_at(term, "signal"));
            else
                (void)snprintf(p->reason, sizeof p->reason,
                               "Init:ExitCode:%lld",
                               (long long)int_at(term, "exitCode"));
        } else if (wait != NULL && *wait && strcmp(wait, "PodInitializing")) {
            (void)snprintf(p->reason, sizeof p->reason, "Init:%s", wait);
        } else {
            (void)snprintf(p->reason, sizeof p->reason, "Init:%zu/%zu", i,
                           n_init);
        }
        return;
    }
}

static void container_reason(const struct obj *o, struct pod_summary *p)
{
    const struct obj *st = obj_get_path(o, "status.containerStatuses");
    bool running = false;

    p->restarts = 0;
    for (size_t k = obj_array_len(st); k-- > 0;) {
        const struct obj *s = obj_array_get(st, k);
        const struct obj *term = obj_get_path(s, "state.terminated");
        const char *wait = str_at(s, "state.waiting.reason");

        p->restarts += int_at(s, "restartCount");
        if (wait != NULL && *wait) {
            (void)snprintf(p->reason, sizeof p->reason, "%s", wait);
        } else if (term != NULL) {
            const char *r = str_at(term, "reason");

            if (r != NULL && *r)
                (void)snprintf(p->reason, sizeof p->reason, "%s", r);
            else if (int_at(term, "signal") != 0)
                (void)snprintf(p->reason, sizeof p->reason, "Signal:%lld",
                               (long long)int_at(term, "signal"));
            else
                (void)snprintf(p->reason, sizeof p->reason, "ExitCode:%lld",
                               (long long)int_at(term, "exitCode"));
        } else if (obj_bool_or(obj_map_get(s, "ready"), false) &&
                   obj_get_path(s, "state.running") != NULL) {
            running = true;
            p->ready++;
        }
    }
    if (strcmp(p->reason, "Completed") == 0 && running)
        (void)snprintf(p->reason, sizeof p->reason, "%s",
                       pod_condition_true(o, "Ready") ? "Running"
                                                      : "NotReady");
}

static void pod_summary(const struct obj *o, struct pod_summary *p)
{
    const char *phase = str_at(o, "status.phase");
    const char *reason = str_at(o, "status.reason");
    bool initializing = false;

    memset(p, 0, sizeof *p);
    p->total = (int64_t)len_at(o, "spec.containers");
    (void)snprintf(p->reason, sizeof p->reason, "%s",
                   reason != NULL && *reason ? reason
                   : phase != NULL && *phase ? phase
                                             : "Pending");
    init_reason(o, p, &initializing);
    if (!initializing)
        container_reason(o, p);
    if (obj_get_path(o, "metadata.deletionTimestamp") != NULL)
        (void)snprintf(p->reason, sizeof p->reason, "%s",
                       reason != NULL && strcmp(reason, "NodeLost") == 0
                           ? "Unknown"
                           : "Terminating");
}

static void c_pod_ready(const struct obj *o, int64_t now, struct cell *c)
{
    struct pod_summary p;

    (void)now;
    pod_summary(o, &p);
    ratio(c, p.ready, p.total);
}

static void c_pod_status(const struct obj *o, int64_t now, struct cell *c)
{
    struct pod_summary p;

    (void)now;
    pod_summary(o, &p);
    set_str(c, p.reason);
}

/* Restarts, and how long ago the last one was when a container says. */
static void c_pod_restarts(const struct obj *o, int64_t now, struct cell *c)
{
    const struct obj *st = obj_get_path(o, "status.containerStatuses");
    struct pod_summary p;
    int64_t last = -1;

    pod_summary(o, &p);
    for (size_t i = 0; i < obj_array_len(st); i++) {
        int64_t t = obj_table_parse_time(str_at(
            obj_array_get(st, i), "lastState.terminated.finishedAt"));

        if (t > last)
            last = t;
    }
    if (last < 0 || p.restarts == 0) { /* a string, as Kubernetes sends */
        (void)snprintf(c->s, sizeof c->s, "%lld", (long long)p.restarts);
        return;
    }
    char ago[32];

    obj_table_age(now - last, ago, sizeof ago);
    (void)snprintf(c->s, sizeof c->s, "%lld (%s ago)", (long long)p.restarts,
                   ago);
}

STR_CELL(c_pod_ip, "status.podIP")

STR_CELL(c_pod_node, "spec.nodeName")

STR_CELL(c_pod_nominated, "status.nominatedNodeName")

static void c_pod_gates(const struct obj *o, int64_t now, struct cell *c)
{
    const struct obj *gates = obj_get_path(o, "spec.readinessGates");
    int64_t met = 0;

    (void)now;
    if (obj_array_len(gates) == 0) {
        set_str(c, NULL);
        return;
    }
    for (size_t i = 0; i < obj_array_len(gates); i++)
        met += pod_condition_true(
            o, obj_str_or(obj_map_get(obj_array_get(gates, i),
                                      "conditionType"), ""));
    ratio(c, met, (int64_t)obj_array_len(gates));
}

/* ---- workloads -------------------------------------------------------*/

static void c_ready_of_spec(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    ratio(c, int_at(o, "status.readyReplicas"), int_at(o, "spec.replicas"));
}

INT_CELL(c_updated, "status.updatedReplicas")
INT_CELL(c_available, "status.availableReplicas")
INT_CELL(c_desired, "spec.replicas")
INT_CELL(c_current, "status.replicas")
INT_CELL(c_ready_replicas, "status.readyReplicas")
INT_CELL(c_ds_desired, "status.desiredNumberScheduled")
INT_CELL(c_ds_current, "status.currentNumberScheduled")
INT_CELL(c_ds_ready, "status.numberReady")
INT_CELL(c_ds_updated, "status.updatedNumberScheduled")
INT_CELL(c_ds_available, "status.numberAvailable")
INT_CELL(c_revision, "revision")
STR_CELL(c_phase, "status.phase")
STR_CELL(c_secret_type, "type")
STR_CELL(c_lease_holder, "spec.holderIdentity")
STR_CELL(c_schedule, "spec.schedule")
STR_CELL(c_timezone, "spec.timeZone")
STR_CELL(c_provisioner, "provisioner")
STR_CELL(c_address_type, "addressType")
LEN_CELL(c_data, "data", "binaryData")
LEN_CELL(c_secrets, "secrets", "")
LEN_CELL(c_active, "status.active", "")

static void c_ds_node_selector(const struct obj *o, int64_t now,
                               struct cell *c)
{
    (void)now;
    map_selector(obj_get_path(o, "spec.template.spec.nodeSelector"), c);
}

static bool has_condition(const struct obj *o, const char *type)
{
    const struct obj *cs = obj_get_path(o, "status.conditions");

    for (size_t i = 0; i < obj_array_len(cs); i++) {
        const struct obj *k = obj_array_get(cs, i);

        if (strcmp(obj_str_or(obj_map_get(k, "type"), ""), type) == 0 &&
            strcmp(obj_str_or(obj_map_get(k, "status"), ""), "True") == 0)
            return true;
    }
    return false;
}

static void c_job_status(const struct obj *o, int64_t now, struct cell *c)
{
    static const char *const order[] = {"Complete", "Failed", "Suspended",
                                        "FailureTarget", "SuccessCriteriaMet"};

    (void)now;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        if (has_condition(o, order[i])) {
            set_str(c, order[i]);
            return;
        }
    set_str(c, "Running");
}

static void c_job_completions(const struct obj *o, int64_t now,
                              struct cell *c)
{
    int64_t done = int_at(o, "status.succeeded");
    int64_t par = int_at(o, "spec.parallelism");

    (void)now;
    if (obj_get_path(o, "spec.completions") != NULL)
        ratio(c, done, int_at(o, "spec.completions"));
    else if (par > 1)
        (void)snprintf(c->s, sizeof c->s, "%lld/1 of %lld", (long long)done,
                       (long long)par);
    else
        ratio(c, done, 1);
}

static void c_job_duration(const struct obj *o, int64_t now, struct cell *c)
{
    int64_t start = obj_table_parse_time(str_at(o, "status.startTime"));
    int64_t end = obj_table_parse_time(str_at(o, "status.completionTime"));

    if (start < 0) {
        c->s[0] = '\0';
        return;
    }
    obj_table_age((end >= 0 ? end : now) - start, c->s, sizeof c->s);
}

static void c_cron_suspend(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    set_str(c, obj_bool_or(obj_get_path(o, "spec.suspend"), false) ? "True"
                                                                   : "False");
}

static void c_cron_last(const struct obj *o, int64_t now, struct cell *c)
{
    if (str_at(o, "status.lastScheduleTime") == NULL)
        set_str(c, NULL);
    else
        age_at(o, "status.lastScheduleTime", now, c);
}

static void c_cron_containers(const struct obj *o, int64_t now,
                              struct cell *c)
{
    (void)now;
    containers_of(o, "spec.jobTemplate.spec.template.spec", "name", c);
}

static void c_cron_images(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    containers_of(o, "spec.jobTemplate.spec.template.spec", "image", c);
}

static void c_cron_selector(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    selector_of(obj_get_path(o, "spec.jobTemplate.spec.selector"), c);
}

static void c_owner(const struct obj *o, int64_t now, struct cell *c)
{
    const struct obj *refs = obj_get_path(o, "metadata.ownerReferences");

    (void)now;
    for (size_t i = 0; i < obj_array_len(refs); i++) {
        const struct obj *r = obj_array_get(refs, i);

        if (obj_bool_or(obj_map_get(r, "controller"), false)) {
            char kind[128];

            (void)snprintf(kind, sizeof kind, "%s",
                           obj_str_or(obj_map_get(r, "kind"), ""));
            for (char *p = kind; *p; p++)
                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
            (void)snprintf(c->s, sizeof c->s, "%s/%s", kind,
                           obj_str_or(obj_map_get(r, "name"), ""));
            return;
        }
    }
    set_str(c, NULL);
}

/* ---- services and the rest -------------------------------------------*/

static void c_svc_type(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    set_str(c, str_at(o, "spec.type") ? str_at(o, "spec.type") : "ClusterIP");
}

STR_CELL(c_svc_cluster_ip, "spec.clusterIP")

static void c_svc_external_ip(const struct obj *o, int64_t now,
                              struct cell *c)
{
    const char *type = str_at(o, "spec.type");
    const struct obj *ext = obj_get_path(o, "spec.externalIPs");
    const struct obj *lb = obj_get_path(o, "status.loadBalancer.ingress");

    (void)now;
    c->s[0] = '\0';
    if (type != NULL && strcmp(type, "ExternalName") == 0) {
        set_str(c, str_at(o, "spec.externalName"));
        return;
    }
    if (type != NULL && strcmp(type, "LoadBalancer") == 0)
        for (size_t i = 0; i < obj_array_len(lb); i++) {
            const struct obj *in = obj_array_get(lb, i);
            const char *a = obj_str_or(obj_map_get(in, "ip"), NULL);

            add_item(c, a ? a : obj_str_or(obj_map_get(in, "hostname"), ""));
        }
    for (size_t i = 0; i < obj_array_len(ext); i++)
        add_item(c, obj_str_or(obj_array_get(ext, i), ""));
    if (c->s[0] == '\0')
        set_str(c, type != NULL && strcmp(type, "LoadBalancer") == 0
                       ? "<pending>"
                       : NULL);
}

static void c_svc_ports(const struct obj *o, int64_t now, struct cell *c)
{
    const struct obj *ports = obj_get_path(o, "spec.ports");

    (void)now;
    c->s[0] = '\0';
    for (size_t i = 0; i < obj_array_len(ports); i++) {
        const struct obj *p = obj_array_get(ports, i);
        int64_t node = obj_int_or(obj_map_get(p, "nodePort"), 0);
        char one[64];

        if (node != 0)
            (void)snprintf(one, sizeof one, "%lld:%lld/%s",
                           (long long)obj_int_or(obj_map_get(p, "port"), 0),
                           (long long)node,
                           obj_str_or(obj_map_get(p, "protocol"), "TCP"));
        else
            (void)snprintf(one, sizeof one, "%lld/%s",
                           (long long)obj_int_or(obj_map_get(p, "port"), 0),
                           obj_str_or(obj_map_get(p, "protocol"), "TCP"));
        add_item(c, one);
    }
    if (c->s[0] == '\0')
        set_str(c, NULL);
}

static void c_svc_selector(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    map_selector(obj_get_path(o, "spec.selector"), c);
}

/* Endpoints: "ip:port,..." with " + N more..." past three. */
static void c_endpoints(const struct obj *o, int64_t now, struct cell *c)
{
    const struct obj *subsets = obj_get_path(o, "subsets");
    size_t shown = 0, total = 0;

    (void)now;
    c->s[0] = '\0';
    for (size_t i = 0; i < obj_array_len(subsets); i++) {
        const struct obj *s = obj_array_get(subsets, i);
        const struct obj *addrs = obj_map_get(s, "addresses");
        const struct obj *ports = obj_map_get(s, "ports");
        size_t np = obj_array_len(ports) ? obj_array_len(ports) : 1;

        for (size_t a = 0; a < obj_array_len(addrs); a++)
            for (size_t p = 0; p < np; p++, total++) {
                char one[96];
                const char *ip = obj_str_or(
                    obj_map_get(obj_array_get(addrs, a), "ip"), "");

                if (shown == 3)
                    continue;
                if (obj_array_len(ports))
                    (void)snprintf(one, sizeof one, "%s:%lld", ip,
                                   (long long)obj_int_or(
                                       obj_map_get(obj_array_get(ports, p),
                                                   "port"), 0));
                else
                    (void)snprintf(one, sizeof one, "%s", ip);
                add_item(c, one);
                shown++;
            }
    }
    if (total > shown) {
        size_t l = strlen(c->s);

        (void)snprintf(c->s + l, sizeof c->s - l, " + %zu more...",
                       total - shown);
    }
    if (c->s[0] == '\0')
        set_str(c, NULL);
}

static void c_node_status(const struct obj *o, int64_t now, struct cell *c)
{
    const struct obj *cs = obj_get_path(o, "status.conditions");
    const char *ready = "Unknown";

    (void)now;
    for (size_t i = 0; i < obj_array_len(cs); i++) {
        const struct obj *k = obj_array_get(cs, i);

        if (strcmp(obj_str_or(obj_map_get(k, "type"), ""), "Ready") == 0)
            ready = strcmp(obj_str_or(obj_map_get(k, "status"), ""),
                           "True") == 0 ? "Ready" : "NotReady";
    }
    (void)snprintf(c->s, sizeof c->s, "%s%s", ready,
                   obj_bool_or(obj_get_path(o, "spec.unschedulable"), false)
                       ? ",SchedulingDisabled" : "");
}

/* Roles from node-role.kubernetes.io/ROLE labels. */
static void c_node_roles(const struct obj *o, int64_t now, struct cell *c)
{
    static const char prefix[] = "node-role.kubernetes.io/";
    const struct obj *labels = obj_get_path(o, "metadata.labels");

    (void)now;
    c->s[0] = '\0';
    for (size_t i = 0; i < obj_map_len(labels); i++) {
        const char *k = obj_map_key(labels, i, NULL);

        if (strncmp(k, prefix, sizeof prefix - 1) == 0 &&
            k[sizeof prefix - 1] != '\0')
            add_item(c, k + sizeof prefix - 1);
    }
    if (c->s[0] == '\0')
        set_str(c, NULL);
}

STR_CELL(c_node_version, "status.nodeInfo.kubeletVersion")
STR_CELL(c_node_os, "status.nodeInfo.osImage")
STR_CELL(c_node_kernel, "status.nodeInfo.kernelVersion")
STR_CELL(c_node_runtime, "status.nodeInfo.containerRuntimeVersion")

static void node_address(const struct obj *o, const char *type,
                         struct cell *c)
{
    const struct obj *as = obj_get_path(o, "status.addresses");

    for (size_t i = 0; i < obj_array_len(as); i++) {
        const struct obj *a = obj_array_get(as, i);

        if (strcmp(obj_str_or(obj_map_get(a, "type"), ""), type) == 0) {
            set_str(c, obj_str_or(obj_map_get(a, "address"), NULL));
            return;
        }
    }
    set_str(c, NULL);
}

static void c_node_internal(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    node_address(o, "InternalIP", c);
}

static void c_node_external(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    node_address(o, "ExternalIP", c);
}

/* Events: when last seen (of the series, the event, or its creation). */
static void c_event_last(const struct obj *o, int64_t now, struct cell *c)
{
    static const char *const paths[] = {
        "series.lastObservedTime", "lastTimestamp", "eventTime",
        "metadata.creationTimestamp"};

    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (obj_table_parse_time(str_at(o, paths[i])) >= 0) {
            age_at(o, paths[i], now, c);
            return;
        }
    set_str(c, "<unknown>");
}

STR_CELL(c_event_type, "type")
STR_CELL(c_event_reason, "reason")
/* core/v1 Events say it in message, events.k8s.io/v1 ones in note. */
static void c_event_message(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    set_str(c, str_at(o, "message") ? str_at(o, "message")
                                    : str_at(o, "note"));
}

static void c_event_object(const struct obj *o, int64_t now, struct cell *c)
{
    const struct obj *r = obj_get_path(o, "involvedObject");
    char kind[128];

    (void)now;
    if (r == NULL)
        r = obj_get_path(o, "regarding");
    (void)snprintf(kind, sizeof kind, "%s",
                   obj_str_or(obj_map_get(r, "kind"), ""));
    for (char *p = kind; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    (void)snprintf(c->s, sizeof c->s, "%s/%s", kind,
                   obj_str_or(obj_map_get(r, "name"), ""));
}

static void c_pvc_volume(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    c->s[0] = '\0';
    if (str_at(o, "spec.volumeName") != NULL)
        set_str(c, str_at(o, "spec.volumeName"));
}

static void c_capacity(const struct obj *o, int64_t now, struct cell *c)
{
    const char *q = str_at(o, "status.capacity.storage");

    (void)now;
    if (q == NULL)
        q = str_at(o, "spec.capacity.storage");
    (void)snprintf(c->s, sizeof c->s, "%s", q != NULL ? q : "");
}

/* Access modes as kubectl abbreviates them: RWO, ROX, RWX, RWOP. */
static void c_access_modes(const struct obj *o, int64_t now, struct cell *c)
{
    const struct obj *m = obj_get_path(o, "status.accessModes");

    (void)now;
    if (obj_array_len(m) == 0)
        m = obj_get_path(o, "spec.accessModes");
    c->s[0] = '\0';
    for (size_t i = 0; i < obj_array_len(m); i++) {
        const char *v = obj_str_or(obj_array_get(m, i), "");

        add_item(c, strcmp(v, "ReadWriteOnce") == 0      ? "RWO"
                    : strcmp(v, "ReadOnlyMany") == 0     ? "ROX"
                    : strcmp(v, "ReadWriteMany") == 0    ? "RWX"
                    : strcmp(v, "ReadWriteOncePod") == 0 ? "RWOP"
                                                         : v);
    }
}

static void c_storage_class(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    (void)snprintf(c->s, sizeof c->s, "%s",
                   str_at(o, "spec.storageClassName")
                       ? str_at(o, "spec.storageClassName") : "");
}

static void c_pv_claim(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    c->s[0] = '\0';
    if (str_at(o, "spec.claimRef.name") != NULL)
        (void)snprintf(c->s, sizeof c->s, "%s/%s",
                       str_at(o, "spec.claimRef.namespace")
                           ? str_at(o, "spec.claimRef.namespace") : "",
                       str_at(o, "spec.claimRef.name"));
}

STR_CELL(c_pv_reclaim, "spec.persistentVolumeReclaimPolicy")
STR_CELL(c_sc_reclaim, "reclaimPolicy")
STR_CELL(c_sc_binding, "volumeBindingMode")

static void c_sc_expansion(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    set_str(c, obj_bool_or(obj_get_path(o, "allowVolumeExpansion"), false)
                   ? "true" : "false");
}

static void c_slice_ports(const struct obj *o, int64_t now, struct cell *c)
{
    const struct obj *ports = obj_get_path(o, "ports");
    char one[24];

    (void)now;
    c->s[0] = '\0';
    for (size_t i = 0; i < obj_array_len(ports); i++) {
        (void)snprintf(one, sizeof one, "%lld",
                       (long long)obj_int_or(
                           obj_map_get(obj_array_get(ports, i), "port"), 0));
        add_item(c, one);
    }
    if (c->s[0] == '\0')
        set_str(c, NULL);
}

static void c_slice_endpoints(const struct obj *o, int64_t now,
                              struct cell *c)
{
    const struct obj *eps = obj_get_path(o, "endpoints");
    size_t shown = 0, total = 0;

    (void)now;
    c->s[0] = '\0';
    for (size_t i = 0; i < obj_array_len(eps); i++) {
        const struct obj *as = obj_map_get(obj_array_get(eps, i), "addresses");

        for (size_t a = 0; a < obj_array_len(as); a++, total++)
            if (shown < 3) {
                add_item(c, obj_str_or(obj_array_get(as, a), ""));
                shown++;
            }
    }
    if (total > shown) {
        size_t l = strlen(c->s);

        (void)snprintf(c->s + l, sizeof c->s - l, " + %zu more...",
                       total - shown);
    }
    if (c->s[0] == '\0')
        set_str(c, NULL);
}

/* ---- the tables ------------------------------------------------------*/

#define NAME_COL {"Name", "string", true, 0, "The object's name, unique in its namespace.", c_name}
#define AGE_COL {"Age", "string", false, 0, "How long ago the object was created.", c_age}
#define S(n, p, d, f) {n, "string", false, p, d, f}
#define I(n, p, d, f) {n, "integer", false, p, d, f}

/* -o wide columns of kinds with a pod template. */
#define TEMPLATE_COLS                                                        \
    S("Containers", 1, "The template's container names.", c_tmpl_containers), \
    S("Images", 1, "The template's container images.", c_tmpl_images)
#define SELECTOR_COL S("Selector", 1, "The label selector of its pods.", c_selector)

static const struct column generic[] = {NAME_COL, AGE_COL};

STR_CELL(c_created_at, "metadata.creationTimestamp")

STR_CELL(c_role_ref, "roleRef.name")

/* The subjects of @kind of a binding, joined. */
static void subjects_of(const struct obj *o, const char *kind, struct cell *c)
{
    const struct obj *subs = obj_map_get(o, "subjects");
    size_t used = 0;

    c->s[0] = '\0';
    for (size_t i = 0; i < obj_array_len(subs); i++) {
        const struct obj *s = obj_array_get(subs, i);
        const char *name = str_at(s, "name");
        if (name == NULL || strcmp(obj_str_or(obj_map_get(s, "kind"), ""),
                                   kind) != 0)
            continue;
        const char *ns = str_at(s, "namespace");
        int n = snprintf(c->s + used, sizeof c->s - used, "%s%s%s%s",
                         used ? ", " : "", ns != NULL && *ns ? ns : "",
                         ns != NULL && *ns ? "/" : "", name);
        if (n < 0 || (size_t)n >= sizeof c->s - used)
            break;
        used += (size_t)n;
    }
}

static void c_users(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    subjects_of(o, "User", c);
}

static void c_groups(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    subjects_of(o, "Group", c);
}

static void c_sas(const struct obj *o, int64_t now, struct cell *c)
{
    (void)now;
    subjects_of(o, "ServiceAccount", c);
}

static void c_role(const struct obj *o, int64_t now, struct cell *c)
{
    const char *kind = str_at(o, "roleRef.kind");

    c_role_ref(o, now, c);
    if (kind != NULL) {
        char name[sizeof c->s];
        (void)snprintf(name, sizeof name, "%s", c->s);
        (void)snprintf(c->s, sizeof c->s, "%s/%.400s", kind, name);
    }
}

static const struct column bindings[] = {
    NAME_COL,
    S("Role", 0, "The role granted, as Kind/name.", c_role),
    AGE_COL,
    S("Users", 1, "Users granted the role.", c_users),
    S("Groups", 1, "Groups granted the role.", c_groups),
    S("ServiceAccounts", 1, "Service accounts granted the role.", c_sas),
};

/* kube-apiserver's default columns, which CustomResourceDefinitions get. */
static const struct column crds[] = {
    NAME_COL,
    {"Created At", "date", false, 0, "When the object was created.",
     c_created_at},
};

static const struct column pods[] = {
    NAME_COL,
    S("Ready", 0, "Containers ready of all the pod's containers.", c_pod_ready),
    S("Status", 0, "The pod's phase, or why it is not running.", c_pod_status),
    S("Restarts", 0, "Container restarts, and how long ago the last was.",
      c_pod_restarts),
    AGE_COL,
    S("IP", 1, "The pod's IP address.", c_pod_ip),
    S("Node", 1, "The node the pod is bound to.", c_pod_node),
    S("Nominated Node", 1, "The node the scheduler nominated by preemption.",
      c_pod_nominated),
    S("Readiness Gates", 1, "Readiness gates met of those declared.",
      c_pod_gates),
};

static const struct column deployments[] = {
    NAME_COL,
    S("Ready", 0, "Ready replicas of those wanted.", c_ready_of_spec),
    I("Up-to-date", 0, "Replicas running the current template.", c_updated),
    I("Available", 0, "Replicas available to serve.", c_available),
    AGE_COL,
    TEMPLATE_COLS,
    SELECTOR_COL,
};

static const struct column replicasets[] = {
    NAME_COL,
    I("Desired", 0, "Replicas wanted.", c_desired),
    I("Current", 0, "Replicas that exist.", c_current),
    I("Ready", 0, "Replicas ready.", c_ready_replicas),
    AGE_COL,
    TEMPLATE_COLS,
    SELECTOR_COL,
};

static const struct column statefulsets[] = {
    NAME_COL,
    S("Ready", 0, "Ready replicas of those wanted.", c_ready_of_spec),
    AGE_COL,
    TEMPLATE_COLS,
};

static const struct column daemonsets[] = {
    NAME_COL,
    I("Desired", 0, "Nodes that should run a pod.", c_ds_desired),
    I("Current", 0, "Nodes that run a pod.", c_ds_current),
    I("Ready", 0, "Nodes whose pod is ready.", c_ds_ready),
    I("Up-to-date", 0, "Nodes running the current template.", c_ds_updated),
    I("Available", 0, "Nodes whose pod is available.", c_ds_available),
    S("Node Selector", 0, "The template's node selector.", c_ds_node_selector),
    AGE_COL,
    TEMPLATE_COLS,
    SELECTOR_COL,
};

static const struct column controllerrevisions[] = {
    NAME_COL,
    S("Controller", 0, "The object that owns this revision.", c_owner),
    I("Revision", 0, "The revision number.", c_revision),
    AGE_COL,
};

static const struct column jobs[] = {
    NAME_COL,
    S("Status", 0, "Running, Complete, Failed or Suspended.", c_job_status),
    S("Completions", 0, "Pods that succeeded of those wanted.",
      c_job_completions),
    S("Duration", 0, "How long the job ran, or has been running.",
      c_job_duration),
    AGE_COL,
    TEMPLATE_COLS,
    SELECTOR_COL,
};

static const struct column cronjobs[] = {
    NAME_COL,
    S("Schedule", 0, "The cron schedule.", c_schedule),
    S("Timezone", 0, "The time zone of the schedule.", c_timezone),
    S("Suspend", 0, "Whether new runs are suspended.", c_cron_suspend),
    I("Active", 0, "Jobs running now.", c_active),
    S("Last Schedule", 0, "How long ago a job was last started.",
      c_cron_last),
    AGE_COL,
    S("Containers", 1, "The job template's container names.",
      c_cron_containers),
    S("Images", 1, "The job template's container images.", c_cron_images),
    S("Selector", 1, "The job template's label selector.", c_cron_selector),
};

static const struct column services[] = {
    NAME_COL,
    S("Type", 0, "How the service is exposed.", c_svc_type),
    S("Cluster-IP", 0, "The virtual IP inside the cluster.", c_svc_cluster_ip),
    S("External-IP", 0, "Addresses outside the cluster.", c_svc_external_ip),
    S("Port(s)", 0, "Ports served (and node ports).", c_svc_ports),
    AGE_COL,
    S("Selector", 1, "The labels of the pods behind it.", c_svc_selector),
};

static const struct column namespaces[] = {
    NAME_COL,
    S("Status", 0, "Active, or Terminating.", c_phase),
    AGE_COL,
};

static const struct column configmaps[] = {
    NAME_COL,
    I("Data", 0, "Keys held.", c_data),
    AGE_COL,
};

static const struct column secrets[] = {
    NAME_COL,
    S("Type", 0, "What the secret holds.", c_secret_type),
    I("Data", 0, "Keys held.", c_data),
    AGE_COL,
};

static const struct column serviceaccounts[] = {
    NAME_COL,
    I("Secrets", 0, "Secrets listed for the account.", c_secrets),
    AGE_COL,
};

static const struct column endpoints[] = {
    NAME_COL,
    S("Endpoints", 0, "Addresses and ports, the first three.", c_endpoints),
    AGE_COL,
};

static const struct column nodes[] = {
    NAME_COL,
    S("Status", 0, "Ready or NotReady, and whether it takes new pods.",
      c_node_status),
    S("Roles", 0, "Roles from its node-role labels.", c_node_roles),
    AGE_COL,
    S("Version", 0, "The node agent's version.", c_node_version),
    S("Internal-IP", 1, "The node's internal address.", c_node_internal),
    S("External-IP", 1, "The node's external address.", c_node_external),
    S("OS-Image", 1, "The operating system.", c_node_os),
    S("Kernel-Version", 1, "The kernel.", c_node_kernel),
    S("Container-Runtime", 1, "The container runtime.", c_node_runtime),
};

static const struct column events[] = {
    S("Last Seen", 0, "How long ago it last happened.", c_event_last),
    S("Type", 0, "Normal or Warning.", c_event_type),
    S("Reason", 0, "Why it happened, in one word.", c_event_reason),
    S("Object", 0, "What it happened to.", c_event_object),
    S("Message", 0, "What happened.", c_event_message),
    {"Name", "string", true, 1, "The event's name.", c_name},
};

static const struct column leases[] = {
    NAME_COL,
    S("Holder", 0, "Who holds the lease.", c_lease_holder),
    AGE_COL,
};

static const struct column pvs[] = {
    NAME_COL,
    S("Capacity", 0, "Storage size.", c_capacity),
    S("Access Modes", 0, "RWO, ROX, RWX or RWOP.", c_access_modes),
    S("Reclaim Policy", 0, "What happens once released.", c_pv_reclaim),
    S("Status", 0, "Available, Bound, Released or Failed.", c_phase),
    S("Claim", 0, "The claim bound to it.", c_pv_claim),
    S("StorageClass", 0, "Its storage class.", c_storage_class),
    AGE_COL,
};

static const struct column pvcs[] = {
    NAME_COL,
    S("Status", 0, "Pending, Bound or Lost.", c_phase),
    S("Volume", 0, "The volume bound to it.", c_pvc_volume),
    S("Capacity", 0, "Storage size.", c_capacity),
    S("Access Modes", 0, "RWO, ROX, RWX or RWOP.", c_access_modes),
    S("StorageClass", 0, "Its storage class.", c_storage_class),
    AGE_COL,
};

static const struct column storageclasses[] = {
    NAME_COL,
    S("Provisioner", 0, "Who makes its volumes.", c_provisioner),
    S("ReclaimPolicy", 0, "What happens to released volumes.", c_sc_reclaim),
    S("VolumeBindingMode", 0, "When volumes are bound.", c_sc_binding),
    S("AllowVolumeExpansion", 0, "Whether volumes may grow.", c_sc_expansion),
    AGE_COL,
};

static const struct column endpointslices[] = {
    NAME_COL,
    S("AddressType", 0, "IPv4, IPv6 or FQDN.", c_address_type),
    S("Ports", 0, "The ports.", c_slice_ports),
    S("Endpoints", 0, "Addresses, the first three.", c_slice_endpoints),
    AGE_COL,
};

#define T(g, k, cols) {g, k, cols, sizeof cols / sizeof *cols}

static const struct obj_table tables[] = {
    T("", "Pod", pods),
    T("", "Service", services),
    T("", "Namespace", namespaces),
    T("", "ConfigMap", configmaps),
    T("", "Secret", secrets),
    T("", "ServiceAccount", serviceaccounts),
    T("", "Endpoints", endpoints),
    T("", "Node", nodes),
    T("", "Event", events),
    T("", "PersistentVolume", pvs),
    T("", "PersistentVolumeClaim", pvcs),
    T("apps", "Deployment", deployments),
    T("apps", "ReplicaSet", replicasets),
    T("apps", "StatefulSet", statefulsets),
    T("apps", "DaemonSet", daemonsets),
    T("apps", "ControllerRevision", controllerrevisions),
    T("batch", "Job", jobs),
    T("batch", "CronJob", cronjobs),
    T("coordination.k8s.io", "Lease", leases),
    T("discovery.k8s.io", "EndpointSlice", endpointslices),
    T("storage.k8s.io", "StorageClass", storageclasses),
    T("events.k8s.io", "Event", events),
    T("apiextensions.k8s.io", "CustomResourceDefinition", crds),
    T("rbac.authorization.k8s.io", "Role", crds),
    T("rbac.authorization.k8s.io", "ClusterRole", crds),
    T("rbac.authorization.k8s.io", "RoleBinding", bindings),
    T("rbac.authorization.k8s.io", "ClusterRoleBinding", bindings),
};

static const struct obj_table generic_table = T("", "", generic);

const struct obj_table *obj_table_for(const char *group, const char *kind)
{
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        if (strcmp(tables[i].group, group) == 0 &&
            strcmp(tables[i].kind, kind) == 0)
            return &tables[i];
    return &generic_table;
}

/* obj_map_set that drops @v when it cannot take it. */
static int set_new(struct obj *m, const char *key, struct obj *v)
{
    if (obj_map_set(m, key, v) != 0) {
        obj_unref(v);
        return -1;
    }
    return 0;
}

/* ---- custom resources: columns from a CRD's additionalPrinterColumns ---*/

/* One step of a printer column's JSONPath: .name, ['name'], [N] or
 * [?(@.a.b=="v")]. Advances *@p; the node reached (borrowed), or NULL
 * when it is absent. *@bad is set when the text is not such a step. */
static const struct obj *path_step(const struct obj *o, const char **p,
                                   bool *bad);

static size_t ident_len(const char *p)
{
    size_t n = 0;

    while (p[n] != '\0' && p[n] != '.' && p[n] != '[')
        n++;
    return n;
}

/* The element of array @o whose value at dotted @key (of @klen bytes)
 * equals the @vlen bytes at @v, or NULL. */
static const struct obj *filter_match(const struct obj *o, const char *key,
                                      size_t klen, const char *v, size_t vlen)
{
    char path[256];

    if (klen >= sizeof path)
        return NULL;
    memcpy(path, key, klen);
    path[klen] = '\0';
    for (size_t i = 0; i < obj_array_len(o); i++) {
        const struct obj *e = obj_array_get(o, i);
        size_t len;
        const char *s = obj_str(obj_get_path(e, path), &len);
        if (s != NULL && len == vlen && memcmp(s, v, vlen) == 0)
            return e;
    }
    return NULL;
}

/* [?(@.key=="value")] with " or ' quotes, spaces around ==; *@p is
 * after the '['. */
static const struct obj *path_filter(const struct obj *o, const char **p,
                                     bool *bad)
{
    const char *s, *close, *eq, *v, *end, *kend;
    char q;

    if (strncmp(*p, "?(@.", 4) != 0 || (close = strstr(*p, ")]")) == NULL) {
        *bad = true;
        return NULL;
    }
    s = *p + 4;
    eq = strstr(s, "==");
    if (eq == NULL || eq > close || eq == s) {
        *bad = true;
        return NULL;
    }
    for (kend = eq; kend > s && kend[-1] == ' '; kend--)
        ;
    for (v = eq + 2; *v == ' '; v++)
        ;
    q = *v++;
    if ((q != '"' && q != '\'') || kend == s ||
        (end = strchr(v, q)) == NULL) {
        *bad = true;
        return NULL;
    }
    const char *after = end + 1;
    while (*after == ' ')
        after++;
    if (strncmp(after, ")]", 2) != 0) {
        *bad = true;
        return NULL;
    }
    *p = after + 2;
    return filter_match(o, s, (size_t)(kend - s), v, (size_t)(end - v));
}

static const struct obj *path_bracket(const struct obj *o, const char **p,
                                      bool *bad)
{
    const char *s = *p + 1, *end;
    char *num_end;
    long i;

    if (*s == '?') {
        *p = s;
        return path_filter(o, p, bad);
    }
    if (*s == '\'' || *s == '"') {
        char key[256];
        if ((end = strchr(s + 1, *s)) == NULL || end[1] != ']' ||
            (size_t)(end - s - 1) >= sizeof key) {
            *bad = true;
            return NULL;
        }
        memcpy(key, s + 1, (size_t)(end - s - 1));
        key[end - s - 1] = '\0';
        *p = end + 2;
        return obj_map_get(o, key);
    }
    i = strtol(s, &num_end, 10);
    if (num_end == s || *num_end != ']' || i < 0) {
        *bad = true;
        return NULL;
    }
    *p = num_end + 1;
    return obj_array_get(o, (size_t)i);
}

static const struct obj *path_step(const struct obj *o, const char **p,
                                   bool *bad)
{
    if (**p == '[')
        return path_bracket(o, p, bad);
    if (**p != '.' || ident_len(*p + 1) == 0) {
        *bad = true;
        return NULL;
    }
    size_t n = ident_len(*p + 1);
    const struct obj *v = obj_map_getn(o, *p + 1, n);
    *p += 1 + n;
    return v;
}

/* Walk @path from @o: the node (borrowed) or NULL; *@bad when the path is
 * not one c8s understands. */
static const struct obj *path_eval(const struct obj *o, const char *path,
                                   bool *bad)
{
    const char *p = path;

    *bad = false;
    if (*p == '\0' || strlen(p) > 512) {
        *bad = true;
        return NULL;
    }
    while (*p != '\0' && !*bad) {
        const struct obj *next = path_step(o, &p, bad);
        if (next == NULL && !*bad) {
            /* Check the rest of the text even past a missing value. */
            while (*p != '\0' && !*bad)
                (void)path_step(NULL, &p, bad);
            return NULL;
        }
        o = next;
    }
    return *bad ? NULL : o;
}

bool obj_table_path_ok(const char *path)
{
    bool bad;

    (void)path_eval(NULL, path, &bad);
    return !bad;
}

/* A custom column's cell: the value at its path shown as its type says;
 * lists and maps as JSON, dates as an age. */
static void path_cell(const struct column *col, const struct obj *o,
                      int64_t now, struct cell *c)
{
    bool bad;
    const struct obj *v = path_eval(o, col->path, &bad);
    struct obj_buf b;

    if (v == NULL || obj_is_null(v)) {
        set_str(c, NONE);
        return;
    }
    if (strcmp(col->type, "date") == 0 && obj_type(v) == OBJ_STRING) {
        int64_t t = obj_table_parse_time(obj_str_or(v, ""));
        if (t < 0)
            set_str(c, "<invalid>");
        else
            obj_table_age(now - t, c->s, sizeof c->s);
        return;
    }
    if (obj_type(v) == OBJ_STRING) {
        set_str(c, obj_str_or(v, ""));
        return;
    }
    if (obj_type(v) == OBJ_INT && strcmp(col->type, "integer") == 0) {
        set_int(c, obj_int_or(v, 0));
        return;
    }
    obj_buf_init(&b);
    if (obj_json_encode(v, 0, &b, NULL) == 0 && obj_buf_append(&b, "", 1) == 0)
        set_str(c, b.data);
    obj_buf_done(&b);
}

static char *dup_or_empty(const char *s)
{
    return mem_strdup(s != NULL ? s : "");
}

static void free_column(struct column *c)
{
    mem_free((char *)c->name);
    mem_free((char *)c->type);
    mem_free((char *)c->description);
    mem_free((char *)c->path);
    mem_free((char *)c->format);
}

void obj_table_custom_free(struct obj_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free_column(&t->owned[i]);
    mem_free(t->owned);
    mem_free(t);
}

static int custom_column(struct column *d, const char *name, const char *type,
                         const char *format, const char *desc, int priority,
                         const char *path)
{
    d->name = dup_or_empty(name);
    d->type = dup_or_empty(type);
    d->format = dup_or_empty(format);
    d->description = dup_or_empty(desc);
    d->path = dup_or_empty(path);
    d->priority = priority;
    d->is_name = strcmp(d->format, "name") == 0;
    return d->name && d->type && d->format && d->description && d->path
               ? 0
               : -ENOMEM;
}

int obj_table_custom_new(const struct obj_table_column *cols, size_t n,
                         struct obj_table **ret)
{
    struct obj_table *t = mem_calloc(1, sizeof *t);
    size_t want = 1 + (n > 0 ? n : 1);
    int rv = 0;

    *ret = NULL;
    if (t == NULL || (t->owned = mem_calloc(want, sizeof *t->owned)) == NULL) {
        mem_free(t);
        return -ENOMEM;
    }
    t->group = t->kind = "";
    t->cols = t->owned;
    t->n = want;
    rv = custom_column(&t->owned[0], "Name", "string", "name",
                       "The object's name, unique in its namespace.", 0,
                       ".metadata.name");
    for (size_t i = 0; i < n && rv == 0; i++)
        rv = custom_column(&t->owned[i + 1], cols[i].name, cols[i].type,
                           cols[i].format, cols[i].description,
                           cols[i].priority, cols[i].json_path);
    if (n == 0 && rv == 0)
        rv = custom_column(&t->owned[1], "Age", "date", "",
                           "How long ago the object was created.", 0,
                           ".metadata.creationTimestamp");
    if (rv != 0) {
        obj_table_custom_free(t);
        return rv;
    }
    *ret = t;
    return 0;
}

struct obj *obj_table_columns(const struct obj_table *t)
{
    struct obj *cols = obj_array_new();
    int rv = cols == NULL;

    for (size_t i = 0; i < t->n && rv == 0; i++) {
        const struct column *col = &t->cols[i];
        struct obj *d = obj_map_new();

        rv = d == NULL;
        rv = rv || set_new(d, "name", obj_str_new_c(col->name));
        rv = rv || set_new(d, "type", obj_str_new_c(col->type));
        rv = rv || set_new(d, "format",
                           obj_str_new_c(col->format != NULL ? col->format
                                         : col->is_name  ? "name"
                                                         : ""));
        rv = rv || set_new(d, "description", obj_str_new_c(col->description));
        rv = rv || set_new(d, "priority", obj_int_new(col->priority));
        rv = rv || obj_array_append(cols, d);
        if (rv != 0)
            obj_unref(d);
    }
    if (rv != 0)
        return obj_unref(cols);
    return cols;
}

struct obj *obj_table_cells(const struct obj_table *t, const struct obj *o,
                            int64_t now)
{
    struct obj *cells = obj_array_new();
    int rv = cells == NULL;

    for (size_t i = 0; i < t->n && rv == 0; i++) {
        struct cell c = {.s = ""};
        struct obj *v;
        size_t bad;

        if (t->cols[i].cell != NULL)
            t->cols[i].cell(o, now, &c);
        else
            path_cell(&t->cols[i], o, now, &c);
        /* A value cut to fit may end inside a character: cut before it. */
        if (!obj_utf8_check(c.s, strlen(c.s), &bad))
            c.s[bad] = '\0';
        v = c.is_int && c.s[0] == '\0' ? obj_int_new(c.i) : obj_str_new_c(c.s);
        if (v == NULL || obj_array_append(cells, v) != 0) {
            obj_unref(v);
            rv = -1;
        }
    }
    if (rv != 0)
        return obj_unref(cells);
    return cells;
}
