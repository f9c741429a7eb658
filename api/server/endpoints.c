/* The kubernetes Endpoints follow the members that serve, with leases, as
 * kube-apiserver's lease endpoint reconciler does: every member renews
 * its own coordination.k8s.io Lease in kube-system (c8s-apiserver-HOST-
 * PORT) every third of --endpoint-lease-seconds, then sets the Endpoints
 * to the members whose lease has not expired. A member that stops (or is
 * removed) drops out within one lease duration; one that comes back is
 * listed again at its next renewal. Writes are compare-and-set: members
 * racing each other just try at their next round. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/server/objects.h"
#include "lib/container.h"
#include "lib/log.h"

#define LEASE_PREFIX "c8s-apiserver-"
#define LEASES "coordination.k8s.io/leases"

static unsigned lease_seconds(const struct srv_api *api)
{
    return api->cfg.endpoint_lease_s ? api->cfg.endpoint_lease_s : 15;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* RFC 3339 with optional fraction, UTC ("Z"), as seconds; -1 if bad. */
static double parse_time(const char *s)
{
    struct tm tm = {0};
    double frac = 0;
    int n = 0;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    if (s[n] == '.')
        frac = strtod(s + n, NULL);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm) + frac;
}

/* ---- this member's lease
 * ---------------------------------------------------*/

static void lease_name(const struct srv_api *api, char *out, size_t size)
{
    (void)snprintf(out, size, LEASE_PREFIX "%s-%d", api->host,
                   srv_api_port(api));
}

static struct obj *lease_object(struct srv_api *api, const char *name)
{
    char holder[300], now[64], micro[24];
    struct timespec ts;
    struct tm tm;
    struct obj *o = obj_map_new(), *meta = obj_map_new();
    struct obj *spec = obj_map_new(), *labels = obj_map_new();
    int rv = o == NULL || meta == NULL || spec == NULL || labels == NULL;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(micro, sizeof micro, ".%06ldZ", ts.tv_nsec / 1000);
    strcat(now, micro);
    (void)snprintf(holder, sizeof holder, "%s:%d", api->host,
                   srv_api_port(api));
    rv |= srv__set_str(o, "apiVersion", "coordination.k8s.io/v1");
    rv |= srv__set_str(o, "kind", "Lease");
    rv |= srv__set_str(meta, "name", name);
    rv |= srv__set_str(meta, "namespace", "kube-system");
    rv |= srv__set_str(labels, "c8s.io/component", "apiserver-endpoint");
    rv |= obj_map_set(meta, "labels", labels);
    labels = NULL;
    rv |= obj_map_set(o, "metadata", meta);
    meta = NULL;
    rv |= srv__set_str(spec, "holderIdentity", holder);
    rv |= obj_map_set(spec, "leaseDurationSeconds",
                      obj_int_new(lease_seconds(api)));
    rv |= srv__set_str(spec, "renewTime", now);
    rv |= obj_map_set(o, "spec", spec);
    spec = NULL;
    obj_unref(labels);
    obj_unref(meta);
    obj_unref(spec);
    return rv == 0 ? o : obj_unref(o);
}

/* ---- the Endpoints from the live leases
 * --------------------------------------*/

/* {addresses: [{ip}], ports: [{name: https, port, protocol: TCP}]} */
static struct obj *subset(const char *ip, int64_t port)
{
    struct obj *s = obj_map_new(), *addrs = obj_array_new();
    struct obj *ports = obj_array_new(), *a = obj_map_new();
    struct obj *p = obj_map_new();
    int rv =
        s == NULL || addrs == NULL || ports == NULL || a == NULL || p == NULL;

    rv |= srv__set_str(a, "ip", ip);
    rv |= obj_array_append(addrs, a);
    rv |= srv__set_str(p, "name", "https");
    rv |= obj_map_set(p, "port", obj_int_new(port));
    rv |= srv__set_str(p, "protocol", "TCP");
    rv |= obj_array_append(ports, p);
    rv |= obj_map_set(s, "addresses", addrs);
    rv |= obj_map_set(s, "ports", ports);
    return rv == 0 ? s : obj_unref(s);
}

/* One subset per member whose lease is live, in lease-name order (the
 * store lists keys sorted, so every member computes the same array). */
static struct obj *live_subsets(struct srv_api *api, size_t *ret_n)
{
    struct store_range q = {.resource = LEASES, .ns = "kube-system"};
    struct store_list page = {0};
    struct obj *subsets = obj_array_new();
    double now = now_s();

    *ret_n = 0;
    if (subsets == NULL || store_list(repl_store(api->repl), &q, &page) != 0)
        return obj_unref(subsets);
    for (size_t i = 0; i < page.len; i++) {
        const struct store_kv *kv = page.items[i];
        struct obj *l = NULL;
        if (strncmp(kv->name, LEASE_PREFIX, strlen(LEASE_PREFIX)) != 0 ||
            obj_msgpack_decode(kv->value->data, kv->value->len, NULL, &l,
                               NULL) != 0)
            continue;
        const char *holder = srv__str(l, "spec.holderIdentity");
        const char *colon = strrchr(holder, ':');
        double renew = parse_time(srv__str(l, "spec.renewTime"));
        int64_t dur =
            obj_int_or(obj_get_path(l, "spec.leaseDurationSeconds"), 0);
        if (colon != NULL && renew > 0 && renew + (double)dur > now) {
            char ip[256];
            (void)snprintf(ip, sizeof ip, "%.*s", (int)(colon - holder),
                           holder);
            if (obj_array_append(subsets, subset(ip, atoll(colon + 1))) == 0)
                (*ret_n)++;
        }
        obj_unref(l);
    }
    store_list_done(&page);
    return subsets;
}

static void round_done(struct srv_api *api)
{
    api->ep_busy = false;
    if (api->closing)
        srv__work_done(api);
}

static void endpoints_written(struct repl_req *req,
                              const struct repl_result *res)
{
    struct srv_api *api = req->data;

    api->repl_busy--;
    if (res->code == 0)
        log_info("api", "the kubernetes Endpoints list %u member%s",
                 api->ep_listed, api->ep_listed == 1 ? "" : "s");
    round_done(api);
}

/* Set the Endpoints to the live members, if they differ. */
static void reconcile(struct srv_api *api)
{
    const struct store_kv *kv = NULL;
    struct obj *ep = NULL, *want;
    struct obj_buf b;
    struct store_op op = {
        .resource = "endpoints", .ns = "default", .name = "kubernetes"};
    size_t n;

    want = live_subsets(api, &n);
    if (want != NULL && store_get(repl_store(api->repl), "endpoints", "default",
                                  "kubernetes", 0, &kv) != 0)
        ep = srv__builtin_object("Endpoints"); /* the first: create it */
    else if (want != NULL && obj_msgpack_decode(kv->value->data, kv->value->len,
                                                NULL, &ep, NULL) != 0)
        ep = NULL;
    if (want == NULL || ep == NULL ||
        obj_equal(obj_map_get(ep, "subsets"), want) ||
        obj_map_set(ep, "subsets", obj_ref(want)) != 0) {
        obj_unref(want);
        obj_unref(ep);
        store_kv_unref(kv);
        round_done(api);
        return;
    }
    obj_buf_init(&b);
    if (obj_msgpack_encode(ep, &b, NULL) == 0) {
        op.type = kv != NULL ? STORE_OP_UPDATE : STORE_OP_CREATE;
        op.expect_rev = kv != NULL ? kv->mod_rev : 0;
        op.value = b.data;
        op.value_len = b.len;
        api->ep_listed = (unsigned)n;
        api->ep_req.data = api;
        api->ep_req.cb = endpoints_written;
        if (repl_submit(api->repl, &api->ep_req, &op, 1) == 0) {
            api->repl_busy++;
            obj_buf_done(&b);
            obj_unref(want);
            obj_unref(ep);
            store_kv_unref(kv);
            return;
        }
    }
    obj_buf_done(&b);
    obj_unref(want);
    obj_unref(ep);
    store_kv_unref(kv);
    round_done(api);
}

static void lease_written(struct repl_req *req, const struct repl_result *res)
{
    struct srv_api *api = req->data;

    api->repl_busy--;
    if (api->closing) {
        round_done(api);
        return;
    }
    if (res->code != 0) /* raced, or no leader: next round */
        round_done(api);
    else
        reconcile(api);
}

/* A lease keeps the uid and creation time it was created with (a new one
 * gets them now), as every object does. */
static int keep_identity(struct obj *lease, const struct store_kv *kv)
{
    struct obj *meta = obj_map_get_mut(lease, "metadata"), *old = NULL;
    char uid[37], ts[32];
    int rv = meta == NULL;

    if (kv != NULL && kv->value != NULL &&
        obj_msgpack_decode(kv->value->data, kv->value->len, NULL, &old,
                           NULL) == 0) {
        (void)snprintf(uid, sizeof uid, "%s",
                       obj_str_or(obj_get_path(old, "metadata.uid"), ""));
        (void)snprintf(ts, sizeof ts, "%s",
                       obj_str_or(obj_get_path(old,
                                               "metadata.creationTimestamp"),
                                  ""));
        obj_unref(old);
    } else {
        uid[0] = ts[0] = '\0';
    }
    if (uid[0] == '\0')
        srv__uuid(uid);
    if (ts[0] == '\0')
        srv__timestamp(ts);
    rv = rv || srv__set_str(meta, "uid", uid) ||
         srv__set_str(meta, "creationTimestamp", ts);
    return rv;
}

/* At a read point: renew (or create) this member's lease. */
static void renew(struct repl_req *req, const struct repl_result *res)
{
    struct srv_api *api = req->data;
    const struct store_kv *kv = NULL;
    char name[300];
    struct obj *lease;
    struct obj_buf b;
    struct store_op op = {.resource = LEASES, .ns = "kube-system"};

    api->repl_busy--;
    if (api->closing || res->code != 0) {
        round_done(api);
        return;
    }
    lease_name(api, name, sizeof name);
    op.name = name;
    (void)store_get(repl_store(api->repl), LEASES, "kube-system", name, 0, &kv);
    lease = lease_object(api, name);
    if (lease != NULL && keep_identity(lease, kv) != 0)
        lease = obj_unref(lease);
    obj_buf_init(&b);
    if (lease != NULL && obj_msgpack_encode(lease, &b, NULL) == 0) {
        op.type = kv != NULL ? STORE_OP_UPDATE : STORE_OP_CREATE;
        op.expect_rev = kv != NULL ? kv->mod_rev : 0;
        op.value = b.data;
        op.value_len = b.len;
        api->ep_req.data = api;
        api->ep_req.cb = lease_written;
        if (repl_submit(api->repl, &api->ep_req, &op, 1) == 0) {
            api->repl_busy++;
            store_kv_unref(kv);
            obj_buf_done(&b);
            obj_unref(lease);
            return;
        }
    }
    store_kv_unref(kv);
    obj_buf_done(&b);
    obj_unref(lease);
    round_done(api);
}

static void on_tick(uv_timer_t *t)
{
    struct srv_api *api = container_of(t, struct srv_api, ep_timer);

    if (api->closing || api->ep_busy)
        return;
    api->ep_busy = true;
    api->ep_req.data = api;
    api->ep_req.cb = renew;
    if (repl_read_index(api->repl, &api->ep_req) == 0)
        api->repl_busy++;
    else
        api->ep_busy = false;
}

void srv__endpoints_start(struct srv_api *api)
{
    uint64_t every = (uint64_t)lease_seconds(api) * 1000 / 3;

    if (api->ep_timer_open || api->closing)
        return;
    uv_timer_init(api->loop, &api->ep_timer);
    api->ep_timer_open = true;
    uv_timer_start(&api->ep_timer, on_tick, 0, every ? every : 1);
}
