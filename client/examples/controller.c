/* controller: the skeleton of a controller on libc8s. One replica of it
 * leads (a Lease); the leader keeps an informer on ConfigMaps of a
 * namespace, turns every change into a key on a work queue, and a worker
 * "reconciles" each key, here by printing what the cache holds for it.
 * Failures would go back on the queue with backoff (add_rate_limited).
 * Build: cc controller.c $(pkg-config --cflags --libs c8s)
 *
 * usage: controller [--kubeconfig FILE] [-n NAMESPACE] [--id NAME]
 *                   [--seconds N]
 * Exit status: 0 after --seconds (default 60), 1 on an error, 2 bad
 * usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <c8s/c8s.h>

static struct c8s_workqueue *queue;

static void enqueue(const struct c8s_obj *o)
{
    char key[512];

    snprintf(key, sizeof key, "%s/%s",
             c8s_obj_str(c8s_obj_path(o, "metadata.namespace"), ""),
             c8s_obj_str(c8s_obj_path(o, "metadata.name"), ""));
    (void)c8s_workqueue_add(queue, key);
}

static void on_add(void *data, const struct c8s_obj *o)
{
    (void)data;
    enqueue(o);
}

static void on_update(void *data, const struct c8s_obj *old,
                      const struct c8s_obj *o)
{
    (void)data;
    (void)old;
    enqueue(o);
}

static void on_delete(void *data, const struct c8s_obj *o)
{
    (void)data;
    enqueue(o);
}

/* Bring the world in line with @key's object; 0 when done. */
static int reconcile(struct c8s_informer *inf, const char *key)
{
    char ns[256];
    const char *slash = strchr(key, '/');
    const struct c8s_obj *o;

    snprintf(ns, sizeof ns, "%.*s", (int)(slash - key), key);
    o = c8s_informer_get(inf, ns, slash + 1);
    printf("reconcile %s: %s\n", key,
           o != NULL ? c8s_obj_str(c8s_obj_path(o, "metadata.resourceVersion"),
                                   "")
                     : "deleted");
    fflush(stdout);
    return 0;
}

static int usage(FILE *to, int status)
{
    fprintf(to, "usage: controller [--kubeconfig FILE] [-n NAMESPACE] "
                "[--id NAME] [--seconds N]\n");
    return status;
}

int main(int argc, char **argv)
{
    struct c8s_kubeconfig_opts ko = {0};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *client = NULL;
    struct c8s_informer *inf = NULL;
    struct c8s_leader *leader = NULL;
    struct c8s_error err = {0};
    char path[512], id[128];
    long seconds = 60;
    int status = 1;

    snprintf(id, sizeof id, "controller-%ld", (long)getpid());
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
        else if (strcmp(argv[i], "--id") == 0)
            snprintf(id, sizeof id, "%s", next);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtol(next, NULL, 10);
        else
            return usage(stderr, 2);
        i++;
    }
    if (c8s_kubeconfig_load(&ko, &kc, &err) != 0 ||
        c8s_client_new(kc, NULL, &client, &err) != 0 ||
        c8s_workqueue_new(NULL, &queue) != 0)
        goto out;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps",
             c8s_kubeconfig_namespace(kc));
    struct c8s_leader_opts lo = {.ns = c8s_kubeconfig_namespace(kc),
                                 .name = "example-controller",
                                 .identity = id};
    struct c8s_informer_opts io = {.path = path, .resync_ms = 30000};
    struct c8s_informer_handlers h = {
        .on_add = on_add, .on_update = on_update, .on_delete = on_delete};
    if (c8s_leader_new(client, &lo, &leader, &err) != 0 ||
        c8s_informer_new(client, &io, &h, &inf, &err) != 0)
        goto out;

    time_t end = time(NULL) + seconds;
    while (time(NULL) < end) {
        bool leads = false;
        char *key;

        (void)c8s_leader_step(leader, &leads, &err);
        if (!leads) { /* another replica works; wait our turn */
            usleep((useconds_t)c8s_leader_retry_ms(leader) * 1000);
            continue;
        }
        /* Between renewals: follow the cluster, then work the queue. */
        if (c8s_informer_run(inf, c8s_leader_retry_ms(leader) / 2, &err) != 0)
            goto out;
        while (c8s_workqueue_get(queue, 0, &key) == 0) {
            if (reconcile(inf, key) == 0)
                c8s_workqueue_forget(queue, key);
            else
                (void)c8s_workqueue_add_rate_limited(queue, key);
            c8s_workqueue_done(queue, key);
            free(key);
        }
    }
    (void)c8s_leader_release(leader, NULL);
    status = 0;
out:
    if (status != 0)
        fprintf(stderr, "controller: %s\n", err.message);
    c8s_informer_free(inf);
    c8s_leader_free(leader);
    c8s_workqueue_free(queue);
    c8s_client_free(client);
    c8s_kubeconfig_free(kc);
    return status;
}
