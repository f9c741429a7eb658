/* Label selector requirements: construction with Kubernetes' checks
 * (labels.NewRequirement), matching, introspection and printing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/selector_internal.h"
#include "lib/mem.h"

/* ---- values -------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort @v and drop repeats (freeing them): a Go sets.String's List(). */
static void sort_unique(char **v, size_t *n)
{
    size_t out = 0;

    if (*n == 0)
        return;
    qsort(v, *n, sizeof *v, cmp_str);
    for (size_t i = 1; i < *n; i++) {
        if (strcmp(v[i], v[out]) == 0)
            mem_free(v[i]);
        else
            v[++out] = v[i];
    }
    *n = out + 1;
}

static void free_values(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mem_free(v[i]);
    mem_free(v);
}

/* Private copies of @n strings, or NULL (also for n == 0: no array). */
static int copy_values(const char *const *values, size_t n, char ***ret)
{
    char **v = NULL;

    if (n > 0 && (v = mem_calloc(n, sizeof *v)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if ((v[i] = mem_strdup(values[i])) == NULL) {
            free_values(v, i);
            return -ENOMEM;
        }
    }
    *ret = v;
    return 0;
}

/* ---- NewRequirement's checks -------------------------------------------- */

/* Go's %#v of a []string, used when a whole value list is rejected. */
static void quote_list(struct obj__sel_msg *m, char *const *v, size_t n)
{
    if (n == 0) {
        /* Kubernetes copies the values with append([]string(nil), ...),
         * so an empty list prints as a nil slice. */
        obj__sel_msg_addf(m, "[]string(nil)");
        return;
    }
    obj__sel_msg_addf(m, "[]string{");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            obj__sel_msg_addf(m, ", ");
        obj__sel_msg_quote(m, v[i], strlen(v[i]));
    }
    obj__sel_msg_addf(m, "}");
}

/* Record "Invalid value: <quoted s>: reasons joined by '; '" at @field. */
static void add_invalid(struct obj__sel_errs *l, const char *field,
                        const char *s, const char *const *why, size_t nwhy)
{
    struct obj__sel_msg m;

    obj__sel_msg_init(&m);
    obj__sel_msg_addf(&m, "Invalid value: ");
    obj__sel_msg_quote(&m, s, strlen(s));
    obj__sel_msg_addf(&m, ": ");
    for (size_t i = 0; i < nwhy; i++)
        obj__sel_msg_addf(&m, "%s%s", i > 0 ? "; " : "", why[i]);
    obj__sel_errs_add(l, field, "FieldValueInvalid", m.buf);
}

/* Record a rejected value list ("values" as a whole). */
static void add_bad_list(struct obj__sel_errs *l, char *const *v, size_t n,
                         const char *why)
{
    struct obj__sel_msg m;

    obj__sel_msg_init(&m);
    obj__sel_msg_addf(&m, "Invalid value: ");
    quote_list(&m, v, n);
    obj__sel_msg_addf(&m, ": %s", why);
    obj__sel_errs_add(l, "values", "FieldValueInvalid", m.buf);
}

/* The number of values each operator takes, and Gt/Lt's integers. */
static void check_count(struct obj__sel_errs *l, enum obj_lsel_op op,
                        char *const *v, size_t n)
{
    switch (op) {
    case OBJ_LSEL_IN:
    case OBJ_LSEL_NOTIN:
        if (n == 0)
            add_bad_list(l, v, n,
                         "for 'in', 'notin' operators, values set can't be "
                         "empty");
        break;
    case OBJ_LSEL_EQ:
    case OBJ_LSEL_DEQ:
    case OBJ_LSEL_NE:
        if (n != 1)
            add_bad_list(l, v, n,
                         "exact-match compatibility requires one single value");
        break;
    case OBJ_LSEL_EXISTS:
    case OBJ_LSEL_NOT_EXISTS:
        if (n != 0)
            add_bad_list(l, v, n,
                         "values set must be empty for exists and does not "
                         "exist");
        break;
    case OBJ_LSEL_GT:
    case OBJ_LSEL_LT:
        if (n != 1)
            add_bad_list(l, v, n,
                         "for 'Gt', 'Lt' operators, exactly one value is "
                         "required");
        for (size_t i = 0; i < n; i++) {
            static const char *const why[] = {
                "for 'Gt', 'Lt' operators, the value must be an integer"};
            char field[32];
            int64_t num;

            if (obj__parse_int64(v[i], strlen(v[i]), &num))
                continue;
            (void)snprintf(field, sizeof field, "values[%zu]", i);
            add_invalid(l, field, v[i], why, 1);
        }
        break;
    }
}

/* Each value must be a valid label value: "values[i][key]". */
static void check_values(struct obj__sel_errs *l, const char *key,
                         char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *why[4];
        size_t nwhy = obj__label_value_errors(v[i], strlen(v[i]), why);
        struct obj__sel_msg field;

        if (nwhy == 0)
            continue;
        obj__sel_msg_init(&field);
        obj__sel_msg_addf(&field, "values[%zu][%s]", i, key);
        add_invalid(l, field.buf, v[i], why, nwhy);
    }
}

int obj__lsel_req_init(struct obj_lsel_req *r, const char *key,
                       enum obj_lsel_op op, const char *const *values,
                       size_t nvalues, bool as_set, const char *prefix,
                       struct err *e)
{
    struct obj__sel_errs l;
    const char *why[4];
    size_t nwhy = obj__label_key_errors(key, strlen(key), why);
    char **v = NULL;
    int rc;

    if ((rc = copy_values(values, nvalues, &v)) != 0)
        return err_setf(e, rc, "label selector: out of memory");
    if (as_set)
        sort_unique(v, &nvalues);
    obj__sel_errs_init(&l, NULL, NULL);
    if (nwhy > 0)
        add_invalid(&l, "key", key, why, nwhy);
    check_count(&l, op, v, nvalues);
    check_values(&l, key, v, nvalues);
    if ((rc = obj__sel_errs_finish(&l, prefix, e)) != 0)
        goto err_after_values;
    sort_unique(v, &nvalues);
    memset(r, 0, sizeof *r);
    if ((r->key = mem_strdup(key)) == NULL) {
        rc = err_setf(e, -ENOMEM, "label selector: out of memory");
        goto err_after_values;
    }
    r->op = op;
    r->values = v;
    r->nvalues = nvalues;
    if (op == OBJ_LSEL_GT || op == OBJ_LSEL_LT)
        (void)obj__parse_int64(v[0], strlen(v[0]), &r->num);
    return 0;

err_after_values:
    free_values(v, nvalues);
    return rc;
}

void obj__lsel_req_done(struct obj_lsel_req *r)
{
    mem_free(r->key);
    free_values(r->values, r->nvalues);
    memset(r, 0, sizeof *r);
}

/* ---- selectors ----------------------------------------------------------- */

int obj__lsel_add(struct obj_lsel *s, struct obj_lsel_req *r)
{
    /* Grown one at a time: selectors hold a handful of requirements. */
    struct obj_lsel_req *reqs =
        mem_realloc(s->reqs, (s->nreqs + 1) * sizeof *reqs);

    if (reqs == NULL)
        return -ENOMEM;
    reqs[s->nreqs++] = *r;
    s->reqs = reqs;
    memset(r, 0, sizeof *r);
    return 0;
}

/* By key, then by position: pointers into one array keep the written
 * order of equal keys, which makes qsort stable here. */
static int cmp_req(const void *a, const void *b)
{
    const struct obj_lsel_req *x = *(const struct obj_lsel_req *const *)a;
    const struct obj_lsel_req *y = *(const struct obj_lsel_req *const *)b;
    int c = strcmp(x->key, y->key);

    return c != 0 ? c : (x > y) - (x < y);
}

int obj__lsel_sort(struct obj_lsel *s)
{
    struct obj_lsel_req **order, *sorted;

    if (s->nreqs < 2)
        return 0;
    order = mem_calloc(s->nreqs, sizeof *order);
    sorted = mem_calloc(s->nreqs, sizeof *sorted);
    if (order == NULL || sorted == NULL) {
        mem_free(order);
        mem_free(sorted);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->nreqs; i++)
        order[i] = &s->reqs[i];
    qsort(order, s->nreqs, sizeof *order, cmp_req);
    for (size_t i = 0; i < s->nreqs; i++)
        sorted[i] = *order[i];
    mem_free(order);
    mem_free(s->reqs);
    s->reqs = sorted;
    return 0;
}

void obj_lsel_free(struct obj_lsel *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nreqs; i++)
        obj__lsel_req_done(&s->reqs[i]);
    mem_free(s->reqs);
    mem_free(s);
}

bool obj_lsel_is_everything(const struct obj_lsel *s)
{
    return !s->nothing && s->nreqs == 0;
}

/* ---- matching ------------------------------------------------------------ */

static bool has_value(const struct obj_lsel_req *r, const char *v, size_t n)
{
    for (size_t i = 0; i < r->nvalues; i++)
        if (strlen(r->values[i]) == n && memcmp(r->values[i], v, n) == 0)
            return true;
    return false;
}

/* labels.Requirement.Matches against one label (@v NULL: absent). */
static bool req_match(const struct obj_lsel_req *r, const struct obj *v)
{
    char tmp[24];
    size_t n = 0;
    const char *text = v != NULL ? obj__sel_value_text(v, tmp, &n) : NULL;
    int64_t num;

    if (v != NULL && text == NULL)
        text = ""; /* Present but not a scalar: compare as empty. */
    switch (r->op) {
    case OBJ_LSEL_EQ:
    case OBJ_LSEL_DEQ:
    case OBJ_LSEL_IN:
        return text != NULL && has_value(r, text, n);
    case OBJ_LSEL_NE:
    case OBJ_LSEL_NOTIN:
        return text == NULL || !has_value(r, text, n);
    case OBJ_LSEL_EXISTS:
        return text != NULL;
    case OBJ_LSEL_NOT_EXISTS:
        return text == NULL;
    case OBJ_LSEL_GT:
    case OBJ_LSEL_LT:
        if (text == NULL || !obj__parse_int64(text, n, &num))
            return false;
        return r->op == OBJ_LSEL_GT ? num > r->num : num < r->num;
    }
    return false;
}

bool obj_lsel_match(const struct obj_lsel *s, const struct obj *labels)
{
    if (s->nothing)
        return false;
    for (size_t i = 0; i < s->nreqs; i++)
        if (!req_match(&s->reqs[i], obj_map_get(labels, s->reqs[i].key)))
            return false;
    return true;
}

bool obj_lsel_match_obj(const struct obj_lsel *s, const struct obj *o)
{
    return obj_lsel_match(s, obj_get(o, "metadata", "labels", NULL));
}

bool obj_lsel_exact(const struct obj_lsel *s, const char *key,
                    const char **ret_value)
{
    for (size_t i = 0; i < s->nreqs; i++) {
        const struct obj_lsel_req *r = &s->reqs[i];

        if (strcmp(r->key, key) != 0)
            continue;
        if ((r->op == OBJ_LSEL_EQ || r->op == OBJ_LSEL_DEQ ||
             r->op == OBJ_LSEL_IN) &&
            r->nvalues == 1) {
            *ret_value = r->values[0];
            return true;
        }
        return false;
    }
    return false;
}

/* ---- printing ------------------------------------------------------------ */

/* Operator text between key and values (Requirement.String()). */
static const char *op_text(enum obj_lsel_op op)
{
    switch (op) {
    case OBJ_LSEL_EQ:
        return "=";
    case OBJ_LSEL_DEQ:
        return "==";
    case OBJ_LSEL_NE:
        return "!=";
    case OBJ_LSEL_IN:
        return " in (";
    case OBJ_LSEL_NOTIN:
        return " notin (";
    case OBJ_LSEL_GT:
        return ">";
    case OBJ_LSEL_LT:
        return "<";
    case OBJ_LSEL_EXISTS:
    case OBJ_LSEL_NOT_EXISTS:
        break;
    }
    return "";
}

/* Write requirement @r at @out (if not NULL); returns its length. */
static size_t req_print(const struct obj_lsel_req *r, char *out)
{
    size_t len = 0;

#define PUT(s, n)                                                              \
    do {                                                                       \
        if (out != NULL)                                                       \
            memcpy(out + len, (s), (n));                                       \
        len += (n);                                                            \
    } while (0)
    if (r->op == OBJ_LSEL_NOT_EXISTS)
        PUT("!", 1);
    PUT(r->key, strlen(r->key));
    PUT(op_text(r->op), strlen(op_text(r->op)));
    for (size_t i = 0; i < r->nvalues; i++) {
        if (i > 0)
            PUT(",", 1);
        PUT(r->values[i], strlen(r->values[i]));
    }
    if (r->op == OBJ_LSEL_IN || r->op == OBJ_LSEL_NOTIN)
        PUT(")", 1);
#undef PUT
    return len;
}

char *obj_lsel_string(const struct obj_lsel *s)
{
    size_t len = 0, at = 0;
    char *out;

    /* Two passes: measure, then write. */
    for (size_t i = 0; i < s->nreqs; i++)
        len += req_print(&s->reqs[i], NULL) + (i > 0);
    if ((out = mem_malloc(len + 1)) == NULL)
        return NULL;
    for (size_t i = 0; i < s->nreqs; i++) {
        if (i > 0)
            out[at++] = ',';
        at += req_print(&s->reqs[i], out + at);
    }
    out[at] = '\0';
    return out;
}
