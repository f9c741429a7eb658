/* Helpers for the HTTP server tests: a server on its own loop thread with
 * test routes, blocking plain and TLS clients, a throwaway certificate. */
#ifndef C8S_TESTS_API_SERVER_TEST_HTTP_UTIL_H
#define C8S_TESTS_API_SERVER_TEST_HTTP_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <uv.h>

#include "api/server/http.h"

/* A server under test, its loop running in a thread. Routes (see the .c):
 *   /echo          "METHOD path?query n\n" + body
 *   /stream?n=N    N chunks "chunk i\n", one every 20 ms, then the end
 *   /watch         one chunk, then open until the client leaves
 *   /flood         64 KiB chunks every ms; aborts when the queue > 2 MiB
 *   /slowlimit     writes until srv_stream_write fails (max_stream_queue)
 *   anything else  404 Status */
struct tsrv {
    uv_loop_t loop;       /* the server's loop */
    uv_async_t stop;      /* wakes the loop to close everything */
    pthread_t thread;     /* runs the loop */
    struct srv_http *srv; /* the server */
    SSL_CTX *ctx;         /* server TLS context, or NULL */
    int port;             /* bound port */
    int closes;           /* close callbacks seen (atomic) */
    int requests;         /* requests seen (atomic) */
    size_t max_queued;    /* largest srv_req_queued seen by /flood */
    int aborted;          /* /flood aborted a slow reader (atomic) */
    int slow_err;         /* /slowlimit's failing return (atomic) */
    int loop_close_rv;    /* uv_loop_close result after stop */
};

/* Start with @cfg's limits (listen and handler are filled in), with TLS
 * if @tls. Fails the test on error. */
void tsrv_start(struct tsrv *t, const struct srv_http_config *cfg, bool tls);
/* Close the server, join the thread, check uv_loop_close() == 0. */
void tsrv_stop(struct tsrv *t);
int tsrv_get(int *counter);
size_t tsrv_get_size(size_t *v);

/* A blocking client connection (plain or TLS) with a read buffer. */
struct tconn {
    int fd;            /* socket */
    SSL_CTX *ctx;      /* client context when TLS */
    SSL *ssl;          /* TLS session or NULL */
    char buf[1 << 16]; /* received, not yet consumed */
    size_t len;        /* bytes in buf */
};

/* A parsed response. */
struct tresp {
    int status;      /* status code */
    char head[8192]; /* head, NUL-terminated */
    char *body;      /* malloc'ed, NUL-terminated */
    size_t body_len; /* bytes of body */
};

/* Connect to 127.0.0.1:@port; receive timeout 5 s. */
struct tconn *tc_open(int port);
/* Same over TLS offering ALPN @alpn (wire format, may be NULL). */
struct tconn *tc_open_tls(int port, const char *alpn, size_t alpn_len);
void tc_close(struct tconn *c);
void tc_send(struct tconn *c, const void *data, size_t len);
void tc_sends(struct tconn *c, const char *s);
/* Read more bytes into c->buf: count, 0 at EOF, -1 on error/timeout. */
int tc_fill(struct tconn *c);
/* Read one response (Content-Length, chunked, or to EOF if @to_eof).
 * Returns 0, or -1 if the connection ended first. */
int tc_response(struct tconn *c, struct tresp *r);
/* Read only a head (answers to HEAD). */
int tc_response_head(struct tconn *c, struct tresp *r);
void tresp_done(struct tresp *r);
/* Value of header @name in r->head (static buffer) or NULL. */
const char *tresp_header(const struct tresp *r, const char *name);
/* Wait up to @ms for the peer to close: true if it did. */
bool tc_wait_closed(struct tconn *c, int ms);

/* Self-signed P-256 server context for 127.0.0.1. */
SSL_CTX *tls_server_ctx(void);

#endif
