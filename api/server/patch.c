/* PATCH: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic
 * merge patch (api/object/smp.h, with the kind's schema) and server-side
 * apply (api/object/apply.h: application/apply-patch+yaml, fieldManager,
 * force; an absent object is created). */
#include <stdio.h>
#include <string.h>

#include "api/object/apply.h"
#include "api/object/codec.h"
#include "api/object/jsonpatch.h"
#include "api/object/smp.h"
#include "api/server/objects.h"
#include "lib/container.h"


/* Apply merge patch @patch to @target (private) in place. */
static int merge(struct obj *target, const struct obj *patch)
{
    for (size_t i = 0; i < obj_map_len(patch); i++) {
        size_t klen;
        const char *key = obj_map_key(patch, i, &klen);
        struct obj *pv = obj_map_value(patch, i);
        struct obj *tv = obj_map_getn(target, key, klen);
        int rv;

        if (obj_is_null(pv)) {
            (void)obj_map_del(target, key);
            continue;
        }
        if (obj_type(pv) == OBJ_MAP && tv != NULL && obj_type(tv) == OBJ_MAP) {
            struct obj *child = obj_map_get_mut(target, key);
            if (child == NULL || (rv = merge(child, pv)) != 0)
                return child == NULL ? -ENOMEM : rv;
            continue;
        }
        if (obj_type(pv) == OBJ_MAP) {
            /* A map patched onto nothing: its nulls are dropped too. */
            struct obj *fresh = obj_map_new();
            if (fresh == NULL || (rv = merge(fresh, pv)) != 0) {
                obj_unref(fresh);
                return rv != 0 ? rv : -ENOMEM;
            }
            rv = obj_map_setn(target, key, klen, fresh);
        } else {
            rv = obj_map_setn(target, key, klen, obj_ref(pv));
        }
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* Server-side apply of the configuration c->patch to @cur. */
static int apply_config(const struct srv_call *c, struct obj *cur,
                        struct err *e)
{
    struct srv_apply_when w;
    struct obj_apply_opts o = srv__apply_opts(c, &w);

    return obj_apply(srv__schema_of(c->res), cur, c->patch, &o, e);
}

/* Apply c->patch to @cur as its content type says; a patch that cannot
 * apply says why in @e. */
static int apply_patch(const struct srv_call *c, struct obj *cur,
                       struct err *e)
{
    if (c->apply)
        return apply_config(c, cur, e);
    if (c->strategic)
        return obj_smp_apply(cur, c->patch, srv__schema_of(c->res), e);
    if (obj_type(c->patch) == OBJ_ARRAY)
        return obj_json_patch(cur, c->patch, e);
    return merge(cur, c->patch);
}

/* Server-side apply of an object that does not exist: create it from
 * the configuration, which its manager then owns entirely. */
static void apply_create(struct srv_call *c)
{
    struct srv_apply_when w;
    struct obj_apply_opts o = srv__apply_opts(c, &w);
    int rv;

    /* The request was authorized as a patch; creating needs create too,
     * as kube-apiserver checks it. */
    if (!srv__authz_call(c, "create")) {
        srv__call_free(c);
        return;
    }
    c->obj = obj_copy(c->patch);
    rv = c->obj == NULL ? -ENOMEM
                        : obj_apply_record_create(srv__schema_of(c->res),
                                                  c->obj, &o);
    if (rv != 0) {
        srv__respond_code(c->req, c->res, c->route.name, rv);
        srv__call_free(c);
        return;
    }
    srv__create_obj(c);
}

/* At a read point: apply the patch to the current version. */
static void patch_point(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);
    const struct store_kv *kv = NULL;
    struct obj *cur = NULL;
    struct err e = {0};
    int rv = res->code;

    if (rv == 0)
        rv = store_get(repl_store(c->api->repl), c->res->store_prefix,
                       c->route.ns, c->route.name, 0, &kv);
    if (rv == 0 && (cur = srv__obj_load(c->api, c->res, kv, kv->mod_rev)) == NULL)
        rv = -ENOMEM;
    store_kv_unref(kv);
    obj_unref(c->obj); /* a previous attempt's object */
    c->obj = NULL;
    if (rv == -C8S_ENOTFOUND && c->apply) {
        apply_create(c);
        return;
    }
    if (rv == 0)
        rv = apply_patch(c, cur, &e);
    if (rv == -C8S_ECONFLICT && c->apply) {
        obj_unref(cur);
        srv__respond_bad(c->req, 409, "Conflict", "%s", e.msg);
        srv__call_free(c);
        return;
    }
    if (rv != 0) {
        obj_unref(cur);
        if (rv != -ENOMEM && e.msg[0] != '\0')
            srv__respond_bad(c->req, 422, "Invalid", "%s", e.msg);
        else
            srv__respond_code(c->req, c->res, c->route.name, rv);
        srv__call_free(c);
        return;
    }
    /* The patched object is a full update at the version it was read at,
     * unless the patch itself named another resourceVersion. */
    srv__apply_update(c, cur);
}

bool srv__patch_again(struct srv_call *c)
{
    /* A patch that names the version it applies to is not retried. */
    if (c->patch == NULL ||
        (obj_type(c->patch) == OBJ_ARRAY
             ? obj_json_patch_touches(c->patch, "/metadata/resourceVersion")
             : obj_get_path(c->patch, "metadata.resourceVersion") != NULL))
        return false;
    srv__read(c, patch_point);
    return true;
}

/* The checks kube-apiserver makes of an apply request before reading the
 * object: a manager, a configuration of this kind with this name. */
static bool apply_request_ok(struct srv_call *c, const struct obj *cfg)
{
    char force[16], api[96];
    int has = srv__field_manager(c);

    if (has < 0)
        return false;
    if (has == 0) {
        srv__respond_bad(c->req, 422, "Invalid",
                         "PatchOptions.meta.k8s.io \"\" is invalid: "
                         "fieldManager: Required value: is required for "
                         "apply patch");
        return false;
    }
    if (c->route.sub[0] != '\0') {
        srv__respond_bad(c->req, 415, "UnsupportedMediaType",
                         "server-side apply through the %s subresource is "
                         "not supported by c8s yet; apply the object itself",
                         c->route.sub);
        return false;
    }
    c->force = srv_query_get(c->req->query, "force", force, sizeof force,
                             NULL) &&
               strcmp(force, "true") == 0;
    srv__api_version(c->res, api, sizeof api);
    if (strcmp(srv__str(cfg, "apiVersion"), api) != 0 ||
        strcmp(srv__str(cfg, "kind"), c->res->kind) != 0) {
        srv__respond_bad(c->req, 400, "BadRequest",
                         "the configuration must say apiVersion: %s and "
                         "kind: %s (it says \"%s\" and \"%s\")",
                         api, c->res->kind, srv__str(cfg, "apiVersion"),
                         srv__str(cfg, "kind"));
        return false;
    }
    return srv__name_matches_url(c, cfg);
}

/* PATCH with application/apply-patch+yaml: the body is the manager's
 * whole configuration, YAML or JSON. */
static void start_apply(struct srv_call *c)
{
    struct obj *cfg = NULL;
    struct err e = {0};

    if (obj_yaml_decode(c->req->body, c->req->body_len, NULL, &cfg, &e) != 0 ||
        obj_type(cfg) != OBJ_MAP) {
        srv__respond_bad(c->req, 400, "BadRequest", "%s",
                         e.msg[0] ? e.msg
                                  : "the configuration is not an object");
        obj_unref(cfg);
        srv__call_free(c);
        return;
    }
    if (!apply_request_ok(c, cfg) || srv__schema_prune(c, &cfg) != 0) {
        obj_unref(cfg);
        srv__call_free(c);
        return;
    }
    if (obj_apply_check(srv__schema_of(c->res), cfg, &e) != 0) {
        if (e.msg[0] != '\0')
            srv__respond_bad(c->req, 422, "Invalid", "%s", e.msg);
        else
            srv__respond_code(c->req, c->res, c->route.name, -ENOMEM);
        obj_unref(cfg);
        srv__call_free(c);
        return;
    }
    c->apply = true;
    c->patch = cfg;
    srv__read(c, patch_point);
}

void srv__patch(struct srv_call *c)
{
    const char *ct = srv_req_header(c->req, "Content-Type");
    struct obj *patch = NULL;
    struct err e = {0};

    bool json_patch = ct != NULL &&
                      strncmp(ct, "application/json-patch+json", 27) == 0;

    if (ct != NULL && strncmp(ct, "application/apply-patch+yaml", 28) == 0) {
        start_apply(c);
        return;
    }

    c->strategic = ct != NULL &&
                   strncmp(ct, "application/strategic-merge-patch+json",
                           38) == 0;
    /* Custom resources have no patch strategies: no strategic patches,
     * as kube-apiserver says. */
    if ((!json_patch && !c->strategic &&
         (ct == NULL ||
          strncmp(ct, "application/merge-patch+json", 28) != 0)) ||
        (c->strategic && c->res->schema != NULL)) {
        srv__respond_bad(c->req, 415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - "
                         "accepted media types include: "
                         "application/json-patch+json, "
                         "application/merge-patch+json, %s"
                         "application/apply-patch+yaml",
                         c->res->schema != NULL
                             ? ""
                             : "application/strategic-merge-patch+json, ");
        srv__call_free(c);
        return;
    }
    if (obj_json_decode(c->req->body, c->req->body_len, NULL, &patch, &e) !=
            0 ||
        obj_type(patch) != (json_patch ? OBJ_ARRAY : OBJ_MAP)) {
        srv__respond_bad(c->req, 400, "BadRequest", "%s",
                         e.msg[0]     ? e.msg
                         : json_patch ? "a JSON patch is an array of operations"
                                      : "the patch is not a JSON object");
        obj_unref(patch);
        srv__call_free(c);
        return;
    }
    c->patch = patch;
    /* Patches apply to the latest version: read it through a read point,
     * so a patch sent to a follower right after a write elsewhere does not
     * start from a stale copy. */
    srv__read(c, patch_point);
}
