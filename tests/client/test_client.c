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

#include "tests/lib/proc.h"
#include "tests/lib/unit.h"

#define N 3

struct member {
    char name[64], peer[64], api[64], dir[1100];
    struct tproc *p;
};

static struct member ms[N];

static void start_cluster(int n)
{
    char spec[256];
    size_t len = 0;

    for (int i = 0; i < n; i++) {
        struct member *m = &ms[i];

        snprintf(m->name, sizeof m->name, "m%d", i);
        snprintf(m->peer, sizeof m->peer, "127.0.0.1:%d", tproc_free_port());
        snprintf(m->api, sizeof m->api, "127.0.0.1:%d", tproc_free_port());
        snprintf(m->dir, sizeof m->dir, "%.1000s/m%d", unit_tmpdir(), i);
        len += (size_t)snprintf(spec + len, sizeof spec - len, "%s%s=%s",
                                i ? "," : "", m->name, m->peer);
    }
    for (int i = 0; i < n; i++) {
        const char *argv[] = {tproc_built("c8s-master"), "--name", ms[i].name,
                              "--data-dir", ms[i].dir, "--peer-listen",
                              ms[i].peer, "--initial-cluster", spec,
                              "--api-listen", ms[i].api, "--token", "t0ken",
                              NULL};
        ms[i].p = tproc_start(ms[i].name, argv);
    }
    for (int i = 0; i < n; i++)
        ASSERT_MSG(tproc_wait_log(ms[i].p, "serving the Kubernetes API",
                                  30000) == 0,
                   "%s never served the API", ms[i].name);
}

static struct c8s_client *client_for(int i, const char *server,
                                     const struct c8s_client_opts *o)
{
    char path[1200];
    struct c8s_kubeconfig_opts ko = {.kubeconfig = path, .server = server};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *c = NULL;
    struct c8s_error err = {0};

    snprintf(path, sizeof path, "%s/admin.kubeconfig", ms[i].dir);
    ASSERT_MSG(c8s_kubeconfig_load(&ko, &kc, &err) == 0, "%s", err.message);
    ASSERT_MSG(c8s_client_new(kc, o, &c, &err) == 0, "%s", err.message);
    c8s_kubeconfig_free(kc);
    return c;
}

static int req(struct c8s_client *c, const char *method, const char *path,
               const char *body, struct c8s_response *r,
               struct c8s_error *err)
{
    return c8s_request(c, method, path, NULL, body,
                       body != NULL ? strlen(body) : 0, r, err);
}

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
    char path[1200], other[1200];
    struct c8s_kubeconfig_opts ko = {.kubeconfig = other};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *c = NULL;
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    FILE *in, *out;
    char line[8192];

    start_cluster(1);
    /* The member's kubeconfig with a CA that did not sign its certificate:
     * the client certificate stands in for it. */
    snprintf(path, sizeof path, "%s/admin.kubeconfig", ms[0].dir);
    snprintf(other, sizeof other, "%s/wrong-ca.kubeconfig", unit_tmpdir());
    in = fopen(path, "r");
    out = fopen(other, "w");
    ASSERT(in != NULL && out != NULL);
    char cert[8192] = "";
    while (fgets(line, sizeof line, in) != NULL) {
        char *p = strstr(line, "client-certificate-data: ");
        if (p != NULL)
            snprintf(cert, sizeof cert, "%s", p + strlen("client-certificate-data: "));
    }
    rewind(in);
    while (fgets(line, sizeof line, in) != NULL) {
        char *p = strstr(line, "certificate-authority-data: ");
        if (p != NULL)
            fprintf(out, "%.*scertificate-authority-data: %s", (int)(p - line),
                    line, cert);
        else
            fputs(line, out);
    }
    fclose(in);
    fclose(out);
    ASSERT(cert[0] != '\0');
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
    char dead[64], url[200];
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    struct c8s_client *c;
    char path[1200], text[16384];
    FILE *f;
    size_t n;

    start_cluster(N);
    snprintf(dead, sizeof dead, "127.0.0.1:%d", tproc_free_port());
    /* m0's kubeconfig with a dead server first and the members after it. */
    snprintf(path, sizeof path, "%s/admin.kubeconfig", ms[0].dir);
    f = fopen(path, "r");
    ASSERT(f != NULL);
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *srv = strstr(text, "server: ");
    ASSERT(srv != NULL);
    char *eol = strchr(srv, '\n');
    char ha[16384];
    snprintf(ha, sizeof ha,
             "%.*sserver: https://%s\n"
             "    extensions:\n"
             "    - name: c8s.io/servers\n"
             "      extension:\n"
             "        servers: [https://%s, https://%s, https://%s]\n%s",
             (int)(srv - text), text, dead, ms[0].api, ms[1].api, ms[2].api,
             eol + 1);
    snprintf(path, sizeof path, "%s/ha.kubeconfig", unit_tmpdir());
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(ha, f);
    fclose(f);

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

int main(int argc, char **argv)
{
    (void)unsetenv("KUBECONFIG");
    return unit_main(argc, argv);
}
