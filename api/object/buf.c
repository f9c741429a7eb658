/* The growing output buffer the encoders append to. */
#include <errno.h>
#include <string.h>

#include "api/object/internal.h"
#include "lib/mem.h"

void obj_buf_init(struct obj_buf *b)
{
    memset(b, 0, sizeof *b);
}

void obj_buf_done(struct obj_buf *b)
{
    mem_free(b->data);
    obj_buf_init(b);
}

int obj__buf_grow(struct obj_buf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 256;
    char *p;

    /* Room for @n more bytes and the NUL. */
    if (n > SIZE_MAX / 2 - b->len - 1)
        return -ENOMEM;
    while (cap < b->len + n + 1)
        cap *= 2;
    p = mem_realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int obj_buf_reserve(struct obj_buf *b, size_t n)
{
    return obj__buf_reserve(b, n);
}

int obj_buf_append(struct obj_buf *b, const void *data, size_t len)
{
    int r = obj__buf_reserve(b, len);

    if (r != 0)
        return r;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

struct rbuf *obj_buf_rbuf(const struct obj_buf *b)
{
    return rbuf_new(b->data, b->len);
}
