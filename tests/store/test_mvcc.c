/* Store: transactions, preconditions, revisions and reads. */
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "store/internal.h"
#include "tests/lib/unit.h"
#include "tests/store/helpers.h"

TEST(mvcc, create_then_get)
{
    struct store *s = tstore_store(0);
    struct store_op op = {STORE_OP_CREATE, "pods", "default", "a", "v1", 2,
                          "node-1", 0};
    struct store_op_result r[1];
    struct store_txn_result res = {.ops = r};
    const struct store_kv *kv;

    ASSERT_EQ(store_current_rev(s), 0);
    ASSERT_EQ(store_txn(s, &op, 1, 1234, &res), 0);
    ASSERT_EQ(res.rev, 1);
    ASSERT(r[0].prev == NULL);
    ASSERT_EQ(r[0].kv->mod_rev, 1);
    store_txn_result_done(&res, 1);
    ASSERT_EQ(store_get(s, "pods", "default", "a", 0, &kv), 0);
    ASSERT_STR_EQ(kv->resource, "pods");
    ASSERT_STR_EQ(kv->ns, "default");
    ASSERT_STR_EQ(kv->name, "a");
    ASSERT_STR_EQ(kv->field, "node-1");
    ASSERT_STR_EQ((const char *)kv->value->data, "v1");
    ASSERT_EQ(kv->create_rev, 1);
    ASSERT_EQ(kv->mod_rev, 1);
    ASSERT_EQ(kv->version, 1);
    ASSERT_EQ(kv->time_ms, 1234);
    store_kv_unref(kv);
    ASSERT_EQ(store_key_count(s), 1);
    ASSERT_EQ(store_history_len(s), 1);
}

TEST(mvcc, create_existing_is_eexists)
{
    struct store *s = tstore_store(0);
    struct store_op op = {STORE_OP_CREATE, "pods", "ns", "a", "v2", 2, NULL,
                          0};
    struct store_op_result r[1];
    struct store_txn_result res = {.ops = r};

    ASSERT_EQ(tstore_create(s, "pods", "ns", "a", "v1"), 0);
    ASSERT_EQ(store_txn(s, &op, 1, 0, &res), -C8S_EEXISTS);
    ASSERT_EQ(res.code, -C8S_EEXISTS);
    ASSERT_EQ(res.failed_op, 0);
    ASSERT_EQ(res.rev, 1);
    ASSERT(r[0].kv == NULL);
    ASSERT_STR_EQ((const char *)r[0].prev->value->data, "v1");
    store_txn_result_done(&res, 1);
    ASSERT_EQ(store_current_rev(s), 1);
}

TEST(mvcc, update_preconditions)
{
    struct store *s = tstore_store(0);
    const struct store_kv *kv;
    char *v;

    ASSERT_EQ(tstore_op(s, STORE_OP_UPDATE, "pods", "", "a", "x", NULL, 0),
              -C8S_ENOTFOUND);
    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v1"), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_UPDATE, "pods", "", "a", "x", NULL, 7),
              -C8S_ECONFLICT);
    ASSERT_EQ(store_current_rev(s), 1);
    ASSERT_EQ(tstore_op(s, STORE_OP_UPDATE, "pods", "", "a", "v2", NULL, 1), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_UPDATE, "pods", "", "a", "v3", NULL, 0), 0);
    ASSERT_EQ(store_get(s, "pods", NULL, "a", 0, &kv), 0);
    ASSERT_EQ(kv->create_rev, 1);
    ASSERT_EQ(kv->mod_rev, 3);
    ASSERT_EQ(kv->version, 3);
    store_kv_unref(kv);
    v = tstore_get(s, "pods", "", "a", 2, NULL);
    ASSERT_STR_EQ(v, "v2");
    free(v);
}

TEST(mvcc, put_creates_or_updates)
{
    struct store *s = tstore_store(0);
    const struct store_kv *kv;

    ASSERT_EQ(tstore_op(s, STORE_OP_PUT, "cm", "", "a", "x", NULL, 5),
              -C8S_ENOTFOUND);
    ASSERT_EQ(tstore_put(s, "cm", "", "a", "v1"), 0);
    ASSERT_EQ(tstore_put(s, "cm", "", "a", "v2"), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_PUT, "cm", "", "a", "v3", NULL, 1),
              -C8S_ECONFLICT);
    ASSERT_EQ(tstore_op(s, STORE_OP_PUT, "cm", "", "a", "v3", NULL, 2), 0);
    ASSERT_EQ(store_get(s, "cm", "", "a", 0, &kv), 0);
    ASSERT_EQ(kv->version, 3);
    ASSERT_EQ(kv->create_rev, 1);
    store_kv_unref(kv);
}

TEST(mvcc, delete_preconditions_and_recreate)
{
    struct store *s = tstore_store(0);
    struct store_op op = {STORE_OP_DELETE, "pods", "", "a", NULL, 0, NULL, 0};
    struct store_op_result r[1];
    struct store_txn_result res = {.ops = r};
    const struct store_kv *kv;
    int code;

    ASSERT_EQ(tstore_delete(s, "pods", "", "a"), -C8S_ENOTFOUND);
    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v1"), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_DELETE, "pods", "", "a", NULL, NULL, 9),
              -C8S_ECONFLICT);
    ASSERT_EQ(store_txn(s, &op, 1, 5, &res), 0);
    ASSERT(r[0].kv->value == NULL);
    ASSERT_EQ(r[0].kv->mod_rev, 2);
    ASSERT_STR_EQ((const char *)r[0].prev->value->data, "v1");
    store_txn_result_done(&res, 1);
    ASSERT(tstore_get(s, "pods", "", "a", 0, &code) == NULL);
    ASSERT_EQ(code, -C8S_ENOTFOUND);
    ASSERT_EQ(store_key_count(s), 0);
    ASSERT_EQ(tstore_delete(s, "pods", "", "a"), -C8S_ENOTFOUND);
    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v2"), 0);
    ASSERT_EQ(store_get(s, "pods", "", "a", 0, &kv), 0);
    ASSERT_EQ(kv->create_rev, 3);
    ASSERT_EQ(kv->version, 1);
    store_kv_unref(kv);
    ASSERT_EQ(store_key_count(s), 1);
}

TEST(mvcc, check_op)
{
    struct store *s = tstore_store(0);

    ASSERT_EQ(tstore_op(s, STORE_OP_CHECK, "pods", "", "a", NULL, NULL, 0), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_CHECK, "pods", "", "a", NULL, NULL, 1),
              -C8S_ENOTFOUND);
    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v"), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_CHECK, "pods", "", "a", NULL, NULL, 0),
              -C8S_EEXISTS);
    ASSERT_EQ(tstore_op(s, STORE_OP_CHECK, "pods", "", "a", NULL, NULL, 2),
              -C8S_ECONFLICT);
    ASSERT_EQ(tstore_op(s, STORE_OP_CHECK, "pods", "", "a", NULL, NULL, 1), 0);
    ASSERT_EQ(store_current_rev(s), 1);
    ASSERT_EQ(store_history_len(s), 1);
}

TEST(mvcc, multi_op_txn_is_all_or_nothing)
{
    struct store *s = tstore_store(0);
    struct store_op ops[3] = {
        {STORE_OP_CREATE, "pods", "", "a", "1", 1, NULL, 0},
        {STORE_OP_CREATE, "pods", "", "b", "2", 1, NULL, 0},
        {STORE_OP_UPDATE, "pods", "", "c", "3", 1, NULL, 0},
    };
    struct store_op_result r[3];
    struct store_txn_result res = {.ops = r};

    ASSERT_EQ(store_txn(s, ops, 3, 0, &res), -C8S_ENOTFOUND);
    ASSERT_EQ(res.failed_op, 2);
    ASSERT(r[0].kv == NULL && r[1].kv == NULL && r[2].kv == NULL);
    store_txn_result_done(&res, 3);
    ASSERT_EQ(store_current_rev(s), 0);
    ASSERT_EQ(store_key_count(s), 0);
    ASSERT_EQ(store_history_len(s), 0);
    ASSERT_EQ(s->db.n_keys, 0);
    ops[2].type = STORE_OP_CREATE;
    ASSERT_EQ(store_txn(s, ops, 3, 0, &res), 0);
    ASSERT_EQ(res.rev, 3);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(r[i].kv->mod_rev, (store_rev)i + 1);
    store_txn_result_done(&res, 3);
    ASSERT_EQ(store_key_count(s), 3);
}

TEST(mvcc, txn_sees_its_own_earlier_ops)
{
    struct store *s = tstore_store(0);
    struct store_op ops[4] = {
        {STORE_OP_CREATE, "pods", "", "a", "1", 1, NULL, 0},
        {STORE_OP_UPDATE, "pods", "", "a", "2", 1, NULL, 1},
        {STORE_OP_DELETE, "pods", "", "a", NULL, 0, NULL, 2},
        {STORE_OP_CHECK, "pods", "", "a", NULL, 0, NULL, 0},
    };
    struct store_op_result r[4];
    struct store_txn_result res = {.ops = r};
    char *v;

    ASSERT_EQ(store_txn(s, ops, 4, 0, &res), 0);
    ASSERT_EQ(r[1].kv->version, 2);
    ASSERT_EQ(r[1].prev->mod_rev, 1);
    ASSERT_EQ(r[2].prev->mod_rev, 2);
    ASSERT(r[3].kv == NULL && r[3].prev == NULL);
    store_txn_result_done(&res, 4);
    ASSERT_EQ(store_current_rev(s), 3);
    v = tstore_get(s, "pods", "", "a", 2, NULL);
    ASSERT_STR_EQ(v, "2");
    free(v);
    ASSERT_EQ(store_key_count(s), 0);
}

TEST(mvcc, invalid_ops_are_einval)
{
    struct store *s = tstore_store(0);
    struct store_op ops[2] = {
        {STORE_OP_CREATE, "pods", "", "a", "1", 1, NULL, 0},
        {STORE_OP_CREATE, "pods", "", "", "1", 1, NULL, 0},
    };
    struct store_txn_result res = {0};

    ASSERT_EQ(store_txn(s, ops, 2, 0, &res), -EINVAL);
    ASSERT_EQ(res.failed_op, 1);
    ops[1].name = "b";
    ops[1].resource = NULL;
    ASSERT_EQ(store_txn(s, ops, 2, 0, NULL), -EINVAL);
    ops[1].resource = "pods";
    ops[1].value = NULL;
    ASSERT_EQ(store_txn(s, ops, 2, 0, NULL), -EINVAL);
    ops[1].type = (enum store_op_type)42;
    ASSERT_EQ(store_txn(s, ops, 2, 0, NULL), -EINVAL);
    ASSERT_EQ(store_current_rev(s), 0);
    ASSERT_EQ(store_txn(s, ops, 0, 0, &res), 0);
    ASSERT_EQ(res.rev, 0);
}

TEST(mvcc, empty_value_is_not_a_tombstone)
{
    struct store *s = tstore_store(0);
    struct store_op op = {STORE_OP_CREATE, "cm", "", "a", NULL, 0, NULL, 0};
    const struct store_kv *kv;

    ASSERT_EQ(store_txn(s, &op, 1, 0, NULL), 0);
    ASSERT_EQ(store_get(s, "cm", "", "a", 0, &kv), 0);
    ASSERT(kv->value != NULL);
    ASSERT_EQ(kv->value->len, 0);
    store_kv_unref(kv);
}

TEST(mvcc, reads_at_old_revisions)
{
    struct store *s = tstore_store(0);
    int code;
    char *v;

    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v1"), 0);   /* rev 1 */
    ASSERT_EQ(tstore_put(s, "pods", "", "a", "v2"), 0);      /* rev 2 */
    ASSERT_EQ(tstore_delete(s, "pods", "", "a"), 0);         /* rev 3 */
    ASSERT_EQ(tstore_create(s, "pods", "", "a", "v4"), 0);   /* rev 4 */
    const char *want[] = {NULL, "v1", "v2", NULL, "v4"};
    for (store_rev r = 1; r <= 4; r++) {
        v = tstore_get(s, "pods", "", "a", r, &code);
        if (want[r] == NULL) {
            ASSERT(v == NULL);
            ASSERT_EQ(code, -C8S_ENOTFOUND);
        } else {
            ASSERT_STR_EQ(v, want[r]);
        }
        free(v);
    }
    ASSERT(tstore_get(s, "pods", "", "a", 5, &code) == NULL);
    ASSERT_EQ(code, -C8S_EFUTUREREV);
    ASSERT_EQ(store_compact(s, 2), 0);
    ASSERT(tstore_get(s, "pods", "", "a", 1, &code) == NULL);
    ASSERT_EQ(code, -C8S_ECOMPACTED);
    v = tstore_get(s, "pods", "", "a", 2, NULL);
    ASSERT_STR_EQ(v, "v2");
    free(v);
}

TEST(mvcc, kv_outlives_store)
{
    struct store_limits lim = {0};
    struct store *s;
    const struct store_kv *kv;

    ASSERT_EQ(store_new(&lim, &s), 0);
    ASSERT_EQ(tstore_create(s, "pods", "x", "a", "v1"), 0);
    ASSERT_EQ(store_get(s, "pods", "x", "a", 0, &kv), 0);
    store_free(s);
    ASSERT_STR_EQ(kv->name, "a");
    ASSERT_STR_EQ((const char *)kv->value->data, "v1");
    store_kv_unref(kv);
    ASSERT(store_kv_unref(NULL) == NULL);
}

/* ---- lists ---------------------------------------------------------------*/

static void seed_keys(struct store *s)
{
    ASSERT_EQ(tstore_create(s, "pods", "b", "p2", "x"), 0);
    ASSERT_EQ(tstore_create(s, "pods", "a", "p1", "x"), 0);
    ASSERT_EQ(tstore_create(s, "pods", "a", "p0", "x"), 0);
    ASSERT_EQ(tstore_create(s, "pods", "", "cluster", "x"), 0);
    ASSERT_EQ(tstore_create(s, "podsx", "a", "z", "x"), 0);
    ASSERT_EQ(tstore_create(s, "nodes", "", "n1", "x"), 0);
}

static char *list_names(struct store *s, const struct store_range *q)
{
    struct store_list l;
    char *out;

    ASSERT_EQ(store_list(s, q, &l), 0);
    out = tstore_list_str(&l);
    store_list_done(&l);
    return out;
}

TEST(mvcc, list_orders_by_namespace_then_name)
{
    struct store *s = tstore_store(0);
    struct store_range q = {.resource = "pods"};
    char *out;

    seed_keys(s);
    out = list_names(s, &q);
    ASSERT_STR_EQ(out, "/cluster=x@4\na/p0=x@3\na/p1=x@2\nb/p2=x@1\n");
    free(out);
    q.ns = "a";
    out = list_names(s, &q);
    ASSERT_STR_EQ(out, "a/p0=x@3\na/p1=x@2\n");
    free(out);
    q.ns = "";
    out = list_names(s, &q);
    ASSERT_STR_EQ(out, "/cluster=x@4\n");
    free(out);
    q.resource = "nodes";
    q.ns = NULL;
    out = list_names(s, &q);
    ASSERT_STR_EQ(out, "/n1=x@6\n");
    free(out);
}

TEST(mvcc, list_errors)
{
    struct store *s = tstore_store(0);
    struct store_range q = {.resource = "pods", .rev = 3};
    struct store_list l;

    seed_keys(s);
    ASSERT_EQ(store_list(s, &q, &l), 0);
    ASSERT_EQ(l.rev, 3);
    ASSERT_EQ(l.len, 3);
    store_list_done(&l);
    q.rev = 7;
    ASSERT_EQ(store_list(s, &q, &l), -C8S_EFUTUREREV);
    ASSERT_EQ(store_compact(s, 4), 0);
    q.rev = 3;
    ASSERT_EQ(store_list(s, &q, &l), -C8S_ECOMPACTED);
    q.resource = "";
    q.rev = 0;
    ASSERT_EQ(store_list(s, &q, &l), -EINVAL);
}

TEST(mvcc, list_field_filter_at_old_revision)
{
    struct store *s = tstore_store(0);
    struct store_range q = {.resource = "pods", .field = "n1"};
    char *out;

    ASSERT_EQ(tstore_op(s, STORE_OP_CREATE, "pods", "d", "a", "1", "n1", 0), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_CREATE, "pods", "d", "b", "1", "n2", 0), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_CREATE, "pods", "d", "c", "1", NULL, 0), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_PUT, "pods", "d", "b", "2", "n1", 0), 0);
    ASSERT_EQ(tstore_op(s, STORE_OP_PUT, "pods", "d", "a", "2", "n2", 0), 0);
    out = list_names(s, &q);
    ASSERT_STR_EQ(out, "d/b=2@4\n");
    free(out);
    q.rev = 3;
    out = list_names(s, &q);
    ASSERT_STR_EQ(out, "d/a=1@1\n");
    free(out);
}

/* Pages at one revision while writes go on: the union of the pages is the
 * unpaged list at that revision, with no duplicate and no gap. */
TEST(mvcc, paging_under_concurrent_writes)
{
    struct store *s = tstore_store(0);
    struct store_range q = {.resource = "pods", .limit = 7, .count = true};
    struct store_list l;
    char name[32], *all, *paged = NULL;
    size_t paged_len = 0, seen = 0, total;
    FILE *f = open_memstream(&paged, &paged_len);
    uint64_t st = 42;

    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "p%03d", i);
        ASSERT_EQ(tstore_create(s, "pods", i % 3 ? "a" : "b", name, "v0"), 0);
    }
    q.limit = 0;
    q.rev = store_current_rev(s);
    all = list_names(s, &q);
    total = 100;
    q.limit = 7;
    for (;;) {
        ASSERT_EQ(store_list(s, &q, &l), 0);
        ASSERT_EQ(l.rev, q.rev);
        seen += l.len;
        ASSERT_EQ(l.remaining, total - seen);
        ASSERT(l.remaining_exact);
        ASSERT_EQ(l.more, l.remaining > 0);
        char *page = tstore_list_str(&l);
        fputs(page, f);
        free(page);
        if (!l.more) {
            store_list_done(&l);
            break;
        }
        q.after_ns = l.items[l.len - 1]->ns;
        q.after_name = l.items[l.len - 1]->name;
        /* Writes between pages, before and after the cursor. */
        for (int j = 0; j < 5; j++) {
            snprintf(name, sizeof name, "p%03u",
                     (unsigned)(tstore_rand(&st) % 120));
            (void)tstore_put(s, "pods", tstore_rand(&st) % 2 ? "a" : "b", name, "new");
            snprintf(name, sizeof name, "p%03u",
                     (unsigned)(tstore_rand(&st) % 100));
            (void)tstore_delete(s, "pods", tstore_rand(&st) % 2 ? "a" : "b", name);
        }
        /* The cursor key must stay valid even if it was deleted. */
        char ns[8], nm[32];
        snprintf(ns, sizeof ns, "%s", q.after_ns);
        snprintf(nm, sizeof nm, "%s", q.after_name);
        store_list_done(&l);
        q.after_ns = strdup(ns);
        q.after_name = strdup(nm);
        unit_defer(free, (void *)q.after_ns);
        unit_defer(free, (void *)q.after_name);
    }
    fclose(f);
    ASSERT_EQ(seen, 100);
    ASSERT_STR_EQ(paged, all);
    free(paged);
    free(all);
}

/* A page counts at most STORE_COUNT_MAX keys past itself: counting the
 * whole rest made reading N keys in pages cost N^2. */
TEST(mvcc, a_page_counts_a_bounded_rest)
{
    struct store *s = tstore_store(0);
    struct store_range q = {.resource = "pods", .limit = 10, .count = true};
    struct store_list l;
    char name[32];
    const int n = STORE_COUNT_MAX + 30;

    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "p%06d", i);
        ASSERT_EQ(tstore_create(s, "pods", "a", name, "v"), 0);
    }
    ASSERT_EQ(store_list(s, &q, &l), 0);
    ASSERT_EQ(l.len, 10);
    ASSERT(l.more);
    ASSERT(!l.remaining_exact);
    ASSERT_EQ(l.remaining, STORE_COUNT_MAX);
    store_list_done(&l);
    /* Near the end the count is exact again. */
    q.after_ns = "a";
    q.after_name = "p000019";
    ASSERT_EQ(store_list(s, &q, &l), 0);
    ASSERT(l.more);
    ASSERT(l.remaining_exact);
    ASSERT_EQ(l.remaining, (size_t)n - 30);
    store_list_done(&l);
    /* Without count, a full page only says more follow. */
    q.count = false;
    ASSERT_EQ(store_list(s, &q, &l), 0);
    ASSERT(l.more);
    ASSERT(!l.remaining_exact);
    ASSERT_EQ(l.remaining, 0);
    store_list_done(&l);
}

TEST(mvcc, continue_with_namespace_filter)
{
    struct store *s = tstore_store(0);
    struct store_range q = {.resource = "pods", .ns = "a", .limit = 1,
                            .count = true};
    struct store_list l;

    seed_keys(s);
    ASSERT_EQ(store_list(s, &q, &l), 0);
    ASSERT_EQ(l.len, 1);
    ASSERT_STR_EQ(l.items[0]->name, "p0");
    ASSERT(l.more);
    ASSERT_EQ(l.remaining, 1);
    q.after_ns = "a";
    q.after_name = "p0";
    store_list_done(&l);
    ASSERT_EQ(store_list(s, &q, &l), 0);
    ASSERT_EQ(l.len, 1);
    ASSERT_STR_EQ(l.items[0]->name, "p1");
    ASSERT(!l.more);
    ASSERT_EQ(l.remaining, 0);
    store_list_done(&l);
    /* A continue key from an earlier namespace starts at the filter's. */
    q.after_ns = "";
    q.after_name = "zzz";
    ASSERT_EQ(store_list(s, &q, &l), 0);
    ASSERT_EQ(l.len, 1);
    ASSERT_STR_EQ(l.items[0]->name, "p0");
    store_list_done(&l);
}

UNIT_MAIN()
