/* The API server's front door: start serving, dispatch each request. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/server/internal.h"
#include "api/server/metrics.h"
#include "api/server/route.h"
#include "lib/log.h"
#include "lib/mem.h"

/* The Kubernetes version we report: the newest kubectl we support (1.27 to
 * 1.33), so current kubectl shows no skew warning; older ones warn as they
 * would against a 1.33 cluster. c8s's own version is reported beside it. */
#define KUBE_MAJOR "1"
#define KUBE_MINOR "33"

static void answer_text(struct srv_req *req, int status, const char *text)
{
    (void)srv_respond(req, status, "text/plain; charset=utf-8", NULL, text,
                      strlen(text));
}

static void serve_version(struct srv_req *req)
{
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\n  \"major\": \"" KUBE_MAJOR "\",\n"
                     "  \"minor\": \"" KUBE_MINOR "\",\n"
                     "  \"gitVersion\": \"v" KUBE_MAJOR "." KUBE_MINOR
                     ".0-c8s." PACKAGE_VERSION "\",\n"
                     "  \"gitCommit\": \"\",\n"
                     "  \"gitTreeState\": \"clean\",\n"
                     "  \"buildDate\": \"%s\",\n"
                     "  \"goVersion\": \"none (c8s is written in C)\",\n"
                     "  \"compiler\": \"gcc\",\n"
                     "  \"platform\": \"linux/amd64\",\n"
                     "  \"c8sVersion\": \"" PACKAGE_VERSION "\"\n}\n",
                     __DATE__);

    (void)srv_respond(req, 200, "application/json", NULL, body, (size_t)n);
}

/* Ready: this member knows a leader and has applied everything committed
 * that it knows of, so a read here is not far behind. */
static void serve_readyz(struct srv_api *api, struct srv_req *req)
{
    struct repl_status st;

    repl_get_status(api->repl, &st);
    if (st.leader_id == 0) {
        answer_text(req, 503, "[-]raft no leader known\nreadyz check failed\n");
        return;
    }
    if (st.applied_index < st.commit_index) {
        answer_text(req, 503, "[-]raft applying committed entries\n"
                              "readyz check failed\n");
        return;
    }
    answer_text(req, 200, "ok");
}

static void serve_metrics(struct srv_api *api, struct srv_req *req)
{
    struct obj_buf b;

    obj_buf_init(&b);
    if (srv_metrics_render(api->metrics, api->repl, &b) != 0)
        (void)srv_respond_status(req, 500, "InternalError",
                                 "cannot render the metrics", 0);
    else
        (void)srv_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                          NULL, b.data, b.len);
    obj_buf_done(&b);
}

/* The verb Kubernetes would log for @req (get/list/watch/create/update/
 * patch/delete/deletecollection), and its resource ("" for other paths). */
static void classify(const struct srv_req *req, char *verb, size_t vsize,
                     char *resource, size_t rsize)
{
    struct srv_route r;
    char w[16];
    bool watch;

    resource[0] = '\0';
    (void)snprintf(verb, vsize, "%s", req->method);
    if (srv_route_parse(req->path, &r) != 0 || r.kind != SRV_ROUTE_RESOURCE)
        return;
    (void)snprintf(resource, rsize, "%.60s%s%.30s", r.resource,
                   r.sub[0] ? "/" : "", r.sub);
    watch = r.legacy_watch ||
            (srv_query_get(req->query, "watch", w, sizeof w, NULL) &&
             strcmp(w, "false") != 0 && strcmp(w, "0") != 0);
    if (strcmp(req->method, "GET") == 0)
        (void)snprintf(verb, vsize, "%s",
                       r.name[0] ? "get" : watch ? "watch" : "list");
    else if (strcmp(req->method, "POST") == 0)
        (void)snprintf(verb, vsize, "create");
    else if (strcmp(req->method, "PUT") == 0)
        (void)snprintf(verb, vsize, "update");
    else if (strcmp(req->method, "PATCH") == 0)
        (void)snprintf(verb, vsize, "patch");
    else if (strcmp(req->method, "DELETE") == 0)
        (void)snprintf(verb, vsize, r.name[0] ? "delete" : "deletecollection");
}

/* One audit event for @req, answered @status after @seconds. The user is
 * looked up again (requests do not carry it), before impersonation, which
 * is recorded apart as kube-apiserver does. */
static void audit(struct srv_api *api, struct srv_req *req, const char *verb,
                  int status, double seconds)
{
    struct srv_user u;
    struct srv_route r;
    struct timespec now;
    char ip[64], lverb[16];
    struct srv_audit_event ev = {
        .user = &u,
        .impersonated = srv_req_header(req, "Impersonate-User"),
        .verb = verb,
        .uri = req->target,
        .source_ip = ip,
        .user_agent = srv_req_header(req, "User-Agent"),
        .path = req->path,
        .code = status,
        .body = req->body,
        .body_len = req->body_len,
        .content_type = srv_req_header(req, "Content-Type"),
        .psa_violations = srv_req_note(req),
    };

    const struct srv_user *seen = srv_req_attached(req);

    if (seen != NULL)
        u = *seen;
    else /* refused (401), or out of memory when it came in */
        memset(&u, 0, sizeof u);
    srv_req_peer_ip(req, ip, sizeof ip);
    (void)clock_gettime(CLOCK_REALTIME, &now);
    ev.completed = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    ev.received = ev.completed - seconds;
    if (srv_route_parse(req->path, &r) == 0 && r.kind == SRV_ROUTE_RESOURCE) {
        ev.api_group = r.group;
        ev.api_version = r.version;
        ev.resource = r.resource;
        ev.subresource = r.sub;
        ev.ns = r.ns;
        ev.name = r.name;
    } else {
        size_t i;
        for (i = 0; req->method[i] != '\0' && i + 1 < sizeof lverb; i++)
            lverb[i] = (char)(req->method[i] | 0x20);
        lverb[i] = '\0';
        ev.verb = lverb;
    }
    srv_audit_log(api->audit, &ev);
}

static void on_done(struct srv_req *req, int status, double seconds)
{
    struct srv_api *api = srv_http_data(req->srv);
    char verb[16], resource[128];

    classify(req, verb, sizeof verb, resource, sizeof resource);
    srv_metrics_inflight(api->metrics, -1);
    srv_metrics_request(api->metrics, verb, resource, status, seconds);
    if (api->audit != NULL)
        audit(api, req, verb, status, seconds);
}

/* The OpenAPI documents, built from the schemas on first use. NULL (and
 * answered 500) if that fails. */
static const struct obj_openapi *openapi_docs(struct srv_api *api,
                                              struct srv_req *req)
{
    struct err e = {0};

    if (api->openapi == NULL) {
        const struct obj_schemas *s = obj_schemas_builtin(&e);

        if (s == NULL || obj_openapi_build(api->reg, s, &api->openapi, &e)) {
            (void)srv_respond_status(req, 500, "InternalError", e.msg, 0);
            return NULL;
        }
    }
    return api->openapi;
}

/* Answer @d (NULL: 404) as @type, its hash as ETag when @etag: 304 when the
 * client has it already. */
static void serve_doc(struct srv_req *req, const struct obj_openapi_doc *d,
                      const char *type, bool etag)
{
    const char *inm = srv_req_header(req, "If-None-Match");
    char headers[96];

    if (d == NULL) {
        (void)srv_respond_status(req, 404, "NotFound",
                                 "the server could not find the requested "
                                 "resource", 0);
        return;
    }
    /* /openapi/v2 answers JSON or protobuf by Accept: caches must know */
    (void)snprintf(headers, sizeof headers, "ETag: \"%s\"\r\nVary: Accept\r\n",
                   d->hash);
    if (etag && inm != NULL && strstr(inm, d->hash) != NULL)
        (void)srv_respond(req, 304, NULL, headers, NULL, 0);
    else
        (void)srv_respond(req, 200, type, etag ? headers : NULL, d->json,
                          d->len);
}

/* GET /openapi/v3 (the index) and /openapi/v3/api/v1, /openapi/v3/apis/
 * GROUP/VERSION (one document, its hash as ETag: 304 when unchanged). */
static void serve_openapi(struct srv_api *api, struct srv_req *req)
{
    const char *gv = req->path + strlen("/openapi/v3");
    const struct obj_openapi *o = openapi_docs(api, req);

    if (o == NULL)
        return;
    serve_doc(req,
              *gv == '\0'   ? obj_openapi_index(o)
              : *gv == '/' ? obj_openapi_find(o, gv + 1)
                           : NULL,
              "application/json", *gv != '\0');
}

/* GET /openapi/v2 (and /swagger-2.0.0.pb-v1, where kubectl 1.27 looks
 * too): Swagger 2.0, as gnostic protobuf when the client asks for it
 * (kubectl 1.27 and 1.28 ask for nothing else), JSON otherwise. */
#define OPENAPI_V2_PROTO "application/com.github.proto-openapi.spec.v2"

static void serve_openapi_v2(struct srv_api *api, struct srv_req *req,
                             bool proto_path)
{
    const char *accept = srv_req_header(req, "Accept");
    bool proto = proto_path ||
                 (accept != NULL && strstr(accept, OPENAPI_V2_PROTO) != NULL);
    const struct obj_openapi_doc *d;

    if (openapi_docs(api, req) == NULL)
        return;
    if ((d = obj_openapi_v2(api->openapi, proto)) == NULL) {
        (void)srv_respond_status(req, 500, "InternalError",
                                 "out of memory building OpenAPI v2", 0);
        return;
    }
    serve_doc(req, d,
              /* '@' (as kubectl asks) is no media-type character: Go's
               * parser would reject the answer */
              proto ? OPENAPI_V2_PROTO ".v1.0+protobuf" : "application/json",
              true);
}

/* Exact paths served by this file; NULL if @path is not one of them. */
static bool serve_fixed(struct srv_api *api, struct srv_req *req)
{
    const char *p = req->path;

    if (strcmp(p, "/healthz") == 0 || strcmp(p, "/livez") == 0) {
        answer_text(req, 200, "ok");
        return true;
    }
    if (strcmp(p, "/readyz") == 0) {
        serve_readyz(api, req);
        return true;
    }
    if (strcmp(p, "/version") == 0) {
        serve_version(req);
        return true;
    }
    if (strcmp(p, "/metrics") == 0) {
        serve_metrics(api, req);
        return true;
    }
    if (strncmp(p, "/openapi/v3", 11) == 0 && (p[11] == '\0' || p[11] == '/')) {
        serve_openapi(api, req);
        return true;
    }
    if (strcmp(p, "/openapi/v2") == 0 || strcmp(p, "/swagger-2.0.0.pb-v1") == 0) {
        serve_openapi_v2(api, req, p[1] == 's');
        return true;
    }
    return srv__serve_snapshot(api, req);
}

int srv__user(struct srv_api *api, const struct srv_req *req,
              struct srv_user *u)
{
    int rv = srv_authn_user(&api->authn, req, u);

    if (rv == -ENOENT) { /* a bearer token not in the file */
        const char *bearer = srv_authn_bearer(req);
        rv = srv__bootstrap_token_shape(bearer)
                 ? srv__bootstrap_user(api, bearer, u)
                 : srv__sa_user(api, bearer, u);
    }
    return rv;
}

/* Who sent @req, and may they? false (answered) for a bad credential or
 * an anonymous request beyond the public paths (401, as kube-apiserver),
 * and for what RBAC does not allow (403). The public paths need no
 * permission. */
static bool authenticate(struct srv_api *api, struct srv_req *req)
{
    struct srv_user u;
    struct srv_route r;
    bool public = srv_authn_public_path(req->path);
    int rv = srv__user(api, req, &u);

    /* The audit log says who sent the request as found now, even if the
     * request then deletes that user's credential. */
    if (api->audit != NULL && rv == 0) {
        struct srv_user *copy = mem_malloc(sizeof *copy);
        if (copy != NULL) {
            *copy = u;
            srv_req_attach(req, copy, mem_free);
        }
    }
    if (rv != 0 || (u.anonymous && !(api->authn.anonymous && public))) {
        (void)srv_respond_status(req, 401, "Unauthorized", "Unauthorized", 0);
        return false;
    }
    if (!srv__impersonate(api, req, &u))
        return false;
    if (public)
        return true;
    if (srv_route_parse(req->path, &r) == 0 && r.kind == SRV_ROUTE_RESOURCE)
        return srv__authz_resource(api, req, &u, &r);
    return srv__authz_path(api, req, &u);
}

void srv__on_request(struct srv_req *req)
{
    struct srv_api *api = srv_http_data(req->srv);

    srv_metrics_inflight(api->metrics, 1);
    if (!authenticate(api, req))
        return;
    if (serve_fixed(api, req))
        return;
    if (srv__serve_api(api, req))
        return;
    (void)srv_respond_status(req, 404, "NotFound",
                             "the server could not find the requested "
                             "resource",
                             0);
}

int srv__serve_start(struct srv_api *api, struct err *e)
{
    struct srv_http_config cfg = {
        .listen = api->listen,
        .on_request = srv__on_request,
        .on_done = on_done,
        .data = api,
    };
    int rv = srv_pki_server_ctx(api->member.ca, api->member.serving,
                                &api->tls, e);

    if (rv != 0 || (rv = srv__crd_start(api, e)) != 0 ||
        (rv = srv__authz_start(api, e)) != 0)
        return rv;
    cfg.tls = api->tls;
    rv = srv_http_start(api->loop, &cfg, &api->http, e);
    if (rv != 0)
        return rv;
    api->step = SRV_BOOT_SERVING;
    log_info("api", "serving the Kubernetes API on https://%s:%d; admin "
             "kubeconfig: %s/admin.kubeconfig",
             api->host, srv_http_port(api->http), api->data_dir);
    return 0;
}
