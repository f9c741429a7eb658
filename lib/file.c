/* Durable small-file writes (lib/file.h). */
#include "lib/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write all of @len bytes, retrying short writes and EINTR. */
static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync the folder holding @path so a rename into it is durable. */
static int fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd, rc = 0;

    if (slash == NULL)
        (void)snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        (void)snprintf(dir, sizeof dir, "/");
    else
        (void)snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        rc = -errno;
    (void)close(fd);
    return rc;
}

int file_write_atomic(const char *path, const void *data, size_t len,
                      unsigned mode, struct err *e)
{
    char tmp[PATH_MAX];
    int fd, rc;

    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return err_setf(e, -ENAMETOOLONG, "%s: path too long", path);
    /* mkostemp() creates with O_EXCL and mode 0600: the content is never
     * readable by others, even before the fchmod(). */
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return err_setf(e, -errno, "%s: creating a temporary file: %s", path,
                        strerror(errno));
    rc = fchmod(fd, (mode_t)mode) < 0 ? -errno : 0;
    if (rc == 0)
        rc = write_all(fd, data, len);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0) {
        (void)unlink(tmp);
        return err_setf(e, rc, "%s: writing: %s", path, strerror(-rc));
    }
    rc = fsync_parent(path);
    if (rc < 0)
        return err_setf(e, rc, "%s: syncing its folder: %s", path,
                        strerror(-rc));
    return 0;
}
