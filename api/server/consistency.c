/* Whether a read must be linearizable (a read point from the leader) or
 * may be served from this member's state. Alone in its file so that a
 * test-only program can be built with a broken copy of it
 * (tests/jepsen/c8s-master-broken, -DC8S_BROKEN_LOCAL_READS: every read
 * from local state), which the Jepsen harness must catch. c8s-master
 * never contains that copy. */
#include "api/server/objects.h"

/* Is a consistent (linearizable) read asked for? resourceVersion unset or
 * "" means yes; anything else may be served from local state. */
bool srv__wants_consistent(const struct srv_req *req)
{
#ifdef C8S_BROKEN_LOCAL_READS
    (void)req;
    return false;
#else
    char v[32];

    return !srv_query_get(req->query, "resourceVersion", v, sizeof v, NULL) ||
           v[0] == '\0';
#endif
}
