/* sched.c: the schedule arithmetic (see sched.h); the daemon that follows it is runtime.c. */
#include <stdio.h>
#include "sched/sched.h"
#include "sync/engine.h"

int sb_sched_parse_start(const char *s) {
    int h, m, n = 0;
    if (!s || sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || s[n] || h < 0 || h > 23 || m < 0 || m > 59) return -1;
    return h * 3600 + m * 60;
}

/* Local midnight (as epoch seconds) of the local day containing t. */
static int64_t local_midnight(int64_t t, const char *tz) {
    long off = sb_engine_tz_offset(tz, t);
    int64_t local = t + off;
    int64_t mid = local - ((local % 86400) + 86400) % 86400 - off;
    /* a DST change between midnight and t shifts the offset: re-check once */
    long off2 = sb_engine_tz_offset(tz, mid);
    if (off2 != off) mid += off - off2;
    return mid;
}

int64_t sb_sched_first(int64_t now, int start_sec, const char *tz) {
    int64_t start = local_midnight(now, tz) + start_sec;
    if (now >= start) return now;
    return start;
}

int64_t sb_sched_next(int64_t last, int brought, int *streak, int start_sec, const char *tz) {
    int64_t wait;
    if (brought) {
        *streak = 0;
        wait = SB_SCHED_MIN_WAIT;
    } else {
        (*streak)++;
        wait = SB_SCHED_MIN_WAIT;
        for (int i = 1; i < *streak && wait < SB_SCHED_MAX_WAIT; i++) wait *= 2;
        if (wait > SB_SCHED_MAX_WAIT) wait = SB_SCHED_MAX_WAIT;
    }
    int64_t cand = last + wait;
    int64_t next_day = local_midnight(local_midnight(last, tz) + 86400 + 3 * 3600, tz);
    if (cand >= next_day) {         /* a new day: the cycle restarts at its start time */
        *streak = 0;
        return next_day + start_sec;
    }
    return cand;
}

int64_t sb_sched_next_day(int64_t t, int start_sec, const char *tz) {
    return local_midnight(local_midnight(t, tz) + 86400 + 3 * 3600, tz) + start_sec;
}
