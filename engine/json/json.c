/* json.c: see json.h. Each document is a private lua_State holding the decoded value;
 * nodes are slots of a registry table `nodes` (nodes[1] is the root), so a node id stays
 * valid, and its strings stay alive, until sb_json_free. The state's allocator is capped,
 * and cjson's decode depth is limited, so hostile input fails cleanly. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <lua-cjson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json/json.h"

#define MAX_NODES (1 << 22)

struct sb_json {
    lua_State *L;
    size_t used, limit;   /* allocator accounting */
    int nodes_ref;        /* registry ref of the nodes table */
    int nnodes;
};

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    sb_json *j = ud;
    if (!ptr) osize = 0;
    if (nsize == 0) {
        free(ptr);
        j->used -= osize;
        return NULL;
    }
    if (nsize > osize && j->used + (nsize - osize) > j->limit) return NULL;
    void *p = realloc(ptr, nsize);
    if (p) j->used = j->used - osize + nsize;
    return p;
}

/* The encoder used by sb_json_encode: cjson for scalars, a walk for tables so that
 * empty arrays under known array keys stay arrays. Stack: ( value -- string ) */
static const char encoder_lua[] =
    "local cjson = ...\n"
    "local enc = cjson.encode\n"
    "local A = {orderItems=1, programs=1, packages=1, orderAliases=1, breakdowns=1,\n"
    "  detailedBreakdowns=1, marketplaceIds=1, issues=1, items=1, orders=1, errors=1,\n"
    "  associatedOrders=1, packageItems=1, transparencyCodes=1, serialNumbers=1,\n"
    "  summaries=1, offers=1, fulfillmentAvailability=1, patches=1, messages=1,\n"
    "  identifiers=1, status=1, faults=1, listings=1, reports=1, feeds=1}\n"
    "local function w(v, out, key)\n"
    "  if type(v) ~= 'table' then out[#out+1] = enc(v) return end\n"
    "  local n, c = #v, 0\n"
    "  for _ in pairs(v) do c = c + 1 end\n"
    "  if c == 0 then out[#out+1] = A[key] and '[]' or '{}' return end\n"
    "  if c == n then\n"
    "    out[#out+1] = '['\n"
    "    for i = 1, n do if i > 1 then out[#out+1] = ',' end w(v[i], out, key) end\n"
    "    out[#out+1] = ']'\n"
    "  else\n"
    "    out[#out+1] = '{'\n"
    "    local first = true\n"
    "    for k, x in pairs(v) do\n"
    "      if not first then out[#out+1] = ',' end\n"
    "      first = false\n"
    "      out[#out+1] = enc(tostring(k)) .. ':'\n"
    "      w(x, out, k)\n"
    "    end\n"
    "    out[#out+1] = '}'\n"
    "  end\n"
    "end\n"
    "return function(v, k) local out = {} w(v, out, k) return table.concat(out) end\n";

/* Stack: ( -- ) ; on the new state: cjson in package.loaded and registry "sb_enc". */
static int setup_state(lua_State *L) {
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    lua_pop(L, 3);
    luaL_requiref(L, "cjson", luaopen_cjson, 1);           /* cjson */
    lua_getfield(L, -1, "decode_max_depth");
    lua_pushinteger(L, SB_JSON_MAX_DEPTH);
    lua_call(L, 1, 0);
    lua_getfield(L, -1, "encode_max_depth");
    lua_pushinteger(L, SB_JSON_MAX_DEPTH + 8);
    lua_call(L, 1, 0);
    if (luaL_loadbuffer(L, encoder_lua, sizeof encoder_lua - 1, "=sb_json_encoder")) return -1;
    lua_pushvalue(L, -2);                                    /* cjson chunk cjson */
    if (lua_pcall(L, 1, 1, 0)) return -1;                    /* cjson encoder */
    lua_setfield(L, LUA_REGISTRYINDEX, "sb_enc");            /* cjson */
    lua_pop(L, 1);
    return 0;
}

/* Protected decode. Stack in: (string); out: (value) */
static int pdecode(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "cjson");
    lua_getfield(L, -1, "decode");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

int sb_json_parse(const char *text, size_t len, sb_json **out, char *err) {
    int rc = 0;
    *out = NULL;
    if (!text) return sb_seterr(err, SB_EINVAL, "json: no input");
    if (len > SB_JSON_MAX_BYTES)
        return sb_seterr(err, SB_ENOMEM, "json: document of %zu bytes is larger than the %u byte limit",
                         len, SB_JSON_MAX_BYTES);
    sb_json *j = calloc(1, sizeof *j);
    if (!j) return sb_seterr(err, SB_ENOMEM, "json: out of memory");
    j->limit = (size_t)8 << 20;
    j->limit += len * 16;
    j->L = lua_newstate(capped_alloc, j);
    if (!j->L) { rc = sb_seterr(err, SB_ENOMEM, "json: cannot create state"); goto out; }
    lua_State *L = j->L;
    if (setup_state(L)) {
        rc = sb_seterr(err, SB_ERR, "json: setup failed: %s", lua_tostring(L, -1));
        goto out;
    }
    lua_pushcfunction(L, pdecode);
    lua_pushlstring(L, text, len);
    int st = lua_pcall(L, 1, 1, 0);
    if (st != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        if (st == LUA_ERRMEM) rc = sb_seterr(err, SB_ENOMEM, "json: document needs more than %zu bytes of memory", j->limit);
        else rc = sb_seterr(err, SB_EINVAL, "invalid JSON: %s", m ? m : "?");
        goto out;
    }
    lua_createtable(L, 16, 0);        /* value nodes */
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, 1);
    j->nodes_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    j->nnodes = 1;
    *out = j;
    return 0;
out:
    sb_json_free(j);
    return rc;
}

void sb_json_free(sb_json *j) {
    if (!j) return;
    if (j->L) lua_close(j->L);
    free(j);
}

/* Pushes the value of node (nil if invalid). Stack: ( -- v ) */
static void push_node(sb_json *j, int node) {
    lua_State *L = j->L;   /* callers have checked j */
    if (node <= 0 || node > j->nnodes) { lua_pushnil(L); return; }
    lua_rawgeti(L, LUA_REGISTRYINDEX, j->nodes_ref);
    lua_rawgeti(L, -1, node);
    lua_remove(L, -2);
}

/* Pushes the value at path under node, or nil. Stack: ( -- v ) */
static void push_path(sb_json *j, int node, const char *path) {
    lua_State *L = j->L;
    push_node(j, node);
    if (!path) return;
    const char *p = path;
    while (*p && !lua_isnil(L, -1)) {
        if (*p == '.') { p++; continue; }
        if (!lua_istable(L, -1)) { lua_pop(L, 1); lua_pushnil(L); return; }
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || i < 0) { lua_pop(L, 1); lua_pushnil(L); return; }
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
            lua_remove(L, -2);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        lua_pushlstring(L, p, n);
        lua_rawget(L, -2);
        lua_remove(L, -2);
        p += n;
    }
}

static int is_null(lua_State *L, int idx) {
    return lua_islightuserdata(L, idx) && lua_touserdata(L, idx) == NULL;
}

int sb_json_get(sb_json *j, int node, const char *path) {
    if (!j) return 0;
    lua_State *L = j->L;
    if (!path || !*path) return (node > 0 && node <= j->nnodes) ? node : 0;
    push_path(j, node, path);
    if (lua_isnil(L, -1) || j->nnodes >= MAX_NODES) { lua_pop(L, 1); return 0; }
    lua_rawgeti(L, LUA_REGISTRYINDEX, j->nodes_ref);
    lua_insert(L, -2);
    lua_rawseti(L, -2, ++j->nnodes);
    lua_pop(L, 1);
    return j->nnodes;
}

static int type_at_top(lua_State *L) {
    switch (lua_type(L, -1)) {
    case LUA_TNIL: return SB_JSON_NONE;
    case LUA_TBOOLEAN: return SB_JSON_BOOL;
    case LUA_TNUMBER: return SB_JSON_NUM;
    case LUA_TSTRING: return SB_JSON_STR;
    case LUA_TTABLE: return lua_rawlen(L, -1) > 0 ? SB_JSON_ARR : SB_JSON_OBJ;
    default: return is_null(L, -1) ? SB_JSON_NULL : SB_JSON_NONE;
    }
}

int sb_json_type(sb_json *j, int node, const char *path) {
    if (!j) return 0;
    push_path(j, node, path);
    int t = type_at_top(j->L);
    lua_pop(j->L, 1);
    return t;
}

const char *sb_json_str(sb_json *j, int node, const char *path) {
    if (!j) return NULL;
    lua_State *L = j->L;
    push_path(j, node, path);
    /* the string stays referenced by its table (or the nodes table), so it outlives the pop */
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);
    return s;
}

int sb_json_strcpy(sb_json *j, int node, const char *path, char *out, size_t outlen) {
    const char *s = sb_json_str(j, node, path);
    if (outlen) snprintf(out, outlen, "%s", s ? s : "");
    return s ? 0 : -1;
}

double sb_json_num(sb_json *j, int node, const char *path, double dflt) {
    if (!j) return dflt;
    lua_State *L = j->L;
    push_path(j, node, path);
    double v = dflt;
    if (lua_type(L, -1) == LUA_TNUMBER) v = lua_tonumber(L, -1);
    else if (lua_type(L, -1) == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        char *end;
        double d = strtod(s, &end);
        if (end != s && !*end && isfinite(d)) v = d;
    }
    lua_pop(L, 1);
    return v;
}

int sb_json_bool(sb_json *j, int node, const char *path, int dflt) {
    if (!j) return dflt;
    lua_State *L = j->L;
    push_path(j, node, path);
    int v = lua_isboolean(L, -1) ? lua_toboolean(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

size_t sb_json_len(sb_json *j, int node, const char *path) {
    if (!j) return 0;
    lua_State *L = j->L;
    push_path(j, node, path);
    size_t n = lua_istable(L, -1) ? (size_t)lua_rawlen(L, -1) : 0;
    lua_pop(L, 1);
    return n;
}

int sb_json_at(sb_json *j, int node, size_t i) {
    char p[32];
    snprintf(p, sizeof p, "[%zu]", i);
    return sb_json_get(j, node, p);
}

/* Object iteration: lua_next from the start, skipping *iter entries. Quadratic in the
 * object's size, which is fine for the small objects this is used on. */
int sb_json_next(sb_json *j, int node, int *iter, const char **key) {
    if (!j) return 0;
    lua_State *L = j->L;
    push_node(j, node);
    if (!lua_istable(L, -1)) { lua_pop(L, 1); return 0; }
    lua_pushnil(L);
    int k = 0, found = 0;
    while (lua_next(L, -2)) {              /* t key value */
        if (k++ == *iter) {
            if (lua_type(L, -2) == LUA_TSTRING) *key = lua_tostring(L, -2);
            else *key = "";
            found = 1;
            break;
        }
        lua_pop(L, 1);
    }
    if (!found) { lua_pop(L, 1); return 0; }
    (*iter)++;
    /* t key value: store value as a node; key string stays alive in t */
    if (j->nnodes >= MAX_NODES) { lua_pop(L, 3); return 0; }
    lua_rawgeti(L, LUA_REGISTRYINDEX, j->nodes_ref);
    lua_insert(L, -2);
    lua_rawseti(L, -2, ++j->nnodes);
    lua_pop(L, 3);
    return j->nnodes;
}

int sb_json_encode(sb_json *j, int node, sb_buf *out, char *err) {
    return sb_json_encode_key(j, node, NULL, out, err);
}

int sb_json_encode_key(sb_json *j, int node, const char *key, sb_buf *out, char *err) {
    if (!j) return sb_seterr(err, SB_EINVAL, "json encode: no document");
    lua_State *L = j->L;
    lua_getfield(L, LUA_REGISTRYINDEX, "sb_enc");
    push_node(j, node);
    if (key) lua_pushstring(L, key);
    else lua_pushnil(L);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        int rc = sb_seterr(err, SB_EINVAL, "json encode: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return rc;
    }
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    int rc = sb_buf_append(out, s, n);
    lua_pop(L, 1);
    if (rc) return sb_seterr(err, rc, "json encode: output larger than the buffer limit");
    return 0;
}

/* ---- writer ---- */

int sb_json_quote(sb_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    char tmp[256];
    size_t t = 0;
    int rc = 0;
    tmp[t++] = '"';
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (t > sizeof tmp - 8) { rc = sb_buf_append(b, tmp, t); t = 0; }
        if (c == '"' || c == '\\') { tmp[t++] = '\\'; tmp[t++] = (char)c; }
        else if (c == '\n') { tmp[t++] = '\\'; tmp[t++] = 'n'; }
        else if (c == '\r') { tmp[t++] = '\\'; tmp[t++] = 'r'; }
        else if (c == '\t') { tmp[t++] = '\\'; tmp[t++] = 't'; }
        else if (c < 0x20 || c == 0x7f) {
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
