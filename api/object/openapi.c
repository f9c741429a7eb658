/* OpenAPI v3 documents from the schemas and the registry (openapi.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/openapi.h"
#include "lib/mem.h"

#define REF_PREFIX "#/components/schemas/"
#define REF_PREFIX_V2 "#/definitions/"

struct gv_doc {
    char gv[160]; /* "api/v1", "apis/apps/v1" */
    struct obj_openapi_doc doc;
};

struct obj_openapi {
    struct obj_openapi_doc index;
    struct gv_doc *docs;
    size_t n;
    struct obj_openapi_doc v2_json;  /* Swagger 2.0, every group */
    struct obj_openapi_doc v2_proto; /* the same as gnostic protobuf */
    bool v2_built;                   /* only kubectl <= 1.28 asks for v2:
                                      * built on its first request */
    const struct obj_registry *reg;  /* what v2 is built from (borrowed) */
    const struct obj_schemas *schemas;
};

/* Structs a document needs, found by walking from its kinds; and which
 * OpenAPI the document is written in. */
struct reach {
    const struct obj_sstruct **st;
    size_t n, cap;
    bool v2; /* Swagger 2.0: #/definitions/ refs, no allOf, no content */
};

/* ---- names -----------------------------------------------------------*/

/* Kubernetes' name of a schema package's struct:
 * io.k8s.api.apps.v1.Deployment, io.k8s.api.core.v1.Pod,
 * io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta. */
static void schema_name(const struct obj_sstruct *st, char *out, size_t size)
{
    char group[256];
    const char *slash = strchr(st->pkg, '/');
    size_t gl = slash != NULL ? (size_t)(slash - st->pkg) : strlen(st->pkg);
    const char *version = slash != NULL ? slash + 1 : "";
    char *dot;

    (void)snprintf(group, sizeof group, "%.*s", (int)gl, st->pkg);
    if (strchr(group, '.') != NULL && strstr(group, ".k8s.io") == NULL) {
        /* a custom resource's group, reversed: com.example.stable.v1.X */
        size_t used = 0;
        char *end = group + strlen(group), *p = end;
        out[0] = '\0';
        while (p > group && used < size) {
            char *q = p;
            while (q > group && q[-1] != '.')
                q--;
            int n = snprintf(out + used, size - used, "%.*s.", (int)(p - q), q);
            used += n > 0 ? (size_t)n : 0;
            p = q > group ? q - 1 : group;
        }
        if (used < size)
            (void)snprintf(out + used, size - used, "%s.%s", version, st->name);
        return;
    }
    if ((dot = strstr(group, ".k8s.io")) != NULL)
        *dot = '\0';
    if (strcmp(group, "meta") == 0)
        (void)snprintf(out, size, "io.k8s.apimachinery.pkg.apis.meta.%s.%s",
                       version, st->name);
    else
        (void)snprintf(out, size, "io.k8s.api.%s.%s.%s", group, version,
                       st->name);
}

/* The API group of a schema package: "" for core and meta. */
static void pkg_group(const char *pkg, char *out, size_t size)
{
    const char *slash = strchr(pkg, '/');
    size_t gl = slash != NULL ? (size_t)(slash - pkg) : strlen(pkg);

    (void)snprintf(out, size, "%.*s", (int)gl, pkg);
    if (strcmp(out, "core") == 0 || strcmp(out, "meta") == 0)
        out[0] = '\0';
}

/* ---- building trees --------------------------------------------------*/

/* The builders record the first failure in *@bad and carry on with NULL
 * children, so one check at the end covers them all. */
static struct obj *str(const char *s, bool *bad)
{
    struct obj *o = obj_str_new_c(s != NULL ? s : "");

    *bad |= o == NULL;
    return o;
}

static void set(struct obj *m, const char *k, struct obj *v, bool *bad)
{
    if (m == NULL || v == NULL || obj_map_set(m, k, v) != 0) {
        obj_unref(v);
        *bad = true;
    }
}

static void push(struct obj *a, struct obj *v, bool *bad)
{
    if (a == NULL || v == NULL || obj_array_append(a, v) != 0) {
        obj_unref(v);
        *bad = true;
    }
}

static struct obj *map(bool *bad)
{
    struct obj *m = obj_map_new();

    *bad |= m == NULL;
    return m;
}

static struct obj *ref_to(const struct obj_sstruct *st,
                          const struct reach *r, bool *bad)
{
    char name[256], ref[300];
    struct obj *m = map(bad);

    schema_name(st, name, sizeof name);
    (void)snprintf(ref, sizeof ref, "%s%s",
                   r->v2 ? REF_PREFIX_V2 : REF_PREFIX, name);
    set(m, "$ref", str(ref, bad), bad);
    return m;
}

static void reach_add(struct reach *r, const struct obj_sstruct *st,
                      bool *bad)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->st[i] == st)
            return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        const struct obj_sstruct **v = mem_realloc(r->st, cap * sizeof *v);

        if (v == NULL) {
            *bad = true;
            return;
        }
        r->st = v;
        r->cap = cap;
    }
    r->st[r->n++] = st;
}

/* The schema of a type expression; structs it names join @r. */
static struct obj *type_schema(const struct obj_stype *t, struct reach *r,
                               bool *bad)
{
    struct obj *m;

    if (t->kind == OBJ_ST_STRUCT) {
        reach_add(r, t->st, bad);
        return ref_to(t->st, r, bad);
    }
    m = map(bad);
    switch (t->kind) {
    case OBJ_ST_INT32:
    case OBJ_ST_INT64:
        set(m, "type", str("integer", bad), bad);
        set(m, "format", str(t->kind == OBJ_ST_INT32 ? "int32" : "int64",
                             bad), bad);
        break;
    case OBJ_ST_BOOL:
        set(m, "type", str("boolean", bad), bad);
        break;
    case OBJ_ST_DOUBLE:
        set(m, "type", str("number", bad), bad);
        set(m, "format", str("double", bad), bad);
        break;
    case OBJ_ST_BYTES:
        set(m, "type", str("string", bad), bad);
        set(m, "format", str("byte", bad), bad);
        break;
    case OBJ_ST_TIME:
    case OBJ_ST_MICROTIME:
        set(m, "type", str("string", bad), bad);
        set(m, "format", str("date-time", bad), bad);
        break;
    case OBJ_ST_INTSTR:
    case OBJ_ST_QUANTITY: /* a quantity may be written as a number too */
        if (r->v2) { /* as Kubernetes writes it in Swagger 2.0 */
            set(m, "type", str("string", bad), bad);
            set(m, "format", str("int-or-string", bad), bad);
        } else {
            set(m, "x-kubernetes-int-or-string", obj_bool_new(true), bad);
        }
        break;
    case OBJ_ST_ANY:
        set(m, "type", str("object", bad), bad);
        set(m, "x-kubernetes-preserve-unknown-fields", obj_bool_new(true),
            bad);
        break;
    case OBJ_ST_LIST:
        set(m, "type", str("array", bad), bad);
        set(m, "items", type_schema(t->elem, r, bad), bad);
        break;
    case OBJ_ST_MAP:
        set(m, "type", str("object", bad), bad);
        set(m, "additionalProperties", type_schema(t->elem, r, bad), bad);
        break;
    default: /* strings, durations */
        set(m, "type", str("string", bad), bad);
        break;
    }
    return m;
}

/* One property: its type, with description, enum and patch metadata. A
 * struct reference goes under allOf so it can carry a description, as
 * Kubernetes does in v3 (in v2 the description sits beside the $ref). */
static struct obj *field_schema(const struct obj_sfield *f, struct reach *r,
                                bool *bad)
{
    struct obj *m, *t = type_schema(f->type, r, bad);

    if (f->type->kind == OBJ_ST_STRUCT && !r->v2) {
        struct obj *all = obj_array_new();

        m = map(bad);
        push(all, t, bad);
        set(m, "allOf", all, bad);
        *bad |= all == NULL;
    } else {
        m = t;
    }
    if (f->desc != NULL)
        set(m, "description", str(f->desc, bad), bad);
    if (f->enums != NULL) {
        struct obj *e = obj_array_new();

        for (size_t i = 0; f->enums[i] != NULL; i++)
            push(e, str(f->enums[i], bad), bad);
        set(m, "enum", e, bad);
    }
    if (f->def != NULL)
        set(m, "default", obj_ref(f->def), bad);
    if (f->merge_key != NULL)
        set(m, "x-kubernetes-patch-merge-key", str(f->merge_key, bad), bad);
    if (f->strategy != NULL)
        set(m, "x-kubernetes-patch-strategy", str(f->strategy, bad), bad);
    if (f->list_type != NULL)
        set(m, "x-kubernetes-list-type", str(f->list_type, bad), bad);
    if (f->list_keys != NULL) {
        struct obj *k = obj_array_new();
        char keys[256], *save = NULL;

        (void)snprintf(keys, sizeof keys, "%s", f->list_keys);
        for (char *p = strtok_r(keys, ",", &save); p != NULL;
             p = strtok_r(NULL, ",", &save))
            push(k, str(p, bad), bad);
        set(m, "x-kubernetes-list-map-keys", k, bad);
    }
    return m;
}

static struct obj *gvk(const char *group, const char *version,
                       const char *kind, bool *bad)
{
    struct obj *m = map(bad);

    set(m, "group", str(group, bad), bad);
    set(m, "kind", str(kind, bad), bad);
    set(m, "version", str(version, bad), bad);
    return m;
}

static struct obj *struct_schema(const struct obj_sstruct *st,
                                 struct reach *r, bool *bad)
{
    struct obj *m = map(bad), *props = map(bad), *req = obj_array_new();

    if (st->desc != NULL)
        set(m, "description", str(st->desc, bad), bad);
    set(m, "type", str("object", bad), bad);
    for (size_t i = 0; i < st->n_fields; i++) {
        set(props, st->fields[i].name, field_schema(&st->fields[i], r, bad),
            bad);
        if (st->fields[i].required)
            push(req, str(st->fields[i].name, bad), bad);
    }
    set(m, "properties", props, bad);
    if (obj_array_len(req) > 0)
        set(m, "required", req, bad);
    else
        obj_unref(req);
    if (st->is_kind) {
        char group[64];
        struct obj *kinds = obj_array_new();
        const char *slash = strchr(st->pkg, '/');

        pkg_group(st->pkg, group, sizeof group);
        push(kinds, gvk(group, slash ? slash + 1 : "", st->name, bad), bad);
        set(m, "x-kubernetes-group-version-kind", kinds, bad);
    }
    return m;
}

/* ---- paths -----------------------------------------------------------*/

static struct obj *param(const char *name, const char *in, const char *desc,
                         const struct reach *r, bool *bad)
{
    struct obj *p = map(bad), *s;

    set(p, "name", str(name, bad), bad);
    set(p, "in", str(in, bad), bad);
    if (strcmp(in, "path") == 0)
        set(p, "required", obj_bool_new(true), bad);
    set(p, "description", str(desc, bad), bad);
    if (r->v2) {
        set(p, "type", str("string", bad), bad);
        return p;
    }
    s = map(bad);
    set(s, "type", str("string", bad), bad);
    set(p, "schema", s, bad);
    return p;
}

/* Swagger 2.0: the request body of a write. */
static struct obj *body_param(const struct obj_sstruct *st, bool patch,
                              struct reach *r, bool *bad)
{
    struct obj *p = map(bad), *s;

    set(p, "name", str("body", bad), bad);
    set(p, "in", str("body", bad), bad);
    set(p, "required", obj_bool_new(true), bad);
    if (patch || st == NULL) {
        s = map(bad);
        set(s, "type", str("object", bad), bad);
    } else {
        s = ref_to(st, r, bad);
    }
    set(p, "schema", s, bad);
    return p;
}

/* One operation of @res: @action is get, list, create, update, patch or
 * delete. Writes take dryRun, fieldManager and fieldValidation. */
static struct obj *operation(const struct obj_resource *res,
                             const struct obj_sstruct *st, const char *action,
                             bool item, struct reach *r, bool *bad)
{
    struct obj *op = map(bad), *params = obj_array_new();
    struct obj *resp = map(bad), *ok = map(bad);
    bool write = strcmp(action, "create") == 0 ||
                 strcmp(action, "update") == 0 || strcmp(action, "patch") == 0;
    char id[160];

    (void)snprintf(id, sizeof id, "%s%s%s", action,
                   res->namespaced ? "Namespaced" : "", res->kind);
    set(op, "operationId", str(id, bad), bad);
    if (res->namespaced)
        push(params, param("namespace", "path", "The object's namespace.",
                           r, bad), bad);
    if (item)
        push(params, param("name", "path", "The object's name.", r, bad),
             bad);
    if (write) {
        push(params, param("dryRun", "query",
                           "All: check and answer, but store nothing.", r,
                           bad), bad);
        push(params, param("fieldManager", "query",
                           "Who is making the change.", r, bad), bad);
        push(params, param("fieldValidation", "query",
                           "Ignore, Warn or Strict: what to do with fields "
                           "the schema does not know.", r, bad), bad);
        if (r->v2)
            push(params, body_param(st, strcmp(action, "patch") == 0, r, bad),
                 bad);
    }
    set(op, "parameters", params, bad);
    set(ok, "description", str("OK", bad), bad);
    if (st != NULL && r->v2) {
        set(ok, "schema", ref_to(st, r, bad), bad);
        reach_add(r, st, bad);
    } else if (st != NULL) {
        struct obj *content = map(bad), *json = map(bad);

        set(json, "schema", ref_to(st, r, bad), bad);
        set(content, "application/json", json, bad);
        set(ok, "content", content, bad);
        reach_add(r, st, bad);
    }
    set(resp, "200", ok, bad);
    set(op, "responses", resp, bad);
    set(op, "x-kubernetes-action",
        str(strcmp(action, "create") == 0 ? "post"
            : strcmp(action, "update") == 0 ? "put"
            : strcmp(action, "get") == 0 && !item ? "list" : action, bad),
        bad);
    set(op, "x-kubernetes-group-version-kind",
        gvk(res->group, res->version, res->kind, bad), bad);
    return op;
}

static void add_paths(struct obj *paths, const struct obj_resource *res,
                      const struct obj_sstruct *st, struct reach *r,
                      bool *bad)
{
    char coll[400], item[420];
    struct obj *c = map(bad), *i = map(bad);

    (void)snprintf(coll, sizeof coll, "%s%s/%s%s/%s",
                   res->group[0] ? "/apis/" : "/api", res->group,
                   res->version,
                   res->namespaced ? "/namespaces/{namespace}" : "",
                   res->resource);
    (void)snprintf(item, sizeof item, "%s/{name}", coll);
    set(c, "get", operation(res, NULL, "get", false, r, bad), bad);
    set(c, "post", operation(res, st, "create", false, r, bad), bad);
    set(i, "get", operation(res, st, "get", true, r, bad), bad);
    set(i, "put", operation(res, st, "update", true, r, bad), bad);
    set(i, "patch", operation(res, st, "patch", true, r, bad), bad);
    set(i, "delete", operation(res, NULL, "delete", true, r, bad), bad);
    set(paths, coll, c, bad);
    set(paths, item, i, bad);
}

/* ---- documents -------------------------------------------------------*/

static struct obj *info_of(bool *bad)
{
    struct obj *info = map(bad);

    set(info, "title", str("Kubernetes", bad), bad);
    set(info, "version", str("v1.33.0", bad), bad);
    return info;
}

/* The paths of every resource of group @g's version @v. */
static void add_version_paths(struct obj *paths, const struct obj_api_group *g,
                              const struct obj_api_version *v,
                              const struct obj_schemas *s, struct reach *r,
                              bool *bad)
{
    for (size_t i = 0; i < v->n_resources; i++) {
        const struct obj_resource *res = v->resources[i];
        add_paths(paths, res,
                  res->schema != NULL
                      ? res->schema
                      : obj_schemas_find_kind(s, g->name, v->version,
                                              res->kind),
                  r, bad);
    }
}

/* The schema of every struct reached, into @schemas. Structs reached
 * while writing reach more: walk until none is new. */
static void add_schemas(struct obj *schemas, struct reach *r, bool *bad)
{
    for (size_t i = 0; i < r->n; i++) {
        char name[256];

        schema_name(r->st[i], name, sizeof name);
        set(schemas, name, struct_schema(r->st[i], r, bad), bad);
    }
}

static void hash_of(const char *s, size_t n, char out[17])
{
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    (void)snprintf(out, 17, "%016llX", (unsigned long long)h);
}

static int finish(struct obj *o, struct obj_openapi_doc *d, bool bad)
{
    struct obj_buf b;
    int rv;

    if (bad) {
        obj_unref(o);
        return -ENOMEM;
    }
    obj_buf_init(&b);
    rv = obj_json_encode(o, 0, &b, NULL);
    obj_unref(o);
    if (rv != 0) {
        obj_buf_done(&b);
        return -ENOMEM;
    }
    d->json = b.data; /* the buffer's bytes become the document's */
    d->len = b.len;
    hash_of(d->json, d->len, d->hash);
    return 0;
}

static int gv_document(const struct obj_api_group *g,
                       const struct obj_api_version *v,
                       const struct obj_schemas *s, struct obj_openapi_doc *d)
{
    bool bad = false;
    struct reach r = {0};
    struct obj *doc = map(&bad), *info = info_of(&bad), *paths = map(&bad);
    struct obj *comps = map(&bad), *schemas = map(&bad);

    set(doc, "openapi", str("3.0.0", &bad), &bad);
    set(doc, "info", info, &bad);
    add_version_paths(paths, g, v, s, &r, &bad);
    set(doc, "paths", paths, &bad);
    add_schemas(schemas, &r, &bad);
    set(comps, "schemas", schemas, &bad);
    set(doc, "components", comps, &bad);
    mem_free(r.st);
    return finish(doc, d, bad);
}

/* The Swagger 2.0 document of every group (GET /openapi/v2), as JSON and
 * as the gnostic protobuf kubectl 1.27 and 1.28 ask for. */
static int v2_documents(const struct obj_registry *reg,
                        const struct obj_schemas *s, struct obj_openapi *o)
{
    bool bad = false;
    struct reach r = {.v2 = true};
    struct obj *doc = map(&bad), *info = info_of(&bad), *paths = map(&bad);
    struct obj *defs = map(&bad);
    struct obj_buf pb;
    int rv;

    set(doc, "swagger", str("2.0", &bad), &bad);
    set(doc, "info", info, &bad);
    for (size_t i = 0; i < obj_registry_n_groups(reg); i++) {
        const struct obj_api_group *g = obj_registry_group(reg, i);

        for (size_t k = 0; k < g->n_versions; k++)
            add_version_paths(paths, g, &g->versions[k], s, &r, &bad);
    }
    set(doc, "paths", paths, &bad);
    add_schemas(defs, &r, &bad);
    set(doc, "definitions", defs, &bad);
    mem_free(r.st);
    obj_buf_init(&pb);
    rv = bad ? -ENOMEM : obj_openapi_v2_encode_proto(doc, &pb);
    if (rv != 0) {
        obj_buf_done(&pb);
        obj_unref(doc);
        return rv;
    }
    o->v2_proto.json = pb.data;
    o->v2_proto.len = pb.len;
    hash_of(pb.data, pb.len, o->v2_proto.hash);
    return finish(doc, &o->v2_json, bad);
}

void obj_openapi_free(struct obj_openapi *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n; i++)
        mem_free(o->docs[i].doc.json);
    mem_free(o->docs);
    mem_free(o->index.json);
    mem_free(o->v2_json.json);
    mem_free(o->v2_proto.json);
    mem_free(o);
}

int obj_openapi_build(const struct obj_registry *r, const struct obj_schemas *s,
                      struct obj_openapi **ret, struct err *e)
{
    struct obj_openapi *o = mem_calloc(1, sizeof *o);
    size_t n = 0;
    bool bad = false;
    struct obj *index, *paths;

    if (o == NULL)
        return err_setf(e, -ENOMEM, "out of memory building OpenAPI");
    index = map(&bad);
    paths = map(&bad);
    for (size_t i = 0; i < obj_registry_n_groups(r); i++)
        n += obj_registry_group(r, i)->n_versions;
    if (!bad && (o->docs = mem_calloc(n ? n : 1, sizeof *o->docs)) == NULL)
        bad = true;
    for (size_t i = 0; i < obj_registry_n_groups(r) && !bad; i++) {
        const struct obj_api_group *g = obj_registry_group(r, i);

        for (size_t k = 0; k < g->n_versions && !bad; k++) {
            struct gv_doc *d = &o->docs[o->n];
            char url[300];
            struct obj *entry = map(&bad);

            (void)snprintf(d->gv, sizeof d->gv, "%s%s%s%s",
                           g->name[0] ? "apis/" : "api", g->name,
                           g->name[0] ? "/" : "/", g->versions[k].version);
            if (gv_document(g, &g->versions[k], s, &d->doc) != 0) {
                obj_unref(entry);
                bad = true;
                break;
            }
            o->n++;
            (void)snprintf(url, sizeof url, "/openapi/v3/%s?hash=%s", d->gv,
                           d->doc.hash);
            set(entry, "serverRelativeURL", str(url, &bad), &bad);
            set(paths, d->gv, entry, &bad);
        }
    }
    set(index, "paths", paths, &bad);
    o->reg = r;
    o->schemas = s;
    if (finish(index, &o->index, bad) != 0) {
        obj_openapi_free(o);
        return err_setf(e, -ENOMEM, "out of memory building OpenAPI");
    }
    *ret = o;
    return 0;
}

const struct obj_openapi_doc *obj_openapi_index(const struct obj_openapi *o)
{
    return &o->index;
}

const struct obj_openapi_doc *obj_openapi_v2(struct obj_openapi *o,
                                             bool proto)
{
    if (!o->v2_built) {
        if (v2_documents(o->reg, o->schemas, o) != 0) {
            mem_free(o->v2_json.json);
            mem_free(o->v2_proto.json);
            o->v2_json = o->v2_proto = (struct obj_openapi_doc){0};
            return NULL;
        }
        o->v2_built = true;
    }
    return proto ? &o->v2_proto : &o->v2_json;
}

const struct obj_openapi_doc *obj_openapi_find(const struct obj_openapi *o,
                                               const char *gv)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->docs[i].gv, gv) == 0)
            return &o->docs[i].doc;
    return NULL;
}
