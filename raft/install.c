/* Snapshot installs without a flood of copies.
 *
 * libraft 0.22.1 lets a follower that is installing a snapshot answer the
 * leader's heartbeats, anchored at the leader's newest snapshot, with
 * rejections (it does not have that entry yet). The leader takes such a
 * rejection as the end of the install and, the follower having just
 * answered, sends the whole snapshot again: once per heartbeat (30 ms) for
 * as long as the install takes, every copy loaded from disk and held in
 * memory until written. A follower resuming from a pause answers the
 * heartbeats queued meanwhile the same way, and a leader that has not
 * heard from an installing follower for an election timeout starts over
 * too. In a Jepsen run a leader with a 56 MB snapshot grew to 22 GB in
 * seconds and was killed; a test with a 14 MB snapshot saw 20 copies sent
 * for one install.
 *
 * Two guards, each safe on its own (losing a message is always safe in
 * Raft), wrap methods of the raft_io that libraft drives:
 *  - As a follower, while it installs a snapshot (from libraft's write of
 *    it, the only snapshot_put without trailing entries, to the restore of
 *    the store), this member does not send those rejections. Once the
 *    install is done it answers the next heartbeat for real.
 *  - As a leader, it writes a follower one InstallSnapshot at a time, and
 *    not the same snapshot again soon after one was written; libraft frees
 *    a refused copy at once. */
#include <stddef.h>
#include <string.h>

#include "lib/log.h"
#include "raft/internal.h"

/* A safety net: an install that never reaches the restore (libraft gave up
 * on it) stops holding rejections back after this long. Longer than an
 * install of a large snapshot takes. */
#define INSTALL_QUIET_MAX_MS 30000

/* A snapshot written to a follower is not written to it again for this
 * long (its install is under way), unless the write failed. */
#define RESEND_AFTER_MS 5000

static struct repl *repl_of_io(struct raft_io *io)
{
    return (struct repl *)((char *)io - offsetof(struct repl, io));
}

/* ---- follower: quiet while installing ------------------------------------*/

bool repl__install_holds_back(const struct repl__installs *s,
                              const struct raft_message *m, uint64_t now_ms)
{
    return s->installing && now_ms < s->quiet_until_ms &&
           m->type == RAFT_APPEND_ENTRIES_RESULT &&
           m->append_entries_result.rejected != 0;
}

void repl__install_started(struct repl__installs *s, raft_index index,
                           uint64_t now_ms)
{
    s->installing = true;
    s->installing_index = index;
    s->quiet_until_ms = now_ms + INSTALL_QUIET_MAX_MS;
}

void repl__install_ended(struct repl__installs *s)
{
    s->installing = false;
}

/* ---- leader: one copy at a time ------------------------------------------*/

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
    if (p->written && index <= p->index &&
        now_ms < p->sent_ms + RESEND_AFTER_MS)
        return NULL;
    p->in_flight = true;
    p->written = false;
    p->index = index;
    p->sent_ms = now_ms;
    return p;
}

void repl__install_done(struct repl__install_peer *p, int status,
                        uint64_t now_ms)
{
    p->in_flight = false;
    p->written = status == 0;
    p->sent_ms = now_ms;
}

/* ---- the raft_io methods -------------------------------------------------*/

static void snapshot_written(struct raft_io_send *inner, int status)
{
    struct repl__install_peer *p = inner->data;
    struct raft_io_send *req = p->req;

    repl__install_done(p, status, uv_now(p->loop));
    p->req = NULL;
    if (status != 0)
        log_info("raft", "writing the snapshot at index %llu to %016llx "
                 "failed (%d)", (unsigned long long)p->index,
                 (unsigned long long)p->id, status);
    if (p->cb != NULL)
        p->cb(req, status);
}

/* A leader's InstallSnapshot: write it if @p admits it, on a request of
 * our own so that its completion updates @p. */
static int send_snapshot(struct repl *r, struct raft_io *io,
                         struct raft_io_send *req,
                         const struct raft_message *m, raft_io_send_cb cb)
{
    struct repl__installs *s = &r->installs;
    const struct raft_install_snapshot *is = &m->install_snapshot;
    struct repl__install_peer *p =
        repl__install_admit(s, m->server_id, is->last_index, uv_now(r->loop));

    if (p == NULL) {
        s->copies_refused++;
        log_debug("raft", "not writing the snapshot at index %llu to %016llx "
                  "again: one is in flight or was just written",
                  (unsigned long long)is->last_index,
                  (unsigned long long)m->server_id);
        return RAFT_BUSY; /* libraft frees the copy */
    }
    p->loop = r->loop;
    p->req = req;
    p->cb = cb;
    p->inner.data = p;
    int rv = s->send(io, &p->inner, m, snapshot_written);
    if (rv != 0) {
        repl__install_done(p, rv, uv_now(r->loop));
        p->req = NULL;
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
    struct repl__installs *s = &r->installs;

    if (m->type == RAFT_INSTALL_SNAPSHOT)
        return send_snapshot(r, io, req, m, cb);
    if (!repl__install_holds_back(s, m, uv_now(r->loop)))
        return s->send(io, req, m, cb);
    s->rejections_held++;
    log_debug("raft", "installing the snapshot at index %llu: not rejecting "
              "the leader's heartbeat at %llu",
              (unsigned long long)s->installing_index,
              (unsigned long long)m->append_entries_result.rejected);
    /* Done at once, as if sent: libraft's callback for an AppendEntries
     * result only frees the request, and nothing touches it after send
     * returns. */
    req->cb = cb;
    if (cb != NULL)
        cb(req, 0);
    return 0;
}

static int snapshot_put_watched(struct raft_io *io, unsigned trailing,
                                struct raft_io_snapshot_put *req,
                                const struct raft_snapshot *snapshot,
                                raft_io_snapshot_put_cb cb)
{
    struct repl *r = repl_of_io(io);
    int rv = r->installs.snapshot_put(io, trailing, req, snapshot, cb);

    /* libraft writes its own snapshots keeping trailing entries, and an
     * installed one with none. */
    if (rv == 0 && trailing == 0) {
        log_info("raft", "installing the leader's snapshot at index %llu",
                 (unsigned long long)snapshot->index);
        repl__install_started(&r->installs, snapshot->index, uv_now(r->loop));
    }
    return rv;
}

void repl__installs_wrap(struct repl *r)
{
    r->installs.snapshot_put = r->io.snapshot_put;
    r->installs.send = r->io.send;
    r->io.snapshot_put = snapshot_put_watched;
    r->io.send = send_guarded;
}
