/* Helpers shared by the resource handlers. */
#include "api/server/objects.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "raft/repl.h"
#include "store/store.h"

void srv__api_version(const struct obj_resource *res, char *out, size_t size)
{
    if (res->group[0] == '\0')
        (void)snprintf(out, size, "%s", res->version);
    else
        (void)snprintf(out, size, "%s/%s", res->group, res->version);
}

const char *srv__str(const struct obj *o, const char *path)
{
    return obj_str_or(obj_get_path(o, path), "");
}

int srv__set_str(struct obj *m, const char *key, const char *value)
{
    struct obj *v = obj_str_new_c(value);
    int rv = m != NULL ? obj_map_set(m, key, v) : -ENOMEM;

    if (rv != 0)
        obj_unref(v);
    return rv;
}

struct obj *srv__meta(struct obj *o)
{
    struct obj *m = obj_map_get_mut(o, "metadata");

    if (m != NULL && obj_type(m) == OBJ_MAP)
        return m;
    if (obj_map_set(o, "metadata", obj_map_new()) != 0)
        return NULL;
    return obj_map_get_mut(o, "metadata");
}

static bool is_secrets(const struct obj_resource *res)
{
    return res->group[0] == '\0' && strcmp(res->resource, "secrets") == 0;
}

/* The stored bytes of @kv, opened into @plain when sealed (Secrets at
 * rest). 0, or an error logged with its reason. */
static int stored_bytes(const struct srv_api *api,
                        const struct obj_resource *res,
                        const struct store_kv *kv, struct obj_buf *plain,
                        const void **data, size_t *len)
{
    struct err e = {0};
    int rv;

    *data = kv->value->data;
    *len = kv->value->len;
    if (!is_secrets(res))
        return 0;
    if (!srv_atrest_sealed(*data, *len)) {
        if (api->atrest.read_plain)
            return 0;
        log_error("api", "stored %s %s/%s is not encrypted and the "
                  "encryption config lists no identity provider: refused",
                  res->resource, kv->ns, kv->name);
        return -C8S_ECORRUPT;
    }
    rv = srv_atrest_open(&api->atrest, kv->ns, kv->name, *data, *len, plain,
                         &e);
    if (rv != 0) {
        log_error("api", "stored %s %s/%s: %s", res->resource, kv->ns,
                  kv->name, e.msg);
        return rv == -ENOMEM ? rv : -C8S_ECORRUPT;
    }
    *data = plain->data;
    *len = plain->len;
    return 0;
}

int srv__obj_encode(const struct srv_api *api, const struct obj_resource *res,
                    const char *ns, const char *name, const struct obj *o,
                    struct obj_buf *b)
{
    struct obj_buf plain;
    int rv;

    if (!is_secrets(res))
        return obj_msgpack_encode(o, b, NULL);
    obj_buf_init(&plain);
    rv = obj_msgpack_encode(o, &plain, NULL);
    if (rv == 0)
        rv = srv_atrest_seal(&api->atrest, ns, name, plain.data, plain.len,
                             b);
    OPENSSL_cleanse(plain.data, plain.len);
    obj_buf_done(&plain);
    return rv;
}

int srv__obj_json(const struct srv_api *api, const struct obj_resource *res,
                  const struct store_kv *kv, store_rev rev, struct obj_buf *b)
{
    char apiv[300], rv[24];
    struct obj_json_overrides ov = {res->kind, apiv, rv};
    struct err e = {0};
    struct obj_buf plain;
    const void *data;
    size_t len;
    int r;

    if (kv->value == NULL)
        return -C8S_ECORRUPT;
    obj_buf_init(&plain);
    if ((r = stored_bytes(api, res, kv, &plain, &data, &len)) != 0) {
        obj_buf_done(&plain);
        return r;
    }
    srv__api_version(res, apiv, sizeof apiv);
    (void)snprintf(rv, sizeof rv, "%llu", (unsigned long long)rev);
    r = obj_msgpack_to_json(data, len, &ov, b, &e);
    OPENSSL_cleanse(plain.data, plain.len);
    obj_buf_done(&plain);
    if (r == -C8S_EMALFORMED) {
        log_error("api", "stored %s %s/%s is unreadable: %s", res->resource,
                  kv->ns, kv->name, e.msg);
        return -C8S_ECORRUPT;
    }
    return r;
}

struct obj *srv__obj_load(const struct srv_api *api,
                          const struct obj_resource *res,
                          const struct store_kv *kv, store_rev rev)
{
    char apiv[300], rv[24];
    struct obj *o = NULL, *meta;
    struct err e = {0};
    struct obj_buf plain;
    const void *data;
    size_t len;

    if (kv->value == NULL)
        return NULL;
    obj_buf_init(&plain);
    if (stored_bytes(api, res, kv, &plain, &data, &len) != 0) {
        obj_buf_done(&plain);
        return NULL;
    }
    int r = obj_msgpack_decode(data, len, NULL, &o, &e);
    OPENSSL_cleanse(plain.data, plain.len);
    obj_buf_done(&plain);
    if (r != 0 || obj_type(o) != OBJ_MAP) {
        log_error("api", "stored %s %s/%s is unreadable: %s", res->resource,
                  kv->ns, kv->name, e.msg);
        obj_unref(o);
        return NULL;
    }
    srv__api_version(res, apiv, sizeof apiv);
    (void)snprintf(rv, sizeof rv, "%llu", (unsigned long long)rev);
    meta = srv__meta(o);
    if (meta == NULL || srv__set_str(o, "kind", res->kind) != 0 ||
        srv__set_str(o, "apiVersion", apiv) != 0 ||
        srv__set_str(meta, "resourceVersion", rv) != 0)
        return obj_unref(o);
    return o;
}

struct obj *srv__obj_local(struct srv_api *api, const char *resource,
                           const char *ns, const char *name)
{
    const struct obj_resource *res =
        obj_registry_find(api->reg, "", "v1", resource);
    const struct store_kv *kv = NULL;
    struct obj *o = NULL;

    if (res != NULL && store_get(repl_store(api->repl), res->store_prefix, ns,
                                 name, 0, &kv) == 0)
        o = srv__obj_load(api, res, kv, kv->mod_rev);
    store_kv_unref(kv);
    return o;
}

static void respond_obj(struct srv_req *req, int status, const struct obj *o,
                        const char *headers)
{
    struct obj_buf b;

    obj_buf_init(&b);
    if (obj_json_encode(o, OBJ_JSON_NEWLINE, &b, NULL) != 0) {
        (void)srv_respond_status(req, 500, "InternalError",
                                 "cannot encode the object", 0);
        return;
    }
    (void)srv_respond(req, status, "application/json", headers, b.data,
                      b.len);
    obj_buf_done(&b);
}

void srv__respond_obj(struct srv_req *req, int status, const struct obj *o)
{
    respond_obj(req, status, o, NULL);
}

void srv__respond_call_obj(struct srv_call *c, int status, const struct obj *o)
{
    respond_obj(c->req, status, o, c->warnings);
}

void srv__respond_bad(struct srv_req *req, int status, const char *reason,
                      const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    (void)srv_respond_status(req, status, reason, msg, 0);
}

/* "pods" or "deployments.apps", as Kubernetes names a resource in
 * messages. */
static void qualified(const struct obj_resource *res, char *out, size_t size)
{
    if (res == NULL)
        (void)snprintf(out, size, "resource");
    else if (res->group[0] == '\0')
        (void)snprintf(out, size, "%s", res->resource);
    else
        (void)snprintf(out, size, "%s.%s", res->resource, res->group);
}

void srv__respond_code(struct srv_req *req, const struct obj_resource *res,
                       const char *name, int code)
{
    char what[300];

    qualified(res, what, sizeof what);
    switch (code) {
    case -C8S_ENOTFOUND:
        srv__respond_bad(req, 404, "NotFound", "%s \"%s\" not found", what,
                         name ? name : "");
        return;
    case -C8S_EEXISTS:
        srv__respond_bad(req, 409, "AlreadyExists", "%s \"%s\" already exists",
                         what, name ? name : "");
        return;
    case -C8S_ECONFLICT:
        srv__respond_bad(req, 409, "Conflict",
                         "Operation cannot be fulfilled on %s \"%s\": the "
                         "object has been modified; please apply your changes "
                         "to the latest version and try again",
                         what, name ? name : "");
        return;
    case -C8S_ENOLEADER:
    case -C8S_ESHUTDOWN:
        (void)srv_respond_status(req, 503, "ServiceUnavailable",
                                 "the control plane has no leader right now; "
                                 "retry",
                                 1);
        return;
    case -C8S_EOVERLOADED:
        (void)srv_respond_status(req, 429, "TooManyRequests",
                                 "the server is overloaded; retry", 1);
        return;
    case -C8S_EUNKNOWN:
        (void)srv_respond_status(req, 504, "Timeout",
                                 "the write was sent but its outcome is "
                                 "unknown (the leader changed): it may or may "
                                 "not have been applied; read the object "
                                 "before retrying",
                                 0);
        return;
    case -ENOSPC:
        (void)srv_respond_status(req, 507, "InsufficientStorage",
                                 "the control plane's disk is nearly full; "
                                 "writes are refused",
                                 0);
        return;
    case -C8S_ECOMPACTED:
    case -C8S_ETOOOLD:
        (void)srv_respond_status(req, 410, "Expired",
                                 "the requested resourceVersion is too old "
                                 "(compacted)",
                                 0);
        return;
    case -C8S_EFUTUREREV:
        (void)srv_respond_status(req, 504, "Timeout",
                                 "Too large resource version", 1);
        return;
    default:
        srv__respond_bad(req, 500, "InternalError", "internal error: %s",
                         err_str(code));
        return;
    }
}

void srv__uuid(char out[37])
{
    unsigned char b[16];

    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        memset(b, 0, sizeof b); /* never happens with a kernel that has it */
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    (void)snprintf(out, 37,
                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                   "%02x%02x%02x%02x%02x%02x",
                   b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                   b[10], b[11], b[12], b[13], b[14], b[15]);
}

void srv__timestamp(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    (void)strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool srv__cached_flag(struct srv_flag_cache *cache, const char *name,
                      const struct store_kv *kv,
                      bool (*test)(const struct obj *o))
{
    struct obj *o = NULL;
    struct err e = {0};
    bool value;

    if (cache->mod_rev == kv->mod_rev && strcmp(cache->name, name) == 0)
        return cache->value;
    if (obj_msgpack_decode(kv->value->data, kv->value->len, NULL, &o, &e) != 0)
        return false; /* unreadable: the write's own checks decide */
    value = test(o);
    obj_unref(o);
    if (strlen(name) < sizeof cache->name) {
        snprintf(cache->name, sizeof cache->name, "%s", name);
        cache->mod_rev = kv->mod_rev;
        cache->value = value;
    }
    return value;
}

int srv__mark_deleting(struct obj *o)
{
    struct obj *meta = srv__meta(o);
    char ts[32];

    if (meta == NULL)
        return -ENOMEM;
    if (obj_map_get(meta, "deletionTimestamp") != NULL)
        return 0;
    srv__timestamp(ts);
    if (srv__set_str(meta, "deletionTimestamp", ts) != 0 ||
        obj_map_set(meta, "deletionGracePeriodSeconds", obj_int_new(0)) != 0)
        return -ENOMEM;
    return 0;
}

void srv__call_free(struct srv_call *c)
{
    if (c->counted)
        c->api->inflight[c->counted - 1]--;
    srv__crd_release(c);
    obj_unref(c->obj);
    obj_unref(c->patch);
    obj_unref(c->put_body);
    obj_unref(c->delete_opts);
    mem_free(c->warnings);
    mem_free(c);
}

bool srv__name_matches_url(struct srv_call *c, const struct obj *o)
{
    if (strcmp(srv__str(o, "metadata.name"), c->route.name) == 0)
        return true;
    srv__respond_bad(c->req, 400, "BadRequest",
                     "the name of the object (%s) does not match the name "
                     "on the URL (%s)",
                     srv__str(o, "metadata.name"), c->route.name);
    return false;
}
