/* Field error lists and their rendering as Kubernetes prints them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/object/validate.h"
#include "lib/mem.h"

/* ---- paths ----------------------------------------------------------------*/

static int fpath_step(const struct obj_fpath *p, struct obj_buf *b)
{
    char num[32];
    int r;

    switch (p->kind) {
    case OBJ_FPATH_CHILD:
        if (b->len > 0 && (r = obj_buf_append(b, ".", 1)) != 0)
            return r;
        return obj_buf_append(b, p->name, strlen(p->name));
    case OBJ_FPATH_INDEX:
        (void)snprintf(num, sizeof num, "[%zu]", p->index);
        return obj_buf_append(b, num, strlen(num));
    case OBJ_FPATH_KEY:
        if ((r = obj_buf_append(b, "[", 1)) != 0 ||
            (r = obj_buf_append(b, p->name, strlen(p->name))) != 0)
            return r;
        return obj_buf_append(b, "]", 1);
    }
    return 0;
}

int obj_fpath_format(const struct obj_fpath *p, struct obj_buf *b)
{
    int r;

    /* Recursion depth is the path's, which follows the object's nesting
     * (bounded by the decoders' depth limit). */
    if (p == NULL)
        return 0;
    if ((r = obj_fpath_format(p->up, b)) != 0)
        return r;
    return fpath_step(p, b);
}

/* ---- types ----------------------------------------------------------------*/

/* Reason (cause type) and message words of each error type. */
static const struct {
    const char *reason; /* Status details.causes[].reason. */
    const char *words;  /* Start of the message. */
} types[] = {
    [OBJ_FERR_NOT_FOUND] = {"FieldValueNotFound", "Not found"},
    [OBJ_FERR_REQUIRED] = {"FieldValueRequired", "Required value"},
    [OBJ_FERR_DUPLICATE] = {"FieldValueDuplicate", "Duplicate value"},
    [OBJ_FERR_INVALID] = {"FieldValueInvalid", "Invalid value"},
    [OBJ_FERR_NOT_SUPPORTED] = {"FieldValueNotSupported", "Unsupported value"},
    [OBJ_FERR_FORBIDDEN] = {"FieldValueForbidden", "Forbidden"},
    [OBJ_FERR_TOO_LONG] = {"FieldValueTooLong", "Too long"},
    [OBJ_FERR_TOO_MANY] = {"FieldValueTooMany", "Too many"},
    [OBJ_FERR_INTERNAL] = {"InternalError", "Internal error"},
    [OBJ_FERR_TYPE_INVALID] = {"FieldValueTypeInvalid", "Invalid value"},
};

const char *obj_ferr_reason(enum obj_ferr_type t)
{
    return types[t].reason;
}

const char *obj_ferr_type_str(enum obj_ferr_type t)
{
    return types[t].words;
}

/* ---- the list -------------------------------------------------------------*/

void obj_ferrs_init(struct obj_ferrs *l)
{
    memset(l, 0, sizeof *l);
}

void obj_ferrs_done(struct obj_ferrs *l)
{
    for (size_t i = 0; i < l->len; i++) {
        mem_free(l->v[i].field);
        mem_free(l->v[i].detail);
        obj_unref(l->v[i].value);
    }
    mem_free(l->v);
    obj_ferrs_init(l);
}

static int ferrs_reserve(struct obj_ferrs *l)
{
    size_t cap = l->cap ? l->cap * 2 : 8;
    struct obj_ferr *v;

    if (l->len < l->cap)
        return 0;
    v = mem_realloc(l->v, cap * sizeof *v);
    if (v == NULL)
        return -ENOMEM;
    l->v = v;
    l->cap = cap;
    return 0;
}

/* Append an error whose detail is already formatted (@detail is taken
 * over: freed here on failure). */
static int ferrs_push(struct obj_ferrs *l,
                      enum obj_ferr_type t,
                      const struct obj_fpath *at,
                      const struct obj *value,
                      char *detail)
{
    struct obj_buf path;
    struct obj_ferr *fe;

    obj_buf_init(&path);
    if (l->err != 0 || detail == NULL || ferrs_reserve(l) != 0 ||
        obj_fpath_format(at, &path) != 0 || obj_buf_append(&path, "", 0) != 0) {
        mem_free(detail);
        obj_buf_done(&path);
        l->err = -ENOMEM;
        return l->err;
    }
    fe = &l->v[l->len++];
    fe->type = t;
    fe->field = path.data; /* The buffer's bytes become the field. */
    /* The list only takes a reference: the value itself is not changed,
     * so dropping const here is sound (obj_ref counts holders). */
    fe->value = value != NULL ? obj_ref((struct obj *)value) : NULL;
    fe->detail = detail;
    return 0;
}

int obj_ferrs_addf(struct obj_ferrs *l,
                   enum obj_ferr_type t,
                   const struct obj_fpath *at,
                   const struct obj *value,
                   const char *fmt,
                   ...)
{
    char *detail = NULL;
    va_list ap;

    if (l->err != 0)
        return l->err;
    if (fmt == NULL)
        return ferrs_push(l, t, at, value, mem_strdup(""));
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0 && (detail = mem_malloc((size_t)n + 1)) != NULL) {
        va_start(ap, fmt);
        (void)vsnprintf(detail, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return ferrs_push(l, t, at, value, detail);
}

int obj_ferrs_add_str(struct obj_ferrs *l,
                      enum obj_ferr_type t,
                      const struct obj_fpath *at,
                      const char *s,
                      size_t len,
                      const char *detail)
{
    struct obj *v;

    if (l->err != 0)
        return l->err;
    v = obj_str_new(s, len);
    if (v == NULL) {
        l->err = -ENOMEM;
        return l->err;
    }
    if (detail != NULL)
        (void)obj_ferrs_addf(l, t, at, v, "%s", detail);
    else
        (void)obj_ferrs_addf(l, t, at, v, NULL);
    obj_unref(v);
    return l->err;
}

int obj_ferrs_required(struct obj_ferrs *l,
                       const struct obj_fpath *at,
                       const char *detail)
{
    return obj_ferrs_addf(l, OBJ_FERR_REQUIRED, at, NULL, "%s",
                          detail ? detail : "");
}

int obj_ferrs_forbidden(struct obj_ferrs *l,
                        const struct obj_fpath *at,
                        const char *detail)
{
    return obj_ferrs_addf(l, OBJ_FERR_FORBIDDEN, at, NULL, "%s",
                          detail ? detail : "");
}

int obj_ferrs_invalid(struct obj_ferrs *l,
                      const struct obj_fpath *at,
                      const struct obj *value,
                      const char *detail)
{
    return obj_ferrs_addf(l, OBJ_FERR_INVALID, at, value, "%s",
                          detail ? detail : "");
}

int obj_ferrs_duplicate(struct obj_ferrs *l,
                        const struct obj_fpath *at,
                        const struct obj *value)
{
    return obj_ferrs_addf(l, OBJ_FERR_DUPLICATE, at, value, NULL);
}

int obj_ferrs_too_long(struct obj_ferrs *l,
                       const struct obj_fpath *at,
                       size_t max)
{
    return obj_ferrs_addf(l, OBJ_FERR_TOO_LONG, at, NULL,
                          "may not be more than %zu %s", max,
                          max == 1 ? "byte" : "bytes");
}

int obj_ferrs_too_many(struct obj_ferrs *l,
                       const struct obj_fpath *at,
                       size_t actual,
                       size_t max)
{
    struct obj *v = obj_int_new((int64_t)actual);

    if (v == NULL && l->err == 0)
        l->err = -ENOMEM;
    if (l->err == 0)
        (void)obj_ferrs_addf(l, OBJ_FERR_TOO_MANY, at, v,
                             "must have at most %zu %s", max,
                             max == 1 ? "item" : "items");
    obj_unref(v);
    return l->err;
}

int obj_ferrs_not_supported(struct obj_ferrs *l,
                            const struct obj_fpath *at,
                            const struct obj *value,
                            const char *const *valid)
{
    struct obj_buf d;
    int r = 0;

    obj_buf_init(&d);
    for (size_t i = 0; valid != NULL && valid[i] != NULL && r == 0; i++) {
        if (i == 0)
            r = obj_buf_append(&d, "supported values: ", 18);
        else
            r = obj_buf_append(&d, ", ", 2);
        if (r == 0)
            r = obj_quote_go(&d, valid[i], strlen(valid[i]));
    }
    if (r != 0 && l->err == 0)
        l->err = r;
    (void)obj_ferrs_addf(l, OBJ_FERR_NOT_SUPPORTED, at, value, "%s",
                         d.data ? d.data : "");
    obj_buf_done(&d);
    return l->err;
}

/* ---- rendering ------------------------------------------------------------*/

/* Whether Go's strconv.Quote escapes code point @c (unicode.IsPrint false).
 * Exact for ASCII and Latin-1; above that it covers the separators and
 * format characters people meet (not every unassigned code point). */
static bool go_escapes(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad ||
           (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
           (c >= 0x205f && c <= 0x206f) || c == 0x3000 ||
           (c >= 0xd800 && c <= 0xf8ff) || c == 0xfeff ||
           (c >= 0xfff9 && c <= 0xfffb);
}

/* Decode the UTF-8 sequence at @s (valid: obj strings are checked);
 * returns its length and the code point in *@c. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *c)
{
    size_t n = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;

    if (n > len || (s[0] < 0xc0 && n > 1)) {
        *c = 0xfffd; /* Not reached for checked strings; escape the byte. */
        return 0;
    }
    *c = n == 1 ? s[0] : s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++)
        *c = (*c << 6) | (s[i] & 0x3f);
    return n;
}

static int quote_escape(struct obj_buf *b, uint32_t c)
{
    static const char short_esc[] = "\a\b\f\n\r\t\v";
    static const char short_chr[] = "abfnrtv";
    const char *p = c != 0 ? strchr(short_esc, (int)c) : NULL;
    char tmp[16];

    if (c < 0x80 && p != NULL)
        (void)snprintf(tmp, sizeof tmp, "\\%c", short_chr[p - short_esc]);
    else if (c < 0x80)
        (void)snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)c);
    else if (c < 0x10000)
        (void)snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)c);
    else
        (void)snprintf(tmp, sizeof tmp, "\\U%08x", (unsigned)c);
    return obj_buf_append(b, tmp, strlen(tmp));
}

int obj_quote_go(struct obj_buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;
    uint32_t c;
    int r = obj_buf_append(b, "\"", 1);

    while (r == 0 && i < len) {
        n = utf8_next(u + i, len - i, &c);
        if (n == 0) {
            char hex[8];

            (void)snprintf(hex, sizeof hex, "\\x%02x", u[i]);
            r = obj_buf_append(b, hex, 4);
            i++;
            continue;
        }
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            r = obj_buf_append(b, esc, 2);
        } else if (go_escapes(c)) {
            r = quote_escape(b, c);
        } else {
            r = obj_buf_append(b, s + i, n);
        }
        i += n;
    }
    return r == 0 ? obj_buf_append(b, "\"", 1) : r;
}

/* Whether the body names the bad value: Go leaves it out for these types
 * (the value of a missing or too long field says nothing). */
static bool shows_value(const struct obj_ferr *fe)
{
    switch (fe->type) {
    case OBJ_FERR_REQUIRED:
    case OBJ_FERR_FORBIDDEN:
    case OBJ_FERR_TOO_LONG:
    case OBJ_FERR_INTERNAL:
        return false;
    default:
        return fe->value != NULL;
    }
}

/* The bad value as Go's %v / %q would show it. Lists and maps are written
 * as JSON, as apimachinery does since 1.34 (1.33 printed Go syntax, which
 * means nothing to a user of the JSON API). */
static int format_value(const struct obj *v, struct obj_buf *b)
{
    size_t len;
    const char *s = obj_str(v, &len);

    if (s != NULL)
        return obj_quote_go(b, s, len);
    return obj_json_encode(v, 0, b, NULL);
}

int obj_ferr_body(const struct obj_ferr *fe, struct obj_buf *b)
{
    const char *w = obj_ferr_type_str(fe->type);
    int r = obj_buf_append(b, w, strlen(w));

    if (r == 0 && shows_value(fe)) {
        r = obj_buf_append(b, ": ", 2);
        if (r == 0)
            r = format_value(fe->value, b);
    }
    if (r == 0 && fe->detail[0] != '\0') {
        r = obj_buf_append(b, ": ", 2);
        if (r == 0)
            r = obj_buf_append(b, fe->detail, strlen(fe->detail));
    }
    return r;
}

int obj_ferr_format(const struct obj_ferr *fe, struct obj_buf *b)
{
    int r = obj_buf_append(b, fe->field, strlen(fe->field));

    if (r == 0)
        r = obj_buf_append(b, ": ", 2);
    return r == 0 ? obj_ferr_body(fe, b) : r;
}

/* Whether error @i prints the same as an earlier one (the aggregate shows
 * each message once). Quadratic, but lists are short and this runs only
 * for invalid objects. */
static int seen_before(const struct obj_ferrs *l, size_t i, bool *ret)
{
    struct obj_buf a, o;
    int r;

    obj_buf_init(&a);
    obj_buf_init(&o);
    *ret = false;
    r = obj_ferr_format(&l->v[i], &a);
    for (size_t j = 0; r == 0 && j < i && !*ret; j++) {
        o.len = 0;
        r = obj_ferr_format(&l->v[j], &o);
        *ret = r == 0 && o.len == a.len && memcmp(o.data, a.data, a.len) == 0;
    }
    obj_buf_done(&a);
    obj_buf_done(&o);
    return r;
}

int obj_ferrs_format(const struct obj_ferrs *l, struct obj_buf *b)
{
    size_t start = b->len, shown = 0;
    bool dup;
    int r = 0;

    for (size_t i = 0; r == 0 && i < l->len; i++) {
        if ((r = seen_before(l, i, &dup)) != 0 || dup)
            continue;
        if (shown++ > 0)
            r = obj_buf_append(b, ", ", 2);
        if (r == 0)
            r = obj_ferr_format(&l->v[i], b);
    }
    if (r == 0 && shown > 1) {
        /* Several: wrap in brackets, "[a, b]". */
        r = obj_buf_append(b, "]", 1);
        if (r == 0 && (r = obj_buf_append(b, " ", 1)) == 0) {
            memmove(b->data + start + 1, b->data + start, b->len - start - 1);
            b->data[start] = '[';
        }
    }
    if (r != 0) {
        b->len = start; /* Leave @b as it was. */
        if (b->data != NULL)
            b->data[start] = '\0';
    }
    return r;
}
