/* A blocking client of a member's forward channel, for tests and benchmarks
 * (the store has no other front door until the API server exists). */
#ifndef C8S_TESTS_RAFT_SCLIENT_H
#define C8S_TESTS_RAFT_SCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "raft/forward.h"

struct sclient;

struct sclient_status {
    uint64_t id;            /* Member id. */
    uint64_t leader_id;     /* Leader it knows, 0 if none. */
    char state[16];         /* "leader", "follower", "candidate". */
    uint64_t term;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t rev;           /* Store revision. */
    uint64_t keys;          /* Live keys. */
    uint32_t digest;        /* CRC-32 of the store's snapshot. */
    uint64_t compact_rev;   /* Oldest readable revision. */
};

/* Connects lazily (and again after a failure) to @address. */
struct sclient *sclient_new(const char *address);
void sclient_free(struct sclient *c);

/* Each waits at most @timeout_ms; -ETIMEDOUT then (outcome unknown for a
 * txn). Otherwise the member's answer: 0, a store code, -C8S_ENOLEADER,
 * -C8S_EUNKNOWN, or a connection error. */
int sclient_txn(struct sclient *c, const struct store_op *ops, size_t n_ops,
                int timeout_ms, uint64_t *ret_rev);
int sclient_put(struct sclient *c, const char *name, const void *value,
                size_t len, int timeout_ms, uint64_t *ret_rev);
int sclient_read(struct sclient *c, int timeout_ms, uint64_t *ret_rev);
/* @buf receives up to @size bytes of the value; *ret_len its full length. */
int sclient_get(struct sclient *c, const char *name, void *buf, size_t size,
                size_t *ret_len, uint64_t *ret_mod_rev, int timeout_ms);
int sclient_status(struct sclient *c, struct sclient_status *ret,
                   int timeout_ms);

/* Resource and namespace that sclient_put/get use. */
#define SCLIENT_RESOURCE "configmaps"
#define SCLIENT_NS "default"

#endif /* C8S_TESTS_RAFT_SCLIENT_H */
