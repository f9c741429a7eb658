/* msgpack helpers: a growing writer on mem_* and a bounded, strict reader.
 *
 * The writer wraps msgpack-c's packer (which always picks the shortest
 * encoding, so equal values give equal bytes). The reader is our own: it
 * never allocates and checks every length against the bytes left, so it is
 * safe on arbitrary input (msgpack-c's unpacker allocates by declared sizes
 * before seeing the data). */
#ifndef C8S_LIB_MP_H
#define C8S_LIB_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct mp_writer {
    msgpack_packer pk;  /* Packer whose sink is this writer. */
    uint8_t *buf;       /* Bytes written so far (mem_malloc'ed) or NULL. */
    size_t len;         /* Bytes used in buf. */
    size_t cap;         /* Bytes allocated for buf. */
    bool failed;        /* An allocation failed: the content is incomplete. */
};

/* Start an empty writer. Never fails: memory is allocated on first write. */
void mp_writer_init(struct mp_writer *w);
/* Free the buffer. */
void mp_writer_done(struct mp_writer *w);
/* Allocate room for @cap bytes now, so a writer whose size is roughly
 * known is not copied as it grows (pages never written cost nothing). A
 * failure is not remembered: the writer grows as usual later. */
void mp_writer_reserve(struct mp_writer *w, size_t cap);
/* Append raw bytes (not msgpack-encoded). */
void mp_write_raw(struct mp_writer *w, const void *data, size_t len);
/* Encoders; a failure is remembered in w->failed. */
void mp_write_uint(struct mp_writer *w, uint64_t v);
void mp_write_int(struct mp_writer *w, int64_t v);
void mp_write_nil(struct mp_writer *w);
void mp_write_array(struct mp_writer *w, uint32_t n);
/* A string (s may be NULL: written as nil). */
void mp_write_str(struct mp_writer *w, const char *s);
void mp_write_bin(struct mp_writer *w, const void *data, size_t len);

struct mp_reader {
    const uint8_t *p;    /* Next byte to read. */
    const uint8_t *end;  /* One past the last byte. */
};

void mp_reader_init(struct mp_reader *r, const void *data, size_t len);
static inline size_t mp_left(const struct mp_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Each returns 0, or -C8S_EMALFORMED (wrong type, truncated) and leaves the
 * reader where it was. */
int mp_read_uint(struct mp_reader *r, uint64_t *v);
int mp_read_int(struct mp_reader *r, int64_t *v);
int mp_read_array(struct mp_reader *r, uint32_t *n);
int mp_read_str(struct mp_reader *r, const char **s, uint32_t *len);
int mp_read_bin(struct mp_reader *r, const void **data, uint32_t *len);
/* Consume a nil if one is next; returns whether it did. */
bool mp_read_nil(struct mp_reader *r);

#endif /* C8S_LIB_MP_H */
