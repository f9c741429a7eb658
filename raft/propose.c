/* Group commit, the store FSM adapter, and waiting for local revisions.
 *
 * Every txn submitted on the leader during one loop iteration goes into the
 * open batch; a uv_prepare hook proposes it as one raft entry when fewer
 * than cfg.max_inflight entries are in flight, so concurrent clients share
 * one fsync. Linearizable reads ride along: a read is answered by the first
 * entry proposed after it arrived, which commits in the leader's term only
 * if the leader was still the leader. */
#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <endian.h>
#include <stdio.h>
#include <time.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "raft/entry.h"
#include "raft/internal.h"

void repl__queue_init(struct repl__queue *q)
{
    q->head = NULL;
    q->tail = &q->head;
    q->len = 0;
}

void repl__queue_push(struct repl__queue *q, struct repl_req *req)
{
    req->next = NULL;
    *q->tail = req;
    q->tail = &req->next;
    q->len++;
}

struct repl_req *repl__queue_pop(struct repl__queue *q)
{
    struct repl_req *req = q->head;

    if (req == NULL)
        return NULL;
    q->head = req->next;
    if (q->head == NULL)
        q->tail = &q->head;
    q->len--;
    return req;
}

void repl__complete(struct repl_req *req, int code, uint32_t failed_op,
                    store_rev rev)
{
    struct repl_result res = {.code = code, .failed_op = failed_op, .rev = rev};

    req->cb(req, &res);
}

bool repl__is_leader(struct repl *r)
{
    return r->started && !r->closing && raft_state(&r->raft) == RAFT_LEADER;
}

/* ---- the FSM ------------------------------------------------------------*/

static struct repl__batch *inflight_find(struct repl *r, uint64_t batch_id)
{
    for (struct repl__batch *b = r->inflight; b != NULL; b = b->next)
        if (b->id == batch_id)
            return b;
    return NULL;
}

/* Apply one committed entry. Runs inside libraft's step on every member:
 * no callbacks to users from here, only bookkeeping. */
static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
                     void **result)
{
    struct repl *r = fsm->data;
    struct store_batch_info info;
    struct repl__batch *mine = NULL;
    const void *batch;
    size_t len;
    int rv;

    *result = NULL;
    /* Debug hook (C8S_DEBUG_STALL_APPLY_AFTER): refuse to apply, the way an
     * internal libraft failure silently stops applying, so tests can prove
     * that the liveness monitor notices. */
    if (r->debug_stall_after != 0 && ++r->debug_applied > r->debug_stall_after)
        return RAFT_IOERR;
    repl__note_entry_size(r, buf->len);
    rv = repl_entry_decode(buf, &batch, &len);
    if (rv == 0 && store_batch_peek(batch, len, &info) == 0 &&
        info.proposer_id == r->proposer_id)
        mine = inflight_find(r, info.batch_id);
    if (rv == 0)
        rv = store_apply_batch(r->store, batch, len,
                               mine != NULL ? &mine->res : NULL);
    if (rv == -C8S_EMALFORMED) {
        /* Every replica rejects the same bytes the same way: skip it. */
        log_warn("raft", "skipping a malformed entry of %zu bytes", buf->len);
        return 0;
    }
    if (rv != 0) {
        /* Out of memory part-way through an entry: replicas would diverge.
         * Exit and let supervision restart us from snapshot and log. */
        log_error("raft", "applying an entry failed (%s), exiting",
                  err_str(rv));
        exit(REPL_EXIT_STALLED);
    }
    if (mine != NULL) {
        mine->applied = true;
        mine->rev_after = store_current_rev(r->store);
    }
    return 0;
}

/* Snapshot, FSM version 2 (LIBRAFT-NOTES §4): hand libraft a view of the
 * store whose buffers point straight into the stored values (zero copy).
 * libraft writes them from its thread pool and then calls
 * fsm_snapshot_finalize on the loop, which drops the view. The values are
 * immutable and the view holds references, so the store may go on applying
 * and compacting meanwhile. The loop only pays for encoding the metadata,
 * not for copying and checksumming the whole state, which took longer than
 * an election timeout at 100 MB. */
/* libraft's buffer array for @v: raft_malloc'ed, as libraft's own code
 * would free it, pointing into the view. NULL if out of memory. */
static struct raft_buffer *raft_bufs(const struct store_snapview *v)
{
    struct raft_buffer *b = raft_calloc(v->n_bufs, sizeof *b);

    if (b == NULL)
        return NULL;
    for (size_t i = 0; i < v->n_bufs; i++) {
        /* raft_buffer is not const, but libraft only writes it out. */
        b[i].base = (void *)v->bufs[i].base;
        b[i].len = v->bufs[i].len;
    }
    return b;
}

/* libraft 0.22.1 crashes a follower that receives InstallSnapshot while it
 * writes a snapshot of its own: the install is parked, and when the own
 * snapshot completes the parked pointer is cleared before it is read
 * (LIBRAFT-NOTES section 4). Installs reach a follower right after it
 * (re)joins a leader that compacted past it: after a restart, a partition,
 * a pause, or an install that left it behind again. So for a grace period
 * after those a follower answers RAFT_BUSY to libraft's snapshot call;
 * libraft simply tries again on a later step. Its log grows meanwhile by
 * what a few seconds of writes add. */
#define SNAPSHOT_GRACE_MS 5000

void repl__snapshot_grace(struct repl *r, const char *why)
{
    uint64_t until = repl__now_ms(r) + SNAPSHOT_GRACE_MS;

    if (until > r->snap_grace_until_ms) {
        r->snap_grace_until_ms = until;
        log_debug("raft", "no snapshot of our own for %d ms: %s",
                  SNAPSHOT_GRACE_MS, why);
    }
}

void repl__note_leader_for_grace(struct repl *r)
{
    raft_id id;
    const char *addr;

    raft_leader(&r->raft, &id, &addr);
    if (id == r->grace_leader)
        return;
    r->grace_leader = id;
    if (id != 0 && id != r->id)
        repl__snapshot_grace(r, "a leader was (re)learned");
}

static bool in_snapshot_grace(struct repl *r)
{
    repl__note_leader_for_grace(r);
    return raft_state(&r->raft) != RAFT_LEADER &&
           repl__now_ms(r) < r->snap_grace_until_ms;
}

int64_t repl__wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every member reaches the snapshot threshold at the same index, and a
 * snapshot view blocks the loop (490 ms at 175k objects under api-bench).
 * When both followers of three stand still longer than an election timeout
 * together, the leader hears from no majority, steps down, and the cluster
 * elects again: creates failed by the thousand. So the voting followers
 * take turns: follower k of f (in configuration order) starts a snapshot
 * only in the first half of its own SNAPSHOT_SLOT_MS slot of a cycle of f
 * slots on the wall clock, which all members share (a skewed clock only
 * lets two stalls overlap again). A stall shorter than half a slot never
 * meets another follower's; a follower waits f slots at most. */
#define SNAPSHOT_SLOT_MS 2000

static bool snapshot_not_our_turn(struct repl *r)
{
    const struct raft_configuration *conf = &r->raft.configuration;
    raft_id leader = 0;
    const char *addr;
    unsigned k = 0, f = 0;
    bool voter = false;

    raft_leader(&r->raft, &leader, &addr);
    if (raft_state(&r->raft) == RAFT_LEADER)
        return false;
    for (unsigned i = 0; i < conf->n; i++) {
        const struct raft_server *s = &conf->servers[i];
        if (s->role != RAFT_VOTER || s->id == leader)
            continue;
        if (s->id == r->id)
            voter = true;
        else if (!voter)
            k++;
        f++;
    }
    if (!voter || f < 2)
        return false;
    int64_t in_cycle = repl__wall_ms() % ((int64_t)f * SNAPSHOT_SLOT_MS);
    return in_cycle < (int64_t)k * SNAPSHOT_SLOT_MS ||
           in_cycle >= (int64_t)k * SNAPSHOT_SLOT_MS + SNAPSHOT_SLOT_MS / 2;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                        unsigned *n_bufs)
{
    struct repl *r = fsm->data;
    struct store_snapview *v;
    struct raft_buffer *b;
    uint64_t start = uv_hrtime();

    /* libraft finalizes a snapshot before it takes the next one. */
    assert(r->snap_view == NULL);
    if (r->snap_view != NULL || in_snapshot_grace(r) ||
        snapshot_not_our_turn(r))
        return RAFT_BUSY;
    if (store_snapshot_view(r->store, &v) != 0)
        return RAFT_NOMEM;
    b = v->n_bufs <= UINT_MAX ? raft_bufs(v) : NULL;
    if (b == NULL) {
        store_snapview_free(v);
        return RAFT_NOMEM;
    }
    r->snap_view = v;
    r->snapshot_bytes = v->len;
    *bufs = b;
    *n_bufs = (unsigned)v->n_bufs;
    log_info("raft", "snapshot taken at revision %llu (%zu bytes in %zu "
             "buffers, loop blocked %.1f ms)",
             (unsigned long long)v->rev, v->len, v->n_bufs,
             (double)(uv_hrtime() - start) / 1e6);
    return 0;
}

/* Runs on the loop once the snapshot is written (or failed, or was
 * cancelled by raft_close): raft no longer reads the buffers. */
static int fsm_snapshot_finalize(struct raft_fsm *fsm,
                                 struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct repl *r = fsm->data;

    /* The crash above is certain once an install is parked behind this
     * snapshot: libraft reads the parked pointer right after this returns.
     * Exit with a reason instead, for the supervised restart that would
     * follow the crash anyway (the leader sends the install again). */
    if (r->raft.legacy.snapshot_pending != NULL && !r->raft.legacy.closing &&
        !r->closing) {
        log_error("raft", "an InstallSnapshot arrived while our own snapshot "
                  "was being written, which libraft 0.22.1 cannot handle "
                  "(LIBRAFT-NOTES section 4); exiting for a clean restart");
        exit(REPL_EXIT_STALLED);
    }
    assert(r->snap_view != NULL);
    raft_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    store_snapview_free(r->snap_view);
    r->snap_view = NULL;
    return 0;
}

/* Name of the newest snapshot file in @dir (the one libraft restores), or
 * "" if none is found. */
static void newest_snapshot(const char *dir, char *out, size_t size)
{
    unsigned long long best = 0, term, index, ts;
    struct dirent *de;
    DIR *d = opendir(dir);

    out[0] = '\0';
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        int n = 0;
        if (sscanf(de->d_name, "snapshot-%llu-%llu-%llu%n", &term, &index, &ts,
                   &n) == 3 && de->d_name[n] == '\0' && index >= best) {
            best = index;
            (void)snprintf(out, size, "%s", de->d_name);
        }
    }
    closedir(d);
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct repl *r = fsm->data;
    struct err e = {0};
    int rv = store_restore(r->store, buf->base, buf->len, &e);

    if (rv != 0) {
        char file[256];
        newest_snapshot(r->data_dir, file, sizeof file);
        /* Truncation of a very long path is acceptable in a message. */
        if (snprintf(r->restore_err, sizeof r->restore_err,
                     "snapshot %s/%s cannot be restored: %s", r->data_dir, file,
                     e.msg) < 0)
            r->restore_err[0] = '\0';
        log_error("raft", "%s", r->restore_err);
        return RAFT_CORRUPT;
    }
    r->snapshot_bytes = buf->len;
    if (r->started)
        repl__snapshot_grace(r, "a snapshot from the leader was installed");
    log_info("raft", "restored snapshot: revision %llu, %zu keys",
             (unsigned long long)store_current_rev(r->store),
             store_key_count(r->store));
    raft_free(buf->base);
    return 0;
}

int repl__fsm_init(struct repl *r)
{
    memset(&r->fsm, 0, sizeof r->fsm);
    r->fsm.version = 2;
    r->fsm.data = r;
    r->fsm.apply = fsm_apply;
    r->fsm.snapshot = fsm_snapshot;
    r->fsm.restore = fsm_restore;
    r->fsm.snapshot_finalize = fsm_snapshot_finalize;
    r->snap_view = NULL;
    return 0;
}

/* ---- batches --------------------------------------------------------------*/

static struct repl__batch *batch_new(struct repl *r)
{
    struct repl__batch *b = mem_calloc(1, sizeof *b);

    if (b == NULL)
        return NULL;
    b->r = r;
    b->id = r->next_batch_id++;
    repl__queue_init(&b->reads);
    if (store_batch_init(&b->enc, r->proposer_id, b->id,
                         repl__wall_ms()) != 0) {
        mem_free(b);
        return NULL;
    }
    return b;
}

static void batch_free(struct repl__batch *b)
{
    mem_free(b->cmd_req);
    store_batch_done(&b->enc);
    if (b->applied)
        store_batch_result_done(&b->res);
    mem_free(b);
}

/* The open batch, created on demand. */
static struct repl__batch *open_batch(struct repl *r)
{
    if (r->open == NULL)
        r->open = batch_new(r);
    return r->open;
}

static void fail_queue(struct repl__queue *q, int code)
{
    struct repl_req *req;

    while ((req = repl__queue_pop(q)) != NULL)
        repl__complete(req, code, 0, 0);
}

/* Fail every request waiting on a command of @b. */
static void fail_writes(struct repl__batch *b, int code)
{
    /* cmd_cap, not enc.n_cmds: a proposed batch has handed its bytes over. */
    for (size_t i = 0; i < b->cmd_cap && b->n_waiting > 0; i++) {
        struct repl_req *req = b->cmd_req[i];
        if (req == NULL)
            continue;
        b->cmd_req[i] = NULL;
        b->n_waiting--;
        repl__complete(req, code, 0, 0);
    }
}

/* Remember that command @first (just appended) answers @req (NULL: nobody
 * waits). Room was reserved before appending, so this cannot fail. */
static void bind_cmds(struct repl__batch *b, size_t first,
                      struct repl_req *req)
{
    if (req != NULL && first < b->enc.n_cmds) {
        b->cmd_req[first] = req;
        b->n_waiting++;
    }
}

/* Make room for @extra more commands in cmd_req. */
static int reserve_cmds(struct repl__batch *b, size_t extra)
{
    size_t want = b->enc.n_cmds + extra;
    struct repl_req **p;

    if (want <= b->cmd_cap)
        return 0;
    want = want < 16 ? 16 : want * 2;
    p = mem_realloc(b->cmd_req, want * sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    memset(p + b->cmd_cap, 0, (want - b->cmd_cap) * sizeof *p);
    b->cmd_req = p;
    b->cmd_cap = want;
    return 0;
}

/* Fail everything in the open batch: none of it was proposed. */
void repl__fail_open(struct repl *r, int code)
{
    struct repl__batch *b = r->open;

    if (b == NULL)
        return;
    r->open = NULL;
    fail_writes(b, code);
    fail_queue(&b->reads, code);
    batch_free(b);
}

/* Group commit trades latency for throughput only while the pipeline is
 * full; a batch that reached its size goes out as soon as there is room,
 * and one far beyond it refuses more (the caller answers 429). */
static int batch_room(struct repl *r, const struct repl__batch *b)
{
    if (b->enc.len >= 8 * (size_t)r->cfg.max_batch_bytes)
        return -C8S_EOVERLOADED;
    return 0;
}

static void batch_added(struct repl *r, const struct repl__batch *b)
{
    if (b->enc.len >= r->cfg.max_batch_bytes)
        repl__flush(r);
}

int repl__submit_local(struct repl *r, struct repl_req *req,
                       const struct store_op *ops, size_t n_ops)
{
    struct repl__batch *b = open_batch(r);
    int rv;

    if (b == NULL || reserve_cmds(b, 1) != 0)
        return -ENOMEM;
    if ((rv = batch_room(r, b)) != 0)
        return rv;
    size_t first = b->enc.n_cmds;
    rv = store_batch_add_txn(&b->enc, ops, n_ops);
    if (rv != 0)
        return rv;
    bind_cmds(b, first, req);
    batch_added(r, b);
    return 0;
}

/* The leader's own compaction rides in the next entry; nobody waits. */
int repl__compact_local(struct repl *r, store_rev rev)
{
    struct repl__batch *b = open_batch(r);
    size_t first;
    int rv;

    if (b == NULL || reserve_cmds(b, 1) != 0)
        return -ENOMEM;
    first = b->enc.n_cmds;
    rv = store_batch_add_compact(&b->enc, rev);
    if (rv == 0)
        bind_cmds(b, first, NULL);
    return rv;
}

int repl__submit_encoded(struct repl *r, struct repl_req *req,
                         const void *batch, size_t len)
{
    struct repl__batch *b;
    size_t added = 0;
    int rv;

    if (r->disk_low)
        return -ENOSPC; /* see check_disk() in repl.c */
    b = open_batch(r);
    if (b == NULL)
        return -ENOMEM;
    /* Validate first: exactly one command, else nothing is appended. */
    struct store_batch_info info;
    rv = store_batch_peek(batch, len, &info);
    if (rv != 0 || info.n_cmds != 1)
        return -C8S_EMALFORMED;
    if (reserve_cmds(b, 1) != 0)
        return -ENOMEM;
    if ((rv = batch_room(r, b)) != 0)
        return rv;
    size_t first = b->enc.n_cmds;
    rv = store_batch_append_encoded(&b->enc, batch, len, &added);
    if (rv != 0)
        return rv;
    bind_cmds(b, first, req);
    b->remote = true;
    batch_added(r, b);
    return 0;
}

int repl__read_local(struct repl *r, struct repl_req *req, bool remote)
{
    struct repl__batch *b = open_batch(r);

    if (b == NULL)
        return -ENOMEM;
    repl__queue_push(&b->reads, req);
    b->remote |= remote;
    return 0;
}


static void answer_applied(struct repl__batch *b)
{
    struct repl_req *req;

    for (size_t i = 0; i < b->res.info.n_cmds && i < b->cmd_cap &&
                       b->n_waiting > 0; i++) {
        const struct store_cmd_result *c = &b->res.cmds[i];
        req = b->cmd_req[i];
        if (req == NULL)
            continue;
        b->cmd_req[i] = NULL;
        b->n_waiting--;
        repl__complete(req, c->code, (uint32_t)c->failed_op, c->rev);
    }
    while ((req = repl__queue_pop(&b->reads)) != NULL)
        repl__complete(req, 0, 0, b->rev_after);
}

static void inflight_remove(struct repl *r, struct repl__batch *b)
{
    struct repl__batch **p = &r->inflight;

    while (*p != NULL && *p != b)
        p = &(*p)->next;
    if (*p == b) {
        *p = b->next;
        r->n_inflight--;
    }
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    struct repl__batch *b = req->data;
    struct repl *r = b->r;

    (void)result;
    inflight_remove(r, b);
    if (status == 0 && b->applied) {
        answer_applied(b);
        /* Followers learn a commit index only from the next AppendEntries;
         * if nothing else is about to be sent, send an empty entry now
         * rather than leave forwarded requests waiting for a heartbeat. */
        if (b->remote && !r->closing && r->open == NULL &&
            r->inflight == NULL && (r->open = batch_new(r)) != NULL)
            r->open->notify = true;
    } else {
        /* Leadership lost or closing: the entry may still commit later. */
        log_debug("raft", "batch %llu: apply status %d (%s), applied %d",
                  (unsigned long long)b->id, status, raft_strerror(status),
                  b->applied);
        fail_writes(b, -C8S_EUNKNOWN);
        fail_queue(&b->reads, -C8S_ENOLEADER);
    }
    batch_free(b);
    if (!r->closing)
        repl__flush(r);
}

/* Errors after which libraft has freed our buffer and is inconsistent
 * (LIBRAFT-NOTES §2): anything but these means crash and restart. */
static bool apply_error_is_clean(int rv)
{
    return rv == RAFT_NOTLEADER || rv == RAFT_NOSPACE || rv == RAFT_NOMEM ||
           rv == RAFT_CANTCHANGE || rv == RAFT_MALFORMED;
}

static int propose(struct repl *r, struct repl__batch *b)
{
    struct raft_buffer buf;
    void *data;
    size_t len;
    int rv;

    store_batch_take(&b->enc, &data, &len);
    buf.len = repl_entry_size(len);
    buf.base = raft_malloc(buf.len);
    if (buf.base == NULL) {
        mem_free(data);
        return -ENOMEM;
    }
    repl_entry_encode(buf.base, data, len);
    mem_free(data);
    b->apply.data = b;
    b->proposed_ms = repl__now_ms(r);
    b->next = NULL;
    /* Linked before raft_apply: the FSM may look it up at once. */
    struct repl__batch **tail = &r->inflight;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = b;
    r->n_inflight++;
    rv = raft_apply(&r->raft, &b->apply, &buf, 1, apply_cb);
    if (rv == 0)
        return 0;
    inflight_remove(r, b);
    if (!apply_error_is_clean(rv)) {
        log_error("raft", "raft_apply failed: %s; exiting for a clean restart",
                  raft_strerror(rv));
        exit(REPL_EXIT_STALLED);
    }
    raft_free(buf.base);
    log_debug("raft", "raft_apply: %s", raft_strerror(rv));
    /* NOSPACE is libraft's capacity check: too little disk to prepare
     * segments (LIBRAFT-NOTES §5). */
    return rv == RAFT_NOTLEADER  ? -C8S_ENOLEADER
           : rv == RAFT_NOSPACE ? -ENOSPC
                                : -ENOMEM;
}

/* Propose the open batch if it has anything and the pipeline has room. */
void repl__flush(struct repl *r)
{
    struct repl__batch *b = r->open;
    int rv;

    if (b == NULL || (b->enc.n_cmds == 0 && b->reads.len == 0 && !b->notify))
        return;
    if (r->n_inflight >= r->cfg.max_inflight)
        return;
    if (!repl__is_leader(r)) {
        log_debug("raft", "open batch failed: not the leader");
        repl__fail_open(r, -C8S_ENOLEADER);
        return;
    }
    r->open = NULL;
    rv = propose(r, b);
    if (rv != 0) {
        fail_writes(b, rv);
        fail_queue(&b->reads, rv);
        batch_free(b);
    }
}

/* ---- waiting for the local store ---------------------------------------*/

void repl__wait_rev(struct repl *r, struct repl_req *req,
                    const struct repl_result *res)
{
    struct repl__rev_wait *w;

    if (store_current_rev(r->store) >= res->rev) {
        req->cb(req, res);
        return;
    }
    w = mem_malloc(sizeof *w);
    if (w == NULL) {
        /* Cannot wait: the outcome itself is known, so report it now. */
        req->cb(req, res);
        return;
    }
    w->req = req;
    w->res = *res;
    w->next = r->rev_waits;
    r->rev_waits = w;
}

/* Run the waits the store has caught up with (all of them if @all: at
 * shutdown the outcome is still reported, even if not visible here yet). */
void repl__release_rev_waits(struct repl *r, bool all)
{
    store_rev now = store_current_rev(r->store);
    struct repl__rev_wait **p = &r->rev_waits;

    while (*p != NULL) {
        struct repl__rev_wait *w = *p;
        if (w->res.rev > now && !all) {
            p = &w->next;
            continue;
        }
        *p = w->next;
        w->req->cb(w->req, &w->res);
        mem_free(w);
    }
}
