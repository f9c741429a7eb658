/* admin.kubeconfig, written by hand from a fixed template. */
#include "api/server/kubeconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/file.h"
#include "lib/mem.h"

/* The whole file; every %s is a validated host or base64 text, so nothing
 * needs YAML quoting or escaping. A macro so printf checks the format. */
#define TEMPLATE                               \
    "apiVersion: v1\n"                         \
    "kind: Config\n"                           \
    "clusters:\n"                              \
    "- name: " SRV_KUBECONFIG_CLUSTER          \
    "\n"                                       \
    "  cluster:\n"                             \
    "    server: \"https://%s%s%s:%u\"\n"      \
    "    certificate-authority-data: %s\n"     \
    "users:\n"                                 \
    "- name: " SRV_KUBECONFIG_USER             \
    "\n"                                       \
    "  user:\n"                                \
    "    client-certificate-data: %s\n"        \
    "    client-key-data: %s\n"                \
    "contexts:\n"                              \
    "- name: " SRV_KUBECONFIG_CONTEXT          \
    "\n"                                       \
    "  context:\n"                             \
    "    cluster: " SRV_KUBECONFIG_CLUSTER     \
    "\n"                                       \
    "    user: " SRV_KUBECONFIG_USER           \
    "\n"                                       \
    "current-context: " SRV_KUBECONFIG_CONTEXT \
    "\n"                                       \
    "preferences: {}\n"

/* Base64 (one line, no newlines: what the *-data fields hold) of @len bytes
 * into a NUL-terminated mem_malloc() buffer of *@ret_size bytes. */
static int base64(const char *in,
                  size_t len,
                  char **ret,
                  size_t *ret_size,
                  struct err *e)
{
    size_t size = 4 * ((len + 2) / 3) + 1;
    char *out;

    if (len > INT_MAX / 2)
        return err_setf(e, -C8S_ETOOLARGE, "kubeconfig: field too large");
    out = mem_malloc(size);
    if (out == NULL)
        return err_setf(e, -ENOMEM, "kubeconfig: out of memory");
    (void)EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in,
                          (int)len);
    *ret = out;
    *ret_size = size;
    return 0;
}

/* The three base64 fields: CA certificate, client certificate, client key. */
struct b64_fields {
    char *ca;         /* certificate-authority-data. */
    size_t ca_size;   /* Its buffer size. */
    char *cert;       /* client-certificate-data. */
    size_t cert_size; /* Its buffer size. */
    char *key;        /* client-key-data (a secret). */
    size_t key_size;  /* Its buffer size. */
};

static void b64_fields_done(struct b64_fields *f)
{
    mem_free(f->ca);
    mem_free(f->cert);
    srv_pki_free_secret(f->key, f->key_size);
}

/* PEM-encode then base64 each field. */
static int b64_fields_fill(struct b64_fields *f,
                           const struct srv_pki_cred *ca,
                           const struct srv_pki_cred *client,
                           struct err *e)
{
    char *pem = NULL;
    size_t len = 0;
    int rc;

    rc = srv_pki_cert_pem(ca->cert, &pem, &len, e);
    if (rc < 0)
        return rc;
    rc = base64(pem, len, &f->ca, &f->ca_size, e);
    mem_free(pem);
    if (rc == 0 && (rc = srv_pki_cert_pem(client->cert, &pem, &len, e)) == 0) {
        rc = base64(pem, len, &f->cert, &f->cert_size, e);
        mem_free(pem);
    }
    if (rc == 0 && (rc = srv_pki_key_pem(client->key, &pem, &len, e)) == 0) {
        rc = base64(pem, len, &f->key, &f->key_size, e);
        srv_pki_free_secret(pem, len + 1);
    }
    return rc;
}

int srv_kubeconfig_render(const char *host,
                          unsigned port,
                          const struct srv_pki_cred *ca,
                          const struct srv_pki_cred *client,
                          char **ret,
                          size_t *ret_len,
                          struct err *e)
{
    struct b64_fields f = {0};
    size_t hlen = strlen(host);
    int v6 = strchr(host, ':') != NULL;
    size_t size;
    char *out;
    int rc, n;

    if (hlen == 0 || hlen > 253 || port == 0 || port > 65535 ||
        strspn(host,
               "abcdefghijklmnopqrstuvwxyz"
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") != hlen)
        return err_setf(e, -EINVAL, "kubeconfig: bad server '%s:%u'", host,
                        port);
    rc = b64_fields_fill(&f, ca, client, e);
    if (rc < 0)
        goto out;
    size =
        sizeof TEMPLATE + hlen + 2 + 5 + f.ca_size + f.cert_size + f.key_size;
    out = mem_malloc(size);
    if (out == NULL) {
        rc = err_setf(e, -ENOMEM, "kubeconfig: out of memory");
        goto out;
    }
    n = snprintf(out, size, TEMPLATE, v6 ? "[" : "", host, v6 ? "]" : "", port,
                 f.ca, f.cert, f.key);
    if (n < 0 || (size_t)n >= size) {
        srv_pki_free_secret(out, size);
        rc = err_setf(e, -EOVERFLOW, "kubeconfig: rendering failed");
        goto out;
    }
    *ret = out;
    *ret_len = (size_t)n;
out:
    b64_fields_done(&f);
    return rc;
}

int srv_kubeconfig_write(const char *path,
                         const char *host,
                         unsigned port,
                         const struct srv_pki_cred *ca,
                         const struct srv_pki_cred *client,
                         struct err *e)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    rc = srv_kubeconfig_render(host, port, ca, client, &text, &len, e);
    if (rc < 0)
        return rc;
    rc = file_write_atomic(path, text, len, 0600, e);
    srv_pki_free_secret(text, len + 1);
    return rc;
}
