/* The default pass: plain defaults from the schema text, then the
 * struct's conditional-defaults hook, then its fields, top down (so a
 * default of {} is itself defaulted). Only structs that reach a default
 * (defaults_below) are visited, so shared subtrees without defaults stay
 * shared. */
#include <errno.h>
#include <stdbool.h>

#include "api/object/schema.h"
#include "api/object/schema_internal.h"

static int default_struct(const struct obj_sstruct *st, struct obj *m);

/* Default the private value @v of type @t in place. */
static int default_value(const struct obj_stype *t, struct obj *v)
{
    size_t n;
    int rv = 0;

    switch (t->kind) {
    case OBJ_ST_STRUCT:
        return obj_type(v) == OBJ_MAP ? default_struct(t->st, v) : 0;
    case OBJ_ST_LIST:
        n = obj_array_len(v);
        for (size_t i = 0; i < n && rv == 0; i++) {
            struct obj *e = obj_array_get_mut(v, i);
            rv = e == NULL ? -ENOMEM : default_value(t->elem, e);
        }
        return rv;
    case OBJ_ST_MAP:
        n = obj_map_len(v);
        for (size_t i = 0; i < n && rv == 0; i++) {
            struct obj *e = obj_map_get_mut(v, obj_map_key(v, i, NULL));
            rv = e == NULL ? -ENOMEM : default_value(t->elem, e);
        }
        return rv;
    default:
        return 0;
    }
}

/* Kubernetes defaults a field when Go sees its zero value: absent, or an
 * empty string (a non-pointer string cannot tell the two apart). */
static bool unset(const struct obj *v)
{
    return v == NULL ||
           (obj_type(v) == OBJ_STRING && obj_str_or(v, "x")[0] == '\0');
}

static int default_struct(const struct obj_sstruct *st, struct obj *m)
{
    int rv;

    for (size_t i = 0; i < st->n_fields; i++) {
        const struct obj_sfield *f = &st->fields[i];
        if (f->def != NULL && unset(obj_map_get(m, f->name)) &&
            (rv = obj_map_set(m, f->name, obj_ref(f->def))) != 0) {
            obj_unref(f->def);
            return rv;
        }
    }
    if (st->hook != NULL && (rv = st->hook(m)) != 0)
        return rv;
    for (size_t i = 0; i < st->n_fields; i++) {
        const struct obj_sfield *f = &st->fields[i];
        const struct obj_sstruct *sub = obj__struct_under(f->type);
        struct obj *v;

        if (sub == NULL || !sub->defaults_below ||
            obj_map_get(m, f->name) == NULL)
            continue;
        if ((v = obj_map_get_mut(m, f->name)) == NULL)
            return -ENOMEM;
        if ((rv = default_value(f->type, v)) != 0)
            return rv;
    }
    return 0;
}

int obj_schema_default(const struct obj_sstruct *root, struct obj **o)
{
    if (obj_type(*o) != OBJ_MAP)
        return 0;
    if (obj_unshare(o) != 0)
        return -ENOMEM;
    return root->defaults_below ? default_struct(root, *o) : 0;
}
