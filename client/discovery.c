/* Discovery (c8s/discovery.h): the legacy documents, which every
 * Kubernetes server has: /api/v1, then /apis for the groups and each
 * group's preferred version. Subresources ("pods/status") are skipped. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <c8s/discovery.h>

#include "api/object/codec.h"
#include "client/internal.h"
#include "lib/mem.h"

#define MAX_SHORT 4

struct entry {
    struct c8s_resource r;
    char singular[128];
    char shorts[MAX_SHORT][32];
};

struct c8s_discovery {
    struct entry *v;
    size_t n, cap;
};

static int get_json(struct c8s_client *c, const char *path, struct obj **ret,
                    struct c8s_error *err)
{
    struct obj_decode_opts opts = {0};
    struct c8s_response r = {0};
    struct err e = {0};
    int rv = c8s_request(c, "GET", path, NULL, NULL, 0, &r, err);

    *ret = NULL;
    if (rv == 0 && obj_json_decode(r.body, r.body_len, &opts, ret, &e) != 0)
        rv = client__fail(err, -C8S_EMALFORMED, "GET %s: %s", path, e.msg);
    c8s_response_clear(&r);
    return rv;
}

static int add(struct c8s_discovery *d, const char *group,
               const char *version, const struct obj *res)
{
    const char *name = obj_str_or(obj_map_get(res, "name"), "");
    const struct obj *shorts = obj_map_get(res, "shortNames");
    struct entry *e;

    if (name[0] == '\0' || strchr(name, '/') != NULL)
        return 0; /* a subresource */
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        struct entry *v = mem_realloc(d->v, cap * sizeof *v);

        if (v == NULL)
            return -ENOMEM;
        d->v = v;
        d->cap = cap;
    }
    e = &d->v[d->n++];
    memset(e, 0, sizeof *e);
    (void)snprintf(e->r.group, sizeof e->r.group, "%s", group);
    (void)snprintf(e->r.version, sizeof e->r.version, "%s", version);
    (void)snprintf(e->r.resource, sizeof e->r.resource, "%s", name);
    (void)snprintf(e->r.kind, sizeof e->r.kind, "%s",
                   obj_str_or(obj_map_get(res, "kind"), ""));
    (void)snprintf(e->singular, sizeof e->singular, "%s",
                   obj_str_or(obj_map_get(res, "singularName"), ""));
    e->r.namespaced = obj_bool_or(obj_map_get(res, "namespaced"), false);
    for (size_t i = 0; i < obj_array_len(shorts) && i < MAX_SHORT; i++)
        (void)snprintf(e->shorts[i], sizeof e->shorts[i], "%s",
                       obj_str_or(obj_array_get(shorts, i), ""));
    return 0;
}

static int read_version(struct c8s_client *c, struct c8s_discovery *d,
                        const char *group, const char *gv,
                        struct c8s_error *err)
{
    char path[300];
    const char *slash = strchr(gv, '/');
    struct obj *doc = NULL;
    const struct obj *list;
    int rv;

    (void)snprintf(path, sizeof path, group[0] == '\0' ? "/api/%s"
                                                       : "/apis/%s", gv);
    if ((rv = get_json(c, path, &doc, err)) != 0)
        return rv;
    list = obj_map_get(doc, "resources");
    for (size_t i = 0; rv == 0 && i < obj_array_len(list); i++)
        rv = add(d, group, slash != NULL ? slash + 1 : gv,
                 obj_array_get(list, i));
    obj_unref(doc);
    return rv == 0 ? 0 : client__fail(err, rv, "out of memory");
}

int c8s_discovery_new(struct c8s_client *c, struct c8s_discovery **ret,
                      struct c8s_error *err)
{
    struct c8s_discovery *d = mem_calloc(1, sizeof *d);
    struct obj *groups = NULL;
    const struct obj *list;
    int rv;

    *ret = NULL;
    if (d == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    rv = read_version(c, d, "", "v1", err);
    if (rv == 0)
        rv = get_json(c, "/apis", &groups, err);
    list = obj_map_get(groups, "groups");
    for (size_t i = 0; rv == 0 && i < obj_array_len(list); i++) {
        const struct obj *g = obj_array_get(list, i);
        const char *gv = obj_str_or(
            obj_get(g, "preferredVersion", "groupVersion", NULL), "");

        if (gv[0] != '\0')
            rv = read_version(c, d, obj_str_or(obj_map_get(g, "name"), ""),
                              gv, err);
    }
    obj_unref(groups);
    if (rv != 0) {
        c8s_discovery_free(d);
        return rv;
    }
    *ret = d;
    return 0;
}

void c8s_discovery_free(struct c8s_discovery *d)
{
    if (d == NULL)
        return;
    mem_free(d->v);
    mem_free(d);
}

static bool names_it(const struct entry *e, const char *name)
{
    if (strcasecmp(e->r.resource, name) == 0 ||
        strcasecmp(e->singular, name) == 0 || strcasecmp(e->r.kind, name) == 0)
        return true;
    for (size_t i = 0; i < MAX_SHORT; i++)
        if (e->shorts[i][0] != '\0' && strcasecmp(e->shorts[i], name) == 0)
            return true;
    return false;
}

int c8s_discovery_find(const struct c8s_discovery *d, const char *name,
                       struct c8s_resource *ret, struct c8s_error *err)
{
    char base[256];
    const char *group = NULL, *dot = strchr(name, '.');

    (void)snprintf(base, sizeof base, "%.*s",
                   (int)(dot != NULL ? (size_t)(dot - name) : strlen(name)),
                   name);
    if (dot != NULL)
        group = dot + 1;
    /* The core group first, then the others in the server's order, as
     * kubectl prefers them. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < d->n; i++) {
            const struct entry *e = &d->v[i];

            if ((pass == 0) != (e->r.group[0] == '\0'))
                continue;
            if (group != NULL && strcasecmp(e->r.group, group) != 0)
                continue;
            if (names_it(e, base)) {
                *ret = e->r;
                return 0;
            }
        }
    return client__fail(err, -C8S_ENOTFOUND, "the server doesn't have a resource "
                "type \"%s\"", name);
}

int c8s_discovery_for_kind(const struct c8s_discovery *d,
                           const char *api_version, const char *kind,
                           struct c8s_resource *ret, struct c8s_error *err)
{
    const char *slash = strchr(api_version, '/');
    char group[128];

    (void)snprintf(group, sizeof group, "%.*s",
                   slash != NULL ? (int)(slash - api_version) : 0,
                   api_version);
    for (size_t i = 0; i < d->n; i++) {
        const struct entry *e = &d->v[i];

        if (strcmp(e->r.kind, kind) == 0 && strcmp(e->r.group, group) == 0 &&
            strcmp(e->r.version, slash != NULL ? slash + 1 : api_version) ==
                0) {
            *ret = e->r;
            return 0;
        }
    }
    return client__fail(err, -C8S_ENOTFOUND, "no matches for kind \"%s\" in version "
                "\"%s\"", kind, api_version);
}

int c8s_resource_path(const struct c8s_resource *r, const char *ns,
                      const char *name, char *buf, size_t size)
{
    char prefix[200];
    int n;

    if (r->group[0] == '\0')
        (void)snprintf(prefix, sizeof prefix, "/api/%s", r->version);
    else
        (void)snprintf(prefix, sizeof prefix, "/apis/%s/%s", r->group,
                       r->version);
    if (r->namespaced && ns != NULL && ns[0] != '\0')
        n = snprintf(buf, size, "%s/namespaces/%s/%s%s%s", prefix, ns,
                     r->resource, name != NULL ? "/" : "",
                     name != NULL ? name : "");
    else
        n = snprintf(buf, size, "%s/%s%s%s", prefix, r->resource,
                     name != NULL ? "/" : "", name != NULL ? name : "");
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
