/* Start c8s processes for integration tests. */
#include "tests/lib/proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/unit.h"

#define LOG_TAIL_BYTES 8192

static struct tproc procs[TPROC_MAX];
static size_t n_procs;
static int ports_given[256];
static size_t n_ports;
static bool cleanup_registered;

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static bool port_given(int port)
{
    for (size_t i = 0; i < n_ports; i++)
        if (ports_given[i] == port)
            return true;
    return false;
}

/* Ports come from below the kernel's ephemeral range (32768 and up), so an
 * outgoing connection can never be given a port a test chose for a server
 * in the meantime, and each chosen port is reserved with a lock file, so
 * test programs running in parallel never pick the same one. */
#define PORT_LOW 10000
#define PORT_SPAN 16000
#define PORT_LOCK_DIR "/tmp/c8s-test-ports"

static char port_locks[256][64];

static bool can_bind(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    bool ok;

    if (fd < 0)
        return false;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* Take the lock file of @port; a lock whose owner is gone is taken over. */
static bool lock_port(int port, char *path, size_t size)
{
    char owner[32];
    int fd;

    (void)mkdir(PORT_LOCK_DIR, 01777);
    (void)snprintf(path, size, PORT_LOCK_DIR "/%d", port);
    for (int attempt = 0; attempt < 2; attempt++) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            int n = snprintf(owner, sizeof owner, "%d\n", (int)getpid());
            (void)!write(fd, owner, (size_t)n);
            close(fd);
            return true;
        }
        FILE *f = fopen(path, "r");
        int pid = 0;
        if (f != NULL) {
            if (fscanf(f, "%d", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        if (pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH))
            return false; /* held by a live test program */
        (void)unlink(path);
    }
    return false;
}

static void unlock_ports(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < n_ports; i++)
        (void)unlink(port_locks[i]);
}

static bool unlock_registered;

int tproc_free_port(void)
{
    unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)now_ms();

    for (int attempt = 0; attempt < 1000 && n_ports < 256; attempt++) {
        int port = PORT_LOW + (int)(rand_r(&seed) % PORT_SPAN);
        if (port_given(port) || !can_bind(port) ||
            !lock_port(port, port_locks[n_ports], sizeof port_locks[0]))
            continue;
        if (!unlock_registered) {
            unit_defer(unlock_ports, NULL);
            unlock_registered = true;
        }
        ports_given[n_ports++] = port;
        return port;
    }
    unit_fail(__FILE__, __LINE__, "no free loopback port");
}

const char *tproc_built(const char *relpath)
{
    static char path[1024];
    const char *top = getenv("top_builddir");

    (void)snprintf(path, sizeof path, "%s/%s", top != NULL ? top : ".",
                   relpath);
    return path;
}

static void print_log_tail(const struct tproc *p)
{
    char buf[LOG_TAIL_BYTES + 1];
    int fd = open(p->log_path, O_RDONLY);
    off_t size;
    ssize_t n;

    if (fd < 0)
        return;
    size = lseek(fd, 0, SEEK_END);
    (void)lseek(fd, size > LOG_TAIL_BYTES ? size - LOG_TAIL_BYTES : 0,
                SEEK_SET);
    n = read(fd, buf, LOG_TAIL_BYTES);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    fprintf(stderr, "# ---- log of %s (%s), last %d bytes ----\n%s\n"
                    "# ---- end of log of %s ----\n",
            p->name, p->log_path, LOG_TAIL_BYTES, buf, p->name);
}

/* Runs when the test ends: kill everything, show logs if it failed. */
static void cleanup_all(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < n_procs; i++) {
        struct tproc *p = &procs[i];
        if (p->pid > 0) {
            (void)kill(p->pid, SIGKILL);
            (void)waitpid(p->pid, &p->status, 0);
            p->pid = 0;
        }
        if (unit_current_failed())
            print_log_tail(p);
        for (char **a = p->argv; *a != NULL; a++)
            free(*a);
    }
    n_procs = 0;
}

static void spawn(struct tproc *p, int flags)
{
    int fd = open(p->log_path, O_WRONLY | O_CREAT | flags, 0644);
    pid_t pid;

    if (fd < 0)
        unit_fail(__FILE__, __LINE__, "open %s: %s", p->log_path,
                  strerror(errno));
    pid = fork();
    if (pid < 0)
        unit_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0) {
        (void)dup2(fd, STDOUT_FILENO);
        (void)dup2(fd, STDERR_FILENO);
        (void)close(STDIN_FILENO);
        (void)open("/dev/null", O_RDONLY);
        execv(p->argv[0], p->argv);
        fprintf(stderr, "exec %s: %s\n", p->argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    p->pid = pid;
}

struct tproc *tproc_start(const char *name, const char *const argv[])
{
    struct tproc *p;
    size_t argc = 0;

    if (n_procs == TPROC_MAX)
        unit_fail(__FILE__, __LINE__, "more than %d processes", TPROC_MAX);
    if (!cleanup_registered) {
        unit_defer(cleanup_all, NULL);
        cleanup_registered = true;
    }
    p = &procs[n_procs++];
    memset(p, 0, sizeof *p);
    (void)snprintf(p->name, sizeof p->name, "%s", name);
    (void)snprintf(p->log_path, sizeof p->log_path, "%s/%s.log",
                   unit_tmpdir(), name);
    for (; argv[argc] != NULL && argc < 63; argc++)
        p->argv[argc] = strdup(argv[argc]);
    p->argv[argc] = NULL;
    spawn(p, O_TRUNC);
    return p;
}

void tproc_restart(struct tproc *p)
{
    if (p->pid > 0)
        unit_fail(__FILE__, __LINE__, "%s is still running", p->name);
    spawn(p, O_APPEND);
}

bool tproc_exited(struct tproc *p)
{
    if (p->pid <= 0)
        return true;
    if (waitpid(p->pid, &p->status, WNOHANG) == p->pid) {
        p->pid = 0;
        return true;
    }
    return false;
}

static bool can_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;

    if (fd < 0)
        return false;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

int tproc_wait_port(struct tproc *p, int port, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    while (now_ms() < deadline) {
        if (can_connect(port))
            return 0;
        if (tproc_exited(p))
            return -1;
        usleep(10000);
    }
    return -1;
}

char *tproc_log(const struct tproc *p)
{
    FILE *f = fopen(p->log_path, "r");
    char *buf = NULL;
    size_t len = 0;

    if (f == NULL)
        return strdup("");
    FILE *out = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, out);
    fclose(out);
    fclose(f);
    return buf;
}

int tproc_wait_log(struct tproc *p, const char *needle, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    while (now_ms() < deadline) {
        char *log = tproc_log(p);
        bool found = strstr(log, needle) != NULL;
        free(log);
        if (found)
            return 0;
        if (tproc_exited(p))
            return -1;
        usleep(10000);
    }
    return -1;
}

void tproc_signal(struct tproc *p, int sig)
{
    if (p->pid > 0)
        (void)kill(p->pid, sig);
}

int tproc_stop(struct tproc *p, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    if (p->pid <= 0)
        return p->status;
    (void)kill(p->pid, SIGTERM);
    while (now_ms() < deadline) {
        if (tproc_exited(p))
            return p->status;
        usleep(5000);
    }
    (void)kill(p->pid, SIGKILL);
    (void)waitpid(p->pid, &p->status, 0);
    p->pid = 0;
    return p->status;
}
