/* Logging for c8s daemons: levels, component tags, timestamps, stderr.
 *
 * One line per message: "2026-11-22T13:54:52.123Z INFO  raft: became leader".
 * With log_set_json(1) each line is a JSON object instead. The level is
 * checked before anything is formatted, so disabled levels cost a compare.
 * Library modules (store, raft glue, client, lib) log at debug level only;
 * daemons log where an error is handled. */
#ifndef C8S_LIB_LOG_H
#define C8S_LIB_LOG_H

enum log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
    LOG_LEVEL_OFF,
};

extern enum log_level log_threshold;

/* Parse "debug", "info", "warn", "error" or "off". Returns 0, or -EINVAL. */
int log_level_parse(const char *s, enum log_level *ret);
const char *log_level_name(enum log_level level);

void log_set_level(enum log_level level);
/* 1: JSON lines {"ts":…,"level":…,"component":…,"msg":…}; 0: text. */
void log_set_json(int on);
/* Redirect output (tests); NULL restores stderr. */
void log_set_fd(int fd);

/* Configure from C8S_LOG_LEVEL and C8S_LOG_FORMAT=json|text, if set. */
void log_init_from_env(void);

void log_write(enum log_level level, const char *component, const char *fmt,
               ...) __attribute__((format(printf, 3, 4)));

#define log_at(level, component, ...)                                          \
    do {                                                                       \
        if ((level) >= log_threshold)                                          \
            log_write((level), (component), __VA_ARGS__);                      \
    } while (0)

#define log_debug(c, ...) log_at(LOG_LEVEL_DEBUG, c, __VA_ARGS__)
#define log_info(c, ...) log_at(LOG_LEVEL_INFO, c, __VA_ARGS__)
#define log_warn(c, ...) log_at(LOG_LEVEL_WARN, c, __VA_ARGS__)
#define log_error(c, ...) log_at(LOG_LEVEL_ERROR, c, __VA_ARGS__)

#endif /* C8S_LIB_LOG_H */
