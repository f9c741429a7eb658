/* Pieces the selector files share: message building with Go-style quoting,
 * Kubernetes' label key and value rules with their exact messages, and
 * integer and value-to-text conversions. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/object/selector_internal.h"

void obj__sel_msg_init(struct obj__sel_msg *m)
{
    m->buf[0] = '\0';
    m->len = 0;
}

void obj__sel_msg_addf(struct obj__sel_msg *m, const char *fmt, ...)
{
    size_t room = sizeof m->buf - m->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(m->buf + m->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        m->buf[m->len] = '\0';
    } else if ((size_t)n < room) {
        m->len += (size_t)n;
    } else {
        /* Cut: drop a partly written character, keeping valid UTF-8. */
        size_t end = sizeof m->buf - 1, j = end;

        while (j > m->len && ((unsigned char)m->buf[j - 1] & 0xc0) == 0x80)
            j--;
        if (j > m->len) {
            unsigned char c = (unsigned char)m->buf[j - 1];
            size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

            if (j - 1 + want > end)
                end = j - 1;
        }
        m->buf[end] = '\0';
        m->len = end;
    }
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t want = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;

    if (want == 0 || want > n)
        return 0;
    return obj_utf8_check((const char *)s, want, NULL) ? want : 0;
}

/* One ASCII byte the way strconv.Quote writes it. */
static void quote_ascii(struct obj__sel_msg *m, unsigned char c)
{
    static const char esc[] = "\a\b\f\n\r\t\v";
    static const char name[] = "abfnrtv";
    const char *p = c != 0 ? strchr(esc, c) : NULL;

    if (c == '"' || c == '\\')
        obj__sel_msg_addf(m, "\\%c", c);
    else if (p != NULL)
        obj__sel_msg_addf(m, "\\%c", name[p - esc]);
    else if (c < 0x20 || c == 0x7f)
        obj__sel_msg_addf(m, "\\x%02x", c);
    else
        obj__sel_msg_addf(m, "%c", c);
}

void obj__sel_msg_raw(struct obj__sel_msg *m, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < n;) {
        size_t seq = u[i] < 0x80 ? 1 : utf8_seq(u + i, n - i);

        if (seq == 0) {
            obj__sel_msg_addf(m, "\xef\xbf\xbd");
            i++;
        } else {
            obj__sel_msg_addf(m, "%.*s", (int)seq, s + i);
            i += seq;
        }
    }
}

int obj__sel_fail(struct err *e, int code, const char *text)
{
    size_t n = strlen(text);

    if (n >= ERR_MSG_SIZE) {
        /* Step back over continuation bytes to a character start. */
        n = ERR_MSG_SIZE - 1;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
    }
    return err_setf(e, code, "%.*s", (int)n, text);
}

void obj__sel_msg_quote(struct obj__sel_msg *m, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    obj__sel_msg_addf(m, "\"");
    for (size_t i = 0; i < n;) {
        size_t seq = u[i] < 0x80 ? 0 : utf8_seq(u + i, n - i);

        if (u[i] < 0x80) {
            quote_ascii(m, u[i]);
            i++;
        } else if (seq == 0) {
            /* Go writes each byte of invalid UTF-8 as \x. */
            obj__sel_msg_addf(m, "\\x%02x", u[i]);
            i++;
        } else {
            /* Valid multi-byte characters are kept (Go escapes the
             * non-printable ones too; rare enough to ignore). */
            obj__sel_msg_addf(m, "%.*s", (int)seq, s + i);
            i += seq;
        }
    }
    obj__sel_msg_addf(m, "\"");
}

/* ---- Kubernetes' label rules -------------------------------------------- */

/* k8s.io/apimachinery/pkg/util/validation messages, as kubectl 1.27-1.33's
 * servers print them (RegexError's odd ",  or" spacing included). */
#define KEY_RE "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define KEY_MSG                                                                \
    "must consist of alphanumeric characters, '-', '_' or '.', and must "     \
    "start and end with an alphanumeric character (e.g. 'MyName',  or "       \
    "'my.name',  or '123-abc', regex used for validation is '" KEY_RE "')"
#define DNS_LABEL_RE "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define SUBDOMAIN_RE DNS_LABEL_RE "(\\." DNS_LABEL_RE ")*"

static const char key_many_slashes[] =
    "a qualified name " KEY_MSG
    " with an optional DNS subdomain prefix and '/' (e.g. "
    "'example.com/MyName')";
static const char prefix_empty[] = "prefix part must be non-empty";
static const char prefix_long[] =
    "prefix part must be no more than 253 characters";
static const char prefix_bad[] =
    "prefix part a lowercase RFC 1123 subdomain must consist of lower case "
    "alphanumeric characters, '-' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'example.com', regex used for validation "
    "is '" SUBDOMAIN_RE "')";
static const char name_empty[] = "name part must be non-empty";
static const char name_long[] = "name part must be no more than 63 characters";
static const char name_bad[] = "name part " KEY_MSG;
static const char value_long[] = "must be no more than 63 characters";
static const char value_bad[] =
    "a valid label must be an empty string or consist of alphanumeric "
    "characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
    "regex used for validation is '(" KEY_RE ")?')";

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* The regex KEY_RE: alphanumeric at both ends, [-_.] allowed inside. */
static bool is_key_name(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

/* The regex SUBDOMAIN_RE: lowercase DNS labels joined by single dots. */
static bool is_subdomain(const char *s, size_t n)
{
    size_t start = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            bool lower = (s[i] >= 'a' && s[i] <= 'z') ||
                         (s[i] >= '0' && s[i] <= '9');
            if (!lower && s[i] != '-')
                return false;
            continue;
        }
        /* A label [start, i) must be non-empty and not start or end
         * with '-'. */
        if (i == start || s[start] == '-' || s[i - 1] == '-')
            return false;
        start = i + 1;
    }
    return true;
}

size_t obj__label_key_errors(const char *k, size_t n, const char *out[4])
{
    const char *slash = memchr(k, '/', n);
    const char *name = k;
    size_t nlen = n, count = 0;

    if (slash != NULL) {
        size_t plen = (size_t)(slash - k);

        if (memchr(slash + 1, '/', n - plen - 1) != NULL) {
            out[0] = key_many_slashes;
            return 1;
        }
        name = slash + 1;
        nlen = n - plen - 1;
        if (plen == 0)
            out[count++] = prefix_empty;
        else if (plen > 253)
            out[count++] = prefix_long;
        if (plen > 0 && !is_subdomain(k, plen))
            out[count++] = prefix_bad;
    }
    if (nlen == 0)
        out[count++] = name_empty;
    else if (nlen > 63)
        out[count++] = name_long;
    if (!is_key_name(name, nlen))
        out[count++] = name_bad;
    return count;
}

size_t obj__label_value_errors(const char *v, size_t n, const char *out[4])
{
    size_t count = 0;

    if (n > 63)
        out[count++] = value_long;
    if (n > 0 && !is_key_name(v, n))
        out[count++] = value_bad;
    return count;
}

/* ---- conversions -------------------------------------------------------- */

bool obj__parse_int64(const char *s, size_t n, int64_t *ret)
{
    bool neg = false;
    uint64_t v = 0, limit = (uint64_t)INT64_MAX;
    size_t i = 0;

    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    if (neg)
        limit++; /* -9223372036854775808 is in range. */
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (limit - (uint64_t)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    /* Negating through uint64 avoids overflow at INT64_MIN. */
    *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

const char *obj__sel_value_text(const struct obj *v, char *tmp,
                                size_t *ret_len)
{
    const char *s;
    size_t len = 0;

    switch (v != NULL ? obj_type(v) : OBJ_NULL) {
    case OBJ_STRING:
        s = obj_str(v, &len);
        break;
    case OBJ_BOOL:
        s = obj_bool_or(v, false) ? "true" : "false";
        len = strlen(s);
        break;
    case OBJ_INT:
        len = (size_t)snprintf(tmp, 24, "%" PRId64, obj_int_or(v, 0));
        s = tmp;
        break;
    default:
        return NULL;
    }
    *ret_len = len;
    return s;
}

/* ---- error lists -------------------------------------------------------- */

void obj__sel_errs_init(struct obj__sel_errs *l, obj_field_error_cb cb,
                        void *arg)
{
    obj__sel_msg_init(&l->text);
    l->count = 0;
    l->cb = cb;
    l->arg = arg;
}

/* FNV-1a over "field: body", to recognise a repeated message. */
static uint64_t msg_hash(const char *field, const char *body)
{
    uint64_t h = 14695981039346656037ull;

    for (const char *p = field; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0) * 1099511628211ull;
    for (const char *p = body; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

void obj__sel_errs_add(struct obj__sel_errs *l, const char *field,
                       const char *reason, const char *body)
{
    uint64_t h = msg_hash(field, body);
    size_t n = l->count < 32 ? l->count : 32;

    if (l->cb != NULL) {
        struct obj_field_error fe = {field, reason, body};

        l->cb(l->arg, &fe);
    }
    for (size_t i = 0; i < n; i++)
        if (l->seen[i] == h)
            return;
    if (l->count < 32)
        l->seen[l->count] = h;
    obj__sel_msg_addf(&l->text, "%s%s: %s", l->count > 0 ? ", " : "", field,
                      body);
    l->count++;
}

int obj__sel_errs_finish(const struct obj__sel_errs *l, const char *prefix,
                         struct err *e)
{
    struct obj__sel_msg m;

    if (l->count == 0)
        return 0;
    obj__sel_msg_init(&m);
    if (l->count == 1)
        obj__sel_msg_addf(&m, "%s%s", prefix, l->text.buf);
    else
        obj__sel_msg_addf(&m, "%s[%s]", prefix, l->text.buf);
    return obj__sel_fail(e, -C8S_EMALFORMED, m.buf);
}
