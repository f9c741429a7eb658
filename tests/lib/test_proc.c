/* Tests of the integration-test process helper (tests/lib/proc). */
#include <signal.h>
#include <sys/wait.h>

#include "tests/lib/proc.h"
#include "tests/lib/unit.h"

static struct tproc *start_fake(int port, int delay_ms, const char *extra)
{
    char port_s[16], delay_s[16];
    const char *argv[] = {tproc_built("tests/lib/fake_daemon"), port_s,
                          delay_s, extra, NULL};

    snprintf(port_s, sizeof port_s, "%d", port);
    snprintf(delay_s, sizeof delay_s, "%d", delay_ms);
    return tproc_start("fake", argv);
}

TEST(proc, free_ports_are_distinct)
{
    int a = tproc_free_port(), b = tproc_free_port();

    ASSERT(a > 0 && b > 0);
    ASSERT_NE(a, b);
}

TEST(proc, waits_for_port_and_stops_cleanly)
{
    int port = tproc_free_port();
    struct tproc *p = start_fake(port, 200, NULL);
    int status;

    ASSERT_EQ(tproc_wait_port(p, port, 5000), 0);
    ASSERT_EQ(tproc_wait_log(p, "ready", 5000), 0);
    status = tproc_stop(p, 5000);
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    char *log = tproc_log(p);
    ASSERT_STR_CONTAINS(log, "stopping");
    free(log);
}

TEST(proc, reports_a_process_that_dies_before_ready)
{
    int port = tproc_free_port();
    struct tproc *p = start_fake(port, 0, "crash");

    ASSERT_EQ(tproc_wait_port(p, port, 5000), -1);
    ASSERT(tproc_exited(p));
    ASSERT(WIFEXITED(p->status));
    ASSERT_EQ(WEXITSTATUS(p->status), 3);
}

TEST(proc, wait_times_out)
{
    int port = tproc_free_port();
    struct tproc *p = start_fake(port, 60000, NULL);

    ASSERT_EQ(tproc_wait_port(p, port, 300), -1);
    ASSERT(!tproc_exited(p));
}

TEST(proc, kill_and_restart)
{
    int port = tproc_free_port();
    struct tproc *p = start_fake(port, 0, NULL);

    ASSERT_EQ(tproc_wait_port(p, port, 5000), 0);
    tproc_signal(p, SIGKILL);
    ASSERT_EQ(tproc_stop(p, 5000) & 0x7f, SIGKILL);
    tproc_restart(p);
    ASSERT_EQ(tproc_wait_port(p, port, 5000), 0);
}

/* The helper's promise: nothing outlives the test. A child test process
 * starts a daemon and returns without stopping it; afterwards the daemon's
 * port must be closed. */
TEST(proc, cleanup_kills_leftover_processes)
{
    int port = tproc_free_port();
    pid_t child = fork();
    int status;

    ASSERT(child >= 0);
    if (child == 0) {
        struct tproc *p = start_fake(port, 0, NULL);
        if (tproc_wait_port(p, port, 5000) != 0)
            exit(1);
        exit(0); /* runs the deferred cleanup via the runner's finish() */
    }
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The grandchild is killed by the cleanup; its port must refuse. */
    struct tproc probe = {.pid = 0};
    ASSERT_EQ(tproc_wait_port(&probe, port, 200), -1);
}

UNIT_MAIN()
