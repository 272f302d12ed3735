/* products.h: the products download. Requests Amazon's GET_MERCHANT_LISTINGS_ALL_DATA
 * report per marketplace, reads it by column name (the column set varies by marketplace
 * and era), and imports the listings opened after products.last_updated: an existing SKU
 * gets its ASIN (and its title when it has none), a new SKU becomes a product. Every row
 * also records the listing's fulfillment channel (DEFAULT or AMAZON_*), which the stock
 * upload uses to leave Amazon-fulfilled offers alone.
 *
 * Bad rows (no seller-sku, an unreadable open-date, more fields than the header) are
 * skipped and reported with their line number. The whole report is imported in one
 * transaction, and products.last_updated moves to the latest open-date imported in
 * that same transaction: a failure leaves products and watermark as they were. */
#ifndef SB_SYNC_PRODUCTS_H
#define SB_SYNC_PRODUCTS_H
#include "sync/engine.h"

#define SB_PRODUCTS_MAX_PROBLEMS 20

typedef struct sb_products_result {
    long rows;                  /* data rows read */
    long created, linked;       /* new products; existing SKUs given an ASIN/title */
    long older;                 /* opened before the watermark: not imported */
    long bad;                   /* skipped rows */
    char problems[SB_PRODUCTS_MAX_PROBLEMS][160];   /* "line 7: ..." for the first bad rows */
    char watermark[32];         /* products.last_updated after the run */
} sb_products_result;

/* One run over every marketplace of the integration. */
int sb_sync_products(sb_engine *e, sb_products_result *res, char *err);

/* Imports one report's text (tab-separated, header row first) for marketplace_id (used
 * to read day/month order in dates). Used by sb_sync_products and by tests. */
int sb_products_import_tsv(sb_engine *e, const char *text, size_t len, const char *marketplace_id,
                           sb_products_result *res, char *err);

/* Parses a report open-date ("2026-03-01 10:00:00 UTC", "29/09/2025 16:19:39 BST",
 * "07/08/2016 10:12:40 PDT", ISO 8601) to epoch seconds; month_first for US-style
 * dates. -1 when unreadable. */
int64_t sb_products_parse_date(const char *s, int month_first);

#endif
