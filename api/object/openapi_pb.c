/* A Swagger 2.0 document tree as gnostic's openapi_v2.Document protobuf
 * (obj_openapi_v2_encode_proto in openapi.h): the form kubectl 1.27 and
 * 1.28 download from /openapi/v2 (Accept:
 * application/com.github.proto-openapi.spec.v2@v1.0+protobuf).
 *
 * Each message is written into its own buffer and then appended to its
 * parent's as a length-delimited field, so a message of depth d is copied
 * d times: the document is built once per process, and this keeps the
 * writer a handful of small functions. Field numbers are those of gnostic's
 * OpenAPIv2.proto. Extensions (x-...) become NamedAny whose Any.yaml holds
 * the value's JSON text, which is also YAML. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/openapi.h"

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2 };

/* ---- wire -------------------------------------------------------------*/

/* The type of @o, which may be absent (NULL: a field the tree lacks). */
static enum obj_type type_of(const struct obj *o)
{
    return o != NULL ? obj_type(o) : OBJ_NULL;
}

static int put_varint(struct obj_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;

    do {
        tmp[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v != 0)
            tmp[n] |= 0x80;
        n++;
    } while (v != 0);
    return obj_buf_append(b, tmp, n);
}

static int put_tag(struct obj_buf *b, unsigned field, unsigned wt)
{
    return put_varint(b, ((uint64_t)field << 3) | wt);
}

static int put_bytes(struct obj_buf *b, unsigned field, const void *p,
                     size_t len)
{
    int rv = put_tag(b, field, WT_LEN);

    if (rv == 0)
        rv = put_varint(b, len);
    return rv != 0 ? rv : obj_buf_append(b, p, len);
}

/* A submessage already encoded in @sub, which is released. */
static int put_msg(struct obj_buf *b, unsigned field, struct obj_buf *sub,
                   int rv)
{
    if (rv == 0)
        rv = put_bytes(b, field, sub->data != NULL ? sub->data : "",
                       sub->len);
    obj_buf_done(sub);
    return rv;
}

/* A string field, when @o is a non-empty string (proto3 leaves defaults
 * out). */
static int put_str(struct obj_buf *b, unsigned field, const struct obj *o)
{
    size_t len = 0;
    const char *s = type_of(o) == OBJ_STRING ? obj_str(o, &len) : NULL;

    return s == NULL || len == 0 ? 0 : put_bytes(b, field, s, len);
}

static int put_bool(struct obj_buf *b, unsigned field, const struct obj *o)
{
    int rv;

    if (!obj_bool_or(o, false))
        return 0;
    rv = put_tag(b, field, WT_VARINT);
    return rv != 0 ? rv : put_varint(b, 1);
}

static int put_int(struct obj_buf *b, unsigned field, const struct obj *o)
{
    int rv;

    if (type_of(o) != OBJ_INT || obj_int_or(o, 0) == 0)
        return 0;
    rv = put_tag(b, field, WT_VARINT);
    return rv != 0 ? rv : put_varint(b, (uint64_t)obj_int_or(o, 0));
}

static int put_double(struct obj_buf *b, unsigned field, const struct obj *o)
{
    double d;
    uint64_t bits;
    unsigned char le[8];
    int rv;

    if (type_of(o) != OBJ_INT && type_of(o) != OBJ_FLOAT)
        return 0;
    d = type_of(o) == OBJ_INT ? (double)obj_int_or(o, 0)
                               : obj_float_or(o, 0);
    memcpy(&bits, &d, sizeof bits);
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(bits >> (8 * i));
    rv = put_tag(b, field, WT_FIXED64);
    return rv != 0 ? rv : obj_buf_append(b, le, sizeof le);
}

/* Each string of an array (or a lone string) as a repeated string field. */
static int put_strs(struct obj_buf *b, unsigned field, const struct obj *o)
{
    int rv = 0;

    if (type_of(o) == OBJ_STRING)
        return put_str(b, field, o);
    for (size_t i = 0; rv == 0 && i < obj_array_len(o); i++)
        rv = put_str(b, field, obj_array_get(o, i));
    return rv;
}

/* ---- shared messages ---------------------------------------------------*/

/* Any{yaml = 2}: the value as JSON text. */
static int put_any(struct obj_buf *b, unsigned field, const struct obj *v)
{
    struct obj_buf json, any;
    int rv;

    obj_buf_init(&json);
    obj_buf_init(&any);
    rv = obj_json_encode(v, 0, &json, NULL);
    if (rv == 0)
        rv = put_bytes(&any, 2, json.data, json.len);
    obj_buf_done(&json);
    return put_msg(b, field, &any, rv);
}

/* NamedAny{name = 1, value = 2} for each x- key of map @m. */
static int put_extensions(struct obj_buf *b, unsigned field,
                          const struct obj *m)
{
    int rv = 0;

    for (size_t i = 0; rv == 0 && i < obj_map_len(m); i++) {
        size_t klen;
        const char *k = obj_map_key(m, i, &klen);
        struct obj_buf named;

        if (klen < 2 || strncmp(k, "x-", 2) != 0)
            continue;
        obj_buf_init(&named);
        rv = put_bytes(&named, 1, k, klen);
        if (rv == 0)
            rv = put_any(&named, 2, obj_map_value(m, i));
        rv = put_msg(b, field, &named, rv);
    }
    return rv;
}

/* A map of name -> message as repeated Named*{name = 1, value = 2}; @enc
 * encodes one value. Extension keys are skipped. */
typedef int (*enc_fn)(struct obj_buf *b, const struct obj *o);

static int put_named(struct obj_buf *b, unsigned field, const struct obj *m,
                     enc_fn enc)
{
    int rv = 0;

    for (size_t i = 0; rv == 0 && i < obj_map_len(m); i++) {
        size_t klen;
        const char *k = obj_map_key(m, i, &klen);
        struct obj_buf named, value;

        if (klen >= 2 && strncmp(k, "x-", 2) == 0)
            continue;
        obj_buf_init(&named);
        obj_buf_init(&value);
        rv = put_bytes(&named, 1, k, klen);
        rv = put_msg(&named, 2, &value,
                     rv != 0 ? rv : enc(&value, obj_map_value(m, i)));
        rv = put_msg(b, field, &named, rv);
    }
    return rv;
}

/* A message field whose body @enc writes from @o, when @o is present. */
static int put_sub(struct obj_buf *b, unsigned field, const struct obj *o,
                   enc_fn enc)
{
    struct obj_buf sub;

    if (o == NULL)
        return 0;
    obj_buf_init(&sub);
    return put_msg(b, field, &sub, enc(&sub, o));
}

/* ---- Schema --------------------------------------------------------------*/

static int enc_schema(struct obj_buf *b, const struct obj *s);

static int enc_type_item(struct obj_buf *b, const struct obj *t)
{
    return put_strs(b, 1, t);
}

static int enc_items_item(struct obj_buf *b, const struct obj *items)
{
    int rv = 0;

    if (type_of(items) == OBJ_MAP)
        return put_sub(b, 1, items, enc_schema);
    for (size_t i = 0; rv == 0 && i < obj_array_len(items); i++)
        rv = put_sub(b, 1, obj_array_get(items, i), enc_schema);
    return rv;
}

static int enc_additional(struct obj_buf *b, const struct obj *a)
{
    if (type_of(a) == OBJ_BOOL) {
        int rv = put_tag(b, 2, WT_VARINT);

        return rv != 0 ? rv : put_varint(b, obj_bool_or(a, false));
    }
    return put_sub(b, 1, a, enc_schema);
}

static int enc_properties(struct obj_buf *b, const struct obj *props)
{
    return put_named(b, 1, props, enc_schema);
}

static int enc_schema(struct obj_buf *b, const struct obj *s)
{
    const struct obj *v;
    int rv;

    if (type_of(s) != OBJ_MAP)
        return 0;
    rv = put_str(b, 1, obj_map_get(s, "$ref"));
    rv = rv ? rv : put_str(b, 2, obj_map_get(s, "format"));
    rv = rv ? rv : put_str(b, 3, obj_map_get(s, "title"));
    rv = rv ? rv : put_str(b, 4, obj_map_get(s, "description"));
    if (rv == 0 && (v = obj_map_get(s, "default")) != NULL)
        rv = put_any(b, 5, v);
    rv = rv ? rv : put_double(b, 7, obj_map_get(s, "maximum"));
    rv = rv ? rv : put_double(b, 9, obj_map_get(s, "minimum"));
    rv = rv ? rv : put_int(b, 11, obj_map_get(s, "maxLength"));
    rv = rv ? rv : put_int(b, 12, obj_map_get(s, "minLength"));
    rv = rv ? rv : put_str(b, 13, obj_map_get(s, "pattern"));
    rv = rv ? rv : put_int(b, 14, obj_map_get(s, "maxItems"));
    rv = rv ? rv : put_int(b, 15, obj_map_get(s, "minItems"));
    rv = rv ? rv : put_bool(b, 16, obj_map_get(s, "uniqueItems"));
    rv = rv ? rv : put_strs(b, 19, obj_map_get(s, "required"));
    v = obj_map_get(s, "enum");
    for (size_t i = 0; rv == 0 && i < obj_array_len(v); i++)
        rv = put_any(b, 20, obj_array_get(v, i));
    rv = rv ? rv : put_sub(b, 21, obj_map_get(s, "additionalProperties"),
                           enc_additional);
    rv = rv ? rv : put_sub(b, 22, obj_map_get(s, "type"), enc_type_item);
    rv = rv ? rv : put_sub(b, 23, obj_map_get(s, "items"), enc_items_item);
    v = obj_map_get(s, "allOf");
    for (size_t i = 0; rv == 0 && i < obj_array_len(v); i++)
        rv = put_sub(b, 24, obj_array_get(v, i), enc_schema);
    rv = rv ? rv : put_sub(b, 25, obj_map_get(s, "properties"),
                           enc_properties);
    rv = rv ? rv : put_bool(b, 27, obj_map_get(s, "readOnly"));
    return rv ? rv : put_extensions(b, 31, s);
}

/* ---- parameters and responses --------------------------------------------*/

/* The fields QueryParameterSubSchema, PathParameterSubSchema and
 * HeaderParameterSubSchema share, numbered from @type_field on: a query
 * parameter has allow_empty_value (5) before type, the others do not. */
static int enc_non_body_fields(struct obj_buf *b, const struct obj *p,
                               unsigned type_field, unsigned ext_field)
{
    int rv = put_bool(b, 1, obj_map_get(p, "required"));

    rv = rv ? rv : put_str(b, 2, obj_map_get(p, "in"));
    rv = rv ? rv : put_str(b, 3, obj_map_get(p, "description"));
    rv = rv ? rv : put_str(b, 4, obj_map_get(p, "name"));
    rv = rv ? rv : put_str(b, type_field, obj_map_get(p, "type"));
    rv = rv ? rv : put_str(b, type_field + 1, obj_map_get(p, "format"));
    rv = rv ? rv : put_bool(b, type_field + 14, obj_map_get(p, "uniqueItems"));
    return rv ? rv : put_extensions(b, ext_field, p);
}

static int enc_query_param(struct obj_buf *b, const struct obj *p)
{
    return enc_non_body_fields(b, p, 6, 23);
}

static int enc_path_param(struct obj_buf *b, const struct obj *p)
{
    return enc_non_body_fields(b, p, 5, 22);
}

static int enc_body_param(struct obj_buf *b, const struct obj *p)
{
    int rv = put_str(b, 1, obj_map_get(p, "description"));

    rv = rv ? rv : put_str(b, 2, obj_map_get(p, "name"));
    rv = rv ? rv : put_str(b, 3, obj_map_get(p, "in"));
    rv = rv ? rv : put_bool(b, 4, obj_map_get(p, "required"));
    rv = rv ? rv : put_sub(b, 5, obj_map_get(p, "schema"), enc_schema);
    return rv ? rv : put_extensions(b, 6, p);
}

/* NonBodyParameter: header 1, formData 2, query 3, path 4. */
static int enc_non_body(struct obj_buf *b, const struct obj *p)
{
    const char *in = obj_str_or(obj_map_get(p, "in"), "");

    if (strcmp(in, "query") == 0)
        return put_sub(b, 3, p, enc_query_param);
    if (strcmp(in, "path") == 0)
        return put_sub(b, 4, p, enc_path_param);
    if (strcmp(in, "header") == 0)
        return put_sub(b, 1, p, enc_path_param); /* same numbering */
    return 0; /* formData and the like: not written (none are made) */
}

/* Parameter: body 1, non-body 2. */
static int enc_parameter(struct obj_buf *b, const struct obj *p)
{
    if (strcmp(obj_str_or(obj_map_get(p, "in"), ""), "body") == 0)
        return put_sub(b, 1, p, enc_body_param);
    return put_sub(b, 2, p, enc_non_body);
}

/* ParametersItem: parameter 1 (json_reference 2 is not written). */
static int enc_parameters_item(struct obj_buf *b, const struct obj *p)
{
    return put_sub(b, 1, p, enc_parameter);
}

static int enc_schema_item(struct obj_buf *b, const struct obj *s)
{
    return put_sub(b, 1, s, enc_schema);
}

static int enc_response(struct obj_buf *b, const struct obj *r)
{
    int rv = put_str(b, 1, obj_map_get(r, "description"));

    rv = rv ? rv : put_sub(b, 2, obj_map_get(r, "schema"), enc_schema_item);
    return rv ? rv : put_extensions(b, 5, r);
}

/* ResponseValue: response 1. */
static int enc_response_value(struct obj_buf *b, const struct obj *r)
{
    return put_sub(b, 1, r, enc_response);
}

static int enc_responses(struct obj_buf *b, const struct obj *r)
{
    int rv = put_named(b, 1, r, enc_response_value);

    return rv ? rv : put_extensions(b, 2, r);
}

/* ---- paths -----------------------------------------------------------------*/

static int enc_operation(struct obj_buf *b, const struct obj *op)
{
    const struct obj *params = obj_map_get(op, "parameters");
    int rv = put_strs(b, 1, obj_map_get(op, "tags"));

    rv = rv ? rv : put_str(b, 2, obj_map_get(op, "summary"));
    rv = rv ? rv : put_str(b, 3, obj_map_get(op, "description"));
    rv = rv ? rv : put_str(b, 5, obj_map_get(op, "operationId"));
    rv = rv ? rv : put_strs(b, 6, obj_map_get(op, "produces"));
    rv = rv ? rv : put_strs(b, 7, obj_map_get(op, "consumes"));
    for (size_t i = 0; rv == 0 && i < obj_array_len(params); i++)
        rv = put_sub(b, 8, obj_array_get(params, i), enc_parameters_item);
    rv = rv ? rv : put_sub(b, 9, obj_map_get(op, "responses"),
                           enc_responses);
    rv = rv ? rv : put_strs(b, 10, obj_map_get(op, "schemes"));
    rv = rv ? rv : put_bool(b, 11, obj_map_get(op, "deprecated"));
    return rv ? rv : put_extensions(b, 13, op);
}

static int enc_path_item(struct obj_buf *b, const struct obj *item)
{
    static const char *const methods[] = {"get",     "put",  "post", "delete",
                                          "options", "head", "patch"};
    const struct obj *params = obj_map_get(item, "parameters");
    int rv = put_str(b, 1, obj_map_get(item, "$ref"));

    for (unsigned i = 0; rv == 0 && i < 7; i++)
        rv = put_sub(b, 2 + i, obj_map_get(item, methods[i]), enc_operation);
    for (size_t i = 0; rv == 0 && i < obj_array_len(params); i++)
        rv = put_sub(b, 9, obj_array_get(params, i), enc_parameters_item);
    return rv ? rv : put_extensions(b, 10, item);
}

/* Paths{vendor_extension = 1, path = 2}. */
static int enc_paths(struct obj_buf *b, const struct obj *paths)
{
    int rv = put_extensions(b, 1, paths);

    return rv ? rv : put_named(b, 2, paths, enc_path_item);
}

static int enc_definitions(struct obj_buf *b, const struct obj *defs)
{
    return put_named(b, 1, defs, enc_schema);
}

static int enc_info(struct obj_buf *b, const struct obj *info)
{
    int rv = put_str(b, 1, obj_map_get(info, "title"));

    rv = rv ? rv : put_str(b, 2, obj_map_get(info, "version"));
    rv = rv ? rv : put_str(b, 3, obj_map_get(info, "description"));
    return rv ? rv : put_extensions(b, 7, info);
}

int obj_openapi_v2_encode_proto(const struct obj *doc, struct obj_buf *out)
{
    int rv;

    if (type_of(doc) != OBJ_MAP ||
        type_of(obj_map_get(doc, "swagger")) != OBJ_STRING)
        return -EINVAL;
    rv = put_str(out, 1, obj_map_get(doc, "swagger"));
    rv = rv ? rv : put_sub(out, 2, obj_map_get(doc, "info"), enc_info);
    rv = rv ? rv : put_str(out, 3, obj_map_get(doc, "host"));
    rv = rv ? rv : put_str(out, 4, obj_map_get(doc, "basePath"));
    rv = rv ? rv : put_strs(out, 5, obj_map_get(doc, "schemes"));
    rv = rv ? rv : put_strs(out, 6, obj_map_get(doc, "consumes"));
    rv = rv ? rv : put_strs(out, 7, obj_map_get(doc, "produces"));
    rv = rv ? rv : put_sub(out, 8, obj_map_get(doc, "paths"), enc_paths);
    rv = rv ? rv : put_sub(out, 9, obj_map_get(doc, "definitions"),
                           enc_definitions);
    return rv ? rv : put_extensions(out, 16, doc);
}
