/* json.h: a small JSON reader and writer for C code.
 *
 * Reading is libjansson: sb_json_parse() decodes a whole document once (bounded size,
 * depth and memory; duplicate keys, invalid UTF-8 and \u0000 refused) and C code then
 * reads values by path. A value is
 * addressed by a node (a small positive int; 0 means "absent") plus an optional path
 * relative to it: "errors[0].code", "pagination.nextToken", "orders". Path segments are
 * object keys separated by '.', array elements are "[i]" (0-based). Strings returned by
 * the getters live as long as the document.
 *
 * Writing is sb_jw, an append-only builder over an sb_buf that tracks commas and escapes
 * strings, for code that emits JSON (request bodies, the simulator's pages). A document
 * node can also be re-encoded with sb_json_encode(): what was read is written back ([]
 * stays [], {} stays {}, keys in the document's order, integers exact).
 *
 * Getters accept a NULL document (everything is absent). Not thread-safe per document; separate documents are independent. */
#ifndef SB_JSON_H
#define SB_JSON_H
#include <stddef.h>
#include <stdint.h>
#include "core/util.h"

#define SB_JSON_MAX_BYTES (64u << 20)   /* largest document sb_json_parse accepts */
#define SB_JSON_MAX_DEPTH 64            /* deepest nesting accepted */
#define SB_JSON_ROOT 1                  /* node id of the document root */

enum sb_json_type {
    SB_JSON_NONE = 0,   /* absent */
    SB_JSON_NULL, SB_JSON_BOOL, SB_JSON_NUM, SB_JSON_STR,
    SB_JSON_ARR,        /* an array, empty or not */
    SB_JSON_OBJ         /* an object, empty or not */
};

typedef struct sb_json sb_json;

/* Decodes text[0..len). On success *out owns the document (free with sb_json_free).
 * SB_EINVAL with a message naming the problem and its line, column and byte for invalid
 * JSON (also: a key twice in one object, invalid UTF-8, \u0000, nesting deeper than
 * SB_JSON_MAX_DEPTH); SB_ENOMEM past SB_JSON_MAX_BYTES or the memory cap (8 MiB + 16
 * bytes per byte of text). An integer outside int64 makes the whole document read its
 * numbers as doubles (as lua-cjson read every number) rather than fail. */
int sb_json_parse(const char *text, size_t len, sb_json **out, char *err);
void sb_json_free(sb_json *j);

/* The node at path under node (path NULL or "" = node itself), or 0 when absent. */
int sb_json_get(sb_json *j, int node, const char *path);
int sb_json_type(sb_json *j, int node, const char *path);
/* String value, or NULL when absent or not a string. */
const char *sb_json_str(sb_json *j, int node, const char *path);
/* String value copied into out (truncated to outlen-1); "" and -1 when absent. */
int sb_json_strcpy(sb_json *j, int node, const char *path, char *out, size_t outlen);
/* Number value (a numeric string is also accepted), or dflt. */
double sb_json_num(sb_json *j, int node, const char *path, double dflt);
/* Integer value, exact to int64 (ids, quantities): an integer, a real with no fraction
 * inside int64, or a string of decimal digits; else dflt. */
int64_t sb_json_int(sb_json *j, int node, const char *path, int64_t dflt);
/* Boolean value, or dflt. */
int sb_json_bool(sb_json *j, int node, const char *path, int dflt);
/* Array length (0 when absent or not an array). */
size_t sb_json_len(sb_json *j, int node, const char *path);
/* Element i (0-based) of the array node, or 0. */
int sb_json_at(sb_json *j, int node, size_t i);
/* Object iteration: start with *iter = 0; returns the value node and sets *key, or 0 at
 * the end. Keys come in the document's order. */
int sb_json_next(sb_json *j, int node, int *iter, const char **key);
/* Appends the compact JSON text of node to out (nothing on failure): the value as it was
 * read, reals with 15 significant digits (so a decimal such as 12.34 comes back as it was
 * written). */
int sb_json_encode(sb_json *j, int node, sb_buf *out, char *err);

/* ---- writer ---- */
#define SB_JW_MAXDEPTH 32
typedef struct sb_jw {
    sb_buf *b;
    int depth;
    unsigned char first[SB_JW_MAXDEPTH];  /* nothing written yet at this level */
    unsigned char after_key;
    int rc;                                /* first error (SB_ENOMEM), sticky */
} sb_jw;

void sb_jw_init(sb_jw *w, sb_buf *b);
void sb_jw_obj(sb_jw *w);
void sb_jw_end_obj(sb_jw *w);
void sb_jw_arr(sb_jw *w);
void sb_jw_end_arr(sb_jw *w);
void sb_jw_key(sb_jw *w, const char *k);
void sb_jw_str(sb_jw *w, const char *s);           /* NULL writes null */
void sb_jw_strn(sb_jw *w, const char *s, size_t n);
void sb_jw_int(sb_jw *w, long long v);
void sb_jw_num(sb_jw *w, double v);
void sb_jw_bool(sb_jw *w, int v);
void sb_jw_null(sb_jw *w);
void sb_jw_raw(sb_jw *w, const char *json, size_t n);  /* an already-encoded value */
/* key + value shorthands */
void sb_jw_kstr(sb_jw *w, const char *k, const char *s);
void sb_jw_kint(sb_jw *w, const char *k, long long v);
void sb_jw_kbool(sb_jw *w, const char *k, int v);
/* Appends s as a JSON string literal (with quotes) to b. Always valid UTF-8: a byte
 * that is not part of well-formed UTF-8 is written as \u00XX (the byte's value as a
 * character, as if Latin-1), so what the engine writes sb_json_parse reads back. */
int sb_json_quote(sb_buf *b, const char *s, size_t n);
int sb_jw_error(const sb_jw *w);

#endif
