/* bench_orders.c: the order download's cost (prints figures; not a test).
 *
 * 1. End to end: the simulator (unthrottled, in process) holds N generated orders with
 *    1 to 3 lines; one sync pass pages through all of them with the default pack. Prints
 *    orders/s, Amazon calls per 100 orders and the peak resident memory of the pass; then
 *    the calls of the next pass (what orders.overlap_minutes reads again) and of the daily
 *    reconciliation (orders.reconcile_hours), beside it.
 * 2. The same pages, fetched once into memory, are applied in this process: by the
 *    engine's own page loop (sb_orders_apply_pages: normalise, all order hooks, customers,
 *    lines, reservations, audit; one thread, one rule state), and by a bare baseline
 *    (lua-cjson decode plus an insert of the same order and line rows and of the page, no
 *    rules, no customers).
 *    Prints the rates and the ratios to the baseline.
 *
 * usage: bench_orders [N]   (default 100000; build Release) */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/embed.h"
#include "core/log.h"
#include "csvio/csvio.h"
#include "json/json.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "sim/sim.h"
#include "sync/engine.h"
#include "sync/orders.h"
#include "store/store_int.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) v = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return v;
}

static void reset_hwm(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) { fputs("5", f); fclose(f); }
}

static sb_store *fresh_db(const char *path, int64_t *integ) {
    char err[SB_ERRLEN];
    sb_store *s;
    unlink(path);
    if (sb_store_open(path, SB_STORE_CREATE, &s, err)) { fprintf(stderr, "%s\n", err); exit(1); }
    sb_store_exec(s, "PRAGMA synchronous=OFF", err);
    sb_store_integration_add(s, "bench", integ, err);
    static const char *kinds[] = {"branches", "customer_groups", "gl_accounts", "products", "boms", "stock", "customers", NULL};
    for (int i = 0; kinds[i]; i++) {
        char p[64];
        sb_csv_result r;
        snprintf(p, sizeof p, "examples/data/%s.csv", kinds[i]);
        const sb_embedded_file *f = sb_embed_find(p);
        sb_csv_import_mem(s, *integ, kinds[i], p, f->data, f->len, &r, err);
    }
    /* the generator's 200 SKUs, stocked at LA, so the orders are ordinary ones */
    sb_store_exec(s, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199) "
                     "INSERT INTO products(sku, name) SELECT printf('SKU-%04d', i), 'sim product' FROM n;"
                     "INSERT INTO stock(product_id, branch_id, on_hand) SELECT p.id, b.id, 1000000 FROM products p, "
                     "branches b WHERE p.sku LIKE 'SKU-%' AND b.name IN ('LA Warehouse','Sydney')", err);
    const char *set[][2] = {{"additional.mf_branch", "LA Warehouse"}, {"orders.fba_branch", "Amazon FBA"},
        {"orders.statuses", "UNSHIPPED,PARTIALLY_SHIPPED,SHIPPED,CANCELLED,PENDING"},
        {"orders.customer_group", "Amazon Retail"}, {"orders.gl_account", "4010"},
        {"integration.marketplaces", "ATVPDKIKX0DER,A2EUQ1WTGCTBG2,A39IBJ37TRP1C6,A1F83G8C2ARO7P"},
        {"orders.routing.enabled", "true"},
        {"orders.routing.grid", "[{\"countries\":[\"AU\"],\"branch\":\"Sydney\",\"backups\":[\"LA Warehouse\"]}]"},
        {NULL, NULL}};
    for (int i = 0; set[i][0]; i++)
        if (sb_settings_set(s, *integ, set[i][0], set[i][1], err)) { fprintf(stderr, "%s\n", err); exit(1); }
    return s;
}

/* The baseline: decode each page with lua-cjson and insert the same rows, nothing else. */
static double baseline(char **pages, size_t *lens, int npages, long *orders) {
    char err[SB_ERRLEN];
    int64_t integ;
    sb_store *s = fresh_db("/tmp/bench_orders_base.db", &integ);
    sqlite3_stmt *o, *l;
    sqlite3_prepare_v2(s->db, "INSERT INTO sales_orders(integration_id, order_ref, marketplace_id, amazon_status, fulfilled_by, "
                              "created_time, updated_time, buyer_name, buyer_email, ship_city, ship_state, ship_country, total, "
                              "raw_page_id, raw_index) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)", -1, &o, NULL);
    sqlite3_prepare_v2(s->db, "INSERT INTO sales_order_lines(order_id, line_no, item_id, sku, asin, qty, unit_price) "
                       "VALUES (?1,?2,?3,?4,?5,?6,?7)", -1, &l, NULL);
    sqlite3_stmt *pg;
    sqlite3_prepare_v2(s->db, "INSERT INTO raw_pages(integration_id, body) VALUES (?1, ?2)", -1, &pg, NULL);
    double t0 = now_s();
    *orders = 0;
    for (int p = 0; p < npages; p++) {
        sb_json *j;
        if (sb_json_parse(pages[p], lens[p], &j, err)) { fprintf(stderr, "baseline: %s\n", err); exit(1); }
        sb_store_begin(s, err);
        /* the raw JSON is kept as the engine keeps it: the page once, each order its index */
        sqlite3_reset(pg);
        sqlite3_bind_int64(pg, 1, integ);
        sqlite3_bind_text(pg, 2, pages[p], (int)lens[p], SQLITE_STATIC);
        sqlite3_step(pg);
        int64_t page_id = sqlite3_last_insert_rowid(s->db);
        int arr = sb_json_get(j, SB_JSON_ROOT, "orders");
        size_t n = sb_json_len(j, arr, NULL);
        for (size_t i = 0; i < n; i++) {
            int od = sb_json_at(j, arr, i);
            sqlite3_reset(o);
            sqlite3_bind_int64(o, 1, integ);
            sqlite3_bind_text(o, 2, sb_json_str(j, od, "orderId"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 3, sb_json_str(j, od, "salesChannel.marketplaceId"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 4, sb_json_str(j, od, "fulfillment.fulfillmentStatus"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 5, sb_json_str(j, od, "fulfillment.fulfilledBy"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 6, sb_json_str(j, od, "createdTime"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 7, sb_json_str(j, od, "lastUpdatedTime"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 8, sb_json_str(j, od, "buyer.buyerName"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 9, sb_json_str(j, od, "buyer.buyerEmail"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 10, sb_json_str(j, od, "recipient.deliveryAddress.city"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 11, sb_json_str(j, od, "recipient.deliveryAddress.stateOrRegion"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 12, sb_json_str(j, od, "recipient.deliveryAddress.countryCode"), -1, SQLITE_STATIC);
            sqlite3_bind_text(o, 13, sb_json_str(j, od, "proceeds.grandTotal.amount"), -1, SQLITE_STATIC);
            sqlite3_bind_int64(o, 14, page_id);
            sqlite3_bind_int64(o, 15, (sqlite3_int64)i);
            sqlite3_step(o);
            int64_t oid = sqlite3_last_insert_rowid(s->db);
            int items = sb_json_get(j, od, "orderItems");
            for (size_t k = 0; k < sb_json_len(j, items, NULL); k++) {
                int it = sb_json_at(j, items, k);
                sqlite3_reset(l);
                sqlite3_bind_int64(l, 1, oid);
                sqlite3_bind_int(l, 2, (int)k + 1);
                sqlite3_bind_text(l, 3, sb_json_str(j, it, "orderItemId"), -1, SQLITE_STATIC);
                sqlite3_bind_text(l, 4, sb_json_str(j, it, "product.sellerSku"), -1, SQLITE_STATIC);
                sqlite3_bind_text(l, 5, sb_json_str(j, it, "product.asin"), -1, SQLITE_STATIC);
                sqlite3_bind_double(l, 6, sb_json_num(j, it, "quantityOrdered", 0));
                sqlite3_bind_text(l, 7, sb_json_str(j, it, "product.price.unitPrice.amount"), -1, SQLITE_STATIC);
                sqlite3_step(l);
            }
            (*orders)++;
        }
        sb_store_commit(s, err);
        sb_json_free(j);
    }
    double t = now_s() - t0;
    sqlite3_finalize(pg);
    sqlite3_finalize(o);
    sqlite3_finalize(l);
    sb_store_close(s);
    return t;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    char err[SB_ERRLEN];
    sb_log_set_level(SB_LOG_WARN);
    setenv("SELLERBRIDGE_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
    sb_sim *sim;
    sb_sim_options so = {.generate = n, .seed = 3, .unthrottled = 1};
    if (sb_sim_start(&so, &sim, err)) { fprintf(stderr, "%s\n", err); return 1; }
    int64_t integ;
    const char *db = "/tmp/bench_orders.db";
    sb_store *s = fresh_db(db, &integ);
    unsigned char key[SB_KEY_LEN];
    char lwa[256], ts[32];
    sb_secrets_key(db, 0, key, err);
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", sb_sim_url(sim));
    sb_settings_set(s, integ, "api.endpoint", sb_sim_url(sim), err);
    sb_settings_set(s, integ, "api.lwa_endpoint", lwa, err);
    /* the simulator is unthrottled: lift the client's own buckets (Amazon's searchOrders
     * allows a burst of 20 pages, then one every 180 s) */
    sb_settings_set(s, integ, "api.rate_scale", "1000000", err);
    sb_time_format(sb_now() - 40 * 86400, ts, sizeof ts);
    sb_settings_set(s, integ, "orders.last_updated", ts, err);
    sb_secrets_put(s, integ, "lwa.client_id", SB_SIM_CLIENT_ID, key, err);
    sb_secrets_put(s, integ, "lwa.client_secret", SB_SIM_CLIENT_SECRET, key, err);
    sb_secrets_put(s, integ, "lwa.refresh_token", SB_SIM_REFRESH_TOKEN, key, err);

    /* 1. end to end */
    sb_engine *e;
    sb_orders_result r;
    sb_engine_open(s, db, integ, &e, err);
    sb_engine_rules(e, err);
    reset_hwm();
    long rss0 = rss_kb();
    sb_sim_requests_clear(sim);
    double t0 = now_s();
    if (sb_sync_orders(e, &r, err)) { fprintf(stderr, "sync: %s\n", err); return 1; }
    double t_e2e = now_s() - t0;
    long rss1 = rss_kb();
    size_t calls = sb_sim_request_count(sim);
    printf("end to end: %ld orders in %ld pages, %.2f s, %.0f orders/s, %zu Amazon calls (%.2f per 100 orders, "
           "1 of them the LWA token), peak RSS %.1f MiB (%.1f MiB above the start)\n",
           r.fetched, r.pages, t_e2e, (double)r.fetched / t_e2e, calls, 100.0 * (double)calls / (double)r.fetched,
           (double)rss1 / 1024, (double)(rss1 - rss0) / 1024);
    printf("  stored: %ld new, %ld need attention, %ld rule errors, %ld rejected\n", r.created, r.held, r.rule_errors, r.rejected);
    sb_engine_close(e);
    /* 1b. what the overlap and the daily reconciliation cost: the next pass re-reads the
     * orders updated in the last orders.overlap_minutes; the reconciliation those of the
     * last orders.reconcile_hours. Both find every order as stored: calls, no writes. */
    for (int k = 0; k < 2; k++) {
        if (k == 1) sb_settings_unset(s, integ, "orders.last_reconciled", err);   /* due now */
        sb_orders_result r2;
        sb_engine_open(s, db, integ, &e, err);
        sb_sim_requests_clear(sim);
        double t1 = now_s();
        if (sb_sync_orders(e, &r2, err)) { fprintf(stderr, "sync: %s\n", err); return 1; }
        size_t c2 = sb_sim_request_count(sim);
        printf("%s: %ld orders read again in %ld pages, %zu Amazon calls, %.2f s; %ld unchanged (no write), %ld updated, %ld new\n",
               k ? "daily reconciliation (orders.reconcile_hours 48)" : "next pass (orders.overlap_minutes 720)",
               r2.fetched, r2.pages, c2, now_s() - t1, r2.unchanged, r2.updated, r2.created);
        sb_engine_close(e);
    }
    printf("  (each pass the overlap re-reads the orders Amazon updated in the 12 h before the watermark, one call\n"
           "  per 100 of them; the reconciliation, once a day, those of the last 48 h)\n");
    sb_store_close(s);

    /* 2. the same pages from memory: engine vs baseline */
    sb_spapi_config c = {.endpoint = sb_sim_url(sim), .lwa_endpoint = lwa, .rate_scale = 1e6, .client_id = SB_SIM_CLIENT_ID,
                         .client_secret = SB_SIM_CLIENT_SECRET, .refresh_token = SB_SIM_REFRESH_TOKEN};
    sb_spapi *api = sb_spapi_new(&c, err);
    const char *mk[] = {"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A39IBJ37TRP1C6", "A1F83G8C2ARO7P"};
    char before[32];
    sb_time_format(sb_now() - 300, before, sizeof before);
    sb_search_orders_params p = {.last_updated_after = ts, .last_updated_before = before, .marketplace_ids = mk,
                                 .nmarketplaces = 4, .max_results = 100, .included_data = "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT"};
    int cap = (int)(n / 100) + 16, np = 0;
    char **pages = calloc((size_t)cap, sizeof *pages);
    size_t *lens = calloc((size_t)cap, sizeof *lens);
    char token[4096] = "";
    for (;;) {
        sb_buf b;
        sb_buf_init(&b, 64 << 20);
        p.pagination_token = *token ? token : NULL;
        if (sb_spapi_search_orders(api, &p, &b, err)) { fprintf(stderr, "%s\n", err); return 1; }
        sb_json *j;
        sb_json_parse(b.data, b.len, &j, err);
        const char *next = sb_json_str(j, SB_JSON_ROOT, "pagination.nextToken");
        snprintf(token, sizeof token, "%s", next ? next : "");
        sb_json_free(j);
        if (np < cap) { pages[np] = b.data; lens[np] = b.len; np++; }
        if (!*token) break;
    }
    sb_spapi_free(api);
    long base_orders;
    double t_base = baseline(pages, lens, np, &base_orders);
    /* the engine over the same pages, as it runs (one thread, one rule state) */
    double t_eng[1];
    long eng_orders[1];
    for (int k = 0; k < 1; k++) {
        s = fresh_db("/tmp/bench_orders_engine.db", &integ);
        sb_engine_open(s, "/tmp/bench_orders_engine.db", integ, &e, err);
        memset(&r, 0, sizeof r);
        t0 = now_s();
        if (sb_orders_apply_pages(e, pages, lens, np, &r, err)) { fprintf(stderr, "%s\n", err); return 1; }
        t_eng[k] = now_s() - t0;
        eng_orders[k] = r.fetched;
        sb_engine_close(e);
        sb_store_close(s);
    }
    printf("same %d pages from memory: engine %.0f orders/s (%.2f s), bare baseline %.0f orders/s (%.2f s), "
           "ratio %.2f\n", np, (double)eng_orders[0] / t_eng[0], t_eng[0], (double)base_orders / t_base, t_base,
           t_eng[0] / t_base);
    for (int i = 0; i < np; i++) free(pages[i]);
    free(pages);
    free(lens);
    sb_sim_stop(sim);
    unlink("/tmp/bench_orders.db");
    unlink("/tmp/bench_orders_base.db");
    unlink("/tmp/bench_orders_engine.db");
    return 0;
}
