/* libFuzzer target: the HTTP request parsing path on arbitrary bytes.
 *
 * Build (from the top of the tree, after configure in $B):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include $B/config.h -iquote . tests/fuzz/fuzz_http_request.c \
 *     api/server/http\*.c api/server/tls.c lib/\*.c \
 *     -luv -lssl -lcrypto -lhttp_parser -o fuzz_http_request
 * Run: ./fuzz_http_request -max_total_time=60 -max_len=4096
 *
 * A detached connection (no socket, no loop) gets the input in pieces (the
 * first byte picks the piece size, so resumable parsing across reads is
 * covered); the handler answers whole, streams, or holds the request past
 * the connection's end (the orphan path). Properties: no crash, no leak,
 * no sanitizer report; every answer the server writes starts with
 * "HTTP/1.1 " and the output is only ever appended to. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct srv_req *held; /* a request kept past the conn's end */
static size_t out_bytes;     /* output seen for this input */

static void sink(void *arg, const char *p, size_t len)
{
    (void)arg;
    if (out_bytes == 0 && (len < 9 || memcmp(p, "HTTP/1.1 ", 9) != 0))
        abort();
    out_bytes += len;
}

static void handler(struct srv_req *req)
{
    size_t n = strlen(req->path);
    char last = n ? req->path[n - 1] : '/';

    (void)srv_req_header(req, "content-type");
    if (last == 's') {
        (void)srv_stream_begin(req, 200, "application/json");
        (void)srv_stream_write(req, req->body, req->body_len);
        (void)srv_stream_end(req);
    } else if (last == 'h' && held == NULL) {
        held = req;
    } else if (last == 'e') {
        (void)srv_respond_status(req, 404, "NotFound", req->query, 0);
    } else {
        (void)srv_respond(req, 200, "text/plain", NULL, req->body,
                          req->body_len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct srv_http *srv;
    struct srv_conn *c;
    size_t piece;

    if (srv == NULL) {
        struct srv_http_config cfg = {.on_request = handler,
                                      .max_header_bytes = 2048,
                                      .max_headers = 16,
                                      .max_body_bytes = 1024};

        srv = srv__http_new_detached(&cfg);
        if (srv == NULL)
            abort();
    }
    if (size == 0)
        return 0;
    piece = (size_t)(data[0] % 16) + 1;
    data++;
    size--;
    out_bytes = 0;
    c = srv__conn_new_detached(srv, sink, NULL);
    if (c == NULL)
        abort();
    for (size_t off = 0; off < size; off += piece) {
        size_t len = size - off < piece ? size - off : piece;

        srv__conn_feed(c, (const char *)data + off, len);
        srv__run_pending(srv);
    }
    srv__conn_free_detached(c);
    if (held != NULL) { /* orphaned now: answers are dropped, memory freed */
        if (!srv_req_orphaned(held))
            abort();
        (void)srv_respond(held, 200, NULL, NULL, NULL, 0);
        held = NULL;
    }
    return 0;
}
