/* Forward channel: submit txns and read points to a member over the peer
 * port. Followers use it to forward to the leader; tools and benchmarks use
 * it to reach the store before the API server exists.
 *
 * Frames (both ways): u32 little-endian body length (<= 16 MiB), then a
 * msgpack body. Request: [kind, req_id, payload] with kind
 *   1 TXN     payload: an encoded store batch holding one TXN command;
 *   2 READ    payload nil: a linearizable read point (leader only);
 *   3 GET     payload: "resource\0ns\0name"; served from the local store;
 *   4 STATUS  payload nil, or bin "digest" to also get the digest (it
 *             serialises the whole store: costly on big stores); served
 *             locally: msgpack [id, leader_id, state,
 *             term, commit_index, applied_index, rev, keys, digest,
 *             compact_rev, config_committed_index,
 *             config_uncommitted_index] where
 *             digest is the CRC-32 of the store's snapshot bytes (0 when
 *             not asked for); readers take 10 fields or more (the last
 *             two came later: 0 when absent);
 *   5 MEMBER_ADD     payload: msgpack [name, address, id] (leader;
 *                    forwarded); id is the joiner's raft ID (its STATUS)
 *   6 MEMBER_REMOVE  payload: msgpack [name]           (leader; forwarded)
 *   7 MEMBERS        payload nil; local: msgpack [[id, address, role,
 *                    is_leader], ...] from the raft configuration.
 * Response: [req_id, code, failed_op, rev, payload (bin or nil)]. A member
 * that does not lead answers TXN and READ with -C8S_ENOLEADER; it never
 * forwards a forwarded request again. */
#ifndef C8S_RAFT_FORWARD_H
#define C8S_RAFT_FORWARD_H

#include <stdint.h>

#include <uv.h>

#include "raft/repl.h"
#include "raft/transport.h"

#define REPL_FWD_MAX_FRAME (16u << 20)

enum repl_fwd_kind {
    REPL_FWD_TXN = 1,
    REPL_FWD_READ = 2,
    REPL_FWD_GET = 3,
    REPL_FWD_STATUS = 4,
    REPL_FWD_MEMBER_ADD = 5,
    REPL_FWD_MEMBER_REMOVE = 6,
    REPL_FWD_MEMBERS = 7,
};

struct repl_client;

/* Called when the connection fails or closes; pending requests have had
 * their callbacks (-C8S_EUNKNOWN for a change, TXN or MEMBER_ADD/REMOVE,
 * written to the stream; -C8S_ENOLEADER for anything never written and
 * for reads; -EACCES for all when the member refused our peer key). A
 * client that failed frees itself: do not close it after that. */
typedef void (*repl_client_close_cb)(struct repl_client *c, void *arg);

/* Connect to the member at @address through @t (whose iface.init may not
 * have run: tools pass a transport used only for this). Requests submitted
 * before the connection is up are queued. */
int repl_client_new(struct repl_transport *t, uint64_t self_id,
                    const char *address, repl_client_close_cb cb, void *arg,
                    struct repl_client **ret);
int repl_client_submit(struct repl_client *c, struct repl_req *req,
                       const struct store_op *ops, size_t n_ops);
int repl_client_read(struct repl_client *c, struct repl_req *req);
/* Local read of one key on the member (code -C8S_ENOTFOUND if absent). */
int repl_client_get(struct repl_client *c, struct repl_req *req,
                    const char *resource, const char *ns, const char *name);
/* The member's status (see STATUS above) in res->value. */
int repl_client_status(struct repl_client *c, struct repl_req *req);
int repl_client_status_digest(struct repl_client *c, struct repl_req *req);
int repl_client_member_add(struct repl_client *c, struct repl_req *req,
                           const char *name, const char *address, uint64_t id);
int repl_client_member_remove(struct repl_client *c, struct repl_req *req,
                              const char *name);
/* The member list (see MEMBERS above) in res->value. */
int repl_client_members(struct repl_client *c, struct repl_req *req);
/* Pending requests complete as on a failure; frees @c after its handles
 * close. */
void repl_client_close(struct repl_client *c);
/* Requests sent or queued and not yet answered. */
size_t repl_client_pending(const struct repl_client *c);

#endif /* C8S_RAFT_FORWARD_H */
