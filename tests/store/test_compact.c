/* Store: compaction and the retention policy. */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "tests/lib/unit.h"
#include "tests/store/helpers.h"

TEST(compact, drops_history_and_old_reads)
{
    struct store *s = tstore_store(0);
    int code;
    char *v;

    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v1"), 0);  /* 1 */
    ASSERT_EQ(tstore_put(s, "pods", "", "a", "v2"), 0);     /* 2 */
    ASSERT_EQ(tstore_create(s, "pods", "", "b", "b1"), 0);  /* 3 */
    ASSERT_EQ(tstore_put(s, "pods", "", "a", "v3"), 0);     /* 4 */
    ASSERT_EQ(store_compact(s, 5), -C8S_EFUTUREREV);
    ASSERT_EQ(store_compact(s, 3), 0);
    ASSERT_EQ(store_compact_rev(s), 3);
    ASSERT_EQ(store_history_len(s), 1);
    ASSERT_EQ(store_compact(s, 2), 0);   /* below: no-op */
    ASSERT_EQ(store_compact_rev(s), 3);
    ASSERT(tstore_get(s, "pods", "", "a", 2, &code) == NULL);
    ASSERT_EQ(code, -C8S_ECOMPACTED);
    v = tstore_get(s, "pods", "", "a", 3, NULL);
    ASSERT_STR_EQ(v, "v2");
    free(v);
    v = tstore_get(s, "pods", "", "a", 4, NULL);
    ASSERT_STR_EQ(v, "v3");
    free(v);
    /* Versions older than what a read at >= 3 needs are gone. */
    ASSERT(s->db.index.rbh_root != NULL);
    struct store__key *k = store__index_find(&s->db, "pods", "", "a");
    ASSERT_EQ(k->newest->kv.mod_rev, 4);
    ASSERT_EQ(k->newest->older->kv.mod_rev, 2);
    ASSERT(k->newest->older->older == NULL);
}

TEST(compact, removes_deleted_keys)
{
    struct store *s = tstore_store(0);

    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v1"), 0);  /* 1 */
    ASSERT_EQ(tstore_delete(s, "pods", "", "a"), 0);        /* 2 */
    ASSERT_EQ(tstore_create(s, "pods", "", "b", "v1"), 0);  /* 3 */
    ASSERT_EQ(tstore_delete(s, "pods", "", "b"), 0);        /* 4 */
    ASSERT_EQ(tstore_create(s, "pods", "", "b", "v2"), 0);  /* 5 */
    ASSERT_EQ(s->db.n_keys, 2);
    ASSERT_EQ(store_compact(s, 1), 0);
    ASSERT_EQ(s->db.n_keys, 2);
    ASSERT_EQ(store_compact(s, 4), 0);
    /* a's newest is a compacted tombstone: gone. b was re-created. */
    ASSERT_EQ(s->db.n_keys, 1);
    ASSERT_EQ(store_key_count(s), 1);
    ASSERT_EQ(store_compact(s, 5), 0);
    ASSERT_EQ(tstore_delete(s, "pods", "", "b"), 0);
    ASSERT_EQ(store_compact(s, 6), 0);
    ASSERT_EQ(s->db.n_keys, 0);
    ASSERT_EQ(store_history_len(s), 0);
    ASSERT_EQ(tstore_create(s, "pods", "", "a", "again"), 0);
    ASSERT_EQ(store_key_count(s), 1);
}

static char *list_at(struct store *s, const char *res, store_rev rev)
{
    struct store_range q = {.resource = res, .rev = rev};
    struct store_list l;
    char *out;

    ASSERT_EQ(store_list(s, &q, &l), 0);
    out = tstore_list_str(&l);
    store_list_done(&l);
    return out;
}

/* A store compacted at random points answers every read at or above its
 * compact revision exactly like an uncompacted twin. */
TEST(compact, reads_above_compact_rev_are_unchanged)
{
    struct store *full = tstore_store(0);
    struct store *comp = tstore_store(0);
    static const char *res[] = {"pods", "nodes", "configmaps"};

    tstore_random_ops(full, 7, 1500, false);
    tstore_random_ops(comp, 7, 1500, true);
    ASSERT_EQ(store_current_rev(full), store_current_rev(comp));
    ASSERT(store_compact_rev(comp) > 0);
    for (store_rev r = store_compact_rev(comp); r <= store_current_rev(comp);
         r++)
        for (int i = 0; i < 3; i++) {
            char *a = list_at(full, res[i], r), *b = list_at(comp, res[i], r);

            ASSERT_STR_EQ(a, b);
            free(a);
            free(b);
        }
    ASSERT_EQ(store_history_len(comp),
              store_current_rev(comp) - store_compact_rev(comp));
}

/* A watcher opened from the compact revision sees exactly the history. */
TEST(compact, watch_from_compact_rev_replays_retained_history)
{
    struct store *s = tstore_store(0);
    struct store_watch_opts o = {.resource = NULL};
    struct store_watch *w;
    struct store_event ev;
    store_rev want;

    tstore_random_ops(s, 11, 500, true);
    o.after_rev = store_compact_rev(s);
    if (o.after_rev == 0)
        o.after_rev = 1;
    want = o.after_rev + 1;
    ASSERT_EQ(store_watch_open(s, &o, &w), 0);
    while (store_watch_next(w, &ev) == 0) {
        ASSERT_UEQ(ev.rev, want);
        if (ev.type == STORE_EV_MODIFY || ev.type == STORE_EV_DELETE)
            ASSERT(ev.prev != NULL && ev.prev->mod_rev < ev.rev);
        else
            ASSERT(ev.prev == NULL);
        want++;
        store_event_done(&ev);
    }
    ASSERT_UEQ(want, store_current_rev(s) + 1);
    store_watch_close(w);
}

static void put_at(struct store *s, int64_t t)
{
    struct store_op op = {STORE_OP_PUT, "pods", "", "a", "v", 1, NULL, 0};

    ASSERT_EQ(store_txn(s, &op, 1, t, NULL), 0);
}

TEST(compact, compaction_point_policy)
{
    struct store *s = tstore_store(0);

    ASSERT_EQ(store_compaction_point(s, 1000, 10, 100, 5), 0);
    for (int i = 1; i <= 10; i++)
        put_at(s, i * 100);   /* revs 1..10 at 100..1000 ms */
    /* Nothing is older than min_age: keep all. */
    ASSERT_EQ(store_compaction_point(s, 1000, 5000, 10000, 2), 0);
    /* Count bound: drop the oldest while more than 4 remain, but only
     * those older than 250 ms (events at <= 749 ms). */
    ASSERT_EQ(store_compaction_point(s, 1000, 250, 100000, 4), 6);
    ASSERT_EQ(store_compaction_point(s, 1000, 450, 100000, 4), 5);
    /* Age bound: within the count limit, still drop beyond max_age. */
    ASSERT_EQ(store_compaction_point(s, 1000, 100, 550, 100), 4);
    /* A clock that stepped back stops the scan at that event. */
    put_at(s, 50);   /* rev 11: old, but behind rev 10 which must stay */
    ASSERT_EQ(store_compaction_point(s, 1000, 50, 0, 0), 9);
    ASSERT_EQ(store_compact(s, 4), 0);
    ASSERT_EQ(store_compaction_point(s, 1000, 100, 550, 100), 4);
    ASSERT_EQ(store_compaction_point(s, INT64_MIN, 0, 0, 0), 4);
    ASSERT_EQ(store_compaction_point(s, INT64_MAX, 0, 0, 0), 11);
}

UNIT_MAIN()
