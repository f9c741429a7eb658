/* store commands: the batch codec that raft entries carry (group commit).
 *
 * A proposer packs many client transactions (and compactions) into one
 * batch, proposes its bytes as one raft entry, and every replica applies
 * the committed batch with store_apply_batch. Decoding is strict and total:
 * a malformed batch is rejected as a whole before anything is applied, so
 * all replicas agree on what a given entry did.
 *
 * Answering clients. Only the proposer answers: it gives each batch a
 * proposer_id unique to this member and this process incarnation (e.g. the
 * raft id mixed with a boot counter, so a restarted member never mistakes
 * an old entry for its own) and a batch_id it has not used before, and
 * remembers, per batch_id, the clients in the order their commands were
 * added. When the entry is applied, the FSM reads the header with
 * store_batch_peek; if proposer_id is its own and batch_id is pending, it
 * passes a struct store_batch_result and answers client i from
 * ret->cmds[i]; otherwise it passes NULL. A batch that never applies (lost
 * leadership) leaves its clients with an unknown outcome, not a failure.
 *
 * Format (msgpack): [format, proposer_id, batch_id, time_ms] followed by
 * the commands, each [STORE_CMD_TXN, [op, ...]] or [STORE_CMD_COMPACT,
 * rev], where an op is [type, resource, ns, name, value (bin or nil),
 * field (str or nil), expect_rev]. */
#ifndef C8S_STORE_CMD_H
#define C8S_STORE_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_BATCH_FORMAT 1

enum store_cmd_type {
    STORE_CMD_TXN = 1,      /* store_txn with the batch's time_ms. */
    STORE_CMD_COMPACT = 2,  /* store_compact. */
};

/* A batch being built. Fields are read-only for callers. */
struct store_batch {
    uint8_t *buf;   /* Encoded bytes (mem_malloc'ed), or NULL. */
    size_t len;     /* Bytes used. */
    size_t cap;     /* Bytes allocated. */
    size_t n_cmds;  /* Commands appended. */
};

/* Header of an encoded batch. */
struct store_batch_info {
    uint64_t proposer_id;  /* Who proposed it. */
    uint64_t batch_id;     /* Proposer's id for it. */
    int64_t time_ms;       /* Proposer's clock: every txn's time_ms. */
    size_t n_cmds;         /* Commands in it. */
};

/* Outcome of one command. Deterministic: equal on every replica. */
struct store_cmd_result {
    enum store_cmd_type type;      /* Which command. */
    int code;                      /* store_txn / store_compact result. */
    size_t failed_op;              /* TXN: failing op when code != 0. */
    store_rev rev;                 /* TXN: revision after it; COMPACT: the
                                    * requested revision. */
    size_t n_ops;                  /* TXN: entries in ops. */
    struct store_op_result *ops;   /* TXN: per-op results (refs), as from
                                    * store_txn; NULL for COMPACT. */
};

struct store_batch_result {
    struct store_batch_info info;  /* The batch header. */
    size_t n_applied;              /* Commands applied (all, unless the
                                    * call failed with -ENOMEM). */
    struct store_cmd_result *cmds; /* info.n_cmds entries. */
    struct store_op_result *ops_block; /* Storage behind every cmds[i].ops
                                        * (private). */
};

/* Start a batch (writes the header). 0 or -ENOMEM. */
int store_batch_init(struct store_batch *b, uint64_t proposer_id,
                     uint64_t batch_id, int64_t time_ms);
/* Append one transaction. -EINVAL for an op store_txn would refuse as
 * invalid (empty resource or name, bad type, value NULL with a length),
 * -C8S_ETOOLARGE for more than UINT32_MAX ops or bytes in one field,
 * -ENOMEM; the batch is unchanged on failure. */
int store_batch_add_txn(struct store_batch *b, const struct store_op *ops,
                        size_t n_ops);
int store_batch_add_compact(struct store_batch *b, store_rev rev);
/* Append every command of the encoded batch @src (header ignored) after
 * validating it whole: how a leader packs a follower's forwarded txn into
 * its own batch. -C8S_EMALFORMED or -ENOMEM leave @b unchanged. */
int store_batch_append_encoded(struct store_batch *b, const void *src,
                               size_t len, size_t *ret_added);
/* Hand the bytes over (release with mem_free); the batch becomes empty and
 * must be initialised again before reuse. */
void store_batch_take(struct store_batch *b, void **ret_buf, size_t *ret_len);
void store_batch_done(struct store_batch *b);

/* Read the header and validate the whole batch without applying it.
 * 0 or -C8S_EMALFORMED. */
int store_batch_peek(const void *buf, size_t len,
                     struct store_batch_info *ret);

/* Decode and apply every command in order. -C8S_EMALFORMED: nothing was
 * applied. -ENOMEM before the first command: nothing was applied;
 * after it (ret->n_applied > 0): the replica has applied part of an entry
 * and must stop (restart from snapshot and log) to stay deterministic.
 * Otherwise 0, whatever each command's own code. @ret may be NULL; when
 * given, release it with store_batch_result_done (also after a failure). */
int store_apply_batch(struct store *s, const void *buf, size_t len,
                      struct store_batch_result *ret);
void store_batch_result_done(struct store_batch_result *r);

#endif /* C8S_STORE_CMD_H */
