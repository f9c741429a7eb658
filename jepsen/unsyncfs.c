/* unsyncfs: a FUSE file system over a backing directory that can forget
 * every write not yet made durable, the way a machine losing power does
 * (Jepsen's lazyfs, written for the `lose` nemesis of jepsen/run).
 *
 *   unsyncfs BACKING MOUNTPOINT
 *
 * Runs in the foreground until unmounted (umount MOUNTPOINT, or SIGTERM).
 * Writes go straight to the backing file, but before a file's first change
 * since its last fsync/fdatasync the file keeps its size, and before every
 * write the bytes it overwrites below that size: an undo log per file.
 * fsync drops the log (the file is durable as it is). Writing "drop" to
 * MOUNTPOINT/.unsyncfs replays every log backwards, so each file is again
 * as it was at its last fsync (a file never synced becomes empty); reading
 * it prints what is pending. Truncate and fallocate count as unsynced
 * changes too. Names (create, rename, unlink) are not undone: a directory
 * fsync is not modelled.
 *
 * UNSYNCFS_TRACE=1 in the environment logs opens, creates, fsyncs and
 * fallocates to stderr (how one sees what a program syncs).
 *
 * Single-threaded (fuse -s), so no locking. Writes are not cached by the
 * kernel (FUSE writes through), its page cache is dropped on open and
 * attributes are not cached, so nothing the kernel held outlives a drop. */
#define FUSE_USE_VERSION 31
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#define CONTROL "/.unsyncfs"
#define CONTROL_FH ((uint64_t)-1)

/* Bytes a write overwrote, to put back. */
struct extent {
    off_t off;
    size_t len;
    struct extent *prev;     /* Older one: replayed after this. */
    char old[];
};

/* A file changed since its last fsync. */
struct undo {
    dev_t dev;
    ino_t ino;
    int fd;                  /* Own descriptor: survives renames. */
    off_t synced_size;       /* Size at the last fsync. */
    struct extent *newest;
    size_t bytes;            /* Held in extents. */
    struct undo *next;
};

static int backing = -1;     /* The backing directory. */
static bool tracing;         /* UNSYNCFS_TRACE set: log opens, creates,
                              * fsyncs and fallocates to stderr. */
static struct undo *undos;
static unsigned long long drops, files_dropped, bytes_dropped;
static unsigned long long last_files, last_bytes; /* Of the last drop. */

#define TRACE(...)                                                             \
    do {                                                                       \
        if (tracing)                                                           \
            fprintf(stderr, "unsyncfs: " __VA_ARGS__);                         \
    } while (0)

/* "/a/b" → "a/b", "/" → ".": relative to the backing directory. */
static const char *rel(const char *path)
{
    return path[1] == '\0' ? "." : path + 1;
}

static struct undo *undo_find(dev_t dev, ino_t ino, struct undo ***link)
{
    struct undo **l = &undos;

    for (; *l != NULL; l = &(*l)->next)
        if ((*l)->dev == dev && (*l)->ino == ino)
            break;
    if (link != NULL)
        *link = l;
    return *l;
}

static void undo_free(struct undo *u)
{
    while (u->newest != NULL) {
        struct extent *e = u->newest;
        u->newest = e->prev;
        free(e);
    }
    close(u->fd);
    free(u);
}

/* The undo log of the file open as @fd, made on its first change. */
static struct undo *undo_of(int fd, int *err)
{
    struct stat st;
    struct undo *u;

    if (fstat(fd, &st) != 0) {
        *err = -errno;
        return NULL;
    }
    u = undo_find(st.st_dev, st.st_ino, NULL);
    if (u != NULL)
        return u;
    u = calloc(1, sizeof *u);
    if (u == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    /* Through /proc: @fd may be write-only, and the log must read. */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    u->fd = open(self, O_RDWR | O_CLOEXEC);
    if (u->fd < 0) {
        *err = -errno;
        free(u);
        return NULL;
    }
    u->dev = st.st_dev;
    u->ino = st.st_ino;
    u->synced_size = st.st_size;
    u->next = undos;
    undos = u;
    return u;
}

/* Keep the bytes of [off, off + len) below the synced size. */
static int undo_save(struct undo *u, off_t off, size_t len)
{
    struct extent *e;
    ssize_t n;

    if (off >= u->synced_size)
        return 0;
    if ((off_t)len > u->synced_size - off)
        len = (size_t)(u->synced_size - off);
    e = malloc(sizeof *e + len);
    if (e == NULL)
        return -ENOMEM;
    n = pread(u->fd, e->old, len, off);
    if (n < 0) {
        free(e);
        return -errno;
    }
    e->off = off;
    e->len = (size_t)n; /* Shorter if the file was truncated meanwhile. */
    e->prev = u->newest;
    u->newest = e;
    u->bytes += e->len;
    return 0;
}

/* Put @u's file back as it was at its last fsync; 0 or -errno. */
static int undo_replay(struct undo *u)
{
    const char *what = NULL;
    int err = 0;

    for (struct extent *e = u->newest; e != NULL && what == NULL; e = e->prev)
        if (pwrite(u->fd, e->old, e->len, e->off) != (ssize_t)e->len)
            what = "restoring";
    if (what == NULL && ftruncate(u->fd, u->synced_size) != 0)
        what = "truncating";
    /* The restored state is the durable one now. */
    if (what == NULL && fsync(u->fd) != 0)
        what = "syncing";
    if (what != NULL) {
        err = errno != 0 ? -errno : -EIO;
        fprintf(stderr, "unsyncfs: %s inode %llu: %s\n", what,
                (unsigned long long)u->ino, strerror(-err));
    }
    return err;
}

/* Every file back to its last fsync; -EIO if one could not be (each is
 * tried, and the drop is not counted). */
static int drop_all(void)
{
    unsigned long long files = 0, bytes = 0;
    int failed = 0;

    while (undos != NULL) {
        struct undo *u = undos;
        struct stat st;
        undos = u->next;
        if (fstat(u->fd, &st) == 0 && st.st_size > u->synced_size)
            bytes += (unsigned long long)(st.st_size - u->synced_size);
        bytes += u->bytes;
        if (undo_replay(u) != 0)
            failed = -EIO;
        undo_free(u);
        files++;
    }
    if (failed != 0)
        return failed;
    drops++;
    last_files = files;
    last_bytes = bytes;
    files_dropped += files;
    bytes_dropped += bytes;
    fprintf(stderr, "unsyncfs: drop %llu: %llu file(s) back to their last "
            "fsync (about %llu bytes)\n", drops, files, bytes);
    return 0;
}

static void synced(int fd)
{
    struct stat st;
    struct undo **link, *u;

    if (fstat(fd, &st) != 0)
        return;
    u = undo_find(st.st_dev, st.st_ino, &link);
    if (u != NULL) {
        *link = u->next;
        undo_free(u);
    }
}

/* ---- FUSE operations ----------------------------------------------------*/

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->use_ino = 1;
    cfg->hard_remove = 1; /* no .fuse_hidden files: every op goes by fd */
    cfg->attr_timeout = 0;
    cfg->entry_timeout = 0;
    cfg->negative_timeout = 0;
    return NULL;
}

/* Unmounted: pending changes stay as they are (nothing to drop them for). */
static void fs_destroy(void *data)
{
    (void)data;
    while (undos != NULL) {
        struct undo *u = undos;
        undos = u->next;
        undo_free(u);
    }
    close(backing);
}

static int fs_getattr(const char *path, struct stat *st,
                      struct fuse_file_info *fi)
{
    if (strcmp(path, CONTROL) == 0) {
        memset(st, 0, sizeof *st);
        st->st_mode = S_IFREG | 0600;
        st->st_nlink = 1;
        return 0;
    }
    if (fi != NULL && fi->fh != CONTROL_FH)
        return fstat((int)fi->fh, st) == 0 ? 0 : -errno;
    return fstatat(backing, rel(path), st, AT_SYMLINK_NOFOLLOW) == 0 ? 0
                                                                    : -errno;
}

static int fs_access(const char *path, int mask)
{
    if (strcmp(path, CONTROL) == 0)
        return 0;
    return faccessat(backing, rel(path), mask, 0) == 0 ? 0 : -errno;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
                      off_t off, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags)
{
    int fd = openat(backing, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;
    struct dirent *de;

    (void)off;
    (void)fi;
    (void)flags;
    if (fd < 0)
        return -errno;
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return -errno;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st = {.st_ino = de->d_ino, .st_mode = DTTOIF(de->d_type)};
        if (fill(buf, de->d_name, &st, 0, 0) != 0)
            break;
    }
    closedir(d);
    return 0;
}

static int fs_mkdir(const char *path, mode_t mode)
{
    return mkdirat(backing, rel(path), mode) == 0 ? 0 : -errno;
}

static int fs_rmdir(const char *path)
{
    return unlinkat(backing, rel(path), AT_REMOVEDIR) == 0 ? 0 : -errno;
}

static int fs_unlink(const char *path)
{
    return unlinkat(backing, rel(path), 0) == 0 ? 0 : -errno;
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
    return renameat2(backing, rel(from), backing, rel(to), flags) == 0 ? 0
                                                                      : -errno;
}

static int fs_link(const char *from, const char *to)
{
    return linkat(backing, rel(from), backing, rel(to), 0) == 0 ? 0 : -errno;
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    if (strcmp(path, CONTROL) == 0)
        return -EPERM;
    if (fi != NULL)
        return fchmod((int)fi->fh, mode) == 0 ? 0 : -errno;
    return fchmodat(backing, rel(path), mode, 0) == 0 ? 0 : -errno;
}

static int fs_utimens(const char *path, const struct timespec tv[2],
                      struct fuse_file_info *fi)
{
    if (fi != NULL && fi->fh != CONTROL_FH)
        return futimens((int)fi->fh, tv) == 0 ? 0 : -errno;
    return utimensat(backing, rel(path), tv, AT_SYMLINK_NOFOLLOW) == 0
               ? 0
               : -errno;
}

/* ftruncate, undoably: the bytes cut off are kept first. */
static int truncate_logged(int fd, off_t size)
{
    struct undo *u;
    struct stat st;
    int rv = 0;

    if ((u = undo_of(fd, &rv)) == NULL)
        return rv;
    if (fstat(fd, &st) != 0)
        return -errno;
    if (size < st.st_size &&
        (rv = undo_save(u, size, (size_t)(st.st_size - size))) != 0)
        return rv;
    /* Through the log's own descriptor: @fd may be read-only (O_TRUNC). */
    return ftruncate(u->fd, size) == 0 ? 0 : -errno;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    int fd, rv;

    if (fi != NULL)
        return fi->fh == CONTROL_FH ? -EINVAL : truncate_logged((int)fi->fh,
                                                               size);
    if (strcmp(path, CONTROL) == 0)
        return 0; /* "echo drop >" truncates it first */
    fd = openat(backing, rel(path), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rv = truncate_logged(fd, size);
    close(fd);
    return rv;
}

/* Open the backing file: O_TRUNC goes through the undo log, O_APPEND is
 * left to the kernel (it gives each write its offset), O_DIRECT to the
 * write path (refused there). */
static int open_backing(const char *path, int flags, mode_t mode)
{
    int fd = openat(backing, rel(path),
                    (flags & ~(O_DIRECT | O_TRUNC | O_APPEND)) | O_CLOEXEC,
                    mode);
    int rv;

    if (fd < 0)
        return -errno;
    if ((flags & O_TRUNC) && (rv = truncate_logged(fd, 0)) != 0) {
        close(fd);
        return rv;
    }
    return fd;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
    int fd;

    TRACE("open %s flags 0%o\n", path, fi->flags);
    if (strcmp(path, CONTROL) == 0) {
        fi->fh = CONTROL_FH;
        fi->direct_io = 1; /* read past its size of 0 */
        return 0;
    }
    fd = open_backing(path, fi->flags, 0);
    if (fd < 0)
        return fd;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    int fd;

    if (strcmp(path, CONTROL) == 0)
        return -EEXIST;
    TRACE("create %s flags 0%o\n", path, fi->flags);
    fd = open_backing(path, fi->flags | O_CREAT, mode);
    if (fd < 0)
        return fd;
    fi->fh = (uint64_t)fd;
    return 0;
}

/* What is pending, file by file, and what the drops so far restored. */
static int control_read(char *buf, size_t size, off_t off)
{
    char text[8192], path[PATH_MAX], link[64];
    size_t len = 0;
    unsigned long long files = 0;

    for (struct undo *u = undos; u != NULL; u = u->next)
        files++;
    len += (size_t)snprintf(text, sizeof text,
                            "drop %llu: %llu file(s) restored, %llu byte(s) "
                            "lost (all drops: %llu file(s), %llu byte(s))\n"
                            "pending %llu file(s)\n",
                            drops, last_files, last_bytes, files_dropped,
                            bytes_dropped, files);
    for (struct undo *u = undos; u != NULL && len < sizeof text - 1;
         u = u->next) {
        ssize_t n;
        snprintf(link, sizeof link, "/proc/self/fd/%d", u->fd);
        n = readlink(link, path, sizeof path - 1);
        path[n < 0 ? 0 : n] = '\0';
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "%s: synced size %lld, %zu byte(s) to put "
                                "back\n", path, (long long)u->synced_size,
                                u->bytes);
    }
    if (len > sizeof text - 1)
        len = sizeof text - 1;
    if (off >= (off_t)len)
        return 0;
    if (len - (size_t)off < size)
        size = len - (size_t)off;
    memcpy(buf, text + off, size);
    return (int)size;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi)
{
    ssize_t n;

    (void)path;
    if (fi->fh == CONTROL_FH)
        return control_read(buf, size, off);
    n = pread((int)fi->fh, buf, size, off);
    return n < 0 ? -errno : (int)n;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    int fd = (int)fi->fh, rv = 0;
    struct undo *u;
    ssize_t n;

    (void)path;
    if (fi->fh == CONTROL_FH) {
        if ((size == 4 || (size == 5 && buf[4] == '\n')) &&
            memcmp(buf, "drop", 4) == 0) {
            rv = drop_all();
            return rv != 0 ? rv : (int)size;
        }
        return -EINVAL;
    }
    /* FUSE drops RWF_DSYNC from O_DIRECT writes (no fsync reaches us), so
     * their durability could not be told: refuse them, as tmpfs does, and
     * libraft writes through the page cache, where RWF_DSYNC becomes an
     * fsync. */
    if (fi->flags & O_DIRECT)
        return -EOPNOTSUPP;
    u = undo_of(fd, &rv);
    if (u == NULL)
        return rv;
    rv = undo_save(u, off, size);
    if (rv != 0)
        return rv;
    n = pwrite(fd, buf, size, off);
    return n < 0 ? -errno : (int)n;
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    int fd = (int)fi->fh;

    (void)path;
    if (fi->fh == CONTROL_FH)
        return 0;
    TRACE("fsync fd %d datasync %d\n", fd, datasync);
    if ((datasync ? fdatasync(fd) : fsync(fd)) != 0)
        return -errno;
    synced(fd);
    return 0;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    if (fi->fh != CONTROL_FH)
        close((int)fi->fh);
    return 0;
}

static int fs_fallocate(const char *path, int mode, off_t off, off_t len,
                        struct fuse_file_info *fi)
{
    int fd = (int)fi->fh, rv = 0;

    TRACE("fallocate %s mode %d %lld+%lld\n", path, mode, (long long)off,
          (long long)len);
    if (fi->fh == CONTROL_FH)
        return -EINVAL;
    if (undo_of(fd, &rv) == NULL)
        return rv;
    /* Only plain allocation: punching holes would need an undo too. */
    if (mode != 0)
        return -EOPNOTSUPP;
    return fallocate(fd, mode, off, len) == 0 ? 0 : -errno;
}

static int fs_statfs(const char *path, struct statvfs *st)
{
    int fd = openat(backing, rel(path), O_RDONLY | O_CLOEXEC);
    int rv;

    if (fd < 0)
        return -errno;
    rv = fstatvfs(fd, st) == 0 ? 0 : -errno;
    close(fd);
    return rv;
}

static int fs_fsyncdir(const char *path, int datasync,
                       struct fuse_file_info *fi)
{
    int fd = openat(backing, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rv;

    (void)datasync;
    (void)fi;
    if (fd < 0)
        return -errno;
    rv = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rv;
}

static const struct fuse_operations ops = {
    .init = fs_init,
    .destroy = fs_destroy,
    .getattr = fs_getattr,
    .access = fs_access,
    .readdir = fs_readdir,
    .mkdir = fs_mkdir,
    .rmdir = fs_rmdir,
    .unlink = fs_unlink,
    .rename = fs_rename,
    .link = fs_link,
    .chmod = fs_chmod,
    .utimens = fs_utimens,
    .truncate = fs_truncate,
    .open = fs_open,
    .create = fs_create,
    .read = fs_read,
    .write = fs_write,
    .fsync = fs_fsync,
    .release = fs_release,
    .fallocate = fs_fallocate,
    .statfs = fs_statfs,
    .fsyncdir = fs_fsyncdir,
};

int main(int argc, char **argv)
{
    struct stat st;

    if (argc != 3 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s BACKING MOUNTPOINT\n"
                "Mounts BACKING at MOUNTPOINT; writing \"drop\" to "
                "MOUNTPOINT/.unsyncfs puts every file back as it was at "
                "its last fsync.\n", argv[0]);
        return 2;
    }
    tracing = getenv("UNSYNCFS_TRACE") != NULL;
    backing = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (backing < 0 || fstat(backing, &st) != 0) {
        fprintf(stderr, "unsyncfs: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    char opt_f[] = "-f", opt_s[] = "-s", opt_o[] = "-o";
    char fsname[] = "fsname=unsyncfs";
    char *fuse_argv[] = {argv[0], opt_f, opt_s, opt_o, fsname, argv[2], NULL};
    return fuse_main(6, fuse_argv, &ops, NULL);
}
