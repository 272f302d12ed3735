/* orders.h: the main job, order download. One pass searches Amazon for orders updated in
 * the window [orders.last_updated - orders.overlap_minutes, now - 2 min] (once a day from
 * orders.reconcile_hours back), runs the rule hooks on every order of a page and stores
 * the page's decisions in one transaction, each order a savepoint that can fail alone;
 * after the last page commits the watermark moves
 * to the window's end (never to the local clock). A failure anywhere leaves the watermark
 * where it was, and the next pass repeats the window: orders are keyed on the Amazon order
 * id, so nothing is stored twice, and an order seen again follows what Amazon changed
 * until something of it has left the warehouse. */
#ifndef SB_SYNC_ORDERS_H
#define SB_SYNC_ORDERS_H
#include "sync/engine.h"

typedef struct sb_orders_result {
    long pages, fetched;
    long created;               /* new sales orders (a split order counts once) */
    long updated;               /* seen again and changed by Amazon: brought up to date */
    long unchanged;             /* seen again as stored (the overlap's repeats): no write */
    long skipped;               /* the status filter said no */
    long held;                  /* stored with stage needs_attention */
    long rule_errors;           /* stored with stage rule_error */
    long rejected;              /* could not be normalised: stored as rejected */
    long cancelled;             /* cancelled by Amazon and released */
    long dispatched;            /* auto-dispatched on download */
    long late;                  /* new or changed, but last updated before the watermark: found by the overlap */
    long missed;                /* the same before the overlap's start: found only by the reconciliation */
    long stale;                 /* seen again older than stored (lastUpdatedTime): left as stored */
    int reconciled;             /* this pass was the daily reconciliation (orders.reconcile_hours) */
    char after[32], before[32]; /* the window */
    long resumed_at_page;       /* > 0: the window was resumed from a kept page token */
    int64_t paused_until;       /* SB_ELATER: when (ms, local clock) Amazon grants the next page */
    int clock_known;            /* Amazon's clock was measured this pass: */
    int64_t clock_skew_ms;      /* Amazon's time minus this machine's */
} sb_orders_result;

/* One full pass over the window (all pages). */
int sb_sync_orders(sb_engine *e, sb_orders_result *res, char *err);
/* The counts for people: "8 orders in 1 page: 5 new, 0 updated, 3 skipped by status, ...".
 * Returns buf. */
const char *sb_orders_counts(const sb_orders_result *r, char *buf, size_t n);

/* Applies pages already in memory as one window (no watermark): the sync's own loop,
 * with the pages in place of Amazon. For the benchmark. */
int sb_orders_apply_pages(sb_engine *e, char *const *pages, const size_t *lens, int npages,
                          sb_orders_result *res, char *err);

/* Applies one order as getOrder answered it ({"order":{...}}) exactly as a download's page
 * applies its orders (the hooks, the same idempotency, audit and lifecycle: an order seen
 * again follows what Amazon changed, an answer older than what is stored is left), with
 * no window and no watermark; a new order records that a notification brought it. For
 * the notifications job (engine/sync/notify.c). */
int sb_orders_apply_order(sb_engine *e, const char *body, size_t len, sb_orders_result *res, char *err);

/* Re-runs the hooks on stored orders held for a rule error or rejected (all of them when
 * order_ref is NULL), e.g. after the rule pack was fixed. *fixed counts the ones that
 * now pass. */
int sb_orders_retry(sb_engine *e, const char *order_ref, long *fixed, char *err);
/* The same, telling what happened: how many held orders were re-run, how many now pass,
 * how many stay held, and for the first few that stay held, the order and why this run
 * kept it (the rule error of this run, not the one stored), so a caller can say so. */
#define SB_RETRY_KEEP 3
typedef struct sb_orders_retry_result {
    long tried, fixed, held;
    int nkept;
    struct { char order[64]; char why[256]; } kept[SB_RETRY_KEEP];
} sb_orders_retry_result;
int sb_orders_retry_ex(sb_engine *e, const char *order_ref, sb_orders_retry_result *out, char *err);
/* The same for some kinds of held order: SB_RETRY_RULE_ERROR (held for a rule error, or
 * rejected: stored again from scratch) and/or SB_RETRY_UNKNOWN_SKU (kept with a line whose
 * SKU was not a product, held or released by a person: stored again from its Amazon JSON
 * as a download stores an order Amazon changed, so its lines link to the products
 * imported since, stock is reserved as for any order, the hooks run, invoice numbers and a
 * person's branch are kept; it counts as fixed when it is open after). sb_orders_retry_ex
 * is both kinds. */
#define SB_RETRY_RULE_ERROR 1
#define SB_RETRY_UNKNOWN_SKU 2
int sb_orders_retry_for(sb_engine *e, const char *order_ref, int kinds, sb_orders_retry_result *out, char *err);
/* 1 when an open or held split of order ref has a line whose SKU is not a product (the
 * first such SKU in sku), else 0. */
int sb_orders_unknown_sku(sb_store *s, int64_t integ, const char *ref, char *sku, size_t len);

/* Consistency check used by tests and `orders check`: stock reserved equals the sum of
 * open stock-bearing lines for every product and branch. Returns the number of
 * mismatching rows (0 = consistent), or a negative code. */
int sb_orders_check_reserved(sb_store *s, char *report, size_t len);

#endif
