/* c8sctl: the admin tool, on libc8s. kubectl's everyday verbs for scripts
 * (get, apply, delete, watch) and what kubectl cannot do: the state of the
 * cluster's members (cluster status) and its membership (member ...).
 *
 * Exit status: 0 success, 1 failure (the message says what and where), 2
 * bad usage. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <c8s/c8s.h>
#include <c8s/discovery.h>

#include "cmd/admin.h"
#include "raft/repl.h"
#include "store/store.h"

static const char usage_text[] =
    "usage: c8sctl [global flags] COMMAND ...\n"
    "\n"
    "Commands:\n"
    "  get RESOURCE [NAME...] [-o json|yaml|name] [-l SELECTOR] [-A]\n"
    "  apply -f FILE|DIR|-   create what is missing, replace what exists\n"
    "  delete RESOURCE NAME... | delete -f FILE|DIR|-\n"
    "  watch RESOURCE [-l SELECTOR] [-A]   print changes as they happen\n"
    "  cluster status        each API server: ready, raft role, term,\n"
    "                        commit/applied index, store revision, lag\n"
    "  cluster up [--masters 1|3|5] [--dir DIR] [--base-port P]\n"
    "                        start a local cluster on loopback in the\n"
    "                        background, members supervised; prints the\n"
    "                        kubeconfig (DIR/admin.kubeconfig, default\n"
    "                        ./local-cluster); idempotent\n"
    "  cluster down [--dir DIR]   stop it, leaving no process behind\n"
    "  snapshot save FILE    the whole store (every key and its history, at\n"
    "                        a linearizable point) from any master, checked\n"
    "                        and written atomically\n"
    "  snapshot status FILE  check a snapshot file: revision, keys, size\n"
    "  snapshot restore FILE --data-dir DIR --name NAME --peer-listen H:P\n"
    "                        a new member's data dir from FILE: start\n"
    "                        c8s-master there with the same --name,\n"
    "                        --peer-listen and the old cluster's --token;\n"
    "                        it leads a one-member cluster with the saved\n"
    "                        objects and revisions (add members after)\n"
    "  status --peer HOST:PORT, member list|add|remove ... --peer HOST:PORT\n"
    "                        raft membership, as `c8s-master member`\n"
    "  version\n"
    "\n"
    "Global flags (kubectl's): --kubeconfig FILE, --context NAME,\n"
    "  --server URL, -n/--namespace NS, --request-timeout SECONDS\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 bad usage.\n";

struct ctx {
    struct c8s_kubeconfig_opts ko;
    int timeout_s;
    struct c8s_kubeconfig *kc;
    struct c8s_client *c;
    struct c8s_discovery *d;
    /* per-command flags */
    const char *output, *selector, *file;
    bool all_namespaces;
};

static int die_usage(const char *why, const char *arg)
{
    fprintf(stderr, "c8sctl: %s%s%s%s\nRun 'c8sctl --help' for usage.\n", why,
            arg[0] != '\0' ? " '" : "", arg, arg[0] != '\0' ? "'" : "");
    return 2;
}

static int report(const struct c8s_error *err)
{
    fprintf(stderr, "c8sctl: %s\n",
            err->message[0] != '\0' ? err->message : c8s_strerror(err->code));
    return 1;
}

static int connect_api(struct ctx *x, bool discovery, struct c8s_error *err)
{
    struct c8s_client_opts co = {.timeout_ms = x->timeout_s * 1000};

    if (c8s_kubeconfig_load(&x->ko, &x->kc, err) != 0 ||
        c8s_client_new(x->kc, &co, &x->c, err) != 0)
        return -1;
    if (discovery && c8s_discovery_new(x->c, &x->d, err) != 0)
        return -1;
    return 0;
}

static const char *ns_of(const struct ctx *x)
{
    return x->all_namespaces ? NULL : c8s_kubeconfig_namespace(x->kc);
}

/* ---- get -------------------------------------------------------------------*/

/* kubectl's name for an object: "deployment.apps/web". */
static const char *display(const struct c8s_resource *r, char *buf,
                           size_t size, const char *name)
{
    char lower[128];

    snprintf(lower, sizeof lower, "%s", r->kind);
    for (char *p = lower; *p != '\0'; p++)
        *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    snprintf(buf, size, "%s%s%s/%s", lower, r->group[0] != '\0' ? "." : "",
             r->group, name);
    return buf;
}


static void print_obj(const struct ctx *x, const struct c8s_resource *r,
                      const struct c8s_obj *o)
{
    char *text = NULL;

    if (strcmp(x->output, "json") == 0) {
        if (c8s_obj_to_json_indented(o, &text, NULL) == 0)
            fputs(text, stdout);
    } else if (strcmp(x->output, "yaml") == 0) {
        if (c8s_obj_to_yaml(o, &text, NULL) == 0)
            fputs(text, stdout);
    } else if (strcmp(x->output, "name") == 0) {
        char shown[512];

        printf("%s\n", display(r, shown, sizeof shown,
                               c8s_obj_str(c8s_obj_path(o, "metadata.name"),
                                           "")));
    }
    free(text);
}

/* "5d", "3h", "12m", "40s" since an RFC 3339 timestamp, like kubectl. */
static void age(const char *ts, char out[32])
{
    struct tm tm = {0};
    long s;

    if (strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL) {
        snprintf(out, 32, "<unknown>");
        return;
    }
    s = (long)difftime(time(NULL), timegm(&tm));
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(out, 32, "%lds", s);
    else if (s < 7200)
        snprintf(out, 32, "%ldm", s / 60);
    else if (s < 172800)
        snprintf(out, 32, "%ldh", s / 3600);
    else
        snprintf(out, 32, "%ldd", s / 86400);
}

static void print_header(const struct ctx *x)
{
    if (x->all_namespaces)
        printf("%-20s ", "NAMESPACE");
    printf("%-40s %s\n", "NAME", "AGE");
}

static void print_row(const struct ctx *x, const struct c8s_obj *o)
{
    char a[32];

    age(c8s_obj_str(c8s_obj_path(o, "metadata.creationTimestamp"), ""), a);
    if (x->all_namespaces)
        printf("%-20s ", c8s_obj_str(c8s_obj_path(o, "metadata.namespace"), ""));
    printf("%-40s %s\n", c8s_obj_str(c8s_obj_path(o, "metadata.name"), ""), a);
}

struct walk {
    const struct ctx *x;
    const struct c8s_resource *r;
    size_t n;
};

static int print_each(void *data, const struct c8s_obj *o)
{
    struct walk *w = data;

    if (w->x->output[0] != '\0')
        print_obj(w->x, w->r, o);
    else {
        if (w->n == 0)
            print_header(w->x);
        print_row(w->x, o);
    }
    w->n++;
    return 0;
}

static int get_one(struct ctx *x, const struct c8s_resource *r,
                   const char *ns, const char *name, struct c8s_obj **ret,
                   struct c8s_error *err)
{
    char path[1024];
    struct c8s_response resp = {0};
    int rv;

    if (c8s_resource_path(r, ns, name, path, sizeof path) != 0) {
        err->code = -ENAMETOOLONG;
        snprintf(err->message, sizeof err->message, "name too long");
        return -1;
    }
    rv = c8s_request(x->c, "GET", path, NULL, NULL, 0, &resp, err);
    if (rv == 0)
        rv = c8s_obj_from_json(resp.body, resp.body_len, ret, err);
    c8s_response_clear(&resp);
    return rv;
}

static int cmd_get(struct ctx *x, int argc, char **argv)
{
    struct c8s_resource r;
    struct c8s_error err = {0};
    struct c8s_obj *o = NULL;
    int status = 0;

    if (argc < 1)
        return die_usage("get needs a resource type", "");
    if (connect_api(x, true, &err) != 0 ||
        c8s_discovery_find(x->d, argv[0], &r, &err) != 0)
        return report(&err);
    if (argc > 1) { /* named objects */
        for (int i = 1; i < argc; i++) {
            if (get_one(x, &r, c8s_kubeconfig_namespace(x->kc), argv[i], &o,
                        &err) != 0) {
                status = report(&err);
                continue;
            }
            if (x->output[0] != '\0') {
                print_obj(x, &r, o);
            } else {
                if (i == 1)
                    print_header(x);
                print_row(x, o);
            }
            c8s_obj_free(o);
            o = NULL;
        }
        return status;
    }
    /* The whole collection, all pages. */
    struct c8s_list_opts lo = {.label_selector = x->selector};
    struct walk w = {.x = x, .r = &r};

    if (c8s_list(x->c, &r, ns_of(x), &lo, print_each, &w, NULL, 0, &err) != 0)
        return report(&err);
    if (w.n == 0 && x->output[0] == '\0')
        fprintf(stderr, "No resources found\n");
    return 0;
}

/* ---- reading manifests -----------------------------------------------------*/

static int read_all(FILE *f, size_t max, char **ret, size_t *ret_len)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);

    while (buf != NULL) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);

        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) {
            char *b = cap > max ? NULL : realloc(buf, cap * 2);

            if (b == NULL) {
                free(buf);
                return -EFBIG;
            }
            buf = b;
            cap *= 2;
        }
    }
    if (buf == NULL)
        return -ENOMEM;
    if (ferror(f)) {
        free(buf);
        return -EIO;
    }
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    return 0;
}

typedef int (*doc_fn)(struct ctx *x, const char *source, struct c8s_obj *doc);

static int each_doc_in(struct ctx *x, const char *file, doc_fn fn)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    struct c8s_obj *docs = NULL;
    struct c8s_error err = {0};
    char *text;
    size_t len;
    int rv, status = 0;

    if (f == NULL) {
        fprintf(stderr, "c8sctl: %s: %s\n", file, strerror(errno));
        return 1;
    }
    rv = read_all(f, (size_t)64 << 20, &text, &len);
    if (f != stdin)
        fclose(f);
    if (rv != 0) {
        fprintf(stderr, "c8sctl: %s: %s\n", file, strerror(-rv));
        return 1;
    }
    rv = c8s_obj_from_yaml_all(text, len, &docs, &err);
    free(text);
    if (rv != 0) {
        fprintf(stderr, "c8sctl: %s: %s\n", file, err.message);
        return 1;
    }
    for (size_t i = 0; i < c8s_obj_len(docs); i++) {
        const struct c8s_obj *d = c8s_obj_at(docs, i);

        if (c8s_obj_type(d) == C8S_OBJ_NULL)
            continue; /* an empty document */
        if (c8s_obj_type(d) != C8S_OBJ_MAP) {
            fprintf(stderr, "c8sctl: %s: document %zu is not an object\n",
                    file, i + 1);
            status = 1;
            continue;
        }
        if (fn(x, file, c8s_obj_ref(d)) != 0)
            status = 1;
    }
    c8s_obj_free(docs);
    return status;
}

static int manifest_suffix(const char *name)
{
    size_t n = strlen(name);

    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
           (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The documents of a file, of "-" (stdin), or of every .yaml, .yml and
 * .json file of a directory in name order (as kubectl -f DIR). */
static int each_doc(struct ctx *x, const char *path, doc_fn fn)
{
    struct stat st;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    int status = 0;
    DIR *dir;

    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return each_doc_in(x, path, fn);
    if ((dir = opendir(path)) == NULL) {
        fprintf(stderr, "c8sctl: %s: %s\n", path, strerror(errno));
        return 1;
    }
    while ((de = readdir(dir)) != NULL)
        if (de->d_name[0] != '.' && manifest_suffix(de->d_name)) {
            char **v = realloc(names, (n + 1) * sizeof *v);

            if (v == NULL)
                break;
            names = v;
            if (asprintf(&names[n], "%s/%s", path, de->d_name) >= 0)
                n++;
        }
    closedir(dir);
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        status |= each_doc_in(x, names[i], fn);
        free(names[i]);
    }
    free(names);
    if (n == 0)
        fprintf(stderr, "c8sctl: %s: no .yaml, .yml or .json files\n", path);
    return n == 0 ? 1 : status;
}

/* The resource and namespace of a manifest's object. */
static int doc_target(struct ctx *x, const char *source, struct c8s_obj **doc,
                      struct c8s_resource *r, const char **ns,
                      const char **name)
{
    struct c8s_error err = {0};
    const char *av = c8s_obj_str(c8s_obj_path(*doc, "apiVersion"), "");
    const char *kind = c8s_obj_str(c8s_obj_path(*doc, "kind"), "");

    *name = c8s_obj_str(c8s_obj_path(*doc, "metadata.name"), "");
    if (av[0] == '\0' || kind[0] == '\0' || (*name)[0] == '\0') {
        fprintf(stderr, "c8sctl: %s: an object needs apiVersion, kind and "
                        "metadata.name\n", source);
        return -1;
    }
    if (c8s_discovery_for_kind(x->d, av, kind, r, &err) != 0) {
        fprintf(stderr, "c8sctl: %s: %s\n", source, err.message);
        return -1;
    }
    *ns = c8s_obj_str(c8s_obj_path(*doc, "metadata.namespace"), "");
    if (r->namespaced && (*ns)[0] == '\0') {
        if (c8s_obj_set_str(doc, "metadata.namespace",
                            c8s_kubeconfig_namespace(x->kc)) != 0)
            return -1;
        *ns = c8s_kubeconfig_namespace(x->kc);
        *name = c8s_obj_str(c8s_obj_path(*doc, "metadata.name"), "");
    }
    return 0;
}

/* ---- apply, delete ---------------------------------------------------------*/

/* Does @cur hold everything @want says (fields @want leaves out, such as
 * defaults and status, may differ)? Then applying @want changes nothing. */
static bool holds(const struct c8s_obj *cur, const struct c8s_obj *want)
{
    enum c8s_obj_type t = c8s_obj_type(want);

    if (c8s_obj_type(cur) != t)
        return false;
    switch (t) {
    case C8S_OBJ_MAP:
        for (size_t i = 0; i < c8s_obj_len(want); i++) {
            const char *k = c8s_obj_key(want, i);
            const struct c8s_obj *c = NULL;

            for (size_t j = 0; j < c8s_obj_len(cur) && c == NULL; j++)
                if (strcmp(c8s_obj_key(cur, j), k) == 0)
                    c = c8s_obj_at(cur, j);
            if (!holds(c, c8s_obj_at(want, i)))
                return false;
        }
        return true;
    case C8S_OBJ_ARRAY:
        if (c8s_obj_len(cur) != c8s_obj_len(want))
            return false;
        for (size_t i = 0; i < c8s_obj_len(want); i++)
            if (!holds(c8s_obj_at(cur, i), c8s_obj_at(want, i)))
                return false;
        return true;
    case C8S_OBJ_STRING:
        return strcmp(c8s_obj_str(cur, ""), c8s_obj_str(want, "")) == 0;
    case C8S_OBJ_BOOL:
        return c8s_obj_bool(cur, false) == c8s_obj_bool(want, false);
    case C8S_OBJ_INT:
        return c8s_obj_int(cur, 0) == c8s_obj_int(want, 0);
    default: { /* null, floats: compare their JSON */
        char *a = NULL, *b = NULL;
        bool same = c8s_obj_to_json(cur, &a, NULL) == 0 &&
                    c8s_obj_to_json(want, &b, NULL) == 0 && strcmp(a, b) == 0;

        free(a);
        free(b);
        return same;
    }
    }
}

static int apply_doc(struct ctx *x, const char *source, struct c8s_obj *doc)
{
    struct c8s_resource r;
    struct c8s_error err = {0};
    struct c8s_response resp = {0};
    struct c8s_obj *cur = NULL;
    const char *ns, *name;
    char path[1024], shown[512], *body = NULL;
    size_t len;
    int rv = -1;

    if (doc_target(x, source, &doc, &r, &ns, &name) != 0)
        goto out;
    display(&r, shown, sizeof shown, name);
    if (c8s_resource_path(&r, ns, name, path, sizeof path) != 0)
        goto out;
    rv = get_one(x, &r, ns, name, &cur, &err);
    if (rv == -C8S_ENOTFOUND) {
        rv = -ENOMEM;
        if (c8s_resource_path(&r, ns, NULL, path, sizeof path) != 0 ||
            c8s_obj_to_json(doc, &body, &len) != 0)
            goto out;
        rv = c8s_request(x->c, "POST", path, NULL, body, len, &resp, &err);
        if (rv == 0)
            printf("%s created\n", shown);
    } else if (rv == 0) {
        /* Replace, conditional on the version read: a concurrent change
         * makes this fail rather than be overwritten. */
        const char *was = c8s_obj_str(
            c8s_obj_path(cur, "metadata.resourceVersion"), "");

        if (holds(cur, doc)) {
            printf("%s unchanged\n", shown);
            goto out;
        }
        rv = -ENOMEM;
        if (c8s_obj_set_str(&doc, "metadata.resourceVersion", was) != 0 ||
            c8s_obj_to_json(doc, &body, &len) != 0)
            goto out;
        rv = c8s_request(x->c, "PUT", path, NULL, body, len, &resp, &err);
        if (rv == 0)
            printf("%s configured\n", shown);
    }
    if (rv != 0)
        fprintf(stderr, "c8sctl: %s: %s\n", source, err.message);
out:
    free(body);
    c8s_response_clear(&resp);
    c8s_obj_free(cur);
    c8s_obj_free(doc);
    return rv == 0 ? 0 : -1;
}

static int delete_one(struct ctx *x, const struct c8s_resource *r,
                      const char *ns, const char *name)
{
    struct c8s_error err = {0};
    struct c8s_response resp = {0};
    char path[1024], shown[512];
    int rv;

    if (c8s_resource_path(r, ns, name, path, sizeof path) != 0)
        return -1;
    rv = c8s_request(x->c, "DELETE", path, NULL, NULL, 0, &resp, &err);
    c8s_response_clear(&resp);
    if (rv != 0) {
        report(&err);
        return -1;
    }
    printf("%s deleted\n", display(r, shown, sizeof shown, name));
    return 0;
}

static int delete_doc(struct ctx *x, const char *source, struct c8s_obj *doc)
{
    struct c8s_resource r;
    const char *ns, *name;
    int rv = doc_target(x, source, &doc, &r, &ns, &name);

    if (rv == 0)
        rv = delete_one(x, &r, ns, name);
    c8s_obj_free(doc);
    return rv;
}

static int cmd_apply(struct ctx *x, int argc)
{
    struct c8s_error err = {0};

    if (x->file == NULL || argc > 0)
        return die_usage("apply takes -f FILE|DIR|- and nothing else", "");
    if (connect_api(x, true, &err) != 0)
        return report(&err);
    return each_doc(x, x->file, apply_doc);
}

static int cmd_delete(struct ctx *x, int argc, char **argv)
{
    struct c8s_resource r;
    struct c8s_error err = {0};
    int status = 0;

    if ((x->file == NULL) == (argc < 2))
        return die_usage("delete takes RESOURCE NAME... or -f FILE", "");
    if (connect_api(x, true, &err) != 0)
        return report(&err);
    if (x->file != NULL)
        return each_doc(x, x->file, delete_doc);
    if (c8s_discovery_find(x->d, argv[0], &r, &err) != 0)
        return report(&err);
    for (int i = 1; i < argc; i++)
        if (delete_one(x, &r, c8s_kubeconfig_namespace(x->kc), argv[i]) != 0)
            status = 1;
    return status;
}

/* ---- watch -----------------------------------------------------------------*/

static int cmd_watch(struct ctx *x, int argc, char **argv)
{
    static const char *const types[] = {"ADDED", "MODIFIED", "DELETED"};
    struct c8s_resource r;
    struct c8s_error err = {0};
    struct c8s_watch *w = NULL;
    char path[1024], q[2048];

    if (argc != 1)
        return die_usage("watch takes one resource type", "");
    if (connect_api(x, true, &err) != 0 ||
        c8s_discovery_find(x->d, argv[0], &r, &err) != 0 ||
        c8s_resource_path(&r, ns_of(x), NULL, path, sizeof path) != 0)
        return report(&err);
    char sel[1024] = "";

    if (x->selector != NULL &&
        c8s_url_escape(x->selector, sel, sizeof sel) < 0)
        return die_usage("the selector is too long", "");
    snprintf(q, sizeof q, "%s%s%s", path, sel[0] != '\0' ? "?labelSelector=" : "",
             sel);
    if (c8s_watch_open(x->c, q, NULL, &w, &err) != 0)
        return report(&err);
    for (;;) {
        struct c8s_event ev;
        int rv = c8s_watch_next(w, -1, &ev, &err);
        char shown[512];

        if (rv != 0) {
            c8s_watch_close(w);
            return report(&err);
        }
        printf("%-9s %s %s\n", types[ev.type],
               display(&r, shown, sizeof shown,
                       c8s_obj_str(c8s_obj_path(ev.object, "metadata.name"),
                                   "")),
               ev.resource_version);
        fflush(stdout);
        c8s_obj_free(ev.object);
    }
}

/* ---- cluster status --------------------------------------------------------*/

/* The value of metric @name in Prometheus text, or -1. */
static double metric(const char *text, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, name, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

static bool add_server(char ***v, size_t *n, const char *url)
{
    char **grown;

    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], url) == 0)
            return true;
    if ((grown = realloc(*v, (*n + 1) * sizeof *grown)) == NULL)
        return false;
    *v = grown;
    if (((*v)[*n] = strdup(url)) == NULL)
        return false;
    (*n)++;
    return true;
}

/* The kubeconfig's servers, then every master the kubernetes Endpoints
 * in "default" lists (c8s keeps it to the members that serve). */
static size_t all_servers(struct ctx *x, char ***ret)
{
    struct c8s_client_opts co = {.timeout_ms = 5000};
    struct c8s_response resp = {0};
    struct c8s_error err = {0};
    struct c8s_obj *ep = NULL;
    size_t n = 0;

    *ret = NULL;
    for (size_t i = 0; i < c8s_kubeconfig_server_count(x->kc); i++)
        (void)add_server(ret, &n, c8s_kubeconfig_server(x->kc, i));
    if (c8s_client_new(x->kc, &co, &x->c, &err) != 0 ||
        c8s_request(x->c, "GET", "/api/v1/namespaces/default/endpoints/"
                    "kubernetes", NULL, NULL, 0, &resp, &err) != 0 ||
        c8s_obj_from_json(resp.body, resp.body_len, &ep, &err) != 0) {
        c8s_response_clear(&resp);
        return n; /* what the kubeconfig says is all we know */
    }
    const struct c8s_obj *subsets = c8s_obj_path(ep, "subsets");
    for (size_t i = 0; i < c8s_obj_len(subsets); i++) {
        const struct c8s_obj *ss = c8s_obj_at(subsets, i);
        const struct c8s_obj *addrs = c8s_obj_path(ss, "addresses");
        long long port = c8s_obj_int(c8s_obj_path(ss, "ports.0.port"), 0);

        for (size_t k = 0; port > 0 && k < c8s_obj_len(addrs); k++) {
            char url[300];
            const char *ip =
                c8s_obj_str(c8s_obj_path(c8s_obj_at(addrs, k), "ip"), "");

            snprintf(url, sizeof url, strchr(ip, ':') != NULL
                                          ? "https://[%s]:%lld"
                                          : "https://%s:%lld",
                     ip, port);
            (void)add_server(ret, &n, url);
        }
    }
    c8s_obj_free(ep);
    c8s_response_clear(&resp);
    return n;
}

static int cmd_cluster(struct ctx *x, int argc, char **argv)
{
    struct c8s_error err = {0};
    double commit_max = 0;
    size_t n;
    struct row {
        char server[256], state[16];
        double term, commit, applied, rev, leader;
        bool ready;
    } *rows;

    if (argc != 1 || strcmp(argv[0], "status") != 0)
        return die_usage("cluster takes the subcommand", "status");
    if (c8s_kubeconfig_load(&x->ko, &x->kc, &err) != 0)
        return report(&err);
    char **servers = NULL;
    n = all_servers(x, &servers);
    rows = calloc(n, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        struct c8s_kubeconfig_opts ko = x->ko;
        struct c8s_kubeconfig *kc = NULL;
        struct c8s_client_opts co = {.timeout_ms = 3000, .max_attempts = 1};
        struct c8s_client *c = NULL;
        struct c8s_response resp = {0};

        snprintf(rows[i].server, sizeof rows[i].server, "%s", servers[i]);
        free(servers[i]);
        snprintf(rows[i].state, sizeof rows[i].state, "unreachable");
        ko.server = rows[i].server; /* this one only */
        if (c8s_kubeconfig_load(&ko, &kc, &err) != 0 ||
            c8s_client_new(kc, &co, &c, &err) != 0) {
            c8s_kubeconfig_free(kc);
            continue;
        }
        rows[i].ready = c8s_request(c, "GET", "/readyz", NULL, NULL, 0, &resp,
                                    &err) == 0;
        c8s_response_clear(&resp);
        if (c8s_request(c, "GET", "/metrics", NULL, NULL, 0, &resp, &err) ==
            0) {
            rows[i].term = metric(resp.body, "c8s_raft_term");
            rows[i].commit = metric(resp.body, "c8s_raft_commit_index");
            rows[i].applied = metric(resp.body, "c8s_raft_applied_index");
            rows[i].rev = metric(resp.body, "c8s_store_revision");
            rows[i].leader = metric(resp.body, "c8s_raft_is_leader");
            snprintf(rows[i].state, sizeof rows[i].state, "%s",
                     rows[i].leader == 1 ? "leader" : "follower");
            if (rows[i].commit > commit_max)
                commit_max = rows[i].commit;
        }
        c8s_response_clear(&resp);
        c8s_client_free(c);
        c8s_kubeconfig_free(kc);
    }
    printf("%-32s %-11s %-5s %6s %10s %10s %10s %5s\n", "SERVER", "ROLE",
           "READY", "TERM", "COMMIT", "APPLIED", "REVISION", "LAG");
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        struct row *r = &rows[i];

        if (strcmp(r->state, "unreachable") == 0) {
            printf("%-32s %-11s %-5s %6s %10s %10s %10s %5s\n", r->server,
                   r->state, "no", "-", "-", "-", "-", "-");
            status = 1;
            continue;
        }
        printf("%-32s %-11s %-5s %6.0f %10.0f %10.0f %10.0f %5.0f\n",
               r->server, r->state, r->ready ? "yes" : "no", r->term,
               r->commit, r->applied, r->rev, commit_max - r->applied);
        if (!r->ready)
            status = 1;
    }
    free(rows);
    free(servers);
    return status;
}

/* ---- snapshots ---------------------------------------------------------------
 * The file holds the store's snapshot format as the server sends it
 * (GET /c8s/v1/snapshot), checked with store_snapshot_check. */

static int check_snapshot(const char *what, const void *data, size_t len,
                          store_rev *rev, size_t *keys)
{
    struct err e = {0};
    int rv = store_snapshot_check(data, len, rev, keys, &e);

    if (rv != 0) {
        fprintf(stderr, "c8sctl: %s: not a valid c8s snapshot: %s\n", what,
                e.msg[0] != '\0' ? e.msg : c8s_strerror(rv));
        return -1;
    }
    return 0;
}

static int write_atomically(const char *file, const void *data, size_t len)
{
    char tmp[4096];
    FILE *f;
    int ok;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", file) >= sizeof tmp)
        return -ENAMETOOLONG;
    f = fopen(tmp, "w");
    if (f == NULL)
        return -errno;
    ok = fwrite(data, 1, len, f) == len && fflush(f) == 0 &&
         fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, file) != 0) {
        int code = -errno;

        unlink(tmp);
        return code != 0 ? code : -EIO;
    }
    return 0;
}

static int cmd_snapshot(struct ctx *x, int argc, char **argv)
{
    struct c8s_response r = {0};
    struct c8s_error err = {0};
    store_rev rev;
    size_t keys;
    int rv;

    if (argc != 2 || (strcmp(argv[0], "save") != 0 &&
                      strcmp(argv[0], "status") != 0))
        return die_usage("snapshot takes save FILE or status FILE", "");
    if (strcmp(argv[0], "status") == 0) {
        FILE *f = fopen(argv[1], "r");
        char *data;
        size_t len;

        if (f == NULL) {
            fprintf(stderr, "c8sctl: %s: %s\n", argv[1], strerror(errno));
            return 1;
        }
        rv = read_all(f, (size_t)1 << 30, &data, &len);
        fclose(f);
        if (rv != 0) {
            fprintf(stderr, "c8sctl: %s: %s\n", argv[1], strerror(-rv));
            return 1;
        }
        rv = check_snapshot(argv[1], data, len, &rev, &keys);
        free(data);
        if (rv != 0)
            return 1;
        printf("revision %llu, %zu keys, %zu bytes\n",
               (unsigned long long)rev, keys, len);
        return 0;
    }
    if (connect_api(x, false, &err) != 0 ||
        c8s_request(x->c, "GET", "/c8s/v1/snapshot", NULL, NULL, 0, &r,
                    &err) != 0) {
        c8s_response_clear(&r);
        return report(&err);
    }
    if (check_snapshot(c8s_client_server(x->c), r.body, r.body_len, &rev,
                       &keys) != 0) {
        c8s_response_clear(&r);
        return 1;
    }
    if ((rv = write_atomically(argv[1], r.body, r.body_len)) != 0) {
        fprintf(stderr, "c8sctl: %s: %s\n", argv[1], strerror(-rv));
        c8s_response_clear(&r);
        return 1;
    }
    printf("saved revision %llu (%zu keys, %zu bytes) from %s to %s\n",
           (unsigned long long)rev, keys, r.body_len, c8s_client_server(x->c),
           argv[1]);
    c8s_response_clear(&r);
    return 0;
}

static int cmd_restore(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'N'},
        {"peer-listen", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0}};
    const char *dir = NULL, *name = NULL, *peer = NULL, *file;
    struct err e = {0};
    char *data;
    size_t len;
    FILE *f;
    int opt, rv;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'd')
            dir = optarg;
        else if (opt == 'N')
            name = optarg;
        else if (opt == 'p')
            peer = optarg;
        else
            return die_usage("snapshot restore: unknown flag", "");
    }
    if (optind + 1 != argc || dir == NULL || name == NULL || peer == NULL)
        return die_usage("snapshot restore takes FILE --data-dir DIR --name "
                         "NAME --peer-listen HOST:PORT", "");
    file = argv[optind];
    if ((f = fopen(file, "r")) == NULL) {
        fprintf(stderr, "c8sctl: %s: %s\n", file, strerror(errno));
        return 1;
    }
    rv = read_all(f, (size_t)1 << 30, &data, &len);
    fclose(f);
    if (rv != 0) {
        fprintf(stderr, "c8sctl: %s: %s\n", file, strerror(-rv));
        return 1;
    }
    rv = repl_restore_data_dir(dir, name, peer, data, len, &e);
    free(data);
    if (rv != 0) {
        fprintf(stderr, "c8sctl: %s: %s\n", file, e.msg);
        return 1;
    }
    printf("restored %s into %s: start c8s-master --name %s --data-dir %s "
           "--peer-listen %s with the old cluster's --token\n",
           file, dir, name, dir, peer);
    return 0;
}

/* ---- a local cluster -------------------------------------------------------
 * cluster up|down run the local-cluster script (installed in
 * pkglibexecdir; the source tree's when run from a build) with the
 * c8s-master next to this c8sctl when there is one. */

static int cluster_local(int argc, char **argv)
{
    const char *script = getenv("C8S_LOCAL_CLUSTER");
    char self[4096], master[4096 + 16], *slash;
    const char *args[64];
    int n = 0;
    ssize_t len;

    if (script == NULL)
        script = access(C8S_PKGLIBEXECDIR "/local-cluster", R_OK) == 0
                     ? C8S_PKGLIBEXECDIR "/local-cluster"
                     : C8S_SRCDIR "/scripts/local-cluster";
    args[n++] = "sh";
    args[n++] = script;
    for (int i = 0; i < argc && n < 60; i++)
        args[n++] = argv[i];
    len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (strcmp(argv[0], "up") == 0 && len > 0) {
        self[len] = '\0';
        if ((slash = strrchr(self, '/')) != NULL) {
            *slash = '\0';
            snprintf(master, sizeof master, "%s/c8s-master", self);
            if (access(master, X_OK) == 0) {
                args[n++] = "--bin";
                args[n++] = master;
            }
        }
    }
    args[n] = NULL;
    execv("/bin/sh", (char *const *)args);
    fprintf(stderr, "c8sctl: cannot run %s: %s\n", script, strerror(errno));
    return 1;
}

/* ---- main ------------------------------------------------------------------*/

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kubeconfig", required_argument, NULL, 'k'},
        {"context", required_argument, NULL, 'c'},
        {"server", required_argument, NULL, 's'},
        {"namespace", required_argument, NULL, 'n'},
        {"request-timeout", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},
        {"selector", required_argument, NULL, 'l'},
        {"filename", required_argument, NULL, 'f'},
        {"all-namespaces", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ctx x = {.timeout_s = 30, .output = ""};
    const char *cmd;
    int opt, status;

    (void)unsetenv("POSIXLY_CORRECT");
    if (argc > 1 && admin_is_command(argv[1])) { /* status, member */
        admin_prog = "c8sctl";
        return admin_main(argc - 1, argv + 1);
    }
    if (argc > 2 && strcmp(argv[1], "snapshot") == 0 &&
        strcmp(argv[2], "restore") == 0)
        return cmd_restore(argc - 2, argv + 2); /* its own flags */
    if (argc > 2 && strcmp(argv[1], "cluster") == 0 &&
        (strcmp(argv[2], "up") == 0 || strcmp(argv[2], "down") == 0))
        return cluster_local(argc - 2, argv + 2); /* its own flags */
    while ((opt = getopt_long(argc, argv, "n:o:l:f:Ah", opts, NULL)) != -1) {
        switch (opt) {
        case 'k': x.ko.kubeconfig = optarg; break;
        case 'c': x.ko.context = optarg; break;
        case 's': x.ko.server = optarg; break;
        case 'n': x.ko.ns = optarg; break;
        case 't':
            x.timeout_s = atoi(optarg);
            if (x.timeout_s <= 0)
                return die_usage("--request-timeout needs seconds, not",
                                 optarg);
            break;
        case 'o':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "yaml") != 0 &&
                strcmp(optarg, "name") != 0)
                return die_usage("-o takes json, yaml or name, not",
                                 optarg);
            x.output = optarg;
            break;
        case 'l': x.selector = optarg; break;
        case 'f': x.file = optarg; break;
        case 'A': x.all_namespaces = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: return die_usage("unknown or incomplete flag", "");
        }
    }
    if (optind >= argc)
        return die_usage("which command?", "");
    cmd = argv[optind];
    argc -= optind + 1;
    argv += optind + 1;
    if (strcmp(cmd, "version") == 0) {
        printf("c8sctl %s (libc8s %s)\n", PACKAGE_VERSION, c8s_version());
        return 0;
    }
    if (strcmp(cmd, "get") == 0)
        status = cmd_get(&x, argc, argv);
    else if (strcmp(cmd, "apply") == 0)
        status = cmd_apply(&x, argc);
    else if (strcmp(cmd, "delete") == 0)
        status = cmd_delete(&x, argc, argv);
    else if (strcmp(cmd, "watch") == 0)
        status = cmd_watch(&x, argc, argv);
    else if (strcmp(cmd, "cluster") == 0)
        status = cmd_cluster(&x, argc, argv);
    else if (strcmp(cmd, "snapshot") == 0)
        status = cmd_snapshot(&x, argc, argv);
    else
        return die_usage("unknown command", cmd);
    c8s_discovery_free(x.d);
    c8s_client_free(x.c);
    c8s_kubeconfig_free(x.kc);
    return status;
}
