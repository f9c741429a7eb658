/* Informers against real members: list in pages, handlers, indexes,
 * resync, bookmarks, a relist after compaction that reports exactly what changed, and
 * a cache that stays exact while 10,000 changes land and the leader is
 * killed twice. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <c8s/c8s.h>

#include "tests/client/cluster.h"
#include "tests/lib/unit.h"

/* ---- a shadow of the cache, kept only from the handlers --------------------
 * Objects are ConfigMaps named k<n>; the shadow holds each one's
 * resourceVersion. A handler that contradicts it (an add of something
 * present, an update from a version not held, a delete of something
 * absent) is a duplicate or a missed event. */
#define KEYS 2000

struct shadow {
    char rv[KEYS][24];
    unsigned adds, updates, deletes, resyncs, errors;
    char first_error[256];
};

static int key_index(const struct c8s_obj *o)
{
    const char *name = c8s_obj_str(c8s_obj_path(o, "metadata.name"), "");
    int n;

    if (name[0] != 'k' || (n = atoi(name + 1)) < 0 || n >= KEYS)
        return -1;
    return n;
}

static const char *rv_of(const struct c8s_obj *o)
{
    return c8s_obj_str(c8s_obj_path(o, "metadata.resourceVersion"), "");
}

static void shadow_error(struct shadow *s, const char *what,
                         const struct c8s_obj *o)
{
    if (s->errors++ == 0)
        snprintf(s->first_error, sizeof s->first_error, "%s %s at %s", what,
                 c8s_obj_str(c8s_obj_path(o, "metadata.name"), "?"),
                 rv_of(o));
}

static void on_add(void *data, const struct c8s_obj *o)
{
    struct shadow *s = data;
    int n = key_index(o);

    s->adds++;
    if (n < 0)
        return;
    if (s->rv[n][0] != '\0')
        shadow_error(s, "add of a present", o);
    snprintf(s->rv[n], sizeof s->rv[n], "%s", rv_of(o));
}

static void on_update(void *data, const struct c8s_obj *old,
                      const struct c8s_obj *o)
{
    struct shadow *s = data;
    int n = key_index(o);

    if (old == o) {
        s->resyncs++;
        return;
    }
    s->updates++;
    if (n < 0)
        return;
    if (strcmp(s->rv[n], rv_of(old)) != 0)
        shadow_error(s, "update from an unknown version of", o);
    if (strtoull(rv_of(o), NULL, 10) <= strtoull(rv_of(old), NULL, 10))
        shadow_error(s, "update going backwards for", o);
    snprintf(s->rv[n], sizeof s->rv[n], "%s", rv_of(o));
}

static void on_delete(void *data, const struct c8s_obj *o)
{
    struct shadow *s = data;
    int n = key_index(o);

    s->deletes++;
    if (n < 0)
        return;
    if (s->rv[n][0] == '\0')
        shadow_error(s, "delete of an absent", o);
    s->rv[n][0] = '\0';
}

static struct c8s_informer *informer(struct c8s_client *c, const char *path,
                                     struct shadow *s, int resync_ms,
                                     int page)
{
    struct c8s_informer_opts o = {
        .path = path, .page_size = page, .resync_ms = resync_ms};
    struct c8s_informer_handlers h = {
        .on_add = on_add, .on_update = on_update, .on_delete = on_delete,
        .data = s};
    struct c8s_informer *inf = NULL;
    struct c8s_error err = {0};

    ASSERT_MSG(c8s_informer_new(c, &o, &h, &inf, &err) == 0, "%s",
               err.message);
    return inf;
}

static void run(struct c8s_informer *inf, int run_ms)
{
    struct c8s_error err = {0};
    int rv = c8s_informer_run(inf, run_ms, &err);

    ASSERT_MSG(rv == 0, "informer: %d %s", rv, err.message);
}

/* Run until the informer has seen revision @rv (or fail after 30 s). */
static void run_until(struct c8s_informer *inf, const char *rv)
{
    unsigned long long want = strtoull(rv, NULL, 10);

    for (int i = 0; i < 300; i++) {
        if (strtoull(c8s_informer_resource_version(inf), NULL, 10) >= want)
            return;
        run(inf, 100);
    }
    ASSERT_MSG(0, "informer at %s, never reached %s",
               c8s_informer_resource_version(inf), rv);
}

/* The cache, the shadow and a fresh list agree on every object and
 * version. */
static void expect_exact(struct c8s_client *c, const char *path,
                         struct c8s_informer *inf, struct shadow *s)
{
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    struct c8s_obj *list = NULL;
    const struct c8s_obj *items;
    size_t in_shadow = 0;

    ASSERT_MSG(s->errors == 0, "%u handler errors, first: %s", s->errors,
               s->first_error);
    ASSERT_MSG(req(c, "GET", path, NULL, &r, &err) == 0, "%s", err.message);
    ASSERT(c8s_obj_from_json(r.body, r.body_len, &list, &err) == 0);
    run_until(inf, c8s_obj_str(c8s_obj_path(list, "metadata.resourceVersion"),
                               ""));
    items = c8s_obj_path(list, "items");
    ASSERT_UEQ(c8s_informer_len(inf), c8s_obj_len(items));
    for (size_t i = 0; i < c8s_obj_len(items); i++) {
        const struct c8s_obj *o = c8s_obj_at(items, i);
        const char *name = c8s_obj_str(c8s_obj_path(o, "metadata.name"), "");
        const char *ns = c8s_obj_str(c8s_obj_path(o, "metadata.namespace"), "");
        const struct c8s_obj *cached = c8s_informer_get(inf, ns, name);
        int n = key_index(o);

        ASSERT_MSG(cached != NULL, "%s missing from the cache", name);
        ASSERT_STR_EQ(rv_of(cached), rv_of(o));
        if (n >= 0)
            ASSERT_STR_EQ(s->rv[n], rv_of(o));
    }
    for (int n = 0; n < KEYS; n++)
        in_shadow += s->rv[n][0] != '\0';
    size_t named_k = 0;
    for (size_t i = 0; i < c8s_obj_len(items); i++)
        named_k += key_index(c8s_obj_at(items, i)) >= 0;
    ASSERT_UEQ(in_shadow, named_k);
    c8s_obj_free(list);
    c8s_response_clear(&r);
}

static void put_cm(struct c8s_client *c, const char *ns, int n,
                   const char *labels, const char *value)
{
    char path[200], body[400];
    struct c8s_response r = {0};
    struct c8s_error err = {0};

    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps/k%d", ns,
             n);
    snprintf(body, sizeof body,
             "{\"metadata\":{\"name\":\"k%d\",\"labels\":{%s}},"
             "\"data\":{\"v\":\"%s\"}}",
             n, labels, value);
    ASSERT_MSG(req(c, "PUT", path, body, &r, &err) == 0, "%s", err.message);
    c8s_response_clear(&r);
}

static void post_cm(struct c8s_client *c, const char *ns, int n,
                    const char *labels)
{
    char path[200], body[400];
    struct c8s_response r = {0};
    struct c8s_error err = {0};

    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", ns);
    snprintf(body, sizeof body,
             "{\"metadata\":{\"name\":\"k%d\",\"labels\":{%s}}}", n, labels);
    ASSERT_MSG(req(c, "POST", path, body, &r, &err) == 0, "%s", err.message);
    c8s_response_clear(&r);
}

static int count(void *data, const struct c8s_obj *o)
{
    (void)o;
    ++*(int *)data;
    return 0;
}

TEST_T(informer, lists_in_pages_then_follows_changes_with_indexes, 120)
{
    static char app_key[] = "app";
    static struct shadow s;
    struct c8s_client *c;
    struct c8s_informer *inf;
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    int n;

    start_cluster(1);
    c = client_for(0, NULL, NULL);
    ASSERT_EQ(req(c, "POST", "/api/v1/namespaces",
                  "{\"metadata\":{\"name\":\"other\"}}", &r, &err), 0);
    c8s_response_clear(&r);
    for (int i = 0; i < 25; i++)
        post_cm(c, i < 20 ? "default" : "other", i,
                i % 2 ? "\"app\":\"odd\"" : "\"app\":\"even\"");

    inf = informer(c, "/api/v1/configmaps", &s, 0, 10); /* 3+ pages */
    ASSERT_EQ(c8s_informer_add_index(inf, "ns", c8s_index_namespace, NULL),
              0);
    ASSERT_EQ(c8s_informer_add_index(inf, "app", c8s_index_label, app_key), 0);
    ASSERT(!c8s_informer_synced(inf));
    run(inf, 200);
    ASSERT(c8s_informer_synced(inf));
    ASSERT_EQ(c8s_informer_lists(inf), 1);
    ASSERT_UEQ(s.adds, c8s_informer_len(inf)); /* kube-root-ca etc. too */
    ASSERT(c8s_informer_get(inf, "other", "k22") != NULL);
    ASSERT(c8s_informer_get(inf, "default", "k22") == NULL);
    n = 0;
    ASSERT_EQ(c8s_informer_by_index(inf, "ns", "other", count, &n), 0);
    ASSERT_EQ(n, 5);
    n = 0;
    ASSERT_EQ(c8s_informer_by_index(inf, "app", "odd", count, &n), 0);
    ASSERT_EQ(n, 12);
    ASSERT_EQ(c8s_informer_by_index(inf, "nope", "x", count, &n),
              -C8S_ENOTFOUND);

    /* Changes: a label moves between index values, a delete, an add. */
    put_cm(c, "default", 1, "\"app\":\"even\"", "x");
    ASSERT_EQ(req(c, "DELETE", "/api/v1/namespaces/other/configmaps/k22",
                  NULL, &r, &err), 0);
    c8s_response_clear(&r);
    post_cm(c, "other", 30, "\"app\":\"odd\"");
    expect_exact(c, "/api/v1/configmaps", inf, &s);
    ASSERT_EQ(s.updates, 1);
    ASSERT_EQ(s.deletes, 1);
    n = 0;
    ASSERT_EQ(c8s_informer_by_index(inf, "app", "odd", count, &n), 0);
    ASSERT_EQ(n, 12); /* k1 left for "even", k30 came */
    n = 0;
    ASSERT_EQ(c8s_informer_by_index(inf, "ns", "other", count, &n), 0);
    ASSERT_EQ(n, 5);
    ASSERT_EQ(c8s_informer_lists(inf), 1);
    c8s_informer_free(inf);

    /* One object per page: two dozen continue tokens go back to the server
     * (percent-encoded; c8s's are base64 of plain text, which has no '+',
     * but other servers' may). */
    static struct shadow s1;
    inf = informer(c, "/api/v1/configmaps", &s1, 0, 1);
    run(inf, 500);
    ASSERT(c8s_informer_synced(inf));
    ASSERT_UEQ(c8s_informer_len(inf), s.adds - s.deletes);
    c8s_informer_free(inf);

    /* Resync replays every object as an update to itself. */
    static struct shadow s2;
    inf = informer(c, "/api/v1/namespaces/other/configmaps", &s2, 300, 0);
    run(inf, 1000);
    ASSERT_UEQ(c8s_informer_len(inf), 5);
    ASSERT_MSG(s2.resyncs >= 10 && s2.resyncs % 5 == 0, "%u resyncs",
               s2.resyncs);

    /* A write elsewhere moves the store past anything under the path: the
     * informer learns it reflects that revision from a bookmark (every
     * 10 s), not from a change that will never come. */
    post_cm(c, "default", 40, "\"app\":\"even\"");
    expect_exact(c, "/api/v1/namespaces/other/configmaps", inf, &s2);
    c8s_informer_free(inf);
    c8s_client_free(c);
}

/* While the informer's stream is stuck on a paused member, changes land
 * elsewhere and the history is compacted; when that member dies the watch
 * cannot resume, the informer lists again and reports exactly the three
 * changes, once each. */
TEST_T(informer, relist_after_compaction_reports_exactly_what_changed, 120)
{
    static struct shadow s;
    char path[1200], m1[100];
    struct c8s_client *c, *writer;
    struct c8s_informer *inf;
    struct c8s_response r = {0};
    struct c8s_error err = {0};

    extra_flags[0] = "--history-min-age";
    extra_flags[1] = "1";
    extra_flags[2] = "--compact-interval";
    extra_flags[3] = "100";
    start_cluster(N);
    write_ha_kubeconfig(ms[0].api, path, sizeof path);
    c = client_from(path);
    snprintf(m1, sizeof m1, "https://%s", ms[1].api);
    writer = client_for(1, m1, NULL);
    for (int i = 0; i < 3; i++)
        post_cm(writer, "default", i, "");
    inf = informer(c, "/api/v1/namespaces/default/configmaps", &s, 0, 0);
    expect_exact(writer, "/api/v1/namespaces/default/configmaps", inf, &s);
    unsigned adds = s.adds;

    tproc_signal(ms[0].p, SIGSTOP);
    create_cm(writer, "default", "k10");
    for (int k = 0;; k++) { /* an update, retried through a leader change */
        int rv = req(writer, "PUT", "/api/v1/namespaces/default/configmaps/k1",
                     "{\"metadata\":{\"name\":\"k1\"},\"data\":{\"a\":\"b\"}}",
                     &r, &err);
        c8s_response_clear(&r);
        if (rv == 0)
            break;
        ASSERT_MSG(rv == -C8S_EUNKNOWN && k < 50, "%d %s", rv, err.message);
        usleep(100000);
    }
    for (int k = 0;; k++) {
        int rv = req(writer, "DELETE", "/api/v1/namespaces/default/configmaps/k2",
                     NULL, &r, &err);
        c8s_response_clear(&r);
        if (rv == 0 || (rv == -C8S_ENOTFOUND && k > 0))
            break;
        ASSERT_MSG(rv == -C8S_EUNKNOWN && k < 50, "%d %s", rv, err.message);
        usleep(100000);
    }
    usleep(1500000); /* compactions pass the informer's revision */
    tproc_signal(ms[0].p, SIGKILL);
    (void)tproc_stop(ms[0].p, 5000);

    expect_exact(writer, "/api/v1/namespaces/default/configmaps", inf, &s);
    ASSERT_EQ(c8s_informer_lists(inf), 2);
    ASSERT_EQ(s.adds, adds + 1);
    ASSERT_EQ(s.updates, 1);
    ASSERT_EQ(s.deletes, 1);
    c8s_informer_free(inf);
    c8s_client_free(c);
    c8s_client_free(writer);
}

/* ---- 10,000 changes, two leader kills --------------------------------------*/

#define WRITERS 4
#define OPS_PER_WRITER 2500

struct writer {
    pthread_t t;
    int id;
    char kubeconfig[1200];
    unsigned done, unknown;
    char error[300];
};

static volatile int writers_stop;

/* Whether k@n exists now, read from the server (after an unknown outcome). */
static int exists_now(struct c8s_client *c, int n)
{
    char path[200];
    struct c8s_response r = {0};
    struct c8s_error err = {0};

    snprintf(path, sizeof path, "/api/v1/namespaces/load/configmaps/k%d", n);
    for (;;) {
        int rv = req(c, "GET", path, NULL, &r, &err);

        c8s_response_clear(&r);
        if (rv == 0 || rv == -C8S_ENOTFOUND)
            return rv == 0;
        usleep(50000);
    }
}

static void *write_load(void *arg)
{
    struct writer *w = arg;
    struct c8s_kubeconfig_opts ko = {.kubeconfig = w->kubeconfig};
    struct c8s_client_opts co = {.timeout_ms = 10000};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *c = NULL;
    struct c8s_error err = {0};
    bool present[KEYS / WRITERS] = {0};
    unsigned seed = (unsigned)w->id * 7919u + 1;

    if (c8s_kubeconfig_load(&ko, &kc, &err) != 0 ||
        c8s_client_new(kc, &co, &c, &err) != 0) {
        snprintf(w->error, sizeof w->error, "%.290s", err.message);
        c8s_kubeconfig_free(kc);
        return NULL;
    }
    c8s_kubeconfig_free(kc);
    for (; w->done < OPS_PER_WRITER && !writers_stop; w->done++) {
        int i = (int)(rand_r(&seed) % (KEYS / WRITERS));
        int n = w->id * (KEYS / WRITERS) + i;
        char path[200], body[300];
        struct c8s_response r = {0};
        const char *method;
        int rv;

        if (!present[i]) {
            method = "POST";
            snprintf(path, sizeof path, "/api/v1/namespaces/load/configmaps");
        } else {
            method = rand_r(&seed) % 3 == 0 ? "DELETE" : "PUT";
            snprintf(path, sizeof path,
                     "/api/v1/namespaces/load/configmaps/k%d", n);
        }
        snprintf(body, sizeof body,
                 "{\"metadata\":{\"name\":\"k%d\"},\"data\":{\"op\":\"%u\"}}",
                 n, w->done);
        rv = c8s_request(c, method, path, NULL,
                         strcmp(method, "DELETE") == 0 ? NULL : body,
                         strcmp(method, "DELETE") == 0 ? 0 : strlen(body),
                         &r, &err);
        c8s_response_clear(&r);
        if (rv == 0) {
            present[i] = strcmp(method, "DELETE") != 0;
        } else {
            /* Unknown outcome, a failover in progress, or a conflict with
             * our own earlier unknown write: learn the truth and go on. */
            w->unknown++;
            present[i] = exists_now(c, n);
        }
    }
    c8s_client_free(c);
    return NULL;
}

/* The member that leads now, or -1. */
static int leader_index(void)
{
    for (int i = 0; i < N; i++) {
        char url[100];
        struct c8s_client_opts o = {.max_attempts = 1, .timeout_ms = 2000};
        struct c8s_client *c;
        struct c8s_response r = {0};
        struct c8s_error err = {0};
        bool leads;

        if (tproc_exited(ms[i].p))
            continue;
        snprintf(url, sizeof url, "https://%s", ms[i].api);
        c = client_for(i, url, &o);
        leads = req(c, "GET", "/metrics", NULL, &r, &err) == 0 &&
                strstr(r.body, "\nc8s_raft_is_leader 1") != NULL;
        c8s_response_clear(&r);
        c8s_client_free(c);
        if (leads)
            return i;
    }
    return -1;
}

static unsigned total_done(const struct writer *w)
{
    unsigned t = 0;

    for (int i = 0; i < WRITERS; i++)
        t += w[i].done;
    return t;
}

TEST_T(informer, stays_exact_through_10k_changes_and_two_leader_kills, 600)
{
    static struct shadow s;
    static struct writer w[WRITERS];
    char path[1200];
    struct c8s_client *c;
    struct c8s_informer *inf;
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    int kills = 0;
    unsigned lists_before;

    start_cluster(N);
    write_ha_kubeconfig(ms[0].api, path, sizeof path);
    c = client_from(path);
    ASSERT_EQ(req(c, "POST", "/api/v1/namespaces",
                  "{\"metadata\":{\"name\":\"load\"}}", &r, &err), 0);
    c8s_response_clear(&r);
    inf = informer(c, "/api/v1/namespaces/load/configmaps", &s, 0, 0);
    run(inf, 200);
    ASSERT(c8s_informer_synced(inf));
    lists_before = c8s_informer_lists(inf);

    for (int i = 0; i < WRITERS; i++) {
        w[i].id = i;
        snprintf(w[i].kubeconfig, sizeof w[i].kubeconfig, "%s", path);
        ASSERT(pthread_create(&w[i].t, NULL, write_load, &w[i]) == 0);
    }
    /* The informer follows while the writers write; at a third and at two
     * thirds of the way the leader is killed, and restarted a bit later. */
    int dead = -1;
    unsigned killed_at = 0;
    while (total_done(w) < WRITERS * OPS_PER_WRITER) {
        unsigned done = total_done(w);
        bool writers_alive = false;

        for (int i = 0; i < WRITERS; i++)
            writers_alive |= w[i].done < OPS_PER_WRITER && w[i].error[0] == 0;
        if (!writers_alive)
            break;
        if (dead < 0 && kills < 2 &&
            done >= (unsigned)(kills + 1) * WRITERS * OPS_PER_WRITER / 3) {
            dead = leader_index();
            if (dead >= 0) {
                tproc_signal(ms[dead].p, SIGKILL);
                (void)tproc_stop(ms[dead].p, 5000);
                kills++;
                killed_at = done;
            }
        } else if (dead >= 0 && done >= killed_at + 500) {
            tproc_restart(ms[dead].p);
            dead = -1;
        }
        run(inf, 100);
    }
    writers_stop = 1;
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(w[i].t, NULL);
        ASSERT_MSG(w[i].error[0] == '\0', "writer %d: %s", i, w[i].error);
    }
    ASSERT_EQ(kills, 2);
    ASSERT_UEQ(total_done(w), WRITERS * OPS_PER_WRITER);
    expect_exact(c, "/api/v1/namespaces/load/configmaps", inf, &s);
    fprintf(stderr, "# informer: %u adds, %u updates, %u deletes, %u lists; "
            "writers saw %u unknown outcomes\n", s.adds, s.updates, s.deletes,
            c8s_informer_lists(inf) - lists_before + 1,
            w[0].unknown + w[1].unknown + w[2].unknown + w[3].unknown);
    ASSERT(s.adds + s.updates + s.deletes >= 1000);
    c8s_informer_free(inf);
    c8s_client_free(c);
}

int main(int argc, char **argv)
{
    (void)unsetenv("KUBECONFIG");
    return unit_main(argc, argv);
}
