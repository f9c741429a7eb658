/* The list check on histories known good and bad: an item newer than the
 * list's snapshot, an object missing from it, a stale list, a phantom, a
 * failed add listed, a duplicate, two revisions for one object; unknown
 * outcomes either way; items that do not follow their list. */
#include <errno.h>
#include <string.h>

#include "jepsen/history.h"
#include "jepsen/list.h"
#include "tests/lib/unit.h"

static struct jep_verdict run(const char *text)
{
    struct jep_history h;
    struct jep_verdict v;
    struct err e = {0};

    ASSERT_MSG(jep_history_parse(text, strlen(text), "t", &h, &e) == 0, "%s",
               e.msg);
    ASSERT_MSG(jep_check_list(&h, &v, &e) == 0, "%s", e.msg);
    jep_history_free(&h);
    return v;
}

static void bad(const char *text, const char *who, const char *why)
{
    struct jep_verdict v = run(text);

    ASSERT_MSG(!v.valid, "not flagged:\n%s", text);
    ASSERT_MSG(v.n_anomalies == 1, "%zu anomalies, the first: %s",
               v.n_anomalies, v.anomalies[0].what);
    ASSERT_STR_EQ(v.anomalies[0].key, who);
    ASSERT_STR_CONTAINS(v.anomalies[0].what, why);
}

/* 1 acknowledged at revision 10, 2 unknown (added at 11, as a list will
 * show), 3 failed, 4 acknowledged at 12. Lines 1-8. */
#define ADDS "0 1 invoke add g1 1\n5 1 ok add g1 1 rev=10\n" \
             "0 2 invoke add g1 2\n6 2 info add g1 2\n" \
             "0 3 invoke add g1 3\n7 3 fail add g1 3\n" \
             "8 4 invoke add g1 4\n9 4 ok add g1 4 rev=12\n"

TEST(list, snapshots_pass)
{
    /* At 10: only 1. At 11: 1 and the unknown 2. At 12: all three. A list
     * invoked before 4 was acknowledged may miss it. */
    struct jep_verdict v = run(
        ADDS "6 9 invoke list g1 -\n7 9 ok list g1 1 rev=10\n"
        "7 9 ok item g1 1 rev=10\n"
        "8 9 invoke list g1 -\n9 9 ok list g1 2 rev=11\n"
        "9 9 ok item g1 1 rev=10\n9 9 ok item g1 2 rev=11\n"
        "10 9 invoke list g1 -\n11 9 ok list g1 3 rev=15\n"
        "11 9 ok item g1 4 rev=12\n11 9 ok item g1 1 rev=10\n"
        "11 9 ok item g1 2 rev=11\n"
        "12 9 invoke list g1 -\n13 9 ok list g1 - rev=16\n"
        "14 9 invoke list g1 -\n15 9 fail list g1 -\n");

    ASSERT_MSG(v.valid, "%s", v.n_anomalies ? v.anomalies[0].what : "");
    ASSERT_EQ(v.keys, 3);
    ASSERT_EQ(v.ops, 6);
}

TEST(list, anomalies_are_flagged)
{
    bad(ADDS "6 9 invoke list g1 -\n7 9 ok list g1 2 rev=10\n"
        "7 9 ok item g1 1 rev=10\n7 9 ok item g1 4 rev=12\n",
        "list at line 10", "not one snapshot: 4 (line 12) was added at "
        "revision 12, after the list's revision 10");
    bad(ADDS "10 9 invoke list g1 -\n11 9 ok list g1 1 rev=12\n"
        "11 9 ok item g1 1 rev=10\n",
        "list at line 10", "not one snapshot: 1 objects added at or before "
        "the list's revision 12 missing, the first 4");
    /* The unknown add 2 is known at 11 from another list. */
    bad(ADDS "8 9 invoke list g1 -\n9 9 ok list g1 2 rev=11\n"
        "9 9 ok item g1 1 rev=10\n9 9 ok item g1 2 rev=11\n"
        "9 9 invoke list g1 -\n10 9 ok list g1 1 rev=11\n"
        "10 9 ok item g1 1 rev=10\n",
        "list at line 14", "missing, the first 2 (added at revision 11");
    bad(ADDS "10 9 invoke list g1 -\n11 9 ok list g1 1 rev=10\n"
        "11 9 ok item g1 1 rev=10\n",
        "list at line 10", "stale: 4 was acknowledged at revision 12 (line "
        "7) before the list was invoked");
    bad(ADDS "6 9 invoke list g1 -\n7 9 ok list g1 2 rev=10\n"
        "7 9 ok item g1 1 rev=10\n7 9 ok item g1 7 rev=9\n",
        "item at line 12", "phantom: 7 listed but never added");
    bad(ADDS "6 9 invoke list g1 -\n7 9 ok list g1 2 rev=10\n"
        "7 9 ok item g1 1 rev=10\n7 9 ok item g1 3 rev=9\n",
        "item at line 12", "a failed add is listed: 3");
    bad(ADDS "6 9 invoke list g1 -\n7 9 ok list g1 2 rev=10\n"
        "7 9 ok item g1 1 rev=10\n7 9 ok item g1 1 rev=10\n",
        "list at line 10", "duplicate: 1 listed twice");
    bad(ADDS "6 9 invoke list g1 -\n7 9 ok list g1 1 rev=10\n"
        "7 9 ok item g1 1 rev=9\n",
        "item at line 11", "1 listed at revision 9, added at 10");
    bad(ADDS "6 9 invoke list g2 -\n7 9 ok list g2 1 rev=10\n"
        "7 9 ok item g2 1 rev=10\n",
        "item at line 11", "1 listed in g2 but added to g1");
}

TEST(list, malformed_lists_are_refused)
{
    static const char *const texts[] = {
        "0 9 invoke list g1 -\n1 9 ok list g1 2 rev=5\n1 9 ok item g1 1 rev=4\n",
        "0 9 invoke list g1 -\n1 9 ok list g1 1 rev=5\n1 8 ok item g1 1 rev=4\n",
        "0 9 invoke list g1 -\n1 9 ok list g1 1 rev=5\n1 9 ok item g2 1 rev=4\n",
    };
    static const char *const parse_errors[] = {
        "0 9 ok item g1 1\n", "0 9 ok list g1 1\n", "0 9 fail item g1 1 rev=3\n",
    };
    struct jep_history h;
    struct jep_verdict v;
    struct err e = {0};

    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        ASSERT_EQ(jep_history_parse(texts[i], strlen(texts[i]), "t", &h, &e),
                  0);
        ASSERT_EQ(jep_check_list(&h, &v, &e), -EINVAL);
        ASSERT_STR_CONTAINS(e.msg, i == 0 ? "fewer lines follow"
                                          : "expected (\"ok item g1");
        jep_history_free(&h);
    }
    for (size_t i = 0; i < sizeof parse_errors / sizeof *parse_errors; i++) {
        ASSERT_EQ(jep_history_parse(parse_errors[i], strlen(parse_errors[i]),
                                    "t", &h, &e), -EINVAL);
        ASSERT_STR_CONTAINS(e.msg, i == 1 ? "a list completes as"
                                          : "an item is");
    }
}

UNIT_MAIN()
