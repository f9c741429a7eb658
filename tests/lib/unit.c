/* The test runner behind tests/lib/unit.h: fork per test, TAP output. */
#include "tests/lib/unit.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UNIT_MAX_TESTS 1024
#define UNIT_MAX_DEFERS 32
#define UNIT_DEFAULT_TIMEOUT_S 60
#define UNIT_EXIT_FAIL 1
#define UNIT_EXIT_SKIP 77

struct unit_test {
    const char *suite;  /* Group name, the first TEST() argument. */
    const char *name;   /* Test name, the second TEST() argument. */
    unit_fn fn;         /* The test body. */
    int timeout_s;      /* Limit for this test; 0 means the default. */
};

struct unit_defer {
    void (*fn)(void *); /* Cleanup function. */
    void *arg;          /* Its argument. */
    pid_t pid;          /* Process that registered it: only it runs it. */
};

static struct unit_test tests[UNIT_MAX_TESTS];
static size_t n_tests;

/* State of the test running in this (child) process. */
static struct unit_defer defers[UNIT_MAX_DEFERS];
static size_t n_defers;
static char tmpdir[256];
static bool current_failed;

bool unit_current_failed(void)
{
    return current_failed;
}

void unit_register(const char *suite, const char *name, unit_fn fn,
                   int timeout_s)
{
    if (n_tests == UNIT_MAX_TESTS) {
        fprintf(stderr, "unit: too many tests (max %d)\n", UNIT_MAX_TESTS);
        abort();
    }
    tests[n_tests++] = (struct unit_test){suite, name, fn, timeout_s};
}

void unit_defer(void (*fn)(void *), void *arg)
{
    if (n_defers == UNIT_MAX_DEFERS)
        unit_fail(__FILE__, __LINE__, "too many unit_defer() calls");
    defers[n_defers++] = (struct unit_defer){fn, arg, getpid()};
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tmpdir(void *arg)
{
    (void)arg;
    (void)nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
}

/* The runner makes each test's directory before forking it and removes
 * it after the test ended, however it ended (a test killed at its time
 * limit runs no cleanups of its own). */
static int make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");

    (void)snprintf(tmpdir, sizeof tmpdir, "%s/c8s-test-XXXXXX",
                   base != NULL ? base : "/tmp");
    if (mkdtemp(tmpdir) != NULL)
        return 0;
    tmpdir[0] = '\0';
    return -errno;
}

const char *unit_tmpdir(void)
{
    if (tmpdir[0] != '\0')
        return tmpdir;
    if (make_tmpdir() != 0) /* not made by the runner: make it here */
        unit_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    unit_defer(remove_tmpdir, NULL);
    return tmpdir;
}

/* Run deferred cleanups, newest first, in the process that registered them
 * (a test that forks must not have its children remove its files). Also
 * registered with atexit(), so a test that calls exit() cleans up too. */
static void run_defers(void)
{
    pid_t self = getpid();

    while (n_defers > 0) {
        struct unit_defer d = defers[--n_defers];
        if (d.pid == self)
            d.fn(d.arg);
    }
}

/* Leave the test with @code. exit() (not _exit) so that LeakSanitizer checks
 * the test's process and run_defers() runs. */
__attribute__((noreturn)) static void finish(int code)
{
    fflush(NULL);
    exit(code);
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    current_failed = true;
    fprintf(stderr, "# %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    finish(UNIT_EXIT_FAIL);
}

void unit_skip(const char *fmt, ...)
{
    va_list ap;
    FILE *f = fopen("/dev/fd/3", "w");

    /* The reason goes to fd 3, a pipe the runner reads for the TAP line. */
    if (f != NULL) {
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fclose(f);
    }
    finish(UNIT_EXIT_SKIP);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int default_timeout(void)
{
    const char *env = getenv("C8S_TEST_TIMEOUT");
    int v = env != NULL ? atoi(env) : 0;

    return v > 0 ? v : UNIT_DEFAULT_TIMEOUT_S;
}

static void run_child(const struct unit_test *t, int skip_fd)
{
    (void)setpgid(0, 0);
    if (dup2(skip_fd, 3) < 0 || atexit(run_defers) != 0)
        _exit(UNIT_EXIT_FAIL);
    t->fn();
    finish(0);
}

/* Wait for @pid up to @timeout_s. Returns its wait status, or -1 after
 * killing it on timeout. The whole process group is killed either way so
 * nothing the test started outlives it. */
static int wait_child(pid_t pid, int timeout_s)
{
    double deadline = now_s() + timeout_s;
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_s() > deadline) {
            (void)kill(-pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            return -1;
        }
        usleep(2000);
    }
    (void)kill(-pid, SIGKILL);
    return status;
}

static void read_reason(int fd, char *buf, size_t size)
{
    ssize_t n = read(fd, buf, size - 1);

    buf[n > 0 ? n : 0] = '\0';
    for (char *p = buf; *p != '\0'; p++)
        if (*p == '\n')
            *p = ' ';
}

/* Run one test; print its TAP line. Returns 1 if it failed. */
static int run_one(size_t index, const struct unit_test *t)
{
    int timeout_s = t->timeout_s > 0 ? t->timeout_s : default_timeout();
    char reason[256];
    int fds[2];
    pid_t pid;
    int status;
    double start = now_s();

    fflush(NULL);
    (void)make_tmpdir(); /* failing, the test makes its own when it asks */
    if (pipe(fds) != 0 || (pid = fork()) < 0) {
        printf("not ok %zu - %s/%s # cannot fork: %s\n", index, t->suite,
               t->name, strerror(errno));
        remove_tmpdir(NULL);
        return 1;
    }
    if (pid == 0) {
        close(fds[0]);
        run_child(t, fds[1]);
    }
    close(fds[1]);
    status = wait_child(pid, timeout_s);
    if (tmpdir[0] != '\0')
        remove_tmpdir(NULL);
    read_reason(fds[0], reason, sizeof reason);
    close(fds[0]);
    if (status == -1) {
        printf("not ok %zu - %s/%s # timed out after %d s\n", index, t->suite,
               t->name, timeout_s);
        return 1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == UNIT_EXIT_SKIP) {
        printf("ok %zu - %s/%s # SKIP %s\n", index, t->suite, t->name, reason);
        return 0;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok %zu - %s/%s (%.2fs)\n", index, t->suite, t->name,
               now_s() - start);
        return 0;
    }
    if (WIFSIGNALED(status))
        printf("not ok %zu - %s/%s # killed by signal %d\n", index, t->suite,
               t->name, WTERMSIG(status));
    else
        printf("not ok %zu - %s/%s # exit status %d\n", index, t->suite,
               t->name, WEXITSTATUS(status));
    return 1;
}

static int selected(const struct unit_test *t, const char *filter)
{
    char full[256];

    if (filter == NULL || *filter == '\0')
        return 1;
    (void)snprintf(full, sizeof full, "%s/%s", t->suite, t->name);
    return strstr(full, filter) != NULL;
}

int unit_main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : getenv("C8S_TEST_FILTER");
    size_t n_run = 0, index = 0;
    int failed = 0;

    for (size_t i = 0; i < n_tests; i++)
        n_run += (size_t)selected(&tests[i], filter);
    printf("1..%zu\n", n_run);
    for (size_t i = 0; i < n_tests; i++)
        if (selected(&tests[i], filter))
            failed += run_one(++index, &tests[i]);
    return failed > 0 ? 1 : 0;
}
