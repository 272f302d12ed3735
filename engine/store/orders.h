/* store/orders.h: the order pass's records (engine/sync/order_apply.c decides what to
 * write, this reads and writes): sales order rows and their lines, the stock a line
 * reserves or an auto-dispatch takes, customers an order creates or updates, audit rows,
 * invoice numbers, the raw pages orders keep their Amazon JSON in, and the window a pass
 * has in progress.
 *
 * Crash safety, as the pass relies on it: every write here happens inside the caller's
 * transaction for one order (sb_store_begin .. sb_store_commit), so an order is whole or
 * absent after a crash. Statements run per order or per line come from the connection's
 * cache (sb_store_cached); the ones a pass runs once are prepared and finalized. Every
 * function returns 0 or a negative code; a failing read is SB_EIO "what: message", never
 * "nothing there". */
#ifndef SB_STORE_ORDERS_H
#define SB_STORE_ORDERS_H
#include <stddef.h>
#include <stdint.h>
#include "core/order.h"
#include "store/store.h"

/* Where a row keeps Amazon's JSON of the order: its own text (json), or its place in a
 * raw_pages row (page_id > 0, index), or nowhere (json NULL, page_id 0). */
typedef struct sb_store_raw_place {
    const char *json;
    int64_t page_id;
    int index;
} sb_store_raw_place;

/* One sales order row (one split of an Amazon order). The order's own fields come from o
 * (status, times, buyer, delivery address, currency); total and shipping are the split's
 * (split 0 carries them). NULL or "" is stored as NULL. */
typedef struct sb_store_order_row {
    int64_t integ;
    const char *ref;
    int split_no;
    const sb_order *o;
    const char *stage, *branch, *distribution_branch, *gl_account;
    int64_t customer_id;        /* 0: none */
    const char *invoice_no, *invoice_date;
    const char *total, *shipping_total;
    const char *attention_reason, *rule_error, *pack_hash;
    const char *now;
    sb_store_raw_place raw;
} sb_store_order_row;
int sb_store_order_add(sb_store *s, const sb_store_order_row *r, int64_t *id, char *err);

/* The first row (split 0) of Amazon order ref: *id 0 when there is none. */
int sb_store_order_first(sb_store *s, int64_t integ, const char *ref, int64_t *id, char *stage, size_t slen,
                         char *err);
/* Deletes every row of ref, releasing the stock each reserves first. */
int sb_store_order_remove(sb_store *s, int64_t integ, const char *ref, char *err);
/* The stage of row id, and its attention reason unless reason is NULL (kept then). */
int sb_store_order_stage(sb_store *s, int64_t id, const char *stage, const char *reason, const char *now, char *err);
/* The light refresh of row id: Amazon's status and lastUpdatedTime and where its JSON is. */
int sb_store_order_refresh(sb_store *s, int64_t id, const char *status, const char *updated,
                           const sb_store_raw_place *raw, const char *now, char *err);
/* Which path brought ref (download, notification), on its rows that have none yet. */
int sb_store_order_came_by(sb_store *s, int64_t integ, const char *ref, const char *how, char *err);
/* The integration's next invoice number, taken: *no 0 when there is no integration row. */
int sb_store_invoice_next(sb_store *s, int64_t integ, long long *no, char *err);

/* One line of a row. */
typedef struct sb_store_order_line {
    int64_t order_id;
    int line_no;
    const char *item_id, *sku, *asin, *title;
    int64_t product_id;         /* 0: not a product */
    double qty;
    const char *unit_price, *line_total, *kit_sku;
    int stock_bearing;
} sb_store_order_line;
int sb_store_order_line_add(sb_store *s, const sb_store_order_line *l, char *err);
/* Line line_no of row id carries stock after all (a kit with no components). */
int sb_store_order_line_bears(sb_store *s, int64_t id, int line_no, char *err);

/* The product a channel SKU names (its own SKU, else a person's alias of it). */
typedef struct sb_store_order_product {
    int found;
    int64_t id;
    int tracked, kit;           /* batch or serial tracked; sold as a kit */
} sb_store_order_product;
int sb_store_order_product_of(sb_store *s, const char *sku, sb_store_order_product *p, char *err);
/* Calls cb for each component of kit, in SKU order; sku and name valid during the call. */
int sb_store_order_bom(sb_store *s, int64_t kit, int (*cb)(void *ctx, int64_t product, const char *sku,
                       const char *name, double qty), void *ctx, char *err);

/* *ok 1 when every stock-bearing line of row id is an untracked product with enough
 * stock free (on hand less reserved) at branch; *ok is left 0 otherwise. */
int sb_store_order_can_dispatch(sb_store *s, int64_t id, const char *branch, int *ok, char *err);
/* Dispatches all of row id at once (auto-dispatch): each open stock-bearing line takes
 * its stock at branch (sb_store_stock_take), every line is dispatched, the row becomes
 * dispatched at now, auto_dispatched. */
int sb_store_order_auto_dispatch(sb_store *s, int64_t id, const char *branch, const char *now, char *err);

/* A customer as an order gives it (NULL or "" fields are NULL). */
typedef struct sb_store_buyer {
    const char *key;            /* the channel's customer id */
    const char *email, *name, *company, *phone, *address1, *address2, *city, *state, *postcode, *country;
    const char *group;          /* a new customer's group by name, NULL none */
} sb_store_buyer;
int sb_store_customer_add(sb_store *s, int64_t integ, const sb_store_buyer *c, const char *now, int64_t *id,
                          char *err);
/* Updates customer id with the fields of c that are set (the key only when it has none);
 * wall: the integration whose own or imported customers it may be (-1: any). *changed 0
 * when id is not such a customer. */
int sb_store_customer_update(sb_store *s, int64_t id, const sb_store_buyer *c, int64_t wall, const char *now,
                             int *changed, char *err);

/* The audit of ref: its n entries (at most SB_MAX_AUDIT are written) as one write, which
 * the view audit reads as one row per entry. */
int sb_store_order_audit(sb_store *s, int64_t integ, const char *ref, const char *pack_hash, const char *now,
                         const sb_audit_entry *a, int n, char *err);

/* A page of orders kept whole: its row id. */
int sb_store_raw_page_add(sb_store *s, int64_t integ, const char *body, size_t len, int orders, int64_t *id,
                          char *err);
/* Orders of a page fewer than a quarter of its orders still point at take their own copy
 * of their JSON; pages no order points at any more go. */
int sb_store_raw_pages_tidy(sb_store *s, int64_t integ, char *err);

/* The rows (splits) of ref as stored, in split order. */
typedef struct sb_store_order_split {
    int64_t id;
    char stage[24], inv[32], inv_date[16], branch[128];
    int dispatched, some_left;  /* all of it left / some line has left */
} sb_store_order_split;
/* The first max rows of ref into out (more are not read). */
int sb_store_order_stored(sb_store *s, int64_t integ, const char *ref, sb_store_order_split *out, int max, int *n,
                          char *err);

/* What row id keeps of Amazon's order, compared when it comes again (SB_KEPT_*, core/order.h): */
/* kept[i] (NULL for NULL) are the caller's to free (sb_store_order_kept_free); SB_ENOTFOUND
 * when the row is gone. */
int sb_store_order_kept(sb_store *s, int64_t id, char *kept[SB_KEPT_N], char *err);
void sb_store_order_kept_free(char *kept[SB_KEPT_N]);
/* Calls cb for each line of ref as Amazon sent it (kit components are ours), summed over
 * the splits, by item id then SKU; item is "" when Amazon gave none. */
int sb_store_order_top_lines(sb_store *s, int64_t integ, const char *ref,
                             int (*cb)(void *ctx, const char *item, const char *sku, double qty, const char *price),
                             void *ctx, char *err);
/* Calls cb with the SKU of each line the stored rows of ref have (kit components
 * included; a SKU may come twice): the stock that storing ref again, cancelling or
 * releasing it can change. */
int sb_store_order_skus(sb_store *s, int64_t integ, const char *ref, int (*cb)(void *ctx, const char *sku), void *ctx,
                        char *err);
/* Calls cb for each SKU of ref some of which has left the warehouse: dispatched of qty. */
int sb_store_order_left_lines(sb_store *s, int64_t integ, const char *ref,
                              int (*cb)(void *ctx, const char *sku, double dispatched, double qty), void *ctx,
                              char *err);
/* What people decided by hand about ref (sb_orders_fix's audit rows): the last branch a
 * person chose (branch[0] 0: none) and whether a person released it. */
int sb_store_order_person(sb_store *s, int64_t integ, const char *ref, char *branch, size_t len, int *released,
                          char *err);

/* The window an orders pass has in progress (sync_state). */
typedef struct sb_store_orders_resume {
    int found;
    char after[32], before[32], saved_at[32];
    char token[4096];           /* "" when it does not fit */
    long pages;
} sb_store_orders_resume;
int sb_store_orders_resume_get(sb_store *s, int64_t integ, sb_store_orders_resume *r, char *err);
/* token NULL: none (after, before, saved_at are not stored then). */
int sb_store_orders_resume_set(sb_store *s, int64_t integ, const char *after, const char *before, const char *token,
                               const char *saved_at, long pages, char *err);

/* The rows whose reserved stock differs from the open lines' (see sb_orders_check_reserved):
 * *n of them, described in report. */
int sb_store_orders_reserved_check(sb_store *s, char *report, size_t len, int *n, char *err);

#endif
