/* Linearizability of register histories, key by key (linear.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jepsen/linear.h"
#include "lib/mem.h"

#define NEVER INT64_MAX /* the completion time of an unknown outcome */
#define CACHE_MAX_BYTES ((size_t)1 << 31)

struct op {
    const char *key;
    enum jep_f f;
    int64_t value, new_value; /* read: the value read; cas: expected, new */
    int64_t call, ret;        /* ret NEVER: the outcome is unknown */
    int process;
    size_t line_call, line_ret; /* line_ret 0: no completion */
    bool dropped;               /* failed, or a read of unknown outcome */
};

/* ---- pairing invocations with completions --------------------------------*/

/* Process -> its pending operation, open addressing. */
struct pending {
    int *proc;
    size_t *op;
    size_t cap, n;
};

static size_t slot_of(const struct pending *p, int proc)
{
    size_t i = ((size_t)proc * 0x9e3779b97f4a7c15ULL) & (p->cap - 1);

    while (p->proc[i] != -1 && p->proc[i] != proc)
        i = (i + 1) & (p->cap - 1);
    return i;
}

static int pending_grow(struct pending *p)
{
    struct pending n = {.cap = p->cap ? p->cap * 2 : 64};

    n.proc = mem_malloc(n.cap * sizeof *n.proc);
    n.op = mem_malloc(n.cap * sizeof *n.op);
    if (n.proc == NULL || n.op == NULL) {
        mem_free(n.proc);
        mem_free(n.op);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n.cap; i++)
        n.proc[i] = -1;
    for (size_t i = 0; i < p->cap; i++)
        if (p->proc[i] >= 0) {
            size_t s = slot_of(&n, p->proc[i]);

            n.proc[s] = p->proc[i];
            n.op[s] = p->op[i];
            n.n++;
        }
    mem_free(p->proc);
    mem_free(p->op);
    *p = n;
    return 0;
}

/* Removal keeps probe chains whole by re-inserting the rest of the run. */
static void pending_del(struct pending *p, size_t s)
{
    p->proc[s] = -1;
    p->n--;
    for (size_t i = (s + 1) & (p->cap - 1); p->proc[i] != -1;
         i = (i + 1) & (p->cap - 1)) {
        int proc = p->proc[i];
        size_t op = p->op[i], t;

        p->proc[i] = -1;
        t = slot_of(p, proc);
        p->proc[t] = proc;
        p->op[t] = op;
    }
}

static const char *f_name(enum jep_f f)
{
    return f == JEP_READ ? "read" : f == JEP_WRITE ? "write" : "cas";
}

static int invoke(const struct jep_event *ev, struct pending *p,
                  struct op **ops, size_t *n_ops, size_t *cap, struct err *e)
{
    size_t s;

    if ((p->n + 1) * 2 > p->cap && pending_grow(p) != 0)
        return err_setf(e, -ENOMEM, "out of memory");
    s = slot_of(p, ev->process);
    if (p->proc[s] == ev->process)
        return err_setf(e, -EINVAL, "line %zu: process %d invokes while its "
                        "operation from line %zu is pending", ev->line,
                        ev->process, (*ops)[p->op[s]].line_call);
    if (*n_ops == *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        struct op *v = mem_realloc(*ops, c * sizeof *v);

        if (v == NULL)
            return err_setf(e, -ENOMEM, "out of memory");
        *ops = v;
        *cap = c;
    }
    (*ops)[*n_ops] = (struct op){
        .key = ev->key, .f = ev->f, .value = ev->value,
        .new_value = ev->new_value, .call = ev->time_ns, .ret = NEVER,
        .process = ev->process, .line_call = ev->line,
        .dropped = ev->f == JEP_READ}; /* until a read completes ok */
    p->proc[s] = ev->process;
    p->op[s] = (*n_ops)++;
    p->n++;
    return 0;
}

static int complete(const struct jep_event *ev, struct pending *p,
                    struct op *ops, struct err *e)
{
    size_t s = p->cap ? slot_of(p, ev->process) : 0;
    struct op *o;

    if (p->cap == 0 || p->proc[s] != ev->process)
        return err_setf(e, -EINVAL, "line %zu: process %d completes an "
                        "operation it did not invoke", ev->line, ev->process);
    o = &ops[p->op[s]];
    if (o->f != ev->f || strcmp(o->key, ev->key) != 0)
        return err_setf(e, -EINVAL, "line %zu: completes %s %s, but line %zu "
                        "invoked %s %s", ev->line, f_name(ev->f), ev->key,
                        o->line_call, f_name(o->f), o->key);
    if (ev->time_ns < o->call)
        return err_setf(e, -EINVAL, "line %zu: completes before its "
                        "invocation (line %zu)", ev->line, o->line_call);
    pending_del(p, s);
    o->line_ret = ev->line;
    if (ev->type == JEP_FAIL) {
        o->dropped = true;
    } else if (ev->type == JEP_OK) {
        o->ret = ev->time_ns;
        if (o->f == JEP_READ) {
            o->value = ev->value;
            o->dropped = false;
        }
    } /* info: may take effect at any time after the call */
    return 0;
}

static int pair(const struct jep_history *h, struct op **ret, size_t *ret_n,
                struct err *e)
{
    struct pending p = {0};
    struct op *ops = NULL;
    size_t n = 0, cap = 0;
    int rv = 0;

    for (size_t i = 0; i < h->len && rv == 0; i++)
        rv = h->ev[i].f == JEP_EVENT || h->ev[i].f == JEP_ADD ||
                     h->ev[i].f == JEP_SEEN || h->ev[i].f == JEP_LIST ||
                     h->ev[i].f == JEP_ITEM || h->ev[i].f == JEP_WATCH
                 ? 0 /* watches: order.c; sets: set.c; lists: list.c */
             : h->ev[i].type == JEP_INVOKE
                 ? invoke(&h->ev[i], &p, &ops, &n, &cap, e)
                 : complete(&h->ev[i], &p, ops, e);
    mem_free(p.proc);
    mem_free(p.op);
    if (rv != 0) {
        mem_free(ops);
        return rv;
    }
    *ret = ops; /* operations still pending are unknown outcomes */
    *ret_n = n;
    return 0;
}

/* ---- the search within one key ---------------------------------------------*/

/* Configurations seen: (linearized set, value), in an arena of records of
 * 1 + words uint64s, indexed by an open-addressing table. */
struct cache {
    uint64_t *arena;
    size_t words, n, cap;
    uint32_t *slots; /* record index + 1; 0 empty */
    size_t n_slots;
};

static uint64_t hash_rec(const uint64_t *r, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= r[i];
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    return h;
}

static int cache_rehash(struct cache *c)
{
    size_t n = c->n_slots ? c->n_slots * 2 : 1024;
    uint32_t *s = mem_calloc(n, sizeof *s);

    if (s == NULL)
        return -ENOMEM;
    for (size_t r = 0; r < c->n; r++) {
        size_t i = hash_rec(c->arena + r * (c->words + 1), c->words + 1) &
                   (n - 1);

        while (s[i] != 0)
            i = (i + 1) & (n - 1);
        s[i] = (uint32_t)(r + 1);
    }
    mem_free(c->slots);
    c->slots = s;
    c->n_slots = n;
    return 0;
}

/* 1 if (state, bits) is new (and now remembered), 0 if seen, or -errno. */
static int cache_add(struct cache *c, int64_t state, const uint64_t *bits)
{
    size_t rw = c->words + 1, i;
    uint64_t *rec;

    if ((c->n + 1) * 2 > c->n_slots && cache_rehash(c) != 0)
        return -ENOMEM;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        uint64_t *a;

        if (cap * rw * sizeof *a > CACHE_MAX_BYTES || cap >= UINT32_MAX)
            return -E2BIG;
        if ((a = mem_realloc(c->arena, cap * rw * sizeof *a)) == NULL)
            return -ENOMEM;
        c->arena = a;
        c->cap = cap;
    }
    rec = c->arena + c->n * rw;
    rec[0] = (uint64_t)state;
    memcpy(rec + 1, bits, c->words * sizeof *bits);
    i = hash_rec(rec, rw) & (c->n_slots - 1);
    while (c->slots[i] != 0) {
        if (memcmp(c->arena + (c->slots[i] - 1) * rw, rec,
                   rw * sizeof *rec) == 0)
            return 0;
        i = (i + 1) & (c->n_slots - 1);
    }
    c->slots[i] = (uint32_t)(++c->n);
    return 1;
}

static void cache_free(struct cache *c)
{
    mem_free(c->arena);
    mem_free(c->slots);
}

/* Can @o take effect on @s? Then *@ns is the value after it. */
static bool step(const struct op *o, int64_t s, int64_t *ns)
{
    switch (o->f) {
    case JEP_READ:
        *ns = s;
        return o->value == s;
    case JEP_WRITE:
        *ns = o->value;
        return true;
    default:
        *ns = o->new_value;
        return s == o->value;
    }
}

struct entry {
    int64_t time;
    size_t op;
    bool call;
};

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    if (x->call != y->call) /* at one instant, calls first: concurrent */
        return x->call ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op;
}

static void fmt_value(int64_t v, char *buf, size_t size)
{
    if (v == JEP_NIL)
        (void)snprintf(buf, size, "nothing");
    else
        (void)snprintf(buf, size, "%lld", (long long)v);
}

static void describe(const struct op *o, char *buf, size_t size)
{
    char v[32], n[32];

    fmt_value(o->value, v, sizeof v);
    fmt_value(o->new_value, n, sizeof n);
    if (o->f == JEP_READ)
        (void)snprintf(buf, size, "a read that returned %s", v);
    else if (o->f == JEP_WRITE)
        (void)snprintf(buf, size, "a write of %s", v);
    else
        (void)snprintf(buf, size, "a cas from %s to %s", v, n);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* A read of a value no write or cas (of any outcome but fail) wrote: no
 * search needed, and a clearer message. 1 found (explained in @a), 0 none,
 * -ENOMEM. */
static int find_phantom(const struct op *const *ops, size_t n,
                        struct jep_anomaly *a)
{
    int64_t *w = mem_malloc((n + 1) * sizeof *w);
    size_t k = 0;
    int rv = 0;

    if (w == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (ops[i]->f != JEP_READ)
            w[k++] = ops[i]->f == JEP_WRITE ? ops[i]->value
                                            : ops[i]->new_value;
    qsort(w, k, sizeof *w, cmp_i64);
    for (size_t i = 0; i < n && rv == 0; i++) {
        const struct op *o = ops[i];

        if (o->f == JEP_READ && o->value != JEP_NIL &&
            bsearch(&o->value, w, k, sizeof *w, cmp_i64) == NULL) {
            char what[128];

            describe(o, what, sizeof what);
            (void)snprintf(a->what, sizeof a->what, "%s by process %d "
                           "(lines %zu-%zu): no operation ever wrote that "
                           "value", what, o->process, o->line_call,
                           o->line_ret);
            rv = 1;
        }
    }
    mem_free(w);
    return rv;
}

static void explain(size_t n, size_t best, int64_t best_state,
                    const struct op *blocked, struct jep_anomaly *a)
{
    char what[128], held[32];

    describe(blocked, what, sizeof what);
    fmt_value(best_state, held, sizeof held);
    (void)snprintf(a->what, sizeof a->what, "not linearizable: at most %zu "
                   "of %zu operations can be put in an order that explains "
                   "them; after those the register holds %s, and %s by "
                   "process %d (lines %zu-%zu, invoked at %lld ns, completed "
                   "at %lld ns) cannot take effect then or before its "
                   "completion", best, n, held, what, blocked->process,
                   blocked->line_call, blocked->line_ret,
                   (long long)blocked->call, (long long)blocked->ret);
}

struct search {
    const struct op *const *ops;
    size_t n;
    struct entry *ent;     /* 1..2n; 0 is the head */
    size_t *next, *prev, *match;
    uint64_t *bits;
    struct cache cache;
    size_t *stack_ent;
    int64_t *stack_state;
};

static void lift(struct search *s, size_t e)
{
    size_t r = s->match[e];

    s->next[s->prev[e]] = s->next[e];
    s->prev[s->next[e]] = s->prev[e];
    s->next[s->prev[r]] = s->next[r];
    s->prev[s->next[r]] = s->prev[r];
}

static void unlift(struct search *s, size_t e)
{
    size_t r = s->match[e];

    s->prev[s->next[r]] = r;
    s->next[s->prev[r]] = r;
    s->prev[s->next[e]] = e;
    s->next[s->prev[e]] = e;
}

/* 1 linearizable, 0 not (explained in @a), or -errno. */
static int search_run(struct search *s, struct jep_anomaly *a)
{
    size_t tail = 2 * s->n + 1; /* a sentinel after the last entry */
    size_t e, depth = 0, best = 0;
    int64_t state = JEP_NIL, best_state = JEP_NIL;
    const struct op *blocked = NULL;

    e = s->next[0];
    while (s->next[0] != tail) {
        const struct entry *en = &s->ent[e];

        if (e == tail)
            return -EPROTO; /* calls come before their completions */
        if (en->call) {
            const struct op *o = s->ops[en->op];
            int64_t ns;

            if (step(o, state, &ns)) {
                int rv;

                s->bits[en->op / 64] |= 1ULL << (en->op % 64);
                rv = cache_add(&s->cache, ns, s->bits);
                if (rv < 0)
                    return rv;
                if (rv == 1) {
                    s->stack_ent[depth] = e;
                    s->stack_state[depth++] = state;
                    state = ns;
                    lift(s, e);
                    e = s->next[0];
                    continue;
                }
                s->bits[en->op / 64] &= ~(1ULL << (en->op % 64));
            }
            e = s->next[e];
            continue;
        }
        /* A completion reached: its operation was not placed before it. */
        if (s->ops[en->op]->ret == NEVER)
            return 1; /* only unknown outcomes left: they need not happen */
        if (depth >= best) {
            best = depth;
            best_state = state;
            blocked = s->ops[en->op];
        }
        if (depth == 0) {
            explain(s->n, best, best_state, blocked, a);
            return 0;
        }
        e = s->stack_ent[--depth];
        state = s->stack_state[depth];
        s->bits[s->ent[e].op / 64] &= ~(1ULL << (s->ent[e].op % 64));
        unlift(s, e);
        e = s->next[e];
    }
    return 1;
}

static int check_key(const struct op *const *ops, size_t n,
                     struct jep_anomaly *a)
{
    struct search s = {.ops = ops, .n = n};
    size_t m = 2 * n + 2;
    int rv = -ENOMEM;

    s.cache.words = (n + 63) / 64;
    s.ent = mem_calloc(m, sizeof *s.ent);
    s.next = mem_calloc(m, sizeof *s.next);
    s.prev = mem_calloc(m, sizeof *s.prev);
    s.match = mem_calloc(m, sizeof *s.match);
    s.bits = mem_calloc(s.cache.words + 1, sizeof *s.bits);
    s.stack_ent = mem_calloc(n + 1, sizeof *s.stack_ent);
    s.stack_state = mem_calloc(n + 1, sizeof *s.stack_state);
    if (s.ent && s.next && s.prev && s.match && s.bits && s.stack_ent &&
        s.stack_state) {
        for (size_t i = 0; i < n; i++) {
            s.ent[1 + 2 * i] = (struct entry){ops[i]->call, i, true};
            s.ent[2 + 2 * i] = (struct entry){ops[i]->ret, i, false};
        }
        qsort(s.ent + 1, 2 * n, sizeof *s.ent, entry_cmp);
        size_t *ret_of = s.stack_ent; /* scratch: op -> its return entry */
        for (size_t i = 1; i <= 2 * n; i++)
            if (!s.ent[i].call)
                ret_of[s.ent[i].op] = i;
        for (size_t i = 1; i <= 2 * n; i++)
            if (s.ent[i].call)
                s.match[i] = ret_of[s.ent[i].op];
        for (size_t i = 0; i < m - 1; i++) {
            s.next[i] = i + 1;
            s.prev[i + 1] = i;
        }
        memcpy(a->key, ops[0]->key, strlen(ops[0]->key) + 1);
        rv = find_phantom(ops, n, a);
        rv = rv < 0 ? rv : rv == 1 ? 0 : search_run(&s, a);
    }
    mem_free(s.ent);
    mem_free(s.next);
    mem_free(s.prev);
    mem_free(s.match);
    mem_free(s.bits);
    mem_free(s.stack_ent);
    mem_free(s.stack_state);
    cache_free(&s.cache);
    return rv;
}

/* ---- verdicts and all keys -------------------------------------------------*/

void jep_verdict_add(struct jep_verdict *v, const char *key, const char *fmt,
                     ...)
{
    va_list ap;

    v->valid = false;
    if (v->n_anomalies < JEP_ANOMALIES_MAX) {
        struct jep_anomaly *a = &v->anomalies[v->n_anomalies];

        (void)snprintf(a->key, sizeof a->key, "%s", key);
        va_start(ap, fmt);
        (void)vsnprintf(a->what, sizeof a->what, fmt, ap);
        va_end(ap);
    }
    v->n_anomalies++;
}

static int by_key_then_call(const void *a, const void *b)
{
    const struct op *x = *(const struct op *const *)a;
    const struct op *y = *(const struct op *const *)b;
    int c = strcmp(x->key, y->key);

    if (c != 0)
        return c;
    return x->call < y->call ? -1 : x->call > y->call;
}

int jep_check_register(const struct jep_history *h, struct jep_verdict *v,
                       struct err *e)
{
    struct op *ops = NULL;
    const struct op **kept = NULL;
    size_t n = 0, k = 0;
    int rv;

    memset(v, 0, sizeof *v);
    v->valid = true;
    if ((rv = pair(h, &ops, &n, e)) != 0)
        return rv;
    if (n > 0 && (kept = mem_malloc(n * sizeof *kept)) == NULL) {
        mem_free(ops);
        return err_setf(e, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        if (!ops[i].dropped)
            kept[k++] = &ops[i];
    if (k > 0)
        qsort(kept, k, sizeof *kept, by_key_then_call);
    v->ops = k;
    for (size_t i = 0, j; i < k && rv == 0; i = j) {
        struct jep_anomaly a = {0};

        for (j = i + 1; j < k && strcmp(kept[j]->key, kept[i]->key) == 0; j++)
            ;
        v->keys++;
        rv = check_key(kept + i, j - i, &a);
        if (rv == 0) {
            v->valid = false;
            if (v->n_anomalies < JEP_ANOMALIES_MAX)
                v->anomalies[v->n_anomalies] = a;
            v->n_anomalies++;
        }
        rv = rv < 0 ? rv : 0;
    }
    mem_free(kept);
    mem_free(ops);
    if (rv == -E2BIG)
        return err_setf(e, rv, "a key's search outgrew %zu MiB: too many "
                        "concurrent operations on one key",
                        CACHE_MAX_BYTES >> 20);
    return rv < 0 ? err_setf(e, rv, "checking: %s", err_str(rv)) : 0;
}
