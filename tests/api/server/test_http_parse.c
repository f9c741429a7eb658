/* The request parsing path without sockets (a detached connection): bytes
 * in, handler calls and queued output observed directly. */
#include <stdlib.h>
#include <string.h>

#include "api/server/http_internal.h"
#include "tests/lib/unit.h"

/* What the test handler saw and what the connection wrote. */
struct seen {
    char out[65536];      /* flushed output */
    size_t out_len;       /* bytes in out */
    int requests;         /* handler calls */
    struct srv_req *held; /* a request left unanswered */
    bool hold;            /* handler leaves requests unanswered */
    char log[4096];       /* "METHOD path query hdr body|" per request */
};

static struct seen seen;

static void sink(void *arg, const char *data, size_t len)
{
    struct seen *s = arg;

    ASSERT(s->out_len + len <= sizeof(s->out));
    memcpy(s->out + s->out_len, data, len);
    s->out_len += len;
}

static void handler(struct srv_req *req)
{
    const char *h = srv_req_header(req, "x-test");
    size_t n = strlen(seen.log);

    seen.requests++;
    snprintf(seen.log + n, sizeof(seen.log) - n, "%s %s %s %s %s|", req->method,
             req->path, req->query, h ? h : "-", req->body);
    if (seen.hold) {
        seen.held = req;
        return;
    }
    srv_respond(req, 200, "text/plain", NULL, "ok", 2);
}

struct fixture {
    struct srv_http *srv;  /* detached server */
    struct srv_conn *conn; /* detached connection */
};

static void setup(struct fixture *f, size_t max_body)
{
    struct srv_http_config cfg = {.on_request = handler,
                                  .max_body_bytes = max_body};

    memset(&seen, 0, sizeof(seen));
    f->srv = srv__http_new_detached(&cfg);
    ASSERT(f->srv != NULL);
    f->conn = srv__conn_new_detached(f->srv, sink, &seen);
    ASSERT(f->conn != NULL);
}

static void teardown(struct fixture *f)
{
    srv__conn_free_detached(f->conn);
    srv__http_free_detached(f->srv);
}

static void feed(struct fixture *f, const char *s)
{
    srv__conn_feed(f->conn, s, strlen(s));
    srv__run_pending(f->srv);
}

static int count(const char *hay, size_t len, const char *needle)
{
    int n = 0;
    const char *p = hay, *end = hay + len;

    while ((p = memmem(p, (size_t)(end - p), needle, strlen(needle)))) {
        n++;
        p++;
    }
    return n;
}

TEST(http_parse, byte_by_byte_pipelined)
{
    static const char in[] =
        "GET /a?x=1 HTTP/1.1\r\nX-Test: one\r\nEmpty:\r\n\r\n"
        "POST /b HTTP/1.1\r\nx-test:  two  \r\nContent-Length: 3\r\n\r\nabc"
        "PUT http://host:1/c/d?q HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
        "\r\n1\r\nz\r\n0\r\n\r\n";
    struct fixture f;

    setup(&f, 0);
    for (size_t i = 0; i < sizeof(in) - 1; i++) {
        srv__conn_feed(f.conn, in + i, 1);
        srv__run_pending(f.srv);
    }
    ASSERT_EQ(seen.requests, 3);
    ASSERT_STR_EQ(seen.log,
                  "GET /a x=1 one |POST /b  two abc|"
                  "PUT /c/d q - z|");
    ASSERT_EQ(count(seen.out, seen.out_len, "HTTP/1.1 200 OK"), 3);
    teardown(&f);
}

TEST(http_parse, trailers_do_not_move_the_head)
{
    struct fixture f;
    char trailer[3000];

    /* found by the fuzzer: trailer headers grew the head buffer after its
     * pointers were handed out */
    setup(&f, 0);
    memset(trailer, 't', sizeof(trailer) - 1);
    trailer[sizeof(trailer) - 1] = '\0';
    seen.hold = true;
    feed(&f,
         "POST /p HTTP/1.1\r\nX-Test: v\r\n"
         "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-Trailer: ");
    feed(&f, trailer);
    feed(&f, "\r\n\r\n");
    ASSERT_EQ(seen.requests, 1);
    ASSERT_STR_EQ(srv_req_header(seen.held, "X-TEST"), "v");
    ASSERT(srv_req_header(seen.held, "x-trailer") == NULL);
    ASSERT_STR_EQ(seen.held->path, "/p");
    srv_respond(seen.held, 200, NULL, NULL, NULL, 0);
    teardown(&f);
}

TEST(http_parse, pipelined_wait_for_answer)
{
    struct fixture f;

    setup(&f, 0);
    seen.hold = true;
    feed(&f, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    ASSERT_EQ(seen.requests, 1); /* the second waits for the first */
    ASSERT_EQ(seen.out_len, 0);
    seen.hold = false;
    srv_respond(seen.held, 201, NULL, NULL, NULL, 0);
    srv__run_pending(f.srv);
    ASSERT_EQ(seen.requests, 2);
    ASSERT(memmem(seen.out, seen.out_len, "201 Created", 11) != NULL);
    ASSERT(memmem(seen.out, seen.out_len, "201 Created", 11) <
           memmem(seen.out, seen.out_len, "200 OK", 6));
    teardown(&f);
}

TEST(http_parse, held_request_outlives_connection)
{
    struct fixture f;
    struct srv_req *req;

    setup(&f, 0);
    seen.hold = true;
    feed(&f, "GET /w HTTP/1.1\r\n\r\n");
    req = seen.held;
    ASSERT(req != NULL);
    ASSERT(!srv_req_orphaned(req));
    ASSERT_EQ(srv_stream_begin(req, 200, "application/json"), 0);
    ASSERT_EQ(srv_stream_write(req, "{}", 2), 0);
    ASSERT(srv_req_queued(req) > 0);
    teardown(&f); /* the connection goes away first */
    ASSERT(srv_req_orphaned(req));
    ASSERT_EQ(srv_stream_write(req, "{}", 2), -EPIPE);
    ASSERT_EQ(srv_stream_end(req), -EPIPE); /* and frees it */
}

TEST(http_parse, body_limit_and_errors)
{
    struct fixture f;

    setup(&f, 4);
    feed(&f, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n12345");
    ASSERT_EQ(seen.requests, 0);
    ASSERT(memmem(seen.out, seen.out_len, "413 Payload Too Large", 21));
    ASSERT(memmem(seen.out, seen.out_len,
                  "\"reason\":\"RequestEntityTooLarge\"", 32));
    ASSERT(memmem(seen.out, seen.out_len, "Connection: close", 17));
    /* nothing more is parsed after a refusal */
    feed(&f, "GET / HTTP/1.1\r\n\r\n");
    ASSERT_EQ(seen.requests, 0);
    teardown(&f);
}

TEST(http_parse, status_json_escapes)
{
    char buf[64];

    ASSERT_EQ(srv_json_escape(buf, sizeof(buf), "a\"b\\c\n"), 13);
    ASSERT_STR_EQ(buf, "a\\\"b\\\\c\\u000a");
    ASSERT_EQ(srv_json_escape(NULL, 0, "abc"), 3);
    ASSERT_STR_EQ(srv_status_text(413), "Payload Too Large");
    ASSERT_STR_EQ(srv_status_text(799), "Unknown");
}

UNIT_MAIN()
