/* libc8s requests against real c8s-master members over HTTPS: the
 * kubeconfig they write, keep-alive reuse, errors as codes, failover
 * across servers, and writes that are never sent twice. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <c8s/c8s.h>
#include <c8s/watch.h>

#include "tests/client/cluster.h"
#include "tests/lib/proc.h"
#include "tests/lib/unit.h"

TEST_T(client, requests_through_the_admin_kubeconfig, 90)
{
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    struct c8s_client *c;

    start_cluster(1);
    c = client_for(0, NULL, NULL);
    ASSERT_MSG(req(c, "GET", "/version", NULL, &r, &err) == 0, "%s",
               err.message);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_CONTAINS(r.body, "\"gitVersion\"");
    ASSERT_STR_CONTAINS(r.content_type, "application/json");
    c8s_response_clear(&r);

    const char *cms = "/api/v1/namespaces/default/configmaps";
    ASSERT_EQ(req(c, "POST", cms, "{\"metadata\":{\"name\":\"a\"},"
                  "\"data\":{\"k\":\"v\"}}", &r, &err), 0);
    ASSERT_EQ(r.status, 201);
    c8s_response_clear(&r);

    /* Errors: the answer is kept, the code and Status say what it was. */
    ASSERT_EQ(req(c, "POST", cms, "{\"metadata\":{\"name\":\"a\"}}", &r, &err),
              -C8S_EEXISTS);
    ASSERT_EQ(err.http_status, 409);
    ASSERT_STR_EQ(err.reason, "AlreadyExists");
    ASSERT_STR_CONTAINS(err.message, "configmaps \"a\" already exists");
    ASSERT_STR_CONTAINS(r.body, "\"kind\":\"Status\"");
    c8s_response_clear(&r);
    ASSERT_EQ(req(c, "PUT", "/api/v1/namespaces/default/configmaps/a",
                  "{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"}}",
                  &r, &err), -C8S_ECONFLICT);
    ASSERT_STR_EQ(err.reason, "Conflict");
    c8s_response_clear(&r);
    ASSERT_EQ(req(c, "GET", "/api/v1/namespaces/default/configmaps/zz", NULL,
                  &r, &err), -C8S_ENOTFOUND);
    ASSERT_EQ(err.http_status, 404);
    ASSERT_STR_CONTAINS(err.message, "GET https://127.0.0.1:");
    c8s_response_clear(&r);
    ASSERT_EQ(req(c, "POST", cms, "{\"metadata\":{\"name\":\"Bad_Name\"}}",
                  &r, &err), -EINVAL);
    ASSERT_EQ(err.http_status, 422);
    c8s_response_clear(&r);
    ASSERT_EQ(req(c, "GET", "nope", NULL, &r, &err), -EINVAL);

    /* HEAD has no body; the connection stays usable after it. */
    ASSERT_EQ(req(c, "HEAD", "/version", NULL, &r, &err), 0);
    ASSERT_UEQ(r.body_len, 0);
    c8s_response_clear(&r);

    /* Many requests in a row over the pooled connection. */
    for (int k = 0; k < 50; k++) {
        ASSERT_EQ(req(c, "GET", "/api/v1/namespaces/default/configmaps/a",
                      NULL, &r, &err), 0);
        ASSERT_STR_CONTAINS(r.body, "\"k\":\"v\"");
        c8s_response_clear(&r);
    }
    c8s_client_free(c);
}

/* A wrong CA fails the handshake by name; no request is sent. */
TEST_T(client, the_server_certificate_is_verified, 90)
{
    char other[1200];
    struct c8s_kubeconfig_opts ko = {.kubeconfig = other};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *c = NULL;
    struct c8s_response r = {0};
    struct c8s_error err = {0};

    start_cluster(1);
    write_wrong_ca_kubeconfig(other, sizeof other);
    ASSERT_MSG(c8s_kubeconfig_load(&ko, &kc, &err) == 0, "%s", err.message);
    struct c8s_client_opts o = {.max_attempts = 1};
    ASSERT_MSG(c8s_client_new(kc, &o, &c, &err) == 0, "%s", err.message);
    c8s_kubeconfig_free(kc);
    ASSERT_EQ(req(c, "GET", "/version", NULL, &r, &err), -EPROTO);
    ASSERT_STR_CONTAINS(err.message, "certificate verification failed");
    c8s_client_free(c);
}

/* Servers that refuse connections are skipped and set aside; the request
 * is answered by the next one, and later ones go there first. */
TEST_T(client, fails_over_to_a_server_that_answers, 90)
{
    char dead[64], url[200], path[1200];
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    struct c8s_client *c;

    start_cluster(N);
    snprintf(dead, sizeof dead, "127.0.0.1:%d", tproc_free_port());
    write_ha_kubeconfig(dead, path, sizeof path);
    struct c8s_kubeconfig_opts ko = {.kubeconfig = path};
    struct c8s_kubeconfig *kc = NULL;
    ASSERT_MSG(c8s_kubeconfig_load(&ko, &kc, &err) == 0, "%s", err.message);
    ASSERT_UEQ(c8s_kubeconfig_server_count(kc), 4);
    ASSERT_MSG(c8s_client_new(kc, NULL, &c, &err) == 0, "%s", err.message);
    c8s_kubeconfig_free(kc);

    /* A write is safe to send elsewhere when the first server refused the
     * connection: nothing was sent. */
    ASSERT_MSG(req(c, "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":"
                   "\"ha\"}}", &r, &err) == 0, "%s", err.message);
    c8s_response_clear(&r);
    snprintf(url, sizeof url, "https://%s", ms[0].api);
    ASSERT_STR_EQ(c8s_client_server(c), url);

    /* m0 goes away: the next request fails over to m1 or m2. */
    tproc_signal(ms[0].p, SIGKILL);
    (void)tproc_stop(ms[0].p, 5000);
    for (int k = 0; k < 5; k++) {
        ASSERT_MSG(req(c, "GET", "/api/v1/namespaces/ha", NULL, &r, &err) == 0,
                   "%s", err.message);
        c8s_response_clear(&r);
    }
    ASSERT(strcmp(c8s_client_server(c), url) != 0);
    c8s_client_free(c);
}

/* Nothing listens: the retries end and the error says how many were made. */
TEST_T(client, retries_end_with_the_last_error, 30)
{
    char url[64], path[600];
    struct c8s_kubeconfig_opts ko = {.kubeconfig = path, .server = url};
    struct c8s_client_opts o = {.max_attempts = 3, .timeout_ms = 5000};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *c = NULL;
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    FILE *f;

    snprintf(url, sizeof url, "https://127.0.0.1:%d", tproc_free_port());
    snprintf(path, sizeof path, "%s/k.yaml", unit_tmpdir());
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs("current-context: c\nclusters:\n- name: k\n  cluster: {server: "
          "'https://unused:1', insecure-skip-tls-verify: true}\n"
          "contexts:\n- name: c\n  context: {cluster: k}\n", f);
    fclose(f);
    ASSERT_MSG(c8s_kubeconfig_load(&ko, &kc, &err) == 0, "%s", err.message);
    ASSERT_MSG(c8s_client_new(kc, &o, &c, &err) == 0, "%s", err.message);
    c8s_kubeconfig_free(kc);
    ASSERT_EQ(req(c, "GET", "/version", NULL, &r, &err), -ECONNREFUSED);
    ASSERT_STR_CONTAINS(err.message, "after 3 attempts");
    ASSERT_STR_CONTAINS(err.message, url);
    c8s_client_free(c);
}

/* The next event is @type for @name, after *@last (then moved on). */
static void expect_event(struct c8s_watch *w, enum c8s_event_type type,
                         const char *name, unsigned long long *last)
{
    struct c8s_event ev;
    struct c8s_error err = {0};
    int rv = c8s_watch_next(w, 20000, &ev, &err);
    unsigned long long v;

    ASSERT_MSG(rv == 0, "waiting for %s: %d %s", name, rv, err.message);
    ASSERT_EQ(ev.type, type);
    ASSERT_STR_EQ(c8s_obj_str(c8s_obj_path(ev.object, "metadata.name"), ""),
                  name);
    v = strtoull(ev.resource_version, NULL, 10);
    ASSERT_MSG(v > *last, "revision %llu after %llu", v, *last);
    *last = v;
    c8s_obj_free(ev.object);
}

/* A cluster, a client that reaches m0 first (its kubeconfig lists every
 * member) and one that only talks to m1, and a namespace "w". */
static void watcher_and_writer(struct c8s_client **watcher,
                               struct c8s_client **writer)
{
    char path[1200], url[100];
    struct c8s_response r = {0};
    struct c8s_error err = {0};

    start_cluster(N);
    write_ha_kubeconfig(ms[0].api, path, sizeof path);
    *watcher = client_from(path);
    snprintf(url, sizeof url, "https://%s", ms[1].api);
    *writer = client_for(1, url, NULL);
    ASSERT_MSG(req(*writer, "POST", "/api/v1/namespaces",
                   "{\"metadata\":{\"name\":\"w\"}}", &r, &err) == 0,
               "%s", err.message);
    c8s_response_clear(&r);
}

/* Changes arrive once each, in order; when the member serving the stream
 * dies, the watch resumes on another from where it was, with no gap. */
TEST_T(client, watch_resumes_on_another_member_without_gaps, 120)
{
    char rv[32], name[32];
    struct c8s_client *watcher, *writer;
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    struct c8s_watch *w = NULL;
    struct c8s_event ev;
    unsigned long long last;

    watcher_and_writer(&watcher, &writer);
    create_cm(writer, "w", "before");
    list_rv(watcher, "/api/v1/namespaces/w/configmaps", rv, sizeof rv);
    last = strtoull(rv, NULL, 10);
    ASSERT_EQ(c8s_watch_open(watcher, "/api/v1/namespaces/w/configmaps", rv,
                             &w, &err), 0);
    ASSERT_EQ(c8s_watch_next(w, 300, &ev, &err), -ETIMEDOUT); /* quiet */
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "a%d", i);
        create_cm(writer, "w", name);
    }
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "a%d", i);
        expect_event(w, C8S_ADDED, name, &last);
    }
    ASSERT_EQ(c8s_watch_connects(w), 1);

    tproc_signal(ms[0].p, SIGKILL);
    (void)tproc_stop(ms[0].p, 5000);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "b%d", i);
        create_cm(writer, "w", name);
    }
    ASSERT_EQ(req(writer, "DELETE", "/api/v1/namespaces/w/configmaps/a0",
                  NULL, &r, &err), 0);
    c8s_response_clear(&r);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "b%d", i);
        expect_event(w, C8S_ADDED, name, &last);
    }
    expect_event(w, C8S_DELETED, "a0", &last);
    ASSERT(c8s_watch_connects(w) >= 2);
    ASSERT_EQ(c8s_watch_next(w, 300, &ev, &err), -ETIMEDOUT);
    c8s_watch_close(w);
    c8s_client_free(watcher);
    c8s_client_free(writer);
}

/* The next event, polled with waits far shorter than a TLS handshake (as
 * a loop that also serves other work does), within @limit_ms. */
static void expect_event_polled(struct c8s_watch *w, const char *name,
                                int limit_ms)
{
    struct c8s_event ev;
    struct c8s_error err = {0};
    int rv = -ETIMEDOUT, polls = 0;

    for (; polls < limit_ms / 2 && rv == -ETIMEDOUT; polls++)
        rv = c8s_watch_next(w, 2, &ev, &err);
    ASSERT_MSG(rv == 0, "no event for %s after %d polls of 2 ms: %d %s", name,
               polls, rv, err.message);
    ASSERT_STR_EQ(c8s_obj_str(c8s_obj_path(ev.object, "metadata.name"), ""),
                  name);
    c8s_obj_free(ev.object);
}

/* A caller's short wait bounds the wait for an event, not the reopening
 * of a stream: a watch polled every 2 ms still finds another member after
 * the one serving it dies (a reopen cut short by each poll never did). */
TEST_T(client, a_watch_polled_briefly_reopens_on_another_member, 120)
{
    char rv[32];
    struct c8s_client *watcher, *writer;
    struct c8s_error err = {0};
    struct c8s_watch *w = NULL;

    watcher_and_writer(&watcher, &writer);
    list_rv(watcher, "/api/v1/namespaces/w/configmaps", rv, sizeof rv);
    ASSERT_EQ(c8s_watch_open(watcher, "/api/v1/namespaces/w/configmaps", rv,
                             &w, &err), 0);
    create_cm(writer, "w", "before");
    expect_event_polled(w, "before", 20000);

    tproc_signal(ms[0].p, SIGKILL);
    (void)tproc_stop(ms[0].p, 5000);
    create_cm(writer, "w", "after");
    expect_event_polled(w, "after", 30000);
    ASSERT(c8s_watch_connects(w) >= 2);
    c8s_watch_close(w);
    c8s_client_free(watcher);
    c8s_client_free(writer);
}

/* History the server has compacted cannot be resumed: -C8S_ECOMPACTED. */
TEST_T(client, watch_from_compacted_history_says_so, 60)
{
    struct c8s_client *c;
    struct c8s_watch *w = NULL;
    struct c8s_error err = {0};
    struct c8s_event ev;
    char rv[32], name[32];

    extra_flags[0] = "--history-min-age";
    extra_flags[1] = "1";
    extra_flags[2] = "--compact-interval";
    extra_flags[3] = "100";
    start_cluster(1);
    c = client_for(0, NULL, NULL);
    list_rv(c, "/api/v1/namespaces/default/configmaps", rv, sizeof rv);
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "c%d", i);
        create_cm(c, "default", name);
    }
    usleep(500000); /* a few compactions */
    ASSERT_EQ(c8s_watch_open(c, "/api/v1/namespaces/default/configmaps", rv,
                             &w, &err), 0);
    ASSERT_EQ(c8s_watch_next(w, 10000, &ev, &err), -C8S_ECOMPACTED);
    ASSERT(ev.object == NULL);
    ASSERT_STR_CONTAINS(err.message, "watch https://");
    ASSERT_EQ(c8s_watch_next(w, 10, &ev, &err), -C8S_ECOMPACTED); /* stays */
    c8s_watch_close(w);
    c8s_client_free(c);
}

/* A backlog larger than the server's per-connection output limit streams
 * at the reader's pace on one connection instead of being cut off as a
 * slow reader again and again. */
TEST_T(client, a_watch_backlog_of_12_mib_streams_on_one_connection, 240)
{
    static char body[1400], value[1025];
    struct c8s_client *c;
    struct c8s_watch *w = NULL;
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    char rv[32];
    int n = 12000;

    start_cluster(1);
    c = client_for(0, NULL, NULL);
    memset(value, 'v', sizeof value - 1);
    list_rv(c, "/api/v1/namespaces/default/configmaps", rv, sizeof rv);
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"b%d\"},"
                 "\"data\":{\"v\":\"%s\"}}", i, value);
        ASSERT_MSG(req(c, "POST", "/api/v1/namespaces/default/configmaps",
                       body, &r, &err) == 0, "%s", err.message);
        c8s_response_clear(&r);
    }
    ASSERT_EQ(c8s_watch_open(c, "/api/v1/namespaces/default/configmaps", rv,
                             &w, &err), 0);
    for (int i = 0; i < n; i++) {
        struct c8s_event ev;

        ASSERT_MSG(c8s_watch_next(w, 20000, &ev, &err) == 0, "event %d: %s",
                   i, err.message);
        c8s_obj_free(ev.object);
    }
    ASSERT_EQ(c8s_watch_connects(w), 1);
    c8s_watch_close(w);
    c8s_client_free(c);
}

static int collect(void *data, const struct c8s_obj *o)
{
    char *names = data;

    strcat(names, c8s_obj_str(c8s_obj_path(o, "metadata.name"), "?"));
    strcat(names, " ");
    return 0;
}

/* The verbs with objects: create, get, update (conditional), patch, list
 * in pages, delete; discovery finds the same descriptors. */
TEST_T(client, verbs_on_objects_and_discovery, 90)
{
    struct c8s_client *c;
    struct c8s_discovery *d = NULL;
    struct c8s_resource r;
    struct c8s_error err = {0};
    struct c8s_obj *o = NULL, *got = NULL, *stale = NULL;
    char names[256] = "", rv[32] = "";
    struct c8s_list_opts lo = {.limit = 2, .label_selector = "set=x"};

    start_cluster(1);
    c = client_for(0, NULL, NULL);
    ASSERT_MSG(c8s_discovery_new(c, &d, &err) == 0, "%s", err.message);
    ASSERT_EQ(c8s_discovery_find(d, "deploy", &r, &err), 0);
    ASSERT_STR_EQ(r.group, "apps");
    ASSERT_STR_EQ(r.kind, "Deployment");
    ASSERT_EQ(c8s_discovery_find(d, "CM", &r, &err), 0);
    ASSERT_STR_EQ(r.resource, "configmaps");
    ASSERT(r.namespaced);
    ASSERT_EQ(c8s_discovery_find(d, "cronjob.batch", &r, &err), 0);
    ASSERT_EQ(c8s_discovery_find(d, "pods.apps", &r, &err), -C8S_ENOTFOUND);
    ASSERT_EQ(c8s_discovery_for_kind(d, "coordination.k8s.io/v1", "Lease", &r,
                                     &err), 0);
    ASSERT_STR_EQ(r.resource, c8s_res_leases.resource);
    c8s_discovery_free(d);

    for (int i = 0; i < 5; i++) {
        char json[200];

        snprintf(json, sizeof json, "{\"metadata\":{\"name\":\"v%d\","
                 "\"labels\":{\"set\":\"%s\"}}}", i, i < 4 ? "x" : "y");
        ASSERT_EQ(c8s_obj_from_json(json, strlen(json), &o, &err), 0);
        ASSERT_MSG(c8s_create(c, &c8s_res_configmaps, "default", o, NULL,
                              &err) == 0, "%s", err.message);
        c8s_obj_free(o);
    }
    ASSERT_EQ(c8s_get(c, &c8s_res_configmaps, "default", "v1", &got, &err), 0);
    ASSERT_STR_EQ(c8s_obj_str(c8s_obj_path(got, "kind"), ""), "ConfigMap");
    stale = c8s_obj_ref(got);
    ASSERT_EQ(c8s_obj_set_str(&got, "data.k", "1"), 0);
    struct c8s_obj *after = NULL, *again = NULL;
    ASSERT_EQ(c8s_update(c, &c8s_res_configmaps, "default", got, &after,
                         &err), 0);
    /* Writing back what was read changes nothing, not even the version
     * (as kube-apiserver: no write, no watch event). */
    ASSERT_EQ(c8s_update(c, &c8s_res_configmaps, "default", after, &again,
                         &err), 0);
    ASSERT_STR_EQ(c8s_obj_str(c8s_obj_path(again, "metadata.resourceVersion"),
                              "a"),
                  c8s_obj_str(c8s_obj_path(after, "metadata.resourceVersion"),
                              "b"));
    c8s_obj_free(after);
    c8s_obj_free(again);
    /* The version read before that update is stale now. */
    ASSERT_EQ(c8s_update(c, &c8s_res_configmaps, "default", stale, NULL,
                         &err), -C8S_ECONFLICT);
    c8s_obj_free(stale);
    c8s_obj_free(got);
    const char *patch = "{\"data\":{\"k\":\"2\"}}";
    ASSERT_EQ(c8s_patch(c, &c8s_res_configmaps, "default", "v1",
                        C8S_PATCH_MERGE, patch, strlen(patch), NULL, &got,
                        &err), 0);
    ASSERT_STR_EQ(c8s_obj_str(c8s_obj_path(got, "data.k"), ""), "2");
    c8s_obj_free(got);

    ASSERT_EQ(c8s_list(c, &c8s_res_configmaps, "default", &lo, collect, names,
                       rv, sizeof rv, &err), 0);
    ASSERT_STR_EQ(names, "v0 v1 v2 v3 ");
    ASSERT(rv[0] != '\0');
    ASSERT_EQ(c8s_delete(c, &c8s_res_configmaps, "default", "v0",
                         "Background", &err), 0);
    ASSERT_EQ(c8s_get(c, &c8s_res_configmaps, "default", "v0", &got, &err),
              -C8S_ENOTFOUND);
    c8s_client_free(c);
}

int main(int argc, char **argv)
{
    (void)unsetenv("KUBECONFIG");
    return unit_main(argc, argv);
}
