/* Codecs for object trees: JSON (the API's wire format), YAML (what people
 * write) and msgpack (the store and raft format), plus the growing output
 * buffer the encoders append to.
 *
 * Decoders are strict and bounded: they never crash, hang or leak on any
 * input, they build the tree directly (no intermediate document), and every
 * failure is reported as a code plus a message in struct err that names the
 * byte offset and a short reason:
 *   -C8S_EMALFORMED  the input is not valid (syntax, bad UTF-8, a NUL in a
 *                    string, a number out of range, a duplicate key, ...)
 *   -C8S_ETOOLARGE   a limit in struct obj_decode_opts was exceeded
 *   -ENOMEM          out of memory
 * Encoders fail only with -ENOMEM, or -EDOM for a non-finite float. */
#ifndef C8S_API_OBJECT_CODEC_H
#define C8S_API_OBJECT_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "api/object/obj.h"
#include "lib/err.h"
#include "lib/rbuf.h"

/* ---- decoding options -----------------------------------------------------*/

/* Defaults used when a limit is 0. Kubernetes itself refuses JSON nested
 * deeper than about 100 levels for typed objects, and bodies over 3 MiB. */
#define OBJ_DEFAULT_MAX_DEPTH 100
#define OBJ_DEFAULT_MAX_BYTES (64u << 20)
#define OBJ_DEFAULT_MAX_STRING (16u << 20)
#define OBJ_DEFAULT_MAX_NODES 1000000u
/* max_depth above this is lowered to it: copying, comparing and freeing
 * trees recurse once per level. */
#define OBJ_MAX_DEPTH_LIMIT 1000

/* What to do with a key that appears twice in one map. */
enum obj_dup_mode {
    OBJ_DUP_ERROR = 0, /* Fail with -C8S_EMALFORMED (fieldValidation=Strict). */
    OBJ_DUP_LAST,      /* Keep the last value, at the first one's position,
                        * and report it through on_dup (as Kubernetes warns). */
};

/* Called for each duplicate key in OBJ_DUP_LAST mode: @key is the repeated
 * key, @offset where it appears again (JSON and msgpack: a byte offset;
 * YAML: libyaml's mark, which counts characters, not bytes). */
typedef void (*obj_dup_cb)(void *arg, const char *key, size_t offset);

/* Limits and choices for every decoder. All-zero (or a NULL pointer) means
 * the defaults above and strict duplicate handling. */
struct obj_decode_opts {
    unsigned max_depth;     /* Nested arrays/maps allowed (the root container
                             * is level 1); 0: OBJ_DEFAULT_MAX_DEPTH. */
    size_t max_bytes;       /* Input size; 0: OBJ_DEFAULT_MAX_BYTES. */
    size_t max_string;      /* Bytes in one string or key, after decoding
                             * escapes; 0: OBJ_DEFAULT_MAX_STRING. */
    size_t max_nodes;       /* YAML only: nodes in the tree counting every
                             * alias as a full copy of what it names, which
                             * stops "billion laughs" expansion bombs;
                             * 0: OBJ_DEFAULT_MAX_NODES. */
    enum obj_dup_mode dups; /* Duplicate keys: error (default) or last wins. */
    obj_dup_cb on_dup;      /* Told about duplicates kept under
                             * OBJ_DUP_LAST; may be NULL. */
    void *on_dup_arg;       /* Passed to on_dup. */
};

/* ---- output buffer --------------------------------------------------------*/

/* A growing byte buffer on mem_*. Encoders append to it; when one fails the
 * buffer is left as it was before the call. */
struct obj_buf {
    char *data; /* Bytes (NUL-terminated when not NULL), mem_malloc'ed. */
    size_t len; /* Bytes used, without the NUL. */
    size_t cap; /* Bytes allocated. */
};

/* An empty buffer; allocates nothing. */
void obj_buf_init(struct obj_buf *b);
/* Free the bytes; the buffer is empty again and may be reused. */
void obj_buf_done(struct obj_buf *b);
/* Append bytes. 0 or -ENOMEM (nothing appended). */
/* Make room for @n more bytes at once (when the size is about known, so a
 * large output does not grow by repeated copies). 0 or -ENOMEM. */
int obj_buf_reserve(struct obj_buf *b, size_t n);
int obj_buf_append(struct obj_buf *b, const void *data, size_t len);
/* The content as a refcounted buffer (a copy; @b is unchanged), to encode
 * once and share with many readers. NULL when out of memory. */
struct rbuf *obj_buf_rbuf(const struct obj_buf *b);

/* ---- JSON -----------------------------------------------------------------*/

/* Encoding flags. */
enum {
    OBJ_JSON_INDENT = 1 << 0,      /* Indent by 4 spaces, "key": value (the
                                    * layout of kubectl get -o json). */
    OBJ_JSON_NEWLINE = 1 << 1,     /* End with "\n" (as Go's json.Encoder
                                    * does in API responses). */
    OBJ_JSON_ESCAPE_HTML = 1 << 2, /* Write <, >, & as \u003c... like Go. */
};

/* Decode one JSON value (RFC 8259) from @len bytes at @data into *@ret.
 * Rules: integers that fit int64 become int nodes, other integers fail
 * ("number out of range"; Kubernetes refuses them in integer fields, and
 * silently turning them into floats would lose digits); numbers with a
 * fraction or exponent become floats, and fail when they overflow a double
 * ("1e309"); "-0" is the int 0 and "-0.0" the float -0.0. Strings must be
 * valid UTF-8 without NUL (also written as \u0000); a \u escape for a lone
 * or mismatched surrogate fails (Go would substitute U+FFFD; we refuse what
 * would not round-trip). Trailing bytes other than whitespace fail. */
int obj_json_decode(const void *data, size_t len,
                    const struct obj_decode_opts *opts, struct obj **ret,
                    struct err *e);

/* Append the JSON text of @o to @b. Map keys are written in insertion
 * order; strings keep non-ASCII UTF-8 as is and escape ", \ and control
 * characters; floats are written so they read back exactly and as floats
 * ("1.0", not "1"); ints as integers. 0, -ENOMEM or -EDOM (non-finite
 * float); on failure @b is unchanged. */
int obj_json_encode(const struct obj *o, unsigned flags, struct obj_buf *b,
                    struct err *e);

/* What obj_msgpack_to_json() writes in place of the stored values (NULL:
 * keep): the object's kind and apiVersion, and metadata.resourceVersion.
 * A field that is absent is added, as obj_map_set() would add it. */
struct obj_json_overrides {
    const char *kind;
    const char *api_version;
    const char *resource_version;
};

/* Append the JSON of msgpack @data (an object as the store keeps it) to
 * @b, with @ov applied (may be NULL), without building a tree: the same
 * bytes as obj_msgpack_decode(), the overrides and obj_json_encode() with
 * no flags, at a fraction of the cost. Bad input is -C8S_EMALFORMED (and
 * @b is left as it was); -ENOMEM. */
int obj_msgpack_to_json(const void *data, size_t len,
                        const struct obj_json_overrides *ov,
                        struct obj_buf *b, struct err *e);

/* Encode @o into a new refcounted buffer (*@ret, one reference). */
int obj_json_rbuf(const struct obj *o, unsigned flags, struct rbuf **ret,
                  struct err *e);

/* ---- YAML -----------------------------------------------------------------*/

/* Decode a YAML stream that holds exactly one document (an empty stream is
 * the null node) into *@ret. Scalars are typed the way Kubernetes
 * (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1 rules) types them: plain
 * null, ~ and empty are null; true/false/yes/no/on/off/y/n in their three
 * capitalisations are booleans; decimal, 0x, 0o/0 (octal) and 0b integers
 * with optional _ separators are ints; decimal floats are floats. Numbers we
 * cannot hold fail ("number out of range"): .inf, .nan, integers between
 * int64 and uint64 and prefixed ones beyond int64; decimal integers beyond
 * uint64 become floats and "1e400" stays a string, as in go-yaml. Quoted
 * scalars and everything else are strings; timestamps stay strings. Errors
 * name the line and column. Explicit tags !!str,
 * !!int, !!float, !!bool, !!null are honoured. Map keys become strings
 * (true -> "true", 1 -> "1"); keys that are maps or arrays fail. Anchors and
 * aliases work (an alias shares the anchored node: see obj.h on shared
 * trees) and so do merge keys (<<); opts.max_nodes bounds what aliases
 * would expand to. */
int obj_yaml_decode(const void *data, size_t len,
                    const struct obj_decode_opts *opts, struct obj **ret,
                    struct err *e);

/* Decode every document of a YAML stream ("---" separated) into an array
 * node *@ret, one element per document (an empty document is null; callers
 * such as kubectl skip those). */
int obj_yaml_decode_all(const void *data, size_t len,
                        const struct obj_decode_opts *opts, struct obj **ret,
                        struct err *e);

/* Append @o to @b as one YAML document in block style, two-space indents
 * and sequences in maps not indented (the layout of kubectl get -o yaml).
 * Strings that a reader would take for another type ("true", "1", "null",
 * "", "2024-01-02") are quoted; multi-line strings use literal blocks (|)
 * when libyaml allows it (not with tabs or other special characters: then
 * double quotes); characters outside the BMP are written as \U escapes
 * (libyaml's choice, as go-yaml's); lines are not folded. With @start_marker, the document begins with "---\n" (to join
 * several documents into one stream). Errors as obj_json_encode. */
int obj_yaml_encode(const struct obj *o, bool start_marker, struct obj_buf *b,
                    struct err *e);

/* ---- msgpack --------------------------------------------------------------*/

/* Append the msgpack form of @o to @b: nil, true/false, the shortest
 * integer form, float 64 (never shortened to float 32, so values are
 * exact), str, array, map with str keys in insertion order. Equal trees
 * with the same key order give equal bytes. Errors as obj_json_encode. */
int obj_msgpack_encode(const struct obj *o, struct obj_buf *b, struct err *e);

/* Decode one msgpack value that fills all @len bytes at @data. Strict:
 * map keys must be str, strings valid UTF-8 without NUL, no duplicate keys
 * (whatever opts.dups says), integers within int64, no bin or ext types.
 * float 32 is accepted and widened. Counts are checked against the bytes
 * left before anything is allocated. */
int obj_msgpack_decode(const void *data, size_t len,
                       const struct obj_decode_opts *opts, struct obj **ret,
                       struct err *e);

#endif /* C8S_API_OBJECT_CODEC_H */
