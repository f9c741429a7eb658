/* Parsing schema text into struct obj_sstruct trees (format:
 * api/object/schemas/README.md). Everything a parse produces lives in one
 * arena owned by struct obj_schemas, so freeing is one walk. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/schema.h"
#include "api/object/schema_internal.h"
#include "lib/mem.h"

/* ---- arena ----------------------------------------------------------------*/

struct chunk {
    struct chunk *next;
    size_t used, size;
    max_align_t data[];
};

struct obj_schemas {
    struct chunk *chunks;         /* everything below is allocated here */
    struct obj_sstruct **structs; /* in parse order */
    size_t n, cap;
    struct obj_sstruct **sorted; /* by (pkg, name), for lookups */
    struct obj **defaults;       /* references to drop on free */
    size_t n_defaults, cap_defaults;
};

static void *arena_alloc(struct obj_schemas *s, size_t size)
{
    struct chunk *c = s->chunks;

    size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    if (c == NULL || c->size - c->used < size) {
        size_t want = size > 16384 ? size : 16384;
        c = mem_malloc(sizeof *c + want);
        if (c == NULL)
            return NULL;
        c->size = want;
        c->used = 0;
        c->next = s->chunks;
        s->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

static char *arena_strndup(struct obj_schemas *s, const char *p, size_t n)
{
    char *d = arena_alloc(s, n + 1);
    if (d != NULL) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

void obj_schemas_free(struct obj_schemas *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_defaults; i++)
        obj_unref(s->defaults[i]);
    while (s->chunks != NULL) {
        struct chunk *c = s->chunks;
        s->chunks = c->next;
        mem_free(c);
    }
    mem_free(s->defaults);
    mem_free(s->structs);
    mem_free(s->sorted);
    mem_free(s);
}

/* ---- parse state ----------------------------------------------------------*/

/* A struct being built: fields grow in a heap array, copied into the
 * arena when the struct is complete. Unresolved struct references keep
 * their text in @ref until resolve(). */
struct pending_ref {
    struct obj_stype *type; /* kind OBJ_ST_STRUCT, st still NULL */
    const char *ref;        /* "Name" or "pkg.Name" (arena) */
    const char *pkg;        /* package of the line that wrote it */
    const char *file;
    int line;
};

struct parser {
    struct obj_schemas *s;
    struct err *e;
    const char *file; /* current text's name */
    int line;
    const char *pkg;           /* current package (arena), or NULL */
    struct obj_sstruct *cur;   /* struct being filled, or NULL */
    struct obj_sfield *fields; /* its fields (heap) */
    size_t n_fields, cap_fields;
    struct pending_ref *refs; /* heap */
    size_t n_refs, cap_refs;
};

static int fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_setf(p->e, -EINVAL, "%s:%d: %s", p->file, p->line, msg);
    return -EINVAL;
}

/* ---- type expressions
 * -------------------------------------------------------*/

static const struct {
    const char *name;
    enum obj_stype_kind kind;
} scalars[] = {
    {"string", OBJ_ST_STRING},     {"int32", OBJ_ST_INT32},
    {"int64", OBJ_ST_INT64},       {"bool", OBJ_ST_BOOL},
    {"double", OBJ_ST_DOUBLE},     {"bytes", OBJ_ST_BYTES},
    {"quantity", OBJ_ST_QUANTITY}, {"intstr", OBJ_ST_INTSTR},
    {"time", OBJ_ST_TIME},         {"microtime", OBJ_ST_MICROTIME},
    {"duration", OBJ_ST_DURATION}, {"any", OBJ_ST_ANY},
};

static bool is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '-' ||
           c == '_';
}

static int parse_type(struct parser *p,
                      const char *t,
                      size_t len,
                      const struct obj_stype **ret)
{
    struct obj_stype *ty = arena_alloc(p->s, sizeof *ty);

    if (ty == NULL)
        return -ENOMEM;
    *ret = ty;
    if (len > 2 && t[0] == '[' && t[1] == ']') {
        ty->kind = OBJ_ST_LIST;
        return parse_type(p, t + 2, len - 2, &ty->elem);
    }
    if (len > 5 && memcmp(t, "map[", 4) == 0 && t[len - 1] == ']') {
        ty->kind = OBJ_ST_MAP;
        return parse_type(p, t + 4, len - 5, &ty->elem);
    }
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        if (strlen(scalars[i].name) == len &&
            memcmp(scalars[i].name, t, len) == 0) {
            ty->kind = scalars[i].kind;
            return 0;
        }
    }
    if (len == 0 ||
        (!(t[0] >= 'A' && t[0] <= 'Z') && !(t[0] >= 'a' && t[0] <= 'z')))
        return fail(p, "bad type \"%.*s\"", (int)len, t);
    for (size_t i = 0; i < len; i++)
        if (!is_ident_char(t[i]))
            return fail(p, "bad type \"%.*s\"", (int)len, t);
    ty->kind = OBJ_ST_STRUCT;
    if (mem_grow((void **)&p->refs, &p->cap_refs, p->n_refs + 1, sizeof *p->refs) !=
        0)
        return -ENOMEM;
    struct pending_ref *r = &p->refs[p->n_refs++];
    r->type = ty;
    r->ref = arena_strndup(p->s, t, len);
    r->pkg = p->pkg;
    r->file = p->file;
    r->line = p->line;
    return r->ref == NULL ? -ENOMEM : 0;
}

/* The base kind under lists and maps (for defaults). */
static enum obj_stype_kind kind_of(const struct obj_stype *t)
{
    return t->kind;
}

/* ---- attributes
 * -------------------------------------------------------------*/

static const struct {
    const char *name;
    enum obj_sfmt fmt;
} fmts[] = {
    {"dns1123label", OBJ_SFMT_DNS1123_LABEL},
    {"dns1123subdomain", OBJ_SFMT_DNS1123_SUBDOMAIN},
    {"dns1035label", OBJ_SFMT_DNS1035_LABEL},
    {"qualifiedname", OBJ_SFMT_QUALIFIED_NAME},
    {"labelvalue", OBJ_SFMT_LABEL_VALUE},
    {"ianasvcname", OBJ_SFMT_IANA_SVC_NAME},
};

static int parse_int(struct parser *p, const char *v, int64_t *ret)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0')
        return fail(p, "not an integer: \"%s\"", v);
    *ret = x;
    return 0;
}

/* A default's value from its text, by the field's type. */
static int parse_default(struct parser *p, struct obj_sfield *f, const char *v)
{
    struct obj *d = NULL;
    struct err je = {0};
    int64_t i;
    char *end;

    switch (kind_of(f->type)) {
    case OBJ_ST_INT32:
    case OBJ_ST_INT64:
        if (parse_int(p, v, &i) != 0)
            return -EINVAL;
        d = obj_int_new(i);
        break;
    case OBJ_ST_INTSTR: /* "25%" is a string, "1" a number */
        i = strtoll(v, &end, 10);
        d = *v != '\0' && *end == '\0' ? obj_int_new(i) : obj_str_new_c(v);
        break;
    case OBJ_ST_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return fail(p, "default of a bool must be true or false");
        d = obj_bool_new(v[0] == 't');
        break;
    case OBJ_ST_DOUBLE:
    case OBJ_ST_STRUCT:
    case OBJ_ST_LIST:
    case OBJ_ST_MAP:
    case OBJ_ST_ANY:
        if (obj_json_decode(v, strlen(v), NULL, &d, &je) != 0)
            return fail(p, "default is not JSON: %s", je.msg);
        break;
    default: /* strings and string-like scalars */
        if (strcmp(v, "\"\"") == 0)
            v = "";
        d = obj_str_new_c(v);
        break;
    }
    if (d == NULL || mem_grow((void **)&p->s->defaults, &p->s->cap_defaults,
                          p->s->n_defaults + 1, sizeof *p->s->defaults) != 0) {
        obj_unref(d);
        return -ENOMEM;
    }
    p->s->defaults[p->s->n_defaults++] = d;
    f->def = d;
    return 0;
}

static int parse_enum(struct parser *p, struct obj_sfield *f, const char *v)
{
    size_t n = 1;
    for (const char *c = v; *c; c++)
        n += *c == '|';
    const char **list = arena_alloc(p->s, (n + 1) * sizeof *list);
    if (list == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *bar = strchr(v, '|');
        size_t len = bar ? (size_t)(bar - v) : strlen(v);
        if ((list[i] = arena_strndup(p->s, v, len)) == NULL)
            return -ENOMEM;
        v += len + (bar != NULL);
    }
    f->enums = list;
    return 0;
}

static int parse_attr(struct parser *p, struct obj_sfield *f, char *a)
{
    char *eq = strchr(a, '=');
    const char *v = eq ? eq + 1 : NULL;

    if (eq != NULL)
        *eq = '\0';
    if (strcmp(a, "required") == 0 && v == NULL) {
        f->required = true;
        return 0;
    }
    if (v == NULL || *v == '\0')
        return fail(p, "attribute \"%s\" needs a value", a);
    if (strcmp(a, "default") == 0)
        return parse_default(p, f, v);
    if (strcmp(a, "enum") == 0)
        return parse_enum(p, f, v);
    if (strcmp(a, "min") == 0) {
        f->has_min = true;
        return parse_int(p, v, &f->min);
    }
    if (strcmp(a, "max") == 0) {
        f->has_max = true;
        return parse_int(p, v, &f->max);
    }
    if (strcmp(a, "in") == 0) {
        int64_t n;
        if (parse_int(p, v, &n) != 0 || n < 1 || n > 536870911)
            return fail(p, "bad embedded message number \"%s\"", v);
        f->proto_in = (int)n;
        return 0;
    }
    if (strcmp(a, "fmt") == 0) {
        for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
            if (strcmp(fmts[i].name, v) == 0) {
                f->fmt = fmts[i].fmt;
                return 0;
            }
        }
        return fail(p, "unknown fmt \"%s\"", v);
    }
    const char **slot = strcmp(a, "merge") == 0      ? &f->merge_key
                        : strcmp(a, "strategy") == 0 ? &f->strategy
                        : strcmp(a, "list") == 0     ? &f->list_type
                        : strcmp(a, "keys") == 0     ? &f->list_keys
                                                     : NULL;
    if (slot == NULL)
        return fail(p, "unknown attribute \"%s\"", a);
    *slot = arena_strndup(p->s, v, strlen(v));
    return *slot == NULL ? -ENOMEM : 0;
}

/* ---- lines
 * ------------------------------------------------------------------*/

#define MAX_WORDS 24

/* Split @line into words; a "--" word ends them and the rest of the line
 * (trimmed) becomes *@desc. */
static int split(struct parser *p,
                 char *line,
                 char **w,
                 size_t *n,
                 const char **desc)
{
    *n = 0;
    *desc = NULL;
    for (char *c = line;;) {
        while (*c == ' ' || *c == '\t')
            c++;
        if (*c == '\0')
            return 0;
        if (c[0] == '-' && c[1] == '-' && (c[2] == ' ' || c[2] == '\0')) {
            c += 2;
            while (*c == ' ')
                c++;
            *desc = arena_strndup(p->s, c, strlen(c));
            return *desc == NULL ? -ENOMEM : 0;
        }
        if (*n == MAX_WORDS)
            return fail(p, "too many words");
        w[(*n)++] = c;
        while (*c != '\0' && *c != ' ' && *c != '\t')
            c++;
        if (*c != '\0')
            *c++ = '\0';
    }
}

static int field_cmp(const void *a, const void *b)
{
    const struct obj_sfield *x = *(const struct obj_sfield *const *)a;
    const struct obj_sfield *y = *(const struct obj_sfield *const *)b;
    return strcmp(x->name, y->name);
}

void obj__sstruct_index(const struct obj_sfield *fields, size_t n,
                        const struct obj_sfield **by)
{
    for (size_t i = 0; i < n; i++)
        by[i] = &fields[i];
    qsort(by, n, sizeof *by, field_cmp);
}

/* Copy the fields of the struct being built into the arena. */
static int finish_struct(struct parser *p)
{
    struct obj_sstruct *st = p->cur;

    if (st == NULL)
        return 0;
    p->cur = NULL;
    struct obj_sfield *f = arena_alloc(p->s, p->n_fields * sizeof *f + 1);
    const struct obj_sfield **by =
        arena_alloc(p->s, p->n_fields * sizeof *by + 1);
    if (f == NULL || by == NULL)
        return -ENOMEM;
    if (p->n_fields > 0)
        memcpy(f, p->fields, p->n_fields * sizeof *f);
    obj__sstruct_index(f, p->n_fields, by);
    st->fields = f;
    st->by_name = by;
    st->n_fields = p->n_fields;
    p->n_fields = 0;
    return 0;
}

static int type_line(struct parser *p, char **w, size_t n, const char *desc)
{
    if (p->pkg == NULL)
        return fail(p, "type before any package line");
    if (n < 2)
        return fail(p, "expected: type <Name> [kind]");
    int rv = finish_struct(p);
    if (rv != 0)
        return rv;
    for (const char *c = w[1]; *c; c++)
        if (!is_ident_char(*c) || *c == '.' || *c == '/')
            return fail(p, "bad type name \"%s\"", w[1]);
    struct obj_sstruct *st = arena_alloc(p->s, sizeof *st);
    if (st == NULL || mem_grow((void **)&p->s->structs, &p->s->cap, p->s->n + 1,
                           sizeof *p->s->structs) != 0)
        return -ENOMEM;
    st->pkg = p->pkg;
    st->name = arena_strndup(p->s, w[1], strlen(w[1]));
    st->is_kind = n == 3;
    st->desc = desc;
    if (st->name == NULL)
        return -ENOMEM;
    p->s->structs[p->s->n++] = st;
    p->cur = st;
    return 0;
}

static int field_line(struct parser *p, char **w, size_t n, const char *desc)
{
    struct obj_sfield f = {.proto = -1, .desc = desc};
    int rv;

    if (p->cur == NULL)
        return fail(p, "field outside a type");
    if (n < 3)
        return fail(p, "expected: <field> <type> <number> [attribute...]");
    for (size_t i = 0; i < p->n_fields; i++) {
        if (strcmp(p->fields[i].name, w[0]) == 0)
            return fail(p, "field \"%s\" defined twice", w[0]);
    }
    if ((f.name = arena_strndup(p->s, w[0], strlen(w[0]))) == NULL)
        return -ENOMEM;
    if ((rv = parse_type(p, w[1], strlen(w[1]), &f.type)) != 0)
        return rv;
    if (strcmp(w[2], "-") != 0) {
        int64_t num;
        if (parse_int(p, w[2], &num) != 0 || num < 1 || num > 536870911)
            return fail(p, "bad protobuf number \"%s\"", w[2]);
        f.proto = (int)num;
    }
    for (size_t i = 3; i < n; i++)
        if ((rv = parse_attr(p, &f, w[i])) != 0)
            return rv;
    for (size_t i = 0; i < p->n_fields && f.proto > 0; i++)
        if (p->fields[i].proto == f.proto &&
            p->fields[i].proto_in == f.proto_in)
            return fail(p, "protobuf number %d used twice", f.proto);
    if (mem_grow((void **)&p->fields, &p->cap_fields, p->n_fields + 1,
             sizeof *p->fields) != 0)
        return -ENOMEM;
    p->fields[p->n_fields++] = f;
    return 0;
}

static int parse_line(struct parser *p, char *line)
{
    char *w[MAX_WORDS];
    const char *desc;
    size_t n;
    char *hash = strchr(line, '#');
    int rv;

    if (hash != NULL)
        *hash = '\0';
    if ((rv = split(p, line, w, &n, &desc)) != 0)
        return rv;
    if (n == 0)
        return desc == NULL ? 0 : fail(p, "description without a field");
    if (strcmp(w[0], "package") == 0) {
        if (n != 2 || strchr(w[1], '/') == NULL)
            return fail(p, "expected: package <group>/<version>");
        if ((rv = finish_struct(p)) != 0)
            return rv;
        p->pkg = arena_strndup(p->s, w[1], strlen(w[1]));
        return p->pkg == NULL ? -ENOMEM : 0;
    }
    /* "type Name [kind]" declares a struct; "type string 1" is a field
     * named type, which many kinds have. */
    if (strcmp(w[0], "type") == 0 &&
        (n <= 2 || (n == 3 && strcmp(w[2], "kind") == 0)))
        return type_line(p, w, n, desc);
    return field_line(p, w, n, desc);
}

static int parse_text(struct parser *p, const struct obj_schema_text *t)
{
    const char *c = t->text, *end = t->text + t->len;
    char buf[1024];
    int rv;

    p->file = t->name;
    p->line = 0;
    p->pkg = NULL;
    while (c < end) {
        const char *nl = memchr(c, '\n', (size_t)(end - c));
        size_t len = nl ? (size_t)(nl - c) : (size_t)(end - c);
        p->line++;
        if (len >= sizeof buf)
            return fail(p, "line too long");
        if (memchr(c, '\0', len) != NULL)
            return fail(p, "NUL byte");
        memcpy(buf, c, len);
        buf[len] = '\0';
        if ((rv = parse_line(p, buf)) != 0)
            return rv;
        c += len + 1;
    }
    return finish_struct(p);
}

/* ---- lookups
 * ----------------------------------------------------------------*/

static int struct_cmp2(const char *pkg,
                       const char *name,
                       const struct obj_sstruct *b)
{
    int c = strcmp(pkg, b->pkg);
    return c != 0 ? c : strcmp(name, b->name);
}

static int struct_cmp(const void *a, const void *b)
{
    const struct obj_sstruct *x = *(const struct obj_sstruct *const *)a;
    return struct_cmp2(x->pkg, x->name, *(const struct obj_sstruct *const *)b);
}

const struct obj_sstruct *obj_schemas_find(const struct obj_schemas *s,
                                           const char *pkg,
                                           const char *name)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = struct_cmp2(pkg, name, s->sorted[mid]);
        if (c == 0)
            return s->sorted[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct obj_sstruct *obj_schemas_find_kind(const struct obj_schemas *s,
                                                const char *group,
                                                const char *version,
                                                const char *kind)
{
    char pkg[300];
    const struct obj_sstruct *st;

    snprintf(pkg, sizeof pkg, "%s/%s", group[0] ? group : "core", version);
    st = obj_schemas_find(s, pkg, kind);
    return st != NULL && st->is_kind ? st : NULL;
}

size_t obj_schemas_len(const struct obj_schemas *s)
{
    return s->n;
}

const struct obj_sstruct *obj_schemas_at(const struct obj_schemas *s, size_t i)
{
    return i < s->n ? s->structs[i] : NULL;
}

const struct obj_sfield *obj_sstruct_field(const struct obj_sstruct *st,
                                           const char *name)
{
    size_t lo = 0, hi = st->n_fields;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, st->by_name[mid]->name);
        if (c == 0)
            return st->by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ---- resolving
 * ----------------------------------------------------------------*/

/* "pkg.Name" splits at the first dot after the slash; "Name" looks in the
 * writer's package, then in meta/v1. */
static const struct obj_sstruct *resolve_ref(const struct obj_schemas *s,
                                             const struct pending_ref *r)
{
    const char *slash = strchr(r->ref, '/');
    char pkg[256];

    if (slash == NULL) {
        const struct obj_sstruct *st = obj_schemas_find(s, r->pkg, r->ref);
        return st != NULL ? st : obj_schemas_find(s, "meta/v1", r->ref);
    }
    const char *dot = strchr(slash, '.');
    if (dot == NULL || (size_t)(dot - r->ref) >= sizeof pkg)
        return NULL;
    memcpy(pkg, r->ref, (size_t)(dot - r->ref));
    pkg[dot - r->ref] = '\0';
    return obj_schemas_find(s, pkg, dot + 1);
}

/* Set defaults_below by propagating to a fixed point (types may be
 * recursive, e.g. JSONSchemaProps later). */
static void mark_defaults(struct obj_schemas *s)
{
    bool changed = true;

    for (size_t i = 0; i < s->n; i++) {
        struct obj_sstruct *st = s->structs[i];
        st->defaults_below = st->hook != NULL;
        for (size_t j = 0; j < st->n_fields; j++)
            st->defaults_below |= st->fields[j].def != NULL;
    }
    while (changed) {
        changed = false;
        for (size_t i = 0; i < s->n; i++) {
            struct obj_sstruct *st = s->structs[i];
            for (size_t j = 0; j < st->n_fields && !st->defaults_below; j++) {
                const struct obj_sstruct *sub =
                    obj__struct_under(st->fields[j].type);
                if (sub != NULL && sub->defaults_below)
                    st->defaults_below = changed = true;
            }
        }
    }
}

static int resolve(struct parser *p)
{
    struct obj_schemas *s = p->s;

    s->sorted = mem_malloc((s->n + 1) * sizeof *s->sorted);
    if (s->sorted == NULL)
        return -ENOMEM;
    if (s->n > 0) {
        memcpy(s->sorted, s->structs, s->n * sizeof *s->sorted);
        qsort(s->sorted, s->n, sizeof *s->sorted, struct_cmp);
    }
    for (size_t i = 1; i < s->n; i++) {
        if (struct_cmp(&s->sorted[i - 1], &s->sorted[i]) == 0) {
            err_setf(p->e, -EINVAL, "type %s.%s defined twice",
                     s->sorted[i]->pkg, s->sorted[i]->name);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < p->n_refs; i++) {
        const struct pending_ref *r = &p->refs[i];
        r->type->st = resolve_ref(s, r);
        if (r->type->st == NULL) {
            err_setf(p->e, -EINVAL, "%s:%d: unknown type \"%s\"", r->file,
                     r->line, r->ref);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < s->n; i++)
        s->structs[i]->hook =
            obj_schema_default_hook(s->structs[i]->pkg, s->structs[i]->name);
    mark_defaults(s);
    return 0;
}

int obj_schemas_parse(const struct obj_schema_text *texts,
                      size_t n,
                      struct obj_schemas **ret,
                      struct err *e)
{
    struct parser p = {.e = e};
    int rv = 0;

    *ret = NULL;
    if ((p.s = mem_calloc(1, sizeof *p.s)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n && rv == 0; i++)
        rv = parse_text(&p, &texts[i]);
    if (rv == 0)
        rv = resolve(&p);
    mem_free(p.fields);
    mem_free(p.refs);
    if (rv != 0) {
        if (rv == -ENOMEM)
            err_setf(e, rv, "out of memory parsing schemas");
        obj_schemas_free(p.s);
        return rv;
    }
    *ret = p.s;
    return 0;
}

/* ---- the built-ins
 * ------------------------------------------------------------*/

static struct obj_schemas *builtin;
static struct err builtin_err;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void free_builtin(void)
{
    obj_schemas_free(builtin);
    builtin = NULL;
}

static void parse_builtin(void)
{
    if (obj_schemas_parse(obj_schema_builtin_texts, obj_schema_builtin_n,
                          &builtin, &builtin_err) == 0)
        atexit(free_builtin);
}

const struct obj_schemas *obj_schemas_builtin(struct err *e)
{
    pthread_once(&builtin_once, parse_builtin);
    if (builtin == NULL && e != NULL)
        *e = builtin_err;
    return builtin;
}
