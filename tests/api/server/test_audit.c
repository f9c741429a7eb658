/* Tests for api/server/audit: policies, levels and the events written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/server/audit.h"
#include "tests/lib/unit.h"

static char dir_file[1024];

static const char *write_policy(const char *text)
{
    FILE *f;

    snprintf(dir_file, sizeof dir_file, "%s/policy.yaml", unit_tmpdir());
    f = fopen(dir_file, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
    return dir_file;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    static char buf[65536];
    size_t n;

    ASSERT(f != NULL);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static struct srv_user alice = {
    .name = "alice",
    .groups = {"dev", "system:authenticated"},
    .n_groups = 2,
};

static struct srv_audit_event resource_event(const char *verb,
                                             const char *resource,
                                             const char *ns)
{
    struct srv_audit_event ev = {
        .user = &alice,
        .verb = verb,
        .uri = "/api/v1/namespaces/team/x",
        .source_ip = "127.0.0.1",
        .api_group = "",
        .api_version = "v1",
        .resource = resource,
        .subresource = "",
        .ns = ns,
        .name = "x",
        .path = "/api/v1/namespaces/team/x",
        .code = 200,
        .received = 1790000000.25,
        .completed = 1790000000.5,
    };
    return ev;
}

static const char policy[] =
    "apiVersion: audit.k8s.io/v1\n"
    "kind: Policy\n"
    "rules:\n"
    "- level: None\n"
    "  nonResourceURLs: [\"/healthz*\"]\n"
    "- level: Metadata\n"
    "  resources: [{group: \"\", resources: [\"secrets\"]}]\n"
    "- level: None\n"
    "  users: [\"system:kube-proxy\"]\n"
    "- level: Request\n"
    "  verbs: [create, update, patch]\n"
    "  namespaces: [team]\n"
    "- level: RequestResponse\n"
    "  userGroups: [ops]\n"
    "- level: Metadata\n"
    "  resources: [{group: apps, resources: [\"deployments/scale\"]}]\n"
    "- level: Request\n"
    "  resources: [{group: \"\", resources: [\"configmaps\"],"
    " resourceNames: [public]}]\n"
    "- level: Metadata\n"
    "  resources: [{group: \"\", resources: [\"*/status\", \"services/*\"]}]\n";

TEST(audit, the_first_matching_rule_decides)
{
    struct srv_audit *a = NULL;
    struct err e = {0};
    char log[1100];
    struct srv_audit_event ev;
    struct srv_user ops = {.name = "o", .groups = {"ops"}, .n_groups = 1};

    snprintf(log, sizeof log, "%s/audit.log", unit_tmpdir());
    ASSERT_EQ(srv_audit_open(log, write_policy(policy), &a, &e), 0);
    ev = resource_event("create", "secrets", "team");
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_METADATA);
    ev = resource_event("create", "configmaps", "team");
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_REQUEST);
    ev = resource_event("create", "configmaps", "other");
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_NONE); /* no rule */
    ev = resource_event("get", "configmaps", "team");
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_NONE);
    ev.user = &ops;
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_REQUEST); /* RequestResponse */
    ev = resource_event("update", "deployments", "x");
    ev.api_group = "apps";
    ev.subresource = "scale";
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_METADATA);
    ev.subresource = "";
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_NONE);
    /* resourceNames: only that object; stars for subresources. */
    ev = resource_event("get", "configmaps", "x");
    ev.name = "public";
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_REQUEST);
    ev.name = "private";
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_NONE);
    ev = resource_event("update", "pods", "x");
    ev.subresource = "status";
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_METADATA);
    ev = resource_event("get", "services", "x");
    ev.subresource = "proxy";
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_METADATA);
    ev.subresource = "";
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_NONE);
    /* Paths: a resource rule does not match them, and back. */
    struct srv_audit_event p = {.user = &alice, .verb = "get",
                                .path = "/healthz/etcd", .uri = "/healthz/etcd",
                                .source_ip = ""};
    ASSERT_EQ(srv_audit_level(a, &p), SRV_AUDIT_NONE);
    p.path = "/version";
    ASSERT_EQ(srv_audit_level(a, &p), SRV_AUDIT_NONE);
    srv_audit_close(a);
}

TEST(audit, events_are_kube_audit_events_one_per_line)
{
    struct srv_audit *a = NULL;
    struct err e = {0};
    char log[1100];
    struct srv_audit_event ev;
    struct stat st;
    const char *text;

    snprintf(log, sizeof log, "%s/audit.log", unit_tmpdir());
    ASSERT_EQ(srv_audit_open(log, write_policy(policy), &a, &e), 0);
    ev = resource_event("create", "configmaps", "team");
    ev.body = "{\"metadata\":{\"name\":\"x\"},\"data\":{\"k\":\"v\"}}";
    ev.body_len = strlen(ev.body);
    ev.content_type = "application/json";
    ev.user_agent = "kubectl/v1.33";
    ev.impersonated = "bob";
    ev.code = 201;
    srv_audit_log(a, &ev);
    ev = resource_event("get", "secrets", "team");
    ev.body = "{\"data\":{\"p\":\"c2VjcmV0\"}}";
    ev.body_len = strlen(ev.body);
    srv_audit_log(a, &ev);
    ev = resource_event("get", "configmaps", "other"); /* None */
    srv_audit_log(a, &ev);
    srv_audit_close(a);

    ASSERT_EQ(stat(log, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    text = read_all(log);
    ASSERT_STR_CONTAINS(text,
                        "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\","
                        "\"level\":\"Request\",\"auditID\":\"");
    ASSERT_STR_CONTAINS(text, "\"stage\":\"ResponseComplete\","
                              "\"requestURI\":\"/api/v1/namespaces/team/x\","
                              "\"verb\":\"create\",\"user\":{\"username\":"
                              "\"alice\",\"groups\":[\"dev\","
                              "\"system:authenticated\"]},\"impersonatedUser\":"
                              "{\"username\":\"bob\"},\"sourceIPs\":"
                              "[\"127.0.0.1\"],\"userAgent\":\"kubectl/v1.33\"");
    ASSERT_STR_CONTAINS(text, "\"objectRef\":{\"resource\":\"configmaps\","
                              "\"namespace\":\"team\",\"name\":\"x\","
                              "\"apiGroup\":\"\",\"apiVersion\":\"v1\"},"
                              "\"responseStatus\":{\"code\":201},"
                              "\"requestObject\":{\"metadata\":{\"name\":"
                              "\"x\"},\"data\":{\"k\":\"v\"}},"
                              "\"requestReceivedTimestamp\":"
                              "\"2026-09-21T14:13:20.250000Z\","
                              "\"stageTimestamp\":"
                              "\"2026-09-21T14:13:20.500000Z\"}\n");
    /* Metadata: no body, even though one was there. */
    ASSERT(strstr(text, "c2VjcmV0") == NULL);
    ASSERT_STR_CONTAINS(text, "\"level\":\"Metadata\"");
    /* Two lines, the None one was not written. */
    int lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    ASSERT_EQ(lines, 2);
}

TEST(audit, bad_policies_are_refused_by_name)
{
    struct srv_audit *a = NULL;
    struct err e = {0};
    char log[1100];

    snprintf(log, sizeof log, "%s/audit.log", unit_tmpdir());
    ASSERT_EQ(srv_audit_open(log, write_policy("kind: Policy\nrules:\n"
                                               "- level: Metadata\n"
                                               "- level: Everything\n"),
                             &a, &e),
              -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "rule 2: level must be None, Metadata");
    ASSERT_EQ(srv_audit_open(log, write_policy("kind: Policy\nrules:\n"
                                               "- level: None\n"
                                               "  users: alice\n"),
                             &a, &e),
              -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "rule 1: users must be a list");
    ASSERT_EQ(srv_audit_open(log, write_policy("kind: Policy\nrules:\n"
                                               "- level: None\n"
                                               "  users: [1]\n"),
                             &a, &e),
              -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "rule 1: users: entry 1 is not a string");
    ASSERT_EQ(srv_audit_open(log, write_policy("kind: Policy\nrules:\n"
                                               "- level: None\n"
                                               "  resources: [pods]\n"),
                             &a, &e),
              -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "resources: entry 1 is not a group and "
                               "resources");
    ASSERT_EQ(srv_audit_open(log, write_policy("kind: Deployment\n"), &a, &e),
              -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "not an audit Policy");
    ASSERT_EQ(srv_audit_open(log, write_policy("rules: [\n"), &a, &e),
              -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "--audit-policy-file");
    ASSERT(srv_audit_open(log, "/nonexistent/policy", &a, &e) < 0);
    ASSERT_STR_CONTAINS(e.msg, "/nonexistent/policy");
    ASSERT(srv_audit_open("/nonexistent/dir/audit.log", NULL, &a, &e) < 0);
    ASSERT_STR_CONTAINS(e.msg, "--audit-log-path /nonexistent/dir/audit.log");
    /* No policy: everything at Metadata. */
    ASSERT_EQ(srv_audit_open(log, NULL, &a, &e), 0);
    struct srv_audit_event ev = resource_event("list", "pods", "");
    ASSERT_EQ(srv_audit_level(a, &ev), SRV_AUDIT_METADATA);
    srv_audit_close(a);
}

UNIT_MAIN()
