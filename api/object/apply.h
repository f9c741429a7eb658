/* Server-side apply (Content-Type application/apply-patch+yaml) and the
 * field ownership it rests on: metadata.managedFields.
 *
 * Every field of an object is a path of steps, as Kubernetes' fieldsV1
 * writes them: "f:NAME" (a field or map key), "k:{JSON}" (the element of a
 * keyed list with those key fields: the schema's listMapKeys, else its
 * patch merge key), "v:JSON" (the element of a set list of scalars) and
 * "." (the list element itself). Atomic lists, scalars and empty objects
 * are leaves. A field set is the sorted list of leaf paths of an object.
 *
 * Each managedFields entry says that one manager, through one operation
 * (Apply or Update), owns a field set. Applying a configuration as manager
 * M:
 *   - conflicts: a field of the configuration owned by another entry whose
 *     value differs from the configuration's. Refused unless forced; when
 *     forced, the other entries lose those fields;
 *   - fields M applied before and leaves out now are removed from the
 *     object, unless another entry owns them;
 *   - the configuration is merged into the object (maps key by key, keyed
 *     lists element by element, set lists as a union, anything else
 *     replaced), and M's Apply entry becomes the configuration's field set.
 * Other writes record what they changed under their manager's Update
 * entry (obj_apply_record_update), taking it away from other entries, so
 * a later apply of an old value conflicts with them.
 * Fields the server manages (apiVersion, kind, metadata.name, uid,
 * resourceVersion, ...; status when @skip_status) are never owned. No I/O.
 */
#ifndef C8S_API_OBJECT_APPLY_H
#define C8S_API_OBJECT_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "api/object/obj.h"
#include "api/object/schema.h"
#include "lib/err.h"

/* A sorted set of field paths (steps joined by '\x01'), each with the
 * value found there when the set was taken from an object (borrowed from
 * it; NULL for sets read from fieldsV1). */
struct obj_fset {
    char **paths;
    const struct obj **vals;
    size_t n, cap;
};

void obj_fset_done(struct obj_fset *s);

/* The field set of object @o (a map of struct @st; NULL: unknown shape).
 * 0 or -ENOMEM. */
int obj_fset_of(const struct obj_sstruct *st, const struct obj *o,
                bool skip_status, struct obj_fset *out);

/* fieldsV1 <-> field set. Reading rejects what is not a fieldsV1 tree
 * with -EINVAL. */
int obj_fset_from_fields_v1(const struct obj *f, struct obj_fset *out);
struct obj *obj_fset_to_fields_v1(const struct obj_fset *s);

/* "spec.template.spec.containers[name=\"web\"].image" for @path. */
void obj_fset_path_str(const char *path, char *out, size_t size);

/* Who applies, and how. */
struct obj_apply_opts {
    const char *manager;     /* fieldManager (required) */
    const char *api_version; /* "apps/v1": recorded in the entry */
    const char *now;         /* RFC 3339 time recorded in the entry */
    bool force;              /* take conflicting fields over */
    bool skip_status;        /* status belongs to its subresource */
    const char *subresource; /* "status", "scale" for writes through one
                                (recorded in the entry); NULL or "" */
};

/* Apply @config (pruned, not defaulted) to @live (a private map of @st,
 * changed in place), as above. 0; -C8S_ECONFLICT with the conflicts in
 * @e's message, Kubernetes' wording; -EINVAL for a malformed
 * managedFields (@e); -ENOMEM. @live is half-changed after an error. */
int obj_apply(const struct obj_sstruct *st, struct obj *live,
              const struct obj *config, const struct obj_apply_opts *o,
              struct err *e);

/* Is @config fit to apply: every element of a keyed list has its key and
 * no key comes twice? 0; -EINVAL saying where (@e); -ENOMEM. obj_apply
 * checks this too. */
int obj_apply_check(const struct obj_sstruct *st, const struct obj *config,
                    struct err *e);

/* A new object applied: @obj (private, the configuration as created)
 * gets M's Apply entry. 0 or -ENOMEM. */
int obj_apply_record_create(const struct obj_sstruct *st, struct obj *obj,
                            const struct obj_apply_opts *o);

/* Any other write of @obj (private) by manager o->manager, replacing @old
 * (NULL for a create): the fields that are new or changed become that
 * manager's (its Update entry), and no other entry keeps them; fields
 * gone from the object leave every entry. managedFields the client sent
 * in @obj that differ from @old's are taken as kube-apiserver does: [{}]
 * resets them, a well-formed list is kept as sent, [] or a malformed list
 * means @old's (and the write is recorded). 0 or -ENOMEM. */
int obj_apply_record_update(const struct obj_sstruct *st, struct obj *obj,
                            const struct obj *old,
                            const struct obj_apply_opts *o);

#endif /* C8S_API_OBJECT_APPLY_H */
