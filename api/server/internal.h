/* api/server internals shared by its files (not for other modules). */
#ifndef C8S_API_SERVER_INTERNAL_H
#define C8S_API_SERVER_INTERNAL_H

#include <openssl/types.h>

#include "api/object/openapi.h"
#include "api/server/atrest.h"
#include "api/server/audit.h"
#include "api/server/authn.h"
#include "api/server/api.h"
#include "api/server/http.h"
#include "api/server/pki.h"
#include "api/server/satoken.h"

struct obj_registry;
struct srv_discovery;
struct srv_watch;
struct srv_metrics;
struct srv_crd_set;
struct obj_rbac;
struct srv_route;
struct store_watch;

/* Steps of the PKI bootstrap, in order. */
enum srv_boot_step {
    SRV_BOOT_READ_CA,       /* Waiting for a read point to look the CA up. */
    SRV_BOOT_OPEN_CA,       /* Opening the stored CA (thread pool). */
    SRV_BOOT_CREATE_CA,     /* Creating and sealing a CA (thread pool). */
    SRV_BOOT_STORE_CA,      /* Proposing the sealed CA. */
    SRV_BOOT_MEMBER,        /* Member certificates, kubeconfig (pool). */
    SRV_BOOT_SERVING,       /* Listening. */
    SRV_BOOT_FAILED,        /* Gave up: on_fatal was called. */
};

/* One answer about one stored version of one object, kept because
 * creates come in runs into one namespace (or of one custom resource) and
 * decoding it for every create took 8% of a member's CPU (perf). */
struct srv_flag_cache {
    char name[300];
    store_rev mod_rev;
    bool value;
};

struct srv_api {
    uv_loop_t *loop;            /* The member's loop. */
    struct repl *repl;          /* Replicated store. */
    struct srv_api_config cfg;  /* Copy; strings below. */
    char listen[64];            /* cfg.listen storage. */
    char data_dir[4096];        /* cfg.data_dir storage. */
    char *token;                /* cfg.token storage (cleansed on free). */
    char host[256];             /* Host the kubeconfig points at. */
    unsigned inflight[2];       /* Calls being served: reads, writes. */
    struct srv_flag_cache last_ns;  /* Is the namespace a create last went
                                     * to Terminating? */
    struct srv_flag_cache last_crd; /* Is the definition of the custom
                                     * object a create last made? */
    struct srv_atrest atrest;   /* Keys of Secrets at rest. */
    struct srv_authn authn;     /* Who may call (authn.c). */
    struct srv_audit *audit;    /* Audit log, or NULL (off). */
    struct srv_satoken satoken; /* ServiceAccount token key, from the CA
                                 * (set with the member's material). */
    struct obj_rbac *rbac;      /* RBAC decision data (authz.c). */
    struct store_watch *rbac_watch[4]; /* Roles and bindings changing. */
    bool rbac_dirty;            /* rbac is out of date. */
    bool rbac_reopen;           /* a watch was closed: open them again. */
    struct repl_req rbac_reqs[16]; /* Creating the default roles. */
    uint32_t svc_net;           /* Service range: network (host order), */
    unsigned svc_bits;          /* and prefix length. */
    char svc_cidr[32];          /* The range as text, for messages. */
    char kube_ip[16];           /* Its first address: the kubernetes
                                 * Service's ClusterIP. */
    enum srv_boot_step step;    /* Where the bootstrap is. */
    struct repl_req read_req;   /* Read point for the CA lookup. */
    struct repl_req write_req;  /* CREATE of the sealed CA. */
    uv_work_t work;             /* Thread-pool job of the current step. */
    bool work_busy;             /* work is queued or running. */
    unsigned repl_busy;         /* read_req/write_req awaiting callbacks. */
    uv_timer_t retry;           /* Back-off between bootstrap attempts. */
    bool retry_open;            /* retry was initialised. */
    unsigned attempts;          /* Bootstrap attempts (for log pacing). */
    uint8_t *sealed;            /* Sealed CA blob (mem_malloc). */
    size_t sealed_len;          /* Its length. */
    struct srv_pki_cred *ca;    /* The cluster CA, once known. */
    struct srv_pki_member member; /* CA, serving and admin credentials. */
    int work_rv;                /* Result of the thread-pool job. */
    struct err work_err;        /* Its context. */
    SSL_CTX *tls;               /* Serving context. */
    struct srv_http *http;      /* The HTTPS server, once serving. */
    struct obj_registry *reg;   /* Resources served. */
    struct srv_discovery *disc; /* Discovery documents of reg. */
    struct obj_openapi *openapi; /* OpenAPI v3 of reg, built when first
                                  * asked for (serve.c). */
    uv_check_t watch_drain;     /* Delivers queued watch events. */
    bool watch_drain_open;      /* watch_drain was initialised. */
    struct srv_watch *watches;  /* Open watch streams. */
    struct srv_watch *ready;    /* Watches with events to deliver. */
    unsigned watches_paused;    /* Watches waiting for their output to
                                 * drain (watch.c). */
    uv_timer_t bookmarks;       /* Progress events for idle watchers. */
    bool bookmarks_open;        /* bookmarks was initialised. */
    unsigned handles;           /* Hooks being closed. */
    struct repl_req ns_reqs[4]; /* Creating the built-in namespaces. */
    struct srv_metrics *metrics; /* /metrics figures. */
    struct repl_req svc_req;    /* Creating the kubernetes Service. */
    struct repl_req ep_req;     /* Lease renewal and Endpoints update. */
    uv_timer_t ep_timer;        /* Rounds of endpoints.c. */
    bool ep_timer_open;         /* ep_timer was initialised. */
    bool ep_busy;               /* A round is under way. */
    unsigned ep_listed;         /* Members in the Endpoints being written. */
    struct srv_crd_set *crd_set; /* Custom resources served (crd.c). */
    struct store_watch *crd_watch; /* Definitions changing in the store. */
    uv_timer_t crd_timer;       /* Rebuilds after a change, off the apply. */
    bool crd_timer_open;        /* crd_timer was initialised. */
    bool crd_dirty;             /* The served set is out of date. */
    bool closing;               /* srv_api_close was called. */
    void (*close_cb)(void *);   /* From srv_api_close. */
    void *close_data;           /* Its argument. */
};

/* bootstrap.c */
void srv__boot_begin(struct srv_api *api);
void srv__boot_done(struct srv_api *api);

/* serve.c */
int srv__serve_start(struct srv_api *api, struct err *e);
void srv__on_request(struct srv_req *req);

/* resources.c: the /api and /apis trees; false if @req is not for them. */
bool srv__serve_api(struct srv_api *api, struct srv_req *req);

/* api.c */
void srv__work_done(struct srv_api *api);

/* watch.c */
void srv__watch_close_all(struct srv_api *api);

/* builtin.c: the kubernetes Service and Endpoints. */
void srv__builtin_service(struct srv_api *api);
/* An object of @kind named kubernetes in default (Service, Endpoints). */
struct obj *srv__builtin_object(const char *kind);
/* endpoints.c: lease renewal and the kubernetes Endpoints, every third of
 * the lease duration from now on. */
void srv__endpoints_start(struct srv_api *api);

/* crd.c: follow the stored definitions and serve their resources. */
int srv__crd_start(struct srv_api *api, struct err *e);
/* Take pending definition changes and rebuild what is served now. */
void srv__crd_poke(struct srv_api *api);
void srv__crd_free(struct srv_api *api);

/* The user a ServiceAccount token (satoken.h) stands for, if it verifies
 * and its ServiceAccount (and bound object) still exist with the uids it
 * names: system:serviceaccount:NS:NAME in system:serviceaccounts,
 * system:serviceaccounts:NS and system:authenticated. 0 or -EACCES
 * (tokenrequest.c). */
int srv__sa_user(struct srv_api *api, const char *token, struct srv_user *u);

/* Does the Node authorizer allow @a for @u (a node agent; authz_node.c)?
 * false: no opinion, RBAC decides. */
struct obj_rbac_attrs;
bool srv__authz_node(struct srv_api *api, const struct srv_user *u,
                     const struct obj_rbac_attrs *a);

/* Bootstrap tokens (bootstraptoken.c): is @token shaped like one
 * ([a-z0-9]{6}.[a-z0-9]{16})? And its user, from the Secret
 * kube-system/bootstrap-token-ID: system:bootstrap:ID in
 * system:bootstrappers (and its auth-extra-groups). 0 or -EACCES. */
bool srv__bootstrap_token_shape(const char *token);
int srv__bootstrap_user(struct srv_api *api, const char *token,
                        struct srv_user *u);

/* Who sent @req (before impersonation): a certificate, a token of the
 * token file, a bootstrap token or a ServiceAccount token, else
 * anonymous. 0 or -EACCES /
 * -ENOENT for a bearer token nobody knows (serve.c). */
int srv__user(struct srv_api *api, const struct srv_req *req,
              struct srv_user *u);

/* authz.c: RBAC. */
int srv__authz_start(struct srv_api *api, struct err *e);
void srv__authz_free(struct srv_api *api);
/* Create the default roles and bindings (AlreadyExists is fine). */
void srv__authz_defaults(struct srv_api *api);
/* May @u do what @req asks of the resource at route @r, or of its path?
 * false: answered 403. */
bool srv__authz_resource(struct srv_api *api, struct srv_req *req,
                         const struct srv_user *u, const struct srv_route *r);
bool srv__authz_path(struct srv_api *api, struct srv_req *req,
                     const struct srv_user *u);
/* Act as the user of the Impersonate-User and Impersonate-Group headers
 * when @u may (verb impersonate on users and groups). false: answered. */
bool srv__impersonate(struct srv_api *api, struct srv_req *req,
                      struct srv_user *u);
/* Same for @verb on the resource of @r (impersonate on users, say). */
bool srv__authz_verb(struct srv_api *api, struct srv_req *req,
                     const struct srv_user *u, const struct srv_route *r,
                     const char *verb);
struct srv_call;
/* Writing a role or binding: no more than the caller holds (escalate and
 * bind aside), roleRef unchanged. 0, or answered and non-zero. */
int srv__authz_escalation(struct srv_call *c, const struct obj *o,
                          const struct obj *old);
/* May the caller of @c also @verb its route's object? false: answered. */
bool srv__authz_call(struct srv_call *c, const char *verb);
/* Answer a SelfSubjectAccessReview or SelfSubjectRulesReview @body (taken)
 * for the caller; ends @c. */
void srv__authz_review(struct srv_call *c, struct obj *body);

/* GET /c8s/v1/snapshot (snapshot.c); false if @req is for another path. */
bool srv__serve_snapshot(struct srv_api *api, struct srv_req *req);

#endif /* C8S_API_SERVER_INTERNAL_H */
