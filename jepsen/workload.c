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
    struct { int code; unsigned long n; } why[16]; /* non-ok codes, under mu */
};

struct client {
    struct shared *sh;
    unsigned index;
    unsigned long added; /* set: values this client added so far */
    struct c8s_client *c;
    int process;
    uint64_t rng;
    pthread_t t;
    int error;
    char why[512];
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
        if (rv != NULL && rv[0] != '\0')
            (void)snprintf(extra, sizeof extra, " rev=%s", rv);
        record(cl, "ok", f, key, value, extra);
        atomic_fetch_add(&cl->sh->ok, 1);
    } else if (maybe_happened(code)) {
        record(cl, "info", f, key, value, "");
        atomic_fetch_add(&cl->sh->info, 1);
        cl->process = atomic_fetch_add(&cl->sh->next_process, 1);
    } else {
        record(cl, "fail", f, key, value, "");
        atomic_fetch_add(&cl->sh->fail, 1);
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

static void *client_main(void *arg)
{
    struct client *cl = arg;

    while (now_ns() < cl->sh->end_ns)
        cl->sh->step(cl);
    return NULL;
}

static int client_open(struct client *cl, const struct jep_workload_opts *o,
                       struct err *e)
{
    struct c8s_kubeconfig_opts ko = {
        .kubeconfig = o->kubeconfig,
        .server = o->n_servers ? o->servers[cl->index % o->n_servers]
                               : NULL};
    struct c8s_client_opts co = {.timeout_ms = (int)o->timeout_ms,
                                 .connect_timeout_ms = 1000};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_error ce = {0};
    int rv;

    rv = c8s_kubeconfig_load(&ko, &kc, &ce);
    if (rv == 0)
        rv = c8s_client_new(kc, &co, &cl->c, &ce);
    c8s_kubeconfig_free(kc);
    return rv != 0 ? err_setf(e, rv, "client %u: %s", cl->index, ce.message)
                   : 0;
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

static int run_clients(const struct jep_workload_opts *o, FILE *out,
                       void (*step)(struct client *cl),
                       struct jep_workload_stats *stats, struct err *e)
{
    struct shared sh = {.o = o, .out = out, .step = step};
    struct client *cls;
    unsigned started = 0;
    int rv = 0;

    if (o->clients == 0 || o->keys == 0 || o->ops_per_key == 0 ||
        o->values == 0)
        return err_setf(e, -EINVAL, "clients, keys, ops per key and values "
                        "must be positive");
    cls = mem_calloc(o->clients, sizeof *cls);
    sh.key_gen = mem_calloc(o->keys, sizeof *sh.key_gen);
    sh.key_ops = mem_calloc(o->keys, sizeof *sh.key_ops);
    if (cls == NULL || sh.key_gen == NULL || sh.key_ops == NULL) {
        rv = err_setf(e, -ENOMEM, "out of memory");
        goto out;
    }
    pthread_mutex_init(&sh.mu, NULL);
    atomic_store(&sh.next_process, (int)o->clients);
    for (unsigned i = 0; i < o->clients && rv == 0; i++) {
        cls[i] = (struct client){.sh = &sh, .index = i, .process = (int)i,
                                 .rng = 0x9e3779b97f4a7c15ULL * (i + 1)};
        rv = client_open(&cls[i], o, e);
    }
    if (rv == 0)
        rv = make_namespace(&cls[0], e);
    sh.start_ns = now_ns();
    sh.end_ns = sh.start_ns + (int64_t)o->time_limit_ms * 1000000;
    for (unsigned i = 0; i < o->clients && rv == 0; i++, started++)
        if (pthread_create(&cls[i].t, NULL, client_main, &cls[i]) != 0)
            rv = err_setf(e, -EAGAIN, "cannot start client %u", i);
    for (unsigned i = 0; i < started; i++)
        pthread_join(cls[i].t, NULL);
    pthread_mutex_destroy(&sh.mu);
    if (stats != NULL) {
        stats->ok = atomic_load(&sh.ok);
        stats->fail = atomic_load(&sh.fail);
        stats->info = atomic_load(&sh.info);
        stats->why[0] = '\0';
        for (size_t i = 0; i < 16 && sh.why[i].code != 0; i++) {
            size_t l = strlen(stats->why);

            (void)snprintf(stats->why + l, sizeof stats->why - l, "%s%s %lu",
                           l ? ", " : "", err_name(sh.why[i].code),
                           sh.why[i].n);
        }
    }
out:
    for (unsigned i = 0; cls != NULL && i < o->clients; i++)
        c8s_client_free(cls[i].c);
    mem_free(cls);
    mem_free(sh.key_gen);
    mem_free(sh.key_ops);
    return rv;
}

int jep_register_run(const struct jep_workload_opts *o, FILE *out,
                     struct jep_workload_stats *stats, struct err *e)
{
    return run_clients(o, out, register_step, stats, e);
}

int jep_set_run(const struct jep_workload_opts *o, FILE *out,
                struct jep_workload_stats *stats, struct err *e)
{
    return run_clients(o, out, set_step, stats, e);
}

/* One LIST page of the set into @out as seen lines of @cl; the next
 * continue token goes to @cont ("" at the end). */
static int read_page(struct client *cl, char *cont, size_t size)
{
    struct c8s_response r = {0};
    struct c8s_obj *o = NULL;
    char path[2600], esc[2100];
    int code;

    if (c8s_url_escape(cont, esc, sizeof esc) < 0)
        return -ENAMETOOLONG;
    path_of(cl->sh, NULL, path, sizeof path);
    (void)snprintf(path + strlen(path), sizeof path - strlen(path),
                   "?limit=500%s%s", cont[0] != '\0' ? "&continue=" : "",
                   esc);
    code = c8s_request(cl->c, "GET", path, NULL, NULL, 0, &r, NULL);
    if (code == 0 && c8s_obj_from_json(r.body, r.body_len, &o, NULL) != 0)
        code = -C8S_EMALFORMED;
    if (code == 0) {
        const struct c8s_obj *items = c8s_obj_path(o, "items");

        for (size_t i = 0; i < c8s_obj_len(items); i++) {
            const char *name = c8s_obj_str(
                c8s_obj_path(c8s_obj_at(items, i), "metadata.name"), "");

            if (strncmp(name, "s-", 2) == 0)
                record(cl, "ok", "seen", "set", name + 2, "");
        }
        (void)snprintf(cont, size, "%s",
                       c8s_obj_str(c8s_obj_path(o, "metadata.continue"), ""));
    }
    c8s_obj_free(o);
    c8s_response_clear(&r);
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

        if ((rv = client_open(&cl, o, e)) != 0)
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
        c8s_client_free(cl.c);
    }
    pthread_mutex_destroy(&sh.mu);
    return rv;
}
