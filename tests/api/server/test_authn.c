/* Authentication (api/server/authn.c): the token file in kube-apiserver's
 * CSV format, bearer tokens, anonymous requests and the public paths. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/server/authn.h"
#include "tests/lib/unit.h"

static const char *file_of(const char *text)
{
    static char path[2200];
    FILE *f;

    snprintf(path, sizeof path, "%.1000s/tokens.csv", unit_tmpdir());
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
    return path;
}

/* A request carrying @authorization (NULL: none), over no TLS. */
static int who(const struct srv_authn *a, const char *authorization,
               struct srv_user *u)
{
    struct srv_header h = {"Authorization", authorization};
    struct srv_req req = {.method = "GET", .path = "/api",
                          .headers = &h, .n_headers = authorization != NULL};

    return srv_authn_user(a, &req, u);
}

TEST(authn, tokens_name_users_and_groups)
{
    struct srv_authn a;
    struct srv_user u;
    struct err e = {0};

    ASSERT_MSG(srv_authn_init(&a, file_of("# comment\n\n"
                                          "tok-a,alice,1001,\"dev,ops\"\n"
                                          "tok-b,bob,1002\n"
                                          "\"tok,c\",carol,1003,qa\r\n"),
                              true, &e) == 0,
               "%s", e.msg);
    ASSERT_EQ(a.n_tokens, 3);
    ASSERT_EQ(who(&a, "Bearer tok-a", &u), 0);
    ASSERT_STR_EQ(u.name, "alice");
    ASSERT_STR_EQ(u.uid, "1001");
    ASSERT_EQ(u.n_groups, 3);
    ASSERT_STR_EQ(u.groups[0], "dev");
    ASSERT_STR_EQ(u.groups[1], "ops");
    ASSERT_STR_EQ(u.groups[2], "system:authenticated");
    ASSERT(!u.anonymous);
    ASSERT_EQ(who(&a, "bearer tok-b", &u), 0);
    ASSERT_STR_EQ(u.name, "bob");
    ASSERT_EQ(u.n_groups, 1);
    ASSERT_EQ(who(&a, "Bearer tok,c", &u), 0);
    ASSERT_STR_EQ(u.name, "carol");
    ASSERT_STR_EQ(u.groups[0], "qa");
    /* Not in the file: -ENOENT (the server then tries ServiceAccount
     * tokens, and answers 401 if that fails too). */
    ASSERT_EQ(who(&a, "Bearer tok-", &u), -ENOENT);
    ASSERT_EQ(who(&a, "Bearer ", &u), -ENOENT);
    ASSERT_EQ(who(&a, NULL, &u), 0);
    ASSERT(u.anonymous);
    ASSERT_STR_EQ(u.name, "system:anonymous");
    ASSERT_STR_EQ(u.groups[0], "system:unauthenticated");
    /* Basic credentials are no bearer token: anonymous. */
    ASSERT_EQ(who(&a, "Basic YTpi", &u), 0);
    ASSERT(u.anonymous);
    srv_authn_done(&a);
}

TEST(authn, bad_token_files_name_the_line)
{
    static const struct {
        const char *text;
        int line;
    } cases[] = {
        {"tok,alice\n", 1},
        {"ok,a,1\n,bob,2\n", 2},
        {"tok,,1\n", 1},
        {"tok,a,1,\"open\n", 1},
        {"tok,a,1,g1,g2\n", 1},
        {"tok,a,1,\"g1,g2,g3,g4,g5,g6,g7,g8,g9,g10,g11,g12,g13,g14,g15,g16,"
         "g17\"\n",
         1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct srv_authn a;
        struct err e = {0};
        char want[64];

        ASSERT_EQ(srv_authn_init(&a, file_of(cases[i].text), true, &e),
                  -EINVAL);
        snprintf(want, sizeof want, "tokens.csv:%d:", cases[i].line);
        ASSERT_MSG(strstr(e.msg, want) != NULL, "%s", e.msg);
    }
    struct srv_authn a;
    struct err e = {0};
    ASSERT_EQ(srv_authn_init(&a, "/nonexistent/tokens.csv", true, &e),
              -ENOENT);
    ASSERT(strstr(e.msg, "--token-auth-file /nonexistent/tokens.csv") != NULL);
}

TEST(authn, public_paths_are_health_and_version)
{
    ASSERT(srv_authn_public_path("/healthz"));
    ASSERT(srv_authn_public_path("/healthz/ping"));
    ASSERT(srv_authn_public_path("/livez"));
    ASSERT(srv_authn_public_path("/readyz/etcd"));
    ASSERT(srv_authn_public_path("/version"));
    ASSERT(!srv_authn_public_path("/healthzz"));
    ASSERT(!srv_authn_public_path("/versions"));
    ASSERT(!srv_authn_public_path("/api"));
    ASSERT(!srv_authn_public_path("/metrics"));
    ASSERT(!srv_authn_public_path("/"));
}

UNIT_MAIN()
