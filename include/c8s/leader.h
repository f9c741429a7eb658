/* Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
 * the holder renews the Lease's renewTime; a candidate takes the Lease
 * over when it has not seen it change for leaseDurationSeconds (measured
 * on its own clock, so clocks of different machines need not agree), and
 * every change is a compare-and-swap on the Lease's resourceVersion, so
 * two candidates never both win.
 *
 * Blocking and step-wise: call c8s_leader_step() every retry period (the
 * opts say how often); it tries once to acquire or renew and says whether
 * this candidate leads. A leader that could not renew for renew_deadline
 * stops leading (step says so) before anyone else may take over, provided
 * the client's timeout_ms (c8s/client.h) is shorter than the renew
 * deadline, so that one slow request cannot outlast it. */
#ifndef C8S_LEADER_H
#define C8S_LEADER_H

#include <stdbool.h>

#include <c8s/client.h>
#include <c8s/errors.h>

struct c8s_leader;

struct c8s_leader_opts {
    const char *ns;        /* Namespace of the Lease, e.g. "kube-system". */
    const char *name;      /* Its name, e.g. "c8s-controllers". */
    const char *identity;  /* This candidate, unique (host name + pid). */
    int lease_ms;          /* leaseDurationSeconds; 0: 15 s. */
    int renew_deadline_ms; /* Stop leading after failing to renew this
                            * long; 0: 10 s; must be < lease_ms. */
    int retry_ms;          /* How often to call step; 0: 2 s. */
};

int c8s_leader_new(struct c8s_client *c, const struct c8s_leader_opts *o,
                   struct c8s_leader **ret, struct c8s_error *err);

void c8s_leader_free(struct c8s_leader *l);

/* Try once. *@leads says whether this candidate leads after it. Returns 0,
 * or the error of the attempt (leadership is then as the renew deadline
 * says). */
int c8s_leader_step(struct c8s_leader *l, bool *leads, struct c8s_error *err);

/* Lead no more: a leader empties the Lease's holder so that another
 * candidate takes over at once. */
int c8s_leader_release(struct c8s_leader *l, struct c8s_error *err);

/* The holder last seen on the Lease ("" for none). */
const char *c8s_leader_holder(const struct c8s_leader *l);

/* The retry period to sleep between steps. */
int c8s_leader_retry_ms(const struct c8s_leader *l);

#endif /* C8S_LEADER_H */
