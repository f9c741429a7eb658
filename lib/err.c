/* Error codes and error context. */
#include "lib/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int magnitude(int code)
{
    return code < 0 ? -code : code;
}

const char *err_str(int code)
{
    switch (magnitude(code)) {
    case 0:
        return "success";
#define C8S_ERR_CASE(name, value, msg)                                         \
    case value:                                                                \
        return msg;
        C8S_ERR_MAP(C8S_ERR_CASE)
#undef C8S_ERR_CASE
    default:
        return strerror(magnitude(code));
    }
}

const char *err_name(int code)
{
    switch (magnitude(code)) {
    case 0:
        return "OK";
#define C8S_ERR_NAME(name, value, msg)                                         \
    case value:                                                                \
        return "C8S_E" #name;
        C8S_ERR_MAP(C8S_ERR_NAME)
#undef C8S_ERR_NAME
    default: {
        const char *name = strerrorname_np(magnitude(code));
        return name != NULL ? name : "EUNKNOWN";
    }
    }
}

int err_setf(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return code;
    e->code = code;
    va_start(ap, fmt);
    (void)vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

int err_wrapf(struct err *e, const char *fmt, ...)
{
    char prefix[ERR_MSG_SIZE];
    char inner[ERR_MSG_SIZE];
    va_list ap;

    if (e == NULL)
        return -EINVAL;
    va_start(ap, fmt);
    (void)vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(inner, e->msg, sizeof inner);
    /* Context beyond ERR_MSG_SIZE is cut: the innermost part goes first. */
    if (snprintf(e->msg, sizeof e->msg, "%s: %s", prefix, inner) < 0)
        e->msg[0] = '\0';
    return e->code;
}

void err_clear(struct err *e)
{
    if (e == NULL)
        return;
    e->code = 0;
    e->msg[0] = '\0';
}
