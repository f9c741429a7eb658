/* Audit log: who did what, one JSON line per request, in kube-apiserver's
 * audit.k8s.io/v1 Event format (stage ResponseComplete). Off unless
 * --audit-log-path is given.
 *
 * The level of each request comes from --audit-policy-file, a
 * kube-apiserver audit Policy (YAML or JSON): the first rule matching the
 * request decides (users, userGroups, verbs, resources by group and name,
 * namespaces, nonResourceURLs with a trailing * as prefix, each absent or
 * empty meaning any); no match is None. Levels: None (not logged),
 * Metadata (who, what, when, the answer's code), Request (also the
 * request's body when it is JSON), RequestResponse (logged as Request:
 * answers are not kept). Without a policy file every request is logged at
 * Metadata. */
#ifndef C8S_API_SERVER_AUDIT_H
#define C8S_API_SERVER_AUDIT_H

#include <stddef.h>

#include "api/server/authn.h"
#include "lib/err.h"

enum srv_audit_level {
    SRV_AUDIT_NONE,
    SRV_AUDIT_METADATA,
    SRV_AUDIT_REQUEST,
};

struct srv_audit;

/* What one request did, as the server saw it when it answered. */
struct srv_audit_event {
    const struct srv_user *user;  /* who (authenticated) */
    const char *impersonated;     /* Impersonate-User, or NULL */
    const char *verb;             /* Kubernetes verb, or the HTTP method
                                   * in lower case for other paths */
    const char *uri;              /* request target as sent */
    const char *source_ip;        /* "" when unknown */
    const char *user_agent;       /* NULL when absent */
    const char *api_group;        /* for resource requests, else NULL */
    const char *api_version;
    const char *resource;
    const char *subresource;
    const char *ns;
    const char *name;
    const char *path;             /* for other paths: the path */
    int code;                     /* the answer's HTTP status */
    double received;              /* Unix time the request arrived */
    double completed;             /* and was answered */
    const char *body;             /* request body, @body_len bytes */
    size_t body_len;
    const char *content_type;     /* of the body, or NULL */
    const char *psa_violations;   /* Pod Security's audit level findings,
                                   * or NULL: the annotation
                                   * pod-security.kubernetes.io/
                                   * audit-violations */
};

/* Open @path for appending (created 0600) with the policy of @policy_file
 * (NULL: Metadata for everything). Errors name the file (and the rule). */
int srv_audit_open(const char *path, const char *policy_file,
                   struct srv_audit **ret, struct err *e);
void srv_audit_close(struct srv_audit *a);

/* The level @ev gets under the policy. */
enum srv_audit_level srv_audit_level(const struct srv_audit *a,
                                     const struct srv_audit_event *ev);

/* Write @ev's line if its level is not None. A failed write is counted
 * and logged once, never fatal (the request is answered already). */
void srv_audit_log(struct srv_audit *a, const struct srv_audit_event *ev);

#endif /* C8S_API_SERVER_AUDIT_H */
