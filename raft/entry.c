/* Framing of the raft entries that carry store batches. */
#include "raft/entry.h"

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "lib/err.h"

#define ENTRY_MAGIC 0x31384338u /* "8C81" little-endian: c8s format 1 */

size_t repl_entry_size(size_t batch_len)
{
    return (REPL_ENTRY_HEADER + batch_len + 7) & ~(size_t)7;
}

void repl_entry_encode(void *out, const void *batch, size_t len)
{
    uint32_t hdr[2] = {htole32(ENTRY_MAGIC), htole32((uint32_t)len)};
    size_t total = repl_entry_size(len);

    memcpy(out, hdr, sizeof hdr);
    memcpy((char *)out + REPL_ENTRY_HEADER, batch, len);
    memset((char *)out + REPL_ENTRY_HEADER + len, 0,
           total - REPL_ENTRY_HEADER - len);
}

int repl_entry_decode(const struct raft_buffer *buf, const void **batch,
                      size_t *len)
{
    uint32_t hdr[2];

    if (buf->len < REPL_ENTRY_HEADER)
        return -C8S_EMALFORMED;
    memcpy(hdr, buf->base, sizeof hdr);
    if (le32toh(hdr[0]) != ENTRY_MAGIC ||
        repl_entry_size(le32toh(hdr[1])) != buf->len)
        return -C8S_EMALFORMED;
    *batch = (const char *)buf->base + REPL_ENTRY_HEADER;
    *len = le32toh(hdr[1]);
    return 0;
}
