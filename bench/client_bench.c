/* client-bench: what libc8s costs and sustains, against one c8s-master on
 * loopback. Prints figures, asserts nothing.
 *
 *   - informer memory: heap bytes the informer's cache holds per cached
 *     1 KiB ConfigMap (mallinfo2 before and after a full sync), and the
 *     time the sync (paged list) takes;
 *   - one watch connection: events per second it delivers when the server
 *     has a backlog (a watch from before N writes replays them as fast as
 *     the client reads), median of several runs;
 *   - request throughput of one thread: GETs of one object per second with
 *     the blocking API, and with the asynchronous API (c8s/async.h) on one
 *     libuv loop with 1, 8, 32 and 128 requests in flight. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include <c8s/c8s.h>

#include "bench/common.h"

static struct {
    const char *master;
    unsigned long objects, writers, runs, requests;
} o = {"./c8s-master", 20000, 8, 3, 20000};

static const char usage_text[] =
    "usage: client-bench [--master PATH] [--objects N] [--writers N] "
    "[--runs N] [--requests N]\n"
    "Measures libc8s against one c8s-master on loopback: informer memory\n"
    "per cached 1 KiB object, events/s one watch connection delivers, and\n"
    "GETs/s of one thread, blocking and asynchronous (--requests each).\n"
    "Prints figures, asserts nothing.\n";

static char dir[512];
static volatile pid_t master;

/* Async-signal-safe (bench_on_exit). */
static void cleanup(void)
{
    bench_kill(&master);
    bench_rm_tree(dir);
}

static struct c8s_client *connect_client(void)
{
    char path[700];
    struct c8s_kubeconfig_opts ko = {.kubeconfig = path};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *c = NULL;
    struct c8s_error err = {0};

    snprintf(path, sizeof path, "%s/m/admin.kubeconfig", dir);
    if (c8s_kubeconfig_load(&ko, &kc, &err) != 0 ||
        c8s_client_new(kc, NULL, &c, &err) != 0)
        bench_die("%s", err.message);
    c8s_kubeconfig_free(kc);
    return c;
}

static void start_master(void)
{
    char data[600], log[600], api[40], peer[40], kc[700];
    const char *argv[] = {o.master, "--name", "m", "--data-dir", data,
                          "--peer-listen", peer, "--api-listen", api, NULL};

    snprintf(data, sizeof data, "%s/m", dir);
    snprintf(log, sizeof log, "%s/m.log", dir);
    snprintf(peer, sizeof peer, "127.0.0.1:%d", bench_free_port());
    snprintf(api, sizeof api, "127.0.0.1:%d", bench_free_port());
    snprintf(kc, sizeof kc, "%s/admin.kubeconfig", data);
    master = bench_spawn(argv, log);
    for (int i = 0; i < 300 && access(kc, R_OK) != 0; i++)
        usleep(100000);
    if (access(kc, R_OK) != 0)
        bench_die("c8s-master never wrote %s (log: %s)", kc, log);
    usleep(200000); /* the kubeconfig is written just before serving */
}

static int request(struct c8s_client *c, const char *method, const char *path,
                   const char *body)
{
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    int rv = c8s_request(c, method, path, NULL, body,
                         body != NULL ? strlen(body) : 0, &r, &err);

    c8s_response_clear(&r);
    return rv;
}

/* ---- filling -----------------------------------------------------------*/

static char value[1025];

struct writer {
    pthread_t t;
    unsigned long first, n;
};

static void *write_some(void *arg)
{
    struct writer *w = arg;
    struct c8s_client *c = connect_client();
    char *body = malloc(1400);

    for (unsigned long i = w->first; i < w->first + w->n; i++) {
        snprintf(body, 1400,
                 "{\"metadata\":{\"name\":\"cm-%lu\"},\"data\":{\"v\":\"%s\"}}",
                 i, value);
        if (request(c, "POST", "/api/v1/namespaces/bench/configmaps", body) !=
            0)
            bench_die("create cm-%lu failed", i);
    }
    free(body);
    c8s_client_free(c);
    return NULL;
}

static double fill(void)
{
    struct writer *w = calloc(o.writers, sizeof *w);
    uint64_t t0 = bench_now_ns();

    for (unsigned long i = 0; i < o.writers; i++) {
        w[i].first = i * (o.objects / o.writers);
        w[i].n = i + 1 == o.writers ? o.objects - w[i].first
                                    : o.objects / o.writers;
        pthread_create(&w[i].t, NULL, write_some, &w[i]);
    }
    for (unsigned long i = 0; i < o.writers; i++)
        pthread_join(w[i].t, NULL);
    free(w);
    return (double)o.objects / (bench_ms(bench_now_ns() - t0) / 1000.0);
}

static void list_rv(struct c8s_client *c, char *rv, size_t size)
{
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    struct c8s_obj *l = NULL;

    if (c8s_request(c, "GET", "/api/v1/namespaces/bench/configmaps?limit=1",
                    NULL, NULL, 0, &r, &err) != 0 ||
        c8s_obj_from_json(r.body, r.body_len, &l, &err) != 0)
        bench_die("list: %s", err.message);
    snprintf(rv, size, "%s",
             c8s_obj_str(c8s_obj_path(l, "metadata.resourceVersion"), ""));
    c8s_obj_free(l);
    c8s_response_clear(&r);
}

/* ---- measuring ---------------------------------------------------------*/

/* Events per second one watch delivers replaying @n events after @rv. */
static double watch_rate(struct c8s_client *c, const char *rv)
{
    struct c8s_watch *w = NULL;
    struct c8s_error err = {0};
    uint64_t t0;
    unsigned long got = 0;

    if (c8s_watch_open(c, "/api/v1/namespaces/bench/configmaps", rv, &w,
                       &err) != 0)
        bench_die("watch: %s", err.message);
    t0 = bench_now_ns();
    while (got < o.objects) {
        struct c8s_event ev;

        if (c8s_watch_next(w, 30000, &ev, &err) != 0)
            bench_die("watch after %lu events: %s", got, err.message);
        c8s_obj_free(ev.object);
        got++;
    }
    double s = bench_ms(bench_now_ns() - t0) / 1000.0;
    c8s_watch_close(w);
    return (double)got / s;
}

#define GET_PATH "/api/v1/namespaces/bench/configmaps/cm-0"

/* GETs per second of one thread with the blocking API. */
static double blocking_rate(struct c8s_client *c)
{
    uint64_t t0 = bench_now_ns();

    for (unsigned long i = 0; i < o.requests; i++)
        if (request(c, "GET", GET_PATH, NULL) != 0)
            bench_die("GET %s failed", GET_PATH);
    return (double)o.requests / (bench_ms(bench_now_ns() - t0) / 1000.0);
}

struct pump {
    struct c8s_async *a;
    unsigned long started, done, total;
};

static void pump_one(struct pump *p);

static void on_get(int rv, struct c8s_response *resp,
                   const struct c8s_error *err, void *data)
{
    struct pump *p = data;

    (void)resp;
    if (rv != 0)
        bench_die("async GET: %s", err->message);
    p->done++;
    if (p->started < p->total)
        pump_one(p);
}

static void pump_one(struct pump *p)
{
    struct c8s_error err = {0};

    p->started++;
    if (c8s_async_request(p->a, "GET", GET_PATH, NULL, NULL, 0, on_get, p,
                          NULL, &err) != 0)
        bench_die("async GET: %s", err.message);
}

/* Run @total GETs keeping @in_flight pending on one loop. */
static void pump_run(uv_loop_t *loop, struct pump *p, unsigned long total,
                     unsigned in_flight)
{
    p->started = p->done = 0;
    p->total = total;
    for (unsigned i = 0; i < in_flight && p->started < total; i++)
        pump_one(p);
    (void)uv_run(loop, UV_RUN_DEFAULT);
    if (p->done != total)
        bench_die("async: %lu of %lu GETs done", p->done, total);
}

/* GETs per second of one thread with @in_flight asynchronous requests
 * pending at all times (connections opened by a first round, untimed). */
static double async_rate(unsigned in_flight)
{
    char path[700];
    struct c8s_kubeconfig_opts ko = {.kubeconfig = path};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_error err = {0};
    struct pump p = {0};
    uv_loop_t loop;
    uint64_t t0;
    double rate;

    snprintf(path, sizeof path, "%s/m/admin.kubeconfig", dir);
    if (uv_loop_init(&loop) != 0 ||
        c8s_kubeconfig_load(&ko, &kc, &err) != 0 ||
        c8s_async_new(&loop, kc, NULL, &p.a, &err) != 0)
        bench_die("async client: %s", err.message);
    c8s_kubeconfig_free(kc);
    pump_run(&loop, &p, in_flight, in_flight);
    t0 = bench_now_ns();
    pump_run(&loop, &p, o.requests, in_flight);
    rate = (double)o.requests / (bench_ms(bench_now_ns() - t0) / 1000.0);
    c8s_async_close(p.a, NULL, NULL);
    (void)uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        bench_die("the async client left handles on the loop");
    return rate;
}

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"master", required_argument, NULL, 'm'},
        {"objects", required_argument, NULL, 'n'},
        {"writers", required_argument, NULL, 'w'},
        {"runs", required_argument, NULL, 'r'},
        {"requests", required_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    char machine[256], fs[256], rv0[32], date[64];
    double rates[16], fill_rate, per_obj, sync_ms;
    struct c8s_client *c;
    struct c8s_informer *inf = NULL;
    struct c8s_informer_opts io = {
        .path = "/api/v1/namespaces/bench/configmaps"};
    struct c8s_error err = {0};
    size_t before, after;
    int opt;
    time_t now = time(NULL);

    bench_prog = "client-bench";
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': o.master = optarg; break;
        case 'n': o.objects = bench_parse_uint("--objects", optarg, 1000000); break;
        case 'w': o.writers = bench_parse_uint("--writers", optarg, 64); break;
        case 'r': o.runs = bench_parse_uint("--runs", optarg, 16); break;
        case 'q': o.requests = bench_parse_uint("--requests", optarg, 10000000); break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (o.objects == 0 || o.writers == 0 || o.runs == 0 || o.requests == 0)
        bench_die("--objects, --writers, --runs and --requests must be "
                  "positive");
    memset(value, 'x', sizeof value - 1);
    snprintf(dir, sizeof dir, "%s/c8s-client-bench-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        bench_die("mkdtemp: %s", strerror(errno));
    bench_on_exit(cleanup);

    start_master();
    c = connect_client();
    for (int i = 0; i < 100 && request(c, "GET", "/readyz", NULL) != 0; i++)
        usleep(100000);
    if (request(c, "POST", "/api/v1/namespaces",
                "{\"metadata\":{\"name\":\"bench\"}}") != 0)
        bench_die("cannot create the namespace");
    list_rv(c, rv0, sizeof rv0);
    bench_note("creating %lu 1 KiB ConfigMaps with %lu writers", o.objects,
               o.writers);
    fill_rate = fill();

    for (unsigned long r = 0; r < o.runs; r++) {
        rates[r] = watch_rate(c, rv0);
        bench_note("watch run %lu: %.0f events/s", r + 1, rates[r]);
    }

    static const unsigned flights[] = {1, 8, 32, 128};
    double get_blocking, get_async[4];

    bench_note("%lu GETs, blocking", o.requests);
    get_blocking = blocking_rate(c);
    for (size_t i = 0; i < 4; i++) {
        bench_note("%lu GETs, asynchronous, %u in flight", o.requests,
                   flights[i]);
        get_async[i] = async_rate(flights[i]);
    }

    malloc_trim(0);
    before = heap_in_use();
    if (c8s_informer_new(c, &io, NULL, &inf, &err) != 0)
        bench_die("%s", err.message);
    uint64_t t0 = bench_now_ns();
    while (!c8s_informer_synced(inf))
        if (c8s_informer_run(inf, 100, &err) != 0)
            bench_die("informer: %s", err.message);
    sync_ms = bench_ms(bench_now_ns() - t0);
    after = heap_in_use();
    per_obj = (double)(after - before) / (double)c8s_informer_len(inf);

    bench_machine_line(machine, sizeof machine);
    bench_fs_line(dir, fs, sizeof fs);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    printf("c8s client-bench: %s\n  machine: %s\n  data dir: %s\n", date,
           machine, fs);
    printf("  one c8s-master over HTTPS on loopback; %lu 1 KiB ConfigMaps "
           "(created at %.0f/s by %lu libc8s clients)\n\n",
           o.objects, fill_rate, o.writers);
    double sorted[16];

    memcpy(sorted, rates, sizeof rates);
    printf("  one watch connection, backlog of %lu events: %.0f events/s "
           "(median of %lu:", o.objects, bench_median(sorted, o.runs), o.runs);
    for (unsigned long r = 0; r < o.runs; r++)
        printf(" %.0f", rates[r]);
    printf(")\n");
    printf("  informer: %zu objects cached, %.0f bytes of heap per object "
           "(%.1f MiB in all), synced in %.0f ms (pages of 500)\n",
           c8s_informer_len(inf), per_obj,
           (double)(after - before) / 1048576.0, sync_ms);
    printf("  GETs of one object by one thread, %lu each: blocking %.0f/s; "
           "asynchronous on one loop with 1 / 8 / 32 / 128 in flight: "
           "%.0f / %.0f / %.0f / %.0f per s\n",
           o.requests, get_blocking, get_async[0], get_async[1], get_async[2],
           get_async[3]);
    c8s_informer_free(inf);
    c8s_client_free(c);
    return 0;
}
