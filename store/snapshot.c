/* Snapshots: a deterministic encoding of the whole replicated state
 * (layout in store/snapshot.h).
 *
 * Every retained version is written, so history (and watches from old
 * revisions) survive a restore. The encoding depends only on the state:
 * keys are in index order, versions newest first, and msgpack-c always picks
 * the shortest form.
 *
 * Taking a snapshot must not stall the loop in proportion to the data (a
 * 100 MB state took longer than an election timeout to serialise and
 * checksum). So a view encodes only the small meta part, with the CRC each
 * version already carries, and hands out the values where they lie: they
 * are immutable and refcounted, so a reference keeps them valid for as
 * long as a writer needs them. */
#include <assert.h>
#include <string.h>

#include "lib/crc32.h"
#include "lib/mem.h"
#include "lib/mp.h"
#include "store/internal.h"
#include "store/snapshot.h"

/* The public view and what it owns. */
struct view {
    struct store_snapview pub;    /* First, so the public pointer converts. */
    struct store_snapbuf *bufs;   /* pub.bufs' storage. */
    struct rbuf **values;         /* Refs on the values bufs[1..] point into.
                                   * Refs on the rbufs rather than on the
                                   * versions: they pin exactly the bytes
                                   * handed out, not keys or older chains. */
    size_t n_values;              /* Entries in values. */
    size_t cap;                   /* Room in values (bufs has one more
                                   * entry, for the meta). */
    struct mp_writer meta;        /* bufs[0]'s bytes. */
};

/* Counts for the header, gathered while the records are written. */
struct census {
    uint64_t n_keys;              /* Keys in the index. */
    uint64_t n_versions;          /* Versions retained, tombstones too. */
    uint64_t values_len;          /* Total length of their values. */
};

/* At most how many versions are retained, known without walking them (one
 * pass is all the loop should pay, and walking the versions is mostly cache
 * misses): every revision above compact_rev is one version in history, and
 * a key keeps at most one version at or below compact_rev, its oldest
 * (compact.c cuts the older link of every version it pops). */
static size_t max_versions(const struct store__db *db)
{
    return db->hist_len + db->n_keys;
}

static size_t chain_len(const struct store__ver *v)
{
    size_t n = 0;

    for (; v != NULL; v = v->older)
        n++;
    return n;
}

/* Hand out @b's bytes as the next buffer, holding a ref on them. */
static void add_value(struct view *vw, struct rbuf *b)
{
    /* max_versions() is a bound, not a guess; should that ever break,
     * fail the view rather than write past the arrays. */
    assert(vw->n_values < vw->cap);
    if (vw->n_values == vw->cap) {
        vw->meta.failed = true;
        return;
    }
    vw->values[vw->n_values++] = rbuf_ref(b);
    vw->bufs[vw->n_values] = (struct store_snapbuf){b->data, b->len};
}

/* One version record; an empty value is recorded but needs no buffer. */
static void write_version(struct view *vw, const struct store__ver *v,
                          struct census *c)
{
    struct mp_writer *w = &vw->meta;

    c->n_versions++;
    mp_write_array(w, STORE_SNAP_VER_FIELDS);
    mp_write_str(w, v->kv.field);
    mp_write_uint(w, v->kv.create_rev);
    mp_write_uint(w, v->kv.mod_rev);
    mp_write_int(w, v->kv.version);
    mp_write_int(w, v->kv.time_ms);
    if (store__is_tomb(v)) {
        mp_write_nil(w);
        mp_write_nil(w);
        return;
    }
    mp_write_uint(w, v->kv.value->len);
    mp_write_uint(w, v->value_crc);
    c->values_len += v->kv.value->len;
    if (v->kv.value->len > 0)
        add_value(vw, v->kv.value);
}

static void write_records(struct view *vw, struct store__db *db,
                          struct census *c)
{
    memset(c, 0, sizeof *c);
    for (struct store__key *k = store__index_first(db); k != NULL;
         k = store__index_next(k)) {
        c->n_keys++;
        mp_write_str(&vw->meta, k->resource);
        mp_write_str(&vw->meta, k->ns);
        mp_write_str(&vw->meta, k->name);
        mp_write_uint(&vw->meta, chain_len(k->newest));
        for (const struct store__ver *v = k->newest; v != NULL; v = v->older)
            write_version(vw, v, c);
    }
}

/* Fill in the header reserved at the start of the meta and append the
 * CRC over everything before it. */
static void finish_meta(struct mp_writer *w, const struct store__db *db,
                        const struct census *c)
{
    uint8_t *h = w->buf, crc[STORE_SNAP_CRC_LEN];

    memcpy(h, STORE_SNAP_MAGIC, 8);
    store__put_be(h + STORE_SNAP_OFF_FORMAT, STORE_SNAP_VERSION, 4);
    store__put_be(h + STORE_SNAP_OFF_CURRENT, db->current_rev, 8);
    store__put_be(h + STORE_SNAP_OFF_COMPACT, db->compact_rev, 8);
    store__put_be(h + STORE_SNAP_OFF_KEYS, c->n_keys, 8);
    store__put_be(h + STORE_SNAP_OFF_VERSIONS, c->n_versions, 8);
    store__put_be(h + STORE_SNAP_OFF_META_LEN, w->len + sizeof crc, 8);
    store__put_be(h + STORE_SNAP_OFF_VALUES_LEN, c->values_len, 8);
    store__put_be(crc, crc32_update(0, w->buf, w->len), sizeof crc);
    mp_write_raw(w, crc, sizeof crc);
}

void store_snapview_free(struct store_snapview *pub)
{
    struct view *vw = (struct view *)pub;

    if (vw == NULL)
        return;
    for (size_t i = 0; i < vw->n_values; i++)
        (void)rbuf_unref(vw->values[i]);
    mem_free(vw->values);
    mem_free(vw->bufs);
    mp_writer_done(&vw->meta);
    mem_free(vw);
}

/* Allocate the view and its arrays for up to @n values (one slot more in
 * bufs for the meta); n_values stays 0 until refs are taken, so it can be
 * freed at any point. */
static struct view *view_alloc(size_t n)
{
    struct view *vw = mem_calloc(1, sizeof *vw);

    if (vw == NULL)
        return NULL;
    mp_writer_init(&vw->meta);
    if (n < SIZE_MAX / sizeof *vw->bufs) {
        vw->bufs = mem_malloc((n + 1) * sizeof *vw->bufs);
        vw->values = mem_malloc((n ? n : 1) * sizeof *vw->values);
    }
    if (vw->bufs == NULL || vw->values == NULL) {
        store_snapview_free(&vw->pub);
        return NULL;
    }
    vw->cap = n;
    return vw;
}

int store_snapshot_view(const struct store *s, struct store_snapview **ret)
{
    static const uint8_t zero[STORE_SNAP_HEADER];
    /* The index is only read; the cast is for the RB macros' signature. */
    struct store__db *db = (struct store__db *)&s->db;
    struct census c;
    struct view *vw;

    if ((vw = view_alloc(max_versions(db))) == NULL)
        return -ENOMEM;
    /* Growing by doubling copied the meta several times over and faulted
     * in twice its pages, a third of a large view's time on the loop. A
     * record takes some 30 bytes and a key its strings besides: reserve
     * generously, since pages never written are never faulted in. */
    if (max_versions(db) < SIZE_MAX / 256)
        mp_writer_reserve(&vw->meta, sizeof zero + 128 * (max_versions(db) +
                                                          db->n_keys));
    mp_write_raw(&vw->meta, zero, sizeof zero);
    write_records(vw, db, &c);
    if (!vw->meta.failed)
        finish_meta(&vw->meta, db, &c);
    if (vw->meta.failed) {
        store_snapview_free(&vw->pub);
        return -ENOMEM;
    }
    vw->bufs[0] = (struct store_snapbuf){vw->meta.buf, vw->meta.len};
    vw->pub.bufs = vw->bufs;
    vw->pub.n_bufs = vw->n_values + 1;
    vw->pub.len = vw->meta.len + (size_t)c.values_len;
    vw->pub.rev = db->current_rev;
    *ret = &vw->pub;
    return 0;
}

int store_snapshot(const struct store *s, void **ret_buf, size_t *ret_len)
{
    struct store_snapview *v;
    uint8_t *buf, *p;
    int rv = store_snapshot_view(s, &v);

    if (rv != 0)
        return rv;
    buf = mem_malloc(v->len);
    if (buf == NULL) {
        store_snapview_free(v);
        return -ENOMEM;
    }
    p = buf;
    for (size_t i = 0; i < v->n_bufs; i++) {
        memcpy(p, v->bufs[i].base, v->bufs[i].len);
        p += v->bufs[i].len;
    }
    *ret_buf = buf;
    *ret_len = v->len;
    store_snapview_free(v);
    return 0;
}
