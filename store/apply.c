/* Batch decoder and applier.
 *
 * Two passes over the bytes. The first validates everything and measures
 * what the second needs; all memory is then allocated before any command is
 * applied, so a malformed batch (or an allocation failure at the start)
 * changes nothing. The second pass decodes each command into reusable
 * buffers and applies it. */
#include <string.h>

#include "lib/mem.h"
#include "lib/mp.h"
#include "store/cmd.h"
#include "store/internal.h"

/* Decoder. In the first pass ops and arena are NULL: only sizes are
 * gathered. */
struct dec {
    struct mp_reader r;        /* Position. */
    struct store_op *ops;      /* Decoded ops of the current txn. */
    char *arena;               /* Their strings. */
    size_t arena_used;         /* Bytes of arena used by the current txn. */
    size_t n_ops;              /* Ops of the current txn. */
    store_rev compact_rev;     /* Argument of the current COMPACT. */
    size_t max_ops;            /* Pass 1: most ops in one txn. */
    size_t max_arena;          /* Pass 1: most string bytes in one txn. */
    size_t total_ops;          /* Pass 1: ops in all txns. */
};

/* A string without '\0'; empty only if @may_be_empty. Copied into the
 * arena (with a terminator) in the second pass. */
static int read_string(struct dec *d, bool may_be_empty, const char **ret)
{
    const char *s;
    uint32_t len;

    if (mp_read_str(&d->r, &s, &len) != 0 || (len == 0 && !may_be_empty) ||
        memchr(s, '\0', len) != NULL)
        return -C8S_EMALFORMED;
    if (d->arena != NULL) {
        memcpy(d->arena + d->arena_used, s, len);
        d->arena[d->arena_used + len] = '\0';
        *ret = d->arena + d->arena_used;
    }
    d->arena_used += (size_t)len + 1;
    return 0;
}

static int read_value(struct dec *d, struct store_op *op)
{
    const void *v = NULL;
    uint32_t len = 0;

    if (!mp_read_nil(&d->r) && mp_read_bin(&d->r, &v, &len) != 0)
        return -C8S_EMALFORMED;
    op->value = v;
    op->value_len = len;
    return 0;
}

static int read_field(struct dec *d, struct store_op *op)
{
    op->field = NULL;
    if (mp_read_nil(&d->r))
        return 0;
    return read_string(d, true, &op->field);
}

static int read_op(struct dec *d, struct store_op *op)
{
    uint32_t n;
    uint64_t type;

    memset(op, 0, sizeof *op);
    if (mp_read_array(&d->r, &n) != 0 || n != 7 ||
        mp_read_uint(&d->r, &type) != 0 || type > STORE_OP_CHECK)
        return -C8S_EMALFORMED;
    op->type = (enum store_op_type)type;
    if (read_string(d, false, &op->resource) != 0 ||
        read_string(d, true, &op->ns) != 0 ||
        read_string(d, false, &op->name) != 0 || read_value(d, op) != 0 ||
        read_field(d, op) != 0 || mp_read_uint(&d->r, &op->expect_rev) != 0)
        return -C8S_EMALFORMED;
    return 0;
}

static int read_txn(struct dec *d)
{
    struct store_op scratch;
    uint32_t n;

    if (mp_read_array(&d->r, &n) != 0)
        return -C8S_EMALFORMED;
    d->n_ops = n;
    d->arena_used = 0;
    for (uint32_t i = 0; i < n; i++)
        if (read_op(d, d->ops != NULL ? &d->ops[i] : &scratch) != 0)
            return -C8S_EMALFORMED;
    if (n > d->max_ops)
        d->max_ops = n;
    if (d->arena_used > d->max_arena)
        d->max_arena = d->arena_used;
    d->total_ops += n;
    return 0;
}

static int read_cmd(struct dec *d, enum store_cmd_type *type)
{
    uint32_t n;
    uint64_t t;

    if (mp_read_array(&d->r, &n) != 0 || n != 2 ||
        mp_read_uint(&d->r, &t) != 0)
        return -C8S_EMALFORMED;
    *type = (enum store_cmd_type)t;
    if (t == STORE_CMD_TXN)
        return read_txn(d);
    if (t == STORE_CMD_COMPACT)
        return mp_read_uint(&d->r, &d->compact_rev);
    return -C8S_EMALFORMED;
}

static int read_header(struct dec *d, struct store_batch_info *info)
{
    uint32_t n;
    uint64_t format;

    memset(info, 0, sizeof *info);
    if (mp_read_array(&d->r, &n) != 0 || n != 4 ||
        mp_read_uint(&d->r, &format) != 0 || format != STORE_BATCH_FORMAT ||
        mp_read_uint(&d->r, &info->proposer_id) != 0 ||
        mp_read_uint(&d->r, &info->batch_id) != 0 ||
        mp_read_int(&d->r, &info->time_ms) != 0)
        return -C8S_EMALFORMED;
    return 0;
}

/* Pass 1: validate everything, count and measure. */
static int scan(struct dec *d, const void *buf, size_t len,
                struct store_batch_info *info)
{
    enum store_cmd_type type;

    memset(d, 0, sizeof *d);
    mp_reader_init(&d->r, buf, len);
    if (read_header(d, info) != 0)
        return -C8S_EMALFORMED;
    while (mp_left(&d->r) > 0) {
        if (read_cmd(d, &type) != 0)
            return -C8S_EMALFORMED;
        info->n_cmds++;
    }
    return 0;
}

int store_batch_peek(const void *buf, size_t len,
                     struct store_batch_info *ret)
{
    struct dec d;

    return scan(&d, buf, len, ret);
}

/* Everything pass 2 needs, allocated up front. */
struct work {
    struct store_op *ops;           /* max_ops entries. */
    char *arena;                    /* max_arena bytes. */
};

static int work_alloc(struct work *wk, const struct dec *d)
{
    wk->ops = mem_calloc(d->max_ops ? d->max_ops : 1, sizeof *wk->ops);
    wk->arena = mem_malloc(d->max_arena ? d->max_arena : 1);
    return wk->ops != NULL && wk->arena != NULL ? 0 : -ENOMEM;
}

static void work_done(struct work *wk)
{
    mem_free(wk->ops);
    mem_free(wk->arena);
}

static int result_alloc(struct store_batch_result *ret,
                        const struct store_batch_info *info,
                        const struct dec *d)
{
    ret->info = *info;
    ret->cmds = mem_calloc(info->n_cmds ? info->n_cmds : 1,
                           sizeof *ret->cmds);
    ret->ops_block = mem_calloc(d->total_ops ? d->total_ops : 1,
                                sizeof *ret->ops_block);
    return ret->cmds != NULL && ret->ops_block != NULL ? 0 : -ENOMEM;
}

/* Apply the command just decoded; only -ENOMEM stops the batch. */
static int apply_cmd(struct store *s, struct dec *d, enum store_cmd_type type,
                     int64_t time_ms, struct store_cmd_result *c)
{
    struct store_txn_result tr = {0};
    int rv;

    c->type = type;
    if (type == STORE_CMD_COMPACT) {
        c->rev = d->compact_rev;
        c->code = store_compact(s, d->compact_rev);
        return 0;
    }
    tr.ops = c->ops;
    rv = store_txn(s, d->ops, d->n_ops, time_ms, &tr);
    c->code = rv;
    c->failed_op = tr.failed_op;
    c->rev = tr.rev;
    return rv == -ENOMEM ? rv : 0;
}

/* Pass 2: the bytes were validated, so decoding cannot fail here. */
static int apply_all(struct store *s, struct dec *d,
                     const struct store_batch_info *info,
                     struct store_batch_result *ret)
{
    struct store_cmd_result scratch;
    size_t used = 0;

    for (size_t i = 0; i < info->n_cmds; i++) {
        struct store_cmd_result *c = ret ? &ret->cmds[i] : &scratch;
        enum store_cmd_type type;

        memset(c, 0, sizeof *c);
        (void)read_cmd(d, &type);
        if (ret != NULL && type == STORE_CMD_TXN) {
            c->ops = ret->ops_block + used;
            c->n_ops = d->n_ops;
            used += d->n_ops;
        }
        if (apply_cmd(s, d, type, info->time_ms, c) != 0)
            return -ENOMEM;
        if (ret != NULL)
            ret->n_applied++;
    }
    return 0;
}

int store_apply_batch(struct store *s, const void *buf, size_t len,
                      struct store_batch_result *ret)
{
    struct store_batch_info info, again;
    struct work wk = {0};
    struct dec d;
    int rv;

    if (ret != NULL)
        memset(ret, 0, sizeof *ret);
    if (scan(&d, buf, len, &info) != 0)
        return -C8S_EMALFORMED;
    rv = work_alloc(&wk, &d);
    if (rv == 0 && ret != NULL)
        rv = result_alloc(ret, &info, &d);
    if (rv == 0) {
        d.ops = wk.ops;
        d.arena = wk.arena;
        mp_reader_init(&d.r, buf, len);
        (void)read_header(&d, &again);
        rv = apply_all(s, &d, &info, ret);
    }
    work_done(&wk);
    return rv;
}

void store_batch_result_done(struct store_batch_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->cmds != NULL && i < r->info.n_cmds; i++)
        store_txn_result_done(&(struct store_txn_result){.ops = r->cmds[i].ops},
                              r->cmds[i].n_ops);
    mem_free(r->cmds);
    mem_free(r->ops_block);
    memset(r, 0, sizeof *r);
}
