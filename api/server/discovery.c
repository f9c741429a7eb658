/* Discovery documents: encoded once, looked up by path, negotiated by
 * Accept, revalidated by ETag. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/server/discovery.h"
#include "api/server/discovery_accept.h"
#include "api/server/discovery_internal.h"
#include "lib/mem.h"

/* The representations of a document, in offer order: plain JSON first so
 * that "*" / "*" and application/json get the legacy form. */
enum form {
    FORM_LEGACY,
    FORM_V2,
    FORM_V2BETA1,
    FORM_COUNT,
};

static const struct srv_media_offer offers[FORM_COUNT] = {
    [FORM_LEGACY] = {"application", "json", "", "", ""},
    [FORM_V2] = {"application", "json", "apidiscovery.k8s.io", "v2",
                 "APIGroupDiscoveryList"},
    [FORM_V2BETA1] = {"application", "json", "apidiscovery.k8s.io", "v2beta1",
                      "APIGroupDiscoveryList"},
};

static const char *const content_types[FORM_COUNT] = {
    [FORM_LEGACY] = SRV_DISC_CT_JSON,
    [FORM_V2] = SRV_DISC_CT_V2,
    [FORM_V2BETA1] = SRV_DISC_CT_V2BETA1,
};

/* '"' + 16 hex digits + '"' + NUL. */
#define ETAG_SIZE 19

/* One encoded representation. */
struct rep {
    struct rbuf *body;    /* the bytes; NULL when the form is not offered */
    char etag[ETAG_SIZE]; /* quoted hash of body */
    char headers[64];     /* "ETag: <etag>\r\nVary: Accept\r\n" */
};

/* One document at one path. */
struct doc {
    char *path;                  /* "/apis/apps/v1", mem_strdup'ed */
    struct rep reps[FORM_COUNT]; /* by enum form; only aggregated documents
                                   (/api, /apis) have V2 and V2BETA1 */
};

struct srv_discovery {
    struct doc *docs; /* every document */
    size_t n_docs;    /* used entries in docs */
    size_t cap;       /* allocated entries in docs */
};

/* FNV-1a, 64 bits: an ETag only has to change when the bytes do, and the
 * documents are few and built by us, so a fast non-cryptographic hash is
 * enough. */
static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

/* Encode @tree into @r with its ETag and header lines. */
static int rep_fill(struct rep *r, const struct obj *tree, struct err *e)
{
    int rc = obj_json_rbuf(tree, OBJ_JSON_NEWLINE, &r->body, e);

    if (rc < 0)
        return rc;
    (void)snprintf(r->etag, sizeof r->etag, "\"%016" PRIx64 "\"",
                   fnv1a64(r->body->data, r->body->len));
    (void)snprintf(r->headers, sizeof r->headers,
                   "ETag: %s\r\nVary: Accept\r\n", r->etag);
    return 0;
}

static void doc_done(struct doc *d)
{
    mem_free(d->path);
    for (int i = 0; i < FORM_COUNT; i++)
        d->reps[i].body = rbuf_unref(d->reps[i].body);
}

/* Append an empty document for @path. */
static struct doc *doc_add(struct srv_discovery *d,
                           const char *path,
                           struct err *e)
{
    struct doc *doc;

    if (d->n_docs == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct doc *docs = mem_realloc(d->docs, cap * sizeof *docs);

        if (docs == NULL)
            goto oom;
        d->docs = docs;
        d->cap = cap;
    }
    doc = &d->docs[d->n_docs];
    memset(doc, 0, sizeof *doc);
    if ((doc->path = mem_strdup(path)) == NULL)
        goto oom;
    d->n_docs++;
    return doc;
oom:
    (void)err_setf(e, -ENOMEM, "discovery %s: out of memory", path);
    return NULL;
}

/* Add a legacy-only document; takes @tree (NULL: out of memory). */
static int add_legacy(struct srv_discovery *d,
                      const char *path,
                      struct obj *tree,
                      struct err *e)
{
    struct doc *doc = tree != NULL ? doc_add(d, path, e) : NULL;
    int rc = doc != NULL
                 ? rep_fill(&doc->reps[FORM_LEGACY], tree, e)
                 : err_setf(e, -ENOMEM, "discovery %s: out of memory", path);

    obj_unref(tree);
    return rc;
}

/* Encode the aggregated tree as v2, then as v2beta1: the two differ only
 * in apiVersion. Takes @tree. */
static int fill_aggregated(struct doc *doc, struct obj *tree, struct err *e)
{
    int rc = rep_fill(&doc->reps[FORM_V2], tree, e);

    if (rc == 0) {
        struct obj *av = obj_str_new_c(SRV_DISC_AV_V2BETA1);

        if ((rc = obj_map_set(tree, "apiVersion", av)) < 0) {
            obj_unref(av);
            rc = err_setf(e, rc, "discovery: out of memory");
        }
    }
    if (rc == 0)
        rc = rep_fill(&doc->reps[FORM_V2BETA1], tree, e);
    obj_unref(tree);
    return rc;
}

/* /api or /apis: the legacy tree and the aggregated one. */
static int add_root(struct srv_discovery *d,
                    const char *path,
                    struct obj *legacy,
                    struct obj *aggregated,
                    struct err *e)
{
    struct doc *doc;
    int rc = add_legacy(d, path, legacy, e);

    if (rc < 0) {
        obj_unref(aggregated);
        return rc;
    }
    doc = &d->docs[d->n_docs - 1];
    if (aggregated == NULL)
        return err_setf(e, -ENOMEM, "discovery %s: out of memory", path);
    return fill_aggregated(doc, aggregated, e);
}

/* /apis/GROUP and each /apis/GROUP/VERSION (/api/VERSION for core). */
static int add_group(struct srv_discovery *d,
                     const struct obj_api_group *g,
                     struct err *e)
{
    char path[320];
    bool core = g->name[0] == '\0';
    int rc = 0;

    if (!core) {
        (void)snprintf(path, sizeof path, "/apis/%s", g->name);
        rc = add_legacy(d, path, srv__disc_group(g), e);
    }
    for (size_t i = 0; rc == 0 && i < g->n_versions; i++) {
        const struct obj_api_version *v = &g->versions[i];

        if (core)
            (void)snprintf(path, sizeof path, "/api/%s", v->version);
        else
            (void)snprintf(path, sizeof path, "/apis/%s/%s", g->name,
                           v->version);
        rc = add_legacy(d, path, srv__disc_resource_list(g, v), e);
    }
    return rc;
}

int srv_discovery_new(const struct obj_registry *reg,
                      const char *server_address,
                      struct srv_discovery **ret,
                      struct err *e)
{
    struct srv_discovery *d = mem_calloc(1, sizeof *d);
    int rc;

    if (d == NULL)
        return err_setf(e, -ENOMEM, "discovery: out of memory");
    rc = add_root(d, "/api", srv__disc_api_versions(reg, server_address),
                  srv__disc_aggregated(reg, true), e);
    if (rc == 0)
        rc = add_root(d, "/apis", srv__disc_group_list(reg),
                      srv__disc_aggregated(reg, false), e);
    for (size_t i = 0; rc == 0 && i < obj_registry_n_groups(reg); i++)
        rc = add_group(d, obj_registry_group(reg, i), e);
    if (rc < 0) {
        srv_discovery_free(d);
        return rc;
    }
    *ret = d;
    return 0;
}

void srv_discovery_free(struct srv_discovery *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_docs; i++)
        doc_done(&d->docs[i]);
    mem_free(d->docs);
    mem_free(d);
}

/* ---- lookup
 * ----------------------------------------------------------------*/

/* Whether @path has the shape of a discovery document: /api, /apis,
 * /api/X, /apis/X, /apis/X/Y (anything deeper is a resource URL). */
static bool discovery_shape(const char *path)
{
    const char *rest;
    int slashes = 0;

    if (strncmp(path, "/apis", 5) == 0)
        rest = path + 5;
    else if (strncmp(path, "/api", 4) == 0)
        rest = path + 4;
    else
        return false;
    if (*rest == '\0')
        return true;
    if (*rest != '/' || rest[1] == '\0')
        return false;
    for (const char *p = rest; *p != '\0'; p++) {
        if (*p == '/' && (p[1] == '\0' || p[1] == '/'))
            return false;
        slashes += *p == '/';
    }
    return slashes <= (rest - path == 5 ? 2 : 1);
}

static const struct doc *find_doc(const struct srv_discovery *d,
                                  const char *path)
{
    for (size_t i = 0; i < d->n_docs; i++)
        if (strcmp(d->docs[i].path, path) == 0)
            return &d->docs[i];
    return NULL;
}

/* If-None-Match (RFC 9110 13.1.2): "*" or a list of entity tags, compared
 * weakly (a W/ prefix is ignored). */
static bool etag_matches(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;

    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, elen) == 0 && (p[elen] == '\0' || p[elen] == ',' ||
                                            p[elen] == ' ' || p[elen] == '\t'))
            return true;
        while (*p != '\0' && *p != ',')
            p++;
    }
    return false;
}

/* The forms @doc has, as an offer list in enum form order. */
static int negotiate(const struct doc *doc, const char *accept)
{
    size_t n = doc->reps[FORM_V2].body != NULL ? FORM_COUNT : 1;

    return srv_accept_negotiate(accept, offers, n);
}

void srv_discovery_lookup(const struct srv_discovery *d,
                          const char *path,
                          const char *accept,
                          const char *if_none_match,
                          struct srv_disc_reply *ret)
{
    const struct doc *doc;
    const struct rep *rep;
    int form;

    memset(ret, 0, sizeof *ret);
    if (!discovery_shape(path))
        return;
    if ((doc = find_doc(d, path)) == NULL) {
        ret->status = 404;
        ret->reason = "NotFound";
        ret->message = "the server could not find the requested resource";
        return;
    }
    if ((form = negotiate(doc, accept)) < 0) {
        ret->status = 406;
        ret->reason = "NotAcceptable";
        ret->message = doc->reps[FORM_V2].body != NULL
                           ? "only the following media types are "
                             "accepted: " SRV_DISC_CT_JSON ", " SRV_DISC_CT_V2
                             ", " SRV_DISC_CT_V2BETA1
                           : "only the following media types are "
                             "accepted: " SRV_DISC_CT_JSON;
        return;
    }
    rep = &doc->reps[form];
    ret->content_type = content_types[form];
    ret->etag = rep->etag;
    ret->headers = rep->headers;
    if (if_none_match != NULL && etag_matches(if_none_match, rep->etag)) {
        ret->status = 304;
        return;
    }
    ret->status = 200;
    ret->body = rep->body;
}
