/* store/products.c: the products a listings report makes, and the pending reports (see
 * store/products.h). */
#include <stdio.h>
#include <string.h>
#include "core/util.h"
#include "store/aliases.h"
#include "store/products.h"
#include "store/store_int.h"

static const char find_sql[] = "SELECT id FROM products WHERE id = " SB_STORE_SKU_PRODUCT("?1");   /* its own SKU, else an alias */
static const char insert_sql[] =
    "INSERT INTO products(sku, asin, name, created_date, fulfillment_channel) VALUES (?1, NULLIF(?2, ''), NULLIF(?3, ''), ?4, ?5)";
static const char update_sql[] =
    "UPDATE products SET asin = COALESCE(NULLIF(?2, ''), asin), "
    "name = CASE WHEN COALESCE(name, '') = '' THEN NULLIF(?3, '') ELSE name END, "
    "fulfillment_channel = COALESCE(?4, fulfillment_channel), updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?1";
static const char channel_sql[] = "UPDATE products SET fulfillment_channel = ?2 WHERE id = ?1 AND fulfillment_channel IS NOT ?2";

int sb_store_product_listing(sb_store *s, const sb_store_listing *row, int newer, sb_store_listing_outcome *out,
                             char *err) {
    sqlite3_stmt *q, *u;
    int64_t id = 0;
    const char *chan = row->chan ? row->chan : "";
    *out = SB_LISTING_SKIPPED;
    int rc = sb_store_cached(s, find_sql, &q, err);
    if (rc) return rc;
    sqlite3_bind_text(q, 1, row->sku, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) id = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (step != SQLITE_ROW && step != SQLITE_DONE) return sb_store_error(s, "importing products", err);
    if (!newer) {
        if (!id || !*chan) return 0;
        if ((rc = sb_store_cached(s, channel_sql, &u, err))) return rc;
        sqlite3_bind_int64(u, 1, id);
        sqlite3_bind_text(u, 2, chan, -1, SQLITE_STATIC);
        *out = SB_LISTING_CHANNEL;
    } else if (id) {
        if ((rc = sb_store_cached(s, update_sql, &u, err))) return rc;
        sqlite3_bind_int64(u, 1, id);
        sqlite3_bind_text(u, 2, row->asin, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 3, row->name, -1, SQLITE_STATIC);
        if (*chan) sqlite3_bind_text(u, 4, chan, -1, SQLITE_STATIC); else sqlite3_bind_null(u, 4);
        *out = SB_LISTING_LINKED;
    } else {
        char created[32];
        if ((rc = sb_store_cached(s, insert_sql, &u, err))) return rc;
        sqlite3_bind_text(u, 1, row->sku, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 2, row->asin, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 3, row->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 4, sb_time_format(row->opened, created, sizeof created), -1, SQLITE_TRANSIENT);
        if (*chan) sqlite3_bind_text(u, 5, chan, -1, SQLITE_STATIC); else sqlite3_bind_null(u, 5);
        *out = SB_LISTING_CREATED;
    }
    if (sqlite3_step(u) != SQLITE_DONE) rc = sb_store_error(s, "importing products", err);
    sqlite3_reset(u);
    sqlite3_clear_bindings(u);
    return rc;
}

int sb_store_pending_reports(sb_store *s, int64_t integ, char *buf, size_t n, char *err) {
    sqlite3_stmt *st;
    buf[0] = '\0';
    int rc = sb_store_prepare(s, "SELECT pending_reports FROM sync_state WHERE integration_id = ?1 AND job = 'products'",
                              &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_text(st, 0) && (size_t)sqlite3_column_bytes(st, 0) < n)
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    else if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = sb_store_error(s, "reading the requested listings reports", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_pending_reports_save(sb_store *s, int64_t integ, const char *v, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "INSERT INTO sync_state(integration_id, job, pending_reports) VALUES (?1, 'products', ?2) "
                                 "ON CONFLICT(integration_id, job) DO UPDATE SET pending_reports = ?2", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    if (*v) sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 2);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "keeping the requested report", err);
    sqlite3_finalize(st);
    return rc;
}
