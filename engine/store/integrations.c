/* integrations.c: an integration's name, the branches and the record of runs (see
 * integrations.h). */
#include <stdio.h>
#include "core/util.h"
#include "store/integrations.h"
#include "store/store_int.h"

int sb_store_integration_name(sb_store *s, int64_t integ, char *name, size_t len, char *err) {
    sqlite3_stmt *st;
    name[0] = '\0';
    int rc = sb_store_prepare(s, "SELECT name FROM integrations WHERE id = ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) snprintf(name, len, "%s", (const char *)sqlite3_column_text(st, 0));
    else if (step != SQLITE_DONE) rc = sb_store_error(s, "reading the integration", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_branches_each(sb_store *s, sb_store_branch_fn fn, void *ud, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "SELECT name, COALESCE(country,''), COALESCE(state,'') FROM branches ORDER BY name", &st, err);
    if (rc) return rc;
    int step, n = 0;
    while (n < SB_STORE_BRANCHES_MAX && (step = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if ((rc = fn(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                     (const char *)sqlite3_column_text(st, 2)))) break;
    }
    if (!rc && n < SB_STORE_BRANCHES_MAX && step != SQLITE_DONE) rc = sb_store_error(s, "reading the branches", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_record_run(sb_store *s, int64_t integ, const char *job, int64_t now, int ok, const char *message,
                        const char *counts, const char *fingerprint, char *err) {
    char ts[32];
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s,
        "INSERT INTO sync_state(integration_id, job, last_run_at, last_success_at, last_error, last_counts, fingerprint) "
        "VALUES (?1, ?2, ?3, CASE WHEN ?4 THEN ?3 END, ?5, ?6, ?7) ON CONFLICT(integration_id, job) DO UPDATE SET "
        "last_run_at = ?3, last_success_at = CASE WHEN ?4 THEN ?3 ELSE last_success_at END, last_error = ?5, "
        "last_counts = ?6, fingerprint = COALESCE(?7, fingerprint)", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, job, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, sb_time_format(now, ts, sizeof ts), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, ok);
    if (message) sqlite3_bind_text(st, 5, message, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 5);
    sqlite3_bind_text(st, 6, counts, -1, SQLITE_STATIC);
    if (fingerprint) sqlite3_bind_text(st, 7, fingerprint, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 7);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "recording the run", err);
    sqlite3_finalize(st);
    if (rc) return rc;
    /* and its history: this run, and nothing older than 30 days */
    static const char hist[] = "INSERT INTO job_runs(integration_id, job, at, ok, counts, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    static const char prune[] = "DELETE FROM job_runs WHERE integration_id = ?1 AND at < ?2";
    if ((rc = sb_store_cached(s, hist, &st, err))) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, job, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ts, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, ok);
    sqlite3_bind_text(st, 5, counts, -1, SQLITE_STATIC);
    if (message) sqlite3_bind_text(st, 6, message, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 6);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "recording the run's history", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc || (rc = sb_store_cached(s, prune, &st, err))) return rc;
    char old[32];
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, sb_time_format(now - 30 * 86400, old, sizeof old), -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "forgetting old runs", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int sb_store_integrations_each(sb_store *s, sb_store_integ_fn fn, void *ud, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "SELECT id, name, created_at FROM integrations ORDER BY id", &st, err);
    if (rc) return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = fn(ud, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                     (const char *)sqlite3_column_text(st, 2)))) break;
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the integrations", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_integration_counts(sb_store *s, int64_t integ, sb_store_integ_counts *out, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s,
        "SELECT (SELECT count(DISTINCT order_ref) FROM sales_orders WHERE integration_id = ?1), "
        "(SELECT count(DISTINCT order_ref) FROM sales_orders WHERE integration_id = ?1 "
        "AND stage IN ('open','needs_attention','rule_error','rejected')), "
        "(SELECT count(*) FROM outbox WHERE integration_id = ?1 AND status IN ('pending','failed')), "
        "(SELECT count(*) FROM settings WHERE integration_id = ?1)", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->orders = (long)sqlite3_column_int64(st, 0);
        out->open = (long)sqlite3_column_int64(st, 1);
        out->queued = (long)sqlite3_column_int64(st, 2);
        out->settings = (long)sqlite3_column_int64(st, 3);
    } else {
        rc = sb_store_error(s, "counting what the integration holds", err);
    }
    sqlite3_finalize(st);
    return rc;
}

int sb_store_integration_remove(sb_store *s, int64_t integ, char *err) {
    sqlite3_stmt *st = NULL;
    int rc = sb_store_begin(s, err);
    if (rc) return rc;
    if ((rc = sb_store_prepare(s, "SELECT id FROM sales_orders WHERE integration_id = ?1 "
                                  "AND stage IN ('open','needs_attention')", &st, err))) goto out;
    sqlite3_bind_int64(st, 1, integ);
    int step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = sb_store_reserve_order(s, sqlite3_column_int64(st, 0), NULL, -1, err);
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the integration's open orders", err);
    sqlite3_finalize(st);
    st = NULL;
    if (rc || (rc = sb_store_prepare(s, "DELETE FROM integrations WHERE id = ?1", &st, err))) goto out;
    sqlite3_bind_int64(st, 1, integ);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "deleting the integration", err);
out:
    sqlite3_finalize(st);
    if (!rc) rc = sb_store_commit(s, err);
    else sb_store_rollback(s);
    return rc;
}
