/* stock.h: the stock upload job. For each merchant-fulfilled product whose stock may
 * have changed, gather per-branch figures, ask the stock rule (stock.lua) for the
 * quantity, and send quantity together with the handling time
 * (fulfillment_availability: quantity + lead_time_to_ship_max_days) for the SKUs whose
 * (quantity, handling time) differs from what Amazon last accepted.
 *
 * The one idea: stock_sent holds, per SKU, what Amazon last accepted and the outcome of
 * the last attempt. A SKU is sent when its computed pair differs from the accepted one or
 * its last attempt failed; a repeated run with nothing changed sends nothing.
 *
 * Which SKUs are looked at: products with stock or product rows updated after
 * stock.last_updated, SKUs marked by sb_stock_mark_dirty, SKUs never accepted or whose
 * last attempt failed; all of them when the inputs changed (formula, branches, buffer,
 * handling time, FBA branch or rule pack). Offers whose listing's fulfillment channel is
 * Amazon's (AMAZON_*, from the listings report) are never sent: that stock is Amazon's.
 * A product with no known channel is treated as merchant-fulfilled. With
 * orders.bom_expand on (orders reserve a kit's components), a kit's figures are the whole
 * kits its components make (see stock.c, kit_figures) and a change of a component or of
 * the BOM makes the kit a candidate; a kit without a BOM is reported and not sent. With
 * it off, a kit is a SKU like any other (orders reserve the kit itself).
 *
 * Few SKUs (<= stock.patch_threshold) go by patchListingsItem, one each; more go by
 * JSON_LISTINGS_FEED, one feed per 25,000 messages.
 *
 * A feed is created once: its intent (document id, SKUs, quantities, time) is committed
 * in stock_sent (pending_document) before createFeed. After an ambiguous createFeed
 * (SB_EAMBIG) or, at the next run, an intent left by a crash, the feed is looked for on
 * Amazon (getFeeds by type, marketplace and creation time, less the feeds this engine
 * recorded as its own in feeds_created) before another is created; a feed found that way
 * is followed like any other, none found means it was not created and the SKUs go again. */
#ifndef SB_SYNC_STOCK_H
#define SB_SYNC_STOCK_H
#include <stdint.h>
#include "sync/engine.h"

#define SB_STOCK_FEED_MAX 25000

/* Marks sku as needing a stock sync at the next run (the order download calls this for
 * every SKU whose reservation or stock it changed). Cheap; call inside the caller's
 * transaction. */
int sb_stock_mark_dirty(sb_store *s, int64_t integ, const char *sku, char *err);

typedef struct sb_stock_item {
    int64_t product;
    char *sku;
    long qty;
    int latency;
    int has_prev;               /* stock_sent has an accepted pair */
    long prev_qty;
    int prev_latency;
    int prev_failed;            /* the last attempt failed */
    char changed_at[24];        /* latest stock/product updated_at of this SKU */
    int outcome;                /* 0 not sent, 1 accepted, -1 failed, 2 in a feed Amazon has
                                 * not finished (stock_sent.pending_feed) or whose creation
                                 * is not known yet (pending_document), 3 never sent: a
                                 * kit without a BOM (marked to be looked at again) */
    char *error;
} sb_stock_item;

typedef struct sb_stock_plan {
    int full;                   /* inputs changed (or first run): every SKU looked at */
    long candidates;            /* SKUs looked at */
    long unchanged;             /* computed pair equals what Amazon accepted */
    long waiting;               /* in a feed Amazon has not finished: not sent again */
    long rule_errors;
    long no_bom;                /* kits without a BOM: reported, not sent */
    sb_stock_item *items;       /* SKUs to send (and rule errors, outcome -1; kits
                                 * without a BOM, outcome 3) */
    size_t n, cap;
    char snapshot[24];          /* latest updated_at seen when the run started */
    char fingerprint[80];
} sb_stock_plan;

/* Computes what to send (no network). The rule pack must be loadable. */
int sb_stock_plan_build(sb_engine *e, sb_stock_plan *plan, char *err);
void sb_stock_plan_free(sb_stock_plan *plan);
/* Appends the JSON_LISTINGS_FEED document of items[from .. from+n) that are to be sent
 * (messageId = 1 + index within the slice). */
int sb_stock_feed_json(const sb_stock_plan *plan, size_t from, size_t n, const char *seller_id,
                       sb_buf *out, char *err);

/* Applies a JSON_LISTINGS_FEED processing report (text[0..len)) to items[from .. from+n):
 * an ERROR issue with messageId k fails item from+k-1, an ERROR without one fails the
 * slice when nothing was accepted, the rest are accepted (outcome 1). A report whose
 * summary.messagesProcessed is not n fails the whole slice (not its feed). No network. */
void sb_stock_apply_report(sb_stock_plan *plan, size_t from, size_t n, const char *feed_id,
                           const char *text, size_t len);

typedef struct sb_stock_result {
    long candidates, unchanged, sent, accepted, failed, rule_errors, feeds;
    long waiting;               /* SKUs whose earlier feed Amazon has not finished */
    long resolved;              /* SKUs of earlier feeds that ended during this run */
    long no_bom;                /* kits without a BOM: reported, not sent */
    int full;
    char mode[8];               /* "patch", "feed" or "" (nothing to send) */
    char watermark[24];         /* stock.last_updated after the run */
} sb_stock_result;

/* One run: plan, send, record. 0 when every SKU sent was accepted (or nothing was due);
 * SB_EHTTP (err summarising) when some failed: their errors are in stock_sent and they
 * are sent again at the next run. stock.last_updated advances only past accepted SKUs. */
int sb_sync_stock(sb_engine *e, sb_stock_result *res, char *err);

#endif
