/* Deliberately broken tests, run by tests/scripts/test-runner.sh to prove the
 * runner reports each kind of failure. Not part of TESTS on its own. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/lib/unit.h"

TEST(self, passes) { ASSERT_EQ(1 + 1, 2); }
TEST(self, assertion_fails) { ASSERT_EQ(1 + 1, 3); }
TEST(self, crashes) { raise(SIGSEGV); }
TEST(self, skips) { SKIP("needs something this machine lacks"); }
/* Also leaves its temp dir's path for the script, which checks that the
 * runner removed it although the test never got to clean up. */
TEST_T(self, hangs, 1)
{
    const char *fd = getenv("SELFTEST_MARK_FD");

    if (fd != NULL)
        dprintf(atoi(fd), "tmpdir=%s\n", unit_tmpdir());
    pause();
}

static void *volatile leaked;
TEST(self, leaks)
{
    leaked = malloc(64);
    memset(leaked, 1, 64);
    leaked = NULL; /* lost: LeakSanitizer must fail this test */
}

static void mark(void *arg) { (void)write(*(int *)arg, "cleaned", 7); }
static int mark_fd;
TEST(self, defers_run_after_failure)
{
    mark_fd = atoi(getenv("SELFTEST_MARK_FD") ? getenv("SELFTEST_MARK_FD") : "-1");
    unit_defer(mark, &mark_fd);
    ASSERT(0);
}

UNIT_MAIN()
