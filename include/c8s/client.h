/* Requests to a c8s (or any Kubernetes) API server, blocking.
 *
 * A client holds the TLS setup from a kubeconfig and a pool of keep-alive
 * HTTPS connections to each of the cluster's servers. A request goes to the
 * server that last answered; a server that cannot be reached is set aside
 * for a while (doubling up to 30 s) and the next one is tried, so an HA
 * cluster's masters fail over for the caller.
 *
 * Retries (up to opts.max_attempts, with exponential backoff and jitter,
 * honouring Retry-After, within the request's deadline):
 *   - any request that could not be sent (connect or TLS failure; a pooled
 *     connection the server has closed is noticed and dropped before use,
 *     but one it closes while the request goes out counts as lost, below);
 *   - 429 Too Many Requests, which the server answers before doing anything;
 *   - 503 with Retry-After, a refusal (c8s: no leader; as client-go);
 *   - GET and HEAD also on any 503, and on a connection lost after sending.
 * A write whose answer was lost is never sent again: it fails with
 * -C8S_EUNKNOWN (it may or may not have happened).
 *
 * A client may be used by one thread at a time. */
#ifndef C8S_CLIENT_H
#define C8S_CLIENT_H

#include <stddef.h>

#include <c8s/errors.h>
#include <c8s/kubeconfig.h>

struct c8s_client;

struct c8s_client_opts {
    int timeout_ms;        /* Whole request, retries included; 0: 30 s. */
    int connect_timeout_ms; /* TCP + TLS handshake per attempt; 0: 5 s. */
    int max_attempts;      /* Tries per request; 0: 5; 1: no retries. */
    const char *user_agent; /* NULL: "libc8s/VERSION". */
};

/* A client for the cluster and user of @kc (which may be freed after). */
int c8s_client_new(const struct c8s_kubeconfig *kc,
                   const struct c8s_client_opts *opts,
                   struct c8s_client **ret, struct c8s_error *err);

/* Closes every connection. NULL is fine. */
void c8s_client_free(struct c8s_client *c);

/* An answer: status, body (NUL-terminated, not counted in body_len). */
struct c8s_response {
    int status;
    char content_type[128];
    char *body;
    size_t body_len;
};

/* Free the body and reset. */
void c8s_response_clear(struct c8s_response *r);

/* Send @method @path (with query, e.g. "/api/v1/pods?limit=10", already
 * percent-encoded: spaces and control characters are refused with -EINVAL,
 * see c8s_url_escape) and read
 * the answer into @resp (cleared first; the caller clears it after). @body
 * may be NULL; @content_type is sent with a body ("application/json" if
 * NULL). Returns 0 for a 2xx answer. Otherwise the answer is still in @resp
 * and the code says what it was: -C8S_ENOTFOUND (404), -C8S_EEXISTS (409
 * AlreadyExists), -C8S_ECONFLICT (409 Conflict), -C8S_ECOMPACTED (410),
 * -C8S_EOVERLOADED (429 and 503 after the retries), -EACCES (401),
 * -EPERM (403), -EINVAL (400, 422), -C8S_EUNKNOWN (504: the server
 * could not learn whether a write happened), -C8S_EHTTP (any other);
 * @err gets the status and the Status's reason and message. With no
 * answer: -ETIMEDOUT, -ECONNREFUSED and other -errno, -C8S_EUNKNOWN. */
int c8s_request(struct c8s_client *c, const char *method, const char *path,
                const char *content_type, const void *body, size_t body_len,
                struct c8s_response *resp, struct c8s_error *err);

/* Percent-encode @in as a URL query value (a selector, a continue token)
 * into @out, NUL-terminated: every byte but letters, digits and -._~
 * becomes %XX. Returns the length, or -ENAMETOOLONG if it does not fit. */
int c8s_url_escape(const char *in, char *out, size_t size);

/* The server the next request goes to first ("https://host:port"). */
const char *c8s_client_server(const struct c8s_client *c);

#endif /* C8S_CLIENT_H */
