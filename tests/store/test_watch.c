/* Store: the watch hub. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "tests/lib/unit.h"
#include "tests/store/helpers.h"

static void close_watch(void *w)
{
    store_watch_close(w);
}

static struct store_watch *open_watch(struct store *s, const char *resource,
                                   const char *ns, const char *field,
                                   store_rev after, store_watch_cb cb,
                                   void *arg)
{
    struct store_watch_opts o = {resource, ns, field, after, cb, arg};
    struct store_watch *w;

    ASSERT_EQ(store_watch_open(s, &o, &w), 0);
    unit_defer(close_watch, w);
    return w;
}

/* Take every pending event as "TYPE rev name prev_rev" lines. */
static char *drain(struct store_watch *w)
{
    struct store_event ev;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    static const char *types[] = {"C", "M", "D", "P"};
    int rv;

    while ((rv = store_watch_next(w, &ev)) == 0) {
        fprintf(f, "%s%ju", types[ev.type], (uintmax_t)ev.rev);
        if (ev.kv != NULL)
            fprintf(f, ":%s", ev.kv->name);
        if (ev.prev != NULL)
            fprintf(f, "<%ju", (uintmax_t)ev.prev->mod_rev);
        fputc(' ', f);
        store_event_done(&ev);
    }
    fclose(f);
    ASSERT_EQ(rv, -EAGAIN);
    return buf;
}

static void expect_events(struct store_watch *w, const char *want)
{
    char *got = drain(w);

    ASSERT_STR_EQ(got, want);
    free(got);
}

TEST(watch, live_events_with_prev)
{
    struct store *s = tstore_store(0);
    struct store_watch *w = open_watch(s, "pods", NULL, NULL, 0, NULL, NULL);
    struct store_event ev;

    ASSERT_EQ(store_watcher_count(s), 1);
    ASSERT_EQ(tstore_create(s, "pods", "d", "a", "v1"), 0);
    ASSERT_EQ(tstore_put(s, "pods", "d", "a", "v2"), 0);
    ASSERT_EQ(tstore_create(s, "nodes", "", "n", "v"), 0);
    ASSERT_EQ(tstore_delete(s, "pods", "d", "a"), 0);
    ASSERT_EQ(store_watch_next(w, &ev), 0);
    ASSERT_EQ(ev.type, STORE_EV_CREATE);
    ASSERT(ev.prev == NULL);
    ASSERT_STR_EQ((const char *)ev.kv->value->data, "v1");
    store_event_done(&ev);
    ASSERT_EQ(store_watch_next(w, &ev), 0);
    ASSERT_EQ(ev.type, STORE_EV_MODIFY);
    ASSERT_STR_EQ((const char *)ev.prev->value->data, "v1");
    ASSERT_STR_EQ((const char *)ev.kv->value->data, "v2");
    store_event_done(&ev);
    ASSERT_EQ(store_watch_next(w, &ev), 0);
    ASSERT_EQ(ev.type, STORE_EV_DELETE);
    ASSERT_EQ(ev.rev, 4);
    ASSERT(ev.kv->value == NULL);
    ASSERT_STR_EQ((const char *)ev.prev->value->data, "v2");
    store_event_done(&ev);
    ASSERT_EQ(store_watch_next(w, &ev), -EAGAIN);
    ASSERT_EQ(store_watch_last_rev(w), 4);
}

TEST(watch, filters_resource_namespace_field_and_wildcard)
{
    struct store *s = tstore_store(0);
    struct store_watch *all = open_watch(s, NULL, NULL, NULL, 0, NULL, NULL);
    struct store_watch *ns = open_watch(s, "pods", "x", NULL, 0, NULL, NULL);
    struct store_watch *fa = open_watch(s, "pods", NULL, "A", 0, NULL, NULL);
    struct store_watch *fb = open_watch(s, "pods", NULL, "B", 0, NULL, NULL);
    struct store_watch *fbx = open_watch(s, "pods", "x", "B", 0, NULL, NULL);
    struct store_watch *any_ns = open_watch(s, NULL, "x", NULL, 0, NULL, NULL);

    ASSERT_EQ(tstore_op(s, STORE_OP_CREATE, "pods", "x", "p", "1", "A", 0), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_CREATE, "pods", "y", "q", "1", "B", 0), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_PUT, "pods", "x", "p", "2", "B", 0), 0);
    ASSERT_EQ(tstore_create(s, "cm", "x", "c", "1"), 0);
    ASSERT_EQ(tstore_delete(s, "pods", "x", "p"), 0);
    expect_events(all, "C1:p C2:q M3:p<1 C4:c D5:p<3 ");
    expect_events(ns, "C1:p M3:p<1 D5:p<3 ");
    /* A field watcher sees a change leaving its value (prev had it). */
    expect_events(fa, "C1:p M3:p<1 ");
    expect_events(fb, "C2:q M3:p<1 D5:p<3 ");
    expect_events(fbx, "M3:p<1 D5:p<3 ");
    expect_events(any_ns, "C1:p M3:p<1 C4:c D5:p<3 ");
}

TEST(watch, open_errors)
{
    struct store *s = tstore_store(0);
    struct store_watch_opts o = {.resource = "pods", .after_rev = 3};
    struct store_watch *w;

    ASSERT_EQ(store_watch_open(s, &o, &w), -C8S_EFUTUREREV);
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(tstore_put(s, "pods", "", "a", "v"), 0);
    ASSERT_EQ(store_compact(s, 4), 0);
    ASSERT_EQ(store_watch_open(s, &o, &w), -C8S_ETOOOLD);
    o.after_rev = 4;
    ASSERT_EQ(store_watch_open(s, &o, &w), 0);
    expect_events(w, "M5:a<4 ");
    store_watch_close(w);
    o.resource = "";
    ASSERT_EQ(store_watch_open(s, &o, &w), -EINVAL);
    ASSERT_EQ(store_watcher_count(s), 0);
}

/* History replay then live delivery: every event once, in order, even with
 * writes between reads and a replay longer than one refill. */
TEST(watch, replay_then_live_exactly_once)
{
    struct store *s = tstore_store(0);
    struct store_watch *w;
    struct store_event ev;
    store_rev want = 2;
    int rv;

    for (int i = 0; i < 3000; i++)
        ASSERT_EQ(tstore_put(s, "pods", "", i % 2 ? "a" : "b", "v"), 0);
    ASSERT_EQ(tstore_put(s, "other", "", "x", "v"), 0);
    w = open_watch(s, "pods", NULL, NULL, 1, NULL, NULL);
    ASSERT(w->replaying);
    ASSERT(w->q.len <= 1024);
    for (int i = 0; i < 200000 && want <= 4000; i++) {
        rv = store_watch_next(w, &ev);
        if (i % 7 == 0 && store_current_rev(s) < 4000)
            ASSERT_EQ(tstore_put(s, "pods", "", "c", "v"), 0);
        if (rv == -EAGAIN)
            continue;
        ASSERT_EQ(rv, 0);
        if (want == 3001)
            want++;    /* "other" is filtered out. */
        ASSERT_UEQ(ev.rev, want);
        want++;
        store_event_done(&ev);
    }
    ASSERT_UEQ(want, 4001);
    ASSERT(!w->replaying);
    ASSERT_EQ(store_watch_next(w, &ev), -EAGAIN);
}

static int calls;

static void count_cb(struct store_watch *w, void *arg)
{
    (void)w;
    (void)arg;
    calls++;
}

TEST(watch, callback_on_empty_to_nonempty)
{
    struct store *s = tstore_store(0);
    struct store_watch *w = open_watch(s, "pods", NULL, NULL, 0, count_cb, NULL);
    struct store_op ops[2] = {
        {STORE_OP_CREATE, "pods", "", "a", "1", 1, NULL, 0},
        {STORE_OP_CREATE, "pods", "", "b", "1", 1, NULL, 0},
    };

    calls = 0;
    ASSERT_EQ(store_txn(s, ops, 2, 0, NULL), 0);
    ASSERT_EQ(calls, 1);
    ASSERT_EQ(tstore_put(s, "pods", "", "a", "2"), 0);
    ASSERT_EQ(calls, 1);
    expect_events(w, "C1:a C2:b M3:a<1 ");
    ASSERT_EQ(tstore_put(s, "pods", "", "a", "3"), 0);
    ASSERT_EQ(calls, 2);
}

TEST(watch, progress_coalesces)
{
    struct store *s = tstore_store(0);
    struct store_watch *w = open_watch(s, "pods", NULL, NULL, 0, NULL, NULL);
    struct store_watch *other = open_watch(s, "cm", NULL, NULL, 0, NULL, NULL);

    store_progress(s);
    expect_events(w, "P0 ");
    ASSERT_EQ(tstore_create(s, "pods", "", "a", "1"), 0);
    ASSERT_EQ(tstore_create(s, "nodes", "", "n", "1"), 0);
    store_progress(s);
    ASSERT_EQ(tstore_create(s, "nodes", "", "m", "1"), 0);
    store_progress(s);
    expect_events(w, "C1:a P3 ");
    ASSERT_EQ(store_watch_last_rev(w), 3);
    expect_events(other, "P3 ");  /* P0 was coalesced into P3. */
}

/* A watcher that never drains is closed with -C8S_ESLOW at its bound, while
 * a fast one keeps receiving everything; the slow one can resume. */
/* after_rev 0 means "from the first revision" (a client that listed an
 * empty store at revision 0 must not miss what came next); "from now" is
 * asked for explicitly. */
TEST(watch, after_rev_zero_replays_from_the_start_and_from_current_does_not)
{
    struct store *s = tstore_store(0);
    struct store_watch_opts all = {.resource = "pods"};
    struct store_watch_opts now = {.resource = "pods", .from_current = true};
    struct store_watch *w0, *wn;
    struct store_event ev;

    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v"), 0);
    ASSERT_EQ(tstore_create(s, "pods", "", "b", "v"), 0);
    ASSERT_EQ(store_watch_open(s, &all, &w0), 0);
    ASSERT_EQ(store_watch_open(s, &now, &wn), 0);
    ASSERT_EQ(store_watch_next(w0, &ev), 0);
    ASSERT_UEQ(ev.rev, 1);
    store_event_done(&ev);
    ASSERT_EQ(store_watch_next(wn, &ev), -EAGAIN);
    ASSERT_EQ(tstore_create(s, "pods", "", "c", "v"), 0);
    ASSERT_EQ(store_watch_next(wn, &ev), 0);
    ASSERT_UEQ(ev.rev, 3);
    store_event_done(&ev);
    store_watch_close(w0);
    store_watch_close(wn);
    ASSERT_EQ(store_compact(s, 2), 0);
    ASSERT_EQ(store_watch_open(s, &all, &w0), -C8S_ETOOOLD);
}

TEST(watch, slow_watcher_is_closed_fast_one_continues)
{
    struct store *s = tstore_store(10);
    struct store_watch *slow, *fast, *again;
    struct store_event ev;
    int got = 0;

    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v"), 0);
    slow = open_watch(s, "pods", NULL, NULL, 1, count_cb, NULL);
    fast = open_watch(s, "pods", NULL, NULL, 1, NULL, NULL);
    calls = 0;
    for (int i = 0; i < 100; i++) {
        ASSERT_EQ(tstore_put(s, "pods", "", "a", "v"), 0);
        while (store_watch_next(fast, &ev) == 0) {
            ASSERT_UEQ(ev.rev, (store_rev)got + 2);
            got++;
            store_event_done(&ev);
        }
        if (i == 9)
            ASSERT_EQ(slow->q.len, 10);
    }
    ASSERT_EQ(got, 100);
    /* Once when its queue got its first event, once when it was closed. */
    ASSERT_EQ(calls, 2);
    ASSERT_EQ(store_watch_next(slow, &ev), -C8S_ESLOW);
    ASSERT_EQ(store_watcher_count(s), 1);
    ASSERT_EQ(slow->q.len, 0);
    ASSERT_EQ(slow->q.cap, 0);
    ASSERT_EQ(store_watch_last_rev(slow), 1);
    again = open_watch(s, "pods", NULL, NULL, store_watch_last_rev(slow), NULL,
                    NULL);
    ASSERT_EQ(store_watch_next(again, &ev), 0);
    ASSERT_EQ(ev.rev, 2);
    store_event_done(&ev);
}

/* 5000 node agents each watch their own field value: one event visits only
 * the watchers of its old and new values. */
TEST(watch, field_fanout_costs_only_matching_watchers)
{
    struct store *s = tstore_store(0);
    struct store_watch **w = calloc(5000, sizeof *w);
    struct store_event ev;
    char node[32];
    uint64_t before;

    unit_defer(free, w);
    for (int i = 0; i < 5000; i++) {
        snprintf(node, sizeof node, "node-%d", i);
        struct store_watch_opts o = {"pods", NULL, node, 0, NULL, NULL};

        ASSERT_EQ(store_watch_open(s, &o, &w[i]), 0);
    }
    before = store__watch_visits(s);
    ASSERT_EQ(tstore_op(s, STORE_OP_CREATE, "pods", "d", "p", "1", "node-42", 0),
              0);
    ASSERT_EQ(store__watch_visits(s) - before, 1);
    before = store__watch_visits(s);
    ASSERT_EQ(tstore_op(s, STORE_OP_PUT, "pods", "d", "p", "2", "node-43", 0), 0);
    ASSERT_EQ(store__watch_visits(s) - before, 2);
    before = store__watch_visits(s);
    ASSERT_EQ(tstore_create(s, "nodes", "", "node-42", "x"), 0);
    ASSERT_EQ(store__watch_visits(s) - before, 0);
    for (int i = 0; i < 5000; i++) {
        int want = i == 42 ? 2 : i == 43 ? 1 : 0, n = 0;

        while (store_watch_next(w[i], &ev) == 0) {
            n++;
            store_event_done(&ev);
        }
        ASSERT_EQ(n, want);
        store_watch_close(w[i]);
    }
}

static void close_in_cb(struct store_watch *w, void *arg)
{
    (void)arg;
    calls++;
    store_watch_close(w);
}

TEST(watch, close_from_callback)
{
    struct store *s = tstore_store(0);
    struct store_watch_opts o = {.resource = "pods", .cb = close_in_cb};
    struct store_watch *w1, *w2;

    calls = 0;
    ASSERT_EQ(store_watch_open(s, &o, &w1), 0);
    ASSERT_EQ(store_watch_open(s, &o, &w2), 0);
    ASSERT_EQ(tstore_create(s, "pods", "", "a", "1"), 0);
    ASSERT_EQ(calls, 2);
    ASSERT_EQ(store_watcher_count(s), 0);
    ASSERT_EQ(tstore_create(s, "pods", "", "b", "1"), 0);
    ASSERT_EQ(calls, 2);
}

TEST(watch, store_free_shuts_watchers_down)
{
    struct store_limits lim = {0};
    struct store *s;
    struct store_watch_opts o = {.resource = "pods", .cb = count_cb};
    struct store_watch *w;
    struct store_event ev;

    ASSERT_EQ(store_new(&lim, &s), 0);
    ASSERT_EQ(store_watch_open(s, &o, &w), 0);
    ASSERT_EQ(tstore_create(s, "pods", "", "a", "1"), 0);
    calls = 0;
    store_free(s);
    ASSERT_EQ(calls, 1);
    ASSERT_EQ(store_watch_next(w, &ev), -C8S_ESHUTDOWN);
    store_watch_close(w);
}

/* Events already queued keep their objects when compaction drops them. */
TEST(watch, queued_events_survive_compaction)
{
    struct store *s = tstore_store(0);
    struct store_watch *w = open_watch(s, "pods", NULL, NULL, 0, NULL, NULL);
    struct store_event ev;

    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v1"), 0);
    ASSERT_EQ(tstore_put(s, "pods", "", "a", "v2"), 0);
    ASSERT_EQ(tstore_delete(s, "pods", "", "a"), 0);
    ASSERT_EQ(store_compact(s, 3), 0);
    ASSERT_EQ(s->db.n_keys, 0);
    ASSERT_EQ(store_watch_next(w, &ev), 0);
    ASSERT_STR_EQ((const char *)ev.kv->value->data, "v1");
    store_event_done(&ev);
    ASSERT_EQ(store_watch_next(w, &ev), 0);
    ASSERT_STR_EQ((const char *)ev.prev->value->data, "v1");
    ASSERT_STR_EQ((const char *)ev.kv->value->data, "v2");
    store_event_done(&ev);
    ASSERT_EQ(store_watch_next(w, &ev), 0);
    ASSERT_EQ(ev.type, STORE_EV_DELETE);
    ASSERT_STR_EQ(ev.kv->name, "a");
    ASSERT_STR_EQ((const char *)ev.prev->value->data, "v2");
    store_event_done(&ev);
}

/* Compaction while a watcher replays: the history it still needs moves to
 * its queue, so the replay stays complete. */
TEST(watch, compaction_during_replay_keeps_events)
{
    struct store *s = tstore_store(0);
    struct store_watch *w;
    struct store_event ev;
    store_rev want = 2;

    for (int i = 0; i < 3000; i++)
        ASSERT_EQ(tstore_put(s, "pods", "", "a", "v"), 0);
    w = open_watch(s, "pods", NULL, NULL, 1, NULL, NULL);
    ASSERT_EQ(w->q.len, 1024);
    ASSERT_EQ(store_compact(s, 2000), 0);
    ASSERT_EQ(w->q.len, 1999);
    ASSERT_EQ(tstore_put(s, "pods", "", "a", "v"), 0);
    while (store_watch_next(w, &ev) == 0) {
        ASSERT_UEQ(ev.rev, want);
        want++;
        store_event_done(&ev);
    }
    ASSERT_UEQ(want, 3002);
}

TEST(watch, compaction_during_replay_closes_a_full_watcher)
{
    struct store *s = tstore_store(50);
    struct store_watch *w;
    struct store_event ev;

    for (int i = 0; i < 200; i++)
        ASSERT_EQ(tstore_put(s, "pods", "", "a", "v"), 0);
    w = open_watch(s, "pods", NULL, NULL, 1, NULL, NULL);
    ASSERT_EQ(w->q.len, 50);
    ASSERT_EQ(store_compact(s, 150), 0);
    ASSERT_EQ(store_watch_next(w, &ev), -C8S_ESLOW);
    ASSERT_EQ(store_watcher_count(s), 0);
}

TEST(watch, restore_closes_watchers)
{
    struct store *s = tstore_store(0);
    struct store *t = tstore_store(0);
    struct store_watch *w = open_watch(t, "pods", NULL, NULL, 0, count_cb, NULL);
    struct store_event ev;
    size_t len;
    void *snap;

    ASSERT_EQ(tstore_create(s, "pods", "", "a", "1"), 0);
    snap = tstore_snapshot(s, &len);
    calls = 0;
    ASSERT_EQ(store_restore(t, snap, len, NULL), 0);
    free(snap);
    ASSERT_EQ(calls, 1);
    ASSERT_EQ(store_watch_next(w, &ev), -C8S_ESLOW);
    ASSERT_EQ(store_watcher_count(t), 0);
}

UNIT_MAIN()
