/* One HTTP/1.1 connection (plain or TLS) with deadlines, used by the
 * client's pool (client.c). Blocking calls on a non-blocking socket. */
#ifndef C8S_CLIENT_CONN_H
#define C8S_CLIENT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include <c8s/errors.h>

#define CLIENT_MAX_BODY ((size_t)1 << 30) /* answers larger than this fail */

/* "https://host:port/prefix" taken apart. */
struct client__url {
    bool tls;
    bool is_ip;      /* host is an address: verified against IP SANs */
    char host[256];  /* without brackets */
    int port;
    char prefix[256]; /* path prefix without trailing '/', often "" */
};

struct client__conn {
    int fd;
    SSL *ssl; /* NULL for http:// */
};

struct client__answer {
    int status;
    bool keep_alive;
    char content_type[128];
    char retry_after[32];
    char *body; /* NUL-terminated */
    size_t body_len, body_cap;
};

int64_t client__now_ms(void);

int client__url_parse(const char *s, struct client__url *u);

/* Connect and, for https, shake hands verifying the server as @ctx says,
 * by @sni or else the URL's host. A TLS failure is -EPROTO with the reason
 * in @why. */
int client__conn_open(struct client__conn *c, const struct client__url *u,
                      SSL_CTX *ctx, const char *sni, int64_t deadline,
                      char *why, size_t why_len);

void client__conn_close(struct client__conn *c);

int client__conn_send(struct client__conn *c, const char *head,
                      size_t head_len, const void *body, size_t body_len,
                      int64_t deadline);

/* Read one whole answer. -ECONNRESET when the connection was closed before
 * a byte came (a pooled connection the server had dropped), -EPROTO for a
 * broken answer, -ETIMEDOUT. */
int client__conn_receive(struct client__conn *c, bool head_request,
                         struct client__answer *a, int64_t deadline);

void client__answer_reset(struct client__answer *a);

#endif /* C8S_CLIENT_CONN_H */
