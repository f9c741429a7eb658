/* The set check on histories known good and bad: a lost acknowledged add,
 * a phantom, a failed add that shows up, a value found twice, readers that
 * disagree, no final read; unknown outcomes either way. */
#include <errno.h>
#include <string.h>

#include "jepsen/history.h"
#include "jepsen/set.h"
#include "tests/lib/unit.h"

static struct jep_verdict run(const char *text)
{
    struct jep_history h;
    struct jep_verdict v;
    struct err e = {0};

    ASSERT_MSG(jep_history_parse(text, strlen(text), "t", &h, &e) == 0, "%s",
               e.msg);
    ASSERT_MSG(jep_check_set(&h, &v, &e) == 0, "%s", e.msg);
    jep_history_free(&h);
    return v;
}

static void bad(const char *text, const char *who, const char *why)
{
    struct jep_verdict v = run(text);

    ASSERT_MSG(!v.valid, "not flagged:\n%s", text);
    ASSERT_EQ(v.n_anomalies, 1);
    ASSERT_STR_EQ(v.anomalies[0].key, who);
    ASSERT_STR_CONTAINS(v.anomalies[0].what, why);
}

/* 1 acknowledged, 2 unknown, 3 failed. */
#define ADDS "0 1 invoke add s 1\n1 1 ok add s 1\n" \
             "0 2 invoke add s 2\n1 2 info add s 2\n" \
             "0 3 invoke add s 3\n1 3 fail add s 3\n"

TEST(set, every_acknowledged_add_found_passes)
{
    struct jep_verdict v = run(ADDS "9 100 ok seen s 1\n9 101 ok seen s 1\n"
                               "9 101 ok seen s 2\n");

    ASSERT_MSG(v.valid, "%s", v.n_anomalies ? v.anomalies[0].what : "");
    ASSERT_EQ(v.keys, 2);
    ASSERT_EQ(v.ops, 3);
}

TEST(set, anomalies_are_flagged)
{
    bad(ADDS "9 100 ok seen s 2\n", "reader 100",
        "lost: 1 acknowledged adds not found, the first 1 (acknowledged at "
        "line 2)");
    bad(ADDS "9 100 ok seen s 1\n9 100 ok seen s 7\n", "reader 100",
        "phantom: 7 found (line 8) but never added");
    bad(ADDS "9 100 ok seen s 1\n9 100 ok seen s 3\n", "reader 100",
        "a failed add is present: 3");
    bad(ADDS "9 100 ok seen s 1\n9 100 ok seen s 1\n", "reader 100",
        "duplicate: 1 found twice (lines 7 and 8)");
    /* Readers must each find it: one that does not is flagged alone. */
    bad(ADDS "9 100 ok seen s 1\n9 101 ok seen s 2\n", "reader 101",
        "lost");
    bad(ADDS, "set", "no final read");
}

TEST(set, malformed_lines_are_refused)
{
    struct jep_history h;
    struct err e = {0};
    const char *t1 = "0 1 invoke add s -\n", *t2 = "0 1 invoke seen s 1\n";

    ASSERT_EQ(jep_history_parse(t1, strlen(t1), "h", &h, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "add needs a value");
    ASSERT_EQ(jep_history_parse(t2, strlen(t2), "h", &h, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "seen is");
}

UNIT_MAIN()
