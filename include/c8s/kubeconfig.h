/* kubeconfig: where a cluster is and who we are to it, read by kubectl's
 * rules.
 *
 * Files: the explicit path (kubectl's --kubeconfig) if given, which must
 * exist; otherwise every file in $KUBECONFIG (':'-separated; empty and
 * missing entries skipped, repeats read once); otherwise ~/.kube/config.
 * Merging: the first file to define a cluster, user or context name wins,
 * and so does the first file that sets current-context. Relative paths
 * (certificate-authority, client-certificate, client-key, tokenFile) are
 * resolved against the directory of the file that holds them.
 *
 * The context is the one asked for or current-context; its cluster and user
 * must exist. Supported: server (plus more servers of the same cluster in
 * the extension named "c8s.io/servers", see below), certificate-authority
 * (-data), insecure-skip-tls-verify, tls-server-name, client-certificate
 * (-data) with client-key(-data), token and tokenFile. A user relying on
 * exec, auth-provider or username/password is refused by name. Certificate,
 * key and token files are read when loading, so every error surfaces here,
 * naming the file and the field.
 *
 * An HA cluster's other masters, which kubectl ignores:
 *
 *   clusters:
 *   - name: c8s
 *     cluster:
 *       server: https://10.0.0.1:6443
 *       extensions:
 *       - name: c8s.io/servers
 *         extension:
 *           servers: [https://10.0.0.2:6443, https://10.0.0.3:6443]
 */
#ifndef C8S_KUBECONFIG_H
#define C8S_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <c8s/errors.h>

/* kubectl's global flags that pick or override the configuration; NULL or
 * "" fields are not set. */
struct c8s_kubeconfig_opts {
    const char *kubeconfig; /* --kubeconfig: only this file. */
    const char *context;    /* --context: instead of current-context. */
    const char *server;     /* --server: replaces the cluster's servers. */
    const char *ns;         /* --namespace: instead of the context's. */
};

/* The resolved configuration of one context. */
struct c8s_kubeconfig;

/* Read and resolve. On failure *@ret is NULL and @err (if not NULL) names
 * the file and field: -C8S_ECONFIG for a bad or incomplete configuration,
 * -ENOENT and other -errno for files, -C8S_EMALFORMED for bad YAML. */
int c8s_kubeconfig_load(const struct c8s_kubeconfig_opts *opts,
                        struct c8s_kubeconfig **ret, struct c8s_error *err);

void c8s_kubeconfig_free(struct c8s_kubeconfig *kc);

/* Names as resolved: the context, its cluster and user ("" for a context
 * without user), and the namespace (the option, the context's, or
 * "default"). */
const char *c8s_kubeconfig_context(const struct c8s_kubeconfig *kc);
const char *c8s_kubeconfig_cluster(const struct c8s_kubeconfig *kc);
const char *c8s_kubeconfig_user(const struct c8s_kubeconfig *kc);
const char *c8s_kubeconfig_namespace(const struct c8s_kubeconfig *kc);

/* The cluster's servers, "https://host:port" (a path prefix kept if
 * given), the kubeconfig's server first. At least one. */
size_t c8s_kubeconfig_server_count(const struct c8s_kubeconfig *kc);
const char *c8s_kubeconfig_server(const struct c8s_kubeconfig *kc, size_t i);

/* TLS material, PEM; NULL when not configured (no CA: the system's trust
 * store). tls-server-name is NULL when unset. */
const char *c8s_kubeconfig_ca_pem(const struct c8s_kubeconfig *kc,
                                  size_t *ret_len);
const char *c8s_kubeconfig_cert_pem(const struct c8s_kubeconfig *kc,
                                    size_t *ret_len);
const char *c8s_kubeconfig_key_pem(const struct c8s_kubeconfig *kc,
                                   size_t *ret_len);
const char *c8s_kubeconfig_tls_server_name(const struct c8s_kubeconfig *kc);
bool c8s_kubeconfig_insecure(const struct c8s_kubeconfig *kc);

/* Bearer token (token, else tokenFile's content without the trailing
 * newline); NULL when none. */
const char *c8s_kubeconfig_token(const struct c8s_kubeconfig *kc);

#endif /* C8S_KUBECONFIG_H */
