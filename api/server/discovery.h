/* API discovery: the documents kubectl and client libraries read to learn
 * which resources the server has, built once from a resource registry and
 * served from memory.
 *
 * Documents (../shared/KUBECTL-WIRE.md section 2):
 *   /api              aggregated APIGroupDiscoveryList (the core group),
 *                     or legacy APIVersions
 *   /apis             aggregated APIGroupDiscoveryList (every other group),
 *                     or legacy APIGroupList
 *   /apis/GROUP       legacy APIGroup
 *   /api/v1, /apis/GROUP/VERSION
 *                     legacy APIResourceList, subresources included as
 *                     "pods/status", "deployments/scale"
 * The aggregated documents come in two versions with their own content
 * types: apidiscovery.k8s.io/v2 (kubectl >= 1.30 asks for it first) and
 * v2beta1 (the only one kubectl 1.27-1.29 asks for). Which one a request
 * gets is decided by its Accept header; plain application/json (or no
 * Accept) gets the legacy document, as from kube-apiserver, and kubectl
 * then falls back to legacy discovery.
 *
 * Every representation is encoded once, into a shared rbuf, with a strong
 * ETag computed from its bytes, so If-None-Match revalidation (kubectl's
 * HTTP cache does it after 6 hours) gets a 304.
 *
 * When the registry changes (CRDs, later), build a new srv_discovery and
 * replace the old one; bodies already handed to the HTTP server hold their
 * own references.
 *
 * No dependency on the HTTP server: a lookup returns plain data that maps
 * onto srv_respond_rbuf() / srv_respond() / srv_respond_status(). */
#ifndef C8S_API_SERVER_DISCOVERY_H
#define C8S_API_SERVER_DISCOVERY_H

#include "api/object/registry.h"
#include "lib/err.h"
#include "lib/rbuf.h"

/* Content types of the three representations. */
#define SRV_DISC_CT_JSON "application/json"
#define SRV_DISC_CT_V2 \
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
#define SRV_DISC_CT_V2BETA1 \
    "application/"          \
    "json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

struct srv_discovery;

/* What to answer to a request. On 200 and 304 the strings describe the
 * chosen representation; send @headers as srv_respond*'s extra_headers
 * (they carry ETag and Vary). On 404 and 406 send a Status with @reason and
 * @message (srv_respond_status). Everything is borrowed from the
 * srv_discovery and valid until it is freed. */
struct srv_disc_reply {
    int status;               /* 0: the path is not a discovery document
                                 (route it elsewhere); 200, 304, 404, 406 */
    struct rbuf *body;        /* 200 only: the document; srv_respond_rbuf()
                                 takes its own reference */
    const char *content_type; /* 200/304: SRV_DISC_CT_*, else NULL */
    const char *etag;         /* 200/304: the quoted ETag, else NULL */
    const char *headers;      /* 200/304: "ETag: ...\r\nVary: Accept\r\n" */
    const char *reason;       /* 404/406: "NotFound" / "NotAcceptable" */
    const char *message;      /* 404/406: for the Status message */
};

/* Build every document from @reg (borrowed only during the call).
 * @server_address ("host:port", may be NULL) fills the legacy /api
 * serverAddressByClientCIDRs for clientCIDR 0.0.0.0/0; NULL leaves the
 * list empty. 0, -ENOMEM (with @e filled). */
int srv_discovery_new(const struct obj_registry *reg,
                      const char *server_address,
                      struct srv_discovery **ret,
                      struct err *e);

/* Free the documents; accepts NULL. Bodies referenced elsewhere live on. */
void srv_discovery_free(struct srv_discovery *d);

/* Answer a GET of @path (the raw path, no query) with request headers
 * @accept and @if_none_match (either may be NULL) into *@ret. Never fails;
 * see struct srv_disc_reply for the outcomes. */
void srv_discovery_lookup(const struct srv_discovery *d,
                          const char *path,
                          const char *accept,
                          const char *if_none_match,
                          struct srv_disc_reply *ret);

#endif /* C8S_API_SERVER_DISCOVERY_H */
