/* JSON decoding and encoding: numbers, strings, limits, bad input. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "api/object/codec.h"
#include "lib/mem.h"
#include "tests/api/object/corpus.h"
#include "tests/lib/unit.h"

/* Decode @text with @opts; returns the code, the tree in *@ret. */
static int dec(const char *text, const struct obj_decode_opts *opts,
               struct obj **ret, struct err *e)
{
    return obj_json_decode(text, strlen(text), opts, ret, e);
}

/* Decode, expecting success. */
static struct obj *ok(const char *text)
{
    struct obj *o = NULL;
    struct err e = {0};
    int r = dec(text, NULL, &o, &e);

    ASSERT_MSG(r == 0, "decoding %s: %s", text, e.msg);
    return o;
}

/* Decode, expecting failure with @code and @msg in the message. */
static void bad(const char *text, int code, const char *msg)
{
    struct obj *o = NULL;
    struct err e = {0};
    int r = dec(text, NULL, &o, &e);

    ASSERT_MSG(r == code, "decoding %.60s: got %d (%s), want %d", text, r,
               e.msg, code);
    ASSERT(o == NULL);
    ASSERT_STR_CONTAINS(e.msg, msg);
    ASSERT_STR_CONTAINS(e.msg, "json: byte ");
}

/* Encode compactly into a malloc'ed C string. */
static char *enc(const struct obj *o, unsigned flags)
{
    struct obj_buf b;
    char *s;

    obj_buf_init(&b);
    ASSERT_EQ(obj_json_encode(o, flags, &b, NULL), 0);
    s = strdup(b.data);
    obj_buf_done(&b);
    return s;
}

/* Decoding @in and encoding again gives @out. */
static void reencodes(const char *in, const char *out)
{
    struct obj *o = ok(in);
    char *s = enc(o, 0);

    ASSERT_STR_EQ(s, out);
    free(s);
    obj_unref(o);
}

TEST(json, scalars_and_structure)
{
    reencodes(" { \"a\" : [ 1 , true , null , \"x\" , { } , [ ] ] } ",
              "{\"a\":[1,true,null,\"x\",{},[]]}");
    reencodes("\"top\"", "\"top\"");
    reencodes("42", "42");
    reencodes("null", "null");
}

TEST(json, integers)
{
    struct obj *o = ok("[9223372036854775807,-9223372036854775808,-0,0]");

    ASSERT(obj_int_or(obj_array_get(o, 0), 0) == INT64_MAX);
    ASSERT(obj_int_or(obj_array_get(o, 1), 0) == INT64_MIN);
    ASSERT_EQ(obj_type(obj_array_get(o, 2)), OBJ_INT);
    obj_unref(o);
    bad("9223372036854775808", -C8S_EMALFORMED, "number out of range");
    bad("[-9223372036854775809]", -C8S_EMALFORMED, "number out of range");
    bad("123456789012345678901234567890", -C8S_EMALFORMED, "out of range");
    bad("01", -C8S_EMALFORMED, "");
}

TEST(json, floats)
{
    struct obj *o = ok("[0.1,1e308,-0.0,1.0,2.5e-320,1E2,1e-400]");

    ASSERT_EQ(obj_type(obj_array_get(o, 0)), OBJ_FLOAT);
    ASSERT(obj_float_or(obj_array_get(o, 0), 0) == 0.1);
    ASSERT(obj_float_or(obj_array_get(o, 1), 0) == 1e308);
    ASSERT(signbit(obj_float_or(obj_array_get(o, 2), 0)));
    obj_unref(o);
    /* Floats keep their type and exact value through text. */
    reencodes("[0.1,1e308,-0.0,1.0,100.0,0.30000000000000004,5e-324]",
              "[0.1,1e+308,-0.0,1.0,100.0,0.30000000000000004,5e-324]");
    bad("1e309", -C8S_EMALFORMED, "number out of range");
    bad("[-1e999]", -C8S_EMALFORMED, "number out of range");
}

TEST(json, string_escapes_decode)
{
    struct obj *o = ok("\"\\ud83d\\ude00 \\u00e9 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"");

    ASSERT_STR_EQ(obj_str_or(o, ""),
                  "\xf0\x9f\x98\x80 \xc3\xa9 \" \\ / \b\f\n\r\t");
    obj_unref(o);
    bad("\"\\ud800\"", -C8S_EMALFORMED, "surrogate");
    bad("\"\\udc00 x\"", -C8S_EMALFORMED, "surrogate");
    bad("\"\\ud83d\\u0041\"", -C8S_EMALFORMED, "surrogate");
    bad("\"a\\ud83d\"", -C8S_EMALFORMED, "surrogate");
    bad("{\"\\ud800\":1}", -C8S_EMALFORMED, "surrogate in key");
    bad("\"\\u0000\"", -C8S_EMALFORMED, "NUL byte");
    /* An escaped backslash before 'u' is not an escape. */
    o = ok("\"\\\\ud800\"");
    ASSERT_STR_EQ(obj_str_or(o, ""), "\\ud800");
    obj_unref(o);
}

TEST(json, bad_utf8)
{
    bad("\"\xff\"", -C8S_EMALFORMED, "invalid UTF-8");
    bad("\"\xc0\xaf\"", -C8S_EMALFORMED, "invalid UTF-8");
    bad("\"\xed\xa0\x80\"", -C8S_EMALFORMED, "invalid UTF-8");
    bad("{\"k\xfe\":1}", -C8S_EMALFORMED, "invalid UTF-8 in key");
    bad("\"a\x01\"", -C8S_EMALFORMED, "");
}

TEST(json, encode_escapes)
{
    struct obj *s = obj_str_new_c("\x01\x1f\x7f \" \\ / \b\f\n\r\t "
                                  "<a&b> \xe2\x80\xa8\xe2\x80\xa9 "
                                  "\xc3\xa9\xf0\x9f\x98\x80");
    char *t = enc(s, 0), *h = enc(s, OBJ_JSON_ESCAPE_HTML);
    struct obj *back;

    ASSERT_STR_EQ(t, "\"\\u0001\\u001f\x7f \\\" \\\\ / \\b\\f\\n\\r\\t "
                     "<a&b> \\u2028\\u2029 \xc3\xa9\xf0\x9f\x98\x80\"");
    ASSERT_STR_EQ(h, "\"\\u0001\\u001f\x7f \\\" \\\\ / \\b\\f\\n\\r\\t "
                     "\\u003ca\\u0026b\\u003e \\u2028\\u2029 "
                     "\xc3\xa9\xf0\x9f\x98\x80\"");
    back = ok(h);
    ASSERT(obj_equal(back, s));
    obj_unref(back);
    free(t);
    free(h);
    obj_unref(s);
}

/* What put_string must write for @in, byte by byte (the reference). */
static void escape_slowly(const char *in, size_t len, bool html, char *out)
{
    size_t n = 0;

    out[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c == '\n' || c == '\t') {
            out[n++] = '\\';
            out[n++] = c == '\n' ? 'n' : 't';
        } else if (c < 0x20 || (html && (c == '<' || c == '>' || c == '&'))) {
            n += (size_t)sprintf(out + n, "\\u%04x", c);
        } else if (c == 0xe2 && i + 2 < len && (unsigned char)in[i + 1] == 0x80 &&
                   ((unsigned char)in[i + 2] == 0xa8 ||
                    (unsigned char)in[i + 2] == 0xa9)) {
            n += (size_t)sprintf(out + n, "\\u%s",
                                 (unsigned char)in[i + 2] == 0xa8 ? "2028"
                                                                  : "2029");
            i += 2;
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* Every special byte (or sequence) at every offset of strings of every
 * length up to 40, so each lands before, inside and across the encoder's
 * 8-byte blocks. */
TEST(json, encode_escapes_at_every_offset)
{
    static const char *const specials[] = {
        "\"", "\\", "\n", "\t", "\x01", "\x1f", "<", ">", "&", "\x7f",
        "\xc3\xa9", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x82\xac", " ", "~"};
    char in[64], want[512];

    for (size_t len = 0; len <= 40; len++)
        for (size_t sp = 0; sp < sizeof specials / sizeof *specials; sp++)
            for (size_t at = 0; at + strlen(specials[sp]) <= len; at++) {
                size_t sl = strlen(specials[sp]);

                memset(in, 'a' + (int)(len % 26), len);
                memcpy(in + at, specials[sp], sl);
                in[len] = '\0';
                for (int html = 0; html <= 1; html++) {
                    struct obj *o = obj_str_new(in, len);
                    char *got = enc(o, html ? OBJ_JSON_ESCAPE_HTML : 0);

                    escape_slowly(in, len, html, want);
                    ASSERT_MSG(strcmp(got, want) == 0,
                               "special %zu at %zu of %zu (html %d): %s, "
                               "want %s", sp, at, len, html, got, want);
                    free(got);
                    obj_unref(o);
                }
            }
}

TEST(json, indent_and_newline)
{
    struct obj *o = ok("{\"a\":{\"b\":[1,2],\"c\":{},\"d\":[]},\"e\":\"x\"}");
    char *s = enc(o, OBJ_JSON_INDENT | OBJ_JSON_NEWLINE);

    ASSERT_STR_EQ(s, "{\n"
                     "    \"a\": {\n"
                     "        \"b\": [\n"
                     "            1,\n"
                     "            2\n"
                     "        ],\n"
                     "        \"c\": {},\n"
                     "        \"d\": []\n"
                     "    },\n"
                     "    \"e\": \"x\"\n"
                     "}\n");
    free(s);
    obj_unref(o);
}

TEST(json, nonfinite_float_not_encoded)
{
    struct obj *f = obj_float_new(INFINITY);
    struct obj_buf b;
    struct err e = {0};

    obj_buf_init(&b);
    ASSERT_EQ(obj_buf_append(&b, "keep", 4), 0);
    ASSERT_EQ(obj_json_encode(f, 0, &b, &e), -EDOM);
    ASSERT_EQ(b.len, 4); /* untouched on failure */
    ASSERT_STR_EQ(b.data, "keep");
    obj_buf_done(&b);
    obj_unref(f);
}

TEST(json, syntax_errors_have_offsets)
{
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_EQ(dec("{\"a\":1} x", NULL, &o, &e), -C8S_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "trailing garbage");
    ASSERT_STR_CONTAINS(e.msg, "byte 9");
    bad("", -C8S_EMALFORMED, "");
    bad("   ", -C8S_EMALFORMED, "");
    bad("[1,]", -C8S_EMALFORMED, "");
    bad("{\"a\"}", -C8S_EMALFORMED, "");
    bad("{'a':1}", -C8S_EMALFORMED, "");
    bad("[1] [2]", -C8S_EMALFORMED, "");
    bad("/* c */ 1", -C8S_EMALFORMED, "");
    bad("nul", -C8S_EMALFORMED, "");
    bad("[NaN]", -C8S_EMALFORMED, "");
}

TEST(json, depth_limit)
{
    size_t n = 10000;
    char *s = malloc(2 * n + 1);
    struct obj *o = NULL;
    struct err e = {0};
    struct obj_decode_opts opts = {.max_depth = 5};

    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    ASSERT_EQ(dec(s, NULL, &o, &e), -C8S_ETOOLARGE);
    ASSERT_STR_CONTAINS(e.msg, "nesting deeper than 100 levels");
    ASSERT_STR_CONTAINS(e.msg, "byte 101");
    /* Exactly at the limit is fine, one more is not. */
    ASSERT_EQ(dec(s + n - 100, NULL, &o, &e), -C8S_EMALFORMED); /* ']' */
    s[100] = '\0';
    memset(s + 100, ']', 100);
    s[200] = '\0';
    ASSERT_EQ(dec(s, NULL, &o, &e), 0);
    obj_unref(o);
    ASSERT_EQ(dec("[[[[[1]]]]]", &opts, &o, &e), 0);
    obj_unref(o);
    ASSERT_EQ(dec("[[[[[[1]]]]]]", &opts, &o, &e), -C8S_ETOOLARGE);
    ASSERT_EQ(dec("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{}}}}}}", &opts, &o,
                  &e),
              -C8S_ETOOLARGE);
    free(s);
}

TEST(json, size_limits)
{
    size_t n = 5 << 20;
    char *s = malloc(n + 3);
    struct obj *o = NULL;
    struct err e = {0};
    struct obj_decode_opts small = {.max_string = 1000};
    struct obj_decode_opts tiny = {.max_bytes = 10};

    s[0] = '"';
    memset(s + 1, 'x', n);
    s[n + 1] = '"';
    s[n + 2] = '\0';
    ASSERT_EQ(dec(s, NULL, &o, &e), 0);
    ASSERT_EQ(strlen(obj_str_or(o, "")), n);
    o = obj_unref(o);
    ASSERT_EQ(dec(s, &small, &o, &e), -C8S_ETOOLARGE);
    ASSERT_STR_CONTAINS(e.msg, "string longer than 1000 bytes");
    ASSERT_EQ(dec("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}", &tiny, &o, &e),
              -C8S_ETOOLARGE);
    free(s);
}

/* Collects duplicate reports. */
struct dups {
    int n;         /* Reports seen. */
    char key[32];  /* Last key reported. */
    size_t offset; /* Its offset. */
};

static void on_dup(void *arg, const char *key, size_t offset)
{
    struct dups *d = arg;

    d->n++;
    snprintf(d->key, sizeof d->key, "%s", key);
    d->offset = offset;
}

TEST(json, duplicate_keys)
{
    const char *text = "{\"a\":1,\"b\":2,\"a\":3}";
    struct dups d = {0};
    struct obj_decode_opts last = {.dups = OBJ_DUP_LAST, .on_dup = on_dup,
                                   .on_dup_arg = &d};
    struct obj *o = NULL;
    char *s;

    bad(text, -C8S_EMALFORMED, "duplicate key \"a\"");
    ASSERT_EQ(dec(text, &last, &o, NULL), 0);
    ASSERT_EQ(d.n, 1);
    ASSERT_STR_EQ(d.key, "a");
    ASSERT_EQ(d.offset, 16);
    s = enc(o, 0);
    ASSERT_STR_EQ(s, "{\"a\":3,\"b\":2}");
    free(s);
    obj_unref(o);
    /* Duplicates in a big (indexed) map and nested maps. */
    ASSERT_EQ(dec("{\"x\":{\"k\":[1],\"k\":{\"z\":1}},\"x\":null}", &last, &o,
                  NULL),
              0);
    ASSERT_EQ(d.n, 3);
    ASSERT(obj_is_null(obj_map_get(o, "x")));
    obj_unref(o);
}

TEST(json, truncated_everywhere)
{
    for (size_t i = 0; i < corpus_count(); i++) {
        char *text = corpus_json(i);
        size_t len = strlen(text);

        /* Stop early in the big ConfigMap: every offset up to 4 KiB. */
        for (size_t n = 0; n < len && n < 4096; n++) {
            struct obj *o = NULL;
            int r = obj_json_decode(text, n, NULL, &o, NULL);

            ASSERT_MSG(r == -C8S_EMALFORMED, "%s cut at %zu: %d",
                       corpus_name(i), n, r);
        }
        free(text);
    }
}

TEST(json, alloc_failures)
{
    char *text = corpus_json(0);
    unsigned long seen = 0;
    int failed = 0;

    for (int k = 0;; k++) {
        struct obj *o = NULL;
        struct err e = {0};
        int r;

        mem_fault_arm(k, 1);
        r = obj_json_decode(text, strlen(text), NULL, &o, &e);
        mem_fault_arm(-1, 0);
        if (mem_fault_count() == seen) {
            ASSERT_EQ(r, 0);
            obj_unref(o);
            break;
        }
        seen = mem_fault_count();
        ASSERT_MSG(r == -ENOMEM, "fault at %d: %d %s", k, r, e.msg);
        ASSERT(o == NULL);
        failed++;
    }
    ASSERT(failed > 100);
    free(text);
}

TEST(json, encode_alloc_failures)
{
    char *text = corpus_json(0);
    struct obj *o = ok(text);

    for (int k = 0;; k++) {
        struct rbuf *rb = NULL;
        unsigned long before = mem_fault_count();
        int r;

        mem_fault_arm(k, 1);
        r = obj_json_rbuf(o, OBJ_JSON_INDENT, &rb, NULL);
        mem_fault_arm(-1, 0);
        if (mem_fault_count() == before) {
            ASSERT_EQ(r, 0);
            ASSERT(rb->len > 100);
            rbuf_unref(rb);
            break;
        }
        ASSERT_EQ(r, -ENOMEM);
    }
    obj_unref(o);
    free(text);
}

UNIT_MAIN()
