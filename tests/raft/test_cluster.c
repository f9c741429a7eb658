/* c8s-master processes on loopback: election, replication, forwarding,
 * crash recovery, catch-up by snapshot, clean shutdown, bad input. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/proc.h"
#include "tests/lib/unit.h"
#include "raft/forward.h"
#include "raft/sync_client.h"

#define N_MAX 4
#define CALL_MS 3000
#define TOKEN "test-cluster-token"

struct member {
    char name[32];          /* "m0-PID", "m1-PID", ...: unique, so two
                             * clusters of parallel tests never share raft
                             * ids. */
    char addr[32];          /* Peer address. */
    char dir[512];          /* Data dir. */
    struct tproc *p;        /* Its process. */
    bool down;              /* Stopped on purpose: do not restart. */
    int restarts;           /* Crash restarts by supervise(). */
    struct repl_sync *c;      /* Client connected to it. */
    const char *token;      /* Its --token if not TOKEN. */
};

struct cluster {
    struct member m[N_MAX];
    int n;
    char spec[256];         /* --initial-cluster value. */
    const char *extra[6];   /* Extra flags for every member. */
};

static void cluster_free(void *arg)
{
    struct cluster *cl = arg;

    for (int i = 0; i < cl->n; i++)
        repl_sync_free(cl->m[i].c);
}

static void member_start(struct cluster *cl, int i)
{
    struct member *m = &cl->m[i];
    const char *argv[20] = {tproc_built("c8s-master"), "--name", m->name,
                      "--data-dir", m->dir, "--peer-listen", m->addr,
                      "--initial-cluster", cl->spec, "--token",
                      m->token ? m->token : TOKEN};
    int argc = 11;

    for (int k = 0; k < 6 && cl->extra[k] != NULL; k++)
        argv[argc++] = cl->extra[k];
    if (m->p == NULL)
        m->p = tproc_start(m->name, argv);
    else
        tproc_restart(m->p);
}

static void cluster_start(struct cluster *cl, int n)
{
    size_t len = 0;

    cl->n = n;
    for (int i = 0; i < n; i++) {
        struct member *m = &cl->m[i];
        snprintf(m->name, sizeof m->name, "m%d-%d", i, (int)getpid());
        snprintf(m->addr, sizeof m->addr, "127.0.0.1:%d", tproc_free_port());
        snprintf(m->dir, sizeof m->dir, "%s/%s", unit_tmpdir(), m->name);
        len += (size_t)snprintf(cl->spec + len, sizeof cl->spec - len, "%s%s=%s",
                                i > 0 ? "," : "", m->name, m->addr);
        m->c = repl_sync_new(m->addr, m->token ? m->token : TOKEN);
    }
    unit_defer(cluster_free, cl);
    for (int i = 0; i < n; i++)
        member_start(cl, i);
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The raft ID member @i reports once it answers (it may be starting). */
static uint64_t raft_id_of(struct cluster *cl, int i)
{
    struct repl_sync_status st;
    long deadline = now_ms() + 10000;

    while (repl_sync_status(cl->m[i].c, &st, 500) != 0) {
        ASSERT_MSG(now_ms() < deadline, "%s does not answer", cl->m[i].name);
        usleep(50000);
    }
    return st.id;
}

/* Index of the member every running member agrees leads, or fail. */
static int wait_leader(struct cluster *cl, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    while (now_ms() < deadline) {
        uint64_t leader = 0;
        bool agree = true;
        for (int i = 0; i < cl->n && agree; i++) {
            struct repl_sync_status st;
            if (cl->m[i].p->pid <= 0)
                continue;
            if (repl_sync_status(cl->m[i].c, &st, 500) != 0 || st.leader_id == 0 ||
                (leader != 0 && st.leader_id != leader))
                agree = false;
            else
                leader = st.leader_id;
        }
        for (int i = 0; agree && i < cl->n; i++) {
            struct repl_sync_status st;
            if (cl->m[i].p->pid > 0 && repl_sync_status(cl->m[i].c, &st, 500) == 0 &&
                st.id == leader && strcmp(st.state, "leader") == 0)
                return i;
        }
        usleep(50000);
    }
    unit_fail(__FILE__, __LINE__, "no agreed leader within %d ms", timeout_ms);
}

/* Put with retries until acknowledged (the store answers unknown or no
 * leader during failover; PUT is idempotent for a given value). */
static void put_acked(struct cluster *cl, int via, const char *name,
                      const char *value)
{
    long deadline = now_ms() + 15000;
    int rv;

    do {
        rv = repl_sync_put(cl->m[via].c, name, value, strlen(value), CALL_MS,
                         NULL);
        if (rv == 0)
            return;
        via = (via + 1) % cl->n;
        if (cl->m[via].p->pid <= 0)
            via = (via + 1) % cl->n;
        usleep(20000);
    } while (now_ms() < deadline);
    unit_fail(__FILE__, __LINE__, "put %s never acknowledged: %s", name,
              err_str(rv));
}

/* Each running member has exactly @value under @name. */
static void assert_value_everywhere(struct cluster *cl, const char *name,
                                    const char *value)
{
    for (int i = 0; i < cl->n; i++) {
        char buf[256];
        size_t len = 0;
        uint64_t rev;
        if (cl->m[i].p->pid <= 0)
            continue;
        int rv = repl_sync_get(cl->m[i].c, name, buf, sizeof buf, &len, &rev,
                             CALL_MS);
        ASSERT_MSG(rv == 0, "%s on %s: %s", name, cl->m[i].name, err_str(rv));
        ASSERT_MSG(len == strlen(value) && memcmp(buf, value, len) == 0,
                   "%s on %s: got '%.*s', want '%s'", name, cl->m[i].name,
                   (int)len, buf, value);
    }
}

/* Restart members that died on their own, as systemd's Restart=always does
 * in production: libraft 0.22.1 has crash bugs that a restart recovers from
 * (LIBRAFT-NOTES §6c), and the liveness monitor exits on purpose. */
static void supervise(struct cluster *cl)
{
    for (int i = 0; i < cl->n; i++) {
        struct member *m = &cl->m[i];
        if (m->down || m->p == NULL || !tproc_exited(m->p))
            continue;
        fprintf(stderr, "# %s exited on its own (status 0x%x), restarting\n",
                m->name, m->p->status);
        m->restarts++;
        tproc_restart(m->p);
    }
}

/* All running members reach the same revision with identical stores. */
static void wait_converged(struct cluster *cl, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    struct repl_sync_status st[N_MAX];

    while (now_ms() < deadline) {
        supervise(cl);
        bool same = true;
        int first = -1;
        for (int i = 0; i < cl->n && same; i++) {
            if (cl->m[i].p->pid <= 0)
                continue;
            if (repl_sync_status_digest(cl->m[i].c, &st[i], 1000) != 0) {
                same = false;
                break;
            }
            if (first < 0)
                first = i;
            else if (st[i].rev != st[first].rev ||
                     st[i].digest != st[first].digest)
                same = false;
        }
        if (same && first >= 0)
            return;
        usleep(50000);
    }
    unit_fail(__FILE__, __LINE__, "members did not converge in %d ms",
              timeout_ms);
}

static void name_of(char *buf, size_t size, int i)
{
    snprintf(buf, size, "key-%05d", i);
}

static void value_of(char *buf, size_t size, int i, int round)
{
    snprintf(buf, size, "value-%d-round-%d", i, round);
}

TEST_T(cluster, elects_a_leader_and_replicates_writes_from_any_member, 60)
{
    static struct cluster cl; /* outlives the test body: cleanups use it */
    char name[32], value[64];

    cluster_start(&cl, 3);
    int leader = wait_leader(&cl, 10000);
    int follower = (leader + 1) % 3;
    for (int i = 0; i < 60; i++) {
        name_of(name, sizeof name, i);
        value_of(value, sizeof value, i, 0);
        int via = i % 2 == 0 ? leader : follower;
        uint64_t rev = 0;
        ASSERT_EQ(repl_sync_put(cl.m[via].c, name, value, strlen(value), CALL_MS,
                              &rev), 0);
        /* Read your writes on the member that answered. */
        char buf[64];
        size_t len;
        uint64_t mod;
        ASSERT_EQ(repl_sync_get(cl.m[via].c, name, buf, sizeof buf, &len, &mod,
                              CALL_MS), 0);
        ASSERT_UEQ(mod, rev);
    }
    wait_converged(&cl, 10000);
    for (int i = 0; i < 60; i += 7) {
        name_of(name, sizeof name, i);
        value_of(value, sizeof value, i, 0);
        assert_value_everywhere(&cl, name, value);
    }
}

TEST_T(cluster, create_conflicts_and_preconditions_hold_across_members, 60)
{
    static struct cluster cl; /* outlives the test body: cleanups use it */
    uint64_t rev1, rev2;

    cluster_start(&cl, 3);
    int leader = wait_leader(&cl, 10000);
    int f = (leader + 1) % 3;
    struct store_op create = {.type = STORE_OP_CREATE, .resource = "pods",
                              .ns = "default", .name = "p", .value = "v1",
                              .value_len = 2};
    ASSERT_EQ(repl_sync_txn(cl.m[f].c, &create, 1, CALL_MS, &rev1), 0);
    ASSERT_EQ(repl_sync_txn(cl.m[leader].c, &create, 1, CALL_MS, NULL),
              -C8S_EEXISTS);
    struct store_op update = {.type = STORE_OP_UPDATE, .resource = "pods",
                              .ns = "default", .name = "p", .value = "v2",
                              .value_len = 2, .expect_rev = rev1};
    ASSERT_EQ(repl_sync_txn(cl.m[f].c, &update, 1, CALL_MS, &rev2), 0);
    ASSERT(rev2 > rev1);
    /* The same precondition again is stale now. */
    ASSERT_EQ(repl_sync_txn(cl.m[(f + 1) % 3].c, &update, 1, CALL_MS, NULL),
              -C8S_ECONFLICT);
}

TEST_T(cluster, linearizable_read_point_covers_acknowledged_writes, 60)
{
    static struct cluster cl; /* outlives the test body: cleanups use it */
    uint64_t wrote, read;

    cluster_start(&cl, 3);
    int leader = wait_leader(&cl, 10000);
    for (int i = 0; i < 20; i++) {
        ASSERT_EQ(repl_sync_put(cl.m[leader].c, "k", "v", 1, CALL_MS, &wrote), 0);
        /* A read that starts after the ack, on any member, sees it. */
        int other = (leader + 1 + i % 2) % 3;
        ASSERT_EQ(repl_sync_read(cl.m[other].c, CALL_MS, &read), 0);
        ASSERT_MSG(read >= wrote, "read point %llu < acknowledged %llu",
                   (unsigned long long)read, (unsigned long long)wrote);
    }
}

TEST_T(cluster, kill_9_of_the_leader_during_writes_loses_nothing, 120)
{
    static struct cluster cl; /* outlives the test body: cleanups use it */
    char name[32], value[64];
    const int n_keys = 300;

    cluster_start(&cl, 3);
    int leader = wait_leader(&cl, 10000);
    for (int i = 0; i < n_keys; i++) {
        if (i == n_keys / 3) {
            tproc_signal(cl.m[leader].p, SIGKILL);
            (void)tproc_stop(cl.m[leader].p, 5000);
        }
        if (i == 2 * n_keys / 3)
            member_start(&cl, leader); /* comes back and catches up */
        name_of(name, sizeof name, i);
        value_of(value, sizeof value, i, 1);
        put_acked(&cl, i % 3, name, value);
    }
    wait_leader(&cl, 10000);
    wait_converged(&cl, 20000);
    for (int i = 0; i < n_keys; i++) {
        name_of(name, sizeof name, i);
        value_of(value, sizeof value, i, 1);
        assert_value_everywhere(&cl, name, value);
    }
}

TEST_T(cluster, kill_9_of_every_member_then_restart_keeps_acknowledged_writes, 120)
{
    static struct cluster cl; /* outlives the test body: cleanups use it */
    char name[32], value[64];

    cluster_start(&cl, 3);
    int leader = wait_leader(&cl, 10000);
    for (int i = 0; i < 200; i++) {
        name_of(name, sizeof name, i);
        value_of(value, sizeof value, i, 2);
        put_acked(&cl, (leader + i) % 3, name, value);
    }
    for (int i = 0; i < 3; i++)
        tproc_signal(cl.m[i].p, SIGKILL);
    for (int i = 0; i < 3; i++)
        (void)tproc_stop(cl.m[i].p, 5000);
    for (int i = 0; i < 3; i++)
        member_start(&cl, i);
    wait_leader(&cl, 15000);
    wait_converged(&cl, 20000);
    for (int i = 0; i < 200; i++) {
        name_of(name, sizeof name, i);
        value_of(value, sizeof value, i, 2);
        assert_value_everywhere(&cl, name, value);
    }
}

static void unmount_disk(void *arg)
{
    char cmd[2300];

    snprintf(cmd, sizeof cmd, "umount -l %s 2>/dev/null", (const char *)arg);
    (void)!system(cmd);
}

static void remove_tree(const char *path)
{
    char cmd[600];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    ASSERT_EQ(system(cmd), 0);
}

/* Remove a follower from the cluster, stop it and wipe its data dir, then
 * write k-0..k-399 (enough for the log it would need to be compacted away,
 * with a snapshot every 64 entries). Returns the follower, to rejoin(). */
static int wipe_a_follower_under_writes(struct cluster *cl)
{
    char name[32], value[64];
    int leader = wait_leader(cl, 10000);
    int victim = (leader + 1) % 3;

    ASSERT_EQ(repl_sync_member_remove(cl->m[leader].c, cl->m[victim].name,
                                      10000), 0);
    cl->m[victim].down = true;
    (void)tproc_stop(cl->m[victim].p, 5000);
    remove_tree(cl->m[victim].dir);
    for (int i = 0; i < 400; i++) {
        name_of(name, sizeof name, i);
        value_of(value, sizeof value, i, 3);
        put_acked(cl, leader, name, value);
    }
    cl->m[victim].down = false;
    return victim;
}

/* Start member @i, wiped and removed, as a joiner (the rest of the cluster
 * stays up) and add it back under the raft ID it drew; returns that ID. */
static uint64_t rejoin(struct cluster *cl, int i)
{
    struct member *m = &cl->m[i];
    const char *argv[20] = {tproc_built("c8s-master"), "--name", m->name,
                            "--data-dir", m->dir, "--peer-listen", m->addr,
                            "--initial-cluster", cl->spec,
                            "--initial-cluster-state", "existing",
                            "--token", TOKEN};
    int argc = 13, rv;
    long deadline = now_ms() + 30000;

    for (int k = 0; k < 6 && cl->extra[k] != NULL; k++)
        argv[argc++] = cl->extra[k];
    m->p = tproc_start(m->name, argv);
    m->down = false;
    uint64_t id = raft_id_of(cl, i);
    do { /* through another member, which passes it on to the leader */
        rv = repl_sync_member_add(cl->m[(i + 1) % cl->n].c, m->name, m->addr,
                                  id, 30000);
    } while ((rv == -C8S_ENOLEADER || rv == -EBUSY) && now_ms() < deadline &&
             usleep(100000) == 0);
    ASSERT_MSG(rv == 0, "adding %s back: %s", m->name, err_str(rv));
    return id;
}

TEST_T(cluster, a_member_with_a_wiped_data_dir_catches_up_by_snapshot, 120)
{
    static struct cluster cl = {.extra = {"--snapshot-threshold", "64",
                                          "--snapshot-trailing", "16"}};
    char name[32], value[64];

    cluster_start(&cl, 3);
    int victim = wipe_a_follower_under_writes(&cl);
    ASSERT(rejoin(&cl, victim) != repl_member_id(cl.m[victim].name));
    wait_converged(&cl, 30000);
    char *log = tproc_log(cl.m[victim].p);
    ASSERT_STR_CONTAINS(log, "restored snapshot");
    free(log);
    name_of(name, sizeof name, 399);
    value_of(value, sizeof value, 399, 3);
    assert_value_everywhere(&cl, name, value);
}

/* A follower installing a snapshot has its commit index raised to the
 * snapshot's by heartbeats while the snapshot is still being written, and
 * applies it only once written: a slow disk (held here 3 s by the debug
 * hook) made the liveness monitor take that for a stall and exit (a
 * Jepsen set/kill run, 254 MB snapshot). */
TEST_T(cluster, a_slow_snapshot_install_is_not_a_stall, 120)
{
    static struct cluster cl = {.extra = {"--snapshot-threshold", "64",
                                          "--snapshot-trailing", "16",
                                          "--stall-timeout", "1000"}};
    char name[32], value[64];

    cluster_start(&cl, 3);
    int victim = wipe_a_follower_under_writes(&cl);
    setenv("C8S_DEBUG_SLOW_INSTALL_MS", "3000", 1);
    (void)rejoin(&cl, victim);
    unsetenv("C8S_DEBUG_SLOW_INSTALL_MS");
    wait_converged(&cl, 30000);
    ASSERT_MSG(!tproc_exited(cl.m[victim].p), "the installing member exited");
    char *log = tproc_log(cl.m[victim].p);
    ASSERT_STR_CONTAINS(log, "held 3000 ms");
    ASSERT_STR_CONTAINS(log, "restored snapshot");
    ASSERT_MSG(strstr(log, "stalled:") == NULL, "%s", log);
    free(log);
    name_of(name, sizeof name, 399);
    value_of(value, sizeof value, 399, 3);
    assert_value_everywhere(&cl, name, value);
}

/* Lines of @log holding @needle (libraft's own trace lines, printed with
 * LIBRAFT_TRACE set, or ours). */
static int count_in(const char *log, const char *needle)
{
    int n = 0;
    for (const char *p = log; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* A follower that answers the heartbeats queued while it was paused with
 * rejections made libraft 0.22.1 send it the whole snapshot again, once
 * per rejection, every copy held until written (raft/install.c): in a
 * Jepsen run a leader with a 56 MB snapshot grew to 22 GB and was
 * OOM-killed. A follower that fell behind the leader's log must get the
 * snapshot about once, not once per heartbeat. */
TEST_T(cluster, a_lagging_follower_is_sent_one_snapshot_not_one_per_heartbeat,
       120)
{
    static struct cluster cl = {.extra = {"--snapshot-threshold", "64",
                                          "--snapshot-trailing", "16"}};
    static char value[48 * 1024];
    char name[32];

    setenv("LIBRAFT_TRACE", "1", 1); /* the count below is libraft's own */
    cluster_start(&cl, 3);
    unsetenv("LIBRAFT_TRACE");
    int leader = wait_leader(&cl, 10000);
    int victim = (leader + 1) % 3;
    /* Paused, the victim falls behind the leader's log; a store of 28 MiB
     * makes its install take many heartbeats. */
    tproc_signal(cl.m[victim].p, SIGSTOP);
    for (int i = 0; i < 600; i++) {
        name_of(name, sizeof name, i);
        memset(value, 'a' + i % 26, sizeof value - 1);
        put_acked(&cl, leader, name, value);
    }
    /* A copy to the paused victim goes out now and then (whenever the
     * leader's hold on an unacknowledged one ends): those it gets later
     * do not count. */
    char *before = tproc_log(cl.m[leader].p);
    int sent_while_paused = count_in(before, "sending the snapshot at");
    free(before);
    tproc_signal(cl.m[victim].p, SIGCONT);
    wait_converged(&cl, 60000);
    usleep(500 * 1000); /* any copies still queued arrive */
    char *log = tproc_log(cl.m[victim].p);
    int received = count_in(log, "> recv install snapshot");
    free(log);
    fprintf(stderr, "# the victim received the snapshot %d time(s), %d of "
            "them sent while it was paused\n", received, sent_while_paused);
    ASSERT_MSG(received >= 1, "the victim got no snapshot: the test did not "
               "exercise an install");
    ASSERT_MSG(received - sent_while_paused <= 2, "the victim was sent the "
               "snapshot %d times after it resumed", received -
               sent_while_paused);
}

/* A follower restarted while writes go on applies its log and may start a
 * snapshot of its own just as the leader's InstallSnapshot arrives, which
 * crashes libraft 0.22.1 (LIBRAFT-NOTES section 4). Members must ride
 * through many such restarts with tiny snapshot thresholds without dying:
 * supervise() counts any exit. */
TEST_T(cluster, followers_restarted_under_writes_survive_snapshot_installs, 240)
{
    static struct cluster cl = {.extra = {"--snapshot-threshold", "32",
                                          "--snapshot-trailing", "64"}};
    char name[32], value[64];
    int key = 0;

    cluster_start(&cl, 3);
    int leader = wait_leader(&cl, 10000);
    for (int round = 0; round < 8; round++) {
        int victim = (leader + 1 + round % 2) % 3;
        tproc_signal(cl.m[victim].p, SIGKILL);
        (void)tproc_stop(cl.m[victim].p, 5000);
        cl.m[victim].down = true;
        for (int i = 0; i < 200; i++, key++) {
            name_of(name, sizeof name, key);
            value_of(value, sizeof value, key, round);
            put_acked(&cl, leader, name, value);
        }
        cl.m[victim].down = false;
        member_start(&cl, victim);
        for (int i = 0; i < 200; i++, key++) {
            supervise(&cl);
            name_of(name, sizeof name, key);
            value_of(value, sizeof value, key, round);
            put_acked(&cl, leader, name, value);
        }
        wait_converged(&cl, 30000);
        leader = wait_leader(&cl, 10000);
    }
    for (int i = 0; i < cl.n; i++)
        ASSERT_MSG(cl.m[i].restarts == 0, "%s died %d times (status 0x%x)",
                   cl.m[i].name, cl.m[i].restarts, cl.m[i].p->status);
}

TEST_T(cluster, sigterm_hands_over_leadership_and_exits_0, 60)
{
    static struct cluster cl; /* outlives the test body: cleanups use it */

    cluster_start(&cl, 3);
    int leader = wait_leader(&cl, 10000);
    put_acked(&cl, leader, "before", "1");
    int status = tproc_stop(cl.m[leader].p, 5000);
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    char *log = tproc_log(cl.m[leader].p);
    ASSERT_STR_CONTAINS(log, "leadership transferred");
    free(log);
    int next = wait_leader(&cl, 5000);
    ASSERT_NE(next, leader);
    put_acked(&cl, next, "after", "2");
}

/* A damaged log must stop the member with a message naming the file, not
 * be skipped (that could drop acknowledged writes). */
TEST_T(cluster, a_corrupt_segment_refuses_to_start, 60)
{
    static struct cluster cl; /* outlives the test body: cleanups use it */
    char path[1024] = "";
    struct dirent *de;

    cluster_start(&cl, 1);
    wait_leader(&cl, 10000);
    for (int i = 0; i < 50; i++)
        put_acked(&cl, 0, "k", "some value that lands in the log");
    ASSERT_EQ(tproc_stop(cl.m[0].p, 5000), 0);
    DIR *d = opendir(cl.m[0].dir);
    ASSERT(d != NULL);
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, "open-", 5) == 0 ||
            (isdigit((unsigned char)de->d_name[0]) && strchr(de->d_name, '-')))
            if (path[0] == '\0')
                snprintf(path, sizeof path, "%s/%s", cl.m[0].dir, de->d_name);
    closedir(d);
    ASSERT_MSG(path[0] != '\0', "no segment found in %s", cl.m[0].dir);
    int fd = open(path, O_WRONLY);
    ASSERT(fd >= 0);
    /* Overwrite the first entry's header and checksums. */
    ASSERT_EQ(pwrite(fd, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
                         "\xff\xff\xff\xff", 16, 8), 16);
    close(fd);
    member_start(&cl, 0);
    for (int i = 0; i < 100 && !tproc_exited(cl.m[0].p); i++)
        usleep(50000);
    ASSERT_MSG(tproc_exited(cl.m[0].p), "member started on a corrupt log");
    ASSERT(WIFEXITED(cl.m[0].p->status) && WEXITSTATUS(cl.m[0].p->status) != 0);
    char *log = tproc_log(cl.m[0].p);
    ASSERT_STR_CONTAINS(log, "cannot start from");
    free(log);
}

TEST_T(cluster, history_is_compacted_automatically, 60)
{
    static struct cluster cl = {.extra = {"--history-min-age", "1",
                                          "--compact-interval", "200"}};
    struct repl_sync_status st;

    cluster_start(&cl, 3);
    int leader = wait_leader(&cl, 10000);
    for (int i = 0; i < 30; i++)
        put_acked(&cl, leader, "k", "v");
    long deadline = now_ms() + 10000;
    do {
        usleep(100000);
        ASSERT_EQ(repl_sync_status(cl.m[(leader + 1) % 3].c, &st, CALL_MS), 0);
    } while (st.compact_rev == 0 && now_ms() < deadline);
    ASSERT_MSG(st.compact_rev > 0, "no compaction reached a follower");
    wait_converged(&cl, 10000);
}

/* libraft retries failed disk writes forever; c8s refuses writes up front
 * with ENOSPC instead of letting them hang, and keeps serving reads. */
TEST_T(cluster, writes_fail_clearly_when_the_disk_is_nearly_full, 60)
{
    static struct cluster cl = {.extra = {"--min-free-mb", "99999999"}};
    uint64_t rev;

    cluster_start(&cl, 1);
    wait_leader(&cl, 10000);
    ASSERT_EQ(repl_sync_put(cl.m[0].c, "k", "v", 1, CALL_MS, &rev), -ENOSPC);
    ASSERT_EQ(repl_sync_read(cl.m[0].c, CALL_MS, &rev), 0);
    char *log = tproc_log(cl.m[0].p);
    ASSERT_STR_CONTAINS(log, "disk nearly full");
    free(log);
}

/* Same for a damaged snapshot: refuse, and name the file. */
TEST_T(cluster, a_corrupt_snapshot_refuses_to_start, 60)
{
    static struct cluster cl = {.extra = {"--snapshot-threshold", "8"}};
    char path[1024] = "", name[256] = "";
    unsigned long long best = 0;
    struct dirent *de;

    cluster_start(&cl, 1);
    wait_leader(&cl, 10000);
    for (int i = 0; i < 40; i++)
        put_acked(&cl, 0, "k", "some value that lands in a snapshot");
    ASSERT_EQ(tproc_stop(cl.m[0].p, 5000), 0);
    DIR *d = opendir(cl.m[0].dir);
    ASSERT(d != NULL);
    while ((de = readdir(d)) != NULL) {
        unsigned long long t, idx, ts;
        int n = 0;
        if (sscanf(de->d_name, "snapshot-%llu-%llu-%llu%n", &t, &idx, &ts, &n) ==
                3 && de->d_name[n] == '\0' && idx >= best) {
            best = idx;
            snprintf(name, sizeof name, "%s", de->d_name);
        }
    }
    closedir(d);
    ASSERT_MSG(name[0] != '\0', "no snapshot in %s", cl.m[0].dir);
    snprintf(path, sizeof path, "%s/%s", cl.m[0].dir, name);
    int fd = open(path, O_WRONLY);
    ASSERT(fd >= 0);
    ASSERT_EQ(pwrite(fd, "XXXXXXXX", 8, 64), 8);
    close(fd);
    member_start(&cl, 0);
    for (int i = 0; i < 100 && !tproc_exited(cl.m[0].p); i++)
        usleep(50000);
    ASSERT_MSG(tproc_exited(cl.m[0].p), "member started on a corrupt snapshot");
    ASSERT(WIFEXITED(cl.m[0].p->status) && WEXITSTATUS(cl.m[0].p->status) != 0);
    char *log = tproc_log(cl.m[0].p);
    ASSERT_STR_CONTAINS(log, name);
    ASSERT_STR_CONTAINS(log, "Nothing was skipped");
    free(log);
}

/* Run member 0 (stopped) on its data dir until it exits; its log. */
static char *start_until_exit(struct cluster *cl)
{
    member_start(cl, 0);
    for (int i = 0; i < 100 && !tproc_exited(cl->m[0].p); i++)
        usleep(50000);
    ASSERT_MSG(tproc_exited(cl->m[0].p), "the member started");
    ASSERT(WIFEXITED(cl->m[0].p->status) &&
           WEXITSTATUS(cl->m[0].p->status) != 0);
    return tproc_log(cl->m[0].p);
}

/* Write @text as member 0's DATA-DIR/member-id. */
static void write_member_id(struct cluster *cl, const char *text)
{
    char path[600];

    snprintf(path, sizeof path, "%s/member-id", cl->m[0].dir);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* DATA-DIR/member-id holds the member's raft ID: a damaged or empty one,
 * one of another member, or a joiner's on a dir without raft state started
 * to bootstrap (its ID would not be in the configuration it writes) stop
 * it with the file named; a guessed ID could make it count as someone it
 * is not. A data dir from before the file keeps its name's ID. */
TEST_T(cluster, the_member_id_file_is_checked_at_start, 60)
{
    static struct cluster cl;
    char text[128], path[600], *log;

    cluster_start(&cl, 1);
    wait_leader(&cl, 10000);
    uint64_t id = raft_id_of(&cl, 0);
    ASSERT_EQ(id, repl_member_id(cl.m[0].name));
    ASSERT_EQ(tproc_stop(cl.m[0].p, 5000), 0);
    write_member_id(&cl, "garbage\n");
    log = start_until_exit(&cl);
    ASSERT_STR_CONTAINS(log, "member-id is damaged");
    free(log);
    write_member_id(&cl, "");
    log = start_until_exit(&cl);
    ASSERT_STR_CONTAINS(log, "member-id is damaged");
    free(log);
    snprintf(text, sizeof text, "someone %016llx\n",
             (unsigned long long)repl_member_id("someone"));
    write_member_id(&cl, text);
    log = start_until_exit(&cl);
    ASSERT_STR_CONTAINS(log, "belongs to member 'someone'");
    free(log);

    /* From before member-id: raft state and no file. */
    snprintf(path, sizeof path, "%s/member-id", cl.m[0].dir);
    ASSERT_EQ(unlink(path), 0);
    tproc_restart(cl.m[0].p);
    ASSERT_EQ(raft_id_of(&cl, 0), id);
    ASSERT_EQ(tproc_stop(cl.m[0].p, 5000), 0);

    /* A joiner's ID, no raft state, started to bootstrap. */
    remove_tree(cl.m[0].dir);
    ASSERT_EQ(mkdir(cl.m[0].dir, 0700), 0);
    snprintf(text, sizeof text, "%s %016llx\n", cl.m[0].name,
             (unsigned long long)(id ^ 0x5a5a5a5aULL));
    write_member_id(&cl, text);
    log = start_until_exit(&cl);
    ASSERT_STR_CONTAINS(log, "--initial-cluster-state existing");
    free(log);
}

static int count_voters(struct cluster *cl, int via)
{
    struct repl_sync_member m[8];
    size_t n = 0;
    int voters = 0;

    ASSERT_EQ(repl_sync_members(cl->m[via].c, m, 8, &n, CALL_MS), 0);
    for (size_t i = 0; i < n && i < 8; i++)
        voters += strcmp(m[i].role, "voter") == 0;
    return voters;
}

/* Member 3, not yet in the configuration, and @spec, the whole new
 * cluster it is started with. */
static struct member *newcomer_init(struct cluster *cl, char *spec,
                                    size_t size)
{
    struct member *m = &cl->m[3];

    snprintf(m->name, sizeof m->name, "m3-%d", (int)getpid());
    snprintf(m->addr, sizeof m->addr, "127.0.0.1:%d", tproc_free_port());
    snprintf(m->dir, sizeof m->dir, "%s/m3", unit_tmpdir());
    ASSERT((size_t)snprintf(spec, size, "%s,%s=%s", cl->spec, m->name,
                            m->addr) < size);
    m->c = repl_sync_new(m->addr, TOKEN);
    return m;
}

/* The newcomer knows the whole new cluster and must not bootstrap. */
static void newcomer_start(struct cluster *cl, const char *spec)
{
    struct member *m = &cl->m[3];
    const char *argv[] = {tproc_built("c8s-master"), "--name", m->name,
                          "--data-dir", m->dir, "--peer-listen", m->addr,
                          "--initial-cluster", spec,
                          "--initial-cluster-state", "existing",
                          "--token", TOKEN, NULL};

    m->p = tproc_start(m->name, argv);
    cl->n = 4;
}

/* Three members holding a key "before", and member 3 prepared (not
 * started, not added); the leader's index in *@leader. */
static struct member *three_and_a_newcomer(struct cluster *cl, char *spec,
                                           size_t size, int *leader)
{
    cluster_start(cl, 3);
    *leader = wait_leader(cl, 10000);
    for (int i = 0; i < 50; i++)
        put_acked(cl, *leader, "before", "1");
    return newcomer_init(cl, spec, size);
}

TEST_T(cluster, a_member_is_added_and_removed_at_runtime, 120)
{
    static struct cluster cl;
    char spec4[320];

    int leader;
    struct member *m = three_and_a_newcomer(&cl, spec4, sizeof spec4, &leader);
    newcomer_start(&cl, spec4);
    /* A joiner draws a new raft ID of its name; the add carries it. */
    uint64_t id = raft_id_of(&cl, 3);
    ASSERT(id != repl_member_id(m->name) && repl_member_id_is_of(id, m->name));
    /* Ask a follower: it passes the change on to the leader. */
    int follower = (leader + 1) % 3;
    ASSERT_EQ(repl_sync_member_add(cl.m[follower].c, m->name, m->addr, id,
                                   30000), 0);
    ASSERT_EQ(count_voters(&cl, leader), 4);
    /* Another member at its address, however the port is written, is in
     * the way (a string compare let "07000" pass for 7000). */
    char again[64];
    const char *colon = strrchr(m->addr, ':');
    snprintf(again, sizeof again, "%.*s:0%s", (int)(colon - m->addr),
             m->addr, colon + 1);
    ASSERT_EQ(repl_sync_member_add(cl.m[follower].c, "other", again,
                                   repl_member_id("other"), 10000),
              -C8S_EEXISTS);
    put_acked(&cl, 3, "after-add", "2");
    wait_converged(&cl, 20000);
    assert_value_everywhere(&cl, "before", "1");
    /* Remove the old leader's neighbour, then stop it: it is not told. */
    int gone = (leader + 2) % 3;
    ASSERT_EQ(repl_sync_member_remove(cl.m[3].c, cl.m[gone].name, 10000), 0);
    cl.m[gone].down = true;
    (void)tproc_stop(cl.m[gone].p, 5000);
    ASSERT_EQ(count_voters(&cl, 3), 3);
    ASSERT_EQ(repl_sync_member_remove(cl.m[3].c, "nobody", 10000),
              -C8S_ENOTFOUND);
    put_acked(&cl, 3, "after-remove", "3");
    wait_converged(&cl, 20000);
    assert_value_everywhere(&cl, "after-remove", "3");
}

/* Role of the member at @addr as member @via knows it ("" if none). */
static const char *role_of(struct cluster *cl, int via, const char *addr)
{
    static struct repl_sync_member m[8];
    size_t n = 0;

    ASSERT_EQ(repl_sync_members(cl->m[via].c, m, 8, &n, CALL_MS), 0);
    for (size_t i = 0; i < n && i < 8; i++)
        if (strcmp(m[i].address, addr) == 0)
            return m[i].role;
    return "";
}

/* libraft gives up promoting a newcomer whose catch-up round outlasts a
 * limit (5 s by default) and leaves it a spare: in a Jepsen run one that
 * was loading a 74 MB snapshot timed out, and every later `member add` of
 * it answered "already exists", so it never came back. Adding a spare again
 * must retry its promotion, and a newcomer stopped for 6 s (longer than
 * libraft's default) must still be promoted. */
TEST_T(cluster, a_member_whose_promotion_failed_is_added_again, 120)
{
    static struct cluster cl;
    char spec4[320];

    int leader;
    struct member *m = three_and_a_newcomer(&cl, spec4, sizeof spec4, &leader);
    newcomer_start(&cl, spec4);
    uint64_t id = raft_id_of(&cl, 3);
    /* Stopped: its first catch-up round can only time out. Meanwhile
     * another change is refused, and the admin command says why. */
    tproc_signal(m->p, SIGSTOP);
    char busy_cmd[512];
    snprintf(busy_cmd, sizeof busy_cmd, "sleep 3; exec '%s' member remove "
             "'%s' --peer %s --token %s", tproc_built("c8s-master"),
             cl.m[(leader + 1) % 3].name, cl.m[leader].addr, TOKEN);
    const char *busy_argv[] = {"/bin/sh", "-c", busy_cmd, NULL};
    struct tproc *busy = tproc_start("busy-remove", busy_argv);
    long t0 = now_ms();
    ASSERT_EQ(repl_sync_member_add(cl.m[leader].c, m->name, m->addr, id,
                                   60000), -ETIMEDOUT);
    long waited = now_ms() - t0;
    int busy_status = tproc_stop(busy, 5000);
    char *busy_out = tproc_log(busy);
    ASSERT_MSG(WIFEXITED(busy_status) && WEXITSTATUS(busy_status) == 1,
               "a remove during a promotion: status 0x%x: %s", busy_status,
               busy_out);
    ASSERT_STR_CONTAINS(busy_out, "another membership change is still in "
                                  "progress");
    free(busy_out);
    ASSERT_MSG(waited >= 9000, "promotion gave up after %ld ms", waited);
    ASSERT_STR_EQ(role_of(&cl, leader, m->addr), "spare");

    /* Still stopped: it wakes 6 s into the second round. */
    pid_t waker = fork();
    ASSERT(waker >= 0);
    if (waker == 0) {
        usleep(6000 * 1000);
        kill(m->p->pid, SIGCONT);
        _exit(0);
    }
    t0 = now_ms();
    int rv = repl_sync_member_add(cl.m[(leader + 1) % 3].c, m->name, m->addr,
                                  id, 60000);
    waited = now_ms() - t0;
    ASSERT_EQ(waitpid(waker, NULL, 0), waker);
    ASSERT_MSG(rv == 0, "adding the spare again failed: %d after %ld ms", rv,
               waited);
    ASSERT_MSG(waited >= 5500, "the newcomer caught up in %ld ms: the test "
               "did not outlast libraft's default round", waited);
    ASSERT_EQ(count_voters(&cl, leader), 4);
    ASSERT_EQ(repl_sync_member_add(cl.m[leader].c, m->name, m->addr, id, 10000),
              -C8S_EEXISTS);
    put_acked(&cl, 3, "after-add", "2");
    wait_converged(&cl, 20000);
    assert_value_everywhere(&cl, "before", "1");
}

/* Every running member's last committed configuration is the leader's,
 * with none left uncommitted, within @timeout_ms. */
static void wait_configurations_committed(struct cluster *cl, int leader,
                                          int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    struct repl_sync_status want, st = {0};
    int i = 0;

    ASSERT_EQ(repl_sync_status(cl->m[leader].c, &want, CALL_MS), 0);
    ASSERT_STR_EQ(want.state, "leader");
    ASSERT_EQ(want.config_uncommitted_index, 0);
    while (i < cl->n) {
        if (cl->m[i].p->pid <= 0 ||
            (repl_sync_status(cl->m[i].c, &st, CALL_MS) == 0 &&
             st.config_uncommitted_index == 0 &&
             st.config_committed_index == want.config_committed_index)) {
            i++;
            continue;
        }
        ASSERT_MSG(now_ms() < deadline, "%s: configuration %llu committed, "
                   "%llu uncommitted; the leader's: %llu", cl->m[i].name,
                   (unsigned long long)st.config_committed_index,
                   (unsigned long long)st.config_uncommitted_index,
                   (unsigned long long)want.config_committed_index);
        usleep(50000);
    }
}

/* A follower down while members changed gets the changes amid other
 * entries when it is back. libraft 0.22.1 marked such a change uncommitted
 * under the wrong index, for good: as leader that member refused every
 * membership change (a Jepsen member run). Once it has caught up, its
 * configuration must be committed, as on the leader. */
TEST_T(cluster, a_follower_back_after_members_changed_has_them_committed, 120)
{
    static struct cluster cl;
    char spec4[320], name[32];

    int leader;
    struct member *m = three_and_a_newcomer(&cl, spec4, sizeof spec4, &leader);
    int late = (leader + 1) % 3;
    cl.m[late].down = true;
    ASSERT_EQ(tproc_stop(cl.m[late].p, 5000), 0);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "while-down-%d", i);
        put_acked(&cl, leader, name, "1");
    }
    newcomer_start(&cl, spec4);
    ASSERT_EQ(repl_sync_member_add(cl.m[leader].c, m->name, m->addr,
                                   raft_id_of(&cl, 3), 30000), 0);
    put_acked(&cl, leader, "after-add", "1");
    /* Long enough for the leader's connection attempts to fail and its
     * queued messages to be dropped: it then sends what the follower
     * lacks in one message. */
    usleep(3000 * 1000);
    put_acked(&cl, leader, "after-wait", "1");
    tproc_restart(cl.m[late].p);
    cl.m[late].down = false;
    wait_converged(&cl, 20000);
    assert_value_everywhere(&cl, "after-add", "1");
    wait_configurations_committed(&cl, leader, 10000);
}

/* Run c8s-master (@argv[0]) to its end, 20 s at most; its exit status,
 * output in *@out. */
static int run_admin(const char *const argv[], char **out)
{
    struct tproc *p = tproc_start("admin", argv);

    for (int k = 0; k < 2000 && !tproc_exited(p); k++)
        usleep(10000);
    int status = tproc_stop(p, 5000);
    *out = tproc_log(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_T(cluster, admin_commands_show_status_and_members, 90)
{
    static struct cluster cl;
    char *out;

    cluster_start(&cl, 3);
    wait_leader(&cl, 10000);
    const char *st[] = {tproc_built("c8s-master"), "status", "--peer",
                        cl.m[1].addr, "--token", TOKEN, NULL};
    ASSERT_EQ(run_admin(st, &out), 0);
    ASSERT_STR_CONTAINS(out, "state\t");
    ASSERT_STR_CONTAINS(out, "revision\t");
    ASSERT_STR_CONTAINS(out, "configuration_uncommitted_index\t0\n");
    free(out);
    const char *ls[] = {tproc_built("c8s-master"), "member", "list", "--peer",
                        cl.m[2].addr, "--token", TOKEN, NULL};
    ASSERT_EQ(run_admin(ls, &out), 0);
    ASSERT_STR_CONTAINS(out, "ID\tADDRESS\tROLE\tLEADER");
    ASSERT_STR_CONTAINS(out, cl.m[0].addr);
    ASSERT_STR_CONTAINS(out, "\tvoter\tyes");
    free(out);
    /* `member add` asks the new member its raft ID: it must be running
     * (it is asked again for 10 s, in case it was just started). */
    char spec[64];
    snprintf(spec, sizeof spec, "newcomer=127.0.0.1:%d", tproc_free_port());
    const char *add[] = {tproc_built("c8s-master"), "member", "add", spec,
                         "--peer", cl.m[0].addr, "--token", TOKEN, NULL};
    ASSERT_EQ(run_admin(add, &out), 1);
    ASSERT_STR_CONTAINS(out, "start it first");
    free(out);
    ASSERT_EQ(count_voters(&cl, 0), 3);
}

/* The peer port serves only holders of the cluster token: a member started
 * with another token never joins (and learns nothing), a client with
 * another token is refused before it can write or ask anything, and the
 * refusals say which flag to check. The same member with the right token
 * then catches up: it was the token, nothing else. */
TEST_T(cluster, peers_without_the_cluster_token_are_refused, 90)
{
    static struct cluster cl = {.m[2].token = "not-the-token"};
    struct repl_sync_status st;
    struct repl_sync *stranger;
    uint64_t rev = 0;
    char *out;

    cluster_start(&cl, 3);
    cl.n = 2; /* the two with the token elect a leader between them */
    int leader = wait_leader(&cl, 15000);
    cl.n = 3;
    put_acked(&cl, leader, "secret", "42");
    usleep(1500 * 1000); /* many heartbeats: none reached the stranger */
    ASSERT_EQ(repl_sync_status(cl.m[2].c, &st, CALL_MS), 0);
    ASSERT_EQ(st.leader_id, 0);
    ASSERT_EQ(st.rev, 0);
    out = tproc_log(cl.m[leader].p);
    ASSERT_STR_CONTAINS(out, "is --token the same on every member?");
    ASSERT(strstr(out, "not-the-token") == NULL);
    free(out);

    /* A client with the wrong token gets nothing in or out. */
    stranger = repl_sync_new(cl.m[leader].addr, "not-the-token");
    ASSERT(stranger != NULL);
    ASSERT_EQ(repl_sync_put(stranger, "injected", "1", 1, CALL_MS, &rev),
              -EACCES);
    ASSERT_EQ(repl_sync_status(stranger, &st, CALL_MS), -EACCES);
    ASSERT_EQ(repl_sync_member_add(stranger, "rogue", "127.0.0.1:1",
                                   repl_member_id("rogue"), CALL_MS), -EACCES);
    repl_sync_free(stranger);
    ASSERT_EQ(count_voters(&cl, leader), 3);
    ASSERT(repl_sync_get(cl.m[leader].c, "injected", NULL, 0, &(size_t){0},
                         &rev, CALL_MS) == -C8S_ENOTFOUND);
    const char *bad[] = {tproc_built("c8s-master"), "status", "--peer",
                         cl.m[leader].addr, "--token", "guess", NULL};
    ASSERT_EQ(run_admin(bad, &out), 1);
    ASSERT_STR_CONTAINS(out, "the member refused our token");
    free(out);
    const char *none[] = {tproc_built("c8s-master"), "status", "--peer",
                          cl.m[leader].addr, NULL};
    ASSERT_EQ(run_admin(none, &out), 2);
    ASSERT_STR_CONTAINS(out, "--token or --token-file is required");
    free(out);
    /* A token that does not fit is refused, not cut into another one. */
    static char long_token[300];
    memset(long_token, 'x', sizeof long_token - 1);
    const char *too_long[] = {tproc_built("c8s-master"), "status", "--peer",
                              cl.m[leader].addr, "--token", long_token, NULL};
    ASSERT_EQ(run_admin(too_long, &out), 2);
    ASSERT_STR_CONTAINS(out, "--token is longer than 255 bytes");
    free(out);

    /* The same member, restarted with the cluster's token, joins. */
    (void)tproc_stop(cl.m[2].p, 5000);
    cl.m[2].token = NULL;
    cl.m[2].p = NULL; /* a new process, with the new command line */
    repl_sync_free(cl.m[2].c);
    cl.m[2].c = repl_sync_new(cl.m[2].addr, TOKEN);
    member_start(&cl, 2);
    wait_converged(&cl, 20000);
    assert_value_everywhere(&cl, "secret", "42");
}

/* Role of raft ID @id in member @via's configuration ("" if absent). */
static const char *role_of_id(struct cluster *cl, int via, uint64_t id)
{
    static struct repl_sync_member m[8];
    size_t n = 0;

    ASSERT_EQ(repl_sync_members(cl->m[via].c, m, 8, &n, CALL_MS), 0);
    for (size_t i = 0; i < n && i < 8; i++)
        if (m[i].id == id)
            return m[i].role;
    return "";
}

/* Wait until member @via's configuration shows raft ID @id as @role ("" for
 * absent): a follower learns a committed change a heartbeat later. */
static void wait_role_of_id(struct cluster *cl, int via, uint64_t id,
                            const char *role)
{
    long deadline = now_ms() + 10000;
    const char *now;

    while (strcmp(now = role_of_id(cl, via, id), role) != 0) {
        ASSERT_MSG(now_ms() < deadline, "%llx is '%s' on %s, not '%s'",
                   (unsigned long long)id, now, cl->m[via].name, role);
        usleep(50000);
    }
}

/* Remove member @name through member @via. Leaving two of three, the
 * leader steps down if the other has not answered for an election timeout
 * (a slow fsync on a busy machine): the outcome is then unknown, so ask
 * again until it is gone. */
static void remove_member(struct cluster *cl, int via, const char *name)
{
    long deadline = now_ms() + 20000;
    int rv;

    while ((rv = repl_sync_member_remove(cl->m[via].c, name, 10000)) != 0 &&
           rv != -C8S_ENOTFOUND) {
        /* (a new leader answers EBUSY until the earlier try commits) */
        ASSERT_MSG(rv == -C8S_EUNKNOWN || rv == -C8S_ENOLEADER ||
                       rv == -ETIMEDOUT || rv == -EBUSY,
                   "member remove %s: %s", name, err_str(rv));
        ASSERT_MSG(now_ms() < deadline, "member remove %s: %s", name,
                   err_str(rv));
        usleep(200000);
    }
}

/* Run `c8s-master member add` of member @i through member @via; its exit
 * status, output in *@out. */
static int admin_add(struct cluster *cl, int via, int i, char **out)
{
    char spec[64];

    snprintf(spec, sizeof spec, "%s=%s", cl->m[i].name, cl->m[i].addr);
    const char *add[] = {tproc_built("c8s-master"), "member", "add", spec,
                         "--peer", cl->m[via].addr, "--token", TOKEN, NULL};
    return run_admin(add, out);
}

/* Three members that acknowledged "before"; returns a follower, and
 * another member in *@other. */
static int three_with_a_write(struct cluster *cl, int *other)
{
    cluster_start(cl, 3);
    int leader = wait_leader(cl, 10000);
    put_acked(cl, leader, "before", "1");
    *other = (leader + 2) % 3;
    return (leader + 1) % 3;
}

/* Stop member @i, empty its data dir and start it to join (marked down:
 * it is no member until added). */
static void start_wiped_to_join(struct cluster *cl, int i)
{
    struct member *m = &cl->m[i];

    m->down = true;
    (void)tproc_stop(m->p, 5000);
    remove_tree(m->dir);
    const char *join[] = {tproc_built("c8s-master"), "--name", m->name,
                          "--data-dir", m->dir, "--peer-listen", m->addr,
                          "--initial-cluster", cl->spec,
                          "--initial-cluster-state", "existing",
                          "--token", TOKEN, NULL};
    m->p = tproc_start(m->name, join);
}

/* Raft assumes a server never loses its persistent state. A member wiped
 * and back under its old raft ID would count as the voter it was in any
 * configuration from before its return: the Jepsen member nemesis saw one
 * elect itself in a term another member led. Started empty to join, a
 * member draws a new ID of its name instead: not counted until added, its
 * old incarnation in the way until removed (by name), kept across
 * restarts. */
TEST_T(cluster, a_wiped_member_comes_back_under_a_new_raft_id, 120)
{
    static struct cluster cl;
    char *out;
    int other, v = three_with_a_write(&cl, &other);
    struct member *m = &cl.m[v];
    uint64_t old_id = raft_id_of(&cl, v);
    ASSERT_EQ(old_id, repl_member_id(m->name));

    /* Wiped without being removed first, and started to join. */
    start_wiped_to_join(&cl, v);
    uint64_t new_id = raft_id_of(&cl, v);
    ASSERT_MSG(new_id != old_id, "the wiped member is back as %llx",
               (unsigned long long)old_id);
    ASSERT(repl_member_id_is_of(new_id, m->name));
    usleep(1500 * 1000); /* many election timeouts: it must not count */
    ASSERT_STR_EQ(role_of_id(&cl, other, old_id), "voter");
    ASSERT_STR_EQ(role_of_id(&cl, other, new_id), "");
    ASSERT_EQ(count_voters(&cl, other), 3);

    /* Its old incarnation is in the way; the admin command says so. */
    ASSERT_EQ(admin_add(&cl, other, v, &out), 1);
    ASSERT_STR_CONTAINS(out, "an earlier start of");
    free(out);
    ASSERT_EQ(repl_sync_member_add(cl.m[other].c, m->name, m->addr, new_id,
                                   10000), -C8S_EEXISTS);
    /* An ID that is not one of the name's is refused outright. */
    ASSERT_EQ(repl_sync_member_add(cl.m[other].c, m->name, m->addr,
                                   repl_member_id(cl.m[other].name), 10000),
              -EINVAL);

    /* Removed by name, then added back under its new ID by the command,
     * which asks the member for it. */
    remove_member(&cl, other, m->name);
    wait_role_of_id(&cl, other, old_id, "");
    ASSERT_EQ(admin_add(&cl, other, v, &out), 0);
    ASSERT_STR_CONTAINS(out, "added at");
    free(out);
    wait_role_of_id(&cl, other, new_id, "voter");
    m->down = false;

    /* It keeps that ID on its data dir. */
    (void)tproc_stop(m->p, 5000);
    tproc_restart(m->p);
    ASSERT_EQ(raft_id_of(&cl, v), new_id);
    put_acked(&cl, v, "after", "2");
    wait_converged(&cl, 20000);
    assert_value_everywhere(&cl, "before", "1");
    assert_value_everywhere(&cl, "after", "2");

    /* `member remove NAME` finds this incarnation too. */
    remove_member(&cl, other, m->name);
    wait_role_of_id(&cl, other, new_id, "");
    ASSERT_EQ(count_voters(&cl, other), 2);
}

/* A removed member restarted on its old data holds a log the cluster
 * may not agree with (libraft lets a sole voter lead on in a term another
 * led): `member add` refuses it and says how to bring it back, emptied. */
TEST_T(cluster, a_removed_member_is_not_added_back_on_its_old_log, 120)
{
    static struct cluster cl;
    char *out;
    int other, v = three_with_a_write(&cl, &other);
    struct member *m = &cl.m[v];
    uint64_t old_id = raft_id_of(&cl, v);

    remove_member(&cl, other, m->name);
    wait_role_of_id(&cl, other, old_id, "");
    m->down = true;
    (void)tproc_stop(m->p, 5000);
    tproc_restart(m->p);
    ASSERT_EQ(raft_id_of(&cl, v), old_id); /* its data, its ID */

    ASSERT_EQ(admin_add(&cl, other, v, &out), 1);
    ASSERT_STR_CONTAINS(out, "holds a raft log");
    ASSERT_STR_CONTAINS(out, "move its data dir aside");
    free(out);
    ASSERT_STR_EQ(role_of_id(&cl, other, old_id), "");
    ASSERT_EQ(count_voters(&cl, other), 2);

    /* As advised: emptied, it joins under a new ID and gets the log. */
    start_wiped_to_join(&cl, v);
    uint64_t new_id = raft_id_of(&cl, v);
    ASSERT(new_id != old_id);
    ASSERT_EQ(admin_add(&cl, other, v, &out), 0);
    ASSERT_STR_CONTAINS(out, "added at");
    free(out);
    wait_role_of_id(&cl, other, new_id, "voter");
    m->down = false;
    wait_converged(&cl, 20000);
    assert_value_everywhere(&cl, "before", "1");
}

/* A disk that really fills up: writes fail with ENOSPC (libraft's capacity
 * check or ours), never hang or crash, reads go on, and once space is freed
 * writes work again with nothing lost. A small tmpfs the test fills. */
TEST_T(cluster, a_full_disk_fails_writes_cleanly_and_recovers, 90)
{
    static struct cluster cl = {.extra = {"--min-free-mb", "1"}};
    char disk[2200], cmd[4600], name[32];
    static char value[100 * 1024];
    uint64_t rev;
    int rv = 0, acked = 0;

    if (getuid() != 0)
        SKIP("mounting a tmpfs needs root");
    snprintf(disk, sizeof disk, "%.1000s/disk", unit_tmpdir());
    ASSERT_EQ(mkdir(disk, 0700), 0);
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=40m c8s-test %s", disk);
    if (system(cmd) != 0)
        SKIP("cannot mount a tmpfs here");
    unit_defer(unmount_disk, disk);
    cl.n = 1;
    snprintf(cl.m[0].name, sizeof cl.m[0].name, "m0-%d", (int)getpid());
    snprintf(cl.m[0].addr, sizeof cl.m[0].addr, "127.0.0.1:%d",
             tproc_free_port());
    snprintf(cl.m[0].dir, sizeof cl.m[0].dir, "%.400s/d", disk);
    snprintf(cl.spec, sizeof cl.spec, "%s=%s", cl.m[0].name, cl.m[0].addr);
    cl.m[0].c = repl_sync_new(cl.m[0].addr, TOKEN);
    unit_defer(cluster_free, &cl);
    member_start(&cl, 0);
    wait_leader(&cl, 10000);
    /* Leave about 2 MiB: more than --min-free-mb, less than a segment. */
    snprintf(cmd, sizeof cmd, "fallocate -l $(( $(df --output=avail -B1 %s | "
             "tail -n 1) - 2*1024*1024 )) %s/filler", disk, disk);
    ASSERT_EQ(system(cmd), 0);
    memset(value, 'x', sizeof value);
    for (int i = 0; i < 400; i++) {
        snprintf(name, sizeof name, "big-%d", i);
        rv = repl_sync_put(cl.m[0].c, name, value, sizeof value, 5000, &rev);
        if (rv != 0)
            break;
        acked++;
    }
    ASSERT_MSG(rv == -ENOSPC, "writes ended with %s, not ENOSPC", err_str(rv));
    ASSERT(!tproc_exited(cl.m[0].p));
    /* Local reads go on (a linearizable read point is a log entry, so it
     * needs the disk too). */
    char b0[16];
    size_t l0;
    ASSERT_EQ(repl_sync_get(cl.m[0].c, "big-0", b0, sizeof b0, &l0, &rev,
                            CALL_MS), 0);
    snprintf(cmd, sizeof cmd, "rm -f %s/filler", disk);
    ASSERT_EQ(system(cmd), 0);
    long deadline = now_ms() + 20000;
    do {
        usleep(200000); /* the member rechecks its disk twice a second */
        rv = repl_sync_put(cl.m[0].c, "after", "1", 1, CALL_MS, NULL);
    } while (rv != 0 && now_ms() < deadline);
    ASSERT_MSG(rv == 0, "writes did not recover: %s", err_str(rv));
    for (int i = 0; i < acked; i += 20) {
        char buf[16];
        size_t len;
        snprintf(name, sizeof name, "big-%d", i);
        ASSERT_EQ(repl_sync_get(cl.m[0].c, name, buf, sizeof buf, &len, &rev,
                                CALL_MS), 0);
        ASSERT_UEQ(len, sizeof value);
    }
}

/* libraft can stop applying without telling anyone; the liveness monitor
 * must notice and exit with 70 so supervision restarts the member. The
 * debug hook makes applying stop for real inside the FSM. */
TEST_T(cluster, the_liveness_monitor_exits_when_applying_stops, 60)
{
    static struct cluster cl = {.extra = {"--stall-timeout", "2000"}};

    setenv("C8S_DEBUG_STALL_APPLY_AFTER", "20", 1);
    cluster_start(&cl, 1);
    unsetenv("C8S_DEBUG_STALL_APPLY_AFTER");
    wait_leader(&cl, 10000);
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "k-%d", i);
        if (repl_sync_put(cl.m[0].c, name, "v", 1, 1000, NULL) != 0)
            break; /* applying stopped: this write never completes */
    }
    for (int i = 0; i < 200 && !tproc_exited(cl.m[0].p); i++)
        usleep(50000);
    ASSERT_MSG(tproc_exited(cl.m[0].p), "the stalled member kept running");
    ASSERT(WIFEXITED(cl.m[0].p->status));
    ASSERT_EQ(WEXITSTATUS(cl.m[0].p->status), 70);
    char *log = tproc_log(cl.m[0].p);
    ASSERT_STR_CONTAINS(log, "stalled");
    free(log);
    /* Restarted without the hook it recovers everything from its log. */
    tproc_restart(cl.m[0].p);
    wait_leader(&cl, 10000);
    char buf[8];
    size_t len;
    uint64_t rev;
    ASSERT_EQ(repl_sync_get(cl.m[0].c, "k-0", buf, sizeof buf, &len, &rev,
                            CALL_MS), 0);
}

/* ---- the forward channel against bad input ------------------------------*/

struct raw {
    uv_loop_t loop;                     /* Private loop. */
    struct repl_transport t;            /* To pass the handshake. */
    struct repl_transport_connect req;  /* Connect request. */
    uv_stream_t *s;                     /* The forward stream. */
    uv_write_t w;                       /* The one write. */
    uv_timer_t timer;                   /* Deadline. */
    bool connected, eof, timed_out;     /* What happened. */
    char in[64];                        /* Read buffer. */
    size_t got;                         /* Bytes answered. */
};

static void raw_connected(struct repl_transport_connect *req, uv_stream_t *s,
                          int status)
{
    struct raw *r = req->data;

    r->connected = status == 0;
    r->s = s;
}

static void raw_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct raw *r = h->data;

    (void)hint;
    *b = uv_buf_init(r->in, sizeof r->in);
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct raw *r = s->data;

    (void)b;
    if (n < 0)
        r->eof = true;
    else
        r->got += (size_t)n;
}

static void raw_timeout(uv_timer_t *t)
{
    struct raw *r = t->data;

    r->timed_out = true;
}

static void raw_written(uv_write_t *w, int status)
{
    (void)w;
    (void)status;
}

static void set_token_key(struct repl_transport *t, const char *token)
{
    unsigned char key[REPL_TRANSPORT_KEY_LEN];

    ASSERT_EQ(repl_transport_key_from_token(token, key), 0);
    repl_transport_set_key(t, key);
}

static void raw_transport_closed(struct raft_uv_transport *t)
{
    (void)t;
}

/* Send @len bytes on a fresh forward stream to @addr; true if the member
 * closed the stream within 3 s (*answered: it wrote something first). */
static bool forward_garbage(const char *addr, const void *bytes, size_t len,
                            bool *answered)
{
    static struct raw r;
    uv_buf_t buf = uv_buf_init((char *)bytes, (unsigned)len);

    memset(&r, 0, sizeof r);
    ASSERT_EQ(uv_loop_init(&r.loop), 0);
    ASSERT_EQ(repl_transport_init(&r.t, &r.loop, NULL), 0);
    set_token_key(&r.t, TOKEN);
    r.req.data = &r;
    ASSERT_EQ(repl_transport_connect_forward(&r.t, &r.req, 0, addr,
                                             raw_connected), 0);
    uv_timer_init(&r.loop, &r.timer);
    r.timer.data = &r;
    uv_timer_start(&r.timer, raw_timeout, 3000, 0);
    while (r.s == NULL && !r.timed_out)
        uv_run(&r.loop, UV_RUN_ONCE);
    ASSERT_MSG(r.connected, "no forward stream to %s", addr);
    r.s->data = &r;
    ASSERT_EQ(uv_write(&r.w, r.s, &buf, 1, raw_written), 0);
    ASSERT_EQ(uv_read_start(r.s, raw_alloc, raw_read), 0);
    while (!r.eof && !r.timed_out)
        uv_run(&r.loop, UV_RUN_ONCE);
    *answered = r.got > 0;
    repl_transport_stream_close(r.s);
    uv_close((uv_handle_t *)&r.timer, NULL);
    r.t.iface.close(&r.t.iface, raw_transport_closed);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&r.loop), 0);
    return r.eof;
}

/* Frames a member cannot make sense of close the stream; a TXN whose
 * payload is not a batch gets an error answer; the member keeps serving. */
TEST_T(cluster, the_forward_channel_survives_bad_frames, 60)
{
    static struct cluster cl;
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
    static const uint8_t not_msgpack[] = {3, 0, 0, 0, 0xc1, 0xc1, 0xc1};
    /* [99, 1, nil]: an unknown kind. */
    static const uint8_t bad_kind[] = {4, 0, 0, 0, 0x93, 99, 1, 0xc0};
    /* [1, 7, bin "junk"]: a TXN whose payload is not a batch. */
    static const uint8_t bad_txn[] = {9, 0,    0,   0,   0x93, 1,  7,
                                      0xc4, 4,  'j', 'u', 'n',  'k'};
    /* [5, 8, bin [name, address, 0]]: a MEMBER_ADD whose raft ID is 0,
     * and the same with a string for the ID. */
    static const uint8_t bad_add_id[] = {
        21, 0, 0, 0, 0x93, 5, 8, 0xc4, 16, 0x93, 0xa1, 'a', 0xab,
        '1', '2', '7', '.', '0', '.', '0', '.', '1', ':', '1', 0x00};
    static const uint8_t bad_add_str[] = {
        22, 0, 0, 0, 0x93, 5, 8, 0xc4, 17, 0x93, 0xa1, 'a', 0xab,
        '1', '2', '7', '.', '0', '.', '0', '.', '1', ':', '1', 0xa1, 'x'};
    bool answered;

    cluster_start(&cl, 1);
    wait_leader(&cl, 10000);
    ASSERT(forward_garbage(cl.m[0].addr, bad_add_id, sizeof bad_add_id,
                           &answered));
    ASSERT_MSG(!answered, "a MEMBER_ADD with raft ID 0 was decoded");
    ASSERT(forward_garbage(cl.m[0].addr, bad_add_str, sizeof bad_add_str,
                           &answered));
    ASSERT_MSG(!answered, "a MEMBER_ADD with a string ID was decoded");
    ASSERT_EQ(count_voters(&cl, 0), 1);
    ASSERT(forward_garbage(cl.m[0].addr, huge, sizeof huge, &answered));
    ASSERT(forward_garbage(cl.m[0].addr, not_msgpack, sizeof not_msgpack,
                           &answered));
    ASSERT(forward_garbage(cl.m[0].addr, bad_kind, sizeof bad_kind,
                           &answered));
    ASSERT(!forward_garbage(cl.m[0].addr, bad_txn, sizeof bad_txn, &answered));
    ASSERT_MSG(answered, "a malformed TXN got no answer");
    ASSERT_EQ(repl_sync_put(cl.m[0].c, "after", "1", 1, CALL_MS, NULL), 0);
    ASSERT(!tproc_exited(cl.m[0].p));
}

/* ---- a burst of requests on one forward stream --------------------------*/

struct burst_call {
    struct repl_req req;    /* First: the callback finds the call. */
    int code;               /* Its answer's code. */
    store_rev rev;          /* Its answer's revision. */
    int calls;              /* Callbacks so far (must end at 1). */
};

struct burst {
    uv_loop_t loop;         /* Private loop. */
    struct repl_transport t;/* To connect. */
    uv_timer_t timer;       /* Deadline. */
    bool timed_out;         /* It passed. */
    size_t answered;        /* Callbacks so far, all calls. */
};

static struct burst burst;

static void burst_done(struct repl_req *req, const struct repl_result *res)
{
    struct burst_call *k = (struct burst_call *)req;

    k->code = res->code;
    k->rev = res->rev;
    k->calls++;
    burst.answered++;
}

static void burst_timeout(uv_timer_t *t)
{
    (void)t;
    burst.timed_out = true;
}

/* Submit @n puts named burst-ROUND-I on @c, all in one loop iteration. */
static void burst_submit(struct repl_client *c, struct burst_call *k,
                         size_t n, int round)
{
    for (size_t i = 0; i < n; i++) {
        char name[48];
        snprintf(name, sizeof name, "burst-%d-%zu", round, i);
        struct store_op op = {.type = STORE_OP_PUT,
                              .resource = REPL_SYNC_RESOURCE,
                              .ns = REPL_SYNC_NS,
                              .name = name,
                              .value = name,
                              .value_len = strlen(name)};
        memset(&k[i], 0, sizeof k[i]);
        k[i].req.cb = burst_done;
        ASSERT_EQ(repl_client_submit(c, &k[i].req, &op, 1), 0);
    }
}

static void burst_wait(size_t want)
{
    uv_timer_start(&burst.timer, burst_timeout, 30000, 0);
    while (burst.answered < want && !burst.timed_out)
        uv_run(&burst.loop, UV_RUN_ONCE);
    uv_timer_stop(&burst.timer);
    ASSERT_MSG(!burst.timed_out, "%zu of %zu answers within 30 s",
               burst.answered, want);
}

/* Frames queued behind a write in flight go out together (struct txq in
 * raft/forward.c): here on our stream to a follower, on its link to the
 * leader and on both streams' answers. Every request is answered and the
 * revisions follow the order they were sent in (a leader change in the
 * middle may leave some of unknown outcome, never reordered). A client
 * closed with a write in flight and frames queued behind it fails each
 * request once (unknown if written, "no leader" if it never was) and
 * frees the queue when the write ends (the sanitizers watch that). */
TEST_T(cluster, a_burst_of_forwarded_writes_is_answered_in_order, 90)
{
    static struct cluster cl;
    static struct burst_call k[2000];
    const size_t n = sizeof k / sizeof k[0];
    struct repl_client *c;

    cluster_start(&cl, 3);
    int via = (wait_leader(&cl, 10000) + 1) % 3;
    memset(&burst, 0, sizeof burst);
    ASSERT_EQ(uv_loop_init(&burst.loop), 0);
    ASSERT_EQ(repl_transport_init(&burst.t, &burst.loop, NULL), 0);
    set_token_key(&burst.t, TOKEN);
    uv_timer_init(&burst.loop, &burst.timer);

    /* Sent before the stream is up: all go out as it connects. */
    ASSERT_EQ(repl_client_new(&burst.t, 0, cl.m[via].addr, NULL, NULL, &c), 0);
    burst_submit(c, k, n, 1);
    burst_wait(n);
    store_rev last = 0;
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        ASSERT_MSG(k[i].calls == 1 && (k[i].code == 0 ||
                                       k[i].code == -C8S_EUNKNOWN),
                   "put %zu: %d calls, %s", i, k[i].calls, err_str(k[i].code));
        if (k[i].code != 0)
            continue;
        ASSERT_MSG(k[i].rev > last, "put %zu at revision %llu, after %llu",
                   i, (unsigned long long)k[i].rev, (unsigned long long)last);
        last = k[i].rev;
        ok++;
    }
    ASSERT_MSG(ok >= n / 2, "only %zu of %zu puts acknowledged", ok, n);
    if (k[n - 1].code == 0)
        assert_value_everywhere(&cl, "burst-1-1999", "burst-1-1999");

    /* Sent on the connected stream, and closed at once: the first went
     * to the socket (unknown outcome), the rest were still held behind
     * it, never written (no leader). */
    burst.answered = 0;
    burst_submit(c, k, n, 2);
    repl_client_close(c);
    burst_wait(n);
    for (size_t i = 0; i < n; i++)
        ASSERT_MSG(k[i].calls == 1 &&
                       k[i].code == (i == 0 ? -C8S_EUNKNOWN : -C8S_ENOLEADER),
                   "put %zu after close: %d calls, %s", i, k[i].calls,
                   err_str(k[i].code));

    /* Never written, so certainly not applied: "no leader", which callers
     * may retry, not unknown. Closed before the stream is up (a leader
     * change while connecting), and refused by the address. */
    char nobody[64];
    snprintf(nobody, sizeof nobody, "127.0.0.1:%d", tproc_free_port());
    for (int round = 3; round <= 4; round++) {
        burst.answered = 0;
        ASSERT_EQ(repl_client_new(&burst.t, 0,
                                  round == 3 ? cl.m[via].addr : nobody, NULL,
                                  NULL, &c), 0);
        burst_submit(c, k, 100, round);
        if (round == 3)
            repl_client_close(c);
        burst_wait(100);
        for (size_t i = 0; i < 100; i++)
            ASSERT_MSG(k[i].calls == 1 && k[i].code == -C8S_ENOLEADER,
                       "round %d, put %zu never sent: %d calls, %s", round, i,
                       k[i].calls, err_str(k[i].code));
    } /* a client that failed frees itself */

    uv_close((uv_handle_t *)&burst.timer, NULL);
    burst.t.iface.close(&burst.t.iface, raw_transport_closed);
    uv_run(&burst.loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&burst.loop), 0);
    for (int i = 0; i < cl.n; i++)
        ASSERT(!tproc_exited(cl.m[i].p));
}

static int run_master(const char *const args[], char **out)
{
    const char *argv[16] = {tproc_built("c8s-master")};
    int i = 1;

    for (; args[i - 1] != NULL && i < 15; i++)
        argv[i] = args[i - 1];
    argv[i] = NULL;
    return run_admin(argv, out);
}

TEST_T(cluster, wrong_flags_are_usage_errors_naming_the_flag, 30)
{
    char dir[600];
    char *out;

    snprintf(dir, sizeof dir, "%s/d", unit_tmpdir());
    const char *a1[] = {"--name", "a", "--data-dir", dir, NULL};
    ASSERT_EQ(run_master(a1, &out), 2);
    ASSERT_STR_CONTAINS(out, "--peer-listen is required");
    free(out);
    const char *a2[] = {"--name", "a", "--data-dir", dir, "--peer-listen",
                  "localhost:1", NULL};
    ASSERT_NE(run_master(a2, &out), 0);
    ASSERT_STR_CONTAINS(out, "--peer-listen");
    free(out);
    const char *a3[] = {"--name", "a", "--data-dir", dir, "--peer-listen",
                  "127.0.0.1:1", "--initial-cluster", "b=127.0.0.1:2", NULL};
    ASSERT_EQ(run_master(a3, &out), 2);
    ASSERT_STR_CONTAINS(out, "--name 'a' is not in --initial-cluster");
    free(out);
    /* Two names whose raft IDs share the high half (FNV-1a). */
    const char *a3b[] = {"--name", "m23528", "--data-dir", dir,
                         "--peer-listen", "127.0.0.1:1", "--initial-cluster",
                         "m23528=127.0.0.1:1,m234426=127.0.0.1:2", NULL};
    ASSERT_EQ(run_master(a3b, &out), 2);
    ASSERT_STR_CONTAINS(out, "share their name half");
    free(out);
    const char *a4[] = {"--bogus", NULL};
    ASSERT_EQ(run_master(a4, &out), 2);
    ASSERT_STR_CONTAINS(out, "'--bogus'");
    free(out);
    const char *a5[] = {"--name", "a", "--data-dir", dir, "--peer-listen",
                  "127.0.0.1:1", "--election-timeout", "soon", NULL};
    ASSERT_EQ(run_master(a5, &out), 2);
    ASSERT_STR_CONTAINS(out, "--election-timeout");
    free(out);
    const char *a6[] = {"--name", "a", "--data-dir", dir, "--peer-listen",
                        "127.0.0.1:1", "--endpoint-lease-seconds", "1", NULL};
    ASSERT_EQ(run_master(a6, &out), 2);
    ASSERT_STR_CONTAINS(out, "--endpoint-lease-seconds must be between 2 "
                             "and 3600, not '1'");
    free(out);
    const char *a7[] = {"--name", "a", "--data-dir", dir, "--peer-listen",
                        "127.0.0.1:1", "--max-mutating-requests-inflight",
                        "many", NULL};
    ASSERT_EQ(run_master(a7, &out), 2);
    ASSERT_STR_CONTAINS(out, "--max-mutating-requests-inflight");
    free(out);
}

UNIT_MAIN()
