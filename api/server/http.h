/* HTTP/1.1 server (optionally over TLS) on the caller's libuv loop.
 *
 * One callback per request, called on the loop thread once the whole request
 * (head and body) has arrived. The handler answers with srv_respond*() or
 * with a chunked stream (srv_stream_begin/write/end), at once or later from
 * any callback on the same loop. Requests of one connection are handed to
 * the handler one at a time: the next pipelined request is parsed only after
 * the previous one was answered, so answers always go out in order and one
 * connection holds at most one request's memory.
 *
 * Lifetime of a struct srv_req (libuv style):
 *   - it is valid from on_request until the handler ends it with exactly one
 *     of srv_respond(), srv_respond_rbuf(), srv_respond_status() or
 *     srv_stream_end(); the call frees it, so nothing in it (body, headers)
 *     may be used afterwards;
 *   - if the connection goes away first, the request's close callback (see
 *     srv_req_on_close) runs, and the request STAYS valid until the handler
 *     ends it as above. Answers to such an orphaned request are dropped.
 *   So a handler that answers later never touches freed memory, whatever
 *   the client does; it must only end every request it was given.
 *   (Stricter than "valid until the connection closes" on purpose: a handler
 *   waiting on raft cannot know the socket died.)
 *
 * Output is queued and flushed once per loop iteration (a uv_prepare hook),
 * so many small answers or watch events cost one write and, over TLS, few
 * records. srv_req_queued() tells how many bytes wait on the connection so
 * that streaming code can drop slow consumers; srv_stream_write() also
 * fails with -C8S_ESLOW beyond max_stream_queue and the connection closes.
 *
 * Errors the server answers by itself, with a Kubernetes Status JSON body
 * and then a (lingering) close: 400 malformed request, 413 body over
 * max_body_bytes, 417 unknown Expect, 431 header over max_header_bytes,
 * 501 unsupported method, 505 unsupported HTTP version. Over max_conns, new
 * plain-HTTP connections get 503 with Retry-After and are closed; new TLS
 * connections are closed.
 *
 * TLS: the caller owns the SSL_CTX (server certificate and key loaded).
 * srv_http_start() sets on it: TLS 1.2 minimum, no renegotiation, released
 * idle buffers, and an ALPN callback that selects only "http/1.1" (kubectl
 * offers "h2,http/1.1"; selecting h2 would break it). The handshake is done
 * with memory BIOs over the uv stream, never with blocking I/O. Plain HTTP
 * sent to a TLS port gets a plain-text 400 and a close, as Go servers do.
 *
 * Upgrade requests (WebSocket, SPDY) are not supported yet: they are
 * delivered as ordinary requests and the connection closes after the answer.
 *
 * All functions and callbacks run on the loop thread. */
#ifndef C8S_API_SERVER_HTTP_H
#define C8S_API_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <uv.h>

#include "lib/err.h"
#include "lib/rbuf.h"

/* Defaults for struct srv_http_config fields left at 0. */
#define SRV_HTTP_MAX_HEADER_BYTES (1u << 20) /* Go's DefaultMaxHeaderBytes */
#define SRV_HTTP_MAX_HEADERS 512             /* header lines per request */
#define SRV_HTTP_MAX_BODY_BYTES (3u << 20)   /* Kubernetes' request limit */
#define SRV_HTTP_MAX_CONNS 4096
#define SRV_HTTP_MAX_STREAM_QUEUE (16u << 20) /* hard limit per connection */
#define SRV_HTTP_HEADER_TIMEOUT_MS 10000      /* first byte to end of head */
#define SRV_HTTP_IDLE_TIMEOUT_MS 90000        /* keep-alive, body stalls */
#define SRV_HTTP_TLS_TIMEOUT_MS 10000         /* accept to end of handshake */
#define SRV_HTTP_WRITE_TIMEOUT_MS 30000       /* output making no progress */
#define SRV_HTTP_LINGER_MS 2000               /* draining before a close */

struct srv_http;
struct srv_req;

/* Called once per complete request; see the lifetime rule above. */
typedef void (*srv_request_cb)(struct srv_req *req);

/* Called when the connection of an unanswered request closes (client gone,
 * timeout, server closing). The request stays valid; end it. */
typedef void (*srv_req_close_cb)(struct srv_req *req);

/* Called once the server and all its connections are closed. */
typedef void (*srv_http_close_cb)(struct srv_http *srv);

struct srv_http_config {
    const char *listen;         /* "A.B.C.D:PORT"; port 0 picks a free one */
    SSL_CTX *tls;               /* server context, or NULL for plain HTTP;
                                   borrowed: must outlive the server */
    srv_request_cb on_request;  /* the handler; required */
    void (*on_done)(struct srv_req *req, int status, double seconds);
                                /* optional: called once per request that
                                   reached the handler, when it ends or its
                                   connection closes first (status 499 if
                                   nothing was answered), with its status
                                   and duration */
    void *data;                 /* for the caller; see srv_http_data() */
    size_t max_header_bytes;    /* request line + headers; over: 431 */
    unsigned max_headers;       /* header lines; over: 431 */
    size_t max_body_bytes;      /* decoded body; over: 413 */
    unsigned max_conns;         /* open connections; over: 503/close */
    size_t max_stream_queue;    /* queued output bytes that fail a
                                   srv_stream_write with -C8S_ESLOW */
    unsigned header_timeout_ms; /* slowloris bound for the head */
    unsigned idle_timeout_ms;   /* between requests, and body stalls */
    unsigned tls_timeout_ms;    /* handshake deadline */
    unsigned write_timeout_ms;  /* stalled reader: no output progress */
    unsigned linger_ms;         /* drain time after an error answer */
};

/* One header of a request. Both strings are NUL-terminated. */
struct srv_header {
    const char *name;  /* as sent (case kept) */
    const char *value; /* as sent, without surrounding whitespace */
};

/* Private state of a request; see http_internal.h. */
struct srv_req_priv;

/* A request. Public fields are read-only for the handler, except data. */
struct srv_req {
    void *data;                       /* free for the handler */
    struct srv_http *srv;             /* server it arrived on */
    const char *method;               /* "GET", "PUT", ... */
    const char *target;               /* request target as sent */
    const char *path;                 /* target's path, raw (not decoded) */
    const char *query;                /* raw query after '?', or "" */
    const struct srv_header *headers; /* in arrival order */
    size_t n_headers;                 /* entries in headers */
    const char *body;                 /* decoded body, NUL-terminated */
    size_t body_len;                  /* bytes in body (NUL excluded) */
    uint8_t http_major;               /* 1 */
    uint8_t http_minor;               /* 0 or 1 */
    bool upgrade;                     /* the client asked for an Upgrade */
    struct srv_req_priv *priv;        /* server-owned state */
};

/* Start serving: bind and listen on cfg->listen. The config is copied
 * (cfg->listen too). On success *ret is the server, 0 is returned; close it
 * with srv_http_close(). */
int srv_http_start(uv_loop_t *loop,
                   const struct srv_http_config *cfg,
                   struct srv_http **ret,
                   struct err *e);

/* Port actually bound (useful with port 0). */
int srv_http_port(const struct srv_http *srv);

/* cfg->data given at start. */
void *srv_http_data(const struct srv_http *srv);

/* Open connections right now. */
unsigned srv_http_conns(const struct srv_http *srv);

/* Stop listening and close every connection (unanswered requests get their
 * close callbacks). @cb (may be NULL) runs once every handle is closed; the
 * server is freed after it returns. Requests still held by handlers remain
 * valid until ended, as described above. */
void srv_http_close(struct srv_http *srv, srv_http_close_cb cb);

/* First value of header @name (case-insensitive), or NULL. */
const char *srv_req_header(const struct srv_req *req, const char *name);

/* The client certificate of @req's connection when the TLS handshake
 * verified it against the server's trust store (borrowed, valid while the
 * request is), else NULL: plain HTTP, no certificate, or an orphaned
 * request. */
X509 *srv_req_peer_cert(const struct srv_req *req);

/* A note a handler leaves on @req for whoever looks at it when it is done
 * (the audit log: Pod Security's audit violations). Copied; replaces the
 * previous one. 0 or -ENOMEM. */
int srv_req_set_note(struct srv_req *req, const char *text);
const char *srv_req_note(const struct srv_req *req);

/* Attach @p to @req, freed with @free_fn (may be NULL) when the request
 * is, or when something else is attached. */
void srv_req_attach(struct srv_req *req, void *p, void (*free_fn)(void *));
void *srv_req_attached(const struct srv_req *req);

/* The client's IP address as text into @out (@size bytes; 46 fit any),
 * or "" when unknown (the connection is gone). */
void srv_req_peer_ip(const struct srv_req *req, char *out, size_t size);

/* Register @cb for when the connection closes before the request is ended.
 * Runs at most once; not run for requests already ended. */
void srv_req_on_close(struct srv_req *req, srv_req_close_cb cb);

/* Has the request's connection gone away (answers would be dropped)? */
bool srv_req_orphaned(const struct srv_req *req);

/* Bytes queued on the request's connection and not yet handed to (plain)
 * or accepted by (TLS, counted as plaintext) the kernel. 0 if orphaned. */
size_t srv_req_queued(const struct srv_req *req);

/* Answer with a whole body (copied) and end the request. @content_type may
 * be NULL (no Content-Type header). @extra_headers is NULL or complete
 * header lines, each ending in "\r\n" (e.g. "Retry-After: 1\r\n"). Returns
 * 0, -ENOMEM, -EINVAL (already answered or streaming), or -EPIPE if the
 * connection was gone; the request is ended in every case but -EINVAL. */
int srv_respond(struct srv_req *req,
                int status,
                const char *content_type,
                const char *extra_headers,
                const void *body,
                size_t len);

/* A piece of a body given in parts. */
struct srv_part {
    const void *data;
    size_t len;
};

/* srv_respond with a body made of @n parts, copied once, back to back,
 * after the head (a LIST's head, items and tail without first joining
 * them: the items can be megabytes). */
int srv_respond_parts(struct srv_req *req,
                      int status,
                      const char *content_type,
                      const char *extra_headers,
                      const struct srv_part *parts,
                      size_t n);

/* Same with a shared body: takes its own reference to @body (the caller
 * keeps its reference), so one encoding serves many answers uncopied. */
int srv_respond_rbuf(struct srv_req *req,
                     int status,
                     const char *content_type,
                     const char *extra_headers,
                     struct rbuf *body);

/* Answer with a Kubernetes Status object (status "Failure" for codes >= 400,
 * else "Success"): {"kind":"Status","apiVersion":"v1","metadata":{},
 * "status":..,"message":@message,"reason":@reason,"code":@status}.
 * @reason may be NULL (omitted). @retry_after_s > 0 adds a Retry-After
 * header (use with 429 and 503). Ends the request like srv_respond(). */
int srv_respond_status(struct srv_req *req,
                       int status,
                       const char *reason,
                       const char *message,
                       unsigned retry_after_s);

/* Begin a chunked answer (HTTP/1.0 clients get a close-delimited body). */
int srv_stream_begin(struct srv_req *req, int status, const char *content_type);

/* Queue @len bytes (copied) as one chunk; 0 bytes is a no-op. Returns 0,
 * -EPIPE if the connection is gone (the request stays valid: end it),
 * -C8S_ESLOW if the queue is over max_stream_queue (the connection is
 * closed and the close callback runs), -ENOMEM, or -EINVAL. */
int srv_stream_write(struct srv_req *req, const void *data, size_t len);

/* Same with a shared buffer (a reference is taken; nothing is copied). */
int srv_stream_write_rbuf(struct srv_req *req, struct rbuf *data);

/* End the stream (terminating chunk) and the request. Always frees it. */
int srv_stream_end(struct srv_req *req);

/* End the request and close its connection at once, dropping queued
 * output: for a streaming owner dropping a slow consumer. No close callback
 * runs for it. Frees the request. */
void srv_req_abort(struct srv_req *req);

/* Reason phrase of an HTTP status ("Not Found"), "Unknown" if unknown. */
const char *srv_status_text(int status);

/* Write @s as a JSON string body (escaped, without quotes) into @out of
 * @cap bytes; returns the length it needs (like snprintf). */
size_t srv_json_escape(char *out, size_t cap, const char *s);

#endif /* C8S_API_SERVER_HTTP_H */
