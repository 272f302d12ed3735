/* order_plan.h: what an order's rows become, worked out from the order, the rules'
 * decision and (for an order seen again) what is stored, before anything is written.
 * Pure C: no store, no Lua, no clock; engine/sync/order_apply.c reads what is stored,
 * asks these functions, and writes what they say in the order's part of the transaction.
 *
 * A new order: its stage and reason, the rows (splits) and their branches, which row
 * keeps an invoice number it had, whether it may be auto-dispatched, and what a line the
 * inventory does not know does to it. An order seen again: what Amazon changed
 * (order_diff), and what follows from it (sb_plan_seen): nothing, a refresh, a flag for a
 * person, a cancellation, or the order stored again with what a person decided kept over
 * the rules (sb_plan_again). */
#ifndef SB_SYNC_ORDER_PLAN_H
#define SB_SYNC_ORDER_PLAN_H
#include <stddef.h>
#include "core/order.h"

/* What an order stored again keeps of its earlier rows. */
typedef struct sb_plan_keep {
    int again;                  /* stored again (Amazon changed it, or a retry relinked it) */
    int keep_open;              /* a person released it: it stays open */
    const char *note;           /* added to its attention reason: what a person's choice overrode */
    int ninv;                   /* its invoice numbers and dates, row by row ("" none) */
    char inv[SB_MAX_SPLITS + 1][32], inv_date[SB_MAX_SPLITS + 1][16];
} sb_plan_keep;

/* The settings a plan follows. */
typedef struct sb_plan_settings {
    int auto_dispatch;          /* orders.auto_dispatch */
    int individual;             /* orders.invoice_mode = individual */
} sb_plan_settings;

/* A new order's rows. */
typedef struct sb_order_plan {
    const char *stage;          /* open, needs_attention, rule_error, rejected, cancelled */
    char attention[1024];       /* its attention reason ("" none) */
    const char *rule_error;     /* why it is held (rejected or rule error), NULL none */
    int held;                   /* rejected or a rule error: nothing of the decision applies */
    int cancelled;              /* cancelled by Amazon when first seen: reserves nothing */
    int whole;                  /* one row with the lines as Amazon sent them (no routing) */
    int nsplits;
    int dispatchable;           /* may be auto-dispatched, if its lines allow */
    int keep_open;              /* a line's hold does not make it need attention */
    sb_plan_settings set;
    const sb_plan_keep *keep;   /* NULL: a first store */
} sb_order_plan;

/* norm_rc/norm_err: the order could not be normalised (rejected). keep NULL on a first
 * store; it must outlive p. */
void sb_plan_new(const sb_order *o, const sb_decision *d, int norm_rc, const char *norm_err,
                 const sb_plan_settings *set, const sb_plan_keep *keep, sb_order_plan *p);
/* Row k's branch (NULL: none). */
const char *sb_plan_branch(const sb_order_plan *p, const sb_decision *d, int k);
/* Row k's invoice: SB_INV_NONE, SB_INV_KEEP (keep->inv[k], dated keep->inv_date[k] when
 * set, else today) or SB_INV_NEW (the next number). */
enum { SB_INV_NONE, SB_INV_KEEP, SB_INV_NEW };
int sb_plan_invoice(const sb_order_plan *p, int k);
/* Row k, whose lines gave line_attention (SKUs that are not products, "" none): the
 * stage and reason to set (into stage and why[len]), 1 when it changes anything; *held
 * 1 when the order counts as held for it. */
int sb_plan_line_hold(const sb_order_plan *p, int k, const char *line_attention, const char **stage, char *why,
                      size_t len, int *held);
/* Whether row k, whose lines are all free to dispatch (lines_ok), is dispatched now. */
int sb_plan_dispatch_now(const sb_order_plan *p, int lines_ok);

/* How the pass counts an order. */
typedef struct sb_plan_tally {
    long created, updated, unchanged, held, rule_errors, rejected, cancelled, dispatched, stale;
} sb_plan_tally;
/* The counts of a new order stored by p. */
void sb_plan_count_new(const sb_order_plan *p, const sb_decision *d, int norm_rc, sb_plan_tally *t);

/* ---- an order seen again ---- */

/* One line as stored, summed over the rows. */
typedef struct sb_stored_line {
    char item[64], sku[128], price[32];
    double qty;
    int seen;
} sb_stored_line;

typedef struct order_diff {
    int status;                 /* the fulfillment status changed */
    int fields;                 /* another field the engine keeps changed */
    int lines;                  /* lines or quantities changed */
    int time;                   /* lastUpdatedTime changed */
    int older;                  /* Amazon's answer is older than what is stored (a stale replica, a
                                 * notification's getOrder overtaken by a later download) */
    char text[768];             /* "qty MUG-BLK-12 2 -> 1; city Austin -> Dallas" */
} order_diff;

/* Compares what is stored (kept: the fields SB_KEPT_* of the first row; lines: the lines
 * over every row, matched on Amazon's orderItemId, else the SKU) with o. */
void sb_order_diff(const char *const kept[SB_KEPT_N], sb_stored_line *lines, int nlines, const sb_order *o,
                   order_diff *df);

/* What is stored of the order, as the plan for a repeat needs it. */
typedef struct sb_plan_rows {
    int n;                      /* its rows */
    int live;                   /* those not cancelled */
    int all_left, some_left;    /* of the live ones: all left the warehouse / some line did */
    const char *first_stage;
} sb_plan_rows;

enum sb_seen_action {
    SB_SEEN_STALE,              /* stored is newer: left as it is */
    SB_SEEN_UNCHANGED,          /* nothing kept changed: at most Amazon's time is refreshed */
    SB_SEEN_CANCEL,             /* cancelled by Amazon: each live row by sb_plan_cancel_row */
    SB_SEEN_REFRESH,            /* refreshed, with an audit row of what changed */
    SB_SEEN_FLAG_LEFT,          /* changed after something left: live rows need attention (why) */
    SB_SEEN_FLAG_UNDECIDED,     /* changed, the rules could not decide it again: open rows need attention (why) */
    SB_SEEN_AGAIN               /* stored again from what came (sb_plan_again) */
};
typedef struct sb_seen_plan {
    int action;                 /* enum sb_seen_action */
    int refresh;                /* the light refresh of every row first (status, time, JSON) */
    int flag;                   /* FLAG_UNDECIDED: the rows are flagged (fields or lines changed) */
    char why[1200];             /* the attention reason of a flag */
} sb_seen_plan;
/* decided: the rules decided o again (it normalised, no rule error); rule_error: theirs. */
void sb_plan_seen(const sb_order *o, const sb_plan_rows *rows, const order_diff *df, int decided,
                  const char *rule_error, sb_seen_plan *out);

/* A cancelled order's live row: */
enum { SB_CANCEL_FLAG_DISPATCHED, SB_CANCEL_FLAG_PART, SB_CANCEL_RELEASE };
int sb_plan_cancel_row(const sb_plan_rows *rows);
/* The reason of a row flagged when part of the order left (left: "SKU 1 of 2, ..."). */
void sb_plan_cancel_why(const char *left, char *why, size_t len);

/* An order stored again: the decision with what a person chose kept over the rules'. */
typedef struct sb_plan_again {
    sb_decision d;              /* the decision to store with */
    sb_split_line *all;         /* the one split of a person's branch (owned; sb_plan_again_free) */
    char note[512];
    int keep_open;
} sb_plan_again;
/* person_branch: the branch a person chose ("" none); released: a person released it;
 * relink: a retry stores it again (else Amazon changed it). SB_ENOMEM or 0. */
int sb_plan_again_of(const sb_order *o, const sb_decision *d, const char *person_branch, int released,
                     const char *first_stage, const char *diff_text, int relink, sb_plan_again *out);
void sb_plan_again_free(sb_plan_again *a);

#endif
