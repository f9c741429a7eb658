/* Watch that survives (c8s/watch.h): one streaming GET at a time, read
 * line by line; when it ends or breaks, another is opened from the last
 * resourceVersion seen (events and bookmarks both advance it). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <c8s/watch.h>

#include "api/object/codec.h"
#include "client/conn.h"
#include "client/internal.h"
#include "lib/mem.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 10000
/* The server ends each stream after a while (timeoutSeconds), spread so
 * that many watchers do not all reconnect at once. */
#define STREAM_SECONDS_MIN 300
#define STREAM_SECONDS_SPREAD 300
/* The server sends a bookmark every 10 s: a stream silent for this long is
 * on a dead server or a broken path, and is reopened elsewhere. */
#define STREAM_IDLE_MS 45000

struct c8s_watch {
    struct c8s_client *c;
    char *path;
    char rv[32];
    bool open;
    struct client__conn conn;
    struct client__answer ans;
    struct client__reader rd;
    size_t consumed;     /* bytes of ans.body already parsed */
    const char *server;  /* of the open stream, for messages */
    unsigned connects;
    int64_t last_byte;   /* when the stream last brought something */
    int64_t backoff;
    int64_t next_try;    /* no reconnect before (monotonic ms) */
    int dead;            /* 0, or the code every call returns */
    char last_error[512]; /* why the last (re)open failed, for messages */
};

int c8s_watch_open(struct c8s_client *c, const char *path,
                   const char *resource_version, struct c8s_watch **ret,
                   struct c8s_error *err)
{
    struct c8s_watch *w;

    *ret = NULL;
    if (path[0] != '/')
        return client__fail(err, -EINVAL, "watch %s: the path must start with '/'",
                    path);
    if (resource_version != NULL &&
        strlen(resource_version) >= sizeof w->rv)
        return client__fail(err, -EINVAL, "watch %s: resourceVersion \"%s\" is too "
                    "long", path, resource_version);
    w = mem_calloc(1, sizeof *w);
    if (w == NULL || (w->path = mem_strdup(path)) == NULL) {
        mem_free(w);
        return client__fail(err, -ENOMEM, "out of memory");
    }
    w->c = c;
    w->conn.fd = -1;
    w->backoff = BACKOFF_FIRST_MS;
    if (resource_version != NULL)
        (void)snprintf(w->rv, sizeof w->rv, "%s", resource_version);
    *ret = w;
    return 0;
}

static void close_stream(struct c8s_watch *w)
{
    if (w->open)
        client__conn_close(&w->conn);
    client__answer_reset(&w->ans);
    w->open = false;
    w->consumed = 0;
}

void c8s_watch_close(struct c8s_watch *w)
{
    if (w == NULL)
        return;
    close_stream(w);
    mem_free(w->path);
    mem_free(w);
}

const char *c8s_watch_resource_version(const struct c8s_watch *w)
{
    return w->rv;
}

unsigned c8s_watch_connects(const struct c8s_watch *w)
{
    return w->connects;
}

/* ---- one line of the stream ------------------------------------------------*/

enum line_result { LINE_EVENT, LINE_SKIP, LINE_BROKEN };

static enum line_result parse_line(struct c8s_watch *w, const char *line,
                                   size_t len, struct c8s_event *ev,
                                   struct c8s_error *err)
{
    struct obj_decode_opts opts = {0};
    struct obj *root = NULL, *o;
    const char *type, *rv;

    if (len == 0)
        return LINE_SKIP;
    if (obj_json_decode(line, len, &opts, &root, NULL) != 0)
        return LINE_BROKEN;
    type = obj_str_or(obj_map_get(root, "type"), "");
    o = obj_map_get(root, "object");
    if (strcmp(type, "ERROR") == 0) {
        int64_t code = obj_int_or(obj_map_get(o, "code"), 0);

        if (code == 410) { /* too old to resume: only a relist helps */
            w->dead = client__fail(err, -C8S_ECOMPACTED, "watch %s%s from %s: %s",
                           w->server, w->path, w->rv,
                           obj_str_or(obj_map_get(o, "message"), "gone"));
            obj_unref(root);
            return LINE_EVENT;
        }
        obj_unref(root);
        return LINE_BROKEN; /* other errors: reopen and see */
    }
    rv = obj_str_or(obj_get(o, "metadata", "resourceVersion", NULL), "");
    /* Resume from the highest revision seen: a watch without a start
     * point first gets the existing objects, each at its own (older)
     * revision, then a bookmark at the revision they were read at. */
    if (rv[0] != '\0' && strlen(rv) < sizeof w->rv &&
        strtoull(rv, NULL, 10) > strtoull(w->rv, NULL, 10))
        (void)snprintf(w->rv, sizeof w->rv, "%s", rv);
    if (strcmp(type, "BOOKMARK") == 0) {
        obj_unref(root);
        return LINE_SKIP;
    }
    if (strcmp(type, "ADDED") == 0)
        ev->type = C8S_ADDED;
    else if (strcmp(type, "MODIFIED") == 0)
        ev->type = C8S_MODIFIED;
    else if (strcmp(type, "DELETED") == 0)
        ev->type = C8S_DELETED;
    else {
        obj_unref(root);
        return LINE_BROKEN;
    }
    ev->object = (struct c8s_obj *)obj_ref(o);
    (void)snprintf(ev->resource_version, sizeof ev->resource_version, "%s",
                   rv);
    obj_unref(root);
    return LINE_EVENT;
}

/* A complete line waiting in the buffer, or false. */
static bool next_line(struct c8s_watch *w, const char **line, size_t *len)
{
    const char *start = w->ans.body + w->consumed;
    const char *nl;

    if (w->ans.body == NULL || w->consumed >= w->ans.body_len)
        return false;
    nl = memchr(start, '\n', w->ans.body_len - w->consumed);
    if (nl == NULL)
        return false;
    *line = start;
    *len = (size_t)(nl - start);
    w->consumed += *len + 1;
    return true;
}

/* Drop parsed bytes from the front now and then. */
static void compact(struct c8s_watch *w)
{
    if (w->consumed == 0 || w->consumed < w->ans.body_len / 2)
        return;
    memmove(w->ans.body, w->ans.body + w->consumed,
            w->ans.body_len - w->consumed + 1);
    w->ans.body_len -= w->consumed;
    w->consumed = 0;
}

/* ---- (re)opening -----------------------------------------------------------*/

static void stream_path(const struct c8s_watch *w, char *out, size_t size)
{
    unsigned spread = (unsigned)(client__now_ms() % STREAM_SECONDS_SPREAD);

    (void)snprintf(out, size,
                   "%s%swatch=1&allowWatchBookmarks=true&timeoutSeconds=%u%s%s",
                   w->path, strchr(w->path, '?') != NULL ? "&" : "?",
                   STREAM_SECONDS_MIN + spread,
                   w->rv[0] != '\0' ? "&resourceVersion=" : "", w->rv);
}

static void retry_later(struct c8s_watch *w, const struct client__answer *a)
{
    w->next_try = client__now_ms() + client__stream_backoff(a, w->backoff);
    w->backoff = w->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                 : w->backoff * 2;
}

/* Open a stream. 0: open (or to be retried later, with w->next_try set);
 * otherwise an error the caller must see. */
static int reopen(struct c8s_watch *w, struct c8s_error *err)
{
    size_t len = strlen(w->path) + 160;
    char *path = mem_malloc(len);
    int rv;

    if (path == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    stream_path(w, path, len);
    /* An opening runs to its end even past the caller's deadline: a caller
     * polling for less than a TLS handshake takes would otherwise cut every
     * attempt short (and set each server aside), and the watch would never
     * reopen. The connect timeout bounds the handshake, and once more the
     * answer's headers, which the server sends at once. */
    int64_t open_deadline = client__now_ms() +
                            2 * client__connect_timeout_ms(w->c);

    rv = client__stream_open(w->c, path, &w->conn, &w->rd, &w->ans,
                             open_deadline, &w->server, err);
    if (rv != 0) {
        mem_free(path);
        if (err != NULL)
            (void)snprintf(w->last_error, sizeof w->last_error, "%.500s",
                           err->message);
        retry_later(w, NULL);
        return rv == -ENOMEM ? rv : 0;
    }
    w->open = true;
    w->consumed = 0;
    w->last_byte = client__now_ms();
    if (w->ans.status == 200) {
        w->connects++;
        w->backoff = BACKOFF_FIRST_MS;
        mem_free(path);
        return 0;
    }
    /* Not a stream: read the whole answer for its Status. */
    while (!w->rd.done && (rv = client__reader_step(&w->conn, &w->rd,
                                                    open_deadline)) == 0)
        ;
    rv = client__answer_error("GET", w->server, path, &w->ans, err);
    mem_free(path);
    if (w->ans.status == 410) {
        w->dead = rv;
        close_stream(w);
        return rv;
    }
    if (w->ans.status == 429 || w->ans.status >= 500) {
        retry_later(w, &w->ans);
        close_stream(w);
        return 0;
    }
    close_stream(w);
    retry_later(w, NULL);
    return rv; /* 401, 403, 404, ...: the caller's to decide */
}

/* ---- the caller's loop -----------------------------------------------------*/

static int no_change(const struct c8s_watch *w, int timeout_ms,
                     struct c8s_error *err)
{
    return client__fail(err, -ETIMEDOUT, "watch %s%s: no change in %d ms",
                        w->server, w->path, timeout_ms);
}

int c8s_watch_next(struct c8s_watch *w, int timeout_ms, struct c8s_event *ev,
                   struct c8s_error *err)
{
    int64_t deadline = timeout_ms < 0 ? INT64_MAX
                                      : client__now_ms() + timeout_ms;
    const char *line;
    size_t len;
    bool reopened = false;
    int rv;

    memset(ev, 0, sizeof *ev);
    for (;;) {
        if (w->dead != 0)
            return w->dead;
        if (w->open && next_line(w, &line, &len)) {
            switch (parse_line(w, line, len, ev, err)) {
            case LINE_EVENT:
                compact(w);
                if (w->dead != 0) {
                    close_stream(w);
                    return w->dead;
                }
                return 0;
            case LINE_SKIP:
                continue;
            case LINE_BROKEN:
                close_stream(w);
                retry_later(w, NULL);
                continue;
            }
        }
        if (w->open) {
            int64_t idle_end = w->last_byte + STREAM_IDLE_MS;

            compact(w);
            rv = client__reader_step(&w->conn, &w->rd,
                                     idle_end < deadline ? idle_end
                                                         : deadline);
            if (rv == 0)
                w->last_byte = client__now_ms();
            if (rv == -ETIMEDOUT && client__now_ms() >= deadline)
                return no_change(w, timeout_ms, err);
            if (rv == -ETIMEDOUT && client__now_ms() < idle_end)
                continue;
            /* (a timeout here means the stream went silent: reopened) */
            if (rv != 0 || w->rd.done) {
                /* The server ended the stream (timeoutSeconds) or it broke:
                 * resume at once after a clean end, after a pause if not. */
                bool clean = rv == 0;

                close_stream(w);
                if (clean)
                    w->next_try = 0;
                else
                    retry_later(w, NULL);
            }
            continue;
        }
        if (w->next_try >= deadline) {
            client__sleep_ms(deadline - client__now_ms());
            return client__fail(err, -ETIMEDOUT, "watch %s: no stream within %d ms%s%s",
                        w->path, timeout_ms,
                        w->last_error[0] != '\0' ? "; last error: " : "",
                        w->last_error);
        }
        /* An opening may outlast the deadline, but one per call: a server
         * that keeps ending streams does not hold the caller. */
        if (reopened && client__now_ms() >= deadline)
            return no_change(w, timeout_ms, err);
        client__sleep_ms(w->next_try - client__now_ms());
        if ((rv = reopen(w, err)) != 0)
            return rv;
        reopened = true;
    }
}
