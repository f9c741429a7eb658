/* /metrics in the Prometheus text format. */
#include "api/server/metrics.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/mem.h"

/* Latency buckets in seconds, as kube-apiserver's request histogram. */
static const double buckets[] = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6,
                                 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8,
                                 10, 15, 20, 30, 45, 60};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])
#define MAX_SERIES 1024

/* Requests of one (verb, resource, code). */
struct series {
    char verb[16];                  /* "get", "list", "watch", ... */
    char resource[64];              /* "pods"; "" for other paths. */
    int code;                       /* HTTP status. */
    unsigned long long count;       /* Requests. */
    unsigned long long le[N_BUCKETS]; /* Cumulative bucket counts. */
    double sum;                     /* Seconds, summed. */
};

struct srv_metrics {
    struct series *series;          /* MAX_SERIES slots. */
    size_t n;                       /* Used. */
    unsigned long long dropped;     /* Requests past MAX_SERIES series. */
    long inflight;                  /* Requests being handled. */
    long watchers;                  /* Open watch streams. */
};

int srv_metrics_new(struct srv_metrics **ret)
{
    struct srv_metrics *m = mem_calloc(1, sizeof *m);

    if (m == NULL || (m->series = mem_calloc(MAX_SERIES,
                                             sizeof *m->series)) == NULL) {
        mem_free(m);
        return -ENOMEM;
    }
    *ret = m;
    return 0;
}

void srv_metrics_free(struct srv_metrics *m)
{
    if (m == NULL)
        return;
    mem_free(m->series);
    mem_free(m);
}

static struct series *find(struct srv_metrics *m, const char *verb,
                           const char *resource, int code)
{
    struct series *s;

    for (size_t i = 0; i < m->n; i++) {
        s = &m->series[i];
        if (s->code == code && strcmp(s->verb, verb) == 0 &&
            strcmp(s->resource, resource) == 0)
            return s;
    }
    if (m->n == MAX_SERIES)
        return NULL;
    s = &m->series[m->n++];
    (void)snprintf(s->verb, sizeof s->verb, "%s", verb);
    (void)snprintf(s->resource, sizeof s->resource, "%s", resource);
    s->code = code;
    return s;
}

void srv_metrics_request(struct srv_metrics *m, const char *verb,
                         const char *resource, int code, double seconds)
{
    struct series *s = find(m, verb, resource, code);

    if (s == NULL) {
        m->dropped++;
        return;
    }
    s->count++;
    s->sum += seconds;
    for (size_t i = 0; i < N_BUCKETS; i++)
        if (seconds <= buckets[i])
            s->le[i]++;
}

void srv_metrics_inflight(struct srv_metrics *m, int delta)
{
    m->inflight += delta;
}

void srv_metrics_watchers(struct srv_metrics *m, int delta)
{
    m->watchers += delta;
}

__attribute__((format(printf, 2, 3))) static int out(struct obj_buf *b,
                                                     const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        return -EOVERFLOW;
    return obj_buf_append(b, line, (size_t)n);
}

static int header(struct obj_buf *b, const char *name, const char *type,
                  const char *help)
{
    return out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int render_requests(const struct srv_metrics *m, struct obj_buf *b)
{
    int rv = header(b, "apiserver_request_total", "counter",
                    "Requests answered, by verb, resource and HTTP code.");

    for (size_t i = 0; i < m->n && rv == 0; i++) {
        const struct series *s = &m->series[i];
        rv = out(b, "apiserver_request_total{verb=\"%s\",resource=\"%s\","
                    "code=\"%d\"} %llu\n",
                 s->verb, s->resource, s->code, s->count);
    }
    if (rv == 0)
        rv = header(b, "apiserver_request_duration_seconds", "histogram",
                    "Time from a request's arrival to its end (watches: "
                    "the whole stream).");
    for (size_t i = 0; i < m->n && rv == 0; i++) {
        const struct series *s = &m->series[i];
        for (size_t k = 0; k < N_BUCKETS && rv == 0; k++)
            rv = out(b, "apiserver_request_duration_seconds_bucket{verb=\"%s\","
                        "resource=\"%s\",code=\"%d\",le=\"%g\"} %llu\n",
                     s->verb, s->resource, s->code, buckets[k], s->le[k]);
        if (rv == 0)
            rv = out(b, "apiserver_request_duration_seconds_bucket{verb=\"%s\","
                        "resource=\"%s\",code=\"%d\",le=\"+Inf\"} %llu\n"
                        "apiserver_request_duration_seconds_sum{verb=\"%s\","
                        "resource=\"%s\",code=\"%d\"} %.6f\n"
                        "apiserver_request_duration_seconds_count{verb=\"%s\","
                        "resource=\"%s\",code=\"%d\"} %llu\n",
                     s->verb, s->resource, s->code, s->count, s->verb,
                     s->resource, s->code, s->sum, s->verb, s->resource,
                     s->code, s->count);
    }
    return rv;
}

static int gauge(struct obj_buf *b, const char *name, const char *help,
                 double value)
{
    int rv = header(b, name, "gauge", help);

    return rv != 0 ? rv : out(b, "%s %.17g\n", name, value);
}

static int counter(struct obj_buf *b, const char *name, const char *help,
                   double value)
{
    int rv = header(b, name, "counter", help);

    return rv != 0 ? rv : out(b, "%s %.17g\n", name, value);
}

/* Resident and virtual memory in bytes, from /proc/self/statm. */
static void memory(double *rss, double *vsz)
{
    unsigned long pages_v = 0, pages_r = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    long page = sysconf(_SC_PAGESIZE);

    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &pages_v, &pages_r) != 2)
            pages_v = pages_r = 0;
        fclose(f);
    }
    *rss = (double)pages_r * (double)page;
    *vsz = (double)pages_v * (double)page;
}

static double open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    double n = 0;

    if (d == NULL)
        return 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n > 2 ? n - 3 : 0; /* ".", ".." and the DIR's own fd */
}

static int render_member(struct repl *repl, struct obj_buf *b)
{
    struct repl_status st;
    double rss, vsz;
    int rv;

    repl_get_status(repl, &st);
    memory(&rss, &vsz);
    rv = gauge(b, "c8s_raft_term", "Current raft term.", (double)st.term);
    rv |= gauge(b, "c8s_raft_commit_index", "Raft commit index.",
                (double)st.commit_index);
    rv |= gauge(b, "c8s_raft_applied_index", "Raft index applied here.",
                (double)st.applied_index);
    rv |= gauge(b, "c8s_raft_configuration_uncommitted_index",
                "Raft index of a membership change not yet committed, or "
                "0 (a leader takes a new one only at 0).",
                (double)st.config_uncommitted_index);
    rv |= gauge(b, "c8s_raft_is_leader", "1 while this member leads.",
                strcmp(st.state, "leader") == 0 ? 1 : 0);
    rv |= counter(b, "c8s_raft_leader_changes_total",
                  "Times the leader known here changed.",
                  (double)st.leader_changes);
    rv |= counter(b, "c8s_raft_snapshots_sent_total",
                  "Snapshots written to followers by this member as leader.",
                  (double)st.snapshots_sent);
    rv |= counter(b, "c8s_raft_snapshot_copies_refused_total",
                  "Copies of a snapshot libraft asked to send while one "
                  "was in flight or not acknowledged, dropped unsent.",
                  (double)st.snapshot_copies_refused);
    rv |= gauge(b, "c8s_store_revision", "Store revision.", (double)st.rev);
    rv |= gauge(b, "c8s_store_compact_revision", "Oldest readable revision.",
                (double)st.compact_rev);
    rv |= gauge(b, "c8s_store_objects", "Live keys in the store.",
                (double)store_key_count(repl_store(repl)));
    rv |= gauge(b, "process_resident_memory_bytes", "Resident memory.", rss);
    rv |= gauge(b, "process_virtual_memory_bytes", "Virtual memory.", vsz);
    rv |= gauge(b, "process_open_fds", "Open file descriptors.", open_fds());
    return rv != 0 ? -ENOMEM : 0;
}

int srv_metrics_render(const struct srv_metrics *m, struct repl *repl,
                       struct obj_buf *b)
{
    int rv = render_requests(m, b);

    if (rv == 0)
        rv = gauge(b, "apiserver_current_inflight_requests",
                   "Requests being handled (open watches included).",
                   (double)m->inflight);
    if (rv == 0)
        rv = gauge(b, "apiserver_registered_watchers", "Open watch streams.",
                   (double)m->watchers);
    if (rv == 0)
        rv = counter(b, "c8s_metrics_dropped_requests_total",
                     "Requests not counted: too many label combinations.",
                     (double)m->dropped);
    if (rv == 0)
        rv = render_member(repl, b);
    return rv;
}
