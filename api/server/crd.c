/* CustomResourceDefinitions on one member: what a definition gets when it
 * is written (defaults, checks, status), and serving its resources.
 *
 * Every member follows the definitions in its own store with a store
 * watch. When one changes, the member builds the custom resources anew
 * (api/object/crd.h), then a registry, discovery and (on first request)
 * OpenAPI from them, and swaps them in. Requests already under way keep
 * pointers to the resources they resolved: a replaced set lives until the
 * last of them ends (srv__crd_hold, srv__crd_release).
 *
 * A request for a resource this member does not know yet waits for a read
 * point first (srv__crd_catch_up): a definition created through another
 * member a moment ago is then applied here, and served. */
#include <errno.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/crd.h"
#include "api/object/openapi.h"
#include "api/server/discovery.h"
#include "api/server/objects.h"
#include "lib/container.h"
#include "lib/log.h"
#include "lib/mem.h"

/* A set of custom resources with the calls that resolved into it: the
 * server holds one reference to the set it serves, each such call one. */
struct srv_crd_set {
    unsigned refs;
    struct obj_crds *crds;
};

static void set_unref(struct srv_crd_set *s)
{
    if (s != NULL && --s->refs == 0) {
        obj_crds_free(s->crds);
        mem_free(s);
    }
}

void srv__crd_hold(struct srv_call *c)
{
    if (c->res != NULL && c->res->schema != NULL && c->crd_set == NULL &&
        c->api->crd_set != NULL) {
        c->crd_set = c->api->crd_set;
        c->crd_set->refs++;
    }
}

void srv__crd_release(struct srv_call *c)
{
    set_unref(c->crd_set);
    c->crd_set = NULL;
}

bool srv__is_crd(const struct obj_resource *res)
{
    return strcmp(res->group, "apiextensions.k8s.io") == 0 &&
           strcmp(res->resource, "customresourcedefinitions") == 0;
}

/* ---- writing a definition --------------------------------------------*/

/* Whether @old's status still describes @o: same names accepted, the
 * storage version recorded, established. */
static bool status_current(const struct obj *o, const struct obj *old)
{
    const struct obj *sv = obj_get_path(old, "status.storedVersions");
    const struct obj *vs = obj_get_path(o, "spec.versions");
    bool stored = false;

    for (size_t i = 0; i < obj_array_len(vs); i++) {
        const struct obj *v = obj_array_get(vs, i);
        if (!obj_bool_or(obj_map_get(v, "storage"), false))
            continue;
        for (size_t k = 0; k < obj_array_len(sv); k++)
            stored |= obj_equal(obj_array_get(sv, k), obj_map_get(v, "name"));
    }
    return stored && obj_crd_established(old) &&
           obj_equal(obj_get_path(old, "status.acceptedNames"),
                     obj_get_path(o, "spec.names"));
}

int srv__crd_prepare(struct srv_call *c, struct obj *o, const struct obj *old)
{
    char now[32];
    int rv;

    if (!srv__is_crd(c->res) || strcmp(c->route.sub, "status") == 0)
        return 0;
    if ((rv = obj_crd_default(o)) != 0)
        return rv;
    if (old != NULL && status_current(o, old))
        return 0;
    srv__timestamp(now);
    return obj_crd_set_status(o, obj_crd_conflict(o, c->api->reg), now);
}

int srv__crd_check(const struct srv_call *c, const struct obj *o,
                   struct obj_ferrs *l)
{
    if (!srv__is_crd(c->res) || strcmp(c->route.sub, "status") == 0)
        return 0;
    return obj_crd_validate(o, l);
}

/* ---- serving the definitions' resources ---------------------------------*/

/* The definitions in the local store, decoded, in name order. */
static int load_crds(struct srv_api *api, struct obj ***ret, size_t *ret_n)
{
    const struct obj_resource *res =
        obj_registry_find(api->reg, "apiextensions.k8s.io", "v1",
                          "customresourcedefinitions");
    struct store_range q = {.resource = SRV_CRD_PREFIX};
    struct store_list l = {0};
    struct obj **v = NULL;
    size_t n = 0;
    int rv = store_list(repl_store(api->repl), &q, &l);

    if (rv == 0 && l.len > 0 &&
        (v = mem_calloc(l.len, sizeof *v)) == NULL)
        rv = -ENOMEM;
    for (size_t i = 0; rv == 0 && i < l.len; i++)
        if ((v[n] = srv__obj_load(api, res, l.items[i], l.items[i]->mod_rev)) !=
            NULL)
            n++; /* a value that does not decode is left out */
    store_list_done(&l);
    if (rv != 0) {
        mem_free(v);
        return rv;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* Swap in @crds with a registry and discovery built from them. */
static int swap_in(struct srv_api *api, struct obj_crds *crds, struct err *e)
{
    struct obj_registry *reg = NULL;
    struct srv_discovery *disc = NULL;
    struct srv_crd_set *set = mem_calloc(1, sizeof *set);
    size_t n;
    const struct obj_resource *res = obj_crds_resources(crds, &n);
    int rv = set == NULL ? err_setf(e, -ENOMEM, "out of memory")
                         : obj_registry_new(res, n, &reg, e);

    if (rv == 0)
        rv = srv_discovery_new(reg, api->listen, &disc, e);
    if (rv != 0) {
        srv_discovery_free(disc);
        obj_registry_free(reg);
        mem_free(set);
        return rv;
    }
    /* Answers copy what they send: the old documents can go now; the old
     * resources when the last call using them ends. */
    srv_discovery_free(api->disc);
    obj_registry_free(api->reg);
    obj_openapi_free(api->openapi);
    set_unref(api->crd_set);
    set->refs = 1;
    set->crds = crds;
    api->openapi = NULL;
    api->reg = reg;
    api->disc = disc;
    api->crd_set = set;
    return 0;
}

/* Rebuild what is served from the stored definitions, if they changed. */
static void refresh(struct srv_api *api)
{
    struct obj **v = NULL;
    size_t n = 0;
    struct obj_crds *crds = NULL;
    struct err e = {0};
    int rv;

    if (!api->crd_dirty)
        return;
    api->crd_dirty = false;
    rv = load_crds(api, &v, &n);
    if (rv == 0)
        rv = obj_crds_build(v, n, &crds, &e);
    if (rv == 0 && e.msg[0] != '\0')
        log_warn("api", "%s", e.msg);
    if (rv == 0 && (rv = swap_in(api, crds, &e)) != 0)
        obj_crds_free(crds);
    for (size_t i = 0; i < n; i++)
        obj_unref(v[i]);
    mem_free(v);
    if (rv != 0) {
        log_warn("api", "serving custom resources: %s; trying again at the "
                 "next change", e.msg[0] ? e.msg : err_str(rv));
        return;
    }
    log_info("api", "serving %zu custom resource definition(s)", n);
}

static void crd_timer_fired(uv_timer_t *t);

static void on_crd_event(struct store_watch *w, void *arg)
{
    struct srv_api *api = arg;

    (void)w;
    /* Inside the store's apply: only note it and come back from the loop. */
    if (api->crd_timer_open && !uv_is_active((uv_handle_t *)&api->crd_timer))
        (void)uv_timer_start(&api->crd_timer, crd_timer_fired, 0, 0);
}

static int open_watch(struct srv_api *api)
{
    struct store_watch_opts o = {.resource = SRV_CRD_PREFIX,
                                 .from_current = true,
                                 .cb = on_crd_event,
                                 .arg = api};

    return store_watch_open(repl_store(api->repl), &o, &api->crd_watch);
}

/* Take every pending event; a watch the store closed (slow, snapshot
 * restored) is opened again and the set rebuilt from what is stored. */
static void drain_watch(struct srv_api *api)
{
    struct store_event ev;
    int rv;

    while ((rv = store_watch_next(api->crd_watch, &ev)) == 0) {
        /* Progress events (every watcher gets them) change nothing. */
        if (ev.type != STORE_EV_PROGRESS)
            api->crd_dirty = true;
        store_event_done(&ev);
    }
    if (rv != -EAGAIN) {
        store_watch_close(api->crd_watch);
        api->crd_watch = NULL;
        api->crd_dirty = true;
        if ((rv = open_watch(api)) != 0) {
            log_warn("api", "watching custom resource definitions: %s; "
                     "trying again in 1 s", err_str(rv));
            if (api->crd_timer_open)
                (void)uv_timer_start(&api->crd_timer, crd_timer_fired, 1000,
                                     0);
        }
    }
}

static void crd_timer_fired(uv_timer_t *t)
{
    struct srv_api *api = container_of(t, struct srv_api, crd_timer);

    if (api->crd_watch == NULL) {
        api->crd_dirty = true;
        if (open_watch(api) != 0) {
            (void)uv_timer_start(&api->crd_timer, crd_timer_fired, 1000, 0);
            return;
        }
    } else {
        drain_watch(api);
    }
    refresh(api);
}

int srv__crd_start(struct srv_api *api, struct err *e)
{
    int rv = uv_timer_init(api->loop, &api->crd_timer);

    if (rv != 0)
        return err_setf(e, rv, "crd timer: %s", uv_strerror(rv));
    api->crd_timer_open = true;
    if ((rv = open_watch(api)) != 0)
        return err_setf(e, rv, "watching custom resource definitions: %s",
                        err_str(rv));
    api->crd_dirty = true;
    refresh(api);
    return 0;
}

void srv__crd_poke(struct srv_api *api)
{
    if (api->crd_watch != NULL)
        drain_watch(api);
    refresh(api);
}

void srv__crd_free(struct srv_api *api)
{
    if (api->crd_watch != NULL)
        store_watch_close(api->crd_watch);
    api->crd_watch = NULL;
    set_unref(api->crd_set);
    api->crd_set = NULL;
}

/* ---- catching up on a resource not known here yet ------------------------*/

static void caught_up(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);

    if (res->code != 0) { /* no read point: say why, not 404 */
        srv__respond_code(c->req, NULL, c->route.name, res->code);
        srv__call_free(c);
        return;
    }
    srv__crd_poke(c->api);
    c->catch_up_cb(c);
}

void srv__crd_catch_up(struct srv_call *c, void (*then)(struct srv_call *c))
{
    struct repl_result now = {0};

    c->catch_up_cb = then;
    c->rreq.cb = caught_up;
    if ((now.code = repl_read_index(c->api->repl, &c->rreq)) != 0)
        caught_up(&c->rreq, &now);
}

/* ---- deleting a definition deletes its objects ----------------------------
 * The definition is first marked (deletionTimestamp and a Terminating
 * condition, as Kubernetes shows it): from then on creates of its objects
 * are refused, and a create that checked the definition before the mark
 * fails its CHECK (srv__crd_create_check). Then its objects are deleted in
 * batches (each batch one txn, each delete conditional on the version
 * listed), and the definition last. An interrupted deletion leaves the
 * definition in place, Terminating, and deleting it again finishes the
 * job: no objects are left behind without one. */

#define SWEEP_BATCH 500
#define SWEEP_ROUNDS 10000

static bool is_terminating(const struct obj *crd)
{
    return obj_get_path(crd, "metadata.deletionTimestamp") != NULL;
}

int srv__crd_create_check(struct srv_call *c, char *name, size_t size,
                          store_rev *rev)
{
    const struct store_kv *kv = NULL;
    int rv;

    *rev = 0;
    if (c->res->schema == NULL || c->op != SRV_OP_CREATE)
        return 0;
    if ((size_t)snprintf(name, size, "%s.%s", c->res->resource,
                         c->res->group) >= size) {
        srv__respond_code(c->req, c->res, c->name, -ENAMETOOLONG);
        return -ENAMETOOLONG;
    }
    rv = store_get(repl_store(c->api->repl), SRV_CRD_PREFIX, "", name, 0, &kv);
    if (rv == -C8S_ENOTFOUND) { /* deleted; this member serves it a bit on */
        srv__respond_bad(c->req, 404, "NotFound",
                         "the server could not find the requested resource "
                         "(its definition %s was deleted)", name);
        return rv;
    }
    if (rv != 0) {
        srv__respond_code(c->req, c->res, c->name, rv);
        return rv;
    }
    *rev = kv->mod_rev;
    if (srv__cached_flag(&c->api->last_crd, name, kv, is_terminating)) {
        srv__respond_bad(c->req, 405, "MethodNotAllowed",
                         "create is not allowed on %s: its "
                         "CustomResourceDefinition is being deleted",
                         name);
        rv = -EPERM;
    }
    store_kv_unref(kv);
    return rv;
}

static void marked(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);

    if (res->code == -C8S_ECONFLICT && srv__delete_again(c))
        return; /* changed meanwhile (say, marked by another DELETE) */
    if (res->code != 0) {
        srv__respond_code(c->req, c->res, c->name, res->code);
        srv__call_free(c);
        return;
    }
    c->crd_marked = true;
    c->expect_rev = res->rev; /* the definition's delete follows this */
    srv__write(c);
}

int srv__crd_mark(struct obj *crd)
{
    char now[32];
    int rv = srv__mark_deleting(crd);

    srv__timestamp(now);
    return rv != 0 ? rv : obj_crd_set_terminating(crd, now);
}

/* Write c->obj (the definition to delete) marked Terminating; marked()
 * goes on. */
static void mark(struct srv_call *c)
{
    struct obj_buf b;
    struct store_op op;
    int rv;

    obj_buf_init(&b);
    rv = obj_unshare(&c->obj);
    if (rv == 0)
        rv = srv__crd_mark(c->obj);
    if (rv == 0)
        rv = srv__obj_encode(c->api, c->res, "", c->name, c->obj, &b);
    if (rv == 0) {
        op = (struct store_op){.type = STORE_OP_UPDATE,
                               .resource = c->res->store_prefix,
                               .ns = "",
                               .name = c->name,
                               .value = b.data,
                               .value_len = b.len,
                               .expect_rev = c->expect_rev};
        c->rreq.cb = marked;
        rv = repl_submit(c->api->repl, &c->rreq, &op, 1);
    }
    obj_buf_done(&b);
    if (rv != 0) {
        srv__respond_code(c->req, c->res, c->name, rv);
        srv__call_free(c);
    }
}

static void swept(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);

    /* An object changed or went since it was listed: list again. */
    if (res->code != 0 && res->code != -C8S_ECONFLICT &&
        res->code != -C8S_ENOTFOUND) {
        srv__respond_code(c->req, c->res, c->name, res->code);
        srv__call_free(c);
        return;
    }
    srv__write(c);
}

/* The store prefix of the objects of definition @name (plural.group). */
static bool objects_prefix(const char *name, char *out, size_t size)
{
    const char *dot = strchr(name, '.');

    return dot != NULL &&
           (size_t)snprintf(out, size, "%s/%.*s", dot + 1,
                            (int)(dot - name), name) < size;
}

bool srv__crd_sweep(struct srv_call *c)
{
    char prefix[600];
    struct store_range q = {.resource = prefix, .limit = SWEEP_BATCH};
    struct store_list l = {0};
    struct store_op *ops;
    int rv = 0;

    if (c->op != SRV_OP_DELETE || !srv__is_crd(c->res) || c->swept ||
        !objects_prefix(c->name, prefix, sizeof prefix))
        return false;
    /* Never a built-in's keys (such a definition is refused when written;
     * this guards against a store written otherwise). */
    if (obj_crd_group_reserved(strchr(c->name, '.') + 1)) {
        c->swept = true;
        return false;
    }
    if (!c->crd_marked) {
        if (c->obj != NULL && is_terminating(c->obj)) {
            c->crd_marked = true; /* an earlier deletion was interrupted */
        } else {
            mark(c);
            return true;
        }
    }
    if (++c->sweep_rounds > SWEEP_ROUNDS ||
        (rv = store_list(repl_store(c->api->repl), &q, &l)) != 0) {
        srv__respond_code(c->req, c->res, c->name,
                          c->sweep_rounds > SWEEP_ROUNDS ? -EBUSY : rv);
        srv__call_free(c);
        return true;
    }
    if (l.len == 0) {
        store_list_done(&l);
        c->swept = true;
        return false;
    }
    if ((ops = mem_calloc(l.len, sizeof *ops)) == NULL) {
        store_list_done(&l);
        srv__respond_code(c->req, c->res, c->name, -ENOMEM);
        srv__call_free(c);
        return true;
    }
    for (size_t i = 0; i < l.len; i++)
        ops[i] = (struct store_op){.type = STORE_OP_DELETE,
                                   .resource = prefix,
                                   .ns = l.items[i]->ns,
                                   .name = l.items[i]->name,
                                   .expect_rev = l.items[i]->mod_rev};
    c->rreq.cb = swept;
    rv = repl_submit(c->api->repl, &c->rreq, ops, l.len);
    mem_free(ops);
    store_list_done(&l);
    if (rv != 0) {
        srv__respond_code(c->req, c->res, c->name, rv);
        srv__call_free(c);
    }
    return true;
}
