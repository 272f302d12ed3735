/* clock.h: the engine's only source of "now". Tests install a fake clock so a whole
 * day of scheduling runs in milliseconds; production uses the system clock. */
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

#endif
