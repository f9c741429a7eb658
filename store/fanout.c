/* Delivering events to watchers: live fan-out and progress notifications.
 *
 * An event visits only the groups its key can match: its resource, its
 * (resource, ns), the (resource, field) of its new and previous versions,
 * and the watchers without a resource filter. So delivery costs
 * O(matching watchers), however many watch other keys. */
#include <string.h>

#include "store/internal.h"

bool store__watch_matches(const struct store_watch *w,
                          const struct store__ver *v,
                          const struct store__ver *prev)
{
    if (w->resource != NULL && strcmp(w->resource, v->kv.resource) != 0)
        return false;
    if (w->ns != NULL && strcmp(w->ns, v->kv.ns) != 0)
        return false;
    if (w->field == NULL)
        return true;
    return (v->kv.field != NULL && strcmp(w->field, v->kv.field) == 0) ||
           (prev != NULL && prev->kv.field != NULL &&
            strcmp(w->field, prev->kv.field) == 0);
}

void store__watch_schedule(struct store *s, struct store_watch *w)
{
    if (w->notify_due)
        return;
    w->notify_due = true;
    TAILQ_INSERT_TAIL(&s->hub.notify, w, nlink);
}

/* Queue @ev for @w, or close @w when it is too far behind. A failed
 * allocation closes it the same way: the txn has committed and must not
 * fail, and the watcher can resume from its last revision. */
static void deliver(struct store *s, struct store_watch *w,
                    const struct store_event *ev)
{
    bool was_empty = w->q.len == 0;

    if (w->q.len >= s->limits.watch_queue_max ||
        store__queue_push(&w->q, ev) != 0) {
        store__watch_kill(s, w, -C8S_ESLOW);
        return;
    }
    if (was_empty)
        store__watch_schedule(s, w);
}

/* Killing a watcher may free its group when it was the last member; the
 * SAFE iteration never touches the group after its last member. */
static void visit(struct store *s, struct store__group *g,
                  const struct store__ver *v, const struct store_event *ev)
{
    struct store_watch *w, *tmp;

    if (g == NULL)
        return;
    LIST_FOREACH_SAFE(w, &g->watchers, glink, tmp) {
        s->hub.visits++;
        if (!w->replaying &&
            store__watch_matches(w, v, store__ver(ev->prev)))
            deliver(s, w, ev);
    }
}

static struct store__group *find(struct store *s, enum store__group_kind kind,
                                  const char *a, const char *b)
{
    return store__hub_group(&s->hub, kind, a, b, false);
}

void store__watch_fanout(struct store *s, const struct store__ver *v)
{
    const struct store__ver *prev;
    struct store_event ev;
    const char *res = v->kv.resource, *f = v->kv.field, *pf;

    ev.type = store__ver_event(v, &prev);
    ev.rev = v->kv.mod_rev;
    ev.kv = &v->kv;
    ev.prev = prev != NULL ? &prev->kv : NULL;
    pf = prev != NULL ? prev->kv.field : NULL;
    visit(s, find(s, STORE__G_RESOURCE, res, NULL), v, &ev);
    visit(s, find(s, STORE__G_NS, res, v->kv.ns), v, &ev);
    if (f != NULL)
        visit(s, find(s, STORE__G_FIELD, res, f), v, &ev);
    if (pf != NULL && (f == NULL || strcmp(f, pf) != 0))
        visit(s, find(s, STORE__G_FIELD, res, pf), v, &ev);
    visit(s, &s->hub.wild, v, &ev);
}

void store__watch_notify(struct store *s)
{
    struct store_watch *w;

    while ((w = TAILQ_FIRST(&s->hub.notify)) != NULL) {
        TAILQ_REMOVE(&s->hub.notify, w, nlink);
        w->notify_due = false;
        if (w->cb != NULL)
            w->cb(w, w->arg);
    }
}

static void progress_one(struct store *s, struct store_watch *w)
{
    struct store_event *tail = store__queue_tail(&w->q);
    struct store_event ev = {STORE_EV_PROGRESS, s->db.current_rev, NULL,
                             NULL};

    if (tail != NULL && tail->type == STORE_EV_PROGRESS)
        tail->rev = ev.rev;
    else
        deliver(s, w, &ev);
}

/* Replaying watchers are skipped: they have not seen everything up to the
 * current revision yet, and they will reach it by themselves. */
void store_progress(struct store *s)
{
    struct store_watch *w;

    LIST_FOREACH(w, &s->hub.all, alink)
        if (w->closed == 0 && !w->replaying)
            progress_one(s, w);
    store__watch_notify(s);
}
