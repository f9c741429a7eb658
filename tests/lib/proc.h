/* Start c8s processes for integration tests: free loopback ports, readiness,
 * logs shown on failure, and cleanup that always happens.
 *
 * Every process started here is registered with the test; when the test ends
 * (pass or fail) each still-running one is killed, and when the test failed
 * the tail of every log is copied to stderr (the test's log). Processes also
 * stay in the test's process group, which the runner kills after the test,
 * so even a crashed test leaves nothing behind. */
#ifndef C8S_TESTS_PROC_H
#define C8S_TESTS_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#define TPROC_MAX 256

struct tproc {
    char name[64];          /* Label used in messages, e.g. "master-1". */
    char log_path[512];     /* stdout and stderr of the process. */
    char *argv[64];         /* Copy of the command line, NULL-terminated. */
    pid_t pid;              /* 0 when not running. */
    int status;             /* Wait status once reaped. */
};

/* A TCP port on 127.0.0.1 that was free a moment ago, below the kernel's
 * ephemeral range and reserved with a lock file under /tmp/c8s-test-ports
 * until the test ends, so neither an outgoing connection nor a test program
 * running in parallel can take it. */
int tproc_free_port(void);

/* Path of a program built in the tree, e.g. tproc_built("tests/lib/fake_daemon")
 * → "$top_builddir/tests/lib/fake_daemon". Returns a static buffer. */
const char *tproc_built(const char *relpath);

/* Start @argv (argv[0] is a path) with output going to a log file in the
 * test's temporary directory. Fails the test if it cannot start. */
struct tproc *tproc_start(const char *name, const char *const argv[]);

/* Wait until a TCP connect to 127.0.0.1:@port succeeds. Returns 0, or -1 if
 * the process exited or @timeout_ms passed. */
int tproc_wait_port(struct tproc *p, int port, int timeout_ms);

/* Wait until @needle appears in the process's log. Returns 0 or -1. */
int tproc_wait_log(struct tproc *p, const char *needle, int timeout_ms);

/* Has the process exited? Reaps it if so. */
bool tproc_exited(struct tproc *p);

/* Send @sig (e.g. SIGKILL, SIGSTOP). */
void tproc_signal(struct tproc *p, int sig);

/* SIGTERM, wait up to @timeout_ms, then SIGKILL. Returns the wait status. */
int tproc_stop(struct tproc *p, int timeout_ms);

/* Restart a stopped process with the same command line and log file (the
 * log is appended to). */
void tproc_restart(struct tproc *p);

/* Read the whole log into a malloc'ed string (caller frees). */
char *tproc_log(const struct tproc *p);

#endif /* C8S_TESTS_PROC_H */
