/* The list check: a paged LIST must return one snapshot of its collection.
 *
 * The list workload only adds objects (history.h: "add KEY V", KEY a
 * generation, each object created once and never changed), so the state
 * of a collection at revision R is exactly the adds whose revision is at
 * most R. For every completed list of KEY at revision R (with its items):
 *   - no item is newer than the snapshot (its revision above R);
 *   - every add of KEY known to have happened at a revision up to R (from
 *     its ok completion's rev=N, or from any list that saw it) is there;
 *   - every item was added (invoked, and not failed), once, and always
 *     with the same revision;
 *   - an add acknowledged before the list was invoked is there (the list
 *     is not stale: c8s serves a LIST without resourceVersion as a
 *     consistent read). */
#ifndef C8S_JEPSEN_LIST_H
#define C8S_JEPSEN_LIST_H

#include "jepsen/history.h"
#include "jepsen/linear.h"

/* Verdict: keys counts the lists checked, ops the items in them; an
 * anomaly names the list ("list at line 12") and what is wrong with it.
 * -EINVAL when a list's items do not follow it as its COUNT says. */
int jep_check_list(const struct jep_history *h, struct jep_verdict *v,
                   struct err *e);

#endif /* C8S_JEPSEN_LIST_H */
