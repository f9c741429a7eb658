/* CustomResourceDefinitions: the checks a definition gets, its status,
 * and the resources built from it going through the schema passes, tables
 * and scale paths as built-in kinds do. */
#include <string.h>

#include "api/object/codec.h"
#include "api/object/crd.h"
#include "api/object/schema.h"
#include "api/object/table.h"
#include "tests/lib/unit.h"

#define NOW 1800000000 /* 2027-01-15T08:00:00Z */

static void unref(void *o)
{
    obj_unref(o);
}

static struct obj *parse(const char *json)
{
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_json_decode(json, strlen(json), NULL, &o, &e) == 0, "%s",
               e.msg);
    unit_defer(unref, o);
    return o;
}

static const char *json_of(const struct obj *o)
{
    static char out[8192];
    struct obj_buf b;

    obj_buf_init(&b);
    ASSERT(obj_json_encode(o, 0, &b, NULL) == 0);
    ASSERT(b.len < sizeof out);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    obj_buf_done(&b);
    return out;
}

/* A CronTab definition; @extra_version is spliced into versions. */
#define CRONTAB_HEAD                                                         \
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\","                           \
    "\"kind\":\"CustomResourceDefinition\","                                 \
    "\"metadata\":{\"name\":\"crontabs.stable.example.com\"},"               \
    "\"spec\":{\"group\":\"stable.example.com\",\"scope\":\"Namespaced\","   \
    "\"names\":{\"plural\":\"crontabs\",\"singular\":\"crontab\","          \
    "\"kind\":\"CronTab\",\"listKind\":\"CronTabList\","                     \
    "\"shortNames\":[\"ct\"],\"categories\":[\"all\"]},"                     \
    "\"versions\":["
#define CRONTAB_V1                                                           \
    "{\"name\":\"v1\",\"served\":true,\"storage\":true,"                     \
    "\"subresources\":{\"status\":{},\"scale\":{"                            \
    "\"specReplicasPath\":\".spec.replicas\","                               \
    "\"statusReplicasPath\":\".status.replicas\","                           \
    "\"labelSelectorPath\":\".status.selector\"}},"                          \
    "\"additionalPrinterColumns\":["                                         \
    "{\"name\":\"Spec\",\"type\":\"string\",\"jsonPath\":\".spec.cronSpec\"}," \
    "{\"name\":\"Replicas\",\"type\":\"integer\","                           \
    "\"jsonPath\":\".spec.replicas\"},"                                      \
    "{\"name\":\"Ready\",\"type\":\"string\",\"priority\":1,"                \
    "\"jsonPath\":\".status.conditions[?(@.type==\\\"Ready\\\")].status\"}," \
    "{\"name\":\"Age\",\"type\":\"date\","                                   \
    "\"jsonPath\":\".metadata.creationTimestamp\"}],"                        \
    "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\","                  \
    "\"properties\":{\"spec\":{\"type\":\"object\",\"required\":[\"image\"]," \
    "\"properties\":{"                                                       \
    "\"cronSpec\":{\"type\":\"string\",\"description\":\"When.\"},"          \
    "\"image\":{\"type\":\"string\"},"                                       \
    "\"replicas\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10,"       \
    "\"default\":1},"                                                        \
    "\"policy\":{\"type\":\"string\",\"enum\":[\"Allow\",\"Forbid\"]},"      \
    "\"port\":{\"x-kubernetes-int-or-string\":true},"                        \
    "\"labels\":{\"type\":\"object\","                                       \
    "\"additionalProperties\":{\"type\":\"string\"}},"                       \
    "\"raw\":{\"type\":\"object\","                                          \
    "\"x-kubernetes-preserve-unknown-fields\":true},"                        \
    "\"steps\":{\"type\":\"array\",\"x-kubernetes-list-type\":\"map\","      \
    "\"x-kubernetes-list-map-keys\":[\"name\"],"                             \
    "\"items\":{\"type\":\"object\",\"properties\":{"                        \
    "\"name\":{\"type\":\"string\"},"                                        \
    "\"wait\":{\"type\":\"boolean\",\"default\":false}}}}}},"                \
    "\"status\":{\"type\":\"object\",\"properties\":{"                       \
    "\"replicas\":{\"type\":\"integer\"},"                                   \
    "\"selector\":{\"type\":\"string\"},"                                    \
    "\"conditions\":{\"type\":\"array\",\"items\":{\"type\":\"object\","     \
    "\"properties\":{\"type\":{\"type\":\"string\"},"                        \
    "\"status\":{\"type\":\"string\"}}}}}}}}}}"
#define CRONTAB_TAIL "]}}"

/* A definition, defaulted, given its status as the server does. */
static struct obj *established(const char *json)
{
    struct obj *crd = parse(json);

    ASSERT_EQ(obj_crd_default(crd), 0);
    ASSERT_EQ(obj_crd_set_status(crd, NULL, "2027-01-15T08:00:00Z"), 0);
    return crd;
}

static void free_crds(void *c)
{
    obj_crds_free(c);
}

static const struct obj_resource *build_one(struct obj *crd, size_t *ret_n)
{
    struct obj_crds *c = NULL;
    struct err e = {0};
    size_t n;
    const struct obj_resource *r;

    ASSERT_EQ(obj_crds_build(&crd, 1, &c, &e), 0);
    unit_defer(free_crds, c);
    r = obj_crds_resources(c, &n);
    if (ret_n != NULL)
        *ret_n = n;
    return r;
}

/* The errors of a definition as Kubernetes prints them ("" if none). */
static const char *errors_of(const char *json)
{
    static char out[4096];
    struct obj *crd = parse(json);
    struct obj_ferrs l;
    struct obj_buf b;

    obj_ferrs_init(&l);
    ASSERT_EQ(obj_crd_validate(crd, &l), 0);
    obj_buf_init(&b);
    ASSERT_EQ(obj_ferrs_format(&l, &b), 0);
    ASSERT(b.len < sizeof out);
    memcpy(out, b.data != NULL ? b.data : "", b.len);
    out[b.len] = '\0';
    obj_buf_done(&b);
    obj_ferrs_done(&l);
    return out;
}

TEST(crd, a_good_definition_passes_its_checks)
{
    ASSERT_STR_EQ(errors_of(CRONTAB_HEAD CRONTAB_V1 CRONTAB_TAIL), "");
}

TEST(crd, bad_definitions_are_refused_with_field_paths)
{
    static const struct {
        const char *from, *to, *expect;
    } cases[] = {
        {"\"name\":\"crontabs.stable.example.com\"", "\"name\":\"crontab\"",
         "metadata.name: Invalid value: \"crontab\": must be "
         "spec.names.plural+\".\"+spec.group"},
        {"\"storage\":true", "\"storage\":false",
         "spec.versions: Invalid value: must have exactly one "
         "version marked as storage version"},
        {"\"jsonPath\":\".spec.replicas\"", "\"jsonPath\":\"spec[\"",
         "spec.versions[0].additionalPrinterColumns[1].jsonPath: Invalid "
         "value: \"spec[\": must be a simple json path starting with ."},
        {"\"group\":\"stable.example.com\"", "\"group\":\"x.k8s.io\"",
         NULL},
        {"\"specReplicasPath\":\".spec.replicas\"",
         "\"specReplicasPath\":\".metadata.name\"",
         "spec.versions[0].subresources.scale.specReplicasPath: Invalid "
         "value: \".metadata.name\": should be a json path under .spec or "
         ".status, without arrays"},
        {"\"image\":{\"type\":\"string\"}", "\"image\":{}",
         "spec.versions[0].schema.openAPIV3Schema.properties[spec]."
         "properties[image].type: Required value: must not be empty for "
         "specified object fields"},
        {"\"plural\":\"crontabs\"", "\"plural\":\"CronTabs\"", NULL},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char json[8192];
        const char *base = CRONTAB_HEAD CRONTAB_V1 CRONTAB_TAIL;
        const char *at = strstr(base, cases[i].from);

        ASSERT(at != NULL);
        (void)snprintf(json, sizeof json, "%.*s%s%s", (int)(at - base), base,
                       cases[i].to, at + strlen(cases[i].from));
        if (cases[i].expect != NULL)
            ASSERT_STR_EQ(errors_of(json), cases[i].expect);
        else
            ASSERT(strlen(errors_of(json)) > 0);
    }
    /* A group without a dot, webhook conversion. */
    ASSERT(strstr(errors_of("{\"metadata\":{\"name\":\"xs.example\"},\"spec\":"
                            "{\"group\":\"example\",\"names\":{\"plural\":"
                            "\"xs\",\"kind\":\"X\"},\"conversion\":{"
                            "\"strategy\":\"Webhook\"},\"versions\":[]}}"),
                  "should be a domain with at least one dot") != NULL);
    /* Groups c8s serves or keeps for Kubernetes: their keys are built-ins'. */
    ASSERT(obj_crd_group_reserved("storage.k8s.io"));
    ASSERT(obj_crd_group_reserved("coordination.k8s.io"));
    ASSERT(obj_crd_group_reserved("k8s.io"));
    ASSERT(obj_crd_group_reserved("x.kubernetes.io"));
    ASSERT(obj_crd_group_reserved("apps"));
    ASSERT(!obj_crd_group_reserved("notk8s.io"));
    ASSERT(!obj_crd_group_reserved("stable.example.com"));
    ASSERT(strstr(errors_of("{\"metadata\":{\"name\":\"leases.coordination."
                            "k8s.io\"},\"spec\":{\"group\":\"coordination."
                            "k8s.io\",\"names\":{\"plural\":\"leases\","
                            "\"kind\":\"Lease\"},\"versions\":[]}}"),
                  "reserved") != NULL);
    ASSERT(strstr(errors_of("{\"metadata\":{\"name\":\"xs.a.io\"},\"spec\":"
                            "{\"group\":\"a.io\",\"names\":{\"plural\":"
                            "\"xs\",\"kind\":\"X\"},\"conversion\":{"
                            "\"strategy\":\"Webhook\"},\"versions\":[]}}"),
                  "spec.conversion.strategy: Unsupported value") != NULL);
}

TEST(crd, status_says_established_and_keeps_stored_versions)
{
    struct obj *crd = established(CRONTAB_HEAD CRONTAB_V1 CRONTAB_TAIL);
    struct obj *conflicted = parse(CRONTAB_HEAD CRONTAB_V1 CRONTAB_TAIL);

    ASSERT(obj_crd_established(crd));
    ASSERT_STR_EQ(json_of(obj_get_path(crd, "status.storedVersions")),
                  "[\"v1\"]");
    ASSERT_STR_EQ(obj_str_or(obj_get_path(crd, "status.acceptedNames.kind"),
                             ""),
                  "CronTab");
    ASSERT_EQ(obj_crd_set_status(conflicted, "taken", "2027-01-15T08:00:00Z"),
              0);
    ASSERT(!obj_crd_established(conflicted));
    ASSERT_STR_EQ(
        obj_str_or(obj_get_path(conflicted, "status.conditions.0.message"), ""),
        "taken");
}

TEST(crd, defaults_fill_singular_and_list_kind)
{
    struct obj *crd = parse("{\"spec\":{\"names\":{\"kind\":\"CronTab\"}}}");

    ASSERT_EQ(obj_crd_default(crd), 0);
    ASSERT_STR_EQ(obj_str_or(obj_get_path(crd, "spec.names.singular"), ""),
                  "crontab");
    ASSERT_STR_EQ(obj_str_or(obj_get_path(crd, "spec.names.listKind"), ""),
                  "CronTabList");
}

TEST(crd, served_versions_become_resources)
{
    size_t n;
    const struct obj_resource *r = build_one(
        established(CRONTAB_HEAD CRONTAB_V1
                    ",{\"name\":\"v1beta1\",\"served\":false,"
                    "\"storage\":false,\"schema\":{\"openAPIV3Schema\":{"
                    "\"type\":\"object\"}}}" CRONTAB_TAIL),
        &n);

    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(r->group, "stable.example.com");
    ASSERT_STR_EQ(r->version, "v1");
    ASSERT_STR_EQ(r->kind, "CronTab");
    ASSERT_STR_EQ(r->list_kind, "CronTabList");
    ASSERT_STR_EQ(r->resource, "crontabs");
    ASSERT_STR_EQ(r->singular, "crontab");
    ASSERT_STR_EQ(r->store_prefix, "stable.example.com/crontabs");
    ASSERT(r->namespaced);
    ASSERT_STR_EQ(r->short_names[0], "ct");
    ASSERT(r->short_names[1] == NULL);
    ASSERT_STR_EQ(r->categories[0], "all");
    ASSERT(obj_resource_subresource(r, "status") != NULL);
    ASSERT(obj_resource_subresource(r, "scale") != NULL);
    ASSERT_STR_EQ(r->scale->spec_replicas, "spec.replicas");
    ASSERT_STR_EQ(r->scale->status_replicas, "status.replicas");
    ASSERT_STR_EQ(r->scale->selector, "status.selector");
    ASSERT(r->schema != NULL && r->schema->is_kind);
    ASSERT(obj_resource_field(r, "metadata.name") != NULL);
}

TEST(crd, definitions_not_established_or_clashing_are_not_served)
{
    struct obj *pending = parse(CRONTAB_HEAD CRONTAB_V1 CRONTAB_TAIL);
    struct obj *clash = established(
        "{\"metadata\":{\"name\":\"storageclasses.storage.k8s.io\"},"
        "\"spec\":{\"group\":\"storage.k8s.io\",\"scope\":\"Cluster\","
        "\"names\":{\"plural\":\"storageclasses\",\"kind\":\"Other\"},"
        "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
        "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\"}}}]}}");
    struct obj *two[2];
    struct obj_crds *c = NULL;
    struct err e = {0};
    size_t n;

    two[0] = pending;
    two[1] = clash;
    ASSERT_EQ(obj_crds_build(two, 2, &c, &e), 0);
    unit_defer(free_crds, c);
    (void)obj_crds_resources(c, &n);
    ASSERT_EQ(n, 0);
    ASSERT(strstr(e.msg, "storageclasses.storage.k8s.io is not served") !=
           NULL);
}

/* A custom resource through prune, default and validate. */
static const char *passes(const struct obj_sstruct *st, const char *json,
                          char *unknown, size_t size)
{
    struct obj *o = parse(json);
    struct obj_ferrs u, bad, errs;
    struct obj_buf b;
    static char out[4096];

    obj_ref(o); /* parse's deferred unref keeps one */
    ASSERT_EQ(obj_unshare(&o), 0);
    obj_ferrs_init(&u);
    obj_ferrs_init(&bad);
    obj_ferrs_init(&errs);
    ASSERT_EQ(obj_schema_prune(st, &o, &u, &bad), 0);
    ASSERT_EQ(bad.len, 0);
    unknown[0] = '\0';
    for (size_t i = 0; i < u.len; i++) {
        strncat(unknown, u.v[i].field, size - strlen(unknown) - 2);
        strcat(unknown, " ");
    }
    ASSERT_EQ(obj_schema_default(st, &o), 0);
    ASSERT_EQ(obj_schema_validate(st, o, &errs), 0);
    obj_buf_init(&b);
    ASSERT_EQ(obj_ferrs_format(&errs, &b), 0);
    (void)snprintf(out, sizeof out, "%s|%.*s", json_of(o), (int)b.len,
                   b.data != NULL ? b.data : "");
    obj_buf_done(&b);
    obj_ferrs_done(&u);
    obj_ferrs_done(&bad);
    obj_ferrs_done(&errs);
    obj_unref(o);
    return out;
}

TEST(crd, custom_resources_are_pruned_defaulted_and_validated)
{
    const struct obj_resource *r =
        build_one(established(CRONTAB_HEAD CRONTAB_V1 CRONTAB_TAIL), NULL);
    char unknown[512];

    ASSERT_STR_EQ(
        passes(r->schema,
               "{\"apiVersion\":\"stable.example.com/v1\",\"kind\":\"CronTab\","
               "\"metadata\":{\"name\":\"a\"},\"extra\":1,"
               "\"spec\":{\"image\":\"i\",\"bogus\":true,\"port\":\"http\","
               "\"labels\":{\"a\":\"b\"},\"raw\":{\"any\":{\"x\":1}},"
               "\"steps\":[{\"name\":\"s\",\"junk\":1}]}}",
               unknown, sizeof unknown),
        "{\"apiVersion\":\"stable.example.com/v1\",\"kind\":\"CronTab\","
        "\"metadata\":{\"name\":\"a\"},\"spec\":{\"image\":\"i\",\"port\":"
        "\"http\",\"labels\":{\"a\":\"b\"},\"raw\":{\"any\":{\"x\":1}},"
        "\"steps\":[{\"name\":\"s\",\"wait\":false}],\"replicas\":1}}|");
    ASSERT_STR_EQ(unknown, "extra spec.bogus spec.steps[0].junk ");
    /* required means present, as JSON Schema says: "" is a value. */
    ASSERT_STR_EQ(passes(r->schema,
                         "{\"metadata\":{\"name\":\"a\"},\"spec\":{"
                         "\"image\":\"\",\"replicas\":2}}",
                         unknown, sizeof unknown),
                  "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"image\":\"\","
                  "\"replicas\":2}}|");
    ASSERT_STR_EQ(
        passes(r->schema,
               "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"replicas\":11,"
               "\"policy\":\"Maybe\"}}",
               unknown, sizeof unknown),
        "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"replicas\":11,"
        "\"policy\":\"Maybe\"}}|[spec.image: Required value, spec.replicas: "
        "Invalid value: 11: must be between 1 and 10, inclusive, spec.policy: "
        "Unsupported value: \"Maybe\": supported values: \"Allow\", "
        "\"Forbid\"]");
}

TEST(crd, printer_columns_make_the_table)
{
    const struct obj_resource *r =
        build_one(established(CRONTAB_HEAD CRONTAB_V1 CRONTAB_TAIL), NULL);
    struct obj *o = parse(
        "{\"metadata\":{\"name\":\"a\",\"creationTimestamp\":"
        "\"2027-01-15T07:00:00Z\"},\"spec\":{\"cronSpec\":\"* * * * *\","
        "\"replicas\":3},\"status\":{\"conditions\":[{\"type\":\"Other\","
        "\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"True\"}]}}");
    struct obj *cols = obj_table_columns(r->table);
    struct obj *cells = obj_table_cells(r->table, o, NOW);

    unit_defer(unref, cols);
    unit_defer(unref, cells);
    ASSERT_STR_EQ(json_of(cells), "[\"a\",\"* * * * *\",3,\"True\",\"60m\"]");
    ASSERT_EQ(obj_array_len(cols), 5);
    ASSERT_STR_EQ(obj_str_or(obj_get_path(cols, "0.format"), ""), "name");
    ASSERT_STR_EQ(obj_str_or(obj_get_path(cols, "3.name"), ""), "Ready");
    ASSERT_EQ(obj_int_or(obj_get_path(cols, "3.priority"), -1), 1);
    ASSERT_STR_EQ(obj_str_or(obj_get_path(cols, "4.type"), ""), "date");
    /* Absent values show as <none>. */
    cells = obj_table_cells(r->table, parse("{\"metadata\":{\"name\":\"b\"}}"),
                            NOW);
    unit_defer(unref, cells);
    ASSERT_STR_EQ(json_of(cells),
                  "[\"b\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
}

TEST(crd, no_printer_columns_means_name_and_age)
{
    struct obj_table *t = NULL;
    struct obj *o = parse("{\"metadata\":{\"name\":\"a\",\"creationTimestamp\":"
                          "\"2027-01-15T07:59:00Z\"}}");
    struct obj *cells;

    ASSERT_EQ(obj_table_custom_new(NULL, 0, &t), 0);
    cells = obj_table_cells(t, o, NOW);
    ASSERT_STR_EQ(json_of(cells), "[\"a\",\"60s\"]");
    obj_unref(cells);
    obj_table_custom_free(t);
}

TEST(crd, json_paths_the_columns_understand)
{
    ASSERT(obj_table_path_ok(".spec.replicas"));
    ASSERT(obj_table_path_ok(".items[0].name"));
    ASSERT(obj_table_path_ok(".metadata.labels['app.kubernetes.io/name']"));
    ASSERT(obj_table_path_ok(".status.conditions[?(@.type=='Ready')].status"));
    ASSERT(!obj_table_path_ok(""));
    ASSERT(!obj_table_path_ok("spec"));
    ASSERT(!obj_table_path_ok(".spec..x"));
    ASSERT(!obj_table_path_ok(".spec[x]"));
    ASSERT(obj_table_path_ok(".a[?(@.b == \"c\")].d"));
    ASSERT(obj_table_path_ok(".metadata.labels[\"a.b/c\"]"));
    ASSERT(!obj_table_path_ok(".a[?(@.b=\"c\")]"));
    ASSERT(!obj_table_path_ok(".a['b"));
    /* Cut short inside a filter: refused without reading past the end. */
    ASSERT(!obj_table_path_ok(".spec[?"));
    ASSERT(!obj_table_path_ok(".spec[?("));
    ASSERT(!obj_table_path_ok(".spec[?(@"));
    ASSERT(!obj_table_path_ok(".spec[?(@.a=="));
    ASSERT(!obj_table_path_ok(".spec[?(@.a==\"b"));
    ASSERT(!obj_table_path_ok(".spec[?(@.a)]==\"b\")]"));
}

TEST(crd, names_clash_with_a_builtin_or_another_kind)
{
    struct obj_registry *reg = NULL;
    struct err e = {0};
    struct obj *crd = established(CRONTAB_HEAD CRONTAB_V1 CRONTAB_TAIL);
    size_t n;
    const struct obj_resource *res = build_one(crd, &n);
    struct obj *other = parse(
        "{\"spec\":{\"group\":\"stable.example.com\",\"names\":{\"plural\":"
        "\"othertabs\",\"kind\":\"CronTab\"},\"versions\":[{\"name\":\"v1\"}]}}");
    struct obj *builtin = parse(
        "{\"spec\":{\"group\":\"storage.k8s.io\",\"names\":{\"plural\":"
        "\"storageclasses\",\"kind\":\"X\"},\"versions\":[{\"name\":\"v1\"}]}}");

    ASSERT_EQ(obj_registry_new(res, n, &reg, &e), 0);
    ASSERT(obj_crd_conflict(crd, reg) == NULL); /* its own names */
    ASSERT(strstr(obj_crd_conflict(other, reg), "kind") != NULL);
    ASSERT(strstr(obj_crd_conflict(builtin, reg), "built-in") != NULL);
    obj_registry_free(reg);
}

UNIT_MAIN()
