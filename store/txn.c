/* Transactions: validate, stage every change, then commit without failure.
 *
 * All allocation happens while staging, so an -ENOMEM (or a failed
 * precondition) leaves the store exactly as it was; the commit step only
 * links prepared versions in. */
#include <string.h>

#include "lib/crc32.h"
#include "lib/mem.h"
#include "store/internal.h"

/* What one op will do. */
struct stage {
    struct store__key *key;    /* Key node (ref), NULL if absent and unused. */
    bool new_key;              /* key must be inserted into the index. */
    struct store__ver *view;   /* Live version before the op (borrowed). */
    struct store__ver *ver;    /* New version (ref), NULL for CHECK. */
};

/* State of one store_txn call. */
struct txn {
    struct store *s;           /* Store being changed. */
    const struct store_op *ops;/* Caller's ops. */
    size_t n_ops;              /* Number of ops. */
    int64_t time_ms;           /* Proposer's clock. */
    struct stage *st;          /* One stage per op. */
    size_t n_writes;           /* Versions staged so far. */
};

static const char *op_ns(const struct store_op *op)
{
    return op->ns != NULL ? op->ns : "";
}

static bool op_writes(enum store_op_type t)
{
    return t != STORE_OP_CHECK;
}

static int validate_op(const struct store_op *op)
{
    if ((unsigned)op->type > STORE_OP_CHECK)
        return -EINVAL;
    if (!store__valid_str(op->resource, false) ||
        !store__valid_str(op->name, false))
        return -EINVAL;
    if (op->value == NULL && op->value_len > 0)
        return -EINVAL;
    return 0;
}

static bool same_key(const struct store_op *a, const struct store_op *b)
{
    return strcmp(a->resource, b->resource) == 0 &&
           strcmp(op_ns(a), op_ns(b)) == 0 && strcmp(a->name, b->name) == 0;
}

/* An earlier op of this txn on the same key decides what op @i sees. */
static bool view_from_stage(struct txn *t, size_t i)
{
    for (size_t j = i; j-- > 0;) {
        const struct stage *p = &t->st[j];

        if (!same_key(&t->ops[j], &t->ops[i]))
            continue;
        if (p->key != NULL)
            t->st[i].key = store__key_ref(p->key);
        t->st[i].view = p->ver != NULL ? store__ver_at(p->ver, UINT64_MAX)
                                       : p->view;
        return true;
    }
    return false;
}

/* Find the key and the live version op @i applies to. */
static int find_view(struct txn *t, size_t i)
{
    const struct store_op *op = &t->ops[i];
    struct stage *st = &t->st[i];
    struct store__key *k;

    if (!view_from_stage(t, i)) {
        k = store__index_find(&t->s->db, op->resource, op_ns(op), op->name);
        if (k != NULL) {
            st->key = store__key_ref(k);
            st->view = store__ver_at(k->newest, UINT64_MAX);
        }
    }
    if (st->key == NULL && op_writes(op->type)) {
        st->key = store__key_new(op->resource, op_ns(op), op->name);
        if (st->key == NULL)
            return -ENOMEM;
        st->new_key = true;
    }
    return 0;
}

/* The precondition of @op against the live version @view (NULL: absent). */
static int check_op(const struct store_op *op, const struct store__ver *view)
{
    bool must_exist = op->type == STORE_OP_UPDATE ||
                      op->type == STORE_OP_DELETE ||
                      (op->type != STORE_OP_CREATE && op->expect_rev != 0);

    if (op->type == STORE_OP_CREATE ||
        (op->type == STORE_OP_CHECK && op->expect_rev == 0))
        return view != NULL ? -C8S_EEXISTS : 0;
    if (view == NULL)
        return must_exist ? -C8S_ENOTFOUND : 0;
    if (op->expect_rev != 0 && op->expect_rev != view->kv.mod_rev)
        return -C8S_ECONFLICT;
    return 0;
}

/* Build the new version for write op @i. */
static int make_version(struct txn *t, size_t i)
{
    const struct store_op *op = &t->ops[i];
    struct stage *st = &t->st[i];
    struct rbuf *value = NULL;
    uint32_t crc = 0;
    const char *field = op->type == STORE_OP_DELETE ? NULL : op->field;
    store_rev rev = t->s->db.current_rev + 1 + t->n_writes;

    if (op->type != STORE_OP_DELETE) {
        value = rbuf_new(op->value, op->value_len);
        if (value == NULL)
            return -ENOMEM;
        /* Checksummed once here, while the bytes are in cache, and never
         * again: snapshots reuse it (snapshot.c). */
        crc = crc32_update(0, value->data, value->len);
    }
    st->ver = store__ver_new(st->key, value, crc, field,
                             field != NULL ? strlen(field) : 0);
    if (st->ver == NULL) {
        (void)rbuf_unref(value);
        return -ENOMEM;
    }
    st->ver->kv.mod_rev = rev;
    st->ver->kv.time_ms = t->time_ms;
    if (value != NULL) {
        st->ver->kv.create_rev = st->view ? st->view->kv.create_rev : rev;
        st->ver->kv.version = st->view ? st->view->kv.version + 1 : 1;
    }
    t->n_writes++;
    return 0;
}

static int stage_op(struct txn *t, size_t i)
{
    const struct store_op *op = &t->ops[i];
    int rv = validate_op(op);

    if (rv == 0)
        rv = find_view(t, i);
    if (rv == 0)
        rv = check_op(op, t->st[i].view);
    if (rv == 0 && op_writes(op->type))
        rv = make_version(t, i);
    return rv;
}

static void release_stages(struct txn *t)
{
    for (size_t i = 0; i < t->n_ops; i++) {
        store__ver_unref(t->st[i].ver);
        store__key_unref(t->st[i].key);
    }
    mem_free(t->st);
}

/* Link one prepared version in. Cannot fail. */
static void commit_version(struct store__db *db, struct stage *st)
{
    struct store__key *k = st->key;
    bool was_live = k->newest != NULL && !store__is_tomb(k->newest);
    bool is_live = !store__is_tomb(st->ver);

    if (st->new_key)
        store__index_insert(db, store__key_ref(k));
    st->ver->older = k->newest;
    k->newest = store__ver_ref(st->ver);
    store__hist_push(db, st->ver);
    db->current_rev = st->ver->kv.mod_rev;
    db->n_live = db->n_live + is_live - was_live;
}

static void commit(struct txn *t)
{
    for (size_t i = 0; i < t->n_ops; i++)
        if (t->st[i].ver != NULL)
            commit_version(&t->s->db, &t->st[i]);
    for (size_t i = 0; i < t->n_ops; i++)
        if (t->st[i].ver != NULL)
            store__watch_fanout(t->s, t->st[i].ver);
}

static void result_success(struct txn *t, struct store_op_result *ops)
{
    for (size_t i = 0; i < t->n_ops; i++) {
        struct stage *st = &t->st[i];

        ops[i].kv = st->ver ? &store__ver_ref(st->ver)->kv : NULL;
        ops[i].prev = st->view ? &store__ver_ref(st->view)->kv : NULL;
    }
}

/* On failure only the failing op reports the key's committed version. */
static void result_failure(struct txn *t, size_t f, struct store_op_result *ops)
{
    const struct store_op *op = &t->ops[f];
    struct store__key *k = NULL;
    struct store__ver *v = NULL;

    memset(ops, 0, t->n_ops * sizeof *ops);
    if (validate_op(op) == 0)
        k = store__index_find(&t->s->db, op->resource, op_ns(op), op->name);
    if (k != NULL)
        v = store__ver_at(k->newest, UINT64_MAX);
    ops[f].prev = v ? &store__ver_ref(v)->kv : NULL;
}

static int run(struct txn *t, size_t *failed)
{
    int rv = 0;
    size_t i;

    for (i = 0; i < t->n_ops && rv == 0; i++)
        rv = stage_op(t, i);
    *failed = rv != 0 ? i - 1 : 0;
    if (rv == 0)
        rv = store__hist_reserve(&t->s->db, t->n_writes);
    if (rv == 0)
        commit(t);
    return rv;
}

static int fill_result(struct txn *t, int rv, size_t failed,
                       struct store_txn_result *ret)
{
    if (ret == NULL)
        return rv;
    ret->code = rv;
    ret->failed_op = failed;
    ret->rev = t->s->db.current_rev;
    if (ret->ops != NULL && rv == 0)
        result_success(t, ret->ops);
    else if (ret->ops != NULL)
        result_failure(t, failed, ret->ops);
    return rv;
}

int store_txn(struct store *s, const struct store_op *ops, size_t n_ops,
              int64_t time_ms, struct store_txn_result *ret)
{
    struct txn t = {s, ops, n_ops, time_ms, NULL, 0};
    size_t failed = 0;
    int rv = 0;

    if (n_ops > 0) {
        t.st = mem_calloc(n_ops, sizeof *t.st);
        if (t.st == NULL)
            return fill_result(&t, -ENOMEM, 0, ret);
        rv = run(&t, &failed);
    }
    rv = fill_result(&t, rv, failed, ret);
    if (t.st != NULL)
        release_stages(&t);
    store__watch_notify(s);
    return rv;
}

void store_txn_result_done(struct store_txn_result *r, size_t n_ops)
{
    if (r == NULL || r->ops == NULL)
        return;
    for (size_t i = 0; i < n_ops; i++) {
        r->ops[i].kv = store_kv_unref(r->ops[i].kv);
        r->ops[i].prev = store_kv_unref(r->ops[i].prev);
    }
}
