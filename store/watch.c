/* Watchers: open, replay from history, take events, close.
 *
 * A watcher that starts below the current revision first replays history
 * (replaying == true) and is skipped by live fan-out meanwhile; every event
 * is in history the moment it is applied, so replay alone reaches the
 * current revision, after which live fan-out takes over with no gap and no
 * duplicate. The watcher is in its group from the start so that switching
 * to live delivery needs no allocation. */
#include <string.h>

#include "lib/mem.h"
#include "store/internal.h"

/* History events queued per refill while replaying, so a long replay does
 * not hold a whole queue's worth of events at once. */
#define REPLAY_BATCH 1024

static char *copy_opt(char **dst, const char *src)
{
    size_t n;

    if (src == NULL)
        return NULL;
    n = strlen(src) + 1;
    memcpy(*dst, src, n);
    *dst += n;
    return *dst - n;
}

static size_t opt_len(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

static struct store_watch *watch_alloc(const struct store_watch_opts *o)
{
    size_t n = opt_len(o->resource) + opt_len(o->ns) + opt_len(o->field);
    struct store_watch *w = mem_malloc(sizeof *w + n);
    char *p;

    if (w == NULL)
        return NULL;
    memset(w, 0, sizeof *w);
    p = w->data;
    w->resource = copy_opt(&p, o->resource);
    w->ns = copy_opt(&p, o->ns);
    w->field = copy_opt(&p, o->field);
    w->cb = o->cb;
    w->arg = o->arg;
    return w;
}

/* The single group whose key this watcher's filter names. */
static struct store__group *join_group(struct store *s,
                                       const struct store_watch *w)
{
    if (w->resource == NULL)
        return &s->hub.wild;
    if (w->field != NULL)
        return store__hub_group(&s->hub, STORE__G_FIELD, w->resource,
                                w->field, true);
    if (w->ns != NULL)
        return store__hub_group(&s->hub, STORE__G_NS, w->resource, w->ns,
                                true);
    return store__hub_group(&s->hub, STORE__G_RESOURCE, w->resource, NULL,
                            true);
}

/* Queue matching history after the cursor, up to @limit. With @force every
 * event up to @limit must be queued (compaction is about to drop them): a
 * full queue or a failed allocation then closes the watcher. */
static int replay(struct store *s, struct store_watch *w, store_rev limit,
                  size_t batch, bool force)
{
    size_t pushed = 0;
    int rv = 0;

    while (w->cursor < limit && (force || pushed < batch)) {
        const struct store__ver *v = store__hist_at(&s->db, w->cursor + 1);
        const struct store__ver *prev;
        struct store_event ev;

        ev.type = store__ver_event(v, &prev);
        ev.rev = v->kv.mod_rev;
        ev.kv = &v->kv;
        ev.prev = prev != NULL ? &prev->kv : NULL;
        if (store__watch_matches(w, v, prev)) {
            if (w->q.len >= s->limits.watch_queue_max)
                rv = -C8S_ESLOW;
            else
                rv = store__queue_push(&w->q, &ev);
            if (rv != 0)
                break;
            pushed++;
        }
        w->cursor++;
    }
    if (w->cursor == s->db.current_rev)
        w->replaying = false;
    if (rv != 0 && force)
        store__watch_kill(s, w, -C8S_ESLOW);
    return rv;
}

static size_t replay_batch(const struct store *s)
{
    return s->limits.watch_queue_max < REPLAY_BATCH
               ? s->limits.watch_queue_max
               : REPLAY_BATCH;
}

static int check_start(const struct store *s, store_rev after)
{
    if (after > s->db.current_rev)
        return -C8S_EFUTUREREV;
    if (after < s->db.compact_rev)
        return -C8S_ETOOOLD;
    return 0;
}

static int start(struct store *s, struct store_watch *w, store_rev after)
{
    w->s = s;
    w->last_rev = w->cursor = after;
    w->replaying = w->cursor < s->db.current_rev;
    w->group = join_group(s, w);
    if (w->group == NULL)
        return -ENOMEM;
    if (w->replaying &&
        replay(s, w, s->db.current_rev, replay_batch(s), false) != 0) {
        store__queue_done(&w->q);
        store__hub_group_put(&s->hub, w->group);
        return -ENOMEM;
    }
    LIST_INSERT_HEAD(&w->group->watchers, w, glink);
    LIST_INSERT_HEAD(&s->hub.all, w, alink);
    s->hub.n_open++;
    return 0;
}

int store_watch_open(struct store *s, const struct store_watch_opts *o,
                     struct store_watch **ret)
{
    struct store_watch *w;
    store_rev after = o->from_current ? s->db.current_rev : o->after_rev;
    int rv = check_start(s, after);

    if (rv != 0)
        return rv;
    if ((o->resource != NULL && o->resource[0] == '\0'))
        return -EINVAL;
    w = watch_alloc(o);
    if (w == NULL)
        return -ENOMEM;
    rv = start(s, w, after);
    if (rv != 0) {
        mem_free(w);
        return rv;
    }
    *ret = w;
    return 0;
}

int store_watch_next(struct store_watch *w, struct store_event *ev)
{
    int rv = 0;

    if (w->closed != 0)
        return w->closed;
    if (w->q.len == 0 && w->replaying)
        rv = replay(w->s, w, w->s->db.current_rev, replay_batch(w->s), false);
    if (w->q.len == 0)
        return rv != 0 ? rv : -EAGAIN;
    store__queue_pop(&w->q, ev);
    w->last_rev = ev->rev;
    return 0;
}

store_rev store_watch_last_rev(const struct store_watch *w)
{
    return w->last_rev;
}

/* Leave the group and the open count; the queue goes too. */
static void detach(struct store *s, struct store_watch *w)
{
    LIST_REMOVE(w, glink);
    store__hub_group_put(&s->hub, w->group);
    w->group = NULL;
    s->hub.n_open--;
    store__queue_done(&w->q);
}

void store__watch_kill(struct store *s, struct store_watch *w, int code)
{
    if (w->closed != 0)
        return;
    detach(s, w);
    w->closed = code;
    w->replaying = false;
    store__watch_schedule(s, w);
}

void store__watch_kill_all(struct store *s, int code)
{
    struct store_watch *w;

    LIST_FOREACH(w, &s->hub.all, alink)
        store__watch_kill(s, w, code);
}

void store_watch_close(struct store_watch *w)
{
    struct store *s;

    if (w == NULL)
        return;
    s = w->s;
    if (s != NULL) {
        if (w->closed == 0)
            detach(s, w);
        if (w->notify_due)
            TAILQ_REMOVE(&s->hub.notify, w, nlink);
        LIST_REMOVE(w, alink);
    }
    store__queue_done(&w->q);
    mem_free(w);
}

void store__watch_pre_compact(struct store *s, store_rev rev)
{
    struct store_watch *w;

    LIST_FOREACH(w, &s->hub.all, alink) {
        bool was_empty = w->q.len == 0;

        if (w->closed != 0 || !w->replaying || w->cursor >= rev)
            continue;
        if (replay(s, w, rev, SIZE_MAX, true) == 0 && was_empty &&
            w->q.len > 0)
            store__watch_schedule(s, w);
    }
}
