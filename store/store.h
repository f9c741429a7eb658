/* store: the MVCC object store that replaces etcd.
 *
 * Pure data structure: no I/O, no clock, no randomness. Every replica feeds
 * it the same committed commands in the same order and so holds identical
 * state (snapshot bytes included). Time enters only as a value carried in a
 * command (the proposer's clock), never read here.
 *
 * Keys are (resource, namespace, name); namespace is "" for cluster-scoped
 * resources. Values are opaque encoded objects (msgpack). Every committed
 * mutation gets the next revision; a key's mod_rev is its resourceVersion.
 * One txn may change several keys; each change gets its own consecutive
 * revision and all are applied or none.
 *
 * Everything here runs on one thread (the process's libuv loop). */
#ifndef C8S_STORE_STORE_H
#define C8S_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/rbuf.h"

typedef uint64_t store_rev;

struct store;

/* One version of one key: immutable and refcounted, shared by the index,
 * the history, list results and every watcher queue that holds it. */
struct store_kv {
    const char *resource;   /* e.g. "pods"; never NULL. */
    const char *ns;         /* "" for cluster-scoped keys; never NULL. */
    const char *name;       /* Never NULL. */
    const char *field;      /* Indexed field value (e.g. spec.nodeName) or NULL. */
    struct rbuf *value;     /* Encoded object; NULL for a delete tombstone. */
    store_rev create_rev;   /* Revision that created this incarnation. */
    store_rev mod_rev;      /* Revision of this version (resourceVersion). */
    int64_t version;        /* Changes since create: 1 after create. */
    int64_t time_ms;        /* Proposer's clock when mod_rev was proposed. */
};

const struct store_kv *store_kv_ref(const struct store_kv *kv);
/* Accepts NULL; returns NULL. */
const struct store_kv *store_kv_unref(const struct store_kv *kv);

/* ---- lifecycle ---------------------------------------------------------- */

struct store_limits {
    size_t watch_queue_max;   /* Events a watcher may have pending before it is
                               * closed with -C8S_ESLOW (default 10000). */
};

/* Returns 0 and an empty store at revision 0, or -ENOMEM. */
int store_new(const struct store_limits *limits, struct store **ret);
/* Closes every watcher (-C8S_ESHUTDOWN) and frees everything. */
void store_free(struct store *s);

store_rev store_current_rev(const struct store *s);
store_rev store_compact_rev(const struct store *s);   /* Oldest readable rev. */
size_t store_key_count(const struct store *s);        /* Live keys. */
size_t store_history_len(const struct store *s);      /* Retained events. */
size_t store_watcher_count(const struct store *s);

/* ---- transactions --------------------------------------------------------*/

enum store_op_type {
    STORE_OP_CREATE,    /* Fails -C8S_EEXISTS if the key exists. */
    STORE_OP_UPDATE,    /* Fails -C8S_ENOTFOUND if absent, -C8S_ECONFLICT if
                         * expect_rev != 0 and differs from mod_rev. */
    STORE_OP_PUT,       /* Create or update; expect_rev as for UPDATE. */
    STORE_OP_DELETE,    /* Fails -C8S_ENOTFOUND / -C8S_ECONFLICT as UPDATE. */
    STORE_OP_CHECK,     /* Writes nothing. expect_rev 0: key must be absent
                         * (else -C8S_EEXISTS); otherwise key must exist with
                         * that mod_rev (else -C8S_ENOTFOUND/-C8S_ECONFLICT). */
};

struct store_op {
    enum store_op_type type;
    const char *resource;
    const char *ns;         /* NULL is treated as "". */
    const char *name;
    const void *value;      /* CREATE/UPDATE/PUT: encoded object (copied). */
    size_t value_len;
    const char *field;      /* CREATE/UPDATE/PUT: indexed field value or NULL. */
    store_rev expect_rev;   /* See the op types. */
};

struct store_op_result {
    const struct store_kv *kv;    /* New version (tombstone for DELETE); ref
                                   * held, NULL for CHECK or on failure. */
    const struct store_kv *prev;  /* Version before the op, or the current
                                   * version when this op failed; ref held. */
};

struct store_txn_result {
    int code;                     /* 0, or the failing op's negative code. */
    size_t failed_op;             /* Index of that op when code != 0. */
    store_rev rev;                /* Revision after the txn. */
    struct store_op_result *ops;  /* Caller's array of n_ops entries, or NULL. */
};

/* Apply @ops all-or-nothing at time @time_ms. Validation failures (bad key:
 * empty resource or name, '\0'-free strings only) are -EINVAL. On failure the
 * store is unchanged. Watchers are notified before this returns.
 * @ret may be NULL; when ret->ops is set, release it with
 * store_txn_result_done(). Returns ret->code. */
int store_txn(struct store *s, const struct store_op *ops, size_t n_ops,
              int64_t time_ms, struct store_txn_result *ret);
void store_txn_result_done(struct store_txn_result *r, size_t n_ops);

/* ---- reads ---------------------------------------------------------------*/

/* Get one key at @rev (0 = current). -C8S_ENOTFOUND, -C8S_ECOMPACTED if
 * rev < compact_rev, -C8S_EFUTUREREV if rev > current. *ret holds a ref. */
int store_get(struct store *s, const char *resource, const char *ns,
              const char *name, store_rev rev, const struct store_kv **ret);

struct store_range {
    const char *resource;   /* Required. */
    const char *ns;         /* NULL: every namespace. */
    const char *field;      /* NULL: any; else only kvs with this field value. */
    const char *after_ns;   /* Continue: start after key (after_ns, after_name)
                             * if after_name is not NULL. */
    const char *after_name;
    store_rev rev;          /* 0: current revision. */
    size_t limit;           /* 0: no limit. */
    bool count;             /* With a limit: count the keys after the page
                             * (up to STORE_COUNT_MAX) into remaining. */
};

struct store_list {
    const struct store_kv **items;  /* Refs, in key order (ns, then name). */
    size_t len;
    size_t cap;
    store_rev rev;                  /* Revision the list was read at: pass it
                                     * back with after_* for the next page. */
    bool more;                      /* More keys match after the last item. */
    size_t remaining;               /* How many more (with count): exact if
                                     * remaining_exact, else at least this
                                     * many. */
    bool remaining_exact;           /* False when not counted, or counting
                                     * stopped at STORE_COUNT_MAX: a page
                                     * costs its length plus at most that,
                                     * not the rest of the range. */
};

/* Keys a limited list counts past its page (remaining). */
#define STORE_COUNT_MAX 10000

/* List keys at one revision. Same errors as store_get (no NOTFOUND). */
int store_list(struct store *s, const struct store_range *q,
               struct store_list *ret);
void store_list_done(struct store_list *l);

/* ---- watch --------------------------------------------------------------*/

enum store_event_type {
    STORE_EV_CREATE,
    STORE_EV_MODIFY,
    STORE_EV_DELETE,
    STORE_EV_PROGRESS,  /* No object: everything up to rev has been sent. */
};

struct store_event {
    enum store_event_type type;
    store_rev rev;
    const struct store_kv *kv;    /* New version (tombstone on DELETE); ref. */
    const struct store_kv *prev;  /* Version before (NULL on CREATE); ref. */
};

void store_event_done(struct store_event *ev);

struct store_watch;

/* Called when a watcher's queue goes from empty to non-empty, or when the
 * watcher is closed by the store (slow, shutdown). Runs inside store_txn /
 * store_progress / store_free: only schedule work here, do not call back
 * into the store except store_watch_next/close on this watcher. */
typedef void (*store_watch_cb)(struct store_watch *w, void *arg);

struct store_watch_opts {
    const char *resource;   /* NULL: every resource. */
    const char *ns;         /* NULL: every namespace. */
    const char *field;      /* NULL: any. Events whose new OR previous
                             * version has this field value are delivered. */
    store_rev after_rev;    /* Deliver events with rev > after_rev (0: from
                             * the first revision, if still in history). */
    store_watch_cb cb;
    void *arg;
    bool from_current;      /* Ignore after_rev: start at the current
                             * revision (what "watch from now" means). */
};

/* -C8S_ETOOOLD if after_rev < compact_rev (history needed is gone);
 * a store that never compacted has all history, so after_rev 0 works;
 * -C8S_EFUTUREREV if after_rev > current. Cost of delivering one event is
 * O(watchers that match it), not O(all watchers). */
int store_watch_open(struct store *s, const struct store_watch_opts *o,
                     struct store_watch **ret);

/* Take the next event: 0 and *ev filled (release with store_event_done);
 * -EAGAIN if none is pending; -C8S_ESLOW or -C8S_ESHUTDOWN once the store has
 * closed this watcher (resume from store_watch_last_rev()). */
int store_watch_next(struct store_watch *w, struct store_event *ev);

/* Revision of the last event handed out by store_watch_next. */
store_rev store_watch_last_rev(const struct store_watch *w);

/* Unregister and free. Valid in any state. */
void store_watch_close(struct store_watch *w);

/* Queue a PROGRESS event at the current revision for every open watcher
 * (coalesced with a PROGRESS already at the tail of its queue). */
void store_progress(struct store *s);

/* ---- history and compaction --------------------------------------------*/

/* Forget history at and below @rev: reads below it and watches starting
 * below it are refused afterwards. rev <= compact_rev is a no-op; rev >
 * current is -C8S_EFUTUREREV. Watchers keep the events already queued. */
int store_compact(struct store *s, store_rev rev);

/* The revision to compact to under a retention policy, given the proposer's
 * clock: events older than @min_age_ms are dropped while more than
 * @max_events are retained or they are older than @max_age_ms. Returns
 * compact_rev when there is nothing to do. */
store_rev store_compaction_point(const struct store *s, int64_t now_ms,
                                 int64_t min_age_ms, int64_t max_age_ms,
                                 size_t max_events);

/* ---- snapshots -----------------------------------------------------------*/

/* One piece of a snapshot: @len bytes at @base. */
struct store_snapbuf {
    const void *base;
    size_t len;
};

/* A frozen snapshot: the concatenation of bufs is exactly what
 * store_snapshot() would return at the moment the view was taken. bufs[0]
 * is the metadata, encoded when the view is taken; each further buffer
 * points straight into the immutable value of a stored version (zero copy)
 * and the view holds a reference on it, so every byte stays valid and
 * unchanged while the store keeps changing, compacts, restores or is
 * freed. The view may thus be written out by another thread (the bytes are
 * only read), but it must be taken and freed on the store's thread
 * (references are not atomic). Fields are read-only. */
struct store_snapview {
    const struct store_snapbuf *bufs;  /* Meta first, then one buffer per
                                        * non-empty value. */
    size_t n_bufs;                     /* Entries in bufs (at least 1). */
    size_t len;                        /* Sum of their lengths. */
    store_rev rev;                     /* current_rev captured. */
};

/* Take a view of the whole state (retained history included). Costs one
 * pass over the versions and the size of the metadata, never the size of
 * the values. Returns 0, or -ENOMEM. */
int store_snapshot_view(const struct store *s, struct store_snapview **ret);
/* Drop the view's references and free it. Accepts NULL. */
void store_snapview_free(struct store_snapview *v);

/* Deterministic encoding of the whole state as one buffer (the view's
 * buffers concatenated): two stores that applied the same commands give
 * identical bytes. The buffer is mem_malloc'ed and owned by the caller. */
int store_snapshot(const struct store *s, void **ret_buf, size_t *ret_len);

/* Replace the state with a snapshot. Open watchers are closed with
 * -C8S_ESLOW first (they must resume and may get TOOOLD). A corrupt or
 * truncated snapshot gives -C8S_ECORRUPT with the reason in @e, and leaves
 * the store unchanged. */
int store_restore(struct store *s, const void *buf, size_t len,
                  struct err *e);

/* Check a snapshot as store_restore would take it (every CRC, the whole
 * structure) by restoring it into a scratch store, then dropping that; its
 * current revision and live keys go to *@ret_rev and *@ret_keys. */
int store_snapshot_check(const void *buf, size_t len, store_rev *ret_rev,
                         size_t *ret_keys, struct err *e);

#endif /* C8S_STORE_STORE_H */
