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
 * A violation is 403 with kube-apiserver's wording. Quantities are
 * compared exactly (srv_qty). The LimitRanges are this member's copy when
 * the create's write is prepared. */
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
#define MAX_RESOURCES 16
#define NANO 1000000000LL

/* ---- defaults -------------------------------------------------------------*/

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
    if ((res = srv__map_at(c, "resources")) == NULL ||
        (limits = srv__map_at(res, "limits")) == NULL ||
        (requests = srv__map_at(res, "requests")) == NULL)
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

/* A resource list as numbers: a container's requests or limits, or a
 * pod's totals. */
struct amounts {
    struct {
        char name[64];
        srv_qty v;
        char text[64]; /* as written, or "" for a total (formatted) */
    } e[MAX_RESOURCES];
    size_t n;
};

static bool amount(const struct amounts *a, const char *name, srv_qty *v)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->e[i].name, name) == 0) {
            *v = a->e[i].v;
            return true;
        }
    return false;
}

/* @name's amount as kube-apiserver prints it: as written when it was
 * written, else in canonical form. */
static const char *text_of(const struct amounts *a, const char *name,
                           char buf[64])
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->e[i].name, name) == 0) {
            if (a->e[i].text[0] != '\0')
                return a->e[i].text;
            srv_qty_format(a->e[i].v, buf, 64);
            return buf;
        }
    return "";
}

/* Add @v to @name's entry (created at 0). */
static void add_amount(struct amounts *a, const char *name, srv_qty v,
                       bool keep_max)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->e[i].name, name) == 0) {
            if (keep_max)
                a->e[i].v = v > a->e[i].v ? v : a->e[i].v;
            else
                a->e[i].v += v;
            a->e[i].text[0] = '\0'; /* a total now */
            return;
        }
    if (a->n < MAX_RESOURCES && strlen(name) < sizeof a->e[0].name) {
        (void)snprintf(a->e[a->n].name, sizeof a->e[0].name, "%s", name);
        a->e[a->n].text[0] = '\0';
        a->e[a->n++].v = v;
    }
}

/* Parse a resource list (quantities were checked by the schema). */
static void amounts_of(const struct obj *list, struct amounts *a)
{
    srv_qty v;

    a->n = 0;
    for (size_t i = 0; i < obj_map_len(list); i++) {
        size_t kl = 0;
        const char *name = obj_map_key(list, i, &kl);
        const char *t = obj_str_or(obj_map_getn(list, name, kl), "");
        if (srv_qty_parse(t, &v)) {
            add_amount(a, name, v, false);
            if (strlen(t) < sizeof a->e[0].text)
                (void)snprintf(a->e[a->n - 1].text, sizeof a->e[0].text, "%s",
                               t);
        }
    }
}

/* Check requests and limits against @item's bounds for @scope
 * ("Container", or "Pod" with its totals), one problem per bound, the
 * first found, as kube-apiserver. */
static void check_bounds(const struct obj *item, const char *scope,
                         const struct amounts *req, const struct amounts *lim,
                         struct problems *p)
{
    static const char *const kinds[] = {"min", "max", "maxLimitRequestRatio"};
    char b[64], x[64];

    for (size_t k = 0; k < 3; k++) {
        struct amounts bounds;
        amounts_of(obj_map_get(item, kinds[k]), &bounds);
        for (size_t i = 0; i < bounds.n; i++) {
            const char *r = bounds.e[i].name;
            srv_qty bound = bounds.e[i].v, rq = 0, lm = 0;
            bool has_req = amount(req, r, &rq), has_lim = amount(lim, r, &lm);
            const char *bt = text_of(&bounds, r, b);
            if (k == 0 && !has_req)
                problem(p, "minimum %s usage per %s is %s.  No request is "
                           "specified", r, scope, bt);
            else if (k == 0 && rq < bound)
                problem(p, "minimum %s usage per %s is %s, but request is %s",
                        r, scope, bt, text_of(req, r, x));
            else if (k == 0 && has_lim && lm < bound)
                problem(p, "minimum %s usage per %s is %s, but limit is %s",
                        r, scope, bt, text_of(lim, r, x));
            else if (k == 1 && !has_lim)
                problem(p, "maximum %s usage per %s is %s.  No limit is "
                           "specified", r, scope, bt);
            else if (k == 1 && lm > bound)
                problem(p, "maximum %s usage per %s is %s, but limit is %s",
                        r, scope, bt, text_of(lim, r, x));
            else if (k == 1 && has_req && rq > bound)
                problem(p, "maximum %s usage per %s is %s, but request is %s",
                        r, scope, bt, text_of(req, r, x));
            else if (k == 2 && (!has_lim || lm == 0))
                problem(p, "%s max limit to request ratio per %s is %s, but "
                           "no limit is specified or limit is 0",
                        r, scope, bt);
            else if (k == 2 && (!has_req || rq == 0))
                problem(p, "%s max limit to request ratio per %s is %s, but "
                           "no request is specified or request is 0",
                        r, scope, bt);
            else if (k == 2 && (long double)lm / (long double)rq >
                                   (long double)bound / NANO)
                problem(p, "%s max limit to request ratio per %s is %s, but "
                           "provided ratio is %.6f",
                        r, scope, bt,
                        (double)lm / (double)rq);
        }
    }
}

srv_qty srv__pod_amount(const struct obj *spec, const char *which,
                        const char *name, bool *all)
{
    srv_qty sum = 0, init_max = 0, v;

    *all = true;
    for (int l = 0; l < 2; l++) {
        const struct obj *cs = obj_map_get(spec, l ? "initContainers"
                                                   : "containers");
        for (size_t i = 0; i < obj_array_len(cs); i++) {
            const struct obj *q = obj_map_get(
                obj_map_get(obj_map_get(obj_array_get(cs, i), "resources"),
                            which),
                name);
            if (q == NULL || !srv_qty_parse(obj_str_or(q, ""), &v)) {
                *all = *all && l != 0; /* init containers may leave it out */
                continue;
            }
            if (l == 0)
                sum += v;
            else if (v > init_max)
                init_max = v;
        }
    }
    return sum > init_max ? sum : init_max;
}

/* A pod's totals (srv__pod_amount) for every resource one of its
 * containers names. */
static void pod_totals(const struct obj *spec, const char *which,
                       struct amounts *out)
{
    static const char *const lists[] = {"containers", "initContainers"};
    bool all;

    out->n = 0;
    for (size_t l = 0; l < 2; l++) {
        const struct obj *cs = obj_map_get(spec, lists[l]);
        for (size_t i = 0; i < obj_array_len(cs); i++) {
            const struct obj *rl = obj_map_get(
                obj_map_get(obj_array_get(cs, i), "resources"), which);
            for (size_t k = 0; k < obj_map_len(rl); k++) {
                size_t kl = 0;
                const char *name = obj_map_key(rl, k, &kl);
                srv_qty v;
                if (amount(out, name, &v) || strlen(name) >= 64)
                    continue;
                add_amount(out, name, srv__pod_amount(spec, which, name, &all),
                           false);
            }
        }
    }
}

static int enforce(const struct obj *spec, const struct obj *item,
                   struct problems *p)
{
    const char *type = obj_str_or(obj_map_get(item, "type"), "");
    static const char *const lists[] = {"initContainers", "containers"};
    struct amounts req, lim;

    if (strcmp(type, "Container") == 0) {
        for (size_t l = 0; l < 2; l++) {
            const struct obj *cs = obj_map_get(spec, lists[l]);
            for (size_t i = 0; i < obj_array_len(cs); i++) {
                const struct obj *r =
                    obj_map_get(obj_array_get(cs, i), "resources");
                amounts_of(obj_map_get(r, "requests"), &req);
                amounts_of(obj_map_get(r, "limits"), &lim);
                check_bounds(item, "Container", &req, &lim, p);
            }
        }
    } else if (strcmp(type, "Pod") == 0) {
        pod_totals(spec, "requests", &req);
        pod_totals(spec, "limits", &lim);
        check_bounds(item, "Pod", &req, &lim, p);
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
