/* Unit tests for lib/: errors, allocation faults, refcounted buffers, logs,
 * CRC-32. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lib/crc32.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/mp.h"
#include "lib/rbuf.h"
#include "tests/lib/unit.h"

TEST(err, project_codes_have_names_and_messages)
{
    ASSERT_STR_EQ(err_name(-C8S_ECONFLICT), "C8S_ECONFLICT");
    ASSERT_STR_EQ(err_str(-C8S_ECOMPACTED),
                  "requested revision has been compacted");
    ASSERT_STR_EQ(err_name(-ENOENT), "ENOENT");
    ASSERT_STR_EQ(err_str(-ENOENT), "No such file or directory");
    ASSERT_STR_EQ(err_str(0), "success");
    ASSERT(C8S_ENOTFOUND > 4096);
}

TEST(err, setf_and_wrapf_build_context)
{
    struct err e;

    err_clear(&e);
    ASSERT_EQ(err_setf(&e, -EINVAL, "bad flag %s", "--x"), -EINVAL);
    ASSERT_EQ(err_wrapf(&e, "parsing %s", "argv"), -EINVAL);
    ASSERT_STR_EQ(e.msg, "parsing argv: bad flag --x");
    ASSERT_EQ(e.code, -EINVAL);
    ASSERT_EQ(err_setf(NULL, -EIO, "ignored"), -EIO);
}

TEST(err, long_messages_are_truncated_not_overflowed)
{
    struct err e;
    char big[1000];

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    err_setf(&e, -EIO, "%s", big);
    err_wrapf(&e, "%s", big);
    ASSERT_EQ(strlen(e.msg), ERR_MSG_SIZE - 1);
}

TEST(mem, armed_fault_fails_exactly_the_chosen_allocations)
{
    void *a, *b, *c;

    mem_fault_arm(1, 1);
    a = mem_malloc(8);
    b = mem_malloc(8);
    c = mem_malloc(8);
    ASSERT(a != NULL);
    ASSERT(b == NULL);
    ASSERT(c != NULL);
    ASSERT_EQ(mem_fault_count(), 1);
    mem_fault_arm(-1, 0);
    mem_free(a);
    mem_free(c);
}

TEST(rbuf, refcount_frees_on_last_unref)
{
    struct rbuf *b = rbuf_new("hello", 5);

    ASSERT(b != NULL);
    ASSERT_EQ(b->len, 5);
    ASSERT_STR_EQ((const char *)b->data, "hello");
    ASSERT(rbuf_ref(b) == b);
    ASSERT(rbuf_unref(b) == NULL);
    ASSERT_EQ(b->refs, 1);
    rbuf_unref(b); /* a leak or double free here fails under ASan */
    ASSERT(rbuf_unref(NULL) == NULL);
}

TEST(rbuf, allocation_failure_returns_null)
{
    mem_fault_arm(0, 1);
    ASSERT(rbuf_new("x", 1) == NULL);
    mem_fault_arm(-1, 0);
}

TEST(crc32, known_vectors)
{
    static uint8_t zeros[4096], ramp[1024];

    for (size_t i = 0; i < sizeof ramp; i++)
        ramp[i] = (uint8_t)i;
    ASSERT_UEQ(crc32_update(0, "", 0), 0);
    ASSERT_UEQ(crc32_update(0, NULL, 0), 0);
    ASSERT_UEQ(crc32_update(0, "a", 1), 0xe8b7be43u);
    ASSERT_UEQ(crc32_update(0, "123456789", 9), 0xcbf43926u);
    ASSERT_UEQ(crc32_update(0, "The quick brown fox jumps over the lazy dog",
                            43),
               0x414fa339u);
    ASSERT_UEQ(crc32_update(0, zeros, sizeof zeros), 0xc71c0011u);
    ASSERT_UEQ(crc32_update(0, ramp, sizeof ramp), 0xb70b4c26u);
}

/* Bit-at-a-time CRC-32: the definition, independent of any table. */
static uint32_t crc32_bitwise(const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;

    while (len-- > 0) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

/* The block loop and the byte tail agree with the definition at every
 * alignment and length, and a CRC can be continued across any split. */
TEST(crc32, every_alignment_length_and_split)
{
    uint8_t buf[300];
    uint64_t x = 0x9e3779b97f4a7c15ull;

    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len + off <= sizeof buf; len += 1 + len / 16) {
            uint32_t want = crc32_bitwise(buf + off, len);

            ASSERT_UEQ(crc32_update(0, buf + off, len), want);
            for (size_t cut = 0; cut <= len; cut += 1 + cut / 4)
                ASSERT_UEQ(crc32_update(crc32_update(0, buf + off, cut),
                                        buf + off + cut, len - cut),
                           want);
        }
}

/* Capture log output in a pipe and return what was written. */
static void capture(char *out, size_t size, int json)
{
    int fds[2];
    ssize_t n;

    ASSERT_EQ(pipe(fds), 0);
    log_set_fd(fds[1]);
    log_set_json(json);
    log_set_level(LOG_LEVEL_INFO);
    log_debug("test", "hidden %d", 1);
    log_info("test", "shown \"%s\"", "quoted");
    log_set_fd(-1);
    close(fds[1]);
    n = read(fds[0], out, size - 1);
    out[n > 0 ? n : 0] = '\0';
    close(fds[0]);
}

/* A reserved writer takes its bytes in place and keeps them; reserving less
 * than it has changes nothing. */
TEST(mp, writer_reserve_keeps_content_and_room)
{
    struct mp_writer w;
    struct mp_reader rd;
    uint64_t v;

    mp_writer_init(&w);
    mp_write_uint(&w, 7);
    mp_writer_reserve(&w, 4096);
    ASSERT_EQ(w.cap, 4096);
    const uint8_t *before = w.buf;
    for (uint64_t i = 0; i < 1000; i++)
        mp_write_uint(&w, i);
    ASSERT(w.buf == before); /* no copy while within the reservation */
    mp_writer_reserve(&w, 16);
    ASSERT_EQ(w.cap, 4096);
    ASSERT(!w.failed);
    mp_reader_init(&rd, w.buf, w.len);
    ASSERT_EQ(mp_read_uint(&rd, &v), 0);
    ASSERT_EQ(v, 7);
    for (uint64_t i = 0; i < 1000; i++) {
        ASSERT_EQ(mp_read_uint(&rd, &v), 0);
        ASSERT_EQ(v, i);
    }
    mp_writer_done(&w);
}

TEST(log, text_lines_have_time_level_and_component)
{
    char out[512];

    capture(out, sizeof out, 0);
    ASSERT_STR_CONTAINS(out, " info  test: shown \"quoted\"\n");
    ASSERT(strstr(out, "hidden") == NULL);
    ASSERT(out[4] == '-' && out[10] == 'T');
}

TEST(log, json_lines_escape_the_message)
{
    char out[512];

    capture(out, sizeof out, 1);
    ASSERT_STR_CONTAINS(out, "\"level\":\"info\",\"component\":\"test\","
                             "\"msg\":\"shown \\\"quoted\\\"\"}\n");
}

TEST(log, level_names_parse)
{
    enum log_level l;

    ASSERT_EQ(log_level_parse("WARN", &l), 0);
    ASSERT_EQ(l, LOG_LEVEL_WARN);
    ASSERT_EQ(log_level_parse("loud", &l), -EINVAL);
}

UNIT_MAIN()
