/* Snapshots: a deterministic encoding of the whole replicated state.
 *
 * Layout: a 24-byte header, then a msgpack body.
 *   header: magic "c8s-mvcc", u32 format version, u32 CRC-32 of the body,
 *           u64 body length (all big-endian).
 *   body:   current_rev, compact_rev, n_keys, then per key in index order:
 *           resource, ns, name, n_versions, then each version newest first
 *           as [value (bin, or nil for a tombstone), field (str or nil),
 *           create_rev, mod_rev, version, time_ms].
 * Every retained version is written, so history (and watches from old
 * revisions) survive a restore. The encoding depends only on the state:
 * keys are in index order and msgpack-c always picks the shortest form. */
#include <string.h>

#include "lib/crc32.h"
#include "lib/mem.h"
#include "lib/mp.h"
#include "store/internal.h"
#include "store/snapshot.h"

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = n; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

static size_t chain_len(const struct store__ver *v)
{
    size_t n = 0;

    for (; v != NULL; v = v->older)
        n++;
    return n;
}

static void write_version(struct mp_writer *w, const struct store__ver *v)
{
    mp_write_array(w, 6);
    if (v->kv.value != NULL)
        mp_write_bin(w, v->kv.value->data, v->kv.value->len);
    else
        mp_write_nil(w);
    mp_write_str(w, v->kv.field);
    mp_write_uint(w, v->kv.create_rev);
    mp_write_uint(w, v->kv.mod_rev);
    mp_write_int(w, v->kv.version);
    mp_write_int(w, v->kv.time_ms);
}

static void write_key(struct mp_writer *w, const struct store__key *k)
{
    mp_write_str(w, k->resource);
    mp_write_str(w, k->ns);
    mp_write_str(w, k->name);
    mp_write_uint(w, chain_len(k->newest));
    for (const struct store__ver *v = k->newest; v != NULL; v = v->older)
        write_version(w, v);
}

static void write_body(struct mp_writer *w, struct store__db *db)
{
    mp_write_uint(w, db->current_rev);
    mp_write_uint(w, db->compact_rev);
    mp_write_uint(w, db->n_keys);
    for (struct store__key *k = store__index_first(db); k != NULL;
         k = store__index_next(k))
        write_key(w, k);
}

static void write_header(uint8_t *h, const uint8_t *body, size_t body_len)
{
    memcpy(h, STORE_SNAP_MAGIC, 8);
    put_be(h + 8, STORE_SNAP_VERSION, 4);
    put_be(h + 12, crc32_update(0, body, body_len), 4);
    put_be(h + 16, body_len, 8);
}

int store_snapshot(const struct store *s, void **ret_buf, size_t *ret_len)
{
    static const uint8_t zero[STORE_SNAP_HEADER];
    struct mp_writer w;

    mp_writer_init(&w);
    mp_write_raw(&w, zero, sizeof zero);
    /* The index is only read; the cast is for the RB macros' signature. */
    write_body(&w, (struct store__db *)&s->db);
    if (w.failed) {
        mp_writer_done(&w);
        return -ENOMEM;
    }
    write_header(w.buf, w.buf + STORE_SNAP_HEADER,
                 w.len - STORE_SNAP_HEADER);
    *ret_buf = w.buf;
    *ret_len = w.len;
    return 0;
}
