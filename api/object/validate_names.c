/* String rules (DNS names, qualified names, label values, config keys) with
 * Kubernetes' explanations, and generated names.
 *
 * Kubernetes checks these with regular expressions; the grammars are small
 * enough to check by hand, which allocates nothing. The messages quote the
 * regular expressions anyway, because users read them. */
#include <errno.h>
#include <string.h>

#include "api/object/validate.h"

/* ---- messages (k8s.io/apimachinery/pkg/util/validation, v0.33) ----------*/

#define STR_(x) #x
#define STR(x) STR_(x)
#define MAXLEN(n) "must be no more than " STR(n) " characters"
/* Go's RegexError: note the double space before "or", which kubectl users
 * see in every such message. */
#define EG "(e.g. "
#define OR " or "
#define RE(fmt) "regex used for validation is '" fmt "')"

#define LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define SUBDOMAIN_FMT LABEL_FMT "(\\." LABEL_FMT ")*"
#define DNS1035_FMT "[a-z]([-a-z0-9]*[a-z0-9])?"
#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define LABEL_VALUE_FMT "(" QNAME_FMT ")?"
#define CONFIG_KEY_FMT "[-._a-zA-Z0-9]+"

#define LABEL_MSG                                                         \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric " \
    "characters or '-', and must start and end with an alphanumeric "     \
    "character " EG "'my-name', " OR "'123-abc', " RE(LABEL_FMT)
#define SUBDOMAIN_MSG                                                         \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " \
    "characters, '-' or '.', and must start and end with an alphanumeric "    \
    "character " EG "'example.com', " RE(SUBDOMAIN_FMT)
#define DNS1035_MSG                                                           \
    "a DNS-1035 label must consist of lower case alphanumeric characters or " \
    "'-', start with an alphabetic character, and end with an alphanumeric "  \
    "character " EG "'my-name', " OR "'abc-123', " RE(DNS1035_FMT)
#define QNAME_RE                                                          \
    "must consist of alphanumeric characters, '-', '_' or '.', and must " \
    "start and end with an alphanumeric character " EG "'MyName', " OR    \
    "'my.name', " OR "'123-abc', " RE(QNAME_FMT)
#define LABEL_VALUE_MSG                                                 \
    "a valid label must be an empty string or consist of alphanumeric " \
    "characters, '-', '_' or '.', and must start and end with an "      \
    "alphanumeric character " EG "'MyValue', " OR "'my_value', " OR     \
    "'12345', " RE(LABEL_VALUE_FMT)
#define CONFIG_KEY_MSG                                                      \
    "a valid config key must consist of alphanumeric characters, '-', '_' " \
    "or '.' " EG "'key.name', " OR "'KEY_NAME', " OR                        \
    "'key-name', " RE(CONFIG_KEY_FMT)

static void add(struct obj_msgs *m, const char *msg)
{
    if (m->n < OBJ_MSGS_MAX)
        m->v[m->n++] = msg;
}

/* ---- character classes ----------------------------------------------------*/

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower(char c, bool fold)
{
    return (c >= 'a' && c <= 'z') || (fold && c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
    return is_digit(c) || is_lower(c, true);
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?, or with @alpha_first [a-z] first; @fold
 * also accepts upper case (annotation key prefixes). */
static bool label_ok(const char *s, size_t len, bool fold, bool alpha_first)
{
    if (len == 0 || s[len - 1] == '-' || s[0] == '-')
        return false;
    if (alpha_first && !is_lower(s[0], fold))
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] != '-' && !is_digit(s[i]) && !is_lower(s[i], fold))
            return false;
    return true;
}

/* Labels separated by single dots (no per-label length limit: the
 * regular expression has none). */
static bool subdomain_ok(const char *s, size_t len, bool fold)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (!label_ok(s + start, i - start, fold, false))
            return false;
        start = i + 1;
    }
    return true;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool qname_part_ok(const char *s, size_t len)
{
    if (len == 0 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
        return false;
    for (size_t i = 1; i + 1 < len; i++)
        if (!is_alnum(s[i]) && strchr("-_.", s[i]) == NULL)
            return false;
    return true;
}

/* ---- checks -------------------------------------------------------------- */

void obj_check_dns1123_label(const char *s, size_t len, struct obj_msgs *ret)
{
    ret->n = 0;
    if (len > OBJ_DNS1123_LABEL_MAX)
        add(ret, MAXLEN(63));
    if (label_ok(s, len, false, false))
        return;
    /* A valid subdomain that is not a label can only have dots in it. */
    add(ret, subdomain_ok(s, len, false) ? "must not contain dots" : LABEL_MSG);
}

static void subdomain(const char *s,
                      size_t len,
                      bool fold,
                      struct obj_msgs *ret)
{
    if (len > OBJ_DNS1123_SUBDOMAIN_MAX)
        add(ret, MAXLEN(253));
    if (!subdomain_ok(s, len, fold))
        add(ret, SUBDOMAIN_MSG);
}

void obj_check_dns1123_subdomain(const char *s,
                                 size_t len,
                                 struct obj_msgs *ret)
{
    ret->n = 0;
    subdomain(s, len, false, ret);
}

void obj_check_dns1035_label(const char *s, size_t len, struct obj_msgs *ret)
{
    ret->n = 0;
    if (len > OBJ_DNS1035_LABEL_MAX)
        add(ret, MAXLEN(63));
    if (!label_ok(s, len, false, true))
        add(ret, DNS1035_MSG);
}

/* The prefix part of a qualified name; "prefix part " goes before each
 * subdomain message, so the messages are spelled out whole. */
static void qname_prefix(const char *s,
                         size_t len,
                         bool fold,
                         struct obj_msgs *ret)
{
    if (len == 0) {
        add(ret, "prefix part must be non-empty");
        return;
    }
    if (len > OBJ_DNS1123_SUBDOMAIN_MAX)
        add(ret, "prefix part " MAXLEN(253));
    if (!subdomain_ok(s, len, fold))
        add(ret, "prefix part " SUBDOMAIN_MSG);
}

/* Qualified name; @fold: the prefix may have upper case (annotations). */
static void qualified_name(const char *s,
                           size_t len,
                           bool fold,
                           struct obj_msgs *ret)
{
    const char *slash = memchr(s, '/', len);
    const char *name = s;
    size_t nlen = len;

    ret->n = 0;
    if (slash != NULL) {
        name = slash + 1;
        nlen = len - (size_t)(name - s);
        if (memchr(name, '/', nlen) != NULL) {
            add(ret, "a qualified name " QNAME_RE
                     " with an optional DNS subdomain prefix and '/' (e.g. "
                     "'example.com/MyName')");
            return;
        }
        qname_prefix(s, (size_t)(slash - s), fold, ret);
    }
    if (nlen == 0)
        add(ret, "name part must be non-empty");
    else if (nlen > OBJ_QUALIFIED_NAME_MAX)
        add(ret, "name part " MAXLEN(63));
    if (!qname_part_ok(name, nlen))
        add(ret, "name part " QNAME_RE);
}

void obj_check_qualified_name(const char *s, size_t len, struct obj_msgs *ret)
{
    qualified_name(s, len, false, ret);
}

void obj_check_label_value(const char *s, size_t len, struct obj_msgs *ret)
{
    ret->n = 0;
    if (len > OBJ_LABEL_VALUE_MAX)
        add(ret, MAXLEN(63));
    if (len > 0 && !qname_part_ok(s, len))
        add(ret, LABEL_VALUE_MSG);
}

void obj_check_path_segment(const char *s,
                            size_t len,
                            bool prefix,
                            struct obj_msgs *ret)
{
    ret->n = 0;
    if (!prefix && len == 1 && s[0] == '.') {
        add(ret, "may not be '.'");
        return;
    }
    if (!prefix && len == 2 && s[0] == '.' && s[1] == '.') {
        add(ret, "may not be '..'");
        return;
    }
    if (memchr(s, '/', len) != NULL)
        add(ret, "may not contain '/'");
    if (memchr(s, '%', len) != NULL)
        add(ret, "may not contain '%'");
}

void obj_check_config_key(const char *s, size_t len, struct obj_msgs *ret)
{
    bool ok = len > 0;

    ret->n = 0;
    if (len > OBJ_CONFIG_KEY_MAX)
        add(ret, MAXLEN(253));
    for (size_t i = 0; i < len && ok; i++)
        ok = is_alnum(s[i]) || strchr("-._", s[i]) != NULL;
    if (!ok)
        add(ret, CONFIG_KEY_MSG);
    /* Keys become file names in volumes: nothing that walks up. */
    if (len == 1 && s[0] == '.')
        add(ret, "must not be '.'");
    else if (len == 2 && memcmp(s, "..", 2) == 0)
        add(ret, "must not be '..'");
    else if (len >= 2 && memcmp(s, "..", 2) == 0)
        add(ret, "must not start with '..'");
}

/* ---- names ----------------------------------------------------------------*/

void obj_check_name(enum obj_name_rule rule,
                    const char *s,
                    size_t len,
                    bool prefix,
                    struct obj_msgs *ret)
{
    char buf[OBJ_DNS1123_SUBDOMAIN_MAX + 1];

    /* A generateName may end in "-": random characters follow. Check it
     * with the dash replaced by a letter. (Go's maskTrailingDash also drops
     * the character before the dash, a slip we do not copy: the generated
     * name is checked in full afterwards either way.) */
    if (rule != OBJ_NAME_PATH_SEGMENT && prefix && len > 1 &&
        s[len - 1] == '-' && len <= sizeof buf) {
        memcpy(buf, s, len - 1);
        buf[len - 1] = 'a';
        s = buf;
    }
    switch (rule) {
    case OBJ_NAME_DNS1123_SUBDOMAIN:
        obj_check_dns1123_subdomain(s, len, ret);
        break;
    case OBJ_NAME_DNS1123_LABEL:
        obj_check_dns1123_label(s, len, ret);
        break;
    case OBJ_NAME_DNS1035_LABEL:
        obj_check_dns1035_label(s, len, ret);
        break;
    case OBJ_NAME_PATH_SEGMENT:
        obj_check_path_segment(s, len, prefix, ret);
        break;
    }
}

void obj_generate_name(
    const char *base,
    size_t len,
    uint64_t rnd,
    char ret[OBJ_GENERATE_NAME_BASE_MAX + OBJ_GENERATE_NAME_RANDOM + 1])
{
    static const char alphabet[] = OBJ_GENERATE_NAME_ALPHABET;
    const uint64_t nchars = sizeof alphabet - 1;

    /* Cut at a character boundary (Go cuts bytes and can leave half a
     * character; such a base is invalid anyway, but we keep valid UTF-8). */
    if (len > OBJ_GENERATE_NAME_BASE_MAX) {
        len = OBJ_GENERATE_NAME_BASE_MAX;
        while (len > 0 && ((unsigned char)base[len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(ret, base, len);
    /* 27^5 is far below 2^64, so the characters are as good as uniform. */
    for (size_t i = 0; i < OBJ_GENERATE_NAME_RANDOM; i++) {
        ret[len++] = alphabet[rnd % nchars];
        rnd /= nchars;
    }
    ret[len] = '\0';
}

int obj_meta_generate_name(struct obj *meta, uint64_t rnd)
{
    char name[OBJ_GENERATE_NAME_BASE_MAX + OBJ_GENERATE_NAME_RANDOM + 1];
    const char *base;
    struct obj *v;
    size_t len = 0;
    int r;

    base = obj_str(obj_map_get(meta, "generateName"), &len);
    if (obj_str_or(obj_map_get(meta, "name"), "")[0] != '\0' || base == NULL ||
        len == 0)
        return 0;
    obj_generate_name(base, len, rnd, name);
    v = obj_str_new_c(name);
    if ((r = obj_map_set(meta, "name", v)) != 0) {
        obj_unref(v);
        return r;
    }
    return 1;
}
