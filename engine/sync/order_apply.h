/* order_apply.h: orders of the pass applied to the store: each order's plan
 * (sync/order_plan.h) made from its decision and what is stored, then written through
 * engine/store/orders.h; a page's orders in one transaction (the pass, sync/orders.c),
 * or one order in its own (the retry, a notification). */
#ifndef SB_SYNC_ORDER_APPLY_H
#define SB_SYNC_ORDER_APPLY_H
#include <stddef.h>
#include <stdint.h>
#include "sync/engine.h"
#include "sync/orders.h"

/* What applying orders needs of the pass. */
typedef struct sb_order_pass {
    sb_engine *e;
    sb_orders_result *res;      /* counted into */
    const char *page;           /* the body of the page being applied (NULL: none) */
    size_t page_len;
    int page_orders;            /* how many orders it holds */
    int64_t page_id;            /* its raw_pages row, once an order needed it (0: not yet) */
    const char *held_key;       /* retry: the key of the held order being run again */
    int64_t watermark;          /* the watermark the window overlaps, and the start the */
    int64_t normal_start;       /* window would have had without the reconciliation (0: none) */
    const char *came_by;        /* "download" or "notification": recorded on the orders it stores first */
    char err[SB_ERRLEN];        /* why, on failure */
} sb_order_pass;

/* An order of a page decided and waiting to be stored (sb_order_apply_all). */
typedef struct sb_order_decided {
    sb_order o;
    sb_decision d;
    int norm_rc;                /* it could not be normalised: why in norm_err */
    char norm_err[SB_ERRLEN];
    int index;                  /* its place in the page */
} sb_order_decided;

/* Applies the n orders of v in one transaction, as sb_order_apply applies one, each in a
 * part of its own (sb_store_part_begin): an order that fails is taken back and the orders
 * before it are committed. The rules decided them all before; none runs while the
 * transaction is open. 0, or a negative code with why in c->err and *failed the index in
 * v of the order that failed (the ones before it are stored), or -1 when the commit
 * failed (none is; the pass's counts are then as before the call). */
int sb_order_apply_all(sb_order_pass *c, const sb_order_decided *v, int n, int *failed);

/* Applies order o, decided as d (norm_rc/norm_err: it could not be normalised), in its own
 * transaction: stored new, compared with what is stored and followed, or skipped. The
 * rules have already run; no rule runs while the transaction is open. 0, or a negative
 * code with why in c->err (nothing of the order written). */
int sb_order_apply(sb_order_pass *c, const sb_order *o, const sb_decision *d, int norm_rc, const char *norm_err);

/* A retry of an order kept for an unknown SKU, in its own transaction: stored again from
 * its Amazon JSON as a download stores an order Amazon changed (lines linked to the
 * products imported since, kits expanded, stock reserved, the decisions applied, invoice
 * numbers and a person's branch kept). 1 when it cannot be (something of it has left, or
 * it is cancelled), with why in c->err; 0 when stored; negative on a store error. */
int sb_order_relink(sb_order_pass *c, const sb_order *o, const sb_decision *d);

#endif
