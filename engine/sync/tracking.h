/* tracking.h: local dispatch of a sales order (whole or partial, one package at a time)
 * and the confirmation of each package to Amazon (Orders v0 confirmShipment) through
 * the outbox.
 *
 * The one idea: a package is confirmed at most once. Dispatch writes a shipments row and,
 * when it has to be confirmed, an outbox row (kind 'confirm_shipment', key
 * "<order id>#<package no>") in the same transaction. The sender marks the row in flight
 * (attempts + 1, committed) before the call. The client never repeats the POST itself
 * (SB_EAMBIG after a 5xx, a time-out or a drop once it went out). A row tried before (a
 * crash after the call, an ambiguous answer in this run or an earlier one) is sent again
 * only after getOrder (PACKAGES) shows Amazon does not have that package; a refusal (any
 * 4xx wording) counts as success only when getOrder shows the package. At most two POSTs
 * per row per run. A row that succeeded is never sent again.
 *
 * Never confirmed: orders fulfilled by Amazon, orders in the FBA branch
 * (orders.fba_branch), orders auto-dispatched on download, imported orders. */
#ifndef SB_SYNC_TRACKING_H
#define SB_SYNC_TRACKING_H
#include "sync/engine.h"

typedef struct sb_dispatch_line {
    const char *sku;            /* an order line's SKU as Amazon sent it (kit SKU for kits) */
    double qty;
} sb_dispatch_line;

typedef struct sb_dispatch_req {
    const char *order_ref;      /* Amazon order id */
    const char *carrier;        /* "UPS", "Royal Mail", or any name (sent as Other) */
    const char *service;        /* optional shipping method */
    const char *tracking;
    const sb_dispatch_line *lines;  /* NULL = everything not dispatched yet */
    int nlines;
} sb_dispatch_req;

typedef struct sb_dispatch_result {
    int package_no;             /* 1, 2, 3 ... within the order */
    int complete;               /* the order is now fully dispatched */
    int queued;                 /* a confirmation was queued (auto update on) */
    char confirm_state[16];     /* queued | none | not_required */
    char why_not[128];          /* why no confirmation is needed, when not_required */
} sb_dispatch_result;

/* Dispatches in one transaction: on hand and reserved drop at the order's branch, lines'
 * qty_dispatched rise, a shipments row is written and, with additional.auto_update_status,
 * the confirmation is queued. SB_EINVAL (nothing changed) for an unknown order or SKU, a
 * quantity above what is left, or an order that is not open. */
int sb_tracking_dispatch(sb_engine *e, const sb_dispatch_req *req, sb_dispatch_result *res, char *err);

typedef struct sb_tracking_result {
    long queued;                /* shipments newly queued (manual run) */
    long due, sent, failed, retry_later, not_required;
} sb_tracking_result;

/* Sends the due confirmations. manual = "Update Dispatched Orders": first queues every
 * unconfirmed eligible package (whatever additional.auto_update_status says), then sends
 * every pending or failed row now, ignoring the backoff. Returns 0 when every due row
 * was sent; SB_EHTTP with err summarising when some failed (they stay in the outbox). */
int sb_tracking_send(sb_engine *e, int manual, sb_tracking_result *res, char *err);

/* Amazon's carrier code for a carrier name ("fedex" -> "FedEx"), or NULL (send "Other"
 * with the name as carrierName). */
const char *sb_tracking_carrier_code(const char *carrier);

/* Backoff of the n-th failed attempt (1-based) in seconds: 60, 120, 240 ... capped at 6 h. */
long sb_tracking_backoff_s(int attempts);

#endif
