/* The Kubernetes API server of one c8s-master member.
 *
 * srv_api_start() bootstraps the member's PKI through the replicated store
 * (the first member creates the cluster CA and stores it sealed with the
 * cluster token; the others open it), writes <data-dir>/admin.kubeconfig,
 * then serves HTTPS on the API address. Everything runs on the member's
 * loop; the CPU-heavy steps (PBKDF2, key generation, fsync'ed file writes)
 * run in the libuv thread pool. */
#ifndef C8S_API_SERVER_API_H
#define C8S_API_SERVER_API_H

#include <stdbool.h>

#include <uv.h>

#include "lib/err.h"
#include "raft/repl.h"

/* Store key of the sealed cluster CA. "~" cannot appear in a Kubernetes
 * resource name, so no API object can collide with it. */
#define SRV_INTERNAL_RESOURCE "~internal"
#define SRV_CA_KEY_NAME "cluster-ca"

struct srv_api;

struct srv_api_config {
    const char *listen;         /* --api-listen "A.B.C.D:PORT". */
    const char *token;          /* Cluster token protecting the CA. */
    const char *data_dir;       /* Member data dir (pki/ and kubeconfig). */
    unsigned max_inflight;      /* --max-requests-inflight: reads being
                                 * served at once (watches not counted);
                                 * more are 429. 0: 400. */
    unsigned max_mutating;      /* --max-mutating-requests-inflight, the
                                 * same for writes. 0: 200. */
    unsigned endpoint_lease_s;  /* --endpoint-lease-seconds: a member that
                                 * stops leaves the kubernetes Endpoints
                                 * within this. 0: 15. */
    const char *service_cidr;   /* --service-cluster-ip-range, IPv4 CIDR;
                                 * NULL: 10.96.0.0/12. The same on every
                                 * member. */
    const char *token_auth_file; /* --token-auth-file: bearer tokens, or
                                 * NULL. */
    bool no_anonymous;          /* --anonymous-auth=false: not even the
                                 * health endpoints without credentials. */
    const char *audit_log_path; /* --audit-log-path: the audit log (JSON
                                 * lines), or NULL: none. */
    const char *audit_policy_file; /* --audit-policy-file, or NULL:
                                 * Metadata for every request. */
    const char *encryption_config; /* --encryption-provider-config: an
                                 * EncryptionConfiguration for Secrets, or
                                 * NULL (a key derived from the token). */
    void (*on_fatal)(struct srv_api *api, const char *why); /* Bootstrap
                                 * failed for good (e.g. wrong token). */
    void *data;                 /* Caller's. */
};

int srv_api_start(uv_loop_t *loop, struct repl *repl,
                  const struct srv_api_config *cfg, struct srv_api **ret,
                  struct err *e);

/* Serving (PKI ready and listening)? */
bool srv_api_serving(const struct srv_api *api);

/* The port being served (useful with port 0), or 0 before serving. */
int srv_api_port(const struct srv_api *api);

void *srv_api_data(const struct srv_api *api);

/* Stop serving; @cb runs when every handle is closed and @api is freed. */
void srv_api_close(struct srv_api *api, void (*cb)(void *data), void *data);

#endif /* C8S_API_SERVER_API_H */
