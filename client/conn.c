/* One HTTP/1.1 connection, plain or TLS, on a non-blocking socket driven
 * by poll() against a deadline: connect, send a request, read an answer. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <http_parser.h>

#include "client/conn.h"
#include "lib/mem.h"

int64_t client__now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void client__sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000};

    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Wait until @fd is ready for @events or @deadline passes. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - client__now_ms();
        struct pollfd p = {.fd = fd, .events = events};
        int n;

        if (left <= 0)
            return -ETIMEDOUT;
        n = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

static int tcp_connect(const struct client__url *u, int64_t deadline)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char port[8];
    int rv = -EHOSTUNREACH;

    (void)snprintf(port, sizeof port, "%d", u->port);
    if (getaddrinfo(u->host, port, &hints, &res) != 0)
        return -EHOSTUNREACH;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family,
                        SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1, soerr = 0;
        socklen_t len = sizeof soerr;

        if (fd < 0) {
            rv = -errno;
            continue;
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
            errno != EINPROGRESS) {
            rv = -errno;
            close(fd);
            continue;
        }
        if ((rv = wait_fd(fd, POLLOUT, deadline)) == 0 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
            soerr == 0) {
            freeaddrinfo(res);
            return fd;
        }
        if (rv == 0)
            rv = soerr != 0 ? -soerr : -ECONNREFUSED;
        close(fd);
    }
    freeaddrinfo(res);
    return rv;
}

/* Drive one SSL call until it completes or the deadline passes. */
static int ssl_wait(SSL *ssl, int fd, int r, int64_t deadline)
{
    switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return wait_fd(fd, POLLIN, deadline);
    case SSL_ERROR_WANT_WRITE:
        return wait_fd(fd, POLLOUT, deadline);
    case SSL_ERROR_ZERO_RETURN:
        return -ECONNRESET;
    case SSL_ERROR_SYSCALL:
        return errno != 0 ? -errno : -ECONNRESET;
    default:
        return -EPROTO;
    }
}

/* ---- a socket BIO that never raises SIGPIPE ---------------------------------
 * OpenSSL's socket BIO writes with write(), which raises SIGPIPE when the
 * server has gone: that would kill the program linking us. This one sends
 * with MSG_NOSIGNAL instead. */
static int nosig_write(BIO *b, const char *data, size_t len, size_t *written)
{
    ssize_t n = send((int)(intptr_t)BIO_get_data(b), data, len, MSG_NOSIGNAL);

    BIO_clear_retry_flags(b);
    if (n >= 0) {
        *written = (size_t)n;
        return 1;
    }
    if (errno == EAGAIN || errno == EINTR)
        BIO_set_retry_write(b);
    return 0;
}

static int nosig_read(BIO *b, char *data, size_t len, size_t *got)
{
    ssize_t n = recv((int)(intptr_t)BIO_get_data(b), data, len, 0);

    BIO_clear_retry_flags(b);
    if (n > 0) {
        *got = (size_t)n;
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        BIO_set_retry_read(b);
    else if (n == 0)
        BIO_set_flags(b, BIO_FLAGS_IN_EOF);
    return 0;
}

static long nosig_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH || cmd == BIO_CTRL_DUP ? 1 : 0;
}

static int nosig_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *nosig;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static void nosig_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
                                     BIO_TYPE_DESCRIPTOR,
                                 "c8s socket");

    if (m != NULL && BIO_meth_set_write_ex(m, nosig_write) == 1 &&
        BIO_meth_set_read_ex(m, nosig_read) == 1 &&
        BIO_meth_set_ctrl(m, nosig_ctrl) == 1 &&
        BIO_meth_set_create(m, nosig_create) == 1)
        nosig = m;
    else
        BIO_meth_free(m);
}

/* A BIO on @fd, or NULL. */
static BIO *nosig_bio(int fd)
{
    BIO *b;

    (void)pthread_once(&nosig_once, nosig_init);
    if (nosig == NULL || (b = BIO_new(nosig)) == NULL)
        return NULL;
    BIO_set_data(b, (void *)(intptr_t)fd);
    return b;
}

SSL *client__ssl_new(SSL_CTX *ctx, const struct client__url *u,
                     const char *sni)
{
    const char *name = sni != NULL ? sni : u->host;
    SSL *ssl = SSL_new(ctx);

    if (ssl == NULL)
        return NULL;
    /* Names are checked as kubectl does: an IP against the certificate's
     * IP SANs, a host name against its DNS SANs. */
    if (sni == NULL && u->is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1)
            return ssl;
    } else if (SSL_set_tlsext_host_name(ssl, name) == 1 &&
               SSL_set1_host(ssl, name) == 1) {
        return ssl;
    }
    SSL_free(ssl);
    return NULL;
}

void client__tls_why(SSL *ssl, char *why, size_t why_len)
{
    long vr = SSL_get_verify_result(ssl);

    if (vr != X509_V_OK)
        (void)snprintf(why, why_len, "certificate verification failed: %s",
                       X509_verify_cert_error_string(vr));
    else
        ERR_error_string_n(ERR_peek_last_error(), why, why_len);
    ERR_clear_error();
}

static int tls_handshake(struct client__conn *c, SSL_CTX *ctx,
                         const struct client__url *u, const char *sni,
                         int64_t deadline, char *why, size_t why_len)
{
    BIO *bio;
    int rv;

    c->ssl = client__ssl_new(ctx, u, sni);
    if (c->ssl == NULL || (bio = nosig_bio(c->fd)) == NULL)
        return -ENOMEM;
    SSL_set_bio(c->ssl, bio, bio);
    for (;;) {
        int r;

        ERR_clear_error(); /* SSL_get_error reads the thread's queue */
        r = SSL_connect(c->ssl);
        if (r == 1) {
            c->healthy = true;
            return 0;
        }
        errno = 0;
        rv = ssl_wait(c->ssl, c->fd, r, deadline);
        if (rv == -EPROTO) {
            client__tls_why(c->ssl, why, why_len);
            return -EPROTO;
        }
        if (rv != 0)
            return rv;
    }
}

int client__conn_open(struct client__conn *c, const struct client__url *u,
                      SSL_CTX *ctx, const char *sni, int64_t deadline,
                      char *why, size_t why_len)
{
    int rv;

    memset(c, 0, sizeof *c);
    why[0] = '\0';
    c->fd = tcp_connect(u, deadline);
    if (c->fd < 0) {
        rv = c->fd;
        c->fd = -1;
        return rv;
    }
    if (u->tls &&
        (rv = tls_handshake(c, ctx, u, sni, deadline, why, why_len)) != 0) {
        client__conn_close(c);
        return rv;
    }
    return 0;
}

void client__conn_close(struct client__conn *c)
{
    if (c->ssl != NULL) {
        /* close_notify only on a connection in good order: during a
         * handshake or after an error it fails and leaves errors behind
         * that would mislead the next SSL_get_error on this thread. */
        if (c->healthy) {
            ERR_clear_error();
            (void)SSL_shutdown(c->ssl); /* best effort, non-blocking */
        }
        ERR_clear_error();
        SSL_free(c->ssl);
    }
    c->healthy = false;
    if (c->fd >= 0)
        close(c->fd);
    c->ssl = NULL;
    c->fd = -1;
}

static int conn_write(struct client__conn *c, const char *p, size_t len,
                      int64_t deadline)
{
    while (len > 0) {
        int rv;

        if (c->ssl != NULL) {
            size_t n = 0;
            int r;

            ERR_clear_error();
            r = SSL_write_ex(c->ssl, p, len, &n);

            if (r == 1) {
                p += n;
                len -= n;
                continue;
            }
            errno = 0;
            rv = ssl_wait(c->ssl, c->fd, r, deadline);
            if (rv != 0 && rv != -ETIMEDOUT)
                c->healthy = false;
        } else {
            ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

            if (n >= 0) {
                p += n;
                len -= (size_t)n;
                continue;
            }
            rv = errno == EAGAIN ? wait_fd(c->fd, POLLOUT, deadline)
                 : errno == EINTR ? 0
                                  : -errno;
        }
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* Read what is there (waiting for something); 0 bytes means EOF. */
static int conn_read(struct client__conn *c, char *buf, size_t cap,
                     size_t *ret, int64_t deadline)
{
    for (;;) {
        int rv;

        if (c->ssl != NULL) {
            int r;

            ERR_clear_error();
            r = SSL_read_ex(c->ssl, buf, cap, ret);

            if (r == 1)
                return 0;
            if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN) {
                *ret = 0;
                return 0;
            }
            errno = 0;
            rv = ssl_wait(c->ssl, c->fd, r, deadline);
            if (rv != 0 && rv != -ETIMEDOUT)
                c->healthy = false;
        } else {
            ssize_t n = recv(c->fd, buf, cap, 0);

            if (n >= 0) {
                *ret = (size_t)n;
                return 0;
            }
            rv = errno == EAGAIN ? wait_fd(c->fd, POLLIN, deadline)
                 : errno == EINTR ? 0
                                  : -errno;
        }
        if (rv != 0)
            return rv;
    }
}

int client__conn_send(struct client__conn *c, const char *head,
                      size_t head_len, const void *body, size_t body_len,
                      int64_t deadline)
{
    int rv = conn_write(c, head, head_len, deadline);

    if (rv == 0 && body_len > 0)
        rv = conn_write(c, body, body_len, deadline);
    return rv;
}

/* ---- reading the answer ----------------------------------------------------*/

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct client__reader *r = p->data;

    if (r->in_value) {
        r->field_len = 0;
        r->in_value = false;
    }
    for (size_t i = 0; i < len && r->field_len + 1 < sizeof r->field; i++)
        r->field[r->field_len++] = (char)(at[i] | 0x20);
    r->field[r->field_len] = '\0';
    return 0;
}

static void append_value(char *dst, size_t cap, const char *at, size_t len)
{
    size_t have = strlen(dst);

    if (have + 1 >= cap)
        return;
    if (len > cap - have - 1)
        len = cap - have - 1;
    memcpy(dst + have, at, len);
    dst[have + len] = '\0';
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct client__reader *r = p->data;

    r->in_value = true;
    if (strcmp(r->field, "content-type") == 0)
        append_value(r->a->content_type, sizeof r->a->content_type, at, len);
    else if (strcmp(r->field, "retry-after") == 0)
        append_value(r->a->retry_after, sizeof r->a->retry_after, at, len);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct client__reader *r = p->data;

    r->headers_done = true;
    r->a->status = (int)p->status_code;
    return r->head_request ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct client__reader *r = p->data;
    struct client__answer *a = r->a;

    if (a->body_len + len > CLIENT_MAX_BODY) {
        r->error = -C8S_ETOOLARGE;
        return 1;
    }
    if (a->body_len + len + 1 > a->body_cap) {
        size_t cap = a->body_cap < 4096 ? 4096 : a->body_cap;
        char *b;

        while (cap < a->body_len + len + 1)
            cap *= 2;
        if ((b = mem_realloc(a->body, cap)) == NULL) {
            r->error = -ENOMEM;
            return 1;
        }
        a->body = b;
        a->body_cap = cap;
    }
    memcpy(a->body + a->body_len, at, len);
    a->body_len += len;
    a->body[a->body_len] = '\0';
    return 0;
}

static int on_complete(http_parser *p)
{
    struct client__reader *r = p->data;

    r->done = true;
    r->a->status = (int)p->status_code;
    r->a->keep_alive = http_should_keep_alive(p) != 0;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings reader_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

void client__reader_init(struct client__reader *r, struct client__answer *a,
                         bool head_request)
{
    memset(r, 0, sizeof *r);
    r->a = a;
    r->head_request = head_request;
    http_parser_init(&r->p, HTTP_RESPONSE);
    r->p.data = r;
}

int client__reader_feed(struct client__reader *r, const char *data, size_t n)
{
    size_t used = http_parser_execute(&r->p, &reader_settings, data, n);

    if (r->error != 0)
        return r->error;
    if (n == 0 && !r->done) /* EOF: complete only if it ends the body */
        return r->got_any ? -EPROTO : -ECONNRESET;
    if (HTTP_PARSER_ERRNO(&r->p) != HPE_OK &&
        HTTP_PARSER_ERRNO(&r->p) != HPE_PAUSED)
        return -EPROTO;
    if (r->done && used < n)
        r->a->keep_alive = false; /* bytes after the answer: unusable */
    if (n > 0)
        r->got_any = true;
    return 0;
}

int client__reader_step(struct client__conn *c, struct client__reader *r,
                        int64_t deadline)
{
    char buf[16384];
    size_t n = 0;
    int rv = conn_read(c, buf, sizeof buf, &n, deadline);

    if (rv != 0)
        return r->got_any && rv != -ETIMEDOUT ? -EPROTO : rv;
    return client__reader_feed(r, buf, n);
}

int client__conn_receive(struct client__conn *c, bool head_request,
                         struct client__answer *a, int64_t deadline)
{
    struct client__reader r;
    int rv;

    client__reader_init(&r, a, head_request);
    while (!r.done)
        if ((rv = client__reader_step(c, &r, deadline)) != 0)
            return rv;
    return 0;
}

void client__answer_reset(struct client__answer *a)
{
    mem_free(a->body);
    memset(a, 0, sizeof *a);
}

/* ---- URLs ------------------------------------------------------------------*/

int client__url_parse(const char *s, struct client__url *u)
{
    const char *p, *host, *end;
    size_t hlen;

    memset(u, 0, sizeof *u);
    if (strncmp(s, "https://", 8) == 0) {
        u->tls = true;
        u->port = 443;
        p = s + 8;
    } else if (strncmp(s, "http://", 7) == 0) {
        u->port = 80;
        p = s + 7;
    } else {
        return -EINVAL;
    }
    if (*p == '[') { /* [v6]:port */
        host = p + 1;
        end = strchr(host, ']');
        if (end == NULL)
            return -EINVAL;
        hlen = (size_t)(end - host);
        p = end + 1;
    } else {
        host = p;
        hlen = strcspn(p, ":/");
        p += hlen;
    }
    if (hlen == 0 || hlen >= sizeof u->host)
        return -EINVAL;
    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';
    if (*p == ':') {
        char *e;
        long port = strtol(p + 1, &e, 10);

        if (e == p + 1 || port < 1 || port > 65535 || (*e != '\0' && *e != '/'))
            return -EINVAL;
        u->port = (int)port;
        p = e;
    }
    if (*p != '\0' && *p != '/')
        return -EINVAL;
    if (strlen(p) >= sizeof u->prefix)
        return -EINVAL;
    strcpy(u->prefix, p);
    while (u->prefix[0] != '\0' && u->prefix[strlen(u->prefix) - 1] == '/')
        u->prefix[strlen(u->prefix) - 1] = '\0';
    unsigned char tmp[16];
    u->is_ip = inet_pton(AF_INET, u->host, tmp) == 1 ||
               inet_pton(AF_INET6, u->host, tmp) == 1;
    return 0;
}
