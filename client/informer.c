/* Informer (c8s/informer.h): the cache is a red-black tree of entries by
 * "namespace/name"; each index is a tree of (value, entry) pairs, and each
 * entry remembers its pairs so an update or delete unlinks them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/sys/tree.h>

#include <c8s/informer.h>
#include <c8s/watch.h>

#include "client/conn.h"
#include "client/internal.h"
#include "lib/mem.h"

#define MAX_INDEXES 8
#define MAX_VALUES 16 /* values one index function may give one object */
#define RELIST_BACKOFF_FIRST_MS 200
#define RELIST_BACKOFF_MAX_MS 10000

struct entry;

struct ientry {
    RB_ENTRY(ientry) node;
    char *value;
    struct entry *e;
    size_t idx; /* which index */
};

struct entry {
    RB_ENTRY(entry) node;
    char *key;
    struct c8s_obj *obj;
    struct ientry **ients; /* this entry's pairs in every index */
    size_t n_ients;
};

static int entry_cmp(const struct entry *a, const struct entry *b)
{
    return strcmp(a->key, b->key);
}

static int ientry_cmp(const struct ientry *a, const struct ientry *b)
{
    int c = strcmp(a->value, b->value);

    return c != 0 ? c : strcmp(a->e->key, b->e->key);
}

/* libbsd leaves __unused undefined (it clashes with a glibc struct member),
 * but RB_GENERATE_STATIC needs it to mark the functions we do not call. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif

RB_HEAD(entries, entry);
RB_HEAD(ientries, ientry);
RB_GENERATE_STATIC(entries, entry, node, entry_cmp)
RB_GENERATE_STATIC(ientries, ientry, node, ientry_cmp)

struct index {
    char *name;
    c8s_index_fn fn;
    void *data;
    struct ientries tree;
};

struct c8s_informer {
    struct c8s_client *c;
    char *path;
    int page_size, resync_ms;
    struct c8s_informer_handlers h;
    struct entries cache;
    size_t len;
    struct index idx[MAX_INDEXES];
    size_t n_idx;
    struct c8s_watch *watch;
    char rv[32];
    bool synced;
    unsigned lists;
    int64_t next_resync;
    int64_t relist_backoff;
    int64_t next_relist;     /* after a failed one, none before (ms) */
};

/* ---- entries and indexes ---------------------------------------------------*/

static char *key_of(const struct c8s_obj *o)
{
    const char *ns = c8s_obj_str(c8s_obj_path(o, "metadata.namespace"), "");
    const char *name = c8s_obj_str(c8s_obj_path(o, "metadata.name"), "");
    size_t len = strlen(ns) + strlen(name) + 2;
    char *k = mem_malloc(len);

    if (k != NULL)
        (void)snprintf(k, len, "%s/%s", ns, name);
    return k;
}

static void unindex(struct c8s_informer *inf, struct entry *e)
{
    for (size_t i = 0; i < e->n_ients; i++) {
        struct ientry *ie = e->ients[i];

        RB_REMOVE(ientries, &inf->idx[ie->idx].tree, ie);
        mem_free(ie->value);
        mem_free(ie);
    }
    mem_free(e->ients);
    e->ients = NULL;
    e->n_ients = 0;
}

static int index_entry(struct c8s_informer *inf, struct entry *e)
{
    for (size_t k = 0; k < inf->n_idx; k++) {
        const char *values[MAX_VALUES];
        size_t n = inf->idx[k].fn(e->obj, values, MAX_VALUES,
                                  inf->idx[k].data);
        struct ientry **grown;

        if (n > MAX_VALUES)
            n = MAX_VALUES;
        if (n == 0)
            continue;
        grown = mem_realloc(e->ients, (e->n_ients + n) * sizeof *grown);
        if (grown == NULL)
            return -ENOMEM;
        e->ients = grown;
        for (size_t v = 0; v < n; v++) {
            struct ientry *ie = mem_calloc(1, sizeof *ie);

            if (ie == NULL || (ie->value = mem_strdup(values[v])) == NULL) {
                mem_free(ie);
                return -ENOMEM;
            }
            ie->e = e;
            ie->idx = k;
            if (RB_INSERT(ientries, &inf->idx[k].tree, ie) != NULL) {
                mem_free(ie->value); /* the same value twice: once is enough */
                mem_free(ie);
                continue;
            }
            e->ients[e->n_ients++] = ie;
        }
    }
    return 0;
}

static void entry_free(struct entry *e)
{
    mem_free(e->key);
    c8s_obj_free(e->obj);
    mem_free(e);
}

static struct entry *find(const struct entries *t, const char *key)
{
    struct entry probe = {.key = (char *)key};

    return RB_FIND(entries, (struct entries *)t, &probe);
}

static const char *rv_of(const struct c8s_obj *o)
{
    return c8s_obj_str(c8s_obj_path(o, "metadata.resourceVersion"), "");
}

/* ---- handlers --------------------------------------------------------------*/

static void call_add(struct c8s_informer *inf, const struct c8s_obj *o)
{
    if (inf->h.on_add != NULL)
        inf->h.on_add(inf->h.data, o);
}

static void call_update(struct c8s_informer *inf, const struct c8s_obj *a,
                        const struct c8s_obj *b)
{
    if (inf->h.on_update != NULL)
        inf->h.on_update(inf->h.data, a, b);
}

static void call_delete(struct c8s_informer *inf, const struct c8s_obj *o)
{
    if (inf->h.on_delete != NULL)
        inf->h.on_delete(inf->h.data, o);
}

/* ---- applying changes ------------------------------------------------------*/

/* Put @o (ours now) in the cache and tell the handlers. */
static int upsert(struct c8s_informer *inf, struct c8s_obj *o)
{
    char *key = key_of(o);
    struct entry *e;
    int rv;

    if (key == NULL) {
        c8s_obj_free(o);
        return -ENOMEM;
    }
    e = find(&inf->cache, key);
    if (e != NULL) {
        struct c8s_obj *old = e->obj;

        mem_free(key);
        if (strcmp(rv_of(old), rv_of(o)) == 0) {
            c8s_obj_free(o); /* seen already */
            return 0;
        }
        unindex(inf, e);
        e->obj = o;
        rv = index_entry(inf, e);
        call_update(inf, old, o);
        c8s_obj_free(old);
        return rv;
    }
    e = mem_calloc(1, sizeof *e);
    if (e == NULL) {
        mem_free(key);
        c8s_obj_free(o);
        return -ENOMEM;
    }
    e->key = key;
    e->obj = o;
    RB_INSERT(entries, &inf->cache, e);
    inf->len++;
    rv = index_entry(inf, e);
    call_add(inf, o);
    return rv;
}

static void remove_entry(struct c8s_informer *inf, struct entry *e,
                         const struct c8s_obj *last)
{
    RB_REMOVE(entries, &inf->cache, e);
    inf->len--;
    unindex(inf, e);
    call_delete(inf, last != NULL ? last : e->obj);
    entry_free(e);
}

static int apply_event(struct c8s_informer *inf, struct c8s_event *ev)
{
    char *key;
    struct entry *e;

    (void)snprintf(inf->rv, sizeof inf->rv, "%s", ev->resource_version);
    if (ev->type != C8S_DELETED)
        return upsert(inf, ev->object);
    key = key_of(ev->object);
    if (key == NULL) {
        c8s_obj_free(ev->object);
        return -ENOMEM;
    }
    e = find(&inf->cache, key);
    mem_free(key);
    if (e != NULL)
        remove_entry(inf, e, ev->object);
    c8s_obj_free(ev->object);
    return 0;
}

/* ---- listing ---------------------------------------------------------------*/

static void free_tree(struct entries *t)
{
    struct entry *e, *next;

    for (e = RB_MIN(entries, t); e != NULL; e = next) {
        next = RB_NEXT(entries, t, e);
        RB_REMOVE(entries, t, e);
        entry_free(e);
    }
}

/* Every page of the collection into @t; the list's revision into @rv. */
static int list_all(struct c8s_informer *inf, struct entries *t, char *rv,
                    size_t rv_size, struct c8s_error *err)
{
    char cont[4096] = "";
    size_t plen = strlen(inf->path) + sizeof cont * 3 + 64;
    char *path = mem_malloc(plen);
    int rc = 0;

    if (path == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    do {
        struct c8s_response r = {0};
        struct c8s_obj *list = NULL;
        const struct c8s_obj *items;

        char enc[sizeof cont * 3];

        if (c8s_url_escape(cont, enc, sizeof enc) < 0) {
            rc = client__fail(err, -ENAMETOOLONG, "informer %s: continue token too "
                      "long", inf->path);
            break;
        }
        (void)snprintf(path, plen, "%s%slimit=%d%s%s", inf->path,
                       strchr(inf->path, '?') != NULL ? "&" : "?",
                       inf->page_size, enc[0] != '\0' ? "&continue=" : "",
                       enc);
        rc = c8s_request(inf->c, "GET", path, NULL, NULL, 0, &r, err);
        if (rc == 0)
            rc = c8s_obj_from_json(r.body, r.body_len, &list, err);
        c8s_response_clear(&r);
        if (rc != 0)
            break;
        items = c8s_obj_path(list, "items");
        for (size_t i = 0; rc == 0 && i < c8s_obj_len(items); i++) {
            struct entry *e = mem_calloc(1, sizeof *e);

            if (e == NULL ||
                (e->key = key_of(c8s_obj_at(items, i))) == NULL) {
                mem_free(e);
                rc = client__fail(err, -ENOMEM, "out of memory");
                break;
            }
            e->obj = c8s_obj_ref(c8s_obj_at(items, i));
            if (RB_INSERT(entries, t, e) != NULL)
                entry_free(e); /* a server listing a key twice: keep one */
        }
        (void)snprintf(rv, rv_size, "%s",
                       c8s_obj_str(c8s_obj_path(list, "metadata.resourceVersion"),
                                   ""));
        (void)snprintf(cont, sizeof cont, "%s",
                       c8s_obj_str(c8s_obj_path(list, "metadata.continue"), ""));
        c8s_obj_free(list);
    } while (rc == 0 && cont[0] != '\0');
    mem_free(path);
    return rc;
}

/* Replace the cache with a fresh list, telling the handlers what changed
 * since the cache was last right. */
static int relist(struct c8s_informer *inf, struct c8s_error *err)
{
    struct entries fresh = RB_INITIALIZER(&fresh);
    struct entry *e, *next;
    char rv[32];
    int rc = list_all(inf, &fresh, rv, sizeof rv, err);

    if (rc != 0) {
        free_tree(&fresh);
        return rc;
    }
    /* Gone since: deleted. */
    for (e = RB_MIN(entries, &inf->cache); e != NULL; e = next) {
        next = RB_NEXT(entries, &inf->cache, e);
        if (find(&fresh, e->key) == NULL)
            remove_entry(inf, e, NULL);
    }
    /* New or changed since: added or updated (upsert skips the same). */
    while ((e = RB_MIN(entries, &fresh)) != NULL) {
        RB_REMOVE(entries, &fresh, e);
        if (rc == 0)
            rc = upsert(inf, c8s_obj_ref(e->obj));
        entry_free(e);
    }
    (void)snprintf(inf->rv, sizeof inf->rv, "%s", rv);
    inf->synced = true;
    inf->lists++;
    return rc != 0 ? client__fail(err, rc, "informer %s: %s", inf->path,
                          c8s_strerror(rc))
                   : 0;
}

/* ---- running ---------------------------------------------------------------*/

static void resync(struct c8s_informer *inf)
{
    struct entry *e;

    RB_FOREACH(e, entries, &inf->cache)
        call_update(inf, e->obj, e->obj);
}

/* A bookmark says nothing under the path changed up to its revision, so
 * the cache reflects that revision too (as client-go's reflector does);
 * without this a caller waiting for a list's revision would wait for a
 * change under the path that may never come. */
static void follow_bookmarks(struct c8s_informer *inf)
{
    const char *seen = c8s_watch_resource_version(inf->watch);

    if (strtoull(seen, NULL, 10) > strtoull(inf->rv, NULL, 10) &&
        strlen(seen) < sizeof inf->rv)
        (void)snprintf(inf->rv, sizeof inf->rv, "%s", seen);
}

static bool transient(int code)
{
    return code == -C8S_EOVERLOADED || code == -C8S_EUNKNOWN ||
           code == -ETIMEDOUT || code == -ECONNREFUSED ||
           code == -ECONNRESET || code == -EPROTO || code == -EHOSTUNREACH ||
           code == -C8S_ECOMPACTED || code == -C8S_EHTTP;
}

/* List, then open the watch. Once synced, a failure waits (backing off)
 * before the next try, but never past the caller's @deadline: the
 * caller's loop may have other work (a leader lease to renew). */
static int start(struct c8s_informer *inf, int64_t deadline,
                 struct c8s_error *err)
{
    int64_t now = client__now_ms();
    int rc;

    if (now < inf->next_relist) {
        client__sleep_ms((inf->next_relist < deadline ? inf->next_relist
                                                       : deadline) - now);
        return 0;
    }
    c8s_watch_close(inf->watch);
    inf->watch = NULL;
    rc = relist(inf, err);
    if (rc == 0)
        rc = c8s_watch_open(inf->c, inf->path, inf->rv, &inf->watch, err);
    if (rc == 0) {
        inf->relist_backoff = RELIST_BACKOFF_FIRST_MS;
        return 0;
    }
    if (!transient(rc) || (!inf->synced && client__now_ms() >= deadline))
        return rc;
    if (inf->synced) /* the cache serves meanwhile: wait between calls */
        inf->next_relist = client__now_ms() + inf->relist_backoff;
    else /* the first sync: tried until the deadline, then its error */
        client__sleep_ms(inf->relist_backoff);
    inf->relist_backoff = inf->relist_backoff * 2 > RELIST_BACKOFF_MAX_MS
                              ? RELIST_BACKOFF_MAX_MS
                              : inf->relist_backoff * 2;
    return 0; /* tried again by the caller's loop */
}

int c8s_informer_run(struct c8s_informer *inf, int timeout_ms,
                     struct c8s_error *err)
{
    int64_t deadline = client__now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int rc;

    for (;;) {
        int64_t now = client__now_ms(), wait;
        struct c8s_event ev;

        if (inf->watch == NULL && (rc = start(inf, deadline, err)) != 0)
            return rc;
        if (now >= deadline)
            return 0;
        if (inf->watch == NULL)
            continue;
        if (inf->resync_ms > 0 && now >= inf->next_resync) {
            resync(inf);
            inf->next_resync = now + inf->resync_ms;
        }
        wait = deadline - now;
        if (inf->resync_ms > 0 && inf->next_resync - now < wait)
            wait = inf->next_resync - now;
        rc = c8s_watch_next(inf->watch, (int)wait, &ev, err);
        follow_bookmarks(inf);
        if (rc == 0) {
            if ((rc = apply_event(inf, &ev)) != 0)
                return client__fail(err, rc, "informer %s: %s", inf->path,
                            c8s_strerror(rc));
        } else if (rc == -C8S_ECOMPACTED) {
            c8s_watch_close(inf->watch); /* relist next time round */
            inf->watch = NULL;
        } else if (rc != -ETIMEDOUT) {
            return rc;
        }
    }
}

/* ---- setup and queries -----------------------------------------------------*/

int c8s_informer_new(struct c8s_client *c, const struct c8s_informer_opts *o,
                     const struct c8s_informer_handlers *h,
                     struct c8s_informer **ret, struct c8s_error *err)
{
    struct c8s_informer *inf;

    *ret = NULL;
    if (o == NULL || o->path == NULL || o->path[0] != '/')
        return client__fail(err, -EINVAL, "informer: the path must start with '/'");
    inf = mem_calloc(1, sizeof *inf);
    if (inf == NULL || (inf->path = mem_strdup(o->path)) == NULL) {
        mem_free(inf);
        return client__fail(err, -ENOMEM, "out of memory");
    }
    inf->c = c;
    inf->page_size = o->page_size > 0 ? o->page_size : 500;
    inf->resync_ms = o->resync_ms > 0 ? o->resync_ms : 0;
    inf->next_resync = client__now_ms() + inf->resync_ms;
    inf->relist_backoff = RELIST_BACKOFF_FIRST_MS;
    if (h != NULL)
        inf->h = *h;
    RB_INIT(&inf->cache);
    *ret = inf;
    return 0;
}

void c8s_informer_free(struct c8s_informer *inf)
{
    struct entry *e, *next;

    if (inf == NULL)
        return;
    for (e = RB_MIN(entries, &inf->cache); e != NULL; e = next) {
        next = RB_NEXT(entries, &inf->cache, e);
        RB_REMOVE(entries, &inf->cache, e);
        unindex(inf, e);
        entry_free(e);
    }
    for (size_t k = 0; k < inf->n_idx; k++)
        mem_free(inf->idx[k].name);
    c8s_watch_close(inf->watch);
    mem_free(inf->path);
    mem_free(inf);
}

bool c8s_informer_synced(const struct c8s_informer *inf)
{
    return inf->synced;
}

const char *c8s_informer_resource_version(const struct c8s_informer *inf)
{
    return inf->rv;
}

unsigned c8s_informer_lists(const struct c8s_informer *inf)
{
    return inf->lists;
}

size_t c8s_informer_len(const struct c8s_informer *inf)
{
    return inf->len;
}

const struct c8s_obj *c8s_informer_get(const struct c8s_informer *inf,
                                       const char *ns, const char *name)
{
    char key[512];
    struct entry *e;

    if ((size_t)snprintf(key, sizeof key, "%s/%s", ns != NULL ? ns : "",
                         name) >= sizeof key)
        return NULL;
    e = find(&inf->cache, key);
    return e != NULL ? e->obj : NULL;
}

int c8s_informer_foreach(const struct c8s_informer *inf,
                         int (*fn)(void *data, const struct c8s_obj *o),
                         void *data)
{
    struct entry *e;
    int rc;

    RB_FOREACH(e, entries, (struct entries *)&inf->cache)
        if ((rc = fn(data, e->obj)) != 0)
            return rc;
    return 0;
}

int c8s_informer_add_index(struct c8s_informer *inf, const char *name,
                           c8s_index_fn fn, void *data)
{
    struct index *ix;

    if (inf->n_idx == MAX_INDEXES || inf->len > 0)
        return inf->len > 0 ? -EBUSY : -ENOSPC;
    ix = &inf->idx[inf->n_idx];
    if ((ix->name = mem_strdup(name)) == NULL)
        return -ENOMEM;
    ix->fn = fn;
    ix->data = data;
    RB_INIT(&ix->tree);
    inf->n_idx++;
    return 0;
}

size_t c8s_index_namespace(const struct c8s_obj *o, const char **values,
                           size_t max, void *data)
{
    (void)data;
    if (max == 0)
        return 0;
    values[0] = c8s_obj_str(c8s_obj_path(o, "metadata.namespace"), "");
    return 1;
}

size_t c8s_index_label(const struct c8s_obj *o, const char **values,
                       size_t max, void *data)
{
    const struct c8s_obj *labels = c8s_obj_path(o, "metadata.labels");
    const char *key = data;

    for (size_t i = 0; max > 0 && i < c8s_obj_len(labels); i++)
        if (strcmp(c8s_obj_key(labels, i), key) == 0) {
            values[0] = c8s_obj_str(c8s_obj_at(labels, i), "");
            return 1;
        }
    return 0;
}

int c8s_informer_by_index(const struct c8s_informer *inf, const char *name,
                          const char *value,
                          int (*fn)(void *data, const struct c8s_obj *o),
                          void *data)
{
    for (size_t k = 0; k < inf->n_idx; k++) {
        char empty[1] = "";
        struct entry first = {.key = empty};
        struct ientry probe = {.value = (char *)value, .e = &first};
        struct ientries *t = (struct ientries *)&inf->idx[k].tree;
        struct ientry *ie;
        int rc;

        if (strcmp(inf->idx[k].name, name) != 0)
            continue;
        for (ie = RB_NFIND(ientries, t, &probe);
             ie != NULL && strcmp(ie->value, value) == 0;
             ie = RB_NEXT(ientries, t, ie))
            if ((rc = fn(data, ie->e->obj)) != 0)
                return rc;
        return 0;
    }
    return -C8S_ENOTFOUND;
}
