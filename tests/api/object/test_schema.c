/* Schemas: the parser's errors, the prune, default and validate passes on
 * small schemas written here, and the built-in schemas (every kind the
 * registry serves has one, every reference and hook resolves, real
 * manifests keep every field and get Kubernetes' defaults). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/registry.h"
#include "api/object/schema.h"
#include "api/object/schema_internal.h"
#include "lib/mem.h"
#include "tests/lib/unit.h"

/* ---- helpers --------------------------------------------------------------*/

static void unref_cb(void *o)
{
    obj_unref(o);
}

static void schemas_cb(void *s)
{
    obj_schemas_free(s);
}

static void ferrs_cb(void *l)
{
    obj_ferrs_done(l);
    free(l);
}

static void buf_cb(void *b)
{
    obj_buf_done(b);
    free(b);
}

/* A tree decoded from JSON @text, freed when the test ends. The caller
 * gets no reference of its own (see take()). */
static struct obj *tree(const char *text)
{
    struct obj *o = NULL;
    struct err e;

    ASSERT_MSG(obj_json_decode(text, strlen(text), NULL, &o, &e) == 0,
               "bad test JSON: %s", e.msg);
    unit_defer(unref_cb, o);
    return o;
}

/* A fresh reference to a decoded tree, for passes that may replace it;
 * released when the test ends through *@slot. */
static struct obj **take(const char *text)
{
    struct obj **slot = calloc(1, sizeof *slot);
    struct err e;

    ASSERT(slot != NULL);
    ASSERT_MSG(obj_json_decode(text, strlen(text), NULL, slot, &e) == 0,
               "bad test JSON: %s", e.msg);
    unit_defer(free, slot);
    return slot;
}

static void release(struct obj **slot)
{
    *slot = obj_unref(*slot);
}

static struct obj_ferrs *ferrs(void)
{
    struct obj_ferrs *l = calloc(1, sizeof *l);

    ASSERT(l != NULL);
    obj_ferrs_init(l);
    unit_defer(ferrs_cb, l);
    return l;
}

static const char *json_of(const struct obj *o)
{
    struct obj_buf *b = calloc(1, sizeof *b);
    struct err e;

    ASSERT(b != NULL);
    obj_buf_init(b);
    unit_defer(buf_cb, b);
    ASSERT(obj_json_encode(o, 0, b, &e) == 0);
    ASSERT(obj_buf_append(b, "", 1) == 0);
    return b->data;
}

/* Every error of @l as "type field: detail" lines. */
static const char *errs_text(const struct obj_ferrs *l)
{
    struct obj_buf *b = calloc(1, sizeof *b);

    ASSERT(b != NULL);
    obj_buf_init(b);
    unit_defer(buf_cb, b);
    for (size_t i = 0; i < l->len; i++) {
        ASSERT(obj_ferr_format(&l->v[i], b) == 0);
        ASSERT(obj_buf_append(b, "\n", 1) == 0);
    }
    ASSERT(obj_buf_append(b, "", 1) == 0);
    return b->data;
}

static bool quantity_ok(const char *s)
{
    return obj__quantity_ok(s, strlen(s));
}

/* @o equals the JSON @want, keys in any order. */
#define ASSERT_JSON(o, want)                                       \
    do {                                                           \
        const struct obj *got_ = (o);                              \
        ASSERT_MSG(obj_equal(got_, tree(want)), "got %s\nwant %s", \
                   json_of(got_), (want));                         \
    } while (0)

static struct obj_schemas *parse_ok(const char *text)
{
    struct obj_schema_text t = {"t.schema", text, strlen(text)};
    struct obj_schemas *s = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_schemas_parse(&t, 1, &s, &e) == 0, "%s", e.msg);
    unit_defer(schemas_cb, s);
    return s;
}

static const char *parse_err(const char *text)
{
    static struct err e;
    struct obj_schema_text t = {"t.schema", text, strlen(text)};
    struct obj_schemas *s = NULL;

    memset(&e, 0, sizeof e);
    ASSERT_EQ(obj_schemas_parse(&t, 1, &s, &e), -EINVAL);
    ASSERT(s == NULL);
    return e.msg;
}

/* A small schema that exercises every pass. */
static const char small[] =
    "package test/v1\n"
    "type Thing kind -- a thing\n"
    "  metadata ObjectMeta 1\n"
    "  spec ThingSpec 2 default={}\n"
    "type ThingSpec\n"
    "  mode string 1 default=Fast enum=Fast|Slow\n"
    "  size int32 2 min=0 max=10\n"
    "  cpu quantity 3\n"
    "  ports []Port 4 merge=name strategy=merge\n"
    "  labels map[string] 5\n"
    "  raw any 6\n"
    "  when time 7\n"
    "  blob bytes 8\n"
    "  either intstr 9\n"
    "  deep Deep 10\n"
    "type Port\n"
    "  name string 1 required fmt=ianasvcname\n"
    "  port int32 2 required min=1 max=65535\n"
    "  protocol string 3 default=TCP enum=TCP|UDP|SCTP\n"
    "type Deep\n"
    "  inner Inner 1 default={}\n"
    "type Inner\n"
    "  flag bool 1 default=true\n"
    "package meta/v1\n"
    "type ObjectMeta\n"
    "  name string 1\n"
    "  labels map[string] 11\n";

static const struct obj_sstruct *thing(void)
{
    const struct obj_schemas *s = parse_ok(small);
    const struct obj_sstruct *st =
        obj_schemas_find_kind(s, "test", "v1", "Thing");
    ASSERT(st != NULL);
    return st;
}

/* ---- parser ---------------------------------------------------------------*/

TEST(schema_parse, keeps_every_attribute)
{
    const struct obj_schemas *s = parse_ok(small);
    const struct obj_sstruct *spec =
        obj_schemas_find(s, "test/v1", "ThingSpec");
    const struct obj_sfield *f;

    ASSERT(spec != NULL && !spec->is_kind);
    ASSERT_UEQ(spec->n_fields, 10);
    ASSERT_STR_EQ(spec->fields[0].name, "mode"); /* written order kept */
    f = obj_sstruct_field(spec, "ports");
    ASSERT(f != NULL);
    ASSERT_EQ(f->proto, 4);
    ASSERT_EQ(f->type->kind, OBJ_ST_LIST);
    ASSERT_EQ(f->type->elem->kind, OBJ_ST_STRUCT);
    ASSERT_STR_EQ(f->type->elem->st->name, "Port");
    ASSERT_STR_EQ(f->merge_key, "name");
    ASSERT_STR_EQ(f->strategy, "merge");
    f = obj_sstruct_field(spec, "size");
    ASSERT(f->has_min && f->has_max && f->min == 0 && f->max == 10);
    f = obj_sstruct_field(spec, "mode");
    ASSERT_STR_EQ(f->enums[1], "Slow");
    ASSERT(f->enums[2] == NULL);
    ASSERT_STR_EQ(obj_str_or(f->def, ""), "Fast");
    ASSERT(obj_sstruct_field(spec, "nope") == NULL);
    ASSERT_STR_EQ(obj_schemas_find_kind(s, "test", "v1", "Thing")->desc,
                  "a thing");
    /* ObjectMeta resolves unqualified from another package. */
    f = obj_sstruct_field(obj_schemas_find(s, "test/v1", "Thing"), "metadata");
    ASSERT_STR_EQ(f->type->st->pkg, "meta/v1");
    /* Only types marked kind are kinds. */
    ASSERT(obj_schemas_find_kind(s, "test", "v1", "ThingSpec") == NULL);
}

TEST(schema_parse, errors_name_file_and_line)
{
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\n  x Nope 1\n"),
                  "t.schema:3: unknown type \"Nope\"");
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\n  x string 1\n"
                            "  x string 2\n"),
                  "t.schema:4: field \"x\" defined twice");
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\n  x string 1\n"
                            "  y string 1\n"),
                  "t.schema:4: protobuf number 1 used twice");
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\n  x string 1 color=red\n"),
                  "t.schema:3: unknown attribute \"color\"");
    ASSERT_STR_EQ(parse_err("x string 1\n"),
                  "t.schema:1: field outside a type");
    ASSERT_STR_EQ(parse_err("type T\n"),
                  "t.schema:1: type before any package line");
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\n  b bool 1 default=yes\n"),
                  "t.schema:3: default of a bool must be true or false");
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\n  n int32 x\n"),
                  "t.schema:3: bad protobuf number \"x\"");
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\n  n int32 0\n"),
                  "t.schema:3: bad protobuf number \"0\"");
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\ntype T\n"),
                  "type a/v1.T defined twice");
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\n  m map[ 1\n"),
                  "t.schema:3: bad type \"map[\"");
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\n  s []b.v1.X 1\n"),
                  "t.schema:3: unknown type \"b.v1.X\"");
    ASSERT_STR_EQ(parse_err("package a/v1\ntype T\n  s string 1 fmt=odd\n"),
                  "t.schema:3: unknown fmt \"odd\"");
}

/* ---- prune ----------------------------------------------------------------*/

TEST(schema_prune, removes_and_reports_unknown_fields)
{
    struct obj **o = take(
        "{\"apiVersion\":\"test/v1\",\"kind\":\"Thing\","
        "\"metadata\":{\"name\":\"a\",\"bogus\":1},\"extra\":true,"
        "\"spec\":{\"ports\":[{\"port\":1},{\"port\":2,\"colour\":\"red\"}],"
        "\"raw\":{\"anything\":[1,{\"goes\":null}]},\"size\":null}}");
    struct obj_ferrs *unknown = ferrs(), *bad = ferrs();

    unit_defer((void (*)(void *))release, o);
    ASSERT_EQ(obj_schema_prune(thing(), o, unknown, bad), 0);
    ASSERT_JSON((*o),
                "{\"apiVersion\":\"test/v1\",\"kind\":\"Thing\","
                "\"metadata\":{\"name\":\"a\"},\"spec\":{\"ports\":"
                "[{\"port\":1},{\"port\":2}],\"raw\":{\"anything\":"
                "[1,{\"goes\":null}]}}}");
    ASSERT_UEQ(bad->len, 0);
    ASSERT_UEQ(unknown->len, 3);
    ASSERT_STR_EQ(unknown->v[0].field, "metadata.bogus");
    ASSERT_STR_EQ(unknown->v[1].field, "extra");
    ASSERT_STR_EQ(unknown->v[2].field, "spec.ports[1].colour");
}

TEST(schema_prune, leaves_other_references_untouched)
{
    struct obj **o = take(
        "{\"spec\":{\"deep\":{\"inner\":{\"x\":1}},"
        "\"cpu\":2}}");
    struct obj *before = obj_ref(*o);
    const char *orig = json_of(before);
    struct obj_ferrs *unknown = ferrs(), *bad = ferrs();

    unit_defer(unref_cb, before);
    unit_defer((void (*)(void *))release, o);
    ASSERT_EQ(obj_schema_prune(thing(), o, unknown, bad), 0);
    ASSERT(*o != before);
    ASSERT_JSON((before), orig);
    /* A number for a quantity becomes its text. */
    ASSERT_JSON((*o), "{\"spec\":{\"cpu\":\"2\",\"deep\":{\"inner\":{}}}}");
    ASSERT_UEQ(unknown->len, 1);
    ASSERT_STR_EQ(unknown->v[0].field, "spec.deep.inner.x");
}

TEST(schema_prune, reports_values_of_the_wrong_type)
{
    struct obj **o = take(
        "{\"spec\":{\"mode\":3,\"size\":4294967296,\"ports\":{},"
        "\"labels\":{\"a\":1,\"b\":null},\"cpu\":\"lots\","
        "\"when\":\"yesterday\",\"blob\":\"!!\",\"either\":true,"
        "\"deep\":[]}}");
    struct obj_ferrs *unknown = ferrs(), *bad = ferrs();

    unit_defer((void (*)(void *))release, o);
    ASSERT_EQ(obj_schema_prune(thing(), o, unknown, bad), 0);
    ASSERT_UEQ(unknown->len, 0);
    ASSERT_STR_EQ(
        errs_text(bad),
        "spec.mode: Invalid value: expected a string, got int\n"
        "spec.size: Invalid value: expected a 32-bit integer, got int\n"
        "spec.ports: Invalid value: expected an array of Port, got map\n"
        "spec.labels[a]: Invalid value: expected a string, got int\n"
        "spec.cpu: Invalid value: \"lots\": quantities must match the "
        "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'\n"
        "spec.when: Invalid value: \"yesterday\": expected an RFC 3339 time\n"
        "spec.blob: Invalid value: illegal base64 data\n"
        "spec.either: Invalid value: expected an integer or a string, got "
        "bool\n"
        "spec.deep: Invalid value: expected an object (Deep), got array\n");
    /* A null map value of a string map is "" (Go's zero value). */
    ASSERT_JSON((obj_get_path(*o, "spec.labels.b")), "\"\"");
}

TEST(schema_prune, accepts_good_scalars)
{
    struct obj **o = take(
        "{\"spec\":{\"cpu\":\"100m\",\"when\":\"2024-01-02T03:04:05Z\","
        "\"blob\":\"aGk=\",\"either\":\"25%\"},"
        "\"metadata\":{\"labels\":{}}}");
    struct obj_ferrs *unknown = ferrs(), *bad = ferrs();
    static const char *const quantities[] = {
        "1", "0.5", "1Gi", "500Mi", "2e3", "1E-2", "+1k", "-1m", ".5", NULL};
    static const char *const not_quantities[] = {"",   "1..0", "1Q", "Gi",
                                                 "1e", "1 Gi", NULL};

    unit_defer((void (*)(void *))release, o);
    ASSERT_EQ(obj_schema_prune(thing(), o, unknown, bad), 0);
    ASSERT_STR_EQ(errs_text(bad), "");
    for (size_t i = 0; quantities[i]; i++)
        ASSERT_MSG(quantity_ok(quantities[i]), "%s", quantities[i]);
    for (size_t i = 0; not_quantities[i]; i++)
        ASSERT_MSG(!quantity_ok(not_quantities[i]), "%s", not_quantities[i]);
}

/* ---- default and validate
 * ---------------------------------------------------*/

TEST(schema_default, fills_plain_and_nested_defaults)
{
    struct obj **o = take(
        "{\"spec\":{\"ports\":[{\"name\":\"a\",\"port\":1,"
        "\"protocol\":\"\"},"
        "{\"name\":\"b\",\"port\":2,\"protocol\":\"UDP\"}],"
        "\"deep\":{}}}");
    struct obj *before = obj_ref(*o);
    const char *orig = json_of(before);

    unit_defer(unref_cb, before);
    unit_defer((void (*)(void *))release, o);
    ASSERT_EQ(obj_schema_default(thing(), o), 0);
    ASSERT_JSON((*o),
                "{\"spec\":{\"deep\":{\"inner\":{\"flag\":true}},"
                "\"mode\":\"Fast\",\"ports\":[{\"name\":\"a\",\"port\":1,"
                "\"protocol\":\"TCP\"},{\"name\":\"b\",\"port\":2,"
                "\"protocol\":\"UDP\"}]}}");
    ASSERT_JSON((before), orig);

    struct obj **empty = take("{}");
    unit_defer((void (*)(void *))release, empty);
    ASSERT_EQ(obj_schema_default(thing(), empty), 0);
    ASSERT_JSON((*empty), "{\"spec\":{\"mode\":\"Fast\"}}");
}

TEST(schema_validate, checks_required_enum_range_and_format)
{
    const struct obj *o = tree(
        "{\"metadata\":{\"name\":\"\"},\"spec\":{\"mode\":\"Medium\","
        "\"size\":11,\"ports\":[{\"name\":\"http\",\"port\":80},"
        "{\"port\":0,\"protocol\":\"\"},{\"name\":\"-x-\",\"port\":70000,"
        "\"protocol\":\"tcp\"}]}}");
    struct obj_ferrs *errs = ferrs();

    ASSERT_EQ(obj_schema_validate(thing(), o, errs), 0);
    ASSERT_STR_EQ(
        errs_text(errs),
        "spec.mode: Unsupported value: \"Medium\": supported values: "
        "\"Fast\", \"Slow\"\n"
        "spec.size: Invalid value: 11: must be between 0 and 10, inclusive\n"
        "spec.ports[1].name: Required value\n"
        "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, "
        "inclusive\n"
        "spec.ports[2].name: Invalid value: \"-x-\": must not begin or end "
        "with a hyphen\n"
        "spec.ports[2].port: Invalid value: 70000: must be between 1 and "
        "65535, inclusive\n"
        "spec.ports[2].protocol: Unsupported value: \"tcp\": supported "
        "values: \"TCP\", \"UDP\", \"SCTP\"\n");
}

/* ---- the built-in schemas
 * ---------------------------------------------------*/

static const struct obj_schemas *builtin(void)
{
    struct err e = {0};
    const struct obj_schemas *s = obj_schemas_builtin(&e);

    ASSERT_MSG(s != NULL, "built-in schemas: %s", e.msg);
    return s;
}

TEST(schema_builtin, every_served_kind_has_a_schema)
{
    const struct obj_schemas *s = builtin();
    size_t n;
    const struct obj_resource *res = obj_registry_builtins(&n);

    for (size_t i = 0; i < n; i++) {
        const struct obj_sstruct *st =
            obj_schemas_find_kind(s, res[i].group, res[i].version, res[i].kind);
        ASSERT_MSG(st != NULL, "no schema for %s/%s %s", res[i].group,
                   res[i].version, res[i].kind);
        ASSERT_MSG(obj_sstruct_field(st, "metadata") != NULL,
                   "%s has no metadata", res[i].kind);
    }
    ASSERT(obj_schemas_find_kind(s, "autoscaling", "v1", "Scale") != NULL);
}

TEST(schema_builtin, every_hook_names_a_type)
{
    const struct obj_schemas *s = builtin();

    for (size_t i = 0; i < obj_schema_n_hooks(); i++) {
        const char *pkg, *name;
        obj_schema_hook_at(i, &pkg, &name);
        const struct obj_sstruct *st = obj_schemas_find(s, pkg, name);
        ASSERT_MSG(st != NULL && st->hook != NULL, "hook %s.%s has no type",
                   pkg, name);
    }
}

TEST(schema_builtin, fields_have_protobuf_numbers)
{
    const struct obj_schemas *s = builtin();

    for (size_t i = 0; i < obj_schemas_len(s); i++) {
        const struct obj_sstruct *st = obj_schemas_at(s, i);
        for (size_t j = 0; j < st->n_fields; j++)
            ASSERT_MSG(st->fields[j].proto > 0, "%s.%s.%s has no number",
                       st->pkg, st->name, st->fields[j].name);
    }
}
static const struct obj_sstruct *kind(const char *group, const char *kind)
{
    const struct obj_sstruct *st =
        obj_schemas_find_kind(builtin(), group, "v1", kind);

    ASSERT_MSG(st != NULL, "no kind %s", kind);
    return st;
}

/* A Deployment defaults exactly as kube-apiserver 1.33 returns it. */
TEST(schema_builtin, a_deployment_gets_kubernetes_defaults)
{
    struct obj **o = take(
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":"
        "{\"name\":\"web\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":"
        "\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.27\","
        "\"ports\":[{\"containerPort\":80}]}]}}}}");
    struct obj_ferrs *unknown = ferrs(), *bad = ferrs(), *errs = ferrs();

    unit_defer((void (*)(void *))release, o);
    ASSERT_EQ(obj_schema_prune(kind("apps", "Deployment"), o, unknown, bad), 0);
    ASSERT_UEQ(unknown->len + bad->len, 0);
    ASSERT_EQ(obj_schema_default(kind("apps", "Deployment"), o), 0);
    ASSERT_JSON(
        *o,
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":"
        "{\"name\":\"web\"},\"spec\":{\"progressDeadlineSeconds\":600,"
        "\"replicas\":1,\"revisionHistoryLimit\":10,\"selector\":"
        "{\"matchLabels\":{\"app\":\"web\"}},\"strategy\":{\"rollingUpdate\":"
        "{\"maxSurge\":\"25%\",\"maxUnavailable\":\"25%\"},\"type\":"
        "\"RollingUpdate\"},\"template\":{\"metadata\":{\"labels\":{\"app\":"
        "\"web\"}},\"spec\":{\"containers\":[{\"image\":\"nginx:1.27\","
        "\"imagePullPolicy\":\"IfNotPresent\",\"name\":\"web\",\"ports\":"
        "[{\"containerPort\":80,\"protocol\":\"TCP\"}],"
        "\"terminationMessagePath\":\"/dev/termination-log\","
        "\"terminationMessagePolicy\":\"File\"}],\"dnsPolicy\":"
        "\"ClusterFirst\",\"restartPolicy\":\"Always\",\"schedulerName\":"
        "\"default-scheduler\",\"securityContext\":{},"
        "\"terminationGracePeriodSeconds\":30}}}}");
    ASSERT_EQ(obj_schema_validate(kind("apps", "Deployment"), *o, errs), 0);
    ASSERT_STR_EQ(errs_text(errs), "");
}

/* A Pod that uses much of the API keeps every field. */
TEST(schema_builtin, a_rich_pod_loses_nothing)
{
    static const char pod[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
        "\"labels\":{\"a\":\"b\"},\"annotations\":{\"x\":\"y\"},"
        "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":"
        "\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"u\",\"controller\":true}]},"
        "\"spec\":{\"enableServiceLinks\":false,\"hostNetwork\":false,"
        "\"serviceAccountName\":\"sa\",\"serviceAccount\":\"sa\","
        "\"nodeSelector\":{\"disk\":\"ssd\"},\"affinity\":{\"podAntiAffinity\":"
        "{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":1,"
        "\"podAffinityTerm\":{\"topologyKey\":\"zone\",\"labelSelector\":"
        "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":"
        "[\"b\"]}]}}}]}},\"tolerations\":[{\"key\":\"k\",\"operator\":"
        "\"Exists\",\"effect\":\"NoSchedule\",\"tolerationSeconds\":5}],"
        "\"volumes\":[{\"name\":\"cfg\",\"configMap\":{\"name\":\"c\","
        "\"items\":[{\"key\":\"a\",\"path\":\"b\"}],\"defaultMode\":420}},"
        "{\"name\":\"tmp\",\"emptyDir\":{\"medium\":\"Memory\",\"sizeLimit\":"
        "\"1Gi\"}},{\"name\":\"proj\",\"projected\":{\"sources\":"
        "[{\"serviceAccountToken\":{\"path\":\"t\",\"expirationSeconds\":"
        "3600}}],\"defaultMode\":420}}],\"initContainers\":[{\"name\":"
        "\"init\",\"image\":\"busybox:1\",\"command\":[\"true\"],"
        "\"restartPolicy\":\"Always\"}],\"containers\":[{\"name\":\"c\","
        "\"image\":\"nginx:1\",\"imagePullPolicy\":\"IfNotPresent\",\"env\":"
        "[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"valueFrom\":"
        "{\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":"
        "\"metadata.name\"}}}],\"envFrom\":[{\"secretRef\":{\"name\":\"s\"}}],"
        "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"},"
        "\"limits\":{\"memory\":\"128Mi\",\"ephemeral-storage\":\"1Gi\"}},"
        "\"volumeMounts\":[{\"name\":"
        "\"cfg\",\"mountPath\":\"/etc/c\",\"readOnly\":true}],"
        "\"livenessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":\"http\","
        "\"scheme\":\"HTTP\"},\"periodSeconds\":10,\"timeoutSeconds\":1,"
        "\"successThreshold\":1,\"failureThreshold\":3},\"readinessProbe\":"
        "{\"tcpSocket\":{\"port\":80},\"periodSeconds\":5,\"timeoutSeconds\":"
        "1,\"successThreshold\":1,\"failureThreshold\":3},\"lifecycle\":"
        "{\"preStop\":{\"sleep\":{\"seconds\":1}}},\"securityContext\":"
        "{\"runAsNonRoot\":true,\"readOnlyRootFilesystem\":true,"
        "\"capabilities\":{\"drop\":[\"ALL\"]},\"seccompProfile\":{\"type\":"
        "\"RuntimeDefault\"}},\"ports\":[{\"name\":\"http\",\"containerPort\":"
        "80,\"protocol\":\"TCP\"}],\"terminationMessagePath\":"
        "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\"}],"
        "\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
        "\"zone\",\"whenUnsatisfiable\":\"DoNotSchedule\"}],"
        "\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\","
        "\"schedulerName\":\"default-scheduler\",\"securityContext\":"
        "{\"fsGroup\":2000},\"terminationGracePeriodSeconds\":30,"
        "\"priority\":0},\"status\":{\"phase\":\"Running\",\"podIP\":"
        "\"10.0.0.5\",\"podIPs\":[{\"ip\":\"10.0.0.5\"}],\"conditions\":"
        "[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":"
        "\"2024-05-01T10:00:00Z\"}],\"containerStatuses\":[{\"name\":\"c\","
        "\"ready\":true,\"restartCount\":0,\"image\":\"nginx:1\",\"imageID\":"
        "\"\",\"started\":true,\"state\":{\"running\":{\"startedAt\":"
        "\"2024-05-01T10:00:00Z\"}}}],\"startTime\":"
        "\"2024-05-01T09:59:59Z\",\"qosClass\":\"Burstable\"}}";
    struct obj **o = take(pod);
    struct obj_ferrs *unknown = ferrs(), *bad = ferrs(), *errs = ferrs();

    unit_defer((void (*)(void *))release, o);
    ASSERT_EQ(obj_schema_prune(kind("", "Pod"), o, unknown, bad), 0);
    ASSERT_STR_EQ(errs_text(unknown), "");
    ASSERT_STR_EQ(errs_text(bad), "");
    ASSERT_JSON(*o, pod);
    ASSERT_EQ(obj_schema_default(kind("", "Pod"), o), 0);
    /* Limits fill the requests that are missing, and only those. */
    ASSERT_JSON(obj_get_path(*o, "spec.containers.0.resources.requests"),
                "{\"cpu\":\"100m\",\"memory\":\"64Mi\","
                "\"ephemeral-storage\":\"1Gi\"}");
    ASSERT_EQ(obj_schema_validate(kind("", "Pod"), *o, errs), 0);
    ASSERT_STR_EQ(errs_text(errs), "");
}

/* Every object of tests/api/server/every_kind.yaml (one of each served
 * kind, as users write them) prunes without losing a field and passes the
 * rules. */
TEST(schema_builtin, every_kind_of_the_api_test_loses_nothing)
{
    char path[2048];
    const char *top = getenv("top_srcdir");
    FILE *f;
    static char text[65536];
    size_t len, docs = 0;

    snprintf(path, sizeof path, "%s/tests/api/server/every_kind.yaml",
             top != NULL ? top : "..");
    f = fopen(path, "r");
    ASSERT_MSG(f != NULL, "cannot open %s", path);
    len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    for (char *doc = text, *next; doc != NULL; doc = next) {
        struct obj *o = NULL;
        struct obj_ferrs unknown, bad, errs;
        struct err e;
        char apiv[64] = "", group[64] = "", *slash;
        next = strstr(doc, "\n---\n");
        if (next != NULL) {
            *next = '\0';
            next += 5;
        }
        ASSERT_MSG(obj_yaml_decode(doc, strlen(doc), NULL, &o, &e) == 0, "%s",
                   e.msg);
        snprintf(apiv, sizeof apiv, "%s",
                 obj_str_or(obj_map_get(o, "apiVersion"), ""));
        slash = strchr(apiv, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(group, sizeof group, "%s", apiv);
        }
        const char *kindname = obj_str_or(obj_map_get(o, "kind"), "");
        const struct obj_sstruct *st = obj_schemas_find_kind(
            builtin(), group, slash ? slash + 1 : apiv, kindname);
        ASSERT_MSG(st != NULL, "no schema for %s", kindname);
        obj_ferrs_init(&unknown);
        obj_ferrs_init(&bad);
        obj_ferrs_init(&errs);
        ASSERT_EQ(obj_schema_prune(st, &o, &unknown, &bad), 0);
        ASSERT_MSG(unknown.len == 0 && bad.len == 0, "%s: %s%s", kindname,
                   errs_text(&unknown), errs_text(&bad));
        ASSERT_EQ(obj_schema_default(st, &o), 0);
        ASSERT_EQ(obj_schema_validate(st, o, &errs), 0);
        ASSERT_MSG(errs.len == 0, "%s: %s", kindname, errs_text(&errs));
        obj_ferrs_done(&unknown);
        obj_ferrs_done(&bad);
        obj_ferrs_done(&errs);
        obj_unref(o);
        docs++;
    }
    ASSERT_UEQ(docs, 22);
}

/* kubectl explain shows a description for every type and field. */
TEST(schema, every_type_and_field_is_described)
{
    struct err e = {0};
    const struct obj_schemas *s = obj_schemas_builtin(&e);
    size_t fields = 0;

    ASSERT_MSG(s != NULL, "%s", e.msg);
    for (size_t i = 0; i < obj_schemas_len(s); i++) {
        const struct obj_sstruct *st = obj_schemas_at(s, i);

        ASSERT_MSG(st->desc != NULL && st->desc[0] != '\0',
                   "%s.%s has no description", st->pkg, st->name);
        for (size_t k = 0; k < st->n_fields; k++, fields++)
            ASSERT_MSG(st->fields[k].desc != NULL &&
                           st->fields[k].desc[0] != '\0',
                       "%s.%s.%s has no description", st->pkg, st->name,
                       st->fields[k].name);
    }
    ASSERT(fields > 1000);
}

UNIT_MAIN()
