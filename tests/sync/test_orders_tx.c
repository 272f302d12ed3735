/* test_orders_tx.c: what the order download holds while a rule runs, and what it keeps
 * when it stops. The engine's rule clock (sb_engine.rules_clock_us) is read at every tick
 * of every rule, so the test's clock looks at the database each time: no write
 * transaction may be open on the engine's connection (a read may: the look-ups' snapshot),
 * and another connection must be able to take the write lock. The same clock moves time (a looping rule reaches its time
 * limit) or raises the stop flag (a looping rule is stopped as SIGTERM would). Orders come
 * from pages in memory (sb_orders_apply_pages). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/embed.h"
#include "csvio/csvio.h"
#include "store/store.h"
#include "sync/engine.h"
#include "sync/orders.h"
#include "t.h"
#include "store/store_int.h"

static const char *ORDER_FMT =
    "{\"orderId\":\"%s\",\"createdTime\":\"2026-03-01T18:22:41Z\",\"lastUpdatedTime\":\"2026-03-01T18:40:03Z\","
    "\"salesChannel\":{\"channelName\":\"AMAZON\",\"marketplaceId\":\"ATVPDKIKX0DER\"},"
    "\"buyer\":{\"buyerName\":\"Dana Ortiz\",\"buyerEmail\":\"dana@example.com\"},"
    "\"recipient\":{\"deliveryAddress\":{\"name\":\"Dana Ortiz\",\"addressLine1\":\"41 Orchard St\","
    "\"city\":\"Brooklyn\",\"stateOrRegion\":\"NY\",\"postalCode\":\"11201\",\"countryCode\":\"US\"}},"
    "\"proceeds\":{\"grandTotal\":{\"amount\":\"25.98\",\"currencyCode\":\"USD\"}},"
    "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\",\"fulfillmentServiceLevel\":\"STANDARD\"},"
    "\"orderItems\":[{\"orderItemId\":\"1\",\"quantityOrdered\":2,\"product\":{\"sellerSku\":\"SKU-0001\","
    "\"price\":{\"unitPrice\":{\"amount\":\"12.99\",\"currencyCode\":\"USD\"}}}}]}";

typedef struct fx {
    char dir[64], db[128], pack[128];
    sb_store *s;
    int64_t integ;
} fx;

/* ---- the probe clock ---- */
static pthread_t engine_thread;
static sb_store *probe_store;
static const char *probe_db;
static long probe_calls, probe_in_tx, probe_lock_tries, probe_locked;
static int64_t probe_us, probe_step_us;     /* the time it gives, and how far each read moves it */
static long stop_after;                     /* raise the stop flag after this many reads (0: never) */
static volatile int stop_flag;

static int64_t probe_clock(void *ud) {
    (void)ud;
    if (pthread_equal(pthread_self(), engine_thread)) {   /* the pass's own thread (the only one) */
        probe_calls++;
        if (sqlite3_txn_state(probe_store->db, NULL) == SQLITE_TXN_WRITE) probe_in_tx++;
        if (probe_lock_tries < 20) {                      /* another writer gets the lock now */
            sqlite3 *o = NULL;
            probe_lock_tries++;
            if (sqlite3_open(probe_db, &o) != SQLITE_OK ||
                sqlite3_exec(o, "BEGIN IMMEDIATE; ROLLBACK", NULL, NULL, NULL) != SQLITE_OK) probe_locked++;
            sqlite3_close(o);
        }
        if (stop_after && probe_calls >= stop_after) stop_flag = 1;
    }
    probe_us += probe_step_us;
    return probe_us;
}

static void probe_reset(int64_t step_us, long stop_at) {
    probe_calls = probe_in_tx = probe_lock_tries = probe_locked = 0;
    probe_us = 1000000;
    probe_step_us = step_us;
    stop_after = stop_at;
    stop_flag = 0;
}

/* ---- fixture ---- */
static void set(fx *f, const char *name, const char *value) {
    char err[SB_ERRLEN];
    int rc = sb_settings_set(f->s, f->integ, name, value, err);
    if (rc) fprintf(stderr, "set %s: %s\n", name, err);
    T_EQ(rc, 0);
}

static void fx_open(fx *f) {
    char err[SB_ERRLEN];
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sbtx.XXXXXX");
    if (!mkdtemp(f->dir)) { perror("mkdtemp"); exit(1); }
    snprintf(f->db, sizeof f->db, "%s/sb.db", f->dir);
    snprintf(f->pack, sizeof f->pack, "%s/pack", f->dir);
    mkdir(f->pack, 0700);
    if (sb_store_open(f->db, SB_STORE_CREATE, &f->s, err)) { fprintf(stderr, "%s\n", err); exit(1); }
    sb_store_integration_add(f->s, "tx", &f->integ, err);
    static const char *kinds[] = {"branches", "customer_groups", "gl_accounts", "products", "stock", NULL};
    for (int i = 0; kinds[i]; i++) {
        char p[64];
        sb_csv_result r;
        snprintf(p, sizeof p, "examples/data/%s.csv", kinds[i]);
        const sb_embedded_file *e = sb_embed_find(p);
        T_CHECK(e != NULL);
        if (e) T_EQ(sb_csv_import_mem(f->s, f->integ, kinds[i], p, e->data, e->len, &r, err), 0);
    }
    T_EQ(sb_store_exec(f->s, "INSERT INTO products(sku, name) VALUES ('SKU-0001', 'mug');"
                             "INSERT INTO stock(product_id, branch_id, on_hand) SELECT p.id, b.id, 100 FROM products p, "
                             "branches b WHERE p.sku = 'SKU-0001' AND b.name = 'LA Warehouse'", err), 0);
    set(f, "additional.mf_branch", "LA Warehouse");
    set(f, "orders.customer_group", "Amazon Retail");
    set(f, "orders.gl_account", "4010");
    set(f, "rules.time_ms", "100");
    probe_store = f->s;
    probe_db = f->db;
    engine_thread = pthread_self();
}

static void fx_close(fx *f) {
    char cmd[160];
    sb_store_close(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
}

static void write_route(fx *f, const char *code) {
    char p[192];
    snprintf(p, sizeof p, "%s/route.lua", f->pack);
    FILE *o = fopen(p, "w");
    if (!o) { perror(p); exit(1); }
    fputs(code, o);
    fclose(o);
    set(f, "rules.pack", f->pack);
}

/* A page of the given orders ("" = an order without an id, a copy of the first), with a
 * next token unless it is the last. */
static char *page(const char *const *ids, int n, int last) {
    size_t cap = (size_t)(n + 1) * 2048;
    char *b = malloc(cap);
    size_t len = (size_t)snprintf(b, cap, "{\"orders\":[");
    for (int i = 0; i < n; i++) {
        char one[2048];
        if (*ids[i]) snprintf(one, sizeof one, ORDER_FMT, ids[i]);
        else snprintf(one, sizeof one, "{\"createdTime\":\"2026-03-01T18:22:41Z\",\"orderItems\":[]}");
        len += (size_t)snprintf(b + len, cap - len, "%s%s", i ? "," : "", one);
    }
    snprintf(b + len, cap - len, "]%s}", last ? "" : ",\"pagination\":{\"nextToken\":\"more\"}");
    return b;
}

static int apply(fx *f, char **pages, int n, sb_orders_result *r, char *err) {
    sb_engine *e = NULL;
    int rc = sb_engine_open(f->s, f->db, f->integ, &e, err);
    if (!rc) {
        e->stop = &stop_flag;
        e->rules_clock_us = probe_clock;
        size_t lens[4];
        for (int i = 0; i < n; i++) lens[i] = strlen(pages[i]);
        rc = sb_orders_apply_pages(e, pages, lens, n, r, err);
    }
    sb_engine_close(e);
    return rc;
}

static long count(fx *f, const char *q) {
    sqlite3_stmt *st;
    long v = -1;
    if (sqlite3_prepare_v2(f->s->db, q, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    } else fprintf(stderr, "%s: %s\n", q, sqlite3_errmsg(f->s->db));
    return v;
}

static void free_pages(char **p, int n) { for (int i = 0; i < n; i++) free(p[i]); }

/* ---- the cases ---- */

/* The default pack over two pages: every rule tick finds no transaction open and the
 * write lock free for another connection; every order is stored. */
static void test_default_pack_holds_no_lock(void) {
    fx f;
    fx_open(&f);
    const char *a[] = {"111-0000001-0000001", "111-0000001-0000002", "111-0000001-0000003"};
    const char *b[] = {"111-0000001-0000004", "111-0000001-0000005"};
    char *pages[2] = {page(a, 3, 0), page(b, 2, 1)};
    sb_orders_result r;
    char err[SB_ERRLEN] = "";
    probe_reset(1, 0);
    int rc = apply(&f, pages, 2, &r, err);
    if (rc) fprintf(stderr, "apply: %s\n", err);
    T_EQ(rc, 0);
    T_EQ(r.created, 5);
    T_CHECK(probe_calls > 5);                 /* the probe did look, at every order */
    T_EQ(probe_in_tx, 0);
    T_EQ(probe_locked, 0);
    T_EQ(count(&f, "SELECT count(*) FROM sales_orders WHERE stage = 'open'"), 5);
    T_EQ(count(&f, "SELECT count(*) FROM stock s JOIN products p ON p.id = s.product_id WHERE p.sku = 'SKU-0001' "
                   "AND s.reserved = 10"), 1);
    free_pages(pages, 2);
    fx_close(&f);
}

/* A route rule that never returns for one order: that order is held with the time limit
 * in its message, the orders around it are stored, no lock was held while it ran. */
static void test_looping_rule_times_out(void) {
    fx f;
    fx_open(&f);
    write_route(&f, "return function(order, ctx)\n"
                    "  if order.id == '111-0000002-0000002' then while true do end end\n"
                    "  return defaults.route(order, ctx)\n"
                    "end\n");
    const char *a[] = {"111-0000002-0000001", "111-0000002-0000002", "111-0000002-0000003"};
    char *pages[1] = {page(a, 3, 1)};
    sb_orders_result r;
    char err[SB_ERRLEN] = "";
    probe_reset(1000, 0);                     /* a millisecond a tick */
    int rc = apply(&f, pages, 1, &r, err);
    if (rc) fprintf(stderr, "apply: %s\n", err);
    T_EQ(rc, 0);
    T_EQ(r.created, 3);
    T_EQ(r.rule_errors, 1);
    T_EQ(probe_in_tx, 0);
    T_EQ(probe_locked, 0);
    sqlite3_stmt *st;
    const char *why = NULL;
    if (sqlite3_prepare_v2(f.s->db, "SELECT rule_error FROM sales_orders WHERE order_ref = '111-0000002-0000002' "
                                    "AND stage = 'rule_error'", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) why = (const char *)sqlite3_column_text(st, 0);
        T_CONTAINS(why, "route.lua:2:");
        T_CONTAINS(why, "rule exceeded its time limit (100 ms)");
        sqlite3_finalize(st);
    }
    T_EQ(count(&f, "SELECT count(*) FROM sales_orders WHERE stage = 'open'"), 2);
    free_pages(pages, 1);
    fx_close(&f);
}

/* The engine stopping while a rule loops: the orders before are kept whole, the one the
 * rule ran for is neither stored nor held (it is decided again next time), the run says
 * it stopped; the repeat stores the rest once. */
static void test_stop_inside_a_rule(void) {
    fx f;
    fx_open(&f);
    set(&f, "rules.instructions", "100000000");
    write_route(&f, "return function(order, ctx)\n"
                    "  if order.id == '111-0000003-0000004' then while true do end end\n"
                    "  return defaults.route(order, ctx)\n"
                    "end\n");
    const char *a[] = {"111-0000003-0000001", "111-0000003-0000002", "111-0000003-0000003"};
    const char *b[] = {"111-0000003-0000004", "111-0000003-0000005"};
    char *pages[2] = {page(a, 3, 0), page(b, 2, 1)};
    sb_orders_result r;
    char err[SB_ERRLEN] = "";
    probe_reset(0, 5000);                     /* time stands still; stop well inside the loop */
    int rc = apply(&f, pages, 2, &r, err);
    T_EQ(rc, SB_EINTR);
    T_CONTAINS(err, "page 2 of window");
    T_CONTAINS(err, "stopped at order 1 of 2");
    T_CONTAINS(err, "the engine is stopping");
    T_EQ(count(&f, "SELECT count(*) FROM sales_orders"), 3);
    T_EQ(count(&f, "SELECT count(*) FROM sales_orders WHERE order_ref = '111-0000003-0000004'"), 0);
    T_EQ(count(&f, "SELECT count(*) FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id"), 3);
    char report[512];
    T_EQ(sb_orders_check_reserved(f.s, report, sizeof report), 0);
    /* the repeat, with a pack that no longer loops */
    set(&f, "rules.pack", "default");
    probe_reset(1, 0);
    rc = apply(&f, pages, 2, &r, err);
    if (rc) fprintf(stderr, "repeat: %s\n", err);
    T_EQ(rc, 0);
    T_EQ(r.created, 2);
    T_EQ(r.updated, 0);             /* the three stored before are seen again as they were */
    T_EQ(r.unchanged, 3);
    T_EQ(count(&f, "SELECT count(DISTINCT order_ref) FROM sales_orders"), 5);
    T_EQ(sb_orders_check_reserved(f.s, report, sizeof report), 0);
    free_pages(pages, 2);
    fx_close(&f);
}

/* Orders Amazon sent without an id are rejected, each under its own key (even two alike
 * in one page), and a repeated page finds them again instead of failing on the key. */
static void test_orders_without_id(void) {
    fx f;
    fx_open(&f);
    const char *a[] = {"", "111-0000004-0000001", ""};
    char *pages[1] = {page(a, 3, 1)};
    sb_orders_result r;
    char err[SB_ERRLEN] = "";
    for (int pass = 0; pass < 2; pass++) {
        probe_reset(1, 0);
        int rc = apply(&f, pages, 1, &r, err);
        if (rc) fprintf(stderr, "pass %d: %s\n", pass + 1, err);
        T_EQ(rc, 0);
        T_EQ(r.rejected, pass ? 0 : 2);
        T_EQ(count(&f, "SELECT count(*) FROM sales_orders WHERE stage = 'rejected' AND order_ref LIKE 'noid-%'"), 2);
        T_EQ(count(&f, "SELECT count(DISTINCT order_ref) FROM sales_orders WHERE stage = 'rejected'"), 2);
        T_EQ(count(&f, "SELECT count(*) FROM sales_orders_raw WHERE stage = 'rejected' AND raw_json IS NOT NULL"), 2);
        T_EQ(count(&f, "SELECT count(*) FROM sales_orders WHERE stage = 'open'"), 1);
    }
    /* a retry runs them again and keeps them held, under the same keys */
    sb_engine *e = NULL;
    long fixed = -1;
    T_EQ(sb_engine_open(f.s, f.db, f.integ, &e, err), 0);
    T_EQ(sb_orders_retry(e, NULL, &fixed, err), 0);
    sb_engine_close(e);
    T_EQ(fixed, 0);
    T_EQ(count(&f, "SELECT count(DISTINCT order_ref) FROM sales_orders WHERE stage = 'rejected' AND order_ref LIKE 'noid-%'"), 2);
    T_EQ(count(&f, "SELECT count(*) FROM sales_orders"), 3);
    free_pages(pages, 1);
    fx_close(&f);
}

int main(void) {
    test_default_pack_holds_no_lock();
    test_looping_rule_times_out();
    test_stop_inside_a_rule();
    test_orders_without_id();
    return t_done();
}
