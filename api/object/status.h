/* Kubernetes Status objects: what the API returns for every error (and for
 * some successes, such as a delete).
 *
 *   {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 *    "message":"pods \"x\" not found","reason":"NotFound",
 *    "details":{"name":"x","kind":"pods"},"code":404}
 *
 * The constructors mirror k8s.io/apimachinery/pkg/api/errors (v0.33): same
 * code, reason, details and, word for word, the same message, since kubectl
 * prints the message to users ("Error from server (NotFound): pods "x" not
 * found"). Fields Go leaves out when empty (omitempty) are left out here
 * too, and keys come in Go's order, so the JSON matches byte for byte.
 *
 * Every constructor returns 0 and a new tree in *@ret (one reference), or
 * -ENOMEM. The tree is a plain object: the server may add to it (e.g.
 * details.uid) before encoding it. */
#ifndef C8S_API_OBJECT_STATUS_H
#define C8S_API_OBJECT_STATUS_H

#include <stdint.h>

#include "api/object/obj.h"
#include "api/object/validate.h"
#include "lib/err.h"
#include "lib/rbuf.h"

/* Status reasons (metav1.StatusReason). */
enum obj_reason {
    OBJ_REASON_UNKNOWN = 0,              /* "" (left out of the JSON) */
    OBJ_REASON_UNAUTHORIZED,             /* 401 */
    OBJ_REASON_FORBIDDEN,                /* 403 */
    OBJ_REASON_NOT_FOUND,                /* 404 */
    OBJ_REASON_ALREADY_EXISTS,           /* 409 on create */
    OBJ_REASON_CONFLICT,                 /* 409 on a stale update */
    OBJ_REASON_GONE,                     /* 410, legacy form of Expired */
    OBJ_REASON_INVALID,                  /* 422 */
    OBJ_REASON_SERVER_TIMEOUT,           /* 500, retry later */
    OBJ_REASON_TIMEOUT,                  /* 504 */
    OBJ_REASON_TOO_MANY_REQUESTS,        /* 429 */
    OBJ_REASON_BAD_REQUEST,              /* 400 */
    OBJ_REASON_METHOD_NOT_ALLOWED,       /* 405 */
    OBJ_REASON_NOT_ACCEPTABLE,           /* 406 */
    OBJ_REASON_REQUEST_ENTITY_TOO_LARGE, /* 413 */
    OBJ_REASON_UNSUPPORTED_MEDIA_TYPE,   /* 415 */
    OBJ_REASON_INTERNAL_ERROR,           /* 500 */
    OBJ_REASON_EXPIRED,                  /* 410: resourceVersion too old */
    OBJ_REASON_SERVICE_UNAVAILABLE,      /* 503 */
};

/* "NotFound", ... ("" for OBJ_REASON_UNKNOWN). */
const char *obj_reason_str(enum obj_reason r);

/* A qualified resource (schema.GroupResource): messages write it
 * "pods" for the core group and "deployments.apps" otherwise; details.kind
 * gets the resource (sic: Kubernetes puts the resource there). */
struct obj_gr {
    const char *group;    /* API group, "" (or NULL) for core. */
    const char *resource; /* Plural lower-case resource name, "pods". */
};

/* What the store says when a write lost a race (registry's
 * OptimisticLockErrorMsg), the usual @why of obj_status_conflict. */
#define OBJ_STATUS_MODIFIED_MSG                                              \
    "the object has been modified; please apply your changes to the latest " \
    "version and try again"
/* Messages of 410 Expired for a list or watch at a compacted revision
 * (apiserver's etcd3 store), and for a too old continue token. */
#define OBJ_STATUS_LIST_EXPIRED_MSG \
    "The resourceVersion for the provided list is too old."
#define OBJ_STATUS_WATCH_EXPIRED_MSG \
    "The resourceVersion for the provided watch is too old."
#define OBJ_STATUS_CONTINUE_EXPIRED_MSG                                   \
    "The provided continue parameter is too old to display a consistent " \
    "list result. You can start a new list without the continue parameter."

/* ---- generic --------------------------------------------------------------*/

/* status Failure with @code, @reason and @message, no details. */
int obj_status_failure(int code,
                       enum obj_reason reason,
                       const char *message,
                       struct obj **ret);
/* status Success, no code, details {name, group, kind: resource, uid}:
 * what a DELETE returns when the object is gone. Empty strings are left
 * out. */
int obj_status_success(const struct obj_gr *gr,
                       const char *name,
                       const char *uid,
                       struct obj **ret);

/* ---- one constructor per Kubernetes one -----------------------------------*/

/* 404: pods "x" not found */
int obj_status_not_found(const struct obj_gr *gr,
                         const char *name,
                         struct obj **ret);
/* 409 AlreadyExists: pods "x" already exists */
int obj_status_already_exists(const struct obj_gr *gr,
                              const char *name,
                              struct obj **ret);
/* 409 AlreadyExists when a generated name collided: pods "x-abcde" already
 * exists, the server was not able to generate a unique name for the
 * object; details.retryAfterSeconds @retry_after. */
int obj_status_generate_name_conflict(const struct obj_gr *gr,
                                      const char *name,
                                      int retry_after,
                                      struct obj **ret);
/* 409 Conflict: Operation cannot be fulfilled on pods "x": <why>
 * (@why NULL: OBJ_STATUS_MODIFIED_MSG). */
int obj_status_conflict(const struct obj_gr *gr,
                        const char *name,
                        const char *why,
                        struct obj **ret);
/* 422 Invalid for @kind (singular, "Pod") in @group: Pod "x" is invalid:
 * <errors>, one error alone or several as "[a, b]" (each message once),
 * and one details.causes entry per error {reason, message, field}. With
 * no errors the message ends at "is invalid". */
int obj_status_invalid(const char *group,
                       const char *kind,
                       const char *name,
                       const struct obj_ferrs *errs,
                       struct obj **ret);
/* 400: the message as given. */
int obj_status_bad_request(const char *message, struct obj **ret);
/* 401: @message, or "not authorized" when NULL or empty (the apiserver's
 * authentication filter passes "Unauthorized"). */
int obj_status_unauthorized(const char *message, struct obj **ret);
/* 403: pods "x" is forbidden: <why>; "pods is forbidden: <why>" without
 * a name; "forbidden: <why>" without a resource (@gr NULL). */
int obj_status_forbidden(const struct obj_gr *gr,
                         const char *name,
                         const char *why,
                         struct obj **ret);
/* 405: <action> is not supported on resources of kind "pods" */
int obj_status_method_not_supported(const struct obj_gr *gr,
                                    const char *action,
                                    struct obj **ret);
/* 406: only the following media types are accepted: a, b
 * (@accepted ends with NULL). */
int obj_status_not_acceptable(const char *const *accepted, struct obj **ret);
/* 415: the body of the request was in an unknown format - accepted media
 * types include: a, b */
int obj_status_unsupported_media_type(const char *const *accepted,
                                      struct obj **ret);
/* 413: Request entity too large: <message> (the apiserver's body limit
 * says "limit is 3145728"). */
int obj_status_too_large(const char *message, struct obj **ret);
/* 410 Expired with @message (see the *_EXPIRED_MSG above). */
int obj_status_expired(const char *message, struct obj **ret);
/* 410 Gone: what servers before 1.16 sent where Expired is sent now;
 * client-go treats both alike. Prefer obj_status_expired. */
int obj_status_gone(const char *message, struct obj **ret);
/* 410 Expired for a watch from a revision older than the history kept:
 * too old resource version: <rv> (<oldest>), as the watch cache says. */
int obj_status_too_old_rv(uint64_t rv, uint64_t oldest, struct obj **ret);
/* 429: @message ("Too many requests, please try again later." when NULL,
 * the apiserver's max-in-flight filter's words), details.retryAfterSeconds
 * @retry_after (left out when 0; the server also sends Retry-After). */
int obj_status_too_many_requests(const char *message,
                                 int retry_after,
                                 struct obj **ret);
/* 503: the message as given. */
int obj_status_service_unavailable(const char *message, struct obj **ret);
/* 500: Internal error occurred: <message>, with one cause holding
 * @message. */
int obj_status_internal_error(const char *message, struct obj **ret);
/* 504 Timeout: Timeout: <message>, details.retryAfterSeconds. */
int obj_status_timeout(const char *message, int retry_after, struct obj **ret);
/* 500 ServerTimeout: The <operation> operation against pods could not be
 * completed at this time, please try again. */
int obj_status_server_timeout(const struct obj_gr *gr,
                              const char *operation,
                              int retry_after,
                              struct obj **ret);

/* ---- reading and encoding -------------------------------------------------*/

/* The HTTP status to answer with: "code", or 200 for a Success without
 * one, 500 for anything else without one. */
int obj_status_http_code(const struct obj *st);
/* details.retryAfterSeconds, 0 when absent (for a Retry-After header). */
int64_t obj_status_retry_after(const struct obj *st);
/* The JSON body as the apiserver writes it (compact, ending in "\n"). */
int obj_status_rbuf(const struct obj *st, struct rbuf **ret, struct err *e);

#endif /* C8S_API_OBJECT_STATUS_H */
