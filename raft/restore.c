/* A new member's data dir from a store snapshot (repl_restore_data_dir).
 *
 * The data dir gets what a follower has after installing a snapshot from
 * its leader, written through libraft's own storage (the public raft_io
 * interface of raft_uv, the calls raft makes itself): term 1, and a
 * snapshot at index 1 holding the store and a configuration of this one
 * member as voter. Started on it, the member loads the snapshot (the FSM
 * restores the store, revisions and all), elects itself and serves; later
 * members join with `member add` and get the state by snapshot install.
 * This is what `etcdctl snapshot restore` does with etcd's WAL. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "raft/repl.h"
#include "raft/transport.h"
#include "store/store.h"

struct restore {
    uv_loop_t loop;
    struct repl_transport transport;
    struct raft_io io;
    bool put_done, closed;
    int put_status;
};

static void put_done(struct raft_io_snapshot_put *req, int status)
{
    struct restore *r = req->data;

    r->put_status = status;
    r->put_done = true;
}

static void io_closed(struct raft_io *io)
{
    struct restore *r = io->data;

    r->closed = true;
}

/* The data dir must be new: absent (created here) or empty. */
static int fresh_dir(const char *dir, struct err *e)
{
    DIR *d;
    struct dirent *de;

    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return err_setf(e, -errno, "data dir %s: %s", dir, strerror(errno));
    d = opendir(dir);
    if (d == NULL)
        return err_setf(e, -errno, "data dir %s: %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            closedir(d);
            return err_setf(e, -EEXIST, "data dir %s is not empty: a "
                            "snapshot is restored into a new member only",
                            dir);
        }
    closedir(d);
    return 0;
}

static int put_snapshot(struct restore *r, uint64_t id, const char *address,
                        const void *snap, size_t len, struct err *e)
{
    struct raft_snapshot snapshot = {.index = 1, .term = 1,
                                     .configuration_index = 1};
    struct raft_io_snapshot_put req = {.data = r};
    struct raft_buffer buf = {.base = (void *)snap, .len = len};
    struct raft_snapshot *loaded = NULL;
    struct raft_entry *entries = NULL;
    raft_term term;
    raft_id voted;
    raft_index start;
    size_t n = 0;
    int rv;

    rv = r->io.load(&r->io, &term, &voted, &loaded, &start, &entries, &n);
    if (rv != 0)
        return err_setf(e, -EIO, "load: %s", r->io.errmsg);
    if (loaded != NULL || n > 0 || term != 0) /* fresh_dir said empty */
        return err_setf(e, -EEXIST, "the data dir already holds raft state");
    raft_configuration_init(&snapshot.configuration);
    rv = raft_configuration_add(&snapshot.configuration, id, address,
                                RAFT_VOTER);
    if (rv == 0)
        rv = r->io.set_term(&r->io, 1);
    if (rv == 0) {
        snapshot.bufs = &buf;
        snapshot.n_bufs = 1;
        rv = r->io.snapshot_put(&r->io, 0, &req, &snapshot, put_done);
    }
    if (rv != 0) {
        raft_configuration_close(&snapshot.configuration);
        return err_setf(e, -EIO, "writing the snapshot: %s", r->io.errmsg);
    }
    while (!r->put_done)
        uv_run(&r->loop, UV_RUN_ONCE);
    raft_configuration_close(&snapshot.configuration);
    if (r->put_status != 0)
        return err_setf(e, -EIO, "writing the snapshot: %s",
                        raft_strerror(r->put_status));
    return 0;
}

int repl_restore_data_dir(const char *data_dir, const char *name,
                          const char *address, const void *snap, size_t len,
                          struct err *e)
{
    struct restore r;
    store_rev rev;
    size_t keys;
    int rv;

    /* Every CRC and the structure, before anything is written. */
    if ((rv = store_snapshot_check(snap, len, &rev, &keys, e)) != 0 ||
        (rv = fresh_dir(data_dir, e)) != 0)
        return rv;
    memset(&r, 0, sizeof r);
    if (uv_loop_init(&r.loop) != 0)
        return err_setf(e, -ENOMEM, "cannot start an event loop");
    rv = repl_transport_init(&r.transport, &r.loop, address);
    if (rv != 0) {
        uv_loop_close(&r.loop);
        return err_setf(e, rv, "--peer-listen %s: %s", address,
                        r.transport.iface.errmsg);
    }
    if (raft_uv_init(&r.io, &r.loop, data_dir, &r.transport.iface) != 0) {
        uv_loop_close(&r.loop);
        return err_setf(e, -EIO, "data dir %s: %s", data_dir, r.io.errmsg);
    }
    r.io.data = &r;
    rv = r.io.init(&r.io, repl_member_id(name), address);
    if (rv != 0) {
        err_setf(e, -EIO, "data dir %s: %s", data_dir, r.io.errmsg);
        raft_uv_close(&r.io);
        uv_loop_close(&r.loop);
        return -EIO;
    }
    rv = put_snapshot(&r, repl_member_id(name), address, snap, len, e);
    if (rv == 0)
        rv = repl_member_id_save(data_dir, name, repl_member_id(name), e);
    r.io.close(&r.io, io_closed);
    while (!r.closed || uv_loop_alive(&r.loop))
        uv_run(&r.loop, UV_RUN_ONCE);
    raft_uv_close(&r.io);
    uv_loop_close(&r.loop);
    return rv;
}
