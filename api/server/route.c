/* Parsing request paths and query strings of the Kubernetes API. */
#include "api/server/route.h"

#include <errno.h>
#include <string.h>

#define MAX_SEGS 10

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long srv_url_decode(const char *in, size_t len, char *out, size_t size,
                    bool plus)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return -1;
            hi = hexval(in[i + 1]);
            lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1; /* a bad escape, or an encoded NUL */
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (n + 1 >= size)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return (long)n;
}

/* Split @path into decoded segments. */
static int split(const char *path, char segs[][SRV_ROUTE_SEG_MAX], int *n)
{
    const char *p = path;

    *n = 0;
    if (*p != '/')
        return -EINVAL;
    while (*p == '/') {
        const char *start = ++p;
        size_t len = strcspn(start, "/");
        p = start + len;
        if (len == 0 && *p == '\0')
            break; /* a trailing slash */
        if (len == 0 || *n == MAX_SEGS)
            return -EINVAL;
        if (srv_url_decode(start, len, segs[*n], SRV_ROUTE_SEG_MAX, false) <= 0)
            return -EINVAL;
        if (strcmp(segs[*n], ".") == 0 || strcmp(segs[*n], "..") == 0 ||
            strchr(segs[*n], '/') != NULL)
            return -EINVAL;
        (*n)++;
    }
    return 0;
}

/* Segments are already bounded by SRV_ROUTE_SEG_MAX when decoded. */
static void copy(char *dst, const char *src)
{
    size_t len = strnlen(src, SRV_ROUTE_SEG_MAX - 1);

    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Segments after the group/version: [namespaces NS] RESOURCE [NAME [SUB]]. */
static int parse_tail(char segs[][SRV_ROUTE_SEG_MAX], int n,
                      struct srv_route *r)
{
    int i = 0;

    if (n == 0)
        return 0;
    if (strcmp(segs[0], "namespaces") == 0 && n >= 3 &&
        !(n == 3 && (strcmp(segs[2], "status") == 0 ||
                      strcmp(segs[2], "finalize") == 0))) {
        copy(r->ns, segs[1]);
        r->has_ns = true;
        i = 2;
    }
    if (n - i > 3)
        return -EINVAL;
    r->kind = SRV_ROUTE_RESOURCE;
    copy(r->resource, segs[i]);
    if (n - i >= 2)
        copy(r->name, segs[i + 1]);
    if (n - i == 3)
        copy(r->sub, segs[i + 2]);
    return 0;
}

int srv_route_parse(const char *path, struct srv_route *ret)
{
    char segs[MAX_SEGS][SRV_ROUTE_SEG_MAX];
    int n, first, rv;

    memset(ret, 0, sizeof *ret);
    if ((rv = split(path, segs, &n)) != 0)
        return rv;
    if (n == 0)
        return 0;
    if (strcmp(segs[0], "api") == 0) {
        ret->kind = SRV_ROUTE_API;
        first = 1;
    } else if (strcmp(segs[0], "apis") == 0) {
        ret->kind = SRV_ROUTE_APIS;
        first = 1;
        if (n >= 2) {
            ret->kind = SRV_ROUTE_GROUP;
            copy(ret->group, segs[1]);
            first = 2;
        }
    } else {
        return 0;
    }
    if (n <= first)
        return 0;
    copy(ret->version, segs[first]);
    ret->kind = SRV_ROUTE_VERSION;
    first++;
    if (n > first && strcmp(segs[first], "watch") == 0) {
        ret->legacy_watch = true;
        first++;
        if (n == first)
            return -EINVAL;
    }
    return parse_tail(segs + first, n - first, ret);
}

bool srv_query_get(const char *query, const char *name, char *out,
                   size_t size, bool *too_long)
{
    size_t nlen = strlen(name);
    const char *p = query;

    if (too_long != NULL)
        *too_long = false;
    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t klen = eq != NULL ? (size_t)(eq - p) : len;
        if (klen == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq != NULL ? eq + 1 : p + len;
            size_t vlen = (size_t)(p + len - v);
            if (srv_url_decode(v, vlen, out, size, true) >= 0)
                return true;
            if (too_long != NULL)
                *too_long = true;
            return false;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return false;
}
