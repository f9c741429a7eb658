/* Internals of discovery: the builders of each document's object tree
 * (discovery_json.c). Each returns a new tree (one reference) or NULL when
 * out of memory. Field order follows the Go structs, so the JSON reads
 * like kube-apiserver's. */
#ifndef C8S_API_SERVER_DISCOVERY_INTERNAL_H
#define C8S_API_SERVER_DISCOVERY_INTERNAL_H

#include <stdbool.h>

#include "api/object/obj.h"
#include "api/object/registry.h"

/* apiVersion of the aggregated documents. */
#define SRV_DISC_AV_V2 "apidiscovery.k8s.io/v2"
#define SRV_DISC_AV_V2BETA1 "apidiscovery.k8s.io/v2beta1"

/* Aggregated APIGroupDiscoveryList (apiVersion v2): the core group alone
 * when @core (for /api), else every other group (for /apis). */
struct obj *srv__disc_aggregated(const struct obj_registry *reg, bool core);

/* Legacy /api: APIVersions. */
struct obj *srv__disc_api_versions(const struct obj_registry *reg,
                                   const char *server_address);

/* Legacy /apis: APIGroupList of every group but core. */
struct obj *srv__disc_group_list(const struct obj_registry *reg);

/* Legacy /apis/GROUP: APIGroup. */
struct obj *srv__disc_group(const struct obj_api_group *g);

/* Legacy /api/v1, /apis/GROUP/VERSION: APIResourceList. */
struct obj *srv__disc_resource_list(const struct obj_api_group *g,
                                    const struct obj_api_version *v);

#endif /* C8S_API_SERVER_DISCOVERY_INTERNAL_H */
