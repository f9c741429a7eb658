/* The object model: construction, references, maps, arrays, paths,
 * copy-on-write and UTF-8 checks. */
#include <errno.h>
#include <math.h>

#include "api/object/obj.h"
#include "lib/mem.h"
#include "tests/lib/unit.h"

TEST(obj, scalars)
{
    struct obj *i = obj_int_new(INT64_MIN), *f = obj_float_new(0.5);
    struct obj *s = obj_str_new_c("héllo");

    ASSERT_EQ(obj_type(obj_null()), OBJ_NULL);
    ASSERT(obj_bool_or(obj_bool_new(true), false));
    ASSERT(!obj_bool_or(obj_bool_new(false), true));
    ASSERT(obj_int_or(i, 0) == INT64_MIN);
    ASSERT(obj_float_or(f, 0) == 0.5);
    ASSERT(obj_float_or(i, 0) == (double)INT64_MIN);
    ASSERT_STR_EQ(obj_str_or(s, NULL), "héllo");
    ASSERT_STR_EQ(obj_str_or(i, "def"), "def");
    ASSERT_EQ(obj_int_or(NULL, 7), 7);
    ASSERT(obj_is_null(obj_null()));
    ASSERT_STR_EQ(obj_type_name(obj_type(s)), "string");
    obj_unref(i);
    obj_unref(f);
    obj_unref(s);
    /* Static nodes survive any number of unrefs. */
    obj_unref(obj_null());
    obj_unref(obj_bool_new(true));
    ASSERT(obj_is_null(obj_null()));
    ASSERT(obj_unref(NULL) == NULL);
}

TEST(obj, strings_are_checked)
{
    ASSERT(obj_str_new("a\0b", 3) == NULL);
    ASSERT(obj_str_new("\xc0\x80", 2) == NULL);     /* overlong NUL */
    ASSERT(obj_str_new("\xed\xa0\x80", 3) == NULL); /* surrogate */
    ASSERT(obj_str_new("\xf4\x90\x80\x80", 4) == NULL); /* > U+10FFFF */
    ASSERT(obj_str_new("\xe2\x82", 2) == NULL);     /* truncated */
    ASSERT(obj_str_new("\x80", 1) == NULL);
    obj_unref(obj_str_new("", 0));
}

TEST(obj, utf8_check)
{
    size_t bad = 99;

    ASSERT(obj_utf8_check("plain ascii text, long enough", 29, NULL));
    ASSERT(obj_utf8_check("\xf0\x9f\x98\x80\xe2\x98\x83\xc3\xa9", 9, NULL));
    ASSERT(!obj_utf8_check("abcdefgh\xff", 9, &bad));
    ASSERT_EQ(bad, 8);
    ASSERT(!obj_utf8_check("abcdefghijk\0", 12, &bad));
    ASSERT_EQ(bad, 11);
    ASSERT(!obj_utf8_check("\xe0\x80\xaf", 3, NULL)); /* overlong '/' */
}

TEST(obj, map_basics_and_order)
{
    struct obj *m = obj_map_new();

    ASSERT_EQ(obj_map_set(m, "b", obj_int_new(1)), 0);
    ASSERT_EQ(obj_map_set(m, "a", obj_int_new(2)), 0);
    ASSERT_EQ(obj_map_set(m, "c", obj_int_new(3)), 0);
    ASSERT_EQ(obj_map_set(m, "a", obj_int_new(4)), 0); /* replace in place */
    ASSERT_EQ(obj_map_len(m), 3);
    ASSERT_STR_EQ(obj_map_key(m, 0, NULL), "b");
    ASSERT_STR_EQ(obj_map_key(m, 1, NULL), "a");
    ASSERT_EQ(obj_int_or(obj_map_value(m, 1), 0), 4);
    ASSERT_EQ(obj_map_del(m, "b"), 0);
    ASSERT_EQ(obj_map_del(m, "b"), -ENOENT);
    ASSERT_STR_EQ(obj_map_key(m, 0, NULL), "a");
    ASSERT(obj_map_get(m, "zz") == NULL);
    ASSERT_EQ(obj_map_set(m, "bad\xff", obj_null()), -EINVAL);
    ASSERT_EQ(obj_map_set(m, "x", NULL), -ENOMEM);
    ASSERT_EQ(obj_array_append(m, obj_null()), -EINVAL);
    obj_unref(m);
}

TEST(obj, big_map_uses_index)
{
    struct obj *m = obj_map_new();
    char k[32];

    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        ASSERT_EQ(obj_map_set(m, k, obj_int_new(i)), 0);
    }
    for (int i = 0; i < 2000; i += 3) {
        snprintf(k, sizeof k, "key-%d", i);
        ASSERT_EQ(obj_map_del(m, k), 0);
    }
    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        if (i % 3 == 0)
            ASSERT(obj_map_get(m, k) == NULL);
        else
            ASSERT_EQ(obj_int_or(obj_map_get(m, k), -1), i);
    }
    /* Order survives deletions. */
    ASSERT_STR_EQ(obj_map_key(m, 0, NULL), "key-1");
    ASSERT_STR_EQ(obj_map_key(m, 1, NULL), "key-2");
    ASSERT_STR_EQ(obj_map_key(m, 2, NULL), "key-4");
    /* Shrink below the threshold and keep working. */
    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        (void)obj_map_del(m, k);
    }
    ASSERT_EQ(obj_map_len(m), 0);
    ASSERT_EQ(obj_map_set(m, "again", obj_null()), 0);
    ASSERT(obj_map_get(m, "again") != NULL);
    obj_unref(m);
}

TEST(obj, arrays_and_paths)
{
    struct obj *pod = obj_map_new(), *spec = obj_map_new();
    struct obj *cs = obj_array_new(), *c = obj_map_new();

    ASSERT_EQ(obj_map_set(c, "image", obj_str_new_c("nginx")), 0);
    ASSERT_EQ(obj_array_append(cs, c), 0);
    ASSERT_EQ(obj_map_set(spec, "containers", cs), 0);
    ASSERT_EQ(obj_map_set(pod, "spec", spec), 0);
    ASSERT_STR_EQ(obj_str_or(obj_get(pod, "spec", "containers", "0", "image",
                                     NULL),
                             ""),
                  "nginx");
    ASSERT_STR_EQ(obj_str_or(obj_get_path(pod, "spec.containers.0.image"),
                             ""),
                  "nginx");
    ASSERT(obj_get(pod, "spec", "containers", "1", NULL) == NULL);
    ASSERT(obj_get(pod, "spec", "containers", "x", NULL) == NULL);
    ASSERT(obj_get(pod, "nope", "deeper", NULL) == NULL);
    ASSERT(obj_get_path(pod, "") == pod);
    ASSERT_EQ(obj_array_len(cs), 1);
    ASSERT_EQ(obj_array_set(cs, 5, obj_null()), -ERANGE);
    ASSERT_EQ(obj_array_set(cs, 0, obj_int_new(1)), 0);
    ASSERT_EQ(obj_int_or(obj_array_get(cs, 0), 0), 1);
    obj_unref(pod);
}

TEST(obj, copy_equal)
{
    struct obj *a = obj_map_new(), *b, *l = obj_array_new();

    ASSERT_EQ(obj_array_append(l, obj_float_new(-0.0)), 0);
    ASSERT_EQ(obj_map_set(a, "x", obj_int_new(1)), 0);
    ASSERT_EQ(obj_map_set(a, "l", l), 0);
    b = obj_copy(a);
    ASSERT(b != NULL && b != a);
    ASSERT(obj_equal(a, b));
    ASSERT(!obj_is_shared(obj_map_get(b, "l")));
    /* Key order does not matter; int and float differ; -0.0 != 0.0. */
    ASSERT_EQ(obj_map_del(b, "x"), 0);
    ASSERT_EQ(obj_map_set(b, "x", obj_int_new(1)), 0);
    ASSERT(obj_equal(a, b));
    ASSERT_EQ(obj_map_set(b, "x", obj_float_new(1.0)), 0);
    ASSERT(!obj_equal(a, b));
    ASSERT_EQ(obj_map_set(b, "x", obj_int_new(1)), 0);
    ASSERT_EQ(obj_array_set(obj_map_get(b, "l"), 0, obj_float_new(0.0)), 0);
    ASSERT(!obj_equal(a, b));
    ASSERT(!obj_equal(a, NULL));
    ASSERT(obj_equal(NULL, NULL));
    obj_unref(a);
    obj_unref(b);
}

TEST(obj, copy_on_write)
{
    struct obj *a = obj_map_new(), *inner = obj_map_new(), *mine, *child;

    ASSERT_EQ(obj_map_set(inner, "k", obj_str_new_c("v")), 0);
    ASSERT_EQ(obj_map_set(a, "inner", inner), 0);
    /* A second holder: nobody may change it now. */
    mine = obj_ref(a);
    ASSERT(obj_is_shared(a));
    ASSERT_EQ(obj_map_set(a, "z", obj_null()), -EBUSY);
    ASSERT_EQ(obj_map_del(a, "inner"), -EBUSY);
    ASSERT(obj_map_get_mut(a, "inner") == NULL);
    /* Unshare the root, then the path down to the node to change. */
    ASSERT_EQ(obj_unshare(&mine), 0);
    ASSERT(mine != a);
    ASSERT(!obj_is_shared(a));
    ASSERT(obj_map_get(mine, "inner") == inner); /* children shared */
    child = obj_map_get_mut(mine, "inner");
    ASSERT(child != NULL && child != inner);
    ASSERT_EQ(obj_map_set(child, "k", obj_str_new_c("changed")), 0);
    ASSERT_STR_EQ(obj_str_or(obj_get(a, "inner", "k", NULL), ""), "v");
    ASSERT_STR_EQ(obj_str_or(obj_get(mine, "inner", "k", NULL), ""),
                  "changed");
    /* Unsharing a private node is a no-op. */
    child = mine;
    ASSERT_EQ(obj_unshare(&mine), 0);
    ASSERT(child == mine);
    obj_unref(a);
    obj_unref(mine);
}

/* Build a tree with every type and some size. */
static struct obj *sample(void)
{
    struct obj *m = obj_map_new(), *l = obj_array_new();
    char k[16];

    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "k%d", i);
        if (obj_map_set(m, k, obj_str_new_c("value")) != 0)
            abort();
    }
    if (obj_array_append(l, obj_float_new(1.5)) != 0 ||
        obj_array_append(l, obj_bool_new(true)) != 0 ||
        obj_map_set(m, "list", l) != 0)
        abort();
    return m;
}

TEST(obj, copy_fails_cleanly)
{
    struct obj *m = sample();
    unsigned long seen = 0;

    for (int k = 0;; k++) {
        struct obj *c;

        mem_fault_arm(k, 1);
        c = obj_copy(m);
        mem_fault_arm(-1, 0);
        if (mem_fault_count() == seen) {
            ASSERT(c != NULL && obj_equal(c, m));
            obj_unref(c);
            break;
        }
        seen = mem_fault_count();
        ASSERT(c == NULL);
    }
    ASSERT(seen > 20);
    obj_unref(m);
}

UNIT_MAIN()
