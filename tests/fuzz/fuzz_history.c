/* libFuzzer target: the Jepsen history parser and the register checker
 * (jepsen/history.c, jepsen/linear.c) on arbitrary bytes.
 *
 * Build (from the top of the tree, after configure in $B):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include $B/config.h -iquote . -Iinclude \
 *     tests/fuzz/fuzz_history.c jepsen/history.c jepsen/linear.c \
 *     lib/err.c lib/mem.c lib/log.c -o fuzz_history
 * Run: ./fuzz_history -max_total_time=60 -max_len=2048
 *
 * Properties: no crash, no leak, no sanitizer report; a history either
 * parses or is refused with a message naming its line; a checked one is
 * valid exactly when no anomaly is reported. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jepsen/history.h"
#include "jepsen/linear.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jep_history h;
    struct jep_verdict v;
    struct err e = {0};

    if (jep_history_parse((const char *)data, size, "f", &h, &e) != 0) {
        if (strncmp(e.msg, "f:", 2) != 0 && strcmp(e.msg, "out of memory"))
            abort();
        return 0;
    }
    if (jep_check_register(&h, &v, &e) == 0 &&
        v.valid != (v.n_anomalies == 0))
        abort();
    jep_history_free(&h);
    return 0;
}
