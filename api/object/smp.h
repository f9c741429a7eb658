/* Strategic merge patch (application/strategic-merge-patch+json), the
 * patch `kubectl patch` sends by default and `kubectl apply` sends for a
 * change, applied with the schemas' patch metadata (schema.h: merge=KEY,
 * strategy=merge|replace|retainKeys):
 *   - maps merge key by key, null deletes (as a JSON merge patch);
 *   - a list whose field has strategy=merge and a merge key merges element
 *     by element on that key (an element with "$patch": "delete" removes
 *     the one with its key, "$patch": "replace" replaces it); a merge list
 *     of scalars is a union; any other list is replaced;
 *   - directives: "$patch": "replace" (the map is replaced by the patch)
 *     or "delete" (the map goes), "$retainKeys" (only those keys stay,
 *     strategy=retainKeys), "$setElementOrder/FIELD" (the order of a
 *     merged list), "$deleteFromPrimitiveList/FIELD" (scalars removed
 *     from a merge list).
 * Fields the schema does not know (and kinds without one) merge like a
 * JSON merge patch, as Kubernetes does for unstructured objects. No I/O. */
#ifndef C8S_API_OBJECT_SMP_H
#define C8S_API_OBJECT_SMP_H

#include "api/object/obj.h"
#include "api/object/schema.h"
#include "lib/err.h"

/* Apply @patch (a JSON object) to @doc (a private map of the struct @st,
 * or of unknown shape when @st is NULL). 0; -EINVAL for a malformed
 * patch or directive, with @e; -ENOMEM. On failure @doc is left
 * half-patched: the caller drops it. */
int obj_smp_apply(struct obj *doc, const struct obj *patch,
                  const struct obj_sstruct *st, struct err *e);

#endif /* C8S_API_OBJECT_SMP_H */
