/* jepsen/workload: the workloads as a command (workload.h).
 *
 * usage: jepsen/workload --kubeconfig FILE --out HISTORY
 *          [--workload register|set|watch|list|monotonic] [--final-read]
 *          [--server URL]... [--namespace NS] [--clients N] [--keys N]
 *          [--ops-per-key N] [--values N] [--generation-size N]
 *          [--watchers N] [--time-limit S] [--timeout-ms MS]
 * Exit status: 0 the run completed (check the history with jepsen/check),
 * 1 it could not run, 2 bad usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jepsen/workload.h"

static const char usage_text[] =
    "usage: workload --kubeconfig FILE --out HISTORY\n"
    "         [--workload register|set|watch|list|monotonic] [--final-read]\n"
    "         [--server URL]... [--namespace NS] [--clients N] [--keys N]\n"
    "         [--ops-per-key N] [--values N] [--generation-size N]\n"
    "         [--watchers N] [--time-limit S] [--timeout-ms MS]\n"
    "Clients run the workload for --time-limit seconds, client i on the\n"
    "i-th --server (round robin), and log the history for jepsen/check:\n"
    "register: read, write and cas of registers (ConfigMaps); set: adds of\n"
    "unique values; watch: the register's writes and --watchers watchers\n"
    "(default one per --server) logging every change; list: adds in\n"
    "generations of --generation-size (default 50) and paged lists of\n"
    "them; monotonic: the register's operations and lists, each through a\n"
    "--server at random. --final-read appends the set's (or list's) final\n"
    "read through every --server (retried for --time-limit seconds).\n";

static unsigned number(const char *flag, const char *s, unsigned max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0 || v > max) {
        fprintf(stderr, "workload: %s wants a number from 1 to %u, not "
                "'%s'\n", flag, max, s);
        exit(2);
    }
    return (unsigned)v;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kubeconfig", required_argument, NULL, 'k'},
        {"out", required_argument, NULL, 'o'},
        {"server", required_argument, NULL, 's'},
        {"namespace", required_argument, NULL, 'n'},
        {"clients", required_argument, NULL, 'c'},
        {"keys", required_argument, NULL, 'K'},
        {"ops-per-key", required_argument, NULL, 'p'},
        {"values", required_argument, NULL, 'v'},
        {"time-limit", required_argument, NULL, 't'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"workload", required_argument, NULL, 'w'},
        {"final-read", no_argument, NULL, 'f'},
        {"generation-size", required_argument, NULL, 'g'},
        {"watchers", required_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *servers[64], *out_path = NULL, *workload = "register";
    int final_read = 0;
    struct jep_workload_opts o = {.ns = "jepsen", .clients = 10, .keys = 3,
                                  .ops_per_key = 300, .values = 5,
                                  .time_limit_ms = 30000,
                                  .timeout_ms = 5000, .gen_size = 50,
                                  .servers = servers};
    struct jep_workload_stats st = {0};
    struct err e = {0};
    FILE *out;
    int opt;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'k': o.kubeconfig = optarg; break;
        case 'o': out_path = optarg; break;
        case 's':
            if (o.n_servers == 64) {
                fputs("workload: at most 64 --server\n", stderr);
                return 2;
            }
            servers[o.n_servers++] = optarg;
            break;
        case 'n': o.ns = optarg; break;
        case 'c': o.clients = number("--clients", optarg, 1000); break;
        case 'K': o.keys = number("--keys", optarg, 1000); break;
        case 'p': o.ops_per_key = number("--ops-per-key", optarg, 100000); break;
        case 'v': o.values = number("--values", optarg, 1000000); break;
        case 't': o.time_limit_ms = number("--time-limit", optarg, 86400) * 1000; break;
        case 'T': o.timeout_ms = number("--timeout-ms", optarg, 3600000); break;
        case 'w': workload = optarg; break;
        case 'f': final_read = 1; break;
        case 'g': o.gen_size = number("--generation-size", optarg, 100000); break;
        case 'W': o.watchers = number("--watchers", optarg, 1000); break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (o.kubeconfig == NULL || out_path == NULL || optind != argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (strcmp(workload, "register") != 0 && strcmp(workload, "set") != 0 &&
        strcmp(workload, "watch") != 0 && strcmp(workload, "list") != 0 &&
        strcmp(workload, "monotonic") != 0) {
        fprintf(stderr, "workload: '%s' is not register, set, watch, list or "
                "monotonic\n", workload);
        return 2;
    }
    if (final_read && strcmp(workload, "set") != 0 &&
        strcmp(workload, "list") != 0) {
        fputs("workload: --final-read is for the set and list workloads\n",
              stderr);
        return 2;
    }
    /* A final read appends to the history of the run before it. */
    if ((out = fopen(out_path, final_read ? "a" : "w")) == NULL) {
        fprintf(stderr, "workload: %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    int rv = final_read ? jep_set_final_read(&o, out, &e)
                        : jep_workload_run(workload, &o, out, &st, &e);
    if (rv != 0) {
        fprintf(stderr, "workload: %s\n", e.msg);
        fclose(out);
        return 1;
    }
    if (fclose(out) != 0) {
        fprintf(stderr, "workload: %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    if (final_read)
        printf("final read done\n");
    else
        printf("%lu ok, %lu failed, %lu unknown%s%s%s\n", st.ok, st.fail,
               st.info, st.why[0] ? " (" : "", st.why, st.why[0] ? ")" : "");
    return 0;
}
