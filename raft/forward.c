/* Forward channel: client (to a member) and server (from followers). */
#include "raft/forward.h"

#include <stdlib.h>
#include <string.h>

#include "lib/container.h"
#include "lib/crc32.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/mp.h"
#include "raft/internal.h"

/* ---- framing -------------------------------------------------------------*/

/* Bytes received and not yet parsed. */
struct rx {
    uint8_t *buf;           /* mem_malloc'ed, or NULL. */
    size_t len;             /* Bytes held. */
    size_t cap;             /* Bytes allocated. */
};

static void rx_done(struct rx *x)
{
    mem_free(x->buf);
    memset(x, 0, sizeof *x);
}

static void rx_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out)
{
    struct rx *x = h->data != NULL ? *(struct rx **)h->data : NULL;
    size_t want = 64 * 1024;

    (void)hint;
    out->base = NULL;
    out->len = 0;
    if (x == NULL)
        return;
    if (x->cap - x->len < want) {
        uint8_t *p = mem_realloc(x->buf, x->len + want);
        if (p == NULL)
            return; /* libuv reports UV_ENOBUFS; the owner closes */
        x->buf = p;
        x->cap = x->len + want;
    }
    out->base = (char *)x->buf + x->len;
    out->len = x->cap - x->len;
}

/* Next complete frame body in @x, or 0 if none yet; -C8S_ETOOLARGE if the
 * peer announces an absurd length. */
static int rx_frame(struct rx *x, size_t *off, const uint8_t **body,
                    size_t *len)
{
    uint32_t n;

    if (x->len - *off < 4)
        return 0;
    memcpy(&n, x->buf + *off, 4);
    n = le32toh(n);
    if (n > REPL_FWD_MAX_FRAME)
        return -C8S_ETOOLARGE;
    if (x->len - *off - 4 < n)
        return 0;
    *body = x->buf + *off + 4;
    *len = n;
    *off += 4 + (size_t)n;
    return 1;
}

static void rx_consume(struct rx *x, size_t off)
{
    memmove(x->buf, x->buf + off, x->len - off);
    x->len -= off;
}

/* Frames going out on one stream. Under load a follower forwards, and the
 * leader answers, many requests per loop iteration, and a write() per frame
 * cost a syscall and a loopback TCP segment each: a third of a member's
 * writes. So the first frame goes out at once, and frames queued while that
 * write is in flight wait in @held and go out together when it completes.
 * libuv reports a finished write in its next pending phase and does not
 * block in poll while one is due, so no frame waits for more than that. */
struct txq {
    uv_stream_t *stream;    /* NULL once the owner let go of it. */
    uv_write_t req;         /* The write in flight, if @writing. */
    uint8_t *sent;          /* Its bytes (owned). */
    bool writing;           /* req is in flight. */
    bool broken;            /* A write failed: frames are refused. */
    uint8_t *held;          /* Frames waiting for it (owned). */
    size_t held_len;        /* Bytes in held. */
    size_t held_cap;        /* Room in held. */
    size_t held_frames;     /* Frames in held. */
    uint64_t started;       /* Frames handed to uv_write so far: the
                             * first @started frames queued may have
                             * gone out, the rest certainly did not. */
    void (*on_break)(void *arg); /* Told when a write in flight failed:
                             * the owner closes (its read side may never
                             * fail). It may release @q. */
    void *arg;              /* For on_break. */
};

/* Bytes a peer that stopped reading may leave queued: past this, frames
 * are refused rather than piled up (and one uv_buf_t must hold them). */
#define TXQ_MAX_HELD (4 * (size_t)REPL_FWD_MAX_FRAME)

static struct txq *txq_new(uv_stream_t *stream, void (*on_break)(void *arg),
                           void *arg)
{
    struct txq *q = mem_calloc(1, sizeof *q);

    if (q != NULL) {
        q->stream = stream;
        q->req.data = q;
        q->on_break = on_break;
        q->arg = arg;
    }
    return q;
}

static void txq_free(struct txq *q)
{
    mem_free(q->sent);
    mem_free(q->held);
    mem_free(q);
}

/* The owner closes the stream: free @q now, or when its write ends. */
static void txq_release(struct txq *q)
{
    if (q == NULL)
        return;
    q->stream = NULL;
    if (!q->writing)
        txq_free(q);
}

static void txq_done(uv_write_t *req, int status);

/* After a failed write the stream's bytes are cut off mid-frame: nothing
 * more may follow. The owner learns it from the next push or from its
 * read side, and closes. */
static void txq_break(struct txq *q)
{
    q->broken = true;
    mem_free(q->held);
    q->held = NULL;
    q->held_len = q->held_cap = 0;
    q->held_frames = 0;
}

/* Write what is held, as one buffer. */
static int txq_start(struct txq *q)
{
    uv_buf_t buf = uv_buf_init((char *)q->held, (unsigned)q->held_len);

    if (uv_write(&q->req, q->stream, &buf, 1, txq_done) != 0) {
        txq_break(q);
        return -EPIPE;
    }
    q->sent = q->held;
    q->held = NULL;
    q->held_len = q->held_cap = 0;
    q->started += q->held_frames;
    q->held_frames = 0;
    q->writing = true;
    return 0;
}

static void txq_done(uv_write_t *req, int status)
{
    struct txq *q = req->data;

    q->writing = false;
    mem_free(q->sent);
    q->sent = NULL;
    if (q->stream == NULL) {
        txq_free(q);
        return;
    }
    if (status != 0) {
        log_debug("forward", "write failed: %s", uv_strerror(status));
        txq_break(q);
    } else if (q->held_len > 0) {
        (void)txq_start(q); /* a failure breaks q */
    }
    if (q->broken)
        q->on_break(q->arg); /* last: it may release q */
}

/* Queue the bytes of @w as one frame. -EPIPE: the stream is broken and
 * the frame will not go out; -ENOMEM or -C8S_EOVERLOADED (the peer has not
 * taken TXQ_MAX_HELD bytes): the frame was not queued. None of it is
 * written on failure. */
static int txq_push(struct txq *q, const struct mp_writer *w)
{
    uint32_t n = htole32((uint32_t)w->len);
    size_t need;

    if (q->broken)
        return -EPIPE;
    if (w->failed)
        return -ENOMEM;
    need = q->held_len + 4 + w->len;
    if (need > TXQ_MAX_HELD)
        return -C8S_EOVERLOADED;
    if (need > q->held_cap) {
        size_t cap = q->held_cap * 2 > need ? q->held_cap * 2 : need;
        uint8_t *p = mem_realloc(q->held, cap);
        if (p == NULL)
            return -ENOMEM;
        q->held = p;
        q->held_cap = cap;
    }
    memcpy(q->held + q->held_len, &n, 4);
    memcpy(q->held + q->held_len + 4, w->buf, w->len);
    q->held_len = need;
    q->held_frames++;
    return q->writing ? 0 : txq_start(q);
}

/* ---- client ----------------------------------------------------------------*/

/* A request sent or queued by a client. */
struct pending {
    struct repl_req *req;   /* Caller's request. */
    uint64_t id;            /* req_id on the wire. */
    enum repl_fwd_kind kind;/* What it asks (REPL_FWD_*). */
    uint8_t *frame;         /* Encoded request until queued (owned). */
    size_t frame_len;       /* Its length. */
    uint64_t seq;           /* Once queued: frames queued before it. */
    struct pending *next;   /* Next in the client's list. */
};

struct repl_client {
    struct repl_transport *t;       /* Transport used to connect. */
    struct repl_transport_connect conn; /* Connect request. */
    uv_stream_t *stream;            /* Connected stream, or NULL. */
    struct txq *tx;                 /* Its outgoing frames. */
    struct rx rx;                   /* Received bytes. */
    struct rx *rx_self;             /* &rx: stream->data points here. */
    struct pending *pending;        /* Sent or queued, oldest first
                                     * (answers mostly come in order, so
                                     * the match is usually the head). */
    struct pending **pending_tail;  /* Where the next one is linked. */
    size_t n_pending;               /* Length of that list. */
    unsigned busy;                  /* Inside a callback loop: defer free. */
    uint64_t next_id;               /* Next req_id. */
    uint64_t queued;                /* Frames queued on the stream. */
    uint64_t started;               /* Of those, handed to uv_write
                                     * (kept when the stream goes). */
    bool connecting;                /* conn in progress. */
    bool closed;                    /* Closing or closed. */
    bool refused_key;               /* The member refused our peer key. */
    repl_client_close_cb cb;        /* Owner's close callback. */
    void *arg;                      /* Its argument. */
};

size_t repl_client_pending(const struct repl_client *c)
{
    return c->n_pending;
}

/* Does a request of @kind change anything (a write, a membership
 * change), as opposed to reading? */
static bool changes(enum repl_fwd_kind kind)
{
    return kind == REPL_FWD_TXN || kind == REPL_FWD_MEMBER_ADD ||
           kind == REPL_FWD_MEMBER_REMOVE;
}

static void fail_pending(struct repl_client *c)
{
    while (c->pending != NULL) {
        struct pending *p = c->pending;
        c->pending = p->next;
        if (c->pending == NULL)
            c->pending_tail = &c->pending;
        c->n_pending--;
        /* Refused at the handshake, or never handed to uv_write (still
         * holding its frame, or held behind a write when the stream
         * went): certainly not applied. Once written, a change's outcome
         * is unknown. */
        bool unsent = p->frame != NULL || p->seq >= c->started;
        repl__complete(p->req, c->refused_key                ? -EACCES
                               : unsent || !changes(p->kind) ? -C8S_ENOLEADER
                                                             : -C8S_EUNKNOWN,
                       0, 0);
        mem_free(p->frame);
        mem_free(p);
    }
}

static void client_stream_closed(uv_handle_t *h)
{
    raft_free(h);
}

/* Free @c once nothing can still touch it: no connect in progress and no
 * callback loop of ours on the stack (a callback may close the client). */
static void client_maybe_free(struct repl_client *c)
{
    if (c->closed && !c->connecting && c->busy == 0) {
        rx_done(&c->rx);
        mem_free(c);
    }
}

static void client_fail(struct repl_client *c)
{
    bool was_closed = c->closed;

    c->closed = true;
    if (c->tx != NULL)
        c->started = c->tx->started;
    if (c->stream != NULL) {
        txq_release(c->tx);
        c->tx = NULL;
        uv_close((uv_handle_t *)c->stream, client_stream_closed);
        c->stream = NULL;
    }
    c->busy++;
    fail_pending(c);
    if (!was_closed && c->cb != NULL)
        c->cb(c, c->arg);
    c->busy--;
    client_maybe_free(c);
}

static struct pending *take_pending(struct repl_client *c, uint64_t id)
{
    for (struct pending **p = &c->pending; *p != NULL; p = &(*p)->next) {
        if ((*p)->id == id) {
            struct pending *found = *p;
            *p = found->next;
            if (c->pending_tail == &found->next)
                c->pending_tail = p;
            c->n_pending--;
            return found;
        }
    }
    return NULL;
}

static int client_handle(struct repl_client *c, const uint8_t *body, size_t len)
{
    struct mp_reader rd;
    uint32_t n;
    uint64_t id, failed_op, rev;
    int64_t code;
    struct pending *p;
    struct repl_result res = {0};
    uint32_t vlen = 0;

    mp_reader_init(&rd, body, len);
    if (mp_read_array(&rd, &n) != 0 || n != 5 || mp_read_uint(&rd, &id) != 0 ||
        mp_read_int(&rd, &code) != 0 || mp_read_uint(&rd, &failed_op) != 0 ||
        mp_read_uint(&rd, &rev) != 0)
        return -C8S_EMALFORMED;
    if (!mp_read_nil(&rd) && mp_read_bin(&rd, &res.value, &vlen) != 0)
        return -C8S_EMALFORMED;
    p = take_pending(c, id);
    if (p == NULL)
        return -C8S_EMALFORMED;
    mem_free(p->frame);
    res.code = (int)code;
    res.failed_op = (uint32_t)failed_op;
    res.rev = rev;
    res.value_len = vlen;
    p->req->cb(p->req, &res);
    mem_free(p);
    return 0;
}

static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct repl_client *c = container_of(*(struct rx **)s->data,
                                         struct repl_client, rx);
    const uint8_t *body;
    size_t off = 0, len;
    int rv;

    (void)buf;
    if (nread < 0) {
        client_fail(c);
        return;
    }
    c->rx.len += (size_t)nread;
    c->busy++;
    while ((rv = rx_frame(&c->rx, &off, &body, &len)) == 1)
        if ((rv = client_handle(c, body, len)) != 0 || c->closed)
            break;
    c->busy--;
    if (c->closed) {
        client_maybe_free(c); /* a callback closed it */
        return;
    }
    if (rv < 0) {
        client_fail(c);
        return;
    }
    rx_consume(&c->rx, off);
}

/* Hand @p's frame to the stream. On failure nothing of it was written
 * (txq_push queues nothing, or a failed uv_write wrote nothing), so @p
 * keeps its frame: that is how fail_pending() knows it was never sent. */
static int send_frame_bytes(struct repl_client *c, struct pending *p)
{
    struct mp_writer w = {.buf = p->frame, .len = p->frame_len};
    int rv = txq_push(c->tx, &w);

    if (rv == 0) {
        mem_free(p->frame);
        p->frame = NULL;
        p->seq = c->queued++;
    }
    return rv;
}

/* A write failed: requests handed to it are unknown, the rest never went
 * out. Do not wait for the read side, which may never fail. */
static void client_tx_broken(void *arg)
{
    client_fail(arg);
}

static void client_connected(struct repl_transport_connect *req,
                             uv_stream_t *stream, int status)
{
    struct repl_client *c = req->data;

    c->connecting = false;
    if (c->closed) {
        if (stream != NULL)
            repl_transport_stream_close(stream);
        client_maybe_free(c);
        return;
    }
    if (status != 0) {
        c->refused_key = status == -EACCES;
        client_fail(c);
        return;
    }
    c->stream = stream;
    c->tx = txq_new(stream, client_tx_broken, c);
    c->rx_self = &c->rx;
    stream->data = &c->rx_self;
    if (c->tx == NULL || uv_read_start(stream, rx_alloc, client_read) != 0) {
        client_fail(c);
        return;
    }
    /* Send what was queued while connecting, oldest first. */
    for (struct pending *p = c->pending; p != NULL; p = p->next)
        if (p->frame != NULL && send_frame_bytes(c, p) != 0) {
            client_fail(c);
            return;
        }
}

int repl_client_new(struct repl_transport *t, uint64_t self_id,
                    const char *address, repl_client_close_cb cb, void *arg,
                    struct repl_client **ret)
{
    struct repl_client *c = mem_calloc(1, sizeof *c);
    int rv;

    if (c == NULL)
        return -ENOMEM;
    c->t = t;
    c->cb = cb;
    c->arg = arg;
    c->next_id = 1;
    c->pending_tail = &c->pending;
    c->conn.data = c;
    c->connecting = true;
    rv = repl_transport_connect_forward(t, &c->conn, self_id, address,
                                        client_connected);
    if (rv != 0) {
        mem_free(c);
        return rv;
    }
    *ret = c;
    return 0;
}

static int client_send(struct repl_client *c, struct repl_req *req,
                       enum repl_fwd_kind kind, const void *payload, size_t len)
{
    struct pending *p;
    struct mp_writer w;

    if (c->closed)
        return -C8S_ENOLEADER;
    p = mem_calloc(1, sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    mp_writer_init(&w);
    mp_write_array(&w, 3);
    mp_write_uint(&w, kind);
    mp_write_uint(&w, c->next_id);
    if (payload != NULL)
        mp_write_bin(&w, payload, len);
    else
        mp_write_nil(&w);
    if (w.failed) {
        mp_writer_done(&w);
        mem_free(p);
        return -ENOMEM;
    }
    p->req = req;
    p->id = c->next_id++;
    p->kind = kind;
    p->frame = w.buf;
    p->frame_len = w.len;
    p->next = NULL;
    *c->pending_tail = p;
    c->pending_tail = &p->next;
    c->n_pending++;
    if (c->stream == NULL)
        return 0; /* sent once connected */
    int rv = send_frame_bytes(c, p);
    if (rv != 0) {
        /* Not queued, so certainly not sent: fail it now. -EPIPE: a write
         * failed at once (one failing later closes the client), and the
         * read side reports the broken stream to the others. */
        take_pending(c, p->id);
        mem_free(p->frame);
        mem_free(p);
        return rv == -EPIPE ? -C8S_ENOLEADER : rv;
    }
    return 0;
}

int repl_client_submit(struct repl_client *c, struct repl_req *req,
                       const struct store_op *ops, size_t n_ops)
{
    struct store_batch b;
    void *buf;
    size_t len;
    int rv = store_batch_init(&b, 0, 0, 0);

    if (rv == 0)
        rv = store_batch_add_txn(&b, ops, n_ops);
    if (rv != 0) {
        store_batch_done(&b);
        return rv;
    }
    store_batch_take(&b, &buf, &len);
    rv = client_send(c, req, REPL_FWD_TXN, buf, len);
    mem_free(buf);
    return rv;
}

int repl_client_read(struct repl_client *c, struct repl_req *req)
{
    return client_send(c, req, REPL_FWD_READ, NULL, 0);
}

int repl_client_get(struct repl_client *c, struct repl_req *req,
                    const char *resource, const char *ns, const char *name)
{
    size_t a = strlen(resource) + 1, b = strlen(ns) + 1, n = strlen(name);
    char *key = mem_malloc(a + b + n);
    int rv;

    if (key == NULL)
        return -ENOMEM;
    memcpy(key, resource, a);
    memcpy(key + a, ns, b);
    memcpy(key + a + b, name, n);
    rv = client_send(c, req, REPL_FWD_GET, key, a + b + n);
    mem_free(key);
    return rv;
}

int repl_client_status(struct repl_client *c, struct repl_req *req)
{
    return client_send(c, req, REPL_FWD_STATUS, NULL, 0);
}

int repl_client_status_digest(struct repl_client *c, struct repl_req *req)
{
    return client_send(c, req, REPL_FWD_STATUS, "digest", 6);
}

/* Send msgpack [a] or [a, b, id] as the payload of @kind. */
static int send_strings(struct repl_client *c, struct repl_req *req,
                        enum repl_fwd_kind kind, const char *a, const char *b,
                        uint64_t id)
{
    struct mp_writer w;
    int rv;

    mp_writer_init(&w);
    mp_write_array(&w, b != NULL ? 3 : 1);
    mp_write_str(&w, a);
    if (b != NULL) {
        mp_write_str(&w, b);
        mp_write_uint(&w, id);
    }
    rv = w.failed ? -ENOMEM : client_send(c, req, kind, w.buf, w.len);
    mp_writer_done(&w);
    return rv;
}

int repl_client_member_add(struct repl_client *c, struct repl_req *req,
                           const char *name, const char *address, uint64_t id)
{
    return send_strings(c, req, REPL_FWD_MEMBER_ADD, name, address, id);
}

int repl_client_member_remove(struct repl_client *c, struct repl_req *req,
                              const char *name)
{
    return send_strings(c, req, REPL_FWD_MEMBER_REMOVE, name, NULL, 0);
}

int repl_client_members(struct repl_client *c, struct repl_req *req)
{
    return client_send(c, req, REPL_FWD_MEMBERS, NULL, 0);
}

void repl_client_close(struct repl_client *c)
{
    if (c->closed)
        return;
    c->cb = NULL;
    client_fail(c);
}

/* ---- server ------------------------------------------------------------*/

static int forward_encoded(struct repl *r, struct repl_req *user,
                           const void *batch, size_t len);
static int forward_raw(struct repl *r, struct repl_req *user,
                       enum repl_fwd_kind kind, const void *payload,
                       size_t len);

/* One follower's (or tool's) stream to this member. */
struct fwd_conn {
    struct repl *r;         /* Owner. */
    bool from_member;       /* Peer is a cluster member (it already forwarded:
                             * never forward its requests again). */
    uv_stream_t *stream;    /* The stream, until closed. */
    struct txq *tx;         /* Its outgoing frames. */
    struct rx rx;           /* Received bytes. */
    struct rx *rx_self;     /* &rx: stream->data points here. */
    unsigned refs;          /* Stream + requests in flight. */
    struct fwd_conn *next;  /* In the member's list. */
};

/* One request from a connection, in flight through repl. */
struct fwd_op {
    struct repl_req req;    /* Our request to repl (first: container). */
    struct fwd_conn *conn;  /* Where to answer (ref). */
    uint64_t id;            /* Peer's req_id. */
};

struct repl__fwd_server {
    struct fwd_conn *conns; /* Open connections. */
};

static void conn_unref(struct fwd_conn *fc)
{
    if (--fc->refs > 0)
        return;
    rx_done(&fc->rx);
    mem_free(fc);
}

static void conn_stream_closed(uv_handle_t *h)
{
    raft_free(h);
}

static void conn_close(struct fwd_conn *fc)
{
    struct repl__fwd_server *srv = fc->r->fwd_server;

    if (fc->stream == NULL)
        return;
    for (struct fwd_conn **p = &srv->conns; *p != NULL; p = &(*p)->next)
        if (*p == fc) {
            *p = fc->next;
            break;
        }
    txq_release(fc->tx);
    fc->tx = NULL;
    uv_close((uv_handle_t *)fc->stream, conn_stream_closed);
    fc->stream = NULL;
    conn_unref(fc);
}

static void conn_tx_broken(void *arg)
{
    conn_close(arg);
}

static void respond(struct fwd_conn *fc, uint64_t id,
                    const struct repl_result *res)
{
    struct mp_writer w;

    if (fc->stream == NULL)
        return;
    mp_writer_init(&w);
    mp_write_array(&w, 5);
    mp_write_uint(&w, id);
    mp_write_int(&w, res->code);
    mp_write_uint(&w, res->failed_op);
    mp_write_uint(&w, res->rev);
    if (res->value != NULL)
        mp_write_bin(&w, res->value, res->value_len);
    else
        mp_write_nil(&w);
    if (txq_push(fc->tx, &w) != 0)
        conn_close(fc);
    mp_writer_done(&w);
}

static void op_done(struct repl_req *req, const struct repl_result *res)
{
    struct fwd_op *op = container_of(req, struct fwd_op, req);

    respond(op->conn, op->id, res);
    conn_unref(op->conn);
    mem_free(op);
}

static int serve_one(struct fwd_conn *fc, uint64_t kind, uint64_t id,
                     const void *payload, uint32_t len)
{
    struct repl_result no = {.code = -C8S_ENOLEADER};
    struct fwd_op *op;
    int rv;

    bool leader = repl__is_leader(fc->r);

    if (!leader && fc->from_member) {
        log_debug("forward", "request %llu refused: not the leader",
                  (unsigned long long)id);
        respond(fc, id, &no);
        return 0;
    }
    op = mem_calloc(1, sizeof *op);
    if (op == NULL)
        return -ENOMEM;
    op->req.cb = op_done;
    op->conn = fc;
    op->id = id;
    if (leader && kind == REPL_FWD_TXN)
        rv = repl__submit_encoded(fc->r, &op->req, payload, len);
    else if (leader)
        rv = repl__read_local(fc->r, &op->req, true);
    else if (kind == REPL_FWD_TXN)
        rv = fc->r->disk_low ? -ENOSPC
                             : forward_encoded(fc->r, &op->req, payload, len);
    else
        rv = repl__fwd_read(fc->r, &op->req);
    if (rv != 0) {
        struct repl_result res = {.code = rv};
        mem_free(op);
        respond(fc, id, &res);
        return 0;
    }
    fc->refs++;
    return 0;
}

/* GET: "resource\0ns\0name" read from the local store. */
static int serve_get(struct fwd_conn *fc, uint64_t id, const void *key,
                     uint32_t len)
{
    const char *parts[3];
    const char *p = key, *end = p + len;
    const struct store_kv *kv = NULL;
    struct repl_result res = {0};

    for (int i = 0; i < 2; i++) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        if (nul == NULL)
            return -C8S_EMALFORMED;
        parts[i] = p;
        p = nul + 1;
    }
    char *name = mem_strndup(p, (size_t)(end - p));
    if (name == NULL)
        return -ENOMEM;
    parts[2] = name;
    res.code = store_get(fc->r->store, parts[0], parts[1], parts[2], 0, &kv);
    if (res.code == 0) {
        res.rev = kv->mod_rev;
        res.value = kv->value->data;
        res.value_len = kv->value->len;
    }
    respond(fc, id, &res);
    store_kv_unref(kv);
    mem_free(name);
    return 0;
}

/* The digest serialises the whole store: only when asked (tests compare
 * members with it), never on routine status calls. */
static int serve_status(struct fwd_conn *fc, uint64_t id, bool digest_wanted)
{
    struct repl_status st;
    struct repl_result res = {0};
    struct mp_writer w;
    struct store_snapview *view = NULL;
    uint32_t digest = 0;

    repl_get_status(fc->r, &st);
    /* The snapshot's metadata holds every key, revision and value CRC, so
     * its CRC covers the whole state without touching the values. */
    if (digest_wanted && store_snapshot_view(fc->r->store, &view) == 0) {
        digest = crc32_update(0, view->bufs[0].base, view->bufs[0].len);
        store_snapview_free(view);
    }
    mp_writer_init(&w);
    mp_write_array(&w, 12);
    mp_write_uint(&w, st.id);
    mp_write_uint(&w, st.leader_id);
    mp_write_str(&w, st.state);
    mp_write_uint(&w, st.term);
    mp_write_uint(&w, st.commit_index);
    mp_write_uint(&w, st.applied_index);
    mp_write_uint(&w, st.rev);
    mp_write_uint(&w, store_key_count(fc->r->store));
    mp_write_uint(&w, digest);
    mp_write_uint(&w, st.compact_rev);
    mp_write_uint(&w, st.config_committed_index);
    mp_write_uint(&w, st.config_uncommitted_index);
    res.rev = st.rev;
    res.value = w.buf;
    res.value_len = w.len;
    if (w.failed)
        res.code = -ENOMEM;
    respond(fc, id, &res);
    mp_writer_done(&w);
    return 0;
}

static int serve_members(struct fwd_conn *fc, uint64_t id)
{
    struct repl_result res = {0};
    struct mp_writer w;

    mp_writer_init(&w);
    repl__members_encode(fc->r, &w);
    res.value = w.buf;
    res.value_len = w.len;
    if (w.failed)
        res.code = -ENOMEM;
    respond(fc, id, &res);
    mp_writer_done(&w);
    return 0;
}

/* Decode msgpack [name], or [name, address, raft ID], into NUL-terminated
 * copies (and *id). */
static int decode_names(const void *payload, uint32_t len, char *name,
                        char *address, uint64_t *id, bool want_address)
{
    struct mp_reader rd;
    const char *s;
    uint32_t n, slen;

    *id = 0;
    mp_reader_init(&rd, payload, len);
    if (mp_read_array(&rd, &n) != 0 ||
        n != (want_address ? 3u : 1u) ||
        mp_read_str(&rd, &s, &slen) != 0 || slen == 0 ||
        slen >= REPL_NAME_MAX)
        return -C8S_EMALFORMED;
    memcpy(name, s, slen);
    name[slen] = '\0';
    if (!want_address)
        return 0;
    if (mp_read_str(&rd, &s, &slen) != 0 || slen == 0 || slen >= REPL_ADDR_MAX)
        return -C8S_EMALFORMED;
    memcpy(address, s, slen);
    address[slen] = '\0';
    if (mp_read_uint(&rd, id) != 0 || *id == 0)
        return -C8S_EMALFORMED;
    return 0;
}

/* MEMBER_ADD / MEMBER_REMOVE: on the leader, or passed on to it. */
static int serve_member(struct fwd_conn *fc, uint64_t kind, uint64_t id,
                        const void *payload, uint32_t len)
{
    bool adding = kind == REPL_FWD_MEMBER_ADD;
    char name[REPL_NAME_MAX], address[REPL_ADDR_MAX];
    uint64_t member_id;
    struct fwd_op *op;
    int rv = decode_names(payload, len, name, address, &member_id, adding);

    if (rv != 0)
        return rv;
    op = mem_calloc(1, sizeof *op);
    if (op == NULL)
        return -ENOMEM;
    op->req.cb = op_done;
    op->conn = fc;
    op->id = id;
    if (repl__is_leader(fc->r))
        rv = adding ? repl_member_add(fc->r, &op->req, name, address,
                                      member_id)
                    : repl_member_remove(fc->r, &op->req, name);
    else if (fc->from_member)
        rv = -C8S_ENOLEADER;
    else
        rv = forward_raw(fc->r, &op->req, (enum repl_fwd_kind)kind, payload,
                         len);
    if (rv != 0) {
        struct repl_result res = {.code = rv};
        mem_free(op);
        respond(fc, id, &res);
        return 0;
    }
    fc->refs++;
    return 0;
}

static int server_handle(struct fwd_conn *fc, const uint8_t *body, size_t len)
{
    struct mp_reader rd;
    uint32_t n, plen = 0;
    uint64_t kind, id;
    const void *payload = NULL;

    mp_reader_init(&rd, body, len);
    if (mp_read_array(&rd, &n) != 0 || n != 3 ||
        mp_read_uint(&rd, &kind) != 0 || mp_read_uint(&rd, &id) != 0)
        return -C8S_EMALFORMED;
    switch (kind) {
    case REPL_FWD_TXN:
    case REPL_FWD_GET:
    case REPL_FWD_MEMBER_ADD:
    case REPL_FWD_MEMBER_REMOVE:
        if (mp_read_bin(&rd, &payload, &plen) != 0)
            return -C8S_EMALFORMED;
        break;
    case REPL_FWD_STATUS:
        if (!mp_read_nil(&rd) && mp_read_bin(&rd, &payload, &plen) != 0)
            return -C8S_EMALFORMED;
        break;
    case REPL_FWD_READ:
    case REPL_FWD_MEMBERS:
        if (!mp_read_nil(&rd))
            return -C8S_EMALFORMED;
        break;
    default:
        return -C8S_EMALFORMED;
    }
    if (kind == REPL_FWD_GET)
        return serve_get(fc, id, payload, plen);
    if (kind == REPL_FWD_STATUS)
        return serve_status(fc, id,
                            plen == 6 && memcmp(payload, "digest", 6) == 0);
    if (kind == REPL_FWD_MEMBERS)
        return serve_members(fc, id);
    if (kind == REPL_FWD_MEMBER_ADD || kind == REPL_FWD_MEMBER_REMOVE)
        return serve_member(fc, kind, id, payload, plen);
    return serve_one(fc, kind, id, payload, plen);
}

static void server_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct fwd_conn *fc = container_of(*(struct rx **)s->data,
                                       struct fwd_conn, rx);
    const uint8_t *body;
    size_t off = 0, len;
    int rv = 0;

    (void)buf;
    if (nread < 0) {
        conn_close(fc);
        return;
    }
    fc->rx.len += (size_t)nread;
    /* Answering may close the connection (a failed write): hold a
     * reference so fc outlives this loop. */
    fc->refs++;
    while (fc->stream != NULL &&
           (rv = rx_frame(&fc->rx, &off, &body, &len)) == 1)
        if ((rv = server_handle(fc, body, len)) != 0)
            break;
    if (fc->stream != NULL && rv < 0) {
        log_debug("forward", "closing a forward stream: %s", err_str(rv));
        conn_close(fc);
    } else if (fc->stream != NULL) {
        rx_consume(&fc->rx, off);
    }
    conn_unref(fc);
}

static bool peer_is_member(struct repl *r, uint64_t id)
{
    for (unsigned i = 0; i < r->cfg.n_members; i++)
        if (r->cfg.members[i].id == id)
            return true;
    return repl__is_member(r, id);
}

static void on_forward(struct repl_transport *t, uv_stream_t *stream,
                       uint64_t peer_id)
{
    struct repl *r = t->data;
    struct fwd_conn *fc = mem_calloc(1, sizeof *fc);

    if (fc == NULL || r->closing) {
        mem_free(fc);
        repl_transport_stream_close(stream);
        return;
    }
    fc->r = r;
    fc->stream = stream;
    fc->tx = txq_new(stream, conn_tx_broken, fc);
    fc->refs = 1;
    fc->from_member = peer_is_member(r, peer_id);
    fc->rx_self = &fc->rx;
    stream->data = &fc->rx_self;
    fc->next = r->fwd_server->conns;
    r->fwd_server->conns = fc;
    if (fc->tx == NULL || uv_read_start(stream, rx_alloc, server_read) != 0)
        conn_close(fc);
}

/* ---- the member's side ------------------------------------------------*/

struct repl__fwd_client {
    struct repl_client *c;  /* Link to the leader, or NULL. */
    uint64_t leader_id;     /* Whom it is connected to. */
};

int repl__fwd_init(struct repl *r)
{
    r->fwd_server = mem_calloc(1, sizeof *r->fwd_server);
    r->fwd_client = mem_calloc(1, sizeof *r->fwd_client);
    if (r->fwd_server == NULL || r->fwd_client == NULL)
        return -ENOMEM;
    r->transport.forward_cb = on_forward;
    return 0;
}

static void leader_link_closed(struct repl_client *c, void *arg)
{
    struct repl *r = arg;

    if (r->fwd_client->c == c)
        r->fwd_client->c = NULL;
}

/* The link to the current leader, (re)connected on demand. */
static struct repl_client *leader_link(struct repl *r)
{
    struct repl__fwd_client *fc = r->fwd_client;
    raft_id id;
    const char *addr;

    raft_leader(&r->raft, &id, &addr);
    if (id == 0 || id == r->id)
        return NULL;
    if (fc->c != NULL && fc->leader_id == id)
        return fc->c;
    if (fc->c != NULL) { /* forget it first: its callbacks may forward */
        struct repl_client *old = fc->c;
        fc->c = NULL;
        repl_client_close(old);
    }
    if (repl_client_new(&r->transport, r->id, addr, leader_link_closed, r,
                        &fc->c) != 0)
        return NULL;
    fc->leader_id = id;
    return fc->c;
}

/* A follower answers only once its own store has the write (read your
 * writes on any member). */
struct fwd_wait {
    struct repl_req req;    /* Ours, sent to the leader (first). */
    struct repl_req *user;  /* Caller's. */
    struct repl *r;         /* Owner. */
};

static void forwarded_done(struct repl_req *req, const struct repl_result *res)
{
    struct fwd_wait *w = container_of(req, struct fwd_wait, req);
    struct repl_req *user = w->user;
    struct repl *r = w->r;

    mem_free(w);
    if (res->rev > 0 && (res->code == 0 || res->code <= -4096))
        repl__wait_rev(r, user, res);
    else
        user->cb(user, res);
}

/* What to send to the leader: ops, or an encoded request of some kind. */
struct fwd_what {
    const struct store_op *ops; /* TXN as ops, or NULL. */
    size_t n_ops;               /* Their count. */
    enum repl_fwd_kind kind;    /* Otherwise: this kind... */
    const void *payload;        /* ...with this payload (NULL: nil). */
    size_t len;                 /* Its length. */
};

static int forward(struct repl *r, struct repl_req *user,
                   const struct fwd_what *what)
{
    struct repl_client *c = leader_link(r);
    struct fwd_wait *w;
    int rv;

    if (c == NULL)
        return -C8S_ENOLEADER;
    w = mem_calloc(1, sizeof *w);
    if (w == NULL)
        return -ENOMEM;
    w->req.cb = forwarded_done;
    w->user = user;
    w->r = r;
    if (what->ops != NULL)
        rv = repl_client_submit(c, &w->req, what->ops, what->n_ops);
    else
        rv = client_send(c, &w->req, what->kind, what->payload, what->len);
    if (rv != 0)
        mem_free(w);
    return rv;
}

static int forward_encoded(struct repl *r, struct repl_req *user,
                           const void *batch, size_t len)
{
    return forward_raw(r, user, REPL_FWD_TXN, batch, len);
}

static int forward_raw(struct repl *r, struct repl_req *user,
                       enum repl_fwd_kind kind, const void *payload,
                       size_t len)
{
    struct fwd_what what = {.kind = kind, .payload = payload, .len = len};

    return forward(r, user, &what);
}

int repl__fwd_submit(struct repl *r, struct repl_req *req,
                     const struct store_op *ops, size_t n_ops)
{
    struct fwd_what what = {.ops = ops, .n_ops = n_ops};

    if (n_ops == 0 || ops == NULL)
        return -EINVAL;
    return forward(r, req, &what);
}

int repl__fwd_read(struct repl *r, struct repl_req *req)
{
    return forward_raw(r, req, REPL_FWD_READ, NULL, 0);
}

void repl__fwd_leader_changed(struct repl *r)
{
    struct repl__fwd_client *fc = r->fwd_client;

    if (fc != NULL && fc->c != NULL) {
        struct repl_client *c = fc->c;
        fc->c = NULL;
        /* Pending writes already sent: unknown outcome; the rest: no
         * leader. The caller retries. */
        repl_client_close(c);
    }
}

void repl__fwd_close(struct repl *r)
{
    repl__fwd_leader_changed(r);
    if (r->fwd_server != NULL)
        while (r->fwd_server->conns != NULL)
            conn_close(r->fwd_server->conns);
    mem_free(r->fwd_client);
    r->fwd_client = NULL;
}
