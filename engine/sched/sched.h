/* sched.h: the auto-download schedule and the engine's runtime.
 *
 * The schedule (the settings page's words): after a check that brought orders the next is
 * 5 minutes later; each empty check doubles the wait (5, 10, 20, 40, 80) up to 120
 * minutes; each day the cycle restarts at the configured start time in the integration's
 * time zone, and there are no automatic checks between midnight and that time. Time comes
 * from core/clock.h, so a test drives a whole day in milliseconds. */
#ifndef SB_SCHED_H
#define SB_SCHED_H
#include <stdint.h>
#include "store/store.h"

#define SB_SCHED_MIN_WAIT 300
#define SB_SCHED_MAX_WAIT 7200

/* The first automatic check at or after now (epoch seconds). start_sec is the daily start
 * as seconds after local midnight; tz an IANA zone name. */
int64_t sb_sched_first(int64_t now, int start_sec, const char *tz);
/* The check after one made at last: brought says it downloaded orders; *streak counts
 * consecutive empty checks and is updated. */
int64_t sb_sched_next(int64_t last, int brought, int *streak, int start_sec, const char *tz);
/* The start time of the local day after the one containing t. */
int64_t sb_sched_next_day(int64_t t, int start_sec, const char *tz);
/* "HH:MM" -> seconds, -1 if malformed. */
int sb_sched_parse_start(const char *hhmm);

struct sb_engine;

/* The jobs of an integration, in the order they start when several are due at once:
 * a late shipment confirmation costs the seller most on Amazon, then the notifications
 * (an order within seconds), the scheduled orders download, stock and the daily products
 * download. */
enum sb_job_kind { SB_JOB_TRACKING, SB_JOB_NOTIFY, SB_JOB_ORDERS, SB_JOB_STOCK, SB_JOB_PRODUCTS, SB_JOB_KINDS };
const char *sb_job_name(int kind);     /* "tracking", "notifications", "orders", "stock", "products" */

typedef struct sb_sched_opts {
    const char *db_path;
    volatile int *stop;         /* set by SIGTERM/SIGINT: running jobs finish their order or page, then it returns */
    int64_t until_ms;           /* stop when the clock passes this (0 = never): tests */
    long max_runs;              /* stop after this many job runs (0 = no limit): tests */
    /* the orders job; NULL = sb_sync_orders (and then the other jobs run too; with a
     * scripted orders job only it runs). Returns 0 or negative; *fetched = orders.
     * SB_ELATER: paused for Amazon's rate limit, *come_back_ms says when to go on.
     * Runs on the job's own thread. */
    int (*orders_job)(void *ud, struct sb_engine *e, long *fetched, int64_t *come_back_ms, char *err);
    void *ud;
    /* called on the runtime's thread after each orders check with its time and what it
     * brought (-1: failed), and after every job run with its job, the time it was due,
     * when it started, its result and its next due time (ms; 0 = not scheduled): tests
     * and benchmarks record these */
    void (*on_check)(void *ud, const char *integration, int64_t at, long fetched, int64_t next);
    void (*on_run)(void *ud, const char *integration, int job, int64_t due_ms, int64_t started_ms, int rc,
                   int64_t next_ms);
    long *visits;               /* when set, counts the times the integrations were looked at */
    int max_jobs;               /* jobs running at once (threads); 0 = SB_SCHED_MAX_JOBS */
} sb_sched_opts;

#define SB_SCHED_MAX_JOBS 64

/* Asks the running engine for a job now: "orders" (every integration's download) or
 * "update-dispatched" (send every dispatched order's confirmation). Thread-safe and
 * async-signal-safe; -1 for an unknown job. */
int sb_sched_request(const char *job);

/* The engine (engine/sched/runtime.c): runs every job of every integration on its own
 * schedule until stopped. Holds the engine lock for the database. */
int sb_sched_run(sb_store *s, const sb_sched_opts *o, char *err);

#endif
