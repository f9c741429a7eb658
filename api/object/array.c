/* Arrays: append, insert, remove, get, set. */
#include <errno.h>
#include <string.h>

#include "api/object/internal.h"
#include "lib/mem.h"

int obj__array_reserve(struct obj *a, size_t n)
{
    size_t cap = a->u.arr.cap, need;
    struct obj **items;

    if (n > SIZE_MAX / sizeof *items - a->u.arr.len)
        return -ENOMEM;
    need = a->u.arr.len + n;
    if (need <= cap)
        return 0;
    cap = cap != 0 ? cap : 4;
    while (cap < need)
        cap = cap > SIZE_MAX / sizeof *items / 2 ? need : cap * 2;
    items = mem_realloc(a->u.arr.items, cap * sizeof *items);
    if (items == NULL)
        return -ENOMEM;
    a->u.arr.items = items;
    a->u.arr.cap = cap;
    return 0;
}

size_t obj_array_len(const struct obj *a)
{
    return a != NULL && a->type == OBJ_ARRAY ? a->u.arr.len : 0;
}

struct obj *obj_array_get(const struct obj *a, size_t i)
{
    if (a == NULL || a->type != OBJ_ARRAY || i >= a->u.arr.len)
        return NULL;
    return a->u.arr.items[i];
}

/* The common checks of the mutators. */
static int check_mutable(const struct obj *a, const struct obj *v)
{
    if (a->type != OBJ_ARRAY)
        return -EINVAL;
    if (obj_is_shared(a))
        return -EBUSY;
    return v == NULL ? -ENOMEM : 0;
}

int obj_array_append(struct obj *a, struct obj *v)
{
    int r = check_mutable(a, v);

    if (r != 0 || (r = obj__array_reserve(a, 1)) != 0)
        return r;
    a->u.arr.items[a->u.arr.len++] = v;
    return 0;
}

int obj_array_set(struct obj *a, size_t i, struct obj *v)
{
    int r = check_mutable(a, v);

    if (r != 0)
        return r;
    if (i >= a->u.arr.len)
        return -ERANGE;
    obj_unref(a->u.arr.items[i]);
    a->u.arr.items[i] = v;
    return 0;
}

struct obj *obj_array_get_mut(struct obj *a, size_t i)
{
    if (a == NULL || a->type != OBJ_ARRAY || obj_is_shared(a) ||
        i >= a->u.arr.len || obj_unshare(&a->u.arr.items[i]) != 0)
        return NULL;
    return a->u.arr.items[i];
}

int obj_array_insert(struct obj *a, size_t i, struct obj *v)
{
    int r = check_mutable(a, v);

    if (r != 0)
        return r;
    if (i > a->u.arr.len)
        return -ERANGE;
    if ((r = obj__array_reserve(a, 1)) != 0)
        return r;
    memmove(&a->u.arr.items[i + 1], &a->u.arr.items[i],
            (a->u.arr.len - i) * sizeof *a->u.arr.items);
    a->u.arr.items[i] = v;
    a->u.arr.len++;
    return 0;
}

int obj_array_remove(struct obj *a, size_t i)
{
    if (a->type != OBJ_ARRAY)
        return -EINVAL;
    if (obj_is_shared(a))
        return -EBUSY;
    if (i >= a->u.arr.len)
        return -ERANGE;
    obj_unref(a->u.arr.items[i]);
    memmove(&a->u.arr.items[i], &a->u.arr.items[i + 1],
            (a->u.arr.len - i - 1) * sizeof *a->u.arr.items);
    a->u.arr.len--;
    return 0;
}
