/* The API server's SSL_CTX. */
#include "api/server/pki.h"

#include <errno.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "api/server/pki_internal.h"

/* ALPN protocols offered by the server, in wire format. */
static const unsigned char alpn_http11[] = "\x08http/1.1";

/* Pick http/1.1 if the client offers it; otherwise continue without ALPN
 * (a client offering only h2 then fails at the HTTP layer, not in TLS). */
static int alpn_select(SSL *ssl,
                       const unsigned char **out,
                       unsigned char *outlen,
                       const unsigned char *in,
                       unsigned int inlen,
                       void *arg)
{
    unsigned char *sel = NULL;

    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, outlen, alpn_http11, sizeof alpn_http11 - 1,
                              in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* The CA as the only trust anchor for client certificates, and as the list
 * of acceptable issuers sent in the CertificateRequest (Go clients pick the
 * certificate to send by it). */
static int set_client_trust(SSL_CTX *ctx,
                            const struct srv_pki_cred *ca,
                            struct err *e)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);

    if (X509_STORE_add_cert(store, ca->cert) != 1 ||
        SSL_CTX_add_client_CA(ctx, ca->cert) != 1)
        return srv__pki_ossl_errf(e, -ENOMEM, "TLS: client trust store");
    /* Optional: no certificate is fine, a bad one fails the handshake. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* Sessions resumed with a client certificate must stay bound to this
     * context; OpenSSL refuses resumption without an id context. */
    if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"c8s", 3) !=
        1)
        return srv__pki_ossl_errf(e, -ENOMEM, "TLS: session id context");
    return 0;
}

/* The serving identity: certificate, key, and the CA as chain. */
static int set_identity(SSL_CTX *ctx,
                        const struct srv_pki_cred *ca,
                        const struct srv_pki_cred *serving,
                        struct err *e)
{
    if (SSL_CTX_use_certificate(ctx, serving->cert) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, serving->key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        return srv__pki_ossl_errf(e, -EINVAL,
                                  "TLS: serving certificate or key");
    if (SSL_CTX_add1_chain_cert(ctx, ca->cert) != 1)
        return srv__pki_ossl_errf(e, -ENOMEM, "TLS: certificate chain");
    return 0;
}

int srv_pki_server_ctx(const struct srv_pki_cred *ca,
                       const struct srv_pki_cred *serving,
                       SSL_CTX **ret,
                       struct err *e)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    int rc;

    if (ctx == NULL)
        return srv__pki_ossl_errf(e, -ENOMEM, "TLS: new context");
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        rc = srv__pki_ossl_errf(e, -EINVAL, "TLS: minimum version");
        goto fail;
    }
    /* No renegotiation (a DoS lever, and HTTP/1.1 never needs it); the
     * server's cipher order wins. */
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    rc = set_identity(ctx, ca, serving, e);
    if (rc == 0)
        rc = set_client_trust(ctx, ca, e);
    if (rc < 0)
        goto fail;
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    *ret = ctx;
    return 0;
fail:
    SSL_CTX_free(ctx);
    return rc;
}
