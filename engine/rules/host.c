/* host.c: the sandboxed Lua state behind one sb_rules (one rule-pack generation).
 *
 * The idea to read it by: everything a rule can reach is built once here, at load time:
 * our own library list with bounded versions of the C functions that could run unbounded
 * (bounded.c), the shared read-only API table (engine/rules/sandbox.lua), one _ENV per
 * hook file, and the compiled hook functions kept as registry refs. A call then only
 * pushes a ref and an argument and runs it under three limits: a count hook that charges
 * 1000 instructions a tick against a per-call budget and reads the clock against the
 * call's deadline (once either is spent it re-arms itself at every instruction so a pcall
 * inside the rule cannot swallow the expiry); the library's C functions charge their own
 * work to the same budget and read the same clock (sb_rules_charge), so no time is spent
 * where the hook cannot see it; and an allocator that holds the pack to its byte cap (the
 * engine's own data, the open page, is not the pack's: it has a reserve of its own) and
 * keeps small blocks on free lists, since a hook's garbage is mostly small tables. Every
 * Lua API call the host makes runs inside a protected call (sb_rules_protect), so the
 * panic handler is for engine bugs only. The engine's own trusted Lua runs without the
 * count hook (sb_rules_pcall_trusted).
 *
 * Why one file: the state, the allocator, the count hook, the loader and the protected
 * calls keep one set of invariants, which reads best in one place. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <lualib.h>
#include <lua-cjson.h>
#include <openssl/evp.h>
#include "rules/rules_int.h"
#include "core/embed.h"
#include "core/log.h"
#include "core/util.h"

#define SB_RULES_DEFAULT_INSNS   1000000L
#define SB_RULES_DEFAULT_MEM     ((size_t)32 << 20)
#define SB_RULES_DEFAULT_TIME_MS 200
#define SB_RULES_DEFAULT_LOAD_MS 500
/* what the engine's own Lua (decoding a page, normalising, encoding) may use beyond the
 * pack's cap: a full page body decodes to several times its size */
#define SB_RULES_ENGINE_RESERVE  ((size_t)96 << 20)
#define SB_RULES_HOOK_TICK       1000
#define SB_RULES_MAX_SOURCE      ((size_t)1 << 20)
#define SB_RULES_ARENA_MAX       ((size_t)16 << 20)

const char *const sb_rules_hook_names[SB_NHOOKS] = {
    "status", "validate", "customer", "route", "gl", "stock"
};

/* ---- arena ---------------------------------------------------------------------- */

void *sb_arena_alloc(sb_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    sb_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        if (a->total + cap > a->max) return NULL;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
        a->total += cap;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *sb_arena_strdup(sb_arena *a, const char *s, size_t n) {
    char *p = sb_arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* keeps the newest block (usually the only one) so steady state allocates nothing */
void sb_arena_reset(sb_arena *a) {
    sb_arena_block *b = a->head;
    if (!b) return;
    sb_arena_block *rest = b->next;
    while (rest) {
        sb_arena_block *n = rest->next;
        a->total -= rest->cap;
        free(rest);
        rest = n;
    }
    b->next = NULL;
    b->used = 0;
}

void sb_arena_free(sb_arena *a) {
    while (a->head) {
        sb_arena_block *n = a->head->next;
        free(a->head);
        a->head = n;
    }
    a->total = 0;
}

/* ---- limits --------------------------------------------------------------------- */

/* Small blocks (tables, their parts, closures, short strings) are most of what a hook
 * allocates, and the collector frees them in batches of hundreds, more than glibc's
 * per-thread cache holds: so blocks up to SB_POOL_MAX bytes are kept on free lists by
 * 16-byte class and handed out again, at most SB_POOL_KEEP bytes in all (the rest go back
 * to free). A block on list c is always at least (c + 1) * 16 bytes. Under
 * AddressSanitizer a pooled block is poisoned, and a block in use is addressable only up
 * to the size Lua asked for, so use after free and overflows are still found. */
#if defined(__SANITIZE_ADDRESS__)
#define SB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_ASAN 1
#endif
#endif
/* Under AddressSanitizer the pool is off: a block on a free list is linked through memory
 * the pool poisons, which LeakSanitizer cannot read, so it reported pooled blocks as
 * leaks (fuzz_orders stopped on one); and each block then has its real bounds. */
#ifdef SB_ASAN
#define SB_POOL_OFF 1
#include <sanitizer/asan_interface.h>
#define SB_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SB_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SB_POOL_OFF 0
#define SB_POISON(p, n) ((void)(p), (void)(n))
#define SB_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static size_t sb_pool_class(size_t n) { return (n - 1) / SB_POOL_CLASS; }
static size_t sb_pool_size(size_t n) { return (sb_pool_class(n) + 1) * SB_POOL_CLASS; }

/* makes the first n bytes of a pooled-size block usable, the rest of it not */
static void sb_pool_fit(void *p, size_t n) {
    SB_POISON(p, sb_pool_size(n));
    SB_UNPOISON(p, n);
}

/* a block for n <= SB_POOL_MAX bytes; NULL when malloc fails */
static void *sb_pool_get(sb_rules *r, size_t n) {
    size_t c = sb_pool_class(n);
    sb_pool_block *b = r->pool[c];
    if (b) {
        SB_UNPOISON(b, sizeof *b);
        r->pool[c] = b->next;
        r->pool_bytes -= (c + 1) * SB_POOL_CLASS;
    } else if (!(b = malloc((c + 1) * SB_POOL_CLASS))) {
        return NULL;
    }
    sb_pool_fit(b, n);
    return b;
}

/* gives back a block Lua knew as n bytes */
static void sb_pool_put(sb_rules *r, void *p, size_t n) {
    if (n > SB_POOL_MAX) { free(p); return; }
    size_t c = sb_pool_class(n), size = (c + 1) * SB_POOL_CLASS;
    SB_UNPOISON(p, size);
    if (r->pool_bytes + size > SB_POOL_KEEP) { free(p); return; }
    sb_pool_block *b = p;
    b->next = r->pool[c];
    r->pool[c] = b;
    r->pool_bytes += size;
    SB_POISON(p, size);
}

static void sb_pool_free(sb_rules *r) {
    for (size_t c = 0; c < SB_POOL_MAX / SB_POOL_CLASS; c++)
        while (r->pool[c]) {
            sb_pool_block *b = r->pool[c];
            SB_UNPOISON(b, (c + 1) * SB_POOL_CLASS);
            r->pool[c] = b->next;
            free(b);
        }
    r->pool_bytes = 0;
}

/* The most the state may hold now: while rule code runs, the pack's cap on top of the
 * engine's open page; while the engine's own Lua runs, a reserve more, so a pack that
 * filled its share cannot starve the decoding and normalising of later orders. */
static size_t sb_rules_cap(const sb_rules *r) {
    size_t cap = r->mem_max + r->engine_mem;
    return r->in_rule ? cap : cap + SB_RULES_ENGINE_RESERVE;
}

/* lua_Alloc with a byte cap (r->mem counts what Lua asked for, not the pool). When ptr is
 * NULL, osize is a type tag, not a size: rule code cannot make a string longer than
 * SB_RULES_MAX_STRING, which keeps every single VM instruction (a comparison, a
 * concatenation) short enough for the count hook's clock. Shrinks always succeed so Lua
 * never fails while freeing. */
static void *sb_rules_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    sb_rules *r = ud;
    if (!ptr) {
        if (osize == LUA_TSTRING && nsize > SB_RULES_MAX_STRING + 64 && r->in_rule) {
            r->oom_string = 1;
            return NULL;
        }
        osize = 0;
    }
    if (nsize == 0) {
        if (ptr && SB_POOL_OFF) free(ptr);
        else if (ptr) sb_pool_put(r, ptr, osize);
        r->mem -= osize;
        return NULL;
    }
    if (nsize > osize && r->mem + (nsize - osize) > sb_rules_cap(r)) return NULL;
    void *p;
    if (SB_POOL_OFF || (nsize > SB_POOL_MAX && (!ptr || osize > SB_POOL_MAX))) {
        p = realloc(ptr, nsize);                    /* large to large: realloc as before */
    } else if (ptr && osize <= SB_POOL_MAX && nsize <= SB_POOL_MAX && sb_pool_class(osize) == sb_pool_class(nsize)) {
        p = ptr;                                    /* fits the block it has */
        sb_pool_fit(p, nsize);
    } else {
        p = nsize <= SB_POOL_MAX ? sb_pool_get(r, nsize) : malloc(nsize);
        if (p && ptr) {
            memcpy(p, ptr, osize < nsize ? osize : nsize);
            sb_pool_put(r, ptr, osize);
        }
    }
    if (!p) {
        if (nsize > osize) return NULL;
        p = ptr;                /* a shrink that got no new block keeps the old one */
    }
    r->mem = r->mem - osize + nsize;
    return p;
}

static int64_t sb_rules_mono_us(void *ud) {
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Which limit, if any, the call under way has reached. */
static int sb_rules_spent(sb_rules *r) {
    if (r->stop && *r->stop) return SB_EXP_STOP;
    if (r->remaining <= 0) return SB_EXP_BUDGET;
    if (r->clock_us(r->clock_ud) >= r->deadline) return SB_EXP_TIME;
    return SB_EXP_NONE;
}

static void sb_rules_count_hook(lua_State *L, lua_Debug *ar);

/* "file:line:" of the innermost Lua function running (the rule's line, also when the
 * limit is reached inside a C function that C functions called: table.sort's
 * comparison). [-0, +1] */
static void sb_rules_where(lua_State *L) {
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
        lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
        return;
    }
    lua_pushliteral(L, "");
}

/* Ends the rule call under way for limit why: remembers where, makes the hook fire at
 * every instruction so nothing inside the rule can catch it for long, and raises.
 * [-0, +0, e] */
static int sb_rules_expire(sb_rules *r, lua_State *L, int why) {
    if (!r->expired) {
        r->expired = why;
        sb_rules_where(L);
        snprintf(r->timeout_where, sizeof r->timeout_where, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        lua_sethook(L, sb_rules_count_hook, LUA_MASKCOUNT, 1);
    }
    sb_rules_where(L);
    lua_pushliteral(L, "rule stopped");
    lua_concat(L, 2);
    return lua_error(L);
}

/* Count hook: charges a tick and looks at the clock; once a limit is spent, fires at
 * every instruction so every attempt to catch the error runs straight into it again. */
static void sb_rules_count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    sb_rules *r = sb_rules_of(L);
    int why = r->expired;
    if (!r->in_rule) return;                    /* the engine's own Lua */
    if (!why) {
        r->remaining -= SB_RULES_HOOK_TICK;
        if (!(why = sb_rules_spent(r))) return;
    }
    sb_rules_expire(r, L, why);
}

void sb_rules_charge(lua_State *L, long cost) {
    sb_rules *r = sb_rules_of(L);
    if (!r->in_rule) return;
    r->remaining -= cost;
    int why = r->expired ? r->expired : sb_rules_spent(r);
    if (why) sb_rules_expire(r, L, why);
}

/* An engine bug: some Lua API call ran outside sb_rules_protect. Rules cannot get here. */
static int sb_rules_panic(lua_State *L) {
    const char *m = lua_tostring(L, -1);
    sb_error("rules: unprotected Lua error (an engine bug, please report it): %s", m ? m : "?");
    abort();
    return 0;
}

/* Message handler: [-1, +1] error object -> "message\nstack traceback: ..." */
static int sb_rules_msgh(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* "rules/route.lua:12: x" -> "route.lua:12: x"; a message without a position gets
 * "file: " in front so the file is always named. */
static void sb_rules_format_error(const char *file, const char *m, size_t mlen, char *msg, size_t msglen) {
    if (!strncmp(m, "rules/", 6)) { m += 6; mlen -= 6; }
    int positioned = 0;
    const char *colon = memchr(m, ':', mlen);
    if (colon && colon - m >= 4 && !memcmp(colon - 4, ".lua", 4)) positioned = 1;
    size_t o = 0;
    if (!positioned && file) o = (size_t)snprintf(msg, msglen, "%s: ", file);
    if (o >= msglen) o = msglen - 1;
    /* one line, whatever the rule put in its message */
    sb_escape_controls(m, mlen, msg + o, msglen - o);
}

/* The error of a failed lua_pcall (status st, error object on top) into msg as
 * "file:line: message" and r->traceback; pops the error object. file NULL: "rules". */
static void sb_rules_take_error(sb_rules *r, int st, const char *file, char *msg, size_t msglen) {
    lua_State *L = r->L;
    if (st == LUA_ERRMEM) {
        /* the message handler does not run for memory errors */
        if (r->oom_string)
            snprintf(msg, msglen, "%s: out of memory: a rule's strings may have at most %zu bytes",
                     file ? file : "rules", SB_RULES_MAX_STRING);
        else
            snprintf(msg, msglen, "%s: out of memory (limit %zu bytes)", file ? file : "rules", r->mem_max);
        snprintf(r->traceback, sizeof r->traceback, "%s", msg);
    } else {
        size_t len = 0;
        const char *e = lua_tolstring(L, -1, &len);
        if (!e) { e = "(error object is not a string)"; len = strlen(e); }
        const char *tb = strstr(e, "\nstack traceback:");
        sb_rules_format_error(file, e, tb ? (size_t)(tb - e) : len, msg, msglen);
        snprintf(r->traceback, sizeof r->traceback, "%s%s", msg, tb ? tb : "");
    }
    lua_pop(L, 1);
}

int sb_rules_pcall(sb_rules *r, int nargs, int nres, const char *file, char *msg, size_t msglen) {
    lua_State *L = r->L;
    int base = lua_gettop(L) - nargs;            /* the function's slot */
    lua_pushcfunction(L, sb_rules_msgh);
    lua_insert(L, base);
    int nested = r->in_rule > 0;                 /* a hook called from a rule's C function */
    int64_t deadline = r->deadline;
    if (!nested) {
        r->remaining = r->budget;
        r->expired = SB_EXP_NONE;
        r->oom_string = 0;
        r->nstock_memo = 0;
        if (!r->loading) r->deadline = r->clock_us(r->clock_ud) + r->time_us;
    }
    r->in_rule++;
    int st = lua_pcall(L, nargs, nres, base);
    r->in_rule--;
    lua_remove(L, base);
    if (nested) { r->deadline = deadline; }
    if (st == LUA_OK && !r->expired) return 0;
    if (st == LUA_OK) {               /* caught inside and returned without another instruction */
        lua_pop(L, nres == LUA_MULTRET ? 0 : nres);
        lua_pushliteral(L, "");
    }
    int rc = SB_ERULE;
    if (r->expired && !nested) {
        lua_sethook(L, sb_rules_count_hook, LUA_MASKCOUNT, SB_RULES_HOOK_TICK);
        char where[300];
        if (r->expired == SB_EXP_TIME)
            snprintf(where, sizeof where, "%srule exceeded its time limit (%lld ms%s)", r->timeout_where,
                     (long long)((r->loading ? r->load_us : r->time_us) / 1000), r->loading ? " to load" : "");
        else if (r->expired == SB_EXP_BUDGET)
            snprintf(where, sizeof where, "%srule exceeded its instruction limit (%ld)", r->timeout_where, r->budget);
        else
            snprintf(where, sizeof where, "%srule stopped: the engine is stopping", r->timeout_where);
        if (r->expired == SB_EXP_STOP) rc = SB_EINTR;
        sb_rules_format_error(file, where, strlen(where), msg, msglen);
        snprintf(r->traceback, sizeof r->traceback, "%s", msg);
        r->expired = SB_EXP_NONE;
        lua_pop(L, 1);
    } else {
        sb_rules_take_error(r, st, file, msg, msglen);
    }
    if (st == LUA_ERRMEM) lua_gc(L, LUA_GCCOLLECT);
    return rc;
}

/* The protected body of sb_rules_protect: [ud] -> calls the function stored by it. */
typedef struct sb_protected { lua_CFunction fn; void *ud; } sb_protected;

int sb_rules_protect(sb_rules *r, lua_CFunction fn, void *ud, int nargs, char *msg, size_t msglen) {
    lua_State *L = r->L;
    int top = lua_gettop(L) - nargs;
    lua_pushcfunction(L, fn);
    lua_insert(L, top + 1);
    lua_pushlightuserdata(L, ud);
    lua_insert(L, top + 2);
    int st = lua_pcall(L, nargs + 1, 0, 0);
    if (st == LUA_OK) return 0;
    int rc = st == LUA_ERRMEM ? SB_ENOMEM : SB_ERULE;
    if (st == LUA_ERRMEM) {
        snprintf(msg, msglen, "out of memory (limit %zu bytes)", r->mem_max);
    } else {
        const char *e = lua_tostring(L, -1);
        snprintf(msg, msglen, "%s", e ? e : "(error object is not a string)");
    }
    lua_settop(L, top);
    if (st == LUA_ERRMEM) lua_gc(L, LUA_GCCOLLECT);
    return rc;
}

/* The engine's own chunks (normalize, cjson) need no budget, and with any count hook set
 * Lua 5.4 runs luaG_traceexec at every VM instruction: so the hook is off for the call and
 * put back as it was afterwards, on error too. Inside a rule call (a C function a rule can
 * reach) it stays on: setting a hook restarts its count, so a loop of short trusted calls
 * would otherwise never reach a tick and escape the budget. */
int sb_rules_pcall_trusted(sb_rules *r, int nargs, int nres, char *msg, size_t msglen) {
    lua_State *L = r->L;
    lua_Hook hook = lua_gethook(L);
    int mask = lua_gethookmask(L), count = lua_gethookcount(L);
    int off = r->in_rule == 0 && hook != NULL;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, sb_rules_msgh);
    lua_insert(L, base);
    if (off) lua_sethook(L, NULL, 0, 0);
    int st = lua_pcall(L, nargs, nres, base);
    if (off) lua_sethook(L, hook, mask, count);
    lua_remove(L, base);
    if (st == LUA_OK) return 0;
    sb_rules_take_error(r, st, NULL, msg, msglen);
    if (st == LUA_ERRMEM) lua_gc(L, LUA_GCCOLLECT);
    return SB_ERULE;
}

/* ---- state ---------------------------------------------------------------------- */

/* Loads an embedded trusted engine chunk and calls it with the cjson table as argument.
 * [-0, +1] leaves its result. */
static int sb_rules_run_engine(sb_rules *r, const char *path, int cjson_idx, char *err) {
    lua_State *L = r->L;
    const sb_embedded_file *f = sb_embed_find(path);
    if (!f) return sb_seterr(err, SB_ERR, "%s: not embedded in this binary", path);
    char chunk[128];
    snprintf(chunk, sizeof chunk, "@%s", path);
    if (luaL_loadbufferx(L, f->data, f->len, chunk, "t") != LUA_OK) {
        sb_seterr(err, SB_ERR, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return SB_ERR;
    }
    lua_pushvalue(L, cjson_idx);
    char msg[SB_ERRLEN];
    if (sb_rules_pcall(r, 1, 1, path, msg, sizeof msg) < 0)
        return sb_seterr(err, SB_ERR, "%s", msg);
    return 0;
}

/* What a protected body of this file is given, and gives back. */
typedef struct sb_load_args {
    sb_rules *r;
    char *err;                  /* SB_ERRLEN */
    int rc;
    const char *pack_dir;       /* sb_load_body */
    int is_default;
    char **srcs;                /* [SB_NHOOKS], owned by the caller */
    size_t *lens;
    const char **eff;
    sb_buf *problems;
} sb_load_args;

/* [ud] builds the libraries, the sandbox and the engine's chunks */
static int sb_state_body(lua_State *L) {
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8}, {NULL, NULL}
    };
    sb_load_args *a = lua_touserdata(L, 1);
    sb_rules *r = a->r;
    char *err = a->err;
    int rc = 0;
    for (const luaL_Reg *l = libs; l->name; l++)
        luaL_requiref(L, l->name, l->func, 1);          /* [_G, string, table, math, utf8] */
    /* lock the string metatable: getmetatable('') gives "locked" */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    luaL_requiref(L, "cjson", luaopen_cjson, 1);    /* [_G, string, table, math, utf8, cjson] */
    int cj = lua_gettop(L);
    lua_getfield(L, cj, "decode_max_depth");
    lua_pushinteger(L, 64);
    lua_call(L, 1, 0);
    lua_getfield(L, cj, "encode_max_depth");
    lua_pushinteger(L, 64);
    lua_call(L, 1, 0);
    lua_getfield(L, cj, "encode");
    r->encode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, cj, "decode");
    r->decode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* the engine keeps cjson's own encode and decode (above); from here on the libraries
     * hold the bounded versions, for the rules and for the trusted chunks alike */
    sb_rules_open_bounded(L, cj - 4, cj - 3, cj - 1, cj - 5, cj);

    if ((rc = sb_rules_run_engine(r, "engine/rules/sandbox.lua", cj, err)) < 0) goto out;
    /* [cjson, helpers] */
    lua_getfield(L, -1, "deep_ro");
    r->deep_ro_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "make_env");
    lua_setfield(L, LUA_REGISTRYINDEX, "sb.make_env");
    lua_getfield(L, -1, "api");
    sb_rules_open_lookups(r, L);
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "today");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "integration");
    r->api_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    if ((rc = sb_rules_run_engine(r, "engine/rules/normalize.lua", cj, err)) < 0) goto out;
    if (!lua_isfunction(L, -1)) { rc = sb_seterr(err, SB_ERR, "normalize.lua: did not return a function"); goto out; }
    r->normalize_ref = luaL_ref(L, LUA_REGISTRYINDEX);
out:
    a->rc = rc;
    return 0;
}

static int sb_rules_new_state(sb_rules *r, char *err) {
    lua_State *L = lua_newstate(sb_rules_alloc, r);
    if (!L) return sb_seterr(err, SB_ENOMEM, "rules: cannot create a Lua state");
    r->L = L;
    *(sb_rules **)lua_getextraspace(L) = r;
    lua_atpanic(L, sb_rules_panic);
    lua_sethook(L, sb_rules_count_hook, LUA_MASKCOUNT, SB_RULES_HOOK_TICK);
    /* an order makes ~100 short-lived tables: the generational collector frees them
     * young instead of re-marking the long-lived page and API tables every cycle */
    lua_gc(L, LUA_GCGEN, 0, 0);
    sb_load_args a = {.r = r, .err = err};
    char msg[SB_ERRLEN];
    int rc = sb_rules_protect(r, sb_state_body, &a, 0, msg, sizeof msg);
    if (rc) return sb_seterr(err, rc, "rules: cannot build the rule state: %s", msg);
    return a.rc;
}

/* Compiles one hook file in its own _ENV, runs its top level, and keeps the function it
 * returns. On a problem appends "file:line: message" to problems. The default pack's
 * files are named default/<hook>.lua, so an error inside defaults.route(order) is not
 * taken for one in the pack's own route.lua. */
static int sb_rules_load_hook(sb_rules *r, const char *file, const char *src, size_t len,
                              int is_default, int *ref, sb_buf *problems) {
    lua_State *L = r->L;
    char chunk[96], msg[SB_ERRLEN];
    snprintf(chunk, sizeof chunk, "@%s/%s", is_default ? "default" : "rules", file);
    if (len >= 4 && src[0] == 0x1b) {   /* also caught by mode "t"; say it plainly */
        sb_buf_printf(problems, "%s: bytecode is not allowed, only Lua source\n", file);
        return SB_ERULE;
    }
    if (luaL_loadbufferx(L, src, len, chunk, "t") != LUA_OK) {
        size_t n;
        const char *e = lua_tolstring(L, -1, &n);
        sb_rules_format_error(file, e ? e : "?", e ? n : 1, msg, sizeof msg);
        sb_buf_printf(problems, "%s\n", msg);
        lua_pop(L, 1);
        return SB_ERULE;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "sb.make_env");
    lua_call(L, 0, 1);                                  /* [chunk, env] */
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);       /* its first upvalue is _ENV */
    if (sb_rules_pcall(r, 0, 1, file, msg, sizeof msg) < 0) {
        sb_buf_printf(problems, "%s\n", msg);
        return SB_ERULE;
    }
    if (!lua_isfunction(L, -1)) {
        sb_buf_printf(problems, "%s:1: the file must return the hook function (got %s)\n",
                      file, luaL_typename(L, -1));
        lua_pop(L, 1);
        return SB_ERULE;
    }
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* Reads a hook file of the pack: only a regular file of the pack folder itself, so a
 * symbolic link, a device or FIFO, or a hard link to a file elsewhere (the key file)
 * is refused before a byte of it is read, and no load error can quote it. A file any
 * user may change, or another user's (root's is fine), would let them write rules. Returns 0,
 * 1 when the file is not there, or a negative code with the reason in ferr. *src is
 * malloc'd. */
static int sb_rules_read_hook(const char *path, char **src, size_t *len, char *ferr) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 1;
        if (errno == ELOOP) return sb_seterr(ferr, SB_ERULE, "a symbolic link; a hook must be a regular file in the pack folder");
        return sb_seterr(ferr, SB_EIO, "%s", strerror(errno));
    }
    struct stat st;
    int rc = 0;
    sb_buf b;
    sb_buf_init(&b, SB_RULES_MAX_SOURCE);
    if (fstat(fd, &st) != 0) rc = sb_seterr(ferr, SB_EIO, "%s", strerror(errno));
    else if (!S_ISREG(st.st_mode)) rc = sb_seterr(ferr, SB_ERULE, "not a regular file (a device, FIFO or folder); refused");
    else if ((st.st_mode & 002) || (st.st_uid != geteuid() && st.st_uid != 0))
        rc = sb_seterr(ferr, SB_ERULE, "may be changed by other users (mode %03o, owner uid %ld); refused",
                       (unsigned)(st.st_mode & 0777), (long)st.st_uid);
    else if (st.st_nlink > 1)
        rc = sb_seterr(ferr, SB_ERULE, "has %ld hard links, so it may be a file outside the pack folder; refused "
                       "(copy it into the pack)", (long)st.st_nlink);
    while (!rc) {
        char chunk[16384];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = sb_seterr(ferr, SB_EIO, "%s", strerror(errno));
        else if (n == 0) break;
        else if (sb_buf_append(&b, chunk, (size_t)n))
            rc = sb_seterr(ferr, SB_ERULE, "larger than %d bytes", (int)SB_RULES_MAX_SOURCE);
    }
    close(fd);
    if (rc) { sb_buf_free(&b); return rc; }
    if (!b.data) sb_buf_append(&b, "", 0);
    *src = b.data;
    *len = b.len;
    return 0;
}

/* [ud] loads the default pack's hooks, then the pack's own: inherited hooks, and
 * `defaults.<hook>` for overrides. Problems go to a->problems. */
static int sb_load_body(lua_State *L) {
    sb_load_args *a = lua_touserdata(L, 1);
    sb_rules *r = a->r;
    sb_buf *problems = a->problems;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->api_ref);
    lua_newtable(L);                                    /* [api, defaults] */
    for (int h = 0; h < SB_NHOOKS; h++) {
        char path[96], file[64];
        snprintf(path, sizeof path, "rules/default/%s.lua", sb_rules_hook_names[h]);
        snprintf(file, sizeof file, "%s.lua", sb_rules_hook_names[h]);
        const sb_embedded_file *f = sb_embed_find(path);
        if (!f) { sb_buf_printf(problems, "%s: the default pack lacks this hook\n", file); continue; }
        if (sb_rules_load_hook(r, file, f->data, f->len, 1, &r->default_ref[h], problems) < 0) continue;
        r->hook_ref[h] = r->default_ref[h];
        a->eff[h] = f->data;
        a->lens[h] = f->len;
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->default_ref[h]);
        lua_setfield(L, -2, sb_rules_hook_names[h]);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->deep_ro_ref);
    lua_insert(L, -2);
    lua_pushliteral(L, "defaults");
    lua_call(L, 2, 1);                                  /* read-only */
    lua_setfield(L, -2, "defaults");
    lua_pop(L, 1);

    if (!a->is_default) {
        for (int h = 0; h < SB_NHOOKS; h++) {
            char path[4096], file[64], ferr[SB_ERRLEN];
            snprintf(file, sizeof file, "%s.lua", sb_rules_hook_names[h]);
            snprintf(path, sizeof path, "%s/%s", a->pack_dir, file);
            int frc = sb_rules_read_hook(path, &a->srcs[h], &a->lens[h], ferr);
            if (frc == 1) continue;
            if (frc < 0) {
                sb_buf_printf(problems, "%s: %s\n", file, ferr);
                continue;
            }
            a->eff[h] = a->srcs[h];
            sb_rules_load_hook(r, file, a->srcs[h], a->lens[h], 0, &r->hook_ref[h], problems);
        }
    }
    return 0;
}

static int sb_rules_is_default(const char *pack_dir) {
    return !pack_dir || !*pack_dir || !strcmp(pack_dir, "default");
}

sb_rules *sb_rules_load(const char *pack_dir, const sb_rules_limits *lim, char *err) {
    return sb_rules_load_ex(pack_dir, lim, err, SB_ERRLEN);
}

sb_rules *sb_rules_load_ex(const char *pack_dir, const sb_rules_limits *lim, char *report, size_t report_len) {
    char err[SB_ERRLEN] = "";
    sb_rules *r = calloc(1, sizeof *r);
    char *srcs[SB_NHOOKS] = {0};
    size_t lens[SB_NHOOKS] = {0};
    const char *eff[SB_NHOOKS] = {0};
    sb_buf problems;
    sb_buf_init(&problems, 64 * 1024);
    EVP_MD_CTX *md = NULL;
    int ok = 0;
    if (!r) { sb_seterr(err, SB_ENOMEM, "rules: out of memory"); goto out; }
    r->budget = lim && lim->instructions > 0 ? lim->instructions : SB_RULES_DEFAULT_INSNS;
    r->mem_max = lim && lim->memory_bytes > 0 ? lim->memory_bytes : SB_RULES_DEFAULT_MEM;
    r->time_us = (lim && lim->time_ms > 0 ? lim->time_ms : SB_RULES_DEFAULT_TIME_MS) * (int64_t)1000;
    r->load_us = (lim && lim->load_ms > 0 ? lim->load_ms : SB_RULES_DEFAULT_LOAD_MS) * (int64_t)1000;
    r->clock_us = lim && lim->clock_us ? lim->clock_us : sb_rules_mono_us;
    r->clock_ud = lim && lim->clock_us ? lim->clock_ud : NULL;
    /* the engine's chunks and every hook file's top level share one deadline */
    r->loading = 1;
    r->deadline = r->clock_us(r->clock_ud) + r->load_us;
    r->arena.max = SB_RULES_ARENA_MAX;
    r->page_ref = LUA_NOREF;
    for (int h = 0; h < SB_NHOOKS; h++) r->hook_ref[h] = r->default_ref[h] = LUA_NOREF;
    if (sb_rules_new_state(r, err) < 0) goto out;

    int is_default = sb_rules_is_default(pack_dir);
    if (is_default) {
        snprintf(r->name, sizeof r->name, "default");
    } else {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", pack_dir);
        size_t n = strlen(tmp);
        while (n > 1 && tmp[n - 1] == '/') tmp[--n] = 0;
        const char *base = strrchr(tmp, '/');
        snprintf(r->name, sizeof r->name, "%s", base ? base + 1 : tmp);
        DIR *d = opendir(pack_dir);
        if (!d) {
            sb_seterr(err, SB_EIO, "%s: %s", pack_dir, strerror(errno));
            goto out;
        }
        closedir(d);
    }

    sb_load_args la = {.r = r, .err = err, .pack_dir = pack_dir, .is_default = is_default,
                       .srcs = srcs, .lens = lens, .eff = eff, .problems = &problems};
    char msg[SB_ERRLEN];
    if (sb_rules_protect(r, sb_load_body, &la, 0, msg, sizeof msg) < 0)
        sb_buf_printf(&problems, "rules: %s\n", msg);
    if (problems.len) {
        problems.data[problems.len - 1] = 0;            /* the last newline */
        snprintf(err, sizeof err, "%s", problems.data);
        goto out;
    }

    /* hash: name, length and bytes of each effective hook, in hook order */
    unsigned char dig[32];
    unsigned int dlen = 0;
    md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) { sb_seterr(err, SB_ERR, "rules: sha256 unavailable"); goto out; }
    for (int h = 0; h < SB_NHOOKS; h++) {
        char hdr[64];
        int n = snprintf(hdr, sizeof hdr, "%s.lua %zu\n", sb_rules_hook_names[h], eff[h] ? lens[h] : 0);
        EVP_DigestUpdate(md, hdr, (size_t)n);
        if (eff[h]) EVP_DigestUpdate(md, eff[h], lens[h]);
    }
    EVP_DigestFinal_ex(md, dig, &dlen);
    for (unsigned i = 0; i < dlen && i < 32; i++) snprintf(r->hash + 2 * i, 3, "%02x", dig[i]);
    lua_gc(r->L, LUA_GCCOLLECT);
    ok = 1;
out:
    if (r) r->loading = 0;
    EVP_MD_CTX_free(md);
    for (int h = 0; h < SB_NHOOKS; h++) free(srcs[h]);
    if (!ok) {
        if (report && report_len) snprintf(report, report_len, "%s", problems.len ? problems.data : err);
        sb_rules_free(r);
        r = NULL;
    }
    sb_buf_free(&problems);
    return r;
}

void sb_rules_free(sb_rules *r) {
    if (!r) return;
    if (r->L) lua_close(r->L);
    sb_pool_free(r);
    for (int i = 0; i < r->nbranches; i++) free(r->branch_names[i]);
    free(r->branch_names);
    free(r->next_token);
    sb_arena_free(&r->arena);
    free(r);
}

const char *sb_rules_hash(const sb_rules *r) { return r ? r->hash : ""; }
const char *sb_rules_name(const sb_rules *r) { return r ? r->name : ""; }
const char *sb_rules_last_traceback(const sb_rules *r) { return r ? r->traceback : ""; }
size_t sb_rules_memory(const sb_rules *r) { return r ? r->mem : 0; }
