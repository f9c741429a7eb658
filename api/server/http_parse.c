/* Request parsing: http-parser callbacks build a struct srv_req, one at a
 * time per connection, and complete requests go to the handler.
 *
 * The parser is paused in on_message_complete, so http_parser_execute()
 * returns right after each request; bytes after it (pipelining) stay in the
 * connection's input buffer until the request is answered. Everything here
 * works on a buffer, with no socket, so tests and the fuzzer drive it
 * directly (srv__conn_feed). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/server/http_internal.h"
#include "lib/container.h"
#include "lib/mem.h"

static struct srv_conn *conn_of(http_parser *p)
{
    return p->data;
}

/* Remember why the request is refused; the nonzero return stops the parser
 * with HPE_CB_*, and parse() then answers with this status. */
static int refuse(struct srv_conn *c,
                  int status,
                  const char *reason,
                  const char *msg)
{
    if (c->fail_status == 0) {
        c->fail_status = status;
        c->fail_reason = reason;
        c->fail_msg = msg;
    }
    return -1;
}

static int refuse_oom(struct srv_conn *c)
{
    return refuse(c, 503, "ServiceUnavailable", "out of memory");
}

void srv__req_free(struct srv_req *req)
{
    struct srv__req_full *f;

    if (req == NULL)
        return;
    f = container_of(req, struct srv__req_full, pub);
    mem_free(f->priv.head);
    mem_free(f->priv.offs);
    mem_free(f->priv.hdrs);
    mem_free(f->priv.body);
    mem_free(f->priv.note);
    if (f->priv.attached_free != NULL)
        f->priv.attached_free(f->priv.attached);
    mem_free(f);
}

static int on_message_begin(http_parser *p)
{
    struct srv_conn *c = conn_of(p);
    struct srv__req_full *f = mem_calloc(1, sizeof(*f));

    if (f == NULL)
        return refuse_oom(c);
    f->pub.priv = &f->priv;
    f->pub.srv = c->srv;
    f->pub.query = "";
    f->pub.body = "";
    f->priv.conn = c;
    srv__req_free(c->cur); /* none expected; defensive */
    c->cur = &f->pub;
    c->in_head = true;
    c->head_start = srv__now(c->srv);
    srv__conn_arm(c);
    return 0;
}

/* Make room for @len more bytes and a NUL in the head buffer. */
static int head_reserve(struct srv_req_priv *r, size_t len)
{
    size_t cap = r->head_cap ? r->head_cap : 256;
    char *n;

    if (r->head_len + len + 1 <= r->head_cap)
        return 0;
    while (cap < r->head_len + len + 1)
        cap *= 2;
    n = mem_realloc(r->head, cap);
    if (n == NULL)
        return -ENOMEM;
    r->head = n;
    r->head_cap = cap;
    return 0;
}

/* Append to the head buffer without the size check (internal copies). */
static int head_put(struct srv_req_priv *r, const char *at, size_t len)
{
    if (head_reserve(r, len) != 0)
        return -ENOMEM;
    memcpy(r->head + r->head_len, at, len);
    r->head_len += len;
    return 0;
}

/* Append a copy of head[off, off+len) (the source moves if head grows). */
static int head_put_self(struct srv_req_priv *r, size_t off, size_t len)
{
    if (head_reserve(r, len) != 0)
        return -ENOMEM;
    memmove(r->head + r->head_len, r->head + off, len);
    r->head_len += len;
    return 0;
}

/* Append request bytes, enforcing max_header_bytes. */
static int head_add(struct srv_conn *c, const char *at, size_t len)
{
    struct srv_req_priv *r = c->cur->priv;

    if (r->head_len + len > c->srv->cfg.max_header_bytes)
        return refuse(c, 431, "RequestHeaderFieldsTooLarge",
                      "request header fields too large");
    if (head_put(r, at, len) != 0)
        return refuse_oom(c);
    return 0;
}

static int head_nul(struct srv_conn *c)
{
    return head_put(c->cur->priv, "", 1) == 0 ? 0 : refuse_oom(c);
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct srv_conn *c = conn_of(p);

    c->cur->priv->url_len += len;
    return head_add(c, at, len);
}

/* A new header line: terminate what came before (url or last value). */
static int header_start(struct srv_conn *c)
{
    struct srv_req_priv *r = c->cur->priv;

    if (r->n_offs >= c->srv->cfg.max_headers)
        return refuse(c, 431, "RequestHeaderFieldsTooLarge",
                      "too many request header fields");
    if (r->n_offs == r->cap_offs) {
        size_t cap = r->cap_offs ? r->cap_offs * 2 : 16;
        struct srv__hoff *n = mem_realloc(r->offs, cap * sizeof(*n));

        if (n == NULL)
            return refuse_oom(c);
        r->offs = n;
        r->cap_offs = cap;
    }
    if (head_nul(c) != 0)
        return -1;
    r->offs[r->n_offs++] = (struct srv__hoff){.name = r->head_len};
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct srv_conn *c = conn_of(p);
    struct srv_req_priv *r = c->cur->priv;

    /* Trailers of a chunked body come after the head was published (its
     * pointers must not move): they are dropped, and http-parser's own
     * header limit bounds them. */
    if (r->head_done)
        return 0;
    if (r->last_cb != 1 && header_start(c) != 0)
        return -1;
    r->last_cb = 1;
    r->offs[r->n_offs - 1].name_len += len;
    return head_add(c, at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct srv_conn *c = conn_of(p);
    struct srv_req_priv *r = c->cur->priv;
    struct srv__hoff *h;

    if (r->head_done)
        return 0; /* a trailer */
    if (r->n_offs == 0)
        return refuse(c, 400, "BadRequest", "malformed header");
    h = &r->offs[r->n_offs - 1];
    if (r->last_cb != 2) {
        if (head_nul(c) != 0)
            return -1;
        h->value = r->head_len;
    }
    r->last_cb = 2;
    h->value_len += len;
    return head_add(c, at, len);
}

static bool method_supported(unsigned m)
{
    switch (m) {
    case HTTP_GET:
    case HTTP_HEAD:
    case HTTP_POST:
    case HTTP_PUT:
    case HTTP_PATCH:
    case HTTP_DELETE:
    case HTTP_OPTIONS:
        return true;
    default:
        return false;
    }
}

/* Copy path and query out of the url, NUL-terminated, after the headers. */
static int split_target(struct srv_conn *c, size_t *ret_path, size_t *ret_query)
{
    struct srv_req_priv *r = c->cur->priv;
    struct http_parser_url u;
    int rv;

    http_parser_url_init(&u);
    if (http_parser_parse_url(r->head, r->url_len, 0, &u) != 0)
        return refuse(c, 400, "BadRequest", "malformed request target");
    *ret_path = r->head_len;
    if (u.field_set & (1 << UF_PATH))
        rv = head_put_self(r, u.field_data[UF_PATH].off,
                           u.field_data[UF_PATH].len);
    else /* absolute-form without a path ("http://host") */
        rv = head_put(r, "/", 1);
    if (rv != 0 || head_nul(c) != 0)
        return refuse_oom(c);
    *ret_query = r->head_len;
    if ((u.field_set & (1 << UF_QUERY)) &&
        head_put_self(r, u.field_data[UF_QUERY].off,
                      u.field_data[UF_QUERY].len) != 0)
        return refuse_oom(c);
    return head_nul(c);
}

/* Trim trailing blanks of a value, in place. */
static void trim_value(char *v, size_t *len)
{
    while (*len > 0 && (v[*len - 1] == ' ' || v[*len - 1] == '\t'))
        v[--*len] = '\0';
}

/* Point the public fields into the (now final) head buffer. */
static int publish_head(struct srv_conn *c, size_t path_off, size_t query_off)
{
    struct srv_req *req = c->cur;
    struct srv_req_priv *r = req->priv;

    if (r->n_offs > 0) {
        r->hdrs = mem_calloc(r->n_offs, sizeof(*r->hdrs));
        if (r->hdrs == NULL)
            return refuse_oom(c);
    }
    for (size_t i = 0; i < r->n_offs; i++) {
        struct srv__hoff *h = &r->offs[i];

        if (h->value == 0) /* no value callback at all: empty value */
            h->value = h->name + h->name_len;
        trim_value(r->head + h->value, &h->value_len);
        r->hdrs[i].name = r->head + h->name;
        r->hdrs[i].value = r->head + h->value;
    }
    req->target = r->head;
    req->path = r->head + path_off;
    req->query = r->head + query_off;
    req->headers = r->hdrs;
    req->n_headers = r->n_offs;
    return 0;
}

/* Expect: 100-continue gets an interim answer; anything else 417. */
static int handle_expect(struct srv_conn *c)
{
    const char *v = srv_req_header(c->cur, "Expect");

    if (v == NULL)
        return 0;
    if (strcasecmp(v, "100-continue") != 0)
        return refuse(c, 417, "ExpectationFailed", "unsupported Expect");
    if (c->cur->http_minor >= 1)
        srv__conn_continue(c);
    return 0;
}

static int check_request_line(struct srv_conn *c, http_parser *p)
{
    if (p->http_major != 1 || p->http_minor > 1)
        return refuse(c, 505, "HTTPVersionNotSupported",
                      "HTTP version not supported");
    if (!method_supported(p->method))
        return refuse(c, 501, "NotImplemented", "method not implemented");
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct srv_conn *c = conn_of(p);
    struct srv_req *req = c->cur;
    struct srv_req_priv *r = req->priv;
    size_t path_off, query_off;
    bool has_len = (p->flags & F_CONTENTLENGTH) != 0;

    if (check_request_line(c, p) != 0 || head_nul(c) != 0 ||
        split_target(c, &path_off, &query_off) != 0 ||
        publish_head(c, path_off, query_off) != 0)
        return -1;
    r->head_done = true;
    req->method = http_method_str(p->method);
    req->http_major = (uint8_t)p->http_major;
    req->http_minor = (uint8_t)p->http_minor;
    req->upgrade = p->upgrade;
    r->keep_alive = http_should_keep_alive(p) && !p->upgrade;
    r->is_head = p->method == HTTP_HEAD;
    if (has_len && p->content_length > c->srv->cfg.max_body_bytes)
        return refuse(c, 413, "RequestEntityTooLarge",
                      "the request body is too large");
    if (handle_expect(c) != 0)
        return -1;
    if (has_len && p->content_length > 0) {
        r->body_cap = (size_t)p->content_length + 1;
        r->body = mem_malloc(r->body_cap);
        if (r->body == NULL)
            return refuse_oom(c);
    }
    c->in_head = false;
    c->in_body = true;
    srv__conn_arm(c);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct srv_conn *c = conn_of(p);
    struct srv_req *req = c->cur;
    struct srv_req_priv *r = req->priv;

    if (req->body_len + len > c->srv->cfg.max_body_bytes)
        return refuse(c, 413, "RequestEntityTooLarge",
                      "the request body is too large");
    if (req->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        char *n;

        while (cap < req->body_len + len + 1)
            cap *= 2;
        n = mem_realloc(r->body, cap);
        if (n == NULL)
            return refuse_oom(c);
        r->body = n;
        r->body_cap = cap;
    }
    memcpy(r->body + req->body_len, at, len);
    req->body_len += len;
    r->body[req->body_len] = '\0';
    req->body = r->body;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct srv_conn *c = conn_of(p);

    c->ready = c->cur;
    c->cur = NULL;
    c->in_body = false;
    /* Return to parse() after each request: one at a time per conn. */
    http_parser_pause(p, 1);
    return 0;
}

void srv__parser_settings(http_parser_settings *s)
{
    http_parser_settings_init(s);
    s->on_message_begin = on_message_begin;
    s->on_url = on_url;
    s->on_header_field = on_header_field;
    s->on_header_value = on_header_value;
    s->on_headers_complete = on_headers_complete;
    s->on_body = on_body;
    s->on_message_complete = on_message_complete;
}

void srv__conn_parser_init(struct srv_conn *c)
{
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
}

/* Status for a parser error that no callback chose. */
static void parse_failed(struct srv_conn *c, enum http_errno en)
{
    if (c->fail_status != 0) {
        srv__conn_fail(c, c->fail_status, c->fail_reason, c->fail_msg);
        return;
    }
    switch (en) {
    case HPE_HEADER_OVERFLOW:
        srv__conn_fail(c, 431, "RequestHeaderFieldsTooLarge",
                       "request header fields too large");
        break;
    case HPE_INVALID_VERSION:
        srv__conn_fail(c, 505, "HTTPVersionNotSupported",
                       "HTTP version not supported");
        break;
    default:
        srv__conn_fail(c, 400, "BadRequest", http_errno_description(en));
        break;
    }
}

static void dispatch(struct srv_conn *c)
{
    struct srv_req *req = c->ready;

    c->ready = NULL;
    c->active = req;
    srv__conn_arm(c);
    req->priv->start_ns = uv_hrtime();
    c->srv->cfg.on_request(req);
}

static bool can_parse(const struct srv_conn *c)
{
    return c->state == SRV__OPEN && c->active == NULL && !c->close_after &&
           !c->close_now;
}

/* Parse from @data; returns the bytes consumed. Stops at a request that
 * stays with the handler, at an error, or when the conn is closing. */
static size_t parse(struct srv_conn *c, const char *data, size_t len)
{
    size_t used = 0;

    while (used < len && can_parse(c)) {
        size_t n = http_parser_execute(&c->parser, &c->srv->settings,
                                       data + used, len - used);
        enum http_errno en = HTTP_PARSER_ERRNO(&c->parser);

        used += n;
        if (en == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            dispatch(c);
            continue;
        }
        if (en != HPE_OK) {
            parse_failed(c, en);
            break;
        }
        if (n == 0)
            break;
    }
    return used;
}

static int in_append(struct srv_conn *c, const char *data, size_t len)
{
    if (c->in_len + len > c->in_cap) {
        size_t cap = c->in_cap ? c->in_cap : 4096;
        char *n;

        while (cap < c->in_len + len)
            cap *= 2;
        n = mem_realloc(c->in, cap);
        if (n == NULL)
            return -ENOMEM;
        c->in = n;
        c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, data, len);
    c->in_len += len;
    return 0;
}

void srv__conn_feed(struct srv_conn *c, const char *data, size_t len)
{
    size_t used = 0;

    if (c->state != SRV__OPEN || c->close_after || c->close_now)
        return;
    if (c->active == NULL && c->in_len == 0)
        used = parse(c, data, len);
    /* Keep the rest while a request is with the handler (pipelining). */
    if (used < len && c->state == SRV__OPEN && !c->close_after &&
        !c->close_now) {
        if (in_append(c, data + used, len - used) != 0) {
            c->close_now = true;
            srv__conn_dirty(c);
            return;
        }
        srv__conn_resume(c);
    }
}

void srv__conn_resume(struct srv_conn *c)
{
    size_t used;

    if (!can_parse(c) || c->in_len == 0)
        return;
    used = parse(c, c->in, c->in_len);
    if (used > c->in_len) /* cannot happen; keeps the memmove safe */
        used = c->in_len;
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    if (c->in_len == 0 && c->in_cap > 65536) { /* give back a big buffer */
        mem_free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
}

void srv__conn_drop_reqs(struct srv_conn *c)
{
    struct srv_req *req = c->active;

    srv__req_free(c->cur);
    srv__req_free(c->ready);
    c->cur = c->ready = NULL;
    if (req == NULL)
        return;
    c->active = NULL;
    /* Reported now, while the server surely exists: the request may end
     * after it is gone. 499, nginx's "client closed request", when no
     * answer had begun. */
    if (c->srv->cfg.on_done != NULL && req->priv->start_ns != 0)
        c->srv->cfg.on_done(req, req->priv->status ? req->priv->status : 499,
                            (double)(uv_hrtime() - req->priv->start_ns) /
                                1e9);
    req->priv->conn = NULL;
    if (req->priv->close_cb != NULL) {
        srv_req_close_cb cb = req->priv->close_cb;

        req->priv->close_cb = NULL;
        cb(req);
    }
}

const char *srv_req_header(const struct srv_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}
