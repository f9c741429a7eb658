/* Snapshot format constants shared by the encoder and the decoder. */
#ifndef C8S_STORE_SNAPSHOT_H
#define C8S_STORE_SNAPSHOT_H

#define STORE_SNAP_MAGIC "c8s-mvcc"  /* 8 bytes, no terminator written. */
#define STORE_SNAP_VERSION 1         /* Bumped on any layout change. */
#define STORE_SNAP_HEADER 24         /* magic, version, crc, body length. */

#endif /* C8S_STORE_SNAPSHOT_H */
