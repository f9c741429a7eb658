/* Kubernetes label and field selectors: parsing, validation and matching
 * against object trees (no I/O).
 *
 * Label selectors come in two forms with one compiled representation:
 *   - text, the labelSelector query parameter ("app=web,tier in (a,b),!x"),
 *     parsed exactly as k8s.io/apimachinery/pkg/labels.Parse does;
 *   - structured, the LabelSelector object inside Deployments, ReplicaSets,
 *     Jobs... ({matchLabels: {..}, matchExpressions: [{key, operator,
 *     values}]}), converted as metav1.LabelSelectorAsSelector does and
 *     validated as ValidateLabelSelector does (with field paths).
 * Field selectors ("spec.nodeName=node-1,status.phase!=Failed") are parsed
 * as k8s.io/apimachinery/pkg/fields.ParseSelector does, with the labels a
 * resource supports given by the caller.
 *
 * Errors: parse functions return 0, -C8S_EMALFORMED for bad input (the API
 * server answers 400 Bad Request with e->msg, which kubectl shows as is:
 * the messages are Kubernetes' own, cut at ERR_MSG_SIZE) or -ENOMEM.
 *
 * Compiled selectors are immutable after parsing: many threads may match
 * with one selector at once. The structs are public so callers can inspect
 * requirements (for index use); they must not change them. */
#ifndef C8S_API_OBJECT_SELECTOR_H
#define C8S_API_OBJECT_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/object/obj.h"
#include "lib/err.h"

/* ---- label selectors ---------------------------------------------------- */

/* Operators of one label requirement (Kubernetes' selection.Operator). */
enum obj_lsel_op {
    OBJ_LSEL_EQ,         /* key=value: present and equal. */
    OBJ_LSEL_DEQ,        /* key==value: same as EQ, kept to print it back. */
    OBJ_LSEL_NE,         /* key!=value: absent, or present and different. */
    OBJ_LSEL_IN,         /* key in (a,b): present and in the set. */
    OBJ_LSEL_NOTIN,      /* key notin (a,b): absent, or not in the set. */
    OBJ_LSEL_EXISTS,     /* key: present with any value. */
    OBJ_LSEL_NOT_EXISTS, /* !key: absent. */
    OBJ_LSEL_GT,         /* key>N: present, an integer, greater than N. */
    OBJ_LSEL_LT,         /* key<N: present, an integer, less than N. */
};

/* One requirement; a selector matches when all of them do. */
struct obj_lsel_req {
    char *key;           /* Label key, validated (NUL-terminated). */
    enum obj_lsel_op op; /* Operator. */
    char **values;       /* Values, sorted and without duplicates (set
                          * semantics, as Kubernetes); NULL when none. */
    size_t nvalues;      /* Entries in values: 1 for EQ/DEQ/NE/GT/LT, at
                          * least 1 for IN/NOTIN, 0 for (NOT_)EXISTS. */
    int64_t num;         /* GT/LT: values[0] as an integer. */
};

/* A compiled label selector. */
struct obj_lsel {
    struct obj_lsel_req *reqs; /* Requirements sorted by key (stable, so
                                * duplicates keep their written order). */
    size_t nreqs;              /* Entries in reqs; 0 matches everything. */
    bool nothing;              /* Matches no object at all: what a missing
                                * (null) structured selector means. */
};

/* Parse the text form (already URL-decoded) of @len bytes at @text.
 * "" (or only whitespace) matches everything. On success *@ret is a new
 * selector for obj_lsel_free(). -C8S_EMALFORMED or -ENOMEM. */
int obj_lsel_parse(const char *text, size_t len, struct obj_lsel **ret,
                   struct err *e);

/* Convert a structured LabelSelector @ls: NULL or a null node gives a
 * selector that matches nothing; {} (no matchLabels, no matchExpressions)
 * one that matches everything. Invalid content fails with the message
 * LabelSelectorAsSelector gives. Use obj_lsel_validate() first when field
 * paths are wanted (object validation); this is for using a stored one. */
int obj_lsel_from_obj(const struct obj *ls, struct obj_lsel **ret,
                      struct err *e);

/* A selector matching exactly the labels in map @set (Service.spec.selector,
 * SelectorFromValidatedSet): every key present with that value. An empty or
 * NULL map matches everything. Keys and values are validated as well. */
int obj_lsel_from_map(const struct obj *set, struct obj_lsel **ret,
                      struct err *e);

void obj_lsel_free(struct obj_lsel *s);

/* Whether @s matches an object whose labels are the map @labels (NULL or a
 * non-map: no labels). Label values that are not strings compare as their
 * text (see obj_fsel_match()). */
bool obj_lsel_match(const struct obj_lsel *s, const struct obj *labels);

/* Same, with the labels taken from @o's metadata.labels. */
bool obj_lsel_match_obj(const struct obj_lsel *s, const struct obj *o);

/* Whether @s selects everything (no requirement and not "nothing"), so
 * callers can skip matching. */
bool obj_lsel_is_everything(const struct obj_lsel *s);

/* Whether @s requires label @key to have one exact value (=, == or an in
 * with one value), as labels.Selector.RequiresExactMatch; the value goes to
 * *@ret_value (borrowed from @s). Only the first requirement on @key in key
 * order counts, as in Kubernetes. */
bool obj_lsel_exact(const struct obj_lsel *s, const char *key,
                    const char **ret_value);

/* The canonical text of @s (Kubernetes' Selector.String(): requirements in
 * key order, set values sorted), which parses back to an equal selector.
 * mem_malloc'ed; NULL when out of memory. A "nothing" selector gives "". */
char *obj_lsel_string(const struct obj_lsel *s);

/* ---- structured selector validation ------------------------------------ */

/* One validation failure, shaped like an entry of a Status's
 * details.causes, so the API server can build its 422 Invalid answer. */
struct obj_field_error {
    const char *field;   /* Path, e.g. "spec.selector.matchLabels". */
    const char *reason;  /* "FieldValueInvalid", "FieldValueRequired",
                          * "FieldValueForbidden" or "FieldValueTypeInvalid". */
    const char *message; /* Body without the path, e.g.
                          * "Invalid value: \"-a\": name part must ...". */
};

/* Called once per failure; the strings live only during the call. */
typedef void (*obj_field_error_cb)(void *arg, const struct obj_field_error *fe);

/* Validate the LabelSelector @ls found at @path (e.g. "spec.selector"; ""
 * for none) as ValidateLabelSelector does. NULL or null is valid (an absent
 * selector). Each failure goes to @cb (may be NULL); the result is 0 or
 * -C8S_EMALFORMED, with e->msg holding Kubernetes' aggregate text
 * ("path: Invalid value: ..." or "[first, second]"). */
int obj_lsel_validate(const struct obj *ls, const char *path,
                      obj_field_error_cb cb, void *arg, struct err *e);

/* ---- field selectors ---------------------------------------------------- */

/* A field a resource lets clients select on. */
struct obj_fsel_field {
    const char *label;   /* Name in the selector, e.g. "spec.nodeName". */
    const char *path;    /* Dotted path into the object (obj_get_path());
                          * NULL: the label itself. Event's "source" is
                          * "source.component", for example. */
    const char *missing; /* Text an absent value compares as; NULL: "".
                          * Kubernetes reads typed structs, where an
                          * absent bool is "false" (spec.unschedulable). */
};

/* One term of a field selector. */
struct obj_fsel_term {
    char *label;         /* Field label as written (a supported one). */
    char *path;          /* Path into the object (copied). */
    char *missing;       /* Text of an absent value (copied). */
    char *value;         /* Value with escapes removed. */
    size_t value_len;    /* Its length (a value may hold any byte). */
    bool negate;         /* != (else = or ==). */
};

/* A compiled field selector: the AND of its terms. */
struct obj_fsel {
    struct obj_fsel_term *terms; /* In Kubernetes' order: sorted by the
                                  * terms' text. */
    size_t nterms;               /* 0 matches everything. */
};

/* Parse @len bytes at @text. @labels is the NULL-terminated list of field
 * labels the resource supports, each also the path of its value (e.g.
 * {"metadata.name", "metadata.namespace", "spec.nodeName", NULL}). A label
 * outside it fails with "field label not supported: LABEL". Values take the
 * escapes \\ \, \= (Kubernetes' fields.EscapeValue). */
int obj_fsel_parse(const char *text, size_t len, const char *const *labels,
                   struct obj_fsel **ret, struct err *e);

/* Same with @n fields described fully. */
int obj_fsel_parse_fields(const char *text, size_t len,
                          const struct obj_fsel_field *fields, size_t n,
                          struct obj_fsel **ret, struct err *e);

void obj_fsel_free(struct obj_fsel *s);

/* Whether object @o matches: each term's value at its path, as text (a
 * string as is, a bool "true"/"false", an int in decimal; absent, null or
 * another type: the field's missing text), compared bytewise. */
bool obj_fsel_match(const struct obj_fsel *s, const struct obj *o);

/* Whether @s requires field @label to equal one value (a = or == term), as
 * fields.Selector.RequiresExactMatch, so a caller can use an index (the
 * store's spec.nodeName watch). The value goes to *@ret_value (borrowed
 * from @s; it may contain NUL bytes only if the text did) and its length
 * to *@ret_len (may be NULL). */
bool obj_fsel_exact(const struct obj_fsel *s, const char *label,
                    const char **ret_value, size_t *ret_len);

#endif /* C8S_API_OBJECT_SELECTOR_H */
