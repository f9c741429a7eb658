/* The validate pass: the rules written in the schema text (required,
 * enum, min/max, fmt), with Kubernetes' messages. Rules that need code
 * (cross-field checks) belong next to the server's kind-specific logic. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/object/schema.h"

static int check_struct(const struct obj_sstruct *st,
                        const struct obj *m,
                        const struct obj_fpath *at,
                        bool top,
                        struct obj_ferrs *errs);

static bool is_empty(const struct obj *v)
{
    switch (obj_type(v)) {
    case OBJ_STRING:
        return obj_str_or(v, "")[0] == '\0';
    case OBJ_ARRAY:
        return obj_array_len(v) == 0;
    default:
        return false;
    }
}

/* IANA service names as Kubernetes checks port names: 1-15 of [-a-z0-9],
 * at least one letter, no hyphen at either end or twice in a row. */
static const char *iana_svc_name_problem(const char *s, size_t len)
{
    bool letter = false;

    if (len > 15)
        return "must be no more than 15 characters";
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return "must contain only alpha-numeric characters (a-z, 0-9), "
                   "and hyphens (-)";
        letter |= c >= 'a' && c <= 'z';
        if (c == '-' && i > 0 && s[i - 1] == '-')
            return "must not contain consecutive hyphens";
    }
    if (len > 0 && (s[0] == '-' || s[len - 1] == '-'))
        return "must not begin or end with a hyphen";
    if (!letter)
        return "must contain at least one letter (a-z)";
    return NULL;
}

static int check_fmt(enum obj_sfmt fmt,
                     const struct obj *v,
                     const struct obj_fpath *at,
                     struct obj_ferrs *errs)
{
    struct obj_msgs m = {0};
    size_t len;
    const char *s = obj_str(v, &len);

    switch (fmt) {
    case OBJ_SFMT_DNS1123_LABEL:
        obj_check_dns1123_label(s, len, &m);
        break;
    case OBJ_SFMT_DNS1123_SUBDOMAIN:
        obj_check_dns1123_subdomain(s, len, &m);
        break;
    case OBJ_SFMT_DNS1035_LABEL:
        obj_check_dns1035_label(s, len, &m);
        break;
    case OBJ_SFMT_QUALIFIED_NAME:
        obj_check_qualified_name(s, len, &m);
        break;
    case OBJ_SFMT_LABEL_VALUE:
        obj_check_label_value(s, len, &m);
        break;
    case OBJ_SFMT_IANA_SVC_NAME:
        if ((m.v[0] = iana_svc_name_problem(s, len)) != NULL)
            m.n = 1;
        break;
    default:
        break;
    }
    for (size_t i = 0; i < m.n; i++)
        obj_ferrs_invalid(errs, at, v, m.v[i]);
    return errs->err;
}

static int check_enum(const struct obj_sfield *f,
                      const struct obj *v,
                      const struct obj_fpath *at,
                      struct obj_ferrs *errs)
{
    const char *s = obj_str_or(v, "");

    for (size_t i = 0; f->enums[i] != NULL; i++)
        if (strcmp(f->enums[i], s) == 0)
            return 0;
    return obj_ferrs_not_supported(errs, at, v, f->enums);
}

/* Go cannot tell an optional string left out from one set to "": both
 * are the zero value, so an empty optional field passes every rule. */
static int check_field(const struct obj_sfield *f,
                       const struct obj *v,
                       const struct obj_fpath *at,
                       struct obj_ferrs *errs)
{
    if (v == NULL || (is_empty(v) && !f->present_only))
        return f->required ? obj_ferrs_required(errs, at, NULL) : 0;
    if (f->enums != NULL && obj_type(v) == OBJ_STRING &&
        check_enum(f, v, at, errs) != 0)
        return errs->err;
    for (size_t i = 0;
         f->enums != NULL && obj_type(v) == OBJ_ARRAY && i < obj_array_len(v);
         i++) {
        struct obj_fpath here = obj_fpath_index(at, i);
        const struct obj *e = obj_array_get(v, i);
        if (obj_type(e) == OBJ_STRING && check_enum(f, e, &here, errs) != 0)
            return errs->err;
    }
    if ((f->has_min || f->has_max) && obj_type(v) == OBJ_INT) {
        int64_t x = obj_int_or(v, 0);
        if (f->has_min && f->has_max && (x < f->min || x > f->max))
            return obj_ferrs_addf(errs, OBJ_FERR_INVALID, at, v,
                                  "must be between %" PRId64 " and %" PRId64
                                  ", inclusive",
                                  f->min, f->max);
        if (f->has_min && !f->has_max && x < f->min)
            return obj_ferrs_addf(errs, OBJ_FERR_INVALID, at, v,
                                  "must be greater than or equal to %" PRId64,
                                  f->min);
        if (f->has_max && !f->has_min && x > f->max)
            return obj_ferrs_addf(errs, OBJ_FERR_INVALID, at, v,
                                  "must be less than or equal to %" PRId64,
                                  f->max);
    }
    if (f->fmt != OBJ_SFMT_NONE && obj_type(v) == OBJ_STRING)
        return check_fmt(f->fmt, v, at, errs);
    return 0;
}

static int check_value(const struct obj_stype *t,
                       const struct obj *v,
                       const struct obj_fpath *at,
                       struct obj_ferrs *errs)
{
    int rv = 0;

    switch (t->kind) {
    case OBJ_ST_STRUCT:
        return obj_type(v) == OBJ_MAP ? check_struct(t->st, v, at, false, errs)
                                      : 0;
    case OBJ_ST_LIST:
        for (size_t i = 0; i < obj_array_len(v) && rv == 0; i++) {
            struct obj_fpath here = obj_fpath_index(at, i);
            rv = check_value(t->elem, obj_array_get(v, i), &here, errs);
        }
        return rv;
    case OBJ_ST_MAP:
        for (size_t i = 0; i < obj_map_len(v) && rv == 0; i++) {
            struct obj_fpath here = obj_fpath_key(at, obj_map_key(v, i, NULL));
            rv = check_value(t->elem, obj_map_value(v, i), &here, errs);
        }
        return rv;
    default:
        return 0;
    }
}

static int check_struct(const struct obj_sstruct *st,
                        const struct obj *m,
                        const struct obj_fpath *at,
                        bool top,
                        struct obj_ferrs *errs)
{
    int rv = 0;

    for (size_t i = 0; i < st->n_fields && rv == 0; i++) {
        const struct obj_sfield *f = &st->fields[i];
        const struct obj *v = obj_map_get(m, f->name);
        struct obj_fpath here = obj_fpath_child(at, f->name);

        if (top && strcmp(f->name, "metadata") == 0)
            continue; /* obj_validate_object_meta() has it */
        if ((rv = check_field(f, v, &here, errs)) == 0 && v != NULL)
            rv = check_value(f->type, v, &here, errs);
    }
    return rv != 0 ? rv : errs->err;
}

int obj_schema_validate(const struct obj_sstruct *root,
                        const struct obj *o,
                        struct obj_ferrs *errs)
{
    if (obj_type(o) != OBJ_MAP)
        return errs->err;
    return check_struct(root, o, NULL, true, errs);
}
