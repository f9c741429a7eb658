/* OpenAPI v3 from the schemas: an index naming every group-version served,
 * and documents whose write operations carry the group-version-kind and
 * the fieldValidation parameter kubectl looks for, whose schemas carry
 * properties and descriptions for kubectl explain, and whose every $ref
 * resolves inside the document; the same input gives the same bytes. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/openapi.h"
#include "tests/lib/unit.h"

static struct obj_openapi *build(struct obj_registry **reg)
{
    struct obj_openapi *o = NULL;
    const struct obj_schemas *s;
    struct err e = {0};

    ASSERT_MSG(obj_registry_new(NULL, 0, reg, &e) == 0, "%s", e.msg);
    s = obj_schemas_builtin(&e);
    ASSERT_MSG(s != NULL, "%s", e.msg);
    ASSERT_MSG(obj_openapi_build(*reg, s, &o, &e) == 0, "%s", e.msg);
    return o;
}

static struct obj *decode(const struct obj_openapi_doc *d)
{
    struct obj *o = NULL;

    ASSERT(d != NULL);
    ASSERT(obj_json_decode(d->json, d->len, NULL, &o, NULL) == 0);
    return o;
}

/* Every "$ref" under @o names a schema of @schemas, after @prefix. */
static size_t check_refs_in(const struct obj *o, const struct obj *schemas,
                            const char *prefix)
{
    size_t n = 0, len = strlen(prefix);

    if (obj_type(o) == OBJ_MAP) {
        const char *ref = obj_str_or(obj_map_get(o, "$ref"), NULL);

        if (ref != NULL) {
            ASSERT_MSG(strncmp(ref, prefix, len) == 0 &&
                           obj_map_get(schemas, ref + len) != NULL,
                       "unresolved $ref %s", ref);
            n++;
        }
        for (size_t i = 0; i < obj_map_len(o); i++)
            n += check_refs_in(obj_map_value(o, i), schemas, prefix);
    } else if (obj_type(o) == OBJ_ARRAY) {
        for (size_t i = 0; i < obj_array_len(o); i++)
            n += check_refs_in(obj_array_get(o, i), schemas, prefix);
    }
    return n;
}

static size_t check_refs(const struct obj *o, const struct obj *schemas)
{
    return check_refs_in(o, schemas, "#/components/schemas/");
}

TEST(openapi, the_index_names_every_group_version)
{
    struct obj_registry *reg;
    struct obj_openapi *o = build(&reg);
    struct obj *idx = decode(obj_openapi_index(o));
    const struct obj *paths = obj_map_get(idx, "paths");
    const struct obj_openapi_doc *apps = obj_openapi_find(o, "apis/apps/v1");
    char want[100];

    ASSERT(apps != NULL);
    snprintf(want, sizeof want, "/openapi/v3/apis/apps/v1?hash=%s",
             apps->hash);
    ASSERT_STR_EQ(obj_str_or(obj_get_path(paths,
                                          "apis/apps/v1.serverRelativeURL"),
                             ""), want);
    for (size_t i = 0; i < obj_registry_n_groups(reg); i++) {
        const struct obj_api_group *g = obj_registry_group(reg, i);
        char gv[128];

        snprintf(gv, sizeof gv, "%s%s%s", g->name[0] ? "apis/" : "api/",
                 g->name, g->name[0] ? "/v1" : "v1");
        ASSERT_MSG(obj_map_get(paths, gv) != NULL, "%s missing", gv);
    }
    ASSERT(obj_openapi_find(o, "apis/nope/v1") == NULL);
    obj_unref(idx);
    obj_openapi_free(o);
    obj_registry_free(reg);
}

TEST(openapi, documents_carry_what_kubectl_looks_for)
{
    struct obj_registry *reg;
    struct obj_openapi *o = build(&reg), *again;
    struct obj *doc = decode(obj_openapi_find(o, "apis/apps/v1"));
    const struct obj *schemas = obj_get_path(doc, "components.schemas");
    const struct obj *patch = obj_get(
        doc, "paths", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        "patch", NULL);
    const struct obj *params = obj_map_get(patch, "parameters");
    const struct obj *dep = obj_map_get(schemas, "io.k8s.api.apps.v1.Deployment");
    bool field_validation = false;

    ASSERT(patch != NULL);
    ASSERT_STR_EQ(obj_str_or(obj_get_path(patch,
                  "x-kubernetes-group-version-kind.kind"), ""), "Deployment");
    ASSERT_STR_EQ(obj_str_or(obj_get_path(patch,
                  "x-kubernetes-group-version-kind.group"), ""), "apps");
    for (size_t i = 0; i < obj_array_len(params); i++)
        field_validation |= strcmp(obj_str_or(obj_map_get(obj_array_get(params,
                                   i), "name"), ""), "fieldValidation") == 0 &&
                            strcmp(obj_str_or(obj_map_get(obj_array_get(params,
                                   i), "in"), ""), "query") == 0;
    ASSERT(field_validation);
    ASSERT(dep != NULL);
    ASSERT_STR_EQ(obj_str_or(obj_get_path(obj_array_get(obj_map_get(dep,
                  "x-kubernetes-group-version-kind"), 0), "kind"), ""),
                  "Deployment");
    ASSERT_STR_EQ(obj_str_or(obj_get_path(obj_array_get(obj_get_path(dep,
                  "properties.spec.allOf"), 0), "$ref"), ""),
                  "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec");
    ASSERT(obj_map_get(schemas, "io.k8s.apimachinery.pkg.apis.meta.v1."
                                "ObjectMeta") != NULL);
    ASSERT(obj_map_get(schemas, "io.k8s.api.core.v1.PodSpec") != NULL);
    ASSERT_STR_EQ(obj_str_or(obj_get(schemas, "io.k8s.api.core.v1.PodSpec",
                  "properties", "containers", "x-kubernetes-patch-merge-key",
                  NULL), ""), "name");
    ASSERT(check_refs(doc, schemas) > 50);
    /* Same input, same bytes and hash. */
    struct obj_registry *reg2;
    again = build(&reg2);
    ASSERT_STR_EQ(obj_openapi_find(again, "api/v1")->hash,
                  obj_openapi_find(o, "api/v1")->hash);
    obj_unref(doc);
    doc = decode(obj_openapi_find(o, "api/v1"));
    ASSERT(check_refs(doc, obj_get_path(doc, "components.schemas")) > 50);
    obj_unref(doc);
    obj_openapi_free(again);
    obj_openapi_free(o);
    obj_registry_free(reg2);
    obj_registry_free(reg);
}

/* ---- OpenAPI v2 ---------------------------------------------------------*/

/* Nothing under @o is named @key. */
static void assert_no_key(const struct obj *o, const char *key)
{
    if (obj_type(o) == OBJ_MAP) {
        ASSERT_MSG(obj_map_get(o, key) == NULL, "found %s", key);
        for (size_t i = 0; i < obj_map_len(o); i++)
            assert_no_key(obj_map_value(o, i), key);
    } else if (obj_type(o) == OBJ_ARRAY) {
        for (size_t i = 0; i < obj_array_len(o); i++)
            assert_no_key(obj_array_get(o, i), key);
    }
}

TEST(openapi, the_v2_document_is_swagger_2_with_every_ref_resolved)
{
    struct obj_registry *reg;
    struct obj_openapi *o = build(&reg);
    struct obj *doc = decode(obj_openapi_v2(o, false));
    const struct obj *defs = obj_map_get(doc, "definitions");
    const struct obj *params = obj_get(
        doc, "paths", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        "patch", "parameters", NULL);
    bool field_validation = false, body = false;

    ASSERT_STR_EQ(obj_str_or(obj_map_get(doc, "swagger"), ""), "2.0");
    for (size_t i = 0; i < obj_array_len(params); i++) {
        const struct obj *p = obj_array_get(params, i);
        const char *name = obj_str_or(obj_map_get(p, "name"), "");

        field_validation |= strcmp(name, "fieldValidation") == 0 &&
                            strcmp(obj_str_or(obj_map_get(p, "type"), ""),
                                   "string") == 0;
        body |= strcmp(obj_str_or(obj_map_get(p, "in"), ""), "body") == 0;
    }
    ASSERT(field_validation && body);
    /* Every group in one document; refs into #/definitions/, and no allOf
     * (kubectl's v2 reader does not follow it). */
    ASSERT(obj_map_get(defs, "io.k8s.api.apps.v1.Deployment") != NULL);
    ASSERT(obj_map_get(defs, "io.k8s.api.batch.v1.CronJob") != NULL);
    ASSERT(obj_map_get(defs, "io.k8s.api.core.v1.Pod") != NULL);
    ASSERT(check_refs_in(doc, defs, "#/definitions/") > 100);
    assert_no_key(doc, "allOf");
    ASSERT_STR_EQ(obj_str_or(obj_get(defs,
                  "io.k8s.api.apps.v1.RollingUpdateDeployment", "properties",
                  "maxSurge", "format", NULL), ""), "int-or-string");
    obj_unref(doc);
    obj_openapi_free(o);
    obj_registry_free(reg);
}

/* A protobuf message or field value. */
struct pbv {
    const unsigned char *p;
    size_t n;
};

static uint64_t pb_varint(const unsigned char **p, const unsigned char *end)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        ASSERT_MSG(*p < end, "truncated varint");
        unsigned char c = *(*p)++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0)
            return v;
    }
    unit_fail(__FILE__, __LINE__, "varint too long");
}

/* The @nth length-delimited field @field of @m ({NULL, 0} if absent);
 * fails on malformed wire data. */
static struct pbv pb_get(struct pbv m, unsigned field, size_t nth)
{
    const unsigned char *p = m.p, *end = m.p + m.n;

    while (p < end) {
        uint64_t key = pb_varint(&p, end), len;

        switch (key & 7) {
        case 0:
            (void)pb_varint(&p, end);
            break;
        case 1:
            ASSERT(end - p >= 8);
            p += 8;
            break;
        case 2:
            len = pb_varint(&p, end);
            ASSERT_MSG(len <= (uint64_t)(end - p), "field overruns message");
            if (key >> 3 == field && nth-- == 0)
                return (struct pbv){p, (size_t)len};
            p += len;
            break;
        default:
            unit_fail(__FILE__, __LINE__, "wire type %d", (int)(key & 7));
        }
    }
    return (struct pbv){NULL, 0};
}

static bool pb_is(struct pbv v, const char *s)
{
    return v.p != NULL && v.n == strlen(s) && memcmp(v.p, s, v.n) == 0;
}

/* The value (2) of the Named* entry, repeated field @field of @m, whose
 * name (1) is @name. */
static struct pbv pb_named(struct pbv m, unsigned field, const char *name)
{
    for (size_t i = 0;; i++) {
        struct pbv e = pb_get(m, field, i);

        if (e.p == NULL || pb_is(pb_get(e, 1, 0), name))
            return e.p == NULL ? e : pb_get(e, 2, 0);
    }
}

TEST(openapi, the_v2_protobuf_has_what_kubectl_1_27_reads)
{
    struct obj_registry *reg;
    struct obj_openapi *o = build(&reg);
    const struct obj_openapi_doc *d = obj_openapi_v2(o, true);
    struct pbv doc = {(const unsigned char *)d->json, d->len};
    struct pbv paths, op, spec, ext;
    bool field_validation = false;

    ASSERT(pb_is(pb_get(doc, 1, 0), "2.0"));                 /* swagger */
    ASSERT(pb_is(pb_get(pb_get(doc, 2, 0), 1, 0), "Kubernetes")); /* title */
    paths = pb_get(doc, 8, 0);
    op = pb_get(pb_named(paths, 2, "/apis/apps/v1/namespaces/{namespace}/"
                                   "deployments/{name}"),
                8, 0); /* PathItem.patch */
    ASSERT(op.p != NULL);
    for (size_t i = 0;; i++) { /* ParametersItem.parameter.non_body.query */
        struct pbv item = pb_get(op, 8, i);

        if (item.p == NULL)
            break;
        struct pbv q = pb_get(pb_get(pb_get(item, 1, 0), 2, 0), 3, 0);
        field_validation |= pb_is(pb_get(q, 4, 0), "fieldValidation");
    }
    ASSERT(field_validation);
    ext = pb_get(pb_named(op, 13, "x-kubernetes-group-version-kind"), 2, 0);
    ASSERT(ext.p != NULL && memmem(ext.p, ext.n, "\"Deployment\"", 12));
    spec = pb_named(pb_get(pb_named(pb_get(doc, 9, 0), 1,
                                    "io.k8s.api.apps.v1.Deployment"),
                           25, 0),
                    1, "spec");
    ASSERT(pb_is(pb_get(spec, 1, 0),
                 "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"));
    /* Containers keep their patch merge key for kubectl apply. */
    ext = pb_named(pb_get(pb_named(pb_get(doc, 9, 0), 1,
                                   "io.k8s.api.core.v1.PodSpec"),
                          25, 0),
                   1, "containers");
    ext = pb_get(pb_named(ext, 31, "x-kubernetes-patch-merge-key"), 2, 0);
    ASSERT(pb_is(ext, "\"name\""));
    obj_openapi_free(o);
    obj_registry_free(reg);
}

TEST(openapi, the_v2_encoder_refuses_what_is_no_document)
{
    struct obj *not_doc = obj_map_new(), *array = obj_array_new();
    struct obj_buf b;

    obj_buf_init(&b);
    ASSERT_EQ(obj_openapi_v2_encode_proto(not_doc, &b), -EINVAL);
    ASSERT_EQ(obj_openapi_v2_encode_proto(array, &b), -EINVAL);
    ASSERT_EQ(b.len, 0);
    obj_buf_done(&b);
    obj_unref(not_doc);
    obj_unref(array);
}

UNIT_MAIN()
