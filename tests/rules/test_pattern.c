/* test_pattern.c: engine/rules/pattern.c against Lua's own string library. Two states
 * run the same thing: "stock" has Lua's string.find/match/gmatch/gsub, "ours" has the
 * ones sb_pattern_push makes (in the same string table, so error messages name the
 * functions alike). A harness written in Lua, loaded into both, runs a call under pcall
 * and turns its results, or its error message without the position prefix, into one
 * string; the two strings must be equal. The cases are the table in pattern_cases.txt,
 * then a seeded random loop over subjects and patterns from the pattern grammar
 * (malformed ones included), then the meter: a pathological pattern reaches the charge
 * callback, a charge that raises stops it, and the state goes on working. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lauxlib.h>
#include <lualib.h>
#include "t.h"
#include "rules/pattern.h"

/* ---- the two states ---------------------------------------------------------------- */

static long charged, charges, budget;       /* budget 0: the charge never raises */

static void count_charge(lua_State *L, long steps) {
    charged += steps;
    charges++;
    if (budget > 0 && charged > budget) luaL_error(L, "pattern budget exceeded");
}

static const sb_pattern_hooks HOOKS = {count_charge};

/* budget(n) in "ours": sets the budget and starts counting afresh [-1, +0] */
static int l_budget(lua_State *L) {
    budget = (long)luaL_checkinteger(L, 1);
    charged = 0;
    return 0;
}

/* Captures the stock string functions it needs first, so that in "ours" the harness
 * itself does not run on the code under test. */
static const char *HARNESS =
    "local format, sgsub, type, tostring, select, pcall, load, pairs, sort, concat, mtype =\n"
    "  string.format, string.gsub, type, tostring, select, pcall, load, pairs,\n"
    "  table.sort, table.concat, math.type\n"
    "local ser\n"
    "local function key(k) return type(k) .. ':' .. tostring(k) end\n"
    "ser = function(v, depth)\n"
    "  local t = type(v)\n"
    "  if t == 'string' then return format('%q', v)\n"
    "  elseif t == 'number' then return mtype(v) .. ':' .. format('%.17g', v)\n"
    "  elseif t == 'table' then\n"
    "    if depth > 4 then return '{...}' end\n"
    "    local ks = {}\n"
    "    for k in pairs(v) do ks[#ks + 1] = k end\n"
    "    sort(ks, function(a, b) return key(a) < key(b) end)\n"
    "    local out = {}\n"
    "    for i, k in ipairs(ks) do out[i] = ser(k, depth + 1) .. '=' .. ser(v[k], depth + 1) end\n"
    "    return '{' .. concat(out, ',') .. '}'\n"
    "  elseif t == 'function' or t == 'userdata' or t == 'thread' then return t\n"
    "  else return tostring(v) end\n"
    "end\n"
    "local function pack(ok, ...)\n"
    "  local n = select('#', ...)\n"
    "  if not ok then\n"
    "    local e = ...\n"
    "    if type(e) == 'string' then return 'error: ' .. sgsub(e, '^[^:\\n]*:%d+: ', '') end\n"
    "    return 'error object: ' .. ser(e, 0)\n"
    "  end\n"
    "  local out = {}\n"
    "  for i = 1, n do out[i] = ser((select(i, ...)), 0) end\n"
    "  return n .. ': ' .. concat(out, ', ')\n"
    "end\n"
    "local b = {}\n"
    "for i = 0, 255 do b[i + 1] = string.char(i) end\n"
    "ALL = concat(b)\n"
    "function gm(s, p, init)\n"
    "  local it, out = string.gmatch(s, p, init), {}\n"
    "  for i = 1, 64 do\n"
    "    local r = table.pack(it())\n"
    "    out[i] = r\n"
    "    if r.n == 0 or r[1] == nil then break end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "local TABLES = {\n"
    "  {a = 'A', b = false, ab = 'X', [''] = 'E', aa = 2, [1] = 'one', [3] = 'three'},\n"
    "  setmetatable({}, {__index = function(t, k) return type(k) == 'string' and #k or k end}),\n"
    "  {a = true},\n"
    "}\n"
    "local FUNCS = {\n"
    "  function(...) return select('#', ...) end,\n"
    "  function(a) return a .. '!' end,\n"
    "  function() return false end,\n"
    "  function() end,\n"
    "  function(a, b) return b end,\n"
    "  function() return {} end,\n"
    "  function(...) return concat({...}, ',') end,\n"
    "}\n"
    "function run(code)\n"
    "  local f, err = load(code, '=case')\n"
    "  if not f then return 'syntax: ' .. err end\n"
    "  return pack(pcall(f))\n"
    "end\n"
    "function call(op, s, p, a, b)\n"
    "  if op == 'gmatch' then return pack(pcall(gm, s, p, a)) end\n"
    "  if op == 'gsub_t' then return pack(pcall(string.gsub, s, p, TABLES[a], b)) end\n"
    "  if op == 'gsub_f' then return pack(pcall(string.gsub, s, p, FUNCS[a], b)) end\n"
    "  return pack(pcall(string[op], s, p, a, b))\n"
    "end\n";

static lua_State *new_state(int ours) {
    lua_State *L = luaL_newstate();
    if (!L) abort();
    luaL_openlibs(L);
    if (luaL_loadstring(L, HARNESS) || lua_pcall(L, 0, 0, 0)) {
        fprintf(stderr, "harness: %s\n", lua_tostring(L, -1));
        abort();
    }
    if (ours) {                         /* string.find & co. become ours, in place */
        lua_getglobal(L, "string");
        sb_pattern_push(L, &HOOKS);
        static const char *const names[] = {"find", "match", "gmatch", "gsub"};
        for (int i = 0; i < 4; i++) {
            lua_getfield(L, -1, names[i]);
            lua_setfield(L, -3, names[i]);
        }
        lua_pop(L, 2);
        lua_register(L, "budget", l_budget);
    }
    return L;
}

static lua_State *stock, *ours;

/* The harness's answer for run(code) or call(...) already pushed with its n arguments,
 * copied into out. */
static void finish(lua_State *L, int nargs, char *out, size_t cap) {
    if (lua_pcall(L, nargs, 1, 0) != LUA_OK) {
        snprintf(out, cap, "harness error: %s", lua_tostring(L, -1));
    } else {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), s ? s : "(null)");
    }
    lua_pop(L, 1);
}

static char got_stock[1 << 16], got_ours[1 << 16];

/* Runs one chunk in both states; returns 1 when they agree. */
static int same_chunk(const char *code) {
    lua_getglobal(stock, "run");
    lua_pushstring(stock, code);
    finish(stock, 1, got_stock, sizeof got_stock);
    lua_getglobal(ours, "run");
    lua_pushstring(ours, code);
    finish(ours, 1, got_ours, sizeof got_ours);
    return strcmp(got_stock, got_ours) == 0;
}

/* ---- the case table ---------------------------------------------------------------- */

/* Every error message a malformed pattern or replacement can give: the table must
 * reach each of them. */
static const char *const ERRORS[] = {
    "malformed pattern (ends with '%')", "malformed pattern (missing ']')",
    "malformed pattern (missing arguments to '%b')", "missing '[' after '%f' in pattern",
    "invalid pattern capture", "unfinished capture", "too many captures",
    "pattern too complex", "invalid capture index %1", "invalid capture index %0",
    "invalid capture index %2", "invalid use of '%' in replacement string",
    "invalid replacement value (a table)", "invalid replacement value (a boolean)",
    "bad argument #3 to 'gsub' (string/function/table expected",
    "bad argument #1 to 'find' (string expected, got nil)",
    "number has no integer representation",
};
#define NERRORS (sizeof ERRORS / sizeof ERRORS[0])

static void test_case_table(void) {
    const char *src = getenv("SB_SOURCE_DIR");
    char path[1024], line[8192];
    snprintf(path, sizeof path, "%s/tests/rules/pattern_cases.txt", src ? src : SB_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    T_CHECK(f != NULL);
    if (!f) return;
    int ncases = 0, nok = 0, lineno = 0, seen[NERRORS] = {0};
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        ncases++;
        int same = same_chunk(line);
        T_CHECK(same);
        if (!same) {
            fprintf(stderr, "pattern_cases.txt:%d: %s\n  stock: %.400s\n  ours:  %.400s\n",
                    lineno, line, got_stock, got_ours);
            continue;
        }
        if (!strncmp(got_stock, "syntax: ", 8)) {      /* a broken case is a test bug */
            T_CHECK(!"case does not compile");
            fprintf(stderr, "pattern_cases.txt:%d: %s\n", lineno, got_stock);
        }
        if (strncmp(got_stock, "error", 5)) nok++;
        for (size_t i = 0; i < NERRORS; i++)
            if (strstr(got_stock, ERRORS[i])) seen[i] = 1;
    }
    fclose(f);
    for (size_t i = 0; i < NERRORS; i++) {
        T_CHECK(seen[i]);
        if (!seen[i]) fprintf(stderr, "no case gives \"%s\"\n", ERRORS[i]);
    }
    T_CHECK(ncases > 300);
    T_CHECK(nok > ncases / 2);
    printf("case table: %d cases (%d without an error)\n", ncases, nok);
}

/* ---- the random loop --------------------------------------------------------------- */

static uint64_t rng = 0x5eed5b9a77e4ULL;

static unsigned rnd(unsigned n) {                   /* xorshift64*, 0..n-1 */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (unsigned)((rng * 0x2545F4914F6CDD1DULL) >> 33) % n;
}

static char pick(const char *set, size_t n) { return set[rnd((unsigned)n)]; }
#define PICK(lit) pick(lit, sizeof lit - 1)

typedef struct buf { char s[512]; size_t n; } buf;

static void put(buf *b, char c) { if (b->n < sizeof b->s - 1) b->s[b->n++] = c; }
static void puts_(buf *b, const char *s) { while (*s) put(b, *s++); }

/* b as a Lua string literal's body, into out (2048 bytes) */
static const char *esc(const buf *b, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < b->n && o < 2040; i++) {
        unsigned char ch = (unsigned char)b->s[i];
        if (ch == '\\' || ch == '"') o += (size_t)sprintf(out + o, "\\%c", ch);
        else if (ch < 32 || ch > 126) o += (size_t)sprintf(out + o, "\\%u", ch);
        else out[o++] = (char)ch;
    }
    out[o] = '\0';
    return out;
}

static void gen_set(buf *b) {
    put(b, '[');
    if (rnd(4) == 0) put(b, '^');
    if (rnd(8) == 0) put(b, ']');
    for (unsigned i = 0, n = 1 + rnd(3); i < n; i++) {
        switch (rnd(5)) {
        case 0: put(b, PICK("ab")); put(b, '-'); put(b, PICK("abz")); break;
        case 1: put(b, '%'); put(b, PICK("adswpAS%]-")); break;
        case 2: put(b, PICK("-^(]")); break;
        default: put(b, PICK("aab(."));
        }
    }
    put(b, ']');
}

static void gen_single(buf *b) {
    switch (rnd(10)) {
    case 0: put(b, '.'); break;
    case 1: case 2: put(b, '%'); put(b, PICK("adswpxlucgAWSP.%()[-^$z")); break;
    case 3: case 4: gen_set(b); break;
    default: put(b, PICK("aaab(){}. "));
    }
}

static void gen_items(buf *b, int depth) {
    for (unsigned i = 0, n = 1 + rnd(4); i < n; i++) {
        switch (rnd(14)) {
        case 0:
            if (depth < 3) { put(b, '('); gen_items(b, depth + 1); put(b, ')'); }
            break;
        case 1: puts_(b, "()"); break;
        case 2: put(b, '%'); put(b, 'b'); put(b, PICK("(a")); put(b, PICK(")ab")); break;
        case 3: puts_(b, "%f"); gen_set(b); break;
        case 4: put(b, '%'); put(b, PICK("1123")); break;
        default:
            gen_single(b);
            if (rnd(2)) put(b, PICK("*+-?"));
        }
    }
}

/* A pattern from the grammar, then now and then broken: cut short, a byte replaced by
 * a special one, or a '%' at the end. */
static void gen_pattern(buf *b) {
    b->n = 0;
    if (rnd(5) == 0) put(b, '^');
    gen_items(b, 0);
    if (rnd(6) == 0) put(b, '$');
    switch (rnd(12)) {
    case 0: if (b->n) b->n = rnd((unsigned)b->n); break;
    case 1: if (b->n) b->s[rnd((unsigned)b->n)] = PICK("%[]()^$*+?.-\0"); break;
    case 2: put(b, '%'); break;
    default: break;
    }
}

static void gen_subject(buf *b) {
    static const char alpha[] = "aaaabbb(){}.%- ^$]\0A1";
    b->n = 0;
    for (unsigned i = 0, n = rnd(12); i < n; i++) put(b, alpha[rnd(sizeof alpha - 1)]);
}

static void gen_repl(buf *b) {
    static const char *const parts[] = {"x", "%0", "%1", "%2", "%%", "%", "%a", "", "-"};
    b->n = 0;
    for (unsigned i = 0, n = rnd(4); i < n; i++) puts_(b, parts[rnd(9)]);
}

/* An optional integer argument: mostly small, sometimes absent or at the limits. */
static void push_pos(lua_State *L, unsigned r, int v) {
    if (r == 0) lua_pushnil(L);
    else if (r == 1) lua_pushinteger(L, LUA_MAXINTEGER);
    else if (r == 2) lua_pushinteger(L, LUA_MININTEGER);
    else lua_pushinteger(L, v);
}

typedef struct rcase {
    const char *op;
    buf s, p, r;
    unsigned a_kind, b_kind;
    int a, b;
} rcase;

static void push_call(lua_State *L, const rcase *c) {
    lua_getglobal(L, "call");
    lua_pushstring(L, c->op);
    lua_pushlstring(L, c->s.s, c->s.n);
    lua_pushlstring(L, c->p.s, c->p.n);
    if (!strcmp(c->op, "gsub")) lua_pushlstring(L, c->r.s, c->r.n);
    else if (!strncmp(c->op, "gsub_", 5)) lua_pushinteger(L, c->a);
    else push_pos(L, c->a_kind, c->a);
    if (!strcmp(c->op, "find")) {
        if (c->b_kind == 0) lua_pushnil(L);
        else lua_pushboolean(L, c->b_kind == 1);
    } else if (!strncmp(c->op, "gsub", 4)) {
        push_pos(L, c->b_kind, c->b);
    } else {
        lua_pushnil(L);
    }
}

static void test_random(void) {
    static const char *const ops[] = {"find", "find", "match", "gmatch", "gsub", "gsub",
                                      "gsub_t", "gsub_f"};
    enum { N = 150000 };
    rcase c;
    long fails = 0, errors = 0;
    clock_t t0 = clock();
    for (int i = 0; i < N; i++) {
        c.op = ops[rnd(8)];
        gen_subject(&c.s);
        gen_pattern(&c.p);
        gen_repl(&c.r);
        c.a_kind = rnd(12);
        c.b_kind = rnd(6);
        c.a = (int)rnd(31) - 15;
        c.b = (int)rnd(8) - 2;
        if (!strcmp(c.op, "gsub_t")) c.a = 1 + (int)rnd(3);
        if (!strcmp(c.op, "gsub_f")) c.a = 1 + (int)rnd(7);
        if (!strcmp(c.op, "find")) c.b_kind = rnd(4);   /* nil, true, false x2 */
        push_call(ours, &c);
        finish(ours, 5, got_ours, sizeof got_ours);
        push_call(stock, &c);
        finish(stock, 5, got_stock, sizeof got_stock);
        if (!strncmp(got_stock, "error", 5)) errors++;
        if (strcmp(got_stock, got_ours)) {
            if (++fails <= 10) {
                char s[2048], p[2048], r[2048];
                fprintf(stderr, "random case %d: %s(\"%s\", \"%s\", a=%d/%u, b=%d/%u, "
                        "repl \"%s\")\n  stock: %.300s\n  ours:  %.300s\n", i, c.op,
                        esc(&c.s, s), esc(&c.p, p), c.a, c.a_kind, c.b, c.b_kind,
                        esc(&c.r, r), got_stock, got_ours);
            }
        }
    }
    T_EQ(fails, 0);
    T_CHECK(errors > N / 50 && errors < N / 2);     /* both sides of the grammar reached */
    printf("random: %d cases, %ld errors in stock, %ld differences, %.1f s\n", N, errors,
           fails, (double)(clock() - t0) / CLOCKS_PER_SEC);
}

/* ---- the meter --------------------------------------------------------------------- */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *eval(lua_State *L, const char *code) {
    lua_getglobal(L, "run");
    lua_pushstring(L, code);
    finish(L, 1, got_ours, sizeof got_ours);
    return got_ours;
}

static void test_meter(void) {
    /* a plain call charges once, with what it did, before it returns */
    charged = charges = budget = 0;
    T_STREQ(eval(ours, "return string.find('xxab', 'a(b)')"), "3: integer:3, integer:4, \"b\"");
    T_EQ(charges, 1);
    T_CHECK(charged > 0 && charged < SB_PATTERN_TICK);

    /* a plain find charges the subject it scans */
    charged = charges = 0;
    T_STREQ(eval(ours, "return string.find(string.rep('a', 100000), 'b', 1, true)"), "1: nil");
    T_CHECK(charged >= 100000);
    charged = 0;
    T_STREQ(eval(ours, "return string.find(string.rep('a', 100000), 'ab')"), "1: nil");
    T_CHECK(charged >= 100000);

    /* the pathological find reaches the callback, which stops it at the budget */
    static const char *const slow[] = {
        "return string.find(string.rep('a', 5000), string.rep('a-', 30) .. 'b')",
        "return string.match(string.rep('a', 5000), string.rep('a*', 30) .. 'b')",
        "return string.gsub(string.rep('a', 5000), string.rep('(a?)', 30) .. 'b', '%1')",
        "return string.gsub(string.rep('a', 5000), string.rep('a-', 30) .. 'b', string.upper)",
        "for x in string.gmatch(string.rep('a', 5000), string.rep('a-', 30) .. 'b') do end",
        "return string.find(string.rep('(', 100000), '%b()')",
        "return string.find(string.rep('a', 10000), '(.-)%1%1c')",
        "return string.find(string.rep('a', 100000), '[' .. string.rep('b', 100000) .. ']')",
        "return string.gsub(string.rep('x', 100000), 'x', string.rep('%0', 1000))",
    };
    for (size_t i = 0; i < sizeof slow / sizeof slow[0]; i++) {
        charged = charges = 0;
        budget = 1000000;
        double t = now();
        const char *got = eval(ours, slow[i]);
        t = now() - t;
        T_STREQ(got, "error: pattern budget exceeded");
        T_CHECK(charged > budget && charges >= 5);
        if (charged <= budget || charges < 5)
            fprintf(stderr, "%s: %ld steps in %ld charges\n", slow[i], charged, charges);
        else
            printf("meter: %.70s...: %ld steps, %ld charges, %.3f s\n", slow[i], charged, charges, t);
        if (i == 0)
            printf("meter: 1e6 steps of a pathological find in %.3f s (%.1f M steps/s), "
                   "%ld charges\n", t, charged / t / 1e6, charges);
        budget = 0;
        /* the state goes on: the very next call gives the right answer */
        T_STREQ(eval(ours, "return string.find('xxab', 'a(b)')"), "3: integer:3, integer:4, \"b\"");
        T_STREQ(eval(ours, "return string.gsub('hello world', '%w+', '<%0>')"),
                "2: \"<hello> <world>\", integer:2");
    }

    /* a pcall inside the rule gets the error too; a gmatch iterator stopped by the
     * budget goes on from where its last match ended */
    charged = 0;
    budget = 1000000;
    T_STREQ(eval(ours, "local ok, e = pcall(string.find, string.rep('a', 5000),"
                       " string.rep('a-', 30) .. 'b') return ok, e"),
            "2: false, \"pattern budget exceeded\"");
    budget = 0;
    T_STREQ(eval(ours, "local it = string.gmatch('a1b2', '%a(%d)') local r = {it()}"
                       " budget(1) r[2] = select(2, pcall(it)) budget(0)"
                       " r[3] = it() r[4] = it() return r[1], r[2], r[3], r[4]"),
            "4: \"1\", \"pattern budget exceeded\", \"2\", nil");
    T_STREQ(same_chunk("return string.find('xxab', 'a(b)')") ? "same" : got_ours, "same");
}

int main(void) {
    stock = new_state(0);
    ours = new_state(1);
    test_case_table();
    test_random();
    test_meter();
    lua_close(stock);
    lua_close(ours);
    return t_done();
}
