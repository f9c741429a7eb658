/* The tree builder shared by the decoders: one place for the limits, the
 * UTF-8 rule and the duplicate-key rule, whatever the input format. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/object/internal.h"
#include "lib/mem.h"

unsigned obj__opt_depth(const struct obj_decode_opts *o)
{
    unsigned d = o != NULL && o->max_depth ? o->max_depth
                                           : OBJ_DEFAULT_MAX_DEPTH;

    return d < OBJ_MAX_DEPTH_LIMIT ? d : OBJ_MAX_DEPTH_LIMIT;
}

size_t obj__opt_bytes(const struct obj_decode_opts *o)
{
    return o != NULL && o->max_bytes ? o->max_bytes : OBJ_DEFAULT_MAX_BYTES;
}

size_t obj__opt_string(const struct obj_decode_opts *o)
{
    return o != NULL && o->max_string ? o->max_string
                                      : OBJ_DEFAULT_MAX_STRING;
}

size_t obj__opt_nodes(const struct obj_decode_opts *o)
{
    return o != NULL && o->max_nodes ? o->max_nodes : OBJ_DEFAULT_MAX_NODES;
}

void obj__build_init(struct obj__build *b, const char *what,
                     const struct obj_decode_opts *opts, struct err *e)
{
    memset(b, 0, sizeof *b);
    b->what = what;
    b->max_depth = obj__opt_depth(opts);
    b->max_string = obj__opt_string(opts);
    if (opts != NULL) {
        b->dups = opts->dups;
        b->on_dup = opts->on_dup;
        b->on_dup_arg = opts->on_dup_arg;
    }
    b->e = e;
}

void obj__build_done(struct obj__build *b)
{
    while (b->depth > 0) {
        struct obj__frame *f = &b->stack[--b->depth];

        mem_free(f->key);
        obj_unref(f->c);
    }
    mem_free(b->stack);
    b->stack = NULL;
    b->cap = 0;
    b->root = obj_unref(b->root);
}

int obj__build_fail(struct obj__build *b, int code, size_t off,
                    const char *fmt, ...)
{
    char reason[160];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    b->code = code;
    if (b->line != 0)
        return err_setf(b->e, code, "%s: line %zu column %zu: %s", b->what,
                        b->line, b->col, reason);
    return err_setf(b->e, code, "%s: byte %zu: %s", b->what, off, reason);
}

bool obj__build_want_key(const struct obj__build *b)
{
    const struct obj__frame *f;

    if (b->depth == 0)
        return false;
    f = &b->stack[b->depth - 1];
    return f->c->type == OBJ_MAP && f->key == NULL;
}

struct obj *obj__build_top(const struct obj__build *b)
{
    return b->depth > 0 ? b->stack[b->depth - 1].c : NULL;
}

int obj__build_value(struct obj__build *b, struct obj *v, size_t off)
{
    struct obj__frame *f;
    int r;

    if (v == NULL)
        return obj__build_fail(b, -ENOMEM, off, "out of memory");
    if (b->depth == 0) {
        /* Decoders stop after one top-level value; a second is a bug. */
        obj_unref(b->root);
        b->root = v;
        return 0;
    }
    f = &b->stack[b->depth - 1];
    if (f->c->type == OBJ_ARRAY) {
        r = obj_array_append(f->c, v);
    } else if (f->dup >= 0) {
        obj__map_replace(f->c, (size_t)f->dup, v);
        mem_free(f->key);
        f->key = NULL;
        return 0;
    } else {
        r = obj__map_append_owned(f->c, f->key, f->klen, f->hash, v);
        if (r == 0)
            f->key = NULL;
    }
    if (r != 0) {
        obj_unref(v);
        return obj__build_fail(b, r, off, "out of memory");
    }
    return 0;
}

int obj__build_begin(struct obj__build *b, enum obj_type t, size_t off)
{
    struct obj__frame *f;
    struct obj *c;

    if (b->depth >= b->max_depth)
        return obj__build_fail(b, -C8S_ETOOLARGE, off,
                               "nesting deeper than %u levels", b->max_depth);
    if (b->depth == b->cap) {
        unsigned cap = b->cap ? 2 * b->cap : 16;
        struct obj__frame *s;

        cap = cap < b->max_depth ? cap : b->max_depth;
        s = mem_realloc(b->stack, cap * sizeof *s);
        if (s == NULL)
            return obj__build_fail(b, -ENOMEM, off, "out of memory");
        b->stack = s;
        b->cap = cap;
    }
    c = t == OBJ_MAP ? obj_map_new() : obj_array_new();
    if (c == NULL)
        return obj__build_fail(b, -ENOMEM, off, "out of memory");
    f = &b->stack[b->depth++];
    f->c = c;
    f->key = NULL;
    f->dup = -1;
    return 0;
}

int obj__build_end(struct obj__build *b, struct obj **ret)
{
    struct obj__frame *f = &b->stack[--b->depth];
    struct obj *c = f->c;

    /* A map's pending key can only remain on malformed input, which the
     * parsers reject before calling here. */
    mem_free(f->key);
    if (ret != NULL)
        *ret = c;
    return obj__build_value(b, c, 0);
}

int obj__build_check(struct obj__build *b, const char *s, size_t len,
                      size_t off, const char *kind)
{
    size_t bad;

    if (len > b->max_string)
        return obj__build_fail(b, -C8S_ETOOLARGE, off,
                               "%s longer than %zu bytes", kind,
                               b->max_string);
    if (!obj_utf8_check(s, len, &bad))
        return obj__build_fail(b, -C8S_EMALFORMED, off,
                               s[bad] == '\0' ? "NUL byte in %s"
                                              : "invalid UTF-8 in %s",
                               kind);
    return 0;
}

int obj__build_key(struct obj__build *b, const char *k, size_t klen,
                   size_t off)
{
    struct obj__frame *f = &b->stack[b->depth - 1];
    int r = obj__build_check(b, k, klen, off, "key");
    uint32_t hash;
    long i;
    char *copy;

    if (r != 0)
        return r;
    hash = obj__hash(k, klen);
    i = obj__map_find(f->c, k, klen, hash);
    if (i >= 0) {
        if (b->dups == OBJ_DUP_ERROR)
            return obj__build_fail(b, -C8S_EMALFORMED, off,
                                   "duplicate key \"%.64s\"",
                                   f->c->u.map.items[i].key);
        if (b->on_dup != NULL)
            b->on_dup(b->on_dup_arg, f->c->u.map.items[i].key, off);
    }
    copy = mem_malloc(klen + 1);
    if (copy == NULL)
        return obj__build_fail(b, -ENOMEM, off, "out of memory");
    memcpy(copy, k, klen);
    copy[klen] = '\0';
    f->key = copy;
    f->klen = klen;
    f->hash = hash;
    f->dup = i;
    return 0;
}

int obj__build_string(struct obj__build *b, const char *s, size_t len,
                      size_t off)
{
    int r = obj__build_check(b, s, len, off, "string");

    if (r != 0)
        return r;
    return obj__build_value(b, obj__str_new_valid(s, len), off);
}
