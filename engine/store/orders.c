/* store/orders.c: the order pass's SQL (see store/orders.h): typed reads and writes of
 * sales order rows, their lines, customers, audit rows and the pages their JSON is kept
 * in. Statements run per order or line are cached on the connection; the few a pass runs
 * once (tidying pages, the window in progress, the reserved check) are prepared and
 * finalized. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "store/aliases.h"
#include "store/orders.h"
#include "store/stock.h"
#include "store/store_int.h"

static void bind_raw(sqlite3_stmt *st, int i, const sb_store_raw_place *raw) {
    sb_store_bind_opt(st, i, raw ? raw->json : NULL);
    if (raw && !raw->json && raw->page_id > 0) {
        sqlite3_bind_int64(st, i + 1, raw->page_id);
        sqlite3_bind_int(st, i + 2, raw->index);
    }
}

int sb_store_order_add(sb_store *s, const sb_store_order_row *r, int64_t *id, char *err) {
    static const char sql[] =
        "INSERT INTO sales_orders(integration_id, source, order_ref, split_no, marketplace_id, amazon_status, "
        "stage, fulfilled_by, service_level, programs, created_time, updated_time, branch, distribution_branch, "
        "customer_id, gl_account, invoice_no, invoice_date, currency, total, shipping_total, buyer_name, "
        "buyer_email, buyer_company, ship_name, ship_company, ship_line1, ship_line2, ship_line3, ship_city, "
        "ship_state, ship_postal, ship_country, ship_phone, attention_reason, rule_error, rule_pack_hash, raw_json, "
        "raw_page_id, raw_index, created_at, updated_at) "
        "VALUES (?1,'amazon',?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,"
        "?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39,?40,?40)";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    const sb_order *o = r->o;
    const sb_address *a = &o->ship;
    const char *text[] = {
        [2] = r->ref, [4] = o->marketplace_id, [5] = o->status, [6] = r->stage, [7] = o->fulfilled_by,
        [8] = o->service_level, [9] = o->programs, [10] = o->created, [11] = o->updated, [12] = r->branch,
        [13] = r->distribution_branch, [15] = r->gl_account, [16] = r->invoice_no, [17] = r->invoice_date,
        [18] = o->currency, [19] = r->total, [20] = r->shipping_total, [21] = o->buyer_name,
        [22] = o->buyer_email, [23] = o->buyer_company, [24] = a->name, [25] = a->company, [26] = a->line1,
        [27] = a->line2, [28] = a->line3, [29] = a->city, [30] = a->state, [31] = a->postal, [32] = a->country,
        [33] = a->phone, [34] = r->attention_reason, [35] = r->rule_error, [36] = r->pack_hash, [40] = r->now,
    };
    for (int i = 2; i <= 40; i++)
        if (text[i]) sb_store_bind_opt(st, i, text[i]);
    sqlite3_bind_int64(st, 1, r->integ);
    sqlite3_bind_int(st, 3, r->split_no);
    if (r->customer_id) sqlite3_bind_int64(st, 14, r->customer_id);
    bind_raw(st, 37, &r->raw);
    if ((rc = sb_store_step_done(s, st, SB_STORE_PER_ROW, "storing order", err))) return rc;
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int sb_store_order_first(sb_store *s, int64_t integ, const char *ref, int64_t *id, char *stage, size_t slen,
                         char *err) {
    static const char sql[] =
        "SELECT id, stage FROM sales_orders WHERE integration_id = ?1 AND source = 'amazon' AND order_ref = ?2 "
        "ORDER BY split_no LIMIT 1";
    sqlite3_stmt *st;
    *id = 0;
    if (stage && slen) stage[0] = '\0';
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sb_store_bind_opt(st, 2, ref);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        if (stage) sb_store_col_text(st, 1, stage, slen);
    } else if (step != SQLITE_DONE) {
        rc = sb_store_error(s, "finding the order", err);
    }
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_order_remove(sb_store *s, int64_t integ, const char *ref, char *err) {
    static const char sql[] = "DELETE FROM sales_orders WHERE id = ?1";
    int64_t id;
    int rc;
    while (!(rc = sb_store_order_first(s, integ, ref, &id, NULL, 0, err)) && id > 0) {
        sqlite3_stmt *st;
        if ((rc = sb_store_reserve_order(s, id, NULL, -1, err)) || (rc = sb_store_cached(s, sql, &st, err))) break;
        sqlite3_bind_int64(st, 1, id);
        if ((rc = sb_store_step_done(s, st, SB_STORE_PER_ROW, "deleting held order", err))) break;
    }
    return rc;
}

int sb_store_order_stage(sb_store *s, int64_t id, const char *stage, const char *reason, const char *now, char *err) {
    static const char sql[] =
        "UPDATE sales_orders SET stage = ?2, attention_reason = COALESCE(?3, attention_reason), updated_at = ?4 "
        "WHERE id = ?1";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sb_store_bind_opt(st, 2, stage);
    sb_store_bind_opt(st, 3, reason);
    sb_store_bind_opt(st, 4, now);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "updating order stage", err);
}

int sb_store_order_refresh(sb_store *s, int64_t id, const char *status, const char *updated,
                           const sb_store_raw_place *raw, const char *now, char *err) {
    static const char sql[] =
        "UPDATE sales_orders SET amazon_status = ?2, updated_time = ?3, raw_json = ?4, raw_page_id = ?5, "
        "raw_index = ?6, updated_at = ?7 WHERE id = ?1";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sb_store_bind_opt(st, 2, status);
    sb_store_bind_opt(st, 3, updated);
    bind_raw(st, 4, raw);
    sb_store_bind_opt(st, 7, now);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "updating order", err);
}

int sb_store_order_came_by(sb_store *s, int64_t integ, const char *ref, const char *how, char *err) {
    static const char sql[] =
        "UPDATE sales_orders SET came_by = ?3 WHERE integration_id = ?1 AND source = 'amazon' AND order_ref = ?2 "
        "AND came_by IS NULL";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sb_store_bind_opt(st, 2, ref);
    sb_store_bind_opt(st, 3, how);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "record how the order came", err);
}

int sb_store_invoice_next(sb_store *s, int64_t integ, long long *no, char *err) {
    static const char sql[] =
        "UPDATE integrations SET next_invoice_no = next_invoice_no + 1 WHERE id = ?1 RETURNING next_invoice_no - 1";
    sqlite3_stmt *st;
    *no = 0;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *no = sqlite3_column_int64(st, 0);
        step = sqlite3_step(st);
    }
    if (step != SQLITE_DONE) rc = sb_store_error(s, "taking an invoice number", err);
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_order_line_add(sb_store *s, const sb_store_order_line *l, char *err) {
    static const char sql[] =
        "INSERT INTO sales_order_lines(order_id, line_no, item_id, sku, asin, title, product_id, qty, unit_price, "
        "line_total, kit_sku, stock_bearing) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, l->order_id);
    sqlite3_bind_int(st, 2, l->line_no);
    sb_store_bind_opt(st, 3, l->item_id);
    sb_store_bind_opt(st, 4, l->sku);
    sb_store_bind_opt(st, 5, l->asin);
    sb_store_bind_opt(st, 6, l->title);
    if (l->product_id) sqlite3_bind_int64(st, 7, l->product_id);
    sqlite3_bind_double(st, 8, l->qty);
    sb_store_bind_opt(st, 9, l->unit_price);
    sb_store_bind_opt(st, 10, l->line_total);
    sb_store_bind_opt(st, 11, l->kit_sku);
    sqlite3_bind_int(st, 12, l->stock_bearing);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "storing order line", err);
}

int sb_store_order_line_bears(sb_store *s, int64_t id, int line_no, char *err) {
    static const char sql[] = "UPDATE sales_order_lines SET stock_bearing = 1 WHERE order_id = ?1 AND line_no = ?2";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, line_no);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "storing order line", err);
}

int sb_store_order_product_of(sb_store *s, const char *sku, sb_store_order_product *p, char *err) {
    /* its own SKU first, else a person's alias of it (store/aliases.h) */
    static const char sql[] =
        "SELECT id, batch_tracked OR serial_tracked, order_type = 'kit' FROM products WHERE id = " SB_STORE_SKU_PRODUCT("?1");
    sqlite3_stmt *st;
    memset(p, 0, sizeof *p);
    if (!sku) return 0;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        p->found = 1;
        p->id = sqlite3_column_int64(st, 0);
        p->tracked = sqlite3_column_int(st, 1);
        p->kit = sqlite3_column_int(st, 2);
    } else if (step != SQLITE_DONE) {
        rc = sb_store_error(s, "reading the product of a line", err);
    }
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_order_bom(sb_store *s, int64_t kit, int (*cb)(void *ctx, int64_t product, const char *sku,
                       const char *name, double qty), void *ctx, char *err) {
    static const char sql[] =
        "SELECT p.id, p.sku, p.name, c.qty FROM bom_components c JOIN products p ON p.id = c.component_id "
        "WHERE c.kit_id = ?1 ORDER BY p.sku";
    sqlite3_stmt *st;
    int step, rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, kit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = cb(ctx, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                     (const char *)sqlite3_column_text(st, 2), sqlite3_column_double(st, 3)))) break;
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading a kit's components", err);
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_order_can_dispatch(sb_store *s, int64_t id, const char *branch, int *ok, char *err) {
    static const char lines_sql[] =
        "SELECT l.product_id, l.qty, COALESCE(p.batch_tracked OR p.serial_tracked, 0) FROM sales_order_lines l "
        "LEFT JOIN products p ON p.id = l.product_id WHERE l.order_id = ?1 AND l.stock_bearing = 1 ORDER BY l.line_no";
    static const char avail_sql[] =
        "SELECT s.on_hand - s.reserved FROM stock s JOIN branches b ON b.id = s.branch_id "
        "WHERE s.product_id = ?1 AND b.name = ?2";
    sqlite3_stmt *st, *av;
    int step, rc = sb_store_cached(s, lines_sql, &st, err);
    *ok = 0;
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    int all = 1;
    while (all && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL || sqlite3_column_int(st, 2)) { all = 0; break; }
        if ((rc = sb_store_cached(s, avail_sql, &av, err))) break;
        sqlite3_bind_int64(av, 1, sqlite3_column_int64(st, 0));
        sb_store_bind_opt(av, 2, branch);
        int astep = sqlite3_step(av);
        double avail = astep == SQLITE_ROW ? sqlite3_column_double(av, 0) : 0;
        if (astep != SQLITE_ROW && astep != SQLITE_DONE) rc = sb_store_error(s, "reading the stock free to dispatch", err);
        sb_store_put(av, SB_STORE_PER_ROW);
        if (rc) break;
        if (avail < sqlite3_column_double(st, 1)) all = 0;
    }
    if (!rc && all && step != SQLITE_DONE) rc = sb_store_error(s, "reading the lines to dispatch", err);
    sb_store_put(st, SB_STORE_PER_ROW);
    if (!rc) *ok = all;
    return rc;
}

int sb_store_order_auto_dispatch(sb_store *s, int64_t id, const char *branch, const char *now, char *err) {
    static const char open_sql[] =
        "SELECT l.product_id, l.qty - l.qty_dispatched FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id "
        "WHERE l.order_id = ?1 AND l.stock_bearing = 1 AND l.product_id IS NOT NULL "
        "AND o.stage IN ('open','needs_attention') AND COALESCE(o.fulfilled_by, '') <> 'AMAZON'";
    static const char lines_sql[] = "UPDATE sales_order_lines SET qty_dispatched = qty WHERE order_id = ?1";
    static const char order_sql[] =
        "UPDATE sales_orders SET stage = 'dispatched', auto_dispatched = 1, dispatched_at = ?2 WHERE id = ?1";
    sqlite3_stmt *st;
    int step, rc = sb_store_cached(s, open_sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {   /* the stock rows it changes are not read here */
        double q = sqlite3_column_double(st, 1);
        if ((rc = sb_store_stock_take(s, sqlite3_column_int64(st, 0), branch, q, q, err))) break;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the lines to dispatch", err);
    sb_store_put(st, SB_STORE_PER_ROW);
    if (rc || (rc = sb_store_cached(s, lines_sql, &st, err))) return rc;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = sb_store_step_done(s, st, SB_STORE_PER_ROW, "dispatching lines", err)) || (rc = sb_store_cached(s, order_sql, &st, err))) return rc;
    sqlite3_bind_int64(st, 1, id);
    sb_store_bind_opt(st, 2, now);
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "dispatching the order", err);
}

/* Binds c's contact details at first .. first+9: e-mail, name, company, phone, address
 * lines 1 and 2, city, state, postcode, country. */
static void bind_contact(sqlite3_stmt *st, int first, const sb_store_buyer *c) {
    const char *v[] = {c->email, c->name, c->company, c->phone, c->address1, c->address2, c->city, c->state,
                       c->postcode, c->country};
    for (int i = 0; i < (int)(sizeof v / sizeof v[0]); i++) sb_store_bind_opt(st, first + i, v[i]);
}

int sb_store_customer_add(sb_store *s, int64_t integ, const sb_store_buyer *c, const char *now, int64_t *id,
                          char *err) {
    static const char sql[] =
        "INSERT INTO customers(integration_id, channel_customer_id, email, name, company, phone, address1, "
        "address2, city, state, postcode, country, group_id, created_at, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,"
        "?10,?11,?12,(SELECT id FROM customer_groups WHERE name = ?13),?14,?14)";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sb_store_bind_opt(st, 2, c->key);
    bind_contact(st, 3, c);
    sb_store_bind_opt(st, 13, c->group);
    sb_store_bind_opt(st, 14, now);
    if ((rc = sb_store_step_done(s, st, SB_STORE_PER_ROW, "creating customer", err))) return rc;
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int sb_store_customer_update(sb_store *s, int64_t id, const sb_store_buyer *c, int64_t wall, const char *now,
                             int *changed, char *err) {
    static const char sql[] =
        "UPDATE customers SET email = COALESCE(?2, email), name = COALESCE(?3, name), "
        "company = COALESCE(?4, company), phone = COALESCE(?5, phone), address1 = COALESCE(?6, address1), "
        "address2 = COALESCE(?7, address2), city = COALESCE(?8, city), state = COALESCE(?9, state), "
        "postcode = COALESCE(?10, postcode), country = COALESCE(?11, country), "
        "channel_customer_id = COALESCE(channel_customer_id, ?12), updated_at = ?13 WHERE id = ?1 "
        /* the integration's own or an imported customer (lookup.c's wall) */
        "AND (?14 < 0 OR integration_id IS NULL OR integration_id = ?14)";
    sqlite3_stmt *st;
    *changed = 0;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    bind_contact(st, 2, c);
    sb_store_bind_opt(st, 12, c->key);
    sb_store_bind_opt(st, 13, now);
    sqlite3_bind_int64(st, 14, wall);
    if ((rc = sb_store_step_done(s, st, SB_STORE_PER_ROW, "updating customer", err))) return rc;
    *changed = sqlite3_changes(s->db) > 0;
    return 0;
}

/* One row per write, its n entries a JSON array of [hook, decision] pairs that SQLite's
 * json_array makes (schema.c, migration 18, has the view that reads them): a statement
 * for each count, 1 to SB_MAX_AUDIT. */
#define AUDIT_INTO "INSERT INTO audit_log(integration_id, order_ref, pack_hash, at, entries) VALUES (?1,?2,?3,?4,json_array("
#define E1 "json_array(?5,?6)"
#define E2 E1 ",json_array(?7,?8)"
#define E3 E2 ",json_array(?9,?10)"
#define E4 E3 ",json_array(?11,?12)"
#define E5 E4 ",json_array(?13,?14)"
#define E6 E5 ",json_array(?15,?16)"
#define E7 E6 ",json_array(?17,?18)"
#define E8 E7 ",json_array(?19,?20)"
_Static_assert(SB_MAX_AUDIT == 8, "a statement for each count of audit entries");
static const char *const audit_sql[SB_MAX_AUDIT + 1] = {
    NULL, AUDIT_INTO E1 "))", AUDIT_INTO E2 "))", AUDIT_INTO E3 "))", AUDIT_INTO E4 "))",
    AUDIT_INTO E5 "))", AUDIT_INTO E6 "))", AUDIT_INTO E7 "))", AUDIT_INTO E8 "))"};

int sb_store_order_audit(sb_store *s, int64_t integ, const char *ref, const char *pack_hash, const char *now,
                         const sb_audit_entry *a, int n, char *err) {
    if (n > SB_MAX_AUDIT) n = SB_MAX_AUDIT;
    if (n <= 0) return 0;
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, audit_sql[n], &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sb_store_bind_opt(st, 2, ref);
    sb_store_bind_opt(st, 3, pack_hash);
    sb_store_bind_opt(st, 4, now);
    for (int i = 0; i < n; i++) {
        sb_store_bind_opt(st, 5 + 2 * i, a[i].hook);
        sqlite3_bind_text(st, 6 + 2 * i, a[i].decision_json ? a[i].decision_json : "{}", -1, SQLITE_STATIC);
    }
    return sb_store_step_done(s, st, SB_STORE_PER_ROW, "writing audit", err);
}

int sb_store_raw_page_add(sb_store *s, int64_t integ, const char *body, size_t len, int orders, int64_t *id,
                          char *err) {
    static const char sql[] = "INSERT INTO raw_pages(integration_id, body, orders) VALUES (?1, ?2, ?3)";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, body, (int)len, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, orders);
    if ((rc = sb_store_step_done(s, st, SB_STORE_PER_ROW, "storing the orders page", err))) return rc;
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int sb_store_raw_pages_tidy(sb_store *s, int64_t integ, char *err) {
    static const char *const sql[] = {
        /* orders of a page fewer than a quarter of its orders still point at take their own copy */
        "UPDATE sales_orders SET raw_json = (SELECT json_extract(p.body, '$.orders[' || sales_orders.raw_index || ']') "
        "FROM raw_pages p WHERE p.id = sales_orders.raw_page_id), raw_page_id = NULL, raw_index = NULL "
        "WHERE raw_page_id IN (SELECT p.id FROM raw_pages p WHERE p.integration_id = ?1 AND p.orders > 0 "
        "AND (SELECT count(*) FROM sales_orders o WHERE o.raw_page_id = p.id) * 4 < p.orders)",
        "DELETE FROM raw_pages WHERE integration_id = ?1 AND NOT EXISTS "
        "(SELECT 1 FROM sales_orders o WHERE o.raw_page_id = raw_pages.id)",
    };
    int rc = 0;
    for (int i = 0; i < 2 && !rc; i++) {
        sqlite3_stmt *st;
        if ((rc = sb_store_prepare(s, sql[i], &st, err))) break;
        sqlite3_bind_int64(st, 1, integ);
        if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "tidying stored orders pages", err);
        sqlite3_finalize(st);
    }
    return rc;
}

int sb_store_order_stored(sb_store *s, int64_t integ, const char *ref, sb_store_order_split *out, int max, int *n,
                          char *err) {
    static const char sql[] =
        "SELECT o.id, o.stage, o.dispatched_at IS NOT NULL, COALESCE(o.invoice_no, ''), "
        "COALESCE(o.invoice_date, ''), EXISTS (SELECT 1 FROM sales_order_lines l WHERE l.order_id = o.id "
        "AND l.qty_dispatched > 0), COALESCE(o.branch, '') FROM sales_orders o "
        "WHERE o.integration_id = ?1 AND o.source = 'amazon' AND o.order_ref = ?2 ORDER BY o.split_no";
    sqlite3_stmt *st;
    int step = SQLITE_DONE;
    *n = 0;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sb_store_bind_opt(st, 2, ref);
    while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
        sb_store_order_split *r = &out[(*n)++];
        r->id = sqlite3_column_int64(st, 0);
        sb_store_col_text(st, 1, r->stage, sizeof r->stage);
        r->dispatched = sqlite3_column_int(st, 2) || !strcmp(r->stage, "dispatched");
        sb_store_col_text(st, 3, r->inv, sizeof r->inv);
        sb_store_col_text(st, 4, r->inv_date, sizeof r->inv_date);
        r->some_left = r->dispatched || sqlite3_column_int(st, 5);
        sb_store_col_text(st, 6, r->branch, sizeof r->branch);
    }
    if (*n < max && step != SQLITE_DONE) rc = sb_store_error(s, "reading the order's rows", err);
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_order_kept(sb_store *s, int64_t id, char *kept[SB_KEPT_N], char *err) {
    static const char sql[] =
        "SELECT amazon_status, fulfilled_by, service_level, programs, currency, total, shipping_total, buyer_name, "
        "buyer_email, buyer_company, ship_name, ship_company, ship_line1, ship_line2, ship_line3, ship_city, "
        "ship_state, ship_postal, ship_country, ship_phone, updated_time FROM sales_orders WHERE id = ?1";
    sqlite3_stmt *st;
    memset(kept, 0, SB_KEPT_N * sizeof *kept);
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        for (int i = 0; i < SB_KEPT_N && !rc; i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            if (v && !(kept[i] = sb_strdup(v))) rc = sb_seterr(err, SB_ENOMEM, "out of memory");
        }
    } else if (step == SQLITE_DONE) {
        rc = sb_seterr(err, SB_ENOTFOUND, "its row is gone");
    } else {
        rc = sb_store_error(s, "reading the stored order", err);
    }
    sb_store_put(st, SB_STORE_PER_ROW);
    if (rc) sb_store_order_kept_free(kept);
    return rc;
}

void sb_store_order_kept_free(char *kept[SB_KEPT_N]) {
    for (int i = 0; i < SB_KEPT_N; i++) {
        free(kept[i]);
        kept[i] = NULL;
    }
}

int sb_store_order_top_lines(sb_store *s, int64_t integ, const char *ref,
                             int (*cb)(void *ctx, const char *item, const char *sku, double qty, const char *price),
                             void *ctx, char *err) {
    static const char sql[] =
        "SELECT COALESCE(l.item_id, ''), l.sku, SUM(l.qty), MIN(COALESCE(l.unit_price, '')) "
        "FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id WHERE o.integration_id = ?1 "
        "AND o.source = 'amazon' AND o.order_ref = ?2 AND l.kit_sku IS NULL GROUP BY 1, 2 ORDER BY 1, 2";
    sqlite3_stmt *st;
    int step, rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sb_store_bind_opt(st, 2, ref);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *item = (const char *)sqlite3_column_text(st, 0), *sku = (const char *)sqlite3_column_text(st, 1);
        const char *price = (const char *)sqlite3_column_text(st, 3);
        if ((rc = cb(ctx, item ? item : "", sku ? sku : "", sqlite3_column_double(st, 2), price ? price : ""))) break;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the order's lines", err);
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_order_skus(sb_store *s, int64_t integ, const char *ref, int (*cb)(void *ctx, const char *sku), void *ctx,
                        char *err) {
    static const char sql[] =
        "SELECT l.sku FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id "
        "WHERE o.integration_id = ?1 AND o.source = 'amazon' AND o.order_ref = ?2 AND l.sku IS NOT NULL";
    sqlite3_stmt *st;
    int step, rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sb_store_bind_opt(st, 2, ref);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = cb(ctx, (const char *)sqlite3_column_text(st, 0)))) break;
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the SKUs of the order's lines", err);
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_order_left_lines(sb_store *s, int64_t integ, const char *ref,
                              int (*cb)(void *ctx, const char *sku, double dispatched, double qty), void *ctx,
                              char *err) {
    static const char sql[] =
        "SELECT l.sku, SUM(l.qty_dispatched), SUM(l.qty) FROM sales_order_lines l "
        "JOIN sales_orders o ON o.id = l.order_id WHERE o.integration_id = ?1 AND o.source = 'amazon' "
        "AND o.order_ref = ?2 AND l.kit_sku IS NULL AND l.qty_dispatched > 0 GROUP BY 1 ORDER BY 1";
    sqlite3_stmt *st;
    int step, rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sb_store_bind_opt(st, 2, ref);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sku = (const char *)sqlite3_column_text(st, 0);
        if ((rc = cb(ctx, sku ? sku : "", sqlite3_column_double(st, 1), sqlite3_column_double(st, 2)))) break;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the lines that left", err);
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_order_person(sb_store *s, int64_t integ, const char *ref, char *branch, size_t len, int *released,
                          char *err) {
    /* sb_orders_fix writes these rows; rows from before "moved" was written count as a
     * chosen branch */
    static const char sql[] =
        "SELECT COALESCE(json_extract(decision, '$.branch'), ''), COALESCE(json_extract(decision, '$.moved'), 1), "
        "COALESCE(json_extract(decision, '$.resolved'), 0) FROM audit WHERE integration_id = ?1 "
        "AND order_ref = ?2 AND hook = 'person' ORDER BY id";
    sqlite3_stmt *st;
    branch[0] = '\0';
    *released = 0;
    int step, rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sb_store_bind_opt(st, 2, ref);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *b = (const char *)sqlite3_column_text(st, 0);
        if (sqlite3_column_int(st, 1) && b && *b) snprintf(branch, len, "%s", b);
        if (sqlite3_column_int(st, 2)) *released = 1;
    }
    if (step != SQLITE_DONE) rc = sb_store_error(s, "reading what people decided", err);
    sb_store_put(st, SB_STORE_PER_ROW);
    return rc;
}

int sb_store_orders_resume_get(sb_store *s, int64_t integ, sb_store_orders_resume *r, char *err) {
    sqlite3_stmt *st;
    memset(r, 0, sizeof *r);
    int rc = sb_store_prepare(s, "SELECT resume_after, resume_before, resume_token, resume_saved_at, resume_pages "
                                 "FROM sync_state WHERE integration_id = ?1 AND job = 'orders' "
                                 "AND resume_token IS NOT NULL", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 2);
        sb_store_col_text(st, 0, r->after, sizeof r->after);
        sb_store_col_text(st, 1, r->before, sizeof r->before);
        sb_store_col_text(st, 3, r->saved_at, sizeof r->saved_at);
        r->pages = (long)sqlite3_column_int64(st, 4);
        if (t && strlen(t) < sizeof r->token) snprintf(r->token, sizeof r->token, "%s", t);
        r->found = 1;
    } else if (step != SQLITE_DONE) {
        rc = sb_store_error(s, "reading the window in progress", err);
    }
    sqlite3_finalize(st);
    return rc;
}

int sb_store_orders_resume_set(sb_store *s, int64_t integ, const char *after, const char *before, const char *token,
                               const char *saved_at, long pages, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s,
        "INSERT INTO sync_state(integration_id, job, resume_after, resume_before, resume_token, resume_saved_at, "
        "resume_pages) VALUES (?1, 'orders', ?2, ?3, ?4, ?5, ?6) ON CONFLICT(integration_id, job) DO UPDATE SET "
        "resume_after = ?2, resume_before = ?3, resume_token = ?4, resume_saved_at = ?5, resume_pages = ?6", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sb_store_bind_opt(st, 2, token ? after : NULL);
    sb_store_bind_opt(st, 3, token ? before : NULL);
    sb_store_bind_opt(st, 4, token);
    sb_store_bind_opt(st, 5, token ? saved_at : NULL);
    sqlite3_bind_int64(st, 6, pages);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "keeping the window's next page token", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_orders_reserved_check(sb_store *s, char *report, size_t len, int *n, char *err) {
    static const char sql[] =
        "WITH want AS (SELECT l.product_id AS p, b.id AS b, SUM(l.qty - l.qty_dispatched) AS q "
        "  FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id JOIN branches b ON b.name = o.branch "
        "  WHERE l.stock_bearing = 1 AND l.product_id IS NOT NULL AND o.stage IN ('open','needs_attention') "
        "  AND COALESCE(o.fulfilled_by, '') <> 'AMAZON' GROUP BY 1, 2) "
        "SELECT p.sku, br.name, s.reserved, COALESCE(w.q, 0) FROM stock s "
        "JOIN products p ON p.id = s.product_id JOIN branches br ON br.id = s.branch_id "
        "LEFT JOIN want w ON w.p = s.product_id AND w.b = s.branch_id "
        "WHERE abs(s.reserved - COALESCE(w.q, 0)) > 1e-9 "
        "UNION ALL SELECT p.sku, br.name, 0, w.q FROM want w JOIN products p ON p.id = w.p "
        "JOIN branches br ON br.id = w.b WHERE NOT EXISTS (SELECT 1 FROM stock s WHERE s.product_id = w.p AND s.branch_id = w.b)";
    sqlite3_stmt *st;
    int step;
    *n = 0;
    if (report && len) report[0] = '\0';
    int rc = sb_store_prepare(s, sql, &st, err);
    if (rc) return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (report && strlen(report) + 100 < len) {
            size_t l = strlen(report);
            snprintf(report + l, len - l, "%s%s@%s reserved %g, open lines %g", *n ? "; " : "",
                     sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                     sqlite3_column_double(st, 2), sqlite3_column_double(st, 3));
        }
        (*n)++;
    }
    if (step != SQLITE_DONE) rc = sb_store_error(s, "checking reserved stock", err);
    sqlite3_finalize(st);
    return rc;
}
