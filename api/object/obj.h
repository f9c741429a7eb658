/* The object model: refcounted trees of JSON values, used by server and
 * client alike (no I/O).
 *
 * A tree is made of nodes of seven types: null, bool, int (int64), float
 * (finite double), string (valid UTF-8, length-aware, no NUL byte), array and
 * map (string keys, insertion order kept, no duplicate keys).
 *
 * Ownership: every constructor returns a node holding one reference, which
 * the caller owns. obj_ref() takes another, obj_unref() drops one. A
 * container owns one reference to each of its children.
 *
 * Mutability (copy-on-write): a node may be changed only by a holder of its
 * only reference, so that stored versions and decoded trees can be shared by
 * many readers (and threads) without locks. Mutators return -EBUSY on a
 * shared node instead of changing it. To change a shared tree, take a private
 * copy first: obj_copy() copies the whole tree; obj_unshare() copies only one
 * node (its children are shared with the original), and obj_map_get_mut() /
 * obj_array_get_mut() unshare a child in place, so a path from the root down
 * to the node being changed can be made private without copying the rest.
 *
 * Refcounts are atomic: a tree that nobody mutates may be read from several
 * threads at once. Static nodes (null, true, false) are never freed.
 *
 * Errors: constructors return NULL when out of memory (and obj_str_new also
 * when the text is not valid UTF-8 or contains NUL, see obj_utf8_check()).
 * Mutators return 0 or a negative errno. */
#ifndef C8S_API_OBJECT_OBJ_H
#define C8S_API_OBJECT_OBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum obj_type {
    OBJ_NULL,
    OBJ_BOOL,
    OBJ_INT,
    OBJ_FLOAT,
    OBJ_STRING,
    OBJ_ARRAY,
    OBJ_MAP,
};

struct obj;

/* ---- constructors ------------------------------------------------------ */

/* The null node and the two booleans: static, never NULL, never freed. */
struct obj *obj_null(void);
struct obj *obj_bool_new(bool v);
struct obj *obj_int_new(int64_t v);
/* A float; non-finite values are accepted here but no codec can encode them
 * (encoders fail with -EDOM). */
struct obj *obj_float_new(double v);
/* A string copied from @len bytes at @s. NULL when out of memory, or when
 * the bytes are not valid UTF-8 or contain a NUL byte. */
struct obj *obj_str_new(const char *s, size_t len);
/* Same for a NUL-terminated C string. */
struct obj *obj_str_new_c(const char *s);
struct obj *obj_array_new(void);
struct obj *obj_map_new(void);

/* ---- references and copies ---------------------------------------------- */

/* Take another reference to @o (not NULL). Returns @o. */
struct obj *obj_ref(struct obj *o);
/* Drop a reference; frees the node and unrefs its children at zero. Accepts
 * NULL. Always returns NULL, so callers write p = obj_unref(p). */
struct obj *obj_unref(struct obj *o);
/* A private deep copy of @o (every node has one reference). NULL when out
 * of memory. */
struct obj *obj_copy(const struct obj *o);
/* Make *@o private: if it has other holders, replace *@o with a shallow copy
 * (the children are shared, with one more reference each) and drop the
 * caller's reference to the original. 0 or -ENOMEM (*@o is then unchanged). */
int obj_unshare(struct obj **o);
/* Whether @o has other holders (and so must not be changed). */
bool obj_is_shared(const struct obj *o);

/* ---- inspection ---------------------------------------------------------- */

enum obj_type obj_type(const struct obj *o);
/* "null", "bool", "int", "float", "string", "array" or "map". */
const char *obj_type_name(enum obj_type t);
/* Deep equality. Maps compare as sets of keys (order does not matter);
 * int and float nodes are never equal to each other, as the codecs keep the
 * two apart. NULL equals only NULL. */
bool obj_equal(const struct obj *a, const struct obj *b);

/* Typed getters: the value when @o (may be NULL) has that type, else @def.
 * obj_float_or() also converts an int. */
bool obj_bool_or(const struct obj *o, bool def);
int64_t obj_int_or(const struct obj *o, int64_t def);
double obj_float_or(const struct obj *o, double def);
/* The string's bytes (NUL-terminated; valid while @o lives), or @def. */
const char *obj_str_or(const struct obj *o, const char *def);
/* The string's bytes and length, or NULL (and *@len untouched). */
const char *obj_str(const struct obj *o, size_t *len);
bool obj_is_null(const struct obj *o);

/* ---- arrays ---------------------------------------------------------------*/

/* Elements in @a; 0 when @a is not an array (or NULL). */
size_t obj_array_len(const struct obj *a);
/* Element @i (borrowed: valid while @a holds it) or NULL when out of range
 * or @a is not an array. */
struct obj *obj_array_get(const struct obj *a, size_t i);
/* Append @v. On success the array takes over the caller's reference to @v;
 * on failure the caller keeps it. @v NULL gives -ENOMEM, so a failed
 * constructor can be passed straight in. -EINVAL if @a is not an array,
 * -EBUSY if @a is shared. */
int obj_array_append(struct obj *a, struct obj *v);
/* Replace element @i with @v (ownership as in obj_array_append); the old
 * element loses the array's reference. -ERANGE if @i is out of range. */
int obj_array_set(struct obj *a, size_t i, struct obj *v);
/* Element @i made private in place (see obj_unshare), for changing it.
 * NULL when out of range, out of memory, or @a is shared. */
struct obj *obj_array_get_mut(struct obj *a, size_t i);

/* Insert @v (taking its reference) before element @i (@i == length:
 * append), or remove element @i. 0, -ERANGE, -EBUSY when @a is shared,
 * -EINVAL when not an array, -ENOMEM; on failure the caller keeps @v. */
int obj_array_insert(struct obj *a, size_t i, struct obj *v);
int obj_array_remove(struct obj *a, size_t i);

/* ---- maps ---------------------------------------------------------------- */

/* Entries in @m; 0 when @m is not a map (or NULL). */
size_t obj_map_len(const struct obj *m);
/* Key and value of entry @i in insertion order (borrowed), for iteration.
 * NULL when out of range. */
const char *obj_map_key(const struct obj *m, size_t i, size_t *ret_len);
struct obj *obj_map_value(const struct obj *m, size_t i);
/* The value under a key (borrowed) or NULL. Keys are compared as bytes. */
struct obj *obj_map_get(const struct obj *m, const char *key);
struct obj *obj_map_getn(const struct obj *m, const char *key, size_t klen);
/* Set @key to @v: replaces the value in place when the key exists (keeping
 * its position), else appends. On success the map takes over the caller's
 * reference to @v; on failure the caller keeps it. @v NULL gives -ENOMEM.
 * -EINVAL if @m is not a map or the key is not valid UTF-8 (or has a NUL),
 * -EBUSY if @m is shared. */
int obj_map_set(struct obj *m, const char *key, struct obj *v);
int obj_map_setn(struct obj *m, const char *key, size_t klen, struct obj *v);
/* Remove @key; the order of the other entries is kept. 0, -ENOENT when
 * absent, -EBUSY if @m is shared, -EINVAL if @m is not a map. */
int obj_map_del(struct obj *m, const char *key);
/* The value under @key made private in place (see obj_unshare), for
 * changing it. NULL when absent, out of memory, or @m is shared. */
struct obj *obj_map_get_mut(struct obj *m, const char *key);

/* ---- paths ----------------------------------------------------------------*/

/* Follow a path of keys from @o: each step looks the key up in a map, or,
 * in an array, takes the element at a decimal index ("0", "12"). The list
 * ends with NULL: obj_get(pod, "spec", "containers", "0", "image", NULL).
 * Returns the node (borrowed) or NULL when any step is missing. */
struct obj *obj_get(const struct obj *o, ...) __attribute__((sentinel));
/* Same with a dotted path, "spec.containers.0.image" (keys that contain a
 * dot need obj_get()). "" is @o itself. */
struct obj *obj_get_path(const struct obj *o, const char *path);

/* ---- UTF-8 ----------------------------------------------------------------*/

/* Whether @len bytes at @s are valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) without NUL bytes. On failure the
 * offset of the first bad byte goes to *@ret_bad (if not NULL). */
bool obj_utf8_check(const char *s, size_t len, size_t *ret_bad);

#endif /* C8S_API_OBJECT_OBJ_H */
