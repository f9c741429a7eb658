/* jepsen/check: every checker on a history file: register
 * linearizability, watch order and gaps, monotonic revisions, the set,
 * paged lists.
 *
 * usage: jepsen/check HISTORY
 * Prints each verdict and every anomaly found; exit status 0 all valid,
 * 1 an anomaly, 2 bad usage or a history that cannot be read. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jepsen/history.h"
#include "jepsen/linear.h"
#include "jepsen/list.h"
#include "jepsen/order.h"
#include "jepsen/set.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, const char *what,
                   const struct jep_verdict *v)
{
    printf("%s: %zu %s, %s\n", name, v->keys, what,
           v->valid ? "valid" : "NOT VALID");
    for (size_t i = 0; i < v->n_anomalies && i < JEP_ANOMALIES_MAX; i++)
        printf("  %s: %s\n", v->anomalies[i].key, v->anomalies[i].what);
    if (v->n_anomalies > JEP_ANOMALIES_MAX)
        printf("  ... and %zu more\n", v->n_anomalies - JEP_ANOMALIES_MAX);
}

int main(int argc, char **argv)
{
    struct jep_history h;
    struct jep_verdict reg, watch, mono, set, list;
    struct err e = {0};
    double t0;

    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: check HISTORY\nChecks a history (see "
                "jepsen/history.h): register linearizability per\n"
                "key, watch order and gaps, monotonic revisions per process "
                "and key,\nthe set (every acknowledged add found by every "
                "final reader, nothing else),\npaged lists (each one snapshot, "
                "none stale).\n"
                "Exit status: 0 valid, 1 an anomaly, 2 bad usage or an "
                "unreadable history.\n");
        return argc == 2 ? 0 : 2;
    }
    t0 = now_s();
    if (jep_history_load(argv[1], &h, &e) != 0 ||
        jep_check_register(&h, &reg, &e) != 0 ||
        jep_check_watch(&h, &watch, &e) != 0 ||
        jep_check_monotonic(&h, &mono, &e) != 0 ||
        jep_check_set(&h, &set, &e) != 0 ||
        jep_check_list(&h, &list, &e) != 0) {
        fprintf(stderr, "check: %s\n", e.msg);
        jep_history_free(&h);
        return 2;
    }
    printf("%s: %zu events, checked in %.2f s\n", argv[1], h.len,
           now_s() - t0);
    jep_history_free(&h);
    report("register", "keys (linearizability)", &reg);
    report("watch", "watchers", &watch);
    report("monotonic", "processes", &mono);
    report("set", "final readers", &set);
    report("list", "lists (one snapshot each)", &list);
    return reg.valid && watch.valid && mono.valid && set.valid && list.valid
               ? 0 : 1;
}
