/* The scale subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets
 * and StatefulSets: what kubectl scale reads and writes. A Scale is a view
 * of the parent: writing it updates the parent's spec.replicas in the same
 * way an update of the parent would (same preconditions, same txn). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/server/objects.h"
#include "lib/container.h"
#include "lib/mem.h"

/* "k=v,k2=v2" from spec.selector.matchLabels, as Scale.status.selector. */
static struct obj *selector_text(const struct obj *parent)
{
    const struct obj *ml = obj_get_path(parent, "spec.selector.matchLabels");
    struct obj_buf b;
    struct obj *s;

    obj_buf_init(&b);
    for (size_t i = 0; i < obj_map_len(ml); i++) {
        size_t klen;
        const char *k = obj_map_key(ml, i, &klen);
        const char *v = obj_str_or(obj_map_value(ml, i), "");
        if ((i > 0 && obj_buf_append(&b, ",", 1) != 0) ||
            obj_buf_append(&b, k, klen) != 0 || obj_buf_append(&b, "=", 1) ||
            obj_buf_append(&b, v, strlen(v)) != 0) {
            obj_buf_done(&b);
            return NULL;
        }
    }
    s = obj_str_new(b.data != NULL ? b.data : "", b.len);
    obj_buf_done(&b);
    return s;
}

static int copy_meta(struct obj *meta, const struct obj *parent,
                     const char *key)
{
    struct obj *v = obj_get_path(parent, key);

    return v == NULL ? 0 : obj_map_set(meta, strrchr(key, '.') + 1, obj_ref(v));
}

static const struct obj_scale_paths builtin_paths = {
    "spec.replicas", "status.replicas", NULL};

/* Where @res keeps its replicas: a custom resource says, built-ins use
 * spec.replicas and status.replicas. */
static const struct obj_scale_paths *paths_of(const struct obj_resource *res)
{
    return res->scale != NULL ? res->scale : &builtin_paths;
}

/* The selector text: at the custom resource's labelSelectorPath, else
 * from spec.selector.matchLabels. */
static struct obj *selector_of(const struct obj_scale_paths *p,
                               const struct obj *parent)
{
    if (p == &builtin_paths)
        return selector_text(parent);
    return obj_str_new_c(p->selector != NULL
                             ? obj_str_or(obj_get_path(parent, p->selector), "")
                             : "");
}

struct obj *srv__scale_of(const struct obj_resource *res,
                          const struct obj *parent)
{
    const struct obj_scale_paths *p = paths_of(res);
    struct obj *sc = obj_map_new(), *meta = obj_map_new();
    struct obj *spec = obj_map_new(), *status = obj_map_new();
    int rv = 0;

    rv |= srv__set_str(sc, "kind", "Scale");
    rv |= srv__set_str(sc, "apiVersion", "autoscaling/v1");
    rv |= copy_meta(meta, parent, "metadata.name");
    rv |= copy_meta(meta, parent, "metadata.namespace");
    rv |= copy_meta(meta, parent, "metadata.uid");
    rv |= copy_meta(meta, parent, "metadata.resourceVersion");
    rv |= copy_meta(meta, parent, "metadata.creationTimestamp");
    rv |= obj_map_set(sc, "metadata", meta);
    rv |= obj_map_set(spec, "replicas",
                      obj_int_new(obj_int_or(
                          obj_get_path(parent, p->spec_replicas),
                          p == &builtin_paths ? 1 : 0)));
    rv |= obj_map_set(sc, "spec", spec);
    rv |= obj_map_set(status, "replicas",
                      obj_int_new(obj_int_or(
                          obj_get_path(parent, p->status_replicas), 0)));
    rv |= obj_map_set(status, "selector", selector_of(p, parent));
    rv |= obj_map_set(sc, "status", status);
    return rv == 0 ? sc : obj_unref(sc);
}

/* Set the dotted @path of @o to @v (taken), making the maps on the way.
 * 0, -ENOMEM, or -EINVAL when a step is not a map. */
static int set_path(struct obj *o, const char *path, struct obj *v)
{
    char key[256];
    const char *dot;

    while ((dot = strchr(path, '.')) != NULL) {
        size_t n = (size_t)(dot - path);
        struct obj *next;
        if (n >= sizeof key)
            goto bad;
        memcpy(key, path, n);
        key[n] = '\0';
        if ((next = obj_map_get_mut(o, key)) == NULL) {
            struct obj *m = obj_map_new();
            int rv = obj_map_get(o, key) != NULL ? -EINVAL
                                                 : obj_map_set(o, key, m);
            if (rv != 0) {
                obj_unref(m);
                obj_unref(v);
                return rv == -EINVAL ? rv : -ENOMEM;
            }
            next = m;
        }
        if (obj_type(next) != OBJ_MAP)
            goto bad;
        o = next;
        path = dot + 1;
    }
    if (obj_map_set(o, path, v) == 0)
        return 0;
bad:
    obj_unref(v);
    return -EINVAL;
}

/* The new spec.replicas from a Scale body: a non-negative integer. */
static int replicas_of(struct srv_call *c, const struct obj *scale,
                       int64_t *ret)
{
    const struct obj *r = obj_get_path(scale, "spec.replicas");

    if (r == NULL || obj_type(r) != OBJ_INT || obj_int_or(r, -1) < 0) {
        srv__respond_bad(c->req, 422, "Invalid",
                         "Scale.autoscaling \"%s\" is invalid: spec.replicas: "
                         "Invalid value: must be greater than or equal to 0",
                         c->route.name);
        return -EINVAL;
    }
    *ret = obj_int_or(r, 0);
    return 0;
}

/* Apply a merge patch of a Scale (only spec.replicas matters). */
static int patched_replicas(struct srv_call *c, const struct obj *cur_scale,
                            int64_t *ret)
{
    struct obj *patch = NULL;
    const struct obj *r;

    if (obj_json_decode(c->req->body, c->req->body_len, NULL, &patch, NULL) !=
        0) {
        srv__respond_bad(c->req, 400, "BadRequest", "the patch is not JSON");
        return -EINVAL;
    }
    r = obj_get_path(patch, "spec.replicas");
    int rv = r != NULL ? replicas_of(c, patch, ret)
                       : replicas_of(c, cur_scale, ret);
    obj_unref(patch);
    return rv;
}

/* The parent with its new replicas still follows its schema (a custom
 * resource's maximum, say): 422 with the parent's errors if not. */
static int scale_check(struct srv_call *c)
{
    struct obj_ferrs l;
    struct obj_buf b;
    int rv;

    obj_ferrs_init(&l);
    obj_buf_init(&b);
    rv = srv__schema_check(c, c->obj, &l);
    if (rv == 0 && l.len > 0) {
        rv = obj_ferrs_format(&l, &b);
        if (rv == 0)
            srv__respond_bad(c->req, 422, "Invalid",
                             "Scale.autoscaling \"%s\" is invalid: %.*s",
                             c->route.name, (int)b.len,
                             b.data != NULL ? b.data : "");
        rv = -EINVAL;
    }
    if (rv == -ENOMEM)
        srv__respond_code(c->req, c->res, c->route.name, rv);
    obj_buf_done(&b);
    obj_ferrs_done(&l);
    return rv;
}

void srv__scale_write(struct srv_call *c, const struct obj *cur, store_rev rev)
{
    struct obj *scale = srv__scale_of(c->res, cur), *body = NULL;
    int64_t replicas;
    int rv;

    if (scale == NULL) {
        srv__respond_code(c->req, c->res, c->route.name, -ENOMEM);
        goto out;
    }
    if (strcmp(c->req->method, "PATCH") == 0) {
        if (patched_replicas(c, scale, &replicas) != 0)
            goto out;
    } else {
        /* PUT: kubectl scale --current-replicas sends no Content-Type. */
        if (obj_json_decode(c->req->body, c->req->body_len, NULL, &body,
                            NULL) != 0) {
            srv__respond_bad(c->req, 400, "BadRequest", "the body is not JSON");
            goto out;
        }
        const char *want = srv__str(body, "metadata.resourceVersion");
        char cur_rv[24];
        snprintf(cur_rv, sizeof cur_rv, "%llu", (unsigned long long)rev);
        if (want[0] != '\0' && strcmp(want, cur_rv) != 0) {
            srv__respond_code(c->req, c->res, c->route.name, -C8S_ECONFLICT);
            goto out;
        }
        if (replicas_of(c, body, &replicas) != 0)
            goto out;
    }
    c->obj = obj_copy(cur);
    rv = c->obj == NULL ? -ENOMEM
                        : set_path(c->obj, paths_of(c->res)->spec_replicas,
                                   obj_int_new(replicas));
    if (rv == -EINVAL) {
        srv__respond_bad(c->req, 422, "Invalid",
                         "Scale.autoscaling \"%s\" is invalid: %s: the "
                         "object holds something else than an object on the "
                         "way", c->route.name,
                         paths_of(c->res)->spec_replicas);
        goto out;
    }
    if (rv != 0) {
        srv__respond_code(c->req, c->res, c->route.name, rv);
        goto out;
    }
    snprintf(c->ns, sizeof c->ns, "%s", c->route.ns);
    snprintf(c->name, sizeof c->name, "%s", c->route.name);
    struct obj *meta = srv__meta(c->obj);
    if (meta == NULL || obj_map_set(meta, "generation",
                                    obj_int_new(obj_int_or(
                                        obj_map_get(meta, "generation"), 1) +
                                                1)) != 0) {
        srv__respond_code(c->req, c->res, c->route.name, -ENOMEM);
        goto out;
    }
    if (scale_check(c) != 0)
        goto out;
    c->op = SRV_OP_UPDATE;
    c->expect_rev = rev;
    c->scale = true;
    if (srv__record_managed(c, c->obj, cur) != 0)
        goto out;
    obj_unref(scale);
    obj_unref(body);
    srv__write(c);
    return;
out:
    obj_unref(scale);
    obj_unref(body);
    srv__call_free(c);
}
