/* libFuzzer target: server-side apply and managedFields (api/object/
 * apply.c) on arbitrary documents.
 *
 * Build (from the top of the tree, after configure made config.h in BUILD):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include BUILD/config.h -iquote . -Iinclude tests/fuzz/fuzz_apply.c \
 *     api/object/\*.c BUILD/api/object/schemas.c lib/\*.c \
 *     -lyajl -lyaml -lmsgpackc -lcrypto
 * Input: a JSON document (the live object, whose metadata.managedFields
 * come from the input too), a NUL byte, a configuration. Properties: no
 * crash, hang or leak; its fieldsV1 trees either read or are refused with
 * -EINVAL; apply either succeeds, conflicts or fails with a message, as a
 * Deployment and as an object without a schema; a forced apply of the
 * same configuration never conflicts. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "api/object/apply.h"
#include "api/object/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void apply_as(const struct obj_sstruct *st, const uint8_t *doc,
                     size_t len, const struct obj *cfg, bool force)
{
    struct obj_apply_opts o = {.manager = "fuzz", .api_version = "apps/v1",
                               .now = "2026-01-01T00:00:00Z", .force = force,
                               .skip_status = true};
    struct obj *live = NULL;
    struct err e = {0};

    if (obj_json_decode(doc, len, NULL, &live, NULL) != 0 ||
        obj_type(live) != OBJ_MAP) {
        obj_unref(live);
        return;
    }
    int rv = obj_apply(st, live, cfg, &o, &e);
    if (force && rv == -C8S_ECONFLICT)
        __builtin_trap(); /* force takes every conflict over */
    if (rv == 0)
        (void)obj_apply_record_update(st, live, NULL, &o);
    obj_unref(live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    const struct obj_schemas *s = obj_schemas_builtin(NULL);
    const struct obj_sstruct *dep =
        s != NULL ? obj_schemas_find_kind(s, "apps", "v1", "Deployment") : NULL;
    struct obj *cfg = NULL;
    struct obj_fset fs = {0};

    if (nul == NULL)
        return 0;
    if (obj_json_decode(nul + 1, size - (size_t)(nul - data) - 1, NULL, &cfg,
                        NULL) != 0 ||
        obj_type(cfg) != OBJ_MAP) {
        obj_unref(cfg);
        return 0;
    }
    if (obj_fset_from_fields_v1(cfg, &fs) == 0)
        obj_unref(obj_fset_to_fields_v1(&fs));
    obj_fset_done(&fs);
    for (int k = 0; k < 2; k++) {
        apply_as(k ? NULL : dep, data, (size_t)(nul - data), cfg, false);
        apply_as(k ? NULL : dep, data, (size_t)(nul - data), cfg, true);
    }
    obj_unref(cfg);
    return 0;
}
