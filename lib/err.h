/* Error codes and error context shared by every c8s module. */
#ifndef C8S_LIB_ERR_H
#define C8S_LIB_ERR_H

#include <stdarg.h>

/* Functions return 0 on success or a negative code: either -errno or one of
 * the project codes below. Project codes start above 4096 so they can never
 * clash with an errno value. Each entry: name, value, message. */
#define C8S_ERR_MAP(X)                                                        \
    X(NOTFOUND,   4097, "not found")                                           \
    X(EXISTS,     4098, "already exists")                                      \
    X(CONFLICT,   4099, "resource version conflict")                           \
    X(COMPACTED,  4100, "requested revision has been compacted")               \
    X(TOOOLD,     4101, "watch start revision is older than history")          \
    X(FUTUREREV,  4102, "requested revision is newer than the store")          \
    X(UNKNOWN,    4103, "outcome unknown: the write may or may not commit")    \
    X(NOTLEADER,  4104, "this member is not the leader")                       \
    X(NOLEADER,   4105, "no leader is known")                                  \
    X(CORRUPT,    4106, "data is corrupt")                                     \
    X(MALFORMED,  4107, "malformed input")                                     \
    X(TOOLARGE,   4108, "input exceeds a size limit")                          \
    X(SLOW,       4109, "consumer too slow: buffer limit reached")             \
    X(SHUTDOWN,   4110, "shutting down")                                       \
    X(BADTOKEN,   4111, "invalid continue token")                            \
    X(OVERLOADED, 4112, "server is overloaded: retry later")

enum {
#define C8S_ERR_ENUM(name, value, msg) C8S_E##name = value,
    C8S_ERR_MAP(C8S_ERR_ENUM)
#undef C8S_ERR_ENUM
};

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
