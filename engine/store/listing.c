/* store/listing.c: the SQL of the order list, the held orders and one order's detail (see
 * store/listing.h). The one idea: a list's WHERE has the filters given and only those, so
 * a filter on the stage walks its index; its count is the same WHERE over a LIMITed
 * subquery, so a total never reads more than its cap of rows. */
#include <stdio.h>
#include <string.h>
#include "core/util.h"
#include "store/listing.h"
#include "store/store_int.h"

/* which path brought the order: the scheduled download, a notification, an import */
#define CAME_BY "CASE WHEN o.source = 'import' THEN 'import' ELSE COALESCE(o.came_by, 'download') END AS came_by"
#define ORDER_LIST_COLS \
    "o.order_ref AS \"order\", o.split_no AS split, o.stage, o.amazon_status AS status, o.branch, " \
    "o.fulfilled_by, o.total, o.currency, COALESCE(c.name, o.buyer_name) AS customer, o.invoice_no, " \
    "COALESCE(o.rule_error, o.attention_reason) AS problem, o.ship_country AS country, o.created_time AS created, " \
    "o.updated_time AS updated, o.dispatched_at, " CAME_BY " "

/* ?2 stage, ?3 Amazon status, ?4 search (a LIKE pattern), ?8 and ?9 the first and last day. */
static void order_where(char *out, size_t outlen, const sb_store_order_filter *f) {
    snprintf(out, outlen, "WHERE o.integration_id = ?1%s%s%s%s%s ", f->stage ? " AND o.stage = ?2" : "",
             f->from ? " AND substr(o.created_time, 1, 10) >= ?8" : "",
             f->to ? " AND substr(o.created_time, 1, 10) <= ?9" : "", f->status ? " AND o.amazon_status = ?3" : "",
             f->search ? " AND (o.order_ref LIKE ?4 ESCAPE '\\' OR COALESCE(c.name, o.buyer_name) LIKE ?4 ESCAPE '\\' "
                         "OR o.buyer_email LIKE ?4 ESCAPE '\\' OR EXISTS (SELECT 1 FROM sales_order_lines l "
                         "WHERE l.order_id = o.id AND l.sku LIKE ?4 ESCAPE '\\'))" : "");
}

#define SEARCH_MAX 200          /* longer searches are cut to this */

/* Prepares sql and binds the filters; like holds the search pattern (%term% with '%',
 * '_' and '\' escaped) for the statement's life. */
static int order_stmt(sb_store *s, int64_t integ, const sb_store_order_filter *f, const char *sql, char *like,
                      sqlite3_stmt **st, char *err) {
    int rc = sb_store_rows_prepare(s, sql, st, "orders", err);
    if (rc) return rc;
    sqlite3_bind_int64(*st, 1, integ);
    if (f->stage) sqlite3_bind_text(*st, 2, f->stage, -1, SQLITE_STATIC);
    if (f->status) sqlite3_bind_text(*st, 3, f->status, -1, SQLITE_STATIC);
    if (f->search) sqlite3_bind_text(*st, 4, sb_store_like(f->search, SEARCH_MAX, like), -1, SQLITE_STATIC);
    if (f->from) sqlite3_bind_text(*st, 8, f->from, -1, SQLITE_STATIC);
    if (f->to) sqlite3_bind_text(*st, 9, f->to, -1, SQLITE_STATIC);
    return 0;
}

int sb_store_orders_count(sb_store *s, int64_t integ, const sb_store_order_filter *f, long cap, long *total, char *err) {
    char where[800], sql[1600], like[2 * SEARCH_MAX + 4];
    sqlite3_stmt *st;
    *total = 0;
    order_where(where, sizeof where, f);
    /* the total needs the customer only to search its name */
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM (SELECT 1 FROM sales_orders o %s%sLIMIT ?7)",
             f->search ? "LEFT JOIN customers c ON c.id = o.customer_id " : "", where);
    int rc = order_stmt(s, integ, f, sql, like, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 7, cap);
    rc = sb_store_rows_count(s, st, total, "orders", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_orders_page(sb_store *s, int64_t integ, const sb_store_order_filter *f, long limit, long offset,
                         sb_store_row_fn fn, void *ctx, char *err) {
    char where[800], sql[1600], like[2 * SEARCH_MAX + 4];
    sqlite3_stmt *st;
    order_where(where, sizeof where, f);
    snprintf(sql, sizeof sql, "SELECT " ORDER_LIST_COLS "FROM sales_orders o LEFT JOIN customers c "
             "ON c.id = o.customer_id %sORDER BY o.id DESC LIMIT ?5 OFFSET ?6", where);
    int rc = order_stmt(s, integ, f, sql, like, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 5, limit);
    sqlite3_bind_int64(st, 6, offset);
    rc = sb_store_rows_each(s, st, fn, ctx, "orders", err);
    sqlite3_finalize(st);
    return rc;
}

/* ---- held orders ---- */

#define HELD_WHERE "WHERE o.integration_id = ?1 AND o.stage IN ('needs_attention','rule_error','rejected') "
/* a line of it with no product, stock-bearing: the order waits for a product or an alias */
#define UNKNOWN_LINE "EXISTS (SELECT 1 FROM sales_order_lines l WHERE l.order_id = o.id AND l.stock_bearing = 1 " \
    "AND l.product_id IS NULL) "

/* ?9: a SKU of the order's lines */
static void held_where(char *out, size_t n, sb_store_held why, int sku) {
    static const char *const narrow[] = {
        [SB_HELD_ANY] = "",
        [SB_HELD_UNKNOWN_SKU] = "AND o.stage = 'needs_attention' AND " UNKNOWN_LINE,
        [SB_HELD_RULE_ERROR] = "AND o.stage = 'rule_error' ",
        [SB_HELD_REJECTED] = "AND o.stage = 'rejected' ",
        [SB_HELD_OTHER] = "AND o.stage = 'needs_attention' AND NOT " UNKNOWN_LINE};
    snprintf(out, n, HELD_WHERE "%s%s", (unsigned)why <= SB_HELD_OTHER ? narrow[why] : "",
             sku ? "AND EXISTS (SELECT 1 FROM sales_order_lines l2 WHERE l2.order_id = o.id AND l2.sku = ?9) " : "");
}

/* Prepares sql with ?1 integ, ?2 a, ?3 b (when b >= 0) and ?9 sku (when given). */
static int held_stmt(sb_store *s, const char *sql, int64_t integ, long a, long b, const char *sku, sqlite3_stmt **st,
                     char *err) {
    int rc = sb_store_rows_prepare(s, sql, st, "attention", err);
    if (rc) return rc;
    sqlite3_bind_int64(*st, 1, integ);
    sqlite3_bind_int64(*st, 2, a);
    if (b >= 0) sqlite3_bind_int64(*st, 3, b);
    if (sku) sqlite3_bind_text(*st, 9, sku, -1, SQLITE_STATIC);
    return 0;
}

static int held_count(sb_store *s, const char *sql, int64_t integ, long cap, const char *sku, long *n, char *err) {
    sqlite3_stmt *st;
    *n = 0;
    int rc = held_stmt(s, sql, integ, cap, -1, sku, &st, err);
    if (!rc) rc = sb_store_rows_count(s, st, n, "attention", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_held_count(sb_store *s, int64_t integ, sb_store_held why, const char *sku, long cap, long *n, char *err) {
    char where[1200], sql[2000];
    held_where(where, sizeof where, why, sku != NULL);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM (SELECT 1 FROM sales_orders o %sLIMIT ?2)", where);
    return held_count(s, sql, integ, cap, sku, n, err);
}

int sb_store_held_page(sb_store *s, int64_t integ, sb_store_held why, const char *sku, long limit, long offset,
                       sb_store_row_fn fn, void *ctx, char *err) {
    char where[1200], sql[2000];
    sqlite3_stmt *st;
    held_where(where, sizeof where, why, sku != NULL);
    snprintf(sql, sizeof sql, "SELECT " ORDER_LIST_COLS ", o.rule_pack_hash AS pack_hash, "
             "(SELECT l.sku FROM sales_order_lines l WHERE l.order_id = o.id AND l.stock_bearing = 1 "
             "AND l.product_id IS NULL ORDER BY l.line_no LIMIT 1) AS unknown_sku FROM sales_orders o "
             "LEFT JOIN customers c ON c.id = o.customer_id %sORDER BY o.id DESC LIMIT ?2 OFFSET ?3", where);
    int rc = held_stmt(s, sql, integ, limit, offset, sku, &st, err);
    if (!rc) rc = sb_store_rows_each(s, st, fn, ctx, "attention", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_held_waiting(sb_store *s, int64_t integ, long cap, long *n, char *err) {
    static const char sql[] = "SELECT COUNT(*) FROM (SELECT 1 FROM sales_orders o " HELD_WHERE "AND " UNKNOWN_LINE
                              "LIMIT ?2)";
    return held_count(s, sql, integ, cap, NULL, n, err);
}

int sb_store_held_skus(sb_store *s, int64_t integ, int max, sb_store_count_fn fn, void *ctx, char *err) {
    sqlite3_stmt *st;
    int rc = held_stmt(s, "SELECT l.sku, COUNT(DISTINCT o.order_ref) AS orders FROM sales_orders o "
                          "JOIN sales_order_lines l ON l.order_id = o.id WHERE o.integration_id = ?1 "
                          "AND o.stage = 'needs_attention' AND l.stock_bearing = 1 AND l.product_id IS NULL "
                          "AND l.sku IS NOT NULL GROUP BY l.sku ORDER BY orders DESC, l.sku LIMIT ?2",
                       integ, max, -1, NULL, &st, err);
    if (!rc) rc = sb_store_rows_counts(s, st, fn, ctx, "attention", err);
    sqlite3_finalize(st);
    return rc;
}

/* ---- one order ---- */

int sb_store_order_splits(sb_store *s, int64_t integ, const char *ref, sb_store_row_fn fn, void *ctx, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_rows_prepare(s,
            "SELECT o.id, o.order_ref AS \"order\", o.split_no AS split, o.stage, o.amazon_status AS status, o.branch, "
            "o.distribution_branch, o.fulfilled_by, o.service_level, o.programs, o.marketplace_id AS marketplace, "
            "o.created_time AS created, o.updated_time AS updated, c.ref AS customer_ref, "
            "COALESCE(c.name, o.buyer_name) AS customer, o.buyer_email, o.gl_account, o.invoice_no, o.invoice_date, "
            "o.payment_type, o.total, o.shipping_total, o.currency, o.ship_name, o.ship_city, o.ship_state, "
            "o.ship_postal, o.ship_country, o.etd, o.attention_reason AS attention, o.rule_error, "
            "o.rule_pack_hash AS pack_hash, o.dispatched_at, o.auto_dispatched, " CAME_BY " "
            "FROM sales_orders o LEFT JOIN customers c ON c.id = o.customer_id "
            "WHERE o.integration_id = ?1 AND o.source IN ('amazon','import') AND o.order_ref = ?2 ORDER BY o.split_no",
            &st, "order", err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    rc = sb_store_rows_each(s, st, fn, ctx, "order", err);
    sqlite3_finalize(st);
    return rc;
}

/* A split's rows of sql (?1 the split's id): cached, as they run per split. */
static int split_rows(sb_store *s, const char *sql, int64_t order_id, sb_store_row_fn fn, void *ctx, const char *what,
                      char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, order_id);
    rc = sb_store_rows_each(s, st, fn, ctx, what, err);
    sqlite3_reset(st);
    return rc;
}

int sb_store_order_lines(sb_store *s, int64_t order_id, sb_store_row_fn fn, void *ctx, char *err) {
    static const char sql[] = "SELECT line_no AS line, item_id, sku, asin, title, qty, qty_dispatched AS dispatched, "
                              "unit_price, line_total, kit_sku, stock_bearing FROM sales_order_lines "
                              "WHERE order_id = ?1 ORDER BY line_no";
    return split_rows(s, sql, order_id, fn, ctx, "order lines", err);
}

int sb_store_order_shipments(sb_store *s, int64_t order_id, sb_store_row_fn fn, void *ctx, char *err) {
    static const char sql[] = "SELECT carrier, service, tracking, shipped_at, confirm_state, lines "
                              "FROM shipments WHERE order_id = ?1 ORDER BY id";
    return split_rows(s, sql, order_id, fn, ctx, "shipments", err);
}

int sb_store_order_decisions(sb_store *s, int64_t integ, const char *ref, sb_store_row_fn fn, void *ctx, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_rows_prepare(s, "SELECT at, hook, pack_hash, decision, CASE WHEN hook = 'amazon' AND json_valid(decision) "
                              "THEN CASE json_extract(decision, '$.action') WHEN 'update' THEN 'updated by Amazon: ' "
                              "WHEN 'refresh' THEN 'updated by Amazon: ' ELSE 'changed by Amazon, held for a person: ' END "
                              "|| COALESCE(json_extract(decision, '$.changes'), '') "
                              "|| COALESCE(' (kept branch ' || json_extract(decision, '$.kept') || ', a person''s choice)', '') "
                              "|| COALESCE(' (already left: ' || json_extract(decision, '$.left') || ')', '') END AS said "
                              "FROM audit WHERE integration_id = ?1 AND order_ref = ?2 ORDER BY id", &st, "decisions", err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    rc = sb_store_rows_each(s, st, fn, ctx, "decisions", err);
    sqlite3_finalize(st);
    return rc;
}
