/* Maps: insertion-ordered entries, linear search while small, a hash index
 * once they grow (labels, annotations and ConfigMap data can have hundreds
 * of keys). */
#include <errno.h>
#include <string.h>

#include "api/object/internal.h"
#include "lib/mem.h"

/* Per-process hash seed taken from where the loader put this library
 * (ASLR), so it differs between runs without any system call. */
static uint32_t seed(void)
{
    static const char anchor;
    uint64_t x = (uint64_t)(uintptr_t)&anchor;

    /* A 64-bit finaliser (splitmix64) spreads the address bits. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (uint32_t)x;
}

uint32_t obj__hash(const char *key, size_t klen)
{
    /* FNV-1a started from the seed, then a final mix so the low bits used
     * by the table depend on every byte. */
    uint32_t h = 2166136261u ^ seed();

    for (size_t i = 0; i < klen; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

/* Whether entry @e holds @key. */
static bool entry_is(const struct obj_entry *e, const char *key, size_t klen,
                     uint32_t hash)
{
    return e->hash == hash && e->klen == klen &&
           memcmp(e->key, key, klen) == 0;
}

long obj__map_find(const struct obj *m, const char *key, size_t klen,
                   uint32_t hash)
{
    const uint32_t *index = m->u.map.index;

    if (index == NULL) {
        for (size_t i = 0; i < m->u.map.len; i++)
            if (entry_is(&m->u.map.items[i], key, klen, hash))
                return (long)i;
        return -1;
    }
    for (uint32_t s = hash & m->u.map.index_mask;;
         s = (s + 1) & m->u.map.index_mask) {
        uint32_t pos = index[s];

        if (pos == 0)
            return -1;
        if (entry_is(&m->u.map.items[pos - 1], key, klen, hash))
            return (long)pos - 1;
    }
}

/* Put entry @i into the index (which has a free slot). */
static void index_add(struct obj *m, size_t i)
{
    uint32_t s = m->u.map.items[i].hash & m->u.map.index_mask;

    while (m->u.map.index[s] != 0)
        s = (s + 1) & m->u.map.index_mask;
    m->u.map.index[s] = (uint32_t)i + 1;
}

/* (Re)build the index for at least @n entries, at most half full. Below the
 * threshold the index is dropped. 0 or -ENOMEM (the old index stays). */
static int index_build(struct obj *m, size_t n)
{
    size_t slots = 16;
    uint32_t *index;

    if (n <= OBJ__MAP_LINEAR_MAX) {
        mem_free(m->u.map.index);
        m->u.map.index = NULL;
        return 0;
    }
    if (n > UINT32_MAX / 4)
        return -ENOMEM;
    while (slots < 2 * n)
        slots *= 2;
    index = mem_calloc(slots, sizeof *index);
    if (index == NULL)
        return -ENOMEM;
    mem_free(m->u.map.index);
    m->u.map.index = index;
    m->u.map.index_mask = (uint32_t)(slots - 1);
    for (size_t i = 0; i < m->u.map.len; i++)
        index_add(m, i);
    return 0;
}

int obj__map_reserve(struct obj *m, size_t n)
{
    size_t cap = m->u.map.cap, need;
    struct obj_entry *items;

    if (n > UINT32_MAX / 4 - m->u.map.len)
        return -ENOMEM;
    need = m->u.map.len + n;
    if (need <= cap)
        return 0;
    cap = cap != 0 ? cap : 4;
    while (cap < need)
        cap *= 2;
    items = mem_realloc(m->u.map.items, cap * sizeof *items);
    if (items == NULL)
        return -ENOMEM;
    m->u.map.items = items;
    m->u.map.cap = cap;
    return 0;
}

int obj__map_append_owned(struct obj *m, char *key, size_t klen,
                          uint32_t hash, struct obj *v)
{
    size_t n = m->u.map.len + 1;
    struct obj_entry *e;
    int r;

    if (klen > UINT32_MAX)
        return -EINVAL;
    if ((r = obj__map_reserve(m, 1)) != 0)
        return r;
    /* Grow the index before anything changes, so failure leaves the map
     * as it was. The index is rebuilt when it would pass half full. */
    if (n > OBJ__MAP_LINEAR_MAX &&
        (m->u.map.index == NULL || 2 * n > (size_t)m->u.map.index_mask + 1) &&
        (r = index_build(m, 2 * n)) != 0)
        return r;
    e = &m->u.map.items[m->u.map.len++];
    e->key = key;
    e->klen = (uint32_t)klen;
    e->hash = hash;
    e->val = v;
    if (m->u.map.index != NULL)
        index_add(m, m->u.map.len - 1);
    return 0;
}

int obj__map_append(struct obj *m, const char *key, size_t klen,
                    uint32_t hash, struct obj *v)
{
    char *k = mem_malloc(klen + 1);
    int r;

    if (k == NULL)
        return -ENOMEM;
    memcpy(k, key, klen);
    k[klen] = '\0';
    if ((r = obj__map_append_owned(m, k, klen, hash, v)) != 0)
        mem_free(k);
    return r;
}

void obj__map_replace(struct obj *m, size_t i, struct obj *v)
{
    obj_unref(m->u.map.items[i].val);
    m->u.map.items[i].val = v;
}

size_t obj_map_len(const struct obj *m)
{
    return m != NULL && m->type == OBJ_MAP ? m->u.map.len : 0;
}

const char *obj_map_key(const struct obj *m, size_t i, size_t *ret_len)
{
    if (m == NULL || m->type != OBJ_MAP || i >= m->u.map.len)
        return NULL;
    if (ret_len != NULL)
        *ret_len = m->u.map.items[i].klen;
    return m->u.map.items[i].key;
}

struct obj *obj_map_value(const struct obj *m, size_t i)
{
    if (m == NULL || m->type != OBJ_MAP || i >= m->u.map.len)
        return NULL;
    return m->u.map.items[i].val;
}

struct obj *obj_map_getn(const struct obj *m, const char *key, size_t klen)
{
    long i;

    if (m == NULL || m->type != OBJ_MAP)
        return NULL;
    i = obj__map_find(m, key, klen, obj__hash(key, klen));
    return i < 0 ? NULL : m->u.map.items[i].val;
}

struct obj *obj_map_get(const struct obj *m, const char *key)
{
    return obj_map_getn(m, key, strlen(key));
}

int obj_map_setn(struct obj *m, const char *key, size_t klen, struct obj *v)
{
    uint32_t hash;
    long i;

    if (m->type != OBJ_MAP || !obj_utf8_check(key, klen, NULL))
        return -EINVAL;
    if (obj_is_shared(m))
        return -EBUSY;
    if (v == NULL)
        return -ENOMEM;
    hash = obj__hash(key, klen);
    i = obj__map_find(m, key, klen, hash);
    if (i >= 0) {
        obj__map_replace(m, (size_t)i, v);
        return 0;
    }
    return obj__map_append(m, key, klen, hash, v);
}

int obj_map_set(struct obj *m, const char *key, struct obj *v)
{
    return obj_map_setn(m, key, strlen(key), v);
}

int obj_map_del(struct obj *m, const char *key)
{
    size_t klen = strlen(key);
    struct obj_entry *items;
    long i;

    if (m->type != OBJ_MAP)
        return -EINVAL;
    if (obj_is_shared(m))
        return -EBUSY;
    items = m->u.map.items;
    i = obj__map_find(m, key, klen, obj__hash(key, klen));
    if (i < 0)
        return -ENOENT;
    mem_free(items[i].key);
    obj_unref(items[i].val);
    memmove(&items[i], &items[i + 1],
            (m->u.map.len - (size_t)i - 1) * sizeof *items);
    m->u.map.len--;
    /* Positions after i moved: rebuild in place (same size, so it cannot
     * need memory), or drop the index when the map is small again. */
    if (m->u.map.len <= OBJ__MAP_LINEAR_MAX) {
        (void)index_build(m, m->u.map.len);
    } else {
        memset(m->u.map.index, 0,
               ((size_t)m->u.map.index_mask + 1) * sizeof *m->u.map.index);
        for (size_t k = 0; k < m->u.map.len; k++)
            index_add(m, k);
    }
    return 0;
}

struct obj *obj_map_get_mut(struct obj *m, const char *key)
{
    size_t klen = strlen(key);
    long i;

    if (m == NULL || m->type != OBJ_MAP || obj_is_shared(m))
        return NULL;
    i = obj__map_find(m, key, klen, obj__hash(key, klen));
    if (i < 0 || obj_unshare(&m->u.map.items[i].val) != 0)
        return NULL;
    return m->u.map.items[i].val;
}
