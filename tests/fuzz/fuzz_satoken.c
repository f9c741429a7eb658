/* libFuzzer target: ServiceAccount token verification (api/server/satoken.c).
 *
 * Build (from the top of the tree, after configure made config.h in BUILD):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include BUILD/config.h -iquote . -Iinclude tests/fuzz/fuzz_satoken.c \
 *     api/server/satoken.c api/object/\*.c BUILD/api/object/schemas.c \
 *     lib/\*.c -lyajl -lyaml -lmsgpackc -lcrypto
 * Input: a first byte choosing the mode, then either (0) a bearer token as
 * a client sends it, or (1) a JWT header, a NUL byte and a payload, which
 * are signed with the issuer's key first so the claim checks behind the
 * signature are reached. Properties: no crash, hang or leak; a refusal
 * always says why; an accepted token's claims are bounded strings. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "api/server/satoken.h"
#include "lib/mem.h"

#define NOW 1790000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed CA key (made for this file only), so every run derives the
 * same token key. */
static const char ca_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgJp4WpEgcrMzDayK7\n"
    "aPu9xDbG/bVE3+FafhMqRVsqE9ahRANCAAQc3+2xmMnY0nAyhDyhgeD0W9DMIvTf\n"
    "pglrTbHqqsEax7ylApPG2DYJMW5fGy8Nd6eIH4EE8Cywv7ruXOyi+DBA\n"
    "-----END PRIVATE KEY-----\n";

static struct srv_satoken *issuer(void)
{
    static struct srv_satoken st;
    static int ready;

    if (!ready) {
        BIO *b = BIO_new_mem_buf(ca_pem, -1);
        EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
        struct err e = {0};
        assert(k != NULL && srv_satoken_init(&st, k, &e) == 0);
        EVP_PKEY_free(k);
        BIO_free(b);
        ready = 1;
    }
    return &st;
}

static void check(const char *token, size_t len)
{
    struct srv_satoken_claims c;
    struct err e = {0};

    if (srv_satoken_verify(issuer(), token, len, NOW, SRV_SATOKEN_ISSUER, &c,
                           &e) != 0) {
        assert(e.msg[0] != '\0');
        return;
    }
    assert(strlen(c.ns) <= SRV_SATOKEN_STR_MAX && c.ns[0] != '\0');
    assert(strlen(c.name) <= SRV_SATOKEN_STR_MAX && c.name[0] != '\0');
    assert(c.n_audiences >= 1 && c.n_audiences <= SRV_SATOKEN_AUD_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul;
    char *token = NULL;

    if (size < 1)
        return 0;
    if (data[0] % 2 == 0) {
        check((const char *)data + 1, size - 1);
        return 0;
    }
    nul = memchr(data + 1, '\0', size - 1);
    if (nul == NULL)
        return 0;
    if (srv__satoken_sign_json(issuer(), (const char *)data + 1,
                               (size_t)(nul - (const char *)data - 1), nul + 1,
                               size - (size_t)(nul + 1 - (const char *)data),
                               &token) != 0)
        return 0;
    check(token, strlen(token));
    mem_free(token);
    return 0;
}
