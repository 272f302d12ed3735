/* test_json.c: the JSON reader (paths, types, limits) and writer (escaping, commas). */
#include <stdlib.h>
#include "json/json.h"
#include "t.h"

int main(void) {
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
    sb_buf b;
    sb_buf_init(&b, 1 << 16);
    T_EQ(sb_json_encode_key(j, sb_json_get(j, SB_JSON_ROOT, "e"), "orderItems", &b, err), 0);
    T_STREQ(b.data, "[]");
    sb_json_free(j);
    /* invalid, too deep, too big */
    T_EQ(sb_json_parse("{\"a\":", 5, &j, err), SB_EINVAL);
    T_CONTAINS(err, "invalid JSON");
    size_t depth = 10000;
    char *deep = malloc(depth * 2 + 1);
    for (size_t i = 0; i < depth; i++) { deep[i] = '['; deep[depth * 2 - 1 - i] = ']'; }
    deep[depth * 2] = '\0';
    T_CHECK(sb_json_parse(deep, depth * 2, &j, err) < 0);
    free(deep);
    T_EQ(sb_json_parse("x", (size_t)SB_JSON_MAX_BYTES + 1, &j, err), SB_ENOMEM);
    /* writer */
    sb_buf_reset(&b);
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
    sb_buf_free(&b);
    return t_done();
}
