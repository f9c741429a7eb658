/* The client's HTTP answer parser on good, split and broken answers: a
 * server that sends garbage gets a clean error, never a crash or a hang. */
#include <errno.h>
#include <string.h>

#include "client/conn.h"
#include "tests/lib/unit.h"

/* Feed @text in pieces of @piece bytes (0: all at once), then EOF if
 * @eof. Returns the first error, or 0; *@a holds the answer. */
static int feed(const char *text, size_t piece, bool eof,
                struct client__answer *a, struct client__reader *r)
{
    size_t len = strlen(text);
    int rv = 0;

    memset(a, 0, sizeof *a);
    client__reader_init(r, a, false);
    for (size_t off = 0; off < len && rv == 0 && !r->done;) {
        size_t n = piece == 0 || piece > len - off ? len - off : piece;

        rv = client__reader_feed(r, text + off, n);
        off += n;
    }
    if (rv == 0 && eof && !r->done)
        rv = client__reader_feed(r, "", 0);
    return rv;
}

static const char *ok_chunked =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Retry-After: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\n{\"a\":\r\n3\r\n12}\r\n0\r\n\r\n";

TEST(reader, answers_parse_the_same_however_they_are_split)
{
    for (size_t piece = 0; piece < 8; piece++) {
        struct client__answer a;
        struct client__reader r;

        ASSERT_EQ(feed(ok_chunked, piece, false, &a, &r), 0);
        ASSERT(r.done);
        ASSERT_EQ(a.status, 200);
        ASSERT_STR_EQ(a.content_type, "application/json");
        ASSERT_STR_EQ(a.retry_after, "3");
        ASSERT_STR_EQ(a.body, "{\"a\":12}");
        ASSERT(a.keep_alive);
        client__answer_reset(&a);
    }
}

TEST(reader, a_body_until_close_ends_at_eof)
{
    struct client__answer a;
    struct client__reader r;

    ASSERT_EQ(feed("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc", 2,
                   true, &a, &r), 0);
    ASSERT(r.done);
    ASSERT_STR_EQ(a.body, "abc");
    ASSERT(!a.keep_alive);
    client__answer_reset(&a);
}

TEST(reader, broken_answers_are_clean_errors)
{
    static const struct {
        const char *text;
        bool eof;
        int code;
    } cases[] = {
        {"", true, -ECONNRESET},                      /* closed at once */
        {"garbage\r\n\r\n", false, -EPROTO},          /* not HTTP */
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true,
         -EPROTO},                                    /* cut short */
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
         false, -EPROTO},                             /* bad chunk size */
        {"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", false, -EPROTO},
        {"HTTP/1.1 2000 OK\r\n\r\n", false, -EPROTO}, /* bad status */
        {"HTTP/1.1 200 OK\r\nX: \x01\x02\r\n\r\n", false, -EPROTO},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
         false, -EPROTO},                             /* ambiguous length */
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct client__answer a;
        struct client__reader r;
        int rv = feed(cases[i].text, 3, cases[i].eof, &a, &r);

        ASSERT_MSG(rv == cases[i].code, "case %zu: %d, want %d", i, rv,
                   cases[i].code);
        client__answer_reset(&a);
    }
}

TEST(reader, bytes_after_an_answer_make_the_connection_unusable)
{
    struct client__answer a;
    struct client__reader r;

    ASSERT_EQ(feed("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n", 0,
                   false, &a, &r), 0);
    ASSERT(r.done);
    ASSERT_EQ(a.status, 204);
    ASSERT(!a.keep_alive);
    client__answer_reset(&a);
}

int main(int argc, char **argv)
{
    return unit_main(argc, argv);
}
