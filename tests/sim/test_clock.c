/* test_clock.c: the scaled clock (engine/core/clock.h) the simulator and the engine
 * share: each spec of clock_cases.txt parsed or refused with its reason; now is
 * START + (real - REAL_MS) x SCALE, bounded by the real time read before and after (no
 * timing figure is asserted); two installs of one spec agree; the tests' fake clock
 * still replaces it; $SELLERBRIDGE_CLOCK is read and a bad one named. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/clock.h"
#include "core/util.h"
#include "t.h"

static int64_t real_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t fake_now(void *ud) { return *(int64_t *)ud; }
static void fake_sleep(void *ud, int64_t ms) { *(int64_t *)ud += ms; }

static void cases(void) {
    char path[4096], line[512];
    const char *src = getenv("SB_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/sim/clock_cases.txt", src ? src : "../../..");
    FILE *f = fopen(path, "r");
    T_CHECK(f != NULL);
    if (!f) return;
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *spec = line, *kind = strchr(spec, '\t'), *want;
        if (!kind || !(want = strchr(kind + 1, '\t'))) { fprintf(stderr, "bad case line: %s\n", line); t_fail++; continue; }
        *kind++ = '\0';
        *want++ = '\0';
        char err[SB_ERRLEN] = "";
        sb_clock_set(NULL);
        int rc = sb_clock_use_scaled(spec, err);
        if (!strcmp(kind, "ok")) {
            T_EQ(rc, 0);
            T_STREQ(sb_clock_spec(), want);
        } else {
            T_EQ(rc, SB_EINVAL);
            T_CONTAINS(err, want);
            T_CONTAINS(err, spec);            /* the message quotes what was given */
            T_CHECK(sb_clock_spec() == NULL);  /* a refused spec changes nothing */
            T_CHECK(sb_clock_scale() == 1.0);
        }
        n++;
    }
    fclose(f);
    T_CHECK(n >= 10);
}

int main(void) {
    cases();

    /* now follows real time x scale from the anchor, within what real time was around it */
    char err[SB_ERRLEN], spec[96];
    int64_t r0 = real_ms() - 5000, start = 1796000000000LL;
    snprintf(spec, sizeof spec, "480@%lld=%lld", (long long)r0, (long long)start);
    T_EQ(sb_clock_use_scaled(spec, err), 0);
    T_CHECK(sb_clock_scale() == 480.0);
    int64_t before = real_ms(), now = sb_now_ms(), after = real_ms();
    T_CHECK(now >= start + (before - r0) * 480);
    T_CHECK(now <= start + (after - r0 + 1) * 480);
    /* a second process given the spec it prints computes the same now */
    char full[96];
    snprintf(full, sizeof full, "%s", sb_clock_spec());
    int64_t a = sb_now_ms();
    T_EQ(sb_clock_use_scaled(full, err), 0);
    int64_t b = sb_now_ms(), a2 = real_ms();
    T_CHECK(b >= a && b <= start + (a2 - r0 + 1) * 480);
    /* a wait on the clock is ms / scale real ms (checked as a lower bound on the clock) */
    int64_t t0 = sb_now_ms();
    sb_sleep_ms(4800);                       /* 10 real ms */
    T_CHECK(sb_now_ms() - t0 >= 4800);
    T_EQ(sb_clock_real_ms(4800), 10);
    T_EQ(sb_clock_real_ms(1), 1);           /* never a zero wait for a positive one */
    T_EQ(sb_clock_real_ms(0), 0);

    /* the fake clock replaces it, NULL restores the system clock */
    int64_t fake = 1000;
    sb_clock fc = {fake_now, fake_sleep, &fake};
    sb_clock_set(&fc);
    T_EQ(sb_now_ms(), 1000);
    T_CHECK(sb_clock_scale() == 1.0 && sb_clock_spec() == NULL);
    sb_sleep_ms(500);
    T_EQ(sb_now_ms(), 1500);
    T_EQ(sb_clock_real_ms(500), 500);
    sb_clock_set(NULL);
    int64_t s0 = real_ms(), s1 = sb_now_ms(), s2 = real_ms();
    T_CHECK(s1 >= s0 && s1 <= s2);

    /* the environment */
    unsetenv("SELLERBRIDGE_CLOCK");
    T_EQ(sb_clock_from_env(err), 0);
    T_CHECK(sb_clock_spec() == NULL);
    setenv("SELLERBRIDGE_CLOCK", "", 1);
    T_EQ(sb_clock_from_env(err), 0);
    T_CHECK(sb_clock_spec() == NULL);
    setenv("SELLERBRIDGE_CLOCK", "60@1796000000000", 1);
    T_EQ(sb_clock_from_env(err), 0);
    T_STREQ(sb_clock_spec(), "60@1796000000000=2026-11-30T00:53:20Z");
    setenv("SELLERBRIDGE_CLOCK", "fast", 1);
    T_EQ(sb_clock_from_env(err), SB_EINVAL);
    T_CONTAINS(err, "SELLERBRIDGE_CLOCK: clock 'fast': the scale 'fast'");
    T_STREQ(sb_clock_spec(), "60@1796000000000=2026-11-30T00:53:20Z");   /* kept */
    sb_clock_set(NULL);
    return t_done();
}
