/* Reads: one key, or a page of a range, at one revision. */
#include <string.h>

#include "lib/mem.h"
#include "store/internal.h"

int store_get(struct store *s, const char *resource, const char *ns,
              const char *name, store_rev rev, const struct store_kv **ret)
{
    struct store__key *k;
    struct store__ver *v = NULL;
    int rv;

    if (!store__valid_str(resource, false) || !store__valid_str(name, false))
        return -EINVAL;
    rv = store__check_read_rev(&s->db, rev, &rev);
    if (rv != 0)
        return rv;
    k = store__index_find(&s->db, resource, ns != NULL ? ns : "", name);
    if (k != NULL)
        v = store__ver_at(k->newest, rev);
    if (v == NULL)
        return -C8S_ENOTFOUND;
    *ret = &store__ver_ref(v)->kv;
    return 0;
}

/* First key of the range: after the continue key, else the first of the
 * resource (or of its namespace). */
static struct store__key *range_start(struct store *s,
                                      const struct store_range *q)
{
    struct store__key *k;
    const char *ns = q->ns != NULL ? q->ns : "";

    if (q->after_name == NULL)
        return store__index_nfind(&s->db, q->resource, ns, "");
    k = store__index_nfind(&s->db, q->resource,
                           q->after_ns != NULL ? q->after_ns : "",
                           q->after_name);
    if (k != NULL && strcmp(k->resource, q->resource) == 0 &&
        strcmp(k->ns, q->after_ns != NULL ? q->after_ns : "") == 0 &&
        strcmp(k->name, q->after_name) == 0)
        k = store__index_next(k);
    /* A continue key in an earlier namespace than the filter. */
    if (q->ns != NULL && k != NULL && strcmp(k->resource, q->resource) == 0 &&
        strcmp(k->ns, q->ns) < 0)
        k = store__index_nfind(&s->db, q->resource, q->ns, "");
    return k;
}

/* Whether @k is still inside the range (keys are sorted, so the first one
 * outside ends the scan). */
static bool in_range(const struct store__key *k, const struct store_range *q)
{
    return k != NULL && strcmp(k->resource, q->resource) == 0 &&
           (q->ns == NULL || strcmp(k->ns, q->ns) == 0);
}

/* The version of @k the list shows, or NULL if it is filtered out. */
static struct store__ver *visible(struct store__key *k,
                                  const struct store_range *q, store_rev rev)
{
    struct store__ver *v = store__ver_at(k->newest, rev);

    if (v == NULL || q->field == NULL)
        return v;
    if (v->kv.field == NULL || strcmp(v->kv.field, q->field) != 0)
        return NULL;
    return v;
}

static int list_push(struct store_list *l, struct store__ver *v)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        const struct store_kv **items;

        if (cap > SIZE_MAX / sizeof *items)
            return -ENOMEM;
        items = mem_realloc(l->items, cap * sizeof *items);
        if (items == NULL)
            return -ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = &store__ver_ref(v)->kv;
    return 0;
}

static int collect(struct store *s, const struct store_range *q,
                   store_rev rev, struct store_list *l)
{
    struct store__key *k;

    l->remaining_exact = true;
    for (k = range_start(s, q); in_range(k, q); k = store__index_next(k)) {
        struct store__ver *v = visible(k, q, rev);

        if (v == NULL)
            continue;
        if (q->limit == 0 || l->len < q->limit) {
            if (list_push(l, v) != 0)
                return -ENOMEM;
            continue;
        }
        /* Counting the whole rest made a paged read of N keys cost N^2:
         * 1.5M ConfigMaps took over 5 minutes to read in pages of 500. */
        l->more = true;
        if (!q->count || l->remaining == STORE_COUNT_MAX) {
            l->remaining_exact = false;
            break;
        }
        l->remaining++;
    }
    return 0;
}

int store_list(struct store *s, const struct store_range *q,
               struct store_list *ret)
{
    store_rev rev;
    int rv;

    memset(ret, 0, sizeof *ret);
    if (!store__valid_str(q->resource, false) ||
        (q->after_name != NULL && q->after_name[0] == '\0'))
        return -EINVAL;
    rv = store__check_read_rev(&s->db, q->rev, &rev);
    if (rv != 0)
        return rv;
    ret->rev = rev;
    rv = collect(s, q, rev, ret);
    if (rv != 0)
        store_list_done(ret);
    return rv;
}

void store_list_done(struct store_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->len; i++)
        (void)store_kv_unref(l->items[i]);
    mem_free(l->items);
    memset(l, 0, sizeof *l);
}
