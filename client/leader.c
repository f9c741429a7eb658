/* Leader election on a Lease (c8s/leader.h). The Lease is read, decided
 * upon and written back with its resourceVersion, so a write that lost a
 * race fails with a conflict and changes nothing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <c8s/leader.h>

#include "api/object/codec.h"
#include "client/conn.h"
#include "client/internal.h"
#include "lib/mem.h"

struct c8s_leader {
    struct c8s_client *c;
    char *ns, *name, *identity;
    char *path, *collection;
    int lease_ms, renew_deadline_ms, retry_ms;
    char holder[256];
    char observed[512];  /* holder, renewTime and transitions last seen */
    int64_t observed_at; /* when they last changed, on our clock */
    bool leading;
    int64_t renewed_at;  /* our last successful write, on our clock */
};

static char *printf_dup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *printf_dup(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

int c8s_leader_new(struct c8s_client *c, const struct c8s_leader_opts *o,
                   struct c8s_leader **ret, struct c8s_error *err)
{
    struct c8s_leader *l;

    *ret = NULL;
    if (o == NULL || o->ns == NULL || o->name == NULL || o->identity == NULL ||
        o->ns[0] == '\0' || o->name[0] == '\0' || o->identity[0] == '\0' ||
        strlen(o->identity) >= sizeof l->holder)
        return client__fail(err, -EINVAL, "leader election needs a namespace, a "
                    "Lease name and an identity (under 256 bytes)");
    l = mem_calloc(1, sizeof *l);
    if (l == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    l->c = c;
    l->lease_ms = o->lease_ms > 0 ? o->lease_ms : 15000;
    l->renew_deadline_ms =
        o->renew_deadline_ms > 0 ? o->renew_deadline_ms : 10000;
    l->retry_ms = o->retry_ms > 0 ? o->retry_ms : 2000;
    l->ns = mem_strdup(o->ns);
    l->name = mem_strdup(o->name);
    l->identity = mem_strdup(o->identity);
    l->collection = printf_dup("/apis/coordination.k8s.io/v1/namespaces/%s/"
                               "leases", o->ns);
    l->path = printf_dup("%s/%s", l->collection != NULL ? l->collection : "",
                         o->name);
    if (l->ns == NULL || l->name == NULL || l->identity == NULL ||
        l->collection == NULL || l->path == NULL) {
        c8s_leader_free(l);
        return client__fail(err, -ENOMEM, "out of memory");
    }
    if (l->renew_deadline_ms >= l->lease_ms) {
        c8s_leader_free(l);
        return client__fail(err, -EINVAL, "the renew deadline (%d ms) must be shorter "
                    "than the lease (%d ms)", o->renew_deadline_ms,
                    o->lease_ms);
    }
    *ret = l;
    return 0;
}

void c8s_leader_free(struct c8s_leader *l)
{
    if (l == NULL)
        return;
    mem_free(l->ns);
    mem_free(l->name);
    mem_free(l->identity);
    free(l->collection); /* vasprintf's */
    free(l->path);
    mem_free(l);
}

const char *c8s_leader_holder(const struct c8s_leader *l)
{
    return l->holder;
}

int c8s_leader_retry_ms(const struct c8s_leader *l)
{
    return l->retry_ms;
}

/* ---- the Lease -------------------------------------------------------------*/

/* Kubernetes' MicroTime: "2026-11-22T19:12:23.123456Z". */
static void micro_time(char out[40])
{
    struct timespec ts;
    struct tm tm;
    char secs[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    (void)strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(out, 40, "%.20s.%06uZ", secs,
                   (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

static int set_str(struct obj *m, const char *key, const char *v)
{
    struct obj *s = obj_str_new_c(v);

    return s != NULL ? obj_map_set(m, key, s) : -ENOMEM;
}

/* Write @spec's fields for holding the Lease as @holder now. */
static int fill_spec(struct c8s_leader *l, struct obj *spec,
                     const char *holder, bool acquire, int64_t transitions)
{
    char now[40];
    struct obj *dur = obj_int_new((l->lease_ms + 999) / 1000);
    struct obj *tr = obj_int_new(transitions);
    int rv;

    micro_time(now);
    if (dur == NULL || tr == NULL) {
        obj_unref(dur);
        obj_unref(tr);
        return -ENOMEM;
    }
    if ((rv = set_str(spec, "holderIdentity", holder)) != 0 ||
        (rv = obj_map_set(spec, "leaseDurationSeconds", dur)) != 0 ||
        (rv = obj_map_set(spec, "leaseTransitions", tr)) != 0 ||
        (rv = set_str(spec, "renewTime", now)) != 0 ||
        (acquire && (rv = set_str(spec, "acquireTime", now)) != 0))
        return rv;
    return 0;
}

static int send_lease(struct c8s_leader *l, const char *method,
                      const char *path, const struct obj *lease,
                      struct c8s_error *err)
{
    struct c8s_response r = {0};
    struct obj_buf b;
    int rv;

    obj_buf_init(&b);
    if ((rv = obj_json_encode(lease, 0, &b, NULL)) != 0)
        return client__fail(err, rv, "out of memory");
    rv = c8s_request(l->c, method, path, "application/json", b.data, b.len,
                     &r, err);
    obj_buf_done(&b);
    c8s_response_clear(&r);
    return rv;
}

static int create_lease(struct c8s_leader *l, struct c8s_error *err)
{
    struct obj *lease = obj_map_new(), *meta = obj_map_new(),
               *spec = obj_map_new();
    int rv = lease == NULL || meta == NULL || spec == NULL ? -ENOMEM : 0;

    if (rv == 0 && (rv = set_str(lease, "apiVersion",
                                 "coordination.k8s.io/v1")) == 0 &&
        (rv = set_str(lease, "kind", "Lease")) == 0 &&
        (rv = set_str(meta, "name", l->name)) == 0 &&
        (rv = set_str(meta, "namespace", l->ns)) == 0 &&
        (rv = fill_spec(l, spec, l->identity, true, 0)) == 0) {
        (void)obj_map_set(lease, "metadata", obj_ref(meta));
        (void)obj_map_set(lease, "spec", obj_ref(spec));
        rv = send_lease(l, "POST", l->collection, lease, err);
    }
    obj_unref(meta);
    obj_unref(spec);
    obj_unref(lease);
    return rv;
}

/* Write the Lease (as read, with its resourceVersion) holding it as
 * @holder. */
static int update_lease(struct c8s_leader *l, struct obj *lease,
                        const char *holder, bool acquire,
                        int64_t transitions, struct c8s_error *err)
{
    struct obj *spec = obj_map_get_mut(lease, "spec");
    int rv;

    if (spec == NULL) {
        if ((spec = obj_map_new()) == NULL ||
            obj_map_set(lease, "spec", spec) != 0)
            return client__fail(err, -ENOMEM, "out of memory");
    }
    if ((rv = fill_spec(l, spec, holder, acquire, transitions)) != 0)
        return client__fail(err, rv, "out of memory");
    return send_lease(l, "PUT", l->path, lease, err);
}

static int read_lease(struct c8s_leader *l, struct obj **ret,
                      struct c8s_error *err)
{
    struct obj_decode_opts opts = {0};
    struct c8s_response r = {0};
    int rv = c8s_request(l->c, "GET", l->path, NULL, NULL, 0, &r, err);

    *ret = NULL;
    if (rv == 0 &&
        obj_json_decode(r.body, r.body_len, &opts, ret, NULL) != 0)
        rv = client__fail(err, -C8S_EMALFORMED, "GET %s: not JSON", l->path);
    c8s_response_clear(&r);
    return rv;
}

/* ---- deciding --------------------------------------------------------------*/

/* Note what the Lease says now, and when that last changed. */
static void observe(struct c8s_leader *l, const struct obj *lease,
                    int64_t now)
{
    const struct obj *spec = obj_map_get(lease, "spec");
    char record[sizeof l->observed];

    (void)snprintf(l->holder, sizeof l->holder, "%s",
                   obj_str_or(obj_map_get(spec, "holderIdentity"), ""));
    (void)snprintf(record, sizeof record, "%s|%s|%lld", l->holder,
                   obj_str_or(obj_map_get(spec, "renewTime"), ""),
                   (long long)obj_int_or(obj_map_get(spec,
                                                     "leaseTransitions"), 0));
    if (strcmp(record, l->observed) != 0) {
        memcpy(l->observed, record, sizeof record);
        l->observed_at = now;
    }
}

static bool still_leading(const struct c8s_leader *l, int64_t now)
{
    return l->leading && now - l->renewed_at <= l->renew_deadline_ms;
}

static int won(struct c8s_leader *l, int64_t now)
{
    l->leading = true;
    l->renewed_at = now;
    (void)snprintf(l->holder, sizeof l->holder, "%s", l->identity);
    return 0;
}

/* Times, on purpose: a renewal counts from before its request was sent (the
 * Lease's new renewTime is no older than that, so others wait at least as
 * long as we believe we lead), a change seen on the Lease from after the
 * read that saw it (candidates wait at least a full lease from there), and
 * whether we still lead is judged after the requests, however long they
 * took. */
int c8s_leader_step(struct c8s_leader *l, bool *leads, struct c8s_error *err)
{
    int64_t sent = client__now_ms();
    struct obj *lease = NULL;
    int rv = read_lease(l, &lease, err);

    if (rv == -C8S_ENOTFOUND) {
        sent = client__now_ms();
        rv = create_lease(l, err);
        if (rv == 0)
            won(l, sent);
        else if (rv == -C8S_EEXISTS)
            rv = 0; /* someone else was quicker */
    } else if (rv == 0) {
        const struct obj *spec = obj_map_get(lease, "spec");
        int64_t transitions =
            obj_int_or(obj_map_get(spec, "leaseTransitions"), 0);
        /* The holder's own duration, as client-go reads it. */
        int64_t lease_ms =
            obj_int_or(obj_map_get(spec, "leaseDurationSeconds"), 0) * 1000;

        if (lease_ms <= 0)
            lease_ms = l->lease_ms;
        observe(l, lease, client__now_ms());
        sent = client__now_ms();
        if (strcmp(l->holder, l->identity) == 0) {
            rv = update_lease(l, lease, l->identity, false, transitions, err);
            if (rv == 0)
                won(l, sent);
        } else if (l->holder[0] != '\0' &&
                   client__now_ms() - l->observed_at < lease_ms) {
            l->leading = false; /* held by another, and alive */
        } else {
            rv = update_lease(l, lease, l->identity, true, transitions + 1,
                              err);
            if (rv == 0)
                won(l, sent);
        }
        if (rv == -C8S_ECONFLICT)
            rv = 0; /* lost a race; the next step sees the winner */
    }
    obj_unref(lease);
    if (!still_leading(l, client__now_ms()))
        l->leading = false;
    *leads = l->leading;
    return rv;
}

int c8s_leader_release(struct c8s_leader *l, struct c8s_error *err)
{
    struct obj *lease = NULL;
    int rv;

    if (!l->leading)
        return 0;
    l->leading = false;
    rv = read_lease(l, &lease, err);
    if (rv == 0 &&
        strcmp(obj_str_or(obj_get(lease, "spec", "holderIdentity", NULL), ""),
               l->identity) == 0)
        rv = update_lease(l, lease, "", false,
                          obj_int_or(obj_get(lease, "spec", "leaseTransitions",
                                             NULL),
                                     0),
                          err);
    obj_unref(lease);
    if (rv == 0)
        l->holder[0] = '\0';
    return rv;
}
