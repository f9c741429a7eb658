/* A leader writes a follower one snapshot at a time (raft/install.c). */
#include "raft/internal.h"
#include "tests/lib/unit.h"

TEST(install, a_follower_gets_one_copy_at_a_time)
{
    static struct repl__installs s;
    struct repl__install_peer *p = repl__install_admit(&s, 7, 100, 0);

    ASSERT(p != NULL);
    ASSERT(repl__install_admit(&s, 7, 100, 10) == NULL);
    ASSERT(repl__install_admit(&s, 7, 200, 10) == NULL); /* even newer */
    /* Another follower is not held up. */
    ASSERT(repl__install_admit(&s, 8, 100, 10) != NULL);
}

TEST(install, a_newer_copy_waits_until_the_follower_has_the_last)
{
    static struct repl__installs s;
    struct repl__install_peer *p = repl__install_admit(&s, 7, 100, 0);

    repl__install_done(p, 0);
    ASSERT(repl__install_admit(&s, 7, 164, 60) == NULL);
    /* Installing, it answers heartbeats with an empty log; another's
     * answer, an older index and a rejection (whose last_log_index only
     * hints at a length) do not count. */
    repl__install_heard(&s, 7, 0, 0);
    repl__install_heard(&s, 8, 0, 500);
    repl__install_heard(&s, 7, 0, 99);
    repl__install_heard(&s, 7, 600, 500);
    ASSERT(repl__install_admit(&s, 7, 164, 70) == NULL);
    repl__install_heard(&s, 7, 0, 100);
    ASSERT(repl__install_admit(&s, 7, 164, 80) != NULL);
}

TEST(install, the_same_copy_is_not_sent_again_within_the_hold)
{
    static struct repl__installs s;
    struct repl__install_peer *p = repl__install_admit(&s, 7, 100, 1000);

    repl__install_done(p, 0);
    repl__install_heard(&s, 7, 0, 100); /* it has it */
    ASSERT(repl__install_admit(&s, 7, 100, 1100) == NULL);
    ASSERT(repl__install_admit(&s, 7, 90, 1100) == NULL);
    ASSERT(repl__install_admit(&s, 7, 100, 1000 + REPL_INSTALL_HOLD_MS) !=
           NULL);
}

TEST(install, an_unacknowledged_copy_holds_until_just_before_the_timeout)
{
    static struct repl__installs s;
    struct repl__install_peer *p = repl__install_admit(&s, 7, 100, 1000);

    repl__install_done(p, 0);
    ASSERT(REPL_INSTALL_HOLD_MS < REPL_INSTALL_TIMEOUT_MS);
    ASSERT(repl__install_admit(&s, 7, 100, 1000 + REPL_INSTALL_HOLD_MS - 1) ==
           NULL);
    ASSERT(repl__install_admit(&s, 7, 100, 1000 + REPL_INSTALL_HOLD_MS) !=
           NULL);
}

TEST(install, a_failed_write_may_be_retried_at_once)
{
    static struct repl__installs s;
    struct repl__install_peer *p = repl__install_admit(&s, 7, 100, 0);

    repl__install_done(p, RAFT_IOERR);
    ASSERT(repl__install_admit(&s, 7, 100, 1) != NULL);
}

TEST(install, more_followers_than_slots_reuse_the_longest_idle_one)
{
    static struct repl__installs s;

    for (raft_id id = 1; id <= REPL_MAX_MEMBERS; id++) {
        struct repl__install_peer *p = repl__install_admit(&s, id, 100, id);
        ASSERT(p != NULL);
        if (id != 1)
            repl__install_done(p, RAFT_IOERR);
    }
    /* Every slot taken: a new follower gets the idle one started longest
     * ago (id 2), not id 1's, whose write is in flight. */
    struct repl__install_peer *p =
        repl__install_admit(&s, REPL_MAX_MEMBERS + 1, 100, 2000);
    ASSERT(p != NULL);
    ASSERT(p->id == REPL_MAX_MEMBERS + 1);
    ASSERT(repl__install_admit(&s, 1, 100, 2000) == NULL);
    /* The other 14 idle slots go to new followers; then, all in flight,
     * nobody else gets one. */
    for (raft_id id = 3; id <= REPL_MAX_MEMBERS; id++)
        ASSERT(repl__install_admit(&s, id + 100, 100, 2001) != NULL);
    ASSERT(repl__install_admit(&s, 999, 100, 2002) == NULL);
}

UNIT_MAIN()
