/* The prune pass: unknown fields out, types checked, quantities given as
 * numbers turned into strings.
 *
 * The walk is functional: each step returns NULL when its value stays as
 * it is, or a replacement node. A parent that gets a replacement makes a
 * shallow private copy of itself (children stay shared) and passes it up,
 * so only the paths that change are copied and a caller's other references
 * (the stored old object under a PATCH) are never touched. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/object/schema.h"
#include "api/object/schema_internal.h"

struct walk {
    struct obj_ferrs *unknown;
    struct obj_ferrs *bad;
};

static int prune_value(const struct obj_stype *t,
                       struct obj *v,
                       const struct obj_fpath *at,
                       struct walk *w,
                       struct obj **ret);

/* *@copy: a private shallow copy of @v, made on first need. */
static int make_private(struct obj *v, struct obj **copy)
{
    if (*copy != NULL)
        return 0;
    *copy = obj_ref(v);
    if (obj_unshare(copy) != 0) {
        *copy = obj_unref(*copy);
        return -ENOMEM;
    }
    return 0;
}

static int bad_type(struct walk *w,
                    const struct obj_fpath *at,
                    const struct obj_stype *t,
                    const struct obj *v)
{
    return obj_ferrs_addf(w->bad, OBJ_FERR_TYPE_INVALID, at, NULL,
                          "expected %s, got %s", obj__stype_describe(t),
                          obj_type_name(obj_type(v)));
}

/* The value Go would decode a null element to, or NULL when it has none
 * we want to invent. */
static struct obj *zero_value(const struct obj_stype *t)
{
    switch (t->kind) {
    case OBJ_ST_STRING:
        return obj_str_new_c("");
    case OBJ_ST_STRUCT:
        return obj_map_new();
    default:
        return NULL;
    }
}

static int prune_struct(const struct obj_sstruct *st,
                        struct obj *v,
                        const struct obj_fpath *at,
                        bool top,
                        struct walk *w,
                        struct obj **ret)
{
    struct obj *copy = NULL;
    int rv = 0;

    for (size_t i = 0; i < obj_map_len(v) && rv == 0; i++) {
        const char *key = obj_map_key(v, i, NULL);
        struct obj *val = obj_map_value(v, i);
        struct obj_fpath here = obj_fpath_child(at, key);
        const struct obj_sfield *f = obj_sstruct_field(st, key);
        struct obj *rep = NULL;

        if (top && (strcmp(key, "apiVersion") == 0 || strcmp(key, "kind") == 0))
            continue;
        if (f == NULL || obj_is_null(val)) {
            if (f == NULL)
                rv = obj_ferrs_addf(w->unknown, OBJ_FERR_NOT_FOUND, &here, NULL,
                                    NULL);
            if (rv == 0 && (rv = make_private(v, &copy)) == 0)
                rv = obj_map_del(copy, key);
            continue;
        }
        rv = prune_value(f->type, val, &here, w, &rep);
        if (rv == 0 && rep != NULL && (rv = make_private(v, &copy)) == 0 &&
            (rv = obj_map_set(copy, key, rep)) != 0)
            obj_unref(rep);
    }
    if (rv != 0) {
        obj_unref(copy);
        return rv;
    }
    *ret = copy;
    return 0;
}

/* Elements of a list, or values of a map. */
static int prune_items(const struct obj_stype *elem,
                       struct obj *v,
                       const struct obj_fpath *at,
                       bool is_map,
                       struct walk *w,
                       struct obj **ret)
{
    struct obj *copy = NULL;
    size_t n = is_map ? obj_map_len(v) : obj_array_len(v);
    int rv = 0;

    for (size_t i = 0; i < n && rv == 0; i++) {
        const char *key = is_map ? obj_map_key(v, i, NULL) : NULL;
        struct obj *val = is_map ? obj_map_value(v, i) : obj_array_get(v, i);
        struct obj_fpath here =
            is_map ? obj_fpath_key(at, key) : obj_fpath_index(at, i);
        struct obj *rep = NULL;

        if (obj_is_null(val) && elem->kind != OBJ_ST_ANY) {
            rep = zero_value(elem);
            if (rep == NULL && elem->kind != OBJ_ST_STRING &&
                elem->kind != OBJ_ST_STRUCT) {
                rv = bad_type(w, &here, elem, val);
                continue;
            }
            if (rep == NULL)
                rv = -ENOMEM;
        } else {
            rv = prune_value(elem, val, &here, w, &rep);
        }
        if (rv == 0 && rep != NULL && (rv = make_private(v, &copy)) == 0) {
            rv = is_map ? obj_map_set(copy, key, rep)
                        : obj_array_set(copy, i, rep);
            if (rv != 0)
                obj_unref(rep);
        }
    }
    if (rv != 0) {
        obj_unref(copy);
        return rv;
    }
    *ret = copy;
    return 0;
}

/* A number given for a quantity, as the string Kubernetes would keep. */
static struct obj *quantity_from_number(const struct obj *v)
{
    char buf[64];

    if (obj_type(v) == OBJ_INT)
        snprintf(buf, sizeof buf, "%" PRId64, obj_int_or(v, 0));
    else
        snprintf(buf, sizeof buf, "%.17g", obj_float_or(v, 0));
    return obj_str_new_c(buf);
}

static int prune_scalar(const struct obj_stype *t,
                        struct obj *v,
                        const struct obj_fpath *at,
                        struct walk *w,
                        struct obj **ret)
{
    enum obj_type ty = obj_type(v);
    size_t len;
    const char *s;

    switch (t->kind) {
    case OBJ_ST_INT32:
        if (ty == OBJ_INT && obj_int_or(v, 0) >= INT32_MIN &&
            obj_int_or(v, 0) <= INT32_MAX)
            return 0;
        break;
    case OBJ_ST_INT64:
        if (ty == OBJ_INT)
            return 0;
        break;
    case OBJ_ST_BOOL:
        if (ty == OBJ_BOOL)
            return 0;
        break;
    case OBJ_ST_DOUBLE:
        if (ty == OBJ_INT || ty == OBJ_FLOAT)
            return 0;
        break;
    case OBJ_ST_INTSTR:
        if (ty == OBJ_INT || ty == OBJ_STRING)
            return 0;
        break;
    case OBJ_ST_QUANTITY:
        if (ty == OBJ_INT || ty == OBJ_FLOAT) {
            *ret = quantity_from_number(v);
            return *ret == NULL ? -ENOMEM : 0;
        }
        if (ty != OBJ_STRING)
            break;
        s = obj_str(v, &len);
        if (obj__quantity_ok(s, len))
            return 0;
        return obj_ferrs_addf(w->bad, OBJ_FERR_TYPE_INVALID, at, v,
                              "quantities must match the regular expression "
                              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    case OBJ_ST_BYTES:
        if (ty != OBJ_STRING)
            break;
        s = obj_str(v, &len);
        if (obj__base64_ok(s, len))
            return 0;
        return obj_ferrs_addf(w->bad, OBJ_FERR_TYPE_INVALID, at, NULL,
                              "illegal base64 data");
    case OBJ_ST_TIME:
    case OBJ_ST_MICROTIME:
        if (ty != OBJ_STRING)
            break;
        s = obj_str(v, &len);
        if (obj__rfc3339_ok(s, len))
            return 0;
        return obj_ferrs_addf(w->bad, OBJ_FERR_TYPE_INVALID, at, v,
                              "expected an RFC 3339 time");
    default: /* string, duration */
        if (ty == OBJ_STRING)
            return 0;
        break;
    }
    return bad_type(w, at, t, v);
}

static int prune_value(const struct obj_stype *t,
                       struct obj *v,
                       const struct obj_fpath *at,
                       struct walk *w,
                       struct obj **ret)
{
    *ret = NULL;
    switch (t->kind) {
    case OBJ_ST_ANY:
        return 0;
    case OBJ_ST_STRUCT:
        if (obj_type(v) != OBJ_MAP)
            return bad_type(w, at, t, v);
        return prune_struct(t->st, v, at, false, w, ret);
    case OBJ_ST_LIST:
        if (obj_type(v) != OBJ_ARRAY)
            return bad_type(w, at, t, v);
        return prune_items(t->elem, v, at, false, w, ret);
    case OBJ_ST_MAP:
        if (obj_type(v) != OBJ_MAP)
            return bad_type(w, at, t, v);
        return prune_items(t->elem, v, at, true, w, ret);
    default:
        return prune_scalar(t, v, at, w, ret);
    }
}

int obj_schema_prune(const struct obj_sstruct *root,
                     struct obj **o,
                     struct obj_ferrs *unknown,
                     struct obj_ferrs *bad)
{
    struct walk w = {unknown, bad};
    struct obj *rep = NULL;
    int rv;

    if (obj_type(*o) != OBJ_MAP)
        return obj_ferrs_addf(bad, OBJ_FERR_TYPE_INVALID, NULL, NULL,
                              "expected an object, got %s",
                              obj_type_name(obj_type(*o)));
    rv = prune_struct(root, *o, NULL, true, &w, &rep);
    if (rv == 0 && rep != NULL) {
        obj_unref(*o);
        *o = rep;
    }
    if (rv == 0)
        rv = unknown->err != 0 ? unknown->err : bad->err;
    return rv;
}
