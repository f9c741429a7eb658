/* What the benchmark programs share: time, latency samples and their
 * percentiles, facts about the machine, free loopback ports, the RSS of a
 * process, option parsing, and messages. Nothing here asserts a target. */
#ifndef C8S_BENCH_COMMON_H
#define C8S_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The program's name in messages ("api-bench"); set by main(). */
extern const char *bench_prog;

/* Monotonic time in nanoseconds, and nanoseconds as milliseconds. */
uint64_t bench_now_ns(void);
double bench_ms(uint64_t ns);

/* Print "PROG: message" to stderr and exit(1) (atexit handlers run). */
__attribute__((format(printf, 1, 2), noreturn)) void bench_die(const char *fmt,
                                                               ...);
/* Print "# message" to stderr: progress, never figures. */
__attribute__((format(printf, 1, 2))) void bench_note(const char *fmt, ...);

/* A growing set of durations in nanoseconds. */
struct samples {
    uint64_t *v;
    size_t n, cap;
};

void samples_add(struct samples *s, uint64_t x);
void samples_sort(struct samples *s);
/* Nearest-rank percentile of sorted samples, in ms (NaN if none). */
double samples_pct_ms(const struct samples *s, double q);
void samples_reset(struct samples *s);
void samples_free(struct samples *s);

/* "%.3f" of @v, or "-" for NaN. */
const char *bench_fmt_ms(double v, char buf[16]);
/* qsort() comparator of doubles. */
int bench_cmp_double(const void *a, const void *b);
/* Median of @n doubles (sorts them); NaN if none. */
double bench_median(double *v, size_t n);

/* "2 CPUs (model), 23.4 GiB RAM, Linux 6.1.0" */
void bench_machine_line(char *buf, size_t size);
/* "ext4 on /dev/sda1": the file system under @dir. */
void bench_fs_line(const char *dir, char *buf, size_t size);

/* A TCP port on 127.0.0.1 that was free a moment ago, or -1. */
int bench_free_port(void);
/* Resident set size of @pid in MiB, or -1. */
double bench_rss_mib(pid_t pid);

/* Start @argv (argv[0] is the program's path) with stdout and stderr
 * appended to @log, in its own process group (a terminal's ^C reaches the
 * benchmark, which cleans up, not the child) and killed if the benchmark
 * dies. Exits with a message if it cannot fork. */
pid_t bench_spawn(const char *const argv[], const char *log);
/* Async-signal-safe: SIGKILL *@pid if it is running, reap it, set it 0. */
void bench_kill(volatile pid_t *pid);
/* Async-signal-safe: remove the tree @dir (rm -rf) and set dir[0] to NUL;
 * nothing when @dir is "". */
void bench_rm_tree(char *dir);

/* Call @cleanup (async-signal-safe: bench_kill, bench_rm_tree) when the
 * program exits, and on SIGINT, SIGTERM, SIGHUP and SIGALRM (with a
 * message, then exit status 128 + the signal); ignore SIGPIPE. */
void bench_on_exit(void (*cleanup)(void));

/* @s as an unsigned number <= @max, or exit(2) with a message naming
 * @flag. */
unsigned long bench_parse_uint(const char *flag,
                               const char *s,
                               unsigned long max);

#endif /* C8S_BENCH_COMMON_H */
