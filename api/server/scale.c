/* The scale subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets
 * and StatefulSets: what kubectl scale reads and writes. A Scale is a view
 * of the parent: writing it updates the parent's spec.replicas in the same
 * way an update of the parent would (same preconditions, same txn). */
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

struct obj *srv__scale_of(const struct obj *parent)
{
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
    rv |= obj_map_set(spec, "replicas", obj_int_new(obj_int_or(
                                            obj_get_path(parent, "spec.replicas"),
                                            1)));
    rv |= obj_map_set(sc, "spec", spec);
    rv |= obj_map_set(status, "replicas",
                      obj_int_new(obj_int_or(
                          obj_get_path(parent, "status.replicas"), 0)));
    rv |= obj_map_set(status, "selector", selector_text(parent));
    rv |= obj_map_set(sc, "status", status);
    return rv == 0 ? sc : obj_unref(sc);
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

void srv__scale_write(struct srv_call *c, const struct obj *cur, store_rev rev)
{
    struct obj *scale = srv__scale_of(cur), *body = NULL, *spec;
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
    spec = c->obj != NULL ? obj_map_get_mut(c->obj, "spec") : NULL;
    if (spec == NULL ||
        (rv = obj_map_set(spec, "replicas", obj_int_new(replicas))) != 0) {
        srv__respond_code(c->req, c->res, c->route.name, -ENOMEM);
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
