/* GET /c8s/v1/snapshot: the whole store in its snapshot format (the bytes a
 * raft snapshot holds: every key with its retained history, the revision
 * counters, CRCs), taken at a linearizable read point so it holds every
 * write acknowledged before the request. `c8sctl snapshot save` writes it
 * to a file.
 *
 * Cost: one copy of the store's values in memory while it is sent. Access:
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
    struct srv_req *req;
    struct srv_api *api;
};

/* The view's buffers in one shared buffer. */
static struct rbuf *flatten(const struct store_snapview *v)
{
    struct rbuf *b = rbuf_new(NULL, v->len);
    size_t off = 0;

    if (b == NULL)
        return NULL;
    for (size_t i = 0; i < v->n_bufs; i++) {
        memcpy(b->data + off, v->bufs[i].base, v->bufs[i].len);
        off += v->bufs[i].len;
    }
    return b;
}

static void at_read_point(struct repl_req *rr, const struct repl_result *res)
{
    struct snap_call *s = container_of(rr, struct snap_call, rr);
    struct store_snapview *v = NULL;
    struct rbuf *body = NULL;
    char headers[64];

    if (res->code != 0) {
        (void)srv_respond_status(s->req, 503, "ServiceUnavailable",
                                 "no read point: the member cannot reach a "
                                 "leader", 1);
    } else if (store_snapshot_view(repl_store(s->api->repl), &v) != 0 ||
               (body = flatten(v)) == NULL) {
        (void)srv_respond_status(s->req, 500, "InternalError",
                                 "out of memory for the snapshot", 0);
    } else {
        (void)snprintf(headers, sizeof headers, "X-C8s-Revision: %llu\r\n",
                       (unsigned long long)v->rev);
        log_info("api", "snapshot of revision %llu sent (%zu bytes)",
                 (unsigned long long)v->rev, v->len);
        (void)srv_respond_rbuf(s->req, 200, "application/octet-stream",
                               headers, body);
    }
    rbuf_unref(body);
    store_snapview_free(v);
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
