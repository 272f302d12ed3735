/* store/tracking.c: the tracking job's SQL (see store/tracking.h): typed reads and writes
 * of an order's lines as a dispatch takes them, its packages and their outbox rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "store/tracking.h"
#include "store/store_int.h"

/* Statements run per package or outbox row come from the connection's cache; the ones a
 * dispatch or a run makes once (SB_STORE_ONCE) are prepared and finalized, holding no slot. */

int sb_store_dispatch_order_get(sb_store *s, int64_t integ, const char *ref, sb_store_dispatch_order *out, char *err) {
    static const char sql[] =
        "SELECT id, stage, COALESCE(branch, ''), COALESCE(fulfilled_by, ''), auto_dispatched, source FROM sales_orders "
        "WHERE integration_id = ?1 AND order_ref = ?2 ORDER BY source = 'amazon' DESC, split_no";
    sqlite3_stmt *st;
    int step;
    memset(out, 0, sizeof *out);
    int rc = sb_store_get(s, sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!out->found) {
            sb_store_col_text(st, 2, out->branch, sizeof out->branch);
            sb_store_col_text(st, 3, out->fulfilled_by, sizeof out->fulfilled_by);
            out->auto_dispatched = sqlite3_column_int(st, 4);
            sb_store_col_text(st, 5, out->source, sizeof out->source);
        }
        sb_store_col_text(st, 1, out->stage, sizeof out->stage);
        out->any_open |= !strcmp(out->stage, "open");
        out->found = 1;
    }
    if (step != SQLITE_DONE) rc = sb_store_error(s, "reading the order to dispatch", err);
    sb_store_put(st, SB_STORE_ONCE);
    return rc;
}

int sb_store_dispatch_lines(sb_store *s, int64_t integ, const char *ref, sb_store_dispatch_line *out, int max, int *n,
                            char *err) {
    static const char sql[] =
        "SELECT l.id, l.order_id, COALESCE(l.product_id, 0), l.sku, COALESCE(l.item_id, ''), COALESCE(l.kit_sku, ''), "
        "COALESCE(o.branch, ''), l.qty, l.qty_dispatched, l.stock_bearing, COALESCE(o.fulfilled_by, '') <> 'AMAZON' "
        "FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id "
        "WHERE o.integration_id = ?1 AND o.source = 'amazon' AND o.order_ref = ?2 AND o.stage = 'open' "
        "ORDER BY o.split_no, l.line_no";
    sqlite3_stmt *st;
    int step;
    *n = 0;
    int rc = sb_store_get(s, sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n >= max) { rc = sb_seterr(err, SB_EINVAL, "order %s has more than %d lines", ref, max); break; }
        sb_store_dispatch_line *d = &out[(*n)++];
        memset(d, 0, sizeof *d);
        d->id = sqlite3_column_int64(st, 0);
        d->order_id = sqlite3_column_int64(st, 1);
        d->product = sqlite3_column_int64(st, 2);
        sb_store_col_text(st, 3, d->sku, sizeof d->sku);
        sb_store_col_text(st, 4, d->item_id, sizeof d->item_id);
        sb_store_col_text(st, 5, d->kit_sku, sizeof d->kit_sku);
        sb_store_col_text(st, 6, d->branch, sizeof d->branch);
        d->qty = sqlite3_column_double(st, 7);
        d->done = sqlite3_column_double(st, 8);
        d->stock_bearing = sqlite3_column_int(st, 9);
        d->reserves = sqlite3_column_int(st, 10);
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the order's lines to dispatch", err);
    sb_store_put(st, SB_STORE_ONCE);
    return rc;
}

int sb_store_dispatch_line_take(sb_store *s, int64_t line, double qty, char *err) {
    static const char sql[] = "UPDATE sales_order_lines SET qty_dispatched = qty_dispatched + ?2 WHERE id = ?1";
    sqlite3_stmt *st;
    int rc = sb_store_get(s, sql, SB_STORE_PER_ROW, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, line);
    sqlite3_bind_double(st, 2, qty);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "recording what was dispatched", err);
}

/* One count of sql with ?1 = integ, ?2 = ref. */
static int count(sb_store *s, const char *sql, int64_t integ, const char *ref, long *n, const char *what, char *err) {
    sqlite3_stmt *st;
    *n = 0;
    int rc = sb_store_get(s, sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) *n = (long)sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE) rc = sb_store_error(s, what, err);
    sb_store_put(st, SB_STORE_ONCE);
    return rc;
}

int sb_store_dispatch_close(sb_store *s, int64_t integ, const char *ref, const char *now, long *open, char *err) {
    static const char close_sql[] =
        "UPDATE sales_orders SET stage = 'dispatched', dispatched_at = ?3, updated_at = ?3 "
        "WHERE integration_id = ?1 AND order_ref = ?2 AND source = 'amazon' AND stage = 'open' AND NOT EXISTS "
        "(SELECT 1 FROM sales_order_lines l WHERE l.order_id = sales_orders.id AND l.qty_dispatched < l.qty - 1e-9)";
    static const char open_sql[] =
        "SELECT COUNT(*) FROM sales_orders WHERE integration_id = ?1 AND order_ref = ?2 AND source = 'amazon' AND stage = 'open'";
    sqlite3_stmt *st;
    int rc = sb_store_get(s, close_sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    if ((rc = sb_store_step_done(s, st, SB_STORE_ONCE, "marking the order dispatched", err))) return rc;
    return count(s, open_sql, integ, ref, open, "counting the order's open parts", err);
}

int sb_store_shipment_count(sb_store *s, int64_t integ, const char *ref, int *n, char *err) {
    static const char sql[] =
        "SELECT COUNT(*) FROM shipments s JOIN sales_orders o ON o.id = s.order_id WHERE o.integration_id = ?1 AND o.order_ref = ?2";
    long c = 0;
    int rc = count(s, sql, integ, ref, &c, "counting the order's packages", err);
    *n = (int)c;
    return rc;
}

int sb_store_shipment_add(sb_store *s, const sb_store_shipment *sh, int64_t *id, char *err) {
    static const char sql[] =
        "INSERT INTO shipments(order_id, carrier, service, tracking, shipped_at, lines, confirm_state, package_no) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    sqlite3_stmt *st;
    int rc = sb_store_get(s, sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, sh->order_id);
    sqlite3_bind_text(st, 2, sh->carrier, -1, SQLITE_STATIC);
    if (sh->service) sqlite3_bind_text(st, 3, sh->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, sh->tracking, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, sh->shipped_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, sh->lines, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, sh->confirm_state, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, sh->package_no);
    if ((rc = sb_store_step_done(s, st, SB_STORE_ONCE, "recording the package", err))) return rc;
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int sb_store_shipment_get(sb_store *s, int64_t sid, sb_store_shipment_row *out, char *err) {
    static const char sql[] =
        "SELECT s.package_no, s.carrier, COALESCE(s.service, ''), s.tracking, s.shipped_at, s.lines, o.order_ref, "
        "COALESCE(o.marketplace_id, '') FROM shipments s JOIN sales_orders o ON o.id = s.order_id WHERE s.id = ?1";
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    int rc = sb_store_get(s, sql, SB_STORE_PER_ROW, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, sid);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->package_no = sqlite3_column_int(st, 0);
        sb_store_col_text(st, 1, out->carrier, sizeof out->carrier);
        sb_store_col_text(st, 2, out->service, sizeof out->service);
        sb_store_col_text(st, 3, out->tracking, sizeof out->tracking);
        sb_store_col_text(st, 4, out->shipped_at, sizeof out->shipped_at);
        sb_store_col_text(st, 6, out->order_ref, sizeof out->order_ref);
        sb_store_col_text(st, 7, out->marketplace, sizeof out->marketplace);
        const char *lines = (const char *)sqlite3_column_text(st, 5);
        if ((size_t)sqlite3_column_bytes(st, 5) > SB_STORE_SHIPMENT_LINES_MAX)
            rc = sb_seterr(err, SB_EINVAL, "shipment %lld: its lines are over %d bytes", (long long)sid,
                           SB_STORE_SHIPMENT_LINES_MAX);
        else if (!(out->lines = sb_strdup(lines ? lines : "[]")))
            rc = sb_seterr(err, SB_ENOMEM, "out of memory");
    } else if (step == SQLITE_DONE) {
        rc = sb_seterr(err, SB_ENOTFOUND, "shipment %lld not found", (long long)sid);
    } else {
        rc = sb_store_error(s, "reading the package to confirm", err);
    }
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_shipment_state(sb_store *s, int64_t sid, const char *state, char *err) {
    static const char sql[] = "UPDATE shipments SET confirm_state = ?2 WHERE id = ?1";
    static const char queued_sql[] = "UPDATE shipments SET confirm_state = 'queued' WHERE id = ?1 AND confirm_state <> 'confirmed'";
    sqlite3_stmt *st;
    int queued = !strcmp(state, "queued");
    int rc = sb_store_get(s, queued ? queued_sql : sql, SB_STORE_PER_ROW, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, sid);
    if (!queued) sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "recording the package's confirmation state", err);
}

int sb_store_shipments_unconfirmed(sb_store *s, int64_t integ, const char *fba_branch, int64_t *ids, int max, int *n,
                                   char *err) {
    static const char sql[] =
        "SELECT s.id FROM shipments s JOIN sales_orders o ON o.id = s.order_id WHERE o.integration_id = ?1 "
        "AND o.source = 'amazon' AND COALESCE(o.fulfilled_by, '') <> 'AMAZON' AND o.auto_dispatched = 0 "
        "AND COALESCE(o.branch, '') <> ?2 AND s.confirm_state IN ('none', 'failed') ORDER BY s.id";
    sqlite3_stmt *st;
    int step = SQLITE_DONE;
    *n = 0;
    int rc = sb_store_get(s, sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, fba_branch, -1, SQLITE_STATIC);
    while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) ids[(*n)++] = sqlite3_column_int64(st, 0);
    if (*n < max && step != SQLITE_DONE) rc = sb_store_error(s, "listing the packages to confirm", err);
    sb_store_put(st, SB_STORE_ONCE);
    return rc;
}

int sb_store_outbox_queue(sb_store *s, int64_t integ, const char *key, const char *payload, char *err) {
    static const char sql[] =
        "INSERT INTO outbox(integration_id, kind, key, payload, status) VALUES (?1, 'confirm_shipment', ?2, ?3, 'pending') "
        "ON CONFLICT(integration_id, kind, key) DO UPDATE SET status = 'pending', next_attempt_at = NULL, "
        "payload = excluded.payload WHERE outbox.status <> 'sent'";
    sqlite3_stmt *st;
    int rc = sb_store_get(s, sql, SB_STORE_PER_ROW, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, payload, -1, SQLITE_STATIC);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "queueing the confirmation", err);
}

int sb_store_outbox_due(sb_store *s, int64_t integ, int manual, const char *now,
                        int (*cb)(void *ctx, const sb_store_outbox_row *r), void *ctx, char *err) {
    static const char sql[] =
        "SELECT id, key, payload, attempts, COALESCE(claimed_by, 0), COALESCE(claimed_until, '') FROM outbox "
        "WHERE integration_id = ?1 AND kind = 'confirm_shipment' "
        "AND (status = 'pending' OR (?2 AND status = 'failed')) "
        "AND (?2 OR next_attempt_at IS NULL OR next_attempt_at <= ?3) ORDER BY id";
    sqlite3_stmt *st;
    int step;
    int rc = sb_store_get(s, sql, SB_STORE_ONCE, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_int(st, 2, manual);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 1), *payload = (const char *)sqlite3_column_text(st, 2);
        sb_store_outbox_row r = {.id = sqlite3_column_int64(st, 0), .key = key ? key : "", .payload = payload ? payload : "",
                                 .attempts = sqlite3_column_int(st, 3), .claimed_by = sqlite3_column_int64(st, 4),
                                 .claimed_until = (const char *)sqlite3_column_text(st, 5)};
        if ((rc = cb(ctx, &r))) break;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the confirmations due", err);
    sb_store_put(st, SB_STORE_ONCE);
    return rc;
}

int sb_store_confirm_target_get(sb_store *s, int64_t integ, const char *ref, int pkg, sb_store_confirm_target *out,
                                char *err) {
    static const char sql[] =
        "SELECT COALESCE(o.fulfilled_by, ''), COALESCE(o.branch, ''), o.auto_dispatched, o.source, s.id "
        "FROM shipments s JOIN sales_orders o ON o.id = s.order_id WHERE o.integration_id = ?1 AND o.order_ref = ?2 "
        "AND s.package_no = ?3";
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    int rc = sb_store_get(s, sql, SB_STORE_PER_ROW, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, pkg);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->found = 1;
        sb_store_col_text(st, 0, out->fulfilled_by, sizeof out->fulfilled_by);
        sb_store_col_text(st, 1, out->branch, sizeof out->branch);
        out->auto_dispatched = sqlite3_column_int(st, 2);
        sb_store_col_text(st, 3, out->source, sizeof out->source);
        out->shipment = sqlite3_column_int64(st, 4);
    } else if (step != SQLITE_DONE) {
        rc = sb_store_error(s, "reading the package to confirm", err);
    }
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_outbox_not_sent(sb_store *s, int64_t id, const char *why, char *err) {
    static const char sql[] = "UPDATE outbox SET status = 'failed', last_error = ?2 WHERE id = ?1";
    sqlite3_stmt *st;
    int rc = sb_store_get(s, sql, SB_STORE_PER_ROW, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "recording a confirmation not to send", err);
}

int sb_store_outbox_claim(sb_store *s, int64_t id, int attempts, const char *note, int64_t pid, const char *until,
                          int *claimed, char *err) {
    static const char sql[] = "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, claimed_by = ?4, "
                              "claimed_until = ?5 WHERE id = ?1 AND attempts = ?3 AND status <> 'sent'";
    sqlite3_stmt *st;
    *claimed = 0;
    int rc = sb_store_get(s, sql, SB_STORE_PER_ROW, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, note, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, attempts);
    sqlite3_bind_int64(st, 4, pid);
    sqlite3_bind_text(st, 5, until, -1, SQLITE_STATIC);
    if ((rc = sb_store_step_done(s, st, SB_STORE_PER_ROW, "claiming the confirmation", err))) return rc;
    *claimed = sqlite3_changes(s->db) > 0;
    return 0;
}

int sb_store_outbox_sent(sb_store *s, int64_t id, const char *now, char *err) {
    static const char sql[] = "UPDATE outbox SET status = 'sent', sent_at = ?2, last_error = NULL, next_attempt_at = NULL, "
                              "claimed_by = NULL, claimed_until = NULL WHERE id = ?1";
    sqlite3_stmt *st;
    int rc = sb_store_get(s, sql, SB_STORE_PER_ROW, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "recording the confirmation sent", err);
}

int sb_store_outbox_retry(sb_store *s, int64_t id, int give_up, const char *why, const char *next, char *err) {
    static const char sql[] = "UPDATE outbox SET status = ?2, last_error = ?3, next_attempt_at = ?4, claimed_by = NULL, "
                              "claimed_until = NULL WHERE id = ?1";
    sqlite3_stmt *st;
    int rc = sb_store_get(s, sql, SB_STORE_PER_ROW, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, give_up ? "failed" : "pending", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, why, -1, SQLITE_STATIC);
    if (!give_up && next) sqlite3_bind_text(st, 4, next, -1, SQLITE_STATIC);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "recording the confirmation's outcome", err);
}
