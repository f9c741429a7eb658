/* msgpack, the store and raft format: a direct encoder, and a strict,
 * bounded decoder on lib/mp.h's reader that feeds the tree builder. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <msgpack.h>

#include "api/object/internal.h"
#include "lib/mp.h"

/* ---- encoding ---------------------------------------------------------- */

/* msgpack-c's sink: append to our buffer (0 on success, as it expects). */
static int sink(void *data, const char *buf, size_t len)
{
    return obj_buf_append(data, buf, len) == 0 ? 0 : -1;
}

/* Pack @o; 0, -1 (out of memory) or -EDOM. msgpack-c reports failures of
 * the sink as a non-zero return. */
static int pack(msgpack_packer *pk, const struct obj *o)
{
    int r;

    switch (o->type) {
    case OBJ_NULL:
        return msgpack_pack_nil(pk);
    case OBJ_BOOL:
        return o->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case OBJ_INT:
        return msgpack_pack_int64(pk, o->u.i);
    case OBJ_FLOAT:
        if (!isfinite(o->u.f))
            return -EDOM;
        return msgpack_pack_double(pk, o->u.f);
    case OBJ_STRING:
        if ((r = msgpack_pack_str(pk, o->u.str.len)) != 0)
            return r;
        return msgpack_pack_str_body(pk, o->u.str.s, o->u.str.len);
    case OBJ_ARRAY:
        if ((r = msgpack_pack_array(pk, o->u.arr.len)) != 0)
            return r;
        for (size_t i = 0; i < o->u.arr.len; i++)
            if ((r = pack(pk, o->u.arr.items[i])) != 0)
                return r;
        return 0;
    default:
        if ((r = msgpack_pack_map(pk, o->u.map.len)) != 0)
            return r;
        for (size_t i = 0; i < o->u.map.len; i++) {
            const struct obj_entry *e = &o->u.map.items[i];

            if ((r = msgpack_pack_str(pk, e->klen)) != 0 ||
                (r = msgpack_pack_str_body(pk, e->key, e->klen)) != 0 ||
                (r = pack(pk, e->val)) != 0)
                return r;
        }
        return 0;
    }
}

int obj_msgpack_encode(const struct obj *o, struct obj_buf *b, struct err *e)
{
    msgpack_packer pk;
    size_t start = b->len;
    int r;

    msgpack_packer_init(&pk, b, sink);
    r = pack(&pk, o);
    if (r == 0)
        return 0;
    b->len = start;
    if (b->data != NULL)
        b->data[start] = '\0';
    if (r == -EDOM)
        return err_setf(e, r, "msgpack: cannot encode a non-finite float");
    return err_setf(e, -ENOMEM, "msgpack: out of memory");
}

/* ---- decoding ---------------------------------------------------------- */

/* State of one decode. */
struct mp_dec {
    struct obj__build b;     /* Tree under construction. */
    struct mp_reader r;      /* Position in the input. */
    const uint8_t *start;    /* Start of the input, for offsets. */
};

static size_t off(const struct mp_dec *d)
{
    return (size_t)(d->r.p - d->start);
}

static int malformed(struct mp_dec *d, const char *what)
{
    return obj__build_fail(&d->b, -C8S_EMALFORMED, off(d), "%s", what);
}

/* Big-endian @n bytes at @p. */
static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

const char *obj__mp_float(struct mp_reader *r, double *v)
{
    size_t n = r->p[0] == 0xca ? 4 : 8;
    uint64_t bits;

    if (mp_left(r) < 1 + n)
        return "truncated float";
    bits = be(r->p + 1, n);
    if (n == 4) {
        uint32_t b32 = (uint32_t)bits;
        float f32;

        memcpy(&f32, &b32, sizeof f32);
        *v = f32;
    } else {
        memcpy(v, &bits, sizeof *v);
    }
    if (!isfinite(*v))
        return "float is not finite";
    r->p += 1 + n;
    return NULL;
}

const char *obj__mp_map_header(struct mp_reader *r, uint32_t *n)
{
    uint8_t t = r->p[0];
    size_t w = t == 0xde ? 2 : t == 0xdf ? 4 : 0;
    uint32_t count;

    if (mp_left(r) < 1 + w)
        return "truncated map header";
    count = w == 0 ? (uint32_t)(t & 0x0f) : (uint32_t)be(r->p + 1, w);
    /* Every entry takes at least two bytes. */
    if (count > (mp_left(r) - 1 - w) / 2)
        return "map longer than the input";
    r->p += 1 + w;
    *n = count;
    return NULL;
}

/* float 32 or 64 (type byte not consumed). */
static int read_float(struct mp_dec *d)
{
    double f;
    const char *bad = obj__mp_float(&d->r, &f);

    if (bad != NULL)
        return malformed(d, bad);
    return obj__build_value(&d->b, obj_float_new(f), off(d));
}

static int read_value(struct mp_dec *d);

static int read_array(struct mp_dec *d)
{
    uint32_t n;
    int r;

    if (mp_read_array(&d->r, &n) != 0)
        return malformed(d, "truncated array header");
    /* Every element takes at least one byte: check before reserving. */
    if (n > mp_left(&d->r))
        return malformed(d, "array longer than the input");
    if ((r = obj__build_begin(&d->b, OBJ_ARRAY, off(d))) != 0)
        return r;
    if (obj__array_reserve(obj__build_top(&d->b), n) != 0)
        return obj__build_fail(&d->b, -ENOMEM, off(d), "out of memory");
    for (uint32_t i = 0; i < n; i++)
        if ((r = read_value(d)) != 0)
            return r;
    return obj__build_end(&d->b, NULL);
}

static int read_map(struct mp_dec *d)
{
    uint32_t n = 0;
    const char *bad = obj__mp_map_header(&d->r, &n);
    int r;

    if (bad != NULL)
        return malformed(d, bad);
    if ((r = obj__build_begin(&d->b, OBJ_MAP, off(d))) != 0)
        return r;
    if (obj__map_reserve(obj__build_top(&d->b), n) != 0)
        return obj__build_fail(&d->b, -ENOMEM, off(d), "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t klen;

        if (mp_read_str(&d->r, &k, &klen) != 0)
            return malformed(d, "map key is not a string");
        if ((r = obj__build_key(&d->b, k, klen, off(d))) != 0 ||
            (r = read_value(d)) != 0)
            return r;
    }
    return obj__build_end(&d->b, NULL);
}

static int read_value(struct mp_dec *d)
{
    uint8_t t;
    int64_t i;
    const char *s;
    uint32_t len;

    if (mp_left(&d->r) == 0)
        return malformed(d, "truncated input");
    t = d->r.p[0];
    if (t == 0xc0 || t == 0xc2 || t == 0xc3) {
        d->r.p++;
        return obj__build_value(&d->b,
                                t == 0xc0 ? obj_null() : obj_bool_new(t == 0xc3),
                                off(d));
    }
    if (t <= 0x7f || t >= 0xe0 || (t >= 0xcc && t <= 0xd3)) {
        if (mp_read_int(&d->r, &i) != 0)
            return malformed(d, t == 0xcf ? "integer out of range"
                                          : "truncated integer");
        return obj__build_value(&d->b, obj_int_new(i), off(d));
    }
    if (t == 0xca || t == 0xcb)
        return read_float(d);
    if ((t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb)) {
        if (mp_read_str(&d->r, &s, &len) != 0)
            return malformed(d, "truncated string");
        return obj__build_string(&d->b, s, len, off(d));
    }
    if ((t >= 0x90 && t <= 0x9f) || t == 0xdc || t == 0xdd)
        return read_array(d);
    if ((t >= 0x80 && t <= 0x8f) || t == 0xde || t == 0xdf)
        return read_map(d);
    return malformed(d, "unsupported type (bin, ext or reserved)");
}

int obj_msgpack_decode(const void *data, size_t len,
                       const struct obj_decode_opts *opts, struct obj **ret,
                       struct err *e)
{
    struct mp_dec d;
    int r;

    if (len > obj__opt_bytes(opts))
        return err_setf(e, -C8S_ETOOLARGE, "msgpack: %zu bytes, limit %zu",
                        len, obj__opt_bytes(opts));
    obj__build_init(&d.b, "msgpack", opts, e);
    d.b.dups = OBJ_DUP_ERROR; /* The store never writes duplicates. */
    mp_reader_init(&d.r, data, len);
    d.start = d.r.p;
    r = read_value(&d);
    if (r == 0 && mp_left(&d.r) != 0)
        r = malformed(&d, "trailing bytes");
    if (r == 0) {
        *ret = d.b.root;
        d.b.root = NULL;
    }
    obj__build_done(&d.b);
    return r;
}
