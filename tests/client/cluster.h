/* A c8s cluster on loopback for libc8s's tests (members m0..m2 with the
 * same token), and request helpers that assert success. */
#ifndef C8S_TESTS_CLIENT_CLUSTER_H
#define C8S_TESTS_CLIENT_CLUSTER_H

#include <stddef.h>

#include <c8s/c8s.h>

#include "tests/lib/proc.h"

#define N 3

struct member {
    char name[64], peer[64], api[64], dir[1100];
    struct tproc *p;
};

extern struct member ms[N];
extern const char *extra_flags[5]; /* for members started after it is set */

/* Start members 0..n-1 and wait until each serves the API. */
void start_cluster(int n);

/* A client from member @i's admin.kubeconfig, @server overriding its
 * server if not NULL. */
struct c8s_client *client_for(int i, const char *server,
                              const struct c8s_client_opts *o);

/* A client from the kubeconfig at @path. */
struct c8s_client *client_from(const char *path);

/* m0's kubeconfig with @first as its server and every member after it
 * (c8s.io/servers), written to @path. */
void write_ha_kubeconfig(const char *first, char *path, size_t size);

/* m0's kubeconfig with a CA that did not sign its certificate, written to
 * @path. */
void write_wrong_ca_kubeconfig(char *path, size_t size);

/* c8s_request with a string body (or NULL). */
int req(struct c8s_client *c, const char *method, const char *path,
        const char *body, struct c8s_response *r, struct c8s_error *err);

/* The resourceVersion of a list at @path. */
void list_rv(struct c8s_client *c, const char *path, char *rv, size_t size);

/* Create ConfigMap @ns/@name, retrying writes of unknown outcome. */
void create_cm(struct c8s_client *c, const char *ns, const char *name);

#endif /* C8S_TESTS_CLIENT_CLUSTER_H */
