/* Reading a history file (history.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jepsen/history.h"
#include "lib/mem.h"

#define HISTORY_MAX ((size_t)1 << 32) /* bytes: a 10-minute run is far less */

void jep_history_free(struct jep_history *h)
{
    mem_free(h->ev);
    memset(h, 0, sizeof *h);
}

/* The next space-separated field of @line from *@p, NUL-terminated in
 * place; NULL at the end. */
static char *field(char **p)
{
    char *s = *p, *end;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return NULL;
    end = s + strcspn(s, " \t");
    if (*end != '\0')
        *end++ = '\0';
    *p = end;
    return s;
}

static bool parse_int(const char *s, int64_t *v)
{
    char *end;
    long long x;

    errno = 0;
    x = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || x == JEP_NIL)
        return false;
    *v = x;
    return true;
}

static bool parse_value(const char *s, int64_t *v)
{
    if (strcmp(s, "-") == 0) {
        *v = JEP_NIL;
        return true;
    }
    return parse_int(s, v);
}

static int parse_enum(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

static int parse_line(char *line, const char *name, size_t no,
                      struct jep_event *ev, struct err *e)
{
    static const char *const types[] = {"invoke", "ok", "fail", "info"};
    static const char *const fs[] = {"read", "write", "cas", "event", "add",
                                     "seen", "list", "item", "watch"};
    char *p = line, *f[9];
    size_t n = 0;
    int64_t proc, rev = 0;
    int t, fn;

    while (n < 9 && (f[n] = field(&p)) != NULL)
        n++;
    if (n > 0 && strncmp(f[n - 1], "rev=", 4) == 0) {
        if (!parse_int(f[n - 1] + 4, &rev) || rev <= 0)
            return err_setf(e, -EINVAL, "%s:%zu: \"%s\" is not rev= and a "
                            "positive integer", name, no, f[n - 1]);
        n--;
    }
    if (n < 6 || n > 7)
        return err_setf(e, -EINVAL, "%s:%zu: %zu fields, want TIME PROCESS "
                        "TYPE F KEY VALUE [NEW]", name, no, n);
    memset(ev, 0, sizeof *ev);
    ev->line = no;
    if (!parse_int(f[0], &ev->time_ns) || ev->time_ns < 0)
        return err_setf(e, -EINVAL, "%s:%zu: time \"%s\" is not a "
                        "non-negative integer", name, no, f[0]);
    if (!parse_int(f[1], &proc) || proc < 0 || proc > 1000000000)
        return err_setf(e, -EINVAL, "%s:%zu: process \"%s\" is not a "
                        "non-negative integer", name, no, f[1]);
    ev->process = (int)proc;
    if ((t = parse_enum(f[2], types, 4)) < 0)
        return err_setf(e, -EINVAL, "%s:%zu: type \"%s\" is not invoke, ok, "
                        "fail or info", name, no, f[2]);
    if ((fn = parse_enum(f[3], fs, 9)) < 0)
        return err_setf(e, -EINVAL, "%s:%zu: f \"%s\" is not read, write, "
                        "cas, event, add, seen, list, item or watch", name, no,
                        f[3]);
    ev->type = (enum jep_type)t;
    ev->f = (enum jep_f)fn;
    ev->rev = rev;
    if (strlen(f[4]) >= JEP_KEY_MAX)
        return err_setf(e, -EINVAL, "%s:%zu: key longer than %d bytes", name,
                        no, JEP_KEY_MAX - 1);
    memcpy(ev->key, f[4], strlen(f[4]) + 1);
    if (!parse_value(f[5], &ev->value))
        return err_setf(e, -EINVAL, "%s:%zu: value \"%s\" is not an integer "
                        "or -", name, no, f[5]);
    if ((n == 7) != (ev->f == JEP_CAS))
        return err_setf(e, -EINVAL, "%s:%zu: %s", name, no,
                        ev->f == JEP_CAS ? "cas needs the new value too"
                                         : "only cas has a new value");
    if (n == 7 && !parse_value(f[6], &ev->new_value))
        return err_setf(e, -EINVAL, "%s:%zu: new value \"%s\" is not an "
                        "integer or -", name, no, f[6]);
    if (ev->f == JEP_WATCH && (ev->type != JEP_OK || ev->value < 0))
        return err_setf(e, -EINVAL, "%s:%zu: a watch starts as \"ok watch "
                        "KEY REVISION\"", name, no);
    if (ev->f == JEP_EVENT && (ev->type != JEP_OK || ev->value <= 0))
        return err_setf(e, -EINVAL, "%s:%zu: an event is \"ok event KEY "
                        "REVISION\" with a positive revision", name, no);
    if ((ev->f == JEP_ADD || ev->f == JEP_SEEN) && ev->value == JEP_NIL)
        return err_setf(e, -EINVAL, "%s:%zu: %s needs a value", name, no,
                        fs[fn]);
    if (ev->f == JEP_SEEN && ev->type != JEP_OK)
        return err_setf(e, -EINVAL, "%s:%zu: seen is \"ok seen SET "
                        "VALUE\"", name, no);
    if (ev->f == JEP_ITEM && (ev->type != JEP_OK || ev->value == JEP_NIL ||
                              ev->rev == 0))
        return err_setf(e, -EINVAL, "%s:%zu: an item is \"ok item KEY "
                        "VALUE rev=N\"", name, no);
    if (ev->f == JEP_LIST && ev->type == JEP_OK &&
        (ev->rev == 0 || (ev->value != JEP_NIL && ev->value < 0)))
        return err_setf(e, -EINVAL, "%s:%zu: a list completes as \"ok list "
                        "KEY COUNT|- rev=N\"", name, no);
    return 0;
}

static int push(struct jep_history *h, const struct jep_event *ev)
{
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        struct jep_event *v = mem_realloc(h->ev, cap * sizeof *v);

        if (v == NULL)
            return -ENOMEM;
        h->ev = v;
        h->cap = cap;
    }
    h->ev[h->len++] = *ev;
    return 0;
}

int jep_history_parse(const char *text, size_t len, const char *name,
                      struct jep_history *h, struct err *e)
{
    char line[512];
    size_t no = 0;

    memset(h, 0, sizeof *h);
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = (nl != NULL ? (size_t)(nl - text) : len) - at;
        struct jep_event ev;
        int rv;

        no++;
        if (n >= sizeof line) {
            jep_history_free(h);
            return err_setf(e, -EINVAL, "%s:%zu: line longer than %zu bytes",
                            name, no, sizeof line - 1);
        }
        memcpy(line, text + at, n);
        line[n] = '\0';
        at += n + 1;
        if (memchr(line, '\0', n) != NULL) {
            jep_history_free(h);
            return err_setf(e, -EINVAL, "%s:%zu: NUL byte", name, no);
        }
        if (line[strspn(line, " \t\r")] == '\0' || line[0] == '#')
            continue;
        line[strcspn(line, "\r")] = '\0';
        if ((rv = parse_line(line, name, no, &ev, e)) != 0 ||
            (rv = push(h, &ev)) != 0) {
            jep_history_free(h);
            return rv == -ENOMEM ? err_setf(e, rv, "out of memory") : rv;
        }
    }
    return 0;
}

int jep_history_load(const char *path, struct jep_history *h, struct err *e)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rv;

    memset(h, 0, sizeof *h);
    if (f == NULL)
        return err_setf(e, -errno, "%s: %s", path, strerror(errno));
    for (;;) {
        size_t n;

        if (len == cap) {
            char *t;

            cap = cap ? cap * 2 : 65536;
            if (cap > HISTORY_MAX || (t = mem_realloc(text, cap)) == NULL) {
                mem_free(text);
                fclose(f);
                return err_setf(e, -ENOMEM, "%s: too large", path);
            }
            text = t;
        }
        n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    rv = ferror(f) ? err_setf(e, -EIO, "%s: read error", path)
                   : jep_history_parse(text, len, path, h, e);
    mem_free(text);
    fclose(f);
    return rv;
}
