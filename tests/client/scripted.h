/* A scripted HTTP server (plain http:// on loopback, a thread per
 * connection) for libc8s's retry tests: it answers each request, across
 * all connections, as its script says. */
#ifndef C8S_TESTS_CLIENT_SCRIPTED_H
#define C8S_TESTS_CLIENT_SCRIPTED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/* What the server does with each request, in order; the last repeats. */
enum act {
    OK,          /* 200 with a small JSON body */
    TOO_MANY,    /* 429, Retry-After: 1 */
    UNAVAILABLE, /* 503 */
    REFUSED,     /* 503, Retry-After: 1 (c8s's "no leader, retry") */
    DROP,        /* read the request, close without answering */
    SILENT,      /* read the request, never answer (held until stopped) */
};

struct scripted {
    int fd, port;
    pthread_t t;
    enum act script[64];
    size_t n_script;
    pthread_mutex_t mu;
    int conns[512];          /* accepted, closed when stopped */
    pthread_t threads[512];  /* one per connection */
    size_t n_conns;
    atomic_int requests; /* requests read */
    atomic_int accepted; /* connections */
    atomic_int stop;
};

/* Listen on a free loopback port (or on @port if not 0) and serve
 * @script; several may run at once. */
struct scripted *scripted_start(const enum act *script, size_t n);
struct scripted *scripted_start_on(int port, const enum act *script,
                                   size_t n);

/* Stop serving, close every connection and free @s. */
void scripted_stop(struct scripted *s);

/* A kubeconfig naming the server, written into the test's directory; its
 * path goes to @path. */
void scripted_kubeconfig(const struct scripted *s, char *path, size_t size);

#endif /* C8S_TESTS_CLIENT_SCRIPTED_H */
