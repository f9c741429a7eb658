/* Layout of object nodes and helpers shared by the files of api/object/.
 * Nothing outside api/object/ includes this header. */
#ifndef C8S_API_OBJECT_INTERNAL_H
#define C8S_API_OBJECT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/object/codec.h"
#include "api/object/obj.h"
#include "lib/mp.h"

/* Maps up to this many entries are searched linearly; above it they keep a
 * hash index (most Kubernetes maps are small, labels or data can be big). */
#define OBJ__MAP_LINEAR_MAX 8

/* One map entry. */
struct obj_entry {
    char *key;       /* Key bytes, NUL-terminated, mem_malloc'ed. */
    uint32_t klen;   /* Key length in bytes (keys are shorter than 4 GiB). */
    uint32_t hash;   /* obj__hash() of the key, kept to rebuild the index. */
    struct obj *val; /* Value; the map owns one reference. */
};

/* A node. Which union member is live depends on type. */
struct obj {
    unsigned refs; /* Holders, changed atomically; unused when immortal. */
    uint8_t type;  /* enum obj_type. */
    bool immortal; /* Static node (null, true, false): never freed. */
    union {
        bool b;    /* OBJ_BOOL. */
        int64_t i; /* OBJ_INT. */
        double f;  /* OBJ_FLOAT. */
        struct {
            char *s;    /* Bytes (NUL-terminated), stored right after the
                         * node in the same allocation. */
            size_t len; /* Length without the NUL. */
        } str;          /* OBJ_STRING. */
        struct {
            struct obj **items; /* Elements; one reference each. */
            size_t len;         /* Elements in use. */
            size_t cap;         /* Elements allocated. */
        } arr;                  /* OBJ_ARRAY. */
        struct {
            struct obj_entry *items; /* Entries in insertion order. */
            size_t len;              /* Entries in use. */
            size_t cap;              /* Entries allocated. */
            uint32_t *index;         /* Open-addressing table of entry
                                      * positions + 1 (0: empty slot), or
                                      * NULL while len is small. */
            uint32_t index_mask;     /* Slots in index minus one. */
        } map;                       /* OBJ_MAP. */
    } u;
};

/* A string node for bytes already known to be valid (decoders check UTF-8
 * themselves while they read). NULL when out of memory. */
struct obj *obj__str_new_valid(const char *s, size_t len);

/* Seeded hash of a key. The seed comes from where ASLR loaded the code, so
 * it varies between processes and colliding keys cannot be precomputed to
 * slow lookups down (a weak defence, but free: no system call). */
uint32_t obj__hash(const char *key, size_t klen);

/* Position of @key in map @m, or -1. */
long obj__map_find(const struct obj *m, const char *key, size_t klen,
                   uint32_t hash);

/* Append an entry whose key is known to be absent. The map takes over @v's
 * reference on success. 0 or -ENOMEM. */
int obj__map_append(struct obj *m, const char *key, size_t klen,
                    uint32_t hash, struct obj *v);

/* Same, taking over @key (mem_malloc'ed, NUL-terminated) on success. */
int obj__map_append_owned(struct obj *m, char *key, size_t klen,
                          uint32_t hash, struct obj *v);

/* Replace the value of entry @i (the old value is unref'ed); takes over
 * @v's reference. */
void obj__map_replace(struct obj *m, size_t i, struct obj *v);

/* Reserve room for @n more elements in array @a. 0 or -ENOMEM. */
int obj__array_reserve(struct obj *a, size_t n);

/* Reserve room for @n more entries in map @m. 0 or -ENOMEM. */
int obj__map_reserve(struct obj *m, size_t n);

/* msgpack values read alike by the decoder (msgpack.c) and the JSON
 * transcoder (json_write.c), allocating nothing. Each advances @r and
 * returns NULL, or what is wrong ("truncated float") without changing @r.
 * A map header (0x80-0x8f, 0xde, 0xdf) gives its entry count, checked
 * against the bytes left; a float (0xca, 0xcb) must be finite. */
const char *obj__mp_map_header(struct mp_reader *r, uint32_t *n);
const char *obj__mp_float(struct mp_reader *r, double *v);

/* Shortest text that reads back as the same double, always with a '.' or an
 * exponent so it is not read back as an integer: "0.1", "1.0", "-0.0",
 * "100.0", "1e+21", "5e-324" (fixed notation from 1e-6 to below 1e21, like
 * Go and JavaScript). @buf must hold 32 bytes. Returns the length. @v must
 * be finite. Uses the C locale's decimal point (nothing in c8s calls
 * setlocale). */
size_t obj__fmt_float(double v, char *buf);

/* Decimal text of @v into @buf (24 bytes). Returns the length. */
size_t obj__fmt_int(int64_t v, char *buf);

/* ---- output buffer internals -------------------------------------------*/

/* Grow @b so @n more bytes and a NUL fit. 0 or -ENOMEM. */
int obj__buf_grow(struct obj_buf *b, size_t n);

/* Make room for @n more bytes (plus the NUL) in @b. 0 or -ENOMEM. */
static inline int obj__buf_reserve(struct obj_buf *b, size_t n)
{
    return b->cap - b->len > n ? 0 : obj__buf_grow(b, n);
}

/* ---- tree builder shared by the decoders ---------------------------------*/

/* One open container while decoding. */
struct obj__frame {
    struct obj *c;    /* The array or map being filled (owned). */
    char *key;        /* Map: key waiting for its value (owned) or NULL. */
    size_t klen;      /* Length of key. */
    uint32_t hash;    /* obj__hash() of key. */
    long dup;         /* Position of key in c when it is a duplicate kept
                       * under OBJ_DUP_LAST, else -1. */
};

/* Builds a tree from a stream of begin/key/value/end calls, enforcing the
 * limits (depth, string length) and the duplicate-key rule. */
struct obj__build {
    const char *what;              /* Codec name for messages: "json"... */
    unsigned max_depth;            /* Resolved limits from the options. */
    size_t max_string;             /* Longest string or key. */
    enum obj_dup_mode dups;        /* Duplicate key rule. */
    void (*on_dup)(void *, const char *, size_t); /* Duplicate report. */
    void *on_dup_arg;              /* For on_dup. */
    struct obj__frame *stack;      /* Open containers, outermost first. */
    unsigned depth;                /* Frames in use. */
    unsigned cap;                  /* Frames allocated. */
    struct obj *root;              /* The finished top-level value. */
    struct err *e;                 /* Where failures are described. */
    int code;                      /* Code of the failure, 0 before one. */
    size_t line;                   /* When not 0, messages give this line
                                    * and col instead of byte offsets
                                    * (YAML: what people can find). */
    size_t col;                    /* Column (1-based) with line. */
};

/* Resolved option values (defaults for zeros, depth capped). */
unsigned obj__opt_depth(const struct obj_decode_opts *o);
size_t obj__opt_bytes(const struct obj_decode_opts *o);
size_t obj__opt_string(const struct obj_decode_opts *o);
size_t obj__opt_nodes(const struct obj_decode_opts *o);

void obj__build_init(struct obj__build *b, const char *what,
                     const struct obj_decode_opts *opts, struct err *e);
/* Free whatever was built (after a failure, or after taking the root). */
void obj__build_done(struct obj__build *b);
/* Whether the innermost open container is a map waiting for a key. */
bool obj__build_want_key(const struct obj__build *b);
/* The innermost open container, or NULL at the top level. */
struct obj *obj__build_top(const struct obj__build *b);
/* Open an array or a map at byte @off. */
int obj__build_begin(struct obj__build *b, enum obj_type t, size_t off);
/* Close the innermost container; it becomes a value of its parent (or the
 * root). *@ret (if not NULL) gets the closed node, borrowed. */
int obj__build_end(struct obj__build *b, struct obj **ret);
/* A map key (validated here). */
int obj__build_key(struct obj__build *b, const char *k, size_t klen,
                   size_t off);
/* A value: always takes over @v's reference (NULL: -ENOMEM). */
int obj__build_value(struct obj__build *b, struct obj *v, size_t off);
/* Check string bytes against the limit, UTF-8 and NUL rules; @kind names
 * them in the message ("string", "key"). */
int obj__build_check(struct obj__build *b, const char *s, size_t len,
                     size_t off, const char *kind);
/* A string value (validated here). */
int obj__build_string(struct obj__build *b, const char *s, size_t len,
                      size_t off);
/* Describe a failure at byte @off: "<what>: byte <off>: <reason>" (or
 * "<what>: line L column C: <reason>"). */
int obj__build_fail(struct obj__build *b, int code, size_t off,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* C8S_API_OBJECT_INTERNAL_H */
