/* Helpers shared by the schema passes (api/object/schema_*.c) and by
 * crd.c, which builds schemas from CustomResourceDefinitions. */
#ifndef C8S_API_OBJECT_SCHEMA_INTERNAL_H
#define C8S_API_OBJECT_SCHEMA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "api/object/schema.h"

/* The struct a type leads to through lists and maps, or NULL. */
static inline const struct obj_sstruct *obj__struct_under(
    const struct obj_stype *t)
{
    while (t->kind == OBJ_ST_LIST || t->kind == OBJ_ST_MAP)
        t = t->elem;
    return t->kind == OBJ_ST_STRUCT ? t->st : NULL;
}

/* Point @by[i] at @fields[i] for @n fields, sorted by name: a struct's
 * by_name index (schema_parse.c). */
void obj__sstruct_index(const struct obj_sfield *fields, size_t n,
                        const struct obj_sfield **by);

/* What a value of @t looks like, for messages: "an integer", "an array of
 * Container", "a map of string". Static or thread-local text. */
const char *obj__stype_describe(const struct obj_stype *t);

/* Kubernetes quantity syntax: a decimal number, then a binary (Ki..Ei),
 * decimal (n u m k M G T P E) or exponent (e3, E-2) suffix. */
bool obj__quantity_ok(const char *s, size_t len);
/* Standard base64 with padding, as Go's encoding/json reads []byte. */
bool obj__base64_ok(const char *s, size_t len);
/* An RFC 3339 date-time: 2006-01-02T15:04:05[.frac](Z|+07:00). */
bool obj__rfc3339_ok(const char *s, size_t len);

#endif /* C8S_API_OBJECT_SCHEMA_INTERNAL_H */
