/* How much raft log a member keeps in memory before it snapshots. */
#include "raft/internal.h"
#include "tests/lib/unit.h"

#define MiB (1024.0 * 1024.0)

TEST(log_budget, is_log_memory_mb_until_half_the_snapshot_is_larger)
{
    ASSERT(repl__log_budget_bytes(64, 0) == 64 * MiB);
    ASSERT(repl__log_budget_bytes(64, 100 * (size_t)MiB) == 64 * MiB);
    ASSERT(repl__log_budget_bytes(64, 300 * (size_t)MiB) == 150 * MiB);
}

TEST(log_budget, stops_at_eight_times_log_memory_mb)
{
    ASSERT(repl__log_budget_bytes(64, 1024 * (size_t)MiB) == 512 * MiB);
    ASSERT(repl__log_budget_bytes(64, (size_t)40 << 30) == 512 * MiB);
    ASSERT(repl__log_budget_bytes(16, (size_t)40 << 30) == 128 * MiB);
}

TEST(log_budget, threshold_and_trailing_entries_hold_about_the_budget)
{
    /* 1 KiB entries: threshold + a quarter of it, payload and libraft's
     * bookkeeping, come to the budget. */
    unsigned n = repl__snapshot_threshold_for(64 * MiB, 1024, 1u << 20);
    double held = n * 1.25 * (1024 + 64);

    ASSERT(held <= 64 * MiB && held > 63.9 * MiB);
    /* Megabyte batches: a few dozen entries, never fewer than 64. */
    ASSERT_EQ(repl__snapshot_threshold_for(64 * MiB, 1 << 20, 1u << 20), 64);
}

TEST(log_budget, threshold_is_capped)
{
    /* Tiny entries would ask for hundreds of thousands of entries. */
    ASSERT_EQ(repl__snapshot_threshold_for(64 * MiB, 16, 65536), 65536);
    ASSERT_EQ(repl__snapshot_threshold_for(64 * MiB, 16, 32), 64);
}

UNIT_MAIN()

/* A member being promoted may need a whole snapshot first: libraft's 5 s
 * catch-up round aborted one that was loading 74 MB (a Jepsen run). */
TEST(catch_up_round, grows_with_the_snapshot_from_ten_seconds)
{
    ASSERT_EQ(repl__catch_up_round_ms(0), 10000);
    ASSERT_EQ(repl__catch_up_round_ms(4 * (size_t)MiB), 11000);
    ASSERT(repl__catch_up_round_ms(74 * (size_t)MiB) > 28000);
    ASSERT(repl__catch_up_round_ms(74 * (size_t)MiB) < 30000);
}

TEST(catch_up_round, stops_at_ten_minutes)
{
    ASSERT_EQ(repl__catch_up_round_ms((size_t)4 << 30), 10 * 60 * 1000);
    ASSERT_EQ(repl__catch_up_round_ms(SIZE_MAX), 10 * 60 * 1000);
}
