/* test_store_errors.c: a look-up the database cannot answer is an error that carries
 * the database's cause, never "not found" (issue #14). Each case is a row of the table
 * below: one table of a fresh database is replaced by a view whose every column raises
 * "integer overflow" when it is read, so the statement prepares and fails while it
 * steps; then the look-up that reads the table is called. It must return a negative
 * code other than SB_ENOTFOUND, with the cause in err. The same look-ups on the sound
 * database answer "not found", so each case can be seen to tell the two apart. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "store/credentials.h"
#include "store/demo.h"
#include "store/integrations.h"
#include "store/invoices.h"
#include "store/listing.h"
#include "store/lookup.h"
#include "store/reports.h"
#include "store/rulepacks.h"
#include "store/settings.h"
#include "store/stock.h"
#include "store/fix.h"
#include "store/orders.h"
#include "store/tracking.h"
#include "sync/engine.h"
#include "t.h"
#include "store/store_int.h"

/* Each call returns the look-up's code as is: < 0 error, SB_ENOTFOUND / 0 not found. */
static int gl(sb_store *s, char *e) { return sb_store_has_gl(s, "4000", e); }
static int group(sb_store *s, char *e) { return sb_store_has_group(s, "Retail", e); }
static int branch(sb_store *s, char *e) { return sb_store_has_branch(s, "Main", e); }
static int cust_ref(sb_store *s, char *e) { return sb_store_has_customer_ref(s, 1, "C1", e); }
static int product(sb_store *s, char *e) { sb_store_product p; return sb_store_product_by_sku(s, "MUG", &p, e); }
static int stock(sb_store *s, char *e) { double a, b; return sb_store_stock_at(s, "MUG", "Main", &a, &b, e); }
static int kit(sb_store *s, char *e) { double c; return sb_store_kit_can_make(s, "MUG", "Main", &c, e); }
static int customer(sb_store *s, char *e) {
    sb_store_customer c;
    return sb_store_customer_find(s, SB_CUST_BY_EMAIL, "dana@example.com", 1, &c, e);
}
static int setting(sb_store *s, char *e) {
    char *v = NULL;
    int rc = sb_store_setting_get(s, 1, "orders.fba_branch", &v, e);
    free(v);
    return rc;
}
static int setting_default(sb_store *s, char *e) {   /* not the default in place of the stored value */
    char *v = NULL;
    int rc = sb_settings_get(s, 1, "orders.fba_branch", &v, NULL, e);
    free(v);
    return rc;
}
static int credential(sb_store *s, char *e) {
    sb_store_sealed v;
    int rc = sb_store_credential_get(s, 1, "lwa.client_id", &v, e);
    if (!rc) free(v.ct);
    return rc;
}
static int decision(sb_store *s, char *e) {
    char *j = NULL;
    int rc = sb_store_decision_recorded(s, 1, "111-1", "gl", &j, e);
    free(j);
    return rc;
}
static int integ_name(sb_store *s, char *e) { char n[64]; return sb_store_integration_name(s, 1, n, sizeof n, e); }
/* the rules' GL check through the engine's look-up: 1 / 0 / negative */
static int rules_gl(sb_store *s, char *e) {
    sb_engine_lookup *l = sb_engine_lookup_new(s, 1, 0, 0);
    const sb_lookup *api = sb_engine_lookup_get(l);
    int rc = api->gl_exists(api->ud, "4000");
    snprintf(e, SB_ERRLEN, "%s", rc < 0 ? "integer overflow (logged by the look-up)" : "");
    sb_engine_lookup_free(l);
    return rc;
}
static int rules_stock(sb_store *s, char *e) {
    sb_engine_lookup *l = sb_engine_lookup_new(s, 1, 0, 1);
    const sb_lookup *api = sb_engine_lookup_get(l);
    double a, b;
    int rc = api->stock(api->ud, "MUG", "Main", &a, &b);
    snprintf(e, SB_ERRLEN, "%s", rc < 0 && rc != SB_ENOTFOUND ? "integer overflow (logged by the look-up)" : "");
    sb_engine_lookup_free(l);
    return rc;
}

/* the stock job's reads (store/stock.h) */
static int stock_inputs(sb_store *s, char *e) { char f[80]; return sb_store_stock_fingerprint(s, 1, f, sizeof f, e); }
static int no_candidate(void *ctx, const sb_store_stock_candidate *c) { (void)c; ++*(int *)ctx; return 0; }
static int stock_candidates(sb_store *s, char *e) {
    int n = 0;
    int rc = sb_store_stock_candidates(s, 1, NULL, no_candidate, &n, e);
    return rc ? rc : n;   /* a sound empty database has none */
}
static int stock_figures(sb_store *s, char *e, int full) {
    static const char *names[] = {"Main"};
    sb_store_stock_reader *r = NULL;
    sb_store_stock_fig fig[1];
    int rc = sb_store_stock_reader_open(s, full, 1, "2026-01-08", "2026-01-31", names, 1, &r, e);
    if (!rc) rc = sb_store_stock_figures(r, 1, fig, e);
    sb_store_stock_reader_close(r);
    return rc;
}
static int stock_figures_full(sb_store *s, char *e) { return stock_figures(s, e, 1); }
static int stock_figures_one(sb_store *s, char *e) { return stock_figures(s, e, 0); }
static int no_comp(void *ctx, int64_t c, double per) { (void)ctx; (void)c; (void)per; return 0; }
static int stock_bom(sb_store *s, char *e) {
    static const char *names[] = {"Main"};
    sb_store_stock_reader *r = NULL;
    int rc = sb_store_stock_reader_open(s, 0, 1, "2026-01-08", "2026-01-31", names, 1, &r, e);
    if (!rc) rc = sb_store_stock_bom(r, 1, no_comp, NULL, e);
    sb_store_stock_reader_close(r);
    return rc;
}
static int stock_intents(sb_store *s, char *e) {
    sb_store_stock_intent_row in[2];
    int n = 0;
    int rc = sb_store_stock_intents(s, 1, in, 2, &n, e);
    return rc ? rc : n;
}
static int no_feed(void *ctx, const char *id) { (void)id; ++*(int *)ctx; return 0; }
static int stock_pending(sb_store *s, char *e) {
    int n = 0;
    int rc = sb_store_stock_pending_feeds(s, 1, no_feed, &n, e);
    return rc ? rc : n;
}
static int stock_ours(sb_store *s, char *e) { int ours; int rc = sb_store_stock_feed_is_ours(s, 1, "F1", &ours, e); return rc ? rc : ours; }

/* the tracking job's reads (store/tracking.h) */
static int dispatch_order(sb_store *s, char *e) {
    sb_store_dispatch_order o;
    int rc = sb_store_dispatch_order_get(s, 1, "111-1", &o, e);
    return rc ? rc : o.found;
}
static int no_row(void *ctx, const sb_store_outbox_row *r) { (void)r; ++*(int *)ctx; return 0; }
static int outbox_due(sb_store *s, char *e) {
    int n = 0;
    int rc = sb_store_outbox_due(s, 1, 1, "2026-01-01T00:00:00Z", no_row, &n, e);
    return rc ? rc : n;
}

/* the documents' reads (store/listing.h, store/reports.h): the rows they give, counted */
static int a_row(void *ctx, const sb_store_row *r) { (void)r; ++*(int *)ctx; return 0; }
static int a_count(void *ctx, const char *name, int64_t n) { (void)name; (void)n; ++*(int *)ctx; return 0; }
static int a_name(void *ctx, const char *name) { (void)name; ++*(int *)ctx; return 0; }
static int a_day(void *ctx, const char *d, const char *st, const char *br, int64_t n) {
    (void)d; (void)st; (void)br; (void)n;
    ++*(int *)ctx;
    return 0;
}
#define ROWS(call) do { int n_ = 0; void *ctx = &n_; int rc_ = (call); return rc_ ? rc_ : n_; } while (0)
#define COUNT(call) do { long n_ = 0; int rc_ = (call); return rc_ ? rc_ : (int)n_; } while (0)
static const sb_store_order_filter any_order = {0};
static const sb_store_order_filter every_filter = {"open", "Shipped", "MUG", "2026-01-01", "2026-12-31"};
static int orders_count(sb_store *s, char *e) { COUNT(sb_store_orders_count(s, 1, &every_filter, 100, &n_, e)); }
static int orders_page(sb_store *s, char *e) { ROWS(sb_store_orders_page(s, 1, &any_order, 50, 0, a_row, ctx, e)); }
static int held_count(sb_store *s, char *e) { COUNT(sb_store_held_count(s, 1, SB_HELD_OTHER, "MUG", 100, &n_, e)); }
static int held_page(sb_store *s, char *e) { ROWS(sb_store_held_page(s, 1, SB_HELD_ANY, NULL, 50, 0, a_row, ctx, e)); }
static int held_waiting(sb_store *s, char *e) { COUNT(sb_store_held_waiting(s, 1, 100, &n_, e)); }
static int held_skus(sb_store *s, char *e) { ROWS(sb_store_held_skus(s, 1, 20, a_count, ctx, e)); }
static int order_splits(sb_store *s, char *e) { ROWS(sb_store_order_splits(s, 1, "111-1", a_row, ctx, e)); }
static int order_lines(sb_store *s, char *e) { ROWS(sb_store_order_lines(s, 1, a_row, ctx, e)); }
static int order_shipments(sb_store *s, char *e) { ROWS(sb_store_order_shipments(s, 1, a_row, ctx, e)); }
static int order_decisions(sb_store *s, char *e) { ROWS(sb_store_order_decisions(s, 1, "111-1", a_row, ctx, e)); }
static int stage_counts(sb_store *s, char *e) {
    static const char *const stages[] = {"open", "dispatched", NULL};
    long n[2] = {0};
    int rc = sb_store_stage_counts(s, 1, stages, n, e);
    return rc ? rc : (int)(n[0] + n[1]);
}
static int per_day(sb_store *s, char *e) { ROWS(sb_store_orders_per_day(s, 1, a_day, ctx, e)); }
static int per_hour(sb_store *s, char *e) {
    sb_store_hour h[SB_STORE_HOURS];
    int n = 0, rc = sb_store_runs_per_hour(s, 1, h, &n, e);
    return rc ? rc : n;
}
static int amazon_clock(sb_store *s, char *e) { sb_store_clock c; int rc = sb_store_amazon_clock(s, 1, &c, e); return rc ? rc : c.found; }
static int ship_states(sb_store *s, char *e) { ROWS(sb_store_shipment_states(s, 1, a_count, ctx, e)); }
static int ship_recent(sb_store *s, char *e) { ROWS(sb_store_shipments_recent(s, 1, 100, a_row, ctx, e)); }
static int outbox_states(sb_store *s, char *e) { ROWS(sb_store_outbox_states(s, 1, a_count, ctx, e)); }
static int job_runs(sb_store *s, char *e) { ROWS(sb_store_job_runs(s, 1, a_row, ctx, e)); }
static int outbox_count(sb_store *s, char *e) { COUNT(sb_store_outbox_count(s, 1, 0, 100, &n_, e)); }
static int outbox_page(sb_store *s, char *e) { ROWS(sb_store_outbox_page(s, 1, 1, 50, 0, a_row, ctx, e)); }
static int sent_states(sb_store *s, char *e) { ROWS(sb_store_stock_sent_states(s, 1, a_count, ctx, e)); }
static int sent_count(sb_store *s, char *e) { COUNT(sb_store_stock_sent_count(s, 1, 1, 100, &n_, e)); }
static int sent_page(sb_store *s, char *e) { ROWS(sb_store_stock_sent_page(s, 1, 0, 50, 0, a_row, ctx, e)); }
static int branch_names(sb_store *s, char *e) { ROWS(sb_store_names(s, SB_NAMES_BRANCHES, a_name, ctx, e)); }
static int group_names(sb_store *s, char *e) { ROWS(sb_store_names(s, SB_NAMES_GROUPS, a_name, ctx, e)); }
static int gl_names(sb_store *s, char *e) { ROWS(sb_store_names(s, SB_NAMES_GL_ACCOUNTS, a_name, ctx, e)); }
/* the CLI's: an order's Amazon JSON, the orders a batch invoices */
static int order_raw(sb_store *s, char *e) { char *j = NULL; int rc = sb_store_order_raw(s, 1, "111-1", &j, e); free(j); return rc; }
static int invoices(sb_store *s, char *e) {
    long n = 0;
    char first[32], last[32];
    int rc = sb_store_invoices_number(s, 1, NULL, NULL, "2026-01-01", &n, first, last, sizeof first, e);
    return rc ? rc : (int)n;
}
#define ORDER_COLS "id, integration_id, order_ref, split_no, stage, amazon_status, branch, distribution_branch, " \
    "fulfilled_by, service_level, programs, marketplace_id, created_time, updated_time, customer_id, buyer_name, " \
    "buyer_email, gl_account, invoice_no, invoice_date, payment_type, total, shipping_total, currency, ship_name, " \
    "ship_city, ship_state, ship_postal, ship_country, etd, attention_reason, rule_error, rule_pack_hash, " \
    "dispatched_at, auto_dispatched, source, came_by"
#define LINE_COLS "id, order_id, line_no, item_id, sku, asin, title, qty, qty_dispatched, unit_price, line_total, " \
    "kit_sku, stock_bearing, product_id"
#define SHIPMENT_COLS "id, order_id, carrier, service, tracking, shipped_at, confirm_state, lines"
#define OUTBOX_COLS "id, integration_id, kind, key, status, attempts, next_attempt_at, sent_at, last_error"
#define SENT_COLS "integration_id, sku, quantity, latency, sent_at, status, error, attempts"
#define SYNC_COLS "integration_id, job, last_run_at, last_success_at, next_check_at, empty_streak, last_error, last_counts"

/* the demo's table of its orders (store/demo.h) */
static int no_order(void *ctx, const sb_store_demo_order *o) { (void)o; ++*(int *)ctx; return 0; }
static int demo_orders(sb_store *s, char *e) {
    int n = 0;
    int rc = sb_store_demo_orders(s, 1, no_order, &n, e);
    return rc ? rc : n;
}
/* the order pass's reads (store/orders.h) and the held orders' (store/fix.h) */
static int order_first(sb_store *s, char *e) {
    int64_t id;
    char st[24];
    int rc = sb_store_order_first(s, 1, "111-1", &id, st, sizeof st, e);
    return rc ? rc : id != 0;
}
static int pass_splits(sb_store *s, char *e) {
    sb_store_order_split r[4];
    int n, rc = sb_store_order_stored(s, 1, "111-1", r, 4, &n, e);
    return rc ? rc : n;
}
static int order_kept(sb_store *s, char *e) {
    char *k[SB_KEPT_N];
    int rc = sb_store_order_kept(s, 1, k, e);
    if (!rc) sb_store_order_kept_free(k);
    return rc;
}
static int no_line(void *ctx, const char *item, const char *sku, double qty, const char *price) {
    (void)item; (void)sku; (void)qty; (void)price; ++*(int *)ctx; return 0;
}
static int pass_lines(sb_store *s, char *e) { int n = 0, rc = sb_store_order_top_lines(s, 1, "111-1", no_line, &n, e); return rc ? rc : n; }
static int no_left(void *ctx, const char *sku, double d, double q) { (void)sku; (void)d; (void)q; ++*(int *)ctx; return 0; }
static int order_left(sb_store *s, char *e) { int n = 0, rc = sb_store_order_left_lines(s, 1, "111-1", no_left, &n, e); return rc ? rc : n; }
static int order_person(sb_store *s, char *e) {
    char b[64];
    int released, rc = sb_store_order_person(s, 1, "111-1", b, sizeof b, &released, e);
    return rc ? rc : *b || released;
}
static int order_product(sb_store *s, char *e) { sb_store_order_product p; int rc = sb_store_order_product_of(s, "MUG", &p, e); return rc ? rc : p.found; }
static int order_resume(sb_store *s, char *e) { sb_store_orders_resume r; int rc = sb_store_orders_resume_get(s, 1, &r, e); return rc ? rc : r.found; }
static int order_reserved(sb_store *s, char *e) { int n, rc = sb_store_orders_reserved_check(s, NULL, 0, &n, e); return rc ? rc : n; }
static int no_held(void *ctx, const char *ref, const char *raw, int rule_held) {
    (void)ref; (void)raw; (void)rule_held; ++*(int *)ctx; return 0;
}
static int held_orders(sb_store *s, char *e) { int n = 0, rc = sb_store_orders_held(s, 1, NULL, 1, 1, no_held, &n, e); return rc ? rc : n; }
static int held_sku(sb_store *s, char *e) { char k[64]; int f, rc = sb_store_order_unknown_sku(s, 1, "111-1", k, sizeof k, &f, e); return rc ? rc : f; }
static int held_on_sku(sb_store *s, char *e) { long n; int rc = sb_store_orders_on_sku_count(s, 1, "MUG", 10, &n, e); return rc ? rc : (int)n; }

static const struct {
    const char *name, *table, *cols;   /* the view's columns: every one raises when read */
    int (*call)(sb_store *, char *);
} cases[] = {
    {"GL account exists", "gl_accounts", "code, name", gl},
    {"customer group exists", "customer_groups", "id, name", group},
    {"branch exists", "branches", "id, name, country, state, address", branch},
    {"customer ref exists", "customers", "id, ref, integration_id", cust_ref},
    {"product by SKU", "products", "id, sku, asin, name, batch_tracked, serial_tracked, order_type, buffer_stock, latency", product},
    {"stock at a branch", "stock", "product_id, branch_id, on_hand, reserved", stock},
    {"kit's components", "bom_components", "kit_id, component_id, qty", kit},
    {"customer by e-mail", "customers", "id, ref, channel_customer_id, email, name, group_id, integration_id", customer},
    {"stored setting", "settings", "integration_id, name, value", setting},
    {"setting with its default", "settings", "integration_id, name, value", setting_default},
    {"credential", "credentials", "integration_id, name, nonce, ciphertext, tag", credential},
    {"recorded decision", "audit_log", "id, integration_id, order_ref, entries, pack_hash, at", decision},
    {"integration's name", "integrations", "id, name", integ_name},
    {"rules: GL account", "gl_accounts", "code, name", rules_gl},
    {"rules: kit stock", "bom_components", "kit_id, component_id, qty", rules_stock},
    {"stock: last run's inputs", "sync_state", "integration_id, job, fingerprint", stock_inputs},
    {"stock: candidates", "products", "id, sku, asin, name, order_type, buffer_stock, latency, updated_at, fulfillment_channel", stock_candidates},
    {"stock: figures, full run", "stock", "product_id, branch_id, on_hand, reserved, updated_at", stock_figures_full},
    {"stock: figures, one product", "stock", "product_id, branch_id, on_hand, reserved, updated_at", stock_figures_one},
    {"stock: a kit's BOM", "bom_components", "kit_id, component_id, qty", stock_bom},
    {"stock: feeds being created", "stock_sent", "integration_id, sku, quantity, latency, sent_at, status, error, attempts, pending_feed, pending_quantity, pending_latency, pending_message, pending_since, pending_document", stock_intents},
    {"stock: feeds waited for", "stock_sent", "integration_id, sku, quantity, latency, sent_at, status, error, attempts, pending_feed, pending_quantity, pending_latency, pending_message, pending_since, pending_document", stock_pending},
    {"tracking: the order to dispatch", "sales_orders", "id, integration_id, order_ref, stage, branch, fulfilled_by, auto_dispatched, source, split_no", dispatch_order},
    {"tracking: confirmations due", "outbox", "id, integration_id, kind, key, payload, status, attempts, claimed_by, claimed_until, next_attempt_at", outbox_due},
    {"demo: its orders", "sales_orders", "id, integration_id, order_ref, split_no, stage, amazon_status, branch, invoice_no, attention_reason, rule_error, source", demo_orders},
    {"orders: an order's first row", "sales_orders", "id, integration_id, source, order_ref, split_no, stage", order_first},
    {"orders: the rows of an order", "sales_orders", "id, integration_id, source, order_ref, split_no, stage, dispatched_at, invoice_no, invoice_date, branch", pass_splits},
    {"orders: what a row keeps", "sales_orders", "id, amazon_status, fulfilled_by, service_level, programs, currency, total, shipping_total, buyer_name, buyer_email, buyer_company, ship_name, ship_company, ship_line1, ship_line2, ship_line3, ship_city, ship_state, ship_postal, ship_country, ship_phone, updated_time", order_kept},
    {"orders: its lines", "sales_order_lines", "order_id, item_id, sku, qty, unit_price, kit_sku, qty_dispatched", pass_lines},
    {"orders: lines that left", "sales_order_lines", "order_id, sku, qty, kit_sku, qty_dispatched", order_left},
    {"orders: what people decided", "audit_log", "id, integration_id, order_ref, entries, pack_hash, at", order_person},
    {"orders: a line's product", "products", "id, sku, batch_tracked, serial_tracked, order_type", order_product},
    {"orders: the window in progress", "sync_state", "integration_id, job, resume_after, resume_before, resume_token, resume_saved_at, resume_pages", order_resume},
    {"orders: reserved stock", "stock", "product_id, branch_id, on_hand, reserved", order_reserved},
    {"held: orders a retry runs", "sales_orders", "id, integration_id, source, order_ref, split_no, stage, updated_time, raw_json, raw_page_id, raw_index", held_orders},
    {"held: a SKU not a product", "sales_order_lines", "order_id, line_no, sku, stock_bearing, product_id", held_sku},
    {"held: orders held on a SKU", "sales_orders", "id, integration_id, source, order_ref, split_no, stage", held_on_sku},
    {"stock: feeds of this engine", "feeds_created", "integration_id, feed_id, feed_type, document_id, created_at", stock_ours},
    {"orders: count with every filter", "sales_orders", ORDER_COLS, orders_count},
    {"orders: a page", "sales_orders", ORDER_COLS, orders_page},
    {"held orders: count", "sales_orders", ORDER_COLS, held_count},
    {"held orders: a page", "sales_orders", ORDER_COLS, held_page},
    {"held orders: waiting for a product", "sales_orders", ORDER_COLS, held_waiting},
    {"held orders: SKUs no product has", "sales_order_lines", LINE_COLS, held_skus},
    {"order: its splits", "sales_orders", ORDER_COLS, order_splits},
    {"order: a split's lines", "sales_order_lines", LINE_COLS, order_lines},
    {"order: a split's packages", "shipments", SHIPMENT_COLS, order_shipments},
    {"order: its decisions", "audit_log", "id, integration_id, order_ref, entries, pack_hash, at", order_decisions},
    {"summary: orders per stage", "sales_orders", ORDER_COLS, stage_counts},
    {"chart: orders per day", "sales_orders", ORDER_COLS, per_day},
    {"chart: runs per hour", "job_runs", "id, integration_id, job, at, ok, counts", per_hour},
    {"summary: Amazon's clock", "sync_state", SYNC_COLS, amazon_clock},
    {"dispatch: confirmation states", "shipments", SHIPMENT_COLS, ship_states},
    {"dispatch: newest packages", "shipments", SHIPMENT_COLS, ship_recent},
    {"dispatch: outbox states", "outbox", OUTBOX_COLS, outbox_states},
    {"jobs: each job's last run", "sync_state", SYNC_COLS, job_runs},
    {"outbox: count", "outbox", OUTBOX_COLS, outbox_count},
    {"outbox: a page", "outbox", OUTBOX_COLS, outbox_page},
    {"stock sent: states", "stock_sent", SENT_COLS, sent_states},
    {"stock sent: count of errors", "stock_sent", SENT_COLS, sent_count},
    {"stock sent: a page", "stock_sent", SENT_COLS, sent_page},
    {"choices: branches", "branches", "id, name, country, state, address", branch_names},
    {"choices: customer groups", "customer_groups", "id, name", group_names},
    {"choices: GL accounts", "gl_accounts", "code, name", gl_names},
    {"orders raw: Amazon's JSON", "sales_orders", ORDER_COLS ", raw_json, raw_page_id, raw_index", order_raw},
    {"invoices: the orders of a batch", "sales_orders", ORDER_COLS, invoices},
};

int main(void) {
    char dir[] = "/tmp/sbstoreerrXXXXXX", err[SB_ERRLEN];
    T_CHECK(mkdtemp(dir) != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char db[128], sql[4096];
        sb_store *s = NULL;
        snprintf(db, sizeof db, "%s/%zu.db", dir, i);
        T_EQ(sb_store_open(db, SB_STORE_CREATE, &s, err), 0);
        if (!s) continue;
        T_EQ(sb_store_integration_add(s, "main", NULL, err), 0);
        /* sound: nothing is there */
        err[0] = '\0';
        int rc = cases[i].call(s, err);
        if (rc != 0 && rc != SB_ENOTFOUND) fprintf(stderr, "case '%s' on a sound database: %d %s\n", cases[i].name, rc, err);
        T_CHECK(rc == 0 || rc == SB_ENOTFOUND);
        /* broken: the table reads as an error */
        size_t n = (size_t)snprintf(sql, sizeof sql, "PRAGMA foreign_keys=OFF; DROP TABLE %s; CREATE VIEW %s AS SELECT ",
                                    cases[i].table, cases[i].table);
        char cols[1024];
        snprintf(cols, sizeof cols, "%s", cases[i].cols);
        int first = 1;
        for (char *c = strtok(cols, ", "); c; c = strtok(NULL, ", "), first = 0)
            n += (size_t)snprintf(sql + n, sizeof sql - n, "%sabs(-9223372036854775807 - 1) AS %s", first ? "" : ", ", c);
        snprintf(sql + n, sizeof sql - n, ";");
        T_EQ(sb_store_exec(s, sql, err), 0);
        err[0] = '\0';
        rc = cases[i].call(s, err);
        if (rc >= 0 || rc == SB_ENOTFOUND) fprintf(stderr, "case '%s': %d, expected an error\n", cases[i].name, rc);
        T_CHECK(rc < 0 && rc != SB_ENOTFOUND);
        T_CONTAINS(err, "integer overflow");
        sb_store_close(s);
        unlink(db);
        char side[160];
        snprintf(side, sizeof side, "%s-wal", db); unlink(side);
        snprintf(side, sizeof side, "%s-shm", db); unlink(side);
    }
    rmdir(dir);
    return t_done();
}
