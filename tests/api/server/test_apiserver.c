/* c8s-master with --api-listen: the PKI comes up through the store, every
 * member serves HTTPS with the shared CA, and the real kubectl connects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/proc.h"
#include "tests/lib/unit.h"

#define N 3

struct member {
    char name[8];           /* m0.. */
    char peer[32];          /* Peer address. */
    char api[32];           /* API address. */
    char dir[2048];         /* Data dir. */
    struct tproc *p;        /* Process. */
};

static struct member ms[N];
static char spec[256];

/* A kubectl binary, or NULL (tests that need it skip). */
static const char *kubectl(void)
{
    static const char *const candidates[] = {
        "/usr/lib/google-cloud-sdk/bin/kubectl.1.33", "/usr/bin/kubectl.1.33",
        "/usr/bin/kubectl", "/usr/local/bin/kubectl", NULL};

    for (int i = 0; candidates[i] != NULL; i++)
        if (access(candidates[i], X_OK) == 0)
            return candidates[i];
    return NULL;
}

static void start_member(int i, int n, const char *token)
{
    struct member *m = &ms[i];
    const char *argv[20] = {tproc_built("c8s-master"), "--name", m->name,
                            "--data-dir", m->dir, "--peer-listen", m->peer,
                            "--initial-cluster", spec, "--api-listen",
                            m->api};
    int argc = 11;

    if (token != NULL) {
        argv[argc++] = "--token";
        argv[argc++] = token;
    }
    (void)n;
    m->p = tproc_start(m->name, argv);
}

static void setup(int n)
{
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
}

/* Run kubectl against member @i; returns its exit status, output in *out. */
static int run_kubectl(int i, const char *const args[], char **out)
{
    const char *argv[24];
    char kubeconfig[2200], cache[600];
    int argc = 0;

    snprintf(kubeconfig, sizeof kubeconfig, "%s/admin.kubeconfig", ms[i].dir);
    snprintf(cache, sizeof cache, "%s/kcache", unit_tmpdir());
    argv[argc++] = kubectl();
    argv[argc++] = "--kubeconfig";
    argv[argc++] = kubeconfig;
    argv[argc++] = "--cache-dir";
    argv[argc++] = cache;
    argv[argc++] = "--request-timeout=10s";
    for (int k = 0; args[k] != NULL && argc < 23; k++)
        argv[argc++] = args[k];
    argv[argc] = NULL;
    struct tproc *p = tproc_start("kubectl", argv);
    for (int k = 0; k < 2000 && !tproc_exited(p); k++)
        usleep(10000);
    int status = tproc_stop(p, 1000);
    *out = tproc_log(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_T(apiserver, every_member_serves_https_with_one_cluster_ca, 120)
{
    char *a = NULL, *b;

    setup(N);
    for (int i = 0; i < N; i++)
        start_member(i, N, "s3cret-token");
    for (int i = 0; i < N; i++)
        ASSERT_MSG(tproc_wait_log(ms[i].p, "serving the Kubernetes API",
                                  30000) == 0,
                   "%s never served the API", ms[i].name);
    /* Same CA everywhere: the certificate-authority-data lines match. */
    for (int i = 0; i < N; i++) {
        char path[2200], line[4096] = "", *ca = NULL;
        snprintf(path, sizeof path, "%s/admin.kubeconfig", ms[i].dir);
        FILE *f = fopen(path, "r");
        ASSERT(f != NULL);
        while (fgets(line, sizeof line, f) != NULL)
            if (strstr(line, "certificate-authority-data") != NULL) {
                ca = strdup(line);
                break;
            }
        fclose(f);
        ASSERT(ca != NULL);
        if (i == 0)
            a = ca;
        else {
            ASSERT_STR_EQ(ca, a);
            free(ca);
        }
    }
    free(a);
    if (kubectl() == NULL)
        SKIP("no kubectl binary installed");
    for (int i = 0; i < N; i++) {
        const char *version[] = {"version", "-o", "json", NULL};
        ASSERT_EQ(run_kubectl(i, version, &b), 0);
        ASSERT_STR_CONTAINS(b, "\"gitVersion\": \"v1.33.0-c8s.");
        free(b);
        const char *ready[] = {"get", "--raw", "/readyz", NULL};
        ASSERT_EQ(run_kubectl(i, ready, &b), 0);
        ASSERT_STR_CONTAINS(b, "ok");
        free(b);
    }
}

TEST_T(apiserver, a_member_with_another_token_refuses_to_start, 120)
{
    /* Two members with the right token create the CA; the third comes
     * later with another token. */
    setup(3);
    start_member(0, 3, "right-token");
    start_member(1, 3, "right-token");
    ASSERT_EQ(tproc_wait_log(ms[0].p, "serving the Kubernetes API", 30000), 0);
    start_member(2, 3, "wrong-token");
    for (int k = 0; k < 3000 && !tproc_exited(ms[2].p); k++)
        usleep(10000);
    ASSERT_MSG(tproc_exited(ms[2].p), "member with a wrong token kept running");
    ASSERT(WIFEXITED(ms[2].p->status) && WEXITSTATUS(ms[2].p->status) == 1);
    char *log = tproc_log(ms[2].p);
    ASSERT_STR_CONTAINS(log, "start every member with the same --token");
    ASSERT(strstr(log, "wrong-token") == NULL); /* never logged */
    free(log);
}

TEST_T(apiserver, a_restart_keeps_the_certificates, 60)
{
    char path[2200], *before, *after;
    size_t len;

    setup(1);
    start_member(0, 1, NULL);
    ASSERT_EQ(tproc_wait_log(ms[0].p, "serving the Kubernetes API", 30000), 0);
    snprintf(path, sizeof path, "%s/pki/apiserver.crt", ms[0].dir);
    FILE *f = fopen(path, "r");
    ASSERT(f != NULL);
    before = calloc(1, 8192);
    len = fread(before, 1, 8191, f);
    fclose(f);
    ASSERT(len > 0);
    ASSERT_EQ(tproc_stop(ms[0].p, 10000), 0);
    tproc_restart(ms[0].p);
    ASSERT_EQ(tproc_wait_log(ms[0].p, "using the cluster CA from the store",
                             30000), 0);
    f = fopen(path, "r");
    ASSERT(f != NULL);
    after = calloc(1, 8192);
    len = fread(after, 1, 8191, f);
    fclose(f);
    ASSERT_STR_EQ(before, after);
    free(before);
    free(after);
}

UNIT_MAIN()
