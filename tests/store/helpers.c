/* Shared helpers for the store tests. */
#include "tests/store/helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "tests/lib/unit.h"

static void free_store(void *s)
{
    store_free(s);
}

struct store *tstore_store(size_t queue_max)
{
    struct store_limits lim = {queue_max};
    struct store *s;

    ASSERT_EQ(store_new(&lim, &s), 0);
    unit_defer(free_store, s);
    return s;
}

int tstore_op(struct store *s, enum store_op_type type, const char *resource,
         const char *ns, const char *name, const char *value,
         const char *field, store_rev expect)
{
    struct store_op op = {type, resource, ns, name, value,
                          value ? strlen(value) : 0, field, expect};

    return store_txn(s, &op, 1, 1000, NULL);
}

char *tstore_get(struct store *s, const char *resource, const char *ns,
            const char *name, store_rev rev, int *code)
{
    const struct store_kv *kv = NULL;
    int rv = store_get(s, resource, ns, name, rev, &kv);
    char *v = NULL;

    if (code != NULL)
        *code = rv;
    if (rv != 0)
        return NULL;
    v = strdup((const char *)kv->value->data);
    store_kv_unref(kv);
    return v;
}

char *tstore_list_str(const struct store_list *l)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    for (size_t i = 0; i < l->len; i++)
        fprintf(f, "%s/%s=%s@%ju\n", l->items[i]->ns, l->items[i]->name,
                (const char *)l->items[i]->value->data,
                (uintmax_t)l->items[i]->mod_rev);
    fclose(f);
    return buf;
}

void *tstore_snapshot(const struct store *s, size_t *len)
{
    void *buf = NULL;

    ASSERT_EQ(store_snapshot(s, &buf, len), 0);
    return buf;
}

uint64_t tstore_rand(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void random_op(uint64_t *st, struct store_op *op, char *name,
                      char *value, char *field)
{
    static const char *res[] = {"pods", "nodes", "configmaps"};
    static const char *nss[] = {"", "default", "kube-system"};

    snprintf(name, 16, "k%02u", (unsigned)(tstore_rand(st) % 20));
    snprintf(value, 32, "v%u", (unsigned)(tstore_rand(st) % 1000));
    snprintf(field, 16, "node-%u", (unsigned)(tstore_rand(st) % 4));
    memset(op, 0, sizeof *op);
    op->type = (enum store_op_type)(tstore_rand(st) % 5);
    op->resource = res[tstore_rand(st) % 3];
    op->ns = nss[tstore_rand(st) % 3];
    op->name = name;
    op->value = value;
    op->value_len = strlen(value);
    op->field = tstore_rand(st) % 3 ? field : NULL;
}

void tstore_random_ops(struct store *s, uint64_t seed, int n, bool compact)
{
    uint64_t st = seed | 1, cst = seed * 3 + 1;

    for (int i = 0; i < n; i++) {
        char name[3][16], value[3][32], field[3][16];
        struct store_op ops[3];
        size_t k = 1 + tstore_rand(&st) % 3;

        for (size_t j = 0; j < k; j++)
            random_op(&st, &ops[j], name[j], value[j], field[j]);
        (void)store_txn(s, ops, k, (int64_t)i * 10, NULL);
        /* A separate generator, so that compaction does not change the
         * txns: a compacted and an uncompacted store stay comparable. */
        if (compact && tstore_rand(&cst) % 50 == 0)
            ASSERT_EQ(store_compact(s, store_current_rev(s) -
                                           tstore_rand(&cst) % 20 %
                                               (store_current_rev(s) + 1)),
                      0);
    }
}
