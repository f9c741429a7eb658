/* Linearizability of a register history (read, write, compare-and-set per
 * key), checked key by key: linearizability is compositional, so each
 * key's operations are checked alone (Herlihy and Wing), which is what
 * lets long histories check quickly. Within a key, the search is Wing and
 * Gong's, as Lowe and Porcupine improved it: take operations in the order
 * of their invocations, linearize one whose call has come and whose effect
 * the register allows, backtrack when an operation's completion is
 * reached unlinearized, and remember every (set linearized, value) reached
 * so no configuration is explored twice.
 *
 * Outcomes follow Jepsen: ok happened; fail did not (dropped); info may or
 * may not have happened, at any time after its invocation (its completion
 * is at infinity), and a read whose outcome is unknown constrains nothing.
 * The register starts absent. Keep the operations per key to a few
 * thousand (the workload moves to a new key after that, as Jepsen's
 * independent checker does): the search remembers a bit per operation. */
#ifndef C8S_JEPSEN_LINEAR_H
#define C8S_JEPSEN_LINEAR_H

#include <stdbool.h>
#include <stddef.h>

#include "jepsen/history.h"

#define JEP_ANOMALIES_MAX 32

struct jep_anomaly {
    char key[JEP_KEY_MAX];
    char what[768]; /* the operation that cannot be placed, and why */
};

struct jep_verdict {
    bool valid;
    size_t keys, ops;   /* keys checked, operations that count */
    size_t n_anomalies; /* keys found not linearizable (first ones kept) */
    struct jep_anomaly anomalies[JEP_ANOMALIES_MAX];
};

/* Record an anomaly of @key in @v (kept if there is room, always counted)
 * and mark @v not valid. */
void jep_verdict_add(struct jep_verdict *v, const char *key, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));

/* Check @h. 0 with the verdict in @v; -EINVAL for a history that is not
 * well formed (a completion with no invocation, two invocations of one
 * process at once, a completion that does not match its invocation), with
 * the line in @e; -ENOMEM. */
int jep_check_register(const struct jep_history *h, struct jep_verdict *v,
                       struct err *e);

#endif /* C8S_JEPSEN_LINEAR_H */
