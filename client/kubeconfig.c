/* kubeconfig files read and merged by kubectl's rules (c8s/kubeconfig.h).
 *
 * Each file is decoded with the object model's YAML decoder and checked for
 * shape (a map; clusters, users and contexts lists of maps with a name)
 * before anything is looked up, so an error names the file and the field.
 * Lookups then walk the files in order and take the first match. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <c8s/kubeconfig.h>

#include "api/object/codec.h"
#include "client/internal.h"
#include "lib/mem.h"

#define MAX_FILES 64
#define MAX_FILE_BYTES (16u << 20) /* far above any real kubeconfig */
#define SERVERS_EXTENSION "c8s.io/servers"

struct c8s_kubeconfig {
    char *context, *cluster, *user, *ns;
    char **servers;
    size_t n_servers;
    char *ca, *cert, *key; /* PEM, NUL-terminated */
    size_t ca_len, cert_len, key_len;
    char *tls_server_name;
    char *token;
    bool insecure;
};

/* The files being merged, in order of precedence. */
struct kc_files {
    size_t n;
    char *path[MAX_FILES];
    struct obj *root[MAX_FILES]; /* a map, or NULL for an empty file */
};

/* A named entry found in one of the files. */
struct kc_entry {
    const char *file;
    const struct obj *body; /* the "cluster"/"user"/"context" map; may be NULL */
    size_t index;           /* position in its list, for messages */
};

/* ---- reading files ---------------------------------------------------------*/

int client__read_file(const char *path, size_t max, char **ret, size_t *ret_len,
                   struct c8s_error *err)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return client__fail(err, -errno, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return client__fail(err, -EINVAL, "%s: not a regular file", path);
    }
    if ((size_t)st.st_size > max) {
        close(fd);
        return client__fail(err, -C8S_ETOOLARGE, "%s: larger than %zu bytes", path,
                    max);
    }
    buf = mem_malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return client__fail(err, -ENOMEM, "%s: out of memory", path);
    }
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int code = n < 0 ? -errno : -EIO;

            mem_free(buf);
            close(fd);
            return client__fail(err, code, "%s: read failed: %s", path,
                        strerror(-code));
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    return 0;
}

/* ---- shape of one file -----------------------------------------------------*/

static int check_named_list(const char *file, const struct obj *root,
                            const char *list, const char *body,
                            struct c8s_error *err)
{
    const struct obj *l = obj_map_get(root, list);

    if (l == NULL || obj_is_null(l))
        return 0;
    if (obj_type(l) != OBJ_ARRAY)
        return client__fail(err, -C8S_ECONFIG, "%s: %s: must be a list, not %s", file,
                    list, obj_type_name(obj_type(l)));
    for (size_t i = 0; i < obj_array_len(l); i++) {
        const struct obj *item = obj_array_get(l, i);
        const struct obj *name = obj_map_get(item, "name");
        const struct obj *b = obj_map_get(item, body);

        if (obj_type(item) != OBJ_MAP)
            return client__fail(err, -C8S_ECONFIG, "%s: %s[%zu]: must be a map", file,
                        list, i);
        if (name == NULL || obj_type(name) != OBJ_STRING ||
            obj_str_or(name, "")[0] == '\0')
            return client__fail(err, -C8S_ECONFIG, "%s: %s[%zu].name: must be a "
                        "non-empty string", file, list, i);
        if (b != NULL && !obj_is_null(b) && obj_type(b) != OBJ_MAP)
            return client__fail(err, -C8S_ECONFIG, "%s: %s[%zu].%s: must be a map",
                        file, list, i, body);
    }
    return 0;
}

static int check_shape(const char *file, const struct obj *root,
                       struct c8s_error *err)
{
    const struct obj *cur = obj_map_get(root, "current-context");
    int rv;

    if (obj_type(root) != OBJ_MAP)
        return client__fail(err, -C8S_ECONFIG, "%s: must be a map (a Config), not %s",
                    file, obj_type_name(obj_type(root)));
    if (cur != NULL && !obj_is_null(cur) && obj_type(cur) != OBJ_STRING)
        return client__fail(err, -C8S_ECONFIG, "%s: current-context: must be a "
                    "string", file);
    if ((rv = check_named_list(file, root, "clusters", "cluster", err)) != 0 ||
        (rv = check_named_list(file, root, "users", "user", err)) != 0 ||
        (rv = check_named_list(file, root, "contexts", "context", err)) != 0)
        return rv;
    return 0;
}

static int add_file(struct kc_files *f, const char *path, bool must_exist,
                    struct c8s_error *err)
{
    struct obj_decode_opts opts = {0};
    struct err e = {0};
    struct obj *root = NULL;
    char *data;
    size_t len;
    int rv;

    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->path[i], path) == 0)
            return 0; /* read once */
    if (f->n == MAX_FILES)
        return client__fail(err, -C8S_ECONFIG, "more than %d kubeconfig files",
                    MAX_FILES);
    rv = client__read_file(path, MAX_FILE_BYTES, &data, &len, err);
    if (rv == -ENOENT && !must_exist)
        return 0;
    if (rv != 0)
        return rv;
    rv = obj_yaml_decode(data, len, &opts, &root, &e);
    mem_free(data);
    if (rv != 0)
        return client__fail(err, -C8S_EMALFORMED, "%s: %s", path, e.msg);
    if (obj_is_null(root)) { /* an empty file is an empty Config */
        obj_unref(root);
        root = NULL;
    } else if ((rv = check_shape(path, root, err)) != 0) {
        obj_unref(root);
        return rv;
    }
    f->path[f->n] = mem_strdup(path);
    if (f->path[f->n] == NULL) {
        obj_unref(root);
        return client__fail(err, -ENOMEM, "out of memory");
    }
    f->root[f->n++] = root;
    return 0;
}

static void files_free(struct kc_files *f)
{
    for (size_t i = 0; i < f->n; i++) {
        mem_free(f->path[i]);
        obj_unref(f->root[i]);
    }
    f->n = 0;
}

/* $KUBECONFIG's files, or ~/.kube/config, or only the explicit one. */
static int read_files(const struct c8s_kubeconfig_opts *o, struct kc_files *f,
                      struct c8s_error *err)
{
    const char *env = getenv("KUBECONFIG");
    char path[4096];
    int rv;

    if (o->kubeconfig != NULL && o->kubeconfig[0] != '\0')
        return add_file(f, o->kubeconfig, true, err);
    if (env != NULL && env[0] != '\0') {
        for (const char *p = env; *p != '\0';) {
            size_t n = strcspn(p, ":");

            if (n > 0 && n < sizeof path) {
                memcpy(path, p, n);
                path[n] = '\0';
                if ((rv = add_file(f, path, false, err)) != 0)
                    return rv;
            }
            p += n + (p[n] == ':');
        }
        return 0;
    }
    env = getenv("HOME");
    if (env == NULL || env[0] == '\0')
        return 0;
    (void)snprintf(path, sizeof path, "%s/.kube/config", env);
    return add_file(f, path, false, err);
}

/* ---- lookups across the files ----------------------------------------------*/

static bool find_named(const struct kc_files *f, const char *list,
                       const char *body, const char *name,
                       struct kc_entry *ret)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct obj *l = obj_map_get(f->root[i], list);

        for (size_t j = 0; j < obj_array_len(l); j++) {
            const struct obj *item = obj_array_get(l, j);

            if (strcmp(obj_str_or(obj_map_get(item, "name"), ""), name) == 0) {
                *ret = (struct kc_entry){.file = f->path[i],
                                         .body = obj_map_get(item, body),
                                         .index = j};
                return true;
            }
        }
    }
    return false;
}

static const char *current_context(const struct kc_files *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const char *c = obj_str_or(obj_map_get(f->root[i], "current-context"),
                                   "");
        if (c[0] != '\0')
            return c;
    }
    return "";
}

/* A string field of an entry: "" when absent, an error when not a string. */
static int field_str(const struct kc_entry *en, const char *list,
                     const char *body, const char *field, const char **ret,
                     struct c8s_error *err)
{
    const struct obj *v = obj_map_get(en->body, field);

    *ret = "";
    if (v == NULL || obj_is_null(v))
        return 0;
    if (obj_type(v) != OBJ_STRING)
        return client__fail(err, -C8S_ECONFIG, "%s: %s[%zu].%s.%s: must be a string",
                    en->file, list, en->index, body, field);
    *ret = obj_str_or(v, "");
    return 0;
}

/* @path made absolute against the directory of @file. */
static int resolve_path(const char *file, const char *path, char *out,
                        size_t size)
{
    const char *slash = strrchr(file, '/');
    int n;

    if (path[0] == '/' || slash == NULL)
        n = snprintf(out, size, "%s", path);
    else
        n = snprintf(out, size, "%.*s/%s", (int)(slash - file), file, path);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int decode_base64(const char *in, char **ret, size_t *ret_len)
{
    size_t len = strlen(in);
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    unsigned char *out = mem_malloc(len / 4 * 3 + 4);
    int n = 0, m = 0;

    if (ctx == NULL || out == NULL) {
        EVP_ENCODE_CTX_free(ctx);
        mem_free(out);
        return -ENOMEM;
    }
    EVP_DecodeInit(ctx);
    if (len > (size_t)1 << 30 ||
        EVP_DecodeUpdate(ctx, out, &n, (const unsigned char *)in,
                         (int)len) < 0 ||
        EVP_DecodeFinal(ctx, out + n, &m) != 1) {
        EVP_ENCODE_CTX_free(ctx);
        mem_free(out);
        return -C8S_EMALFORMED;
    }
    EVP_ENCODE_CTX_free(ctx);
    out[n + m] = '\0';
    *ret = (char *)out;
    *ret_len = (size_t)(n + m);
    return 0;
}

/* PEM material given inline (@data_field, base64) or as a file (@file_field);
 * both is an error, as in kubectl. *@ret stays NULL when neither is set. */
static int load_material(const struct kc_entry *en, const char *list,
                         const char *body, const char *file_field,
                         const char *data_field, char **ret, size_t *ret_len,
                         struct c8s_error *err)
{
    const char *file, *data;
    char path[4096];
    int rv;

    if ((rv = field_str(en, list, body, file_field, &file, err)) != 0 ||
        (rv = field_str(en, list, body, data_field, &data, err)) != 0)
        return rv;
    if (file[0] != '\0' && data[0] != '\0')
        return client__fail(err, -C8S_ECONFIG, "%s: %s[%zu].%s: both %s and %s are "
                    "set; use only one", en->file, list, en->index, body,
                    file_field, data_field);
    if (data[0] != '\0') {
        rv = decode_base64(data, ret, ret_len);
        if (rv == -C8S_EMALFORMED)
            return client__fail(err, -C8S_ECONFIG, "%s: %s[%zu].%s.%s: not valid "
                        "base64", en->file, list, en->index, body, data_field);
        return rv == 0 ? 0 : client__fail(err, rv, "out of memory");
    }
    if (file[0] == '\0')
        return 0;
    if (resolve_path(en->file, file, path, sizeof path) != 0)
        return client__fail(err, -ENAMETOOLONG, "%s: %s[%zu].%s.%s: path too long",
                    en->file, list, en->index, body, file_field);
    rv = client__read_file(path, MAX_FILE_BYTES, ret, ret_len, err);
    if (rv != 0 && err != NULL) {
        char inner[sizeof err->message];

        memcpy(inner, err->message, sizeof inner);
        (void)client__fail(err, rv, "%s: %s[%zu].%s.%s: %s", en->file, list,
                   en->index, body, file_field, inner);
    }
    return rv;
}

/* ---- resolving the context -------------------------------------------------*/

static int add_server(struct c8s_kubeconfig *kc, const struct kc_entry *en,
                      const char *field, const char *url,
                      struct c8s_error *err)
{
    char **s;

    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return client__fail(err, -C8S_ECONFIG, "%s: clusters[%zu].cluster.%s: \"%s\" "
                    "is not an http:// or https:// URL",
                    en != NULL ? en->file : "--server",
                    en != NULL ? en->index : 0, field, url);
    s = mem_realloc(kc->servers, (kc->n_servers + 1) * sizeof *s);
    if (s == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    kc->servers = s;
    if ((s[kc->n_servers] = mem_strdup(url)) == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    kc->n_servers++;
    return 0;
}

/* Further servers from the "c8s.io/servers" extension. */
static int extension_servers(struct c8s_kubeconfig *kc,
                             const struct kc_entry *en, struct c8s_error *err)
{
    const struct obj *exts = obj_map_get(en->body, "extensions");
    int rv;

    for (size_t i = 0; i < obj_array_len(exts); i++) {
        const struct obj *x = obj_array_get(exts, i);
        const struct obj *list;

        if (strcmp(obj_str_or(obj_map_get(x, "name"), ""),
                   SERVERS_EXTENSION) != 0)
            continue;
        list = obj_get(x, "extension", "servers", NULL);
        if (list == NULL || obj_type(list) != OBJ_ARRAY)
            return client__fail(err, -C8S_ECONFIG, "%s: clusters[%zu].cluster."
                        "extensions[%zu].extension.servers: must be a list "
                        "of URLs", en->file, en->index, i);
        for (size_t j = 0; j < obj_array_len(list); j++) {
            const char *url = obj_str_or(obj_array_get(list, j), "");

            if ((rv = add_server(kc, en, "extensions", url, err)) != 0)
                return rv;
        }
    }
    return 0;
}

static int resolve_cluster(struct c8s_kubeconfig *kc,
                           const struct c8s_kubeconfig_opts *o,
                           const struct kc_entry *en, struct c8s_error *err)
{
    const struct obj *insecure = obj_map_get(en->body, "insecure-skip-tls-verify");
    const char *server, *sni;
    int rv;

    if ((rv = field_str(en, "clusters", "cluster", "server", &server, err)) ||
        (rv = field_str(en, "clusters", "cluster", "tls-server-name", &sni,
                        err)))
        return rv;
    if (insecure != NULL && !obj_is_null(insecure) &&
        obj_type(insecure) != OBJ_BOOL)
        return client__fail(err, -C8S_ECONFIG, "%s: clusters[%zu].cluster."
                    "insecure-skip-tls-verify: must be true or false",
                    en->file, en->index);
    kc->insecure = obj_bool_or(insecure, false);
    if (o->server != NULL && o->server[0] != '\0') {
        if ((rv = add_server(kc, NULL, "server", o->server, err)) != 0)
            return rv;
    } else {
        if (server[0] == '\0')
            return client__fail(err, -C8S_ECONFIG, "%s: clusters[%zu].cluster.server: "
                        "cluster \"%s\" has no server defined", en->file,
                        en->index, kc->cluster);
        if ((rv = add_server(kc, en, "server", server, err)) != 0 ||
            (rv = extension_servers(kc, en, err)) != 0)
            return rv;
    }
    if (sni[0] != '\0' && (kc->tls_server_name = mem_strdup(sni)) == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    if ((rv = load_material(en, "clusters", "cluster", "certificate-authority",
                            "certificate-authority-data", &kc->ca,
                            &kc->ca_len, err)) != 0)
        return rv;
    if (kc->ca != NULL && kc->insecure)
        return client__fail(err, -C8S_ECONFIG, "%s: clusters[%zu].cluster: a "
                    "certificate authority and insecure-skip-tls-verify "
                    "together are not allowed", en->file, en->index);
    return 0;
}

static int refuse_unsupported(const struct kc_entry *en, const char *user,
                              struct c8s_error *err)
{
    static const char *const unsupported[] = {"exec", "auth-provider",
                                              "username", "password"};

    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
        const struct obj *v = obj_map_get(en->body, unsupported[i]);

        if (v != NULL && !obj_is_null(v))
            return client__fail(err, -C8S_ECONFIG, "%s: users[%zu].user.%s: user "
                        "\"%s\" authenticates with %s, which libc8s does not "
                        "support (use a client certificate or a token)",
                        en->file, en->index, unsupported[i], user,
                        unsupported[i]);
    }
    return 0;
}

static int resolve_token(struct c8s_kubeconfig *kc, const struct kc_entry *en,
                         struct c8s_error *err)
{
    const char *token, *file;
    char path[4096], *data;
    size_t len;
    int rv;

    if ((rv = field_str(en, "users", "user", "token", &token, err)) != 0 ||
        (rv = field_str(en, "users", "user", "tokenFile", &file, err)) != 0)
        return rv;
    if (token[0] != '\0') { /* token wins over tokenFile, as in kubectl */
        kc->token = mem_strdup(token);
        return kc->token != NULL ? 0 : client__fail(err, -ENOMEM, "out of memory");
    }
    if (file[0] == '\0')
        return 0;
    if (resolve_path(en->file, file, path, sizeof path) != 0)
        return client__fail(err, -ENAMETOOLONG, "%s: users[%zu].user.tokenFile: path "
                    "too long", en->file, en->index);
    if ((rv = client__read_file(path, 1u << 20, &data, &len, err)) != 0)
        return rv;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        data[--len] = '\0';
    kc->token = data;
    return 0;
}

static int resolve_user(struct c8s_kubeconfig *kc, const struct kc_entry *en,
                        struct c8s_error *err)
{
    int rv;

    if ((rv = refuse_unsupported(en, kc->user, err)) != 0 ||
        (rv = load_material(en, "users", "user", "client-certificate",
                            "client-certificate-data", &kc->cert,
                            &kc->cert_len, err)) != 0 ||
        (rv = load_material(en, "users", "user", "client-key",
                            "client-key-data", &kc->key, &kc->key_len,
                            err)) != 0 ||
        (rv = resolve_token(kc, en, err)) != 0)
        return rv;
    if ((kc->cert == NULL) != (kc->key == NULL))
        return client__fail(err, -C8S_ECONFIG, "%s: users[%zu].user: user \"%s\" has "
                    "a client %s but no client %s", en->file, en->index,
                    kc->user, kc->cert != NULL ? "certificate" : "key",
                    kc->cert != NULL ? "key" : "certificate");
    return 0;
}

static int set_name(char **dst, const char *src, struct c8s_error *err)
{
    *dst = mem_strdup(src);
    return *dst != NULL ? 0 : client__fail(err, -ENOMEM, "out of memory");
}

static int resolve(struct c8s_kubeconfig *kc, const struct kc_files *f,
                   const struct c8s_kubeconfig_opts *o, struct c8s_error *err)
{
    const char *name = o->context != NULL && o->context[0] != '\0'
                           ? o->context
                           : current_context(f);
    const char *cluster, *user, *ns;
    struct kc_entry ctx, cl, us;
    int rv;

    if (f->n == 0)
        return client__fail(err, -C8S_ECONFIG, "no kubeconfig: give one with "
                    "--kubeconfig or KUBECONFIG, or write ~/.kube/config");
    if (name[0] == '\0')
        return client__fail(err, -C8S_ECONFIG, "%s%s: current-context is not set "
                    "(choose a context with --context)", f->path[0],
                    f->n > 1 ? " (and the other KUBECONFIG files)" : "");
    if (!find_named(f, "contexts", "context", name, &ctx))
        return client__fail(err, -C8S_ECONFIG, "%s%s: context \"%s\" not found",
                    f->path[0], f->n > 1 ? " and the other KUBECONFIG files"
                                         : "", name);
    if ((rv = field_str(&ctx, "contexts", "context", "cluster", &cluster,
                        err)) != 0 ||
        (rv = field_str(&ctx, "contexts", "context", "user", &user, err)) ||
        (rv = field_str(&ctx, "contexts", "context", "namespace", &ns, err)))
        return rv;
    if (o->ns != NULL && o->ns[0] != '\0')
        ns = o->ns;
    if ((rv = set_name(&kc->context, name, err)) != 0 ||
        (rv = set_name(&kc->cluster, cluster, err)) != 0 ||
        (rv = set_name(&kc->user, user, err)) != 0 ||
        (rv = set_name(&kc->ns, ns[0] != '\0' ? ns : "default", err)) != 0)
        return rv;
    if (cluster[0] == '\0')
        return client__fail(err, -C8S_ECONFIG, "%s: contexts[%zu].context.cluster: "
                    "context \"%s\" names no cluster", ctx.file, ctx.index,
                    name);
    if (!find_named(f, "clusters", "cluster", cluster, &cl))
        return client__fail(err, -C8S_ECONFIG, "%s: contexts[%zu].context.cluster: "
                    "cluster \"%s\" of context \"%s\" not found", ctx.file,
                    ctx.index, cluster, name);
    if ((rv = resolve_cluster(kc, o, &cl, err)) != 0)
        return rv;
    if (user[0] == '\0')
        return 0; /* anonymous */
    if (!find_named(f, "users", "user", user, &us))
        return client__fail(err, -C8S_ECONFIG, "%s: contexts[%zu].context.user: user "
                    "\"%s\" of context \"%s\" not found", ctx.file, ctx.index,
                    user, name);
    return resolve_user(kc, &us, err);
}

int c8s_kubeconfig_load(const struct c8s_kubeconfig_opts *opts,
                        struct c8s_kubeconfig **ret, struct c8s_error *err)
{
    static const struct c8s_kubeconfig_opts none = {0};
    struct kc_files files = {0};
    struct c8s_kubeconfig *kc;
    int rv;

    *ret = NULL;
    if (opts == NULL)
        opts = &none;
    kc = mem_calloc(1, sizeof *kc);
    if (kc == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    rv = read_files(opts, &files, err);
    if (rv == 0)
        rv = resolve(kc, &files, opts, err);
    files_free(&files);
    if (rv != 0) {
        c8s_kubeconfig_free(kc);
        return rv;
    }
    *ret = kc;
    return 0;
}

static void free_secret(char *s, size_t len)
{
    if (s != NULL)
        OPENSSL_cleanse(s, len);
    mem_free(s);
}

void c8s_kubeconfig_free(struct c8s_kubeconfig *kc)
{
    if (kc == NULL)
        return;
    mem_free(kc->context);
    mem_free(kc->cluster);
    mem_free(kc->user);
    mem_free(kc->ns);
    for (size_t i = 0; i < kc->n_servers; i++)
        mem_free(kc->servers[i]);
    mem_free(kc->servers);
    mem_free(kc->ca);
    mem_free(kc->cert);
    free_secret(kc->key, kc->key_len);
    free_secret(kc->token, kc->token != NULL ? strlen(kc->token) : 0);
    mem_free(kc->tls_server_name);
    mem_free(kc);
}

const char *c8s_kubeconfig_context(const struct c8s_kubeconfig *kc)
{
    return kc->context;
}

const char *c8s_kubeconfig_cluster(const struct c8s_kubeconfig *kc)
{
    return kc->cluster;
}

const char *c8s_kubeconfig_user(const struct c8s_kubeconfig *kc)
{
    return kc->user;
}

const char *c8s_kubeconfig_namespace(const struct c8s_kubeconfig *kc)
{
    return kc->ns;
}

size_t c8s_kubeconfig_server_count(const struct c8s_kubeconfig *kc)
{
    return kc->n_servers;
}

const char *c8s_kubeconfig_server(const struct c8s_kubeconfig *kc, size_t i)
{
    return i < kc->n_servers ? kc->servers[i] : NULL;
}

static const char *material(const char *s, size_t len, size_t *ret_len)
{
    if (ret_len != NULL)
        *ret_len = s != NULL ? len : 0;
    return s;
}

const char *c8s_kubeconfig_ca_pem(const struct c8s_kubeconfig *kc,
                                  size_t *ret_len)
{
    return material(kc->ca, kc->ca_len, ret_len);
}

const char *c8s_kubeconfig_cert_pem(const struct c8s_kubeconfig *kc,
                                    size_t *ret_len)
{
    return material(kc->cert, kc->cert_len, ret_len);
}

const char *c8s_kubeconfig_key_pem(const struct c8s_kubeconfig *kc,
                                   size_t *ret_len)
{
    return material(kc->key, kc->key_len, ret_len);
}

const char *c8s_kubeconfig_tls_server_name(const struct c8s_kubeconfig *kc)
{
    return kc->tls_server_name;
}

bool c8s_kubeconfig_insecure(const struct c8s_kubeconfig *kc)
{
    return kc->insecure;
}

const char *c8s_kubeconfig_token(const struct c8s_kubeconfig *kc)
{
    return kc->token;
}
