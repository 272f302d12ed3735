/* sched.h: the auto-download schedule and the daemon loop.
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
/* "HH:MM" -> seconds, -1 if malformed. */
int sb_sched_parse_start(const char *hhmm);

struct sb_engine;
typedef struct sb_sched_opts {
    const char *db_path;
    volatile int *stop;         /* set by SIGTERM/SIGINT: finish the page and return */
    int64_t until_ms;           /* stop when the clock passes this (0 = never): tests */
    long max_runs;              /* stop after this many job runs (0 = no limit): tests */
    /* the orders job; NULL = sb_sync_orders. Returns 0 or negative; *fetched = orders.
     * SB_ELATER: paused for Amazon's rate limit, *come_back_ms says when to go on. */
    int (*orders_job)(void *ud, struct sb_engine *e, long *fetched, int64_t *come_back_ms, char *err);
    void *ud;
    /* called after each check with its time and what it brought (tests record these) */
    void (*on_check)(void *ud, const char *integration, int64_t at, long fetched, int64_t next);
    long *visits;               /* when set, counts the times the integrations were looked at */
} sb_sched_opts;

/* Asks the running scheduler for a job now: "orders" (every integration's download) or
 * "update-dispatched" (send the dispatched orders' confirmations). Thread-safe; -1 for
 * an unknown job. */
int sb_sched_request(const char *job);

/* Runs until stopped. Holds the engine lock for the database. */
int sb_sched_run(sb_store *s, const sb_sched_opts *o, char *err);

#endif
