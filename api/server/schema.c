/* The kind's schema applied to request bodies: prune unknown fields as
 * fieldValidation asks (Ignore, Warn, the default, or Strict), refuse
 * values of the wrong type, set defaults; and the schema's rules at
 * validation time. Kinds without a schema (none built in; custom
 * resources later) pass untouched. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/object/schema.h"
#include "api/server/internal.h"
#include "api/server/objects.h"
#include "lib/log.h"
#include "lib/mem.h"

/* At most this many Warning headers per answer (the rest are counted). */
#define MAX_WARNINGS 20

enum field_validation { FV_IGNORE, FV_WARN, FV_STRICT };

static int field_validation(struct srv_call *c, enum field_validation *ret)
{
    char v[32];

    *ret = FV_WARN;
    if (!srv_query_get(c->req->query, "fieldValidation", v, sizeof v, NULL) ||
        v[0] == '\0')
        return 0;
    if (strcmp(v, "Ignore") == 0)
        *ret = FV_IGNORE;
    else if (strcmp(v, "Strict") == 0)
        *ret = FV_STRICT;
    else if (strcmp(v, "Warn") != 0) {
        srv__respond_bad(c->req, 400, "BadRequest",
                         "fieldValidation \"%s\" is invalid: must be one of "
                         "Ignore, Warn or Strict",
                         v);
        return -EINVAL;
    }
    return 0;
}

const struct obj_sstruct *srv__schema_of(const struct obj_resource *res)
{
    const struct obj_schemas *s = obj_schemas_builtin(NULL);

    if (res->schema != NULL)
        return res->schema; /* a custom resource's */
    return s == NULL
               ? NULL
               : obj_schemas_find_kind(s, res->group, res->version, res->kind);
}

/* "Deployment in version \"v1\" cannot be handled as a Deployment: ",
 * Kubernetes' words for a body it cannot decode. */
static int decode_prefix(const struct srv_call *c, struct obj_buf *b)
{
    char head[400];
    int n = snprintf(head, sizeof head,
                     "%s in version \"%s\" cannot be handled as a %s: ",
                     c->res->kind, c->res->version, c->res->kind);
    return obj_buf_append(b, head, (size_t)n);
}

/* "unknown field \"a\", unknown field \"b\"" (@warn: one Warning header
 * line per field instead). */
static int unknown_text(const struct obj_ferrs *l, bool warn, struct obj_buf *b)
{
    struct obj_buf q;
    int rv = 0;
    size_t n = l->len > MAX_WARNINGS && warn ? MAX_WARNINGS : l->len;

    obj_buf_init(&q);
    for (size_t i = 0; i < n && rv == 0; i++) {
        q.len = 0;
        if (warn) {
            rv = obj_buf_append(b, "Warning: 299 - ", 15);
            if (rv == 0 &&
                (rv = obj_buf_append(&q, "unknown field ", 14)) == 0 &&
                (rv = obj_quote_go(&q, l->v[i].field, strlen(l->v[i].field))) ==
                    0)
                rv = obj_quote_go(b, q.data, q.len);
            if (rv == 0)
                rv = obj_buf_append(b, "\r\n", 2);
        } else {
            if (i > 0)
                rv = obj_buf_append(b, ", ", 2);
            if (rv == 0)
                rv = obj_buf_append(b, "unknown field ", 14);
            if (rv == 0)
                rv = obj_quote_go(b, l->v[i].field, strlen(l->v[i].field));
        }
    }
    obj_buf_done(&q);
    return rv;
}

static void answer_bad(struct srv_call *c,
                       const struct obj_ferrs *bad,
                       const struct obj_ferrs *unknown)
{
    struct obj_buf b;
    int rv;

    obj_buf_init(&b);
    rv = decode_prefix(c, &b);
    if (bad->len > 0) {
        for (size_t i = 0; i < bad->len && rv == 0; i++) {
            if (i > 0)
                rv = obj_buf_append(&b, ", ", 2);
            if (rv == 0)
                rv = obj_ferr_format(&bad->v[i], &b);
        }
    } else if (rv == 0 &&
               (rv = obj_buf_append(&b, "strict decoding error: ", 23)) == 0) {
        rv = unknown_text(unknown, false, &b);
    }
    if (rv == 0)
        rv = obj_buf_append(&b, "", 1);
    if (rv == 0)
        (void)srv_respond_status(c->req, 400, "BadRequest", b.data, 0);
    else
        srv__respond_code(c->req, c->res, c->name, -ENOMEM);
    obj_buf_done(&b);
}

static int keep_warnings(struct srv_call *c, const struct obj_ferrs *unknown)
{
    struct obj_buf b;
    int rv;

    obj_buf_init(&b);
    rv = unknown_text(unknown, true, &b);
    if (rv == 0)
        rv = obj_buf_append(&b, "", 1);
    if (rv == 0) {
        mem_free(c->warnings);
        c->warnings = mem_strdup(b.data);
        rv = c->warnings == NULL ? -ENOMEM : 0;
    }
    obj_buf_done(&b);
    return rv;
}

static int schema_pass(struct srv_call *c, struct obj **o, bool defaults);

int srv__schema_decode(struct srv_call *c, struct obj **o)
{
    return schema_pass(c, o, true);
}

int srv__schema_prune(struct srv_call *c, struct obj **o)
{
    return schema_pass(c, o, false);
}

static int schema_pass(struct srv_call *c, struct obj **o, bool defaults)
{
    const struct obj_sstruct *st = srv__schema_of(c->res);
    struct obj_ferrs unknown, bad;
    enum field_validation fv;
    int rv;

    if (st == NULL)
        return 0;
    if ((rv = field_validation(c, &fv)) != 0)
        return rv;
    obj_ferrs_init(&unknown);
    obj_ferrs_init(&bad);
    rv = obj_schema_prune(st, o, &unknown, &bad);
    if (rv == 0 && (bad.len > 0 || (fv == FV_STRICT && unknown.len > 0))) {
        answer_bad(c, &bad, &unknown);
        rv = -EINVAL;
    } else if (rv == 0 && fv == FV_WARN && unknown.len > 0) {
        rv = keep_warnings(c, &unknown);
    }
    if (rv == 0 && defaults)
        rv = obj_schema_default(st, o);
    if (rv == -ENOMEM)
        srv__respond_code(c->req, c->res, c->name, rv);
    obj_ferrs_done(&unknown);
    obj_ferrs_done(&bad);
    return rv;
}

int srv__schema_check(const struct srv_call *c,
                      const struct obj *o,
                      struct obj_ferrs *l)
{
    const struct obj_sstruct *st = srv__schema_of(c->res);

    return st == NULL ? 0 : obj_schema_validate(st, o, l);
}
