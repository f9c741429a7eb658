/* Strategic merge patch with the schemas' merge keys, as kubectl sends it:
 * one container's image changed keeps its ports and the other containers,
 * elements deleted and replaced by key, $setElementOrder, $retainKeys on
 * a Deployment's strategy, scalar merge lists as unions with
 * $deleteFromPrimitiveList, lists without a merge strategy replaced, and
 * malformed directives refused. */
#include <errno.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/smp.h"
#include "tests/lib/unit.h"

static struct obj *parse(const char *json)
{
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_json_decode(json, strlen(json), NULL, &o, &e) == 0,
               "%s: %s", json, e.msg);
    return o;
}

static const struct obj_sstruct *kind(const char *group, const char *k)
{
    struct err e = {0};
    const struct obj_schemas *s = obj_schemas_builtin(&e);

    ASSERT_MSG(s != NULL, "%s", e.msg);
    return obj_schemas_find_kind(s, group, "v1", k);
}

/* Apply @patch to @doc as a @k; 0 and the JSON in @out, or the error. */
static int smp(const char *k, const char *doc, const char *patch, char *out,
               size_t size, struct err *e)
{
    struct obj *d = parse(doc), *p = parse(patch);
    int rv = obj_smp_apply(d, p, k ? kind(strcmp(k, "Deployment") ? "" :
                                          "apps", k) : NULL, e);

    if (rv == 0) {
        struct obj_buf b;

        obj_buf_init(&b);
        ASSERT(obj_json_encode(d, 0, &b, NULL) == 0);
        ASSERT(b.len < size);
        memcpy(out, b.data, b.len);
        out[b.len] = '\0';
        obj_buf_done(&b);
    }
    obj_unref(d);
    obj_unref(p);
    return rv;
}

static void ok(const char *k, const char *doc, const char *patch,
               const char *want)
{
    char out[2048];
    struct err e = {0};

    ASSERT_MSG(smp(k, doc, patch, out, sizeof out, &e) == 0, "%s", e.msg);
    ASSERT_STR_EQ(out, want);
}

#define DEP "{\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":[" \
            "{\"name\":\"a\",\"image\":\"x:1\",\"ports\":[{\"containerPort\":80}]}," \
            "{\"name\":\"b\",\"image\":\"y:1\"}]}}}}"

TEST(smp, containers_merge_by_name)
{
    /* kubectl patch of one image: ports and the other container stay. */
    ok("Deployment", DEP, "{\"spec\":{\"template\":{\"spec\":{\"containers\":"
       "[{\"name\":\"a\",\"image\":\"x:2\"}]}}}}",
       "{\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":["
       "{\"name\":\"a\",\"image\":\"x:2\",\"ports\":[{\"containerPort\":80}]},"
       "{\"name\":\"b\",\"image\":\"y:1\"}]}}}}");
    /* What kubectl apply sends when a container is added first. */
    ok("Deployment", DEP, "{\"spec\":{\"template\":{\"spec\":{"
       "\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"},"
       "{\"name\":\"b\"}],\"containers\":[{\"name\":\"c\",\"image\":\"z\"}]}}}}",
       "{\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":["
       "{\"name\":\"c\",\"image\":\"z\"},{\"name\":\"a\",\"image\":\"x:1\","
       "\"ports\":[{\"containerPort\":80}]},{\"name\":\"b\",\"image\":\"y:1\"}]}}}}");
    /* Delete one by key. */
    ok("Deployment", DEP, "{\"spec\":{\"template\":{\"spec\":{\"containers\":"
       "[{\"name\":\"a\",\"$patch\":\"delete\"}]}}}}",
       "{\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":["
       "{\"name\":\"b\",\"image\":\"y:1\"}]}}}}");
    /* {"$patch": "replace"} in a list: the list is the other elements. */
    ok("Deployment", DEP, "{\"spec\":{\"template\":{\"spec\":{\"containers\":"
       "[{\"$patch\":\"replace\"},{\"name\":\"c\",\"image\":\"z\"}]}}}}",
       "{\"spec\":{\"replicas\":1,\"template\":{\"spec\":{\"containers\":["
       "{\"name\":\"c\",\"image\":\"z\"}]}}}}");
    /* An order that leaves out an element added on the server keeps it
     * in its place (found by review: it moved to the end). */
    ok("Deployment", "{\"spec\":{\"template\":{\"spec\":{\"initContainers\":"
       "[{\"name\":\"a\"},{\"name\":\"s\"},{\"name\":\"b\"}]}}}}",
       "{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/"
       "initContainers\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
       "\"initContainers\":[{\"name\":\"b\",\"image\":\"i\"}]}}}}",
       "{\"spec\":{\"template\":{\"spec\":{\"initContainers\":["
       "{\"name\":\"a\"},{\"name\":\"s\"},{\"name\":\"b\",\"image\":"
       "\"i\"}]}}}}");
    /* null removes a field; scalars replace. */
    ok("Deployment", DEP, "{\"spec\":{\"replicas\":3,\"template\":null}}",
       "{\"spec\":{\"replicas\":3}}");
}

TEST(smp, directives_and_other_lists)
{
    /* $retainKeys: switching a Deployment to Recreate drops rollingUpdate. */
    ok("Deployment", "{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\","
       "\"rollingUpdate\":{\"maxSurge\":1}}}}",
       "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":"
       "\"Recreate\"}}}", "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}");
    /* Finalizers: a merge list of scalars. */
    ok("ConfigMap", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
       "{\"metadata\":{\"finalizers\":[\"c\",\"a\"]}}",
       "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}");
    ok("ConfigMap", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
       "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}}",
       "{\"metadata\":{\"finalizers\":[\"b\"]}}");
    /* A list without a merge strategy is replaced (args). */
    ok("Deployment", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{"
       "\"name\":\"a\",\"args\":[\"1\",\"2\"]}]}}}}",
       "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\","
       "\"args\":[\"3\"]}]}}}}",
       "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\","
       "\"args\":[\"3\"]}]}}}}");
    /* $patch: replace of a map; maps merge key by key (labels). */
    ok("ConfigMap", "{\"data\":{\"a\":\"1\",\"b\":\"2\"},\"metadata\":{"
       "\"labels\":{\"x\":\"1\"}}}",
       "{\"data\":{\"$patch\":\"replace\",\"c\":\"3\"},\"metadata\":{"
       "\"labels\":{\"y\":\"2\"}}}",
       "{\"data\":{\"c\":\"3\"},\"metadata\":{\"labels\":{\"x\":\"1\","
       "\"y\":\"2\"}}}");
    /* An order for a list that is not there (found by fuzzing: it
     * crashed). */
    ok("Deployment", "{\"spec\":{}}", "{\"spec\":{\"template\":{\"spec\":{"
       "\"$setElementOrder/containers\":[{\"name\":\"a\"}]}}}}",
       "{\"spec\":{\"template\":{\"spec\":{}}}}");
    /* No schema: as a JSON merge patch. */
    ok(NULL, "{\"a\":{\"b\":[1,2]}}", "{\"a\":{\"b\":[3],\"c\":null}}",
       "{\"a\":{\"b\":[3]}}");
}

TEST(smp, malformed_patches_are_refused)
{
    char out[256];
    struct err e = {0};

    ASSERT_EQ(smp("Deployment", DEP, "{\"spec\":{\"$frob\":1}}", out,
                  sizeof out, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "unknown directive $frob");
    ASSERT_EQ(smp("Deployment", DEP, "{\"spec\":{\"template\":{\"spec\":{"
                  "\"containers\":[{\"image\":\"q\"}]}}}}", out, sizeof out,
                  &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "has no name, its merge key");
    ASSERT_EQ(smp("Deployment", DEP, "{\"spec\":{\"template\":{\"spec\":{"
                  "\"containers\":[{\"name\":\"a\",\"$patch\":\"merge\"}]}}}}",
                  out, sizeof out, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "$patch \"merge\" is not allowed");
    ASSERT_EQ(smp("Deployment", "{\"spec\":{}}", "{\"spec\":{\"strategy\":{"
                  "\"$retainKeys\":[\"type\"],\"type\":\"Recreate\","
                  "\"rollingUpdate\":{}}}}", out, sizeof out, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "$retainKeys does not list rollingUpdate");
    ASSERT_EQ(smp("Deployment", DEP, "{\"spec\":{\"$patch\":\"frob\"}}", out,
                  sizeof out, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "unknown $patch \"frob\"");
    ASSERT_EQ(smp("Deployment", DEP, "{\"spec\":{\"template\":{\"spec\":{"
                  "\"containers\":{\"name\":\"a\"}}}}}", out, sizeof out, &e),
              -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "containers must be a list");
}

UNIT_MAIN()
