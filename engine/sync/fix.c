/* fix.c: a person's fix of a held order, and the bulk fixes: every order held on a SKU,
 * every order a new SKU alias releases (see fix.h). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "core/util.h"
#include "json/json.h"
#include "store/aliases.h"
#include "store/jobs.h"
#include "sync/engine.h"
#include "sync/fix.h"
#include "store/store_int.h"  /* its SQL moves to engine/store next (issue #14) */
#include "sync/orders.h"

static int step(sb_store *s, sqlite3_stmt *st, const char *what, char *err) {
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sb_store_error(s, what, err);
    sqlite3_finalize(st);
    return rc;
}

int sb_orders_fix(sb_store *s, int64_t integ, const char *ref, const char *branch, int resolve,
                  const char *via, char *err) {
    sqlite3_stmt *st = NULL;
    int64_t oid = 0;
    int rc;
    char stage[24] = "", old_branch[128] = "";
    if (branch && !*branch) branch = NULL;
    if (!branch && !resolve) return sb_seterr(err, SB_EINVAL, "order %s: nothing to fix: give a branch and/or resolve", ref);
    if (branch && !sb_store_branch_exists(s, branch)) {
        char names[512];
        sb_store_branch_names(s, names, sizeof names);
        return sb_seterr(err, SB_EINVAL, "branch '%s' does not exist (branches: %s)", branch, names);
    }
    if ((rc = sb_store_begin(s, err))) return rc;
    if ((rc = sb_store_prepare(s, "SELECT id, stage, COALESCE(branch,'') "
                                  "FROM sales_orders WHERE integration_id = ?1 AND order_ref = ?2 ORDER BY split_no LIMIT 1",
                               &st, err))) goto out;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        oid = sqlite3_column_int64(st, 0);
        snprintf(stage, sizeof stage, "%s", sqlite3_column_text(st, 1));
        snprintf(old_branch, sizeof old_branch, "%s", sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!oid) { rc = sb_seterr(err, SB_ENOTFOUND, "order %s is not stored for this integration", ref); goto out; }
    if (strcmp(stage, "needs_attention") && strcmp(stage, "open")) {
        rc = sb_seterr(err, SB_EINVAL, "order %s is %s; only open orders or orders needing attention can be fixed "
                       "(rule errors: fix the pack and run 'orders retry')", ref, stage);
        goto out;
    }
    if (resolve) {
        /* a line whose SKU has become a product since: releasing it here would leave the
         * line unlinked with nothing reserved; the retry links it as a download would */
        char sku[128] = "";
        if ((rc = sb_store_prepare(s, "SELECT l.sku FROM sales_orders o JOIN sales_order_lines l ON l.order_id = o.id "
                                      "WHERE o.integration_id = ?1 AND o.order_ref = ?2 AND l.stock_bearing = 1 "
                                      "AND l.product_id IS NULL AND " SB_STORE_SKU_PRODUCT("l.sku") " IS NOT NULL "
                                      "ORDER BY o.split_no, l.line_no LIMIT 1", &st, err))) goto out;
        sqlite3_bind_int64(st, 1, integ);
        sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) snprintf(sku, sizeof sku, "%s", sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        st = NULL;
        if (*sku) {
            rc = sb_seterr(err, SB_EINVAL, "order %s: SKU '%s' is now a product (or an alias of one) but its line is not linked yet; "
                           "retry the order first ('orders retry %s' or the dashboard's Retry): it links the line "
                           "and reserves the stock", ref, sku, ref);
            goto out;
        }
    }
    if (branch && strcmp(branch, old_branch)) {
        /* the reservation moves with the order (Amazon-fulfilled orders reserve nothing) */
        if (*old_branch && (rc = sb_store_reserve_order(s, oid, old_branch, -1, err))) goto out;
        if ((rc = sb_store_reserve_order(s, oid, branch, +1, err))) goto out;
        if ((rc = sb_store_prepare(s, "UPDATE sales_orders SET branch = ?1, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') "
                                      "WHERE id = ?2", &st, err))) goto out;
        sqlite3_bind_text(st, 1, branch, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, oid);
        if ((rc = step(s, st, "moving the order", err))) { st = NULL; goto out; }
        st = NULL;
    }
    if (resolve) {
        if ((rc = sb_store_prepare(s, "UPDATE sales_orders SET stage = CASE WHEN dispatched_at IS NULL THEN 'open' "
                                      "ELSE 'dispatched' END, attention_reason = NULL, "
                                      "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?1", &st, err))) goto out;
        sqlite3_bind_int64(st, 1, oid);
        if ((rc = step(s, st, "resolving the order", err))) { st = NULL; goto out; }
        st = NULL;
    }
    sb_buf dec;
    sb_buf_init(&dec, 4096);
    sb_jw jw;
    sb_jw_init(&jw, &dec);
    sb_jw_obj(&jw);
    sb_jw_kstr(&jw, "branch", branch ? branch : old_branch);
    sb_jw_kbool(&jw, "moved", branch != NULL);   /* a branch chosen: kept when Amazon changes the order */
    sb_jw_kbool(&jw, "resolved", resolve);
    sb_jw_kstr(&jw, "via", via);
    sb_jw_end_obj(&jw);
    if (!(rc = sb_store_prepare(s, "INSERT INTO audit(integration_id, order_ref, hook, decision) VALUES (?1, ?2, 'person', ?3)",
                                &st, err))) {
        sqlite3_bind_int64(st, 1, integ);
        sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, dec.data ? dec.data : "{}", -1, SQLITE_STATIC);
        rc = step(s, st, "recording the fix", err);
        st = NULL;
    }
    sb_buf_free(&dec);
    if (!rc) return sb_store_commit(s, err);
out:
    sqlite3_finalize(st);
    sb_store_rollback(s);
    return rc;
}

/* Orders held on sku: a line of it with no product (kept for it, open or needing
 * attention), or held for a rule error / rejected with a line of it. ?1 integration,
 * ?2 SKU. */
#define HELD_ON_SKU \
    "FROM sales_orders o WHERE o.integration_id = ?1 AND o.source = 'amazon' AND o.split_no = 0 " \
    "AND EXISTS (SELECT 1 FROM sales_orders o2 JOIN sales_order_lines l ON l.order_id = o2.id " \
    "WHERE o2.integration_id = o.integration_id AND o2.order_ref = o.order_ref AND l.sku = ?2 AND " \
    "((o2.stage IN ('needs_attention','open') AND l.stock_bearing = 1 AND l.product_id IS NULL) " \
    "OR o2.stage IN ('rule_error','rejected'))) "

long sb_orders_count_sku(sb_store *s, int64_t integ, const char *sku, long cap) {
    sqlite3_stmt *st;
    long n = 0;
    if (sb_store_prepare(s, "SELECT COUNT(*) FROM (SELECT 1 " HELD_ON_SKU "LIMIT ?3)", &st, NULL)) return 0;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, cap);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Adds r to the sum. */
static void add_result(sb_orders_retry_result *sum, const sb_orders_retry_result *r) {
    sum->tried += r->tried;
    sum->fixed += r->fixed;
    sum->held += r->held;
    for (int i = 0; i < r->nkept && sum->nkept < SB_RETRY_KEEP; i++) sum->kept[sum->nkept++] = r->kept[i];
}

int sb_orders_retry_sku(sb_engine *e, const char *sku, int kinds, sb_orders_retry_result *out, char *err) {
    sqlite3_stmt *st = NULL;
    char **refs = NULL;
    size_t n = 0, cap = 0;
    memset(out, 0, sizeof *out);
    if (!sku || !*sku) return sb_seterr(err, SB_EINVAL, "SKU is empty");
    if (strlen(sku) > SB_ALIAS_SKU_MAX) return sb_seterr(err, SB_EINVAL, "SKU is longer than %d characters", SB_ALIAS_SKU_MAX);
    /* collected first: each retry writes */
    int rc = sb_store_prepare(e->store, "SELECT o.order_ref " HELD_ON_SKU "ORDER BY o.id", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, e->integ);
    sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **g = realloc(refs, nc * sizeof *refs);
            if (!g) { rc = sb_seterr(err, SB_ENOMEM, "retry: out of memory"); goto out; }
            refs = g;
            cap = nc;
        }
        if (!(refs[n] = strdup((const char *)sqlite3_column_text(st, 0)))) { rc = sb_seterr(err, SB_ENOMEM, "retry: out of memory"); goto out; }
        n++;
    }
    if (r != SQLITE_DONE) { rc = sb_store_error(e->store, "orders held on a SKU", err); goto out; }
    for (size_t i = 0; i < n; i++) {
        sb_orders_retry_result one;
        char oerr[SB_ERRLEN];
        int orc = sb_orders_retry_for(e, refs[i], kinds, &one, oerr);
        if (orc == SB_EINVAL || orc == SB_ENOTFOUND) {   /* not of the kinds asked, or its SKU still unknown */
            one.held++;
            if (one.nkept < SB_RETRY_KEEP) {
                snprintf(one.kept[one.nkept].order, sizeof one.kept[0].order, "%s", refs[i]);
                snprintf(one.kept[one.nkept].why, sizeof one.kept[0].why, "%.250s", oerr);
                one.nkept++;
            }
        } else if (orc) { rc = sb_seterr(err, orc, "%s", oerr); add_result(out, &one); goto out; }
        add_result(out, &one);
    }
out:
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) free(refs[i]);
    free(refs);
    return rc;
}

int sb_orders_release_linked(sb_store *s, const char *db_path, volatile int *stop, sb_orders_retry_result *out, char *err) {
    sb_store_integ *ig = NULL;
    int ni = 0;
    memset(out, 0, sizeof *out);
    int rc = sb_store_integrations(s, &ig, &ni, err);
    for (int i = 0; !rc && i < ni; i++) {
        sb_engine *e = NULL;
        sb_orders_retry_result one;
        memset(&one, 0, sizeof one);
        if (!(rc = sb_engine_open(s, db_path, ig[i].id, &e, err))) {
            e->stop = stop;
            rc = sb_orders_retry_for(e, NULL, SB_RETRY_UNKNOWN_SKU, &one, err);
        }
        sb_engine_close(e);
        add_result(out, &one);
    }
    free(ig);
    return rc;
}
