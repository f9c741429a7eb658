/* The register and set workloads (workload.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <c8s/c8s.h>

#include "jepsen/workload.h"
#include "lib/mem.h"

struct client;

struct shared {
    const struct jep_workload_opts *o;
    void (*step)(struct client *cl); /* one operation of the workload */
    FILE *out;
    pthread_mutex_t mu; /* the history file and the key table */
    int64_t start_ns, end_ns;
    unsigned *key_gen;  /* per slot: the generation in use */
    unsigned *key_ops;  /* per slot: operations on it so far */
    atomic_int next_process;
    atomic_ulong ok, fail, info;
    atomic_llong max_rev;   /* highest revision a write was acknowledged at */
    atomic_bool writers_done;
    unsigned gen, gen_adds; /* list: generation in use, adds to it so far */
    struct { int code; unsigned long n; } why[16]; /* non-ok codes, under mu */
};

struct client {
    struct shared *sh;
    unsigned index;
    unsigned long added; /* set: values this client added so far */
    struct c8s_client *c;       /* the client of this operation */
    struct c8s_client *own;     /* the one bound to server index % n */
    struct c8s_client **per_server; /* monotonic: one per server */
    int process;
    uint64_t rng;
    pthread_t t;
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rnd(struct client *cl)
{
    cl->rng ^= cl->rng << 13;
    cl->rng ^= cl->rng >> 7;
    cl->rng ^= cl->rng << 17;
    return cl->rng;
}

/* A history line, stamped now. */
static void record(struct client *cl, const char *type, const char *f,
                   const char *key, const char *value, const char *extra)
{
    struct shared *sh = cl->sh;

    pthread_mutex_lock(&sh->mu);
    fprintf(sh->out, "%lld %d %s %s %s %s%s\n",
            (long long)(now_ns() - sh->start_ns), cl->process, type, f, key,
            value, extra);
    pthread_mutex_unlock(&sh->mu);
}

/* The register to use next: a slot at random, moved to a fresh name once
 * it has had its share of operations. */
static void pick_key(struct client *cl, char *key, size_t size)
{
    struct shared *sh = cl->sh;
    unsigned slot = (unsigned)(rnd(cl) % sh->o->keys);

    pthread_mutex_lock(&sh->mu);
    if (++sh->key_ops[slot] > sh->o->ops_per_key) {
        sh->key_ops[slot] = 1;
        sh->key_gen[slot]++;
    }
    (void)snprintf(key, size, "r%u-%u", slot, sh->key_gen[slot]);
    pthread_mutex_unlock(&sh->mu);
}

static void path_of(const struct shared *sh, const char *key, char *buf,
                    size_t size)
{
    (void)snprintf(buf, size, "/api/v1/namespaces/%s/configmaps%s%s",
                   sh->o->ns, key != NULL ? "/" : "", key != NULL ? key : "");
}

/* A GET of @key: 0 with its value ("-" if absent) and revision, or the
 * request's code. */
static int get(struct client *cl, const char *key, char *value, size_t vsize,
               char *rv, size_t rvsize)
{
    struct c8s_response r = {0};
    struct c8s_obj *o = NULL;
    char path[256];
    int code;

    path_of(cl->sh, key, path, sizeof path);
    code = c8s_request(cl->c, "GET", path, NULL, NULL, 0, &r, NULL);
    if (code == -C8S_ENOTFOUND) {
        (void)snprintf(value, vsize, "-");
        rv[0] = '\0';
        c8s_response_clear(&r);
        return 0;
    }
    if (code == 0 && c8s_obj_from_json(r.body, r.body_len, &o, NULL) == 0) {
        (void)snprintf(value, vsize, "%s",
                       c8s_obj_str(c8s_obj_path(o, "data.v"), "-"));
        (void)snprintf(rv, rvsize, "%s",
                       c8s_obj_str(c8s_obj_path(o,
                                                "metadata.resourceVersion"),
                                   ""));
    } else if (code == 0) {
        code = -C8S_EMALFORMED;
    }
    c8s_obj_free(o);
    c8s_response_clear(&r);
    return code;
}

/* PUT (or POST when absent) of @value, under @rv if not NULL. 0 with the
 * new revision, or the request's code. */
static int put(struct client *cl, const char *key, const char *value,
               const char *rv, char *new_rv, size_t size)
{
    struct c8s_response r = {0};
    struct c8s_obj *o = NULL;
    char path[256], body[512];
    int code;

    (void)snprintf(body, sizeof body,
                   "{\"metadata\":{\"name\":\"%s\"%s%s%s},"
                   "\"data\":{\"v\":\"%s\"}}", key,
                   rv != NULL ? ",\"resourceVersion\":\"" : "",
                   rv != NULL ? rv : "", rv != NULL ? "\"" : "", value);
    path_of(cl->sh, key, path, sizeof path);
    code = c8s_request(cl->c, "PUT", path, NULL, body, strlen(body), &r,
                       NULL);
    if (code == -C8S_ENOTFOUND && rv == NULL) { /* absent: create it */
        c8s_response_clear(&r);
        path_of(cl->sh, NULL, path, sizeof path);
        code = c8s_request(cl->c, "POST", path, NULL, body, strlen(body), &r,
                           NULL);
        if (code == -C8S_EEXISTS) { /* created meanwhile: replace it */
            c8s_response_clear(&r);
            path_of(cl->sh, key, path, sizeof path);
            code = c8s_request(cl->c, "PUT", path, NULL, body, strlen(body),
                               &r, NULL);
        }
    }
    if (code == 0 && c8s_obj_from_json(r.body, r.body_len, &o, NULL) == 0)
        (void)snprintf(new_rv, size, "%s",
                       c8s_obj_str(c8s_obj_path(o,
                                                "metadata.resourceVersion"),
                                   ""));
    c8s_obj_free(o);
    c8s_response_clear(&r);
    return code;
}

/* Could a write that returned @code have happened? c8s answers 504
 * (-C8S_EUNKNOWN) for a write whose outcome it lost, and 429 or 503
 * (-C8S_EOVERLOADED) only for one it refused before proposing it (no
 * leader, too busy): those are fails, and the checkers test that promise. */
static bool maybe_happened(int code)
{
    return code == -C8S_EUNKNOWN;
}

#define REFUSED_PAUSE_MS 50

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* Count a non-ok @code for the summary. */
static void count_code(struct shared *sh, int code)
{
    pthread_mutex_lock(&sh->mu);
    for (size_t i = 0; i < 16; i++)
        if (sh->why[i].code == code || sh->why[i].code == 0) {
            sh->why[i].code = code;
            sh->why[i].n++;
            break;
        }
    pthread_mutex_unlock(&sh->mu);
}

static void completed(struct client *cl, int code, const char *f,
                      const char *key, const char *value, const char *rv)
{
    char extra[64] = "";

    if (code != 0)
        count_code(cl->sh, code);
    if (code == 0) {
        if (rv != NULL && rv[0] != '\0') {
            long long r = strtoll(rv, NULL, 10), top;

            (void)snprintf(extra, sizeof extra, " rev=%s", rv);
            top = atomic_load(&cl->sh->max_rev);
            while (r > top &&
                   !atomic_compare_exchange_weak(&cl->sh->max_rev, &top, r))
                ;
        }
        record(cl, "ok", f, key, value, extra);
        atomic_fetch_add(&cl->sh->ok, 1);
    } else if (maybe_happened(code)) {
        record(cl, "info", f, key, value, "");
        atomic_fetch_add(&cl->sh->info, 1);
        cl->process = atomic_fetch_add(&cl->sh->next_process, 1);
    } else {
        record(cl, "fail", f, key, value, "");
        atomic_fetch_add(&cl->sh->fail, 1);
        /* Refused at once (no leader, too busy; libc8s does not retry a
         * POST): a real client waits for the Retry-After, so this one
         * pauses a little rather than fill the history with millions of
         * instant refusals while a minority is cut off. */
        if (code == -C8S_EOVERLOADED)
            pause_ms(REFUSED_PAUSE_MS);
    }
}

static void op_read(struct client *cl, const char *key)
{
    char value[32], rv[32];
    int code;

    record(cl, "invoke", "read", key, "-", "");
    code = get(cl, key, value, sizeof value, rv, sizeof rv);
    /* A read changes nothing: any failure is a fail. */
    completed(cl, code == 0 ? 0 : -EIO, "read", key, code == 0 ? value : "-",
              rv);
}

static void op_write(struct client *cl, const char *key)
{
    char value[16], rv[32] = "";

    (void)snprintf(value, sizeof value, "%u",
                   (unsigned)(rnd(cl) % cl->sh->o->values));
    record(cl, "invoke", "write", key, value, "");
    completed(cl, put(cl, key, value, NULL, rv, sizeof rv), "write", key,
              value, rv);
}

static void op_cas(struct client *cl, const char *key)
{
    char from[16], to[16], args[40], cur[32], rv[32], new_rv[32] = "";
    int code;

    (void)snprintf(from, sizeof from, "%u",
                   (unsigned)(rnd(cl) % cl->sh->o->values));
    (void)snprintf(to, sizeof to, "%u",
                   (unsigned)(rnd(cl) % cl->sh->o->values));
    (void)snprintf(args, sizeof args, "%s %s", from, to);
    record(cl, "invoke", "cas", key, args, "");
    code = get(cl, key, cur, sizeof cur, rv, sizeof rv);
    if (code != 0 || strcmp(cur, from) != 0 || rv[0] == '\0') {
        completed(cl, -ECANCELED, "cas", key, args, NULL); /* fail */
        return;
    }
    code = put(cl, key, to, rv, new_rv, sizeof new_rv);
    completed(cl, code, "cas", key, args, new_rv);
}

static void register_step(struct client *cl)
{
    char key[64];

    pick_key(cl, key, sizeof key);
    switch (rnd(cl) % 3) {
    case 0: op_read(cl, key); break;
    case 1: op_write(cl, key); break;
    default: op_cas(cl, key);
    }
}

/* Add one value no one else adds: the client's index and a count. */
static void set_step(struct client *cl)
{
    struct c8s_response r = {0};
    char value[32], body[128], path[256];
    int code;

    (void)snprintf(value, sizeof value, "%lu",
                   (unsigned long)cl->index * 1000000000UL + ++cl->added);
    (void)snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"s-%s\"}}",
                   value);
    path_of(cl->sh, NULL, path, sizeof path);
    record(cl, "invoke", "add", "set", value, "");
    code = c8s_request(cl->c, "POST", path, NULL, body, strlen(body), &r,
                       NULL);
    c8s_response_clear(&r);
    completed(cl, code, "add", "set", value, NULL);
}

/* The generation the next add goes to: a fresh one after gen_size adds,
 * so every list stays a few pages long. */
static unsigned pick_generation(struct client *cl)
{
    struct shared *sh = cl->sh;
    unsigned g;

    pthread_mutex_lock(&sh->mu);
    if (++sh->gen_adds > sh->o->gen_size) {
        sh->gen_adds = 1;
        sh->gen++;
    }
    g = sh->gen;
    pthread_mutex_unlock(&sh->mu);
    return g;
}

/* resourceVersion of a response body's object or list, "" if none. */
static void body_rv(const struct c8s_response *r, char *rv, size_t size)
{
    struct c8s_obj *o = NULL;

    rv[0] = '\0';
    if (c8s_obj_from_json(r->body, r->body_len, &o, NULL) == 0)
        (void)snprintf(rv, size, "%s",
                       c8s_obj_str(c8s_obj_path(o, "metadata.resourceVersion"),
                                   ""));
    c8s_obj_free(o);
}

/* list: add a value no one else adds to the current generation. */
static void list_add(struct client *cl)
{
    struct c8s_response r = {0};
    char value[32], key[16], body[192], path[256], rv[32] = "";
    int code;

    (void)snprintf(value, sizeof value, "%lu",
                   (unsigned long)cl->index * 1000000000UL + ++cl->added);
    (void)snprintf(key, sizeof key, "g%u", pick_generation(cl));
    (void)snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"s-%s\","
                   "\"labels\":{\"jepsen-gen\":\"%s\"}}}", value, key);
    path_of(cl->sh, NULL, path, sizeof path);
    record(cl, "invoke", "add", key, value, "");
    code = c8s_request(cl->c, "POST", path, NULL, body, strlen(body), &r,
                       NULL);
    if (code == 0)
        body_rv(&r, rv, sizeof rv);
    c8s_response_clear(&r);
    completed(cl, code, "add", key, value, rv);
}

/* The items of a paged list, as history lines in the making. */
struct listing {
    char rv[32];    /* the first page's: the snapshot's revision */
    char *text;     /* item lines, without time and process */
    size_t len, n;
    FILE *f;
};

/* GET one page of the namespace's ConfigMaps: @query ("limit=N...") and
 * continue token @cont ("" for the first page); the decoded list to
 * *@ret (the caller frees it) and the next token to @cont ("" at the
 * end). */
static int get_page(struct client *cl, const char *query, char *cont,
                    size_t size, struct c8s_obj **ret)
{
    struct c8s_response r = {0};
    struct c8s_obj *o = NULL;
    char path[2600], esc[2100];
    int code;

    *ret = NULL;
    if (c8s_url_escape(cont, esc, sizeof esc) < 0)
        return -ENAMETOOLONG;
    path_of(cl->sh, NULL, path, sizeof path);
    (void)snprintf(path + strlen(path), sizeof path - strlen(path),
                   "?%s%s%s", query, cont[0] != '\0' ? "&continue=" : "", esc);
    code = c8s_request(cl->c, "GET", path, NULL, NULL, 0, &r, NULL);
    if (code == 0 && c8s_obj_from_json(r.body, r.body_len, &o, NULL) != 0)
        code = -C8S_EMALFORMED;
    c8s_response_clear(&r);
    if (code == 0) {
        (void)snprintf(cont, size, "%s",
                       c8s_obj_str(c8s_obj_path(o, "metadata.continue"), ""));
        *ret = o;
    }
    return code;
}

/* One page of generation @key into @l; the next continue token to @cont
 * ("" at the end). */
static int list_page(struct client *cl, const char *key, unsigned limit,
                     char *cont, size_t size, struct listing *l)
{
    struct c8s_obj *o = NULL;
    char query[128];
    int code;

    (void)snprintf(query, sizeof query,
                   "labelSelector=jepsen-gen%%3D%s&limit=%u", key, limit);
    code = get_page(cl, query, cont, size, &o);
    if (code == 0) {
        const struct c8s_obj *items = c8s_obj_path(o, "items");

        if (l->rv[0] == '\0')
            (void)snprintf(l->rv, sizeof l->rv, "%s",
                           c8s_obj_str(c8s_obj_path(o,
                                                    "metadata.resourceVersion"),
                                       ""));
        for (size_t i = 0; i < c8s_obj_len(items); i++) {
            const struct c8s_obj *it = c8s_obj_at(items, i);
            const char *name = c8s_obj_str(c8s_obj_path(it, "metadata.name"),
                                           "");

            fprintf(l->f, "ok item %s %s rev=%s\n", key,
                    strncmp(name, "s-", 2) == 0 ? name + 2 : name,
                    c8s_obj_str(c8s_obj_path(it, "metadata.resourceVersion"),
                                "0"));
            l->n++;
        }
    }
    c8s_obj_free(o);
    return code;
}

/* The ok completion of a list and its items, together in the history. */
static void record_listing(struct client *cl, const char *key,
                           const struct listing *l)
{
    struct shared *sh = cl->sh;
    long long t;

    pthread_mutex_lock(&sh->mu);
    t = (long long)(now_ns() - sh->start_ns);
    fprintf(sh->out, "%lld %d ok list %s %zu rev=%s\n", t, cl->process, key,
            l->n, l->rv);
    for (const char *p = l->text, *end; p < l->text + l->len; p = end + 1) {
        end = memchr(p, '\n', (size_t)(l->text + l->len - p));
        fprintf(sh->out, "%lld %d %.*s\n", t, cl->process, (int)(end - p), p);
    }
    pthread_mutex_unlock(&sh->mu);
    atomic_fetch_add(&sh->ok, 1);
}

/* list: a paged LIST of the current or the previous generation, a few
 * items per page, so a list spans revisions that adds go on making. */
static void list_read(struct client *cl)
{
    struct listing l = {.text = NULL};
    char key[16], cont[2048] = "";
    unsigned gen, limit = 1 + (unsigned)(rnd(cl) % 10);
    int code;

    pthread_mutex_lock(&cl->sh->mu);
    gen = cl->sh->gen;
    pthread_mutex_unlock(&cl->sh->mu);
    if (gen > 0 && rnd(cl) % 2 == 0)
        gen--;
    (void)snprintf(key, sizeof key, "g%u", gen);
    if ((l.f = open_memstream(&l.text, &l.len)) == NULL)
        return;
    record(cl, "invoke", "list", key, "-", "");
    do
        code = list_page(cl, key, limit, cont, sizeof cont, &l);
    while (code == 0 && cont[0] != '\0');
    fclose(l.f);
    if (code == 0 && l.rv[0] == '\0')
        code = -C8S_EMALFORMED;
    if (code == 0) {
        record_listing(cl, key, &l);
    } else { /* a read: any failure is a fail */
        count_code(cl->sh, code);
        record(cl, "fail", "list", key, "-", "");
        atomic_fetch_add(&cl->sh->fail, 1);
    }
    free(l.text);
}

static void list_step(struct client *cl)
{
    if (rnd(cl) % 2 == 0)
        list_add(cl);
    else
        list_read(cl);
}

/* monotonic: the revision of a LIST of the namespace (limit 1), kept
 * under the key "list". */
static void op_list_revision(struct client *cl)
{
    struct c8s_response r = {0};
    char path[256], rv[32] = "";
    int code;

    path_of(cl->sh, NULL, path, sizeof path);
    strcat(path, "?limit=1");
    record(cl, "invoke", "list", "list", "-", "");
    code = c8s_request(cl->c, "GET", path, NULL, NULL, 0, &r, NULL);
    if (code == 0)
        body_rv(&r, rv, sizeof rv);
    c8s_response_clear(&r);
    if (code == 0 && rv[0] == '\0')
        code = -C8S_EMALFORMED;
    completed(cl, code == 0 ? 0 : -EIO, "list", "list", "-", rv);
}

/* monotonic: registers and lists, each operation through a member picked
 * at random, so what one client sees comes from all of them. */
static void monotonic_step(struct client *cl)
{
    char key[64];

    cl->c = cl->per_server[rnd(cl) % cl->sh->o->n_servers];
    if (rnd(cl) % 4 == 0) {
        op_list_revision(cl);
        return;
    }
    pick_key(cl, key, sizeof key);
    switch (rnd(cl) % 3) {
    case 0: op_read(cl, key); break;
    case 1: op_write(cl, key); break;
    default: op_cas(cl, key);
    }
}

static void *client_main(void *arg)
{
    struct client *cl = arg;

    while (now_ns() < cl->sh->end_ns)
        cl->sh->step(cl);
    return NULL;
}

/* A client of server @server (of o->servers; any if there are none). */
static int open_client(const struct jep_workload_opts *o, size_t server,
                       struct c8s_client **ret, struct err *e)
{
    struct c8s_kubeconfig_opts ko = {
        .kubeconfig = o->kubeconfig,
        .server = o->n_servers ? o->servers[server % o->n_servers] : NULL};
    struct c8s_client_opts co = {.timeout_ms = (int)o->timeout_ms,
                                 .connect_timeout_ms = 1000};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_error ce = {0};
    int rv;

    rv = c8s_kubeconfig_load(&ko, &kc, &ce);
    if (rv == 0)
        rv = c8s_client_new(kc, &co, ret, &ce);
    c8s_kubeconfig_free(kc);
    return rv != 0 ? err_setf(e, rv, "client of %s: %s",
                              ko.server ? ko.server : "the cluster",
                              ce.message)
                   : 0;
}

/* @cl's client, bound to one server; with @spread, one per server too
 * (the step picks one for each operation). */
static int client_open(struct client *cl, const struct jep_workload_opts *o,
                       bool spread, struct err *e)
{
    int rv = open_client(o, cl->index, &cl->own, e);

    cl->c = cl->own;
    if (rv != 0 || !spread || o->n_servers == 0)
        return rv;
    cl->per_server = mem_calloc(o->n_servers, sizeof *cl->per_server);
    if (cl->per_server == NULL)
        return err_setf(e, -ENOMEM, "out of memory");
    for (size_t i = 0; i < o->n_servers && rv == 0; i++)
        rv = open_client(o, i, &cl->per_server[i], e);
    return rv;
}

static void client_close(struct client *cl, size_t n_servers)
{
    for (size_t i = 0; cl->per_server != NULL && i < n_servers; i++)
        c8s_client_free(cl->per_server[i]);
    mem_free(cl->per_server);
    c8s_client_free(cl->own);
}

/* The namespace, made by the first client (retried while the cluster
 * settles). */
static int make_namespace(struct client *cl, struct err *e)
{
    char body[256];
    struct c8s_error ce = {0};
    int rv = -EAGAIN;

    (void)snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"}}",
                   cl->sh->o->ns);
    for (int i = 0; i < 50 && rv != 0 && rv != -C8S_EEXISTS; i++) {
        struct c8s_response r = {0};

        rv = c8s_request(cl->c, "POST", "/api/v1/namespaces", NULL, body,
                         strlen(body), &r, &ce);
        c8s_response_clear(&r);
        if (rv != 0 && rv != -C8S_EEXISTS) {
            struct timespec ts = {0, 200000000};

            nanosleep(&ts, NULL);
        }
    }
    return rv == 0 || rv == -C8S_EEXISTS
               ? 0
               : err_setf(e, rv, "creating namespace %s: %s", cl->sh->o->ns,
                          ce.message);
}

/* watch: a watcher on one server, from its first LIST's revision on,
 * every event logged; after an error it resumes from the last revision
 * it was given (same process: its sequence must go on without a gap);
 * when the history it needs is compacted, it lists again as a new
 * process. After the writes end it drains until it has seen the highest
 * acknowledged revision. */
struct watcher {
    struct shared *sh;
    struct client cl; /* process, client and history lines */
    long long last;   /* revision of the last event */
    char error[256];
};

#define WATCH_DRAIN_NS (30 * 1000000000LL)


/* Open @w's watch from @rv, or from a fresh LIST's revision if @rv is
 * NULL, retrying until the drain deadline. */
static struct c8s_watch *watch_open(struct watcher *w, const char *rv)
{
    char path[256], list_rv[32] = "";
    struct c8s_watch *cw = NULL;

    path_of(w->sh, NULL, path, sizeof path);
    while (now_ns() < w->sh->end_ns + WATCH_DRAIN_NS) {
        if (rv == NULL) {
            struct c8s_response r = {0};
            char lpath[300];

            (void)snprintf(lpath, sizeof lpath, "%s?limit=1", path);
            if (c8s_request(w->cl.c, "GET", lpath, NULL, NULL, 0, &r,
                            NULL) == 0)
                body_rv(&r, list_rv, sizeof list_rv);
            c8s_response_clear(&r);
            if (list_rv[0] == '\0') {
                pause_ms(200);
                continue;
            }
        }
        if (c8s_watch_open(w->cl.c, path, rv != NULL ? rv : list_rv, &cw,
                           NULL) == 0) {
            if (rv == NULL) { /* a new start: everything after it is due */
                long long from = strtoll(list_rv, NULL, 10);

                record(&w->cl, "ok", "watch", w->sh->o->ns, list_rv, "");
                if (from > w->last)
                    w->last = from;
            }
            return cw;
        }
        pause_ms(200);
    }
    return NULL;
}

static bool watcher_done(struct watcher *w)
{
    return atomic_load(&w->sh->writers_done) &&
           w->last >= atomic_load(&w->sh->max_rev);
}

static void watch_event(struct watcher *w, struct c8s_event *ev)
{
    const char *name = c8s_obj_str(c8s_obj_path(ev->object, "metadata.name"),
                                   "?");
    char rev[40];

    w->last = strtoll(ev->resource_version, NULL, 10);
    (void)snprintf(rev, sizeof rev, "%lld", w->last);
    record(&w->cl, "ok", "event", name, rev, "");
    c8s_obj_free(ev->object);
}

static void *watcher_main(void *arg)
{
    struct watcher *w = arg;
    struct c8s_watch *cw = watch_open(w, NULL);

    while (cw != NULL && !watcher_done(w)) {
        struct c8s_event ev = {0};
        char resume[32];
        int code = c8s_watch_next(cw, 500, &ev, NULL);

        if (code == 0) {
            watch_event(w, &ev);
            continue;
        }
        if (now_ns() >= w->sh->end_ns + WATCH_DRAIN_NS)
            break;
        if (code == -ETIMEDOUT)
            continue;
        (void)snprintf(resume, sizeof resume, "%s",
                       c8s_watch_resource_version(cw));
        c8s_watch_close(cw);
        if (code == -C8S_ECOMPACTED) { /* a new watcher, from a new list */
            w->cl.process = atomic_fetch_add(&w->sh->next_process, 1);
            cw = watch_open(w, NULL);
        } else {
            pause_ms(200);
            cw = watch_open(w, resume);
        }
    }
    if (cw == NULL || !watcher_done(w))
        (void)snprintf(w->error, sizeof w->error,
                       "watcher %d (%s) saw revision %lld, not %lld, within "
                       "%lld s after the writes ended", w->cl.process,
                       w->sh->o->n_servers
                           ? w->sh->o->servers[w->cl.index % w->sh->o->n_servers]
                           : "the cluster",
                       w->last, (long long)atomic_load(&w->sh->max_rev),
                       WATCH_DRAIN_NS / 1000000000);
    c8s_watch_close(cw);
    return NULL;
}

/* Run @n watchers (one per server in turn) beside the clients; an error
 * when one did not catch up. */
static int run_watchers(struct shared *sh, unsigned n, pthread_t *writers,
                        unsigned n_writers, struct err *e)
{
    struct watcher *ws = mem_calloc(n, sizeof *ws);
    unsigned started = 0;
    int rv = 0;

    if (ws == NULL)
        return err_setf(e, -ENOMEM, "out of memory");
    for (unsigned i = 0; i < n && rv == 0; i++) {
        ws[i] = (struct watcher){.sh = sh};
        ws[i].cl = (struct client){.sh = sh, .index = i,
                                   .process = 2000000 + (int)i};
        rv = open_client(sh->o, i, &ws[i].cl.own, e);
        ws[i].cl.c = ws[i].cl.own;
    }
    for (unsigned i = 0; i < n && rv == 0; i++) {
        if (pthread_create(&ws[i].cl.t, NULL, watcher_main, &ws[i]) != 0)
            rv = err_setf(e, -EAGAIN, "cannot start watcher %u", i);
        else
            started++;
    }
    for (unsigned i = 0; i < n_writers; i++)
        pthread_join(writers[i], NULL);
    atomic_store(&sh->writers_done, true);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(ws[i].cl.t, NULL);
        if (rv == 0 && ws[i].error[0] != '\0')
            rv = err_setf(e, -ETIMEDOUT, "%s", ws[i].error);
    }
    for (unsigned i = 0; i < n; i++)
        client_close(&ws[i].cl, 0);
    mem_free(ws);
    return rv;
}

static void wall_clock_header(FILE *out)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(out, "# start %lld\n",
            (long long)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

static void collect_stats(struct shared *sh, struct jep_workload_stats *st)
{
    st->ok = atomic_load(&sh->ok);
    st->fail = atomic_load(&sh->fail);
    st->info = atomic_load(&sh->info);
    st->why[0] = '\0';
    for (size_t i = 0; i < 16 && sh->why[i].code != 0; i++) {
        size_t l = strlen(st->why);

        (void)snprintf(st->why + l, sizeof st->why - l, "%s%s %lu",
                       l ? ", " : "", err_name(sh->why[i].code),
                       sh->why[i].n);
    }
}

/* Clients running @step (with @spread: each operation through a server at
 * random) and @watchers watchers, for the time limit. */
static int run_clients(const struct jep_workload_opts *o, FILE *out,
                       void (*step)(struct client *cl), bool spread,
                       unsigned watchers, struct jep_workload_stats *stats,
                       struct err *e)
{
    struct shared sh = {.o = o, .out = out, .step = step};
    struct client *cls;
    pthread_t *threads;
    unsigned started = 0;
    int rv = 0;

    if (o->clients == 0 || o->keys == 0 || o->ops_per_key == 0 ||
        o->values == 0 || o->gen_size == 0)
        return err_setf(e, -EINVAL, "clients, keys, ops per key, values and "
                        "generation size must be positive");
    if (spread && o->n_servers == 0)
        return err_setf(e, -EINVAL, "this workload needs the servers listed");
    cls = mem_calloc(o->clients, sizeof *cls);
    threads = mem_calloc(o->clients, sizeof *threads);
    sh.key_gen = mem_calloc(o->keys, sizeof *sh.key_gen);
    sh.key_ops = mem_calloc(o->keys, sizeof *sh.key_ops);
    if (cls == NULL || threads == NULL || sh.key_gen == NULL ||
        sh.key_ops == NULL) {
        rv = err_setf(e, -ENOMEM, "out of memory");
        goto out;
    }
    pthread_mutex_init(&sh.mu, NULL);
    atomic_store(&sh.next_process, (int)o->clients);
    for (unsigned i = 0; i < o->clients && rv == 0; i++) {
        cls[i] = (struct client){.sh = &sh, .index = i, .process = (int)i,
                                 .rng = 0x9e3779b97f4a7c15ULL * (i + 1)};
        rv = client_open(&cls[i], o, spread, e);
    }
    if (rv == 0)
        rv = make_namespace(&cls[0], e);
    sh.start_ns = now_ns();
    sh.end_ns = sh.start_ns + (int64_t)o->time_limit_ms * 1000000;
    wall_clock_header(out);
    for (unsigned i = 0; i < o->clients && rv == 0; i++) {
        if (pthread_create(&threads[i], NULL, client_main, &cls[i]) != 0)
            rv = err_setf(e, -EAGAIN, "cannot start client %u", i);
        else
            started++;
    }
    if (watchers > 0) {
        int wrv = run_watchers(&sh, watchers, threads, started, e);

        rv = rv != 0 ? rv : wrv;
    } else {
        for (unsigned i = 0; i < started; i++)
            pthread_join(threads[i], NULL);
    }
    pthread_mutex_destroy(&sh.mu);
    if (stats != NULL)
        collect_stats(&sh, stats);
out:
    for (unsigned i = 0; cls != NULL && i < o->clients; i++)
        client_close(&cls[i], o->n_servers);
    mem_free(cls);
    mem_free(threads);
    mem_free(sh.key_gen);
    mem_free(sh.key_ops);
    return rv;
}

int jep_workload_run(const char *name, const struct jep_workload_opts *o,
                     FILE *out, struct jep_workload_stats *stats,
                     struct err *e)
{
    if (strcmp(name, "register") == 0)
        return run_clients(o, out, register_step, false, 0, stats, e);
    if (strcmp(name, "set") == 0)
        return run_clients(o, out, set_step, false, 0, stats, e);
    if (strcmp(name, "watch") == 0)
        return run_clients(o, out, register_step, false,
                           o->watchers ? o->watchers
                                       : (unsigned)(o->n_servers ? o->n_servers
                                                                 : 1),
                           stats, e);
    if (strcmp(name, "list") == 0)
        return run_clients(o, out, list_step, false, 0, stats, e);
    if (strcmp(name, "monotonic") == 0)
        return run_clients(o, out, monotonic_step, true, 0, stats, e);
    return err_setf(e, -EINVAL, "no workload '%s' (register, set, watch, "
                    "list or monotonic)", name);
}

/* One LIST page of the set into @out as seen lines of @cl; the next
 * continue token goes to @cont ("" at the end). */
static int read_page(struct client *cl, char *cont, size_t size)
{
    struct c8s_obj *o = NULL;
    int code = get_page(cl, "limit=500", cont, size, &o);

    if (code == 0) {
        const struct c8s_obj *items = c8s_obj_path(o, "items");

        for (size_t i = 0; i < c8s_obj_len(items); i++) {
            const char *name = c8s_obj_str(
                c8s_obj_path(c8s_obj_at(items, i), "metadata.name"), "");

            if (strncmp(name, "s-", 2) == 0)
                record(cl, "ok", "seen", "set", name + 2, "");
        }
    }
    c8s_obj_free(o);
    return code;
}

int jep_set_final_read(const struct jep_workload_opts *o, FILE *out,
                       struct err *e)
{
    struct shared sh = {.o = o, .out = out};
    int rv = 0;

    pthread_mutex_init(&sh.mu, NULL);
    sh.start_ns = now_ns();
    sh.end_ns = sh.start_ns + (int64_t)o->time_limit_ms * 1000000;
    for (size_t i = 0; i < (o->n_servers ? o->n_servers : 1) && rv == 0; i++) {
        struct client cl = {.sh = &sh, .index = (unsigned)i,
                            .process = 1000000 + (int)i};
        char cont[2048] = "";
        char *buf = NULL;
        size_t len = 0;
        FILE *page_out = NULL;

        if ((rv = client_open(&cl, o, false, e)) != 0)
            break;
        /* A whole read is kept only once it succeeded: retried from the
         * start (a fresh snapshot) until the deadline. */
        for (;;) {
            int code = 0;

            page_out = open_memstream(&buf, &len);
            if (page_out == NULL) {
                rv = err_setf(e, -ENOMEM, "out of memory");
                break;
            }
            sh.out = page_out;
            cont[0] = '\0';
            do
                code = read_page(&cl, cont, sizeof cont);
            while (code == 0 && cont[0] != '\0');
            fclose(page_out);
            if (code == 0) {
                fwrite(buf, 1, len, out);
                break;
            }
            free(buf);
            buf = NULL;
            if (now_ns() >= sh.end_ns) {
                rv = err_setf(e, code, "final read through %s: %s",
                              o->servers ? o->servers[i] : "the cluster",
                              err_str(code));
                break;
            }
            struct timespec ts = {0, 500000000};
            nanosleep(&ts, NULL);
        }
        free(buf);
        client_close(&cl, 0);
    }
    pthread_mutex_destroy(&sh.mu);
    return rv;
}
