/* The ordered key index: a red-black tree on (resource, ns, name). */
#include <string.h>

#include "store/internal.h"

/* Byte-wise, component by component, so all keys of one resource are
 * adjacent and, within it, all keys of one namespace. */
int store__key_cmp(const struct store__key *a, const struct store__key *b)
{
    int c = strcmp(a->resource, b->resource);

    if (c == 0)
        c = strcmp(a->ns, b->ns);
    if (c == 0)
        c = strcmp(a->name, b->name);
    return c;
}

/* libbsd leaves __unused undefined (it clashes with a glibc struct member),
 * but RB_GENERATE_STATIC needs it to mark the functions we do not call. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif

RB_GENERATE_STATIC(store__index, store__key, link, store__key_cmp)

/* A stack key for lookups: only the string pointers are used. */
static struct store__key probe(const char *resource, const char *ns,
                               const char *name)
{
    struct store__key k;

    memset(&k, 0, sizeof k);
    k.resource = resource;
    k.ns = ns;
    k.name = name;
    return k;
}

struct store__key *store__index_find(struct store__db *db, const char *resource,
                                     const char *ns, const char *name)
{
    struct store__key k = probe(resource, ns, name);

    return RB_FIND(store__index, &db->index, &k);
}

struct store__key *store__index_nfind(struct store__db *db,
                                      const char *resource, const char *ns,
                                      const char *name)
{
    struct store__key k = probe(resource, ns, name);

    return RB_NFIND(store__index, &db->index, &k);
}

struct store__key *store__index_next(struct store__key *k)
{
    return RB_NEXT(store__index, NULL, k);
}

struct store__key *store__index_first(struct store__db *db)
{
    return RB_MIN(store__index, &db->index);
}

void store__index_insert(struct store__db *db, struct store__key *k)
{
    (void)RB_INSERT(store__index, &db->index, k);
    db->n_keys++;
}

void store__index_remove(struct store__db *db, struct store__key *k)
{
    struct store__ver *newest = k->newest;

    (void)RB_REMOVE(store__index, &db->index, k);
    db->n_keys--;
    k->newest = NULL;
    store__ver_unref(newest);
    store__key_unref(k);
}
