/* Watch that survives: a stream of changes to a collection that reconnects
 * by itself (to another server if need be) and resumes from the last
 * resourceVersion it delivered, using bookmarks to keep that current, so
 * the caller sees each change once, in order, with no gap.
 *
 * The one thing it cannot hide is history the server no longer has: then
 * c8s_watch_next() fails with -C8S_ECOMPACTED and the caller lists again
 * and opens a new watch from the list's resourceVersion (an informer,
 * c8s/informer.h, does exactly that). */
#ifndef C8S_WATCH_H
#define C8S_WATCH_H

#include <c8s/client.h>
#include <c8s/errors.h>
#include <c8s/object.h>

struct c8s_watch;

enum c8s_event_type {
    C8S_ADDED,
    C8S_MODIFIED,
    C8S_DELETED,
};

struct c8s_event {
    enum c8s_event_type type;
    struct c8s_obj *object;     /* The caller's: free with c8s_obj_free. */
    char resource_version[32];  /* The object's, as delivered. */
};

/* Watch the collection at @path ("/api/v1/namespaces/ns/pods", selectors
 * in the query allowed) from after @resource_version (from a list; NULL or
 * "" means from now). Nothing is sent before the first c8s_watch_next. */
int c8s_watch_open(struct c8s_client *c, const char *path,
                   const char *resource_version, struct c8s_watch **ret,
                   struct c8s_error *err);

/* The next change, waiting up to @timeout_ms (< 0: no limit). 0 with an
 * event; -ETIMEDOUT when none came in time (the watch stays usable);
 * -C8S_ECOMPACTED when the server no longer has the history to resume
 * from (the watch is then dead); other errors when the server refuses the
 * watch (-EPERM, -C8S_ENOTFOUND, ...). Connection losses are not errors:
 * they are repaired inside. @timeout_ms bounds the wait for a change, not
 * the opening of a stream: one that is due runs to its end (up to twice
 * the client's connect_timeout_ms) even when that takes longer, so short
 * polls still reconnect. */
int c8s_watch_next(struct c8s_watch *w, int timeout_ms, struct c8s_event *ev,
                   struct c8s_error *err);

/* The resourceVersion the watch would resume from (bookmarks included). */
const char *c8s_watch_resource_version(const struct c8s_watch *w);

/* How many times the stream was opened (1 + reconnects). */
unsigned c8s_watch_connects(const struct c8s_watch *w);

void c8s_watch_close(struct c8s_watch *w);

#endif /* C8S_WATCH_H */
