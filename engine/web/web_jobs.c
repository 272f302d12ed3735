/* web_jobs.c: "run now" (its state goes into engine/views' jobs document), the retry of held orders, and /metrics.
 *
 * The one idea: work that runs rules or talks to Amazon never runs on a request thread.
 * It runs in the one worker thread (one job at a time, 409 for a second) with its own
 * connection; the request answers 202 at once and GET /jobs shows the state and result
 * (run_now). "Run now" for the orders job runs sb_sync_orders holding the engine lock
 * like `sellerbridge run` does (so it refuses with 409 while another engine runs); the
 * retry runs sb_orders_retry_ex without it, as `orders retry` does, one transaction per
 * order with the rules run outside it, so the database stays writable for others. The
 * Amazon counters of the runs are added up here so /metrics can report them after the
 * run's client is gone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/log.h"
#include "store/aliases.h"
#include "store/monitor.h"
#include "store/rulepacks.h"
#include "sync/engine.h"
#include "sync/fix.h"
#include "sync/orders.h"
#include "json/json.h"
#include "web/web_int.h"

typedef struct job_arg {
    sb_web *w;
    sb_store *s;                /* owned by the worker; holds the engine lock (orders) */
    char *ref;                  /* retry: the one order, or NULL for all held */
    char *sku;                  /* retry: only the orders held with a line of this SKU */
    int kinds;                  /* retry: SB_RETRY_* (0: both) */
    int release;                /* retry: the orders a new SKU alias releases, every integration */
} job_arg;

void sb_web_add_stats(sb_web *w, sb_spapi *api) {
    sb_spapi_stats st[SB_OP_COUNT];
    sb_spapi_get_stats(api, st);
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < SB_OP_COUNT; i++) {
        sb_spapi_stats *t = &w->totals[i];
        t->calls += st[i].calls; t->ok += st[i].ok; t->failed += st[i].failed;
        t->throttled += st[i].throttled; t->retries += st[i].retries;
        t->status_2xx += st[i].status_2xx; t->status_4xx += st[i].status_4xx;
        t->status_5xx += st[i].status_5xx; t->network_errors += st[i].network_errors;
    }
    pthread_mutex_unlock(&w->mu);
}

/* The worker's last step: the job's outcome for the jobs view. */
static void job_done(sb_web *w, int rc, const char *err, const char *result) {
    pthread_mutex_lock(&w->mu);
    sb_time_format(sb_now(), w->job_finished, sizeof w->job_finished);
    snprintf(w->job_error, sizeof w->job_error, "%s", rc ? err : "");
    snprintf(w->job_result, sizeof w->job_result, "%s", result);
    w->job_running = 0;
    pthread_mutex_unlock(&w->mu);
}

/* A download's counts as the jobs view shows them, so far or at its end. */
static void orders_counts(const sb_orders_result *r, char *out, size_t n) {
    snprintf(out, n,
             "{\"window\":[\"%s\",\"%s\"],\"pages\":%ld,\"fetched\":%ld,\"created\":%ld,\"updated\":%ld,\"skipped\":%ld,"
             "\"held\":%ld,\"rule_errors\":%ld,\"rejected\":%ld,\"cancelled\":%ld,\"dispatched\":%ld}",
             r->after, r->before, r->pages, r->fetched, r->created, r->updated, r->skipped, r->held, r->rule_errors,
             r->rejected, r->cancelled, r->dispatched);
}

/* After each page the download stores: its counts so far, for the dashboard's progress. */
static void job_progress(void *ud, const sb_orders_result *r) {
    sb_web *w = ud;
    char counts[512];
    orders_counts(r, counts, sizeof counts);
    pthread_mutex_lock(&w->mu);
    snprintf(w->job_result, sizeof w->job_result, "%s", counts);
    pthread_mutex_unlock(&w->mu);
}

static void *job_main(void *p) {
    job_arg *a = p;
    sb_web *w = a->w;
    char err[SB_ERRLEN] = "", result[512] = "";
    sb_engine *e = NULL;
    sb_orders_result r;
    memset(&r, 0, sizeof r);
    int rc = sb_engine_open(a->s, w->db_path, w->integ, &e, err);
    if (!rc) {
        e->stop = &w->stopping;
        e->progress = job_progress;
        e->progress_ud = w;
        rc = sb_sync_orders(e, &r, err);
        if (e->api) sb_web_add_stats(w, e->api);
    }
    orders_counts(&r, result, sizeof result);
    sb_engine_close(e);
    sb_store_close(a->s);       /* releases the engine lock */
    free(a);
    job_done(w, rc, err, result);
    if (rc) sb_warn("web: orders run failed integration=%s: %s", w->integ_name, err);
    else sb_info("web: orders run done integration=%s fetched=%ld", w->integ_name, r.fetched);
    return NULL;
}

/* ---- the retry of held orders ---- */

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static void cut_utf8(char *s, size_t max) {
    size_t n = strlen(s);
    if (n <= max) return;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    s[max] = '\0';
}

/* The retry's result for the jobs view: the counts and a sentence for people, e.g.
 * "3 of 5 held orders now pass; 2 still held: 111-... (route.lua:4: ...)". */
static void retry_result(const char *ref, const sb_orders_retry_result *r, int rc, const char *err,
                         char *out, size_t outlen) {
    char msg[2048];
    size_t n = 0;
    if (rc) n += (size_t)snprintf(msg, sizeof msg, "Retry stopped: %s", err);
    else n += (size_t)snprintf(msg, sizeof msg, "%ld of %ld held %s", r->fixed, r->tried,
                               r->tried == 1 ? "order now passes" : "orders now pass");
    if (r->held && n < sizeof msg) {
        n += (size_t)snprintf(msg + n, sizeof msg - n, "; %ld still held%s", r->held, r->nkept ? ":" : "");
        for (int i = 0; i < r->nkept && n < sizeof msg; i++) {
            char why[200];
            snprintf(why, sizeof why, "%s", r->kept[i].why);
            cut_utf8(why, 160);
            n += (size_t)snprintf(msg + n, sizeof msg - n, "%s %s (%s)", i ? ";" : "", r->kept[i].order, why);
        }
        if (r->nkept && r->held > r->nkept && n < sizeof msg)
            n += (size_t)snprintf(msg + n, sizeof msg - n, "; and %ld more", r->held - r->nkept);
    }
    if (n < sizeof msg) snprintf(msg + n, sizeof msg - n, ".");
    cut_utf8(msg, sizeof msg - 2);
    sb_buf b;
    sb_buf_init(&b, outlen - 1);
    sb_jw jw;
    sb_jw_init(&jw, &b);
    sb_jw_obj(&jw);
    sb_jw_kstr(&jw, "order", ref);
    sb_jw_kint(&jw, "tried", r->tried);
    sb_jw_kint(&jw, "fixed", r->fixed);
    sb_jw_kint(&jw, "still_held", r->held);
    sb_jw_kstr(&jw, "message", msg);
    sb_jw_end_obj(&jw);
    if (b.data && b.len < outlen) snprintf(out, outlen, "%s", b.data);
    else snprintf(out, outlen, "{\"tried\":%ld,\"fixed\":%ld,\"still_held\":%ld}", r->tried, r->fixed, r->held);
    sb_buf_free(&b);
}

static void *retry_main(void *p) {
    job_arg *a = p;
    sb_web *w = a->w;
    char err[SB_ERRLEN] = "", result[sizeof w->job_result];
    sb_store *s = NULL;
    sb_engine *e = NULL;
    sb_orders_retry_result r;
    memset(&r, 0, sizeof r);
    int rc = sb_store_open(w->db_path, 0, &s, err);
    if (!rc) rc = sb_engine_open(s, w->db_path, w->integ, &e, err);
    if (!rc) {
        e->stop = &w->stopping;
        int kinds = a->kinds ? a->kinds : SB_RETRY_RULE_ERROR | SB_RETRY_UNKNOWN_SKU;
        if (a->release) rc = sb_orders_release_linked(s, w->db_path, &w->stopping, &r, err);
        else if (a->sku) rc = sb_orders_retry_sku(e, a->sku, kinds, &r, err);
        else rc = sb_orders_retry_for(e, a->ref, kinds, &r, err);
    }
    if (rc && !r.tried && s) {      /* none was re-run */
        char cerr[SB_ERRLEN];
        if (sb_store_count_held(s, w->integ, a->ref, &r.held, cerr))
            sb_warn("web: retry: the held orders cannot be counted integration=%s: %s", w->integ_name, cerr);
    }
    sb_engine_close(e);
    sb_store_close(s);
    retry_result(a->ref, &r, rc, err, result, sizeof result);
    job_done(w, rc, err, result);
    if (rc) sb_warn("web: retry failed integration=%s order=%s: %s", w->integ_name, a->ref ? a->ref : "(all)", err);
    else sb_info("web: retry done integration=%s order=%s tried=%ld fixed=%ld", w->integ_name,
                 a->ref ? a->ref : "(all)", r.tried, r.fixed);
    free(a->ref);
    free(a->sku);
    free(a);
    return NULL;
}

/* Starts fn(a) in the worker as job `job`, or answers why not (409 while one runs). On
 * failure a (and its store) are freed here. Returns 0 when started. */
static int start_job(sb_web *w, const char *job, void *(*fn)(void *), job_arg *a, sb_web_resp *rs) {
    pthread_mutex_lock(&w->mu);
    if (w->job_running) {
        char running[32];
        snprintf(running, sizeof running, "%s", w->job_name);
        pthread_mutex_unlock(&w->mu);
        if (a) { sb_store_close(a->s); free(a->ref); free(a->sku); free(a); }
        if (!strcmp(running, "retry"))
            sb_web_error(rs, 409, "a retry of held orders is already running; its result will show in Sync status");
        else
            sb_web_error(rs, 409, "the %s job is already running; try again when it has finished", running);
        return -1;
    }
    if (!a) {
        pthread_mutex_unlock(&w->mu);
        sb_web_error(rs, 500, "out of memory");
        return -1;
    }
    if (w->worker_started) pthread_join(w->worker, NULL);     /* the previous run, finished */
    w->worker_started = 0;
    a->w = w;
    w->job_running = 1;
    snprintf(w->job_name, sizeof w->job_name, "%s", job);
    sb_time_format(sb_now(), w->job_started, sizeof w->job_started);
    w->job_finished[0] = w->job_error[0] = w->job_result[0] = '\0';
    if (pthread_create(&w->worker, NULL, fn, a) != 0) {
        w->job_running = 0;
        pthread_mutex_unlock(&w->mu);
        sb_store_close(a->s);
        free(a->ref);
        free(a->sku);
        free(a);
        sb_web_error(rs, 500, "cannot start a worker thread");
        return -1;
    }
    w->worker_started = 1;
    pthread_mutex_unlock(&w->mu);
    return 0;
}

static void started(sb_web_resp *rs, const char *job, const char *ref) {
    rs->status = 202;
    rs->ctype = "application/json";
    sb_buf_reset(&rs->body);
    sb_jw jw;
    sb_jw_init(&jw, &rs->body);
    sb_jw_obj(&jw);
    sb_jw_kbool(&jw, "started", 1);
    sb_jw_kstr(&jw, "job", job);
    if (ref) sb_jw_kstr(&jw, "order", ref);
    sb_jw_end_obj(&jw);
}

void sb_web_retry_run(sb_web_req *rq, const char *ref, sb_web_resp *rs) {
    sb_web *w = rq->w;
    if (ref) {          /* a read: say at once when there is nothing to retry */
        int held = 0;
        char herr[SB_ERRLEN];
        /* held for a rule error, or kept with a line whose SKU is now a product (the retry
         * links it, see sb_orders_retry_for) */
        if (sb_store_retry_would_act(rq->s, w->integ, ref, &held, herr)) { sb_web_error(rs, 500, "%s", herr); return; }
        char sku[128];
        if (!held && sb_orders_unknown_sku(rq->s, w->integ, ref, sku, sizeof sku)) {
            sb_web_error(rs, 409, "order %s: SKU '%s' is still not a product: import it (sellerbridge import products FILE) "
                         "or link it to a product (Link SKU), then Retry links the line and reserves the stock", ref, sku);
            return;
        }
        if (!held) { sb_web_error(rs, 404, "order %s is not held for a rule error or for a SKU that was not a product", ref); return; }
    }
    job_arg *a = calloc(1, sizeof *a);
    if (a && ref && !(a->ref = strdup(ref))) { free(a); a = NULL; }
    if (start_job(w, "retry", retry_main, a, rs)) return;
    sb_info("web: retry started integration=%s order=%s", w->integ_name, ref ? ref : "(all)");
    started(rs, "retry", ref);
}

/* ---- the routing grid's "try it": the rules' routing of one stored order ---- */

/* Runs the rule pack on the stored order, as a download would decide it now (nothing is
 * stored): the branch of each split and the routing's reason ("grid row 2", "no grid row
 * matched", ...) go to the jobs view's result. */
static void *try_main(void *p) {
    job_arg *a = p;
    sb_web *w = a->w;
    char err[SB_ERRLEN] = "", result[sizeof w->job_result] = "";
    sb_store *s = NULL;
    sb_engine *e = NULL;
    char *raw = NULL;
    int rc = sb_store_open(w->db_path, 0, &s, err);
    if (!rc) rc = sb_engine_open(s, w->db_path, w->integ, &e, err);
    if (!rc) { e->stop = &w->stopping; rc = sb_engine_rules(e, err); }
    if (!rc && (rc = sb_store_order_raw(s, w->integ, a->ref, &raw, err)) == SB_ENOTFOUND)
        sb_seterr(err, rc, "order %s has no Amazon JSON to route", a->ref);
    if (!rc) {
        sb_order o;
        sb_decision d;
        memset(&o, 0, sizeof o);
        memset(&d, 0, sizeof d);
        rc = sb_rules_order_json(e->rules, raw, strlen(raw), &o, &d, err);
        sb_buf b;
        sb_buf_init(&b, sizeof result - 1);
        sb_jw jw;
        sb_jw_init(&jw, &b);
        sb_jw_obj(&jw);
        sb_jw_kstr(&jw, "order", a->ref);
        if (!rc && !d.error) {
            char msg[512];
            size_t n = (size_t)snprintf(msg, sizeof msg, "order %s lands on %s", a->ref,
                                        d.nsplits > 0 && d.splits[0].branch ? d.splits[0].branch : "(no branch)");
            for (int i = 1; i < d.nsplits && n < sizeof msg; i++)
                n += (size_t)snprintf(msg + n, sizeof msg - n, " + %s", d.splits[i].branch ? d.splits[i].branch : "?");
            if (n < sizeof msg) snprintf(msg + n, sizeof msg - n, " (%s)", d.route_reason ? d.route_reason : "no reason given");
            sb_jw_kstr(&jw, "branch", d.nsplits > 0 ? d.splits[0].branch : NULL);
            sb_jw_kstr(&jw, "reason", d.route_reason);
            sb_jw_kint(&jw, "splits", d.nsplits);
            sb_jw_kbool(&jw, "download", d.download);
            sb_jw_kstr(&jw, "message", msg);
        } else sb_jw_kstr(&jw, "message", rc ? err : d.error);
        sb_jw_end_obj(&jw);
        if (b.data && b.len < sizeof result) snprintf(result, sizeof result, "%s", b.data);
        sb_buf_free(&b);
        if (!rc && d.error) rc = sb_seterr(err, SB_ERULE, "%s", d.error);
    }
    free(raw);
    sb_engine_close(e);
    sb_store_close(s);
    job_done(w, rc, err, *result ? result : NULL);
    free(a->ref);
    free(a);
    return NULL;
}

void sb_web_route_try(sb_web_req *rq, const char *ref, sb_web_resp *rs) {
    sb_web *w = rq->w;
    if (!ref || !*ref || strlen(ref) > 64) { sb_web_error(rs, 400, "try needs {\"order\": ORDER_ID} (at most 64 characters)"); return; }
    char *raw = NULL, rerr[SB_ERRLEN];
    int rrc = sb_store_order_raw(rq->s, w->integ, ref, &raw, rerr);
    free(raw);
    if (rrc == SB_ENOTFOUND) { sb_web_error(rs, 404, "order %s is not stored with its Amazon JSON for this integration", ref); return; }
    if (rrc) { sb_web_error(rs, 500, "try: %s", rerr); return; }
    job_arg *a = calloc(1, sizeof *a);
    if (a && !(a->ref = strdup(ref))) { free(a); a = NULL; }
    if (start_job(w, "try", try_main, a, rs)) return;
    started(rs, "try", ref);
}

void sb_web_retry_bulk(sb_web_req *rq, const char *reason, const char *sku, int release, sb_web_resp *rs) {
    sb_web *w = rq->w;
    int kinds = 0;
    if (reason && *reason) {
        if (!strcmp(reason, "unknown_sku")) kinds = SB_RETRY_UNKNOWN_SKU;
        else if (!strcmp(reason, "rule_error") || !strcmp(reason, "rejected")) kinds = SB_RETRY_RULE_ERROR;
        else {
            sb_web_error(rs, 400, "reason '%.60s' cannot be retried (allowed: unknown_sku, rule_error, rejected)", reason);
            return;
        }
    }
    if (sku && !*sku) sku = NULL;
    if (sku && strlen(sku) > SB_ALIAS_SKU_MAX) { sb_web_error(rs, 400, "sku: longer than %d characters", SB_ALIAS_SKU_MAX); return; }
    job_arg *a = calloc(1, sizeof *a);
    if (a && sku && !(a->sku = strdup(sku))) { free(a); a = NULL; }
    if (a) { a->kinds = kinds; a->release = release; }
    if (start_job(w, "retry", retry_main, a, rs)) return;
    sb_info("web: retry started integration=%s reason=%s sku=%s%s", w->integ_name, reason && *reason ? reason : "(any)",
            sku ? sku : "(any)", release ? " (a SKU alias was stored)" : "");
    started(rs, "retry", NULL);
}

void sb_web_jobs_run(sb_web_req *rq, const char *job, sb_web_resp *rs) {
    sb_web *w = rq->w;
    char err[SB_ERRLEN];
    if (strcmp(job, "orders")) { sb_web_error(rs, 404, "job '%s' cannot be run from here (jobs: orders)", job); return; }
    if (w->o.run_job) {
        int rc = w->o.run_job(w->o.run_job_ud, job, err);
        if (rc) { sb_web_error(rs, sb_web_status_of(rc), "%s", err); return; }
    } else {
        pthread_mutex_lock(&w->mu);
        int running = w->job_running;
        pthread_mutex_unlock(&w->mu);
        if (running) { start_job(w, job, job_main, NULL, rs); return; }     /* says 409 */
        sb_store *s = NULL;
        int rc = sb_store_open(w->db_path, 0, &s, err);
        if (!rc) rc = sb_store_lock_engine(s, err);
        if (rc) { sb_store_close(s); sb_web_error(rs, sb_web_status_of(rc), "%s", err); return; }
        job_arg *a = calloc(1, sizeof *a);
        if (a) a->s = s; else sb_store_close(s);
        if (start_job(w, job, job_main, a, rs)) return;
    }
    sb_info("web: orders run started integration=%s", w->integ_name);
    started(rs, job, NULL);
}

void sb_web_jobs_stop(sb_web *w) {
    pthread_mutex_lock(&w->mu);
    int started = w->worker_started;
    w->worker_started = 0;
    pthread_mutex_unlock(&w->mu);
    if (started) pthread_join(w->worker, NULL);
}

/* ---- /metrics (Prometheus text format 0.0.4) ---- */

static void family(sb_buf *b, const char *name, const char *type, const char *help) {
    sb_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void sb_web_metrics(sb_web *w, sb_store *s, sb_web_resp *rs) {
    sb_buf *b = &rs->body;
    int64_t integ = w->integ;
    rs->status = 200;
    rs->ctype = "text/plain; version=0.0.4; charset=utf-8";
    sb_buf_reset(b);
    static const char *const stages[] = {"open", "needs_attention", "rule_error", "rejected", "dispatched", "cancelled", NULL};
    long by_stage[6] = {0};
    sb_store_monitor m;
    char err[SB_ERRLEN];
    if (sb_store_orders_by_stage(s, integ, stages, by_stage, err) || sb_store_monitor_read(s, integ, &m, err)) {
        rs->status = 500;
        sb_buf_printf(b, "# metrics cannot be read: %s\n", err);
        return;
    }
    long total = 0;
    for (int i = 0; i < 6; i++) total += by_stage[i];
    family(b, "sellerbridge_orders", "gauge", "Amazon orders stored, by stage");
    for (int i = 0; stages[i]; i++) sb_buf_printf(b, "sellerbridge_orders{stage=\"%s\"} %ld\n", stages[i], by_stage[i]);
    family(b, "sellerbridge_orders_downloaded", "gauge", "Amazon orders downloaded and stored (all stages)");
    sb_buf_printf(b, "sellerbridge_orders_downloaded %ld\n", total);
    family(b, "sellerbridge_orders_held", "gauge", "Orders held for a person (needs attention)");
    sb_buf_printf(b, "sellerbridge_orders_held %ld\n", by_stage[1]);
    family(b, "sellerbridge_orders_failed", "gauge", "Orders held for a rule error or rejected");
    sb_buf_printf(b, "sellerbridge_orders_failed %ld\n", by_stage[2] + by_stage[3]);

    sb_spapi_stats t[SB_OP_COUNT];
    pthread_mutex_lock(&w->mu);
    memcpy(t, w->totals, sizeof t);
    long requests = w->requests;
    pthread_mutex_unlock(&w->mu);
    if (w->o.api) {
        sb_spapi_stats live[SB_OP_COUNT];
        sb_spapi_get_stats(w->o.api, live);
        for (int i = 0; i < SB_OP_COUNT; i++) {
            t[i].calls += live[i].calls; t[i].throttled += live[i].throttled; t[i].retries += live[i].retries;
            t[i].status_2xx += live[i].status_2xx; t[i].status_4xx += live[i].status_4xx;
            t[i].status_5xx += live[i].status_5xx; t[i].network_errors += live[i].network_errors;
        }
    }
    family(b, "sellerbridge_amazon_calls_total", "counter", "Amazon HTTP attempts by operation and status class");
    for (int i = 0; i < SB_OP_COUNT; i++) {
        const char *op = sb_spapi_op_name(i);
        sb_buf_printf(b, "sellerbridge_amazon_calls_total{op=\"%s\",status=\"2xx\"} %ld\n", op, t[i].status_2xx);
        sb_buf_printf(b, "sellerbridge_amazon_calls_total{op=\"%s\",status=\"4xx\"} %ld\n", op, t[i].status_4xx);
        sb_buf_printf(b, "sellerbridge_amazon_calls_total{op=\"%s\",status=\"5xx\"} %ld\n", op, t[i].status_5xx);
        sb_buf_printf(b, "sellerbridge_amazon_calls_total{op=\"%s\",status=\"network\"} %ld\n", op, t[i].network_errors);
    }
    family(b, "sellerbridge_amazon_throttled_total", "counter", "Amazon 429 responses by operation");
    for (int i = 0; i < SB_OP_COUNT; i++)
        sb_buf_printf(b, "sellerbridge_amazon_throttled_total{op=\"%s\"} %ld\n", sb_spapi_op_name(i), t[i].throttled);
    family(b, "sellerbridge_amazon_retries_total", "counter", "Amazon attempts after the first, by operation");
    for (int i = 0; i < SB_OP_COUNT; i++)
        sb_buf_printf(b, "sellerbridge_amazon_retries_total{op=\"%s\"} %ld\n", sb_spapi_op_name(i), t[i].retries);

    family(b, "sellerbridge_outbox_depth", "gauge", "Outbox messages not yet sent, by kind");
    sb_buf_printf(b, "sellerbridge_outbox_depth{kind=\"all\"} %ld\n", m.outbox_pending);
    for (int i = 0; i < m.nkinds; i++)
        sb_buf_printf(b, "sellerbridge_outbox_depth{kind=\"%s\"} %ld\n", m.kinds[i].kind, m.kinds[i].n);
    family(b, "sellerbridge_outbox_failed", "gauge", "Outbox messages that gave up");
    sb_buf_printf(b, "sellerbridge_outbox_failed %ld\n", m.outbox_failed);

    int64_t now = sb_now();
    family(b, "sellerbridge_job_last_success_age_seconds", "gauge", "Seconds since each job's last successful run");
    for (int i = 0; i < m.njobs; i++)
        if (m.jobs[i].last_success >= 0)
            sb_buf_printf(b, "sellerbridge_job_last_success_age_seconds{job=\"%s\"} %lld\n", m.jobs[i].job,
                          (long long)(now - m.jobs[i].last_success));
    family(b, "sellerbridge_job_last_run_failed", "gauge", "1 when the job's last run ended in an error");
    for (int i = 0; i < m.njobs; i++)
        sb_buf_printf(b, "sellerbridge_job_last_run_failed{job=\"%s\"} %d\n", m.jobs[i].job, m.jobs[i].failed);
    family(b, "sellerbridge_web_requests_total", "counter", "Requests served by the dashboard");
    sb_buf_printf(b, "sellerbridge_web_requests_total %ld\n", requests);
}
