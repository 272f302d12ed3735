/* rulepacks.c: rule-pack versions, recorded decisions and the dry run's orders (see
 * rulepacks.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "store/rulepacks.h"
#include "store/store_int.h"

int sb_store_pack_counts(sb_store *s, int64_t integ, sb_store_pack_count out[SB_PACK_COUNTS_MAX], int *n, char *err) {
    sqlite3_stmt *st;
    *n = 0;
    int rc = sb_store_prepare(s, "SELECT rule_pack_hash, COUNT(*) FROM sales_orders WHERE integration_id = ?1 "
                                 "AND rule_pack_hash IS NOT NULL GROUP BY rule_pack_hash ORDER BY 2 DESC LIMIT 20", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < SB_PACK_COUNTS_MAX) {
        snprintf(out[*n].hash, sizeof out[*n].hash, "%s", (const char *)sqlite3_column_text(st, 0));
        out[*n].orders = sqlite3_column_int64(st, 1);
        (*n)++;
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW) rc = sb_store_error(s, "counting the orders of each rule pack", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_decision_recorded(sb_store *s, int64_t integ, const char *ref, const char *hook, char **json, char *err) {
    sqlite3_stmt *st;
    *json = NULL;
    int rc = sb_store_prepare(s, "SELECT decision FROM audit WHERE integration_id = ?1 AND order_ref = ?2 "
                                 "AND hook = ?3 ORDER BY id DESC LIMIT 1", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hook, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (v && !(*json = strdup(v))) rc = sb_seterr(err, SB_ENOMEM, "order %s: out of memory reading its %s decision", ref, hook);
    } else if (step != SQLITE_DONE) {
        rc = sb_store_error(s, "reading a recorded decision", err);
    }
    sqlite3_finalize(st);
    return rc;
}

int sb_store_order_customer(sb_store *s, int64_t integ, const char *ref, int64_t *id, char *err) {
    sqlite3_stmt *st;
    *id = 0;
    int rc = sb_store_prepare(s, "SELECT customer_id FROM sales_orders WHERE integration_id = ?1 AND order_ref = ?2 "
                                 "AND split_no = 0", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE) rc = sb_store_error(s, "reading an order's customer", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_replay_orders(sb_store *s, int64_t integ, long limit, sb_store_replay_fn row, void *ud, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "WITH pick AS MATERIALIZED (SELECT id, order_ref, updated_time FROM sales_orders "
                                 "WHERE integration_id = ?1 AND source = 'amazon' AND split_no = 0 "
                                 "AND (raw_json IS NOT NULL OR raw_page_id IS NOT NULL) AND stage <> 'cancelled' "
                                 "ORDER BY updated_time DESC LIMIT ?2) "
                                 "SELECT p.order_ref, (SELECT r.raw_json FROM sales_orders_raw r WHERE r.order_id = p.id) "
                                 "FROM pick p ORDER BY p.updated_time DESC", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = row(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1)))) break;
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the stored orders", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_order_raw(sb_store *s, int64_t integ, const char *ref, char **raw, char *err) {
    static const char sql[] = "SELECT raw_json FROM sales_orders_raw WHERE integration_id = ?1 AND order_ref = ?2 "
                              "ORDER BY split_no LIMIT 1";
    sqlite3_stmt *st;
    *raw = NULL;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        if (!(*raw = strdup((const char *)sqlite3_column_text(st, 0))))
            rc = sb_seterr(err, SB_ENOMEM, "store: out of memory reading order %s", ref);
    } else if (step == SQLITE_ROW) rc = sb_seterr(err, SB_ENOTFOUND, "order %s has no Amazon JSON (entered by CSV import?)", ref);
    else if (step == SQLITE_DONE) rc = sb_seterr(err, SB_ENOTFOUND, "no order %s", ref);
    else rc = sb_store_error(s, "reading an order's Amazon JSON", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}
