/* rbac-bench: the cost of one RBAC decision (api/object/rbac.c), as the
 * API server makes it for every request of a user outside system:masters,
 * with 10 to 10,000 ClusterRoles and bindings. Prints figures, asserts
 * nothing.
 *
 * Each cluster has N ClusterRoles of 8 rules (a few verbs, groups and
 * resources each, like the default roles) and N ClusterRoleBindings to
 * groups the user is not in, plus the binding that allows the request,
 * added last: every decision scans all N (the worst case of a linear
 * scan). The request is what api-bench's RBAC rounds send: create
 * configmaps in a namespace, by a user in two groups. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/obj.h"
#include "api/object/rbac.h"
#include "bench/common.h"

static struct obj *parse(const char *json)
{
    struct obj *o = NULL;

    if (obj_json_decode(json, strlen(json), NULL, &o, NULL) != 0)
        bench_die("bad JSON in the bench: %s", json);
    return o;
}

static void add(struct obj_rbac *r, const char *kind, const char *json)
{
    struct obj *o = parse(json);

    if (obj_rbac_add(r, kind, o) != 0)
        bench_die("out of memory");
    obj_unref(o);
}

/* A role of 8 rules: none of them allows creating configmaps. */
static void add_role(struct obj_rbac *r, const char *name)
{
    static const char rules[] =
        "[{\"verbs\":[\"get\",\"list\",\"watch\"],\"apiGroups\":[\"\"],"
        "\"resources\":[\"pods\",\"services\",\"endpoints\"]},"
        "{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"apps\"],"
        "\"resources\":[\"deployments\",\"replicasets\",\"statefulsets\"]},"
        "{\"verbs\":[\"create\",\"delete\"],\"apiGroups\":[\"batch\"],"
        "\"resources\":[\"jobs\",\"cronjobs\"]},"
        "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":"
        "[\"secrets\"],\"resourceNames\":[\"a\",\"b\"]},"
        "{\"verbs\":[\"update\",\"patch\"],\"apiGroups\":[\"\"],"
        "\"resources\":[\"pods/status\",\"nodes/status\"]},"
        "{\"verbs\":[\"*\"],\"apiGroups\":[\"coordination.k8s.io\"],"
        "\"resources\":[\"leases\"]},"
        "{\"verbs\":[\"get\",\"list\",\"watch\"],\"apiGroups\":"
        "[\"discovery.k8s.io\"],\"resources\":[\"endpointslices\"]},"
        "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\",\"/api*\"]}]";
    char json[2048];

    snprintf(json, sizeof json, "{\"metadata\":{\"name\":\"%s\"},\"rules\":%s}",
             name, rules);
    add(r, "ClusterRole", json);
}

static void add_binding(struct obj_rbac *r, const char *name, const char *role,
                        const char *group)
{
    char json[512];

    snprintf(json, sizeof json,
             "{\"metadata\":{\"name\":\"%s\"},\"roleRef\":{\"apiGroup\":"
             "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\","
             "\"name\":\"%s\"},\"subjects\":[{\"kind\":\"Group\",\"name\":"
             "\"%s\"},{\"kind\":\"User\",\"name\":\"someone-%s\"}]}",
             name, role, group, name);
    add(r, "ClusterRoleBinding", json);
}

/* @shared: the N bindings name system:authenticated, which the user is
 * in, so every one of them must be looked at (the index does not help);
 * otherwise they name groups of their own. */
static struct obj_rbac *build(unsigned n, bool shared)
{
    struct obj_rbac *r = obj_rbac_new();
    char name[64], group[64];

    if (r == NULL)
        bench_die("out of memory");
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof name, "role-%u", i);
        add_role(r, name);
        snprintf(group, sizeof group, "%s%u",
                 shared ? "system:authenticated" : "group-", i);
        if (shared)
            snprintf(group, sizeof group, "system:authenticated");
        add_binding(r, name, name, group);
    }
    add(r, "ClusterRole",
        "{\"metadata\":{\"name\":\"writer\"},\"rules\":[{\"verbs\":"
        "[\"create\",\"update\"],\"apiGroups\":[\"\"],\"resources\":"
        "[\"configmaps\"]}]}");
    add_binding(r, "writers", "writer", "bench-writers");
    if (obj_rbac_finish(r) != 0)
        bench_die("out of memory");
    return r;
}

/* ns per decision over @ms of decisions; fails if it is not allowed. */
static double measure(const struct obj_rbac *r, unsigned ms)
{
    /* system:authenticated first: with @shared its N bindings are all
     * looked at before the one that allows. */
    static const char *const groups[] = {"system:authenticated",
                                         "bench-writers"};
    struct obj_rbac_attrs a = {
        .user = "bench-user",
        .groups = groups,
        .n_groups = 2,
        .verb = "create",
        .resource_request = true,
        .api_group = "",
        .resource = "configmaps",
        .subresource = "",
        .name = "",
        .ns = "bench",
    };
    uint64_t start = bench_now_ns(), end = start + (uint64_t)ms * 1000000u;
    uint64_t n = 0, now;

    do {
        for (int k = 0; k < 64; k++)
            if (!obj_rbac_allows(r, &a))
                bench_die("the bench request was denied");
        n += 64;
        now = bench_now_ns();
    } while (now < end);
    return (double)(now - start) / (double)n;
}

int main(int argc, char **argv)
{
    static const unsigned sizes[] = {10, 100, 1000, 10000};
    unsigned ms = 1000;
    int c;

    static const struct option opts[] = {
        {"ms", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'm' && atoi(optarg) > 0) {
            ms = (unsigned)atoi(optarg);
        } else {
            fprintf(stderr, "usage: rbac-bench [--ms MS per size (1000)]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    printf("rbac-bench: one decision (create configmaps, allowed by the last "
           "of N+1 ClusterRoleBindings; N roles of 8 rules)\n");
    for (int shared = 0; shared < 2; shared++) {
        printf(" the N bindings name %s:\n",
               shared ? "system:authenticated, a group of the user (all "
                        "looked at)"
                      : "other groups (skipped by the index)");
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint64_t t0 = bench_now_ns();
            struct obj_rbac *r = build(sizes[i], shared);
            double built_ms = (double)(bench_now_ns() - t0) / 1e6;
            double ns = measure(r, ms);
            printf("  N = %5u: %10.0f ns per decision, %12.0f decisions/s "
                   "(rules built in %.1f ms)\n",
                   sizes[i], ns, 1e9 / ns, built_ms);
            obj_rbac_free(r);
        }
    }
    return 0;
}
