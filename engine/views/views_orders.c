/* views_orders.c: the order documents: the list (filters, paging, a total), one order's
 * splits with lines and shipments, its explanation (every rule decision, with a sentence
 * for what Amazon changed), and the orders needing attention.
 *
 * The list is newest first by row id (an index walk whatever the table's size); the
 * total is a count over the same WHERE (up to SB_VIEW_COUNT_CAP past the offset), so a
 * list that stops at its limit says how many there are. */
#include <stdio.h>
#include <string.h>
#include "views/views_int.h"

/* which path brought the order: the scheduled download, a notification, an import */
#define CAME_BY "CASE WHEN o.source = 'import' THEN 'import' ELSE COALESCE(o.came_by, 'download') END AS came_by"
#define ORDER_LIST_COLS \
    "o.order_ref AS \"order\", o.split_no AS split, o.stage, o.amazon_status AS status, o.branch, " \
    "o.fulfilled_by, o.total, o.currency, COALESCE(c.name, o.buyer_name) AS customer, o.invoice_no, " \
    "COALESCE(o.rule_error, o.attention_reason) AS problem, o.ship_country AS country, o.created_time AS created, " \
    "o.updated_time AS updated, o.dispatched_at, " CAME_BY " "

/* The filters given, and only those, so a filter on the stage walks its index:
 * ?2 stage, ?3 Amazon status, ?4 search (the order id, the buyer's name or e-mail, or
 * a SKU of its lines; '%' and '_' taken literally), ?8 and ?9 the first and last day
 * the order was made (YYYY-MM-DD, Amazon's purchase date). */
static void order_where(char *out, size_t outlen, int stage, int status, int search, int from, int to) {
    snprintf(out, outlen, "WHERE o.integration_id = ?1%s%s%s%s%s ", stage ? " AND o.stage = ?2" : "",
             from ? " AND substr(o.created_time, 1, 10) >= ?8" : "", to ? " AND substr(o.created_time, 1, 10) <= ?9" : "",
             status ? " AND o.amazon_status = ?3" : "",
             search ? " AND (o.order_ref LIKE ?4 ESCAPE '\\' OR COALESCE(c.name, o.buyer_name) LIKE ?4 ESCAPE '\\' "
                      "OR o.buyer_email LIKE ?4 ESCAPE '\\' OR EXISTS (SELECT 1 FROM sales_order_lines l "
                      "WHERE l.order_id = o.id AND l.sku LIKE ?4 ESCAPE '\\'))" : "");
}

/* 0 when d is a calendar day YYYY-MM-DD, else -1. */
static int day_check(const char *d) {
    int y, m, dd;
    char tail;
    if (strlen(d) != 10 || d[4] != '-' || d[7] != '-' || sscanf(d, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) != 3) return -1;
    for (int i = 0; i < 10; i++) if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9')) return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || dd < 1 || dd > mdays[m - 1]) return -1;
    if (m == 2 && dd == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return -1;
    return 0;
}

int sb_view_orders(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    const char *stage, *status = sb_view_args_get(a, "status"), *search = sb_view_args_get(a, "search");
    long limit, offset, total = 0;
    int rc = sb_vw_arg_enum(c, a, "stage", sb_vw_stages, &stage, err);
    if (!rc) rc = sb_vw_paging(c, a, 50, 500, &limit, &offset, err);
    if (rc) return rc;
    if (status && !*status) status = NULL;
    if (search && !*search) search = NULL;
    if ((status && strlen(status) > 64) || (search && strlen(search) > 200))
        return sb_seterr(err, SB_EINVAL, "%s%s: longer than %d characters", c->arg_prefix ? c->arg_prefix : "", status && strlen(status) > 64 ?
                         "status" : "search", status && strlen(status) > 64 ? 64 : 200);
    const char *from = sb_view_args_get(a, "from"), *to = sb_view_args_get(a, "to");
    if (from && !*from) from = NULL;
    if (to && !*to) to = NULL;
    for (int k = 0; k < 2; k++) {
        const char *d = k ? to : from;
        if (d && day_check(d) != 0)
            return sb_seterr(err, SB_EINVAL, "%s%s: '%.40s' is not a day (YYYY-MM-DD, e.g. 2026-11-30)",
                             c->arg_prefix ? c->arg_prefix : "", k ? "to" : "from", d);
    }
    if (from && to && strcmp(from, to) > 0)
        return sb_seterr(err, SB_EINVAL, "%sfrom %s is after %sto %s", c->arg_prefix ? c->arg_prefix : "", from,
                         c->arg_prefix ? c->arg_prefix : "", to);
    char like[420] = "";
    if (search) {                      /* %term% with the pattern characters escaped */
        size_t k = 0;
        like[k++] = '%';
        for (const char *p = search; *p; p++) {
            if (*p == '%' || *p == '_' || *p == '\\') like[k++] = '\\';
            like[k++] = *p;
        }
        like[k++] = '%';
        like[k] = '\0';
    }
    sqlite3_stmt *st = NULL;
    char where[800], sql[1600];
    order_where(where, sizeof where, stage != NULL, status != NULL, search != NULL, from != NULL, to != NULL);
    for (int pass = 0; pass < 2 && !rc; pass++) {
        /* the total needs the customer only to search its name */
        if (pass == 0)
            snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM (SELECT 1 FROM sales_orders o %s%sLIMIT ?7)", search ?
                     "LEFT JOIN customers c ON c.id = o.customer_id " : "", where);
        else
            snprintf(sql, sizeof sql, "SELECT " ORDER_LIST_COLS "FROM sales_orders o LEFT JOIN customers c "
                     "ON c.id = o.customer_id %sORDER BY o.id DESC LIMIT ?5 OFFSET ?6", where);
        rc = sb_vw_prepare(c, sql, &st, "orders", err);
        if (rc) break;
        sqlite3_bind_int64(st, 1, c->integ);
        if (stage) sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
        if (status) sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
        if (search) sqlite3_bind_text(st, 4, like, -1, SQLITE_STATIC);
        if (from) sqlite3_bind_text(st, 8, from, -1, SQLITE_STATIC);
        if (to) sqlite3_bind_text(st, 9, to, -1, SQLITE_STATIC);
        if (pass == 0) {
            sqlite3_bind_int64(st, 7, sb_vw_count_cap(offset));
            rc = sb_vw_count(c, st, &total, "orders", err);
        } else {
            sqlite3_bind_int64(st, 5, limit);
            sqlite3_bind_int64(st, 6, offset);
            sb_jw_obj(jw);
            rc = sb_vw_page(c, st, jw, "orders", limit, offset, total, err);
            sb_jw_end_obj(jw);
        }
        sqlite3_finalize(st);
    }
    return rc;
}

/* The order's splits with their lines and shipments; *found says how many. */
static int order_splits(const sb_view_ctx *c, sb_jw *jw, const char *ref, int *found, char *err) {
    sqlite3_stmt *st, *l = NULL, *p = NULL;
    int rc = sb_vw_prepare(c,
            "SELECT o.id, o.order_ref AS \"order\", o.split_no AS split, o.stage, o.amazon_status AS status, o.branch, "
            "o.distribution_branch, o.fulfilled_by, o.service_level, o.programs, o.marketplace_id AS marketplace, "
            "o.created_time AS created, o.updated_time AS updated, c.ref AS customer_ref, "
            "COALESCE(c.name, o.buyer_name) AS customer, o.buyer_email, o.gl_account, o.invoice_no, o.invoice_date, "
            "o.payment_type, o.total, o.shipping_total, o.currency, o.ship_name, o.ship_city, o.ship_state, "
            "o.ship_postal, o.ship_country, o.etd, o.attention_reason AS attention, o.rule_error, "
            "o.rule_pack_hash AS pack_hash, o.dispatched_at, o.auto_dispatched, " CAME_BY " "
            "FROM sales_orders o LEFT JOIN customers c ON c.id = o.customer_id "
            "WHERE o.integration_id = ?1 AND o.source IN ('amazon','import') AND o.order_ref = ?2 ORDER BY o.split_no",
            &st, "order", err);
    if (!rc) rc = sb_vw_prepare(c, "SELECT line_no AS line, item_id, sku, asin, title, qty, qty_dispatched AS dispatched, "
                                   "unit_price, line_total, kit_sku, stock_bearing FROM sales_order_lines "
                                   "WHERE order_id = ? ORDER BY line_no", &l, "order lines", err);
    if (!rc) rc = sb_vw_prepare(c, "SELECT carrier, service, tracking, shipped_at, confirm_state, lines "
                                   "FROM shipments WHERE order_id = ? ORDER BY id", &p, "shipments", err);
    if (rc) goto out;
    sqlite3_bind_int64(st, 1, c->integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    *found = 0;
    sb_jw_key(jw, "splits");
    sb_jw_arr(jw);
    int r;
    while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
        (*found)++;
        int64_t oid = sqlite3_column_int64(st, 0);
        sb_jw_obj(jw);
        sb_vw_row(jw, st);
        sb_jw_key(jw, "lines");
        sb_jw_arr(jw);
        sqlite3_reset(l);
        sqlite3_bind_int64(l, 1, oid);
        rc = sb_vw_rows(c, l, jw, "order lines", err);
        sb_jw_end_arr(jw);
        sb_jw_key(jw, "shipments");
        sb_jw_arr(jw);
        sqlite3_reset(p);
        sqlite3_bind_int64(p, 1, oid);
        int pr;
        while ((pr = sqlite3_step(p)) == SQLITE_ROW) {
            sb_jw_obj(jw);
            for (int i = 0; i < 5; i++) sb_vw_col(jw, sqlite3_column_name(p, i), p, i);
            sb_jw_key(jw, "lines");
            sb_vw_json_text(jw, (const char *)sqlite3_column_text(p, 5));
            sb_jw_end_obj(jw);
        }
        if (!rc && pr != SQLITE_DONE) rc = sb_seterr(err, SB_EIO, "shipments: %s", sqlite3_errmsg(c->s->db));
        sb_jw_end_arr(jw);
        sb_jw_end_obj(jw);
    }
    if (!rc && r != SQLITE_DONE) rc = sb_seterr(err, SB_EIO, "order: %s", sqlite3_errmsg(c->s->db));
    sb_jw_end_arr(jw);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(l);
    sqlite3_finalize(p);
    return rc;
}

/* Every rule decision on the order, oldest first; what Amazon changed (hook 'amazon',
 * written by the download) also as a sentence ("said"). */
static int decisions(const sb_view_ctx *c, sb_jw *jw, const char *ref, char *err) {
    sqlite3_stmt *a;
    int rc = sb_vw_prepare(c, "SELECT at, hook, pack_hash, decision, CASE WHEN hook = 'amazon' AND json_valid(decision) "
                              "THEN CASE json_extract(decision, '$.action') WHEN 'update' THEN 'updated by Amazon: ' "
                              "WHEN 'refresh' THEN 'updated by Amazon: ' ELSE 'changed by Amazon, held for a person: ' END "
                              "|| COALESCE(json_extract(decision, '$.changes'), '') "
                              "|| COALESCE(' (kept branch ' || json_extract(decision, '$.kept') || ', a person''s choice)', '') "
                              "|| COALESCE(' (already left: ' || json_extract(decision, '$.left') || ')', '') END "
                              "FROM audit WHERE integration_id = ?1 AND order_ref = ?2 ORDER BY id", &a, "decisions", err);
    if (rc) return rc;
    sqlite3_bind_int64(a, 1, c->integ);
    sqlite3_bind_text(a, 2, ref, -1, SQLITE_STATIC);
    sb_jw_key(jw, "decisions");
    sb_jw_arr(jw);
    int r;
    while ((r = sqlite3_step(a)) == SQLITE_ROW) {
        sb_jw_obj(jw);
        sb_vw_col(jw, "at", a, 0);
        sb_vw_col(jw, "hook", a, 1);
        sb_vw_col(jw, "pack", a, 2);
        sb_jw_key(jw, "decision");
        sb_vw_json_text(jw, (const char *)sqlite3_column_text(a, 3));
        sb_vw_col(jw, "said", a, 4);
        sb_jw_end_obj(jw);
    }
    if (r != SQLITE_DONE) rc = sb_seterr(err, SB_EIO, "decisions: %s", sqlite3_errmsg(c->s->db));
    sb_jw_end_arr(jw);
    sqlite3_finalize(a);
    return rc;
}

static int order_doc(const sb_view_ctx *c, const char *ref, int explain, sb_jw *jw, char *err) {
    int found = 0;
    sb_jw_obj(jw);
    sb_jw_kstr(jw, "order", ref);
    int rc = order_splits(c, jw, ref, &found, err);
    if (!rc && !found) return sb_seterr(err, SB_ENOTFOUND, "order %s is not stored for this integration", ref);
    if (!rc && explain) rc = decisions(c, jw, ref, err);
    sb_jw_end_obj(jw);
    return rc;
}

int sb_view_order(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    return order_doc(c, id, 0, jw, err);
}

int sb_view_explain(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    return order_doc(c, id, 1, jw, err);
}

#define ATTENTION_WHERE "WHERE o.integration_id = ?1 AND o.stage IN ('needs_attention','rule_error','rejected') "
/* a line of it with no product, stock-bearing: the order waits for a product or an alias */
#define UNKNOWN_LINE "EXISTS (SELECT 1 FROM sales_order_lines l WHERE l.order_id = o.id AND l.stock_bearing = 1 " \
    "AND l.product_id IS NULL%s) "

/* What the list can be narrowed to (bulk actions act on the same sets): the reason they
 * are held for, and a SKU of their lines (?9). */
static const char *const reasons[] = {"unknown_sku", "rule_error", "rejected", "other", NULL};

static void attention_where(char *out, size_t n, const char *reason, int sku) {
    char unknown[300];
    snprintf(unknown, sizeof unknown, UNKNOWN_LINE, "");
    snprintf(out, n, ATTENTION_WHERE "%s%s%s%s",
             !reason ? "" : !strcmp(reason, "unknown_sku") ? "AND o.stage = 'needs_attention' AND " :
             !strcmp(reason, "rule_error") ? "AND o.stage = 'rule_error' " :
             !strcmp(reason, "rejected") ? "AND o.stage = 'rejected' " : "AND o.stage = 'needs_attention' AND NOT ",
             reason && (!strcmp(reason, "unknown_sku") || !strcmp(reason, "other")) ? unknown : "",
             sku ? "AND EXISTS (SELECT 1 FROM sales_order_lines l2 WHERE l2.order_id = o.id AND l2.sku = ?9) " : "", "");
}

int sb_view_attention(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    (void)id;
    long limit, offset, total = 0;
    const char *reason = NULL, *sku = sb_view_args_get(a, "sku");
    int rc = sb_vw_paging(c, a, 200, 1000, &limit, &offset, err);
    if (!rc) rc = sb_vw_arg_enum(c, a, "reason", reasons, &reason, err);
    if (rc) return rc;
    if (sku && !*sku) sku = NULL;
    if (sku && strlen(sku) > 120)
        return sb_seterr(err, SB_EINVAL, "%ssku: longer than 120 characters", c->arg_prefix ? c->arg_prefix : "");
    char where[1200], sql[2000];
    attention_where(where, sizeof where, reason, sku != NULL);
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM (SELECT 1 FROM sales_orders o %sLIMIT ?2)", where);
    if (!rc) rc = sb_vw_prepare(c, sql, &st, "attention", err);
    if (!rc) {
        sqlite3_bind_int64(st, 1, c->integ);
        sqlite3_bind_int64(st, 2, sb_vw_count_cap(offset));
        if (sku) sqlite3_bind_text(st, 9, sku, -1, SQLITE_STATIC);
        rc = sb_vw_count(c, st, &total, "attention", err);
    }
    sqlite3_finalize(st);
    st = NULL;
    snprintf(sql, sizeof sql, "SELECT " ORDER_LIST_COLS ", o.rule_pack_hash AS pack_hash, "
             "(SELECT l.sku FROM sales_order_lines l WHERE l.order_id = o.id AND l.stock_bearing = 1 "
             "AND l.product_id IS NULL ORDER BY l.line_no LIMIT 1) AS unknown_sku FROM sales_orders o "
             "LEFT JOIN customers c ON c.id = o.customer_id %sORDER BY o.id DESC LIMIT ?2 OFFSET ?3", where);
    if (!rc) rc = sb_vw_prepare(c, sql, &st, "attention", err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->integ);
    sqlite3_bind_int64(st, 2, limit);
    sqlite3_bind_int64(st, 3, offset);
    if (sku) sqlite3_bind_text(st, 9, sku, -1, SQLITE_STATIC);
    sb_jw_obj(jw);
    if (reason) sb_jw_kstr(jw, "reason", reason);
    if (sku) sb_jw_kstr(jw, "sku", sku);
    rc = sb_vw_page(c, st, jw, "orders", limit, offset, total, err);
    sqlite3_finalize(st);
    /* how many of them wait for a product (a line whose SKU is not one yet): importing it,
     * or linking the SKU to a product (an alias), releases them (counted to the same cap
     * as the total) */
    long unknown = 0;
    st = NULL;
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM (SELECT 1 FROM sales_orders o " ATTENTION_WHERE "AND " UNKNOWN_LINE
             "LIMIT ?2)", "");
    if (!rc) rc = sb_vw_prepare(c, sql, &st, "attention", err);
    if (!rc) {
        sqlite3_bind_int64(st, 1, c->integ);
        sqlite3_bind_int64(st, 2, sb_vw_count_cap(offset));
        rc = sb_vw_count(c, st, &unknown, "attention", err);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!rc) sb_jw_kint(jw, "unknown_sku", unknown);
    /* the sets a bulk action can take, each with how many orders it would change: by
     * reason, and the SKUs no product has with the orders waiting on each (the first 20) */
    if (!rc) {
        sb_jw_key(jw, "reasons");
        sb_jw_obj(jw);
        for (int i = 0; reasons[i] && !rc; i++) {
            long n = 0;
            attention_where(where, sizeof where, reasons[i], 0);
            snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM (SELECT 1 FROM sales_orders o %sLIMIT ?2)", where);
            if (!(rc = sb_vw_prepare(c, sql, &st, "attention", err))) {
                sqlite3_bind_int64(st, 1, c->integ);
                sqlite3_bind_int64(st, 2, SB_VIEW_COUNT_CAP);
                rc = sb_vw_count(c, st, &n, "attention", err);
            }
            sqlite3_finalize(st);
            st = NULL;
            sb_jw_kint(jw, reasons[i], n);
        }
        sb_jw_end_obj(jw);
    }
    if (!rc) rc = sb_vw_prepare(c, "SELECT l.sku, COUNT(DISTINCT o.order_ref) AS orders FROM sales_orders o "
                                   "JOIN sales_order_lines l ON l.order_id = o.id WHERE o.integration_id = ?1 "
                                   "AND o.stage = 'needs_attention' AND l.stock_bearing = 1 AND l.product_id IS NULL "
                                   "AND l.sku IS NOT NULL GROUP BY l.sku ORDER BY orders DESC, l.sku LIMIT 20",
                                &st, "attention", err);
    if (!rc) {
        sqlite3_bind_int64(st, 1, c->integ);
        sb_jw_key(jw, "unknown_skus");
        sb_jw_arr(jw);
        rc = sb_vw_rows(c, st, jw, "attention", err);
        sb_jw_end_arr(jw);
    }
    sqlite3_finalize(st);
    if (!rc) rc = sb_view_choices(c, jw, err);
    sb_jw_end_obj(jw);
    return rc;
}

/* The index of name among names[0..*n), added when new; once max - 1 names are taken, a
 * new one counts under "other branches" (the last slot). */
static int branch_slot(char (*names)[128], int *n, int max, const char *name) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(names[i], name)) return i;
    if (*n >= max - 1 && strcmp(name, "other branches")) return branch_slot(names, n, max, "other branches");
    if (*n >= max) return max - 1;      /* not reached: the last slot is "other branches" */
    snprintf(names[*n], 128, "%s", name);
    return (*n)++;
}

/* Orders per day over the 30 days up to the newest order (the dashboard's chart), by stage
 * and by branch: {"days": [...], "stages": {"open": [n per day], ...}, "branches": {"LA
 * Warehouse": [n per day], ...}}, the days oldest first and only those with orders; the
 * branches by name, an order without one under "no branch", past MAXBR - 1 names the rest
 * under "other branches". */
int sb_view_orders_per_day(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    (void)id; (void)a;
    enum { MAXDAYS = 30, MAXBR = 16 };
    char days[MAXDAYS][11], branches[MAXBR][128];
    long counts[MAXDAYS][8], bcounts[MAXDAYS][MAXBR];
    int nd = 0, ns = 0, nb = 0, order[MAXBR], step;
    while (sb_vw_stages[ns]) ns++;
    memset(counts, 0, sizeof counts);
    memset(bcounts, 0, sizeof bcounts);
    sqlite3_stmt *st = NULL;
    int rc = sb_vw_prepare(c, "SELECT substr(created_time, 1, 10) AS d, stage, COALESCE(branch, '') AS br, COUNT(*) "
                              "FROM sales_orders WHERE integration_id = ?1 AND created_time IS NOT NULL AND "
                              "substr(created_time, 1, 10) >= "
                              "date((SELECT MAX(created_time) FROM sales_orders WHERE integration_id = ?1), '-29 days') "
                              "GROUP BY d, stage, br ORDER BY d, br", &st, "orders per day", err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->integ);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 0), *stage = (const char *)sqlite3_column_text(st, 1);
        const char *br = (const char *)sqlite3_column_text(st, 2);
        long n = (long)sqlite3_column_int64(st, 3);
        if (!d || !stage) continue;
        if (!nd || strcmp(days[nd - 1], d)) {
            if (nd == MAXDAYS) break;               /* bounded by the query: 30 days */
            snprintf(days[nd++], sizeof days[0], "%s", d);
        }
        for (int k = 0; k < ns; k++)
            if (!strcmp(sb_vw_stages[k], stage)) counts[nd - 1][k] += n;
        int b = branch_slot(branches, &nb, MAXBR, br && *br ? br : "no branch");
        bcounts[nd - 1][b] += n;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = sb_seterr(err, SB_EIO, "orders per day: %s", sqlite3_errmsg(c->s->db));
    sqlite3_finalize(st);
    if (rc) return rc;
    for (int i = 0; i < nb; i++) {                  /* the branches by name */
        int j = i;
        for (; j > 0 && strcmp(branches[order[j - 1]], branches[i]) > 0; j--) order[j] = order[j - 1];
        order[j] = i;
    }
    sb_jw_obj(jw);
    sb_jw_key(jw, "days");
    sb_jw_arr(jw);
    for (int i = 0; i < nd; i++) sb_jw_str(jw, days[i]);
    sb_jw_end_arr(jw);
    sb_jw_key(jw, "stages");
    sb_jw_obj(jw);
    for (int k = 0; k < ns; k++) {
        sb_jw_key(jw, sb_vw_stages[k]);
        sb_jw_arr(jw);
        for (int i = 0; i < nd; i++) sb_jw_int(jw, counts[i][k]);
        sb_jw_end_arr(jw);
    }
    sb_jw_end_obj(jw);
    sb_jw_key(jw, "branches");
    sb_jw_obj(jw);
    for (int k = 0; k < nb; k++) {
        sb_jw_key(jw, branches[order[k]]);
        sb_jw_arr(jw);
        for (int i = 0; i < nd; i++) sb_jw_int(jw, bcounts[i][order[k]]);
        sb_jw_end_arr(jw);
    }
    sb_jw_end_obj(jw);
    sb_jw_end_obj(jw);
    return 0;
}

/* Sync health over time, the dashboard's second chart: per hour of the 48 before the
 * latest run, the orders checks, the orders the download and the notifications brought,
 * the runs that failed (any job), the checks Amazon's rate limit paused, the
 * notifications read, and the stock levels Amazon accepted and refused. */
int sb_view_sync_per_hour(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    (void)id; (void)a;
    sqlite3_stmt *st = NULL;
    int step, n = 0;
    int rc = sb_vw_prepare(c,
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
        "GROUP BY h ORDER BY h", &st, "sync per hour", err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->integ);
    static const char *const keys[] = {"checks", "downloaded", "notified", "failed", "paused", "notifications",
                                        "stock_accepted", "stock_refused"};
    enum { NK = sizeof keys / sizeof *keys };
    long v[48][NK];
    char hours[48][16];
    while ((step = sqlite3_step(st)) == SQLITE_ROW && n < 48) {
        snprintf(hours[n], sizeof hours[0], "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
        for (int k = 0; k < NK; k++) v[n][k] = sqlite3_column_int64(st, k + 1);
        n++;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = sb_seterr(err, SB_EIO, "sync per hour: %s", sqlite3_errmsg(c->s->db));
    sqlite3_finalize(st);
    if (rc) return rc;
    sb_jw_obj(jw);
    sb_jw_key(jw, "hours");
    sb_jw_arr(jw);
    for (int i = 0; i < n; i++) sb_jw_str(jw, hours[i]);
    sb_jw_end_arr(jw);
    for (int k = 0; k < NK; k++) {
        sb_jw_key(jw, keys[k]);
        sb_jw_arr(jw);
        for (int i = 0; i < n; i++) sb_jw_int(jw, v[i][k]);
        sb_jw_end_arr(jw);
    }
    sb_jw_end_obj(jw);
    return 0;
}
