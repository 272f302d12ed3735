/* test_runtime.c: the engine's runtime at Amazon's pace, on an injected clock. Two
 * integrations in one database, each with its own simulator at Amazon's real rates:
 * "a" has a backlog of 24 pages (searchOrders grants 20, then one every 3 minutes) and a
 * stock feed Amazon never finishes; "b" has a few orders and a package a person
 * dispatches from another connection. Asserted: b's work goes out on time whatever a
 * waits for, a comes back when Amazon grants it, a stop during the waits ends the engine
 * within 2 s of clock time, and a restart goes on with a's window and feed where they
 * were (no page 1 again, no second feed). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "csvio/csvio.h"
#include "json/json.h"
#include "sched/sched.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "sim/sim.h"
#include "store/store.h"
#include "sync/engine.h"
#include "sync/tracking.h"
#include "support/fixture.h"
#include "support/sim_log.h"
#include "t.h"
#include "store/store_int.h"

#define MP "ATVPDKIKX0DER"
#define T0_ISO "2026-11-27T10:00:00Z"
#define B_ORDER "113-0000002-0000002"

static _Atomic int64_t fake_ms;
static volatile int stop_flag;
static _Atomic int64_t stop_at_ms, stopped_at_ms;
static _Atomic int64_t dispatch_at_ms, dispatched_at_ms;
static const char *dispatch_db;
static int64_t dispatch_integ;

/* a person's dispatch of b's order from another connection, as the clock passes dispatch_at */
static void do_dispatch(void) {
    sb_store *s;
    sb_engine *e;
    char err[SB_ERRLEN];
    if (sb_store_open(dispatch_db, 0, &s, err)) { fprintf(stderr, "dispatch: %s\n", err); return; }
    if (!sb_engine_open(s, dispatch_db, dispatch_integ, &e, err)) {
        sb_dispatch_req rq = {.order_ref = B_ORDER, .carrier = "UPS", .tracking = "1Z999"};
        sb_dispatch_result res;
        if (sb_tracking_dispatch(e, &rq, &res, err)) fprintf(stderr, "dispatch: %s\n", err);
        sb_engine_close(e);
    }
    sb_store_close(s);
}

static int64_t fnow(void *ud) { (void)ud; return atomic_load(&fake_ms); }
static void fsleep(void *ud, int64_t ms) {
    (void)ud;
    int64_t now = ms > 0 ? atomic_fetch_add(&fake_ms, ms) + ms : atomic_load(&fake_ms);
    int64_t at = atomic_load(&dispatch_at_ms);
    if (at && now >= at && atomic_compare_exchange_strong(&dispatch_at_ms, &at, 0)) {
        do_dispatch();
        atomic_store(&dispatched_at_ms, now);
    }
    at = atomic_load(&stop_at_ms);
    if (at && now >= at && atomic_compare_exchange_strong(&stop_at_ms, &at, 0)) {
        stop_flag = 1;
        atomic_store(&stopped_at_ms, now);
    }
}
static const sb_clock fake = {fnow, fsleep, NULL};

/* every job run, as the runtime reports them */
typedef struct run { char integ[8]; int job, rc; int64_t due, started, next; } run;
static run runs[400];
static int nruns;
static void on_run(void *ud, const char *integ, int job, int64_t due, int64_t started, int rc, int64_t next) {
    (void)ud;
    if (nruns < 400) {
        runs[nruns].due = due;
        snprintf(runs[nruns].integ, sizeof runs[0].integ, "%s", integ);
        runs[nruns].job = job;
        runs[nruns].rc = rc;
        runs[nruns].started = started;
        runs[nruns].next = next;
        nruns++;
    }
}
/* the k-th (0-based) run of integ's job, or NULL */
static const run *nth(const char *integ, int job, int k) {
    for (int i = 0; i < nruns; i++)
        if (!strcmp(runs[i].integ, integ) && runs[i].job == job && k-- == 0) return &runs[i];
    return NULL;
}

static void set(sb_store *s, int64_t integ, const char *name, const char *value) { t_set(s, integ, name, value); }
static double qnum(sb_store *s, const char *q) { return t_qnum(s, q); }
static const char *qtext(sb_store *s, const char *q) { return t_qtext(s, q); }
static void import(sb_store *s, int64_t integ, const char *kind, const char *csv) { t_import(s, integ, kind, csv); }

static void connect(sb_store *s, int64_t integ, sb_sim *sim) {
    t_connect_sim(s, integ, sb_sim_url(sim));
    set(s, integ, "orders.fba_branch", "FBA");
    set(s, integ, "additional.mf_branch", "LA");
    set(s, integ, "orders.reconcile_hours", "0");
    set(s, integ, "orders.overlap_minutes", "0");
}

/* the first searchOrders request in sim's log carries a pagination token */
static int first_search_resumes(sb_sim *sim) {
    sb_buf b;
    sb_json *j = NULL;
    char err[SB_ERRLEN];
    int found = -1;
    sb_buf_init(&b, 64u << 20);
    sb_sim_requests_json(sim, &b);
    if (!sb_json_parse(b.data, b.len, &j, err))
        for (size_t i = 0; i < sb_json_len(j, SB_JSON_ROOT, NULL) && found < 0; i++) {
            int r = sb_json_at(j, SB_JSON_ROOT, i);
            const char *op = sb_json_str(j, r, "op"), *q = sb_json_str(j, r, "query");
            if (op && !strcmp(op, "searchOrders")) found = q && strstr(q, "paginationToken=") != NULL;
        }
    sb_json_free(j);
    sb_buf_free(&b);
    return found;
}

int main(void) {
    char dir[] = "/tmp/sbrtXXXXXX", db[64], err[SB_ERRLEN];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/t.db", dir);
    int64_t t0 = sb_time_parse(T0_ISO) * 1000;
    atomic_store(&fake_ms, t0);
    sb_clock_set(&fake);
    sb_log_set_level(SB_LOG_WARN);

    /* a's Amazon: 4,000 orders over the 30 days before now (24 pages), its listings; b's: a
     * few orders and the one a person dispatches */
    sb_sim *sa, *sbm;
    sb_sim_options oa = {.scenario_json = "{\"generate\":{\"count\":4000,\"seed\":7},\"listings\":["
                         "{\"sku\":\"A-1\",\"quantity\":0},{\"sku\":\"B-2\",\"quantity\":0},{\"sku\":\"C-3\",\"quantity\":0}]}"};
    sb_sim_options ob = {.scenario_json = "{\"generate\":{\"count\":40,\"seed\":3}}"};
    T_EQ(sb_sim_start(&oa, &sa, err), 0);
    T_EQ(sb_sim_start(&ob, &sbm, err), 0);
    T_EQ(sb_sim_fault_add(sa, "{\"op\":\"getFeed\",\"kind\":\"stuck\",\"count\":1000000}", err), 0);

    sb_store *s;
    int64_t a, b;
    T_EQ(sb_store_open(db, SB_STORE_CREATE, &s, err), 0);
    T_EQ(sb_store_integration_add(s, "a", &a, err), 0);
    T_EQ(sb_store_integration_add(s, "b", &b, err), 0);
    import(s, a, "branches", "name\nLA\nNJ\nFBA\n");
    import(s, a, "products", "sku,name\nA-1,Alpha\nB-2,Beta\nC-3,Gamma\n");
    import(s, a, "stock", "sku,branch,on_hand\nA-1,LA,10\nB-2,LA,3\nC-3,NJ,7\n");
    connect(s, a, sa);
    connect(s, b, sbm);
    set(s, a, "orders.last_updated", "2026-10-27T00:00:00Z");
    set(s, a, "stock.enabled", "true");
    set(s, a, "stock.patch_threshold", "1");
    set(s, b, "additional.auto_update_status", "true");
    /* b's order, known to Amazon, stored and open here: a person dispatches it at T0 + 30 s */
    T_EQ(sb_sim_orders_upsert(sbm, "{\"orderId\":\"" B_ORDER "\",\"salesChannel\":{\"marketplaceId\":\"" MP "\"},"
                              "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\"}}", err), 0);
    char q[512];
    snprintf(q, sizeof q, "INSERT INTO sales_orders(integration_id, order_ref, marketplace_id, stage, fulfilled_by, branch) "
             "VALUES (%lld, '" B_ORDER "', '" MP "', 'open', 'MERCHANT', 'LA')", (long long)b);
    T_EQ(sb_store_exec(s, q, err), 0);
    snprintf(q, sizeof q, "INSERT INTO sales_order_lines(order_id, line_no, item_id, sku, product_id, qty) VALUES "
             "((SELECT id FROM sales_orders WHERE order_ref = '" B_ORDER "'), 1, 'ITEM-1', 'A-1', "
             "(SELECT id FROM products WHERE sku = 'A-1'), 1)");
    T_EQ(sb_store_exec(s, q, err), 0);
    dispatch_db = db;
    dispatch_integ = b;
    atomic_store(&dispatch_at_ms, t0 + 30000);
    /* the stop comes while a waits for Amazon's next page and for its feed */
    atomic_store(&stop_at_ms, t0 + 200000);

    sb_sched_opts o = {.db_path = db, .stop = &stop_flag, .until_ms = t0 + 3600 * 1000, .on_run = on_run};
    T_EQ(sb_sched_run(s, &o, err), 0);
    int64_t returned = sb_now_ms();

    /* no job started more than a second after it was due, whatever the others waited for */
    for (int i = 0; i < nruns; i++) {
        T_CHECK(runs[i].due > 0 && runs[i].started - runs[i].due <= 1000);
        if (runs[i].started - runs[i].due > 1000)
            fprintf(stderr, "%s %s started %lld ms late\n", runs[i].integ, sb_job_name(runs[i].job),
                    (long long)(runs[i].started - runs[i].due));
    }
    /* both integrations' first checks started at once, at the engine's start */
    const run *a1 = nth("a", SB_JOB_ORDERS, 0), *b1 = nth("b", SB_JOB_ORDERS, 0);
    T_CHECK(a1 && b1);
    if (a1 && b1) {
        T_EQ(a1->started, t0);
        T_EQ(b1->started, t0);
        T_EQ(b1->rc, 0);
        T_EQ(a1->rc, SB_ELATER);          /* 20 pages, then Amazon's rate limit */
        /* Amazon grants the 21st page about 180 s after the burst: a comes back then */
        T_CHECK(a1->next >= t0 + 178000 && a1->next <= t0 + 186000);
        if (a1->next < t0 + 178000 || a1->next > t0 + 186000) fprintf(stderr, "a's next: +%lld ms\n", (long long)(a1->next - t0));
    }
    const run *a2 = nth("a", SB_JOB_ORDERS, 1);
    T_CHECK(a2 != NULL);
    if (a1 && a2) {
        T_CHECK(a2->started >= a1->next && a2->started <= a1->next + 1000);   /* due when Amazon grants */
        T_EQ(a2->rc, SB_ELATER);          /* page 21, then the next 3-minute wait */
    }
    /* 21 pages are in: the burst's 20 and the one granted at +3 minutes */
    T_EQ(qnum(s, "SELECT resume_pages FROM sync_state WHERE integration_id = 1 AND job = 'orders'"), 21);
    /* a's stock feed: created once, waited for by coming back, not by polling */
    const run *st1 = nth("a", SB_JOB_STOCK, 0);
    T_CHECK(st1 != NULL);
    if (st1) T_CHECK(st1->started == t0);
    T_EQ(t_sim_calls(sa, "createFeed", 202), 1);
    /* b's confirmation: due when the dispatch committed, sent within a second or two */
    int64_t disp = atomic_load(&dispatched_at_ms);
    T_CHECK(disp >= t0 + 30000);
    const run *bt = nth("b", SB_JOB_TRACKING, 0);
    T_CHECK(bt != NULL);
    if (bt) {
        T_CHECK(bt->started >= disp && bt->started <= disp + 2000);
        if (bt->started > disp + 2000) fprintf(stderr, "confirmation %lld ms after the dispatch\n", (long long)(bt->started - disp));
        T_EQ(bt->rc, 0);
    }
    T_EQ(t_sim_calls(sbm, "confirmShipment", 204), 1);
    T_STREQ(qtext(s, "SELECT confirm_state FROM shipments"), "confirmed");
    /* the stop during the waits: the engine returned within 2 s of clock time */
    int64_t stopped = atomic_load(&stopped_at_ms);
    T_CHECK(stopped > 0);
    T_CHECK(returned - stopped <= 2000);
    if (returned - stopped > 2000) fprintf(stderr, "stop took %lld ms\n", (long long)(returned - stopped));
    /* what people see: a waits for Amazon, with why and until when */
    T_STREQ(qtext(s, "SELECT state FROM sync_state WHERE integration_id = 1 AND job = 'orders'"), "waiting");
    T_CONTAINS(qtext(s, "SELECT waiting_why FROM sync_state WHERE integration_id = 1 AND job = 'orders'"), "rate limit");
    T_STREQ(qtext(s, "SELECT state FROM sync_state WHERE integration_id = 1 AND job = 'stock'"), "waiting");
    T_CONTAINS(qtext(s, "SELECT waiting_why FROM sync_state WHERE integration_id = 1 AND job = 'stock'"), "feed");
    T_CHECK(*qtext(s, "SELECT resume_token FROM sync_state WHERE integration_id = 1 AND job = 'orders'") != '\0');

    /* a restart goes on where a was: the window from its saved page token, the feed it
     * submitted looked at again (no second one); then Amazon finishes the feed */
    long feeds_before = t_sim_calls(sa, "createFeed", 0), looks_before = t_sim_calls(sa, "getFeed", 0);
    sb_sim_requests_clear(sa);
    stop_flag = 0;
    nruns = 0;
    atomic_store(&stop_at_ms, 0);
    o.until_ms = sb_now_ms() + 30 * 60 * 1000;
    T_EQ(sb_sched_run(s, &o, err), 0);
    T_EQ(first_search_resumes(sa), 1);
    T_EQ(t_sim_calls(sa, "createFeed", 0), 0);
    T_CHECK(t_sim_calls(sa, "getFeed", 0) >= 1);
    (void)feeds_before; (void)looks_before;
    /* the window is complete: every order once, the token gone, the watermark moved */
    T_EQ(qnum(s, "SELECT COUNT(*) FROM sales_orders WHERE integration_id = 1 AND source = 'amazon'"),
         qnum(s, "SELECT COUNT(DISTINCT order_ref) FROM sales_orders WHERE integration_id = 1 AND source = 'amazon'"));
    T_STREQ(qtext(s, "SELECT COALESCE(resume_token, '') FROM sync_state WHERE integration_id = 1 AND job = 'orders'"), "");
    T_CHECK(strcmp(qtext(s, "SELECT value FROM settings WHERE integration_id = 1 AND name = 'orders.last_updated'"),
                   "2026-10-27T00:00:00Z") > 0);
    /* nothing of b's was sent twice across the restart */
    T_EQ(t_sim_calls(sbm, "confirmShipment", 0), 1);

    sb_store_close(s);
    sb_sim_stop(sa);
    sb_sim_stop(sbm);
    sb_clock_set(NULL);
    snprintf(q, sizeof q, "rm -rf %s", dir);
    T_EQ(system(q), 0);
    return t_done();
}
