/* A scripted HTTP server in a thread (plain http:// on loopback) for
 * libc8s's retry tests: it answers each request as its script says. */
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
    DROP,        /* read the request, close without answering */
    SILENT,      /* read the request, never answer (held until stopped) */
};

struct scripted {
    int fd, port;
    pthread_t t;
    enum act script[16];
    size_t n_script;
    int held[64]; /* connections SILENT keeps open */
    size_t n_held;
    atomic_int requests; /* requests read */
    atomic_int stop;
};

/* Listen on a free loopback port and serve @script. */
struct scripted *scripted_start(const enum act *script, size_t n);

void scripted_stop(struct scripted *s);

/* A kubeconfig naming the server, written into the test's directory; its
 * path goes to @path. */
void scripted_kubeconfig(const struct scripted *s, char *path, size_t size);

#endif /* C8S_TESTS_CLIENT_SCRIPTED_H */
