/* A blocking client of a member's forward channel. */
#include "raft/sync_client.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mp.h"

struct repl_sync {
    uv_loop_t loop;             /* Private loop, run only inside calls. */
    struct repl_transport t;    /* Used only to connect. */
    struct repl_client *c;      /* Connection, or NULL. */
    char address[64];           /* Member's peer address. */
    uv_timer_t timer;           /* Per-call deadline. */
};

/* One call in progress. */
struct call {
    struct repl_req req;        /* First: the callback finds the call. */
    bool done;                  /* Answer arrived. */
    struct repl_result res;     /* The answer. */
    uint8_t *value;             /* Copy of res.value. */
    size_t value_len;           /* Its length. */
};

static void on_closed(struct repl_client *rc, void *arg)
{
    struct repl_sync *c = arg;

    if (c->c == rc)
        c->c = NULL;
}

struct repl_sync *repl_sync_new(const char *address, const char *token)
{
    unsigned char key[REPL_TRANSPORT_KEY_LEN];
    struct repl_sync *c;

    if (repl_transport_key_from_token(token, key) != 0)
        return NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    signal(SIGPIPE, SIG_IGN); /* a member killed mid-write is expected */
    if (repl_transport_init(&c->t, &c->loop, NULL) != 0) {
        free(c);
        return NULL;
    }
    repl_transport_set_key(&c->t, key);
    explicit_bzero(key, sizeof key);
    uv_loop_init(&c->loop);
    uv_timer_init(&c->loop, &c->timer);
    snprintf(c->address, sizeof c->address, "%s", address);
    return c;
}

static void connect_if_needed(struct repl_sync *c)
{
    if (c->c != NULL)
        return;
    (void)repl_client_new(&c->t, 0, c->address, on_closed, c, &c->c);
}

static void transport_closed(struct raft_uv_transport *t)
{
    (void)t;
}

void repl_sync_free(struct repl_sync *c)
{
    if (c == NULL)
        return;
    if (c->c != NULL)
        repl_client_close(c->c);
    c->c = NULL;
    uv_close((uv_handle_t *)&c->timer, NULL);
    c->t.iface.close(&c->t.iface, transport_closed);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&c->loop);
    explicit_bzero(c->t.key, sizeof c->t.key);
    free(c);
}

static void call_done(struct repl_req *req, const struct repl_result *res)
{
    struct call *k = (struct call *)req;

    k->done = true;
    k->res = *res;
    if (res->value != NULL) {
        k->value = malloc(res->value_len + 1);
        if (k->value != NULL) {
            memcpy(k->value, res->value, res->value_len);
            k->value_len = res->value_len;
        }
    }
    k->res.value = NULL;
}

static void on_deadline(uv_timer_t *t)
{
    (void)t;
}

static void ignore(struct repl_req *req, const struct repl_result *res)
{
    (void)req;
    (void)res;
}

/* Run the loop until @k is answered or @timeout_ms passes. */
static int wait_call(struct repl_sync *c, struct call *k, int timeout_ms)
{
    uint64_t deadline;

    uv_update_time(&c->loop);
    deadline = uv_now(&c->loop) + (uint64_t)timeout_ms;
    while (!k->done) {
        uv_update_time(&c->loop);
        if (uv_now(&c->loop) >= deadline) {
            /* Abandon the connection: the late answer must not land in a
             * call that no longer exists. */
            struct repl_client *rc = c->c;
            c->c = NULL;
            k->req.cb = ignore;
            if (rc != NULL)
                repl_client_close(rc);
            return -ETIMEDOUT;
        }
        uv_timer_start(&c->timer, on_deadline, deadline - uv_now(&c->loop), 0);
        uv_run(&c->loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&c->timer);
    return k->res.code;
}

static int finish(struct repl_sync *c, struct call *k, int rv, int timeout_ms)
{
    if (rv != 0)
        return rv;
    return wait_call(c, k, timeout_ms);
}

int repl_sync_txn(struct repl_sync *c, const struct store_op *ops, size_t n_ops,
                int timeout_ms, uint64_t *ret_rev)
{
    struct call k = {.req.cb = call_done};
    int rv;

    connect_if_needed(c);
    if (c->c == NULL)
        return -ECONNREFUSED;
    rv = finish(c, &k, repl_client_submit(c->c, &k.req, ops, n_ops),
                timeout_ms);
    if (ret_rev != NULL)
        *ret_rev = k.res.rev;
    free(k.value);
    return rv;
}

int repl_sync_put(struct repl_sync *c, const char *name, const void *value,
                size_t len, int timeout_ms, uint64_t *ret_rev)
{
    struct store_op op = {
        .type = STORE_OP_PUT, .resource = REPL_SYNC_RESOURCE,
        .ns = REPL_SYNC_NS, .name = name, .value = value, .value_len = len,
    };

    return repl_sync_txn(c, &op, 1, timeout_ms, ret_rev);
}

int repl_sync_read(struct repl_sync *c, int timeout_ms, uint64_t *ret_rev)
{
    struct call k = {.req.cb = call_done};
    int rv;

    connect_if_needed(c);
    if (c->c == NULL)
        return -ECONNREFUSED;
    rv = finish(c, &k, repl_client_read(c->c, &k.req), timeout_ms);
    if (ret_rev != NULL)
        *ret_rev = k.res.rev;
    return rv;
}

int repl_sync_get(struct repl_sync *c, const char *name, void *buf, size_t size,
                size_t *ret_len, uint64_t *ret_mod_rev, int timeout_ms)
{
    struct call k = {.req.cb = call_done};
    int rv;

    connect_if_needed(c);
    if (c->c == NULL)
        return -ECONNREFUSED;
    rv = finish(c, &k,
                repl_client_get(c->c, &k.req, REPL_SYNC_RESOURCE, REPL_SYNC_NS,
                                name),
                timeout_ms);
    if (rv == 0) {
        memcpy(buf, k.value, k.value_len < size ? k.value_len : size);
        *ret_len = k.value_len;
        *ret_mod_rev = k.res.rev;
    }
    free(k.value);
    return rv;
}

static int parse_status(const uint8_t *p, size_t len, struct repl_sync_status *s)
{
    struct mp_reader rd;
    uint32_t n, slen;
    const char *state;
    uint64_t digest;

    mp_reader_init(&rd, p, len);
    /* 10 fields before the configuration indexes; more may follow. */
    if (mp_read_array(&rd, &n) != 0 || n < 10 ||
        mp_read_uint(&rd, &s->id) != 0 || mp_read_uint(&rd, &s->leader_id) ||
        mp_read_str(&rd, &state, &slen) != 0 ||
        mp_read_uint(&rd, &s->term) != 0 ||
        mp_read_uint(&rd, &s->commit_index) != 0 ||
        mp_read_uint(&rd, &s->applied_index) != 0 ||
        mp_read_uint(&rd, &s->rev) != 0 || mp_read_uint(&rd, &s->keys) != 0 ||
        mp_read_uint(&rd, &digest) != 0 ||
        mp_read_uint(&rd, &s->compact_rev) != 0)
        return -EPROTO;
    s->config_committed_index = s->config_uncommitted_index = 0;
    if (n >= 12 && (mp_read_uint(&rd, &s->config_committed_index) != 0 ||
                    mp_read_uint(&rd, &s->config_uncommitted_index) != 0))
        return -EPROTO;
    snprintf(s->state, sizeof s->state, "%.*s", (int)slen, state);
    s->digest = (uint32_t)digest;
    return 0;
}

static int status_call(struct repl_sync *c, struct repl_sync_status *ret,
                       bool digest, int timeout_ms)
{
    struct call k = {.req.cb = call_done};
    int rv;

    connect_if_needed(c);
    if (c->c == NULL)
        return -ECONNREFUSED;
    rv = finish(c, &k,
                digest ? repl_client_status_digest(c->c, &k.req)
                       : repl_client_status(c->c, &k.req),
                timeout_ms);
    if (rv == 0)
        rv = k.value != NULL ? parse_status(k.value, k.value_len, ret) : -EPROTO;
    free(k.value);
    return rv;
}

int repl_sync_status(struct repl_sync *c, struct repl_sync_status *ret,
                     int timeout_ms)
{
    return status_call(c, ret, false, timeout_ms);
}

int repl_sync_status_digest(struct repl_sync *c, struct repl_sync_status *ret,
                            int timeout_ms)
{
    return status_call(c, ret, true, timeout_ms);
}

int repl_sync_member_add(struct repl_sync *c, const char *name,
                         const char *address, uint64_t id, int timeout_ms)
{
    struct call k = {.req.cb = call_done};

    connect_if_needed(c);
    if (c->c == NULL)
        return -ECONNREFUSED;
    return finish(c, &k,
                  repl_client_member_add(c->c, &k.req, name, address, id),
                  timeout_ms);
}

int repl_sync_member_remove(struct repl_sync *c, const char *name,
                            int timeout_ms)
{
    struct call k = {.req.cb = call_done};

    connect_if_needed(c);
    if (c->c == NULL)
        return -ECONNREFUSED;
    return finish(c, &k, repl_client_member_remove(c->c, &k.req, name),
                  timeout_ms);
}

static int parse_member(struct mp_reader *rd, struct repl_sync_member *m)
{
    const char *addr, *role;
    uint32_t n, alen, rlen;
    uint64_t leader;

    if (mp_read_array(rd, &n) != 0 || n != 4 || mp_read_uint(rd, &m->id) ||
        mp_read_str(rd, &addr, &alen) != 0 ||
        mp_read_str(rd, &role, &rlen) != 0 || mp_read_uint(rd, &leader) != 0)
        return -EPROTO;
    snprintf(m->address, sizeof m->address, "%.*s", (int)alen, addr);
    snprintf(m->role, sizeof m->role, "%.*s", (int)rlen, role);
    m->leader = leader != 0;
    return 0;
}

int repl_sync_members(struct repl_sync *c, struct repl_sync_member *ret,
                      size_t max, size_t *n, int timeout_ms)
{
    struct call k = {.req.cb = call_done};
    struct mp_reader rd;
    uint32_t count;
    int rv;

    connect_if_needed(c);
    if (c->c == NULL)
        return -ECONNREFUSED;
    rv = finish(c, &k, repl_client_members(c->c, &k.req), timeout_ms);
    if (rv == 0 && k.value == NULL)
        rv = -EPROTO;
    if (rv == 0) {
        mp_reader_init(&rd, k.value, k.value_len);
        rv = mp_read_array(&rd, &count) != 0 ? -EPROTO : 0;
        *n = count;
        for (uint32_t i = 0; rv == 0 && i < count; i++) {
            struct repl_sync_member tmp;
            rv = parse_member(&rd, i < max ? &ret[i] : &tmp);
        }
    }
    free(k.value);
    return rv;
}
