/* The workloads against a real 3-member cluster on loopback, their
 * histories checked: the register linearizable and monotonic, the set
 * with every acknowledged add found through every member, with all
 * members up and when one is killed -9 halfway through. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jepsen/history.h"
#include "jepsen/linear.h"
#include "jepsen/order.h"
#include "jepsen/set.h"
#include "jepsen/workload.h"
#include "tests/client/cluster.h"
#include "tests/lib/unit.h"

struct killer {
    int after_ms, member;
};

static void *kill_later(void *arg)
{
    struct killer *k = arg;

    usleep((useconds_t)k->after_ms * 1000);
    tproc_signal(ms[k->member].p, SIGKILL);
    return NULL;
}

static void run_and_check(int kill_member, bool set)
{
    char kc[1200], hist[1100], urls[N][96];
    const char *servers[N];
    struct jep_workload_opts o = {.kubeconfig = kc, .servers = servers,
                                  .n_servers = N, .ns = "jepsen",
                                  .clients = 6, .keys = 2, .ops_per_key = 200,
                                  .values = 5, .time_limit_ms = 4000,
                                  .timeout_ms = 2000};
    struct jep_workload_stats st = {0};
    struct jep_history h;
    struct jep_verdict v;
    struct err e = {0};
    struct killer k = {2000, kill_member};
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
    if (kill_member >= 0)
        ASSERT(pthread_create(&t, NULL, kill_later, &k) == 0);
    if (set)
        ASSERT_MSG(jep_set_run(&o, out, &st, &e) == 0, "%s", e.msg);
    else
        ASSERT_MSG(jep_register_run(&o, out, &st, &e) == 0, "%s", e.msg);
    if (kill_member >= 0)
        pthread_join(t, NULL);
    if (set) { /* through the members alive */
        o.n_servers = kill_member >= 0 ? N - 1 : N;
        if (kill_member >= 0)
            servers[kill_member] = servers[N - 1];
        o.time_limit_ms = 20000;
        ASSERT_MSG(jep_set_final_read(&o, out, &e) == 0, "%s", e.msg);
    }
    fclose(out);
    ASSERT_MSG(st.ok > 100, "only %lu ok (%lu fail, %lu unknown)", st.ok,
               st.fail, st.info);
    if (kill_member >= 0)
        ASSERT(st.fail + st.info > 0); /* the dead member's clients */
    ASSERT_MSG(jep_history_load(hist, &h, &e) == 0, "%s", e.msg);
    if (set) {
        ASSERT_MSG(jep_check_set(&h, &v, &e) == 0, "%s", e.msg);
        ASSERT_MSG(v.valid, "%s: %s", v.anomalies[0].key,
                   v.anomalies[0].what);
        ASSERT_EQ(v.keys, kill_member >= 0 ? N - 1 : N);
        jep_history_free(&h);
        return;
    }
    ASSERT_MSG(jep_check_register(&h, &v, &e) == 0, "%s", e.msg);
    ASSERT_MSG(v.valid, "key %s: %s", v.anomalies[0].key,
               v.anomalies[0].what);
    ASSERT(v.keys >= 2);
    ASSERT_MSG(jep_check_monotonic(&h, &v, &e) == 0, "%s", e.msg);
    ASSERT_MSG(v.valid, "%s: %s", v.anomalies[0].key, v.anomalies[0].what);
    jep_history_free(&h);
}

TEST_T(register, a_healthy_cluster_is_linearizable, 120)
{
    run_and_check(-1, false);
}

TEST_T(register, still_linearizable_when_a_member_dies, 120)
{
    run_and_check(1, false);
}

TEST_T(set, every_acknowledged_add_is_found, 120)
{
    run_and_check(-1, true);
}

TEST_T(set, nothing_acknowledged_is_lost_when_a_member_dies, 120)
{
    run_and_check(1, true);
}

UNIT_MAIN()
