/* Framing of raft entries: round trip, and every damaged frame refused. */
#include <string.h>

#include "lib/err.h"
#include "raft/entry.h"
#include "tests/lib/unit.h"

static void frame(const char *batch, char *out, struct raft_buffer *buf)
{
    size_t len = strlen(batch);

    buf->len = repl_entry_size(len);
    buf->base = out;
    repl_entry_encode(out, batch, len);
}

TEST(entry, round_trip_pads_to_eight_bytes)
{
    char out[64];
    struct raft_buffer buf;
    const void *batch;
    size_t len;

    for (size_t n = 0; n < 20; n++) {
        char text[21] = "abcdefghijklmnopqrst";
        text[n] = '\0';
        frame(text, out, &buf);
        ASSERT_EQ(buf.len % 8, 0);
        ASSERT(buf.len >= REPL_ENTRY_HEADER + n);
        ASSERT_EQ(repl_entry_decode(&buf, &batch, &len), 0);
        ASSERT_UEQ(len, n);
        ASSERT_MEM_EQ(batch, text, n);
        for (size_t i = REPL_ENTRY_HEADER + n; i < buf.len; i++)
            ASSERT_EQ(out[i], 0);
    }
}

TEST(entry, damaged_frames_are_refused)
{
    char out[64];
    struct raft_buffer buf;
    const void *batch;
    size_t len;

    frame("0123456789", out, &buf);
    for (size_t cut = 0; cut < buf.len; cut++) {
        struct raft_buffer short_buf = {out, cut};
        ASSERT_EQ(repl_entry_decode(&short_buf, &batch, &len),
                  -C8S_EMALFORMED);
    }
    out[0] ^= 1; /* magic */
    ASSERT_EQ(repl_entry_decode(&buf, &batch, &len), -C8S_EMALFORMED);
    out[0] ^= 1;
    out[4] = 100; /* a length the buffer does not hold */
    ASSERT_EQ(repl_entry_decode(&buf, &batch, &len), -C8S_EMALFORMED);
    out[4] = 10;
    ASSERT_EQ(repl_entry_decode(&buf, &batch, &len), 0);
}

UNIT_MAIN()
