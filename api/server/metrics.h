/* /metrics in the Prometheus text format: requests, watchers, raft, store
 * and process figures of one member. */
#ifndef C8S_API_SERVER_METRICS_H
#define C8S_API_SERVER_METRICS_H

#include "api/object/codec.h"
#include "raft/repl.h"

struct srv_metrics;

int srv_metrics_new(struct srv_metrics **ret);
void srv_metrics_free(struct srv_metrics *m);

/* One finished request. @verb and @resource are copied (e.g. "list",
 * "pods"; "" for non-resource paths, which are counted by path kind). */
void srv_metrics_request(struct srv_metrics *m, const char *verb,
                         const char *resource, int code, double seconds);
void srv_metrics_inflight(struct srv_metrics *m, int delta);
void srv_metrics_watchers(struct srv_metrics *m, int delta);

/* Append the whole exposition to @out. */
int srv_metrics_render(const struct srv_metrics *m, struct repl *repl,
                       struct obj_buf *out);

#endif /* C8S_API_SERVER_METRICS_H */
