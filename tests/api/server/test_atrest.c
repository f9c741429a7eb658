/* Secrets at rest (api/server/atrest.c): sealing and opening with the
 * token's key or an EncryptionConfiguration's, the envelope bound to its
 * object, and clear errors for bad configuration files. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/server/atrest.h"
#include "tests/lib/unit.h"

#define PLAIN "secret bytes: c8s-canary-4711"

/* base64 of 32 and 16 bytes. */
#define KEY32 "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define KEY16 "MDEyMzQ1Njc4OWFiY2RlZg=="

static const char *config(const char *yaml)
{
    static char path[2200];
    FILE *f;

    snprintf(path, sizeof path, "%.1000s/enc.yaml", unit_tmpdir());
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(yaml, f);
    fclose(f);
    return path;
}

#define CONFIG(providers)                                                     \
    "apiVersion: apiserver.config.k8s.io/v1\n"                                \
    "kind: EncryptionConfiguration\n"                                         \
    "resources:\n"                                                            \
    "  - resources: [secrets]\n"                                              \
    "    providers:\n" providers

static void seal(const struct srv_atrest *a, const char *ns, const char *name,
                 struct obj_buf *out)
{
    obj_buf_init(out);
    ASSERT_EQ(srv_atrest_seal(a, ns, name, PLAIN, strlen(PLAIN), out), 0);
}

TEST(atrest, the_token_key_seals_and_opens)
{
    struct srv_atrest a, other;
    struct obj_buf b, p;
    struct err e = {0};

    ASSERT_EQ(srv_atrest_init(&a, "token-1", NULL, &e), 0);
    ASSERT(a.read_plain); /* no file: Secrets stored before are read */
    seal(&a, "default", "s", &b);
    ASSERT(srv_atrest_sealed(b.data, b.len));
    ASSERT(strncmp(b.data, "k8s:enc:aesgcm:v1:c8s-token:", 28) == 0);
    ASSERT(memmem(b.data, b.len, "canary", 6) == NULL);
    obj_buf_init(&p);
    ASSERT_EQ(srv_atrest_open(&a, "default", "s", b.data, b.len, &p, &e), 0);
    ASSERT_EQ(p.len, strlen(PLAIN));
    ASSERT(memcmp(p.data, PLAIN, p.len) == 0);
    /* Another member with the same token opens it; another token not. */
    ASSERT_EQ(srv_atrest_init(&other, "token-1", NULL, &e), 0);
    p.len = 0;
    ASSERT_EQ(srv_atrest_open(&other, "default", "s", b.data, b.len, &p, &e),
              0);
    srv_atrest_done(&other);
    ASSERT_EQ(srv_atrest_init(&other, "token-2", NULL, &e), 0);
    ASSERT_EQ(srv_atrest_open(&other, "default", "s", b.data, b.len, &p, &e),
              -C8S_ECORRUPT);
    srv_atrest_done(&other);
    obj_buf_done(&p);
    obj_buf_done(&b);
    srv_atrest_done(&a);
}

TEST(atrest, a_sealed_value_belongs_to_its_object)
{
    struct srv_atrest a;
    struct obj_buf b, p;
    struct err e = {0};

    ASSERT_EQ(srv_atrest_init(&a, "t", NULL, &e), 0);
    seal(&a, "default", "s", &b);
    obj_buf_init(&p);
    ASSERT_EQ(srv_atrest_open(&a, "default", "other", b.data, b.len, &p, &e),
              -C8S_ECORRUPT);
    ASSERT_EQ(srv_atrest_open(&a, "kube-system", "s", b.data, b.len, &p, &e),
              -C8S_ECORRUPT);
    /* One flipped bit anywhere: refused. */
    b.data[b.len - 3] ^= 1;
    ASSERT_EQ(srv_atrest_open(&a, "default", "s", b.data, b.len, &p, &e),
              -C8S_ECORRUPT);
    /* Cut short. */
    ASSERT_EQ(srv_atrest_open(&a, "default", "s", b.data, 40, &p, &e),
              -C8S_ECORRUPT);
    obj_buf_done(&p);
    obj_buf_done(&b);
    srv_atrest_done(&a);
}

TEST(atrest, a_config_file_rotates_keys)
{
    struct srv_atrest one, two_one, two, plain;
    struct obj_buf b1, b2, p;
    struct err e = {0};

    ASSERT_MSG(srv_atrest_init(&one, "t",
                               config(CONFIG("      - aesgcm:\n"
                                             "          keys:\n"
                                             "            - {name: one, secret: " KEY32 "}\n")),
                               &e) == 0,
               "%s", e.msg);
    seal(&one, "ns", "s", &b1);
    ASSERT(strncmp(b1.data, "k8s:enc:aesgcm:v1:one:", 22) == 0);
    ASSERT(!one.read_plain); /* no identity listed: plaintext is refused */
    ASSERT_MSG(srv_atrest_init(&two_one, "t",
                               config(CONFIG("      - aesgcm:\n"
                                             "          keys:\n"
                                             "            - {name: two, secret: " KEY16 "}\n"
                                             "            - {name: one, secret: " KEY32 "}\n")),
                               &e) == 0,
               "%s", e.msg);
    obj_buf_init(&p);
    ASSERT_EQ(srv_atrest_open(&two_one, "ns", "s", b1.data, b1.len, &p, &e), 0);
    seal(&two_one, "ns", "s", &b2); /* written again: with the new key */
    ASSERT(strncmp(b2.data, "k8s:enc:aesgcm:v1:two:", 22) == 0);
    ASSERT_EQ(srv_atrest_init(&two, "t",
                              config(CONFIG("      - aesgcm:\n"
                                            "          keys:\n"
                                            "            - {name: two, secret: " KEY16 "}\n")),
                              &e),
              0);
    p.len = 0;
    ASSERT_EQ(srv_atrest_open(&two, "ns", "s", b2.data, b2.len, &p, &e), 0);
    ASSERT_EQ(srv_atrest_open(&two, "ns", "s", b1.data, b1.len, &p, &e),
              -EACCES);
    ASSERT(strstr(e.msg, "key \"one\"") != NULL);
    /* identity first: written as is; the token's key still reads. */
    ASSERT_EQ(srv_atrest_init(&plain, "t",
                              config(CONFIG("      - identity: {}\n"
                                            "      - aesgcm:\n"
                                            "          keys:\n"
                                            "            - {name: two, secret: " KEY16 "}\n")),
                              &e),
              0);
    obj_buf_done(&b1);
    seal(&plain, "ns", "s", &b1);
    ASSERT_EQ(b1.len, strlen(PLAIN));
    ASSERT(!srv_atrest_sealed(b1.data, b1.len));
    ASSERT(plain.read_plain);
    obj_buf_done(&p);
    obj_buf_done(&b1);
    obj_buf_done(&b2);
    srv_atrest_done(&one);
    srv_atrest_done(&two_one);
    srv_atrest_done(&two);
    srv_atrest_done(&plain);
}

TEST(atrest, bad_config_files_are_refused_clearly)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"kind: Other\n", "not an EncryptionConfiguration"},
        {CONFIG("      - aescbc:\n          keys: [{name: a, secret: " KEY32
                "}]\n"),
         "provider \"aescbc\" is not supported"},
        {CONFIG("      - aesgcm:\n          keys: [{name: a, secret: c2hvcnQ=}]\n"),
         "16, 24 or 32 random bytes"},
        {CONFIG("      - aesgcm:\n          keys: [{name: a, secret: " KEY32
                "}, {name: a, secret: " KEY16 "}]\n"),
         "used twice"},
        {CONFIG("      - aesgcm:\n          keys: [{name: 'a:b', secret: " KEY32
                "}]\n"),
         "without ':'"},
        {CONFIG("      - aesgcm: {}\n"), "needs keys"},
        {"kind: EncryptionConfiguration\nresources:\n  - resources: [configmaps]\n"
         "    providers: [{identity: {}}]\n",
         "secrets only"},
        {"kind: EncryptionConfiguration\nresources: [\n", ""},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct srv_atrest a;
        struct err e = {0};
        const char *path = config(cases[i].yaml);

        ASSERT_EQ(srv_atrest_init(&a, "t", path, &e), -EINVAL);
        ASSERT_MSG(strstr(e.msg, cases[i].want) != NULL, "%s", e.msg);
        ASSERT_MSG(strstr(e.msg, "enc.yaml") != NULL, "%s", e.msg);
    }
    struct srv_atrest a;
    struct err e = {0};
    ASSERT_EQ(srv_atrest_init(&a, "t", "/nonexistent/enc.yaml", &e), -ENOENT);
    ASSERT(strstr(e.msg, "/nonexistent/enc.yaml") != NULL);
}

UNIT_MAIN()
