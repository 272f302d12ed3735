/* test_jobs.c: products download, stock upload and tracking confirmation end to end: a
 * real database, the in-process simulator, a fake clock (backoff and polling cost no
 * time). What was sent is read back from the simulator's request log. */
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/clock.h"
#include "csvio/csvio.h"
#include "json/json.h"
#include "secrets/secrets.h"
#include "sim/sim.h"
#include "store/store.h"
#include "sync/engine.h"
#include "sync/products.h"
#include "sync/stock.h"
#include "sync/tracking.h"
#include "support/fixture.h"
#include "support/sim_log.h"
#include "t.h"
#include "store/store_int.h"

#define MP "ATVPDKIKX0DER"

typedef struct fx {
    char dir[128], db[192];
    sb_store *s;
    int64_t integ;
    sb_sim *sim;
} fx;

static const char *LISTINGS =
    "[{\"sku\":\"A-1\",\"asin\":\"B000000A01\",\"title\":\"Alpha listing\",\"quantity\":0,\"open_date\":\"2026-01-02T03:04:05Z\"},"
    " {\"sku\":\"B-2\",\"asin\":\"B000000B02\",\"title\":\"Beta listing\",\"quantity\":0,\"open_date\":\"2026-02-02T03:04:05Z\"},"
    " {\"sku\":\"C-3\",\"asin\":\"B000000C03\",\"title\":\"Gamma listing\",\"quantity\":0,\"open_date\":\"2026-03-02T03:04:05Z\"},"
    " {\"sku\":\"D-4\",\"asin\":\"B000000D04\",\"title\":\"Delta FBA\",\"quantity\":0,\"open_date\":\"2026-03-03T03:04:05Z\","
    "  \"fulfillment_channel\":\"AMAZON_NA\"},"
    " {\"sku\":\"N-5\",\"asin\":\"B000000N05\",\"title\":\"New one\",\"quantity\":0,\"open_date\":\"2026-04-05T06:07:08Z\"},"
    " {\"sku\":\"O-6\",\"asin\":\"B000000O06\",\"title\":\"Old one\",\"quantity\":0,\"open_date\":\"2025-01-05T06:07:08Z\"}]";

static void import(fx *f, const char *kind, const char *csv) { t_import(f->s, f->integ, kind, csv); }
static void set(fx *f, const char *name, const char *value) { t_set(f->s, f->integ, name, value); }
static void sql(fx *f, const char *q) { t_sql(f->s, q); }
static double qnum(fx *f, const char *q) { return t_qnum(f->s, q); }
static const char *qtext(fx *f, const char *q) { return t_qtext(f->s, q); }

static void fx_open(fx *f, const char *endpoint) {
    char err[SB_ERRLEN];
    memset(f, 0, sizeof *f);
    atomic_store(&t_fake_ms, sb_time_parse("2026-11-27T10:00:00Z") * 1000);
    sb_clock_set(&t_fake_clock);
    snprintf(f->dir, sizeof f->dir, "/tmp/sbjobs.XXXXXX");
    if (!mkdtemp(f->dir)) { perror("mkdtemp"); exit(1); }
    snprintf(f->db, sizeof f->db, "%s/sb.db", f->dir);
    T_EQ(sb_store_open(f->db, SB_STORE_CREATE, &f->s, err), 0);
    T_EQ(sb_store_integration_add(f->s, "t", &f->integ, err), 0);
    if (!endpoint) {
        char scen[4096];
        snprintf(scen, sizeof scen, "{\"listings\":%s}", LISTINGS);
        sb_sim_options o = {.port = 0, .scenario_json = scen, .time_scale = 1000};
        if (sb_sim_start(&o, &f->sim, err)) { fprintf(stderr, "sim: %s\n", err); exit(1); }
        endpoint = sb_sim_url(f->sim);
    }
    import(f, "branches", "name\nLA\nNJ\nFBA\n");
    import(f, "products", "sku,name,buffer_stock,latency\nA-1,Alpha,2,\nB-2,Beta,0,5\nC-3,,0,\nD-4,Delta,0,\n");
    import(f, "stock", "sku,branch,on_hand\nA-1,LA,10\nA-1,NJ,5\nA-1,FBA,100\nB-2,LA,3\nC-3,NJ,7\nD-4,LA,9\n");
    t_connect_sim(f->s, f->integ, endpoint);
    set(f, "api.rate_scale", "1000");
    set(f, "orders.fba_branch", "FBA");
    set(f, "additional.mf_branch", "LA");
    /* D-4 is Amazon-fulfilled (as the listings report says) */
    sql(f, "UPDATE products SET fulfillment_channel = 'AMAZON_NA' WHERE sku = 'D-4'");
}

static void fx_close(fx *f) {
    sb_store_close(f->s);
    if (f->sim) sb_sim_stop(f->sim);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd)) {}
    sb_clock_set(NULL);
}

static sb_engine *eng(fx *f) {
    sb_engine *e = NULL;
    char err[SB_ERRLEN];
    if (sb_engine_open(f->s, f->db, f->integ, &e, err)) { fprintf(stderr, "engine: %s\n", err); exit(1); }
    return e;
}

/* An Amazon order stored locally (lines "SKU:QTY:ITEMID,...") and known to the simulator. */
static void add_order(fx *f, const char *ref, const char *branch, const char *fb, const char *etd, int auto_d,
                      const char *lines) {
    char q[1024], err[SB_ERRLEN];
    snprintf(q, sizeof q, "INSERT INTO sales_orders(integration_id, order_ref, marketplace_id, stage, fulfilled_by, branch, etd, "
             "auto_dispatched) VALUES (%lld, '%s', '" MP "', '%s', '%s', '%s', %s%s%s, %d)", (long long)f->integ, ref,
             auto_d ? "dispatched" : "open", fb, branch, etd ? "'" : "", etd ? etd : "NULL", etd ? "'" : "", auto_d);
    sql(f, q);
    int64_t oid = sqlite3_last_insert_rowid(f->s->db);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", lines);
    int no = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char sku[64], item[64];
        double qty;
        if (sscanf(tok, "%63[^:]:%lf:%63s", sku, &qty, item) != 3) continue;
        snprintf(q, sizeof q, "INSERT INTO sales_order_lines(order_id, line_no, item_id, sku, product_id, qty, qty_dispatched) "
                 "VALUES (%lld, %d, '%s', '%s', (SELECT id FROM products WHERE sku = '%s'), %g, %g)", (long long)oid, ++no, item,
                 sku, sku, qty, auto_d ? qty : 0);
        sql(f, q);
        if (!auto_d && strcmp(fb, "AMAZON")) {
            snprintf(q, sizeof q, "SELECT id FROM products WHERE sku = '%s'", sku);
            T_EQ(sb_store_reserve(f->s, (int64_t)qnum(f, q), branch, qty, err), 0);
        }
    }
    if (f->sim) {
        snprintf(q, sizeof q, "{\"orderId\":\"%s\",\"salesChannel\":{\"marketplaceId\":\"" MP "\"},"
                 "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"%s\"}}", ref,
                 !strcmp(fb, "AMAZON") ? "AMAZON" : "MERCHANT");
        T_EQ(sb_sim_orders_upsert(f->sim, q, err), 0);
    }
}

/* Request-log helpers: count of calls of op (with status, or any when status 0), and the
 * concatenated bodies of op's calls. */
static int nreq(fx *f, const char *op, int status) { return (int)t_sim_calls(f->sim, op, status); }

static char bodies[1 << 16];
static const char *req_bodies(fx *f, const char *op) {
    sb_buf b;
    sb_json *j = NULL;
    char err[SB_ERRLEN];
    size_t used = 0;
    bodies[0] = '\0';
    sb_buf_init(&b, 256u << 20);
    sb_sim_requests_json(f->sim, &b);
    if (!sb_json_parse(b.data, b.len, &j, err))
        for (size_t i = 0; i < sb_json_len(j, SB_JSON_ROOT, NULL); i++) {
            int r = sb_json_at(j, SB_JSON_ROOT, i);
            const char *o = sb_json_str(j, r, "op"), *body = sb_json_str(j, r, "body"), *path = sb_json_str(j, r, "path");
            if (o && !strcmp(o, op) && used < sizeof bodies - 1)
                used += (size_t)snprintf(bodies + used, sizeof bodies - used, "%s %s\n", path ? path : "", body ? body : "");
        }
    sb_json_free(j);
    sb_buf_free(&b);
    return bodies;
}

static int stock_run(fx *f, sb_stock_result *r) {
    sb_engine *e = eng(f);
    char err[SB_ERRLEN] = "";
    int rc = sb_sync_stock(e, r, err);
    if (rc) fprintf(stderr, "(stock run: %s)\n", err);
    sb_engine_close(e);
    return rc;
}

/* ---- stock ---- */

static void test_stock_settings(void) {
    fx f;
    sb_stock_result r;
    fx_open(&f, NULL);
    add_order(&f, "111-0000001-0000001", "LA", "MERCHANT", "2026-11-30", 0, "A-1:2:IT1");
    add_order(&f, "111-0000002-0000002", "NJ", "MERCHANT", NULL, 0, "A-1:1:IT2,B-2:1:IT3");
    /* an FBA order in the FBA branch reserves nothing and is not counted */
    add_order(&f, "111-0000003-0000003", "FBA", "AMAZON", NULL, 0, "A-1:50:IT4");

    /* off: nothing at all */
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_request_count(f.sim), 0);
    set(&f, "stock.enabled", "true");

    /* available over LA+NJ (the FBA branch is Amazon's): A-1 = 15 - 3, B-2 = 3 - 1, C-3 = 7 */
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(r.accepted, 3);
    T_STREQ(r.mode, "patch");
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 12);
    T_EQ(sb_sim_listing_quantity(f.sim, "B-2"), 2);
    T_EQ(sb_sim_listing_quantity(f.sim, "C-3"), 7);
    T_EQ(nreq(&f, "patchListingsItem", 200), 3);
    const char *b = req_bodies(&f, "patchListingsItem");
    T_CONTAINS(b, "/A-1 {\"productType\"");
    T_CONTAINS(b, "\"quantity\":12,\"lead_time_to_ship_max_days\":2");   /* default handling time */
    T_CONTAINS(b, "\"quantity\":2,\"lead_time_to_ship_max_days\":5");    /* B-2's override */
    T_CHECK(strstr(b, "D-4") == NULL);                                   /* FBA offer never sent */
    T_EQ(qnum(&f, "SELECT quantity FROM stock_sent WHERE sku = 'A-1' AND status = 'accepted'"), 12);
    T_CHECK(*qtext(&f, "SELECT value FROM settings WHERE name = 'stock.last_updated'") != '\0');

    /* again: nothing new */
    sb_sim_requests_clear(f.sim);
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_request_count(f.sim), 0);
    T_EQ(r.sent, 0);

    /* a product that appears with old timestamps (restored, or written by another tool) is
     * still looked at: the database marks every new product for the next run (schema 5) */
    sql(&f, "INSERT INTO products(sku, name, updated_at) VALUES ('E-5', 'Old product', '2020-01-01T00:00:00Z')");
    sql(&f, "INSERT INTO stock(product_id, branch_id, on_hand, updated_at) SELECT p.id, b.id, 4, "
            "'2020-01-01T00:00:00Z' FROM products p, branches b WHERE p.sku = 'E-5' AND b.name = 'LA'");
    sb_sim_requests_clear(f.sim);
    stock_run(&f, &r);
    T_EQ(r.sent, 1);
    T_CONTAINS(req_bodies(&f, "patchListingsItem"), "/E-5 ");
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM stock_dirty"), 0);
    sql(&f, "DELETE FROM stock WHERE product_id = (SELECT id FROM products WHERE sku = 'E-5')");
    sql(&f, "DELETE FROM stock_sent WHERE sku = 'E-5'");
    sql(&f, "DELETE FROM products WHERE sku = 'E-5'");
    sb_sim_requests_clear(f.sim);

    /* soh: everything is looked at again; C-3 did not change */
    set(&f, "stock.formula", "soh");
    T_EQ(stock_run(&f, &r), 0);
    T_CHECK(r.full);
    T_EQ(nreq(&f, "patchListingsItem", 200), 2);
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 15);
    T_EQ(sb_sim_listing_quantity(f.sim, "B-2"), 3);

    /* etd7: only the line due by 2026-12-04 counts (the one without ETD does not) */
    sb_sim_requests_clear(f.sim);
    set(&f, "stock.formula", "etd7");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(nreq(&f, "patchListingsItem", 200), 1);
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 13);

    /* etd30 with an order due in 20 days: B-2 drops by 1 */
    add_order(&f, "111-0000004-0000004", "LA", "MERCHANT", "2026-12-17", 0, "B-2:1:IT5");
    sb_sim_requests_clear(f.sim);
    set(&f, "stock.formula", "etd30");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "B-2"), 2);
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 13);
    T_EQ(nreq(&f, "patchListingsItem", 200), 1);

    /* one branch, available: A-1 = 10 - 2; C-3 has nothing in LA */
    set(&f, "stock.formula", "available");
    set(&f, "stock.branches", "LA");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 8);
    T_EQ(sb_sim_listing_quantity(f.sim, "C-3"), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "B-2"), 2);   /* 3 - 1 open in LA (the NJ order does not count) */

    /* buffer on: A-1 has a buffer of 2 */
    set(&f, "stock.subtract_buffer", "true");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 6);
    set(&f, "stock.subtract_buffer", "false");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 8);

    /* handling time 7: every SKU is resent with its quantity, B-2 keeps its override */
    sb_sim_requests_clear(f.sim);
    set(&f, "additional.fulfillment_latency", "7");
    T_EQ(stock_run(&f, &r), 0);
    b = req_bodies(&f, "patchListingsItem");
    T_EQ(nreq(&f, "patchListingsItem", 200), 2);
    T_CONTAINS(b, "\"quantity\":8,\"lead_time_to_ship_max_days\":7");
    T_CHECK(strstr(b, "/B-2 ") == NULL);
    /* a product's override changes only that SKU */
    sb_sim_requests_clear(f.sim);
    sql(&f, "UPDATE products SET latency = 9, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now','+1 second') WHERE sku = 'C-3'");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(nreq(&f, "patchListingsItem", 200), 1);
    T_CONTAINS(req_bodies(&f, "patchListingsItem"), "\"quantity\":0,\"lead_time_to_ship_max_days\":9");

    /* the order download's mark: a SKU whose reservation changed is looked at */
    sb_sim_requests_clear(f.sim);
    char err[SB_ERRLEN];
    T_EQ(sb_store_reserve(f.s, (int64_t)qnum(&f, "SELECT id FROM products WHERE sku = 'A-1'"), "LA", 1, err), 0);
    T_EQ(sb_stock_mark_dirty(f.s, f.integ, "A-1", err), 0);
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 7);
    T_EQ(nreq(&f, "patchListingsItem", 200), 1);
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM stock_dirty"), 0);
    fx_close(&f);
}

static void test_stock_feed_errors(void) {
    fx f;
    sb_stock_result r;
    fx_open(&f, NULL);
    set(&f, "stock.enabled", "true");
    set(&f, "stock.patch_threshold", "1");
    import(&f, "products", "sku,name\nX-9,Unlisted\n");
    import(&f, "stock", "sku,branch,on_hand\nX-9,LA,4\n");
    /* 4 SKUs > threshold: one feed; X-9 is not on Amazon and gets its own error */
    T_CHECK(stock_run(&f, &r) != 0);
    T_STREQ(r.mode, "feed");
    T_EQ(r.feeds, 1);
    T_EQ(r.accepted, 3);
    T_EQ(r.failed, 1);
    T_EQ(nreq(&f, "createFeed", 202), 1);
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 15);
    T_STREQ(qtext(&f, "SELECT status FROM stock_sent WHERE sku = 'X-9'"), "failed");
    T_CONTAINS(qtext(&f, "SELECT error FROM stock_sent WHERE sku = 'X-9'"), "does not exist");
    T_STREQ(qtext(&f, "SELECT status FROM stock_sent WHERE sku = 'C-3'"), "accepted");
    T_CONTAINS(qtext(&f, "SELECT last_error FROM sync_state WHERE job = 'stock'"), "not accepted");
    /* the upload carries exactly the declared content type */
    T_CONTAINS(req_bodies(&f, "createFeedDocument"), "\"contentType\":\"application/json\"");
    T_CONTAINS(req_bodies(&f, "document"), "\"lead_time_to_ship_max_days\":2");
    /* next run: only the failed SKU is tried again (by patch: one SKU) */
    sb_sim_requests_clear(f.sim);
    T_CHECK(stock_run(&f, &r) != 0);
    T_EQ(r.sent, 1);
    T_STREQ(r.mode, "patch");
    T_CONTAINS(req_bodies(&f, "patchListingsItem"), "/X-9 ");
    T_EQ(qnum(&f, "SELECT attempts FROM stock_sent WHERE sku = 'X-9'"), 2);
    fx_close(&f);

    /* a report of another number of messages is not the feed of these SKUs (a feed found
     * on Amazon by type and time that was someone else's): the slice fails, is sent again */
    sb_stock_item it[2];
    sb_stock_plan p = {.items = it, .n = 2, .cap = 2};
    memset(it, 0, sizeof it);
    const char *three = "{\"issues\":[],\"summary\":{\"messagesProcessed\":3,\"messagesAccepted\":3}}";
    sb_stock_apply_report(&p, 0, 2, "50009", three, strlen(three));
    T_EQ(it[0].outcome, -1);
    T_EQ(it[1].outcome, -1);
    T_CONTAINS(it[0].error ? it[0].error : "", "processed 3 messages, the feed of these SKUs had 2");
    free(it[0].error);
    free(it[1].error);
    memset(it, 0, sizeof it);
    const char *two = "{\"issues\":[],\"summary\":{\"messagesProcessed\":2,\"messagesAccepted\":2}}";
    sb_stock_apply_report(&p, 0, 2, "50009", two, strlen(two));
    T_EQ(it[0].outcome, 1);
    T_EQ(it[1].outcome, 1);
}

/* A feed Amazon does not finish while the run waits: its SKUs wait for it and are not sent
 * again meanwhile (an older quantity must not land after a newer one); once it ends, its
 * report is applied and the newer quantity follows in the same run. */
static void test_stock_feed_stuck(void) {
    fx f;
    sb_stock_result r;
    char err[SB_ERRLEN];
    fx_open(&f, NULL);
    set(&f, "stock.enabled", "true");
    set(&f, "stock.patch_threshold", "1");
    T_EQ(sb_sim_fault_add(f.sim, "{\"op\":\"getFeed\",\"kind\":\"stuck\",\"count\":100000}", err), 0);
    int before = sb_sim_listing_quantity(f.sim, "A-1");
    T_EQ(stock_run(&f, &r), 0);
    T_STREQ(r.mode, "feed");
    T_EQ(r.feeds, 1);
    T_EQ(r.accepted, 0);
    T_EQ(r.failed, 0);
    T_EQ(r.waiting, 3);
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), before);       /* Amazon has not applied it */
    T_STREQ(qtext(&f, "SELECT status FROM stock_sent WHERE sku = 'A-1'"), "pending");
    T_EQ(qnum(&f, "SELECT pending_quantity FROM stock_sent WHERE sku = 'A-1'"), 15);
    T_CONTAINS(qtext(&f, "SELECT error FROM stock_sent WHERE sku = 'B-2'"), "not finished by Amazon yet");
    /* A-1's stock changes while the feed is stuck: one look at the feed, nothing sent */
    import(&f, "stock", "sku,branch,on_hand\nA-1,LA,20\n");
    sb_sim_requests_clear(f.sim);
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(r.sent, 0);
    T_EQ(r.waiting, 3);
    T_EQ(nreq(&f, "getFeed", 200), 1);
    T_EQ(nreq(&f, "createFeed", 202) + nreq(&f, "patchListingsItem", 200), 0);
    /* Amazon moves on (one step a look): the feed ends, then A-1 goes again with 25 */
    sb_sim_faults_clear(f.sim);
    for (int i = 0; i < 4 && qnum(&f, "SELECT COUNT(*) FROM stock_sent WHERE pending_feed IS NOT NULL") > 0; i++)
        T_EQ(stock_run(&f, &r), 0);
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM stock_sent WHERE pending_feed IS NOT NULL"), 0);
    T_EQ(r.resolved, 3);
    T_EQ(r.sent, 1);
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 25);
    T_EQ(qnum(&f, "SELECT quantity FROM stock_sent WHERE sku = 'A-1'"), 25);
    T_STREQ(qtext(&f, "SELECT group_concat(status) FROM stock_sent WHERE sku IN ('A-1','B-2','C-3')"),
            "accepted,accepted,accepted");
    T_EQ(sb_sim_listing_quantity(f.sim, "C-3"), (int)qnum(&f, "SELECT quantity FROM stock_sent WHERE sku = 'C-3'"));
    /* and then nothing more to send */
    sb_sim_requests_clear(f.sim);
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(r.sent, 0);

    /* at Amazon's pace (api.rate_scale 1) the run does not wait for the feed: it is
     * submitted once, kept, and each later run looks at it once until it ends */
    set(&f, "api.rate_scale", "1");
    import(&f, "stock", "sku,branch,on_hand\nA-1,LA,30\nB-2,LA,7\n");
    sb_sim_requests_clear(f.sim);
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(r.feeds, 1);
    T_EQ(r.waiting, 2);
    T_EQ(nreq(&f, "getFeed", 0), 0);                              /* not waited for */
    T_STREQ(qtext(&f, "SELECT status FROM stock_sent WHERE sku = 'A-1'"), "pending");
    int runs = 1;
    for (; runs < 8 && qnum(&f, "SELECT COUNT(*) FROM stock_sent WHERE pending_feed IS NOT NULL") > 0; runs++) {
        atomic_fetch_add(&t_fake_ms, (int64_t)300 * 1000);         /* the next check, five minutes on */
        T_EQ(stock_run(&f, &r), 0);
    }
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM stock_sent WHERE pending_feed IS NOT NULL"), 0);
    T_CHECK(runs >= 3);                                           /* it ended across runs */
    T_EQ(nreq(&f, "createFeed", 202), 1);                         /* submitted once */
    T_EQ(nreq(&f, "getFeed", 200), runs - 1);                     /* one look a run */
    T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 35);                 /* 30 here, 5 at the other branch */
    T_EQ(qnum(&f, "SELECT quantity FROM stock_sent WHERE sku = 'A-1'"), 35);
    set(&f, "api.rate_scale", "1000");
    fx_close(&f);
}

/* A stub Amazon whose feed always ends FATAL (the simulator always finishes feeds). */
static enum MHD_Result stub(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *ver,
                            const char *up, size_t *upsz, void **ctx) {
    (void)ver; (void)up;
    int *port = cls;
    if (!*ctx) { *ctx = (void *)1; return MHD_YES; }
    if (*upsz) { *upsz = 0; return MHD_YES; }
    char body[512];
    int status = 200;
    if (!strcmp(url, "/auth/o2/token")) snprintf(body, sizeof body, "{\"access_token\":\"Atza|stub\",\"token_type\":\"bearer\",\"expires_in\":3600}");
    else if (!strcmp(url, "/feeds/2021-06-30/documents") && !strcmp(method, "POST")) {
        status = 201;
        snprintf(body, sizeof body, "{\"feedDocumentId\":\"in1\",\"url\":\"http://127.0.0.1:%d/up/in1\"}", *port);
    } else if (!strncmp(url, "/up/", 4)) snprintf(body, sizeof body, "%s", "");
    else if (!strcmp(url, "/feeds/2021-06-30/feeds") && !strcmp(method, "POST")) { status = 202; snprintf(body, sizeof body, "{\"feedId\":\"F1\"}"); }
    else if (!strcmp(url, "/feeds/2021-06-30/feeds/F1"))
        snprintf(body, sizeof body, "{\"feedId\":\"F1\",\"feedType\":\"JSON_LISTINGS_FEED\",\"createdTime\":\"2026-11-27T10:00:00Z\","
                 "\"processingStatus\":\"FATAL\",\"resultFeedDocumentId\":\"out1\"}");
    else if (!strcmp(url, "/feeds/2021-06-30/documents/out1"))
        snprintf(body, sizeof body, "{\"feedDocumentId\":\"out1\",\"url\":\"http://127.0.0.1:%d/doc/out1\"}", *port);
    else if (!strcmp(url, "/doc/out1"))
        snprintf(body, sizeof body, "{\"issues\":[{\"code\":\"4000004\",\"severity\":\"ERROR\",\"message\":\"Feed processing failed\"}]}");
    else { status = 404; snprintf(body, sizeof body, "{\"errors\":[{\"code\":\"NotFound\",\"message\":\"stub\"}]}"); }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static void test_stock_feed_fatal(void) {
    static int port;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, stub, &port, MHD_OPTION_END);
    T_CHECK(d != NULL);
    if (!d) return;
    port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    fx f;
    sb_stock_result r;
    fx_open(&f, url);
    set(&f, "stock.enabled", "true");
    set(&f, "stock.patch_threshold", "0");
    T_CHECK(stock_run(&f, &r) != 0);
    T_EQ(r.accepted, 0);
    T_EQ(r.failed, 3);
    T_CONTAINS(qtext(&f, "SELECT error FROM stock_sent WHERE sku = 'A-1'"), "ended FATAL: Feed processing failed");
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM stock_sent WHERE status = 'accepted'"), 0);
    /* nothing accepted: the watermark did not move past the changes */
    const char *wm = qtext(&f, "SELECT value FROM settings WHERE name = 'stock.last_updated'");
    T_CHECK(*wm == '\0' || strcmp(wm, qtext(&f, "SELECT MAX(updated_at) FROM stock")) <= 0);
    fx_close(&f);
    MHD_stop_daemon(d);
}

static void test_stock_faults(void) {
    static const char *kinds[] = {"500", "503", "429", "drop", "badjson", "expiredtoken"};
    fx f;
    sb_stock_result r;
    char err[SB_ERRLEN], fault[160];
    fx_open(&f, NULL);
    set(&f, "stock.enabled", "true");
    T_EQ(stock_run(&f, &r), 0);
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        /* each fault once: the client retries and the SKU is accepted exactly once */
        char q[512];
        snprintf(q, sizeof q, "UPDATE stock SET on_hand = on_hand + 1, updated_at = strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ','now','+%zu seconds') "
                 "WHERE branch_id = (SELECT id FROM branches WHERE name = 'LA') AND product_id = (SELECT id FROM products WHERE sku = 'A-1')", k + 1);
        sql(&f, q);
        sb_sim_requests_clear(f.sim);
        snprintf(fault, sizeof fault, "{\"op\":\"patchListingsItem\",\"kind\":\"%s\",\"count\":1}", kinds[k]);
        T_EQ(sb_sim_fault_add(f.sim, fault, err), 0);
        int rc = stock_run(&f, &r);
        if (rc) fprintf(stderr, "fault %s\n", kinds[k]);
        T_EQ(rc, 0);
        T_EQ(r.accepted, 1);
        T_EQ(sb_sim_listing_quantity(f.sim, "A-1"), 16 + (long)k);
        /* a lost answer (drop, badjson) makes the client repeat the call Amazon already
         * applied: a replace of the same pair, so the listing is right either way */
        int lost_answer = !strcmp(kinds[k], "drop") || !strcmp(kinds[k], "badjson");
        T_EQ(nreq(&f, "patchListingsItem", 200), lost_answer ? 2 : 1);
        T_EQ(qnum(&f, "SELECT COUNT(*) FROM stock_sent WHERE sku = 'A-1' AND status = 'accepted' AND error IS NULL"), 1);
    }
    /* faults on every feed step also end in success after retries */
    set(&f, "stock.patch_threshold", "0");
    sql(&f, "UPDATE stock SET on_hand = on_hand + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now','+30 seconds')");
    T_EQ(sb_sim_fault_add(f.sim, "[{\"op\":\"createFeedDocument\",\"kind\":\"503\"},{\"op\":\"createFeed\",\"kind\":\"500\"},"
                                 "{\"op\":\"getFeed\",\"kind\":\"429\"},{\"op\":\"getFeed\",\"kind\":\"badjson\"},"
                                 "{\"op\":\"getFeedDocument\",\"kind\":\"expiredtoken\"},{\"op\":\"getFeedDocument\",\"kind\":\"drop\"},"
                                 "{\"op\":\"document\",\"kind\":\"503\"},{\"op\":\"document\",\"kind\":\"drop\",\"skip\":1}]", err), 0);
    sb_sim_requests_clear(f.sim);
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(r.accepted, 3);
    /* the upload was refused once (503), the report download cut once: both tried again */
    T_EQ(nreq(&f, "document", 503), 1);
    T_EQ(nreq(&f, "document", 200), 3);          /* the upload, the cut download, its repeat */
    T_CHECK(sb_sim_fault_add(f.sim, "{\"op\":\"document\",\"kind\":\"badtoken\"}", err) != 0);
    T_CONTAINS(err, "does not apply to documents");
    T_EQ(nreq(&f, "createFeed", 202), 1);
    T_EQ(sb_sim_listing_quantity(f.sim, "C-3"), 8);
    /* a fault that outlasts the retries: a clear stored error, then the next run sends it */
    set(&f, "api.max_retries", "1");
    set(&f, "stock.patch_threshold", "20");
    sql(&f, "UPDATE stock SET on_hand = on_hand + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now','+40 seconds') "
            "WHERE product_id = (SELECT id FROM products WHERE sku = 'C-3')");
    T_EQ(sb_sim_fault_add(f.sim, "{\"op\":\"patchListingsItem\",\"kind\":\"503\",\"count\":5}", err), 0);
    T_CHECK(stock_run(&f, &r) != 0);
    T_EQ(r.failed, 1);
    T_CONTAINS(qtext(&f, "SELECT error FROM stock_sent WHERE sku = 'C-3'"), "503");
    T_EQ(sb_sim_listing_quantity(f.sim, "C-3"), 8);
    sb_sim_faults_clear(f.sim);
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "C-3"), 9);
    T_STREQ(qtext(&f, "SELECT status FROM stock_sent WHERE sku = 'C-3'"), "accepted");
    fx_close(&f);
}

/* ---- tracking ---- */

static int dispatch(fx *f, const char *ref, const char *carrier, const char *tracking, const sb_dispatch_line *l, int n,
                    sb_dispatch_result *res, int send) {
    sb_engine *e = eng(f);
    char err[SB_ERRLEN];
    sb_dispatch_req rq = {.order_ref = ref, .carrier = carrier, .tracking = tracking, .lines = l, .nlines = n};
    int rc = sb_tracking_dispatch(e, &rq, res, err);
    if (rc) fprintf(stderr, "(dispatch: %s)\n", err);
    if (!rc && send && res->queued) {
        sb_tracking_result t;
        rc = sb_tracking_send(e, 0, &t, err);
        if (rc) fprintf(stderr, "(send: %s)\n", err);
    }
    sb_engine_close(e);
    return rc;
}

static int send_all(fx *f, int manual, sb_tracking_result *t) {
    sb_engine *e = eng(f);
    char err[SB_ERRLEN];
    int rc = sb_tracking_send(e, manual, t, err);
    if (rc) fprintf(stderr, "(send: %s)\n", err);
    sb_engine_close(e);
    return rc;
}

static void test_partial_two_packages(void) {
    fx f;
    sb_dispatch_result d;
    sb_tracking_result t;
    fx_open(&f, NULL);
    set(&f, "additional.auto_update_status", "true");
    add_order(&f, "112-0000001-0000001", "LA", "MERCHANT", NULL, 0, "A-1:2:ITEM-A,B-2:1:ITEM-B");
    T_EQ(qnum(&f, "SELECT reserved FROM stock s JOIN products p ON p.id = s.product_id WHERE p.sku = 'A-1' AND s.branch_id = 1"), 2);
    sb_dispatch_line one = {"A-1", 1};
    T_EQ(dispatch(&f, "112-0000001-0000001", "ups", "1Z001", &one, 1, &d, 1), 0);
    T_EQ(d.package_no, 1);
    T_CHECK(!d.complete);
    T_EQ(qnum(&f, "SELECT on_hand FROM stock s JOIN products p ON p.id = s.product_id WHERE p.sku = 'A-1' AND s.branch_id = 1"), 9);
    T_EQ(qnum(&f, "SELECT reserved FROM stock s JOIN products p ON p.id = s.product_id WHERE p.sku = 'A-1' AND s.branch_id = 1"), 1);
    T_STREQ(qtext(&f, "SELECT stage FROM sales_orders WHERE order_ref = '112-0000001-0000001'"), "open");
    const char *b = req_bodies(&f, "confirmShipment");
    T_CONTAINS(b, "\"packageReferenceId\":\"1\"");
    T_CONTAINS(b, "\"carrierCode\":\"UPS\"");
    T_CONTAINS(b, "\"orderItemId\":\"ITEM-A\",\"quantity\":1");
    T_CHECK(strstr(b, "ITEM-B") == NULL);
    /* the rest, with a carrier Amazon does not list */
    sb_sim_requests_clear(f.sim);
    T_EQ(dispatch(&f, "112-0000001-0000001", "Bob's Couriers", "BC-77", NULL, 0, &d, 1), 0);
    T_EQ(d.package_no, 2);
    T_CHECK(d.complete);
    b = req_bodies(&f, "confirmShipment");
    T_CONTAINS(b, "\"packageReferenceId\":\"2\"");
    T_CONTAINS(b, "\"carrierCode\":\"Other\",\"carrierName\":\"Bob's Couriers\"");
    T_CONTAINS(b, "\"orderItemId\":\"ITEM-A\",\"quantity\":1");
    T_CONTAINS(b, "\"orderItemId\":\"ITEM-B\",\"quantity\":1");
    T_CONTAINS(b, "\"shipDate\":\"2026-11-27T");
    T_STREQ(qtext(&f, "SELECT stage FROM sales_orders WHERE order_ref = '112-0000001-0000001'"), "dispatched");
    T_EQ(qnum(&f, "SELECT reserved FROM stock s JOIN products p ON p.id = s.product_id WHERE p.sku = 'A-1' AND s.branch_id = 1"), 0);
    T_EQ(qnum(&f, "SELECT on_hand FROM stock s JOIN products p ON p.id = s.product_id WHERE p.sku = 'B-2' AND s.branch_id = 1"), 2);
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM shipments WHERE confirm_state = 'confirmed'"), 2);
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM outbox WHERE status = 'sent'"), 2);
    /* nothing is sent twice: the manual button finds nothing to do */
    sb_sim_requests_clear(f.sim);
    T_EQ(send_all(&f, 1, &t), 0);
    T_EQ(t.sent + t.queued, 0);
    T_EQ(nreq(&f, "confirmShipment", 0), 0);
    /* a third dispatch is refused: nothing is left */
    T_CHECK(dispatch(&f, "112-0000001-0000001", "UPS", "1Z002", NULL, 0, &d, 1) != 0);
    /* over-dispatch and unknown SKUs are refused and change nothing */
    add_order(&f, "112-0000002-0000002", "LA", "MERCHANT", NULL, 0, "C-3:1:ITEM-C");
    sb_dispatch_line too_many = {"C-3", 2}, unknown = {"Z-0", 1};
    T_CHECK(dispatch(&f, "112-0000002-0000002", "UPS", "1Z3", &too_many, 1, &d, 1) != 0);
    T_CHECK(dispatch(&f, "112-0000002-0000002", "UPS", "1Z3", &unknown, 1, &d, 1) != 0);
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM shipments"), 2);
    fx_close(&f);
}

static void test_auto_update_and_exclusions(void) {
    fx f;
    sb_dispatch_result d;
    sb_tracking_result t;
    fx_open(&f, NULL);
    add_order(&f, "113-0000001-0000001", "LA", "MERCHANT", NULL, 0, "A-1:1:I1");
    add_order(&f, "113-0000002-0000002", "FBA", "MERCHANT", NULL, 0, "A-1:1:I2");   /* in the FBA branch */
    add_order(&f, "113-0000003-0000003", "FBA", "AMAZON", NULL, 0, "A-1:1:I3");     /* fulfilled by Amazon */
    add_order(&f, "113-0000004-0000004", "LA", "MERCHANT", NULL, 1, "B-2:1:I4");    /* auto-dispatched on download */
    sql(&f, "INSERT INTO shipments(order_id, carrier, tracking, shipped_at, lines, confirm_state, package_no) SELECT id, 'UPS', "
            "'1ZAUTO', '2026-11-27T09:00:00Z', '[{\"sku\":\"B-2\",\"item_id\":\"I4\",\"qty\":1}]', 'none', 1 FROM sales_orders "
            "WHERE order_ref = '113-0000004-0000004'");
    /* auto update off: dispatch sends nothing and queues nothing */
    T_EQ(dispatch(&f, "113-0000001-0000001", "FedEx", "F1", NULL, 0, &d, 1), 0);
    T_STREQ(d.confirm_state, "none");
    T_EQ(dispatch(&f, "113-0000002-0000002", "FedEx", "F2", NULL, 0, &d, 1), 0);
    T_STREQ(d.confirm_state, "not_required");
    T_EQ(dispatch(&f, "113-0000003-0000003", "FedEx", "F3", NULL, 0, &d, 1), 0);
    T_STREQ(d.confirm_state, "not_required");
    T_EQ(nreq(&f, "confirmShipment", 0), 0);
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM outbox"), 0);
    /* the FBA-fulfilled order reserved nothing; its dispatch leaves reserved alone */
    T_EQ(qnum(&f, "SELECT reserved FROM stock s JOIN products p ON p.id = s.product_id JOIN branches b ON b.id = s.branch_id "
                  "WHERE p.sku = 'A-1' AND b.name = 'FBA'"), 0);
    /* Update Dispatched Orders: only the merchant-fulfilled, not auto-dispatched one */
    T_EQ(send_all(&f, 1, &t), 0);
    T_EQ(t.queued, 1);
    T_EQ(t.sent, 1);
    T_EQ(nreq(&f, "confirmShipment", 204), 1);
    T_CONTAINS(req_bodies(&f, "confirmShipment"), "/113-0000001-0000001/");
    T_CONTAINS(req_bodies(&f, "confirmShipment"), "\"carrierCode\":\"FedEx\"");
    sb_sim_requests_clear(f.sim);
    T_EQ(send_all(&f, 1, &t), 0);
    T_EQ(nreq(&f, "confirmShipment", 0), 0);
    /* auto update on: the next dispatch goes out at once */
    set(&f, "additional.auto_update_status", "true");
    add_order(&f, "113-0000005-0000005", "NJ", "MERCHANT", NULL, 0, "A-1:1:I5");
    T_EQ(dispatch(&f, "113-0000005-0000005", "Royal Mail", "RM1", NULL, 0, &d, 1), 0);
    T_STREQ(d.confirm_state, "queued");
    T_EQ(nreq(&f, "confirmShipment", 204), 1);
    T_CONTAINS(req_bodies(&f, "confirmShipment"), "\"carrierCode\":\"Royal Mail\"");
    T_STREQ(qtext(&f, "SELECT confirm_state FROM shipments s JOIN sales_orders o ON o.id = s.order_id WHERE o.order_ref = '113-0000005-0000005'"), "confirmed");
    fx_close(&f);
}

static void test_confirm_faults(void) {
    static const char *kinds[] = {"500", "503", "429", "drop", "badjson", "expiredtoken"};
    fx f;
    sb_dispatch_result d;
    sb_tracking_result t;
    char err[SB_ERRLEN], ref[40], fault[160];
    fx_open(&f, NULL);
    set(&f, "additional.auto_update_status", "true");
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        snprintf(ref, sizeof ref, "114-0000000-000000%zu", k);
        add_order(&f, ref, "LA", "MERCHANT", NULL, 0, "C-3:1:IC");
        snprintf(fault, sizeof fault, "{\"op\":\"confirmShipment\",\"kind\":\"%s\",\"count\":1}", kinds[k]);
        T_EQ(sb_sim_fault_add(f.sim, fault, err), 0);
        sb_sim_requests_clear(f.sim);
        int rc = dispatch(&f, ref, "USPS", "9400", NULL, 0, &d, 1);
        if (rc) fprintf(stderr, "fault %s\n", kinds[k]);
        T_EQ(rc, 0);
        T_CHECK(nreq(&f, "confirmShipment", 204) >= 1);
        char q[200];
        snprintf(q, sizeof q, "SELECT status FROM outbox WHERE key = '%s#1'", ref);
        T_STREQ(qtext(&f, q), "sent");
    }
    sb_sim_requests_clear(f.sim);
    T_EQ(send_all(&f, 0, &t), 0);
    T_EQ(send_all(&f, 1, &t), 0);
    T_EQ(nreq(&f, "confirmShipment", 0), 0);

    /* beyond the client's retries: stays in the outbox with its error, backs off, then goes */
    set(&f, "api.max_retries", "1");
    add_order(&f, "115-0000000-0000001", "LA", "MERCHANT", NULL, 0, "C-3:1:IC");
    T_EQ(sb_sim_fault_add(f.sim, "{\"op\":\"confirmShipment\",\"kind\":\"503\",\"count\":2}", err), 0);
    T_CHECK(dispatch(&f, "115-0000000-0000001", "DHL", "D1", NULL, 0, &d, 1) != 0);
    T_STREQ(qtext(&f, "SELECT status FROM outbox WHERE key = '115-0000000-0000001#1'"), "pending");
    T_EQ(qnum(&f, "SELECT attempts FROM outbox WHERE key = '115-0000000-0000001#1'"), 1);
    T_CONTAINS(qtext(&f, "SELECT last_error FROM outbox WHERE key = '115-0000000-0000001#1'"), "503");
    T_CHECK(*qtext(&f, "SELECT next_attempt_at FROM outbox WHERE key = '115-0000000-0000001#1'") != '\0');
    sb_sim_requests_clear(f.sim);
    T_EQ(send_all(&f, 0, &t), 0);           /* not due yet */
    T_EQ(t.due, 0);
    T_EQ(nreq(&f, "confirmShipment", 0), 0);
    atomic_fetch_add(&t_fake_ms, (int64_t)61 * 1000);
    T_EQ(send_all(&f, 0, &t), 0);
    T_EQ(t.sent, 1);
    T_STREQ(qtext(&f, "SELECT status FROM outbox WHERE key = '115-0000000-0000001#1'"), "sent");
    T_EQ(qnum(&f, "SELECT attempts FROM outbox WHERE key = '115-0000000-0000001#1'"), 2);

    /* a permanent refusal (Amazon does not know the order) fails for a person to see;
     * Update Dispatched Orders tries it again */
    add_order(&f, "116-0000000-0000001", "LA", "MERCHANT", NULL, 0, "C-3:1:IC");
    sql(&f, "UPDATE sales_orders SET order_ref = '116-0000000-0000009' WHERE order_ref = '116-0000000-0000001'");
    T_CHECK(dispatch(&f, "116-0000000-0000009", "DHL", "D2", NULL, 0, &d, 1) != 0);
    T_STREQ(qtext(&f, "SELECT status FROM outbox WHERE key = '116-0000000-0000009#1'"), "failed");
    T_STREQ(qtext(&f, "SELECT confirm_state FROM shipments WHERE tracking = 'D2'"), "failed");
    T_CONTAINS(qtext(&f, "SELECT last_error FROM outbox WHERE key = '116-0000000-0000009#1'"), "404");
    sb_sim_requests_clear(f.sim);
    T_EQ(send_all(&f, 0, &t), 0);           /* automatic runs leave failed rows alone */
    T_EQ(nreq(&f, "confirmShipment", 0), 0);
    T_EQ(sb_sim_orders_upsert(f.sim, "{\"orderId\":\"116-0000000-0000009\"}", err), 0);
    T_EQ(send_all(&f, 1, &t), 0);
    T_EQ(t.sent, 1);
    T_STREQ(qtext(&f, "SELECT confirm_state FROM shipments WHERE tracking = 'D2'"), "confirmed");

    /* crash after the call: the row is still in flight; the retry asks Amazon first, finds
     * the package there and does not send it again */
    add_order(&f, "117-0000000-0000001", "LA", "MERCHANT", NULL, 0, "C-3:1:IC");
    set(&f, "additional.auto_update_status", "false");
    T_EQ(dispatch(&f, "117-0000000-0000001", "UPS", "1ZC", NULL, 0, &d, 0), 0);
    set(&f, "additional.auto_update_status", "true");
    T_EQ(send_all(&f, 1, &t), 0);
    sql(&f, "UPDATE outbox SET status = 'pending', last_error = 'in flight since 2026-11-27T10:00:00Z' WHERE key = '117-0000000-0000001#1'");
    sql(&f, "UPDATE shipments SET confirm_state = 'queued' WHERE tracking = '1ZC'");
    int sent204 = nreq(&f, "confirmShipment", 204), asked = nreq(&f, "getOrder", 200);
    T_EQ(send_all(&f, 0, &t), 0);
    T_EQ(t.sent, 1);
    T_EQ(nreq(&f, "confirmShipment", 204), sent204);        /* not sent twice */
    T_EQ(nreq(&f, "getOrder", 200), asked + 1);              /* Amazon was asked */
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM outbox WHERE key LIKE '117-%'"), 1);
    T_STREQ(qtext(&f, "SELECT confirm_state FROM shipments WHERE tracking = '1ZC'"), "confirmed");

    /* an attempt that never reached Amazon (503s past the retries): the next run's check
     * finds no package, so it is sent, once */
    add_order(&f, "117-0000000-0000002", "LA", "MERCHANT", NULL, 0, "C-3:1:ID");
    T_EQ(sb_sim_fault_add(f.sim, "{\"op\":\"confirmShipment\",\"kind\":\"503\",\"count\":50}", err), 0);
    T_EQ(dispatch(&f, "117-0000000-0000002", "UPS", "1ZD", NULL, 0, &d, 0), 0);
    send_all(&f, 0, &t);
    T_EQ(qnum(&f, "SELECT attempts FROM outbox WHERE key = '117-0000000-0000002#1'"), 1);
    T_STREQ(qtext(&f, "SELECT status FROM outbox WHERE key = '117-0000000-0000002#1'"), "pending");
    sb_sim_faults_clear(f.sim);
    sent204 = nreq(&f, "confirmShipment", 204);
    T_EQ(send_all(&f, 1, &t), 0);
    T_EQ(nreq(&f, "confirmShipment", 204), sent204 + 1);
    T_STREQ(qtext(&f, "SELECT status FROM outbox WHERE key = '117-0000000-0000002#1'"), "sent");
    fx_close(&f);
}

/* ---- products ---- */

static void test_products(void) {
    fx f;
    sb_products_result r;
    char err[SB_ERRLEN];
    fx_open(&f, NULL);
    /* off: no report is requested */
    sb_engine *e = eng(&f);
    T_EQ(sb_sync_products(e, &r, err), 0);
    sb_engine_close(e);
    T_EQ(sb_sim_request_count(f.sim), 0);
    set(&f, "products.enabled", "true");
    set(&f, "products.last_updated", "2025-06-01T00:00:00Z");
    sql(&f, "DELETE FROM products WHERE sku = 'D-4'");
    T_EQ(sb_sim_fault_add(f.sim, "[{\"op\":\"getReport\",\"kind\":\"503\"},{\"op\":\"getReportDocument\",\"kind\":\"drop\"}]", err), 0);
    e = eng(&f);
    int rc = sb_sync_products(e, &r, err);
    sb_engine_close(e);
    if (rc) fprintf(stderr, "products: %s\n", err);
    T_EQ(rc, 0);
    T_EQ(r.rows, 6);
    T_EQ(r.created, 2);          /* D-4 (FBA) and N-5; O-6 is older than the watermark */
    T_EQ(r.linked, 3);
    T_EQ(r.older, 1);
    T_STREQ(qtext(&f, "SELECT name FROM products WHERE sku = 'A-1'"), "Alpha");        /* title kept */
    T_STREQ(qtext(&f, "SELECT asin FROM products WHERE sku = 'A-1'"), "B000000A01");   /* ASIN linked */
    T_STREQ(qtext(&f, "SELECT name FROM products WHERE sku = 'C-3'"), "Gamma listing"); /* was empty */
    T_STREQ(qtext(&f, "SELECT name FROM products WHERE sku = 'N-5'"), "New one");
    T_STREQ(qtext(&f, "SELECT fulfillment_channel FROM products WHERE sku = 'D-4'"), "AMAZON_NA");
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM products WHERE sku = 'O-6'"), 0);
    T_STREQ(qtext(&f, "SELECT value FROM settings WHERE name = 'products.last_updated'"), "2026-04-05T06:07:08Z");
    T_CONTAINS(req_bodies(&f, "createReport"), "GET_MERCHANT_LISTINGS_ALL_DATA");
    /* again: nothing new; the report held in Amazon's queue for three looks is waited for */
    T_EQ(sb_sim_fault_add(f.sim, "{\"op\":\"getReport\",\"kind\":\"stuck\",\"count\":3}", err), 0);
    sb_sim_requests_clear(f.sim);
    e = eng(&f);
    T_EQ(sb_sync_products(e, &r, err), 0);
    sb_engine_close(e);
    T_EQ(r.created + r.linked, 0);
    T_EQ(r.older, 6);
    T_EQ(nreq(&f, "getReport", 200), 3 + 2);    /* three held, then IN_PROGRESS, then DONE */

    /* at Amazon's pace (api.rate_scale 1) nothing waits for the report inside the run: it
     * is requested once and kept; each run looks at it once (the simulator moves it a step
     * per look) and says it waits (SB_ELATER) until it is DONE, then imports it */
    set(&f, "api.rate_scale", "1");
    set(&f, "products.last_updated", "2025-06-01T00:00:00Z");
    sql(&f, "DELETE FROM products WHERE sku = 'N-5'");
    sb_sim_requests_clear(f.sim);
    int looks = 0;
    for (rc = SB_ELATER; rc == SB_ELATER && looks < 10; looks++) {
        atomic_fetch_add(&t_fake_ms, (int64_t)600 * 1000);       /* the next check, ten minutes on */
        e = eng(&f);
        rc = sb_sync_products(e, &r, err);
        sb_engine_close(e);
        if (rc == SB_ELATER) {
            T_CONTAINS(err, "still being made by Amazon");
            T_CHECK(qtext(&f, "SELECT pending_reports FROM sync_state WHERE job = 'products'")[0] != '\0');
        }
    }
    if (rc) fprintf(stderr, "products at Amazon's pace: %s\n", err);
    T_EQ(rc, 0);
    T_CHECK(looks >= 2);                                        /* it did wait, across runs */
    T_EQ(nreq(&f, "createReport", 202), 1);                     /* requested once */
    T_EQ(nreq(&f, "getReport", 200), looks);                    /* one look a run */
    T_EQ(r.created, 1);                                         /* N-5 again */
    T_STREQ(qtext(&f, "SELECT COALESCE(pending_reports, '') FROM sync_state WHERE job = 'products'"), "");
    set(&f, "api.rate_scale", "1000");
    /* createReport's answer lost after Amazon made the report (a 500, then a drop): not asked
     * for again; the report is found with getReports and read. A 503 before Amazon made it:
     * getReports finds none, and it is asked for once more. */
    static const char *lost[] = {"{\"op\":\"createReport\",\"kind\":\"500\",\"committed\":true}",
                                 "{\"op\":\"createReport\",\"kind\":\"drop\",\"committed\":true}",
                                 "{\"op\":\"createReport\",\"kind\":\"503\"}"};
    for (int k = 0; k < 3; k++) {
        atomic_fetch_add(&t_fake_ms, (int64_t)3600 * 1000);   /* an hour after the last run */
        T_EQ(sb_sim_fault_add(f.sim, lost[k], err), 0);
        sb_sim_requests_clear(f.sim);
        e = eng(&f);
        rc = sb_sync_products(e, &r, err);
        sb_engine_close(e);
        if (rc) fprintf(stderr, "products (%s): %s\n", lost[k], err);
        T_EQ(rc, 0);
        T_EQ(r.older, 6);                         /* the listings were read */
        T_EQ(nreq(&f, "createReport", 0), k < 2 ? 1 : 2);
        T_EQ(nreq(&f, "createReport", 503), k < 2 ? 0 : 1);
        T_EQ(nreq(&f, "getReports", 200), 1);
        T_EQ(nreq(&f, "getReport", 200), 2);         /* the one report, IN_PROGRESS then DONE */
    }

    /* bad rows are skipped with their line; columns found by name in any order */
    const char *tsv =
        "status\topen-date\tseller-sku\titem-name\tasin1\tfulfillment-channel\n"
        "Active\t29/09/2026 16:19:39 BST\tUK-1\tTea pot\tB0UK000001\tDEFAULT\n"
        "Active\t30/09/2026 10:00:00 BST\t\tNo SKU\tB0UK000002\tDEFAULT\n"
        "Active\tyesterday\tUK-3\tBad date\tB0UK000003\tDEFAULT\n"
        "Active\t01/10/2026 10:00:00 BST\tUK-4\tToo many\tB0UK000004\tDEFAULT\textra\n"
        "Active\t02/10/2026 11:00:00 BST\tUK-5\tCup\tB0UK000005\tAMAZON_EU\n";
    e = eng(&f);
    rc = sb_products_import_tsv(e, tsv, strlen(tsv), "A1F83G8C2ARO7P", &r, err);
    sb_engine_close(e);
    T_EQ(rc, 0);
    T_EQ(r.created, 2);
    T_EQ(r.bad, 3);
    T_CONTAINS(r.problems[0], "line 3: seller-sku is empty");
    T_CONTAINS(r.problems[1], "line 4: open-date 'yesterday' is not a date");
    T_CONTAINS(r.problems[2], "line 5: more fields");
    T_STREQ(qtext(&f, "SELECT created_date FROM products WHERE sku = 'UK-1'"), "2026-09-29T15:19:39Z");
    T_STREQ(qtext(&f, "SELECT value FROM settings WHERE name = 'products.last_updated'"), "2026-10-02T10:00:00Z");
    T_EQ(sb_products_parse_date("07/08/2016 10:12:40 PDT", 1), sb_time_parse("2016-07-08T17:12:40Z"));
    T_EQ(sb_products_parse_date("2026-03-01 10:00:00 UTC", 0), sb_time_parse("2026-03-01T10:00:00Z"));

    /* a failure while importing: nothing imported and the watermark stays */
    sql(&f, "CREATE TEMP TRIGGER boom BEFORE INSERT ON products WHEN NEW.sku = 'BOOM' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    const char *tsv2 = "seller-sku\topen-date\titem-name\nOK-1\t2026-11-01 10:00:00 UTC\tFine\nBOOM\t2026-11-02 10:00:00 UTC\tNo\n";
    e = eng(&f);
    rc = sb_products_import_tsv(e, tsv2, strlen(tsv2), MP, &r, err);
    sb_engine_close(e);
    T_CHECK(rc != 0);
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM products WHERE sku = 'OK-1'"), 0);
    T_STREQ(qtext(&f, "SELECT value FROM settings WHERE name = 'products.last_updated'"), "2026-10-02T10:00:00Z");
    /* a report with no seller-sku column is refused as a whole */
    e = eng(&f);
    T_CHECK(sb_products_import_tsv(e, "sku\topen-date\nX\t2026-11-01\n", 26, MP, &r, err) != 0);
    sb_engine_close(e);
    T_CONTAINS(err, "seller-sku");
    fx_close(&f);
}

int main(void) {
    test_stock_settings();
    test_stock_feed_errors();
    test_stock_feed_fatal();
    test_stock_feed_stuck();
    test_stock_faults();
    test_partial_two_packages();
    test_auto_update_and_exclusions();
    test_confirm_faults();
    test_products();
    return t_done();
}
