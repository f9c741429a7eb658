/* YAML decoding: libyaml's event parser feeding the tree builder, with
 * Kubernetes' scalar typing (yaml_scalar.c), anchors, aliases and merge
 * keys, and a bound on what aliases expand to. */
#include <errno.h>
#include <string.h>

#include <yaml.h>

#include "api/object/internal.h"
#include "api/object/yaml_internal.h"
#include "lib/mem.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

/* YAML state of one open container (the builder keeps the container). */
struct yframe {
    char *anchor;    /* Anchor to define when it closes (owned) or NULL. */
    size_t start;    /* Node count when it opened. */
    unsigned height; /* Deepest child nesting seen so far. */
    bool merge;      /* A map that had a plain "<<" key. */
};

/* State of one decode. */
struct yaml_dec {
    struct obj__build b;     /* Tree under construction. */
    yaml_parser_t p;         /* libyaml's parser. */
    struct yframe *frames;   /* Parallel to the builder's stack. */
    unsigned nframes;        /* Frames in use. */
    unsigned cap;            /* Frames allocated. */
    struct obj *anchors;     /* Anchor name -> [node, size, height]. */
    size_t nodes;            /* Nodes so far, aliases counted in full. */
    size_t max_nodes;        /* Limit on nodes. */
    size_t off;              /* Byte offset of the current event. */
};

/* Count @n nodes; fail when the document grows past the limit. */
static int count(struct yaml_dec *d, size_t n)
{
    if (n > d->max_nodes - d->nodes)
        return obj__build_fail(&d->b, -C8S_ETOOLARGE, d->off,
                               "document expands to more than %zu nodes "
                               "(through aliases)",
                               d->max_nodes);
    d->nodes += n;
    return 0;
}

/* A child of @height was added to the innermost container. */
static void child(struct yaml_dec *d, unsigned height)
{
    if (d->nframes > 0 && d->frames[d->nframes - 1].height < height)
        d->frames[d->nframes - 1].height = height;
}

/* Remember @node under @name (replacing an older definition). */
static int define(struct yaml_dec *d, const char *name, struct obj *node,
                  size_t size, unsigned height)
{
    struct obj *a = obj_array_new(), *sz = NULL, *ht = NULL;

    /* Reserve first: then only the two int constructors can fail. */
    if (a == NULL || obj__array_reserve(a, 3) != 0 ||
        (sz = obj_int_new((int64_t)size)) == NULL ||
        (ht = obj_int_new(height)) == NULL)
        goto nomem;
    (void)obj_array_append(a, obj_ref(node));
    (void)obj_array_append(a, sz);
    (void)obj_array_append(a, ht);
    sz = ht = NULL;
    if (obj_map_set(d->anchors, name, a) != 0)
        goto nomem;
    return 0;
nomem:
    obj_unref(sz);
    obj_unref(ht);
    obj_unref(a);
    return obj__build_fail(&d->b, -ENOMEM, d->off, "out of memory");
}

/* The text a scalar node stands for when used as a map key: Kubernetes
 * turns keys into JSON strings (true -> "true", 1 -> "1"). @buf holds 32
 * bytes for numbers. NULL when the node cannot be a key. */
static const char *key_text(const struct obj *v, char *buf, size_t *len)
{
    switch (obj_type(v)) {
    case OBJ_NULL:
        *len = 4;
        return "null";
    case OBJ_BOOL:
        *len = obj_bool_or(v, false) ? 4 : 5;
        return obj_bool_or(v, false) ? "true" : "false";
    case OBJ_INT:
        *len = obj__fmt_int(obj_int_or(v, 0), buf);
        return buf;
    case OBJ_FLOAT:
        *len = obj__fmt_float(obj_float_or(v, 0), buf);
        return buf;
    case OBJ_STRING:
        return obj_str(v, len);
    default:
        return NULL;
    }
}

/* Whether @tag is the core-schema tag @name. */
static bool tag_is(const char *tag, const char *name)
{
    return tag != NULL && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0 &&
           strcmp(tag + strlen(TAG_PREFIX), name) == 0;
}

/* The typed node for a scalar event. */
static int scalar_node(struct yaml_dec *d, const yaml_event_t *ev,
                       struct obj **ret)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    enum obj__yres res = OBJ__YRES_STR;
    bool bv = false;
    int64_t iv = 0;
    double fv = 0;
    int r;

    if ((r = obj__build_check(&d->b, s, len, d->off, "string")) != 0)
        return r;
    /* !!int, !!float, !!bool and !!null type the text as if it were
     * plain, and must agree with it; any other tag ("!", !!str, custom
     * ones) and quoting make a string. */
    if ((plain && tag == NULL) || tag_is(tag, "int") ||
        tag_is(tag, "float") || tag_is(tag, "bool") || tag_is(tag, "null")) {
        res = obj__yaml_resolve(s, len, &bv, &iv, &fv);
        if (res == OBJ__YRES_INT && tag_is(tag, "float")) {
            res = OBJ__YRES_FLOAT;
            fv = (double)iv;
        }
        if ((tag_is(tag, "int") && res != OBJ__YRES_INT) ||
            (tag_is(tag, "float") && res != OBJ__YRES_FLOAT) ||
            (tag_is(tag, "bool") && res != OBJ__YRES_BOOL) ||
            (tag_is(tag, "null") && res != OBJ__YRES_NULL))
            return obj__build_fail(&d->b, -C8S_EMALFORMED, d->off,
                                   "cannot read \"%.40s\" as %s", s,
                                   tag + strlen(TAG_PREFIX));
    }
    switch (res) {
    case OBJ__YRES_NULL:
        *ret = obj_null();
        return 0;
    case OBJ__YRES_BOOL:
        *ret = obj_bool_new(bv);
        return 0;
    case OBJ__YRES_INT:
        *ret = obj_int_new(iv);
        break;
    case OBJ__YRES_FLOAT:
        *ret = obj_float_new(fv);
        break;
    case OBJ__YRES_RANGE:
        return obj__build_fail(&d->b, -C8S_EMALFORMED, d->off,
                               "number out of range: %.40s", s);
    case OBJ__YRES_NOMEM:
        *ret = NULL;
        break;
    default:
        *ret = obj__str_new_valid(s, len);
        break;
    }
    return *ret == NULL ? obj__build_fail(&d->b, -ENOMEM, d->off,
                                          "out of memory")
                        : 0;
}

/* A key (from a scalar or an alias): a plain "<<" marks a merge. */
static int key(struct yaml_dec *d, const struct obj *v, bool plain)
{
    char buf[32];
    size_t len;
    const char *k = key_text(v, buf, &len);

    if (k == NULL)
        return obj__build_fail(&d->b, -C8S_EMALFORMED, d->off,
                               "a %s cannot be a map key",
                               obj_type_name(obj_type(v)));
    if (plain && len == 2 && memcmp(k, "<<", 2) == 0)
        d->frames[d->nframes - 1].merge = true;
    return obj__build_key(&d->b, k, len, d->off);
}

static int on_scalar(struct yaml_dec *d, const yaml_event_t *ev)
{
    const char *anchor = (const char *)ev->data.scalar.anchor;
    struct obj *v;
    int r;

    if ((r = count(d, 1)) != 0 || (r = scalar_node(d, ev, &v)) != 0)
        return r;
    if (anchor != NULL && (r = define(d, anchor, v, 1, 0)) != 0) {
        obj_unref(v);
        return r;
    }
    if (obj__build_want_key(&d->b)) {
        r = key(d, v, ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                          ev->data.scalar.tag == NULL);
        obj_unref(v);
        return r;
    }
    return obj__build_value(&d->b, v, d->off);
}

static int on_alias(struct yaml_dec *d, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    struct obj *a = obj_map_get(d->anchors, name);
    struct obj *node = obj_array_get(a, 0);
    size_t size = (size_t)obj_int_or(obj_array_get(a, 1), 0);
    unsigned height = (unsigned)obj_int_or(obj_array_get(a, 2), 0);
    int r;

    if (node == NULL)
        return obj__build_fail(&d->b, -C8S_EMALFORMED, d->off,
                               "unknown anchor \"%.40s\"", name);
    if ((r = count(d, size)) != 0)
        return r;
    if (obj__build_want_key(&d->b))
        return key(d, node, false);
    /* The alias shares the node; the tree must stay within max_depth
     * wherever the node is used. */
    if (d->nframes + height > d->b.max_depth)
        return obj__build_fail(&d->b, -C8S_ETOOLARGE, d->off,
                               "nesting deeper than %u levels (through "
                               "an alias)",
                               d->b.max_depth);
    child(d, height);
    return obj__build_value(&d->b, obj_ref(node), d->off);
}

static int on_start(struct yaml_dec *d, enum obj_type t, const char *anchor)
{
    struct yframe *f;
    int r;

    if (obj__build_want_key(&d->b))
        return obj__build_fail(&d->b, -C8S_EMALFORMED, d->off,
                               "a %s cannot be a map key",
                               t == OBJ_MAP ? "map" : "array");
    if ((r = count(d, 1)) != 0 || (r = obj__build_begin(&d->b, t, d->off)))
        return r;
    if (d->nframes == d->cap) {
        unsigned cap = d->cap ? 2 * d->cap : 16;
        struct yframe *s = mem_realloc(d->frames, cap * sizeof *s);

        if (s == NULL)
            return obj__build_fail(&d->b, -ENOMEM, d->off, "out of memory");
        d->frames = s;
        d->cap = cap;
    }
    f = &d->frames[d->nframes++];
    memset(f, 0, sizeof *f);
    f->start = d->nodes - 1;
    if (anchor != NULL && (f->anchor = mem_strdup(anchor)) == NULL)
        return obj__build_fail(&d->b, -ENOMEM, d->off, "out of memory");
    return 0;
}

/* Add the entries of map @src that @m lacks (explicit keys win). */
static int merge_from(struct yaml_dec *d, struct obj *m, const struct obj *src)
{
    for (size_t i = 0; i < obj_map_len(src); i++) {
        size_t klen;
        const char *k = obj_map_key(src, i, &klen);
        struct obj *v = obj_map_value(src, i);

        if (obj_map_getn(m, k, klen) != NULL)
            continue;
        if (obj_map_setn(m, k, klen, obj_ref(v)) != 0) {
            obj_unref(v);
            return obj__build_fail(&d->b, -ENOMEM, d->off, "out of memory");
        }
    }
    return 0;
}

/* Resolve the "<<" entry of the map being closed: its value is a map or a
 * list of maps whose entries the map gets unless it has them already. */
static int merge(struct yaml_dec *d, struct obj *m)
{
    struct obj *v = obj_map_get(m, "<<");
    bool ok = v != NULL &&
              (obj_type(v) == OBJ_MAP || obj_type(v) == OBJ_ARRAY);
    int r = 0;

    for (size_t i = 0; ok && i < obj_array_len(v); i++)
        ok = obj_type(obj_array_get(v, i)) == OBJ_MAP;
    if (!ok)
        return obj__build_fail(&d->b, -C8S_EMALFORMED, d->off,
                               "<< must be followed by a map or a list of "
                               "maps");
    v = obj_ref(v);
    (void)obj_map_del(m, "<<");
    if (obj_type(v) == OBJ_MAP)
        r = merge_from(d, m, v);
    /* Earlier maps in a list win over later ones. */
    for (size_t i = 0; r == 0 && i < obj_array_len(v); i++)
        r = merge_from(d, m, obj_array_get(v, i));
    obj_unref(v);
    return r;
}

static int on_end(struct yaml_dec *d)
{
    struct yframe *f = &d->frames[d->nframes - 1];
    struct obj *top = obj__build_top(&d->b), *done;
    unsigned height = f->height + 1;
    int r = 0;

    if (f->merge)
        r = merge(d, top);
    if (r == 0)
        r = obj__build_end(&d->b, &done);
    if (r == 0 && f->anchor != NULL)
        r = define(d, f->anchor, done, d->nodes - f->start, height);
    mem_free(f->anchor);
    d->nframes--;
    child(d, height);
    return r;
}

/* Turn libyaml's error into ours. */
static int parse_error(struct yaml_dec *d)
{
    if (d->p.error == YAML_MEMORY_ERROR)
        return err_setf(d->b.e, -ENOMEM, "yaml: out of memory");
    return err_setf(d->b.e, -C8S_EMALFORMED, "yaml: line %zu column %zu: %s%s%s",
                    d->p.problem_mark.line + 1, d->p.problem_mark.column + 1,
                    d->p.problem ? d->p.problem : "syntax error",
                    d->p.context ? " " : "", d->p.context ? d->p.context : "");
}

/* Handle one event. @docs collects documents (decode_all) or holds the
 * single one. *@done is set at the end of the stream. */
static int on_event(struct yaml_dec *d, const yaml_event_t *ev,
                    struct obj *docs, bool all, bool *done)
{
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        *done = true;
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        if (!all && obj_array_len(docs) > 0)
            return obj__build_fail(&d->b, -C8S_EMALFORMED, d->off,
                                   "expected a single document");
        return 0;
    case YAML_DOCUMENT_END_EVENT: {
        struct obj *root = d->b.root != NULL ? d->b.root : obj_null();
        int r = obj_array_append(docs, root);

        if (r != 0)
            return obj__build_fail(&d->b, r, d->off, "out of memory");
        d->b.root = NULL;
        /* Anchors belong to their document. */
        obj_unref(d->anchors);
        d->anchors = obj_map_new();
        return d->anchors != NULL ? 0
                                  : obj__build_fail(&d->b, -ENOMEM, d->off,
                                                    "out of memory");
    }
    case YAML_SCALAR_EVENT:
        return on_scalar(d, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(d, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(d, OBJ_ARRAY,
                        (const char *)ev->data.sequence_start.anchor);
    case YAML_MAPPING_START_EVENT:
        return on_start(d, OBJ_MAP,
                        (const char *)ev->data.mapping_start.anchor);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(d);
    default:
        return 0;
    }
}

/* Decode the stream into an array of documents. */
static int decode(const void *data, size_t len,
                  const struct obj_decode_opts *opts, bool all,
                  struct obj **ret, struct err *e)
{
    struct yaml_dec d = {.max_nodes = obj__opt_nodes(opts)};
    struct obj *docs;
    bool done = false;
    int r = 0;

    if (len > obj__opt_bytes(opts))
        return err_setf(e, -C8S_ETOOLARGE, "yaml: %zu bytes, limit %zu", len,
                        obj__opt_bytes(opts));
    obj__build_init(&d.b, "yaml", opts, e);
    docs = obj_array_new();
    d.anchors = obj_map_new();
    /* libyaml allocates with malloc and reports failure cleanly. */
    if (docs == NULL || d.anchors == NULL || !yaml_parser_initialize(&d.p)) {
        obj_unref(docs);
        obj_unref(d.anchors);
        return err_setf(e, -ENOMEM, "yaml: out of memory");
    }
    yaml_parser_set_input_string(&d.p, data, len);
    while (r == 0 && !done) {
        yaml_event_t ev;

        if (!yaml_parser_parse(&d.p, &ev)) {
            r = parse_error(&d);
            break;
        }
        d.off = ev.start_mark.index;
        d.b.line = ev.start_mark.line + 1;
        d.b.col = ev.start_mark.column + 1;
        r = on_event(&d, &ev, docs, all, &done);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&d.p);
    while (d.nframes > 0)
        mem_free(d.frames[--d.nframes].anchor);
    mem_free(d.frames);
    obj_unref(d.anchors);
    obj__build_done(&d.b);
    if (r != 0)
        obj_unref(docs);
    else
        *ret = docs;
    return r;
}

int obj_yaml_decode_all(const void *data, size_t len,
                        const struct obj_decode_opts *opts, struct obj **ret,
                        struct err *e)
{
    return decode(data, len, opts, true, ret, e);
}

int obj_yaml_decode(const void *data, size_t len,
                    const struct obj_decode_opts *opts, struct obj **ret,
                    struct err *e)
{
    struct obj *docs;
    int r = decode(data, len, opts, false, &docs, e);

    if (r != 0)
        return r;
    *ret = obj_array_len(docs) > 0 ? obj_ref(obj_array_get(docs, 0))
                                   : obj_null();
    obj_unref(docs);
    return 0;
}
