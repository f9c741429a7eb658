/* Compaction: forget history at and below a revision.
 *
 * After compacting to rev, a read at r >= rev finds, for each key, the
 * newest version <= r. So a key keeps every version above rev plus the
 * newest one at or below it; everything older is unreachable. Popping the
 * history entries <= rev in order enforces that with no scan of the index:
 * a popped version V cuts its own older link (a read at >= rev reaches V or
 * something newer first), and a popped tombstone that is still the newest
 * version removes its key. Watcher queues hold their own refs, so nothing
 * they hold is freed under them. */
#include "store/internal.h"

static void compact_one(struct store__db *db, struct store__ver *v)
{
    struct store__ver *older = v->older;

    v->older = NULL;
    store__ver_unref(older);
    if (store__is_tomb(v) && v->key->newest == v)
        store__index_remove(db, v->key);
}

int store_compact(struct store *s, store_rev rev)
{
    struct store__db *db = &s->db;

    if (rev > db->current_rev)
        return -C8S_EFUTUREREV;
    if (rev <= db->compact_rev)
        return 0;
    store__watch_pre_compact(s, rev);
    while (db->compact_rev < rev) {
        struct store__ver *v = store__hist_pop(db);

        db->compact_rev++;
        compact_one(db, v);
        store__ver_unref(v);
    }
    store__watch_notify(s);
    return 0;
}

/* Whether the oldest retained event may go under the policy. */
static bool droppable(const struct store__ver *v, size_t retained,
                      int64_t now_ms, int64_t min_age_ms, int64_t max_age_ms,
                      size_t max_events)
{
    int64_t age;

    /* Clocks come from proposers: saturate instead of overflowing. */
    if (__builtin_sub_overflow(now_ms, v->kv.time_ms, &age))
        age = now_ms > 0 ? INT64_MAX : INT64_MIN;
    if (age <= min_age_ms)
        return false;
    return retained > max_events || age > max_age_ms;
}

/* The scan stops at the first event that must stay: history is in revision
 * order, and a proposer's clock may step back, so later events are not
 * assumed older or newer. */
store_rev store_compaction_point(const struct store *s, int64_t now_ms,
                                 int64_t min_age_ms, int64_t max_age_ms,
                                 size_t max_events)
{
    const struct store__db *db = &s->db;
    store_rev rev = db->compact_rev;

    while (rev < db->current_rev) {
        const struct store__ver *v = store__hist_at(db, rev + 1);
        size_t retained = (size_t)(db->current_rev - rev);

        if (!droppable(v, retained, now_ms, min_age_ms, max_age_ms,
                       max_events))
            break;
        rev++;
    }
    return rev;
}
