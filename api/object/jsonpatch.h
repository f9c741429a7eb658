/* JSON patch (RFC 6902: add, remove, replace, move, copy, test) with JSON
 * pointers (RFC 6901: "/spec/containers/0/image", ~1 for '/', ~0 for '~',
 * "-" for the end of an array), as `kubectl patch --type=json` sends it
 * (application/json-patch+json). No I/O. */
#ifndef C8S_API_OBJECT_JSONPATCH_H
#define C8S_API_OBJECT_JSONPATCH_H

#include <stdbool.h>

#include "api/object/obj.h"
#include "lib/err.h"

/* Apply the operations @ops (a JSON array) to @doc (a private tree) in
 * order. 0; -EINVAL for a malformed patch; -ENOENT when a path or from
 * does not exist; -EDOM when a test fails; -ENOMEM. On failure @doc is
 * left half-patched: the caller drops it. */
int obj_json_patch(struct obj *doc, const struct obj *ops, struct err *e);

/* Whether an operation of @ops has a path at or under @path (a pointer),
 * or sets an ancestor of @path to a value that has it ("/metadata" with a
 * resourceVersion inside touches "/metadata/resourceVersion"). */
bool obj_json_patch_touches(const struct obj *ops, const char *path);

#endif /* C8S_API_OBJECT_JSONPATCH_H */
