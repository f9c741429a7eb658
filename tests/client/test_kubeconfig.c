/* kubeconfig loading and merging by kubectl's rules, and its errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <c8s/kubeconfig.h>

#include "tests/lib/unit.h"

/* base64 of "-----CA-----\n", "-----CERT-----\n", "-----KEY-----\n". */
#define CA_B64 "LS0tLS1DQS0tLS0tCg=="
#define CERT_B64 "LS0tLS1DRVJULS0tLS0K"
#define KEY_B64 "LS0tLS1LRVktLS0tLQo="

static const char *write_tmp(const char *name, const char *text)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    FILE *f;

    (void)snprintf(p, sizeof paths[0], "%s/%s", unit_tmpdir(), name);
    f = fopen(p, "w");
    ASSERT(f != NULL);
    ASSERT(fputs(text, f) >= 0);
    ASSERT(fclose(f) == 0);
    return p;
}

static const char *one_context_yaml =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: admin@c8s\n"
    "clusters:\n"
    "- name: c8s\n"
    "  cluster:\n"
    "    server: https://127.0.0.1:6443\n"
    "    certificate-authority-data: " CA_B64 "\n"
    "users:\n"
    "- name: admin\n"
    "  user:\n"
    "    client-certificate-data: " CERT_B64 "\n"
    "    client-key-data: " KEY_B64 "\n"
    "contexts:\n"
    "- name: admin@c8s\n"
    "  context: {cluster: c8s, user: admin}\n"
    "- name: other\n"
    "  context: {cluster: c8s, user: admin, namespace: team-a}\n";

static struct c8s_kubeconfig *load(const struct c8s_kubeconfig_opts *o)
{
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_error err = {0};
    int rv = c8s_kubeconfig_load(o, &kc, &err);

    ASSERT_MSG(rv == 0, "load: %d %s", rv, err.message);
    ASSERT(kc != NULL);
    return kc;
}

/* The load fails with @code and a message containing each of @want. */
static void load_fails(const struct c8s_kubeconfig_opts *o, int code,
                       const char *want1, const char *want2)
{
    struct c8s_kubeconfig *kc = (void *)1;
    struct c8s_error err = {0};
    int rv = c8s_kubeconfig_load(o, &kc, &err);

    ASSERT_MSG(rv == code, "got %d (%s), want %d", rv, err.message, code);
    ASSERT(kc == NULL);
    ASSERT_EQ(err.code, code);
    if (want1 != NULL)
        ASSERT_STR_CONTAINS(err.message, want1);
    if (want2 != NULL)
        ASSERT_STR_CONTAINS(err.message, want2);
}

TEST(kubeconfig, one_file_gives_servers_material_and_namespace)
{
    struct c8s_kubeconfig_opts o = {
        .kubeconfig = write_tmp("config", one_context_yaml)};
    struct c8s_kubeconfig *kc = load(&o);
    size_t len;

    ASSERT_STR_EQ(c8s_kubeconfig_context(kc), "admin@c8s");
    ASSERT_STR_EQ(c8s_kubeconfig_cluster(kc), "c8s");
    ASSERT_STR_EQ(c8s_kubeconfig_user(kc), "admin");
    ASSERT_STR_EQ(c8s_kubeconfig_namespace(kc), "default");
    ASSERT_UEQ(c8s_kubeconfig_server_count(kc), 1);
    ASSERT_STR_EQ(c8s_kubeconfig_server(kc, 0), "https://127.0.0.1:6443");
    ASSERT(c8s_kubeconfig_server(kc, 1) == NULL);
    ASSERT_STR_EQ(c8s_kubeconfig_ca_pem(kc, &len), "-----CA-----\n");
    ASSERT_UEQ(len, 13);
    ASSERT_STR_EQ(c8s_kubeconfig_cert_pem(kc, NULL), "-----CERT-----\n");
    ASSERT_STR_EQ(c8s_kubeconfig_key_pem(kc, NULL), "-----KEY-----\n");
    ASSERT(c8s_kubeconfig_token(kc) == NULL);
    ASSERT(c8s_kubeconfig_tls_server_name(kc) == NULL);
    ASSERT(!c8s_kubeconfig_insecure(kc));
    c8s_kubeconfig_free(kc);

    /* --context picks another context, with its namespace; --namespace and
     * --server override. */
    o.context = "other";
    kc = load(&o);
    ASSERT_STR_EQ(c8s_kubeconfig_namespace(kc), "team-a");
    c8s_kubeconfig_free(kc);
    o.ns = "team-b";
    o.server = "https://127.0.0.2:7443";
    kc = load(&o);
    ASSERT_STR_EQ(c8s_kubeconfig_namespace(kc), "team-b");
    ASSERT_UEQ(c8s_kubeconfig_server_count(kc), 1);
    ASSERT_STR_EQ(c8s_kubeconfig_server(kc, 0), "https://127.0.0.2:7443");
    c8s_kubeconfig_free(kc);
}

/* KUBECONFIG: first definition of a name wins, first current-context wins,
 * missing and empty entries are skipped, relative paths follow the file that
 * holds them. */
TEST(kubeconfig, kubeconfig_files_merge_by_kubectl_rules)
{
    char env[2048], dir[600];
    struct c8s_kubeconfig *kc;
    const char *a, *b;

    (void)snprintf(dir, sizeof dir, "%s/sub", unit_tmpdir());
    ASSERT(mkdir(dir, 0700) == 0);
    write_tmp("sub/ca.pem", "-----FILE CA-----\n");
    write_tmp("sub/token", "s3cret\n");
    a = write_tmp("a.yaml",
                  "clusters:\n"
                  "- name: c8s\n"
                  "  cluster: {server: 'https://10.0.0.1:6443', "
                  "insecure-skip-tls-verify: true}\n"
                  "contexts:\n"
                  "- name: dev\n"
                  "  context: {cluster: c8s, user: dev}\n");
    b = write_tmp("sub/b.yaml",
                  "current-context: dev\n"
                  "clusters:\n"
                  "- name: c8s\n"
                  "  cluster: {server: 'https://10.9.9.9:6443'}\n"
                  "- name: other\n"
                  "  cluster: {server: 'https://10.0.0.2:6443', "
                  "certificate-authority: ca.pem}\n"
                  "users:\n"
                  "- name: dev\n"
                  "  user: {tokenFile: token}\n"
                  "contexts:\n"
                  "- name: dev\n"
                  "  context: {cluster: other, user: nobody}\n"
                  "- name: second\n"
                  "  context: {cluster: other, user: dev}\n");
    (void)snprintf(env, sizeof env, "%s/missing.yaml::%s:%s:%s", unit_tmpdir(),
                   a, b, a);
    ASSERT(setenv("KUBECONFIG", env, 1) == 0);

    kc = load(NULL);
    /* context "dev" and cluster "c8s" come from a.yaml, the first file to
     * define them; current-context from b.yaml, the only one setting it. */
    ASSERT_STR_EQ(c8s_kubeconfig_context(kc), "dev");
    ASSERT_STR_EQ(c8s_kubeconfig_server(kc, 0), "https://10.0.0.1:6443");
    ASSERT(c8s_kubeconfig_insecure(kc));
    ASSERT_STR_EQ(c8s_kubeconfig_token(kc), "s3cret");
    c8s_kubeconfig_free(kc);

    struct c8s_kubeconfig_opts o = {.context = "second"};
    kc = load(&o);
    ASSERT_STR_EQ(c8s_kubeconfig_ca_pem(kc, NULL), "-----FILE CA-----\n");
    ASSERT_STR_EQ(c8s_kubeconfig_server(kc, 0), "https://10.0.0.2:6443");
    c8s_kubeconfig_free(kc);
    ASSERT(unsetenv("KUBECONFIG") == 0);
}

TEST(kubeconfig, ha_servers_come_from_the_c8s_extension)
{
    struct c8s_kubeconfig_opts o = {.kubeconfig = write_tmp(
        "ha.yaml", "current-context: c\n"
                   "clusters:\n"
                   "- name: c8s\n"
                   "  cluster:\n"
                   "    server: https://127.0.0.1:6443\n"
                   "    tls-server-name: master.c8s\n"
                   "    extensions:\n"
                   "    - name: other.example/x\n"
                   "      extension: {servers: [https://1.2.3.4:1]}\n"
                   "    - name: c8s.io/servers\n"
                   "      extension:\n"
                   "        servers: [https://127.0.0.2:6443, "
                   "https://127.0.0.3:6443]\n"
                   "users:\n"
                   "- name: u\n"
                   "  user: {token: abc, tokenFile: /nonexistent}\n"
                   "contexts:\n"
                   "- name: c\n"
                   "  context: {cluster: c8s, user: u}\n")};
    struct c8s_kubeconfig *kc = load(&o);

    ASSERT_UEQ(c8s_kubeconfig_server_count(kc), 3);
    ASSERT_STR_EQ(c8s_kubeconfig_server(kc, 0), "https://127.0.0.1:6443");
    ASSERT_STR_EQ(c8s_kubeconfig_server(kc, 1), "https://127.0.0.2:6443");
    ASSERT_STR_EQ(c8s_kubeconfig_server(kc, 2), "https://127.0.0.3:6443");
    ASSERT_STR_EQ(c8s_kubeconfig_tls_server_name(kc), "master.c8s");
    ASSERT_STR_EQ(c8s_kubeconfig_token(kc), "abc"); /* token wins */
    c8s_kubeconfig_free(kc);
}

/* One broken kubeconfig per case: the error names the file and field. */
TEST(kubeconfig, errors_name_the_file_and_the_field)
{
    static const struct {
        const char *yaml, *context, *want1, *want2;
        int code;
    } cases[] = {
        {"current-context: nope\n", NULL, "context \"nope\" not found", NULL,
         -C8S_ECONFIG},
        {"clusters: []\n", NULL, "current-context is not set", NULL,
         -C8S_ECONFIG},
        {"contexts:\n- name: c\n  context: {cluster: gone, user: u}\n", "c",
         "contexts[0].context.cluster", "cluster \"gone\"", -C8S_ECONFIG},
        {"clusters:\n- name: k\n  cluster: {}\ncontexts:\n- name: c\n"
         "  context: {cluster: k}\n",
         "c", "clusters[0].cluster.server", "has no server", -C8S_ECONFIG},
        {"clusters:\n- name: k\n  cluster: {server: 5}\ncontexts:\n- name: c\n"
         "  context: {cluster: k}\n",
         "c", "clusters[0].cluster.server: must be a string", NULL,
         -C8S_ECONFIG},
        {"clusters:\n- name: k\n  cluster: {server: 'ftp://x'}\ncontexts:\n"
         "- name: c\n  context: {cluster: k}\n",
         "c", "not an http:// or https:// URL", NULL, -C8S_ECONFIG},
        {"clusters:\n- name: k\n  cluster: {server: 'https://x', "
         "certificate-authority-data: '@@@'}\ncontexts:\n- name: c\n"
         "  context: {cluster: k}\n",
         "c", "certificate-authority-data: not valid base64", NULL,
         -C8S_ECONFIG},
        {"clusters:\n- name: k\n  cluster: {server: 'https://x', "
         "certificate-authority-data: " CA_B64 ", insecure-skip-tls-verify: "
         "true}\ncontexts:\n- name: c\n  context: {cluster: k}\n",
         "c", "insecure-skip-tls-verify together", NULL, -C8S_ECONFIG},
        {"clusters:\n- name: k\n  cluster: {server: 'https://x', "
         "certificate-authority: /nonexistent/ca.pem}\ncontexts:\n- name: c\n"
         "  context: {cluster: k}\n",
         "c", "cluster.certificate-authority: /nonexistent/ca.pem", NULL,
         -ENOENT},
        {"clusters:\n- name: k\n  cluster: {server: 'https://x'}\nusers:\n"
         "- name: u\n  user: {client-certificate-data: " CERT_B64 "}\n"
         "contexts:\n- name: c\n  context: {cluster: k, user: u}\n",
         "c", "users[0].user", "no client key", -C8S_ECONFIG},
        {"clusters:\n- name: k\n  cluster: {server: 'https://x'}\nusers:\n"
         "- name: u\n  user: {client-key-data: " KEY_B64 ", client-key: k}\n"
         "contexts:\n- name: c\n  context: {cluster: k, user: u}\n",
         "c", "both client-key and client-key-data", NULL, -C8S_ECONFIG},
        {"clusters:\n- name: k\n  cluster: {server: 'https://x'}\nusers:\n"
         "- name: u\n  user: {exec: {command: aws}}\n"
         "contexts:\n- name: c\n  context: {cluster: k, user: u}\n",
         "c", "users[0].user.exec", "does not support", -C8S_ECONFIG},
        {"clusters:\n- name: k\n  cluster: {server: 'https://x'}\n"
         "contexts:\n- name: c\n  context: {cluster: k, user: ghost}\n",
         "c", "user \"ghost\"", "not found", -C8S_ECONFIG},
        {"clusters: {a: b}\n", NULL, "clusters: must be a list", NULL,
         -C8S_ECONFIG},
        {"users:\n- user: {}\n", NULL, "users[0].name", NULL, -C8S_ECONFIG},
        {"- just\n- a list\n", NULL, "must be a map", NULL, -C8S_ECONFIG},
        {"clusters: [\n", NULL, "bad.yaml", NULL, -C8S_EMALFORMED},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct c8s_kubeconfig_opts o = {
            .kubeconfig = write_tmp("bad.yaml", cases[i].yaml),
            .context = cases[i].context};

        load_fails(&o, cases[i].code, "bad.yaml", cases[i].want1);
        if (cases[i].want2 != NULL)
            load_fails(&o, cases[i].code, cases[i].want1, cases[i].want2);
    }
}

TEST(kubeconfig, missing_files)
{
    char path[600], env[1300];
    struct c8s_kubeconfig_opts o = {.kubeconfig = path};

    (void)snprintf(path, sizeof path, "%s/absent", unit_tmpdir());
    load_fails(&o, -ENOENT, path, NULL); /* --kubeconfig must exist */

    /* KUBECONFIG naming only missing files, and no ~/.kube/config. */
    (void)snprintf(env, sizeof env, "%s:%s.2", path, path);
    ASSERT(setenv("KUBECONFIG", env, 1) == 0);
    load_fails(NULL, -C8S_ECONFIG, "no kubeconfig", NULL);
    ASSERT(unsetenv("KUBECONFIG") == 0);
    ASSERT(setenv("HOME", unit_tmpdir(), 1) == 0);
    load_fails(NULL, -C8S_ECONFIG, "no kubeconfig", NULL);

    /* ~/.kube/config is the default. */
    (void)snprintf(path, sizeof path, "%s/.kube", unit_tmpdir());
    ASSERT(mkdir(path, 0700) == 0);
    write_tmp(".kube/config", one_context_yaml);
    struct c8s_kubeconfig *kc = load(NULL);
    ASSERT_STR_EQ(c8s_kubeconfig_user(kc), "admin");
    c8s_kubeconfig_free(kc);
}

int main(int argc, char **argv)
{
    (void)unsetenv("KUBECONFIG");
    return unit_main(argc, argv);
}
