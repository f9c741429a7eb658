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

struct c8s_client;
struct client__conn;
struct client__reader;
struct client__answer;

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
 * that cannot be reached is set aside, as for requests. *@ret_server names
 * the server (for messages). */
int client__stream_open(struct c8s_client *c, const char *path,
                        struct client__conn *conn, struct client__reader *rd,
                        struct client__answer *ans, int64_t deadline,
                        const char **ret_server, struct c8s_error *err);

/* Pause before opening a stream again: Retry-After of @ans if any, else
 * @backoff with jitter. */
int64_t client__stream_backoff(const struct client__answer *ans,
                               int64_t backoff);

#endif /* C8S_CLIENT_INTERNAL_H */
