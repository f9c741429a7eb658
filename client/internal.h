/* Helpers shared by libc8s's sources; not exported (the version script
 * exports only c8s_* names, and these are client__*). */
#ifndef C8S_CLIENT_INTERNAL_H
#define C8S_CLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <c8s/errors.h>

/* Fill @err (if not NULL) with @code and a formatted message; returns
 * @code, so a failure is one line. */
int client__fail(struct c8s_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Read a whole regular file of at most @max bytes into *@ret (NUL added,
 * not counted in *@ret_len). Errors name the file. */
int client__read_file(const char *path, size_t max, char **ret,
                      size_t *ret_len, struct c8s_error *err);

#include <stdbool.h>

#include <openssl/ssl.h>

#include <c8s/client.h>

#include "client/conn.h"

/* May these go into a request line and headers as they are? */
bool client__request_safe(const char *method, const char *path,
                          const char *content_type);

/* @err for a non-2xx answer: the code for its status, the Status's reason
 * and message. Returns the code. */
int client__answer_error(const char *method, const char *server,
                         const char *path, const struct client__answer *ans,
                         struct c8s_error *err);

/* Open a new connection (streams are not pooled) to the server a request
 * would go to, send GET @path and read up to the end of the answer's
 * headers: ans->status is set, body bytes follow through @rd. A server
 * that cannot be reached, or sends no headers by @deadline, is set aside,
 * as for requests. *@ret_server names
 * the server (for messages). */
int client__stream_open(struct c8s_client *c, const char *path,
                        struct client__conn *conn, struct client__reader *rd,
                        struct client__answer *ans, int64_t deadline,
                        const char **ret_server, struct c8s_error *err);

/* ---- one request's attempts, shared by c8s_request and the asynchronous
 * client (async.c) so both follow the same retry and failover rules. */

enum client__outcome {
    CLIENT_ANSWERED, /* an HTTP answer is in the attempt */
    CLIENT_NOT_SENT, /* nothing reached the server: safe to retry anything */
    CLIENT_LOST,     /* sent, answer lost: retry only idempotent requests */
};

enum client__next {
    CLIENT_RETRY,     /* try again after the wait */
    CLIENT_FINISH,    /* give the caller the answer */
    CLIENT_NO_ANSWER, /* fail with the attempt's code */
    CLIENT_UNKNOWN,   /* a write's answer was lost: -C8S_EUNKNOWN */
};

struct client__attempt {
    const char *method, *path, *content_type;
    const void *body;
    size_t body_len;
    struct client__answer ans;
    int code;       /* why the last attempt failed (NOT_SENT, LOST) */
    char why[256];  /* more about it, e.g. the TLS verification error */
    int tries;
    int64_t backoff, deadline;
    size_t si;      /* the server of the last attempt */
};

/* Start a request: checks that nothing in it can break the request line
 * or a header (-EINVAL), and sets its deadline. The strings and body are
 * borrowed until the end. */
int client__attempt_init(const struct c8s_client *c, struct client__attempt *a,
                         const char *method, const char *path,
                         const char *content_type, const void *body,
                         size_t body_len, struct c8s_error *err);

/* Choose the server for the next attempt and count it. */
size_t client__attempt_begin(struct c8s_client *c, struct client__attempt *a);

/* After an attempt ended with @o: retry (after *@wait ms) or stop. */
enum client__next client__attempt_next(struct c8s_client *c,
                                       struct client__attempt *a,
                                       enum client__outcome o, int64_t *wait);

/* The request's result for @next (not CLIENT_RETRY), as c8s_request
 * returns it; @resp gets the answer's body. */
int client__attempt_end(const struct c8s_client *c, struct client__attempt *a,
                        enum client__next next, struct c8s_response *resp,
                        struct c8s_error *err);

/* The request line and headers for @a to server @si. */
int client__build_head(const struct c8s_client *c, size_t si,
                       const struct client__attempt *a, char **ret,
                       size_t *ret_len);

/* A server stopped answering (set aside a while) or answered (preferred). */
void client__server_failed(struct c8s_client *c, size_t si);
void client__server_answered(struct c8s_client *c, size_t si);

/* The server a new attempt would go to; whether @si is set aside now. */
size_t client__pick_server(const struct c8s_client *c);
bool client__server_set_aside(const struct c8s_client *c, size_t si);

size_t client__server_count(const struct c8s_client *c);
const struct client__url *client__server_url(const struct c8s_client *c,
                                             size_t si);
SSL_CTX *client__tls_ctx(const struct c8s_client *c);
const char *client__tls_sni(const struct c8s_client *c);
int64_t client__connect_timeout_ms(const struct c8s_client *c);

/* Pause before opening a stream again: Retry-After of @ans if any, else
 * @backoff with jitter. */
int64_t client__stream_backoff(const struct client__answer *ans,
                               int64_t backoff);

#endif /* C8S_CLIENT_INTERNAL_H */
