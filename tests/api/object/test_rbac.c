/* RBAC decisions (api/object/rbac.c), as kube-apiserver's authorizer makes
 * them. */
#include <string.h>

#include "api/object/codec.h"
#include "api/object/rbac.h"
#include "tests/lib/unit.h"

static struct obj_rbac *r;

static void add(const char *kind, const char *json)
{
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_json_decode(json, strlen(json), NULL, &o, &e) == 0, "%s",
               e.msg);
    ASSERT_EQ(obj_rbac_add(r, kind, o), 0);
    obj_unref(o);
}

static void free_rbac(void *p)
{
    obj_rbac_free(p);
}

static void setup(void)
{
    r = obj_rbac_new();
    ASSERT(r != NULL);
    unit_defer(free_rbac, r);
    add("ClusterRole", "{\"metadata\":{\"name\":\"pod-reader\",\"labels\":{"
                       "\"agg\":\"yes\"}},\"rules\":[{\"apiGroups\":[\"\"],"
                       "\"resources\":[\"pods\",\"pods/log\"],\"verbs\":["
                       "\"get\",\"list\",\"watch\"]}]}");
    add("ClusterRole", "{\"metadata\":{\"name\":\"one-cm\",\"labels\":{"
                       "\"agg\":\"yes\"}},\"rules\":[{\"apiGroups\":[\"\"],"
                       "\"resources\":[\"configmaps\"],\"resourceNames\":["
                       "\"cfg\"],\"verbs\":[\"get\",\"update\",\"list\"]}]}");
    add("ClusterRole", "{\"metadata\":{\"name\":\"aggregated\"},"
                       "\"aggregationRule\":{\"clusterRoleSelectors\":[{"
                       "\"matchLabels\":{\"agg\":\"yes\"}}]}}");
    add("ClusterRole", "{\"metadata\":{\"name\":\"health\"},\"rules\":[{"
                       "\"nonResourceURLs\":[\"/healthz\",\"/apis/*\"],"
                       "\"verbs\":[\"get\"]}]}");
    add("ClusterRole", "{\"metadata\":{\"name\":\"status-all\"},\"rules\":[{"
                       "\"apiGroups\":[\"*\"],\"resources\":[\"*/status\","
                       "\"deployments/*\"],\"verbs\":[\"*\"]}]}");
    add("Role", "{\"metadata\":{\"name\":\"secrets\",\"namespace\":\"a\"},"
                "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"secrets\"],"
                "\"verbs\":[\"get\"]}]}");
    add("RoleBinding", "{\"metadata\":{\"name\":\"b1\",\"namespace\":\"a\"},"
                       "\"subjects\":[{\"kind\":\"User\",\"name\":\"u\"}],"
                       "\"roleRef\":{\"kind\":\"Role\",\"name\":\"secrets\"}}");
    add("RoleBinding", "{\"metadata\":{\"name\":\"b2\",\"namespace\":\"b\"},"
                       "\"subjects\":[{\"kind\":\"Group\",\"name\":\"g\"}],"
                       "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":"
                       "\"aggregated\"}}");
    /* A RoleBinding naming a Role of another namespace grants nothing. */
    add("RoleBinding", "{\"metadata\":{\"name\":\"b3\",\"namespace\":\"c\"},"
                       "\"subjects\":[{\"kind\":\"User\",\"name\":\"u\"}],"
                       "\"roleRef\":{\"kind\":\"Role\",\"name\":\"secrets\"}}");
    add("ClusterRoleBinding", "{\"metadata\":{\"name\":\"c1\"},\"subjects\":["
                              "{\"kind\":\"ServiceAccount\",\"namespace\":"
                              "\"kube-system\",\"name\":\"ctl\"},{\"kind\":"
                              "\"User\",\"name\":\"h\"}],\"roleRef\":{\"kind\":"
                              "\"ClusterRole\",\"name\":\"health\"}}");
    add("ClusterRoleBinding", "{\"metadata\":{\"name\":\"c2\"},\"subjects\":["
                              "{\"kind\":\"User\",\"name\":\"s\"}],\"roleRef\":"
                              "{\"kind\":\"ClusterRole\",\"name\":"
                              "\"status-all\"}}");
    /* A ServiceAccount subject without a namespace is the binding's;
     * a binding naming one subject twice, or user and group, counts once. */
    add("RoleBinding", "{\"metadata\":{\"name\":\"b4\",\"namespace\":\"a\"},"
                       "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":"
                       "\"bot\"},{\"kind\":\"User\",\"name\":\"twice\"},"
                       "{\"kind\":\"User\",\"name\":\"twice\"},{\"kind\":"
                       "\"Group\",\"name\":\"tg\"}],\"roleRef\":{\"kind\":"
                       "\"Role\",\"name\":\"secrets\"}}");
    ASSERT_EQ(obj_rbac_finish(r), 0);
}

static bool can(const char *user, const char *group, const char *verb,
                const char *api_group, const char *res, const char *sub,
                const char *name, const char *ns)
{
    const char *groups[1] = {group};
    struct obj_rbac_attrs a = {
        .user = user, .groups = groups, .n_groups = group != NULL,
        .verb = verb, .resource_request = true, .api_group = api_group,
        .resource = res, .subresource = sub, .name = name, .ns = ns};

    return obj_rbac_allows(r, &a);
}

static bool can_path(const char *user, const char *verb, const char *path)
{
    struct obj_rbac_attrs a = {.user = user, .verb = verb, .path = path,
                               .ns = ""};

    return obj_rbac_allows(r, &a);
}

TEST(rbac, a_role_binding_grants_in_its_namespace_only)
{
    setup();
    ASSERT(can("u", NULL, "get", "", "secrets", "", "s", "a"));
    ASSERT(!can("u", NULL, "list", "", "secrets", "", "", "a"));
    ASSERT(!can("u", NULL, "get", "", "secrets", "", "s", "b"));
    ASSERT(!can("u", NULL, "get", "", "secrets", "", "s", "c"));
    ASSERT(!can("u", NULL, "get", "", "secrets", "", "s", ""));
    ASSERT(!can("v", NULL, "get", "", "secrets", "", "s", "a"));
}

TEST(rbac, groups_aggregation_and_resource_names)
{
    setup();
    ASSERT(can("x", "g", "list", "", "pods", "", "", "b"));
    ASSERT(can("x", "g", "get", "", "pods", "log", "p", "b"));
    ASSERT(!can("x", "g", "get", "", "pods", "exec", "p", "b"));
    ASSERT(!can("x", "g", "delete", "", "pods", "", "p", "b"));
    ASSERT(!can("x", "g", "list", "", "pods", "", "", "a"));
    ASSERT(!can("x", "other", "list", "", "pods", "", "", "b"));
    /* resourceNames: that object only, and never a list or create. */
    ASSERT(can("x", "g", "get", "", "configmaps", "", "cfg", "b"));
    ASSERT(can("x", "g", "update", "", "configmaps", "", "cfg", "b"));
    ASSERT(!can("x", "g", "get", "", "configmaps", "", "other", "b"));
    ASSERT(!can("x", "g", "list", "", "configmaps", "", "", "b"));
}

TEST(rbac, subresource_stars_and_api_groups)
{
    setup();
    ASSERT(can("s", NULL, "update", "apps", "deployments", "status", "d", "n"));
    ASSERT(can("s", NULL, "patch", "", "pods", "status", "p", "n"));
    /* deployments then slash and star is no pattern in Kubernetes. */
    ASSERT(!can("s", NULL, "get", "apps", "deployments", "scale", "d", ""));
    ASSERT(!can("s", NULL, "get", "apps", "deployments", "", "d", "n"));
    ASSERT(!can("s", NULL, "get", "", "pods", "log", "p", "n"));
}

TEST(rbac, paths_and_service_accounts)
{
    setup();
    ASSERT(can_path("h", "get", "/healthz"));
    ASSERT(can_path("h", "get", "/apis/apps/v1"));
    ASSERT(!can_path("h", "get", "/apis"));
    ASSERT(!can_path("h", "post", "/healthz"));
    ASSERT(!can_path("h", "get", "/metrics"));
    ASSERT(can_path("system:serviceaccount:kube-system:ctl", "get",
                    "/healthz"));
    ASSERT(!can_path("system:serviceaccount:default:ctl", "get", "/healthz"));
    /* A namespace in the attributes does not let RoleBindings grant paths. */
    struct obj_rbac_attrs a = {.user = "u", .verb = "get", .path = "/healthz",
                               .ns = "a"};
    ASSERT(!obj_rbac_allows(r, &a));
}

TEST(rbac, the_rules_of_a_user)
{
    struct obj *rules = obj_array_new();
    const char *groups[1] = {"g"};
    struct obj_rbac_attrs a = {.user = "u", .groups = groups, .n_groups = 1,
                               .ns = "b"};

    setup();
    ASSERT_EQ(obj_rbac_rules_for(r, &a, rules), 0);
    ASSERT_EQ(obj_array_len(rules), 2); /* pod-reader's and one-cm's */
    obj_unref(rules);

    const char *tg[1] = {"tg"};
    struct obj_rbac_attrs t = {.user = "twice", .groups = tg, .n_groups = 1,
                               .ns = "a"};
    rules = obj_array_new();
    ASSERT_EQ(obj_rbac_rules_for(r, &t, rules), 0);
    ASSERT_EQ(obj_array_len(rules), 1); /* b4's one rule, once */
    obj_unref(rules);
}

TEST(rbac, service_account_subjects_default_to_the_binding_namespace)
{
    setup();
    ASSERT(can("system:serviceaccount:a:bot", NULL, "get", "", "secrets", "",
               "x", "a"));
    ASSERT(!can("system:serviceaccount::bot", NULL, "get", "", "secrets", "",
                "x", "a"));
    ASSERT(!can("system:serviceaccount:b:bot", NULL, "get", "", "secrets", "",
                "x", "a"));
}

UNIT_MAIN()
