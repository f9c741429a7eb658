/* A leader writes a follower one snapshot at a time.
 *
 * In libraft 0.22.1 a leader sends a follower the whole snapshot again
 * whenever the follower rejects a heartbeat at the snapshot's index before
 * the copy reached it (heartbeats overtake a copy that is still being
 * loaded, and a follower resuming from a pause answers every heartbeat
 * queued meanwhile), and whenever it loses contact with a follower that
 * needs one: once per rejection, every copy loaded from disk and held in
 * memory until written. A follower that is already installing drops a
 * further copy without freeing it. In a Jepsen run a leader with a 56 MB
 * snapshot grew to 22 GB in seconds and was OOM-killed; a follower paused
 * while 28 MiB were written received the snapshot 10 to 29 times.
 *
 * So the raft_io's send is wrapped: an InstallSnapshot to a follower goes
 * out only if no other is being written to it and, until just before
 * libraft's install timeout lets libraft itself try again, the last one
 * written to it was older and the follower has acknowledged it (an
 * AppendEntries success at or past its index, seen by wrapping the
 * receive callback). libraft frees a refused copy at once. It still loads
 * each copy it tries to send before we can refuse it: it cannot be told
 * "not now" earlier (an error from snapshot_get aborts the rest of that
 * raft step, and a failed load frees a configuration it never set). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "raft/internal.h"

static struct repl *repl_of_io(struct raft_io *io)
{
    return (struct repl *)((char *)io - offsetof(struct repl, io));
}

/* ---- the decisions -------------------------------------------------------*/

/* @id's slot: found, free, or the one idle the longest (a removed member's),
 * or NULL if every slot has a write in flight. */
static struct repl__install_peer *peer_slot(struct repl__installs *s,
                                            raft_id id)
{
    struct repl__install_peer *free_slot = NULL, *idle = NULL;

    for (size_t i = 0; i < REPL_MAX_MEMBERS; i++) {
        struct repl__install_peer *p = &s->peers[i];
        if (p->id == id)
            return p;
        if (p->id == 0) {
            if (free_slot == NULL)
                free_slot = p;
        } else if (!p->in_flight &&
                   (idle == NULL || p->sent_ms < idle->sent_ms)) {
            idle = p;
        }
    }
    struct repl__install_peer *p = free_slot != NULL ? free_slot : idle;
    if (p != NULL) {
        memset(p, 0, sizeof *p);
        p->id = id;
    }
    return p;
}

struct repl__install_peer *repl__install_admit(struct repl__installs *s,
                                               raft_id to, raft_index index,
                                               uint64_t now_ms)
{
    struct repl__install_peer *p = peer_slot(s, to);

    if (p == NULL || p->in_flight)
        return NULL;
    /* Within the hold, the same snapshot never goes again (a follower
     * that has it gains nothing), and a newer one only once the follower
     * has shown the last. */
    if (now_ms < p->sent_ms + REPL_INSTALL_HOLD_MS &&
        (index <= p->index || p->unacked))
        return NULL;
    p->in_flight = true;
    p->unacked = false;
    p->index = index;
    p->sent_ms = now_ms;
    return p;
}

void repl__install_done(struct repl__install_peer *p, int status)
{
    p->in_flight = false;
    p->req = NULL;
    p->cb = NULL;
    p->unacked = status == 0;
    if (status != 0)
        p->index = 0; /* it never got there: may go again at once */
}

void repl__install_heard(struct repl__installs *s, raft_id from,
                         raft_index rejected, raft_index last_log_index)
{
    /* Only a success shows the follower's log matches ours up to
     * last_log_index: a rejection's is a hint of its length, which a
     * deposed leader's stale entries can make long. */
    if (rejected != 0)
        return;
    for (size_t i = 0; i < REPL_MAX_MEMBERS; i++) {
        struct repl__install_peer *p = &s->peers[i];
        if (p->id == from && p->unacked && last_log_index >= p->index)
            p->unacked = false;
    }
}

/* ---- the raft_io methods -------------------------------------------------*/

static void snapshot_written(struct raft_io_send *inner, int status)
{
    struct repl__install_peer *p = inner->data;
    struct raft_io_send *req = p->req;
    raft_io_send_cb cb = p->cb;

    repl__install_done(p, status);
    if (status != 0)
        log_info("raft", "writing the snapshot at index %llu to %016llx "
                 "failed (%d)", (unsigned long long)p->index,
                 (unsigned long long)p->id, status);
    if (cb != NULL)
        cb(req, status);
}

/* A leader's InstallSnapshot: written if admitted, on a request of our own
 * so that its completion updates the follower's slot. */
static int send_snapshot(struct repl *r, struct raft_io *io,
                         struct raft_io_send *req,
                         const struct raft_message *m, raft_io_send_cb cb)
{
    struct repl__installs *s = &r->installs;
    const struct raft_install_snapshot *is = &m->install_snapshot;
    struct repl__install_peer *p;

    /* libraft sends a copy whose load ends after raft_close, and uv's send
     * asserts it is not closing: refuse it (libraft frees it). */
    if (s->closed)
        return RAFT_CANCELED;
    p = repl__install_admit(s, m->server_id, is->last_index, uv_now(r->loop));
    if (p == NULL) {
        s->copies_refused++;
        log_debug("raft", "not writing the snapshot at index %llu to %016llx: "
                  "one is in flight or not acknowledged yet",
                  (unsigned long long)is->last_index,
                  (unsigned long long)m->server_id);
        return RAFT_BUSY;
    }
    p->req = req;
    p->cb = cb;
    p->inner.data = p;
    int rv = s->send(io, &p->inner, m, snapshot_written);
    if (rv != 0) {
        repl__install_done(p, rv);
        return rv;
    }
    s->copies_sent++;
    log_info("raft", "sending the snapshot at index %llu (%zu bytes) to "
             "%016llx", (unsigned long long)is->last_index, is->data.len,
             (unsigned long long)m->server_id);
    return 0;
}

static int send_guarded(struct raft_io *io, struct raft_io_send *req,
                        const struct raft_message *m, raft_io_send_cb cb)
{
    struct repl *r = repl_of_io(io);

    if (m->type == RAFT_INSTALL_SNAPSHOT)
        return send_snapshot(r, io, req, m, cb);
    return r->installs.send(io, req, m, cb);
}

static void recv_watched(struct raft_io *io, struct raft_message *m)
{
    struct repl *r = repl_of_io(io);

    repl__change_first_and_alone(m); /* a libraft bug's way round */
    if (m->type == RAFT_APPEND_ENTRIES_RESULT)
        repl__install_heard(&r->installs, m->server_id,
                            m->append_entries_result.rejected,
                            m->append_entries_result.last_log_index);
    r->installs.recv(io, m);
}

static int start_watched(struct raft_io *io, unsigned msecs,
                         raft_io_tick_cb tick, raft_io_recv_cb recv)
{
    struct repl *r = repl_of_io(io);

    r->installs.recv = recv;
    return r->installs.start(io, msecs, tick, recv_watched);
}

/* ---- debug: a slow install --------------------------------------------------
 * C8S_DEBUG_SLOW_INSTALL_MS holds each snapshot a follower installs that
 * long before libraft's io writes it, as a loaded disk would, so tests
 * can follow a member through an install that outlasts --stall-timeout. */

static void put_held(struct repl *r)
{
    struct repl__installs *s = &r->installs;
    struct raft_io_snapshot_put *req = s->slow.req;
    int rv;

    s->slow.req = NULL;
    rv = s->snapshot_put(&r->io, 0, req, s->slow.snapshot, s->slow.cb);
    /* We already said yes, and libraft 0.22.1 has no way back from an
     * install that failed other than being closed (it asserts so): stop
     * here, as the liveness monitor would after its limit. */
    if (rv != 0) {
        log_error("raft", "debug: writing the held snapshot failed (%s); "
                  "exiting for a clean restart", raft_strerror(rv));
        exit(REPL_EXIT_STALLED);
    }
}

static void slow_fired(uv_timer_t *t)
{
    put_held(t->data);
}

static int put_slowly(struct raft_io *io, unsigned trailing,
                      struct raft_io_snapshot_put *req,
                      const struct raft_snapshot *snapshot,
                      raft_io_snapshot_put_cb cb)
{
    struct repl *r = repl_of_io(io);
    struct repl__installs *s = &r->installs;

    if (trailing != 0 || s->slow.req != NULL) /* our own, or a second */
        return s->snapshot_put(io, trailing, req, snapshot, cb);
    s->slow.req = req;
    s->slow.snapshot = snapshot;
    s->slow.cb = cb;
    uv_timer_start(&s->slow.timer, slow_fired, s->slow.ms, 0);
    return 0;
}

bool repl__installs_close(struct repl *r, uv_close_cb closed_cb)
{
    struct repl__installs *s = &r->installs;

    if (s->slow.ms == 0)
        return false;
    uv_timer_stop(&s->slow.timer);
    if (s->slow.req != NULL)
        put_held(r);
    uv_close((uv_handle_t *)&s->slow.timer, closed_cb);
    return true;
}

void repl__installs_wrap(struct repl *r)
{
    const char *slow = getenv("C8S_DEBUG_SLOW_INSTALL_MS");

    r->installs.start = r->io.start;
    r->installs.send = r->io.send;
    r->io.start = start_watched;
    r->io.send = send_guarded;
    if (slow != NULL && (r->installs.slow.ms = (unsigned)atoi(slow)) > 0) {
        log_warn("raft", "debug: snapshots installed here are held %u ms "
                 "before they are written (C8S_DEBUG_SLOW_INSTALL_MS)",
                 r->installs.slow.ms);
        uv_timer_init(r->loop, &r->installs.slow.timer);
        r->installs.slow.timer.data = r;
        r->installs.snapshot_put = r->io.snapshot_put;
        r->io.snapshot_put = put_slowly;
    }
}
