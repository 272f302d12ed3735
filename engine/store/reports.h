/* store/reports.h: what the integration as a whole looks like (engine/views shows it):
 * orders per stage and per day, the runs per hour, Amazon's clock as the orders job last
 * measured it, the packages and their confirmation states, each job's last run, the
 * confirmations in the outbox, what Amazon last accepted per SKU (stock_sent), and the
 * names the settings page offers (branches, customer groups, GL accounts). Read-only.
 *
 * Rows come as sb_store_row (store/rows.h) with the columns named below, or as (name,
 * count) pairs. Every function returns 0, the callback's non-zero, or SB_EIO "what:
 * message" when the database cannot answer: never a short list. */
#ifndef SB_STORE_REPORTS_H
#define SB_STORE_REPORTS_H
#include <stdint.h>
#include "store/rows.h"

/* out[i] = the orders of integ at stages[i], for each name of the NULL-terminated list. */
int sb_store_stage_counts(sb_store *s, int64_t integ, const char *const *stages, long *out, char *err);
/* Calls fn(ctx, day, stage, branch, n) for each (day, stage, branch) with orders made in
 * the 30 days up to the newest order, days oldest first and branches by name within a day
 * (day YYYY-MM-DD; stage may be NULL; branch "" for an order without one); a non-zero
 * return from fn stops the walk. */
int sb_store_orders_per_day(sb_store *s, int64_t integ,
                            int (*fn)(void *ctx, const char *day, const char *stage, const char *branch, int64_t n),
                            void *ctx, char *err);

/* The runs per hour of the 48 up to the latest, oldest first. */
enum { SB_HOUR_CHECKS, SB_HOUR_DOWNLOADED, SB_HOUR_NOTIFIED, SB_HOUR_FAILED, SB_HOUR_PAUSED, SB_HOUR_NOTIFICATIONS,
       SB_HOUR_STOCK_ACCEPTED, SB_HOUR_STOCK_REFUSED, SB_HOUR_N };
typedef struct sb_store_hour {
    char hour[16];              /* YYYY-MM-DDTHH */
    /* orders checks, orders the download and the notifications brought, failed runs (any
     * job), checks Amazon's rate limit paused, notifications read, stock levels Amazon
     * accepted and refused */
    int64_t n[SB_HOUR_N];
} sb_store_hour;
#define SB_STORE_HOURS 48
/* out[0..SB_STORE_HOURS), *n of them. */
int sb_store_runs_per_hour(sb_store *s, int64_t integ, sb_store_hour *out, int *n, char *err);

/* Amazon's clock minus ours as the last orders run measured it (its Date headers):
 * *found 0 when none is recorded; measured_at "" with *has_at 0 when its time is NULL. */
typedef struct sb_store_clock {
    int found, has_at;
    int64_t skew_ms;
    char measured_at[64];
} sb_store_clock;
int sb_store_amazon_clock(sb_store *s, int64_t integ, sb_store_clock *out, char *err);

/* (confirm state, packages) of integ's packages; (kind:status, rows) of its outbox. */
int sb_store_shipment_states(sb_store *s, int64_t integ, sb_store_count_fn fn, void *ctx, char *err);
int sb_store_outbox_states(sb_store *s, int64_t integ, sb_store_count_fn fn, void *ctx, char *err);
/* The newest limit packages: order, split, branch, carrier, service, tracking,
 * shipped_at, confirm_state. */
int sb_store_shipments_recent(sb_store *s, int64_t integ, long limit, sb_store_row_fn fn, void *ctx, char *err);

/* Each job's row of sync_state by job: job, last_run_at, last_success_at, next_check_at,
 * empty_streak, last_error, last_counts (JSON text). */
int sb_store_job_runs(sb_store *s, int64_t integ, sb_store_row_fn fn, void *ctx, char *err);

/* The outbox rows (all: every one; else those not sent or with an error), counted up to
 * cap, and their page, unsent first: kind, key, status, attempts, next_attempt_at,
 * sent_at, last_error. */
int sb_store_outbox_count(sb_store *s, int64_t integ, int all, long cap, long *n, char *err);
int sb_store_outbox_page(sb_store *s, int64_t integ, int all, long limit, long offset, sb_store_row_fn fn, void *ctx,
                         char *err);

/* (status, SKUs) of stock_sent, by status ("(none)" for no status); the rows (errors:
 * only those not accepted or with an error) counted up to cap, and their page, errors
 * first then newest: sku, quantity, latency, sent_at, status, error, attempts. */
int sb_store_stock_sent_states(sb_store *s, int64_t integ, sb_store_count_fn fn, void *ctx, char *err);
int sb_store_stock_sent_count(sb_store *s, int64_t integ, int errors, long cap, long *n, char *err);
int sb_store_stock_sent_page(sb_store *s, int64_t integ, int errors, long limit, long offset, sb_store_row_fn fn,
                             void *ctx, char *err);

/* Calls fn(ctx, name) for each branch, customer group or GL account code, by name. */
typedef enum { SB_NAMES_BRANCHES, SB_NAMES_GROUPS, SB_NAMES_GL_ACCOUNTS } sb_store_names_kind;
int sb_store_names(sb_store *s, sb_store_names_kind kind, int (*fn)(void *ctx, const char *name), void *ctx, char *err);

#endif
