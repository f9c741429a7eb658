/* YAML: Kubernetes scalar typing, streams, anchors, limits, output. */
#include <errno.h>
#include <time.h>

#include "api/object/codec.h"
#include "lib/mem.h"
#include "tests/api/object/corpus.h"
#include "tests/lib/unit.h"

static int dec(const char *text, const struct obj_decode_opts *opts,
               struct obj **ret, struct err *e)
{
    return obj_yaml_decode(text, strlen(text), opts, ret, e);
}

static struct obj *ok(const char *text)
{
    struct obj *o = NULL;
    struct err e = {0};
    int r = dec(text, NULL, &o, &e);

    ASSERT_MSG(r == 0, "decoding %s: %s", text, e.msg);
    return o;
}

static void bad(const char *text, int code, const char *msg)
{
    struct obj *o = NULL;
    struct err e = {0};
    int r = dec(text, NULL, &o, &e);

    ASSERT_MSG(r == code, "decoding %.60s: got %d (%s), want %d", text, r,
               e.msg, code);
    ASSERT(o == NULL);
    ASSERT_STR_CONTAINS(e.msg, msg);
}

/* JSON text of @o (malloc'ed). */
static char *json(const struct obj *o)
{
    struct obj_buf b;
    char *s;

    obj_buf_init(&b);
    ASSERT_EQ(obj_json_encode(o, 0, &b, NULL), 0);
    s = strdup(b.data);
    obj_buf_done(&b);
    return s;
}

/* YAML @in reads as the JSON @out. */
static void reads_as(const char *in, const char *out)
{
    struct obj *o = ok(in);
    char *s = json(o);

    ASSERT_MSG(strcmp(s, out) == 0, "%s: got %s, want %s", in, s, out);
    free(s);
    obj_unref(o);
}

/* YAML text of @o (malloc'ed). */
static char *yaml(const struct obj *o)
{
    struct obj_buf b;
    char *s;

    obj_buf_init(&b);
    ASSERT_EQ(obj_yaml_encode(o, false, &b, NULL), 0);
    s = strdup(b.data);
    obj_buf_done(&b);
    return s;
}

TEST(yaml, scalar_types)
{
    static const struct {
        const char *in;  /* A plain scalar. */
        const char *out; /* Its JSON. */
    } cases[] = {
        {"~", "null"},          {"null", "null"},       {"Null", "null"},
        {"", "null"},           {"true", "true"},       {"False", "false"},
        {"yes", "true"},        {"NO", "false"},        {"on", "true"},
        {"Off", "false"},       {"y", "true"},          {"n", "false"},
        {"tRue", "\"tRue\""},   {"0", "0"},             {"-17", "-17"},
        {"+5", "5"},            {"0x1F", "31"},         {"0o17", "15"},
        {"017", "15"},          {"0b101", "5"},         {"1_000", "1000"},
        {"08", "8.0"},          {"1.5", "1.5"},         {"-.5", "-0.5"},
        {".5", "0.5"},          {"1e3", "1000.0"},      {"1.", "1.0"},
        {"-0.0", "-0.0"},       {"1e400", "\"1e400\""},
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"99999999999999999999999", "1e+23"},
        {"2024-01-02", "\"2024-01-02\""},
        {"2024-01-02T03:04:05Z", "\"2024-01-02T03:04:05Z\""},
        {"1:20", "\"1:20\""},   {"0x", "\"0x\""},       {"-x", "\"-x\""},
        {"abc", "\"abc\""},     {"'123'", "\"123\""},   {"\"true\"", "\"true\""},
        {"!!str 123", "\"123\""}, {"!!float 1", "1.0"}, {"!!int \"42\"", "42"},
        {"! 12", "\"12\""},     {"12 # comment", "12"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        reads_as(cases[i].in, cases[i].out);
}

TEST(yaml, unrepresentable_numbers)
{
    bad(".inf", -C8S_EMALFORMED, "number out of range");
    bad("x: -.Inf", -C8S_EMALFORMED, "line 1 column 4");
    bad("[.nan]", -C8S_EMALFORMED, "number out of range");
    bad("18446744073709551615", -C8S_EMALFORMED, "number out of range");
    bad("0xFFFFFFFFFFFFFFFFFF", -C8S_EMALFORMED, "number out of range");
    bad("!!int abc", -C8S_EMALFORMED, "cannot read");
}

TEST(yaml, keys_become_strings)
{
    reads_as("1: a\ntrue: b\nnull: c\n1.5: d\n'q': e\n0x10: f\n",
             "{\"1\":\"a\",\"true\":\"b\",\"null\":\"c\",\"1.5\":\"d\","
             "\"q\":\"e\",\"16\":\"f\"}");
    /* yes and true are the same key once typed. */
    bad("yes: 1\ntrue: 2\n", -C8S_EMALFORMED, "duplicate key \"true\"");
}

TEST(yaml, structure)
{
    reads_as("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
             "  labels: {a: b, c: \"1\"}\ndata:\n  script: |\n    echo hi\n"
             "    exit 0\n  folded: >-\n    one\n    two\nlist:\n- 1\n- [2, 3]\n"
             "- {}\n- []\n- - nested\n",
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
             "{\"name\":\"x\",\"labels\":{\"a\":\"b\",\"c\":\"1\"}},\"data\":"
             "{\"script\":\"echo hi\\nexit 0\\n\",\"folded\":\"one two\"},"
             "\"list\":[1,[2,3],{},[],[\"nested\"]]}");
    bad("a: [1, 2", -C8S_EMALFORMED, "yaml: line");
    bad("a: b\n c: d\n", -C8S_EMALFORMED, "yaml: line 2");
    bad("{[1]: 2}", -C8S_EMALFORMED, "cannot be a map key");
    bad("? {a: 1}\n: 2\n", -C8S_EMALFORMED, "cannot be a map key");
    bad("a: \"\\0\"", -C8S_EMALFORMED, "NUL byte");
}

TEST(yaml, multi_document)
{
    const char *text = "a: 1\n---\nb: 2\n---\n---\n- x\n...\n";
    struct obj *docs = NULL;
    struct err e = {0};
    char *s;

    ASSERT_EQ(obj_yaml_decode_all(text, strlen(text), NULL, &docs, &e), 0);
    s = json(docs);
    ASSERT_STR_EQ(s, "[{\"a\":1},{\"b\":2},null,[\"x\"]]");
    free(s);
    obj_unref(docs);
    bad(text, -C8S_EMALFORMED, "expected a single document");
    ASSERT_EQ(obj_yaml_decode_all("", 0, NULL, &docs, &e), 0);
    ASSERT_EQ(obj_array_len(docs), 0);
    obj_unref(docs);
    reads_as("# only a comment\n", "null");
    reads_as("---\na: 1\n", "{\"a\":1}");
}

TEST(yaml, anchors_aliases_merge)
{
    struct obj *o = ok("base: &b {cpu: 1, mem: 2}\n"
                       "x: *b\n"
                       "w:\n  <<: *b\n  mem: 3\n"
                       "z:\n  mem: 4\n  <<: [*b, {gpu: 1, cpu: 9}]\n"
                       "s: &s hello\nt: *s\n");
    char *s = json(o);

    ASSERT_STR_EQ(s, "{\"base\":{\"cpu\":1,\"mem\":2},"
                     "\"x\":{\"cpu\":1,\"mem\":2},"
                     "\"w\":{\"mem\":3,\"cpu\":1},"
                     "\"z\":{\"mem\":4,\"cpu\":1,\"gpu\":1},"
                     "\"s\":\"hello\",\"t\":\"hello\"}");
    /* An alias shares the node: the tree is shared there. */
    ASSERT(obj_map_get(o, "base") == obj_map_get(o, "x"));
    ASSERT(obj_is_shared(obj_map_get(o, "x")));
    free(s);
    obj_unref(o);
    bad("a: *nope", -C8S_EMALFORMED, "unknown anchor");
    bad("a: &r [1, *r]", -C8S_EMALFORMED, "unknown anchor");
    bad("a:\n  <<: 5\n", -C8S_EMALFORMED, "<< must be followed");
    reads_as("'<<': 1", "{\"<<\":1}");
}

TEST_T(yaml, billion_laughs, 10)
{
    const char *text =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    bad(text, -C8S_ETOOLARGE, "expands to more than 1000000 nodes");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ASSERT((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 <
           1000);
}

TEST(yaml, alias_depth_is_bounded)
{
    struct obj_decode_opts opts = {.max_depth = 4};
    struct obj *o = NULL;

    ASSERT_EQ(dec("a: &a [[1]]\nb: [[*a]]\n", &opts, &o, NULL),
              -C8S_ETOOLARGE);
    ASSERT_EQ(dec("a: &a [[1]]\nb: [*a]\n", &opts, &o, NULL), 0);
    obj_unref(o);
}

TEST(yaml, depth_limit)
{
    size_t n = 10000;
    char *s = malloc(n + 1);

    memset(s, '[', n);
    s[n] = '\0';
    bad(s, -C8S_ETOOLARGE, "nesting deeper than 100 levels");
    for (size_t i = 0; i < n / 4; i++)
        memcpy(s + 4 * i, "- - ", 4);
    bad(s, -C8S_ETOOLARGE, "nesting deeper than 100 levels");
    free(s);
}

TEST(yaml, duplicate_keys)
{
    struct obj_decode_opts last = {.dups = OBJ_DUP_LAST};
    struct obj *o = NULL;

    bad("a: 1\nb: 2\na: 3\n", -C8S_EMALFORMED, "duplicate key \"a\"");
    bad("a: 1\nb: 2\na: 3\n", -C8S_EMALFORMED, "line 3 column 1");
    ASSERT_EQ(dec("a: 1\nb: 2\na: 3\n", &last, &o, NULL), 0);
    ASSERT_EQ(obj_int_or(obj_map_get(o, "a"), 0), 3);
    obj_unref(o);
}

TEST(yaml, encode_layout)
{
    struct obj *o = ok("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                       "{\"name\":\"p\",\"labels\":{}},\"spec\":{\"containers\":"
                       "[{\"name\":\"c\",\"args\":[\"a\",\"true\"],\"ports\":[]}],"
                       "\"replicas\":3,\"ratio\":0.5,\"on\":null,\"x\":\"\"},"
                       "\"data\":{\"script\":\"line1\\nline2\\n\","
                       "\"when\":\"2024-05-01T12:00:00Z\",\"num\":\"0755\","
                       "\"yes\":\"yes\",\"key: v\":\"- x\"}}");
    char *s = yaml(o);

    ASSERT_STR_EQ(s, "apiVersion: v1\n"
                     "kind: Pod\n"
                     "metadata:\n"
                     "  name: p\n"
                     "  labels: {}\n"
                     "spec:\n"
                     "  containers:\n"
                     "  - name: c\n"
                     "    args:\n"
                     "    - a\n"
                     "    - \"true\"\n"
                     "    ports: []\n"
                     "  replicas: 3\n"
                     "  ratio: 0.5\n"
                     "  \"on\": null\n"
                     "  x: \"\"\n"
                     "data:\n"
                     "  script: |\n"
                     "    line1\n"
                     "    line2\n"
                     "  when: \"2024-05-01T12:00:00Z\"\n"
                     "  num: \"0755\"\n"
                     "  \"yes\": \"yes\"\n"
                     "  'key: v': '- x'\n");
    free(s);
    obj_unref(o);
}

TEST(yaml, tricky_strings_round_trip)
{
    static const char *const strs[] = {
        "", " ", "true", "True", "null", "~", "y", "N", "1", "-1", "1.5",
        "1e3", "0x10", "0o7", "07", "1_0", ".5", "-.inf", ".NaN", "1:20",
        "2001-12-14", "<<", "-", "- a", "a: b", "#x", "a #b", "&a", "*a",
        "!t", "%x", "@x", "`x", "{x}", "[x]", "|x", ">x", "?x", ",x", "'x'",
        "\"x\"", " lead", "trail ", "tab\there", "multi\nline", "end\n",
        "two\n\n", "\n lead", "crlf\r\n", "bell\x07", "caf\xc3\xa9",
        "\xf0\x9f\x98\x80", "\xe2\x80\xa8", "\xc2\x85next", "=", "0.", "+",
        "null\n", "a\\b", "x:", "http://x/y", "--- x", "...",
    };

    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        struct obj *m = obj_map_new(), *back = NULL;
        struct err e = {0};
        char *s;

        ASSERT_EQ(obj_map_set(m, strs[i], obj_str_new_c(strs[i])), 0);
        s = yaml(m);
        ASSERT_MSG(dec(s, NULL, &back, &e) == 0, "%s: %s", s, e.msg);
        ASSERT_MSG(obj_equal(m, back), "string %zu did not survive: %s", i,
                   s);
        free(s);
        obj_unref(m);
        obj_unref(back);
    }
}

TEST(yaml, truncated_everywhere)
{
    char *text = corpus_json(0);
    struct obj *o = NULL;
    struct obj_buf b;

    ASSERT_EQ(obj_json_decode(text, strlen(text), NULL, &o, NULL), 0);
    obj_buf_init(&b);
    ASSERT_EQ(obj_yaml_encode(o, true, &b, NULL), 0);
    for (size_t n = 0; n < b.len; n++) {
        struct obj *t = NULL;
        int r = obj_yaml_decode(b.data, n, NULL, &t, NULL);

        /* A YAML prefix is often a valid document: only no crash or leak,
         * and any failure a clean one. */
        ASSERT_MSG(r == 0 || r == -C8S_EMALFORMED, "cut at %zu: %d", n, r);
        obj_unref(t);
    }
    obj_buf_done(&b);
    obj_unref(o);
    free(text);
}

TEST(yaml, alloc_failures)
{
    const char *text = "base: &b {cpu: 1, mem: [1, 2.5, x]}\n"
                       "w:\n  <<: *b\n  mem: 3\n"
                       "z: [*b, *b, 'q', 0x10, true, ~]\n";
    unsigned long seen = 0;

    for (int k = 0;; k++) {
        struct obj *o = NULL;
        struct err e = {0};
        int r;

        mem_fault_arm(k, 1);
        r = dec(text, NULL, &o, &e);
        mem_fault_arm(-1, 0);
        if (mem_fault_count() == seen) {
            ASSERT_EQ(r, 0);
            obj_unref(o);
            break;
        }
        seen = mem_fault_count();
        ASSERT_MSG(r == -ENOMEM, "fault at %d: %d %s", k, r, e.msg);
    }
}

TEST(yaml, encode_alloc_failures)
{
    char *text = corpus_json(0);
    struct obj *o = NULL;

    ASSERT_EQ(obj_json_decode(text, strlen(text), NULL, &o, NULL), 0);
    for (int k = 0;; k++) {
        struct obj_buf b;
        unsigned long before = mem_fault_count();
        int r;

        obj_buf_init(&b);
        mem_fault_arm(k, 1);
        r = obj_yaml_encode(o, false, &b, NULL);
        mem_fault_arm(-1, 0);
        obj_buf_done(&b);
        if (mem_fault_count() == before) {
            ASSERT_EQ(r, 0);
            break;
        }
        ASSERT_EQ(r, -ENOMEM);
    }
    obj_unref(o);
    free(text);
}

UNIT_MAIN()
