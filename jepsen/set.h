/* The set check: every add acknowledged (ok) must be found by every final
 * reader, nothing may be found that was never added or whose add failed,
 * and a reader finds each value once. Adds of unknown outcome (info, or
 * still pending) may be found or not. A history with adds and no final
 * read cannot show a loss: it is flagged. */
#ifndef C8S_JEPSEN_SET_H
#define C8S_JEPSEN_SET_H

#include "jepsen/history.h"
#include "jepsen/linear.h"

/* Verdict: keys counts final readers, ops the adds; an anomaly names the
 * reader ("reader 1000001") and the values lost, unexpected or twice. */
int jep_check_set(const struct jep_history *h, struct jep_verdict *v,
                  struct err *e);

#endif /* C8S_JEPSEN_SET_H */
