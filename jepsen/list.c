/* The list check (list.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jepsen/list.h"
#include "lib/mem.h"

enum outcome { UNKNOWN, FAILED, ACKED };

/* One value added, from its invocation and completion lines. */
struct add {
    const char *key;
    int64_t value;
    enum outcome outcome;
    int64_t rev;      /* its revision, 0 while unknown */
    int64_t acked_ns; /* when its ok came, or -1 */
    size_t line;      /* of its invocation (or first line) */
};

static int by_value(const void *a, const void *b)
{
    const struct add *x = a, *y = b;

    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int by_key_rev(const void *a, const void *b)
{
    const struct add *x = *(const struct add *const *)a;
    const struct add *y = *(const struct add *const *)b;
    int c = strcmp(x->key, y->key);

    if (c != 0)
        return c;
    return x->rev < y->rev ? -1 : x->rev > y->rev;
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Every add, one entry per value (sorted by value); *@n its length. */
static struct add *collect_adds(const struct jep_history *h, size_t *n)
{
    struct add *a = mem_malloc((h->len + 1) * sizeof *a);
    size_t m = 0, u = 0;

    if (a == NULL)
        return NULL;
    for (size_t i = 0; i < h->len; i++) {
        const struct jep_event *ev = &h->ev[i];

        if (ev->f != JEP_ADD)
            continue;
        a[m++] = (struct add){
            ev->key, ev->value,
            ev->type == JEP_OK ? ACKED
            : ev->type == JEP_FAIL ? FAILED : UNKNOWN,
            ev->type == JEP_OK ? ev->rev : 0,
            ev->type == JEP_OK ? ev->time_ns : -1, ev->line};
    }
    qsort(a, m, sizeof *a, by_value);
    for (size_t i = 0; i < m; i++) {
        if (u > 0 && a[u - 1].value == a[i].value) {
            struct add *k = &a[u - 1];

            if (a[i].outcome == ACKED) {
                k->outcome = ACKED;
                k->rev = a[i].rev;
                k->acked_ns = a[i].acked_ns;
            } else if (a[i].outcome == FAILED && k->outcome != ACKED) {
                k->outcome = FAILED;
            }
            continue;
        }
        a[u++] = a[i];
    }
    *n = u;
    return a;
}

static struct add *find_add(struct add *a, size_t n, int64_t value)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (a[mid].value < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo].value == value ? &a[lo] : NULL;
}

/* The items of the ok list at @i are the next COUNT lines: check that. */
static int items_follow(const struct jep_history *h, size_t i, struct err *e)
{
    const struct jep_event *l = &h->ev[i];

    if ((uint64_t)l->value > h->len - i - 1)
        return err_setf(e, -EINVAL, "line %zu: list of %lld items, fewer "
                        "lines follow", l->line, (long long)l->value);
    for (size_t k = 1; k <= (size_t)l->value; k++) {
        const struct jep_event *it = &h->ev[i + k];

        if (it->f != JEP_ITEM || it->process != l->process ||
            strcmp(it->key, l->key) != 0)
            return err_setf(e, -EINVAL, "line %zu: item %zu of the list at "
                            "line %zu expected (\"ok item %s V rev=N\" of "
                            "process %d)", it->line, k, l->line, l->key,
                            l->process);
    }
    return 0;
}

/* Learn each add's revision from the items that show it; an item that
 * was never added, or whose add failed, or with two revisions, is an
 * anomaly of its list. */
static void learn_revisions(const struct jep_history *h, struct add *a,
                            size_t n, struct jep_verdict *v)
{
    for (size_t i = 0; i < h->len; i++) {
        const struct jep_event *it = &h->ev[i];
        struct add *ad;
        char who[JEP_KEY_MAX];

        if (it->f != JEP_ITEM)
            continue;
        (void)snprintf(who, sizeof who, "item at line %zu", it->line);
        if ((ad = find_add(a, n, it->value)) == NULL) {
            jep_verdict_add(v, who, "phantom: %lld listed but never added",
                            (long long)it->value);
        } else if (ad->outcome == FAILED) {
            jep_verdict_add(v, who, "a failed add is listed: %lld (line %zu)",
                            (long long)it->value, ad->line);
        } else if (strcmp(ad->key, it->key) != 0) {
            jep_verdict_add(v, who, "%lld listed in %s but added to %s",
                            (long long)it->value, it->key, ad->key);
        } else if (ad->rev != 0 && ad->rev != it->rev) {
            jep_verdict_add(v, who, "%lld listed at revision %lld, added at "
                            "%lld (line %zu)", (long long)it->value,
                            (long long)it->rev, (long long)ad->rev, ad->line);
        } else {
            ad->rev = it->rev;
        }
    }
}

/* When the list completing at @i was invoked (its process's invocation
 * before it), or -1. */
static int64_t invoked_at(const struct jep_history *h, size_t i)
{
    for (size_t k = i; k-- > 0;)
        if (h->ev[k].process == h->ev[i].process &&
            h->ev[k].type == JEP_INVOKE)
            return h->ev[k].f == JEP_LIST ? h->ev[k].time_ns : -1;
    return -1;
}

/* The adds of @key with a known revision: the range of @by_key. */
static void adds_of(struct add **by_key, size_t n, const char *key,
                    size_t *from, size_t *to)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(by_key[mid]->key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *from = lo;
    while (lo < n && strcmp(by_key[lo]->key, key) == 0)
        lo++;
    *to = lo;
}

/* One list (at @i) against the adds. @values is scratch for its items. */
static void check_one(const struct jep_history *h, size_t i,
                      struct add **by_key, size_t n_known, int64_t *values,
                      struct jep_verdict *v)
{
    const struct jep_event *l = &h->ev[i];
    size_t count = (size_t)l->value, from, to, missing = 0;
    int64_t invoked = invoked_at(h, i);
    const struct add *first_missing = NULL;
    char who[JEP_KEY_MAX];

    (void)snprintf(who, sizeof who, "list at line %zu", l->line);
    for (size_t k = 0; k < count; k++) {
        const struct jep_event *it = &h->ev[i + 1 + k];

        values[k] = it->value;
        if (it->rev > l->rev)
            jep_verdict_add(v, who, "not one snapshot: %lld (line %zu) was "
                            "added at revision %lld, after the list's "
                            "revision %lld", (long long)it->value, it->line,
                            (long long)it->rev, (long long)l->rev);
    }
    qsort(values, count, sizeof *values, cmp_int64);
    for (size_t k = 1; k < count; k++)
        if (values[k] == values[k - 1])
            jep_verdict_add(v, who, "duplicate: %lld listed twice",
                            (long long)values[k]);
    adds_of(by_key, n_known, l->key, &from, &to);
    for (size_t k = from; k < to; k++) {
        const struct add *ad = by_key[k];
        bool listed = bsearch(&ad->value, values, count, sizeof *values,
                              cmp_int64) != NULL;

        if (ad->rev <= l->rev && !listed && missing++ == 0)
            first_missing = ad;
        if (ad->rev > l->rev && ad->outcome == ACKED && invoked >= 0 &&
            ad->acked_ns < invoked)
            jep_verdict_add(v, who, "stale: %lld was acknowledged at "
                            "revision %lld (line %zu) before the list was "
                            "invoked, and the list is at revision %lld",
                            (long long)ad->value, (long long)ad->rev,
                            ad->line, (long long)l->rev);
    }
    if (missing > 0)
        jep_verdict_add(v, who, "not one snapshot: %zu objects added at or "
                        "before the list's revision %lld missing, the first "
                        "%lld (added at revision %lld, line %zu)", missing,
                        (long long)l->rev, (long long)first_missing->value,
                        (long long)first_missing->rev, first_missing->line);
}

int jep_check_list(const struct jep_history *h, struct jep_verdict *v,
                   struct err *e)
{
    struct add *a, **by_key = NULL;
    int64_t *values = NULL;
    size_t n = 0, n_known = 0;
    int rv = 0;

    memset(v, 0, sizeof *v);
    v->valid = true;
    for (size_t i = 0; i < h->len && rv == 0; i++)
        if (h->ev[i].f == JEP_LIST && h->ev[i].type == JEP_OK &&
            h->ev[i].value != JEP_NIL)
            rv = items_follow(h, i, e);
    if (rv != 0)
        return rv;
    if ((a = collect_adds(h, &n)) == NULL ||
        (by_key = mem_malloc((n + 1) * sizeof *by_key)) == NULL ||
        (values = mem_malloc((h->len + 1) * sizeof *values)) == NULL) {
        rv = err_setf(e, -ENOMEM, "out of memory");
        goto out;
    }
    learn_revisions(h, a, n, v);
    for (size_t i = 0; i < n; i++)
        if (a[i].rev > 0)
            by_key[n_known++] = &a[i];
    qsort(by_key, n_known, sizeof *by_key, by_key_rev);
    for (size_t i = 0; i < h->len; i++) {
        const struct jep_event *l = &h->ev[i];

        if (l->f != JEP_LIST || l->type != JEP_OK || l->value == JEP_NIL)
            continue;
        v->keys++;
        v->ops += (size_t)l->value;
        check_one(h, i, by_key, n_known, values, v);
    }
out:
    mem_free(values);
    mem_free(by_key);
    mem_free(a);
    return rv;
}
