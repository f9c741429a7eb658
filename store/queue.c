/* A watcher's pending events: a growable ring. */
#include <string.h>

#include "lib/mem.h"
#include "store/internal.h"

#define QUEUE_MIN_CAP 8

static int grow(struct store__queue *q)
{
    size_t cap = q->cap ? q->cap * 2 : QUEUE_MIN_CAP;
    struct store_event *ev;

    if (cap > SIZE_MAX / sizeof *ev)
        return -ENOMEM;
    ev = mem_malloc(cap * sizeof *ev);
    if (ev == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < q->len; i++)
        ev[i] = q->ev[(q->head + i) % q->cap];
    mem_free(q->ev);
    q->ev = ev;
    q->head = 0;
    q->cap = cap;
    return 0;
}

int store__queue_push(struct store__queue *q, const struct store_event *ev)
{
    struct store_event *slot;

    if (q->len == q->cap && grow(q) != 0)
        return -ENOMEM;
    slot = &q->ev[(q->head + q->len) % q->cap];
    *slot = *ev;
    if (slot->kv != NULL)
        (void)store_kv_ref(slot->kv);
    if (slot->prev != NULL)
        (void)store_kv_ref(slot->prev);
    q->len++;
    return 0;
}

void store__queue_pop(struct store__queue *q, struct store_event *ev)
{
    *ev = q->ev[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
}

struct store_event *store__queue_tail(struct store__queue *q)
{
    if (q->len == 0)
        return NULL;
    return &q->ev[(q->head + q->len - 1) % q->cap];
}

void store__queue_done(struct store__queue *q)
{
    struct store_event ev;

    while (q->len > 0) {
        store__queue_pop(q, &ev);
        store_event_done(&ev);
    }
    mem_free(q->ev);
    memset(q, 0, sizeof *q);
}

void store_event_done(struct store_event *ev)
{
    if (ev == NULL)
        return;
    ev->kv = store_kv_unref(ev->kv);
    ev->prev = store_kv_unref(ev->prev);
}
