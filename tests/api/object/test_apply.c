/* Server-side apply and managedFields (api/object/apply.h), with the real
 * Deployment and ConfigMap schemas: field sets as Kubernetes writes them
 * (keyed lists by merge key with defaulted keys, set lists, server-owned
 * fields left out), fieldsV1 both ways, conflicts between managers,
 * force, removal of what a manager stops applying unless shared, and
 * updates taking fields over. */
#include <errno.h>
#include <string.h>

#include "api/object/apply.h"
#include "api/object/codec.h"
#include "tests/lib/unit.h"

#define SEP "\x01"

static struct obj *json(const char *s)
{
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_json_decode(s, strlen(s), NULL, &o, &e) == 0, "%s: %s",
               s, e.msg);
    return o;
}

static const struct obj_sstruct *schema(const char *group, const char *kind)
{
    struct err e = {0};
    const struct obj_schemas *s = obj_schemas_builtin(&e);

    ASSERT_MSG(s != NULL, "%s", e.msg);
    return obj_schemas_find_kind(s, group, "v1", kind);
}

static bool has(const struct obj_fset *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->paths[i], path) == 0)
            return true;
    return false;
}

#define DEPLOY_HEAD                                                          \
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":"      \
    "{\"name\":\"web\",\"uid\":\"u1\",\"finalizers\":[\"a\",\"b\"]},"

TEST(apply, field_sets_follow_the_schema)
{
    const struct obj_sstruct *st = schema("apps", "Deployment");
    struct obj *d = json(DEPLOY_HEAD
                         "\"spec\":{\"replicas\":2,\"template\":{\"spec\":"
                         "{\"containers\":[{\"name\":\"web\",\"image\":\"x\","
                         "\"ports\":[{\"containerPort\":80}]}]}}},"
                         "\"status\":{\"replicas\":2}}");
    struct obj_fset s = {0};

    ASSERT_EQ(obj_fset_of(st, d, true, &s), 0);
    ASSERT(has(&s, "f:spec" SEP "f:replicas"));
    ASSERT(has(&s, "f:metadata" SEP "f:finalizers" SEP "v:\"a\""));
    const char *c = "f:spec" SEP "f:template" SEP "f:spec" SEP
                    "f:containers" SEP "k:{\"name\":\"web\"}";
    char path[512];
    snprintf(path, sizeof path, "%s" SEP ".", c);
    ASSERT(has(&s, path));
    snprintf(path, sizeof path, "%s" SEP "f:image", c);
    ASSERT(has(&s, path));
    /* The protocol key is defaulted (TCP), as Kubernetes keys it. */
    snprintf(path, sizeof path,
             "%s" SEP "f:ports" SEP "k:{\"containerPort\":80,"
             "\"protocol\":\"TCP\"}" SEP "f:containerPort",
             c);
    ASSERT(has(&s, path));
    /* The server's fields and the status subresource are no one's. */
    for (size_t i = 0; i < s.n; i++) {
        ASSERT(strstr(s.paths[i], "f:uid") == NULL);
        ASSERT(strncmp(s.paths[i], "f:status", 8) != 0);
        ASSERT(strncmp(s.paths[i], "f:kind", 6) != 0);
    }
    obj_fset_done(&s);
    obj_unref(d);
}

TEST(apply, fields_v1_round_trips_and_refuses_garbage)
{
    const struct obj_sstruct *st = schema("apps", "Deployment");
    struct obj *d = json(DEPLOY_HEAD
                         "\"spec\":{\"replicas\":2,\"template\":{\"spec\":"
                         "{\"containers\":[{\"name\":\"web\"}]}}}}");
    struct obj_fset a = {0}, b = {0};
    struct obj *tree, *bad;

    ASSERT_EQ(obj_fset_of(st, d, true, &a), 0);
    tree = obj_fset_to_fields_v1(&a);
    ASSERT(tree != NULL);
    ASSERT(obj_get(tree, "f:spec", "f:template", "f:spec", "f:containers",
                   "k:{\"name\":\"web\"}", ".", NULL) != NULL);
    ASSERT_EQ(obj_fset_from_fields_v1(tree, &b), 0);
    ASSERT_EQ(a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        ASSERT_STR_EQ(a.paths[i], b.paths[i]);
    obj_fset_done(&b);
    bad = json("{\"f:spec\":{\"bogus\":{}}}");
    ASSERT_EQ(obj_fset_from_fields_v1(bad, &b), -EINVAL);
    obj_fset_done(&b);
    obj_unref(bad);
    bad = json("{\"f:spec\":[1]}");
    ASSERT_EQ(obj_fset_from_fields_v1(bad, &b), -EINVAL);
    obj_fset_done(&b);
    obj_unref(bad);
    obj_unref(tree);
    obj_fset_done(&a);
    obj_unref(d);
}

static struct obj_apply_opts as(const char *manager, bool force)
{
    return (struct obj_apply_opts){.manager = manager,
                                   .api_version = "v1",
                                   .now = "2026-11-23T00:00:00Z",
                                   .force = force};
}

static struct obj *cm(const char *data)
{
    char buf[512];

    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
             "{\"name\":\"c\"},\"data\":%s}",
             data);
    return json(buf);
}

/* Apply @cfg as @manager to @live (in place); returns the result. */
static int apply(struct obj *live, const char *cfg, const char *manager,
                 bool force, struct err *e)
{
    struct obj_apply_opts o = as(manager, force);
    struct obj *c = cm(cfg);
    int rv = obj_apply(schema("", "ConfigMap"), live, c, &o, e);

    obj_unref(c);
    return rv;
}

static const char *data(const struct obj *o, const char *key)
{
    return obj_str_or(obj_get(o, "data", key, NULL), NULL);
}

TEST(apply, managers_conflict_share_and_force)
{
    struct obj_apply_opts o = as("alice", false);
    struct obj *live = cm("{\"a\":\"1\",\"b\":\"2\"}");
    struct err e = {0};

    ASSERT_EQ(obj_apply_record_create(schema("", "ConfigMap"), live, &o), 0);
    /* Bob applies the same value of a: shared, no conflict. */
    ASSERT_EQ(apply(live, "{\"a\":\"1\"}", "bob", false, &e), 0);
    ASSERT_EQ(obj_array_len(obj_get_path(live, "metadata.managedFields")), 2);
    /* Another value: a conflict naming the owner and the field. */
    ASSERT_EQ(apply(live, "{\"b\":\"3\"}", "bob", false, &e), -C8S_ECONFLICT);
    ASSERT_STR_CONTAINS(e.msg, "Apply failed with 1 conflict: conflict with "
                               "\"alice\" using v1: .data.b");
    ASSERT_STR_EQ(data(live, "b"), "2");
    /* Several: grouped by manager, as Kubernetes words it. */
    ASSERT_EQ(apply(live, "{\"a\":\"7\",\"b\":\"8\"}", "carol", false, &e),
              -C8S_ECONFLICT);
    ASSERT_STR_CONTAINS(e.msg, "Apply failed with 3 conflicts: conflicts with "
                               "\"alice\" using v1:\n- .data.a\n- .data.b\n"
                               "conflicts with \"bob\" using v1:\n- .data.a");
    /* Forced: bob takes b, alice keeps a (shared) only. */
    ASSERT_EQ(apply(live, "{\"a\":\"1\",\"b\":\"3\"}", "bob", true, &e), 0);
    ASSERT_STR_EQ(data(live, "b"), "3");
    struct obj *tree = obj_get(obj_array_get(obj_get_path(live,
                               "metadata.managedFields"), 0), "fieldsV1",
                               "f:data", NULL);
    ASSERT(obj_map_get(tree, "f:a") != NULL && obj_map_get(tree, "f:b") == NULL);
    /* Alice stops applying a: bob still owns it, so it stays. Bob stops
     * applying b: nobody else owns it, so it goes. */
    ASSERT_EQ(apply(live, "{}", "alice", false, &e), 0);
    ASSERT_STR_EQ(data(live, "a"), "1");
    ASSERT_EQ(apply(live, "{\"a\":\"1\"}", "bob", false, &e), 0);
    ASSERT(data(live, "b") == NULL);
    ASSERT_STR_EQ(data(live, "a"), "1");
    obj_unref(live);
}

TEST(apply, keyed_lists_merge_by_key_and_drop_what_the_manager_dropped)
{
    const struct obj_sstruct *st = schema("apps", "Deployment");
    struct obj_apply_opts alice = as("alice", false), bob = as("bob", false);
    struct obj *live = json(DEPLOY_HEAD "\"spec\":{\"template\":{\"spec\":"
                            "{\"containers\":[{\"name\":\"a\",\"image\":"
                            "\"x\"}]}}}}");
    struct obj *cfg = json(DEPLOY_HEAD "\"spec\":{\"template\":{\"spec\":"
                           "{\"containers\":[{\"name\":\"b\",\"image\":"
                           "\"y\"}]}}}}");
    struct obj *none = json(DEPLOY_HEAD "\"spec\":{}}");
    struct err e = {0};
    const struct obj *cs;

    ASSERT_EQ(obj_apply_record_create(st, live, &alice), 0);
    ASSERT_EQ(obj_apply(st, live, cfg, &bob, &e), 0);
    cs = obj_get_path(live, "spec.template.spec.containers");
    ASSERT_EQ(obj_array_len(cs), 2); /* bob's joined alice's */
    ASSERT_EQ(obj_apply(st, live, none, &bob, &e), 0);
    cs = obj_get_path(live, "spec.template.spec.containers");
    ASSERT_EQ(obj_array_len(cs), 1); /* bob's went, alice's stays */
    ASSERT_STR_EQ(obj_str_or(obj_get_path(obj_array_get(cs, 0), "name"), ""),
                  "a");
    obj_unref(none);
    obj_unref(cfg);
    obj_unref(live);
    /* A set list merges as a union. */
    live = json("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                "\"metadata\":{\"name\":\"web\",\"finalizers\":[\"a\","
                "\"b\"]}}");
    cfg = json("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
               "\"metadata\":{\"name\":\"web\",\"finalizers\":[\"b\","
               "\"c\"]}}");
    ASSERT_EQ(obj_apply(st, live, cfg, &bob, &e), 0);
    cs = obj_get_path(live, "metadata.finalizers");
    ASSERT_EQ(obj_array_len(cs), 3);
    ASSERT_STR_EQ(obj_str_or(obj_array_get(cs, 2), ""), "c");
    obj_unref(cfg);
    obj_unref(live);
}

TEST(apply, updates_take_over_what_they_change)
{
    const struct obj_sstruct *st = schema("", "ConfigMap");
    struct obj_apply_opts create = as("kubectl-create", false);
    struct obj_apply_opts edit = as("kubectl-edit", false);
    struct obj *old = cm("{\"a\":\"1\",\"b\":\"2\"}");
    struct obj *now = cm("{\"a\":\"9\"}");
    struct err e = {0};

    ASSERT_EQ(obj_apply_record_update(st, old, NULL, &create), 0);
    ASSERT_EQ(obj_array_len(obj_get_path(old, "metadata.managedFields")), 1);
    ASSERT_STR_EQ(obj_str_or(obj_get_path(obj_array_get(obj_get_path(old,
                  "metadata.managedFields"), 0), "operation"), ""), "Update");
    ASSERT_EQ(obj_apply_record_update(st, now, old, &edit), 0);
    /* kubectl-edit changed a; b is gone from the object and every entry. */
    const struct obj *mf = obj_get_path(now, "metadata.managedFields");
    ASSERT_EQ(obj_array_len(mf), 1);
    ASSERT_STR_EQ(obj_str_or(obj_map_get(obj_array_get(mf, 0), "manager"), ""),
                  "kubectl-edit");
    /* An apply of another value of a now conflicts with kubectl-edit. */
    ASSERT_EQ(apply(now, "{\"a\":\"5\"}", "kubectl", false, &e),
              -C8S_ECONFLICT);
    ASSERT_STR_CONTAINS(e.msg, "\"kubectl-edit\"");
    obj_unref(now);
    obj_unref(old);
}

/* A write through a subresource is recorded as such, beside the main
 * resource's entry of the same manager. */
TEST(apply, subresource_writes_get_their_own_entries)
{
    const struct obj_sstruct *st = schema("", "ConfigMap");
    struct obj_apply_opts create = as("ctl", false), sub = as("ctl", false);
    struct obj *old = cm("{\"a\":\"1\",\"b\":\"2\"}");
    struct obj *now = cm("{\"a\":\"1\",\"b\":\"3\"}");

    sub.subresource = "scale";
    ASSERT_EQ(obj_apply_record_update(st, old, NULL, &create), 0);
    ASSERT_EQ(obj_apply_record_update(st, now, old, &sub), 0);
    const struct obj *mf = obj_get_path(now, "metadata.managedFields");
    ASSERT_EQ(obj_array_len(mf), 2);
    ASSERT(obj_get(obj_array_get(mf, 0), "fieldsV1", "f:data", "f:b",
                   NULL) == NULL);
    ASSERT_STR_EQ(obj_str_or(obj_map_get(obj_array_get(mf, 1),
                  "subresource"), ""), "scale");
    ASSERT(obj_get(obj_array_get(mf, 1), "fieldsV1", "f:data", "f:b",
                   NULL) != NULL);
    obj_unref(now);
    obj_unref(old);
}

/* Review findings, each pinned: another manager's entry keeps its time
 * and apiVersion when a force takes a field from it; a crafted k: step
 * names no element; status owned through /status survives a write of the
 * main resource; what a client sends as managedFields is judged. */
TEST(apply, others_entries_keep_their_time_and_version)
{
    struct obj_apply_opts alice = as("alice", false);
    struct obj *live = cm("{\"a\":\"1\"}");
    struct err e = {0};

    alice.now = "2020-01-01T00:00:00Z";
    alice.api_version = "v1old";
    ASSERT_EQ(obj_apply_record_create(schema("", "ConfigMap"), live, &alice),
              0);
    ASSERT_EQ(apply(live, "{\"a\":\"2\",\"b\":\"3\"}", "bob", true, &e),
              0);
    ASSERT_EQ(apply(live, "{\"c\":\"4\"}", "carol", false, &e), 0);
    const struct obj *mf = obj_get_path(live, "metadata.managedFields");
    ASSERT_EQ(obj_array_len(mf), 2);
    ASSERT_STR_EQ(obj_str_or(obj_map_get(obj_array_get(mf, 0), "manager"), ""),
                  "bob");
    ASSERT_STR_EQ(obj_str_or(obj_map_get(obj_array_get(mf, 0), "time"), ""),
                  "2026-11-23T00:00:00Z");
    obj_unref(live);
    /* An untouched entry stays byte for byte; a shrunk one keeps its
     * time and version. */
    live = cm("{\"a\":\"1\",\"b\":\"2\"}");
    ASSERT_EQ(obj_apply_record_create(schema("", "ConfigMap"), live, &alice),
              0);
    ASSERT_EQ(apply(live, "{\"a\":\"9\"}", "bob", true, &e), 0);
    mf = obj_get_path(live, "metadata.managedFields");
    ASSERT_STR_EQ(obj_str_or(obj_map_get(obj_array_get(mf, 0), "manager"), ""),
                  "alice");
    ASSERT_STR_EQ(obj_str_or(obj_map_get(obj_array_get(mf, 0), "time"), ""),
                  "2020-01-01T00:00:00Z");
    ASSERT_STR_EQ(obj_str_or(obj_map_get(obj_array_get(mf, 0), "apiVersion"),
                             ""),
                  "v1old");
    obj_unref(live);
}

TEST(apply, crafted_key_steps_name_no_element)
{
    const struct obj_sstruct *st = schema("apps", "Deployment");
    struct obj_apply_opts bob = as("bob", false);
    struct obj *live = json(
        DEPLOY_HEAD "\"spec\":{\"template\":{\"spec\":{\"containers\":"
        "[{\"name\":\"victim\",\"image\":\"x\"}]}}}}");
    struct obj *cfg = json(DEPLOY_HEAD "\"spec\":{}}");
    struct obj *meta = obj_map_get_mut(live, "metadata");
    struct err e = {0};

    ASSERT(meta != NULL);
    ASSERT_EQ(obj_map_set(meta, "managedFields",
                          json("[{\"manager\":\"bob\",\"operation\":"
                               "\"Apply\",\"fieldsV1\":{\"f:spec\":{"
                               "\"f:template\":{\"f:spec\":{"
                               "\"f:containers\":{\"k:5\":{\".\":{}},"
                               "\"k:{}\":{\".\":{}}}}}}}}]")),
              0);
    ASSERT_EQ(obj_apply(st, live, cfg, &bob, &e), 0);
    ASSERT_EQ(obj_array_len(obj_get_path(live,
                                         "spec.template.spec.containers")),
              1);
    obj_unref(cfg);
    obj_unref(live);
}

TEST(apply, status_owned_through_its_subresource_survives_main_writes)
{
    const struct obj_sstruct *st = schema("apps", "Deployment");
    struct obj_apply_opts ctl = as("ctl", false), user = as("user", false);
    struct obj *v1 = json(DEPLOY_HEAD "\"spec\":{\"replicas\":1},"
                          "\"status\":{\"replicas\":1}}");
    struct obj *v2 = json(DEPLOY_HEAD "\"spec\":{\"replicas\":1},"
                          "\"status\":{\"replicas\":2}}");
    struct obj *v3 = json(DEPLOY_HEAD "\"spec\":{\"replicas\":3},"
                          "\"status\":{\"replicas\":2}}");

    ctl.subresource = "status";
    user.skip_status = true;
    ASSERT_EQ(obj_apply_record_update(st, v2, v1, &ctl), 0);
    struct obj *mf = obj_get_path(v2, "metadata.managedFields");
    ASSERT(mf != NULL);
    struct obj *meta = obj_map_get_mut(v3, "metadata");
    ASSERT_EQ(obj_map_set(meta, "managedFields", obj_ref(mf)), 0);
    ASSERT_EQ(obj_apply_record_update(st, v3, v2, &user), 0);
    mf = obj_get_path(v3, "metadata.managedFields");
    ASSERT_EQ(obj_array_len(mf), 2); /* ctl's status entry is still there */
    ASSERT(obj_get(obj_array_get(mf, 0), "fieldsV1", "f:status", NULL) !=
           NULL);
    obj_unref(v3);
    obj_unref(v2);
    obj_unref(v1);
}

TEST(apply, managed_fields_sent_by_clients_are_judged)
{
    const struct obj_sstruct *st = schema("", "ConfigMap");
    struct obj_apply_opts ctl = as("ctl", false);
    struct obj *old = cm("{\"a\":\"1\"}");
    struct obj *meta;

    ASSERT_EQ(obj_apply_record_update(st, old, NULL, &ctl), 0);
    const char *sent[] = {
        "[{}]",                                              /* reset */
        "[{\"manager\":\"m\",\"operation\":\"Apply\",\"fieldsV1\":"
        "{\"f:data\":{}}}]",                                  /* kept */
        "[{\"manager\":\"m\",\"operation\":\"Apply\",\"fieldsV1\":"
        "{\"bad\":{}}}]",                                   /* stored */
        "[]",                                                /* stored */
    };
    const char *want_manager[] = {NULL, "m", "ctl", "ctl"};
    for (size_t i = 0; i < 4; i++) {
        struct obj *now = cm("{\"a\":\"1\"}");

        meta = obj_map_get_mut(now, "metadata");
        ASSERT_EQ(obj_map_set(meta, "managedFields", json(sent[i])), 0);
        ASSERT_EQ(obj_apply_record_update(st, now, old, &ctl), 0);
        const struct obj *mf = obj_get_path(now, "metadata.managedFields");
        if (want_manager[i] == NULL)
            ASSERT(mf == NULL);
        else
            ASSERT_STR_EQ(obj_str_or(obj_map_get(obj_array_get(mf, 0),
                                                 "manager"),
                                     ""),
                          want_manager[i]);
        obj_unref(now);
    }
    obj_unref(old);
}

/* Found by fuzz_apply: objects without a metadata map (a configuration
 * that makes metadata a scalar, or none at all) are applied without
 * bookkeeping, and nothing leaks (LeakSanitizer runs with the tests). */
TEST(apply, objects_without_a_metadata_map_are_no_trouble)
{
    const char *cases[][2] = {{"{\"\":true}", "{\"metadata\":true}"},
                              {"{}", "{}"}};

    for (size_t i = 0; i < 2; i++) {
        struct obj_apply_opts o = as("m", false);
        struct obj *live = json(cases[i][0]), *cfg = json(cases[i][1]);
        struct err e = {0};

        ASSERT_EQ(obj_apply(schema("apps", "Deployment"), live, cfg, &o, &e),
                  0);
        ASSERT_EQ(obj_apply_record_update(schema("apps", "Deployment"), live,
                                          NULL, &o),
                  0);
        obj_unref(cfg);
        obj_unref(live);
    }
}

/* Keyed lists in a configuration need their keys, once each. */
TEST(apply, configurations_with_duplicate_or_missing_keys_are_refused)
{
    const struct obj_sstruct *st = schema("apps", "Deployment");
    struct obj *dup = json(DEPLOY_HEAD "\"spec\":{\"template\":{\"spec\":"
                           "{\"containers\":[{\"name\":\"a\"},{\"name\":"
                           "\"a\"}]}}}}");
    struct obj *nokey = json(DEPLOY_HEAD "\"spec\":{\"template\":{\"spec\":"
                             "{\"containers\":[{\"image\":\"x\"}]}}}}");
    struct obj *live = json(DEPLOY_HEAD "\"spec\":{}}");
    struct obj_apply_opts o = as("m", false);
    struct err e = {0};

    ASSERT_EQ(obj_apply_check(st, dup, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, ".spec.template.spec.containers: duplicate "
                               "entries for key {\"name\":\"a\"}");
    ASSERT_EQ(obj_apply_check(st, nokey, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "containers[0]: the element lacks its key");
    ASSERT_EQ(obj_apply(st, live, dup, &o, &e), -EINVAL);
    obj_unref(live);
    obj_unref(nokey);
    obj_unref(dup);
}

TEST(apply, malformed_managed_fields_are_refused_clearly)
{
    struct obj *live = json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                            "\"metadata\":{\"name\":\"c\",\"managedFields\":"
                            "[{\"manager\":\"m\",\"operation\":\"Apply\","
                            "\"fieldsV1\":{\"nope\":{}}}]}}");
    struct err e = {0};

    ASSERT_EQ(apply(live, "{\"a\":\"1\"}", "kubectl", false, &e), -EINVAL);
    ASSERT_STR_CONTAINS(e.msg, "metadata.managedFields[0].fieldsV1");
    obj_unref(live);
}

UNIT_MAIN()
