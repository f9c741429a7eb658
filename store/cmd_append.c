/* Moving the commands of one encoded batch into another (forwarding). */
#include <errno.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/mp.h"
#include "store/cmd.h"

/* Bytes taken by the header of a batch that store_batch_peek accepted. */
static int header_len(const void *buf, size_t len, size_t *ret)
{
    struct mp_reader rd;
    uint32_t n;
    uint64_t u;
    int64_t i;

    mp_reader_init(&rd, buf, len);
    if (mp_read_array(&rd, &n) != 0 || n != 4 || mp_read_uint(&rd, &u) != 0 ||
        mp_read_uint(&rd, &u) != 0 || mp_read_uint(&rd, &u) != 0 ||
        mp_read_int(&rd, &i) != 0)
        return -C8S_EMALFORMED;
    *ret = len - mp_left(&rd);
    return 0;
}

int store_batch_append_encoded(struct store_batch *b, const void *src,
                               size_t len, size_t *ret_added)
{
    struct store_batch_info info;
    struct mp_writer w;
    size_t hdr;
    int rv = store_batch_peek(src, len, &info);

    if (rv == 0)
        rv = header_len(src, len, &hdr);
    if (rv != 0)
        return rv;
    mp_writer_init(&w);
    w.buf = b->buf;
    w.len = b->len;
    w.cap = b->cap;
    mp_write_raw(&w, (const uint8_t *)src + hdr, len - hdr);
    b->buf = w.buf;
    b->cap = w.cap;
    if (w.failed)
        return -ENOMEM;
    b->len = w.len;
    b->n_cmds += info.n_cmds;
    *ret_added = info.n_cmds;
    return 0;
}
