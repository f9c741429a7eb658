/* The watch and monotonic checks on histories known good and bad: gaps,
 * duplicates, reordering, a revision named with two keys, revisions going
 * backwards for one client. */
#include <errno.h>
#include <string.h>

#include "jepsen/history.h"
#include "jepsen/order.h"
#include "tests/lib/unit.h"

typedef int (*checker)(const struct jep_history *, struct jep_verdict *,
                       struct err *);

static struct jep_verdict run(checker fn, const char *text)
{
    struct jep_history h;
    struct jep_verdict v;
    struct err e = {0};

    ASSERT_MSG(jep_history_parse(text, strlen(text), "t", &h, &e) == 0, "%s",
               e.msg);
    ASSERT_MSG(fn(&h, &v, &e) == 0, "%s", e.msg);
    jep_history_free(&h);
    return v;
}

static void good(checker fn, const char *text)
{
    struct jep_verdict v = run(fn, text);

    ASSERT_MSG(v.valid, "flagged: %s", v.n_anomalies ? v.anomalies[0].what
                                                     : "");
}

static void bad(checker fn, const char *text, const char *who,
                const char *why)
{
    struct jep_verdict v = run(fn, text);

    ASSERT_MSG(!v.valid, "not flagged:\n%s", text);
    ASSERT_EQ(v.n_anomalies, 1);
    ASSERT_STR_EQ(v.anomalies[0].key, who);
    ASSERT_STR_CONTAINS(v.anomalies[0].what, why);
}

/* Two writes acknowledged with their revisions. */
#define WRITES "0 1 invoke write a 1\n1 1 ok write a 1 rev=10\n" \
               "2 1 invoke write b 1\n3 1 ok write b 1 rev=12\n"

TEST(order, watchers_that_agree_pass)
{
    struct jep_verdict v = run(jep_check_watch,
        WRITES "4 7 ok event a 10\n5 7 ok event b 12\n6 7 ok event a 15\n"
        "7 8 ok event b 12\n8 8 ok event a 15\n");

    ASSERT(v.valid);
    ASSERT_EQ(v.keys, 2);
    ASSERT_EQ(v.ops, 5);
    /* A watcher that starts late misses nothing before its start. */
    good(jep_check_watch, WRITES "4 8 ok event a 15\n");
}

TEST(order, a_gap_is_flagged)
{
    bad(jep_check_watch, WRITES "4 7 ok event a 10\n5 7 ok event a 15\n",
        "watcher 7", "gap: revision 12 (b, line 4) never delivered between "
        "revision 10 (line 5) and 15 (line 6)");
    /* Known from another watcher only. */
    bad(jep_check_watch, "1 7 ok event a 10\n2 7 ok event a 12\n"
        "3 7 ok event a 14\n4 8 ok event a 10\n5 8 ok event a 14\n",
        "watcher 8", "gap: revision 12");
    /* Known from a read only: the write's own outcome was unknown. */
    bad(jep_check_watch, "0 1 invoke write a 1\n1 1 info write a 1\n"
        "2 2 invoke read a -\n3 2 ok read a 1 rev=101\n"
        "4 7 ok event b 100\n5 7 ok event b 102\n", "watcher 7",
        "gap: revision 101 (a, line 4)");
    /* Missed right after the start the watcher logged. */
    bad(jep_check_watch, WRITES "4 7 ok watch ns 9\n5 7 ok event b 12\n",
        "watcher 7", "gap: revision 10 (a, line 2) never delivered between "
        "revision 9 (line 5) and 12");
    good(jep_check_watch, WRITES "4 7 ok watch ns 10\n5 7 ok event b 12\n");
    bad(jep_check_watch, WRITES "4 7 ok watch ns 10\n5 7 ok event a 10\n",
        "watcher 7", "duplicate: revision 10");
    bad(jep_check_watch, WRITES "4 7 ok watch ns 9\n5 7 ok event a 10\n"
        "6 7 ok watch ns 11\n7 7 ok event b 12\n", "watcher 7",
        "a second start (line 7)");
}

TEST(order, duplicates_and_reordering_are_flagged)
{
    bad(jep_check_watch, WRITES "4 7 ok event a 10\n5 7 ok event b 12\n"
        "6 7 ok event b 12\n", "watcher 7",
        "duplicate: revision 12 delivered at lines 6 and 7");
    bad(jep_check_watch, WRITES "4 7 ok event b 12\n5 7 ok event a 10\n",
        "watcher 7", "reordering: revision 10 (line 6) after revision 12 "
        "(line 5)");
}

TEST(order, a_revision_names_one_key)
{
    bad(jep_check_watch, WRITES "4 7 ok event b 10\n5 7 ok event b 12\n",
        "b", "revision 10 is a change of a at line 2 and of b at line 5");
}

TEST(order, revisions_seen_by_one_client_never_go_backwards)
{
    const char *ok = "0 1 invoke read a -\n1 1 ok read a - rev=5\n"
                     "2 1 invoke write a 1\n3 1 ok write a 1 rev=9\n"
                     "4 1 invoke read a -\n5 1 ok read a 1 rev=9\n"
                     "4 2 invoke read a -\n5 2 ok read a - rev=3\n";
    struct jep_verdict v = run(jep_check_monotonic, ok);

    ASSERT(v.valid);
    ASSERT_EQ(v.keys, 2);
    ASSERT_EQ(v.ops, 4);
    bad(jep_check_monotonic, "0 1 invoke write a 1\n1 1 ok write a 1 rev=9\n"
        "2 1 invoke read a -\n3 1 ok read a - rev=7\n", "process 1",
        "revision of a went backwards: 7 at line 4 after 9 at line 2");
    /* Different keys: an object's revision is its own last change. */
    good(jep_check_monotonic, "0 1 invoke write a 1\n1 1 ok write a 1 rev=9\n"
         "2 1 invoke read b -\n3 1 ok read b 1 rev=4\n");
    /* A list's revision is the store's: never below anything seen. */
    bad(jep_check_monotonic, "0 1 invoke write a 1\n1 1 ok write a 1 rev=102\n"
        "2 1 invoke list list -\n3 1 ok list list - rev=90\n", "process 1",
        "a list at revision 90 (line 4) after revision 102 was seen (line 2)");
    good(jep_check_monotonic, "0 1 invoke write a 1\n1 1 ok write a 1 rev=102\n"
         "2 1 invoke list list -\n3 1 ok list list - rev=102\n"
         "4 1 invoke read b -\n5 1 ok read b 1 rev=4\n"
         "6 2 invoke list list -\n7 2 ok list list - rev=90\n");
    /* Only ok completions count: a failed one has no revision to keep. */
    good(jep_check_monotonic, "0 1 invoke write a 1\n1 1 ok write a 1 rev=9\n"
         "2 1 invoke read a -\n3 1 fail read a - rev=7\n");
}

UNIT_MAIN()
