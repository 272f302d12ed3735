/* clock.c: system clock, the injectable override and the scaled clock (see clock.h).
 * The scaled clock is a plain sb_clock whose now is a linear function of real time, so
 * sb_clock_set() (the tests' fake clock) replaces it and NULL restores the system one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/clock.h"
#include "core/util.h"

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

/* ---- scaled clock ---- */

typedef struct scaled {
    double scale;
    int64_t real0, start0;     /* real epoch ms of the anchor, and the clock's time then */
    char spec[96];
} scaled;

static scaled sc;

static int64_t scaled_now_ms(void *ud) {
    const scaled *s = ud;
    /* real time in microseconds, so a high scale does not move in steps of `scale` ms */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double real_us = ((double)ts.tv_sec * 1000.0 - (double)s->real0) * 1000.0 + (double)ts.tv_nsec / 1000.0;
    return s->start0 + (int64_t)(real_us * s->scale / 1000.0);
}

static void scaled_sleep_ms(void *ud, int64_t ms) {
    const scaled *s = ud;
    if (ms <= 0) return;
    double us = (double)ms * 1000.0 / s->scale;
    if (us < 1) us = 1;
    struct timespec ts = {(time_t)(us / 1e6), (long)((int64_t)us % 1000000) * 1000L};
    nanosleep(&ts, NULL);    /* a signal ends it early, as the system clock's */
}

static sb_clock scaled_clock = {scaled_now_ms, scaled_sleep_ms, &sc};

/* "123" or "-5" as an int64, the whole text */
static int parse_i64(const char *s, int64_t *out) {
    char *end = NULL;
    if (!*s) return -1;
    long long v = strtoll(s, &end, 10);
    if (*end) return -1;
    *out = v;
    return 0;
}

int sb_clock_use_scaled(const char *spec, char *err) {
    if (!spec || !*spec)
        return sb_seterr(err, SB_EINVAL, "clock: empty spec (expected SCALE@REAL_MS[=START], e.g. 480@%lld)",
                         (long long)sys_now_ms(NULL));
    if (strlen(spec) >= 80) return sb_seterr(err, SB_EINVAL, "clock: spec longer than 80 characters");
    char buf[80], *at, *eq = NULL, *end = NULL;
    snprintf(buf, sizeof buf, "%s", spec);
    if ((at = strchr(buf, '@'))) {
        *at++ = '\0';
        if ((eq = strchr(at, '='))) *eq++ = '\0';
    }
    scaled n = {0};
    n.scale = strtod(buf, &end);
    if (end == buf || *end || !(n.scale >= 1 && n.scale <= SB_CLOCK_MAX_SCALE))
        return sb_seterr(err, SB_EINVAL, "clock '%s': the scale '%s' is not a number from 1 to %g "
                         "(expected SCALE@REAL_MS[=START])", spec, buf, SB_CLOCK_MAX_SCALE);
    n.real0 = sys_now_ms(NULL);
    if (at && parse_i64(at, &n.real0))
        return sb_seterr(err, SB_EINVAL, "clock '%s': the anchor '%s' is not real epoch milliseconds "
                         "(expected SCALE@REAL_MS[=START])", spec, at);
    if (n.real0 < 0) return sb_seterr(err, SB_EINVAL, "clock '%s': the anchor is before 1970", spec);
    n.start0 = n.real0;
    if (eq && parse_i64(eq, &n.start0) && (n.start0 = sb_time_parse_ms(eq)) < 0)
        return sb_seterr(err, SB_EINVAL, "clock '%s': the start '%s' is neither an ISO 8601 UTC time nor epoch ms",
                         spec, eq);
    if (n.start0 < 0) return sb_seterr(err, SB_EINVAL, "clock '%s': the start is before 1970", spec);
    char iso[40];
    snprintf(n.spec, sizeof n.spec, "%.10g@%lld=%s", n.scale, (long long)n.real0, sb_time_format_ms(n.start0, iso, sizeof iso));
    sc = n;
    cur = &scaled_clock;
    return 0;
}

int sb_clock_from_env(char *err) {
    const char *v = getenv("SELLERBRIDGE_CLOCK");   /* SB_CLOCK_ENV */
    if (!v || !*v) return 0;
    char e2[SB_ERRLEN];
    if (sb_clock_use_scaled(v, e2)) return sb_seterr(err, SB_EINVAL, "%s: %s", SB_CLOCK_ENV, e2);
    return 0;
}

double sb_clock_scale(void) { return cur == &scaled_clock ? sc.scale : 1.0; }
const char *sb_clock_spec(void) { return cur == &scaled_clock ? sc.spec : NULL; }

int64_t sb_clock_real_ms(int64_t clock_ms) {
    if (clock_ms <= 0) return clock_ms;
    double s = sb_clock_scale();
    int64_t r = (int64_t)((double)clock_ms / s);
    return r > 0 ? r : 1;
}
