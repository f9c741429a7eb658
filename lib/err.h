/* Error codes and error context shared by every c8s module. */
#ifndef C8S_LIB_ERR_H
#define C8S_LIB_ERR_H

#include <stdarg.h>

/* Functions return 0 on success or a negative code: either -errno or one of
 * the project codes, listed once, for libc8s's users too, in the public
 * header below (C8S_E*, above 4096 so they never clash with errno). */
#include <c8s/errors.h>

/* Size of the message buffer in struct err. */
#define ERR_MSG_SIZE 1024

/* Context for a failure, filled by the callee only when it fails.
 * Callers may pass NULL when they only need the code. */
struct err {
    int code;               /* Negative errno or -C8S_E* code. */
    char msg[ERR_MSG_SIZE]; /* Human-readable message, innermost last. */
};

/* Message for a code (negative or positive, errno or project code). Never
 * returns NULL. */
const char *err_str(int code);

/* Short symbolic name, e.g. "ENOENT" or "C8S_ECONFLICT". */
const char *err_name(int code);

/* Fill @e (if not NULL) with @code and a formatted message. Returns @code,
 * so a failure is one line: return err_setf(e, -EINVAL, "bad flag %s", f); */
int err_setf(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix existing context in @e with "formatted: ". Returns e->code (or
 * -EINVAL if @e is NULL, which callers avoid). */
int err_wrapf(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset to "no error". */
void err_clear(struct err *e);

#endif /* C8S_LIB_ERR_H */
