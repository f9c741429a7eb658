/* Public error messages (c8s/errors.h), from the tree's one list. */
#include <c8s/errors.h>

#include "lib/err.h"

const char *c8s_strerror(int code)
{
    return err_str(code);
}

#include <c8s/c8s.h>

const char *c8s_version(void)
{
    return PACKAGE_VERSION;
}
