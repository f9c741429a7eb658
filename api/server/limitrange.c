/* LimitRanger admission: the LimitRanges of a namespace default and bound
 * the resources of the Pods created in it, as kube-apiserver's LimitRanger
 * plugin does.
 *
 * For every item of type Container, each container (init containers too)
 * without a limit gets the item's default, and without a request its
 * defaultRequest, else its (possibly just defaulted) limit. Then every
 * item is enforced: per Container, requests and limits at least min and at
 * most max (a max needs a limit, a min a request) and limit/request at
 * most maxLimitRequestRatio; per Pod, the same on the containers' sums.
 * A violation is 403 with kube-apiserver's wording. The LimitRanges are
 * this member's copy when the create's write is prepared. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/obj.h"
#include "api/object/registry.h"
#include "api/server/internal.h"
#include "api/server/objects.h"
#include "raft/repl.h"
#include "store/store.h"

#define MAX_PROBLEMS 16

/* ---- quantities ----------------------------------------------------------*/

/* The value of a Kubernetes quantity ("100m", "1.5Gi", "2", "1e3"), or
 * false when @s is not one. long double holds every quantity a resource
 * list sensibly holds exactly enough to compare. */
bool srv__quantity_value(const char *s, long double *out)
{
    static const struct {
        const char *suffix;
        long double scale;
    } suffixes[] = {
        {"Ki", 1024.0L},       {"Mi", 1048576.0L},        {"Gi", 1073741824.0L},
        {"Ti", 1099511627776.0L}, {"Pi", 1125899906842624.0L},
        {"Ei", 1152921504606846976.0L}, {"m", 1e-3L}, {"k", 1e3L},
        {"M", 1e6L}, {"G", 1e9L}, {"T", 1e12L}, {"P", 1e15L}, {"E", 1e18L},
        {"", 1.0L},
    };
    const char *p = s;
    char *end;
    long double v;

    if (s == NULL || *p == '\0' || *p == '-' || *p == '+')
        return false;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++)
        ;
    if (p == s)
        return false;
    v = strtold(s, &end);
    if (end != p)
        return false;
    if ((*p == 'e' || *p == 'E') && p[1] != '\0' && p[1] != 'i') {
        char *e2;
        long x = strtol(p + 1, &e2, 10);
        if (*e2 != '\0' || e2 == p + 1 || x > 30 || x < -30)
            return false;
        for (; x > 0; x--)
            v *= 10;
        for (; x < 0; x++)
            v /= 10;
        *out = v;
        return true;
    }
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (strcmp(p, suffixes[i].suffix) == 0) {
            *out = v * suffixes[i].scale;
            return true;
        }
    return false;
}

/* ---- defaults -------------------------------------------------------------*/

/* The map @key of @m, created if missing; NULL when out of memory or when
 * something else is there. */
static struct obj *map_at(struct obj *m, const char *key)
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

/* Copy every entry of @from missing in @to. */
static int fill_missing(struct obj *to, const struct obj *from)
{
    for (size_t i = 0; i < obj_map_len(from); i++) {
        size_t klen = 0;
        const char *k = obj_map_key(from, i, &klen);
        struct obj *v = obj_map_getn(from, k, klen);
        if (obj_map_getn(to, k, klen) != NULL)
            continue;
        if (obj_map_setn(to, k, klen, obj_ref(v)) != 0) {
            obj_unref(v);
            return -ENOMEM;
        }
    }
    return 0;
}

static int default_container(struct obj *c, const struct obj *item)
{
    const struct obj *def = obj_map_get(item, "default");
    const struct obj *def_req = obj_map_get(item, "defaultRequest");
    struct obj *res, *limits, *requests;

    if (obj_map_len(def) == 0 && obj_map_len(def_req) == 0)
        return 0;
    if ((res = map_at(c, "resources")) == NULL ||
        (limits = map_at(res, "limits")) == NULL ||
        (requests = map_at(res, "requests")) == NULL)
        return -ENOMEM;
    if (fill_missing(limits, def) != 0 || fill_missing(requests, def_req) != 0 ||
        fill_missing(requests, limits) != 0)
        return -ENOMEM;
    return 0;
}

static int apply_defaults(struct obj *spec, const struct obj *item)
{
    static const char *const lists[] = {"initContainers", "containers"};

    for (size_t l = 0; l < 2; l++) {
        struct obj *cs = obj_map_get_mut(spec, lists[l]);
        for (size_t i = 0; i < obj_array_len(cs); i++) {
            struct obj *c = obj_array_get_mut(cs, i);
            if (c != NULL && obj_type(c) == OBJ_MAP &&
                default_container(c, item) != 0)
                return -ENOMEM;
        }
    }
    return 0;
}

/* ---- enforcement -----------------------------------------------------------*/

struct problems {
    char text[MAX_PROBLEMS][256];
    size_t n;
};

static void problem(struct problems *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct problems *p, const char *fmt, ...)
{
    va_list ap;

    if (p->n == MAX_PROBLEMS)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(p->text[p->n++], sizeof p->text[0], fmt, ap);
    va_end(ap);
}

/* The value of resource @name in a resource list, and its text. */
static bool value_of(const struct obj *list, const char *name,
                     long double *v, const char **text)
{
    const struct obj *q = obj_map_get(list, name);

    *text = obj_str_or(q, NULL);
    return *text != NULL && srv__quantity_value(*text, v);
}

/* Check one pair of resource lists (requests, limits) against @item, for
 * @scope ("Container", or "Pod" with the containers' sums). */
static void check_bounds(const struct obj *item, const char *scope,
                         const struct obj *requests, const struct obj *limits,
                         struct problems *p)
{
    const struct obj *min = obj_map_get(item, "min");
    const struct obj *max = obj_map_get(item, "max");
    const struct obj *ratio = obj_map_get(item, "maxLimitRequestRatio");
    long double bound, req, lim;
    const char *btext, *rtext, *ltext;

    for (size_t i = 0; i < obj_map_len(min); i++) {
        size_t kl = 0;
        const char *r = obj_map_key(min, i, &kl);
        if (!value_of(min, r, &bound, &btext))
            continue;
        /* One problem per bound, the first found, as kube-apiserver. */
        if (!value_of(requests, r, &req, &rtext))
            problem(p, "minimum %s usage per %s is %s.  No request is "
                       "specified", r, scope, btext);
        else if (req < bound)
            problem(p, "minimum %s usage per %s is %s, but request is %s", r,
                    scope, btext, rtext);
        else if (value_of(limits, r, &lim, &ltext) && lim < bound)
            problem(p, "minimum %s usage per %s is %s, but limit is %s", r,
                    scope, btext, ltext);
    }
    for (size_t i = 0; i < obj_map_len(max); i++) {
        size_t kl = 0;
        const char *r = obj_map_key(max, i, &kl);
        if (!value_of(max, r, &bound, &btext))
            continue;
        if (!value_of(limits, r, &lim, &ltext))
            problem(p, "maximum %s usage per %s is %s.  No limit is "
                       "specified", r, scope, btext);
        else if (lim > bound)
            problem(p, "maximum %s usage per %s is %s, but limit is %s", r,
                    scope, btext, ltext);
        else if (value_of(requests, r, &req, &rtext) && req > bound)
            problem(p, "maximum %s usage per %s is %s, but request is %s", r,
                    scope, btext, rtext);
    }
    for (size_t i = 0; i < obj_map_len(ratio); i++) {
        size_t kl = 0;
        const char *r = obj_map_key(ratio, i, &kl);
        if (!value_of(ratio, r, &bound, &btext) ||
            !value_of(limits, r, &lim, &ltext))
            continue;
        if (!value_of(requests, r, &req, &rtext) || req <= 0)
            problem(p, "%s max limit to request ratio per %s is %s, but no "
                       "request is specified or request is 0", r, scope, btext);
        else if (lim / req > bound)
            problem(p, "%s max limit to request ratio per %s is %s, but "
                       "provided ratio is %Lf", r, scope, btext, lim / req);
    }
}

/* The sums of the containers' requests and limits, as quantity strings in
 * two new maps (for the Pod-scoped check). */
static int pod_sums(const struct obj *spec, struct obj **requests,
                    struct obj **limits)
{
    const struct obj *cs = obj_map_get(spec, "containers");
    struct obj *sums[2] = {obj_map_new(), obj_map_new()};
    static const char *const which[2] = {"requests", "limits"};
    char text[64];

    if (sums[0] == NULL || sums[1] == NULL)
        goto fail;
    for (int w = 0; w < 2; w++) {
        /* the names first, then each one's total */
        for (size_t i = 0; i < obj_array_len(cs); i++) {
            const struct obj *l =
                obj_get_path(obj_array_get(cs, i), "resources");
            l = obj_map_get(l, which[w]);
            for (size_t k = 0; k < obj_map_len(l); k++) {
                size_t kl = 0;
                const char *name = obj_map_key(l, k, &kl);
                long double total = 0, v;
                bool all = true;
                if (obj_map_getn(sums[w], name, kl) != NULL)
                    continue;
                for (size_t j = 0; j < obj_array_len(cs); j++) {
                    const struct obj *lj = obj_map_get(
                        obj_get_path(obj_array_get(cs, j), "resources"),
                        which[w]);
                    const struct obj *q = obj_map_getn(lj, name, kl);
                    if (q == NULL)
                        all = false;
                    else if (srv__quantity_value(obj_str_or(q, ""), &v))
                        total += v;
                }
                if (w == 1 && !all)
                    continue; /* a limit missing somewhere: no pod limit */
                (void)snprintf(text, sizeof text, "%.6Lg", total);
                struct obj *t = obj_str_new_c(text);
                if (t == NULL || obj_map_setn(sums[w], name, kl, t) != 0) {
                    obj_unref(t);
                    goto fail;
                }
            }
        }
    }
    *requests = sums[0];
    *limits = sums[1];
    return 0;
fail:
    obj_unref(sums[0]);
    obj_unref(sums[1]);
    return -ENOMEM;
}

static int enforce(const struct obj *spec, const struct obj *item,
                   struct problems *p)
{
    const char *type = obj_str_or(obj_map_get(item, "type"), "");
    static const char *const lists[] = {"initContainers", "containers"};
    struct obj *req = NULL, *lim = NULL;

    if (strcmp(type, "Container") == 0) {
        for (size_t l = 0; l < 2; l++) {
            const struct obj *cs = obj_map_get(spec, lists[l]);
            for (size_t i = 0; i < obj_array_len(cs); i++) {
                const struct obj *r =
                    obj_map_get(obj_array_get(cs, i), "resources");
                check_bounds(item, "Container", obj_map_get(r, "requests"),
                             obj_map_get(r, "limits"), p);
            }
        }
    } else if (strcmp(type, "Pod") == 0) {
        if (pod_sums(spec, &req, &lim) != 0)
            return -ENOMEM;
        check_bounds(item, "Pod", req, lim, p);
        obj_unref(req);
        obj_unref(lim);
    }
    return 0;
}

/* ---- admission -------------------------------------------------------------*/

static void refuse(struct srv_call *c, const struct problems *p)
{
    char msg[MAX_PROBLEMS * 260 + 8];
    size_t n = 0;

    for (size_t i = 0; i < p->n && n < sizeof msg; i++)
        n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s",
                              i > 0 ? ", " : "", p->text[i]);
    if (p->n > 1)
        srv__respond_bad(c->req, 403, "Forbidden",
                         "pods \"%s\" is forbidden: [%s]", c->name, msg);
    else
        srv__respond_bad(c->req, 403, "Forbidden",
                         "pods \"%s\" is forbidden: %s", c->name, msg);
}

int srv__limit_ranger(struct srv_call *c, struct obj *pod)
{
    const struct obj_resource *res =
        obj_registry_find(c->api->reg, "", "v1", "limitranges");
    struct store_range q = {.resource = "limitranges", .ns = c->ns};
    struct store_list l = {0};
    struct obj *spec;
    struct problems p = {.n = 0};
    int rv = 0;

    if (strcmp(c->res->resource, "pods") != 0 || c->res->group[0] != '\0' ||
        res == NULL || (spec = obj_map_get_mut(pod, "spec")) == NULL ||
        obj_type(spec) != OBJ_MAP)
        return 0;
    if (store_list(repl_store(c->api->repl), &q, &l) != 0 || l.len == 0) {
        store_list_done(&l);
        return 0;
    }
    /* Defaults from every Container item first, then every bound. */
    for (int pass = 0; pass < 2 && rv == 0; pass++)
        for (size_t i = 0; i < l.len && rv == 0; i++) {
            struct obj *lr = srv__obj_load(c->api, res, l.items[i],
                                           l.items[i]->mod_rev);
            const struct obj *items = obj_get_path(lr, "spec.limits");
            for (size_t k = 0; k < obj_array_len(items) && rv == 0; k++) {
                const struct obj *item = obj_array_get(items, k);
                if (pass == 0 &&
                    strcmp(obj_str_or(obj_map_get(item, "type"), ""),
                           "Container") == 0)
                    rv = apply_defaults(spec, item);
                else if (pass == 1)
                    rv = enforce(spec, item, &p);
            }
            obj_unref(lr);
        }
    store_list_done(&l);
    if (rv == 0 && p.n > 0) {
        refuse(c, &p);
        return -EACCES;
    }
    if (rv == 0)
        rv = srv__pod_qos_update(pod);
    if (rv != 0)
        srv__respond_code(c->req, c->res, c->name, rv);
    return rv;
}
