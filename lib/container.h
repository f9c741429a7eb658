/* container_of and friends. */
#ifndef C8S_LIB_CONTAINER_H
#define C8S_LIB_CONTAINER_H

#include <stddef.h>

/* The struct of type @type whose member @member is at @ptr. */
#define container_of(ptr, type, member)                                        \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* C8S_LIB_CONTAINER_H */
