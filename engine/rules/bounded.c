/* bounded.c: the C library functions a rule can call, each held to a cost that it pays
 * before it does the work.
 *
 * The one idea: the count hook only runs between VM instructions, so time spent inside a
 * C function is invisible to it. Every library function whose work can grow with its
 * input is therefore replaced by a wrapper that first charges that work to the rule's
 * instruction budget (sb_rules_charge: one instruction per element, or per
 * SB_BYTES_PER_INSN bytes, and a look at the clock), then calls the original; where the
 * original would read a length twice (and a hostile __len could answer differently the
 * second time) the wrapper reads it once and hands the original explicit bounds, or does
 * the work itself. Together with the cap on a rule's strings (SB_RULES_MAX_STRING, in the
 * allocator) this leaves no C code a rule can reach that runs long without being charged.
 * The pattern functions (find, match, gmatch, gsub) are pattern.c's, which count their
 * own steps and charge them here.
 * Outside rule code the charges cost nothing, so the engine's own Lua uses the same
 * libraries. The table SB_BOUNDED lists every wrapper; rules/README.md lists the limits. */
#include <limits.h>
#include <string.h>
#include "rules/pattern.h"
#include "rules/rules_int.h"

#define SB_BYTES_PER_INSN   16
#define SB_STEPS_PER_INSN   4           /* pattern steps (pattern.c) in one instruction's time */
#define SB_ENCODE_MAX_PARTS 200000      /* values in one cjson.encode of a rule */
#define SB_ENCODE_MAX_DEPTH 64          /* as the engine sets cjson's own */

/* Runs the original (upvalue 1) on the arguments as they are: called in place, or, when
 * it has upvalues of its own (upvalue 2 true: cjson's keep its configuration there), as
 * a call. */
static int sb_orig(lua_State *L) {
    if (!lua_toboolean(L, lua_upvalueindex(2))) return lua_tocfunction(L, lua_upvalueindex(1))(L);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* How many integers i..j holds, saturated (0 when j < i). */
static long sb_span(lua_Integer i, lua_Integer j) {
    if (j < i) return 0;
    lua_Unsigned n = (lua_Unsigned)j - (lua_Unsigned)i;
    return n >= (lua_Unsigned)LONG_MAX ? LONG_MAX : (long)n + 1;
}

/* The generic wrapper: one instruction per argument and one per SB_BYTES_PER_INSN bytes
 * of every string argument (lower, upper, reverse, sub, byte, char, format, pack,
 * unpack, utf8.*, tonumber). [-0, +0] then the original */
static int sb_b_bytes(lua_State *L) {
    int n = lua_gettop(L);
    long cost = n + 1;
    for (int i = 1; i <= n; i++)
        if (lua_type(L, i) == LUA_TSTRING) cost += (long)(lua_rawlen(L, i) / SB_BYTES_PER_INSN);
    sb_rules_charge(L, cost);
    return sb_orig(L);
}

/* string.rep(s, n [, sep]): the result's size is known before it is built; an empty s
 * and sep give "" at once (the original loops n times to build nothing). */
static int sb_b_rep(lua_State *L) {
    size_t l, lsep;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t unit = l + lsep;
    if ((lua_Unsigned)n > SIZE_MAX / unit)
        return luaL_error(L, "resulting string too large");
    size_t total = (size_t)n * unit - lsep;
    if (sb_rules_of(L)->in_rule && total > SB_RULES_MAX_STRING)
        return luaL_error(L, "string.rep: the result would have %I bytes; a rule's strings may have at most %I bytes",
                          (lua_Integer)total, (lua_Integer)SB_RULES_MAX_STRING);
    sb_rules_charge(L, (long)(total / SB_BYTES_PER_INSN) + 1);
    return sb_orig(L);
}

/* table.concat(t [, sep [, i [, j]]]) and table.unpack(t [, i [, j]]): #t read once and
 * handed on as explicit bounds, the span charged. first: the index of i. */
static int sb_span_args(lua_State *L, int first) {
    if (lua_type(L, 1) != LUA_TTABLE) return sb_orig(L);     /* it raises its own error */
    lua_Integer i = luaL_optinteger(L, first, 1);
    lua_Integer j = lua_isnoneornil(L, first + 1) ? luaL_len(L, 1) : luaL_checkinteger(L, first + 1);
    sb_rules_charge(L, sb_span(i, j) + 1);
    lua_settop(L, first + 1);
    lua_pushinteger(L, i);
    lua_replace(L, first);
    lua_pushinteger(L, j);
    lua_replace(L, first + 1);
    return sb_orig(L);
}
static int sb_b_concat(lua_State *L) { return sb_span_args(L, 3); }
static int sb_b_unpack(lua_State *L) { return sb_span_args(L, 2); }

/* table.move(a1, f, e, t [, a2]): e - f + 1 moves. */
static int sb_b_move(lua_State *L) {
    int okf, oke;
    lua_Integer f = lua_tointegerx(L, 2, &okf), e = lua_tointegerx(L, 3, &oke);
    if (okf && oke) sb_rules_charge(L, sb_span(f, e) + 1);
    return sb_orig(L);
}

/* table.insert(t, [pos,] v), with the semantics of Lua 5.4's: #t is read once and the
 * shift charged before it is made. */
static int sb_b_insert(lua_State *L) {
    if (lua_type(L, 1) != LUA_TTABLE) return sb_orig(L);
    lua_Integer n = luaL_len(L, 1);
    if (n == LUA_MAXINTEGER) return luaL_error(L, "table too big");
    lua_Integer e = n + 1, pos;         /* e: the first empty slot */
    switch (lua_gettop(L)) {
    case 2:
        pos = e;
        sb_rules_charge(L, 1);
        break;
    case 3:
        pos = luaL_checkinteger(L, 2);
        luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
        sb_rules_charge(L, sb_span(pos, e));
        for (lua_Integer i = e; i > pos; i--) {
            lua_geti(L, 1, i - 1);
            lua_seti(L, 1, i);
        }
        break;
    default:
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    return 0;
}

/* table.remove(t [, pos]), likewise. */
static int sb_b_remove(lua_State *L) {
    if (lua_type(L, 1) != LUA_TTABLE) return sb_orig(L);
    lua_Integer size = luaL_len(L, 1);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size)
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2, "position out of bounds");
    sb_rules_charge(L, sb_span(pos, size) + 1);
    lua_geti(L, 1, pos);
    for (; pos < size; pos++) {
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    return 1;
}

/* The comparison table.sort uses: the rule's own function (upvalue 1) or <, each call
 * charged (strings by their length: comparing two long strings is a long instruction). */
static int sb_sort_lt(lua_State *L) {
    long cost = 1;
    if (lua_type(L, 1) == LUA_TSTRING && lua_type(L, 2) == LUA_TSTRING) {
        size_t a = lua_rawlen(L, 1), b = lua_rawlen(L, 2);
        cost += (long)((a < b ? a : b) / SB_BYTES_PER_INSN);
    }
    sb_rules_charge(L, cost);
    if (lua_isnil(L, lua_upvalueindex(1))) {
        lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* table.sort(t [, comp]): #t read once; the elements are sorted in a plain copy (so the
 * original sort sees that length and no metamethod) with every comparison charged, and
 * written back. */
static int sb_b_sort(lua_State *L) {
    if (lua_type(L, 1) != LUA_TTABLE) return sb_orig(L);
    lua_Integer n = luaL_len(L, 1);
    if (n < 2) return 0;
    luaL_argcheck(L, n < INT_MAX, 1, "array too big");
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    sb_rules_charge(L, 2 * (long)n);
    lua_createtable(L, (int)n, 0);                      /* 3: the copy */
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        lua_rawseti(L, 3, i);
    }
    lua_pushvalue(L, lua_upvalueindex(1));              /* the original sort */
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, sb_sort_lt, 1);
    lua_call(L, 2, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 3, i);
        lua_seti(L, 1, i);
    }
    return 0;
}

/* An upper bound of the text cjson.encode makes of the value at idx, walked as cjson
 * walks it (raw, at most SB_ENCODE_MAX_DEPTH deep); stops counting once past the limits.
 * cjson builds its text in memory of its own, outside the state's cap, so a table that
 * names one long string a thousand times must be refused before cjson starts. [-0, +0] */
static void sb_encode_size(lua_State *L, int idx, int depth, size_t *bytes, long *parts) {
    if (++*parts > SB_ENCODE_MAX_PARTS || *bytes > SB_RULES_MAX_STRING) return;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: *bytes += 6 * lua_rawlen(L, idx) + 2; return;   /* \uXXXX at worst */
    case LUA_TTABLE: break;
    default: *bytes += 32; return;
    }
    if (depth >= SB_ENCODE_MAX_DEPTH) return;           /* cjson refuses it itself */
    luaL_checkstack(L, 3, "cjson.encode: nested too deep");
    idx = lua_absindex(L, idx);
    *bytes += 2;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        sb_encode_size(L, -2, depth + 1, bytes, parts);
        sb_encode_size(L, -1, depth + 1, bytes, parts);
        *bytes += 2;
        lua_pop(L, 1);
        if (*parts > SB_ENCODE_MAX_PARTS || *bytes > SB_RULES_MAX_STRING) {
            lua_pop(L, 1);
            break;
        }
    }
}

static int sb_b_encode(lua_State *L) {
    if (sb_rules_of(L)->in_rule) {
        size_t bytes = 0;
        long parts = 0;
        sb_encode_size(L, 1, 0, &bytes, &parts);
        if (parts > SB_ENCODE_MAX_PARTS)
            return luaL_error(L, "cjson.encode: the value has more than %d parts", SB_ENCODE_MAX_PARTS);
        if (bytes > SB_RULES_MAX_STRING)
            return luaL_error(L, "cjson.encode: the text could have more than %I bytes, a rule's most",
                              (lua_Integer)SB_RULES_MAX_STRING);
        sb_rules_charge(L, parts + (long)(bytes / SB_BYTES_PER_INSN));
    }
    return sb_orig(L);
}

enum { SB_LIB_STRING, SB_LIB_TABLE, SB_LIB_UTF8, SB_LIB_BASE, SB_LIB_CJSON, SB_NLIBS };

/* Every wrapped function. A function not here either takes constant time (math.*, type,
 * rawget, select, next, ...) or runs Lua (pcall, the rule's own metamethods), where the
 * count hook sees it. */
static const struct { int lib; const char *name; lua_CFunction fn; } SB_BOUNDED[] = {
    {SB_LIB_STRING, "rep", sb_b_rep},
    {SB_LIB_STRING, "byte", sb_b_bytes},     {SB_LIB_STRING, "char", sb_b_bytes},
    {SB_LIB_STRING, "format", sb_b_bytes},   {SB_LIB_STRING, "lower", sb_b_bytes},
    {SB_LIB_STRING, "upper", sb_b_bytes},    {SB_LIB_STRING, "reverse", sb_b_bytes},
    {SB_LIB_STRING, "sub", sb_b_bytes},      {SB_LIB_STRING, "pack", sb_b_bytes},
    {SB_LIB_STRING, "packsize", sb_b_bytes}, {SB_LIB_STRING, "unpack", sb_b_bytes},
    {SB_LIB_TABLE, "concat", sb_b_concat},   {SB_LIB_TABLE, "unpack", sb_b_unpack},
    {SB_LIB_TABLE, "move", sb_b_move},       {SB_LIB_TABLE, "insert", sb_b_insert},
    {SB_LIB_TABLE, "remove", sb_b_remove},   {SB_LIB_TABLE, "sort", sb_b_sort},
    {SB_LIB_UTF8, "char", sb_b_bytes},       {SB_LIB_UTF8, "codepoint", sb_b_bytes},
    {SB_LIB_UTF8, "len", sb_b_bytes},        {SB_LIB_UTF8, "offset", sb_b_bytes},
    {SB_LIB_UTF8, "codes", sb_b_bytes},
    {SB_LIB_BASE, "tonumber", sb_b_bytes},
    {SB_LIB_CJSON, "encode", sb_b_encode},   {SB_LIB_CJSON, "decode", sb_b_bytes},
};

/* The pattern matcher's meter: its steps are charged like the rest of the library's work. */
static void sb_pattern_charge(lua_State *L, long steps) {
    sb_rules_charge(L, steps / SB_STEPS_PER_INSN + 1);
}
static const sb_pattern_hooks sb_pattern_meter = {sb_pattern_charge};

void sb_rules_open_bounded(lua_State *L, int string_idx, int table_idx, int utf8_idx, int base_idx, int cjson_idx) {
    const int lib[SB_NLIBS] = {lua_absindex(L, string_idx), lua_absindex(L, table_idx), lua_absindex(L, utf8_idx),
                               lua_absindex(L, base_idx), lua_absindex(L, cjson_idx)};
    for (size_t i = 0; i < sizeof SB_BOUNDED / sizeof SB_BOUNDED[0]; i++) {
        int t = lib[SB_BOUNDED[i].lib];
        if (lua_getfield(L, t, SB_BOUNDED[i].name) != LUA_TFUNCTION || !lua_iscfunction(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        int has_upvalues = lua_getupvalue(L, -1, 1) != NULL;
        if (has_upvalues) lua_pop(L, 1);
        lua_pushboolean(L, has_upvalues);
        lua_pushcclosure(L, SB_BOUNDED[i].fn, 2);
        lua_setfield(L, t, SB_BOUNDED[i].name);
    }
    /* find, match, gmatch and gsub: the metered matcher in place of Lua's */
    static const char *const pat[] = {"find", "match", "gmatch", "gsub"};
    sb_pattern_push(L, &sb_pattern_meter);
    for (size_t i = 0; i < sizeof pat / sizeof pat[0]; i++) {
        lua_getfield(L, -1, pat[i]);
        lua_setfield(L, lib[SB_LIB_STRING], pat[i]);
    }
    lua_pop(L, 1);
}
