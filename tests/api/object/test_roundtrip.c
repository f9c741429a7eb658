/* Every corpus object survives JSON -> obj -> JSON/YAML/msgpack -> obj. */
#include <errno.h>

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

UNIT_MAIN()
