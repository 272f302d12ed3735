/* json_get.h: one field of a JSON response body, for tests that check an answer (the
 * web API's, the simulator's, a views document): a string, a number or a boolean at a
 * path as sb_json_str takes it ("errors[0].code"). A body that is not JSON, or has no
 * such field, reads as "", -1 and -1: a test comparing it with what it wants fails. */
#ifndef SB_TEST_JSON_GET_H
#define SB_TEST_JSON_GET_H
#include "json/json.h"

static inline sb_json *t_json_of(const sb_buf *b) {
    char err[SB_ERRLEN];
    sb_json *j = NULL;
    if (!b->data || sb_json_parse(b->data, b->len, &j, err)) return NULL;
    return j;
}

static inline const char *t_jtext(const sb_buf *b, const char *path, char *out, size_t n) {
    sb_json *j = t_json_of(b);
    out[0] = '\0';
    if (j) sb_json_strcpy(j, SB_JSON_ROOT, path, out, n);
    sb_json_free(j);
    return out;
}

static inline double t_jnum(const sb_buf *b, const char *path) {
    sb_json *j = t_json_of(b);
    double v = j ? sb_json_num(j, SB_JSON_ROOT, path, -1) : -1;
    sb_json_free(j);
    return v;
}

static inline int t_jflag(const sb_buf *b, const char *path) {
    sb_json *j = t_json_of(b);
    int v = j ? sb_json_bool(j, SB_JSON_ROOT, path, -1) : -1;
    sb_json_free(j);
    return v;
}
#endif
