/* jobs.c: the runtime's records in sync_state and its due-time look-ups (see jobs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "store/jobs.h"
#include "store/store_int.h"

int sb_store_integrations(sb_store *s, sb_store_integ **out, int *n, char *err) {
    sqlite3_stmt *st;
    sb_store_integ *v = NULL;
    int m = 0, cap = 0, rc = sb_store_prepare(s, "SELECT id, name FROM integrations ORDER BY id", &st, err);
    *out = NULL;
    *n = 0;
    if (rc) return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (m == cap) {
            sb_store_integ *g = realloc(v, (size_t)(cap = cap ? cap * 2 : 8) * sizeof *v);
            if (!g) { rc = sb_seterr(err, SB_ENOMEM, "store: out of memory reading the integrations"); goto out; }
            v = g;
        }
        v[m].id = sqlite3_column_int64(st, 0);
        snprintf(v[m].name, sizeof v[m].name, "%s", (const char *)sqlite3_column_text(st, 1));
        m++;
    }
    if (step != SQLITE_DONE) rc = sb_store_error(s, "reading the integrations", err);
out:
    sqlite3_finalize(st);
    if (rc) { free(v); return rc; }
    *out = v;
    *n = m;
    return 0;
}

static void bind_time(sqlite3_stmt *st, int i, int64_t t) {
    char ts[32];
    if (t > 0) sqlite3_bind_text(st, i, sb_time_format(t, ts, sizeof ts), -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

int sb_store_job_save(sb_store *s, int64_t integ, const char *job, const sb_store_job *j, char *err) {
    static const char *sql =
        "INSERT INTO sync_state(integration_id, job, state, state_since, next_check_at, empty_streak, waiting_until, "
        "waiting_why) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(integration_id, job) DO UPDATE SET "
        "state = ?3, state_since = ?4, next_check_at = ?5, empty_streak = ?6, waiting_until = ?7, waiting_why = ?8";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, job, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, j->state, -1, SQLITE_STATIC);
    bind_time(st, 4, j->since);
    bind_time(st, 5, j->next_due);
    sqlite3_bind_int(st, 6, j->empty_streak);
    bind_time(st, 7, j->waiting_until);
    if (j->waiting_why && *j->waiting_why) sqlite3_bind_text(st, 8, j->waiting_why, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 8);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "recording a job's state", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int sb_store_confirmation_due(sb_store *s, int64_t integ, int64_t now, int64_t *due, char *err) {
    static const char *sql =
        "SELECT MIN(MAX(COALESCE(next_attempt_at, ''), COALESCE(claimed_until, ''))) FROM outbox "
        "WHERE integration_id = ?1 AND kind = 'confirm_shipment' AND status = 'pending'";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    *due = 0;
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        int64_t at = *t ? sb_time_parse(t) : now;
        *due = at > 0 && at > now ? at : now;
    } else if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sb_store_error(s, "looking for due shipment confirmations", err);
    }
    sqlite3_reset(st);
    return rc;
}

int64_t sb_store_data_version(sb_store *s) {
    sqlite3_stmt *st;
    char err[SB_ERRLEN];
    int64_t v = -1;
    if (sb_store_cached(s, "PRAGMA data_version", &st, err)) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

int sb_store_jobs_status(sb_store *s, int64_t integ, sb_store_job_status **out, int *n, char *err) {
    sqlite3_stmt *st;
    sb_store_job_status *v = NULL;
    int m = 0, cap = 0, step;
    int rc = sb_store_prepare(s,
        "SELECT i.name, j.job, COALESCE(j.state, CASE WHEN j.last_run_at IS NULL THEN '' ELSE 'idle' END), "
        "j.state_since, j.next_check_at, j.waiting_until, j.waiting_why, j.last_run_at, j.last_success_at, "
        "j.last_error, json_extract(j.last_counts, '$.amazon_clock_skew_ms') FROM sync_state j "
        "JOIN integrations i ON i.id = j.integration_id WHERE ?1 = 0 OR i.id = ?1 "
        "ORDER BY i.id, CASE j.job WHEN 'tracking' THEN 0 WHEN 'orders' THEN 1 WHEN 'stock' THEN 2 "
        "WHEN 'products' THEN 3 ELSE 4 END, j.job", &st, err);
    *out = NULL;
    *n = 0;
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (m == cap) {
            sb_store_job_status *g = realloc(v, (size_t)(cap = cap ? cap * 2 : 8) * sizeof *v);
            if (!g) { rc = sb_seterr(err, SB_ENOMEM, "store: out of memory reading the jobs"); goto out; }
            v = g;
        }
        sb_store_job_status *r = &v[m++];
        memset(r, 0, sizeof *r);
        sb_store_col_text(st, 0, r->integration, sizeof r->integration);
        sb_store_col_text(st, 1, r->job, sizeof r->job);
        sb_store_col_text(st, 2, r->state, sizeof r->state);
        sb_store_col_text(st, 3, r->since, sizeof r->since);
        sb_store_col_text(st, 4, r->next_due, sizeof r->next_due);
        sb_store_col_text(st, 5, r->waiting_until, sizeof r->waiting_until);
        sb_store_col_text(st, 6, r->waiting_why, sizeof r->waiting_why);
        sb_store_col_text(st, 7, r->last_run, sizeof r->last_run);
        sb_store_col_text(st, 8, r->last_success, sizeof r->last_success);
        sb_store_col_text(st, 9, r->last_error, sizeof r->last_error);
        if ((r->has_skew = sqlite3_column_type(st, 10) != SQLITE_NULL)) r->clock_skew_ms = sqlite3_column_int64(st, 10);
    }
    if (step != SQLITE_DONE) rc = sb_store_error(s, "reading the jobs", err);
out:
    sqlite3_finalize(st);
    if (rc) { free(v); return rc; }
    *out = v;
    *n = m;
    return 0;
}

int sb_store_integration_fingerprint(sb_store *s, int64_t integ, char **out, char *err) {
    static const char *sql =
        "SELECT COALESCE((SELECT group_concat(name || '=' || value, char(10)) FROM "
        "(SELECT name, value FROM settings WHERE integration_id = ?1 AND (name LIKE 'api.%' OR name LIKE 'integration.%' "
        "OR name IN ('orders.enabled', 'orders.auto_download', 'orders.auto_download_start', 'stock.enabled', "
        "'additional.auto_update_status', 'products.enabled', 'notifications.enabled', 'notifications.queue_url', 'notifications.region', "
        "'notifications.wait_seconds', 'notifications.sweep_minutes')) ORDER BY name)), '') || char(10) || "
        "COALESCE((SELECT group_concat(name || ':' || hex(nonce), ',') FROM "
        "(SELECT name, nonce FROM credentials WHERE integration_id = ?1 ORDER BY name)), '')";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    *out = NULL;
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (!(*out = strdup(v ? v : ""))) rc = sb_seterr(err, SB_ENOMEM, "store: out of memory");
    } else {
        rc = sb_store_error(s, "reading an integration's settings", err);
    }
    sqlite3_reset(st);
    return rc;
}
