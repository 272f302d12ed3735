/* rules.h: the Lua rule host. A rule pack is a folder of hook files (status.lua,
 * validate.lua, customer.lua, route.lua, gl.lua, stock.lua); a missing hook is inherited
 * from the default pack, which is compiled into the binary. One sb_rules is one loaded
 * pack generation in its own sandboxed lua_State: build a new one, and swap it in only if
 * sb_rules_load succeeded.
 *
 * The host also decodes Amazon's JSON (lua-cjson) and normalises orders (trusted engine
 * Lua in engine/rules/normalize.lua), so an order goes from page bytes to decisions
 * without leaving the state. Nothing here touches SQLite: look-ups come through sb_lookup
 * callbacks supplied by the caller. Not thread-safe: one sb_rules per thread. */
#ifndef SB_RULES_H
#define SB_RULES_H
#include <stddef.h>
#include <stdint.h>
#include "core/order.h"

typedef struct sb_rules sb_rules;

/* What a pack may spend. Every limit holds inside the C library a rule calls too (its
 * work is charged to the instruction budget, and the clock is read as it goes), so a rule
 * that hits one returns within a few milliseconds of it. */
typedef struct sb_rules_limits {
    long instructions;          /* per hook call; 0 = default (1,000,000) */
    size_t memory_bytes;        /* the pack's share of the state; 0 = default (32 MiB) */
    long time_ms;               /* wall clock per hook call; 0 = default (200) */
    long load_ms;               /* wall clock for a pack's top-level code; 0 = default (500) */
    /* the clock those two read, monotonic microseconds; NULL = CLOCK_MONOTONIC (tests
     * install one that moves as they say) */
    int64_t (*clock_us)(void *ud);
    void *clock_ud;
} sb_rules_limits;

typedef struct sb_product_info {
    const char *sku, *asin, *name;
    int batch_tracked, serial_tracked, is_kit;
    double buffer;
    int latency;                /* handling-time override, 0 = none */
} sb_product_info;

typedef struct sb_customer_info {
    int64_t id;
    const char *ref, *channel_id, *email, *name, *group;
} sb_customer_info;

/* Read-only look-ups. Each returns 0 when found, SB_ENOTFOUND when not, another
 * negative code when it could not look (the database could not be read: the rule fails,
 * never reads it as "not found"); the strings it fills stay valid until the next call of
 * the same callback. */
typedef struct sb_lookup {
    void *ud;
    /* stock of sku at branch: on hand, and quantity on open (undispatched) orders */
    int (*stock)(void *ud, const char *sku, const char *branch, double *soh, double *open);
    int (*product)(void *ud, const char *sku, sb_product_info *out);
    int (*customer_by_id)(void *ud, const char *channel_id, sb_customer_info *out);
    int (*customer_by_email)(void *ud, const char *email, sb_customer_info *out);
    int (*customer_by_ref)(void *ud, const char *ref, sb_customer_info *out);
    /* these two answer 1 when the GL account / customer group exists, 0 when not, a
     * negative code when they could not look */
    int (*gl_exists)(void *ud, const char *code);
    int (*group_exists)(void *ud, const char *name);
} sb_lookup;

typedef struct sb_branch_info {
    const char *name, *country, *state;
} sb_branch_info;

/* One setting as the rules see it: type 'b' boolean, 'i' integer, 's' string,
 * 'j' JSON text (lists, the routing grid) decoded into a table. */
typedef struct sb_setting_value {
    const char *name;           /* e.g. "orders.customer_mode" */
    char type;
    const char *value;          /* NULL or "" = not set (nil in Lua) */
} sb_setting_value;

typedef struct sb_rules_ctx {
    const char *integration;
    const sb_setting_value *settings;
    int nsettings;
    const sb_branch_info *branches;
    int nbranches;
    const char *today;          /* "YYYY-MM-DD" in the integration's time zone */
    const sb_lookup *lookup;
    /* set by a signal handler: a rule running when it is set stops at once and the call
     * returns SB_EINTR (the order is not decided; nothing is held). NULL: none. */
    volatile int *stop;
} sb_rules_ctx;

/* Loads pack_dir (NULL or "default" for the embedded default pack), checks every hook
 * compiles and returns a function. On failure returns NULL and err says
 * "file:line: message" for each problem. */
sb_rules *sb_rules_load(const char *pack_dir, const sb_rules_limits *lim, char *err);
void sb_rules_free(sb_rules *r);
/* SHA-256 hex of the pack's effective hook sources (after inheritance). */
const char *sb_rules_hash(const sb_rules *r);
const char *sb_rules_name(const sb_rules *r);

/* Sets the context for the calls that follow (copied; lookup pointer kept). */
int sb_rules_set_context(sb_rules *r, const sb_rules_ctx *ctx, char *err);

/* Decodes one searchOrders response body. On success *norders is the number of orders
 * and *next_token the pagination token (NULL on the last page; valid until the next
 * page_open). A body that is not valid JSON or lacks "orders" fails as a whole. */
int sb_rules_page_open(sb_rules *r, const char *body, size_t len, int *norders,
                       const char **next_token, char *err);
/* Normalises order i of the open page and runs the order hooks. Returns 0 with *dec
 * filled (dec->error set when a hook failed: the order is still returned, held), or a
 * negative code when the order itself cannot be normalised (err names the order id and
 * the field); *order is then filled as far as possible, with raw_json re-encoded so the
 * order can be kept for a person whatever is wrong with it. order->page_index = i. */
int sb_rules_page_order(sb_rules *r, int i, sb_order *order, sb_decision *dec, char *err);
/* Keeping decisions: from sb_rules_keep(r, 1) on, the orders and decisions that
 * sb_rules_page_order fills stay valid together, not only until the next call, so a
 * caller can decide several orders of the open page and then store them together. Every
 * call of sb_rules_keep forgets what was kept (and its memory); on 0 each call again
 * keeps only its own. sb_rules_kept_bytes: the memory the kept ones hold (the arena is
 * bounded, so a caller stores them before it fills). Opening a page forgets too. */
void sb_rules_keep(sb_rules *r, int on);
size_t sb_rules_kept_bytes(const sb_rules *r);
/* The same for one order object as JSON text (a stored order being re-run). */
int sb_rules_order_json(sb_rules *r, const char *json, size_t len, sb_order *order,
                        sb_decision *dec, char *err);

/* The stock hook: what quantity to send for one SKU. */
typedef struct sb_stock_branch {
    const char *branch;
    double soh, open, open_etd7, open_etd30, open_no_etd;
} sb_stock_branch;

typedef struct sb_stock_input {
    const char *sku;
    double buffer;
    int nbranches;              /* the branches the settings select (all when none) */
    const sb_stock_branch *branches;
} sb_stock_input;

/* Returns 0 and *qty (an integer >= 0), or SB_ERULE with err "stock.lua:7: ...". */
int sb_rules_stock(sb_rules *r, const sb_stock_input *in, long *qty, char *err);

/* Additions (after the first contract):
 * sb_rules_load_ex: as sb_rules_load, with a caller-sized report buffer so `rules check`
 * can show every problem (one "file:line: message" per line).
 * sb_rules_last_traceback: the Lua traceback of the last rule error (or its message when
 * the decision, not the code, was wrong); valid until the next call.
 * sb_rules_memory: bytes the pack's Lua state holds now. */
sb_rules *sb_rules_load_ex(const char *pack_dir, const sb_rules_limits *lim, char *report, size_t report_len);
const char *sb_rules_last_traceback(const sb_rules *r);
size_t sb_rules_memory(const sb_rules *r);

#endif
