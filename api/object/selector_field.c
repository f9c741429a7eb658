/* Field selectors, parsed as k8s.io/apimachinery's fields.ParseSelector
 * followed by a resource's field label conversion: terms split on
 * unescaped commas and sorted, each split at its first operator, values
 * unescaped, then every label checked against what the resource supports. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/selector_internal.h"
#include "lib/mem.h"

/* A slice of the input. */
struct span {
    const char *s; /* Start (not NUL-terminated). */
    size_t n;      /* Length. */
};

/* Terms split on commas not escaped by a backslash (splitTerms); the
 * backslashes stay for unescape() to read. */
static int split_terms(const char *text, size_t len, struct span **ret,
                       size_t *ret_n)
{
    struct span *t;
    size_t n = 0, start = 0;
    bool slash = false;

    if (len == 0) {
        *ret = NULL;
        *ret_n = 0;
        return 0;
    }
    /* At most one term per comma, plus one. */
    if ((t = mem_calloc(len + 1, sizeof *t)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        if (slash) {
            slash = false;
        } else if (text[i] == '\\') {
            slash = true;
        } else if (text[i] == ',') {
            t[n++] = (struct span){text + start, i - start};
            start = i + 1;
        }
    }
    t[n++] = (struct span){text + start, len - start};
    *ret = t;
    *ret_n = n;
    return 0;
}

/* Go's string order: bytewise, a prefix first. */
static int cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);

    if (c != 0)
        return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* Split @t at its first operator (!=, == or =, tried in that order at
 * each position): no escaping exists on the left side. */
static bool split_term(struct span t, struct span *lhs, struct span *rhs,
                       bool *negate)
{
    for (size_t i = 0; i < t.n; i++) {
        size_t oplen = 0;

        if (t.s[i] == '!' && i + 1 < t.n && t.s[i + 1] == '=')
            oplen = 2;
        else if (t.s[i] == '=' && i + 1 < t.n && t.s[i + 1] == '=')
            oplen = 2;
        else if (t.s[i] == '=')
            oplen = 1;
        if (oplen == 0)
            continue;
        *negate = t.s[i] == '!';
        *lhs = (struct span){t.s, i};
        *rhs = (struct span){t.s + i + oplen, t.n - i - oplen};
        return true;
    }
    return false;
}

/* Bytes in the UTF-8 character starting with @c (1 for a stray byte). */
static size_t char_len(unsigned char c)
{
    return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

static int escape_fail(struct err *e, const char *seq, size_t n)
{
    struct obj__sel_msg m;

    obj__sel_msg_init(&m);
    obj__sel_msg_addf(&m, "invalid field selector: invalid escape sequence: ");
    obj__sel_msg_raw(&m, seq, n);
    return obj__sel_fail(e, -C8S_EMALFORMED, m.buf);
}

/* UnescapeValue: \\ \, \= stand for themselves; any other escape, a bare
 * ',' or '=', or a trailing backslash is an error. @out has room for
 * @v.n bytes. */
static int unescape(struct span v, char *out, size_t *ret_n, struct err *e)
{
    size_t n = 0;

    for (size_t i = 0; i < v.n; i++) {
        char c = v.s[i];

        if (c == ',' || c == '=')
            /* Go prints the rune as a number (%v of an int32). */
            return err_setf(e, -C8S_EMALFORMED,
                            "invalid field selector: unescaped character in "
                            "value: %d",
                            c);
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        if (++i == v.n)
            return escape_fail(e, "\\", 1);
        c = v.s[i];
        if (c != '\\' && c != ',' && c != '=') {
            size_t cl = char_len((unsigned char)c);

            /* The backslash and the whole character after it. */
            return escape_fail(e, v.s + i - 1,
                               1 + (cl < v.n - i ? cl : v.n - i));
        }
        out[n++] = c;
    }
    *ret_n = n;
    return 0;
}

/* ---- terms --------------------------------------------------------------- */

static void term_done(struct obj_fsel_term *t)
{
    mem_free(t->label);
    mem_free(t->path);
    mem_free(t->missing);
    mem_free(t->value);
}

void obj_fsel_free(struct obj_fsel *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nterms; i++)
        term_done(&s->terms[i]);
    mem_free(s->terms);
    mem_free(s);
}

/* Parse term @t into *@ret (label and value only). */
static int parse_term(struct span all, struct span t,
                      struct obj_fsel_term *ret, struct err *e)
{
    struct span lhs, rhs;
    bool negate;
    int rc;

    if (!split_term(t, &lhs, &rhs, &negate)) {
        struct obj__sel_msg m;

        obj__sel_msg_init(&m);
        obj__sel_msg_addf(&m, "invalid selector: '");
        obj__sel_msg_raw(&m, all.s, all.n);
        obj__sel_msg_addf(&m, "'; can't understand '");
        obj__sel_msg_raw(&m, t.s, t.n);
        obj__sel_msg_addf(&m, "'");
        return obj__sel_fail(e, -C8S_EMALFORMED, m.buf);
    }
    memset(ret, 0, sizeof *ret);
    ret->negate = negate;
    ret->label = mem_strndup(lhs.s, lhs.n);
    ret->value = mem_malloc(rhs.n + 1);
    if (ret->label == NULL || ret->value == NULL) {
        term_done(ret);
        return err_setf(e, -ENOMEM, "field selector: out of memory");
    }
    if ((rc = unescape(rhs, ret->value, &ret->value_len, e)) != 0) {
        term_done(ret);
        return rc;
    }
    ret->value[ret->value_len] = '\0';
    return 0;
}

/* The supported field named by @t's label (compared with its length, so a
 * NUL byte in the text cannot pass for a shorter label), or NULL. */
static const struct obj_fsel_field *find_field(
    const struct obj_fsel_field *fields, size_t n, struct span label)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(fields[i].label) == label.n &&
            memcmp(fields[i].label, label.s, label.n) == 0)
            return &fields[i];
    return NULL;
}

/* The field label conversion: only supported labels pass; each term gets
 * its field's path and missing text. */
static int convert(struct obj_fsel *s, const struct span *labels,
                   const struct obj_fsel_field *fields, size_t n,
                   struct err *e)
{
    for (size_t i = 0; i < s->nterms; i++) {
        struct obj_fsel_term *t = &s->terms[i];
        const struct obj_fsel_field *f = find_field(fields, n, labels[i]);

        if (f == NULL) {
            struct obj__sel_msg m;

            obj__sel_msg_init(&m);
            obj__sel_msg_addf(&m, "field label not supported: ");
            obj__sel_msg_raw(&m, labels[i].s, labels[i].n);
            return obj__sel_fail(e, -C8S_EMALFORMED, m.buf);
        }
        t->path = mem_strdup(f->path != NULL ? f->path : f->label);
        t->missing = mem_strdup(f->missing != NULL ? f->missing : "");
        if (t->path == NULL || t->missing == NULL)
            return err_setf(e, -ENOMEM, "field selector: out of memory");
    }
    return 0;
}

/* Parse every non-empty term of @parts (sorted) into @s, remembering each
 * term's label span in @labels for convert(). */
static int parse_terms(struct obj_fsel *s, struct span all,
                       const struct span *parts, size_t nparts,
                       struct span *labels, struct err *e)
{
    for (size_t i = 0; i < nparts; i++) {
        struct span lhs, rhs;
        bool negate;
        int rc;

        if (parts[i].n == 0)
            continue;
        rc = parse_term(all, parts[i], &s->terms[s->nterms], e);
        if (rc != 0)
            return rc;
        (void)split_term(parts[i], &lhs, &rhs, &negate);
        labels[s->nterms++] = lhs;
    }
    return 0;
}

int obj_fsel_parse_fields(const char *text, size_t len,
                          const struct obj_fsel_field *fields, size_t n,
                          struct obj_fsel **ret, struct err *e)
{
    struct span all = {text, len}, *parts = NULL, *labels = NULL;
    struct obj_fsel *s = mem_calloc(1, sizeof *s);
    size_t nparts = 0;
    int rc = -ENOMEM;

    if (s == NULL || split_terms(text, len, &parts, &nparts) != 0)
        goto err_nomem;
    if (nparts > 0) {
        s->terms = mem_calloc(nparts, sizeof *s->terms);
        labels = mem_calloc(nparts, sizeof *labels);
        if (s->terms == NULL || labels == NULL)
            goto err_nomem;
    }
    if (nparts > 1)
        qsort(parts, nparts, sizeof *parts, cmp_span);
    rc = parse_terms(s, all, parts, nparts, labels, e);
    if (rc == 0)
        rc = convert(s, labels, fields, n, e);
    if (rc != 0)
        goto err_after_sel;
    mem_free(parts);
    mem_free(labels);
    *ret = s;
    return 0;

err_nomem:
    rc = err_setf(e, -ENOMEM, "field selector: out of memory");
err_after_sel:
    mem_free(parts);
    mem_free(labels);
    obj_fsel_free(s);
    return rc;
}

int obj_fsel_parse(const char *text, size_t len, const char *const *labels,
                   struct obj_fsel **ret, struct err *e)
{
    struct obj_fsel_field *fields;
    size_t n = 0;
    int rc;

    while (labels != NULL && labels[n] != NULL)
        n++;
    if ((fields = mem_calloc(n + 1, sizeof *fields)) == NULL)
        return err_setf(e, -ENOMEM, "field selector: out of memory");
    for (size_t i = 0; i < n; i++)
        fields[i].label = labels[i];
    rc = obj_fsel_parse_fields(text, len, fields, n, ret, e);
    mem_free(fields);
    return rc;
}

/* ---- matching ------------------------------------------------------------ */

static bool term_match(const struct obj_fsel_term *t, const struct obj *o)
{
    char tmp[24];
    size_t n = 0;
    const char *text = obj__sel_value_text(obj_get_path(o, t->path), tmp, &n);
    bool eq;

    if (text == NULL) {
        text = t->missing;
        n = strlen(text);
    }
    eq = n == t->value_len && memcmp(text, t->value, n) == 0;
    return t->negate ? !eq : eq;
}

bool obj_fsel_match(const struct obj_fsel *s, const struct obj *o)
{
    for (size_t i = 0; i < s->nterms; i++)
        if (!term_match(&s->terms[i], o))
            return false;
    return true;
}

bool obj_fsel_exact(const struct obj_fsel *s, const char *label,
                    const char **ret_value, size_t *ret_len)
{
    for (size_t i = 0; i < s->nterms; i++) {
        const struct obj_fsel_term *t = &s->terms[i];

        if (t->negate || strcmp(t->label, label) != 0)
            continue;
        *ret_value = t->value;
        if (ret_len != NULL)
            *ret_len = t->value_len;
        return true;
    }
    return false;
}
