/* c8s-master: one control-plane member (raft + store; the API server and
 * controllers join it in later issues). */
#include <errno.h>
#include <sys/random.h>
#include <unistd.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "api/server/api.h"
#include "api/server/pki.h"
#include "cmd/admin.h"
#include "lib/file.h"
#include "lib/log.h"
#include "raft/repl.h"

#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: c8s-master --name NAME --data-dir DIR --peer-listen HOST:PORT\n"
    "                  [--initial-cluster NAME=HOST:PORT,...]\n"
    "                  [--api-listen HOST:PORT] [--token TOKEN|--token-file F]\n"
    "                  [--service-cluster-ip-range CIDR]\n"
    "                  [--encryption-provider-config FILE]\n"
    "                  [--token-auth-file FILE] [--anonymous-auth=false]\n"
    "                  [--audit-log-path FILE] [--audit-policy-file FILE]\n"
    "                  [--max-requests-inflight N]\n"
    "                  [--max-mutating-requests-inflight N]\n"
    "                  [--endpoint-lease-seconds S]\n"
    "                  [--election-timeout MS]\n"
    "                  [--snapshot-threshold N] [--snapshot-trailing N]\n"
    "                  [--history-min-age MS] [--compact-interval MS]\n"
    "                  [--min-free-mb N] [--initial-cluster-state new|existing]\n"
    "                  [--log-memory-mb N] [--stall-timeout MS]\n"
    "       c8s-master status|member ... --peer HOST:PORT   (see member --help)\n"
    "                  [--log-level debug|info|warn|error] [--log-json]\n"
    "\n"
    "Runs one member of a c8s control plane. Without --initial-cluster the\n"
    "member forms a single-member cluster. Every member of a cluster gets the\n"
    "same --initial-cluster list; a member joining a running cluster gets\n"
    "--initial-cluster-state existing and is added with `member add`.\n"
    "With --api-listen the member serves the Kubernetes API over HTTPS and\n"
    "writes DATA-DIR/admin.kubeconfig. Every member of a cluster gets the\n"
    "same --token (or --token-file, which keeps it out of ps): members prove\n"
    "it to each other on the peer port, and it protects the cluster CA kept\n"
    "in the store. A one-member cluster may omit it (a random one is kept\n"
    "in DATA-DIR/token).\n"
    "Services get ClusterIPs from --service-cluster-ip-range (default\n"
    "10.96.0.0/12; the same on every member), the kubernetes Service the\n"
    "first address. Past --max-requests-inflight reads (default 400) or\n"
    "--max-mutating-requests-inflight writes (default 200) being served,\n"
    "requests get 429 with Retry-After (watches are not counted).\n"
    "Each member renews a Lease in kube-system; the kubernetes Endpoints\n"
    "list the members whose lease is younger than --endpoint-lease-seconds\n"
    "(default 15).\n"
    "Secrets are encrypted at rest (AES-GCM) with a key derived from the\n"
    "token, or with the aesgcm keys of --encryption-provider-config, a\n"
    "kube-apiserver EncryptionConfiguration for secrets (see docs/API.md).\n"
    "Clients authenticate with certificates from the cluster CA (CN user,\n"
    "O groups) or bearer tokens from --token-auth-file (token,user,uid,\n"
    "\"group1,group2\"); without credentials only /healthz, /livez,\n"
    "/readyz and /version answer (none with --anonymous-auth=false).\n"
    "--audit-log-path writes one JSON audit event per request (kube's\n"
    "audit.k8s.io/v1 Event), at the levels of --audit-policy-file (a kube\n"
    "audit Policy; without one, Metadata for everything).\n"
    "SIGTERM shuts down cleanly (leadership is\n"
    "handed over first); exit status 70 means raft stalled for\n"
    "--stall-timeout (default 10000 ms) and the member must be restarted\n"
    "(the systemd unit does that).\n"
    "\n"
    "History (for watches and reads at old revisions) is kept at least\n"
    "--history-min-age (default 300000 ms) and compacted automatically.\n"
    "Writes are refused while the data dir has less than --min-free-mb\n"
    "(default 64) MiB free. Snapshots are taken often enough to keep about\n"
    "--log-memory-mb (default 64) MiB of raft log entries in memory, or\n"
    "half the last snapshot (the store and its history) when that is\n"
    "larger, up to 8 times --log-memory-mb: each snapshot writes the whole\n"
    "store, and so writes at most twice what the log does.\n";

struct options {
    struct repl_config cfg;     /* Replication settings. */
    const char *api_listen;     /* Serve the Kubernetes API here. */
    const char *token;          /* Cluster token (protects the CA). */
    const char *token_file;     /* Or read it from this file. */
    const char *service_cidr;   /* --service-cluster-ip-range. */
    const char *encryption_config; /* --encryption-provider-config. */
    const char *token_auth_file; /* --token-auth-file. */
    const char *audit_log_path; /* --audit-log-path. */
    const char *audit_policy_file; /* --audit-policy-file. */
    bool no_anonymous;          /* --anonymous-auth=false. */
    unsigned max_inflight;      /* --max-requests-inflight. */
    unsigned endpoint_lease_s;  /* --endpoint-lease-seconds. */
    unsigned max_mutating;      /* --max-mutating-requests-inflight. */
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt,
                                                             ...)
{
    va_list ap;

    fprintf(stderr, "c8s-master: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage_text);
    return EXIT_USAGE;
}

static int parse_uint(const char *flag, const char *s, unsigned *ret)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0 || v > 100000000)
        return usage_error("%s needs a positive number, not '%s'", flag, s);
    *ret = (unsigned)v;
    return 0;
}

static bool name_in_cluster(const struct repl_config *c)
{
    for (unsigned i = 0; i < c->n_members; i++)
        if (strcmp(c->members[i].name, c->name) == 0)
            return true;
    return false;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"name", required_argument, NULL, 'n'},
        {"data-dir", required_argument, NULL, 'd'},
        {"peer-listen", required_argument, NULL, 'p'},
        {"initial-cluster", required_argument, NULL, 'c'},
        {"api-listen", required_argument, NULL, 'a'},
        {"token", required_argument, NULL, 'k'},
        {"token-file", required_argument, NULL, 'K'},
        {"service-cluster-ip-range", required_argument, NULL, 'R'},
        {"encryption-provider-config", required_argument, NULL, 'E'},
        {"token-auth-file", required_argument, NULL, 'A'},
        {"audit-log-path", required_argument, NULL, 'W'},
        {"audit-policy-file", required_argument, NULL, 'Y'},
        {"anonymous-auth", required_argument, NULL, 'N'},
        {"max-requests-inflight", required_argument, NULL, 'I'},
        {"endpoint-lease-seconds", required_argument, NULL, 'L'},
        {"max-mutating-requests-inflight", required_argument, NULL, 'U'},
        {"election-timeout", required_argument, NULL, 'e'},
        {"snapshot-threshold", required_argument, NULL, 's'},
        {"history-min-age", required_argument, NULL, 'H'},
        {"compact-interval", required_argument, NULL, 'C'},
        {"min-free-mb", required_argument, NULL, 'F'},
        {"log-memory-mb", required_argument, NULL, 'M'},
        {"stall-timeout", required_argument, NULL, 'T'},
        {"initial-cluster-state", required_argument, NULL, 'S'},
        {"snapshot-trailing", required_argument, NULL, 't'},
        {"log-level", required_argument, NULL, 'l'},
        {"log-json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cluster = NULL;
    enum log_level level;
    struct err e = {0};
    int c, rv;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o->cfg.name = optarg; break;
        case 'd': o->cfg.data_dir = optarg; break;
        case 'p': o->cfg.peer_listen = optarg; break;
        case 'c': cluster = optarg; break;
        case 'a': o->api_listen = optarg; break;
        case 'k': o->token = optarg; break;
        case 'K': o->token_file = optarg; break;
        case 'R': o->service_cidr = optarg; break;
        case 'E': o->encryption_config = optarg; break;
        case 'A': o->token_auth_file = optarg; break;
        case 'W': o->audit_log_path = optarg; break;
        case 'Y': o->audit_policy_file = optarg; break;
        case 'N':
            if (strcmp(optarg, "true") != 0 && strcmp(optarg, "false") != 0)
                return usage_error("--anonymous-auth must be true or false, "
                                   "not '%s'", optarg);
            o->no_anonymous = strcmp(optarg, "false") == 0;
            break;
        case 'L':
            if ((rv = parse_uint("--endpoint-lease-seconds", optarg,
                                 &o->endpoint_lease_s)) != 0)
                return rv;
            if (o->endpoint_lease_s < 2 || o->endpoint_lease_s > 3600)
                return usage_error("--endpoint-lease-seconds must be between "
                                   "2 and 3600, not '%s'", optarg);
            break;
        case 'I':
            if ((rv = parse_uint("--max-requests-inflight", optarg,
                                 &o->max_inflight)) != 0)
                return rv;
            break;
        case 'U':
            if ((rv = parse_uint("--max-mutating-requests-inflight", optarg,
                                 &o->max_mutating)) != 0)
                return rv;
            break;
        case 'e':
            if ((rv = parse_uint("--election-timeout", optarg,
                                 &o->cfg.election_timeout_ms)) != 0)
                return rv;
            break;
        case 's':
            if ((rv = parse_uint("--snapshot-threshold", optarg,
                                 &o->cfg.snapshot_threshold)) != 0)
                return rv;
            break;
        case 't':
            if ((rv = parse_uint("--snapshot-trailing", optarg,
                                 &o->cfg.snapshot_trailing)) != 0)
                return rv;
            break;
        case 'H':
            if ((rv = parse_uint("--history-min-age", optarg,
                                 &o->cfg.history_min_age_ms)) != 0)
                return rv;
            break;
        case 'S':
            if (strcmp(optarg, "existing") == 0)
                o->cfg.join_existing = true;
            else if (strcmp(optarg, "new") != 0)
                return usage_error("--initial-cluster-state must be 'new' or "
                                   "'existing', not '%s'", optarg);
            break;
        case 'T':
            if ((rv = parse_uint("--stall-timeout", optarg,
                                 &o->cfg.stall_timeout_ms)) != 0)
                return rv;
            break;
        case 'M':
            if ((rv = parse_uint("--log-memory-mb", optarg,
                                 &o->cfg.log_memory_mb)) != 0)
                return rv;
            break;
        case 'F':
            if ((rv = parse_uint("--min-free-mb", optarg,
                                 &o->cfg.min_free_mb)) != 0)
                return rv;
            break;
        case 'C':
            if ((rv = parse_uint("--compact-interval", optarg,
                                 &o->cfg.compact_interval_ms)) != 0)
                return rv;
            break;
        case 'l':
            if (log_level_parse(optarg, &level) != 0)
                return usage_error("--log-level: unknown level '%s'", optarg);
            log_set_level(level);
            break;
        case 'j': log_set_json(1); break;
        case 'h': fputs(usage_text, stdout); exit(0);
        default:
            return usage_error("unknown or incomplete flag '%s'",
                               argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (o->cfg.name == NULL)
        return usage_error("%s is required", "--name");
    if (o->cfg.data_dir == NULL)
        return usage_error("%s is required", "--data-dir");
    if (o->cfg.peer_listen == NULL)
        return usage_error("%s is required", "--peer-listen");
    if (cluster != NULL && repl_parse_cluster(&o->cfg, cluster, &e) != 0)
        return usage_error("%s", e.msg);
    if (cluster != NULL && !name_in_cluster(&o->cfg))
        return usage_error("--name '%s' is not in --initial-cluster",
                           o->cfg.name);
    return 0;
}

struct master {
    uv_loop_t loop;             /* The process's one loop. */
    struct repl *repl;          /* This member. */
    struct srv_api *api;        /* Its API server, or NULL. */
    int exit_code;              /* What main returns. */
    uv_signal_t sigterm;        /* Clean shutdown. */
    uv_signal_t sigint;         /* Same, from a terminal. */
};

static void on_closed(struct repl *r)
{
    (void)r;
}

static void api_closed(void *data)
{
    struct master *m = data;

    m->api = NULL;
}

/* Stop everything; the loop ends when every handle is closed. */
static void shut_down(struct master *m)
{
    if (!uv_is_closing((uv_handle_t *)&m->sigterm)) {
        uv_close((uv_handle_t *)&m->sigterm, NULL);
        uv_close((uv_handle_t *)&m->sigint, NULL);
    }
    if (m->api != NULL)
        srv_api_close(m->api, api_closed, m);
    repl_close(m->repl, on_closed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct master *m = h->data;

    log_info("master", "received %s, shutting down", strsignal(signum));
    shut_down(m);
}

static void api_fatal(struct srv_api *api, const char *why)
{
    struct master *m = srv_api_data(api);

    log_error("master", "the API server cannot start: %s", why);
    m->exit_code = 1;
    shut_down(m);
}

/* The token from --token or --token-file; for a one-member cluster without
 * one, a random token kept in DATA-DIR/token (0600) so restarts open the
 * same CA. */
static int load_token(const struct options *o, char *buf, size_t size)
{
    char path[4200];
    unsigned char raw[24];

    if (o->token != NULL) {
        if (strlen(o->token) >= size) {
            log_error("master", "--token is longer than %zu bytes", size - 1);
            return -EINVAL;
        }
        (void)snprintf(buf, size, "%s", o->token);
        return 0;
    }
    if (o->token_file != NULL) {
        const char *why = admin_read_token_file(o->token_file, buf, size);
        if (why != NULL)
            log_error("master", "--token-file %s: %s", o->token_file, why);
        return why == NULL ? 0 : -EINVAL;
    }
    if (o->cfg.n_members > 1) {
        log_error("master", "--token is required in a cluster of several "
                  "members (every member gets the same): it authenticates "
                  "the members to each other");
        return -EINVAL;
    }
    (void)snprintf(path, sizeof path, "%s/token", o->cfg.data_dir);
    if (access(path, F_OK) == 0) {
        /* Read as the admin commands read it, or they would disagree. */
        const char *why = admin_read_token_file(path, buf, size);
        if (why == NULL)
            return 0;
        log_error("master", "%s: %s", path, why);
        return -EINVAL;
    }
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -EIO;
    for (size_t i = 0; i < sizeof raw && 2 * i + 2 < size; i++)
        (void)snprintf(buf + 2 * i, 3, "%02x", raw[i]);
    /* Synced before it is used: a token lost in a power cut would lock
     * the member out of the CA sealed with it (found by jepsen's unsyncfs). */
    struct err e = {0};
    if (file_write_atomic(path, buf, strlen(buf), 0600, &e) != 0) {
        log_error("master", "cannot write the token: %s", e.msg);
        return -EIO;
    }
    return 0;
}

static int start_api(struct master *m, const struct options *o,
                     const char *token)
{
    struct srv_api_config cfg = {
        .listen = o->api_listen,
        .token = token,
        .data_dir = o->cfg.data_dir,
        .service_cidr = o->service_cidr,
        .encryption_config = o->encryption_config,
        .token_auth_file = o->token_auth_file,
        .audit_log_path = o->audit_log_path,
        .audit_policy_file = o->audit_policy_file,
        .no_anonymous = o->no_anonymous,
        .max_inflight = o->max_inflight,
        .endpoint_lease_s = o->endpoint_lease_s,
        .max_mutating = o->max_mutating,
        .on_fatal = api_fatal,
        .data = m,
    };
    struct err e = {0};
    int rv;

    if (o->api_listen == NULL)
        return 0;
    rv = srv_api_start(&m->loop, m->repl, &cfg, &m->api, &e);
    if (rv != 0)
        log_error("master", "%s", e.msg);
    return rv;
}

static int ensure_dir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    log_error("master", "cannot create --data-dir %s: %s", path,
              strerror(errno));
    return -errno;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    struct master m = {0};
    struct err e = {0};
    char token[256];
    int rv;

    log_init_from_env();
    /* A peer that goes away mid-write must cost an EPIPE, not the process. */
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && admin_is_command(argv[1]))
        return admin_main(argc - 1, argv + 1);
    if ((rv = parse_options(argc, argv, &o)) != 0)
        return rv;
    if (ensure_dir(o.cfg.data_dir) != 0)
        return 1;
    if (load_token(&o, token, sizeof token) != 0)
        return 1;
    o.cfg.token = token;
    uv_loop_init(&m.loop);
    if (repl_new(&m.loop, &o.cfg, &m.repl, &e) != 0) {
        explicit_bzero(token, sizeof token);
        log_error("master", "%s", e.msg);
        return 1;
    }
    if (repl_start(m.repl, &e) != 0) {
        explicit_bzero(token, sizeof token);
        log_error("master", "%s", e.msg);
        repl_close(m.repl, on_closed);
        uv_run(&m.loop, UV_RUN_DEFAULT);
        repl_free(m.repl);
        (void)uv_loop_close(&m.loop);
        return 1;
    }
    uv_signal_init(&m.loop, &m.sigterm);
    uv_signal_init(&m.loop, &m.sigint);
    m.sigterm.data = m.sigint.data = &m;
    uv_signal_start(&m.sigterm, on_signal, SIGTERM);
    uv_signal_start(&m.sigint, on_signal, SIGINT);
    if (start_api(&m, &o, token) != 0) {
        m.exit_code = 1;
        shut_down(&m);
    }
    explicit_bzero(token, sizeof token);
    uv_run(&m.loop, UV_RUN_DEFAULT);
    repl_free(m.repl);
    rv = uv_loop_close(&m.loop);
    if (rv != 0)
        log_warn("master", "loop closed with handles open: %s", uv_strerror(rv));
    log_info("master", "stopped");
    return m.exit_code;
}
