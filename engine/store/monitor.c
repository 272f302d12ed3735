/* monitor.c: the counts behind the dashboard's job buttons and /metrics (see monitor.h). */
#include <stdio.h>
#include <string.h>
#include "core/util.h"
#include "store/aliases.h"
#include "store/monitor.h"
#include "store/store_int.h"

/* One count from sql with ?1 integ and ?2 text (NULL binds NULL). */
static int count(sb_store *s, const char *sql, int64_t integ, const char *text, long *n, const char *what, char *err) {
    sqlite3_stmt *st;
    *n = 0;
    int rc = sb_store_prepare(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    if (text) sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 2);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) *n = (long)sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE) rc = sb_store_error(s, what, err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_count_held(sb_store *s, int64_t integ, const char *ref, long *n, char *err) {
    return count(s, "SELECT COUNT(*) FROM sales_orders WHERE integration_id = ?1 AND source = 'amazon' "
                    "AND split_no = 0 AND stage IN ('rule_error','rejected') AND (?2 IS NULL OR order_ref = ?2)",
                 integ, ref, n, "counting held orders", err);
}

int sb_store_retry_would_act(sb_store *s, int64_t integ, const char *ref, int *yes, char *err) {
    long n;
    int rc = count(s, "SELECT COUNT(*) FROM sales_orders o WHERE o.integration_id = ?1 AND o.order_ref = ?2 "
                      "AND o.source = 'amazon' AND o.split_no = 0 AND (o.stage IN ('rule_error','rejected') "
                      "OR EXISTS (SELECT 1 FROM sales_orders o2 JOIN sales_order_lines l ON l.order_id = o2.id "
                      "WHERE " SB_STORE_SKU_PRODUCT("l.sku") " IS NOT NULL AND o2.integration_id = o.integration_id "
                      "AND o2.order_ref = o.order_ref AND o2.stage IN ('needs_attention','open') "
                      "AND l.stock_bearing = 1 AND l.product_id IS NULL))",
                   integ, ref, &n, "retry", err);
    *yes = n > 0;
    return rc;
}

int sb_store_orders_by_stage(sb_store *s, int64_t integ, const char *const *stages, long *counts, char *err) {
    int rc = 0;
    for (int i = 0; stages[i] && !rc; i++)
        rc = count(s, "SELECT COUNT(*) FROM sales_orders WHERE stage = ?2 AND integration_id = ?1 AND source = 'amazon'",
                   integ, stages[i], &counts[i], "counting orders by stage", err);
    return rc;
}

/* label-safe: no quote, backslash or newline (Prometheus label values) */
static int label_safe(const char *v) { return v && strcspn(v, "\"\\\n") == strlen(v); }

int sb_store_monitor_read(sb_store *s, int64_t integ, sb_store_monitor *out, char *err) {
    sqlite3_stmt *st = NULL;
    int step, rc;
    memset(out, 0, sizeof *out);
    if ((rc = count(s, "SELECT COUNT(*) FROM outbox WHERE integration_id = ?1 AND status = 'pending'", integ, NULL,
                    &out->outbox_pending, "counting the outbox", err)) ||
        (rc = count(s, "SELECT COUNT(*) FROM outbox WHERE integration_id = ?1 AND status = 'failed'", integ, NULL,
                    &out->outbox_failed, "counting the outbox", err)))
        return rc;
    if ((rc = sb_store_prepare(s, "SELECT kind, COUNT(*) FROM outbox WHERE integration_id = ?1 AND status = 'pending' "
                                  "GROUP BY kind ORDER BY kind", &st, err))) return rc;
    sqlite3_bind_int64(st, 1, integ);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (!label_safe(k) || !strcmp(k, "all") || strlen(k) >= sizeof out->kinds[0].kind ||
            out->nkinds == SB_MONITOR_KINDS) continue;
        snprintf(out->kinds[out->nkinds].kind, sizeof out->kinds[0].kind, "%s", k);
        out->kinds[out->nkinds++].n = (long)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) return sb_store_error(s, "counting the outbox by kind", err);
    if ((rc = sb_store_prepare(s, "SELECT job, last_success_at, last_error FROM sync_state WHERE integration_id = ?1 "
                                  "ORDER BY job", &st, err))) return rc;
    sqlite3_bind_int64(st, 1, integ);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *job = (const char *)sqlite3_column_text(st, 0), *ok = (const char *)sqlite3_column_text(st, 1);
        if (!label_safe(job) || strlen(job) >= sizeof out->jobs[0].job || out->njobs == SB_MONITOR_JOBS) continue;
        snprintf(out->jobs[out->njobs].job, sizeof out->jobs[0].job, "%s", job);
        out->jobs[out->njobs].last_success = ok ? sb_time_parse(ok) : -1;
        out->jobs[out->njobs++].failed = sqlite3_column_type(st, 2) != SQLITE_NULL;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) return sb_store_error(s, "reading the jobs' last runs", err);
    return 0;
}
