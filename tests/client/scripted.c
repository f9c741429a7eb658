/* A scripted HTTP server for libc8s's tests (see scripted.h). */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/client/scripted.h"
#include "tests/lib/unit.h"

static void answer(int c, const char *status, const char *extra)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\n%s"
                     "Content-Length: 11\r\n\r\n{\"ok\":true}",
                     status, extra);

    (void)send(c, buf, (size_t)n, MSG_NOSIGNAL);
}

/* Read one request's head and body (Content-Length); false at EOF. */
static bool read_request(int c)
{
    char buf[8192];
    size_t len = 0;

    for (;;) {
        ssize_t n = recv(c, buf + len, sizeof buf - 1 - len, 0);
        char *end, *cl;

        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) == NULL)
            continue;
        cl = strcasestr(buf, "Content-Length:");
        size_t body = cl != NULL ? strtoul(cl + 15, NULL, 10) : 0;
        if (len >= (size_t)(end + 4 - buf) + body)
            return true;
    }
}

/* Answer requests on @c as the script says, until EOF, DROP or SILENT. */
static void serve_conn(struct scripted *s, int c)
{
    while (read_request(c)) {
        int i = atomic_fetch_add(&s->requests, 1);
        enum act a = s->script[(size_t)i < s->n_script ? (size_t)i
                                                       : s->n_script - 1];

        if (a == DROP)
            break;
        if (a == SILENT)
            return; /* open until scripted_stop */
        if (a == OK)
            answer(c, "200 OK", "");
        else if (a == TOO_MANY)
            answer(c, "429 Too Many Requests", "Retry-After: 1\r\n");
        else if (a == REFUSED)
            answer(c, "503 Service Unavailable", "Retry-After: 1\r\n");
        else
            answer(c, "503 Service Unavailable", "");
    }
    /* The client sees the end; the descriptor is closed by scripted_stop
     * (closing it here could race with its shutdown there). */
    shutdown(c, SHUT_RDWR);
}

struct conn_arg {
    struct scripted *s;
    int fd;
};

static void *conn_main(void *arg)
{
    struct conn_arg ca = *(struct conn_arg *)arg;

    free(arg);
    serve_conn(ca.s, ca.fd);
    return NULL;
}

static void *serve(void *arg)
{
    struct scripted *s = arg;

    while (!atomic_load(&s->stop)) {
        int c = accept(s->fd, NULL, NULL);
        struct conn_arg *ca;

        if (c < 0)
            continue;
        atomic_fetch_add(&s->accepted, 1);
        pthread_mutex_lock(&s->mu);
        ca = malloc(sizeof *ca);
        if (ca == NULL || s->n_conns == sizeof s->conns / sizeof s->conns[0]) {
            free(ca);
            close(c);
        } else {
            *ca = (struct conn_arg){s, c};
            s->conns[s->n_conns] = c;
            if (pthread_create(&s->threads[s->n_conns], NULL, conn_main, ca) ==
                0)
                s->n_conns++;
            else
                free(ca), close(c);
        }
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

struct scripted *scripted_start_on(int port, const enum act *script,
                                   size_t n)
{
    struct scripted *s = calloc(1, sizeof *s);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int one = 1;

    ASSERT(s != NULL);
    pthread_mutex_init(&s->mu, NULL);
    ASSERT(n > 0 && n <= sizeof s->script / sizeof s->script[0]);
    memcpy(s->script, script, n * sizeof *script);
    s->n_script = n;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(s->fd >= 0);
    (void)setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ASSERT(bind(s->fd, (struct sockaddr *)&a, sizeof a) == 0);
    ASSERT(listen(s->fd, 128) == 0);
    ASSERT(getsockname(s->fd, (struct sockaddr *)&a, &len) == 0);
    s->port = ntohs(a.sin_port);
    ASSERT(pthread_create(&s->t, NULL, serve, s) == 0);
    return s;
}

struct scripted *scripted_start(const enum act *script, size_t n)
{
    return scripted_start_on(0, script, n);
}

void scripted_stop(struct scripted *s)
{
    atomic_store(&s->stop, 1);
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->t, NULL);
    for (size_t i = 0; i < s->n_conns; i++) /* wakes threads in recv() */
        shutdown(s->conns[i], SHUT_RDWR);
    for (size_t i = 0; i < s->n_conns; i++) {
        pthread_join(s->threads[i], NULL);
        close(s->conns[i]);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void scripted_kubeconfig(const struct scripted *s, char *path, size_t size)
{
    FILE *f;

    snprintf(path, size, "%s/scripted-%d.yaml", unit_tmpdir(), s->port);
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fprintf(f, "current-context: c\nclusters:\n- name: k\n  cluster: "
            "{server: 'http://127.0.0.1:%d'}\ncontexts:\n- name: c\n  "
            "context: {cluster: k}\n", s->port);
    fclose(f);
}
