/* Refcounted immutable byte buffers. */
#include "lib/rbuf.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

struct rbuf *rbuf_new_uninit(size_t len)
{
    struct rbuf *b;

    if (len > SIZE_MAX - sizeof *b - 1)
        return NULL;
    b = mem_malloc(sizeof *b + len + 1);
    if (b == NULL)
        return NULL;
    b->len = len;
    b->refs = 1;
    b->data[len] = '\0';
    return b;
}

struct rbuf *rbuf_new(const void *data, size_t len)
{
    struct rbuf *b = rbuf_new_uninit(len);

    if (b == NULL)
        return NULL;
    if (data != NULL)
        memcpy(b->data, data, len);
    else
        memset(b->data, 0, len);
    return b;
}

struct rbuf *rbuf_ref(struct rbuf *b)
{
    b->refs++;
    return b;
}

struct rbuf *rbuf_unref(struct rbuf *b)
{
    if (b != NULL && --b->refs == 0)
        mem_free(b);
    return NULL;
}
