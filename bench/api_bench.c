/* api-bench: the Kubernetes API of a 3-member c8s cluster on loopback,
 * over HTTPS, side by side with the same load against a 3-member etcd 3.4
 * cluster through its v3 JSON gateway (plain HTTP), in one run:
 *
 *   creates of 1 KiB ConfigMaps (etcd: puts) at several connection counts,
 *   GET of one object (etcd: linearizable range of one key) at 64,
 *   LIST of 1,000 1 KiB ConfigMaps (etcd: a 1,000-key range) and of 10k
 *   Pods (c8s only), watch fan-out to 1,000 watchers on one member
 *   (write acknowledged -> event received), member RSS idle and after
 *   100k 1 KiB objects, and leader kill -9 -> next successful create.
 *
 * Clusters run one after the other, never at the same time. It prints
 * figures and asserts nothing. Everything it starts is removed at exit,
 * on SIGINT/SIGTERM, on errors and when --timeout-s expires. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bench/common.h"
#include "bench/hload.h"

#define N_NODES 3
#define MAX_LEVELS 8
#define MAX_CONNS 1024

enum sys { SYS_C8S, SYS_ETCD };

/* ---- options
 * ----------------------------------------------------------------*/

static struct {
    const char *master;
    const char *etcd;
    const char *dir;
    unsigned levels[MAX_LEVELS], n_levels;
    unsigned duration_ms, warmup_ms;
    unsigned get_conns;
    unsigned long objects, list_objects, pods;
    unsigned list_runs, watchers, watch_writes, failovers;
    unsigned timeout_s;
    unsigned rbac_rounds;
    unsigned cr_rounds;
    bool no_etcd;
} o = {
    .master = "./c8s-master",
    .etcd = "/usr/bin/etcd",
    .levels = {1, 16, 64, 256},
    .n_levels = 4,
    .duration_ms = 5000,
    .warmup_ms = 1000,
    .get_conns = 64,
    .objects = 100000,
    .list_objects = 1000,
    .pods = 10000,
    .list_runs = 20,
    .watchers = 1000,
    .watch_writes = 200,
    .failovers = 3,
    .timeout_s = 1800,
    .rbac_rounds = 3,
    .cr_rounds = 3,
};

static const char usage_text[] =
    "usage: api-bench [options]\n"
    "The Kubernetes API of a 3-member c8s cluster over HTTPS on loopback,\n"
    "and the same load against 3 etcd 3.4 members (v3 JSON gateway), one\n"
    "after the other; prints figures, asserts nothing.\n\n"
    "  --master PATH        c8s-master binary (default ./c8s-master)\n"
    "  --etcd PATH          etcd binary (default /usr/bin/etcd)\n"
    "  --no-etcd            measure c8s only\n"
    "  --dir DIR            put the temp data dirs under DIR ($TMPDIR, /tmp)\n"
    "  --levels N,N,...     create connections per level (1,16,64,256)\n"
    "  --duration-ms MS     measured window per level and for GET (5000)\n"
    "  --warmup-ms MS       warm-up before each window (1000)\n"
    "  --objects N          objects stored before the RSS figure (100000)\n"
    "  --pods N             pods for the big LIST (10000)\n"
    "  --list-runs N        LIST repetitions (20)\n"
    "  --watchers N         watchers on one member (1000)\n"
    "  --watch-writes N     writes whose events are timed (200)\n"
    "  --failovers N        leader kill -9 rounds (3)\n"
    "  --rbac-rounds N      c8s creates x64 as admin and as a user that\n"
    "                       RBAC must check, N rounds of both in\n"
    "                       alternating order (3; 0: skip)\n"
    "  --cr-rounds N        c8s creates x64 of ConfigMaps and of a custom\n"
    "                       resource of the same size, alternating (3; 0: none)\n"
    "  --timeout-s S        give up and clean up after S seconds (1800)\n"
    "  --quick              smoke run: small numbers, a few seconds each\n"
    "  --help\n";

/* ---- processes and cleanup
 * ----------------------------------------------------*/

struct node {
    char name[16];
    int peer_port, client_port;
    char dir[600], log[640];
    volatile pid_t pid;
};

struct cluster {
    enum sys sys;
    const char *label;
    struct node n[N_NODES];
    struct hl_endpoint ep[N_NODES];
    SSL_CTX *tls;
};

static struct cluster *live; /* the running cluster, for cleanup */
static char tmpdir[512];

static void cleanup_now(void)
{
    for (int i = 0; live != NULL && i < N_NODES; i++)
        bench_kill(&live->n[i].pid);
    bench_rm_tree(tmpdir);
}


static void node_start(struct cluster *cl, int i)
{
    struct node *n = &cl->n[i];
    char peer[40], api[40], spec[400], purl[64], curl[64], cspec[600];
    const char *argv[40];
    size_t len = 0;

    snprintf(peer, sizeof peer, "127.0.0.1:%d", n->peer_port);
    snprintf(api, sizeof api, "127.0.0.1:%d", n->client_port);
    for (int k = 0; k < N_NODES; k++)
        len += (size_t)snprintf(
            (cl->sys == SYS_C8S ? spec : cspec) + len,
            (cl->sys == SYS_C8S ? sizeof spec : sizeof cspec) - len,
            cl->sys == SYS_C8S ? "%s%s=127.0.0.1:%d"
                               : "%s%s=http://127.0.0.1:%d",
            k ? "," : "", cl->n[k].name, cl->n[k].peer_port);
    if (cl->sys == SYS_C8S) {
        const char *a[] = {o.master,
                           "--name",
                           n->name,
                           "--data-dir",
                           n->dir,
                           "--peer-listen",
                           peer,
                           "--initial-cluster",
                           spec,
                           "--api-listen",
                           api,
                           "--token",
                           "api-bench-token",
                           NULL};
        memcpy(argv, a, sizeof a);
    } else {
        snprintf(purl, sizeof purl, "http://%s", peer);
        snprintf(curl, sizeof curl, "http://%s", api);
        const char *a[] = {o.etcd,      "--name",
                           n->name,     "--data-dir",
                           n->dir,      "--listen-peer-urls",
                           purl,        "--initial-advertise-peer-urls",
                           purl,        "--listen-client-urls",
                           curl,        "--advertise-client-urls",
                           curl,        "--initial-cluster",
                           cspec,       "--initial-cluster-state",
                           "new",       "--initial-cluster-token",
                           "api-bench", "--log-level",
                           "warn",      NULL};
        memcpy(argv, a, sizeof a);
    }
    n->pid = bench_spawn(argv, n->log);
}

static void node_kill(struct cluster *cl, int i)
{
    bench_kill(&cl->n[i].pid);
}

static void check_alive(struct cluster *cl)
{
    for (int i = 0; i < N_NODES; i++) {
        int status;
        pid_t pid = cl->n[i].pid;
        if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
            cl->n[i].pid = 0;
            bench_die("%s member %s exited on its own (see %s)", cl->label,
                      cl->n[i].name, cl->n[i].log);
        }
    }
}

/* ---- requests of each system
 * --------------------------------------------------*/

static char value[1025]; /* 1 KiB of data */
static char value_b64[1400];

struct req {
    const char *method;
    char path[256];
    const char *ctype;
    char body[4096];
    size_t len;
    int ok; /* the status that means success */
};

static void b64(const char *s, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s,
                    (int)strlen(s));
}

static void req_create(const struct cluster *cl,
                       const char *ns,
                       unsigned long seq,
                       const char *prefix,
                       struct req *r)
{
    char name[64], key[160], kb[256];

    snprintf(name, sizeof name, "%s%lu", prefix, seq);
    r->ctype = "application/json";
    r->method = "POST";
    if (cl->sys == SYS_C8S) {
        snprintf(r->path, sizeof r->path, "/api/v1/namespaces/%s/configmaps",
                 ns);
        r->len = (size_t)snprintf(
            r->body, sizeof r->body,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
            "{\"name\":\"%s\"},\"data\":{\"v\":\"%s\"}}",
            name, value);
        r->ok = 201;
    } else {
        snprintf(key, sizeof key, "/%s/%s", ns, name);
        b64(key, kb);
        snprintf(r->path, sizeof r->path, "/v3/kv/put");
        r->len = (size_t)snprintf(r->body, sizeof r->body,
                                  "{\"key\":\"%s\",\"value\":\"%s\"}", kb,
                                  value_b64);
        r->ok = 200;
    }
}

static void req_get(const struct cluster *cl,
                    const char *ns,
                    const char *name,
                    struct req *r)
{
    char key[160], kb[256];

    if (cl->sys == SYS_C8S) {
        r->method = "GET";
        r->ctype = NULL;
        snprintf(r->path, sizeof r->path, "/api/v1/namespaces/%s/configmaps/%s",
                 ns, name);
        r->len = 0;
    } else {
        r->method = "POST";
        r->ctype = "application/json";
        snprintf(key, sizeof key, "/%s/%s", ns, name);
        b64(key, kb);
        snprintf(r->path, sizeof r->path, "/v3/kv/range");
        r->len =
            (size_t)snprintf(r->body, sizeof r->body, "{\"key\":\"%s\"}", kb);
    }
    r->ok = 200;
}

/* Everything in namespace (etcd: key prefix) @ns. */
static void req_list(const struct cluster *cl,
                     const char *ns,
                     const char *resource,
                     struct req *r)
{
    char key[160], end[160], kb[256], eb[256];

    if (cl->sys == SYS_C8S) {
        r->method = "GET";
        r->ctype = NULL;
        snprintf(r->path, sizeof r->path, "/api/v1/namespaces/%s/%s", ns,
                 resource);
        r->len = 0;
    } else {
        r->method = "POST";
        r->ctype = "application/json";
        snprintf(key, sizeof key, "/%s/", ns);
        snprintf(end, sizeof end, "/%s0", ns); /* '0' follows '/' */
        b64(key, kb);
        b64(end, eb);
        snprintf(r->path, sizeof r->path, "/v3/kv/range");
        r->len =
            (size_t)snprintf(r->body, sizeof r->body,
                             "{\"key\":\"%s\",\"range_end\":\"%s\"}", kb, eb);
    }
    r->ok = 200;
}

static void req_watch(const struct cluster *cl, const char *ns, struct req *r)
{
    req_list(cl, ns, "configmaps", r);
    if (cl->sys == SYS_C8S) {
        strcat(r->path, "?watch=1");
    } else {
        char inner[1024];
        snprintf(inner, sizeof inner, "%.*s", (int)r->len, r->body);
        snprintf(r->path, sizeof r->path, "/v3/watch");
        r->len = (size_t)snprintf(r->body, sizeof r->body,
                                  "{\"create_request\":%s}", inner);
    }
}

static void req_pod(const char *ns, unsigned long seq, struct req *r)
{
    r->method = "POST";
    r->ctype = "application/json";
    snprintf(r->path, sizeof r->path, "/api/v1/namespaces/%s/pods", ns);
    r->len = (size_t)snprintf(
        r->body, sizeof r->body,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
        "\"web-7c5ddbdf54-%05lu\",\"labels\":{\"app\":\"web\","
        "\"pod-template-hash\":\"7c5ddbdf54\"},\"ownerReferences\":[{"
        "\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":"
        "\"web-7c5ddbdf54\",\"uid\":\"3f1b6c1e-9a55-4d0e-8a55-1f2b3c4d5e6f\","
        "\"controller\":true,\"blockOwnerDeletion\":true}]},\"spec\":{"
        "\"nodeName\":\"node-%lu\",\"containers\":[{\"name\":\"web\","
        "\"image\":\"registry.example.com/team/web:1.27.3\",\"ports\":[{"
        "\"containerPort\":8080,\"name\":\"http\"}],\"env\":[{\"name\":"
        "\"MODE\",\"value\":\"production\"}],\"resources\":{\"requests\":{"
        "\"cpu\":\"100m\",\"memory\":\"128Mi\"},\"limits\":{\"memory\":"
        "\"256Mi\"}},\"readinessProbe\":{\"httpGet\":{\"path\":\"/healthz\","
        "\"port\":\"http\"}}}]}}",
        seq, seq % 100);
    r->ok = 201;
}

/* ---- connections to a cluster
 * ---------------------------------------------------*/

static struct hl_loop *loop;

static struct hl_conn *connect_to(struct cluster *cl, int i)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        struct hl_conn *c = hl_connect(loop, &cl->ep[i], 2000);
        if (c != NULL)
            return c;
        usleep(100000);
    }
    bench_die("cannot connect to %s member %d", cl->label, i);
}

static int request(struct cluster *cl,
                   int i,
                   const struct req *r,
                   unsigned timeout_ms,
                   char **body)
{
    struct hl_conn *c = hl_connect(loop, &cl->ep[i], timeout_ms);
    int st;

    if (c == NULL)
        return HL_ERR_IO;
    st = hl_request_sync(loop, c, r->method, r->path, r->ctype,
                         r->len ? r->body : NULL, r->len, timeout_ms, body);
    hl_close(c);
    return st;
}

static bool ready(struct cluster *cl, int i)
{
    struct req r = {.method = "GET", .ok = 200};
    char *body = NULL;
    bool ok;

    snprintf(r.path, sizeof r.path, cl->sys == SYS_C8S ? "/readyz" : "/health");
    ok = request(cl, i, &r, 1000, &body) == 200 &&
         (cl->sys == SYS_C8S || strstr(body, "true") != NULL);
    free(body);
    return ok;
}

static void wait_ready(struct cluster *cl, int i, unsigned timeout_ms)
{
    uint64_t end = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;

    while (!ready(cl, i)) {
        check_alive(cl);
        if (bench_now_ns() > end)
            bench_die("%s member %d not ready after %u ms (log: %s)", cl->label,
                      i, timeout_ms, cl->n[i].log);
        usleep(100000);
    }
}

static bool is_leader(struct cluster *cl, int i)
{
    struct req r = {.method = "GET", .ok = 200};
    char *body = NULL, mid[64] = "", lid[64] = "";
    bool yes = false;

    if (cl->sys == SYS_C8S) {
        snprintf(r.path, sizeof r.path, "/metrics");
        if (request(cl, i, &r, 1000, &body) == 200)
            yes = strstr(body, "\nc8s_raft_is_leader 1") != NULL;
    } else {
        r.method = "POST";
        r.ctype = "application/json";
        snprintf(r.path, sizeof r.path, "/v3/maintenance/status");
        r.len = (size_t)snprintf(r.body, sizeof r.body, "{}");
        if (request(cl, i, &r, 1000, &body) == 200) {
            const char *m = strstr(body, "\"member_id\":\"");
            const char *l = strstr(body, "\"leader\":\"");
            if (m && l && sscanf(m + 13, "%63[0-9]", mid) == 1 &&
                sscanf(l + 10, "%63[0-9]", lid) == 1)
                yes = strcmp(mid, lid) == 0;
        }
    }
    free(body);
    return yes;
}

static int find_leader(struct cluster *cl)
{
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < N_NODES; i++)
            if (cl->n[i].pid > 0 && is_leader(cl, i))
                return i;
        usleep(100000);
    }
    bench_die("%s: no leader found", cl->label);
}

/* ---- closed-loop load
 * ------------------------------------------------------------*/

typedef void (*build_fn)(struct cluster *cl, unsigned long seq, struct req *r);

static struct load {
    struct cluster *cl;
    build_fn build;
    unsigned n;
    struct hl_conn *conns[MAX_CONNS];
    uint64_t sent[MAX_CONNS];
    uint64_t measure_from, end; /* 0: no time limit */
    unsigned long limit;        /* stop sending after this many (0: none) */
    unsigned long seq, sent_n, ok, failed;
    int want;
    struct samples lat;
} L;

static void load_done(struct hl_conn *c,
                      int status,
                      const char *body,
                      size_t len)
{
    size_t k = (size_t)(uintptr_t)hl_user(c);
    uint64_t now = bench_now_ns();

    (void)body;
    (void)len;
    if (status == L.want) {
        L.ok++;
        if (L.sent[k] >= L.measure_from)
            samples_add(&L.lat, now - L.sent[k]);
    } else {
        L.failed++;
        if (L.failed <= 3)
            bench_note("%s: status %d: %.200s", L.cl->label, status,
                       body ? body : "");
    }
}

static void load_send(unsigned k)
{
    struct req r;

    L.build(L.cl, L.seq++, &r);
    L.want = r.ok;
    L.sent[k] = bench_now_ns();
    L.sent_n++;
    if (hl_send(L.conns[k], r.method, r.path, r.ctype, r.len ? r.body : NULL,
                r.len, load_done, NULL, 10000) != 0)
        L.failed++;
}

/* Run @build on @n connections spread over the members: for @window_ms
 * after @warm_ms (measured), or until @limit requests were sent. */
static void load_run(struct cluster *cl,
                     build_fn build,
                     unsigned n,
                     unsigned warm_ms,
                     unsigned window_ms,
                     unsigned long limit)
{
    uint64_t start = bench_now_ns();

    samples_reset(&L.lat);
    L.cl = cl;
    L.build = build;
    L.n = n;
    L.ok = L.failed = L.sent_n = L.seq = 0;
    L.limit = limit;
    L.measure_from = start + (uint64_t)warm_ms * 1000000u;
    L.end = window_ms ? L.measure_from + (uint64_t)window_ms * 1000000u : 0;
    for (unsigned k = 0; k < n; k++) {
        L.conns[k] = connect_to(cl, (int)(k % N_NODES));
        hl_set_user(L.conns[k], (void *)(uintptr_t)k);
    }
    for (;;) {
        uint64_t now = bench_now_ns();
        bool sending =
            (L.end == 0 || now < L.end) && (L.limit == 0 || L.sent_n < L.limit);
        unsigned busy = 0;
        for (unsigned k = 0; k < n; k++) {
            if (hl_conn_dead(L.conns[k])) {
                hl_close(L.conns[k]);
                L.conns[k] = connect_to(cl, (int)(k % N_NODES));
                hl_set_user(L.conns[k], (void *)(uintptr_t)k);
            }
            if (!hl_conn_busy(L.conns[k]) && sending &&
                (L.limit == 0 || L.sent_n < L.limit))
                load_send(k);
            busy += hl_conn_busy(L.conns[k]);
        }
        if (!sending && busy == 0)
            break;
        hl_run_once(loop, 5);
    }
    for (unsigned k = 0; k < n; k++)
        hl_close(L.conns[k]);
    samples_sort(&L.lat);
}

static unsigned long name_seq;

static void build_create(struct cluster *cl, unsigned long seq, struct req *r)
{
    (void)seq;
    req_create(cl, "bench", name_seq++, "cm-", r);
}

/* A custom object (bench.c8s.io/v1 Widget) holding the same 1 KiB. */
static void build_cr_create(struct cluster *cl, unsigned long seq,
                            struct req *r)
{
    (void)cl;
    (void)seq;
    r->ctype = "application/json";
    r->method = "POST";
    snprintf(r->path, sizeof r->path,
             "/apis/bench.c8s.io/v1/namespaces/bench/widgets");
    r->len = (size_t)snprintf(
        r->body, sizeof r->body,
        "{\"apiVersion\":\"bench.c8s.io/v1\",\"kind\":\"Widget\",\"metadata\":"
        "{\"name\":\"w-%lu\"},\"spec\":{\"v\":\"%s\"}}",
        name_seq++, value);
    r->ok = 201;
}

static void build_fill(struct cluster *cl, unsigned long seq, struct req *r)
{
    req_create(cl, "rss", seq, "o-", r);
}

static void build_list_fill(struct cluster *cl,
                            unsigned long seq,
                            struct req *r)
{
    req_create(cl, "list1k", seq, "l-", r);
}

static void build_pod(struct cluster *cl, unsigned long seq, struct req *r)
{
    (void)cl;
    req_pod("pods10k", seq, r);
}

static void build_get(struct cluster *cl, unsigned long seq, struct req *r)
{
    (void)seq;
    req_get(cl, "list1k", "l-0", r);
}

/* ---- results
 * ---------------------------------------------------------------------*/

struct level {
    unsigned conns;
    double rate, p50, p99;
    unsigned long failed;
};

struct result {
    bool ran;
    double rss_idle, rss_full;
    unsigned long full_objects;
    struct level create[MAX_LEVELS];
    struct level get;
    double list_p50, list_p99;
    size_t list_bytes;
    double pods_p50, pods_p99;
    size_t pods_bytes;
    double watch_p50, watch_p99;
    unsigned long watch_events, watch_missing;
    double fo[64], fo_median;
    unsigned n_fo;
    double rbac_admin[16], rbac_user[16]; /* creates/s per round */
    unsigned n_rbac;
    double cr_cm[16], cr_obj[16]; /* creates/s per round */
    unsigned n_cr;
};

static struct result results[2];

static double max_rss(struct cluster *cl)
{
    double m = -1;

    for (int i = 0; i < N_NODES; i++) {
        double r = bench_rss_mib(cl->n[i].pid);
        if (r > m)
            m = r;
    }
    return m;
}

static void measure_level(struct cluster *cl,
                          unsigned conns,
                          struct level *lv,
                          build_fn build)
{
    load_run(cl, build, conns, o.warmup_ms, o.duration_ms, 0);
    lv->conns = conns;
    lv->rate = (double)L.lat.n / ((double)o.duration_ms / 1000.0);
    lv->p50 = samples_pct_ms(&L.lat, 0.50);
    lv->p99 = samples_pct_ms(&L.lat, 0.99);
    lv->failed = L.failed;
}

/* Sequential LISTs, round robin over the members. */
static void measure_list(struct cluster *cl,
                         const char *ns,
                         const char *resource,
                         unsigned long want_items,
                         double *p50,
                         double *p99,
                         size_t *bytes)
{
    struct samples s = {0};
    struct hl_conn *c[N_NODES];
    struct req r;
    char *body = NULL;

    req_list(cl, ns, resource, &r);
    for (int i = 0; i < N_NODES; i++)
        c[i] = connect_to(cl, i);
    for (unsigned k = 0; k < o.list_runs + 1; k++) {
        uint64_t t0 = bench_now_ns();
        int st =
            hl_request_sync(loop, c[k % N_NODES], r.method, r.path, r.ctype,
                            r.len ? r.body : NULL, r.len, 30000, &body);
        uint64_t t1 = bench_now_ns();
        if (st != 200)
            bench_die("%s LIST %s: status %d", cl->label, ns, st);
        if (k > 0) /* the first warms caches */
            samples_add(&s, t1 - t0);
        *bytes = strlen(body);
        free(body);
    }
    for (int i = 0; i < N_NODES; i++)
        hl_close(c[i]);
    samples_sort(&s);
    *p50 = samples_pct_ms(&s, 0.5);
    *p99 = samples_pct_ms(&s, 0.99);
    samples_free(&s);
    (void)want_items;
}

/* ---- watch fan-out
 * -----------------------------------------------------------------*/

static struct {
    struct cluster *cl;
    unsigned n;
    struct hl_conn *conns[MAX_CONNS];
    char *pending[MAX_CONNS]; /* undelivered text of each stream */
    size_t plen[MAX_CONNS];
    uint64_t *ev_at;  /* [write * n + watcher], 0: not seen */
    uint64_t *ack_at; /* [write] */
    unsigned writes;
    unsigned long events;
} W;

/* The write number named in one event's text, or -1. */
static long event_write(const char *s, size_t len)
{
    static const char tag[] = "w-";
    char key[256];

    if (W.cl->sys == SYS_C8S) {
        const char *p = memmem(s, len, "\"name\":\"w-", 10);
        return p ? strtol(p + 10, NULL, 10) : -1;
    }
    const char *p = memmem(s, len, "\"key\":\"", 7);
    if (p == NULL)
        return -1;
    p += 7;
    const char *q = memchr(p, '"', len - (size_t)(p - s));
    if (q == NULL || q - p > 300)
        return -1;
    int n = EVP_DecodeBlock((unsigned char *)key, (const unsigned char *)p,
                            (int)(q - p));
    if (n <= 0)
        return -1;
    key[n < 255 ? n : 255] = '\0';
    char *w = strstr(key, tag);
    return w ? strtol(w + 2, NULL, 10) : -1;
}

/* Events are one JSON document per line (c8s) or back to back (etcd's
 * gateway ends each with a newline too). */
static void watch_data(struct hl_conn *c, const char *data, size_t len)
{
    size_t k = (size_t)(uintptr_t)hl_user(c);
    uint64_t now = bench_now_ns();
    char *buf = realloc(W.pending[k], W.plen[k] + len);

    if (buf == NULL)
        bench_die("out of memory");
    memcpy(buf + W.plen[k], data, len);
    W.pending[k] = buf;
    W.plen[k] += len;
    size_t start = 0;
    for (;;) {
        char *nl = memchr(buf + start, '\n', W.plen[k] - start);
        if (nl == NULL)
            break;
        size_t line = (size_t)(nl - (buf + start));
        long w = event_write(buf + start, line);
        if (w >= 0 && (unsigned long)w < W.writes &&
            W.ev_at[(size_t)w * W.n + k] == 0) {
            W.ev_at[(size_t)w * W.n + k] = now;
            W.events++;
        }
        start += line + 1;
    }
    memmove(buf, buf + start, W.plen[k] - start);
    W.plen[k] -= start;
}

static void watch_end(struct hl_conn *c, int status, const char *b, size_t n)
{
    (void)c;
    (void)b;
    (void)n;
    if (status != 200)
        bench_note("%s: a watch ended with %d", W.cl->label, status);
}

static void measure_watch(struct cluster *cl, struct result *res)
{
    struct req r;
    struct samples s = {0};
    struct hl_conn *writer;

    memset(&W, 0, sizeof W);
    W.cl = cl;
    W.n = o.watchers;
    W.writes = o.watch_writes;
    W.ev_at = calloc((size_t)W.n * W.writes, sizeof *W.ev_at);
    W.ack_at = calloc(W.writes, sizeof *W.ack_at);
    if (W.ev_at == NULL || W.ack_at == NULL)
        bench_die("out of memory");
    req_watch(cl, "watch", &r);
    for (unsigned k = 0; k < W.n; k++) {
        W.conns[k] = connect_to(cl, 0);
        hl_set_user(W.conns[k], (void *)(uintptr_t)k);
        if (hl_send(W.conns[k], r.method, r.path, r.ctype,
                    r.len ? r.body : NULL, r.len, watch_end, watch_data,
                    0) != 0)
            bench_die("cannot start watch %u", k);
    }
    for (uint64_t end = bench_now_ns() + 2000000000u; bench_now_ns() < end;)
        hl_run_once(loop, 10);
    writer = connect_to(cl, 0);
    for (unsigned w = 0; w < W.writes; w++) {
        struct req c;
        req_create(cl, "watch", w, "w-", &c);
        int st = hl_request_sync(loop, writer, c.method, c.path, c.ctype,
                                 c.body, c.len, 10000, NULL);
        W.ack_at[w] = bench_now_ns();
        if (st != c.ok)
            bench_die("%s watch write %u: status %d", cl->label, w, st);
        for (uint64_t end = bench_now_ns() + 20000000u; bench_now_ns() < end;)
            hl_run_once(loop, 2);
    }
    for (uint64_t end = bench_now_ns() + 5000000000u;
         bench_now_ns() < end && W.events < (unsigned long)W.n * W.writes;)
        hl_run_once(loop, 10);
    for (unsigned w = 0; w < W.writes; w++)
        for (unsigned k = 0; k < W.n; k++) {
            uint64_t at = W.ev_at[(size_t)w * W.n + k];
            if (at != 0)
                samples_add(&s, at > W.ack_at[w] ? at - W.ack_at[w] : 0);
        }
    samples_sort(&s);
    res->watch_p50 = samples_pct_ms(&s, 0.5);
    res->watch_p99 = samples_pct_ms(&s, 0.99);
    res->watch_events = W.events;
    res->watch_missing = (unsigned long)W.n * W.writes - W.events;
    hl_close(writer);
    for (unsigned k = 0; k < W.n; k++) {
        hl_close(W.conns[k]);
        free(W.pending[k]);
    }
    free(W.ev_at);
    free(W.ack_at);
    samples_free(&s);
}

/* ---- failover
 * ------------------------------------------------------------------------*/

static double failover_once(struct cluster *cl, unsigned round)
{
    int leader = find_leader(cl);
    uint64_t t0, t1;
    struct req r;
    int target = (leader + 1) % N_NODES;

    node_kill(cl, leader);
    t0 = bench_now_ns();
    for (unsigned long k = 0;; k++) {
        req_create(cl, "failover", round * 100000ul + k, "f-", &r);
        int st = request(cl, target, &r, 2000, NULL);
        if (st == r.ok)
            break;
        if (bench_now_ns() - t0 > 60000000000u)
            bench_die("%s: no successful create 60 s after the kill",
                      cl->label);
        target = target % N_NODES == (leader + 1) % N_NODES
                     ? (leader + 2) % N_NODES
                     : (leader + 1) % N_NODES;
        usleep(5000);
    }
    t1 = bench_now_ns();
    node_start(cl, leader);
    wait_ready(cl, leader, 60000);
    for (int i = 0; i < N_NODES; i++)
        wait_ready(cl, i, 60000);
    sleep(1);
    return bench_ms(t1 - t0);
}

/* ---- one system
 * ----------------------------------------------------------------------*/

static void cluster_setup(struct cluster *cl, enum sys sys)
{
    memset(cl, 0, sizeof *cl);
    cl->sys = sys;
    cl->label = sys == SYS_C8S ? "c8s" : "etcd";
    for (int i = 0; i < N_NODES; i++) {
        struct node *n = &cl->n[i];
        snprintf(n->name, sizeof n->name, "%s%d", sys == SYS_C8S ? "m" : "e",
                 i);
        n->peer_port = bench_free_port();
        n->client_port = bench_free_port();
        snprintf(n->dir, sizeof n->dir, "%s/%s", tmpdir, n->name);
        snprintf(n->log, sizeof n->log, "%s/%s.log", tmpdir, n->name);
        cl->ep[i].port = n->client_port;
    }
}

static void cluster_start(struct cluster *cl)
{
    char ca[700], cert[700], key[700];

    live = cl;
    for (int i = 0; i < N_NODES; i++)
        node_start(cl, i);
    if (cl->sys == SYS_C8S) {
        snprintf(ca, sizeof ca, "%s/pki/ca.crt", cl->n[0].dir);
        snprintf(cert, sizeof cert, "%s/pki/admin.crt", cl->n[0].dir);
        snprintf(key, sizeof key, "%s/pki/admin.key", cl->n[0].dir);
        for (int t = 0; access(key, R_OK) != 0; t++) {
            check_alive(cl);
            if (t > 600)
                bench_die("c8s wrote no admin credentials in 60 s (%s)",
                          cl->n[0].log);
            usleep(100000);
        }
        usleep(200000);
        cl->tls = hl_tls_client(ca, cert, key);
        for (int i = 0; i < N_NODES; i++)
            cl->ep[i].tls = cl->tls;
    }
    for (int i = 0; i < N_NODES; i++)
        wait_ready(cl, i, 60000);
}

static void cluster_stop(struct cluster *cl)
{
    for (int i = 0; i < N_NODES; i++)
        node_kill(cl, i);
    if (cl->tls != NULL)
        SSL_CTX_free(cl->tls);
    live = NULL;
}

static void make_namespaces(struct cluster *cl)
{
    static const char *const names[] = {"bench",   "rss",   "list1k",
                                        "pods10k", "watch", "failover"};
    struct req r = {.method = "POST", .ctype = "application/json"};

    if (cl->sys != SYS_C8S)
        return;
    snprintf(r.path, sizeof r.path, "/api/v1/namespaces");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        r.len = (size_t)snprintf(r.body, sizeof r.body,
                                 "{\"metadata\":{\"name\":\"%s\"}}", names[i]);
        int st = request(cl, 0, &r, 10000, NULL);
        if (st != 201)
            bench_die("creating namespace %s: status %d", names[i], st);
    }
}

static void fill(struct cluster *cl,
                 build_fn build,
                 unsigned long n,
                 const char *what)
{
    uint64_t t0 = bench_now_ns();

    if (n == 0)
        return;
    load_run(cl, build, 64, 0, 0, n);
    bench_note("%s: %lu %s in %.1f s (%lu failed)", cl->label, L.ok, what,
               bench_ms(bench_now_ns() - t0) / 1000, L.failed);
}

/* ---- RBAC cost ------------------------------------------------------------*/

/* A client certificate for CN=bench-user, O=bench-writers, signed with the
 * cluster CA in @pki, written to @cert_out and @key_out. */
static void issue_user_cert(const char *pki, const char *cert_out,
                            const char *key_out)
{
    char path[1400];
    FILE *f;
    X509 *ca, *x = X509_new();
    EVP_PKEY *ca_key, *key = EVP_EC_gen("P-256");
    X509V3_CTX v3;
    X509_EXTENSION *eku;
    X509_NAME *n;

    snprintf(path, sizeof path, "%s/ca.crt", pki);
    if ((f = fopen(path, "r")) == NULL ||
        (ca = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
        bench_die("cannot read %s", path);
    fclose(f);
    snprintf(path, sizeof path, "%s/ca.key", pki);
    if ((f = fopen(path, "r")) == NULL ||
        (ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
        bench_die("cannot read %s", path);
    fclose(f);
    if (x == NULL || key == NULL)
        bench_die("out of memory");
    (void)X509_set_version(x, 2);
    (void)ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
    (void)X509_gmtime_adj(X509_getm_notBefore(x), -60);
    (void)X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
    (void)X509_set_pubkey(x, key);
    n = X509_get_subject_name(x);
    (void)X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                                     (const unsigned char *)"bench-writers",
                                     -1, -1, 0);
    (void)X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                                     (const unsigned char *)"bench-user", -1,
                                     -1, 0);
    (void)X509_set_issuer_name(x, X509_get_subject_name(ca));
    X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
    eku = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "clientAuth");
    if (eku == NULL || X509_add_ext(x, eku, -1) != 1 ||
        X509_sign(x, ca_key, EVP_sha256()) == 0)
        bench_die("cannot sign the bench user's certificate");
    if ((f = fopen(key_out, "w")) == NULL ||
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1)
        bench_die("cannot write %s", key_out);
    fclose(f);
    if ((f = fopen(cert_out, "w")) == NULL || PEM_write_X509(f, x) != 1)
        bench_die("cannot write %s", cert_out);
    fclose(f);
    X509_EXTENSION_free(eku);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
}

static void use_tls(struct cluster *cl, SSL_CTX *tls)
{
    for (int i = 0; i < N_NODES; i++)
        cl->ep[i].tls = tls;
}

/* Two kinds of creates at 64 connections, round after round, in alternating
 * order (A-B, B-A, ...): creates slow down as the store grows, and the
 * drift then favours neither. */
struct rounds {
    const char *what[2];        /* For the notes: "as admin", ... */
    build_fn build[2];          /* The requests of each kind. */
    void (*use)(struct cluster *cl, int side); /* Switch before (or NULL). */
    double *rate[2];            /* Creates/s per round, of each kind. */
};

static void alternate(struct cluster *cl, unsigned n, const struct rounds *rr,
                      unsigned *done)
{
    struct level lv;

    for (unsigned r = 0; r < n; r++) {
        for (int k = 0; k < 2; k++) {
            int side = (k == 0) == (r % 2 == 1);
            if (rr->use != NULL)
                rr->use(cl, side);
            measure_level(cl, 64, &lv, rr->build[side]);
            if (lv.failed > 0) /* the first ones were noted */
                bench_note("%s: %lu creates %s failed", cl->label, lv.failed,
                           rr->what[side]);
            rr->rate[side][r] = lv.rate;
        }
        *done = r + 1;
        bench_note("%s: round %u: create x64 %s %.0f/s, %s %.0f/s", cl->label,
                   r + 1, rr->what[0], rr->rate[0][r], rr->what[1],
                   rr->rate[1][r]);
    }
}

static SSL_CTX *admin_tls, *user_tls;

static void use_user(struct cluster *cl, int as_user)
{
    use_tls(cl, as_user ? user_tls : admin_tls);
}

/* Creates at 64 connections as system:masters (no RBAC lookup) and as
 * bench-user, whom a ClusterRoleBinding of the group bench-writers to
 * `edit` lets create ConfigMaps (RBAC decides every request). */
static void measure_rbac(struct cluster *cl, struct result *res)
{
    static const char binding[] =
        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":"
        "\"ClusterRoleBinding\",\"metadata\":{\"name\":\"bench-edit\"},"
        "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":"
        "\"ClusterRole\",\"name\":\"edit\"},\"subjects\":[{\"kind\":"
        "\"Group\",\"name\":\"bench-writers\"}]}";
    struct rounds rr = {{"as admin", "as an RBAC user"},
                        {build_create, build_create},
                        use_user,
                        {res->rbac_admin, res->rbac_user}};
    char pki[1200], cert[1300], key[1300], ca[1300];
    struct hl_conn *c;
    int status;

    snprintf(pki, sizeof pki, "%s/pki", cl->n[0].dir);
    snprintf(ca, sizeof ca, "%s/ca.crt", pki);
    snprintf(cert, sizeof cert, "%s/bench-user.crt", tmpdir);
    snprintf(key, sizeof key, "%s/bench-user.key", tmpdir);
    issue_user_cert(pki, cert, key);
    admin_tls = cl->tls;
    user_tls = hl_tls_client(ca, cert, key);
    c = connect_to(cl, 0);
    status = hl_request_sync(loop, c, "POST",
                             "/apis/rbac.authorization.k8s.io/v1/"
                             "clusterrolebindings",
                             "application/json", binding, strlen(binding),
                             10000, NULL);
    hl_close(c);
    if (status != 201)
        bench_die("creating the bench ClusterRoleBinding: status %d", status);
    sleep(1); /* every member has applied it */
    alternate(cl, o.rbac_rounds, &rr, &res->n_rbac);
    use_tls(cl, admin_tls);
    SSL_CTX_free(user_tls);
}

/* Until every member serves the custom resource (or die). */
static void wait_cr_served(struct cluster *cl)
{
    for (int i = 0; i < N_NODES; i++) {
        int status = 0;
        for (int k = 0; k < 100 && status != 200; k++) {
            struct hl_conn *c = connect_to(cl, i);
            status = hl_request_sync(loop, c, "GET",
                                     "/apis/bench.c8s.io/v1/namespaces/"
                                     "bench/widgets?limit=1",
                                     NULL, NULL, 0, 10000, NULL);
            hl_close(c);
            if (status != 200)
                usleep(100000);
        }
        if (status != 200)
            bench_die("member %d does not serve widgets: status %d", i,
                      status);
    }
}

/* Creates at 64 connections of ConfigMaps and of custom objects of the same
 * size: a custom object's create also reads its definition and checks its
 * version in the same transaction (the definition may be Terminating). */
static void measure_cr(struct cluster *cl, struct result *res)
{
    static const char crd[] =
        "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":"
        "\"CustomResourceDefinition\",\"metadata\":{\"name\":"
        "\"widgets.bench.c8s.io\"},\"spec\":{\"group\":\"bench.c8s.io\","
        "\"scope\":\"Namespaced\",\"names\":{\"plural\":\"widgets\","
        "\"singular\":\"widget\",\"kind\":\"Widget\",\"listKind\":"
        "\"WidgetList\"},\"versions\":[{\"name\":\"v1\",\"served\":true,"
        "\"storage\":true,\"schema\":{\"openAPIV3Schema\":{\"type\":"
        "\"object\",\"properties\":{\"spec\":{\"type\":\"object\","
        "\"properties\":{\"v\":{\"type\":\"string\"}}}}}}}]}}";
    struct rounds rr = {{"of ConfigMaps", "of custom objects"},
                        {build_create, build_cr_create},
                        NULL,
                        {res->cr_cm, res->cr_obj}};
    struct hl_conn *c = connect_to(cl, 0);
    int status;

    status = hl_request_sync(loop, c, "POST",
                             "/apis/apiextensions.k8s.io/v1/"
                             "customresourcedefinitions",
                             "application/json", crd, strlen(crd), 10000,
                             NULL);
    hl_close(c);
    if (status != 201)
        bench_die("creating the bench CustomResourceDefinition: status %d",
                  status);
    wait_cr_served(cl);
    alternate(cl, o.cr_rounds, &rr, &res->n_cr);
}

static void run_system(enum sys sys, struct result *res)
{
    static struct cluster cl;
    char b1[16], b2[16];

    cluster_setup(&cl, sys);
    bench_note("%s: starting 3 members", cl.label);
    cluster_start(&cl);
    make_namespaces(&cl);
    sleep(2);
    res->ran = true;
    res->rss_idle = max_rss(&cl);
    bench_note("%s: idle RSS (max of 3) %.1f MiB", cl.label, res->rss_idle);

    fill(&cl, build_fill, o.objects, "1 KiB objects");
    res->full_objects = L.ok;
    res->rss_full = max_rss(&cl);
    bench_note("%s: RSS after %lu objects %.1f MiB", cl.label, L.ok,
               res->rss_full);

    for (unsigned i = 0; i < o.n_levels; i++) {
        struct level *lv = &res->create[i];
        measure_level(&cl, o.levels[i], lv, build_create);
        bench_note("%s: create x%u: %.0f/s p50 %s p99 %s ms (%lu failed)",
                   cl.label, lv->conns, lv->rate, bench_fmt_ms(lv->p50, b1),
                   bench_fmt_ms(lv->p99, b2), lv->failed);
        check_alive(&cl);
    }

    fill(&cl, build_list_fill, o.list_objects, "objects to list");
    measure_level(&cl, o.get_conns, &res->get, build_get);
    bench_note("%s: GET x%u: %.0f/s p50 %s p99 %s ms", cl.label, res->get.conns,
               res->get.rate, bench_fmt_ms(res->get.p50, b1),
               bench_fmt_ms(res->get.p99, b2));
    measure_list(&cl, "list1k", "configmaps", o.list_objects, &res->list_p50,
                 &res->list_p99, &res->list_bytes);
    bench_note("%s: LIST %lu: p50 %s p99 %s ms, %zu bytes", cl.label,
               o.list_objects, bench_fmt_ms(res->list_p50, b1),
               bench_fmt_ms(res->list_p99, b2), res->list_bytes);
    if (sys == SYS_C8S && o.pods > 0) {
        fill(&cl, build_pod, o.pods, "pods");
        measure_list(&cl, "pods10k", "pods", o.pods, &res->pods_p50,
                     &res->pods_p99, &res->pods_bytes);
        bench_note("%s: LIST %lu pods: p50 %s p99 %s ms, %zu bytes", cl.label,
                   o.pods, bench_fmt_ms(res->pods_p50, b1),
                   bench_fmt_ms(res->pods_p99, b2), res->pods_bytes);
    }
    if (o.watchers > 0) {
        measure_watch(&cl, res);
        bench_note(
            "%s: watch x%u: p50 %s p99 %s ms, %lu events, %lu "
            "missing",
            cl.label, o.watchers, bench_fmt_ms(res->watch_p50, b1),
            bench_fmt_ms(res->watch_p99, b2), res->watch_events,
            res->watch_missing);
    }
    if (sys == SYS_C8S && o.rbac_rounds > 0)
        measure_rbac(&cl, res);
    if (sys == SYS_C8S && o.cr_rounds > 0)
        measure_cr(&cl, res);
    for (unsigned k = 0; k < o.failovers && k < 64; k++) {
        res->fo[res->n_fo++] = failover_once(&cl, k);
        bench_note("%s: failover %u: %.0f ms", cl.label, k + 1,
                   res->fo[res->n_fo - 1]);
    }
    double tmp[64];
    memcpy(tmp, res->fo, sizeof tmp);
    res->fo_median = bench_median(tmp, res->n_fo);
    cluster_stop(&cl);
}

/* ---- report
 * ----------------------------------------------------------------------------*/

/* @v with @decimals decimals, or "-" when it was not measured. */
static const char *num(double v, int decimals, char buf[32])
{
    if (v != v || v < 0)
        snprintf(buf, 32, "-");
    else
        snprintf(buf, 32, "%.*f", decimals, v);
    return buf;
}

static void row(const char *what,
                double a,
                double b,
                int fmt,
                const char *target)
{
    char x[32], y[32];

    printf("  %-34s %14s %14s   %s\n", what, num(a, fmt, x), num(b, fmt, y),
           target);
}

static void report(const char *cmdline)
{
    const struct result *c = &results[0], *e = &results[1];
    char machine[512], fs[400], date[64], what[80];
    time_t t = time(NULL);

    bench_machine_line(machine, sizeof machine);
    bench_fs_line(tmpdir, fs, sizeof fs);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    printf(
        "\nc8s api-bench: %s\n  machine: %s\n  data dirs: %s\n"
        "  command: %s\n  c8s over HTTPS (TLS 1.3, client certificate); "
        "etcd %s over plain HTTP (v3 JSON gateway)\n\n",
        date, machine, fs, cmdline, e->ran ? "3.4" : "(not run)");
    printf("  %-34s %14s %14s   %s\n", "", "c8s", "etcd", "target (c8s)");
    for (unsigned i = 0; i < o.n_levels; i++) {
        snprintf(what, sizeof what, "create x%u writes/s", o.levels[i]);
        row(what, c->create[i].rate, e->ran ? e->create[i].rate : -1, 0,
            o.levels[i] >= 64 ? ">= 2x etcd" : "");
        snprintf(what, sizeof what, "create x%u p50 / p99 ms", o.levels[i]);
        char a[64], b[64], x[16], y[16];
        snprintf(a, sizeof a, "%s/%s", bench_fmt_ms(c->create[i].p50, x),
                 bench_fmt_ms(c->create[i].p99, y));
        snprintf(b, sizeof b, "%s/%s",
                 e->ran ? bench_fmt_ms(e->create[i].p50, x) : "-",
                 e->ran ? bench_fmt_ms(e->create[i].p99, y) : "-");
        printf("  %-34s %14s %14s   %s\n", what, a, b,
               o.levels[i] == 1 ? "p50 <= 0.75 ms" : "");
    }
    snprintf(what, sizeof what, "GET x%u reads/s", o.get_conns);
    row(what, c->get.rate, e->ran ? e->get.rate : -1, 0, ">= 2x etcd");
    snprintf(what, sizeof what, "LIST %lu x 1 KiB p50 ms", o.list_objects);
    row(what, c->list_p50, e->ran ? e->list_p50 : -1, 2, "<= 5 ms");
    snprintf(what, sizeof what, "LIST %lu x 1 KiB p99 ms", o.list_objects);
    row(what, c->list_p99, e->ran ? e->list_p99 : -1, 2, "");
    snprintf(what, sizeof what, "LIST %lu pods p50 / p99 ms", o.pods);
    char pa[64], x1[16], y1[16];
    snprintf(pa, sizeof pa, "%s/%s", bench_fmt_ms(c->pods_p50, x1),
             bench_fmt_ms(c->pods_p99, y1));
    printf("  %-34s %14s %14s   %s\n", what, pa, "-", "p50 <= 150 ms");
    snprintf(what, sizeof what, "watch x%u delivery p50 ms", o.watchers);
    row(what, c->watch_p50, e->ran ? e->watch_p50 : -1, 2, "");
    snprintf(what, sizeof what, "watch x%u delivery p99 ms", o.watchers);
    row(what, c->watch_p99, e->ran ? e->watch_p99 : -1, 2, "<= 20 ms");
    row("watch events missing", (double)c->watch_missing,
        e->ran ? (double)e->watch_missing : -1, 0, "0");
    row("RSS idle MiB (max member)", c->rss_idle, e->ran ? e->rss_idle : -1, 1,
        "<= 20 MiB");
    snprintf(what, sizeof what, "RSS after %lu objects MiB", o.objects);
    row(what, c->rss_full, e->ran ? e->rss_full : -1, 1, "<= 200 MiB");
    row("kill -9 leader -> create ms (med)", c->fo_median,
        e->ran ? e->fo_median : -1, 0, "<= 1000 ms");
    if (c->n_rbac > 0) {
        double a[16], u[16], sa = 0, su = 0;
        memcpy(a, c->rbac_admin, sizeof a);
        memcpy(u, c->rbac_user, sizeof u);
        for (unsigned k = 0; k < c->n_rbac; k++) {
            sa += a[k];
            su += u[k];
        }
        printf("  create x64 as admin / RBAC user: mean %.0f / %.0f per s, "
               "RBAC costs %.1f%% (target <= 5%%); rounds:",
               sa / c->n_rbac, su / c->n_rbac, 100.0 * (sa - su) / sa);
        for (unsigned k = 0; k < c->n_rbac; k++)
            printf(" %.0f/%.0f", a[k], u[k]);
        printf("\n");
    }
    if (c->n_cr > 0) {
        double sc = 0, so = 0;
        for (unsigned k = 0; k < c->n_cr; k++) {
            sc += c->cr_cm[k];
            so += c->cr_obj[k];
        }
        printf("  create x64 of ConfigMaps / custom objects: mean %.0f / %.0f "
               "per s, custom objects cost %.1f%%; rounds:",
               sc / c->n_cr, so / c->n_cr, 100.0 * (sc - so) / sc);
        for (unsigned k = 0; k < c->n_cr; k++)
            printf(" %.0f/%.0f", c->cr_cm[k], c->cr_obj[k]);
        printf("\n");
    }
    for (int s = 0; s < 2; s++) {
        const struct result *r = &results[s];
        if (!r->ran || r->n_fo == 0)
            continue;
        printf("  %s failovers (ms):", s ? "etcd" : "c8s");
        for (unsigned k = 0; k < r->n_fo; k++)
            printf(" %.0f", r->fo[k]);
        printf("\n");
    }
}

/* ---- options
 * -------------------------------------------------------------------------------*/

static void parse_levels(const char *s)
{
    char buf[256], *save = NULL;

    snprintf(buf, sizeof buf, "%s", s);
    o.n_levels = 0;
    for (char *t = strtok_r(buf, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (o.n_levels == MAX_LEVELS)
            bench_die("--levels: at most %d", MAX_LEVELS);
        o.levels[o.n_levels] =
            (unsigned)bench_parse_uint("--levels", t, MAX_CONNS);
        if (o.levels[o.n_levels++] == 0)
            bench_die("--levels: 0 connections");
    }
    if (o.n_levels == 0)
        bench_die("--levels: empty");
}

static void parse_options(int argc, char **argv)
{
    static const struct option opts[] = {
        {"master", required_argument, NULL, 'm'},
        {"etcd", required_argument, NULL, 'e'},
        {"no-etcd", no_argument, NULL, 'E'},
        {"dir", required_argument, NULL, 'd'},
        {"levels", required_argument, NULL, 'l'},
        {"duration-ms", required_argument, NULL, 'D'},
        {"warmup-ms", required_argument, NULL, 'w'},
        {"objects", required_argument, NULL, 'o'},
        {"pods", required_argument, NULL, 'p'},
        {"list-runs", required_argument, NULL, 'r'},
        {"watchers", required_argument, NULL, 'W'},
        {"watch-writes", required_argument, NULL, 'x'},
        {"failovers", required_argument, NULL, 'f'},
        {"rbac-rounds", required_argument, NULL, 'R'},
        {"cr-rounds", required_argument, NULL, 'C'},
        {"timeout-s", required_argument, NULL, 't'},
        {"quick", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            o.master = optarg;
            break;
        case 'e':
            o.etcd = optarg;
            break;
        case 'E':
            o.no_etcd = true;
            break;
        case 'd':
            o.dir = optarg;
            break;
        case 'l':
            parse_levels(optarg);
            break;
        case 'D':
            o.duration_ms =
                (unsigned)bench_parse_uint("--duration-ms", optarg, 600000);
            break;
        case 'w':
            o.warmup_ms =
                (unsigned)bench_parse_uint("--warmup-ms", optarg, 600000);
            break;
        case 'o':
            o.objects = bench_parse_uint("--objects", optarg, 10000000);
            break;
        case 'p':
            o.pods = bench_parse_uint("--pods", optarg, 1000000);
            break;
        case 'r':
            o.list_runs =
                (unsigned)bench_parse_uint("--list-runs", optarg, 10000);
            break;
        case 'W':
            o.watchers =
                (unsigned)bench_parse_uint("--watchers", optarg, MAX_CONNS);
            break;
        case 'x':
            o.watch_writes =
                (unsigned)bench_parse_uint("--watch-writes", optarg, 100000);
            break;
        case 'f':
            o.failovers = (unsigned)bench_parse_uint("--failovers", optarg, 64);
            break;
        case 't':
            o.timeout_s =
                (unsigned)bench_parse_uint("--timeout-s", optarg, 86400);
            break;
        case 'R':
            o.rbac_rounds =
                (unsigned)bench_parse_uint("--rbac-rounds", optarg, 16);
            break;
        case 'C':
            o.cr_rounds = (unsigned)bench_parse_uint("--cr-rounds", optarg, 16);
            break;
        case 'q':
            o.rbac_rounds = 1;
            o.cr_rounds = 1;
            o.duration_ms = 1000;
            o.warmup_ms = 200;
            o.objects = 2000;
            o.pods = 500;
            o.list_runs = 5;
            o.watchers = 50;
            o.watch_writes = 20;
            o.failovers = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        default:
            fprintf(stderr, "%s", usage_text);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "api-bench: unexpected argument '%s'\n%s", argv[optind],
                usage_text);
        exit(2);
    }
    if (access(o.master, X_OK) != 0)
        bench_die("no c8s-master at %s (use --master)", o.master);
    if (!o.no_etcd && access(o.etcd, X_OK) != 0)
        bench_die("no etcd at %s (apt-get install etcd-server, or --no-etcd)",
                  o.etcd);
}

static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        rl.rlim_cur < (rlim_t)o.watchers + 600)
        bench_die("open-file limit %lu is too low for %u watchers",
                  (unsigned long)rl.rlim_cur, o.watchers);
}

int main(int argc, char **argv)
{
    char cmdline[1024] = "";
    const char *base;

    bench_prog = "api-bench";
    parse_options(argc, argv);
    for (int i = 0; i < argc; i++)
        snprintf(cmdline + strlen(cmdline), sizeof cmdline - strlen(cmdline),
                 "%s%s", i ? " " : "", argv[i]);
    raise_fd_limit();
    memset(value, 'v', 1024);
    b64(value, value_b64);
    base = o.dir ? o.dir : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/c8s-api-bench-XXXXXX", base);
    if (mkdtemp(tmpdir) == NULL)
        bench_die("mkdtemp %s: %s", tmpdir, strerror(errno));
    bench_on_exit(cleanup_now);
    alarm(o.timeout_s);
    loop = hl_loop_new();
    run_system(SYS_C8S, &results[0]);
    if (!o.no_etcd)
        run_system(SYS_ETCD, &results[1]);
    report(cmdline);
    hl_loop_free(loop);
    return 0;
}
