/* Helpers shared by the selector files of api/object/. Nothing outside
 * api/object/selector*.c includes this header. */
#ifndef C8S_API_OBJECT_SELECTOR_INTERNAL_H
#define C8S_API_OBJECT_SELECTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/object/selector.h"

/* Room for one message being built. Kubernetes' messages with a regex hint
 * and a 63-byte value run to about 400 bytes; struct err keeps the first
 * ERR_MSG_SIZE of what is built here. */
#define OBJ__SEL_MSG_SIZE 1024

/* A message built piece by piece; what does not fit is dropped. */
struct obj__sel_msg {
    char buf[OBJ__SEL_MSG_SIZE]; /* Text, always NUL-terminated. */
    size_t len;                  /* Bytes used, below OBJ__SEL_MSG_SIZE. */
};

void obj__sel_msg_init(struct obj__sel_msg *m);
void obj__sel_msg_addf(struct obj__sel_msg *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append @n bytes at @s as they are, except that bytes which are not valid
 * UTF-8 become U+FFFD (as Go's JSON encoder would send them): messages end
 * up in JSON Status objects, and the object model takes only UTF-8. */
void obj__sel_msg_raw(struct obj__sel_msg *m, const char *s, size_t n);
/* Set @e to @code and @text, cut to fit struct err at a character
 * boundary (so the message stays valid UTF-8). Returns @code. */
int obj__sel_fail(struct err *e, int code, const char *text);
/* Append @n bytes at @s as Go's %q prints a string (strconv.Quote), since
 * Kubernetes quotes bad values that way. */
void obj__sel_msg_quote(struct obj__sel_msg *m, const char *s, size_t n);

/* A list of field errors being collected, printed as Kubernetes prints an
 * aggregate (utilerrors.NewAggregate): one message alone, several as
 * "[a, b]", repeated messages once. */
struct obj__sel_errs {
    struct obj__sel_msg text; /* "field: body" messages joined by ", ". */
    uint64_t seen[32];        /* Hashes of the messages kept, to drop
                               * repeats (later ones beyond 32 are kept). */
    size_t count;             /* Messages kept in text. */
    obj_field_error_cb cb;    /* Told of every error (repeats too), or
                               * NULL. */
    void *arg;                /* For cb. */
};

void obj__sel_errs_init(struct obj__sel_errs *l, obj_field_error_cb cb,
                        void *arg);
/* Record an error at @field (Go's "<nil>" when there is no path) of type
 * @reason with @body, e.g. "Invalid value: \"x\": must be ...". */
void obj__sel_errs_add(struct obj__sel_errs *l, const char *field,
                       const char *reason, const char *body);
/* 0 when nothing was recorded, else -C8S_EMALFORMED with @e set to
 * @prefix followed by the aggregate text. */
int obj__sel_errs_finish(const struct obj__sel_errs *l, const char *prefix,
                         struct err *e);

/* Kubernetes' reasons for a label key (IsQualifiedName) or a label value
 * (IsValidLabelValue) being invalid: up to 4 static strings go to @out;
 * returns how many (0: valid). */
size_t obj__label_key_errors(const char *k, size_t n, const char *out[4]);
size_t obj__label_value_errors(const char *v, size_t n, const char *out[4]);

/* Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, in
 * range. */
bool obj__parse_int64(const char *s, size_t n, int64_t *ret);

/* Build a requirement as labels.NewRequirement does (with no field path):
 * checks the key, the number of values for @op, Gt/Lt integers and each
 * value, and on failure sets @e to Kubernetes' aggregated message (after
 * @prefix) with -C8S_EMALFORMED. @as_set: the values are a set, checked in
 * sorted order as the text parser's sets.String gives them; else in the
 * order given. On success *@r owns copies of @key and the values (sorted,
 * duplicates dropped). */
int obj__lsel_req_init(struct obj_lsel_req *r, const char *key,
                       enum obj_lsel_op op, const char *const *values,
                       size_t nvalues, bool as_set, const char *prefix,
                       struct err *e);
void obj__lsel_req_done(struct obj_lsel_req *r);

/* Append requirement @r to @s (taking over what it holds) or -ENOMEM. */
int obj__lsel_add(struct obj_lsel *s, struct obj_lsel_req *r);
/* Sort @s's requirements by key, keeping the written order of equal keys.
 * 0 or -ENOMEM (then @s is unchanged). */
int obj__lsel_sort(struct obj_lsel *s);

/* The text of value @v for comparisons: a string's bytes, "true"/"false",
 * an int in decimal (in @tmp, at least 24 bytes); NULL for anything else
 * (absent, null, float, array, map). */
const char *obj__sel_value_text(const struct obj *v, char *tmp,
                                size_t *ret_len);

#endif /* C8S_API_OBJECT_SELECTOR_INTERNAL_H */
