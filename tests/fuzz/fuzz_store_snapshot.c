/* libFuzzer target: store_restore on arbitrary bytes.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -std=gnu11 -iquote . \
 *   tests/fuzz/fuzz_store_snapshot.c store/\*.c lib/\*.c -lmsgpackc
 * The CRC stops almost every mutation at the door, so when the input is
 * long enough the target also rewrites the header (length and CRC) to let
 * the fuzzer reach the structural checks. Properties: no crash or leak; a
 * rejected snapshot leaves the store as it was; an accepted one re-encodes
 * to bytes that restore to the same state, and the store stays usable. */
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

/* Give @body a valid header, so only the body is under test. */
static uint8_t *with_header(const uint8_t *body, size_t n)
{
    uint8_t *p = malloc(STORE_SNAP_HEADER + n + 1);
    uint32_t crc = crc32_update(0, body, n);

    memcpy(p, STORE_SNAP_MAGIC, 8);
    memset(p + 8, 0, 16);
    p[11] = STORE_SNAP_VERSION;
    for (int i = 0; i < 4; i++)
        p[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        p[16 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    if (n > 0)
        memcpy(p + STORE_SNAP_HEADER, body, n);
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

    check(data, size);
    fixed = with_header(data, size);
    check(fixed, STORE_SNAP_HEADER + size);
    free(fixed);
    return 0;
}
