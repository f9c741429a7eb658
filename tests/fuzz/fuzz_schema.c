/* libFuzzer target: the schema passes on arbitrary JSON bodies, and the
 * schema text parser on arbitrary text.
 *
 * Build (from the top of the tree, after configure made config.h in BUILD
 * and make generated BUILD/api/object/schemas.c):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include BUILD/config.h -iquote . tests/fuzz/fuzz_schema.c \
 *     api/object/\*.c BUILD/api/object/schemas.c lib/\*.c \
 *     -lyajl -lyaml -lmsgpackc
 * The first byte picks the mode (byte % 3): 0 a JSON body for one of the
 * built-in kinds (byte / 3 picks which), 1 schema text, 2 a protobuf body
 * (api/object/protobuf.h), whose result then goes through the passes.
 * Properties: no crash, hang or leak; pruning twice finds nothing more;
 * defaulting twice changes nothing; the input tree is never changed (the
 * passes copy on write). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/protobuf.h"
#include "api/object/registry.h"
#include "api/object/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_text(const char *s, size_t n)
{
    struct obj_schema_text t = {"fuzz.schema", s, n};
    struct obj_schemas *out = NULL;
    struct err e;

    if (obj_schemas_parse(&t, 1, &out, &e) == 0 && out == NULL)
        abort();
    obj_schemas_free(out);
}

static const struct obj_sstruct *pick_kind(uint8_t b)
{
    size_t n;
    const struct obj_resource *res = obj_registry_builtins(&n);
    const struct obj_schemas *s = obj_schemas_builtin(NULL);

    if (s == NULL)
        abort(); /* the built-in texts must always parse */
    res += (b / 3) % n;
    return obj_schemas_find_kind(s, res->group, res->version, res->kind);
}

static void fuzz_body(uint8_t sel, const char *s, size_t n)
{
    const struct obj_sstruct *st = pick_kind(sel);
    struct obj *o = NULL, *orig, *snap;
    struct obj_ferrs unknown, bad, errs;

    if (st == NULL)
        abort();
    if (obj_json_decode(s, n, NULL, &o, NULL) != 0)
        return;
    orig = obj_ref(o);
    snap = obj_copy(o);
    obj_ferrs_init(&unknown);
    obj_ferrs_init(&bad);
    obj_ferrs_init(&errs);
    if (snap != NULL && obj_schema_prune(st, &o, &unknown, &bad) == 0 &&
        bad.len == 0) {
        struct obj_ferrs u2, b2;
        obj_ferrs_init(&u2);
        obj_ferrs_init(&b2);
        if (obj_schema_prune(st, &o, &u2, &b2) == 0 &&
            (u2.len != 0 || b2.len != 0))
            abort();
        obj_ferrs_done(&u2);
        obj_ferrs_done(&b2);
        if (obj_schema_default(st, &o) == 0) {
            struct obj *again = obj_ref(o);
            if (obj_schema_default(st, &again) == 0 && !obj_equal(again, o))
                abort();
            obj_unref(again);
            (void)obj_schema_validate(st, o, &errs);
        }
    }
    if (snap != NULL && !obj_equal(orig, snap))
        abort();
    obj_ferrs_done(&unknown);
    obj_ferrs_done(&bad);
    obj_ferrs_done(&errs);
    obj_unref(o);
    obj_unref(orig);
    obj_unref(snap);
}

/* A protobuf body: decoded (the magic is supplied, so the fuzzer reaches
 * the envelope), then, as JSON, through the passes like any body. */
static void fuzz_protobuf(const uint8_t *data, size_t size)
{
    const struct obj_schemas *s = obj_schemas_builtin(NULL);
    uint8_t *buf = malloc(size + 4);
    struct obj *o = NULL;
    struct obj_buf b;

    if (s == NULL || buf == NULL)
        abort();
    memcpy(buf, "k8s", 4);
    memcpy(buf + 4, data, size);
    obj_buf_init(&b);
    if (obj_protobuf_decode(s, buf, size + 4, &o, NULL) == 0) {
        if (obj_type(o) != OBJ_MAP || obj_json_encode(o, 0, &b, NULL) != 0)
            abort();
        fuzz_body(0, b.data, b.len);
    }
    obj_buf_done(&b);
    obj_unref(o);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 3 == 1)
        fuzz_text((const char *)data + 1, size - 1);
    else if (data[0] % 3 == 2)
        fuzz_protobuf(data + 1, size - 1);
    else
        fuzz_body(data[0], (const char *)data + 1, size - 1);
    return 0;
}
