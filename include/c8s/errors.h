/* libc8s error codes and the error context its functions fill.
 *
 * Every libc8s function that can fail returns 0 or a negative code: either
 * -errno (e.g. -ENOENT for a missing file, -ETIMEDOUT) or one of the
 * -C8S_E* codes below, which start above 4096 so they never clash with an
 * errno value. The same list is used inside c8s itself. */
#ifndef C8S_ERRORS_H
#define C8S_ERRORS_H

/* Each entry: name, value, message. */
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
    X(BADTOKEN,   4111, "invalid continue token")                              \
    X(OVERLOADED, 4112, "server is overloaded: retry later")                   \
    X(CONFIG,     4113, "invalid client configuration")                        \
    X(HTTP,       4114, "the server answered with an error")

enum {
#define C8S_ERR_ENUM(name, value, msg) C8S_E##name = value,
    C8S_ERR_MAP(C8S_ERR_ENUM)
#undef C8S_ERR_ENUM
};

/* What went wrong, filled by a failing libc8s call (callers may pass NULL
 * when the code is enough). */
struct c8s_error {
    int code;              /* The negative code the call returned. */
    int http_status;       /* HTTP status of the server's answer; 0: none. */
    char reason[64];       /* Kubernetes Status reason ("NotFound", ...). */
    char message[1024];    /* For people: names the file, field or URL. */
};

/* Message for a code, negative or positive, errno or C8S_E*. Never NULL. */
const char *c8s_strerror(int code);

#endif /* C8S_ERRORS_H */
