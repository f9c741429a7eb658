/* Kubernetes objects as c8s's object model: a tree of maps, arrays and
 * scalars, decoded from JSON or YAML and encoded back (the same codecs the
 * server uses, so what the server sends round-trips exactly).
 *
 * Trees are reference counted and read-only through this header; a borrowed
 * node (from c8s_obj_path or c8s_obj_at) lives as long as its root. */
#ifndef C8S_OBJECT_H
#define C8S_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <c8s/errors.h>

struct c8s_obj;

enum c8s_obj_type {
    C8S_OBJ_NULL,
    C8S_OBJ_BOOL,
    C8S_OBJ_INT,
    C8S_OBJ_FLOAT,
    C8S_OBJ_STRING,
    C8S_OBJ_ARRAY,
    C8S_OBJ_MAP,
};

/* Decode one JSON value, or one YAML document (JSON is YAML too); errors
 * (-C8S_EMALFORMED, -C8S_ETOOLARGE, -ENOMEM) name the line and column. */
int c8s_obj_from_json(const char *text, size_t len, struct c8s_obj **ret,
                      struct c8s_error *err);
int c8s_obj_from_yaml(const char *text, size_t len, struct c8s_obj **ret,
                      struct c8s_error *err);

/* Every document of a YAML stream ("---" separated; JSON documents are
 * YAML too) as an array, one element per document (empty documents are
 * null: skip them). */
int c8s_obj_from_yaml_all(const char *text, size_t len, struct c8s_obj **ret,
                          struct c8s_error *err);

/* Encode as compact JSON or as YAML (kubectl's -o yaml layout). The text is
 * malloc'ed and NUL-terminated; the caller frees it with free(). */
int c8s_obj_to_json(const struct c8s_obj *o, char **ret, size_t *ret_len);
int c8s_obj_to_yaml(const struct c8s_obj *o, char **ret, size_t *ret_len);
/* JSON indented by 4 spaces and ending in a newline (kubectl -o json). */
int c8s_obj_to_json_indented(const struct c8s_obj *o, char **ret,
                             size_t *ret_len);

/* Set the string at a dotted path of a root the caller owns, creating
 * missing maps on the way ("metadata.namespace"). 0, -EINVAL when a step
 * is not a map, -ENOMEM. A tree shared with others is copied first, so
 * *@o may change. */
int c8s_obj_set_str(struct c8s_obj **o, const char *path, const char *value);

/* Drop a reference to a root; NULL is fine. */
void c8s_obj_free(struct c8s_obj *o);

/* Keep @o (any node, borrowed or not): the caller owns the result and
 * drops it with c8s_obj_free. */
struct c8s_obj *c8s_obj_ref(const struct c8s_obj *o);

/* C8S_OBJ_NULL for NULL, so lookups chain without checks. */
enum c8s_obj_type c8s_obj_type(const struct c8s_obj *o);

/* The node at a dotted path ("metadata.name", "items.0.spec"), or NULL. */
const struct c8s_obj *c8s_obj_path(const struct c8s_obj *o,
                                   const char *path);

/* Scalars, or @def when @o is NULL or of another type. */
const char *c8s_obj_str(const struct c8s_obj *o, const char *def);
int64_t c8s_obj_int(const struct c8s_obj *o, int64_t def);
bool c8s_obj_bool(const struct c8s_obj *o, bool def);

/* Arrays and maps: element count; the i-th element (for a map, its value,
 * and its key through c8s_obj_key). NULL past the end. */
size_t c8s_obj_len(const struct c8s_obj *o);
const struct c8s_obj *c8s_obj_at(const struct c8s_obj *o, size_t i);
const char *c8s_obj_key(const struct c8s_obj *o, size_t i);

#endif /* C8S_OBJECT_H */
