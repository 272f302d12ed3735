/* test_sched.c: the auto-download schedule, on an injected clock. The arithmetic is
 * checked against the settings page's words, then the daemon loop runs a whole day in
 * milliseconds with a scripted orders job and the exact sequence of checks is asserted. */
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/log.h"
#include "sched/sched.h"
#include "settings/settings.h"
#include "store/store.h"
#include "sync/engine.h"
#include "t.h"
#include "store/store_int.h"

static int64_t fake_ms;
/* a person's `settings set` from another connection, done when the clock passes flip_ms */
static sb_store *flip_store;
static int64_t flip_ms, flip_integ;
/* an integration added from another connection when the clock passes add_ms */
static sb_store *add_store;
static int64_t add_ms;
static int64_t fnow(void *ud) { (void)ud; return fake_ms; }
static void fsleep(void *ud, int64_t ms) {
    (void)ud;
    if (ms > 0) fake_ms += ms;
    if (add_store && fake_ms >= add_ms) {
        char err[SB_ERRLEN];
        int64_t id;
        if (sb_store_integration_add(add_store, "second", &id, err)) fprintf(stderr, "%s\n", err);
        add_store = NULL;
    }
    if (flip_store && fake_ms >= flip_ms) {
        char err[SB_ERRLEN];
        if (sb_settings_set(flip_store, flip_integ, "orders.auto_download", "true", err)) fprintf(stderr, "%s\n", err);
        flip_store = NULL;
    }
}
static const sb_clock fake = {fnow, fsleep, NULL};

#define MIN 60
typedef struct script {
    int64_t at[200];
    long fetched[200];
    int n;
    const long *brings;         /* orders each successive check brings */
    int nbrings;
    int pause_at_check;         /* this check (1-based) pauses for the rate limit */
    char names[200][16];        /* the integration of each check */
} script;

static int job(void *ud, struct sb_engine *e, long *fetched, int64_t *come_back_ms, char *err) {
    script *s = ud;
    (void)e; (void)err;
    *fetched = s->n < s->nbrings ? s->brings[s->n] : 0;
    if (s->pause_at_check == s->n + 1) {         /* Amazon grants the next page in 179 s */
        *come_back_ms = fake_ms + 179000;
        return SB_ELATER;
    }
    return 0;
}

static void on_check(void *ud, const char *integ, int64_t at, long fetched, int64_t next) {
    script *s = ud;
    (void)next;
    if (s->n < 200) {
        s->at[s->n] = at;
        s->fetched[s->n] = fetched;
        snprintf(s->names[s->n], sizeof s->names[0], "%s", integ);
        s->n++;
    }
}

int main(void) {
    int64_t day = sb_time_parse("2026-11-27T00:00:00Z");
    int streak = 0;

    /* the waits after consecutive empty checks: 5, 10, 20, 40, 80, 120, 120 minutes */
    int64_t t = day + 8 * 3600;
    int64_t expect_waits[] = {5, 10, 20, 40, 80, 120, 120};
    for (int i = 0; i < 7; i++) {
        int64_t next = sb_sched_next(t, 0, &streak, 8 * 3600, "UTC");
        T_EQ((next - t) / MIN, expect_waits[i]);
        t = next;
    }
    /* a check that brings orders starts again at 5 */
    int64_t next = sb_sched_next(t, 1, &streak, 8 * 3600, "UTC");
    T_EQ((next - t) / MIN, 5);
    T_EQ(streak, 0);
    /* never past midnight: the next day starts at its start time */
    streak = 5;
    next = sb_sched_next(day + 23 * 3600 + 30 * MIN, 0, &streak, 8 * 3600, "UTC");
    T_EQ(next, day + 86400 + 8 * 3600);
    T_EQ(streak, 0);
    /* before the start time there are no checks; after it, the first is now */
    T_EQ(sb_sched_first(day + 6 * 3600, 8 * 3600, "UTC"), day + 8 * 3600);
    T_EQ(sb_sched_first(day + 9 * 3600, 8 * 3600, "UTC"), day + 9 * 3600);
    /* the start is local time: 08:00 in Sydney (UTC+11 in November) is 21:00 UTC the
     * day before; at 19:00 UTC (06:00 there) the first check waits for it */
    T_EQ(sb_sched_first(day - 5 * 3600, 8 * 3600, "Australia/Sydney"), day - 3 * 3600);
    T_EQ(sb_sched_first(day + 3600, 8 * 3600, "Australia/Sydney"), day + 3600);
    T_EQ(sb_sched_parse_start("07:30"), 7 * 3600 + 30 * MIN);
    T_EQ(sb_sched_parse_start("7h"), -1);

    /* the daemon over a whole day on the fake clock */
    char dir[] = "/tmp/sbschedXXXXXX", db[64], err[SB_ERRLEN];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/t.db", dir);
    sb_store *s;
    int64_t integ;
    T_EQ(sb_store_open(db, SB_STORE_CREATE, &s, err), 0);
    T_EQ(sb_store_integration_add(s, "main", &integ, err), 0);
    T_EQ(sb_settings_set(s, integ, "orders.auto_download_start", "06:00", err), 0);
    sb_log_set_level(SB_LOG_WARN);
    fake_ms = (day + 5 * 3600) * 1000;          /* the engine starts at 05:00 */
    sb_clock_set(&fake);
    long brings[] = {3, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    script sc = {.brings = brings, .nbrings = 18};
    sb_sched_opts o = {.db_path = db, .until_ms = (day + 86400 + 6 * 3600 + 1) * 1000, .orders_job = job, .ud = &sc, .on_check = on_check};
    T_EQ(sb_sched_run(s, &o, err), 0);
    sb_clock_set(NULL);
    /* 06:00 (3 orders) +5 06:05 (0) +5 06:10 (0) +10 06:20 (1) +5 06:25 +5 06:30 +10 06:40
     * +20 07:00 +40 07:40 +80 09:00 then every 120: 11:00 13:00 15:00 17:00 19:00 21:00
     * 23:00; none after midnight until 06:00 the next day */
    const char *want[] = {"06:00", "06:05", "06:10", "06:20", "06:25", "06:30", "06:40", "07:00", "07:40",
                          "09:00", "11:00", "13:00", "15:00", "17:00", "19:00", "21:00", "23:00", "+06:00"};
    int nwant = (int)(sizeof want / sizeof *want);
    T_EQ(sc.n, nwant);
    for (int i = 0; i < sc.n && i < nwant; i++) {
        char got[16];
        int64_t at = sc.at[i] - day;
        snprintf(got, sizeof got, "%s%02d:%02d", at >= 86400 ? "+" : "", (int)(at % 86400) / 3600, (int)(at % 3600) / 60);
        T_STREQ(got, want[i]);
    }
    /* the next check is stored for people to see */
    sqlite3_stmt *st;
    sqlite3_prepare_v2(s->db, "SELECT next_check_at FROM sync_state WHERE job = 'orders'", -1, &st, NULL);
    T_CHECK(sqlite3_step(st) == SQLITE_ROW);
    T_STREQ((const char *)sqlite3_column_text(st, 0), "2026-11-28T06:05:00Z");
    sqlite3_finalize(st);
    /* auto download off: no checks at all */
    T_EQ(sb_settings_set(s, integ, "orders.auto_download", "false", err), 0);
    sc.n = 0;
    fake_ms = (day + 7 * 3600) * 1000;
    o.until_ms = (day + 12 * 3600) * 1000;
    sb_clock_set(&fake);
    sb_store *s2;
    T_EQ(sb_store_open(db, 0, &s2, err), 0);
    T_EQ(sb_sched_run(s2, &o, err), SB_EBUSY);     /* the first engine still holds the lock */
    sb_store_close(s2);
    T_EQ(sb_sched_run(s, &o, err), 0);
    sb_clock_set(NULL);
    T_EQ(sc.n, 0);

    /* as it runs for real (a second's naps, no end time): idle from 07:00, it does not read
     * the integrations' settings every second, yet sees a person switch auto download on
     * at 07:30 from another connection within that second */
    T_EQ(sb_store_open(db, 0, &s2, err), 0);
    long visits = 0;
    flip_store = s2;
    flip_integ = integ;
    flip_ms = (day + 7 * 3600 + 30 * MIN) * 1000;
    fake_ms = (day + 7 * 3600) * 1000;
    sc.n = 0;
    sb_sched_opts live = {.db_path = db, .max_runs = 1, .orders_job = job, .ud = &sc, .on_check = on_check, .visits = &visits};
    sb_clock_set(&fake);
    T_EQ(sb_sched_run(s, &live, err), 0);
    sb_clock_set(NULL);
    T_EQ(sc.n, 1);
    T_CHECK(sc.at[0] >= day + 7 * 3600 + 30 * MIN && sc.at[0] <= day + 7 * 3600 + 30 * MIN + 1);
    T_CHECK(visits >= 2 && visits <= 40);      /* once a minute at most, not 1,800 times */
    if (visits > 40) fprintf(stderr, "idle daemon looked at the integrations %ld times in 30 minutes\n", visits);
    sb_store_close(s2);

    /* a check paused by Amazon's rate limit comes back when Amazon grants the next page
     * (179 s later), not at the schedule's 5 minutes; and an integration added from another
     * connection while the engine runs has its checks too */
    T_EQ(sb_settings_set(s, integ, "orders.auto_download", "true", err), 0);
    T_EQ(sb_store_open(db, 0, &s2, err), 0);
    flip_store = NULL;
    add_store = s2;
    add_ms = (day + 10 * 3600 + 2 * MIN) * 1000;
    sc.n = 0;
    sc.pause_at_check = 1;
    fake_ms = (day + 10 * 3600) * 1000;
    sb_sched_opts paused = {.db_path = db, .until_ms = (day + 10 * 3600 + 20 * MIN) * 1000, .orders_job = job,
                            .ud = &sc, .on_check = on_check};
    sb_clock_set(&fake);
    T_EQ(sb_sched_run(s, &paused, err), 0);
    sb_clock_set(NULL);
    T_CHECK(sc.n >= 3);
    int64_t mains[200];
    int second = 0, nmain = 0;
    for (int i = 0; i < sc.n; i++) {
        if (!strcmp(sc.names[i], "second")) second++;
        else mains[nmain++] = sc.at[i];
    }
    T_CHECK(nmain >= 2);
    if (nmain >= 2) T_EQ(mains[1] - mains[0], 179);
    T_CHECK(second >= 1);
    sb_store_close(s2);
    sb_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    T_EQ(system(cmd), 0);
    return t_done();
}
