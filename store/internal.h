/* store internals shared by the files of store/ (not for other modules). */
#ifndef C8S_STORE_INTERNAL_H
#define C8S_STORE_INTERNAL_H

#include <errno.h>

#include <bsd/sys/queue.h>
#include <bsd/sys/tree.h>

#include "store/store.h"

/* One key of the ordered index. Refcounted: every version of the key holds
 * a ref (its kv strings point here), and so does the index while the key is
 * in it; a version may outlive the key's removal by compaction. */
struct store__key {
    RB_ENTRY(store__key) link;  /* Position in the index tree. */
    unsigned refs;              /* Versions + 1 while in the index. */
    struct store__ver *newest;  /* Newest version (ref), NULL off the index. */
    const char *resource;       /* Points into data. */
    const char *ns;             /* Points into data. */
    const char *name;           /* Points into data. */
    char data[];                /* resource, ns and name, '\0'-terminated. */
};

/* One version of a key: the public kv plus the chain link. */
struct store__ver {
    struct store_kv kv;         /* Public part; first so casts are valid. */
    unsigned refs;              /* Owners (chain, history, callers, queues). */
    uint32_t value_crc;         /* CRC-32 of kv.value's bytes (0 for a
                                 * tombstone), computed once when the value
                                 * enters the store, so that a snapshot never
                                 * reads the values to checksum them. */
    struct store__ver *older;   /* Previous version of the key (ref), cut by
                                 * compaction once no read can reach it. */
    struct store__key *key;     /* Key strings and index node (ref). */
    char field_data[];          /* kv.field's bytes when it is not NULL. */
};

RB_HEAD(store__index, store__key);

/* The replicated state: everything a snapshot holds. */
struct store__db {
    struct store__index index;  /* Keys in (resource, ns, name) order. */
    size_t n_keys;              /* Keys in the index. */
    size_t n_live;              /* Keys whose newest version is not a
                                 * tombstone. */
    struct store__ver **hist;   /* Ring of versions in revision order: slot
                                 * i of the ring holds compact_rev + 1 + i. */
    size_t hist_head;           /* Ring index of the oldest entry. */
    size_t hist_len;            /* Entries: always current - compact. */
    size_t hist_cap;            /* Slots allocated. */
    store_rev current_rev;      /* Revision of the last mutation. */
    store_rev compact_rev;      /* Oldest readable revision. */
};

/* Watchers that share one filter key, so an event finds them in O(1).
 * Kinds: by resource, by (resource, ns), by (resource, field value); plus
 * one group of every watcher without a resource filter. */
enum store__group_kind {
    STORE__G_RESOURCE,
    STORE__G_NS,
    STORE__G_FIELD,
    STORE__G_WILD,
};

LIST_HEAD(store__watch_list, store_watch);

struct store__group {
    enum store__group_kind kind;        /* Which filter the key is. */
    const char *a;                      /* Resource (points into data). */
    const char *b;                      /* ns or field value, or NULL. */
    uint64_t hash;                      /* Hash of (kind, a, b). */
    struct store__group *next;          /* Next in the hash bucket. */
    struct store__watch_list watchers;  /* Members. */
    /* a and b follow the struct in the same allocation (no flexible array
     * member: the hub embeds one group). */
};

/* Watch hub: the group table and bookkeeping for callbacks. */
struct store__hub {
    struct store__group **buckets;      /* Hash table of groups. */
    size_t n_buckets;                   /* Power of two, or 0. */
    size_t n_groups;                    /* Groups in the table. */
    struct store__group wild;           /* Watchers with no resource. */
    struct store__watch_list all;       /* Every watcher not yet released
                                         * by store_watch_close. */
    TAILQ_HEAD(, store_watch) notify;   /* Watchers whose callback is due. */
    size_t n_open;                      /* Watchers not closed. */
    uint64_t visits;                    /* Watchers examined by fan-out (a
                                         * cost counter for tests). */
};

struct store {
    struct store_limits limits;  /* Effective limits. */
    struct store__db db;         /* Replicated state. */
    struct store__hub hub;       /* Watchers (local, not replicated). */
};

/* The queue of a watcher: a ring of events. */
struct store__queue {
    struct store_event *ev;  /* Ring storage. */
    size_t head;             /* Ring index of the oldest event. */
    size_t len;              /* Events queued. */
    size_t cap;              /* Slots allocated. */
};

struct store_watch {
    struct store *s;                  /* Owner; NULL after store_free. */
    const char *resource;             /* Filter or NULL (points into data). */
    const char *ns;                   /* Filter or NULL. */
    const char *field;                /* Filter or NULL. */
    store_watch_cb cb;                /* Caller's callback, may be NULL. */
    void *arg;                        /* Its argument. */
    struct store__queue q;            /* Pending events. */
    store_rev last_rev;               /* Last revision handed out. */
    store_rev cursor;                 /* Replay: last history rev scanned. */
    bool replaying;                   /* Still reading history (cursor <
                                       * current): live fan-out skips it. */
    bool notify_due;                  /* Linked in hub.notify. */
    int closed;                       /* 0, -C8S_ESLOW or -C8S_ESHUTDOWN. */
    struct store__group *group;       /* Group while open, else NULL. */
    LIST_ENTRY(store_watch) glink;    /* In group->watchers. */
    LIST_ENTRY(store_watch) alink;    /* In hub.all. */
    TAILQ_ENTRY(store_watch) nlink;   /* In hub.notify when notify_due. */
    char data[];                      /* Filter strings. */
};

/* ---- kv.c: versions and keys ----------------------------------------------*/

static inline struct store__ver *store__ver(const struct store_kv *kv)
{
    return (struct store__ver *)kv;
}
static inline bool store__is_tomb(const struct store__ver *v)
{
    return v->kv.value == NULL;
}
struct store__key *store__key_new(const char *resource, const char *ns,
                                  const char *name);
/* The same from counted strings (which must not contain '\0'). */
struct store__key *store__key_new_n(const char *resource, size_t lr,
                                    const char *ns, size_t ln,
                                    const char *name, size_t lm);
struct store__key *store__key_ref(struct store__key *k);
void store__key_unref(struct store__key *k);
/* New version of @key with one ref, taking over the ref on @value (NULL
 * makes a tombstone) whose CRC-32 is @value_crc. */
struct store__ver *store__ver_new(struct store__key *key, struct rbuf *value,
                                  uint32_t value_crc, const char *field,
                                  size_t field_len);
struct store__ver *store__ver_ref(struct store__ver *v);
void store__ver_unref(struct store__ver *v);
/* Version of a chain visible at @rev, NULL if none or a tombstone. */
struct store__ver *store__ver_at(struct store__ver *newest, store_rev rev);
/* Event type and previous object for the change that made @v. */
enum store_event_type store__ver_event(const struct store__ver *v,
                                       const struct store__ver **prev);

/* ---- index.c: the ordered key index ---------------------------------------*/

int store__key_cmp(const struct store__key *a, const struct store__key *b);
struct store__key *store__index_find(struct store__db *db, const char *resource,
                                     const char *ns, const char *name);
/* First key >= (resource, ns, name). */
struct store__key *store__index_nfind(struct store__db *db,
                                      const char *resource, const char *ns,
                                      const char *name);
struct store__key *store__index_next(struct store__key *k);
struct store__key *store__index_first(struct store__db *db);
/* Takes over the caller's ref. */
void store__index_insert(struct store__db *db, struct store__key *k);
/* Drops the index's ref and the key's newest version. */
void store__index_remove(struct store__db *db, struct store__key *k);

/* ---- db.c: the replicated state -------------------------------------------*/

void store__db_init(struct store__db *db);
void store__db_done(struct store__db *db);
/* Make room for @n more history entries. */
int store__hist_reserve(struct store__db *db, size_t n);
/* Append (takes a ref). Room must have been reserved. */
void store__hist_push(struct store__db *db, struct store__ver *v);
/* Entry for revision @rev, compact_rev < rev <= current_rev. */
struct store__ver *store__hist_at(const struct store__db *db, store_rev rev);
/* Pop the oldest entry, returning its ref. */
struct store__ver *store__hist_pop(struct store__db *db);
/* Check a string is a usable key part. */
bool store__valid_str(const char *s, bool may_be_empty);
/* -C8S_ECOMPACTED / -C8S_EFUTUREREV / 0 for a read at @rev (0: current),
 * with the effective revision in *eff. */
int store__check_read_rev(const struct store__db *db, store_rev rev,
                          store_rev *eff);

/* ---- watch.c / hub.c: the watch hub ---------------------------------------*/

void store__hub_init(struct store__hub *h);
void store__hub_done(struct store__hub *h);
/* Group for a key, creating it when @create. NULL if absent or -ENOMEM. */
struct store__group *store__hub_group(struct store__hub *h,
                                      enum store__group_kind kind,
                                      const char *a, const char *b,
                                      bool create);
/* Drop @g from the table if it has no watcher left. */
void store__hub_group_put(struct store__hub *h, struct store__group *g);
/* Fan out the event made by @v to matching live watchers. */
void store__watch_fanout(struct store *s, const struct store__ver *v);
/* Close one watcher with @code (queue freed, callback scheduled). */
void store__watch_kill(struct store *s, struct store_watch *w, int code);
/* Close every open watcher with @code. */
void store__watch_kill_all(struct store *s, int code);
/* Mark @w's callback due (once) for the next store__watch_notify. */
void store__watch_schedule(struct store *s, struct store_watch *w);
/* Run due callbacks. */
void store__watch_notify(struct store *s);
/* Before compacting to @rev: move history still needed by replaying
 * watchers into their queues. */
void store__watch_pre_compact(struct store *s, store_rev rev);
/* Does @w want the event (v, prev)? */
bool store__watch_matches(const struct store_watch *w,
                          const struct store__ver *v,
                          const struct store__ver *prev);

/* ---- queue.c: a watcher's event ring ------------------------------------*/

/* Append a copy of @ev taking refs on its kv and prev. -ENOMEM on growth
 * failure (nothing changes). */
int store__queue_push(struct store__queue *q, const struct store_event *ev);
/* Move the oldest event (and its refs) to @ev. The queue must not be empty. */
void store__queue_pop(struct store__queue *q, struct store_event *ev);
/* Newest event, or NULL when empty. */
struct store_event *store__queue_tail(struct store__queue *q);
/* Drop every event and the storage. */
void store__queue_done(struct store__queue *q);

/* Cost counter: watchers examined by fan-out since the store was made. */
uint64_t store__watch_visits(const struct store *s);

#endif /* C8S_STORE_INTERNAL_H */
