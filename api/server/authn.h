/* Authentication: who sent a request.
 *
 *   x509 client certificates verified against the cluster CA during the
 *     TLS handshake: the subject's CN is the user, each O a group (as
 *     kube-apiserver reads them);
 *   bearer tokens (Authorization: Bearer T) from --token-auth-file, in
 *     kube-apiserver's CSV format: token,user,uid[,"group1,group2"];
 *   ServiceAccount tokens (satoken.h), checked by the caller when a
 *     bearer token is not in the file;
 *   nobody else: the anonymous user system:anonymous in
 *     system:unauthenticated.
 *
 * Every authenticated user is also in system:authenticated. A bearer token
 * that is not in the file is refused (401), whatever else the request
 * carries. Anonymous requests get only the health and version endpoints
 * (/healthz, /livez, /readyz and their checks, /version), and not even
 * those with --anonymous-auth=false. */
#ifndef C8S_API_SERVER_AUTHN_H
#define C8S_API_SERVER_AUTHN_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/types.h>

#include "api/server/http.h"
#include "lib/err.h"

#define SRV_USER_NAME_MAX 256
#define SRV_USER_GROUPS_MAX 16

struct srv_user {
    char name[SRV_USER_NAME_MAX];
    char uid[SRV_USER_NAME_MAX];
    char groups[SRV_USER_GROUPS_MAX][SRV_USER_NAME_MAX];
    size_t n_groups;
    bool anonymous;
};

struct srv_token_user;

struct srv_authn {
    struct srv_token_user *tokens; /* sorted by token */
    size_t n_tokens;
    bool anonymous; /* anonymous requests may reach the public paths */
};

/* Read @token_file (NULL: no tokens). Errors name the file and line. */
int srv_authn_init(struct srv_authn *a, const char *token_file,
                   bool anonymous, struct err *e);
void srv_authn_done(struct srv_authn *a);

/* Who sent @req, into @u. 0, or -ENOENT when the request presents a
 * bearer token that is not in the token file (the caller may know it
 * otherwise: a ServiceAccount token). */
int srv_authn_user(const struct srv_authn *a, const struct srv_req *req,
                   struct srv_user *u);

/* The user of a client certificate (already verified against the CA):
 * CN and every O of its subject, as UTF-8. false when there is not exactly
 * one CN, or a name is empty, too long or holds a NUL. */
bool srv_authn_cert_user(X509 *cert, struct srv_user *u);

/* The bearer token of @req (Authorization: Bearer T), or NULL. */
const char *srv_authn_bearer(const struct srv_req *req);

/* Whether an anonymous request may have @path (health and version). */
bool srv_authn_public_path(const char *path);

#endif /* C8S_API_SERVER_AUTHN_H */
