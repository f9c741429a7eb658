/* Service ClusterIPs and NodePorts, allocated in the replicated store.
 *
 * Each allocated IP or port is a store key ("~clusterip"/IP, "~nodeport"/
 * PORT) created in the same txn as the Service and deleted with it. Two
 * members choosing the same value concurrently cannot both win: the second
 * CREATE fails with EXISTS and that member chooses again. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api/server/objects.h"
#include "lib/mem.h"

/* The default Service range of kube-apiserver, and its NodePort range. */
#define NODEPORT_MIN 30000
#define NODEPORT_MAX 32767
#define PICK_TRIES 64

static uint32_t rnd32(void)
{
    uint32_t v;

    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = (uint32_t)rand();
    return v;
}

static bool taken(struct srv_call *c, const char *resource, const char *name)
{
    const struct store_kv *kv = NULL;
    bool t = store_get(repl_store(c->api->repl), resource, "", name, 0, &kv) == 0;

    store_kv_unref(kv);
    for (size_t i = 0; i < c->n_allocs && !t; i++)
        t = strcmp(c->allocs[i].resource, resource) == 0 &&
            strcmp(c->allocs[i].name, name) == 0;
    return t;
}

/* A random IP of the range, not the network or broadcast address and not
 * the first one (the kubernetes Service's), not known to be taken. */
static int pick_ip(struct srv_call *c, char *out, size_t size)
{
    uint32_t span = 1u << (32 - c->api->svc_bits);

    for (int i = 0; i < PICK_TRIES; i++) {
        uint32_t host = 2 + rnd32() % (span - 3);
        struct in_addr a = {.s_addr = htonl(c->api->svc_net + host)};
        (void)inet_ntop(AF_INET, &a, out, (socklen_t)size);
        if (!taken(c, "~clusterip", out))
            return 0;
    }
    return -ENOSPC;
}

static int pick_port(struct srv_call *c, char *out, size_t size)
{
    for (int i = 0; i < PICK_TRIES; i++) {
        int port = NODEPORT_MIN +
                   (int)(rnd32() % (NODEPORT_MAX - NODEPORT_MIN + 1));
        (void)snprintf(out, size, "%d", port);
        if (!taken(c, "~nodeport", out))
            return 0;
    }
    return -ENOSPC;
}

static bool ip_in_range(const struct srv_api *api, const char *ip)
{
    struct in_addr a;
    unsigned shift = 32 - api->svc_bits;

    if (inet_pton(AF_INET, ip, &a) != 1)
        return false;
    return (ntohl(a.s_addr) >> shift) == (api->svc_net >> shift);
}

static struct srv_alloc *add(struct srv_call *c, const char *resource,
                             const char *name, bool automatic, int port_index)
{
    struct srv_alloc *a;

    if (c->n_allocs == SRV_MAX_EXTRA)
        return NULL;
    a = &c->allocs[c->n_allocs++];
    (void)snprintf(a->resource, sizeof a->resource, "%s", resource);
    (void)snprintf(a->name, sizeof a->name, "%s", name);
    a->automatic = automatic;
    a->port_index = port_index;
    return a;
}

static void invalid(struct srv_call *c, const char *field, const char *value,
                    const char *why)
{
    srv__respond_bad(c->req, 422, "Invalid",
                     "Service \"%s\" is invalid: %s: Invalid value: \"%s\": %s",
                     c->name, field, value, why);
}

/* Write the chosen IP into spec.clusterIP and spec.clusterIPs. */
static int set_ip(struct obj *spec, const char *ip)
{
    struct obj *ips = obj_array_new();

    if (obj_array_append(ips, obj_str_new_c(ip)) != 0) {
        obj_unref(ips);
        return -ENOMEM;
    }
    if (srv__set_str(spec, "clusterIP", ip) != 0 ||
        obj_map_set(spec, "clusterIPs", ips) != 0)
        return -ENOMEM;
    return 0;
}

static int alloc_ip(struct srv_call *c, struct obj *spec)
{
    const char *want = obj_str_or(obj_map_get(spec, "clusterIP"), "");
    char ip[48];

    if (strcmp(want, "None") == 0)
        return 0; /* headless */
    if (want[0] != '\0') {
        if (!ip_in_range(c->api, want)) {
            char why[160];
            (void)snprintf(why, sizeof why,
                           "provided IP is not in the valid range. The range "
                           "of valid IPs is %s",
                           c->api->svc_cidr);
            invalid(c, "spec.clusterIPs", want, why);
            return -EINVAL;
        }
        /* Whether it is free is decided by the txn on the leader: this
         * member's own state may lag behind a delete made elsewhere. */
        return add(c, "~clusterip", want, false, -1) ? set_ip(spec, want)
                                                     : -ENOMEM;
    }
    if (pick_ip(c, ip, sizeof ip) != 0) {
        srv__respond_bad(c->req, 500, "InternalError",
                         "no ClusterIP is free in %s", c->api->svc_cidr);
        return -ENOSPC;
    }
    return add(c, "~clusterip", ip, true, -1) ? set_ip(spec, ip) : -ENOMEM;
}

static int alloc_ports(struct srv_call *c, struct obj *spec)
{
    struct obj *ports = obj_map_get_mut(spec, "ports");
    char port[16];

    for (size_t i = 0; ports != NULL && i < obj_array_len(ports); i++) {
        struct obj *p = obj_array_get_mut(ports, i);
        int64_t want = obj_int_or(obj_map_get(p, "nodePort"), 0);
        bool automatic = want == 0;
        if (p == NULL || obj_type(p) != OBJ_MAP)
            continue;
        if (!automatic) {
            (void)snprintf(port, sizeof port, "%lld", (long long)want);
            if (want < NODEPORT_MIN || want > NODEPORT_MAX) {
                invalid(c, "spec.ports[].nodePort", port,
                        "provided port is not in the valid range. The range "
                        "of valid ports is 30000-32767");
                return -EINVAL;
            }
        } else if (pick_port(c, port, sizeof port) != 0) {
            srv__respond_bad(c->req, 500, "InternalError",
                             "no NodePort is free in 30000-32767");
            return -ENOSPC;
        }
        if (add(c, "~nodeport", port, automatic, (int)i) == NULL ||
            obj_map_set(p, "nodePort", obj_int_new(atoll(port))) != 0)
            return -ENOMEM;
    }
    return 0;
}

int srv__alloc_create(struct srv_call *c)
{
    struct obj *spec;
    const char *type;
    int rv;

    c->n_allocs = 0;
    if (strcmp(c->res->resource, "services") != 0 || c->res->group[0] != '\0')
        return 0;
    (void)snprintf(c->owner, sizeof c->owner, "%s/%s", c->ns, c->name);
    if (obj_map_get(c->obj, "spec") == NULL &&
        obj_map_set(c->obj, "spec", obj_map_new()) != 0)
        return -ENOMEM;
    spec = obj_map_get_mut(c->obj, "spec");
    if (spec == NULL)
        return -ENOMEM;
    /* The Service's schema has defaulted type and sessionAffinity. */
    type = obj_str_or(obj_map_get(spec, "type"), "ClusterIP");
    if (strcmp(type, "ExternalName") == 0)
        return 0;
    if ((rv = alloc_ip(c, spec)) != 0)
        return rv;
    if (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0)
        return alloc_ports(c, spec);
    return 0;
}

void srv__alloc_release(struct srv_call *c, const struct obj *cur)
{
    const struct obj *spec = obj_map_get(cur, "spec");
    const struct obj *ports = obj_map_get(spec, "ports");
    const char *ip = obj_str_or(obj_map_get(spec, "clusterIP"), "");
    char port[16];

    c->n_allocs = 0;
    if (strcmp(c->res->resource, "services") != 0 || c->res->group[0] != '\0')
        return;
    /* Released in the delete's txn; one the store does not hold (an object
     * older than allocation) is dropped and the delete retried. */
    if (ip[0] != '\0' && strcmp(ip, "None") != 0)
        (void)add(c, "~clusterip", ip, false, -1);
    for (size_t i = 0; i < obj_array_len(ports); i++) {
        int64_t p = obj_int_or(obj_map_get(obj_array_get(ports, i), "nodePort"),
                               0);
        (void)snprintf(port, sizeof port, "%lld", (long long)p);
        if (p != 0)
            (void)add(c, "~nodeport", port, false, (int)i);
    }
}

void srv__alloc_drop(struct srv_call *c, size_t i)
{
    memmove(&c->allocs[i], &c->allocs[i + 1],
            (c->n_allocs - i - 1) * sizeof c->allocs[0]);
    c->n_allocs--;
}

bool srv__alloc_retry(struct srv_call *c, size_t i)
{
    struct srv_alloc *a = &c->allocs[i];
    struct obj *spec = obj_map_get_mut(c->obj, "spec");
    char fresh[48];

    if (!a->automatic || spec == NULL)
        return false;
    if (strcmp(a->resource, "~clusterip") == 0) {
        if (pick_ip(c, fresh, sizeof fresh) != 0 || set_ip(spec, fresh) != 0)
            return false;
    } else {
        struct obj *p = obj_array_get_mut(obj_map_get_mut(spec, "ports"),
                                          (size_t)a->port_index);
        if (p == NULL || pick_port(c, fresh, sizeof fresh) != 0 ||
            obj_map_set(p, "nodePort", obj_int_new(atoll(fresh))) != 0)
            return false;
    }
    (void)snprintf(a->name, sizeof a->name, "%s", fresh);
    return true;
}
