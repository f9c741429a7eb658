/* repl: lifecycle, configuration, status and the liveness monitor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "raft/internal.h"

#define MONITOR_PERIOD_MS 500

/* ---- configuration --------------------------------------------------------*/

static int parse_member(struct repl_member *m, const char *item, size_t len,
                        struct err *e)
{
    const char *eq = memchr(item, '=', len);
    size_t name_len = eq != NULL ? (size_t)(eq - item) : 0;
    size_t addr_len = eq != NULL ? len - name_len - 1 : 0;
    char addr[REPL_ADDR_MAX];
    char why[128];

    if (eq == NULL || name_len == 0 || addr_len == 0)
        return err_setf(e, -EINVAL, "--initial-cluster: '%.*s' is not "
                        "NAME=HOST:PORT", (int)len, item);
    if (name_len >= REPL_NAME_MAX || addr_len >= REPL_ADDR_MAX)
        return err_setf(e, -EINVAL, "--initial-cluster: '%.*s' is too long",
                        (int)len, item);
    memcpy(addr, eq + 1, addr_len);
    addr[addr_len] = '\0';
    struct sockaddr_in sa;
    if (repl_transport_parse_address(addr, &sa, why, sizeof why) != 0)
        return err_setf(e, -EINVAL, "--initial-cluster: member '%.*s': %s",
                        (int)name_len, item, why);
    memcpy(m->name, item, name_len);
    m->name[name_len] = '\0';
    memcpy(m->address, addr, addr_len + 1);
    m->id = repl_member_id(m->name);
    return 0;
}

int repl_parse_cluster(struct repl_config *c, const char *text, struct err *e)
{
    const char *p = text;

    c->n_members = 0;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        if (c->n_members == REPL_MAX_MEMBERS)
            return err_setf(e, -EINVAL, "--initial-cluster: more than %d "
                            "members", REPL_MAX_MEMBERS);
        int rv = parse_member(&c->members[c->n_members], p, len, e);
        if (rv != 0)
            return rv;
        const char *name = c->members[c->n_members].name;
        for (unsigned i = 0; i < c->n_members; i++) {
            if (strcmp(c->members[i].name, name) == 0)
                return err_setf(e, -EINVAL, "--initial-cluster: member '%s' "
                                "appears twice", name);
            /* Membership changes find a member by its ID's name half. */
            if (repl_member_id_is_of(c->members[i].id, name))
                return err_setf(e, -EINVAL, "--initial-cluster: the raft "
                                "IDs of '%s' and '%s' share their name half; "
                                "rename one", c->members[i].name, name);
        }
        c->n_members++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (c->n_members == 0)
        return err_setf(e, -EINVAL, "--initial-cluster: no member given");
    return 0;
}

static void apply_defaults(struct repl_config *c)
{
    if (c->election_timeout_ms == 0)
        c->election_timeout_ms = 300;
    if (c->heartbeat_ms == 0 || c->heartbeat_ms >= c->election_timeout_ms)
        c->heartbeat_ms = c->election_timeout_ms / 10;
    if (c->snapshot_threshold == 0)
        c->snapshot_threshold = 65536;
    if (c->snapshot_trailing == 0)
        c->snapshot_trailing = 8192;
    if (c->max_batch_bytes == 0)
        c->max_batch_bytes = 1 << 20;
    if (c->max_inflight == 0)
        c->max_inflight = 4;
    if (c->stall_timeout_ms == 0)
        c->stall_timeout_ms = 10000;
    if (c->compact_interval_ms == 0)
        c->compact_interval_ms = 10000;
    if (c->history_min_age_ms == 0)
        c->history_min_age_ms = 5 * 60 * 1000;
    if (c->history_max_age_ms < c->history_min_age_ms)
        c->history_max_age_ms = 2 * c->history_min_age_ms;
    if (c->history_max_events == 0)
        c->history_max_events = 200000;
    if (c->min_free_mb == 0)
        c->min_free_mb = 64;
    if (c->log_memory_mb == 0)
        c->log_memory_mb = 64;
}

/* Find this member in the cluster list, or make a one-member cluster. */
static int resolve_self(struct repl *r, struct err *e)
{
    struct repl_config *c = &r->cfg;

    if (c->n_members == 0) {
        struct repl_member *m = &c->members[0];
        (void)snprintf(m->name, sizeof m->name, "%s", c->name);
        (void)snprintf(m->address, sizeof m->address, "%s", c->peer_listen);
        m->id = repl_member_id(c->name);
        c->n_members = 1;
    }
    for (unsigned i = 0; i < c->n_members; i++) {
        if (strcmp(c->members[i].name, c->name) == 0) {
            r->id = c->members[i].id;
            (void)snprintf(r->self_addr, sizeof r->self_addr, "%s",
                           c->members[i].address);
            return 0;
        }
    }
    return err_setf(e, -EINVAL, "--name '%s' is not in --initial-cluster",
                    c->name);
}

/* ---- lifecycle ------------------------------------------------------------*/

static uint64_t boot_nonce(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec ^
           ((uint64_t)getpid() << 40);
}

int repl_new(uv_loop_t *loop, const struct repl_config *c, struct repl **ret,
             struct err *e)
{
    struct repl *r;
    struct stat st;
    int rv;

    if (c->name == NULL || *c->name == '\0')
        return err_setf(e, -EINVAL, "--name is required");
    if (c->data_dir == NULL || stat(c->data_dir, &st) != 0 ||
        !S_ISDIR(st.st_mode))
        return err_setf(e, -ENOENT, "--data-dir '%s' is not a directory",
                        c->data_dir ? c->data_dir : "");
    r = mem_calloc(1, sizeof *r);
    if (r == NULL)
        return err_setf(e, -ENOMEM, "out of memory");
    if (repl_transport_key_from_token(c->token, r->peer_key) != 0) {
        mem_free(r);
        return err_setf(e, -EINVAL, "a cluster token is required: it "
                        "authenticates the members to each other");
    }
    r->loop = loop;
    r->cfg = *c;
    r->cfg.token = NULL; /* the caller's; the derived key is all we keep */
    (void)snprintf(r->data_dir, sizeof r->data_dir, "%s", c->data_dir);
    r->cfg.data_dir = r->data_dir;
    apply_defaults(&r->cfg);
    rv = resolve_self(r, e);
    if (rv == 0 && (rv = store_new(NULL, &r->store)) != 0)
        err_setf(e, rv, "creating the store: %s", err_str(rv));
    if (rv != 0) {
        mem_free(r);
        return rv;
    }
    const char *stall = getenv("C8S_DEBUG_STALL_APPLY_AFTER");
    if (stall != NULL) {
        r->debug_stall_after = strtoull(stall, NULL, 10);
        log_warn("raft", "debug: applying stops after %llu entries "
                 "(C8S_DEBUG_STALL_APPLY_AFTER)",
                 (unsigned long long)r->debug_stall_after);
    }
    r->next_batch_id = 1;
    *ret = r;
    return 0;
}

static int init_raft(struct repl *r, struct err *e)
{
    const char *bind = r->cfg.peer_listen;
    int rv;

    rv = repl_transport_init(&r->transport, r->loop, bind);
    if (rv != 0)
        return err_setf(e, rv, "--peer-listen: %s", r->transport.iface.errmsg);
    repl_transport_set_key(&r->transport, r->peer_key);
    r->transport.data = r;
    rv = raft_uv_init(&r->io, r->loop, r->data_dir, &r->transport.iface);
    if (rv != 0)
        return err_setf(e, -EIO, "data dir %s: %s", r->data_dir,
                        r->io.errmsg);
    /* Refuse to start on a corrupt log rather than move segments aside:
     * that could silently drop acknowledged writes. */
    raft_uv_set_auto_recovery(&r->io, false);
    repl__installs_wrap(r);
    repl__fsm_init(r);
    rv = raft_init(&r->raft, &r->io, &r->fsm, r->id, r->self_addr);
    if (rv != 0) {
        err_setf(e, -EIO, "raft_init: %s", raft_errmsg(&r->raft));
        raft_uv_close(&r->io);
        return -EIO;
    }
    r->raft_inited = true;
    raft_set_election_timeout(&r->raft, r->cfg.election_timeout_ms);
    raft_set_heartbeat_timeout(&r->raft, r->cfg.heartbeat_ms);
    raft_set_pre_vote(&r->raft, true);
    raft_set_snapshot_threshold(&r->raft, r->cfg.snapshot_threshold);
    raft_set_snapshot_trailing(&r->raft, r->cfg.snapshot_trailing);
    raft_set_max_inflight_entries(&r->raft, 256);
    /* libraft's 30 s default is how long a follower stays behind when an
     * install goes unanswered, e.g. one queued for a member that was down
     * and delivered stale after it restarted (seen in the restart test). */
    raft_set_install_snapshot_timeout(&r->raft, REPL_INSTALL_TIMEOUT_MS);
    return 0;
}

static int bootstrap(struct repl *r, struct err *e)
{
    struct raft_configuration conf;
    int rv = 0;

    if (r->cfg.join_existing) {
        log_info("raft", "joining an existing cluster: waiting for the "
                 "leader to add this member");
        return 0;
    }
    raft_configuration_init(&conf);
    for (unsigned i = 0; i < r->cfg.n_members && rv == 0; i++)
        rv = raft_configuration_add(&conf, r->cfg.members[i].id,
                                    r->cfg.members[i].address, RAFT_VOTER);
    if (rv == 0)
        rv = raft_bootstrap(&r->raft, &conf);
    raft_configuration_close(&conf);
    if (rv == RAFT_CANTBOOTSTRAP)
        return 0; /* the data dir already holds state: a restart */
    if (rv != 0)
        return err_setf(e, -EIO, "bootstrap: %s", raft_errmsg(&r->raft));
    log_info("raft", "bootstrapped a %u-member cluster in %s",
             r->cfg.n_members, r->data_dir);
    return 0;
}

static void on_flush(uv_prepare_t *h)
{
    repl__flush(h->data);
}

static void log_role_change(struct repl *r)
{
    raft_id leader_id;
    const char *leader_addr;
    int state = raft_state(&r->raft);

    raft_leader(&r->raft, &leader_id, &leader_addr);
    if (leader_id != r->known_leader) {
        r->known_leader = leader_id;
        r->leader_changes++;
        if (leader_id != 0)
            log_info("raft", "leader is %llx at %s (term %llu)%s",
                     (unsigned long long)leader_id, leader_addr,
                     (unsigned long long)raft_current_term(&r->raft),
                     leader_id == r->id ? ", this member" : "");
        else
            log_info("raft", "no leader known (term %llu)",
                     (unsigned long long)raft_current_term(&r->raft));
        repl__fwd_leader_changed(r);
    }
    if (state != r->last_state) {
        r->last_state = state;
        if (state != RAFT_LEADER)
            repl__fail_open(r, -C8S_ENOLEADER);
    }
}

static void on_check(uv_check_t *h)
{
    struct repl *r = h->data;

    if (r->closing)
        return;
    uint64_t now = repl__now_ms(r);
    /* A loop that stood still longer than an election timeout (SIGSTOP, a
     * stalled disk) finds a leader that may have compacted past it. */
    if (r->last_check_ms != 0 &&
        now - r->last_check_ms > r->cfg.election_timeout_ms)
        repl__snapshot_grace(r, "the loop stood still");
    r->last_check_ms = now;
    repl__note_leader_for_grace(r);
    log_role_change(r);
    repl__release_rev_waits(r, false);
}

/* History is bounded automatically: the leader proposes a compaction to
 * the point the retention policy allows; every replica applies it at the
 * same place in the log, so the FSM stays deterministic. */
static void maybe_compact(struct repl *r, uint64_t now)
{
    const struct repl_config *c = &r->cfg;
    store_rev point;

    if (now - r->last_compact_ms < c->compact_interval_ms ||
        !repl__is_leader(r))
        return;
    r->last_compact_ms = now;
    point = store_compaction_point(r->store, repl__wall_ms(),
                                   c->history_min_age_ms,
                                   c->history_max_age_ms,
                                   c->history_max_events);
    if (point > store_compact_rev(r->store) &&
        repl__compact_local(r, point) == 0)
        log_debug("raft", "compacting history up to revision %llu",
                  (unsigned long long)point);
}

/* Refuse writes before the disk fills: libraft retries failed appends
 * forever (LIBRAFT-NOTES §6a), so a full disk would otherwise show up as
 * writes that hang. */
static void check_disk(struct repl *r)
{
    struct statvfs st;
    uint64_t free_mb;
    bool low;

    if (statvfs(r->data_dir, &st) != 0)
        return;
    free_mb = (uint64_t)st.f_bavail * st.f_frsize / (1024 * 1024);
    low = free_mb < r->cfg.min_free_mb;
    if (low && !r->disk_low)
        log_error("raft", "disk nearly full: %llu MiB free in %s (writes need "
                  "%u MiB); refusing writes until space is freed",
                  (unsigned long long)free_mb, r->data_dir,
                  r->cfg.min_free_mb);
    else if (!low && r->disk_low)
        log_info("raft", "disk space recovered (%llu MiB free); accepting "
                 "writes", (unsigned long long)free_mb);
    r->disk_low = low;
}

/* libraft 0.22.1 raises a follower's commit index to the index of a
 * snapshot it is installing as soon as heartbeats anchored at it arrive,
 * while the snapshot is still being written, and applies it only once
 * written: the whole install is progress, not a stall. (The flags are
 * public fields of struct raft: replication.c and legacy.c set them.) */
static bool installing_snapshot(const struct raft *raft)
{
    return raft->snapshot.installing || raft->legacy.snapshot_install;
}

/* A write that never ends would still hang the member: an install gets
 * the longest catch-up round a promotion may take before it counts as
 * stalled. */
static void watch_install(struct repl *r, uint64_t now, raft_index applied)
{
    if (r->install_since_ms == 0)
        r->install_since_ms = now;
    r->stall_applied = applied;
    r->stall_since_ms = now;
    if (now - r->install_since_ms >
        (uint64_t)r->cfg.stall_timeout_ms + REPL_CATCH_UP_ROUND_MAX_MS) {
        log_error("raft", "stalled: installing a snapshot for %llu ms; "
                  "exiting for a clean restart",
                  (unsigned long long)(now - r->install_since_ms));
        exit(REPL_EXIT_STALLED);
    }
}

/* Liveness: libraft may fail internally without telling us (LIBRAFT-NOTES
 * §1, §6c). Exit for a supervised restart when committed entries stop being
 * applied, or when our own proposals stop committing while we still lead. */
static void on_monitor(uv_timer_t *h)
{
    struct repl *r = h->data;
    uint64_t now = repl__now_ms(r);

    check_disk(r);
    maybe_compact(r, now);
    raft_index commit = raft_commit_index(&r->raft);
    raft_index applied = raft_last_applied(&r->raft);

    if (installing_snapshot(&r->raft)) {
        watch_install(r, now, applied);
        return;
    }
    r->install_since_ms = 0;
    if (applied >= commit || applied != r->stall_applied) {
        r->stall_applied = applied;
        r->stall_since_ms = now;
    } else if (now - r->stall_since_ms > r->cfg.stall_timeout_ms) {
        log_error("raft", "stalled: commit index %llu but applied %llu for "
                  "%llu ms; exiting for a clean restart",
                  (unsigned long long)commit, (unsigned long long)applied,
                  (unsigned long long)(now - r->stall_since_ms));
        exit(REPL_EXIT_STALLED);
    }
    if (r->inflight != NULL && repl__is_leader(r) &&
        now - r->inflight->proposed_ms > r->cfg.stall_timeout_ms) {
        log_error("raft", "stalled: a proposal has not committed in %llu ms "
                  "while leading; exiting for a clean restart",
                  (unsigned long long)(now - r->inflight->proposed_ms));
        exit(REPL_EXIT_STALLED);
    }
}

static int start_handles(struct repl *r)
{
    uv_prepare_init(r->loop, &r->flush);
    uv_check_init(r->loop, &r->watch);
    uv_timer_init(r->loop, &r->monitor);
    r->flush.data = r->watch.data = r->monitor.data = r;
    r->open_handles = 3;
    uv_prepare_start(&r->flush, on_flush);
    uv_check_start(&r->watch, on_check);
    uv_timer_start(&r->monitor, on_monitor, MONITOR_PERIOD_MS,
                   MONITOR_PERIOD_MS);
    return 0;
}

/* What an operator can do about a damaged data dir. A member whose log is
 * lost must come back as a new one: under its old raft ID, configurations
 * from before would count it as the voter it was (identity.c). */
static const char *recovery_advice(const struct repl *r, char *buf,
                                   size_t size)
{
    if (r->cfg.n_members <= 1)
        return "Nothing was skipped or repaired. This is a one-member "
               "cluster: keep the data dir, and restore it from a backup copy";
    (void)snprintf(buf, size, "Nothing was skipped or repaired. To recover, "
                   "remove this member (c8s-master member remove %s --peer "
                   "ANOTHER-MEMBER), move the data dir aside, start it with "
                   "an empty one and --initial-cluster-state existing, then "
                   "add it back (member add %s=%s): it catches up from the "
                   "other members", r->cfg.name, r->cfg.name, r->self_addr);
    return buf;
}

int repl_start(struct repl *r, struct err *e)
{
    int rv = repl__identity_load(r, e);

    if (rv != 0)
        return rv;
    r->proposer_id = r->id ^ boot_nonce();
    rv = init_raft(r, e);
    if (rv != 0)
        return rv;
    rv = bootstrap(r, e);
    if (rv != 0)
        return rv;
    rv = repl__fwd_init(r);
    if (rv != 0)
        return err_setf(e, rv, "forward channel: %s", err_str(rv));
    rv = raft_start(&r->raft);
    if (rv != 0) {
        char advice[512];
        const char *why = r->restore_err[0] != '\0' ? r->restore_err
                                                    : raft_errmsg(&r->raft);
        return err_setf(e, -EIO, "cannot start from %s: %s. %s", r->data_dir,
                        why, recovery_advice(r, advice, sizeof advice));
    }
    r->started = true;
    r->last_state = raft_state(&r->raft);
    check_disk(r);
    log_info("raft", "member %s (%llx) started at %s, store revision %llu",
             r->cfg.name, (unsigned long long)r->id, r->self_addr,
             (unsigned long long)store_current_rev(r->store));
    return start_handles(r);
}

int repl_submit(struct repl *r, struct repl_req *req,
                const struct store_op *ops, size_t n_ops)
{
    if (r->closing)
        return -C8S_ESHUTDOWN;
    if (r->disk_low)
        return -ENOSPC;
    if (repl__is_leader(r))
        return repl__submit_local(r, req, ops, n_ops);
    return repl__fwd_submit(r, req, ops, n_ops);
}

int repl_read_index(struct repl *r, struct repl_req *req)
{
    if (r->closing)
        return -C8S_ESHUTDOWN;
    if (repl__is_leader(r))
        return repl__read_local(r, req, false);
    return repl__fwd_read(r, req);
}

struct store *repl_store(struct repl *r)
{
    return r->store;
}

void repl_get_status(struct repl *r, struct repl_status *ret)
{
    raft_id leader_id = 0;
    const char *addr = NULL;

    if (r->started)
        raft_leader(&r->raft, &leader_id, &addr);
    ret->id = r->id;
    ret->leader_id = leader_id;
    ret->state = r->started ? raft_state_name(raft_state(&r->raft)) : "stopped";
    ret->term = r->started ? raft_current_term(&r->raft) : 0;
    ret->commit_index = r->started ? raft_commit_index(&r->raft) : 0;
    ret->applied_index = r->started ? raft_last_applied(&r->raft) : 0;
    ret->rev = store_current_rev(r->store);
    ret->compact_rev = store_compact_rev(r->store);
    ret->leader_changes = r->leader_changes;
    ret->snapshots_sent = r->installs.copies_sent;
    ret->snapshot_copies_refused = r->installs.copies_refused;
    ret->config_committed_index =
        r->started ? r->raft.configuration_committed_index : 0;
    ret->config_uncommitted_index =
        r->started ? r->raft.configuration_uncommitted_index : 0;
}

/* ---- memory held by libraft's log ----------------------------------------
 * libraft keeps threshold + trailing entries in memory and counts entries,
 * not bytes, while group commit makes entry sizes vary from a few hundred
 * bytes to a megabyte. So every member tunes both to its average entry
 * size to keep that memory near a budget in bytes.
 *
 * The budget is cfg.log_memory_mb, or half the last snapshot once that is
 * larger, up to LOG_MEMORY_MAX_FACTOR times cfg.log_memory_mb. Every
 * snapshot writes the whole store, so a fixed budget made the cost of a
 * byte written grow with the store: at 300k objects each 64 MiB of log
 * brought a 400 MB snapshot, and those writes, not the CPU, held creates
 * back. With the log at half the store, snapshots write at most twice what
 * the log does, at the price of memory that grows with the store (about
 * half of it again), and the ceiling keeps that price bounded. */

#define TUNE_EVERY 64
#define THRESHOLD_MIN 64
#define LOG_MEMORY_MAX_FACTOR 8
/* libraft's own memory per entry, beyond the payload (struct raft_entry,
 * its slot in the log's ring and the batch's bookkeeping, rounded up). */
#define ENTRY_OVERHEAD_BYTES 64

double repl__log_budget_bytes(unsigned log_memory_mb, size_t snapshot_bytes)
{
    double least = (double)log_memory_mb * 1024 * 1024;
    double budget = (double)snapshot_bytes / 2;

    if (budget < least)
        budget = least;
    if (budget > least * LOG_MEMORY_MAX_FACTOR)
        budget = least * LOG_MEMORY_MAX_FACTOR;
    return budget;
}

unsigned repl__snapshot_threshold_for(double budget, double avg_entry_bytes,
                                      unsigned cap)
{
    /* Memory holds up to threshold + trailing entries; a trailing of a
     * quarter of the threshold still spares most lagging followers an
     * InstallSnapshot, and leaves more room between full snapshots. */
    double n = budget / 1.25 / (avg_entry_bytes + ENTRY_OVERHEAD_BYTES);

    if (n > cap)
        n = cap;
    return n < THRESHOLD_MIN ? THRESHOLD_MIN : (unsigned)n;
}

void repl__note_entry_size(struct repl *r, size_t len)
{
    unsigned n;

    r->avg_entry_bytes = r->avg_entry_bytes == 0
                             ? (double)len
                             : 0.95 * r->avg_entry_bytes + 0.05 * (double)len;
    if (++r->entries_seen < TUNE_EVERY || !r->raft_inited)
        return;
    r->entries_seen = 0;
    n = repl__snapshot_threshold_for(
        repl__log_budget_bytes(r->cfg.log_memory_mb, r->snapshot_bytes),
        r->avg_entry_bytes, r->cfg.snapshot_threshold);
    raft_set_snapshot_threshold(&r->raft, n);
    raft_set_snapshot_trailing(&r->raft, n / 4 > 16 ? n / 4 : 16);
}

/* ---- shutdown -----------------------------------------------------------*/

static void maybe_done(struct repl *r)
{
    if (r->open_handles == 0 && !r->raft_inited && r->close_cb != NULL) {
        void (*cb)(struct repl *) = r->close_cb;
        r->close_cb = NULL;
        cb(r);
    }
}

static void handle_closed(uv_handle_t *h)
{
    struct repl *r = h->data;

    r->open_handles--;
    maybe_done(r);
}

static void raft_closed(struct raft *raft)
{
    struct repl *r = raft->data;

    raft_uv_close(&r->io);
    r->raft_inited = false;
    repl__release_rev_waits(r, true);
    log_info("raft", "member %s stopped", r->cfg.name);
    maybe_done(r);
}

static void close_raft(struct repl *r)
{
    repl__fail_open(r, -C8S_ESHUTDOWN);
    repl__fwd_close(r);
    if (r->open_handles > 0) {
        uv_close((uv_handle_t *)&r->flush, handle_closed);
        uv_close((uv_handle_t *)&r->watch, handle_closed);
        uv_close((uv_handle_t *)&r->monitor, handle_closed);
    }
    if (repl__installs_close(r, handle_closed))
        r->open_handles++;
    if (r->raft_inited) {
        r->raft.data = r;
        r->installs.closed = true;
        raft_close(&r->raft, raft_closed);
    } else {
        maybe_done(r);
    }
}

static void transfer_done(struct raft_transfer *req)
{
    struct repl *r = req->data;
    raft_id id;
    const char *addr;

    raft_leader(&r->raft, &id, &addr);
    log_info("raft", "leadership transferred to %llx", (unsigned long long)id);
    close_raft(r);
}

void repl_close(struct repl *r, void (*cb)(struct repl *r))
{
    if (r->closing)
        return;
    r->closing = true;
    r->close_cb = cb;
    if (r->started && raft_state(&r->raft) == RAFT_LEADER &&
        r->cfg.n_members > 1) {
        r->transfer.data = r;
        if (raft_transfer(&r->raft, &r->transfer, 0, transfer_done) == 0) {
            log_info("raft", "shutting down: transferring leadership");
            return;
        }
    }
    close_raft(r);
}

void repl_free(struct repl *r)
{
    if (r == NULL)
        return;
    store_free(r->store);
    mem_free(r->fwd_server);
    mem_free(r->fwd_client);
    explicit_bzero(r->peer_key, sizeof r->peer_key);
    explicit_bzero(r->transport.key, sizeof r->transport.key);
    mem_free(r);
}
