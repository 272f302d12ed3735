/* store/stock.c: the stock job's SQL (see store/stock.h). The one idea: the job's
 * candidates and figures are read in product order, so a full run reads the stock rows
 * and the open order lines in one pass each, walked alongside the candidates; a partial
 * run looks up its few products one by one with the same columns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "store/aliases.h"
#include "store/stock.h"
#include "store/store_int.h"

/* Statements run per SKU or per row come from the connection's cache; the ones run once
 * a run (SB_STORE_ONCE) are prepared and finalized, so they do not hold one of its slots. */

/* One write with ?1 = integ and text parameters ?2.. (NULL binds NULL); SB_EIO "what: ...". */
static int run(sb_store *s, const char *sql, int once, int64_t integ, const char *a, const char *b, const char *c,
               const char *what, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_get(s, sql, once, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    const char *v[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (v[i]) sqlite3_bind_text(st, i + 2, v[i], -1, SQLITE_STATIC);
    return sb_store_step_done(s, st, once, what, err);
}

/* One text value of sql (?1 = integ) into out; "" when no row or NULL. */
static int one_text(sb_store *s, const char *sql, int64_t integ, char *out, size_t n, const char *what, char *err) {
    sqlite3_stmt *st;
    out[0] = '\0';
    int rc = sb_store_get(s, sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) sb_store_col_text(st, 0, out, n);
    else if (step != SQLITE_DONE) rc = sb_store_error(s, what, err);
    sb_store_put(st, SB_STORE_ONCE);
    return rc;
}

int sb_store_stock_mark_dirty(sb_store *s, int64_t integ, const char *sku, char *err) {
    static const char sql[] = "INSERT INTO stock_dirty(integration_id, sku) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
    if (!sku || !*sku) return 0;
    return run(s, sql, SB_STORE_PER_ROW, integ, sku, NULL, NULL, "marking stock to sync", err);
}

int sb_store_stock_clear_dirty(sb_store *s, int64_t integ, char *err) {
    static const char sql[] = "DELETE FROM stock_dirty WHERE integration_id = ?1";
    return run(s, sql, SB_STORE_ONCE, integ, NULL, NULL, NULL, "clearing stock marks", err);
}

int sb_store_stock_fingerprint(sb_store *s, int64_t integ, char *out, size_t n, char *err) {
    static const char sql[] = "SELECT COALESCE(fingerprint, '') FROM sync_state WHERE integration_id = ?1 AND job = 'stock'";
    return one_text(s, sql, integ, out, n, "reading the last stock run's inputs", err);
}

int sb_store_stock_snapshot(sb_store *s, char *out, size_t n, char *err) {
    /* the snapshot never reaches the current second: a row written later in that same
     * second is looked at again next time (its pair is unchanged, so it is not resent) */
    static const char sql[] = "SELECT MIN(MAX(m), strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 second')) FROM "
                              "(SELECT MAX(updated_at) AS m FROM stock UNION ALL SELECT MAX(updated_at) FROM products)";
    return one_text(s, sql, 0, out, n, "reading the latest stock change", err);
}

/* a changed component makes its kits candidates too (bom_components_component, schema 9);
 * a changed BOM marks its kit in stock_dirty (triggers, schema 9) */
#define CHANGED_IDS "SELECT product_id FROM stock WHERE updated_at > ?2 " \
        " UNION SELECT id FROM products WHERE updated_at > ?2 " \
        " UNION SELECT " SB_STORE_SKU_PRODUCT("d.sku") " FROM stock_dirty d WHERE d.integration_id = ?1 "
#define CANDIDATES(where) \
        "SELECT p.id, " SB_STORE_LISTING_SKU("p.id", "p.sku") ", p.buffer_stock, COALESCE(p.latency, 0), ss.quantity IS NOT NULL AND ss.latency IS NOT NULL, " \
        "COALESCE(ss.quantity, 0), COALESCE(ss.latency, 0), COALESCE(ss.status, '') = 'failed', " \
        "MAX(p.updated_at, COALESCE((SELECT MAX(updated_at) FROM stock s WHERE s.product_id = p.id), ''), " \
        "    CASE WHEN p.order_type = 'kit' THEN COALESCE((SELECT MAX(s.updated_at) FROM bom_components c " \
        "    JOIN stock s ON s.product_id = c.component_id WHERE c.kit_id = p.id), '') ELSE '' END), " \
        "ss.pending_feed IS NOT NULL OR ss.pending_document IS NOT NULL, p.order_type = 'kit' " \
        "FROM products p LEFT JOIN stock_sent ss ON ss.integration_id = ?1 AND ss.sku = " SB_STORE_LISTING_SKU("p.id", "p.sku") " " \
        "WHERE COALESCE(p.fulfillment_channel, 'DEFAULT') = 'DEFAULT' " where " ORDER BY p.id"
static const char cand_all_sql[] = CANDIDATES("");
static const char cand_since_sql[] = CANDIDATES(
        "AND p.id IN (" CHANGED_IDS
        " UNION SELECT " SB_STORE_SKU_PRODUCT("x.sku") " FROM stock_sent x WHERE x.integration_id = ?1 "
        "   AND (status IS NOT 'accepted' OR quantity IS NULL) "   /* products never sent are marked in
                                                                    * stock_dirty by triggers (schema 5) */
        " UNION SELECT c.kit_id FROM bom_components c WHERE c.component_id IN (" CHANGED_IDS "))");
#undef CANDIDATES
#undef CHANGED_IDS

int sb_store_stock_candidates(sb_store *s, int64_t integ, const char *since,
                              int (*cb)(void *ctx, const sb_store_stock_candidate *c), void *ctx, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_get(s, since ? cand_since_sql : cand_all_sql, SB_STORE_ONCE, &st, err), step;
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    if (since) sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *changed = (const char *)sqlite3_column_text(st, 8);
        sb_store_stock_candidate c = {
            .product = sqlite3_column_int64(st, 0),
            .sku = sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "",
            .buffer = sqlite3_column_double(st, 2),
            .latency = sqlite3_column_int(st, 3),
            .has_prev = sqlite3_column_int(st, 4),
            .prev_qty = (long)sqlite3_column_int64(st, 5),
            .prev_latency = sqlite3_column_int(st, 6),
            .prev_failed = sqlite3_column_int(st, 7),
            .changed_at = changed ? changed : "",
            .waiting = sqlite3_column_int(st, 9),
            .is_kit = sqlite3_column_int(st, 10)};
        if ((rc = cb(ctx, &c))) break;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "listing stock to sync", err);
    sb_store_put(st, SB_STORE_ONCE);
    return rc;
}

/* Columns of both figure statements: product id, branch, figures. */
static const char stock_t[] = "SELECT s.product_id, b.name, s.on_hand, s.reserved FROM stock s JOIN branches b ON b.id = s.branch_id "
                              "WHERE %s ORDER BY s.product_id";
static const char open_t[] =
        "SELECT l.product_id, o.branch, SUM(CASE WHEN COALESCE(o.etd, '') <> '' AND substr(o.etd, 1, 10) <= ?2 THEN l.qty - l.qty_dispatched ELSE 0 END), "
        "SUM(CASE WHEN COALESCE(o.etd, '') <> '' AND substr(o.etd, 1, 10) <= ?3 THEN l.qty - l.qty_dispatched ELSE 0 END), "
        "SUM(CASE WHEN COALESCE(o.etd, '') = '' THEN l.qty - l.qty_dispatched ELSE 0 END) "
        "FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id WHERE %s AND l.stock_bearing = 1 "
        "AND o.stage IN ('open', 'needs_attention') AND COALESCE(o.fulfilled_by, '') <> 'AMAZON' "
        "GROUP BY l.product_id, o.branch ORDER BY l.product_id";

struct sb_store_stock_reader {
    sb_store *s;
    int full;
    const char *const *names;
    int nb;
    sqlite3_stmt *all_stock, *all_open;     /* full: one pass each, walked by product */
    int srow, orow;                         /* full: the walking cursor is on a row */
    sqlite3_stmt *one_stock, *one_open;     /* one product (?1) */
    sqlite3_stmt *bom;
    char d7[16], d30[16];
};

static int prep(sb_store_stock_reader *r, const char *tmpl, const char *where, sqlite3_stmt **st, char *err) {
    char sql[1200];
    snprintf(sql, sizeof sql, tmpl, where);
    int rc = sb_store_prepare(r->s, sql, st, err);
    if (!rc && tmpl == open_t) {
        sqlite3_bind_text(*st, 2, r->d7, -1, SQLITE_STATIC);
        sqlite3_bind_text(*st, 3, r->d30, -1, SQLITE_STATIC);
    }
    return rc;
}

/* Steps st into *row (1 on a row); a step that is neither a row nor the end is SB_EIO. */
static int next(sb_store_stock_reader *r, sqlite3_stmt *st, int *row, char *err) {
    int step = sqlite3_step(st);
    *row = step == SQLITE_ROW;
    return *row || step == SQLITE_DONE ? 0 : sb_store_error(r->s, "reading stock figures", err);
}

int sb_store_stock_reader_open(sb_store *s, int full, int kits, const char *d7, const char *d30, const char *const *names,
                               int nb, sb_store_stock_reader **out, char *err) {
    sb_store_stock_reader *r = calloc(1, sizeof *r);
    int rc;
    *out = NULL;
    if (!r) return sb_seterr(err, SB_ENOMEM, "out of memory");
    r->s = s;
    r->full = full;
    r->names = names;
    r->nb = nb;
    snprintf(r->d7, sizeof r->d7, "%s", d7);
    snprintf(r->d30, sizeof r->d30, "%s", d30);
    if (full) {
        if ((rc = prep(r, stock_t, "1", &r->all_stock, err)) ||
            (rc = prep(r, open_t, "l.product_id IS NOT NULL AND ?1 IS NULL", &r->all_open, err)) ||
            (rc = next(r, r->all_stock, &r->srow, err)) || (rc = next(r, r->all_open, &r->orow, err)))
            goto out;
    }
    /* kits read their components one by one, whatever the run: the per-product forms */
    if ((!full || kits) && ((rc = prep(r, stock_t, "s.product_id = ?1", &r->one_stock, err)) ||
                            (rc = prep(r, open_t, "l.product_id = ?1", &r->one_open, err))))
        goto out;
    if (kits && (rc = sb_store_prepare(s, "SELECT component_id, qty FROM bom_components WHERE kit_id = ?1", &r->bom, err)))
        goto out;
    *out = r;
    return 0;
out:
    sb_store_stock_reader_close(r);
    return rc;
}

void sb_store_stock_reader_close(sb_store_stock_reader *r) {
    if (!r) return;
    sqlite3_finalize(r->all_stock);
    sqlite3_finalize(r->all_open);
    sqlite3_finalize(r->one_stock);
    sqlite3_finalize(r->one_open);
    sqlite3_finalize(r->bom);
    free(r);
}

static int branch_of(sb_store_stock_reader *r, sqlite3_stmt *st) {
    const char *bn = (const char *)sqlite3_column_text(st, 1);
    for (int b = 0; bn && b < r->nb; b++)
        if (!strcmp(bn, r->names[b])) return b;
    return -1;
}

/* Reads product's rows of a statement into fig: st is walked from where it stands (full)
 * or run for product alone (*row then tracks that run only). */
static int walk(sb_store_stock_reader *r, sqlite3_stmt *st, int *row, int full, int64_t product, int open,
                sb_store_stock_fig *fig, char *err) {
    int rc = 0;
    if (!full) {
        sqlite3_bind_int64(st, 1, product);
        if ((rc = next(r, st, row, err))) goto out;
    }
    while (*row && sqlite3_column_int64(st, 0) < product)
        if ((rc = next(r, st, row, err))) goto out;
    for (; *row && sqlite3_column_int64(st, 0) == product; rc = next(r, st, row, err)) {
        if (rc) goto out;
        int b = branch_of(r, st);
        if (b < 0) continue;
        if (open) {
            fig[b].open_etd7 = sqlite3_column_double(st, 2);
            fig[b].open_etd30 = sqlite3_column_double(st, 3);
            fig[b].open_no_etd = sqlite3_column_double(st, 4);
        } else {
            fig[b].soh = sqlite3_column_double(st, 2);
            fig[b].open = sqlite3_column_double(st, 3);
        }
    }
out:
    if (!full) sqlite3_reset(st);
    return rc;
}

static int figures(sb_store_stock_reader *r, int full, int64_t product, sb_store_stock_fig *fig, char *err) {
    int one = 0, rc;
    memset(fig, 0, (size_t)r->nb * sizeof *fig);
    if (full) {
        if ((rc = walk(r, r->all_stock, &r->srow, 1, product, 0, fig, err))) return rc;
        return walk(r, r->all_open, &r->orow, 1, product, 1, fig, err);
    }
    if (!r->one_stock) return sb_seterr(err, SB_EINVAL, "stock figures of one product asked of a full reader without kits");
    if ((rc = walk(r, r->one_stock, &one, 0, product, 0, fig, err))) return rc;
    return walk(r, r->one_open, &one, 0, product, 1, fig, err);
}

int sb_store_stock_figures(sb_store_stock_reader *r, int64_t product, sb_store_stock_fig *fig, char *err) {
    return figures(r, r->full, product, fig, err);
}

int sb_store_stock_component_figures(sb_store_stock_reader *r, int64_t product, sb_store_stock_fig *fig, char *err) {
    return figures(r, 0, product, fig, err);
}

int sb_store_stock_bom(sb_store_stock_reader *r, int64_t kit, int (*cb)(void *ctx, int64_t comp, double per), void *ctx,
                       char *err) {
    int rc = 0, step;
    if (!r->bom) return sb_seterr(err, SB_EINVAL, "a kit's components asked of a stock reader opened without kits");
    sqlite3_bind_int64(r->bom, 1, kit);
    while ((step = sqlite3_step(r->bom)) == SQLITE_ROW)
        if ((rc = cb(ctx, sqlite3_column_int64(r->bom, 0), sqlite3_column_double(r->bom, 1)))) break;
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(r->s, "reading a kit's components", err);
    sqlite3_reset(r->bom);
    return rc;
}

int sb_store_stock_intent(sb_store *s, int64_t integ, const char *sku, long qty, int latency, long msg, const char *doc,
                          const char *since, const char *note, char *err) {
    static const char sql[] =
        "INSERT INTO stock_sent(integration_id, sku, status, error, pending_feed, pending_document, pending_quantity, "
        "pending_latency, pending_message, pending_since) VALUES (?1, ?2, 'pending', ?3, NULL, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT(integration_id, sku) DO UPDATE SET status = 'pending', error = ?3, pending_feed = NULL, "
        "pending_document = ?4, pending_quantity = ?5, pending_latency = ?6, pending_message = ?7, pending_since = ?8";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, note, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, qty);
    sqlite3_bind_int(st, 6, latency);
    sqlite3_bind_int64(st, 7, msg);
    sqlite3_bind_text(st, 8, since, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "recording the stock feed to create", err);
    sqlite3_reset(st);
    return rc;
}

int sb_store_stock_adopt_feed(sb_store *s, int64_t integ, const char *doc, const char *feed_id, const char *note,
                              const char *now, const char *old, char *err) {
    static const char wait_sql[] = "UPDATE stock_sent SET pending_feed = ?3, pending_document = NULL, error = ?4 "
                                   "WHERE integration_id = ?1 AND pending_document = ?2";
    static const char keep_sql[] = "INSERT OR IGNORE INTO feeds_created(integration_id, feed_id, feed_type, document_id, "
                                   "created_at) VALUES (?1, ?3, 'JSON_LISTINGS_FEED', ?2, ?4)";
    static const char forget_sql[] = "DELETE FROM feeds_created WHERE integration_id = ?1 AND created_at < ?2";
    const char *what = "stock feed bookkeeping";
    int rc = sb_store_begin(s, err);
    if (rc) return rc;
    if (!(rc = run(s, wait_sql, SB_STORE_ONCE, integ, doc, feed_id, note, what, err)) &&
        !(rc = run(s, keep_sql, SB_STORE_ONCE, integ, doc, feed_id, now, what, err)))
        rc = run(s, forget_sql, SB_STORE_ONCE, integ, old, NULL, NULL, what, err);
    if (rc) { sb_store_rollback(s); return rc; }
    return sb_store_commit(s, err);
}

int sb_store_stock_forget_intent(sb_store *s, int64_t integ, const char *doc, const char *why, char *err) {
    static const char sql[] = "UPDATE stock_sent SET status = 'failed', error = ?3, attempts = attempts + 1, "
                              "pending_document = NULL WHERE integration_id = ?1 AND pending_document = ?2";
    return run(s, sql, SB_STORE_ONCE, integ, doc, why, NULL, "stock feed bookkeeping", err);
}

int sb_store_stock_feed_is_ours(sb_store *s, int64_t integ, const char *feed_id, int *ours, char *err) {
    static const char sql[] = "SELECT 1 FROM feeds_created WHERE integration_id = ?1 AND feed_id = ?2";
    sqlite3_stmt *st;
    *ours = 0;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, feed_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    *ours = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = sb_store_error(s, "reading the feeds this engine created", err);
    sqlite3_reset(st);
    return rc;
}

int sb_store_stock_intents(sb_store *s, int64_t integ, sb_store_stock_intent_row *out, int max, int *n, char *err) {
    static const char sql[] = "SELECT pending_document, MIN(pending_since) FROM stock_sent WHERE integration_id = ?1 "
                              "AND pending_document IS NOT NULL GROUP BY pending_document LIMIT 100";
    sqlite3_stmt *st;
    int step = SQLITE_DONE;
    *n = 0;
    int rc = sb_store_get(s, sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    while (*n < max && *n < SB_STORE_STOCK_DOCS && (step = sqlite3_step(st)) == SQLITE_ROW) {
        sb_store_col_text(st, 0, out[*n].doc, sizeof out[*n].doc);
        sb_store_col_text(st, 1, out[*n].since, sizeof out[*n].since);
        (*n)++;
    }
    if (*n < max && *n < SB_STORE_STOCK_DOCS && step != SQLITE_DONE)
        rc = sb_store_error(s, "reading stock feeds being created", err);
    sb_store_put(st, SB_STORE_ONCE);
    return rc;
}

int sb_store_stock_pending_feeds(sb_store *s, int64_t integ, int (*cb)(void *ctx, const char *feed_id), void *ctx,
                                 char *err) {
    static const char sql[] = "SELECT DISTINCT pending_feed FROM stock_sent WHERE integration_id = ?1 "
                              "AND pending_feed IS NOT NULL LIMIT 100";
    sqlite3_stmt *st;
    int step;
    int rc = sb_store_get(s, sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = cb(ctx, (const char *)sqlite3_column_text(st, 0)))) break;
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the stock feeds waited for", err);
    sb_store_put(st, SB_STORE_ONCE);
    return rc;
}

int sb_store_stock_feed_skus(sb_store *s, int64_t integ, const char *feed_id,
                             int (*cb)(void *ctx, const char *sku, long qty, int latency, long msg), void *ctx,
                             char *err) {
    static const char sql[] = "SELECT sku, pending_quantity, pending_latency, pending_message FROM stock_sent "
                              "WHERE integration_id = ?1 AND pending_feed = ?2 ORDER BY pending_message";
    sqlite3_stmt *st;
    int step;
    int rc = sb_store_get(s, sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, feed_id, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = cb(ctx, (const char *)sqlite3_column_text(st, 0), (long)sqlite3_column_int64(st, 1),
                     sqlite3_column_int(st, 2), (long)sqlite3_column_int64(st, 3))))
            break;
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading an earlier stock feed's SKUs", err);
    sb_store_put(st, SB_STORE_ONCE);
    return rc;
}

int sb_store_stock_settle(sb_store *s, int64_t integ, const char *feed_id, const char *sku, int accepted,
                          const char *text, char *err) {
    static const char ok_sql[] =
        "UPDATE stock_sent SET quantity = pending_quantity, latency = pending_latency, sent_at = ?3, "
        "status = 'accepted', error = NULL, attempts = 0, pending_feed = NULL "
        "WHERE integration_id = ?1 AND sku = ?2 AND pending_feed = ?4";
    static const char bad_sql[] =
        "UPDATE stock_sent SET status = 'failed', error = ?3, attempts = attempts + 1, pending_feed = NULL "
        "WHERE integration_id = ?1 AND sku = ?2 AND pending_feed = ?4";
    return run(s, accepted ? ok_sql : bad_sql, SB_STORE_PER_ROW, integ, sku, text, feed_id, "recording an earlier stock feed", err);
}

int sb_store_stock_accepted(sb_store *s, int64_t integ, const char *sku, long qty, int latency, const char *now,
                            char *err) {
    static const char sql[] =
        "INSERT INTO stock_sent(integration_id, sku, quantity, latency, sent_at, status, error, attempts) "
        "VALUES (?1, ?2, ?3, ?4, ?5, 'accepted', NULL, 0) ON CONFLICT(integration_id, sku) DO UPDATE SET "
        "quantity = excluded.quantity, latency = excluded.latency, sent_at = excluded.sent_at, status = 'accepted', "
        "error = NULL, attempts = 0, pending_feed = NULL, pending_document = NULL";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, qty);
    sqlite3_bind_int(st, 4, latency);
    sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "recording stock sent", err);
    sqlite3_reset(st);
    return rc;
}

int sb_store_stock_failed(sb_store *s, int64_t integ, const char *sku, const char *error, char *err) {
    static const char sql[] =
        "INSERT INTO stock_sent(integration_id, sku, status, error, attempts) VALUES (?1, ?2, 'failed', ?3, 1) "
        "ON CONFLICT(integration_id, sku) DO UPDATE SET status = 'failed', error = excluded.error, "
        "attempts = attempts + 1, pending_feed = NULL, pending_document = NULL";
    return run(s, sql, SB_STORE_PER_ROW, integ, sku, error, NULL, "recording stock sent", err);
}

int sb_store_stock_take(sb_store *s, int64_t product, const char *branch, double qty, double reserved, char *err) {
    static const char sql[] =
        "INSERT INTO stock(product_id, branch_id, on_hand, reserved) SELECT ?1, id, -?3, -?4 FROM branches WHERE name = ?2 "
        "ON CONFLICT(product_id, branch_id) DO UPDATE SET on_hand = on_hand - ?3, reserved = reserved - ?4, "
        "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, product);
    sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, qty);
    sqlite3_bind_double(st, 4, reserved);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "taking dispatched stock", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}
