/* Workloads (jep_workload_run lists them). The register: clients read, write and compare-and-set small
 * integers in ConfigMaps through libc8s, each client bound to one master,
 * and log every operation's invocation and completion as a history
 * (history.h) for the checkers.
 *
 * A register is ConfigMap NAME's data.v ("-" when absent). write is a PUT
 * without precondition (a POST when the object is absent); cas is a GET
 * and, if the value is the expected one, a PUT with that resourceVersion.
 * Outcomes: ok for a 2xx; fail when the request certainly did nothing (a
 * connection that never carried it, 4xx, a cas whose value or
 * resourceVersion did not match, and 503: c8s refuses with 503 only a
 * write it did not propose); info when it may have happened (the answer
 * to a write was lost, or 504: -C8S_EUNKNOWN). After info the
 * client takes a new process number, as Jepsen's do. Each key gets at
 * most ops_per_key operations, then a fresh one takes its place, so the
 * linearizability search stays small. */
#ifndef C8S_JEPSEN_WORKLOAD_H
#define C8S_JEPSEN_WORKLOAD_H

#include <stdio.h>

#include "lib/err.h"

struct jep_workload_opts {
    const char *kubeconfig; /* credentials and CA */
    const char *const *servers; /* client i talks to servers[i % n] only */
    size_t n_servers;
    const char *ns;             /* namespace (created if absent) */
    unsigned clients;           /* concurrent clients */
    unsigned keys;              /* registers in use at once */
    unsigned ops_per_key;
    unsigned values;            /* values drawn from 0..values-1 */
    unsigned time_limit_ms;
    unsigned timeout_ms;        /* per request, retries included */
    unsigned gen_size;          /* list: adds per generation */
    unsigned watchers;          /* watch: watchers (0: one per server) */
};

/* Counts of what happened, for the run's summary. */
struct jep_workload_stats {
    unsigned long ok, fail, info;
    char why[512]; /* what went wrong, by code: "ETIMEDOUT 3, ..." */
};

/* Run workload @name, writing the history to @out:
 *   register: as above;
 *   set: each client adds values no other adds (ConfigMap s-VALUE created
 *     with POST) until the time limit, logged as add operations;
 *   watch: the register's clients, and watchers, one per server in turn,
 *     each logging where it starts (a watch line) and every change of
 *     the namespace as an event line; a
 *     watcher resumes from its last revision after an error, lists again
 *     as a new process when that history is compacted, and after the
 *     writes end drains until it has seen the highest acknowledged
 *     revision (an error if it cannot within 30 s);
 *   list: clients add values (ConfigMaps s-VALUE labelled with their
 *     generation, gen_size adds each) and page through the current or the
 *     previous generation 1-10 items at a time, logging each list's
 *     revision and items;
 *   monotonic: the register's operations and LISTs of the namespace
 *     (limit 1, for the store's revision), each through a server picked
 *     at random, so one client's revisions come from every member.
 * The history starts with "# start UNIX_NS". */
int jep_workload_run(const char *name, const struct jep_workload_opts *o,
                     FILE *out, struct jep_workload_stats *stats,
                     struct err *e);

/* The set's final read, after the faults are healed: every server's paged
 * LIST of the namespace, as seen lines of reader 1000000 + its index. A
 * read that fails is started again (a fresh snapshot) until time_limit_ms
 * has passed. */
int jep_set_final_read(const struct jep_workload_opts *o, FILE *out,
                       struct err *e);

#endif /* C8S_JEPSEN_WORKLOAD_H */
