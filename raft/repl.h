/* repl: one member of the replicated store: libraft + the store FSM.
 *
 * A repl owns a struct raft driven by libraft's uv disk backend and our peer
 * transport (raft/transport.h), and a struct store that every committed
 * entry is applied to. Writes submitted on any member are packed into one
 * raft entry per loop iteration (group commit); on a follower they are
 * forwarded to the leader over the peer port's forward channel. Reads that
 * must be linearizable wait for a batch proposed after they arrived.
 *
 * Everything runs on one libuv loop, the one passed to repl_init. */
#ifndef C8S_RAFT_REPL_H
#define C8S_RAFT_REPL_H

#include <stdbool.h>
#include <stdint.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "lib/err.h"
#include "raft/transport.h"
#include "store/store.h"

#define REPL_MAX_MEMBERS 16
#define REPL_NAME_MAX 64
#define REPL_ADDR_MAX 64

struct repl_member {
    char name[REPL_NAME_MAX];   /* Member name from --initial-cluster. */
    char address[REPL_ADDR_MAX];/* Peer address "A.B.C.D:PORT". */
    uint64_t id;                /* Raft id in the bootstrap configuration:
                                 * repl_member_id(name). */
};

struct repl_config {
    const char *name;           /* This member's name. */
    const char *data_dir;       /* Raft log, snapshots, metadata. */
    const char *peer_listen;    /* Bind address "A.B.C.D:PORT". */
    const char *token;          /* Cluster token (required): the peer key
                                 * is derived from it in repl_new(), which
                                 * keeps no pointer to it. */
    struct repl_member members[REPL_MAX_MEMBERS]; /* Initial cluster. */
    unsigned n_members;         /* 0: a single-member cluster of this one. */
    unsigned election_timeout_ms; /* Default 300 (failover ~0.5 s). */
    unsigned heartbeat_ms;        /* Default 30; must be < election. */
    unsigned snapshot_threshold;  /* Entries between snapshots, at most
                                   * (65536; lowered to fit the log's
                                   * memory budget, repl.c). */
    unsigned snapshot_trailing;   /* Entries kept after one (8192; tuned
                                   * like the threshold). */
    unsigned log_memory_mb;       /* Target memory of libraft's in-memory
                                   * log (64), or half the store's size
                                   * once that is larger. */
    unsigned max_batch_bytes;     /* A batch this big is proposed as soon as
                                   * the pipeline has room; 8x this refuses
                                   * writes with -C8S_EOVERLOADED (1 MiB). */
    unsigned max_inflight;        /* Batches in flight on the leader (4). */
    unsigned stall_timeout_ms;    /* Liveness: exit if stuck this long (10 s). */
    unsigned compact_interval_ms; /* How often the leader compacts (10 s). */
    unsigned history_min_age_ms;  /* History kept at least this long (5 min). */
    unsigned history_max_age_ms;  /* History dropped past this age (10 min). */
    unsigned history_max_events;  /* Older events beyond this count are
                                   * dropped once min age allows (200k). */
    unsigned min_free_mb;         /* Refuse writes (-ENOSPC) when the data
                                   * dir's filesystem has less free (64). */
    bool join_existing;           /* Joining a running cluster: never
                                   * bootstrap (etcd's
                                   * --initial-cluster-state existing). */
};

/* Parse "--initial-cluster" text NAME=HOST:PORT,... into @c. */
int repl_parse_cluster(struct repl_config *c, const char *text, struct err *e);

/* Raft IDs (raft/identity.c): a member of the initial cluster has
 * repl_member_id(name) (never 0); one that joins with an empty data dir a
 * new ID sharing its high half, kept in DATA-DIR/member-id. */
uint64_t repl_member_id(const char *name);
/* Whether @id is an ID of member @name (of any incarnation). */
bool repl_member_id_is_of(uint64_t id, const char *name);
/* Keep @id as the raft ID of member @name in data dir @dir (fsync'd). */
int repl_member_id_save(const char *dir, const char *name, uint64_t id,
                        struct err *e);

struct repl;

/* Outcome of one submitted txn or read. */
struct repl_result {
    int code;               /* 0; a store code (-C8S_EEXISTS, ...); or
                             * -C8S_EUNKNOWN (may have committed),
                             * -C8S_ENOLEADER / -C8S_ESHUTDOWN (did not). */
    uint32_t failed_op;     /* Failing op index when code is a store code. */
    store_rev rev;          /* Store revision after the txn (or the read
                             * point); this member's store has applied it
                             * when the callback runs. For a GET: the key's
                             * mod_rev. */
    const void *value;      /* GET and STATUS answers: bytes valid only
                             * during the callback; NULL otherwise. */
    size_t value_len;       /* Bytes at value. */
};

struct repl_req;
typedef void (*repl_cb)(struct repl_req *req, const struct repl_result *res);

/* A request handle embedded by the caller; it must stay valid until @cb. */
struct repl_req {
    void *data;             /* Caller's. */
    repl_cb cb;             /* Called exactly once, on the loop. */
    struct repl_req *next;  /* Internal queue link. */
    uint64_t id;            /* Internal. */
};

/* Create the member (no I/O yet besides checking the data dir). Its raft
 * ID is settled by repl_start. */
int repl_new(uv_loop_t *loop, const struct repl_config *c, struct repl **ret,
             struct err *e);

/* Bootstrap if the data dir is empty, load state, start raft. */
int repl_start(struct repl *r, struct err *e);

/* Submit a txn (ops are encoded at once: they need not outlive the call).
 * Returns 0 and later calls req->cb; or a negative code at once (bad ops,
 * -ENOMEM, -C8S_ESHUTDOWN, -C8S_ENOLEADER, -ENOSPC when the disk is nearly
 * full) without calling it. */
int repl_submit(struct repl *r, struct repl_req *req, const struct store_op *ops,
                size_t n_ops);

/* Linearizable read point: req->cb gets a revision such that every write
 * acknowledged before this call is visible in the local store. */
int repl_read_index(struct repl *r, struct repl_req *req);

/* Membership (leader only, else -C8S_ENOLEADER; one change at a time, else
 * -EBUSY). Add: @name joins at @address with raft ID @id (the joiner's, as
 * its STATUS tells; -EINVAL unless one of @name's) as a spare, then becomes a
 * voter once it has caught up (-ETIMEDOUT if it does not). The new member
 * must be started with join_existing so it does not bootstrap.
 * -C8S_EEXISTS if it is a voter already, or another incarnation of it or
 * another member at @address is in the configuration. Remove: the removed
 * member (found by name, whatever its incarnation) is not told (libraft);
 * stop its process afterwards. */
int repl_member_add(struct repl *r, struct repl_req *req, const char *name,
                    const char *address, uint64_t id);
int repl_member_remove(struct repl *r, struct repl_req *req, const char *name);

/* Clean shutdown: transfer leadership if leader, fail pending requests
 * (-C8S_EUNKNOWN for proposed, -C8S_ESHUTDOWN for not yet proposed), close
 * raft; @cb runs when everything is closed and @r may be freed. */
void repl_close(struct repl *r, void (*cb)(struct repl *r));
void repl_free(struct repl *r);

/* The store this member applies to (read-only use by callers). */
struct store *repl_store(struct repl *r);

struct repl_status {
    uint64_t id;            /* This member. */
    uint64_t leader_id;     /* 0 if unknown. */
    const char *state;      /* "leader", "follower", "candidate". */
    uint64_t term;
    uint64_t commit_index;
    uint64_t applied_index;
    store_rev rev;          /* Store revision. */
    store_rev compact_rev;  /* Oldest readable revision. */
    uint64_t leader_changes;/* Times the known leader changed. */
    uint64_t snapshots_sent;/* InstallSnapshots written as leader. */
    uint64_t snapshot_copies_refused; /* Copies not written (install.c). */
    uint64_t config_committed_index;   /* Last committed configuration. */
    uint64_t config_uncommitted_index; /* One not yet committed, or 0: a
                                        * leader changes members only when
                                        * it is 0. */
};

void repl_get_status(struct repl *r, struct repl_status *ret);

/* Exit code used when the liveness monitor finds raft stuck. */
#define REPL_EXIT_STALLED 70

/* Write a new member's data dir (absent or empty) holding the store
 * snapshot @snap (checked first) as raft's snapshot at index 1, with this
 * member (@name at peer @address) as the only voter. Started with the same
 * --name and --peer-listen, the member restores the store with its
 * revisions and leads a one-member cluster (raft/restore.c). */
int repl_restore_data_dir(const char *data_dir, const char *name,
                          const char *address, const void *snap, size_t len,
                          struct err *e);

#endif /* C8S_RAFT_REPL_H */
