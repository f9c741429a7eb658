/* JSON patch (RFC 6902) on object trees: each operation as the RFC's
 * examples show it, pointers with escapes and "-", and every error a
 * client can cause (missing paths, a failed test, malformed operations),
 * which leave nothing applied that the caller keeps. */
#include <errno.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/jsonpatch.h"
#include "tests/lib/unit.h"

static struct obj *parse(const char *json)
{
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_json_decode(json, strlen(json), NULL, &o, &e) == 0,
               "%s: %s", json, e.msg);
    return o;
}

/* Patch @doc with @ops: 0 and the result's JSON in @out, or the error. */
static int patch(const char *doc, const char *ops, char *out, size_t size,
                 struct err *e)
{
    struct obj *d = parse(doc), *p = parse(ops);
    int rv = obj_json_patch(d, p, e);

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

static void ok(const char *doc, const char *ops, const char *want)
{
    char out[1024];
    struct err e = {0};

    ASSERT_MSG(patch(doc, ops, out, sizeof out, &e) == 0, "%s", e.msg);
    ASSERT_STR_EQ(out, want);
}

static void fails(const char *doc, const char *ops, int code,
                  const char *why)
{
    char out[1024];
    struct err e = {0};

    ASSERT_EQ(patch(doc, ops, out, sizeof out, &e), code);
    ASSERT_STR_CONTAINS(e.msg, why);
}

TEST(jsonpatch, each_operation_applies)
{
    ok("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":"
       "\"qux\"}]", "{\"foo\":\"bar\",\"baz\":\"qux\"}");
    ok("{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\","
       "\"value\":\"qux\"}]", "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
    ok("{\"foo\":[1]}", "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":2}]",
       "{\"foo\":[1,2]}");
    ok("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":"
       "\"/baz\"}]", "{\"foo\":\"bar\"}");
    ok("{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":"
       "\"/foo/1\"}]", "{\"foo\":[\"bar\",\"baz\"]}");
    ok("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"replace\",\"path\":"
       "\"/baz\",\"value\":\"boo\"}]", "{\"baz\":\"boo\",\"foo\":\"bar\"}");
    ok("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":"
       "\"grault\"}}", "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":"
       "\"/qux/thud\"}]", "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":"
       "\"grault\",\"thud\":\"fred\"}}");
    ok("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}", "[{\"op\":\"move\","
       "\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
       "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
    ok("{\"a\":{\"b\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":"
       "\"/c\"},{\"op\":\"replace\",\"path\":\"/c/b\",\"value\":2}]",
       "{\"a\":{\"b\":1},\"c\":{\"b\":2}}");
    ok("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}", "[{\"op\":\"test\","
       "\"path\":\"/baz\",\"value\":\"qux\"},{\"op\":\"test\",\"path\":"
       "\"/foo/1\",\"value\":2}]", "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}");
    /* Escapes: a label key with a slash, a key with a tilde. */
    ok("{\"metadata\":{\"labels\":{}}}", "[{\"op\":\"add\",\"path\":"
       "\"/metadata/labels/app.kubernetes.io~1name\",\"value\":\"web\"},"
       "{\"op\":\"add\",\"path\":\"/metadata/a~0b\",\"value\":1}]",
       "{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"web\"},"
       "\"a~b\":1}}");
    /* The value added is a copy: a later change does not reach it twice. */
    ok("{\"a\":[]}", "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":{\"x\":1}},"
       "{\"op\":\"add\",\"path\":\"/a/-\",\"value\":{\"x\":1}},{\"op\":"
       "\"replace\",\"path\":\"/a/0/x\",\"value\":5}]",
       "{\"a\":[{\"x\":5},{\"x\":1}]}");
}

TEST(jsonpatch, errors_name_what_is_wrong)
{
    fails("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", -ENOENT,
          "path /b does not exist");
    fails("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]",
          -ENOENT, "path /b does not exist");
    fails("{\"a\":{}}", "[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":1}]",
          -ENOENT, "path /x/y does not exist");
    fails("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":1}]",
          -ENOENT, "not a place to add");
    fails("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":1}]",
          -ENOENT, "not a place to add");
    fails("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]",
          -EDOM, "test of /a failed");
    fails("{\"a\":1}", "[{\"op\":\"jump\",\"path\":\"/a\"}]", -EINVAL,
          "unknown op \"jump\"");
    fails("{\"a\":1}", "[{\"path\":\"/a\"}]", -EINVAL, "needs \"op\"");
    fails("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\"}]", -EINVAL,
          "needs \"value\"");
    fails("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]",
          -EINVAL, "does not start with /");
    fails("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":1}]",
          -EINVAL, "bad escape");
    fails("{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":"
          "\"/a/b/c\"}]", -EINVAL, "cannot move /a into itself");
    fails("{\"a\":1}", "[{\"op\":\"copy\",\"path\":\"/b\"}]", -EINVAL,
          "needs \"from\"");
    fails("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{}}]",
          -ENOENT, "path  does not exist");
    fails("{\"a\":1}", "{\"op\":\"add\"}", -EINVAL, "an array of operations");
}

TEST(jsonpatch, touched_paths_are_found)
{
    struct obj *p = parse("[{\"op\":\"replace\",\"path\":"
                          "\"/metadata/resourceVersion\",\"value\":\"5\"}]");

    ASSERT(obj_json_patch_touches(p, "/metadata/resourceVersion"));
    ASSERT(obj_json_patch_touches(p, "/metadata"));
    ASSERT(!obj_json_patch_touches(p, "/meta"));
    ASSERT(!obj_json_patch_touches(p, "/spec"));
    obj_unref(p);
    /* A whole /metadata replaced: touches resourceVersion only when the
     * new metadata has one (a stale one must conflict, not be retried). */
    p = parse("[{\"op\":\"replace\",\"path\":\"/metadata\",\"value\":"
              "{\"name\":\"x\",\"resourceVersion\":\"3\"}}]");
    ASSERT(obj_json_patch_touches(p, "/metadata/resourceVersion"));
    obj_unref(p);
    p = parse("[{\"op\":\"replace\",\"path\":\"/metadata\",\"value\":"
              "{\"name\":\"x\"}}]");
    ASSERT(!obj_json_patch_touches(p, "/metadata/resourceVersion"));
    obj_unref(p);
    p = parse("[{\"op\":\"add\",\"path\":\"/metadatax\",\"value\":"
              "{\"resourceVersion\":\"3\"}}]");
    ASSERT(!obj_json_patch_touches(p, "/metadata/resourceVersion"));
    obj_unref(p);
}

UNIT_MAIN()
