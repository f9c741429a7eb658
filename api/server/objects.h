/* Helpers shared by the resource handlers: stored objects, answers,
 * errors. */
#ifndef C8S_API_SERVER_OBJECTS_H
#define C8S_API_SERVER_OBJECTS_H

#include "api/object/apply.h"
#include "api/object/codec.h"
#include "api/object/obj.h"
#include "api/object/registry.h"
#include "api/object/table.h"
#include "api/server/internal.h"
#include "api/server/route.h"

#define SRV_MAX_EXTRA 16

/* A key allocated with the object, in the same txn (a Service's ClusterIP
 * and NodePorts), so two members can never hand out the same one. */
struct srv_alloc {
    char resource[16];          /* "~clusterip" or "~nodeport". */
    char name[48];              /* The IP or the port. */
    bool automatic;             /* Chosen by us (retry another on EXISTS). */
    int port_index;             /* NodePorts: index in spec.ports. */
};

/* One request being handled against a resource. */
struct srv_call {
    struct srv_api *api;            /* Owner. */
    struct srv_req *req;            /* The HTTP request. */
    struct srv_route route;         /* Parsed path. */
    const struct obj_resource *res; /* The resource. */
    struct repl_req rreq;           /* Read point or write in flight. */
    struct obj *obj;                /* Object being written (owned). */
    char ns[SRV_ROUTE_SEG_MAX];     /* Namespace of the object. */
    char name[SRV_ROUTE_SEG_MAX];   /* Name of the object. */
    store_rev expect_rev;           /* Precondition of the write. */
    int attempts;                   /* Internal retries of a conflict. */
    bool dry_run;                   /* dryRun=All. */
    int op;                         /* What the write does (SRV_OP_*). */
    struct srv_alloc allocs[SRV_MAX_EXTRA]; /* Keys taken or released. */
    size_t n_allocs;                /* Entries in allocs. */
    char owner[600];                /* "ns/name": value of alloc keys. */
    bool scale;                     /* Answer with the Scale of c->obj. */
    struct obj *patch;              /* PATCH: the patch, kept to apply
                                     * again after a conflict. */
    bool strategic;                 /* patch is a strategic merge patch */
    struct obj *put_body;           /* PUT without resourceVersion: the
                                     * body as sent, to try again on a
                                     * conflict (an unconditional update). */
    bool generated;                 /* The name came from generateName. */
    int name_tries;                 /* Names drawn again after a clash. */
    bool ns_caught_up;              /* The namespace check already waited
                                     * for a read point (see
                                     * namespace_check). */
    size_t n_ops;                   /* Ops of the write in flight. */
    int counted;                    /* 0, or 1 + the api->inflight slot
                                     * this call holds. */
    char manager[129];              /* fieldManager (srv__field_manager),
                                     * else the User-Agent's product */
    bool apply;                     /* server-side apply: c->patch is
                                     * the configuration */
    bool force;                     /* apply with force=true */
    char *warnings;                 /* Warning header lines for the
                                     * answer (unknown fields), or NULL. */
    void (*catch_up_cb)(struct srv_call *c); /* srv__crd_catch_up's
                                     * continuation. */
    bool psa_checked;               /* Pod Security ran (a retried write
                                     * must not warn twice). */
    bool caught_up;                 /* An unknown resource was looked up
                                     * again after a read point. */
    bool catch_up;                  /* resolve() found nothing and answered
                                     * nothing: catch up, then look again. */
    struct srv_crd_set *crd_set;    /* The custom resources c->res is
                                     * one of, held (srv__crd_hold). */
    bool swept;                     /* A definition's objects are deleted
                                     * (srv__crd_sweep). */
    int sweep_rounds;               /* Batches of them deleted so far. */
    bool crd_marked;                /* The definition being deleted is
                                     * marked Terminating (crd.c). */
    size_t n_checks;                /* CHECK ops leading the write in
                                     * flight (namespace, definition). */
    bool deleting;                  /* DELETE of one object: a conflict
                                     * reads it again and deletes that. */
    int delete_tries;               /* Those reads again so far. */
    struct obj *delete_opts;        /* Its DeleteOptions, or NULL: the
                                     * preconditions hold on each try. */
};

enum srv_op {
    SRV_OP_CREATE,
    SRV_OP_UPDATE,
    SRV_OP_DELETE,
};

/* A DELETE of one object whose write met a newer version: read it again
 * and delete that (as kube-apiserver does: only the caller's
 * preconditions may make a DELETE fail with a conflict). False when it is
 * not such a call or has tried too often. */
bool srv__delete_again(struct srv_call *c);

/* The apiVersion string of @res ("v1", "apps/v1") into @out. */
void srv__api_version(const struct obj_resource *res, char *out, size_t size);

/* A map under @key of @m, made private, created when absent; NULL when
 * out of memory or when something else is there (workloads.c). */
struct obj *srv__map_at(struct obj *m, const char *key);

/* The object @ns/@name of core/v1 @resource as this member has it now,
 * decoded (Secrets opened), or NULL when it is not there (or cannot be
 * read). For admission and authentication checks that read one object. */
struct obj *srv__obj_local(struct srv_api *api, const char *resource,
                           const char *ns, const char *name);

/* Decode a stored version into an API object with kind, apiVersion and
 * metadata.resourceVersion (= @rev) filled in. NULL when out of memory or
 * the stored bytes are damaged (logged). */
struct obj *srv__obj_load(const struct srv_api *api,
                          const struct obj_resource *res,
                          const struct store_kv *kv, store_rev rev);

/* The stored form of @o, of resource @res named @ns/@name, appended to @b:
 * msgpack, sealed when it is a Secret (atrest.h). 0 or -ENOMEM. */
int srv__obj_encode(const struct srv_api *api, const struct obj_resource *res,
                    const char *ns, const char *name, const struct obj *o,
                    struct obj_buf *b);

/* Append the JSON of a stored version to @b: the same text as encoding
 * srv__obj_load()'s result, written straight from the stored bytes. 0,
 * -ENOMEM, or -C8S_ECORRUPT (logged). */
int srv__obj_json(const struct srv_api *api, const struct obj_resource *res,
                  const struct store_kv *kv,
                  store_rev rev, struct obj_buf *b);

/* Decode the request body (JSON, YAML or protobuf by Content-Type) into a
 * map; answers 400/415 itself on failure. */
int srv__decode_body(struct srv_call *c, struct obj **ret);

/* A created Pod's spec.serviceAccountName (and serviceAccount) defaults
 * to "default" (workloads.c). 0 or -ENOMEM. */
int srv__pod_service_account(const struct srv_call *c, struct obj *o);

/* NodeRestriction admission (authz_node.c) for a write of @o (a create
 * when @old is NULL): a node agent may write only its own Node and
 * kube-node-lease Lease, and create no Pod. 0, or -EACCES answered (403). */
int srv__node_restriction(struct srv_call *c, const struct obj *o,
                          const struct obj *old);

/* Recompute a Pod's status.qosClass after its resources changed
 * (workloads.c). 0 or -ENOMEM. */
int srv__pod_qos_update(struct obj *pod);

/* LimitRanger (limitrange.c) for the create of Pod @pod: the namespace's
 * LimitRanges default its containers' resources and bound them. 0, or an
 * error already answered (403 naming each violation). */
int srv__limit_ranger(struct srv_call *c, struct obj *pod);

/* ResourceQuota admission (resourcequota.c) for the create of @o: the
 * namespace's quotas cap object counts and pods' compute requests and
 * limits; a new quota gets status.hard. 0, or an error already answered
 * (403 "exceeded quota" / "failed quota"). */
int srv__resource_quota(struct srv_call *c, struct obj *o);

/* A Kubernetes quantity as an exact number of nano units (quantity.c):
 * "100m" is 10^8, "1.5Gi" 1.5 * 2^30 * 10^9. Forms: an optional sign,
 * digits with an optional fraction, then a binary (Ki..Ei) or decimal
 * (n, u, m, k, M, G, T, P, E) suffix or an exponent (e3, E-2). Precision
 * below a nano is rounded up, as Kubernetes does; past 10^30 nano (far
 * beyond any resource) a quantity is refused. */
typedef __int128 srv_qty;
bool srv_qty_parse(const char *s, srv_qty *out);
/* In Kubernetes' canonical decimal form: "2", "1600m", "5u", "3n". */
void srv_qty_format(srv_qty v, char *out, size_t size);

/* A pod's request or limit (@which: "requests", "limits") of resource
 * @name, as LimitRanger and ResourceQuota count it: the sum over its
 * containers, or the largest init container's when that is larger (they
 * run alone, before). *@all is false when a container does not set it
 * (limitrange.c). */
srv_qty srv__pod_amount(const struct obj *spec, const char *which,
                        const char *name, bool *all);

/* Pod Security Admission (podsecurity.c) for the create of @o in the
 * namespace stored as @ns_kv: a pod violating the namespace's enforce
 * level is refused with 403, and pods and workload templates violating its
 * warn level get Warning headers. 0, or an error already answered. */
int srv__pod_security(struct srv_call *c, const struct obj *o,
                      const struct store_kv *ns_kv);

/* POST .../serviceaccounts/NAME/token: issue a ServiceAccount token
 * (tokenrequest.c). Frees @c. */
void srv__token_request(struct srv_call *c);

/* Answer @status with @o as JSON. */
void srv__respond_obj(struct srv_req *req, int status, const struct obj *o);
/* Same for the object of a write, with the call's Warning headers. */
void srv__respond_call_obj(struct srv_call *c, int status, const struct obj *o);

/* Answer with the Status for a store or replication code about object
 * @name of @res (name may be NULL for collections). */
void srv__respond_code(struct srv_req *req, const struct obj_resource *res,
                       const char *name, int code);

/* 400/422-style Status with a message. */
void srv__respond_bad(struct srv_req *req, int status, const char *reason,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A new random UUID (version 4) into @out (37 bytes). */
void srv__uuid(char out[37]);

/* Now as an RFC 3339 UTC timestamp ("2026-11-22T14:49:47Z"). */
void srv__timestamp(char out[32]);

/* The string at @path of @o, or "" when absent or not a string. */
const char *srv__str(const struct obj *o, const char *path);

/* Set @o's map key @key (a map node) to a string value. 0 or -ENOMEM. */
int srv__set_str(struct obj *m, const char *key, const char *value);

/* The metadata map of @o, created if missing (for a private @o). */
struct obj *srv__meta(struct obj *o);

/* Mark the private @o as being deleted (deletionTimestamp now, grace 0)
 * unless it already is; the mark never moves. 0 or -ENOMEM. */
int srv__mark_deleting(struct obj *o);
/* @test of the object stored in @kv under @name, decoded only when @cache
 * holds another name or version; false if it cannot be decoded. */
struct srv_flag_cache;
bool srv__cached_flag(struct srv_flag_cache *cache, const char *name,
                      const struct store_kv *kv,
                      bool (*test)(const struct obj *o));

/* Free a call (and what it owns); ends nothing. */
void srv__call_free(struct srv_call *c);

/* ---- schemas (schema.c) ----------------------------------------------------*/

struct obj_sstruct;
struct obj_ferrs;

/* The schema of @res's kind, or NULL when it has none. */
const struct obj_sstruct *srv__schema_of(const struct obj_resource *res);
/* Prune and default the body *@o (private; may be replaced) as the
 * request's fieldValidation asks; unknown fields under Warn become
 * c->warnings. Answers (400, or 500 on -ENOMEM) and returns non-zero on
 * failure. */
int srv__schema_decode(struct srv_call *c, struct obj **o);

/* The same without defaults: a server-side apply configuration, whose
 * fields are what its manager sets (defaults belong to no one). */
int srv__schema_prune(struct srv_call *c, struct obj **o);

/* Server-side apply (patch.c): c->patch is the configuration. */
/* managedFields (api/object/apply.h) of a create or update by this call's
 * manager (fieldManager, else the User-Agent's product), replacing @old
 * (NULL for a create). 0 or -ENOMEM (answered). */
int srv__record_managed(struct srv_call *c, struct obj *obj,
                        const struct obj *old);

/* The fieldManager of this request into c->manager: 1; 0 when there is
 * none; -1 when it is too long or not UTF-8 (answered 422). */
int srv__field_manager(struct srv_call *c);

/* Buffers for the version and time obj_apply_opts point at. */
struct srv_apply_when {
    char api[96], now[32];
};

/* obj_apply_opts for this call: manager c->manager, the resource's
 * apiVersion, now; status skipped where it has its own subresource. */
struct obj_apply_opts srv__apply_opts(const struct srv_call *c,
                                      struct srv_apply_when *w);

/* Does @o's metadata.name match the URL's? If not, answered 400. */
bool srv__name_matches_url(struct srv_call *c, const struct obj *o);

/* Create c->obj (the request's body, or an applied configuration),
 * answering the request. */
void srv__create_obj(struct srv_call *c);
/* Append the schema's validation errors for @o to @l. 0 or -ENOMEM. */
int srv__schema_check(const struct srv_call *c, const struct obj *o,
                      struct obj_ferrs *l);

/* ---- workloads (workloads.c) ------------------------------------------------*/

/* Append the rules of pod controllers to @l: the selector selects the
 * template, and (apps/v1, on update: @old not NULL) never changes. */
int srv__workload_check(const struct srv_call *c, const struct obj *o,
                        const struct obj *old, struct obj_ferrs *l);
/* A new Job's generated selector and pod labels (unless manualSelector).
 * Answers (422) and returns -EINVAL for a selector given without
 * manualSelector; -ENOMEM is for the caller to answer. */
int srv__job_create(struct srv_call *c);
/* A Secret's stringData folded into data (base64), then removed. @o is a
 * private object of c->res's kind. 0 or -ENOMEM. */
int srv__secret_prepare(const struct srv_call *c, struct obj *o);
/* On create, the status a controller or the kubelet owns starts empty (a
 * Pod Pending with its QoS class; a PV or PVC Pending). 0 or -ENOMEM. */
int srv__status_on_create(const struct srv_call *c, struct obj *o);

/* crd.c: CustomResourceDefinitions. */
/* Whether @res is customresourcedefinitions. */
bool srv__is_crd(const struct obj_resource *res);
/* A definition being written (@o private, @old NULL on create): its
 * defaults and its status. Anything else passes. 0 or -ENOMEM. */
int srv__crd_prepare(struct srv_call *c, struct obj *o, const struct obj *old);
/* A definition's checks beyond its schema, into @l. 0 or -ENOMEM. */
int srv__crd_check(const struct srv_call *c, const struct obj *o,
                   struct obj_ferrs *l);
/* Wait for a read point, serve any definitions applied meanwhile, then
 * call @then (for a resource this member did not know). */
void srv__crd_catch_up(struct srv_call *c, void (*then)(struct srv_call *c));
/* Deleting a definition: mark it Terminating, then delete a batch of its
 * objects and come back to srv__write (true: the call is taken care of),
 * or false once none are left. */
bool srv__crd_sweep(struct srv_call *c);
/* Mark definition @crd (private) as being deleted: deletionTimestamp and
 * a Terminating condition, once. 0 or -ENOMEM. */
int srv__crd_mark(struct obj *crd);
/* The store prefix of definitions. */
#define SRV_CRD_PREFIX "apiextensions.k8s.io/customresourcedefinitions"
/* Creating a custom object: its definition, @name (plural.group), must be
 * there and not Terminating; its version goes into the txn as a CHECK
 * (*@rev; 0 for anything else), so a create cannot slip in once the
 * definition is marked. 0, or nonzero when it has answered. */
int srv__crd_create_check(struct srv_call *c, char *name, size_t size,
                          store_rev *rev);
/* Keep the set of custom resources c->res belongs to (if it is one) while
 * the call lives; srv__call_free releases it. */
void srv__crd_hold(struct srv_call *c);
void srv__crd_release(struct srv_call *c);

/* ---- verbs (resources.c, list.c, watch.c, patch.c) ----------------------*/

struct obj_lsel;
struct obj_fsel;

/* What a LIST or a WATCH filters on. */
struct srv_filter {
    struct obj_lsel *labels;    /* NULL: every object. */
    struct obj_fsel *fields;    /* NULL: every object. */
};

/* Parse labelSelector and fieldSelector; answers 400 on failure. */
int srv__filter_parse(struct srv_call *c, struct srv_filter *f);
bool srv__filter_match(const struct srv_filter *f, const struct obj *o);
void srv__filter_done(struct srv_filter *f);

/* A read point first (resourceVersion "") or local state at once. */
void srv__read(struct srv_call *c, repl_cb cb);
bool srv__wants_consistent(const struct srv_req *req);

/* A Table answer (api/server/table.c): what the client asked for. */
enum srv_include { SRV_INCLUDE_NONE, SRV_INCLUDE_METADATA, SRV_INCLUDE_OBJECT };
struct srv_table {
    bool on;                      /* the Accept header asked for a Table */
    const char *api_version;      /* "meta.k8s.io/v1" (or v1beta1) */
    const struct obj_table *table;
    enum srv_include include;     /* includeObject */
    int64_t now;                  /* for ages, seconds since the epoch */
};

/* Whether @c's client wants a Table (Accept with as=Table;g=meta.k8s.io,
 * preferred to plain JSON), filling @t. */
bool srv__table_wanted(const struct srv_call *c, struct srv_table *t);

/* A Table without rows: kind, apiVersion, metadata (resourceVersion @rv if
 * not NULL) and the column definitions (none unless @columns). NULL when
 * out of memory. */
struct obj *srv__table_new(const struct srv_table *t, const char *rv,
                           bool columns);

/* Append the JSON of @o's row ({"cells":[..],"object":{..}}) to @out. */
int srv__table_row(const struct srv_table *t, struct obj *o,
                   struct obj_buf *out);

/* Append a whole one-row Table of @o (a GET, a watch event) to @out. */
int srv__table_one(const struct srv_table *t, struct obj *o, bool columns,
                   struct obj_buf *out);

/* Each takes ownership of @c and answers the request. */
int srv__list(struct srv_call *c);
int srv__watch(struct srv_call *c);
void srv__patch(struct srv_call *c);
void srv__write(struct srv_call *c);
/* scale.c: the autoscaling/v1 Scale of a parent object (or NULL when out
 * of memory), and PUT/PATCH of it given the parent read at @rev. */
struct obj *srv__scale_of(const struct obj_resource *res,
                          const struct obj *parent);
void srv__scale_write(struct srv_call *c, const struct obj *cur,
                      store_rev rev);

/* patch.c: read again and re-apply c->patch after a conflict (true), or
 * false when the patch named its own resourceVersion. */
bool srv__patch_again(struct srv_call *c);

/* deletecollection.c */
void srv__deletecollection(struct srv_call *c);

/* Update to the complete new object @body (owned). */
void srv__apply_update(struct srv_call *c, struct obj *body);

/* alloc.c: Service ClusterIPs and NodePorts. On create: fill defaults and
 * choose what is missing (answers 422 and returns non-zero on a bad or
 * taken explicit value); on delete: release what @cur holds. */
int srv__alloc_create(struct srv_call *c);
void srv__alloc_release(struct srv_call *c, const struct obj *cur);
/* allocs[@i] was taken meanwhile: choose again if it was ours to choose. */
bool srv__alloc_retry(struct srv_call *c, size_t i);
/* Forget allocs[@i] (a release of a key the store does not hold). */
void srv__alloc_drop(struct srv_call *c, size_t i);

#endif /* C8S_API_SERVER_OBJECTS_H */
