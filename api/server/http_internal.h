/* Internals shared by the files of the HTTP server (http*.c). */
#ifndef C8S_API_SERVER_HTTP_INTERNAL_H
#define C8S_API_SERVER_HTTP_INTERNAL_H

#include <http_parser.h>

#include "api/server/http.h"
#include "api/server/tls.h"

/* Bytes read from a socket at once (shared buffer, one per server). */
#define SRV__READ_BUF 65536
/* Plaintext staged per SSL_write: one full TLS record. */
#define SRV__TLS_STAGE 16384
/* Unparsed input kept while a request is with the handler; above it we
 * stop reading from the socket (backpressure on pipelining clients). */
#define SRV__IN_MAX 262144

/* One piece of queued output: a range of a refcounted buffer, or of static
 * memory when rb is NULL. */
struct srv__seg {
    struct rbuf *rb; /* owner of the bytes, or NULL for static ones */
    const char *ptr; /* first byte */
    size_t len;      /* bytes */
};

/* Output queued on a connection during this loop iteration. */
struct srv__segq {
    struct srv__seg *v; /* segments in order */
    size_t n;           /* used entries */
    size_t cap;         /* allocated entries */
    size_t bytes;       /* sum of lengths */
};

/* Receives flushed output of a detached connection (tests, fuzzing). */
typedef void (*srv__sink_fn)(void *arg, const char *data, size_t len);

enum srv__conn_state {
    SRV__HANDSHAKE, /* TLS handshake in progress */
    SRV__OPEN,      /* reading requests, answering */
    SRV__LINGER,    /* FIN sent after a final answer; draining input */
    SRV__CLOSED,    /* uv_close called (or detached conn dead) */
};

struct srv_conn {
    struct srv_http *srv;         /* owning server */
    struct srv_conn *prev, *next; /* in srv->conns */
    struct srv_conn *dirty_prev;  /* in srv->dirty while dirty */
    struct srv_conn *dirty_next;  /* in srv->dirty while dirty */
    bool dirty;                   /* queued for the per-iteration hook */
    enum srv__conn_state state;   /* see enum */
    uv_tcp_t tcp;                 /* the socket (unused when detached) */
    uv_timer_t timer;             /* the one deadline of this conn */
    uv_shutdown_t shutdown;       /* FIN after the final answer */
    unsigned handles;             /* open uv handles; freed at 0 */
    bool detached;                /* no socket: output goes to sink */
    srv__sink_fn sink;            /* detached output */
    void *sink_arg;               /* for sink */
    bool has_tls;                 /* tls is initialised */
    struct srv_tls tls;           /* TLS state over memory BIOs */
    http_parser parser;           /* request parser, resumable */
    struct srv_req *cur;          /* request being parsed */
    struct srv_req *ready;        /* parsed, not yet dispatched */
    struct srv_req *active;       /* with the handler, unanswered */
    char *in;                     /* unparsed input (pipelining) */
    size_t in_len;                /* bytes in in */
    size_t in_cap;                /* allocated bytes of in */
    struct srv__segq out;         /* output not yet written */
    size_t inflight;              /* bytes in uv_write, not completed */
    size_t last_wq;               /* write queue size at last check */
    uint64_t head_start;          /* loop ms when the head began */
    uint64_t last_io;             /* loop ms of the last read/write */
    bool in_head;                 /* a request head is being read */
    bool in_body;                 /* a request body is being read */
    bool reading;                 /* uv_read_start active */
    bool eof;                     /* the peer closed its side */
    bool close_after;             /* close once the output is out */
    bool close_now;               /* close at the next hook run */
    bool shut;                    /* uv_shutdown issued */
    bool need_resume;             /* parse buffered input at next hook */
    int fail_status;              /* status a parser callback chose */
    const char *fail_reason;      /* its Kubernetes reason */
    const char *fail_msg;         /* its message */
};

/* Header offsets while the head is still growing (the buffer may move). */
struct srv__hoff {
    size_t name;      /* offset of the name in head */
    size_t name_len;  /* bytes of the name */
    size_t value;     /* offset of the value in head */
    size_t value_len; /* bytes of the value */
};

struct srv_req_priv {
    struct srv_conn *conn;     /* NULL once orphaned */
    srv_req_close_cb close_cb; /* see srv_req_on_close */
    char *head;                /* method, url, names, values, NUL-split */
    size_t head_len;           /* bytes used in head */
    size_t head_cap;           /* allocated bytes of head */
    size_t url_len;            /* bytes of the url (first in head) */
    struct srv__hoff *offs;    /* one per header line */
    size_t n_offs;             /* used entries */
    size_t cap_offs;           /* allocated entries */
    int last_cb;               /* 1 after a name piece, 2 after a value */
    struct srv_header *hdrs;   /* pointers built at end of head */
    char *body;                /* body buffer, NUL-terminated */
    char *note;                /* srv_req_set_note()'s, or NULL */
    void *attached;            /* srv_req_attach()'s, or NULL */
    void (*attached_free)(void *); /* frees it with the request */
    size_t body_cap;           /* allocated bytes of body */
    bool head_done;            /* head published: trailers are ignored */
    bool keep_alive;           /* connection stays open after the answer */
    bool is_head;              /* HEAD: answer without the body */
    bool streaming;            /* srv_stream_begin was called */
    bool chunked;              /* stream uses chunked encoding */
    uint64_t start_ns;         /* uv_hrtime() when handed to the handler */
    int status;                /* status answered, 0 until then */
};

/* A request and its private part, in one allocation. */
struct srv__req_full {
    struct srv_req pub;       /* what the handler sees */
    struct srv_req_priv priv; /* the rest */
};

struct srv_http {
    uv_loop_t *loop;               /* NULL for a detached server */
    struct srv_http_config cfg;    /* copy, defaults filled in */
    char *listen;                  /* copy of cfg.listen */
    uv_tcp_t listener;             /* listening socket */
    uv_prepare_t prepare;          /* per-iteration flush hook */
    bool prepare_on;               /* prepare is started */
    unsigned handles;              /* open handles of the server itself */
    int port;                      /* bound port */
    struct srv_conn *conns;        /* all connections */
    unsigned nconns;               /* entries in conns */
    unsigned live;                 /* socket conns not yet freed */
    struct srv_conn *dirty;        /* conns needing the hook */
    bool closing;                  /* srv_http_close was called */
    srv_http_close_cb close_cb;    /* for srv_http_close */
    http_parser_settings settings; /* parser callbacks */
    char *rbuf;                    /* SRV__READ_BUF bytes, shared */
    char *pbuf;                    /* plaintext from TLS, shared */
    char *stage;                   /* SRV__TLS_STAGE bytes for SSL_write */
    char date[40];                 /* cached "Date: ...\r\n" line */
    int64_t date_sec;              /* second date was made for */
};

/* http.c */
void srv__conn_dirty(struct srv_conn *c);
void srv__conn_arm(struct srv_conn *c);
void srv__run_pending(struct srv_http *srv);
uint64_t srv__now(const struct srv_http *srv);

/* http_parse.c */
void srv__parser_settings(http_parser_settings *s);
void srv__conn_parser_init(struct srv_conn *c);
/* Feed received plaintext; dispatches complete requests to the handler. */
void srv__conn_feed(struct srv_conn *c, const char *data, size_t len);
/* Parse input buffered while a request was with the handler. */
void srv__conn_resume(struct srv_conn *c);
/* Free a request's memory (not the handler's business). */
void srv__req_free(struct srv_req *req);
/* Drop partly parsed and undispatched requests; orphan the active one
 * and run its close callback. */
void srv__conn_drop_reqs(struct srv_conn *c);

/* http_resp.c */
void srv__segq_clear(struct srv__segq *q);
int srv__segq_push(struct srv__segq *q,
                   struct rbuf *rb,
                   const char *ptr,
                   size_t len);
/* Queue an error Status answer of the server itself and close after it. */
void srv__conn_fail(struct srv_conn *c,
                    int status,
                    const char *reason,
                    const char *msg);
/* Queue raw bytes (static) and close after them. */
void srv__conn_raw_close(struct srv_conn *c, const char *raw);
/* "HTTP/1.1 100 Continue". */
void srv__conn_continue(struct srv_conn *c);

/* Detached connections for tests and fuzzing: no loop, no socket. */
struct srv_http *srv__http_new_detached(const struct srv_http_config *cfg);
void srv__http_free_detached(struct srv_http *srv);
struct srv_conn *srv__conn_new_detached(struct srv_http *srv,
                                        srv__sink_fn fn,
                                        void *arg);
/* Ends the conn (orphaning its request) and frees it. */
void srv__conn_free_detached(struct srv_conn *c);

#endif /* C8S_API_SERVER_HTTP_INTERNAL_H */
