/* Informer: a local cache of one collection, kept in sync by list and
 * watch, calling the caller's handlers for every change (client-go's
 * reflector, store and indexer in one).
 *
 * It lists first (in pages), then watches from the list's resourceVersion.
 * A watch that can no longer resume (history compacted) triggers a fresh
 * list, which is compared with the cache so the handlers see exactly the
 * changes that happened meanwhile: no duplicate, none missing. Connection
 * losses and failovers are handled by the watch (c8s/watch.h).
 *
 * Everything happens inside c8s_informer_run(), on the caller's thread:
 * handlers run there, and the cache may be read between runs and from the
 * handlers. Objects passed to handlers and returned by lookups belong to
 * the cache: valid until the next run, or longer with c8s_obj_ref. */
#ifndef C8S_INFORMER_H
#define C8S_INFORMER_H

#include <stdbool.h>
#include <stddef.h>

#include <c8s/client.h>
#include <c8s/errors.h>
#include <c8s/object.h>

struct c8s_informer;

struct c8s_informer_handlers {
    void (*on_add)(void *data, const struct c8s_obj *obj);
    /* Also called with old == new for every object each resync period. */
    void (*on_update)(void *data, const struct c8s_obj *old_obj,
                      const struct c8s_obj *new_obj);
    void (*on_delete)(void *data, const struct c8s_obj *obj);
    void *data;
};

struct c8s_informer_opts {
    const char *path; /* The collection, e.g. "/api/v1/pods" or
                       * "/apis/apps/v1/namespaces/ns/deployments", with
                       * labelSelector/fieldSelector in the query if any. */
    int page_size;    /* Objects per LIST page; 0: 500. */
    int resync_ms;    /* Replay every object as an update this often;
                       * 0: never. */
};

int c8s_informer_new(struct c8s_client *c, const struct c8s_informer_opts *o,
                     const struct c8s_informer_handlers *h,
                     struct c8s_informer **ret, struct c8s_error *err);

void c8s_informer_free(struct c8s_informer *inf);

/* Keep the cache in sync for @timeout_ms, calling the handlers. 0 when the
 * time is up; an error only when the server refuses the list or watch
 * (-EPERM, -C8S_ENOTFOUND, ...) or, before the first sync, cannot be
 * reached. Once synced, waits between failed relists end with the call;
 * what can outlast @timeout_ms is one list (the client's timeout_ms per
 * page) or one opening of the watch (see c8s_watch_next). */
int c8s_informer_run(struct c8s_informer *inf, int timeout_ms,
                     struct c8s_error *err);

/* Has the first list completed? */
bool c8s_informer_synced(const struct c8s_informer *inf);

/* The revision the cache reflects: the last event's or bookmark's. */
const char *c8s_informer_resource_version(const struct c8s_informer *inf);

/* How many lists were made (1 + relists after compaction). */
unsigned c8s_informer_lists(const struct c8s_informer *inf);

size_t c8s_informer_len(const struct c8s_informer *inf);

/* The cached object @ns/@name (@ns NULL or "" for cluster-scoped ones), or
 * NULL. */
const struct c8s_obj *c8s_informer_get(const struct c8s_informer *inf,
                                       const char *ns, const char *name);

/* Call @fn for each cached object in namespace/name order; stops at and
 * returns the first nonzero value @fn returns. */
int c8s_informer_foreach(const struct c8s_informer *inf,
                         int (*fn)(void *data, const struct c8s_obj *o),
                         void *data);

/* ---- indexes ----
 * An index maps values computed from each object (its namespace, a
 * label's value, anything) to the objects. The function writes up to @max
 * values (strings that live as long as @o, or static) and returns how many. */
typedef size_t (*c8s_index_fn)(const struct c8s_obj *o, const char **values,
                               size_t max, void *data);

/* Add an index named @name (before the first run). */
int c8s_informer_add_index(struct c8s_informer *inf, const char *name,
                           c8s_index_fn fn, void *data);

/* Ready-made index functions: the namespace; the value of the label whose
 * key is @data (a const char *). */
size_t c8s_index_namespace(const struct c8s_obj *o, const char **values,
                           size_t max, void *data);
size_t c8s_index_label(const struct c8s_obj *o, const char **values,
                       size_t max, void *data);

/* Call @fn for each object whose index @name has @value; like foreach.
 * -C8S_ENOTFOUND if there is no such index. */
int c8s_informer_by_index(const struct c8s_informer *inf, const char *name,
                          const char *value,
                          int (*fn)(void *data, const struct c8s_obj *o),
                          void *data);

#endif /* C8S_INFORMER_H */
