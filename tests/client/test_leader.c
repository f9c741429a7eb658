/* Leader election on a Lease against a real member: one leader among
 * candidates, takeover only after the lease runs out unrenewed, release
 * hands over at once, a leader cut off from the API stops leading. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <c8s/c8s.h>
#include <c8s/leader.h>

#include "tests/client/cluster.h"
#include "tests/lib/unit.h"

#define LEASE_MS 1000

static struct c8s_leader *candidate(struct c8s_client *c, const char *id)
{
    struct c8s_leader_opts o = {.ns = "kube-system", .name = "ctl",
                                .identity = id, .lease_ms = LEASE_MS,
                                .renew_deadline_ms = 700, .retry_ms = 100};
    struct c8s_leader *l = NULL;
    struct c8s_error err = {0};

    ASSERT_MSG(c8s_leader_new(c, &o, &l, &err) == 0, "%s", err.message);
    return l;
}

static bool step(struct c8s_leader *l)
{
    struct c8s_error err = {0};
    bool leads = false;
    int rv = c8s_leader_step(l, &leads, &err);

    ASSERT_MSG(rv == 0, "step: %d %s", rv, err.message);
    return leads;
}

static long long transitions(struct c8s_client *c)
{
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    struct c8s_obj *o = NULL;
    long long t;

    ASSERT_EQ(c8s_request(c, "GET", "/apis/coordination.k8s.io/v1/namespaces/"
                          "kube-system/leases/ctl", NULL, NULL, 0, &r, &err),
              0);
    ASSERT_EQ(c8s_obj_from_json(r.body, r.body_len, &o, &err), 0);
    t = c8s_obj_int(c8s_obj_path(o, "spec.leaseTransitions"), -1);
    c8s_obj_free(o);
    c8s_response_clear(&r);
    return t;
}

TEST_T(leader, one_leader_takeover_after_expiry_and_release, 90)
{
    struct c8s_client *c;
    struct c8s_leader *a, *b, *others[4];
    char id[16];
    int64_t waited = 0;

    start_cluster(1);
    c = client_for(0, NULL, NULL);
    a = candidate(c, "a");
    b = candidate(c, "b");
    ASSERT(step(a));
    ASSERT(!step(b));
    ASSERT_STR_EQ(c8s_leader_holder(b), "a");
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof id, "o%d", i);
        others[i] = candidate(c, id);
        ASSERT(!step(others[i]));
    }
    /* While a renews, nobody else leads, however long it takes. */
    for (int i = 0; i < 15; i++) {
        ASSERT(step(a));
        ASSERT(!step(b));
        usleep(100000);
    }
    ASSERT_EQ(transitions(c), 0);

    /* a stops renewing: b takes over, but only once the lease ran out. */
    while (!step(b)) {
        usleep(100000);
        waited += 100;
        ASSERT_MSG(waited < 5000, "b never took over");
    }
    ASSERT_MSG(waited >= LEASE_MS - 200, "b took over after %lld ms",
               (long long)waited);
    ASSERT_EQ(transitions(c), 1);
    ASSERT(!step(a)); /* a sees b */
    ASSERT_STR_EQ(c8s_leader_holder(a), "b");
    for (int i = 0; i < 4; i++)
        ASSERT(!step(others[i]));

    /* b releases: the next candidate to step leads at once. */
    ASSERT_EQ(c8s_leader_release(b, NULL), 0);
    ASSERT(step(others[2]));
    ASSERT(!step(a));
    ASSERT(!step(others[0]));
    ASSERT_EQ(transitions(c), 2);
    for (int i = 0; i < 4; i++)
        c8s_leader_free(others[i]);
    c8s_leader_free(a);
    c8s_leader_free(b);
    c8s_client_free(c);
}

/* A leader that cannot reach the API stops leading once its renew
 * deadline passes, before the lease could let anyone else in. */
TEST_T(leader, a_leader_cut_off_stops_leading, 60)
{
    struct c8s_client_opts o = {.timeout_ms = 150, .max_attempts = 1};
    struct c8s_client *c;
    struct c8s_leader *a;
    struct c8s_error err = {0};
    bool leads = true;
    int steps = 0;

    start_cluster(1);
    c = client_for(0, NULL, &o);
    a = candidate(c, "a");
    ASSERT(step(a));
    tproc_signal(ms[0].p, SIGSTOP);
    ASSERT(c8s_leader_step(a, &leads, &err) != 0); /* times out... */
    ASSERT(leads); /* ...but the renew deadline has not passed */
    while (leads) {
        ASSERT_MSG(++steps < 50, "still leading");
        (void)c8s_leader_step(a, &leads, &err);
        usleep(50000);
    }
    tproc_signal(ms[0].p, SIGCONT);
    c8s_leader_free(a);
    c8s_client_free(c);
}

int main(int argc, char **argv)
{
    (void)unsetenv("KUBECONFIG");
    return unit_main(argc, argv);
}
