/* CustomResourceDefinitions (apiextensions.k8s.io/v1): the checks a
 * definition gets beyond its own schema, the status the server gives it,
 * and the resources served for a set of them (no I/O).
 *
 * A version's openAPIV3Schema becomes a struct obj_sstruct tree, so custom
 * resources go through the same prune, default and validate passes,
 * server-side apply and OpenAPI as built-in kinds:
 *
 *   type object + properties   a struct (metadata is always ObjectMeta)
 *   type object +
 *     additionalProperties     a map of the value schema
 *   type array + items         a list
 *   integer/number/boolean/
 *     string                   int64/double/bool/string
 *   x-kubernetes-int-or-string intstr
 *   x-kubernetes-preserve-
 *     unknown-fields,
 *     x-kubernetes-embedded-
 *     resource                 any: kept as written, not pruned below
 *
 * with required, default, enum (strings), minimum/maximum (integers),
 * description, x-kubernetes-list-type and x-kubernetes-list-map-keys.
 * Other keywords (pattern, minLength, maxItems, format, ...) are accepted
 * and not enforced. */
#ifndef C8S_API_OBJECT_CRD_H
#define C8S_API_OBJECT_CRD_H

#include <stddef.h>

#include "api/object/obj.h"
#include "api/object/registry.h"
#include "api/object/validate.h"
#include "lib/err.h"

/* Check @crd (pruned, defaulted and valid by its own schema) beyond what
 * its schema says: the name is <plural>.<group>, the group has a dot,
 * names are lowercase DNS labels, versions are unique with exactly one
 * stored and at least one served, every served version has a structural
 * schema, printer columns and scale paths are ones c8s understands,
 * conversion is None. Errors with field paths go to @errs. 0 or -ENOMEM. */
int obj_crd_validate(const struct obj *crd, struct obj_ferrs *errs);

/* Defaults that depend on other fields (@crd private): names.singular
 * (the kind in lowercase) and names.listKind (<kind>List). 0 or -ENOMEM. */
int obj_crd_default(struct obj *crd);

/* Set @crd's status as the server does when it is written (@crd private):
 * acceptedNames are the spec's names, NamesAccepted and Established are
 * True, or both False with @conflict as the message when the names clash
 * with another resource; storedVersions gains the storage version. @now
 * is an RFC 3339 time. 0 or -ENOMEM. */
int obj_crd_set_status(struct obj *crd, const char *conflict, const char *now);

/* Whether @crd's status says it is Established. */
bool obj_crd_established(const struct obj *crd);

/* Add the condition Kubernetes shows on a definition being deleted
 * (Terminating, True) unless @crd has one; @crd private, @now RFC 3339.
 * 0 or -ENOMEM (also when its status or conditions are not a map and an
 * array). */
int obj_crd_set_terminating(struct obj *crd, const char *now);

/* Whether definitions may not use @group: a group c8s serves itself, or
 * one under k8s.io or kubernetes.io (kube-apiserver asks for an approval
 * annotation there; c8s keeps them for its own APIs). */
bool obj_crd_group_reserved(const char *group);

/* The resources served for a set of definitions. */
struct obj_crds;

/* Build the resources of the established definitions among @crds (one
 * resource per served version) with their schemas, tables and scale
 * paths. A definition that clashes with a built-in resource or with an
 * earlier one in @crds, or whose schema cannot be served, is left out and
 * named in @e's message (the build still succeeds). @crds are borrowed
 * only during the call. 0 or -ENOMEM. */
int obj_crds_build(struct obj *const *crds, size_t n, struct obj_crds **ret,
                   struct err *e);
void obj_crds_free(struct obj_crds *c);

/* The resources built, for obj_registry_new(). */
const struct obj_resource *obj_crds_resources(const struct obj_crds *c,
                                              size_t *ret_n);

/* A message when the names of @crd clash with a resource of @reg other
 * than @crd's own (group/plural, group/kind), else NULL. Static text. */
const char *obj_crd_conflict(const struct obj *crd,
                             const struct obj_registry *reg);

#endif /* C8S_API_OBJECT_CRD_H */
