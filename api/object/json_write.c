/* JSON encoding with our own writer: one pass, appending straight into the
 * output buffer. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* Eight bytes at @p that are copied as they are: none below 0x20, none a
 * quote or backslash, none from 0x80 up (they may start U+2028/U+2029),
 * and with @html none of < > &. Word at a time: strings are mostly plain,
 * and a byte-by-byte table lookup was a tenth of a member's CPU serving
 * LISTs. */
static inline bool plain8(const unsigned char *p, bool html)
{
    static const uint64_t ones = 0x0101010101010101ULL;
    static const uint64_t highs = 0x8080808080808080ULL;
    uint64_t x;

    memcpy(&x, p, sizeof x);
/* Some byte of @v is zero; some byte of @v is below @n (n <= 0x80, no byte
 * of @v at 0x80 or above). */
#define HAS_ZERO(v) ((((v) - ones) & ~(v) & highs) != 0)
#define HAS_LESS(v, n) ((((v) - ones * (n)) & ~(v) & highs) != 0)
    if ((x & highs) != 0 || HAS_LESS(x, 0x20) || HAS_ZERO(x ^ (ones * '"')) ||
        HAS_ZERO(x ^ (ones * '\\')))
        return false;
    return !html || !(HAS_ZERO(x ^ (ones * '<')) ||
                      HAS_ZERO(x ^ (ones * '>')) ||
                      HAS_ZERO(x ^ (ones * '&')));
#undef HAS_ZERO
#undef HAS_LESS
}

/* Bytes from @p on, up to @len, known plain in whole blocks (of 16 with
 * SSE2, else of 8). */
static inline size_t plain_run(const unsigned char *p, size_t len, bool html)
{
    size_t i = 0;

#ifdef __SSE2__
    if (!html) {
        const __m128i space = _mm_set1_epi8(0x20);
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i bslash = _mm_set1_epi8('\\');

        /* Signed compare: bytes from 0x80 up are negative, so "below
         * 0x20" also catches them, as wanted. */
        for (; i + 16 <= len; i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(p + i));
            __m128i bad = _mm_or_si128(
                _mm_cmplt_epi8(x, space),
                _mm_or_si128(_mm_cmpeq_epi8(x, quote),
                             _mm_cmpeq_epi8(x, bslash)));

            if (_mm_movemask_epi8(bad) != 0)
                break;
        }
    }
#endif
    while (i + 8 <= len && plain8(p + i, html))
        i += 8;
    return i;
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
        unsigned char k;
        char seq[8];
        size_t n;

        i += plain_run(p + i, len - i, html);
        if (i == len)
            break;
        k = esc[p[i]];

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

/* ---- msgpack straight to JSON -------------------------------------------- */

/* The stored msgpack of an object written as JSON without building a tree
 * (LIST and GET of many objects spend most of their time in malloc and
 * free otherwise). Output is byte for byte what decoding, setting the
 * overrides with obj_map_set() and obj_json_encode(flags 0) would give. */

#define TRANSCODE_MAX_DEPTH 1000

struct transcode {
    struct json_enc w;
    struct mp_reader r;
    const struct obj_json_overrides *ov;
};

static int tc_malformed(struct transcode *t, const char *what)
{
    return err_setf(t->w.e, -C8S_EMALFORMED, "msgpack: %s", what);
}

static int tc_value(struct transcode *t, unsigned depth);

/* Skip one value (an overridden one). A failed mp_read_str() leaves the
 * reader where it was. */
static int tc_skip(struct transcode *t, unsigned depth)
{
    struct obj_buf scratch;
    struct obj_buf *out = t->w.b;
    const char *str;
    uint32_t len;
    int r;

    /* The overridden fields hold strings: those are stepped over without
     * writing (this runs three times per object of a LIST). Anything else
     * is written to a scratch buffer and dropped. */
    if (mp_read_str(&t->r, &str, &len) == 0)
        return 0;
    obj_buf_init(&scratch);
    t->w.b = &scratch;
    r = tc_value(t, depth);
    t->w.b = out;
    obj_buf_done(&scratch);
    return r;
}

static int tc_map_header(struct transcode *t, uint32_t *n)
{
    const char *bad = obj__mp_map_header(&t->r, n);

    return bad != NULL ? tc_malformed(t, bad) : 0;
}

static bool is_map_byte(uint8_t k)
{
    return (k >= 0x80 && k <= 0x8f) || k == 0xde || k == 0xdf;
}

/* One "key":"value" pair with a string value. */
static int tc_pair(struct transcode *t,
                   bool first,
                   const char *key,
                   const char *value)
{
    int r;

    if ((!first && (r = put(&t->w, ",", 1)) != 0) ||
        (r = put_string(&t->w, key, strlen(key))) != 0 ||
        (r = put(&t->w, ":", 1)) != 0)
        return r;
    return put_string(&t->w, value, strlen(value));
}

/* A map; at @level 0 the object itself, at 1 its metadata (where the
 * overrides apply). */
static int tc_map(struct transcode *t, unsigned depth, int level)
{
    const struct obj_json_overrides *ov = t->ov;
    bool seen_kind = false, seen_apiv = false, seen_meta = false;
    bool seen_rv = false;
    uint32_t n = 0;
    int r;

    if ((r = tc_map_header(t, &n)) != 0 || (r = put(&t->w, "{", 1)) != 0)
        return r;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t klen;
        const char *repl = NULL;
        bool meta = false;

        if (mp_read_str(&t->r, &k, &klen) != 0)
            return tc_malformed(t, "map key is not a string");
        if ((i > 0 && (r = put(&t->w, ",", 1)) != 0) ||
            (r = put_string(&t->w, k, klen)) != 0 ||
            (r = put(&t->w, ":", 1)) != 0)
            return r;
        if (level == 0 && klen == 4 && memcmp(k, "kind", 4) == 0 &&
            ov->kind != NULL) {
            repl = ov->kind;
            seen_kind = true;
        } else if (level == 0 && klen == 10 &&
                   memcmp(k, "apiVersion", 10) == 0 &&
                   ov->api_version != NULL) {
            repl = ov->api_version;
            seen_apiv = true;
        } else if (level == 0 && klen == 8 && memcmp(k, "metadata", 8) == 0 &&
                   ov->resource_version != NULL) {
            meta = mp_left(&t->r) > 0 && is_map_byte(t->r.p[0]);
            seen_meta = true;
        } else if (level == 1 && klen == 15 &&
                   memcmp(k, "resourceVersion", 15) == 0) {
            repl = ov->resource_version;
            seen_rv = true;
        }
        if (repl != NULL) {
            if ((r = tc_skip(t, depth + 1)) == 0)
                r = put_string(&t->w, repl, strlen(repl));
        } else if (meta) {
            r = tc_map(t, depth + 1, 1);
        } else if (level == 0 && seen_meta && !meta &&
                   ov->resource_version != NULL && klen == 8 &&
                   memcmp(k, "metadata", 8) == 0) {
            /* Not a map: replaced by one, as srv__meta() does. */
            if ((r = tc_skip(t, depth + 1)) == 0 &&
                (r = put(&t->w, "{", 1)) == 0 &&
                (r = tc_pair(t, true, "resourceVersion",
                             ov->resource_version)) == 0)
                r = put(&t->w, "}", 1);
        } else {
            r = tc_value(t, depth + 1);
        }
        if (r != 0)
            return r;
    }
    if (level == 1 && !seen_rv &&
        (r = tc_pair(t, n == 0, "resourceVersion", ov->resource_version)) != 0)
        return r;
    if (level == 0 && ov->resource_version != NULL && !seen_meta) {
        if ((r = put(&t->w, n > 0 ? ",\"metadata\":{" : "\"metadata\":{",
                     n > 0 ? 13 : 12)) != 0 ||
            (r = tc_pair(t, true, "resourceVersion", ov->resource_version)) !=
                0 ||
            (r = put(&t->w, "}", 1)) != 0)
            return r;
        n++;
    }
    if (level == 0 && ov->kind != NULL && !seen_kind &&
        (r = tc_pair(t, n++ == 0, "kind", ov->kind)) != 0)
        return r;
    if (level == 0 && ov->api_version != NULL && !seen_apiv &&
        (r = tc_pair(t, n++ == 0, "apiVersion", ov->api_version)) != 0)
        return r;
    return put(&t->w, "}", 1);
}

static int tc_array(struct transcode *t, unsigned depth)
{
    uint32_t n;
    int r;

    if (mp_read_array(&t->r, &n) != 0)
        return tc_malformed(t, "truncated array header");
    if (n > mp_left(&t->r))
        return tc_malformed(t, "array longer than the input");
    if ((r = put(&t->w, "[", 1)) != 0)
        return r;
    for (uint32_t i = 0; i < n; i++)
        if ((i > 0 && (r = put(&t->w, ",", 1)) != 0) ||
            (r = tc_value(t, depth + 1)) != 0)
            return r;
    return put(&t->w, "]", 1);
}

static int tc_float(struct transcode *t)
{
    double f;
    char num[32];
    const char *bad = obj__mp_float(&t->r, &f);

    if (bad != NULL)
        return tc_malformed(t, bad);
    return put(&t->w, num, obj__fmt_float(f, num));
}

static int tc_value(struct transcode *t, unsigned depth)
{
    uint8_t k;
    int64_t i;
    const char *s;
    uint32_t len;
    char num[32];

    if (depth > TRANSCODE_MAX_DEPTH)
        return tc_malformed(t, "nested too deeply");
    if (mp_left(&t->r) == 0)
        return tc_malformed(t, "truncated input");
    k = t->r.p[0];
    if (k == 0xc0 || k == 0xc2 || k == 0xc3) {
        t->r.p++;
        return k == 0xc0   ? put(&t->w, "null", 4)
               : k == 0xc3 ? put(&t->w, "true", 4)
                           : put(&t->w, "false", 5);
    }
    if (k <= 0x7f || k >= 0xe0 || (k >= 0xcc && k <= 0xd3)) {
        if (mp_read_int(&t->r, &i) != 0)
            return tc_malformed(t, "bad integer");
        return put(&t->w, num, obj__fmt_int(i, num));
    }
    if (k == 0xca || k == 0xcb)
        return tc_float(t);
    if ((k >= 0xa0 && k <= 0xbf) || (k >= 0xd9 && k <= 0xdb)) {
        if (mp_read_str(&t->r, &s, &len) != 0)
            return tc_malformed(t, "truncated string");
        return put_string(&t->w, s, len);
    }
    if ((k >= 0x90 && k <= 0x9f) || k == 0xdc || k == 0xdd)
        return tc_array(t, depth);
    if (is_map_byte(k))
        return tc_map(t, depth, -1);
    return tc_malformed(t, "unsupported type (bin, ext or reserved)");
}

int obj_msgpack_to_json(const void *data,
                        size_t len,
                        const struct obj_json_overrides *ov,
                        struct obj_buf *b,
                        struct err *e)
{
    static const struct obj_json_overrides none = {0};
    struct err scratch;
    struct transcode t = {.w = {.b = b, .flags = 0, .e = e ? e : &scratch},
                          .ov = ov ? ov : &none};
    size_t start = b->len;
    int r;

    mp_reader_init(&t.r, data, len);
    if (len > 0 && is_map_byte(t.r.p[0]))
        r = tc_map(&t, 0, 0);
    else
        r = tc_value(&t, 0);
    if (r == 0 && mp_left(&t.r) != 0)
        r = tc_malformed(&t, "trailing bytes");
    if (r == 0 && b->data != NULL)
        b->data[b->len] = '\0';
    if (r != 0) {
        b->len = start;
        if (b->data != NULL)
            b->data[start] = '\0';
        if (r == -ENOMEM)
            err_setf(t.w.e, r, "json: out of memory");
    }
    return r;
}
