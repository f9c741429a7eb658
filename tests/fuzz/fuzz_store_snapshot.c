/* libFuzzer target: store_restore on arbitrary bytes.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -std=gnu11 -iquote . \
 *   tests/fuzz/fuzz_store_snapshot.c store/\*.c lib/\*.c -lmsgpackc
 * The meta CRC stops almost every mutation at the door, so the target also
 * wraps the input in a valid header and meta CRC (the first bytes choosing
 * the header's counts and how many trailing bytes are values) to let the
 * fuzzer reach the structural and value checks. Properties: no crash or
 * leak; a rejected snapshot leaves the store as it was; an accepted one
 * re-encodes, as bytes and as a view, to the same snapshot, which restores
 * to the same state, and the store stays usable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32.h"
#include "store/snapshot.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *snap(const struct store *s, size_t *len)
{
    void *buf = NULL;

    if (store_snapshot(s, &buf, len) != 0)
        abort();
    return buf;
}

/* The view of @s must concatenate to @want. */
static void check_view(const struct store *s, const uint8_t *want, size_t len)
{
    struct store_snapview *v;
    size_t at = 0;

    if (store_snapshot_view(s, &v) != 0 || v->len != len)
        abort();
    for (size_t i = 0; i < v->n_bufs; i++) {
        if (v->bufs[i].len > len - at ||
            memcmp(want + at, v->bufs[i].base, v->bufs[i].len) != 0)
            abort();
        at += v->bufs[i].len;
    }
    store_snapview_free(v);
}

/* Wrap @data: bytes 0-3 give current_rev, compact_rev, the key and the
 * version count; byte 4 how many of the last bytes are values; the rest
 * are the records. Returns NULL when @n is too short. */
static uint8_t *with_header(const uint8_t *data, size_t n, size_t *ret_len)
{
    size_t nv, rec, ml;
    uint8_t *p;

    if (n < 5)
        return NULL;
    nv = data[4] <= n - 5 ? data[4] : n - 5;
    rec = n - 5 - nv;
    ml = STORE_SNAP_HEADER + rec + STORE_SNAP_CRC_LEN;
    p = malloc(ml + nv);
    if (p == NULL)
        abort();
    memcpy(p, STORE_SNAP_MAGIC, 8);
    store__put_be(p + STORE_SNAP_OFF_FORMAT, STORE_SNAP_VERSION, 4);
    store__put_be(p + STORE_SNAP_OFF_CURRENT, data[0], 8);
    store__put_be(p + STORE_SNAP_OFF_COMPACT, data[1], 8);
    store__put_be(p + STORE_SNAP_OFF_KEYS, data[2], 8);
    store__put_be(p + STORE_SNAP_OFF_VERSIONS, data[3], 8);
    store__put_be(p + STORE_SNAP_OFF_META_LEN, ml, 8);
    store__put_be(p + STORE_SNAP_OFF_VALUES_LEN, nv, 8);
    memcpy(p + STORE_SNAP_HEADER, data + 5, rec);
    store__put_be(p + ml - STORE_SNAP_CRC_LEN,
                  crc32_update(0, p, ml - STORE_SNAP_CRC_LEN),
                  STORE_SNAP_CRC_LEN);
    memcpy(p + ml, data + 5 + rec, nv);
    *ret_len = ml + nv;
    return p;
}

static void check(const uint8_t *buf, size_t len)
{
    struct store *s, *t;
    struct store_op op = {STORE_OP_PUT, "pods", "", "x", "v", 1, NULL, 0};
    void *before, *after, *again;
    size_t lb, la, lg;

    if (store_new(NULL, &s) != 0 || store_new(NULL, &t) != 0)
        abort();
    (void)store_txn(s, &op, 1, 0, NULL);
    before = snap(s, &lb);
    if (store_restore(s, buf, len, NULL) != 0) {
        after = snap(s, &la);
        if (la != lb || memcmp(before, after, la) != 0)
            abort();
    } else {
        after = snap(s, &la);
        check_view(s, after, la);
        if (store_restore(t, after, la, NULL) != 0)
            abort();
        again = snap(t, &lg);
        if (lg != la || memcmp(after, again, la) != 0)
            abort();
        free(again);
        (void)store_txn(s, &op, 1, 0, NULL);
        (void)store_compact(s, store_current_rev(s));
    }
    free(before);
    free(after);
    store_free(s);
    store_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *fixed;
    size_t len;

    check(data, size);
    fixed = with_header(data, size, &len);
    if (fixed != NULL) {
        check(fixed, len);
        free(fixed);
    }
    return 0;
}
