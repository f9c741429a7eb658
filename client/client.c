/* Blocking requests with a keep-alive pool per server, failover across the
 * cluster's servers and bounded retries (c8s/client.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <c8s/client.h>

#include "api/object/codec.h"
#include "client/conn.h"
#include "client/internal.h"
#include "lib/mem.h"

#define POOL_IDLE_MAX 8         /* idle connections kept per server */
#define DOWN_MIN_MS 500         /* a failed server is set aside this long, */
#define DOWN_MAX_MS 30000       /* doubling up to this */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define RETRY_AFTER_MAX_S 60

struct server {
    struct client__url url;
    char *text;
    struct client__conn idle[POOL_IDLE_MAX];
    size_t n_idle;
    int64_t down_until; /* monotonic ms; 0: healthy */
    int down_ms;        /* current penalty */
};

struct c8s_client {
    SSL_CTX *ctx;
    char *sni;
    char *token;
    char *user_agent;
    struct server *servers;
    size_t n_servers;
    size_t cur; /* the server that answered last */
    int timeout_ms, connect_timeout_ms, max_attempts;
};

/* ---- TLS setup -------------------------------------------------------------*/

static void openssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();

    if (e == 0)
        (void)snprintf(buf, len, "unknown OpenSSL error");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
}

static int load_ca(SSL_CTX *ctx, const char *pem, size_t len,
                   struct c8s_error *err)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    char why[256];
    int n = 0;
    X509 *x;

    if (bio == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        int ok = X509_STORE_add_cert(store, x);

        X509_free(x);
        if (ok != 1) {
            BIO_free(bio);
            openssl_reason(why, sizeof why);
            return client__fail(err, -C8S_ECONFIG, "certificate authority: %s",
                        why);
        }
        n++;
    }
    BIO_free(bio);
    ERR_clear_error(); /* the end of the PEM stream reads as an error */
    if (n == 0)
        return client__fail(err, -C8S_ECONFIG, "certificate authority: no PEM "
                    "certificate in it");
    return 0;
}

static int load_identity(SSL_CTX *ctx, const char *cert, size_t cert_len,
                         const char *key, size_t key_len,
                         struct c8s_error *err)
{
    BIO *cb = BIO_new_mem_buf(cert, (int)cert_len);
    BIO *kb = BIO_new_mem_buf(key, (int)key_len);
    X509 *x = cb != NULL ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *pk = kb != NULL ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL)
                              : NULL;
    char why[256];
    int rv = 0;

    if (x == NULL || SSL_CTX_use_certificate(ctx, x) != 1) {
        openssl_reason(why, sizeof why);
        rv = client__fail(err, -C8S_ECONFIG, "client certificate: %s", why);
    } else {
        X509 *chain; /* intermediates after the leaf */

        while ((chain = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL)
            if (SSL_CTX_add0_chain_cert(ctx, chain) != 1)
                X509_free(chain);
        ERR_clear_error();
        if (pk == NULL || SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            openssl_reason(why, sizeof why);
            rv = client__fail(err, -C8S_ECONFIG, "client key: %s", why);
        }
    }
    X509_free(x);
    EVP_PKEY_free(pk);
    BIO_free(cb);
    BIO_free(kb);
    return rv;
}

static int tls_setup(struct c8s_client *c, const struct c8s_kubeconfig *kc,
                     struct c8s_error *err)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    const char *ca, *cert, *key;
    size_t ca_len, cert_len, key_len;
    int rv;

    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    (void)SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    (void)SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof alpn - 1);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                             SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (c8s_kubeconfig_insecure(kc)) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        ca = c8s_kubeconfig_ca_pem(kc, &ca_len);
        if (ca != NULL) {
            if ((rv = load_ca(c->ctx, ca, ca_len, err)) != 0)
                return rv;
        } else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
            return client__fail(err, -C8S_ECONFIG, "no certificate authority "
                        "given and the system's cannot be loaded");
        }
    }
    cert = c8s_kubeconfig_cert_pem(kc, &cert_len);
    key = c8s_kubeconfig_key_pem(kc, &key_len);
    if (cert != NULL && key != NULL)
        return load_identity(c->ctx, cert, cert_len, key, key_len, err);
    return 0;
}

/* Nothing a caller passes may end a header line or the request line early
 * (request smuggling): methods are letters, paths have no spaces or
 * control characters, header values no line breaks. */
static bool has_ctl(const char *s, bool space_too)
{
    for (; s != NULL && *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || (space_too && *s == ' '))
            return true;
    return false;
}

bool client__request_safe(const char *method, const char *path,
                          const char *content_type)
{
    if (method[0] == '\0')
        return false;
    for (const char *m = method; *m != '\0'; m++)
        if (*m < 'A' || *m > 'Z')
            return false;
    return !has_ctl(path, true) && !has_ctl(content_type, false);
}

/* ---- client ----------------------------------------------------------------*/

static char *dup_opt(const char *s)
{
    return s != NULL ? mem_strdup(s) : NULL;
}

int c8s_client_new(const struct c8s_kubeconfig *kc,
                   const struct c8s_client_opts *opts,
                   struct c8s_client **ret, struct c8s_error *err)
{
    static const struct c8s_client_opts defaults = {0};
    size_t n = c8s_kubeconfig_server_count(kc);
    struct c8s_client *c;
    char ua[64];
    int rv;

    *ret = NULL;
    if (opts == NULL)
        opts = &defaults;
    c = mem_calloc(1, sizeof *c);
    if (c == NULL)
        return client__fail(err, -ENOMEM, "out of memory");
    c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
    c->connect_timeout_ms =
        opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 5000;
    c->max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 5;
    (void)snprintf(ua, sizeof ua, "libc8s/%s", PACKAGE_VERSION);
    c->user_agent = mem_strdup(opts->user_agent != NULL ? opts->user_agent
                                                         : ua);
    c->sni = dup_opt(c8s_kubeconfig_tls_server_name(kc));
    c->token = dup_opt(c8s_kubeconfig_token(kc));
    c->servers = mem_calloc(n, sizeof *c->servers);
    if (c->user_agent == NULL || c->servers == NULL ||
        (c8s_kubeconfig_tls_server_name(kc) != NULL && c->sni == NULL) ||
        (c8s_kubeconfig_token(kc) != NULL && c->token == NULL)) {
        c8s_client_free(c);
        return client__fail(err, -ENOMEM, "out of memory");
    }
    if (has_ctl(c->token, true) || has_ctl(c->user_agent, false)) {
        c8s_client_free(c);
        return client__fail(err, -C8S_ECONFIG, "the token or user agent holds a "
                    "control character");
    }
    for (size_t i = 0; i < n; i++) {
        struct server *s = &c->servers[i];
        const char *url = c8s_kubeconfig_server(kc, i);

        if (client__url_parse(url, &s->url) != 0) {
            c8s_client_free(c);
            return client__fail(err, -C8S_ECONFIG, "server \"%s\": not a URL of "
                        "the form https://host[:port][/prefix]", url);
        }
        if ((s->text = mem_strdup(url)) == NULL) {
            c8s_client_free(c);
            return client__fail(err, -ENOMEM, "out of memory");
        }
        c->n_servers++;
    }
    if ((rv = tls_setup(c, kc, err)) != 0) {
        c8s_client_free(c);
        return rv;
    }
    *ret = c;
    return 0;
}

void c8s_client_free(struct c8s_client *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_servers; i++) {
        for (size_t j = 0; j < c->servers[i].n_idle; j++)
            client__conn_close(&c->servers[i].idle[j]);
        mem_free(c->servers[i].text);
    }
    mem_free(c->servers);
    SSL_CTX_free(c->ctx);
    mem_free(c->sni);
    if (c->token != NULL)
        OPENSSL_cleanse(c->token, strlen(c->token));
    mem_free(c->token);
    mem_free(c->user_agent);
    mem_free(c);
}

int c8s_url_escape(const char *in, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *in != '\0'; in++) {
        unsigned char ch = (unsigned char)*in;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
                     ch == '_' || ch == '~';

        if (n + (plain ? 1 : 3) >= size)
            return -ENAMETOOLONG;
        if (plain) {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    if (n >= size)
        return -ENAMETOOLONG;
    out[n] = '\0';
    return (int)n;
}

const char *c8s_client_server(const struct c8s_client *c)
{
    return c->servers[c->cur].text;
}

void c8s_response_clear(struct c8s_response *r)
{
    mem_free(r->body);
    memset(r, 0, sizeof *r);
}

/* ---- choosing a server -----------------------------------------------------*/

/* The first server not set aside, from the one that answered last; if all
 * are, the one that comes back first. */
static size_t pick_server(const struct c8s_client *c, int64_t now)
{
    size_t best = c->cur;

    for (size_t k = 0; k < c->n_servers; k++) {
        size_t i = (c->cur + k) % c->n_servers;

        if (c->servers[i].down_until <= now)
            return i;
        if (c->servers[i].down_until < c->servers[best].down_until)
            best = i;
    }
    return best;
}

void client__server_failed(struct c8s_client *c, size_t i)
{
    struct server *s = &c->servers[i];
    int64_t now = client__now_ms();

    /* One outage counts once: failures of requests that were already under
     * way when it was set aside (the asynchronous client has many) do not
     * lengthen the penalty. */
    if (s->down_until <= now) {
        s->down_ms = s->down_ms == 0 ? DOWN_MIN_MS
                     : s->down_ms >= DOWN_MAX_MS / 2 ? DOWN_MAX_MS
                                                     : s->down_ms * 2;
        s->down_until = now + s->down_ms;
    }
    for (size_t j = 0; j < s->n_idle; j++) /* they lead to the same place */
        client__conn_close(&s->idle[j]);
    s->n_idle = 0;
    if (c->cur == i)
        c->cur = (i + 1) % c->n_servers;
}

void client__server_answered(struct c8s_client *c, size_t i)
{
    c->servers[i].down_until = 0;
    c->servers[i].down_ms = 0;
    c->cur = i;
}

/* An idle connection the server has not closed meanwhile (a closed one
 * reads as ready: EOF), or false. */
static bool pop_idle(struct server *s, struct client__conn *ret)
{
    while (s->n_idle > 0) {
        struct client__conn c = s->idle[--s->n_idle];
        struct pollfd p = {.fd = c.fd, .events = POLLIN};

        if (poll(&p, 1, 0) == 0) {
            *ret = c;
            return true;
        }
        client__conn_close(&c);
    }
    return false;
}

static void push_idle(struct server *s, struct client__conn *c)
{
    if (s->n_idle < POOL_IDLE_MAX)
        s->idle[s->n_idle++] = *c;
    else
        client__conn_close(c);
}

/* ---- one attempt -----------------------------------------------------------*/

/* The request line and headers. Sized exactly (asprintf), so no input can
 * overflow it; the caller checked that nothing in it can break a line. */
int client__build_head(const struct c8s_client *c, size_t si,
                       const struct client__attempt *a, char **ret,
                       size_t *ret_len)
{
    const struct server *s = &c->servers[si];
    bool needs_length = strcmp(a->method, "POST") == 0 ||
                        strcmp(a->method, "PUT") == 0 ||
                        strcmp(a->method, "PATCH") == 0;
    char host[300], length[96] = "";
    char *head = NULL;
    int n;

    (void)snprintf(host, sizeof host, strchr(s->url.host, ':') != NULL
                                          ? "[%s]:%d" : "%s:%d",
                   s->url.host, s->url.port);
    if (a->body != NULL || needs_length)
        (void)snprintf(length, sizeof length, "Content-Length: %zu\r\n",
                       a->body != NULL ? a->body_len : 0);
    n = asprintf(&head,
                 "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                 "Accept: application/json, */*\r\n%s%s%s%s%s%s%s\r\n",
                 a->method, s->url.prefix, a->path, host, c->user_agent,
                 c->token != NULL ? "Authorization: Bearer " : "",
                 c->token != NULL ? c->token : "",
                 c->token != NULL ? "\r\n" : "",
                 a->body != NULL ? "Content-Type: " : "",
                 a->body != NULL ? (a->content_type != NULL ? a->content_type
                                                          : "application/json")
                                 : "",
                 a->body != NULL ? "\r\n" : "", length);
    if (n < 0)
        return -ENOMEM;
    *ret = head;
    *ret_len = (size_t)n;
    return 0;
}

static enum client__outcome attempt_once(struct c8s_client *c, size_t si,
                                        struct client__attempt *a,
                                        int64_t deadline)
{
    struct server *s = &c->servers[si];
    int64_t connect_deadline = client__now_ms() + c->connect_timeout_ms;
    struct client__conn conn;
    size_t head_len;
    char *head;
    int rv;

    a->why[0] = '\0';
    if (!pop_idle(s, &conn)) {
        if (connect_deadline > deadline)
            connect_deadline = deadline;
        rv = client__conn_open(&conn, &s->url, c->ctx, c->sni,
                               connect_deadline, a->why, sizeof a->why);
        if (rv != 0) {
            a->code = rv;
            client__server_failed(c, si);
            return CLIENT_NOT_SENT;
        }
    }
    if ((rv = client__build_head(c, si, a, &head, &head_len)) != 0) {
        client__conn_close(&conn);
        a->code = rv;
        return CLIENT_NOT_SENT;
    }
    rv = client__conn_send(&conn, head, head_len, a->body, a->body_len,
                           deadline);
    free(head);
    if (rv == 0)
        rv = client__conn_receive(&conn, strcmp(a->method, "HEAD") == 0,
                                  &a->ans, deadline);
    if (rv != 0) {
        client__conn_close(&conn);
        client__answer_reset(&a->ans);
        a->code = rv;
        if (rv != -ETIMEDOUT)
            client__server_failed(c, si);
        return CLIENT_LOST;
    }
    client__server_answered(c, si);
    if (a->ans.keep_alive)
        push_idle(s, &conn);
    else
        client__conn_close(&conn);
    return CLIENT_ANSWERED;
}

/* ---- retries ---------------------------------------------------------------*/

static bool idempotent(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "OPTIONS") == 0;
}

static int64_t jittered(int64_t ms)
{
    uint32_t r = 0;

    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)client__now_ms();
    return ms / 2 + (int64_t)(r % (uint32_t)(ms / 2 + 1)); /* [ms/2, ms] */
}

/* How long to wait before the next try after @ans: Retry-After seconds if
 * the server said so, else the backoff. */
static int64_t wait_before_retry(const struct client__answer *ans,
                                 int64_t backoff)
{
    long s;
    char *end;

    if (ans != NULL && ans->retry_after[0] != '\0') {
        s = strtol(ans->retry_after, &end, 10);
        if (end != ans->retry_after && s >= 0)
            return (s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s) * 1000;
    }
    return jittered(backoff);
}

/* ---- answers as codes ------------------------------------------------------*/

static int status_code(int status, const char *reason)
{
    switch (status) {
    case 400:
    case 422:
        return -EINVAL;
    case 401:
        return -EACCES;
    case 403:
        return -EPERM;
    case 404:
        return -C8S_ENOTFOUND;
    case 409:
        return strcmp(reason, "AlreadyExists") == 0 ? -C8S_EEXISTS
                                                    : -C8S_ECONFLICT;
    case 410:
        return -C8S_ECOMPACTED;
    case 429:
    case 503:
        return -C8S_EOVERLOADED;
    case 504: /* the server's word for a write of unknown outcome */
        return -C8S_EUNKNOWN;
    default:
        return -C8S_EHTTP;
    }
}

/* Fill @err from a non-2xx answer, reading its Status if it has one. */
int client__answer_error(const char *method, const char *server,
                         const char *path, const struct client__answer *ans,
                         struct c8s_error *err)
{
    struct obj_decode_opts opts = {0};
    struct obj *st = NULL;
    const char *reason = "", *message = "";
    int code;

    if (ans->body_len > 0 &&
        obj_json_decode(ans->body, ans->body_len, &opts, &st, NULL) == 0) {
        reason = obj_str_or(obj_map_get(st, "reason"), "");
        message = obj_str_or(obj_map_get(st, "message"), "");
    }
    code = status_code(ans->status, reason);
    (void)client__fail(err, code, "%s %s%s: %d %s%s%s", method, server,
               path, ans->status, reason, message[0] != '\0' ? ": " : "",
               message);
    if (err != NULL) {
        err->http_status = ans->status;
        (void)snprintf(err->reason, sizeof err->reason, "%s", reason);
    }
    obj_unref(st);
    return code;
}

static int no_answer(const struct c8s_client *c,
                     const struct client__attempt *a, bool unknown,
                     struct c8s_error *err)
{
    int code = unknown ? -C8S_EUNKNOWN : a->code;

    return client__fail(err, code, "%s %s%s: %s%s%s%s (after %d attempt%s)",
                a->method, c->servers[a->si].text, a->path,
                unknown ? "no answer, the write may or may not have happened: "
                        : "",
                c8s_strerror(a->code), a->why[0] != '\0' ? ": " : "", a->why,
                a->tries, a->tries == 1 ? "" : "s");
}

static void to_response(struct client__attempt *a, struct c8s_response *resp)
{
    resp->status = a->ans.status;
    (void)snprintf(resp->content_type, sizeof resp->content_type, "%s",
                   a->ans.content_type);
    resp->body = a->ans.body != NULL ? a->ans.body : mem_strdup("");
    resp->body_len = a->ans.body != NULL ? a->ans.body_len : 0;
    a->ans.body = NULL;
}

int client__attempt_init(const struct c8s_client *c, struct client__attempt *a,
                         const char *method, const char *path,
                         const char *content_type, const void *body,
                         size_t body_len, struct c8s_error *err)
{
    memset(a, 0, sizeof *a);
    a->method = method;
    a->path = path;
    a->content_type = content_type;
    a->body = body;
    a->body_len = body_len;
    a->deadline = client__now_ms() + c->timeout_ms;
    a->backoff = BACKOFF_FIRST_MS;
    a->si = c->cur;
    if (path[0] != '/')
        return client__fail(err, -EINVAL, "%s %s: the path must start with '/'",
                    method, path);
    if (!client__request_safe(method, path, content_type))
        return client__fail(err, -EINVAL, "%s %s: the method, path or content "
                    "type holds a space or a line break (encode the query)",
                    method, path);
    return 0;
}

size_t client__attempt_begin(struct c8s_client *c, struct client__attempt *a)
{
    a->si = pick_server(c, client__now_ms());
    a->tries++;
    a->code = 0;
    a->why[0] = '\0';
    client__answer_reset(&a->ans);
    return a->si;
}

enum client__next client__attempt_next(struct c8s_client *c,
                                       struct client__attempt *a,
                                       enum client__outcome o, int64_t *wait)
{
    int64_t now = client__now_ms(), w;

    if (o == CLIENT_ANSWERED) {
        /* A 503 with Retry-After is a refusal, as client-go takes it
         * (c8s: no leader, the write was not proposed): any method may
         * go again. Without it, a write might have been acted on. */
        bool again = a->ans.status == 429 ||
                     (a->ans.status == 503 &&
                      (idempotent(a->method) || a->ans.retry_after[0] != '\0'));

        if (!again || a->tries >= c->max_attempts)
            return CLIENT_FINISH;
        w = wait_before_retry(&a->ans, a->backoff);
    } else if (o == CLIENT_LOST && !idempotent(a->method)) {
        return CLIENT_UNKNOWN;
    } else {
        /* A connect that timed out is one server failing: the next is
         * tried while the request's own deadline allows. */
        if (a->tries >= c->max_attempts || now >= a->deadline)
            return CLIENT_NO_ANSWER;
        /* Another server is tried at once; the same one after a pause. */
        w = pick_server(c, now) != a->si || c->servers[a->si].down_until == 0
                ? 0
                : jittered(a->backoff);
    }
    if (now + w >= a->deadline)
        return o == CLIENT_ANSWERED ? CLIENT_FINISH : CLIENT_NO_ANSWER;
    a->backoff = a->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                 : a->backoff * 2;
    *wait = w;
    return CLIENT_RETRY;
}

int client__attempt_end(const struct c8s_client *c, struct client__attempt *a,
                        enum client__next next, struct c8s_response *resp,
                        struct c8s_error *err)
{
    int rv;

    memset(resp, 0, sizeof *resp);
    if (next == CLIENT_NO_ANSWER || next == CLIENT_UNKNOWN) {
        rv = no_answer(c, a, next == CLIENT_UNKNOWN, err);
    } else {
        rv = a->ans.status >= 200 && a->ans.status < 300
                 ? 0
                 : client__answer_error(a->method, c->servers[a->si].text,
                                        a->path, &a->ans, err);
        to_response(a, resp);
    }
    client__answer_reset(&a->ans);
    return rv;
}

int c8s_request(struct c8s_client *c, const char *method, const char *path,
                const char *content_type, const void *body, size_t body_len,
                struct c8s_response *resp, struct c8s_error *err)
{
    struct client__attempt a;
    enum client__next next;
    int rv;

    memset(resp, 0, sizeof *resp);
    rv = client__attempt_init(c, &a, method, path, content_type, body,
                              body_len, err);
    if (rv != 0)
        return rv;
    for (;;) {
        size_t si = client__attempt_begin(c, &a);
        int64_t wait = 0;

        next = client__attempt_next(c, &a, attempt_once(c, si, &a, a.deadline),
                                    &wait);
        if (next != CLIENT_RETRY)
            break;
        client__sleep_ms(wait);
    }
    return client__attempt_end(c, &a, next, resp, err);
}

/* ---- what the asynchronous client reads ------------------------------------*/

size_t client__pick_server(const struct c8s_client *c)
{
    return pick_server(c, client__now_ms());
}

bool client__server_set_aside(const struct c8s_client *c, size_t si)
{
    return c->servers[si].down_until > client__now_ms();
}

const struct client__url *client__server_url(const struct c8s_client *c,
                                             size_t si)
{
    return &c->servers[si].url;
}

size_t client__server_count(const struct c8s_client *c)
{
    return c->n_servers;
}

SSL_CTX *client__tls_ctx(const struct c8s_client *c)
{
    return c->ctx;
}

const char *client__tls_sni(const struct c8s_client *c)
{
    return c->sni;
}

int64_t client__connect_timeout_ms(const struct c8s_client *c)
{
    return c->connect_timeout_ms;
}

/* ---- streams (watch) -------------------------------------------------------*/

int client__stream_open(struct c8s_client *c, const char *path,
                        struct client__conn *conn, struct client__reader *rd,
                        struct client__answer *ans, int64_t deadline,
                        const char **ret_server, struct c8s_error *err)
{
    size_t si = pick_server(c, client__now_ms());
    int64_t connect_deadline = client__now_ms() + c->connect_timeout_ms;
    struct client__attempt a = {.method = "GET", .path = path, .si = si,
                                .tries = 1};
    size_t head_len;
    char *head;
    int rv;

    *ret_server = c->servers[si].text;
    client__answer_reset(ans); /* nothing of an earlier attempt stays */
    if (!client__request_safe("GET", path, NULL))
        return client__fail(err, -EINVAL, "GET %s: the path holds a space or a "
                    "line break (encode the query)", path);
    if (connect_deadline > deadline)
        connect_deadline = deadline;
    rv = client__conn_open(conn, &c->servers[si].url, c->ctx, c->sni,
                           connect_deadline, a.why, sizeof a.why);
    if (rv != 0) {
        a.code = rv;
        client__server_failed(c, si);
        return no_answer(c, &a, false, err);
    }
    if ((rv = client__build_head(c, si, &a, &head, &head_len)) == 0) {
        rv = client__conn_send(conn, head, head_len, NULL, 0, deadline);
        free(head);
    }
    client__reader_init(rd, ans, false);
    while (rv == 0 && !rd->headers_done)
        rv = client__reader_step(conn, rd, deadline);
    if (rv != 0) {
        /* The deadline is the opening's own (not a caller's poll): a
         * server that sends no headers in it is set aside too. */
        client__conn_close(conn);
        a.code = rv;
        client__server_failed(c, si);
        return no_answer(c, &a, false, err);
    }
    client__server_answered(c, si);
    return 0;
}

/* How long to wait before opening a stream again after @ans (or after a
 * failure to connect when @ans is NULL): Retry-After, else the backoff. */
int64_t client__stream_backoff(const struct client__answer *ans,
                               int64_t backoff)
{
    return wait_before_retry(ans, backoff);
}
