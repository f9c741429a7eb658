/* Tests for api/server/quantity.c: exact Kubernetes quantities. */
#include <string.h>

#include "api/server/objects.h"
#include "tests/lib/unit.h"

#define NANO ((srv_qty)1000000000)

static srv_qty q(const char *s)
{
    srv_qty v = -12345;

    ASSERT_MSG(srv_qty_parse(s, &v), "'%s' did not parse", s);
    return v;
}

static bool parses(const char *s)
{
    srv_qty v;

    return srv_qty_parse(s, &v);
}

static void formats(srv_qty v, const char *want)
{
    char buf[64];

    srv_qty_format(v, buf, sizeof buf);
    ASSERT_STR_EQ(buf, want);
}

TEST(quantity, every_form_kubernetes_writes)
{
    ASSERT(q("2") == 2 * NANO);
    ASSERT(q("+2") == 2 * NANO);
    ASSERT(q("-2") == -2 * NANO);
    ASSERT(q("100m") == NANO / 10);
    ASSERT(q("5n") == 5);
    ASSERT(q("7u") == 7000);
    ASSERT(q("1k") == 1000 * NANO);
    ASSERT(q("1Ki") == 1024 * NANO);
    ASSERT(q("1.5Gi") == (srv_qty)3 * 512 * 1024 * 1024 * NANO);
    ASSERT(q("1e3") == 1000 * NANO);
    ASSERT(q("2E2") == 200 * NANO);
    ASSERT(q("5e-3") == q("5m"));
    ASSERT(q("1E") == q("1000P"));
    ASSERT(q("1Ei") == (srv_qty)1152921504606846976LL * NANO);
    ASSERT(q(".5") == NANO / 2);
}

TEST(quantity, equal_amounts_compare_equal)
{
    ASSERT(q("0.5") == q("500m"));
    ASSERT(q("1.1") == q("1100m"));
    ASSERT(q("100m") + q("100m") + q("100m") == q("300m"));
    ASSERT(q("1Gi") == q("1024Mi"));
    /* Below a nano: rounded up, as Kubernetes does. */
    ASSERT(q("0.10000000000000001") == q("100000001n"));
    ASSERT(q("1.0000000001") == 2 * NANO / 2 + 1);
}

TEST(quantity, non_quantities_are_refused)
{
    static const char *const bad[] = {
        "", ".", "1.2.3", "Ki", "nan", "inf", "0x10", "1e99999", "1e", "1 ",
        "1Kb", "m", "--1", "1e3m",
        "1000000000000000000000000000000000000000000000",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_MSG(!parses(bad[i]), "'%s' parsed", bad[i]);
    ASSERT(!srv_qty_parse(NULL, &(srv_qty){0}));
}

TEST(quantity, canonical_text)
{
    formats(2 * NANO, "2");
    formats(q("1.6"), "1600m");
    formats(5000, "5u");
    formats(3, "3n");
    formats(0, "0");
    formats(-q("250m"), "-250m");
    formats(q("1Ei"), "1152921504606846976");
    formats(q("100E"), "100000000000000000000");
}

UNIT_MAIN()
