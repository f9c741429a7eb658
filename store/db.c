/* The replicated state: index, history ring and revisions. */
#include <string.h>

#include "lib/mem.h"
#include "store/internal.h"

void store__db_init(struct store__db *db)
{
    memset(db, 0, sizeof *db);
    RB_INIT(&db->index);
}

void store__db_done(struct store__db *db)
{
    struct store__key *k;

    while (db->hist_len > 0)
        store__ver_unref(store__hist_pop(db));
    while ((k = store__index_first(db)) != NULL)
        store__index_remove(db, k);
    mem_free(db->hist);
    store__db_init(db);
}

int store__hist_reserve(struct store__db *db, size_t n)
{
    size_t cap = db->hist_cap ? db->hist_cap : 64;
    struct store__ver **h;

    if (n > SIZE_MAX / 2 - db->hist_len)
        return -ENOMEM;
    if (db->hist_len + n <= db->hist_cap)
        return 0;
    while (cap < db->hist_len + n)
        cap *= 2;
    if (cap > SIZE_MAX / sizeof *h)
        return -ENOMEM;
    h = mem_malloc(cap * sizeof *h);
    if (h == NULL)
        return -ENOMEM;
    /* Unwrap the ring so the oldest entry lands in slot 0. */
    for (size_t i = 0; i < db->hist_len; i++)
        h[i] = db->hist[(db->hist_head + i) % db->hist_cap];
    mem_free(db->hist);
    db->hist = h;
    db->hist_head = 0;
    db->hist_cap = cap;
    return 0;
}

void store__hist_push(struct store__db *db, struct store__ver *v)
{
    db->hist[(db->hist_head + db->hist_len) % db->hist_cap] =
        store__ver_ref(v);
    db->hist_len++;
}

struct store__ver *store__hist_at(const struct store__db *db, store_rev rev)
{
    size_t i = (size_t)(rev - db->compact_rev - 1);

    return db->hist[(db->hist_head + i) % db->hist_cap];
}

struct store__ver *store__hist_pop(struct store__db *db)
{
    struct store__ver *v = db->hist[db->hist_head];

    db->hist[db->hist_head] = NULL;
    db->hist_head = (db->hist_head + 1) % db->hist_cap;
    db->hist_len--;
    return v;
}

bool store__valid_str(const char *s, bool may_be_empty)
{
    return s != NULL && (may_be_empty || s[0] != '\0');
}

int store__check_read_rev(const struct store__db *db, store_rev rev,
                          store_rev *eff)
{
    if (rev == 0)
        rev = db->current_rev;
    if (rev > db->current_rev)
        return -C8S_EFUTUREREV;
    if (rev < db->compact_rev)
        return -C8S_ECOMPACTED;
    *eff = rev;
    return 0;
}
