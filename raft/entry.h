/* Framing of the raft entries that carry store batches.
 *
 * libraft's uv backend refuses entries whose length is not a multiple of 8,
 * and does so on its synchronous error path that leaves it inconsistent
 * (LIBRAFT-NOTES §2). So an entry is: u32 LE magic, u32 LE batch length,
 * the batch (store/cmd.h), zero padding to a multiple of 8. */
#ifndef C8S_RAFT_ENTRY_H
#define C8S_RAFT_ENTRY_H

#include <stddef.h>

#include <raft.h>

#define REPL_ENTRY_HEADER 8

/* Bytes of the entry that carries a batch of @batch_len bytes. */
size_t repl_entry_size(size_t batch_len);

/* Write the entry for @batch into @out (repl_entry_size(len) bytes). */
void repl_entry_encode(void *out, const void *batch, size_t len);

/* The batch inside an entry: 0, or -C8S_EMALFORMED for anything that is
 * not exactly one framed batch. */
int repl_entry_decode(const struct raft_buffer *buf, const void **batch,
                      size_t *len);

#endif /* C8S_RAFT_ENTRY_H */
