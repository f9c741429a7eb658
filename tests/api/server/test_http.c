/* HTTP/1.1 + TLS server against real clients on loopback: a blocking
 * socket client, an OpenSSL client, and curl when installed. The server
 * runs on its own loop in a thread; each test stops it and checks that the
 * loop closes cleanly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/api/server/test_http_util.h"
#include "tests/lib/unit.h"

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One request, its response checked for @status; returns the body. */
static char *roundtrip(struct tconn *c, const char *req, int status)
{
    struct tresp r;

    tc_sends(c, req);
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_MSG(r.status == status, "status %d, want %d: %s", r.status, status,
               r.head);
    return r.body;
}

TEST_T(http, methods_keepalive, 10)
{
    struct tsrv t;
    struct tconn *c;
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH",
                                          "DELETE"};
    char req[256], want[128];

    tsrv_start(&t, NULL, false);
    c = tc_open(t.port);
    for (size_t i = 0; i < 5; i++) {
        char *body;

        /* PUT goes without Content-Type, as kubectl's scale does */
        snprintf(req, sizeof(req),
                 "%s /echo?a=%%3D1&b=2 HTTP/1.1\r\nHost: x\r\n%s"
                 "Content-Length: 5\r\n\r\nhello",
                 methods[i],
                 i == 2 ? "" : "Content-Type: application/json\r\n");
        body = roundtrip(c, req, 200);
        snprintf(want, sizeof(want), "%s /echo?a=%%3D1&b=2 5\nhello",
                 methods[i]);
        ASSERT_STR_EQ(body, want);
        free(body);
    }
    ASSERT_EQ(tsrv_get(&t.requests), 5);
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, head_and_not_found, 10)
{
    struct tsrv t;
    struct tconn *c;
    struct tresp r;

    tsrv_start(&t, NULL, false);
    c = tc_open(t.port);
    tc_sends(c,
             "HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    /* HEAD: Content-Length of the would-be body, and no body */
    ASSERT_EQ(tc_response_head(c, &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(tresp_header(&r, "Content-Length"), "14");
    tresp_done(&r);
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_EQ(r.status, 404);
    ASSERT_STR_CONTAINS(r.body, "\"message\":\"no such \\\"path\\\"\"");
    tresp_done(&r);
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, pipelining_in_order, 10)
{
    struct tsrv t;
    struct tconn *c;
    struct tresp r;
    char all[1024] = "";

    tsrv_start(&t, NULL, false);
    c = tc_open(t.port);
    for (int i = 0; i < 4; i++) {
        char one[128];

        snprintf(one, sizeof(one),
                 "POST /echo?i=%d HTTP/1.1\r\nHost: x\r\n"
                 "Content-Length: 1\r\n\r\n%d",
                 i, i);
        strcat(all, one);
    }
    tc_sends(c, all); /* four requests in one write */
    for (int i = 0; i < 4; i++) {
        char want[64];

        ASSERT_EQ(tc_response(c, &r), 0);
        ASSERT_EQ(r.status, 200);
        snprintf(want, sizeof(want), "POST /echo?i=%d 1\n%d", i, i);
        ASSERT_STR_EQ(r.body, want);
        tresp_done(&r);
    }
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, chunked_request_body, 10)
{
    struct tsrv t;
    struct tconn *c;
    char *body;

    tsrv_start(&t, NULL, false);
    c = tc_open(t.port);
    body = roundtrip(c,
                     "PUT /echo HTTP/1.1\r\nHost: x\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
                     200);
    ASSERT_STR_EQ(body, "PUT /echo? 7\nabcdefg");
    free(body);
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, expect_continue, 10)
{
    struct tsrv t;
    struct tconn *c;
    struct tresp r;

    tsrv_start(&t, NULL, false);
    c = tc_open(t.port);
    tc_sends(c,
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
             "Expect: 100-continue\r\n\r\n");
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_EQ(r.status, 100);
    tresp_done(&r);
    tc_sends(c, "ok");
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.body, "POST /echo? 2\nok");
    tresp_done(&r);
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, stream_read_incrementally, 10)
{
    struct tsrv t;
    struct tconn *c;
    struct tresp r;
    uint64_t t0;

    tsrv_start(&t, NULL, false);
    c = tc_open(t.port);
    tc_sends(c, "GET /stream?n=5 HTTP/1.1\r\nHost: x\r\n\r\n");
    t0 = now_ms();
    /* the head and the first chunk come before the stream ends (100 ms) */
    while (memmem(c->buf, c->len, "chunk 0\n", 8) == NULL)
        ASSERT(tc_fill(c) > 0);
    ASSERT_MSG(memmem(c->buf, c->len, "chunk 4", 7) == NULL,
               "whole stream arrived at once");
    ASSERT(strstr(c->buf, "Transfer-Encoding: chunked") != NULL);
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_STR_EQ(r.body, "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n");
    ASSERT(now_ms() - t0 >= 80);
    tresp_done(&r);
    /* keep-alive after a stream */
    free(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 200));
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, client_leaves_mid_stream, 10)
{
    struct tsrv t;
    struct tconn *c;
    uint64_t t0;

    tsrv_start(&t, NULL, false);
    c = tc_open(t.port);
    tc_sends(c, "GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
    while (memmem(c->buf, c->len, "ADDED", 5) == NULL)
        ASSERT(tc_fill(c) > 0);
    ASSERT_EQ(tsrv_get(&t.closes), 0);
    tc_close(c);
    t0 = now_ms();
    while (tsrv_get(&t.closes) == 0 && now_ms() - t0 < 3000)
        usleep(5000);
    ASSERT_EQ(tsrv_get(&t.closes), 1);
    tsrv_stop(&t);
}

TEST_T(http, server_close_ends_watch, 10)
{
    struct tsrv t;
    struct tconn *c;

    tsrv_start(&t, NULL, false);
    c = tc_open(t.port);
    tc_sends(c, "GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
    while (memmem(c->buf, c->len, "ADDED", 5) == NULL)
        ASSERT(tc_fill(c) > 0);
    tsrv_stop(&t); /* the close callback runs; the loop still closes */
    ASSERT_EQ(t.closes, 1);
    ASSERT(tc_wait_closed(c, 2000));
    tc_close(c);
}

static void check_status_json(const struct tresp *r,
                              int code,
                              const char *reason)
{
    char want[128];

    ASSERT_STR_CONTAINS(r->body, "\"kind\":\"Status\",\"apiVersion\":\"v1\"");
    ASSERT_STR_CONTAINS(r->body, "\"status\":\"Failure\"");
    snprintf(want, sizeof(want), "\"reason\":\"%s\",\"code\":%d}", reason,
             code);
    ASSERT_STR_CONTAINS(r->body, want);
    ASSERT_STR_EQ(tresp_header(r, "Content-Type"), "application/json");
}

TEST_T(http, body_too_large_413, 10)
{
    struct tsrv t;
    struct tconn *c;
    struct tresp r;

    tsrv_start(&t, NULL, false);
    /* declared length over 3 MiB: refused before any body is read */
    c = tc_open(t.port);
    tc_sends(c,
             "POST /echo HTTP/1.1\r\nHost: x\r\n"
             "Content-Length: 3145729\r\n\r\nxxxx");
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_EQ(r.status, 413);
    check_status_json(&r, 413, "RequestEntityTooLarge");
    ASSERT_STR_EQ(tresp_header(&r, "Connection"), "close");
    tresp_done(&r);
    ASSERT(tc_wait_closed(c, 3000));
    tc_close(c);
    /* exactly 3 MiB is fine */
    {
        size_t n = 3u << 20;
        char *big = malloc(n);
        char head[128];

        memset(big, 'b', n);
        c = tc_open(t.port);
        snprintf(head, sizeof(head),
                 "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
                 n);
        tc_sends(c, head);
        tc_send(c, big, n);
        ASSERT_EQ(tc_response(c, &r), 0);
        ASSERT_EQ(r.status, 200);
        ASSERT_UEQ(r.body_len, n + strlen("PUT /echo? 3145728\n"));
        tresp_done(&r);
        free(big);
        tc_close(c);
    }
    tsrv_stop(&t);
}

TEST_T(http, chunked_body_too_large_413, 10)
{
    struct srv_http_config cfg = {.max_body_bytes = 1000};
    struct tsrv t;
    struct tconn *c;
    struct tresp r;
    char chunk[700];

    tsrv_start(&t, &cfg, false);
    c = tc_open(t.port);
    memset(chunk, 'z', sizeof(chunk));
    tc_sends(c,
             "POST /echo HTTP/1.1\r\nHost: x\r\n"
             "Transfer-Encoding: chunked\r\n\r\n2bc\r\n");
    tc_send(c, chunk, sizeof(chunk));
    tc_sends(c, "\r\n2bc\r\n");
    tc_send(c, chunk, sizeof(chunk));
    tc_sends(c, "\r\n0\r\n\r\n");
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_EQ(r.status, 413);
    check_status_json(&r, 413, "RequestEntityTooLarge");
    tresp_done(&r);
    ASSERT(tc_wait_closed(c, 3000));
    tc_close(c);
    tsrv_stop(&t);
}

static void send_big_header(struct tconn *c, size_t n)
{
    char *v = malloc(n + 1);

    memset(v, 'h', n);
    v[n] = '\0';
    tc_sends(c, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ");
    tc_send(c, v, n);
    tc_sends(c, "\r\n\r\n");
    free(v);
}

TEST_T(http, huge_headers_431, 10)
{
    struct tsrv t;
    struct tconn *c;
    struct tresp r;

    tsrv_start(&t, NULL, false);
    /* 200 KiB: over http-parser's 80 KiB default, under our 1 MiB */
    c = tc_open(t.port);
    send_big_header(c, 200 << 10);
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_EQ(r.status, 200);
    tresp_done(&r);
    tc_close(c);
    /* 2 MiB: refused */
    c = tc_open(t.port);
    send_big_header(c, 2 << 20);
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_EQ(r.status, 431);
    check_status_json(&r, 431, "RequestHeaderFieldsTooLarge");
    tresp_done(&r);
    ASSERT(tc_wait_closed(c, 3000));
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, slowloris_closed_at_deadline, 10)
{
    struct srv_http_config cfg = {.header_timeout_ms = 300};
    struct tsrv t;
    struct tconn *c;
    uint64_t t0;
    bool closed = false;

    tsrv_start(&t, &cfg, false);
    c = tc_open(t.port);
    t0 = now_ms();
    tc_sends(c, "GET /echo HTTP/1.1\r\n");
    for (int i = 0; i < 30 && !closed; i++) {
        char line[32];

        usleep(100 * 1000);
        snprintf(line, sizeof(line), "X-%d: y\r\n", i);
        if (send(c->fd, line, strlen(line), MSG_NOSIGNAL) < 0)
            closed = true;
        else if (tc_wait_closed(c, 1))
            closed = true;
    }
    ASSERT_MSG(closed, "a trickled head was not cut off");
    ASSERT(now_ms() - t0 >= 250);
    ASSERT(now_ms() - t0 < 2000);
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, idle_keepalive_closed, 10)
{
    struct srv_http_config cfg = {.idle_timeout_ms = 300};
    struct tsrv t;
    struct tconn *c;
    uint64_t t0;

    tsrv_start(&t, &cfg, false);
    c = tc_open(t.port);
    free(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 200));
    t0 = now_ms();
    ASSERT(tc_wait_closed(c, 3000));
    ASSERT(now_ms() - t0 >= 250);
    tc_close(c);
    /* a connection that never sends anything is idle too */
    c = tc_open(t.port);
    ASSERT(tc_wait_closed(c, 3000));
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, garbage_and_bad_requests, 10)
{
    struct tsrv t;
    struct tconn *c;
    struct tresp r;
    static const struct {
        const char *req;
        int status;
    } cases[] = {
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 400},
        {"GET /echo HTTP/1.1\r\nBad Header\r\n\r\n", 400},
        {"PROPFIND /echo HTTP/1.1\r\nHost: x\r\n\r\n", 501},
        {"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n", 505},
        {"GET /echo HTTP/1.1\r\nContent-Length: 1\r\n"
         "Content-Length: 2\r\n\r\nab",
         400},
        {"POST /echo HTTP/1.1\r\nExpect: teapot\r\n\r\n", 417},
        {"GET /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
         "zz\r\n",
         400},
    };

    tsrv_start(&t, NULL, false);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        c = tc_open(t.port);
        tc_sends(c, cases[i].req);
        ASSERT_EQ(tc_response(c, &r), 0);
        ASSERT_MSG(r.status == cases[i].status, "case %zu: %d", i, r.status);
        tresp_done(&r);
        ASSERT(tc_wait_closed(c, 3000));
        tc_close(c);
    }
    /* random bytes: answered or closed, never a hang; server still fine */
    srand(42);
    for (int i = 0; i < 20; i++) {
        char junk[512];

        for (size_t j = 0; j < sizeof(junk); j++)
            junk[j] = (char)rand();
        c = tc_open(t.port);
        (void)send(c->fd, junk, sizeof(junk), MSG_NOSIGNAL);
        ASSERT(tc_wait_closed(c, 3000));
        tc_close(c);
    }
    c = tc_open(t.port);
    free(roundtrip(c, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 200));
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, http10_close_and_keepalive, 10)
{
    struct tsrv t;
    struct tconn *c;
    struct tresp r;

    tsrv_start(&t, NULL, false);
    c = tc_open(t.port);
    tc_sends(c, "GET /echo HTTP/1.0\r\n\r\n");
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(tresp_header(&r, "Connection"), "close");
    tresp_done(&r);
    ASSERT(tc_wait_closed(c, 3000));
    tc_close(c);
    c = tc_open(t.port);
    tc_sends(c, "GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_STR_EQ(tresp_header(&r, "Connection"), "close");
    tresp_done(&r);
    ASSERT(tc_wait_closed(c, 3000));
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, too_many_connections, 10)
{
    struct srv_http_config cfg = {.max_conns = 2};
    struct tsrv t;
    struct tconn *a, *b, *c;
    struct tresp r;

    tsrv_start(&t, &cfg, false);
    a = tc_open(t.port);
    b = tc_open(t.port);
    free(roundtrip(a, "GET /echo HTTP/1.1\r\n\r\n", 200));
    free(roundtrip(b, "GET /echo HTTP/1.1\r\n\r\n", 200));
    c = tc_open(t.port);
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_EQ(r.status, 503);
    ASSERT_STR_EQ(tresp_header(&r, "Retry-After"), "1");
    check_status_json(&r, 503, "ServiceUnavailable");
    tresp_done(&r);
    tc_close(c);
    tc_close(a); /* frees a slot */
    for (int i = 0; i < 100; i++) {
        struct tresp r2;

        c = tc_open(t.port);
        tc_sends(c, "GET /echo HTTP/1.1\r\n\r\n");
        ASSERT_EQ(tc_response(c, &r2), 0);
        tresp_done(&r2);
        tc_close(c);
        if (r2.status == 200)
            break;
        usleep(10000);
    }
    tc_close(b);
    tsrv_stop(&t);
}

TEST_T(http, slow_reader_owner_aborts, 15)
{
    struct tsrv t;
    struct tconn *c;
    uint64_t t0;

    tsrv_start(&t, NULL, false);
    c = tc_open(t.port);
    tc_sends(c, "GET /flood HTTP/1.1\r\n\r\n");
    /* never read: the kernel buffers fill, then the server's queue grows */
    t0 = now_ms();
    while (tsrv_get(&t.aborted) == 0 && now_ms() - t0 < 8000)
        usleep(10000);
    ASSERT_EQ(tsrv_get(&t.aborted), 1);
    ASSERT(tsrv_get_size(&t.max_queued) > (2u << 20));
    ASSERT(tc_wait_closed(c, 5000));
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, stream_queue_hard_limit, 15)
{
    struct srv_http_config cfg = {.max_stream_queue = 1u << 20};
    struct tsrv t;
    struct tconn *c;
    uint64_t t0;

    tsrv_start(&t, &cfg, false);
    c = tc_open(t.port);
    tc_sends(c, "GET /slowlimit HTTP/1.1\r\n\r\n");
    t0 = now_ms();
    while (tsrv_get(&t.closes) == 0 && now_ms() - t0 < 8000)
        usleep(10000);
    ASSERT_EQ(tsrv_get(&t.slow_err), -C8S_ESLOW);
    ASSERT_EQ(tsrv_get(&t.closes), 1);
    tc_close(c);
    tsrv_stop(&t);
}

/* ---- TLS
 * ------------------------------------------------------------------------ */

TEST_T(http, tls_alpn_http11_keepalive, 10)
{
    struct tsrv t;
    struct tconn *c;
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;

    tsrv_start(&t, NULL, true);
    c = tc_open_tls(t.port, "\x02h2\x08http/1.1", 12);
    SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
    ASSERT_EQ(alpn_len, 8);
    ASSERT_MEM_EQ(alpn, "http/1.1", 8);
    ASSERT(SSL_version(c->ssl) >= TLS1_2_VERSION);
    for (int i = 0; i < 3; i++) {
        char *body = roundtrip(c,
                               "POST /echo HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 3\r\n\r\nabc",
                               200);

        ASSERT_STR_EQ(body, "POST /echo? 3\nabc");
        free(body);
    }
    tc_close(c);
    /* a client offering only h2 gets no ALPN answer (and HTTP/1.1) */
    c = tc_open_tls(t.port, "\x02h2", 3);
    SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
    ASSERT_EQ(alpn_len, 0);
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, tls_stream_and_close, 10)
{
    struct tsrv t;
    struct tconn *c;
    struct tresp r;
    uint64_t t0;

    tsrv_start(&t, NULL, true);
    c = tc_open_tls(t.port, NULL, 0);
    tc_sends(c, "GET /stream?n=3 HTTP/1.1\r\n\r\n");
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_STR_EQ(r.body, "chunk 0\nchunk 1\nchunk 2\n");
    tresp_done(&r);
    tc_sends(c, "GET /watch HTTP/1.1\r\n\r\n");
    while (memmem(c->buf, c->len, "ADDED", 5) == NULL)
        ASSERT(tc_fill(c) > 0);
    tc_close(c);
    t0 = now_ms();
    while (tsrv_get(&t.closes) == 0 && now_ms() - t0 < 3000)
        usleep(5000);
    ASSERT_EQ(tsrv_get(&t.closes), 1);
    tsrv_stop(&t);
}

TEST_T(http, plain_http_on_tls_port, 10)
{
    struct tsrv t;
    struct tconn *c;
    struct tresp r;

    tsrv_start(&t, NULL, true);
    c = tc_open(t.port);
    tc_sends(c, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(tc_response(c, &r), 0);
    ASSERT_EQ(r.status, 400);
    ASSERT_STR_CONTAINS(r.body, "HTTP request to an HTTPS server");
    tresp_done(&r);
    ASSERT(tc_wait_closed(c, 3000));
    tc_close(c);
    tsrv_stop(&t);
}

TEST_T(http, tls_garbage_and_handshake_timeout, 10)
{
    struct srv_http_config cfg = {.tls_timeout_ms = 300};
    struct tsrv t;
    struct tconn *c;
    uint64_t t0;

    tsrv_start(&t, &cfg, true);
    /* a broken ClientHello */
    c = tc_open(t.port);
    tc_sends(c, "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00garbage");
    ASSERT(tc_wait_closed(c, 3000));
    tc_close(c);
    /* random bytes */
    srand(7);
    for (int i = 0; i < 10; i++) {
        char junk[300];

        for (size_t j = 0; j < sizeof(junk); j++)
            junk[j] = (char)rand();
        c = tc_open(t.port);
        (void)send(c->fd, junk, sizeof(junk), MSG_NOSIGNAL);
        ASSERT(tc_wait_closed(c, 3000));
        tc_close(c);
    }
    /* silence: cut at the handshake deadline */
    c = tc_open(t.port);
    t0 = now_ms();
    ASSERT(tc_wait_closed(c, 3000));
    ASSERT(now_ms() - t0 >= 250);
    tc_close(c);
    /* and the port still serves */
    c = tc_open_tls(t.port, NULL, 0);
    free(roundtrip(c, "GET /echo HTTP/1.1\r\n\r\n", 200));
    tc_close(c);
    tsrv_stop(&t);
}

/* ---- curl
 * ---------------------------------------------------------------------- */

static bool have_curl(void)
{
    return system("curl --version >/dev/null 2>&1") == 0;
}

/* Run a curl command line; its stdout (malloc'ed). */
static char *run(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    char *out = calloc(1, 65536);
    size_t n;

    ASSERT(f != NULL);
    n = fread(out, 1, 65535, f);
    out[n] = '\0';
    ASSERT_EQ(pclose(f), 0);
    return out;
}

TEST_T(http, curl_plain_and_tls, 20)
{
    struct tsrv t, s;
    char cmd[512];
    char *out;

    if (!have_curl())
        SKIP("curl is not installed (apt-get install curl)");
    tsrv_start(&t, NULL, false);
    tsrv_start(&s, NULL, true);
    /* two requests on one connection, the second a POST with a body */
    snprintf(cmd, sizeof(cmd),
             "curl -sS --max-time 5 http://127.0.0.1:%d/echo?x=1 "
             "--next -sS --max-time 5 -d hello "
             "http://127.0.0.1:%d/echo",
             t.port, t.port);
    out = run(cmd);
    ASSERT_STR_EQ(out, "GET /echo?x=1 0\nPOST /echo? 5\nhello");
    free(out);
    /* TLS: curl offers h2 and http/1.1 by ALPN; we must answer 1.1 */
    snprintf(cmd, sizeof(cmd),
             "curl -sSk --max-time 5 -o /dev/null "
             "-w '%%{http_code} %%{http_version}' https://127.0.0.1:%d/echo",
             s.port);
    out = run(cmd);
    ASSERT_STR_EQ(out, "200 1.1");
    free(out);
    snprintf(cmd, sizeof(cmd),
             "curl -sSk --max-time 5 -N https://127.0.0.1:%d/stream?n=3",
             s.port);
    out = run(cmd);
    ASSERT_STR_EQ(out, "chunk 0\nchunk 1\nchunk 2\n");
    free(out);
    tsrv_stop(&s);
    tsrv_stop(&t);
}

UNIT_MAIN()
