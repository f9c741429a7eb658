/* The workloads against a real 3-member cluster on loopback, their
 * histories put through every check: the register linearizable and
 * monotonic, the set with every acknowledged add found through every
 * member, watchers on every member seeing every change once and in order,
 * paged lists each one snapshot, revisions of one client spread over the
 * members never going back; with all members up, and with one killed -9
 * or paused halfway through. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jepsen/history.h"
#include "jepsen/linear.h"
#include "jepsen/list.h"
#include "jepsen/order.h"
#include "jepsen/set.h"
#include "jepsen/workload.h"
#include "tests/client/cluster.h"
#include "tests/lib/unit.h"

struct fault {
    int after_ms, member;
    bool pause; /* SIGSTOP, then SIGCONT a second later; else SIGKILL */
};

static void *fault_later(void *arg)
{
    struct fault *f = arg;

    usleep((useconds_t)f->after_ms * 1000);
    tproc_signal(ms[f->member].p, f->pause ? SIGSTOP : SIGKILL);
    if (f->pause) {
        usleep(1000 * 1000);
        tproc_signal(ms[f->member].p, SIGCONT);
    }
    return NULL;
}

static void assert_valid(const char *what, const struct jep_verdict *v)
{
    ASSERT_MSG(v->valid, "%s: %s: %s", what, v->anomalies[0].key,
               v->anomalies[0].what);
}

/* Every check on the history at @hist; the verdicts of the checks the
 * workload is for in @reg, @watch, @set and @list. */
static void check_all(const char *hist, struct jep_verdict *reg,
                      struct jep_verdict *watch, struct jep_verdict *set,
                      struct jep_verdict *list)
{
    struct jep_history h;
    struct jep_verdict mono;
    struct err e = {0};

    ASSERT_MSG(jep_history_load(hist, &h, &e) == 0, "%s", e.msg);
    ASSERT_MSG(jep_check_register(&h, reg, &e) == 0, "%s", e.msg);
    ASSERT_MSG(jep_check_watch(&h, watch, &e) == 0, "%s", e.msg);
    ASSERT_MSG(jep_check_monotonic(&h, &mono, &e) == 0, "%s", e.msg);
    ASSERT_MSG(jep_check_list(&h, list, &e) == 0, "%s", e.msg);
    ASSERT_MSG(jep_check_set(&h, set, &e) == 0, "%s", e.msg);
    assert_valid("register", reg);
    assert_valid("watch", watch);
    assert_valid("monotonic", &mono);
    assert_valid("list", list);
    jep_history_free(&h);
}

/* Run @workload for 4 s (a member killed -9, or paused, halfway through
 * if @member >= 0) and check its history. */
static void run_and_check(const char *workload, int member, bool pause)
{
    char kc[1200], hist[1100], urls[N][96];
    const char *servers[N];
    struct jep_workload_opts o = {.kubeconfig = kc, .servers = servers,
                                  .n_servers = N, .ns = "jepsen",
                                  .clients = 6, .keys = 2, .ops_per_key = 200,
                                  .values = 5, .time_limit_ms = 4000,
                                  .timeout_ms = 2000, .gen_size = 20};
    struct jep_workload_stats st = {0};
    struct jep_verdict reg, watch, set, list;
    struct err e = {0};
    struct fault f = {2000, member, pause};
    bool final_read = strcmp(workload, "set") == 0 ||
                      strcmp(workload, "list") == 0;
    pthread_t t;
    FILE *out;

    start_cluster(N);
    for (int i = 0; i < N; i++) {
        snprintf(urls[i], sizeof urls[i], "https://%s", ms[i].api);
        servers[i] = urls[i];
    }
    snprintf(kc, sizeof kc, "%s/admin.kubeconfig", ms[0].dir);
    snprintf(hist, sizeof hist, "%s/history", unit_tmpdir());
    out = fopen(hist, "w");
    ASSERT(out != NULL);
    if (member >= 0)
        ASSERT(pthread_create(&t, NULL, fault_later, &f) == 0);
    ASSERT_MSG(jep_workload_run(workload, &o, out, &st, &e) == 0, "%s",
               e.msg);
    if (member >= 0)
        pthread_join(t, NULL);
    if (final_read) { /* through the members alive */
        o.n_servers = member >= 0 && !pause ? N - 1 : N;
        if (member >= 0 && !pause)
            servers[member] = servers[N - 1];
        o.time_limit_ms = 20000;
        ASSERT_MSG(jep_set_final_read(&o, out, &e) == 0, "%s", e.msg);
    }
    fclose(out);
    ASSERT_MSG(st.ok > 100, "only %lu ok (%lu fail, %lu unknown)", st.ok,
               st.fail, st.info);
    if (member >= 0 && !pause)
        ASSERT(st.fail + st.info > 0); /* the dead member's clients */
    check_all(hist, &reg, &watch, &set, &list);
    if (final_read) {
        assert_valid("set", &set);
        ASSERT_EQ(set.keys, member >= 0 && !pause ? N - 1 : N);
    }
    if (strcmp(workload, "list") == 0)
        ASSERT_MSG(list.keys > 20 && list.ops > 100, "%zu lists of %zu items",
                   list.keys, list.ops);
    if (strcmp(workload, "watch") == 0)
        ASSERT_MSG(watch.keys == N && watch.ops > 3 * 100,
                   "%zu watchers saw %zu events", watch.keys, watch.ops);
    if (strcmp(workload, "register") == 0 ||
        strcmp(workload, "monotonic") == 0)
        ASSERT(reg.keys >= 2);
}

TEST_T(register, a_healthy_cluster_is_linearizable, 120)
{
    run_and_check("register", -1, false);
}

TEST_T(register, still_linearizable_when_a_member_dies, 120)
{
    run_and_check("register", 1, false);
}

TEST_T(set, every_acknowledged_add_is_found, 120)
{
    run_and_check("set", -1, false);
}

TEST_T(set, nothing_acknowledged_is_lost_when_a_member_dies, 120)
{
    run_and_check("set", 1, false);
}

TEST_T(watch, watchers_see_every_change_once_in_order, 120)
{
    run_and_check("watch", -1, false);
}

TEST_T(watch, a_paused_members_watcher_resumes_without_gap, 120)
{
    run_and_check("watch", 2, true);
}

TEST_T(list, paged_lists_are_one_snapshot, 120)
{
    run_and_check("list", -1, false);
}

TEST_T(monotonic, revisions_never_go_back_across_members, 120)
{
    run_and_check("monotonic", 1, false);
}

UNIT_MAIN()
