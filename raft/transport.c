/* Peer transport: one TCP port, a handshake per connection, two channels.
 *
 * Every connection, incoming or outgoing, is a struct conn while its
 * handshake runs. A conn owns a TCP handle (allocated with raft_malloc(),
 * because libraft frees the streams it is given with raft_free()), a
 * deadline timer, and at most one connect and one write request. It counts
 * those in @refs and is freed when the count drops to zero, i.e. once every
 * handle is closed and every request has called back. The outcome is decided
 * once (@finished): either the TCP handle is handed over (then it no longer
 * counts) or everything is closed and a connector's callback gets an error. */
#include "raft/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "lib/log.h"
#include "lib/mem.h"

#define HS_MAGIC "C8SP"
#define CH_MAGIC "C8SC"
#define HS_MAGIC_LEN 4
#define HS_FORMAT 2
#define NONCE_LEN 16
#define MAC_LEN 32
/* The acceptor's challenge: magic, format, nonce. */
#define CH_LEN (HS_MAGIC_LEN + 1 + NONCE_LEN)
/* magic, format, channel, reserved u16, sender id u64, address length u16 */
#define HS_FIXED_LEN (HS_MAGIC_LEN + 1 + 1 + 2 + 8 + 2)
/* After the address: the connector's nonce and its MAC. */
#define HS_AUTH_LEN (NONCE_LEN + MAC_LEN)
#define HS_MAX_LEN (HS_FIXED_LEN + REPL_TRANSPORT_ADDR_MAX + HS_AUTH_LEN)
/* The address a connection was made to, in MACs: IPv4 and port. */
#define TARGET_LEN 6
/* The acceptor's answer: a status byte, then its MAC if the status is 0. */
#define ANSWER_MAX_LEN (1 + MAC_LEN)
#define LABEL_CONNECT "c8s-peer-v2 connect"
#define LABEL_ACCEPT "c8s-peer-v2 accept"
/* The peer key's derivation from the token (see transport.h). */
#define KEY_SALT "c8s peer transport v2"
#define KEY_ITER 100000
/* Authentication failures are logged at most this often. */
#define AUTH_LOG_INTERVAL_MS 10000
#define TOKEN_HINT "is --token the same on every member?"
#define FORMAT_HINT "is it a c8s member of the same version?"
#define LISTEN_BACKLOG 128

enum conn_kind {
    CONN_ACCEPTED, /* incoming: we read a handshake and answer it */
    CONN_RAFT,     /* outgoing for libraft's connect() */
    CONN_FORWARD,  /* outgoing for repl_transport_connect_forward() */
};

struct conn {
    struct repl_transport *t;         /* owning transport */
    struct repl_transport_queue link; /* in t->conns until finished */
    enum conn_kind kind;              /* direction and requester */
    uv_tcp_t *tcp;                    /* raft_malloc()ed; NULL once handed
                                         over or closed */
    uv_timer_t timer;                 /* handshake deadline */
    uv_connect_t connect;             /* outgoing TCP connect */
    uv_write_t write;                 /* handshake (out) or answer (in) */
    uv_write_t chal_write;            /* acceptor: the challenge */
    unsigned refs;                    /* open handles + pending requests */
    bool finished;                    /* outcome decided */
    bool written;                     /* connector: handshake sent */
    bool answered;                    /* connector: answer read, checked */
    int status;                       /* connector's failure, negative */
    uint8_t channel;                  /* requested channel */
    uint8_t answer;                   /* status byte sent or received */
    uint64_t peer_id;                 /* acceptor: the sender's id */
    size_t have;                      /* bytes of buf filled */
    size_t want;                      /* bytes of buf expected so far */
    size_t chal_have;                 /* connector: bytes of chal read */
    size_t reply_have;                /* connector: bytes of reply read */
    size_t reply_want;                /* connector: 1, then 1 + MAC_LEN */
    char chal[CH_LEN];                /* challenge sent or received */
    unsigned char target[TARGET_LEN]; /* address the connector dialled:
                                         its sockaddr, or our local end */
    unsigned char reply[ANSWER_MAX_LEN]; /* answer sent or received */
    struct raft_uv_connect *raft_req; /* CONN_RAFT: libraft's request */
    struct repl_transport_connect *fwd_req; /* CONN_FORWARD: the request */
    char buf[HS_MAX_LEN];             /* handshake being read or written */
};

/* ---- small helpers ------------------------------------------------------ */

static void queue_init(struct repl_transport_queue *q)
{
    q->next = q;
    q->prev = q;
}

static void queue_push(struct repl_transport_queue *head,
                       struct repl_transport_queue *q)
{
    q->next = head;
    q->prev = head->prev;
    head->prev->next = q;
    head->prev = q;
}

/* Remove @q; removing twice is harmless (it points to itself after). */
static void queue_remove(struct repl_transport_queue *q)
{
    q->prev->next = q->next;
    q->next->prev = q->prev;
    queue_init(q);
}

static struct conn *conn_of_link(struct repl_transport_queue *q)
{
    return (struct conn *)((char *)q - offsetof(struct conn, link));
}

static struct repl_transport *transport_of(struct raft_uv_transport *iface)
{
    return (struct repl_transport *)((char *)iface -
                                     offsetof(struct repl_transport, iface));
}

static void put_le(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int repl_transport_parse_address(const char *address,
                                 struct sockaddr_in *ret,
                                 char *errbuf,
                                 size_t errlen)
{
    const char *colon = address ? strrchr(address, ':') : NULL;
    char host[INET_ADDRSTRLEN];
    struct sockaddr_in sin;
    unsigned long port;
    char *end;
    size_t n;

    if (errbuf == NULL)
        errlen = 0;
    if (colon == NULL || colon == address) {
        snprintf(errbuf, errlen, "address '%s' is not A.B.C.D:PORT",
                 address ? address : "(null)");
        return -EINVAL;
    }
    n = (size_t)(colon - address);
    memset(&sin, 0, sizeof sin);
    if (n >= sizeof host || (memcpy(host, address, n), host[n] = '\0',
                             inet_pton(AF_INET, host, &sin.sin_addr) != 1)) {
        snprintf(errbuf, errlen,
                 "address '%s': host must be an IPv4 literal A.B.C.D "
                 "(host names and IPv6 are not supported yet)",
                 address);
        return -EINVAL;
    }
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
        port == 0 || port > 65535) {
        snprintf(errbuf, errlen, "address '%s': port must be 1-65535",
                 address);
        return -EINVAL;
    }
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    *ret = sin;
    return 0;
}

bool repl_same_address(const char *a, const char *b)
{
    struct sockaddr_in sa, sb;

    if (repl_transport_parse_address(a, &sa, NULL, 0) != 0 ||
        repl_transport_parse_address(b, &sb, NULL, 0) != 0)
        return strcmp(a, b) == 0;
    return sa.sin_addr.s_addr == sb.sin_addr.s_addr &&
           sa.sin_port == sb.sin_port;
}

/* ---- authentication ------------------------------------------------------ */

int repl_transport_key_from_token(const char *token,
                                  unsigned char key[REPL_TRANSPORT_KEY_LEN])
{
    size_t len = token != NULL ? strlen(token) : 0;
    int ok;

    if (len == 0 || len > INT_MAX)
        return -EINVAL;
    ok = PKCS5_PBKDF2_HMAC(token, (int)len, (const unsigned char *)KEY_SALT,
                           sizeof KEY_SALT - 1, KEY_ITER, EVP_sha256(),
                           REPL_TRANSPORT_KEY_LEN, key);
    ERR_clear_error();
    return ok == 1 ? 0 : -ENOMEM;
}

void repl_transport_set_key(struct repl_transport *t,
                            const unsigned char key[REPL_TRANSPORT_KEY_LEN])
{
    memcpy(t->key, key, REPL_TRANSPORT_KEY_LEN);
    t->has_key = true;
}

/* HMAC-SHA256 under the peer key of @label || challenge || target || @b,
 * where the target is the address the connector dialled as the acceptor
 * sees its own end of the socket: a MAC made for one address is no good
 * at another, so a stranger a member dials cannot relay the member's
 * handshake to a third member. The inputs are bounded, so they are joined
 * on the stack. */
static bool hs_mac(const struct conn *c, const char *label, const void *b,
                   size_t blen, unsigned char out[MAC_LEN])
{
    unsigned char msg[32 + CH_LEN + TARGET_LEN + HS_MAX_LEN];
    size_t llen = strlen(label), n = 0;
    unsigned int outlen = 0;

    if (llen + CH_LEN + TARGET_LEN + blen > sizeof msg)
        return false;
    memcpy(msg, label, llen);
    n += llen;
    memcpy(msg + n, c->chal, CH_LEN);
    n += CH_LEN;
    memcpy(msg + n, c->target, TARGET_LEN);
    n += TARGET_LEN;
    memcpy(msg + n, b, blen);
    n += blen;
    if (HMAC(EVP_sha256(), c->t->key, REPL_TRANSPORT_KEY_LEN, msg, n, out,
             &outlen) == NULL ||
        outlen != MAC_LEN) {
        ERR_clear_error();
        return false;
    }
    return true;
}

/* True if @mac is the MAC of (@label, @b) as hs_mac(); constant time. */
static bool hs_mac_ok(const struct conn *c, const char *label, const void *b,
                      size_t blen, const unsigned char *mac)
{
    unsigned char want[MAC_LEN];
    bool ok = hs_mac(c, label, b, blen, want) &&
              CRYPTO_memcmp(want, mac, MAC_LEN) == 0;

    OPENSSL_cleanse(want, sizeof want);
    return ok;
}

/* The 6 bytes of a target: IPv4 address and port, network order. */
static void target_of(const struct sockaddr_in *sin, unsigned char out[6])
{
    memcpy(out, &sin->sin_addr.s_addr, 4);
    memcpy(out + 4, &sin->sin_port, 2);
}

/* Warn about a peer that failed authentication, at most once per
 * AUTH_LOG_INTERVAL_MS (a stranger could otherwise fill the log), with the
 * count of failures since the last warning and a @hint for the operator. */
static void peer_warn(struct conn *c, const char *what, const char *hint)
{
    struct repl_transport *t = c->t;
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    int len = sizeof ss;
    char ip[INET_ADDRSTRLEN] = "?";
    uint64_t now = uv_now(t->loop);

    t->auth_failures++;
    if (t->auth_warned_ms != 0 && now - t->auth_warned_ms < AUTH_LOG_INTERVAL_MS)
        return;
    if (uv_tcp_getpeername(c->tcp, (struct sockaddr *)&ss, &len) == 0 &&
        ss.ss_family == AF_INET)
        (void)inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
    log_warn("transport", "peer %s:%u %s (%llu failures since the last "
             "warning): %s", ip,
             ss.ss_family == AF_INET ? ntohs(sin->sin_port) : 0u, what,
             (unsigned long long)t->auth_failures, hint);
    t->auth_warned_ms = now ? now : 1;
    t->auth_failures = 0;
}

/* Data a peer has not acknowledged for this long drops the connection.
 * Without it the kernel keeps retransmitting with a doubling backoff for
 * up to 15 minutes: after a partition of a minute heals, heartbeats queued
 * behind that backoff reached the cut-off member only tens of seconds later
 * (a Jepsen ring run: no leader heard for over 60 s). A dropped connection
 * is dialled again at once, and the new one carries traffic as soon as the
 * path is back. */
static void set_user_timeout(uv_tcp_t *tcp)
{
#ifdef TCP_USER_TIMEOUT
    static bool warned;
    unsigned int ms = REPL_TRANSPORT_USER_TIMEOUT_MS;
    uv_os_fd_t fd;

    /* Not fatal: the connection works, it only heals more slowly. */
    if (uv_fileno((uv_handle_t *)tcp, &fd) == 0 &&
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms) != 0 &&
        !warned) {
        warned = true;
        log_warn("transport", "TCP_USER_TIMEOUT: %s; a peer connection "
                 "cut by a partition may stay silent for a while after it "
                 "heals", strerror(errno));
    }
#else
    (void)tcp;
#endif
}

/* TCP_NODELAY (raft sends many small messages; Nagle's algorithm would hold
 * them back for up to 40 ms), keepalive (to notice dead peers on idle
 * forward connections) and a bound on unacknowledged data (above). */
static int set_socket_options(uv_tcp_t *tcp)
{
    int rv = uv_tcp_nodelay(tcp, 1);

    if (rv == 0)
        rv = uv_tcp_keepalive(tcp, 1, REPL_TRANSPORT_KEEPALIVE_S);
    if (rv == 0)
        set_user_timeout(tcp);
    return rv;
}

/* ---- transport close --------------------------------------------------- */

static void maybe_fire_close(struct repl_transport *t)
{
    raft_uv_transport_close_cb cb = t->close_cb;

    if (!t->closing || t->n_open > 0 || cb == NULL)
        return;
    t->close_cb = NULL;
    cb(&t->iface);
}

/* ---- connection lifetime ------------------------------------------------ */

/* Report a connector's failure: raft gets RAFT_CANCELED or
 * RAFT_NOCONNECTION, forward requests the negative code. */
static void fire_connect_error(struct conn *c)
{
    struct raft_uv_connect *raft_req = c->raft_req;
    struct repl_transport_connect *fwd_req = c->fwd_req;
    int status = c->status;

    mem_free(c);
    if (raft_req != NULL)
        raft_req->cb(raft_req, NULL,
                     status == -ECANCELED ? RAFT_CANCELED : RAFT_NOCONNECTION);
    else if (fwd_req != NULL)
        fwd_req->cb(fwd_req, NULL, status);
}

/* Drop one reference; the last one frees @c (and reports a failure). */
static void conn_unref(struct conn *c)
{
    struct repl_transport *t = c->t;

    if (--c->refs > 0)
        return;
    if (c->kind == CONN_ACCEPTED || c->status == 0)
        mem_free(c);
    else
        fire_connect_error(c);
    t->n_open--;
    maybe_fire_close(t);
}

/* A request (connect or write) called back. True if @c is finished, in
 * which case the caller must not touch it: it may be freed already. */
static bool conn_request_done(struct conn *c)
{
    if (c->finished) {
        conn_unref(c);
        return true;
    }
    c->refs--; /* the TCP handle and the timer still hold @c */
    return false;
}

static void tcp_close_cb(uv_handle_t *handle)
{
    struct conn *c = handle->data;

    raft_free(handle);
    conn_unref(c);
}

static void timer_close_cb(uv_handle_t *handle)
{
    conn_unref(handle->data);
}

/* Give up on @c: close its handles; pending requests call back with
 * UV_ECANCELED, and the last reference reports @status to a connector. */
static void conn_fail(struct conn *c, int status)
{
    if (c->finished)
        return;
    log_debug("transport", "handshake with %s failed: %s",
              c->kind == CONN_ACCEPTED ? "incoming peer" : "outgoing peer",
              uv_strerror(status));
    c->finished = true;
    c->status = status;
    queue_remove(&c->link);
    uv_close((uv_handle_t *)c->tcp, tcp_close_cb);
    c->tcp = NULL;
    uv_close((uv_handle_t *)&c->timer, timer_close_cb);
}

/* The handshake succeeded: detach the stream from @c (which goes away once
 * its timer is closed) and return it, ready to be handed over. */
static uv_stream_t *conn_detach(struct conn *c)
{
    uv_tcp_t *tcp = c->tcp;

    c->finished = true;
    queue_remove(&c->link);
    c->tcp = NULL;
    tcp->data = NULL;
    c->refs--; /* the TCP handle is no longer ours; the timer holds @c */
    uv_close((uv_handle_t *)&c->timer, timer_close_cb);
    return (uv_stream_t *)tcp;
}

static void timer_cb(uv_timer_t *timer)
{
    conn_fail(timer->data, -ETIMEDOUT);
}

/* Allocate @c with an initialised TCP handle and a running deadline. */
static int conn_new(struct repl_transport *t,
                    enum conn_kind kind,
                    struct conn **ret)
{
    struct conn *c = mem_calloc(1, sizeof *c);
    int rv;

    if (c == NULL)
        return -ENOMEM;
    c->tcp = raft_malloc(sizeof *c->tcp);
    if (c->tcp == NULL) {
        mem_free(c);
        return -ENOMEM;
    }
    rv = uv_tcp_init(t->loop, c->tcp);
    if (rv != 0) {
        raft_free(c->tcp);
        mem_free(c);
        return rv;
    }
    c->t = t;
    c->kind = kind;
    c->tcp->data = c;
    c->timer.data = c;
    c->connect.data = c;
    c->write.data = c;
    c->chal_write.data = c;
    c->reply_want = 1;
    (void)uv_timer_init(t->loop, &c->timer); /* cannot fail */
    (void)uv_timer_start(&c->timer, timer_cb, t->handshake_timeout_ms, 0);
    c->refs = 2; /* the TCP handle and the timer */
    queue_push(&t->conns, &c->link);
    t->n_open++;
    *ret = c;
    return 0;
}

/* ---- acceptor side ------------------------------------------------------ */

/* Read exactly the bytes still expected, so nothing past the handshake is
 * taken from the socket. */
static void accept_alloc_cb(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
    struct conn *c = handle->data;

    (void)size;
    buf->base = c->buf + c->have;
    buf->len = c->want - c->have;
}

/* Check the fixed part of a handshake and learn how much follows. Returns
 * 0, or -EPROTO for anything that is not our protocol. */
static int accept_parse_fixed(struct conn *c)
{
    const unsigned char *p = (const unsigned char *)c->buf;
    uint64_t addr_len;

    if (memcmp(p, HS_MAGIC, HS_MAGIC_LEN) != 0 || p[4] != HS_FORMAT ||
        get_le(p + 6, 2) != 0) {
        if (memcmp(p, HS_MAGIC, HS_MAGIC_LEN) == 0 && p[4] != HS_FORMAT)
            peer_warn(c, "speaks another handshake format", FORMAT_HINT);
        return -EPROTO;
    }
    c->channel = p[5];
    c->peer_id = get_le(p + 8, 8);
    addr_len = get_le(p + 16, 2);
    if (addr_len > REPL_TRANSPORT_ADDR_MAX)
        return -EPROTO;
    c->want = HS_FIXED_LEN + (size_t)addr_len + HS_AUTH_LEN;
    return 0;
}

/* Length of the announced address in a complete handshake. */
static size_t accept_addr_len(const struct conn *c)
{
    return c->want - HS_FIXED_LEN - HS_AUTH_LEN;
}

/* True if the announced address is printable ASCII without spaces: it ends
 * up in libraft's messages and our logs. */
static bool address_is_sane(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

/* True if the handshake carries the MAC of our challenge and itself: the
 * sender holds the peer key and is not replaying an old handshake. */
static bool accept_authentic(struct conn *c)
{
    size_t signed_len = c->want - MAC_LEN;

    return hs_mac_ok(c, LABEL_CONNECT, c->buf, signed_len,
                     (const unsigned char *)c->buf + signed_len);
}

/* The answer for a complete handshake. */
static uint8_t accept_decide(struct conn *c)
{
    const char *address = c->buf + HS_FIXED_LEN;
    size_t addr_len = accept_addr_len(c);

    if (!accept_authentic(c)) {
        peer_warn(c, "was refused: its handshake does not carry the "
                     "cluster's key", TOKEN_HINT);
        return REPL_HANDSHAKE_BAD_AUTH;
    }
    if (c->t->closing)
        return REPL_HANDSHAKE_CLOSING;
    if (!address_is_sane(address, addr_len))
        return REPL_HANDSHAKE_BAD_PEER;
    switch (c->channel) {
    case REPL_CHANNEL_RAFT:
        /* libraft needs a non-zero id and an address to answer to; our
         * own id is ourselves reflected back. */
        if (c->peer_id == 0 || addr_len == 0 || c->peer_id == c->t->id)
            return REPL_HANDSHAKE_BAD_PEER;
        return c->t->accept_cb ? REPL_HANDSHAKE_OK : REPL_HANDSHAKE_NO_HANDLER;
    case REPL_CHANNEL_FORWARD:
        return c->t->forward_cb ? REPL_HANDSHAKE_OK
                                : REPL_HANDSHAKE_NO_HANDLER;
    default:
        return REPL_HANDSHAKE_NO_CHANNEL;
    }
}

/* Hand the accepted stream to the channel's owner. */
static void accept_dispatch(struct conn *c)
{
    struct repl_transport *t = c->t;
    uint64_t peer_id = c->peer_id;
    uint8_t channel = c->channel;
    size_t addr_len = accept_addr_len(c);
    char address[REPL_TRANSPORT_ADDR_MAX + 1];
    uv_stream_t *stream;

    /* Copy what the callbacks need: @c may be freed while they run. */
    memcpy(address, c->buf + HS_FIXED_LEN, addr_len);
    address[addr_len] = '\0';
    stream = conn_detach(c);
    if (channel == REPL_CHANNEL_RAFT)
        t->accept_cb(&t->iface, peer_id, address, stream);
    else
        t->forward_cb(t, stream, peer_id);
}

static void accept_write_cb(uv_write_t *req, int status)
{
    struct conn *c = req->data;

    if (conn_request_done(c))
        return;
    if (status != 0)
        conn_fail(c, status);
    else if (c->answer != REPL_HANDSHAKE_OK || c->t->closing)
        conn_fail(c, -ECONNREFUSED); /* refused: the answer is out, close */
    else
        accept_dispatch(c);
}

/* The whole handshake is in: stop reading and answer. An acceptance
 * carries our MAC of the whole exchange, so the connector knows it reached
 * a member and not a stranger. The stream is handed over only once the
 * answer is written, so our write requests are done with before anybody
 * else owns the stream (writes complete in order: the challenge first). */
static void accept_answer(struct conn *c)
{
    uv_buf_t buf;
    size_t len = 1;
    int rv;

    (void)uv_read_stop((uv_stream_t *)c->tcp);
    c->answer = accept_decide(c);
    c->reply[0] = c->answer;
    if (c->answer == REPL_HANDSHAKE_OK) {
        if (!hs_mac(c, LABEL_ACCEPT, c->buf, c->want, c->reply + 1)) {
            conn_fail(c, -ENOMEM);
            return;
        }
        len += MAC_LEN;
    }
    buf = uv_buf_init((char *)c->reply, (unsigned)len);
    rv = uv_write(&c->write, (uv_stream_t *)c->tcp, &buf, 1, accept_write_cb);
    if (rv != 0) {
        conn_fail(c, rv);
        return;
    }
    c->refs++;
}

static void accept_read_cb(uv_stream_t *stream,
                           ssize_t nread,
                           const uv_buf_t *buf)
{
    struct conn *c = stream->data;
    bool fixed_done;

    (void)buf;
    if (nread == 0)
        return;
    if (nread < 0) {
        conn_fail(c, (int)nread);
        return;
    }
    c->have += (size_t)nread;
    if (c->have < c->want)
        return;
    fixed_done = c->want > HS_FIXED_LEN;
    if (!fixed_done && accept_parse_fixed(c) != 0) {
        conn_fail(c, -EPROTO);
        return;
    }
    if (c->have == c->want)
        accept_answer(c);
}

static void challenge_write_cb(uv_write_t *req, int status)
{
    struct conn *c = req->data;

    if (conn_request_done(c))
        return;
    if (status != 0)
        conn_fail(c, status);
}

/* Send a fresh challenge: the connector must MAC it, so a recorded
 * handshake is worth nothing on another connection. */
static int accept_challenge(struct conn *c)
{
    unsigned char *p = (unsigned char *)c->chal;
    uv_buf_t buf;
    int rv;

    memcpy(p, CH_MAGIC, HS_MAGIC_LEN);
    p[HS_MAGIC_LEN] = HS_FORMAT;
    if (RAND_bytes(p + HS_MAGIC_LEN + 1, NONCE_LEN) != 1) {
        ERR_clear_error();
        return -EIO;
    }
    buf = uv_buf_init(c->chal, CH_LEN);
    rv = uv_write(&c->chal_write, (uv_stream_t *)c->tcp, &buf, 1,
                  challenge_write_cb);
    if (rv == 0)
        c->refs++;
    return rv;
}

/* Accept the pending connection into a throw-away handle and close it, so
 * the listener keeps going when we cannot serve it (out of memory). */
static void reject_close_cb(uv_handle_t *handle);

static void reject_pending(struct repl_transport *t)
{
    (void)uv_tcp_init(t->loop, &t->reject);
    t->reject.data = t;
    t->rejecting = true;
    t->reject_again = false;
    t->n_open++;
    (void)uv_accept((uv_stream_t *)&t->listener, (uv_stream_t *)&t->reject);
    uv_close((uv_handle_t *)&t->reject, reject_close_cb);
}

static void reject_close_cb(uv_handle_t *handle)
{
    struct repl_transport *t = handle->data;

    t->rejecting = false;
    t->n_open--;
    /* libuv stops watching the listener while a connection waits to be
     * accepted, so one that arrived meanwhile must be drained here. */
    if (t->reject_again && t->listening)
        reject_pending(t);
    else
        maybe_fire_close(t);
}

static void reject(struct repl_transport *t)
{
    if (t->rejecting)
        t->reject_again = true;
    else
        reject_pending(t);
}

/* The address this connection reached us at: what the connector dialled,
 * unless something in between rewrote it (NAT), which the MAC refuses. */
static int local_target(struct conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int rv = uv_tcp_getsockname(c->tcp, (struct sockaddr *)&ss, &len);

    if (rv != 0)
        return rv;
    if (ss.ss_family != AF_INET)
        return -EAFNOSUPPORT;
    target_of((const struct sockaddr_in *)&ss, c->target);
    return 0;
}

static void listener_connection_cb(uv_stream_t *server, int status)
{
    struct repl_transport *t = server->data;
    struct conn *c;
    int rv;

    if (status != 0) {
        log_debug("transport", "accept: %s", uv_strerror(status));
        return;
    }
    if (t->closing)
        return;
    rv = conn_new(t, CONN_ACCEPTED, &c);
    if (rv != 0) {
        log_debug("transport", "accept: %s, dropping", uv_strerror(rv));
        reject(t);
        return;
    }
    c->want = HS_FIXED_LEN;
    rv = uv_accept(server, (uv_stream_t *)c->tcp);
    if (rv == 0)
        rv = local_target(c);
    if (rv == 0)
        rv = set_socket_options(c->tcp);
    if (rv == 0)
        rv = accept_challenge(c);
    if (rv == 0)
        rv = uv_read_start((uv_stream_t *)c->tcp, accept_alloc_cb,
                           accept_read_cb);
    if (rv != 0)
        conn_fail(c, rv);
}

/* ---- connector side ---------------------------------------------------- */

/* Encode our handshake for c->channel into c->buf, answering the challenge
 * in c->chal: the fixed part, our address, a nonce of ours (so the
 * acceptor's MAC is fresh for us too) and the MAC of the challenge and all
 * of that. Returns its length, or 0 if no randomness or MAC was had. */
static size_t encode_handshake(struct conn *c)
{
    unsigned char *p = (unsigned char *)c->buf;
    size_t addr_len = strlen(c->t->address);
    size_t n = HS_FIXED_LEN + addr_len;

    memcpy(p, HS_MAGIC, HS_MAGIC_LEN);
    p[4] = HS_FORMAT;
    p[5] = c->channel;
    put_le(p + 6, 0, 2);
    put_le(p + 8, c->peer_id, 8);
    put_le(p + 16, addr_len, 2);
    memcpy(p + HS_FIXED_LEN, c->t->address, addr_len);
    if (RAND_bytes(p + n, NONCE_LEN) != 1) {
        ERR_clear_error();
        return 0;
    }
    n += NONCE_LEN;
    if (!hs_mac(c, LABEL_CONNECT, p, n, p + n))
        return 0;
    return n + MAC_LEN;
}

/* Both the handshake write and the answer are done: hand the stream to the
 * requester. */
static void connect_maybe_done(struct conn *c)
{
    struct raft_uv_connect *raft_req = c->raft_req;
    struct repl_transport_connect *fwd_req = c->fwd_req;
    uv_stream_t *stream;

    if (!c->written || !c->answered)
        return;
    stream = conn_detach(c);
    if (raft_req != NULL)
        raft_req->cb(raft_req, stream, 0);
    else
        fwd_req->cb(fwd_req, stream, 0);
}

/* Read the challenge, then the answer, and never a byte more: whatever the
 * acceptor's side sends next belongs to the requester. */
static void connect_alloc_cb(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
    struct conn *c = handle->data;

    (void)size;
    if (c->chal_have < CH_LEN) {
        buf->base = c->chal + c->chal_have;
        buf->len = CH_LEN - c->chal_have;
    } else {
        buf->base = (char *)c->reply + c->reply_have;
        buf->len = c->reply_want - c->reply_have;
    }
}

static void connect_write_cb(uv_write_t *req, int status)
{
    struct conn *c = req->data;

    if (conn_request_done(c))
        return;
    if (status != 0) {
        conn_fail(c, status);
        return;
    }
    c->written = true;
    connect_maybe_done(c);
}

/* The challenge is in: answer it with our handshake. */
static void connect_send_handshake(struct conn *c)
{
    const unsigned char *p = (const unsigned char *)c->chal;
    uv_buf_t buf;
    int rv;

    if (memcmp(p, CH_MAGIC, HS_MAGIC_LEN) != 0 || p[HS_MAGIC_LEN] != HS_FORMAT) {
        peer_warn(c, "answered with something other than our challenge",
                  FORMAT_HINT);
        conn_fail(c, -EPROTO);
        return;
    }
    c->want = encode_handshake(c);
    if (c->want == 0) {
        conn_fail(c, -EIO);
        return;
    }
    buf = uv_buf_init(c->buf, (unsigned)c->want);
    rv = uv_write(&c->write, (uv_stream_t *)c->tcp, &buf, 1, connect_write_cb);
    if (rv != 0) {
        conn_fail(c, rv);
        return;
    }
    c->refs++;
}

/* The answer is in: a refusal, or an acceptance with the acceptor's MAC. */
static void connect_check_answer(struct conn *c)
{
    c->answer = c->reply[0];
    if (c->answer != REPL_HANDSHAKE_OK) {
        if (c->answer == REPL_HANDSHAKE_BAD_AUTH)
            peer_warn(c, "refused our key", TOKEN_HINT);
        else
            log_debug("transport", "peer refused the handshake (%u)",
                      c->answer);
        conn_fail(c, c->answer == REPL_HANDSHAKE_BAD_AUTH ? -EACCES
                                                           : -ECONNREFUSED);
        return;
    }
    if (c->reply_have < ANSWER_MAX_LEN) {
        c->reply_want = ANSWER_MAX_LEN; /* its MAC follows */
        return;
    }
    if (!hs_mac_ok(c, LABEL_ACCEPT, c->buf, c->want, c->reply + 1)) {
        peer_warn(c, "accepted us without proving it holds the cluster's "
                     "key", TOKEN_HINT);
        conn_fail(c, -EACCES);
        return;
    }
    (void)uv_read_stop((uv_stream_t *)c->tcp);
    c->answered = true;
    connect_maybe_done(c);
}

static void connect_read_cb(uv_stream_t *stream,
                            ssize_t nread,
                            const uv_buf_t *buf)
{
    struct conn *c = stream->data;

    (void)buf;
    if (nread == 0)
        return;
    if (nread < 0) {
        conn_fail(c, nread == UV_EOF ? -ECONNRESET : (int)nread);
        return;
    }
    if (c->chal_have < CH_LEN) {
        c->chal_have += (size_t)nread;
        if (c->chal_have == CH_LEN)
            connect_send_handshake(c);
        return;
    }
    c->reply_have += (size_t)nread;
    if (c->reply_have == c->reply_want)
        connect_check_answer(c);
}

static void connect_cb(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    int rv;

    if (conn_request_done(c))
        return;
    if (status != 0) {
        conn_fail(c, status);
        return;
    }
    rv = set_socket_options(c->tcp);
    if (rv == 0)
        rv = uv_read_start((uv_stream_t *)c->tcp, connect_alloc_cb,
                           connect_read_cb);
    if (rv != 0)
        conn_fail(c, rv);
}

/* Start an outgoing connection; on error nothing is left behind and no
 * callback will fire. */
static int connect_start(struct repl_transport *t,
                         enum conn_kind kind,
                         const struct sockaddr_in *sin,
                         uint8_t channel,
                         uint64_t self_id,
                         struct conn **ret)
{
    struct conn *c;
    int rv;

    if (t->closing)
        return -ECANCELED;
    if (!t->has_key)
        return -EPERM;
    rv = conn_new(t, kind, &c);
    if (rv != 0)
        return rv;
    c->channel = channel;
    c->peer_id = self_id; /* ours: what the handshake announces */
    target_of(sin, c->target);
    rv = uv_tcp_connect(&c->connect, c->tcp, (const struct sockaddr *)sin,
                        connect_cb);
    if (rv != 0) {
        /* No requester is attached yet, so closing reports nothing. */
        conn_fail(c, rv);
        return rv;
    }
    c->refs++;
    *ret = c;
    return 0;
}

int repl_transport_connect_forward(struct repl_transport *t,
                                   struct repl_transport_connect *req,
                                   uint64_t self_id,
                                   const char *address,
                                   repl_transport_connect_cb cb)
{
    struct sockaddr_in sin;
    struct conn *c;
    int rv;

    rv = repl_transport_parse_address(address, &sin, t->iface.errmsg,
                                      sizeof t->iface.errmsg);
    if (rv != 0)
        return rv;
    rv = connect_start(t, CONN_FORWARD, &sin, REPL_CHANNEL_FORWARD, self_id,
                       &c);
    if (rv != 0)
        return rv;
    req->cb = cb;
    c->fwd_req = req;
    return 0;
}

static void stream_free_cb(uv_handle_t *handle)
{
    raft_free(handle);
}

void repl_transport_stream_close(uv_stream_t *stream)
{
    uv_close((uv_handle_t *)stream, stream_free_cb);
}

/* ---- libraft's interface ------------------------------------------------ */

static int iface_init(struct raft_uv_transport *iface,
                      raft_id id,
                      const char *address)
{
    struct repl_transport *t = transport_of(iface);
    struct sockaddr_in sin;

    if (repl_transport_parse_address(address, &sin, iface->errmsg,
                                     sizeof iface->errmsg) != 0)
        return RAFT_INVALID;
    if (strlen(address) > REPL_TRANSPORT_ADDR_MAX) {
        snprintf(iface->errmsg, sizeof iface->errmsg, "address too long");
        return RAFT_INVALID;
    }
    t->id = id;
    strcpy(t->address, address);
    return 0;
}

static int listen_error(struct repl_transport *t, const char *what, int rv)
{
    /* Listen addresses are validated IPv4 literals: 21 bytes at most. */
    snprintf(t->iface.errmsg, sizeof t->iface.errmsg, "%s %.64s: %s", what,
             t->bind_address[0] ? t->bind_address : t->address,
             uv_strerror(rv));
    return RAFT_IOERR;
}

static void listener_close_cb(uv_handle_t *handle)
{
    struct repl_transport *t = handle->data;

    t->n_open--;
    maybe_fire_close(t);
}

static int iface_listen(struct raft_uv_transport *iface, raft_uv_accept_cb cb)
{
    struct repl_transport *t = transport_of(iface);
    const char *where = t->bind_address[0] ? t->bind_address : t->address;
    struct sockaddr_in sin;
    int rv;

    if (t->listening || t->closing) {
        snprintf(iface->errmsg, sizeof iface->errmsg, "already %s",
                 t->closing ? "closing" : "listening");
        return RAFT_INVALID;
    }
    if (!t->has_key) {
        snprintf(iface->errmsg, sizeof iface->errmsg,
                 "no peer key: peers could not be authenticated");
        return RAFT_INVALID;
    }
    if (repl_transport_parse_address(where, &sin, iface->errmsg,
                                     sizeof iface->errmsg) != 0)
        return RAFT_INVALID;
    t->accept_cb = cb;
    (void)uv_tcp_init(t->loop, &t->listener); /* cannot fail for AF_UNSPEC */
    t->listener.data = t;
    t->listening = true;
    t->n_open++;
    rv = uv_tcp_bind(&t->listener, (const struct sockaddr *)&sin, 0);
    if (rv != 0)
        return listen_error(t, "bind", rv);
    rv = uv_listen((uv_stream_t *)&t->listener, LISTEN_BACKLOG,
                   listener_connection_cb);
    if (rv != 0)
        return listen_error(t, "listen", rv);
    return 0;
}

static int iface_connect(struct raft_uv_transport *iface,
                         struct raft_uv_connect *req,
                         raft_id id,
                         const char *address,
                         raft_uv_connect_cb cb)
{
    struct repl_transport *t = transport_of(iface);
    struct sockaddr_in sin;
    struct conn *c;
    int rv;

    (void)id; /* the peer's id: the acceptor does not check it (yet) */
    rv = repl_transport_parse_address(address, &sin, iface->errmsg,
                                      sizeof iface->errmsg);
    if (rv != 0)
        return RAFT_NOCONNECTION;
    rv = connect_start(t, CONN_RAFT, &sin, REPL_CHANNEL_RAFT, t->id, &c);
    if (rv != 0) {
        snprintf(iface->errmsg, sizeof iface->errmsg, "connect %.64s: %s",
                 address, rv == -EPERM ? "no peer key" : uv_strerror(rv));
        return rv == -ECANCELED ? RAFT_CANCELED
               : rv == -ENOMEM  ? RAFT_NOMEM
                                : RAFT_NOCONNECTION;
    }
    req->cb = cb;
    c->raft_req = req;
    return 0;
}

static void iface_close(struct raft_uv_transport *iface,
                        raft_uv_transport_close_cb cb)
{
    struct repl_transport *t = transport_of(iface);

    t->closing = true;
    t->close_cb = cb;
    if (t->listening) {
        t->listening = false;
        uv_close((uv_handle_t *)&t->listener, listener_close_cb);
    }
    while (t->conns.next != &t->conns)
        conn_fail(conn_of_link(t->conns.next), -ECANCELED);
    maybe_fire_close(t);
}

int repl_transport_init(struct repl_transport *t,
                        uv_loop_t *loop,
                        const char *bind_address)
{
    struct sockaddr_in sin;

    memset(t, 0, sizeof *t);
    if (bind_address != NULL) {
        if (repl_transport_parse_address(bind_address, &sin, t->iface.errmsg,
                                         sizeof t->iface.errmsg) != 0)
            return -EINVAL;
        if (strlen(bind_address) > REPL_TRANSPORT_ADDR_MAX)
            return -EINVAL;
        strcpy(t->bind_address, bind_address);
    }
    t->iface.version = 1; /* libraft 0.22 refuses version 0 */
    t->iface.impl = t;
    t->iface.init = iface_init;
    t->iface.listen = iface_listen;
    t->iface.connect = iface_connect;
    t->iface.close = iface_close;
    t->loop = loop;
    t->handshake_timeout_ms = REPL_TRANSPORT_HANDSHAKE_TIMEOUT_MS;
    queue_init(&t->conns);
    return 0;
}
