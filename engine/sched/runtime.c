/* runtime.c: the engine. Every (integration, job) has its own due time, and a job that
 * is due starts on a thread of its own, so no integration's work, and no job of one
 * integration, waits for another's: an orders window at Amazon's pace, a stock feed
 * Amazon is still processing, a slow answer or a retry of one integration delays nothing
 * else. A job never sleeps for Amazon: a rate-limit wait over a second, a feed or report
 * still being processed, ends the run with the time to come back (SB_ELATER, a waiting
 * feed), and the runtime starts it again then.
 *
 * Why threads and not one thread with libcurl's multi interface: a job is a chain of
 * dependent calls with the rules (Lua) and SQLite transactions between them; on a
 * thread it stays the straight-line code the tests and crash loops already prove, and the
 * waits that made the old loop late are gone from it. The libuv loop owns time: it wakes
 * for the next due job, for a job that ended (uv_async) and for a person's change to the
 * database (PRAGMA data_version, looked at every second), and the jobs' SQLite
 * connections write in short per-order transactions, serialised by SQLite's lock.
 *
 * Who owns what: the loop thread owns the schedule and this file's structures; a job
 * thread owns its sb_engine and SQLite connection and writes only its job's result
 * fields, handed back by its `finished` flag. The integration's Amazon client (token, buckets,
 * Amazon's clock) is shared by its jobs and is thread-safe. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "aws/sqs.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "sched/sched.h"
#include "settings/settings.h"
#include "store/jobs.h"
#include "sync/engine.h"
#include "sync/notify.h"
#include "sync/orders.h"
#include "sync/products.h"
#include "sync/stock.h"
#include "sync/tracking.h"

/* A stock run that left SKUs on a feed Amazon has not finished, or a products report
 * Amazon is still making, is looked at again this much later (seconds on the clock). */
#define RT_FEED_RECHECK_S 120
#define RT_REPORT_RECHECK_S 60
/* The notifications job after a failed read: 5 s, doubled each time, at most 5 minutes;
 * after a read that waited nothing (notifications.wait_seconds 0), 5 seconds. */
#define RT_NOTIFY_BACKOFF_MS 5000
#define RT_NOTIFY_BACKOFF_MAX_MS 300000
#define RT_NOTIFY_IDLE_MS 5000
/* Notifications count as arriving while the queue was read without error within this
 * long and one has come since the engine started (proof that Amazon delivers): only then
 * does notifications.sweep_minutes stretch the scheduled download. */
#define RT_NOTIFY_HEALTHY_MS 300000

static atomic_int want_orders, want_dispatched;

int sb_sched_request(const char *job) {
    if (!strcmp(job, "orders")) atomic_store(&want_orders, 1);
    else if (!strcmp(job, "update-dispatched")) atomic_store(&want_dispatched, 1);
    else return -1;
    return 0;
}

const char *sb_job_name(int kind) {
    static const char *names[SB_JOB_KINDS] = {"tracking", "notifications", "orders", "stock", "products"};
    return kind >= 0 && kind < SB_JOB_KINDS ? names[kind] : "?";
}

struct rt;
struct rt_integ;

typedef struct rt_job {
    struct rt *rt;
    struct rt_integ *in;
    int kind;
    int64_t due_ms;             /* the next run; 0 = not scheduled */
    int manual;                 /* asked for by a person (the dashboard, `sync` requests) */
    int running;
    int64_t started_ms, started_due_ms;   /* when the run started, and when it was due */
    uv_thread_t thread;
    sb_rules *rules;            /* orders: the pack that loaded last (kept across runs) */
    /* written by the job's thread, read by the loop once `finished` is set */
    atomic_int finished;
    int rc;
    long fetched;               /* orders, notifications: orders created + updated */
    long received;              /* notifications: messages read */
    int64_t come_back_ms;       /* SB_ELATER or a waiting feed: when to look again */
    char err[SB_ERRLEN];
    char why[256];              /* waiting: for what, in a person's words */
} rt_job;

typedef struct rt_integ {
    int64_t id;
    char name[128];
    int gone;                   /* no longer in the database: freed when its jobs end */
    int listed;                 /* reload: still in the database (1), or new there (2) */
    char *fingerprint;          /* its settings and credentials as last read */
    rt_job jobs[SB_JOB_KINDS];
    int nrunning;
    sb_spapi *api;              /* shared by its jobs; built by the first that needs it */
    sb_sqs *sqs;                /* the notifications job's reader of the queue, kept across its reads */
    uv_mutex_t api_mu;          /* held while it is built (reading and decrypting the credentials) */
    int api_stale;              /* settings or credentials changed: rebuild when idle */
    int sqs_stale;              /* the same for the queue's reader */
    int streak;                 /* orders: consecutive empty checks */
    int notify_failures;        /* notifications: consecutive failed reads */
    int64_t notify_ok_ms;       /* the last read without error, 0 = none */
    int notify_delivered;       /* a notification came since the engine started */
    /* the settings the schedule follows, read on the loop thread */
    int orders_on, stock_on, tracking_auto, products_on, start;
    int notify_on, notify_wait_s, sweep_min;
    char tz[64];
} rt_integ;

typedef struct rt {
    sb_store *s;
    const sb_sched_opts *o;
    uv_loop_t loop;
    uv_async_t done;
    uv_timer_t nap;
    rt_integ **in;
    int n;
    int running, max_jobs;
    long runs;
    int64_t seen_version, checked_ms;
} rt;

static void on_wake(uv_async_t *h) { (void)h; }
static void on_nap(uv_timer_t *h) { (void)h; }

/* ---- the integrations and their settings ---- */

static void integ_free(rt_integ *in) {
    if (!in) return;
    for (int k = 0; k < SB_JOB_KINDS; k++) sb_rules_free(in->jobs[k].rules);
    sb_spapi_free(in->api);
    sb_sqs_free(in->sqs);
    uv_mutex_destroy(&in->api_mu);
    free(in->fingerprint);
    free(in);
}

/* Reads what the schedule needs of integration in; marks its client stale when its
 * settings or credentials changed since the last read. */
static int read_settings(rt *r, rt_integ *in, char *err) {
    char *fp = NULL;
    int rc = sb_store_integration_fingerprint(r->s, in->id, &fp, err);
    if (rc) return rc;
    if (in->fingerprint && !strcmp(fp, in->fingerprint)) { free(fp); return 0; }
    sb_settings st;
    if ((rc = sb_settings_load(r->s, in->id, &st, err))) { free(fp); return rc; }   /* read again next time */
    if (in->fingerprint && in->api) in->api_stale = 1;
    if (in->fingerprint && in->sqs) in->sqs_stale = 1;
    free(in->fingerprint);
    in->fingerprint = fp;
    in->orders_on = sb_settings_bool(&st, "orders.enabled") && sb_settings_bool(&st, "orders.auto_download");
    in->stock_on = sb_settings_bool(&st, "stock.enabled");
    in->tracking_auto = sb_settings_bool(&st, "additional.auto_update_status");
    in->products_on = sb_settings_bool(&st, "products.enabled");
    in->notify_on = sb_settings_bool(&st, "notifications.enabled") && *sb_settings_str(&st, "notifications.queue_url");
    in->notify_wait_s = (int)sb_settings_int(&st, "notifications.wait_seconds");
    in->sweep_min = (int)sb_settings_int(&st, "notifications.sweep_minutes");
    in->start = sb_sched_parse_start(sb_settings_str(&st, "orders.auto_download_start"));
    if (in->start < 0) in->start = 0;
    snprintf(in->tz, sizeof in->tz, "%s", sb_settings_str(&st, "integration.timezone"));
    sb_settings_free(&st);
    /* a schedule switched off stops; switched on, it starts at its next start time */
    rt_job *oj = &in->jobs[SB_JOB_ORDERS];
    if (!in->orders_on && !oj->manual) oj->due_ms = 0;
    else if (in->orders_on && !oj->due_ms) oj->due_ms = sb_sched_first(sb_now(), in->start, in->tz) * 1000;
    /* notifications: read as soon as they are on, and after every read */
    rt_job *nj = &in->jobs[SB_JOB_NOTIFY];
    if (!in->notify_on) { nj->due_ms = 0; in->notify_delivered = 0; in->notify_ok_ms = 0; }
    else if (!nj->due_ms && !nj->running) nj->due_ms = sb_now_ms();
    /* products: once a local day, from the day's start time */
    rt_job *pj = &in->jobs[SB_JOB_PRODUCTS];
    if (!in->products_on) pj->due_ms = 0;
    else if (!pj->due_ms) pj->due_ms = sb_sched_first(sb_now(), in->start, in->tz) * 1000;
    return 0;
}

/* When the integration's next confirmation is due (the outbox decides, so a dispatch
 * from another connection is seen within a second). */
static void confirmation_due(rt *r, rt_integ *in) {
    rt_job *j = &in->jobs[SB_JOB_TRACKING];
    if (!in->tracking_auto || j->running || j->manual) return;
    char err[SB_ERRLEN];
    int64_t due = 0, now = sb_now();
    if (sb_store_confirmation_due(r->s, in->id, now, &due, err)) {
        sb_error("engine: %s", err);
        return;
    }
    j->due_ms = due ? due * 1000 : 0;
}

/* The integrations as the database has them now: a new one joins, a removed one goes
 * (once its running jobs end), each one kept keeps its state. */
static int reload(rt *r, char *err) {
    sb_store_integ *rows;
    int n, rc = sb_store_integrations(r->s, &rows, &n, err);
    if (rc) return rc;
    if (r->o->visits) (*r->o->visits)++;
    rt_integ **out = calloc((size_t)n + 1, sizeof *out);
    if (!out) { free(rows); return sb_seterr(err, SB_ENOMEM, "engine: out of memory reading the integrations"); }
    int added = 0;
    for (int i = 0; i < n; i++) {
        rt_integ *in = NULL;
        for (int k = 0; k < r->n && !in; k++)
            if (r->in[k] && r->in[k]->id == rows[i].id && !r->in[k]->gone) in = r->in[k];
        if (in) in->listed = 1;
        else {
            if (!(in = calloc(1, sizeof *in))) { rc = SB_ENOMEM; break; }
            in->id = rows[i].id;
            in->listed = 2;
            uv_mutex_init(&in->api_mu);
            for (int k = 0; k < SB_JOB_KINDS; k++) {
                in->jobs[k].rt = r;
                in->jobs[k].in = in;
                in->jobs[k].kind = k;
            }
            added++;
        }
        snprintf(in->name, sizeof in->name, "%s", rows[i].name);
        out[i] = in;
    }
    free(rows);
    if (rc) {   /* nothing changes: the new ones go, the kept ones stay where they were */
        for (int i = 0; i < n && out[i]; i++) {
            if (out[i]->listed == 2) integ_free(out[i]);
            else out[i]->listed = 0;
        }
        free(out);
        return sb_seterr(err, rc, "engine: out of memory reading the integrations");
    }
    for (int i = 0; i < n; i++) {
        char e2[SB_ERRLEN];
        if (read_settings(r, out[i], e2)) sb_error("engine: integration %s: %s", out[i]->name, e2);
        confirmation_due(r, out[i]);
    }
    /* gone from the database: the ones with running jobs stay (marked) until they end */
    int keep = n;
    for (int k = 0; k < r->n; k++) {
        rt_integ *in = r->in[k];
        if (!in) continue;
        if (in->listed) { in->listed = 0; continue; }
        if (!in->gone) sb_info("integration %s is no longer in the database; its jobs stop", in->name);
        in->gone = 1;
        if (!in->nrunning) { integ_free(in); continue; }
        rt_integ **g = realloc(out, (size_t)(keep + 2) * sizeof *out);
        if (!g) { sb_error("engine: out of memory keeping integration %s until its jobs end", in->name); continue; }
        out = g;
        out[keep++] = in;
    }
    for (int i = 0; i < n; i++) out[i]->listed = 0;
    free(r->in);
    r->in = out;
    r->n = keep;
    if (added) sb_info("engine integrations=%d", n);
    return 0;
}

/* ---- a job's run, on its own thread ---- */

static int run_orders(rt_job *j, sb_engine *e, char *err) {
    const sb_sched_opts *o = j->rt->o;
    if (o->orders_job) return o->orders_job(o->ud, e, &j->fetched, &j->come_back_ms, err);
    int rc = sb_engine_rules_keep(e, &j->rules, err);
    if (rc) return rc;
    sb_orders_result r;
    rc = sb_sync_orders(e, &r, err);
    j->fetched = r.created + r.updated;
    j->come_back_ms = r.paused_until;
    if (rc == SB_ELATER) snprintf(j->why, sizeof j->why, "Amazon's rate limit for searchOrders");
    return rc;
}

static int run_notify(rt_job *j, sb_engine *e, char *err) {
    sb_notify_result r;
    int rc = sb_sync_notifications(e, &j->in->sqs, &r, err);     /* only this job uses the reader */
    j->fetched = r.created + r.updated;
    j->received = r.received;
    if (rc == SB_ELATER) {
        j->come_back_ms = r.paused_until;
        snprintf(j->why, sizeof j->why, "Amazon's rate limit for getOrder");
    }
    return rc;
}

static int run_stock(rt_job *j, sb_engine *e, char *err) {
    sb_stock_result r;
    int rc = sb_sync_stock(e, &r, err);
    if (r.waiting > 0) {
        j->come_back_ms = sb_now_ms() + RT_FEED_RECHECK_S * 1000;
        snprintf(j->why, sizeof j->why, "a stock feed Amazon is still processing (%ld SKU%s)", r.waiting,
                 r.waiting == 1 ? "" : "s");
    }
    return rc;
}

static int run_products(rt_job *j, sb_engine *e, char *err) {
    sb_products_result r;
    int rc = sb_sync_products(e, &r, err);
    if (rc == SB_ELATER) {
        j->come_back_ms = sb_now_ms() + RT_REPORT_RECHECK_S * 1000;
        snprintf(j->why, sizeof j->why, "the listings report Amazon is still making");
    }
    return rc;
}

static int run_tracking(rt_job *j, sb_engine *e, char *err) {
    sb_tracking_result r;
    int rc = sb_tracking_send(e, j->manual, &r, err);
    char counts[160], e2[SB_ERRLEN];
    snprintf(counts, sizeof counts, "{\"queued\":%ld,\"due\":%ld,\"sent\":%ld,\"failed\":%ld,\"retry_later\":%ld,"
             "\"not_required\":%ld}", r.queued, r.due, r.sent, r.failed, r.retry_later, r.not_required);
    if (rc != SB_EINTR && sb_engine_record_run(e, "tracking", rc == 0, rc ? err : NULL, counts, NULL, e2))
        sb_error("engine: %s", e2);
    j->fetched = r.sent;
    return rc;
}

static void job_main(void *arg) {
    rt_job *j = arg;
    rt *r = j->rt;
    rt_integ *in = j->in;
    sb_store *s = NULL;
    sb_engine *e = NULL;
    char err[SB_ERRLEN] = "";
    int rc = sb_store_open(r->o->db_path, 0, &s, err);
    if (!rc) rc = sb_engine_open(s, r->o->db_path, in->id, &e, err);
    if (!rc) {
        e->stop = r->o->stop;
        char aerr[SB_ERRLEN];
        uv_mutex_lock(&in->api_mu);
        if (!r->o->orders_job || j->kind != SB_JOB_ORDERS)
            sb_engine_api_keep(e, &in->api, aerr);      /* when it fails, the job says why */
        uv_mutex_unlock(&in->api_mu);
        switch (j->kind) {
        case SB_JOB_ORDERS: rc = run_orders(j, e, err); break;
        case SB_JOB_NOTIFY: rc = run_notify(j, e, err); break;
        case SB_JOB_STOCK: rc = run_stock(j, e, err); break;
        case SB_JOB_PRODUCTS: rc = run_products(j, e, err); break;
        default: rc = run_tracking(j, e, err); break;
        }
    }
    sb_engine_close(e);
    sb_store_close(s);
    j->rc = rc;
    snprintf(j->err, sizeof j->err, "%s", rc ? err : "");
    atomic_store(&j->finished, 1);      /* the loop reads the results after this */
    uv_async_send(&r->done);
}

/* ---- the loop's side ---- */

static void save(rt *r, rt_job *j, const char *state, int64_t since_ms, int64_t until_ms) {
    char err[SB_ERRLEN];
    sb_store_job sj = {
        .state = state, .since = since_ms / 1000, .next_due = (j->due_ms + 999) / 1000,
        .empty_streak = j->kind == SB_JOB_ORDERS ? j->in->streak : 0,
        .waiting_until = (until_ms + 999) / 1000, .waiting_why = until_ms ? j->why : NULL,
    };
    if (sb_store_job_save(r->s, j->in->id, sb_job_name(j->kind), &sj, err)) sb_error("engine: %s", err);
}

static int start(rt *r, rt_job *j, int64_t now_ms) {
    rt_integ *in = j->in;
    if (in->api_stale && !in->nrunning) {       /* new settings or credentials: a new client */
        sb_spapi_free(in->api);
        in->api = NULL;
        in->api_stale = 0;
    }
    if (j->kind == SB_JOB_NOTIFY && in->sqs_stale) {   /* its only user is not running */
        sb_sqs_free(in->sqs);
        in->sqs = NULL;
        in->sqs_stale = 0;
    }
    atomic_store(&j->finished, 0);
    j->rc = 0;
    j->fetched = j->received = 0;
    j->come_back_ms = 0;
    j->why[0] = j->err[0] = '\0';
    j->started_ms = now_ms;
    j->started_due_ms = j->due_ms;
    j->running = 1;
    in->nrunning++;
    r->running++;
    save(r, j, "running", now_ms, 0);
    if (uv_thread_create(&j->thread, job_main, j) != 0) {
        sb_error("engine: cannot start a thread for the %s job of integration %s; it is tried again in a minute",
                 sb_job_name(j->kind), in->name);
        j->running = 0;
        in->nrunning--;
        r->running--;
        j->due_ms = now_ms + 60000;
        save(r, j, "idle", now_ms, 0);
        return -1;
    }
    return 0;
}

static const char *result_word(int rc) {
    return rc == SB_ELATER ? "paused" : rc == SB_EINTR ? "stopped" : rc ? "failed" : "ok";
}

/* A job ended: when it runs next, what people see, and the jobs it makes due. */
static void finish(rt *r, rt_job *j) {
    rt_integ *in = j->in;
    uv_thread_join(&j->thread);
    j->running = 0;
    in->nrunning--;
    r->running--;
    r->runs++;
    int64_t at = j->started_ms / 1000, now_ms = sb_now_ms();
    int rc = j->rc, manual = j->manual;
    j->manual = 0;
    int64_t wait_until = 0;
    char ts[32];
    switch (j->kind) {
    case SB_JOB_ORDERS: {
        int brought = rc == 0 && j->fetched > 0;
        int64_t next = sb_sched_next(at, brought, &in->streak, in->start, in->tz);
        /* notifications bring the orders: the download is the safety net, at most every
         * notifications.sweep_minutes */
        if (in->notify_on && in->sweep_min > 0 && in->notify_delivered && in->notify_ok_ms &&
            now_ms - in->notify_ok_ms <= RT_NOTIFY_HEALTHY_MS && next < at + in->sweep_min * 60LL)
            next = at + in->sweep_min * 60LL;
        if (rc == SB_ELATER) {      /* back as soon as Amazon grants the next page */
            int64_t t = (j->come_back_ms + 999) / 1000;
            next = t > at ? t : at + 1;
            wait_until = next * 1000;
        }
        j->due_ms = in->orders_on || rc == SB_ELATER ? next * 1000 : 0;
        if (rc == SB_EINTR)
            sb_info("orders check stopped integration=%s (the window goes on at the next start): %s", in->name, j->err);
        sb_info("orders check integration=%s result=%s fetched=%ld next_check=%s", in->name, result_word(rc),
                j->fetched, j->due_ms ? sb_time_format(j->due_ms / 1000, ts, sizeof ts) : "none");
        if (rc && rc != SB_ELATER && rc != SB_EINTR) sb_error("orders check failed integration=%s: %s", in->name, j->err);
        if (r->o->on_check) r->o->on_check(r->o->ud, in->name, at, rc ? -1 : j->fetched, j->due_ms / 1000);
        /* what follows a check: stock sends what changed; confirmations of auto-dispatched
         * or earlier orders the outbox holds come due by their own time */
        if (!r->o->orders_job && rc != SB_EINTR) {
            rt_job *sj = &in->jobs[SB_JOB_STOCK];
            if (in->stock_on && !sj->running && (!sj->due_ms || sj->due_ms > now_ms)) sj->due_ms = now_ms;
        }
        break;
    }
    case SB_JOB_NOTIFY:
        if (rc == 0 || rc == SB_ELATER) {
            in->notify_failures = 0;
            in->notify_ok_ms = now_ms;
            if (j->received) in->notify_delivered = 1;
        } else if (rc != SB_EINTR && in->notify_failures < 16) in->notify_failures++;
        if (!in->notify_on) j->due_ms = 0;
        else if (rc == SB_ELATER) j->due_ms = wait_until = j->come_back_ms > now_ms ? j->come_back_ms : now_ms + 1000;
        else if (rc && rc != SB_EINTR) {
            int64_t back = (int64_t)RT_NOTIFY_BACKOFF_MS << (in->notify_failures - 1);
            j->due_ms = now_ms + (back < RT_NOTIFY_BACKOFF_MAX_MS ? back : RT_NOTIFY_BACKOFF_MAX_MS);
            sb_error("notifications failed integration=%s (read again at %s): %s", in->name,
                     sb_time_format(j->due_ms / 1000, ts, sizeof ts), j->err);
        } else j->due_ms = j->received || in->notify_wait_s > 0 ? now_ms : now_ms + RT_NOTIFY_IDLE_MS;
        /* an order stored or changed: stock sends what changed */
        if (j->fetched && rc != SB_EINTR) {
            rt_job *sj = &in->jobs[SB_JOB_STOCK];
            if (in->stock_on && !sj->running && (!sj->due_ms || sj->due_ms > now_ms)) sj->due_ms = now_ms;
        }
        break;
    case SB_JOB_STOCK:
        j->due_ms = j->come_back_ms;
        wait_until = j->come_back_ms;
        if (rc && rc != SB_EINTR) sb_error("stock sync failed integration=%s: %s", in->name, j->err);
        break;
    case SB_JOB_PRODUCTS:
        /* done: tomorrow at the day's start; Amazon still making the report: when it may
         * be ready; failed: in half an hour */
        j->due_ms = rc == SB_ELATER ? j->come_back_ms : rc && rc != SB_EINTR ? now_ms + 1800 * 1000
                  : in->products_on ? sb_sched_next_day(at, in->start, in->tz) * 1000 : 0;
        wait_until = rc == SB_ELATER ? j->come_back_ms : 0;
        if (rc == SB_ELATER) sb_info("products download waits integration=%s: %s", in->name, j->err);
        else if (rc && rc != SB_EINTR) sb_error("products download failed integration=%s: %s", in->name, j->err);
        break;
    default:
        j->due_ms = 0;
        if (rc && rc != SB_EINTR) sb_error("tracking confirmations failed integration=%s: %s", in->name, j->err);
        else if (j->fetched) sb_info("tracking confirmations integration=%s sent=%ld%s", in->name, j->fetched,
                                     manual ? " (asked for)" : "");
        confirmation_due(r, in);    /* failed rows come back at their next attempt */
        break;
    }
    save(r, j, wait_until ? "waiting" : "idle", now_ms, wait_until);
    if (r->o->on_run) r->o->on_run(r->o->ud, in->name, j->kind, j->started_due_ms, j->started_ms, rc, j->due_ms);
}

static void collect(rt *r) {
    for (int i = 0; i < r->n; i++) {
        rt_integ *in = r->in[i];
        for (int k = 0; in && k < SB_JOB_KINDS; k++) {
            rt_job *j = &in->jobs[k];
            if (!j->running) continue;
            if (atomic_load(&j->finished)) finish(r, j);
        }
        if (in && in->gone && !in->nrunning) {
            integ_free(in);
            r->in[i] = NULL;
        }
    }
}

/* Waits until ms from now on the clock, or until a job ends. With no job running the
 * clock's own sleep waits (a test's clock moves at once, so a day runs in milliseconds; the
 * scaled clock sleeps ms / scale); with jobs running the loop waits on libuv, for the
 * clock's time in real milliseconds or until a job ends. */
static void wait_for(rt *r, int64_t ms) {
    if (ms < 0) ms = 0;
    if (!r->running) {
        sb_sleep_ms(ms);
        uv_run(&r->loop, UV_RUN_NOWAIT);
        return;
    }
    int64_t real = sb_clock_get() == sb_clock_system() ? ms
                 : sb_clock_scale() > 1 ? sb_clock_real_ms(ms)     /* the scaled clock: its time in real ms */
                 : (ms < 20 ? ms : 20);                            /* a test's: only real time passes */
    uv_timer_start(&r->nap, on_nap, (uint64_t)real, 0);
    uv_run(&r->loop, UV_RUN_ONCE);
    uv_timer_stop(&r->nap);
}

int sb_sched_run(sb_store *s, const sb_sched_opts *o, char *err) {
    int rc = sb_store_lock_engine(s, err);
    if (rc) return rc;
    rt r = {.s = s, .o = o, .max_jobs = o->max_jobs > 0 ? o->max_jobs : SB_SCHED_MAX_JOBS, .seen_version = -2};
    char day[16];
    sb_engine_local_date("UTC", 0, day, sizeof day);    /* TZ exists before any job thread: see engine.c */
    if (uv_loop_init(&r.loop)) return sb_seterr(err, SB_ERR, "engine: cannot start its event loop");
    uv_async_init(&r.loop, &r.done, on_wake);
    uv_timer_init(&r.loop, &r.nap);
    if (!(rc = reload(&r, err))) {
        r.seen_version = sb_store_data_version(s);
        r.checked_ms = sb_now_ms();
    }
    sb_info("engine started integrations=%d", r.n);
    int stopping = rc != 0;
    while (1) {
        collect(&r);
        int64_t now_ms = sb_now_ms();
        if ((o->stop && *o->stop) || (o->until_ms && now_ms >= o->until_ms) || (o->max_runs && r.runs >= o->max_runs))
            stopping = 1;
        if (stopping) {
            if (!r.running) break;
            wait_for(&r, 1000);
            continue;
        }
        /* another connection changed the database (settings, a dispatch, an integration):
         * looked at once a second */
        if (now_ms - r.checked_ms >= 1000 || now_ms < r.checked_ms) {
            r.checked_ms = now_ms;
            int64_t dv = sb_store_data_version(s);
            if (dv != r.seen_version) {
                r.seen_version = dv;
                if ((rc = reload(&r, err))) { stopping = 1; continue; }
            }
        }
        int ask_orders = atomic_exchange(&want_orders, 0), ask_dispatched = atomic_exchange(&want_dispatched, 0);
        for (int i = 0; i < r.n; i++) {
            rt_integ *in = r.in[i];
            if (!in || in->gone) continue;
            if (ask_orders) { in->jobs[SB_JOB_ORDERS].manual = 1; in->jobs[SB_JOB_ORDERS].due_ms = now_ms; }
            if (ask_dispatched && !o->orders_job) { in->jobs[SB_JOB_TRACKING].manual = 1; in->jobs[SB_JOB_TRACKING].due_ms = now_ms; }
        }
        /* what is due starts, confirmations first, then orders, stock, products */
        int64_t soonest = now_ms + 1000;
        for (int k = 0; k < SB_JOB_KINDS; k++) {
            if (o->orders_job && k != SB_JOB_ORDERS) continue;
            for (int i = 0; i < r.n; i++) {
                rt_integ *in = r.in[i];
                if (!in || in->gone) continue;
                rt_job *j = &in->jobs[k];
                if (j->running || !j->due_ms) continue;
                if (j->due_ms <= now_ms && r.running < r.max_jobs) start(&r, j, now_ms);
                else if (j->due_ms < soonest) soonest = j->due_ms;
            }
        }
        if (o->max_runs && r.runs >= o->max_runs) continue;
        int64_t nap = soonest - sb_now_ms();
        if (o->until_ms && sb_now_ms() + nap > o->until_ms) nap = o->until_ms - sb_now_ms();
        wait_for(&r, nap);
    }
    for (int i = 0; i < r.n; i++) integ_free(r.in[i]);
    free(r.in);
    uv_close((uv_handle_t *)&r.done, NULL);
    uv_close((uv_handle_t *)&r.nap, NULL);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    uv_loop_close(&r.loop);
    sb_info("engine stopped runs=%ld", r.runs);
    return rc;
}
