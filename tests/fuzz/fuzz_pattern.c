/* fuzz_pattern.c: the metered pattern functions (engine/rules/pattern.c) against Lua's
 * own, differentially. Input: byte 0 picks the call (low 3 bits: find, find plain,
 * match, gmatch, gsub with a string, a table, a function or a number; the high bits the
 * table or function, and gsub's n), byte 1 the init argument (0: none, else a signed
 * byte; gsub's number replacement too), then "pattern\nsubject\nreplacement". Both states run the call through the
 * same Lua driver; ours first, under a step budget: past it the charge raises, and the
 * stock one is not run (it could backtrack for hours). Otherwise the results (every
 * value, or the error message) must be the same, or the target aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "fuzz.h"
#include "rules/pattern.h"

#define FZ_BUDGET 200000L       /* ~60 ms of pathological backtracking in a SB_FUZZ build */

static lua_State *stock, *ours;
static long charged;
static int over_budget;

static void fz_charge(lua_State *L, long steps) {
    charged += steps;
    if (charged > FZ_BUDGET) {
        over_budget = 1;
        luaL_error(L, "pattern budget exceeded");
    }
}

static const sb_pattern_hooks HOOKS = {fz_charge};

/* drive(op, s, p, a, b): the call's results, flattened: gmatch's as (count, values...)
 * per iteration, at most 32. Errors are left to the caller's pcall. */
static const char *DRIVER =
    "local TABLES = {\n"
    "  {a = 'A', b = false, ab = 'X', [''] = 'E', aa = 2, [1] = 'one', [3] = 'three'},\n"
    "  setmetatable({}, {__index = function(t, k) return type(k) == 'string' and #k or k end}),\n"
    "  {a = true, b = {}},\n"
    "  setmetatable({}, {__index = function(t, k) error('index ' .. tostring(k)) end}),\n"
    "}\n"
    "local FUNCS = {\n"
    "  function(...) return select('#', ...) end,\n"
    "  function(a) return a .. '!' end,\n"
    "  function() return false end,\n"
    "  function() end,\n"
    "  function(a, b) return b end,\n"
    "  function() return {} end,\n"
    "  function(...) return table.concat({...}, ',') end,\n"
    "  function(a) return (string.gsub(a, '.', '%0%0')) end,\n"
    "}\n"
    "function drive(op, s, p, a, b)\n"
    "  if op == 'gmatch' then\n"
    "    local it, out, n = string.gmatch(s, p, a), {}, 0\n"
    "    for i = 1, 32 do\n"
    "      local r = table.pack(it())\n"
    "      n = n + 1; out[n] = r.n\n"
    "      for j = 1, r.n do n = n + 1; out[n] = r[j] end\n"
    "      if r.n == 0 or r[1] == nil then break end\n"
    "    end\n"
    "    return table.unpack(out, 1, n)\n"
    "  end\n"
    "  if op == 'gsub_t' then return string.gsub(s, p, TABLES[a], b) end\n"
    "  if op == 'gsub_f' then return string.gsub(s, p, FUNCS[a], b) end\n"
    "  return string[op](s, p, a, b)\n"
    "end\n";

static lua_State *fz_state(int with_ours) {
    lua_State *L = luaL_newstate();
    if (!L) abort();
    luaL_openlibs(L);
    if (luaL_loadbufferx(L, DRIVER, strlen(DRIVER), "=driver", "t") || lua_pcall(L, 0, 0, 0)) {
        fprintf(stderr, "fuzz_pattern driver: %s\n", lua_tostring(L, -1));
        abort();
    }
    if (with_ours) {
        static const char *const names[] = {"find", "match", "gmatch", "gsub"};
        lua_getglobal(L, "string");
        sb_pattern_push(L, &HOOKS);
        for (int i = 0; i < 4; i++) {
            lua_getfield(L, -1, names[i]);
            lua_setfield(L, -3, names[i]);
        }
        lua_pop(L, 2);
    }
    return L;
}

static void fz_close(void) {
    lua_close(stock);
    lua_close(ours);
    stock = ours = NULL;
}

typedef struct fz_call {
    const char *op;
    const char *p, *s, *r;
    size_t lp, ls, lr;
    int init, has_init, kind, n;    /* n: gsub's limit, or 99 for none */
    int plain;                      /* find: 0 none, 1 true */
} fz_call;

/* Runs the call in L: [-0, +(1+k)] pushes the pcall status, then the k results or the
 * error message; returns k. */
static int fz_run(lua_State *L, const fz_call *c) {
    int base = lua_gettop(L);
    lua_getglobal(L, "drive");
    lua_pushstring(L, c->op);
    lua_pushlstring(L, c->s, c->ls);
    lua_pushlstring(L, c->p, c->lp);
    if (!strcmp(c->op, "gsub")) lua_pushlstring(L, c->r, c->lr);
    else if (!strcmp(c->op, "gsub_t") || !strcmp(c->op, "gsub_f")) lua_pushinteger(L, c->kind);
    else if (!strcmp(c->op, "gsub_n")) lua_pushinteger(L, c->init);
    else if (c->has_init) lua_pushinteger(L, c->init);   /* init */
    else lua_pushnil(L);
    if (!strncmp(c->op, "gsub", 4)) {
        if (c->n == 99) lua_pushnil(L);
        else lua_pushinteger(L, c->n);
    } else if (c->plain) {
        lua_pushboolean(L, 1);
    } else {
        lua_pushnil(L);
    }
    int st = lua_pcall(L, 5, LUA_MULTRET, 0);
    lua_pushboolean(L, st == LUA_OK);
    lua_insert(L, base + 1);
    return lua_gettop(L) - base - 1;
}

static void fz_differ(const fz_call *c, const char *what, int i) {
    fprintf(stderr, "fuzz_pattern: %s differ at result %d: %s(\"%.*s\", \"%.*s\", repl \"%.*s\")\n",
            what, i, c->op, (int)c->ls, c->s, (int)c->lp, c->p, (int)c->lr, c->r);
    for (int k = 0; k < 2; k++) {
        lua_State *L = k ? ours : stock;
        fprintf(stderr, "  %s:", k ? "ours " : "stock");
        for (int j = 1; j <= lua_gettop(L); j++)
            fprintf(stderr, " %s", luaL_tolstring(L, j, NULL)), lua_pop(L, 1);
        fprintf(stderr, "\n");
    }
    abort();
}

/* the value at index i in both states: same type and the same value */
static void fz_compare(const fz_call *c, int i) {
    int t = lua_type(stock, i);
    if (t != lua_type(ours, i)) fz_differ(c, "types", i);
    if (t == LUA_TSTRING) {
        size_t la, lb;
        const char *a = lua_tolstring(stock, i, &la), *b = lua_tolstring(ours, i, &lb);
        if (la != lb || memcmp(a, b, la)) fz_differ(c, "strings", i);
    } else if (t == LUA_TNUMBER) {
        int integer = lua_isinteger(stock, i);
        if (integer != lua_isinteger(ours, i) ||
            (integer ? lua_tointeger(stock, i) != lua_tointeger(ours, i)
                     : lua_tonumber(stock, i) != lua_tonumber(ours, i)))
            fz_differ(c, "numbers", i);
    } else if (t == LUA_TBOOLEAN) {
        if (lua_toboolean(stock, i) != lua_toboolean(ours, i)) fz_differ(c, "booleans", i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const ops[] = {"find", "find", "match", "gmatch", "gsub", "gsub_t",
                                      "gsub_f", "gsub_n"};
    static const int limits[] = {99, 0, 1, 2, -1, 3, 99, 99};
    if (!stock) {
        stock = fz_state(0);
        ours = fz_state(1);
        sb_fuzz_atexit(fz_close);
    }
    if (size < 2) return 0;
    fz_call c;
    memset(&c, 0, sizeof c);
    c.op = ops[data[0] & 7];
    c.plain = (data[0] & 7) == 1;
    c.kind = 1 + (data[0] >> 3) % (!strcmp(c.op, "gsub_t") ? 4 : 8);
    c.n = limits[(data[0] >> 3) & 7];
    c.has_init = data[1] != 0;
    c.init = (signed char)data[1];
    const char *in = (const char *)data + 2, *end = (const char *)data + size;
    const char *nl = memchr(in, '\n', (size_t)(end - in));
    c.p = in;
    c.lp = (size_t)((nl ? nl : end) - in);
    c.s = c.r = "";
    if (nl) {
        c.s = nl + 1;
        const char *nl2 = memchr(c.s, '\n', (size_t)(end - c.s));
        c.ls = (size_t)((nl2 ? nl2 : end) - c.s);
        if (nl2) {
            c.r = nl2 + 1;
            c.lr = (size_t)(end - c.r);
        }
    }

    charged = 0;
    over_budget = 0;
    int n_ours = fz_run(ours, &c);
    if (!over_budget) {
        int n_stock = fz_run(stock, &c);
        if (n_stock != n_ours) fz_differ(&c, "result counts", n_stock);
        for (int i = 1; i <= n_stock + 1; i++) fz_compare(&c, i);
    }
    lua_settop(ours, 0);
    lua_settop(stock, 0);
    return 0;
}
