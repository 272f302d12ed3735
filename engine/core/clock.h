/* clock.h: the engine's only source of "now". Tests install a fake clock so a whole
 * day of scheduling runs in milliseconds; production uses the system clock; against the
 * simulator a scaled clock (below) lets a day of Amazon traffic run in minutes. */
#ifndef SB_CORE_CLOCK_H
#define SB_CORE_CLOCK_H
#include <stdint.h>

typedef struct sb_clock {
    int64_t (*now_ms)(void *ud);                 /* epoch milliseconds, UTC */
    void (*sleep_ms)(void *ud, int64_t ms);      /* may return early on a signal */
    void *ud;
} sb_clock;

const sb_clock *sb_clock_get(void);
const sb_clock *sb_clock_system(void);           /* the real one (sb_clock_get() == it: not a test's) */
void sb_clock_set(const sb_clock *c);            /* NULL restores the system clock */
int64_t sb_now_ms(void);
int64_t sb_now(void);                            /* epoch seconds */
void sb_sleep_ms(int64_t ms);
/* How long to wait before poll number `attempt` (0-based) of something Amazon processes
 * (a report, a feed): 2 s, doubling to at most 30 s, so quick answers come quickly and
 * slow ones are not asked for too often; divided by scale (api.rate_scale: 1 for Amazon,
 * larger against the simulator). */
int64_t sb_poll_wait_ms(int attempt, double scale);

/* ---- the scaled clock: one "Amazon time" shared exactly by several processes ----
 *
 * A spec "SCALE@REAL_MS" or "SCALE@REAL_MS=START" reads: at real epoch milliseconds
 * REAL_MS the clock showed START (ISO 8601 UTC, e.g. 2026-11-27T06:00:00.000Z, or epoch
 * ms; default REAL_MS itself), and it runs SCALE times faster than real time:
 *     now = START + (real_now - REAL_MS) * SCALE
 * Two processes given the same spec compute the same now (to the millisecond, as far as
 * their system clocks agree). "SCALE" alone anchors at the moment it is installed (one
 * process only; sb_clock_spec() then gives the full spec to pass on). Sleeps on the
 * scaled clock last ms / SCALE real milliseconds; network time-outs stay real.
 * SCALE is 1 to 100000. The environment variable SELLERBRIDGE_CLOCK holds a spec. */
#define SB_CLOCK_ENV "SELLERBRIDGE_CLOCK"
#define SB_CLOCK_MAX_SCALE 100000.0

/* Installs the scaled clock described by spec (replacing any clock set before). On a bad
 * spec returns SB_EINVAL with the reason in err (SB_ERRLEN) and changes nothing. */
int sb_clock_use_scaled(const char *spec, char *err);
/* Installs the clock named by $SELLERBRIDGE_CLOCK when it is set and not empty; 0 when
 * it is unset. The error names the variable. */
int sb_clock_from_env(char *err);
/* The scale of the current clock: the scaled clock's, 1 for the system or a fake clock. */
double sb_clock_scale(void);
/* The installed scaled clock's full spec ("480@1764641829000=2026-12-02T02:17:09.000Z"),
 * or NULL when the clock is not the scaled clock. Owned by clock.c. */
const char *sb_clock_spec(void);
/* A duration on the current clock as real milliseconds (for waits done outside
 * sb_sleep_ms, e.g. an event loop's timer): ms / scale, at least 1 when ms > 0. */
int64_t sb_clock_real_ms(int64_t clock_ms);

#endif
