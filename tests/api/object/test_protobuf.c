/* Protobuf bodies: the ConfigMap kubectl 1.33 sent (bytes recorded in
 * shared/KUBECTL-WIRE.md), and bodies built here with a small encoder for
 * the shapes the decoder must handle: maps, packed and unpacked repeated
 * fields, embedded (inline) messages, quantities, int-or-strings, times,
 * bytes, pointer zeros, unknown fields and damaged input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/protobuf.h"
#include "tests/lib/unit.h"

/* ---- a tiny encoder
 * ---------------------------------------------------------*/

struct pbuf {
    unsigned char v[4096];
    size_t n;
};

static void put_varint(struct pbuf *b, uint64_t x)
{
    do {
        ASSERT(b->n < sizeof b->v);
        b->v[b->n++] = (unsigned char)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
        x >>= 7;
    } while (x != 0);
}

static void put_key(struct pbuf *b, unsigned num, unsigned wt)
{
    put_varint(b, (uint64_t)num << 3 | wt);
}

static void put_int(struct pbuf *b, unsigned num, int64_t v)
{
    put_key(b, num, 0);
    put_varint(b, (uint64_t)v);
}

static void put_bytes(struct pbuf *b, unsigned num, const void *p, size_t n)
{
    put_key(b, num, 2);
    put_varint(b, n);
    ASSERT(b->n + n <= sizeof b->v);
    memcpy(b->v + b->n, p, n);
    b->n += n;
}

static void put_str(struct pbuf *b, unsigned num, const char *s)
{
    put_bytes(b, num, s, strlen(s));
}

static void put_msg(struct pbuf *b, unsigned num, const struct pbuf *m)
{
    put_bytes(b, num, m->v, m->n);
}

/* A map<string,string> entry. */
static void put_entry(struct pbuf *b,
                      unsigned num,
                      const char *k,
                      const char *v)
{
    struct pbuf e = {0};
    put_str(&e, 1, k);
    put_str(&e, 2, v);
    put_msg(b, num, &e);
}

/* The envelope around @raw. */
static void envelope(struct pbuf *out,
                     const char *apiv,
                     const char *kind,
                     const struct pbuf *raw)
{
    struct pbuf tm = {0};

    memcpy(out->v, "k8s\0", 4);
    out->n = 4;
    put_str(&tm, 1, apiv);
    put_str(&tm, 2, kind);
    put_msg(out, 1, &tm);
    put_msg(out, 2, raw);
    put_str(out, 3, "");
    put_str(out, 4, "");
}

/* ---- helpers
 * ------------------------------------------------------------------*/

static void unref_cb(void *o)
{
    obj_unref(o);
}

static const struct obj_schemas *schemas(void)
{
    struct err e = {0};
    const struct obj_schemas *s = obj_schemas_builtin(&e);

    ASSERT_MSG(s != NULL, "%s", e.msg);
    return s;
}

static struct obj *decode_ok(const void *data, size_t len)
{
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_MSG(obj_protobuf_decode(schemas(), data, len, &o, &e) == 0, "%s",
               e.msg);
    unit_defer(unref_cb, o);
    return o;
}

static void assert_json(const struct obj *got, const char *want)
{
    struct obj *w = NULL;
    struct obj_buf b;
    struct err e;

    ASSERT(obj_json_decode(want, strlen(want), NULL, &w, &e) == 0);
    unit_defer(unref_cb, w);
    obj_buf_init(&b);
    ASSERT(obj_json_encode(got, 0, &b, &e) == 0);
    ASSERT_MSG(obj_equal(got, w), "got  %s\nwant %s", b.data, want);
    obj_buf_done(&b);
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* ---- tests
 * --------------------------------------------------------------------*/

TEST(protobuf, the_configmap_kubectl_sent)
{
    static const char hex[] =
        "6b3873000a0f0a0276311209436f6e6669674d6170121d0a130a0367656e12001a0"
        "022002a0032003800420012060a016b1201761a002200";
    unsigned char raw[sizeof hex / 2];
    size_t n = 0;

    for (size_t i = 0; hex[i] != '\0'; i += 2)
        raw[n++] = (unsigned char)(hexval(hex[i]) << 4 | hexval(hex[i + 1]));
    assert_json(decode_ok(raw, n),
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                "{\"name\":\"gen\"},\"data\":{\"k\":\"v\"}}");
}

TEST(protobuf, a_deployment_with_every_shape)
{
    struct pbuf meta = {0}, spec = {0}, sel = {0}, tmpl = {0}, tmeta = {0},
                pspec = {0}, c = {0}, port = {0}, res = {0}, q = {0},
                probe = {0}, http = {0}, tgt = {0}, vol = {0}, src = {0},
                ts = {0}, raw = {0}, body = {0};

    put_str(&meta, 1, "web");
    put_str(&meta, 2, ""); /* zero strings are left out */
    put_int(&meta, 7, 0);  /* and zero numbers without a default */
    ts.n = 0;
    put_int(&ts, 1, 1700000000);
    put_msg(&meta, 8, &ts); /* creationTimestamp */
    put_entry(&meta, 11, "app", "web");
    put_int(&spec, 1, 0); /* replicas: a pointer, 0 must stay */
    put_entry(&sel, 1, "app", "web");
    put_msg(&spec, 2, &sel);
    put_entry(&tmeta, 11, "app", "web");
    put_msg(&tmpl, 1, &tmeta);
    put_str(&c, 1, "web");
    put_str(&c, 2, "nginx:1.27");
    put_str(&c, 3, "sh"); /* command, repeated string */
    put_str(&c, 3, "-c");
    put_int(&port, 3, 8080);
    put_str(&port, 4, "TCP");
    put_msg(&c, 6, &port);
    put_str(&q, 1, "100m");
    {
        struct pbuf e = {0};
        put_str(&e, 1, "cpu");
        put_msg(&e, 2, &q);
        put_msg(&res, 2, &e); /* requests */
    }
    put_msg(&c, 8, &res);
    put_str(&tgt, 3, "http"); /* intstr: type absent (0) but strVal? */
    put_int(&tgt, 1, 1);
    put_str(&http, 1, "/healthz");
    put_msg(&http, 2, &tgt);
    {
        struct pbuf handler = {0};
        put_msg(&handler, 2, &http);  /* ProbeHandler.httpGet */
        put_msg(&probe, 1, &handler); /* Probe's inline handler */
    }
    put_int(&probe, 4, 5);   /* periodSeconds */
    put_msg(&c, 11, &probe); /* readinessProbe */
    put_int(&c, 99, 7);      /* an unknown field: skipped */
    put_msg(&pspec, 2, &c);
    put_str(&vol, 1, "tmp");
    {
        struct pbuf empty = {0}, vs = {0};
        put_str(&empty, 1, "Memory");
        put_msg(&vs, 2, &empty); /* VolumeSource.emptyDir */
        put_msg(&vol, 2, &vs);   /* Volume's inline VolumeSource */
    }
    put_msg(&pspec, 1, &vol);
    put_msg(&tmpl, 2, &pspec);
    put_msg(&spec, 3, &tmpl);
    put_msg(&raw, 1, &meta);
    put_msg(&raw, 2, &spec);
    envelope(&body, "apps/v1", "Deployment", &raw);
    (void)src;
    assert_json(
        decode_ok(body.v, body.n),
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":"
        "{\"name\":\"web\",\"creationTimestamp\":\"2023-11-14T22:13:20Z\","
        "\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":0,"
        "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":"
        "{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"volumes\":"
        "[{\"name\":\"tmp\",\"emptyDir\":{\"medium\":\"Memory\"}}],"
        "\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.27\","
        "\"command\":[\"sh\",\"-c\"],\"ports\":[{\"containerPort\":8080,"
        "\"protocol\":\"TCP\"}],\"resources\":{\"requests\":{\"cpu\":"
        "\"100m\"}},\"readinessProbe\":{\"httpGet\":{\"path\":\"/healthz\","
        "\"port\":\"http\"},\"periodSeconds\":5}}]}}}}");
}

TEST(protobuf, secret_bytes_become_base64)
{
    struct pbuf meta = {0}, raw = {0}, body = {0}, e = {0};

    put_str(&meta, 1, "s");
    put_str(&e, 1, "key");
    put_bytes(&e, 2, "\x00\xffhi", 4);
    put_msg(&raw, 1, &meta);
    put_msg(&raw, 2, &e); /* data */
    put_str(&raw, 3, "Opaque");
    envelope(&body, "v1", "Secret", &raw);
    assert_json(decode_ok(body.v, body.n),
                "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":"
                "{\"name\":\"s\"},\"data\":{\"key\":\"AP9oaQ==\"},"
                "\"type\":\"Opaque\"}");
}

TEST(protobuf, bad_bodies_are_refused)
{
    struct pbuf raw = {0}, body = {0};
    struct obj *o = NULL;
    struct err e = {0};

    ASSERT_EQ(obj_protobuf_decode(schemas(), "k8s", 3, &o, &e),
              -C8S_EMALFORMED);
    ASSERT_EQ(obj_protobuf_decode(schemas(), "{\"a\":1}", 7, &o, &e),
              -C8S_EMALFORMED);
    put_str(&raw, 1, "x");
    envelope(&body, "v1", "Unicorn", &raw);
    ASSERT_EQ(obj_protobuf_decode(schemas(), body.v, body.n, &o, &e), -ENOENT);
    ASSERT_STR_CONTAINS(e.msg, "no schema for v1 Unicorn");
    /* Truncated: every prefix of a good body fails cleanly or decodes. */
    raw.n = 0;
    put_entry(&raw, 2, "k", "v");
    envelope(&body, "v1", "ConfigMap", &raw);
    for (size_t n = 0; n < body.n; n++) {
        int rv = obj_protobuf_decode(schemas(), body.v, n, &o, &e);
        ASSERT_MSG(rv == -C8S_EMALFORMED || rv == 0, "prefix %zu: %d", n, rv);
        o = obj_unref(o);
    }
    /* A string that is not UTF-8. */
    raw.n = 0;
    put_entry(&raw, 2, "k", "\xff\xfe");
    envelope(&body, "v1", "ConfigMap", &raw);
    ASSERT_EQ(obj_protobuf_decode(schemas(), body.v, body.n, &o, &e),
              -C8S_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "UTF-8");
    /* ... also in the envelope (found by fuzzing: freed twice). */
    envelope(&body, "\xff", "ConfigMap", &raw);
    ASSERT_EQ(obj_protobuf_decode(schemas(), body.v, body.n, &o, &e),
              -C8S_EMALFORMED);
}

UNIT_MAIN()
