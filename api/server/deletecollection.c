/* DELETE on a collection: every matching object, in batches of up to
 * MAX_OBJECTS keys, each batch one txn.
 *
 * All deletions of a batch carry the version they were read at, so a batch
 * is deleted as it was at one revision or not at all (a concurrent change
 * makes the txn fail; the batch is retried from a fresh read). Batches
 * follow each other in key order until the collection is done; like
 * kube-apiserver's, the whole call is not atomic. Objects with finalizers
 * are marked for deletion instead, as a single DELETE would. Services also
 * release their ClusterIPs and NodePorts in the same txn. */
#include <stdio.h>
#include <string.h>

#include "api/server/objects.h"
#include "lib/container.h"
#include "lib/mem.h"

#define MAX_OBJECTS 2000
#define MAX_TRIES 3

/* The txn being built: its ops and the buffers they point into. */
struct collection {
    struct srv_call *c;             /* The call. */
    struct srv_filter f;            /* Selectors. */
    struct store_op *ops;           /* Ops of the txn. */
    size_t n_ops;                   /* Used. */
    size_t cap_ops;                 /* Allocated. */
    struct obj_buf *bufs;           /* Encoded marked objects, per op. */
    char (*names)[SRV_ROUTE_SEG_MAX]; /* Names and namespaces, per op. */
    char (*nss)[SRV_ROUTE_SEG_MAX];
    struct obj *deleted;            /* Items of the answer, so far. */
    struct obj *batch;              /* Items of the batch in flight. */
    char after_ns[SRV_ROUTE_SEG_MAX]; /* The batch starts after this key */
    char after_name[SRV_ROUTE_SEG_MAX];
    bool has_after;                 /* (not for the first batch). */
    char last_ns[SRV_ROUTE_SEG_MAX];  /* Last key the batch scanned. */
    char last_name[SRV_ROUTE_SEG_MAX];
    bool more;                      /* Keys follow the batch. */
    int tries;                      /* Attempts of this batch. */
};

/* Forget the batch being built (the items already deleted stay). */
static void reset(struct collection *l)
{
    for (size_t i = 0; i < l->n_ops; i++)
        obj_buf_done(&l->bufs[i]);
    l->n_ops = 0;
    obj_unref(l->batch);
    l->batch = obj_array_new();
}

static void collection_free(struct collection *l)
{
    reset(l);
    obj_unref(l->batch);
    obj_unref(l->deleted);
    srv__filter_done(&l->f);
    mem_free(l->ops);
    mem_free(l->bufs);
    mem_free(l->names);
    mem_free(l->nss);
    srv__call_free(l->c);
    mem_free(l);
}

/* Room for one more op; its strings live in names/nss. */
static struct store_op *next_op(struct collection *l, const char *ns,
                                const char *name)
{
    size_t i;

    if (l->n_ops == l->cap_ops)
        return NULL;
    i = l->n_ops++;
    obj_buf_init(&l->bufs[i]);
    (void)snprintf(l->nss[i], SRV_ROUTE_SEG_MAX, "%s", ns);
    (void)snprintf(l->names[i], SRV_ROUTE_SEG_MAX, "%s", name);
    memset(&l->ops[i], 0, sizeof l->ops[i]);
    l->ops[i].ns = l->nss[i];
    l->ops[i].name = l->names[i];
    return &l->ops[i];
}

/* Mark @o (with finalizers) as being deleted: an UPDATE. */
static int add_mark(struct collection *l, const struct store_kv *kv,
                    struct obj *o)
{
    struct store_op *op = next_op(l, kv->ns, kv->name);

    if (op == NULL || srv__mark_deleting(o) != 0)
        return -ENOMEM;
    if (srv__obj_encode(l->c->api, l->c->res, kv->ns, kv->name, o,
                        &l->bufs[l->n_ops - 1]) != 0)
        return -ENOMEM;
    op->type = STORE_OP_UPDATE;
    op->resource = l->c->res->store_prefix;
    op->value = l->bufs[l->n_ops - 1].data;
    op->value_len = l->bufs[l->n_ops - 1].len;
    op->expect_rev = kv->mod_rev;
    return 0;
}

/* Delete @kv, and release what a Service holds. */
static int add_delete(struct collection *l, const struct store_kv *kv,
                      const struct obj *o)
{
    struct srv_call *c = l->c;
    struct store_op *op;

    (void)snprintf(c->ns, sizeof c->ns, "%s", kv->ns);
    (void)snprintf(c->name, sizeof c->name, "%s", kv->name);
    srv__alloc_release(c, o);
    for (size_t i = 0; i < c->n_allocs; i++) {
        op = next_op(l, "", c->allocs[i].name);
        if (op == NULL)
            return -ENOMEM;
        op->type = STORE_OP_DELETE;
        op->resource = c->allocs[i].resource;
    }
    op = next_op(l, kv->ns, kv->name);
    if (op == NULL)
        return -ENOMEM;
    op->type = STORE_OP_DELETE;
    op->resource = c->res->store_prefix;
    op->expect_rev = kv->mod_rev;
    return 0;
}

static int add_one(struct collection *l, const struct store_kv *kv)
{
    struct obj *o = srv__obj_load(l->c->api, l->c->res, kv, kv->mod_rev);
    int rv;

    if (o == NULL)
        return -ENOMEM;
    if (!srv__filter_match(&l->f, o)) {
        obj_unref(o);
        return 0;
    }
    if (obj_array_len(obj_get_path(o, "metadata.finalizers")) > 0)
        rv = add_mark(l, kv, o);
    else
        rv = add_delete(l, kv, o);
    if (rv == 0)
        rv = obj_array_append(l->batch, o);
    else
        obj_unref(o);
    return rv;
}

/* A batch is done: its items join the answer. */
static int keep_batch(struct collection *l)
{
    for (size_t i = 0; i < obj_array_len(l->batch); i++)
        if (obj_array_append(l->deleted,
                             obj_ref(obj_array_get(l->batch, i))) != 0)
            return -ENOMEM;
    return 0;
}

/* The next batch starts after the last key this one scanned. */
static void advance(struct collection *l)
{
    (void)snprintf(l->after_ns, sizeof l->after_ns, "%s", l->last_ns);
    (void)snprintf(l->after_name, sizeof l->after_name, "%s", l->last_name);
    l->has_after = true;
    l->tries = 0;
}

static void answer(struct collection *l)
{
    char apiv[300];
    struct obj *list = obj_map_new();

    srv__api_version(l->c->res, apiv, sizeof apiv);
    if (srv__set_str(list, "kind", l->c->res->list_kind) != 0 ||
        srv__set_str(list, "apiVersion", apiv) != 0 ||
        obj_map_set(list, "metadata", obj_map_new()) != 0 ||
        obj_map_set(list, "items", obj_ref(l->deleted)) != 0)
        srv__respond_code(l->c->req, l->c->res, NULL, -ENOMEM);
    else
        srv__respond_obj(l->c->req, 200, list);
    obj_unref(list);
}

static void read_and_delete(struct collection *l);

static void deleted(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);
    struct collection *l = c->req->data;

    int rv = res->code;

    if ((rv == -C8S_ECONFLICT || rv == -C8S_ENOTFOUND) &&
        ++l->tries < MAX_TRIES) {
        read_and_delete(l); /* changed meanwhile: read again */
        return;
    }
    if (rv == 0)
        rv = keep_batch(l);
    if (rv == 0 && l->more) {
        advance(l);
        read_and_delete(l);
        return;
    }
    c->req->data = NULL; /* answering frees the request */
    if (rv == 0)
        answer(l);
    else
        srv__respond_code(c->req, c->res, NULL, rv);
    collection_free(l);
}

static void got_point(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);
    struct collection *l = c->req->data;
    struct store_list page = {0};
    struct store_range q = {.resource = c->res->store_prefix,
                            .ns = c->route.has_ns ? c->route.ns : NULL,
                            .after_ns = l->has_after ? l->after_ns : NULL,
                            .after_name = l->has_after ? l->after_name : NULL,
                            .limit = MAX_OBJECTS};
    int rv = res->code;

    reset(l);
    if (rv == 0)
        rv = store_list(repl_store(c->api->repl), &q, &page);
    for (size_t i = 0; rv == 0 && i < page.len; i++)
        rv = add_one(l, page.items[i]);
    l->more = rv == 0 && page.more && page.len > 0;
    if (l->more) {
        const struct store_kv *last = page.items[page.len - 1];
        (void)snprintf(l->last_ns, sizeof l->last_ns, "%s", last->ns);
        (void)snprintf(l->last_name, sizeof l->last_name, "%s", last->name);
    }
    store_list_done(&page);
    if (rv == 0 && l->n_ops > 0 && !c->dry_run) {
        c->rreq.cb = deleted;
        rv = repl_submit(c->api->repl, &c->rreq, l->ops, l->n_ops);
        if (rv == 0)
            return; /* req->data still points at l for deleted() */
    }
    if (rv == 0 && (rv = keep_batch(l)) == 0 && l->more) {
        advance(l); /* nothing to do in this batch (or dryRun): go on */
        read_and_delete(l);
        return;
    }
    c->req->data = NULL; /* answering frees the request */
    if (rv == 0)
        answer(l); /* nothing matched, or dryRun */
    else
        srv__respond_code(c->req, c->res, NULL, rv);
    collection_free(l);
}

static void read_and_delete(struct collection *l)
{
    srv__read(l->c, got_point);
}

void srv__deletecollection(struct srv_call *c)
{
    struct collection *l;
    size_t cap = MAX_OBJECTS * (1 + 4); /* an object and its allocations */

    if (srv__is_crd(c->res)) {
        /* Each definition's objects go before it (srv__crd_sweep), which
         * one DELETE does and batches of definitions would not. */
        srv__respond_bad(c->req, 405, "MethodNotAllowed",
                         "delete customresourcedefinitions one by one, so "
                         "that each one's objects are deleted with it");
        srv__call_free(c);
        return;
    }
    l = mem_calloc(1, sizeof *l);
    if (l != NULL) {
        l->ops = mem_calloc(cap, sizeof *l->ops);
        l->bufs = mem_calloc(cap, sizeof *l->bufs);
        l->names = mem_calloc(cap, sizeof *l->names);
        l->nss = mem_calloc(cap, sizeof *l->nss);
        l->deleted = obj_array_new();
        l->batch = obj_array_new();
        l->cap_ops = cap;
        l->c = c;
    }
    if (l == NULL || l->ops == NULL || l->bufs == NULL || l->names == NULL ||
        l->nss == NULL || l->deleted == NULL || l->batch == NULL) {
        srv__respond_code(c->req, c->res, NULL, -ENOMEM);
        if (l != NULL)
            collection_free(l);
        else
            srv__call_free(c);
        return;
    }
    if (srv__filter_parse(c, &l->f) != 0) {
        collection_free(l);
        return;
    }
    c->req->data = l;
    read_and_delete(l);
}
