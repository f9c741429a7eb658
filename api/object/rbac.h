/* RBAC (rbac.authorization.k8s.io/v1): whether the Roles, ClusterRoles and
 * their bindings allow a request, as kube-apiserver's RBAC authorizer
 * decides (no I/O).
 *
 * A request is allowed when a ClusterRoleBinding, or a RoleBinding in the
 * request's namespace, names the user or one of its groups and grants a
 * role with a rule that matches: the verb, the API group, the resource
 * (or resource/subresource), the name when the rule lists names; or, for
 * requests that are no resource, the path (a trailing * matches a
 * prefix). "*" matches anything. Rules only allow. A ClusterRole with an
 * aggregationRule has the rules of every ClusterRole its selectors match.
 * Service accounts are subjects as system:serviceaccount:NS:NAME. */
#ifndef C8S_API_OBJECT_RBAC_H
#define C8S_API_OBJECT_RBAC_H

#include <stdbool.h>
#include <stddef.h>

#include "api/object/obj.h"

/* What a request asks for. */
struct obj_rbac_attrs {
    const char *user;
    const char *const *groups;
    size_t n_groups;
    const char *verb;       /* get, list, watch, create, update, patch,
                               delete, deletecollection; for paths: get,
                               post, put, ... */
    bool resource_request;  /* false: a non-resource path */
    const char *api_group;  /* "" for core */
    const char *resource;   /* plural */
    const char *subresource; /* "" when none */
    const char *name;       /* "" when none */
    const char *ns;         /* "" for cluster scope */
    const char *path;       /* non-resource requests */
};

/* The objects of the four kinds, as stored (references are taken). */
struct obj_rbac;

struct obj_rbac *obj_rbac_new(void);
void obj_rbac_free(struct obj_rbac *r);
/* Add an object of kind Role, ClusterRole, RoleBinding or
 * ClusterRoleBinding (others are ignored). 0 or -ENOMEM. */
int obj_rbac_add(struct obj_rbac *r, const char *kind, struct obj *o);
/* Resolve aggregated ClusterRoles once everything is added. 0 or -ENOMEM. */
int obj_rbac_finish(struct obj_rbac *r);

/* Whether @a is allowed. */
bool obj_rbac_allows(const struct obj_rbac *r, const struct obj_rbac_attrs *a);

/* The rules of Role @ns/@name or ClusterRole @name (@kind), or NULL. */
const struct obj *obj_rbac_role_rules(const struct obj_rbac *r,
                                      const char *kind, const char *ns,
                                      const char *name);

/* Every rule that applies to the user of @a in namespace @a->ns (the
 * verb, resource and path of @a are ignored), appended to @rules as
 * PolicyRule objects: what SelfSubjectRulesReview answers. 0 or -ENOMEM. */
int obj_rbac_rules_for(const struct obj_rbac *r, const struct obj_rbac_attrs *a,
                       struct obj *rules);

#endif /* C8S_API_OBJECT_RBAC_H */
