/* The text form of label selectors, parsed as k8s.io/apimachinery's
 * labels.Parse does: the same lexer (whitespace, special symbols, keywords
 * that are values in value position), the same recursive descent and the
 * same error messages, since kubectl shows them to users as they are. */
#include <errno.h>
#include <string.h>

#include "api/object/selector_internal.h"
#include "lib/mem.h"

/* Prefix of every error raised while parsing one requirement. */
#define REQ_PREFIX "unable to parse requirement: "

/* Tokens (labels.Token). */
enum tok {
    T_ERROR, /* Unknown special symbol (cannot happen: each one alone is a
              * token, but kept as Kubernetes has it). */
    T_EOS,   /* End of the input, or a NUL byte (Go's lexer reads 0). */
    T_CPAR,  /* ) */
    T_COMMA, /* , */
    T_NOT,   /* ! */
    T_DEQ,   /* == */
    T_EQ,    /* = */
    T_GT,    /* > */
    T_ID,    /* Key or value. */
    T_IN,    /* in */
    T_LT,    /* < */
    T_NE,    /* != */
    T_NOTIN, /* notin */
    T_OPAR,  /* ( */
};

/* One scanned token. */
struct item {
    enum tok tok;    /* Kind. */
    const char *lit; /* Its text, inside the input (not NUL-terminated). */
    size_t len;      /* Length of lit. */
};

/* Whether keywords are read as values: "x in (in)" has the value "in". */
enum ctx {
    CTX_KEY_OP, /* Key and operator position. */
    CTX_VALUES, /* Value position: in and notin are identifiers. */
};

/* Lexer state followed by the scanned items. */
struct parser {
    const char *s;      /* Input. */
    size_t len;         /* Its length. */
    size_t pos;         /* Lexer position. */
    struct item *items; /* Tokens, the last one T_EOS. */
    size_t nitems;      /* Entries in items. */
    size_t at;          /* Parser position in items. */
};

/* Values of one requirement being gathered (C strings, mem_malloc'ed). */
struct vals {
    char **v;   /* Values. */
    size_t n;   /* In use. */
    size_t cap; /* Allocated. */
};

/* ---- lexer --------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
    return c != '\0' && strchr("=!(),><", c) != NULL;
}

/* The byte at pos (advancing), or 0 at the end, exactly as Go's read():
 * a NUL byte is read as 0 too, but consumed. */
static char lex_read(struct parser *p)
{
    return p->pos < p->len ? p->s[p->pos++] : '\0';
}

static enum tok special_tok(const char *s, size_t n)
{
    static const struct {
        const char *text; /* Symbol. */
        enum tok tok;     /* Its token. */
    } table[] = {{")", T_CPAR}, {",", T_COMMA}, {"!", T_NOT}, {"==", T_DEQ},
                 {"=", T_EQ},   {">", T_GT},    {"<", T_LT},  {"!=", T_NE},
                 {"(", T_OPAR}};

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i].text) == n && memcmp(table[i].text, s, n) == 0)
            return table[i].tok;
    return T_ERROR;
}

/* The longest run of special symbols that is a token: "!=" but "=" "(". */
static struct item scan_special(struct parser *p)
{
    struct item it = {T_ERROR, p->s + p->pos, 0};
    size_t start = p->pos, n = 0;

    for (;;) {
        char ch = lex_read(p);
        enum tok t;

        if (ch == '\0')
            break;
        if (!is_special(ch)) {
            p->pos--;
            break;
        }
        n++;
        if ((t = special_tok(p->s + start, n)) != T_ERROR) {
            it.tok = t;
            it.len = n;
        } else if (it.tok != T_ERROR) {
            p->pos--;
            break;
        }
    }
    if (it.tok == T_ERROR)
        it.len = n;
    return it;
}

/* An identifier, or the keyword in / notin. */
static struct item scan_id(struct parser *p)
{
    struct item it = {T_ID, p->s + p->pos, 0};

    for (;;) {
        char ch = lex_read(p);

        if (ch == '\0')
            break;
        if (is_special(ch) || is_space(ch)) {
            p->pos--;
            break;
        }
        it.len++;
    }
    if (it.len == 2 && memcmp(it.lit, "in", 2) == 0)
        it.tok = T_IN;
    else if (it.len == 5 && memcmp(it.lit, "notin", 5) == 0)
        it.tok = T_NOTIN;
    return it;
}

static struct item lex(struct parser *p)
{
    char ch = lex_read(p);

    while (is_space(ch))
        ch = lex_read(p);
    if (ch == '\0')
        return (struct item){T_EOS, "", 0};
    p->pos--;
    return is_special(ch) ? scan_special(p) : scan_id(p);
}

/* Scan the whole input up front, as Kubernetes does. */
static int scan(struct parser *p)
{
    /* Every token but the last consumes at least one byte. */
    p->items = mem_calloc(p->len + 1, sizeof *p->items);
    if (p->items == NULL)
        return -ENOMEM;
    do {
        p->items[p->nitems] = lex(p);
    } while (p->items[p->nitems++].tok != T_EOS);
    return 0;
}

/* ---- parser helpers ------------------------------------------------------ */

static enum tok in_ctx(enum tok t, enum ctx c)
{
    return c == CTX_VALUES && (t == T_IN || t == T_NOTIN) ? T_ID : t;
}

static const struct item *peek(const struct parser *p, enum tok *ret,
                               enum ctx c)
{
    const struct item *it = &p->items[p->at];

    *ret = in_ctx(it->tok, c);
    return it;
}

static const struct item *next(struct parser *p, enum tok *ret, enum ctx c)
{
    const struct item *it = peek(p, ret, c);

    /* Never past the end: T_EOS repeats. */
    if (p->at + 1 < p->nitems)
        p->at++;
    return it;
}

/* Fail with "<prefix>found '<literal>'<rest>". */
static int found(struct err *e, const char *prefix, const struct item *it,
                 const char *rest)
{
    struct obj__sel_msg m;

    obj__sel_msg_init(&m);
    obj__sel_msg_addf(&m, "%sfound '", prefix);
    obj__sel_msg_raw(&m, it->lit, it->len);
    obj__sel_msg_addf(&m, "'%s", rest);
    return obj__sel_fail(e, -C8S_EMALFORMED, m.buf);
}

static int vals_add(struct vals *vs, const char *s, size_t n, struct err *e)
{
    char *copy;

    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 4;
        char **v = mem_realloc(vs->v, cap * sizeof *v);

        if (v == NULL)
            return err_setf(e, -ENOMEM, "label selector: out of memory");
        vs->v = v;
        vs->cap = cap;
    }
    if ((copy = mem_strndup(s, n)) == NULL)
        return err_setf(e, -ENOMEM, "label selector: out of memory");
    vs->v[vs->n++] = copy;
    return 0;
}

static bool vals_empty_set(const struct vals *vs)
{
    return vs->n == 0;
}

static void vals_done(struct vals *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        mem_free(vs->v[i]);
    mem_free(vs->v);
}

/* ---- grammar ------------------------------------------------------------- */

/* "[!] KEY", inferring exists / does-not-exist when nothing follows.
 * *@op stays -1 when an operator must follow. */
static int parse_key(struct parser *p, const struct item **ret_key, int *op,
                     struct err *e)
{
    const struct item *it;
    const char *why[4];
    size_t nwhy;
    enum tok t;

    it = next(p, &t, CTX_VALUES);
    if (t == T_NOT) {
        *op = OBJ_LSEL_NOT_EXISTS;
        it = next(p, &t, CTX_VALUES);
    }
    if (t != T_ID)
        return found(e, REQ_PREFIX, it, ", expected: identifier");
    if ((nwhy = obj__label_key_errors(it->lit, it->len, why)) > 0) {
        struct obj__sel_msg m;

        /* Kubernetes checks the key here with a nil field path. */
        obj__sel_msg_init(&m);
        obj__sel_msg_addf(&m, REQ_PREFIX "<nil>: Invalid value: ");
        obj__sel_msg_quote(&m, it->lit, it->len);
        obj__sel_msg_addf(&m, ": ");
        for (size_t i = 0; i < nwhy; i++)
            obj__sel_msg_addf(&m, "%s%s", i > 0 ? "; " : "", why[i]);
        return obj__sel_fail(e, -C8S_EMALFORMED, m.buf);
    }
    *ret_key = it;
    (void)peek(p, &t, CTX_VALUES);
    if ((t == T_EOS || t == T_COMMA) && *op != OBJ_LSEL_NOT_EXISTS)
        *op = OBJ_LSEL_EXISTS;
    return 0;
}

static int parse_operator(struct parser *p, int *op, struct err *e)
{
    enum tok t;
    const struct item *it = next(p, &t, CTX_KEY_OP);

    switch (t) {
    case T_IN:
        *op = OBJ_LSEL_IN;
        return 0;
    case T_EQ:
        *op = OBJ_LSEL_EQ;
        return 0;
    case T_DEQ:
        *op = OBJ_LSEL_DEQ;
        return 0;
    case T_GT:
        *op = OBJ_LSEL_GT;
        return 0;
    case T_LT:
        *op = OBJ_LSEL_LT;
        return 0;
    case T_NOTIN:
        *op = OBJ_LSEL_NOTIN;
        return 0;
    case T_NE:
        *op = OBJ_LSEL_NE;
        return 0;
    default:
        return found(e, REQ_PREFIX, it,
                     ", expected: in, notin, =, ==, !=, gt, lt");
    }
}

/* A comma after the first value or "(": empty values where nothing
 * stands between separators ("(,a)", "(a,,b)", "(a,)"). */
static int list_comma(struct parser *p, struct vals *vs, bool *done,
                      struct err *e)
{
    enum tok t;
    int rc;

    if (vals_empty_set(vs) && (rc = vals_add(vs, "", 0, e)) != 0)
        return rc;
    (void)peek(p, &t, CTX_VALUES);
    if (t == T_CPAR) {
        *done = true;
        return vals_add(vs, "", 0, e);
    }
    if (t == T_COMMA) {
        (void)next(p, &t, CTX_VALUES);
        return vals_add(vs, "", 0, e);
    }
    return 0;
}

/* "a,b,c" up to (not including) ")". */
static int parse_list(struct parser *p, struct vals *vs, struct err *e)
{
    for (bool done = false; !done;) {
        enum tok t;
        const struct item *it = next(p, &t, CTX_VALUES);
        int rc;

        if (t == T_COMMA) {
            if ((rc = list_comma(p, vs, &done, e)) != 0)
                return rc;
            continue;
        }
        if (t != T_ID)
            return found(e, REQ_PREFIX, it, ", expected: ',', or identifier");
        if ((rc = vals_add(vs, it->lit, it->len, e)) != 0)
            return rc;
        it = peek(p, &t, CTX_VALUES);
        if (t == T_CPAR)
            done = true;
        else if (t != T_COMMA)
            return found(e, REQ_PREFIX, it, ", expected: ',' or ')'");
    }
    return 0;
}

/* "(a,b)" after in / notin; "()" is the set holding "". */
static int parse_set(struct parser *p, struct vals *vs, struct err *e)
{
    enum tok t;
    const struct item *it = next(p, &t, CTX_VALUES);
    int rc;

    if (t != T_OPAR)
        return found(e, REQ_PREFIX, it, " expected: '('");
    it = peek(p, &t, CTX_VALUES);
    if (t == T_ID || t == T_COMMA) {
        if ((rc = parse_list(p, vs, e)) != 0)
            return rc;
        (void)next(p, &t, CTX_VALUES); /* The ")" parse_list stopped at. */
        return 0;
    }
    if (t == T_CPAR) {
        (void)next(p, &t, CTX_VALUES);
        return vals_add(vs, "", 0, e);
    }
    return found(e, REQ_PREFIX, it, ", expected: ',', ')' or identifier");
}

/* The value after =, ==, !=, > or <; none before "," or the end is "". */
static int parse_exact(struct parser *p, struct vals *vs, struct err *e)
{
    enum tok t;
    const struct item *it = peek(p, &t, CTX_VALUES);

    if (t == T_EOS || t == T_COMMA)
        return vals_add(vs, "", 0, e);
    it = next(p, &t, CTX_VALUES);
    if (t != T_ID)
        return found(e, REQ_PREFIX, it, ", expected: identifier");
    return vals_add(vs, it->lit, it->len, e);
}

static int parse_requirement(struct parser *p, struct obj_lsel_req *r,
                             struct err *e)
{
    const struct item *key = NULL;
    struct vals vs = {NULL, 0, 0};
    char *k = NULL;
    int op = -1, rc;

    if ((rc = parse_key(p, &key, &op, e)) != 0)
        return rc;
    if (op == -1 && (rc = parse_operator(p, &op, e)) != 0)
        return rc;
    if (op == OBJ_LSEL_IN || op == OBJ_LSEL_NOTIN)
        rc = parse_set(p, &vs, e);
    else if (op != OBJ_LSEL_EXISTS && op != OBJ_LSEL_NOT_EXISTS)
        rc = parse_exact(p, &vs, e);
    if (rc == 0 && (k = mem_strndup(key->lit, key->len)) == NULL)
        rc = err_setf(e, -ENOMEM, "label selector: out of memory");
    if (rc == 0)
        rc = obj__lsel_req_init(r, k, (enum obj_lsel_op)op,
                                (const char *const *)vs.v, vs.n, true,
                                REQ_PREFIX, e);
    mem_free(k);
    vals_done(&vs);
    return rc;
}

/* <requirement> ("," <requirement>)* or nothing. */
static int parse_all(struct parser *p, struct obj_lsel *s, struct err *e)
{
    for (;;) {
        struct obj_lsel_req r;
        const struct item *it;
        enum tok t;
        int rc;

        it = peek(p, &t, CTX_VALUES);
        if (t == T_EOS)
            return 0;
        if (t != T_ID && t != T_NOT)
            return found(e, "", it,
                         ", expected: !, identifier, or 'end of string'");
        if ((rc = parse_requirement(p, &r, e)) != 0)
            return rc;
        if (obj__lsel_add(s, &r) != 0) {
            obj__lsel_req_done(&r);
            return err_setf(e, -ENOMEM, "label selector: out of memory");
        }
        it = next(p, &t, CTX_VALUES);
        if (t == T_EOS)
            return 0;
        if (t != T_COMMA)
            return found(e, "", it, ", expected: ',' or 'end of string'");
        it = peek(p, &t, CTX_VALUES);
        if (t != T_ID && t != T_NOT)
            return found(e, "", it, ", expected: identifier after ','");
    }
}

int obj_lsel_parse(const char *text, size_t len, struct obj_lsel **ret,
                   struct err *e)
{
    struct parser p = {text, len, 0, NULL, 0, 0};
    struct obj_lsel *s = mem_calloc(1, sizeof *s);
    int rc;

    if (s == NULL)
        return err_setf(e, -ENOMEM, "label selector: out of memory");
    if ((rc = scan(&p)) != 0) {
        rc = err_setf(e, rc, "label selector: out of memory");
        goto err_after_sel;
    }
    rc = parse_all(&p, s, e);
    mem_free(p.items);
    if (rc != 0)
        goto err_after_sel;
    /* Sorted by key for a deterministic result, as Kubernetes does. */
    if ((rc = obj__lsel_sort(s)) != 0) {
        rc = err_setf(e, rc, "label selector: out of memory");
        goto err_after_sel;
    }
    *ret = s;
    return 0;

err_after_sel:
    obj_lsel_free(s);
    return rc;
}
