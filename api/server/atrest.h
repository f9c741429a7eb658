/* Secrets encrypted at rest: a Secret's stored bytes are sealed with
 * AES-GCM before they are proposed, so raft log segments, snapshots and
 * `c8sctl snapshot save` files never hold its plaintext; they are opened
 * again when read.
 *
 * Keys:
 *   - by default one key, "c8s-token", derived from the cluster token
 *     (PBKDF2-HMAC-SHA256, a fixed salt, then HKDF): every member started
 *     with the token has it, nothing is copied by hand, and it is never
 *     written anywhere;
 *   - or the aesgcm keys of a kube-apiserver EncryptionConfiguration file
 *     (--encryption-provider-config): the first provider writes (its first
 *     key, or plaintext for identity), every key listed can read. The
 *     token's key can always read too, so a cluster can move from the
 *     default to a file.
 * Values without an envelope are read as they are without a file (stored
 * before encryption), and with a file only when it lists identity (as
 * kube-apiserver): else they are refused, so nobody can downgrade a Secret
 * by writing it in plaintext to the store.
 *
 * Envelope, as kube-apiserver writes it:
 *   "k8s:enc:aesgcm:v1:" NAME ":" nonce(12) ciphertext tag(16)
 * with "/secrets/NAMESPACE/NAME" (the object's key) as additional data, so
 * a sealed value cannot be moved to another Secret. */
#ifndef C8S_API_SERVER_ATREST_H
#define C8S_API_SERVER_ATREST_H

#include <stdbool.h>
#include <stddef.h>

#include "api/object/codec.h"
#include "lib/err.h"

#define SRV_ATREST_MAX_KEYS 16
#define SRV_ATREST_NAME_MAX 64

struct srv_atrest_key {
    char name[SRV_ATREST_NAME_MAX]; /* as written in the envelope */
    unsigned char secret[32];       /* AES key */
    size_t len;                     /* 16, 24 or 32 */
};

struct srv_atrest {
    bool write_plain;   /* the first provider is identity */
    bool read_plain;    /* values without an envelope are read: without a
                           file (Secrets stored before encryption), or
                           when the file lists identity */
    struct srv_atrest_key keys[SRV_ATREST_MAX_KEYS]; /* [0] writes */
    size_t n;
};

/* The keys for @token, and those of the EncryptionConfiguration at
 * @config_path (NULL: none). Errors name the file and what is wrong:
 * unknown providers, resources other than secrets, bad keys. */
int srv_atrest_init(struct srv_atrest *a, const char *token,
                    const char *config_path, struct err *e);
/* Wipe the keys. */
void srv_atrest_done(struct srv_atrest *a);

/* Seal @len bytes at @plain, the stored form of Secret @ns/@name, into
 * @out (appended). Plaintext is copied as is when writing plain. 0 or
 * -ENOMEM. */
int srv_atrest_seal(const struct srv_atrest *a, const char *ns,
                    const char *name, const void *plain, size_t len,
                    struct obj_buf *out);

/* Whether @data is a sealed value. */
bool srv_atrest_sealed(const void *data, size_t len);

/* Open sealed @data of Secret @ns/@name into @out (appended). -EACCES
 * when no key of that name is known, -C8S_ECORRUPT when the value does not
 * open (damaged, or moved from another key), -ENOMEM; @e says which. */
int srv_atrest_open(const struct srv_atrest *a, const char *ns,
                    const char *name, const void *data, size_t len,
                    struct obj_buf *out, struct err *e);

#endif /* C8S_API_SERVER_ATREST_H */
