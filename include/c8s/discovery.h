/* What the server serves: resources by name, short name or kind, with
 * their group, version and scope, read once from the discovery documents
 * (/api/v1 and /apis/GROUP/VERSION of each group's preferred version). */
#ifndef C8S_DISCOVERY_H
#define C8S_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

#include <c8s/client.h>
#include <c8s/errors.h>

struct c8s_discovery;

struct c8s_resource {
    char group[128];    /* "" for the core group */
    char version[32];
    char resource[128]; /* plural: "deployments" */
    char kind[128];     /* "Deployment" */
    bool namespaced;
};

/* Read the discovery documents now (a handful of GETs). */
int c8s_discovery_new(struct c8s_client *c, struct c8s_discovery **ret,
                      struct c8s_error *err);

void c8s_discovery_free(struct c8s_discovery *d);

/* The resource kubectl would pick for @name: a plural, singular or short
 * name, or a kind (case-insensitive), optionally qualified by its group
 * ("deployments.apps", "deploy.apps"). -C8S_ENOTFOUND names it. */
int c8s_discovery_find(const struct c8s_discovery *d, const char *name,
                       struct c8s_resource *ret, struct c8s_error *err);

/* The resource for an object's apiVersion ("v1", "apps/v1") and kind. */
int c8s_discovery_for_kind(const struct c8s_discovery *d,
                           const char *api_version, const char *kind,
                           struct c8s_resource *ret, struct c8s_error *err);

/* The URL path of the collection (@name NULL) or of one object; @ns is
 * ignored for cluster-scoped resources and NULL means all namespaces.
 * -ENAMETOOLONG if it does not fit. */
int c8s_resource_path(const struct c8s_resource *r, const char *ns,
                      const char *name, char *buf, size_t size);

#endif /* C8S_DISCOVERY_H */
