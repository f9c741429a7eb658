/* Discovery documents: their JSON shapes (as KUBECTL-WIRE.md section 2
 * documents them), Accept negotiation with each kubectl version's exact
 * header, ETag revalidation, and the Accept parser itself. */
#include <errno.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/server/discovery.h"
#include "api/server/discovery_accept.h"
#include "lib/mem.h"
#include "tests/lib/unit.h"

/* Accept headers as kubectl sends them (captured from the real binaries). */
#define ACCEPT_1_30_UP                                                      \
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," \
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;"                     \
    "as=APIGroupDiscoveryList,application/json"
#define ACCEPT_1_27_TO_1_29                             \
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;" \
    "as=APIGroupDiscoveryList,application/json"
#define ACCEPT_LEGACY "application/json, */*"

static void free_registry(void *p)
{
    obj_registry_free(p);
}

static void free_discovery(void *p)
{
    srv_discovery_free(p);
}

static void unref_obj(void *p)
{
    obj_unref(p);
}

static struct obj_registry *reg_new(void)
{
    struct obj_registry *r = NULL;

    ASSERT_EQ(obj_registry_new(NULL, 0, &r, NULL), 0);
    unit_defer(free_registry, r);
    return r;
}

static struct srv_discovery *disc_new(void)
{
    struct srv_discovery *d = NULL;
    struct err e = {0};

    ASSERT_MSG(srv_discovery_new(reg_new(), "10.0.0.1:6443", &d, &e) == 0, "%s",
               e.msg);
    unit_defer(free_discovery, d);
    return d;
}

/* GET @path with @accept; expect 200 with content type @ct and return the
 * decoded body (freed when the test ends). */
static struct obj *get(const struct srv_discovery *d,
                       const char *path,
                       const char *accept,
                       const char *ct)
{
    struct srv_disc_reply rep;
    struct obj *o = NULL;
    struct err e = {0};

    srv_discovery_lookup(d, path, accept, NULL, &rep);
    ASSERT_MSG(rep.status == 200, "%s: status %d", path, rep.status);
    ASSERT_STR_EQ(rep.content_type, ct);
    ASSERT(rep.body != NULL && rep.body->len > 0);
    ASSERT(rep.body->data[rep.body->len - 1] == '\n');
    ASSERT_MSG(
        obj_json_decode(rep.body->data, rep.body->len, NULL, &o, &e) == 0, "%s",
        e.msg);
    unit_defer(unref_obj, o);
    return o;
}

static struct obj *json(const char *text)
{
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_json_decode(text, strlen(text), NULL, &o, &e) == 0, "%s",
               e.msg);
    unit_defer(unref_obj, o);
    return o;
}

static const char *s(const struct obj *o, const char *path)
{
    return obj_str_or(obj_get_path(o, path), NULL);
}

/* The entry of array @a whose @key is @value. */
static struct obj *find_by(const struct obj *a,
                           const char *key,
                           const char *value)
{
    for (size_t i = 0; i < obj_array_len(a); i++) {
        struct obj *x = obj_array_get(a, i);
        const char *v = obj_str_or(obj_map_get(x, key), NULL);

        if (v != NULL && strcmp(v, value) == 0)
            return x;
    }
    return NULL;
}

static void assert_json_eq(const struct obj *got, const char *want)
{
    struct obj_buf b;

    if (obj_equal(got, json(want)))
        return;
    obj_buf_init(&b);
    (void)obj_json_encode(got, 0, &b, NULL);
    unit_fail(__FILE__, __LINE__, "got %s\nwant %s", b.data, want);
}

/* ---- negotiation -------------------------------------------------------*/

static void assert_form(const struct srv_discovery *d,
                        const char *path,
                        const char *accept,
                        int status,
                        const char *ct)
{
    struct srv_disc_reply rep;

    srv_discovery_lookup(d, path, accept, NULL, &rep);
    ASSERT_MSG(rep.status == status, "%s [%s]: %d", path,
               accept ? accept : "(none)", rep.status);
    if (ct != NULL)
        ASSERT_STR_EQ(rep.content_type, ct);
}

TEST(discovery, kubectl_headers)
{
    struct srv_discovery *d = disc_new();
    static const char *const roots[] = {"/api", "/apis"};

    for (int i = 0; i < 2; i++) {
        ASSERT_STR_EQ(
            s(get(d, roots[i], ACCEPT_1_30_UP, SRV_DISC_CT_V2), "apiVersion"),
            "apidiscovery.k8s.io/v2");
        ASSERT_STR_EQ(
            s(get(d, roots[i], ACCEPT_1_27_TO_1_29, SRV_DISC_CT_V2BETA1),
              "apiVersion"),
            "apidiscovery.k8s.io/v2beta1");
        assert_form(d, roots[i], ACCEPT_LEGACY, 200, SRV_DISC_CT_JSON);
    }
    /* Legacy discovery of each group-version. */
    assert_form(d, "/api/v1", ACCEPT_LEGACY, 200, SRV_DISC_CT_JSON);
    assert_form(d, "/apis/apps/v1", ACCEPT_LEGACY, 200, SRV_DISC_CT_JSON);
    /* kubectl's discovery header on a group-version: the plain form. */
    assert_form(d, "/apis/apps/v1", ACCEPT_1_30_UP, 200, SRV_DISC_CT_JSON);
}

TEST(discovery, accept_variants)
{
    struct srv_discovery *d = disc_new();

    assert_form(d, "/apis", NULL, 200, SRV_DISC_CT_JSON);
    assert_form(d, "/apis", "", 200, SRV_DISC_CT_JSON);
    assert_form(d, "/apis", "*/*", 200, SRV_DISC_CT_JSON);
    assert_form(d, "/apis", "application/*", 200, SRV_DISC_CT_JSON);
    assert_form(d, "/apis",
                "application/vnd.kubernetes.protobuf,"
                "application/json",
                200, SRV_DISC_CT_JSON);
    /* Quality beats order. */
    assert_form(d, "/apis",
                "application/json;q=0.5, application/json;"
                "g=apidiscovery.k8s.io;v=v2;"
                "as=APIGroupDiscoveryList",
                200, SRV_DISC_CT_V2);
    /* Case-insensitive type and parameter names, quoted values. */
    assert_form(d, "/apis",
                "Application/JSON; G=\"apidiscovery.k8s.io\"; "
                "V=v2beta1; AS=APIGroupDiscoveryList",
                200, SRV_DISC_CT_V2BETA1);
    /* Unknown parameters are ignored. */
    assert_form(d, "/apis", "application/json;charset=utf-8", 200,
                SRV_DISC_CT_JSON);
    /* Nothing acceptable. */
    assert_form(d, "/apis", "application/xml", 406, NULL);
    assert_form(d, "/apis", "application/json;q=0", 406, NULL);
    assert_form(d, "/apis",
                "application/json;g=apidiscovery.k8s.io;v=v3;"
                "as=APIGroupDiscoveryList",
                406, NULL);
    assert_form(d, "/apis", "application/json;as=Table;v=v1;g=meta.k8s.io", 406,
                NULL);
    /* Aggregated forms exist only for /api and /apis. */
    assert_form(d, "/api/v1",
                "application/json;g=apidiscovery.k8s.io;v=v2;"
                "as=APIGroupDiscoveryList",
                406, NULL);
}

TEST(discovery, not_found_and_not_mine)
{
    struct srv_discovery *d = disc_new();
    static const char *const missing[] = {
        "/api/v2",
        "/apis/apps/v2",
        "/apis/nosuch",
        "/apis/nosuch/v1",
    };
    static const char *const other[] = {
        "/api/v1/pods",
        "/apis/apps/v1/deployments",
        "/healthz",
        "/apis/",
        "/api/",
        "/apix",
        "/apisx",
        "/apis//v1",
        "/apis/apps/",
        "",
        "/api/v1/namespaces/default/pods",
    };
    struct srv_disc_reply rep;

    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        srv_discovery_lookup(d, missing[i], NULL, NULL, &rep);
        ASSERT_MSG(rep.status == 404, "%s: %d", missing[i], rep.status);
        ASSERT_STR_EQ(rep.reason, "NotFound");
        ASSERT(rep.body == NULL);
    }
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        srv_discovery_lookup(d, other[i], NULL, NULL, &rep);
        ASSERT_MSG(rep.status == 0, "%s: %d", other[i], rep.status);
    }
    srv_discovery_lookup(d, "/apis", "text/html", NULL, &rep);
    ASSERT_EQ(rep.status, 406);
    ASSERT_STR_EQ(rep.reason, "NotAcceptable");
    ASSERT_STR_CONTAINS(rep.message, SRV_DISC_CT_V2BETA1);
}

/* ---- shapes
 * ----------------------------------------------------------------*/

/* The fields kubectl needs in every aggregated resource entry. */
static void assert_agg_resource(const struct obj *r, const char *group)
{
    const char *scope = s(r, "scope");

    ASSERT(s(r, "resource") != NULL);
    ASSERT(s(r, "singularResource") != NULL);
    ASSERT(s(r, "responseKind.kind") != NULL);
    ASSERT_STR_EQ(s(r, "responseKind.group"), group);
    ASSERT_STR_EQ(s(r, "responseKind.version"), "v1");
    ASSERT(scope != NULL &&
           (strcmp(scope, "Namespaced") == 0 || strcmp(scope, "Cluster") == 0));
    ASSERT(obj_array_len(obj_map_get(r, "verbs")) > 0);
    for (size_t i = 0; i < obj_array_len(obj_map_get(r, "subresources")); i++) {
        struct obj *sub = obj_array_get(obj_map_get(r, "subresources"), i);

        ASSERT(s(sub, "subresource") != NULL);
        ASSERT(s(sub, "responseKind.kind") != NULL);
        /* get, patch, update; a namespace's finalize is update only, a
         * ServiceAccount's token create only. */
        ASSERT_EQ(obj_array_len(obj_map_get(sub, "verbs")),
                  strcmp(s(sub, "subresource"), "finalize") == 0 ||
                          strcmp(s(sub, "subresource"), "token") == 0
                      ? 1
                      : 3);
    }
}

TEST(discovery, aggregated_apis)
{
    struct srv_discovery *d = disc_new();
    struct obj *list = get(d, "/apis", ACCEPT_1_30_UP, SRV_DISC_CT_V2);
    struct obj *items = obj_map_get(list, "items");
    static const char *const order[] = {
        "apps",           "events.k8s.io",        "authorization.k8s.io",
        "batch",          "rbac.authorization.k8s.io",
        "storage.k8s.io", "apiextensions.k8s.io", "coordination.k8s.io",
        "discovery.k8s.io",
    };

    ASSERT_STR_EQ(s(list, "kind"), "APIGroupDiscoveryList");
    ASSERT_EQ(obj_type(obj_map_get(list, "metadata")), OBJ_MAP);
    ASSERT_EQ(obj_array_len(items), sizeof order / sizeof order[0]);
    for (size_t i = 0; i < obj_array_len(items); i++) {
        struct obj *g = obj_array_get(items, i);
        struct obj *v = obj_get(g, "versions", "0", NULL);

        ASSERT_STR_EQ(s(g, "metadata.name"), order[i]);
        ASSERT_EQ(obj_array_len(obj_map_get(g, "versions")), 1);
        ASSERT_STR_EQ(s(v, "version"), "v1");
        ASSERT_STR_EQ(s(v, "freshness"), "Current");
        for (size_t k = 0; k < obj_array_len(obj_map_get(v, "resources")); k++)
            assert_agg_resource(obj_array_get(obj_map_get(v, "resources"), k),
                                order[i]);
    }
    /* The deployments entry exactly as KUBECTL-WIRE.md 2.2 shows it. */
    assert_json_eq(
        find_by(obj_get(items, "0", "versions", "0", "resources", NULL),
                "resource", "deployments"),
        "{\"resource\":\"deployments\","
        "\"responseKind\":{\"group\":\"apps\",\"version\":\"v1\","
        "\"kind\":\"Deployment\"},"
        "\"scope\":\"Namespaced\",\"singularResource\":\"deployment\","
        "\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\","
        "\"list\",\"patch\",\"update\",\"watch\"],"
        "\"shortNames\":[\"deploy\"],\"categories\":[\"all\"],"
        "\"subresources\":["
        "{\"subresource\":\"scale\",\"responseKind\":{\"group\":"
        "\"autoscaling\",\"version\":\"v1\",\"kind\":\"Scale\"},"
        "\"verbs\":[\"get\",\"patch\",\"update\"]},"
        "{\"subresource\":\"status\",\"responseKind\":{\"group\":\"apps\","
        "\"version\":\"v1\",\"kind\":\"Deployment\"},"
        "\"verbs\":[\"get\",\"patch\",\"update\"]}]}");
}

TEST(discovery, aggregated_api_core)
{
    struct srv_discovery *d = disc_new();
    struct obj *list = get(d, "/api", ACCEPT_1_30_UP, SRV_DISC_CT_V2);
    struct obj *beta = get(d, "/api", ACCEPT_1_27_TO_1_29, SRV_DISC_CT_V2BETA1);
    struct obj *res =
        obj_get(list, "items", "0", "versions", "0", "resources", NULL);
    struct obj *pods = find_by(res, "resource", "pods");
    struct obj *copy;

    ASSERT_EQ(obj_array_len(obj_map_get(list, "items")), 1);
    ASSERT_STR_EQ(s(list, "items.0.metadata.name"), "");
    ASSERT_STR_EQ(s(list, "items.0.versions.0.version"), "v1");
    ASSERT_EQ(obj_array_len(res), 13); /* core/v1 kinds, LimitRange and ResourceQuota included */
    for (size_t i = 0; i < obj_array_len(res); i++)
        assert_agg_resource(obj_array_get(res, i), "");
    assert_json_eq(obj_map_get(pods, "shortNames"), "[\"po\"]");
    assert_json_eq(obj_map_get(pods, "categories"), "[\"all\"]");
    ASSERT_STR_EQ(s(pods, "scope"), "Namespaced");
    ASSERT_STR_EQ(s(find_by(res, "resource", "nodes"), "scope"), "Cluster");
    /* No empty lists: secrets have no short name, configmaps no category. */
    ASSERT(obj_map_get(find_by(res, "resource", "secrets"), "shortNames") ==
           NULL);
    ASSERT(obj_map_get(find_by(res, "resource", "configmaps"), "categories") ==
           NULL);
    ASSERT(obj_map_get(find_by(res, "resource", "configmaps"),
                       "subresources") == NULL);
    /* v2beta1 is the same document under another apiVersion. */
    copy = obj_copy(beta);
    ASSERT(copy != NULL);
    ASSERT_EQ(obj_map_set(copy, "apiVersion",
                          obj_str_new_c("apidiscovery.k8s.io/v2")),
              0);
    ASSERT(obj_equal(copy, list));
    obj_unref(copy);
}

TEST(discovery, legacy_api_and_apis)
{
    struct srv_discovery *d = disc_new();
    struct obj *groups;

    assert_json_eq(get(d, "/api", ACCEPT_LEGACY, SRV_DISC_CT_JSON),
                   "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],"
                   "\"serverAddressByClientCIDRs\":[{\"clientCIDR\":"
                   "\"0.0.0.0/0\",\"serverAddress\":\"10.0.0.1:6443\"}]}");
    groups = obj_map_get(get(d, "/apis", "application/json", SRV_DISC_CT_JSON),
                         "groups");
    ASSERT_EQ(obj_array_len(groups), 9);
    assert_json_eq(obj_array_get(groups, 0),
                   "{\"name\":\"apps\",\"versions\":[{\"groupVersion\":"
                   "\"apps/v1\",\"version\":\"v1\"}],\"preferredVersion\":"
                   "{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}}");
    ASSERT_STR_EQ(s(obj_array_get(groups, 1), "name"), "events.k8s.io");
    assert_json_eq(get(d, "/apis/batch", NULL, SRV_DISC_CT_JSON),
                   "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\","
                   "\"name\":\"batch\",\"versions\":[{\"groupVersion\":"
                   "\"batch/v1\",\"version\":\"v1\"}],\"preferredVersion\":"
                   "{\"groupVersion\":\"batch/v1\",\"version\":\"v1\"}}");
}

TEST(discovery, legacy_api_without_address)
{
    struct srv_discovery *d = NULL;
    struct srv_disc_reply rep;

    ASSERT_EQ(srv_discovery_new(reg_new(), NULL, &d, NULL), 0);
    unit_defer(free_discovery, d);
    srv_discovery_lookup(d, "/api", NULL, NULL, &rep);
    ASSERT_EQ(rep.status, 200);
    ASSERT_STR_CONTAINS((const char *)rep.body->data,
                        "\"serverAddressByClientCIDRs\":[]");
}

TEST(discovery, legacy_resource_lists)
{
    struct srv_discovery *d = disc_new();
    struct obj *apps = get(d, "/apis/apps/v1", ACCEPT_LEGACY, SRV_DISC_CT_JSON);
    struct obj *core = get(d, "/api/v1", ACCEPT_LEGACY, SRV_DISC_CT_JSON);
    struct obj *res = obj_map_get(apps, "resources");

    ASSERT_STR_EQ(s(apps, "kind"), "APIResourceList");
    ASSERT_STR_EQ(s(apps, "apiVersion"), "v1");
    ASSERT_STR_EQ(s(apps, "groupVersion"), "apps/v1");
    ASSERT_STR_EQ(s(core, "groupVersion"), "v1");
    /* Entries as KUBECTL-WIRE.md 2.3 shows them. */
    assert_json_eq(find_by(res, "name", "deployments"),
                   "{\"name\":\"deployments\",\"singularName\":\"deployment\","
                   "\"namespaced\":true,\"kind\":\"Deployment\",\"verbs\":"
                   "[\"create\",\"delete\",\"deletecollection\",\"get\","
                   "\"list\",\"patch\",\"update\",\"watch\"],"
                   "\"shortNames\":[\"deploy\"],\"categories\":[\"all\"]}");
    assert_json_eq(find_by(res, "name", "deployments/scale"),
                   "{\"name\":\"deployments/scale\",\"singularName\":\"\","
                   "\"namespaced\":true,\"group\":\"autoscaling\","
                   "\"version\":\"v1\",\"kind\":\"Scale\",\"verbs\":"
                   "[\"get\",\"patch\",\"update\"]}");
    assert_json_eq(find_by(res, "name", "deployments/status"),
                   "{\"name\":\"deployments/status\",\"singularName\":\"\","
                   "\"namespaced\":true,\"kind\":\"Deployment\",\"verbs\":"
                   "[\"get\",\"patch\",\"update\"]}");
    /* Names sorted, each subresource right after its resource. */
    res = obj_map_get(core, "resources");
    for (size_t i = 1; i < obj_array_len(res); i++)
        ASSERT(strcmp(s(obj_array_get(res, i - 1), "name"),
                      s(obj_array_get(res, i), "name")) < 0);
    ASSERT_EQ(obj_bool_or(obj_map_get(find_by(res, "name", "nodes/status"),
                                      "namespaced"),
                          true),
              false);
    ASSERT(find_by(res, "name", "pods/status") != NULL);
    ASSERT_STR_EQ(s(find_by(res, "name", "namespaces"), "verbs.2"), "get");
}

/* The item of aggregated list @list for group @name. */
static struct obj *agg_item(const struct obj *list, const char *name)
{
    struct obj *items = obj_map_get(list, "items");

    for (size_t i = 0; i < obj_array_len(items); i++)
        if (strcmp(s(obj_array_get(items, i), "metadata.name"), name) == 0)
            return obj_array_get(items, i);
    return NULL;
}

/* Every registry resource appears in both forms with the same facts. */
TEST(discovery, forms_agree_with_registry)
{
    struct obj_registry *r = reg_new();
    struct srv_discovery *d = NULL;
    struct obj *apis, *api;

    ASSERT_EQ(srv_discovery_new(r, NULL, &d, NULL), 0);
    unit_defer(free_discovery, d);
    apis = get(d, "/apis", ACCEPT_1_30_UP, SRV_DISC_CT_V2);
    api = get(d, "/api", ACCEPT_1_30_UP, SRV_DISC_CT_V2);
    for (size_t gi = 0; gi < obj_registry_n_groups(r); gi++) {
        const struct obj_api_group *g = obj_registry_group(r, gi);
        const struct obj_api_version *v = &g->versions[0];
        bool core = g->name[0] == '\0';
        struct obj *agg = agg_item(core ? api : apis, g->name);
        struct obj *legacy;
        char path[128];

        if (core)
            (void)snprintf(path, sizeof path, "/api/v1");
        else
            (void)snprintf(path, sizeof path, "/apis/%s/v1", g->name);
        ASSERT(agg != NULL);
        legacy = obj_map_get(get(d, path, NULL, SRV_DISC_CT_JSON), "resources");
        for (size_t i = 0; i < v->n_resources; i++) {
            const struct obj_resource *x = v->resources[i];
            struct obj *a =
                find_by(obj_get(agg, "versions", "0", "resources", NULL),
                        "resource", x->resource);
            struct obj *l = find_by(legacy, "name", x->resource);

            ASSERT(a != NULL && l != NULL);
            ASSERT(obj_equal(obj_map_get(a, "verbs"), obj_map_get(l, "verbs")));
            ASSERT_STR_EQ(s(a, "responseKind.kind"), s(l, "kind"));
            ASSERT_EQ(strcmp(s(a, "scope"), "Namespaced") == 0,
                      obj_bool_or(obj_map_get(l, "namespaced"), false));
        }
    }
}

/* ---- ETag
 * ------------------------------------------------------------------*/

TEST(discovery, etag_and_304)
{
    struct srv_discovery *d = disc_new(), *d2 = NULL;
    struct srv_disc_reply v2, beta, legacy, rep, again;
    char inm[128];

    srv_discovery_lookup(d, "/apis", ACCEPT_1_30_UP, NULL, &v2);
    srv_discovery_lookup(d, "/apis", ACCEPT_1_27_TO_1_29, NULL, &beta);
    srv_discovery_lookup(d, "/apis", NULL, NULL, &legacy);
    ASSERT_EQ(strlen(v2.etag), 18);
    ASSERT(v2.etag[0] == '"' && v2.etag[17] == '"');
    ASSERT(strcmp(v2.etag, beta.etag) != 0);
    ASSERT(strcmp(v2.etag, legacy.etag) != 0);
    ASSERT_STR_CONTAINS(v2.headers, "ETag: ");
    ASSERT_STR_CONTAINS(v2.headers, v2.etag);
    ASSERT_STR_CONTAINS(v2.headers, "\r\nVary: Accept\r\n");

    srv_discovery_lookup(d, "/apis", ACCEPT_1_30_UP, v2.etag, &rep);
    ASSERT_EQ(rep.status, 304);
    ASSERT(rep.body == NULL);
    ASSERT_STR_EQ(rep.etag, v2.etag);
    ASSERT_STR_EQ(rep.content_type, SRV_DISC_CT_V2);
    ASSERT_STR_EQ(rep.headers, v2.headers);

    (void)snprintf(inm, sizeof inm, "W/%s", v2.etag);
    srv_discovery_lookup(d, "/apis", ACCEPT_1_30_UP, inm, &rep);
    ASSERT_EQ(rep.status, 304);
    (void)snprintf(inm, sizeof inm, "\"0000\", %s", v2.etag);
    srv_discovery_lookup(d, "/apis", ACCEPT_1_30_UP, inm, &rep);
    ASSERT_EQ(rep.status, 304);
    srv_discovery_lookup(d, "/apis", ACCEPT_1_30_UP, "*", &rep);
    ASSERT_EQ(rep.status, 304);
    srv_discovery_lookup(d, "/apis", ACCEPT_1_30_UP, "\"0000\"", &rep);
    ASSERT_EQ(rep.status, 200);
    /* A prefix of the tag is not the tag. */
    (void)snprintf(inm, sizeof inm, "%.10s", v2.etag);
    srv_discovery_lookup(d, "/apis", ACCEPT_1_30_UP, inm, &rep);
    ASSERT_EQ(rep.status, 200);
    /* The v2 tag does not revalidate the v2beta1 form. */
    srv_discovery_lookup(d, "/apis", ACCEPT_1_27_TO_1_29, v2.etag, &rep);
    ASSERT_EQ(rep.status, 200);

    /* Same registry, same bytes, same tag (kubectl's cache survives a
     * restart). */
    ASSERT_EQ(srv_discovery_new(reg_new(), "10.0.0.1:6443", &d2, NULL), 0);
    unit_defer(free_discovery, d2);
    srv_discovery_lookup(d2, "/apis", ACCEPT_1_30_UP, NULL, &again);
    ASSERT_STR_EQ(again.etag, v2.etag);
    ASSERT(again.body != v2.body);
    ASSERT_EQ(again.body->len, v2.body->len);
    ASSERT_MEM_EQ(again.body->data, v2.body->data, v2.body->len);
}

TEST(discovery, out_of_memory)
{
    struct obj_registry *r = reg_new();
    int k;

    /* Every early allocation, then a spread over the rest of the build
     * (failing each of the thousands in turn would be slow). */
    for (k = 0;; k += k < 64 ? 1 : k / 16) {
        struct srv_discovery *d = NULL;
        int rc;

        mem_fault_arm(k, 1);
        rc = srv_discovery_new(r, "10.0.0.1:6443", &d, NULL);
        mem_fault_arm(-1, 0);
        if (rc == 0) {
            srv_discovery_free(d);
            break;
        }
        ASSERT_EQ(rc, -ENOMEM);
        ASSERT(d == NULL);
    }
    ASSERT(k > 100);
}

/* ---- the Accept parser -------------------------------------------------*/

TEST(accept, parse)
{
    struct srv_media_range m[SRV_ACCEPT_MAX];
    size_t n;

    n = srv_accept_parse(ACCEPT_1_30_UP, m, SRV_ACCEPT_MAX);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(m[0].version, "v2");
    ASSERT_STR_EQ(m[1].version, "v2beta1");
    ASSERT_STR_EQ(m[1].group, "apidiscovery.k8s.io");
    ASSERT_STR_EQ(m[1].as, "APIGroupDiscoveryList");
    ASSERT_STR_EQ(m[2].type, "application");
    ASSERT_STR_EQ(m[2].subtype, "json");
    ASSERT_STR_EQ(m[2].as, "");
    ASSERT_EQ(m[2].q, 1000);

    /* Sorted by q, stable; q=0 and bad q dropped. */
    n = srv_accept_parse(
        "a/1;q=0.5, b/2, c/3;q=0.500, d/4;q=0, e/5;q=1.5,"
        " f/6;q=abc, g/7;q=0.8, h/8;q=1.000",
        m, SRV_ACCEPT_MAX);
    ASSERT_EQ(n, 5);
    ASSERT_STR_EQ(m[0].type, "b");
    ASSERT_STR_EQ(m[1].type, "h");
    ASSERT_STR_EQ(m[2].type, "g");
    ASSERT_EQ(m[2].q, 800);
    ASSERT_STR_EQ(m[3].type, "a");
    ASSERT_STR_EQ(m[4].type, "c");

    /* Malformed ranges are skipped, the rest kept. */
    n = srv_accept_parse(
        "application, /json, */json, text/, a/b;x, a/b;=1, "
        "x/y;g=\"q\\\"uo\", a/b;g=\"unterminated, c/d",
        m, SRV_ACCEPT_MAX);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(m[0].group, "q\"uo");

    ASSERT_EQ(srv_accept_parse(NULL, m, SRV_ACCEPT_MAX), 0);
    ASSERT_EQ(srv_accept_parse(" , ,", m, SRV_ACCEPT_MAX), 0);
    ASSERT_EQ(srv_accept_parse("a/b,c/d,e/f", m, 2), 2);
}

TEST(accept, long_tokens_skipped)
{
    char buf[512];
    struct srv_media_range m[SRV_ACCEPT_MAX];

    memset(buf, 'x', sizeof buf);
    memcpy(buf, "a/", 2);
    memcpy(buf + 300, ",b/c", 4);
    buf[304] = '\0';
    ASSERT_EQ(srv_accept_parse(buf, m, SRV_ACCEPT_MAX), 1);
    ASSERT_STR_EQ(m[0].type, "b");
}

TEST(accept, negotiate)
{
    static const struct srv_media_offer offers[] = {
        {"application", "json", "", "", ""},
        {"application", "json", "meta.k8s.io", "v1", "Table"},
    };

    ASSERT_EQ(srv_accept_negotiate(NULL, offers, 2), 0);
    ASSERT_EQ(srv_accept_negotiate("application/json;as=Table;v=v1;"
                                   "g=meta.k8s.io,application/json",
                                   offers, 2),
              1);
    ASSERT_EQ(srv_accept_negotiate("application/json;as=Table;v=v1beta1;"
                                   "g=meta.k8s.io",
                                   offers, 2),
              -1);
    ASSERT_EQ(srv_accept_negotiate("text/plain, */*", offers, 2), 0);
    ASSERT_EQ(srv_accept_negotiate("text/plain", offers, 2), -1);
    ASSERT_EQ(srv_accept_negotiate(NULL, offers, 0), -1);
}

UNIT_MAIN()
