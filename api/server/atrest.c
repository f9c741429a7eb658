/* Secrets encrypted at rest (atrest.h). */
#include "api/server/atrest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "lib/mem.h"

#define PREFIX "k8s:enc:aesgcm:v1:"
#define PREFIX_LEN (sizeof PREFIX - 1)
#define NONCE_LEN 12
#define TAG_LEN 16
#define TOKEN_KEY_NAME "c8s-token"
/* Every member derives the same key from the same token, so the salt is
 * fixed; the iterations are the floor c8s accepts for sealing the CA. */
#define TOKEN_SALT "c8s secrets at rest v1"
#define TOKEN_ITER 100000
/* A Secret is at most 1 MiB, its stored form a little more. */
#define MAX_VALUE (4u << 20)

/* ---- keys ------------------------------------------------------------------*/

static int token_key(const char *token, struct srv_atrest_key *k,
                     struct err *e)
{
    unsigned char prk[32];
    EVP_KDF *kdf;
    EVP_KDF_CTX *ctx = NULL;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, ok;
    size_t tlen = strlen(token);

    ok = tlen > 0 && tlen <= INT_MAX &&
         PKCS5_PBKDF2_HMAC(token, (int)tlen,
                           (const unsigned char *)TOKEN_SALT,
                           sizeof TOKEN_SALT - 1, TOKEN_ITER, EVP_sha256(),
                           sizeof prk, prk) == 1;
    kdf = ok ? EVP_KDF_fetch(NULL, "HKDF", NULL) : NULL;
    ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    if (ctx != NULL) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                             (char *)"SHA256", 0),
            OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, prk,
                                              sizeof prk),
            OSSL_PARAM_construct_octet_string(
                OSSL_KDF_PARAM_INFO, (void *)"c8s secrets key", 15),
            OSSL_PARAM_construct_end(),
        };
        ok = EVP_KDF_derive(ctx, k->secret, 32, params) == 1;
    } else {
        ok = 0;
    }
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    OPENSSL_cleanse(prk, sizeof prk);
    ERR_clear_error();
    if (!ok)
        return err_setf(e, -ENOMEM, "deriving the secrets key from the "
                                    "token failed");
    (void)snprintf(k->name, sizeof k->name, "%s", TOKEN_KEY_NAME);
    k->len = 32;
    return 0;
}

/* Standard base64 of a 16, 24 or 32 byte key. */
static bool decode_key(const char *b64, struct srv_atrest_key *k)
{
    unsigned char out[64];
    size_t n = strlen(b64), pad = 0;
    int len;

    if (n == 0 || n % 4 != 0 || n > 64)
        return false;
    pad = (b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');
    len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    ERR_clear_error();
    if (len < 0 || (size_t)len < pad)
        return false;
    len -= (int)pad;
    if (len != 16 && len != 24 && len != 32) {
        OPENSSL_cleanse(out, sizeof out);
        return false;
    }
    memcpy(k->secret, out, (size_t)len);
    k->len = (size_t)len;
    OPENSSL_cleanse(out, sizeof out);
    return true;
}

static const char *str_of(const struct obj *o, const char *key)
{
    return obj_str_or(obj_map_get(o, key), NULL);
}

/* The aesgcm provider's keys, appended. */
static int add_aesgcm(struct srv_atrest *a, const struct obj *p,
                      const char *path, struct err *e)
{
    const struct obj *keys = obj_map_get(p, "keys");

    if (obj_array_len(keys) == 0)
        return err_setf(e, -EINVAL, "%s: an aesgcm provider needs keys",
                        path);
    for (size_t i = 0; i < obj_array_len(keys); i++) {
        const struct obj *k = obj_array_get(keys, i);
        const char *name = str_of(k, "name"), *secret = str_of(k, "secret");
        struct srv_atrest_key *dst = &a->keys[a->n];

        if (a->n == SRV_ATREST_MAX_KEYS)
            return err_setf(e, -EINVAL, "%s: more than %d keys", path,
                            SRV_ATREST_MAX_KEYS);
        if (name == NULL || name[0] == '\0' ||
            strlen(name) >= SRV_ATREST_NAME_MAX || strchr(name, ':') != NULL)
            return err_setf(e, -EINVAL, "%s: key %zu: a name of 1 to %d "
                            "characters without ':' is required", path, i,
                            SRV_ATREST_NAME_MAX - 1);
        for (size_t j = 0; j < a->n; j++)
            if (strcmp(a->keys[j].name, name) == 0)
                return err_setf(e, -EINVAL, "%s: key name \"%s\" is used "
                                "twice", path, name);
        if (secret == NULL || !decode_key(secret, dst))
            return err_setf(e, -EINVAL, "%s: key \"%s\": the secret must be "
                            "the base64 of 16, 24 or 32 random bytes", path,
                            name);
        (void)snprintf(dst->name, sizeof dst->name, "%s", name);
        a->n++;
    }
    return 0;
}

static int add_provider(struct srv_atrest *a, const struct obj *p,
                        bool first, const char *path, struct err *e)
{
    if (obj_map_len(p) != 1)
        return err_setf(e, -EINVAL, "%s: each provider names exactly one "
                        "kind (aesgcm or identity)", path);
    const char *kind = obj_map_key(p, 0, NULL);
    if (strcmp(kind, "identity") == 0) {
        a->write_plain |= first;
        a->read_plain = true;
        return 0;
    }
    if (strcmp(kind, "aesgcm") == 0)
        return add_aesgcm(a, obj_map_value(p, 0), path, e);
    return err_setf(e, -EINVAL, "%s: provider \"%s\" is not supported by "
                    "c8s (aesgcm and identity are)", path, kind);
}

/* The one resources entry c8s takes: secrets. */
static int read_config(struct srv_atrest *a, const struct obj *cfg,
                       const char *path, struct err *e)
{
    const struct obj *rs = obj_map_get(cfg, "resources");
    const char *kind = str_of(cfg, "kind");

    if (kind == NULL || strcmp(kind, "EncryptionConfiguration") != 0)
        return err_setf(e, -EINVAL, "%s: not an EncryptionConfiguration",
                        path);
    if (obj_array_len(rs) != 1)
        return err_setf(e, -EINVAL, "%s: c8s takes exactly one resources "
                        "entry, for secrets", path);
    const struct obj *r = obj_array_get(rs, 0);
    const struct obj *names = obj_map_get(r, "resources");
    const struct obj *provs = obj_map_get(r, "providers");
    if (obj_array_len(names) != 1 ||
        strcmp(obj_str_or(obj_array_get(names, 0), ""), "secrets") != 0)
        return err_setf(e, -EINVAL, "%s: c8s encrypts secrets only: "
                        "resources must be [secrets]", path);
    if (obj_array_len(provs) == 0)
        return err_setf(e, -EINVAL, "%s: providers are required", path);
    for (size_t i = 0; i < obj_array_len(provs); i++) {
        int rv = add_provider(a, obj_array_get(provs, i), i == 0, path, e);
        if (rv != 0)
            return rv;
    }
    return 0;
}

static int load_config(struct srv_atrest *a, const char *path, struct err *e)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0;
    struct obj *cfg = NULL;
    int rv;

    if (f == NULL)
        return err_setf(e, -errno, "%s: %s", path, strerror(errno));
    text = mem_malloc(65537);
    if (text == NULL) {
        fclose(f);
        return err_setf(e, -ENOMEM, "out of memory");
    }
    len = fread(text, 1, 65537, f);
    rv = ferror(f) ? -EIO : 0;
    fclose(f);
    if (rv == 0 && len > 65536)
        rv = err_setf(e, -EINVAL, "%s: larger than 64 KiB", path);
    else if (rv != 0)
        rv = err_setf(e, rv, "%s: cannot be read", path);
    if (rv == 0 && obj_yaml_decode(text, len, NULL, &cfg, e) != 0) {
        err_wrapf(e, "%s", path);
        rv = e->code = -EINVAL; /* a bad file, whatever the parser said */
    }
    if (rv == 0)
        rv = read_config(a, cfg, path, e);
    OPENSSL_cleanse(text, len < 65537 ? len : 65537);
    mem_free(text);
    obj_unref(cfg);
    return rv;
}

int srv_atrest_init(struct srv_atrest *a, const char *token,
                    const char *config_path, struct err *e)
{
    struct srv_atrest_key tk;
    int rv;

    memset(a, 0, sizeof *a);
    a->read_plain = config_path == NULL;
    if (config_path != NULL && (rv = load_config(a, config_path, e)) != 0) {
        srv_atrest_done(a);
        return rv;
    }
    if ((rv = token_key(token, &tk, e)) != 0) {
        srv_atrest_done(a);
        return rv;
    }
    /* The token's key reads (and, without a file, writes); a file that
     * names a key "c8s-token" itself has it replaced by the real one. */
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->keys[i].name, TOKEN_KEY_NAME) == 0) {
            a->keys[i] = tk;
            OPENSSL_cleanse(&tk, sizeof tk);
            return 0;
        }
    if (a->n == SRV_ATREST_MAX_KEYS) {
        srv_atrest_done(a);
        OPENSSL_cleanse(&tk, sizeof tk);
        return err_setf(e, -EINVAL, "%s: more than %d keys", config_path,
                        SRV_ATREST_MAX_KEYS - 1);
    }
    a->keys[a->n++] = tk;
    OPENSSL_cleanse(&tk, sizeof tk);
    return 0;
}

void srv_atrest_done(struct srv_atrest *a)
{
    OPENSSL_cleanse(a, sizeof *a);
}

/* ---- sealing -----------------------------------------------------------*/

static const EVP_CIPHER *cipher_of(size_t len)
{
    return len == 16 ? EVP_aes_128_gcm()
           : len == 24 ? EVP_aes_192_gcm()
                       : EVP_aes_256_gcm();
}

/* "/secrets/NS/NAME", the additional data. */
static int aad_of(const char *ns, const char *name, char *out, size_t size)
{
    int n = snprintf(out, size, "/secrets/%s/%s", ns, name);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

static int gcm(int enc, const struct srv_atrest_key *k,
               const unsigned char *nonce, const char *aad, int aad_len,
               const unsigned char *in, size_t len, unsigned char *out,
               unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n, ok;

    ok = ctx != NULL && len <= INT_MAX &&
         EVP_CipherInit_ex2(ctx, cipher_of(k->len), k->secret, nonce, enc,
                            NULL) &&
         EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad,
                          aad_len) &&
         (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len)) &&
         (enc ||
          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag)) &&
         EVP_CipherFinal_ex(ctx, out + len, &n) &&
         (!enc ||
          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag));
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    return ok ? 0 : -1;
}

int srv_atrest_seal(const struct srv_atrest *a, const char *ns,
                    const char *name, const void *plain, size_t len,
                    struct obj_buf *out)
{
    const struct srv_atrest_key *k = &a->keys[0];
    char aad[600];
    size_t head = PREFIX_LEN + strlen(k->name) + 1;
    int aad_len = aad_of(ns, name, aad, sizeof aad);
    unsigned char *p;

    if (a->write_plain || a->n == 0)
        return obj_buf_append(out, plain, len);
    if (aad_len < 0 || len > MAX_VALUE ||
        obj_buf_reserve(out, head + NONCE_LEN + len + TAG_LEN + 1) != 0)
        return -ENOMEM;
    (void)obj_buf_append(out, PREFIX, PREFIX_LEN);
    (void)obj_buf_append(out, k->name, strlen(k->name));
    (void)obj_buf_append(out, ":", 1);
    p = (unsigned char *)out->data + out->len;
    if (RAND_bytes(p, NONCE_LEN) != 1 ||
        gcm(1, k, p, aad, aad_len, plain, len, p + NONCE_LEN,
            p + NONCE_LEN + len) != 0) {
        ERR_clear_error();
        out->len -= head;
        return -ENOMEM;
    }
    out->len += NONCE_LEN + len + TAG_LEN;
    out->data[out->len] = '\0';
    return 0;
}

bool srv_atrest_sealed(const void *data, size_t len)
{
    return len >= PREFIX_LEN && memcmp(data, PREFIX, PREFIX_LEN) == 0;
}

int srv_atrest_open(const struct srv_atrest *a, const char *ns,
                    const char *name, const void *data, size_t len,
                    struct obj_buf *out, struct err *e)
{
    const char *p = (const char *)data + PREFIX_LEN, *end = (const char *)data + len;
    const char *colon;
    const struct srv_atrest_key *k = NULL;
    char aad[600];
    int aad_len = aad_of(ns, name, aad, sizeof aad);
    size_t n;
    unsigned char tag[TAG_LEN];

    if (!srv_atrest_sealed(data, len))
        return err_setf(e, -C8S_ECORRUPT, "secret %s/%s: no envelope", ns,
                        name);
    colon = memchr(p, ':', (size_t)(end - p));
    if (colon == NULL || aad_len < 0 ||
        (size_t)(end - colon - 1) < NONCE_LEN + TAG_LEN)
        return err_setf(e, -C8S_ECORRUPT, "secret %s/%s: a damaged "
                        "envelope", ns, name);
    for (size_t i = 0; i < a->n && k == NULL; i++)
        if (strlen(a->keys[i].name) == (size_t)(colon - p) &&
            memcmp(a->keys[i].name, p, (size_t)(colon - p)) == 0)
            k = &a->keys[i];
    if (k == NULL)
        return err_setf(e, -EACCES, "secret %s/%s is sealed with key "
                        "\"%.*s\", which this member does not have", ns, name,
                        (int)(colon - p) < 64 ? (int)(colon - p) : 64, p);
    const unsigned char *nonce = (const unsigned char *)colon + 1;
    n = (size_t)(end - colon - 1) - NONCE_LEN - TAG_LEN;
    if (obj_buf_reserve(out, n + 1) != 0)
        return err_setf(e, -ENOMEM, "out of memory");
    memcpy(tag, nonce + NONCE_LEN + n, TAG_LEN);
    if (gcm(0, k, nonce, aad, aad_len, nonce + NONCE_LEN, n,
            (unsigned char *)out->data + out->len, tag) != 0) {
        /* Decrypted but not authentic: wipe it. */
        OPENSSL_cleanse(out->data + out->len, n);
        return err_setf(e, -C8S_ECORRUPT, "secret %s/%s does not open with "
                        "key \"%s\" (damaged, or not this object's)", ns,
                        name, k->name);
    }
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}
