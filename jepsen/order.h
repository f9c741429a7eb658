/* Checks of order in a history (history.h), beside linearizability:
 *
 * watch: every watcher (a process with event lines) must see one sequence
 * of revisions that only goes up (a revision twice is a duplicate, a lower
 * one after a higher a reordering) and misses nothing: every revision
 * known to the history (from any watcher's events, or from rev=N on a
 * completed write or cas) between a watcher's first and last event must
 * have reached it (a gap). A revision must name one key everywhere.
 * Watchers are taken to watch every key of the history.
 *
 * "ok watch KEY REV" lines say where a watcher started: every known
 * revision after REV is due to it, not only those after its first event.
 *
 * monotonic: the revisions one process sees of one key on its ok
 * completions (rev=N) never go backwards, whichever member answered. (An
 * object's resourceVersion is its last change, so revisions of different
 * keys are not ordered.) A list's revision is the store's: it must be at
 * least every revision the process saw before, of any key. */
#ifndef C8S_JEPSEN_ORDER_H
#define C8S_JEPSEN_ORDER_H

#include "jepsen/history.h"
#include "jepsen/linear.h"

/* Verdicts in struct jep_verdict: keys counts watchers (or processes),
 * ops the events (or completions) looked at; each anomaly names the key
 * ("watcher 3", "process 7" or the object's key) and what went wrong. */
int jep_check_watch(const struct jep_history *h, struct jep_verdict *v,
                    struct err *e);
int jep_check_monotonic(const struct jep_history *h, struct jep_verdict *v,
                        struct err *e);

#endif /* C8S_JEPSEN_ORDER_H */
