/* store/demo.h: what `sellerbridge demo` (engine/cli/cmd_demo.c) reads back to print: the
 * Amazon orders it downloaded, one row per part. The demo's other records go through the
 * modules of their kind (integrations, settings, credentials, the CSV import). Returns 0
 * or a negative code; a failing read is SB_EIO "what: message", never "no orders". */
#ifndef SB_STORE_DEMO_H
#define SB_STORE_DEMO_H
#include <stdint.h>
#include "store/store.h"

/* One part of an Amazon order as the demo's table shows it ("" where the row has none). */
typedef struct sb_store_demo_order {
    char order_ref[128], stage[24], amazon_status[32], branch[128], invoice_no[64];
    char why[512];              /* attention_reason, else rule_error */
    int split_no;
} sb_store_demo_order;

/* Calls cb for each part of integ's Amazon orders in order_ref then split order; a
 * non-zero return from cb stops the walk and is returned. */
int sb_store_demo_orders(sb_store *s, int64_t integ, int (*cb)(void *ctx, const sb_store_demo_order *o), void *ctx,
                         char *err);

#endif
