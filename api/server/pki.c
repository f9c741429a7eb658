/* Keys, the cluster CA, serving and client certificates, chain checks. */
#include "api/server/pki.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/server/pki_internal.h"
#include "lib/mem.h"

/* Certificates start an hour in the past so a member whose clock is a little
 * behind the issuer's accepts them at once. */
#define BACKDATE_SECONDS (60 * 60)

/* ---- errors ---- */

int srv__pki_ossl_errf(struct err *e, int code, const char *fmt, ...)
{
    char msg[ERR_MSG_SIZE];
    char reason[160] = "";
    unsigned long last = ERR_peek_last_error();
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (last != 0)
        ERR_error_string_n(last, reason, sizeof reason);
    ERR_clear_error();
    if (reason[0] == '\0')
        return err_setf(e, code, "%s", msg);
    return err_setf(e, code, "%s: %s", msg, reason);
}

int srv__pki_wrapf(struct err *e, int code, const char *fmt, ...)
{
    char prefix[ERR_MSG_SIZE];
    va_list ap;

    if (e == NULL)
        return code;
    va_start(ap, fmt);
    (void)vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    (void)err_wrapf(e, "%s", prefix);
    return code;
}

/* ---- creds ---- */

void srv_pki_cred_free(struct srv_pki_cred *c)
{
    if (c == NULL)
        return;
    X509_free(c->cert);
    EVP_PKEY_free(c->key);
    mem_free(c);
}

int srv__pki_cred_make(X509 *cert,
                       EVP_PKEY *key,
                       const char *what,
                       struct srv_pki_cred **ret,
                       struct err *e)
{
    struct srv_pki_cred *c;

    if (X509_check_private_key(cert, key) != 1)
        return srv__pki_ossl_errf(e, -C8S_ECORRUPT,
                                  "%s: private key does not match the "
                                  "certificate",
                                  what);
    c = mem_calloc(1, sizeof *c);
    if (c == NULL)
        return err_setf(e, -ENOMEM, "%s: out of memory", what);
    c->cert = cert;
    c->key = key;
    *ret = c;
    return 0;
}

/* ---- keys ---- */

int srv_pki_key_generate(EVP_PKEY **ret, struct err *e)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");

    if (key == NULL)
        return srv__pki_ossl_errf(e, -ENOMEM, "generating a P-256 key");
    *ret = key;
    return 0;
}

/* ---- certificate building blocks ---- */

/* A random positive serial of up to 128 bits (RFC 5280 allows 20 octets;
 * randomness makes serials unique across members without coordination). */
static int set_random_serial(X509 *x, struct err *e)
{
    BIGNUM *bn = BN_new();
    int rc = 0;

    if (bn == NULL)
        return srv__pki_ossl_errf(e, -ENOMEM, "serial");
    do {
        if (BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
            rc = srv__pki_ossl_errf(e, -EIO, "random serial");
            goto out;
        }
    } while (BN_is_zero(bn));
    if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
        rc = srv__pki_ossl_errf(e, -ENOMEM, "serial");
out:
    BN_free(bn);
    return rc;
}

/* Subject: O=@groups[i]... then CN=@cn (the order kube-apiserver's own client
 * certificates use). */
static int set_subject(X509 *x,
                       const char *cn,
                       const char *const *groups,
                       size_t n_groups,
                       struct err *e)
{
    X509_NAME *name = X509_get_subject_name(x);

    for (size_t i = 0; i < n_groups; i++) {
        if (groups[i] == NULL || groups[i][0] == '\0')
            return err_setf(e, -EINVAL, "empty group name");
        if (X509_NAME_add_entry_by_NID(
                name, NID_organizationName, MBSTRING_UTF8,
                (const unsigned char *)groups[i], -1, -1, 0) != 1)
            return srv__pki_ossl_errf(e, -EINVAL, "group '%s'", groups[i]);
    }
    if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) != 1)
        return srv__pki_ossl_errf(e, -EINVAL, "common name '%s'", cn);
    return 0;
}

/* Add one extension given in openssl.cnf syntax (fixed strings only: names
 * chosen by users go through set_san(), never through this parser). */
static int add_ext(X509 *x,
                   X509V3_CTX *ctx,
                   int nid,
                   const char *value,
                   struct err *e)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok;

    if (ext == NULL)
        return srv__pki_ossl_errf(e, -EINVAL, "extension %s=%s",
                                  OBJ_nid2sn(nid), value);
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (ok != 1)
        return srv__pki_ossl_errf(e, -ENOMEM, "extension %s", OBJ_nid2sn(nid));
    return 0;
}

/* A new certificate for @key, issued by @issuer (NULL: self-signed), with
 * serial, validity, subject and the subject key identifier set. Extensions
 * that differ per kind are added by the caller before sign(). */
static int cert_new(const struct srv_pki_cred *issuer,
                    EVP_PKEY *key,
                    const char *cn,
                    const char *const *groups,
                    size_t n_groups,
                    int days,
                    X509 **ret,
                    struct err *e)
{
    X509 *x = X509_new();
    int rc;

    if (x == NULL)
        return srv__pki_ossl_errf(e, -ENOMEM, "new certificate");
    if (X509_set_version(x, X509_VERSION_3) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_SECONDS) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL ||
        X509_set_pubkey(x, key) != 1) {
        rc = srv__pki_ossl_errf(e, -ENOMEM, "certificate fields");
        goto fail;
    }
    rc = set_random_serial(x, e);
    if (rc < 0)
        goto fail;
    rc = set_subject(x, cn, groups, n_groups, e);
    if (rc < 0)
        goto fail;
    if (X509_set_issuer_name(x, issuer != NULL
                                    ? X509_get_subject_name(issuer->cert)
                                    : X509_get_subject_name(x)) != 1) {
        rc = srv__pki_ossl_errf(e, -ENOMEM, "issuer name");
        goto fail;
    }
    *ret = x;
    return 0;
fail:
    X509_free(x);
    return rc;
}

/* Key identifiers, then the signature. SKID must exist before AKID is
 * computed: for a self-signed CA the issuer is the certificate itself. */
static int add_key_ids_and_sign(X509 *x,
                                X509 *issuer_cert,
                                EVP_PKEY *issuer_key,
                                struct err *e)
{
    X509V3_CTX ctx;
    int rc;

    X509V3_set_ctx(&ctx, issuer_cert != NULL ? issuer_cert : x, x, NULL, NULL,
                   0);
    rc = add_ext(x, &ctx, NID_subject_key_identifier, "hash", e);
    if (rc == 0)
        rc = add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", e);
    if (rc < 0)
        return rc;
    if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
        return srv__pki_ossl_errf(e, -EIO, "signing the certificate");
    return 0;
}

/* ---- the CA ---- */

int srv_pki_ca_create(struct srv_pki_cred **ret, struct err *e)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    X509V3_CTX ctx;
    int rc;

    rc = srv_pki_key_generate(&key, e);
    if (rc < 0)
        return rc;
    rc = cert_new(NULL, key, SRV_PKI_CA_CN, NULL, 0, SRV_PKI_CA_DAYS, &x, e);
    if (rc < 0)
        goto fail;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    rc = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE", e);
    if (rc == 0)
        rc = add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", e);
    if (rc == 0)
        rc = add_key_ids_and_sign(x, NULL, key, e);
    if (rc == 0)
        rc = srv__pki_cred_make(x, key, "new CA", ret, e);
    if (rc == 0)
        return 0;
fail:
    X509_free(x);
    EVP_PKEY_free(key);
    return srv__pki_wrapf(e, rc, "creating the cluster CA");
}

/* ---- leaves ---- */

/* Extensions every leaf has: not a CA, signature use only (ECDSA keys do
 * not encipher), and one extended key usage. */
static int add_leaf_exts(X509 *x,
                         const struct srv_pki_cred *ca,
                         const char *eku,
                         struct err *e)
{
    X509V3_CTX ctx;
    int rc;

    X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
    rc = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE", e);
    if (rc == 0)
        rc = add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature", e);
    if (rc == 0)
        rc = add_ext(x, &ctx, NID_ext_key_usage, eku, e);
    return rc;
}

/* Issue a leaf for a fresh key: the shared path of serving and client
 * certificates. @san (may be NULL) is added as subjectAltName. */
static int issue_leaf(const struct srv_pki_cred *ca,
                      const char *cn,
                      const char *const *groups,
                      size_t n_groups,
                      const char *eku,
                      GENERAL_NAMES *san,
                      struct srv_pki_cred **ret,
                      struct err *e)
{
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    int rc;

    rc = srv_pki_key_generate(&key, e);
    if (rc < 0)
        return rc;
    rc = cert_new(ca, key, cn, groups, n_groups, SRV_PKI_LEAF_DAYS, &x, e);
    if (rc == 0)
        rc = add_leaf_exts(x, ca, eku, e);
    if (rc == 0 && san != NULL &&
        X509_add1_ext_i2d(x, NID_subject_alt_name, san, 0,
                          X509V3_ADD_DEFAULT) != 1)
        rc = srv__pki_ossl_errf(e, -ENOMEM, "subjectAltName");
    if (rc == 0)
        rc = add_key_ids_and_sign(x, ca->cert, ca->key, e);
    if (rc == 0)
        rc = srv__pki_cred_make(x, key, cn, ret, e);
    if (rc == 0)
        return 0;
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

/* Append a DNS name unless @gens already holds it. Names are checked to be
 * plain host-name characters so nothing odd ends up in a certificate. */
static int san_add_dns(GENERAL_NAMES *gens, const char *name, struct err *e)
{
    GENERAL_NAME *gen;
    ASN1_IA5STRING *s;
    size_t len = strlen(name);

    if (len == 0 || len > 253 ||
        strspn(name,
               "abcdefghijklmnopqrstuvwxyz"
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.*") != len)
        return err_setf(e, -EINVAL, "'%s' is not a DNS name", name);
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        int type;
        ASN1_IA5STRING *have =
            GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &type);
        if (type == GEN_DNS && (size_t)ASN1_STRING_length(have) == len &&
            strncasecmp((const char *)ASN1_STRING_get0_data(have), name, len) ==
                0)
            return 0;
    }
    gen = GENERAL_NAME_new();
    s = ASN1_IA5STRING_new();
    if (gen == NULL || s == NULL || ASN1_STRING_set(s, name, (int)len) != 1) {
        GENERAL_NAME_free(gen);
        ASN1_IA5STRING_free(s);
        return srv__pki_ossl_errf(e, -ENOMEM, "DNS name");
    }
    GENERAL_NAME_set0_value(gen, GEN_DNS, s);
    if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
        GENERAL_NAME_free(gen);
        return srv__pki_ossl_errf(e, -ENOMEM, "DNS name");
    }
    return 0;
}

/* Append an IP address (v4 or v6 literal) unless @gens already holds it. */
static int san_add_ip(GENERAL_NAMES *gens, const char *ip, struct err *e)
{
    ASN1_OCTET_STRING *addr = a2i_IPADDRESS(ip);
    GENERAL_NAME *gen;

    ERR_clear_error();
    if (addr == NULL)
        return err_setf(e, -EINVAL, "'%s' is not an IP address", ip);
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        int type;
        ASN1_OCTET_STRING *have =
            GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &type);
        if (type == GEN_IPADD && ASN1_OCTET_STRING_cmp(have, addr) == 0) {
            ASN1_OCTET_STRING_free(addr);
            return 0;
        }
    }
    gen = GENERAL_NAME_new();
    if (gen == NULL) {
        ASN1_OCTET_STRING_free(addr);
        return srv__pki_ossl_errf(e, -ENOMEM, "IP address");
    }
    GENERAL_NAME_set0_value(gen, GEN_IPADD, addr);
    if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
        GENERAL_NAME_free(gen);
        return srv__pki_ossl_errf(e, -ENOMEM, "IP address");
    }
    return 0;
}

/* The serving certificate's names: the caller's, then the fixed ones. */
static int build_san(const struct srv_pki_names *names,
                     GENERAL_NAMES *gens,
                     struct err *e)
{
    static const char *const fixed_dns[] = {"localhost", "kubernetes",
                                            "kubernetes.default",
                                            "kubernetes.default.svc"};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < names->n_dns; i++)
        rc = san_add_dns(gens, names->dns[i], e);
    for (size_t i = 0; rc == 0 && i < sizeof fixed_dns / sizeof *fixed_dns; i++)
        rc = san_add_dns(gens, fixed_dns[i], e);
    for (size_t i = 0; rc == 0 && i < names->n_ips; i++)
        rc = san_add_ip(gens, names->ips[i], e);
    if (rc == 0)
        rc = san_add_ip(gens, "127.0.0.1", e);
    return rc;
}

int srv_pki_issue_serving(const struct srv_pki_cred *ca,
                          const struct srv_pki_names *names,
                          struct srv_pki_cred **ret,
                          struct err *e)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    const char *cn =
        names->common_name != NULL ? names->common_name : "kube-apiserver";
    int rc;

    if (gens == NULL)
        return srv__pki_ossl_errf(e, -ENOMEM, "serving certificate");
    rc = build_san(names, gens, e);
    if (rc == 0)
        rc = issue_leaf(ca, cn, NULL, 0, "serverAuth", gens, ret, e);
    GENERAL_NAMES_free(gens);
    if (rc < 0)
        return srv__pki_wrapf(e, rc, "issuing the serving certificate");
    return 0;
}

int srv_pki_issue_client(const struct srv_pki_cred *ca,
                         const char *user,
                         const char *const *groups,
                         size_t n_groups,
                         struct srv_pki_cred **ret,
                         struct err *e)
{
    int rc;

    if (user == NULL || user[0] == '\0')
        return err_setf(e, -EINVAL, "client certificate: empty user name");
    rc = issue_leaf(ca, user, groups, n_groups, "clientAuth", NULL, ret, e);
    if (rc < 0)
        return srv__pki_wrapf(e, rc, "issuing a client certificate for '%s'",
                              user);
    return 0;
}

/* ---- verification ---- */

int srv_pki_verify(const struct srv_pki_cred *ca,
                   X509 *cert,
                   enum srv_pki_usage usage,
                   struct err *e)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = 0;

    if (store == NULL || ctx == NULL ||
        X509_STORE_add_cert(store, ca->cert) != 1 ||
        X509_STORE_CTX_init(ctx, store, cert, NULL) != 1) {
        rc = srv__pki_ossl_errf(e, -ENOMEM, "certificate check");
        goto out;
    }
    if (usage != SRV_PKI_USAGE_ANY &&
        X509_STORE_CTX_set_purpose(ctx, usage == SRV_PKI_USAGE_SERVER
                                            ? X509_PURPOSE_SSL_SERVER
                                            : X509_PURPOSE_SSL_CLIENT) != 1) {
        rc = srv__pki_ossl_errf(e, -ENOMEM, "certificate check");
        goto out;
    }
    if (X509_verify_cert(ctx) != 1) {
        int why = X509_STORE_CTX_get_error(ctx);
        ERR_clear_error();
        rc = err_setf(e, -EACCES, "certificate does not verify against %s: %s",
                      SRV_PKI_CA_CN, X509_verify_cert_error_string(why));
    }
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}
