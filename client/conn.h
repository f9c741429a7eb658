/* One HTTP/1.1 connection (plain or TLS) with deadlines, used by the
 * client's pool (client.c). Blocking calls on a non-blocking socket. */
#ifndef C8S_CLIENT_CONN_H
#define C8S_CLIENT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>
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
    SSL *ssl;     /* NULL for http:// */
    bool healthy; /* handshake done and no error since: worth a
                   * close_notify when closing */
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

/* Sleep @ms (nothing for ms <= 0), through signals. */
void client__sleep_ms(int64_t ms);

int client__url_parse(const char *s, struct client__url *u);

/* Connect and, for https, shake hands verifying the server as @ctx says,
 * by @sni or else the URL's host. A TLS failure is -EPROTO with the reason
 * in @why. */
int client__conn_open(struct client__conn *c, const struct client__url *u,
                      SSL_CTX *ctx, const char *sni, int64_t deadline,
                      char *why, size_t why_len);

void client__conn_close(struct client__conn *c);

/* An SSL object for a connection to @u that verifies the server by @sni or
 * else the URL's host (an IP against IP SANs), or NULL. */
SSL *client__ssl_new(SSL_CTX *ctx, const struct client__url *u,
                     const char *sni);

/* Why @ssl's handshake failed (certificate verification or OpenSSL's last
 * error), into @why; clears the thread's error queue. */
void client__tls_why(SSL *ssl, char *why, size_t why_len);

int client__conn_send(struct client__conn *c, const char *head,
                      size_t head_len, const void *body, size_t body_len,
                      int64_t deadline);

/* Read one whole answer. -ECONNRESET when the connection was closed before
 * a byte came (a pooled connection the server had dropped), -EPROTO for a
 * broken answer, -ETIMEDOUT. */
int client__conn_receive(struct client__conn *c, bool head_request,
                         struct client__answer *a, int64_t deadline);

void client__answer_reset(struct client__answer *a);

/* An answer read piece by piece (a watch stream): body bytes accumulate in
 * the answer as they come; the caller may consume them from the front. */
struct client__reader {
    http_parser p;
    struct client__answer *a;
    char field[64]; /* header being read, lower case */
    size_t field_len;
    bool in_value;
    bool head_request; /* the answer to HEAD has no body */
    bool headers_done; /* status and headers are in the answer */
    bool done;         /* the whole answer is in */
    bool got_any;
    int error;
};

void client__reader_init(struct client__reader *r, struct client__answer *a,
                         bool head_request);

/* Parse @n bytes of the answer (0: the connection ended). 0; -EPROTO for
 * bytes that are not HTTP or an end mid-answer; -ECONNRESET for an end
 * before any byte; -C8S_ETOOLARGE past CLIENT_MAX_BODY; -ENOMEM. */
int client__reader_feed(struct client__reader *r, const char *data, size_t n);

/* Read what comes (waiting until @deadline) and parse it. -ETIMEDOUT when
 * nothing came; -ECONNRESET for a close before the first byte; -EPROTO for
 * a close or garbage mid-answer. */
int client__reader_step(struct client__conn *c, struct client__reader *r,
                        int64_t deadline);

#endif /* C8S_CLIENT_CONN_H */
