/* PATCH: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic
 * merge patch (api/object/smp.h, with the kind's schema). Server-side
 * apply comes with issue 7; it gets 415 until then. */
#include <string.h>

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

/* Apply c->patch to @cur as its content type says; a patch that cannot
 * apply says why in @e. */
static int apply_patch(const struct srv_call *c, struct obj *cur,
                       struct err *e)
{
    if (c->strategic)
        return obj_smp_apply(cur, c->patch, srv__schema_of(c->res), e);
    if (obj_type(c->patch) == OBJ_ARRAY)
        return obj_json_patch(cur, c->patch, e);
    return merge(cur, c->patch);
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
    if (rv == 0 && (cur = srv__obj_load(c->res, kv, kv->mod_rev)) == NULL)
        rv = -ENOMEM;
    store_kv_unref(kv);
    if (rv == 0)
        rv = apply_patch(c, cur, &e);
    obj_unref(c->obj); /* a previous attempt's object */
    c->obj = NULL;
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

void srv__patch(struct srv_call *c)
{
    const char *ct = srv_req_header(c->req, "Content-Type");
    struct obj *patch = NULL;
    struct err e = {0};

    bool json_patch = ct != NULL &&
                      strncmp(ct, "application/json-patch+json", 27) == 0;

    c->strategic = ct != NULL &&
                   strncmp(ct, "application/strategic-merge-patch+json",
                           38) == 0;
    if (!json_patch && !c->strategic &&
        (ct == NULL || strncmp(ct, "application/merge-patch+json", 28) != 0)) {
        srv__respond_bad(c->req, 415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - "
                         "accepted media types include: "
                         "application/json-patch+json, "
                         "application/merge-patch+json, "
                         "application/strategic-merge-patch+json");
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
