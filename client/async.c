/* Requests on a libuv loop (c8s/async.h). The servers, TLS setup, request
 * head and retry rules are the blocking client's (client.c); here they are
 * driven by uv_tcp_t and OpenSSL memory BIOs instead of poll(), so nothing
 * waits on the loop's thread.
 *
 * A request owns a timer that measures its current phase: the pause before
 * an attempt, the wait for a connection when its server has CONNS_MAX, the
 * connect and TLS handshake (connect timeout), then the wait for the answer
 * (the request's deadline). A connection belongs to one
 * request while it is used and to its server's idle list between uses; an
 * idle connection keeps reading so that a server closing it is noticed. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

#include <c8s/async.h>

#include "client/conn.h"
#include "client/internal.h"
#include "lib/mem.h"

/* Connections per server, busy or idle. Requests beyond wait in order for
 * one (HTTP/1.1 has one request per connection at a time); an idle one is
 * kept, as the next burst will want it. */
#define CONNS_MAX 32
#define READ_CHUNK 65536

struct aconn;

struct c8s_async_req {
    struct c8s_async *owner;
    struct c8s_async_req *prev, *next; /* the owner's pending requests */
    uv_timer_t timer;
    int64_t due_ms; /* when timer is meant to fire (client__now_ms) */
    enum { PAUSED, QUEUED, READY, CONNECTING, SENT } phase;
    struct c8s_async_req *wprev, *wnext; /* the server's queue when QUEUED */
    bool done; /* the callback ran (or runs) */
    struct client__attempt a;
    char *method, *path, *content_type;
    void *body;
    struct aconn *conn; /* the connection of the current attempt */
    c8s_async_cb cb;
    void *data;
};

struct aconn {
    struct c8s_async *owner;
    struct aconn *prev, *next; /* the owner's connections */
    struct aconn *idle_next;   /* the server's idle list */
    size_t si;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_getaddrinfo_t gai;
    struct sockaddr_storage ip;    /* the server's address when it is one */
    struct addrinfo *addrs, *addr; /* else those resolved, the one tried */
    bool tcp_open;    /* tcp initialised and not closed yet */
    bool reconnecting; /* tcp closing to try the next address */
    bool resolving, closing, idle, broken;
    SSL *ssl;          /* NULL for http:// */
    BIO *net_in, *net_out; /* bytes from the socket for OpenSSL; its output */
    bool handshaken;
    struct c8s_async_req *req; /* NULL while idle */
    struct client__reader rd;
};

struct c8s_async {
    uv_loop_t *loop;
    struct c8s_client *c;
    struct c8s_async_req *reqs;
    size_t n_reqs;
    struct aconn *conns;
    struct server_state {
        struct aconn *idle;
        size_t n_conns; /* open, busy or idle */
        struct c8s_async_req *queue, *queue_tail;
    } *servers;
    size_t live; /* requests and connections not freed yet, and kick */
    bool closing;
    uv_timer_t kick; /* closed last, so close_cb always runs from the loop */
    void (*close_cb)(void *data);
    void *close_data;
    char rbuf[READ_CHUNK]; /* socket reads (one at a time: one thread) */
    char pbuf[READ_CHUNK]; /* plaintext out of OpenSSL */
};

/* A write in flight: libuv needs the bytes until it is done. */
struct wbuf {
    uv_write_t req;
    struct aconn *conn;
    char bytes[];
};

static void attempt_done(struct c8s_async_req *req, enum client__outcome o);
static void conn_fail(struct aconn *k, int code);
static void on_timer(uv_timer_t *t);

/* Run @req's timer at @due (client__now_ms). libuv counts from its cached
 * loop time, which lags the clock by up to an iteration, so a timer may
 * fire early: on_timer waits out the rest. (A deadline that fired early
 * made a sent GET look lost with time to spare, and it was sent again.) */
static void arm(struct c8s_async_req *req, int64_t due)
{
    int64_t now = client__now_ms();

    req->due_ms = due;
    (void)uv_timer_start(&req->timer, on_timer,
                         due > now ? (uint64_t)(due - now) : 0, 0);
}

/* ---- the client's lifetime ------------------------------------------------*/

static void maybe_closed(struct c8s_async *a)
{
    void (*cb)(void *data) = a->close_cb;
    void *data = a->close_data;

    if (!a->closing || a->live > 0)
        return;
    c8s_client_free(a->c);
    mem_free(a->servers);
    mem_free(a);
    if (cb != NULL)
        cb(data);
}

static void on_kick_closed(uv_handle_t *h)
{
    struct c8s_async *a = h->data;

    a->live--;
    maybe_closed(a);
}

int c8s_async_new(struct uv_loop_s *loop, const struct c8s_kubeconfig *kc,
                  const struct c8s_client_opts *opts, struct c8s_async **ret,
                  struct c8s_error *err)
{
    struct c8s_async *a = mem_calloc(1, sizeof *a);
    size_t n;
    int rv;

    *ret = NULL;
    if (a == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    if ((rv = c8s_client_new(kc, opts, &a->c, err)) != 0) {
        mem_free(a);
        return rv;
    }
    n = client__server_count(a->c);
    a->servers = mem_calloc(n, sizeof *a->servers);
    if (a->servers == NULL) {
        c8s_client_free(a->c);
        mem_free(a);
        return client__fail(err, -ENOMEM, "out of memory");
    }
    a->loop = loop;
    (void)uv_timer_init(loop, &a->kick); /* cannot fail for a timer */
    a->kick.data = a;
    a->live = 1;
    *ret = a;
    return 0;
}

size_t c8s_async_pending(const struct c8s_async *a)
{
    return a->n_reqs;
}

/* ---- connections ----------------------------------------------------------*/

static void conn_maybe_free(struct aconn *k)
{
    struct c8s_async *a = k->owner;

    if (!k->closing || k->tcp_open || k->resolving)
        return;
    if (k->prev != NULL)
        k->prev->next = k->next;
    else
        a->conns = k->next;
    if (k->next != NULL)
        k->next->prev = k->prev;
    if (k->addrs != NULL)
        uv_freeaddrinfo(k->addrs);
    mem_free(k);
    a->live--;
    maybe_closed(a);
}

static void idle_remove(struct aconn *k)
{
    struct aconn **p = &k->owner->servers[k->si].idle;

    while (*p != NULL && *p != k)
        p = &(*p)->idle_next;
    if (*p == k)
        *p = k->idle_next;
    k->idle = false;
}

/* Line up @req for a connection to @si: at the back, or at the front for
 * one that was woken and found the slot taken meanwhile. */
static void queue_push(struct c8s_async_req *req, size_t si, bool front)
{
    struct server_state *ss = &req->owner->servers[si];

    if (front && ss->queue != NULL) {
        req->wprev = NULL;
        req->wnext = ss->queue;
        ss->queue->wprev = req;
        ss->queue = req;
        return;
    }
    req->wnext = NULL;
    req->wprev = ss->queue_tail;
    if (ss->queue_tail != NULL)
        ss->queue_tail->wnext = req;
    else
        ss->queue = req;
    ss->queue_tail = req;
}

static void queue_remove(struct c8s_async_req *req)
{
    struct server_state *ss = &req->owner->servers[req->a.si];

    if (req->wprev != NULL)
        req->wprev->wnext = req->wnext;
    else
        ss->queue = req->wnext;
    if (req->wnext != NULL)
        req->wnext->wprev = req->wprev;
    else
        ss->queue_tail = req->wprev;
    req->wprev = req->wnext = NULL;
}

/* A connection to @si went idle or away: the first request waiting for
 * one goes on from the loop (this may run deep inside a failure, or in an
 * answer whose own request has not been told yet). A woken request that
 * does not use the slot passes the wake-up on. */
static void wake_one(struct c8s_async *a, size_t si)
{
    struct c8s_async_req *w = a->servers[si].queue;

    if (w == NULL || a->closing)
        return;
    queue_remove(w);
    w->phase = READY;
    arm(w, client__now_ms());
}

/* Server @si failed: every request waiting for it goes on (to another
 * server if one is not set aside). */
static void wake_all(struct c8s_async *a, size_t si)
{
    while (a->servers[si].queue != NULL && !a->closing)
        wake_one(a, si);
}

/* A close_notify for a TLS connection in good order, if the socket takes
 * it at once (best effort, as the blocking client). */
static void say_goodbye(struct aconn *k)
{
    char buf[256];
    int n;

    if (k->ssl == NULL || !k->handshaken || k->broken)
        return;
    ERR_clear_error();
    (void)SSL_shutdown(k->ssl);
    n = BIO_read(k->net_out, buf, sizeof buf);
    if (n > 0) {
        uv_buf_t b = uv_buf_init(buf, (unsigned)n);

        (void)uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
    }
    ERR_clear_error();
}

static void on_tcp_closed(uv_handle_t *h);

/* Close @k; whoever used it has been told. */
static void conn_close(struct aconn *k)
{
    if (k->closing)
        return;
    k->closing = true;
    if (k->idle)
        idle_remove(k);
    k->req = NULL;
    k->owner->servers[k->si].n_conns--;
    wake_one(k->owner, k->si);
    if (k->ssl != NULL) {
        if (k->tcp_open && !k->reconnecting)
            say_goodbye(k);
        SSL_free(k->ssl); /* and both BIOs */
        k->ssl = NULL;
    }
    if (k->resolving)
        (void)uv_cancel((uv_req_t *)&k->gai);
    if (k->tcp_open && !k->reconnecting)
        uv_close((uv_handle_t *)&k->tcp, on_tcp_closed);
    conn_maybe_free(k);
}

static void on_written(uv_write_t *w, int status)
{
    struct wbuf *b = (struct wbuf *)w;
    struct aconn *k = b->conn;

    mem_free(b);
    if (status < 0 && !k->closing)
        conn_fail(k, status);
}

/* A write buffer of @n bytes for @k, or NULL. */
static struct wbuf *wbuf_new(struct aconn *k, size_t n)
{
    struct wbuf *b = mem_malloc(sizeof *b + n);

    if (b != NULL)
        b->conn = k;
    return b;
}

/* Send the @n bytes of @b on @k; @b is freed when they are written (or
 * now, if they cannot be). */
static int wbuf_send(struct aconn *k, struct wbuf *b, size_t n)
{
    uv_buf_t buf = uv_buf_init(b->bytes, (unsigned)n);
    int rv = uv_write(&b->req, (uv_stream_t *)&k->tcp, &buf, 1, on_written);

    if (rv != 0)
        mem_free(b);
    return rv;
}

/* Send @p1 and @p2 (copied) as one write. */
static int conn_write(struct aconn *k, const void *p1, size_t n1,
                      const void *p2, size_t n2)
{
    struct wbuf *b = wbuf_new(k, n1 + n2);

    if (b == NULL)
        return -ENOMEM;
    memcpy(b->bytes, p1, n1);
    if (n2 > 0)
        memcpy(b->bytes + n1, p2, n2);
    return wbuf_send(k, b, n1 + n2);
}

/* Send what OpenSSL has written for the network. */
static int tls_flush(struct aconn *k)
{
    size_t n = BIO_ctrl_pending(k->net_out);
    struct wbuf *b;

    if (n == 0)
        return 0;
    if ((b = wbuf_new(k, n)) == NULL)
        return -ENOMEM;
    if (BIO_read(k->net_out, b->bytes, (int)n) != (int)n) {
        mem_free(b);
        return -EPROTO;
    }
    return wbuf_send(k, b, n);
}

static int tls_write_all(struct aconn *k, const char *p, size_t len)
{
    while (len > 0) {
        size_t n = 0;

        ERR_clear_error();
        if (SSL_write_ex(k->ssl, p, len, &n) != 1)
            return -EPROTO; /* a memory BIO takes everything */
        p += n;
        len -= n;
    }
    return 0;
}

/* The request of @k goes out on it; from now on a lost answer is LOST. */
static int send_request(struct aconn *k)
{
    struct c8s_async_req *req = k->req;
    struct client__attempt *a = &req->a;
    size_t head_len, body_len = a->body != NULL ? a->body_len : 0;
    char *head;
    int rv;

    if ((rv = client__build_head(k->owner->c, k->si, a, &head, &head_len)) !=
        0)
        return rv;
    req->phase = SENT;
    arm(req, a->deadline);
    client__reader_init(&k->rd, &a->ans, strcmp(a->method, "HEAD") == 0);
    if (k->ssl == NULL) {
        rv = conn_write(k, head, head_len, a->body, body_len);
    } else {
        rv = tls_write_all(k, head, head_len);
        if (rv == 0 && body_len > 0)
            rv = tls_write_all(k, a->body, body_len);
        if (rv == 0)
            rv = tls_flush(k);
    }
    free(head);
    return rv;
}

static void conn_use(struct aconn *k, struct c8s_async_req *req)
{
    int rv;

    k->req = req;
    req->conn = k;
    if ((rv = send_request(k)) != 0 && !k->closing)
        conn_fail(k, rv);
}

/* @k's request has its whole answer: @k goes to the idle list, where the
 * first request waiting for a connection to its server (woken here) finds
 * it after the usual check for bytes nobody asked for. */
static void answered(struct aconn *k)
{
    struct c8s_async *a = k->owner;
    struct server_state *ss = &a->servers[k->si];
    struct c8s_async_req *req = k->req;

    k->req = NULL;
    req->conn = NULL;
    client__server_answered(a->c, k->si);
    if (!req->a.ans.keep_alive || a->closing) {
        conn_close(k);
    } else {
        /* An idle connection does not keep the loop running. */
        uv_unref((uv_handle_t *)&k->tcp);
        k->idle = true;
        k->idle_next = ss->idle;
        ss->idle = k;
        wake_one(a, k->si);
    }
    attempt_done(req, CLIENT_ANSWERED); /* last: it may run callbacks */
}

/* Answer bytes (plaintext) for @k. */
static int deliver(struct aconn *k, const char *p, size_t n)
{
    int rv;

    if (k->req == NULL || k->req->phase != SENT)
        return -EPROTO; /* nothing was asked */
    if ((rv = client__reader_feed(&k->rd, p, n)) != 0)
        return rv;
    if (k->rd.done)
        answered(k);
    return 0;
}

/* The server closed @k. */
static void deliver_eof(struct aconn *k)
{
    int rv;

    if (k->req == NULL) { /* idle: the server let it go */
        conn_close(k);
        return;
    }
    if (k->req->phase != SENT) {
        conn_fail(k, -ECONNRESET);
        return;
    }
    rv = client__reader_feed(&k->rd, NULL, 0);
    if (rv == 0 && k->rd.done)
        answered(k);
    else
        conn_fail(k, rv != 0 ? rv : -ECONNRESET);
}

/* Let OpenSSL work on what came: finish the handshake (then send the
 * request), hand plaintext to the reader, send what it has to say. */
static int tls_pump(struct aconn *k)
{
    int r, rv;

    if (!k->handshaken) {
        ERR_clear_error();
        r = SSL_connect(k->ssl);
        if (r != 1) {
            int e = SSL_get_error(k->ssl, r);

            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return tls_flush(k);
            client__tls_why(k->ssl, k->req->a.why, sizeof k->req->a.why);
            k->broken = true;
            return -EPROTO;
        }
        k->handshaken = true;
        if ((rv = send_request(k)) != 0)
            return rv;
    }
    for (;;) {
        size_t got = 0;

        ERR_clear_error();
        r = SSL_read_ex(k->ssl, k->owner->pbuf, sizeof k->owner->pbuf, &got);
        if (r == 1) {
            if ((rv = deliver(k, k->owner->pbuf, got)) != 0)
                return rv;
            if (k->closing)
                return 0;
            continue;
        }
        switch (SSL_get_error(k->ssl, r)) {
        case SSL_ERROR_WANT_READ:
            return tls_flush(k);
        case SSL_ERROR_ZERO_RETURN: /* close_notify: the end */
            deliver_eof(k);
            return 0;
        default:
            k->broken = true;
            ERR_clear_error();
            return -EPROTO;
        }
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct aconn *k = h->data;

    (void)hint;
    *buf = uv_buf_init(k->owner->rbuf, sizeof k->owner->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct aconn *k = s->data;
    int rv = 0;

    if (k->closing || n == 0)
        return;
    if (n == UV_EOF && k->ssl != NULL && k->req != NULL &&
        k->req->phase == SENT) {
        /* TLS ends with close_notify (SSL_ERROR_ZERO_RETURN, below): a bare
         * end may be a cut, so an answer it ends is not trusted. */
        (void)snprintf(k->req->a.why, sizeof k->req->a.why,
                       "the TLS connection ended without close_notify");
        conn_fail(k, k->rd.got_any ? -EPROTO : -ECONNRESET);
        return;
    }
    if (n == UV_EOF) {
        deliver_eof(k);
        return;
    }
    if (n < 0) {
        conn_fail(k, (int)n);
        return;
    }
    if (k->ssl == NULL) {
        rv = deliver(k, buf->base, (size_t)n);
    } else if (BIO_write(k->net_in, buf->base, (int)n) != (int)n) {
        rv = -ENOMEM;
    } else {
        rv = tls_pump(k);
    }
    if (rv != 0 && !k->closing)
        conn_fail(k, rv);
}

/* TCP is up: read, and shake hands or send. */
static int conn_ready(struct aconn *k)
{
    struct c8s_async *a = k->owner;
    int rv;

    (void)uv_tcp_nodelay(&k->tcp, 1);
    (void)uv_tcp_keepalive(&k->tcp, 1, 60);
    if ((rv = uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read)) != 0)
        return rv;
    if (!client__server_url(a->c, k->si)->tls)
        return send_request(k);
    k->ssl = client__ssl_new(client__tls_ctx(a->c),
                             client__server_url(a->c, k->si),
                             client__tls_sni(a->c));
    k->net_in = BIO_new(BIO_s_mem());
    k->net_out = BIO_new(BIO_s_mem());
    if (k->ssl == NULL || k->net_in == NULL || k->net_out == NULL) {
        BIO_free(k->net_in);
        BIO_free(k->net_out);
        k->net_in = k->net_out = NULL;
        return -ENOMEM;
    }
    BIO_set_mem_eof_return(k->net_in, -1); /* empty is "wait", not EOF */
    SSL_set_bio(k->ssl, k->net_in, k->net_out);
    SSL_set_connect_state(k->ssl);
    return tls_pump(k); /* the ClientHello */
}

static int connect_to(struct aconn *k, const struct sockaddr *sa);

/* Connecting to one address failed: the next one resolved, or give up. */
static void connect_failed(struct aconn *k, int code)
{
    if (k->addr != NULL && k->addr->ai_next != NULL) {
        k->addr = k->addr->ai_next;
        k->reconnecting = true; /* on_tcp_closed goes on */
        uv_close((uv_handle_t *)&k->tcp, on_tcp_closed);
        return;
    }
    conn_fail(k, code);
}

static void on_connected(uv_connect_t *cr, int status)
{
    struct aconn *k = cr->data;
    int rv;

    if (k->closing)
        return;
    if (status < 0) {
        connect_failed(k, status);
        return;
    }
    if ((rv = conn_ready(k)) != 0 && !k->closing)
        conn_fail(k, rv);
}

static int connect_to(struct aconn *k, const struct sockaddr *sa)
{
    int rv;

    if ((rv = uv_tcp_init(k->owner->loop, &k->tcp)) != 0)
        return rv;
    k->tcp_open = true;
    k->tcp.data = k;
    k->connect.data = k;
    rv = uv_tcp_connect(&k->connect, &k->tcp, sa, on_connected);
    if (rv != 0)
        connect_failed(k, rv);
    return 0;
}

static void on_tcp_closed(uv_handle_t *h)
{
    struct aconn *k = h->data;

    k->tcp_open = false;
    if (k->reconnecting) {
        k->reconnecting = false;
        if (!k->closing) {
            int rv = connect_to(k, k->addr->ai_addr);

            if (rv != 0)
                conn_fail(k, rv);
            return;
        }
    }
    conn_maybe_free(k);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
    struct aconn *k = g->data;
    int rv;

    k->resolving = false;
    if (k->closing) {
        if (res != NULL)
            uv_freeaddrinfo(res);
        conn_maybe_free(k);
        return;
    }
    if (status < 0 || res == NULL) {
        if (k->req != NULL)
            (void)snprintf(k->req->a.why, sizeof k->req->a.why,
                           "cannot resolve %.200s: %s",
                           client__server_url(k->owner->c, k->si)->host,
                           uv_strerror(status));
        conn_fail(k, -EHOSTUNREACH);
        return;
    }
    k->addrs = k->addr = res;
    if ((rv = connect_to(k, res->ai_addr)) != 0)
        conn_fail(k, rv);
}

/* A new connection to server @si for @req: resolve if needed, connect. */
static void conn_open(struct c8s_async *a, size_t si,
                      struct c8s_async_req *req)
{
    const struct client__url *u = client__server_url(a->c, si);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct aconn *k = mem_calloc(1, sizeof *k);
    char port[8];
    int rv;

    if (k == NULL) {
        req->a.code = -ENOMEM;
        attempt_done(req, CLIENT_NOT_SENT);
        return;
    }
    k->owner = a;
    k->si = si;
    a->servers[si].n_conns++;
    k->next = a->conns;
    if (a->conns != NULL)
        a->conns->prev = k;
    a->conns = k;
    a->live++;
    k->req = req;
    req->conn = k;
    if (uv_ip4_addr(u->host, u->port, (struct sockaddr_in *)&k->ip) == 0 ||
        uv_ip6_addr(u->host, u->port, (struct sockaddr_in6 *)&k->ip) == 0) {
        rv = connect_to(k, (struct sockaddr *)&k->ip);
    } else {
        (void)snprintf(port, sizeof port, "%d", u->port);
        k->gai.data = k;
        rv = uv_getaddrinfo(a->loop, &k->gai, on_resolved, u->host, port,
                            &hints);
        k->resolving = rv == 0;
    }
    if (rv != 0 && !k->closing)
        conn_fail(k, rv);
}

/* A pooled connection to @si the server has not closed meanwhile (one it
 * closed reads as ready: EOF not yet seen by the loop), or NULL. */
static struct aconn *take_idle(struct c8s_async *a, size_t si)
{
    struct aconn *k;

    while ((k = a->servers[si].idle) != NULL) {
        uv_os_fd_t fd;
        struct pollfd p = {.events = POLLIN};

        idle_remove(k);
        if (uv_fileno((uv_handle_t *)&k->tcp, &fd) == 0) {
            p.fd = fd;
            if (poll(&p, 1, 0) == 0)
                return k;
        }
        conn_close(k);
    }
    return NULL;
}

/* Server @si failed: set it aside (client.c), drop its idle connections
 * (they lead to the same place) and let its waiting requests go on. */
static void server_failed(struct c8s_async *a, size_t si)
{
    struct aconn *k;

    client__server_failed(a->c, si);
    while ((k = a->servers[si].idle) != NULL)
        conn_close(k);
    wake_all(a, si);
}

/* @k failed with @code: close it and let its request decide what next. */
static void conn_fail(struct aconn *k, int code)
{
    struct c8s_async_req *req = k->req;
    size_t si = k->si;
    enum client__outcome o;

    k->broken = true;
    conn_close(k);
    if (req == NULL)
        return;
    req->conn = NULL;
    o = req->phase == SENT ? CLIENT_LOST : CLIENT_NOT_SENT;
    /* A timeout says something about the server only when it was the
     * connect timeout, not the request's own deadline. */
    if (code != -ETIMEDOUT ||
        (o == CLIENT_NOT_SENT && client__now_ms() < req->a.deadline))
        server_failed(k->owner, si);
    if (o == CLIENT_LOST)
        client__answer_reset(&req->a.ans);
    req->a.code = code;
    attempt_done(req, o);
}

/* ---- requests -------------------------------------------------------------*/

static void on_req_closed(uv_handle_t *h)
{
    struct c8s_async_req *req = h->data;
    struct c8s_async *a = req->owner;

    mem_free(req->method);
    mem_free(req->path);
    mem_free(req->content_type);
    mem_free(req->body);
    mem_free(req);
    a->live--;
    maybe_closed(a);
}

/* Give the caller the result (canceled, or as @next says) and let go. */
static void finish(struct c8s_async_req *req, enum client__next next,
                   bool canceled)
{
    struct c8s_async *a = req->owner;
    struct c8s_response resp = {0};
    struct c8s_error err = {0};
    int rv;

    req->done = true;
    if (req->prev != NULL)
        req->prev->next = req->next;
    else
        a->reqs = req->next;
    if (req->next != NULL)
        req->next->prev = req->prev;
    a->n_reqs--;
    (void)uv_timer_stop(&req->timer);
    if (req->phase == QUEUED)
        queue_remove(req);
    else if (req->phase == READY) /* woken, never went on: pass it on */
        wake_one(a, req->a.si);
    if (req->conn != NULL) {
        struct aconn *k = req->conn;

        req->conn = NULL;
        k->req = NULL;
        k->broken = true; /* mid-request: not reusable */
        conn_close(k);
    }
    if (canceled) {
        rv = client__fail(&err, -ECANCELED, "%s %s: canceled", req->method,
                          req->path);
        client__answer_reset(&req->a.ans);
    } else {
        rv = client__attempt_end(a->c, &req->a, next, &resp, &err);
    }
    req->cb(rv, &resp, &err, req->data);
    c8s_response_clear(&resp);
    uv_close((uv_handle_t *)&req->timer, on_req_closed);
}

static void attempt_done(struct c8s_async_req *req, enum client__outcome o)
{
    int64_t wait = 0;
    enum client__next next =
        client__attempt_next(req->owner->c, &req->a, o, &wait);

    if (next != CLIENT_RETRY) {
        finish(req, next, false);
        return;
    }
    req->phase = PAUSED;
    arm(req, client__now_ms() + wait);
}


/* Send on a pooled connection to the attempt's server, or open one, or
 * wait in line for one. */
static void attempt_go(struct c8s_async_req *req)
{
    struct c8s_async *a = req->owner;
    bool woken = req->phase == READY;
    size_t si = req->a.si;
    int64_t limit = client__now_ms() + client__connect_timeout_ms(a->c);
    struct aconn *k;

    if (client__now_ms() >= req->a.deadline) { /* woken too late */
        if (woken)
            wake_one(a, si);
        req->phase = PAUSED;
        req->a.code = -ETIMEDOUT;
        attempt_done(req, CLIENT_NOT_SENT);
        return;
    }
    /* Its server failed while it waited: the one a new attempt would get
     * (the same try, as nothing was sent). */
    if (woken && client__server_set_aside(a->c, si))
        si = req->a.si = client__pick_server(a->c);
    if ((k = take_idle(a, si)) != NULL) {
        uv_ref((uv_handle_t *)&k->tcp);
        conn_use(k, req);
        return;
    }
    if (a->servers[si].n_conns >= CONNS_MAX) {
        req->phase = QUEUED;
        queue_push(req, si, woken);
        arm(req, req->a.deadline);
        return;
    }
    req->phase = CONNECTING;
    arm(req, limit < req->a.deadline ? limit : req->a.deadline);
    conn_open(a, si, req);
}

static void on_timer(uv_timer_t *t)
{
    struct c8s_async_req *req = t->data;

    if (client__now_ms() < req->due_ms) { /* early: see arm() */
        arm(req, req->due_ms);
        return;
    }
    switch (req->phase) {
    case PAUSED:
        (void)client__attempt_begin(req->owner->c, &req->a);
        attempt_go(req);
        break;
    case READY:
        attempt_go(req);
        break;
    case QUEUED: /* no connection came in time; nothing was sent */
        queue_remove(req);
        req->phase = PAUSED;
        req->a.code = -ETIMEDOUT;
        attempt_done(req, CLIENT_NOT_SENT);
        break;
    default: /* connect or answer too slow */
        if (req->conn != NULL) {
            conn_fail(req->conn, -ETIMEDOUT);
        } else { /* cannot happen: each such phase has a connection */
            req->a.code = -ETIMEDOUT;
            attempt_done(req, CLIENT_NOT_SENT);
        }
    }
}

static char *dup_or_null(const char *s, bool *failed)
{
    char *d = s != NULL ? mem_strdup(s) : NULL;

    if (s != NULL && d == NULL)
        *failed = true;
    return d;
}

int c8s_async_request(struct c8s_async *a, const char *method,
                      const char *path, const char *content_type,
                      const void *body, size_t body_len, c8s_async_cb cb,
                      void *data, struct c8s_async_req **ret,
                      struct c8s_error *err)
{
    struct c8s_async_req *req;
    bool failed = false;
    int rv;

    if (ret != NULL)
        *ret = NULL;
    if (a->closing)
        return client__fail(err, -ESHUTDOWN, "%s %s: the client is closing",
                            method, path);
    if ((req = mem_calloc(1, sizeof *req)) == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    req->method = dup_or_null(method, &failed);
    req->path = dup_or_null(path, &failed);
    req->content_type = dup_or_null(content_type, &failed);
    if (body != NULL && (req->body = mem_malloc(body_len + 1)) == NULL)
        failed = true;
    if (failed) {
        rv = client__fail(err, -ENOMEM, "out of memory");
        goto fail;
    }
    if (body != NULL)
        memcpy(req->body, body, body_len);
    rv = client__attempt_init(a->c, &req->a, req->method, req->path,
                              req->content_type, req->body, body_len, err);
    if (rv != 0)
        goto fail;
    req->owner = a;
    req->cb = cb;
    req->data = data;
    (void)uv_timer_init(a->loop, &req->timer);
    req->timer.data = req;
    req->next = a->reqs;
    if (a->reqs != NULL)
        a->reqs->prev = req;
    a->reqs = req;
    a->n_reqs++;
    a->live++;
    /* The first attempt starts from the loop, so @cb never runs before
     * this returns. */
    req->phase = PAUSED;
    arm(req, client__now_ms());
    if (ret != NULL)
        *ret = req;
    return 0;
fail:
    mem_free(req->method);
    mem_free(req->path);
    mem_free(req->content_type);
    mem_free(req->body);
    mem_free(req);
    return rv;
}

void c8s_async_cancel(struct c8s_async_req *req)
{
    if (req != NULL && !req->done)
        finish(req, CLIENT_NO_ANSWER, true);
}

void c8s_async_close(struct c8s_async *a, void (*close_cb)(void *data),
                     void *data)
{
    if (a->closing)
        return;
    a->closing = true;
    a->close_cb = close_cb;
    a->close_data = data;
    while (a->reqs != NULL)
        finish(a->reqs, CLIENT_NO_ANSWER, true);
    for (struct aconn *k = a->conns, *next; k != NULL; k = next) {
        next = k->next;
        conn_close(k);
    }
    uv_close((uv_handle_t *)&a->kick, on_kick_closed);
}
