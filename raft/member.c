/* Membership changes at runtime, on the leader.
 *
 * Adding is two raft changes: raft_add (the new member joins as a spare
 * and starts receiving the log) then raft_assign to voter, which libraft
 * runs only after the newcomer has caught up. A promotion that fails
 * leaves a spare behind, so adding it again retries just the promotion.
 * Removing is one raft_remove. libraft allows one change at a time; a
 * second one gets -EBUSY. */
#include <string.h>

#include "lib/container.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/mp.h"
#include "raft/internal.h"

struct change {
    struct raft_change req;     /* libraft request (first: container). */
    struct repl *r;             /* Owner. */
    struct repl_req *user;      /* Caller to answer. */
    uint64_t id;                /* Member being changed. */
    bool adding;                /* Add (then assign) or remove. */
};

/* libraft status → project code. */
static int change_code(int rv)
{
    switch (rv) {
    case 0:
        return 0;
    case RAFT_NOTLEADER:
        return -C8S_ENOLEADER;
    case RAFT_CANTCHANGE:
        return -EBUSY;
    case RAFT_DUPLICATEID:
    case RAFT_DUPLICATEADDRESS:
        return -C8S_EEXISTS;
    case RAFT_BADID:
    case RAFT_NOTFOUND:
        return -C8S_ENOTFOUND;
    case RAFT_NOCONNECTION:
        return -ETIMEDOUT; /* the newcomer did not catch up */
    case RAFT_LEADERSHIPLOST:
        return -C8S_EUNKNOWN;
    case RAFT_NOMEM:
        return -ENOMEM;
    default:
        return -EINVAL;
    }
}

static void finish(struct change *c, int status)
{
    struct repl_req *user = c->user;

    if (status == 0)
        log_info("raft", "member %llx %s", (unsigned long long)c->id,
                 c->adding ? "added as a voter" : "removed");
    else if (c->adding && status == RAFT_NOCONNECTION)
        log_warn("raft", "member %llx did not catch up in time (%u ms a "
                 "round): it stays a spare; `member add` it again to retry",
                 (unsigned long long)c->id,
                 c->r->raft.max_catch_up_round_duration);
    else
        log_warn("raft", "changing member %llx failed: %s",
                 (unsigned long long)c->id, raft_strerror(status));
    mem_free(c);
    repl__complete(user, change_code(status), 0, 0);
}

static void assigned(struct raft_change *req, int status)
{
    finish(container_of(req, struct change, req), status);
}

unsigned repl__catch_up_round_ms(size_t snapshot_bytes)
{
    uint64_t ms = REPL_CATCH_UP_ROUND_MIN_MS +
                  snapshot_bytes / REPL_CATCH_UP_BYTES_PER_MS;

    return ms > REPL_CATCH_UP_ROUND_MAX_MS ? REPL_CATCH_UP_ROUND_MAX_MS
                                           : (unsigned)ms;
}

/* libraft aborts a promotion whose catch-up round outlasts a limit (5 s by
 * default): a newcomer that first loads a snapshot of tens of megabytes
 * never made it. The limit follows the size of the snapshot it may need. */
static int promote(struct change *c)
{
    struct raft *raft = &c->r->raft;
    int rv;

    raft_set_max_catch_up_round_duration(
        raft, repl__catch_up_round_ms(c->r->snapshot_bytes));
    rv = raft_assign(raft, &c->req, c->id, RAFT_VOTER, assigned);
    /* libraft 0.22.1 keeps the request as its pending change when assign
     * fails after taking it (out of memory, I/O); the caller frees it. */
    if (rv != 0 && raft->legacy.change == &c->req)
        raft->legacy.change = NULL;
    return rv;
}

static void added(struct raft_change *req, int status)
{
    struct change *c = container_of(req, struct change, req);
    int rv;

    if (status != 0) {
        finish(c, status);
        return;
    }
    log_info("raft", "member %llx added as a spare; promoting to voter once "
             "it has caught up", (unsigned long long)c->id);
    rv = promote(c);
    if (rv != 0)
        finish(c, rv);
}

static struct change *change_new(struct repl *r, struct repl_req *user,
                                 uint64_t id, bool adding)
{
    struct change *c = mem_calloc(1, sizeof *c);

    if (c == NULL)
        return NULL;
    c->r = r;
    c->user = user;
    c->id = id;
    c->adding = adding;
    return c;
}

static const char *role_name(int role)
{
    switch (role) {
    case RAFT_VOTER:
        return "voter";
    case RAFT_STANDBY:
        return "standby";
    default:
        return "spare";
    }
}

static const struct raft_server *server_find(struct repl *r, uint64_t id)
{
    const struct raft_configuration *conf = &r->raft.configuration;

    for (unsigned i = 0; i < conf->n; i++)
        if (conf->servers[i].id == id)
            return &conf->servers[i];
    return NULL;
}

/* The server that is an incarnation of @name, or NULL. */
static const struct raft_server *server_named(struct repl *r, const char *name)
{
    const struct raft_configuration *conf = &r->raft.configuration;

    for (unsigned i = 0; i < conf->n; i++)
        if (repl_member_id_is_of(conf->servers[i].id, name))
            return &conf->servers[i];
    return NULL;
}

/* Another server in the way of adding @id at @address: an earlier
 * incarnation of the same member (whose data the new one does not have),
 * or any server at that address. Raft must never count two incarnations. */
static const struct raft_server *server_in_the_way(struct repl *r,
                                                   const char *name,
                                                   const char *address)
{
    const struct raft_configuration *conf = &r->raft.configuration;
    const struct raft_server *s = server_named(r, name);

    for (unsigned i = 0; s == NULL && i < conf->n; i++)
        if (repl_same_address(conf->servers[i].address, address))
            s = &conf->servers[i];
    return s;
}

/* Adding a member the configuration already holds under the same ID: a
 * spare left by a promotion that failed (or a standby) is promoted; a
 * voter, or the same member at another address, is a duplicate (libraft's
 * code, as raft_add's). */
static int readd(struct change *c, const struct raft_server *s,
                 const char *address)
{
    if (s->role == RAFT_VOTER || !repl_same_address(s->address, address)) {
        log_info("raft", "member add %llx at %s refused: it is already a %s "
                 "at %s", (unsigned long long)c->id, address,
                 role_name(s->role), s->address);
        return RAFT_DUPLICATEID;
    }
    log_info("raft", "member %llx is already a %s; promoting to voter once "
             "it has caught up", (unsigned long long)c->id,
             role_name(s->role));
    return promote(c);
}

static int add_new(struct change *c, const char *name, const char *address)
{
    const struct raft_server *s = server_in_the_way(c->r, name, address);

    if (s != NULL) {
        log_info("raft", "member add %s (%llx) at %s refused: %llx, a %s at "
                 "%s, is in the way; remove it first",
                 name, (unsigned long long)c->id, address,
                 (unsigned long long)s->id, role_name(s->role), s->address);
        return RAFT_DUPLICATEID;
    }
    return raft_add(&c->r->raft, &c->req, c->id, address, added);
}

int repl_member_add(struct repl *r, struct repl_req *req, const char *name,
                    const char *address, uint64_t id)
{
    const struct raft_server *known;
    struct sockaddr_in sa;
    struct change *c;
    int rv;

    if (name == NULL || *name == '\0' || strlen(name) >= REPL_NAME_MAX ||
        !repl_member_id_is_of(id, name) ||
        repl_transport_parse_address(address, &sa, NULL, 0) != 0)
        return -EINVAL;
    if (!repl__is_leader(r))
        return -C8S_ENOLEADER;
    c = change_new(r, req, id, true);
    if (c == NULL)
        return -ENOMEM;
    known = server_find(r, id);
    rv = known != NULL ? readd(c, known, address) : add_new(c, name, address);
    if (rv != 0) {
        mem_free(c);
        return change_code(rv);
    }
    return 0;
}

int repl_member_remove(struct repl *r, struct repl_req *req, const char *name)
{
    const struct raft_server *s;
    struct change *c;
    int rv;

    if (name == NULL || *name == '\0')
        return -EINVAL;
    if (!repl__is_leader(r))
        return -C8S_ENOLEADER;
    s = server_named(r, name);
    c = change_new(r, req, s != NULL ? s->id : repl_member_id(name), false);
    if (c == NULL)
        return -ENOMEM;
    rv = raft_remove(&r->raft, &c->req, c->id, assigned);
    if (rv != 0) {
        mem_free(c);
        return change_code(rv);
    }
    return 0;
}

/* libraft 0.22.1 (replicationAppend) marks each configuration change a
 * follower receives as uncommitted under the index of the first new entry
 * of its message, not under its own. Committing the change clears the mark
 * only for its own index, so a change that came amid other entries (as it
 * does to a follower catching up) stays "uncommitted" for good: the
 * follower, once leader, refuses every membership change (EBUSY, seen for
 * 2.5 min in a Jepsen member run), and its snapshots carry an older
 * committed configuration. A change that is the first and only new entry
 * of its message is marked under its own index, so the rest of the message
 * is dropped here, before libraft sees it: the follower answers for the
 * entries it kept and the leader sends the rest again (its pipelined next
 * message is refused, so it goes back to probing from what the follower
 * has: a round trip or two per configuration change). Nothing is lost: a
 * message cut short is what a slow network could deliver anyway. */
void repl__change_first_and_alone(struct raft_message *m)
{
    struct raft_append_entries *ae = &m->append_entries;
    unsigned i;

    if (m->type != RAFT_APPEND_ENTRIES || ae->n_entries < 2)
        return;
    if (ae->entries[0].type == RAFT_CHANGE) {
        ae->n_entries = 1;
        return;
    }
    for (i = 1; i < ae->n_entries; i++) {
        if (ae->entries[i].type == RAFT_CHANGE) {
            ae->n_entries = i;
            return;
        }
    }
}

bool repl__is_member(struct repl *r, uint64_t id)
{
    return r->started && server_find(r, id) != NULL;
}

void repl__members_encode(struct repl *r, struct mp_writer *w)
{
    const struct raft_configuration *conf = &r->raft.configuration;
    raft_id leader = 0;
    const char *addr = NULL;

    raft_leader(&r->raft, &leader, &addr);
    mp_write_array(w, conf->n);
    for (unsigned i = 0; i < conf->n; i++) {
        const struct raft_server *s = &conf->servers[i];
        mp_write_array(w, 4);
        mp_write_uint(w, s->id);
        mp_write_str(w, s->address);
        mp_write_str(w, role_name(s->role));
        mp_write_uint(w, s->id == leader);
    }
}
