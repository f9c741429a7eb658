/* Helpers shared by the benchmark programs (see common.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/common.h"

const char *bench_prog = "bench";

uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

void bench_die(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "%s: ", bench_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}

void bench_note(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "# ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}

void samples_add(struct samples *s, uint64_t x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 65536;
        uint64_t *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL)
            bench_die("out of memory");
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

void samples_sort(struct samples *s)
{
    if (s->n > 0)
        qsort(s->v, s->n, sizeof *s->v, cmp_u64);
}

double samples_pct_ms(const struct samples *s, double q)
{
    size_t idx;

    if (s->n == 0)
        return 0.0 / 0.0;
    idx = (size_t)(q * (double)s->n + 0.999999);
    idx = idx == 0 ? 0 : idx - 1;
    if (idx >= s->n)
        idx = s->n - 1;
    return bench_ms(s->v[idx]);
}

void samples_reset(struct samples *s)
{
    s->n = 0;
}

void samples_free(struct samples *s)
{
    free(s->v);
    *s = (struct samples){0};
}

const char *bench_fmt_ms(double v, char buf[16])
{
    if (v != v)
        snprintf(buf, 16, "-");
    else
        snprintf(buf, 16, "%.3f", v);
    return buf;
}

int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0.0 / 0.0;
    qsort(v, n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_machine_line(char *buf, size_t size)
{
    struct utsname u;
    char line[256], model[128] = "?";
    double mem_gib = 0;
    FILE *f = fopen("/proc/meminfo", "r");

    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL)
            if (strncmp(line, "MemTotal:", 9) == 0)
                mem_gib = strtod(line + 9, NULL) / 1024.0 / 1024.0;
        fclose(f);
    }
    f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL)
            if (strncmp(line, "model name", 10) == 0) {
                char *p = strchr(line, ':');
                if (p != NULL) {
                    snprintf(model, sizeof model, "%s", p + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        fclose(f);
    }
    uname(&u);
    snprintf(buf, size, "%ld CPUs (%s), %.1f GiB RAM, %s %s",
             sysconf(_SC_NPROCESSORS_ONLN), model, mem_gib, u.sysname,
             u.release);
}

void bench_fs_line(const char *dir, char *buf, size_t size)
{
    char cmd[PATH_MAX + 64];
    FILE *p;

    snprintf(buf, size, "?");
    snprintf(cmd, sizeof cmd, "df -PT '%s' 2>/dev/null | tail -1", dir);
    p = popen(cmd, "r");
    if (p == NULL)
        return;
    char line[512], dev[256], type[64];
    if (fgets(line, sizeof line, p) != NULL &&
        sscanf(line, "%255s %63s", dev, type) == 2)
        snprintf(buf, size, "%s on %s", type, dev);
    pclose(p);
}

int bench_free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    if (fd < 0)
        return -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

double bench_rss_mib(pid_t pid)
{
    char path[64], line[256];
    FILE *f;
    double v = -1;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0) {
            v = strtod(line + 6, NULL) / 1024.0;
            break;
        }
    fclose(f);
    return v;
}

pid_t bench_spawn(const char *const argv[], const char *log)
{
    pid_t pid = fork();

    if (pid < 0)
        bench_die("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        (void)setpgid(0, 0);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

void bench_kill(volatile pid_t *pid)
{
    pid_t p = *pid;

    if (p <= 0)
        return;
    kill(p, SIGKILL);
    (void)waitpid(p, NULL, 0);
    *pid = 0;
}

void bench_rm_tree(char *dir)
{
    static char rm[] = "rm", rf[] = "-rf", dd[] = "--";
    pid_t pid;

    if (dir[0] == '\0')
        return;
    pid = fork();
    if (pid == 0) {
        char *argv[] = {rm, rf, dd, dir, NULL};
        execv("/bin/rm", argv);
        _exit(127);
    }
    if (pid > 0)
        (void)waitpid(pid, NULL, 0);
    dir[0] = '\0';
}

unsigned long bench_parse_uint(const char *flag,
                               const char *s,
                               unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max) {
        fprintf(stderr, "%s: %s needs a number <= %lu, not '%s'\n", bench_prog,
                flag, max, s);
        exit(2);
    }
    return v;
}

/* ---- cleaning up -----------------------------------------------------------*/

static void (*cleanup_fn)(void);

static void run_cleanup(void)
{
    cleanup_fn();
}

static void on_fatal_signal(int sig)
{
    static const char msg[] = ": stopped, cleaning up\n";

    (void)!write(2, bench_prog, strlen(bench_prog));
    (void)!write(2, msg, sizeof msg - 1);
    cleanup_fn();
    _exit(128 + sig);
}

void bench_on_exit(void (*cleanup)(void))
{
    struct sigaction sa = {.sa_handler = on_fatal_signal};

    cleanup_fn = cleanup;
    atexit(run_cleanup);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
