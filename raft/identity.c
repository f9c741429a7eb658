/* A member's raft ID: one per incarnation, kept in DATA-DIR/member-id.
 *
 * Raft assumes a server never loses its persistent state (term, vote, log).
 * A member whose data dir was wiped and that came back under its old ID
 * would be counted by any configuration older than its return, in a
 * snapshot or a log entry, as the voter it was; the Jepsen member nemesis
 * saw one elect itself in a term another member led. So a member that
 * starts empty to join a running cluster draws a new ID; it stays in the
 * data dir for every later start, and `member add` asks the joiner for it.
 *
 * The high half of an ID names the member (the top of the FNV-1a hash of
 * its name) so `member remove NAME` finds it; the low half tells its
 * incarnations apart. Members of the initial cluster (and one restored
 * from a snapshot) use the whole hash, as every member computes it for the
 * bootstrap configuration from --initial-cluster. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "lib/file.h"
#include "lib/log.h"
#include "raft/internal.h"

#define ID_FILE "member-id"
#define NAME_HALF 0xffffffff00000000ULL

uint64_t repl_member_id(const char *name)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: stable across builds */

    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h == 0 ? 1 : h;
}

bool repl_member_id_is_of(uint64_t id, const char *name)
{
    return id != 0 && (id & NAME_HALF) == (repl_member_id(name) & NAME_HALF);
}

/* An ID for a new incarnation of @name: never its initial ID, never 0. */
static int draw_id(const char *name, uint64_t *ret)
{
    uint64_t first = repl_member_id(name);
    uint32_t low;

    do {
        if (getrandom(&low, sizeof low, 0) != (ssize_t)sizeof low)
            return -EIO;
    } while ((first & ~NAME_HALF) == low || ((first & NAME_HALF) | low) == 0);
    *ret = (first & NAME_HALF) | low;
    return 0;
}

static void id_path(const char *dir, char *buf, size_t size)
{
    (void)snprintf(buf, size, "%s/%s", dir, ID_FILE);
}

int repl_member_id_save(const char *dir, const char *name, uint64_t id,
                        struct err *e)
{
    char path[PATH_MAX + 16], text[REPL_NAME_MAX + 32];
    int len = snprintf(text, sizeof text, "%s %016llx\n", name,
                       (unsigned long long)id);

    id_path(dir, path, sizeof path);
    return file_write_atomic(path, text, (size_t)len, 0600, e);
}

/* Parse "NAME HEXID\n" from @path: 0, -ENOENT when there is no file, or
 * another code with @e saying what is wrong. */
static int read_id_file(const char *path, char *name, size_t name_size,
                        uint64_t *id, struct err *e)
{
    char line[REPL_NAME_MAX + 64], extra;
    unsigned long long v;
    FILE *f = fopen(path, "re");
    int n, ok;

    if (f == NULL && errno == ENOENT)
        return -ENOENT;
    if (f == NULL)
        return err_setf(e, -errno, "%s: %s", path, strerror(errno));
    ok = fgets(line, sizeof line, f) != NULL && fgetc(f) == EOF;
    fclose(f);
    if (ok)
        line[strcspn(line, "\n")] = '\0';
    n = ok ? sscanf(line, "%63s %16llx%c", name, &v, &extra) : 0;
    if (n != 2 || strlen(name) >= name_size || v == 0 ||
        !repl_member_id_is_of(v, name))
        return err_setf(e, -C8S_ECORRUPT, "%s is damaged: it should hold "
                        "this member's name and raft ID. If its data is "
                        "lost, remove the member from the cluster and add it "
                        "back with an empty data dir", path);
    *id = v;
    return 0;
}

/* libraft keeps term and vote in metadata1/metadata2 from its first start. */
static bool holds_raft_state(const char *dir)
{
    char path[PATH_MAX + 16];
    struct stat st;

    for (int i = 1; i <= 2; i++) {
        (void)snprintf(path, sizeof path, "%s/metadata%d", dir, i);
        if (stat(path, &st) == 0)
            return true;
    }
    return false;
}

int repl__identity_load(struct repl *r, struct err *e)
{
    char path[PATH_MAX + 16], name[REPL_NAME_MAX];
    const char *self = r->cfg.name;
    uint64_t id = 0;
    int rv;

    id_path(r->data_dir, path, sizeof path);
    rv = read_id_file(path, name, sizeof name, &id, e);
    if (rv == 0 && strcmp(name, self) != 0)
        return err_setf(e, -EINVAL, "data dir %s belongs to member '%s', "
                        "not to '%s' (--name)", r->data_dir, name, self);
    if (rv == 0 && !r->cfg.join_existing && id != repl_member_id(self) &&
        !holds_raft_state(r->data_dir))
        return err_setf(e, -EINVAL, "data dir %s holds the raft ID of a "
                        "member joining a running cluster, and no raft state: "
                        "start it with --initial-cluster-state existing (or "
                        "empty the data dir to bootstrap a new cluster)",
                        r->data_dir);
    if (rv == 0) {
        r->id = id;
        return 0;
    }
    if (rv != -ENOENT)
        return rv;
    /* A data dir from before IDs were kept keeps the ID it was made with;
     * a member of the initial cluster has its name's. */
    id = repl_member_id(self);
    if (r->cfg.join_existing && !holds_raft_state(r->data_dir)) {
        if (draw_id(self, &id) != 0)
            return err_setf(e, -EIO, "cannot draw a raft ID: %s",
                            strerror(errno));
        log_info("raft", "joining with a new raft ID %llx",
                 (unsigned long long)id);
    }
    r->id = id;
    return repl_member_id_save(r->data_dir, self, id, e);
}
