/* A work queue for controllers (client-go's rate-limited queue): keys of
 * objects to reconcile, each queued at most once however often it is
 * added, never handed to two workers at once, and retried with per-key
 * exponential backoff.
 *
 *   add(k) while k waits:           nothing (one entry per key)
 *   add(k) while a worker has k:    k is queued again when the worker
 *                                   calls done(k)
 *   add_rate_limited(k):            add after base * 2^failures ms
 *                                   (capped), counting a failure
 *   forget(k):                      the key succeeded: failures back to 0
 *
 * All functions are thread-safe: several worker threads may get() from
 * one queue while informer handlers add(). */
#ifndef C8S_WORKQUEUE_H
#define C8S_WORKQUEUE_H

#include <stddef.h>

#include <c8s/errors.h>

struct c8s_workqueue;

struct c8s_workqueue_opts {
    int base_delay_ms; /* First retry after this; 0: 5 ms. */
    int max_delay_ms;  /* Retries never wait longer; 0: 1,000 s. */
};

int c8s_workqueue_new(const struct c8s_workqueue_opts *o,
                      struct c8s_workqueue **ret);

/* Frees the queue; no thread may be using it. */
void c8s_workqueue_free(struct c8s_workqueue *q);

/* 0, -ENOMEM, or -C8S_ESHUTDOWN after shutdown. */
int c8s_workqueue_add(struct c8s_workqueue *q, const char *key);
int c8s_workqueue_add_after(struct c8s_workqueue *q, const char *key,
                            int delay_ms);
int c8s_workqueue_add_rate_limited(struct c8s_workqueue *q, const char *key);

void c8s_workqueue_forget(struct c8s_workqueue *q, const char *key);
unsigned c8s_workqueue_failures(struct c8s_workqueue *q, const char *key);

/* The next key, waiting up to @timeout_ms (< 0: no limit): 0 with *@key
 * (malloc'ed: free() it after done()), -ETIMEDOUT, or -C8S_ESHUTDOWN once
 * the queue is shut down and empty of ready keys. */
int c8s_workqueue_get(struct c8s_workqueue *q, int timeout_ms, char **key);

/* The worker is finished with @key (successfully or not). */
void c8s_workqueue_done(struct c8s_workqueue *q, const char *key);

/* Keys ready to be handed out now. */
size_t c8s_workqueue_len(struct c8s_workqueue *q);

/* No more adds; get() drains what is ready, then returns -C8S_ESHUTDOWN;
 * waiting get()s wake up. Delayed keys are dropped. */
void c8s_workqueue_shutdown(struct c8s_workqueue *q);

#endif /* C8S_WORKQUEUE_H */
