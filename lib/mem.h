/* Allocation through one pluggable point, so tests can inject failures.
 *
 * Library code allocates with mem_* and returns -ENOMEM on failure; only a
 * program's main() decides to abort. Tests arm mem_fault_arm(delay, repeat):
 * after @delay successful allocations the next @repeat ones fail. */
#ifndef C8S_LIB_MEM_H
#define C8S_LIB_MEM_H

#include <stddef.h>

void *mem_malloc(size_t size);
void *mem_calloc(size_t nmemb, size_t size);
void *mem_realloc(void *ptr, size_t size);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);
void mem_free(void *ptr);

/* Make the array *@v of *@cap elements of @elem bytes hold at least @need
 * (doubling, from 16). 0, or -ENOMEM with *@v and *@cap unchanged. */
int mem_grow(void **v, size_t *cap, size_t need, size_t elem);

/* Fail allocations after @delay more successes, @repeat times (-1: forever).
 * mem_fault_arm(-1, 0) disarms. Not thread-safe: for single-threaded tests. */
void mem_fault_arm(int delay, int repeat);

/* Allocations that failed because of an armed fault. */
unsigned long mem_fault_count(void);

#endif /* C8S_LIB_MEM_H */
