/* Kubernetes protobuf bodies (application/vnd.kubernetes.protobuf), read
 * with the schemas' field numbers (no generated code, no I/O).
 *
 * A body is the magic "k8s\0" and a runtime.Unknown message: typeMeta
 * {apiVersion = 1, kind = 2} = 1, raw = 2 (the object's own message),
 * contentEncoding = 3, contentType = 4. The object becomes the same tree
 * the JSON decoder would give for what Go's JSON encoding of the decoded
 * struct prints:
 *   - quantities, int-or-strings, times, durations and RawExtensions from
 *     their messages; bytes as base64; map fields from their entries;
 *     fields of Go's inline structs (attribute in=N) from the embedded
 *     message N;
 *   - zero scalars (Go writes every non-pointer field, JSON omits them
 *     with omitempty) are left out, except in fields that have a default:
 *     those are Go pointers, and an explicit 0 or false must survive
 *     defaulting (a Deployment asked for with --replicas=0);
 *   - unknown field numbers are skipped, as Go does.
 * kubectl >= 1.32 sends such bodies for its create generators. */
#ifndef C8S_API_OBJECT_PROTOBUF_H
#define C8S_API_OBJECT_PROTOBUF_H

#include <stddef.h>

#include "api/object/obj.h"
#include "api/object/schema.h"
#include "lib/err.h"

/* The magic at the start of every body. */
#define OBJ_PROTOBUF_MAGIC "k8s\0"
#define OBJ_PROTOBUF_MAGIC_LEN 4

/* Decode body @data into *@ret (a map with apiVersion and kind set from
 * the envelope) using @s. Errors (with @e): -C8S_EMALFORMED for bad wire
 * data, a missing magic or invalid UTF-8; -ENOENT when @s has no schema
 * for the envelope's kind; -ENOMEM. */
int obj_protobuf_decode(const struct obj_schemas *s,
                        const void *data,
                        size_t len,
                        struct obj **ret,
                        struct err *e);

#endif /* C8S_API_OBJECT_PROTOBUF_H */
