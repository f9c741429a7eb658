/* Status objects: the exact JSON and messages Kubernetes sends. */
#include <errno.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/status.h"
#include "lib/mem.h"
#include "tests/lib/unit.h"

static const struct obj_gr pods = {"", "pods"};
static const struct obj_gr deployments = {"apps", "deployments"};

static void unref_cb(void *o)
{
    obj_unref(o);
}

static void rbuf_cb(void *b)
{
    rbuf_unref(b);
}

/* Check *@stp was built (@r == 0), register it for freeing and return its
 * JSON (as the server sends it, newline included), after checking that
 * the JSON decodes back to the same tree. */
static const char *json_of(int r, struct obj **stp)
{
    struct obj *st = *stp; /* Read after the constructor ran. */
    struct rbuf *b = NULL;
    struct obj *back = NULL;

    ASSERT_EQ(r, 0);
    unit_defer(unref_cb, st);
    ASSERT_EQ(obj_status_rbuf(st, &b, NULL), 0);
    unit_defer(rbuf_cb, b);
    ASSERT(b->len > 0 && b->data[b->len - 1] == '\n');
    ASSERT_EQ(obj_json_decode(b->data, b->len, NULL, &back, NULL), 0);
    ASSERT(obj_equal(st, back));
    obj_unref(back);
    return (const char *)b->data;
}

static const char *message(const struct obj *st)
{
    return obj_str_or(obj_map_get(st, "message"), NULL);
}

TEST(status, not_found)
{
    struct obj *st = NULL;

    ASSERT_STR_EQ(json_of(obj_status_not_found(&pods, "x", &st), &st),
                  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                  "\"status\":\"Failure\",\"message\":\"pods \\\"x\\\" not "
                  "found\",\"reason\":\"NotFound\",\"details\":{\"name\":"
                  "\"x\",\"kind\":\"pods\"},\"code\":404}\n");
    ASSERT_EQ(obj_status_http_code(st), 404);
}

TEST(status, already_exists_with_group)
{
    struct obj *st = NULL;

    ASSERT_STR_EQ(
        json_of(obj_status_already_exists(&deployments, "web", &st), &st),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
        "\"status\":\"Failure\",\"message\":\"deployments.apps \\\"web\\\" "
        "already exists\",\"reason\":\"AlreadyExists\",\"details\":{\"name\":"
        "\"web\",\"group\":\"apps\",\"kind\":\"deployments\"},\"code\":409}\n");
}

TEST(status, generate_name_conflict)
{
    struct obj *st = NULL;

    (void)json_of(obj_status_generate_name_conflict(&pods, "web-bbbbb", 1, &st),
                  &st);
    ASSERT_STR_EQ(message(st),
                  "pods \"web-bbbbb\" already exists, the server "
                  "was not able to generate a unique name for "
                  "the object");
    ASSERT_EQ(obj_status_retry_after(st), 1);
    ASSERT_EQ(obj_status_http_code(st), 409);
}

TEST(status, conflict)
{
    struct obj *st = NULL;

    (void)json_of(obj_status_conflict(&pods, "x", NULL, &st), &st);
    ASSERT_STR_EQ(message(st),
                  "Operation cannot be fulfilled on pods \"x\": the object "
                  "has been modified; please apply your changes to the latest "
                  "version and try again");
    ASSERT_STR_EQ(obj_str_or(obj_map_get(st, "reason"), NULL), "Conflict");
    ASSERT_EQ(obj_status_http_code(st), 409);
}

/* Field errors for the Invalid tests. */
static struct obj_ferrs *two_errors(void)
{
    static struct obj_ferrs l;
    struct obj_fpath meta = obj_fpath_child(NULL, "metadata");
    struct obj_fpath name = obj_fpath_child(&meta, "name");
    struct obj_fpath spec = obj_fpath_child(NULL, "spec");
    struct obj_fpath containers = obj_fpath_child(&spec, "containers");

    obj_ferrs_init(&l);
    ASSERT_EQ(
        obj_ferrs_add_str(&l, OBJ_FERR_INVALID, &name, "Foo", 3, "bad name"),
        0);
    ASSERT_EQ(obj_ferrs_required(&l, &containers, NULL), 0);
    return &l;
}

TEST(status, invalid_several)
{
    struct obj_ferrs *l = two_errors();
    struct obj *st = NULL;

    ASSERT_STR_EQ(
        json_of(obj_status_invalid("", "Pod", "x", l, &st), &st),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
        "\"status\":\"Failure\",\"message\":\"Pod \\\"x\\\" is invalid: "
        "[metadata.name: Invalid value: \\\"Foo\\\": bad name, "
        "spec.containers: Required value]\",\"reason\":\"Invalid\","
        "\"details\":{\"name\":\"x\",\"kind\":\"Pod\",\"causes\":[{\"reason\":"
        "\"FieldValueInvalid\",\"message\":\"Invalid value: \\\"Foo\\\": bad "
        "name\",\"field\":\"metadata.name\"},{\"reason\":"
        "\"FieldValueRequired\",\"message\":\"Required value\",\"field\":"
        "\"spec.containers\"}]},\"code\":422}\n");
    obj_ferrs_done(l);
}

TEST(status, invalid_one_and_none)
{
    struct obj_ferrs *l = two_errors();
    struct obj_ferrs none;
    struct obj *st = NULL;

    l->len = 1; /* Keep the first only; done() below frees both anyway. */
    (void)json_of(obj_status_invalid("apps", "Deployment", "d", l, &st), &st);
    ASSERT_STR_EQ(message(st),
                  "Deployment.apps \"d\" is invalid: "
                  "metadata.name: Invalid value: \"Foo\": bad "
                  "name");
    ASSERT_STR_EQ(obj_str_or(obj_get(st, "details", "group", NULL), NULL),
                  "apps");
    l->len = 2;
    obj_ferrs_done(l);

    obj_ferrs_init(&none);
    (void)json_of(obj_status_invalid("", "Pod", "p", &none, &st), &st);
    ASSERT_STR_EQ(message(st), "Pod \"p\" is invalid");
    ASSERT(obj_get(st, "details", "causes", NULL) == NULL);
}

TEST(status, expired_and_gone)
{
    struct obj *st = NULL;

    ASSERT_STR_EQ(json_of(obj_status_too_old_rv(5, 10, &st), &st),
                  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                  "\"status\":\"Failure\",\"message\":\"too old resource "
                  "version: 5 (10)\",\"reason\":\"Expired\",\"code\":410}\n");
    (void)json_of(obj_status_expired(OBJ_STATUS_LIST_EXPIRED_MSG, &st), &st);
    ASSERT_STR_EQ(message(st),
                  "The resourceVersion for the provided list is too old.");
    (void)json_of(obj_status_gone("gone", &st), &st);
    ASSERT_STR_EQ(obj_str_or(obj_map_get(st, "reason"), NULL), "Gone");
    ASSERT_EQ(obj_status_http_code(st), 410);
}

TEST(status, forbidden_forms)
{
    struct obj *st = NULL;

    (void)json_of(obj_status_forbidden(&pods, "x", "no", &st), &st);
    ASSERT_STR_EQ(message(st), "pods \"x\" is forbidden: no");
    (void)json_of(obj_status_forbidden(&deployments, "", "no", &st), &st);
    ASSERT_STR_EQ(message(st), "deployments.apps is forbidden: no");
    ASSERT_STR_EQ(json_of(obj_status_forbidden(NULL, NULL, "no", &st), &st),
                  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                  "\"status\":\"Failure\",\"message\":\"forbidden: no\","
                  "\"reason\":\"Forbidden\",\"details\":{},\"code\":403}\n");
}

TEST(status, simple_failures)
{
    static const char *const types[] = {"application/json", "application/yaml",
                                        NULL};
    struct obj *st = NULL;

    (void)json_of(obj_status_bad_request("bad", &st), &st);
    ASSERT_STR_EQ(message(st), "bad");
    ASSERT_EQ(obj_status_http_code(st), 400);
    (void)json_of(obj_status_unauthorized(NULL, &st), &st);
    ASSERT_STR_EQ(message(st), "not authorized");
    ASSERT_EQ(obj_status_http_code(st), 401);
    (void)json_of(obj_status_method_not_supported(&pods, "patch", &st), &st);
    ASSERT_STR_EQ(message(st),
                  "patch is not supported on resources of kind \"pods\"");
    ASSERT_EQ(obj_status_http_code(st), 405);
    (void)json_of(obj_status_not_acceptable(types, &st), &st);
    ASSERT_STR_EQ(message(st),
                  "only the following media types are accepted: "
                  "application/json, application/yaml");
    ASSERT_EQ(obj_status_http_code(st), 406);
    (void)json_of(obj_status_unsupported_media_type(types, &st), &st);
    ASSERT_STR_EQ(message(st),
                  "the body of the request was in an unknown "
                  "format - accepted media types include: "
                  "application/json, application/yaml");
    ASSERT_EQ(obj_status_http_code(st), 415);
    (void)json_of(obj_status_too_large("limit is 3145728", &st), &st);
    ASSERT_STR_EQ(message(st), "Request entity too large: limit is 3145728");
    ASSERT_STR_EQ(obj_str_or(obj_map_get(st, "reason"), NULL),
                  "RequestEntityTooLarge");
    (void)json_of(obj_status_service_unavailable("later", &st), &st);
    ASSERT_EQ(obj_status_http_code(st), 503);
    (void)json_of(obj_status_failure(418, OBJ_REASON_UNKNOWN, "tea", &st), &st);
    ASSERT(obj_map_get(st, "reason") == NULL);
}

TEST(status, retry_after)
{
    struct obj *st = NULL;

    ASSERT_STR_EQ(json_of(obj_status_too_many_requests(NULL, 1, &st), &st),
                  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                  "\"status\":\"Failure\",\"message\":\"Too many requests, "
                  "please try again later.\",\"reason\":\"TooManyRequests\","
                  "\"details\":{\"retryAfterSeconds\":1},\"code\":429}\n");
    ASSERT_EQ(obj_status_retry_after(st), 1);
    (void)json_of(obj_status_timeout("slow", 0, &st), &st);
    ASSERT_STR_EQ(message(st), "Timeout: slow");
    ASSERT_EQ(obj_status_http_code(st), 504);
    ASSERT_EQ(obj_status_retry_after(st), 0);
    (void)json_of(obj_status_server_timeout(&pods, "create", 2, &st), &st);
    ASSERT_STR_EQ(message(st),
                  "The create operation against pods could not "
                  "be completed at this time, please try "
                  "again.");
    ASSERT_STR_EQ(obj_str_or(obj_get(st, "details", "name", NULL), NULL),
                  "create");
}

TEST(status, internal_error)
{
    struct obj *st = NULL;

    ASSERT_STR_EQ(json_of(obj_status_internal_error("boom", &st), &st),
                  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                  "\"status\":\"Failure\",\"message\":\"Internal error "
                  "occurred: boom\",\"reason\":\"InternalError\",\"details\":"
                  "{\"causes\":[{\"message\":\"boom\"}]},\"code\":500}\n");
}

TEST(status, success)
{
    struct obj *st = NULL;

    ASSERT_STR_EQ(
        json_of(obj_status_success(&deployments, "x", "u-1", &st), &st),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
        "\"status\":\"Success\",\"details\":{\"name\":\"x\","
        "\"group\":\"apps\",\"kind\":\"deployments\",\"uid\":"
        "\"u-1\"}}\n");
    ASSERT_EQ(obj_status_http_code(st), 200);
}

TEST(status, names_are_go_quoted)
{
    struct obj *st = NULL;

    (void)json_of(obj_status_not_found(&pods, "a\"b\n", &st), &st);
    ASSERT_STR_EQ(message(st), "pods \"a\\\"b\\n\" not found");
}

static void disarm(void *unused)
{
    (void)unused;
    mem_fault_arm(-1, 0);
}

TEST(status, out_of_memory_is_reported)
{
    int fails = 0;

    unit_defer(disarm, NULL);
    for (int delay = 0; delay < 120; delay++) {
        struct obj_ferrs *l = two_errors();
        struct obj *st = NULL;
        int r;

        mem_fault_arm(delay, 1);
        r = obj_status_invalid("apps", "Deployment", "d", l, &st);
        if (r == 0)
            obj_unref(st);
        r = r ? r : obj_status_internal_error("x", &st);
        mem_fault_arm(-1, 0);
        ASSERT(r == 0 || r == -ENOMEM);
        fails += r != 0;
        if (r == 0)
            obj_unref(st);
        obj_ferrs_done(l);
    }
    ASSERT(fails > 0);
}

UNIT_MAIN()
