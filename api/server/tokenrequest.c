/* ServiceAccount tokens on the server: the TokenRequest API
 * (POST .../serviceaccounts/NAME/token, what `kubectl create token` sends)
 * and authentication of the bearer tokens it issues (satoken.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/object/obj.h"
#include "api/server/internal.h"
#include "api/server/objects.h"
#include "api/server/satoken.h"
#include "lib/container.h"
#include "lib/log.h"
#include "lib/mem.h"

#define TOKEN_API_VERSION "authentication.k8s.io/v1"

/* ---- looking objects up ----------------------------------------------------*/

/* metadata.uid of @resource @ns/@name in the local store into @uid (and,
 * when @sa is not NULL, its spec.serviceAccountName there, "default" when
 * unset: a Pod's); false when it does not exist (or cannot be read). */
static bool uid_and_sa(struct srv_api *api, const char *resource,
                       const char *ns, const char *name, char *uid,
                       size_t size, char *sa, size_t sa_size)
{
    struct obj *o = srv__obj_local(api, resource, ns, name);
    const char *u = obj_str_or(obj_get_path(o, "metadata.uid"), "");
    bool found = u[0] != '\0' && strlen(u) < size;

    if (found)
        memcpy(uid, u, strlen(u) + 1);
    if (found && sa != NULL)
        (void)snprintf(sa, sa_size, "%s",
                       obj_str_or(obj_get_path(o, "spec.serviceAccountName"),
                                  "default"));
    obj_unref(o);
    return found;
}

static bool uid_of(struct srv_api *api, const char *resource, const char *ns,
                   const char *name, char *uid, size_t size)
{
    return uid_and_sa(api, resource, ns, name, uid, size, NULL, 0);
}

/* ---- authentication ---------------------------------------------------------*/

int srv__sa_user(struct srv_api *api, const char *token, struct srv_user *u)
{
    struct srv_satoken_claims c;
    struct err e = {0};
    char uid[SRV_SATOKEN_STR_MAX + 1];
    const char *bound_res;

    if (api->satoken.key == NULL ||
        srv_satoken_verify(&api->satoken, token, strlen(token), time(NULL),
                           SRV_SATOKEN_ISSUER, &c, &e) != 0) {
        log_debug("api", "%s", e.msg);
        return -EACCES;
    }
    /* Bound tokens die with the ServiceAccount and their object, even a
     * new one of the same name (kube-apiserver checks the same). */
    if (!uid_of(api, "serviceaccounts", c.ns, c.name, uid, sizeof uid) ||
        strcmp(uid, c.uid) != 0)
        return -EACCES;
    bound_res = strcmp(c.bound_kind, "Pod") == 0      ? "pods"
                : strcmp(c.bound_kind, "Secret") == 0 ? "secrets"
                                                      : NULL;
    if (bound_res != NULL &&
        (!uid_of(api, bound_res, c.ns, c.bound_name, uid, sizeof uid) ||
         strcmp(uid, c.bound_uid) != 0))
        return -EACCES;
    memset(u, 0, sizeof *u);
    /* Names too long for a user (a namespace is at most 63 bytes, but a
     * ServiceAccount's name 253) are refused rather than cut. */
    if (snprintf(u->name, sizeof u->name, "system:serviceaccount:%s:%s",
                 c.ns, c.name) >= (int)sizeof u->name ||
        snprintf(u->groups[1], sizeof u->groups[1],
                 "system:serviceaccounts:%s", c.ns) >= (int)sizeof u->groups[1])
        return -EACCES;
    (void)snprintf(u->uid, sizeof u->uid, "%s", c.uid);
    (void)snprintf(u->groups[0], sizeof u->groups[0],
                   "system:serviceaccounts");
    (void)snprintf(u->groups[2], sizeof u->groups[2],
                   "system:authenticated");
    u->n_groups = 3;
    return 0;
}

/* ---- TokenRequest -----------------------------------------------------------*/

static void invalid(struct srv_call *c, const char *field, const char *why)
{
    srv__respond_bad(c->req, 422, "Invalid",
                     "TokenRequest.authentication.k8s.io \"%s\" is invalid: "
                     "%s: %s",
                     c->route.name, field, why);
}

/* spec.audiences into @cl (default: the API server's). */
static bool read_audiences(struct srv_call *c, const struct obj *spec,
                           struct srv_satoken_claims *cl)
{
    const struct obj *aud = obj_map_get(spec, "audiences");
    size_t n = obj_array_len(aud);

    if (aud != NULL && obj_type(aud) != OBJ_ARRAY && obj_type(aud) != OBJ_NULL) {
        invalid(c, "spec.audiences", "Invalid value: a list of strings");
        return false;
    }
    if (n > SRV_SATOKEN_AUD_MAX) {
        invalid(c, "spec.audiences", "Too many: at most 8 audiences");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        const char *s = obj_str(obj_array_get(aud, i), &len);
        if (s == NULL || len == 0 || len > SRV_SATOKEN_STR_MAX) {
            invalid(c, "spec.audiences", "Invalid value: an audience is a "
                                         "non-empty string of at most 254 "
                                         "bytes");
            return false;
        }
        memcpy(cl->audiences[cl->n_audiences++], s, len + 1);
    }
    if (cl->n_audiences == 0)
        (void)snprintf(cl->audiences[cl->n_audiences++],
                       sizeof cl->audiences[0], "%s", SRV_SATOKEN_ISSUER);
    return true;
}

/* spec.expirationSeconds into cl->exp (from cl->iat). */
static bool read_expiration(struct srv_call *c, const struct obj *spec,
                            struct srv_satoken_claims *cl)
{
    const struct obj *v = obj_map_get(spec, "expirationSeconds");
    int64_t s = v != NULL ? obj_int_or(v, 0) : SRV_SATOKEN_DEFAULT_SECONDS;
    char why[128];

    if (v != NULL && obj_type(v) == OBJ_NULL)
        s = SRV_SATOKEN_DEFAULT_SECONDS;
    else if (v != NULL && obj_type(v) != OBJ_INT)
        s = 0; /* not a number: refused below */
    if (s < SRV_SATOKEN_MIN_SECONDS || s > SRV_SATOKEN_MAX_SECONDS) {
        (void)snprintf(why, sizeof why, "Invalid value: %lld: %s",
                       (long long)s,
                       s < SRV_SATOKEN_MIN_SECONDS
                           ? "may not specify a duration less than 10 minutes"
                           : "may not specify a duration larger than 2^32 "
                             "seconds");
        invalid(c, "spec.expirationSeconds", why);
        return false;
    }
    cl->exp = cl->iat + s;
    return true;
}

/* spec.boundObjectRef: a Pod or Secret of the namespace, by name. */
static bool read_bound(struct srv_call *c, const struct obj *spec,
                       struct srv_satoken_claims *cl)
{
    const struct obj *ref = obj_map_get(spec, "boundObjectRef");
    const char *kind, *name, *uid;

    if (ref == NULL || obj_type(ref) == OBJ_NULL)
        return true;
    kind = obj_str_or(obj_map_get(ref, "kind"), "");
    name = obj_str_or(obj_map_get(ref, "name"), "");
    uid = obj_str_or(obj_map_get(ref, "uid"), "");
    if (strcmp(kind, "Pod") != 0 && strcmp(kind, "Secret") != 0) {
        invalid(c, "spec.boundObjectRef.kind",
                "Unsupported value: supported values: \"Pod\", \"Secret\"");
        return false;
    }
    if (name[0] == '\0' || strlen(name) > SRV_SATOKEN_STR_MAX ||
        strlen(uid) > SRV_SATOKEN_STR_MAX) {
        invalid(c, "spec.boundObjectRef.name", "Required value");
        return false;
    }
    (void)snprintf(cl->bound_kind, sizeof cl->bound_kind, "%s", kind);
    (void)snprintf(cl->bound_name, sizeof cl->bound_name, "%s", name);
    (void)snprintf(cl->bound_uid, sizeof cl->bound_uid, "%s", uid);
    return true;
}

/* Check the bound object exists now (and is the one named by uid). */
static bool bound_exists(struct srv_call *c, struct srv_satoken_claims *cl)
{
    const char *resource = strcmp(cl->bound_kind, "Pod") == 0 ? "pods"
                                                              : "secrets";
    char uid[SRV_SATOKEN_STR_MAX + 1];

    if (cl->bound_kind[0] == '\0')
        return true;
    char sa[SRV_SATOKEN_STR_MAX + 1] = "";

    if (!uid_and_sa(c->api, resource, c->route.ns, cl->bound_name, uid,
                    sizeof uid, sa, sizeof sa)) {
        srv__respond_bad(c->req, 404, "NotFound", "%s \"%s\" not found",
                         resource, cl->bound_name);
        return false;
    }
    /* A token bound to a pod is for the account that pod runs as. */
    if (strcmp(cl->bound_kind, "Pod") == 0 && strcmp(sa, cl->name) != 0) {
        srv__respond_bad(c->req, 400, "BadRequest",
                         "cannot bind token for serviceaccount \"%s\" to "
                         "pod running with different serviceaccount name",
                         cl->name);
        return false;
    }
    if (cl->bound_uid[0] != '\0' && strcmp(uid, cl->bound_uid) != 0) {
        srv__respond_bad(c->req, 409, "Conflict",
                         "the UID in the bound object reference (%s) does not "
                         "match the UID in record: the object might have "
                         "been deleted and then recreated",
                         cl->bound_uid);
        return false;
    }
    (void)snprintf(cl->bound_uid, sizeof cl->bound_uid, "%s", uid);
    return true;
}

static void rfc3339(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    (void)gmtime_r(&tt, &tm);
    (void)strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The answer: the request with metadata and status filled in. */
static int fill_answer(struct srv_call *c, const struct srv_satoken_claims *cl,
                       const char *token)
{
    struct obj *o = c->obj, *st = obj_map_new(), *meta;
    char when[32], now[32];
    int rv = st != NULL ? 0 : -ENOMEM;

    rfc3339(cl->exp, when);
    rfc3339(cl->iat, now);
    rv |= srv__set_str(o, "kind", "TokenRequest");
    rv |= srv__set_str(o, "apiVersion", TOKEN_API_VERSION);
    if (rv == 0 && obj_map_get(o, "metadata") == NULL)
        rv = obj_map_set(o, "metadata", obj_map_new());
    meta = rv == 0 ? obj_map_get_mut(o, "metadata") : NULL;
    if (meta == NULL || obj_type(meta) != OBJ_MAP)
        rv = -ENOMEM;
    if (rv == 0)
        rv = srv__set_str(meta, "name", c->route.name) |
             srv__set_str(meta, "namespace", c->route.ns) |
             srv__set_str(meta, "creationTimestamp", now);
    if (rv == 0)
        rv = srv__set_str(st, "token", token) |
             srv__set_str(st, "expirationTimestamp", when);
    if (rv == 0 && (rv = obj_map_set(o, "status", st)) == 0)
        st = NULL;
    obj_unref(st);
    return rv != 0 ? -ENOMEM : 0;
}

/* The read point is in: the ServiceAccount and bound object as of now. */
static void token_point(struct repl_req *rr, const struct repl_result *res)
{
    struct srv_call *c = container_of(rr, struct srv_call, rreq);
    struct srv_satoken_claims cl;
    const struct obj *spec = obj_map_get(c->obj, "spec");
    char *token = NULL;
    struct err e = {0};

    memset(&cl, 0, sizeof cl);
    cl.iat = (int64_t)time(NULL);
    (void)snprintf(cl.ns, sizeof cl.ns, "%s", c->route.ns);
    (void)snprintf(cl.name, sizeof cl.name, "%s", c->route.name);
    if (res->code != 0) {
        srv__respond_code(c->req, c->res, c->route.name, res->code);
    } else if (!uid_of(c->api, "serviceaccounts", cl.ns, cl.name, cl.uid,
                       sizeof cl.uid)) {
        srv__respond_code(c->req, c->res, c->route.name, -C8S_ENOTFOUND);
    } else if (read_audiences(c, spec, &cl) && read_expiration(c, spec, &cl) &&
               read_bound(c, spec, &cl) && bound_exists(c, &cl)) {
        if (srv_satoken_issue(&c->api->satoken, &cl, &token, &e) != 0 ||
            fill_answer(c, &cl, token) != 0)
            srv__respond_code(c->req, c->res, c->route.name, -ENOMEM);
        else
            srv__respond_obj(c->req, 201, c->obj);
        if (token != NULL)
            srv_pki_free_secret(token, strlen(token));
    }
    srv__call_free(c);
}

void srv__token_request(struct srv_call *c)
{
    const char *kind, *apiv;

    if (strcmp(c->req->method, "POST") != 0) {
        srv__respond_bad(c->req, 405, "MethodNotAllowed",
                         "the server does not allow this method on the "
                         "requested resource");
        srv__call_free(c);
        return;
    }
    if (srv__decode_body(c, &c->obj) != 0) {
        srv__call_free(c);
        return;
    }
    kind = obj_str_or(obj_map_get(c->obj, "kind"), "TokenRequest");
    apiv = obj_str_or(obj_map_get(c->obj, "apiVersion"), TOKEN_API_VERSION);
    if (strcmp(kind, "TokenRequest") != 0 ||
        strcmp(apiv, TOKEN_API_VERSION) != 0 ||
        (obj_map_get(c->obj, "spec") != NULL &&
         obj_type(obj_map_get(c->obj, "spec")) != OBJ_MAP)) {
        srv__respond_bad(c->req, 400, "BadRequest",
                         "the body must be an authentication.k8s.io/v1 "
                         "TokenRequest");
        srv__call_free(c);
        return;
    }
    if (c->api->satoken.key == NULL) { /* not before the CA is known */
        srv__respond_bad(c->req, 503, "ServiceUnavailable",
                         "the token issuer is not ready yet");
        srv__call_free(c);
        return;
    }
    srv__read(c, token_point);
}
