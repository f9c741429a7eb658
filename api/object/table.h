/* Server-side tables (meta.k8s.io/v1 Table): what `kubectl get` prints.
 *
 * kubectl has no printers of its own for built-in kinds: it asks for a
 * Table and prints the columns and cells the server computed, AGE
 * included. So the columns here are the ones Kubernetes users know (pods:
 * NAME READY STATUS RESTARTS AGE, with -o wide IP NODE NOMINATED NODE
 * READINESS GATES; deployments: NAME READY UP-TO-DATE AVAILABLE AGE; ...),
 * and their cells are worked out from the object the way kube-apiserver
 * does. Kinds without columns of their own get NAME and AGE. Pure: no I/O,
 * the time is a parameter. */
#ifndef C8S_API_OBJECT_TABLE_H
#define C8S_API_OBJECT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/object/obj.h"

struct obj_table;

/* The columns of @kind in @group ("" for core); never NULL. */
const struct obj_table *obj_table_for(const char *group, const char *kind);

/* The columnDefinitions array of @t. NULL when out of memory. */
struct obj *obj_table_columns(const struct obj_table *t);

/* The cells of @o's row in @t at @now (seconds since the epoch). NULL
 * when out of memory. */
struct obj *obj_table_cells(const struct obj_table *t, const struct obj *o,
                            int64_t now);

/* A column of a custom resource's table (a CRD's additionalPrinterColumns
 * entry): @json_path is a simple JSONPath (.spec.replicas, .items[0],
 * ['a.b'], [?(@.type=="Ready")].status); type is integer, number, string,
 * boolean or date (shown as an age). */
struct obj_table_column {
    const char *name, *type, *format, *description, *json_path;
    int priority;
};

/* A table of Name then @cols (Name and Age when @n is 0), copied. 0 or
 * -ENOMEM. Free with obj_table_custom_free(). */
int obj_table_custom_new(const struct obj_table_column *cols, size_t n,
                         struct obj_table **ret);
void obj_table_custom_free(struct obj_table *t);

/* Whether @path is a JSONPath the custom columns understand. */
bool obj_table_path_ok(const char *path);

/* How long ago, as kubectl shows ages: "45s", "3m20s", "5h", "2d3h",
 * "400d", "3y"; "<invalid>" for a time more than a second ahead. */
void obj_table_age(int64_t seconds, char *buf, size_t size);

/* An RFC 3339 time ("2026-11-22T10:00:00Z", fraction and offset allowed)
 * as seconds since the epoch; -1 if it is not one. */
int64_t obj_table_parse_time(const char *s);

#endif /* C8S_API_OBJECT_TABLE_H */
