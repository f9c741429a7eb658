/* Server-side TLS with memory BIOs (see tls.h). */
#include "api/server/tls.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <openssl/err.h>

/* ALPN: pick "http/1.1" if offered. We speak nothing else; selecting h2
 * while speaking HTTP/1.1 breaks Go clients ("frame too large"). */
static int alpn_select(SSL *ssl,
                       const unsigned char **out,
                       unsigned char *outlen,
                       const unsigned char *in,
                       unsigned int inlen,
                       void *arg)
{
    static const unsigned char ours[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    unsigned char sel_len = 0;

    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, &sel_len, ours, sizeof(ours) - 1, in,
                              inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    *outlen = sel_len;
    return SSL_TLSEXT_ERR_OK;
}

int srv_tls_configure(SSL_CTX *ctx, struct err *e)
{
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        return err_setf(e, -EINVAL, "tls: cannot set minimum version 1.2");
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Idle keep-alive connections then hold no 34 KiB record buffers. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    return 0;
}

int srv_tls_init(struct srv_tls *t, SSL_CTX *ctx)
{
    memset(t, 0, sizeof(*t));
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
        SSL_free(t->ssl);
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        memset(t, 0, sizeof(*t));
        return -ENOMEM;
    }
    /* An empty memory BIO reports "retry" instead of EOF. */
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio); /* the SSL owns both now */
    SSL_set_accept_state(t->ssl);
    return 0;
}

void srv_tls_done(struct srv_tls *t)
{
    if (t->ssl != NULL)
        SSL_free(t->ssl);
    memset(t, 0, sizeof(*t));
}

int srv_tls_feed(struct srv_tls *t, const char *data, size_t len)
{
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        int n = BIO_write(t->rbio, data, chunk);

        if (n <= 0)
            return -ENOMEM;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Was the last failure "this is plain HTTP"? Clears the error queue. */
static bool saw_http_request(void)
{
    unsigned long code;
    bool http = false;

    while ((code = ERR_get_error()) != 0) {
        if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
            (ERR_GET_REASON(code) == SSL_R_HTTP_REQUEST ||
             ERR_GET_REASON(code) == SSL_R_HTTPS_PROXY_REQUEST))
            http = true;
    }
    return http;
}

int srv_tls_handshake(struct srv_tls *t)
{
    int r = SSL_do_handshake(t->ssl);

    if (r == 1) {
        t->done = true;
        return 1;
    }
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return SRV_TLS_AGAIN;
    default:
        return saw_http_request() ? SRV_TLS_HTTP : -EPROTO;
    }
}

int srv_tls_read(struct srv_tls *t, char *buf, size_t cap)
{
    int n = SSL_read(t->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);

    if (n > 0)
        return n;
    switch (SSL_get_error(t->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return SRV_TLS_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return SRV_TLS_CLOSED;
    default:
        ERR_clear_error();
        return -EPROTO;
    }
}

int srv_tls_write(struct srv_tls *t, const void *data, size_t len)
{
    size_t written = 0;

    /* A memory BIO never pushes back, so SSL_write_ex takes it all. */
    if (len == 0)
        return 0;
    if (SSL_write_ex(t->ssl, data, len, &written) != 1 || written != len) {
        ERR_clear_error();
        return -EPROTO;
    }
    return 0;
}

void srv_tls_shutdown(struct srv_tls *t)
{
    if (t->done)
        (void)SSL_shutdown(t->ssl);
    ERR_clear_error();
}

int srv_tls_take(struct srv_tls *t, struct rbuf **ret)
{
    size_t pending = BIO_ctrl_pending(t->wbio);
    struct rbuf *rb;
    int n;

    *ret = NULL;
    if (pending == 0)
        return 0;
    rb = rbuf_new_uninit(pending);
    if (rb == NULL)
        return -ENOMEM;
    n = BIO_read(t->wbio, rb->data, (int)pending);
    if (n <= 0) {
        rbuf_unref(rb);
        return 0;
    }
    rb->len = (size_t)n;
    rb->data[rb->len] = '\0';
    *ret = rb;
    return 0;
}

const char *srv_tls_alpn(const struct srv_tls *t)
{
    static char buf[32];
    const unsigned char *p = NULL;
    unsigned len = 0;

    SSL_get0_alpn_selected(t->ssl, &p, &len);
    if (p == NULL || len >= sizeof(buf))
        return "";
    memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}
