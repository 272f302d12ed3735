/* bench_stock.c: the stock job's computation and feed document for 100,000 SKUs over 5
 * branches with 20,000 open order lines: a full run (first run, every SKU computed by
 * the stock rule and written into JSON_LISTINGS_FEED documents of 25,000 messages), then
 * a run where 1% of the SKUs changed. No network: this measures what the engine does.
 * Goals: full run <= 1 s, 1% run <= 50 ms (Release build). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"
#include "sync/engine.h"
#include "sync/stock.h"
#include "store/store_int.h"

#define NSKU 100000
#define NBRANCH 5
#define NLINES 20000

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void exec(sb_store *s, const char *q) {
    char err[SB_ERRLEN];
    if (sb_store_exec(s, q, err)) { fprintf(stderr, "%s\n", err); exit(1); }
}

/* plan + feed documents; returns SKUs to send */
static size_t run(sb_store *s, const char *db, int64_t integ, double *secs, sb_stock_plan *plan) {
    char err[SB_ERRLEN];
    sb_engine *e;
    double t0 = now_s();
    if (sb_engine_open(s, db, integ, &e, err) || sb_stock_plan_build(e, plan, err)) { fprintf(stderr, "%s\n", err); exit(1); }
    sb_buf doc;
    sb_buf_init(&doc, (size_t)256 << 20);
    size_t bytes = 0;
    for (size_t from = 0; from < plan->n; from += SB_STOCK_FEED_MAX) {
        sb_buf_reset(&doc);
        size_t n = plan->n - from < SB_STOCK_FEED_MAX ? plan->n - from : SB_STOCK_FEED_MAX;
        if (sb_stock_feed_json(plan, from, n, "A1SIMSELLER0001", &doc, err)) { fprintf(stderr, "%s\n", err); exit(1); }
        bytes += doc.len;
    }
    *secs = now_s() - t0;
    printf("  %zu SKUs looked at, %zu to send, %zu bytes of feed documents\n", (size_t)plan->candidates, plan->n, bytes);
    sb_buf_free(&doc);
    sb_engine_close(e);
    return plan->n;
}

int main(void) {
    char dir[] = "/tmp/sbbench.XXXXXX", db[128], err[SB_ERRLEN], q[512];
    if (!mkdtemp(dir)) return 1;
    snprintf(db, sizeof db, "%s/bench.db", dir);
    sb_log_set_level(SB_LOG_WARN);
    sb_store *s;
    int64_t integ;
    if (sb_store_open(db, SB_STORE_CREATE, &s, err) || sb_store_integration_add(s, "bench", &integ, err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    exec(s, "BEGIN");
    for (int b = 1; b <= NBRANCH; b++) { snprintf(q, sizeof q, "INSERT INTO branches(id, name) VALUES (%d, 'B%d')", b, b); exec(s, q); }
    exec(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
            "INSERT INTO products(id, sku, name, buffer_stock) SELECT i, printf('SKU-%06d', i), 'Product ' || i, i % 3 FROM n");
    exec(s, "INSERT INTO stock(product_id, branch_id, on_hand, updated_at) SELECT p.id, b.id, (p.id * 7 + b.id * 13) % 50, "
            "'2026-11-01T00:00:00Z' FROM products p, branches b");
    exec(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
            "INSERT INTO sales_orders(id, integration_id, order_ref, stage, branch, etd, fulfilled_by) "
            "SELECT i, 1, printf('ORD-%06d', i), 'open', 'B' || (1 + i % 5), CASE WHEN i % 4 = 0 THEN NULL ELSE "
            "date('2026-11-27', '+' || (i % 40) || ' days') END, 'MERCHANT' FROM n");
    exec(s, "INSERT INTO sales_order_lines(order_id, line_no, sku, product_id, qty) SELECT o.id, 1, p.sku, p.id, 1 + o.id % 3 "
            "FROM sales_orders o JOIN products p ON p.id = 1 + (o.id * 37) % 100000");
    exec(s, "UPDATE stock SET reserved = (SELECT COALESCE(SUM(l.qty), 0) FROM sales_order_lines l JOIN sales_orders o ON "
            "o.id = l.order_id WHERE l.product_id = stock.product_id AND o.branch = (SELECT name FROM branches WHERE id = stock.branch_id))");
    exec(s, "INSERT INTO settings(integration_id, name, value) VALUES (1, 'stock.enabled', 'true'), (1, 'stock.formula', 'etd30'), "
            "(1, 'stock.subtract_buffer', 'true')");
    exec(s, "COMMIT");
    printf("bench_stock: %d SKUs x %d branches, %d open order lines, formula etd30 with buffer\n", NSKU, NBRANCH, NLINES);

    sb_stock_plan plan;
    double full, part;
    printf("full run (first run: every SKU):\n");
    run(s, db, integ, &full, &plan);
    /* record everything as accepted, as a successful run would */
    exec(s, "BEGIN");
    sqlite3_stmt *st;
    sqlite3_prepare_v2(s->db, "INSERT INTO stock_sent(integration_id, sku, quantity, latency, sent_at, status) "
                              "VALUES (1, ?1, ?2, ?3, '2026-11-27T10:00:00Z', 'accepted')", -1, &st, NULL);
    for (size_t i = 0; i < plan.n; i++) {
        sqlite3_bind_text(st, 1, plan.items[i].sku, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, plan.items[i].qty);
        sqlite3_bind_int(st, 3, plan.items[i].latency);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    exec(s, "DELETE FROM stock_dirty");   /* a successful run consumes the marks */
    snprintf(q, sizeof q, "INSERT INTO sync_state(integration_id, job, fingerprint) VALUES (1, 'stock', '%s')", plan.fingerprint);
    exec(s, q);
    snprintf(q, sizeof q, "INSERT INTO settings(integration_id, name, value) VALUES (1, 'stock.last_updated', '%s')", plan.snapshot);
    exec(s, q);
    /* 1% of SKUs change: stock moves in one branch */
    exec(s, "UPDATE stock SET on_hand = on_hand + 5, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 second') "
            "WHERE branch_id = 1 AND product_id % 100 = 0");
    exec(s, "COMMIT");
    sb_stock_plan_free(&plan);
    printf("run after 1%% of SKUs changed:\n");
    run(s, db, integ, &part, &plan);
    sb_stock_plan_free(&plan);
    printf("full run: %.3f s (goal 1 s); 1%% changed: %.1f ms (goal 50 ms)\n", full, part * 1000);
    sb_store_close(s);
    snprintf(q, sizeof q, "rm -rf '%s'", dir);
    if (system(q)) {}
    return 0;
}
