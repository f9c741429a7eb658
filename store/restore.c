/* Restoring a snapshot: decode into a fresh state, check every invariant
 * the store relies on (and the CRC of the meta and of every value), and
 * only then swap it in. Any defect gives -C8S_ECORRUPT and leaves the store
 * as it was. Layout in store/snapshot.h. */
#include <string.h>

#include "lib/crc32.h"
#include "lib/mem.h"
#include "lib/mp.h"
#include "store/internal.h"
#include "store/snapshot.h"

/* Decoder state. */
struct rd {
    struct mp_reader r;        /* Position in the meta's records. */
    const uint8_t *vals;       /* Next value's bytes. */
    size_t vals_left;          /* Value bytes not yet consumed. */
    uint64_t n_versions;       /* Version records seen. */
    struct store__db *db;      /* State being built. */
    struct err *e;             /* Where the reason goes. */
    store_rev n_hist;          /* Versions above compact_rev seen. */
    struct store__key *last;   /* Previous key, for the order check. */
};

/* One decoded version record before it becomes a struct store__ver. */
struct rec {
    const void *value;         /* Value bytes, NULL for a tombstone. */
    uint64_t value_len;        /* Their length. */
    uint64_t value_crc;        /* Their CRC-32 (checked). */
    const char *field;         /* Field bytes or NULL. */
    uint32_t field_len;        /* Their length. */
    struct store_kv kv;        /* Revisions, version and time. */
};

#define CORRUPT(rd, ...) err_setf((rd)->e, -C8S_ECORRUPT, __VA_ARGS__)

/* The header fields a decoder needs. */
struct hdr {
    store_rev current_rev;
    store_rev compact_rev;
    uint64_t n_keys;
    uint64_t n_versions;
    size_t meta_len;           /* Whole meta, CRC included. */
};

static uint64_t hdr_u64(const uint8_t *p, size_t off)
{
    return store__get_be(p + off, 8);
}

/* Lengths first, so that the CRC is only computed over bytes that exist;
 * then the CRC, so that nothing else in the meta is trusted before it. */
static int check_header(const uint8_t *p, size_t len, struct hdr *h,
                        struct err *e)
{
    uint64_t meta_len, values_len;

    if (len < STORE_SNAP_HEADER)
        return err_setf(e, -C8S_ECORRUPT, "snapshot: truncated header");
    if (memcmp(p, STORE_SNAP_MAGIC, 8) != 0)
        return err_setf(e, -C8S_ECORRUPT, "snapshot: bad magic");
    if (store__get_be(p + STORE_SNAP_OFF_FORMAT, 4) != STORE_SNAP_VERSION)
        return err_setf(e, -C8S_ECORRUPT, "snapshot: unknown format %u",
                        (unsigned)store__get_be(p + STORE_SNAP_OFF_FORMAT, 4));
    meta_len = hdr_u64(p, STORE_SNAP_OFF_META_LEN);
    values_len = hdr_u64(p, STORE_SNAP_OFF_VALUES_LEN);
    if (meta_len < STORE_SNAP_HEADER + STORE_SNAP_CRC_LEN || meta_len > len)
        return err_setf(e, -C8S_ECORRUPT,
                        "snapshot: meta is %ju bytes of %zu (truncated?)",
                        (uintmax_t)meta_len, len);
    if (values_len != len - meta_len)
        return err_setf(e, -C8S_ECORRUPT,
                        "snapshot: values are %zu bytes, header says %ju",
                        len - (size_t)meta_len, (uintmax_t)values_len);
    if (store__get_be(p + meta_len - STORE_SNAP_CRC_LEN, STORE_SNAP_CRC_LEN) !=
        crc32_update(0, p, meta_len - STORE_SNAP_CRC_LEN))
        return err_setf(e, -C8S_ECORRUPT, "snapshot: meta checksum mismatch");
    h->current_rev = hdr_u64(p, STORE_SNAP_OFF_CURRENT);
    h->compact_rev = hdr_u64(p, STORE_SNAP_OFF_COMPACT);
    h->n_keys = hdr_u64(p, STORE_SNAP_OFF_KEYS);
    h->n_versions = hdr_u64(p, STORE_SNAP_OFF_VERSIONS);
    h->meta_len = (size_t)meta_len;
    return 0;
}

/* A key part: a string without '\0' (non-empty unless @may_be_empty). */
static int read_part(struct rd *rd, const char **s, uint32_t *len,
                     bool may_be_empty, const char *what)
{
    if (mp_read_str(&rd->r, s, len) != 0)
        return CORRUPT(rd, "snapshot: %s: expected a string", what);
    if ((*len == 0 && !may_be_empty) || memchr(*s, '\0', *len) != NULL)
        return CORRUPT(rd, "snapshot: %s: invalid", what);
    return 0;
}

static int read_key(struct rd *rd, struct store__key **ret)
{
    const char *r, *n, *m;
    uint32_t lr, ln, lm;
    struct store__key *k = NULL;

    if (read_part(rd, &r, &lr, false, "resource") != 0 ||
        read_part(rd, &n, &ln, true, "namespace") != 0 ||
        read_part(rd, &m, &lm, false, "name") != 0)
        return -C8S_ECORRUPT;
    k = store__key_new_n(r, lr, n, ln, m, lm);
    if (k == NULL)
        return err_setf(rd->e, -ENOMEM, "snapshot: out of memory");
    if (rd->last != NULL && store__key_cmp(rd->last, k) >= 0) {
        store__key_unref(k);
        return CORRUPT(rd, "snapshot: keys out of order");
    }
    store__index_insert(rd->db, k);
    rd->last = k;
    *ret = k;
    return 0;
}

static int read_field(struct rd *rd, struct rec *c)
{
    c->field = NULL;
    if (!mp_read_nil(&rd->r) &&
        (mp_read_str(&rd->r, &c->field, &c->field_len) != 0 ||
         memchr(c->field, '\0', c->field_len) != NULL))
        return CORRUPT(rd, "snapshot: field: expected a string or nil");
    return 0;
}

/* The value's length and CRC from the record, then its bytes from the
 * values part, checked against that CRC. */
static int read_value(struct rd *rd, struct rec *c)
{
    c->value = NULL;
    if (mp_read_nil(&rd->r)) {
        if (!mp_read_nil(&rd->r))
            return CORRUPT(rd, "snapshot: tombstone with a CRC at %ju",
                           (uintmax_t)c->kv.mod_rev);
        return 0;
    }
    if (mp_read_uint(&rd->r, &c->value_len) != 0 ||
        mp_read_uint(&rd->r, &c->value_crc) != 0)
        return CORRUPT(rd, "snapshot: value: bad length or CRC");
    if (c->value_len > rd->vals_left)
        return CORRUPT(rd, "snapshot: value of %ju bytes at %ju overruns the "
                       "values (%zu left)", (uintmax_t)c->value_len,
                       (uintmax_t)c->kv.mod_rev, rd->vals_left);
    c->value = rd->vals;
    if (crc32_update(0, c->value, (size_t)c->value_len) != c->value_crc)
        return CORRUPT(rd, "snapshot: value checksum mismatch at %ju",
                       (uintmax_t)c->kv.mod_rev);
    rd->vals += c->value_len;
    rd->vals_left -= (size_t)c->value_len;
    return 0;
}

static int read_rec(struct rd *rd, struct rec *c)
{
    uint32_t n;

    memset(c, 0, sizeof *c);
    if (mp_read_array(&rd->r, &n) != 0 || n != STORE_SNAP_VER_FIELDS)
        return CORRUPT(rd, "snapshot: version: expected an array of %d",
                       STORE_SNAP_VER_FIELDS);
    if (read_field(rd, c) != 0)
        return -C8S_ECORRUPT;
    if (mp_read_uint(&rd->r, &c->kv.create_rev) != 0 ||
        mp_read_uint(&rd->r, &c->kv.mod_rev) != 0 ||
        mp_read_int(&rd->r, &c->kv.version) != 0 ||
        mp_read_int(&rd->r, &c->kv.time_ms) != 0)
        return CORRUPT(rd, "snapshot: version: bad revision fields");
    rd->n_versions++;
    return read_value(rd, c);
}

/* Checks that involve one version alone. */
static int check_rec(struct rd *rd, const struct rec *c)
{
    const struct store_kv *kv = &c->kv;

    if (kv->mod_rev == 0 || kv->mod_rev > rd->db->current_rev)
        return CORRUPT(rd, "snapshot: revision %ju out of range",
                       (uintmax_t)kv->mod_rev);
    if (c->value == NULL &&
        (c->field != NULL || kv->create_rev != 0 || kv->version != 0))
        return CORRUPT(rd, "snapshot: malformed tombstone at %ju",
                       (uintmax_t)kv->mod_rev);
    if (c->value == NULL)
        return 0;
    if (kv->version < 1 || kv->create_rev == 0 ||
        kv->create_rev > kv->mod_rev ||
        (kv->version == 1) != (kv->create_rev == kv->mod_rev))
        return CORRUPT(rd, "snapshot: inconsistent version at %ju",
                       (uintmax_t)kv->mod_rev);
    return 0;
}

/* Checks between a version @n and the next older one @o of the key. */
static int check_pair(struct rd *rd, const struct store__ver *n,
                      const struct store__ver *o)
{
    bool ok;

    if (n->kv.mod_rev <= o->kv.mod_rev)
        return CORRUPT(rd, "snapshot: versions out of order at %ju",
                       (uintmax_t)n->kv.mod_rev);
    if (n->kv.mod_rev <= rd->db->compact_rev)
        return CORRUPT(rd, "snapshot: compacted version retained at %ju",
                       (uintmax_t)o->kv.mod_rev);
    if (store__is_tomb(n))
        ok = !store__is_tomb(o);
    else if (n->kv.version == 1)
        ok = store__is_tomb(o);
    else
        ok = !store__is_tomb(o) && o->kv.version == n->kv.version - 1 &&
             o->kv.create_rev == n->kv.create_rev;
    if (!ok)
        return CORRUPT(rd, "snapshot: broken version chain at %ju",
                       (uintmax_t)n->kv.mod_rev);
    return 0;
}

/* The oldest retained version must explain itself: above compact_rev it
 * must be the key's creation (history reaches back to it). */
static int check_oldest(struct rd *rd, const struct store__ver *v)
{
    if (v->kv.mod_rev > rd->db->compact_rev && v->kv.version != 1)
        return CORRUPT(rd, "snapshot: history missing before %ju",
                       (uintmax_t)v->kv.mod_rev);
    return 0;
}

static int make_ver(struct rd *rd, struct store__key *k, const struct rec *c,
                    struct store__ver **ret)
{
    struct rbuf *value = NULL;

    if (c->value != NULL &&
        (value = rbuf_new(c->value, (size_t)c->value_len)) == NULL)
        return err_setf(rd->e, -ENOMEM, "snapshot: out of memory");
    /* The CRC was checked against the bytes: keep it for the next
     * snapshot. */
    *ret = store__ver_new(k, value, (uint32_t)c->value_crc, c->field,
                          c->field_len);
    if (*ret == NULL) {
        (void)rbuf_unref(value);
        return err_setf(rd->e, -ENOMEM, "snapshot: out of memory");
    }
    (*ret)->kv.create_rev = c->kv.create_rev;
    (*ret)->kv.mod_rev = c->kv.mod_rev;
    (*ret)->kv.version = c->kv.version;
    (*ret)->kv.time_ms = c->kv.time_ms;
    return 0;
}

/* Read one version and link it below @tail (or as the newest). */
static int read_version(struct rd *rd, struct store__key *k,
                        struct store__ver **tail)
{
    struct store__ver *v;
    struct rec c;
    int rv = read_rec(rd, &c);

    if (rv == 0)
        rv = check_rec(rd, &c);
    if (rv == 0)
        rv = make_ver(rd, k, &c, &v);
    if (rv != 0)
        return rv;
    if (*tail == NULL)
        k->newest = v;
    else
        (*tail)->older = v;
    if (*tail != NULL && check_pair(rd, *tail, v) != 0)
        return -C8S_ECORRUPT;
    *tail = v;
    if (v->kv.mod_rev > rd->db->compact_rev)
        rd->n_hist++;
    return 0;
}

static int read_chain(struct rd *rd, struct store__key *k)
{
    struct store__ver *tail = NULL;
    uint64_t n;
    int rv;

    if (mp_read_uint(&rd->r, &n) != 0 || n == 0)
        return CORRUPT(rd, "snapshot: bad version count");
    for (uint64_t i = 0; i < n; i++)
        if ((rv = read_version(rd, k, &tail)) != 0)
            return rv;
    if (store__is_tomb(k->newest) &&
        k->newest->kv.mod_rev <= rd->db->compact_rev)
        return CORRUPT(rd, "snapshot: compacted tombstone retained");
    if (!store__is_tomb(k->newest))
        rd->db->n_live++;
    return check_oldest(rd, tail);
}

/* Everything the header announced must be there, and nothing more. */
static int check_counts(struct rd *rd, const struct hdr *h)
{
    if (rd->n_versions != h->n_versions)
        return CORRUPT(rd, "snapshot: %ju versions, header says %ju",
                       (uintmax_t)rd->n_versions, (uintmax_t)h->n_versions);
    if (mp_left(&rd->r) != 0)
        return CORRUPT(rd, "snapshot: %zu trailing bytes in the meta",
                       mp_left(&rd->r));
    if (rd->vals_left != 0)
        return CORRUPT(rd, "snapshot: %zu value bytes belong to no version",
                       rd->vals_left);
    return 0;
}

static int read_keys(struct rd *rd, const struct hdr *h)
{
    int rv;

    for (uint64_t i = 0; i < h->n_keys; i++) {
        struct store__key *k = NULL;

        if ((rv = read_key(rd, &k)) != 0 || (rv = read_chain(rd, k)) != 0)
            return rv;
    }
    return check_counts(rd, h);
}

/* Put every version above compact_rev into its history slot; each
 * revision must be there exactly once. */
static int build_history(struct rd *rd)
{
    struct store__db *db = rd->db;
    store_rev n = db->current_rev - db->compact_rev;

    if (rd->n_hist != n)
        return CORRUPT(rd, "snapshot: %ju events for %ju revisions",
                       (uintmax_t)rd->n_hist, (uintmax_t)n);
    if (n == 0)
        return 0;
    if (store__hist_reserve(db, (size_t)n) != 0)
        return err_setf(rd->e, -ENOMEM, "snapshot: out of memory");
    /* Every slot counts from the start (NULL until filled), so that
     * store__db_done releases the refs taken so far when a duplicate is
     * found part-way; n distinct revisions then fill all n slots. */
    memset(db->hist, 0, db->hist_cap * sizeof *db->hist);
    db->hist_len = (size_t)n;
    for (struct store__key *k = store__index_first(db); k != NULL;
         k = store__index_next(k))
        for (struct store__ver *v = k->newest; v != NULL; v = v->older) {
            size_t i = (size_t)(v->kv.mod_rev - db->compact_rev - 1);

            if (v->kv.mod_rev <= db->compact_rev)
                continue;
            if (db->hist[i] != NULL)
                return CORRUPT(rd, "snapshot: revision %ju used twice",
                               (uintmax_t)v->kv.mod_rev);
            db->hist[i] = store__ver_ref(v);
        }
    return 0;
}

static int decode(struct rd *rd, const struct hdr *h)
{
    store_rev cur = h->current_rev, cmp = h->compact_rev;
    int rv;

    if (cmp > cur)
        return CORRUPT(rd, "snapshot: compact revision above current");
    if (cur - cmp > SIZE_MAX / 2 / sizeof(void *))
        return CORRUPT(rd, "snapshot: absurd history length");
    /* Every record takes at least a byte: larger counts cannot be true,
     * and refusing them early keeps loops bounded by the input. */
    if (h->n_keys > h->meta_len || h->n_versions > h->meta_len)
        return CORRUPT(rd, "snapshot: absurd key or version count");
    rd->db->current_rev = cur;
    rd->db->compact_rev = cmp;
    rv = read_keys(rd, h);
    return rv != 0 ? rv : build_history(rd);
}

int store_restore(struct store *s, const void *buf, size_t len,
                  struct err *e)
{
    const uint8_t *p = buf;
    struct err local;
    struct store__db db;
    struct hdr h = {0};
    struct rd rd;
    int rv = check_header(p, len, &h, e);

    if (rv != 0)
        return rv;
    store__db_init(&db);
    memset(&rd, 0, sizeof rd);
    mp_reader_init(&rd.r, p + STORE_SNAP_HEADER,
                   h.meta_len - STORE_SNAP_HEADER - STORE_SNAP_CRC_LEN);
    rd.vals = p + h.meta_len;
    rd.vals_left = len - h.meta_len;
    rd.db = &db;
    rd.e = e != NULL ? e : &local;
    rv = decode(&rd, &h);
    if (rv != 0) {
        store__db_done(&db);
        return rv;
    }
    store__watch_kill_all(s, -C8S_ESLOW);
    store__db_done(&s->db);
    s->db = db;
    store__watch_notify(s);
    return 0;
}

int store_snapshot_check(const void *buf, size_t len, store_rev *ret_rev,
                         size_t *ret_keys, struct err *e)
{
    struct store *s = NULL;
    int rv = store_new(NULL, &s);

    if (rv != 0)
        return err_setf(e, rv, "out of memory");
    rv = store_restore(s, buf, len, e);
    if (rv == 0) {
        *ret_rev = store_current_rev(s);
        *ret_keys = store_key_count(s);
    }
    store_free(s);
    return rv;
}
