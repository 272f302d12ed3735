/* json.c: see json.h. A document is jansson's tree plus a table of node ids: nodes[i]
 * is a json_t* into the tree, which lives in the document's arena (below), so a node id
 * stays valid, and its strings stay alive, until sb_json_free. Parsing is bounded three
 * ways: the text's size (checked before anything is allocated), its nesting (jansson
 * stops at 2048 levels; a walk after the parse holds it to SB_JSON_MAX_DEPTH) and the
 * memory the tree takes (while a parse runs, jansson allocates on this thread from the
 * document's own arena, capped by a size that grows with the text). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json/json.h"

#define MAX_NODES (1 << 22)   /* node ids one document hands out */

/* ---- jansson's allocator: a parse allocates from its document's arena ----
 * While sb_json_parse runs, every allocation jansson makes on this thread is cut from
 * the arena of the document being read (chunks that double from a size guessed from the
 * text), counted against the document's cap; its frees are no-ops, and sb_json_free
 * gives the chunks back at once instead of walking the tree. Outside a parse (encoding)
 * jansson gets malloc. A 16-byte header says which a block is. */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, used;
    size_t pad;                 /* the data after the header stays 16-byte aligned */
} arena_chunk;

typedef struct arena {
    arena_chunk *head;
    size_t total, limit, next;  /* bytes of chunks taken, the cap, the next chunk's size */
    int refused;                /* an allocation was refused (jansson does not always say so) */
} arena;

typedef struct alloc_head {
    size_t size;
    size_t in_arena;
} alloc_head;

#define ARENA_MAX_CHUNK ((size_t)4 << 20)

static _Thread_local arena *tl_arena;
static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;

static void *counted_malloc(size_t n) {
    arena *a = tl_arena;
    if (n > SIZE_MAX / 2) return NULL;
    if (!a) {
        alloc_head *h = malloc(sizeof *h + n);
        if (!h) return NULL;
        *h = (alloc_head){n, 0};
        return h + 1;
    }
    size_t need = (sizeof(alloc_head) + n + 15) & ~(size_t)15;
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > a->next ? need : a->next;
        if (a->total + cap > a->limit || !(c = malloc(sizeof *c + cap))) {
            a->refused = 1;
            return NULL;
        }
        *c = (arena_chunk){.next = a->head, .cap = cap};
        a->head = c;
        a->total += cap;
        if (a->next < ARENA_MAX_CHUNK) a->next *= 2;
    }
    alloc_head *h = (alloc_head *)((char *)(c + 1) + c->used);
    c->used += need;
    *h = (alloc_head){n, 1};
    return h + 1;
}

static void counted_free(void *p) {
    if (!p) return;
    alloc_head *h = (alloc_head *)p - 1;
    if (!h->in_arena) free(h);
}

static void arena_free(arena *a) {
    for (arena_chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    a->head = NULL;
    a->total = 0;
}

static void set_alloc(void) { json_set_alloc_funcs(counted_malloc, counted_free); }

struct sb_json {
    json_t *root;         /* lives in mem: never json_decref'd */
    arena mem;
    json_t **nodes;       /* nodes[0] unused; nodes[1] is the root */
    int nnodes, cap;
    /* the last object iteration, so sb_json_next is O(1) a step */
    int it_node, it_index;
    void *it;
};

/* ---- parsing ---- */

/* 0 when v nests no deeper than max levels of arrays and objects (v itself at depth). */
static int depth_ok(const json_t *v, int depth, int max) {
    if (!json_is_array(v) && !json_is_object(v)) return 1;
    if (depth > max) return 0;
    if (json_is_array(v)) {
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++)
            if (!depth_ok(json_array_get(v, i), depth + 1, max)) return 0;
        return 1;
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
        if (!depth_ok(x, depth + 1, max)) return 0;
    return 1;
}

static int add_node(sb_json *j, json_t *v) {
    if (j->nnodes >= MAX_NODES) return 0;
    if (j->nnodes + 1 >= j->cap) {
        int cap = j->cap ? j->cap * 2 : 64;
        json_t **n = realloc(j->nodes, (size_t)cap * sizeof *n);
        if (!n) return 0;
        j->nodes = n;
        j->cap = cap;
    }
    j->nodes[++j->nnodes] = v;
    return j->nnodes;
}

int sb_json_parse(const char *text, size_t len, sb_json **out, char *err) {
    int rc = 0;
    *out = NULL;
    if (!text) return sb_seterr(err, SB_EINVAL, "json: no input");
    if (len > SB_JSON_MAX_BYTES)
        return sb_seterr(err, SB_ENOMEM, "json: document of %zu bytes is larger than the %u byte limit",
                         len, SB_JSON_MAX_BYTES);
    pthread_once(&alloc_once, set_alloc);
    sb_json *j = calloc(1, sizeof *j);
    if (!j) return sb_seterr(err, SB_ENOMEM, "json: out of memory");
    /* duplicate keys are refused (a document saying two things is not guessed at);
     * \u0000 and invalid UTF-8 are refused by jansson itself; any value may be the root */
    size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY;
    json_error_t je;
    /* the cap: 8 MiB + 16 bytes a byte of text (real documents take 5-7); the first chunk
     * is a guess at what the tree takes, so most documents need one or two */
    j->mem = (arena){.limit = ((size_t)8 << 20) + len * 16, .next = len * 6 < 1024 ? 1024 : len * 6};
    if (j->mem.next > ARENA_MAX_CHUNK) j->mem.next = ARENA_MAX_CHUNK;
    tl_arena = &j->mem;
    j->root = json_loadb(text, len, flags, &je);
    if (!j->root && !j->mem.refused && json_error_code(&je) == json_error_numeric_overflow &&
        strstr(je.text, "integer")) {
        /* an integer past int64: read as a double, as lua-cjson read every number */
        arena_free(&j->mem);
        j->root = json_loadb(text, len, flags | JSON_DECODE_INT_AS_REAL, &je);
    }
    tl_arena = NULL;
    if (!j->root) {
        if (j->mem.refused || json_error_code(&je) == json_error_out_of_memory)
            rc = sb_seterr(err, SB_ENOMEM, "json: document needs more than %zu bytes of memory", j->mem.limit);
        else if (json_error_code(&je) == json_error_invalid_utf8)
            rc = sb_seterr(err, SB_EINVAL, "invalid JSON: not UTF-8: %s at line %d column %d (byte %d)", je.text,
                           je.line, je.column, je.position);
        else
            rc = sb_seterr(err, SB_EINVAL, "invalid JSON: %s at line %d column %d (byte %d)", je.text, je.line,
                           je.column, je.position);
        goto out;
    }
    if (!depth_ok(j->root, 1, SB_JSON_MAX_DEPTH)) {
        rc = sb_seterr(err, SB_EINVAL, "invalid JSON: nested deeper than %d levels", SB_JSON_MAX_DEPTH);
        goto out;
    }
    if (!add_node(j, j->root)) { rc = sb_seterr(err, SB_ENOMEM, "json: out of memory"); goto out; }
    *out = j;
    return 0;
out:
    sb_json_free(j);
    return rc;
}

void sb_json_free(sb_json *j) {
    if (!j) return;
    arena_free(&j->mem);     /* the whole tree, jansson's frees of it being no-ops */
    free(j->nodes);
    free(j);
}

/* ---- reading ---- */

static json_t *node_value(const sb_json *j, int node) {
    return node > 0 && node <= j->nnodes ? j->nodes[node] : NULL;
}

/* The value at path under node, or NULL. */
static json_t *at_path(const sb_json *j, int node, const char *path) {
    json_t *v = node_value(j, node);
    if (!path) return v;
    const char *p = path;
    while (*p && v) {
        if (*p == '.') { p++; continue; }
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || i < 0 || !json_is_array(v)) return NULL;
            v = json_array_get(v, (size_t)i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        v = json_is_object(v) ? json_object_getn(v, p, n) : NULL;
        p += n;
    }
    return v;
}

int sb_json_get(sb_json *j, int node, const char *path) {
    if (!j) return 0;
    if (!path || !*path) return node_value(j, node) ? node : 0;
    json_t *v = at_path(j, node, path);
    return v ? add_node(j, v) : 0;
}

static int type_of(const json_t *v) {
    if (!v) return SB_JSON_NONE;
    switch (json_typeof(v)) {
    case JSON_NULL: return SB_JSON_NULL;
    case JSON_TRUE: case JSON_FALSE: return SB_JSON_BOOL;
    case JSON_INTEGER: case JSON_REAL: return SB_JSON_NUM;
    case JSON_STRING: return SB_JSON_STR;
    case JSON_ARRAY: return SB_JSON_ARR;
    case JSON_OBJECT: return SB_JSON_OBJ;
    }
    return SB_JSON_NONE;
}

int sb_json_type(sb_json *j, int node, const char *path) {
    return j ? type_of(at_path(j, node, path)) : SB_JSON_NONE;
}

const char *sb_json_str(sb_json *j, int node, const char *path) {
    json_t *v = j ? at_path(j, node, path) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int sb_json_strcpy(sb_json *j, int node, const char *path, char *out, size_t outlen) {
    const char *s = sb_json_str(j, node, path);
    if (outlen) snprintf(out, outlen, "%s", s ? s : "");
    return s ? 0 : -1;
}

double sb_json_num(sb_json *j, int node, const char *path, double dflt) {
    json_t *v = j ? at_path(j, node, path) : NULL;
    if (json_is_integer(v)) return (double)json_integer_value(v);
    if (json_is_real(v)) return json_real_value(v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        double d = strtod(s, &end);
        if (end != s && !*end && isfinite(d)) return d;
    }
    return dflt;
}

int64_t sb_json_int(sb_json *j, int node, const char *path, int64_t dflt) {
    json_t *v = j ? at_path(j, node, path) : NULL;
    if (json_is_integer(v)) return (int64_t)json_integer_value(v);
    if (json_is_real(v)) {
        double d = json_real_value(v);
        /* integral and inside int64 (2^63 itself is not) */
        if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) return (int64_t)d;
        return dflt;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (end != s && !*end && !errno) return (int64_t)x;
    }
    return dflt;
}

int sb_json_bool(sb_json *j, int node, const char *path, int dflt) {
    json_t *v = j ? at_path(j, node, path) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

size_t sb_json_len(sb_json *j, int node, const char *path) {
    json_t *v = j ? at_path(j, node, path) : NULL;
    return json_is_array(v) ? json_array_size(v) : 0;
}

int sb_json_at(sb_json *j, int node, size_t i) {
    json_t *a = j ? node_value(j, node) : NULL;
    json_t *v = json_is_array(a) ? json_array_get(a, i) : NULL;
    return v ? add_node(j, v) : 0;
}

/* Keys come in the document's order. A walk that goes on from where the last call on
 * the same object stopped is a step; any other *iter starts again from the first key. */
int sb_json_next(sb_json *j, int node, int *iter, const char **key) {
    json_t *o = j ? node_value(j, node) : NULL;
    if (!json_is_object(o) || *iter < 0) return 0;
    void *it;
    if (j->it && j->it_node == node && j->it_index + 1 == *iter) {
        it = json_object_iter_next(o, j->it);
    } else {
        it = json_object_iter(o);
        for (int k = 0; it && k < *iter; k++) it = json_object_iter_next(o, it);
    }
    j->it = it;
    j->it_node = node;
    j->it_index = *iter;
    if (!it) return 0;
    int id = add_node(j, json_object_iter_value(it));
    if (!id) return 0;
    *key = json_object_iter_key(it);
    (*iter)++;
    return id;
}

/* ---- re-encoding ---- */

static int dump_to_buf(const char *p, size_t n, void *ud) {
    return sb_buf_append(ud, p, n) ? -1 : 0;
}

int sb_json_encode(sb_json *j, int node, sb_buf *out, char *err) {
    if (!j) return sb_seterr(err, SB_EINVAL, "json encode: no document");
    json_t *v = node_value(j, node);
    if (!v) return sb_seterr(err, SB_EINVAL, "json encode: no node %d", node);
    /* 15 significant digits give back any decimal of up to 15 digits as it was written
     * ("12.34" stays 12.34); integers are written exactly */
    size_t before = out->len;
    if (json_dump_callback(v, dump_to_buf, out, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))) {
        out->len = before;     /* nothing of a failed encoding stays */
        if (out->data) out->data[before] = '\0';
        return sb_seterr(err, SB_ENOMEM, "json encode: output larger than the buffer limit");
    }
    return 0;
}

/* ---- writer ---- */

/* The length of the well-formed UTF-8 sequence at s[0..n) (no overlong form, no
 * surrogate, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (!len || s[0] > 0xf4 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (len == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))) return 0;
    if (len == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))) return 0;
    return len;
}

/* A byte that is not part of well-formed UTF-8 is written as the character of the same
 * value (\u00XX, as if Latin-1): the text stays JSON any reader takes, and the byte can
 * still be told. */
int sb_json_quote(sb_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    char tmp[256];
    size_t t = 0;
    int rc = 0;
    tmp[t++] = '"';
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (t > sizeof tmp - 8) { rc = sb_buf_append(b, tmp, t); t = 0; }
        size_t u = c >= 0x80 ? utf8_len((const unsigned char *)s + i, n - i) : 0;
        if (c == '"' || c == '\\') { tmp[t++] = '\\'; tmp[t++] = (char)c; }
        else if (c == '\n') { tmp[t++] = '\\'; tmp[t++] = 'n'; }
        else if (c == '\r') { tmp[t++] = '\\'; tmp[t++] = 'r'; }
        else if (c == '\t') { tmp[t++] = '\\'; tmp[t++] = 't'; }
        else if (u) {
            memcpy(tmp + t, s + i, u);
            t += u;
            i += u - 1;
        } else if (c < 0x20 || c >= 0x7f) {
            memcpy(tmp + t, "\\u00", 4);
            t += 4;
            tmp[t++] = hex[c >> 4];
            tmp[t++] = hex[c & 15];
        } else tmp[t++] = (char)c;
    }
    tmp[t++] = '"';
    if (!rc) rc = sb_buf_append(b, tmp, t);
    return rc;
}

void sb_jw_init(sb_jw *w, sb_buf *b) {
    memset(w, 0, sizeof *w);
    w->b = b;
    w->first[0] = 1;
}

static void jw_put(sb_jw *w, const char *s, size_t n) {
    if (!w->rc) w->rc = sb_buf_append(w->b, s, n);
}

/* Writes the separator a new value needs. */
static void jw_sep(sb_jw *w) {
    if (w->after_key) { w->after_key = 0; return; }
    if (!w->first[w->depth]) jw_put(w, ",", 1);
    w->first[w->depth] = 0;
}

static void jw_open(sb_jw *w, char c) {
    jw_sep(w);
    jw_put(w, &c, 1);
    if (w->depth + 1 >= SB_JW_MAXDEPTH) { w->rc = SB_EINVAL; return; }
    w->first[++w->depth] = 1;
}

static void jw_close(sb_jw *w, char c) {
    jw_put(w, &c, 1);
    if (w->depth > 0) w->depth--;
}

void sb_jw_obj(sb_jw *w) { jw_open(w, '{'); }
void sb_jw_end_obj(sb_jw *w) { jw_close(w, '}'); }
void sb_jw_arr(sb_jw *w) { jw_open(w, '['); }
void sb_jw_end_arr(sb_jw *w) { jw_close(w, ']'); }

void sb_jw_key(sb_jw *w, const char *k) {
    jw_sep(w);
    if (!w->rc) w->rc = sb_json_quote(w->b, k, strlen(k));
    jw_put(w, ":", 1);
    w->after_key = 1;
}

void sb_jw_strn(sb_jw *w, const char *s, size_t n) {
    jw_sep(w);
    if (!w->rc) w->rc = sb_json_quote(w->b, s, n);
}

void sb_jw_str(sb_jw *w, const char *s) {
    if (!s) sb_jw_null(w);
    else sb_jw_strn(w, s, strlen(s));
}

void sb_jw_int(sb_jw *w, long long v) {
    char t[32];
    int n = snprintf(t, sizeof t, "%lld", v);
    jw_sep(w);
    jw_put(w, t, (size_t)n);
}

void sb_jw_num(sb_jw *w, double v) {
    char t[40];
    int n = isfinite(v) ? snprintf(t, sizeof t, "%.15g", v) : snprintf(t, sizeof t, "null");
    jw_sep(w);
    jw_put(w, t, (size_t)n);
}

void sb_jw_bool(sb_jw *w, int v) {
    jw_sep(w);
    jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void sb_jw_null(sb_jw *w) {
    jw_sep(w);
    jw_put(w, "null", 4);
}

void sb_jw_raw(sb_jw *w, const char *json, size_t n) {
    jw_sep(w);
    jw_put(w, json, n);
}

void sb_jw_kstr(sb_jw *w, const char *k, const char *s) { sb_jw_key(w, k); sb_jw_str(w, s); }
void sb_jw_kint(sb_jw *w, const char *k, long long v) { sb_jw_key(w, k); sb_jw_int(w, v); }
void sb_jw_kbool(sb_jw *w, const char *k, int v) { sb_jw_key(w, k); sb_jw_bool(w, v); }
int sb_jw_error(const sb_jw *w) { return w->rc; }
