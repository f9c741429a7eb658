/* libFuzzer target: CustomResourceDefinitions (api/object/crd.c) and the
 * JSONPath of their printer columns (api/object/table.c).
 *
 * Build (from the top of the tree, after configure made config.h in BUILD):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include BUILD/config.h -iquote . -Iinclude tests/fuzz/fuzz_crd.c \
 *     api/object/\*.c BUILD/api/object/schemas.c lib/\*.c \
 *     -lyajl -lyaml -lmsgpackc -lcrypto
 * Input: a JSON definition, a NUL byte, a JSON object. Properties: no
 * crash, hang or leak; the definition's checks run whatever it holds; an
 * established definition builds (each served version's schema, whatever
 * it says) and the object then goes through prune, default, validate and
 * every column of the table of each resource built. */
#include <stdint.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/crd.h"
#include "api/object/schema.h"
#include "api/object/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void passes(const struct obj_resource *r, const uint8_t *doc,
                   size_t len)
{
    struct obj *o = NULL, *cells;
    struct obj_ferrs u, bad, errs;

    if (obj_json_decode(doc, len, NULL, &o, NULL) != 0)
        return;
    obj_ferrs_init(&u);
    obj_ferrs_init(&bad);
    obj_ferrs_init(&errs);
    if (obj_type(o) == OBJ_MAP && obj_schema_prune(r->schema, &o, &u, &bad) == 0 &&
        obj_schema_default(r->schema, &o) == 0)
        (void)obj_schema_validate(r->schema, o, &errs);
    cells = obj_table_cells(r->table, o, 1800000000);
    obj_unref(cells);
    obj_unref(obj_table_columns(r->table));
    obj_ferrs_done(&u);
    obj_ferrs_done(&bad);
    obj_ferrs_done(&errs);
    obj_unref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t dlen = nul != NULL ? (size_t)(nul - data) : size;
    struct obj *crd = NULL;
    struct obj_ferrs l;
    struct obj_crds *c = NULL;
    struct err e = {0};

    if (obj_json_decode(data, dlen, NULL, &crd, NULL) != 0)
        return 0;
    obj_ferrs_init(&l);
    (void)obj_crd_validate(crd, &l);
    obj_ferrs_done(&l);
    if (obj_type(crd) == OBJ_MAP && obj_unshare(&crd) == 0 &&
        obj_crd_default(crd) == 0 &&
        obj_crd_set_status(crd, NULL, "2027-01-15T08:00:00Z") == 0 &&
        obj_crds_build(&crd, 1, &c, &e) == 0) {
        size_t n;
        const struct obj_resource *r = obj_crds_resources(c, &n);
        for (size_t i = 0; i < n && nul != NULL; i++)
            passes(&r[i], nul + 1, size - dlen - 1);
        obj_crds_free(c);
    }
    obj_unref(crd);
    /* The definition's text as a JSONPath, too. */
    char path[600];
    size_t plen = dlen < sizeof path - 1 ? dlen : sizeof path - 1;
    memcpy(path, data, plen);
    path[plen] = '\0';
    (void)obj_table_path_ok(path);
    return 0;
}
