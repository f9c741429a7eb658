/* Logging for c8s daemons. */
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

enum log_level log_threshold = LOG_LEVEL_INFO;
static int log_json;
static int log_fd = STDERR_FILENO;

static const char *const level_names[] = {"debug", "info", "warn", "error",
                                          "off"};

int log_level_parse(const char *s, enum log_level *ret)
{
    for (int i = 0; i <= LOG_LEVEL_OFF; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *ret = (enum log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
    return level <= LOG_LEVEL_OFF ? level_names[level] : "?";
}

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

void log_set_json(int on)
{
    log_json = on;
}

void log_set_fd(int fd)
{
    log_fd = fd >= 0 ? fd : STDERR_FILENO;
}

void log_init_from_env(void)
{
    const char *level = getenv("C8S_LOG_LEVEL");
    const char *format = getenv("C8S_LOG_FORMAT");
    enum log_level parsed;

    if (level != NULL && log_level_parse(level, &parsed) == 0)
        log_set_level(parsed);
    if (format != NULL)
        log_set_json(strcmp(format, "json") == 0);
}

static size_t format_time(char *buf, size_t size)
{
    struct timeval tv;
    struct tm tm;
    size_t n;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, size - n, ".%03dZ", (int)(tv.tv_usec / 1000));
    return n;
}

/* Append @s to @out as JSON string content (without quotes). */
static size_t json_escape(char *out, size_t size, const char *s)
{
    size_t n = 0;

    for (; *s != '\0' && n + 7 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, size - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return n;
}

static void emit(const char *line, size_t len)
{
    while (len > 0) {
        ssize_t w = write(log_fd, line, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        line += w;
        len -= (size_t)w;
    }
}

void log_write(enum log_level level, const char *component, const char *fmt,
               ...)
{
    char ts[40], msg[LOG_LINE_MAX], line[LOG_LINE_MAX * 2];
    int saved_errno = errno;
    va_list ap;
    int n;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    format_time(ts, sizeof ts);
    if (log_json) {
        char esc[LOG_LINE_MAX + 64];
        json_escape(esc, sizeof esc, msg);
        n = snprintf(line, sizeof line,
                     "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\","
                     "\"msg\":\"%s\"}\n",
                     ts, log_level_name(level), component, esc);
    } else {
        n = snprintf(line, sizeof line, "%s %-5s %s: %s\n", ts,
                     log_level_name(level), component, msg);
    }
    if (n > 0)
        emit(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    errno = saved_errno;
}
