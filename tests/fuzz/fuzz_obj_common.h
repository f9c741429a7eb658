/* Shared by the object-codec fuzz targets: decode with one codec, then
 * every codec must round-trip what was decoded, and the stored form
 * transcoded to JSON must equal the JSON encoding. Included by
 * fuzz_obj_{json,yaml,msgpack}.c, each naming its decoder in
 * FUZZ_DECODE(data, size, opts, ret). */
#ifndef C8S_TESTS_FUZZ_OBJ_COMMON_H
#define C8S_TESTS_FUZZ_OBJ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*encode_fn)(const struct obj *, struct obj_buf *);
typedef int (*decode_fn)(const char *, size_t, struct obj **);

static int json_enc(const struct obj *o, struct obj_buf *b)
{
    return obj_json_encode(o, OBJ_JSON_ESCAPE_HTML, b, NULL);
}

static int json_dec(const char *s, size_t n, struct obj **ret)
{
    return obj_json_decode(s, n, NULL, ret, NULL);
}

static int yaml_enc(const struct obj *o, struct obj_buf *b)
{
    return obj_yaml_encode(o, false, b, NULL);
}

static int yaml_dec(const char *s, size_t n, struct obj **ret)
{
    return obj_yaml_decode(s, n, NULL, ret, NULL);
}

static int mp_enc(const struct obj *o, struct obj_buf *b)
{
    return obj_msgpack_encode(o, b, NULL);
}

static int mp_dec(const char *s, size_t n, struct obj **ret)
{
    return obj_msgpack_decode(s, n, NULL, ret, NULL);
}

/* @o through one codec must come back equal. */
static void round_trip(const struct obj *o, encode_fn enc, decode_fn dec)
{
    struct obj_buf b;
    struct obj *back = NULL;

    obj_buf_init(&b);
    if (enc(o, &b) != 0 || dec(b.data, b.len, &back) != 0 ||
        !obj_equal(o, back))
        abort();
    obj_unref(back);
    obj_buf_done(&b);
}

/* The stored form of @o written straight to JSON (obj_msgpack_to_json)
 * must be the bytes obj_json_encode() gives. */
static void transcode_matches(const struct obj *o)
{
    struct obj_buf mp, direct, slow;

    obj_buf_init(&mp);
    obj_buf_init(&direct);
    obj_buf_init(&slow);
    if (obj_msgpack_encode(o, &mp, NULL) != 0 ||
        obj_json_encode(o, 0, &slow, NULL) != 0 ||
        obj_msgpack_to_json(mp.data, mp.len, NULL, &direct, NULL) != 0 ||
        direct.len != slow.len || memcmp(direct.data, slow.data, slow.len))
        abort();
    obj_buf_done(&mp);
    obj_buf_done(&direct);
    obj_buf_done(&slow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Smaller limits than the defaults keep each run fast. */
    struct obj_decode_opts opts = {.max_nodes = 100000,
                                   .dups = size > 0 && (data[0] & 1)
                                               ? OBJ_DUP_LAST
                                               : OBJ_DUP_ERROR};
    struct obj *o = NULL;

    if (FUZZ_DECODE(data, size, &opts, &o) != 0)
        return 0;
    round_trip(o, json_enc, json_dec);
    round_trip(o, yaml_enc, yaml_dec);
    round_trip(o, mp_enc, mp_dec);
    transcode_matches(o);
    obj_unref(o);
    return 0;
}

#endif /* C8S_TESTS_FUZZ_OBJ_COMMON_H */
