/* The watch hub's group table: watchers grouped by their filter key. */
#include <string.h>

#include "lib/mem.h"
#include "store/internal.h"

#define HUB_MIN_BUCKETS 16

void store__hub_init(struct store__hub *h)
{
    memset(h, 0, sizeof *h);
    h->wild.kind = STORE__G_WILD;
    LIST_INIT(&h->wild.watchers);
    LIST_INIT(&h->all);
    TAILQ_INIT(&h->notify);
}

/* Watchers that outlive the store (never closed by their owner) are
 * detached so store_watch_close does not touch freed memory. */
void store__hub_done(struct store__hub *h)
{
    struct store_watch *w;

    while ((w = LIST_FIRST(&h->all)) != NULL) {
        LIST_REMOVE(w, alink);
        w->s = NULL;
    }
    mem_free(h->buckets);
    h->buckets = NULL;
    h->n_buckets = 0;
}

/* FNV-1a, 64 bits, over the kind and both strings with separators. */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL;
}

static uint64_t group_hash(enum store__group_kind kind, const char *a,
                           const char *b)
{
    uint64_t h = (0xcbf29ce484222325ULL ^ (uint64_t)kind) * 0x100000001b3ULL;

    h = fnv(h, a);
    return b != NULL ? fnv(h, b) : h;
}

static bool group_is(const struct store__group *g,
                     enum store__group_kind kind, const char *a,
                     const char *b, uint64_t hash)
{
    return g->hash == hash && g->kind == kind && strcmp(g->a, a) == 0 &&
           (b == NULL ? g->b == NULL : g->b != NULL && strcmp(g->b, b) == 0);
}

static struct store__group *lookup(struct store__hub *h,
                                   enum store__group_kind kind, const char *a,
                                   const char *b, uint64_t hash)
{
    struct store__group *g;

    if (h->n_buckets == 0)
        return NULL;
    for (g = h->buckets[hash & (h->n_buckets - 1)]; g != NULL; g = g->next)
        if (group_is(g, kind, a, b, hash))
            return g;
    return NULL;
}

/* Double the table; on failure keep the old one (still correct, slower). */
static int rehash(struct store__hub *h, size_t n)
{
    struct store__group **nb = mem_calloc(n, sizeof *nb);

    if (nb == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < h->n_buckets; i++) {
        struct store__group *g, *next;

        for (g = h->buckets[i]; g != NULL; g = next) {
            next = g->next;
            g->next = nb[g->hash & (n - 1)];
            nb[g->hash & (n - 1)] = g;
        }
    }
    mem_free(h->buckets);
    h->buckets = nb;
    h->n_buckets = n;
    return 0;
}

static struct store__group *group_new(enum store__group_kind kind,
                                      const char *a, const char *b,
                                      uint64_t hash)
{
    size_t la = strlen(a) + 1, lb = b != NULL ? strlen(b) + 1 : 0;
    struct store__group *g = mem_malloc(sizeof *g + la + lb);

    if (g == NULL)
        return NULL;
    memset(g, 0, sizeof *g);
    g->kind = kind;
    g->hash = hash;
    LIST_INIT(&g->watchers);
    g->a = memcpy((char *)(g + 1), a, la);
    if (b != NULL)
        g->b = memcpy((char *)(g + 1) + la, b, lb);
    return g;
}

struct store__group *store__hub_group(struct store__hub *h,
                                      enum store__group_kind kind,
                                      const char *a, const char *b,
                                      bool create)
{
    uint64_t hash;
    struct store__group *g;

    if (kind == STORE__G_WILD)
        return &h->wild;
    hash = group_hash(kind, a, b);
    g = lookup(h, kind, a, b, hash);
    if (g != NULL || !create)
        return g;
    if (h->n_buckets == 0 && rehash(h, HUB_MIN_BUCKETS) != 0)
        return NULL;
    g = group_new(kind, a, b, hash);
    if (g == NULL)
        return NULL;
    g->next = h->buckets[hash & (h->n_buckets - 1)];
    h->buckets[hash & (h->n_buckets - 1)] = g;
    if (++h->n_groups > h->n_buckets)
        (void)rehash(h, h->n_buckets * 2);
    return g;
}

void store__hub_group_put(struct store__hub *h, struct store__group *g)
{
    struct store__group **pp;

    if (g == &h->wild || !LIST_EMPTY(&g->watchers))
        return;
    pp = &h->buckets[g->hash & (h->n_buckets - 1)];
    while (*pp != g)
        pp = &(*pp)->next;
    *pp = g->next;
    h->n_groups--;
    mem_free(g);
}
