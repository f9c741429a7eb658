/* libFuzzer target: label and field selectors from arbitrary bytes.
 *
 * Build (from the top of the tree, after configure made config.h in BUILD):
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -g -O1 \
 *     -include BUILD/config.h -iquote . tests/fuzz/fuzz_selector.c \
 *     api/object/\*.c lib/\*.c -lyajl -lyaml -lmsgpackc
 * The first byte picks what the rest is: a label selector's text, a field
 * selector's text, or a structured LabelSelector as JSON.
 * Properties: no crash, hang or leak on any input; messages are valid
 * UTF-8; whatever parses prints as text that parses back to the same text
 * and matches the same objects; structured selectors validate exactly when
 * they convert. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/object/codec.h"
#include "api/object/selector.h"
#include "lib/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Label maps and objects every parsed selector is matched against. */
static const char *const label_json[] = {
    "{}",
    "{\"a\":\"b\"}",
    "{\"x\":\"1\",\"y\":\"-5\",\"in\":\"in\",\"a\":\"\"}",
    "{\"example.com/k\":\"v\",\"n\":\"9223372036854775807\",\"b\":true}",
};
static const char *const object_json[] = {
    "{}",
    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"a,b=c\\\\\"},"
    "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}",
    "{\"metadata\":{\"name\":\"\"},\"spec\":{\"nodeName\":7}}",
};
static const char *const fields[] = {"metadata.name", "metadata.namespace",
                                     "spec.nodeName", "status.phase", NULL};

#define NLABELS (sizeof label_json / sizeof label_json[0])
#define NOBJECTS (sizeof object_json / sizeof object_json[0])

static struct obj *labels[NLABELS], *objects[NOBJECTS];

static struct obj *decode(const char *s)
{
    struct obj *o = NULL;

    if (obj_json_decode(s, strlen(s), NULL, &o, NULL) != 0)
        abort();
    return o;
}

static void setup(void)
{
    static int done;

    if (done++)
        return;
    for (size_t i = 0; i < NLABELS; i++)
        labels[i] = decode(label_json[i]);
    for (size_t i = 0; i < NOBJECTS; i++)
        objects[i] = decode(object_json[i]);
}

static void check_msg(const struct err *e)
{
    if (!obj_utf8_check(e->msg, strlen(e->msg), NULL))
        abort();
}

/* @s prints as text that parses back to the same text and matches the
 * same label maps. */
static void check_label_selector(const struct obj_lsel *s)
{
    struct obj_lsel *again = NULL;
    char *text = obj_lsel_string(s), *text2;
    const char *v;

    if (text == NULL)
        abort();
    if (obj_lsel_parse(text, strlen(text), &again, NULL) != 0)
        abort();
    text2 = obj_lsel_string(again);
    if (text2 == NULL || strcmp(text, text2) != 0)
        abort();
    for (size_t i = 0; i < NLABELS; i++)
        if (!s->nothing &&
            obj_lsel_match(s, labels[i]) != obj_lsel_match(again, labels[i]))
            abort();
    (void)obj_lsel_exact(s, "a", &v);
    (void)obj_lsel_match_obj(s, objects[1]);
    mem_free(text);
    mem_free(text2);
    obj_lsel_free(again);
}

static void fuzz_label(const char *text, size_t len)
{
    struct obj_lsel *s = NULL;
    struct err e = {0};

    if (obj_lsel_parse(text, len, &s, &e) != 0) {
        check_msg(&e);
        return;
    }
    check_label_selector(s);
    obj_lsel_free(s);
}

static void fuzz_field(const char *text, size_t len)
{
    struct obj_fsel *s = NULL;
    struct err e = {0};
    const char *v;
    size_t n;

    if (obj_fsel_parse(text, len, fields, &s, &e) != 0) {
        check_msg(&e);
        return;
    }
    for (size_t i = 0; i < NOBJECTS; i++)
        (void)obj_fsel_match(s, objects[i]);
    if (obj_fsel_exact(s, "spec.nodeName", &v, &n) && v == NULL)
        abort();
    obj_fsel_free(s);
}

static void fuzz_struct(const char *text, size_t len)
{
    struct obj_decode_opts opts = {.max_depth = 16, .dups = OBJ_DUP_LAST};
    struct obj *ls = NULL;
    struct obj_lsel *s = NULL;
    struct err e = {0};
    int valid, converted;

    if (obj_json_decode(text, len, &opts, &ls, NULL) != 0)
        return;
    valid = obj_lsel_validate(ls, "spec.selector", NULL, NULL, &e) == 0;
    if (!valid)
        check_msg(&e);
    converted = obj_lsel_from_obj(ls, &s, &e) == 0;
    if (valid != converted)
        abort();
    if (converted)
        check_label_selector(s);
    obj_lsel_free(s);
    obj_unref(ls);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1;

    setup();
    if (size == 0 || size > 8192)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_label(text, size - 1);
        break;
    case 1:
        fuzz_field(text, size - 1);
        break;
    default:
        fuzz_struct(text, size - 1);
        break;
    }
    return 0;
}
