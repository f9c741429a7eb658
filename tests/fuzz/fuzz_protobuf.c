/* libFuzzer target: Kubernetes protobuf bodies (api/object/protobuf.c)
 * decoded with the built-in schemas.
 *
 * Build (from the top of the tree, after configure made config.h in BUILD):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include BUILD/config.h -iquote . -Iinclude tests/fuzz/fuzz_protobuf.c \
 *     api/object/\*.c BUILD/api/object/schemas.c lib/\*.c \
 *     -lyajl -lyaml -lmsgpackc -lcrypto
 * Input: the bytes after the "k8s\0" magic (the target adds it, so the
 * fuzzer spends its time in the envelope and the messages), or, when the
 * first byte is 0xff, the body as is. Properties: no crash, hang or leak;
 * a body decodes or is refused with a message; what decodes encodes as
 * JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/protobuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct obj_schemas *s = obj_schemas_builtin(NULL);
    uint8_t *body = malloc(size + OBJ_PROTOBUF_MAGIC_LEN + 1);
    size_t len = 0;
    struct obj *o = NULL;
    struct err e = {0};

    if (s == NULL || body == NULL) {
        free(body);
        return 0;
    }
    if (size > 0 && data[0] == 0xff) {
        memcpy(body, data + 1, size - 1);
        len = size - 1;
    } else {
        memcpy(body, OBJ_PROTOBUF_MAGIC, OBJ_PROTOBUF_MAGIC_LEN);
        memcpy(body + OBJ_PROTOBUF_MAGIC_LEN, data, size);
        len = size + OBJ_PROTOBUF_MAGIC_LEN;
    }
    if (obj_protobuf_decode(s, body, len, &o, &e) == 0) {
        struct obj_buf b;

        obj_buf_init(&b);
        if (obj_json_encode(o, 0, &b, NULL) != 0 && o != NULL &&
            obj_type(o) != OBJ_MAP)
            abort();
        obj_buf_done(&b);
    } else if (e.msg[0] == '\0') {
        abort(); /* a refusal always says why */
    }
    obj_unref(o);
    free(body);
    return 0;
}
