/* test_json.c: the JSON reader (paths, types, limits, what is refused, what re-encoding
 * gives back) and writer (escaping, commas). Round trips and refusals are tables. */
#include <stdint.h>
#include <stdlib.h>
#include "json/json.h"
#include "t.h"

/* Text in, compact text out by sb_json_encode of the root: what was read is written. */
static const struct { const char *in, *out; } round_trips[] = {
    {"[]", "[]"},
    {"{}", "{}"},
    {"{\"orderItems\":[],\"buyer\":{},\"x\":[{},[]]}", "{\"orderItems\":[],\"buyer\":{},\"x\":[{},[]]}"},
    {"{\"unknownField\":[],\"other\":{}}", "{\"unknownField\":[],\"other\":{}}"},
    {" { \"z\" : 1 , \"a\" : 2 } ", "{\"z\":1,\"a\":2}"},                   /* keys keep their order */
    {"{\"amount\":12.34,\"neg\":-0.5,\"tiny\":1e-7}", "{\"amount\":12.34,\"neg\":-0.5,\"tiny\":1e-7}"},
    {"[9007199254740993,-9223372036854775808,9223372036854775807]",   /* past 2^53: exact */
     "[9007199254740993,-9223372036854775808,9223372036854775807]"},
    {"[99999999999999999999,1]", "[1e20,1.0]"},                     /* past int64: doubles */
    {"\"\\u00e9\\ud83d\\ude00\"", "\"\xc3\xa9\xf0\x9f\x98\x80\""},       /* escapes become UTF-8 */
    {"\"a/b\\\"\\u0001\"", "\"a/b\\\"\\u0001\""},
    {"[true,false,null,\"\"]", "[true,false,null,\"\"]"},
    {"7", "7"},
};

/* Documents refused, with the code and a part of the message. */
static const struct { const char *in; int rc; const char *says; } refused[] = {
    {"{\"a\":", SB_EINVAL, "invalid JSON"},
    {"", SB_EINVAL, "line 1"},
    {"{\"a\":1,\"a\":2}", SB_EINVAL, "duplicate object key"},
    {"{\"o\":{\"k\":1,\"k\":1}}", SB_EINVAL, "duplicate object key"},
    {"\"\xff\"", SB_EINVAL, "not UTF-8"},                             /* invalid UTF-8 is refused */
    {"\"\xc3\"", SB_EINVAL, "not UTF-8"},
    {"\"\\ud800\"", SB_EINVAL, "invalid Unicode"},                 /* a lone surrogate */
    {"\"a\\u0000b\"", SB_EINVAL, "\\u0000 is not allowed"},
    {"[1] x", SB_EINVAL, "end of file expected"},
    {"[1e400]", SB_EINVAL, "overflow"},
    {"{'a':1}", SB_EINVAL, "invalid JSON"},
};

/* n nested arrays, "[[...]]" */
static char *nested(size_t n) {
    char *s = malloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++) { s[i] = '['; s[n * 2 - 1 - i] = ']'; }
    s[n * 2] = '\0';
    return s;
}

static void test_tables(void) {
    char err[SB_ERRLEN];
    sb_buf b;
    sb_buf_init(&b, 1 << 16);
    for (size_t i = 0; i < sizeof round_trips / sizeof round_trips[0]; i++) {
        sb_json *j = NULL;
        sb_buf_reset(&b);
        T_EQ(sb_json_parse(round_trips[i].in, strlen(round_trips[i].in), &j, err), 0);
        T_EQ(sb_json_encode(j, SB_JSON_ROOT, &b, err), 0);
        T_STREQ(b.data, round_trips[i].out);
        sb_json_free(j);
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sb_json *j = (sb_json *)&b;
        err[0] = '\0';
        T_EQ(sb_json_parse(refused[i].in, strlen(refused[i].in), &j, err), refused[i].rc);
        T_CHECK(j == NULL);
        T_CONTAINS(err, refused[i].says);
    }
    sb_buf_free(&b);
}

static void test_limits(void) {
    char err[SB_ERRLEN];
    sb_json *j = NULL;
    /* depth: SB_JSON_MAX_DEPTH levels are read, one more is not, nor jansson's own 2048+ */
    char *d = nested(SB_JSON_MAX_DEPTH);
    T_EQ(sb_json_parse(d, strlen(d), &j, err), 0);
    sb_json_free(j);
    free(d);
    d = nested(SB_JSON_MAX_DEPTH + 1);
    T_EQ(sb_json_parse(d, strlen(d), &j, err), SB_EINVAL);
    T_CONTAINS(err, "nested deeper than 64 levels");
    free(d);
    d = nested(10000);
    T_EQ(sb_json_parse(d, strlen(d), &j, err), SB_EINVAL);
    T_CONTAINS(err, "depth");
    free(d);
    /* size: refused before anything is read */
    T_EQ(sb_json_parse("x", (size_t)SB_JSON_MAX_BYTES + 1, &j, err), SB_ENOMEM);
    T_CONTAINS(err, "larger than the");
    /* memory: 1 MB of empty objects takes far more than 8 MiB + 16 bytes a byte */
    size_t n = 1u << 20;
    char *objs = malloc(n + 1);
    objs[0] = '[';
    for (size_t i = 1; i + 3 < n; i += 3) memcpy(objs + i, "{},", 3);
    size_t len = 1 + (n - 4) / 3 * 3;
    objs[len - 1] = ']';
    objs[len] = '\0';
    T_EQ(sb_json_parse(objs, len, &j, err), SB_ENOMEM);
    T_CONTAINS(err, "bytes of memory");
    /* the cap was for that parse only: a real one right after on this thread works */
    T_EQ(sb_json_parse("[{}]", 4, &j, err), 0);
    sb_json_free(j);
    free(objs);
}

static void test_values(void) {
    char err[SB_ERRLEN];
    sb_json *j = NULL;
    const char *doc = "{\"e\":[],\"o\":{},\"id\":9007199254740993,\"amount\":\"12.34\",\"x\":12.34,"
                      "\"q\":\"42\",\"f\":3.0,\"half\":2.5,\"s\":\"caf\\u00e9\"}";
    T_EQ(sb_json_parse(doc, strlen(doc), &j, err), 0);
    T_EQ(sb_json_type(j, SB_JSON_ROOT, "e"), SB_JSON_ARR);           /* the empty array is an array */
    T_EQ(sb_json_len(j, SB_JSON_ROOT, "e"), 0);
    T_EQ(sb_json_type(j, SB_JSON_ROOT, "o"), SB_JSON_OBJ);
    T_EQ(sb_json_at(j, sb_json_get(j, SB_JSON_ROOT, "e"), 0), 0);
    T_EQ(sb_json_int(j, SB_JSON_ROOT, "id", -1), 9007199254740993LL);  /* exact past 2^53 */
    T_EQ(sb_json_int(j, SB_JSON_ROOT, "q", -1), 42);
    T_EQ(sb_json_int(j, SB_JSON_ROOT, "f", -1), 3);
    T_EQ(sb_json_int(j, SB_JSON_ROOT, "half", -1), -1);
    T_EQ(sb_json_int(j, SB_JSON_ROOT, "amount", -1), -1);
    T_EQ(sb_json_int(j, SB_JSON_ROOT, "missing", -7), -7);
    T_CHECK(sb_json_num(j, SB_JSON_ROOT, "amount", 0) == 12.34);     /* as strtod reads it */
    T_CHECK(sb_json_num(j, SB_JSON_ROOT, "x", 0) == 12.34);
    T_STREQ(sb_json_str(j, SB_JSON_ROOT, "s"), "caf\xc3\xa9");
    /* keys in the document's order, also when a walk is restarted */
    const char *order[] = {"e", "o", "id", "amount", "x", "q", "f", "half", "s"};
    int it = 0, n, k = 0;
    const char *key;
    while ((n = sb_json_next(j, SB_JSON_ROOT, &it, &key))) {
        if (k < 9) T_STREQ(key, order[k]);
        k++;
    }
    T_EQ(k, 9);
    it = 4;
    T_CHECK(sb_json_next(j, SB_JSON_ROOT, &it, &key) > 0);
    T_STREQ(key, "x");
    T_EQ(it, 5);
    /* a node of a subtree re-encodes alone */
    sb_buf b;
    sb_buf_init(&b, 1 << 16);
    T_EQ(sb_json_encode(j, sb_json_get(j, SB_JSON_ROOT, "e"), &b, err), 0);
    T_STREQ(b.data, "[]");
    sb_buf_reset(&b);
    T_EQ(sb_json_encode(j, sb_json_get(j, SB_JSON_ROOT, "o"), &b, err), 0);
    T_STREQ(b.data, "{}");
    /* a buffer too small keeps nothing of the attempt */
    sb_buf small;
    sb_buf_init(&small, 8);
    sb_buf_append(&small, "ab", 2);
    T_EQ(sb_json_encode(j, SB_JSON_ROOT, &small, err), SB_ENOMEM);
    T_EQ(small.len, 2);
    T_STREQ(small.data, "ab");
    sb_buf_free(&small);
    sb_buf_free(&b);
    sb_json_free(j);
    /* a NULL document: everything absent */
    T_EQ(sb_json_type(NULL, SB_JSON_ROOT, "a"), SB_JSON_NONE);
    T_CHECK(sb_json_str(NULL, SB_JSON_ROOT, "a") == NULL);
    T_EQ(sb_json_int(NULL, SB_JSON_ROOT, "a", 5), 5);
}

int main(void) {
    test_tables();
    test_limits();
    test_values();
    char err[SB_ERRLEN];
    sb_json *j = NULL;
    const char *doc = "{\"errors\":[{\"code\":\"InvalidInput\",\"message\":\"m\"}],\"n\":\"11.01\",\"i\":3,"
                      "\"b\":true,\"z\":null,\"e\":[],\"o\":{\"a.b\":1,\"k\":\"v\"}}";
    T_EQ(sb_json_parse(doc, strlen(doc), &j, err), 0);
    T_STREQ(sb_json_str(j, SB_JSON_ROOT, "errors[0].code"), "InvalidInput");
    T_CHECK(sb_json_str(j, SB_JSON_ROOT, "errors[1].code") == NULL);
    T_CHECK(sb_json_str(j, SB_JSON_ROOT, "i") == NULL);
    T_EQ(sb_json_num(j, SB_JSON_ROOT, "i", 0), 3);
    T_CHECK(sb_json_num(j, SB_JSON_ROOT, "n", 0) == 11.01);
    T_EQ(sb_json_bool(j, SB_JSON_ROOT, "b", 0), 1);
    T_EQ(sb_json_type(j, SB_JSON_ROOT, "z"), SB_JSON_NULL);
    T_EQ(sb_json_type(j, SB_JSON_ROOT, "errors"), SB_JSON_ARR);
    T_EQ(sb_json_type(j, SB_JSON_ROOT, "missing.deeper"), SB_JSON_NONE);
    T_EQ(sb_json_len(j, SB_JSON_ROOT, "errors"), 1);
    int e0 = sb_json_at(j, sb_json_get(j, SB_JSON_ROOT, "errors"), 0);
    T_STREQ(sb_json_str(j, e0, "message"), "m");
    int it = 0, n, seen = 0;
    const char *k;
    int o = sb_json_get(j, SB_JSON_ROOT, "o");
    while ((n = sb_json_next(j, o, &it, &k))) seen++;
    T_EQ(seen, 2);
    sb_json_free(j);
    /* writer */
    sb_buf b;
    sb_buf_init(&b, 1 << 16);
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "s", "a\"b\\c\n\x01");
    sb_jw_key(&w, "arr");
    sb_jw_arr(&w);
    sb_jw_int(&w, 1);
    sb_jw_bool(&w, 0);
    sb_jw_null(&w);
    sb_jw_obj(&w);
    sb_jw_end_obj(&w);
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
    T_EQ(sb_jw_error(&w), 0);
    T_STREQ(b.data, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"arr\":[1,false,null,{}]}");
    T_EQ(sb_json_parse(b.data, b.len, &j, err), 0);
    T_STREQ(sb_json_str(j, SB_JSON_ROOT, "s"), "a\"b\\c\n\x01");
    sb_json_free(j);
    /* UTF-8 is written as it is; a byte outside well-formed UTF-8 as \u00XX, so the
     * writer's text is always read back (overlong, surrogate, truncated, past U+10FFFF) */
    static const struct { const char *in, *out; } quoted[] = {
        {"caf\xc3\xa9 \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""},
        {"caf\xe9", "\"caf\\u00e9\""},
        {"\xc0\xaf", "\"\\u00c0\\u00af\""},
        {"\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""},
        {"\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""},
        {"x\xe2\x82", "\"x\\u00e2\\u0082\""},
        {"\x7f", "\"\\u007f\""},
    };
    for (size_t i = 0; i < sizeof quoted / sizeof quoted[0]; i++) {
        sb_buf_reset(&b);
        T_EQ(sb_json_quote(&b, quoted[i].in, strlen(quoted[i].in)), 0);
        T_STREQ(b.data, quoted[i].out);
        T_EQ(sb_json_parse(b.data, b.len, &j, err), 0);
        sb_json_free(j);
    }
    sb_buf_free(&b);
    return t_done();
}
