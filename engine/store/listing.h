/* store/listing.h: the orders as people look at them (engine/views shows them): the
 * list with its filters and a total, the orders held for a person (needs attention,
 * rule errors, rejected) by reason, and one order's splits, lines, shipments and every
 * rule decision on it. Read-only.
 *
 * Rows come as sb_store_row (store/rows.h), one callback per row, with the columns named
 * below; a total counts up to a cap (counting a million orders would cost a second). Every
 * function returns 0, the callback's non-zero, or SB_EIO "what: message" when the
 * database cannot answer: never a short list. */
#ifndef SB_STORE_LISTING_H
#define SB_STORE_LISTING_H
#include <stdint.h>
#include "store/rows.h"

/* The filters of the order list; NULL is any. search is the order id, the buyer's name
 * or e-mail, or a SKU of its lines, as a substring ('%' and '_' taken literally); from
 * and to the first and last day (YYYY-MM-DD) the order was made (Amazon's purchase date). */
typedef struct sb_store_order_filter {
    const char *stage, *status, *search, *from, *to;
} sb_store_order_filter;

/* The orders of integ that pass f, counted up to cap. */
int sb_store_orders_count(sb_store *s, int64_t integ, const sb_store_order_filter *f, long cap, long *total, char *err);
/* The page of them newest first (by row id): order, split, stage, status, branch,
 * fulfilled_by, total, currency, customer, invoice_no, problem, country, created, updated,
 * dispatched_at, came_by (download, notification, import). */
int sb_store_orders_page(sb_store *s, int64_t integ, const sb_store_order_filter *f, long limit, long offset,
                         sb_store_row_fn fn, void *ctx, char *err);

/* Why an order is held: any of them, a stock-bearing line no product has (needs
 * attention), a rule error, rejected by the rules, or needs attention for another reason. */
typedef enum { SB_HELD_ANY, SB_HELD_UNKNOWN_SKU, SB_HELD_RULE_ERROR, SB_HELD_REJECTED, SB_HELD_OTHER } sb_store_held;

/* The held orders of integ for why with a line of sku (NULL: any), counted up to cap. */
int sb_store_held_count(sb_store *s, int64_t integ, sb_store_held why, const char *sku, long cap, long *n, char *err);
/* Their page, newest first: the order list's columns, then pack_hash and unknown_sku (the
 * first stock-bearing line without a product, or NULL). */
int sb_store_held_page(sb_store *s, int64_t integ, sb_store_held why, const char *sku, long limit, long offset,
                       sb_store_row_fn fn, void *ctx, char *err);
/* The held orders (any stage of them) with a stock-bearing line no product has, up to cap. */
int sb_store_held_waiting(sb_store *s, int64_t integ, long cap, long *n, char *err);
/* The SKUs no product has on lines of orders needing attention, with how many orders
 * wait on each, most first, at most max of them. */
int sb_store_held_skus(sb_store *s, int64_t integ, int max, sb_store_count_fn fn, void *ctx, char *err);

/* The splits of order ref (an Amazon or imported order of integ), by split: id, order,
 * split, stage, status, branch, distribution_branch, fulfilled_by, service_level,
 * programs, marketplace, created, updated, customer_ref, customer, buyer_email,
 * gl_account, invoice_no, invoice_date, payment_type, total, shipping_total, currency,
 * ship_name, ship_city, ship_state, ship_postal, ship_country, etd, attention,
 * rule_error, pack_hash, dispatched_at, auto_dispatched, came_by. */
int sb_store_order_splits(sb_store *s, int64_t integ, const char *ref, sb_store_row_fn fn, void *ctx, char *err);
/* A split's lines by line number: line, item_id, sku, asin, title, qty, dispatched,
 * unit_price, line_total, kit_sku, stock_bearing. */
int sb_store_order_lines(sb_store *s, int64_t order_id, sb_store_row_fn fn, void *ctx, char *err);
/* A split's packages in order: carrier, service, tracking, shipped_at, confirm_state,
 * lines (their JSON text). */
int sb_store_order_shipments(sb_store *s, int64_t order_id, sb_store_row_fn fn, void *ctx, char *err);
/* Every rule decision on ref, oldest first: at, hook, pack_hash, decision (JSON text),
 * said (what Amazon changed as a sentence, for hook 'amazon'; else NULL). */
int sb_store_order_decisions(sb_store *s, int64_t integ, const char *ref, sb_store_row_fn fn, void *ctx, char *err);

#endif
