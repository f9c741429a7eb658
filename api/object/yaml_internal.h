/* YAML scalar typing shared by the YAML decoder and encoder. */
#ifndef C8S_API_OBJECT_YAML_INTERNAL_H
#define C8S_API_OBJECT_YAML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a plain scalar means. */
enum obj__yres {
    OBJ__YRES_STR,   /* A string. */
    OBJ__YRES_NULL,  /* null. */
    OBJ__YRES_BOOL,  /* A boolean, in *ret_b. */
    OBJ__YRES_INT,   /* An int64, in *ret_i. */
    OBJ__YRES_FLOAT, /* A finite double, in *ret_f. */
    OBJ__YRES_RANGE, /* A number we cannot hold: .inf, .nan, an integer
                      * beyond int64. */
    OBJ__YRES_NOMEM, /* Out of memory while looking. */
};

/* Type the plain scalar @s (@len bytes). */
enum obj__yres obj__yaml_resolve(const char *s, size_t len, bool *ret_b,
                                 int64_t *ret_i, double *ret_f);

/* Whether the string @s must be quoted in YAML output so that readers
 * (go-yaml, PyYAML, us) take it back as a string. */
bool obj__yaml_needs_quotes(const char *s, size_t len);

#endif /* C8S_API_OBJECT_YAML_INTERNAL_H */
