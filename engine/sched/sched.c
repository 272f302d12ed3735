/* sched.c: the schedule arithmetic and the daemon loop (see sched.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "sched/sched.h"
#include "sync/engine.h"
#include "sync/orders.h"
#include "sync/products.h"
#include "sync/stock.h"
#include "sync/tracking.h"

static volatile sig_atomic_t want_orders, want_dispatched;

int sb_sched_request(const char *job) {
    if (!strcmp(job, "orders")) want_orders = 1;
    else if (!strcmp(job, "update-dispatched")) want_dispatched = 1;
    else return -1;
    return 0;
}

/* The jobs that follow an orders check: stock when enabled (it sends only what changed),
 * tracking confirmations when auto update is on (or asked for), products once a day. */
static void after_check(sb_engine *e, int manual_dispatch, char *last_products_day) {
    char err[SB_ERRLEN];
    if (sb_settings_bool(&e->settings, "stock.enabled")) {
        sb_stock_result r;
        if (sb_sync_stock(e, &r, err)) sb_error("stock sync failed integration=%s: %s", e->name, err);
    }
    if (manual_dispatch || sb_settings_bool(&e->settings, "additional.auto_update_status")) {
        sb_tracking_result r;
        if (sb_tracking_send(e, manual_dispatch, &r, err)) sb_error("tracking confirmations failed integration=%s: %s", e->name, err);
    }
    if (sb_settings_bool(&e->settings, "products.enabled") && strcmp(last_products_day, e->today)) {
        sb_products_result r;
        int rc = sb_sync_products(e, &r, err);
        if (!rc) snprintf(last_products_day, 16, "%s", e->today);
        else if (rc != SB_ELATER) sb_error("products download failed integration=%s: %s", e->name, err);
        /* SB_ELATER: Amazon is still making the report; the next check looks at it again */
    }
}

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

typedef struct integ_state {
    int64_t id;
    char name[128];
    int64_t next;       /* next automatic check, epoch seconds; 0 = not scheduled */
    int streak;
    char products_day[16];
    sb_rules *rules;    /* the integration's pack that loaded last: kept if an edit breaks it */
    sb_spapi *api;      /* its Amazon client: token, buckets and Amazon's clock carry over */
} integ_state;

/* The integrations as the database has them now: a new one joins, a removed one goes,
 * and each one kept keeps its state. The clients are dropped (rebuilt at their next run)
 * because this runs when another connection changed the database: the settings or the
 * credentials behind a client may be what changed. */
static int load_integrations(sb_store *s, integ_state **in, int *n, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "SELECT id, name FROM integrations ORDER BY id", &st, err);
    if (rc) return rc;
    integ_state *out = NULL;
    int m = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (m == cap) {
            integ_state *g = realloc(out, (size_t)(cap = cap ? cap * 2 : 8) * sizeof *out);
            if (!g) { rc = sb_seterr(err, SB_ENOMEM, "engine: out of memory reading the integrations"); break; }
            out = g;
        }
        integ_state *x = &out[m++];
        memset(x, 0, sizeof *x);
        x->id = sqlite3_column_int64(st, 0);
        snprintf(x->name, sizeof x->name, "%s", sqlite3_column_text(st, 1));
        for (int i = 0; i < *n; i++)
            if ((*in)[i].id == x->id) {
                *x = (*in)[i];
                snprintf(x->name, sizeof x->name, "%s", sqlite3_column_text(st, 1));
                (*in)[i].id = 0;            /* moved */
                break;
            }
        sb_spapi_free(x->api);
        x->api = NULL;
    }
    sqlite3_finalize(st);
    if (rc) { free(out); return rc; }
    for (int i = 0; i < *n; i++)
        if ((*in)[i].id) {                  /* gone from the database */
            sb_info("integration %s is no longer in the database; its jobs stop", (*in)[i].name);
            sb_rules_free((*in)[i].rules);
            sb_spapi_free((*in)[i].api);
        }
    if (m > *n) sb_info("engine integrations=%d", m);
    free(*in);
    *in = out;
    *n = m;
    return 0;
}

static int default_orders_job(void *ud, sb_engine *e, long *fetched, int64_t *come_back_ms, char *err) {
    (void)ud;
    sb_orders_result r;
    int rc = sb_sync_orders(e, &r, err);
    *fetched = r.created + r.updated;
    *come_back_ms = r.paused_until;
    return rc;
}

static void save_next(sb_store *s, int64_t integ, int64_t next, int streak) {
    char ts[32];
    sqlite3_stmt *st;
    sb_time_format(next, ts, sizeof ts);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO sync_state(integration_id, job, next_check_at, empty_streak) "
                                  "VALUES (?1, 'orders', ?2, ?3) ON CONFLICT(integration_id, job) DO UPDATE SET "
                                  "next_check_at = ?2, empty_streak = ?3", -1, &st, NULL) != SQLITE_OK) return;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, streak);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

/* Changes when another connection (a person's `settings set`, the dashboard) commits. */
static int64_t data_version(sb_store *s) {
    static const char *sql = "PRAGMA data_version";
    sqlite3_stmt *st;
    char err[SB_ERRLEN];
    int64_t v = -1;
    if (sb_store_cached(s, sql, &st, err)) return -1;     /* asked every second: prepared once */
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

int sb_sched_run(sb_store *s, const sb_sched_opts *o, char *err) {
    int rc = sb_store_lock_engine(s, err);
    if (rc) return rc;
    integ_state *in = NULL;
    int n = 0;
    if ((rc = load_integrations(s, &in, &n, err))) return rc;
    long runs = 0;
    int64_t wake = 0, seen = -2;    /* when the integrations are due to be looked at again */
    sb_info("engine started integrations=%d", n);
    while (!(o->stop && *o->stop)) {
        int64_t now = sb_now();
        int run_now = want_orders, dispatched_now = want_dispatched;
        want_orders = want_dispatched = 0;
        if (o->until_ms && sb_now_ms() >= o->until_ms) break;
        /* Idle: nothing due, nothing asked for, no other connection changed the database
         * (settings included). Wait a second, without reading every integration's settings. */
        int64_t dv = data_version(s);
        if (!run_now && !dispatched_now && dv == seen && now < wake) {
            int64_t w = (wake - now) * 1000;
            if (w > 1000) w = 1000;
            if (o->until_ms && sb_now_ms() + w > o->until_ms) w = o->until_ms - sb_now_ms();
            if (w > 0) sb_sleep_ms(w);
            continue;
        }
        if (seen != -2 && dv != seen && (rc = load_integrations(s, &in, &n, err))) break;
        seen = dv;
        if (o->visits) (*o->visits)++;
        int64_t soonest = now + 60;
        for (int i = 0; i < n; i++) {
            sb_engine *e = NULL;
            char e2[SB_ERRLEN];
            if (sb_engine_open(s, o->db_path, in[i].id, &e, e2)) {
                sb_error("cannot open integration %s: %s", in[i].name, e2);
                continue;
            }
            e->stop = o->stop;
            char aerr[SB_ERRLEN];
            sb_engine_api_keep(e, &in[i].api, aerr);    /* when it fails, the job says why */
            int on = sb_settings_bool(&e->settings, "orders.enabled") && sb_settings_bool(&e->settings, "orders.auto_download");
            int start = sb_sched_parse_start(sb_settings_str(&e->settings, "orders.auto_download_start"));
            const char *tz = sb_settings_str(&e->settings, "integration.timezone");
            if (!on && !run_now) {
                in[i].next = 0;
                if (dispatched_now) after_check(e, 1, in[i].products_day);
                sb_engine_close(e);
                continue;
            }
            if (!in[i].next) in[i].next = on ? sb_sched_first(now, start, tz) : now;
            if (now >= in[i].next || run_now) {
                long fetched = 0;
                int64_t come_back_ms = 0;
                int jrc = 0;
                if (!o->orders_job) jrc = sb_engine_rules_keep(e, &in[i].rules, e2);
                if (!jrc) jrc = (o->orders_job ? o->orders_job : default_orders_job)(o->ud, e, &fetched, &come_back_ms, e2);
                else sb_error("orders check skipped integration=%s: %s", in[i].name, e2);
                int64_t at = now;
                if (jrc == SB_EINTR) {
                    sb_info("orders check stopped integration=%s (the window is repeated at the next start): %s",
                            in[i].name, e2);
                    sb_engine_close(e);
                    break;
                }
                int brought = jrc == 0 && fetched > 0;
                in[i].next = sb_sched_next(at, brought, &in[i].streak, start, tz);
                if (jrc == SB_ELATER) {
                    /* paused for Amazon's rate limit: back as soon as it grants the next page */
                    int64_t t = (come_back_ms + 999) / 1000;
                    in[i].next = t > at ? t : at + 1;
                }
                char ts[32];
                sb_info("orders check integration=%s result=%s fetched=%ld next_check=%s", in[i].name,
                        jrc == SB_ELATER ? "paused" : jrc ? "failed" : "ok", fetched,
                        sb_time_format(in[i].next, ts, sizeof ts));
                save_next(s, in[i].id, in[i].next, in[i].streak);
                if (o->on_check) o->on_check(o->ud, in[i].name, at, jrc ? -1 : fetched, in[i].next);
                if (!o->orders_job) after_check(e, dispatched_now, in[i].products_day);
                runs++;
            } else if (dispatched_now) {
                after_check(e, 1, in[i].products_day);
            }
            if (in[i].next && in[i].next < soonest) soonest = in[i].next;
            sb_engine_close(e);
        }
        wake = soonest;
        if (o->max_runs && runs >= o->max_runs) break;
        /* sleep in short steps so a signal is noticed within a second */
        int64_t wait_ms = (soonest - sb_now()) * 1000;
        if (o->until_ms && sb_now_ms() + wait_ms > o->until_ms) wait_ms = o->until_ms - sb_now_ms();
        if (wait_ms > 1000 && !o->until_ms) wait_ms = 1000;
        if (wait_ms > 0) sb_sleep_ms(wait_ms);
    }
    for (int i = 0; i < n; i++) {
        sb_rules_free(in[i].rules);
        sb_spapi_free(in[i].api);
    }
    free(in);
    sb_info("engine stopped runs=%ld", runs);
    return rc;
}
