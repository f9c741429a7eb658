/* repl internals shared by the files of raft/ (not for other modules). */
#ifndef C8S_RAFT_INTERNAL_H
#define C8S_RAFT_INTERNAL_H

#include "raft/repl.h"
#include "store/cmd.h"

/* Requests waiting in one queue, oldest first. */
struct repl__queue {
    struct repl_req *head;      /* Oldest, or NULL. */
    struct repl_req **tail;     /* Where the next one is linked. */
    size_t len;                 /* Requests queued. */
};

void repl__queue_init(struct repl__queue *q);
void repl__queue_push(struct repl__queue *q, struct repl_req *req);
struct repl_req *repl__queue_pop(struct repl__queue *q);

/* One raft entry of group commit: being filled, or proposed and waiting. */
struct repl__batch {
    struct repl *r;             /* Owner. */
    uint64_t id;                /* batch_id in the entry header. */
    struct store_batch enc;     /* Encoded commands. */
    struct repl_req **cmd_req;  /* Request answered by each command (NULL
                                 * for the leader's own, e.g. COMPACT). */
    size_t cmd_cap;             /* Slots in cmd_req. */
    size_t n_waiting;           /* Non-NULL entries in cmd_req. */
    struct repl__queue reads;   /* Read points answered by this entry. */
    struct raft_apply apply;    /* libraft request while proposed. */
    struct store_batch_result res; /* Filled by the FSM when applied. */
    bool applied;               /* res holds this entry's results. */
    store_rev rev_after;        /* Store revision once it was applied. */
    uint64_t proposed_ms;       /* Loop time when proposed (liveness). */
    bool remote;                /* Answers requests forwarded by followers:
                                 * they wait for the commit index to reach
                                 * them (see notify). */
    bool notify;                /* Propose even if empty: it carries the
                                 * commit index of the previous entry to
                                 * followers without waiting for a
                                 * heartbeat. */
    struct repl__batch *next;   /* Next in the in-flight list. */
};

/* A request waiting until the local store reaches a revision. */
struct repl__rev_wait {
    struct repl_req *req;       /* Whose callback to run. */
    struct repl_result res;     /* What to pass it. */
    struct repl__rev_wait *next;/* Next waiter (unordered list). */
};

struct repl__fwd_client;        /* forward.c: our link to the leader. */
struct repl__fwd_server;        /* forward.c: streams from followers. */

/* install.c: a follower this member, as leader, writes snapshots to. */
struct repl__install_peer {
    raft_id id;                 /* 0: free slot. */
    raft_index index;           /* Snapshot last written or in flight. */
    uint64_t sent_ms;           /* Loop time its write was started. */
    bool in_flight;             /* Being written. */
    bool unacked;               /* Written; the follower has not shown it
                                 * in its log yet. */
    struct raft_io_send inner;  /* Our request to libraft uv's send. */
    struct raft_io_send *req;   /* libraft's request, while in flight. */
    raft_io_send_cb cb;         /* Its callback. */
};

/* libraft's install timeout (repl.c sets it): a leader that has not heard
 * that a follower installed its snapshot sends it again after this long. */
#define REPL_INSTALL_TIMEOUT_MS 10000
/* How long after a snapshot to a follower was started the same one is not
 * sent to it again, nor a newer one while it has not acknowledged it: a
 * little less than the install timeout, so that libraft's own retry after
 * it goes out. */
#define REPL_INSTALL_HOLD_MS (REPL_INSTALL_TIMEOUT_MS - 1000)

/* install.c: one snapshot at a time to each follower (install.c explains
 * why). */
struct repl__installs {
    bool closed;                /* raft_close was called. */
    uint64_t copies_sent;       /* InstallSnapshots written. */
    uint64_t copies_refused;    /* Copies freed unsent. */
    struct repl__install_peer peers[REPL_MAX_MEMBERS];
    int (*start)(struct raft_io *, unsigned, raft_io_tick_cb,
                 raft_io_recv_cb);      /* libraft uv's own methods. */
    int (*send)(struct raft_io *, struct raft_io_send *,
                const struct raft_message *, raft_io_send_cb);
    raft_io_recv_cb recv;       /* libraft's receive callback. */
    int (*snapshot_put)(struct raft_io *, unsigned,
                        struct raft_io_snapshot_put *,
                        const struct raft_snapshot *,
                        raft_io_snapshot_put_cb); /* libraft uv's own. */
    struct {                    /* Debug (C8S_DEBUG_SLOW_INSTALL_MS): an */
        unsigned ms;            /* incoming snapshot is held this long */
        uv_timer_t timer;       /* before the io writes it, as a slow */
        struct raft_io_snapshot_put *req; /* disk would; the held one. */
        const struct raft_snapshot *snapshot;
        raft_io_snapshot_put_cb cb;
    } slow;
};

struct repl {
    uv_loop_t *loop;            /* The process's loop. */
    struct repl_config cfg;     /* Copy of the configuration. */
    char data_dir[4096];        /* cfg.data_dir's storage. */
    char self_addr[REPL_ADDR_MAX]; /* This member's peer address. */
    uint64_t id;                /* This member's raft id. */
    uint64_t proposer_id;       /* id mixed with a per-boot nonce. */
    uint64_t next_batch_id;     /* Next batch_id to use. */
    struct store *store;        /* The replicated state. */
    struct repl_transport transport; /* Peer port. */
    unsigned char peer_key[REPL_TRANSPORT_KEY_LEN]; /* From the token. */
    struct raft_io io;          /* libraft uv backend. */
    struct repl__installs installs; /* Wraps io (install.c). */
    struct raft_fsm fsm;        /* Adapter to store_apply_batch. */
    struct store_snapview *snap_view; /* Snapshot libraft is writing (its
                                 * buffers point into it), or NULL. */
    struct raft raft;           /* The consensus module. */
    bool raft_inited;           /* raft_init succeeded. */
    bool started;               /* raft_start succeeded. */
    bool closing;               /* repl_close was called. */
    uv_prepare_t flush;         /* Proposes the open batch once per loop. */
    uv_check_t watch;           /* Polls role/leader, releases rev waits. */
    uv_timer_t monitor;         /* Liveness monitor. */
    unsigned open_handles;      /* Handles still to close. */
    struct repl__batch *open;   /* Batch being filled, or NULL. */
    struct repl__batch *inflight; /* Proposed batches, oldest first. */
    unsigned n_inflight;        /* Length of that list. */
    struct repl__rev_wait *rev_waits; /* Waiting for the local store. */
    struct repl__fwd_client *fwd_client; /* Link to the leader. */
    struct repl__fwd_server *fwd_server; /* Links from followers. */
    uint64_t known_leader;      /* Leader id last seen (0: none). */
    uint64_t leader_changes;    /* Times known_leader changed. */
    uint64_t grace_leader;      /* Leader id last seen by the snapshot
                                 * grace (repl__snapshot_grace). */
    uint64_t snap_grace_until_ms; /* No own snapshot before this (follower). */
    uint64_t last_check_ms;     /* Loop time of the last on_check. */
    int last_state;             /* raft_state() last seen. */
    raft_index stall_commit;    /* Liveness: commit index last checked. */
    raft_index stall_applied;   /* Liveness: applied index last checked. */
    uint64_t stall_since_ms;    /* When applied stopped following commit. */
    uint64_t install_since_ms;  /* When the snapshot install under way
                                 * began (0: none). */
    uint64_t last_compact_ms;   /* Loop time of the last compaction check. */
    bool disk_low;              /* Free space under cfg.min_free_mb. */
    char restore_err[512];      /* Why the last snapshot restore failed. */
    double avg_entry_bytes;     /* Moving average of applied entry sizes. */
    size_t snapshot_bytes;      /* Size of the last snapshot taken or
                                 * restored (the log budget follows it). */
    uint64_t debug_stall_after; /* Test hook: stop applying after this many
                                 * entries (0: off). */
    uint64_t debug_applied;     /* Entries seen by the hook. */
    unsigned entries_seen;      /* Entries since the threshold was tuned. */
    struct raft_transfer transfer; /* Leadership transfer on close. */
    void (*close_cb)(struct repl *r); /* From repl_close. */
};

/* Wall clock in ms (CLOCK_REALTIME): what a batch carries as the
 * proposer's time, and what members share for snapshot turns. */
int64_t repl__wall_ms(void);

/* identity.c: set r->id from DATA-DIR/member-id, or draw and keep one
 * (a new ID when joining with an empty data dir). */
int repl__identity_load(struct repl *r, struct err *e);

/* propose.c */

/* Start the snapshot grace: as a follower, take no snapshot of our own for
 * a while, because an InstallSnapshot may be on its way (LIBRAFT-NOTES
 * section 4). @why is logged. */
void repl__snapshot_grace(struct repl *r, const char *why);

/* Called on every loop turn and before each snapshot: starts the grace when
 * this member (re)learns a leader other than itself. */
void repl__note_leader_for_grace(struct repl *r);

int repl__fsm_init(struct repl *r);
int repl__submit_local(struct repl *r, struct repl_req *req,
                       const struct store_op *ops, size_t n_ops);
int repl__submit_encoded(struct repl *r, struct repl_req *req,
                         const void *batch, size_t len);
void repl__note_entry_size(struct repl *r, size_t len);
/* Bytes of log to keep in memory (repl.c explains the rule), and the
 * snapshot threshold, in entries, that keeps about that much. */
double repl__log_budget_bytes(unsigned log_memory_mb, size_t snapshot_bytes);
unsigned repl__snapshot_threshold_for(double budget, double avg_entry_bytes,
                                      unsigned cap);
int repl__read_local(struct repl *r, struct repl_req *req, bool remote);
int repl__compact_local(struct repl *r, store_rev rev);
void repl__flush(struct repl *r);
void repl__fail_open(struct repl *r, int code);
void repl__complete(struct repl_req *req, int code, uint32_t failed_op,
                    store_rev rev);
void repl__wait_rev(struct repl *r, struct repl_req *req,
                    const struct repl_result *res);
void repl__release_rev_waits(struct repl *r, bool all);
bool repl__is_leader(struct repl *r);

/* install.c */
void repl__installs_wrap(struct repl *r);
/* Before raft_close: a held install goes to the io now and the debug
 * timer closes with @closed_cb (its data is @r). True if it does. */
bool repl__installs_close(struct repl *r, uv_close_cb closed_cb);
/* The slot to write a snapshot to @to through, or NULL: not now. */
struct repl__install_peer *repl__install_admit(struct repl__installs *s,
                                               raft_id to, raft_index index,
                                               uint64_t now_ms);
/* @p's write ended with @status (0: written). */
void repl__install_done(struct repl__install_peer *p, int status);
/* @from answered an AppendEntries: @rejected (0: success) and
 * @last_log_index from its result. */
void repl__install_heard(struct repl__installs *s, raft_id from,
                         raft_index rejected, raft_index last_log_index);

/* member.c */
struct mp_writer;
/* How long one catch-up round of a member being promoted may last before
 * libraft gives up: 10 s, plus 1 s per 4 MiB of snapshot it may have to
 * install first, at most 10 min (a 74 MB install on a busy 2-core machine
 * outlasted libraft's 5 s default; this allows it 28 s). */
#define REPL_CATCH_UP_ROUND_MIN_MS 10000
#define REPL_CATCH_UP_BYTES_PER_MS (4 * 1024 * 1024 / 1000)
#define REPL_CATCH_UP_ROUND_MAX_MS (10 * 60 * 1000)
unsigned repl__catch_up_round_ms(size_t snapshot_bytes);
bool repl__is_member(struct repl *r, uint64_t id);
void repl__members_encode(struct repl *r, struct mp_writer *w);
/* Cut an AppendEntries @m a follower received so that a configuration
 * change in it comes first and alone (member.c says why). */
void repl__change_first_and_alone(struct raft_message *m);

/* forward.c */
int repl__fwd_init(struct repl *r);
int repl__fwd_submit(struct repl *r, struct repl_req *req,
                     const struct store_op *ops, size_t n_ops);
int repl__fwd_read(struct repl *r, struct repl_req *req);
void repl__fwd_leader_changed(struct repl *r);
void repl__fwd_close(struct repl *r);

/* Milliseconds on the loop's clock. */
static inline uint64_t repl__now_ms(struct repl *r)
{
    return uv_now(r->loop);
}

#endif /* C8S_RAFT_INTERNAL_H */
