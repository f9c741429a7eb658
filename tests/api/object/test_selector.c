/* Label and field selectors: the cases of Kubernetes' labels and fields
 * selector tests, rewritten as tables (parse OK with the canonical text,
 * parse errors with their message, match / no match), plus the structured
 * LabelSelector, out-of-memory unwinding and message limits. */
#include <errno.h>

#include "api/object/codec.h"
#include "api/object/selector.h"
#include "lib/mem.h"
#include "tests/lib/unit.h"

/* A JSON text as a tree (the test fails on bad JSON). */
static struct obj *json(const char *text)
{
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_json_decode(text, strlen(text), NULL, &o, &e) == 0,
               "bad test JSON %s: %s", text, e.msg);
    return o;
}

static struct obj_lsel *lsel(const char *text)
{
    struct obj_lsel *s = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_lsel_parse(text, strlen(text), &s, &e) == 0,
               "\"%s\" failed: %s", text, e.msg);
    return s;
}

/* ---- label selectors: text ---------------------------------------------- */

/* A selector that parses, and its canonical text (Selector.String()). */
struct good_case {
    const char *in;    /* Selector text. */
    const char *canon; /* What it prints as. */
};

static const struct good_case good[] = {
    {"", ""},
    {"   \t\r\n", ""},
    {"x=a,y=b,z=c", "x=a,y=b,z=c"},
    {"z=c,y=b,x=a", "x=a,y=b,z=c"},
    {"x!=a,y=b", "x!=a,y=b"},
    {"x==a", "x==a"},
    {"x=", "x="},
    {"x= ", "x="},
    {"x=,z= ", "x=,z="},
    {"x= ,z= ", "x=,z="},
    {" x = a , y != b ", "x=a,y!=b"},
    {"x", "x"},
    {"!x", "!x"},
    {"! x", "!x"},
    {"!x,y", "!x,y"},
    {"x>1", "x>1"},
    {"x>1,z<5", "x>1,z<5"},
    {"x>007", "x>007"},
    {"x<9223372036854775807", "x<9223372036854775807"},
    {"x in (a)", "x in (a)"},
    {"x in (b,a,b)", "x in (a,b)"},
    {" x in ( a , b ) ", "x in (a,b)"},
    {"x\tin\t(a)", "x in (a)"},
    {"x in (a,)", "x in (,a)"},
    {"x in (,a)", "x in (,a)"},
    {"x in (a,,b)", "x in (,a,b)"},
    {"x in (,)", "x in ()"},
    {"x in ()", "x in ()"},
    {"x notin ()", "x notin ()"},
    {"x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"},
    {"x notin (a,b)", "x notin (a,b)"},
    /* Keywords are values (and keys) where an identifier is expected. */
    {"in in (in)", "in in (in)"},
    {"notin notin (notin,in)", "notin notin (in,notin)"},
    {"x=in", "x=in"},
    {"x==notin", "x==notin"},
    /* Duplicate keys are kept, in written order. */
    {"x=a,x=b", "x=a,x=b"},
    {"x in (a),y,x notin (b)", "x in (a),x notin (b),y"},
    /* Keys: prefix, name characters, lengths. */
    {"example.com/x=a", "example.com/x=a"},
    {"a.b-c.d/X_y.Z-9", "a.b-c.d/X_y.Z-9"},
    {"x=a-b_c.D9", "x=a-b_c.D9"},
    {"0=1", "0=1"},
};

/* A selector that fails, and the start of its message. */
struct bad_case {
    const char *in;  /* Selector text. */
    const char *msg; /* Expected message prefix. */
};

#define REQ "unable to parse requirement: "
#define KEY_NAME_MSG                                                          \
    "name part must consist of alphanumeric characters, '-', '_' or '.', "   \
    "and must start and end with an alphanumeric character (e.g. "          \
    "'MyName',  or 'my.name',  or '123-abc', regex used for validation is " \
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define VALUE_MSG                                                             \
    "a valid label must be an empty string or consist of alphanumeric "      \
    "characters, '-', '_' or '.', and must start and end with an "          \
    "alphanumeric character"

static const struct bad_case lbad[] = {
    {",", "found ',', expected: !, identifier, or 'end of string'"},
    {",x", "found ',', expected: !, identifier, or 'end of string'"},
    {"x,", "found '', expected: identifier after ','"},
    {"x,,y", "found ',', expected: identifier after ','"},
    {"x=a,=b", "found '=', expected: identifier after ','"},
    {"x=a y=b", "found 'y', expected: ',' or 'end of string'"},
    {"x==a==b", "found '==', expected: ',' or 'end of string'"},
    {"!x=a", "found '=', expected: ',' or 'end of string'"},
    {"x in (a) b", "found 'b', expected: ',' or 'end of string'"},
    {"x y", REQ "found 'y', expected: in, notin, =, ==, !=, gt, lt"},
    {"x ( a )", REQ "found '(', expected: in, notin, =, ==, !=, gt, lt"},
    {"x!", REQ "found '!', expected: in, notin, =, ==, !=, gt, lt"},
    {"!", REQ "found '', expected: identifier"},
    {"!!x", REQ "found '!', expected: identifier"},
    {"x=(a)", REQ "found '(', expected: identifier"},
    {"x in", REQ "found '' expected: '('"},
    {"x notin a", REQ "found 'a' expected: '('"},
    {"x in ((a)", REQ "found '(', expected: ',', ')' or identifier"},
    {"x in (a", REQ "found '', expected: ',' or ')'"},
    {"x in (a b)", REQ "found 'b', expected: ',' or ')'"},
    {"x in (a,=)", REQ "found '=', expected: ',', or identifier"},
    {"x in (a,", REQ "found '', expected: ',', or identifier"},
    /* Keys are checked with Kubernetes' nil field path. */
    {"-x", REQ "<nil>: Invalid value: \"-x\": " KEY_NAME_MSG},
    {"x-=a", REQ "<nil>: Invalid value: \"x-\": " KEY_NAME_MSG},
    {"a/b/c", REQ "<nil>: Invalid value: \"a/b/c\": a qualified name must "
              "consist of"},
    {"/x", REQ "<nil>: Invalid value: \"/x\": prefix part must be "
           "non-empty"},
    {"x/", REQ "<nil>: Invalid value: \"x/\": name part must be non-empty; "
           "name part must consist of"},
    {"Example.com/x", REQ "<nil>: Invalid value: \"Example.com/x\": prefix "
                      "part a lowercase RFC 1123 subdomain must consist"},
    {"a..b/x", REQ "<nil>: Invalid value: \"a..b/x\": prefix part a "
               "lowercase RFC 1123"},
    {"x|y", REQ "<nil>: Invalid value: \"x|y\": " KEY_NAME_MSG},
    {"caf\xc3\xa9", REQ "<nil>: Invalid value: \"caf\xc3\xa9\": name part"},
    {"a\"b", REQ "<nil>: Invalid value: \"a\\\"b\": name part"},
    {"a\x01" "b", REQ "<nil>: Invalid value: \"a\\x01b\": name part"},
    /* Values. */
    {"x=a||b", REQ "values[0][x]: Invalid value: \"a||b\": " VALUE_MSG},
    {"x=-a", REQ "values[0][x]: Invalid value: \"-a\": " VALUE_MSG},
    {"x in (a,-b)", REQ "values[0][x]: Invalid value: \"-b\": "},
    {"x in (-a,-b)", REQ "[values[0][x]: Invalid value: \"-a\": " VALUE_MSG},
    /* Gt / Lt need integers (and valid label values). */
    {"x<a", REQ "values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, "
            "the value must be an integer"},
    {"x>1.5", REQ "values[0]: Invalid value: \"1.5\": for 'Gt', 'Lt' "
              "operators, the value must be an integer"},
    {"x>", REQ "values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators"},
    {"x>9223372036854775808", REQ "values[0]: Invalid value: "
                              "\"9223372036854775808\": for 'Gt'"},
    {"x>-1", REQ "values[0][x]: Invalid value: \"-1\": " VALUE_MSG},
    {"x<1e3", REQ "values[0]: Invalid value: \"1e3\": for 'Gt'"},
};

TEST(lsel, parse_good)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct obj_lsel *s = lsel(good[i].in), *again;
        char *text = obj_lsel_string(s), *text2;

        ASSERT_MSG(text != NULL && strcmp(text, good[i].canon) == 0,
                   "\"%s\" printed as \"%s\", want \"%s\"", good[i].in,
                   text ? text : "(null)", good[i].canon);
        /* The canonical text parses back to the same selector. */
        again = lsel(text);
        text2 = obj_lsel_string(again);
        ASSERT_STR_EQ(text2, text);
        mem_free(text);
        mem_free(text2);
        obj_lsel_free(again);
        obj_lsel_free(s);
    }
}

TEST(lsel, parse_bad)
{
    for (size_t i = 0; i < sizeof lbad / sizeof lbad[0]; i++) {
        const struct bad_case *c = &lbad[i];
        struct obj_lsel *s = NULL;
        struct err e = {0};
        int rc = obj_lsel_parse(c->in, strlen(c->in), &s, &e);
        size_t n = strlen(c->msg);

        ASSERT_MSG(rc == -C8S_EMALFORMED, "\"%s\" gave %d", c->in, rc);
        ASSERT(s == NULL);
        ASSERT_EQ(e.code, -C8S_EMALFORMED);
        /* Messages are cut at ERR_MSG_SIZE; compare what fits. */
        if (n > ERR_MSG_SIZE - 1)
            n = ERR_MSG_SIZE - 1;
        ASSERT_MSG(strncmp(e.msg, c->msg, n) == 0,
                   "\"%s\":\n got  %s\n want %s", c->in, e.msg, c->msg);
    }
}

/* What a validation callback saw. */
struct causes {
    char text[8][512]; /* "field|reason|message" per cause. */
    size_t n;          /* Causes seen. */
};

static void collect(void *arg, const struct obj_field_error *fe)
{
    struct causes *c = arg;

    if (c->n < 8)
        (void)snprintf(c->text[c->n], sizeof c->text[0], "%s|%s|%s",
                       fe->field, fe->reason, fe->message);
    c->n++;
}

/* A label key with a @prefix of 254 bytes, through validation. */
static void check_long_prefix(const char *prefix)
{
    char text[400];
    struct causes got = {.n = 0};
    struct obj *ls;

    (void)snprintf(text, sizeof text, "{\"matchLabels\":{\"%s/x\":\"\"}}",
                   prefix);
    ls = json(text);
    ASSERT_EQ(obj_lsel_validate(ls, "", collect, &got, NULL),
              -C8S_EMALFORMED);
    ASSERT_EQ(got.n, 1);
    ASSERT_STR_CONTAINS(got.text[0], "\": prefix part must be no more than "
                                     "253 characters");
    obj_unref(ls);
}

/* Keys and values at and just past Kubernetes' length limits. */
TEST(lsel, lengths)
{
    char key[64 + 1], prefix[254 + 1], text[400];
    struct obj_lsel *s = NULL;
    struct err e = {0};

    memset(key, 'k', 63);
    key[63] = '\0';
    (void)snprintf(text, sizeof text, "%s=%s", key, key);
    obj_lsel_free(lsel(text));

    memset(key, 'k', 64);
    key[64] = '\0';
    (void)snprintf(text, sizeof text, "%s=a", key);
    ASSERT_EQ(obj_lsel_parse(text, strlen(text), &s, &e), -C8S_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "\": name part must be no more than 63 "
                               "characters");
    (void)snprintf(text, sizeof text, "a=%s", key);
    ASSERT_EQ(obj_lsel_parse(text, strlen(text), &s, &e), -C8S_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, REQ "values[0][a]: Invalid value: \"kkkk");
    ASSERT_STR_CONTAINS(e.msg, "\": must be no more than 63 characters");

    /* A 253-byte prefix is fine, 254 is not. */
    memset(prefix, 'p', 253);
    prefix[253] = '\0';
    (void)snprintf(text, sizeof text, "%s/x", prefix);
    obj_lsel_free(lsel(text));
    memset(prefix, 'p', 254);
    prefix[254] = '\0';
    (void)snprintf(text, sizeof text, "%s/x", prefix);
    ASSERT_EQ(obj_lsel_parse(text, strlen(text), &s, &e), -C8S_EMALFORMED);
    /* The whole message fits in struct err (its buffer is 1 KiB so that
     * Kubernetes' long pattern hints reach the user uncut). */
    ASSERT(strlen(e.msg) < ERR_MSG_SIZE - 1);
    ASSERT_STR_CONTAINS(e.msg, "must be no more than 253 characters");
    ASSERT(strncmp(e.msg, REQ "<nil>: Invalid value: \"pppp", 41) == 0);
    check_long_prefix(prefix);
}

/* Go's lexer reads a NUL byte as the end of input where a token starts,
 * and as the end of an identifier inside one. */
TEST(lsel, nul_bytes)
{
    struct obj_lsel *s = NULL;
    struct err e = {0};
    char *text;

    ASSERT_EQ(obj_lsel_parse("\0x=a", 4, &s, &e), 0);
    ASSERT(obj_lsel_is_everything(s));
    obj_lsel_free(s);
    ASSERT_EQ(obj_lsel_parse("x\0", 2, &s, &e), 0);
    text = obj_lsel_string(s);
    ASSERT_STR_EQ(text, "x");
    mem_free(text);
    obj_lsel_free(s);
    ASSERT_EQ(obj_lsel_parse("x=a\0b", 5, &s, &e), -C8S_EMALFORMED);
    ASSERT_STR_EQ(e.msg, "found 'b', expected: ',' or 'end of string'");
}

/* Bytes that are not UTF-8 never reach a message as they are: messages end
 * up in JSON. */
TEST(lsel, messages_stay_utf8)
{
    struct obj_lsel *s = NULL;
    struct err e = {0};

    ASSERT_EQ(obj_lsel_parse("x y\xff", 4, &s, &e), -C8S_EMALFORMED);
    ASSERT_STR_EQ(e.msg, REQ "found 'y\xef\xbf\xbd', expected: in, notin, "
                             "=, ==, !=, gt, lt");
    ASSERT_EQ(obj_lsel_parse("\xff", 1, &s, &e), -C8S_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "Invalid value: \"\\xff\"");
    ASSERT(obj_utf8_check(e.msg, strlen(e.msg), NULL));
}

/* A selector, labels as JSON, and whether they match. */
struct match_case {
    const char *sel;    /* Selector text. */
    const char *labels; /* Labels map (JSON), or NULL for none. */
    bool match;         /* Expected result. */
};

#define L "{\"x\":\"a\",\"n\":\"5\",\"e\":\"\",\"neg\":\"-3\"}"

static const struct match_case matches[] = {
    {"", L, true},
    {"", NULL, true},
    {"x=a", L, true},
    {"x==a", L, true},
    {"x=b", L, false},
    {"y=b", L, false},
    {"x!=b", L, true},
    {"x!=a", L, false},
    {"y!=b", L, true}, /* != matches objects without the key. */
    {"y!=b", NULL, true},
    {"x in (a,b)", L, true},
    {"x in (b,c)", L, false},
    {"y in (a)", L, false},
    {"x notin (a)", L, false},
    {"x notin (b)", L, true},
    {"y notin (a)", L, true}, /* notin too. */
    {"x", L, true},
    {"y", L, false},
    {"!x", L, false},
    {"!y", L, true},
    {"!y", NULL, true},
    {"x", NULL, false},
    {"e=", L, true},  /* Present with the empty value. */
    {"y=", L, false}, /* = needs the key. */
    {"y!=", L, true},
    {"e!=", L, false},
    {"e in ()", L, true},
    {"y in ()", L, false},
    {"e notin ()", L, false},
    {"y notin ()", L, true},
    {"e", L, true},
    {"n>4", L, true},
    {"n>5", L, false},
    {"n<6", L, true},
    {"n<5", L, false},
    {"n>04", L, true},
    {"neg<0", L, true},
    {"neg>-4", L, false}, /* "-4" is no label value: parse fails; below. */
    {"x>1", L, false},    /* Not an integer label. */
    {"y>1", L, false},
    {"y<1", L, false},
    {"x=a,n=5", L, true},
    {"x=a,n=6", L, false},
    {"x=a,x=b", L, false},
    {"x in (a),x notin (b)", L, true},
    {"x=a,!y,n in (4,5),e", L, true},
    {"x", "{\"x\":1}", true},   /* Values that are not strings... */
    {"x=1", "{\"x\":1}", true}, /* ...compare as their text. */
    {"x=true", "{\"x\":true}", true},
    {"x", "[]", false}, /* Not a map: no labels. */
};

TEST(lsel, match)
{
    for (size_t i = 0; i < sizeof matches / sizeof matches[0]; i++) {
        const struct match_case *c = &matches[i];
        struct obj_lsel *s = NULL;
        struct obj *labels = c->labels ? json(c->labels) : NULL;
        struct err e = {0};

        if (obj_lsel_parse(c->sel, strlen(c->sel), &s, &e) != 0) {
            /* Only the one documented case above may fail. */
            ASSERT_STR_EQ(c->sel, "neg>-4");
            obj_unref(labels);
            continue;
        }
        ASSERT_MSG(obj_lsel_match(s, labels) == c->match,
                   "\"%s\" against %s: want %s", c->sel,
                   c->labels ? c->labels : "(none)",
                   c->match ? "match" : "no match");
        obj_lsel_free(s);
        obj_unref(labels);
    }
}

TEST(lsel, match_obj)
{
    struct obj *pod = json("{\"metadata\":{\"name\":\"p\",\"labels\":"
                           "{\"app\":\"web\"}}}");
    struct obj *bare = json("{\"metadata\":{\"name\":\"q\"}}");
    struct obj_lsel *s = lsel("app=web"), *n = lsel("!app");

    ASSERT(obj_lsel_match_obj(s, pod));
    ASSERT(!obj_lsel_match_obj(s, bare));
    ASSERT(!obj_lsel_match_obj(n, pod));
    ASSERT(obj_lsel_match_obj(n, bare));
    ASSERT(!obj_lsel_is_everything(s));
    obj_lsel_free(s);
    obj_lsel_free(n);
    obj_unref(pod);
    obj_unref(bare);
}

TEST(lsel, exact)
{
    struct obj_lsel *s = lsel("x=a,y in (b),z in (c,d),w!=e,v==f,u,!t");
    const char *v = NULL;

    ASSERT(obj_lsel_exact(s, "x", &v));
    ASSERT_STR_EQ(v, "a");
    ASSERT(obj_lsel_exact(s, "y", &v));
    ASSERT_STR_EQ(v, "b");
    ASSERT(obj_lsel_exact(s, "v", &v));
    ASSERT_STR_EQ(v, "f");
    ASSERT(!obj_lsel_exact(s, "z", &v));
    ASSERT(!obj_lsel_exact(s, "w", &v));
    ASSERT(!obj_lsel_exact(s, "u", &v));
    ASSERT(!obj_lsel_exact(s, "t", &v));
    ASSERT(!obj_lsel_exact(s, "q", &v));
    obj_lsel_free(s);
    /* Only the first requirement on a key (in key order) counts. */
    s = lsel("k!=a,k=b");
    ASSERT(!obj_lsel_exact(s, "k", &v));
    obj_lsel_free(s);
    s = lsel("k=b,k!=a");
    ASSERT(obj_lsel_exact(s, "k", &v));
    ASSERT_STR_EQ(v, "b");
    obj_lsel_free(s);
}

/* ---- label selectors: structured ---------------------------------------- */

TEST(lsel, structured_match)
{
    struct obj *ls = json(
        "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
        "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]},"
        "{\"key\":\"old\",\"operator\":\"DoesNotExist\"},"
        "{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"dev\"]},"
        "{\"key\":\"app\",\"operator\":\"Exists\",\"values\":null}]}");
    struct obj *yes = json("{\"app\":\"web\",\"tier\":\"b\"}");
    struct obj *no1 = json("{\"app\":\"web\",\"tier\":\"c\"}");
    struct obj *no2 = json("{\"app\":\"web\",\"tier\":\"a\",\"old\":\"1\"}");
    struct obj *no3 = json("{\"app\":\"web\",\"tier\":\"a\",\"env\":\"dev\"}");
    struct obj_lsel *s = NULL;
    struct err e = {0};
    char *text;

    ASSERT_EQ(obj_lsel_validate(ls, "spec.selector", NULL, NULL, &e), 0);
    ASSERT_EQ(obj_lsel_from_obj(ls, &s, &e), 0);
    text = obj_lsel_string(s);
    ASSERT_STR_EQ(text, "app=web,app,env notin (dev),!old,tier in (a,b)");
    mem_free(text);
    ASSERT(obj_lsel_match(s, yes));
    ASSERT(!obj_lsel_match(s, no1));
    ASSERT(!obj_lsel_match(s, no2));
    ASSERT(!obj_lsel_match(s, no3));
    obj_lsel_free(s);
    obj_unref(ls);
    obj_unref(yes);
    obj_unref(no1);
    obj_unref(no2);
    obj_unref(no3);
}

TEST(lsel, structured_empty_and_null)
{
    struct obj *empty = json("{}"), *none = json("null");
    struct obj *labels = json("{\"a\":\"b\"}");
    struct obj_lsel *s = NULL;
    char *text;

    /* {} selects everything; a missing selector selects nothing. */
    ASSERT_EQ(obj_lsel_from_obj(empty, &s, NULL), 0);
    ASSERT(obj_lsel_is_everything(s) && obj_lsel_match(s, labels));
    obj_lsel_free(s);
    ASSERT_EQ(obj_lsel_from_obj(none, &s, NULL), 0);
    ASSERT(!obj_lsel_is_everything(s) && !obj_lsel_match(s, labels));
    ASSERT(!obj_lsel_match(s, NULL));
    text = obj_lsel_string(s);
    ASSERT_STR_EQ(text, "");
    mem_free(text);
    obj_lsel_free(s);
    ASSERT_EQ(obj_lsel_from_obj(NULL, &s, NULL), 0);
    ASSERT(s->nothing);
    obj_lsel_free(s);
    ASSERT_EQ(obj_lsel_validate(NULL, "spec.selector", NULL, NULL, NULL), 0);
    ASSERT_EQ(obj_lsel_validate(none, "spec.selector", NULL, NULL, NULL), 0);
    ASSERT_EQ(obj_lsel_validate(empty, "spec.selector", NULL, NULL, NULL), 0);
    obj_unref(empty);
    obj_unref(none);
    obj_unref(labels);
}

TEST(lsel, from_map)
{
    struct obj *set = json("{\"app\":\"web\",\"tier\":\"db\"}");
    struct obj *bad = json("{\"app\":\"-web\"}");
    struct obj *labels = json("{\"app\":\"web\",\"tier\":\"db\",\"x\":\"y\"}");
    struct obj_lsel *s = NULL;
    struct err e = {0};
    const char *v;

    ASSERT_EQ(obj_lsel_from_map(set, &s, &e), 0);
    ASSERT(obj_lsel_match(s, labels));
    ASSERT(obj_lsel_match(s, set));
    ASSERT(!obj_lsel_match(s, bad));
    ASSERT(obj_lsel_exact(s, "tier", &v));
    ASSERT_STR_EQ(v, "db");
    obj_lsel_free(s);
    ASSERT_EQ(obj_lsel_from_map(NULL, &s, &e), 0);
    ASSERT(obj_lsel_is_everything(s));
    obj_lsel_free(s);
    ASSERT_EQ(obj_lsel_from_map(bad, &s, &e), -C8S_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "values[0][app]: Invalid value: \"-web\"");
    obj_unref(set);
    obj_unref(bad);
    obj_unref(labels);
}

/* A structured selector, the causes validation reports (in order), and
 * the start of obj_lsel_from_obj()'s message. */
struct struct_case {
    const char *json;      /* The LabelSelector. */
    const char *causes[3]; /* Expected causes' prefixes, NULL-padded. */
    const char *convert;   /* from_obj message prefix; NULL: converts. */
};

#define SP "spec.selector."

static const struct struct_case structs[] = {
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}",
     {SP "matchExpressions[0].operator|FieldValueInvalid|Invalid value: "
         "\"Foo\": not a valid selector operator"},
     "\"Foo\" is not a valid label selector operator"},
    {"{\"matchExpressions\":[{\"key\":\"a\"}]}",
     {SP "matchExpressions[0].operator|FieldValueInvalid|Invalid value: "
         "\"\": not a valid selector operator"},
     "\"\" is not a valid label selector operator"},
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
     {SP "matchExpressions[0].values|FieldValueRequired|Required value: "
         "must be specified when `operator` is 'In' or 'NotIn'"},
     "values: Invalid value: []string(nil): for 'in', 'notin' operators, "
     "values set can't be empty"},
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"NotIn\","
     "\"values\":[]}]}",
     {SP "matchExpressions[0].values|FieldValueRequired|"},
     "values: Invalid value: []string(nil)"},
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\","
     "\"values\":[\"x\",\"y\"]}]}",
     {SP "matchExpressions[0].values|FieldValueForbidden|Forbidden: may not "
         "be specified when `operator` is 'Exists' or 'DoesNotExist'"},
     "values: Invalid value: []string{\"x\", \"y\"}: values set must be "
     "empty for exists and does not exist"},
    {"{\"matchExpressions\":[{\"key\":\"-a\",\"operator\":\"In\","
     "\"values\":[\"ok\",\"-b\"]}]}",
     {SP "matchExpressions[0].key|FieldValueInvalid|Invalid value: \"-a\": "
         "name part must consist",
      SP "matchExpressions[0].values[1]|FieldValueInvalid|Invalid value: "
         "\"-b\": a valid label must be"},
     "[key: Invalid value: \"-a\": name part must consist"},
    {"{\"matchLabels\":{\"a/b/c\":\"x\",\"ok\":\"-v\"}}",
     {SP "matchLabels|FieldValueInvalid|Invalid value: \"a/b/c\": a "
         "qualified name",
      SP "matchLabels|FieldValueInvalid|Invalid value: \"-v\": a valid "
         "label"},
     "key: Invalid value: \"a/b/c\": a qualified name"},
    {"{\"matchLabels\":{\"x\":\"\"}}", {NULL}, NULL},
    {"{\"matchLabels\":[]}",
     {SP "matchLabels|FieldValueTypeInvalid|Invalid value: \"array\": "
         "expected map"},
     "label selector: matchLabels must be an object"},
    {"{\"matchLabels\":{\"x\":1}}",
     {SP "matchLabels|FieldValueTypeInvalid|Invalid value: \"int\": "
         "expected string"},
     "label selector: a label value must be a string"},
    {"{\"matchExpressions\":{}}",
     {SP "matchExpressions|FieldValueTypeInvalid|"},
     "label selector: matchExpressions must be an array"},
    {"{\"matchExpressions\":[1]}",
     {SP "matchExpressions[0]|FieldValueTypeInvalid|"},
     "label selector: each of matchExpressions must be an object"},
    {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\","
     "\"values\":[1]}]}",
     {SP "matchExpressions[0].values[0]|FieldValueTypeInvalid|"},
     "label selector: each of values must be a string"},
    {"[]", {"spec.selector|FieldValueTypeInvalid|"},
     "label selector: a selector must be an object"},
};

TEST(lsel, structured_validation)
{
    for (size_t i = 0; i < sizeof structs / sizeof structs[0]; i++) {
        const struct struct_case *c = &structs[i];
        struct obj *ls = json(c->json);
        struct causes got = {.n = 0};
        struct obj_lsel *s = NULL;
        struct err e = {0};
        size_t want = 0;
        int rc = obj_lsel_validate(ls, "spec.selector", collect, &got, &e);

        while (want < 3 && c->causes[want] != NULL)
            want++;
        ASSERT_MSG(got.n == want, "%s: %zu causes, want %zu (first: %s)",
                   c->json, got.n, want, got.n ? got.text[0] : "-");
        ASSERT_EQ(rc, want ? -C8S_EMALFORMED : 0);
        for (size_t j = 0; j < want; j++)
            ASSERT_MSG(strncmp(got.text[j], c->causes[j],
                               strlen(c->causes[j])) == 0,
                       "%s:\n got  %s\n want %s", c->json, got.text[j],
                       c->causes[j]);
        rc = obj_lsel_from_obj(ls, &s, &e);
        if (c->convert == NULL) {
            ASSERT_EQ(rc, 0);
            obj_lsel_free(s);
        } else {
            ASSERT_EQ(rc, -C8S_EMALFORMED);
            ASSERT_MSG(strncmp(e.msg, c->convert, strlen(c->convert)) == 0,
                       "%s:\n got  %s\n want %s", c->json, e.msg,
                       c->convert);
        }
        obj_unref(ls);
    }
}

/* The aggregate message: one error alone, several in brackets, a repeat
 * once; and the root path. */
TEST(lsel, validation_aggregate)
{
    struct obj *one = json("{\"matchLabels\":{\"-a\":\"x\"}}");
    struct obj *two = json("{\"matchLabels\":{\"-a\":\"-x\"}}");
    struct obj *rep = json("{\"matchExpressions\":["
                           "{\"key\":\"a\",\"operator\":\"X\"},"
                           "{\"key\":\"a\",\"operator\":\"X\"}]}");
    struct causes got = {.n = 0};
    struct err e = {0};

    ASSERT_EQ(obj_lsel_validate(one, "spec.selector", NULL, NULL, &e),
              -C8S_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "spec.selector.matchLabels: Invalid value: "
                               "\"-a\": name part");
    ASSERT(e.msg[0] == 's');
    ASSERT_EQ(obj_lsel_validate(two, "", NULL, NULL, &e), -C8S_EMALFORMED);
    ASSERT(strncmp(e.msg, "[matchLabels: Invalid value: \"-a\"", 33) == 0);
    ASSERT_EQ(obj_lsel_validate(rep, "s", collect, &got, &e),
              -C8S_EMALFORMED);
    ASSERT_EQ(got.n, 2);
    ASSERT_STR_EQ(e.msg, "[s.matchExpressions[0].operator: Invalid value: "
                         "\"X\": not a valid selector operator, "
                         "s.matchExpressions[1].operator: Invalid value: "
                         "\"X\": not a valid selector operator]");
    obj_unref(one);
    obj_unref(two);
    obj_unref(rep);
}

/* ---- field selectors ----------------------------------------------------- */

static const char *const pod_fields[] = {"metadata.name", "metadata.namespace",
                                         "spec.nodeName", "status.phase",
                                         NULL};

static struct obj_fsel *fsel(const char *text)
{
    struct obj_fsel *s = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_fsel_parse(text, strlen(text), pod_fields, &s, &e) == 0,
               "\"%s\" failed: %s", text, e.msg);
    return s;
}

/* A field selector, a pod (JSON), and whether it matches. */
struct fmatch_case {
    const char *sel; /* Selector text. */
    const char *pod; /* Object. */
    bool match;      /* Expected result. */
};

#define POD_ON(node)                                                          \
    "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\"},"                 \
    "\"spec\":{\"nodeName\":\"" node "\"},\"status\":{\"phase\":\"Running\"}}"
#define POD_UNSCHEDULED                                                       \
    "{\"metadata\":{\"name\":\"a,b=c\\\\d\",\"namespace\":\"ns\"},"         \
    "\"spec\":{},\"status\":{\"phase\":\"Pending\"}}"

static const struct fmatch_case fmatches[] = {
    {"", POD_ON("n1"), true},
    {",,", POD_ON("n1"), true},
    {"spec.nodeName=n1", POD_ON("n1"), true},
    {"spec.nodeName==n1", POD_ON("n1"), true},
    {"spec.nodeName=n2", POD_ON("n1"), false},
    {"spec.nodeName!=n2", POD_ON("n1"), true},
    {"spec.nodeName!=n1", POD_ON("n1"), false},
    /* Missing values compare as "": spec.nodeName= selects unscheduled. */
    {"spec.nodeName=", POD_UNSCHEDULED, true},
    {"spec.nodeName=", POD_ON("n1"), false},
    {"spec.nodeName!=", POD_ON("n1"), true},
    {"spec.nodeName!=", POD_UNSCHEDULED, false},
    {"status.phase!=Running,spec.nodeName=n1", POD_ON("n1"), false},
    {"status.phase=Running,spec.nodeName=n1", POD_ON("n1"), true},
    {"metadata.namespace=ns,metadata.name=p1", POD_ON("n1"), true},
    {"metadata.name=p1,metadata.name=p2", POD_ON("n1"), false},
    /* Escapes in values. */
    {"metadata.name=a\\,b\\=c\\\\d", POD_UNSCHEDULED, true},
    {"metadata.name!=a\\,b\\=c\\\\d", POD_UNSCHEDULED, false},
    {"metadata.name=a\\,b", POD_UNSCHEDULED, false},
    /* '!' needs no escape in a value. */
    {"metadata.name=p!1", POD_ON("n1"), false},
    {"metadata.name!=p!1", POD_ON("n1"), true},
};

TEST(fsel, match)
{
    for (size_t i = 0; i < sizeof fmatches / sizeof fmatches[0]; i++) {
        const struct fmatch_case *c = &fmatches[i];
        struct obj_fsel *s = fsel(c->sel);
        struct obj *pod = json(c->pod);

        ASSERT_MSG(obj_fsel_match(s, pod) == c->match, "\"%s\" on %s: want %s",
                   c->sel, c->pod, c->match ? "match" : "no match");
        obj_fsel_free(s);
        obj_unref(pod);
    }
}

static const struct bad_case fbad[] = {
    {"foo=bar", "field label not supported: foo"},
    {"=bar", "field label not supported: "},
    {"metadata.name = x", "field label not supported: metadata.name "},
    {" metadata.name=x", "field label not supported:  metadata.name"},
    /* Terms are sorted before the labels are checked. */
    {"zzz=1,aaa=2", "field label not supported: aaa"},
    {"metadata.name", "invalid selector: 'metadata.name'; can't understand "
                      "'metadata.name'"},
    /* Syntax errors in any term come before unsupported labels. */
    {"foo=bar,metadata.name", "invalid selector: 'foo=bar,metadata.name'; "
                              "can't understand 'metadata.name'"},
    {"metadata.name=a=b", "invalid field selector: unescaped character in "
                          "value: 61"},
    {"metadata.name!==x", "invalid field selector: unescaped character in "
                          "value: 61"},
    {"metadata.name=a\\", "invalid field selector: invalid escape sequence: "
                          "\\"},
    {"metadata.name=a\\x", "invalid field selector: invalid escape sequence: "
                           "\\x"},
    /* Kubernetes escapes only \ , and =, so \! is refused. */
    {"metadata.name=a\\!", "invalid field selector: invalid escape sequence: "
                           "\\!"},
    {"metadata.name=a\\\xc3\xa9", "invalid field selector: invalid escape "
                                  "sequence: \\\xc3\xa9"},
};

TEST(fsel, parse_bad)
{
    for (size_t i = 0; i < sizeof fbad / sizeof fbad[0]; i++) {
        struct obj_fsel *s = NULL;
        struct err e = {0};
        int rc = obj_fsel_parse(fbad[i].in, strlen(fbad[i].in), pod_fields,
                                &s, &e);

        ASSERT_MSG(rc == -C8S_EMALFORMED, "\"%s\" gave %d", fbad[i].in, rc);
        ASSERT(s == NULL);
        ASSERT_MSG(strcmp(e.msg, fbad[i].msg) == 0,
                   "\"%s\":\n got  %s\n want %s", fbad[i].in, e.msg,
                   fbad[i].msg);
    }
}

TEST(fsel, exact)
{
    struct obj_fsel *s = fsel("status.phase!=Failed,spec.nodeName=node-1");
    const char *v = NULL;
    size_t n = 0;

    ASSERT(obj_fsel_exact(s, "spec.nodeName", &v, &n));
    ASSERT_STR_EQ(v, "node-1");
    ASSERT_EQ(n, 6);
    ASSERT(!obj_fsel_exact(s, "status.phase", &v, NULL));
    ASSERT(!obj_fsel_exact(s, "metadata.name", &v, NULL));
    obj_fsel_free(s);
    /* The first equality in sorted order wins, as in Kubernetes. */
    s = fsel("spec.nodeName=b,spec.nodeName=a");
    ASSERT(obj_fsel_exact(s, "spec.nodeName", &v, NULL));
    ASSERT_STR_EQ(v, "a");
    obj_fsel_free(s);
    s = fsel("spec.nodeName=");
    ASSERT(obj_fsel_exact(s, "spec.nodeName", &v, &n));
    ASSERT_EQ(n, 0);
    obj_fsel_free(s);
    s = fsel("");
    ASSERT_EQ(s->nterms, 0);
    ASSERT(!obj_fsel_exact(s, "spec.nodeName", &v, NULL));
    obj_fsel_free(s);
}

/* Paths other than the label, defaults for absent values, and non-string
 * values. */
TEST(fsel, fields_described)
{
    static const struct obj_fsel_field node_fields[] = {
        {"metadata.name", NULL, NULL},
        {"spec.unschedulable", NULL, "false"},
        {"source", "source.component", NULL},
        {"spec.replicas", NULL, NULL},
    };
    struct obj *plain = json("{\"metadata\":{\"name\":\"n\"}}");
    struct obj *cordoned = json("{\"spec\":{\"unschedulable\":true,"
                                "\"replicas\":3},\"source\":{\"component\":"
                                "\"kubelet\"}}");
    const struct {
        const char *sel; /* Selector. */
        bool plain;      /* Matches plain. */
        bool cordoned;   /* Matches cordoned. */
    } cases[] = {
        {"spec.unschedulable=false", true, false},
        {"spec.unschedulable=true", false, true},
        {"source=kubelet", false, true},
        {"source=", true, false},
        {"spec.replicas=3", false, true},
        {"spec.replicas!=3", true, false},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct obj_fsel *s = NULL;
        struct err e = {0};

        ASSERT_EQ(obj_fsel_parse_fields(cases[i].sel, strlen(cases[i].sel),
                                        node_fields, 4, &s, &e),
                  0);
        ASSERT_MSG(obj_fsel_match(s, plain) == cases[i].plain, "%s plain",
                   cases[i].sel);
        ASSERT_MSG(obj_fsel_match(s, cordoned) == cases[i].cordoned,
                   "%s cordoned", cases[i].sel);
        obj_fsel_free(s);
    }
    obj_unref(plain);
    obj_unref(cordoned);
}

/* A NUL byte in the text cannot make a longer label pass for a supported
 * one. */
TEST(fsel, nul_in_label)
{
    struct obj_fsel *s = NULL;
    struct err e = {0};

    ASSERT_EQ(obj_fsel_parse("metadata.name\0x=a", 17, pod_fields, &s, &e),
              -C8S_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "field label not supported: metadata.name");
    ASSERT_EQ(obj_fsel_parse("a=b", 3, NULL, &s, &e), -C8S_EMALFORMED);
}

/* ---- out of memory -------------------------------------------------------- */

/* Run @fn with the Nth allocation failing, for every N until it succeeds:
 * each failure must be -ENOMEM and leak nothing (ASan checks leaks). */
static void each_alloc_failure(int (*fn)(void))
{
    int rc = -ENOMEM;

    for (int n = 0; rc == -ENOMEM && n < 10000; n++) {
        mem_fault_arm(n, 1);
        rc = fn();
        mem_fault_arm(-1, 0);
    }
    ASSERT_EQ(rc, 0);
}

static int oom_lsel(void)
{
    static const char text[] = "x in (a,b,,c),!y,z=1,w>4,v notin (q),u";
    struct obj_lsel *s = NULL;
    struct err e;
    char *str;
    int rc = obj_lsel_parse(text, strlen(text), &s, &e);

    if (rc != 0)
        return rc;
    str = obj_lsel_string(s);
    obj_lsel_free(s);
    if (str == NULL)
        return -ENOMEM;
    mem_free(str);
    return 0;
}

/* The structured selector oom_lsel_struct() converts. */
static struct obj *oom_ls;

static int oom_lsel_struct(void)
{
    struct obj_lsel *s = NULL;
    int rc = obj_lsel_from_obj(oom_ls, &s, NULL);

    obj_lsel_free(s);
    return rc;
}

static int oom_fsel(void)
{
    static const char text[] = "spec.nodeName=a\\,b,status.phase!=x";
    struct obj_fsel *s = NULL;
    int rc = obj_fsel_parse(text, strlen(text), pod_fields, &s, NULL);

    obj_fsel_free(s);
    return rc;
}

TEST(selector, out_of_memory)
{
    oom_ls = json("{\"matchLabels\":{\"a\":\"b\",\"c\":\"d\"},"
                  "\"matchExpressions\":[{\"key\":\"e\",\"operator\":"
                  "\"In\",\"values\":[\"f\",\"g\"]}]}");
    each_alloc_failure(oom_lsel);
    each_alloc_failure(oom_lsel_struct);
    each_alloc_failure(oom_fsel);
    oom_ls = obj_unref(oom_ls);
}

/* Many requirements: sorting stays stable and fast. */
TEST(selector, many_requirements)
{
    enum { N = 5000 };
    char *text = malloc(N * 16);
    size_t len = 0;
    struct obj_lsel *s;

    ASSERT(text != NULL);
    for (int i = N; i > 0; i--)
        len += (size_t)sprintf(text + len, "%sk%d=v", i < N ? "," : "", i);
    s = lsel(text);
    ASSERT_EQ(s->nreqs, N);
    for (size_t i = 1; i < s->nreqs; i++)
        ASSERT(strcmp(s->reqs[i - 1].key, s->reqs[i].key) <= 0);
    obj_lsel_free(s);
    free(text);
}

UNIT_MAIN()
