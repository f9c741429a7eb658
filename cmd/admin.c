/* c8s-master status | member add|remove|list, over the forward channel. */
#include "cmd/admin.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "raft/repl.h"
#include "raft/sync_client.h"
#include "raft/transport.h"

#define ADMIN_TIMEOUT_MS 30000
#define JOINER_WAIT_MS 10000
#define JOINER_RETRY_MS 200

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
    "A member being added must be started first with the full new\n"
    "--initial-cluster and --initial-cluster-state existing: `add` asks it\n"
    "for its raft ID (new for each empty data dir) and returns once it has\n"
    "caught up and votes. After `remove`, stop the removed member's\n"
    "process: it is not told that it was removed. To add it back, empty\n"
    "its data dir first: `add` refuses a member that holds a raft log\n"
    "but is not listed.\n";

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
    else if (rv == -EBUSY)
        fprintf(stderr, "%s: %s: another membership change is still in "
                "progress (a configuration not yet committed, or a member "
                "being promoted); try again when it is done\n", admin_prog,
                what);
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
           "compact_revision\t%llu\nkeys\t%llu\n"
           "configuration_index\t%llu\nconfiguration_uncommitted_index\t%llu\n",
           (unsigned long long)st.id, st.state,
           (unsigned long long)st.leader_id, (unsigned long long)st.term,
           (unsigned long long)st.commit_index,
           (unsigned long long)st.applied_index, (unsigned long long)st.rev,
           (unsigned long long)st.compact_rev, (unsigned long long)st.keys,
           (unsigned long long)st.config_committed_index,
           (unsigned long long)st.config_uncommitted_index);
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

/* What the member at @address holds: its raft ID (a member that joins
 * with an empty data dir draws a new one, see raft/identity.c) and how
 * many servers its own raft configuration lists: none until a log or
 * snapshot reaches it. One started a moment ago may not listen yet: asked
 * again for JOINER_WAIT_MS. */
static int ask_joiner(const char *address, const char *token, uint64_t *id,
                      size_t *n_conf)
{
    struct repl_sync_status st;
    struct repl_sync_member m[64];
    struct repl_sync *j = repl_sync_new(address, token);
    int rv;

    if (j == NULL)
        return -ENOMEM;
    for (int waited = 0;; waited += JOINER_RETRY_MS) {
        rv = repl_sync_status(j, &st, ADMIN_TIMEOUT_MS);
        /* A connection that failed fails its requests as "no leader". */
        if (rv != -C8S_ENOLEADER || waited >= JOINER_WAIT_MS)
            break;
        usleep(JOINER_RETRY_MS * 1000);
    }
    if (rv == 0) {
        *id = st.id;
        rv = repl_sync_members(j, m, 64, n_conf, ADMIN_TIMEOUT_MS);
    }
    repl_sync_free(j);
    return rv;
}

/* Does the leader's configuration list raft ID @id? The leader (found
 * through member @c) is asked: a lagging member may still list an ID
 * whose removal it has not heard of, and the leader decides the add. */
static int is_listed(struct repl_sync *c, const char *token, uint64_t id,
                     bool *listed)
{
    struct repl_sync_member m[64];
    char leader[sizeof m[0].address] = "";
    size_t n = 0;
    struct repl_sync *l;
    int rv = repl_sync_members(c, m, 64, &n, ADMIN_TIMEOUT_MS);

    *listed = false;
    for (size_t i = 0; rv == 0 && i < n && i < 64; i++)
        if (m[i].leader)
            (void)snprintf(leader, sizeof leader, "%s", m[i].address);
    if (rv != 0 || leader[0] == '\0')
        return rv != 0 ? rv : -C8S_ENOLEADER;
    if ((l = repl_sync_new(leader, token)) == NULL)
        return -ENOMEM;
    n = 0;
    rv = repl_sync_members(l, m, 64, &n, ADMIN_TIMEOUT_MS);
    repl_sync_free(l);
    for (size_t i = 0; rv == 0 && i < n && i < 64; i++)
        *listed |= m[i].id == id;
    return rv;
}

/* A member holding a raft log (its configuration lists servers) whose ID
 * the cluster's configuration does not list was a member once and was
 * removed: it must not come back on that log. libraft lets a sole
 * remaining voter lead on in a term another member led
 * (docs/REPLICATION.md), so entries of the same index and term may
 * differ, and raft would take the old log's for the cluster's. Emptied,
 * it draws a new ID and receives the cluster's log. A listed one (a spare
 * left by a failed promotion) is promoted by the leader instead. */
static int refuse_stale_joiner(struct repl_sync *c, const char *token,
                               const char *name, const char *addr,
                               uint64_t id, size_t n_conf)
{
    bool listed;
    int rv;

    if (n_conf == 0)
        return 0;
    if ((rv = is_listed(c, token, id, &listed)) != 0)
        return report("member add: listing the members", rv);
    if (listed)
        return 0;
    fprintf(stderr, "%s: member add: %s at %s (%llx) holds a raft log "
            "(its configuration lists %zu servers) but is not a member: a "
            "member that was removed must not come back on its old log. "
            "Stop it, move its data dir aside, start it empty with "
            "--initial-cluster-state existing and add it again\n",
            admin_prog, name, addr, (unsigned long long)id, n_conf);
    return 1;
}

/* Say which server stands in the way of adding @name (id @id) at @addr. */
static void explain_conflict(struct repl_sync *c, const char *name,
                             const char *addr, uint64_t id)
{
    struct repl_sync_member m[64];
    size_t n = 0;

    if (repl_sync_members(c, m, 64, &n, ADMIN_TIMEOUT_MS) != 0)
        return;
    for (size_t i = 0; i < n && i < 64; i++) {
        if (m[i].id == id)
            fprintf(stderr, "%s: %s (%llx) is already a %s at %s\n",
                    admin_prog, name, (unsigned long long)id, m[i].role,
                    m[i].address);
        else if (repl_member_id_is_of(m[i].id, name))
            fprintf(stderr, "%s: an earlier start of %s, with other data, is "
                    "a %s (%llx) at %s: remove it first (member remove %s), "
                    "or restart that member on its old data dir and add it "
                    "again\n", admin_prog, name, m[i].role,
                    (unsigned long long)m[i].id, m[i].address, name);
        else if (repl_same_address(m[i].address, addr))
            fprintf(stderr, "%s: another member (%llx) is a %s at %s\n",
                    admin_prog, (unsigned long long)m[i].id, m[i].role,
                    addr);
    }
}

static int cmd_add(struct repl_sync *c, const char *spec, const char *token)
{
    char name[64];
    const char *eq = strchr(spec, '='), *addr;
    uint64_t id = 0;
    size_t n_conf = 0;
    int rv;

    if (eq == NULL || eq == spec || (size_t)(eq - spec) >= sizeof name)
        return usage("member add needs NAME=HOST:PORT");
    addr = eq + 1;
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    rv = ask_joiner(addr, token, &id, &n_conf);
    if (rv != 0 && rv != -EACCES) {
        fprintf(stderr, "%s: member add: cannot ask the new member at %s for "
                "its raft ID and log (%s): start it first with "
                "--initial-cluster-state existing\n", admin_prog, addr,
                rv == -C8S_ENOLEADER ? "no answer" : err_str(rv));
        return 1;
    }
    if (report("member add: asking the new member its raft ID", rv) != 0)
        return 1;
    if (!repl_member_id_is_of(id, name)) {
        fprintf(stderr, "%s: member add: the member at %s has raft ID %llx, "
                "which is not one of %s's: was it started with --name %s?\n",
                admin_prog, addr, (unsigned long long)id, name, name);
        return 1;
    }
    if (refuse_stale_joiner(c, token, name, addr, id, n_conf) != 0)
        return 1;
    rv = repl_sync_member_add(c, name, addr, id, ADMIN_TIMEOUT_MS);
    if (rv == -C8S_EEXISTS)
        explain_conflict(c, name, addr, id);
    if (report("member add", rv) != 0)
        return 1;
    printf("member %s (%llx) added at %s\n", name, (unsigned long long)id,
           addr);
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
static int run(struct repl_sync *c, const char *token, int n, char **words)
{
    if (strcmp(words[0], "status") == 0 && n == 1)
        return cmd_status(c);
    if (strcmp(words[0], "member") != 0 || n < 2)
        return usage("unknown subcommand");
    if (strcmp(words[1], "list") == 0 && n == 2)
        return cmd_list(c);
    if (strcmp(words[1], "add") == 0 && n == 3)
        return cmd_add(c, words[2], token);
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
    rv = c != NULL ? run(c, token, n, words) : report("connecting", -ENOMEM);
    explicit_bzero(token_buf, sizeof token_buf);
    repl_sync_free(c);
    return rv;
}
