/* libFuzzer target: JSON patch (api/object/jsonpatch.c), strategic merge
 * patch (smp.c, with and without the Deployment schema) and server-side
 * Table cells (table.c) on arbitrary documents.
 *
 * Build (from the top of the tree, after configure made config.h in BUILD):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include BUILD/config.h -iquote . -Iinclude tests/fuzz/fuzz_jsonpatch.c \
 *     api/object/\*.c BUILD/api/object/schemas.c lib/\*.c \
 *     -lyajl -lyaml -lmsgpackc -lcrypto
 * Input: a JSON document, a NUL byte, a patch (applied as a JSON patch
 * and as a strategic merge patch). Properties: no crash, hang or leak; a
 * patch either applies or fails with a message; the cells
 * of every kind's table can be computed for the document before and after
 * (they read whatever shape a stored object has). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/jsonpatch.h"
#include "api/object/smp.h"
#include "api/object/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void all_cells(const struct obj *o)
{
    static const char *const kinds[][2] = {
        {"", "Pod"}, {"", "Service"}, {"", "Endpoints"}, {"", "Node"},
        {"", "Event"}, {"", "PersistentVolume"}, {"apps", "Deployment"},
        {"apps", "DaemonSet"}, {"apps", "ControllerRevision"},
        {"batch", "Job"}, {"batch", "CronJob"},
        {"discovery.k8s.io", "EndpointSlice"}, {"x", "Other"}};

    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        obj_unref(obj_table_cells(obj_table_for(kinds[i][0], kinds[i][1]), o,
                                  1800000000));
}

/* The patch as a strategic merge patch of a fresh copy of the document,
 * as a Deployment and as an object without a schema. */
static void smp_both(const uint8_t *doc_json, size_t len,
                     const struct obj *patch)
{
    const struct obj_schemas *s = obj_schemas_builtin(NULL);
    const struct obj_sstruct *dep =
        s != NULL ? obj_schemas_find_kind(s, "apps", "v1", "Deployment") : NULL;

    for (int k = 0; k < 2; k++) {
        struct obj *d = NULL;
        struct err e = {0};

        if (obj_json_decode(doc_json, len, NULL, &d, NULL) != 0)
            return;
        if (obj_type(d) == OBJ_MAP &&
            obj_smp_apply(d, patch, k ? dep : NULL, &e) != 0 &&
            e.msg[0] == '\0' && errno != ENOMEM)
            __builtin_trap(); /* a refusal always says why */
        obj_unref(d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    struct obj *doc = NULL, *ops = NULL;
    struct err e = {0};

    if (nul == NULL)
        return 0;
    if (obj_json_decode(data, (size_t)(nul - data), NULL, &doc, NULL) == 0 &&
        obj_json_decode(nul + 1, size - (size_t)(nul - data) - 1, NULL, &ops,
                        NULL) == 0) {
        all_cells(doc);
        if (obj_json_patch(doc, ops, &e) != 0 && e.msg[0] == '\0')
            __builtin_trap(); /* a failure always says why */
        all_cells(doc);
        (void)obj_json_patch_touches(ops, "/metadata");
        smp_both(data, (size_t)(nul - data), ops);
    }
    obj_unref(doc);
    obj_unref(ops);
    return 0;
}
