/* store/fix.c: the SQL of held orders (see store/fix.h): what a retry runs again, what
 * keeps an order held, and a person's fix. Run once per command or per held order, so
 * every statement is prepared and finalized (none holds a slot of the connection's
 * cache). */
#include <stdio.h>
#include <string.h>
#include "core/util.h"
#include "store/aliases.h"
#include "store/fix.h"
#include "store/store_int.h"

/* Prepares sql with ?1 = integ and ?2 = ref. */
static int prep(sb_store *s, const char *sql, int64_t integ, const char *ref, sqlite3_stmt **st, char *err) {
    int rc = sb_store_prepare(s, sql, st, err);
    if (rc) return rc;
    sqlite3_bind_int64(*st, 1, integ);
    sb_store_bind_opt(*st, 2, ref);
    return 0;
}

/* The first row of a read st into up to two text columns; *found as it went. */
static int first_row(sb_store *s, sqlite3_stmt *st, char *a, size_t alen, char *b, size_t blen, int *found,
                     const char *what, char *err) {
    int rc = 0, step = sqlite3_step(st);
    if (found) *found = step == SQLITE_ROW;
    if (step == SQLITE_ROW) {
        if (a) sb_store_col_text(st, 0, a, alen);
        if (b) sb_store_col_text(st, 1, b, blen);
    } else if (step != SQLITE_DONE) {
        rc = sb_store_error(s, what, err);
    }
    sqlite3_finalize(st);
    return rc;
}

int sb_store_orders_held(sb_store *s, int64_t integ, const char *ref, int rule_error, int unknown_sku,
                         int (*cb)(void *ctx, const char *ref, const char *raw, int rule_held), void *ctx, char *err) {
    /* the JSON is taken from its page only for the orders found */
    static const char sql[] =
        "SELECT o.order_ref, (SELECT r.raw_json FROM sales_orders_raw r WHERE r.order_id = o.id), "
        "o.stage IN ('rule_error','rejected') "
        "FROM sales_orders o WHERE o.integration_id = ?1 AND o.source = 'amazon' "
        "AND o.split_no = 0 AND ((?3 AND o.stage IN ('rule_error','rejected')) OR (?4 AND "
        "EXISTS (SELECT 1 FROM sales_orders o2 JOIN sales_order_lines l ON l.order_id = o2.id "
        "WHERE o2.integration_id = o.integration_id AND o2.order_ref = o.order_ref "
        "AND o2.stage IN ('needs_attention','open') AND l.stock_bearing = 1 AND l.product_id IS NULL "
        "AND " SB_STORE_SKU_PRODUCT("l.sku") " IS NOT NULL))) "
        "AND (?2 IS NULL OR o.order_ref = ?2) "
        "AND (o.raw_json IS NOT NULL OR o.raw_page_id IS NOT NULL) ORDER BY o.id";
    sqlite3_stmt *st;
    int step, rc = prep(s, sql, integ, ref, &st, err);
    if (rc) return rc;
    sqlite3_bind_int(st, 3, rule_error != 0);
    sqlite3_bind_int(st, 4, unknown_sku != 0);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if ((rc = cb(ctx, r ? r : "", (const char *)sqlite3_column_text(st, 1), sqlite3_column_int(st, 2)))) break;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "finding held orders", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_order_unknown_sku(sb_store *s, int64_t integ, const char *ref, char *sku, size_t len, int *found,
                               char *err) {
    sqlite3_stmt *st;
    sku[0] = '\0';
    *found = 0;
    int rc = prep(s, "SELECT COALESCE(l.sku, '(none)') FROM sales_orders o JOIN sales_order_lines l ON l.order_id = o.id "
                     "WHERE o.integration_id = ?1 AND o.order_ref = ?2 AND o.stage IN ('needs_attention','open') "
                     "AND l.stock_bearing = 1 AND l.product_id IS NULL ORDER BY o.split_no, l.line_no LIMIT 1",
                  integ, ref, &st, err);
    return rc ? rc : first_row(s, st, sku, len, NULL, 0, found, "reading the order's lines", err);
}

int sb_store_order_state(sb_store *s, int64_t integ, const char *ref, char *stage, size_t slen, char *why,
                         size_t wlen, char *err) {
    sqlite3_stmt *st;
    stage[0] = why[0] = '\0';
    int rc = prep(s, "SELECT stage, COALESCE(attention_reason, rule_error, '') FROM sales_orders "
                     "WHERE integration_id = ?1 AND order_ref = ?2 ORDER BY split_no LIMIT 1", integ, ref, &st, err);
    return rc ? rc : first_row(s, st, stage, slen, why, wlen, NULL, "reading the order's stage", err);
}

int sb_store_order_fix_target(sb_store *s, int64_t integ, const char *ref, int64_t *id, char *stage, size_t slen,
                              char *branch, size_t blen, char *err) {
    sqlite3_stmt *st;
    *id = 0;
    stage[0] = branch[0] = '\0';
    int rc = prep(s, "SELECT stage, COALESCE(branch,''), id FROM sales_orders WHERE integration_id = ?1 "
                     "AND order_ref = ?2 ORDER BY split_no LIMIT 1", integ, ref, &st, err);
    if (rc) return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        sb_store_col_text(st, 0, stage, slen);
        sb_store_col_text(st, 1, branch, blen);
        *id = sqlite3_column_int64(st, 2);
    } else if (step != SQLITE_DONE) {
        rc = sb_store_error(s, "reading the order to fix", err);
    }
    sqlite3_finalize(st);
    return rc;
}

int sb_store_order_unlinked_sku(sb_store *s, int64_t integ, const char *ref, char *sku, size_t len, char *err) {
    sqlite3_stmt *st;
    sku[0] = '\0';
    int rc = prep(s, "SELECT l.sku FROM sales_orders o JOIN sales_order_lines l ON l.order_id = o.id "
                     "WHERE o.integration_id = ?1 AND o.order_ref = ?2 AND l.stock_bearing = 1 "
                     "AND l.product_id IS NULL AND " SB_STORE_SKU_PRODUCT("l.sku") " IS NOT NULL "
                     "ORDER BY o.split_no, l.line_no LIMIT 1", integ, ref, &st, err);
    return rc ? rc : first_row(s, st, sku, len, NULL, 0, NULL, "reading the order's lines", err);
}

int sb_store_order_move(sb_store *s, int64_t id, const char *branch, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "UPDATE sales_orders SET branch = ?1, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') "
                                 "WHERE id = ?2", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, branch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    return sb_store_step_done(s, st, SB_STORE_ONCE, "moving the order", err);
}

int sb_store_order_resolve(sb_store *s, int64_t id, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "UPDATE sales_orders SET stage = CASE WHEN dispatched_at IS NULL THEN 'open' "
                                 "ELSE 'dispatched' END, attention_reason = NULL, "
                                 "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?1", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    return sb_store_step_done(s, st, SB_STORE_ONCE, "resolving the order", err);
}

int sb_store_order_audit_person(sb_store *s, int64_t integ, const char *ref, const char *decision, char *err) {
    sqlite3_stmt *st;
    int rc = prep(s, "INSERT INTO audit_log(integration_id, order_ref, entries) VALUES (?1, ?2, json_array(json_array('person', ?3)))",
                  integ, ref, &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 3, decision ? decision : "{}", -1, SQLITE_STATIC);
    return sb_store_step_done(s, st, SB_STORE_ONCE, "recording the fix", err);
}

/* ?1 integration, ?2 SKU. */
#define HELD_ON_SKU \
    "FROM sales_orders o WHERE o.integration_id = ?1 AND o.source = 'amazon' AND o.split_no = 0 " \
    "AND EXISTS (SELECT 1 FROM sales_orders o2 JOIN sales_order_lines l ON l.order_id = o2.id " \
    "WHERE o2.integration_id = o.integration_id AND o2.order_ref = o.order_ref AND l.sku = ?2 AND " \
    "((o2.stage IN ('needs_attention','open') AND l.stock_bearing = 1 AND l.product_id IS NULL) " \
    "OR o2.stage IN ('rule_error','rejected'))) "

int sb_store_orders_on_sku_count(sb_store *s, int64_t integ, const char *sku, long cap, long *n, char *err) {
    sqlite3_stmt *st;
    *n = 0;
    int rc = prep(s, "SELECT COUNT(*) FROM (SELECT 1 " HELD_ON_SKU "LIMIT ?3)", integ, sku, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 3, cap);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) *n = (long)sqlite3_column_int64(st, 0);
    else rc = sb_store_error(s, "counting the orders held on a SKU", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_orders_on_sku(sb_store *s, int64_t integ, const char *sku, int (*cb)(void *ctx, const char *ref),
                           void *ctx, char *err) {
    sqlite3_stmt *st;
    int step, rc = prep(s, "SELECT o.order_ref " HELD_ON_SKU "ORDER BY o.id", integ, sku, &st, err);
    if (rc) return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if ((rc = cb(ctx, r ? r : ""))) break;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "orders held on a SKU", err);
    sqlite3_finalize(st);
    return rc;
}
