/* Work queue (c8s/workqueue.h). Every key the queue knows has one state
 * in a tree by key: whether it is queued (dirty), held by a worker
 * (processing), waiting for a time (in the tree by due time), and its
 * failure count. Ready keys form a FIFO list. One mutex guards it all;
 * getters sleep on a condition variable (monotonic clock). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/sys/tree.h>

#include <c8s/workqueue.h>

#include "client/conn.h"
#include "lib/mem.h"

#ifndef __unused
#define __unused __attribute__((__unused__)) /* for RB_GENERATE_STATIC */
#endif

struct item {
    RB_ENTRY(item) by_key;
    RB_ENTRY(item) by_due;
    char *key;
    bool dirty;       /* queued, or to be queued when processing ends */
    bool processing;  /* a worker holds it */
    bool waiting;     /* in the due tree */
    int64_t due;      /* monotonic ms, while waiting */
    unsigned failures;
    struct item *next; /* in the ready list */
    bool in_ready;
};

static int key_cmp(const struct item *a, const struct item *b)
{
    return strcmp(a->key, b->key);
}

static int due_cmp(const struct item *a, const struct item *b)
{
    if (a->due != b->due)
        return a->due < b->due ? -1 : 1;
    return strcmp(a->key, b->key);
}

RB_HEAD(by_key, item);
RB_HEAD(by_due, item);
RB_GENERATE_STATIC(by_key, item, by_key, key_cmp)
RB_GENERATE_STATIC(by_due, item, by_due, due_cmp)

struct c8s_workqueue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct by_key items;
    struct by_due delayed;
    struct item *head, *tail; /* ready */
    size_t ready;
    bool shut;
    int base_ms, max_ms;
};

int c8s_workqueue_new(const struct c8s_workqueue_opts *o,
                      struct c8s_workqueue **ret)
{
    struct c8s_workqueue *q = mem_calloc(1, sizeof *q);
    pthread_condattr_t attr;

    *ret = NULL;
    if (q == NULL)
        return -ENOMEM;
    q->base_ms = o != NULL && o->base_delay_ms > 0 ? o->base_delay_ms : 5;
    q->max_ms = o != NULL && o->max_delay_ms > 0 ? o->max_delay_ms : 1000000;
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &attr);
    pthread_condattr_destroy(&attr);
    RB_INIT(&q->items);
    RB_INIT(&q->delayed);
    *ret = q;
    return 0;
}

void c8s_workqueue_free(struct c8s_workqueue *q)
{
    struct item *it, *next;

    if (q == NULL)
        return;
    for (it = RB_MIN(by_key, &q->items); it != NULL; it = next) {
        next = RB_NEXT(by_key, &q->items, it);
        RB_REMOVE(by_key, &q->items, it);
        mem_free(it->key);
        mem_free(it);
    }
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    mem_free(q);
}

/* ---- items (mutex held) ----------------------------------------------------*/

static struct item *lookup(struct c8s_workqueue *q, const char *key)
{
    struct item probe = {.key = (char *)key};

    return RB_FIND(by_key, &q->items, &probe);
}

static struct item *lookup_or_new(struct c8s_workqueue *q, const char *key)
{
    struct item *it = lookup(q, key);

    if (it != NULL)
        return it;
    it = mem_calloc(1, sizeof *it);
    if (it == NULL || (it->key = mem_strdup(key)) == NULL) {
        mem_free(it);
        return NULL;
    }
    RB_INSERT(by_key, &q->items, it);
    return it;
}

/* Forget an item nobody needs any more. */
static void maybe_drop(struct c8s_workqueue *q, struct item *it)
{
    if (it->dirty || it->processing || it->waiting || it->in_ready ||
        it->failures > 0)
        return;
    RB_REMOVE(by_key, &q->items, it);
    mem_free(it->key);
    mem_free(it);
}

static void push_ready(struct c8s_workqueue *q, struct item *it)
{
    it->next = NULL;
    it->in_ready = true;
    if (q->tail != NULL)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->ready++;
    pthread_cond_signal(&q->cv);
}

static void mark_dirty(struct c8s_workqueue *q, struct item *it)
{
    if (it->waiting) { /* an add now beats a later one */
        RB_REMOVE(by_due, &q->delayed, it);
        it->waiting = false;
    }
    if (it->dirty)
        return;
    it->dirty = true;
    if (!it->processing)
        push_ready(q, it);
}

/* Move every due delayed item to the ready list. */
static void promote_due(struct c8s_workqueue *q, int64_t now)
{
    struct item *it;

    while ((it = RB_MIN(by_due, &q->delayed)) != NULL && it->due <= now) {
        RB_REMOVE(by_due, &q->delayed, it);
        it->waiting = false;
        mark_dirty(q, it);
    }
}

/* ---- adding ----------------------------------------------------------------*/

int c8s_workqueue_add(struct c8s_workqueue *q, const char *key)
{
    return c8s_workqueue_add_after(q, key, 0);
}

static int add_locked(struct c8s_workqueue *q, const char *key, int delay_ms,
                      bool failure)
{
    struct item *it;

    if (q->shut)
        return -C8S_ESHUTDOWN;
    if ((it = lookup_or_new(q, key)) == NULL)
        return -ENOMEM;
    if (failure) {
        int64_t d = q->base_ms;

        for (unsigned i = 0; i < it->failures && d < q->max_ms; i++)
            d *= 2;
        delay_ms = (int)(d < q->max_ms ? d : q->max_ms);
        it->failures++;
    }
    if (delay_ms <= 0 || it->dirty) {
        mark_dirty(q, it);
        return 0;
    }
    int64_t due = client__now_ms() + delay_ms;

    if (it->waiting) {
        if (it->due <= due)
            return 0; /* already due sooner */
        RB_REMOVE(by_due, &q->delayed, it);
    }
    it->due = due;
    it->waiting = true;
    RB_INSERT(by_due, &q->delayed, it);
    /* Every getter: one that wakes with a short timeout may leave, and a
     * long waiter must learn the new due time. */
    pthread_cond_broadcast(&q->cv);
    return 0;
}

int c8s_workqueue_add_after(struct c8s_workqueue *q, const char *key,
                            int delay_ms)
{
    int rv;

    pthread_mutex_lock(&q->mu);
    rv = add_locked(q, key, delay_ms, false);
    pthread_mutex_unlock(&q->mu);
    return rv;
}

int c8s_workqueue_add_rate_limited(struct c8s_workqueue *q, const char *key)
{
    int rv;

    pthread_mutex_lock(&q->mu);
    rv = add_locked(q, key, 0, true);
    pthread_mutex_unlock(&q->mu);
    return rv;
}

void c8s_workqueue_forget(struct c8s_workqueue *q, const char *key)
{
    struct item *it;

    pthread_mutex_lock(&q->mu);
    if ((it = lookup(q, key)) != NULL) {
        it->failures = 0;
        maybe_drop(q, it);
    }
    pthread_mutex_unlock(&q->mu);
}

unsigned c8s_workqueue_failures(struct c8s_workqueue *q, const char *key)
{
    struct item *it;
    unsigned n;

    pthread_mutex_lock(&q->mu);
    it = lookup(q, key);
    n = it != NULL ? it->failures : 0;
    pthread_mutex_unlock(&q->mu);
    return n;
}

/* ---- working ---------------------------------------------------------------*/

static void wait_until(struct c8s_workqueue *q, int64_t until)
{
    struct timespec ts;

    if (until == INT64_MAX) {
        pthread_cond_wait(&q->cv, &q->mu);
        return;
    }
    ts.tv_sec = until / 1000;
    ts.tv_nsec = (long)(until % 1000) * 1000000;
    (void)pthread_cond_timedwait(&q->cv, &q->mu, &ts);
}

int c8s_workqueue_get(struct c8s_workqueue *q, int timeout_ms, char **key)
{
    int64_t deadline = timeout_ms < 0 ? INT64_MAX
                                      : client__now_ms() + timeout_ms;
    int rv = 0;

    *key = NULL;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        int64_t now = client__now_ms(), until = deadline;
        struct item *it;

        promote_due(q, now);
        if ((it = q->head) != NULL) {
            q->head = it->next;
            if (q->head == NULL)
                q->tail = NULL;
            q->ready--;
            it->in_ready = false;
            it->dirty = false;
            it->processing = true;
            if ((*key = mem_strdup(it->key)) == NULL) {
                it->processing = false; /* put it back */
                mark_dirty(q, it);
                rv = -ENOMEM;
            }
            break;
        }
        if (q->shut) {
            rv = -C8S_ESHUTDOWN;
            break;
        }
        if (now >= deadline) {
            rv = -ETIMEDOUT;
            break;
        }
        if ((it = RB_MIN(by_due, &q->delayed)) != NULL && it->due < until)
            until = it->due;
        wait_until(q, until);
    }
    pthread_mutex_unlock(&q->mu);
    return rv;
}

void c8s_workqueue_done(struct c8s_workqueue *q, const char *key)
{
    struct item *it;

    pthread_mutex_lock(&q->mu);
    if ((it = lookup(q, key)) != NULL && it->processing) {
        it->processing = false;
        if (it->dirty && !q->shut)
            push_ready(q, it); /* added while it was worked on */
        else
            it->dirty = false;
        maybe_drop(q, it);
    }
    pthread_mutex_unlock(&q->mu);
}

size_t c8s_workqueue_len(struct c8s_workqueue *q)
{
    size_t n;

    pthread_mutex_lock(&q->mu);
    promote_due(q, client__now_ms());
    n = q->ready;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void c8s_workqueue_shutdown(struct c8s_workqueue *q)
{
    struct item *it;

    pthread_mutex_lock(&q->mu);
    q->shut = true;
    while ((it = RB_MIN(by_due, &q->delayed)) != NULL) {
        RB_REMOVE(by_due, &q->delayed, it);
        it->waiting = false;
        maybe_drop(q, it);
    }
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}
