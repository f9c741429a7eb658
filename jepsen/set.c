/* The set check (set.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jepsen/set.h"
#include "lib/mem.h"

enum outcome { UNKNOWN, FAILED, ACKED };

struct added {
    int64_t value;
    enum outcome outcome;
    size_t line;
};

struct seen {
    int process;
    int64_t value;
    size_t line;
};

static int by_value(const void *a, const void *b)
{
    int64_t x = ((const struct added *)a)->value;
    int64_t y = ((const struct added *)b)->value;

    return x < y ? -1 : x > y;
}

static int by_reader_value(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;

    if (x->process != y->process)
        return x->process < y->process ? -1 : 1;
    return x->value < y->value ? -1 : x->value > y->value;
}

/* One entry per value added, with the best outcome any line gave it. */
static size_t collect_adds(const struct jep_history *h, struct added *a)
{
    size_t n = 0, u = 0;

    for (size_t i = 0; i < h->len; i++) {
        const struct jep_event *ev = &h->ev[i];

        if (ev->f == JEP_ADD)
            a[n++] = (struct added){ev->value,
                                    ev->type == JEP_OK     ? ACKED
                                    : ev->type == JEP_FAIL ? FAILED
                                                           : UNKNOWN,
                                    ev->line};
    }
    qsort(a, n, sizeof *a, by_value);
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && a[u - 1].value == a[i].value) {
            if (a[i].outcome == ACKED ||
                (a[i].outcome == FAILED && a[u - 1].outcome != ACKED))
                a[u - 1] = a[i]; /* the line of the outcome, too */
            continue;
        }
        a[u++] = a[i];
    }
    return u;
}

static const struct added *find(const struct added *a, size_t n, int64_t v)
{
    struct added key = {.value = v};

    return bsearch(&key, a, n, sizeof *a, by_value);
}

/* One reader's values (@s, @n, sorted) against the adds. */
static void check_reader(const struct seen *s, size_t n, const struct added *a,
                         size_t na, struct jep_verdict *v)
{
    char reader[JEP_KEY_MAX];
    size_t j = 0, lost = 0;
    int64_t first_lost = 0;
    size_t first_lost_line = 0;

    (void)snprintf(reader, sizeof reader, "reader %d", s[0].process);
    for (size_t i = 0; i < n; i++) {
        const struct added *ad = find(a, na, s[i].value);

        if (i > 0 && s[i].value == s[i - 1].value)
            jep_verdict_add(v, reader, "duplicate: %lld found twice (lines %zu and "
                    "%zu)", (long long)s[i].value, s[i - 1].line, s[i].line);
        else if (ad == NULL)
            jep_verdict_add(v, reader, "phantom: %lld found (line %zu) but never "
                    "added", (long long)s[i].value, s[i].line);
        else if (ad->outcome == FAILED)
            jep_verdict_add(v, reader, "a failed add is present: %lld (added at "
                    "line %zu, found at line %zu)", (long long)s[i].value,
                    ad->line, s[i].line);
    }
    /* Lost: acknowledged, not found (both lists sorted by value). */
    for (size_t i = 0; i < na; i++) {
        if (a[i].outcome != ACKED)
            continue;
        while (j < n && s[j].value < a[i].value)
            j++;
        if (j < n && s[j].value == a[i].value)
            continue;
        if (lost++ == 0) {
            first_lost = a[i].value;
            first_lost_line = a[i].line;
        }
    }
    if (lost > 0)
        jep_verdict_add(v, reader, "lost: %zu acknowledged adds not found, the first "
                "%lld (acknowledged at line %zu)", lost,
                (long long)first_lost, first_lost_line);
}

int jep_check_set(const struct jep_history *h, struct jep_verdict *v,
                  struct err *e)
{
    struct added *a = mem_malloc((h->len + 1) * sizeof *a);
    struct seen *s = mem_malloc((h->len + 1) * sizeof *s);
    size_t na, n = 0;

    memset(v, 0, sizeof *v);
    v->valid = true;
    if (a == NULL || s == NULL) {
        mem_free(a);
        mem_free(s);
        return err_setf(e, -ENOMEM, "out of memory");
    }
    na = collect_adds(h, a);
    for (size_t i = 0; i < h->len; i++)
        if (h->ev[i].f == JEP_SEEN)
            s[n++] = (struct seen){h->ev[i].process, h->ev[i].value,
                                   h->ev[i].line};
    qsort(s, n, sizeof *s, by_reader_value);
    v->ops = na;
    if (na > 0 && n == 0)
        jep_verdict_add(v, "set", "%zu values added and no final read: "
                        "losses cannot be seen", na);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && s[j].process == s[i].process; j++)
            ;
        v->keys++;
        check_reader(s + i, j - i, a, na, v);
    }
    mem_free(a);
    mem_free(s);
    return 0;
}
