/* Restoring a snapshot: decode into a fresh state, check every invariant
 * the store relies on, and only then swap it in. Any defect gives
 * -C8S_ECORRUPT and leaves the store as it was. */
#include <string.h>

#include "lib/crc32.h"
#include "lib/mem.h"
#include "lib/mp.h"
#include "store/internal.h"
#include "store/snapshot.h"

/* Decoder state. */
struct rd {
    struct mp_reader r;        /* Position in the body. */
    struct store__db *db;      /* State being built. */
    struct err *e;             /* Where the reason goes. */
    store_rev n_hist;          /* Versions above compact_rev seen. */
    struct store__key *last;   /* Previous key, for the order check. */
};

/* One decoded version record before it becomes a struct store__ver. */
struct rec {
    const void *value;         /* Value bytes, NULL for a tombstone. */
    uint32_t value_len;        /* Their length. */
    const char *field;         /* Field bytes or NULL. */
    uint32_t field_len;        /* Their length. */
    struct store_kv kv;        /* Revisions, version and time. */
};

#define CORRUPT(rd, ...) err_setf((rd)->e, -C8S_ECORRUPT, __VA_ARGS__)

static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static int check_header(const uint8_t *p, size_t len, struct err *e)
{
    if (len < STORE_SNAP_HEADER)
        return err_setf(e, -C8S_ECORRUPT, "snapshot: truncated header");
    if (memcmp(p, STORE_SNAP_MAGIC, 8) != 0)
        return err_setf(e, -C8S_ECORRUPT, "snapshot: bad magic");
    if (get_be(p + 8, 4) != STORE_SNAP_VERSION)
        return err_setf(e, -C8S_ECORRUPT, "snapshot: unknown format %u",
                        (unsigned)get_be(p + 8, 4));
    if (get_be(p + 16, 8) != len - STORE_SNAP_HEADER)
        return err_setf(e, -C8S_ECORRUPT,
                        "snapshot: body is %zu bytes, header says %ju",
                        len - STORE_SNAP_HEADER, (uintmax_t)get_be(p + 16, 8));
    if (get_be(p + 12, 4) != crc32_update(0, p + STORE_SNAP_HEADER,
                                          len - STORE_SNAP_HEADER))
        return err_setf(e, -C8S_ECORRUPT, "snapshot: checksum mismatch");
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
    struct store__key *k;

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

static int read_value(struct rd *rd, struct rec *c)
{
    c->value = NULL;
    c->field = NULL;
    if (!mp_read_nil(&rd->r) &&
        mp_read_bin(&rd->r, &c->value, &c->value_len) != 0)
        return CORRUPT(rd, "snapshot: value: expected bin or nil");
    if (!mp_read_nil(&rd->r) &&
        (mp_read_str(&rd->r, &c->field, &c->field_len) != 0 ||
         memchr(c->field, '\0', c->field_len) != NULL))
        return CORRUPT(rd, "snapshot: field: expected a string or nil");
    return 0;
}

static int read_rec(struct rd *rd, struct rec *c)
{
    uint32_t n;

    memset(c, 0, sizeof *c);
    if (mp_read_array(&rd->r, &n) != 0 || n != 6)
        return CORRUPT(rd, "snapshot: version: expected an array of 6");
    if (read_value(rd, c) != 0)
        return -C8S_ECORRUPT;
    if (mp_read_uint(&rd->r, &c->kv.create_rev) != 0 ||
        mp_read_uint(&rd->r, &c->kv.mod_rev) != 0 ||
        mp_read_int(&rd->r, &c->kv.version) != 0 ||
        mp_read_int(&rd->r, &c->kv.time_ms) != 0)
        return CORRUPT(rd, "snapshot: version: bad revision fields");
    return 0;
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

    if (c->value != NULL && (value = rbuf_new(c->value, c->value_len)) == NULL)
        return err_setf(rd->e, -ENOMEM, "snapshot: out of memory");
    *ret = store__ver_new(k, value, c->field, c->field_len);
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

static int read_keys(struct rd *rd)
{
    uint64_t n;
    int rv;

    if (mp_read_uint(&rd->r, &n) != 0)
        return CORRUPT(rd, "snapshot: bad key count");
    for (uint64_t i = 0; i < n; i++) {
        struct store__key *k;

        if ((rv = read_key(rd, &k)) != 0 || (rv = read_chain(rd, k)) != 0)
            return rv;
    }
    if (mp_left(&rd->r) != 0)
        return CORRUPT(rd, "snapshot: %zu trailing bytes", mp_left(&rd->r));
    return 0;
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
    memset(db->hist, 0, db->hist_cap * sizeof *db->hist);
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
            db->hist_len++;
        }
    return 0;
}

static int decode(struct rd *rd)
{
    store_rev cur, cmp;
    int rv;

    if (mp_read_uint(&rd->r, &cur) != 0 || mp_read_uint(&rd->r, &cmp) != 0)
        return CORRUPT(rd, "snapshot: bad revisions");
    if (cmp > cur)
        return CORRUPT(rd, "snapshot: compact revision above current");
    if (cur - cmp > SIZE_MAX / 2 / sizeof(void *))
        return CORRUPT(rd, "snapshot: absurd history length");
    rd->db->current_rev = cur;
    rd->db->compact_rev = cmp;
    rv = read_keys(rd);
    return rv != 0 ? rv : build_history(rd);
}

int store_restore(struct store *s, const void *buf, size_t len,
                  struct err *e)
{
    struct err local;
    struct store__db db;
    struct rd rd;
    int rv = check_header(buf, len, e);

    if (rv != 0)
        return rv;
    store__db_init(&db);
    memset(&rd, 0, sizeof rd);
    mp_reader_init(&rd.r, (const uint8_t *)buf + STORE_SNAP_HEADER,
                   len - STORE_SNAP_HEADER);
    rd.db = &db;
    rd.e = e != NULL ? e : &local;
    rv = decode(&rd);
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
