/* store.h: the SQLite database: opening it (WAL, foreign keys, busy timeout), forward
 * migrations, transactions, and the integration a command works on. Modules that keep
 * data (settings, csvio, sync) run their own SQL on sb_store.db; this module owns the
 * connection and the schema. Nothing here knows about Lua or HTTP. */
#ifndef SB_STORE_H
#define SB_STORE_H
#include <stdint.h>
#include <sqlite3.h>
#include "sellerbridge.h"

#define SB_STORE_CACHE 128

typedef struct sb_store {
    sqlite3 *db;
    char *path;
    int lock_fd;                /* engine lock (sb_store_lock_engine), -1 if not held */
    struct { const char *sql; sqlite3_stmt *st; } cache[SB_STORE_CACHE];  /* sb_store_cached */
    int ncached;
    int64_t now_sec;            /* sb_store_now's second, and its text */
    char now_str[24];
} sb_store;

enum {
    SB_STORE_CREATE = 1,        /* create the file and schema when missing (init) */
    SB_STORE_NO_MIGRATE = 2     /* open as it is (tests of migrations) */
};

/* Opens path; without SB_STORE_CREATE a missing file is an error that says to run
 * `sellerbridge init`. Migrates an older schema in place; refuses a newer one
 * (SB_ESCHEMA). */
int sb_store_open(const char *path, int flags, sb_store **out, char *err);
void sb_store_close(sb_store *s);

int sb_store_schema_version(void);          /* the version this program writes */
const char *sb_store_migration(int n);      /* SQL of migration n (1-based) */
/* Runs migrations user_version+1 .. target (target 0 = latest). */
int sb_store_migrate(sb_store *s, int target, char *err);
int sb_store_user_version(sb_store *s);

int sb_store_begin(sb_store *s, char *err);   /* BEGIN IMMEDIATE */
int sb_store_commit(sb_store *s, char *err);
void sb_store_rollback(sb_store *s);
int sb_store_exec(sb_store *s, const char *sql, char *err);
/* Prepares sql; on failure err has SQLite's message. */
int sb_store_prepare(sb_store *s, const char *sql, sqlite3_stmt **st, char *err);
/* For statements run per order or per line: prepared once per store, keyed by the
 * address of sql (a static string), finalized by sb_store_close. *st comes reset with
 * its bindings cleared; the caller resets it when done and never finalizes it. */
int sb_store_cached(sb_store *s, const char *sql, sqlite3_stmt **st, char *err);
/* Runs sql (a write that returns no row) with ?1 = integ and ?2 = name; a failure is
 * SB_EIO with "what: message". For the per-(integration, name) rows: settings,
 * credentials. */
int sb_store_run_named(sb_store *s, const char *sql, int64_t integ, const char *name, const char *what, char *err);
/* The wall clock as "2026-11-27T11:03:07Z", exactly what strftime('%Y-%m-%dT%H:%M:%SZ',
 * 'now') gives (the stock job compares the two), formatted once a second: statements run
 * per order or line bind it instead of evaluating strftime for every row, which cost
 * about a microsecond a row. */
const char *sb_store_now(sb_store *s);
/* Formats the current SQLite error as "what: message" into err and returns SB_EIO. */
int sb_store_error(sb_store *s, const char *what, char *err);
/* Column i of the current row as text into out (n bytes, cut to fit); "" when NULL. */
void sb_store_col_text(sqlite3_stmt *st, int i, char *out, size_t n);

/* The integration a command works on: by name, or when name is NULL the only one
 * (an error names the choices when there are several). */
int sb_store_integration(sb_store *s, const char *name, int64_t *id, char *name_out,
                         size_t name_len, char *err);
int sb_store_integration_add(sb_store *s, const char *name, int64_t *id, char *err);

/* One engine per database: takes an exclusive lock on "<db>.lock". SB_EBUSY with a
 * message naming the holder's pid when another engine runs. */
int sb_store_lock_engine(sb_store *s, char *err);
/* 1 when an engine holds the lock (*pid its process id, 0 if unknown), else 0. */
int sb_store_engine_running(sb_store *s, long *pid);

/* Adds delta to the stock reserved for product at branch (creating the stock row with
 * nothing on hand when missing). Open order lines reserve; cancelling or dispatching
 * them releases. Call inside the transaction that changes the order. */
int sb_store_reserve(sb_store *s, int64_t product_id, const char *branch, double delta, char *err);

/* Adds sign x what order_id still holds back (qty - dispatched of its stock-bearing lines
 * with a product) to the stock reserved at branch (NULL: the order's own branch). Only an
 * order that reserves at all counts: stage open or needs_attention, not fulfilled by
 * Amazon; the same definition sb_orders_check_reserved checks. sign +1 reserves, -1
 * releases. Call inside the transaction that changes the order. */
int sb_store_reserve_order(sb_store *s, int64_t order_id, const char *branch, int sign, char *err);

/* Row look-ups used by several modules (engine/store/lookup.h has the ones that tell a
 * failed read from "not found"). sb_store_branch_exists reads a failure as 0. */
int sb_store_branch_exists(sb_store *s, const char *name);
int sb_store_branch_names(sb_store *s, char *out, size_t outlen);   /* "A, B, C" */

#endif
