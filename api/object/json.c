/* JSON decoding: yajl's callback parser feeding the tree builder, so no
 * intermediate document is built. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "api/object/internal.h"
#include "lib/mem.h"

/* State shared by the callbacks of one decode. */
struct json_dec {
    struct obj__build b;   /* Tree under construction. */
    yajl_handle h;         /* The parser (for the current offset). */
    const char *data;      /* Whole input. */
    size_t len;            /* Input length. */
    bool finishing;        /* In yajl_complete_parse, whose offsets count
                            * from a blank it feeds itself. */
};

/* Byte offset just past the token being reported. */
static size_t where(const struct json_dec *d)
{
    return d->finishing ? d->len : yajl_get_bytes_consumed(d->h);
}

/* Value of the 4 hex digits at @p (known valid: yajl checked them). */
static unsigned hex4(const char *p)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];

        v = v * 16 + (unsigned)(c <= '9'   ? c - '0'
                                : c <= 'F' ? c - 'A' + 10
                                           : c - 'a' + 10);
    }
    return v;
}

/* Check the \u escapes of the raw string token that ends just before byte
 * @end (its closing quote is at end - 1): surrogates must come in
 * high-low pairs. yajl would turn a lone high surrogate into "?" and a lone
 * low one into bytes that are not UTF-8, silently. */
static bool surrogates_ok(const struct json_dec *d, size_t end)
{
    const char *s = d->data;
    size_t q, i;

    if (end < 2 || end > d->len || s[end - 1] != '"')
        return false;
    /* Walk back to the opening quote: the first '"' preceded by an even
     * number of backslashes (inside a string every '"' is escaped). */
    for (q = end - 1; q-- > 0;) {
        size_t bs = 0;

        if (s[q] != '"')
            continue;
        while (bs < q && s[q - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            break;
    }
    for (i = q + 1; i + 1 < end - 1; i++) {
        unsigned u;

        if (s[i] != '\\')
            continue;
        if (s[i + 1] != 'u') {
            i++;
            continue;
        }
        u = hex4(s + i + 2);
        i += 5;
        if (u >= 0xdc00 && u <= 0xdfff)
            return false;
        if (u >= 0xd800 && u <= 0xdbff) {
            if (i + 6 >= end || s[i + 1] != '\\' || s[i + 2] != 'u')
                return false;
            u = hex4(s + i + 3);
            if (u < 0xdc00 || u > 0xdfff)
                return false;
            i += 6;
        }
    }
    return true;
}

/* Whether yajl handed us bytes of the input itself (no escapes, so nothing
 * to check) rather than its decoding buffer. */
static bool in_input(const struct json_dec *d, const unsigned char *p)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)d->data;

    return a >= lo && a <= lo + d->len;
}

static int on_null(void *ctx)
{
    struct json_dec *d = ctx;

    return obj__build_value(&d->b, obj_null(), where(d)) == 0;
}

static int on_bool(void *ctx, int v)
{
    struct json_dec *d = ctx;

    return obj__build_value(&d->b, obj_bool_new(v), where(d)) == 0;
}

/* Parse a number token: int64 when it has no fraction or exponent, else a
 * finite double. Callbacks return 0 to stop yajl after a failure, which
 * the builder has recorded. */
static int on_number(void *ctx, const char *s, size_t len)
{
    struct json_dec *d = ctx;
    bool is_int = memchr(s, '.', len) == NULL && memchr(s, 'e', len) == NULL &&
                  memchr(s, 'E', len) == NULL;
    char small[64], *text = small;
    struct obj *v = NULL;
    bool out_of_range;
    int r;

    /* strtoll/strtod need a NUL-terminated copy. Integers longer than 20
     * characters cannot fit int64 (JSON forbids leading zeros). */
    if (is_int && len > 20)
        goto range;
    if (len >= sizeof small && (text = mem_malloc(len + 1)) == NULL) {
        (void)obj__build_fail(&d->b, -ENOMEM, where(d), "out of memory");
        return 0;
    }
    memcpy(text, s, len);
    text[len] = '\0';
    errno = 0;
    if (is_int) {
        long long i = strtoll(text, NULL, 10);

        out_of_range = errno == ERANGE;
        if (!out_of_range)
            v = obj_int_new(i);
    } else {
        /* Underflow (1e-400) reads as 0 or a subnormal, as in Go. */
        double f = strtod(text, NULL);

        out_of_range = !isfinite(f);
        if (!out_of_range)
            v = obj_float_new(f);
    }
    if (text != small)
        mem_free(text);
    if (out_of_range)
        goto range;
    r = obj__build_value(&d->b, v, where(d));
    return r == 0;
range:
    (void)obj__build_fail(&d->b, -C8S_EMALFORMED, where(d),
                          "number out of range: %.*s", (int)(len < 40 ? len
                                                                       : 40),
                          s);
    return 0;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct json_dec *d = ctx;

    if (!in_input(d, s) && !surrogates_ok(d, where(d))) {
        (void)obj__build_fail(&d->b, -C8S_EMALFORMED, where(d),
                              "invalid \\u surrogate in string");
        return 0;
    }
    return obj__build_string(&d->b, (const char *)s, len, where(d)) == 0;
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    struct json_dec *d = ctx;

    if (!in_input(d, s) && !surrogates_ok(d, where(d))) {
        (void)obj__build_fail(&d->b, -C8S_EMALFORMED, where(d),
                              "invalid \\u surrogate in key");
        return 0;
    }
    return obj__build_key(&d->b, (const char *)s, len, where(d)) == 0;
}

static int on_start_map(void *ctx)
{
    struct json_dec *d = ctx;

    return obj__build_begin(&d->b, OBJ_MAP, where(d)) == 0;
}

static int on_start_array(void *ctx)
{
    struct json_dec *d = ctx;

    return obj__build_begin(&d->b, OBJ_ARRAY, where(d)) == 0;
}

static int on_end(void *ctx)
{
    struct json_dec *d = ctx;

    return obj__build_end(&d->b, NULL) == 0;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

/* Turn yajl's own error into ours: its message, first line only. */
static int syntax_error(struct json_dec *d)
{
    unsigned char *msg = yajl_get_error(d->h, 0, NULL, 0);
    const char *text = msg != NULL ? (const char *)msg : "syntax error";
    size_t n = strcspn(text, "\n");
    int r;

    r = obj__build_fail(&d->b, -C8S_EMALFORMED, where(d), "%.*s", (int)n,
                        text);
    if (msg != NULL)
        yajl_free_error(d->h, msg);
    return r;
}

int obj_json_decode(const void *data, size_t len,
                    const struct obj_decode_opts *opts, struct obj **ret,
                    struct err *e)
{
    struct json_dec d = {.data = data, .len = len};
    yajl_status st;
    int r = 0;

    if (len > obj__opt_bytes(opts))
        return err_setf(e, -C8S_ETOOLARGE, "json: %zu bytes, limit %zu", len,
                        obj__opt_bytes(opts));
    obj__build_init(&d.b, "json", opts, e);
    /* yajl allocates with malloc: it asserts rather than failing cleanly
     * when memory runs out, so it cannot take our fault-injecting
     * allocator. Its memory is bounded by the depth limit and the input. */
    d.h = yajl_alloc(&callbacks, NULL, &d);
    if (d.h == NULL)
        return err_setf(e, -ENOMEM, "json: out of memory");
    /* We check UTF-8 ourselves, more strictly (overlong forms,
     * surrogates). */
    (void)yajl_config(d.h, yajl_dont_validate_strings, 1);
    st = yajl_parse(d.h, data, len);
    if (st == yajl_status_ok) {
        d.finishing = true;
        st = yajl_complete_parse(d.h);
    }
    if (st == yajl_status_error)
        r = syntax_error(&d);
    else if (st == yajl_status_client_canceled)
        r = d.b.code != 0 ? d.b.code : -C8S_EMALFORMED;
    yajl_free(d.h);
    if (r == 0) {
        *ret = d.b.root;
        d.b.root = NULL;
    }
    obj__build_done(&d.b);
    return r;
}
