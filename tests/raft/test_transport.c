/* Tests for raft/transport: handshake, channels, limits, close, libraft. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/hmac.h>

#include "lib/mem.h"
#include "raft/transport.h"
#include "tests/lib/proc.h"
#include "tests/lib/unit.h"

#define PAYLOAD_LEN (256 * 1024)
/* The wire format as transport.h documents it, written out again here so a
 * change to it shows up as a failing test. */
#define CH_LEN 21
#define NONCE_LEN 16
#define MAC_LEN 32

/* Every node's peer key, and a stranger's. */
static const unsigned char key_ok[REPL_TRANSPORT_KEY_LEN] = "0123456789abcdef"
                                                            "0123456789abcde";
static const unsigned char key_bad[REPL_TRANSPORT_KEY_LEN] = "fedcba9876543210"
                                                             "fedcba987654321";

static uv_loop_t loop;

/* ---- loop helpers -------------------------------------------------------- */

static void ticker_cb(uv_timer_t *timer)
{
    (void)timer;
}

/* Run the loop until *@flag is true; fail the test after @ms. */
static void run_until(const bool *flag, unsigned ms)
{
    uv_timer_t ticker;
    uint64_t deadline;

    uv_update_time(&loop);
    deadline = uv_now(&loop) + ms;
    uv_timer_init(&loop, &ticker);
    uv_timer_start(&ticker, ticker_cb, 5, 5);
    while (!*flag && uv_now(&loop) < deadline)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&ticker, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_MSG(*flag, "condition not reached within %u ms", ms);
}

/* Run for @ms whatever happens. */
static void run_for(unsigned ms)
{
    bool never = false;
    uv_timer_t ticker;
    uint64_t deadline;

    uv_update_time(&loop);
    deadline = uv_now(&loop) + ms;
    uv_timer_init(&loop, &ticker);
    uv_timer_start(&ticker, ticker_cb, 5, 5);
    while (!never && uv_now(&loop) < deadline)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&ticker, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static void loop_setup(void)
{
    ASSERT_EQ(uv_loop_init(&loop), 0);
}

/* Every handle must be gone: closing the loop proves nothing leaked. */
static void loop_teardown(void)
{
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

static void addr_of(char *buf, size_t len, int port)
{
    snprintf(buf, len, "127.0.0.1:%d", port);
}

/* ---- a transport under test ------------------------------------------- */

struct node {
    struct repl_transport t; /* the transport */
    char address[64];        /* its address */
    bool closed;             /* close callback ran */
    /* Last accepted stream, either channel. */
    uv_stream_t *accepted;   /* stream handed over */
    uint64_t accepted_id;    /* announced id */
    char accepted_addr[64];  /* announced address (raft channel) */
    int n_accepted;          /* streams handed over */
    const unsigned char *key; /* its peer key if not key_ok */
};

static void node_close_cb(struct raft_uv_transport *iface)
{
    struct repl_transport *t = (struct repl_transport *)iface;

    ((struct node *)t->data)->closed = true;
}

static void node_start(struct node *n, uint64_t id, bool listen,
                       raft_uv_accept_cb accept_cb)
{
    int port = tproc_free_port();

    addr_of(n->address, sizeof n->address, port);
    ASSERT_EQ(repl_transport_init(&n->t, &loop, NULL), 0);
    repl_transport_set_key(&n->t, n->key ? n->key : key_ok);
    n->t.data = n;
    ASSERT_EQ(n->t.iface.version, 1);
    ASSERT_EQ(n->t.iface.init(&n->t.iface, id, n->address), 0);
    if (listen)
        ASSERT_EQ(n->t.iface.listen(&n->t.iface, accept_cb), 0);
}

static void node_stop(struct node *n)
{
    n->t.iface.close(&n->t.iface, node_close_cb);
    run_until(&n->closed, 2000);
}

/* ---- streams that collect what they read -------------------------------- */

struct sink {
    char *buf;      /* bytes received */
    size_t len;     /* bytes in buf */
    size_t cap;     /* capacity of buf */
    bool eof;       /* EOF or error seen */
    int error;      /* the error, 0 for EOF */
};

static void sink_alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    struct sink *s = h->data;

    (void)size;
    if (s->cap - s->len < 65536) {
        s->cap = s->cap ? s->cap * 2 : 65536 * 2;
        s->buf = realloc(s->buf, s->cap);
        ASSERT(s->buf != NULL);
    }
    buf->base = s->buf + s->len;
    buf->len = s->cap - s->len;
}

static void sink_read_cb(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct sink *s = stream->data;

    (void)buf;
    if (n > 0) {
        s->len += (size_t)n;
    } else if (n < 0) {
        s->eof = true;
        s->error = n == UV_EOF ? 0 : (int)n;
        uv_read_stop(stream);
    }
}

static void sink_start(struct sink *s, uv_stream_t *stream)
{
    stream->data = s;
    ASSERT_EQ(uv_read_start(stream, sink_alloc_cb, sink_read_cb), 0);
}

static void sink_free(struct sink *s)
{
    free(s->buf);
    memset(s, 0, sizeof *s);
}

static char *pattern(size_t len, unsigned seed)
{
    char *p = malloc(len);

    ASSERT(p != NULL);
    for (size_t i = 0; i < len; i++)
        p[i] = (char)((i * 31 + seed + i / 251) & 0xff);
    return p;
}

static void write_cb(uv_write_t *req, int status)
{
    ASSERT_EQ(status, 0);
    free(req);
}

static void write_bytes(uv_stream_t *stream, const char *bytes, size_t len)
{
    uv_write_t *req = malloc(sizeof *req);
    uv_buf_t buf = uv_buf_init((char *)bytes, (unsigned)len);

    ASSERT(req != NULL);
    ASSERT_EQ(uv_write(req, stream, &buf, 1, write_cb), 0);
}

static int nodelay_of(uv_stream_t *stream)
{
    uv_os_fd_t fd;
    int on = 0;
    socklen_t len = sizeof on;

    ASSERT_EQ(uv_fileno((uv_handle_t *)stream, &fd), 0);
    ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
    return on;
}

static int keepalive_of(uv_stream_t *stream)
{
    uv_os_fd_t fd;
    int on = 0;
    socklen_t len = sizeof on;

    ASSERT_EQ(uv_fileno((uv_handle_t *)stream, &fd), 0);
    ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len), 0);
    return on;
}

/* ---- raft channel --------------------------------------------------------- */

static struct node *acceptor; /* the node whose accept callback runs */
static char *payload_back;    /* written by the acceptor on accept */

static void raft_accept_cb(struct raft_uv_transport *iface, raft_id id,
                           const char *address, struct uv_stream_s *stream)
{
    (void)iface;
    acceptor->accepted = stream;
    acceptor->accepted_id = id;
    snprintf(acceptor->accepted_addr, sizeof acceptor->accepted_addr, "%s",
             address);
    acceptor->n_accepted++;
    /* Write at once, like a peer that starts talking right away. */
    if (payload_back != NULL)
        write_bytes(stream, payload_back, PAYLOAD_LEN);
}

struct connect_result {
    bool done;          /* callback ran */
    int status;         /* its status */
    uv_stream_t *stream; /* its stream */
    char *payload;      /* written right after the callback, if set */
};

static void raft_connect_cb(struct raft_uv_connect *req,
                            struct uv_stream_s *stream, int status)
{
    struct connect_result *r = req->data;

    ASSERT(!r->done);
    r->done = true;
    r->status = status;
    r->stream = stream;
    if (status == 0 && r->payload != NULL)
        write_bytes(stream, r->payload, PAYLOAD_LEN);
}

static void fwd_connect_cb(struct repl_transport_connect *req,
                           uv_stream_t *stream, int status)
{
    struct connect_result *r = req->data;

    ASSERT(!r->done);
    r->done = true;
    r->status = status;
    r->stream = stream;
    if (status == 0 && r->payload != NULL)
        write_bytes(stream, r->payload, PAYLOAD_LEN);
}

static bool sink_has(struct sink *s, size_t len)
{
    return s->len >= len;
}

static void run_until_sink(struct sink *s, size_t len, unsigned ms)
{
    uint64_t deadline;

    uv_update_time(&loop);
    deadline = uv_now(&loop) + ms;
    while (!sink_has(s, len) && !s->eof && uv_now(&loop) < deadline)
        run_for(5);
    ASSERT_MSG(s->len == len, "received %zu bytes, want %zu (eof %d)",
               s->len, len, s->eof);
}

TEST(transport, raft_channel_hands_over_every_byte_both_ways)
{
    struct node a = {0}, b = {0};
    struct raft_uv_connect req;
    struct connect_result r = {0};
    struct sink at_a = {0}, at_b = {0};

    loop_setup();
    node_start(&a, 1, true, raft_accept_cb);
    node_start(&b, 2, false, NULL);
    acceptor = &a;
    r.payload = pattern(PAYLOAD_LEN, 1);
    payload_back = pattern(PAYLOAD_LEN, 2);
    req.data = &r;
    ASSERT_EQ(b.t.iface.connect(&b.t.iface, &req, 1, a.address,
                                raft_connect_cb), 0);
    ASSERT(req.cb == raft_connect_cb);
    run_until(&r.done, 2000);
    ASSERT_EQ(r.status, 0);
    sink_start(&at_b, r.stream);
    while (a.n_accepted == 0)
        run_for(5);
    ASSERT_EQ(a.accepted_id, 2);
    ASSERT_STR_EQ(a.accepted_addr, b.address);
    sink_start(&at_a, a.accepted);

    run_until_sink(&at_a, PAYLOAD_LEN, 5000);
    ASSERT_MEM_EQ(at_a.buf, r.payload, PAYLOAD_LEN);
    run_until_sink(&at_b, PAYLOAD_LEN, 5000);
    ASSERT_MEM_EQ(at_b.buf, payload_back, PAYLOAD_LEN);

    /* Nagle would stall raft's small messages: both ends have NODELAY. */
    ASSERT_EQ(nodelay_of(r.stream) != 0, 1);
    ASSERT_EQ(nodelay_of(a.accepted) != 0, 1);
    ASSERT_EQ(keepalive_of(r.stream) != 0, 1);
    ASSERT_EQ(keepalive_of(a.accepted) != 0, 1);

    repl_transport_stream_close(r.stream);
    repl_transport_stream_close(a.accepted);
    node_stop(&a);
    node_stop(&b);
    sink_free(&at_a);
    sink_free(&at_b);
    free(r.payload);
    free(payload_back);
    payload_back = NULL;
    loop_teardown();
}

/* ---- forward channel ---------------------------------------------------- */

static void forward_cb(struct repl_transport *t, uv_stream_t *stream,
                       uint64_t peer_id)
{
    struct node *n = t->data;

    n->accepted = stream;
    n->accepted_id = peer_id;
    n->n_accepted++;
    if (payload_back != NULL)
        write_bytes(stream, payload_back, PAYLOAD_LEN);
}

static void refuse_raft_accept_cb(struct raft_uv_transport *iface, raft_id id,
                                  const char *address,
                                  struct uv_stream_s *stream)
{
    (void)iface;
    (void)id;
    (void)address;
    (void)stream;
    ASSERT_MSG(false, "a forward connection reached the raft channel");
}

TEST(transport, forward_channel_goes_to_forward_cb)
{
    struct node a = {0}, b = {0};
    struct repl_transport_connect req;
    struct connect_result r = {0};
    struct sink at_a = {0}, at_b = {0};

    loop_setup();
    node_start(&a, 1, true, refuse_raft_accept_cb);
    a.t.forward_cb = forward_cb;
    node_start(&b, 2, false, NULL);
    r.payload = pattern(PAYLOAD_LEN, 3);
    payload_back = pattern(PAYLOAD_LEN, 4);
    req.data = &r;
    ASSERT_EQ(repl_transport_connect_forward(&b.t, &req, 7, a.address,
                                             fwd_connect_cb), 0);
    run_until(&r.done, 2000);
    ASSERT_EQ(r.status, 0);
    sink_start(&at_b, r.stream);
    while (a.n_accepted == 0)
        run_for(5);
    ASSERT_EQ(a.accepted_id, 7);
    sink_start(&at_a, a.accepted);
    run_until_sink(&at_a, PAYLOAD_LEN, 5000);
    ASSERT_MEM_EQ(at_a.buf, r.payload, PAYLOAD_LEN);
    run_until_sink(&at_b, PAYLOAD_LEN, 5000);
    ASSERT_MEM_EQ(at_b.buf, payload_back, PAYLOAD_LEN);
    ASSERT_EQ(nodelay_of(r.stream) != 0, 1);
    ASSERT_EQ(nodelay_of(a.accepted) != 0, 1);

    repl_transport_stream_close(r.stream);
    repl_transport_stream_close(a.accepted);
    node_stop(&a);
    node_stop(&b);
    sink_free(&at_a);
    sink_free(&at_b);
    free(r.payload);
    free(payload_back);
    payload_back = NULL;
    loop_teardown();
}

TEST(transport, forward_channel_without_handler_is_refused)
{
    struct node a = {0}, b = {0};
    struct repl_transport_connect req;
    struct connect_result r = {0};

    loop_setup();
    node_start(&a, 1, true, refuse_raft_accept_cb);
    node_start(&b, 2, false, NULL);
    req.data = &r;
    ASSERT_EQ(repl_transport_connect_forward(&b.t, &req, 7, a.address,
                                             fwd_connect_cb), 0);
    run_until(&r.done, 2000);
    ASSERT_EQ(r.status, -ECONNREFUSED);
    ASSERT(r.stream == NULL);
    ASSERT_EQ(a.n_accepted, 0);
    node_stop(&a);
    node_stop(&b);
    loop_teardown();
}

/* ---- hostile or broken peers --------------------------------------------- */

/* HMAC-SHA256 under @key of @label || challenge || target || @b, the
 * target being @address (IPv4 and port, network order), computed
 * independently of the transport. */
static void test_mac(const unsigned char *key, const char *label,
                     const void *chal, const char *address, const void *b,
                     size_t blen, unsigned char out[MAC_LEN])
{
    unsigned char msg[1024];
    size_t llen = strlen(label);
    unsigned int n = 0;
    struct sockaddr_in sin;

    ASSERT_EQ(repl_transport_parse_address(address, &sin, NULL, 0), 0);
    ASSERT(llen + CH_LEN + 6 + blen <= sizeof msg);
    memcpy(msg, label, llen);
    memcpy(msg + llen, chal, CH_LEN);
    memcpy(msg + llen + CH_LEN, &sin.sin_addr.s_addr, 4);
    memcpy(msg + llen + CH_LEN + 4, &sin.sin_port, 2);
    memcpy(msg + llen + CH_LEN + 6, b, blen);
    ASSERT(HMAC(EVP_sha256(), key, REPL_TRANSPORT_KEY_LEN, msg,
                llen + CH_LEN + 6 + blen, out, &n) != NULL);
    ASSERT_EQ(n, MAC_LEN);
}

/* A raw TCP client. Blind (key NULL), it sends @bytes as soon as it is
 * connected. Otherwise it plays the connector: it waits for the challenge
 * and sends @bytes (a handshake up to the address) with a nonce and the MAC
 * under @key, then @extra. It records everything that comes back. */
struct raw {
    uv_tcp_t tcp;         /* the client socket */
    uv_connect_t connect; /* its connect request */
    const char *bytes;    /* what to send */
    size_t len;           /* how many bytes */
    const unsigned char *key; /* answer the challenge with this key */
    const char *extra;    /* sent right after the handshake */
    size_t extra_len;     /* its length */
    bool sent;            /* the handshake is out */
    char out[1024];       /* the handshake as sent */
    size_t out_len;       /* its length */
    const char *replay;   /* if set: sent instead of a fresh handshake */
    size_t replay_len;    /* its length */
    char address[64];     /* where it connected */
    const char *mac_target; /* the address its MAC names if not that one */
    struct sink sink;     /* what the server answers */
    bool closed;          /* handle closed */
};

static void raw_close_cb(uv_handle_t *h)
{
    ((struct raw *)h->data)->closed = true;
}

/* The challenge is in: send the handshake that answers it. */
static void raw_answer_challenge(struct raw *w, uv_stream_t *stream)
{
    char *p = w->out;

    if (w->replay != NULL) {
        memcpy(p, w->replay, w->replay_len);
        w->out_len = w->replay_len;
    } else {
        memcpy(p, w->bytes, w->len);
        memset(p + w->len, 0x5a, NONCE_LEN);
        w->out_len = w->len + NONCE_LEN;
        test_mac(w->key, "c8s-peer-v2 connect", w->sink.buf,
                 w->mac_target ? w->mac_target : w->address, p, w->out_len,
                 (unsigned char *)p + w->out_len);
        w->out_len += MAC_LEN;
    }
    ASSERT(w->out_len + w->extra_len <= sizeof w->out);
    if (w->extra_len > 0)
        memcpy(p + w->out_len, w->extra, w->extra_len);
    write_bytes(stream, p, w->out_len + w->extra_len);
    w->sent = true;
}

static void raw_read_cb(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct raw *w = stream->data;

    stream->data = &w->sink;
    sink_read_cb(stream, n, buf);
    stream->data = w;
    if (w->key != NULL && !w->sent && w->sink.len >= CH_LEN)
        raw_answer_challenge(w, stream);
}

static void raw_alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    struct raw *w = h->data;

    h->data = &w->sink;
    sink_alloc_cb(h, size, buf);
    h->data = w;
}

static void raw_connect_cb(uv_connect_t *req, int status)
{
    struct raw *w = req->data;

    ASSERT_EQ(status, 0);
    if (w->key == NULL && w->len > 0)
        write_bytes((uv_stream_t *)&w->tcp, w->bytes, w->len);
    ASSERT_EQ(uv_read_start((uv_stream_t *)&w->tcp, raw_alloc_cb,
                            raw_read_cb), 0);
}

/* Connect to @address; see struct raw for @key (NULL: blind). */
static void raw_start_with(struct raw *w, const char *address,
                           const char *bytes, size_t len,
                           const unsigned char *key)
{
    struct sockaddr_in sin;

    memset(w, 0, sizeof *w);
    ASSERT_EQ(repl_transport_parse_address(address, &sin, NULL, 0), 0);
    w->bytes = bytes;
    w->len = len;
    w->key = key;
    snprintf(w->address, sizeof w->address, "%s", address);
    uv_tcp_init(&loop, &w->tcp);
    w->tcp.data = w;
    w->connect.data = w;
    ASSERT_EQ(uv_tcp_connect(&w->connect, &w->tcp,
                             (const struct sockaddr *)&sin, raw_connect_cb),
              0);
}

static void raw_start(struct raw *w, const char *address, const char *bytes,
                      size_t len)
{
    raw_start_with(w, address, bytes, len, NULL);
}

static void raw_stop(struct raw *w)
{
    uv_close((uv_handle_t *)&w->tcp, raw_close_cb);
    run_until(&w->closed, 1000);
    sink_free(&w->sink);
}

/* Encode the start of a handshake (up to the address) by hand, as a peer
 * would. */
static size_t handshake(char *out, const char *magic, unsigned version,
                        unsigned channel, uint64_t id, unsigned addr_len,
                        const char *addr)
{
    unsigned char *p = (unsigned char *)out;

    memcpy(p, magic, 4);
    p[4] = (unsigned char)version;
    p[5] = (unsigned char)channel;
    p[6] = p[7] = 0;
    for (int i = 0; i < 8; i++)
        p[8 + i] = (unsigned char)(id >> (8 * i));
    p[16] = (unsigned char)addr_len;
    p[17] = (unsigned char)(addr_len >> 8);
    if (addr != NULL)
        memcpy(p + 18, addr, strlen(addr));
    return 18 + (addr ? strlen(addr) : 0);
}

/* The server's bytes after its challenge (which must be well-formed). */
static size_t answered_after_challenge(const struct raw *w)
{
    ASSERT(w->sink.len >= CH_LEN);
    ASSERT_MEM_EQ(w->sink.buf, "C8SC\x02", 5);
    return w->sink.len - CH_LEN;
}

/* Send @bytes (blind, or answering the challenge with @key), expect the
 * server to close without handing anything over; returns what it answered
 * after the challenge (nothing, or the 1-byte status in *@status). */
static size_t expect_closed_with(struct node *a, const char *bytes, size_t len,
                                 const unsigned char *key, unsigned ms,
                                 uint8_t *status)
{
    struct raw w;
    size_t answered;

    raw_start_with(&w, a->address, bytes, len, key);
    run_until(&w.sink.eof, ms);
    answered = answered_after_challenge(&w);
    if (answered > 0 && status != NULL)
        *status = (uint8_t)w.sink.buf[CH_LEN];
    raw_stop(&w);
    ASSERT_EQ(a->n_accepted, 0);
    return answered;
}

static size_t expect_closed(struct node *a, const char *bytes, size_t len,
                            unsigned ms)
{
    return expect_closed_with(a, bytes, len, NULL, ms, NULL);
}

/* A good raft-channel connection still gets through. */
static void expect_good_connection(struct node *a, struct node *b)
{
    struct raft_uv_connect req;
    struct connect_result r = {0};

    req.data = &r;
    ASSERT_EQ(b->t.iface.connect(&b->t.iface, &req, 1, a->address,
                                 raft_connect_cb), 0);
    run_until(&r.done, 2000);
    ASSERT_EQ(r.status, 0);
    while (a->n_accepted == 0)
        run_for(5);
    ASSERT_EQ(a->accepted_id, 2);
    repl_transport_stream_close(r.stream);
    repl_transport_stream_close(a->accepted);
    a->n_accepted = 0;
}

TEST(transport, bad_handshakes_are_closed_and_listener_keeps_serving)
{
    struct node a = {0}, b = {0};
    char hs[512];
    uint8_t status = 0xff;
    size_t n;

    loop_setup();
    node_start(&a, 1, true, raft_accept_cb);
    a.t.handshake_timeout_ms = 200;
    node_start(&b, 2, false, NULL);
    acceptor = &a;

    n = handshake(hs, "XXXX", 2, REPL_CHANNEL_RAFT, 2, 3, "a:1");
    ASSERT_EQ(expect_closed(&a, hs, n, 1000), 0);
    /* The unauthenticated format 1 of earlier versions. */
    n = handshake(hs, "C8SP", 1, REPL_CHANNEL_RAFT, 2, 3, "a:1");
    ASSERT_EQ(expect_closed(&a, hs, n, 1000), 0);
    /* An absurd length is refused before anything is read or allocated. */
    n = handshake(hs, "C8SP", 2, REPL_CHANNEL_RAFT, 2, 0xffff, NULL);
    ASSERT_EQ(expect_closed(&a, hs, n, 1000), 0);
    n = handshake(hs, "C8SP", 2, REPL_CHANNEL_RAFT, 2, 256, NULL);
    ASSERT_EQ(expect_closed(&a, hs, n, 1000), 0);
    /* Authentic but unknown channel: refused with a status byte. */
    n = handshake(hs, "C8SP", 2, 9, 2, 3, "a:1");
    ASSERT_EQ(expect_closed_with(&a, hs, n, key_ok, 1000, &status), 1);
    ASSERT_EQ(status, REPL_HANDSHAKE_NO_CHANNEL);
    /* libraft needs an id and an address. */
    n = handshake(hs, "C8SP", 2, REPL_CHANNEL_RAFT, 0, 3, "a:1");
    ASSERT_EQ(expect_closed_with(&a, hs, n, key_ok, 1000, &status), 1);
    ASSERT_EQ(status, REPL_HANDSHAKE_BAD_PEER);
    n = handshake(hs, "C8SP", 2, REPL_CHANNEL_RAFT, 2, 0, NULL);
    ASSERT_EQ(expect_closed_with(&a, hs, n, key_ok, 1000, &status), 1);
    ASSERT_EQ(status, REPL_HANDSHAKE_BAD_PEER);
    n = handshake(hs, "C8SP", 2, REPL_CHANNEL_RAFT, 2, 3, "a\n1");
    ASSERT_EQ(expect_closed_with(&a, hs, n, key_ok, 1000, &status), 1);
    ASSERT_EQ(status, REPL_HANDSHAKE_BAD_PEER);

    expect_good_connection(&a, &b);
    node_stop(&a);
    node_stop(&b);
    loop_teardown();
}

/* Without the key nothing gets in: a wrong key, a MAC that does not cover
 * what was sent, a good handshake replayed on a new connection or made
 * for another address, and a handshake that does not even wait for the
 * challenge are all refused, for every channel; members with the key
 * still get through. */
TEST(transport, only_holders_of_the_key_get_in)
{
    struct node a = {0}, b = {0};
    struct raw w;
    char hs[512], tampered[1024], recorded[1024];
    size_t n, rec_len;
    uint8_t status = 0xff;

    loop_setup();
    node_start(&a, 1, true, raft_accept_cb);
    a.t.forward_cb = forward_cb;
    a.t.handshake_timeout_ms = 300;
    node_start(&b, 2, false, NULL);
    acceptor = &a;

    for (unsigned ch = REPL_CHANNEL_RAFT; ch <= REPL_CHANNEL_FORWARD; ch++) {
        n = handshake(hs, "C8SP", 2, ch, 2, 9, "127.0.0.1");
        ASSERT_EQ(expect_closed_with(&a, hs, n, key_bad, 1000, &status), 1);
        ASSERT_EQ(status, REPL_HANDSHAKE_BAD_AUTH);
        /* Blind: whatever MAC it guessed, it cannot cover the nonce. */
        memcpy(tampered, hs, n);
        memset(tampered + n, 0, NONCE_LEN + MAC_LEN);
        ASSERT_EQ(expect_closed(&a, tampered, n + NONCE_LEN + MAC_LEN, 1000),
                  1);
    }

    /* A good exchange, recorded... */
    n = handshake(hs, "C8SP", 2, REPL_CHANNEL_FORWARD, 7, 9, "127.0.0.1");
    raw_start_with(&w, a.address, hs, n, key_ok);
    while (a.n_accepted == 0)
        run_for(5);
    ASSERT_EQ(a.accepted_id, 7);
    rec_len = w.out_len;
    memcpy(recorded, w.out, rec_len);
    repl_transport_stream_close(a.accepted);
    a.n_accepted = 0;
    raw_stop(&w);
    /* ...is worth nothing on the next connection (a fresh challenge). */
    raw_start_with(&w, a.address, hs, n, key_ok);
    w.replay = recorded;
    w.replay_len = rec_len;
    run_until(&w.sink.eof, 1000);
    ASSERT_EQ(answered_after_challenge(&w), 1);
    ASSERT_EQ(w.sink.buf[CH_LEN], REPL_HANDSHAKE_BAD_AUTH);
    raw_stop(&w);
    /* Nor can a signed handshake be altered: the id changed after signing. */
    memcpy(tampered, recorded, rec_len);
    tampered[8] ^= 1;
    raw_start_with(&w, a.address, hs, n, key_ok);
    w.replay = tampered;
    w.replay_len = rec_len;
    run_until(&w.sink.eof, 1000);
    ASSERT_EQ(answered_after_challenge(&w), 1);
    ASSERT_EQ(w.sink.buf[CH_LEN], REPL_HANDSHAKE_BAD_AUTH);
    raw_stop(&w);
    ASSERT_EQ(a.n_accepted, 0);
    /* A handshake made for another address (what a stranger a member
     * dialled would hold) is refused here: no relaying. */
    raw_start_with(&w, a.address, hs, n, key_ok);
    w.mac_target = "127.0.0.2:7000";
    run_until(&w.sink.eof, 1000);
    ASSERT_EQ(answered_after_challenge(&w), 1);
    ASSERT_EQ(w.sink.buf[CH_LEN], REPL_HANDSHAKE_BAD_AUTH);
    raw_stop(&w);
    /* Our own id on the raft channel is a reflection: refused. */
    n = handshake(hs, "C8SP", 2, REPL_CHANNEL_RAFT, 1, 9, "127.0.0.1");
    ASSERT_EQ(expect_closed_with(&a, hs, n, key_ok, 1000, &status), 1);
    ASSERT_EQ(status, REPL_HANDSHAKE_BAD_PEER);
    ASSERT_EQ(a.n_accepted, 0);

    expect_good_connection(&a, &b);
    node_stop(&a);
    node_stop(&b);
    loop_teardown();
}

/* A transport with another key: both directions fail with -EACCES (the
 * acceptor refuses our MAC), and nothing is handed over on either side. */
TEST(transport, members_with_different_keys_cannot_talk)
{
    struct node a = {.key = key_bad}, b = {0};
    struct raft_uv_connect req;
    struct repl_transport_connect freq;
    struct connect_result r = {0}, fr = {0};

    loop_setup();
    node_start(&a, 1, true, raft_accept_cb);
    a.t.forward_cb = forward_cb;
    node_start(&b, 2, false, NULL);
    acceptor = &a;
    req.data = &r;
    freq.data = &fr;
    ASSERT_EQ(b.t.iface.connect(&b.t.iface, &req, 1, a.address,
                                raft_connect_cb), 0);
    ASSERT_EQ(repl_transport_connect_forward(&b.t, &freq, 2, a.address,
                                             fwd_connect_cb), 0);
    run_until(&r.done, 2000);
    run_until(&fr.done, 2000);
    ASSERT_EQ(r.status, RAFT_NOCONNECTION);
    ASSERT_EQ(fr.status, -EACCES);
    ASSERT(fr.stream == NULL);
    ASSERT_EQ(a.n_accepted, 0);
    node_stop(&a);
    node_stop(&b);
    loop_teardown();
}

/* Without a key a transport refuses to listen or connect at all. */
TEST(transport, without_a_key_nothing_listens_or_connects)
{
    struct repl_transport t;
    struct repl_transport_connect freq;
    char address[64];

    loop_setup();
    addr_of(address, sizeof address, tproc_free_port());
    ASSERT_EQ(repl_transport_init(&t, &loop, NULL), 0);
    ASSERT_EQ(t.iface.init(&t.iface, 1, address), 0);
    ASSERT_EQ(t.iface.listen(&t.iface, raft_accept_cb), RAFT_INVALID);
    ASSERT_STR_CONTAINS(t.iface.errmsg, "no peer key");
    ASSERT_EQ(repl_transport_connect_forward(&t, &freq, 2, address,
                                             fwd_connect_cb), -EPERM);
    t.iface.close(&t.iface, NULL);
    loop_teardown();
}

/* The key comes from the token: the same token gives the same key on every
 * member, another token another key, and an empty token none. */
TEST(transport, the_key_is_derived_from_the_token)
{
    unsigned char k1[REPL_TRANSPORT_KEY_LEN], k2[REPL_TRANSPORT_KEY_LEN];
    unsigned char k3[REPL_TRANSPORT_KEY_LEN];

    ASSERT_EQ(repl_transport_key_from_token("cluster-token", k1), 0);
    ASSERT_EQ(repl_transport_key_from_token("cluster-token", k2), 0);
    ASSERT_EQ(repl_transport_key_from_token("cluster-tokeN", k3), 0);
    ASSERT_MEM_EQ(k1, k2, sizeof k1);
    ASSERT(memcmp(k1, k3, sizeof k1) != 0);
    ASSERT_EQ(repl_transport_key_from_token("", k3), -EINVAL);
    ASSERT_EQ(repl_transport_key_from_token(NULL, k3), -EINVAL);
}

TEST(transport, silent_or_truncated_handshake_hits_the_deadline)
{
    struct node a = {0}, b = {0};
    char hs[512];
    size_t n;
    uint64_t start;

    loop_setup();
    node_start(&a, 1, true, raft_accept_cb);
    a.t.handshake_timeout_ms = 200;
    node_start(&b, 2, false, NULL);
    acceptor = &a;

    n = handshake(hs, "C8SP", 2, REPL_CHANNEL_RAFT, 2, 9, "127.0.0.1");
    memset(hs + n, 0, NONCE_LEN + MAC_LEN);
    n += NONCE_LEN + MAC_LEN;
    uv_update_time(&loop);
    start = uv_now(&loop);
    ASSERT_EQ(expect_closed(&a, hs, 10, 2000), 0);  /* in the fixed part */
    ASSERT(uv_now(&loop) - start >= 150);
    ASSERT_EQ(expect_closed(&a, hs, n - 3, 2000), 0); /* in the MAC */
    ASSERT_EQ(expect_closed(&a, hs, 0, 2000), 0);     /* nothing at all */

    expect_good_connection(&a, &b);
    node_stop(&a);
    node_stop(&b);
    loop_teardown();
}

/* ---- connect failures and close ------------------------------------------ */

TEST(transport, connect_to_closed_port_fails)
{
    struct node b = {0};
    struct raft_uv_connect req;
    struct repl_transport_connect freq;
    struct connect_result r = {0}, fr = {0};
    char nowhere[64];

    loop_setup();
    node_start(&b, 2, false, NULL);
    addr_of(nowhere, sizeof nowhere, tproc_free_port());
    req.data = &r;
    ASSERT_EQ(b.t.iface.connect(&b.t.iface, &req, 1, nowhere,
                                raft_connect_cb), 0);
    run_until(&r.done, 2000);
    ASSERT_EQ(r.status, RAFT_NOCONNECTION);
    ASSERT(r.stream == NULL);
    freq.data = &fr;
    ASSERT_EQ(repl_transport_connect_forward(&b.t, &freq, 2, nowhere,
                                             fwd_connect_cb), 0);
    run_until(&fr.done, 2000);
    ASSERT_EQ(fr.status, -ECONNREFUSED);
    node_stop(&b);
    loop_teardown();
}

TEST(transport, bad_addresses_are_rejected_with_a_reason)
{
    struct node b = {0};
    struct raft_uv_connect req;
    struct repl_transport_connect freq;
    struct sockaddr_in sin;
    char why[128];

    loop_setup();
    ASSERT_EQ(repl_transport_parse_address("localhost:9000", &sin, why,
                                           sizeof why), -EINVAL);
    ASSERT_STR_CONTAINS(why, "host names");
    ASSERT_EQ(repl_transport_parse_address("10.0.0.1", &sin, why, sizeof why),
              -EINVAL);
    ASSERT_EQ(repl_transport_parse_address("10.0.0.1:0", &sin, NULL, 0),
              -EINVAL);
    ASSERT_EQ(repl_transport_parse_address("10.0.0.1:65536", &sin, NULL, 0),
              -EINVAL);
    ASSERT_EQ(repl_transport_parse_address("10.0.0.1:+80", &sin, NULL, 0),
              -EINVAL);
    ASSERT_EQ(repl_transport_parse_address("[::1]:80", &sin, NULL, 0),
              -EINVAL);
    ASSERT_EQ(repl_transport_parse_address("10.0.0.1:8080", &sin, NULL, 0), 0);
    ASSERT_EQ(ntohs(sin.sin_port), 8080);
    ASSERT_EQ(repl_transport_init(&b.t, &loop, "nope"), -EINVAL);

    ASSERT_EQ(repl_transport_init(&b.t, &loop, NULL), 0);
    repl_transport_set_key(&b.t, key_ok);
    ASSERT_EQ(b.t.iface.init(&b.t.iface, 2, "node2:9000"), RAFT_INVALID);
    ASSERT_STR_CONTAINS(b.t.iface.errmsg, "IPv4");
    ASSERT_EQ(b.t.iface.init(&b.t.iface, 2, "127.0.0.1:9000"), 0);
    ASSERT(b.t.iface.connect(&b.t.iface, &req, 1, "node1:9000",
                             raft_connect_cb) != 0);
    ASSERT_EQ(repl_transport_connect_forward(&b.t, &freq, 2, "node1:9000",
                                             fwd_connect_cb), -EINVAL);
    b.t.data = &b;
    node_stop(&b); /* nothing open: the close callback runs at once */
    loop_teardown();
}

/* A server that accepts TCP connections and never says a word. */
struct mute {
    uv_tcp_t listener;     /* listening socket */
    uv_tcp_t conns[4];     /* accepted connections */
    int n;                 /* accepted so far */
    char address[64];      /* where it listens */
};

static void mute_connection_cb(uv_stream_t *server, int status)
{
    struct mute *m = server->data;

    ASSERT_EQ(status, 0);
    ASSERT(m->n < 4);
    uv_tcp_init(&loop, &m->conns[m->n]);
    ASSERT_EQ(uv_accept(server, (uv_stream_t *)&m->conns[m->n]), 0);
    m->n++;
}

static void mute_start(struct mute *m)
{
    struct sockaddr_in sin;

    memset(m, 0, sizeof *m);
    addr_of(m->address, sizeof m->address, tproc_free_port());
    ASSERT_EQ(repl_transport_parse_address(m->address, &sin, NULL, 0), 0);
    uv_tcp_init(&loop, &m->listener);
    m->listener.data = m;
    ASSERT_EQ(uv_tcp_bind(&m->listener, (const struct sockaddr *)&sin, 0), 0);
    ASSERT_EQ(uv_listen((uv_stream_t *)&m->listener, 8, mute_connection_cb),
              0);
}

static void mute_stop(struct mute *m)
{
    for (int i = 0; i < m->n; i++)
        uv_close((uv_handle_t *)&m->conns[i], NULL);
    uv_close((uv_handle_t *)&m->listener, NULL);
}

static struct connect_result *order_r; /* [2], checked by order_close_cb */

static void order_close_cb(struct raft_uv_transport *iface)
{
    /* libraft frees its request memory after the connect callback: it must
     * come before the transport reports being closed. */
    ASSERT(order_r[0].done && order_r[1].done);
    node_close_cb(iface);
}

TEST(transport, close_cancels_pending_connects)
{
    struct node b = {0};
    struct mute m;
    struct raft_uv_connect req;
    struct repl_transport_connect freq;
    struct connect_result rs[2] = {{0}}; /* raft, forward */

    loop_setup();
    mute_start(&m);
    node_start(&b, 2, false, NULL);
    req.data = &rs[0];
    freq.data = &rs[1];
    ASSERT_EQ(b.t.iface.connect(&b.t.iface, &req, 1, m.address,
                                raft_connect_cb), 0);
    ASSERT_EQ(repl_transport_connect_forward(&b.t, &freq, 2, m.address,
                                             fwd_connect_cb), 0);
    while (m.n < 2)
        run_for(5);
    run_for(50); /* both wait for a challenge that never comes */
    ASSERT(!rs[0].done && !rs[1].done);

    order_r = rs;
    b.t.iface.close(&b.t.iface, order_close_cb);
    ASSERT(!rs[0].done && !rs[1].done); /* never from inside close() */
    ASSERT_EQ(b.t.iface.connect(&b.t.iface, &req, 1, m.address,
                                raft_connect_cb), RAFT_CANCELED);
    ASSERT_EQ(repl_transport_connect_forward(&b.t, &freq, 2, m.address,
                                             fwd_connect_cb), -ECANCELED);
    run_until(&b.closed, 2000);
    ASSERT_EQ(rs[0].status, RAFT_CANCELED);
    ASSERT(rs[0].stream == NULL);
    ASSERT_EQ(rs[1].status, -ECANCELED);
    ASSERT(rs[1].stream == NULL);
    mute_stop(&m);
    loop_teardown();
}

TEST(transport, connector_gives_up_on_a_mute_acceptor)
{
    struct node b = {0};
    struct mute m;
    struct raft_uv_connect req;
    struct repl_transport_connect freq;
    struct connect_result r = {0}, fr = {0};

    loop_setup();
    mute_start(&m);
    node_start(&b, 2, false, NULL);
    b.t.handshake_timeout_ms = 200;
    req.data = &r;
    freq.data = &fr;
    ASSERT_EQ(b.t.iface.connect(&b.t.iface, &req, 1, m.address,
                                raft_connect_cb), 0);
    ASSERT_EQ(repl_transport_connect_forward(&b.t, &freq, 2, m.address,
                                             fwd_connect_cb), 0);
    run_until(&r.done, 2000);
    run_until(&fr.done, 2000);
    ASSERT_EQ(r.status, RAFT_NOCONNECTION);
    ASSERT_EQ(fr.status, -ETIMEDOUT);
    node_stop(&b);
    mute_stop(&m);
    loop_teardown();
}

TEST(transport, close_drops_half_done_incoming_handshakes)
{
    struct node a = {0};
    struct raw w;
    char hs[64];

    loop_setup();
    node_start(&a, 1, true, raft_accept_cb);
    acceptor = &a;
    handshake(hs, "C8SP", 2, REPL_CHANNEL_RAFT, 2, 9, "127.0.0.1");
    raw_start(&w, a.address, hs, 12);
    run_for(50);
    ASSERT(!w.sink.eof);
    node_stop(&a); /* the close callback waits for the half-done one */
    run_until(&w.sink.eof, 1000);
    ASSERT_EQ(answered_after_challenge(&w), 0);
    raw_stop(&w);
    ASSERT_EQ(a.n_accepted, 0);
    loop_teardown();
}

TEST(transport, close_without_listen_or_connections)
{
    struct node b = {0};

    loop_setup();
    node_start(&b, 2, false, NULL);
    node_stop(&b);
    loop_teardown();
}

TEST(transport, bytes_sent_with_the_handshake_reach_the_new_owner)
{
    struct node a = {0};
    struct raw w;
    struct sink at_a = {0};
    unsigned char mac[MAC_LEN];
    char hs[512];
    size_t n;

    loop_setup();
    node_start(&a, 1, true, raft_accept_cb);
    acceptor = &a;
    /* A peer that does not wait for the answer: the acceptor must read
     * exactly the handshake and leave the rest in the socket. */
    n = handshake(hs, "C8SP", 2, REPL_CHANNEL_RAFT, 5, 9, "127.0.0.1");
    raw_start_with(&w, a.address, hs, n, key_ok);
    w.extra = "hello, raft";
    w.extra_len = 11;
    while (a.n_accepted == 0)
        run_for(5);
    ASSERT_EQ(a.accepted_id, 5);
    ASSERT_STR_EQ(a.accepted_addr, "127.0.0.1");
    sink_start(&at_a, a.accepted);
    run_until_sink(&at_a, 11, 2000);
    ASSERT_MEM_EQ(at_a.buf, "hello, raft", 11);
    while (w.sink.len < CH_LEN + 1 + MAC_LEN)
        run_for(5);
    /* The acceptance: status 0 and the acceptor's MAC of the exchange. */
    ASSERT_EQ(answered_after_challenge(&w), 1 + MAC_LEN);
    ASSERT_EQ(w.sink.buf[CH_LEN], REPL_HANDSHAKE_OK);
    test_mac(key_ok, "c8s-peer-v2 accept", w.sink.buf, a.address, w.out,
             w.out_len, mac);
    ASSERT_MEM_EQ(w.sink.buf + CH_LEN + 1, mac, MAC_LEN);
    repl_transport_stream_close(a.accepted);
    raw_stop(&w);
    node_stop(&a);
    sink_free(&at_a);
    loop_teardown();
}

/* A stranger posing as a member: it sends a challenge and "accepts", but
 * cannot produce the acceptor's MAC. */
struct impostor {
    uv_tcp_t listener;     /* listening socket */
    uv_tcp_t conn;         /* the one connection */
    bool accepted;         /* conn is in use */
    bool answered;         /* it "accepted" the handshake */
    char address[64];      /* where it listens */
    char buf[512];         /* what it read */
};

static void impostor_alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    struct impostor *m = h->data;

    (void)size;
    buf->base = m->buf;
    buf->len = sizeof m->buf;
}

static void impostor_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    static const char accept[1 + MAC_LEN] = {REPL_HANDSHAKE_OK};
    struct impostor *m = s->data;

    (void)buf;
    if (n > 0 && !m->answered) {
        m->answered = true;
        write_bytes(s, accept, sizeof accept);
    }
}

static void impostor_connection_cb(uv_stream_t *server, int status)
{
    static const char challenge[CH_LEN] = "C8SC\x02 a fresh nonce!";
    struct impostor *m = server->data;

    ASSERT_EQ(status, 0);
    ASSERT(!m->accepted);
    uv_tcp_init(&loop, &m->conn);
    m->conn.data = m;
    ASSERT_EQ(uv_accept(server, (uv_stream_t *)&m->conn), 0);
    m->accepted = true;
    write_bytes((uv_stream_t *)&m->conn, challenge, CH_LEN);
    ASSERT_EQ(uv_read_start((uv_stream_t *)&m->conn, impostor_alloc_cb,
                            impostor_read_cb), 0);
}

TEST(transport, a_connector_refuses_an_acceptor_without_the_key)
{
    struct node b = {0};
    struct impostor m = {0};
    struct sockaddr_in sin;
    struct repl_transport_connect freq;
    struct connect_result fr = {0};

    loop_setup();
    addr_of(m.address, sizeof m.address, tproc_free_port());
    ASSERT_EQ(repl_transport_parse_address(m.address, &sin, NULL, 0), 0);
    uv_tcp_init(&loop, &m.listener);
    m.listener.data = &m;
    ASSERT_EQ(uv_tcp_bind(&m.listener, (const struct sockaddr *)&sin, 0), 0);
    ASSERT_EQ(uv_listen((uv_stream_t *)&m.listener, 8,
                        impostor_connection_cb), 0);
    node_start(&b, 2, false, NULL);
    freq.data = &fr;
    ASSERT_EQ(repl_transport_connect_forward(&b.t, &freq, 2, m.address,
                                             fwd_connect_cb), 0);
    run_until(&fr.done, 2000);
    ASSERT(m.answered);
    ASSERT_EQ(fr.status, -EACCES);
    ASSERT(fr.stream == NULL);
    node_stop(&b);
    if (m.accepted)
        uv_close((uv_handle_t *)&m.conn, NULL);
    uv_close((uv_handle_t *)&m.listener, NULL);
    loop_teardown();
}

TEST(transport, out_of_memory_drops_connections_but_keeps_listening)
{
    struct node a = {0}, b = {0};
    struct repl_transport_connect freq;
    struct raw w1, w2;
    char hs[64];
    size_t n;

    loop_setup();
    node_start(&a, 1, true, raft_accept_cb);
    node_start(&b, 2, false, NULL);
    acceptor = &a;
    n = handshake(hs, "C8SP", 2, REPL_CHANNEL_RAFT, 2, 9, "127.0.0.1");
    /* Two incoming connections find no memory: both are dropped, the
     * second while the first one's throw-away handle is still closing. */
    mem_fault_arm(0, 2);
    raw_start(&w1, a.address, hs, n);
    raw_start(&w2, a.address, hs, n);
    run_until(&w1.sink.eof, 1000);
    run_until(&w2.sink.eof, 1000);
    ASSERT_EQ(mem_fault_count(), 2);
    ASSERT_EQ(w1.sink.len + w2.sink.len, 0);
    raw_stop(&w1);
    raw_stop(&w2);
    mem_fault_arm(0, 1);
    ASSERT_EQ(repl_transport_connect_forward(&b.t, &freq, 2, a.address,
                                             fwd_connect_cb), -ENOMEM);
    mem_fault_arm(-1, 0);
    ASSERT_EQ(a.n_accepted, 0);
    expect_good_connection(&a, &b);
    node_stop(&a);
    node_stop(&b);
    loop_teardown();
}

TEST(transport, bind_address_overrides_the_raft_address)
{
    struct node a = {0}, b = {0};
    char bind[64];

    loop_setup();
    addr_of(bind, sizeof bind, tproc_free_port());
    ASSERT_EQ(repl_transport_init(&a.t, &loop, bind), 0);
    repl_transport_set_key(&a.t, key_ok);
    a.t.data = &a;
    /* The advertised address is not where we listen (think NAT). */
    ASSERT_EQ(a.t.iface.init(&a.t.iface, 1, "192.0.2.1:9000"), 0);
    ASSERT_EQ(a.t.iface.listen(&a.t.iface, raft_accept_cb), 0);
    snprintf(a.address, sizeof a.address, "%s", bind);
    node_start(&b, 2, false, NULL);
    acceptor = &a;
    expect_good_connection(&a, &b);
    node_stop(&a);
    node_stop(&b);
    loop_teardown();
}

/* ---- libraft end to end --------------------------------------------------- */

#define N_MEMBERS 3

struct member {
    struct repl_transport t; /* our transport, given to raft_uv */
    struct raft_io io;       /* libraft's uv backend */
    struct raft_fsm fsm;     /* counter state machine */
    struct raft raft;        /* the raft instance */
    char dir[512];           /* data directory */
    char address[64];        /* peer address */
    uint64_t counter;        /* sum of applied commands */
    bool closed;             /* raft_close callback ran */
};

static int counter_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
                         void **result)
{
    struct member *m = fsm->data;
    uint64_t v;

    if (buf->len != sizeof v)
        return RAFT_MALFORMED;
    memcpy(&v, buf->base, sizeof v);
    m->counter += v;
    *result = NULL;
    return 0;
}

static int counter_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                            unsigned *n_bufs)
{
    struct member *m = fsm->data;

    *bufs = raft_malloc(sizeof **bufs);
    if (*bufs == NULL)
        return RAFT_NOMEM;
    (*bufs)[0].len = sizeof m->counter;
    (*bufs)[0].base = raft_malloc(sizeof m->counter);
    if ((*bufs)[0].base == NULL) {
        raft_free(*bufs);
        return RAFT_NOMEM;
    }
    memcpy((*bufs)[0].base, &m->counter, sizeof m->counter);
    *n_bufs = 1;
    return 0;
}

static int counter_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct member *m = fsm->data;

    if (buf->len != sizeof m->counter)
        return RAFT_MALFORMED;
    memcpy(&m->counter, buf->base, sizeof m->counter);
    raft_free(buf->base);
    return 0;
}

static void member_start(struct member *m, raft_id id,
                         struct member members[])
{
    struct raft_configuration conf;

    snprintf(m->dir, sizeof m->dir, "%s/m%llu", unit_tmpdir(), id);
    ASSERT_EQ(mkdir(m->dir, 0700), 0);
    ASSERT_EQ(repl_transport_init(&m->t, &loop, NULL), 0);
    repl_transport_set_key(&m->t, key_ok);
    ASSERT_EQ(raft_uv_init(&m->io, &loop, m->dir, &m->t.iface), 0);
    m->fsm.version = 1;
    m->fsm.data = m;
    m->fsm.apply = counter_apply;
    m->fsm.snapshot = counter_snapshot;
    m->fsm.restore = counter_restore;
    ASSERT_EQ(raft_init(&m->raft, &m->io, &m->fsm, id, m->address), 0);
    m->raft.data = m;
    raft_set_election_timeout(&m->raft, 300);
    raft_set_heartbeat_timeout(&m->raft, 30);
    raft_set_pre_vote(&m->raft, true);
    raft_configuration_init(&conf);
    for (unsigned i = 0; i < N_MEMBERS; i++)
        ASSERT_EQ(raft_configuration_add(&conf, i + 1, members[i].address,
                                         RAFT_VOTER), 0);
    ASSERT_EQ(raft_bootstrap(&m->raft, &conf), 0);
    raft_configuration_close(&conf);
    ASSERT_EQ(raft_start(&m->raft), 0);
}

static void member_close_cb(struct raft *r)
{
    struct member *m = r->data;

    raft_uv_close(&m->io);
    m->closed = true;
}

struct apply_result {
    bool done;  /* callback ran */
    int status; /* its status */
};

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    struct apply_result *a = req->data;

    (void)result;
    a->done = true;
    a->status = status;
}

static struct member *find_leader(struct member members[])
{
    for (unsigned i = 0; i < N_MEMBERS; i++)
        if (raft_state(&members[i].raft) == RAFT_LEADER)
            return &members[i];
    return NULL;
}

static bool all_applied(struct member members[], uint64_t counter)
{
    for (unsigned i = 0; i < N_MEMBERS; i++)
        if (members[i].counter != counter)
            return false;
    return true;
}

TEST_T(transport, three_libraft_members_elect_and_commit, 30)
{
    static struct member members[N_MEMBERS];
    struct member *leader = NULL;
    struct raft_apply req;
    struct apply_result a = {0};
    struct raft_buffer buf;
    uint64_t value = 42;
    uint64_t deadline;

    loop_setup();
    for (unsigned i = 0; i < N_MEMBERS; i++)
        addr_of(members[i].address, sizeof members[i].address,
                tproc_free_port());
    for (unsigned i = 0; i < N_MEMBERS; i++)
        member_start(&members[i], i + 1, members);

    uv_update_time(&loop);
    deadline = uv_now(&loop) + 8000;
    while ((leader = find_leader(members)) == NULL &&
           uv_now(&loop) < deadline)
        run_for(10);
    ASSERT_MSG(leader != NULL, "no leader elected");

    buf.len = sizeof value;
    buf.base = raft_malloc(buf.len);
    ASSERT(buf.base != NULL);
    memcpy(buf.base, &value, sizeof value);
    req.data = &a;
    ASSERT_EQ(raft_apply(&leader->raft, &req, &buf, 1, apply_cb), 0);
    run_until(&a.done, 5000);
    ASSERT_EQ(a.status, 0);
    while (!all_applied(members, value) && uv_now(&loop) < deadline + 2000)
        run_for(10);
    ASSERT_MSG(all_applied(members, value), "counter not applied everywhere");

    for (unsigned i = 0; i < N_MEMBERS; i++)
        raft_close(&members[i].raft, member_close_cb);
    for (unsigned i = 0; i < N_MEMBERS; i++)
        run_until(&members[i].closed, 5000);
    loop_teardown();
}

UNIT_MAIN()
