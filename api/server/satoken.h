/* ServiceAccount tokens: signed JWTs (RFC 7519) as kube-apiserver issues
 * them through the TokenRequest API (serviceaccounts/token, which
 * `kubectl create token` uses), and their verification for authentication.
 *
 * Signature: ES256 (ECDSA P-256 with SHA-256, RFC 7518 3.4: the JWS
 * signature is r || s, 32 bytes each). The signing key is derived from the
 * cluster CA's private key with HKDF-SHA256 ("c8s serviceaccount token key
 * v1"), so every member holds the same key without storing another secret,
 * and the CA key itself never signs anything but certificates.
 *
 * Claims, as Kubernetes writes them: iss, sub
 * ("system:serviceaccount:NS:NAME"), aud (a list), iat, nbf, exp, jti and
 * "kubernetes.io": {namespace, serviceaccount: {name, uid}, and pod or
 * secret: {name, uid} when bound to one}.
 *
 * Verification is a pure function of the token, the key and the time, so
 * it can be fuzzed: the caller then checks that the ServiceAccount (and a
 * bound object) still exists with the same uid. */
#ifndef C8S_API_SERVER_SATOKEN_H
#define C8S_API_SERVER_SATOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "lib/err.h"

/* The issuer, and the audience the API server accepts (kube-apiserver's
 * default --api-audiences is its issuer). */
#define SRV_SATOKEN_ISSUER "https://kubernetes.default.svc.cluster.local"

/* Bounds of a token's lifetime in seconds (kube-apiserver's: at least 10
 * minutes, at most 2^32 seconds), and the default. */
#define SRV_SATOKEN_MIN_SECONDS 600
#define SRV_SATOKEN_MAX_SECONDS 4294967296LL
#define SRV_SATOKEN_DEFAULT_SECONDS 3600

/* Longest token accepted for verification (a real one is under 1.5 KiB). */
#define SRV_SATOKEN_MAX_LEN 8192

/* Clock skew tolerated on nbf and exp, seconds (kube-apiserver's leeway). */
#define SRV_SATOKEN_LEEWAY 60

#define SRV_SATOKEN_STR_MAX 254
#define SRV_SATOKEN_AUD_MAX 8

struct srv_satoken {
    EVP_PKEY *key; /* ES256 signing key, NULL until srv_satoken_init() */
    char kid[48];  /* key id: base64url SHA-256 of the public key (DER) */
};

/* What a token says (issue: what to put in it). Strings are NUL-terminated;
 * the bound object is empty when the token is bound to none. */
struct srv_satoken_claims {
    char ns[SRV_SATOKEN_STR_MAX + 1];
    char name[SRV_SATOKEN_STR_MAX + 1];
    char uid[SRV_SATOKEN_STR_MAX + 1];
    char bound_kind[16]; /* "Pod", "Secret" or "" */
    char bound_name[SRV_SATOKEN_STR_MAX + 1];
    char bound_uid[SRV_SATOKEN_STR_MAX + 1];
    char audiences[SRV_SATOKEN_AUD_MAX][SRV_SATOKEN_STR_MAX + 1];
    size_t n_audiences;
    int64_t iat; /* issued at, Unix seconds */
    int64_t exp; /* expires at */
};

/* Derive the signing key from @ca_key (the cluster CA's P-256 key). */
int srv_satoken_init(struct srv_satoken *s, EVP_PKEY *ca_key, struct err *e);
void srv_satoken_done(struct srv_satoken *s);

/* A new token for @c (ns, name, uid, audiences, bound object, iat, exp) in
 * a mem_malloc() string. */
int srv_satoken_issue(const struct srv_satoken *s,
                      const struct srv_satoken_claims *c,
                      char **ret,
                      struct err *e);

/* True if @token (@len bytes) has the shape of a JWT (three base64url
 * parts): other bearer tokens are not ours to judge. */
bool srv_satoken_looks_like_jwt(const char *token, size_t len);

/* Verify @token at Unix time @now: ES256 signature by our key, header
 * alg ES256, iss ours, @audience among aud, nbf/exp within the leeway, sub
 * agreeing with the kubernetes.io claims. 0 and *@ret, or -EACCES with the
 * reason in @e (never the token itself). */
int srv_satoken_verify(const struct srv_satoken *s,
                       const char *token,
                       size_t len,
                       int64_t now,
                       const char *audience,
                       struct srv_satoken_claims *ret,
                       struct err *e);

/* Sign a header and payload given as JSON text into a token, whatever
 * they say: what srv_satoken_issue() does with its claims, and what tests
 * and the fuzzer use to reach the checks behind the signature. */
int srv__satoken_sign_json(const struct srv_satoken *s, const char *header,
                           size_t hlen, const char *payload, size_t plen,
                           char **ret);

#endif /* C8S_API_SERVER_SATOKEN_H */
