/* Store: allocation failures leave the store consistent and leak nothing.
 *
 * Each test arms the allocator to fail after N successes, for N = 0, 1, ...
 * until the operation succeeds, and checks after every failure that the
 * store still holds exactly its previous state (same snapshot bytes). */
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "store/cmd.h"
#include "store/internal.h"
#include "tests/lib/unit.h"
#include "tests/store/helpers.h"

struct snap {
    void *buf;   /* Snapshot bytes. */
    size_t len;  /* Their length. */
};

static struct snap take(const struct store *s)
{
    struct snap sn;

    mem_fault_arm(-1, 0);
    sn.buf = tstore_snapshot(s, &sn.len);
    return sn;
}

static void assert_unchanged(const struct store *s, struct snap *before)
{
    struct snap now = take(s);

    ASSERT_EQ(now.len, before->len);
    ASSERT_MEM_EQ(now.buf, before->buf, now.len);
    free(now.buf);
}

static void populate(struct store *s)
{
    tstore_random_ops(s, 17, 100, true);
}

TEST(fault, txn)
{
    struct store *s = tstore_store(0);
    struct store_op ops[3] = {
        {STORE_OP_PUT, "pods", "ns", "k01", "new", 3, "f", 0},
        {STORE_OP_CREATE, "pods", "ns", "fresh", "v", 1, NULL, 0},
        {STORE_OP_PUT, "pods", "ns", "fresh", "w", 1, "g", 0},
    };
    struct store_watch_opts o = {.resource = "pods", .from_current = true};
    struct store_watch *w;
    struct snap before;
    int rv, delay;

    store_rev rev0;

    populate(s);
    ASSERT_EQ(store_watch_open(s, &o, &w), 0);
    before = take(s);
    rev0 = store_current_rev(s);
    for (delay = 0;; delay++) {
        struct store_op_result r[3];
        struct store_txn_result res = {.ops = r};

        mem_fault_arm(delay, -1);
        rv = store_txn(s, ops, 3, 5, &res);
        mem_fault_arm(-1, 0);
        if (rv == 0) {
            store_txn_result_done(&res, 3);
            break;
        }
        ASSERT_EQ(rv, -ENOMEM);
        store_txn_result_done(&res, 3);
        assert_unchanged(s, &before);
    }
    ASSERT(delay > 3);
    ASSERT_EQ(store_current_rev(s), rev0 + 3);
    free(before.buf);
    store_watch_close(w);
}

/* A failure while queueing for a watcher cannot undo a committed txn: the
 * watcher is closed with -C8S_ESLOW (it resumes) and the txn succeeds. */
TEST(fault, watch_delivery_closes_the_watcher)
{
    struct store *s = tstore_store(0);
    struct store_watch_opts o = {.resource = "pods"};
    struct store_watch *w;
    struct store_event ev;
    int closed = 0;

    for (int delay = 0; delay < 8; delay++) {
        unsigned long faults = mem_fault_count();
        int rv;

        ASSERT_EQ(store_watch_open(s, &o, &w), 0);
        mem_fault_arm(delay, 1);
        rv = tstore_put(s, "pods", "", "a", "v");
        mem_fault_arm(-1, 0);
        if (rv != 0) {
            ASSERT_EQ(rv, -ENOMEM);
            ASSERT_EQ(store_watch_next(w, &ev), -EAGAIN);
        } else if (mem_fault_count() != faults) {
            /* The injected failure hit the watcher's queue. */
            ASSERT_EQ(store_watch_next(w, &ev), -C8S_ESLOW);
            closed++;
        } else {
            ASSERT_EQ(store_watch_next(w, &ev), 0);
            store_event_done(&ev);
        }
        store_watch_close(w);
    }
    ASSERT(closed > 0);
}

TEST(fault, list)
{
    struct store *s = tstore_store(0);
    struct store_range q = {.resource = "pods"};
    struct store_list l;
    int rv, delay;

    for (int i = 0; i < 100; i++) {
        char name[16];

        snprintf(name, sizeof name, "p%d", i);
        ASSERT_EQ(tstore_create(s, "pods", "", name, "v"), 0);
    }
    for (delay = 0;; delay++) {
        mem_fault_arm(delay, -1);
        rv = store_list(s, &q, &l);
        mem_fault_arm(-1, 0);
        if (rv == 0)
            break;
        ASSERT_EQ(rv, -ENOMEM);
        ASSERT(l.items == NULL && l.len == 0);
    }
    ASSERT(delay > 0);
    ASSERT_EQ(l.len, 100);
    store_list_done(&l);
}

TEST(fault, watch_open_with_replay)
{
    struct store *s = tstore_store(0);
    struct store_watch_opts o = {.resource = "pods", .field = "f",
                                 .after_rev = 1};
    struct store_watch *w;
    struct store_event ev;
    int rv, delay, n = 0;

    for (int i = 0; i < 50; i++)
        ASSERT_EQ(tstore_op(s, STORE_OP_PUT, "pods", "", "a", "v", "f", 0), 0);
    for (delay = 0;; delay++) {
        mem_fault_arm(delay, -1);
        rv = store_watch_open(s, &o, &w);
        mem_fault_arm(-1, 0);
        if (rv == 0)
            break;
        ASSERT_EQ(rv, -ENOMEM);
        ASSERT_EQ(store_watcher_count(s), 0);
        ASSERT_EQ(s->hub.n_groups, 0);
    }
    ASSERT(delay >= 3);
    while (store_watch_next(w, &ev) == 0) {
        n++;
        store_event_done(&ev);
    }
    ASSERT_EQ(n, 49);
    store_watch_close(w);
}

TEST(fault, snapshot_and_restore)
{
    struct store *s = tstore_store(0);
    struct store *t = tstore_store(0);
    struct snap src, before;
    void *buf;
    size_t len;
    int rv, delay;

    populate(s);
    for (delay = 0;; delay++) {
        mem_fault_arm(delay, -1);
        rv = store_snapshot(s, &buf, &len);
        mem_fault_arm(-1, 0);
        if (rv == 0)
            break;
        ASSERT_EQ(rv, -ENOMEM);
    }
    ASSERT(delay > 3);
    mem_free(buf);
    src = take(s);
    ASSERT_EQ(tstore_create(t, "x", "", "y", "z"), 0);
    before = take(t);
    for (delay = 0;; delay++) {
        struct err e;

        mem_fault_arm(delay, -1);
        rv = store_restore(t, src.buf, src.len, &e);
        mem_fault_arm(-1, 0);
        if (rv == 0)
            break;
        ASSERT_EQ(rv, -ENOMEM);
        assert_unchanged(t, &before);
    }
    ASSERT(delay > 10);
    assert_unchanged(t, &src);
    free(src.buf);
    free(before.buf);
}

/* A failed view leaks nothing (LeakSanitizer checks at exit) and takes no
 * reference: afterwards every value of the store has its old refcount. */
TEST(fault, snapshot_view)
{
    struct store *s = tstore_store(0);
    struct store_snapview *v = NULL;
    const struct store_kv *kv;
    struct snap before;
    unsigned refs;
    int rv, delay;

    populate(s);
    ASSERT_EQ(tstore_put(s, "pods", "", "probe", "value"), 0);
    ASSERT_EQ(store_get(s, "pods", "", "probe", 0, &kv), 0);
    refs = kv->value->refs;
    before = take(s);
    for (delay = 0;; delay++) {
        mem_fault_arm(delay, -1);
        rv = store_snapshot_view(s, &v);
        mem_fault_arm(-1, 0);
        if (rv == 0)
            break;
        ASSERT_EQ(rv, -ENOMEM);
        ASSERT_EQ(kv->value->refs, refs);
        assert_unchanged(s, &before);
    }
    ASSERT(delay >= 3);
    ASSERT_EQ(kv->value->refs, refs + 1);
    ASSERT_EQ(v->len, before.len);
    store_snapview_free(v);
    ASSERT_EQ(kv->value->refs, refs);
    store_kv_unref(kv);
    free(before.buf);
}

TEST(fault, batch_encode_and_apply)
{
    struct store *s = tstore_store(0);
    struct store_op op = {STORE_OP_CREATE, "pods", "", "a", "v", 1, NULL, 0};
    struct store_batch b;
    struct store_batch_result r;
    struct snap before;
    void *buf;
    size_t len, keep;
    int rv, delay;

    ASSERT_EQ(store_batch_init(&b, 1, 2, 3), 0);
    for (int i = 0; i < 300; i++) {
        keep = b.len;
        mem_fault_arm(0, 1);
        rv = store_batch_add_txn(&b, &op, 1);
        mem_fault_arm(-1, 0);
        if (rv != 0) {
            ASSERT_EQ(rv, -ENOMEM);
            ASSERT_EQ(b.len, keep);
        }
        ASSERT_EQ(store_batch_add_txn(&b, &op, 1), 0);
    }
    size_t n_cmds = b.n_cmds;

    store_batch_take(&b, &buf, &len);
    before = take(s);
    for (delay = 0; delay < 3; delay++) {
        mem_fault_arm(delay, -1);
        rv = store_apply_batch(s, buf, len, &r);
        mem_fault_arm(-1, 0);
        ASSERT_EQ(rv, -ENOMEM);
        ASSERT_EQ(r.n_applied, 0);
        store_batch_result_done(&r);
        assert_unchanged(s, &before);
    }
    ASSERT_EQ(store_apply_batch(s, buf, len, &r), 0);
    ASSERT(n_cmds >= 300);
    ASSERT_EQ(r.n_applied, n_cmds);
    ASSERT_EQ(r.cmds[0].code, 0);
    ASSERT_EQ(r.cmds[1].code, -C8S_EEXISTS);
    store_batch_result_done(&r);
    mem_free(buf);
    free(before.buf);
}

UNIT_MAIN()
