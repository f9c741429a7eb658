/* Store: the batch codec and store_apply_batch. */
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "store/cmd.h"
#include "store/internal.h"
#include "tests/lib/unit.h"
#include "tests/store/helpers.h"

static void *sample_batch(size_t *len)
{
    struct store_batch b;
    struct store_op t1[2] = {
        {STORE_OP_CREATE, "pods", "d", "a", "v1", 2, "node-1", 0},
        {STORE_OP_CREATE, "pods", "d", "b", "v1", 2, NULL, 0},
    };
    struct store_op t2[1] = {
        {STORE_OP_UPDATE, "pods", "d", "a", "v2", 2, "node-2", 9},
    };
    struct store_op t3[2] = {
        {STORE_OP_PUT, "pods", NULL, "c", "", 0, NULL, 0},
        {STORE_OP_DELETE, "pods", "d", "b", NULL, 0, NULL, 2},
    };
    void *buf;

    ASSERT_EQ(store_batch_init(&b, 7, 42, 123456), 0);
    ASSERT_EQ(store_batch_add_txn(&b, t1, 2), 0);
    ASSERT_EQ(store_batch_add_txn(&b, t2, 1), 0);
    ASSERT_EQ(store_batch_add_txn(&b, t3, 2), 0);
    ASSERT_EQ(store_batch_add_compact(&b, 1), 0);
    ASSERT_EQ(b.n_cmds, 4);
    store_batch_take(&b, &buf, len);
    ASSERT(b.buf == NULL);
    return buf;
}

TEST(cmd, apply_batch_with_results)
{
    struct store *s = tstore_store(0);
    struct store_batch_result r;
    struct store_batch_info info;
    size_t len;
    void *buf = sample_batch(&len);
    const struct store_kv *kv;

    ASSERT_EQ(store_batch_peek(buf, len, &info), 0);
    ASSERT_EQ(info.proposer_id, 7);
    ASSERT_EQ(info.batch_id, 42);
    ASSERT_EQ(info.time_ms, 123456);
    ASSERT_EQ(info.n_cmds, 4);
    ASSERT_EQ(store_apply_batch(s, buf, len, &r), 0);
    ASSERT_EQ(r.n_applied, 4);
    ASSERT_EQ(r.info.batch_id, 42);
    ASSERT_EQ(r.cmds[0].type, STORE_CMD_TXN);
    ASSERT_EQ(r.cmds[0].code, 0);
    ASSERT_EQ(r.cmds[0].rev, 2);
    ASSERT_EQ(r.cmds[0].n_ops, 2);
    ASSERT_EQ(r.cmds[0].ops[1].kv->mod_rev, 2);
    ASSERT_EQ(r.cmds[1].code, -C8S_ECONFLICT);
    ASSERT_EQ(r.cmds[1].failed_op, 0);
    ASSERT_EQ(r.cmds[1].ops[0].prev->mod_rev, 1);
    ASSERT_EQ(r.cmds[2].code, 0);
    ASSERT_EQ(r.cmds[2].rev, 4);
    ASSERT_EQ(r.cmds[3].type, STORE_CMD_COMPACT);
    ASSERT_EQ(r.cmds[3].code, 0);
    ASSERT_EQ(r.cmds[3].rev, 1);
    store_batch_result_done(&r);
    ASSERT_EQ(store_compact_rev(s), 1);
    ASSERT_EQ(store_get(s, "pods", "d", "a", 0, &kv), 0);
    ASSERT_EQ(kv->time_ms, 123456);
    ASSERT_STR_EQ(kv->field, "node-1");
    store_kv_unref(kv);
    ASSERT_EQ(store_get(s, "pods", "", "c", 0, &kv), 0);
    ASSERT_EQ(kv->value->len, 0);
    store_kv_unref(kv);
    /* Applying again: same deterministic outcomes, no results wanted. */
    ASSERT_EQ(store_apply_batch(s, buf, len, NULL), 0);
    ASSERT_EQ(store_current_rev(s), 4);
    mem_free(buf);
}

TEST(cmd, encoder_rejects_bad_ops_and_keeps_the_batch)
{
    struct store_batch b;
    struct store_op bad = {STORE_OP_CREATE, "pods", "", "", "v", 1, NULL, 0};
    size_t len;

    ASSERT_EQ(store_batch_init(&b, 1, 1, 0), 0);
    len = b.len;
    ASSERT_EQ(store_batch_add_txn(&b, &bad, 1), -EINVAL);
    bad.name = "x";
    bad.value = NULL;
    ASSERT_EQ(store_batch_add_txn(&b, &bad, 1), -EINVAL);
    bad.type = (enum store_op_type)9;
    ASSERT_EQ(store_batch_add_txn(&b, &bad, 1), -EINVAL);
    ASSERT_EQ(b.len, len);
    ASSERT_EQ(b.n_cmds, 0);
    store_batch_done(&b);
}

/* Every strict prefix is either malformed (nothing applied) or ends on a
 * command boundary (a valid shorter batch). */
TEST(cmd, truncations_are_rejected_whole)
{
    size_t len;
    uint8_t *buf = sample_batch(&len);
    int valid = 0;

    for (size_t n = 0; n < len; n++) {
        struct store *s;
        struct store_batch_info info;
        int rv;

        ASSERT_EQ(store_new(NULL, &s), 0);
        rv = store_apply_batch(s, buf, n, NULL);
        if (rv == -C8S_EMALFORMED) {
            ASSERT_EQ(store_current_rev(s), 0);
            ASSERT_EQ(store_batch_peek(buf, n, &info), -C8S_EMALFORMED);
        } else {
            ASSERT_EQ(rv, 0);
            ASSERT_EQ(store_batch_peek(buf, n, &info), 0);
            valid++;
        }
        store_free(s);
    }
    /* After the header and after each of the first three commands. */
    ASSERT_EQ(valid, 4);
    mem_free(buf);
}

TEST(cmd, random_corruption_never_applies_partially)
{
    size_t len;
    uint8_t *buf = sample_batch(&len);
    uint64_t st = 77;

    for (int i = 0; i < 3000; i++) {
        struct store *s;
        uint8_t *copy = malloc(len);
        int rv;

        memcpy(copy, buf, len);
        for (int k = 0; k < 1 + (int)(tstore_rand(&st) % 3); k++)
            copy[tstore_rand(&st) % len] = (uint8_t)tstore_rand(&st);
        ASSERT_EQ(store_new(NULL, &s), 0);
        rv = store_apply_batch(s, copy, len, NULL);
        ASSERT_MSG(rv == 0 || rv == -C8S_EMALFORMED, "rv %d", rv);
        if (rv != 0)
            ASSERT_EQ(store_current_rev(s), 0);
        store_free(s);
        free(copy);
    }
    mem_free(buf);
}

static int apply_bytes(const uint8_t *p, size_t n)
{
    struct store *s;
    int rv;

    ASSERT_EQ(store_new(NULL, &s), 0);
    rv = store_apply_batch(s, p, n, NULL);
    if (rv != 0)
        ASSERT_EQ(store_current_rev(s), 0);
    store_free(s);
    return rv;
}

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

TEST(cmd, malformed_batches)
{
    /* Header alone is a valid empty batch. */
    ASSERT_EQ(apply_bytes(BYTES(0x94, 1, 1, 1, 0)), 0);
    ASSERT_EQ(apply_bytes(BYTES(0x94, 2, 1, 1, 0)), -C8S_EMALFORMED);
    ASSERT_EQ(apply_bytes(BYTES(0x93, 1, 1, 1)), -C8S_EMALFORMED);
    ASSERT_EQ(apply_bytes(BYTES(0x94, 1, 1, 1, 0xc0)), -C8S_EMALFORMED);
    /* Unknown command type. */
    ASSERT_EQ(apply_bytes(BYTES(0x94, 1, 1, 1, 0, 0x92, 3, 0)),
              -C8S_EMALFORMED);
    /* Compact with a string argument. */
    ASSERT_EQ(apply_bytes(BYTES(0x94, 1, 1, 1, 0, 0x92, 2, 0xa0)),
              -C8S_EMALFORMED);
    /* A valid create, then a '\0' inside a name: nothing applies. */
    ASSERT_EQ(apply_bytes(BYTES(0x94, 1, 1, 1, 0,
                                0x92, 1, 0x91, 0x97, 0, 0xa1, 'p', 0xa0,
                                0xa1, 'a', 0xc4, 0, 0xc0, 0,
                                0x92, 1, 0x91, 0x97, 0, 0xa1, 'p', 0xa0,
                                0xa2, 'b', 0, 0xc4, 0, 0xc0, 0)),
              -C8S_EMALFORMED);
    /* Empty name, op type out of range. */
    ASSERT_EQ(apply_bytes(BYTES(0x94, 1, 1, 1, 0, 0x92, 1, 0x91, 0x97, 0,
                                0xa1, 'p', 0xa0, 0xa0, 0xc4, 0, 0xc0, 0)),
              -C8S_EMALFORMED);
    ASSERT_EQ(apply_bytes(BYTES(0x94, 1, 1, 1, 0, 0x92, 1, 0x91, 0x97, 5,
                                0xa1, 'p', 0xa0, 0xa1, 'a', 0xc4, 0, 0xc0,
                                0)),
              -C8S_EMALFORMED);
    /* A claimed array of 2^32-1 ops in a few bytes. */
    ASSERT_EQ(apply_bytes(BYTES(0x94, 1, 1, 1, 0, 0x92, 1, 0xdd, 0xff, 0xff,
                                0xff, 0xff, 0x97)),
              -C8S_EMALFORMED);
    /* The same valid create applies. */
    ASSERT_EQ(apply_bytes(BYTES(0x94, 1, 1, 1, 0, 0x92, 1, 0x91, 0x97, 0,
                                0xa1, 'p', 0xa0, 0xa1, 'a', 0xc4, 0, 0xc0,
                                0)),
              0);
}

/* A random workload as batches, applied to two replicas. */
static void random_batches(struct store *s, uint64_t seed)
{
    uint64_t st = seed;

    for (int i = 0; i < 200; i++) {
        struct store_batch b;
        void *buf;
        size_t len;

        ASSERT_EQ(store_batch_init(&b, 1, (uint64_t)i, i * 100), 0);
        for (int j = 0; j < 1 + (int)(tstore_rand(&st) % 8); j++) {
            char name[16], val[16];
            struct store_op op = {(enum store_op_type)(tstore_rand(&st) % 5),
                                  "pods", "ns", name, val, 0,
                                  tstore_rand(&st) % 2 ? "n1" : NULL, 0};

            snprintf(name, sizeof name, "k%u", (unsigned)(tstore_rand(&st) % 30));
            snprintf(val, sizeof val, "v%u", (unsigned)(tstore_rand(&st) % 99));
            op.value_len = strlen(val);
            ASSERT_EQ(store_batch_add_txn(&b, &op, 1), 0);
        }
        if (tstore_rand(&st) % 10 == 0)
            ASSERT_EQ(store_batch_add_compact(&b, (store_rev)i * 3), 0);
        store_batch_take(&b, &buf, &len);
        ASSERT_EQ(store_apply_batch(s, buf, len, NULL), 0);
        mem_free(buf);
    }
}

TEST(cmd, replicas_applying_batches_agree)
{
    struct store *a = tstore_store(0), *b = tstore_store(0);
    size_t la, lb;
    void *sa, *sb;

    random_batches(a, 2024);
    random_batches(b, 2024);
    ASSERT(store_current_rev(a) > 100);
    ASSERT(store_compact_rev(a) > 0);
    sa = tstore_snapshot(a, &la);
    sb = tstore_snapshot(b, &lb);
    ASSERT_EQ(la, lb);
    ASSERT_MEM_EQ(sa, sb, la);
    free(sa);
    free(sb);
}

/* A leader packs a follower's forwarded batch into its own. */
TEST(cmd, append_encoded_moves_commands)
{
    struct store *s = tstore_store(0);
    struct store_batch b;
    struct store_batch_result r;
    size_t len, added, keep;
    uint8_t *fwd = sample_batch(&len);
    void *buf;

    ASSERT_EQ(store_batch_init(&b, 9, 1, 555), 0);
    ASSERT_EQ(store_batch_add_compact(&b, 0), 0);
    keep = b.len;
    ASSERT_EQ(store_batch_append_encoded(&b, fwd, len - 1, &added),
              -C8S_EMALFORMED);
    ASSERT_EQ(b.len, keep);
    ASSERT_EQ(store_batch_append_encoded(&b, fwd, len, &added), 0);
    ASSERT_EQ(added, 4);
    ASSERT_EQ(b.n_cmds, 5);
    store_batch_take(&b, &buf, &len);
    ASSERT_EQ(store_apply_batch(s, buf, len, &r), 0);
    ASSERT_EQ(r.info.proposer_id, 9);
    ASSERT_EQ(r.n_applied, 5);
    ASSERT_EQ(r.cmds[1].rev, 2);
    ASSERT_EQ(r.cmds[1].ops[0].kv->time_ms, 555);
    store_batch_result_done(&r);
    mem_free(buf);
    mem_free(fwd);
}

UNIT_MAIN()
