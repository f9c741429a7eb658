/* Watch and monotonic checks (order.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jepsen/order.h"
#include "lib/mem.h"

/* A revision and where it was seen. */
struct seen {
    int64_t rev;
    int process;
    const char *key;
    size_t line;
    enum jep_f f;
};

static int by_rev(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;

    if (x->rev != y->rev)
        return x->rev < y->rev ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int by_process_then_line(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;

    if (x->process != y->process)
        return x->process < y->process ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int by_process_key_line(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;
    int c;

    if (x->process != y->process)
        return x->process < y->process ? -1 : 1;
    if ((c = strcmp(x->key, y->key)) != 0)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static bool is_event(const struct jep_event *ev)
{
    return ev->f == JEP_EVENT;
}

static bool has_rev(const struct jep_event *ev)
{
    return ev->type == JEP_OK && ev->rev > 0;
}

/* Every revision the history knows, sorted, one entry per revision; a
 * revision named with two keys is an anomaly. */
static int known_revisions(const struct jep_history *h, struct jep_verdict *v,
                           struct seen **ret, size_t *ret_n)
{
    struct seen *all = mem_malloc((h->len + 1) * sizeof *all);
    size_t n = 0, u = 0;

    if (all == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < h->len; i++) {
        const struct jep_event *ev = &h->ev[i];

        if (is_event(ev))
            all[n++] = (struct seen){ev->value, ev->process, ev->key,
                                     ev->line, ev->f};
        /* A read's revision is its key's last change (the only proof of a
         * write whose outcome was unknown); a list's is the store's, which
         * may be a change of any key. */
        else if (has_rev(ev) && ev->f != JEP_LIST && ev->f != JEP_ITEM)
            all[n++] = (struct seen){ev->rev, ev->process, ev->key, ev->line,
                                     ev->f};
    }
    qsort(all, n, sizeof *all, by_rev);
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && all[u - 1].rev == all[i].rev) {
            if (strcmp(all[u - 1].key, all[i].key) != 0)
                jep_verdict_add(v, all[i].key, "revision %lld is a change of %s at "
                        "line %zu and of %s at line %zu",
                        (long long)all[i].rev, all[u - 1].key,
                        all[u - 1].line, all[i].key, all[i].line);
            continue;
        }
        all[u++] = all[i];
    }
    *ret = all;
    *ret_n = u;
    return 0;
}

/* One watcher's events (@w, @n, in the order delivered; a watch line first
 * if it logged where it started) against every known revision (@k, @nk,
 * sorted). Before the first event or watch line nothing is due. */
static void check_watcher(const struct seen *w, size_t n, const struct seen *k,
                          size_t nk, struct jep_verdict *v)
{
    char who[JEP_KEY_MAX];
    int64_t top = 0;
    size_t top_line = 0, j = 0;
    bool due = false; /* revisions after top must all come */

    (void)snprintf(who, sizeof who, "watcher %d", w[0].process);
    for (size_t i = 0; i < n; i++) {
        if (w[i].f == JEP_WATCH) {
            if (due)
                jep_verdict_add(v, who, "a second start (line %zu): a "
                                "watcher that lists again takes a new "
                                "process", w[i].line);
            top = w[i].rev;
            top_line = w[i].line;
            due = true;
            continue;
        }
        if (w[i].rev == top) {
            jep_verdict_add(v, who, "duplicate: revision %lld delivered at lines %zu "
                    "and %zu", (long long)top, top_line, w[i].line);
            continue;
        }
        if (w[i].rev < top) {
            jep_verdict_add(v, who, "reordering: revision %lld (line %zu) after "
                    "revision %lld (line %zu)", (long long)w[i].rev,
                    w[i].line, (long long)top, top_line);
            continue;
        }
        /* Every known revision between the last one and this one. */
        while (j < nk && k[j].rev <= top)
            j++;
        for (; due && j < nk && k[j].rev < w[i].rev; j++)
            jep_verdict_add(v, who, "gap: revision %lld (%s, line %zu) never "
                    "delivered between revision %lld (line %zu) and %lld "
                    "(line %zu)", (long long)k[j].rev, k[j].key, k[j].line,
                    (long long)top, top_line, (long long)w[i].rev, w[i].line);
        top = w[i].rev;
        top_line = w[i].line;
        due = true;
    }
}

int jep_check_watch(const struct jep_history *h, struct jep_verdict *v,
                    struct err *e)
{
    struct seen *known = NULL, *w;
    size_t n_known = 0, n = 0;

    memset(v, 0, sizeof *v);
    v->valid = true;
    if (known_revisions(h, v, &known, &n_known) != 0)
        return err_setf(e, -ENOMEM, "out of memory");
    if ((w = mem_malloc((h->len + 1) * sizeof *w)) == NULL) {
        mem_free(known);
        return err_setf(e, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < h->len; i++)
        if (is_event(&h->ev[i]) || h->ev[i].f == JEP_WATCH) {
            w[n++] = (struct seen){h->ev[i].value, h->ev[i].process,
                                   h->ev[i].key, h->ev[i].line, h->ev[i].f};
            v->ops += is_event(&h->ev[i]);
        }
    qsort(w, n, sizeof *w, by_process_then_line);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && w[j].process == w[i].process; j++)
            ;
        v->keys++;
        check_watcher(w + i, j - i, known, n_known, v);
    }
    mem_free(w);
    mem_free(known);
    return 0;
}

/* A list's revision is the store's: it must be at least every revision the
 * process saw before, of any key (a write's or a read's revision is its
 * key's last change, at most the store's then). @s is sorted by process,
 * then line. */
static void check_lists_against_all(const struct seen *s, size_t n,
                                    struct jep_verdict *v)
{
    int64_t top = 0;
    size_t top_line = 0;

    for (size_t i = 0; i < n; i++) {
        char who[JEP_KEY_MAX];

        if (i == 0 || s[i].process != s[i - 1].process)
            top = 0;
        if (s[i].f == JEP_LIST && s[i].rev < top) {
            (void)snprintf(who, sizeof who, "process %d", s[i].process);
            jep_verdict_add(v, who, "a list at revision %lld (line %zu) after "
                            "revision %lld was seen (line %zu): the store "
                            "went back", (long long)s[i].rev, s[i].line,
                            (long long)top, top_line);
        }
        if (s[i].rev > top) {
            top = s[i].rev;
            top_line = s[i].line;
        }
    }
}

int jep_check_monotonic(const struct jep_history *h, struct jep_verdict *v,
                        struct err *e)
{
    struct seen *s;
    size_t n = 0;

    memset(v, 0, sizeof *v);
    v->valid = true;
    if ((s = mem_malloc((h->len + 1) * sizeof *s)) == NULL)
        return err_setf(e, -ENOMEM, "out of memory");
    for (size_t i = 0; i < h->len; i++)
        if (has_rev(&h->ev[i]) && !is_event(&h->ev[i]) &&
            h->ev[i].f != JEP_ITEM) /* items: what a list saw, in name order */
            s[n++] = (struct seen){h->ev[i].rev, h->ev[i].process,
                                   h->ev[i].key, h->ev[i].line, h->ev[i].f};
    qsort(s, n, sizeof *s, by_process_key_line);
    v->ops = n;
    for (size_t i = 0; i < n; i++) {
        char who[JEP_KEY_MAX];

        if (i == 0 || s[i].process != s[i - 1].process) {
            v->keys++;
            continue;
        }
        if (strcmp(s[i].key, s[i - 1].key) != 0 || s[i].rev >= s[i - 1].rev)
            continue;
        (void)snprintf(who, sizeof who, "process %d", s[i].process);
        jep_verdict_add(v, who, "revision of %s went backwards: %lld at line %zu "
                "after %lld at line %zu", s[i].key, (long long)s[i].rev,
                s[i].line, (long long)s[i - 1].rev, s[i - 1].line);
    }
    qsort(s, n, sizeof *s, by_process_then_line);
    check_lists_against_all(s, n, v);
    mem_free(s);
    return 0;
}
