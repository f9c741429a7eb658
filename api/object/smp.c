/* Strategic merge patch (smp.h). */
#include <errno.h>
#include <string.h>

#include "api/object/smp.h"
#include "lib/mem.h"

#define ORDER "$setElementOrder/"
#define DELETE_FROM "$deleteFromPrimitiveList/"

static int merge_map(struct obj *doc, const struct obj *patch,
                     const struct obj_sstruct *st, struct err *e);

static bool prefixed(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The struct a field's values (or list elements) are, or NULL. */
static const struct obj_sstruct *struct_of(const struct obj_sfield *f)
{
    const struct obj_stype *t = f != NULL ? f->type : NULL;

    if (t != NULL && (t->kind == OBJ_ST_LIST || t->kind == OBJ_ST_MAP))
        t = t->elem;
    return t != NULL && t->kind == OBJ_ST_STRUCT ? t->st : NULL;
}

static bool merges(const struct obj_sfield *f)
{
    return f != NULL && f->type->kind == OBJ_ST_LIST && f->strategy != NULL &&
           strstr(f->strategy, "merge") != NULL;
}

/* Set @doc[@key] to @v (taking it); -ENOMEM. */
static int put(struct obj *doc, const char *key, struct obj *v)
{
    if (obj_map_set(doc, key, v) != 0) {
        obj_unref(v);
        return -ENOMEM;
    }
    return 0;
}

/* The index in @list of the element matching @pe on @key (or equal to it,
 * for scalars), or -1. */
static long find(const struct obj *list, const struct obj *pe,
                 const char *key)
{
    for (size_t i = 0; i < obj_array_len(list); i++) {
        const struct obj *le = obj_array_get(list, i);

        if (key != NULL ? obj_map_get(le, key) != NULL &&
                              obj_equal(obj_map_get(le, key),
                                        obj_map_get(pe, key))
                        : obj_equal(le, pe))
            return (long)i;
    }
    return -1;
}

/* An element {"$patch": "replace"} anywhere in a merge list: the list
 * becomes the patch's other elements. */
static bool replaces_list(const struct obj *plist)
{
    for (size_t i = 0; i < obj_array_len(plist); i++) {
        const char *pd = obj_str_or(obj_map_get(obj_array_get(plist, i),
                                                "$patch"), NULL);

        if (pd != NULL && strcmp(pd, "replace") == 0)
            return true;
    }
    return false;
}

/* A merge list of maps: element by element on the merge key; an element
 * {"KEY": V, "$patch": "delete"} removes every element with that key. */
static int merge_elements(struct obj *list, const struct obj *plist,
                          const struct obj_sfield *f, struct err *e)
{
    for (size_t i = 0; i < obj_array_len(plist); i++) {
        const struct obj *pe = obj_array_get(plist, i);
        const char *pd = obj_str_or(obj_map_get(pe, "$patch"), NULL);
        long at;
        int rv;

        if (pd != NULL && strcmp(pd, "delete") != 0)
            return err_setf(e, -EINVAL, "$patch \"%s\" is not allowed on "
                            "an element of %s", pd, f->name);
        if (obj_type(pe) != OBJ_MAP || obj_map_get(pe, f->merge_key) == NULL)
            return err_setf(e, -EINVAL, "an element of %s has no %s, its "
                            "merge key", f->name, f->merge_key);
        at = find(list, pe, f->merge_key);
        if (pd != NULL) { /* delete */
            for (; at >= 0; at = find(list, pe, f->merge_key))
                (void)obj_array_remove(list, (size_t)at);
            continue;
        }
        if (at >= 0) {
            struct obj *child = obj_array_get_mut(list, (size_t)at);

            if (child == NULL)
                return -ENOMEM;
            if ((rv = merge_map(child, pe, struct_of(f), e)) != 0)
                return rv;
            continue;
        }
        struct obj *fresh = obj_map_new();

        if (fresh == NULL)
            return -ENOMEM;
        if ((rv = merge_map(fresh, pe, struct_of(f), e)) != 0 ||
            (rv = obj_array_append(list, fresh)) != 0) {
            obj_unref(fresh);
            return rv == -EINVAL ? rv : -ENOMEM;
        }
    }
    return 0;
}

static int merge_list(struct obj *doc, const char *key,
                      const struct obj *plist, const struct obj_sfield *f,
                      struct err *e)
{
    struct obj *list = obj_map_get_mut(doc, key);

    if (obj_type(plist) != OBJ_ARRAY)
        return err_setf(e, -EINVAL, "%s must be a list", key);
    if (replaces_list(plist)) {
        struct obj *fresh = obj_array_new();

        if (put(doc, key, fresh) != 0 || (list = obj_map_get_mut(doc, key)) == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < obj_array_len(plist); i++) {
            const struct obj *pe = obj_array_get(plist, i);
            struct obj *c;

            if (obj_map_get(pe, "$patch") != NULL)
                continue;
            if ((c = obj_copy(pe)) == NULL || obj_array_append(list, c) != 0) {
                obj_unref(c);
                return -ENOMEM;
            }
        }
        return 0;
    }
    if (list == NULL || obj_type(list) != OBJ_ARRAY) {
        if (put(doc, key, obj_array_new()) != 0 ||
            (list = obj_map_get_mut(doc, key)) == NULL)
            return -ENOMEM;
    }
    if (f->merge_key != NULL && struct_of(f) != NULL)
        return merge_elements(list, plist, f, e);
    for (size_t i = 0; i < obj_array_len(plist); i++) { /* scalars: union */
        struct obj *v = obj_array_get(plist, i);

        if (find(list, v, NULL) < 0 && obj_array_append(list, obj_ref(v)) != 0) {
            obj_unref(v);
            return -ENOMEM;
        }
    }
    return 0;
}

/* $setElementOrder/FIELD: the elements it lists take the places such
 * elements hold in the list, in its order; the others (added on the
 * server) stay where they are. */
static int set_order(struct obj *doc, const char *key, const struct obj *order,
                     const struct obj_sfield *f)
{
    struct obj *list = obj_map_get_mut(doc, key);
    const char *mk = f != NULL ? f->merge_key : NULL;
    struct obj *sorted;
    size_t slot = 0;

    if (list == NULL || obj_type(list) != OBJ_ARRAY ||
        obj_type(order) != OBJ_ARRAY)
        return 0; /* nothing to order */
    if ((sorted = obj_copy(list)) == NULL) /* the elements as they were */
        return -ENOMEM;
    for (size_t i = 0; i < obj_array_len(order); i++) {
        long at = find(sorted, obj_array_get(order, i), mk);
        struct obj *el;

        if (at < 0)
            continue;
        /* The next place held by an element the order lists. */
        while (slot < obj_array_len(list) &&
               find(order, obj_array_get(sorted, slot), mk) < 0)
            slot++;
        if (slot == obj_array_len(list))
            break;
        el = obj_ref(obj_array_get(sorted, (size_t)at));
        if (obj_array_set(list, slot++, el) != 0) {
            obj_unref(el);
            obj_unref(sorted);
            return -ENOMEM;
        }
    }
    obj_unref(sorted);
    return 0;
}

static int delete_from(struct obj *doc, const char *key,
                       const struct obj *values)
{
    struct obj *list = obj_map_get_mut(doc, key);

    for (size_t i = obj_array_len(list); i-- > 0;)
        if (find(values, obj_array_get(list, i), NULL) >= 0)
            (void)obj_array_remove(list, i);
    return 0;
}

/* $retainKeys: keys of @doc not listed go (directives do not count). A
 * key the patch sets must be listed. */
/* Is key @k among the strings of @keys? 0 and *@yes, or -ENOMEM. */
static int key_listed(const struct obj *keys, const char *k, bool *yes)
{
    struct obj *ks = obj_str_new_c(k);

    if (ks == NULL)
        return -ENOMEM;
    *yes = find(keys, ks, NULL) >= 0;
    obj_unref(ks);
    return 0;
}

static int retain(struct obj *doc, const struct obj *patch,
                  const struct obj *keys, struct err *e)
{
    bool listed;

    for (size_t i = 0; i < obj_map_len(patch); i++) {
        const char *k = obj_map_key(patch, i, NULL);

        if (key_listed(keys, k, &listed) != 0)
            return -ENOMEM;
        if (k[0] != '$' && !listed)
            return err_setf(e, -EINVAL, "$retainKeys does not list %s, "
                            "which the patch sets", k);
    }
    for (size_t i = obj_map_len(doc); i-- > 0;) {
        const char *k = obj_map_key(doc, i, NULL);

        if (key_listed(keys, k, &listed) != 0)
            return -ENOMEM;
        if (!listed)
            (void)obj_map_del(doc, k);
    }
    return 0;
}

/* The directives that apply once the fields are merged. */
static int after_fields(struct obj *doc, const struct obj *patch,
                        const struct obj_sstruct *st, struct err *e)
{
    for (size_t i = 0; i < obj_map_len(patch); i++) {
        const char *k = obj_map_key(patch, i, NULL);
        const struct obj *v = obj_map_value(patch, i);
        int rv = 0;

        if (prefixed(k, ORDER))
            rv = set_order(doc, k + strlen(ORDER), v,
                           st ? obj_sstruct_field(st, k + strlen(ORDER))
                              : NULL);
        else if (prefixed(k, DELETE_FROM))
            rv = delete_from(doc, k + strlen(DELETE_FROM), v);
        else if (strcmp(k, "$retainKeys") == 0 && obj_type(v) == OBJ_ARRAY)
            rv = retain(doc, patch, v, e);
        else if (strcmp(k, "$retainKeys") == 0)
            rv = err_setf(e, -EINVAL, "$retainKeys must be a list");
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* One field of the patch. */
static int merge_field(struct obj *doc, const char *k, const struct obj *pv,
                       const struct obj_sstruct *st, struct err *e)
{
    const struct obj_sfield *f = st != NULL ? obj_sstruct_field(st, k) : NULL;
    struct obj *tv = obj_map_get(doc, k), *child;
    const char *pd;
    int rv;

    if (obj_is_null(pv)) {
        (void)obj_map_del(doc, k);
        return 0;
    }
    if (f != NULL && f->type->kind == OBJ_ST_LIST && obj_type(pv) != OBJ_ARRAY)
        return err_setf(e, -EINVAL, "%s must be a list", k);
    if (obj_type(pv) == OBJ_ARRAY && merges(f))
        return merge_list(doc, k, pv, f, e);
    if (obj_type(pv) != OBJ_MAP)
        return put(doc, k, obj_copy(pv));
    pd = obj_str_or(obj_map_get(pv, "$patch"), NULL);
    if (pd != NULL && strcmp(pd, "delete") == 0) {
        (void)obj_map_del(doc, k);
        return 0;
    }
    if (tv == NULL || obj_type(tv) != OBJ_MAP) {
        if (put(doc, k, obj_map_new()) != 0)
            return -ENOMEM;
    }
    if ((child = obj_map_get_mut(doc, k)) == NULL)
        return -ENOMEM;
    /* A struct field merges with its struct's patch metadata; a map[...]
     * field merges as a plain map (no schema has a map of structs). */
    rv = merge_map(child, pv, f != NULL && f->type->kind == OBJ_ST_STRUCT
                                  ? f->type->st : NULL, e);
    return rv;
}

static int merge_map(struct obj *doc, const struct obj *patch,
                     const struct obj_sstruct *st, struct err *e)
{
    const char *pd = obj_str_or(obj_map_get(patch, "$patch"), NULL);
    int rv;

    if (obj_type(patch) != OBJ_MAP)
        return err_setf(e, -EINVAL, "a strategic merge patch is an object");
    if (pd != NULL && strcmp(pd, "replace") == 0) {
        for (size_t i = obj_map_len(doc); i-- > 0;)
            (void)obj_map_del(doc, obj_map_key(doc, i, NULL));
    } else if (pd != NULL && strcmp(pd, "merge") != 0) {
        return err_setf(e, -EINVAL, "unknown $patch \"%s\"", pd);
    }
    for (size_t i = 0; i < obj_map_len(patch); i++) {
        const char *k = obj_map_key(patch, i, NULL);

        if (k[0] == '$') {
            if (strcmp(k, "$patch") != 0 && strcmp(k, "$retainKeys") != 0 &&
                !prefixed(k, ORDER) && !prefixed(k, DELETE_FROM))
                return err_setf(e, -EINVAL, "unknown directive %s", k);
            continue;
        }
        if ((rv = merge_field(doc, k, obj_map_value(patch, i), st, e)) != 0)
            return rv;
    }
    return after_fields(doc, patch, st, e);
}

int obj_smp_apply(struct obj *doc, const struct obj *patch,
                  const struct obj_sstruct *st, struct err *e)
{
    return merge_map(doc, patch, st, e);
}
