/* GET /c8s/v1/snapshot: the whole store in its snapshot format (the bytes a
 * raft snapshot holds: every key with its retained history, the revision
 * counters, CRCs), taken at a linearizable read point so it holds every
 * write acknowledged before the request. `c8sctl snapshot save` writes it
 * to a file.
 *
 * Cost: the view is taken on the loop (metadata only, as for a raft
 * snapshot); the values are copied into one buffer in the thread pool, and
 * that copy is held while it is sent. Access:
 * anyone the API lets in, until authorization comes (issue 8), which must
 * keep it to cluster admins. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/server/internal.h"
#include "lib/container.h"
#include "lib/log.h"
#include "lib/mem.h"

struct snap_call {
    struct repl_req rr;
    uv_work_t work;
    struct srv_req *req;
    struct srv_api *api;
    struct store_snapview *view; /* references immutable values */
    struct rbuf *body;           /* the flattened view, or NULL */
};

/* The view's buffers in one shared buffer. */
static struct rbuf *flatten(const struct store_snapview *v)
{
    struct rbuf *b = rbuf_new_uninit(v->len); /* all of it written below */
    size_t off = 0;

    if (b == NULL)
        return NULL;
    for (size_t i = 0; i < v->n_bufs; i++) {
        memcpy(b->data + off, v->bufs[i].base, v->bufs[i].len);
        off += v->bufs[i].len;
    }
    return b;
}

/* Thread pool: the view's values are immutable and referenced by it, so
 * copying them here races with nothing the loop does. */
static void flatten_work(uv_work_t *w)
{
    struct snap_call *s = container_of(w, struct snap_call, work);

    s->body = flatten(s->view);
}

static void send_snapshot(uv_work_t *w, int status)
{
    struct snap_call *s = container_of(w, struct snap_call, work);
    char headers[64];

    if (status != 0 || s->body == NULL) {
        (void)srv_respond_status(s->req, 500, "InternalError",
                                 "out of memory for the snapshot", 0);
    } else {
        (void)snprintf(headers, sizeof headers, "X-C8s-Revision: %llu\r\n",
                       (unsigned long long)s->view->rev);
        log_info("api", "snapshot of revision %llu sent (%zu bytes)",
                 (unsigned long long)s->view->rev, s->view->len);
        (void)srv_respond_rbuf(s->req, 200, "application/octet-stream",
                               headers, s->body);
    }
    rbuf_unref(s->body);
    store_snapview_free(s->view);
    mem_free(s);
}

static void at_read_point(struct repl_req *rr, const struct repl_result *res)
{
    struct snap_call *s = container_of(rr, struct snap_call, rr);

    if (res->code != 0) {
        (void)srv_respond_status(s->req, 503, "ServiceUnavailable",
                                 "no read point: the member cannot reach a "
                                 "leader", 1);
    } else if (store_snapshot_view(repl_store(s->api->repl), &s->view) != 0) {
        (void)srv_respond_status(s->req, 500, "InternalError",
                                 "out of memory for the snapshot", 0);
    } else if (uv_queue_work(s->api->loop, &s->work, flatten_work,
                             send_snapshot) == 0) {
        return; /* send_snapshot answers and frees */
    } else {
        (void)srv_respond_status(s->req, 500, "InternalError",
                                 "cannot queue the snapshot copy", 0);
    }
    store_snapview_free(s->view);
    mem_free(s);
}

bool srv__serve_snapshot(struct srv_api *api, struct srv_req *req)
{
    struct snap_call *s;

    if (strcmp(req->path, "/c8s/v1/snapshot") != 0)
        return false;
    if (strcmp(req->method, "GET") != 0) {
        (void)srv_respond_status(req, 405, "MethodNotAllowed",
                                 "the snapshot can only be read (GET)", 0);
        return true;
    }
    s = mem_calloc(1, sizeof *s);
    if (s == NULL) {
        (void)srv_respond_status(req, 500, "InternalError", "out of memory",
                                 0);
        return true;
    }
    s->req = req;
    s->api = api;
    s->rr.cb = at_read_point;
    if (repl_read_index(api->repl, &s->rr) != 0) {
        (void)srv_respond_status(req, 503, "ServiceUnavailable",
                                 "no leader known: try another member", 1);
        mem_free(s);
    }
    return true;
}
