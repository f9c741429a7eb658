/* Refcounted immutable byte buffers: encode once, share with many readers. */
#ifndef C8S_LIB_RBUF_H
#define C8S_LIB_RBUF_H

#include <stddef.h>
#include <stdint.h>

struct rbuf {
    size_t len;          /* Bytes in data. */
    unsigned refs;       /* Owners; the buffer is freed when it drops to 0. */
    uint8_t data[];      /* Payload, followed by one '\0' for convenience. */
};

/* New buffer holding a copy of @len bytes at @data (NULL: zero-filled), with
 * one reference. Returns NULL when out of memory. */
struct rbuf *rbuf_new(const void *data, size_t len);

/* New buffer of @len bytes left unwritten (the caller fills them; only the
 * NUL after them is set), with one reference. For answers that are written
 * right away: zeroing megabytes first costs a page fault and a clear per
 * page. Returns NULL when out of memory. */
struct rbuf *rbuf_new_uninit(size_t len);

/* Take another reference. Returns @b. */
struct rbuf *rbuf_ref(struct rbuf *b);

/* Drop a reference; accepts NULL. Always returns NULL. */
struct rbuf *rbuf_unref(struct rbuf *b);

#endif /* C8S_LIB_RBUF_H */
