/* Answers: response heads, whole bodies, chunked streams, Status objects.
 *
 * Nothing is written here: answers become segments of the connection's
 * output queue (refcounted buffers, so a shared body is never copied) and
 * the per-iteration hook in http.c writes them all at once. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/server/http_internal.h"
#include "lib/mem.h"

/* Room for the status line and our own headers, without caller strings. */
#define HEAD_FIXED 256

void srv__segq_clear(struct srv__segq *q)
{
    for (size_t i = 0; i < q->n; i++)
        rbuf_unref(q->v[i].rb);
    q->n = 0;
    q->bytes = 0;
}

/* Takes over the caller's reference to @rb, even on failure (then it is
 * dropped), so callers never leak on the error path. */
int srv__segq_push(struct srv__segq *q,
                   struct rbuf *rb,
                   const char *ptr,
                   size_t len)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        struct srv__seg *n = mem_realloc(q->v, cap * sizeof(*n));

        if (n == NULL) {
            rbuf_unref(rb);
            return -ENOMEM;
        }
        q->v = n;
        q->cap = cap;
    }
    q->v[q->n++] = (struct srv__seg){.rb = rb, .ptr = ptr, .len = len};
    q->bytes += len;
    return 0;
}

/* Queue on @c; a failed push poisons the connection (a partial answer
 * must never be followed by another one). */
static int queue(struct srv_conn *c,
                 struct rbuf *rb,
                 const char *ptr,
                 size_t len)
{
    int rv = srv__segq_push(&c->out, rb, ptr, len);

    if (rv != 0)
        c->close_now = true;
    srv__conn_dirty(c);
    return rv;
}

static int queue_rbuf(struct srv_conn *c, struct rbuf *rb)
{
    return queue(c, rb, (const char *)rb->data, rb->len);
}

static int queue_static(struct srv_conn *c, const char *s)
{
    return queue(c, NULL, s, strlen(s));
}

const char *srv_status_text(int status)
{
    const char *s = http_status_str((enum http_status)status);

    return s[0] == '<' ? "Unknown" : s;
}

/* "Date: ...\r\n", made at most once a second. */
static const char *date_line(struct srv_http *srv)
{
    time_t now = time(NULL);
    struct tm tm;

    if ((int64_t)now != srv->date_sec && gmtime_r(&now, &tm) != NULL) {
        strftime(srv->date, sizeof(srv->date),
                 "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        srv->date_sec = (int64_t)now;
    }
    return srv->date;
}

/* Body framing of an answer. */
enum framing {
    FRAME_LENGTH,  /* Content-Length */
    FRAME_CHUNKED, /* Transfer-Encoding: chunked */
    FRAME_EOF,     /* close-delimited (HTTP/1.0 streams) */
};

/* Format a response head into @buf (HEAD_FIXED + caller strings bytes). */
static size_t format_head(char *buf,
                          size_t cap,
                          struct srv_http *srv,
                          const struct srv_req_priv *r,
                          bool http10,
                          int status,
                          const char *ct,
                          const char *extra,
                          enum framing framing,
                          size_t len)
{
    char clen[48] = "";
    const char *conn = "";
    int n;

    if (framing == FRAME_LENGTH && status != 204 && status >= 200)
        snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", len);
    else if (framing == FRAME_CHUNKED)
        snprintf(clen, sizeof(clen), "Transfer-Encoding: chunked\r\n");
    if (!r->keep_alive)
        conn = "Connection: close\r\n";
    else if (http10)
        conn = "Connection: keep-alive\r\n";
    n = snprintf(buf, cap, "HTTP/1.1 %d %s\r\n%s%s%s%s%s%s%s", status,
                 srv_status_text(status), date_line(srv),
                 ct ? "Content-Type: " : "", ct ? ct : "", ct ? "\r\n" : "",
                 clen, conn, extra ? extra : "");
    if (n < 0 || (size_t)n + 2 >= cap)
        return 0;
    memcpy(buf + n, "\r\n", 2);
    return (size_t)n + 2;
}

static size_t head_cap(const char *ct, const char *extra)
{
    return HEAD_FIXED + (ct ? strlen(ct) : 0) + (extra ? strlen(extra) : 0);
}

static bool has_body(const struct srv_req_priv *r, int status)
{
    return !r->is_head && status >= 200 && status != 204 && status != 304;
}

/* Tell the owner (metrics) how a request ended, once. */
static void report_done(struct srv_req *req)
{
    struct srv_http *srv = req->srv;
    const struct srv_req_priv *r = req->priv;

    /* An orphaned request may outlive its server (see http.h): only a
     * request whose connection is still open can reach the server. */
    if (r->conn == NULL)
        return;
    if (srv != NULL && srv->cfg.on_done != NULL && r->start_ns != 0)
        srv->cfg.on_done(req, r->status,
                         (double)(uv_hrtime() - r->start_ns) / 1e9);
}

/* The request is answered: free it, let the conn go on or close. */
static void end_req(struct srv_req *req)
{
    struct srv_conn *c = req->priv->conn;
    bool keep = req->priv->keep_alive;

    report_done(req);
    srv__req_free(req);
    if (c == NULL)
        return;
    c->active = NULL;
    if (keep)
        c->need_resume = true;
    else
        c->close_after = true;
    srv__conn_dirty(c);
    srv__conn_arm(c);
}

/* Build head (+ copied body) in one buffer. */
/* The head and, unless @parts is NULL, the body from @n parts of @len
 * bytes in all, in one buffer. */
static struct rbuf *build(struct srv_req *req,
                          int status,
                          const char *ct,
                          const char *extra,
                          const struct srv_part *parts,
                          size_t n_parts,
                          size_t len)
{
    struct srv_req_priv *r = req->priv;

    r->status = status;
    bool with = parts != NULL && has_body(r, status);
    size_t cap = head_cap(ct, extra) + (with ? len : 0);
    struct rbuf *rb = rbuf_new_uninit(cap);
    size_t n;

    if (rb == NULL)
        return NULL;
    n = format_head((char *)rb->data, cap, req->srv, r, req->http_minor == 0,
                    status, ct, extra, FRAME_LENGTH, len);
    if (n == 0)
        return rbuf_unref(rb);
    rb->len = n;
    for (size_t i = 0; with && i < n_parts; i++) {
        if (parts[i].len > 0)
            memcpy(rb->data + rb->len, parts[i].data, parts[i].len);
        rb->len += parts[i].len;
    }
    rb->data[rb->len] = '\0';
    return rb;
}

/* Common checks of srv_respond*: 0 to go on, else the return value. */
static int respond_check(struct srv_req *req)
{
    if (req->priv->streaming)
        return -EINVAL;
    if (req->priv->conn == NULL) {
        srv__req_free(req);
        return -EPIPE;
    }
    return 0;
}

int srv_respond(struct srv_req *req,
                int status,
                const char *content_type,
                const char *extra_headers,
                const void *body,
                size_t len)
{
    struct srv_part part = {body, len};

    return srv_respond_parts(req, status, content_type, extra_headers, &part,
                             1);
}

int srv_respond_parts(struct srv_req *req,
                      int status,
                      const char *content_type,
                      const char *extra_headers,
                      const struct srv_part *parts,
                      size_t n)
{
    struct srv_conn *c = req->priv->conn;
    struct rbuf *rb;
    size_t len = 0;
    int rv = respond_check(req);

    if (rv != 0)
        return rv;
    for (size_t i = 0; i < n; i++)
        len += parts[i].len;
    rb = build(req, status, content_type, extra_headers, parts, n, len);
    rv = rb ? queue_rbuf(c, rb) : -ENOMEM;
    if (rb == NULL)
        c->close_now = true;
    end_req(req);
    return rv;
}

int srv_respond_rbuf(struct srv_req *req,
                     int status,
                     const char *content_type,
                     const char *extra_headers,
                     struct rbuf *body)
{
    struct srv_conn *c = req->priv->conn;
    bool with = has_body(req->priv, status);
    struct rbuf *rb;
    int rv = respond_check(req);

    if (rv != 0)
        return rv;
    rb = build(req, status, content_type, extra_headers, NULL, 0,
               body ? body->len : 0);
    rv = rb ? queue_rbuf(c, rb) : -ENOMEM;
    if (rb == NULL)
        c->close_now = true;
    if (rv == 0 && with && body != NULL && body->len > 0)
        rv = queue_rbuf(c, rbuf_ref(body));
    end_req(req);
    return rv;
}

size_t srv_json_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char tmp[8];
        const char *e = tmp;
        size_t el;

        if (*p == '"' || *p == '\\')
            snprintf(tmp, sizeof(tmp), "\\%c", *p);
        else if (*p < 0x20)
            snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
        else
            tmp[0] = (char)*p, tmp[1] = '\0';
        el = strlen(e);
        if (n + el < cap)
            memcpy(out + n, e, el);
        n += el;
    }
    if (cap > 0)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

/* A Status object as a malloc'ed JSON string (NULL when out of memory). */
static char *status_json(int status,
                         const char *reason,
                         const char *msg,
                         size_t *ret_len)
{
    size_t ml = srv_json_escape(NULL, 0, msg ? msg : "");
    size_t rl = reason ? srv_json_escape(NULL, 0, reason) : 0;
    size_t cap = 160 + ml + rl;
    char *m = mem_malloc(ml + 1), *r = mem_malloc(rl + 1), *out = NULL;
    int n;

    if (m == NULL || r == NULL || (out = mem_malloc(cap)) == NULL)
        goto done;
    srv_json_escape(m, ml + 1, msg ? msg : "");
    srv_json_escape(r, rl + 1, reason ? reason : "");
    n = snprintf(out, cap,
                 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                 "\"status\":\"%s\",\"message\":\"%s\"%s%s%s,\"code\":%d}",
                 status >= 400 ? "Failure" : "Success", m,
                 reason ? ",\"reason\":\"" : "", reason ? r : "",
                 reason ? "\"" : "", status);
    *ret_len = (size_t)n;
done:
    mem_free(m);
    mem_free(r);
    return out;
}

int srv_respond_status(struct srv_req *req,
                       int status,
                       const char *reason,
                       const char *message,
                       unsigned retry_after_s)
{
    char extra[48] = "";
    size_t len = 0;
    char *body;
    int rv;

    if (retry_after_s > 0)
        snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", retry_after_s);
    body = status_json(status, reason, message, &len);
    if (body == NULL) {
        if (req->priv->conn != NULL)
            req->priv->conn->close_now = true;
        rv = respond_check(req);
        if (rv == 0)
            end_req(req);
        return rv == -EINVAL ? rv : -ENOMEM;
    }
    rv = srv_respond(req, status, "application/json", extra, body, len);
    mem_free(body);
    return rv;
}

int srv_stream_begin(struct srv_req *req, int status, const char *content_type)
{
    struct srv_req_priv *r = req->priv;
    struct srv_conn *c = r->conn;
    size_t cap = head_cap(content_type, NULL);
    struct rbuf *rb;
    size_t n;

    if (r->streaming)
        return -EINVAL;
    if (c == NULL)
        return -EPIPE;
    r->streaming = true;
    r->status = status;
    r->chunked = req->http_minor >= 1;
    if (!r->chunked)
        r->keep_alive = false; /* the end of the body is the close */
    rb = rbuf_new(NULL, cap);
    if (rb == NULL) {
        c->close_now = true;
        srv__conn_dirty(c);
        return -ENOMEM;
    }
    n = format_head((char *)rb->data, cap, req->srv, r, req->http_minor == 0,
                    status, content_type, NULL,
                    r->chunked ? FRAME_CHUNKED : FRAME_EOF, 0);
    rb->len = n;
    return queue_rbuf(c, rb);
}

/* Checks shared by the two stream writes: 1 to write, else the result. */
static int stream_check(struct srv_req *req, size_t len)
{
    struct srv_conn *c = req->priv->conn;

    if (!req->priv->streaming)
        return -EINVAL;
    if (c == NULL || c->close_now || c->state != SRV__OPEN)
        return -EPIPE;
    if (len == 0 || req->priv->is_head)
        return 0;
    if (c->out.bytes + c->inflight > c->srv->cfg.max_stream_queue) {
        c->close_now = true; /* the hook closes it; close_cb runs then */
        srv__conn_dirty(c);
        return -C8S_ESLOW;
    }
    return 1;
}

int srv_stream_write(struct srv_req *req, const void *data, size_t len)
{
    struct srv_conn *c = req->priv->conn;
    int rv = stream_check(req, len);
    struct rbuf *rb;
    int n = 0;

    if (rv != 1)
        return rv;
    rb = rbuf_new_uninit(len + 24);
    if (rb == NULL)
        return -ENOMEM;
    if (req->priv->chunked)
        n = snprintf((char *)rb->data, 24, "%zx\r\n", len);
    memcpy(rb->data + n, data, len);
    if (req->priv->chunked)
        memcpy(rb->data + n + len, "\r\n", 2);
    rb->len = (size_t)n + len + (req->priv->chunked ? 2 : 0);
    rb->data[rb->len] = '\0';
    return queue_rbuf(c, rb);
}

int srv_stream_write_rbuf(struct srv_req *req, struct rbuf *data)
{
    struct srv_conn *c = req->priv->conn;
    int rv = stream_check(req, data->len);
    struct rbuf *rb;

    if (rv != 1)
        return rv;
    if (!req->priv->chunked)
        return queue_rbuf(c, rbuf_ref(data));
    rb = rbuf_new(NULL, 24);
    if (rb == NULL)
        return -ENOMEM;
    rb->len = (size_t)snprintf((char *)rb->data, 24, "%zx\r\n", data->len);
    if ((rv = queue_rbuf(c, rb)) != 0 ||
        (rv = queue_rbuf(c, rbuf_ref(data))) != 0)
        return rv;
    return queue_static(c, "\r\n");
}

int srv_stream_end(struct srv_req *req)
{
    struct srv_req_priv *r = req->priv;
    struct srv_conn *c = r->conn;
    int rv = 0;

    if (!r->streaming) {
        /* Misuse; end it anyway and close so no client waits forever. */
        if (c != NULL)
            c->close_now = true;
        rv = -EINVAL;
    } else if (c != NULL && r->chunked && !r->is_head) {
        rv = queue_static(c, "0\r\n\r\n");
    } else if (c == NULL) {
        rv = -EPIPE;
    }
    end_req(req);
    return rv;
}

/* A whole error answer of the server itself, then close. */
void srv__conn_fail(struct srv_conn *c,
                    int status,
                    const char *reason,
                    const char *msg)
{
    struct srv_req_priv r = {.keep_alive = false};
    size_t len = 0, cap, n;
    char *body = status_json(status, reason, msg, &len);
    struct rbuf *rb;

    srv__req_free(c->cur);
    c->cur = NULL;
    c->in_head = c->in_body = false;
    c->close_after = true;
    srv__conn_dirty(c);
    if (body == NULL)
        return;
    cap = head_cap("application/json", NULL) + len;
    rb = rbuf_new(NULL, cap);
    if (rb != NULL) {
        n = format_head((char *)rb->data, cap, c->srv, &r, false, status,
                        "application/json", NULL, FRAME_LENGTH, len);
        memcpy(rb->data + n, body, len);
        rb->len = n + len;
        (void)queue_rbuf(c, rb);
    }
    mem_free(body);
}

void srv__conn_raw_close(struct srv_conn *c, const char *raw)
{
    (void)queue_static(c, raw);
    c->close_after = true;
}

void srv__conn_continue(struct srv_conn *c)
{
    (void)queue_static(c, "HTTP/1.1 100 Continue\r\n\r\n");
}

void srv_req_abort(struct srv_req *req)
{
    struct srv_conn *c = req->priv->conn;

    report_done(req);
    if (c != NULL) {
        c->active = NULL;
        c->close_now = true;
        srv__conn_dirty(c);
    }
    srv__req_free(req);
}

size_t srv_req_queued(const struct srv_req *req)
{
    const struct srv_conn *c = req->priv->conn;

    return c ? c->out.bytes + c->inflight : 0;
}

bool srv_req_orphaned(const struct srv_req *req)
{
    return req->priv->conn == NULL;
}

void srv_req_on_close(struct srv_req *req, srv_req_close_cb cb)
{
    req->priv->close_cb = cb;
}
