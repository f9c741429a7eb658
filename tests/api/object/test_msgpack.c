/* msgpack: strict, bounded decoding of the store format. */
#include <errno.h>

#include "api/object/codec.h"
#include "lib/mem.h"
#include "tests/api/object/corpus.h"
#include "tests/lib/unit.h"

static int dec(const void *data, size_t len, struct obj **ret, struct err *e)
{
    return obj_msgpack_decode(data, len, NULL, ret, e);
}

/* Decoding @len bytes fails with @code and @msg. */
static void bad(const char *data, size_t len, int code, const char *msg)
{
    struct obj *o = NULL;
    struct err e = {0};
    int r = dec(data, len, &o, &e);

    ASSERT_MSG(r == code, "got %d (%s), want %d", r, e.msg, code);
    ASSERT(o == NULL);
    ASSERT_STR_CONTAINS(e.msg, msg);
}

/* The corpus Pod as a tree. */
static struct obj *pod(void)
{
    char *text = corpus_json(0);
    struct obj *o = NULL;

    ASSERT_EQ(obj_json_decode(text, strlen(text), NULL, &o, NULL), 0);
    free(text);
    return o;
}

TEST(msgpack, round_trip_and_bytes)
{
    struct obj *o = pod(), *back = NULL;
    struct obj_buf b, b2;
    struct err e = {0};

    obj_buf_init(&b);
    obj_buf_init(&b2);
    ASSERT_EQ(obj_msgpack_encode(o, &b, NULL), 0);
    ASSERT_MSG(dec(b.data, b.len, &back, &e) == 0, "%s", e.msg);
    ASSERT(obj_equal(o, back));
    /* Equal trees in the same order give equal bytes. */
    ASSERT_EQ(obj_msgpack_encode(back, &b2, NULL), 0);
    ASSERT_EQ(b.len, b2.len);
    ASSERT_MEM_EQ(b.data, b2.data, b.len);
    obj_buf_done(&b);
    obj_buf_done(&b2);
    obj_unref(o);
    obj_unref(back);
}

TEST(msgpack, scalars)
{
    /* {"a": [nil, true, false, -1, 255, 1.5(f32), -0.0(f64)]} */
    static const char in[] =
        "\x81\xa1" "a" "\x97\xc0\xc3\xc2\xff\xcc\xff\xca\x3f\xc0\x00\x00"
        "\xcb\x80\x00\x00\x00\x00\x00\x00\x00";
    struct obj *o = NULL;
    struct err e = {0};
    struct obj *a;

    ASSERT_MSG(dec(in, sizeof in - 1, &o, &e) == 0, "%s", e.msg);
    a = obj_map_get(o, "a");
    ASSERT_EQ(obj_array_len(a), 7);
    ASSERT(obj_is_null(obj_array_get(a, 0)));
    ASSERT(obj_bool_or(obj_array_get(a, 1), false));
    ASSERT_EQ(obj_int_or(obj_array_get(a, 3), 0), -1);
    ASSERT_EQ(obj_int_or(obj_array_get(a, 4), 0), 255);
    ASSERT(obj_float_or(obj_array_get(a, 5), 0) == 1.5);
    obj_unref(o);
}

TEST(msgpack, strict_rejections)
{
    bad("\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 9, -C8S_EMALFORMED,
        "integer out of range");
    bad("\xc4\x01x", 3, -C8S_EMALFORMED, "unsupported type");
    bad("\xd4\x01\x02", 3, -C8S_EMALFORMED, "unsupported type");
    bad("\xc1", 1, -C8S_EMALFORMED, "unsupported type");
    bad("\x81\x01\x02", 3, -C8S_EMALFORMED, "map key is not a string");
    bad("\x82\xa1" "a" "\x01\xa1" "a" "\x02", 7, -C8S_EMALFORMED,
        "duplicate key");
    bad("\xa1\xff", 2, -C8S_EMALFORMED, "invalid UTF-8");
    bad("\xa1\x00", 2, -C8S_EMALFORMED, "NUL byte");
    bad("\x01\x02", 2, -C8S_EMALFORMED, "trailing bytes");
    bad("", 0, -C8S_EMALFORMED, "truncated");
    bad("\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00", 9, -C8S_EMALFORMED,
        "not finite");
    bad("\xca\x7f\xc0\x00\x00", 5, -C8S_EMALFORMED, "not finite");
}

TEST(msgpack, declared_sizes_are_checked_first)
{
    /* Arrays and maps of 4 billion elements in a few bytes: refused
     * before anything is allocated for them. */
    bad("\xdd\xff\xff\xff\xff\x01", 6, -C8S_EMALFORMED,
        "array longer than the input");
    bad("\xdf\xff\xff\xff\xff\x01", 6, -C8S_EMALFORMED,
        "map longer than the input");
    bad("\xdb\xff\xff\xff\xff" "abc", 8, -C8S_EMALFORMED, "truncated");
    bad("\xdd\x00\x00\x00\x02\x01", 6, -C8S_EMALFORMED, "longer than");
    bad("\x92\x01", 2, -C8S_EMALFORMED, "longer than");
    bad("\x93\x01\x02\x91", 4, -C8S_EMALFORMED, "longer than");
}

TEST(msgpack, depth_limit)
{
    size_t n = 10000;
    char *s = malloc(n + 1);

    memset(s, '\x91', n);
    s[n] = '\x01';
    bad(s, n + 1, -C8S_ETOOLARGE, "nesting deeper than 100 levels");
    free(s);
}

/* @levels nested one-element arrays around the int 1 (malloc'ed). */
static char *nested(size_t levels)
{
    char *s = malloc(levels + 1);

    memset(s, '\x91', levels);
    s[levels] = '\x01';
    return s;
}

TEST(msgpack, deepest_allowed_tree)
{
    /* At the hard depth limit every recursive walk (decode, encode, equal,
     * copy, free) stays within the stack, sanitizers included. A bigger
     * max_depth is lowered to the limit. */
    struct obj_decode_opts opts = {.max_depth = 1000000};
    size_t n = OBJ_MAX_DEPTH_LIMIT;
    char *s = nested(n), *deeper = nested(n + 1);
    struct obj *o = NULL, *c, *j = NULL;
    struct obj_buf b;

    ASSERT_EQ(obj_msgpack_decode(s, n + 1, &opts, &o, NULL), 0);
    c = obj_copy(o);
    ASSERT(obj_equal(o, c));
    obj_buf_init(&b);
    ASSERT_EQ(obj_json_encode(o, OBJ_JSON_INDENT, &b, NULL), 0);
    ASSERT_EQ(obj_json_decode(b.data, b.len, &opts, &j, NULL), 0);
    ASSERT(obj_equal(o, j));
    b.len = 0;
    ASSERT_EQ(obj_yaml_encode(o, false, &b, NULL), 0);
    obj_buf_done(&b);
    obj_unref(o);
    obj_unref(c);
    obj_unref(j);
    ASSERT_EQ(obj_msgpack_decode(deeper, n + 2, &opts, &o, NULL),
              -C8S_ETOOLARGE);
    free(s);
    free(deeper);
}

TEST(msgpack, truncated_everywhere)
{
    struct obj *o = pod();
    struct obj_buf b;

    obj_buf_init(&b);
    ASSERT_EQ(obj_msgpack_encode(o, &b, NULL), 0);
    for (size_t n = 0; n < b.len; n++) {
        struct obj *t = NULL;

        ASSERT_EQ(dec(b.data, n, &t, NULL), -C8S_EMALFORMED);
    }
    obj_buf_done(&b);
    obj_unref(o);
}

TEST(msgpack, alloc_failures)
{
    struct obj *o = pod();
    struct obj_buf b;
    unsigned long seen;

    obj_buf_init(&b);
    ASSERT_EQ(obj_msgpack_encode(o, &b, NULL), 0);
    seen = mem_fault_count();
    for (int k = 0;; k++) {
        struct obj *t = NULL;
        int r;

        mem_fault_arm(k, 1);
        r = dec(b.data, b.len, &t, NULL);
        mem_fault_arm(-1, 0);
        if (mem_fault_count() == seen) {
            ASSERT_EQ(r, 0);
            ASSERT(obj_equal(o, t));
            obj_unref(t);
            break;
        }
        seen = mem_fault_count();
        ASSERT_EQ(r, -ENOMEM);
    }
    for (int k = 0;; k++) {
        struct obj_buf b2;
        unsigned long before = mem_fault_count();
        int r;

        obj_buf_init(&b2);
        mem_fault_arm(k, 1);
        r = obj_msgpack_encode(o, &b2, NULL);
        mem_fault_arm(-1, 0);
        obj_buf_done(&b2);
        if (mem_fault_count() == before) {
            ASSERT_EQ(r, 0);
            break;
        }
        ASSERT_EQ(r, -ENOMEM);
    }
    obj_buf_done(&b);
    obj_unref(o);
}

UNIT_MAIN()
