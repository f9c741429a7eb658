/* The cluster's PKI: CA, serving and client certificates, PEM files, the
 * token-sealed CA that travels through the replicated store, and the server
 * side SSL_CTX.
 *
 * Key type: ECDSA P-256 everywhere. Generation takes well under a
 * millisecond (RSA-2048 takes tens), signatures are small, and Go's
 * crypto/tls (kubectl) and OpenSSL accept it for both TLS and x509 client
 * authentication. Signatures use SHA-256 (ecdsa-with-SHA256).
 *
 * Everything here is synchronous and may block on disk (the file helpers
 * fsync) or on the CPU (srv_pki_seal*() and srv_pki_open*() run PBKDF2):
 * call it at startup or from a worker, not on the event loop's hot path.
 *
 * Secrets: private keys and tokens never appear in a struct err message or a
 * log line. Buffers that held them are cleansed before they are freed. */
#ifndef C8S_API_SERVER_PKI_H
#define C8S_API_SERVER_PKI_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "lib/err.h"

/* Subject common name of the cluster CA. */
#define SRV_PKI_CA_CN "c8s-ca"

/* Validity periods, in days. Members renew nothing yet: the CA outlives any
 * plausible test cluster and leaf certificates are reissued on restart once
 * they no longer verify (srv_pki_ensure()). */
#define SRV_PKI_CA_DAYS (10 * 365 + 2)
#define SRV_PKI_LEAF_DAYS 365

/* A certificate with its private key: the CA, a member's serving identity or
 * a client identity. Owns one reference to each. */
struct srv_pki_cred {
    X509 *cert;    /* The certificate (never NULL in a built object). */
    EVP_PKEY *key; /* Its private key, matching cert's public key. */
};

/* Free @c and the references it holds. Accepts NULL. */
void srv_pki_cred_free(struct srv_pki_cred *c);

/* ---- keys and certificates ---- */

/* A fresh ECDSA P-256 private key. Reusable for any signing key (e.g. the
 * ServiceAccount token key: ES256). */
int srv_pki_key_generate(EVP_PKEY **ret, struct err *e);

/* A new self-signed cluster CA: CN=c8s-ca, valid SRV_PKI_CA_DAYS, critical
 * basicConstraints CA:TRUE, critical keyUsage keyCertSign+cRLSign, SKID/AKID,
 * random 128-bit serial. */
int srv_pki_ca_create(struct srv_pki_cred **ret, struct err *e);

/* Names a serving certificate covers. srv_pki_issue_serving() adds
 * "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"
 * and 127.0.0.1 itself, and drops duplicates. */
struct srv_pki_names {
    const char *common_name; /* Subject CN; NULL: "kube-apiserver". */
    const char *const *dns;  /* DNS names (host names), @n_dns of them. */
    size_t n_dns;            /* Entries in @dns. */
    const char *const *ips;  /* IPv4/IPv6 literals, @n_ips of them. */
    size_t n_ips;            /* Entries in @ips. */
};

/* A serving certificate signed by @ca for @names: EKU serverAuth, valid
 * SRV_PKI_LEAF_DAYS, a new P-256 key. -EINVAL names a bad IP or DNS name. */
int srv_pki_issue_serving(const struct srv_pki_cred *ca,
                          const struct srv_pki_names *names,
                          struct srv_pki_cred **ret,
                          struct err *e);

/* A client certificate signed by @ca: subject CN=@user and one O entry per
 * group (how Kubernetes maps x509 subjects to users), EKU clientAuth, valid
 * SRV_PKI_LEAF_DAYS, a new P-256 key. The admin is ("admin",
 * {"system:masters"}). */
int srv_pki_issue_client(const struct srv_pki_cred *ca,
                         const char *user,
                         const char *const *groups,
                         size_t n_groups,
                         struct srv_pki_cred **ret,
                         struct err *e);

/* What srv_pki_verify() checks the certificate may be used for. */
enum srv_pki_usage {
    SRV_PKI_USAGE_ANY,    /* Chain only. */
    SRV_PKI_USAGE_SERVER, /* Chain and TLS server purpose (EKU serverAuth). */
    SRV_PKI_USAGE_CLIENT, /* Chain and TLS client purpose (EKU clientAuth). */
};

/* 0 when @cert chains to @ca's certificate (X509_verify_cert: signature,
 * validity period, CA constraints, and @usage); -EACCES with OpenSSL's reason
 * otherwise. */
int srv_pki_verify(const struct srv_pki_cred *ca,
                   X509 *cert,
                   enum srv_pki_usage usage,
                   struct err *e);

/* ---- PEM and files ---- */

/* PEM text of a certificate / of a private key (unencrypted PKCS#8), in a
 * buffer from mem_malloc() (NUL-terminated; *ret_len excludes the NUL).
 * Key buffers hold a secret: free them with srv_pki_free_secret(). */
int srv_pki_cert_pem(X509 *cert, char **ret, size_t *ret_len, struct err *e);
int srv_pki_key_pem(EVP_PKEY *key, char **ret, size_t *ret_len, struct err *e);

/* Cleanse then mem_free() @n bytes at @p. Accepts NULL. */
void srv_pki_free_secret(void *p, size_t n);

/* Parse a PEM certificate / private key from memory. @what names the source
 * in error messages (a file name). -C8S_ECORRUPT when it is not valid PEM. */
int srv_pki_cert_from_pem(const char *pem,
                          size_t len,
                          const char *what,
                          X509 **ret,
                          struct err *e);
int srv_pki_key_from_pem(const char *pem,
                         size_t len,
                         const char *what,
                         EVP_PKEY **ret,
                         struct err *e);

/* Read a whole regular file of at most 1 MiB (O_NOFOLLOW) into a
 * NUL-terminated mem_malloc() buffer. -ENOENT when it does not exist. */
int srv_pki_read_file(const char *path,
                      char **ret,
                      size_t *ret_len,
                      struct err *e);

/* Save @c as @cert_path (0644) and @key_path (0600), key first, so a cert
 * file never exists without its key. */
int srv_pki_cred_save(const struct srv_pki_cred *c,
                      const char *cert_path,
                      const char *key_path,
                      struct err *e);

/* Load a certificate and its key. -ENOENT, with no context, when the
 * certificate does not exist (the caller creates the material; a lone key
 * is left by an interrupted save). Otherwise every failure names the file:
 * the key missing, a file unreadable, corrupt PEM, or a key that does not
 * match the certificate (-C8S_ECORRUPT). */
int srv_pki_cred_load(const char *cert_path,
                      const char *key_path,
                      struct srv_pki_cred **ret,
                      struct err *e);

/* ---- a member's material in <dir> ---- */

/* File names inside the folder given to srv_pki_ensure(). */
#define SRV_PKI_CA_CRT "ca.crt"
#define SRV_PKI_CA_KEY "ca.key"
#define SRV_PKI_SERVING_CRT "apiserver.crt"
#define SRV_PKI_SERVING_KEY "apiserver.key"
#define SRV_PKI_ADMIN_CRT "admin.crt"
#define SRV_PKI_ADMIN_KEY "admin.key"

/* What a member serves and hands to its admin. */
struct srv_pki_member {
    struct srv_pki_cred *ca;      /* The cluster CA (with its key). */
    struct srv_pki_cred *serving; /* This member's serving certificate. */
    struct srv_pki_cred *admin;   /* CN=admin, O=system:masters. */
};

/* Load or create a member's material in @dir (which must exist):
 * - the CA: loaded from @dir when present; else @cluster_ca (the CA opened
 *   from the replicated store) is saved there; else a new CA is created.
 *   A CA on disk that differs from @cluster_ca is -C8S_ECONFLICT.
 * - the serving and admin certificates: loaded when present and still
 *   verifying against the CA for their usage (so a restart reuses them),
 *   reissued otherwise. A serving certificate is not reissued when @names
 *   change: delete apiserver.crt to get one with new names.
 * @cluster_ca is not consumed. A key file without its certificate is what
 * an interrupted save leaves: it is replaced. *@ret is written on success
 * only. */
int srv_pki_ensure(const char *dir,
                   const struct srv_pki_cred *cluster_ca,
                   const struct srv_pki_names *names,
                   struct srv_pki_member *ret,
                   struct err *e);

/* Free what @m holds (not @m itself). */
void srv_pki_member_done(struct srv_pki_member *m);

/* ---- sealing with the cluster token ---- */

/* Blob format, version 1 (all integers big-endian):
 *
 *   off  len  field
 *     0    4  magic "c8sS"
 *     4    1  version (1)
 *     5    1  kdf (1 = PBKDF2-HMAC-SHA256)
 *     6    2  reserved, 0
 *     8    4  PBKDF2 iteration count
 *    12   16  salt (random)
 *    28   16  token check value
 *    44   12  AES-256-GCM nonce (random)
 *    56    n  ciphertext
 *  56+n   16  GCM tag
 *  72+n   32  SHA-256 of all the bytes before it
 *
 * KDF: tokens are operator-chosen strings, possibly short or guessable, so
 * they are stretched with PBKDF2-HMAC-SHA256 (SRV_PKI_KDF_ITER iterations,
 * OWASP's 2023 figure) over a random salt; HKDF would only suit a token known
 * to be high-entropy. The 32-byte PBKDF2 output is expanded with HKDF-SHA256
 * into the AES key ("c8s seal v1 key") and a check value ("c8s seal v1
 * check"). The check value tells a wrong token (-EACCES) from a damaged blob
 * before decrypting; it lets a guesser test a token exactly as fast as the
 * GCM tag would, so it costs no security. The trailing SHA-256 is unkeyed: it
 * catches accidental damage (-C8S_ECORRUPT, checked first, without running
 * the KDF); deliberate tampering that recomputes it is caught by the check
 * value (-EACCES) or the GCM tag (-C8S_ECORRUPT). Bytes 0..55 are the GCM
 * additional data. The iteration count is read from the blob (bounded), so it
 * can be raised without a new version. */
#define SRV_PKI_SEAL_MAGIC "c8sS"
#define SRV_PKI_SEAL_VERSION 1
#define SRV_PKI_KDF_ITER 600000u
/* Bounds on the count read from a blob: the floor keeps a forged blob from
 * lowering the work a guesser needs; the ceiling bounds the CPU a damaged
 * count could burn. */
#define SRV_PKI_KDF_ITER_MIN 100000u
#define SRV_PKI_KDF_ITER_MAX 50000000u
#define SRV_PKI_SEAL_OVERHEAD (56 + 16 + 32)

/* Seal @len bytes with @token (a non-empty NUL-terminated string) into a new
 * mem_malloc() blob. */
int srv_pki_seal(const void *data,
                 size_t len,
                 const char *token,
                 uint8_t **ret,
                 size_t *ret_len,
                 struct err *e);

/* srv_pki_seal() with @iter PBKDF2 iterations (within the bounds above;
 * -EINVAL otherwise): for tests, and for raising the count later. */
int srv_pki_seal_iter(const void *data,
                      size_t len,
                      const char *token,
                      uint32_t iter,
                      uint8_t **ret,
                      size_t *ret_len,
                      struct err *e);

/* Open a blob from srv_pki_seal(): the plaintext in a mem_malloc() buffer
 * (free it with srv_pki_free_secret(*ret, *ret_len + 1)). -EACCES: wrong
 * token;
 * -C8S_ECORRUPT: truncated, damaged or tampered blob, or an unknown
 * version. */
int srv_pki_open(const uint8_t *blob,
                 size_t len,
                 const char *token,
                 uint8_t **ret,
                 size_t *ret_len,
                 struct err *e);

/* Seal the CA's certificate and private key (PEM) for the replicated store;
 * open such a blob back into a CA whose key matches its certificate. Errors
 * as srv_pki_open(). */
int srv_pki_seal_ca(const struct srv_pki_cred *ca,
                    const char *token,
                    uint8_t **ret,
                    size_t *ret_len,
                    struct err *e);
int srv_pki_open_ca(const uint8_t *blob,
                    size_t len,
                    const char *token,
                    struct srv_pki_cred **ret,
                    struct err *e);

/* ---- TLS ---- */

/* A server SSL_CTX: TLS 1.2 minimum, @serving's certificate and key with the
 * CA's certificate as chain, ALPN "http/1.1" only (kubectl offers h2 first,
 * and selecting it without speaking HTTP/2 breaks every request), and a
 * client certificate requested but optional (SSL_VERIFY_PEER without
 * FAIL_IF_NO_PEER_CERT) with the CA as the only trust anchor: a presented
 * certificate that does not verify fails the handshake; none at all is
 * allowed (authentication decides later). The caller owns the SSL_CTX. */
int srv_pki_server_ctx(const struct srv_pki_cred *ca,
                       const struct srv_pki_cred *serving,
                       SSL_CTX **ret,
                       struct err *e);

#endif /* C8S_API_SERVER_PKI_H */
