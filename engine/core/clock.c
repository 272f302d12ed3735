/* clock.c: system clock and the injectable override (see clock.h). */
#include <time.h>
#include "core/clock.h"

static int64_t sys_now_ms(void *ud) {
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sys_sleep_ms(void *ud, int64_t ms) {
    (void)ud;
    if (ms <= 0) return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const sb_clock sys_clock = {sys_now_ms, sys_sleep_ms, NULL};
static const sb_clock *cur = &sys_clock;

const sb_clock *sb_clock_get(void) { return cur; }
const sb_clock *sb_clock_system(void) { return &sys_clock; }
void sb_clock_set(const sb_clock *c) { cur = c ? c : &sys_clock; }
int64_t sb_now_ms(void) { return cur->now_ms(cur->ud); }
int64_t sb_now(void) { return cur->now_ms(cur->ud) / 1000; }
void sb_sleep_ms(int64_t ms) { cur->sleep_ms(cur->ud, ms); }

int64_t sb_poll_wait_ms(int attempt, double scale) {
    int64_t ms = 2000;
    for (int i = 0; i < attempt && ms < 30000; i++) ms *= 2;
    if (ms > 30000) ms = 30000;
    return scale > 1 ? (int64_t)((double)ms / scale) : ms;
}
