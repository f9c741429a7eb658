/* JSON encoding with our own writer: one pass, appending straight into the
 * output buffer. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "api/object/internal.h"

/* Per byte: 0 copy as is; 1 control character (\u00XX); 2 HTML character
 * (escaped only on request); 3 possible start of U+2028/U+2029; any other
 * value is the letter of a short escape (\n, \", ...). */
static const unsigned char esc[256] = {
    1,   1,   1,   1,   1,   1,   1,   1,   'b', 't', 'n', 1,   'f', 'r',
    1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
    1,   1,   1,   1,   0,   0,   '"', 0,   0,   0,   2,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   2,   0,   2,   0,
    ['\\'] = '\\',
    [0xe2] = 3,
};

/* State of one encode. */
struct json_enc {
    struct obj_buf *b; /* Output. */
    unsigned flags;    /* OBJ_JSON_* flags. */
    struct err *e;     /* Failure context. */
};

/* Append bytes; the NUL terminator is written once at the end of the
 * encode, not after every piece (this is the hot path of LIST). */
static inline int put(struct json_enc *w, const void *p, size_t n)
{
    struct obj_buf *b = w->b;

    if (obj__buf_reserve(b, n) != 0)
        return -ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* Append string bytes @s with quotes and escapes. */
static int put_string(struct json_enc *w, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    bool html = w->flags & OBJ_JSON_ESCAPE_HTML;
    size_t run = 0;
    int r;

    if ((r = put(w, "\"", 1)) != 0)
        return r;
    for (size_t i = 0; i < len; i++) {
        unsigned char k = esc[p[i]];
        char seq[8];
        size_t n;

        if (k == 0 || (k == 2 && !html) ||
            (k == 3 && !(i + 2 < len && p[i + 1] == 0x80 &&
                         (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))))
            continue;
        /* Flush the plain run before this byte. */
        if ((r = put(w, s + run, i - run)) != 0)
            return r;
        if (k == 1 || k == 2) {
            static const char hex[] = "0123456789abcdef";

            memcpy(seq, "\\u00", 4);
            seq[4] = hex[p[i] >> 4];
            seq[5] = hex[p[i] & 15];
            n = 6;
        } else if (k == 3) {
            /* U+2028 and U+2029 end lines in JavaScript: escape as Go
             * does, always. */
            memcpy(seq, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            n = 6;
            i += 2;
        } else {
            seq[0] = '\\';
            seq[1] = (char)k;
            n = 2;
        }
        if ((r = put(w, seq, n)) != 0)
            return r;
        run = i + 1;
    }
    if ((r = put(w, s + run, len - run)) != 0)
        return r;
    return put(w, "\"", 1);
}

/* Newline and indent for @level when indenting. */
static int newline(struct json_enc *w, unsigned level)
{
    static const char spaces[] = "                                ";
    size_t n = (size_t)level * 4;
    int r;

    if (!(w->flags & OBJ_JSON_INDENT))
        return 0;
    if ((r = put(w, "\n", 1)) != 0)
        return r;
    for (; n > 0 && r == 0; n -= n < 32 ? n : 32)
        r = put(w, spaces, n < 32 ? n : 32);
    return r;
}

static int write_value(struct json_enc *w, const struct obj *o,
                       unsigned level);

static int write_array(struct json_enc *w, const struct obj *o,
                       unsigned level)
{
    int r;

    if (o->u.arr.len == 0)
        return put(w, "[]", 2);
    if ((r = put(w, "[", 1)) != 0)
        return r;
    for (size_t i = 0; i < o->u.arr.len; i++) {
        if ((i > 0 && (r = put(w, ",", 1)) != 0) ||
            (r = newline(w, level + 1)) != 0 ||
            (r = write_value(w, o->u.arr.items[i], level + 1)) != 0)
            return r;
    }
    if ((r = newline(w, level)) != 0)
        return r;
    return put(w, "]", 1);
}

static int write_map(struct json_enc *w, const struct obj *o, unsigned level)
{
    bool indent = w->flags & OBJ_JSON_INDENT;
    int r;

    if (o->u.map.len == 0)
        return put(w, "{}", 2);
    if ((r = put(w, "{", 1)) != 0)
        return r;
    for (size_t i = 0; i < o->u.map.len; i++) {
        const struct obj_entry *e = &o->u.map.items[i];

        if ((i > 0 && (r = put(w, ",", 1)) != 0) ||
            (r = newline(w, level + 1)) != 0 ||
            (r = put_string(w, e->key, e->klen)) != 0 ||
            (r = put(w, ": ", indent ? 2 : 1)) != 0 ||
            (r = write_value(w, e->val, level + 1)) != 0)
            return r;
    }
    if ((r = newline(w, level)) != 0)
        return r;
    return put(w, "}", 1);
}

static int write_value(struct json_enc *w, const struct obj *o,
                       unsigned level)
{
    char num[32];
    size_t n;

    switch (o->type) {
    case OBJ_NULL:
        return put(w, "null", 4);
    case OBJ_BOOL:
        return o->u.b ? put(w, "true", 4) : put(w, "false", 5);
    case OBJ_INT:
        n = obj__fmt_int(o->u.i, num);
        return put(w, num, n);
    case OBJ_FLOAT:
        if (!isfinite(o->u.f))
            return err_setf(w->e, -EDOM, "json: cannot encode %g", o->u.f);
        n = obj__fmt_float(o->u.f, num);
        return put(w, num, n);
    case OBJ_STRING:
        return put_string(w, o->u.str.s, o->u.str.len);
    case OBJ_ARRAY:
        return write_array(w, o, level);
    default:
        return write_map(w, o, level);
    }
}

int obj_json_encode(const struct obj *o, unsigned flags, struct obj_buf *b,
                    struct err *e)
{
    struct json_enc w = {.b = b, .flags = flags, .e = e};
    size_t start = b->len;
    int r = write_value(&w, o, 0);

    if (r == 0 && (flags & OBJ_JSON_NEWLINE))
        r = put(&w, "\n", 1);
    if (r == 0 && b->data != NULL)
        b->data[b->len] = '\0'; /* put() always leaves room for it. */
    if (r != 0) {
        /* Leave the buffer as it was. */
        b->len = start;
        if (b->data != NULL)
            b->data[start] = '\0';
        return r == -ENOMEM ? err_setf(e, r, "json: out of memory") : r;
    }
    return 0;
}

int obj_json_rbuf(const struct obj *o, unsigned flags, struct rbuf **ret,
                  struct err *e)
{
    struct obj_buf b;
    struct rbuf *rb;
    int r;

    obj_buf_init(&b);
    r = obj_json_encode(o, flags, &b, e);
    if (r == 0) {
        rb = obj_buf_rbuf(&b);
        if (rb == NULL)
            r = err_setf(e, -ENOMEM, "json: out of memory");
        else
            *ret = rb;
    }
    obj_buf_done(&b);
    return r;
}
