/* Versions (struct store_kv) and keys: allocation and refcounting. */
#include <string.h>

#include "lib/mem.h"
#include "store/internal.h"

/* Copy @len bytes and a '\0' to @dst; returns the copy. */
static char *put(char *dst, const char *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len] = '\0';
    return dst;
}

struct store__key *store__key_new_n(const char *resource, size_t lr,
                                    const char *ns, size_t ln,
                                    const char *name, size_t lm)
{
    struct store__key *k;

    if (lr > SIZE_MAX / 4 || ln > SIZE_MAX / 4 || lm > SIZE_MAX / 4)
        return NULL;
    k = mem_malloc(sizeof *k + lr + ln + lm + 3);
    if (k == NULL)
        return NULL;
    memset(k, 0, sizeof *k);
    k->refs = 1;
    k->resource = put(k->data, resource, lr);
    k->ns = put(k->data + lr + 1, ns, ln);
    k->name = put(k->data + lr + ln + 2, name, lm);
    return k;
}

struct store__key *store__key_new(const char *resource, const char *ns,
                                  const char *name)
{
    return store__key_new_n(resource, strlen(resource), ns, strlen(ns), name,
                            strlen(name));
}

struct store__key *store__key_ref(struct store__key *k)
{
    k->refs++;
    return k;
}

void store__key_unref(struct store__key *k)
{
    if (k != NULL && --k->refs == 0)
        mem_free(k);
}

struct store__ver *store__ver_new(struct store__key *key, struct rbuf *value,
                                  uint32_t value_crc, const char *field,
                                  size_t field_len)
{
    size_t extra = field != NULL ? field_len + 1 : 0;
    struct store__ver *v = mem_malloc(sizeof *v + extra);

    if (v == NULL)
        return NULL;
    memset(v, 0, sizeof *v);
    v->refs = 1;
    v->key = store__key_ref(key);
    v->kv.resource = key->resource;
    v->kv.ns = key->ns;
    v->kv.name = key->name;
    v->kv.value = value;
    v->value_crc = value_crc;
    if (field != NULL) {
        memcpy(v->field_data, field, field_len);
        v->field_data[field_len] = '\0';
        v->kv.field = v->field_data;
    }
    return v;
}

struct store__ver *store__ver_ref(struct store__ver *v)
{
    v->refs++;
    return v;
}

/* Frees one version and returns its older link if that was the last ref to
 * it, so a long chain is released by a loop instead of deep recursion. */
static struct store__ver *ver_free(struct store__ver *v)
{
    struct store__ver *older = v->older;

    (void)rbuf_unref(v->kv.value);
    store__key_unref(v->key);
    mem_free(v);
    if (older != NULL && --older->refs == 0)
        return older;
    return NULL;
}

void store__ver_unref(struct store__ver *v)
{
    if (v == NULL || --v->refs > 0)
        return;
    while (v != NULL)
        v = ver_free(v);
}

const struct store_kv *store_kv_ref(const struct store_kv *kv)
{
    return &store__ver_ref(store__ver(kv))->kv;
}

const struct store_kv *store_kv_unref(const struct store_kv *kv)
{
    if (kv != NULL)
        store__ver_unref(store__ver(kv));
    return NULL;
}

struct store__ver *store__ver_at(struct store__ver *newest, store_rev rev)
{
    struct store__ver *v = newest;

    while (v != NULL && v->kv.mod_rev > rev)
        v = v->older;
    if (v == NULL || store__is_tomb(v))
        return NULL;
    return v;
}

enum store_event_type store__ver_event(const struct store__ver *v,
                                       const struct store__ver **prev)
{
    if (store__is_tomb(v)) {
        *prev = v->older;
        return STORE_EV_DELETE;
    }
    if (v->kv.version == 1) {
        *prev = NULL;
        return STORE_EV_CREATE;
    }
    *prev = v->older;
    return STORE_EV_MODIFY;
}
