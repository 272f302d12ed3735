/* fix.h: a person's fix of a held order, shared by `orders fix` and the dashboard. */
#ifndef SB_SYNC_FIX_H
#define SB_SYNC_FIX_H
#include <stdint.h>
#include "store/store.h"

/* In one transaction: moves order ref (its first split) to branch (NULL = keep), moving
 * the stock its open lines reserve with it, and with resolve set clears the attention
 * (back to open, or dispatched if it was); records an audit row naming via ("cli",
 * "web"). Only open orders and orders needing attention can be fixed; resolving is refused
 * while a line's SKU is a product its line is not linked to (a retry links it: see
 * sb_orders_retry_for; `orders fix --resolve` runs that first). SB_EINVAL /
 * SB_ENOTFOUND with a message a person can act on. */
int sb_orders_fix(sb_store *s, int64_t integ, const char *ref, const char *branch, int resolve,
                  const char *via, char *err);

#endif
