/* store/stock.h: the stock job's records (engine/sync/stock.c decides, this reads and
 * writes): the figures the stock rule computes from (stock rows, open order lines, a
 * kit's BOM), the SKUs to look at, what Amazon last accepted per SKU (stock_sent), the
 * SKUs marked to sync (stock_dirty) and the feeds this engine created (feeds_created).
 *
 * Crash safety, as the job relies on it: a feed's intent (document id, and per SKU the
 * pair and message number) is committed by sb_store_stock_intent inside the job's own
 * transaction BEFORE createFeed; sb_store_stock_adopt_feed replaces the document by the
 * feed id (and records the feed as this engine's) in one transaction AFTER Amazon names
 * the feed; sb_store_stock_settle / _accepted / _failed write what Amazon answered. A
 * crash between the two leaves the intent, which the next run resolves by looking on
 * Amazon (feeds not in feeds_created): a feed is never sent twice blindly.
 *
 * Every function returns 0 or a negative code; a failing read is SB_EIO "what: message",
 * never "nothing there". Statements run per SKU are cached (sb_store_cached). */
#ifndef SB_STORE_STOCK_H
#define SB_STORE_STOCK_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

#define SB_STORE_STOCK_DOCS 100     /* intents and pending feeds resolved per run */

/* Marks sku to be looked at by the next stock run. Call inside the caller's transaction. */
int sb_store_stock_mark_dirty(sb_store *s, int64_t integ, const char *sku, char *err);
/* Forgets every mark of integ (a run has consumed them). */
int sb_store_stock_clear_dirty(sb_store *s, int64_t integ, char *err);

/* qty leaves product's stock at branch (the row is made when missing), and reserved
 * of it leaves what is reserved there (a dispatch). Call inside a transaction. */
int sb_store_stock_take(sb_store *s, int64_t product, const char *branch, double qty, double reserved, char *err);

/* The fingerprint of the inputs of the last stock run into out ("" when none). */
int sb_store_stock_fingerprint(sb_store *s, int64_t integ, char *out, size_t n, char *err);
/* The latest updated_at of stock and products, never the current second ("" when empty). */
int sb_store_stock_snapshot(sb_store *s, char *out, size_t n, char *err);

/* One merchant-fulfilled product the run looks at, with what stock_sent holds for it. */
typedef struct sb_store_stock_candidate {
    int64_t product;
    const char *sku;            /* the listing's SKU; valid during the callback only */
    double buffer;              /* products.buffer_stock */
    int latency;                /* products.latency, 0 when none */
    int has_prev;               /* an accepted pair is known */
    long prev_qty;
    int prev_latency;
    int prev_failed;            /* the last attempt failed */
    int waiting;                /* in a feed not finished, or whose creation is not known yet */
    int is_kit;
    const char *changed_at;     /* latest updated_at of its product, stock (and components) */
} sb_store_stock_candidate;

/* Calls cb for each candidate in product order: every merchant-fulfilled product when
 * since is NULL, else those changed after since, marked dirty, not accepted, or kits of a
 * changed component. A non-zero from cb stops the walk and is returned. */
int sb_store_stock_candidates(sb_store *s, int64_t integ, const char *since,
                              int (*cb)(void *ctx, const sb_store_stock_candidate *c), void *ctx, char *err);

/* A product's figures at one branch. */
typedef struct sb_store_stock_fig {
    double soh, open, open_etd7, open_etd30, open_no_etd;
} sb_store_stock_fig;

/* Reads figures per product for the selected branches (names[0..nb), borrowed for the
 * reader's life). full: the run walks every product in order, and the reader reads each
 * table in one pass; else it looks up one product at a time. d7 and d30 are the dates
 * (YYYY-MM-DD) 7 and 30 days ahead, for the open-by-ETD figures. */
typedef struct sb_store_stock_reader sb_store_stock_reader;
int sb_store_stock_reader_open(sb_store *s, int full, int kits, const char *d7, const char *d30, const char *const *names,
                               int nb, sb_store_stock_reader **out, char *err);
void sb_store_stock_reader_close(sb_store_stock_reader *r);
/* fig[0..nb) zeroed then filled for product (called in ascending product order when full). */
int sb_store_stock_figures(sb_store_stock_reader *r, int64_t product, sb_store_stock_fig *fig, char *err);
/* The same for one component of a kit (any order; needs kits at open). */
int sb_store_stock_component_figures(sb_store_stock_reader *r, int64_t product, sb_store_stock_fig *fig, char *err);
/* Calls cb(ctx, component, qty per kit) for each line of kit's BOM (needs kits at open). */
int sb_store_stock_bom(sb_store_stock_reader *r, int64_t kit, int (*cb)(void *ctx, int64_t comp, double per), void *ctx,
                       char *err);

/* Records that sku goes in the feed of document doc as message msg with (qty, latency),
 * since `since`; note is its status text. Call inside a transaction that commits before
 * createFeed. */
int sb_store_stock_intent(sb_store *s, int64_t integ, const char *sku, long qty, int latency, long msg, const char *doc,
                          const char *since, const char *note, char *err);
/* The feed of document doc is feed_id: its SKUs wait for the feed (note), the feed is kept
 * as this engine's (created now), and feeds kept from before `old` are forgotten. One
 * transaction. */
int sb_store_stock_adopt_feed(sb_store *s, int64_t integ, const char *doc, const char *feed_id, const char *note,
                              const char *now, const char *old, char *err);
/* No feed of document doc exists: its SKUs fail with why and are sent again. */
int sb_store_stock_forget_intent(sb_store *s, int64_t integ, const char *doc, const char *why, char *err);
/* *ours = 1 when feed_id is one this engine created. */
int sb_store_stock_feed_is_ours(sb_store *s, int64_t integ, const char *feed_id, int *ours, char *err);

/* An intent left without a feed id: its document and when it was made. */
typedef struct sb_store_stock_intent_row {
    char doc[256];
    char since[32];
} sb_store_stock_intent_row;
/* The intents of integ into out[0..max) (max <= SB_STORE_STOCK_DOCS), *n their count. */
int sb_store_stock_intents(sb_store *s, int64_t integ, sb_store_stock_intent_row *out, int max, int *n, char *err);
/* Calls cb(ctx, feed_id) for up to SB_STORE_STOCK_DOCS feeds whose SKUs wait. */
int sb_store_stock_pending_feeds(sb_store *s, int64_t integ, int (*cb)(void *ctx, const char *feed_id), void *ctx,
                                 char *err);
/* Calls cb for each SKU waiting for feed_id, in message order. */
int sb_store_stock_feed_skus(sb_store *s, int64_t integ, const char *feed_id,
                             int (*cb)(void *ctx, const char *sku, long qty, int latency, long msg), void *ctx,
                             char *err);
/* The outcome of sku in the earlier feed feed_id: accepted (its pending pair becomes what
 * Amazon has, sent at text) or failed (text is why). Call inside a transaction. */
int sb_store_stock_settle(sb_store *s, int64_t integ, const char *feed_id, const char *sku, int accepted,
                          const char *text, char *err);
/* Amazon accepted (qty, latency) for sku at now / refused sku with error; either ends any
 * pending feed or intent. Call inside a transaction. */
int sb_store_stock_accepted(sb_store *s, int64_t integ, const char *sku, long qty, int latency, const char *now,
                            char *err);
int sb_store_stock_failed(sb_store *s, int64_t integ, const char *sku, const char *error, char *err);

#endif
