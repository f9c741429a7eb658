/* The /api and /apis trees: discovery, then one handler per verb.
 *
 * Reads with resourceVersion "" are linearizable (a read point from repl
 * first); "0" or an explicit version read this member's store at once.
 * Writes are one store txn: preconditions (the object's resourceVersion,
 * the namespace's existence) travel in the txn, so no check-then-act race
 * exists between members. Everything non-deterministic (uid, timestamps,
 * generated names) is decided here, before proposing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api/object/apply.h"
#include "api/object/status.h"
#include "api/object/protobuf.h"
#include "api/object/validate.h"
#include "api/server/discovery.h"
#include "api/server/objects.h"
#include "lib/container.h"
#include "lib/log.h"
#include "lib/mem.h"

#define MAX_CONFLICT_RETRIES 3
/* An unconditional update (PUT without resourceVersion) tries again, as
 * kube-apiserver's GuaranteedUpdate does, while others keep winning; the
 * bound only stops a livelock. */
#define MAX_UNCONDITIONAL_RETRIES 100
#define MAX_NAME_TRIES 7


/* ---- helpers -------------------------------------------------------------*/

static bool query_flag(const struct srv_req *req, const char *name,
                       const char *want)
{
    char v[64];

    return srv_query_get(req->query, name, v, sizeof v, NULL) &&
           (want == NULL ? strcmp(v, "false") != 0 && strcmp(v, "0") != 0
                         : strcmp(v, want) == 0);
}

static enum obj_name_rule name_rule(const struct obj_resource *res)
{
    if (strcmp(res->resource, "namespaces") == 0)
        return OBJ_NAME_DNS1123_LABEL;
    if (strcmp(res->resource, "services") == 0)
        return OBJ_NAME_DNS1035_LABEL;
    return OBJ_NAME_DNS1123_SUBDOMAIN;
}

#define PROTOBUF_TYPE "application/vnd.kubernetes.protobuf"

/* Decode a request body by its Content-Type (missing means JSON: kubectl
 * sends PUT .../scale without one; kubectl >= 1.32 sends protobuf from its
 * create generators). */
int srv__decode_body(struct srv_call *c, struct obj **ret)
{
    const char *ct = srv_req_header(c->req, "Content-Type");
    struct err e = {0};
    int rv;

    if (ct == NULL || strncmp(ct, "application/json", 16) == 0)
        rv = obj_json_decode(c->req->body, c->req->body_len, NULL, ret, &e);
    else if (strncmp(ct, "application/yaml", 16) == 0)
        rv = obj_yaml_decode(c->req->body, c->req->body_len, NULL, ret, &e);
    else if (strncmp(ct, PROTOBUF_TYPE, strlen(PROTOBUF_TYPE)) == 0 &&
             obj_schemas_builtin(NULL) != NULL)
        rv = obj_protobuf_decode(obj_schemas_builtin(NULL), c->req->body,
                                 c->req->body_len, ret, &e);
    else {
        srv__respond_bad(c->req, 415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - "
                         "accepted media types include: application/json, "
                         "application/yaml, " PROTOBUF_TYPE);
        return -EPROTO;
    }
    if (rv == 0 && obj_type(*ret) != OBJ_MAP) {
        *ret = obj_unref(*ret);
        snprintf(e.msg, sizeof e.msg, "the body is not an object");
        rv = -C8S_EMALFORMED;
    }
    if (rv != 0) {
        srv__respond_bad(c->req, 400, "BadRequest", "%s", e.msg);
        return rv;
    }
    return 0;
}

/* kind and apiVersion of a body: filled in when absent, refused when they
 * name something else. */
static int check_type(struct srv_call *c, struct obj *o)
{
    char want[300];
    const char *kind = srv__str(o, "kind");
    const char *apiv = srv__str(o, "apiVersion");

    srv__api_version(c->res, want, sizeof want);
    if (apiv[0] != '\0' && strcmp(apiv, want) != 0) {
        srv__respond_bad(c->req, 400, "BadRequest",
                         "the API version in the data (%s) does not match the "
                         "expected API version (%s)",
                         apiv, want);
        return -EINVAL;
    }
    if (kind[0] != '\0' && strcmp(kind, c->res->kind) != 0) {
        srv__respond_bad(c->req, 400, "BadRequest",
                         "the kind in the data (%s) does not match the "
                         "expected kind (%s)",
                         kind, c->res->kind);
        return -EINVAL;
    }
    if (srv__set_str(o, "kind", c->res->kind) != 0 ||
        srv__set_str(o, "apiVersion", want) != 0)
        return -ENOMEM;
    return 0;
}

/* metadata.namespace against the URL's. */
static int check_namespace(struct srv_call *c, struct obj *meta)
{
    const char *ns = srv__str(meta, "namespace");

    if (!c->res->namespaced) {
        (void)obj_map_del(meta, "namespace");
        return 0;
    }
    if (ns[0] != '\0' && strcmp(ns, c->route.ns) != 0) {
        srv__respond_bad(c->req, 400, "BadRequest",
                         "the namespace of the provided object does not match "
                         "the namespace sent on the request");
        return -EINVAL;
    }
    return srv__set_str(meta, "namespace", c->route.ns);
}

static void respond_invalid(struct srv_call *c, const struct obj_ferrs *l)
{
    struct obj *st = NULL;
    struct rbuf *body = NULL;

    if (obj_status_invalid(c->res->group, c->res->kind, c->name, l, &st) != 0 ||
        obj_status_rbuf(st, &body, NULL) != 0) {
        srv__respond_bad(c->req, 422, "Invalid", "%s \"%s\" is invalid",
                         c->res->kind, c->name);
    } else {
        (void)srv_respond_rbuf(c->req, 422, "application/json", NULL, body);
    }
    rbuf_unref(body);
    obj_unref(st);
}

static int validate(struct srv_call *c, const struct obj *old)
{
    struct obj_meta_rules rules = {name_rule(c->res), c->res->namespaced};
    struct obj_ferrs l;
    int rv;

    obj_ferrs_init(&l);
    rv = obj_validate_object_meta(c->obj, old, &rules, true, &l);
    if (rv == 0)
        rv = srv__schema_check(c, c->obj, &l);
    if (rv == 0)
        rv = srv__workload_check(c, c->obj, old, &l);
    if (rv == 0)
        rv = srv__crd_check(c, c->obj, &l);
    if (rv == 0 && l.len > 0) {
        respond_invalid(c, &l);
        rv = -EINVAL;
    } else if (rv != 0) {
        srv__respond_code(c->req, c->res, c->name, rv);
    } else if ((rv = srv__authz_escalation(c, c->obj, old)) == 0) {
        rv = srv__node_restriction(c, c->obj, old); /* both answer */
    }
    obj_ferrs_done(&l);
    return rv;
}

/* The indexed field's value of @o for the store, or NULL. */
static const char *index_value(const struct obj_resource *res,
                               const struct obj *o)
{
    if (res->index_field == NULL)
        return NULL;
    return obj_str_or(obj_get_path(o, res->index_field), NULL);
}

/* ---- GET -------------------------------------------------------------------*/

static void got_read_point(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);
    const struct store_kv *kv = NULL;
    struct obj_buf b;
    int rv = res->code;

    obj_buf_init(&b);
    if (rv == 0)
        rv = store_get(repl_store(c->api->repl), c->res->store_prefix,
                       c->route.ns, c->route.name, 0, &kv);
    if (rv == 0) {
        struct srv_table t;

        if (srv__table_wanted(c, &t)) { /* kubectl get NAME */
            struct obj *o = srv__obj_load(c->api, c->res, kv, kv->mod_rev);

            rv = o == NULL ? -ENOMEM : srv__table_one(&t, o, true, &b);
            obj_unref(o);
        } else {
            rv = srv__obj_json(c->api, c->res, kv, kv->mod_rev, &b);
        }
        if (rv == 0)
            rv = obj_buf_append(&b, "\n", 1);
    }
    if (rv != 0)
        srv__respond_code(c->req, c->res, c->route.name, rv);
    else
        (void)srv_respond(c->req, 200, "application/json", NULL, b.data,
                          b.len);
    obj_buf_done(&b);
    store_kv_unref(kv);
    srv__call_free(c);
}

/* Start a read: through a read point, or at once from local state. */
void srv__read(struct srv_call *c, repl_cb cb)
{
    struct repl_result now = {0};
    int rv;

    c->rreq.cb = cb;
    if (!srv__wants_consistent(c->req)) {
        cb(&c->rreq, &now);
        return;
    }
    rv = repl_read_index(c->api->repl, &c->rreq);
    if (rv != 0) {
        now.code = rv;
        cb(&c->rreq, &now);
    }
}

/* ---- writes ----------------------------------------------------------------*/

static void written(struct repl_req *rr, const struct repl_result *res);
static bool update_again(struct srv_call *c);
static uint64_t random_u64(void);

static bool namespace_is_terminating(const struct obj *ns)
{
    return strcmp(srv__str(ns, "status.phase"), "Terminating") == 0;
}

static void namespace_caught_up(struct repl_req *rr,
                                const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);

    if (res->code != 0) {
        srv__respond_code(c->req, c->res, c->name, res->code);
        srv__call_free(c);
        return;
    }
    srv__write(c);
}

/* Wait for a read point, which covers every write committed so far, then
 * write again. Returns nonzero (and has answered) when that cannot start. */
static int catch_up_then_write(struct srv_call *c)
{
    int rv;

    c->ns_caught_up = true;
    c->rreq.cb = namespace_caught_up;
    rv = repl_read_index(c->api->repl, &c->rreq);
    if (rv != 0)
        srv__respond_code(c->req, c->res, c->name, rv);
    return rv;
}

/* Namespace of a namespaced object: must exist and not be terminating. Its
 * current version goes into the txn as a CHECK, so a namespace deleted
 * meanwhile fails the write instead of leaving an orphan. A namespace this
 * member has not applied yet may already be committed (a client that just
 * created it through another member), so before answering 404 the member
 * catches up once: returns 1 when that is under way. */
static int namespace_check(struct srv_call *c, store_rev *ret_rev)
{
    const struct store_kv *kv = NULL;
    int rv;

    *ret_rev = 0;
    if (!c->res->namespaced || c->op != SRV_OP_CREATE)
        return 0;
    rv = store_get(repl_store(c->api->repl), "namespaces", "", c->ns, 0, &kv);
    if (rv == -C8S_ENOTFOUND && !c->ns_caught_up)
        return catch_up_then_write(c) == 0 ? 1 : -1;
    if (rv == -C8S_ENOTFOUND) {
        srv__respond_bad(c->req, 404, "NotFound",
                         "namespaces \"%s\" not found", c->ns);
        return rv;
    }
    if (rv != 0) {
        srv__respond_code(c->req, c->res, c->name, rv);
        return rv;
    }
    *ret_rev = kv->mod_rev;
    if (srv__cached_flag(&c->api->last_ns, c->ns, kv,
                         namespace_is_terminating)) {
        srv__respond_bad(c->req, 403, "Forbidden",
                         "%s \"%s\" is forbidden: unable to create new content "
                         "in namespace %s because it is being terminated",
                         c->res->resource, c->name, c->ns);
        rv = -EACCES;
    } else {
        /* Here, with the namespace this member has (after catching up),
         * so its labels are never missed: LimitRanger defaults first, Pod
         * Security then checks the result, ResourceQuota counts it last.
         * Each answers itself. */
        rv = srv__limit_ranger(c, c->obj);
        if (rv == 0)
            rv = srv__pod_security(c, c->obj, kv);
        if (rv == 0)
            rv = srv__resource_quota(c, c->obj);
    }
    store_kv_unref(kv);
    return rv;
}

static bool has_finalizers(const struct srv_call *c, const struct obj *o)
{
    return obj_array_len(obj_get_path(o, "metadata.finalizers")) > 0 ||
           (strcmp(c->res->resource, "namespaces") == 0 &&
            obj_array_len(obj_get_path(o, "spec.finalizers")) > 0);
}

/* An update that leaves a deleting object without finalizers removes it:
 * whoever held the last one is done. Every update path (PUT, PATCH,
 * status, scale, a namespace's finalize) ends here, so it is decided once. */
static void finish_deletion(struct srv_call *c)
{
    if (c->op != SRV_OP_UPDATE ||
        obj_get_path(c->obj, "metadata.deletionTimestamp") == NULL ||
        has_finalizers(c, c->obj))
        return;
    c->op = SRV_OP_DELETE;
    srv__alloc_release(c, c->obj);
    (void)snprintf(c->owner, sizeof c->owner, "%s/%s", c->ns, c->name);
}

/* Propose the write of c->obj (or the delete of the key). The txn is:
 * [CHECK namespace] [CHECK definition] [allocation keys...] object. The
 * object's change comes last, so the txn's revision is the object's
 * resourceVersion. */
void srv__write(struct srv_call *c)
{
    struct store_op ops[3 + SRV_MAX_EXTRA];
    struct obj_buf b;
    store_rev ns_rev, crd_rev;
    char crd_name[300];
    size_t n = 0;
    int rv;

    finish_deletion(c);
    if (srv__crd_sweep(c))
        return; /* a definition's objects go first */
    rv = namespace_check(c, &ns_rev);
    if (rv == 1)
        return; /* catching up first */
    if (rv == 0)
        rv = srv__crd_create_check(c, crd_name, sizeof crd_name, &crd_rev);
    if (rv != 0) {
        srv__call_free(c);
        return;
    }
    if (c->dry_run && c->op == SRV_OP_CREATE) {
        /* Admitted (namespace, LimitRanger, Pod Security, quota): the
         * answer of a create, with nothing written. */
        srv__respond_call_obj(c, 201, c->obj);
        srv__call_free(c);
        return;
    }
    if (ns_rev != 0)
        ops[n++] = (struct store_op){.type = STORE_OP_CHECK,
                                     .resource = "namespaces", .ns = "",
                                     .name = c->ns, .expect_rev = ns_rev};
    if (crd_rev != 0)
        ops[n++] = (struct store_op){.type = STORE_OP_CHECK,
                                     .resource = SRV_CRD_PREFIX, .ns = "",
                                     .name = crd_name, .expect_rev = crd_rev};
    c->n_checks = n;
    for (size_t i = 0; i < c->n_allocs; i++)
        ops[n++] = (struct store_op){
            .type = c->op == SRV_OP_DELETE ? STORE_OP_DELETE : STORE_OP_CREATE,
            .resource = c->allocs[i].resource, .ns = "",
            .name = c->allocs[i].name, .value = c->owner,
            .value_len = c->op == SRV_OP_DELETE ? 0 : strlen(c->owner),
        };
    obj_buf_init(&b);
    if (c->op != SRV_OP_DELETE &&
        (rv = srv__obj_encode(c->api, c->res, c->ns, c->name, c->obj, &b)) !=
            0) {
        srv__respond_code(c->req, c->res, c->name, rv);
        srv__call_free(c);
        return;
    }
    ops[n++] = (struct store_op){
        .type = c->op == SRV_OP_CREATE   ? STORE_OP_CREATE
                : c->op == SRV_OP_UPDATE ? STORE_OP_UPDATE
                                         : STORE_OP_DELETE,
        .resource = c->res->store_prefix, .ns = c->ns, .name = c->name,
        .value = b.data, .value_len = b.len,
        .field = c->op != SRV_OP_DELETE ? index_value(c->res, c->obj) : NULL,
        .expect_rev = c->expect_rev,
    };
    c->rreq.cb = written;
    c->n_ops = n;
    rv = repl_submit(c->api->repl, &c->rreq, ops, n);
    obj_buf_done(&b);
    if (rv != 0) {
        srv__respond_code(c->req, c->res, c->name, rv);
        srv__call_free(c);
    }
}

/* The answer to a write: the object as stored, at its new version. */
static void answer_written(struct srv_call *c, store_rev rev)
{
    char rv[24];
    struct obj *meta = srv__meta(c->obj);

    (void)snprintf(rv, sizeof rv, "%llu", (unsigned long long)rev);
    if (meta != NULL && c->op != SRV_OP_DELETE)
        (void)srv__set_str(meta, "resourceVersion", rv);
    if (c->scale) {
        struct obj *sc = srv__scale_of(c->res, c->obj);
        if (sc == NULL)
            srv__respond_code(c->req, c->res, c->name, -ENOMEM);
        else
            srv__respond_obj(c->req, 200, sc);
        obj_unref(sc);
        return;
    }
    srv__respond_call_obj(c, c->op == SRV_OP_CREATE ? 201 : 200, c->obj);
}

/* A generated name that another object has: draw again, as
 * kube-apiserver does (up to 7 times) before answering AlreadyExists. The
 * object's op is the txn's last. */
static bool retry_generated_name(struct srv_call *c,
                                 const struct repl_result *res)
{
    struct obj *meta = srv__meta(c->obj);

    if (res->code != -C8S_EEXISTS || c->op != SRV_OP_CREATE ||
        !c->generated || res->failed_op + 1 != c->n_ops ||
        c->name_tries++ >= MAX_NAME_TRIES || meta == NULL ||
        obj_map_del(meta, "name") != 0 ||
        obj_meta_generate_name(meta, random_u64()) != 1)
        return false;
    (void)snprintf(c->name, sizeof c->name, "%s", srv__str(meta, "name"));
    (void)snprintf(c->owner, sizeof c->owner, "%s/%s", c->ns, c->name);
    return true;
}

/* An allocation key another member took first: choose again. */
static bool retry_alloc(struct srv_call *c, const struct repl_result *res)
{
    size_t first = c->n_checks;

    if (res->code != -C8S_EEXISTS || c->op != SRV_OP_CREATE ||
        res->failed_op < first || res->failed_op >= first + c->n_allocs ||
        c->attempts++ >= MAX_CONFLICT_RETRIES)
        return false;
    return srv__alloc_retry(c, res->failed_op - first);
}

static void written(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);

    if (res->code == 0) {
        answer_written(c, res->rev);
    } else if ((res->code == -C8S_ECONFLICT ||
                res->code == -C8S_ENOTFOUND) &&
               res->failed_op < c->n_checks &&
               c->attempts++ < MAX_CONFLICT_RETRIES) {
        /* The namespace or the definition changed or went: check its
         * newer version, which this member may not have applied yet (and
         * answer about it, not about the object, if it is gone). */
        if (catch_up_then_write(c) != 0)
            srv__call_free(c);
        return;
    } else if (retry_generated_name(c, res)) {
        srv__write(c);
        return;
    } else if (retry_alloc(c, res)) {
        srv__write(c);
        return;
    } else if (res->code == -C8S_EEXISTS && c->apply &&
               c->op == SRV_OP_CREATE && res->failed_op + 1 == c->n_ops &&
               c->attempts++ < MAX_CONFLICT_RETRIES) {
        /* Applied to an absent object that someone created meanwhile:
         * apply to that one, as kube-apiserver does. */
        c->n_allocs = 0;
        if (!srv__patch_again(c))
            srv__respond_code(c->req, c->res, c->name, res->code);
        else
            return;
    } else if (res->code == -C8S_ECONFLICT && c->patch != NULL &&
               c->attempts++ < MAX_CONFLICT_RETRIES && srv__patch_again(c)) {
        return; /* changed meanwhile: patch the newer version */
    } else if (res->code == -C8S_ECONFLICT && c->put_body != NULL &&
               c->op != SRV_OP_CREATE && /* (DELETE: it lifts the last
                                          * finalizer, finish_deletion) */
               c->attempts++ < MAX_UNCONDITIONAL_RETRIES && update_again(c)) {
        return;
    } else if (res->code == -C8S_ECONFLICT && res->failed_op + 1 == c->n_ops &&
               srv__delete_again(c)) {
        return;
    } else if (res->code == -C8S_ENOTFOUND && c->op == SRV_OP_DELETE &&
               res->failed_op < c->n_allocs &&
               c->attempts++ < MAX_CONFLICT_RETRIES) {
        srv__alloc_drop(c, res->failed_op);
        srv__write(c);
        return;
    } else if (res->code == -C8S_EEXISTS && c->n_allocs > 0 &&
               res->failed_op + 1 < c->n_checks + 1 + c->n_allocs) {
        srv__respond_bad(c->req, 422, "Invalid",
                         "Service \"%s\" is invalid: failed to allocate: "
                         "already allocated",
                         c->name);
    } else {
        srv__respond_code(c->req, c->res, c->name, res->code);
    }
    srv__call_free(c);
}

/* ---- POST (create) ---------------------------------------------------------*/

static uint64_t random_u64(void)
{
    uint64_t v = 0;

    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = (uint64_t)rand();
    return v;
}

/* A new namespace is Active and carries the "kubernetes" finalizer, which
 * the namespace controller lifts once the namespace is empty. */
static int default_namespace(struct obj *ns)
{
    struct obj *st = obj_map_new(), *spec, *fin;
    size_t i, n;

    if (srv__set_str(st, "phase", "Active") != 0 ||
        obj_map_set(ns, "status", st) != 0)
        return -ENOMEM;
    spec = obj_map_get_mut(ns, "spec");
    if ((spec == NULL || obj_type(spec) != OBJ_MAP) &&
        (obj_map_set(ns, "spec", obj_map_new()) != 0 ||
         (spec = obj_map_get_mut(ns, "spec")) == NULL))
        return -ENOMEM;
    fin = obj_map_get_mut(spec, "finalizers");
    if ((fin == NULL || obj_type(fin) != OBJ_ARRAY) &&
        (obj_map_set(spec, "finalizers", obj_array_new()) != 0 ||
         (fin = obj_map_get_mut(spec, "finalizers")) == NULL))
        return -ENOMEM;
    n = obj_array_len(fin);
    for (i = 0; i < n; i++)
        if (strcmp(obj_str_or(obj_array_get(fin, i), ""), "kubernetes") == 0)
            return 0;
    return obj_array_append(fin, obj_str_new_c("kubernetes"));
}

/* Server-owned metadata of a new object. */
static int fill_create_meta(struct srv_call *c, struct obj *meta)
{
    char uid[37], ts[32];

    srv__uuid(uid);
    srv__timestamp(ts);
    (void)obj_map_del(meta, "resourceVersion");
    (void)obj_map_del(meta, "deletionTimestamp");
    (void)obj_map_del(meta, "deletionGracePeriodSeconds");
    int gen = obj_meta_generate_name(meta, random_u64());

    c->generated = gen == 1;
    if (gen < 0 || srv__set_str(meta, "uid", uid) != 0 ||
        srv__set_str(meta, "creationTimestamp", ts) != 0 ||
        obj_map_set(meta, "generation", obj_int_new(1)) != 0)
        return -ENOMEM;
    if (strcmp(c->res->resource, "namespaces") == 0)
        return default_namespace(c->obj);
    return 0;
}

static void do_create(struct srv_call *c)
{
    if (srv__decode_body(c, &c->obj) != 0) {
        srv__call_free(c);
        return;
    }
    srv__create_obj(c);
}

static bool has_status(const struct obj_resource *res);

/* The manager a write is recorded under: fieldManager, else the product
 * of the User-Agent ("kubectl/v1.33.1 (linux/amd64)" -> "kubectl"). */
static void manager_from_user_agent(struct srv_call *c)
{
    const char *ua = srv_req_header(c->req, "User-Agent");

    (void)snprintf(c->manager, sizeof c->manager, "%.*s",
                   ua != NULL ? (int)strcspn(ua, "/ ") : 7,
                   ua != NULL ? ua : "unknown");
    if (c->manager[0] == '\0')
        (void)snprintf(c->manager, sizeof c->manager, "unknown");
}

struct obj_apply_opts srv__apply_opts(const struct srv_call *c,
                                      struct srv_apply_when *w)
{
    srv__api_version(c->res, w->api, sizeof w->api);
    srv__timestamp(w->now);
    return (struct obj_apply_opts){
        .manager = c->manager, .api_version = w->api, .now = w->now,
        .force = c->force, .skip_status = has_status(c->res)};
}

int srv__field_manager(struct srv_call *c)
{
    char *out = c->manager;
    bool too_long;
    size_t bad;

    if (!srv_query_get(c->req->query, "fieldManager", out,
                       sizeof c->manager, &too_long)) {
        out[0] = '\0';
        if (!too_long)
            return 0;
    } else if (out[0] == '\0') {
        return 0;
    }
    if (too_long || !obj_utf8_check(out, strlen(out), &bad)) {
        srv__respond_bad(c->req, 422, "Invalid",
                         "fieldManager: Invalid value: %s",
                         too_long ? "must be at most 128 bytes"
                                  : "must be valid UTF-8");
        return -1;
    }
    return 1;
}

int srv__record_managed(struct srv_call *c, struct obj *obj,
                        const struct obj *old)
{
    struct srv_apply_when w;
    bool status = strcmp(c->route.sub, "status") == 0;
    struct obj_apply_opts o;
    int rv;

    if (c->apply || (c->route.sub[0] != '\0' && !status && !c->scale))
        return 0; /* apply records itself; finalize is the server's */
    /* Bookkeeping costs about 240 bytes an object (RSS 188 -> 212 MiB at
     * 100k objects), so it starts only when someone asks for it: a write
     * that names its fieldManager (kubectl does, except for scale), or
     * any write to an object that already has managedFields (applied, or
     * written by such a client). Anonymous writers to untracked objects
     * (controllers, libc8s) are not recorded. */
    if ((rv = srv__field_manager(c)) < 0)
        return rv;
    if (rv == 0 && obj_get_path(old, "metadata.managedFields") == NULL &&
        obj_get_path(obj, "metadata.managedFields") == NULL)
        return 0;
    if (rv == 0)
        manager_from_user_agent(c);
    o = srv__apply_opts(c, &w);
    /* through /status, status is what changes; elsewhere it is not the
     * main resource's to own */
    o.skip_status = o.skip_status && !status;
    o.subresource = c->route.sub;
    rv = obj_apply_record_update(srv__schema_of(c->res), obj, old, &o);
    if (rv != 0)
        srv__respond_code(c->req, c->res, c->name, rv);
    return rv;
}

void srv__create_obj(struct srv_call *c)
{
    struct obj *meta;
    int rv;

    if (check_type(c, c->obj) != 0 || srv__schema_decode(c, &c->obj) != 0)
        goto out;
    if ((rv = srv__secret_prepare(c, c->obj)) != 0 ||
        (rv = srv__status_on_create(c, c->obj)) != 0 ||
        (rv = srv__pod_service_account(c, c->obj)) != 0 ||
        (rv = srv__crd_prepare(c, c->obj, NULL)) != 0) {
        srv__respond_code(c->req, c->res, NULL, rv);
        goto out;
    }
    meta = srv__meta(c->obj);
    if (meta == NULL) {
        srv__respond_code(c->req, c->res, NULL, -ENOMEM);
        goto out;
    }
    if (check_namespace(c, meta) != 0)
        goto out;
    if ((rv = fill_create_meta(c, meta)) != 0) {
        srv__respond_code(c->req, c->res, NULL, rv);
        goto out;
    }
    snprintf(c->name, sizeof c->name, "%s", srv__str(meta, "name"));
    if ((rv = srv__job_create(c)) != 0) {
        if (rv != -EINVAL)
            srv__respond_code(c->req, c->res, NULL, rv);
        goto out;
    }
    snprintf(c->ns, sizeof c->ns, "%s", c->route.ns);
    if (validate(c, NULL) != 0)
        goto out;
    if ((rv = srv__alloc_create(c)) != 0) {
        if (rv == -ENOMEM)
            srv__respond_code(c->req, c->res, c->name, rv);
        goto out;
    }
    if (srv__record_managed(c, c->obj, NULL) != 0)
        goto out;
    c->op = SRV_OP_CREATE;
    srv__write(c); /* a dry run too: it answers after admission */
    return;
out:
    srv__call_free(c); /* every path to here has answered */
}

/* ---- PUT (update) and DELETE need the current version ---------------------*/

/* Current version of the object named by the URL, decoded. */
static int load_current(struct srv_call *c, struct obj **ret, store_rev *rev)
{
    const struct store_kv *kv = NULL;
    int rv = store_get(repl_store(c->api->repl), c->res->store_prefix,
                       c->route.ns, c->route.name, 0, &kv);

    if (rv == 0) {
        *ret = srv__obj_load(c->api, c->res, kv, kv->mod_rev);
        *rev = kv->mod_rev;
        if (*ret == NULL)
            rv = -ENOMEM;
    }
    store_kv_unref(kv);
    if (rv != 0)
        srv__respond_code(c->req, c->res, c->route.name, rv);
    return rv;
}

static bool has_status(const struct obj_resource *res)
{
    return obj_resource_subresource(res, "status") != NULL;
}

/* A Service keeps its ClusterIP: filled in when the update leaves it out,
 * refused when it names another (Kubernetes: the field is immutable). */
static int keep_cluster_ip(struct srv_call *c, const struct obj *old)
{
    const char *was = srv__str(old, "spec.clusterIP");
    const char *now = srv__str(c->obj, "spec.clusterIP");
    struct obj *spec;

    if (strcmp(c->res->resource, "services") != 0 || c->res->group[0] != '\0' ||
        was[0] == '\0' || strcmp(was, now) == 0)
        return 0;
    if (now[0] != '\0') {
        srv__respond_bad(c->req, 422, "Invalid",
                         "Service \"%s\" is invalid: spec.clusterIPs[0]: "
                         "Invalid value: []string{\"%s\"}: may not change "
                         "once set",
                         c->route.name, now);
        return -EINVAL;
    }
    struct obj *ips = obj_get_path(old, "spec.clusterIPs");
    spec = obj_map_get_mut(c->obj, "spec");
    if (spec == NULL || srv__set_str(spec, "clusterIP", was) != 0 ||
        (ips != NULL && obj_map_set(spec, "clusterIPs", obj_ref(ips)) != 0))
        return -ENOMEM;
    return 0;
}

/* Build the new version from the old one and the body, the way the main
 * resource and its status subresource each may change it. Takes @body. */
/* A namespace's finalize: spec.finalizers from the body, the rest as it
 * was. Takes @body. */
static int finalize_update(struct srv_call *c, struct obj *old,
                           struct obj *body)
{
    struct obj *fin = obj_ref(obj_get_path(body, "spec.finalizers"));
    struct obj *spec;

    obj_unref(body);
    c->obj = obj_copy(old);
    if (c->obj == NULL || ((spec = obj_map_get_mut(c->obj, "spec")) == NULL &&
                           (obj_map_set(c->obj, "spec", obj_map_new()) != 0 ||
                            (spec = obj_map_get_mut(c->obj, "spec")) == NULL))) {
        obj_unref(fin);
        return -ENOMEM;
    }
    if (fin == NULL) {
        (void)obj_map_del(spec, "finalizers");
        return 0;
    }
    return obj_map_set(spec, "finalizers", fin);
}

static int merge_update(struct srv_call *c, struct obj *old, struct obj *body)
{
    bool status_only = strcmp(c->route.sub, "status") == 0;
    struct obj *meta;
    int64_t gen;

    if (strcmp(c->route.sub, "finalize") == 0)
        return finalize_update(c, old, body);

    if (status_only) {
        /* /status changes the status and nothing else. */
        struct obj *st = obj_ref(obj_map_get(body, "status"));
        obj_unref(body);
        c->obj = obj_copy(old);
        if (c->obj == NULL) {
            obj_unref(st);
            return -ENOMEM;
        }
        if (st == NULL)
            return obj_map_del(c->obj, "status");
        return obj_map_set(c->obj, "status", st);
    }
    c->obj = body; /* ours alone, so it may be changed in place */
    if (keep_cluster_ip(c, old) != 0)
        return -EINVAL;
    if (has_status(c->res)) {
        struct obj *st = obj_map_get(old, "status");
        (void)obj_map_del(c->obj, "status");
        if (st != NULL && obj_map_set(c->obj, "status", obj_ref(st)) != 0)
            return -ENOMEM;
    }
    meta = srv__meta(c->obj);
    if (meta == NULL ||
        obj_meta_carry_over(meta, obj_map_get(old, "metadata")) != 0)
        return -ENOMEM;
    gen = obj_next_generation(old, c->obj, "spec");
    return obj_map_set(meta, "generation", obj_int_new(gen));
}

/* resourceVersion of a body: 0 when absent; -1 when not a number. */
static long long body_rv(const struct obj *o)
{
    const char *s = srv__str(o, "metadata.resourceVersion");
    char *end;
    long long v;

    if (s[0] == '\0')
        return 0;
    v = strtoll(s, &end, 10);
    return *end != '\0' || v <= 0 ? -1 : v;
}

/* Is @next, the new version built from a request, @old itself? (@old, as
 * loaded, carries its resourceVersion; @next carries what the request said,
 * or nothing.) */
static bool changes_nothing(struct obj *next, const struct obj *old)
{
    struct obj *meta = srv__meta(next);
    const char *was = srv__str(old, "metadata.resourceVersion");
    bool same;

    if (meta == NULL || srv__set_str(meta, "resourceVersion", was) != 0)
        return false;
    same = obj_equal(next, old);
    (void)obj_map_del(meta, "resourceVersion");
    return same;
}

/* Shared by PUT and PATCH: @body is the complete new object. */
void srv__apply_update(struct srv_call *c, struct obj *body)
{
    struct obj *old = NULL;
    store_rev cur;
    long long want = body_rv(body);
    int rv;

    if (check_type(c, body) != 0 || check_namespace(c, srv__meta(body)) != 0 ||
        srv__schema_decode(c, &body) != 0)
        goto out;
    if ((rv = srv__secret_prepare(c, body)) != 0) {
        srv__respond_code(c->req, c->res, c->route.name, rv);
        goto out;
    }
    if (!srv__name_matches_url(c, body))
        goto out;
    if (want < 0) {
        srv__respond_bad(c->req, 400, "BadRequest",
                         "metadata.resourceVersion: Invalid value: must be an "
                         "integer");
        goto out;
    }
    if (load_current(c, &old, &cur) != 0)
        goto out;
    if (want != 0 && (store_rev)want != cur) {
        srv__respond_code(c->req, c->res, c->route.name, -C8S_ECONFLICT);
        goto out;
    }
    snprintf(c->name, sizeof c->name, "%s", c->route.name);
    snprintf(c->ns, sizeof c->ns, "%s", c->route.ns);
    rv = merge_update(c, old, body);
    body = NULL; /* merge_update took it */
    if (rv == -EINVAL)
        goto out; /* answered */
    if (rv == 0)
        rv = srv__crd_prepare(c, c->obj, old);
    if (rv != 0) {
        srv__respond_code(c->req, c->res, c->name, rv);
        goto out;
    }
    if (validate(c, old) != 0)
        goto out;
    if (changes_nothing(c->obj, old)) {
        /* As kube-apiserver: no write, no new resourceVersion, no watch
         * event; a controller that writes back what it read does not wake
         * itself up. */
        srv__respond_call_obj(c, 200, old);
        goto out;
    }
    if (srv__record_managed(c, c->obj, old) != 0)
        goto out;
    if (c->dry_run) {
        srv__respond_call_obj(c, 200, c->obj);
        goto out;
    }
    c->op = SRV_OP_UPDATE;
    c->expect_rev = cur;
    obj_unref(old);
    srv__write(c);
    return;
out:
    obj_unref(old);
    obj_unref(body);
    srv__call_free(c);
}

/* The current version is read after a read point, so an update sent to
 * any member sees every write acknowledged before it was sent. */
static void update_point(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);
    struct obj *body = c->obj; /* stashed by do_update */

    c->obj = NULL;
    if (res->code != 0) {
        srv__respond_code(c->req, c->res, c->route.name, res->code);
        obj_unref(body);
        srv__call_free(c);
        return;
    }
    srv__apply_update(c, body);
}

static void do_update(struct srv_call *c)
{
    if (srv__decode_body(c, &c->obj) != 0) {
        srv__call_free(c);
        return;
    }
    /* Without a resourceVersion an update is unconditional: kept to be
     * applied again to a newer version if one appears meanwhile. */
    if (body_rv(c->obj) == 0 && (c->put_body = obj_copy(c->obj)) == NULL) {
        srv__respond_code(c->req, c->res, c->route.name, -ENOMEM);
        srv__call_free(c);
        return;
    }
    srv__read(c, update_point);
}

/* A conflict on an unconditional PUT: read again and apply the body to
 * the newer version. */
static bool update_again(struct srv_call *c)
{
    struct obj *body;

    if (c->put_body == NULL || (body = obj_copy(c->put_body)) == NULL)
        return false;
    obj_unref(c->obj);
    c->obj = body;
    c->n_allocs = 0;
    srv__read(c, update_point);
    return true;
}

/* ---- DELETE ------------------------------------------------------------*/

/* DeleteOptions preconditions: uid and resourceVersion. */
static int check_preconditions(struct srv_call *c, const struct obj *opts,
                               const struct obj *cur)
{
    const char *uid = srv__str(opts, "preconditions.uid");
    const char *rv = srv__str(opts, "preconditions.resourceVersion");

    if (uid[0] != '\0' && strcmp(uid, srv__str(cur, "metadata.uid")) != 0) {
        srv__respond_bad(c->req, 409, "Conflict",
                         "Precondition failed: UID in precondition: %s, UID "
                         "in object meta: %s",
                         uid, srv__str(cur, "metadata.uid"));
        return -C8S_ECONFLICT;
    }
    if (rv[0] != '\0' &&
        strcmp(rv, srv__str(cur, "metadata.resourceVersion")) != 0) {
        srv__respond_bad(c->req, 409, "Conflict",
                         "Precondition failed: ResourceVersion in "
                         "precondition: %s, ResourceVersion in object meta: %s",
                         rv, srv__str(cur, "metadata.resourceVersion"));
        return -C8S_ECONFLICT;
    }
    return 0;
}

/* An object with finalizers (and every namespace: emptying one is the
 * namespace controller's job) is only marked for deletion. */
static bool graceful(const struct srv_call *c, const struct obj *cur)
{
    return obj_array_len(obj_get_path(cur, "metadata.finalizers")) > 0 ||
           strcmp(c->res->resource, "namespaces") == 0;
}

static int mark_deleted(struct srv_call *c, struct obj *cur)
{
    c->obj = obj_ref(cur);
    if (obj_unshare(&c->obj) != 0 ||
        (srv__is_crd(c->res) ? srv__crd_mark(c->obj)
                             : srv__mark_deleting(c->obj)) != 0)
        return -ENOMEM;
    if (strcmp(c->res->resource, "namespaces") == 0) {
        struct obj *st = obj_map_get_mut(c->obj, "status");
        if (st == NULL || srv__set_str(st, "phase", "Terminating") != 0)
            return -ENOMEM;
    }
    c->op = SRV_OP_UPDATE;
    return 0;
}

/* Marked for deletion already and waiting for its finalizers: deleting it
 * again changes nothing (kube-apiserver answers with the object as it
 * is, writing nothing). Once DELETE options that add finalizers
 * (propagationPolicy) are supported, they must still write. */
static bool deletion_pending(const struct srv_call *c, const struct obj *cur)
{
    return graceful(c, cur) &&
           obj_get_path(cur, "metadata.deletionTimestamp") != NULL;
}

/* A namespace being emptied, deleted again by a new request, is 409 as in
 * kube-apiserver (a DELETE that lost a race to mark it is not: 200). */
static bool namespace_still_emptying(const struct srv_call *c,
                                     const struct obj *cur)
{
    return c->delete_tries == 0 &&
           strcmp(c->res->resource, "namespaces") == 0 &&
           obj_get_path(cur, "metadata.deletionTimestamp") != NULL &&
           obj_array_len(obj_get_path(cur, "spec.finalizers")) > 0;
}

static void delete_point(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);
    struct obj *cur = NULL;
    store_rev rev;

    if (res->code != 0) {
        srv__respond_code(c->req, c->res, c->route.name, res->code);
        goto out;
    }
    if (load_current(c, &cur, &rev) != 0 ||
        check_preconditions(c, c->delete_opts, cur))
        goto out;
    if (namespace_still_emptying(c, cur)) {
        srv__respond_bad(c->req, 409, "Conflict",
                         "Operation cannot be fulfilled on namespaces \"%s\": "
                         "The system is ensuring all content is removed from "
                         "this namespace.  Upon completion, this namespace "
                         "will automatically be purged by the system.",
                         c->route.name);
        goto out;
    }
    if (deletion_pending(c, cur)) {
        srv__respond_obj(c->req, 200, cur);
        goto out;
    }
    snprintf(c->name, sizeof c->name, "%s", c->route.name);
    snprintf(c->ns, sizeof c->ns, "%s", c->route.ns);
    c->expect_rev = rev;
    if (graceful(c, cur)) {
        if (mark_deleted(c, cur) != 0) {
            srv__respond_code(c->req, c->res, c->name, -ENOMEM);
            goto out;
        }
    } else {
        c->op = SRV_OP_DELETE;
        c->obj = obj_ref(cur);
        srv__alloc_release(c, cur);
        (void)snprintf(c->owner, sizeof c->owner, "%s/%s", c->ns, c->name);
    }
    obj_unref(cur);
    if (c->dry_run) {
        srv__respond_obj(c->req, 200, c->obj);
        srv__call_free(c);
        return;
    }
    srv__write(c);
    return;
out:
    obj_unref(cur);
    srv__call_free(c);
}

bool srv__delete_again(struct srv_call *c)
{
    if (!c->deleting || c->delete_tries++ >= MAX_UNCONDITIONAL_RETRIES)
        return false;
    obj_unref(c->obj);
    c->obj = NULL;
    c->n_allocs = 0;
    /* A definition read again is marked and swept again (a no-op when
     * done): the one read may have been made anew meanwhile. */
    c->swept = false;
    c->crd_marked = false;
    c->sweep_rounds = 0;
    srv__read(c, delete_point);
    return true;
}

static void do_delete(struct srv_call *c)
{
    if (c->req->body_len > 0 && srv__decode_body(c, &c->delete_opts) != 0) {
        srv__call_free(c);
        return;
    }
    c->deleting = true;
    srv__read(c, delete_point);
}

/* ---- dispatch ----------------------------------------------------------*/

static void method_not_allowed(struct srv_call *c)
{
    srv__respond_bad(c->req, 405, "MethodNotAllowed",
                     "the server does not allow this method on the requested "
                     "resource");
    srv__call_free(c);
}

static void got_scale_point(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);
    struct obj *cur = NULL, *sc;
    store_rev rev;

    if (res->code != 0) {
        srv__respond_code(c->req, c->res, c->route.name, res->code);
    } else if (load_current(c, &cur, &rev) == 0) {
        if (strcmp(c->req->method, "GET") != 0) {
            srv__scale_write(c, cur, rev);
            obj_unref(cur);
            return;
        }
        sc = srv__scale_of(c->res, cur);
        if (sc == NULL)
            srv__respond_code(c->req, c->res, c->route.name, -ENOMEM);
        else
            srv__respond_obj(c->req, 200, sc);
        obj_unref(sc);
    }
    obj_unref(cur);
    srv__call_free(c);
}

static void dispatch_scale(struct srv_call *c)
{
    const char *m = c->req->method;

    if (strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 ||
        strcmp(m, "PATCH") == 0)
        srv__read(c, got_scale_point);
    else
        method_not_allowed(c);
}

static void dispatch_item(struct srv_call *c)
{
    const char *m = c->req->method;

    if (strcmp(c->route.sub, "scale") == 0) {
        dispatch_scale(c);
        return;
    }
    if (strcmp(c->route.sub, "token") == 0) {
        srv__token_request(c);
        return;
    }
    if (strcmp(c->route.sub, "finalize") == 0 && strcmp(m, "PUT") != 0) {
        method_not_allowed(c);
        return;
    }
    if (strcmp(m, "GET") == 0) {
        srv__read(c, got_read_point);
    } else if (strcmp(m, "PUT") == 0) {
        do_update(c);
    } else if (strcmp(m, "PATCH") == 0) {
        srv__patch(c);
    } else if (strcmp(m, "DELETE") == 0 && c->route.sub[0] == '\0') {
        do_delete(c);
    } else {
        method_not_allowed(c);
    }
}

/* SelfSubjectAccessReview and SelfSubjectRulesReview: answered, not
 * stored (authz.c). */
static void review(struct srv_call *c)
{
    struct obj *body = NULL;

    if (srv__decode_body(c, &body) != 0 || check_type(c, body) != 0 ||
        srv__schema_decode(c, &body) != 0) {
        obj_unref(body);
        srv__call_free(c);
        return;
    }
    srv__authz_review(c, body);
}

static void dispatch_collection(struct srv_call *c)
{
    const char *m = c->req->method;

    if (strcmp(m, "GET") == 0 &&
        (c->route.legacy_watch || query_flag(c->req, "watch", NULL)))
        (void)srv__watch(c);
    else if (strcmp(m, "GET") == 0)
        (void)srv__list(c);
    else if (strcmp(m, "POST") == 0 &&
             strcmp(c->res->group, "authorization.k8s.io") == 0)
        review(c);
    else if (strcmp(m, "POST") == 0 && (!c->res->namespaced ||
                                        c->route.has_ns))
        do_create(c);
    else if (strcmp(m, "DELETE") == 0 &&
             (c->res->verbs & OBJ_VERB_DELETECOLLECTION) != 0)
        srv__deletecollection(c);
    else
        method_not_allowed(c);
}

/* Route checks that apply before any verb: the resource exists, the scope
 * matches the path, the subresource is one we serve. */
static bool resolve(struct srv_api *api, struct srv_call *c)
{
    const struct srv_route *r = &c->route;

    c->res = obj_registry_find(api->reg, r->group, r->version, r->resource);
    if (c->res == NULL && r->group[0] != '\0' && !c->caught_up) {
        /* Perhaps a custom resource whose definition is not applied on
         * this member yet: srv__serve_api catches up and asks again
         * (nothing is answered yet). */
        c->catch_up = true;
        return false;
    }
    if (c->res == NULL ||
        (r->sub[0] != '\0' && obj_resource_subresource(c->res, r->sub) == NULL) ||
        (r->sub[0] != '\0' && r->name[0] == '\0') ||
        (!c->res->namespaced && r->has_ns) ||
        (c->res->namespaced && !r->has_ns && r->name[0] != '\0')) {
        (void)srv_respond_status(c->req, 404, "NotFound",
                                 "the server could not find the requested "
                                 "resource",
                                 0);
        return false;
    }
    srv__crd_hold(c);
    return true;
}

static void serve_discovery(struct srv_api *api, struct srv_req *req)
{
    struct srv_disc_reply d;

    if (strcmp(req->method, "GET") != 0) {
        (void)srv_respond_status(req, 405, "MethodNotAllowed",
                                 "only GET is allowed here", 0);
        return;
    }
    srv_discovery_lookup(api->disc, req->path, srv_req_header(req, "Accept"),
                         srv_req_header(req, "If-None-Match"), &d);
    if (d.status == 200)
        (void)srv_respond_rbuf(req, 200, d.content_type, d.headers, d.body);
    else if (d.status == 304)
        (void)srv_respond(req, 304, NULL, d.headers, NULL, 0);
    else
        (void)srv_respond_status(req, d.status ? d.status : 404,
                                 d.reason ? d.reason : "NotFound",
                                 d.message ? d.message : "not found", 0);
}

/* kube-apiserver's max-in-flight filter: past the limit of reads or of
 * writes being served, 429 with Retry-After, so an overloaded member sheds
 * load before its queues grow. Watches are long-running and not counted. */
static bool admit(struct srv_call *c)
{
    const char *m = c->req->method;
    bool write = strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
    unsigned limit = write ? c->api->cfg.max_mutating : c->api->cfg.max_inflight;

    if (!write && (c->route.legacy_watch || query_flag(c->req, "watch", NULL)))
        return true;
    if (limit == 0)
        limit = write ? 200 : 400;
    if (c->api->inflight[write] >= limit) {
        (void)srv_respond_status(c->req, 429, "TooManyRequests",
                                 "Too many requests, please try again later.",
                                 1);
        return false;
    }
    c->api->inflight[write]++;
    c->counted = 1 + write;
    return true;
}

static void dispatch_admitted(struct srv_call *c)
{
    if (!c->counted && !admit(c)) {
        srv__call_free(c);
        return;
    }
    if (c->route.name[0] != '\0')
        dispatch_item(c);
    else
        dispatch_collection(c);
}

/* After catching up: resolve once more (404 now if still unknown). */
static void dispatch_resolved(struct srv_call *c)
{
    c->catch_up = false;
    if (!resolve(c->api, c)) {
        srv__call_free(c);
        return;
    }
    dispatch_admitted(c);
}

bool srv__serve_api(struct srv_api *api, struct srv_req *req)
{
    struct srv_call *c;
    struct srv_route r;

    if (srv_route_parse(req->path, &r) != 0) {
        (void)srv_respond_status(req, 404, "NotFound",
                                 "the server could not find the requested "
                                 "resource",
                                 0);
        return true;
    }
    if (r.kind == SRV_ROUTE_NONE)
        return false;
    if (r.kind != SRV_ROUTE_RESOURCE) {
        serve_discovery(api, req);
        return true;
    }
    c = mem_calloc(1, sizeof *c);
    if (c == NULL) {
        (void)srv_respond_status(req, 503, "ServiceUnavailable",
                                 "out of memory", 1);
        return true;
    }
    c->api = api;
    c->req = req;
    c->route = r;
    c->dry_run = query_flag(req, "dryRun", "All");
    if (!resolve(api, c)) {
        /* Counted as in flight while it catches up, like any call. */
        if (c->catch_up && admit(c)) {
            c->caught_up = true;
            srv__crd_catch_up(c, dispatch_resolved);
            return true;
        }
        srv__call_free(c);
        return true;
    }
    dispatch_admitted(c);
    return true;
}
