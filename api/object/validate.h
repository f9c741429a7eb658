/* Validation of object metadata with Kubernetes' rules and messages.
 *
 * Validators never stop at the first problem: like apimachinery's
 * field.ErrorList they collect every field error into a struct obj_ferrs,
 * each with a type, a field path ("metadata.labels",
 * "metadata.ownerReferences[0].uid", "data[bad key]"), the bad value and a
 * detail. The server turns the list into a 422 Invalid Status
 * (api/object/status.h), whose message kubectl prints to users, so the
 * rendering copies Kubernetes 1.33 word for word:
 *   metadata.name: Invalid value: "Foo": a lowercase RFC 1123 subdomain ...
 *
 * Rules and messages follow k8s.io/apimachinery v0.33 (pkg/api/validation,
 * pkg/util/validation, pkg/api/validation/path); the few places where we
 * deliberately differ are said next to the function.
 *
 * Errors: validators return 0 or -ENOMEM (a failed allocation is sticky in
 * the list, see struct obj_ferrs); a bad object is not an error of the call,
 * it is a non-empty list. Nothing here does I/O or reads the clock or a
 * random source: the server decides uids, names and timestamps before it
 * proposes a write, so the replicated store stays deterministic. */
#ifndef C8S_API_OBJECT_VALIDATE_H
#define C8S_API_OBJECT_VALIDATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/object/codec.h"
#include "api/object/obj.h"

/* ---- field paths ----------------------------------------------------------*/

/* What one step of a path is. */
enum obj_fpath_kind {
    OBJ_FPATH_CHILD, /* ".name" (no dot at the start of a path). */
    OBJ_FPATH_INDEX, /* "[3]": an array element. */
    OBJ_FPATH_KEY,   /* "[key]": a map entry, written unquoted as Go does. */
};

/* A field path as a chain of steps on the caller's stack, child to parent
 * (Go's field.Path). Building one costs nothing; it is rendered to text
 * only when an error is recorded, so valid objects allocate nothing. */
struct obj_fpath {
    const struct obj_fpath *up; /* Parent step; NULL for the first step. */
    enum obj_fpath_kind kind;   /* Which of name / index this step uses. */
    const char *name;           /* CHILD: field name; KEY: the map key
                                 * (NUL-terminated, borrowed). */
    size_t index;               /* INDEX: the element number. */
};

static inline struct obj_fpath obj_fpath_child(const struct obj_fpath *up,
                                               const char *name)
{
    return (struct obj_fpath){up, OBJ_FPATH_CHILD, name, 0};
}

static inline struct obj_fpath obj_fpath_index(const struct obj_fpath *up,
                                               size_t index)
{
    return (struct obj_fpath){up, OBJ_FPATH_INDEX, NULL, index};
}

static inline struct obj_fpath obj_fpath_key(const struct obj_fpath *up,
                                             const char *key)
{
    return (struct obj_fpath){up, OBJ_FPATH_KEY, key, 0};
}

/* Append the text of @p to @b ("" for NULL). 0 or -ENOMEM. */
int obj_fpath_format(const struct obj_fpath *p, struct obj_buf *b);

/* ---- field errors ---------------------------------------------------------*/

/* Kinds of field error (field.ErrorType). */
enum obj_ferr_type {
    OBJ_FERR_NOT_FOUND,     /* FieldValueNotFound, "Not found" */
    OBJ_FERR_REQUIRED,      /* FieldValueRequired, "Required value" */
    OBJ_FERR_DUPLICATE,     /* FieldValueDuplicate, "Duplicate value" */
    OBJ_FERR_INVALID,       /* FieldValueInvalid, "Invalid value" */
    OBJ_FERR_NOT_SUPPORTED, /* FieldValueNotSupported, "Unsupported value" */
    OBJ_FERR_FORBIDDEN,     /* FieldValueForbidden, "Forbidden" */
    OBJ_FERR_TOO_LONG,      /* FieldValueTooLong, "Too long" */
    OBJ_FERR_TOO_MANY,      /* FieldValueTooMany, "Too many" */
    OBJ_FERR_INTERNAL,      /* InternalError, "Internal error" */
    OBJ_FERR_TYPE_INVALID,  /* FieldValueTypeInvalid, "Invalid value" */
};

/* The cause type written in Status details.causes[].reason. */
const char *obj_ferr_reason(enum obj_ferr_type t);
/* The words that start the message ("Invalid value"). */
const char *obj_ferr_type_str(enum obj_ferr_type t);

/* One field error. */
struct obj_ferr {
    enum obj_ferr_type type; /* What is wrong. */
    char *field;             /* Rendered path, "" when the error is about
                              * the object as a whole; mem_malloc'ed. */
    struct obj *value;       /* The bad value (one reference), or NULL
                              * when the message omits it. */
    char *detail;            /* Explanation, "" when none; mem_malloc'ed. */
};

/* A growing list of field errors. */
struct obj_ferrs {
    struct obj_ferr *v; /* Errors in the order they were found. */
    size_t len;         /* Errors in v. */
    size_t cap;         /* Slots allocated in v. */
    int err;            /* 0, or -ENOMEM once an append failed: later
                         * appends are skipped and every validator returns
                         * it, so callers check once at the end (a short
                         * list must not be mistaken for a valid object). */
};

void obj_ferrs_init(struct obj_ferrs *l);
/* Free every error; the list is empty (and err 0) again. */
void obj_ferrs_done(struct obj_ferrs *l);

/* Record an error at @at. @value (may be NULL: omitted) is borrowed, the
 * list takes its own reference. @fmt (may be NULL: no detail) formats the
 * detail. Returns l->err. */
int obj_ferrs_addf(struct obj_ferrs *l,
                   enum obj_ferr_type t,
                   const struct obj_fpath *at,
                   const struct obj *value,
                   const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));
/* Same with a string bad value given as bytes. */
int obj_ferrs_add_str(struct obj_ferrs *l,
                      enum obj_ferr_type t,
                      const struct obj_fpath *at,
                      const char *s,
                      size_t len,
                      const char *detail);

/* The common shapes, named after their Go constructors. */
int obj_ferrs_required(struct obj_ferrs *l,
                       const struct obj_fpath *at,
                       const char *detail);
int obj_ferrs_forbidden(struct obj_ferrs *l,
                        const struct obj_fpath *at,
                        const char *detail);
int obj_ferrs_invalid(struct obj_ferrs *l,
                      const struct obj_fpath *at,
                      const struct obj *value,
                      const char *detail);
int obj_ferrs_duplicate(struct obj_ferrs *l,
                        const struct obj_fpath *at,
                        const struct obj *value);
/* "may not be more than @max bytes" (byte for max 1). */
int obj_ferrs_too_long(struct obj_ferrs *l,
                       const struct obj_fpath *at,
                       size_t max);
/* "must have at most @max items", showing @actual. */
int obj_ferrs_too_many(struct obj_ferrs *l,
                       const struct obj_fpath *at,
                       size_t actual,
                       size_t max);
/* "supported values: "a", "b"" from the NULL-terminated @valid. */
int obj_ferrs_not_supported(struct obj_ferrs *l,
                            const struct obj_fpath *at,
                            const struct obj *value,
                            const char *const *valid);

/* Append the message of @fe without its field (Go's ErrorBody):
 *   Required value: name or generateName is required
 *   Invalid value: "Foo": a lowercase RFC 1123 subdomain must ...
 * Strings are quoted as Go's %q, numbers and booleans bare, lists and maps
 * as JSON. 0 or -ENOMEM. */
int obj_ferr_body(const struct obj_ferr *fe, struct obj_buf *b);
/* "field: body" (Go's Error()). */
int obj_ferr_format(const struct obj_ferr *fe, struct obj_buf *b);
/* The list as Go's ErrorList.ToAggregate() prints it: one error alone,
 * several as "[a, b]", repeated messages once. Nothing for an empty
 * list. */
int obj_ferrs_format(const struct obj_ferrs *l, struct obj_buf *b);

/* Append @len bytes at @s quoted like Go's %q / strconv.Quote: ", \ and
 * control characters escaped (\n, \x01, \u0085), other UTF-8 kept. */
int obj_quote_go(struct obj_buf *b, const char *s, size_t len);

/* ---- string rules -----------------------------------------------------------
 * Each check fills a struct obj_msgs with Kubernetes' explanations of what
 * is wrong (static strings), none when the value is valid; a caller turns
 * each into one Invalid error, as Kubernetes does. */

/* Most explanations one check gives (qualified names give up to 4). */
#define OBJ_MSGS_MAX 6

/* What a check found wrong. */
struct obj_msgs {
    size_t n;                    /* Explanations in v; 0: valid. */
    const char *v[OBJ_MSGS_MAX]; /* Static strings. */
};

/* Limits (bytes). */
#define OBJ_DNS1123_LABEL_MAX 63
#define OBJ_DNS1123_SUBDOMAIN_MAX 253
#define OBJ_DNS1035_LABEL_MAX 63
#define OBJ_QUALIFIED_NAME_MAX 63 /* The name part of a qualified name. */
#define OBJ_LABEL_VALUE_MAX 63
#define OBJ_CONFIG_KEY_MAX 253
#define OBJ_ANNOTATIONS_MAX (256 * 1024) /* Keys plus values, all together. */

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 bytes. */
void obj_check_dns1123_label(const char *s, size_t len, struct obj_msgs *ret);
/* Dot-separated DNS-1123 labels, at most 253 bytes in all. */
void obj_check_dns1123_subdomain(const char *s,
                                 size_t len,
                                 struct obj_msgs *ret);
/* [a-z]([-a-z0-9]*[a-z0-9])?, at most 63 bytes. */
void obj_check_dns1035_label(const char *s, size_t len, struct obj_msgs *ret);
/* A qualified name (label keys, annotation keys, finalizers): an optional
 * DNS-1123 subdomain prefix and "/", then 1-63 bytes of [-A-Za-z0-9_.]
 * starting and ending with [A-Za-z0-9]. */
void obj_check_qualified_name(const char *s, size_t len, struct obj_msgs *ret);
/* Empty, or a qualified name without prefix. */
void obj_check_label_value(const char *s, size_t len, struct obj_msgs *ret);
/* A name that can be a URL path segment: not "." or "..", without "/" or
 * "%". With @prefix (generateName) only the characters are checked. */
void obj_check_path_segment(const char *s,
                            size_t len,
                            bool prefix,
                            struct obj_msgs *ret);
/* A ConfigMap or Secret data key: [-._a-zA-Z0-9]+, at most 253 bytes, not
 * "." or "..", not starting with "..". */
void obj_check_config_key(const char *s, size_t len, struct obj_msgs *ret);

/* ---- names ----------------------------------------------------------------*/

/* Which rule a kind's metadata.name follows; the registry sets one per
 * kind. */
enum obj_name_rule {
    OBJ_NAME_DNS1123_SUBDOMAIN = 0, /* Most kinds (ConfigMap, Pod, ...). */
    OBJ_NAME_DNS1123_LABEL,         /* Namespace. */
    OBJ_NAME_DNS1035_LABEL,         /* Service. */
    OBJ_NAME_PATH_SEGMENT,          /* Kinds with free-form names (RBAC
                                     * roles and bindings). */
};

/* Check @s against @rule. With @prefix, @s is a generateName: a trailing
 * "-" is allowed, since random characters will follow it. Names that
 * pass a DNS rule are always valid URL path segments too (no ".", "/" or
 * "%"), so only OBJ_NAME_PATH_SEGMENT needs the path checks. An empty name
 * is the caller's case (Required, not Invalid). */
void obj_check_name(enum obj_name_rule rule,
                    const char *s,
                    size_t len,
                    bool prefix,
                    struct obj_msgs *ret);

/* Characters the random suffix of a generated name is drawn from (those of
 * Kubernetes' utilrand: no vowels, no 0/1/3, so no words and no look-alike
 * characters). */
#define OBJ_GENERATE_NAME_ALPHABET "bcdfghjklmnpqrstvwxz2456789"
/* Random characters appended to a generateName. */
#define OBJ_GENERATE_NAME_RANDOM 5
/* A generateName longer than this is cut, so that the name stays within a
 * DNS label (63). */
#define OBJ_GENERATE_NAME_BASE_MAX (63 - OBJ_GENERATE_NAME_RANDOM)

/* The name Kubernetes' SimpleNameGenerator would make from @base (cut to
 * OBJ_GENERATE_NAME_BASE_MAX bytes) and 5 characters derived from the
 * caller's random number @rnd, into @ret (NUL-terminated). */
void obj_generate_name(
    const char *base,
    size_t len,
    uint64_t rnd,
    char ret[OBJ_GENERATE_NAME_BASE_MAX + OBJ_GENERATE_NAME_RANDOM + 1]);

/* If @meta (a private metadata map) has no name but a generateName, set
 * name to obj_generate_name(generateName, @rnd). 1 when a name was made,
 * 0 when none was needed, -ENOMEM or -EBUSY (shared map). */
int obj_meta_generate_name(struct obj *meta, uint64_t rnd);

/* ---- metadata blocks ------------------------------------------------------*/

/* The metadata field paths are relative to @at, normally the path
 * "metadata" (or e.g. "spec.template.metadata" for a pod template). A
 * missing metadata map is validated as an empty one. */

/* Every label key is a qualified name, every value a label value. */
int obj_validate_labels(const struct obj *labels,
                        const struct obj_fpath *at,
                        struct obj_ferrs *l);
/* Keys are qualified names (the prefix compared case-insensitively, as
 * Kubernetes lower-cases annotation keys first); keys and values together
 * at most OBJ_ANNOTATIONS_MAX bytes. */
int obj_validate_annotations(const struct obj *annotations,
                             const struct obj_fpath *at,
                             struct obj_ferrs *l);
/* apiVersion, kind, name and uid required; apiVersion is GROUP/VERSION or
 * VERSION; v1 Events cannot own; at most one entry with controller true. */
int obj_validate_owner_refs(const struct obj *refs,
                            const struct obj_fpath *at,
                            struct obj_ferrs *l);
/* Qualified names, no duplicates (a c8s rule: Kubernetes treats the list as
 * a set for apply but accepts repeats), not both orphan and foreground
 * deletion. */
int obj_validate_finalizers(const struct obj *finalizers,
                            const struct obj_fpath *at,
                            struct obj_ferrs *l);
/* One ConfigMap/Secret data map: every key a config key, errors at
 * "<at>[key]". Keys repeated across data and binaryData are the caller's
 * check. */
int obj_validate_config_keys(const struct obj *data,
                             const struct obj_fpath *at,
                             struct obj_ferrs *l);

/* What the metadata validators need to know about the kind. */
struct obj_meta_rules {
    enum obj_name_rule name_rule; /* How metadata.name must look. */
    bool namespaced;              /* Whether objects live in a namespace
                                   * (then it is required and a DNS-1123
                                   * label; else it is forbidden). */
};

/* Metadata of an object being created (generateName already turned into a
 * name by obj_meta_generate_name): name (and generateName) by the kind's
 * rule, namespace, generation >= 0, labels, annotations, ownerReferences,
 * finalizers. @meta may be NULL. */
int obj_validate_meta_create(const struct obj *meta,
                             const struct obj_meta_rules *rules,
                             const struct obj_fpath *at,
                             struct obj_ferrs *l);

/* Metadata of an update of @old_meta into @meta (after
 * obj_meta_carry_over): resourceVersion present unless @unconditional
 * (PUT without a resourceVersion is how kubectl replace --force and
 * some clients ask for last-writer-wins, where the kind allows it);
 * name, namespace, uid, creationTimestamp, deletionTimestamp and
 * deletionGracePeriodSeconds unchanged; generation not decremented; no new
 * finalizers once deletion started; labels, annotations, ownerReferences
 * and finalizers as on create. */
int obj_validate_meta_update(const struct obj *meta,
                             const struct obj *old_meta,
                             bool unconditional,
                             const struct obj_fpath *at,
                             struct obj_ferrs *l);

/* What the server does to a metadata map before validating an update
 * (Kubernetes' rest.BeforeUpdate), so clients that send back what they read
 * minus server fields are not refused: take uid from @old_meta when
 * missing, creationTimestamp and deletionTimestamp always, generation
 * always (the server decides it: obj_next_generation), and
 * deletionGracePeriodSeconds when missing. @meta must be private. 0,
 * -ENOMEM or -EBUSY. */
int obj_meta_carry_over(struct obj *meta, const struct obj *old_meta);

/* Whether the @subtree of two objects differs ("spec"; an absent subtree
 * equals only an absent one). */
bool obj_subtree_changed(const struct obj *old_obj,
                         const struct obj *new_obj,
                         const char *subtree);
/* The generation the new version gets: 1 on create (@old_obj NULL), the
 * old generation + 1 when @subtree changed, else the old one. */
int64_t obj_next_generation(const struct obj *old_obj,
                            const struct obj *new_obj,
                            const char *subtree);

/* The metadata of a whole object (@obj's "metadata" map, at path
 * "metadata"): create when @old_obj is NULL, else update. */
int obj_validate_object_meta(const struct obj *obj,
                             const struct obj *old_obj,
                             const struct obj_meta_rules *rules,
                             bool unconditional,
                             struct obj_ferrs *l);

#endif /* C8S_API_OBJECT_VALIDATE_H */
