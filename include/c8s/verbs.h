/* The API verbs on any resource (found with c8s/discovery.h, or one of the
 * built-in descriptors below for the core kinds), with objects in and out.
 * All return 0 or a code as c8s_request() does; *@ret (when asked for) is
 * the server's answer, which the caller frees with c8s_obj_free. */
#ifndef C8S_VERBS_H
#define C8S_VERBS_H

#include <stddef.h>

#include <c8s/client.h>
#include <c8s/discovery.h>
#include <c8s/errors.h>
#include <c8s/object.h>

/* Built-in kinds, usable without discovery. */
extern const struct c8s_resource c8s_res_namespaces, c8s_res_pods,
    c8s_res_services, c8s_res_endpoints, c8s_res_configmaps, c8s_res_secrets,
    c8s_res_serviceaccounts, c8s_res_nodes, c8s_res_events,
    c8s_res_persistentvolumes, c8s_res_persistentvolumeclaims,
    c8s_res_deployments, c8s_res_replicasets, c8s_res_daemonsets,
    c8s_res_statefulsets, c8s_res_jobs, c8s_res_cronjobs, c8s_res_leases,
    c8s_res_endpointslices;

/* @ns is ignored for cluster-scoped resources. */
int c8s_get(struct c8s_client *c, const struct c8s_resource *r,
            const char *ns, const char *name, struct c8s_obj **ret,
            struct c8s_error *err);

struct c8s_list_opts {
    const char *label_selector; /* "app=web,tier!=db"; NULL: all */
    const char *field_selector; /* "spec.nodeName=n1"; NULL: all */
    int limit;                  /* objects per page; 0: 500 */
};

/* Every object of the collection (@ns NULL: all namespaces), page by page
 * from one snapshot, to @fn (which may stop the walk by returning
 * nonzero, returned as is). The list's resourceVersion (to watch from)
 * goes to @rv if not NULL. */
int c8s_list(struct c8s_client *c, const struct c8s_resource *r,
             const char *ns, const struct c8s_list_opts *o,
             int (*fn)(void *data, const struct c8s_obj *obj), void *data,
             char *rv, size_t rv_size, struct c8s_error *err);

/* Create @o in @ns (its metadata.namespace wins when set). */
int c8s_create(struct c8s_client *c, const struct c8s_resource *r,
               const char *ns, const struct c8s_obj *o, struct c8s_obj **ret,
               struct c8s_error *err);

/* Replace the object named by @o's metadata.name; conditional on its
 * metadata.resourceVersion when set (-C8S_ECONFLICT if it moved on). */
int c8s_update(struct c8s_client *c, const struct c8s_resource *r,
               const char *ns, const struct c8s_obj *o, struct c8s_obj **ret,
               struct c8s_error *err);

enum c8s_patch_type {
    C8S_PATCH_JSON,      /* application/json-patch+json (RFC 6902) */
    C8S_PATCH_MERGE,     /* application/merge-patch+json (RFC 7386) */
    C8S_PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
    C8S_PATCH_APPLY,     /* application/apply-patch+yaml (server-side
                          * apply; needs @field_manager) */
};

int c8s_patch(struct c8s_client *c, const struct c8s_resource *r,
              const char *ns, const char *name, enum c8s_patch_type type,
              const char *patch, size_t len, const char *field_manager,
              struct c8s_obj **ret, struct c8s_error *err);

/* @propagation: "Foreground", "Background", "Orphan" or NULL (the
 * server's default). */
int c8s_delete(struct c8s_client *c, const struct c8s_resource *r,
               const char *ns, const char *name, const char *propagation,
               struct c8s_error *err);

#endif /* C8S_VERBS_H */
