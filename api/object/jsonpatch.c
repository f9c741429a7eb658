/* JSON patch (RFC 6902) with JSON pointers (RFC 6901), jsonpatch.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/object/jsonpatch.h"
#include "lib/mem.h"

#define TOKENS_MAX 64
#define TOKEN_MAX 512 /* a label or annotation key is at most 317 */

/* A pointer split into unescaped tokens. */
struct pointer {
    char tok[TOKENS_MAX][TOKEN_MAX];
    size_t n;
};

static int parse_pointer(const char *s, struct pointer *p, struct err *e)
{
    p->n = 0;
    if (*s != '\0' && *s != '/')
        return err_setf(e, -EINVAL, "path \"%s\" does not start with /", s);
    while (*s == '/') {
        size_t l = 0;

        if (p->n == TOKENS_MAX)
            return err_setf(e, -EINVAL, "path has more than %d parts",
                            TOKENS_MAX);
        for (s++; *s != '\0' && *s != '/'; s++) {
            char c = *s;

            if (c == '~') {
                if (s[1] != '0' && s[1] != '1')
                    return err_setf(e, -EINVAL, "bad escape ~%c in path",
                                    s[1] ? s[1] : ' ');
                c = *++s == '0' ? '~' : '/';
            }
            if (l + 1 >= TOKEN_MAX)
                return err_setf(e, -EINVAL, "path part longer than %d bytes",
                                TOKEN_MAX - 1);
            p->tok[p->n][l++] = c;
        }
        p->tok[p->n++][l] = '\0';
    }
    return 0;
}

/* An array index token: digits without a leading zero; @len for "-". */
static int index_of(const char *t, size_t len, bool dash_ok, size_t *i)
{
    size_t v = 0;

    if (dash_ok && strcmp(t, "-") == 0) {
        *i = len;
        return 0;
    }
    if (*t == '\0' || (t[0] == '0' && t[1] != '\0') || strlen(t) > 18)
        return -EINVAL;
    for (; *t; t++) {
        if (*t < '0' || *t > '9')
            return -EINVAL;
        v = v * 10 + (size_t)(*t - '0');
    }
    *i = v;
    return 0;
}

/* The value at the first @n tokens of @p, or NULL. */
static struct obj *lookup(const struct obj *doc, const struct pointer *p,
                          size_t n)
{
    const struct obj *o = doc;

    for (size_t k = 0; k < n && o != NULL; k++) {
        size_t i;

        if (obj_type(o) == OBJ_MAP)
            o = obj_map_get(o, p->tok[k]);
        else if (obj_type(o) == OBJ_ARRAY &&
                 index_of(p->tok[k], obj_array_len(o), false, &i) == 0)
            o = obj_array_get(o, i);
        else
            o = NULL;
    }
    return (struct obj *)o;
}

/* The container the last token of @p names a member of, writable. */
static struct obj *parent_mut(struct obj *doc, const struct pointer *p)
{
    struct obj *o = doc;

    for (size_t k = 0; k + 1 < p->n && o != NULL; k++) {
        size_t i;

        if (obj_type(o) == OBJ_MAP)
            o = obj_map_get_mut(o, p->tok[k]);
        else if (obj_type(o) == OBJ_ARRAY &&
                 index_of(p->tok[k], obj_array_len(o), false, &i) == 0)
            o = obj_array_get_mut(o, i);
        else
            o = NULL;
    }
    return o;
}

static int missing(const char *path, struct err *e)
{
    return err_setf(e, -ENOENT, "path %s does not exist", path);
}

/* add: into a map (replacing) or before an array element ("-": append).
 * Takes @v's reference, even on failure. */
static int op_add(struct obj *doc, const struct pointer *p, const char *path,
                  struct obj *v, struct err *e)
{
    struct obj *parent = p->n > 0 ? parent_mut(doc, p) : NULL;
    const char *last = p->n > 0 ? p->tok[p->n - 1] : "";
    size_t i;
    int rv;

    if (p->n == 0)
        rv = err_setf(e, -EINVAL, "the whole object cannot be replaced");
    else if (parent == NULL)
        rv = missing(path, e);
    else if (obj_type(parent) == OBJ_MAP)
        rv = obj_map_set(parent, last, v) != 0 ? -ENOMEM : 0;
    else if (obj_type(parent) != OBJ_ARRAY ||
             index_of(last, obj_array_len(parent), true, &i) != 0 ||
             i > obj_array_len(parent))
        rv = err_setf(e, -ENOENT, "path %s is not a place to add", path);
    else
        rv = obj_array_insert(parent, i, v) != 0 ? -ENOMEM : 0;
    if (rv != 0)
        obj_unref(v);
    return rv;
}

static int op_remove(struct obj *doc, const struct pointer *p,
                     const char *path, struct err *e)
{
    struct obj *parent = p->n > 0 ? parent_mut(doc, p) : NULL;
    const char *last = p->n > 0 ? p->tok[p->n - 1] : "";
    size_t i;

    if (lookup(doc, p, p->n) == NULL || parent == NULL)
        return missing(path, e);
    if (obj_type(parent) == OBJ_MAP)
        return obj_map_del(parent, last) == 0 ? 0 : missing(path, e);
    if (index_of(last, obj_array_len(parent), false, &i) != 0 ||
        obj_array_remove(parent, i) != 0)
        return missing(path, e);
    return 0;
}

/* replace: the value in its place (a map keeps its key order). Takes
 * @v's reference, even on failure. */
static int op_replace(struct obj *doc, const struct pointer *p,
                      const char *path, struct obj *v, struct err *e)
{
    struct obj *parent = p->n > 0 ? parent_mut(doc, p) : NULL;
    const char *last = p->n > 0 ? p->tok[p->n - 1] : "";
    size_t i;
    int rv;

    if (lookup(doc, p, p->n) == NULL || parent == NULL)
        rv = missing(path, e);
    else if (obj_type(parent) == OBJ_MAP)
        rv = obj_map_set(parent, last, v) != 0 ? -ENOMEM : 0;
    else if (index_of(last, obj_array_len(parent), false, &i) != 0)
        rv = missing(path, e);
    else
        rv = obj_array_set(parent, i, v) != 0 ? -ENOMEM : 0;
    if (rv != 0)
        obj_unref(v);
    return rv;
}

static int one_op(struct obj *doc, const struct obj *op, size_t n,
                  struct err *e)
{
    const char *name = obj_str_or(obj_map_get(op, "op"), NULL);
    const char *path = obj_str_or(obj_map_get(op, "path"), NULL);
    const char *from = obj_str_or(obj_map_get(op, "from"), NULL);
    struct obj *value = obj_map_get(op, "value");
    struct pointer *p = mem_malloc(2 * sizeof *p), *f;
    int rv;

    if (p == NULL)
        return err_setf(e, -ENOMEM, "out of memory");
    f = p + 1;
    if (obj_type(op) != OBJ_MAP || name == NULL || path == NULL) {
        rv = err_setf(e, -EINVAL, "operation %zu needs \"op\" and \"path\"",
                      n);
    } else if ((rv = parse_pointer(path, p, e)) != 0) {
    } else if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
        if (value == NULL)
            rv = err_setf(e, -EINVAL, "operation %zu (%s) needs \"value\"", n,
                          name);
        else if (name[0] == 'r')
            rv = op_replace(doc, p, path, obj_copy(value), e);
        else
            rv = op_add(doc, p, path, obj_copy(value), e);
    } else if (strcmp(name, "remove") == 0) {
        rv = op_remove(doc, p, path, e);
    } else if (strcmp(name, "test") == 0) {
        if (value == NULL)
            rv = err_setf(e, -EINVAL, "operation %zu (test) needs \"value\"",
                          n);
        else if (!obj_equal(lookup(doc, p, p->n), value))
            rv = err_setf(e, -EDOM, "test of %s failed: the value differs",
                          path);
    } else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
        struct obj *v;
        size_t fl = from != NULL ? strlen(from) : 0;

        if (from == NULL)
            rv = err_setf(e, -EINVAL, "operation %zu (%s) needs \"from\"", n,
                          name);
        else if ((rv = parse_pointer(from, f, e)) != 0)
            ;
        else if ((v = lookup(doc, f, f->n)) == NULL)
            rv = missing(from, e);
        else if (name[0] == 'm' && strncmp(path, from, fl) == 0 &&
                 path[fl] == '/')
            rv = err_setf(e, -EINVAL, "cannot move %s into itself", from);
        else if ((v = obj_copy(v)) == NULL)
            rv = err_setf(e, -ENOMEM, "out of memory");
        else if (name[0] == 'm' && (rv = op_remove(doc, f, from, e)) != 0)
            obj_unref(v);
        else
            rv = op_add(doc, p, path, v, e);
    } else {
        rv = err_setf(e, -EINVAL, "operation %zu: unknown op \"%s\"", n,
                      name);
    }
    mem_free(p);
    return rv;
}

int obj_json_patch(struct obj *doc, const struct obj *ops, struct err *e)
{
    if (obj_type(ops) != OBJ_ARRAY)
        return err_setf(e, -EINVAL, "a JSON patch is an array of operations");
    for (size_t i = 0; i < obj_array_len(ops); i++) {
        int rv = one_op(doc, obj_array_get(ops, i), i, e);

        if (rv != 0)
            return rv;
    }
    return 0;
}

/* Does @v hold the value at pointer @rest ("/a/b", names without escapes)
 * below it? */
static bool value_holds(const struct obj *v, const char *rest)
{
    while (*rest == '/' && v != NULL) {
        const char *end = strchr(rest + 1, '/');
        size_t n = end != NULL ? (size_t)(end - rest - 1) : strlen(rest + 1);

        v = obj_map_getn(v, rest + 1, n);
        rest += 1 + n;
    }
    return v != NULL && *rest == '\0';
}

bool obj_json_patch_touches(const struct obj *ops, const char *path)
{
    size_t l = strlen(path);

    for (size_t i = 0; i < obj_array_len(ops); i++) {
        const struct obj *op = obj_array_get(ops, i);
        const char *p = obj_str_or(obj_map_get(op, "path"), "");
        size_t pl = strlen(p);

        if (strncmp(p, path, l) == 0 && (p[l] == '\0' || p[l] == '/'))
            return true;
        /* An ancestor replaced (or added) with a value that has it. */
        if (pl < l && strncmp(path, p, pl) == 0 && path[pl] == '/' &&
            value_holds(obj_map_get(op, "value"), path + pl))
            return true;
    }
    return false;
}
