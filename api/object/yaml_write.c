/* YAML encoding through libyaml's emitter, which picks block layout and
 * quoting that its own grammar allows; we only force quotes on strings that
 * would read back as another type. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <yaml.h>

#include "api/object/internal.h"
#include "api/object/yaml_internal.h"

/* State of one encode. */
struct yaml_enc {
    yaml_emitter_t em;   /* libyaml's emitter. */
    struct obj_buf *b;   /* Output. */
    bool nomem;          /* Our output buffer could not grow. */
    int code;            /* Failure found while walking the tree. */
};

/* libyaml's output callback: 1 on success. */
static int sink(void *data, unsigned char *buf, size_t len)
{
    struct yaml_enc *w = data;

    if (obj_buf_append(w->b, buf, len) != 0) {
        w->nomem = true;
        return 0;
    }
    return 1;
}

/* Emit an event built by the caller; 0 or -1. */
static int emit(struct yaml_enc *w, yaml_event_t *ev, int init_ok)
{
    if (!init_ok)
        return -1;
    return yaml_emitter_emit(&w->em, ev) ? 0 : -1;
}

static int scalar(struct yaml_enc *w, const char *s, size_t len,
                  yaml_scalar_style_t style)
{
    yaml_event_t ev;

    return emit(w, &ev,
                yaml_scalar_event_initialize(
                    &ev, NULL, NULL, (yaml_char_t *)(uintptr_t)s, (int)len,
                    style == YAML_PLAIN_SCALAR_STYLE ||
                        style == YAML_ANY_SCALAR_STYLE,
                    style != YAML_PLAIN_SCALAR_STYLE, style));
}

/* A string: quoted when a reader would type it otherwise, a literal block
 * when it spans lines, else whatever libyaml finds valid. */
static int string(struct yaml_enc *w, const char *s, size_t len)
{
    yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

    if (len > INT32_MAX) {
        w->code = -ENOMEM;
        return -1;
    }
    if (memchr(s, '\n', len) != NULL)
        style = YAML_LITERAL_SCALAR_STYLE;
    else if (obj__yaml_needs_quotes(s, len))
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return scalar(w, s, len, style);
}

static int node(struct yaml_enc *w, const struct obj *o)
{
    char num[32];
    yaml_event_t ev;

    switch (o->type) {
    case OBJ_NULL:
        return scalar(w, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    case OBJ_BOOL:
        return o->u.b ? scalar(w, "true", 4, YAML_PLAIN_SCALAR_STYLE)
                      : scalar(w, "false", 5, YAML_PLAIN_SCALAR_STYLE);
    case OBJ_INT:
        return scalar(w, num, obj__fmt_int(o->u.i, num),
                      YAML_PLAIN_SCALAR_STYLE);
    case OBJ_FLOAT:
        if (!isfinite(o->u.f)) {
            w->code = -EDOM;
            return -1;
        }
        return scalar(w, num, obj__fmt_float(o->u.f, num),
                      YAML_PLAIN_SCALAR_STYLE);
    case OBJ_STRING:
        return string(w, o->u.str.s, o->u.str.len);
    case OBJ_ARRAY:
        if (emit(w, &ev,
                 yaml_sequence_start_event_initialize(
                     &ev, NULL, NULL, 1,
                     o->u.arr.len ? YAML_BLOCK_SEQUENCE_STYLE
                                  : YAML_FLOW_SEQUENCE_STYLE)) != 0)
            return -1;
        for (size_t i = 0; i < o->u.arr.len; i++)
            if (node(w, o->u.arr.items[i]) != 0)
                return -1;
        return emit(w, &ev, yaml_sequence_end_event_initialize(&ev));
    default:
        if (emit(w, &ev,
                 yaml_mapping_start_event_initialize(
                     &ev, NULL, NULL, 1,
                     o->u.map.len ? YAML_BLOCK_MAPPING_STYLE
                                  : YAML_FLOW_MAPPING_STYLE)) != 0)
            return -1;
        for (size_t i = 0; i < o->u.map.len; i++) {
            const struct obj_entry *e = &o->u.map.items[i];

            if (string(w, e->key, e->klen) != 0 || node(w, e->val) != 0)
                return -1;
        }
        return emit(w, &ev, yaml_mapping_end_event_initialize(&ev));
    }
}

int obj_yaml_encode(const struct obj *o, bool start_marker, struct obj_buf *b,
                    struct err *e)
{
    struct yaml_enc w = {.b = b};
    size_t start = b->len;
    yaml_event_t ev;
    int r;

    if (!yaml_emitter_initialize(&w.em))
        return err_setf(e, -ENOMEM, "yaml: out of memory");
    yaml_emitter_set_output(&w.em, sink, &w);
    yaml_emitter_set_unicode(&w.em, 1);
    yaml_emitter_set_indent(&w.em, 2);
    yaml_emitter_set_width(&w.em, -1); /* Never fold long lines. */
    r = emit(&w, &ev,
             yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
    if (r == 0)
        r = emit(&w, &ev,
                 yaml_document_start_event_initialize(&ev, NULL, NULL, NULL,
                                                      !start_marker));
    if (r == 0)
        r = node(&w, o);
    if (r == 0)
        r = emit(&w, &ev, yaml_document_end_event_initialize(&ev, 1));
    if (r == 0)
        r = emit(&w, &ev, yaml_stream_end_event_initialize(&ev));
    if (r == 0 && !yaml_emitter_flush(&w.em))
        r = -1;
    if (r != 0) {
        /* Ours first; then libyaml's: a failed event constructor or a
         * memory error is -ENOMEM, an emitter complaint a bug (-EINVAL). */
        if (w.code != 0)
            r = w.code;
        else if (w.nomem || w.em.error != YAML_EMITTER_ERROR)
            r = -ENOMEM;
        else
            r = -EINVAL;
        /* Leave the buffer as it was. */
        b->len = start;
        if (b->data != NULL)
            b->data[start] = '\0';
        if (r == -EDOM)
            (void)err_setf(e, r, "yaml: cannot encode a non-finite float");
        else
            (void)err_setf(e, r, "yaml: %s",
                           w.em.problem && !w.nomem ? w.em.problem
                                                    : "out of memory");
    }
    yaml_emitter_delete(&w.em);
    return r;
}
