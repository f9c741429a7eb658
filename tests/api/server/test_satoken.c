/* Tests for api/server/satoken: ServiceAccount JWTs, issued and verified. */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/server/pki.h"
#include "api/server/satoken.h"
#include "lib/mem.h"
#include "tests/lib/unit.h"

#define NOW 1790000000LL

static struct srv_satoken st;
static EVP_PKEY *ca_key;

static void setup(void)
{
    struct err e = {0};

    ASSERT_EQ(srv_pki_key_generate(&ca_key, &e), 0);
    ASSERT_EQ(srv_satoken_init(&st, ca_key, &e), 0);
}

static void teardown(void)
{
    srv_satoken_done(&st);
    EVP_PKEY_free(ca_key);
}

static struct srv_satoken_claims claims(void)
{
    struct srv_satoken_claims c;

    memset(&c, 0, sizeof c);
    strcpy(c.ns, "team-a");
    strcpy(c.name, "builder");
    strcpy(c.uid, "0c4b2f1e-5d3a-4c8e-9f10-2a3b4c5d6e7f");
    strcpy(c.audiences[0], SRV_SATOKEN_ISSUER);
    c.n_audiences = 1;
    c.iat = NOW;
    c.exp = NOW + 3600;
    return c;
}

static char *issue(const struct srv_satoken_claims *c)
{
    struct err e = {0};
    char *t = NULL;

    ASSERT_EQ(srv_satoken_issue(&st, c, &t, &e), 0);
    return t;
}

static int verify(const char *t, int64_t now, struct srv_satoken_claims *out,
                  struct err *e)
{
    return srv_satoken_verify(&st, t, strlen(t), now, SRV_SATOKEN_ISSUER, out,
                              e);
}

/* Sign our own header and payload, as an attacker holding the key could:
 * to reach the claim checks behind the signature. */
static char *signed_json(const char *header, const char *payload)
{
    char *t = NULL;

    ASSERT_EQ(srv__satoken_sign_json(&st, header, strlen(header), payload,
                                     strlen(payload), &t),
              0);
    return t;
}

TEST(satoken, an_issued_token_verifies_and_says_who)
{
    struct srv_satoken_claims c = claims(), got;
    struct err e = {0};
    char *t;

    setup();
    t = issue(&c);
    ASSERT(srv_satoken_looks_like_jwt(t, strlen(t)));
    ASSERT_EQ(verify(t, NOW + 10, &got, &e), 0);
    ASSERT_STR_EQ(got.ns, "team-a");
    ASSERT_STR_EQ(got.name, "builder");
    ASSERT_STR_EQ(got.uid, c.uid);
    ASSERT_EQ(got.exp, NOW + 3600);
    ASSERT_STR_EQ(got.bound_kind, "");
    /* A header any JWT library reads: {"alg":"ES256","kid":...}. */
    ASSERT(strncmp(t, "eyJhbGciOiJFUzI1NiIsImtpZCI6", 28) == 0);
    mem_free(t);
    teardown();
}

TEST(satoken, bound_tokens_name_their_object)
{
    struct srv_satoken_claims c = claims(), got;
    struct err e = {0};
    char *t;

    setup();
    strcpy(c.bound_kind, "Pod");
    strcpy(c.bound_name, "web-1");
    strcpy(c.bound_uid, "pod-uid");
    t = issue(&c);
    ASSERT_EQ(verify(t, NOW, &got, &e), 0);
    ASSERT_STR_EQ(got.bound_kind, "Pod");
    ASSERT_STR_EQ(got.bound_name, "web-1");
    ASSERT_STR_EQ(got.bound_uid, "pod-uid");
    mem_free(t);
    teardown();
}

TEST(satoken, expired_early_and_foreign_tokens_are_refused)
{
    struct srv_satoken_claims c = claims(), got;
    struct err e = {0};
    char *t;

    setup();
    t = issue(&c);
    ASSERT_EQ(verify(t, NOW + 3600 + SRV_SATOKEN_LEEWAY, &got, &e), -EACCES);
    ASSERT_STR_CONTAINS(e.msg, "expired");
    ASSERT_EQ(verify(t, NOW + 3600 + SRV_SATOKEN_LEEWAY - 1, &got, &e), 0);
    ASSERT_EQ(verify(t, NOW - SRV_SATOKEN_LEEWAY - 1, &got, &e), -EACCES);
    ASSERT_STR_CONTAINS(e.msg, "not valid yet");
    ASSERT_EQ(srv_satoken_verify(&st, t, strlen(t), NOW, "https://other",
                                 &got, &e),
              -EACCES);
    ASSERT_STR_CONTAINS(e.msg, "audience");
    mem_free(t);

    /* Another cluster's key: the signature fails. */
    struct srv_satoken other;
    EVP_PKEY *k2;
    ASSERT_EQ(srv_pki_key_generate(&k2, &e), 0);
    ASSERT_EQ(srv_satoken_init(&other, k2, &e), 0);
    ASSERT_EQ(srv_satoken_issue(&other, &c, &t, &e), 0);
    ASSERT_EQ(verify(t, NOW, &got, &e), -EACCES);
    ASSERT_STR_CONTAINS(e.msg, "bad signature");
    mem_free(t);
    srv_satoken_done(&other);
    EVP_PKEY_free(k2);
    teardown();
}

/* The same CA key gives the same token key: every member verifies what
 * any member issued. */
TEST(satoken, the_key_follows_the_ca)
{
    struct srv_satoken again;
    struct srv_satoken_claims c = claims(), got;
    struct err e = {0};
    char *t;

    setup();
    ASSERT_EQ(srv_satoken_init(&again, ca_key, &e), 0);
    ASSERT_STR_EQ(again.kid, st.kid);
    ASSERT_EQ(srv_satoken_issue(&again, &c, &t, &e), 0);
    ASSERT_EQ(verify(t, NOW, &got, &e), 0);
    mem_free(t);
    srv_satoken_done(&again);
    teardown();
}

TEST(satoken, tampered_and_malformed_tokens_are_refused)
{
    struct srv_satoken_claims c = claims(), got;
    struct err e = {0};
    char *t, *dot;

    setup();
    t = issue(&c);
    /* One character of the payload changed. */
    dot = strchr(t, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    ASSERT_EQ(verify(t, NOW, &got, &e), -EACCES);
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    /* The signature cut short, or with a byte too many. */
    size_t n = strlen(t);
    t[n - 1] = '\0';
    ASSERT_EQ(verify(t, NOW, &got, &e), -EACCES);
    mem_free(t);
    static const char *const bad[] = {
        "", ".", "..", "a.b", "a.b.c.d", "eyJ.eyJ.", "!!!.@@@.###",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", /* alg none */
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", /* HS256 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_EQ(verify(bad[i], NOW, &got, &e), -EACCES);
    }
    teardown();
}

/* Claims checked behind a valid signature: everything a token must say. */
TEST(satoken, claims_must_be_complete_and_agree)
{
    static const char *const hdr = "{\"alg\":\"ES256\"}";
    struct srv_satoken_claims got;
    struct err e = {0};
    char payload[1024];
    char *t;
    static const struct {
        const char *iss, *aud, *sub, *k8s;
        const char *why;
    } cases[] = {
        {"\"x\"", "[\"" SRV_SATOKEN_ISSUER "\"]", "\"system:serviceaccount:a:b\"",
         "{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"b\",\"uid\":\"u\"}}",
         "issuer"},
        {"\"" SRV_SATOKEN_ISSUER "\"", "[]", "\"system:serviceaccount:a:b\"",
         "{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"b\",\"uid\":\"u\"}}",
         "audience"},
        {"\"" SRV_SATOKEN_ISSUER "\"", "[\"" SRV_SATOKEN_ISSUER "\"]",
         "\"system:serviceaccount:a:c\"",
         "{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"b\",\"uid\":\"u\"}}",
         "ServiceAccount"},
        {"\"" SRV_SATOKEN_ISSUER "\"", "[\"" SRV_SATOKEN_ISSUER "\"]",
         "\"system:serviceaccount:a:b\"",
         "{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"b\"}}",
         "ServiceAccount"},
        {"\"" SRV_SATOKEN_ISSUER "\"", "[\"" SRV_SATOKEN_ISSUER "\"]",
         "\"system:serviceaccount:a:b:c\"",
         "{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"b:c\","
         "\"uid\":\"u\"}}",
         "ServiceAccount"},
    };

    setup();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(payload, sizeof payload,
                 "{\"iss\":%s,\"aud\":%s,\"sub\":%s,\"exp\":%lld,"
                 "\"kubernetes.io\":%s}",
                 cases[i].iss, cases[i].aud, cases[i].sub, NOW + 100,
                 cases[i].k8s);
        t = signed_json(hdr, payload);
        ASSERT_EQ(verify(t, NOW, &got, &e), -EACCES);
        ASSERT_STR_CONTAINS(e.msg, cases[i].why);
        mem_free(t);
    }
    /* The same with everything right, aud as a single string: accepted. */
    snprintf(payload, sizeof payload,
             "{\"iss\":\"" SRV_SATOKEN_ISSUER "\",\"aud\":\"" SRV_SATOKEN_ISSUER
             "\",\"sub\":\"system:serviceaccount:a:b\",\"exp\":%lld,"
             "\"kubernetes.io\":{\"namespace\":\"a\",\"serviceaccount\":"
             "{\"name\":\"b\",\"uid\":\"u\"}}}",
             NOW + 100);
    t = signed_json(hdr, payload);
    ASSERT_EQ(verify(t, NOW, &got, &e), 0);
    mem_free(t);
    /* No exp at all; a huge exp does not overflow into the past. */
    t = signed_json(hdr, "{\"iss\":\"" SRV_SATOKEN_ISSUER "\",\"aud\":\""
                         SRV_SATOKEN_ISSUER "\"}");
    ASSERT_EQ(verify(t, NOW, &got, &e), -EACCES);
    mem_free(t);
    t = signed_json(hdr, "{\"iss\":\"" SRV_SATOKEN_ISSUER "\",\"aud\":\""
                         SRV_SATOKEN_ISSUER "\",\"exp\":-9223372036854775808}");
    ASSERT_EQ(verify(t, NOW, &got, &e), -EACCES);
    mem_free(t);
    /* Extremes of exp and nbf: refused or checked without overflow (UBSan
     * would stop here). */
    t = signed_json(hdr, "{\"iss\":\"" SRV_SATOKEN_ISSUER "\",\"aud\":\""
                         SRV_SATOKEN_ISSUER "\",\"exp\":9223372036854775807,"
                         "\"nbf\":9223372036854775807}");
    ASSERT_EQ(verify(t, NOW, &got, &e), -EACCES);
    ASSERT_STR_CONTAINS(e.msg, "not valid yet");
    mem_free(t);
    t = signed_json(hdr, "{\"iss\":\"" SRV_SATOKEN_ISSUER "\",\"aud\":\""
                         SRV_SATOKEN_ISSUER "\",\"exp\":9223372036854775807,"
                         "\"nbf\":-9223372036854775807}");
    ASSERT_EQ(verify(t, NOW, &got, &e), -EACCES); /* no kubernetes.io */
    ASSERT_STR_CONTAINS(e.msg, "ServiceAccount");
    mem_free(t);
    teardown();
}

UNIT_MAIN()
