/* Requests on a libuv loop: the asynchronous counterpart of c8s_request.
 *
 * A c8s_async sends requests from the thread that runs its uv_loop_t and
 * never blocks it: connections, TLS handshakes (OpenSSL through memory
 * BIOs), sends and answers all go through the loop, so a program that
 * already runs one (c8s's own controllers run inside c8s-master's loop) can
 * keep thousands of requests in flight on one thread.
 *
 * It follows the blocking client's rules exactly (c8s_client(3)): one
 * keep-alive pool per server, failover across the cluster's servers with a
 * growing penalty for a server that cannot be reached, retries with backoff
 * and jitter on connection errors, 429, 503 with Retry-After (and any 503
 * for GET/HEAD), Retry-After
 * honoured, and a write whose answer was lost reported as -C8S_EUNKNOWN and
 * never sent again. The result codes are c8s_request's.
 *
 * Pending requests keep the loop running; idle pooled connections do not,
 * so uv_run(loop, UV_RUN_DEFAULT) returns once every request is done.
 *
 * Every function must be called on the loop's thread. Callbacks run on it,
 * never from inside the call that starts the request. */
#ifndef C8S_ASYNC_H
#define C8S_ASYNC_H

#include <stddef.h>

#include <c8s/client.h>
#include <c8s/errors.h>
#include <c8s/kubeconfig.h>

struct uv_loop_s; /* uv_loop_t, from <uv.h> */
struct c8s_async;
struct c8s_async_req;

/* A client for the cluster and user of @kc (which may be freed after) that
 * runs on @loop. @opts as for c8s_client_new (timeouts are per request,
 * retries included). */
int c8s_async_new(struct uv_loop_s *loop, const struct c8s_kubeconfig *kc,
                  const struct c8s_client_opts *opts, struct c8s_async **ret,
                  struct c8s_error *err);

/* The result of a request: @rv as c8s_request returns it (0 for a 2xx
 * answer; -ECANCELED when the request was canceled or its client closed),
 * the answer in @resp if one came (status 0 if none), @err the reason.
 * @resp and @err belong to the library and are valid during the call; to
 * keep the body, take resp->body and set it to NULL. */
typedef void (*c8s_async_cb)(int rv, struct c8s_response *resp,
                             const struct c8s_error *err, void *data);

/* Send @method @path (as for c8s_request; method, path, content type and
 * body are copied) and call @cb with @data when it is done. *@ret (if not
 * NULL) names the request for c8s_async_cancel until @cb is called.
 * Returns 0, or -EINVAL for a request that cannot be sent (@err says why;
 * @cb is not called), -ESHUTDOWN once c8s_async_close was called, or
 * -ENOMEM. */
int c8s_async_request(struct c8s_async *a, const char *method,
                      const char *path, const char *content_type,
                      const void *body, size_t body_len, c8s_async_cb cb,
                      void *data, struct c8s_async_req **ret,
                      struct c8s_error *err);

/* Stop a request whose callback has not run yet: its connection is closed
 * (a write already sent may still happen) and the callback runs at once
 * with -ECANCELED. */
void c8s_async_cancel(struct c8s_async_req *req);

/* Cancel every pending request (each callback runs with -ECANCELED), close
 * every connection and free the client; @close_cb (may be NULL) runs with
 * @data from the loop when nothing of it is left, so uv_loop_close can
 * follow. */
void c8s_async_close(struct c8s_async *a, void (*close_cb)(void *data),
                     void *data);

/* Requests pending (sent, waiting to be, or waiting to retry). */
size_t c8s_async_pending(const struct c8s_async *a);

#endif /* C8S_ASYNC_H */
