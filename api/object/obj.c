/* Nodes: construction, references, copies, equality and typed access. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/internal.h"
#include "lib/mem.h"

/* The static nodes: shared by everyone, so null and booleans never
 * allocate. */
static struct obj null_node = {.type = OBJ_NULL, .immortal = true};
static struct obj true_node = {.type = OBJ_BOOL, .immortal = true,
                               .u.b = true};
static struct obj false_node = {.type = OBJ_BOOL, .immortal = true,
                                .u.b = false};

/* A fresh node of @type with one reference and @extra bytes after it. */
static struct obj *node_new(enum obj_type type, size_t extra)
{
    struct obj *o = mem_malloc(sizeof *o + extra);

    if (o == NULL)
        return NULL;
    memset(o, 0, sizeof *o);
    o->refs = 1;
    o->type = (uint8_t)type;
    return o;
}

struct obj *obj_null(void)
{
    return &null_node;
}

struct obj *obj_bool_new(bool v)
{
    return v ? &true_node : &false_node;
}

struct obj *obj_int_new(int64_t v)
{
    struct obj *o = node_new(OBJ_INT, 0);

    if (o != NULL)
        o->u.i = v;
    return o;
}

struct obj *obj_float_new(double v)
{
    struct obj *o = node_new(OBJ_FLOAT, 0);

    if (o != NULL)
        o->u.f = v;
    return o;
}

struct obj *obj__str_new_valid(const char *s, size_t len)
{
    struct obj *o;

    if (len > SIZE_MAX - sizeof *o - 1)
        return NULL;
    o = node_new(OBJ_STRING, len + 1);
    if (o == NULL)
        return NULL;
    o->u.str.s = (char *)(o + 1);
    o->u.str.len = len;
    if (len > 0)
        memcpy(o->u.str.s, s, len);
    o->u.str.s[len] = '\0';
    return o;
}

struct obj *obj_str_new(const char *s, size_t len)
{
    if (!obj_utf8_check(s, len, NULL))
        return NULL;
    return obj__str_new_valid(s, len);
}

struct obj *obj_str_new_c(const char *s)
{
    return obj_str_new(s, strlen(s));
}

struct obj *obj_array_new(void)
{
    return node_new(OBJ_ARRAY, 0);
}

struct obj *obj_map_new(void)
{
    return node_new(OBJ_MAP, 0);
}

/* ---- references -----------------------------------------------------------*/

struct obj *obj_ref(struct obj *o)
{
    if (!o->immortal)
        __atomic_fetch_add(&o->refs, 1, __ATOMIC_RELAXED);
    return o;
}

/* Free a node whose last reference is gone, with its own storage. */
static void node_free(struct obj *o)
{
    switch (o->type) {
    case OBJ_ARRAY:
        for (size_t i = 0; i < o->u.arr.len; i++)
            obj_unref(o->u.arr.items[i]);
        mem_free(o->u.arr.items);
        break;
    case OBJ_MAP:
        for (size_t i = 0; i < o->u.map.len; i++) {
            mem_free(o->u.map.items[i].key);
            obj_unref(o->u.map.items[i].val);
        }
        mem_free(o->u.map.items);
        mem_free(o->u.map.index);
        break;
    default:
        break;
    }
    mem_free(o);
}

struct obj *obj_unref(struct obj *o)
{
    /* Acquire-release so the thread that frees sees every other thread's
     * last reads done. Recursion depth is the tree depth, which decoders
     * bound (obj_decode_opts.max_depth). */
    if (o != NULL && !o->immortal &&
        __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0)
        node_free(o);
    return NULL;
}

bool obj_is_shared(const struct obj *o)
{
    return o->immortal || __atomic_load_n(&o->refs, __ATOMIC_ACQUIRE) > 1;
}

/* ---- copies ---------------------------------------------------------------*/

/* A new node like @o whose children are @o's children (one more reference
 * each), or deep copies of them when @deep. */
static struct obj *copy_node(const struct obj *o, bool deep)
{
    struct obj *c;

    switch (o->type) {
    case OBJ_NULL:
    case OBJ_BOOL:
        return (struct obj *)o; /* Immortal: sharing is copying. */
    case OBJ_INT:
        return obj_int_new(o->u.i);
    case OBJ_FLOAT:
        return obj_float_new(o->u.f);
    case OBJ_STRING:
        return obj__str_new_valid(o->u.str.s, o->u.str.len);
    case OBJ_ARRAY:
        c = obj_array_new();
        if (c == NULL || obj__array_reserve(c, o->u.arr.len) != 0)
            return obj_unref(c);
        for (size_t i = 0; i < o->u.arr.len; i++) {
            struct obj *e = o->u.arr.items[i];
            struct obj *v = deep ? obj_copy(e) : obj_ref(e);

            if (v == NULL)
                return obj_unref(c);
            c->u.arr.items[c->u.arr.len++] = v;
        }
        return c;
    default:
        c = obj_map_new();
        if (c == NULL || obj__map_reserve(c, o->u.map.len) != 0)
            return obj_unref(c);
        for (size_t i = 0; i < o->u.map.len; i++) {
            const struct obj_entry *e = &o->u.map.items[i];
            struct obj *v = deep ? obj_copy(e->val) : obj_ref(e->val);

            if (v == NULL ||
                obj__map_append(c, e->key, e->klen, e->hash, v) != 0) {
                obj_unref(v);
                return obj_unref(c);
            }
        }
        return c;
    }
}

struct obj *obj_copy(const struct obj *o)
{
    return copy_node(o, true);
}

int obj_unshare(struct obj **o)
{
    struct obj *c;

    if (!obj_is_shared(*o) || (*o)->immortal)
        return 0;
    c = copy_node(*o, false);
    if (c == NULL)
        return -ENOMEM;
    obj_unref(*o);
    *o = c;
    return 0;
}

/* ---- inspection -----------------------------------------------------------*/

enum obj_type obj_type(const struct obj *o)
{
    return (enum obj_type)o->type;
}

const char *obj_type_name(enum obj_type t)
{
    static const char *const names[] = {"null",   "bool",  "int", "float",
                                        "string", "array", "map"};

    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* Whether maps @a and @b hold the same keys with equal values. */
static bool map_equal(const struct obj *a, const struct obj *b)
{
    if (a->u.map.len != b->u.map.len)
        return false;
    for (size_t i = 0; i < a->u.map.len; i++) {
        const struct obj_entry *e = &a->u.map.items[i];
        long j;

        /* Same position first: trees that went through a codec keep their
         * order, so this avoids the lookup almost always. */
        if (i < b->u.map.len && b->u.map.items[i].klen == e->klen &&
            memcmp(b->u.map.items[i].key, e->key, e->klen) == 0)
            j = (long)i;
        else
            j = obj__map_find(b, e->key, e->klen, e->hash);
        if (j < 0 || !obj_equal(e->val, b->u.map.items[j].val))
            return false;
    }
    return true;
}

bool obj_equal(const struct obj *a, const struct obj *b)
{
    if (a == b)
        return true;
    if (a == NULL || b == NULL || a->type != b->type)
        return false;
    switch (a->type) {
    case OBJ_NULL:
        return true;
    case OBJ_BOOL:
        return a->u.b == b->u.b;
    case OBJ_INT:
        return a->u.i == b->u.i;
    case OBJ_FLOAT:
        /* Bitwise, so -0.0 differs from 0.0 as it does on the wire. */
        return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case OBJ_STRING:
        return a->u.str.len == b->u.str.len &&
               memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case OBJ_ARRAY:
        if (a->u.arr.len != b->u.arr.len)
            return false;
        for (size_t i = 0; i < a->u.arr.len; i++)
            if (!obj_equal(a->u.arr.items[i], b->u.arr.items[i]))
                return false;
        return true;
    default:
        return map_equal(a, b);
    }
}

bool obj_bool_or(const struct obj *o, bool def)
{
    return o != NULL && o->type == OBJ_BOOL ? o->u.b : def;
}

int64_t obj_int_or(const struct obj *o, int64_t def)
{
    return o != NULL && o->type == OBJ_INT ? o->u.i : def;
}

double obj_float_or(const struct obj *o, double def)
{
    if (o != NULL && o->type == OBJ_FLOAT)
        return o->u.f;
    if (o != NULL && o->type == OBJ_INT)
        return (double)o->u.i;
    return def;
}

const char *obj_str_or(const struct obj *o, const char *def)
{
    return o != NULL && o->type == OBJ_STRING ? o->u.str.s : def;
}

const char *obj_str(const struct obj *o, size_t *len)
{
    if (o == NULL || o->type != OBJ_STRING)
        return NULL;
    *len = o->u.str.len;
    return o->u.str.s;
}

bool obj_is_null(const struct obj *o)
{
    return o != NULL && o->type == OBJ_NULL;
}

/* ---- paths ----------------------------------------------------------------*/

/* One path step: a key in a map, a decimal index in an array. */
static struct obj *step(const struct obj *o, const char *key, size_t klen)
{
    size_t i = 0;

    if (o == NULL)
        return NULL;
    if (o->type == OBJ_MAP)
        return obj_map_getn(o, key, klen);
    if (o->type != OBJ_ARRAY || klen == 0 || klen > 18)
        return NULL;
    for (size_t k = 0; k < klen; k++) {
        if (key[k] < '0' || key[k] > '9')
            return NULL;
        i = i * 10 + (size_t)(key[k] - '0');
    }
    return obj_array_get(o, i);
}

struct obj *obj_get(const struct obj *o, ...)
{
    const char *key;
    va_list ap;

    va_start(ap, o);
    while (o != NULL && (key = va_arg(ap, const char *)) != NULL)
        o = step(o, key, strlen(key));
    va_end(ap);
    return (struct obj *)o;
}

struct obj *obj_get_path(const struct obj *o, const char *path)
{
    while (o != NULL && *path != '\0') {
        const char *dot = strchr(path, '.');
        size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);

        o = step(o, path, n);
        path += n + (dot != NULL);
    }
    return (struct obj *)o;
}
