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

/* Answer requests on @c as the script says; false when it keeps @c. */
static bool serve_conn(struct scripted *s, int c)
{
    while (read_request(c)) {
        int i = atomic_fetch_add(&s->requests, 1);
        enum act a = s->script[(size_t)i < s->n_script ? (size_t)i
                                                       : s->n_script - 1];

        if (a == DROP)
            break;
        if (a == SILENT && s->n_held < sizeof s->held / sizeof s->held[0]) {
            s->held[s->n_held++] = c;
            return false;
        }
        if (a == OK)
            answer(c, "200 OK", "");
        else if (a == TOO_MANY)
            answer(c, "429 Too Many Requests", "Retry-After: 1\r\n");
        else
            answer(c, "503 Service Unavailable", "");
    }
    return true;
}

static void *serve(void *arg)
{
    struct scripted *s = arg;

    while (!atomic_load(&s->stop)) {
        int c = accept(s->fd, NULL, NULL);

        if (c < 0)
            continue;
        if (serve_conn(s, c))
            close(c);
    }
    return NULL;
}

struct scripted *scripted_start(const enum act *script, size_t n)
{
    static struct scripted s;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int one = 1;

    ASSERT(n > 0 && n <= sizeof s.script / sizeof s.script[0]);
    memset(&s, 0, sizeof s);
    memcpy(s.script, script, n * sizeof *script);
    s.n_script = n;
    s.fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(s.fd >= 0);
    (void)setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ASSERT(bind(s.fd, (struct sockaddr *)&a, sizeof a) == 0);
    ASSERT(listen(s.fd, 128) == 0);
    ASSERT(getsockname(s.fd, (struct sockaddr *)&a, &len) == 0);
    s.port = ntohs(a.sin_port);
    ASSERT(pthread_create(&s.t, NULL, serve, &s) == 0);
    return &s;
}

void scripted_stop(struct scripted *s)
{
    atomic_store(&s->stop, 1);
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->t, NULL);
    for (size_t i = 0; i < s->n_held; i++)
        close(s->held[i]);
}

void scripted_kubeconfig(const struct scripted *s, char *path, size_t size)
{
    FILE *f;

    snprintf(path, size, "%s/scripted.yaml", unit_tmpdir());
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fprintf(f, "current-context: c\nclusters:\n- name: k\n  cluster: "
            "{server: 'http://127.0.0.1:%d'}\ncontexts:\n- name: c\n  "
            "context: {cluster: k}\n", s->port);
    fclose(f);
}
