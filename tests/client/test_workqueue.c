/* The work queue: one entry per key, never two workers on one key,
 * per-key backoff, delays, shutdown. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <c8s/workqueue.h>

#include "tests/lib/unit.h"

static struct c8s_workqueue *queue(int base_ms)
{
    struct c8s_workqueue_opts o = {.base_delay_ms = base_ms};
    struct c8s_workqueue *q = NULL;

    ASSERT_EQ(c8s_workqueue_new(&o, &q), 0);
    return q;
}

/* get() must return @want now. */
static void expect_get(struct c8s_workqueue *q, const char *want)
{
    char *key = NULL;

    ASSERT_EQ(c8s_workqueue_get(q, 0, &key), 0);
    ASSERT_STR_EQ(key, want);
    free(key);
}

static void expect_empty(struct c8s_workqueue *q, int wait_ms)
{
    char *key = NULL;
    int rv = c8s_workqueue_get(q, wait_ms, &key);

    ASSERT_MSG(rv == -ETIMEDOUT, "got %d %s", rv, key != NULL ? key : "");
}

TEST(workqueue, a_key_is_queued_once_and_requeued_after_done)
{
    struct c8s_workqueue *q = queue(0);

    ASSERT_EQ(c8s_workqueue_add(q, "a"), 0);
    ASSERT_EQ(c8s_workqueue_add(q, "a"), 0);
    ASSERT_EQ(c8s_workqueue_add(q, "b"), 0);
    ASSERT_UEQ(c8s_workqueue_len(q), 2);
    expect_get(q, "a");
    /* Added while a worker holds it: not handed to another worker. */
    ASSERT_EQ(c8s_workqueue_add(q, "a"), 0);
    ASSERT_EQ(c8s_workqueue_add(q, "a"), 0);
    ASSERT_UEQ(c8s_workqueue_len(q), 1);
    expect_get(q, "b");
    expect_empty(q, 0);
    c8s_workqueue_done(q, "a"); /* ...but after it is done, once */
    ASSERT_UEQ(c8s_workqueue_len(q), 1);
    expect_get(q, "a");
    c8s_workqueue_done(q, "a");
    c8s_workqueue_done(q, "b");
    expect_empty(q, 0);
    c8s_workqueue_free(q);
}

TEST(workqueue, failures_back_off_exponentially_until_forgotten)
{
    struct c8s_workqueue *q = queue(100);
    char *key = NULL;

    ASSERT_EQ(c8s_workqueue_add_rate_limited(q, "x"), 0); /* 100 ms */
    ASSERT_EQ(c8s_workqueue_failures(q, "x"), 1);
    expect_empty(q, 50);
    ASSERT_EQ(c8s_workqueue_get(q, 2000, &key), 0);
    ASSERT_STR_EQ(key, "x");
    free(key);
    c8s_workqueue_done(q, "x");
    ASSERT_EQ(c8s_workqueue_add_rate_limited(q, "x"), 0); /* 200 ms */
    ASSERT_EQ(c8s_workqueue_failures(q, "x"), 2);
    expect_empty(q, 150);
    ASSERT_EQ(c8s_workqueue_get(q, 2000, &key), 0);
    free(key);
    c8s_workqueue_done(q, "x");
    c8s_workqueue_forget(q, "x");
    ASSERT_EQ(c8s_workqueue_failures(q, "x"), 0);
    ASSERT_EQ(c8s_workqueue_add_rate_limited(q, "x"), 0); /* 100 ms again */
    expect_empty(q, 50);
    ASSERT_EQ(c8s_workqueue_get(q, 2000, &key), 0);
    free(key);
    c8s_workqueue_free(q);
}

TEST(workqueue, the_sooner_of_two_delays_wins)
{
    struct c8s_workqueue *q = queue(0);
    char *key = NULL;

    ASSERT_EQ(c8s_workqueue_add_after(q, "d", 60000), 0);
    ASSERT_EQ(c8s_workqueue_add_after(q, "d", 100), 0);
    ASSERT_EQ(c8s_workqueue_add_after(q, "d", 30000), 0);
    expect_empty(q, 20);
    ASSERT_EQ(c8s_workqueue_get(q, 2000, &key), 0);
    ASSERT_STR_EQ(key, "d");
    free(key);
    c8s_workqueue_done(q, "d");
    expect_empty(q, 300); /* the later delays were merged into it */
    ASSERT_EQ(c8s_workqueue_add_after(q, "e", 60000), 0);
    ASSERT_EQ(c8s_workqueue_add(q, "e"), 0); /* now beats later */
    expect_get(q, "e");
    c8s_workqueue_free(q);
}

/* ---- many threads ----------------------------------------------------------*/

#define KEYS 100
#define ADDS 20000
#define WORKERS 4

struct shared {
    struct c8s_workqueue *q;
    atomic_int busy[KEYS];       /* workers on the key now */
    atomic_uint handled[KEYS];   /* times a worker had it */
    atomic_uint added_gen[KEYS]; /* adds so far */
    atomic_uint seen_gen[KEYS];  /* adds a worker had seen when it took it */
    atomic_int overlaps;
};

static void *worker(void *arg)
{
    struct shared *s = arg;
    char *key;

    while (c8s_workqueue_get(s->q, -1, &key) == 0) {
        int k = atoi(key);

        if (atomic_fetch_add(&s->busy[k], 1) != 0)
            atomic_fetch_add(&s->overlaps, 1);
        atomic_store(&s->seen_gen[k], atomic_load(&s->added_gen[k]));
        atomic_fetch_add(&s->handled[k], 1);
        usleep(20);
        atomic_fetch_sub(&s->busy[k], 1);
        c8s_workqueue_done(s->q, key);
        free(key);
    }
    return NULL;
}

TEST_T(workqueue, workers_never_share_a_key_and_miss_no_add, 60)
{
    static struct shared s;
    pthread_t t[WORKERS];
    char key[16];
    unsigned total = 0;

    s.q = queue(0);
    for (int i = 0; i < WORKERS; i++)
        ASSERT(pthread_create(&t[i], NULL, worker, &s) == 0);
    for (int i = 0; i < ADDS; i++) {
        int k = (i * 7919) % KEYS;

        snprintf(key, sizeof key, "%d", k);
        atomic_fetch_add(&s.added_gen[k], 1);
        ASSERT_EQ(c8s_workqueue_add(s.q, key), 0);
    }
    /* Drained: nothing ready and nothing held. */
    for (int i = 0; i < 500 && c8s_workqueue_len(s.q) > 0; i++)
        usleep(10000);
    usleep(100000);
    c8s_workqueue_shutdown(s.q);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(atomic_load(&s.overlaps), 0);
    for (int k = 0; k < KEYS; k++) {
        /* Every key was handled after its last add. */
        ASSERT_UEQ(atomic_load(&s.seen_gen[k]), atomic_load(&s.added_gen[k]));
        total += atomic_load(&s.handled[k]);
    }
    ASSERT_MSG(total < ADDS, "%u handlings for %d adds: nothing merged",
               total, ADDS);
    ASSERT_EQ(c8s_workqueue_add(s.q, "1"), -C8S_ESHUTDOWN);
    c8s_workqueue_free(s.q);
}

static void *blocked_get(void *arg)
{
    char *key = NULL;

    return (void *)(intptr_t)c8s_workqueue_get(arg, -1, &key);
}

TEST_T(workqueue, shutdown_wakes_waiting_workers, 20)
{
    struct c8s_workqueue *q = queue(0);
    pthread_t t;
    void *ret;

    ASSERT(pthread_create(&t, NULL, blocked_get, q) == 0);
    usleep(100000);
    c8s_workqueue_shutdown(q);
    pthread_join(t, &ret);
    ASSERT_EQ((int)(intptr_t)ret, -C8S_ESHUTDOWN);
    c8s_workqueue_free(q);
}

struct getter {
    struct c8s_workqueue *q;
    int timeout_ms;
    atomic_int rv;
    atomic_int done;
};

static void *get_once(void *arg)
{
    struct getter *g = arg;
    char *key = NULL;

    atomic_store(&g->rv, c8s_workqueue_get(g->q, g->timeout_ms, &key));
    free(key);
    atomic_store(&g->done, 1);
    return NULL;
}

/* A delayed add reaches a worker waiting without limit even when another
 * worker, waiting briefly, is woken first and leaves. */
TEST_T(workqueue, a_delayed_key_reaches_the_patient_worker, 20)
{
    static struct getter brief, patient;
    struct c8s_workqueue *q = queue(0);
    pthread_t t1, t2;

    brief = (struct getter){.q = q, .timeout_ms = 50};
    patient = (struct getter){.q = q, .timeout_ms = -1};
    ASSERT(pthread_create(&t2, NULL, get_once, &patient) == 0);
    ASSERT(pthread_create(&t1, NULL, get_once, &brief) == 0);
    usleep(20000);
    ASSERT_EQ(c8s_workqueue_add_after(q, "k", 300), 0);
    for (int i = 0; i < 200 && !atomic_load(&patient.done); i++)
        usleep(10000);
    ASSERT_MSG(atomic_load(&patient.done), "the patient worker never got it");
    ASSERT_EQ(atomic_load(&patient.rv), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    ASSERT_EQ(atomic_load(&brief.rv), -ETIMEDOUT);
    c8s_workqueue_free(q);
}

int main(int argc, char **argv)
{
    return unit_main(argc, argv);
}
