/* count-objects: how many pods, services, configmaps and secrets the
 * cluster holds, asking for all four at once on a libuv loop
 * (c8s/async.h). Build:
 *   cc count-objects.c $(pkg-config --cflags --libs c8s libuv)
 *
 * usage: count-objects [--kubeconfig FILE] [--context NAME]
 * Exit status: 0 counted, 1 a request failed (the error is printed), 2 bad
 * usage. */
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include <c8s/async.h>
#include <c8s/c8s.h>
#include <c8s/object.h>

static const char *const resources[] = {"pods", "services", "configmaps",
                                        "secrets"};

struct count {
    const char *resource;
    int *failures;
};

static void counted(int rv, struct c8s_response *resp,
                    const struct c8s_error *err, void *data)
{
    struct count *c = data;
    struct c8s_obj *list = NULL;
    struct c8s_error perr = {0};

    if (rv != 0) {
        fprintf(stderr, "count-objects: %s\n", err->message);
        (*c->failures)++;
        return;
    }
    if (c8s_obj_from_json(resp->body, resp->body_len, &list, &perr) != 0) {
        fprintf(stderr, "count-objects: %s\n", perr.message);
        (*c->failures)++;
        return;
    }
    printf("%-12s %zu\n", c->resource,
           c8s_obj_len(c8s_obj_path(list, "items")));
    c8s_obj_free(list);
}

static int usage(FILE *to, int status)
{
    fprintf(to, "usage: count-objects [--kubeconfig FILE] [--context NAME]\n");
    return status;
}

int main(int argc, char **argv)
{
    struct c8s_kubeconfig_opts ko = {0};
    struct c8s_kubeconfig *kc = NULL;
    struct c8s_async *a = NULL;
    struct c8s_error err = {0};
    struct count counts[4];
    char path[64];
    int failures = 0;
    uv_loop_t loop;

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
        else
            return usage(stderr, 2);
        i++;
    }
    if (uv_loop_init(&loop) != 0)
        return 1;
    if (c8s_kubeconfig_load(&ko, &kc, &err) != 0 ||
        c8s_async_new(&loop, kc, NULL, &a, &err) != 0) {
        fprintf(stderr, "count-objects: %s\n", err.message);
        c8s_kubeconfig_free(kc);
        (void)uv_loop_close(&loop);
        return 1;
    }
    c8s_kubeconfig_free(kc);
    for (size_t i = 0; i < 4; i++) {
        counts[i] = (struct count){resources[i], &failures};
        snprintf(path, sizeof path, "/api/v1/%s", resources[i]);
        if (c8s_async_request(a, "GET", path, NULL, NULL, 0, counted,
                              &counts[i], NULL, &err) != 0) {
            fprintf(stderr, "count-objects: %s\n", err.message);
            failures++;
        }
    }
    (void)uv_run(&loop, UV_RUN_DEFAULT); /* until all four are answered */
    c8s_async_close(a, NULL, NULL);
    (void)uv_run(&loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&loop);
    return failures == 0 ? 0 : 1;
}
