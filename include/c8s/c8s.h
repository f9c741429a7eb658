/* libc8s, the C client library of c8s: everything in one include.
 *
 * Link with `pkg-config --cflags --libs c8s`. Functions return 0 or a
 * negative code (c8s/errors.h) and fill a struct c8s_error when given one. */
#ifndef C8S_C8S_H
#define C8S_C8S_H

#define C8S_VERSION_MAJOR 0
#define C8S_VERSION_MINOR 1

#include <c8s/errors.h>
#include <c8s/kubeconfig.h>
#include <c8s/client.h>
#include <c8s/object.h>
#include <c8s/watch.h>
#include <c8s/informer.h>
#include <c8s/workqueue.h>
#include <c8s/leader.h>
#include <c8s/discovery.h>
#include <c8s/verbs.h>
#include <c8s/async.h>

/* The library's version, "MAJOR.MINOR.PATCH", to compare with the header's
 * at run time. */
const char *c8s_version(void);

#endif /* C8S_C8S_H */
