/* The guards against copies of a snapshot piling up (raft/install.c). */
#include <string.h>

#include "raft/internal.h"
#include "tests/lib/unit.h"

static struct raft_message rejection(raft_index rejected)
{
    struct raft_message m;

    memset(&m, 0, sizeof m);
    m.type = RAFT_APPEND_ENTRIES_RESULT;
    m.append_entries_result.rejected = rejected;
    m.append_entries_result.last_log_index = rejected > 0 ? rejected - 1 : 9;
    return m;
}

TEST(install, an_installing_follower_holds_back_rejections_only)
{
    static struct repl__installs s;
    struct raft_message reject = rejection(500), accept = rejection(0);

    ASSERT(!repl__install_holds_back(&s, &reject, 1000));
    repl__install_started(&s, 480, 1000);
    ASSERT(repl__install_holds_back(&s, &reject, 1001));
    ASSERT(!repl__install_holds_back(&s, &accept, 1001));
    struct raft_message vote;
    memset(&vote, 0, sizeof vote);
    vote.type = RAFT_REQUEST_VOTE_RESULT;
    ASSERT(!repl__install_holds_back(&s, &vote, 1001));
    repl__install_ended(&s);
    ASSERT(!repl__install_holds_back(&s, &reject, 1002));
}

TEST(install, an_install_that_never_ends_stops_holding_back_after_a_while)
{
    static struct repl__installs s;
    struct raft_message reject = rejection(500);

    repl__install_started(&s, 480, 1000);
    ASSERT(repl__install_holds_back(&s, &reject, 1000 + 29999));
    ASSERT(!repl__install_holds_back(&s, &reject, 1000 + 30000));
}

TEST(install, a_leader_writes_a_follower_one_copy_at_a_time)
{
    static struct repl__installs s;
    struct repl__install_peer *p = repl__install_admit(&s, 7, 100, 0);

    ASSERT(p != NULL);
    ASSERT(repl__install_admit(&s, 7, 100, 10) == NULL);
    ASSERT(repl__install_admit(&s, 7, 200, 10) == NULL); /* even newer */
    /* Another follower is not held up. */
    ASSERT(repl__install_admit(&s, 8, 100, 10) != NULL);
}

TEST(install, the_same_snapshot_waits_after_a_write_but_a_newer_one_does_not)
{
    static struct repl__installs s;
    struct repl__install_peer *p = repl__install_admit(&s, 7, 100, 0);

    repl__install_done(p, 0, 50);
    ASSERT(repl__install_admit(&s, 7, 100, 60) == NULL);
    ASSERT(repl__install_admit(&s, 7, 90, 60) == NULL);
    ASSERT(repl__install_admit(&s, 7, 100, 50 + 5000) != NULL);
    p = repl__install_admit(&s, 9, 100, 0);
    repl__install_done(p, 0, 50);
    ASSERT(repl__install_admit(&s, 9, 164, 60) != NULL);
}

TEST(install, a_failed_write_may_be_retried_at_once)
{
    static struct repl__installs s;
    struct repl__install_peer *p = repl__install_admit(&s, 7, 100, 0);

    repl__install_done(p, RAFT_IOERR, 50);
    ASSERT(repl__install_admit(&s, 7, 100, 51) != NULL);
}

TEST(install, more_followers_than_slots_reuse_the_longest_idle_one)
{
    static struct repl__installs s;

    for (raft_id id = 1; id <= REPL_MAX_MEMBERS; id++) {
        struct repl__install_peer *p = repl__install_admit(&s, id, 100, id);
        ASSERT(p != NULL);
        if (id != 3)
            repl__install_done(p, 0, 1000 + id);
    }
    /* Every slot taken: a new follower gets the idle one used longest
     * ago (id 1), not id 3's, whose write is in flight. */
    struct repl__install_peer *p =
        repl__install_admit(&s, REPL_MAX_MEMBERS + 1, 100, 2000);
    ASSERT(p != NULL);
    ASSERT(repl__install_admit(&s, 3, 100, 2000) == NULL);
    repl__install_done(p, 0, 2001);
    ASSERT(repl__install_admit(&s, 1, 100, 2002) != NULL); /* forgotten */
}

UNIT_MAIN()
