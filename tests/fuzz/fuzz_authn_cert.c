/* libFuzzer target: the user of a client certificate (api/server/authn.c).
 *
 * Build (from the top of the tree, after configure made config.h in BUILD):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include BUILD/config.h -iquote . -Iinclude \
 *     tests/fuzz/fuzz_authn_cert.c api/server/authn.c lib/\*.c -lcrypto
 * Input: a DER certificate (as a TLS client presents it; the chain check
 * happens before, in the handshake). Properties: no crash, hang or leak;
 * a user is a non-empty NUL-free name and groups that fit, and is in
 * system:authenticated. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include <openssl/x509.h>

#include "api/server/authn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* authn.c's request side is not under test here: no HTTP server is linked,
 * so its two accessors answer "absent". */
const char *srv_req_header(const struct srv_req *req, const char *name)
{
    (void)req;
    (void)name;
    return NULL;
}

X509 *srv_req_peer_cert(const struct srv_req *req)
{
    (void)req;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const unsigned char *p = data;
    X509 *cert = d2i_X509(NULL, &p, (long)size);
    struct srv_user u;

    if (cert == NULL)
        return 0;
    if (srv_authn_cert_user(cert, &u)) {
        assert(u.name[0] != '\0' && strlen(u.name) < SRV_USER_NAME_MAX);
        assert(u.n_groups >= 1 && u.n_groups <= SRV_USER_GROUPS_MAX);
        assert(strcmp(u.groups[u.n_groups - 1], "system:authenticated") == 0);
    }
    X509_free(cert);
    return 0;
}
