/* libFuzzer target: msgpack decoding of arbitrary bytes.
 *
 * Build (from the top of the tree, after configure made config.h in BUILD):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include BUILD/config.h -iquote . tests/fuzz/fuzz_obj_msgpack.c \
 *     api/object/\*.c lib/\*.c -lyajl -lyaml -lmsgpackc
 * Properties: no crash, hang or leak on any input; whatever decodes
 * re-encodes as JSON, YAML and msgpack, and each decodes back to an equal
 * tree. */
#define FUZZ_DECODE(data, size, opts, ret) \
    obj_msgpack_decode((data), (size), (opts), (ret), NULL)

#include "tests/fuzz/fuzz_obj_common.h"
