/* libFuzzer target: libc8s's HTTP answer parser (client/conn.c) on
 * arbitrary bytes, in pieces whose size the first byte picks, then EOF.
 *
 * Build (from the top of the tree, after configure in $B):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include $B/config.h -iquote . -Iinclude \
 *     tests/fuzz/fuzz_client_response.c client/conn.c lib/\*.c \
 *     -lssl -lcrypto -lhttp_parser -o fuzz_client_response
 * Run: ./fuzz_client_response -max_total_time=60 -max_len=4096
 *
 * Properties: no crash, no leak, no sanitizer report; an answer reported
 * done has a status in 100..999 and a NUL-terminated body of its length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct client__answer a;
    struct client__reader r;
    size_t piece, off = 1;
    int rv = 0;

    if (size == 0)
        return 0;
    piece = (size_t)data[0] % 17 + 1;
    memset(&a, 0, sizeof a);
    client__reader_init(&r, &a, data[0] & 0x80);
    while (off < size && rv == 0 && !r.done) {
        size_t n = piece < size - off ? piece : size - off;

        rv = client__reader_feed(&r, (const char *)data + off, n);
        off += n;
    }
    if (rv == 0 && !r.done)
        rv = client__reader_feed(&r, "", 0);
    if (rv == 0 && r.done) {
        if (a.status < 100 || a.status > 999)
            abort();
        if (a.body != NULL && strlen(a.body) > a.body_len)
            abort();
    }
    client__answer_reset(&a);
    return 0;
}
