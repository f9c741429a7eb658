/* jepsen/check: the register checker on a history file.
 *
 * usage: jepsen/check HISTORY
 * Prints the verdict and every anomaly found; exit status 0 linearizable,
 * 1 not, 2 bad usage or a history that cannot be read. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jepsen/history.h"
#include "jepsen/linear.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct jep_history h;
    struct jep_verdict v;
    struct err e = {0};
    double t0;

    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: check HISTORY\nChecks a register history (read, "
                "write, cas per key) for linearizability;\nsee "
                "jepsen/history.h for the format. Exit status: 0 valid, 1 "
                "not,\n2 bad usage or an unreadable history.\n");
        return argc == 2 ? 0 : 2;
    }
    t0 = now_s();
    if (jep_history_load(argv[1], &h, &e) != 0 ||
        jep_check_register(&h, &v, &e) != 0) {
        fprintf(stderr, "check: %s\n", e.msg);
        return 2;
    }
    printf("%s: %zu events, %zu operations on %zu keys, checked in %.2f s\n",
           argv[1], h.len, v.ops, v.keys, now_s() - t0);
    jep_history_free(&h);
    for (size_t i = 0; i < v.n_anomalies && i < JEP_ANOMALIES_MAX; i++)
        printf("key %s: %s\n", v.anomalies[i].key, v.anomalies[i].what);
    if (v.n_anomalies > JEP_ANOMALIES_MAX)
        printf("... and %zu more keys\n", v.n_anomalies - JEP_ANOMALIES_MAX);
    printf("%s\n", v.valid ? "linearizable" : "NOT linearizable");
    return v.valid ? 0 : 1;
}
