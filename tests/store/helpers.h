/* Shared helpers for the store tests. */
#ifndef C8S_TESTS_STORE_HELPERS_H
#define C8S_TESTS_STORE_HELPERS_H

#include "store/store.h"

/* A new store with @queue_max (0: default); freed when the test ends. */
struct store *tstore_store(size_t queue_max);

/* One-op txn. Returns its code; *ret_rev (if not NULL) gets the revision. */
int tstore_op(struct store *s, enum store_op_type type, const char *resource,
         const char *ns, const char *name, const char *value,
         const char *field, store_rev expect);

#define tstore_create(s, r, ns, n, v) tstore_op(s, STORE_OP_CREATE, r, ns, n, v, NULL, 0)
#define tstore_put(s, r, ns, n, v) tstore_op(s, STORE_OP_PUT, r, ns, n, v, NULL, 0)
#define tstore_delete(s, r, ns, n) tstore_op(s, STORE_OP_DELETE, r, ns, n, NULL, NULL, 0)

/* Value of a key at @rev as a string, or NULL (with the code in *code). */
char *tstore_get(struct store *s, const char *resource, const char *ns,
            const char *name, store_rev rev, int *code);

/* "ns/name=value" lines of a list, for comparisons. Caller frees. */
char *tstore_list_str(const struct store_list *l);

/* Snapshot bytes (ASSERTed). Caller frees. */
void *tstore_snapshot(const struct store *s, size_t *len);

/* Deterministic pseudo-random numbers (xorshift64*). */
uint64_t tstore_rand(uint64_t *state);

/* Apply @n random txns (and occasional compactions) from @seed. */
void tstore_random_ops(struct store *s, uint64_t seed, int n, bool compact);

#endif /* C8S_TESTS_STORE_HELPERS_H */
