/* Kubernetes Status objects, built as object trees. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/status.h"

static const char *const reasons[] = {
    [OBJ_REASON_UNKNOWN] = "",
    [OBJ_REASON_UNAUTHORIZED] = "Unauthorized",
    [OBJ_REASON_FORBIDDEN] = "Forbidden",
    [OBJ_REASON_NOT_FOUND] = "NotFound",
    [OBJ_REASON_ALREADY_EXISTS] = "AlreadyExists",
    [OBJ_REASON_CONFLICT] = "Conflict",
    [OBJ_REASON_GONE] = "Gone",
    [OBJ_REASON_INVALID] = "Invalid",
    [OBJ_REASON_SERVER_TIMEOUT] = "ServerTimeout",
    [OBJ_REASON_TIMEOUT] = "Timeout",
    [OBJ_REASON_TOO_MANY_REQUESTS] = "TooManyRequests",
    [OBJ_REASON_BAD_REQUEST] = "BadRequest",
    [OBJ_REASON_METHOD_NOT_ALLOWED] = "MethodNotAllowed",
    [OBJ_REASON_NOT_ACCEPTABLE] = "NotAcceptable",
    [OBJ_REASON_REQUEST_ENTITY_TOO_LARGE] = "RequestEntityTooLarge",
    [OBJ_REASON_UNSUPPORTED_MEDIA_TYPE] = "UnsupportedMediaType",
    [OBJ_REASON_INTERNAL_ERROR] = "InternalError",
    [OBJ_REASON_EXPIRED] = "Expired",
    [OBJ_REASON_SERVICE_UNAVAILABLE] = "ServiceUnavailable",
};

const char *obj_reason_str(enum obj_reason r)
{
    return reasons[r];
}

/* ---- building -------------------------------------------------------------*/

/* What goes into "details" (metav1.StatusDetails); NULL or empty strings
 * and 0 are left out, as Go's omitempty does. */
struct details {
    const char *name;   /* Object name. */
    const char *group;  /* API group. */
    const char *kind;   /* Resource (or, for Invalid, the kind). */
    const char *uid;    /* Object uid (delete). */
    struct obj *causes; /* Array of causes (borrowed), or NULL. */
    int retry_after;    /* retryAfterSeconds. */
};

/* Set @key to the string @s unless it is NULL or empty. */
static int set_str(struct obj *m, const char *key, const char *s)
{
    struct obj *v;

    if (s == NULL || s[0] == '\0')
        return 0;
    if ((v = obj_str_new_c(s)) == NULL)
        return -ENOMEM;
    if (obj_map_set(m, key, v) != 0) {
        obj_unref(v);
        return -ENOMEM;
    }
    return 0;
}

/* Set @key to the int @i unless it is 0. */
static int set_int(struct obj *m, const char *key, int64_t i)
{
    struct obj *v;

    if (i == 0)
        return 0;
    if ((v = obj_int_new(i)) == NULL)
        return -ENOMEM;
    if (obj_map_set(m, key, v) != 0) {
        obj_unref(v);
        return -ENOMEM;
    }
    return 0;
}

/* Set @key to @child, taking the caller's reference in every case. */
static int set_take(struct obj *m, const char *key, struct obj *child)
{
    if (child == NULL)
        return -ENOMEM;
    if (obj_map_set(m, key, child) != 0) {
        obj_unref(child);
        return -ENOMEM;
    }
    return 0;
}

static struct obj *details_new(const struct details *d)
{
    struct obj *m = obj_map_new();

    if (m == NULL || set_str(m, "name", d->name) != 0 ||
        set_str(m, "group", d->group) != 0 ||
        set_str(m, "kind", d->kind) != 0 || set_str(m, "uid", d->uid) != 0 ||
        (d->causes != NULL && obj_array_len(d->causes) > 0 &&
         set_take(m, "causes", obj_ref(d->causes)) != 0) ||
        set_int(m, "retryAfterSeconds", d->retry_after) != 0)
        return obj_unref(m);
    return m;
}

/* The Status tree, keys in the order Go writes them. @d NULL: no details
 * at all (a non-NULL @d with nothing in it gives "details":{}, as a Go
 * constructor that sets Details does). */
static int build(bool success,
                 int code,
                 enum obj_reason reason,
                 const char *message,
                 const struct details *d,
                 struct obj **ret)
{
    struct obj *st = obj_map_new();

    if (st == NULL || set_str(st, "kind", "Status") != 0 ||
        set_str(st, "apiVersion", "v1") != 0 ||
        set_take(st, "metadata", obj_map_new()) != 0 ||
        set_str(st, "status", success ? "Success" : "Failure") != 0 ||
        set_str(st, "message", message) != 0 ||
        set_str(st, "reason", obj_reason_str(reason)) != 0 ||
        (d != NULL && set_take(st, "details", details_new(d)) != 0) ||
        set_int(st, "code", code) != 0) {
        obj_unref(st);
        return -ENOMEM;
    }
    *ret = st;
    return 0;
}

/* ---- messages -------------------------------------------------------------*/

/* Append a NUL-terminated string. */
static int put(struct obj_buf *b, const char *s)
{
    return obj_buf_append(b, s ? s : "", s ? strlen(s) : 0);
}

/* "pods" or "deployments.apps" (GroupResource.String()); likewise for a
 * kind and group. */
static int put_qualified(struct obj_buf *b, const char *group, const char *name)
{
    int r = put(b, name);

    if (r == 0 && group != NULL && group[0] != '\0' && (r = put(b, ".")) == 0)
        r = put(b, group);
    return r;
}

/* Append Go's %q of @s. */
static int put_quoted(struct obj_buf *b, const char *s)
{
    return obj_quote_go(b, s ? s : "", s ? strlen(s) : 0);
}

/* `pods "x"`: most messages start with it. */
static int put_res_name(struct obj_buf *b,
                        const struct obj_gr *gr,
                        const char *name)
{
    int r = put_qualified(b, gr->group, gr->resource);

    if (r == 0)
        r = put(b, " ");
    return r == 0 ? put_quoted(b, name) : r;
}

/* Finish: build the Status with the message in @b, then free @b. @r is
 * the result of writing the message. */
static int finish(int r,
                  struct obj_buf *b,
                  int code,
                  enum obj_reason reason,
                  const struct details *d,
                  struct obj **ret)
{
    if (r == 0)
        r = obj_buf_append(b, "", 0); /* Make sure data is not NULL. */
    if (r == 0)
        r = build(false, code, reason, b->data, d, ret);
    obj_buf_done(b);
    return r;
}

/* A message: @prefix, then the items of @list joined by ", ". */
static int put_joined(struct obj_buf *b,
                      const char *prefix,
                      const char *const *list)
{
    int r = put(b, prefix);

    for (size_t i = 0; r == 0 && list != NULL && list[i] != NULL; i++) {
        if (i > 0)
            r = put(b, ", ");
        if (r == 0)
            r = put(b, list[i]);
    }
    return r;
}

/* ---- constructors ---------------------------------------------------------*/

int obj_status_failure(int code,
                       enum obj_reason reason,
                       const char *message,
                       struct obj **ret)
{
    return build(false, code, reason, message, NULL, ret);
}

int obj_status_success(const struct obj_gr *gr,
                       const char *name,
                       const char *uid,
                       struct obj **ret)
{
    struct details d = {name, gr->group, gr->resource, uid, NULL, 0};

    return build(true, 0, OBJ_REASON_UNKNOWN, NULL, &d, ret);
}

/* The "<resource> <name> <tail>" statuses: NotFound, AlreadyExists. */
static int res_name_status(const struct obj_gr *gr,
                           const char *name,
                           const char *tail,
                           int code,
                           enum obj_reason reason,
                           int retry_after,
                           struct obj **ret)
{
    struct details d = {name, gr->group, gr->resource, NULL, NULL, retry_after};
    struct obj_buf b;
    int r;

    obj_buf_init(&b);
    r = put_res_name(&b, gr, name);
    if (r == 0)
        r = put(&b, tail);
    return finish(r, &b, code, reason, &d, ret);
}

int obj_status_not_found(const struct obj_gr *gr,
                         const char *name,
                         struct obj **ret)
{
    return res_name_status(gr, name, " not found", 404, OBJ_REASON_NOT_FOUND, 0,
                           ret);
}

int obj_status_already_exists(const struct obj_gr *gr,
                              const char *name,
                              struct obj **ret)
{
    return res_name_status(gr, name, " already exists", 409,
                           OBJ_REASON_ALREADY_EXISTS, 0, ret);
}

int obj_status_generate_name_conflict(const struct obj_gr *gr,
                                      const char *name,
                                      int retry_after,
                                      struct obj **ret)
{
    return res_name_status(gr, name,
                           " already exists, the server was not able to "
                           "generate a unique name for the object",
                           409, OBJ_REASON_ALREADY_EXISTS, retry_after, ret);
}

int obj_status_conflict(const struct obj_gr *gr,
                        const char *name,
                        const char *why,
                        struct obj **ret)
{
    struct details d = {name, gr->group, gr->resource, NULL, NULL, 0};
    struct obj_buf b;
    int r;

    obj_buf_init(&b);
    r = put(&b, "Operation cannot be fulfilled on ");
    if (r == 0)
        r = put_res_name(&b, gr, name);
    if (r == 0)
        r = put(&b, ": ");
    if (r == 0)
        r = put(&b, why ? why : OBJ_STATUS_MODIFIED_MSG);
    return finish(r, &b, 409, OBJ_REASON_CONFLICT, &d, ret);
}

/* details.causes of an Invalid: {reason, message (the error without its
 * field), field} per error. */
static struct obj *causes_new(const struct obj_ferrs *errs)
{
    struct obj *arr = obj_array_new();
    struct obj_buf b;
    int r = arr ? 0 : -ENOMEM;

    obj_buf_init(&b);
    for (size_t i = 0; r == 0 && i < errs->len; i++) {
        const struct obj_ferr *fe = &errs->v[i];
        struct obj *c = obj_map_new();

        b.len = 0;
        r = c ? obj_ferr_body(fe, &b) : -ENOMEM;
        if (r == 0 &&
            (r = set_str(c, "reason", obj_ferr_reason(fe->type))) == 0 &&
            (r = set_take(c, "message", obj_str_new(b.data, b.len))) == 0 &&
            (r = set_str(c, "field", fe->field)) == 0) {
            r = obj_array_append(arr, c);
            c = r == 0 ? NULL : c;
        }
        obj_unref(c);
    }
    obj_buf_done(&b);
    return r == 0 ? arr : obj_unref(arr);
}

int obj_status_invalid(const char *group,
                       const char *kind,
                       const char *name,
                       const struct obj_ferrs *errs,
                       struct obj **ret)
{
    struct details d = {name, group, kind, NULL, NULL, 0};
    struct obj_buf b;
    int r;

    d.causes = causes_new(errs);
    obj_buf_init(&b);
    r = d.causes ? put_qualified(&b, group, kind) : -ENOMEM;
    if (r == 0 && (r = put(&b, " ")) == 0 && (r = put_quoted(&b, name)) == 0)
        r = put(&b, " is invalid");
    if (r == 0 && errs->len > 0 && (r = put(&b, ": ")) == 0)
        r = obj_ferrs_format(errs, &b);
    r = finish(r, &b, 422, OBJ_REASON_INVALID, &d, ret);
    obj_unref(d.causes);
    return r;
}

int obj_status_bad_request(const char *message, struct obj **ret)
{
    return build(false, 400, OBJ_REASON_BAD_REQUEST, message, NULL, ret);
}

int obj_status_unauthorized(const char *message, struct obj **ret)
{
    if (message == NULL || message[0] == '\0')
        message = "not authorized";
    return build(false, 401, OBJ_REASON_UNAUTHORIZED, message, NULL, ret);
}

int obj_status_forbidden(const struct obj_gr *gr,
                         const char *name,
                         const char *why,
                         struct obj **ret)
{
    static const struct obj_gr none = {NULL, NULL};
    struct obj_buf b;
    struct details d;
    int r = 0;

    if (gr == NULL)
        gr = &none;
    d = (struct details){name, gr->group, gr->resource, NULL, NULL, 0};
    obj_buf_init(&b);
    if (gr->resource == NULL || gr->resource[0] == '\0') {
        r = put(&b, "forbidden");
    } else {
        if (name == NULL || name[0] == '\0')
            r = put_qualified(&b, gr->group, gr->resource);
        else
            r = put_res_name(&b, gr, name);
        if (r == 0)
            r = put(&b, " is forbidden");
    }
    if (r == 0 && (r = put(&b, ": ")) == 0)
        r = put(&b, why);
    return finish(r, &b, 403, OBJ_REASON_FORBIDDEN, &d, ret);
}

int obj_status_method_not_supported(const struct obj_gr *gr,
                                    const char *action,
                                    struct obj **ret)
{
    struct details d = {NULL, gr->group, gr->resource, NULL, NULL, 0};
    struct obj_buf b;
    int r;

    obj_buf_init(&b);
    r = put(&b, action);
    if (r == 0)
        r = put(&b, " is not supported on resources of kind \"");
    if (r == 0)
        r = put_qualified(&b, gr->group, gr->resource);
    if (r == 0)
        r = put(&b, "\"");
    return finish(r, &b, 405, OBJ_REASON_METHOD_NOT_ALLOWED, &d, ret);
}

int obj_status_not_acceptable(const char *const *accepted, struct obj **ret)
{
    struct obj_buf b;

    obj_buf_init(&b);
    return finish(
        put_joined(&b,
                   "only the following media types are accepted: ", accepted),
        &b, 406, OBJ_REASON_NOT_ACCEPTABLE, NULL, ret);
}

int obj_status_unsupported_media_type(const char *const *accepted,
                                      struct obj **ret)
{
    struct obj_buf b;

    obj_buf_init(&b);
    return finish(put_joined(&b,
                             "the body of the request was in an unknown "
                             "format - accepted media types include: ",
                             accepted),
                  &b, 415, OBJ_REASON_UNSUPPORTED_MEDIA_TYPE, NULL, ret);
}

/* "<prefix><message>" with no details. */
static int prefixed(const char *prefix,
                    const char *message,
                    int code,
                    enum obj_reason reason,
                    const struct details *d,
                    struct obj **ret)
{
    struct obj_buf b;
    int r;

    obj_buf_init(&b);
    r = put(&b, prefix);
    if (r == 0)
        r = put(&b, message);
    return finish(r, &b, code, reason, d, ret);
}

int obj_status_too_large(const char *message, struct obj **ret)
{
    return prefixed("Request entity too large: ", message, 413,
                    OBJ_REASON_REQUEST_ENTITY_TOO_LARGE, NULL, ret);
}

int obj_status_expired(const char *message, struct obj **ret)
{
    return build(false, 410, OBJ_REASON_EXPIRED, message, NULL, ret);
}

int obj_status_gone(const char *message, struct obj **ret)
{
    return build(false, 410, OBJ_REASON_GONE, message, NULL, ret);
}

int obj_status_too_old_rv(uint64_t rv, uint64_t oldest, struct obj **ret)
{
    char msg[96];

    (void)snprintf(msg, sizeof msg,
                   "too old resource version: %" PRIu64 " (%" PRIu64 ")", rv,
                   oldest);
    return obj_status_expired(msg, ret);
}

int obj_status_too_many_requests(const char *message,
                                 int retry_after,
                                 struct obj **ret)
{
    struct details d = {NULL, NULL, NULL, NULL, NULL, retry_after};

    if (message == NULL)
        message = "Too many requests, please try again later.";
    return build(false, 429, OBJ_REASON_TOO_MANY_REQUESTS, message, &d, ret);
}

int obj_status_service_unavailable(const char *message, struct obj **ret)
{
    return build(false, 503, OBJ_REASON_SERVICE_UNAVAILABLE, message, NULL,
                 ret);
}

int obj_status_internal_error(const char *message, struct obj **ret)
{
    struct details d = {0};
    struct obj *cause = obj_map_new();
    int r = -ENOMEM;

    d.causes = obj_array_new();
    if (cause != NULL && d.causes != NULL &&
        set_str(cause, "message", message) == 0 &&
        obj_array_append(d.causes, cause) == 0) {
        cause = NULL; /* The array has it now. */
        r = prefixed("Internal error occurred: ", message, 500,
                     OBJ_REASON_INTERNAL_ERROR, &d, ret);
    }
    obj_unref(cause);
    obj_unref(d.causes);
    return r;
}

int obj_status_timeout(const char *message, int retry_after, struct obj **ret)
{
    struct details d = {NULL, NULL, NULL, NULL, NULL, retry_after};

    return prefixed("Timeout: ", message, 504, OBJ_REASON_TIMEOUT, &d, ret);
}

int obj_status_server_timeout(const struct obj_gr *gr,
                              const char *operation,
                              int retry_after,
                              struct obj **ret)
{
    /* Go puts the operation in details.name. */
    struct details d = {operation, gr->group, gr->resource,
                        NULL,      NULL,      retry_after};
    struct obj_buf b;
    int r;

    obj_buf_init(&b);
    r = put(&b, "The ");
    if (r == 0 && (r = put(&b, operation)) == 0 &&
        (r = put(&b, " operation against ")) == 0 &&
        (r = put_qualified(&b, gr->group, gr->resource)) == 0)
        r = put(&b, " could not be completed at this time, please try again.");
    return finish(r, &b, 500, OBJ_REASON_SERVER_TIMEOUT, &d, ret);
}

/* ---- reading and encoding -------------------------------------------------*/

int obj_status_http_code(const struct obj *st)
{
    int64_t code = obj_int_or(obj_map_get(st, "code"), 0);

    if (code >= 100 && code <= 599)
        return (int)code;
    return strcmp(obj_str_or(obj_map_get(st, "status"), ""), "Success") == 0
               ? 200
               : 500;
}

int64_t obj_status_retry_after(const struct obj *st)
{
    return obj_int_or(obj_get(st, "details", "retryAfterSeconds", NULL), 0);
}

int obj_status_rbuf(const struct obj *st, struct rbuf **ret, struct err *e)
{
    return obj_json_rbuf(st, OBJ_JSON_NEWLINE, ret, e);
}
