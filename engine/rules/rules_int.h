/* rules_int.h: what the files of the rule host share and nobody else may include: the
 * sb_rules struct, the per-call arena, and the protected-call wrapper. Only engine/rules
 * includes lua.h. */
#ifndef SB_RULES_INT_H
#define SB_RULES_INT_H
#include <lua.h>
#include <lauxlib.h>
#include "rules/rules.h"

enum sb_hook { SB_HOOK_STATUS, SB_HOOK_VALIDATE, SB_HOOK_CUSTOMER, SB_HOOK_ROUTE,
               SB_HOOK_GL, SB_HOOK_STOCK, SB_NHOOKS };

extern const char *const sb_rules_hook_names[SB_NHOOKS];

/* Bump allocator for the strings and arrays handed out in sb_order / sb_decision.
 * Reset at the start of every sb_rules_* call (while decisions are kept, sb_rules_keep,
 * only when a page opens); bounded by max. */
typedef struct sb_arena_block {
    struct sb_arena_block *next;
    size_t used, cap;
    char data[];
} sb_arena_block;

typedef struct sb_arena {
    sb_arena_block *head;
    size_t total, max;
} sb_arena;

void *sb_arena_alloc(sb_arena *a, size_t n);        /* NULL past max */
char *sb_arena_strdup(sb_arena *a, const char *s, size_t n);
void sb_arena_reset(sb_arena *a);
void sb_arena_free(sb_arena *a);

#define SB_RULES_MAX_SEEN 32
#define SB_RULES_STOCK_CACHE 64     /* stock answers remembered per call */
#define SB_RULES_STOCK_KEY 64       /* longer SKUs or branch names are not remembered */

/* One stock answer of this call: stock() and available() ask the caller's callback (a
 * database query) once per SKU and branch per call, however often the rule asks. */
typedef struct sb_stock_memo {
    char sku[SB_RULES_STOCK_KEY], branch[SB_RULES_STOCK_KEY];
    unsigned char skulen, branchlen;
    int rc;                              /* 0 found, SB_ENOTFOUND */
    double soh, open;
} sb_stock_memo;

#define SB_POOL_CLASS 16
#define SB_POOL_MAX   256                /* blocks up to this size are pooled (host.c) */
#define SB_POOL_KEEP  ((size_t)1 << 20)  /* bytes kept on the free lists at most */

typedef struct sb_pool_block { struct sb_pool_block *next; } sb_pool_block;

/* Why a rule call was cut short (sb_rules.expired). */
enum sb_expiry { SB_EXP_NONE, SB_EXP_BUDGET, SB_EXP_TIME, SB_EXP_STOP };

#define SB_RULES_MAX_STRING ((size_t)1 << 20)   /* the longest string rule code can make */

struct sb_rules {
    lua_State *L;
    size_t mem;                          /* bytes the state holds */
    size_t mem_max;                      /* the pack's share (rules.memory_mb) */
    size_t engine_mem;                   /* held by the engine's own data: the open page */
    int oom_string;                      /* the last refusal was a string over SB_RULES_MAX_STRING */
    long budget, remaining;              /* instructions per call, and left in this call */
    int64_t time_us, load_us;            /* wall clock per hook call, and per pack load */
    int64_t deadline;                    /* of the call under way (clock microseconds) */
    int64_t (*clock_us)(void *ud);
    void *clock_ud;
    int loading;                         /* the pack's top-level code runs: load_us applies */
    volatile int *stop;                  /* the engine's stop flag (context), or NULL */
    int expired;                         /* enum sb_expiry of the call under way */
    char timeout_where[160];
    int hook_ref[SB_NHOOKS];             /* this pack's hook functions (registry refs) */
    int default_ref[SB_NHOOKS];          /* the embedded default pack's hooks */
    int api_ref, deep_ro_ref, normalize_ref, encode_ref, decode_ref, page_ref;
    char name[128];
    char hash[65];
    char *next_token;
    /* context (sb_rules_set_context): only what C itself needs is kept */
    const sb_lookup *lookup;
    char **branch_names;
    int nbranches;
    int have_context;
    sb_arena arena;
    int keep;                   /* sb_rules_keep: orders decided keep their strings */
    char traceback[2048];                /* of the last rule error */
    int64_t seen_ids[SB_RULES_MAX_SEEN]; /* customer ids the look-ups returned this call */
    int nseen;
    int in_rule;                         /* sb_rules_pcall calls under way */
    sb_pool_block *pool[SB_POOL_MAX / SB_POOL_CLASS]; /* free small blocks by 16-byte class */
    size_t pool_bytes;
    sb_stock_memo stock_memo[SB_RULES_STOCK_CACHE];
    int nstock_memo;                     /* emptied by every sb_rules_pcall */
};

/* Calls the function below nargs arguments on the stack under the instruction budget,
 * with a traceback message handler. Stack: [-(nargs+1), +nres] on success, [-(nargs+1), +0]
 * on error. On error returns SB_ERULE and msg holds "file:line: message" (the "rules/"
 * prefix dropped; file used when the message names no position). */
int sb_rules_pcall(sb_rules *r, int nargs, int nres, const char *file, char *msg, size_t msglen);

/* The same stack contract for the engine's own trusted Lua (normalize, cjson encode and
 * decode; never rule code): runs without the count hook, so without a budget and without
 * the per-instruction cost a count hook brings; the hook is restored after, on error too.
 * Called while a rule runs (from a C function a rule can reach) it keeps the hook and the
 * rule's budget. Memory errors read "rules: out of memory (limit N bytes)". */
int sb_rules_pcall_trusted(sb_rules *r, int nargs, int nres, char *msg, size_t msglen);

/* Charges cost instructions' worth of C library work to the rule call under way and checks
 * its clock and the stop flag; raises the expiry when one is spent (never returns then).
 * Outside rule code it does nothing. [-0, +0, e] */
void sb_rules_charge(lua_State *L, long cost);

/* Runs fn(L) as a protected call with ud (a light userdata at index 1) and the nargs
 * values on top of the stack (at 2..) as its arguments: every Lua API call the host makes
 * on a state runs under one, so no error (a rule's metamethod, a memory error) ever
 * reaches the panic handler. Returns 0, or SB_ERULE / SB_ENOMEM with "message" in msg.
 * [-nargs, +0] */
int sb_rules_protect(sb_rules *r, lua_CFunction fn, void *ud, int nargs, char *msg, size_t msglen);

/* bounded.c: puts bounded versions of the C library functions that could otherwise run
 * unbounded (string.rep, find, match, gmatch, gsub, format; table.concat, insert, remove,
 * move, unpack, sort; utf8; tonumber; cjson.encode and decode) in place of the originals
 * in the loaded libraries at the top of the stack: [string, table, utf8, base, cjson].
 * [-0, +0] */
void sb_rules_open_bounded(lua_State *L, int string_idx, int table_idx, int utf8_idx, int base_idx, int cjson_idx);

/* t[k] with raw access: no metamethod runs while C reads what a rule returned.
 * [-0, +1] returns the type */
static inline int sb_rawfield(lua_State *L, int t, const char *k) {
    t = lua_absindex(L, t);
    lua_pushstring(L, k);
    return lua_rawget(L, t);
}

/* lookup.c: installs the look-up functions into the API table at the top of the stack.
 * [-0, +0] */
void sb_rules_open_lookups(sb_rules *r, lua_State *L);
int sb_rules_seen_id(const sb_rules *r, int64_t id);
int sb_rules_branch_exists(const sb_rules *r, const char *name);

/* t[k] as a number, 0 when absent or not a number (raw access). [-0, +0] */
static inline double sb_rules_num(lua_State *L, int t, const char *k) {
    sb_rawfield(L, t, k);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    return v;
}

/* The host that owns L (kept in the state's extra space). */
static inline sb_rules *sb_rules_of(lua_State *L) {
    return *(sb_rules **)lua_getextraspace(L);
}

#endif
