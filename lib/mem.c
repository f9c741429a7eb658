/* Allocation through one pluggable point, with fault injection for tests. */
#include "lib/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct {
    int delay;              /* Successes left before faults start; -1: off. */
    int repeat;             /* Faults left; -1: forever. */
    unsigned long injected; /* Faults injected so far. */
} fault = {-1, 0, 0};

/* True when this allocation must fail. */
static int fault_tick(void)
{
    if (fault.delay < 0)
        return 0;
    if (fault.delay > 0) {
        fault.delay--;
        return 0;
    }
    if (fault.repeat == 0)
        return 0;
    if (fault.repeat > 0)
        fault.repeat--;
    fault.injected++;
    return 1;
}

void mem_fault_arm(int delay, int repeat)
{
    fault.delay = delay;
    fault.repeat = repeat;
}

unsigned long mem_fault_count(void)
{
    return fault.injected;
}

void *mem_malloc(size_t size)
{
    return fault_tick() ? NULL : malloc(size);
}

void *mem_calloc(size_t nmemb, size_t size)
{
    return fault_tick() ? NULL : calloc(nmemb, size);
}

void *mem_realloc(void *ptr, size_t size)
{
    return fault_tick() ? NULL : realloc(ptr, size);
}

char *mem_strdup(const char *s)
{
    return fault_tick() ? NULL : strdup(s);
}

char *mem_strndup(const char *s, size_t n)
{
    return fault_tick() ? NULL : strndup(s, n);
}

void mem_free(void *ptr)
{
    free(ptr);
}

int mem_grow(void **v, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    void *nv;

    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    if (elem != 0 && ncap > (size_t)-1 / elem)
        return -ENOMEM;
    nv = mem_realloc(*v, ncap * elem);
    if (nv == NULL)
        return -ENOMEM;
    *v = nv;
    *cap = ncap;
    return 0;
}
