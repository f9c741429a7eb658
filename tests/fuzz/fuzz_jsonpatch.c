/* libFuzzer target: JSON patch (api/object/jsonpatch.c) and server-side
 * Table cells (api/object/table.c) on arbitrary documents.
 *
 * Build (from the top of the tree, after configure made config.h in BUILD):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include BUILD/config.h -iquote . -Iinclude tests/fuzz/fuzz_jsonpatch.c \
 *     api/object/{obj,array,map,utf8,fmt,buf,build,json,json_write}.c \
 *     api/object/{yaml_scalar,yaml,yaml_write,msgpack,table,jsonpatch}.c \
 *     lib/\*.c -lyajl -lyaml -lmsgpackc -lcrypto
 * Input: a JSON document, a NUL byte, a JSON patch. Properties: no crash,
 * hang or leak; a patch either applies or fails with a message; the cells
 * of every kind's table can be computed for the document before and after
 * (they read whatever shape a stored object has). */
#include <stdint.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/jsonpatch.h"
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
    }
    obj_unref(doc);
    obj_unref(ops);
    return 0;
}
