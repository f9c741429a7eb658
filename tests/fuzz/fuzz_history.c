/* libFuzzer target: the Jepsen history parser and its checkers
 * (jepsen/history.c, linear.c, order.c, set.c, list.c) on arbitrary bytes.
 *
 * Build (from the top of the tree, after configure in $B):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include $B/config.h -iquote . -Iinclude \
 *     tests/fuzz/fuzz_history.c jepsen/history.c jepsen/linear.c \
 *     jepsen/order.c jepsen/set.c jepsen/list.c \
 *     lib/err.c lib/mem.c lib/log.c -o fuzz_history
 * Run: ./fuzz_history -max_total_time=60 -max_len=2048
 *
 * Properties: no crash, no leak, no sanitizer report; a history either
 * parses or is refused with a message naming its line; each check's
 * verdict is valid exactly when it reports no anomaly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jepsen/history.h"
#include "jepsen/linear.h"
#include "jepsen/list.h"
#include "jepsen/order.h"
#include "jepsen/set.h"

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
    /* Linearizability is NP-complete: many unknown outcomes on one key make
     * the search exponential (one per crashed client in real histories),
     * so only histories with few are checked for it here. */
    size_t unknown = 0, open = 0;
    for (size_t i = 0; i < h.len; i++) {
        unknown += h.ev[i].type == JEP_INFO;
        open += h.ev[i].type == JEP_INVOKE;
        open -= h.ev[i].type != JEP_INVOKE && h.ev[i].f != JEP_EVENT && open;
    }
    if (unknown + open <= 10 && jep_check_register(&h, &v, &e) == 0 &&
        v.valid != (v.n_anomalies == 0))
        abort();
    if (jep_check_watch(&h, &v, &e) == 0 && v.valid != (v.n_anomalies == 0))
        abort();
    if (jep_check_monotonic(&h, &v, &e) == 0 &&
        v.valid != (v.n_anomalies == 0))
        abort();
    if (jep_check_list(&h, &v, &e) == 0 && v.valid != (v.n_anomalies == 0))
        abort();
    if (jep_check_set(&h, &v, &e) == 0 && v.valid != (v.n_anomalies == 0))
        abort();
    jep_history_free(&h);
    return 0;
}
