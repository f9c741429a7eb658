/* Server-side apply and managedFields (apply.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/apply.h"
#include "api/object/codec.h"
#include "lib/err.h"
#include "lib/mem.h"

#define SEP '\x01'
#define PATH_MAX_LEN 4096

/* The type of @o, which may be absent (NULL). */
static enum obj_type type_of(const struct obj *o)
{
    return o != NULL ? obj_type(o) : OBJ_NULL;
}

/* ---- field sets --------------------------------------------------------*/

void obj_fset_done(struct obj_fset *s)
{
    for (size_t i = 0; i < s->n; i++)
        mem_free(s->paths[i]);
    mem_free(s->paths);
    mem_free(s->vals);
    *s = (struct obj_fset){0};
}

/* Add @path (@len bytes) with the value found there (@val, borrowed from
 * the object walked; NULL for sets read from fieldsV1). */
static int fset_add_v(struct obj_fset *s, const char *path, size_t len,
                      const struct obj *val)
{
    char *copy;

    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        char **p = mem_realloc(s->paths, cap * sizeof *p);
        const struct obj **v;

        if (p == NULL)
            return -ENOMEM;
        s->paths = p;
        if ((v = mem_realloc(s->vals, cap * sizeof *v)) == NULL)
            return -ENOMEM;
        s->vals = v;
        s->cap = cap;
    }
    if ((copy = mem_malloc(len + 1)) == NULL)
        return -ENOMEM;
    memcpy(copy, path, len);
    copy[len] = '\0';
    s->vals[s->n] = val;
    s->paths[s->n++] = copy;
    return 0;
}

static int fset_add(struct obj_fset *s, const char *path, size_t len)
{
    return fset_add_v(s, path, len, NULL);
}

static int cmp_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct pair {
    char *path;
    const struct obj *val;
};

static int cmp_pairs(const void *a, const void *b)
{
    return strcmp(((const struct pair *)a)->path,
                  ((const struct pair *)b)->path);
}

/* Sort (paths with their values) and drop duplicates: every set is kept
 * that way. -ENOMEM leaves the set unsorted but whole. */
static int fset_normalize(struct obj_fset *s)
{
    struct pair *v;
    size_t k = 0;

    if (s->n < 2)
        return 0;
    if ((v = mem_malloc(s->n * sizeof *v)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < s->n; i++)
        v[i] = (struct pair){s->paths[i], s->vals[i]};
    qsort(v, s->n, sizeof *v, cmp_pairs);
    for (size_t i = 0; i < s->n; i++) {
        if (k > 0 && strcmp(s->paths[k - 1], v[i].path) == 0) {
            mem_free(v[i].path);
            continue;
        }
        s->paths[k] = v[i].path;
        s->vals[k++] = v[i].val;
    }
    s->n = k;
    mem_free(v);
    return 0;
}

/* Index of @path in the first @n (sorted) paths of @s, or -1. */
static long fset_find(const struct obj_fset *s, size_t n, const char *path)
{
    char **hit = n > 0 ? bsearch(&path, s->paths, n, sizeof *s->paths,
                                 cmp_paths)
                       : NULL;

    return hit != NULL ? (long)(hit - s->paths) : -1;
}

static bool fset_has(const struct obj_fset *s, const char *path)
{
    return fset_find(s, s->n, path) >= 0;
}

/* The value recorded with @path in @s, or NULL when absent. */
static const struct obj *fset_value(const struct obj_fset *s,
                                    const char *path)
{
    long i = fset_find(s, s->n, path);

    return i >= 0 ? s->vals[i] : NULL;
}

/* Remove @path from @s; true if it was there. */
static bool fset_del(struct obj_fset *s, const char *path)
{
    long i = fset_find(s, s->n, path);

    if (i < 0)
        return false;
    mem_free(s->paths[i]);
    memmove(s->paths + i, s->paths + i + 1,
            (s->n - (size_t)i - 1) * sizeof *s->paths);
    memmove(s->vals + i, s->vals + i + 1,
            (s->n - (size_t)i - 1) * sizeof *s->vals);
    s->n--;
    return true;
}

/* Keep only the paths @keep says yes to, in one pass. True if any went. */
static bool fset_filter(struct obj_fset *s,
                        bool (*keep)(const char *path, const void *ctx),
                        const void *ctx)
{
    size_t k = 0, n = s->n;

    for (size_t i = 0; i < n; i++) {
        if (!keep(s->paths[i], ctx)) {
            mem_free(s->paths[i]);
            continue;
        }
        s->vals[k] = s->vals[i];
        s->paths[k++] = s->paths[i];
    }
    s->n = k;
    return k != n;
}

/* Does any path of @s start with @prefix followed by a step separator?
 * SEP sorts before every other byte, so such paths follow @prefix at once
 * in sorted order: a binary search finds the place. */
static bool fset_has_under(const struct obj_fset *s, const char *prefix)
{
    size_t len = strlen(prefix), lo = 0, hi = s->n;

    while (lo < hi) { /* first path >= prefix */
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(s->paths[mid], prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < s->n && i < lo + 2; i++)
        if (strncmp(s->paths[i], prefix, len) == 0 &&
            s->paths[i][len] == SEP)
            return true;
    return false;
}

/* ---- the schema's view of lists -----------------------------------------*/

/* Key fields of a keyed list, comma-separated, or NULL. */
static const char *list_keys(const struct obj_sfield *f)
{
    if (f == NULL || f->type == NULL || f->type->kind != OBJ_ST_LIST ||
        f->type->elem->kind != OBJ_ST_STRUCT ||
        (f->list_type != NULL && strcmp(f->list_type, "atomic") == 0))
        return NULL;
    return f->list_keys != NULL ? f->list_keys : f->merge_key;
}

static bool is_set_list(const struct obj_sfield *f)
{
    if (f == NULL || f->type == NULL || f->type->kind != OBJ_ST_LIST ||
        f->type->elem->kind == OBJ_ST_STRUCT)
        return false;
    if (f->list_type != NULL)
        return strcmp(f->list_type, "set") == 0;
    return f->strategy != NULL && strstr(f->strategy, "merge") != NULL;
}

static const struct obj_sstruct *struct_of(const struct obj_stype *t)
{
    return t != NULL && t->kind == OBJ_ST_STRUCT ? t->st : NULL;
}

/* A key field's value in element @el, or its schema default. */
static const struct obj *key_value(const struct obj_sstruct *st,
                                   const struct obj *el, const char *key)
{
    const struct obj *v = obj_map_get(el, key);
    const struct obj_sfield *f;

    if (v != NULL || st == NULL || (f = obj_sstruct_field(st, key)) == NULL)
        return v;
    return f->def;
}

/* The key object {"k1":v1,...} of @el (keys sorted), or NULL when @el
 * lacks one of them. */
static struct obj *key_of(const struct obj_sstruct *st, const struct obj *el,
                          const char *keys)
{
    char buf[256], *names[8], *save = NULL;
    size_t n = 0;
    struct obj *k;

    (void)snprintf(buf, sizeof buf, "%s", keys);
    for (char *p = strtok_r(buf, ",", &save); p != NULL && n < 8;
         p = strtok_r(NULL, ",", &save))
        names[n++] = p;
    for (size_t i = 1; i < n; i++) /* a handful: insertion sort */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    if ((k = obj_map_new()) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const struct obj *v = key_value(st, el, names[i]);

        if (v == NULL || obj_map_set(k, names[i], obj_ref((struct obj *)v))) {
            if (v != NULL)
                obj_unref((struct obj *)v); /* kept only on success */
            obj_unref(k);
            return NULL;
        }
    }
    return k;
}

/* Does element @el have every key field of @key with the same value? */
static bool key_matches(const struct obj_sstruct *st, const struct obj *el,
                        const struct obj *key)
{
    /* A crafted "k:5" or "k:{}" (managedFields come from clients) names
     * no element. */
    if (obj_type(key) != OBJ_MAP || obj_map_len(key) == 0)
        return false;
    for (size_t i = 0; i < obj_map_len(key); i++) {
        const struct obj *v = key_value(st, el, obj_map_key(key, i, NULL));

        if (v == NULL || !obj_equal(v, obj_map_value(key, i)))
            return false;
    }
    return obj_type(el) == OBJ_MAP;
}

/* ---- paths of an object -----------------------------------------------*/

struct walk {
    struct obj_fset *out;
    char path[PATH_MAX_LEN];
    size_t len;
    bool skip_status;
    bool strict;   /* a configuration: keyed lists must have keys, once */
    char why[256]; /* what strict found wrong (rv -EINVAL) */
    int rv;
};

/* Append step @kind @s (length @n); returns the length to pop back to. */
static size_t push(struct walk *w, const char *kind, const char *s, size_t n)
{
    size_t old = w->len, need = (old ? 1 : 0) + strlen(kind) + n;

    if (old + need >= sizeof w->path) {
        w->rv = -E2BIG;
        return old;
    }
    if (old)
        w->path[w->len++] = SEP;
    memcpy(w->path + w->len, kind, strlen(kind));
    w->len += strlen(kind);
    memcpy(w->path + w->len, s, n);
    w->len += n;
    w->path[w->len] = '\0';
    return old;
}

static void pop(struct walk *w, size_t old)
{
    w->len = old;
    w->path[old] = '\0';
}

/* The path walked so far is a leaf whose value is @v. */
static void leaf(struct walk *w, const struct obj *v)
{
    if (w->rv == 0 && w->len > 0)
        w->rv = fset_add_v(w->out, w->path, w->len, v);
}

/* Fields the server owns, never a manager. */
static bool server_owned(const struct walk *w, const char *key)
{
    static const char *const meta[] = {
        "name", "namespace", "uid", "resourceVersion", "generation",
        "creationTimestamp", "managedFields", "deletionTimestamp",
        "deletionGracePeriodSeconds", "selfLink", NULL};

    if (w->len == 0)
        return strcmp(key, "apiVersion") == 0 || strcmp(key, "kind") == 0 ||
               (w->skip_status && strcmp(key, "status") == 0);
    if (strcmp(w->path, "f:metadata") != 0)
        return false;
    for (size_t i = 0; meta[i] != NULL; i++)
        if (strcmp(key, meta[i]) == 0)
            return true;
    return false;
}

static void walk_map(struct walk *w, const struct obj_sstruct *st,
                     const struct obj *m);

static char *key_text(const struct obj_sstruct *est, const struct obj *el,
                      const char *keys);
static int cmp_strs(const void *a, const void *b);

/* A configuration's keyed list: every element has its key, and no key
 * comes twice (Kubernetes refuses both). False (w->rv, w->why) if not. */
static bool keys_ok(struct walk *w, const struct obj_sfield *f,
                    const struct obj *v, const char *keys)
{
    size_t n = obj_array_len(v);
    char **texts = mem_calloc(n ? n : 1, sizeof *texts), where[512];
    bool ok = texts != NULL;

    obj_fset_path_str(w->path, where, sizeof where);
    for (size_t i = 0; ok && i < n; i++) {
        texts[i] = key_text(struct_of(f->type->elem), obj_array_get(v, i),
                            keys);
        if (texts[i] == NULL) {
            (void)snprintf(w->why, sizeof w->why,
                           "%.150s[%zu]: the element lacks its key (%.40s)", where,
                           i, keys);
            ok = false;
        }
    }
    if (ok && n > 1)
        qsort(texts, n, sizeof *texts, cmp_strs);
    for (size_t i = 1; ok && i < n; i++)
        if (strcmp(texts[i - 1], texts[i]) == 0) {
            (void)snprintf(w->why, sizeof w->why,
                           "%.150s: duplicate entries for key %.60s", where,
                           texts[i]);
            ok = false;
        }
    for (size_t i = 0; texts != NULL && i < n; i++)
        mem_free(texts[i]);
    mem_free(texts);
    if (!ok)
        w->rv = w->why[0] != '\0' ? -EINVAL : -ENOMEM;
    return ok;
}

static void walk_list(struct walk *w, const struct obj_sfield *f,
                      const struct obj *v)
{
    const char *keys = list_keys(f);
    size_t n = obj_array_len(v);

    if (w->strict && keys != NULL && n > 0 && !keys_ok(w, f, v, keys))
        return;

    if (n == 0 || (keys == NULL && !is_set_list(f))) {
        leaf(w, v); /* atomic */
        return;
    }
    for (size_t i = 0; i < n && w->rv == 0; i++) {
        const struct obj *el = obj_array_get(v, i);
        const struct obj_sstruct *est = struct_of(f->type->elem);
        struct obj *k = keys != NULL ? key_of(est, el, keys) : NULL;
        struct obj_buf b;
        size_t old;

        if (keys != NULL && k == NULL) { /* an element without its key */
            leaf(w, v);
            return;
        }
        obj_buf_init(&b);
        if (obj_json_encode(k != NULL ? k : el, 0, &b, NULL) != 0) {
            obj_buf_done(&b);
            obj_unref(k);
            w->rv = -ENOMEM;
            return;
        }
        old = push(w, k != NULL ? "k:" : "v:", b.data, b.len);
        obj_buf_done(&b);
        obj_unref(k);
        if (keys != NULL) {
            size_t dot = push(w, ".", "", 0);
            leaf(w, el);
            pop(w, dot);
            walk_map(w, est, el);
        } else {
            leaf(w, el);
        }
        pop(w, old);
    }
}

static void walk_value(struct walk *w, const struct obj_stype *t,
                       const struct obj_sfield *f, const struct obj *v)
{
    enum obj_stype_kind kind = t != NULL ? t->kind : OBJ_ST_ANY;

    if (kind == OBJ_ST_LIST && obj_type(v) == OBJ_ARRAY) {
        walk_list(w, f, v);
    } else if ((kind == OBJ_ST_STRUCT || kind == OBJ_ST_MAP ||
                kind == OBJ_ST_ANY) &&
               obj_type(v) == OBJ_MAP && obj_map_len(v) > 0) {
        if (kind == OBJ_ST_MAP) {
            for (size_t i = 0; i < obj_map_len(v) && w->rv == 0; i++) {
                size_t klen;
                const char *k = obj_map_key(v, i, &klen);
                size_t old = push(w, "f:", k, klen);

                walk_value(w, t->elem, NULL, obj_map_value(v, i));
                pop(w, old);
            }
        } else {
            walk_map(w, struct_of(t), v);
        }
    } else {
        leaf(w, v);
    }
}

static void walk_map(struct walk *w, const struct obj_sstruct *st,
                     const struct obj *m)
{
    for (size_t i = 0; i < obj_map_len(m) && w->rv == 0; i++) {
        size_t klen;
        const char *k = obj_map_key(m, i, &klen);
        const struct obj_sfield *f = st ? obj_sstruct_field(st, k) : NULL;
        size_t old;

        if (server_owned(w, k))
            continue;
        old = push(w, "f:", k, klen);
        walk_value(w, f != NULL ? f->type : NULL, f, obj_map_value(m, i));
        pop(w, old);
    }
}

/* obj_fset_of, and with @e a configuration's: keyed lists checked. */
static int fset_of(const struct obj_sstruct *st, const struct obj *o,
                   bool skip_status, struct obj_fset *out, struct err *e)
{
    struct walk *w = mem_calloc(1, sizeof *w);
    int rv;

    if (w == NULL)
        return -ENOMEM;
    w->out = out;
    w->skip_status = skip_status;
    w->strict = e != NULL;
    walk_map(w, st, o);
    rv = w->rv;
    if (rv == -EINVAL)
        err_setf(e, rv, "%s", w->why);
    else if (rv == -E2BIG)
        rv = err_setf(e, -EINVAL, "the configuration is nested too deeply");
    mem_free(w);
    return rv != 0 ? rv : fset_normalize(out);
}

int obj_fset_of(const struct obj_sstruct *st, const struct obj *o,
                bool skip_status, struct obj_fset *out)
{
    return fset_of(st, o, skip_status, out, NULL);
}

int obj_apply_check(const struct obj_sstruct *st, const struct obj *config,
                    struct err *e)
{
    struct obj_fset a = {0};
    int rv = fset_of(st, config, false, &a, e);

    obj_fset_done(&a);
    return rv;
}

/* ---- fieldsV1 ----------------------------------------------------------*/

static int read_tree(const struct obj *node, struct walk *w)
{
    if (obj_type(node) != OBJ_MAP)
        return -EINVAL;
    if (obj_map_len(node) == 0) {
        leaf(w, NULL);
        return w->rv;
    }
    for (size_t i = 0; i < obj_map_len(node) && w->rv == 0; i++) {
        size_t klen;
        const char *k = obj_map_key(node, i, &klen);
        size_t old;
        int rv;

        if (klen < 1 || memchr(k, SEP, klen) != NULL ||
            (strcmp(k, ".") != 0 &&
             (klen < 2 || k[1] != ':' || strchr("fkvi", k[0]) == NULL)))
            return -EINVAL;
        old = push(w, "", k, klen);
        rv = read_tree(obj_map_value(node, i), w);
        pop(w, old);
        if (rv != 0)
            return rv;
    }
    return w->rv;
}

int obj_fset_from_fields_v1(const struct obj *f, struct obj_fset *out)
{
    struct walk *w = mem_calloc(1, sizeof *w);
    int rv;

    if (w == NULL)
        return -ENOMEM;
    w->out = out;
    rv = obj_map_len(f) == 0 && obj_type(f) == OBJ_MAP ? 0 : read_tree(f, w);
    mem_free(w);
    return rv != 0 ? rv : fset_normalize(out);
}

/* Set @path (steps joined by SEP) in tree @root to {}. */
static int tree_add(struct obj *root, const char *path)
{
    struct obj *node = root;

    while (*path != '\0') {
        const char *end = strchr(path, SEP);
        size_t n = end != NULL ? (size_t)(end - path) : strlen(path);
        struct obj *child = obj_map_getn(node, path, n);

        if (child == NULL) {
            if (obj_map_setn(node, path, n, obj_map_new()) != 0)
                return -ENOMEM;
        }
        if ((child = obj_map_getn(node, path, n)) == NULL)
            return -ENOMEM;
        /* obj_map_getn gives the stored child; the tree is private. */
        node = child;
        path += n + (end != NULL);
    }
    return 0;
}

struct obj *obj_fset_to_fields_v1(const struct obj_fset *s)
{
    struct obj *root = obj_map_new();

    for (size_t i = 0; root != NULL && i < s->n; i++)
        if (tree_add(root, s->paths[i]) != 0)
            root = obj_unref(root);
    return root;
}

void obj_fset_path_str(const char *path, char *out, size_t size)
{
    size_t len = 0;

    out[0] = '\0';
    while (*path != '\0' && len + 1 < size) {
        const char *end = strchr(path, SEP);
        size_t n = end != NULL ? (size_t)(end - path) : strlen(path);
        int w = 0;

        if (n >= 2 && path[0] == 'f')
            w = snprintf(out + len, size - len, ".%.*s", (int)n - 2, path + 2);
        else if (n >= 2 && (path[0] == 'k' || path[0] == 'v'))
            w = snprintf(out + len, size - len, "[%.*s]", (int)n - 2,
                         path + 2);
        if (w < 0 || (size_t)w >= size - len)
            break;
        len += (size_t)w;
        path += n + (end != NULL);
    }
}

/* ---- navigation ---------------------------------------------------------*/

/* Where a walk down an object stands. */
struct cursor {
    struct obj *v;                 /* value (NULL: absent) */
    const struct obj_stype *t;     /* its type, NULL if unknown */
    const struct obj_sfield *f;    /* the field holding it, or NULL */
    const struct obj_sstruct *st;  /* struct_of(t), or the root's */
};

/* Index in array @a of the element step @step ("k:{..}" or "v:..")
 * names, or -1. */
static long find_element(const struct cursor *c, const char *step, size_t n)
{
    struct obj *want = NULL;
    long found = -1;

    if (obj_json_decode(step + 2, n - 2, NULL, &want, NULL) != 0)
        return -1;
    for (size_t i = 0; i < obj_array_len(c->v) && found < 0; i++) {
        const struct obj *el = obj_array_get(c->v, i);

        if (step[0] == 'k' ? key_matches(struct_of(c->t ? c->t->elem : NULL),
                                         el, want)
                           : obj_equal(el, want))
            found = (long)i;
    }
    obj_unref(want);
    return found;
}

/* Move @c one step (@step, @n bytes) down; @mut: through private copies
 * (copy on write), so the value may be changed. False if absent. */
static bool step_down(struct cursor *c, const char *step, size_t n, bool mut)
{
    if (n == 1 && step[0] == '.')
        return c->v != NULL;
    if (c->v == NULL || n < 2)
        return false;
    if (step[0] == 'f' && obj_type(c->v) == OBJ_MAP) {
        char name[512];

        if (n - 2 >= sizeof name)
            return false;
        memcpy(name, step + 2, n - 2);
        name[n - 2] = '\0';
        if (c->t != NULL && c->t->kind == OBJ_ST_MAP) {
            c->t = c->t->elem;
            c->f = NULL;
        } else {
            c->f = c->st != NULL ? obj_sstruct_field(c->st, name) : NULL;
            c->t = c->f != NULL ? c->f->type : NULL;
        }
        c->st = struct_of(c->t);
        c->v = mut ? obj_map_get_mut(c->v, name) : obj_map_get(c->v, name);
        return c->v != NULL;
    }
    if ((step[0] == 'k' || step[0] == 'v') && obj_type(c->v) == OBJ_ARRAY) {
        long i = find_element(c, step, n);

        if (i < 0)
            return false;
        c->v = mut ? obj_array_get_mut(c->v, (size_t)i)
                   : obj_array_get(c->v, (size_t)i);
        c->t = c->t != NULL ? c->t->elem : NULL;
        c->f = NULL;
        c->st = struct_of(c->t);
        return c->v != NULL;
    }
    return false;
}

static struct cursor root_cursor(const struct obj_sstruct *st, struct obj *o)
{
    return (struct cursor){.v = o, .st = st};
}

/* Remove what @path names from @o (private). A path ending in "." removes
 * the list element itself. Absent: nothing to do. */
static int remove_at(const struct obj_sstruct *st, struct obj *o,
                     const char *path)
{
    char buf[PATH_MAX_LEN];
    char *last;
    size_t len = strlen(path);
    struct cursor c = root_cursor(st, o);

    if (len >= sizeof buf)
        return 0;
    memcpy(buf, path, len + 1);
    if (len >= 2 && buf[len - 1] == '.' && buf[len - 2] == SEP)
        buf[len - 2] = '\0'; /* the element itself */
    last = strrchr(buf, SEP);
    if (last != NULL) {
        *last++ = '\0';
        for (char *p = buf; *p != '\0';) {
            char *end = strchr(p, SEP);
            size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

            if (!step_down(&c, p, n, true))
                return 0;
            p += n + (end != NULL);
        }
    } else {
        last = buf;
    }
    if (last[0] == 'f' && obj_type(c.v) == OBJ_MAP)
        return obj_map_del(c.v, last + 2) == -ENOMEM ? -ENOMEM : 0;
    if ((last[0] == 'k' || last[0] == 'v') && obj_type(c.v) == OBJ_ARRAY) {
        long i = find_element(&c, last, strlen(last));

        return i < 0 ? 0 : obj_array_remove(c.v, (size_t)i);
    }
    return 0;
}

/* ---- merging a configuration ---------------------------------------------*/

static int merge_map(const struct obj_sstruct *st, const struct obj_stype *mt,
                     struct obj *live, const struct obj *cfg);

static char *json_text(const struct obj *el);

/* The key of element @el as JSON text (mem_free it), or NULL when it has
 * none (or out of memory). */
static char *key_text(const struct obj_sstruct *est, const struct obj *el,
                      const char *keys)
{
    struct obj *key = key_of(est, el, keys);
    char *text = key != NULL ? json_text(key) : NULL;

    obj_unref(key);
    return text;
}

static int cmp_strs(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct keyed {
    char *key;
    size_t index;
};

static int cmp_keyed(const void *a, const void *b)
{
    return strcmp(((const struct keyed *)a)->key,
                  ((const struct keyed *)b)->key);
}

/* Merge keyed list @cfg into @live element by element: live elements are
 * indexed by key once (sorted), so big lists stay O(n log n). */
static int merge_keyed(const struct obj_sfield *f, struct obj *live,
                       const struct obj *cfg)
{
    const struct obj_sstruct *est = struct_of(f->type->elem);
    const char *keys = list_keys(f);
    size_t n = obj_array_len(live), m = 0;
    struct keyed *idx = mem_calloc(n ? n : 1, sizeof *idx);
    int rv = idx == NULL ? -ENOMEM : 0;

    for (size_t k = 0; k < n && rv == 0; k++) {
        char *t = key_text(est, obj_array_get(live, k), keys);

        if (t != NULL)
            idx[m++] = (struct keyed){t, k};
    }
    if (m > 1)
        qsort(idx, m, sizeof *idx, cmp_keyed);
    for (size_t i = 0; i < obj_array_len(cfg) && rv == 0; i++) {
        const struct obj *el = obj_array_get(cfg, i);
        struct keyed want = {key_text(est, el, keys), 0}, *hit = NULL;

        if (want.key != NULL && m > 0)
            hit = bsearch(&want, idx, m, sizeof *idx, cmp_keyed);
        mem_free(want.key);
        if (hit == NULL) {
            rv = obj_array_append(live, obj_ref((struct obj *)el));
        } else {
            struct obj *mine = obj_array_get_mut(live, hit->index);

            rv = mine == NULL ? -ENOMEM : merge_map(est, NULL, mine, el);
        }
    }
    for (size_t k = 0; k < m; k++)
        mem_free(idx[k].key);
    mem_free(idx);
    return rv;
}

/* @el as JSON text (mem_free it), or NULL when out of memory. */
static char *json_text(const struct obj *el)
{
    struct obj_buf b;
    char *text = NULL;

    obj_buf_init(&b);
    if (obj_json_encode(el, 0, &b, NULL) == 0 && obj_buf_append(&b, "", 1) == 0) {
        text = b.data;
        b = (struct obj_buf){0};
    }
    obj_buf_done(&b);
    return text;
}

/* A set list: @cfg's values that @live lacks are appended (live values
 * indexed as JSON text once, so big sets stay O(n log n)). */
static int merge_set(struct obj *live, const struct obj *cfg)
{
    size_t n = obj_array_len(live), m = 0;
    struct keyed *idx = mem_calloc(n ? n : 1, sizeof *idx);
    int rv = idx == NULL ? -ENOMEM : 0;

    for (size_t k = 0; k < n && rv == 0; k++) {
        char *t = json_text(obj_array_get(live, k));

        if (t == NULL)
            rv = -ENOMEM;
        else
            idx[m++] = (struct keyed){t, k};
    }
    if (m > 1)
        qsort(idx, m, sizeof *idx, cmp_keyed);
    for (size_t i = 0; i < obj_array_len(cfg) && rv == 0; i++) {
        const struct obj *el = obj_array_get(cfg, i);
        struct keyed want = {json_text(el), 0};

        if (want.key == NULL)
            rv = -ENOMEM;
        else if (m == 0 || bsearch(&want, idx, m, sizeof *idx, cmp_keyed) == NULL)
            rv = obj_array_append(live, obj_ref((struct obj *)el));
        mem_free(want.key);
    }
    for (size_t k = 0; k < m; k++)
        mem_free(idx[k].key);
    mem_free(idx);
    return rv;
}

/* Merge the value @cv of field @f (type @t) into @live's key @k. */
static int merge_value(struct obj *live, const char *k,
                       const struct obj_stype *t, const struct obj_sfield *f,
                       const struct obj *cv)
{
    struct obj *lv = obj_map_get(live, k);
    enum obj_stype_kind kind = t != NULL ? t->kind : OBJ_ST_ANY;

    if (lv != NULL && obj_type(lv) == OBJ_MAP && obj_type(cv) == OBJ_MAP &&
        (kind == OBJ_ST_STRUCT || kind == OBJ_ST_MAP || kind == OBJ_ST_ANY)) {
        struct obj *mine = obj_map_get_mut(live, k);

        return mine == NULL ? -ENOMEM
                            : merge_map(struct_of(t),
                                        kind == OBJ_ST_MAP ? t : NULL, mine,
                                        cv);
    }
    if (lv != NULL && obj_type(lv) == OBJ_ARRAY && obj_type(cv) == OBJ_ARRAY &&
        (list_keys(f) != NULL || is_set_list(f))) {
        struct obj *mine = obj_map_get_mut(live, k);

        if (mine == NULL)
            return -ENOMEM;
        return list_keys(f) != NULL ? merge_keyed(f, mine, cv)
                                    : merge_set(mine, cv);
    }
    int rv = obj_map_set(live, k, obj_ref((struct obj *)cv));

    if (rv != 0)
        obj_unref((struct obj *)cv); /* kept only on success */
    return rv;
}

/* Merge map @cfg into map @live: a struct @st's fields, or (with @mt) a
 * map[T]'s values. */
static int merge_map(const struct obj_sstruct *st, const struct obj_stype *mt,
                     struct obj *live, const struct obj *cfg)
{
    for (size_t i = 0; i < obj_map_len(cfg); i++) {
        const char *k = obj_map_key(cfg, i, NULL);
        const struct obj *cv = obj_map_value(cfg, i);
        const struct obj_sfield *f = st ? obj_sstruct_field(st, k) : NULL;
        int rv;

        if (obj_is_null(cv))
            rv = obj_map_del(live, k) == -ENOMEM ? -ENOMEM : 0;
        else
            rv = merge_value(live, k, mt != NULL ? mt->elem
                                      : f != NULL ? f->type
                                                  : NULL,
                             f, cv);
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* ---- managedFields ---------------------------------------------------------*/

struct entry {
    struct obj *orig;        /* the entry as stored (a reference) */
    const char *manager;
    const char *operation;   /* "Apply", "Update" */
    const char *subresource; /* "" for the main resource */
    struct obj_fset set;
    bool changed;
    bool mine;               /* the entry of this write's manager: gets
                                its apiVersion and time */
};

struct entries {
    struct entry *v;
    size_t n;
};

static void entries_done(struct entries *es)
{
    for (size_t i = 0; i < es->n; i++) {
        obj_unref(es->v[i].orig);
        obj_fset_done(&es->v[i].set);
    }
    mem_free(es->v);
    *es = (struct entries){0};
}

static int entries_read(const struct obj *o, struct entries *es,
                        struct err *e)
{
    const struct obj *mf = obj_get_path(o, "metadata.managedFields");
    size_t n = obj_array_len(mf);

    *es = (struct entries){0};
    if (n == 0)
        return 0;
    if ((es->v = mem_calloc(n, sizeof *es->v)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct obj *m = obj_array_get(mf, i);
        struct entry *en = &es->v[es->n];
        const struct obj *f = obj_map_get(m, "fieldsV1");
        int rv;

        if (obj_type(m) != OBJ_MAP)
            continue;
        en->orig = obj_ref(m);
        en->manager = obj_str_or(obj_map_get(m, "manager"), "");
        en->operation = obj_str_or(obj_map_get(m, "operation"), "Update");
        en->subresource = obj_str_or(obj_map_get(m, "subresource"), "");
        es->n++;
        rv = f == NULL ? 0 : obj_fset_from_fields_v1(f, &en->set);
        if (rv != 0) {
            err_setf(e, rv, "metadata.managedFields[%zu].fieldsV1: %s", i,
                     rv == -EINVAL ? "not a fieldsV1 tree" : "too deep");
            entries_done(es);
            return rv == -ENOMEM ? rv : -EINVAL;
        }
    }
    return 0;
}

/* The entry of @manager for @operation through @sub ("" for the main
 * resource), added when missing. */
static struct entry *entry_of(struct entries *es, const char *manager,
                              const char *operation, const char *sub)
{
    struct entry *v;

    sub = sub != NULL ? sub : "";
    for (size_t i = 0; i < es->n; i++)
        if (strcmp(es->v[i].manager, manager) == 0 &&
            strcmp(es->v[i].operation, operation) == 0 &&
            strcmp(es->v[i].subresource, sub) == 0) {
            es->v[i].mine = true; /* only ever asked for the writer's */
            return &es->v[i];
        }
    if ((v = mem_realloc(es->v, (es->n + 1) * sizeof *v)) == NULL)
        return NULL;
    es->v = v;
    v = &es->v[es->n++];
    *v = (struct entry){.manager = manager, .operation = operation,
                        .subresource = sub, .changed = true, .mine = true};
    return v;
}

static struct obj *entry_obj(const struct entry *en,
                             const struct obj_apply_opts *o)
{
    struct obj *m = obj_map_new(), *f = obj_fset_to_fields_v1(&en->set);
    bool keep = !en->mine && en->orig != NULL; /* another's: as it was */
    const char *api = keep ? obj_str_or(obj_map_get(en->orig, "apiVersion"),
                                        o->api_version)
                           : o->api_version;
    const char *when = keep ? obj_str_or(obj_map_get(en->orig, "time"), o->now)
                            : o->now;

    if (m == NULL || f == NULL ||
        obj_map_set(m, "manager", obj_str_new_c(en->manager)) ||
        obj_map_set(m, "operation", obj_str_new_c(en->operation)) ||
        obj_map_set(m, "apiVersion", obj_str_new_c(api)) ||
        obj_map_set(m, "time", obj_str_new_c(when)) ||
        obj_map_set(m, "fieldsType", obj_str_new_c("FieldsV1")) ||
        obj_map_set(m, "fieldsV1", obj_ref(f))) {
        obj_unref(m);
        obj_unref(f);
        return NULL;
    }
    obj_unref(f);
    if (en->subresource[0] != '\0' &&
        obj_map_set(m, "subresource", obj_str_new_c(en->subresource)) != 0)
        return obj_unref(m);
    return m;
}

/* Write @es back as @obj's metadata.managedFields: changed entries anew,
 * the others as they were, empty ones dropped. */
static int entries_write(struct entries *es, struct obj *obj,
                         const struct obj_apply_opts *o)
{
    struct obj *meta, *arr;
    int rv;

    if (type_of(obj) != OBJ_MAP ||
        type_of(obj_map_get(obj, "metadata")) != OBJ_MAP)
        return 0; /* no metadata to keep books in: validation refuses it */
    if ((meta = obj_map_get_mut(obj, "metadata")) == NULL ||
        (arr = obj_array_new()) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < es->n; i++) {
        struct entry *en = &es->v[i];
        struct obj *m;

        if (en->set.n == 0)
            continue;
        m = en->changed || en->orig == NULL ? entry_obj(en, o)
                                            : obj_ref(en->orig);
        if (m == NULL || obj_array_append(arr, m) != 0) {
            obj_unref(arr);
            return -ENOMEM;
        }
    }
    if (obj_array_len(arr) == 0) {
        obj_unref(arr);
        return obj_map_del(meta, "managedFields") == -ENOMEM ? -ENOMEM : 0;
    }
    /* obj_map_set keeps @arr only when it succeeds */
    if ((rv = obj_map_set(meta, "managedFields", arr)) != 0)
        obj_unref(arr);
    return rv;
}

/* ---- apply ---------------------------------------------------------------*/

/* Conflicts of applying @a over @live: another entry owns a field of @a
 * whose value differs. Each is described into @msg; with @force they are
 * taken from their owners instead. Returns how many. */
static bool is_element(const char *p);

/* One conflict: entry @entry of the object's managedFields owns path
 * @path of the configuration with another value. */
struct conflict {
    size_t entry, path;
};

#define MAX_CONFLICTS_SHOWN 64

/* Conflicts of applying @a over @live: another entry owns a field of @a
 * whose value differs. The first MAX_CONFLICTS_SHOWN go into @out; with
 * @force they are taken from their owners instead. Returns how many. */
static size_t conflicts(struct entries *es, const struct entry *me,
                        const struct obj_fset *a, const struct obj_fset *live,
                        bool force, struct conflict *out)
{
    size_t n = 0;

    for (size_t i = 0; i < a->n; i++) {
        const char *p = a->paths[i];

        if (is_element(p))
            continue; /* owning an element together is no conflict */
        if (obj_equal(fset_value(live, p), a->vals[i]))
            continue;
        for (size_t k = 0; k < es->n; k++) {
            struct entry *other = &es->v[k];

            if (other == me || !fset_has(&other->set, p))
                continue;
            if (force) {
                (void)fset_del(&other->set, p);
                other->changed = true;
                continue;
            }
            if (n < MAX_CONFLICTS_SHOWN)
                out[n] = (struct conflict){k, i};
            n++;
        }
    }
    return n;
}

/* '"kubectl" using apps/v1' for entry @en. */
static void owner_str(const struct entry *en, char *out, size_t size)
{
    const char *api = obj_str_or(obj_map_get(en->orig, "apiVersion"), NULL);

    (void)snprintf(out, size, "\"%s\"%s%s", en->manager,
                   api != NULL ? " using " : "", api != NULL ? api : "");
}

/* Kubernetes' wording: one conflict on one line; several grouped by
 * manager, "conflicts with M:" and then "- .path" lines. */
static void describe_conflicts(const struct entries *es,
                               const struct obj_fset *a,
                               const struct conflict *c, size_t n,
                               char *msg, size_t size)
{
    size_t shown = n < MAX_CONFLICTS_SHOWN ? n : MAX_CONFLICTS_SHOWN;
    size_t len = 0;
    char owner[300], field[512];

    msg[0] = '\0';
    if (n == 1) {
        owner_str(&es->v[c[0].entry], owner, sizeof owner);
        obj_fset_path_str(a->paths[c[0].path], field, sizeof field);
        (void)snprintf(msg, size, "conflict with %s: %s", owner, field);
        return;
    }
    for (size_t i = 0; i < shown && len < size; i++) {
        bool first = true;

        for (size_t j = 0; j < i && first; j++)
            first = c[j].entry != c[i].entry;
        if (!first)
            continue; /* its group was written with the first one */
        owner_str(&es->v[c[i].entry], owner, sizeof owner);
        len += (size_t)snprintf(msg + len, size - len, "%sconflicts with %s:",
                                len ? "\n" : "", owner);
        for (size_t j = i; j < shown && len < size; j++) {
            if (c[j].entry != c[i].entry)
                continue;
            obj_fset_path_str(a->paths[c[j].path], field, sizeof field);
            len += (size_t)snprintf(msg + len, size - len, "\n- %s", field);
        }
    }
}

static bool is_element(const char *p)
{
    size_t len = strlen(p);

    return len >= 2 && p[len - 1] == '.' && p[len - 2] == SEP;
}

/* Is @p a key field of the list element it sits in ("k:{"name":..}" then
 * "f:name")? Removing it would leave an element without its key. */
static bool is_key_field(const char *p)
{
    const char *last = strrchr(p, SEP), *prev;
    char quoted[300];

    if (last == NULL || strncmp(last + 1, "f:", 2) != 0)
        return false;
    for (prev = last; prev > p && prev[-1] != SEP; prev--)
        ;
    if (strncmp(prev, "k:", 2) != 0)
        return false;
    (void)snprintf(quoted, sizeof quoted, "\"%s\":", last + 3);
    return memmem(prev, (size_t)(last - prev), quoted, strlen(quoted)) !=
           NULL;
}

/* Does an entry other than @me (or @me's new set @a) own @p, or, for a
 * list element, anything inside it? */
static bool still_owned(const struct entries *es, const struct entry *me,
                        const struct obj_fset *a, const char *p)
{
    size_t plen = strlen(p);
    bool kept = fset_has(a, p);

    for (size_t k = 0; k < es->n && !kept; k++) {
        const struct entry *other = &es->v[k];

        if (other == me)
            continue;
        kept = fset_has(&other->set, p);
        if (!kept && is_element(p)) {
            char item[PATH_MAX_LEN];

            (void)snprintf(item, sizeof item, "%.*s", (int)plen - 2, p);
            kept = fset_has_under(&other->set, item);
        }
    }
    return kept;
}

/* Fields @me applied before and not now leave @live, unless another entry
 * owns them (or, for a list element, something inside it). Whole elements
 * go first, list by list (their children sort after the element's "."
 * and removing them first would lose its key); then the rest, deepest
 * first, key fields of elements that stay left alone. */
/* A keyed-list element to remove: the list's path and the element's
 * key step ("k:{...}", within @path's allocation). */
struct doomed {
    char *list;
    const char *step;
};

static int cmp_doomed(const void *a, const void *b)
{
    const struct doomed *x = a, *y = b;
    int c = strcmp(x->list, y->list);

    return c != 0 ? c : strcmp(x->step, y->step);
}

static int cmp_step(const void *key, const void *d)
{
    return strcmp(key, ((const struct doomed *)d)->step);
}

/* Remove from the list at @v[0].list (type in @c after walking there) the
 * elements whose key steps are @v[0..n) (sorted): one pass over the list,
 * each element's key looked up by binary search. */
static int remove_elements(const struct obj_sstruct *st, struct obj *live,
                           const struct doomed *v, size_t n)
{
    struct cursor c = root_cursor(st, live);
    const char *keys;

    for (const char *p = v[0].list; *p != '\0';) {
        const char *end = strchr(p, SEP);
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        if (!step_down(&c, p, len, true))
            return 0; /* gone already */
        p += len + (end != NULL);
    }
    keys = list_keys(c.f);
    if (keys == NULL || obj_type(c.v) != OBJ_ARRAY)
        return 0;
    for (size_t k = obj_array_len(c.v); k-- > 0;) {
        char *text = key_text(struct_of(c.t ? c.t->elem : NULL),
                              obj_array_get(c.v, k), keys);
        char step[PATH_MAX_LEN];
        int rv = 0;

        if (text == NULL)
            continue;
        (void)snprintf(step, sizeof step, "k:%s", text);
        mem_free(text);
        if (bsearch(step, v, n, sizeof *v, cmp_step) != NULL)
            rv = obj_array_remove(c.v, k);
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* Pass one of remove_dropped: whole keyed-list elements, gathered and
 * removed list by list. */
static int remove_dropped_elements(const struct obj_sstruct *st,
                                   struct obj *live, const struct entries *es,
                                   const struct entry *me,
                                   const struct obj_fset *a)
{
    struct doomed *v = mem_calloc(me->set.n ? me->set.n : 1, sizeof *v);
    size_t n = 0;
    int rv = v == NULL ? -ENOMEM : 0;

    for (size_t i = 0; i < me->set.n && rv == 0; i++) {
        const char *p = me->set.paths[i];
        char *list, *sep;

        if (!is_element(p) || still_owned(es, me, a, p))
            continue;
        if ((list = mem_strndup(p, strlen(p) - 2)) == NULL) {
            rv = -ENOMEM;
            break;
        }
        sep = strrchr(list, SEP);
        if (sep == NULL || strncmp(sep + 1, "k:", 2) != 0) {
            mem_free(list);
            continue;
        }
        *sep = '\0';
        v[n++] = (struct doomed){list, sep + 1};
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_doomed);
    for (size_t i = 0; i < n && rv == 0;) {
        size_t j = i + 1;

        while (j < n && strcmp(v[j].list, v[i].list) == 0)
            j++;
        rv = remove_elements(st, live, v + i, j - i);
        i = j;
    }
    for (size_t i = 0; i < n; i++)
        mem_free(v[i].list);
    mem_free(v);
    return rv;
}

static int remove_dropped(const struct obj_sstruct *st, struct obj *live,
                          const struct entries *es, const struct entry *me,
                          const struct obj_fset *a)
{
    int rv = remove_dropped_elements(st, live, es, me, a);

    for (size_t i = me->set.n; i-- > 0 && rv == 0;) {
        const char *p = me->set.paths[i];

        if (is_element(p) || is_key_field(p) || still_owned(es, me, a, p))
            continue;
        rv = remove_at(st, live, p);
    }
    return rv;
}


static void fset_move(struct obj_fset *to, struct obj_fset *from)
{
    obj_fset_done(to);
    *to = *from;
    *from = (struct obj_fset){0};
}

int obj_apply(const struct obj_sstruct *st, struct obj *live,
              const struct obj *config, const struct obj_apply_opts *o,
              struct err *e)
{
    struct entries es;
    struct entry *me;
    struct obj_fset a = {0}, live_set = {0};
    struct conflict found[MAX_CONFLICTS_SHOWN];
    char msg[1024] = "";
    size_t n;
    int rv = entries_read(live, &es, e);

    if (rv != 0)
        return rv;
    if ((rv = fset_of(st, config, o->skip_status, &a, e)) != 0)
        goto out;
    if ((me = entry_of(&es, o->manager, "Apply", NULL)) == NULL ||
        (rv = obj_fset_of(st, live, o->skip_status, &live_set)) == -ENOMEM) {
        rv = -ENOMEM;
        goto out;
    }
    n = conflicts(&es, me, &a, &live_set, o->force, found);
    if (n > 0) {
        describe_conflicts(&es, &a, found, n, msg, sizeof msg);
        err_setf(e, -C8S_ECONFLICT, "Apply failed with %zu conflict%s: %s",
                 n, n > 1 ? "s" : "", msg);
        rv = -C8S_ECONFLICT;
        goto out;
    }
    if ((rv = remove_dropped(st, live, &es, me, &a)) != 0 ||
        (rv = merge_map(st, NULL, live, config)) != 0)
        goto out;
    /* A later Update of these fields by this manager is this apply's. */
    fset_move(&me->set, &a);
    me->changed = true;
    rv = entries_write(&es, live, o);
out:
    obj_fset_done(&a);
    obj_fset_done(&live_set);
    entries_done(&es);
    return rv;
}

int obj_apply_record_create(const struct obj_sstruct *st, struct obj *obj,
                            const struct obj_apply_opts *o)
{
    struct entries es = {0};
    struct entry *me = entry_of(&es, o->manager, "Apply", NULL);
    int rv;

    if (me == NULL)
        return -ENOMEM;
    rv = obj_fset_of(st, obj, o->skip_status, &me->set);
    if (rv == 0)
        rv = entries_write(&es, obj, o);
    entries_done(&es);
    return rv == -E2BIG ? 0 : rv; /* too deep to track: left untracked */
}

static bool is_status(const char *path)
{
    return strncmp(path, "f:status", 8) == 0 &&
           (path[8] == '\0' || path[8] == SEP);
}

/* Are managedFields @mf, as a client sent them, well formed: entries with
 * a manager, an operation of Apply or Update, and readable fieldsV1? */
static bool managed_fields_ok(const struct obj *mf)
{
    for (size_t i = 0; i < obj_array_len(mf); i++) {
        const struct obj *m = obj_array_get(mf, i);
        const char *op = obj_str_or(obj_map_get(m, "operation"), "");
        const struct obj *f = obj_map_get(m, "fieldsV1");
        struct obj_fset set = {0};
        int rv = f == NULL ? 0 : obj_fset_from_fields_v1(f, &set);

        obj_fset_done(&set);
        if (obj_type(m) != OBJ_MAP || rv != 0 ||
            obj_str_or(obj_map_get(m, "manager"), NULL) == NULL ||
            (strcmp(op, "Apply") != 0 && strcmp(op, "Update") != 0))
            return false;
    }
    return obj_type(mf) == OBJ_ARRAY;
}

/* managedFields the client sent (@sent, not @had, the stored ones), as
 * kube-apiserver takes them: [{}] resets them; [] or a malformed list
 * means the stored ones (then recorded as usual: returns 1); a well-formed
 * list is kept as sent (0). -ENOMEM. */
static int take_sent(struct obj *obj, const struct obj *sent,
                     const struct obj *had)
{
    const struct obj *first = obj_array_get(sent, 0);
    struct obj *meta;
    int rv;

    if (type_of(obj_map_get(obj, "metadata")) != OBJ_MAP)
        return 0; /* validation refuses it */
    if ((meta = obj_map_get_mut(obj, "metadata")) == NULL)
        return -ENOMEM;
    if (obj_array_len(sent) == 1 && obj_type(first) == OBJ_MAP &&
        obj_map_len(first) == 0)
        return obj_map_del(meta, "managedFields") == -ENOMEM ? -ENOMEM : 0;
    if (obj_array_len(sent) > 0 && managed_fields_ok(sent))
        return 0;
    if (had == NULL)
        return obj_map_del(meta, "managedFields") == -ENOMEM ? -ENOMEM : 1;
    rv = obj_map_set(meta, "managedFields", obj_ref((struct obj *)had));
    if (rv != 0)
        obj_unref((struct obj *)had); /* not kept on failure */
    return rv != 0 ? rv : 1;
}

/* fset_filter tests of obj_apply_record_update. */
struct gone {
    const struct obj_fset *now;
    bool skip_status;
};

static bool still_there(const char *p, const void *ctx)
{
    const struct gone *g = ctx;

    return fset_has(g->now, p) || (g->skip_status && is_status(p));
}

static bool not_in(const char *p, const void *ctx)
{
    return !fset_has(ctx, p);
}

int obj_apply_record_update(const struct obj_sstruct *st, struct obj *obj,
                            const struct obj *old,
                            const struct obj_apply_opts *o)
{
    const struct obj *sent = obj_get_path(obj, "metadata.managedFields");
    const struct obj *had = obj_get_path(old, "metadata.managedFields");
    struct obj_fset now = {0}, before = {0}, changed = {0};
    struct entries es;
    struct entry *me;
    int rv;

    if (sent != NULL && !obj_equal(sent, had)) {
        rv = take_sent(obj, sent, had);
        if (rv != 1)
            return rv; /* kept as sent (0), reset (0), or -ENOMEM */
    }
    if ((rv = entries_read(old, &es, NULL)) != 0)
        return rv == -EINVAL ? 0 : rv; /* unreadable: start afresh below */
    if ((rv = obj_fset_of(st, obj, o->skip_status, &now)) != 0 ||
        (old != NULL &&
         (rv = obj_fset_of(st, old, o->skip_status, &before)) != 0))
        goto out;
    if ((me = entry_of(&es, o->manager, "Update", o->subresource)) == NULL) {
        rv = -ENOMEM;
        goto out;
    }
    /* Gone from the object: gone from every entry (status, when this
     * write does not cover it, is not gone but out of view). */
    struct gone g = {&now, o->skip_status};
    for (size_t k = 0; k < es.n; k++)
        if (fset_filter(&es.v[k].set, still_there, &g))
            es.v[k].changed = true;
    /* New or changed (now is sorted, so changed is too): this manager's
     * alone. */
    for (size_t i = 0; i < now.n && rv == 0; i++) {
        long j = fset_find(&before, before.n, now.paths[i]);

        if (j < 0 || !obj_equal(before.vals[j], now.vals[i]))
            rv = fset_add(&changed, now.paths[i], strlen(now.paths[i]));
    }
    for (size_t k = 0; k < es.n && changed.n > 0; k++)
        if (&es.v[k] != me && fset_filter(&es.v[k].set, not_in, &changed))
            es.v[k].changed = true;
    size_t had_n = me->set.n; /* new paths go after, sorted once below */
    for (size_t i = 0; i < changed.n && rv == 0; i++)
        if (fset_find(&me->set, had_n, changed.paths[i]) < 0) {
            rv = fset_add(&me->set, changed.paths[i],
                          strlen(changed.paths[i]));
            me->changed = true;
        }
    if (rv == 0)
        rv = fset_normalize(&me->set);
    if (rv == 0)
        rv = entries_write(&es, obj, o);
out:
    obj_fset_done(&now);
    obj_fset_done(&before);
    obj_fset_done(&changed);
    entries_done(&es);
    return rv == -E2BIG ? 0 : rv;
}
