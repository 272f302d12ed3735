/* store/reports.c: the SQL of the documents about a whole integration (see
 * store/reports.h). Each statement runs once a document, so each is prepared and
 * finalized here; the paged lists count over the same WHERE as their page. */
#include <stdio.h>
#include <string.h>
#include "core/util.h"
#include "store/reports.h"
#include "store/store_int.h"

/* Prepares sql with ?1 = integ. */
static int stmt(sb_store *s, const char *sql, int64_t integ, sqlite3_stmt **st, const char *what, char *err) {
    int rc = sb_store_rows_prepare(s, sql, st, what, err);
    if (!rc) sqlite3_bind_int64(*st, 1, integ);
    return rc;
}

/* (name, count) pairs of sql (?1 = integ). */
static int counts(sb_store *s, const char *sql, int64_t integ, sb_store_count_fn fn, void *ctx, const char *what,
                  char *err) {
    sqlite3_stmt *st;
    int rc = stmt(s, sql, integ, &st, what, err);
    if (!rc) rc = sb_store_rows_counts(s, st, fn, ctx, what, err);
    sqlite3_finalize(st);
    return rc;
}

/* Rows of sql with ?1 = integ and the whole numbers ?2.. (a[0..na)). */
static int rows(sb_store *s, const char *sql, int64_t integ, const long *a, int na, sb_store_row_fn fn, void *ctx,
                const char *what, char *err) {
    sqlite3_stmt *st;
    int rc = stmt(s, sql, integ, &st, what, err);
    for (int i = 0; !rc && i < na; i++) sqlite3_bind_int64(st, i + 2, a[i]);
    if (!rc) rc = sb_store_rows_each(s, st, fn, ctx, what, err);
    sqlite3_finalize(st);
    return rc;
}

/* A count of sql with ?1 = integ and ?2.. (a[0..na)). */
static int count(sb_store *s, const char *sql, int64_t integ, const long *a, int na, long *n, const char *what,
                 char *err) {
    sqlite3_stmt *st;
    *n = 0;
    int rc = stmt(s, sql, integ, &st, what, err);
    for (int i = 0; !rc && i < na; i++) sqlite3_bind_int64(st, i + 2, a[i]);
    if (!rc) rc = sb_store_rows_count(s, st, n, what, err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_stage_counts(sb_store *s, int64_t integ, const char *const *stages, long *out, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_rows_prepare(s, "SELECT COUNT(*) FROM sales_orders WHERE stage = ?1 AND integration_id = ?2", &st,
                                   "summary", err);
    for (int i = 0; !rc && stages[i]; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, stages[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, integ);
        rc = sb_store_rows_count(s, st, &out[i], "summary", err);
    }
    sqlite3_finalize(st);
    return rc;
}

int sb_store_orders_per_day(sb_store *s, int64_t integ,
                            int (*fn)(void *ctx, const char *day, const char *stage, const char *branch, int64_t n),
                            void *ctx, char *err) {
    sqlite3_stmt *st;
    int rc = stmt(s, "SELECT substr(created_time, 1, 10) AS d, stage, COALESCE(branch, '') AS br, COUNT(*) "
                     "FROM sales_orders WHERE integration_id = ?1 AND created_time IS NOT NULL AND "
                     "substr(created_time, 1, 10) >= "
                     "date((SELECT MAX(created_time) FROM sales_orders WHERE integration_id = ?1), '-29 days') "
                     "GROUP BY d, stage, br ORDER BY d, br", integ, &st, "orders per day", err), step;
    if (rc) return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = fn(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                     (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3))))
            break;
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "orders per day", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_runs_per_hour(sb_store *s, int64_t integ, sb_store_hour *out, int *n, char *err) {
    sqlite3_stmt *st;
    *n = 0;
    int rc = stmt(s,
        "SELECT substr(at, 1, 13) AS h, SUM(job = 'orders'), "
        "SUM(CASE job WHEN 'orders' THEN COALESCE(json_extract(counts, '$.created'), 0) + COALESCE(json_extract(counts, '$.updated'), 0) "
        "ELSE 0 END), "
        "SUM(CASE job WHEN 'notifications' THEN COALESCE(json_extract(counts, '$.new'), 0) + COALESCE(json_extract(counts, '$.updated'), 0) "
        "ELSE 0 END), SUM(NOT ok), SUM(job = 'orders' AND json_extract(counts, '$.paused_until') IS NOT NULL), "
        "SUM(CASE job WHEN 'notifications' THEN COALESCE(json_extract(counts, '$.received'), 0) ELSE 0 END), "
        "SUM(CASE job WHEN 'stock' THEN COALESCE(json_extract(counts, '$.accepted'), 0) ELSE 0 END), "
        "SUM(CASE job WHEN 'stock' THEN COALESCE(json_extract(counts, '$.failed'), 0) + "
        "COALESCE(json_extract(counts, '$.rule_errors'), 0) ELSE 0 END) "
        "FROM job_runs WHERE integration_id = ?1 AND json_valid(COALESCE(counts, '{}')) AND at >= "
        "strftime('%Y-%m-%dT%H', (SELECT MAX(at) FROM job_runs WHERE integration_id = ?1), '-47 hours') "
        "GROUP BY h ORDER BY h", integ, &st, "sync per hour", err), step = SQLITE_DONE;
    if (rc) return rc;
    while (*n < SB_STORE_HOURS && (step = sqlite3_step(st)) == SQLITE_ROW) {   /* the query's 48 hours */
        sb_store_col_text(st, 0, out[*n].hour, sizeof out[*n].hour);
        for (int k = 0; k < SB_HOUR_N; k++) out[*n].n[k] = sqlite3_column_int64(st, k + 1);
        (*n)++;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = sb_store_error(s, "sync per hour", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_amazon_clock(sb_store *s, int64_t integ, sb_store_clock *out, char *err) {
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    int rc = stmt(s, "SELECT json_extract(last_counts, '$.amazon_clock_skew_ms'), last_run_at FROM sync_state "
                     "WHERE integration_id = ?1 AND job = 'orders' AND json_valid(last_counts) "
                     "AND json_extract(last_counts, '$.amazon_clock_skew_ms') IS NOT NULL", integ, &st, "summary", err);
    if (rc) return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->found = 1;
        out->skew_ms = sqlite3_column_int64(st, 0);
        out->has_at = sqlite3_column_type(st, 1) != SQLITE_NULL;
        sb_store_col_text(st, 1, out->measured_at, sizeof out->measured_at);
    } else if (step != SQLITE_DONE) rc = sb_store_error(s, "summary", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_shipment_states(sb_store *s, int64_t integ, sb_store_count_fn fn, void *ctx, char *err) {
    return counts(s, "SELECT s.confirm_state, COUNT(*) FROM shipments s JOIN sales_orders o "
                     "ON o.id = s.order_id WHERE o.integration_id = ?1 GROUP BY s.confirm_state",
                  integ, fn, ctx, "confirm_states", err);
}

int sb_store_outbox_states(sb_store *s, int64_t integ, sb_store_count_fn fn, void *ctx, char *err) {
    return counts(s, "SELECT kind || ':' || status, COUNT(*) FROM outbox WHERE integration_id = ?1 GROUP BY kind, status",
                  integ, fn, ctx, "outbox", err);
}

int sb_store_shipments_recent(sb_store *s, int64_t integ, long limit, sb_store_row_fn fn, void *ctx, char *err) {
    return rows(s, "SELECT o.order_ref AS \"order\", o.split_no AS split, o.branch, s.carrier, s.service, "
                   "s.tracking, s.shipped_at, s.confirm_state FROM shipments s JOIN sales_orders o "
                   "ON o.id = s.order_id WHERE o.integration_id = ?1 ORDER BY s.id DESC LIMIT ?2",
                integ, &limit, 1, fn, ctx, "dispatch", err);
}

int sb_store_job_runs(sb_store *s, int64_t integ, sb_store_row_fn fn, void *ctx, char *err) {
    return rows(s, "SELECT job, last_run_at, last_success_at, next_check_at, empty_streak, last_error, "
                   "last_counts FROM sync_state WHERE integration_id = ?1 ORDER BY job", integ, NULL, 0, fn, ctx, "jobs", err);
}

#define OUTBOX_WHERE "WHERE integration_id = ?1 AND (?2 OR status <> 'sent' OR last_error IS NOT NULL) "

int sb_store_outbox_count(sb_store *s, int64_t integ, int all, long cap, long *n, char *err) {
    long a[] = {all != 0, cap};
    return count(s, "SELECT COUNT(*) FROM (SELECT 1 FROM outbox " OUTBOX_WHERE "LIMIT ?3)", integ, a, 2, n, "outbox", err);
}

int sb_store_outbox_page(sb_store *s, int64_t integ, int all, long limit, long offset, sb_store_row_fn fn, void *ctx,
                         char *err) {
    long a[] = {all != 0, limit, offset};
    return rows(s, "SELECT kind, key, status, attempts, next_attempt_at, sent_at, last_error FROM outbox "
                   OUTBOX_WHERE "ORDER BY status = 'sent', id LIMIT ?3 OFFSET ?4", integ, a, 3, fn, ctx, "outbox", err);
}

/* errors=1: what did not go through (not accepted, or with an error) */
#define STOCK_WHERE "WHERE integration_id = ?1 AND (NOT ?2 OR status IS NULL OR status <> 'accepted' OR error IS NOT NULL) "

int sb_store_stock_sent_states(sb_store *s, int64_t integ, sb_store_count_fn fn, void *ctx, char *err) {
    return counts(s, "SELECT COALESCE(status,'(none)'), COUNT(*) FROM stock_sent WHERE integration_id = ?1 "
                     "GROUP BY status ORDER BY status", integ, fn, ctx, "stock", err);
}

int sb_store_stock_sent_count(sb_store *s, int64_t integ, int errors, long cap, long *n, char *err) {
    long a[] = {errors != 0, cap};
    return count(s, "SELECT COUNT(*) FROM (SELECT 1 FROM stock_sent " STOCK_WHERE "LIMIT ?3)", integ, a, 2, n, "stock", err);
}

int sb_store_stock_sent_page(sb_store *s, int64_t integ, int errors, long limit, long offset, sb_store_row_fn fn,
                             void *ctx, char *err) {
    long a[] = {errors != 0, limit, offset};
    return rows(s, "SELECT sku, quantity, latency, sent_at, status, error, attempts FROM stock_sent "
                   STOCK_WHERE "ORDER BY (error IS NULL), sent_at DESC, sku LIMIT ?3 OFFSET ?4", integ, a, 3, fn, ctx,
                "stock", err);
}

int sb_store_names(sb_store *s, sb_store_names_kind kind, int (*fn)(void *ctx, const char *name), void *ctx, char *err) {
    static const struct { const char *sql, *what; } q[] = {
        [SB_NAMES_BRANCHES] = {"SELECT name FROM branches ORDER BY name", "branches"},
        [SB_NAMES_GROUPS] = {"SELECT name FROM customer_groups ORDER BY name", "groups"},
        [SB_NAMES_GL_ACCOUNTS] = {"SELECT code FROM gl_accounts ORDER BY code", "gl_accounts"}};
    if ((unsigned)kind > SB_NAMES_GL_ACCOUNTS) return sb_seterr(err, SB_EINVAL, "no such list of names");
    sqlite3_stmt *st;
    int rc = sb_store_rows_prepare(s, q[kind].sql, &st, q[kind].what, err), step;
    if (rc) return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = fn(ctx, (const char *)sqlite3_column_text(st, 0)))) break;
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, q[kind].what, err);
    sqlite3_finalize(st);
    return rc;
}
