/* Request paths and query strings of the Kubernetes API. */
#include <errno.h>

#include "api/server/route.h"
#include "tests/lib/unit.h"

static struct srv_route parse_ok(const char *path)
{
    struct srv_route r;

    ASSERT_MSG(srv_route_parse(path, &r) == 0, "%s did not parse", path);
    return r;
}

TEST(route, discovery_paths)
{
    ASSERT_EQ(parse_ok("/api").kind, SRV_ROUTE_API);
    ASSERT_EQ(parse_ok("/apis").kind, SRV_ROUTE_APIS);
    ASSERT_EQ(parse_ok("/apis/apps").kind, SRV_ROUTE_GROUP);
    struct srv_route r = parse_ok("/api/v1");
    ASSERT_EQ(r.kind, SRV_ROUTE_VERSION);
    ASSERT_STR_EQ(r.group, "");
    ASSERT_STR_EQ(r.version, "v1");
    r = parse_ok("/apis/apps/v1/");
    ASSERT_EQ(r.kind, SRV_ROUTE_VERSION);
    ASSERT_STR_EQ(r.group, "apps");
    ASSERT_EQ(parse_ok("/healthz").kind, SRV_ROUTE_NONE);
}

TEST(route, namespaced_objects_and_subresources)
{
    struct srv_route r = parse_ok("/api/v1/namespaces/default/pods/web-1/status");

    ASSERT_EQ(r.kind, SRV_ROUTE_RESOURCE);
    ASSERT(r.has_ns);
    ASSERT_STR_EQ(r.ns, "default");
    ASSERT_STR_EQ(r.resource, "pods");
    ASSERT_STR_EQ(r.name, "web-1");
    ASSERT_STR_EQ(r.sub, "status");
    r = parse_ok("/apis/apps/v1/namespaces/x/deployments");
    ASSERT_STR_EQ(r.group, "apps");
    ASSERT_STR_EQ(r.resource, "deployments");
    ASSERT_STR_EQ(r.name, "");
    r = parse_ok("/api/v1/pods");
    ASSERT(!r.has_ns);
    ASSERT_STR_EQ(r.resource, "pods");
}

TEST(route, namespaces_are_a_resource_too)
{
    struct srv_route r = parse_ok("/api/v1/namespaces");

    ASSERT_STR_EQ(r.resource, "namespaces");
    ASSERT(!r.has_ns);
    r = parse_ok("/api/v1/namespaces/kube-system");
    ASSERT_STR_EQ(r.resource, "namespaces");
    ASSERT_STR_EQ(r.name, "kube-system");
    r = parse_ok("/api/v1/namespaces/kube-system/finalize");
    ASSERT_STR_EQ(r.resource, "namespaces");
    ASSERT_STR_EQ(r.sub, "finalize");
    r = parse_ok("/api/v1/namespaces/a/configmaps");
    ASSERT_STR_EQ(r.ns, "a");
    ASSERT_STR_EQ(r.resource, "configmaps");
}

TEST(route, legacy_watch_prefix)
{
    struct srv_route r = parse_ok("/api/v1/watch/namespaces/a/pods");

    ASSERT(r.legacy_watch);
    ASSERT_STR_EQ(r.resource, "pods");
}

TEST(route, malformed_paths_are_refused)
{
    struct srv_route r;

    ASSERT_EQ(srv_route_parse("/api/v1/namespaces/../pods", &r), -EINVAL);
    ASSERT_EQ(srv_route_parse("/api//v1", &r), -EINVAL);
    ASSERT_EQ(srv_route_parse("/api/v1/pods/a%2Fb", &r), -EINVAL);
    ASSERT_EQ(srv_route_parse("/api/v1/pods/a%zz", &r), -EINVAL);
    ASSERT_EQ(srv_route_parse("/api/v1/pods/a%00", &r), -EINVAL);
    ASSERT_EQ(srv_route_parse("/api/v1/a/b/c/d/e/f/g/h/i", &r), -EINVAL);
    ASSERT_EQ(srv_route_parse("relative", &r), -EINVAL);
    ASSERT_EQ(srv_route_parse("/api/v1/watch", &r), -EINVAL);
}

TEST(route, query_parameters)
{
    char v[64];
    bool too_long;

    ASSERT(srv_query_get("labelSelector=app%3Dweb%2Ctier+in+(a)&limit=5",
                         "labelSelector", v, sizeof v, NULL));
    ASSERT_STR_EQ(v, "app=web,tier in (a)");
    ASSERT(srv_query_get("watch&limit=5", "watch", v, sizeof v, NULL));
    ASSERT_STR_EQ(v, "");
    ASSERT(!srv_query_get("limit=5", "continue", v, sizeof v, NULL));
    ASSERT(!srv_query_get("a=%zz", "a", v, sizeof v, NULL));
    ASSERT(!srv_query_get("a=0123456789", "a", v, 4, &too_long));
    ASSERT(too_long);
}

UNIT_MAIN()
