/* WATCH: a chunked stream of {"type":..., "object":...} lines fed by a
 * store watcher.
 *
 * The store notifies from inside its txn (during raft's apply), where no
 * I/O may happen, so a notified watch is only put on a ready list; a
 * uv_check hook drains ready watches once per loop iteration. A consumer
 * whose unsent output passes SRV_WATCH_MAX_QUEUED is cut off: it resumes
 * from its last resourceVersion, as clients do after any error. A long
 * replay of history does not count as slow: draining pauses when
 * SRV_WATCH_PAUSE_QUEUED bytes wait on the connection and goes on once
 * half of them are sent, so a backlog of any size streams at the pace of
 * the reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/object/selector.h"
#include "api/server/metrics.h"
#include "api/server/objects.h"
#include "lib/container.h"
#include "lib/log.h"
#include "lib/mem.h"

#define SRV_WATCH_MAX_QUEUED (8u << 20)
#define SRV_WATCH_PAUSE_QUEUED (1u << 20)
#define BOOKMARK_PERIOD_MS 10000


struct srv_watch {
    struct srv_api *api;        /* Owner. */
    struct srv_call *c;         /* Request, route and resource. */
    struct srv_filter f;        /* Selectors. */
    struct store_watch *sw;     /* Store watcher, or NULL. */
    bool bookmarks;             /* allowWatchBookmarks=true. */
    struct srv_table table;     /* Events carry one-row Tables. */
    bool columns_sent;          /* The first Table event had the columns. */
    bool ready;                 /* On api->ready. */
    bool paused;                /* Output backed up; drained later. */
    bool ended;                 /* Stream ended; waiting to be freed. */
    uv_timer_t timeout;         /* timeoutSeconds. */
    bool timer_open;            /* timeout initialised. */
    struct srv_watch *next;     /* In api->watches. */
    struct srv_watch *next_ready; /* In api->ready. */
};

/* ---- lifetime ----------------------------------------------------------*/

static void unlink_watch(struct srv_watch *w)
{
    struct srv_watch **p;

    for (p = &w->api->watches; *p != NULL; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    for (p = &w->api->ready; *p != NULL; p = &(*p)->next_ready)
        if (*p == w) {
            *p = w->next_ready;
            break;
        }
}

static void timer_closed(uv_handle_t *h)
{
    struct srv_watch *w = h->data;

    mem_free(w);
}

/* Stop watching; @end ends the HTTP stream too (not when aborted). */
static void watch_end(struct srv_watch *w, bool end_stream)
{
    if (w->ended)
        return;
    w->ended = true;
    if (w->paused)
        w->api->watches_paused--;
    w->paused = false;
    srv_metrics_watchers(w->api->metrics, -1);
    unlink_watch(w);
    if (w->sw != NULL)
        store_watch_close(w->sw);
    w->sw = NULL;
    srv__filter_done(&w->f);
    if (end_stream)
        (void)srv_stream_end(w->c->req);
    srv__call_free(w->c);
    w->c = NULL;
    if (w->timer_open)
        uv_close((uv_handle_t *)&w->timeout, timer_closed);
    else
        mem_free(w);
}

static void client_gone(struct srv_req *req)
{
    struct srv_watch *w = req->data;

    req->data = NULL;
    if (w != NULL)
        watch_end(w, true);
}

/* ---- events ------------------------------------------------------------*/

/* Write one event line; false if the watch had to be ended. */
static bool send_event(struct srv_watch *w, const char *type,
                       const struct obj *o)
{
    struct obj_buf b;
    int rv;

    obj_buf_init(&b);
    rv = obj_buf_append(&b, "{\"type\":\"", 9);
    rv |= obj_buf_append(&b, type, strlen(type));
    rv |= obj_buf_append(&b, "\",\"object\":", 11);
    if (w->table.on && strcmp(type, "ERROR") != 0 &&
        strcmp(type, "BOOKMARK") != 0) {
        /* kubectl keeps the columns of the first event (or the list). */
        w->table.now = (int64_t)time(NULL);
        rv |= srv__table_one(&w->table, (struct obj *)o, !w->columns_sent,
                             &b);
        w->columns_sent = true;
    } else {
        rv |= obj_json_encode(o, 0, &b, NULL);
    }
    rv |= obj_buf_append(&b, "}\n", 2);
    if (rv == 0)
        rv = srv_stream_write(w->c->req, b.data, b.len);
    obj_buf_done(&b);
    if (rv == 0 && srv_req_queued(w->c->req) > SRV_WATCH_MAX_QUEUED) {
        log_info("api", "closing a watch of %s: the client reads too slowly",
                 w->c->res->resource);
        w->c->req->data = NULL;
        srv_req_abort(w->c->req);
        watch_end(w, false);
        return false;
    }
    if (rv != 0) {
        watch_end(w, rv != -C8S_ESLOW);
        return false;
    }
    return true;
}

static bool send_error(struct srv_watch *w, int code, const char *reason,
                       const char *msg)
{
    struct obj *st = obj_map_new(), *meta = obj_map_new();
    bool ok;

    (void)srv__set_str(st, "kind", "Status");
    (void)srv__set_str(st, "apiVersion", "v1");
    (void)obj_map_set(st, "metadata", meta);
    (void)srv__set_str(st, "status", "Failure");
    (void)srv__set_str(st, "message", msg);
    (void)srv__set_str(st, "reason", reason);
    (void)obj_map_set(st, "code", obj_int_new(code));
    ok = send_event(w, "ERROR", st);
    obj_unref(st);
    return ok;
}

static bool send_bookmark(struct srv_watch *w, store_rev rev)
{
    char apiv[300], rv[24];
    struct obj *o = obj_map_new(), *meta = obj_map_new();
    bool ok;

    srv__api_version(w->c->res, apiv, sizeof apiv);
    (void)snprintf(rv, sizeof rv, "%llu", (unsigned long long)rev);
    (void)srv__set_str(o, "kind", w->c->res->kind);
    (void)srv__set_str(o, "apiVersion", apiv);
    (void)srv__set_str(meta, "resourceVersion", rv);
    (void)obj_map_set(o, "metadata", meta);
    ok = send_event(w, "BOOKMARK", o);
    obj_unref(o);
    return ok;
}

/* Turn one store event into what this watcher sees: a change that makes an
 * object match a field selector is ADDED, one that makes it stop matching
 * is DELETED (with the previous object at the new revision). */
static bool send_change(struct srv_watch *w, const struct store_event *ev)
{
    const struct obj_resource *res = w->c->res;
    struct obj *now = NULL, *before = NULL;
    bool now_in, before_in, ok = true;

    if (ev->kv->value != NULL)
        now = srv__obj_load(w->c->api, res, ev->kv, ev->rev);
    if (ev->prev != NULL && ev->prev->value != NULL)
        before = srv__obj_load(w->c->api, res, ev->prev, ev->rev);
    now_in = now != NULL && srv__filter_match(&w->f, now);
    before_in = before != NULL && srv__filter_match(&w->f, before);
    if (now_in && before_in)
        ok = send_event(w, "MODIFIED", now);
    else if (now_in)
        ok = send_event(w, "ADDED", now);
    else if (before_in)
        ok = send_event(w, "DELETED", before);
    obj_unref(now);
    obj_unref(before);
    return ok;
}

/* Deliver everything queued for @w; false if it ended. */
static bool drain_one(struct srv_watch *w)
{
    struct store_event ev;
    int rv;

    for (;;) {
        if (srv_req_queued(w->c->req) > SRV_WATCH_PAUSE_QUEUED) {
            w->paused = true; /* on_drain resumes it as output goes */
            w->api->watches_paused++;
            return true;
        }
        if ((rv = store_watch_next(w->sw, &ev)) != 0)
            break;
        bool ok = ev.type == STORE_EV_PROGRESS
                      ? (!w->bookmarks || send_bookmark(w, ev.rev))
                      : send_change(w, &ev);
        store_event_done(&ev);
        if (!ok)
            return false;
    }
    if (rv == -EAGAIN)
        return true;
    /* The store closed us (too slow, shutting down): end the stream; the
     * client resumes from its last resourceVersion. */
    watch_end(w, true);
    return false;
}

/* Paused watches whose output has gone down by half go back to ready. */
static void resume_paused(struct srv_api *api)
{
    for (struct srv_watch *w = api->watches; w != NULL && api->watches_paused;
         w = w->next) {
        if (!w->paused ||
            srv_req_queued(w->c->req) > SRV_WATCH_PAUSE_QUEUED / 2)
            continue;
        w->paused = false;
        api->watches_paused--;
        if (!w->ready) {
            w->ready = true;
            w->next_ready = api->ready;
            api->ready = w;
        }
    }
}

static void on_drain(uv_check_t *h)
{
    struct srv_api *api = container_of(h, struct srv_api, watch_drain);

    if (api->watches_paused > 0)
        resume_paused(api);

    while (api->ready != NULL) {
        struct srv_watch *w = api->ready;
        api->ready = w->next_ready;
        w->ready = false;
        (void)drain_one(w);
    }
}

static void on_store_event(struct store_watch *sw, void *arg)
{
    struct srv_watch *w = arg;

    (void)sw;
    if (w->ready || w->ended || w->paused)
        return;
    w->ready = true;
    w->next_ready = w->api->ready;
    w->api->ready = w;
}

static void on_bookmarks(uv_timer_t *t)
{
    struct srv_api *api = container_of(t, struct srv_api, bookmarks);

    if (api->watches != NULL)
        store_progress(repl_store(api->repl));
}

static void ensure_hooks(struct srv_api *api)
{
    if (!api->watch_drain_open) {
        uv_check_init(api->loop, &api->watch_drain);
        uv_check_start(&api->watch_drain, on_drain);
        uv_unref((uv_handle_t *)&api->watch_drain);
        api->watch_drain_open = true;
    }
    if (!api->bookmarks_open) {
        uv_timer_init(api->loop, &api->bookmarks);
        uv_timer_start(&api->bookmarks, on_bookmarks, BOOKMARK_PERIOD_MS,
                       BOOKMARK_PERIOD_MS);
        uv_unref((uv_handle_t *)&api->bookmarks);
        api->bookmarks_open = true;
    }
}

/* ---- starting ------------------------------------------------------------*/

static void on_timeout(uv_timer_t *t)
{
    struct srv_watch *w = container_of(t, struct srv_watch, timeout);

    w->c->req->data = NULL;
    watch_end(w, true);
}

/* "Get state and start at most recent": the current objects as ADDED
 * events, then changes after that list's revision. */
static int send_initial(struct srv_watch *w, store_rev *ret_rev)
{
    struct store_list page = {0};
    struct store_range q = {
        .resource = w->c->res->store_prefix,
        .ns = w->c->route.has_ns ? w->c->route.ns : NULL,
    };
    int rv = store_list(repl_store(w->api->repl), &q, &page);

    *ret_rev = page.rev;
    for (size_t i = 0; rv == 0 && i < page.len; i++) {
        struct obj *o = srv__obj_load(w->c->api, w->c->res, page.items[i],
                                      page.items[i]->mod_rev);
        bool ok = o == NULL || !srv__filter_match(&w->f, o) ||
                  send_event(w, "ADDED", o);
        obj_unref(o);
        if (!ok)
            rv = -EPIPE;
    }
    store_list_done(&page);
    return rv;
}

static int open_store_watch(struct srv_watch *w, store_rev after)
{
    const char *field = NULL;
    struct store_watch_opts o = {
        .resource = w->c->res->store_prefix,
        .ns = w->c->route.has_ns ? w->c->route.ns : NULL,
        .after_rev = after,
        .cb = on_store_event,
        .arg = w,
    };

    if (w->c->res->index_field != NULL && w->f.fields != NULL &&
        obj_fsel_exact(w->f.fields, w->c->res->index_field, &field, NULL))
        o.field = field;
    return store_watch_open(repl_store(w->api->repl), &o, &w->sw);
}

static void start_timeout(struct srv_watch *w)
{
    char v[32];
    unsigned long s = 1800 + (unsigned long)(rand() % 1800);

    if (srv_query_get(w->c->req->query, "timeoutSeconds", v, sizeof v, NULL))
        s = strtoul(v, NULL, 10);
    if (s == 0)
        return;
    uv_timer_init(w->api->loop, &w->timeout);
    w->timeout.data = w;
    w->timer_open = true;
    uv_timer_start(&w->timeout, on_timeout, (uint64_t)s * 1000, 0);
}

/* Where to start from: "" and "0" mean the current state first. */
static int start_point(struct srv_watch *w, bool *initial, store_rev *after)
{
    char v[32], *end;

    *initial = true;
    *after = 0;
    if (!srv_query_get(w->c->req->query, "resourceVersion", v, sizeof v,
                       NULL) ||
        v[0] == '\0' || strcmp(v, "0") == 0)
        return 0;
    *initial = false;
    *after = strtoull(v, &end, 10);
    return *end == '\0' ? 0 : -EINVAL;
}

static void start(struct srv_watch *w)
{
    bool initial;
    store_rev after;
    char msg[128];
    int rv;

    if (start_point(w, &initial, &after) != 0) {
        (void)send_error(w, 400, "BadRequest", "invalid resourceVersion");
        watch_end(w, true);
        return;
    }
    if (initial && send_initial(w, &after) != 0)
        return; /* ended while sending */
    /* The end of the initial objects, at the revision they were read at:
     * a client that loses the stream now resumes from here, not from the
     * older revision of whichever object came last. */
    if (initial && w->bookmarks && !send_bookmark(w, after))
        return;
    rv = open_store_watch(w, after);
    if (rv == -C8S_ETOOOLD) {
        (void)snprintf(msg, sizeof msg, "too old resource version: %llu (%llu)",
                       (unsigned long long)after,
                       (unsigned long long)store_compact_rev(
                           repl_store(w->api->repl)));
        if (send_error(w, 410, "Expired", msg))
            watch_end(w, true);
        return;
    }
    if (rv != 0) {
        if (send_error(w, rv == -C8S_EFUTUREREV ? 504 : 500,
                       rv == -C8S_EFUTUREREV ? "Timeout" : "InternalError",
                       rv == -C8S_EFUTUREREV ? "Too large resource version"
                                             : err_str(rv)))
            watch_end(w, true);
        return;
    }
    /* History after @after is already queued (the store replays it); the
     * store notifies only on new writes, so drain it now rather than at the
     * next write, which may be long in coming. */
    on_store_event(w->sw, w);
    start_timeout(w);
}

int srv__watch(struct srv_call *c)
{
    struct srv_watch *w = mem_calloc(1, sizeof *w);
    char v[16];

    if (w == NULL) {
        srv__respond_code(c->req, c->res, NULL, -ENOMEM);
        srv__call_free(c);
        return -ENOMEM;
    }
    w->api = c->api;
    w->c = c;
    if (srv__filter_parse(c, &w->f) != 0) {
        srv__call_free(c);
        mem_free(w);
        return -EINVAL;
    }
    w->bookmarks = srv_query_get(c->req->query, "allowWatchBookmarks", v,
                                 sizeof v, NULL) &&
                   strcmp(v, "true") == 0;
    (void)srv__table_wanted(c, &w->table);
    ensure_hooks(c->api);
    srv_metrics_watchers(c->api->metrics, 1);
    w->next = c->api->watches;
    c->api->watches = w;
    c->req->data = w;
    srv_req_on_close(c->req, client_gone);
    if (srv_stream_begin(c->req, 200, "application/json") != 0) {
        c->req->data = NULL;
        watch_end(w, true);
        return -EPIPE;
    }
    start(w);
    return 0;
}

/* Close every watch and the hooks (server shutdown). */
void srv__watch_close_all(struct srv_api *api)
{
    while (api->watches != NULL) {
        struct srv_watch *w = api->watches;
        if (w->c != NULL)
            w->c->req->data = NULL;
        watch_end(w, true);
    }
}
