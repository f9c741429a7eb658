/* Peer transport: one TCP port per master, multiplexing raft and forwarding.
 *
 * struct repl_transport implements libraft's struct raft_uv_transport (it is
 * not a wrapper of raft_uv_tcp): pass &t->iface to raft_uv_init(). Every
 * connection, in both directions, starts with our handshake, which names the
 * channel the stream is for:
 *
 *   REPL_CHANNEL_RAFT     handed to libraft's accept callback (raft RPCs);
 *   REPL_CHANNEL_FORWARD  handed to t->forward_cb (followers forwarding
 *                         writes to the leader); closed if none is set.
 *
 * Every connection is authenticated both ways with the peer key, which
 * every member derives from the cluster token (repl_transport_key_from_token)
 * and which never crosses the wire. Integers are little-endian; MAC is
 * HMAC-SHA256 under the peer key, "||" concatenation:
 *
 *   1. acceptor -> connector, the challenge (21 bytes):
 *        "C8SC" | u8 format (2) | nonce A (16 random bytes)
 *   2. connector -> acceptor, the handshake:
 *        "C8SP" | u8 format (2) | u8 channel | u16 reserved (0) |
 *        u64 sender id | u16 address length (<= 255) | address bytes (the
 *        sender's own address) | nonce C (16 random bytes) |
 *        MAC("c8s-peer-v2 connect" || challenge || target ||
 *            handshake up to here)
 *   3. acceptor -> connector, the answer: one status byte (enum
 *      repl_handshake_status); a 0 is followed by
 *        MAC("c8s-peer-v2 accept" || challenge || target || whole handshake)
 *      and a non-zero status by a close.
 *
 * The target (not sent) is the address the connector dialled, 4 bytes of
 * IPv4 and 2 of port in network order; the acceptor uses its own end of
 * the socket. A stranger without the key cannot pass step 2, a recorded
 * handshake is useless against a new nonce A, a stranger a member dials
 * cannot relay the member's handshake to another member (the target
 * differs), and a stranger posing as a member cannot produce step 3's MAC
 * over the connector's fresh nonce C: the connector then closes
 * (-EACCES). The price: a connection whose destination address is
 * rewritten on the way (NAT, port forwarding) is refused; members must
 * reach each other directly. Failures are logged, at most once per 10 s, with
 * the peer's address; the token and key never are. The stream after the
 * handshake is neither encrypted nor integrity-protected: keep the peer
 * network private (an on-path attacker could still read or alter it).
 *
 * The connector hands the stream to its user only after a good answer,
 * and neither side reads a byte past the exchange, so the user's byte
 * stream starts exactly after it. A connection that does not complete the
 * exchange within handshake_timeout_ms, or that sends a bad magic, format,
 * reserved field or length, is closed. Nothing a peer announces is
 * allocated: the handshake lives in a fixed buffer. Without a key set
 * (repl_transport_set_key) the transport neither listens nor connects.
 *
 * Every connection gets TCP_NODELAY (raft's small messages otherwise stall
 * for 40 ms behind Nagle's algorithm) and TCP keepalive.
 *
 * Addresses are IPv4 literals with a port, "A.B.C.D:PORT". Host names and
 * IPv6 are not supported yet and are rejected with a clear message.
 *
 * All calls and callbacks happen on the loop thread. */
#ifndef C8S_RAFT_TRANSPORT_H
#define C8S_RAFT_TRANSPORT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

/* Longest address accepted anywhere (config, handshake). */
#define REPL_TRANSPORT_ADDR_MAX 255

/* Default time a connection gets to complete the handshake. */
#define REPL_TRANSPORT_HANDSHAKE_TIMEOUT_MS 5000

/* Idle time before TCP keepalive probes start. */
#define REPL_TRANSPORT_KEEPALIVE_S 15

/* Longest a connection's sent data may go unacknowledged (TCP_USER_TIMEOUT)
 * before the connection is dropped and dialled again. Peers exchange
 * heartbeats every few tens of milliseconds, so a live peer acknowledges
 * far more often than this. */
#define REPL_TRANSPORT_USER_TIMEOUT_MS 5000

/* Size of the peer key. */
#define REPL_TRANSPORT_KEY_LEN 32

/* Channels a connection can ask for (the handshake's channel byte). */
enum repl_channel {
    REPL_CHANNEL_RAFT = 1,    /* libraft RPCs, to iface's accept callback */
    REPL_CHANNEL_FORWARD = 2, /* write forwarding, to forward_cb */
};

/* The acceptor's one-byte answer to a handshake. */
enum repl_handshake_status {
    REPL_HANDSHAKE_OK = 0,         /* accepted: the stream is handed over */
    REPL_HANDSHAKE_NO_CHANNEL = 1, /* unknown channel */
    REPL_HANDSHAKE_NO_HANDLER = 2, /* nobody serves the channel here */
    REPL_HANDSHAKE_BAD_PEER = 3,   /* sender id or address unacceptable */
    REPL_HANDSHAKE_CLOSING = 4,    /* the acceptor is shutting down */
    REPL_HANDSHAKE_BAD_AUTH = 5,   /* the handshake's MAC is wrong */
};

struct repl_transport;
struct repl_transport_connect;

/* An accepted forward-channel stream. Ownership of @stream moves to the
 * callee, which must close it, e.g. with repl_transport_stream_close().
 * @peer_id is the id the peer announced (it holds the peer key, but any
 * member could announce any id).
 * stream->data is free for the callee's use. */
typedef void (*repl_transport_forward_cb)(struct repl_transport *t,
                                          uv_stream_t *stream,
                                          uint64_t peer_id);

/* Completion of repl_transport_connect_forward(). On status 0 @stream is a
 * connected stream past the handshake, owned by the callee (close it with
 * repl_transport_stream_close()). Otherwise @stream is NULL and @status is
 * a negative code: -ECANCELED (the transport was closed), -ETIMEDOUT
 * (handshake deadline), -ECONNREFUSED (nothing listening, or the peer
 * refused the channel), -EACCES (the peer refused our key, or did not prove
 * it holds it), -EPROTO (not a c8s peer of this format), -ECONNRESET (the
 * peer hung up during the handshake) or another negative errno from the
 * socket. */
typedef void (*repl_transport_connect_cb)(struct repl_transport_connect *req,
                                          uv_stream_t *stream,
                                          int status);

/* A forward-channel connect request, embedded by the caller. It must stay
 * valid until its callback has run; it may be reused after that. */
struct repl_transport_connect {
    void *data;                   /* caller's, untouched */
    repl_transport_connect_cb cb; /* set by repl_transport_connect_forward */
};

/* Intrusive list link (internal). */
struct repl_transport_queue {
    struct repl_transport_queue *next; /* next element, or the head */
    struct repl_transport_queue *prev; /* previous element, or the head */
};

struct repl_transport {
    struct raft_uv_transport iface; /* given to raft_uv_init(); iface.data
                                       belongs to libraft's uv backend */
    void *data;                     /* owner's, untouched */
    uv_loop_t *loop;                /* loop of every handle we create */
    uint64_t id;                    /* our server id, from iface.init() */
    char address[REPL_TRANSPORT_ADDR_MAX + 1]; /* our address, from init() */
    char bind_address[REPL_TRANSPORT_ADDR_MAX + 1]; /* listen here if set,
                                                       else on address */
    unsigned handshake_timeout_ms;  /* per-connection handshake deadline;
                                       may be changed before connections */
    repl_transport_forward_cb forward_cb; /* forward-channel handler, or
                                             NULL to refuse the channel */
    unsigned char key[REPL_TRANSPORT_KEY_LEN]; /* peer key (HMAC) */
    bool has_key;                   /* key is set; needed to listen or
                                       connect */
    uint64_t auth_warned_ms;        /* loop time of the last auth warning */
    uint64_t auth_failures;         /* failures since that warning */
    raft_uv_accept_cb accept_cb;    /* libraft's, set by iface.listen() */
    uv_tcp_t listener;              /* listening socket, once listening */
    bool listening;                 /* listener initialised, not yet closed */
    uv_tcp_t reject;                /* drops a connection we cannot serve */
    bool rejecting;                 /* reject is in use (closing) */
    bool reject_again;              /* another one waits to be dropped */
    bool closing;                   /* iface.close() was called */
    unsigned n_open;                /* listener + connections not yet
                                       released; close_cb waits for 0 */
    struct repl_transport_queue conns; /* connections in handshake */
    raft_uv_transport_close_cb close_cb; /* from iface.close() */
};

/* Initialise @t (memory only: no handle is opened, nothing to undo if it is
 * never used). The whole struct is cleared: set the key with
 * repl_transport_set_key(), and t->data, t->forward_cb and
 * t->handshake_timeout_ms afterwards. @bind_address, if not NULL, is where listen() binds, e.g.
 * "0.0.0.0:9001"; otherwise it binds on the address libraft passes to
 * iface.init(). Returns 0 or -EINVAL (with a reason in t->iface.errmsg) if
 * @bind_address is not an IPv4 "A.B.C.D:PORT" literal.
 *
 * Then: raft_uv_init(io, loop, dir, &t->iface); libraft calls iface.init
 * (raft_init), iface.listen (raft_start) and iface.close (raft_uv's close,
 * during raft_close). The iface methods follow libraft's contract and return
 * RAFT_* codes:
 *   - init(id, address): validates @address (RAFT_INVALID otherwise);
 *   - listen(cb): binds and listens (RAFT_IOERR on failure, RAFT_INVALID
 *     without a key); @cb receives
 *     raft-channel streams allocated with raft_malloc(), owned by libraft;
 *   - connect(req, id, address, cb): sets req->cb = cb; cb fires exactly once
 *     with a connected stream (raft_malloc()ed, owned by libraft) and 0, or
 *     with NULL and RAFT_NOCONNECTION, or RAFT_CANCELED once close() ran; a
 *     synchronous error (bad address, closing) means cb will not fire;
 *   - close(cb): stops listening, fails pending connects with RAFT_CANCELED
 *     and forward connects with -ECANCELED, closes half-done handshakes, and
 *     calls @cb once every handle is closed, when @t may be freed. If nothing
 *     is open @cb runs before close() returns (as in libraft's own
 *     transport). Streams already handed over are not touched.
 * A closed transport can be used again only after repl_transport_init(). */
int repl_transport_init(struct repl_transport *t,
                        uv_loop_t *loop,
                        const char *bind_address);

/* Derive the peer key from the cluster token: PBKDF2-HMAC-SHA256, 100,000
 * iterations, salt "c8s peer transport v2". Slow on purpose (tens of ms):
 * a recorded exchange lets an eavesdropper test token guesses offline.
 * Returns 0, or -EINVAL for an empty token. */
int repl_transport_key_from_token(const char *token,
                                  unsigned char key[REPL_TRANSPORT_KEY_LEN]);

/* Use @key (copied) to authenticate every connection from now on. */
void repl_transport_set_key(struct repl_transport *t,
                            const unsigned char key[REPL_TRANSPORT_KEY_LEN]);

/* Open a forward-channel connection to @address, announcing @self_id and
 * the address given to iface.init() (empty before it). @req->cb fires
 * exactly once, never before this returns 0. Returns 0, -EINVAL (bad
 * address, reason in t->iface.errmsg), -ECANCELED (closing), -EPERM (no
 * key set), -ENOMEM or another negative errno from the socket; on error @cb
 * will not fire. */
int repl_transport_connect_forward(struct repl_transport *t,
                                   struct repl_transport_connect *req,
                                   uint64_t self_id,
                                   const char *address,
                                   repl_transport_connect_cb cb);

/* Close a stream this transport handed over (forward channel) and release
 * its memory (raft_free) in the close callback. */
void repl_transport_stream_close(uv_stream_t *stream);

/* Parse an "A.B.C.D:PORT" address (port 1-65535) into @ret. Returns 0, or
 * -EINVAL with the reason in @errbuf (if not NULL, @errlen bytes). */
int repl_transport_parse_address(const char *address,
                                 struct sockaddr_in *ret,
                                 char *errbuf,
                                 size_t errlen);

/* Do @a and @b name the same host and port, however written ("07000" is
 * 7000)? Strings that do not parse are compared as they are. */
bool repl_same_address(const char *a, const char *b);

#endif /* C8S_RAFT_TRANSPORT_H */
