/* <data-dir>/admin.kubeconfig: what kubectl needs to reach a member as the
 * cluster admin, with every certificate and the key embedded. */
#ifndef C8S_API_SERVER_KUBECONFIG_H
#define C8S_API_SERVER_KUBECONFIG_H

#include <stddef.h>

#include "api/server/pki.h"
#include "lib/err.h"

/* Names inside the file: one cluster, one user, one context tying them. */
#define SRV_KUBECONFIG_CLUSTER "c8s"
#define SRV_KUBECONFIG_USER "admin"
#define SRV_KUBECONFIG_CONTEXT "admin@c8s"

/* The kubeconfig text for https://@host:@port (an IPv6 @host is bracketed
 * here), trusting @ca's certificate, authenticating with @client's
 * certificate and key. A kubeconfig cluster holds exactly one server URL, so
 * the file points at one member (normally the one that wrote it); kubectl
 * does not fail over. @host is limited to letters, digits, '.', '-' and ':'
 * (-EINVAL otherwise), which also keeps the hand-written YAML well-formed.
 * The buffer holds a private key: free it with
 * srv_pki_free_secret(*ret, *ret_len + 1). */
int srv_kubeconfig_render(const char *host,
                          unsigned port,
                          const struct srv_pki_cred *ca,
                          const struct srv_pki_cred *client,
                          char **ret,
                          size_t *ret_len,
                          struct err *e);

/* Render as above and write it to @path atomically with mode 0600. */
int srv_kubeconfig_write(const char *path,
                         const char *host,
                         unsigned port,
                         const struct srv_pki_cred *ca,
                         const struct srv_pki_cred *client,
                         struct err *e);

#endif /* C8S_API_SERVER_KUBECONFIG_H */
