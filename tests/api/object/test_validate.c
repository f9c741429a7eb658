/* Metadata validation: the rules and, word for word, the messages of
 * Kubernetes 1.33. */
#include <errno.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/validate.h"
#include "lib/mem.h"
#include "tests/lib/unit.h"

/* ---- helpers --------------------------------------------------------------*/

static struct obj *json(const char *text)
{
    struct obj *o = NULL;
    struct err e;

    ASSERT_MSG(obj_json_decode(text, strlen(text), NULL, &o, &e) == 0,
               "bad test JSON: %s", e.msg);
    return o;
}

static void unref_cb(void *o)
{
    obj_unref(o);
}

/* A tree decoded from @text, freed when the test ends. */
static struct obj *tree(const char *text)
{
    struct obj *o = json(text);

    unit_defer(unref_cb, o);
    return o;
}

static void buf_cb(void *b)
{
    obj_buf_done(b);
    free(b);
}

static void ferrs_cb(void *l)
{
    obj_ferrs_done(l);
    free(l);
}

/* A list freed when the test ends. */
static struct obj_ferrs *ferrs(void)
{
    struct obj_ferrs *l = calloc(1, sizeof *l);

    ASSERT(l != NULL);
    obj_ferrs_init(l);
    unit_defer(ferrs_cb, l);
    return l;
}

/* The aggregate message of @l (freed when the test ends). */
static const char *text(const struct obj_ferrs *l)
{
    struct obj_buf *b = calloc(1, sizeof *b);

    ASSERT(b != NULL);
    unit_defer(buf_cb, b);
    ASSERT_EQ(obj_ferrs_format(l, b), 0);
    ASSERT_EQ(obj_buf_append(b, "", 0), 0);
    return b->data;
}

/* The explanations of one check joined with " | ". */
static const char *joined(const struct obj_msgs *m)
{
    static char out[4096];

    out[0] = '\0';
    for (size_t i = 0; i < m->n; i++) {
        if (i > 0)
            strcat(out, " | ");
        strcat(out, m->v[i]);
    }
    return out;
}

typedef void (*check_fn)(const char *, size_t, struct obj_msgs *);

/* A string of @n copies of @c (NUL-terminated, static). */
static const char *rep(char c, size_t n)
{
    static char buf[8][600];
    static int next;
    char *b = buf[next++ % 8];

    memset(b, c, n);
    b[n] = '\0';
    return b;
}

static void expect_valid(check_fn f, const char *s)
{
    struct obj_msgs m;

    f(s, strlen(s), &m);
    ASSERT_MSG(m.n == 0, "\"%s\" should be valid: %s", s, joined(&m));
}

static void expect_msgs(check_fn f, const char *s, const char *want)
{
    struct obj_msgs m;

    f(s, strlen(s), &m);
    ASSERT_MSG(strcmp(joined(&m), want) == 0, "\"%s\": got \"%s\"\nwant \"%s\"",
               s, joined(&m), want);
}

#define LABEL_MSG                                                             \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "     \
    "characters or '-', and must start and end with an alphanumeric "         \
    "character (e.g. 'my-name',  or '123-abc', regex used for validation is " \
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define SUBDOMAIN_MSG                                                         \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " \
    "characters, '-' or '.', and must start and end with an alphanumeric "    \
    "character (e.g. 'example.com', regex used for validation is "            \
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define QNAME_RE                                                          \
    "must consist of alphanumeric characters, '-', '_' or '.', and must " \
    "start and end with an alphanumeric character (e.g. 'MyName',  or "   \
    "'my.name',  or '123-abc', regex used for validation is "             \
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LABEL_VALUE_MSG                                                     \
    "a valid label must be an empty string or consist of alphanumeric "     \
    "characters, '-', '_' or '.', and must start and end with an "          \
    "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', " \
    "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?"          \
    "[A-Za-z0-9])?')"

static const struct obj_meta_rules pod_rules = {OBJ_NAME_DNS1123_SUBDOMAIN,
                                                true};

/* Create-validate @obj_json's metadata with @rules; the aggregate. */
static const char *create_errs(const char *obj_json,
                               const struct obj_meta_rules *rules)
{
    struct obj_ferrs *l = ferrs();

    ASSERT_EQ(obj_validate_object_meta(tree(obj_json), NULL, rules, false, l),
              0);
    return text(l);
}

/* ---- string rules ---------------------------------------------------------*/

TEST(validate, dns1123_label)
{
    const char *valid[] = {"a", "0", "a-b", "a--b", "123-abc", rep('a', 63)};

    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
        expect_valid(obj_check_dns1123_label, valid[i]);
    expect_msgs(obj_check_dns1123_label, "", LABEL_MSG);
    expect_msgs(obj_check_dns1123_label, "-a", LABEL_MSG);
    expect_msgs(obj_check_dns1123_label, "a-", LABEL_MSG);
    expect_msgs(obj_check_dns1123_label, "A", LABEL_MSG);
    expect_msgs(obj_check_dns1123_label, "a_b", LABEL_MSG);
    expect_msgs(obj_check_dns1123_label, "a.b", "must not contain dots");
    expect_msgs(obj_check_dns1123_label, rep('a', 64),
                "must be no more than 63 characters");
}

TEST(validate, dns1123_subdomain)
{
    const char *valid[] = {"a", "example.com", "a-1.b-2.c", "0.0",
                           rep('a', 253)};
    const char *invalid[] = {"",    ".",    "a.", ".a",  "a..b", "A.b",
                             "a_b", "a.-b", "é",  "a/b", "a%b",  ".."};

    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
        expect_valid(obj_check_dns1123_subdomain, valid[i]);
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++)
        expect_msgs(obj_check_dns1123_subdomain, invalid[i], SUBDOMAIN_MSG);
    expect_msgs(obj_check_dns1123_subdomain, rep('a', 254),
                "must be no more than 253 characters");
    expect_msgs(obj_check_dns1123_subdomain, rep('-', 254),
                "must be no more than 253 characters | " SUBDOMAIN_MSG);
}

TEST(validate, dns1035_label)
{
    expect_valid(obj_check_dns1035_label, "my-svc");
    expect_valid(obj_check_dns1035_label, "a1");
    expect_msgs(obj_check_dns1035_label, "1abc",
                "a DNS-1035 label must consist of lower case alphanumeric "
                "characters or '-', start with an alphabetic character, and "
                "end with an alphanumeric character (e.g. 'my-name',  or "
                "'abc-123', regex used for validation is "
                "'[a-z]([-a-z0-9]*[a-z0-9])?')");
}

TEST(validate, qualified_names)
{
    const char *valid[] = {"a",
                           "A",
                           "MyName",
                           "my.name",
                           "a_b-c.d",
                           "example.com/MyName",
                           "kubernetes.io/metadata.name",
                           rep('x', 63)};

    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
        expect_valid(obj_check_qualified_name, valid[i]);
    expect_msgs(obj_check_qualified_name, "",
                "name part must be non-empty | name part " QNAME_RE);
    expect_msgs(obj_check_qualified_name, "-a", "name part " QNAME_RE);
    expect_msgs(obj_check_qualified_name, "a b", "name part " QNAME_RE);
    expect_msgs(obj_check_qualified_name, rep('x', 64),
                "name part must be no more than 63 characters");
    expect_msgs(obj_check_qualified_name, "/a",
                "prefix part must be non-empty");
    expect_msgs(obj_check_qualified_name, "a/",
                "name part must be non-empty | name part " QNAME_RE);
    expect_msgs(obj_check_qualified_name, "Example.com/a",
                "prefix part " SUBDOMAIN_MSG);
    expect_msgs(obj_check_qualified_name, "a/b/c",
                "a qualified name " QNAME_RE
                " with an optional DNS subdomain prefix and '/' (e.g. "
                "'example.com/MyName')");
}

TEST(validate, label_values)
{
    const char *valid[] = {"",      "a",       "MyValue",   "my_value",
                           "12345", "a.b-c_d", rep('v', 63)};
    const char *invalid[] = {"-a", "a-", "_a", "a b", "a/b", "é"};

    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
        expect_valid(obj_check_label_value, valid[i]);
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++)
        expect_msgs(obj_check_label_value, invalid[i], LABEL_VALUE_MSG);
    expect_msgs(obj_check_label_value, rep('v', 64),
                "must be no more than 63 characters");
}

static void path_segment(const char *s, size_t len, struct obj_msgs *ret)
{
    obj_check_path_segment(s, len, false, ret);
}

static void path_prefix(const char *s, size_t len, struct obj_msgs *ret)
{
    obj_check_path_segment(s, len, true, ret);
}

TEST(validate, path_segments)
{
    expect_valid(path_segment, "system:node:Foo Bar");
    expect_valid(path_segment, "...");
    expect_msgs(path_segment, ".", "may not be '.'");
    expect_msgs(path_segment, "..", "may not be '..'");
    expect_msgs(path_segment, "a/b%c",
                "may not contain '/' | may not "
                "contain '%'");
    expect_valid(path_prefix, ".");
    expect_msgs(path_prefix, "a/", "may not contain '/'");
}

TEST(validate, config_keys)
{
    const char *valid[] = {"key.name", "KEY_NAME", "key-name",
                           ".dotfile", "a..b",     rep('k', 253)};

    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
        expect_valid(obj_check_config_key, valid[i]);
    expect_msgs(obj_check_config_key, "a b",
                "a valid config key must consist of alphanumeric characters, "
                "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
    expect_msgs(obj_check_config_key, ".", "must not be '.'");
    expect_msgs(obj_check_config_key, "..", "must not be '..'");
    expect_msgs(obj_check_config_key, "..a", "must not start with '..'");
    expect_msgs(obj_check_config_key, rep('k', 254),
                "must be no more than 253 characters");
}

TEST(validate, config_key_paths)
{
    struct obj_ferrs *l = ferrs();
    struct obj_fpath data = obj_fpath_child(NULL, "data");

    ASSERT_EQ(obj_validate_config_keys(tree("{\"ok\":\"1\",\"bad key\":\"2\"}"),
                                       &data, l),
              0);
    ASSERT_EQ(l->len, 1);
    ASSERT_STR_EQ(l->v[0].field, "data[bad key]");
    ASSERT_STR_CONTAINS(text(l),
                        "data[bad key]: Invalid value: \"bad key\": "
                        "a valid config key must consist");
}

/* ---- names per kind -------------------------------------------------------*/

static void ns_name(const char *s, size_t len, struct obj_msgs *ret)
{
    obj_check_name(OBJ_NAME_DNS1123_LABEL, s, len, false, ret);
}

static void svc_prefix(const char *s, size_t len, struct obj_msgs *ret)
{
    obj_check_name(OBJ_NAME_DNS1035_LABEL, s, len, true, ret);
}

static void pod_prefix(const char *s, size_t len, struct obj_msgs *ret)
{
    obj_check_name(OBJ_NAME_DNS1123_SUBDOMAIN, s, len, true, ret);
}

TEST(validate, name_rules)
{
    expect_msgs(ns_name, "kube.system", "must not contain dots");
    expect_valid(ns_name, "kube-system");
    expect_valid(svc_prefix, "web-");
    expect_valid(svc_prefix, "w");
    expect_msgs(svc_prefix, "1web-",
                "a DNS-1035 label must consist of lower case alphanumeric "
                "characters or '-', start with an alphabetic character, and "
                "end with an alphanumeric character (e.g. 'my-name',  or "
                "'abc-123', regex used for validation is "
                "'[a-z]([-a-z0-9]*[a-z0-9])?')");
    expect_valid(pod_prefix, "web.v1-");
    /* A lone "-" is not masked, as in Go. */
    expect_msgs(pod_prefix, "-", SUBDOMAIN_MSG);
}

TEST(validate, generate_name)
{
    char name[64];
    struct obj *meta = json("{\"generateName\":\"web-\"}");

    obj_generate_name("web-", 4, 0, name);
    ASSERT_STR_EQ(name, "web-bbbbb");
    /* 27 characters per draw: 1, 2, 3 in base 27 pick c, d, f. */
    obj_generate_name("x-", 2, 1 + 2 * 27 + 3 * 27 * 27, name);
    ASSERT_STR_EQ(name, "x-cdfbb");
    obj_generate_name(rep('a', 70), 70, 26, name);
    ASSERT_EQ(strlen(name), 63);
    ASSERT_STR_EQ(name + 58, "9bbbb");

    ASSERT_EQ(obj_meta_generate_name(meta, 0), 1);
    ASSERT_STR_EQ(obj_str_or(obj_map_get(meta, "name"), NULL), "web-bbbbb");
    ASSERT_EQ(obj_meta_generate_name(meta, 5), 0); /* Named already. */
    ASSERT_STR_EQ(obj_str_or(obj_map_get(meta, "name"), NULL), "web-bbbbb");
    obj_unref(meta);
}

/* ---- the metadata block on create -----------------------------------------*/

TEST(validate, create_valid)
{
    ASSERT_STR_EQ(create_errs("{\"metadata\":{\"name\":\"web-1\","
                              "\"namespace\":\"default\",\"labels\":{\"app\":"
                              "\"web\",\"example.com/tier\":\"\"},"
                              "\"annotations\":{\"Example.COM/Note\":\"x\"},"
                              "\"finalizers\":[\"kubernetes\","
                              "\"example.com/cleanup\"],\"ownerReferences\":"
                              "[{\"apiVersion\":\"apps/v1\",\"kind\":"
                              "\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"u1\","
                              "\"controller\":true}]}}",
                              &pod_rules),
                  "");
}

TEST(validate, create_bad_name)
{
    ASSERT_STR_EQ(create_errs("{\"metadata\":{\"name\":\"Foo\","
                              "\"namespace\":\"default\"}}",
                              &pod_rules),
                  "metadata.name: Invalid value: \"Foo\": " SUBDOMAIN_MSG);
}

TEST(validate, create_missing_name_and_namespace)
{
    ASSERT_STR_EQ(create_errs("{\"metadata\":{}}", &pod_rules),
                  "[metadata.name: Required value: name or generateName is "
                  "required, metadata.namespace: Required value]");
    ASSERT_STR_EQ(create_errs("{}", &pod_rules),
                  "[metadata.name: Required value: name or generateName is "
                  "required, metadata.namespace: Required value]");
}

TEST(validate, create_namespace_rules)
{
    struct obj_meta_rules cluster = {OBJ_NAME_DNS1123_LABEL, false};

    ASSERT_STR_EQ(create_errs("{\"metadata\":{\"name\":\"n\","
                              "\"namespace\":\"default\"}}",
                              &cluster),
                  "metadata.namespace: Forbidden: not allowed on this type");
    ASSERT_STR_EQ(create_errs("{\"metadata\":{\"name\":\"a.b\"}}", &cluster),
                  "metadata.name: Invalid value: \"a.b\": must not contain "
                  "dots");
    ASSERT_STR_EQ(create_errs("{\"metadata\":{\"name\":\"n\","
                              "\"namespace\":\"Bad\"}}",
                              &pod_rules),
                  "metadata.namespace: Invalid value: \"Bad\": " LABEL_MSG);
}

TEST(validate, create_generate_name)
{
    ASSERT_STR_EQ(
        create_errs("{\"metadata\":{\"generateName\":\"Web-\","
                    "\"name\":\"Web-bbbbb\",\"namespace\":\"d\"}}",
                    &pod_rules),
        "[metadata.generateName: Invalid value: \"Web-\": " SUBDOMAIN_MSG
        ", metadata.name: Invalid value: \"Web-bbbbb\": " SUBDOMAIN_MSG "]");
}

TEST(validate, create_generation_and_types)
{
    ASSERT_STR_EQ(create_errs("{\"metadata\":{\"name\":\"a\",\"namespace\":"
                              "\"d\",\"generation\":-1}}",
                              &pod_rules),
                  "metadata.generation: Invalid value: -1: must be greater "
                  "than or equal to 0");
    ASSERT_STR_EQ(create_errs("{\"metadata\":{\"name\":7,\"namespace\":"
                              "\"d\",\"labels\":[]}}",
                              &pod_rules),
                  "[metadata.name: Invalid value: must be a string, "
                  "metadata.name: Required value: name or generateName is "
                  "required, metadata.labels: Invalid value: must be a map]");
}

TEST(validate, labels)
{
    const char *e = create_errs(
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\",\"labels\":"
        "{\"-bad\":\"ok\",\"good\":\"bad value\",\"n\":1}}}",
        &pod_rules);

    ASSERT_STR_EQ(
        e, "[metadata.labels: Invalid value: \"-bad\": name part " QNAME_RE
           ", metadata.labels: Invalid value: \"bad value\": " LABEL_VALUE_MSG
           ", metadata.labels[n]: Invalid value: "
           "must be a string]");
}

TEST(validate, annotations_size)
{
    struct obj_fpath at = obj_fpath_child(NULL, "metadata");
    struct obj_fpath ann = obj_fpath_child(&at, "annotations");
    struct obj_ferrs *l = ferrs();
    struct obj *a = tree("{}");
    char *big = malloc(OBJ_ANNOTATIONS_MAX);

    ASSERT(big != NULL);
    /* Exactly at the limit: key "k" plus a value of limit - 1 bytes. */
    memset(big, 'v', OBJ_ANNOTATIONS_MAX - 1);
    ASSERT_EQ(obj_map_set(a, "k", obj_str_new(big, OBJ_ANNOTATIONS_MAX - 1)),
              0);
    ASSERT_EQ(obj_validate_annotations(a, &ann, l), 0);
    ASSERT_EQ(l->len, 0);
    ASSERT_EQ(obj_map_set(a, "k2", obj_str_new_c("")), 0);
    ASSERT_EQ(obj_validate_annotations(a, &ann, l), 0);
    ASSERT_STR_EQ(text(l),
                  "metadata.annotations: Too long: may not be more "
                  "than 262144 bytes");
    ASSERT_STR_EQ(obj_ferr_reason(l->v[0].type), "FieldValueTooLong");
    free(big);
}

TEST(validate, annotation_keys)
{
    ASSERT_STR_EQ(create_errs("{\"metadata\":{\"name\":\"a\",\"namespace\":"
                              "\"d\",\"annotations\":{\"a/b/c\":\"\"}}}",
                              &pod_rules),
                  "metadata.annotations: Invalid value: \"a/b/c\": a "
                  "qualified name " QNAME_RE
                  " with an optional DNS subdomain "
                  "prefix and '/' (e.g. 'example.com/MyName')");
}

/* ---- owner references and finalizers
 * ---------------------------------------*/

static const char *owner_errs(const char *refs)
{
    struct obj_fpath at = obj_fpath_child(NULL, "metadata");
    struct obj_fpath p = obj_fpath_child(&at, "ownerReferences");
    struct obj_ferrs *l = ferrs();

    ASSERT_EQ(obj_validate_owner_refs(tree(refs), &p, l), 0);
    return text(l);
}

TEST(validate, owner_refs)
{
    ASSERT_STR_EQ(owner_errs("[{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
                             "\"name\":\"p\",\"uid\":\"u\"},{\"apiVersion\":"
                             "\"apps/v1\",\"kind\":\"Deployment\",\"name\":"
                             "\"d\",\"uid\":\"u2\",\"controller\":false}]"),
                  "");
    ASSERT_STR_EQ(owner_errs("[{}]"),
                  "[metadata.ownerReferences[0].apiVersion: Required value: "
                  "must not be empty, metadata.ownerReferences[0].kind: "
                  "Required value: must not be empty, "
                  "metadata.ownerReferences[0].name: Required value: must not "
                  "be empty, metadata.ownerReferences[0].uid: Required value: "
                  "must not be empty]");
    ASSERT_STR_EQ(owner_errs("[{\"apiVersion\":\"a/b/c\",\"kind\":\"K\","
                             "\"name\":\"n\",\"uid\":\"u\"}]"),
                  "metadata.ownerReferences[0].apiVersion: Invalid value: "
                  "\"a/b/c\": must be <group>/<version> or <version>");
    ASSERT_STR_EQ(owner_errs("[{\"apiVersion\":\"apps/\",\"kind\":\"K\","
                             "\"name\":\"n\",\"uid\":\"u\"}]"),
                  "metadata.ownerReferences[0].apiVersion: Invalid value: "
                  "\"apps/\": must be <group>/<version> or <version>");
    ASSERT_STR_EQ(owner_errs("[{\"apiVersion\":\"v1\",\"kind\":\"Event\","
                             "\"name\":\"e\",\"uid\":\"u\"}]"),
                  "metadata.ownerReferences[0]: Invalid value: "
                  "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"name\":\"e\","
                  "\"uid\":\"u\"}: /v1, Kind=Event is disallowed from being an "
                  "owner");
}

TEST(validate, owner_refs_two_controllers)
{
    const char *e = owner_errs(
        "[{\"apiVersion\":\"v1\",\"kind\":\"A\",\"name\":\"a\",\"uid\":\"1\","
        "\"controller\":true},{\"apiVersion\":\"v1\",\"kind\":\"B\",\"name\":"
        "\"b\",\"uid\":\"2\",\"controller\":true}]");

    ASSERT_STR_CONTAINS(e, "metadata.ownerReferences: Invalid value: [{");
    ASSERT_STR_CONTAINS(e,
                        "}]: Only one reference can have Controller set to "
                        "true. Found \"true\" in references for A/a and "
                        "B/b");
}

static const char *finalizer_errs(const char *list)
{
    struct obj_fpath at = obj_fpath_child(NULL, "metadata");
    struct obj_fpath p = obj_fpath_child(&at, "finalizers");
    struct obj_ferrs *l = ferrs();

    ASSERT_EQ(obj_validate_finalizers(tree(list), &p, l), 0);
    return text(l);
}

TEST(validate, finalizers)
{
    ASSERT_STR_EQ(finalizer_errs("[\"kubernetes\",\"example.com/x\","
                                 "\"orphan\"]"),
                  "");
    ASSERT_STR_EQ(finalizer_errs("[\"a/b/c\"]"),
                  "metadata.finalizers: Invalid value: \"a/b/c\": a "
                  "qualified name " QNAME_RE
                  " with an optional DNS subdomain "
                  "prefix and '/' (e.g. 'example.com/MyName')");
    ASSERT_STR_EQ(finalizer_errs("[\"x\",\"y\",\"x\"]"),
                  "metadata.finalizers[2]: Duplicate value: \"x\"");
    ASSERT_STR_EQ(finalizer_errs("[\"orphan\",\"foregroundDeletion\"]"),
                  "metadata.finalizers: Invalid value: "
                  "[\"orphan\",\"foregroundDeletion\"]: finalizer orphan and "
                  "foregroundDeletion cannot be both set");
}

/* ---- updates --------------------------------------------------------------*/

#define OLD_META                                                        \
    "{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\",\"uid\":\"u1\"," \
    "\"resourceVersion\":\"5\",\"generation\":3,\"creationTimestamp\":" \
    "\"2024-01-02T03:04:05Z\"},\"spec\":{\"replicas\":1}}"

static const char *update_errs(const char *new_json,
                               const char *old_json,
                               bool unconditional)
{
    struct obj_ferrs *l = ferrs();

    ASSERT_EQ(obj_validate_object_meta(tree(new_json), tree(old_json),
                                       &pod_rules, unconditional, l),
              0);
    return text(l);
}

TEST(validate, update_ok)
{
    ASSERT_STR_EQ(update_errs(OLD_META, OLD_META, false), "");
}

TEST(validate, update_immutable)
{
    ASSERT_STR_EQ(
        update_errs("{\"metadata\":{\"name\":\"b\",\"namespace\":\"e\","
                    "\"uid\":\"u2\",\"resourceVersion\":\"5\",\"generation\":"
                    "3,\"creationTimestamp\":\"2025-01-01T00:00:00Z\"}}",
                    OLD_META, false),
        "[metadata.name: Invalid value: \"b\": field is immutable, "
        "metadata.namespace: Invalid value: \"e\": field is immutable, "
        "metadata.uid: Invalid value: \"u2\": field is immutable, "
        "metadata.creationTimestamp: Invalid value: \"2025-01-01T00:00:00Z\": "
        "field is immutable]");
    ASSERT_STR_EQ(update_errs("{\"metadata\":{\"namespace\":\"d\",\"uid\":"
                              "\"u1\",\"resourceVersion\":\"5\",\"generation\":"
                              "3,\"creationTimestamp\":"
                              "\"2024-01-02T03:04:05Z\"}}",
                              OLD_META, false),
                  "metadata.name: Invalid value: \"\": field is immutable");
}

TEST(validate, update_resource_version)
{
    const char *no_rv =
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
        "\"uid\":\"u1\",\"generation\":3,"
        "\"creationTimestamp\":\"2024-01-02T03:04:05Z\"}}";

    ASSERT_STR_EQ(update_errs(no_rv, OLD_META, false),
                  "metadata.resourceVersion: Invalid value: \"\": must be "
                  "specified for an update");
    ASSERT_STR_EQ(update_errs(no_rv, OLD_META, true), "");
}

TEST(validate, update_generation)
{
    ASSERT_STR_EQ(update_errs("{\"metadata\":{\"name\":\"a\",\"namespace\":"
                              "\"d\",\"uid\":\"u1\",\"resourceVersion\":\"5\","
                              "\"generation\":2,\"creationTimestamp\":"
                              "\"2024-01-02T03:04:05Z\"}}",
                              OLD_META, false),
                  "metadata.generation: Invalid value: 2: must not be "
                  "decremented");
}

TEST(validate, update_no_new_finalizers_while_deleting)
{
    const char *old =
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
        "\"resourceVersion\":\"5\",\"deletionTimestamp\":"
        "\"2024-01-01T00:00:00Z\",\"finalizers\":[\"a\"]}}";

    ASSERT_STR_EQ(update_errs("{\"metadata\":{\"name\":\"a\",\"namespace\":"
                              "\"d\",\"resourceVersion\":\"5\","
                              "\"deletionTimestamp\":\"2024-01-01T00:00:00Z\","
                              "\"finalizers\":[\"c\",\"a\",\"b\",\"c\"]}}",
                              old, false),
                  "[metadata.finalizers: Forbidden: no new finalizers can be "
                  "added if the object is being deleted, found new finalizers "
                  "[]string{\"b\", \"c\"}, metadata.finalizers[3]: Duplicate "
                  "value: \"c\"]");
    /* Removing finalizers is how deletion proceeds. */
    ASSERT_STR_EQ(update_errs("{\"metadata\":{\"name\":\"a\",\"namespace\":"
                              "\"d\",\"resourceVersion\":\"5\","
                              "\"deletionTimestamp\":"
                              "\"2024-01-01T00:00:00Z\"}}",
                              old, false),
                  "");
}

TEST(validate, carry_over_and_generation)
{
    struct obj *old = tree(OLD_META);
    struct obj *obj = json(
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
        "\"resourceVersion\":\"5\",\"generation\":99},"
        "\"spec\":{\"replicas\":2}}");
    struct obj *meta = obj_map_get_mut(obj, "metadata");

    unit_defer(unref_cb, obj);
    ASSERT(meta != NULL);
    ASSERT_EQ(obj_meta_carry_over(meta, obj_map_get(old, "metadata")), 0);
    ASSERT_STR_EQ(obj_str_or(obj_map_get(meta, "uid"), NULL), "u1");
    ASSERT_STR_EQ(obj_str_or(obj_map_get(meta, "creationTimestamp"), NULL),
                  "2024-01-02T03:04:05Z");
    ASSERT_EQ(obj_int_or(obj_map_get(meta, "generation"), 0), 3);
    /* Nothing to fix: carrying over changes nothing more. */
    ASSERT_EQ(obj_meta_carry_over(meta, obj_map_get(old, "metadata")), 0);
    ASSERT_EQ(obj_map_len(meta), 6);

    ASSERT(obj_subtree_changed(old, obj, "spec"));
    ASSERT_EQ(obj_next_generation(old, obj, "spec"), 4);
    ASSERT_EQ(obj_next_generation(old, old, "spec"), 3);
    ASSERT_EQ(obj_next_generation(NULL, obj, "spec"), 1);
    ASSERT(!obj_subtree_changed(tree("{}"), tree("{\"a\":1}"), "spec"));
}

/* ---- rendering ------------------------------------------------------------*/

TEST(validate, aggregate_dedups_and_brackets)
{
    struct obj_ferrs *l = ferrs();
    struct obj_fpath a = obj_fpath_child(NULL, "spec");
    struct obj_fpath c = obj_fpath_child(&a, "containers");
    struct obj_fpath c0 = obj_fpath_index(&c, 0);
    struct obj_fpath n = obj_fpath_child(&c0, "name");

    ASSERT_STR_EQ(text(l), "");
    ASSERT_EQ(obj_ferrs_required(l, &c, NULL), 0);
    ASSERT_STR_EQ(text(l), "spec.containers: Required value");
    ASSERT_EQ(obj_ferrs_required(l, &c, NULL), 0);
    ASSERT_STR_EQ(text(l), "spec.containers: Required value");
    ASSERT_EQ(obj_ferrs_add_str(l, OBJ_FERR_INVALID, &n, "X", 1, "bad"), 0);
    ASSERT_STR_EQ(text(l),
                  "[spec.containers: Required value, "
                  "spec.containers[0].name: Invalid value: \"X\": "
                  "bad]");
}

TEST(validate, error_bodies)
{
    static const char *const valid[] = {"Always", "Never", NULL};
    struct obj_ferrs *l = ferrs();
    struct obj_fpath p = obj_fpath_child(NULL, "x");
    struct obj_fpath k = obj_fpath_key(&p, "a b");
    struct obj *v = tree("\"Sometimes\"");

    ASSERT_EQ(obj_ferrs_not_supported(l, &p, v, valid), 0);
    ASSERT_EQ(obj_ferrs_too_many(l, &k, 5, 1), 0);
    ASSERT_EQ(obj_ferrs_too_long(l, &p, 1), 0);
    ASSERT_EQ(obj_ferrs_duplicate(l, &p, tree("true")), 0);
    ASSERT_EQ(obj_ferrs_forbidden(l, NULL, "nope"), 0);
    ASSERT_EQ(obj_ferrs_addf(l, OBJ_FERR_NOT_FOUND, &p, tree("1.5"), NULL), 0);
    ASSERT_STR_EQ(text(l),
                  "[x: Unsupported value: \"Sometimes\": supported values: "
                  "\"Always\", \"Never\", x[a b]: Too many: 5: must have at "
                  "most 1 item, x: Too long: may not be more than 1 byte, x: "
                  "Duplicate value: true, : Forbidden: nope, x: Not found: "
                  "1.5]");
    ASSERT_STR_EQ(obj_ferr_reason(l->v[0].type), "FieldValueNotSupported");
    ASSERT_STR_EQ(obj_ferr_reason(l->v[4].type), "FieldValueForbidden");
}

TEST(validate, go_quoting)
{
    struct obj_buf b;
    const char in[] =
        "a\"b\\c\n\t\x01\x7f\xc2\x85\xc3\xa9\xe2\x80\xa8"
        "\xf0\x9f\x98\x80";

    obj_buf_init(&b);
    ASSERT_EQ(obj_quote_go(&b, in, sizeof in - 1), 0);
    ASSERT_STR_EQ(b.data,
                  "\"a\\\"b\\\\c\\n\\t\\x01\\x7f\\u0085\xc3\xa9"
                  "\\u2028\xf0\x9f\x98\x80\"");
    obj_buf_done(&b);
}

/* ---- out of memory --------------------------------------------------------*/

static void disarm(void *unused)
{
    (void)unused;
    mem_fault_arm(-1, 0);
}

TEST(validate, out_of_memory_is_reported)
{
    struct obj *o = tree(
        "{\"metadata\":{\"name\":\"Bad\",\"labels\":{\"-x\":\"-y\"},"
        "\"finalizers\":[\"a\",\"a\"],\"ownerReferences\":[{},{}]}}");
    int fails = 0;

    unit_defer(disarm, NULL);
    for (int delay = 0; delay < 200; delay++) {
        struct obj_ferrs l;
        struct obj_buf b;
        int r;

        obj_ferrs_init(&l);
        obj_buf_init(&b);
        mem_fault_arm(delay, 1);
        r = obj_validate_object_meta(o, NULL, &pod_rules, false, &l);
        if (r == 0)
            r = obj_ferrs_format(&l, &b);
        mem_fault_arm(-1, 0);
        ASSERT(r == 0 || r == -ENOMEM);
        fails += r != 0;
        ASSERT_MSG(r != 0 || l.len == 13, "got %zu errors", l.len);
        obj_buf_done(&b);
        obj_ferrs_done(&l);
    }
    ASSERT(fails > 0);
}

UNIT_MAIN()
