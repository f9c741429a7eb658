/* Helpers shared by the pki*.c files only. */
#ifndef C8S_API_SERVER_PKI_INTERNAL_H
#define C8S_API_SERVER_PKI_INTERNAL_H

#include "api/server/pki.h"

/* err_setf() with OpenSSL's most recent reason appended (": reason"), then
 * the OpenSSL error queue cleared so a later failure does not report a stale
 * reason. Returns @code. */
int srv__pki_ossl_errf(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* err_wrapf() that tolerates a NULL @e and returns @code. */
int srv__pki_wrapf(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A cred from a certificate and a key whose references move into it (only
 * on success). -C8S_ECORRUPT (naming @what) if the key does not match. */
int srv__pki_cred_make(X509 *cert,
                       EVP_PKEY *key,
                       const char *what,
                       struct srv_pki_cred **ret,
                       struct err *e);

#endif /* C8S_API_SERVER_PKI_INTERNAL_H */
