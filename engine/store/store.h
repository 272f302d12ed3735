/* store.h: the SQLite database: opening it (WAL, foreign keys, busy timeout), forward
 * migrations, transactions, and the integration a command works on. sb_store is opaque:
 * each kind of record has its module in engine/store with typed functions (stock.h,
 * tracking.h, listing.h, ...), and only those modules see the connection (store_int.h).
 * Nothing here knows about Lua or HTTP. */
#ifndef SB_STORE_H
#define SB_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "sellerbridge.h"

typedef struct sb_store sb_store;

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
/* BEGIN (deferred): a read that sees one snapshot, ended by sb_store_rollback. */
int sb_store_begin_read(sb_store *s, char *err);
void sb_store_rollback(sb_store *s);
/* One part of an open transaction that can be taken back alone (a SAVEPOINT): the order
 * pass writes a batch of orders in one transaction, each order a part, so an order that
 * fails leaves the ones before it to be committed. sb_store_part_end keeps the part's
 * writes in the transaction; sb_store_part_undo takes them back and ends it. */
int sb_store_part_begin(sb_store *s, char *err);
int sb_store_part_end(sb_store *s, char *err);
void sb_store_part_undo(sb_store *s);
/* The wall clock as "2026-11-27T11:03:07Z", exactly what strftime('%Y-%m-%dT%H:%M:%SZ',
 * 'now') gives (the stock job compares the two), formatted once a second: statements run
 * per order or line bind it instead of evaluating strftime for every row, which cost
 * about a microsecond a row. */
const char *sb_store_now(sb_store *s);
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
