/* msgpack helpers: growing writer, bounded reader. */
#include "lib/mp.h"

#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"

/* ---- writer --------------------------------------------------------------*/

static int grow(struct mp_writer *w, size_t need)
{
    size_t cap = w->cap ? w->cap : 256;
    uint8_t *p;

    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    p = mem_realloc(w->buf, cap);
    if (p == NULL)
        return -1;
    w->buf = p;
    w->cap = cap;
    return 0;
}

/* msgpack-c's sink: append or remember the failure. */
static int sink(void *data, const char *buf, size_t len)
{
    struct mp_writer *w = data;

    if (w->failed)
        return -1;
    if (len > SIZE_MAX - w->len ||
        (w->len + len > w->cap && grow(w, w->len + len) != 0)) {
        w->failed = true;
        return -1;
    }
    if (len > 0)
        memcpy(w->buf + w->len, buf, len);
    w->len += len;
    return 0;
}

void mp_writer_init(struct mp_writer *w)
{
    memset(w, 0, sizeof *w);
    msgpack_packer_init(&w->pk, w, sink);
}

void mp_writer_done(struct mp_writer *w)
{
    mem_free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void mp_writer_reserve(struct mp_writer *w, size_t cap)
{
    uint8_t *p;

    if (cap <= w->cap || w->failed)
        return;
    p = mem_realloc(w->buf, cap);
    if (p == NULL)
        return;
    w->buf = p;
    w->cap = cap;
}

void mp_write_raw(struct mp_writer *w, const void *data, size_t len)
{
    (void)sink(w, data, len);
}

/* The packer reports failures through sink(), which sets w->failed, so the
 * return values below carry no extra information. */
void mp_write_uint(struct mp_writer *w, uint64_t v)
{
    (void)msgpack_pack_uint64(&w->pk, v);
}

void mp_write_int(struct mp_writer *w, int64_t v)
{
    (void)msgpack_pack_int64(&w->pk, v);
}

void mp_write_nil(struct mp_writer *w)
{
    (void)msgpack_pack_nil(&w->pk);
}

void mp_write_array(struct mp_writer *w, uint32_t n)
{
    (void)msgpack_pack_array(&w->pk, n);
}

void mp_write_str(struct mp_writer *w, const char *s)
{
    size_t len;

    if (s == NULL) {
        mp_write_nil(w);
        return;
    }
    len = strlen(s);
    (void)msgpack_pack_str(&w->pk, len);
    (void)msgpack_pack_str_body(&w->pk, s, len);
}

void mp_write_bin(struct mp_writer *w, const void *data, size_t len)
{
    (void)msgpack_pack_bin(&w->pk, len);
    (void)msgpack_pack_bin_body(&w->pk, data, len);
}

/* ---- reader --------------------------------------------------------------*/

void mp_reader_init(struct mp_reader *r, const void *data, size_t len)
{
    r->p = data;
    r->end = r->p + len;
}

/* Big-endian unsigned of @n bytes at @p. */
static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Width of the big-endian argument that follows type byte @t for the
 * sized integer, length and header forms (0 when @t is not one). */
static size_t arg_width(uint8_t t)
{
    switch (t) {
    case 0xcc: case 0xd0: case 0xc4: case 0xd9: return 1;
    case 0xcd: case 0xd1: case 0xc5: case 0xda: case 0xdc: return 2;
    case 0xce: case 0xd2: case 0xc6: case 0xdb: case 0xdd: return 4;
    case 0xcf: case 0xd3: return 8;
    default: return 0;
    }
}

/* Read a type byte and its fixed-width argument. */
static int read_head(struct mp_reader *r, uint8_t *t, uint64_t *arg)
{
    size_t w;

    if (mp_left(r) < 1)
        return -C8S_EMALFORMED;
    *t = r->p[0];
    w = arg_width(*t);
    if (mp_left(r) < 1 + w)
        return -C8S_EMALFORMED;
    *arg = be(r->p + 1, w);
    r->p += 1 + w;
    return 0;
}

/* Any integer: sets *neg and either *u (non-negative) or *s (negative). */
static int read_integer(struct mp_reader *r, bool *neg, uint64_t *u,
                        int64_t *s)
{
    const uint8_t *start = r->p;
    uint8_t t;
    uint64_t a;

    if (read_head(r, &t, &a) != 0)
        return -C8S_EMALFORMED;
    *neg = false;
    if (t <= 0x7f) {
        *u = t;
    } else if (t >= 0xe0) {
        *neg = true;
        *s = (int8_t)t;
    } else if (t >= 0xcc && t <= 0xcf) {
        *u = a;
    } else if (t >= 0xd0 && t <= 0xd3) {
        size_t bits = 8 * arg_width(t);
        int64_t v = bits == 64 ? (int64_t)a
                               : (int64_t)(a << (64 - bits)) >> (64 - bits);
        *neg = v < 0;
        *u = (uint64_t)v;
        *s = v;
    } else {
        r->p = start;
        return -C8S_EMALFORMED;
    }
    return 0;
}

int mp_read_uint(struct mp_reader *r, uint64_t *v)
{
    const uint8_t *start = r->p;
    bool neg;
    uint64_t u;
    int64_t s;

    if (read_integer(r, &neg, &u, &s) != 0)
        return -C8S_EMALFORMED;
    if (neg) {
        r->p = start;
        return -C8S_EMALFORMED;
    }
    *v = u;
    return 0;
}

int mp_read_int(struct mp_reader *r, int64_t *v)
{
    const uint8_t *start = r->p;
    bool neg;
    uint64_t u;
    int64_t s;

    if (read_integer(r, &neg, &u, &s) != 0)
        return -C8S_EMALFORMED;
    if (!neg && u > INT64_MAX) {
        r->p = start;
        return -C8S_EMALFORMED;
    }
    *v = neg ? s : (int64_t)u;
    return 0;
}

int mp_read_array(struct mp_reader *r, uint32_t *n)
{
    const uint8_t *start = r->p;
    uint8_t t;
    uint64_t a;

    if (read_head(r, &t, &a) != 0)
        return -C8S_EMALFORMED;
    if (t >= 0x90 && t <= 0x9f)
        a = t & 0x0f;
    else if (t != 0xdc && t != 0xdd) {
        r->p = start;
        return -C8S_EMALFORMED;
    }
    *n = (uint32_t)a;
    return 0;
}

/* Read a length-prefixed body after the header was accepted. */
static int read_body(struct mp_reader *r, const uint8_t *start, uint64_t len,
                     const void **data, uint32_t *ret_len)
{
    if (len > mp_left(r)) {
        r->p = start;
        return -C8S_EMALFORMED;
    }
    *data = r->p;
    *ret_len = (uint32_t)len;
    r->p += len;
    return 0;
}

int mp_read_str(struct mp_reader *r, const char **s, uint32_t *len)
{
    const uint8_t *start = r->p;
    uint8_t t;
    uint64_t a;

    if (read_head(r, &t, &a) != 0)
        return -C8S_EMALFORMED;
    if (t >= 0xa0 && t <= 0xbf)
        a = t & 0x1f;
    else if (t != 0xd9 && t != 0xda && t != 0xdb) {
        r->p = start;
        return -C8S_EMALFORMED;
    }
    return read_body(r, start, a, (const void **)s, len);
}

int mp_read_bin(struct mp_reader *r, const void **data, uint32_t *len)
{
    const uint8_t *start = r->p;
    uint8_t t;
    uint64_t a;

    if (read_head(r, &t, &a) != 0)
        return -C8S_EMALFORMED;
    if (t != 0xc4 && t != 0xc5 && t != 0xc6) {
        r->p = start;
        return -C8S_EMALFORMED;
    }
    return read_body(r, start, a, data, len);
}

bool mp_read_nil(struct mp_reader *r)
{
    if (mp_left(r) < 1 || r->p[0] != 0xc0)
        return false;
    r->p++;
    return true;
}
