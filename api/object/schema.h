/* Schemas: what each kind's objects may contain, and the three passes the
 * server runs on every object it is asked to store (no I/O):
 *
 *   prune     unknown fields are removed (and reported, so that
 *             fieldValidation=Strict can refuse them and Warn can warn);
 *             values of the wrong type are reported as bad; a JSON number
 *             given for a quantity becomes its string;
 *   default   absent fields get Kubernetes' defaults, including the ones
 *             that depend on other fields (schema_defaults.c);
 *   validate  required fields, closed enums, integer ranges and name
 *             rules, each error with its field path.
 *
 * The schemas are text (api/object/schemas/, format in its README), parsed
 * once into the read-only structures below. The same structures will drive
 * strategic merge patch keys, OpenAPI, protobuf and tables (issue 7), so
 * they keep everything the text says, even what these passes do not use.
 *
 * Objects handed to the passes that change them must be unshared at the
 * top (obj_unshare); shared children are copied on write, so a caller's
 * other references never see a change. */
#ifndef C8S_API_OBJECT_SCHEMA_H
#define C8S_API_OBJECT_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/object/obj.h"
#include "api/object/validate.h"
#include "lib/err.h"

/* What a type expression is. */
enum obj_stype_kind {
    OBJ_ST_STRING,
    OBJ_ST_INT32,
    OBJ_ST_INT64,
    OBJ_ST_BOOL,
    OBJ_ST_DOUBLE,
    OBJ_ST_BYTES,     /* base64 text in JSON */
    OBJ_ST_QUANTITY,  /* "100m", "1Gi"; a number is turned into a string */
    OBJ_ST_INTSTR,    /* an integer or a string */
    OBJ_ST_TIME,      /* RFC 3339, seconds */
    OBJ_ST_MICROTIME, /* RFC 3339, microseconds */
    OBJ_ST_DURATION,  /* Go duration text */
    OBJ_ST_ANY,       /* any JSON, kept as is */
    OBJ_ST_STRUCT,    /* a struct type, see struct obj_sstruct */
    OBJ_ST_LIST,      /* []elem */
    OBJ_ST_MAP,       /* map[elem], string keys */
};

/* String rules a field can ask for (fmt=). */
enum obj_sfmt {
    OBJ_SFMT_NONE = 0,
    OBJ_SFMT_DNS1123_LABEL,
    OBJ_SFMT_DNS1123_SUBDOMAIN,
    OBJ_SFMT_DNS1035_LABEL,
    OBJ_SFMT_QUALIFIED_NAME,
    OBJ_SFMT_LABEL_VALUE,
    OBJ_SFMT_IANA_SVC_NAME,
};

struct obj_sstruct;

/* A type expression: a scalar, a struct, or a list or map of another. */
struct obj_stype {
    enum obj_stype_kind kind;
    const struct obj_sstruct *st; /* OBJ_ST_STRUCT: resolved after parsing */
    const struct obj_stype *elem; /* OBJ_ST_LIST, OBJ_ST_MAP */
};

/* One field of a struct. Strings are NUL-terminated, NULL when unset. */
struct obj_sfield {
    const char *name;             /* JSON name */
    const struct obj_stype *type; /* what its value must be */
    int proto;                    /* protobuf field number, -1 if none */
    int proto_in;                 /* 0, or the number of the embedded
                                     message (Go's inline struct, e.g. a
                                     Volume's VolumeSource) that holds
                                     this field in protobuf */
    bool required;                /* "Required value" when absent/empty */
    bool present_only;            /* required means present, as JSON
                                     Schema has it (custom resources):
                                     "" and [] are values */
    struct obj *def;              /* default (one reference), or NULL */
    const char *const *enums;     /* allowed strings, NULL-terminated;
                                     NULL when open */
    bool has_min, has_max;        /* integer range, when set */
    int64_t min, max;
    enum obj_sfmt fmt;     /* string rule */
    const char *merge_key; /* patchMergeKey */
    const char *strategy;  /* patchStrategy */
    const char *list_type; /* listType: atomic, set, map */
    const char *list_keys; /* listMapKeys, comma-separated */
    const char *desc;      /* description, our own words */
};

/* Conditional defaults of one struct type: called with the struct's map
 * (private, may be changed) after its plain defaults are set and before
 * its fields are visited. 0 or -ENOMEM. */
typedef int (*obj_sdefault_fn)(struct obj *m);

/* A struct type of a package. */
struct obj_sstruct {
    const char *pkg;  /* "core/v1", "apps/v1", "meta/v1", ... */
    const char *name; /* "PodSpec" */
    bool is_kind;     /* the root of kind @name in @pkg's group-version */
    const struct obj_sfield *fields; /* in the order written */
    size_t n_fields;
    const struct obj_sfield **by_name; /* the same, sorted by name */
    obj_sdefault_fn hook;              /* conditional defaults, or NULL */
    bool defaults_below; /* this struct or one it reaches has defaults
                            or a hook (the default pass skips the rest) */
    const char *desc;    /* description, or NULL */
};

struct obj_schemas;

/* Parse schema text (@name is used in error messages: "core.schema:12:
 * ..."). Several texts can be given at once as an array; types of all of
 * them resolve against each other. Errors name the file and line:
 * syntax, unknown types and attributes, duplicates, and references that
 * do not resolve. 0, -EINVAL (with @e) or -ENOMEM. */
struct obj_schema_text {
    const char *name;
    const char *text;
    size_t len;
};
int obj_schemas_parse(const struct obj_schema_text *texts,
                      size_t n,
                      struct obj_schemas **ret,
                      struct err *e);
void obj_schemas_free(struct obj_schemas *s);

/* The built-in schemas (api/object/schemas/), parsed on first use; safe
 * from any thread. NULL with @e set when they do not parse (a bug caught
 * by the unit tests). */
const struct obj_schemas *obj_schemas_builtin(struct err *e);

/* The texts compiled into the binary (schemas.c, generated). */
extern const struct obj_schema_text obj_schema_builtin_texts[];
extern const size_t obj_schema_builtin_n;

/* Struct @name of package @pkg, or NULL. */
const struct obj_sstruct *obj_schemas_find(const struct obj_schemas *s,
                                           const char *pkg,
                                           const char *name);
/* The root struct of a kind: @group "" for core, or NULL. */
const struct obj_sstruct *obj_schemas_find_kind(const struct obj_schemas *s,
                                                const char *group,
                                                const char *version,
                                                const char *kind);
/* Every struct, in the order parsed. */
size_t obj_schemas_len(const struct obj_schemas *s);
const struct obj_sstruct *obj_schemas_at(const struct obj_schemas *s, size_t i);

/* Field @name of @st, or NULL. */
const struct obj_sfield *obj_sstruct_field(const struct obj_sstruct *st,
                                           const char *name);

/* ---- the passes -----------------------------------------------------------*/

/* Prune *@o, an object of kind @root (its top level may also carry
 * apiVersion and kind). Unknown fields are removed and each is recorded in
 * @unknown (type OBJ_FERR_NOT_FOUND, field = its path); values of the
 * wrong type are recorded in @bad (OBJ_FERR_TYPE_INVALID, detail says
 * what was expected) and left alone. A null field of a struct is removed
 * (as Go decodes it to the zero value, which is omitted). *@o must be
 * private; it may be replaced. 0 or -ENOMEM. */
int obj_schema_prune(const struct obj_sstruct *root,
                     struct obj **o,
                     struct obj_ferrs *unknown,
                     struct obj_ferrs *bad);

/* Set Kubernetes' defaults in *@o (pruned; private, may be replaced).
 * 0 or -ENOMEM. */
int obj_schema_default(const struct obj_sstruct *root, struct obj **o);

/* Check @o (pruned and defaulted) against the rules of @root, appending
 * to @errs. Metadata is left to obj_validate_object_meta(). 0 or
 * -ENOMEM. */
int obj_schema_validate(const struct obj_sstruct *root,
                        const struct obj *o,
                        struct obj_ferrs *errs);

/* The conditional-defaults function for "pkg.Name", or NULL (used by the
 * parser to attach hooks; schema_defaults.c). */
obj_sdefault_fn obj_schema_default_hook(const char *pkg, const char *name);
/* The hooks' table, for the test that checks each names a real type. */
size_t obj_schema_n_hooks(void);
void obj_schema_hook_at(size_t i, const char **pkg, const char **name);

#endif /* C8S_API_OBJECT_SCHEMA_H */
