/* The structured LabelSelector ({matchLabels, matchExpressions}) found in
 * workload objects: validation with field paths (ValidateLabelSelector) and
 * conversion to a compiled selector (LabelSelectorAsSelector). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/object/selector_internal.h"
#include "lib/mem.h"

/* The four operators a LabelSelectorRequirement may use. */
static const struct {
    const char *name;    /* As written in the object. */
    enum obj_lsel_op op; /* Compiled operator. */
} ops[] = {{"In", OBJ_LSEL_IN},
           {"NotIn", OBJ_LSEL_NOTIN},
           {"Exists", OBJ_LSEL_EXISTS},
           {"DoesNotExist", OBJ_LSEL_NOT_EXISTS}};

static bool op_lookup(const char *name, enum obj_lsel_op *ret)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (name != NULL && strcmp(ops[i].name, name) == 0) {
            *ret = ops[i].op;
            return true;
        }
    }
    return false;
}

/* A member of map @m, with a null value read as absent (JSON null for an
 * optional field). */
static const struct obj *member(const struct obj *m, const char *key)
{
    const struct obj *v = obj_map_get(m, key);

    return v != NULL && obj_type(v) == OBJ_NULL ? NULL : v;
}

/* ---- validation ---------------------------------------------------------- */

/* Field paths are built in message buffers: a long one is cut, which only
 * shortens a message. */
typedef struct obj__sel_msg path_buf;

/* "@path.@name" (or @name alone at the root) into @out. */
static const char *child(path_buf *out, const char *path, const char *name)
{
    obj__sel_msg_init(out);
    obj__sel_msg_addf(out, "%s%s%s", path, *path ? "." : "", name);
    return out->buf;
}

/* "@path[@i]" into @out. */
static const char *index_of(path_buf *out, const char *path, size_t i)
{
    obj__sel_msg_init(out);
    obj__sel_msg_addf(out, "%s[%zu]", path, i);
    return out->buf;
}

static void add_type_error(struct obj__sel_errs *l, const char *field,
                           const struct obj *v, const char *want)
{
    char body[128];

    (void)snprintf(body, sizeof body, "Invalid value: \"%s\": expected %s",
                   obj_type_name(obj_type(v)), want);
    obj__sel_errs_add(l, field, "FieldValueTypeInvalid", body);
}

/* One "Invalid value" error per reason, as the validators list them. */
static void add_each(struct obj__sel_errs *l, const char *field,
                     const char *s, const char *const *why, size_t nwhy)
{
    for (size_t i = 0; i < nwhy; i++) {
        struct obj__sel_msg m;

        obj__sel_msg_init(&m);
        obj__sel_msg_addf(&m, "Invalid value: ");
        obj__sel_msg_quote(&m, s, strlen(s));
        obj__sel_msg_addf(&m, ": %s", why[i]);
        obj__sel_errs_add(l, field, "FieldValueInvalid", m.buf);
    }
}

static void check_key(struct obj__sel_errs *l, const char *field,
                      const char *k)
{
    const char *why[4];

    add_each(l, field, k, why, obj__label_key_errors(k, strlen(k), why));
}

static void check_value(struct obj__sel_errs *l, const char *field,
                        const char *v)
{
    const char *why[4];

    add_each(l, field, v, why, obj__label_value_errors(v, strlen(v), why));
}

/* ValidateLabels: every error is reported at the map's own path. */
static void validate_labels(struct obj__sel_errs *l, const struct obj *m,
                            const char *field)
{
    if (m == NULL)
        return;
    if (obj_type(m) != OBJ_MAP) {
        add_type_error(l, field, m, "map");
        return;
    }
    for (size_t i = 0; i < obj_map_len(m); i++) {
        const struct obj *v = obj_map_value(m, i);

        check_key(l, field, obj_map_key(m, i, NULL));
        if (obj_type(v) != OBJ_STRING)
            add_type_error(l, field, v, "string");
        else
            check_value(l, field, obj_str_or(v, ""));
    }
}

/* The operator and how many values it allows. */
static void validate_op(struct obj__sel_errs *l, const struct obj *op,
                        size_t nvalues, const char *field)
{
    path_buf f;
    enum obj_lsel_op o;
    struct obj__sel_msg m;

    if (op != NULL && obj_type(op) != OBJ_STRING) {
        add_type_error(l, child(&f, field, "operator"), op, "string");
        return;
    }
    if (op_lookup(obj_str_or(op, ""), &o)) {
        child(&f, field, "values");
        if ((o == OBJ_LSEL_IN || o == OBJ_LSEL_NOTIN) && nvalues == 0)
            obj__sel_errs_add(l, f.buf, "FieldValueRequired",
                              "Required value: must be specified when "
                              "`operator` is 'In' or 'NotIn'");
        if ((o == OBJ_LSEL_EXISTS || o == OBJ_LSEL_NOT_EXISTS) && nvalues > 0)
            obj__sel_errs_add(l, f.buf, "FieldValueForbidden",
                              "Forbidden: may not be specified when "
                              "`operator` is 'Exists' or 'DoesNotExist'");
        return;
    }
    child(&f, field, "operator");
    obj__sel_msg_init(&m);
    obj__sel_msg_addf(&m, "Invalid value: ");
    obj__sel_msg_quote(&m, obj_str_or(op, ""), strlen(obj_str_or(op, "")));
    obj__sel_msg_addf(&m, ": not a valid selector operator");
    obj__sel_errs_add(l, f.buf, "FieldValueInvalid", m.buf);
}

static void validate_values(struct obj__sel_errs *l, const struct obj *vals,
                            const char *field)
{
    path_buf f, fi;

    child(&f, field, "values");
    if (vals != NULL && obj_type(vals) != OBJ_ARRAY) {
        add_type_error(l, f.buf, vals, "array");
        return;
    }
    for (size_t i = 0; i < obj_array_len(vals); i++) {
        const struct obj *v = obj_array_get(vals, i);

        index_of(&fi, f.buf, i);
        if (obj_type(v) != OBJ_STRING)
            add_type_error(l, fi.buf, v, "string");
        else
            check_value(l, fi.buf, obj_str_or(v, ""));
    }
}

/* ValidateLabelSelectorRequirement at @field ("...matchExpressions[i]"). */
static void validate_expr(struct obj__sel_errs *l, const struct obj *x,
                          const char *field)
{
    const struct obj *key = member(x, "key");
    const struct obj *vals = member(x, "values");
    path_buf f;

    if (obj_type(x) != OBJ_MAP) {
        add_type_error(l, field, x, "map");
        return;
    }
    validate_op(l, member(x, "operator"), obj_array_len(vals), field);
    child(&f, field, "key");
    if (key != NULL && obj_type(key) != OBJ_STRING)
        add_type_error(l, f.buf, key, "string");
    else
        check_key(l, f.buf, obj_str_or(key, ""));
    validate_values(l, vals, field);
}

int obj_lsel_validate(const struct obj *ls, const char *path,
                      obj_field_error_cb cb, void *arg, struct err *e)
{
    const struct obj *exprs;
    struct obj__sel_errs l;
    path_buf f, fi;

    obj__sel_errs_init(&l, cb, arg);
    if (ls == NULL || obj_type(ls) == OBJ_NULL)
        return 0;
    if (obj_type(ls) != OBJ_MAP) {
        add_type_error(&l, *path ? path : "<nil>", ls, "map");
        return obj__sel_errs_finish(&l, "", e);
    }
    validate_labels(&l, member(ls, "matchLabels"),
                    child(&f, path, "matchLabels"));
    child(&f, path, "matchExpressions");
    exprs = member(ls, "matchExpressions");
    if (exprs != NULL && obj_type(exprs) != OBJ_ARRAY)
        add_type_error(&l, f.buf, exprs, "array");
    for (size_t i = 0; i < obj_array_len(exprs); i++)
        validate_expr(&l, obj_array_get(exprs, i), index_of(&fi, f.buf, i));
    return obj__sel_errs_finish(&l, "", e);
}

/* ---- conversion ---------------------------------------------------------- */

static int type_fail(struct err *e, const char *what, const char *want)
{
    return err_setf(e, -C8S_EMALFORMED, "label selector: %s must be %s", what,
                    want);
}

/* matchLabels (or a Service's selector map): key=value requirements. */
static int add_map(struct obj_lsel *s, const struct obj *m, struct err *e)
{
    for (size_t i = 0; i < obj_map_len(m); i++) {
        const struct obj *v = obj_map_value(m, i);
        const char *value = obj_str_or(v, NULL);
        struct obj_lsel_req r;
        int rc;

        if (value == NULL)
            return type_fail(e, "a label value", "a string");
        rc = obj__lsel_req_init(&r, obj_map_key(m, i, NULL), OBJ_LSEL_EQ,
                                &value, 1, false, "", e);
        if (rc != 0)
            return rc;
        if (obj__lsel_add(s, &r) != 0) {
            obj__lsel_req_done(&r);
            return err_setf(e, -ENOMEM, "label selector: out of memory");
        }
    }
    return 0;
}

/* The strings of array @vals into @out (borrowed), or an error. */
static int expr_values(const struct obj *vals, const char **out, size_t n,
                       struct err *e)
{
    for (size_t i = 0; i < n; i++)
        if ((out[i] = obj_str_or(obj_array_get(vals, i), NULL)) == NULL)
            return type_fail(e, "each of values", "a string");
    return 0;
}

/* One matchExpressions entry. */
static int add_expr(struct obj_lsel *s, const struct obj *x, struct err *e)
{
    const struct obj *vals = member(x, "values");
    const char *opname = obj_str_or(member(x, "operator"), "");
    size_t n = obj_array_len(vals);
    const char **v = NULL;
    struct obj_lsel_req r;
    enum obj_lsel_op op;
    int rc;

    if (obj_type(x) != OBJ_MAP)
        return type_fail(e, "each of matchExpressions", "an object");
    if (vals != NULL && obj_type(vals) != OBJ_ARRAY)
        return type_fail(e, "values", "an array");
    if (!op_lookup(opname, &op)) {
        struct obj__sel_msg m;

        obj__sel_msg_init(&m);
        obj__sel_msg_quote(&m, opname, strlen(opname));
        obj__sel_msg_addf(&m, " is not a valid label selector operator");
        return obj__sel_fail(e, -C8S_EMALFORMED, m.buf);
    }
    if (n > 0 && (v = mem_calloc(n, sizeof *v)) == NULL)
        return err_setf(e, -ENOMEM, "label selector: out of memory");
    rc = expr_values(vals, v, n, e);
    if (rc == 0)
        rc = obj__lsel_req_init(&r, obj_str_or(member(x, "key"), ""), op, v,
                                n, false, "", e);
    mem_free(v);
    if (rc == 0 && (rc = obj__lsel_add(s, &r)) != 0) {
        obj__lsel_req_done(&r);
        rc = err_setf(e, -ENOMEM, "label selector: out of memory");
    }
    return rc;
}

static int build(struct obj_lsel *s, const struct obj *ls, struct err *e)
{
    const struct obj *labels = member(ls, "matchLabels");
    const struct obj *exprs = member(ls, "matchExpressions");
    int rc;

    if (labels != NULL && obj_type(labels) != OBJ_MAP)
        return type_fail(e, "matchLabels", "an object");
    if (exprs != NULL && obj_type(exprs) != OBJ_ARRAY)
        return type_fail(e, "matchExpressions", "an array");
    if ((rc = add_map(s, labels, e)) != 0)
        return rc;
    for (size_t i = 0; i < obj_array_len(exprs); i++)
        if ((rc = add_expr(s, obj_array_get(exprs, i), e)) != 0)
            return rc;
    return 0;
}

int obj_lsel_from_obj(const struct obj *ls, struct obj_lsel **ret,
                      struct err *e)
{
    struct obj_lsel *s = mem_calloc(1, sizeof *s);
    int rc = 0;

    if (s == NULL)
        return err_setf(e, -ENOMEM, "label selector: out of memory");
    if (ls == NULL || obj_type(ls) == OBJ_NULL)
        s->nothing = true; /* No selector selects nothing. */
    else if (obj_type(ls) != OBJ_MAP)
        rc = type_fail(e, "a selector", "an object");
    else
        rc = build(s, ls, e);
    if (rc == 0 && obj__lsel_sort(s) != 0)
        rc = err_setf(e, -ENOMEM, "label selector: out of memory");
    if (rc != 0) {
        obj_lsel_free(s);
        return rc;
    }
    *ret = s;
    return 0;
}

int obj_lsel_from_map(const struct obj *set, struct obj_lsel **ret,
                      struct err *e)
{
    struct obj_lsel *s = mem_calloc(1, sizeof *s);
    int rc;

    if (s == NULL)
        return err_setf(e, -ENOMEM, "label selector: out of memory");
    rc = add_map(s, set, e);
    if (rc == 0 && obj__lsel_sort(s) != 0)
        rc = err_setf(e, -ENOMEM, "label selector: out of memory");
    if (rc != 0) {
        obj_lsel_free(s);
        return rc;
    }
    *ret = s;
    return 0;
}
