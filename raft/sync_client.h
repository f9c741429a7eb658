/* A blocking client of a member's forward channel, for tools, tests and
 * benchmarks (the store has no other front door until the API server
 * exists). Each call runs a private loop until the answer or a deadline. */
#ifndef C8S_RAFT_SYNC_CLIENT_H
#define C8S_RAFT_SYNC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/forward.h"

struct repl_sync;

struct repl_sync_status {
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
    uint64_t config_committed_index;   /* See struct repl_status. */
    uint64_t config_uncommitted_index;
};

/* Connects lazily (and again after a failure) to @address, proving the
 * cluster @token (the key derived from it, see raft/transport.h). NULL if
 * @token is empty or memory is short. A member that refuses the key fails
 * every call with -EACCES. */
struct repl_sync *repl_sync_new(const char *address, const char *token);
void repl_sync_free(struct repl_sync *c);

/* Each waits at most @timeout_ms; -ETIMEDOUT then (outcome unknown for a
 * txn). Otherwise the member's answer: 0, a store code, -C8S_ENOLEADER,
 * -C8S_EUNKNOWN, or a connection error. */
int repl_sync_txn(struct repl_sync *c, const struct store_op *ops, size_t n_ops,
                int timeout_ms, uint64_t *ret_rev);
int repl_sync_put(struct repl_sync *c, const char *name, const void *value,
                size_t len, int timeout_ms, uint64_t *ret_rev);
int repl_sync_read(struct repl_sync *c, int timeout_ms, uint64_t *ret_rev);
/* @buf receives up to @size bytes of the value; *ret_len its full length. */
int repl_sync_get(struct repl_sync *c, const char *name, void *buf, size_t size,
                size_t *ret_len, uint64_t *ret_mod_rev, int timeout_ms);
int repl_sync_status(struct repl_sync *c, struct repl_sync_status *ret,
                     int timeout_ms);
/* The same plus the digest (costs a serialisation of the whole store). */
int repl_sync_status_digest(struct repl_sync *c, struct repl_sync_status *ret,
                            int timeout_ms);

struct repl_sync_member {
    uint64_t id;            /* Raft id. */
    char address[64];       /* Peer address. */
    char role[16];          /* "voter", "standby", "spare". */
    bool leader;            /* Is the leader (as the asked member knows). */
};

/* Add @name at @address with raft ID @id, the joiner's (its
 * repl_sync_status: the leader waits until it has caught up and is a
 * voter), or remove @name; sent to any member, which passes it on. */
int repl_sync_member_add(struct repl_sync *c, const char *name,
                         const char *address, uint64_t id, int timeout_ms);
int repl_sync_member_remove(struct repl_sync *c, const char *name,
                            int timeout_ms);
/* Up to @max members into @ret; *n gets how many there are. */
int repl_sync_members(struct repl_sync *c, struct repl_sync_member *ret,
                      size_t max, size_t *n, int timeout_ms);

/* Resource and namespace that repl_sync_put/get use. */
#define REPL_SYNC_RESOURCE "configmaps"
#define REPL_SYNC_NS "default"

#endif /* C8S_RAFT_SYNC_CLIENT_H */
