/* ServiceAccount tokens: ES256 JWTs (format in satoken.h). */
#include "api/server/satoken.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "api/object/codec.h"
#include "api/object/obj.h"
#include "lib/mem.h"

#define KEY_INFO "c8s serviceaccount token key v1"
#define SIG_LEN 64   /* r || s */
#define PART_MAX 4096 /* decoded header or payload */
#define SUB_PREFIX "system:serviceaccount:"

/* ---- base64url without padding (RFC 7515 2) -------------------------------*/

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encode @n bytes into @out (room for 4 * ceil(n / 3) + 1); its length. */
static size_t b64url_encode(const unsigned char *p, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (left > 1)
            out[o++] = b64url[(v >> 6) & 63];
        if (left > 2)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64url_value(char c)
{
    const char *at = c != '\0' ? strchr(b64url, c) : NULL;

    return at != NULL ? (int)(at - b64url) : -1;
}

/* Decode @n characters into @out (@cap bytes). -1 for a character outside
 * the alphabet, a length no encoding has, leftover bits that are not zero
 * (so each token has exactly one spelling), or too little room. */
static ssize_t b64url_decode(const char *s, size_t n, unsigned char *out,
                             size_t cap)
{
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;

    if (n % 4 == 1 || (n / 4) * 3 + 2 > cap + 2)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (ssize_t)o;
}

bool srv_satoken_looks_like_jwt(const char *token, size_t len)
{
    size_t dots = 0;

    if (len == 0 || len > SRV_SATOKEN_MAX_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.')
            dots++;
        else if (b64url_value(token[i]) < 0)
            return false;
    }
    return dots == 2;
}

/* ---- the key ----------------------------------------------------------------*/

/* HKDF-SHA256 of the CA's private scalar into @out. */
static bool derive_seed(EVP_PKEY *ca_key, unsigned char out[32])
{
    unsigned char ikm[32];
    BIGNUM *priv = NULL;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *ctx = NULL;
    bool ok = EVP_PKEY_get_bn_param(ca_key, OSSL_PKEY_PARAM_PRIV_KEY, &priv) ==
                  1 &&
              BN_bn2binpad(priv, ikm, sizeof ikm) == sizeof ikm &&
              (kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) != NULL &&
              (ctx = EVP_KDF_CTX_new(kdf)) != NULL;

    if (ok) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                             (char *)"SHA256", 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm,
                                              sizeof ikm),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                              (void *)KEY_INFO,
                                              sizeof KEY_INFO - 1),
            OSSL_PARAM_construct_end(),
        };
        ok = EVP_KDF_derive(ctx, out, 32, params) == 1;
    }
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    BN_clear_free(priv);
    OPENSSL_cleanse(ikm, sizeof ikm);
    return ok;
}

/* The P-256 key whose private scalar is @seed mod (n - 1) + 1 (never 0). */
static EVP_PKEY *key_from_seed(const unsigned char seed[32])
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *d = BN_bin2bn(seed, 32, NULL), *nm1 = BN_new();
    EC_POINT *pub = group != NULL ? EC_POINT_new(group) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *key = NULL;
    unsigned char pub_oct[65];
    bool ok = group && bn && d && nm1 && pub && bld &&
              BN_copy(nm1, EC_GROUP_get0_order(group)) != NULL &&
              BN_sub_word(nm1, 1) == 1 && BN_nnmod(d, d, nm1, bn) == 1 &&
              BN_add_word(d, 1) == 1 &&
              EC_POINT_mul(group, pub, d, NULL, NULL, bn) == 1 &&
              EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED,
                                 pub_oct, sizeof pub_oct, bn) == sizeof pub_oct &&
              OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                              "prime256v1", 0) == 1 &&
              OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) == 1 &&
              OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                               pub_oct, sizeof pub_oct) == 1 &&
              (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
              (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL &&
              EVP_PKEY_fromdata_init(pctx) == 1;

    if (ok && EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_KEYPAIR, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(pub);
    BN_clear_free(d);
    BN_free(nm1);
    BN_CTX_free(bn);
    EC_GROUP_free(group);
    return key;
}

static bool set_kid(struct srv_satoken *s)
{
    unsigned char *der = NULL, digest[SHA256_DIGEST_LENGTH];
    int n = i2d_PUBKEY(s->key, &der);

    if (n <= 0)
        return false;
    SHA256(der, (size_t)n, digest);
    OPENSSL_free(der);
    (void)b64url_encode(digest, sizeof digest, s->kid);
    return true;
}

int srv_satoken_init(struct srv_satoken *s, EVP_PKEY *ca_key, struct err *e)
{
    unsigned char seed[32];

    memset(s, 0, sizeof *s);
    if (!derive_seed(ca_key, seed) || (s->key = key_from_seed(seed)) == NULL ||
        !set_kid(s)) {
        OPENSSL_cleanse(seed, sizeof seed);
        ERR_clear_error();
        srv_satoken_done(s);
        return err_setf(e, -ENOMEM, "deriving the ServiceAccount token key "
                                    "from the cluster CA failed");
    }
    OPENSSL_cleanse(seed, sizeof seed);
    return 0;
}

void srv_satoken_done(struct srv_satoken *s)
{
    EVP_PKEY_free(s->key);
    s->key = NULL;
}

/* ---- signing ----------------------------------------------------------------*/

/* ES256 over @n bytes at @msg into @sig (r || s). */
static bool sign_es256(EVP_PKEY *key, const char *msg, size_t n,
                       unsigned char sig[SIG_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80];
    const unsigned char *p = der;
    size_t der_len = sizeof der;
    ECDSA_SIG *es = NULL;
    bool ok = md != NULL &&
              EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestSign(md, der, &der_len, (const unsigned char *)msg,
                             n) == 1 &&
              (es = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) != NULL &&
              BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) == 32 &&
              BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) == 32;

    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    return ok;
}

/* Does @sig (r || s) sign @n bytes at @msg under @key? */
static bool verify_es256(EVP_PKEY *key, const char *msg, size_t n,
                         const unsigned char sig[SIG_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    int der_len = -1;
    bool ok = md != NULL && es != NULL && r != NULL && s != NULL &&
              ECDSA_SIG_set0(es, r, s) == 1;

    if (ok)
        r = s = NULL; /* es owns them now */
    ok = ok && (der_len = i2d_ECDSA_SIG(es, &der)) > 0 &&
         EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
         EVP_DigestVerify(md, der, (size_t)der_len, (const unsigned char *)msg,
                          n) == 1;
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

/* header.payload.signature from two JSON texts. */
int srv__satoken_sign_json(const struct srv_satoken *s, const char *header,
                           size_t hlen, const char *payload, size_t plen,
                           char **ret)
{
    /* Each part is ceil(4n/3) characters; two dots and a NUL. */
    size_t cap = (hlen + plen + SIG_LEN) / 3 * 4 + 32;
    char *out = mem_malloc(cap);
    unsigned char sig[SIG_LEN];
    size_t n;

    if (out == NULL)
        return -ENOMEM;
    n = b64url_encode((const unsigned char *)header, hlen, out);
    out[n++] = '.';
    n += b64url_encode((const unsigned char *)payload, plen, out + n);
    if (!sign_es256(s->key, out, n, sig)) {
        ERR_clear_error();
        mem_free(out);
        return -ENOMEM;
    }
    out[n++] = '.';
    (void)b64url_encode(sig, sizeof sig, out + n);
    *ret = out;
    return 0;
}

/* ---- building the claims ---------------------------------------------------*/

static int put(struct obj *m, const char *key, struct obj *v)
{
    if (v == NULL || obj_map_set(m, key, v) != 0) {
        obj_unref(v);
        return -ENOMEM;
    }
    return 0;
}

static int put_str(struct obj *m, const char *key, const char *v)
{
    return put(m, key, obj_str_new_c(v));
}

/* {"name": @name, "uid": @uid} under @key of @m. */
static int put_ref(struct obj *m, const char *key, const char *name,
                   const char *uid)
{
    struct obj *r = obj_map_new();
    int rv = r != NULL ? 0 : -ENOMEM;

    if (rv == 0)
        rv = put_str(r, "name", name);
    if (rv == 0)
        rv = put_str(r, "uid", uid);
    if (rv != 0) {
        obj_unref(r);
        return rv;
    }
    return put(m, key, r);
}

static int put_jti(struct obj *m)
{
    unsigned char raw[16];
    char text[40];

    if (RAND_bytes(raw, sizeof raw) != 1) {
        ERR_clear_error();
        return -EIO;
    }
    raw[6] = (unsigned char)((raw[6] & 0x0f) | 0x40); /* a v4 UUID */
    raw[8] = (unsigned char)((raw[8] & 0x3f) | 0x80);
    (void)snprintf(text, sizeof text,
                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                   "%02x%02x%02x%02x%02x%02x",
                   raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6],
                   raw[7], raw[8], raw[9], raw[10], raw[11], raw[12], raw[13],
                   raw[14], raw[15]);
    return put_str(m, "jti", text);
}

static struct obj *claims_obj(const struct srv_satoken_claims *c)
{
    struct obj *m = obj_map_new(), *k8s = obj_map_new(), *aud = obj_array_new();
    char sub[sizeof SUB_PREFIX + 2 * SRV_SATOKEN_STR_MAX + 2];
    int rv = m && k8s && aud ? 0 : -ENOMEM;

    for (size_t i = 0; rv == 0 && i < c->n_audiences; i++) {
        struct obj *a = obj_str_new_c(c->audiences[i]);
        if (a == NULL || obj_array_append(aud, a) != 0) {
            obj_unref(a);
            rv = -ENOMEM;
        }
    }
    (void)snprintf(sub, sizeof sub, SUB_PREFIX "%s:%s", c->ns, c->name);
    if (rv == 0 && (rv = put(m, "aud", aud)) == 0)
        aud = NULL;
    if (rv == 0)
        rv = put(m, "exp", obj_int_new(c->exp));
    if (rv == 0)
        rv = put(m, "iat", obj_int_new(c->iat));
    if (rv == 0)
        rv = put_str(m, "iss", SRV_SATOKEN_ISSUER);
    if (rv == 0)
        rv = put_jti(m);
    if (rv == 0)
        rv = put_str(k8s, "namespace", c->ns);
    if (rv == 0 && c->bound_kind[0] != '\0')
        rv = put_ref(k8s, strcmp(c->bound_kind, "Pod") == 0 ? "pod" : "secret",
                     c->bound_name, c->bound_uid);
    if (rv == 0)
        rv = put_ref(k8s, "serviceaccount", c->name, c->uid);
    if (rv == 0 && (rv = put(m, "kubernetes.io", k8s)) == 0)
        k8s = NULL;
    if (rv == 0)
        rv = put(m, "nbf", obj_int_new(c->iat));
    if (rv == 0)
        rv = put_str(m, "sub", sub);
    obj_unref(aud);
    obj_unref(k8s);
    if (rv != 0)
        return obj_unref(m);
    return m;
}

int srv_satoken_issue(const struct srv_satoken *s,
                      const struct srv_satoken_claims *c,
                      char **ret,
                      struct err *e)
{
    char header[128];
    struct obj *claims = claims_obj(c);
    struct obj_buf b;
    int n, rv;

    obj_buf_init(&b);
    n = snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"%s\"}",
                 s->kid);
    rv = claims != NULL ? obj_json_encode(claims, 0, &b, e) : -ENOMEM;
    if (rv == 0)
        rv = srv__satoken_sign_json(s, header, (size_t)n, b.data, b.len, ret);
    obj_unref(claims);
    obj_buf_done(&b);
    if (rv != 0)
        return err_setf(e, rv, "issuing a ServiceAccount token failed");
    return 0;
}

/* ---- verification ---------------------------------------------------------*/

static int refuse(struct err *e, const char *why)
{
    return err_setf(e, -EACCES, "ServiceAccount token refused: %s", why);
}

/* Decode one base64url part holding a JSON object. */
static int part_json(const char *s, size_t n, struct obj **ret)
{
    unsigned char buf[PART_MAX];
    struct obj_decode_opts opts = {.max_depth = 8, .max_bytes = PART_MAX};
    struct err ignored = {0};
    ssize_t len = b64url_decode(s, n, buf, sizeof buf);

    if (len <= 0 ||
        obj_json_decode(buf, (size_t)len, &opts, ret, &ignored) != 0)
        return -1;
    if (obj_type(*ret) != OBJ_MAP) {
        *ret = obj_unref(*ret);
        return -1;
    }
    return 0;
}

/* Copy a string member of @m into @out; false if absent, not a string,
 * empty or too long. */
static bool get_str(const struct obj *m, const char *key, char *out,
                    size_t size)
{
    const struct obj *v = obj_map_get(m, key);
    size_t len = 0;
    const char *s = v != NULL && obj_type(v) == OBJ_STRING ? obj_str(v, &len)
                                                           : NULL;

    if (s == NULL || len == 0 || len >= size)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

static bool get_int(const struct obj *m, const char *key, int64_t *out)
{
    const struct obj *v = obj_map_get(m, key);

    if (v == NULL || obj_type(v) != OBJ_INT)
        return false;
    *out = obj_int_or(v, 0);
    return true;
}

/* aud: a string or a list of strings (RFC 7519 4.1.3). */
static bool read_audiences(const struct obj *p, struct srv_satoken_claims *c)
{
    const struct obj *aud = obj_map_get(p, "aud");

    if (aud != NULL && obj_type(aud) == OBJ_STRING) {
        c->n_audiences = 1;
        return get_str(p, "aud", c->audiences[0], sizeof c->audiences[0]);
    }
    if (aud == NULL || obj_type(aud) != OBJ_ARRAY ||
        obj_array_len(aud) > SRV_SATOKEN_AUD_MAX)
        return false;
    for (size_t i = 0; i < obj_array_len(aud); i++) {
        const struct obj *a = obj_array_get(aud, i);
        size_t len = 0;
        const char *s = obj_type(a) == OBJ_STRING ? obj_str(a, &len) : NULL;
        if (s == NULL || len == 0 || len > SRV_SATOKEN_STR_MAX)
            return false;
        memcpy(c->audiences[c->n_audiences], s, len);
        c->audiences[c->n_audiences++][len] = '\0';
    }
    return c->n_audiences > 0;
}

/* The name and uid of a {"name", "uid"} member of @m. */
static bool read_ref(const struct obj *m, const char *key, char *name,
                     char *uid)
{
    const struct obj *r = obj_map_get(m, key);

    return r != NULL && obj_type(r) == OBJ_MAP &&
           get_str(r, "name", name, SRV_SATOKEN_STR_MAX + 1) &&
           get_str(r, "uid", uid, SRV_SATOKEN_STR_MAX + 1);
}

/* The "kubernetes.io" claims, and sub agreeing with them. */
static bool read_k8s(const struct obj *p, struct srv_satoken_claims *c)
{
    const struct obj *k = obj_map_get(p, "kubernetes.io");
    char sub[sizeof SUB_PREFIX + 2 * SRV_SATOKEN_STR_MAX + 2];
    char want[sizeof sub];

    if (k == NULL || obj_type(k) != OBJ_MAP ||
        !get_str(k, "namespace", c->ns, sizeof c->ns) ||
        !read_ref(k, "serviceaccount", c->name, c->uid) ||
        !get_str(p, "sub", sub, sizeof sub))
        return false;
    if (obj_map_get(k, "pod") != NULL) {
        if (!read_ref(k, "pod", c->bound_name, c->bound_uid))
            return false;
        (void)snprintf(c->bound_kind, sizeof c->bound_kind, "Pod");
    } else if (obj_map_get(k, "secret") != NULL) {
        if (!read_ref(k, "secret", c->bound_name, c->bound_uid))
            return false;
        (void)snprintf(c->bound_kind, sizeof c->bound_kind, "Secret");
    }
    (void)snprintf(want, sizeof want, SUB_PREFIX "%s:%s", c->ns, c->name);
    return strcmp(sub, want) == 0 && strchr(c->ns, ':') == NULL &&
           strchr(c->name, ':') == NULL;
}

static bool has_audience(const struct srv_satoken_claims *c, const char *aud)
{
    for (size_t i = 0; i < c->n_audiences; i++)
        if (strcmp(c->audiences[i], aud) == 0)
            return true;
    return false;
}

/* The claims of a verified payload, checked at @now. */
static int read_claims(const struct obj *p, int64_t now, const char *audience,
                       struct srv_satoken_claims *c, struct err *e)
{
    char iss[sizeof SRV_SATOKEN_ISSUER + 1];
    int64_t nbf = INT64_MIN;

    if (!get_str(p, "iss", iss, sizeof iss) ||
        strcmp(iss, SRV_SATOKEN_ISSUER) != 0)
        return refuse(e, "another issuer");
    if (!read_audiences(p, c) || !has_audience(c, audience))
        return refuse(e, "not for this audience");
    if (!get_int(p, "exp", &c->exp) ||
        (obj_map_get(p, "nbf") != NULL && !get_int(p, "nbf", &nbf)) ||
        (obj_map_get(p, "iat") != NULL && !get_int(p, "iat", &c->iat)))
        return refuse(e, "bad times");
    /* Leeway on @now's side: the claims may hold any int64. */
    if (now - SRV_SATOKEN_LEEWAY >= c->exp)
        return refuse(e, "expired");
    if (nbf != INT64_MIN && now + SRV_SATOKEN_LEEWAY < nbf)
        return refuse(e, "not valid yet");
    if (!read_k8s(p, c))
        return refuse(e, "not a ServiceAccount's");
    return 0;
}

int srv_satoken_verify(const struct srv_satoken *s,
                       const char *token,
                       size_t len,
                       int64_t now,
                       const char *audience,
                       struct srv_satoken_claims *ret,
                       struct err *e)
{
    const char *dot1, *dot2;
    unsigned char sig[SIG_LEN + 1];
    struct obj *header = NULL, *payload = NULL;
    struct srv_satoken_claims c;
    char alg[8];
    int rv;

    memset(&c, 0, sizeof c);
    if (s->key == NULL || !srv_satoken_looks_like_jwt(token, len))
        return refuse(e, "not a JWT");
    dot1 = memchr(token, '.', len);
    dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), sig,
                      sizeof sig) != SIG_LEN)
        return refuse(e, "not an ES256 signature");
    if (part_json(token, (size_t)(dot1 - token), &header) != 0 ||
        !get_str(header, "alg", alg, sizeof alg) || strcmp(alg, "ES256") != 0) {
        obj_unref(header);
        return refuse(e, "not an ES256 JWT");
    }
    obj_unref(header);
    if (!verify_es256(s->key, token, (size_t)(dot2 - token), sig))
        return refuse(e, "bad signature");
    if (part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), &payload) != 0)
        return refuse(e, "bad claims");
    rv = read_claims(payload, now, audience, &c, e);
    obj_unref(payload);
    if (rv == 0)
        *ret = c;
    return rv;
}
