/* Store lifecycle and counters. */
#include <string.h>

#include "lib/mem.h"
#include "store/internal.h"

#define STORE_WATCH_QUEUE_MAX_DEFAULT 10000

int store_new(const struct store_limits *limits, struct store **ret)
{
    struct store *s = mem_calloc(1, sizeof *s);

    if (s == NULL)
        return -ENOMEM;
    if (limits != NULL)
        s->limits = *limits;
    if (s->limits.watch_queue_max == 0)
        s->limits.watch_queue_max = STORE_WATCH_QUEUE_MAX_DEFAULT;
    store__db_init(&s->db);
    store__hub_init(&s->hub);
    *ret = s;
    return 0;
}

void store_free(struct store *s)
{
    if (s == NULL)
        return;
    store__watch_kill_all(s, -C8S_ESHUTDOWN);
    store__watch_notify(s);
    store__hub_done(&s->hub);
    store__db_done(&s->db);
    mem_free(s);
}

store_rev store_current_rev(const struct store *s)
{
    return s->db.current_rev;
}

store_rev store_compact_rev(const struct store *s)
{
    return s->db.compact_rev;
}

size_t store_key_count(const struct store *s)
{
    return s->db.n_live;
}

size_t store_history_len(const struct store *s)
{
    return s->db.hist_len;
}

size_t store_watcher_count(const struct store *s)
{
    return s->hub.n_open;
}

uint64_t store__watch_visits(const struct store *s)
{
    return s->hub.visits;
}
