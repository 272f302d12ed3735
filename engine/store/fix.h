/* store/fix.h: the records of held orders (engine/sync/fix.c and the retry in
 * engine/sync/orders.c decide, this reads and writes): which orders a retry runs again,
 * what keeps one held, and a person's fix (a branch chosen, a hold resolved) with its
 * audit row. Every function returns 0 or a negative code; a failing read is SB_EIO
 * "what: message", never "nothing there". */
#ifndef SB_STORE_FIX_H
#define SB_STORE_FIX_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

/* Calls cb for each Amazon order of integ (only ref when not NULL) a retry can run again:
 * held for a rule error or rejected (rule_error set), or kept with a line whose SKU now
 * names a product (unknown_sku set), in id order; raw is its Amazon JSON (NULL when its
 * page is gone), rule_held 1 for the first kind. ref and raw valid during the call. */
int sb_store_orders_held(sb_store *s, int64_t integ, const char *ref, int rule_error, int unknown_sku,
                         int (*cb)(void *ctx, const char *ref, const char *raw, int rule_held), void *ctx, char *err);
/* The first line of an open or held split of ref whose SKU is not a product: that SKU in
 * sku ("(none)" when the line has none), *found 1; else *found 0. */
int sb_store_order_unknown_sku(sb_store *s, int64_t integ, const char *ref, char *sku, size_t len, int *found,
                               char *err);
/* The stage and attention reason (or rule error) of ref's first split; "" when none. */
int sb_store_order_state(sb_store *s, int64_t integ, const char *ref, char *stage, size_t slen, char *why,
                         size_t wlen, char *err);

/* The first split of ref (any source), as a fix sees it: *id 0 when there is none. */
int sb_store_order_fix_target(sb_store *s, int64_t integ, const char *ref, int64_t *id, char *stage, size_t slen,
                              char *branch, size_t blen, char *err);
/* The first stock-bearing line of ref not linked to a product though its SKU now names
 * one: that SKU in sku, "" when none. */
int sb_store_order_unlinked_sku(sb_store *s, int64_t integ, const char *ref, char *sku, size_t len, char *err);
/* Row id moves to branch (its reservation is the caller's: sb_store_reserve_order). */
int sb_store_order_move(sb_store *s, int64_t id, const char *branch, char *err);
/* Row id's attention is resolved: open again, or dispatched when it was. */
int sb_store_order_resolve(sb_store *s, int64_t id, char *err);
/* The audit row of a person's decision about ref (hook 'person'). */
int sb_store_order_audit_person(sb_store *s, int64_t integ, const char *ref, const char *decision, char *err);

/* Orders of integ held on channel SKU sku: a line of it with no product (open or needing
 * attention), or held for a rule error / rejected with a line of it. The count, to cap: */
int sb_store_orders_on_sku_count(sb_store *s, int64_t integ, const char *sku, long cap, long *n, char *err);
/* cb for each of them in id order (ref valid during the call). */
int sb_store_orders_on_sku(sb_store *s, int64_t integ, const char *sku, int (*cb)(void *ctx, const char *ref),
                           void *ctx, char *err);

#endif
