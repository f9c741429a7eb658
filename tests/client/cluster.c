/* A c8s cluster for libc8s's tests, and small request helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/client/cluster.h"
#include "tests/lib/unit.h"

struct member ms[N];
const char *extra_flags[5];

void start_cluster(int n)
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
        const char *argv[24] = {tproc_built("c8s-master"), "--name",
                                ms[i].name, "--data-dir", ms[i].dir,
                                "--peer-listen", ms[i].peer,
                                "--initial-cluster", spec, "--api-listen",
                                ms[i].api, "--token", "t0ken"};
        int argc = 13;

        for (int k = 0; k < 4 && extra_flags[k] != NULL; k++)
            argv[argc++] = extra_flags[k];
        ms[i].p = tproc_start(ms[i].name, argv);
    }
    for (int i = 0; i < n; i++)
        ASSERT_MSG(tproc_wait_log(ms[i].p, "serving the Kubernetes API",
                                  30000) == 0,
                   "%s never served the API", ms[i].name);
}

struct c8s_client *client_for(int i, const char *server,
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

int req(struct c8s_client *c, const char *method, const char *path,
               const char *body, struct c8s_response *r,
               struct c8s_error *err)
{
    return c8s_request(c, method, path, NULL, body,
                       body != NULL ? strlen(body) : 0, r, err);
}

/* m0's kubeconfig with @first as its server and every member after it
 * (c8s.io/servers), written to @path. */
void write_ha_kubeconfig(const char *first, char *path, size_t size)
{
    char text[16384], ha[16384];
    FILE *f;
    size_t n;

    snprintf(path, size, "%s/admin.kubeconfig", ms[0].dir);
    f = fopen(path, "r");
    ASSERT(f != NULL);
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *srv = strstr(text, "server: ");
    ASSERT(srv != NULL);
    char *eol = strchr(srv, '\n');
    ASSERT(eol != NULL);
    snprintf(ha, sizeof ha,
             "%.*sserver: https://%s\n"
             "    extensions:\n"
             "    - name: c8s.io/servers\n"
             "      extension:\n"
             "        servers: [https://%s, https://%s, https://%s]\n%s",
             (int)(srv - text), text, first, ms[0].api, ms[1].api, ms[2].api,
             eol + 1);
    snprintf(path, size, "%s/ha.kubeconfig", unit_tmpdir());
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(ha, f);
    fclose(f);
}

struct c8s_client *client_from(const char *path)
{
    struct c8s_kubeconfig_opts ko = {.kubeconfig = path};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *c = NULL;
    struct c8s_error err = {0};

    ASSERT_MSG(c8s_kubeconfig_load(&ko, &kc, &err) == 0, "%s", err.message);
    ASSERT_MSG(c8s_client_new(kc, NULL, &c, &err) == 0, "%s", err.message);
    c8s_kubeconfig_free(kc);
    return c;
}

/* The resourceVersion of a list at @path. */
void list_rv(struct c8s_client *c, const char *path, char *rv,
                    size_t size)
{
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    struct c8s_obj *o = NULL;

    ASSERT_MSG(req(c, "GET", path, NULL, &r, &err) == 0, "%s", err.message);
    ASSERT(c8s_obj_from_json(r.body, r.body_len, &o, &err) == 0);
    snprintf(rv, size, "%s",
             c8s_obj_str(c8s_obj_path(o, "metadata.resourceVersion"), ""));
    ASSERT(rv[0] != '\0');
    c8s_obj_free(o);
    c8s_response_clear(&r);
}

void create_cm(struct c8s_client *c, const char *ns, const char *name)
{
    char path[200], body[200];
    struct c8s_response r = {0};
    struct c8s_error err = {0};

    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", ns);
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"}}", name);
    /* While the leader changes a write may end unknown: read and retry,
     * as a careful client does; AlreadyExists then means it happened. */
    for (int k = 0;; k++) {
        int rv = req(c, "POST", path, body, &r, &err);

        c8s_response_clear(&r);
        if (rv == 0 || (rv == -C8S_EEXISTS && k > 0))
            return;
        ASSERT_MSG((rv == -C8S_EUNKNOWN || rv == -C8S_EOVERLOADED) && k < 50,
                   "%d %s", rv, err.message);
        usleep(100000);
    }
}


void write_wrong_ca_kubeconfig(char *other, size_t size)
{
    char path[1200], line[8192], cert[8192] = "";
    FILE *in, *out;

    /* The client certificate stands in for the CA: it did not sign the
     * member's serving certificate. */
    snprintf(path, sizeof path, "%s/admin.kubeconfig", ms[0].dir);
    snprintf(other, size, "%s/wrong-ca.kubeconfig", unit_tmpdir());
    in = fopen(path, "r");
    out = fopen(other, "w");
    ASSERT(in != NULL && out != NULL);
    while (fgets(line, sizeof line, in) != NULL) {
        char *p = strstr(line, "client-certificate-data: ");
        if (p != NULL)
            snprintf(cert, sizeof cert, "%s",
                     p + strlen("client-certificate-data: "));
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
}
