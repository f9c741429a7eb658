/* Batch encoder: appends commands to a growing msgpack buffer. */
#include <string.h>

#include "lib/mem.h"
#include "lib/mp.h"
#include "store/cmd.h"
#include "store/internal.h"

/* Run @fn on a writer that continues @b's buffer; commit only on success
 * so a failed append leaves the batch as it was. */
static int append(struct store_batch *b,
                  void (*fn)(struct mp_writer *, const void *),
                  const void *arg)
{
    struct mp_writer w;

    mp_writer_init(&w);
    w.buf = b->buf;
    w.len = b->len;
    w.cap = b->cap;
    fn(&w, arg);
    b->buf = w.buf;
    b->cap = w.cap;
    if (w.failed)
        return -ENOMEM;
    b->len = w.len;
    return 0;
}

struct header {
    uint64_t proposer_id;  /* See struct store_batch_info. */
    uint64_t batch_id;     /* See struct store_batch_info. */
    int64_t time_ms;       /* See struct store_batch_info. */
};

static void write_header(struct mp_writer *w, const void *arg)
{
    const struct header *h = arg;

    mp_write_array(w, 4);
    mp_write_uint(w, STORE_BATCH_FORMAT);
    mp_write_uint(w, h->proposer_id);
    mp_write_uint(w, h->batch_id);
    mp_write_int(w, h->time_ms);
}

int store_batch_init(struct store_batch *b, uint64_t proposer_id,
                     uint64_t batch_id, int64_t time_ms)
{
    struct header h = {proposer_id, batch_id, time_ms};
    int rv;

    memset(b, 0, sizeof *b);
    rv = append(b, write_header, &h);
    if (rv != 0)
        store_batch_done(b);
    return rv;
}

static bool has_value(enum store_op_type t)
{
    return t == STORE_OP_CREATE || t == STORE_OP_UPDATE || t == STORE_OP_PUT;
}

static void write_op(struct mp_writer *w, const struct store_op *op)
{
    mp_write_array(w, 7);
    mp_write_uint(w, op->type);
    mp_write_str(w, op->resource);
    mp_write_str(w, op->ns != NULL ? op->ns : "");
    mp_write_str(w, op->name);
    if (has_value(op->type))
        mp_write_bin(w, op->value, op->value_len);
    else
        mp_write_nil(w);
    mp_write_str(w, has_value(op->type) ? op->field : NULL);
    mp_write_uint(w, op->expect_rev);
}

struct txn_arg {
    const struct store_op *ops;  /* The txn's ops. */
    size_t n_ops;                /* Their number. */
};

static void write_txn(struct mp_writer *w, const void *arg)
{
    const struct txn_arg *t = arg;

    mp_write_array(w, 2);
    mp_write_uint(w, STORE_CMD_TXN);
    mp_write_array(w, (uint32_t)t->n_ops);
    for (size_t i = 0; i < t->n_ops; i++)
        write_op(w, &t->ops[i]);
}

static int check_op(const struct store_op *op)
{
    if ((unsigned)op->type > STORE_OP_CHECK ||
        !store__valid_str(op->resource, false) ||
        !store__valid_str(op->name, false) ||
        (op->value == NULL && op->value_len > 0))
        return -EINVAL;
    if (op->value_len > UINT32_MAX)
        return -C8S_ETOOLARGE;
    return 0;
}

int store_batch_add_txn(struct store_batch *b, const struct store_op *ops,
                        size_t n_ops)
{
    struct txn_arg t = {ops, n_ops};
    int rv;

    if (n_ops > UINT32_MAX)
        return -C8S_ETOOLARGE;
    for (size_t i = 0; i < n_ops; i++)
        if ((rv = check_op(&ops[i])) != 0)
            return rv;
    rv = append(b, write_txn, &t);
    if (rv == 0)
        b->n_cmds++;
    return rv;
}

static void write_compact(struct mp_writer *w, const void *arg)
{
    mp_write_array(w, 2);
    mp_write_uint(w, STORE_CMD_COMPACT);
    mp_write_uint(w, *(const store_rev *)arg);
}

int store_batch_add_compact(struct store_batch *b, store_rev rev)
{
    int rv = append(b, write_compact, &rev);

    if (rv == 0)
        b->n_cmds++;
    return rv;
}

void store_batch_take(struct store_batch *b, void **ret_buf, size_t *ret_len)
{
    *ret_buf = b->buf;
    *ret_len = b->len;
    memset(b, 0, sizeof *b);
}

void store_batch_done(struct store_batch *b)
{
    mem_free(b->buf);
    memset(b, 0, sizeof *b);
}
