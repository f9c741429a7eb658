/* hload: a small HTTP/1.1 load client for the benchmarks: many keep-alive
 * connections (plain or TLS with OpenSSL) driven by one epoll loop, one
 * request in flight per connection, responses parsed with http_parser
 * (whole, or streamed for watches). It measures; it is not a general
 * client (that is libc8s, issue 5). */
#ifndef C8S_BENCH_HLOAD_H
#define C8S_BENCH_HLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* Where to connect: 127.0.0.1:port, with TLS when @tls is not NULL. */
struct hl_endpoint {
    int port;
    SSL_CTX *tls;
};

struct hl_loop;
struct hl_conn;

/* A whole response: @status is the HTTP status, or HL_ERR_* when the
 * connection failed or timed out (it is then closed: hl_conn_dead()). */
enum { HL_ERR_IO = -1, HL_ERR_TIMEOUT = -2 };
typedef void (*hl_done_cb)(struct hl_conn *c,
                           int status,
                           const char *body,
                           size_t len);
/* Part of a streamed body (watch); the done callback still ends it. */
typedef void (*hl_data_cb)(struct hl_conn *c, const char *data, size_t len);

/* A TLS client context trusting @ca_file and presenting @cert/@key (both
 * may be NULL). Exits with a message on failure. */
SSL_CTX *hl_tls_client(const char *ca_file, const char *cert, const char *key);

struct hl_loop *hl_loop_new(void);
void hl_loop_free(struct hl_loop *l); /* closes every connection */

/* Connect (and handshake) within @timeout_ms; NULL on failure. */
struct hl_conn *hl_connect(struct hl_loop *l,
                           const struct hl_endpoint *ep,
                           unsigned timeout_ms);
void hl_close(struct hl_conn *c);
bool hl_conn_dead(const struct hl_conn *c);
bool hl_conn_busy(const struct hl_conn *c);

/* What the caller hangs on a connection. */
void hl_set_user(struct hl_conn *c, void *user);
void *hl_user(const struct hl_conn *c);

/* Send a request (@body may be NULL). @on_data NULL: the body is
 * collected and handed to @done; else streamed to @on_data. The
 * response must complete within @timeout_ms (0: no limit). Returns 0, or
 * -1 when the connection is busy or dead. */
int hl_send(struct hl_conn *c,
            const char *method,
            const char *path,
            const char *content_type,
            const char *body,
            size_t len,
            hl_done_cb done,
            hl_data_cb on_data,
            unsigned timeout_ms);

/* Wait up to @timeout_ms for events and handle them (callbacks run
 * here); also fires expired timeouts. */
void hl_run_once(struct hl_loop *l, int timeout_ms);

/* One request on a fresh or given connection, waited for: returns the
 * status (or HL_ERR_*), the body in *@ret_body (malloc'ed, NUL-terminated;
 * may be NULL). */
int hl_request_sync(struct hl_loop *l,
                    struct hl_conn *c,
                    const char *method,
                    const char *path,
                    const char *content_type,
                    const char *body,
                    size_t len,
                    unsigned timeout_ms,
                    char **ret_body);

#endif /* C8S_BENCH_HLOAD_H */
