/* store/products.h: products as Amazon's listings report makes them (engine/sync/products.c
 * reads the report; this writes its rows), and the listings reports a products run has
 * requested and not yet read (sync_state.pending_reports). */
#ifndef SB_STORE_PRODUCTS_H
#define SB_STORE_PRODUCTS_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

/* One row of a listings report. chan is the fulfillment channel in capitals, "" when the
 * report has none; asin and name "" when empty (the stored value is kept). */
typedef struct sb_store_listing {
    const char *sku, *asin, *name, *chan;
    int64_t opened;             /* open-date, epoch s */
} sb_store_listing;

typedef enum {
    SB_LISTING_SKIPPED,         /* older than the watermark and nothing to change */
    SB_LISTING_CHANNEL,         /* older: only the fulfillment channel was brought up to date */
    SB_LISTING_LINKED,          /* newer, the SKU was there: ASIN, empty name and channel filled */
    SB_LISTING_CREATED          /* newer, a new product */
} sb_store_listing_outcome;

/* Applies one row: newer says the row is past the watermark. Call inside a transaction
 * (the run imports all its reports in one); statements are prepared once per store. */
int sb_store_product_listing(sb_store *s, const sb_store_listing *row, int newer, sb_store_listing_outcome *out,
                             char *err);

/* The pending reports kept for integ ("MP=ID;MP=ID;", "" when none) into buf (n bytes;
 * a longer value reads as none). */
int sb_store_pending_reports(sb_store *s, int64_t integ, char *buf, size_t n, char *err);
/* Keeps v ("" clears it). */
int sb_store_pending_reports_save(sb_store *s, int64_t integ, const char *v, char *err);

#endif
