/* Validation of the metadata block every object carries (Kubernetes'
 * ValidateObjectMeta and ValidateObjectMetaUpdate). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/validate.h"
#include "lib/mem.h"

/* Finalizers with a meaning to the garbage collector, which contradict
 * each other. */
#define FINALIZER_ORPHAN "orphan"
#define FINALIZER_FOREGROUND "foregroundDeletion"

/* ---- helpers --------------------------------------------------------------*/

/* One Invalid error per explanation in @m, all for the string @s. */
static int add_msgs(struct obj_ferrs *l,
                    const struct obj_fpath *at,
                    const char *s,
                    size_t len,
                    const struct obj_msgs *m)
{
    for (size_t i = 0; i < m->n; i++)
        (void)obj_ferrs_add_str(l, OBJ_FERR_INVALID, at, s, len, m->v[i]);
    return l->err;
}

/* Field @key of map @m when it has type @t. A value of another type
 * (JSON null aside, which means absent as in Go) is reported and treated
 * as absent: schemas check types before validation, this keeps us safe
 * when called on an unchecked tree. */
static struct obj *get_typed(struct obj_ferrs *l,
                             const struct obj_fpath *at,
                             const struct obj *m,
                             const char *key,
                             enum obj_type t)
{
    struct obj *v = obj_map_get(m, key);
    struct obj_fpath p = obj_fpath_child(at, key);

    if (v == NULL || obj_is_null(v) || obj_type(v) == t)
        return v != NULL && obj_type(v) == t ? v : NULL;
    (void)obj_ferrs_addf(l, OBJ_FERR_TYPE_INVALID, &p, NULL, "must be %s %s",
                         t == OBJ_INT || t == OBJ_ARRAY ? "an" : "a",
                         t == OBJ_INT ? "integer" : obj_type_name(t));
    return NULL;
}

/* A string field's bytes, "" when absent. */
static const char *get_str(struct obj_ferrs *l,
                           const struct obj_fpath *at,
                           const struct obj *m,
                           const char *key,
                           size_t *len)
{
    const char *s = obj_str(get_typed(l, at, m, key, OBJ_STRING), len);

    if (s == NULL) {
        *len = 0;
        return "";
    }
    return s;
}

/* ---- labels, annotations, config keys -------------------------------------*/

/* Map entries must be strings: report those that are not. */
static bool entry_is_str(struct obj_ferrs *l,
                         const struct obj_fpath *at,
                         const char *key,
                         const struct obj *v)
{
    struct obj_fpath p = obj_fpath_key(at, key);

    if (obj_type(v) == OBJ_STRING)
        return true;
    (void)obj_ferrs_addf(l, OBJ_FERR_TYPE_INVALID, &p, NULL,
                         "must be a string");
    return false;
}

int obj_validate_labels(const struct obj *labels,
                        const struct obj_fpath *at,
                        struct obj_ferrs *l)
{
    struct obj_msgs m;
    size_t klen, vlen;

    for (size_t i = 0; i < obj_map_len(labels); i++) {
        const char *k = obj_map_key(labels, i, &klen);
        const struct obj *v = obj_map_value(labels, i);

        obj_check_qualified_name(k, klen, &m);
        (void)add_msgs(l, at, k, klen, &m);
        if (!entry_is_str(l, at, k, v))
            continue;
        const char *s = obj_str(v, &vlen);
        obj_check_label_value(s, vlen, &m);
        (void)add_msgs(l, at, s, vlen, &m);
    }
    return l->err;
}

/* Annotation keys are qualified names whose prefix may be upper case:
 * Kubernetes lower-cases the key before checking it. */
static void annotation_key(const char *k, size_t len, struct obj_msgs *m)
{
    char buf[512];
    char *low = len < sizeof buf ? buf : mem_malloc(len + 1);

    if (low == NULL) { /* Out of memory: check as is (stricter). */
        obj_check_qualified_name(k, len, m);
        return;
    }
    for (size_t i = 0; i < len; i++)
        low[i] = k[i] >= 'A' && k[i] <= 'Z' ? (char)(k[i] - 'A' + 'a') : k[i];
    obj_check_qualified_name(low, len, m);
    if (low != buf)
        mem_free(low);
}

int obj_validate_annotations(const struct obj *annotations,
                             const struct obj_fpath *at,
                             struct obj_ferrs *l)
{
    struct obj_msgs m;
    size_t klen, vlen, total = 0;

    for (size_t i = 0; i < obj_map_len(annotations); i++) {
        const char *k = obj_map_key(annotations, i, &klen);
        const struct obj *v = obj_map_value(annotations, i);

        annotation_key(k, klen, &m);
        (void)add_msgs(l, at, k, klen, &m);
        total += klen;
        if (entry_is_str(l, at, k, v) && obj_str(v, &vlen) != NULL)
            total += vlen;
    }
    if (total > OBJ_ANNOTATIONS_MAX)
        (void)obj_ferrs_too_long(l, at, OBJ_ANNOTATIONS_MAX);
    return l->err;
}

int obj_validate_config_keys(const struct obj *data,
                             const struct obj_fpath *at,
                             struct obj_ferrs *l)
{
    struct obj_msgs m;
    size_t klen;

    for (size_t i = 0; i < obj_map_len(data); i++) {
        const char *k = obj_map_key(data, i, &klen);
        struct obj_fpath p = obj_fpath_key(at, k);

        obj_check_config_key(k, klen, &m);
        (void)add_msgs(l, &p, k, klen, &m);
    }
    return l->err;
}

/* ---- owner references -----------------------------------------------------*/

/* Whether apiVersion is VERSION or GROUP/VERSION with a non-empty version
 * (schema.ParseGroupVersion). */
static bool api_version_ok(const char *s, size_t len)
{
    const char *slash = memchr(s, '/', len);
    const char *ver = slash ? slash + 1 : s;
    size_t vlen = len - (size_t)(ver - s);

    return vlen > 0 && memchr(ver, '/', vlen) == NULL;
}

static void owner_ref(struct obj_ferrs *l,
                      const struct obj_fpath *at,
                      struct obj *ref)
{
    static const char *const required[] = {"kind", "name", "uid"};
    struct obj_fpath p = obj_fpath_child(at, "apiVersion");
    const char *av;
    size_t alen, klen;

    av = get_str(l, at, ref, "apiVersion", &alen);
    if (alen == 0)
        (void)obj_ferrs_required(l, &p, "must not be empty");
    else if (!api_version_ok(av, alen))
        (void)obj_ferrs_add_str(l, OBJ_FERR_INVALID, &p, av, alen,
                                "must be <group>/<version> or <version>");
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        p = obj_fpath_child(at, required[i]);
        if (get_str(l, at, ref, required[i], &klen)[0] == '\0')
            (void)obj_ferrs_required(l, &p, "must not be empty");
    }
    /* Events are deleted by age: owning anything would delete it too. */
    if (strcmp(av, "v1") == 0 &&
        strcmp(obj_str_or(obj_map_get(ref, "kind"), ""), "Event") == 0)
        (void)obj_ferrs_invalid(l, at, ref,
                                "/v1, Kind=Event is disallowed from being "
                                "an owner");
}

/* "Kind/name" of a reference, for the message about two controllers. */
static const char *controller_name(const struct obj *ref,
                                   char *buf,
                                   size_t size)
{
    (void)snprintf(buf, size, "%s/%s", obj_str_or(obj_map_get(ref, "kind"), ""),
                   obj_str_or(obj_map_get(ref, "name"), ""));
    return buf;
}

int obj_validate_owner_refs(const struct obj *refs,
                            const struct obj_fpath *at,
                            struct obj_ferrs *l)
{
    char first[512] = "", cur[512];

    for (size_t i = 0; i < obj_array_len(refs); i++) {
        struct obj *ref = obj_array_get(refs, i);
        struct obj_fpath p = obj_fpath_index(at, i);

        if (obj_type(ref) != OBJ_MAP) {
            (void)obj_ferrs_addf(l, OBJ_FERR_TYPE_INVALID, &p, NULL,
                                 "must be a map");
            continue;
        }
        owner_ref(l, &p, ref);
        if (!obj_bool_or(obj_map_get(ref, "controller"), false))
            continue;
        if (first[0] == '\0') {
            (void)controller_name(ref, first, sizeof first);
            continue;
        }
        (void)obj_ferrs_addf(
            l, OBJ_FERR_INVALID, at, refs,
            "Only one reference can have Controller set to true. Found "
            "\"true\" in references for %s and %s",
            first, controller_name(ref, cur, sizeof cur));
    }
    return l->err;
}

/* ---- finalizers -----------------------------------------------------------*/

/* Whether element @i of @list equals an earlier one. */
static bool repeated(const struct obj *list, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (obj_equal(obj_array_get(list, j), obj_array_get(list, i)))
            return true;
    return false;
}

int obj_validate_finalizers(const struct obj *finalizers,
                            const struct obj_fpath *at,
                            struct obj_ferrs *l)
{
    bool orphan = false, foreground = false;
    struct obj_msgs m;
    size_t len;

    for (size_t i = 0; i < obj_array_len(finalizers); i++) {
        struct obj *f = obj_array_get(finalizers, i);
        struct obj_fpath p = obj_fpath_index(at, i);
        const char *s = obj_str(f, &len);

        if (s == NULL) {
            (void)obj_ferrs_addf(l, OBJ_FERR_TYPE_INVALID, &p, NULL,
                                 "must be a string");
            continue;
        }
        obj_check_qualified_name(s, len, &m);
        (void)add_msgs(l, at, s, len, &m); /* Go names the list, not [i]. */
        if (repeated(finalizers, i))
            (void)obj_ferrs_duplicate(l, &p, f);
        orphan |= strcmp(s, FINALIZER_ORPHAN) == 0;
        foreground |= strcmp(s, FINALIZER_FOREGROUND) == 0;
    }
    if (orphan && foreground)
        (void)obj_ferrs_invalid(l, at, finalizers,
                                "finalizer " FINALIZER_ORPHAN
                                " and " FINALIZER_FOREGROUND
                                " cannot be both set");
    return l->err;
}

/* ---- create ---------------------------------------------------------------*/

static void meta_name(const struct obj *meta,
                      const struct obj_meta_rules *r,
                      const struct obj_fpath *at,
                      struct obj_ferrs *l)
{
    struct obj_fpath p = obj_fpath_child(at, "generateName");
    struct obj_msgs m;
    const char *s;
    size_t len;

    s = get_str(l, at, meta, "generateName", &len);
    if (len > 0) {
        obj_check_name(r->name_rule, s, len, true, &m);
        (void)add_msgs(l, &p, s, len, &m);
    }
    p = obj_fpath_child(at, "name");
    s = get_str(l, at, meta, "name", &len);
    if (len == 0) {
        (void)obj_ferrs_required(l, &p, "name or generateName is required");
        return;
    }
    obj_check_name(r->name_rule, s, len, false, &m);
    (void)add_msgs(l, &p, s, len, &m);
}

static void meta_namespace(const struct obj *meta,
                           const struct obj_meta_rules *r,
                           const struct obj_fpath *at,
                           struct obj_ferrs *l)
{
    struct obj_fpath p = obj_fpath_child(at, "namespace");
    struct obj_msgs m;
    size_t len;
    const char *s = get_str(l, at, meta, "namespace", &len);

    if (!r->namespaced) {
        if (len > 0)
            (void)obj_ferrs_forbidden(l, &p, "not allowed on this type");
        return;
    }
    if (len == 0) {
        (void)obj_ferrs_required(l, &p, NULL);
        return;
    }
    obj_check_dns1123_label(s, len, &m);
    (void)add_msgs(l, &p, s, len, &m);
}

static void meta_generation(const struct obj *meta,
                            const struct obj_fpath *at,
                            struct obj_ferrs *l)
{
    struct obj_fpath p = obj_fpath_child(at, "generation");
    struct obj *g = get_typed(l, at, meta, "generation", OBJ_INT);

    if (obj_int_or(g, 0) < 0)
        (void)obj_ferrs_invalid(l, &p, g, "must be greater than or equal to 0");
}

/* The checks create and update share. */
static void meta_common(const struct obj *meta,
                        const struct obj_fpath *at,
                        struct obj_ferrs *l)
{
    struct obj_fpath p;

    p = obj_fpath_child(at, "labels");
    (void)obj_validate_labels(get_typed(l, at, meta, "labels", OBJ_MAP), &p, l);
    p = obj_fpath_child(at, "annotations");
    (void)obj_validate_annotations(
        get_typed(l, at, meta, "annotations", OBJ_MAP), &p, l);
    p = obj_fpath_child(at, "ownerReferences");
    (void)obj_validate_owner_refs(
        get_typed(l, at, meta, "ownerReferences", OBJ_ARRAY), &p, l);
    p = obj_fpath_child(at, "finalizers");
    (void)obj_validate_finalizers(
        get_typed(l, at, meta, "finalizers", OBJ_ARRAY), &p, l);
}

int obj_validate_meta_create(const struct obj *meta,
                             const struct obj_meta_rules *rules,
                             const struct obj_fpath *at,
                             struct obj_ferrs *l)
{
    meta_name(meta, rules, at, l);
    meta_namespace(meta, rules, at, l);
    meta_generation(meta, at, l);
    meta_common(meta, at, l);
    return l->err;
}

/* ---- update ---------------------------------------------------------------*/

/* Whether a value is Go's zero value: absent, null or "" (what a typed
 * client cannot tell apart). */
static bool is_zero(const struct obj *v)
{
    size_t len = 1;

    return v == NULL || obj_is_null(v) ||
           (obj_str(v, &len) != NULL && len == 0);
}

static void immutable(const struct obj *meta,
                      const struct obj *old,
                      const char *key,
                      const struct obj_fpath *at,
                      struct obj_ferrs *l)
{
    struct obj *n = obj_map_get(meta, key), *o = obj_map_get(old, key);
    struct obj_fpath p = obj_fpath_child(at, key);

    if ((is_zero(n) && is_zero(o)) || obj_equal(n, o))
        return;
    /* An absent value shows as Go's zero value: "" for the string
     * fields, null for timestamps and the grace period. */
    if (n == NULL && obj_type(o) == OBJ_STRING &&
        strstr(key, "Timestamp") == NULL)
        (void)obj_ferrs_add_str(l, OBJ_FERR_INVALID, &p, "", 0,
                                "field is immutable");
    else
        (void)obj_ferrs_invalid(l, &p, n ? n : obj_null(),
                                "field is immutable");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Finalizers in @meta that @old lacks, sorted and each once, written as
 * Go's %#v of a []string: []string{"a", "b"}. */
static int new_finalizers(const struct obj *nf,
                          const struct obj *of,
                          struct obj_buf *b,
                          size_t *ret_n)
{
    size_t n = obj_array_len(nf), k = 0;
    const char **extra = mem_calloc(n ? n : 1, sizeof *extra);
    int r;

    if (extra == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct obj *f = obj_array_get(nf, i);
        bool known = repeated(nf, i);

        for (size_t j = 0; j < obj_array_len(of) && !known; j++)
            known = obj_equal(f, obj_array_get(of, j));
        if (!known && obj_str_or(f, NULL) != NULL)
            extra[k++] = obj_str_or(f, NULL);
    }
    qsort(extra, k, sizeof *extra, cmp_str);
    r = obj_buf_append(b, "[]string{", 9);
    for (size_t i = 0; i < k && r == 0; i++) {
        if (i > 0)
            r = obj_buf_append(b, ", ", 2);
        if (r == 0)
            r = obj_quote_go(b, extra[i], strlen(extra[i]));
    }
    if (r == 0)
        r = obj_buf_append(b, "}", 1);
    mem_free(extra);
    *ret_n = k;
    return r;
}

static void no_new_finalizers(const struct obj *meta,
                              const struct obj *old,
                              const struct obj_fpath *at,
                              struct obj_ferrs *l)
{
    struct obj_fpath p = obj_fpath_child(at, "finalizers");
    struct obj_buf b;
    size_t n = 0;

    if (is_zero(obj_map_get(old, "deletionTimestamp")))
        return;
    obj_buf_init(&b);
    if (new_finalizers(obj_map_get(meta, "finalizers"),
                       obj_map_get(old, "finalizers"), &b, &n) != 0)
        l->err = -ENOMEM;
    else if (n > 0)
        (void)obj_ferrs_addf(l, OBJ_FERR_FORBIDDEN, &p, NULL,
                             "no new finalizers can be added if the object "
                             "is being deleted, found new finalizers %s",
                             b.data);
    obj_buf_done(&b);
}

static void update_generation(const struct obj *meta,
                              const struct obj *old,
                              const struct obj_fpath *at,
                              struct obj_ferrs *l)
{
    struct obj_fpath p = obj_fpath_child(at, "generation");
    struct obj *g = obj_map_get(meta, "generation");

    meta_generation(meta, at, l);
    if (obj_int_or(g, 0) < obj_int_or(obj_map_get(old, "generation"), 0))
        (void)obj_ferrs_invalid(l, &p, g ? g : obj_null(),
                                "must not be decremented");
}

int obj_validate_meta_update(const struct obj *meta,
                             const struct obj *old_meta,
                             bool unconditional,
                             const struct obj_fpath *at,
                             struct obj_ferrs *l)
{
    static const char *const fixed[] = {
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    };
    struct obj_fpath p = obj_fpath_child(at, "resourceVersion");
    size_t len;

    no_new_finalizers(meta, old_meta, at, l);
    (void)get_str(l, at, meta, "resourceVersion", &len);
    if (len == 0 && !unconditional)
        (void)obj_ferrs_add_str(l, OBJ_FERR_INVALID, &p, "", 0,
                                "must be specified for an update");
    update_generation(meta, old_meta, at, l);
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        immutable(meta, old_meta, fixed[i], at, l);
    meta_common(meta, at, l);
    return l->err;
}

/* ---- server-owned fields --------------------------------------------------*/

/* Set @key of @meta to @old's value, or remove it when @old has none. */
static int copy_field(struct obj *meta, const struct obj *old, const char *key)
{
    struct obj *v = obj_map_get(old, key);
    int r;

    if (v == NULL) {
        r = obj_map_del(meta, key);
        return r == -ENOENT ? 0 : r;
    }
    r = obj_map_set(meta, key, obj_ref(v));
    if (r != 0)
        obj_unref(v); /* The map did not take our reference. */
    return r;
}

int obj_meta_carry_over(struct obj *meta, const struct obj *old_meta)
{
    int r = 0;

    if (obj_is_shared(meta))
        return -EBUSY;
    if (is_zero(obj_map_get(meta, "uid")))
        r = copy_field(meta, old_meta, "uid");
    if (r == 0 && !is_zero(obj_map_get(old_meta, "creationTimestamp")))
        r = copy_field(meta, old_meta, "creationTimestamp");
    if (r == 0 && !is_zero(obj_map_get(old_meta, "deletionTimestamp")))
        r = copy_field(meta, old_meta, "deletionTimestamp");
    if (r == 0 && is_zero(obj_map_get(meta, "deletionGracePeriodSeconds")) &&
        !is_zero(obj_map_get(old_meta, "deletionGracePeriodSeconds")))
        r = copy_field(meta, old_meta, "deletionGracePeriodSeconds");
    if (r == 0)
        r = copy_field(meta, old_meta, "generation");
    /* An update that leaves managedFields out keeps them (server-side
     * apply's bookkeeping; what a client sends is judged by
     * obj_apply_record_update). */
    if (r == 0 && obj_map_get(meta, "managedFields") == NULL &&
        obj_map_get(old_meta, "managedFields") != NULL)
        r = copy_field(meta, old_meta, "managedFields");
    return r;
}

bool obj_subtree_changed(const struct obj *old_obj,
                         const struct obj *new_obj,
                         const char *subtree)
{
    return !obj_equal(obj_map_get(old_obj, subtree),
                      obj_map_get(new_obj, subtree));
}

int64_t obj_next_generation(const struct obj *old_obj,
                            const struct obj *new_obj,
                            const char *subtree)
{
    int64_t g;

    if (old_obj == NULL)
        return 1;
    g = obj_int_or(obj_get(old_obj, "metadata", "generation", NULL), 0);
    return obj_subtree_changed(old_obj, new_obj, subtree) ? g + 1 : g;
}

int obj_validate_object_meta(const struct obj *obj,
                             const struct obj *old_obj,
                             const struct obj_meta_rules *rules,
                             bool unconditional,
                             struct obj_ferrs *l)
{
    struct obj_fpath at = obj_fpath_child(NULL, "metadata");
    struct obj *meta = get_typed(l, NULL, obj, "metadata", OBJ_MAP);

    if (old_obj == NULL)
        return obj_validate_meta_create(meta, rules, &at, l);
    return obj_validate_meta_update(meta, obj_map_get(old_obj, "metadata"),
                                    unconditional, &at, l);
}
