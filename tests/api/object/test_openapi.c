/* OpenAPI v3 from the schemas: an index naming every group-version served,
 * and documents whose write operations carry the group-version-kind and
 * the fieldValidation parameter kubectl looks for, whose schemas carry
 * properties and descriptions for kubectl explain, and whose every $ref
 * resolves inside the document; the same input gives the same bytes. */
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

/* Every "$ref" under @o names a schema of @schemas. */
static size_t check_refs(const struct obj *o, const struct obj *schemas)
{
    size_t n = 0;

    if (obj_type(o) == OBJ_MAP) {
        const char *ref = obj_str_or(obj_map_get(o, "$ref"), NULL);

        if (ref != NULL) {
            ASSERT_MSG(strncmp(ref, "#/components/schemas/", 21) == 0 &&
                           obj_map_get(schemas, ref + 21) != NULL,
                       "unresolved $ref %s", ref);
            n++;
        }
        for (size_t i = 0; i < obj_map_len(o); i++)
            n += check_refs(obj_map_value(o, i), schemas);
    } else if (obj_type(o) == OBJ_ARRAY) {
        for (size_t i = 0; i < obj_array_len(o); i++)
            n += check_refs(obj_array_get(o, i), schemas);
    }
    return n;
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

UNIT_MAIN()
