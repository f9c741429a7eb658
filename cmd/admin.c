/* c8s-master status | member add|remove|list, over the forward channel. */
#include "cmd/admin.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/sync_client.h"

#define ADMIN_TIMEOUT_MS 30000

const char *admin_prog = "c8s-master";

static const char admin_usage[] =
    "usage: %1$s status --peer HOST:PORT TOKEN-FLAG\n"
    "       %1$s member list --peer HOST:PORT TOKEN-FLAG\n"
    "       %1$s member add NAME=HOST:PORT --peer HOST:PORT TOKEN-FLAG\n"
    "       %1$s member remove NAME --peer HOST:PORT TOKEN-FLAG\n"
    "where TOKEN-FLAG is --token TOKEN or --token-file FILE\n"
    "\n"
    "--peer is the peer address of any running member; the token is the\n"
    "cluster's (a one-member cluster started without one keeps it in\n"
    "DATA-DIR/token): members refuse connections that cannot prove it.\n"
    "A member being added\n"
    "must be started first with the full new --initial-cluster and\n"
    "--initial-cluster-state existing; `add` returns once it has caught up\n"
    "and votes. After `remove`, stop the removed member's process: it is\n"
    "not told that it was removed.\n";

bool admin_is_command(const char *arg)
{
    return strcmp(arg, "status") == 0 || strcmp(arg, "member") == 0;
}

static int usage(const char *why)
{
    fprintf(stderr, "%s: %s\n", admin_prog, why);
    fprintf(stderr, admin_usage, admin_prog);
    return 2;
}

static int report(const char *what, int rv)
{
    if (rv == 0)
        return 0;
    if (rv == -EACCES)
        fprintf(stderr, "%s: %s: the member refused our token: pass the "
                "cluster's --token or --token-file\n", admin_prog, what);
    else
        fprintf(stderr, "%s: %s: %s\n", admin_prog, what, err_str(rv));
    return 1;
}

const char *admin_read_token_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    const char *why = f == NULL ? strerror(errno) : NULL;

    if (f != NULL) {
        if (fgets(buf, (int)size, f) == NULL)
            buf[0] = '\0';
        /* A first line that did not fit is not cut into another token. */
        if (strlen(buf) == size - 1 && buf[size - 2] != '\n' && !feof(f))
            why = "the token is too long";
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
        if (why == NULL && buf[0] == '\0')
            why = "empty";
    }
    return why;
}

static int cmd_status(struct repl_sync *c)
{
    struct repl_sync_status st;
    int rv = repl_sync_status(c, &st, ADMIN_TIMEOUT_MS);

    if (rv != 0)
        return report("status", rv);
    printf("member\t%llx\nstate\t%s\nleader\t%llx\nterm\t%llu\n"
           "commit_index\t%llu\napplied_index\t%llu\nrevision\t%llu\n"
           "compact_revision\t%llu\nkeys\t%llu\n",
           (unsigned long long)st.id, st.state,
           (unsigned long long)st.leader_id, (unsigned long long)st.term,
           (unsigned long long)st.commit_index,
           (unsigned long long)st.applied_index, (unsigned long long)st.rev,
           (unsigned long long)st.compact_rev, (unsigned long long)st.keys);
    return 0;
}

static int cmd_list(struct repl_sync *c)
{
    struct repl_sync_member m[64];
    size_t n = 0;
    int rv = repl_sync_members(c, m, 64, &n, ADMIN_TIMEOUT_MS);

    if (rv != 0)
        return report("member list", rv);
    printf("ID\tADDRESS\tROLE\tLEADER\n");
    for (size_t i = 0; i < n && i < 64; i++)
        printf("%llx\t%s\t%s\t%s\n", (unsigned long long)m[i].id,
               m[i].address, m[i].role, m[i].leader ? "yes" : "no");
    return 0;
}

static int cmd_add(struct repl_sync *c, const char *spec)
{
    char name[64];
    const char *eq = strchr(spec, '=');

    if (eq == NULL || eq == spec || (size_t)(eq - spec) >= sizeof name)
        return usage("member add needs NAME=HOST:PORT");
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    if (report("member add", repl_sync_member_add(c, name, eq + 1,
                                                 ADMIN_TIMEOUT_MS)) != 0)
        return 1;
    printf("member %s added at %s\n", name, eq + 1);
    return 0;
}

static int cmd_remove(struct repl_sync *c, const char *name)
{
    if (report("member remove",
               repl_sync_member_remove(c, name, ADMIN_TIMEOUT_MS)) != 0)
        return 1;
    printf("member %s removed; stop its process now\n", name);
    return 0;
}

/* Dispatch the positional words left after option parsing. */
static int run(struct repl_sync *c, int n, char **words)
{
    if (strcmp(words[0], "status") == 0 && n == 1)
        return cmd_status(c);
    if (strcmp(words[0], "member") != 0 || n < 2)
        return usage("unknown subcommand");
    if (strcmp(words[1], "list") == 0 && n == 2)
        return cmd_list(c);
    if (strcmp(words[1], "add") == 0 && n == 3)
        return cmd_add(c, words[2]);
    if (strcmp(words[1], "remove") == 0 && n == 3)
        return cmd_remove(c, words[2]);
    return usage("unknown or incomplete member subcommand");
}

int admin_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"peer", required_argument, NULL, 'p'},
        {"token", required_argument, NULL, 'k'},
        {"token-file", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *peer = NULL, *token = NULL, *token_file = NULL;
    char token_buf[256];
    struct repl_sync *c;
    int opt, rv;

    opterr = 0;
    optind = 1;
    /* "+": stop at nothing; words and flags may be mixed (GNU permutes). */
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (opt == 'p')
            peer = optarg;
        else if (opt == 'k')
            token = optarg;
        else if (opt == 'K')
            token_file = optarg;
        else if (opt == 'h') {
            printf(admin_usage, admin_prog);
            return 0;
        } else
            return usage("unknown or incomplete flag");
    }
    if (peer == NULL)
        return usage("--peer is required");
    /* getopt permuted the words to argv[optind..]; argv[0] is the first. */
    char *words[4] = {argv[0]};
    int n = 1;
    for (int i = optind; i < argc && n < 4; i++)
        words[n++] = argv[i];
    if (optind < argc - 3)
        return usage("too many arguments");
    if (token_file != NULL) {
        const char *why = admin_read_token_file(token_file, token_buf,
                                                sizeof token_buf);
        if (why != NULL) {
            fprintf(stderr, "%s: --token-file %s: %s\n", admin_prog,
                    token_file, why);
            return 2;
        }
        token = token_buf;
    }
    if (token == NULL || token[0] == '\0')
        return usage("--token or --token-file is required");
    if (strlen(token) >= sizeof token_buf)
        return usage("--token is longer than 255 bytes");
    c = repl_sync_new(peer, token);
    explicit_bzero(token_buf, sizeof token_buf);
    if (c == NULL)
        return report("connecting", -ENOMEM);
    rv = run(c, n, words);
    repl_sync_free(c);
    return rv;
}
