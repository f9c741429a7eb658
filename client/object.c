/* The public object API (c8s/object.h): struct c8s_obj is the object
 * model's struct obj, seen through a narrower, read-only door. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <c8s/object.h>

#include "api/object/codec.h"

_Static_assert(C8S_OBJ_NULL == (int)OBJ_NULL && C8S_OBJ_BOOL == (int)OBJ_BOOL &&
                   C8S_OBJ_INT == (int)OBJ_INT &&
                   C8S_OBJ_FLOAT == (int)OBJ_FLOAT &&
                   C8S_OBJ_STRING == (int)OBJ_STRING &&
                   C8S_OBJ_ARRAY == (int)OBJ_ARRAY && C8S_OBJ_MAP == (int)OBJ_MAP,
               "public and internal object types agree");

static struct obj *in(const struct c8s_obj *o)
{
    return (struct obj *)o;
}

static int decode(bool yaml, const char *text, size_t len,
                  struct c8s_obj **ret, struct c8s_error *err)
{
    struct obj_decode_opts opts = {0};
    struct err e = {0};
    struct obj *o = NULL;
    int rv = yaml ? obj_yaml_decode(text, len, &opts, &o, &e)
                  : obj_json_decode(text, len, &opts, &o, &e);

    *ret = (struct c8s_obj *)o;
    if (rv != 0 && err != NULL) {
        memset(err, 0, sizeof *err);
        err->code = rv;
        (void)snprintf(err->message, sizeof err->message, "%s", e.msg);
    }
    return rv;
}

int c8s_obj_from_json(const char *text, size_t len, struct c8s_obj **ret,
                      struct c8s_error *err)
{
    return decode(false, text, len, ret, err);
}

int c8s_obj_from_yaml(const char *text, size_t len, struct c8s_obj **ret,
                      struct c8s_error *err)
{
    return decode(true, text, len, ret, err);
}

int c8s_obj_from_yaml_all(const char *text, size_t len, struct c8s_obj **ret,
                          struct c8s_error *err)
{
    struct obj_decode_opts opts = {0};
    struct err e = {0};
    struct obj *o = NULL;
    int rv = obj_yaml_decode_all(text, len, &opts, &o, &e);

    *ret = (struct c8s_obj *)o;
    if (rv != 0 && err != NULL) {
        memset(err, 0, sizeof *err);
        err->code = rv;
        (void)snprintf(err->message, sizeof err->message, "%s", e.msg);
    }
    return rv;
}

/* The buffer's bytes come from mem_malloc, which is malloc: free() works. */
static int take(struct obj_buf *b, int rv, char **ret, size_t *ret_len)
{
    if (rv != 0) {
        obj_buf_done(b);
        *ret = NULL;
        return rv;
    }
    if (b->data == NULL && obj_buf_append(b, "", 0) != 0)
        return -ENOMEM;
    *ret = b->data;
    if (ret_len != NULL)
        *ret_len = b->len;
    return 0;
}

int c8s_obj_to_json(const struct c8s_obj *o, char **ret, size_t *ret_len)
{
    struct obj_buf b;

    obj_buf_init(&b);
    return take(&b, obj_json_encode(in(o), 0, &b, NULL), ret, ret_len);
}

int c8s_obj_to_json_indented(const struct c8s_obj *o, char **ret,
                             size_t *ret_len)
{
    struct obj_buf b;

    obj_buf_init(&b);
    return take(&b,
                obj_json_encode(in(o), OBJ_JSON_INDENT | OBJ_JSON_NEWLINE, &b,
                                NULL),
                ret, ret_len);
}

int c8s_obj_set_str(struct c8s_obj **root, const char *path, const char *value)
{
    struct obj *o, *v;
    char step[256];
    int rv;

    if ((rv = obj_unshare((struct obj **)root)) != 0)
        return rv;
    o = in(*root);
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);

        if (obj_type(o) != OBJ_MAP || n == 0 || n >= sizeof step)
            return -EINVAL;
        memcpy(step, path, n);
        step[n] = '\0';
        if (dot == NULL) {
            v = obj_str_new_c(value);
            return v == NULL ? -ENOMEM : obj_map_set(o, step, v);
        }
        if (obj_map_get(o, step) == NULL) {
            if ((v = obj_map_new()) == NULL ||
                (rv = obj_map_set(o, step, v)) != 0)
                return v == NULL ? -ENOMEM : rv;
        }
        o = obj_map_get_mut(o, step);
        path = dot + 1;
    }
}

int c8s_obj_to_yaml(const struct c8s_obj *o, char **ret, size_t *ret_len)
{
    struct obj_buf b;

    obj_buf_init(&b);
    return take(&b, obj_yaml_encode(in(o), false, &b, NULL), ret, ret_len);
}

void c8s_obj_free(struct c8s_obj *o)
{
    obj_unref(in(o));
}

struct c8s_obj *c8s_obj_ref(const struct c8s_obj *o)
{
    return o == NULL ? NULL : (struct c8s_obj *)obj_ref(in(o));
}

enum c8s_obj_type c8s_obj_type(const struct c8s_obj *o)
{
    return o == NULL ? C8S_OBJ_NULL : (enum c8s_obj_type)obj_type(in(o));
}

const struct c8s_obj *c8s_obj_path(const struct c8s_obj *o, const char *path)
{
    return o == NULL ? NULL : (const struct c8s_obj *)obj_get_path(in(o), path);
}

const char *c8s_obj_str(const struct c8s_obj *o, const char *def)
{
    return obj_str_or(in(o), def);
}

int64_t c8s_obj_int(const struct c8s_obj *o, int64_t def)
{
    return obj_int_or(in(o), def);
}

bool c8s_obj_bool(const struct c8s_obj *o, bool def)
{
    return obj_bool_or(in(o), def);
}

size_t c8s_obj_len(const struct c8s_obj *o)
{
    switch (c8s_obj_type(o)) {
    case C8S_OBJ_ARRAY:
        return obj_array_len(in(o));
    case C8S_OBJ_MAP:
        return obj_map_len(in(o));
    default:
        return 0;
    }
}

const struct c8s_obj *c8s_obj_at(const struct c8s_obj *o, size_t i)
{
    switch (c8s_obj_type(o)) {
    case C8S_OBJ_ARRAY:
        return (const struct c8s_obj *)obj_array_get(in(o), i);
    case C8S_OBJ_MAP:
        return i < obj_map_len(in(o))
                   ? (const struct c8s_obj *)obj_map_value(in(o), i)
                   : NULL;
    default:
        return NULL;
    }
}

const char *c8s_obj_key(const struct c8s_obj *o, size_t i)
{
    if (c8s_obj_type(o) != C8S_OBJ_MAP || i >= obj_map_len(in(o)))
        return NULL;
    return obj_map_key(in(o), i, NULL);
}
