/* Every corpus object survives JSON -> obj -> JSON/YAML/msgpack -> obj. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/codec.h"
#include "tests/api/object/corpus.h"
#include "tests/lib/unit.h"

typedef int (*encode_fn)(const struct obj *, struct obj_buf *);
typedef int (*decode_fn)(const struct obj_buf *, struct obj **,
                         struct err *);

static int json_enc(const struct obj *o, struct obj_buf *b)
{
    return obj_json_encode(o, 0, b, NULL);
}

static int json_enc_indent(const struct obj *o, struct obj_buf *b)
{
    return obj_json_encode(o, OBJ_JSON_INDENT | OBJ_JSON_NEWLINE |
                                  OBJ_JSON_ESCAPE_HTML,
                           b, NULL);
}

static int json_dec(const struct obj_buf *b, struct obj **ret, struct err *e)
{
    return obj_json_decode(b->data, b->len, NULL, ret, e);
}

static int yaml_enc(const struct obj *o, struct obj_buf *b)
{
    return obj_yaml_encode(o, false, b, NULL);
}

static int yaml_dec(const struct obj_buf *b, struct obj **ret, struct err *e)
{
    return obj_yaml_decode(b->data, b->len, NULL, ret, e);
}

static int mp_enc(const struct obj *o, struct obj_buf *b)
{
    return obj_msgpack_encode(o, b, NULL);
}

static int mp_dec(const struct obj_buf *b, struct obj **ret, struct err *e)
{
    return obj_msgpack_decode(b->data, b->len, NULL, ret, e);
}

/* Each corpus object through @enc and @dec comes back equal. */
static void through(encode_fn enc, decode_fn dec, const char *what)
{
    for (size_t i = 0; i < corpus_count(); i++) {
        char *text = corpus_json(i);
        struct obj *o = NULL, *back = NULL;
        struct obj_buf b;
        struct err e = {0};

        ASSERT_MSG(obj_json_decode(text, strlen(text), NULL, &o, &e) == 0,
                   "%s: %s", corpus_name(i), e.msg);
        obj_buf_init(&b);
        ASSERT_EQ(enc(o, &b), 0);
        ASSERT_MSG(dec(&b, &back, &e) == 0, "%s via %s: %s\n%s",
                   corpus_name(i), what, e.msg, b.data);
        ASSERT_MSG(obj_equal(o, back), "%s via %s differs:\n%s",
                   corpus_name(i), what, b.data);
        obj_buf_done(&b);
        obj_unref(o);
        obj_unref(back);
        free(text);
    }
}

TEST(roundtrip, json)
{
    through(json_enc, json_dec, "json");
}

TEST(roundtrip, json_indented)
{
    through(json_enc_indent, json_dec, "indented json");
}

TEST(roundtrip, yaml)
{
    through(yaml_enc, yaml_dec, "yaml");
}

TEST(roundtrip, msgpack)
{
    through(mp_enc, mp_dec, "msgpack");
}

TEST(roundtrip, json_text_is_stable)
{
    /* Compact JSON of a decoded compact JSON text is the same text. */
    for (size_t i = 0; i < corpus_count(); i++) {
        char *text = corpus_json(i);
        struct obj *o = NULL, *back = NULL;
        struct obj_buf b, b2;

        obj_buf_init(&b);
        obj_buf_init(&b2);
        ASSERT_EQ(obj_json_decode(text, strlen(text), NULL, &o, NULL), 0);
        ASSERT_EQ(obj_json_encode(o, 0, &b, NULL), 0);
        ASSERT_EQ(obj_json_decode(b.data, b.len, NULL, &back, NULL), 0);
        ASSERT_EQ(obj_json_encode(back, 0, &b2, NULL), 0);
        ASSERT_STR_EQ(b.data, b2.data);
        obj_buf_done(&b);
        obj_buf_done(&b2);
        obj_unref(o);
        obj_unref(back);
        free(text);
    }
}

TEST(roundtrip, yaml_stream_of_corpus)
{
    struct obj_buf b;
    struct obj *docs = NULL;
    struct err e = {0};

    obj_buf_init(&b);
    for (size_t i = 0; i < corpus_count(); i++) {
        char *text = corpus_json(i);
        struct obj *o = NULL;

        ASSERT_EQ(obj_json_decode(text, strlen(text), NULL, &o, NULL), 0);
        ASSERT_EQ(obj_yaml_encode(o, true, &b, NULL), 0);
        obj_unref(o);
        free(text);
    }
    ASSERT_MSG(obj_yaml_decode_all(b.data, b.len, NULL, &docs, &e) == 0, "%s",
               e.msg);
    ASSERT_EQ(obj_array_len(docs), corpus_count());
    for (size_t i = 0; i < corpus_count(); i++) {
        char *text = corpus_json(i);
        struct obj *o = NULL;

        ASSERT_EQ(obj_json_decode(text, strlen(text), NULL, &o, NULL), 0);
        ASSERT(obj_equal(o, obj_array_get(docs, i)));
        obj_unref(o);
        free(text);
    }
    obj_unref(docs);
    obj_buf_done(&b);
}

/* The JSON that obj_msgpack_to_json() writes from stored bytes, with
 * @ov, equals decoding them, setting the overrides as the server does
 * (metadata first, then kind, apiVersion, resourceVersion) and encoding. */
static void check_transcode(const struct obj *o,
                            const struct obj_json_overrides *ov)
{
    struct obj_buf mp, direct, slow;
    struct obj *back = NULL, *meta = NULL;
    struct err e;

    obj_buf_init(&mp);
    obj_buf_init(&direct);
    obj_buf_init(&slow);
    ASSERT(obj_msgpack_encode(o, &mp, &e) == 0);
    ASSERT_MSG(obj_msgpack_to_json(mp.data, mp.len, ov, &direct, &e) == 0, "%s",
               e.msg);
    ASSERT(obj_msgpack_decode(mp.data, mp.len, NULL, &back, &e) == 0);
    if (ov != NULL && obj_type(back) == OBJ_MAP) {
        if (ov->resource_version != NULL) {
            meta = obj_map_get_mut(back, "metadata");
            if (meta == NULL || obj_type(meta) != OBJ_MAP) {
                ASSERT(obj_map_set(back, "metadata", obj_map_new()) == 0);
                meta = obj_map_get_mut(back, "metadata");
            }
        }
        if (ov->kind != NULL)
            ASSERT(obj_map_set(back, "kind", obj_str_new_c(ov->kind)) == 0);
        if (ov->api_version != NULL)
            ASSERT(obj_map_set(back, "apiVersion",
                               obj_str_new_c(ov->api_version)) == 0);
        if (ov->resource_version != NULL)
            ASSERT(obj_map_set(meta, "resourceVersion",
                               obj_str_new_c(ov->resource_version)) == 0);
    }
    ASSERT(obj_json_encode(back, 0, &slow, &e) == 0);
    ASSERT_MSG(
        direct.len == slow.len && memcmp(direct.data, slow.data, slow.len) == 0,
        "direct %.*s\nslow   %.*s", (int)direct.len, direct.data, (int)slow.len,
        slow.data);
    obj_unref(back);
    obj_buf_done(&mp);
    obj_buf_done(&direct);
    obj_buf_done(&slow);
}

TEST(roundtrip, msgpack_to_json_matches_decode_and_encode)
{
    static const struct obj_json_overrides ov = {"ConfigMap", "v1", "42"};
    static const char *const extra[] = {
        "{}",
        "{\"metadata\":7,\"kind\":\"Old\"}",
        "{\"metadata\":{},\"apiVersion\":\"x/v9\"}",
        "{\"metadata\":{\"resourceVersion\":\"1\",\"name\":\"a\"},"
        "\"spec\":{\"metadata\":{\"resourceVersion\":\"keep\"},\"kind\":1}}",
        "[1,2.5,\"\\u2028<&>\",null,true,{\"a\":{}}]",
        NULL};

    for (size_t i = 0; i < corpus_count(); i++) {
        char *text = corpus_json(i);
        struct obj *o = NULL;
        struct err e;
        ASSERT(obj_json_decode(text, strlen(text), NULL, &o, &e) == 0);
        check_transcode(o, NULL);
        check_transcode(o, &ov);
        obj_unref(o);
        free(text);
    }
    for (size_t i = 0; extra[i] != NULL; i++) {
        struct obj *o = NULL;
        struct err e;
        ASSERT(obj_json_decode(extra[i], strlen(extra[i]), NULL, &o, &e) == 0);
        check_transcode(o, NULL);
        if (obj_type(o) == OBJ_MAP)
            check_transcode(o, &ov);
        obj_unref(o);
    }
}

TEST(roundtrip, msgpack_to_json_refuses_damaged_bytes)
{
    static const unsigned char bad[][4] = {
        {0x81, 0xa1, 'a', 0},  /* truncated value */
        {0x81, 0x01, 0x01, 0}, /* key not a string */
        {0xc4, 0x01, 0x00, 0}, /* bin */
        {0x92, 0x01, 0, 0},    /* short array */
    };
    static const size_t lens[] = {3, 3, 3, 2};
    struct obj_buf b;
    struct err e;

    obj_buf_init(&b);
    ASSERT(obj_buf_append(&b, "keep", 4) == 0);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        ASSERT_EQ(obj_msgpack_to_json(bad[i], lens[i], NULL, &b, &e),
                  -C8S_EMALFORMED);
        ASSERT_UEQ(b.len, 4);
    }
    obj_buf_done(&b);
}

UNIT_MAIN()
