/* fix.h: a person's fix of a held order, shared by `orders fix` and the dashboard. */
#ifndef SB_SYNC_FIX_H
#define SB_SYNC_FIX_H
#include <stdint.h>
#include "store/store.h"
#include "sync/orders.h"

/* In one transaction: moves order ref (its first split) to branch (NULL = keep), moving
 * the stock its open lines reserve with it, and with resolve set clears the attention
 * (back to open, or dispatched if it was); records an audit row naming via ("cli",
 * "web"). Only open orders and orders needing attention can be fixed; resolving is refused
 * while a line's SKU is a product its line is not linked to (a retry links it: see
 * sb_orders_retry_for; `orders fix --resolve` runs that first). SB_EINVAL /
 * SB_ENOTFOUND with a message a person can act on. */
int sb_orders_fix(sb_store *s, int64_t integ, const char *ref, const char *branch, int resolve,
                  const char *via, char *err);

/* The retry (sb_orders_retry_for with kinds) of every order of e's integration held with
 * a line of channel SKU sku: kept for it as not a product (open or needing attention),
 * or held for a rule error or rejected. One transaction per order; out sums them. */
int sb_orders_retry_sku(sb_engine *e, const char *sku, int kinds, sb_orders_retry_result *out, char *err);
/* Orders of integration integ that sb_orders_retry_sku(sku) would re-run (counted to cap). */
long sb_orders_count_sku(sb_store *s, int64_t integ, const char *sku, long cap);

/* After a SKU alias was stored (store/aliases.h): the orders of every integration kept
 * for a SKU that now names a product are stored again (lines linked, stock reserved,
 * hooks run, holds released; sb_orders_retry_for, SB_RETRY_UNKNOWN_SKU), one engine per
 * integration opened on s. stop (may be NULL) ends it between orders. out sums them. */
int sb_orders_release_linked(sb_store *s, const char *db_path, volatile int *stop,
                             sb_orders_retry_result *out, char *err);

#endif
