/* Durable small-file writes. */
#ifndef C8S_LIB_FILE_H
#define C8S_LIB_FILE_H

#include <stddef.h>

#include "lib/err.h"

/* Write @len bytes to @path atomically with @mode: a new temporary file in
 * the same folder (O_EXCL, so never through a symlink), fsync, rename over
 * @path, fsync of the folder. A reader sees the old or the new content, and
 * once this returns 0 the new content survives a power cut. */
int file_write_atomic(const char *path, const void *data, size_t len,
                      unsigned mode, struct err *e);

#endif /* C8S_LIB_FILE_H */
