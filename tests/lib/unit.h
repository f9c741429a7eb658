/* A small test runner: each test runs in its own forked child, in its own
 * process group, with a time limit; results are printed as TAP.
 *
 *   TEST(store, create_then_get) { ASSERT_EQ(store_get(...), 0); }
 *
 * A test fails when an assertion fails, when it crashes, when it times out or
 * when it exits non-zero (so sanitizer and leak reports fail the test). Any
 * process the test started is killed with its process group afterwards.
 * Environment: C8S_TEST_FILTER=substring runs only matching tests;
 * C8S_TEST_TIMEOUT=seconds overrides the per-test limit (default 60). */
#ifndef C8S_TESTS_UNIT_H
#define C8S_TESTS_UNIT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*unit_fn)(void);

/* Registered by TEST(); called from constructors before main(). */
void unit_register(const char *suite, const char *name, unit_fn fn,
                   int timeout_s);

/* Record an assertion failure and end the test. */
void unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* End the test as skipped (TAP "# SKIP reason"). */
void unit_skip(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Register a function run when the test ends (pass, fail or skip), in
 * reverse order of registration, inside the test's process. At most 32. */
void unit_defer(void (*fn)(void *), void *arg);

/* True once an assertion of the running test has failed (for cleanups that
 * show diagnostics only on failure). */
bool unit_current_failed(void);

/* A fresh temporary directory for this test, removed when it ends. */
const char *unit_tmpdir(void);

/* Run every registered test; main() of each test program calls this. */
int unit_main(int argc, char **argv);

#define TEST_T(suite, name, timeout_s)                                         \
    static void test_##suite##_##name(void);                                   \
    __attribute__((constructor)) static void reg_##suite##_##name(void)        \
    {                                                                          \
        unit_register(#suite, #name, test_##suite##_##name, timeout_s);        \
    }                                                                          \
    static void test_##suite##_##name(void)

#define TEST(suite, name) TEST_T(suite, name, 0)

#define UNIT_MAIN()                                                            \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        return unit_main(argc, argv);                                          \
    }

#define ASSERT(cond)                                                           \
    do {                                                                       \
        if (!(cond))                                                           \
            unit_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);      \
    } while (0)

#define ASSERT_MSG(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond))                                                           \
            unit_fail(__FILE__, __LINE__, __VA_ARGS__);                        \
    } while (0)

#define ASSERT_EQ(a, b)                                                        \
    do {                                                                       \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                       \
        if (a_ != b_)                                                          \
            unit_fail(__FILE__, __LINE__, "%s == %s: %jd != %jd", #a, #b, a_,  \
                      b_);                                                     \
    } while (0)

#define ASSERT_NE(a, b)                                                        \
    do {                                                                       \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                       \
        if (a_ == b_)                                                          \
            unit_fail(__FILE__, __LINE__, "%s != %s: both %jd", #a, #b, a_);   \
    } while (0)

#define ASSERT_UEQ(a, b)                                                       \
    do {                                                                       \
        uintmax_t a_ = (uintmax_t)(a), b_ = (uintmax_t)(b);                    \
        if (a_ != b_)                                                          \
            unit_fail(__FILE__, __LINE__, "%s == %s: %ju != %ju", #a, #b, a_,  \
                      b_);                                                     \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                    \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                   \
            unit_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a,    \
                      #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");             \
    } while (0)

#define ASSERT_MEM_EQ(a, b, n)                                                 \
    do {                                                                       \
        if (memcmp((a), (b), (n)) != 0)                                        \
            unit_fail(__FILE__, __LINE__, "%s and %s differ in %zu bytes", #a, \
                      #b, (size_t)(n));                                        \
    } while (0)

#define ASSERT_STR_CONTAINS(hay, needle)                                       \
    do {                                                                       \
        const char *h_ = (hay), *n_ = (needle);                                \
        if (h_ == NULL || strstr(h_, n_) == NULL)                              \
            unit_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",    \
                      h_ ? h_ : "(null)", n_);                                 \
    } while (0)

#define SKIP(...) unit_skip(__VA_ARGS__)

#endif /* C8S_TESTS_UNIT_H */
