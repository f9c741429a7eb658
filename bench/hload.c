/* hload (see hload.h): epoll, non-blocking sockets, OpenSSL, http_parser.
 * Connections are set up blocking (with a time limit), then switched to
 * non-blocking for the measured traffic. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <http_parser.h>
#include <openssl/err.h>

#include "bench/common.h"
#include "bench/hload.h"

struct hl_conn {
    struct hl_loop *loop;
    struct hl_conn *next, *prev; /* the loop's list */
    int fd;
    SSL *ssl;
    int port;
    http_parser parser;
    char *out; /* request bytes not yet written */
    size_t out_len, out_off;
    char *body; /* collected response body */
    size_t body_len, body_cap;
    bool busy, dead, complete, want_out;
    uint64_t deadline_ns; /* 0: none */
    hl_done_cb done;
    hl_data_cb on_data;
    void *user;
};

struct hl_loop {
    int ep;
    struct hl_conn *conns;
};

static http_parser_settings settings;

/* ---- TLS
 * --------------------------------------------------------------------*/

SSL_CTX *hl_tls_client(const char *ca_file, const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL)
        bench_die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
            bench_die("cannot load CA %s", ca_file);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    if (cert != NULL &&
        (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1))
        bench_die("cannot load client certificate %s / %s", cert, key);
    return ctx;
}

/* ---- parser callbacks
 * -------------------------------------------------------*/

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct hl_conn *c = p->data;

    if (c->on_data != NULL) {
        c->on_data(c, at, len);
        return 0;
    }
    if (c->body_len + len + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + len + 1)
            cap *= 2;
        char *b = realloc(c->body, cap);
        if (b == NULL)
            bench_die("out of memory");
        c->body = b;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    c->body[c->body_len] = '\0';
    return 0;
}

static int on_complete(http_parser *p)
{
    struct hl_conn *c = p->data;

    c->complete = true;
    http_parser_pause(p, 1); /* the done callback runs after execute */
    return 0;
}

/* ---- connections
 * ------------------------------------------------------------*/

struct hl_loop *hl_loop_new(void)
{
    struct hl_loop *l = calloc(1, sizeof *l);

    settings.on_body = on_body;
    settings.on_message_complete = on_complete;
    if (l == NULL || (l->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        bench_die("epoll: %s", strerror(errno));
    return l;
}

void hl_loop_free(struct hl_loop *l)
{
    if (l == NULL)
        return;
    while (l->conns != NULL)
        hl_close(l->conns);
    close(l->ep);
    free(l);
}

static void set_timeouts(int fd, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int connect_tcp(int port, unsigned timeout_ms)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1, err = 0;
    socklen_t elen = sizeof err;
    struct pollfd pfd;

    if (fd < 0)
        return -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        pfd = (struct pollfd){fd, POLLOUT, 0};
        if (errno != EINPROGRESS || poll(&pfd, 1, (int)timeout_ms) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 ||
            err != 0) {
            close(fd);
            return -1;
        }
    }
    /* Blocking, with limits, for the handshake. */
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    set_timeouts(fd, timeout_ms);
    return fd;
}

struct hl_conn *hl_connect(struct hl_loop *l,
                           const struct hl_endpoint *ep,
                           unsigned timeout_ms)
{
    struct hl_conn *c;
    int fd = connect_tcp(ep->port, timeout_ms);
    struct epoll_event ev = {.events = EPOLLIN};

    if (fd < 0)
        return NULL;
    if ((c = calloc(1, sizeof *c)) == NULL)
        bench_die("out of memory");
    c->fd = fd;
    c->loop = l;
    c->port = ep->port;
    if (ep->tls != NULL) {
        c->ssl = SSL_new(ep->tls);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1 ||
            SSL_connect(c->ssl) != 1) {
            ERR_clear_error();
            if (c->ssl != NULL)
                SSL_free(c->ssl);
            close(fd);
            free(c);
            return NULL;
        }
    }
    set_timeouts(fd, 0);
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    ev.data.ptr = c;
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        bench_die("epoll_ctl: %s", strerror(errno));
    c->next = l->conns;
    if (l->conns != NULL)
        l->conns->prev = c;
    l->conns = c;
    return c;
}

void hl_close(struct hl_conn *c)
{
    struct hl_loop *l = c->loop;

    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    (void)epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    close(c->fd);
    free(c->out);
    free(c->body);
    free(c);
}

bool hl_conn_dead(const struct hl_conn *c)
{
    return c->dead;
}

bool hl_conn_busy(const struct hl_conn *c)
{
    return c->busy;
}

void hl_set_user(struct hl_conn *c, void *user)
{
    c->user = user;
}

void *hl_user(const struct hl_conn *c)
{
    return c->user;
}

static void watch_out(struct hl_conn *c, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u),
                             .data.ptr = c};

    if (c->want_out == on)
        return;
    c->want_out = on;
    (void)epoll_ctl(c->loop->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* End the request in flight with @status (a failure marks the connection
 * dead: its stream state is unknown). */
static void finish(struct hl_conn *c, int status)
{
    hl_done_cb done = c->done;

    c->busy = false;
    c->deadline_ns = 0;
    if (status < 0) {
        c->dead = true;
        watch_out(c, false);
        (void)epoll_ctl(c->loop->ep, EPOLL_CTL_DEL, c->fd, NULL);
    }
    if (done != NULL)
        done(c, status, c->body, c->body_len);
}

static void flush_out(struct hl_conn *c)
{
    while (c->out_off < c->out_len) {
        size_t left = c->out_len - c->out_off;
        ssize_t n;
        if (c->ssl != NULL) {
            int r = SSL_write(c->ssl, c->out + c->out_off, (int)left);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                ERR_clear_error();
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    watch_out(c, true);
                    return;
                }
                finish(c, HL_ERR_IO);
                return;
            }
            n = r;
        } else {
            n = write(c->fd, c->out + c->out_off, left);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                watch_out(c, true);
                return;
            }
            if (n <= 0) {
                finish(c, HL_ERR_IO);
                return;
            }
        }
        c->out_off += (size_t)n;
    }
    watch_out(c, false);
}

int hl_send(struct hl_conn *c,
            const char *method,
            const char *path,
            const char *content_type,
            const char *body,
            size_t len,
            hl_done_cb done,
            hl_data_cb on_data,
            unsigned timeout_ms)
{
    char head[1024];
    int n;

    if (c->busy || c->dead)
        return -1;
    n = snprintf(head, sizeof head,
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                 "Accept: application/json\r\n%s%s%s"
                 "Content-Length: %zu\r\n\r\n",
                 method, path, c->port, content_type ? "Content-Type: " : "",
                 content_type ? content_type : "", content_type ? "\r\n" : "",
                 body != NULL ? len : 0);
    if (n < 0 || (size_t)n >= sizeof head)
        bench_die("request line too long");
    free(c->out);
    c->out_len = (size_t)n + (body != NULL ? len : 0);
    if ((c->out = malloc(c->out_len)) == NULL)
        bench_die("out of memory");
    memcpy(c->out, head, (size_t)n);
    if (body != NULL)
        memcpy(c->out + n, body, len);
    c->out_off = 0;
    c->body_len = 0;
    c->busy = true;
    c->complete = false;
    c->done = done;
    c->on_data = on_data;
    c->deadline_ns =
        timeout_ms ? bench_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    flush_out(c);
    return 0;
}

/* Feed received bytes; false once the connection failed. */
static bool feed(struct hl_conn *c, const char *buf, size_t n)
{
    size_t used = http_parser_execute(&c->parser, &settings, buf, n);

    if (c->complete) {
        http_parser_pause(&c->parser, 0);
        finish(c, c->parser.status_code);
        return !c->dead;
    }
    if (used != n || HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
        finish(c, HL_ERR_IO);
        return false;
    }
    return true;
}

static void on_readable(struct hl_conn *c)
{
    char buf[65536];

    for (;;) {
        ssize_t n;
        if (c->ssl != NULL) {
            int r = SSL_read(c->ssl, buf, sizeof buf);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                ERR_clear_error();
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    return;
                n = -1;
            } else {
                n = r;
            }
        } else {
            n = read(c->fd, buf, sizeof buf);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        }
        if (n <= 0) {
            if (c->busy) {
                /* A body that ends with the connection is complete. */
                if (n == 0 &&
                    http_parser_execute(&c->parser, &settings, buf, 0) == 0 &&
                    c->complete) {
                    finish(c, c->parser.status_code);
                    c->dead = true;
                    return;
                }
                finish(c, HL_ERR_IO);
            } else {
                c->dead = true;
                (void)epoll_ctl(c->loop->ep, EPOLL_CTL_DEL, c->fd, NULL);
            }
            return;
        }
        if (!c->busy) /* unasked-for bytes: drop the connection */
            continue;
        if (!feed(c, buf, (size_t)n) || !c->busy)
            return;
    }
}

static void expire(struct hl_loop *l)
{
    uint64_t now = bench_now_ns();

    for (struct hl_conn *c = l->conns; c != NULL; c = c->next)
        if (c->busy && c->deadline_ns != 0 && now > c->deadline_ns)
            finish(c, HL_ERR_TIMEOUT);
}

void hl_run_once(struct hl_loop *l, int timeout_ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(l->ep, evs, 256, timeout_ms);
    static uint64_t last_expire;

    for (int i = 0; i < n; i++) {
        struct hl_conn *c = evs[i].data.ptr;
        if (c->dead)
            continue;
        if ((evs[i].events & EPOLLOUT) && c->busy)
            flush_out(c);
        if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            on_readable(c);
    }
    if (bench_now_ns() - last_expire > 10000000u) {
        last_expire = bench_now_ns();
        expire(l);
    }
}

/* ---- one request, waited for
 * --------------------------------------------------*/

struct sync_result {
    bool done;
    int status;
    char *body;
};

static void sync_done(struct hl_conn *c,
                      int status,
                      const char *body,
                      size_t len)
{
    struct sync_result *r = hl_user(c);

    r->done = true;
    r->status = status;
    if (body != NULL && (r->body = malloc(len + 1)) != NULL) {
        memcpy(r->body, body, len);
        r->body[len] = '\0';
    }
}

int hl_request_sync(struct hl_loop *l,
                    struct hl_conn *c,
                    const char *method,
                    const char *path,
                    const char *content_type,
                    const char *body,
                    size_t len,
                    unsigned timeout_ms,
                    char **ret_body)
{
    struct sync_result r = {0};
    void *saved = hl_user(c);

    if (ret_body != NULL)
        *ret_body = NULL;
    hl_set_user(c, &r);
    if (hl_send(c, method, path, content_type, body, len, sync_done, NULL,
                timeout_ms) != 0) {
        hl_set_user(c, saved);
        return HL_ERR_IO;
    }
    while (!r.done)
        hl_run_once(l, 5);
    hl_set_user(c, saved);
    if (ret_body != NULL)
        *ret_body = r.body;
    else
        free(r.body);
    return r.status;
}
