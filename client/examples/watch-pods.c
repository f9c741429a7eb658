/* watch-pods: print pod changes in a namespace as they happen, like
 * `kubectl get pods --watch`, surviving server restarts and failovers.
 * Build: cc watch-pods.c $(pkg-config --cflags --libs c8s)
 *
 * usage: watch-pods [--kubeconfig FILE] [-n NAMESPACE] [--seconds N]
 * Exit status: 0 after --seconds (default: run until killed), 1 on an
 * error (printed), 2 bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <c8s/c8s.h>

static int usage(FILE *to, int status)
{
    fprintf(to, "usage: watch-pods [--kubeconfig FILE] [-n NAMESPACE] "
                "[--seconds N]\n");
    return status;
}

int main(int argc, char **argv)
{
    static const char *const types[] = {"ADDED", "MODIFIED", "DELETED"};
    struct c8s_kubeconfig_opts ko = {0};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *client = NULL;
    struct c8s_watch *w = NULL;
    struct c8s_error err = {0};
    char path[512];
    long seconds = -1;
    int status = 1;

    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(argv[i], "--help") == 0)
            return usage(stdout, 0);
        if (next == NULL)
            return usage(stderr, 2);
        if (strcmp(argv[i], "--kubeconfig") == 0)
            ko.kubeconfig = next;
        else if (strcmp(argv[i], "-n") == 0)
            ko.ns = next;
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtol(next, NULL, 10);
        else
            return usage(stderr, 2);
        i++;
    }
    if (c8s_kubeconfig_load(&ko, &kc, &err) != 0 ||
        c8s_client_new(kc, NULL, &client, &err) != 0)
        goto out;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods",
             c8s_kubeconfig_namespace(kc));
    /* No resourceVersion: the server sends the pods there are as ADDED,
     * then the changes. */
    if (c8s_watch_open(client, path, NULL, &w, &err) != 0)
        goto out;
    time_t end = seconds >= 0 ? time(NULL) + seconds : 0;
    for (;;) {
        struct c8s_event ev;
        int rv = c8s_watch_next(w, 1000, &ev, &err);

        if (rv == 0) {
            printf("%-9s %-40s %s\n", types[ev.type],
                   c8s_obj_str(c8s_obj_path(ev.object, "metadata.name"), ""),
                   c8s_obj_str(c8s_obj_path(ev.object, "status.phase"), ""));
            fflush(stdout);
            c8s_obj_free(ev.object);
        } else if (rv != -ETIMEDOUT) {
            goto out; /* e.g. -C8S_ECOMPACTED: an informer would relist */
        }
        if (end != 0 && time(NULL) >= end)
            break;
    }
    status = 0;
out:
    if (status != 0)
        fprintf(stderr, "watch-pods: %s\n", err.message);
    c8s_watch_close(w);
    c8s_client_free(client);
    c8s_kubeconfig_free(kc);
    return status;
}
