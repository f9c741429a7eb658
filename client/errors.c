/* Public error messages (c8s/errors.h), from the tree's one list. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <c8s/c8s.h>

#include "client/internal.h"
#include "lib/err.h"

const char *c8s_strerror(int code)
{
    return err_str(code);
}

const char *c8s_version(void)
{
    return PACKAGE_VERSION;
}

int client__fail(struct c8s_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL) {
        memset(err, 0, sizeof *err);
        err->code = code;
        va_start(ap, fmt);
        (void)vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}
