/* Snapshot format constants shared by the encoder and the decoder.
 *
 * A snapshot is two parts, so that values can be written straight from the
 * store's memory (zero copy, see store_snapshot_view):
 *
 *   meta   = header, records, CRC-32 of header and records (u32)
 *   values = every non-tombstone value, concatenated in record order
 *
 * header (big-endian, STORE_SNAP_HEADER bytes at the offsets below):
 *   magic "c8s-mvcc", u32 format, u64 current_rev, u64 compact_rev,
 *   u64 keys, u64 versions, u64 meta length (all of meta), u64 values length
 * records (msgpack): per key in index order resource, ns, name, number of
 *   versions, then each version newest first as an array of
 *   STORE_SNAP_VER_FIELDS: [field (str or nil), create_rev, mod_rev, version,
 *   time_ms, value length (uint; nil for a tombstone), value CRC-32 (uint;
 *   nil for a tombstone)].
 * Values carry their own CRC in the meta, which the store keeps per version,
 * so taking a snapshot never reads the values. */
#ifndef C8S_STORE_SNAPSHOT_H
#define C8S_STORE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SNAP_MAGIC "c8s-mvcc"  /* 8 bytes, no terminator written. */
#define STORE_SNAP_VERSION 2         /* Bumped on any layout change. */

#define STORE_SNAP_OFF_FORMAT 8      /* u32 */
#define STORE_SNAP_OFF_CURRENT 12    /* u64 current_rev */
#define STORE_SNAP_OFF_COMPACT 20    /* u64 compact_rev */
#define STORE_SNAP_OFF_KEYS 28       /* u64 keys in the records */
#define STORE_SNAP_OFF_VERSIONS 36   /* u64 versions in the records */
#define STORE_SNAP_OFF_META_LEN 44   /* u64 bytes of meta, CRC included */
#define STORE_SNAP_OFF_VALUES_LEN 52 /* u64 bytes of values */
#define STORE_SNAP_HEADER 60
#define STORE_SNAP_CRC_LEN 4         /* The CRC that ends the meta. */
#define STORE_SNAP_VER_FIELDS 7

static inline void store__put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = n; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint64_t store__get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

#endif /* C8S_STORE_SNAPSHOT_H */
