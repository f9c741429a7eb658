/* list-pods: the pods of a namespace, like `kubectl get pods`, through
 * libc8s. Build: cc list-pods.c $(pkg-config --cflags --libs c8s)
 *
 * usage: list-pods [--kubeconfig FILE] [--context NAME] [-n NAMESPACE]
 * Exit status: 0 listed, 1 failed (the error is printed), 2 bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <c8s/c8s.h>
#include <c8s/object.h>

static int usage(FILE *to, int status)
{
    fprintf(to, "usage: list-pods [--kubeconfig FILE] [--context NAME] "
                "[-n NAMESPACE]\n");
    return status;
}

int main(int argc, char **argv)
{
    struct c8s_kubeconfig_opts ko = {0};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_client *client = NULL;
    struct c8s_response resp = {0};
    struct c8s_obj *list = NULL;
    struct c8s_error err = {0};
    char path[512];
    int status = 1;

    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(argv[i], "--help") == 0)
            return usage(stdout, 0);
        if (next == NULL)
            return usage(stderr, 2);
        if (strcmp(argv[i], "--kubeconfig") == 0)
            ko.kubeconfig = next;
        else if (strcmp(argv[i], "--context") == 0)
            ko.context = next;
        else if (strcmp(argv[i], "-n") == 0 ||
                 strcmp(argv[i], "--namespace") == 0)
            ko.ns = next;
        else
            return usage(stderr, 2);
        i++;
    }
    if (c8s_kubeconfig_load(&ko, &kc, &err) != 0 ||
        c8s_client_new(kc, NULL, &client, &err) != 0)
        goto out;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods",
             c8s_kubeconfig_namespace(kc));
    if (c8s_request(client, "GET", path, NULL, NULL, 0, &resp, &err) != 0 ||
        c8s_obj_from_json(resp.body, resp.body_len, &list, &err) != 0)
        goto out;
    const struct c8s_obj *items = c8s_obj_path(list, "items");
    printf("%-40s %s\n", "NAME", "STATUS");
    for (size_t i = 0; i < c8s_obj_len(items); i++) {
        const struct c8s_obj *pod = c8s_obj_at(items, i);

        printf("%-40s %s\n", c8s_obj_str(c8s_obj_path(pod, "metadata.name"), ""),
               c8s_obj_str(c8s_obj_path(pod, "status.phase"), "Unknown"));
    }
    status = 0;
out:
    if (status != 0)
        fprintf(stderr, "list-pods: %s\n", err.message);
    c8s_obj_free(list);
    c8s_response_clear(&resp);
    c8s_client_free(client);
    c8s_kubeconfig_free(kc);
    return status;
}
