/* Helpers for the HTTP server tests (see test_http_util.h). */
#include "tests/api/server/test_http_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lib/mem.h"
#include "tests/lib/unit.h"

int tsrv_get(int *counter)
{
    return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

size_t tsrv_get_size(size_t *v)
{
    return __atomic_load_n(v, __ATOMIC_SEQ_CST);
}

static void bump(int *counter)
{
    __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
}

/* ---- routes ---------------------------------------------------------------
 */

/* A timer-driven stream owned by a route. */
struct ticker {
    uv_timer_t timer;    /* fires every period */
    struct srv_req *req; /* the stream; NULL once ended */
    struct tsrv *t;      /* server under test */
    int left;            /* /stream: chunks still to send */
    int n;               /* chunks sent */
};

static void ticker_closed(uv_handle_t *h)
{
    free(h->data);
}

static void ticker_stop(struct ticker *k)
{
    k->req = NULL;
    uv_timer_stop(&k->timer);
    uv_close((uv_handle_t *)&k->timer, ticker_closed);
}

static void on_stream_close(struct srv_req *req)
{
    struct ticker *k = req->data;

    bump(&k->t->closes);
    srv_stream_end(req);
    ticker_stop(k);
}

static void stream_tick(uv_timer_t *h)
{
    struct ticker *k = h->data;
    char line[64];

    if (k->left-- <= 0) {
        srv_stream_end(k->req);
        ticker_stop(k);
        return;
    }
    snprintf(line, sizeof(line), "chunk %d\n", k->n++);
    srv_stream_write(k->req, line, strlen(line));
}

static void flood_tick(uv_timer_t *h)
{
    struct ticker *k = h->data;
    static char block[65536];
    size_t q = srv_req_queued(k->req);

    if (q > tsrv_get_size(&k->t->max_queued))
        __atomic_store_n(&k->t->max_queued, q, __ATOMIC_SEQ_CST);
    if (q > (2u << 20)) { /* the owner drops the slow consumer */
        bump(&k->t->aborted);
        srv_req_abort(k->req);
        ticker_stop(k);
        return;
    }
    memset(block, 'x', sizeof(block));
    srv_stream_write(k->req, block, sizeof(block));
}

static void slowlimit_tick(uv_timer_t *h)
{
    struct ticker *k = h->data;
    static char block[65536];

    for (int i = 0; i < 8; i++) {
        int rv = srv_stream_write(k->req, block, sizeof(block));

        if (rv != 0) {
            __atomic_store_n(&k->t->slow_err, rv, __ATOMIC_SEQ_CST);
            uv_timer_stop(&k->timer); /* close_cb ends it */
            return;
        }
    }
}

static void start_ticker(struct tsrv *t,
                         struct srv_req *req,
                         int left,
                         unsigned period,
                         uv_timer_cb cb)
{
    struct ticker *k = calloc(1, sizeof(*k));

    k->req = req;
    k->t = t;
    k->left = left;
    uv_timer_init(&t->loop, &k->timer);
    k->timer.data = k;
    req->data = k;
    srv_req_on_close(req, on_stream_close);
    srv_stream_begin(req, 200, "application/json");
    if (period > 0)
        uv_timer_start(&k->timer, cb, period, period);
}

static void route_echo(struct srv_req *req)
{
    size_t cap = req->body_len + 512;
    char *out = malloc(cap);
    int n = snprintf(out, cap, "%s %s?%s %zu\n", req->method, req->path,
                     req->query, req->body_len);

    memcpy(out + n, req->body, req->body_len);
    srv_respond(req, 200, "text/plain", "X-Test: 1\r\n", out,
                (size_t)n + req->body_len);
    free(out);
}

static void on_request(struct srv_req *req)
{
    struct tsrv *t = srv_http_data(req->srv);

    bump(&t->requests);
    if (strcmp(req->path, "/echo") == 0) {
        route_echo(req);
    } else if (strcmp(req->path, "/stream") == 0) {
        start_ticker(t, req, atoi(req->query + 2), 20, stream_tick);
    } else if (strcmp(req->path, "/watch") == 0) {
        start_ticker(t, req, 0, 0, NULL);
        srv_stream_write(req, "{\"type\":\"ADDED\"}\n", 17);
    } else if (strcmp(req->path, "/flood") == 0) {
        start_ticker(t, req, 0, 1, flood_tick);
    } else if (strcmp(req->path, "/slowlimit") == 0) {
        start_ticker(t, req, 0, 1, slowlimit_tick);
    } else {
        srv_respond_status(req, 404, "NotFound", "no such \"path\"", 0);
    }
}

/* ---- server thread --------------------------------------------------------
 */

static void *loop_thread(void *arg)
{
    struct tsrv *t = arg;

    uv_run(&t->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void on_stop(uv_async_t *a)
{
    struct tsrv *t = a->data;

    srv_http_close(t->srv, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

void tsrv_start(struct tsrv *t, const struct srv_http_config *cfg, bool tls)
{
    struct srv_http_config c = cfg ? *cfg : (struct srv_http_config){0};
    struct err e = {0};

    memset(t, 0, sizeof(*t));
    ASSERT_EQ(uv_loop_init(&t->loop), 0);
    c.listen = "127.0.0.1:0";
    c.on_request = on_request;
    c.data = t;
    if (tls) {
        t->ctx = tls_server_ctx();
        c.tls = t->ctx;
    }
    ASSERT_MSG(srv_http_start(&t->loop, &c, &t->srv, &e) == 0, "start: %s",
               e.msg);
    t->port = srv_http_port(t->srv);
    ASSERT(t->port > 0);
    uv_async_init(&t->loop, &t->stop, on_stop);
    t->stop.data = t;
    ASSERT_EQ(pthread_create(&t->thread, NULL, loop_thread, t), 0);
}

void tsrv_stop(struct tsrv *t)
{
    uv_async_send(&t->stop);
    ASSERT_EQ(pthread_join(t->thread, NULL), 0);
    t->loop_close_rv = uv_loop_close(&t->loop);
    ASSERT_EQ(t->loop_close_rv, 0);
    if (t->ctx)
        SSL_CTX_free(t->ctx);
}

/* ---- clients ----------------------------------------------------------------
 */

struct tconn *tc_open(int port)
{
    struct tconn *c = calloc(1, sizeof(*c));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval tv = {.tv_sec = 5};
    int one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(c->fd >= 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ASSERT_MSG(connect(c->fd, (struct sockaddr *)&a, sizeof(a)) == 0,
               "connect: %s", strerror(errno));
    return c;
}

struct tconn *tc_open_tls(int port, const char *alpn, size_t alpn_len)
{
    struct tconn *c = tc_open(port);

    c->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    if (alpn != NULL)
        SSL_CTX_set_alpn_protos(c->ctx, (const unsigned char *)alpn,
                                (unsigned)alpn_len);
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    ASSERT_MSG(SSL_connect(c->ssl) == 1, "SSL_connect failed");
    return c;
}

void tc_close(struct tconn *c)
{
    if (c == NULL)
        return;
    if (c->ssl) {
        SSL_free(c->ssl);
        SSL_CTX_free(c->ctx);
    }
    close(c->fd);
    free(c);
}

void tc_send(struct tconn *c, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = c->ssl ? SSL_write(c->ssl, p, (int)len)
                           : send(c->fd, p, len, MSG_NOSIGNAL);

        ASSERT_MSG(n > 0, "send failed: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

void tc_sends(struct tconn *c, const char *s)
{
    tc_send(c, s, strlen(s));
}

int tc_fill(struct tconn *c)
{
    size_t room = sizeof(c->buf) - c->len;
    ssize_t n;

    ASSERT(room > 0);
    if (c->ssl) {
        n = SSL_read(c->ssl, c->buf + c->len, (int)room);
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, (int)n);

            ERR_clear_error();
            return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
        }
    } else {
        n = recv(c->fd, c->buf + c->len, room, 0);
        if (n < 0)
            return errno == ECONNRESET ? 0 : -1;
    }
    c->len += (size_t)n;
    return (int)n;
}

static void consume(struct tconn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Read until @needle is in the buffer; its end offset, or -1. */
static long fill_until(struct tconn *c, const char *needle)
{
    for (;;) {
        char *p = memmem(c->buf, c->len, needle, strlen(needle));

        if (p != NULL)
            return (long)(p - c->buf) + (long)strlen(needle);
        if (tc_fill(c) <= 0)
            return -1;
    }
}

/* Move @n bytes to @out (NULL: into r's body via body_add by the caller). */
static int read_exact(struct tconn *c, char *out, size_t n)
{
    while (n > 0) {
        size_t take;

        if (c->len == 0 && tc_fill(c) <= 0)
            return -1;
        take = c->len < n ? c->len : n;
        memcpy(out, c->buf, take);
        consume(c, take);
        out += take;
        n -= take;
    }
    return 0;
}

static void body_add(struct tresp *r, const char *p, size_t n)
{
    r->body = realloc(r->body, r->body_len + n + 1);
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
}

static int read_chunked(struct tconn *c, struct tresp *r)
{
    for (;;) {
        long end = fill_until(c, "\r\n");
        size_t n;
        char *tmp;

        if (end < 0)
            return -1;
        n = strtoul(c->buf, NULL, 16);
        consume(c, (size_t)end);
        tmp = malloc(n + 2);
        if (read_exact(c, tmp, n + 2) != 0) {
            free(tmp);
            return -1;
        }
        body_add(r, tmp, n);
        free(tmp);
        if (n == 0)
            return 0;
    }
}

const char *tresp_header(const struct tresp *r, const char *name)
{
    static char val[1024];
    const char *p = r->head;

    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, strlen(name)) == 0 && p[strlen(name)] == ':') {
            const char *v = p + strlen(name) + 1, *e = strstr(v, "\r\n");

            while (*v == ' ')
                v++;
            snprintf(val, sizeof(val), "%.*s", (int)(e - v), v);
            return val;
        }
    }
    return NULL;
}

int tc_response_head(struct tconn *c, struct tresp *r)
{
    long end = fill_until(c, "\r\n\r\n");

    memset(r, 0, sizeof(*r));
    if (end < 0)
        return -1;
    ASSERT((size_t)end < sizeof(r->head));
    memcpy(r->head, c->buf, (size_t)end);
    r->head[end] = '\0';
    consume(c, (size_t)end);
    r->status = atoi(r->head + 9);
    r->body = calloc(1, 1);
    return 0;
}

int tc_response(struct tconn *c, struct tresp *r)
{
    const char *cl, *te;

    if (tc_response_head(c, r) != 0)
        return -1;
    if (r->status == 100)
        return 0;
    cl = tresp_header(r, "Content-Length");
    if (cl != NULL) {
        size_t n = strtoul(cl, NULL, 10);
        char *tmp = malloc(n + 1);
        int rv = read_exact(c, tmp, n);

        if (rv == 0)
            body_add(r, tmp, n);
        free(tmp);
        return rv;
    }
    te = tresp_header(r, "Transfer-Encoding");
    if (te != NULL && strcasecmp(te, "chunked") == 0)
        return read_chunked(c, r);
    while (tc_fill(c) > 0) /* close-delimited */
        ;
    body_add(r, c->buf, c->len);
    consume(c, c->len);
    return 0;
}

void tresp_done(struct tresp *r)
{
    free(r->body);
    r->body = NULL;
}

bool tc_wait_closed(struct tconn *c, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    for (;;) {
        int n;

        c->len = 0;
        n = tc_fill(c);
        if (n == 0)
            return true;
        if (n < 0)
            return errno == ECONNRESET || errno == EPIPE ||
                   (c->ssl != NULL && errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

/* ---- certificate
 * -------------------------------------------------------------- */

SSL_CTX *tls_server_ctx(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name;
    X509_EXTENSION *ext;
    X509V3_CTX v3;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    ASSERT(key != NULL && x != NULL && ctx != NULL);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"c8s-test", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ASSERT(X509_sign(x, key, EVP_sha256()) > 0);
    ASSERT(SSL_CTX_use_certificate(ctx, x) == 1);
    ASSERT(SSL_CTX_use_PrivateKey(ctx, key) == 1);
    X509_free(x);
    EVP_PKEY_free(key);
    return ctx;
}
