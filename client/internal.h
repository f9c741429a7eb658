/* Helpers shared by libc8s's sources; not exported (the version script
 * exports only c8s_* names, and these are client__*). */
#ifndef C8S_CLIENT_INTERNAL_H
#define C8S_CLIENT_INTERNAL_H

#include <stddef.h>

#include <c8s/errors.h>

/* Read a whole regular file of at most @max bytes into *@ret (NUL added,
 * not counted in *@ret_len). Errors name the file. */
int client__read_file(const char *path, size_t max, char **ret,
                      size_t *ret_len, struct c8s_error *err);

#endif /* C8S_CLIENT_INTERNAL_H */
