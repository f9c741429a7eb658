/* Realistic Kubernetes objects for the codec tests, as JSON text. */
#ifndef C8S_TESTS_API_OBJECT_CORPUS_H
#define C8S_TESTS_API_OBJECT_CORPUS_H

#include <stddef.h>

/* Number of documents in the corpus. */
size_t corpus_count(void);

/* Document @i as JSON text (malloc'ed; the caller frees it). The last one
 * is a ConfigMap with 600 keys, generated. */
char *corpus_json(size_t i);

/* Short name of document @i ("pod", "deployment", ...). */
const char *corpus_name(size_t i);

#endif /* C8S_TESTS_API_OBJECT_CORPUS_H */
