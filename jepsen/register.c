/* The register workload (register.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <c8s/c8s.h>

#include "jepsen/register.h"
#include "lib/mem.h"

struct shared {
    const struct jep_register_opts *o;
    FILE *out;
    pthread_mutex_t mu; /* the history file and the key table */
    int64_t start_ns, end_ns;
    unsigned *key_gen;  /* per slot: the generation in use */
    unsigned *key_ops;  /* per slot: operations on it so far */
    atomic_int next_process;
    atomic_ulong ok, fail, info;
};

struct client {
    struct shared *sh;
    unsigned index;
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

/* Could a write that returned @code have happened? */
static bool maybe_happened(int code)
{
    return code == -C8S_EUNKNOWN || code == -C8S_EOVERLOADED ||
           code == -C8S_EMALFORMED;
}

static void completed(struct client *cl, int code, const char *f,
                      const char *key, const char *value, const char *rv)
{
    char extra[64] = "";

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

static void *client_main(void *arg)
{
    struct client *cl = arg;

    while (now_ns() < cl->sh->end_ns) {
        char key[64];

        pick_key(cl, key, sizeof key);
        switch (rnd(cl) % 3) {
        case 0: op_read(cl, key); break;
        case 1: op_write(cl, key); break;
        default: op_cas(cl, key);
        }
    }
    return NULL;
}

static int client_open(struct client *cl, const struct jep_register_opts *o,
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

int jep_register_run(const struct jep_register_opts *o, FILE *out,
                     struct jep_register_stats *stats, struct err *e)
{
    struct shared sh = {.o = o, .out = out};
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
    }
out:
    for (unsigned i = 0; cls != NULL && i < o->clients; i++)
        c8s_client_free(cls[i].c);
    mem_free(cls);
    mem_free(sh.key_gen);
    mem_free(sh.key_ops);
    return rv;
}
