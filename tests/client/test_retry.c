/* Retries and their limits against a scripted HTTP server in a thread
 * (plain http:// on loopback): 429 with Retry-After, 503, connections
 * dropped before and after the request, and the rule that a write whose
 * answer was lost is never sent twice. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <c8s/c8s.h>

#include "tests/lib/unit.h"

/* What the server does with each request, in order; the last repeats. */
enum act {
    OK,          /* 200 with a small JSON body */
    TOO_MANY,    /* 429, Retry-After: 1 */
    UNAVAILABLE, /* 503 */
    DROP,        /* read the request, close without answering */
};

struct server {
    int fd, port;
    pthread_t t;
    enum act script[16];
    size_t n_script;
    atomic_int requests; /* requests read */
    atomic_int stop;
};

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

static void *serve(void *arg)
{
    struct server *s = arg;

    while (!atomic_load(&s->stop)) {
        int c = accept(s->fd, NULL, NULL);

        if (c < 0)
            continue;
        while (read_request(c)) {
            int i = atomic_fetch_add(&s->requests, 1);
            enum act a = s->script[(size_t)i < s->n_script ? (size_t)i
                                                           : s->n_script - 1];

            if (a == DROP)
                break;
            if (a == OK)
                answer(c, "200 OK", "");
            else if (a == TOO_MANY)
                answer(c, "429 Too Many Requests", "Retry-After: 1\r\n");
            else
                answer(c, "503 Service Unavailable", "");
        }
        close(c);
    }
    return NULL;
}

static struct server *start(const enum act *script, size_t n)
{
    static struct server s;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int one = 1;

    memset(&s, 0, sizeof s);
    memcpy(s.script, script, n * sizeof *script);
    s.n_script = n;
    s.fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(s.fd >= 0);
    (void)setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ASSERT(bind(s.fd, (struct sockaddr *)&a, sizeof a) == 0);
    ASSERT(listen(s.fd, 16) == 0);
    ASSERT(getsockname(s.fd, (struct sockaddr *)&a, &len) == 0);
    s.port = ntohs(a.sin_port);
    ASSERT(pthread_create(&s.t, NULL, serve, &s) == 0);
    return &s;
}

static void stop(struct server *s)
{
    atomic_store(&s->stop, 1);
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->t, NULL);
}

static struct c8s_client *client(const struct server *s, int attempts)
{
    char path[600], url[64];
    struct c8s_kubeconfig_opts ko = {.kubeconfig = path, .server = url};
    struct c8s_client_opts o = {.max_attempts = attempts,
                                .timeout_ms = 10000};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *c = NULL;
    FILE *f;

    snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
    snprintf(path, sizeof path, "%s/k.yaml", unit_tmpdir());
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs("current-context: c\nclusters:\n- name: k\n  cluster: {server: "
          "'http://unused:1'}\ncontexts:\n- name: c\n  context: {cluster: k}\n",
          f);
    fclose(f);
    ASSERT(c8s_kubeconfig_load(&ko, &kc, NULL) == 0);
    ASSERT(c8s_client_new(kc, &o, &c, NULL) == 0);
    c8s_kubeconfig_free(kc);
    return c;
}

static int call(struct c8s_client *c, const char *method,
                struct c8s_error *err)
{
    struct c8s_response r = {0};
    int rv = c8s_request(c, method, "/x", NULL, method[0] == 'P' ? "{}" : NULL,
                         method[0] == 'P' ? 2 : 0, &r, err);

    c8s_response_clear(&r);
    return rv;
}

TEST_T(retry, a_429_is_retried_after_retry_after_even_for_writes, 30)
{
    static const enum act script[] = {TOO_MANY, OK, TOO_MANY, OK};
    struct server *s = start(script, 4);
    struct c8s_client *c = client(s, 5);
    struct c8s_error err = {0};
    int64_t t0;

    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    ASSERT_EQ(call(c, "GET", &err), 0);
    ASSERT_EQ(call(c, "POST", &err), 0); /* 429: nothing was done */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ASSERT_MSG(ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0 >= 1900,
               "Retry-After: 1 was not waited for, twice");
    ASSERT_EQ(atomic_load(&s->requests), 4);
    c8s_client_free(c);
    stop(s);
}

TEST_T(retry, the_attempts_are_bounded, 30)
{
    static const enum act script[] = {UNAVAILABLE};
    struct server *s = start(script, 1);
    struct c8s_client *c = client(s, 3);
    struct c8s_error err = {0};

    ASSERT_EQ(call(c, "GET", &err), -C8S_EOVERLOADED);
    ASSERT_EQ(err.http_status, 503);
    ASSERT_EQ(atomic_load(&s->requests), 3);
    /* A 503 to a write is not retried: the server may have acted. */
    ASSERT_EQ(call(c, "PUT", &err), -C8S_EOVERLOADED);
    ASSERT_EQ(atomic_load(&s->requests), 4);
    c8s_client_free(c);
    stop(s);
}

TEST_T(retry, a_lost_answer_is_retried_for_reads_never_for_writes, 30)
{
    static const enum act script[] = {DROP, OK, DROP, OK};
    struct server *s = start(script, 4);
    struct c8s_client *c = client(s, 5);
    struct c8s_error err = {0};

    ASSERT_EQ(call(c, "GET", &err), 0); /* dropped, then answered */
    ASSERT_EQ(atomic_load(&s->requests), 2);
    ASSERT_EQ(call(c, "POST", &err), -C8S_EUNKNOWN);
    ASSERT_STR_CONTAINS(err.message, "may or may not have happened");
    ASSERT_EQ(atomic_load(&s->requests), 3); /* sent once, not again */
    ASSERT_EQ(call(c, "POST", &err), 0);     /* the next one is fine */
    c8s_client_free(c);
    stop(s);
}

/* Nothing a caller passes can break the request line or add a header;
 * long values do not overflow anything. */
TEST_T(retry, requests_cannot_smuggle_lines, 30)
{
    static const enum act script[] = {OK};
    struct server *s = start(script, 1);
    struct c8s_client *c = client(s, 1);
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    char type[600];

    ASSERT_EQ(c8s_request(c, "GET", "/x HTTP/1.1\r\nX: y", NULL, NULL, 0,
                          &r, &err), -EINVAL);
    ASSERT_EQ(c8s_request(c, "GET", "/x?labelSelector=a in (b)", NULL, NULL,
                          0, &r, &err), -EINVAL);
    ASSERT_EQ(c8s_request(c, "POST", "/x", "text/plain\r\nX-Evil: 1", "{}",
                          2, &r, &err), -EINVAL);
    ASSERT_EQ(c8s_request(c, "G ET", "/x", NULL, NULL, 0, &r, &err), -EINVAL);
    ASSERT_EQ(atomic_load(&s->requests), 0); /* nothing was sent */
    memset(type, 'a', sizeof type - 1);
    type[sizeof type - 1] = '\0';
    memcpy(type, "application/", 12);
    ASSERT_EQ(c8s_request(c, "POST", "/x", type, "{}", 2, &r, &err), 0);
    c8s_response_clear(&r);
    char enc[64];
    ASSERT_EQ(c8s_url_escape("a in (b),c!=d+e", enc, sizeof enc), 31);
    ASSERT_STR_EQ(enc, "a%20in%20%28b%29%2Cc%21%3Dd%2Be");
    ASSERT_EQ(c8s_url_escape("abcdef", enc, 4), -ENAMETOOLONG);
    c8s_client_free(c);
    stop(s);
}

int main(int argc, char **argv)
{
    (void)unsetenv("KUBECONFIG");
    return unit_main(argc, argv);
}
