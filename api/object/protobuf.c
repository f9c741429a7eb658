/* Decoding Kubernetes protobuf bodies with the schemas (see protobuf.h).
 * Wire format: each field is a varint key (number << 3 | wire type);
 * wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/object/codec.h"
#include "api/object/protobuf.h"
#include "lib/mem.h"

#define MAX_DEPTH 100

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };

struct pb {
    const uint8_t *p, *end;
};

struct dec {
    struct err *e;
    unsigned depth;
};

static int bad(struct dec *d, const char *what)
{
    return err_setf(d->e, -C8S_EMALFORMED, "protobuf: %s", what);
}

static bool read_varint(struct pb *b, uint64_t *v)
{
    uint64_t x = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (b->p == b->end)
            return false;
        uint8_t c = *b->p++;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* One field: its number, wire type, and value (varint/fixed in *@num,
 * bytes in @sub). */
struct field {
    uint64_t number;
    unsigned wt;
    uint64_t num;
    struct pb sub;
};

static int next_field(struct dec *d, struct pb *b, struct field *f)
{
    uint64_t key, len;

    if (!read_varint(b, &key))
        return bad(d, "truncated field key");
    f->number = key >> 3;
    f->wt = key & 7;
    switch (f->wt) {
    case WT_VARINT:
        return read_varint(b, &f->num) ? 0 : bad(d, "truncated varint");
    case WT_FIXED64:
    case WT_FIXED32: {
        size_t n = f->wt == WT_FIXED64 ? 8 : 4;
        if ((size_t)(b->end - b->p) < n)
            return bad(d, "truncated fixed value");
        f->num = 0;
        for (size_t i = 0; i < n; i++)
            f->num |= (uint64_t)b->p[i] << (8 * i);
        b->p += n;
        return 0;
    }
    case WT_LEN:
        if (!read_varint(b, &len) || len > (uint64_t)(b->end - b->p))
            return bad(d, "length beyond the input");
        f->sub.p = b->p;
        f->sub.end = b->p + len;
        b->p += len;
        return 0;
    default:
        return bad(d, "unsupported wire type");
    }
}

/* ---- scalars --------------------------------------------------------------*/

static int str_of(struct dec *d, const struct pb *s, struct obj **ret)
{
    size_t len = (size_t)(s->end - s->p);

    if (!obj_utf8_check((const char *)s->p, len, NULL))
        return bad(d, "string is not valid UTF-8");
    *ret = obj_str_new((const char *)s->p, len);
    return *ret == NULL ? -ENOMEM : 0;
}

static int bytes_of(const struct pb *s, struct obj **ret)
{
    size_t len = (size_t)(s->end - s->p);
    char *b64 = mem_malloc(4 * ((len + 2) / 3) + 1);

    if (b64 == NULL)
        return -ENOMEM;
    int n = EVP_EncodeBlock((unsigned char *)b64, s->p, (int)len);
    *ret = obj_str_new(b64, (size_t)n);
    mem_free(b64);
    return *ret == NULL ? -ENOMEM : 0;
}

/* Go's time.Duration.String(): "1h2m3.5s", "300ms", "0s". */
static void duration_text(int64_t ns, char *out, size_t size)
{
    uint64_t u = ns < 0 ? (uint64_t)-ns : (uint64_t)ns;
    const char *sign = ns < 0 ? "-" : "";
    char frac[16] = "";

    if (u == 0) {
        snprintf(out, size, "0s");
    } else if (u < 1000000000u) {
        /* Below a second: the largest of ns, µs, ms that fits. */
        const char *unit = u < 1000 ? "ns" : u < 1000000 ? "µs" : "ms";
        uint64_t div = u < 1000 ? 1 : u < 1000000 ? 1000 : 1000000;
        snprintf(frac, sizeof frac, ".%0*" PRIu64,
                 div == 1      ? 0
                 : div == 1000 ? 3
                               : 6,
                 u % div);
        /* trim trailing zeros of the fraction */
        size_t fl = strlen(frac);
        while (fl > 1 && frac[fl - 1] == '0')
            frac[--fl] = '\0';
        if (fl == 1)
            frac[0] = '\0';
        snprintf(out, size, "%s%" PRIu64 "%s%s", sign, u / div, frac, unit);
    } else {
        uint64_t secs = u / 1000000000u, nanos = u % 1000000000u;
        uint64_t h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
        if (nanos != 0) {
            snprintf(frac, sizeof frac, ".%09" PRIu64, nanos);
            size_t fl = strlen(frac);
            while (frac[fl - 1] == '0')
                frac[--fl] = '\0';
        }
        if (h > 0)
            snprintf(out, size, "%s%" PRIu64 "h%" PRIu64 "m%" PRIu64 "%ss",
                     sign, h, m, s, frac);
        else if (m > 0)
            snprintf(out, size, "%s%" PRIu64 "m%" PRIu64 "%ss", sign, m, s,
                     frac);
        else
            snprintf(out, size, "%s%" PRIu64 "%ss", sign, s, frac);
    }
}

/* A message of known shape: quantity, intstr, time, duration, any. The
 * result is NULL (with 0) for a zero time, which JSON leaves out. */
static int special_of(struct dec *d,
                      enum obj_stype_kind kind,
                      struct pb s,
                      struct obj **ret)
{
    struct field f;
    int64_t secs = 0, nanos = 0, ival = 0, type = 0;
    struct pb str = {NULL, NULL};
    bool have_str = false;
    int rv;

    *ret = NULL;
    while (s.p < s.end) {
        if ((rv = next_field(d, &s, &f)) != 0)
            return rv;
        if (f.wt == WT_LEN && (f.number == 1 || f.number == 3)) {
            str = f.sub;
            have_str = true;
        } else if (f.wt == WT_VARINT && f.number == 1) {
            secs = type = (int64_t)f.num;
        } else if (f.wt == WT_VARINT && f.number == 2) {
            nanos = ival = (int32_t)f.num;
        }
    }
    switch (kind) {
    case OBJ_ST_QUANTITY:
        return have_str ? str_of(d, &str, ret) : 0;
    case OBJ_ST_INTSTR:
        if (type == 1)
            return have_str ? str_of(d, &str, ret)
                            : ((*ret = obj_str_new_c("")) ? 0 : -ENOMEM);
        *ret = obj_int_new(ival);
        return *ret == NULL ? -ENOMEM : 0;
    case OBJ_ST_TIME:
    case OBJ_ST_MICROTIME: {
        char buf[64];
        struct tm tm;
        time_t t = (time_t)secs;
        if (secs == 0 && nanos == 0)
            return 0;
        if (gmtime_r(&t, &tm) == NULL)
            return bad(d, "time out of range");
        size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        if (kind == OBJ_ST_MICROTIME)
            snprintf(buf + n, sizeof buf - n, ".%06dZ", (int)(nanos / 1000));
        else
            snprintf(buf + n, sizeof buf - n, "Z");
        *ret = obj_str_new_c(buf);
        return *ret == NULL ? -ENOMEM : 0;
    }
    case OBJ_ST_DURATION: {
        char buf[64];
        duration_text(secs, buf, sizeof buf);
        *ret = obj_str_new_c(buf);
        return *ret == NULL ? -ENOMEM : 0;
    }
    default: /* any: RawExtension{raw = 1}, JSON text */
        if (!have_str || str.p == str.end)
            return 0;
        if (obj_json_decode((const char *)str.p, (size_t)(str.end - str.p),
                            NULL, ret, d->e) != 0)
            return bad(d, "raw extension is not JSON");
        return 0;
    }
}

/* ---- values
 * ----------------------------------------------------------------*/

static int decode_struct(struct dec *d,
                         const struct obj_sstruct *st,
                         int in,
                         struct pb b,
                         struct obj *m);

static bool is_varint_kind(enum obj_stype_kind k)
{
    return k == OBJ_ST_INT32 || k == OBJ_ST_INT64 || k == OBJ_ST_BOOL;
}

/* One value of scalar or message type @t from field @f. */
static int value_of(struct dec *d,
                    const struct obj_stype *t,
                    const struct field *f,
                    struct obj **ret)
{
    *ret = NULL;
    switch (t->kind) {
    case OBJ_ST_STRING:
        if (f->wt != WT_LEN)
            return bad(d, "string field with a numeric wire type");
        return str_of(d, &f->sub, ret);
    case OBJ_ST_BYTES:
        if (f->wt != WT_LEN)
            return bad(d, "bytes field with a numeric wire type");
        return bytes_of(&f->sub, ret);
    case OBJ_ST_INT32:
    case OBJ_ST_INT64:
    case OBJ_ST_BOOL:
        if (f->wt != WT_VARINT)
            return bad(d, "integer field with a wrong wire type");
        *ret = t->kind == OBJ_ST_BOOL    ? obj_bool_new(f->num != 0)
               : t->kind == OBJ_ST_INT32 ? obj_int_new((int32_t)f->num)
                                         : obj_int_new((int64_t)f->num);
        return *ret == NULL ? -ENOMEM : 0;
    case OBJ_ST_DOUBLE: {
        double v;
        if (f->wt != WT_FIXED64)
            return bad(d, "double field with a wrong wire type");
        memcpy(&v, &f->num, sizeof v);
        *ret = obj_float_new(v);
        return *ret == NULL ? -ENOMEM : 0;
    }
    case OBJ_ST_STRUCT: {
        if (f->wt != WT_LEN)
            return bad(d, "message field with a numeric wire type");
        if (++d->depth > MAX_DEPTH)
            return bad(d, "nested too deeply");
        struct obj *m = obj_map_new();
        int rv = m == NULL ? -ENOMEM : decode_struct(d, t->st, 0, f->sub, m);
        d->depth--;
        if (rv != 0) {
            obj_unref(m);
            return rv;
        }
        *ret = m;
        return 0;
    }
    default:
        if (f->wt != WT_LEN)
            return bad(d, "message field with a numeric wire type");
        return special_of(d, t->kind, f->sub, ret);
    }
}

/* Whether @v is the zero value Go writes for a field JSON would omit. */
static bool omitted_zero(const struct obj_sfield *sf, const struct obj *v)
{
    switch (obj_type(v)) {
    case OBJ_STRING:
        return obj_str_or(v, "x")[0] == '\0' && sf->def == NULL;
    case OBJ_INT:
        return obj_int_or(v, 1) == 0 && sf->def == NULL;
    case OBJ_BOOL:
        return !obj_bool_or(v, true) && sf->def == NULL;
    case OBJ_FLOAT:
        return obj_float_or(v, 1) == 0 && sf->def == NULL;
    default:
        return false;
    }
}

/* A map entry message {key = 1, value = 2} into map @m. */
static int map_entry(struct dec *d,
                     const struct obj_stype *vt,
                     struct pb b,
                     struct obj *m)
{
    struct field f;
    struct obj *key = NULL, *val = NULL;
    int rv = 0;

    while (rv == 0 && b.p < b.end) {
        if ((rv = next_field(d, &b, &f)) != 0)
            break;
        if (f.number == 1 && f.wt == WT_LEN) {
            key = obj_unref(key);
            rv = str_of(d, &f.sub, &key);
        } else if (f.number == 2) {
            val = obj_unref(val);
            rv = value_of(d, vt, &f, &val);
        }
    }
    if (rv == 0 && val == NULL) /* an absent value is the zero value */
        val = vt->kind == OBJ_ST_STRUCT ? obj_map_new() : obj_str_new_c("");
    if (rv == 0 &&
        (val == NULL ||
         (rv = obj_map_set(m, key ? obj_str_or(key, "") : "", val)) == 0))
        val = NULL;
    obj_unref(key);
    obj_unref(val);
    return rv;
}

/* Packed repeated numbers. */
static int packed(struct dec *d,
                  const struct obj_stype *et,
                  struct pb b,
                  struct obj *arr)
{
    while (b.p < b.end) {
        struct field f = {.wt = et->kind == OBJ_ST_DOUBLE ? WT_FIXED64
                                                          : WT_VARINT};
        struct obj *v;
        int rv;
        if (f.wt == WT_VARINT && !read_varint(&b, &f.num))
            return bad(d, "truncated packed varint");
        if (f.wt == WT_FIXED64) {
            if (b.end - b.p < 8)
                return bad(d, "truncated packed double");
            memcpy(&f.num, b.p, 8);
            b.p += 8;
        }
        if ((rv = value_of(d, et, &f, &v)) != 0 ||
            (rv = obj_array_append(arr, v)) != 0) {
            obj_unref(v);
            return rv;
        }
    }
    return 0;
}

/* A field of list or map type: add @f's element to the container in @m. */
static int add_item(struct dec *d,
                    const struct obj_sfield *sf,
                    const struct field *f,
                    struct obj *m)
{
    const struct obj_stype *t = sf->type;
    struct obj *c = obj_map_get_mut(m, sf->name);
    struct obj *v = NULL;
    int rv;

    if (c == NULL) {
        c = t->kind == OBJ_ST_LIST ? obj_array_new() : obj_map_new();
        if (c == NULL || obj_map_set(m, sf->name, c) != 0) {
            obj_unref(c);
            return -ENOMEM;
        }
    }
    if (t->kind == OBJ_ST_MAP) {
        if (f->wt != WT_LEN)
            return bad(d, "map entry with a numeric wire type");
        return map_entry(d, t->elem, f->sub, c);
    }
    if (f->wt == WT_LEN &&
        (is_varint_kind(t->elem->kind) || t->elem->kind == OBJ_ST_DOUBLE))
        return packed(d, t->elem, f->sub, c);
    if ((rv = value_of(d, t->elem, f, &v)) != 0)
        return rv;
    if (v == NULL) /* a zero time in a list: keep the slot */
        v = obj_null();
    if ((rv = obj_array_append(c, v)) != 0)
        obj_unref(v);
    return rv;
}

/* The field of @st numbered @number in embedded message @in (0: direct),
 * or NULL. */
static const struct obj_sfield *field_at(const struct obj_sstruct *st,
                                         int in,
                                         uint64_t number)
{
    for (size_t i = 0; i < st->n_fields; i++)
        if (st->fields[i].proto_in == in &&
            (uint64_t)st->fields[i].proto == number)
            return &st->fields[i];
    return NULL;
}

static bool has_embedded(const struct obj_sstruct *st, uint64_t number)
{
    for (size_t i = 0; i < st->n_fields; i++)
        if ((uint64_t)st->fields[i].proto_in == number)
            return true;
    return false;
}

static int decode_struct(struct dec *d,
                         const struct obj_sstruct *st,
                         int in,
                         struct pb b,
                         struct obj *m)
{
    struct field f;
    int rv;

    while (b.p < b.end) {
        if ((rv = next_field(d, &b, &f)) != 0)
            return rv;
        const struct obj_sfield *sf = field_at(st, in, f.number);
        if (sf == NULL && in == 0 && f.wt == WT_LEN &&
            has_embedded(st, f.number)) {
            if ((rv = decode_struct(d, st, (int)f.number, f.sub, m)) != 0)
                return rv;
            continue;
        }
        if (sf == NULL)
            continue; /* unknown: skipped, as Go does */
        if (sf->type->kind == OBJ_ST_LIST || sf->type->kind == OBJ_ST_MAP) {
            if ((rv = add_item(d, sf, &f, m)) != 0)
                return rv;
            continue;
        }
        struct obj *v = NULL;
        if ((rv = value_of(d, sf->type, &f, &v)) != 0)
            return rv;
        if (v == NULL || omitted_zero(sf, v)) {
            obj_unref(v);
            (void)obj_map_del(m, sf->name);
            continue;
        }
        if ((rv = obj_map_set(m, sf->name, v)) != 0) {
            obj_unref(v);
            return rv;
        }
    }
    return 0;
}

/* ---- the envelope
 * ------------------------------------------------------------*/

int obj_protobuf_decode(const struct obj_schemas *s,
                        const void *data,
                        size_t len,
                        struct obj **ret,
                        struct err *e)
{
    struct dec d = {.e = e};
    struct pb b = {data, (const uint8_t *)data + len};
    struct pb raw = {NULL, NULL}, tm = {NULL, NULL};
    struct obj *apiv = NULL, *kind = NULL, *m = NULL;
    struct field f;
    char group[256], version[64];
    int rv = 0;

    *ret = NULL;
    if (len < OBJ_PROTOBUF_MAGIC_LEN ||
        memcmp(data, OBJ_PROTOBUF_MAGIC, OBJ_PROTOBUF_MAGIC_LEN) != 0)
        return bad(&d, "the body does not start with k8s\\0");
    b.p += OBJ_PROTOBUF_MAGIC_LEN;
    while (rv == 0 && b.p < b.end) {
        if ((rv = next_field(&d, &b, &f)) != 0)
            return rv;
        if (f.number == 1 && f.wt == WT_LEN)
            tm = f.sub;
        else if (f.number == 2 && f.wt == WT_LEN)
            raw = f.sub;
    }
    while (rv == 0 && tm.p != NULL && tm.p < tm.end) {
        if ((rv = next_field(&d, &tm, &f)) == 0 && f.wt == WT_LEN &&
            (f.number == 1 || f.number == 2)) {
            struct obj **slot = f.number == 1 ? &apiv : &kind;
            *slot = obj_unref(*slot);
            rv = str_of(&d, &f.sub, slot);
        }
    }
    if (rv == 0 && (apiv == NULL || kind == NULL || raw.p == NULL))
        rv = bad(&d, "the envelope has no apiVersion, kind or object");
    if (rv == 0) {
        const char *av = obj_str_or(apiv, ""), *slash = strchr(av, '/');
        snprintf(group, sizeof group, "%.*s", slash ? (int)(slash - av) : 0,
                 av);
        snprintf(version, sizeof version, "%s", slash ? slash + 1 : av);
        const struct obj_sstruct *st =
            obj_schemas_find_kind(s, group, version, obj_str_or(kind, ""));
        if (st == NULL)
            rv = err_setf(e, -ENOENT, "protobuf: no schema for %s %s", av,
                          obj_str_or(kind, ""));
        else if ((m = obj_map_new()) == NULL ||
                 obj_map_set(m, "apiVersion", apiv) != 0)
            rv = -ENOMEM;
        else if ((apiv = NULL, obj_map_set(m, "kind", kind)) != 0)
            rv = -ENOMEM;
        else
            rv = (kind = NULL, decode_struct(&d, st, 0, raw, m));
    }
    obj_unref(apiv);
    obj_unref(kind);
    if (rv != 0) {
        obj_unref(m);
        return rv == -ENOMEM ? err_setf(e, rv, "protobuf: out of memory") : rv;
    }
    *ret = m;
    return 0;
}
