/* Sealing with the cluster token: PBKDF2 + HKDF + AES-256-GCM (format and
 * rationale in pki.h). */
#include "api/server/pki.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "api/server/pki_internal.h"
#include "lib/mem.h"

/* Field offsets and sizes of the version 1 blob. */
#define OFF_VERSION 4
#define OFF_KDF 5
#define OFF_ITER 8
#define OFF_SALT 12
#define OFF_CHECK 28
#define OFF_NONCE 44
#define HEADER_LEN 56
#define SALT_LEN 16
#define CHECK_LEN 16
#define NONCE_LEN 12
#define TAG_LEN 16
#define DIGEST_LEN 32
#define KEY_LEN 32
#define KDF_PBKDF2_SHA256 1

/* Blobs above this are refused before any work (a CA is about 1 KiB). */
#define MAX_PLAINTEXT (1024 * 1024)

/* Keys derived from a token, cleansed after use. */
struct seal_keys {
    unsigned char aes[KEY_LEN];     /* AES-256-GCM key. */
    unsigned char check[CHECK_LEN]; /* Stored in the blob: token check. */
};

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

/* HKDF-SHA256 expand of @prk with @label into @out. */
static int hkdf_expand(const unsigned char *prk,
                       size_t prk_len,
                       const char *label,
                       unsigned char *out,
                       size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                         (char *)"SHA256", 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)prk,
                                          prk_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label,
                                          strlen(label)),
        OSSL_PARAM_construct_end(),
    };
    int ok = ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1;

    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

/* PBKDF2-HMAC-SHA256(@token, @salt, @iter) → 32 bytes, expanded into the
 * AES key and the check value. */
static int derive(const char *token,
                  const uint8_t *salt,
                  uint32_t iter,
                  struct seal_keys *k,
                  struct err *e)
{
    unsigned char prk[KEY_LEN];
    size_t tlen = strlen(token);
    int rc = 0;

    if (tlen > INT_MAX ||
        PKCS5_PBKDF2_HMAC(token, (int)tlen, salt, SALT_LEN, (int)iter,
                          EVP_sha256(), sizeof prk, prk) != 1 ||
        hkdf_expand(prk, sizeof prk, "c8s seal v1 key", k->aes, sizeof k->aes) <
            0 ||
        hkdf_expand(prk, sizeof prk, "c8s seal v1 check", k->check,
                    sizeof k->check) < 0)
        rc = srv__pki_ossl_errf(e, -ENOMEM, "deriving a key from the token");
    OPENSSL_cleanse(prk, sizeof prk);
    return rc;
}

/* AES-256-GCM in one call. @enc: encrypt @in into @out and write @tag;
 * otherwise decrypt and check @tag (returns -1 on a mismatch). */
static int gcm(int enc,
               const unsigned char *key,
               const unsigned char *nonce,
               const unsigned char *aad,
               size_t aad_len,
               const unsigned char *in,
               size_t len,
               unsigned char *out,
               unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n, ok;

    ok =
        ctx != NULL && len <= INT_MAX && aad_len <= INT_MAX &&
        EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, enc, NULL) &&
        EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) &&
        (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len)) &&
        (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag)) &&
        EVP_CipherFinal_ex(ctx, out + len, &n) &&
        (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag));
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    return ok ? 0 : -1;
}

/* SHA-256 of @len bytes. */
static int sha256(const uint8_t *p, size_t len, unsigned char *out)
{
    unsigned int n = 0;

    return EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

int srv_pki_seal(const void *data,
                 size_t len,
                 const char *token,
                 uint8_t **ret,
                 size_t *ret_len,
                 struct err *e)
{
    return srv_pki_seal_iter(data, len, token, SRV_PKI_KDF_ITER, ret, ret_len,
                             e);
}

int srv_pki_seal_iter(const void *data,
                      size_t len,
                      const char *token,
                      uint32_t iter,
                      uint8_t **ret,
                      size_t *ret_len,
                      struct err *e)
{
    struct seal_keys k;
    size_t total = len + SRV_PKI_SEAL_OVERHEAD;
    uint8_t *b;
    int rc;

    if (token == NULL || token[0] == '\0')
        return err_setf(e, -EINVAL, "sealing: the token is empty");
    if (iter < SRV_PKI_KDF_ITER_MIN || iter > SRV_PKI_KDF_ITER_MAX)
        return err_setf(e, -EINVAL, "sealing: %u iterations out of bounds",
                        iter);
    if (len > MAX_PLAINTEXT)
        return err_setf(e, -C8S_ETOOLARGE, "sealing: %zu bytes is too much",
                        len);
    b = mem_calloc(1, total);
    if (b == NULL)
        return err_setf(e, -ENOMEM, "sealing: out of memory");
    memcpy(b, SRV_PKI_SEAL_MAGIC, 4);
    b[OFF_VERSION] = SRV_PKI_SEAL_VERSION;
    b[OFF_KDF] = KDF_PBKDF2_SHA256;
    put_be32(b + OFF_ITER, iter);
    if (RAND_bytes(b + OFF_SALT, SALT_LEN) != 1 ||
        RAND_bytes(b + OFF_NONCE, NONCE_LEN) != 1) {
        mem_free(b);
        return srv__pki_ossl_errf(e, -EIO, "sealing: random bytes");
    }
    rc = derive(token, b + OFF_SALT, iter, &k, e);
    if (rc == 0) {
        memcpy(b + OFF_CHECK, k.check, CHECK_LEN);
        if (gcm(1, k.aes, b + OFF_NONCE, b, HEADER_LEN, data, len,
                b + HEADER_LEN, b + HEADER_LEN + len) < 0 ||
            sha256(b, total - DIGEST_LEN, b + total - DIGEST_LEN) < 0)
            rc = err_setf(e, -ENOMEM, "sealing: encryption failed");
    }
    OPENSSL_cleanse(&k, sizeof k);
    if (rc < 0) {
        mem_free(b);
        return rc;
    }
    *ret = b;
    *ret_len = total;
    return 0;
}

/* Structure checks that need no token: size, magic, digest, version, KDF,
 * iteration bounds. */
static int check_blob(const uint8_t *b, size_t len, struct err *e)
{
    unsigned char digest[DIGEST_LEN];
    uint32_t iter;

    if (len < SRV_PKI_SEAL_OVERHEAD)
        return err_setf(e, -C8S_ECORRUPT, "sealed blob: truncated (%zu bytes)",
                        len);
    if (len - SRV_PKI_SEAL_OVERHEAD > MAX_PLAINTEXT)
        return err_setf(e, -C8S_ECORRUPT, "sealed blob: too large");
    if (memcmp(b, SRV_PKI_SEAL_MAGIC, 4) != 0)
        return err_setf(e, -C8S_ECORRUPT, "sealed blob: bad magic");
    if (sha256(b, len - DIGEST_LEN, digest) < 0)
        return err_setf(e, -ENOMEM, "sealed blob: digest failed");
    if (CRYPTO_memcmp(digest, b + len - DIGEST_LEN, DIGEST_LEN) != 0)
        return err_setf(e, -C8S_ECORRUPT,
                        "sealed blob: damaged (digest mismatch)");
    if (b[OFF_VERSION] != SRV_PKI_SEAL_VERSION ||
        b[OFF_KDF] != KDF_PBKDF2_SHA256 || b[6] != 0 || b[7] != 0)
        return err_setf(e, -C8S_ECORRUPT,
                        "sealed blob: unsupported version %u (kdf %u)",
                        b[OFF_VERSION], b[OFF_KDF]);
    iter = get_be32(b + OFF_ITER);
    if (iter < SRV_PKI_KDF_ITER_MIN || iter > SRV_PKI_KDF_ITER_MAX)
        return err_setf(e, -C8S_ECORRUPT,
                        "sealed blob: iteration count %u out of bounds", iter);
    return 0;
}

int srv_pki_open(const uint8_t *blob,
                 size_t len,
                 const char *token,
                 uint8_t **ret,
                 size_t *ret_len,
                 struct err *e)
{
    struct seal_keys k;
    unsigned char tag[TAG_LEN];
    size_t n;
    uint8_t *out;
    int rc;

    if (token == NULL || token[0] == '\0')
        return err_setf(e, -EINVAL, "opening: the token is empty");
    rc = check_blob(blob, len, e);
    if (rc < 0)
        return rc;
    n = len - SRV_PKI_SEAL_OVERHEAD;
    /* One spare byte: a NUL, so PEM plaintext can be parsed as a string;
     * and never a zero-byte allocation. */
    out = mem_malloc(n + 1);
    if (out == NULL)
        return err_setf(e, -ENOMEM, "opening: out of memory");
    rc = derive(token, blob + OFF_SALT, get_be32(blob + OFF_ITER), &k, e);
    if (rc == 0 && CRYPTO_memcmp(k.check, blob + OFF_CHECK, CHECK_LEN) != 0)
        rc = err_setf(e, -EACCES, "sealed blob: wrong token");
    /* A copy: OpenSSL takes the expected tag through a non-const pointer. */
    memcpy(tag, blob + HEADER_LEN + n, TAG_LEN);
    if (rc == 0 && gcm(0, k.aes, blob + OFF_NONCE, blob, HEADER_LEN,
                       blob + HEADER_LEN, n, out, tag) < 0)
        rc = err_setf(e, -C8S_ECORRUPT,
                      "sealed blob: tampered (authentication failed)");
    OPENSSL_cleanse(&k, sizeof k);
    if (rc < 0) {
        srv_pki_free_secret(out, n + 1);
        return rc;
    }
    out[n] = '\0';
    *ret = out;
    *ret_len = n;
    return 0;
}

/* ---- the CA ---- */

int srv_pki_seal_ca(const struct srv_pki_cred *ca,
                    const char *token,
                    uint8_t **ret,
                    size_t *ret_len,
                    struct err *e)
{
    char *cert = NULL, *key = NULL, *both;
    size_t cert_len = 0, key_len = 0;
    int rc;

    rc = srv_pki_cert_pem(ca->cert, &cert, &cert_len, e);
    if (rc == 0)
        rc = srv_pki_key_pem(ca->key, &key, &key_len, e);
    if (rc < 0)
        goto out;
    both = mem_malloc(cert_len + key_len);
    if (both == NULL) {
        rc = err_setf(e, -ENOMEM, "sealing the CA: out of memory");
        goto out;
    }
    memcpy(both, cert, cert_len);
    memcpy(both + cert_len, key, key_len);
    rc = srv_pki_seal(both, cert_len + key_len, token, ret, ret_len, e);
    srv_pki_free_secret(both, cert_len + key_len);
out:
    mem_free(cert);
    srv_pki_free_secret(key, key_len);
    return rc;
}

int srv_pki_open_ca(const uint8_t *blob,
                    size_t len,
                    const char *token,
                    struct srv_pki_cred **ret,
                    struct err *e)
{
    uint8_t *pt = NULL;
    size_t n = 0;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    int rc;

    rc = srv_pki_open(blob, len, token, &pt, &n, e);
    if (rc < 0)
        return rc;
    /* PEM readers skip the certificate block when looking for the key. */
    rc = srv_pki_cert_from_pem((const char *)pt, n, "sealed CA", &cert, e);
    if (rc == 0)
        rc = srv_pki_key_from_pem((const char *)pt, n, "sealed CA", &key, e);
    if (rc == 0)
        rc = srv__pki_cred_make(cert, key, "sealed CA", ret, e);
    if (rc < 0) {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    srv_pki_free_secret(pt, n + 1);
    return rc;
}
