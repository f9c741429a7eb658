/* The server: listener, connections, deadlines, the per-iteration flush.
 *
 * A connection owns a TCP handle and a timer and is freed when both are
 * closed. Its one timer enforces whichever deadline applies to its state
 * (srv__conn_arm): TLS handshake, request head (slowloris), body stalls,
 * keep-alive idleness, output making no progress, lingering close.
 *
 * Output is queued by http_resp.c and written by the prepare hook, which
 * runs once per loop iteration right before libuv blocks: all answers a
 * connection got during the iteration leave in one uv_write (one writev;
 * over TLS, full 16 KiB records). The hook also resumes parsing of
 * pipelined input and carries out deferred closes, so callbacks into the
 * user (close callbacks) never run inside the user's own srv_* calls. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/http_internal.h"
#include "lib/container.h"
#include "lib/log.h"
#include "lib/mem.h"

#define LISTEN_BACKLOG 511

/* What a TLS port answers to plain HTTP (as Go's net/http does). */
static const char tls_http_reply[] =
    "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\n"
    "Connection: close\r\n\r\n"
    "Client sent an HTTP request to an HTTPS server.\n";

/* What new plain connections get beyond max_conns. */
#define BUSY_BODY                                                  \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"  \
    "\"status\":\"Failure\",\"message\":\"too many connections\"," \
    "\"reason\":\"ServiceUnavailable\",\"code\":503}"
static const char busy_reply[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Retry-After: 1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s";

/* A write in flight: owns its segments until libuv calls back. */
struct wreq {
    uv_write_t req;        /* libuv request; data unused */
    struct srv_conn *conn; /* writer */
    size_t bytes;          /* counted in conn->inflight */
    size_t n;              /* segments */
    struct srv__seg *segs; /* n segments (references) */
    uv_buf_t *bufs;        /* n buffers pointing into segs */
};

/* A connection refused over max_conns. */
struct reject {
    uv_tcp_t tcp; /* closed at once; freed in the close callback */
};

static void conn_close(struct srv_conn *c);
static void conn_flush(struct srv_conn *c);

uint64_t srv__now(const struct srv_http *srv)
{
    return srv->loop ? uv_now(srv->loop) : 0;
}

static void fill_defaults(struct srv_http_config *cfg)
{
#define DEF(field, value) \
    if (cfg->field == 0)  \
    cfg->field = (value)
    DEF(max_header_bytes, SRV_HTTP_MAX_HEADER_BYTES);
    DEF(max_headers, SRV_HTTP_MAX_HEADERS);
    DEF(max_body_bytes, SRV_HTTP_MAX_BODY_BYTES);
    DEF(max_conns, SRV_HTTP_MAX_CONNS);
    DEF(max_stream_queue, SRV_HTTP_MAX_STREAM_QUEUE);
    DEF(header_timeout_ms, SRV_HTTP_HEADER_TIMEOUT_MS);
    DEF(idle_timeout_ms, SRV_HTTP_IDLE_TIMEOUT_MS);
    DEF(tls_timeout_ms, SRV_HTTP_TLS_TIMEOUT_MS);
    DEF(write_timeout_ms, SRV_HTTP_WRITE_TIMEOUT_MS);
    DEF(linger_ms, SRV_HTTP_LINGER_MS);
#undef DEF
}

/* http-parser's header limit is one global; raise it to the largest limit
 * any server asked for and enforce each server's own in the callbacks. */
static void raise_parser_limit(size_t max)
{
    static size_t current;

    if (max > current) {
        current = max;
        http_parser_set_max_header_size(max > UINT32_MAX ? UINT32_MAX
                                                         : (uint32_t)max);
    }
}

static struct srv_http *srv_alloc(const struct srv_http_config *cfg)
{
    struct srv_http *srv = mem_calloc(1, sizeof(*srv));

    if (srv == NULL)
        return NULL;
    srv->cfg = *cfg;
    fill_defaults(&srv->cfg);
    raise_parser_limit(srv->cfg.max_header_bytes);
    srv__parser_settings(&srv->settings);
    srv->listen = mem_strdup(cfg->listen ? cfg->listen : "");
    srv->rbuf = mem_malloc(SRV__READ_BUF);
    srv->pbuf = mem_malloc(SRV__READ_BUF);
    srv->stage = mem_malloc(SRV__TLS_STAGE);
    srv->date_sec = -1;
    if (srv->listen == NULL || srv->rbuf == NULL || srv->pbuf == NULL ||
        srv->stage == NULL) {
        srv__http_free_detached(srv);
        return NULL;
    }
    srv->cfg.listen = srv->listen;
    return srv;
}

void srv__http_free_detached(struct srv_http *srv)
{
    mem_free(srv->listen);
    mem_free(srv->rbuf);
    mem_free(srv->pbuf);
    mem_free(srv->stage);
    mem_free(srv);
}

struct srv_http *srv__http_new_detached(const struct srv_http_config *cfg)
{
    return srv_alloc(cfg);
}

/* ---- connection list and the per-iteration hook ------------------------ */

static void conn_link(struct srv_conn *c)
{
    struct srv_http *srv = c->srv;

    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
}

static void conn_unlink(struct srv_conn *c)
{
    struct srv_http *srv = c->srv;

    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    srv->nconns--;
}

static void on_prepare(uv_prepare_t *h)
{
    srv__run_pending(container_of(h, struct srv_http, prepare));
}

void srv__conn_dirty(struct srv_conn *c)
{
    struct srv_http *srv = c->srv;

    if (c->dirty || c->state == SRV__CLOSED)
        return;
    c->dirty = true;
    c->dirty_prev = NULL;
    c->dirty_next = srv->dirty;
    if (srv->dirty != NULL)
        srv->dirty->dirty_prev = c;
    srv->dirty = c;
    if (srv->loop != NULL && !srv->prepare_on && !srv->closing) {
        uv_prepare_start(&srv->prepare, on_prepare);
        srv->prepare_on = true;
    }
}

static void dirty_remove(struct srv_conn *c)
{
    if (!c->dirty)
        return;
    if (c->dirty_prev != NULL)
        c->dirty_prev->dirty_next = c->dirty_next;
    else
        c->srv->dirty = c->dirty_next;
    if (c->dirty_next != NULL)
        c->dirty_next->dirty_prev = c->dirty_prev;
    c->dirty_prev = c->dirty_next = NULL;
    c->dirty = false;
}

/* After output is written: close, or send FIN and linger, as asked. */
static void conn_maybe_finish(struct srv_conn *c);
static void read_start(struct srv_conn *c);

static void run_one(struct srv_conn *c)
{
    if (c->close_now) {
        conn_close(c);
        return;
    }
    if (c->need_resume && c->active == NULL) {
        c->need_resume = false;
        srv__conn_resume(c);
        if (!c->reading && !c->eof && c->in_len < SRV__IN_MAX / 2 &&
            c->state == SRV__OPEN)
            read_start(c); /* stopped by a pipelining flood */
    }
    if (c->close_now) {
        conn_close(c);
        return;
    }
    conn_flush(c);
    conn_maybe_finish(c);
    srv__conn_arm(c);
}

void srv__run_pending(struct srv_http *srv)
{
    /* Answers made while running the list land on it again and are picked
     * up in the same pass. Closed conns leave the list in conn_close. */
    while (srv->dirty != NULL) {
        struct srv_conn *c = srv->dirty;

        dirty_remove(c);
        run_one(c);
    }
    if (srv->loop != NULL && srv->prepare_on) {
        uv_prepare_stop(&srv->prepare);
        srv->prepare_on = false;
    }
}

/* ---- deadlines ----------------------------------------------------------- */

static void on_timer(uv_timer_t *t);

/* Deadline (loop ms) for the conn's state, or 0 for none. */
static uint64_t conn_deadline(struct srv_conn *c)
{
    const struct srv_http_config *cfg = &c->srv->cfg;

    switch (c->state) {
    case SRV__HANDSHAKE:
        return c->head_start + cfg->tls_timeout_ms;
    case SRV__LINGER:
        return c->head_start + cfg->linger_ms;
    case SRV__CLOSED:
        return 0;
    case SRV__OPEN:
        break;
    }
    if (c->inflight > 0 || c->out.bytes > 0)
        return c->last_io + cfg->write_timeout_ms;
    if (c->active != NULL)
        return 0; /* the handler's business (watches last long) */
    if (c->in_head)
        return c->head_start + cfg->header_timeout_ms;
    return c->last_io + cfg->idle_timeout_ms;
}

void srv__conn_arm(struct srv_conn *c)
{
    uint64_t deadline, now;

    if (c->detached || c->state == SRV__CLOSED)
        return;
    deadline = conn_deadline(c);
    if (deadline == 0) {
        uv_timer_stop(&c->timer);
        return;
    }
    now = uv_now(c->srv->loop);
    uv_timer_start(&c->timer, on_timer, deadline > now ? deadline - now : 0, 0);
}

/* Has output moved since the last look? (A big write may take a while.) */
static bool write_progressed(struct srv_conn *c)
{
    size_t wq = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    bool moved = wq != c->last_wq;

    c->last_wq = wq;
    return moved && wq > 0;
}

static void on_timer(uv_timer_t *t)
{
    struct srv_conn *c = container_of(t, struct srv_conn, timer);

    if (c->state == SRV__OPEN && c->inflight > 0 && write_progressed(c)) {
        c->last_io = uv_now(c->srv->loop);
        srv__conn_arm(c);
        return;
    }
    log_debug("http", "connection timed out (state %d)", (int)c->state);
    conn_close(c);
}

/* ---- closing ---------------------------------------------------------------
 */

static void conn_free(struct srv_conn *c)
{
    if (!c->detached)
        c->srv->live--;
    srv__segq_clear(&c->out);
    mem_free(c->out.v);
    mem_free(c->in);
    if (c->has_tls)
        srv_tls_done(&c->tls);
    mem_free(c);
}

static void maybe_server_closed(struct srv_http *srv);

static void on_conn_handle_closed(uv_handle_t *h)
{
    struct srv_conn *c = h->data;
    struct srv_http *srv = c->srv;

    if (--c->handles > 0)
        return;
    conn_free(c);
    maybe_server_closed(srv);
}

/* Close now: drop queued output, orphan the request (its close callback
 * runs here), close the handles. Writes in flight call back with
 * UV_ECANCELED before the handle's close callback frees the conn. */
static void conn_close(struct srv_conn *c)
{
    if (c->state == SRV__CLOSED)
        return;
    c->state = SRV__CLOSED;
    conn_unlink(c);
    dirty_remove(c);
    srv__segq_clear(&c->out);
    srv__conn_drop_reqs(c);
    if (c->detached)
        return;
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status; /* lingering continues until EOF or the timer */
}

static void conn_maybe_finish(struct srv_conn *c)
{
    if (c->state != SRV__OPEN && c->state != SRV__HANDSHAKE)
        return;
    if (c->detached) {
        if (c->close_after && c->out.n == 0)
            c->state = SRV__LINGER;
        return;
    }
    if (!c->close_after || c->out.n > 0 || c->active != NULL)
        return;
    if (c->eof) { /* nobody is reading anything more */
        if (c->inflight == 0)
            conn_close(c);
        return;
    }
    /* FIN after the queued writes, then read and discard for a while, so
     * the client sees the answer instead of a reset from unread input. */
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    c->shut = true;
    c->state = SRV__LINGER;
    c->head_start = uv_now(c->srv->loop);
    read_start(c);
}

/* ---- writing
 * ----------------------------------------------------------------- */

static void wreq_free(struct wreq *w)
{
    for (size_t i = 0; i < w->n; i++)
        rbuf_unref(w->segs[i].rb);
    mem_free(w);
}

static void on_write(uv_write_t *req, int status)
{
    struct wreq *w = container_of(req, struct wreq, req);
    struct srv_conn *c = w->conn;

    c->inflight -= w->bytes;
    wreq_free(w);
    if (c->state == SRV__CLOSED)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    c->last_io = uv_now(c->srv->loop);
    conn_maybe_finish(c);
    srv__conn_arm(c);
}

/* Move @q's segments into one uv_write. The queue is left empty. */
static int write_segs(struct srv_conn *c, struct srv__segq *q)
{
    size_t each = sizeof(struct srv__seg) + sizeof(uv_buf_t);
    struct wreq *w = mem_malloc(sizeof(*w) + q->n * each);
    int rv;

    if (w == NULL)
        return -ENOMEM;
    w->conn = c;
    w->n = q->n;
    w->bytes = q->bytes;
    w->segs = (struct srv__seg *)(w + 1);
    w->bufs = (uv_buf_t *)(w->segs + q->n);
    for (size_t i = 0; i < q->n; i++) {
        w->segs[i] = q->v[i];
        w->bufs[i] = uv_buf_init((char *)q->v[i].ptr, (unsigned)q->v[i].len);
    }
    q->n = 0; /* references moved into w */
    q->bytes = 0;
    rv = uv_write(&w->req, (uv_stream_t *)&c->tcp, w->bufs, (unsigned)w->n,
                  on_write);
    if (rv != 0) {
        wreq_free(w);
        return rv;
    }
    c->inflight += w->bytes;
    return 0;
}

/* Encrypt the queue in record-sized pieces (small answers share records,
 * big ones fill them), then drop the plaintext. */
static int tls_encrypt_queue(struct srv_conn *c)
{
    char *stage = c->srv->stage;
    size_t fill = 0;
    int rv = 0;

    for (size_t i = 0; i < c->out.n && rv == 0; i++) {
        const char *p = c->out.v[i].ptr;
        size_t left = c->out.v[i].len;

        while (left > 0 && rv == 0) {
            size_t room = SRV__TLS_STAGE - fill;
            size_t take = left < room ? left : room;

            memcpy(stage + fill, p, take);
            fill += take;
            p += take;
            left -= take;
            if (fill == SRV__TLS_STAGE) {
                rv = srv_tls_write(&c->tls, stage, fill);
                fill = 0;
            }
        }
    }
    if (rv == 0 && fill > 0)
        rv = srv_tls_write(&c->tls, stage, fill);
    srv__segq_clear(&c->out);
    return rv;
}

/* Hand TLS output (handshake, records, alerts) to the socket. */
static int tls_send(struct srv_conn *c)
{
    struct srv__segq q = {0};
    struct rbuf *rb = NULL;
    int rv = srv_tls_take(&c->tls, &rb);

    if (rv != 0 || rb == NULL)
        return rv;
    rv = srv__segq_push(&q, rb, (const char *)rb->data, rb->len);
    if (rv == 0)
        rv = write_segs(c, &q);
    srv__segq_clear(&q);
    mem_free(q.v);
    return rv;
}

static void flush_detached(struct srv_conn *c)
{
    for (size_t i = 0; i < c->out.n; i++)
        if (c->sink != NULL)
            c->sink(c->sink_arg, c->out.v[i].ptr, c->out.v[i].len);
    srv__segq_clear(&c->out);
}

static void conn_flush(struct srv_conn *c)
{
    int rv = 0;

    if (c->detached) {
        flush_detached(c);
        return;
    }
    if (c->has_tls && c->tls.done) {
        if (c->out.n > 0)
            rv = tls_encrypt_queue(c);
        if (rv == 0 && c->close_after && c->active == NULL &&
            c->state == SRV__OPEN)
            srv_tls_shutdown(&c->tls);
    } else if (c->out.n > 0) {
        rv = write_segs(c, &c->out); /* plain, or raw bytes before TLS */
    }
    /* Handshake records, encrypted answers, alerts, tickets. */
    if (rv == 0 && c->has_tls)
        rv = tls_send(c);
    if (rv != 0) {
        log_debug("http", "write failed: %s", err_str(rv));
        conn_close(c);
    }
}

/* ---- reading
 * ------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct srv_conn *c = h->data;

    (void)hint;
    /* One buffer per server: on_read consumes it before returning. */
    *buf = uv_buf_init(c->srv->rbuf, SRV__READ_BUF);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void read_start(struct srv_conn *c)
{
    if (c->reading || c->detached)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
}

static void read_stop(struct srv_conn *c)
{
    if (c->reading && !c->detached)
        uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

/* The peer is gone (EOF, close_notify, reset). */
static void on_peer_closed(struct srv_conn *c, bool reset)
{
    if (reset || c->state != SRV__OPEN) {
        conn_close(c);
        return;
    }
    c->eof = true;
    read_stop(c);
    /* Like Go's request context: a client that went away cancels the
     * request it was waiting for. Queued answers still go out. */
    srv__conn_drop_reqs(c);
    c->close_after = true;
    srv__conn_dirty(c);
}

/* TLS: decrypt what arrived and feed the plaintext. */
static void tls_input(struct srv_conn *c, const char *data, size_t len)
{
    int n;

    if (srv_tls_feed(&c->tls, data, len) != 0) {
        conn_close(c);
        return;
    }
    if (c->state == SRV__HANDSHAKE) {
        n = srv_tls_handshake(&c->tls);
        if (n == SRV_TLS_HTTP) {
            srv__conn_raw_close(c, tls_http_reply);
            c->state = SRV__OPEN; /* so the finish path lingers */
            srv__conn_dirty(c);
            return;
        }
        if (n < 0) {
            log_debug("http", "TLS handshake failed");
            conn_close(c);
            return;
        }
        srv__conn_dirty(c); /* handshake records to send */
        if (n == SRV_TLS_AGAIN)
            return;
        c->state = SRV__OPEN;
        c->last_io = uv_now(c->srv->loop);
    }
    while (c->state == SRV__OPEN) {
        n = srv_tls_read(&c->tls, c->srv->pbuf, SRV__READ_BUF);
        if (n == SRV_TLS_AGAIN)
            break;
        if (n < 0) {
            on_peer_closed(c, n != SRV_TLS_CLOSED);
            return;
        }
        srv__conn_feed(c, c->srv->pbuf, (size_t)n);
    }
    srv__conn_dirty(c); /* TLS may owe the peer records (tickets, alerts) */
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct srv_conn *c = s->data;

    if (nread == 0)
        return;
    if (nread < 0) {
        on_peer_closed(c, nread != UV_EOF);
        return;
    }
    if (c->state == SRV__LINGER || c->close_after)
        return; /* discard: an answer that ends the conn is on its way */
    c->last_io = uv_now(c->srv->loop);
    if (c->has_tls)
        tls_input(c, buf->base, (size_t)nread);
    else
        srv__conn_feed(c, buf->base, (size_t)nread);
    if (c->state == SRV__CLOSED)
        return;
    if (c->in_len > SRV__IN_MAX)
        read_stop(c); /* pipelining flood: wait for the handler */
    srv__conn_arm(c);
}

/* ---- accepting
 * ------------------------------------------------------------------ */

static void on_reject_closed(uv_handle_t *h)
{
    mem_free(container_of((uv_tcp_t *)h, struct reject, tcp));
}

static void reject(struct srv_http *srv, uv_stream_t *listener)
{
    struct reject *r = mem_malloc(sizeof(*r));

    if (r == NULL || uv_tcp_init(srv->loop, &r->tcp) != 0) {
        mem_free(r);
        return; /* the kernel's backlog keeps the connection for later */
    }
    if (uv_accept(listener, (uv_stream_t *)&r->tcp) == 0 &&
        srv->cfg.tls == NULL) {
        char msg[512];
        int n = snprintf(msg, sizeof(msg), busy_reply, strlen(BUSY_BODY),
                         BUSY_BODY);
        uv_buf_t b = uv_buf_init(msg, (unsigned)n);

        /* Best effort, never blocking: a full socket just gets the close. */
        (void)uv_try_write((uv_stream_t *)&r->tcp, &b, 1);
    }
    uv_close((uv_handle_t *)&r->tcp, on_reject_closed);
}

static struct srv_conn *conn_new(struct srv_http *srv)
{
    struct srv_conn *c = mem_calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->srv = srv;
    c->state = SRV__OPEN;
    srv->live++;
    srv__conn_parser_init(c);
    if (srv->cfg.tls != NULL) {
        if (srv_tls_init(&c->tls, srv->cfg.tls) != 0) {
            srv->live--;
            mem_free(c);
            return NULL;
        }
        c->has_tls = true;
        c->state = SRV__HANDSHAKE;
    }
    return c;
}

static int conn_start(struct srv_conn *c, uv_stream_t *listener)
{
    struct srv_http *srv = c->srv;
    int rv;

    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    conn_link(c);
    c->head_start = c->last_io = uv_now(srv->loop);
    rv = uv_accept(listener, (uv_stream_t *)&c->tcp);
    if (rv == 0) {
        (void)uv_tcp_nodelay(&c->tcp, 1); /* we batch writes ourselves */
        /* A watch has no deadline: let the kernel find vanished peers. */
        (void)uv_tcp_keepalive(&c->tcp, 1, 60);
        rv = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    }
    if (rv != 0) {
        conn_close(c);
        return rv;
    }
    c->reading = true;
    srv__conn_arm(c);
    return 0;
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct srv_http *srv = listener->data;
    struct srv_conn *c;

    if (status < 0 || srv->closing)
        return;
    if (srv->nconns >= srv->cfg.max_conns) {
        reject(srv, listener);
        return;
    }
    c = conn_new(srv);
    if (c == NULL) {
        reject(srv, listener);
        return;
    }
    (void)conn_start(c, listener);
}

/* ---- server lifecycle
 * ------------------------------------------------------------ */

static int parse_listen(const char *s, struct sockaddr_in *ret, struct err *e)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    char *end;
    long port;

    if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
        return err_setf(e, -EINVAL, "listen address '%s' is not IP:PORT", s);
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || port < 0 || port > 65535 ||
        uv_ip4_addr(host, (int)port, ret) != 0)
        return err_setf(e, -EINVAL, "listen address '%s' is not IP:PORT", s);
    return 0;
}

static int bind_listen(struct srv_http *srv, struct err *e)
{
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    int rv = parse_listen(srv->listen, &addr, e);

    if (rv != 0)
        return rv;
    rv = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0);
    if (rv == 0)
        rv = uv_listen((uv_stream_t *)&srv->listener, LISTEN_BACKLOG,
                       on_connection);
    if (rv == 0)
        rv =
            uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &len);
    if (rv != 0)
        return err_setf(e, rv, "listen on %s: %s", srv->listen,
                        uv_strerror(rv));
    srv->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

static void on_server_handle_closed(uv_handle_t *h)
{
    struct srv_http *srv = h->data;

    srv->handles--;
    maybe_server_closed(srv);
}

int srv_http_start(uv_loop_t *loop,
                   const struct srv_http_config *cfg,
                   struct srv_http **ret,
                   struct err *e)
{
    struct srv_http *srv;
    int rv;

    if (cfg == NULL || cfg->on_request == NULL || cfg->listen == NULL)
        return err_setf(e, -EINVAL, "http: listen and on_request are needed");
    if (cfg->tls != NULL && (rv = srv_tls_configure(cfg->tls, e)) != 0)
        return rv;
    srv = srv_alloc(cfg);
    if (srv == NULL)
        return err_setf(e, -ENOMEM, "http: out of memory");
    srv->loop = loop;
    uv_tcp_init(loop, &srv->listener);
    uv_prepare_init(loop, &srv->prepare);
    srv->listener.data = srv->prepare.data = srv;
    srv->handles = 2;
    rv = bind_listen(srv, e);
    if (rv != 0) {
        srv->closing = true; /* frees once both handles are closed */
        uv_close((uv_handle_t *)&srv->listener, on_server_handle_closed);
        uv_close((uv_handle_t *)&srv->prepare, on_server_handle_closed);
        return rv;
    }
    *ret = srv;
    return 0;
}

static void maybe_server_closed(struct srv_http *srv)
{
    /* Conns leave the list in conn_close but are freed only when their
     * handles are closed: wait for those too. */
    if (!srv->closing || srv->handles > 0 || srv->live > 0)
        return;
    if (srv->close_cb != NULL)
        srv->close_cb(srv);
    srv__http_free_detached(srv);
}

void srv_http_close(struct srv_http *srv, srv_http_close_cb cb)
{
    srv->closing = true;
    srv->close_cb = cb;
    while (srv->conns != NULL)
        conn_close(srv->conns); /* also leaves the dirty list */
    if (srv->prepare_on)
        uv_prepare_stop(&srv->prepare);
    srv->prepare_on = false;
    uv_close((uv_handle_t *)&srv->listener, on_server_handle_closed);
    uv_close((uv_handle_t *)&srv->prepare, on_server_handle_closed);
}

int srv_http_port(const struct srv_http *srv)
{
    return srv->port;
}

void *srv_http_data(const struct srv_http *srv)
{
    return srv->cfg.data;
}

unsigned srv_http_conns(const struct srv_http *srv)
{
    return srv->nconns;
}

/* ---- detached connections (tests, fuzzing)
 * ------------------------------------ */

struct srv_conn *srv__conn_new_detached(struct srv_http *srv,
                                        srv__sink_fn fn,
                                        void *arg)
{
    struct srv_conn *c = mem_calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->srv = srv;
    c->state = SRV__OPEN;
    c->detached = true;
    c->sink = fn;
    c->sink_arg = arg;
    srv__conn_parser_init(c);
    conn_link(c);
    return c;
}

void srv__conn_free_detached(struct srv_conn *c)
{
    conn_close(c);
    conn_free(c);
}

int srv_req_set_note(struct srv_req *req, const char *text)
{
    char *copy = mem_strdup(text);

    if (copy == NULL)
        return -ENOMEM;
    mem_free(req->priv->note);
    req->priv->note = copy;
    return 0;
}

const char *srv_req_note(const struct srv_req *req)
{
    return req->priv != NULL ? req->priv->note : NULL;
}

void srv_req_attach(struct srv_req *req, void *p, void (*free_fn)(void *))
{
    if (req->priv->attached_free != NULL)
        req->priv->attached_free(req->priv->attached);
    req->priv->attached = p;
    req->priv->attached_free = free_fn;
}

void *srv_req_attached(const struct srv_req *req)
{
    return req->priv != NULL ? req->priv->attached : NULL;
}

void srv_req_peer_ip(const struct srv_req *req, char *out, size_t size)
{
    struct srv_conn *c = req->priv != NULL ? req->priv->conn : NULL;
    struct sockaddr_storage ss = {0};
    int len = sizeof ss;

    out[0] = '\0';
    if (c == NULL || c->detached ||
        uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET)
        (void)inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out,
                        (socklen_t)size);
    else if (ss.ss_family == AF_INET6)
        (void)inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
                        out, (socklen_t)size);
}

X509 *srv_req_peer_cert(const struct srv_req *req)
{
    struct srv_conn *c = req->priv != NULL ? req->priv->conn : NULL;

    if (c == NULL || !c->has_tls || c->tls.ssl == NULL ||
        SSL_get_verify_result(c->tls.ssl) != X509_V_OK)
        return NULL;
    return SSL_get0_peer_certificate(c->tls.ssl);
}
