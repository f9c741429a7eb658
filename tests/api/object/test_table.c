/* Server-side tables: the columns of each kind and the cells kubectl
 * users know (pod READY/STATUS/RESTARTS with init containers, crashes and
 * deletion; deployments, services, jobs, ...), ages as kubectl prints
 * them, and NAME/AGE for kinds without columns of their own. */
#include <string.h>

#include "api/object/codec.h"
#include "api/object/table.h"
#include "tests/lib/unit.h"

#define NOW 1800000000 /* 2027-01-15T08:00:00Z */

static struct obj *parse(const char *json)
{
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_json_decode(json, strlen(json), NULL, &o, &e) == 0, "%s",
               e.msg);
    return o;
}

/* The row of @json (a @kind of @group) as JSON text, at NOW. */
static char *row(const char *group, const char *kind, const char *json)
{
    static char out[4096];
    struct obj *o = parse(json);
    struct obj *cells = obj_table_cells(obj_table_for(group, kind), o, NOW);
    struct obj_buf b;

    ASSERT(cells != NULL);
    obj_buf_init(&b);
    ASSERT(obj_json_encode(cells, 0, &b, NULL) == 0);
    ASSERT(b.len < sizeof out);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    obj_buf_done(&b);
    obj_unref(cells);
    obj_unref(o);
    return out;
}

static const char *age(int64_t s)
{
    static char buf[32];

    obj_table_age(s, buf, sizeof buf);
    return buf;
}

TEST(table, ages_read_as_kubectl_prints_them)
{
    ASSERT_STR_EQ(age(-5), "<invalid>");
    ASSERT_STR_EQ(age(-1), "0s");
    ASSERT_STR_EQ(age(0), "0s");
    ASSERT_STR_EQ(age(119), "119s");
    ASSERT_STR_EQ(age(120), "2m");
    ASSERT_STR_EQ(age(200), "3m20s");
    ASSERT_STR_EQ(age(600), "10m");
    ASSERT_STR_EQ(age(3 * 3600 - 1), "179m");
    ASSERT_STR_EQ(age(3 * 3600 + 120), "3h2m");
    ASSERT_STR_EQ(age(9 * 3600 + 120), "9h");
    ASSERT_STR_EQ(age(50 * 3600), "2d2h");
    ASSERT_STR_EQ(age(48 * 3600), "2d");
    ASSERT_STR_EQ(age(400 * 86400), "400d");
    ASSERT_STR_EQ(age(800 * 86400), "2y70d");
    ASSERT_STR_EQ(age(3650 * 86400), "10y");
}

TEST(table, times_parse_with_fractions_and_offsets)
{
    ASSERT_EQ(obj_table_parse_time("2027-01-15T08:00:00Z"), NOW);
    ASSERT_EQ(obj_table_parse_time("2027-01-15T08:00:00.123456Z"), NOW);
    ASSERT_EQ(obj_table_parse_time("2027-01-15T09:00:00+01:00"), NOW);
    ASSERT_EQ(obj_table_parse_time("2027-01-15 08:00:00Z"), -1);
    ASSERT_EQ(obj_table_parse_time("2027-01-15T08:00:00"), -1);
    ASSERT_EQ(obj_table_parse_time(NULL), -1);
}

TEST(table, columns_name_the_name_column_and_wide_ones)
{
    struct obj *cols = obj_table_columns(obj_table_for("", "Pod"));
    struct obj_buf b;

    ASSERT(cols != NULL);
    obj_buf_init(&b);
    ASSERT(obj_json_encode(cols, 0, &b, NULL) == 0);
    ASSERT(obj_buf_append(&b, "", 1) == 0);
    ASSERT_STR_CONTAINS(b.data, "{\"name\":\"Name\",\"type\":\"string\","
                        "\"format\":\"name\",");
    ASSERT_STR_CONTAINS(b.data, "{\"name\":\"Restarts\",\"type\":\"string\","
                        "\"format\":\"\",");
    ASSERT_STR_CONTAINS(b.data, "\"name\":\"Node\",\"type\":\"string\","
                        "\"format\":\"\",\"description\":\"The node the pod "
                        "is bound to.\",\"priority\":1}");
    ASSERT_EQ(obj_array_len(cols), 9);
    obj_buf_done(&b);
    obj_unref(cols);
    cols = obj_table_columns(obj_table_for("example.com", "Widget"));
    ASSERT_EQ(obj_array_len(cols), 2); /* NAME and AGE */
    obj_unref(cols);
}

#define META "\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"2027-01-15T07:55:00Z\"}"

TEST(table, pods_show_ready_status_restarts)
{
    /* Not scheduled yet. */
    ASSERT_STR_EQ(row("", "Pod", "{" META ",\"spec\":{\"containers\":"
                      "[{\"name\":\"a\"},{\"name\":\"b\"}]}}"),
                  "[\"web\",\"0/2\",\"Pending\",\"0\",\"5m\",\"<none>\","
                  "\"<none>\",\"<none>\",\"<none>\"]");
    /* Running, one restart 2 minutes ago, on a node. */
    ASSERT_STR_EQ(row("", "Pod", "{" META ",\"spec\":{\"nodeName\":\"n1\","
                      "\"containers\":[{\"name\":\"a\"}]},\"status\":{"
                      "\"phase\":\"Running\",\"podIP\":\"10.0.0.5\","
                      "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,"
                      "\"restartCount\":1,\"state\":{\"running\":{}},"
                      "\"lastState\":{\"terminated\":{\"finishedAt\":"
                      "\"2027-01-15T07:58:00Z\"}}}]}}"),
                  "[\"web\",\"1/1\",\"Running\",\"1 (2m ago)\",\"5m\","
                  "\"10.0.0.5\",\"n1\",\"<none>\",\"<none>\"]");
    /* A container in a crash loop. */
    ASSERT_STR_CONTAINS(row("", "Pod", "{" META ",\"spec\":{\"containers\":"
                            "[{\"name\":\"a\"}]},\"status\":{\"phase\":"
                            "\"Running\",\"containerStatuses\":[{\"name\":"
                            "\"a\",\"restartCount\":4,\"state\":{\"waiting\":"
                            "{\"reason\":\"CrashLoopBackOff\"}}}]}}"),
                        "\"0/1\",\"CrashLoopBackOff\",\"4\",");
    /* The second of two init containers at work. */
    ASSERT_STR_CONTAINS(row("", "Pod", "{" META ",\"spec\":{\"initContainers\":"
                            "[{\"name\":\"i1\"},{\"name\":\"i2\"}],"
                            "\"containers\":[{\"name\":\"a\"}]},\"status\":{"
                            "\"phase\":\"Pending\",\"initContainerStatuses\":"
                            "[{\"state\":{\"terminated\":{\"exitCode\":0}}},"
                            "{\"state\":{\"running\":{}}}]}}"),
                        "\"0/1\",\"Init:1/2\",");
    /* Exited with a code and no reason. */
    ASSERT_STR_CONTAINS(row("", "Pod", "{" META ",\"spec\":{\"containers\":"
                            "[{\"name\":\"a\"}]},\"status\":{\"phase\":"
                            "\"Failed\",\"containerStatuses\":[{\"state\":{"
                            "\"terminated\":{\"exitCode\":3}}}]}}"),
                        "\"ExitCode:3\"");
    /* Being deleted. */
    ASSERT_STR_CONTAINS(row("", "Pod", "{\"metadata\":{\"name\":\"web\","
                            "\"deletionTimestamp\":\"2027-01-15T07:59:00Z\"},"
                            "\"status\":{\"phase\":\"Running\"}}"),
                        "\"Terminating\"");
    /* Readiness gates: one of two met. */
    ASSERT_STR_CONTAINS(row("", "Pod", "{" META ",\"spec\":{\"readinessGates\":"
                            "[{\"conditionType\":\"x\"},{\"conditionType\":"
                            "\"y\"}]},\"status\":{\"conditions\":[{\"type\":"
                            "\"x\",\"status\":\"True\"}]}}"),
                        "\"1/2\"]");
}

TEST(table, workloads_show_their_replicas)
{
    ASSERT_STR_EQ(row("apps", "Deployment", "{" META ",\"spec\":{"
                      "\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":"
                      "\"web\"}},\"template\":{\"spec\":{\"containers\":["
                      "{\"name\":\"nginx\",\"image\":\"nginx:1.25\"},{\"name\":"
                      "\"side\",\"image\":\"busybox\"}]}}},\"status\":{"
                      "\"readyReplicas\":2,\"updatedReplicas\":3,"
                      "\"availableReplicas\":2}}"),
                  "[\"web\",\"2/3\",3,2,\"5m\",\"nginx,side\","
                  "\"nginx:1.25,busybox\",\"app=web\"]");
    ASSERT_STR_EQ(row("apps", "ReplicaSet", "{" META ",\"spec\":{"
                      "\"replicas\":2,\"selector\":{\"matchExpressions\":[{"
                      "\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"a\","
                      "\"b\"]},{\"key\":\"x\",\"operator\":\"DoesNotExist\"}]}}}"),
                  "[\"web\",2,0,0,\"5m\",\"<none>\",\"<none>\","
                  "\"tier in (a,b),!x\"]");
    ASSERT_STR_CONTAINS(row("batch", "Job", "{" META ",\"spec\":{"
                            "\"completions\":3},\"status\":{\"succeeded\":1,"
                            "\"startTime\":\"2027-01-15T07:59:00Z\"}}"),
                        "[\"web\",\"Running\",\"1/3\",\"60s\",\"5m\",");
    ASSERT_STR_CONTAINS(row("batch", "Job", "{" META ",\"status\":{"
                            "\"succeeded\":1,\"conditions\":[{\"type\":"
                            "\"Complete\",\"status\":\"True\"}],\"startTime\":"
                            "\"2027-01-15T07:55:00Z\",\"completionTime\":"
                            "\"2027-01-15T07:55:07Z\"}}"),
                        "[\"web\",\"Complete\",\"1/1\",\"7s\",");
    ASSERT_STR_CONTAINS(row("batch", "CronJob", "{" META ",\"spec\":{"
                            "\"schedule\":\"*/5 * * * *\"},\"status\":{"
                            "\"active\":[{}]}}"),
                        "[\"web\",\"*/5 * * * *\",\"<none>\",\"False\",1,"
                        "\"<none>\",\"5m\",");
}

TEST(table, services_show_type_addresses_and_ports)
{
    ASSERT_STR_EQ(row("", "Service", "{" META ",\"spec\":{\"type\":"
                      "\"NodePort\",\"clusterIP\":\"10.96.0.10\",\"ports\":[{"
                      "\"port\":80,\"nodePort\":30080,\"protocol\":\"TCP\"},"
                      "{\"port\":53,\"protocol\":\"UDP\"}],\"selector\":{"
                      "\"app\":\"web\"}}}"),
                  "[\"web\",\"NodePort\",\"10.96.0.10\",\"<none>\","
                  "\"80:30080/TCP,53/UDP\",\"5m\",\"app=web\"]");
    ASSERT_STR_CONTAINS(row("", "Service", "{" META ",\"spec\":{\"type\":"
                            "\"LoadBalancer\",\"clusterIP\":\"10.96.0.11\"}}"),
                        "\"<pending>\",\"<none>\"");
    ASSERT_STR_CONTAINS(row("", "Service", "{" META ",\"spec\":{\"type\":"
                            "\"ExternalName\",\"externalName\":\"db.example\"}}"),
                        "[\"web\",\"ExternalName\",\"<none>\",\"db.example\",");
    ASSERT_STR_EQ(row("", "Endpoints", "{" META ",\"subsets\":[{\"addresses\":"
                      "[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"}],\"ports\":"
                      "[{\"port\":80},{\"port\":443}]}]}"),
                  "[\"web\",\"10.0.0.1:80,10.0.0.1:443,10.0.0.2:80 + 1 "
                  "more...\",\"5m\"]");
}

TEST(table, simple_kinds_count_what_they_hold)
{
    ASSERT_STR_EQ(row("", "ConfigMap", "{" META ",\"data\":{\"a\":\"1\","
                      "\"b\":\"2\"},\"binaryData\":{\"c\":\"AA==\"}}"),
                  "[\"web\",3,\"5m\"]");
    ASSERT_STR_EQ(row("", "Secret", "{" META ",\"type\":\"Opaque\"}"),
                  "[\"web\",\"Opaque\",0,\"5m\"]");
    ASSERT_STR_EQ(row("", "ServiceAccount", "{" META "}"),
                  "[\"web\",0,\"5m\"]");
    ASSERT_STR_EQ(row("", "Namespace", "{" META ",\"status\":{\"phase\":"
                      "\"Active\"}}"),
                  "[\"web\",\"Active\",\"5m\"]");
    ASSERT_STR_EQ(row("example.com", "Widget", "{" META "}"),
                  "[\"web\",\"5m\"]");
    ASSERT_STR_EQ(row("", "Namespace", "{\"metadata\":{\"name\":\"x\"}}"),
                  "[\"x\",\"<none>\",\"<unknown>\"]");
    ASSERT_STR_CONTAINS(row("", "Event", "{" META ",\"type\":\"Warning\","
                            "\"reason\":\"BackOff\",\"message\":\"restarting\","
                            "\"involvedObject\":{\"kind\":\"Pod\",\"name\":"
                            "\"web-1\"},\"lastTimestamp\":"
                            "\"2027-01-15T07:59:30Z\"}"),
                        "[\"30s\",\"Warning\",\"BackOff\",\"pod/web-1\","
                        "\"restarting\",\"web\"]");
}

/* Found by review: a value cut to fit its cell inside a multi-byte
 * character made the whole row (and the LIST) fail; a first item longer
 * than the cell read before its buffer. */
TEST(table, long_values_are_cut_cleanly)
{
    char json[2048], *r;
    size_t n;

    n = (size_t)snprintf(json, sizeof json, "{" META ",\"message\":\"");
    for (int i = 0; i < 510; i++)
        json[n++] = 'a';
    n += (size_t)snprintf(json + n, sizeof json - n, "\u00e9\u00e9\"}");
    r = row("", "Event", json);
    ASSERT_STR_CONTAINS(r, "aaaa");
    ASSERT(strstr(r, "\u00e9") == NULL && strstr(r, "\xc3\xa9") == NULL);
    n = (size_t)snprintf(json, sizeof json, "{" META ",\"spec\":{\"template\":"
                         "{\"spec\":{\"containers\":[{\"name\":\"c\","
                         "\"image\":\"");
    for (int i = 0; i < 560; i++)
        json[n++] = 'x';
    (void)snprintf(json + n, sizeof json - n, "\"}]}}}}");
    ASSERT_STR_CONTAINS(row("apps", "Deployment", json), "\"...\"");
    /* events.k8s.io Events carry their text in note. */
    ASSERT_STR_CONTAINS(row("events.k8s.io", "Event", "{" META ",\"note\":"
                            "\"pulled\",\"regarding\":{\"kind\":\"Pod\","
                            "\"name\":\"p\"}}"), "\"pod/p\",\"pulled\"");
}

UNIT_MAIN()
