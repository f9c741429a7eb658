/* PEM encoding, safe file writes and reads, and a member's material on disk. */
#include "api/server/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/server/pki_internal.h"
#include "lib/file.h"
#include "lib/mem.h"

/* PEM files are a few KiB; anything larger is not ours. */
#define MAX_FILE_SIZE (1024 * 1024)

/* ---- PEM ---- */

/* Copy what a memory BIO holds into a NUL-terminated mem_malloc() buffer. */
static int bio_take(BIO *bio, char **ret, size_t *ret_len, struct err *e)
{
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    char *copy;

    if (len <= 0)
        return srv__pki_ossl_errf(e, -ENOMEM, "PEM encoding");
    copy = mem_malloc((size_t)len + 1);
    if (copy == NULL)
        return err_setf(e, -ENOMEM, "PEM encoding: out of memory");
    memcpy(copy, data, (size_t)len);
    copy[len] = '\0';
    *ret = copy;
    *ret_len = (size_t)len;
    return 0;
}

int srv_pki_cert_pem(X509 *cert, char **ret, size_t *ret_len, struct err *e)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int rc;

    if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1)
        rc = srv__pki_ossl_errf(e, -ENOMEM, "PEM encoding a certificate");
    else
        rc = bio_take(bio, ret, ret_len, e);
    BIO_free(bio);
    return rc;
}

int srv_pki_key_pem(EVP_PKEY *key, char **ret, size_t *ret_len, struct err *e)
{
    /* BIO_s_secmem: the BIO's own buffer is cleansed when freed. */
    BIO *bio = BIO_new(BIO_s_secmem());
    int rc;

    if (bio == NULL ||
        PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
        rc = srv__pki_ossl_errf(e, -ENOMEM, "PEM encoding a private key");
    else
        rc = bio_take(bio, ret, ret_len, e);
    BIO_free(bio);
    return rc;
}

void srv_pki_free_secret(void *p, size_t n)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, n);
    mem_free(p);
}

/* A read-only BIO over @len bytes; NULL if @len does not fit an int. */
static BIO *mem_bio(const char *pem, size_t len)
{
    if (len > INT_MAX)
        return NULL;
    return BIO_new_mem_buf(pem, (int)len);
}

int srv_pki_cert_from_pem(const char *pem,
                          size_t len,
                          const char *what,
                          X509 **ret,
                          struct err *e)
{
    BIO *bio = mem_bio(pem, len);
    X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

    BIO_free(bio);
    if (x == NULL)
        return srv__pki_ossl_errf(e, -C8S_ECORRUPT,
                                  "%s: not a valid PEM certificate", what);
    ERR_clear_error();
    *ret = x;
    return 0;
}

int srv_pki_key_from_pem(const char *pem,
                         size_t len,
                         const char *what,
                         EVP_PKEY **ret,
                         struct err *e)
{
    BIO *bio = mem_bio(pem, len);
    /* An empty passphrase callback result: encrypted keys fail instead of
     * prompting on the terminal. */
    EVP_PKEY *key = bio != NULL
                        ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"")
                        : NULL;

    BIO_free(bio);
    if (key == NULL)
        return srv__pki_ossl_errf(e, -C8S_ECORRUPT,
                                  "%s: not a valid PEM private key", what);
    ERR_clear_error();
    *ret = key;
    return 0;
}

/* ---- files ---- */

/* Read an open regular file of at most MAX_FILE_SIZE. */
static int read_fd(int fd,
                   const char *path,
                   char **ret,
                   size_t *ret_len,
                   struct err *e)
{
    struct stat st;
    char *buf;
    size_t got = 0;

    if (fstat(fd, &st) < 0)
        return err_setf(e, -errno, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return err_setf(e, -EINVAL, "%s: not a regular file", path);
    if (st.st_size > MAX_FILE_SIZE)
        return err_setf(e, -C8S_ETOOLARGE, "%s: larger than %d bytes", path,
                        MAX_FILE_SIZE);
    buf = mem_malloc((size_t)st.st_size + 1);
    if (buf == NULL)
        return err_setf(e, -ENOMEM, "%s: out of memory", path);
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int rc = n < 0 ? -errno : -C8S_ECORRUPT;
            srv_pki_free_secret(buf, (size_t)st.st_size + 1);
            return err_setf(e, rc, "%s: %s", path,
                            n < 0 ? strerror(-rc) : "shrank while read");
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    *ret = buf;
    *ret_len = got;
    return 0;
}

int srv_pki_read_file(const char *path,
                      char **ret,
                      size_t *ret_len,
                      struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int rc;

    if (fd < 0)
        return err_setf(
            e, -errno, "%s: %s", path,
            errno == ELOOP ? "is a symlink, refusing" : strerror(errno));
    rc = read_fd(fd, path, ret, ret_len, e);
    (void)close(fd);
    return rc;
}

/* ---- creds on disk ---- */

int srv_pki_cred_save(const struct srv_pki_cred *c,
                      const char *cert_path,
                      const char *key_path,
                      struct err *e)
{
    char *pem = NULL;
    size_t len = 0;
    int rc;

    rc = srv_pki_key_pem(c->key, &pem, &len, e);
    if (rc == 0)
        rc = file_write_atomic(key_path, pem, len, 0600, e);
    srv_pki_free_secret(pem, len);
    if (rc < 0)
        return rc;
    pem = NULL;
    rc = srv_pki_cert_pem(c->cert, &pem, &len, e);
    if (rc == 0)
        rc = file_write_atomic(cert_path, pem, len, 0644, e);
    mem_free(pem);
    return rc;
}

/* 0 when both files are present. -ENOENT (no context) when the certificate
 * is missing: srv_pki_cred_save() writes the key first, so a key alone is
 * what a crash in the middle of a save leaves, and the material was never
 * used. A certificate without its key is -C8S_ECORRUPT. */
static int check_pair(const char *cert_path,
                      const char *key_path,
                      struct err *e)
{
    struct stat st;

    if (lstat(cert_path, &st) < 0 && errno == ENOENT)
        return -ENOENT;
    if (lstat(key_path, &st) < 0 && errno == ENOENT)
        return err_setf(e, -C8S_ECORRUPT, "%s: missing, but %s exists",
                        key_path, cert_path);
    return 0;
}

int srv_pki_cred_load(const char *cert_path,
                      const char *key_path,
                      struct srv_pki_cred **ret,
                      struct err *e)
{
    char *buf = NULL;
    size_t len = 0;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    int rc;

    rc = check_pair(cert_path, key_path, e);
    if (rc < 0)
        return rc;
    rc = srv_pki_read_file(cert_path, &buf, &len, e);
    if (rc == 0)
        rc = srv_pki_cert_from_pem(buf, len, cert_path, &cert, e);
    mem_free(buf);
    buf = NULL;
    if (rc < 0)
        return rc;
    rc = srv_pki_read_file(key_path, &buf, &len, e);
    if (rc == 0)
        rc = srv_pki_key_from_pem(buf, len, key_path, &key, e);
    if (buf != NULL)
        srv_pki_free_secret(buf, len + 1);
    if (rc == 0)
        rc = srv__pki_cred_make(cert, key, key_path, ret, e);
    if (rc < 0) {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    return rc;
}

/* ---- a member's material ---- */

/* "<dir>/<name>" into @buf. */
static int join(char *buf,
                size_t size,
                const char *dir,
                const char *name,
                struct err *e)
{
    if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
        return err_setf(e, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
    return 0;
}

/* The CA: from disk, else @cluster_ca saved to disk, else a new one saved. */
static int ensure_ca(const char *dir,
                     const struct srv_pki_cred *cluster_ca,
                     struct srv_pki_cred **ret,
                     struct err *e)
{
    char crt[PATH_MAX], key[PATH_MAX];
    struct srv_pki_cred *ca = NULL;
    int rc;

    if ((rc = join(crt, sizeof crt, dir, SRV_PKI_CA_CRT, e)) < 0 ||
        (rc = join(key, sizeof key, dir, SRV_PKI_CA_KEY, e)) < 0)
        return rc;
    rc = srv_pki_cred_load(crt, key, &ca, e);
    if (rc == 0 && cluster_ca != NULL &&
        X509_cmp(ca->cert, cluster_ca->cert) != 0) {
        srv_pki_cred_free(ca);
        return err_setf(e, -C8S_ECONFLICT,
                        "%s: differs from the cluster's CA (a member of "
                        "another cluster?)",
                        crt);
    }
    if (rc != -ENOENT) {
        if (rc == 0)
            *ret = ca;
        return rc;
    }
    if (cluster_ca != NULL) {
        X509_up_ref(cluster_ca->cert);
        EVP_PKEY_up_ref(cluster_ca->key);
        rc = srv__pki_cred_make(cluster_ca->cert, cluster_ca->key, crt, &ca, e);
        if (rc < 0) {
            X509_free(cluster_ca->cert);
            EVP_PKEY_free(cluster_ca->key);
            return rc;
        }
    } else if ((rc = srv_pki_ca_create(&ca, e)) < 0) {
        return rc;
    }
    rc = srv_pki_cred_save(ca, crt, key, e);
    if (rc < 0) {
        srv_pki_cred_free(ca);
        return rc;
    }
    *ret = ca;
    return 0;
}

/* A leaf: loaded when present and still valid for @usage under @ca,
 * otherwise issued (serving for @names, or the admin client) and saved. */
static int ensure_leaf(const char *dir,
                       const char *crt_name,
                       const char *key_name,
                       const struct srv_pki_cred *ca,
                       enum srv_pki_usage usage,
                       const struct srv_pki_names *names,
                       struct srv_pki_cred **ret,
                       struct err *e)
{
    static const char *const admin_groups[] = {"system:masters"};
    char crt[PATH_MAX], key[PATH_MAX];
    struct srv_pki_cred *c = NULL;
    int rc;

    if ((rc = join(crt, sizeof crt, dir, crt_name, e)) < 0 ||
        (rc = join(key, sizeof key, dir, key_name, e)) < 0)
        return rc;
    rc = srv_pki_cred_load(crt, key, &c, e);
    if (rc == 0 && srv_pki_verify(ca, c->cert, usage, NULL) == 0) {
        *ret = c;
        return 0;
    }
    /* Present but unusable (another CA, expired): reissue. A corrupt or
     * half-present pair is an error: the operator should look. */
    srv_pki_cred_free(c);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    c = NULL;
    if (usage == SRV_PKI_USAGE_SERVER)
        rc = srv_pki_issue_serving(ca, names, &c, e);
    else
        rc = srv_pki_issue_client(ca, "admin", admin_groups, 1, &c, e);
    if (rc == 0)
        rc = srv_pki_cred_save(c, crt, key, e);
    if (rc < 0) {
        srv_pki_cred_free(c);
        return rc;
    }
    *ret = c;
    return 0;
}

int srv_pki_ensure(const char *dir,
                   const struct srv_pki_cred *cluster_ca,
                   const struct srv_pki_names *names,
                   struct srv_pki_member *ret,
                   struct err *e)
{
    struct srv_pki_member m = {0};
    int rc;

    rc = ensure_ca(dir, cluster_ca, &m.ca, e);
    if (rc == 0)
        rc = ensure_leaf(dir, SRV_PKI_SERVING_CRT, SRV_PKI_SERVING_KEY, m.ca,
                         SRV_PKI_USAGE_SERVER, names, &m.serving, e);
    if (rc == 0)
        rc = ensure_leaf(dir, SRV_PKI_ADMIN_CRT, SRV_PKI_ADMIN_KEY, m.ca,
                         SRV_PKI_USAGE_CLIENT, names, &m.admin, e);
    if (rc < 0) {
        srv_pki_member_done(&m);
        return rc;
    }
    *ret = m;
    return 0;
}

void srv_pki_member_done(struct srv_pki_member *m)
{
    srv_pki_cred_free(m->ca);
    srv_pki_cred_free(m->serving);
    srv_pki_cred_free(m->admin);
    m->ca = m->serving = m->admin = NULL;
}
