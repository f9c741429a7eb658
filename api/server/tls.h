/* Server-side TLS over memory BIOs: no blocking I/O, the caller moves the
 * bytes (ciphertext in from the socket, ciphertext out to it). */
#ifndef C8S_API_SERVER_TLS_H
#define C8S_API_SERVER_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "lib/err.h"
#include "lib/rbuf.h"

/* Outcomes of srv_tls_handshake() and srv_tls_read() besides n >= 0. */
#define SRV_TLS_AGAIN 0         /* need more input */
#define SRV_TLS_HTTP (-10001)   /* the client spoke plain HTTP */
#define SRV_TLS_CLOSED (-10002) /* close_notify received */

/* One connection's TLS state. */
struct srv_tls {
    SSL *ssl;  /* the session */
    BIO *rbio; /* ciphertext from the peer, written by us */
    BIO *wbio; /* ciphertext for the peer, read by us */
    bool done; /* handshake finished */
};

/* Prepare a server context for use by the HTTP server: TLS 1.2 minimum,
 * no renegotiation, buffers released when idle, ALPN selecting only
 * "http/1.1" (no ALPN answer if the client does not offer it). */
int srv_tls_configure(SSL_CTX *ctx, struct err *e);

int srv_tls_init(struct srv_tls *t, SSL_CTX *ctx);
void srv_tls_done(struct srv_tls *t);

/* Hand received ciphertext to OpenSSL. Returns 0 or -ENOMEM. */
int srv_tls_feed(struct srv_tls *t, const char *data, size_t len);

/* Drive the handshake: 1 done, SRV_TLS_AGAIN, SRV_TLS_HTTP, or -EPROTO. */
int srv_tls_handshake(struct srv_tls *t);

/* Decrypt into @buf: bytes (> 0), SRV_TLS_AGAIN, SRV_TLS_CLOSED, -EPROTO. */
int srv_tls_read(struct srv_tls *t, char *buf, size_t cap);

/* Encrypt @len bytes (queued in wbio). Returns 0 or -EPROTO. */
int srv_tls_write(struct srv_tls *t, const void *data, size_t len);

/* Queue a close_notify alert. */
void srv_tls_shutdown(struct srv_tls *t);

/* Take the ciphertext waiting for the peer: *ret is NULL when there is
 * none. Returns 0 or -ENOMEM. */
int srv_tls_take(struct srv_tls *t, struct rbuf **ret);

/* The ALPN protocol selected, or "" (for tests and logs). */
const char *srv_tls_alpn(const struct srv_tls *t);

#endif /* C8S_API_SERVER_TLS_H */
