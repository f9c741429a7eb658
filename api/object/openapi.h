/* OpenAPI v3 documents generated from the schemas (schema.h) and the
 * resources served (registry.h), as kube-apiserver serves them at
 * /openapi/v3: an index naming one document per group-version, and each
 * document with
 *   - paths: the collection and object paths of each resource, every
 *     write operation carrying x-kubernetes-group-version-kind and the
 *     fieldValidation query parameter (kubectl >= 1.29 then leaves
 *     validation to the server: fieldValidation=Strict);
 *   - components.schemas: every struct the group-version's kinds reach,
 *     named as Kubernetes names them (io.k8s.api.apps.v1.Deployment,
 *     io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta), with properties,
 *     descriptions (kubectl explain), required fields, enums, patch merge
 *     keys and list types, and x-kubernetes-group-version-kind on kinds.
 * No I/O; the documents are built once and served as bytes. */
#ifndef C8S_API_OBJECT_OPENAPI_H
#define C8S_API_OBJECT_OPENAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "api/object/registry.h"
#include "api/object/schema.h"
#include "lib/err.h"

struct obj_openapi;

/* One document: its JSON and the hash that names this version of it. */
struct obj_openapi_doc {
    char *json;
    size_t len;
    char hash[17]; /* 16 hex digits */
};

/* Build every document for the resources of @r from the schemas @s. A
 * resource whose kind has no schema gets an open object schema. */
int obj_openapi_build(const struct obj_registry *r, const struct obj_schemas *s,
                      struct obj_openapi **ret, struct err *e);
void obj_openapi_free(struct obj_openapi *o);

/* The index (GET /openapi/v3). */
const struct obj_openapi_doc *obj_openapi_index(const struct obj_openapi *o);

/* The Swagger 2.0 document of every group (GET /openapi/v2): its JSON, or
 * with @proto its gnostic protobuf encoding (openapi_v2.Document, what
 * kubectl 1.27 and 1.28 download for validation, apply and explain). The
 * doc's json field then holds protobuf bytes. Built on the first call
 * (the registry and schemas given to obj_openapi_build must still live);
 * NULL when out of memory. */
const struct obj_openapi_doc *obj_openapi_v2(struct obj_openapi *o,
                                             bool proto);

/* Encode a Swagger 2.0 document tree (as built for /openapi/v2: paths with
 * operations, parameters and responses; definitions; x- extensions) as a
 * gnostic openapi_v2.Document into @out. Fields the encoder does not know
 * are left out. -ENOMEM, or -EINVAL for a tree that is not a document. */
struct obj;
struct obj_buf;
int obj_openapi_v2_encode_proto(const struct obj *doc, struct obj_buf *out);

/* The document of @gv ("api/v1", "apis/apps/v1"), or NULL. */
const struct obj_openapi_doc *obj_openapi_find(const struct obj_openapi *o,
                                               const char *gv);

#endif /* C8S_API_OBJECT_OPENAPI_H */
