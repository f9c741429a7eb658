/* The register checker on histories known good and known bad: stale
 * reads, lost writes, phantom values, a failed write seen, a double cas,
 * unknown outcomes either way, several keys; malformed histories refused
 * by line; a long generated history from ten clients. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jepsen/history.h"
#include "jepsen/linear.h"
#include "tests/lib/unit.h"

/* The verdict on @text, which must be well formed. */
static struct jep_verdict check(const char *text)
{
    struct jep_history h;
    struct jep_verdict v;
    struct err e = {0};

    ASSERT_MSG(jep_history_parse(text, strlen(text), "t", &h, &e) == 0, "%s",
               e.msg);
    ASSERT_MSG(jep_check_register(&h, &v, &e) == 0, "%s", e.msg);
    jep_history_free(&h);
    return v;
}

static void valid(const char *text)
{
    struct jep_verdict v = check(text);

    ASSERT_MSG(v.valid, "flagged: %s", v.n_anomalies ? v.anomalies[0].what
                                                     : "");
}

/* Not linearizable, with @why in the explanation of key @key. */
static void invalid(const char *text, const char *key, const char *why)
{
    struct jep_verdict v = check(text);

    ASSERT_MSG(!v.valid, "not flagged:\n%s", text);
    ASSERT_EQ(v.n_anomalies, 1);
    ASSERT_STR_EQ(v.anomalies[0].key, key);
    ASSERT_STR_CONTAINS(v.anomalies[0].what, why);
}

TEST(linear, sequential_operations_pass)
{
    valid("0 1 invoke read r -\n1 1 ok read r -\n"
          "2 1 invoke write r 1\n3 1 ok write r 1\n"
          "4 2 invoke cas r 1 2\n5 2 ok cas r 1 2\n"
          "6 1 invoke read r -\n7 1 ok read r 2\n");
}

TEST(linear, a_read_concurrent_with_a_write_may_see_either)
{
    valid("0 1 invoke write r 1\n5 2 invoke read r -\n6 2 ok read r -\n"
          "10 1 ok write r 1\n");
    valid("0 1 invoke write r 1\n5 2 invoke read r -\n6 2 ok read r 1\n"
          "10 1 ok write r 1\n");
    /* Calls and completions at one instant count as concurrent. */
    valid("0 1 invoke write r 1\n5 1 ok write r 1\n5 2 invoke read r -\n"
          "6 2 ok read r -\n");
}

TEST(linear, a_stale_read_is_flagged)
{
    invalid("0 1 invoke write r 1\n1 1 ok write r 1\n"
            "2 1 invoke write r 2\n3 1 ok write r 2\n"
            "4 2 invoke read r -\n5 2 ok read r 1\n",
            "r", "a read that returned 1 by process 2 (lines 5-6,");
}

TEST(linear, a_lost_write_is_flagged)
{
    invalid("0 1 invoke write r 1\n1 1 ok write r 1\n"
            "2 2 invoke read r -\n3 2 ok read r -\n",
            "r", "register holds 1, and a read that returned nothing");
}

TEST(linear, a_phantom_value_is_flagged)
{
    invalid("0 1 invoke write r 1\n1 1 ok write r 1\n"
            "2 2 invoke read r -\n3 2 ok read r 7\n",
            "r", "no operation ever wrote that value");
    /* A failed write did not happen: its value is a phantom too. */
    invalid("0 1 invoke write r 1\n1 1 fail write r 1\n"
            "2 2 invoke read r -\n3 2 ok read r 1\n",
            "r", "no operation ever wrote that value");
}

TEST(linear, two_cas_from_one_value_cannot_both_succeed)
{
    invalid("0 1 invoke cas r - 1\n1 1 ok cas r - 1\n"
            "2 2 invoke cas r - 2\n3 2 ok cas r - 2\n",
            "r", "a cas from nothing to 2");
    /* A failed cas is dropped: nothing happened. */
    valid("0 1 invoke cas r - 1\n1 1 ok cas r - 1\n"
          "2 2 invoke cas r - 2\n3 2 fail cas r - 2\n"
          "4 2 invoke read r -\n5 2 ok read r 1\n");
}

TEST(linear, an_unknown_outcome_may_or_may_not_happen_but_only_once)
{
    const char *w = "0 1 invoke write r 1\n1 1 info write r 1\n";
    char text[512];

    snprintf(text, sizeof text, "%s2 2 invoke read r -\n3 2 ok read r -\n", w);
    valid(text);
    snprintf(text, sizeof text, "%s2 2 invoke read r -\n3 2 ok read r 1\n", w);
    valid(text);
    /* Late, long after its completion was lost: still possible. */
    snprintf(text, sizeof text, "%s2 2 invoke read r -\n3 2 ok read r -\n"
             "900 2 invoke read r -\n901 2 ok read r 1\n", w);
    valid(text);
    /* Seen, then unseen: it cannot be undone. */
    snprintf(text, sizeof text, "%s2 2 invoke read r -\n3 2 ok read r 1\n"
             "4 2 invoke read r -\n5 2 ok read r -\n", w);
    invalid(text, "r", "read that returned nothing");
    /* A pending operation at the end of the history is unknown too. */
    valid("0 1 invoke write r 1\n2 2 invoke read r -\n3 2 ok read r 1\n");
    /* A read of unknown outcome constrains nothing. */
    valid("0 2 invoke read r -\n1 2 info read r -\n");
}

TEST(linear, keys_are_checked_apart)
{
    struct jep_verdict v = check(
        "0 1 invoke write a 1\n1 1 ok write a 1\n"
        "0 2 invoke write b 1\n1 2 ok write b 1\n"
        "2 3 invoke read a -\n3 3 ok read a 1\n"
        "2 4 invoke read b -\n3 4 ok read b 5\n"
        "4 4 invoke read c -\n5 4 ok read c -\n");

    ASSERT(!v.valid);
    ASSERT_EQ(v.keys, 3);
    ASSERT_EQ(v.ops, 5);
    ASSERT_EQ(v.n_anomalies, 1);
    ASSERT_STR_EQ(v.anomalies[0].key, "b");
}

static void malformed(const char *text, const char *why)
{
    struct jep_history h;
    struct jep_verdict v;
    struct err e = {0};
    int rv = jep_history_parse(text, strlen(text), "h.txt", &h, &e);

    if (rv == 0) {
        rv = jep_check_register(&h, &v, &e);
        jep_history_free(&h);
    }
    ASSERT_EQ(rv, -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, why);
}

TEST(linear, malformed_histories_are_refused_by_line)
{
    malformed("0 1 invoke read r -\n1 1 ok read r\n", "h.txt:2: 5 fields");
    malformed("0 1 begin read r -\n", "h.txt:1: type \"begin\"");
    malformed("0 1 invoke rd r -\n", "f \"rd\"");
    malformed("0 1 invoke event r 5\n", "an event is");
    malformed("0 1 ok event r -\n", "an event is");
    malformed("0 1 ok read r 1 rev=x\n", "\"rev=x\" is not rev=");
    malformed("x 1 invoke read r -\n", "time \"x\"");
    malformed("0 -1 invoke read r -\n", "process \"-1\"");
    malformed("0 1 invoke read r 1x\n", "value \"1x\"");
    malformed("0 1 invoke cas r 1\n", "cas needs the new value");
    malformed("0 1 invoke write r 1 2\n", "only cas has a new value");
    malformed("0 1 invoke read r -\n1 1 invoke read r -\n",
              "line 2: process 1 invokes while its operation from line 1");
    malformed("0 1 ok read r 1\n", "line 1: process 1 completes an operation "
              "it did not invoke");
    malformed("0 1 invoke read r -\n1 1 ok write r 1\n",
              "line 2: completes write r, but line 1 invoked read r");
    malformed("5 1 invoke read r -\n1 1 ok read r 1\n",
              "completes before its invocation");
    malformed("0 1 invoke read r -\n1 1 ok read r -9223372036854775808\n",
              "value");
    char key[200];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    char text[400];
    snprintf(text, sizeof text, "0 1 invoke read %s -\n", key);
    malformed(text, "key longer than 63 bytes");
    /* Comments and blank lines are fine. */
    valid("# a comment\n\n0 1 invoke read r -\r\n1 1 ok read r -\n");
}

/* Ten clients on a true register, each operation taking effect at its
 * invocation and completing a while later; a key serves 1,000 operations
 * and then the next one takes over. */
struct gen {
    char *text;
    size_t len, cap;
    uint64_t rng;
};

static uint64_t rnd(struct gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

/* Append one line: "T P TYPE F kKEY V[ NV]". */
static void emit(struct gen *g, long long t, int p, const char *type,
                 const char *f, int key, long long v, bool has_nv,
                 long long nv)
{
    char line[160], vs[24];
    int n;

    if (v == JEP_NIL)
        snprintf(vs, sizeof vs, "-");
    else
        snprintf(vs, sizeof vs, "%lld", v);
    n = snprintf(line, sizeof line, "%lld %d %s %s k%d %s", t, p, type, f,
                 key, vs);
    if (has_nv)
        n += snprintf(line + n, sizeof line - (size_t)n, " %lld", nv);
    line[n++] = '\n';
    line[n] = '\0';
    if (g->len + (size_t)n + 1 > g->cap) {
        g->cap = g->cap ? g->cap * 2 : 1 << 20;
        g->text = realloc(g->text, g->cap);
        ASSERT(g->text != NULL);
    }
    memcpy(g->text + g->len, line, (size_t)n + 1);
    g->len += (size_t)n;
}

struct client {
    bool busy;
    long long done_at, v, nv;
    const char *f;
    int key;
};

TEST_T(linear, a_long_history_of_ten_clients_checks, 120)
{
    struct gen g = {.rng = 88172645463325252ULL};
    struct client c[10] = {{0}};
    long long reg = JEP_NIL, t = 0, next_value = 1;
    int key = 0, ops_on_key = 0;

    for (int step = 0; step < 200000; step++) {
        int p = (int)(rnd(&g) % 10);
        bool cas;

        t += 1 + (long long)(rnd(&g) % 5);
        if (c[p].busy) {
            if (t >= c[p].done_at) {
                cas = strcmp(c[p].f, "cas") == 0;
                emit(&g, t, p, "ok", c[p].f, c[p].key, c[p].v, cas, c[p].nv);
                c[p].busy = false;
            }
            continue;
        }
        if (++ops_on_key > 1000) {
            key++;
            ops_on_key = 0;
            reg = JEP_NIL;
        }
        c[p] = (struct client){.busy = true, .key = key,
                               .done_at = t + (long long)(rnd(&g) % 40)};
        switch (rnd(&g) % 3) {
        case 0: /* a read takes effect now and returns later */
            c[p].f = "read";
            c[p].v = reg;
            emit(&g, t, p, "invoke", "read", key, JEP_NIL, false, 0);
            break;
        case 1:
            c[p].f = "write";
            reg = c[p].v = next_value++;
            emit(&g, t, p, "invoke", "write", key, c[p].v, false, 0);
            break;
        default:
            c[p].f = "cas";
            c[p].v = reg;
            reg = c[p].nv = next_value++;
            emit(&g, t, p, "invoke", "cas", key, c[p].v, true, c[p].nv);
        }
    }
    struct jep_verdict v = check(g.text);
    ASSERT_MSG(v.valid, "%s", v.n_anomalies ? v.anomalies[0].what : "");
    ASSERT(v.keys > 50);

    /* One read's value changed to one nobody wrote: caught, on its key. */
    char *r = strstr(g.text + g.len / 2, " ok read k");
    ASSERT(r != NULL);
    char *end = strchr(r, '\n'), *sp = end;
    while (sp[-1] != ' ')
        sp--;
    size_t keep = (size_t)(sp - g.text);
    char *bad = malloc(g.len + 32);
    ASSERT(bad != NULL);
    memcpy(bad, g.text, keep);
    int n = sprintf(bad + keep, "999999999");
    strcpy(bad + keep + (size_t)n, end);
    v = check(bad);
    ASSERT(!v.valid);
    ASSERT_EQ(v.n_anomalies, 1);
    ASSERT_STR_CONTAINS(v.anomalies[0].what, "no operation ever wrote");
    free(bad);
    free(g.text);
}

UNIT_MAIN()
