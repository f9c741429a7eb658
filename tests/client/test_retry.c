/* Retries and their limits against a scripted HTTP server in a thread
 * (tests/client/scripted.c): 429 with Retry-After, 503, connections
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

#include "tests/client/scripted.h"
#include "tests/lib/unit.h"

static struct c8s_client *client(const struct scripted *s, int attempts)
{
    char path[600];
    struct c8s_kubeconfig_opts ko = {.kubeconfig = path};
    struct c8s_client_opts o = {.max_attempts = attempts,
                                .timeout_ms = 10000};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *c = NULL;

    scripted_kubeconfig(s, path, sizeof path);
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

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST_T(retry, a_429_is_retried_after_retry_after_even_for_writes, 30)
{
    static const enum act script[] = {TOO_MANY, OK, TOO_MANY, OK};
    struct scripted *s = scripted_start(script, 4);
    struct c8s_client *c = client(s, 5);
    struct c8s_error err = {0};
    int64_t t0 = now_ms();

    ASSERT_EQ(call(c, "GET", &err), 0);
    ASSERT_EQ(call(c, "POST", &err), 0); /* 429: nothing was done */
    ASSERT_MSG(now_ms() - t0 >= 1900,
               "Retry-After: 1 was not waited for, twice");
    ASSERT_EQ(atomic_load(&s->requests), 4);
    c8s_client_free(c);
    scripted_stop(s);
}

/* As client-go does: a 503 that says when to come back is a refusal
 * (c8s sends it only for a write it did not propose), so even a write is
 * sent again; one without Retry-After is not (next test). */
TEST_T(retry, a_503_with_retry_after_is_retried_even_for_writes, 30)
{
    static const enum act script[] = {REFUSED, OK};
    struct scripted *s = scripted_start(script, 2);
    struct c8s_client *c = client(s, 5);
    struct c8s_error err = {0};
    int64_t t0 = now_ms();

    ASSERT_EQ(call(c, "POST", &err), 0);
    ASSERT_MSG(now_ms() - t0 >= 950, "Retry-After: 1 was not waited for");
    ASSERT_EQ(atomic_load(&s->requests), 2);
    c8s_client_free(c);
    scripted_stop(s);
}

TEST_T(retry, the_attempts_are_bounded, 30)
{
    static const enum act script[] = {UNAVAILABLE};
    struct scripted *s = scripted_start(script, 1);
    struct c8s_client *c = client(s, 3);
    struct c8s_error err = {0};

    ASSERT_EQ(call(c, "GET", &err), -C8S_EOVERLOADED);
    ASSERT_EQ(err.http_status, 503);
    ASSERT_EQ(atomic_load(&s->requests), 3);
    /* A 503 without Retry-After to a write is not retried: the server
     * may have acted. */
    ASSERT_EQ(call(c, "PUT", &err), -C8S_EOVERLOADED);
    ASSERT_EQ(atomic_load(&s->requests), 4);
    c8s_client_free(c);
    scripted_stop(s);
}

TEST_T(retry, a_lost_answer_is_retried_for_reads_never_for_writes, 30)
{
    static const enum act script[] = {DROP, OK, DROP, OK};
    struct scripted *s = scripted_start(script, 4);
    struct c8s_client *c = client(s, 5);
    struct c8s_error err = {0};

    ASSERT_EQ(call(c, "GET", &err), 0); /* dropped, then answered */
    ASSERT_EQ(atomic_load(&s->requests), 2);
    ASSERT_EQ(call(c, "POST", &err), -C8S_EUNKNOWN);
    ASSERT_STR_CONTAINS(err.message, "may or may not have happened");
    ASSERT_EQ(atomic_load(&s->requests), 3); /* sent once, not again */
    ASSERT_EQ(call(c, "POST", &err), 0);     /* the next one is fine */
    c8s_client_free(c);
    scripted_stop(s);
}

/* Nothing a caller passes can break the request line or add a header;
 * long values do not overflow anything. */
TEST_T(retry, requests_cannot_smuggle_lines, 30)
{
    static const enum act script[] = {OK};
    struct scripted *s = scripted_start(script, 1);
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
    scripted_stop(s);
}

int main(int argc, char **argv)
{
    (void)unsetenv("KUBECONFIG");
    return unit_main(argc, argv);
}
