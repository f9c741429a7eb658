/* store-bench: replicated durable writes to a 3-member c8s-master cluster on
 * loopback, through the forward channel (raft/forward.h): PUT throughput and
 * latency at several concurrency levels, member RSS, leader-kill failover
 * time, and the fdatasync latency of the same disk (the physical limit).
 *
 * It prints figures and asserts nothing. Everything it starts (members, the
 * temp dir holding their data) is removed at exit, on SIGINT/SIGTERM, on
 * errors and when its own time limit (--timeout-s) expires. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "bench/common.h"
#include "lib/err.h"
#include "lib/mp.h"
#include "raft/forward.h"
#include "raft/transport.h"
#include "store/store.h"

#define N_MEMBERS 3
#define MAX_LEVELS 16
#define MAX_CONNS_PER_MEMBER 16
#define MAX_CONNS (N_MEMBERS * MAX_CONNS_PER_MEMBER)
#define MAX_CLIENTS 4096
#define N_CODES 32
#define RESOURCE "configmaps"
#define NAMESPACE "bench"

/* ---- options ---------------------------------------------------------------*/

struct opts {
    const char *master;         /* c8s-master binary. */
    const char *dir;            /* Parent of the temp dir, or NULL: $TMPDIR. */
    const char *connect;        /* ADDR,ADDR,ADDR of a running cluster. */
    unsigned levels[MAX_LEVELS];/* Concurrent clients per level. */
    unsigned n_levels;
    unsigned duration_ms;       /* Measured window per level. */
    unsigned warmup_ms;         /* Warm-up per level. */
    unsigned long max_ops;      /* Stop a level's window after this many (0: no). */
    unsigned long objects;      /* Objects in the store for the RSS figure. */
    unsigned failovers;         /* Leader kills. */
    unsigned value_size;        /* Bytes per value. */
    unsigned conns_per_member;  /* Workload connections per member. */
    unsigned election_timeout;  /* Passed to members (0: their default). */
    unsigned fsync_ms;          /* fdatasync measurement time. */
    unsigned timeout_s;         /* Watchdog for the whole run. */
    bool leader_only;           /* Workload connections only to the leader. */
    bool markdown;              /* Also print a Markdown block. */
    bool quick;                 /* Smoke run. */
    const char *token;          /* Cluster token (ours, or --token). */
};

static struct opts o = {
    .master = "./c8s-master",
    .levels = {1, 16, 64, 256},
    .n_levels = 4,
    .duration_ms = 5000,
    .warmup_ms = 1000,
    .objects = 100000,
    .failovers = 5,
    .value_size = 1024,
    .conns_per_member = 2,
    .fsync_ms = 2000,
    .timeout_s = 900,
    .token = "store-bench-token",
};

static const char usage_text[] =
    "usage: store-bench [options]\n"
    "Replicated durable 1 KiB PUTs to a 3-member c8s-master cluster on\n"
    "loopback through the forward channel; prints figures, asserts nothing.\n"
    "\n"
    "  --master PATH          c8s-master binary (default ./c8s-master)\n"
    "  --dir DIR              put the members' temp data dir under DIR\n"
    "                         (default $TMPDIR or /tmp)\n"
    "  --connect A,B,C        use a running cluster (peer addresses); no RSS,\n"
    "                         no failover\n"
    "  --token TOKEN          that cluster's token (members we start get\n"
    "                         our own)\n"
    "  --levels N,N,...       concurrent clients per level (1,16,64,256)\n"
    "  --duration-ms MS       measured window per level (5000)\n"
    "  --warmup-ms MS         warm-up per level (1000)\n"
    "  --ops N                end a level's window after N writes (0: none)\n"
    "  --objects N            objects stored before the RSS figure (100000)\n"
    "  --failovers N          leader kill -9 rounds (5)\n"
    "  --value-size BYTES     value size (1024)\n"
    "  --conns-per-member N   workload connections per member (2)\n"
    "  --leader-only          send the workload only to the leader\n"
    "  --election-timeout MS  passed to the members (their default: 300)\n"
    "  --fsync-ms MS          fdatasync measurement time (2000)\n"
    "  --timeout-s S          give up (and clean up) after S seconds (900)\n"
    "  --quick                smoke run: small numbers, a few seconds\n"
    "  --markdown             also print a Markdown block for BENCHMARKS.md\n"
    "  --help\n";

/* ---- time, errors ----------------------------------------------------------*/

/* ---- members and cleanup ---------------------------------------------------*/

struct member {
    char name[8];
    char addr[32];
    char dir[560];
    char log[560];
    volatile pid_t pid;         /* Running process, or 0. */
    unsigned unexpected_exits;  /* Died without being killed by us. */
};

static struct member members[N_MEMBERS];
static char spec[256];          /* --initial-cluster. */
static char tmpdir[512];        /* Ours, removed at exit; "" if none. */
static bool managed;            /* We started the members. */

/* Async-signal-safe: kill our members and remove our temp dir. */
static void cleanup_now(void)
{
    for (int i = 0; i < N_MEMBERS; i++)
        bench_kill(&members[i].pid);
    bench_rm_tree(tmpdir);
}


static void member_start(int i)
{
    struct member *m = &members[i];
    char et[16];
    const char *argv[16] = {o.master, "--name", m->name, "--data-dir", m->dir,
                            "--peer-listen", m->addr, "--initial-cluster",
                            spec, "--token", o.token};
    int argc = 11;

    if (o.election_timeout > 0) {
        snprintf(et, sizeof et, "%u", o.election_timeout);
        argv[argc++] = "--election-timeout";
        argv[argc++] = et;
    }
    argv[argc] = NULL;
    m->pid = bench_spawn(argv, m->log);
}

static void member_kill(int i)
{
    bench_kill(&members[i].pid);
}

static void print_log_tail(int i)
{
    char buf[2048];
    int fd = open(members[i].log, O_RDONLY);
    off_t size;
    ssize_t n;

    if (fd < 0)
        return;
    size = lseek(fd, 0, SEEK_END);
    (void)lseek(fd, size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1
                                                 : 0, SEEK_SET);
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0) {
        buf[n] = '\0';
        fprintf(stderr, "# ---- tail of %s ----\n%s# ----\n", members[i].log,
                buf);
    }
}

/* Members that died on their own are reported and restarted (as systemd's
 * Restart=always would). */
static void supervise(void)
{
    for (int i = 0; i < N_MEMBERS && managed; i++) {
        int status;
        pid_t pid = members[i].pid;
        if (pid <= 0 || waitpid(pid, &status, WNOHANG) != pid)
            continue;
        members[i].pid = 0;
        members[i].unexpected_exits++;
        fprintf(stderr, "# BUG? %s exited on its own (%s %d), restarting\n",
                members[i].name, WIFEXITED(status) ? "exit" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        print_log_tail(i);
        member_start(i);
    }
}

static double rss_mib(int i)
{
    return bench_rss_mib(members[i].pid);
}

/* ---- the loop and its connections ------------------------------------------*/

static uv_loop_t loop;
static struct repl_transport transport;
static uv_timer_t tick;         /* Keeps uv_run waking up. */

/* A connection to one member; reconnected on demand after it fails. */
struct conn {
    int member;
    struct repl_client *rc;
};

static struct conn ctl[N_MEMBERS];      /* Control: status, failover writes. */
static struct conn wconns[MAX_CONNS];   /* Workload. */
static unsigned n_wconns;

static void conn_closed(struct repl_client *rc, void *arg)
{
    struct conn *c = arg;

    if (c->rc == rc)
        c->rc = NULL;
}

static struct repl_client *conn_get(struct conn *c)
{
    if (c->rc == NULL &&
        repl_client_new(&transport, 0, members[c->member].addr, conn_closed, c,
                        &c->rc) != 0)
        c->rc = NULL;
    return c->rc;
}

/* Close outside of any repl_client callback: pending requests complete. */
static void conn_drop(struct conn *c)
{
    struct repl_client *rc = c->rc;

    c->rc = NULL;
    if (rc != NULL)
        repl_client_close(rc);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

/* Run the loop until @pred(@arg) holds or @timeout_ms passes. */
static bool wait_for(bool (*pred)(void *), void *arg, unsigned timeout_ms)
{
    uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
    uint64_t last_supervise = 0;

    while (!pred(arg)) {
        uint64_t now = bench_now_ns();
        if (now >= deadline)
            return false;
        if (now - last_supervise > 100000000u) {
            supervise();
            last_supervise = now;
        }
        uv_run(&loop, UV_RUN_ONCE);
    }
    return true;
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static void sleep_loop(unsigned ms)
{
    (void)wait_for(never, NULL, ms);
}

/* One blocking call on a control connection. */
struct call {
    struct repl_req req;        /* First. */
    bool done;
    int code;
    uint64_t rev;
    uint8_t value[256];         /* Start of the answer's value. */
    size_t value_len;
};

static void call_done(struct repl_req *req, const struct repl_result *res)
{
    struct call *k = (struct call *)req;

    k->done = true;
    k->code = res->code;
    k->rev = res->rev;
    k->value_len = 0;
    if (res->value != NULL && res->value_len <= sizeof k->value) {
        memcpy(k->value, res->value, res->value_len);
        k->value_len = res->value_len;
    }
}

static bool call_is_done(void *arg)
{
    return ((struct call *)arg)->done;
}

static void ignore_cb(struct repl_req *req, const struct repl_result *res)
{
    (void)req;
    (void)res;
}

static int call_wait(struct conn *c, struct call *k, int rv, unsigned timeout_ms)
{
    if (rv != 0)
        return rv;
    if (!wait_for(call_is_done, k, timeout_ms)) {
        k->req.cb = ignore_cb;
        conn_drop(c); /* completes k synchronously */
        return -ETIMEDOUT;
    }
    return k->code;
}

struct status {
    uint64_t id, leader_id, term, commit_index, applied_index, rev, keys;
    char state[16];
};

static int parse_status(const uint8_t *p, size_t len, struct status *s)
{
    struct mp_reader rd;
    uint32_t n, slen;
    const char *state;
    uint64_t digest;

    mp_reader_init(&rd, p, len);
    if (mp_read_array(&rd, &n) != 0 || n < 9 || /* 10 since compact_rev */
        mp_read_uint(&rd, &s->id) != 0 || mp_read_uint(&rd, &s->leader_id) ||
        mp_read_str(&rd, &state, &slen) != 0 ||
        mp_read_uint(&rd, &s->term) != 0 ||
        mp_read_uint(&rd, &s->commit_index) != 0 ||
        mp_read_uint(&rd, &s->applied_index) != 0 ||
        mp_read_uint(&rd, &s->rev) != 0 || mp_read_uint(&rd, &s->keys) != 0 ||
        mp_read_uint(&rd, &digest) != 0)
        return -EPROTO;
    snprintf(s->state, sizeof s->state, "%.*s", (int)slen, state);
    return 0;
}

static int member_status(int i, struct status *st, unsigned timeout_ms)
{
    struct call k = {.req.cb = call_done};
    struct repl_client *rc = conn_get(&ctl[i]);
    int rv;

    if (rc == NULL)
        return -ECONNREFUSED;
    rv = call_wait(&ctl[i], &k, repl_client_status(rc, &k.req), timeout_ms);
    if (rv == 0)
        rv = parse_status(k.value, k.value_len, st);
    return rv;
}

static bool member_up(int i)
{
    return !managed || members[i].pid > 0;
}

/* Index of the member all running members agree leads, or -1. */
static int find_leader(unsigned timeout_ms)
{
    uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;

    while (bench_now_ns() < deadline) {
        uint64_t leader = 0;
        bool agree = true;
        int idx = -1;
        for (int i = 0; i < N_MEMBERS && agree; i++) {
            struct status st;
            if (!member_up(i))
                continue;
            int rv = member_status(i, &st, 2000);
            if (getenv("BENCH_DEBUG"))
                bench_note("status %s: %s leader %llx", members[i].name, err_name(rv),
                     rv == 0 ? (unsigned long long)st.leader_id : 0ull);
            if (rv != 0 || st.leader_id == 0 ||
                (leader != 0 && st.leader_id != leader)) {
                agree = false;
                break;
            }
            leader = st.leader_id;
            if (st.id == leader && strcmp(st.state, "leader") == 0)
                idx = i;
        }
        if (agree && idx >= 0)
            return idx;
        sleep_loop(20);
    }
    return -1;
}

/* The leader as the members' logs tell it (managed clusters only). STATUS
 * serializes the whole store to compute its digest, on the member's loop:
 * with 10^5 objects that blocks a member for longer than the election
 * timeout, so the bench must not poll it while measuring. Each member logs
 * "leader is ID at ADDR (term N)[, this member]" and "no leader known (term
 * N)"; the leader is the member whose last such line says "this member"
 * when every running member's last line names a leader in the same term. */
struct log_view {
    uint64_t term;              /* Of the last leader line. */
    bool known;                 /* Last line names a leader. */
    bool self;                  /* ... and it is this member. */
};

static void log_view(int i, struct log_view *v)
{
    FILE *f = fopen(members[i].log, "r");
    char line[512];

    memset(v, 0, sizeof *v);
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        char *p = strstr(line, " raft: ");
        char *t;
        if (p == NULL)
            continue;
        if (strstr(p, "leader is ") == NULL &&
            strstr(p, "no leader known") == NULL)
            continue;
        if ((t = strstr(p, "(term ")) == NULL)
            continue;
        v->term = strtoull(t + 6, NULL, 10);
        v->known = strstr(p, "leader is ") != NULL;
        v->self = strstr(p, "this member") != NULL;
    }
    fclose(f);
}

static uint64_t max_term(void)
{
    uint64_t t = 0;

    for (int i = 0; i < N_MEMBERS; i++) {
        struct log_view v;
        log_view(i, &v);
        if (v.term > t)
            t = v.term;
    }
    return t;
}

static int log_leader_once(void)
{
    struct log_view v[N_MEMBERS];
    int leader = -1;
    uint64_t term = 0;

    for (int i = 0; i < N_MEMBERS; i++) {
        if (members[i].pid <= 0)
            continue;
        log_view(i, &v[i]);
        if (!v[i].known || (term != 0 && v[i].term != term))
            return -1;
        term = v[i].term;
        if (v[i].self)
            leader = i;
    }
    return leader;
}

/* Stable for @settle_ms, within @timeout_ms; -1 if none. */
static int log_leader(unsigned settle_ms, unsigned timeout_ms)
{
    uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;

    while (bench_now_ns() < deadline) {
        int l = log_leader_once();
        if (l >= 0) {
            uint64_t t = max_term();
            sleep_loop(settle_ms);
            if (log_leader_once() == l && max_term() == t)
                return l;
        }
        sleep_loop(20);
    }
    return -1;
}

/* The leader: from the logs when we run the members, else via STATUS. */
static int current_leader(void)
{
    return managed ? log_leader(200, 30000) : find_leader(30000);
}

static void put_op(struct store_op *op, char *name, size_t size, uint64_t seq,
                   const void *value)
{
    snprintf(name, size, "k%010llu", (unsigned long long)seq);
    *op = (struct store_op){.type = STORE_OP_PUT, .resource = RESOURCE,
                            .ns = NAMESPACE, .name = name, .value = value,
                            .value_len = o.value_size};
}

/* ---- error accounting -------------------------------------------------------*/

struct errs {
    int code[N_CODES];
    unsigned long count[N_CODES];
};

static void errs_add(struct errs *e, int code)
{
    for (int i = 0; i < N_CODES; i++) {
        if (e->count[i] != 0 && e->code[i] == code) {
            e->count[i]++;
            return;
        }
        if (e->count[i] == 0) {
            e->code[i] = code;
            e->count[i] = 1;
            return;
        }
    }
}

static unsigned long errs_total(const struct errs *e)
{
    unsigned long n = 0;

    for (int i = 0; i < N_CODES; i++)
        n += e->count[i];
    return n;
}

static void errs_format(const struct errs *e, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; i < N_CODES && e->count[i] != 0; i++)
        len += (size_t)snprintf(buf + len, len < size ? size - len : 0,
                                "%s%s×%lu", len > 0 ? " " : "",
                                err_name(e->code[i]), e->count[i]);
    if (len == 0)
        snprintf(buf, size, "none");
}

/* ---- the closed-loop workload ----------------------------------------------*/

struct wclient;

struct wreq {
    struct repl_req req;        /* First. */
    struct wclient *cl;
    uint64_t t0;                /* Submitted. */
    unsigned conn;              /* wconns index. */
};

struct wclient {
    struct wreq r;
    uv_timer_t retry;           /* Back-off after an error. */
    bool busy;                  /* A request is outstanding. */
    bool timer_init;
};

static struct {
    bool issuing;               /* Submit more. */
    unsigned n_clients;
    uint64_t warm_end;          /* Window start (ns). */
    uint64_t window_end;        /* Window end (ns), or 0 while open. */
    uint64_t meas_end;          /* Planned window end. */
    unsigned long max_ops;      /* Close the window after this many. */
    unsigned long limit;        /* Stop issuing after this many (fill). */
    unsigned long issued;
    unsigned long acked;        /* Successful, any time. */
    unsigned long in_window;    /* Successful, completed in the window. */
    unsigned long outstanding;
    unsigned next_conn;
    int leader;                 /* Member leading when the level began. */
    struct samples all, via_leader, via_follower;
    struct errs errs;           /* Errors in the callback. */
    struct errs submit_errs;    /* Synchronous submit failures. */
} w;

static struct wclient clients[MAX_CLIENTS];
static uint64_t next_key = 1;
static uint8_t *value_buf;

static void client_submit(struct wclient *cl);

static void on_retry(uv_timer_t *t)
{
    client_submit(t->data);
}

static void client_backoff(struct wclient *cl)
{
    uv_timer_start(&cl->retry, on_retry, 2, 0);
}

static void wreq_done(struct repl_req *req, const struct repl_result *res)
{
    struct wreq *r = (struct wreq *)req;
    struct wclient *cl = r->cl;
    uint64_t now = bench_now_ns(), lat = now - r->t0;

    cl->busy = false;
    w.outstanding--;
    if (res->code == 0) {
        w.acked++;
        if (now >= w.warm_end && w.window_end == 0) {
            w.in_window++;
            samples_add(&w.all, lat);
            samples_add(wconns[r->conn].member == w.leader ? &w.via_leader
                                                           : &w.via_follower,
                        lat);
            if (w.max_ops > 0 && w.in_window >= w.max_ops) {
                w.window_end = now;
                w.issuing = false;
            }
        }
        client_submit(cl);
    } else {
        errs_add(&w.errs, res->code);
        client_backoff(cl);
    }
}

static void client_submit(struct wclient *cl)
{
    struct store_op op;
    char name[32];

    if (!w.issuing || cl->busy || (w.limit > 0 && w.issued >= w.limit))
        return;
    for (unsigned tries = 0; tries < n_wconns; tries++) {
        unsigned ci = w.next_conn++ % n_wconns;
        struct repl_client *rc = conn_get(&wconns[ci]);
        if (rc == NULL)
            continue;
        put_op(&op, name, sizeof name, next_key, value_buf);
        cl->r.req.cb = wreq_done;
        cl->r.cl = cl;
        cl->r.conn = ci;
        cl->r.t0 = bench_now_ns();
        int rv = repl_client_submit(rc, &cl->r.req, &op, 1);
        if (rv == 0) {
            next_key++;
            w.issued++;
            w.outstanding++;
            cl->busy = true;
            return;
        }
        errs_add(&w.submit_errs, rv);
    }
    client_backoff(cl);
}

static bool window_over(void *arg)
{
    (void)arg;
    if (w.window_end == 0 && bench_now_ns() >= w.meas_end)
        w.window_end = bench_now_ns();
    return w.window_end != 0;
}

static bool drained(void *arg)
{
    (void)arg;
    return w.outstanding == 0;
}

static bool fill_done(void *arg)
{
    (void)arg;
    return w.issued >= w.limit && w.outstanding == 0;
}

static void workload_reset(unsigned n_clients)
{
    samples_reset(&w.all);
    samples_reset(&w.via_leader);
    samples_reset(&w.via_follower);
    memset(&w.errs, 0, sizeof w.errs);
    memset(&w.submit_errs, 0, sizeof w.submit_errs);
    w.n_clients = n_clients;
    w.issued = w.acked = w.in_window = 0;
    w.window_end = 0;
    w.max_ops = 0;
    w.limit = 0;
    for (unsigned i = 0; i < n_clients; i++)
        if (!clients[i].timer_init) {
            uv_timer_init(&loop, &clients[i].retry);
            clients[i].retry.data = &clients[i];
            clients[i].timer_init = true;
        }
}

static void workload_start(void)
{
    w.issuing = true;
    for (unsigned i = 0; i < w.n_clients; i++)
        client_submit(&clients[i]);
}

/* Stop issuing and wait for the outstanding requests; abandon the workload
 * connections if they do not come back. Returns the abandoned count. */
static unsigned long workload_stop(void)
{
    unsigned long stuck = 0;

    w.issuing = false;
    for (unsigned i = 0; i < w.n_clients; i++)
        uv_timer_stop(&clients[i].retry);
    if (!wait_for(drained, NULL, 20000)) {
        stuck = w.outstanding;
        bench_note("BUG? %lu writes still unanswered 20 s after the level ended; "
             "dropping the connections", stuck);
        for (unsigned i = 0; i < n_wconns; i++)
            conn_drop(&wconns[i]);
    }
    return stuck;
}

static void setup_wconns(int leader)
{
    n_wconns = 0;
    for (unsigned k = 0; k < o.conns_per_member; k++)
        for (int m = 0; m < N_MEMBERS; m++) {
            if (o.leader_only && m != leader)
                continue;
            if (wconns[n_wconns].rc != NULL &&
                wconns[n_wconns].member != m)
                conn_drop(&wconns[n_wconns]);
            wconns[n_wconns].member = m;
            n_wconns++;
        }
}

/* ---- fdatasync --------------------------------------------------------------*/

struct fsync_result {
    double p50, p99, max;
    unsigned long n;
};

static void measure_fdatasync(const char *dir, bool append, unsigned ms,
                              struct fsync_result *ret)
{
    char path[560];
    static char block[4096];
    const off_t span = 16 << 20;
    struct samples s = {0};
    off_t off = 0;
    int fd;

    memset(block, 'f', sizeof block);
    snprintf(path, sizeof path, "%s/fsync-%s", dir, append ? "append" : "overwrite");
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        bench_die("open %s: %s", path, strerror(errno));
    if (!append) {
        /* Lay the file out first: overwriting flushes data only. */
        for (off_t p = 0; p < span; p += sizeof block)
            if (pwrite(fd, block, sizeof block, p) != (ssize_t)sizeof block)
                bench_die("write %s: %s", path, strerror(errno));
        if (fsync(fd) != 0)
            bench_die("fsync %s: %s", path, strerror(errno));
    }
    uint64_t end = bench_now_ns() + (uint64_t)ms * 1000000u;
    while (bench_now_ns() < end) {
        uint64_t t0 = bench_now_ns();
        if (pwrite(fd, block, sizeof block, off) != (ssize_t)sizeof block)
            bench_die("write %s: %s", path, strerror(errno));
        if (fdatasync(fd) != 0)
            bench_die("fdatasync %s: %s", path, strerror(errno));
        samples_add(&s, bench_now_ns() - t0);
        off += sizeof block;
        if (!append && off >= span)
            off = 0;
    }
    close(fd);
    unlink(path);
    samples_sort(&s);
    ret->p50 = samples_pct_ms(&s, 0.50);
    ret->p99 = samples_pct_ms(&s, 0.99);
    ret->max = s.n ? bench_ms(s.v[s.n - 1]) : 0;
    ret->n = s.n;
    free(s.v);
}

/* ---- failover ---------------------------------------------------------------*/

#define FO_SLOTS 512

static struct {
    struct wreq slots[FO_SLOTS];
    bool used[FO_SLOTS];
    unsigned in_flight;
    bool got;
    uint64_t t_ok;
    int dead;
    unsigned next;
    struct errs errs;
    unsigned long attempts;
} fo;

static void fo_done(struct repl_req *req, const struct repl_result *res)
{
    struct wreq *r = (struct wreq *)req;
    unsigned slot = (unsigned)(r - fo.slots);

    fo.used[slot] = false;
    fo.in_flight--;
    if (res->code == 0) {
        if (!fo.got) {
            fo.got = true;
            fo.t_ok = bench_now_ns();
        }
    } else {
        errs_add(&fo.errs, res->code);
    }
}

static void fo_attempt(uv_timer_t *t)
{
    struct store_op op;
    char name[32];
    unsigned slot;

    (void)t;
    if (fo.got || fo.in_flight >= FO_SLOTS)
        return;
    for (slot = 0; fo.used[slot]; slot++)
        ;
    for (int tries = 0; tries < N_MEMBERS; tries++) {
        int m = (int)(fo.next++ % N_MEMBERS);
        if (m == fo.dead)
            continue;
        struct repl_client *rc = conn_get(&ctl[m]);
        if (rc == NULL)
            continue;
        put_op(&op, name, sizeof name, next_key, value_buf);
        fo.slots[slot].req.cb = fo_done;
        fo.slots[slot].t0 = bench_now_ns();
        if (repl_client_submit(rc, &fo.slots[slot].req, &op, 1) == 0) {
            next_key++;
            fo.used[slot] = true;
            fo.in_flight++;
            fo.attempts++;
            return;
        }
    }
}

static bool fo_got(void *arg)
{
    (void)arg;
    return fo.got;
}

static bool fo_idle(void *arg)
{
    (void)arg;
    return fo.in_flight == 0;
}

/* Blocking PUT through member @m (for markers). */
static int put_via(int m, const char *name, unsigned timeout_ms)
{
    struct call k = {.req.cb = call_done};
    struct repl_client *rc = conn_get(&ctl[m]);
    struct store_op op = {.type = STORE_OP_PUT, .resource = RESOURCE,
                          .ns = NAMESPACE, .name = name, .value = "m",
                          .value_len = 1};

    if (rc == NULL)
        return -ECONNREFUSED;
    return call_wait(&ctl[m], &k, repl_client_submit(rc, &k.req, &op, 1),
                     timeout_ms);
}

static int get_via(int m, const char *name, unsigned timeout_ms)
{
    struct call k = {.req.cb = call_done};
    struct repl_client *rc = conn_get(&ctl[m]);

    if (rc == NULL)
        return -ECONNREFUSED;
    return call_wait(&ctl[m], &k,
                     repl_client_get(rc, &k.req, RESOURCE, NAMESPACE, name),
                     timeout_ms);
}

/* ---- reporting helpers -------------------------------------------------------*/

struct level_result {
    unsigned clients;
    double rate, p50, p99, max, p50_leader, p50_follower;
    unsigned long ops;
    long elections;             /* Terms started during the level. */
    char errs[256];
    unsigned long stuck;
};

static unsigned parse_uint_opt(const char *flag, const char *s,
                               unsigned long max)
{
    return (unsigned)bench_parse_uint(flag, s, max);
}

static void parse_levels(const char *s)
{
    char buf[256], *save = NULL;

    snprintf(buf, sizeof buf, "%s", s);
    o.n_levels = 0;
    for (char *t = strtok_r(buf, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (o.n_levels == MAX_LEVELS) {
            fprintf(stderr, "store-bench: --levels: at most %d\n", MAX_LEVELS);
            exit(2);
        }
        o.levels[o.n_levels] = parse_uint_opt("--levels", t, MAX_CLIENTS);
        if (o.levels[o.n_levels] == 0) {
            fprintf(stderr, "store-bench: --levels: 0 clients\n");
            exit(2);
        }
        o.n_levels++;
    }
    if (o.n_levels == 0) {
        fprintf(stderr, "store-bench: --levels: empty\n");
        exit(2);
    }
}

static void parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"master", required_argument, NULL, 'M'},
        {"dir", required_argument, NULL, 'D'},
        {"connect", required_argument, NULL, 'C'},
        {"levels", required_argument, NULL, 'L'},
        {"duration-ms", required_argument, NULL, 'd'},
        {"warmup-ms", required_argument, NULL, 'w'},
        {"ops", required_argument, NULL, 'n'},
        {"objects", required_argument, NULL, 'o'},
        {"failovers", required_argument, NULL, 'f'},
        {"value-size", required_argument, NULL, 'v'},
        {"conns-per-member", required_argument, NULL, 'c'},
        {"leader-only", no_argument, NULL, 'l'},
        {"election-timeout", required_argument, NULL, 'e'},
        {"fsync-ms", required_argument, NULL, 's'},
        {"timeout-s", required_argument, NULL, 't'},
        {"quick", no_argument, NULL, 'q'},
        {"markdown", no_argument, NULL, 'm'},
        {"token", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool set_levels = false, set_dur = false, set_warm = false,
         set_obj = false, set_fo = false, set_fs = false;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'M': o.master = optarg; break;
        case 'D': o.dir = optarg; break;
        case 'C': o.connect = optarg; break;
        case 'L': parse_levels(optarg); set_levels = true; break;
        case 'd':
            o.duration_ms = parse_uint_opt("--duration-ms", optarg, 3600000);
            set_dur = true;
            break;
        case 'w':
            o.warmup_ms = parse_uint_opt("--warmup-ms", optarg, 600000);
            set_warm = true;
            break;
        case 'n': o.max_ops = parse_uint_opt("--ops", optarg, 100000000); break;
        case 'o':
            o.objects = parse_uint_opt("--objects", optarg, 100000000);
            set_obj = true;
            break;
        case 'f':
            o.failovers = parse_uint_opt("--failovers", optarg, 1000);
            set_fo = true;
            break;
        case 'v':
            o.value_size = parse_uint_opt("--value-size", optarg, 1 << 20);
            break;
        case 'c':
            o.conns_per_member = parse_uint_opt("--conns-per-member", optarg,
                                                MAX_CONNS_PER_MEMBER);
            if (o.conns_per_member == 0)
                o.conns_per_member = 1;
            break;
        case 'l': o.leader_only = true; break;
        case 'e':
            o.election_timeout = parse_uint_opt("--election-timeout", optarg,
                                                600000);
            break;
        case 's':
            o.fsync_ms = parse_uint_opt("--fsync-ms", optarg, 600000);
            set_fs = true;
            break;
        case 't': o.timeout_s = parse_uint_opt("--timeout-s", optarg, 86400); break;
        case 'q': o.quick = true; break;
        case 'k': o.token = optarg; break;
        case 'm': o.markdown = true; break;
        case 'h': fputs(usage_text, stdout); exit(0);
        default:
            fprintf(stderr, "store-bench: unknown or incomplete option '%s'\n%s",
                    argv[optind - 1], usage_text);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "store-bench: unexpected argument '%s'\n%s",
                argv[optind], usage_text);
        exit(2);
    }
    if (o.quick) {
        if (!set_levels) {
            o.levels[0] = 1;
            o.levels[1] = 16;
            o.levels[2] = 64;
            o.n_levels = 3;
        }
        if (!set_dur)
            o.duration_ms = 500;
        if (!set_warm)
            o.warmup_ms = 200;
        if (!set_obj)
            o.objects = 2000;
        if (!set_fo)
            o.failovers = 1;
        if (!set_fs)
            o.fsync_ms = 500;
    }
}

/* ---- main -------------------------------------------------------------------*/

static void transport_closed(struct raft_uv_transport *t)
{
    (void)t;
}

int main(int argc, char **argv)
{
    bench_prog = "store-bench";
    char cmdline[1024] = "", machine[512], fs[400], date[64];
    struct fsync_result fs_over = {0}, fs_app = {0};
    struct level_result lr[MAX_LEVELS];
    double rss_idle[N_MEMBERS], rss_full[N_MEMBERS], rss_end[N_MEMBERS];
    double fo_ms[1000], catchup_ms[1000];
    unsigned n_fo = 0;
    unsigned long keys_full = 0, keys_end = 0;
    double status_ms_full = 0;
    struct errs fo_errs = {0};
    unsigned long fo_attempts = 0;
    unsigned fo_failed = 0;
    const char *parent;
    int leader;

    parse_options(argc, argv);
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(cmdline);
        snprintf(cmdline + len, sizeof cmdline - len, "%s%s", i ? " " : "",
                 argv[i]);
    }
    {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    }
    bench_machine_line(machine, sizeof machine);

    bench_on_exit(cleanup_now);
    alarm(o.timeout_s);

    value_buf = malloc(o.value_size ? o.value_size : 1);
    if (value_buf == NULL)
        bench_die("out of memory");
    for (unsigned i = 0; i < o.value_size; i++)
        value_buf[i] = (uint8_t)('a' + i % 26);

    /* The temp dir: fdatasync file and the members' data. */
    parent = o.dir != NULL ? o.dir : getenv("TMPDIR");
    if (parent == NULL || parent[0] == '\0')
        parent = "/tmp";
    {
        char tmpl[sizeof tmpdir];
        if (strlen(parent) > 400)
            bench_die("--dir: path too long");
        snprintf(tmpl, sizeof tmpl, "%.400s/c8s-store-bench.XXXXXX", parent);
        if (mkdtemp(tmpl) == NULL)
            bench_die("mkdtemp %s: %s", tmpl, strerror(errno));
        snprintf(tmpdir, sizeof tmpdir, "%s", tmpl);
    }
    bench_fs_line(tmpdir, fs, sizeof fs);

    /* 1. The physical limit, measured before anything else runs. */
    bench_note("measuring fdatasync in %s for %u ms", tmpdir, o.fsync_ms);
    measure_fdatasync(tmpdir, false, o.fsync_ms, &fs_over);
    measure_fdatasync(tmpdir, true, o.fsync_ms / 2, &fs_app);

    /* 2. The cluster. */
    uv_loop_init(&loop);
    if (repl_transport_init(&transport, &loop, NULL) != 0)
        bench_die("transport init failed");
    {
        unsigned char key[REPL_TRANSPORT_KEY_LEN];
        if (repl_transport_key_from_token(o.token, key) != 0)
            bench_die("--token must not be empty");
        repl_transport_set_key(&transport, key);
    }
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, on_tick, 5, 5);
    if (o.connect != NULL) {
        char buf[256], *save = NULL;
        int n = 0;
        snprintf(buf, sizeof buf, "%s", o.connect);
        for (char *t = strtok_r(buf, ",", &save); t != NULL && n < N_MEMBERS;
             t = strtok_r(NULL, ",", &save), n++) {
            snprintf(members[n].name, sizeof members[n].name, "m%d", n);
            snprintf(members[n].addr, sizeof members[n].addr, "%s", t);
        }
        if (n != N_MEMBERS)
            bench_die("--connect needs %d addresses", N_MEMBERS);
        managed = false;
    } else {
        size_t len = 0;
        if (access(o.master, X_OK) != 0)
            bench_die("--master %s: %s", o.master, strerror(errno));
        managed = true;
        for (int i = 0; i < N_MEMBERS; i++) {
            struct member *m = &members[i];
            int port = bench_free_port();
            if (port <= 0)
                bench_die("no free loopback port");
            snprintf(m->name, sizeof m->name, "m%d", i);
            snprintf(m->addr, sizeof m->addr, "127.0.0.1:%d", port);
            snprintf(m->dir, sizeof m->dir, "%.511s/m%d", tmpdir, i);
            snprintf(m->log, sizeof m->log, "%.511s/m%d.log", tmpdir, i);
            len += (size_t)snprintf(spec + len, sizeof spec - len, "%s%s=%s",
                                    i ? "," : "", m->name, m->addr);
        }
        for (int i = 0; i < N_MEMBERS; i++)
            member_start(i);
    }
    for (int i = 0; i < N_MEMBERS; i++)
        ctl[i].member = i;
    bench_note("waiting for a leader");
    leader = find_leader(20000);
    if (leader < 0) {
        for (int i = 0; i < N_MEMBERS && managed; i++)
            print_log_tail(i);
        bench_die("no agreed leader within 20 s");
    }
    bench_note("leader is %s", members[leader].name);
    sleep_loop(500); /* let the first barrier and heartbeats settle */
    for (int i = 0; i < N_MEMBERS; i++)
        rss_idle[i] = managed ? rss_mib(i) : -1;

    /* 3. Fill the store to --objects (RSS figure), 64 clients. */
    {
        struct status st;
        unsigned long have = 0;
        if (member_status(leader, &st, 10000) == 0)
            have = st.keys;
        if (o.objects > have) {
            unsigned n = 64;
            bench_note("storing %lu objects of %u bytes", o.objects - have,
                 o.value_size);
            setup_wconns(leader);
            workload_reset(n);
            w.limit = o.objects - have;
            w.leader = leader;
            w.warm_end = UINT64_MAX;
            uint64_t t0 = bench_now_ns();
            workload_start();
            if (!wait_for(fill_done, NULL, 600000))
                bench_note("BUG? filling the store did not finish");
            (void)workload_stop();
            bench_note("stored %lu in %.1f s (%.0f/s), errors: %lu", w.acked,
                 bench_ms(bench_now_ns() - t0) / 1000,
                 (double)w.acked / (bench_ms(bench_now_ns() - t0) / 1000),
                 errs_total(&w.errs));
            /* Errors during the fill leave gaps: top up. */
            while (w.acked < o.objects - have && errs_total(&w.errs) > 0) {
                unsigned long more = o.objects - have - w.acked;
                unsigned long acked = w.acked;
                w.limit = more;
                w.issued = 0;
                workload_start();
                (void)wait_for(fill_done, NULL, 60000);
                (void)workload_stop();
                w.acked += acked;
                if (w.acked == acked)
                    break;
            }
        }
        sleep_loop(1000);
        for (int i = 0; i < N_MEMBERS; i++)
            rss_full[i] = managed ? rss_mib(i) : -1;
        leader = managed ? log_leader(200, 30000) : leader;
        uint64_t t0 = bench_now_ns();
        if (leader >= 0 && member_status(leader, &st, 30000) == 0)
            keys_full = st.keys;
        status_ms_full = bench_ms(bench_now_ns() - t0);
        sleep_loop(2000); /* let the STATUS stall pass */
    }

    /* 4. Throughput and latency per level. */
    for (unsigned l = 0; l < o.n_levels; l++) {
        struct level_result *r = &lr[l];
        unsigned n = o.levels[l];
        uint64_t term0, term1 = 0;

        leader = current_leader();
        if (leader < 0)
            bench_die("no leader before level %u", n);
        bench_note("level %u clients: warm-up %u ms, window %u ms", n, o.warmup_ms,
             o.duration_ms);
        term0 = managed ? max_term() : 0;
        setup_wconns(leader);
        workload_reset(n);
        w.leader = leader;
        w.max_ops = o.max_ops;
        w.warm_end = bench_now_ns() + (uint64_t)o.warmup_ms * 1000000u;
        w.meas_end = w.warm_end + (uint64_t)o.duration_ms * 1000000u;
        workload_start();
        (void)wait_for(window_over, NULL, o.warmup_ms + o.duration_ms + 60000);
        uint64_t window = w.window_end - w.warm_end;
        if (managed)
            term1 = max_term();
        r->stuck = workload_stop();
        samples_sort(&w.all);
        samples_sort(&w.via_leader);
        samples_sort(&w.via_follower);
        r->clients = n;
        r->ops = w.in_window;
        r->rate = (double)w.in_window / ((double)window / 1e9);
        r->p50 = samples_pct_ms(&w.all, 0.50);
        r->p99 = samples_pct_ms(&w.all, 0.99);
        r->max = w.all.n ? bench_ms(w.all.v[w.all.n - 1]) : 0;
        r->p50_leader = samples_pct_ms(&w.via_leader, 0.50);
        r->p50_follower = samples_pct_ms(&w.via_follower, 0.50);
        r->elections = managed ? (long)(term1 - term0) : -1;
        struct errs all = w.errs;
        for (int i = 0; i < N_CODES && w.submit_errs.count[i]; i++)
            for (unsigned long k = 0; k < w.submit_errs.count[i]; k++)
                errs_add(&all, w.submit_errs.code[i]);
        errs_format(&all, r->errs, sizeof r->errs);
        bench_note("  %.0f writes/s, p50 %.3f ms, p99 %.3f ms, errors %s", r->rate,
             r->p50, r->p99, r->errs);
    }
    for (unsigned i = 0; i < n_wconns; i++)
        conn_drop(&wconns[i]);
    {
        struct status st;
        leader = current_leader();
        if (leader >= 0 && member_status(leader, &st, 30000) == 0)
            keys_end = st.keys;
        sleep_loop(2000); /* let the STATUS stall pass before failovers */
        for (int i = 0; i < N_MEMBERS; i++)
            rss_end[i] = managed ? rss_mib(i) : -1;
    }

    /* 5. Failover: kill -9 of the leader, time to the next acknowledged
     * write through the survivors. */
    for (unsigned round = 0; managed && round < o.failovers; round++) {
        uv_timer_t attempt;
        char marker[32];

        leader = log_leader(500, 30000);
        if (leader < 0) {
            bench_note("BUG? no stable leader before failover round %u", round + 1);
            break;
        }
        memset(&fo, 0, sizeof fo);
        fo.dead = leader;
        uv_timer_init(&loop, &attempt);
        uint64_t t0 = bench_now_ns();
        member_kill(leader);
        conn_drop(&ctl[leader]);
        fo_attempt(&attempt);
        uv_timer_start(&attempt, fo_attempt, 5, 5);
        bool ok = wait_for(fo_got, NULL, 30000);
        uv_timer_stop(&attempt);
        uv_close((uv_handle_t *)&attempt, NULL);
        if (!wait_for(fo_idle, NULL, 10000))
            for (int i = 0; i < N_MEMBERS; i++)
                conn_drop(&ctl[i]);
        for (int i = 0; i < N_CODES && fo.errs.count[i]; i++)
            for (unsigned long k = 0; k < fo.errs.count[i]; k++)
                errs_add(&fo_errs, fo.errs.code[i]);
        fo_attempts += fo.attempts;
        if (ok) {
            fo_ms[n_fo] = bench_ms(fo.t_ok - t0);
            bench_note("failover %u: killed %s, next write after %.0f ms "
                 "(%lu attempts)", round + 1, members[leader].name,
                 fo_ms[n_fo], fo.attempts);
        } else {
            fo_failed++;
            bench_note("BUG? failover %u: no write acknowledged within 30 s",
                 round + 1);
        }
        /* Restart the killed member and wait until it has caught up. */
        member_start(leader);
        uint64_t t1 = bench_now_ns();
        snprintf(marker, sizeof marker, "marker-%u", round);
        int via = (leader + 1) % N_MEMBERS, rv = -1;
        for (int tries = 0; tries < 200 && rv != 0; tries++) {
            rv = put_via(via, marker, 3000);
            if (rv != 0) {
                via = (via + 1) % N_MEMBERS;
                sleep_loop(20);
            }
        }
        rv = -1;
        while (rv != 0 && bench_now_ns() - t1 < 60000000000ull) {
            rv = get_via(leader, marker, 2000);
            if (rv != 0)
                sleep_loop(20);
        }
        if (rv != 0)
            bench_note("BUG? %s did not catch up within 60 s after restart",
                 members[leader].name);
        catchup_ms[n_fo] = bench_ms(bench_now_ns() - t1);
        if (ok)
            n_fo++;
    }

    /* 6. Report. */
    char fo_errs_s[512];
    double fo_sorted[1000];
    errs_format(&fo_errs, fo_errs_s, sizeof fo_errs_s);
    memcpy(fo_sorted, fo_ms, n_fo * sizeof *fo_ms);
    qsort(fo_sorted, n_fo, sizeof *fo_sorted, bench_cmp_double);
    double fo_med = n_fo ? (n_fo % 2 ? fo_sorted[n_fo / 2]
                                     : (fo_sorted[n_fo / 2 - 1] +
                                        fo_sorted[n_fo / 2]) / 2)
                         : 0;
    double target_p50 = 1.5 * fs_over.p50 + 0.3;
    double single = 0, at64 = 0, single_p50 = 0;
    for (unsigned l = 0; l < o.n_levels; l++) {
        if (lr[l].clients == 1) {
            single = lr[l].rate;
            single_p50 = lr[l].p50;
        }
        if (lr[l].clients == 64)
            at64 = lr[l].rate;
    }
    double rss_max_full = 0;
    for (int i = 0; i < N_MEMBERS; i++)
        if (rss_full[i] > rss_max_full)
            rss_max_full = rss_full[i];
    unsigned exits = 0;
    for (int i = 0; i < N_MEMBERS; i++)
        exits += members[i].unexpected_exits;

    printf("\nc8s store-bench: %s\n", date);
    printf("machine: %s\n", machine);
    printf("disk: %s (%s)\n", fs, parent);
    printf("command: %s\n", cmdline);
    printf("cluster: 3 members on loopback%s, %u-byte PUTs to distinct keys, "
           "%s, %u conn(s) per member\n",
           managed ? " (started by the bench)" : " (--connect)", o.value_size,
           o.leader_only ? "leader only" : "requests spread over all members",
           o.conns_per_member);
    printf("\nfdatasync, 4 KiB writes (%s):\n", parent);
    printf("  overwrite: p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%lu in %u ms)\n",
           fs_over.p50, fs_over.p99, fs_over.max, fs_over.n, o.fsync_ms);
    printf("  append:    p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%lu in %u ms)\n",
           fs_app.p50, fs_app.p99, fs_app.max, fs_app.n, o.fsync_ms / 2);
    printf("\nPUT, closed loop (warm-up %u ms, window %u ms%s); store held "
           "%lu objects at start:\n",
           o.warmup_ms, o.duration_ms, o.max_ops ? " or --ops" : "",
           keys_full);
    printf("  %7s %10s %9s %9s %9s %9s %9s %6s %9s  %s\n", "clients",
           "writes/s", "p50 ms", "p99 ms", "max ms", "p50 ldr", "p50 fol",
           "elect", "ops", "errors");
    for (unsigned l = 0; l < o.n_levels; l++) {
        struct level_result *r = &lr[l];
        char b1[16], b2[16];
        printf("  %7u %10.0f %9.3f %9.3f %9.3f %9s %9s %6ld %9lu  %s%s\n",
               r->clients, r->rate, r->p50, r->p99, r->max,
               bench_fmt_ms(r->p50_leader, b1), bench_fmt_ms(r->p50_follower, b2),
               r->elections, r->ops, r->errs,
               r->stuck ? " (STUCK writes)" : "");
    }
    printf("  (p50 ldr/fol: requests sent to the leader / to a follower, "
           "which forwards;\n   elect: raft terms started during the level, from "
           "the members' logs)\n");
    if (managed) {
        printf("\nmember RSS (MiB)      %8s %8s %8s\n", members[0].name,
               members[1].name, members[2].name);
        printf("  idle                %8.1f %8.1f %8.1f\n", rss_idle[0],
               rss_idle[1], rss_idle[2]);
        printf("  %7lu objects     %8.1f %8.1f %8.1f\n", keys_full,
               rss_full[0], rss_full[1], rss_full[2]);
        printf("  %7lu objects     %8.1f %8.1f %8.1f  (after the levels)\n",
               keys_end, rss_end[0], rss_end[1], rss_end[2]);
        printf("  STATUS call on the leader at %lu objects took %.1f ms\n",
               keys_full, status_ms_full);
        printf("\nfailover (kill -9 of the leader -> next acknowledged write, "
               "retried every 5 ms via the survivors):\n");
        if (n_fo > 0) {
            printf("  rounds %u: min %.0f ms  median %.0f ms  max %.0f ms\n",
                   n_fo, fo_sorted[0], fo_med, fo_sorted[n_fo - 1]);
            printf("  each (ms):");
            for (unsigned i = 0; i < n_fo; i++)
                printf(" %.0f", fo_ms[i]);
            printf("\n  restarted member caught up after (ms):");
            for (unsigned i = 0; i < n_fo; i++)
                printf(" %.0f", catchup_ms[i]);
            printf("\n  failed attempts during failovers: %s (of %lu)\n",
                   fo_errs_s, fo_attempts);
        }
        if (fo_failed > 0)
            printf("  rounds without any acknowledged write in 30 s: %u\n",
                   fo_failed);
        printf("  members that exited on their own: %u\n", exits);
    }
    printf("\ntargets (issue 3):\n");
    printf("  single-client p50 %.3f ms vs 1.5 x fdatasync p50 + 0.3 = %.3f ms"
           ": %s\n", single_p50, target_p50,
           single == 0 ? "n/a" : single_p50 <= target_p50 ? "met" : "MISSED");
    if (single > 0 && at64 > 0)
        printf("  64 clients %.0f/s vs 10 x single-client %.0f/s: %s\n", at64,
               10 * single, at64 >= 10 * single ? "met" : "MISSED");
    if (managed) {
        printf("  RSS at %lu objects max %.1f MiB vs 200 MiB: %s\n", keys_full,
               rss_max_full, rss_max_full <= 200 ? "met" : "MISSED");
        if (n_fo > 0)
            printf("  failover median %.0f ms vs 1000 ms: %s\n", fo_med,
                   fo_med <= 1000 ? "met" : "MISSED");
    }

    if (o.markdown) {
        printf("\n```markdown\n");
        printf("### Replicated store (bench/store-bench)\n\n");
        printf("- Date: %s\n- Machine: %s\n- Disk: %s\n", date, machine, fs);
        printf("- Command: `%s`\n", cmdline);
        printf("- 3 c8s-master members on loopback; %u-byte PUTs to distinct "
               "keys through the forward channel, closed loop, %s; warm-up "
               "%u ms, window %u ms per level; store held %lu objects.\n\n",
               o.value_size,
               o.leader_only ? "leader only"
                             : "requests spread over all 3 members",
               o.warmup_ms, o.duration_ms, keys_full);
        printf("fdatasync of 4 KiB on the same disk: p50 %.3f ms, p99 %.3f ms "
               "(overwrite); append p50 %.3f ms, p99 %.3f ms.\n\n",
               fs_over.p50, fs_over.p99, fs_app.p50, fs_app.p99);
        printf("| clients | writes/s | p50 ms | p99 ms | max ms | p50 via "
               "leader | p50 via follower | elections | errors |\n");
        printf("|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (unsigned l = 0; l < o.n_levels; l++) {
            struct level_result *r = &lr[l];
            char b1[16], b2[16];
            printf("| %u | %.0f | %.3f | %.3f | %.1f | %s | %s | %ld | "
                   "%s |\n", r->clients, r->rate, r->p50, r->p99, r->max,
                   bench_fmt_ms(r->p50_leader, b1), bench_fmt_ms(r->p50_follower, b2),
                   r->elections, r->errs);
        }
        if (managed) {
            printf("\n| member RSS (MiB) | %s | %s | %s |\n", members[0].name,
                   members[1].name, members[2].name);
            printf("|---|---:|---:|---:|\n");
            printf("| idle | %.1f | %.1f | %.1f |\n", rss_idle[0],
                   rss_idle[1], rss_idle[2]);
            printf("| %lu objects | %.1f | %.1f | %.1f |\n", keys_full,
                   rss_full[0], rss_full[1], rss_full[2]);
            printf("| %lu objects (after the levels) | %.1f | %.1f | %.1f |\n",
                   keys_end, rss_end[0], rss_end[1], rss_end[2]);
            if (n_fo > 0)
                printf("\nLeader kill -9 → next acknowledged write (%u rounds):"
                       " min %.0f ms, median %.0f ms, max %.0f ms.\n", n_fo,
                       fo_sorted[0], fo_med, fo_sorted[n_fo - 1]);
        }
        printf("\nTargets: single-client p50 %.3f ms (target ≤ %.3f ms: %s); "
               "64 clients %.1f× single (target ≥ 10×)",
               single_p50, target_p50,
               single_p50 <= target_p50 ? "met" : "missed",
               single > 0 ? at64 / single : 0);
        if (managed)
            printf("; RSS %.1f MiB at %lu objects (target ≤ 200); failover "
                   "median %.0f ms (target ≤ 1000)", rss_max_full, keys_full,
                   fo_med);
        printf(".\n```\n");
    }
    fflush(stdout);

    /* Close our side, then the members (atexit). */
    for (int i = 0; i < N_MEMBERS; i++)
        conn_drop(&ctl[i]);
    for (unsigned i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].timer_init)
            uv_close((uv_handle_t *)&clients[i].retry, NULL);
    uv_close((uv_handle_t *)&tick, NULL);
    transport.iface.close(&transport.iface, transport_closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&loop);
    free(w.all.v);
    free(w.via_leader.v);
    free(w.via_follower.v);
    free(value_buf);
    cleanup_now();
    return 0;
}
