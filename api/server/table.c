/* Objects as a Table (meta.k8s.io/v1) when the client asks for one in its
 * Accept header, as `kubectl get` does: columns from api/object/table.c,
 * and with each row the object's metadata (includeObject=Metadata, the
 * default), the whole object (Object, kubectl's --sort-by) or nothing
 * (None). */
#include <string.h>
#include <time.h>

#include "api/object/codec.h"
#include "api/server/discovery_accept.h"
#include "api/server/objects.h"

bool srv__table_wanted(const struct srv_call *c, struct srv_table *t)
{
    static const struct srv_media_offer offers[] = {
        {"application", "json", "", "", ""},
        {"application", "json", "meta.k8s.io", "v1", "Table"},
        {"application", "json", "meta.k8s.io", "v1beta1", "Table"},
    };
    char inc[32] = "";
    int pick = srv_accept_negotiate(srv_req_header(c->req, "Accept"), offers,
                                    3);

    memset(t, 0, sizeof *t);
    if (pick < 1)
        return false; /* plain JSON, and JSON for what we cannot offer */
    t->on = true;
    t->api_version = pick == 1 ? "meta.k8s.io/v1" : "meta.k8s.io/v1beta1";
    t->table = c->res->table != NULL ? c->res->table
                                     : obj_table_for(c->res->group,
                                                     c->res->kind);
    t->include = SRV_INCLUDE_METADATA;
    (void)srv_query_get(c->req->query, "includeObject", inc, sizeof inc,
                        NULL);
    if (strcmp(inc, "Object") == 0)
        t->include = SRV_INCLUDE_OBJECT;
    else if (strcmp(inc, "None") == 0)
        t->include = SRV_INCLUDE_NONE;
    t->now = (int64_t)time(NULL);
    return true;
}

/* What a row carries of @o. */
static struct obj *row_object(const struct srv_table *t, struct obj *o)
{
    struct obj *p, *meta;

    if (t->include == SRV_INCLUDE_OBJECT)
        return obj_ref(o);
    if ((p = obj_map_new()) == NULL)
        return NULL;
    meta = obj_map_get(o, "metadata");
    meta = meta != NULL ? obj_ref(meta) : obj_map_new();
    if (srv__set_str(p, "kind", "PartialObjectMetadata") != 0 ||
        srv__set_str(p, "apiVersion", t->api_version) != 0 ||
        obj_map_set(p, "metadata", meta) != 0) {
        obj_unref(meta);
        return obj_unref(p);
    }
    return p;
}

int srv__table_row(const struct srv_table *t, struct obj *o,
                   struct obj_buf *out)
{
    struct obj *r = obj_map_new(), *cells, *ob = NULL;
    int rv = r == NULL;

    cells = obj_table_cells(t->table, o, t->now);
    rv = rv || cells == NULL || obj_map_set(r, "cells", cells) != 0;
    if (rv != 0)
        obj_unref(cells);
    if (rv == 0 && t->include != SRV_INCLUDE_NONE) {
        ob = row_object(t, o);
        rv = ob == NULL || obj_map_set(r, "object", ob) != 0;
        if (rv != 0)
            obj_unref(ob);
    }
    if (rv == 0)
        rv = obj_json_encode(r, 0, out, NULL) != 0;
    obj_unref(r);
    return rv != 0 ? -ENOMEM : 0;
}

struct obj *srv__table_new(const struct srv_table *t, const char *rv,
                           bool columns)
{
    struct obj *tbl = obj_map_new(), *meta = obj_map_new();
    struct obj *cols = columns ? obj_table_columns(t->table) : obj_array_new();
    int err = tbl == NULL || meta == NULL || cols == NULL;

    err = err || srv__set_str(tbl, "kind", "Table");
    err = err || srv__set_str(tbl, "apiVersion", t->api_version);
    err = err || (rv != NULL && srv__set_str(meta, "resourceVersion", rv));
    err = err || obj_map_set(tbl, "metadata", meta);
    if (err == 0)
        meta = NULL;
    err = err || obj_map_set(tbl, "columnDefinitions", cols);
    if (err == 0)
        cols = NULL;
    obj_unref(meta);
    obj_unref(cols);
    if (err != 0)
        return obj_unref(tbl);
    return tbl;
}

int srv__table_one(const struct srv_table *t, struct obj *o, bool columns,
                   struct obj_buf *out)
{
    const char *rv = obj_str_or(obj_get_path(o, "metadata.resourceVersion"),
                                NULL);
    struct obj *tbl = srv__table_new(t, rv, columns);
    int err = tbl == NULL;

    err = err || obj_json_encode(tbl, 0, out, NULL) != 0;
    obj_unref(tbl);
    if (err != 0)
        return -ENOMEM;
    out->len--; /* reopen the object: drop its closing brace */
    if (obj_buf_append(out, ",\"rows\":[", 9) != 0 ||
        srv__table_row(t, o, out) != 0 || obj_buf_append(out, "]}", 2) != 0)
        return -ENOMEM;
    return 0;
}
