/* Parsing request paths and query strings of the Kubernetes API. */
#ifndef C8S_API_SERVER_ROUTE_H
#define C8S_API_SERVER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#define SRV_ROUTE_SEG_MAX 254

enum srv_route_kind {
    SRV_ROUTE_NONE,         /* Not under /api or /apis. */
    SRV_ROUTE_API,          /* GET /api (core versions, discovery). */
    SRV_ROUTE_APIS,         /* GET /apis (groups, discovery). */
    SRV_ROUTE_GROUP,        /* /apis/GROUP */
    SRV_ROUTE_VERSION,      /* /api/v1, /apis/GROUP/VERSION */
    SRV_ROUTE_RESOURCE,     /* A collection, an object or a subresource. */
};

struct srv_route {
    enum srv_route_kind kind;
    bool legacy_watch;              /* Under the old /watch/ prefix. */
    char group[SRV_ROUTE_SEG_MAX];  /* "" for core. */
    char version[SRV_ROUTE_SEG_MAX];
    char ns[SRV_ROUTE_SEG_MAX];     /* Namespace in the path, or "". */
    bool has_ns;                    /* The path named a namespace. */
    char resource[SRV_ROUTE_SEG_MAX]; /* Plural, e.g. "pods". */
    char name[SRV_ROUTE_SEG_MAX];   /* Object name, or "" for a collection. */
    char sub[SRV_ROUTE_SEG_MAX];    /* Subresource ("status", "scale"), or "". */
};

/* Parse a raw request path (percent-decoding each segment). Namespaces are
 * themselves a resource: /api/v1/namespaces/x is the Namespace x, and
 * /api/v1/namespaces/x/status|finalize its subresources. Returns 0, or
 * -EINVAL for a malformed path (empty or "."/".." segments, bad escapes,
 * segments too long, too many segments). */
int srv_route_parse(const char *path, struct srv_route *ret);

/* Value of query parameter @name (percent-decoded, '+' as space) into @out;
 * true if present (possibly empty). A value longer than @size - 1 is
 * reported as absent and sets *too_long if given. */
bool srv_query_get(const char *query, const char *name, char *out,
                   size_t size, bool *too_long);

/* Percent-decode @len bytes of @in into @out (size @size); '+' becomes a
 * space when @plus. Returns the decoded length, or -1 on a bad escape, an
 * encoded NUL or overflow. */
long srv_url_decode(const char *in, size_t len, char *out, size_t size,
                    bool plus);

#endif /* C8S_API_SERVER_ROUTE_H */
