/* Tests for api/server/pki and kubeconfig: certificates, files, sealing,
 * TLS, and the admin kubeconfig read by the real kubectl. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/server/kubeconfig.h"
#include "api/server/pki.h"
#include "lib/file.h"
#include "lib/mem.h"
#include "tests/lib/unit.h"

#define TOKEN "correct horse battery staple"

/* ---- helpers ---- */

static void cred_free_cb(void *c)
{
    srv_pki_cred_free(c);
}

static void mem_free_cb(void *p)
{
    mem_free(p);
}

/* A CA freed when the test ends. */
static struct srv_pki_cred *new_ca(void)
{
    struct srv_pki_cred *ca = NULL;
    struct err e = {0};

    ASSERT_MSG(srv_pki_ca_create(&ca, &e) == 0, "%s", e.msg);
    unit_defer(cred_free_cb, ca);
    return ca;
}

static const char *const test_dns[] = {"master-1", "master-1.example.com"};
static const char *const test_ips[] = {"10.1.2.3", "fd00::7", "127.0.0.1"};

static const struct srv_pki_names test_names = {
    .dns = test_dns,
    .n_dns = 2,
    .ips = test_ips,
    .n_ips = 3,
};

static struct srv_pki_cred *new_serving(const struct srv_pki_cred *ca)
{
    struct srv_pki_cred *c = NULL;
    struct err e = {0};

    ASSERT_MSG(srv_pki_issue_serving(ca, &test_names, &c, &e) == 0, "%s",
               e.msg);
    unit_defer(cred_free_cb, c);
    return c;
}

static struct srv_pki_cred *new_client(const struct srv_pki_cred *ca,
                                       const char *user)
{
    static const char *const groups[] = {"system:masters", "devs"};
    struct srv_pki_cred *c = NULL;
    struct err e = {0};

    ASSERT_MSG(srv_pki_issue_client(ca, user, groups, 2, &c, &e) == 0, "%s",
               e.msg);
    unit_defer(cred_free_cb, c);
    return c;
}

static char *path_in(const char *dir, const char *name)
{
    static char bufs[8][PATH_MAX];
    static int next;
    char *p = bufs[next++ % 8];

    (void)snprintf(p, PATH_MAX, "%s/%s", dir, name);
    return p;
}

static unsigned file_mode(const char *path)
{
    struct stat st;

    ASSERT_MSG(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
    return st.st_mode & 07777;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ASSERT(f != NULL);
    ASSERT(fputs(text, f) >= 0);
    ASSERT(fclose(f) == 0);
}

/* Run @cmd through the shell; its stdout (first 64 KiB) into @out. */
static int run(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    size_t n;

    ASSERT(p != NULL);
    n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    return pclose(p);
}

static bool have_program(const char *name)
{
    char cmd[256], out[PATH_MAX];

    (void)snprintf(cmd, sizeof cmd, "command -v %s 2>/dev/null", name);
    return run(cmd, out, sizeof out) == 0 && out[0] != '\0';
}

/* Text of an entry of @name, "" if absent. */
static const char *name_entry(X509_NAME *name,
                              int nid,
                              int lastpos,
                              int *ret_pos)
{
    int pos = X509_NAME_get_index_by_NID(name, nid, lastpos);

    *ret_pos = pos;
    if (pos < 0)
        return "";
    return (const char *)ASN1_STRING_get0_data(
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, pos)));
}

/* ---- certificates ---- */

TEST(pki, ca_properties)
{
    struct srv_pki_cred *ca = new_ca();
    X509_NAME *subj = X509_get_subject_name(ca->cert);
    const ASN1_INTEGER *serial = X509_get0_serialNumber(ca->cert);
    int pos;

    ASSERT_STR_EQ(name_entry(subj, NID_commonName, -1, &pos), SRV_PKI_CA_CN);
    ASSERT_EQ(X509_check_ca(ca->cert), 1);
    ASSERT_EQ(X509_get_extension_flags(ca->cert) & EXFLAG_SS, EXFLAG_SS);
    ASSERT(X509_get0_subject_key_id(ca->cert) != NULL);
    ASSERT(X509_get0_authority_key_id(ca->cert) != NULL);
    ASSERT_EQ(X509_get_key_usage(ca->cert), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    ASSERT(ASN1_STRING_length(serial) >= 12); /* ~128 random bits */
    ASSERT_EQ(EVP_PKEY_get_bits(ca->key), 256);
    ASSERT_EQ(srv_pki_verify(ca, ca->cert, SRV_PKI_USAGE_ANY, NULL), 0);
    /* Ten years, within a day. */
    {
        int days, secs;
        ASSERT(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca->cert),
                              X509_get0_notAfter(ca->cert)) == 1);
        ASSERT(days >= 3650 && days <= 3653);
    }
}

TEST(pki, serving_names_and_usage)
{
    struct srv_pki_cred *ca = new_ca();
    struct srv_pki_cred *s = new_serving(ca);
    static const char *const hosts[] = {
        "master-1",   "master-1.example.com", "localhost",
        "kubernetes", "kubernetes.default",   "kubernetes.default.svc"};
    static const char *const ips[] = {"10.1.2.3", "fd00::7", "127.0.0.1"};
    GENERAL_NAMES *gens;
    struct err e = {0};

    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++)
        ASSERT_MSG(X509_check_host(s->cert, hosts[i], 0, 0, NULL) == 1,
                   "no SAN %s", hosts[i]);
    for (size_t i = 0; i < sizeof ips / sizeof *ips; i++)
        ASSERT_MSG(X509_check_ip_asc(s->cert, ips[i], 0) == 1, "no SAN %s",
                   ips[i]);
    ASSERT(X509_check_host(s->cert, "evil.example.com", 0, 0, NULL) != 1);
    /* 127.0.0.1 was given and is also added: present once. */
    gens = X509_get_ext_d2i(s->cert, NID_subject_alt_name, NULL, NULL);
    ASSERT(gens != NULL);
    ASSERT_EQ(sk_GENERAL_NAME_num(gens), 6 + 3);
    GENERAL_NAMES_free(gens);

    ASSERT_MSG(srv_pki_verify(ca, s->cert, SRV_PKI_USAGE_SERVER, &e) == 0, "%s",
               e.msg);
    ASSERT_EQ(srv_pki_verify(ca, s->cert, SRV_PKI_USAGE_CLIENT, &e), -EACCES);
    ASSERT_STR_CONTAINS(e.msg, "purpose");
    ASSERT_EQ(X509_check_ca(s->cert), 0);
}

TEST(pki, bad_names_rejected)
{
    struct srv_pki_cred *ca = new_ca();
    struct srv_pki_cred *c = NULL;
    const char *bad_ip[] = {"10.1.2"};
    const char *bad_dns[] = {"a,b=c"};
    struct srv_pki_names n1 = {.ips = bad_ip, .n_ips = 1};
    struct srv_pki_names n2 = {.dns = bad_dns, .n_dns = 1};
    struct err e = {0};

    ASSERT_EQ(srv_pki_issue_serving(ca, &n1, &c, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "10.1.2");
    ASSERT_EQ(srv_pki_issue_serving(ca, &n2, &c, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "a,b=c");
    ASSERT_EQ(srv_pki_issue_client(ca, "", NULL, 0, &c, &e), -EINVAL);
    ASSERT(c == NULL);
}

TEST(pki, client_subject_and_usage)
{
    struct srv_pki_cred *ca = new_ca();
    struct srv_pki_cred *other = new_ca();
    struct srv_pki_cred *c = new_client(ca, "alice");
    X509_NAME *subj = X509_get_subject_name(c->cert);
    struct err e = {0};
    int pos;

    ASSERT_STR_EQ(name_entry(subj, NID_commonName, -1, &pos), "alice");
    ASSERT_STR_EQ(name_entry(subj, NID_organizationName, -1, &pos),
                  "system:masters");
    ASSERT_STR_EQ(name_entry(subj, NID_organizationName, pos, &pos), "devs");
    ASSERT_EQ(X509_NAME_get_index_by_NID(subj, NID_organizationName, pos), -1);
    ASSERT_MSG(srv_pki_verify(ca, c->cert, SRV_PKI_USAGE_CLIENT, &e) == 0, "%s",
               e.msg);
    ASSERT_EQ(srv_pki_verify(ca, c->cert, SRV_PKI_USAGE_SERVER, NULL), -EACCES);
    /* Another cluster's CA does not vouch for it. */
    ASSERT_EQ(srv_pki_verify(other, c->cert, SRV_PKI_USAGE_CLIENT, &e),
              -EACCES);
    ASSERT_STR_CONTAINS(e.msg, "issuer");
}

/* ---- files ---- */

static void member_done_cb(void *m)
{
    srv_pki_member_done(m);
    mem_free(m);
}

/* srv_pki_ensure() into a heap member freed at the end of the test. */
static struct srv_pki_member *ensure(const char *dir,
                                     const struct srv_pki_cred *cluster_ca)
{
    struct srv_pki_member *m = mem_calloc(1, sizeof *m);
    struct err e = {0};

    ASSERT(m != NULL);
    unit_defer(member_done_cb, m);
    ASSERT_MSG(srv_pki_ensure(dir, cluster_ca, &test_names, m, &e) == 0, "%s",
               e.msg);
    return m;
}

TEST(pki, ensure_creates_then_reloads)
{
    const char *dir = unit_tmpdir();
    struct srv_pki_member *a = ensure(dir, NULL);
    struct srv_pki_member *b;
    static const char *const keys[] = {SRV_PKI_CA_KEY, SRV_PKI_SERVING_KEY,
                                       SRV_PKI_ADMIN_KEY};

    for (size_t i = 0; i < 3; i++)
        ASSERT_UEQ(file_mode(path_in(dir, keys[i])), 0600);
    ASSERT_UEQ(file_mode(path_in(dir, SRV_PKI_CA_CRT)), 0644);
    b = ensure(dir, NULL);
    ASSERT_EQ(X509_cmp(a->ca->cert, b->ca->cert), 0);
    ASSERT_EQ(X509_cmp(a->serving->cert, b->serving->cert), 0);
    ASSERT_EQ(X509_cmp(a->admin->cert, b->admin->cert), 0);
    ASSERT_EQ(EVP_PKEY_eq(a->ca->key, b->ca->key), 1);
    ASSERT_EQ(EVP_PKEY_eq(a->admin->key, b->admin->key), 1);
    /* No temporary files left behind. */
    ASSERT(access(path_in(dir, "ca.key.tmp"), F_OK) != 0);
}

TEST(pki, openssl_cli_agrees)
{
    const char *dir = unit_tmpdir();
    struct srv_pki_member *m;
    char cmd[4 * PATH_MAX], out[65536];

    if (!have_program("openssl"))
        SKIP("no openssl command");
    m = ensure(dir, NULL);
    (void)m;
    (void)snprintf(
        cmd, sizeof cmd, "openssl verify -CAfile '%s' '%s' '%s' 2>&1",
        path_in(dir, SRV_PKI_CA_CRT), path_in(dir, SRV_PKI_SERVING_CRT),
        path_in(dir, SRV_PKI_ADMIN_CRT));
    ASSERT_MSG(run(cmd, out, sizeof out) == 0, "openssl verify: %s", out);
    ASSERT_STR_CONTAINS(out, "apiserver.crt: OK");
    ASSERT_STR_CONTAINS(out, "admin.crt: OK");
    (void)snprintf(cmd, sizeof cmd,
                   "openssl verify -purpose sslserver -CAfile '%s' '%s' 2>&1",
                   path_in(dir, SRV_PKI_CA_CRT),
                   path_in(dir, SRV_PKI_SERVING_CRT));
    ASSERT_MSG(run(cmd, out, sizeof out) == 0, "openssl verify: %s", out);
    (void)snprintf(cmd, sizeof cmd, "openssl x509 -noout -text -in '%s'",
                   path_in(dir, SRV_PKI_SERVING_CRT));
    ASSERT_EQ(run(cmd, out, sizeof out), 0);
    ASSERT_STR_CONTAINS(out, "DNS:master-1.example.com");
    ASSERT_STR_CONTAINS(out, "DNS:localhost");
    ASSERT_STR_CONTAINS(out, "DNS:kubernetes.default.svc");
    ASSERT_STR_CONTAINS(out, "IP Address:127.0.0.1");
    ASSERT_STR_CONTAINS(out, "IP Address:FD00:0:0:0:0:0:0:7");
    ASSERT_STR_CONTAINS(out, "TLS Web Server Authentication");
    ASSERT_STR_CONTAINS(out, "ecdsa-with-SHA256");
    (void)snprintf(cmd, sizeof cmd, "openssl x509 -noout -text -in '%s'",
                   path_in(dir, SRV_PKI_CA_CRT));
    ASSERT_EQ(run(cmd, out, sizeof out), 0);
    ASSERT_STR_CONTAINS(out, "CA:TRUE");
    ASSERT_STR_CONTAINS(out, "Certificate Sign, CRL Sign");
    ASSERT_STR_CONTAINS(out, "NIST CURVE: P-256");
    (void)snprintf(cmd, sizeof cmd,
                   "openssl x509 -noout -subject -nameopt RFC2253 -in '%s'",
                   path_in(dir, SRV_PKI_ADMIN_CRT));
    ASSERT_EQ(run(cmd, out, sizeof out), 0);
    ASSERT_STR_CONTAINS(out, "CN=admin,O=system:masters");
}

TEST(pki, corrupt_pem_names_the_file)
{
    const char *dir = unit_tmpdir();
    struct srv_pki_member *m = ensure(dir, NULL);
    struct srv_pki_member m2 = {0};
    struct srv_pki_cred *c = NULL;
    const char *crt = path_in(dir, SRV_PKI_SERVING_CRT);
    const char *key = path_in(dir, SRV_PKI_SERVING_KEY);
    struct err e = {0};
    char *text;
    size_t len;

    (void)m;
    /* A truncated certificate. */
    ASSERT_EQ(srv_pki_read_file(crt, &text, &len, NULL), 0);
    text[len / 2] = '\0';
    write_text(crt, text);
    mem_free(text);
    ASSERT_EQ(srv_pki_cred_load(crt, key, &c, &e), -C8S_ECORRUPT);
    ASSERT_STR_CONTAINS(e.msg, crt);
    ASSERT_STR_CONTAINS(e.msg, "not a valid PEM certificate");
    /* ensure() does not paper over it. */
    ASSERT_EQ(srv_pki_ensure(dir, NULL, &test_names, &m2, &e), -C8S_ECORRUPT);
    ASSERT_STR_CONTAINS(e.msg, crt);

    /* Garbage as the CA key. */
    write_text(path_in(dir, SRV_PKI_CA_KEY),
               "-----BEGIN PRIVATE KEY-----\n"
               "AAAA\n"
               "-----END PRIVATE KEY-----\n");
    ASSERT_EQ(srv_pki_ensure(dir, NULL, &test_names, &m2, &e), -C8S_ECORRUPT);
    ASSERT_STR_CONTAINS(e.msg, path_in(dir, SRV_PKI_CA_KEY));
    ASSERT_STR_CONTAINS(e.msg, "not a valid PEM private key");
    ASSERT(m2.ca == NULL);
}

TEST(pki, wrong_key_names_the_file)
{
    const char *dir = unit_tmpdir();
    struct srv_pki_cred *ca = new_ca();
    struct srv_pki_cred *a = new_client(ca, "a");
    struct srv_pki_cred *b = new_client(ca, "b");
    struct srv_pki_cred *c = NULL;
    const char *crt = path_in(dir, "a.crt");
    const char *key = path_in(dir, "a.key");
    struct err e = {0};

    ASSERT_EQ(srv_pki_cred_save(a, crt, key, NULL), 0);
    ASSERT_EQ(srv_pki_cred_save(b, path_in(dir, "b.crt"), key, NULL), 0);
    ASSERT_EQ(srv_pki_cred_load(crt, key, &c, &e), -C8S_ECORRUPT);
    ASSERT_STR_CONTAINS(e.msg, key);
    ASSERT_STR_CONTAINS(e.msg, "does not match");
    /* A certificate without its key. */
    ASSERT_EQ(unlink(key), 0);
    ASSERT_EQ(srv_pki_cred_load(crt, key, &c, &e), -C8S_ECORRUPT);
    ASSERT_STR_CONTAINS(e.msg, key);
    /* Neither: -ENOENT, the caller creates. */
    ASSERT_EQ(unlink(crt), 0);
    ASSERT_EQ(srv_pki_cred_load(crt, key, &c, &e), -ENOENT);
    /* A symlink is refused, not followed. */
    ASSERT_EQ(srv_pki_cred_save(a, crt, path_in(dir, "real.key"), NULL), 0);
    ASSERT_EQ(symlink(path_in(dir, "real.key"), key), 0);
    ASSERT_EQ(srv_pki_cred_load(crt, key, &c, &e), -ELOOP);
    ASSERT_STR_CONTAINS(e.msg, "symlink");
    ASSERT(c == NULL);
}

TEST(pki, write_atomic_replaces_symlink_not_target)
{
    const char *dir = unit_tmpdir();
    const char *target = path_in(dir, "target");
    const char *link = path_in(dir, "link");
    char *text;
    size_t len;

    write_text(target, "keep");
    ASSERT_EQ(symlink(target, link), 0);
    ASSERT_EQ(file_write_atomic(link, "new", 3, 0600, NULL), 0);
    ASSERT_EQ(srv_pki_read_file(target, &text, &len, NULL), 0);
    ASSERT_STR_EQ(text, "keep");
    mem_free(text);
    ASSERT_EQ(srv_pki_read_file(link, &text, &len, NULL), 0);
    ASSERT_STR_EQ(text, "new");
    mem_free(text);
    ASSERT_UEQ(file_mode(link), 0600);
}

TEST(pki, ensure_adopts_cluster_ca)
{
    const char *d1 = unit_tmpdir();
    char d2[PATH_MAX];
    struct srv_pki_member *m1, *m2;
    struct srv_pki_member m3 = {0};
    struct srv_pki_cred *other = new_ca();
    struct err e = {0};

    (void)snprintf(d2, sizeof d2, "%s/m2", d1);
    ASSERT_EQ(mkdir(d2, 0700), 0);
    m1 = ensure(d1, NULL);
    /* Member 2 gets member 1's CA (through the store, sealed: the seal
     * tests cover that leg). */
    m2 = ensure(d2, m1->ca);
    ASSERT_EQ(X509_cmp(m1->ca->cert, m2->ca->cert), 0);
    ASSERT_EQ(
        srv_pki_verify(m1->ca, m2->serving->cert, SRV_PKI_USAGE_SERVER, NULL),
        0);
    ASSERT_EQ(
        srv_pki_verify(m2->ca, m1->admin->cert, SRV_PKI_USAGE_CLIENT, NULL), 0);
    /* A data dir of another cluster is refused. */
    ASSERT_EQ(srv_pki_ensure(d2, other, &test_names, &m3, &e), -C8S_ECONFLICT);
    ASSERT_STR_CONTAINS(e.msg, "ca.crt");
}

TEST(pki, out_of_memory_fails_cleanly)
{
    const char *dir = unit_tmpdir();
    struct srv_pki_member m = {0};
    char sub[PATH_MAX];
    int rc = -ENOMEM, i;

    /* Fail the i-th allocation of a whole first start, for every i, until
     * one run allocates less than i times: each failure is -ENOMEM, leaks
     * nothing (ASan) and leaves no half state the next start trips on. */
    for (i = 0; rc == -ENOMEM && i < 500; i++) {
        (void)snprintf(sub, sizeof sub, "%s/%d", dir, i);
        ASSERT_EQ(mkdir(sub, 0700), 0);
        mem_fault_arm(i, 1);
        rc = srv_pki_ensure(sub, NULL, &test_names, &m, NULL);
        if (rc == 0) {
            char *text = NULL;
            size_t len = 0;
            rc = srv_kubeconfig_render("localhost", 6443, m.ca, m.admin, &text,
                                       &len, NULL);
            srv_pki_free_secret(text, len + 1);
            srv_pki_member_done(&m);
        }
        mem_fault_arm(-1, 0);
        ASSERT_MSG(rc == 0 || rc == -ENOMEM, "fault %d: %d", i, rc);
        m = (struct srv_pki_member){0};
        ASSERT_EQ(srv_pki_ensure(sub, NULL, &test_names, &m, NULL), 0);
        srv_pki_member_done(&m);
    }
    ASSERT_EQ(rc, 0);
    ASSERT(i > 5);
}

/* ---- sealing ---- */

TEST(pki, seal_round_trip_and_wrong_token)
{
    struct srv_pki_cred *ca = new_ca();
    struct srv_pki_cred *back = NULL;
    uint8_t *blob = NULL, *blob2 = NULL;
    size_t len = 0, len2 = 0;
    struct err e = {0};

    ASSERT_EQ(srv_pki_seal_ca(ca, TOKEN, &blob, &len, &e), 0);
    unit_defer(mem_free_cb, blob);
    ASSERT_MEM_EQ(blob, SRV_PKI_SEAL_MAGIC, 4);
    ASSERT_EQ(srv_pki_open_ca(blob, len, TOKEN, &back, &e), 0);
    ASSERT_EQ(X509_cmp(back->cert, ca->cert), 0);
    ASSERT_EQ(EVP_PKEY_eq(back->key, ca->key), 1);
    srv_pki_cred_free(back);
    back = NULL;
    ASSERT_EQ(srv_pki_open_ca(blob, len, TOKEN "x", &back, &e), -EACCES);
    ASSERT_STR_CONTAINS(e.msg, "wrong token");
    ASSERT_EQ(srv_pki_open_ca(blob, len, "", &back, &e), -EINVAL);
    ASSERT_EQ(srv_pki_seal_ca(ca, "", &blob2, &len2, &e), -EINVAL);
    ASSERT(blob2 == NULL);
    ASSERT(back == NULL);
    /* The token never appears in the blob. */
    ASSERT(memmem(blob, len, TOKEN, strlen(TOKEN)) == NULL);
    ASSERT(memmem(blob, len, "PRIVATE KEY", 11) == NULL);
}

TEST(pki, seal_every_bit_flip_and_truncation_fails)
{
    struct srv_pki_cred *ca = new_ca();
    struct srv_pki_cred *back = NULL;
    uint8_t *blob = NULL, *copy;
    size_t len = 0;
    struct err e = {0};

    ASSERT_EQ(srv_pki_seal_ca(ca, TOKEN, &blob, &len, &e), 0);
    unit_defer(mem_free_cb, blob);
    copy = mem_malloc(len);
    ASSERT(copy != NULL);
    unit_defer(mem_free_cb, copy);
    for (size_t i = 0; i < len * 8; i++) {
        int rc;
        memcpy(copy, blob, len);
        copy[i / 8] ^= (uint8_t)(1u << (i % 8));
        rc = srv_pki_open_ca(copy, len, TOKEN, &back, &e);
        ASSERT_MSG(rc == -C8S_ECORRUPT, "bit %zu: %d %s", i, rc, e.msg);
    }
    for (size_t n = 0; n < len; n++) {
        int rc = srv_pki_open_ca(blob, n, TOKEN, &back, &e);
        ASSERT_MSG(rc == -C8S_ECORRUPT, "length %zu: %d %s", n, rc, e.msg);
    }
    ASSERT(back == NULL);
}

/* Recompute the trailing digest after tampering, as an attacker could. */
static void redigest(uint8_t *b, size_t len)
{
    unsigned int n = 0;

    ASSERT(EVP_Digest(b, len - 32, b + len - 32, &n, EVP_sha256(), NULL) == 1);
}

TEST(pki, seal_deliberate_tampering_fails)
{
    static const char secret[] = "-----BEGIN PRIVATE KEY----- and more";
    uint8_t *blob = NULL, *copy, *back = NULL;
    size_t n = 0;
    size_t len = 0;
    struct err e = {0};
    /* ciphertext, tag (set below), nonce, reserved header byte, salt,
     * iteration count (another valid count; one below the floor), check
     * value. */
    struct {
        size_t off;
        int want;
    } cases[] = {{60, -C8S_ECORRUPT}, {0, -C8S_ECORRUPT}, {50, -C8S_ECORRUPT},
                 {6, -C8S_ECORRUPT},  {15, -EACCES},      {10, -EACCES},
                 {9, -C8S_ECORRUPT},  {30, -EACCES}};

    /* The lowest count keeps this test fast; the format is the same. */
    ASSERT_EQ(srv_pki_seal_iter(secret, sizeof secret, TOKEN,
                                SRV_PKI_KDF_ITER_MIN, &blob, &len, &e),
              0);
    unit_defer(mem_free_cb, blob);
    cases[1].off = len - 40;
    copy = mem_malloc(len);
    ASSERT(copy != NULL);
    unit_defer(mem_free_cb, copy);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc;
        memcpy(copy, blob, len);
        copy[cases[i].off] ^= 0x01;
        redigest(copy, len);
        rc = srv_pki_open(copy, len, TOKEN, &back, &n, &e);
        ASSERT_MSG(rc == cases[i].want, "offset %zu: %d (%s)", cases[i].off, rc,
                   e.msg);
    }
    ASSERT(back == NULL);
    /* Untouched, it opens. */
    ASSERT_EQ(srv_pki_open(blob, len, TOKEN, &back, &n, &e), 0);
    ASSERT_UEQ(n, sizeof secret);
    ASSERT_MEM_EQ(back, secret, n);
    srv_pki_free_secret(back, n + 1);
}

TEST(pki, seal_raw_bytes)
{
    uint8_t *blob = NULL, *pt = NULL;
    size_t len = 0, n = 0;

    uint8_t *blob2 = NULL;
    size_t len2 = 0;

    ASSERT_EQ(srv_pki_seal_iter("", 0, TOKEN, SRV_PKI_KDF_ITER_MIN, &blob, &len,
                                NULL),
              0);
    unit_defer(mem_free_cb, blob);
    ASSERT_UEQ(len, SRV_PKI_SEAL_OVERHEAD);
    ASSERT_EQ(srv_pki_open(blob, len, TOKEN, &pt, &n, NULL), 0);
    ASSERT_UEQ(n, 0);
    srv_pki_free_secret(pt, n + 1);
    /* Fresh salt and nonce each time. */
    ASSERT_EQ(srv_pki_seal_iter("", 0, TOKEN, SRV_PKI_KDF_ITER_MIN, &blob2,
                                &len2, NULL),
              0);
    unit_defer(mem_free_cb, blob2);
    ASSERT(memcmp(blob, blob2, 56) != 0);
    /* Counts out of bounds are refused. */
    ASSERT_EQ(srv_pki_seal_iter("", 0, TOKEN, SRV_PKI_KDF_ITER_MIN - 1, &pt, &n,
                                NULL),
              -EINVAL);
    ASSERT_EQ(srv_pki_seal_iter("", 0, TOKEN, SRV_PKI_KDF_ITER_MAX + 1, &pt, &n,
                                NULL),
              -EINVAL);
}

/* ---- TLS ---- */

/* Drive both ends of a non-blocking connection until both finish the
 * handshake (0), or one fails (-1). */
static int handshake_pair(SSL *client, SSL *server)
{
    bool cdone = false, sdone = false;

    for (int i = 0; i < 1000 && !(cdone && sdone); i++) {
        SSL *ends[2] = {client, server};
        bool *done[2] = {&cdone, &sdone};
        for (int k = 0; k < 2; k++) {
            int r, why;
            if (*done[k])
                continue;
            r = SSL_do_handshake(ends[k]);
            if (r == 1) {
                *done[k] = true;
                continue;
            }
            why = SSL_get_error(ends[k], r);
            if (why != SSL_ERROR_WANT_READ && why != SSL_ERROR_WANT_WRITE)
                return -1;
        }
    }
    return cdone && sdone ? 0 : -1;
}

/* Send @msg one way and read it on the other side (non-blocking, bounded). */
static int pass_message(SSL *from, SSL *to, const char *msg)
{
    char buf[64];
    size_t len = strlen(msg);

    if (SSL_write(from, msg, (int)len) != (int)len)
        return -1;
    for (int i = 0; i < 1000; i++) {
        int n = SSL_read(to, buf, sizeof buf);
        if (n > 0)
            return (size_t)n == len && memcmp(buf, msg, len) == 0 ? 0 : -1;
        if (SSL_get_error(to, n) != SSL_ERROR_WANT_READ)
            return -1;
    }
    return -1;
}

/* A client context trusting only @trust, presenting @id (may be NULL). */
static SSL_CTX *client_ctx(const struct srv_pki_cred *trust,
                           const struct srv_pki_cred *id)
{
    static const unsigned char alpn[] = "\x02h2\x08http/1.1";
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    ASSERT(ctx != NULL);
    ASSERT(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trust->cert) == 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    ASSERT(SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) == 0);
    if (id != NULL) {
        ASSERT(SSL_CTX_use_certificate(ctx, id->cert) == 1);
        ASSERT(SSL_CTX_use_PrivateKey(ctx, id->key) == 1);
    }
    return ctx;
}

/* Everything one handshake needs, freed by conn_done(). */
struct conn {
    int fds[2];    /* socketpair: client end, server end. */
    SSL_CTX *cctx; /* Client context. */
    SSL *client;   /* Client end. */
    SSL *server;   /* Server end. */
};

static void conn_done(void *arg)
{
    struct conn *c = arg;

    SSL_free(c->client);
    SSL_free(c->server);
    SSL_CTX_free(c->cctx);
    (void)close(c->fds[0]);
    (void)close(c->fds[1]);
    mem_free(c);
}

static struct conn *conn_new(SSL_CTX *sctx,
                             const struct srv_pki_cred *trust,
                             const struct srv_pki_cred *id,
                             const char *host)
{
    struct conn *c = mem_calloc(1, sizeof *c);

    ASSERT(c != NULL);
    ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c->fds) == 0);
    unit_defer(conn_done, c);
    c->cctx = client_ctx(trust, id);
    c->client = SSL_new(c->cctx);
    c->server = SSL_new(sctx);
    ASSERT(c->client != NULL && c->server != NULL);
    ASSERT(SSL_set1_host(c->client, host) == 1);
    ASSERT(SSL_set_tlsext_host_name(c->client, host) == 1);
    ASSERT(SSL_set_fd(c->client, c->fds[0]) == 1);
    ASSERT(SSL_set_fd(c->server, c->fds[1]) == 1);
    SSL_set_connect_state(c->client);
    SSL_set_accept_state(c->server);
    return c;
}

static void ssl_ctx_free_cb(void *ctx)
{
    SSL_CTX_free(ctx);
}

static SSL_CTX *server_ctx(const struct srv_pki_cred *ca,
                           const struct srv_pki_cred *serving)
{
    SSL_CTX *ctx = NULL;
    struct err e = {0};

    ASSERT_MSG(srv_pki_server_ctx(ca, serving, &ctx, &e) == 0, "%s", e.msg);
    unit_defer(ssl_ctx_free_cb, ctx);
    return ctx;
}

TEST(pki, tls_handshake_with_client_cert)
{
    struct srv_pki_cred *ca = new_ca();
    struct srv_pki_cred *serving = new_serving(ca);
    struct srv_pki_cred *admin = new_client(ca, "admin");
    SSL_CTX *sctx = server_ctx(ca, serving);
    struct conn *c = conn_new(sctx, ca, admin, "localhost");
    const unsigned char *proto;
    unsigned int plen;
    X509 *peer;
    int pos;

    ASSERT_EQ(handshake_pair(c->client, c->server), 0);
    ASSERT_EQ(SSL_get_verify_result(c->client), X509_V_OK);
    ASSERT_EQ(SSL_get_verify_result(c->server), X509_V_OK);
    peer = SSL_get1_peer_certificate(c->server);
    ASSERT(peer != NULL);
    ASSERT_STR_EQ(
        name_entry(X509_get_subject_name(peer), NID_commonName, -1, &pos),
        "admin");
    X509_free(peer);
    SSL_get0_alpn_selected(c->client, &proto, &plen);
    ASSERT_EQ(plen, 8);
    ASSERT_MEM_EQ(proto, "http/1.1", 8);
    ASSERT_EQ(pass_message(c->client, c->server, "ping"), 0);
    ASSERT_EQ(pass_message(c->server, c->client, "pong"), 0);
}

TEST(pki, tls_client_cert_optional_but_checked)
{
    struct srv_pki_cred *ca = new_ca();
    struct srv_pki_cred *other = new_ca();
    struct srv_pki_cred *serving = new_serving(ca);
    struct srv_pki_cred *stranger = new_client(other, "mallory");
    SSL_CTX *sctx = server_ctx(ca, serving);
    struct conn *anon = conn_new(sctx, ca, NULL, "127.0.0.1");
    struct conn *bad = conn_new(sctx, ca, stranger, "localhost");
    struct conn *wrong_host = conn_new(sctx, ca, NULL, "evil.example.com");
    struct conn *wrong_ca = conn_new(sctx, other, NULL, "localhost");
    X509 *peer;

    /* No client certificate: allowed, no peer. */
    ASSERT_EQ(handshake_pair(anon->client, anon->server), 0);
    peer = SSL_get1_peer_certificate(anon->server);
    ASSERT(peer == NULL);
    ASSERT_EQ(pass_message(anon->client, anon->server, "hi"), 0);
    /* A certificate from another CA: the server fails the handshake. */
    ASSERT_EQ(handshake_pair(bad->client, bad->server), -1);
    ASSERT_NE(SSL_get_verify_result(bad->server), X509_V_OK);
    /* The client checks the server's name and CA. */
    ASSERT_EQ(handshake_pair(wrong_host->client, wrong_host->server), -1);
    ASSERT_EQ(handshake_pair(wrong_ca->client, wrong_ca->server), -1);
    ERR_clear_error();
}

TEST(pki, tls_refuses_tls11)
{
    struct srv_pki_cred *ca = new_ca();
    struct srv_pki_cred *serving = new_serving(ca);
    SSL_CTX *sctx = server_ctx(ca, serving);
    struct conn *c = conn_new(sctx, ca, NULL, "localhost");

    ASSERT_EQ(SSL_CTX_get_min_proto_version(sctx), TLS1_2_VERSION);
    ASSERT(SSL_set_max_proto_version(c->client, TLS1_1_VERSION) == 1);
    ASSERT(SSL_set_min_proto_version(c->client, TLS1_VERSION) == 1);
    /* Security level 0 so the client is willing to offer TLS 1.1 at all. */
    SSL_set_security_level(c->client, 0);
    ASSERT_EQ(handshake_pair(c->client, c->server), -1);
    ERR_clear_error();
}

/* ---- kubeconfig ---- */

/* The newest kubectl we can find, or NULL. */
static const char *find_kubectl(void)
{
    static const char *const candidates[] = {
        "/usr/bin/kubectl.1.33", "/usr/lib/google-cloud-sdk/bin/kubectl.1.33",
        "/usr/local/bin/kubectl.1.33", "/usr/bin/kubectl"};

    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++)
        if (access(candidates[i], X_OK) == 0)
            return candidates[i];
    return NULL;
}

/* Base64 of @c's certificate PEM, as the kubeconfig must hold it. */
static char *cert_b64(const struct srv_pki_cred *c)
{
    char *pem, *b64;
    size_t len;

    ASSERT_EQ(srv_pki_cert_pem(c->cert, &pem, &len, NULL), 0);
    b64 = mem_malloc(4 * ((len + 2) / 3) + 1);
    ASSERT(b64 != NULL);
    (void)EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)pem, (int)len);
    mem_free(pem);
    unit_defer(mem_free_cb, b64);
    return b64;
}

TEST(pki, kubeconfig_text)
{
    struct srv_pki_cred *ca = new_ca();
    struct srv_pki_cred *admin = new_client(ca, "admin");
    char *text = NULL;
    size_t len = 0;
    struct err e = {0};

    ASSERT_EQ(
        srv_kubeconfig_render("fd00::1", 6443, ca, admin, &text, &len, &e), 0);
    ASSERT_STR_CONTAINS(text, "server: \"https://[fd00::1]:6443\"");
    ASSERT_STR_CONTAINS(text, "current-context: admin@c8s\n");
    ASSERT_STR_CONTAINS(text, cert_b64(admin));
    ASSERT_STR_CONTAINS(text, cert_b64(ca));
    ASSERT_UEQ(strlen(text), len);
    srv_pki_free_secret(text, len + 1);
    ASSERT_EQ(srv_kubeconfig_render("a\"b", 6443, ca, admin, &text, &len, &e),
              -EINVAL);
    ASSERT_EQ(
        srv_kubeconfig_render("host\nx: y", 1, ca, admin, &text, &len, &e),
        -EINVAL);
    ASSERT_EQ(srv_kubeconfig_render("host", 0, ca, admin, &text, &len, &e),
              -EINVAL);
}

TEST(pki, kubeconfig_accepted_by_kubectl)
{
    const char *dir = unit_tmpdir();
    struct srv_pki_member *m = ensure(dir, NULL);
    const char *path = path_in(dir, "admin.kubeconfig");
    const char *kubectl = find_kubectl();
    char cmd[2 * PATH_MAX + 256], out[65536];
    struct err e = {0};

    ASSERT_MSG(
        srv_kubeconfig_write(path, "127.0.0.1", 6443, m->ca, m->admin, &e) == 0,
        "%s", e.msg);
    ASSERT_UEQ(file_mode(path), 0600);
    if (kubectl == NULL)
        SKIP("no kubectl binary (looked for kubectl.1.33 and kubectl)");
    (void)snprintf(cmd, sizeof cmd,
                   "'%s' --kubeconfig '%s' config view --raw -o "
                   "jsonpath='{.users[0].user.client-certificate-data}' 2>&1",
                   kubectl, path);
    ASSERT_MSG(run(cmd, out, sizeof out) == 0, "kubectl: %s", out);
    ASSERT_STR_EQ(out, cert_b64(m->admin));
    (void)snprintf(cmd, sizeof cmd,
                   "'%s' --kubeconfig '%s' config view --raw -o "
                   "jsonpath='{.clusters[0].cluster.server} "
                   "{.current-context} "
                   "{.clusters[0].cluster.certificate-authority-data}' 2>&1",
                   kubectl, path);
    ASSERT_MSG(run(cmd, out, sizeof out) == 0, "kubectl: %s", out);
    ASSERT_STR_CONTAINS(out, "https://127.0.0.1:6443 admin@c8s ");
    ASSERT_STR_CONTAINS(out, cert_b64(m->ca));
}

UNIT_MAIN()
