/* notify.c: the notifications table (see notify.h). */
#include <stdio.h>
#include <string.h>
#include "core/util.h"
#include "store/notify.h"
#include "store/store_int.h"

static const char *const state_names[] = {"new", "done", "failed", "poison", "ignored"};

static int state_of(const char *name) {
    for (int i = 0; i < (int)(sizeof state_names / sizeof *state_names); i++)
        if (name && !strcmp(name, state_names[i])) return i;
    return SB_NOTICE_NEW;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v) {
    if (v && *v) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

/* The cached statement sql with ?1 = integ and ?2 = the notification's id bound. */
static int keyed(sb_store *s, const char *sql, int64_t integ, const char *id, sqlite3_stmt **st, char *err) {
    int rc = sb_store_cached(s, sql, st, err);
    if (rc) return rc;
    sqlite3_bind_int64(*st, 1, integ);
    sqlite3_bind_text(*st, 2, id, -1, SQLITE_TRANSIENT);
    return 0;
}


int sb_store_notice_seen(sb_store *s, int64_t integ, const sb_notice *n, int64_t now_ms, int *state, int *tries,
                         char *err) {
    static const char *get = "SELECT state, tries FROM notifications WHERE integration_id = ?1 AND notification_id = ?2";
    static const char *add =
        "INSERT INTO notifications(integration_id, notification_id, message_id, order_ref, change_type, event_time, "
        "first_seen_ms, last_seen_ms, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, 'new') "
        "ON CONFLICT(integration_id, notification_id) DO UPDATE SET deliveries = deliveries + 1, last_seen_ms = ?7, "
        "copies = copies + (?3 IS NOT NULL AND message_id IS NOT NULL AND ?3 <> message_id), "
        "message_id = COALESCE(?3, message_id)";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, get, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, n->id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    *state = SB_NOTICE_NEW;
    *tries = 0;
    if (step == SQLITE_ROW) {
        *state = state_of((const char *)sqlite3_column_text(st, 0));
        *tries = sqlite3_column_int(st, 1);
    } else if (step != SQLITE_DONE) rc = sb_store_error(s, "reading a notification", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc || (rc = sb_store_cached(s, add, &st, err))) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, n->id, -1, SQLITE_TRANSIENT);
    bind_opt(st, 3, n->message_id);
    bind_opt(st, 4, n->order_ref);
    bind_opt(st, 5, n->change_type);
    bind_opt(st, 6, n->event_time);
    sqlite3_bind_int64(st, 7, now_ms);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "recording a notification", err);
}

int sb_store_notice_done(sb_store *s, int64_t integ, const char *id, int64_t now_ms, int64_t lag_ms, char *err) {
    static const char *sql = "UPDATE notifications SET state = 'done', done_ms = ?3, lag_ms = ?4, error = NULL, "
                             "body = NULL WHERE integration_id = ?1 AND notification_id = ?2";
    sqlite3_stmt *st;
    int rc = keyed(s, sql, integ, id, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 3, now_ms);
    if (lag_ms >= 0) sqlite3_bind_int64(st, 4, lag_ms);
    else sqlite3_bind_null(st, 4);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "recording a notification as done", err);
}

int sb_store_notice_ignored(sb_store *s, int64_t integ, const char *id, int64_t now_ms, char *err) {
    static const char *sql = "UPDATE notifications SET state = 'ignored', done_ms = ?3 "
                             "WHERE integration_id = ?1 AND notification_id = ?2";
    sqlite3_stmt *st;
    int rc = keyed(s, sql, integ, id, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 3, now_ms);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "recording a notification as ignored", err);
}

int sb_store_notice_failed(sb_store *s, int64_t integ, const char *id, const char *why, int poison,
                           const char *body, char *err) {
    static const char *sql = "UPDATE notifications SET tries = tries + 1, error = ?3, "
                             "state = CASE WHEN ?4 THEN 'poison' ELSE 'failed' END, body = CASE WHEN ?4 THEN ?5 END "
                             "WHERE integration_id = ?1 AND notification_id = ?2";
    sqlite3_stmt *st;
    int rc = keyed(s, sql, integ, id, &st, err);
    if (rc) return rc;
    bind_opt(st, 3, why);
    sqlite3_bind_int(st, 4, poison != 0);
    bind_opt(st, 5, body);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "recording a failed notification", err);
}

int sb_store_notice_prune(sb_store *s, int64_t integ, int64_t before_ms, long *n, char *err) {
    static const char *sql = "DELETE FROM notifications WHERE integration_id = ?1 AND state IN ('done', 'ignored') "
                             "AND last_seen_ms < ?2";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_int64(st, 2, before_ms);
    rc = sb_store_step_done(s, st, SB_STORE_PER_ROW, "forgetting old notifications", err);
    *n = rc ? 0 : sqlite3_changes(s->db);
    return rc;
}

int sb_store_notice_stats(sb_store *s, int64_t integ, sb_notice_stats *out, char *err) {
    static const char *sql =
        "SELECT COUNT(*), COALESCE(SUM(state = 'done'), 0), COALESCE(SUM(state = 'failed'), 0), "
        "COALESCE(SUM(state = 'poison'), 0), COALESCE(SUM(state = 'ignored'), 0), COALESCE(SUM(state = 'new'), 0), "
        "COALESCE(SUM(copies), 0), COALESCE(MAX(last_seen_ms), 0), "
        "COALESCE((SELECT lag_ms FROM notifications WHERE integration_id = ?1 AND state = 'done' "
        "          ORDER BY done_ms DESC LIMIT 1), -1), COALESCE(MAX(lag_ms), -1), "
        "(SELECT COUNT(*) FROM sales_orders WHERE integration_id = ?1 AND source = 'amazon' AND split_no = 0 "
        " AND came_by = 'notification'), "
        "(SELECT COUNT(*) FROM sales_orders WHERE integration_id = ?1 AND source = 'amazon' AND split_no = 0 "
        " AND (came_by IS NULL OR came_by = 'download')) "
        "FROM notifications WHERE integration_id = ?1";
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->total = sqlite3_column_int64(st, 0);
        out->done = sqlite3_column_int64(st, 1);
        out->failed = sqlite3_column_int64(st, 2);
        out->poison = sqlite3_column_int64(st, 3);
        out->ignored = sqlite3_column_int64(st, 4);
        out->waiting = sqlite3_column_int64(st, 5);
        out->duplicates = sqlite3_column_int64(st, 6);
        out->last_seen_ms = sqlite3_column_int64(st, 7);
        out->last_lag_ms = sqlite3_column_int64(st, 8);
        out->max_lag_ms = sqlite3_column_int64(st, 9);
        out->orders_by_notification = sqlite3_column_int64(st, 10);
        out->orders_by_download = sqlite3_column_int64(st, 11);
    } else rc = sb_store_error(s, "counting the notifications", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int sb_store_notice_list(sb_store *s, int64_t integ, const char *state, sb_notice_row *out, int max, int *n,
                         char *err) {
    static const char *sql =
        "SELECT notification_id, COALESCE(order_ref, ''), state, tries, deliveries, COALESCE(error, ''), last_seen_ms "
        "FROM notifications WHERE integration_id = ?1 AND state = ?2 ORDER BY last_seen_ms DESC LIMIT ?3";
    sqlite3_stmt *st;
    *n = 0;
    int rc = sb_store_cached(s, sql, &st, err), step;
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, max);
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
        sb_notice_row *r = &out[(*n)++];
        snprintf(r->id, sizeof r->id, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(r->order_ref, sizeof r->order_ref, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(r->state, sizeof r->state, "%s", (const char *)sqlite3_column_text(st, 2));
        r->tries = sqlite3_column_int(st, 3);
        r->deliveries = sqlite3_column_int(st, 4);
        snprintf(r->error, sizeof r->error, "%s", (const char *)sqlite3_column_text(st, 5));
        r->last_seen_ms = sqlite3_column_int64(st, 6);
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW) rc = sb_store_error(s, "listing notifications", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int sb_store_notice_job(sb_store *s, int64_t integ, sb_notice_job *out, char *err) {
    static const char *sql = "SELECT state, last_run_at, last_success_at, next_check_at, last_error, last_counts "
                             "FROM sync_state WHERE integration_id = ?1 AND job = 'notifications'";
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        sb_store_col_text(st, 0, out->state, sizeof out->state);
        sb_store_col_text(st, 1, out->last_run, sizeof out->last_run);
        sb_store_col_text(st, 2, out->last_success, sizeof out->last_success);
        sb_store_col_text(st, 3, out->next_due, sizeof out->next_due);
        sb_store_col_text(st, 4, out->last_error, sizeof out->last_error);
        sb_store_col_text(st, 5, out->counts, sizeof out->counts);
    } else if (step != SQLITE_DONE) rc = sb_store_error(s, "reading the notifications job", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}
