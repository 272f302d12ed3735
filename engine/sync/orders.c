/* orders.c: order download and the application of rule decisions (see orders.h).
 *
 * The one idea: the rules decide an order while no transaction is open, then every
 * change the order makes (the sales order rows, customer, lines, reserved stock,
 * auto-dispatch, invoice number, audit rows) happens in that order's own transaction, and
 * the watermark moves only after the last order of the window is stored. A crash at any
 * point therefore leaves each order whole or absent, and repeating the window is harmless
 * because an order already stored is only compared with what came and updated where Amazon
 * changed it (update_seen). No rule ever runs while this engine holds the database's
 * write lock.
 *
 * Why one file: the pass, its plan and its store writes (issue #14 splits it in three). */
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "json/json.h"
#include "store/aliases.h"
#include "store/store_int.h"  /* its SQL moves to engine/store next (issue #14) */
#include "sync/orders.h"

#define SEARCH_PAGE_SIZE 100
#define DEFAULT_LOOKBACK (7 * 86400)
#define TWO_MINUTES 120

enum {
    S_FIND, S_INSERT, S_LINE, S_PRODUCT, S_BOM, S_CUST_INSERT, S_CUST_UPDATE,
    S_UPDATE_SEEN, S_OPEN_LINES, S_SET_STAGE, S_INVOICE_NO, S_STOCK_AVAIL, S_DISPATCH_LINE,
    S_ON_HAND, S_DELETE, S_SPLIT_LINES, S_RAW_PAGE, S_COMPACT_PAGES, S_PRUNE_PAGES,
    S_ROWS, S_KEPT, S_TOP_LINES, S_PERSON, S_LEFT_LINES, S_CAME_BY, S_COUNT
};

static const char *const sql[S_COUNT] = {
    [S_FIND] = "SELECT id, stage, dispatched_at IS NOT NULL, split_no FROM sales_orders "
               "WHERE integration_id = ?1 AND source = 'amazon' AND order_ref = ?2 ORDER BY split_no",
    [S_INSERT] = "INSERT INTO sales_orders(integration_id, source, order_ref, split_no, marketplace_id, amazon_status, "
                 "stage, fulfilled_by, service_level, programs, created_time, updated_time, branch, distribution_branch, "
                 "customer_id, gl_account, invoice_no, invoice_date, currency, total, shipping_total, buyer_name, "
                 "buyer_email, buyer_company, ship_name, ship_company, ship_line1, ship_line2, ship_line3, ship_city, "
                 "ship_state, ship_postal, ship_country, ship_phone, attention_reason, rule_error, rule_pack_hash, raw_json, "
                 "raw_page_id, raw_index, created_at, updated_at) "
                 "VALUES (?1,'amazon',?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,"
                 "?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39,?40,?40)",
    [S_LINE] = "INSERT INTO sales_order_lines(order_id, line_no, item_id, sku, asin, title, product_id, qty, unit_price, "
               "line_total, kit_sku, stock_bearing) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
    /* its own SKU first, else a person's alias of it (store/aliases.h) */
    [S_PRODUCT] = "SELECT id, batch_tracked OR serial_tracked, order_type = 'kit' FROM products WHERE id = " SB_STORE_SKU_PRODUCT("?1"),
    [S_BOM] = "SELECT p.id, p.sku, p.name, c.qty, p.batch_tracked OR p.serial_tracked FROM bom_components c "
              "JOIN products p ON p.id = c.component_id WHERE c.kit_id = ?1 ORDER BY p.sku",
    [S_CUST_INSERT] = "INSERT INTO customers(integration_id, channel_customer_id, email, name, company, phone, address1, "
                      "address2, city, state, postcode, country, group_id, created_at, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,"
                      "?10,?11,?12,(SELECT id FROM customer_groups WHERE name = ?13),?14,?14)",
    [S_CUST_UPDATE] = "UPDATE customers SET email = COALESCE(?2, email), name = COALESCE(?3, name), "
                      "company = COALESCE(?4, company), phone = COALESCE(?5, phone), address1 = COALESCE(?6, address1), "
                      "address2 = COALESCE(?7, address2), city = COALESCE(?8, city), state = COALESCE(?9, state), "
                      "postcode = COALESCE(?10, postcode), country = COALESCE(?11, country), "
                      "channel_customer_id = COALESCE(channel_customer_id, ?12), updated_at = ?13 WHERE id = ?1 "
                      /* the integration's own or an imported customer (lookup.c's wall) */
                      "AND (?14 < 0 OR integration_id IS NULL OR integration_id = ?14)",
    [S_UPDATE_SEEN] = "UPDATE sales_orders SET amazon_status = ?2, updated_time = ?3, raw_json = ?4, "
                      "raw_page_id = ?5, raw_index = ?6, "
                      "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?1",
    [S_OPEN_LINES] = "SELECT l.product_id, o.branch, l.qty - l.qty_dispatched FROM sales_order_lines l "
                     "JOIN sales_orders o ON o.id = l.order_id WHERE l.order_id = ?1 AND l.stock_bearing = 1 "
                     "AND l.product_id IS NOT NULL AND o.stage IN ('open','needs_attention') "
                     "AND COALESCE(o.fulfilled_by, '') <> 'AMAZON'",
    [S_SET_STAGE] = "UPDATE sales_orders SET stage = ?2, attention_reason = COALESCE(?3, attention_reason), "
                    "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?1",
    [S_INVOICE_NO] = "UPDATE integrations SET next_invoice_no = next_invoice_no + 1 WHERE id = ?1 RETURNING next_invoice_no - 1",
    [S_STOCK_AVAIL] = "SELECT s.on_hand - s.reserved FROM stock s JOIN branches b ON b.id = s.branch_id "
                      "WHERE s.product_id = ?1 AND b.name = ?2",
    [S_DISPATCH_LINE] = "UPDATE sales_order_lines SET qty_dispatched = qty WHERE order_id = ?1",
    [S_ON_HAND] = "UPDATE stock SET on_hand = on_hand - ?3, reserved = reserved - ?3, "
                  "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') "
                  "WHERE product_id = ?1 AND branch_id = (SELECT id FROM branches WHERE name = ?2)",
    [S_DELETE] = "DELETE FROM sales_orders WHERE id = ?1",
    [S_SPLIT_LINES] = "SELECT l.product_id, l.qty, COALESCE(p.batch_tracked OR p.serial_tracked, 0) FROM sales_order_lines l "
                      "LEFT JOIN products p ON p.id = l.product_id WHERE l.order_id = ?1 AND l.stock_bearing = 1 "
                      "ORDER BY l.line_no",
    [S_RAW_PAGE] = "INSERT INTO raw_pages(integration_id, body, orders) VALUES (?1, ?2, ?3)",
    /* orders of a page fewer than a quarter of its orders still point at take their own copy */
    [S_COMPACT_PAGES] = "UPDATE sales_orders SET raw_json = (SELECT json_extract(p.body, '$.orders[' || sales_orders.raw_index || ']') "
                        "FROM raw_pages p WHERE p.id = sales_orders.raw_page_id), raw_page_id = NULL, raw_index = NULL "
                        "WHERE raw_page_id IN (SELECT p.id FROM raw_pages p WHERE p.integration_id = ?1 AND p.orders > 0 "
                        "AND (SELECT count(*) FROM sales_orders o WHERE o.raw_page_id = p.id) * 4 < p.orders)",
    [S_PRUNE_PAGES] = "DELETE FROM raw_pages WHERE integration_id = ?1 AND NOT EXISTS "
                      "(SELECT 1 FROM sales_orders o WHERE o.raw_page_id = raw_pages.id)",
    /* an order seen again: its rows, what it keeps of Amazon's order, and its lines */
    [S_ROWS] = "SELECT o.id, o.stage, o.dispatched_at IS NOT NULL, COALESCE(o.invoice_no, ''), "
               "COALESCE(o.invoice_date, ''), EXISTS (SELECT 1 FROM sales_order_lines l WHERE l.order_id = o.id "
               "AND l.qty_dispatched > 0), COALESCE(o.branch, '') FROM sales_orders o "
               "WHERE o.integration_id = ?1 AND o.source = 'amazon' AND o.order_ref = ?2 ORDER BY o.split_no",
    [S_KEPT] = "SELECT amazon_status, fulfilled_by, service_level, programs, currency, total, shipping_total, buyer_name, "
               "buyer_email, buyer_company, ship_name, ship_company, ship_line1, ship_line2, ship_line3, ship_city, "
               "ship_state, ship_postal, ship_country, ship_phone, updated_time FROM sales_orders WHERE id = ?1",
    /* the lines as Amazon sent them (kit components are ours), summed over the splits */
    [S_TOP_LINES] = "SELECT COALESCE(l.item_id, ''), l.sku, SUM(l.qty), MIN(COALESCE(l.unit_price, '')) "
                    "FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id WHERE o.integration_id = ?1 "
                    "AND o.source = 'amazon' AND o.order_ref = ?2 AND l.kit_sku IS NULL GROUP BY 1, 2 ORDER BY 1, 2",
    /* what people decided by hand (sb_orders_fix writes these rows); rows from before
     * "moved" was written count as a chosen branch */
    [S_PERSON] = "SELECT COALESCE(json_extract(decision, '$.branch'), ''), COALESCE(json_extract(decision, '$.moved'), 1), "
                 "COALESCE(json_extract(decision, '$.resolved'), 0) FROM audit WHERE integration_id = ?1 "
                 "AND order_ref = ?2 AND hook = 'person' ORDER BY id",
    /* the lines that already left the warehouse */
    /* which path brought a new order: the scheduled download or a notification */
    [S_CAME_BY] = "UPDATE sales_orders SET came_by = ?3 WHERE integration_id = ?1 AND source = 'amazon' "
                  "AND order_ref = ?2 AND came_by IS NULL",
    [S_LEFT_LINES] = "SELECT l.sku, SUM(l.qty_dispatched), SUM(l.qty) FROM sales_order_lines l "
                     "JOIN sales_orders o ON o.id = l.order_id WHERE o.integration_id = ?1 AND o.source = 'amazon' "
                     "AND o.order_ref = ?2 AND l.kit_sku IS NULL AND l.qty_dispatched > 0 GROUP BY 1 ORDER BY 1",
};

typedef struct octx {
    sb_engine *e;
    sqlite3_stmt *st[S_COUNT];
    const char *page;             /* the body of the page being applied */
    size_t page_len;
    int page_orders;              /* how many orders it holds */
    int64_t page_id;              /* its raw_pages row, once an order needed it */
    sb_rules *rules;              /* the state the page is open in (the engine's or its twin) */
    const char *held_key;         /* retry: the key of the held order being run again */
    sqlite3_stmt *audit_st[SB_MAX_AUDIT + 1];   /* audit_rows' statement per row count */
    sb_orders_result *res;
    int64_t watermark;            /* the watermark the window overlaps, and the start the */
    int64_t normal_start;         /* window would have had without the reconciliation (0: none) */
    /* an order stored again because Amazon changed it (update_seen): what it keeps */
    int again;
    int nkeep;                    /* its invoice numbers, split by split */
    char keep_inv[SB_MAX_SPLITS + 1][32], keep_inv_date[SB_MAX_SPLITS + 1][16];
    int keep_open;                /* a person released it: it stays open */
    const char *note;             /* added to its attention reason: what a person's choice overrode */
    const char *relink;           /* stored again by a retry because its SKUs are now products: why */
    const char *came_by;          /* "download" or "notification": recorded on the orders it stores first */
    char err[SB_ERRLEN];
} octx;

/* The statement cache lives in the engine's lifetime: one per engine run. */
static sqlite3_stmt *S(octx *c, int i) {
    if (!c->st[i] && sqlite3_prepare_v3(c->e->store->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i], NULL) != SQLITE_OK) {
        sb_store_error(c->e->store, "preparing", c->err);
        return NULL;
    }
    sqlite3_reset(c->st[i]);
    sqlite3_clear_bindings(c->st[i]);
    return c->st[i];
}

static void octx_done(octx *c) {
    for (int i = 0; i < S_COUNT; i++) sqlite3_finalize(c->st[i]);
    for (int i = 0; i <= SB_MAX_AUDIT; i++) sqlite3_finalize(c->audit_st[i]);
}

static void bt(sqlite3_stmt *st, int i, const char *v) {
    if (v && *v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

static int step_done(octx *c, sqlite3_stmt *st, const char *what) {
    if (!st) return SB_EIO;
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE && r != SQLITE_ROW) return sb_store_error(c->e->store, what, c->err);
    return 0;
}

/* Binds where the order's JSON is kept at (i, i+1, i+2) = raw_json, raw_page_id,
 * raw_index: its own text, or its place in the page, whose row is written the first
 * time an order of the page needs it. keep = 0 binds NULLs (the later parts of a split). */
static int bind_raw(octx *c, sqlite3_stmt *st, int i, const sb_order *o, int keep) {
    sqlite3_bind_null(st, i);
    sqlite3_bind_null(st, i + 1);
    sqlite3_bind_null(st, i + 2);
    if (!keep) return 0;
    if (o->raw_json) {
        bt(st, i, o->raw_json);
        return 0;
    }
    if (!c->page) return 0;
    if (!c->page_id) {
        sqlite3_stmt *p = S(c, S_RAW_PAGE);
        if (!p) return SB_EIO;
        sqlite3_bind_int64(p, 1, c->e->integ);
        sqlite3_bind_text(p, 2, c->page, (int)c->page_len, SQLITE_STATIC);
        sqlite3_bind_int(p, 3, c->page_orders);
        int rc = step_done(c, p, "storing the orders page");
        sqlite3_reset(p);
        if (rc) return rc;
        c->page_id = sqlite3_last_insert_rowid(c->e->store->db);
    }
    sqlite3_bind_int64(st, i + 1, c->page_id);
    sqlite3_bind_int(st, i + 2, o->page_index);
    return 0;
}

/* Audit rows, one per entry, written by one multi-row INSERT (a statement per row cost
 * more than the rows); the statement for each row count is prepared once. */
static int audit_rows(octx *c, const char *ref, const sb_audit_entry *a, int n) {
    if (n <= 0) return 0;
    if (n > SB_MAX_AUDIT) n = SB_MAX_AUDIT;
    if (!c->audit_st[n]) {
        char q[1024];
        int len = snprintf(q, sizeof q, "INSERT INTO audit(integration_id, order_ref, hook, decision, pack_hash, at) VALUES ");
        for (int i = 0; i < n; i++)
            len += snprintf(q + len, sizeof q - (size_t)len, "%s(?1,?2,?%d,?%d,?3,?4)", i ? "," : "", 5 + 2 * i, 6 + 2 * i);
        if (sqlite3_prepare_v3(c->e->store->db, q, -1, SQLITE_PREPARE_PERSISTENT, &c->audit_st[n], NULL) != SQLITE_OK)
            return sb_store_error(c->e->store, "preparing audit", c->err);
    }
    sqlite3_stmt *st = c->audit_st[n];
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, c->e->integ);
    bt(st, 2, ref);
    bt(st, 3, c->e->rules ? sb_rules_hash(c->e->rules) : NULL);
    bt(st, 4, sb_store_now(c->e->store));
    for (int i = 0; i < n; i++) {
        bt(st, 5 + 2 * i, a[i].hook);
        sqlite3_bind_text(st, 6 + 2 * i, a[i].decision_json ? a[i].decision_json : "{}", -1, SQLITE_STATIC);
    }
    return step_done(c, st, "writing audit");
}

static int audit(octx *c, const char *ref, const char *hook, const char *decision) {
    sb_audit_entry a = {hook, decision};
    return audit_rows(c, ref, &a, 1);
}

static int set_stage(octx *c, int64_t oid, const char *stage, const char *reason) {
    sqlite3_stmt *st = S(c, S_SET_STAGE);
    if (!st) return SB_EIO;
    sqlite3_bind_int64(st, 1, oid);
    bt(st, 2, stage);
    bt(st, 3, reason);
    return step_done(c, st, "updating order stage");
}

static int64_t find_first(octx *c, const char *ref, char *stage, size_t stagelen) {
    sqlite3_stmt *st = S(c, S_FIND);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, c->e->integ);
    bt(st, 2, ref);
    int64_t id = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        snprintf(stage, stagelen, "%s", sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    return id;
}

/* Deletes every row of a held order so it can be stored again from scratch. */
static int delete_order(octx *c, const char *ref) {
    char stage[24];
    int64_t id;
    int rc = 0;
    while (!rc && (id = find_first(c, ref, stage, sizeof stage)) > 0) {
        if (!(rc = sb_store_reserve_order(c->e->store, id, NULL, -1, c->err))) {
            sqlite3_stmt *st = S(c, S_DELETE);
            if (!st) return SB_EIO;
            sqlite3_bind_int64(st, 1, id);
            rc = step_done(c, st, "deleting held order");
        }
    }
    return id < 0 ? SB_EIO : rc;
}

/* Binds the buyer's contact details at first .. first+9: e-mail, name, company, phone,
 * address lines 1 and 2, city, state, postcode, country. */
static void bind_contact(sqlite3_stmt *st, int first, const sb_order *o, const char *name) {
    const sb_address *a = &o->ship;
    const char *v[] = {o->buyer_email, name, o->buyer_company, a->phone, a->line1, a->line2, a->city, a->state,
                       a->postal, a->country};
    for (int i = 0; i < (int)(sizeof v / sizeof v[0]); i++) bt(st, first + i, v[i]);
}

static int64_t resolve_customer(octx *c, const sb_order *o, const sb_decision *d, int *rc) {
    sqlite3_stmt *st;
    *rc = 0;
    switch (d->customer_action) {
    case SB_CUST_INSERT:
        if (!(st = S(c, S_CUST_INSERT))) { *rc = SB_EIO; return 0; }
        sqlite3_bind_int64(st, 1, c->e->integ);
        bt(st, 2, d->customer_key);
        bt(st, 13, d->customer_group);
        if (d->customer_name) bt(st, 4, d->customer_name);   /* its own (e.g. anonymous buyers') */
        else bind_contact(st, 3, o, o->buyer_name && *o->buyer_name ? o->buyer_name : o->ship.name);
        bt(st, 14, sb_store_now(c->e->store));
        if ((*rc = step_done(c, st, "creating customer"))) return 0;
        return sqlite3_last_insert_rowid(c->e->store->db);
    case SB_CUST_UPDATE:
        if (!(st = S(c, S_CUST_UPDATE))) { *rc = SB_EIO; return 0; }
        sqlite3_bind_int64(st, 1, d->customer_id);
        bind_contact(st, 2, o, o->buyer_name);
        bt(st, 12, d->customer_key);
        bt(st, 13, sb_store_now(c->e->store));
        sqlite3_bind_int64(st, 14, sb_settings_bool(&c->e->settings, "orders.shared_customers") ? -1 : c->e->integ);
        if ((*rc = step_done(c, st, "updating customer"))) return 0;
        if (sqlite3_changes(c->e->store->db) == 0) {
            *rc = sb_seterr(c->err, SB_ERULE, "customer id %lld is not a customer of integration '%s'",
                            (long long)d->customer_id, c->e->name);
            return 0;
        }
        return d->customer_id;
    case SB_CUST_KEEP: case SB_CUST_SELECTED:
        return d->customer_id;
    default:
        return 0;
    }
}

typedef struct product_row { int64_t id; int tracked, kit; } product_row;

static int product_of(octx *c, const char *sku, product_row *p) {
    memset(p, 0, sizeof *p);
    sqlite3_stmt *st = S(c, S_PRODUCT);
    if (!st || !sku) return -1;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        p->id = sqlite3_column_int64(st, 0);
        p->tracked = sqlite3_column_int(st, 1);
        p->kit = sqlite3_column_int(st, 2);
    }
    sqlite3_reset(st);
    return found ? 0 : -1;
}

static int insert_line(octx *c, int64_t oid, int line_no, const sb_order_line *l, const char *sku,
                       const char *title, int64_t product, double qty, const char *kit_sku, int stock_bearing) {
    sqlite3_stmt *st = S(c, S_LINE);
    if (!st) return SB_EIO;
    sqlite3_bind_int64(st, 1, oid);
    sqlite3_bind_int(st, 2, line_no);
    bt(st, 3, l ? l->item_id : NULL);
    bt(st, 4, sku);
    bt(st, 5, l && !kit_sku ? l->asin : NULL);
    bt(st, 6, title);
    if (product) sqlite3_bind_int64(st, 7, product); else sqlite3_bind_null(st, 7);
    sqlite3_bind_double(st, 8, qty);
    bt(st, 9, l && !kit_sku ? l->unit_price : NULL);
    bt(st, 10, l && !kit_sku ? l->line_total : NULL);
    bt(st, 11, kit_sku);
    sqlite3_bind_int(st, 12, stock_bearing);
    return step_done(c, st, "storing order line");
}

/* Stores one split: its lines (kits expanded when enabled), then judges whether it can
 * be dispatched now and reserves its stock. A kit with no components carries its own. */
static int store_split(octx *c, int64_t oid, const sb_order *o, const sb_split *sp, int whole,
                       const char *branch, int *dispatchable, char *attention, size_t attlen) {
    int rc = 0, line_no = 0;
    int bom = sb_settings_bool(&c->e->settings, "orders.bom_expand");
    int nlines = whole ? o->nlines : sp->nlines;
    for (int k = 0; k < nlines && !rc; k++) {
        const sb_order_line *l = whole ? &o->lines[k] : &o->lines[sp->lines[k].line];
        double qty = whole ? l->qty : sp->lines[k].qty;
        product_row p;
        if (product_of(c, l->sku, &p) != 0) {
            size_t n = strlen(attention);
            snprintf(attention + n, attlen - n, "%sSKU '%s' is not a product", n ? "; " : "", l->sku ? l->sku : "(none)");
            *dispatchable = 0;
        }
        if (!(bom && p.kit)) {
            rc = insert_line(c, oid, ++line_no, l, l->sku, l->title, p.id, qty, NULL, 1);
            continue;
        }
        /* the kit line stays for the invoice; its components carry the stock */
        int kit_line = ++line_no, nc = 0;
        if ((rc = insert_line(c, oid, kit_line, l, l->sku, l->title, p.id, qty, NULL, 0))) break;
        sqlite3_stmt *st = S(c, S_BOM);
        if (!st) return SB_EIO;
        sqlite3_bind_int64(st, 1, p.id);
        while (!rc && sqlite3_step(st) == SQLITE_ROW) {
            nc++;
            rc = insert_line(c, oid, ++line_no, l, (const char *)sqlite3_column_text(st, 1),
                             (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 0),
                             sqlite3_column_double(st, 3) * qty, l->sku, 1);
        }
        sqlite3_reset(st);
        if (!rc && nc == 0) {
            char q[160];
            snprintf(q, sizeof q, "UPDATE sales_order_lines SET stock_bearing = 1 WHERE order_id = %lld AND line_no = %d",
                     (long long)oid, kit_line);
            rc = sb_store_exec(c->e->store, q, c->err);
        }
    }
    if (rc) return rc;
    if (!*dispatchable) return sb_store_reserve_order(c->e->store, oid, branch, +1, c->err);
    /* can it be dispatched now? every stock-bearing line a product, untracked, in stock */
    sqlite3_stmt *st = S(c, S_SPLIT_LINES), *av;
    if (!st) return SB_EIO;
    sqlite3_bind_int64(st, 1, oid);
    while (*dispatchable && sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL || sqlite3_column_int(st, 2)) { *dispatchable = 0; break; }
        if (!(av = S(c, S_STOCK_AVAIL))) { sqlite3_reset(st); return SB_EIO; }
        sqlite3_bind_int64(av, 1, sqlite3_column_int64(st, 0));
        bt(av, 2, branch);
        double avail = sqlite3_step(av) == SQLITE_ROW ? sqlite3_column_double(av, 0) : 0;
        sqlite3_reset(av);
        if (avail < sqlite3_column_double(st, 1)) *dispatchable = 0;
    }
    sqlite3_reset(st);
    return sb_store_reserve_order(c->e->store, oid, branch, +1, c->err);
}

static int dispatch_now(octx *c, int64_t oid, const char *branch) {
    int rc = 0;
    sqlite3_stmt *st = S(c, S_OPEN_LINES), *u;
    if (!st) return SB_EIO;
    sqlite3_bind_int64(st, 1, oid);
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {   /* the stock rows it changes are not read here */
        if (!(u = S(c, S_ON_HAND))) { rc = SB_EIO; break; }
        sqlite3_bind_int64(u, 1, sqlite3_column_int64(st, 0));
        bt(u, 2, branch);
        sqlite3_bind_double(u, 3, sqlite3_column_double(st, 2));
        rc = step_done(c, u, "dispatching stock");
    }
    sqlite3_reset(st);
    if (rc) return rc;
    if (!(st = S(c, S_DISPATCH_LINE))) return SB_EIO;
    sqlite3_bind_int64(st, 1, oid);
    if ((rc = step_done(c, st, "dispatching lines"))) return rc;
    char now[32];
    sb_time_format(sb_now(), now, sizeof now);
    char q[200];
    snprintf(q, sizeof q, "UPDATE sales_orders SET stage = 'dispatched', auto_dispatched = 1, dispatched_at = '%s' WHERE id = %lld",
             now, (long long)oid);
    return sb_store_exec(c->e->store, q, c->err);
}

/* A new order: the sales order(s), customer, lines, stock, invoice, audit. */
static int store_new(octx *c, const sb_order *o, const sb_decision *d, int norm_rc, const char *norm_err,
                     const char *ref) {
    sb_engine *e = c->e;
    const char *stage = "open";
    char attention[1024] = "";
    const char *rule_error = NULL;
    int rc = 0;
    if (norm_rc) {
        stage = "rejected";
        rule_error = norm_err;
    } else if (d->error) {
        stage = "rule_error";
        rule_error = d->error;
    } else if (d->attention) {
        stage = "needs_attention";
        snprintf(attention, sizeof attention, "%s", d->attention_reason ? d->attention_reason : "needs attention");
    }
    int held = norm_rc || d->error;
    if (c->again && c->keep_open && !held && !strcmp(stage, "needs_attention")) stage = "open";  /* a person's */
    if (c->again && c->note && !held) {
        size_t n = strlen(attention);
        snprintf(attention + n, sizeof attention - n, "%s%s", n ? "; " : "", c->note);
    }
    /* Already cancelled by Amazon when first seen: stored cancelled, reserving nothing,
     * which is the state a repeated pass reaches through update_seen; otherwise a crash
     * that repeats the window would release stock an uninterrupted run keeps reserved. */
    int cancelled = !held && o->status && !strcmp(o->status, "CANCELLED");
    if (cancelled) stage = "cancelled";
    int64_t customer = 0;
    if (!held && (customer = resolve_customer(c, o, d, &rc), rc)) return rc;
    int whole = held || d->nsplits < 1;     /* no routing decision: lines as Amazon sent them */
    int nsplits = whole ? 1 : d->nsplits;
    int fba = o->fulfilled_by && !strcmp(o->fulfilled_by, "AMAZON");
    int individual = !strcmp(sb_settings_str(&e->settings, "orders.invoice_mode"), "individual");
    int auto_dispatch = sb_settings_bool(&e->settings, "orders.auto_dispatch");
    for (int k = 0; k < nsplits && !rc; k++) {
        const char *branch = whole ? NULL : d->splits[k].branch;
        char invoice_no[32] = "";
        const char *invoice_date = e->today;
        if (individual && !held && c->again && k < c->nkeep && c->keep_inv[k][0]) {
            /* stored again: the number it was given stays (no gap in the sequence) */
            snprintf(invoice_no, sizeof invoice_no, "%s", c->keep_inv[k]);
            if (c->keep_inv_date[k][0]) invoice_date = c->keep_inv_date[k];
        } else if (individual && !held) {
            sqlite3_stmt *st = S(c, S_INVOICE_NO);
            if (!st) return SB_EIO;
            sqlite3_bind_int64(st, 1, e->integ);
            if (sqlite3_step(st) == SQLITE_ROW) snprintf(invoice_no, sizeof invoice_no, "INV-%06lld", (long long)sqlite3_column_int64(st, 0));
            sqlite3_reset(st);
        }
        sqlite3_stmt *st = S(c, S_INSERT);
        if (!st) return SB_EIO;
        const sb_address *a = &o->ship;
        sqlite3_bind_int64(st, 1, e->integ);
        bt(st, 2, ref);
        sqlite3_bind_int(st, 3, k);
        bt(st, 4, o->marketplace_id);
        bt(st, 5, o->status);
        bt(st, 6, stage);
        bt(st, 7, o->fulfilled_by);
        bt(st, 8, o->service_level);
        bt(st, 9, o->programs);
        bt(st, 10, o->created);
        bt(st, 11, o->updated);
        bt(st, 12, branch);
        bt(st, 13, held ? NULL : d->distribution_branch);
        if (customer) sqlite3_bind_int64(st, 14, customer); else sqlite3_bind_null(st, 14);
        bt(st, 15, held ? NULL : d->gl_account);
        bt(st, 16, invoice_no);
        bt(st, 17, *invoice_no ? invoice_date : NULL);
        bt(st, 18, o->currency);
        bt(st, 19, k == 0 ? o->total : NULL);
        bt(st, 20, k == 0 ? o->shipping_total : "0");
        bt(st, 21, o->buyer_name);
        bt(st, 22, o->buyer_email);
        bt(st, 23, o->buyer_company);
        bt(st, 24, a->name);
        bt(st, 25, a->company);
        bt(st, 26, a->line1);
        bt(st, 27, a->line2);
        bt(st, 28, a->line3);
        bt(st, 29, a->city);
        bt(st, 30, a->state);
        bt(st, 31, a->postal);
        bt(st, 32, a->country);
        bt(st, 33, a->phone);
        bt(st, 34, *attention ? attention : NULL);
        bt(st, 35, rule_error);
        bt(st, 36, e->rules ? sb_rules_hash(e->rules) : NULL);
        bt(st, 40, sb_store_now(e->store));
        if ((rc = bind_raw(c, st, 37, o, k == 0)) || (rc = step_done(c, st, "storing order"))) break;
        int64_t oid = sqlite3_last_insert_rowid(e->store->db);
        int dispatchable = auto_dispatch && !held && !d->attention && !fba;   /* judged only when it matters */
        char line_attention[512] = "";
        rc = store_split(c, oid, o, whole ? NULL : &d->splits[k], whole, branch,
                         &dispatchable, line_attention, sizeof line_attention);
        if (rc) break;
        if (*line_attention && !held) {
            /* a line the inventory does not know cannot reserve stock: a person decides */
            char both[1600];
            snprintf(both, sizeof both, "%s%s%s", attention, *attention ? "; " : "", line_attention);
            if (!strcmp(stage, "open") && !(c->again && c->keep_open)) rc = set_stage(c, oid, "needs_attention", both);
            else rc = set_stage(c, oid, stage, both);
            if (k == 0 && !strcmp(stage, "open")) c->res->held++;
            if (rc) break;
            continue;
        }
        if (auto_dispatch && dispatchable && !strcmp(stage, "open")) {
            if ((rc = dispatch_now(c, oid, branch))) break;
            if (k == 0) c->res->dispatched++;
        }
    }
    if (rc) return rc;
    if (norm_rc) { c->res->rejected++; return audit(c, ref, "normalise", "{\"error\":\"rejected\"}"); }
    if (d->error) c->res->rule_errors++;
    else if (cancelled) c->res->cancelled++;
    else if (d->attention) c->res->held++;
    c->res->created++;
    return audit_rows(c, ref, d->audit, d->naudit);
}

/* ---- an order seen again: it follows Amazon until it leaves the warehouse ----
 * What Amazon changed is found by comparing what is stored with what came (no write when
 * nothing did: the overlap's repeats cost calls only). An order nothing of which has left
 * is stored again from scratch in this transaction, with the hooks run on what came:
 * reservations released and made again from the new lines, the invoice number kept, and
 * what a person decided (a branch, a release) kept over the rules, the difference shown in
 * its attention reason. An order of which something has left is not changed: a person is
 * told what Amazon changed (or that it was cancelled, and which lines had left). */

/* An order new or changed, though Amazon last changed it before the watermark: listed
 * late, found by the overlap (or only by the reconciliation, before the overlap's start). */
static void note_late(octx *c, const sb_order *o, const char *what) {
    int64_t t = o->updated && c->watermark ? sb_time_parse(o->updated) : -1;
    if (t < 0) return;
    if (c->normal_start && t < c->normal_start) {
        c->res->missed++;
        sb_warn("orders: %s%s (last updated %s) was missed by the windows and found by the daily reconciliation "
                "integration=%s; a larger orders.overlap_minutes would have found it sooner", o->order_id, what,
                o->updated, c->e->name);
    } else if (t < c->watermark) {
        c->res->late++;
        sb_info("orders: %s%s (last updated %s) was listed late and found by the overlap integration=%s",
                o->order_id, what, o->updated, c->e->name);
    }
}

typedef struct order_diff {
    int status;                   /* the fulfillment status changed */
    int fields;                   /* another field the engine keeps changed */
    int lines;                    /* lines or quantities changed */
    int time;                     /* lastUpdatedTime changed */
    int older;                    /* Amazon's answer is older than what is stored (a stale replica, a
                                   * notification's getOrder overtaken by a later download) */
    char text[768];               /* "qty MUG-BLK-12 2 -> 1; city Austin -> Dallas" */
} order_diff;

static int same(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

static void diff_add(order_diff *df, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diff_add(order_diff *df, const char *fmt, ...) {
    char one[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(one, sizeof one, fmt, ap);
    va_end(ap);
    size_t n = strlen(df->text);
    if (n + strlen(one) + 8 >= sizeof df->text) {
        if (n + 6 < sizeof df->text && (n < 5 || strcmp(df->text + n - 5, "; ..."))) snprintf(df->text + n, sizeof df->text - n, "; ...");
        return;
    }
    snprintf(df->text + n, sizeof df->text - n, "%s%s", n ? "; " : "", one);
}

typedef struct stored_line { char item[64], sku[128], price[32]; double qty; int seen; } stored_line;

/* Compares the order as stored (its first row, and its lines over every split) with o. */
static int order_diff_of(octx *c, int64_t first, const sb_order *o, order_diff *df) {
    memset(df, 0, sizeof *df);
    sqlite3_stmt *st = S(c, S_KEPT);
    if (!st) return SB_EIO;
    sqlite3_bind_int64(st, 1, first);
    if (sqlite3_step(st) != SQLITE_ROW) { sqlite3_reset(st); return sb_seterr(c->err, SB_EIO, "order %s: its row is gone", o->order_id); }
    const sb_address *a = &o->ship;
    const char *now[] = {o->status, o->fulfilled_by, o->service_level, o->programs, o->currency, o->total,
                         o->shipping_total, o->buyer_name, o->buyer_email, o->buyer_company, a->name, a->company,
                         a->line1, a->line2, a->line3, a->city, a->state, a->postal, a->country, a->phone};
    static const char *const label[] = {"status", "fulfilled by", "service level", "programs", "currency", "total",
                                        "shipping", "buyer name", "buyer e-mail", "buyer company", "delivery name",
                                        "delivery company", "address line 1", "address line 2", "address line 3",
                                        "city", "state", "postal code", "country", "phone"};
    for (int i = 0; i < (int)(sizeof now / sizeof *now); i++) {
        const char *was = (const char *)sqlite3_column_text(st, i);
        if (same(was, now[i])) continue;
        if (i == 0) df->status = 1; else df->fields = 1;
        diff_add(df, "%s %.60s -> %.60s", label[i], was && *was ? was : "(none)", now[i] && *now[i] ? now[i] : "(none)");
    }
    const char *was_updated = (const char *)sqlite3_column_text(st, 20);
    df->time = !same(was_updated, o->updated);
    if (df->time && was_updated && o->updated) {
        int64_t was_ms = sb_time_parse_ms(was_updated), now_ms = sb_time_parse_ms(o->updated);
        df->older = was_ms >= 0 && now_ms >= 0 && now_ms < was_ms;
    }
    sqlite3_reset(st);
    /* the lines, matched on Amazon's orderItemId (the SKU when it has none) */
    stored_line *sl = NULL;
    int n = 0, cap = 0, rc = 0;
    if (!(st = S(c, S_TOP_LINES))) return SB_EIO;
    sqlite3_bind_int64(st, 1, c->e->integ);
    bt(st, 2, o->order_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            int nc = cap ? cap * 2 : 16;
            stored_line *t = nc <= 10000 ? realloc(sl, (size_t)nc * sizeof *sl) : NULL;
            if (!t) { rc = sb_seterr(c->err, SB_ENOMEM, "order %s: too many lines to compare", o->order_id); break; }
            sl = t;
            cap = nc;
        }
        stored_line *l = &sl[n++];
        snprintf(l->item, sizeof l->item, "%s", sqlite3_column_text(st, 0));
        snprintf(l->sku, sizeof l->sku, "%s", sqlite3_column_text(st, 1));
        l->qty = sqlite3_column_double(st, 2);
        snprintf(l->price, sizeof l->price, "%s", sqlite3_column_text(st, 3));
        l->seen = 0;
    }
    sqlite3_reset(st);
    for (int i = 0; i < o->nlines && !rc; i++) {
        const sb_order_line *ol = &o->lines[i];
        const char *sku = ol->sku ? ol->sku : "";
        stored_line *m = NULL;
        for (int k = 0; k < n && !m; k++)
            if (!sl[k].seen && (ol->item_id && *ol->item_id ? !strcmp(sl[k].item, ol->item_id) : !*sl[k].item && !strcmp(sl[k].sku, sku)))
                m = &sl[k];
        if (!m) { df->lines = 1; diff_add(df, "line %.60s added (qty %g)", sku, ol->qty); continue; }
        m->seen = 1;
        if (strcmp(m->sku, sku)) { df->lines = 1; diff_add(df, "sku %.60s -> %.60s", m->sku, sku); }
        if (m->qty - ol->qty > 1e-9 || ol->qty - m->qty > 1e-9) { df->lines = 1; diff_add(df, "qty %.60s %g -> %g", sku, m->qty, ol->qty); }
        if (!same(m->price, ol->unit_price)) {
            df->fields = 1;
            diff_add(df, "price %.60s %.20s -> %.20s", sku, *m->price ? m->price : "(none)", ol->unit_price && *ol->unit_price ? ol->unit_price : "(none)");
        }
    }
    for (int k = 0; k < n && !rc; k++)
        if (!sl[k].seen) { df->lines = 1; diff_add(df, "line %.60s removed (qty %g)", sl[k].sku, sl[k].qty); }
    free(sl);
    return rc;
}

/* "MUG-BLK-12 1 of 2, SPOON-SET-4 1 of 1": the lines of order ref that already left. */
static int left_lines(octx *c, const char *ref, char *out, size_t len) {
    sqlite3_stmt *st = S(c, S_LEFT_LINES);
    if (!st) return SB_EIO;
    out[0] = '\0';
    sqlite3_bind_int64(st, 1, c->e->integ);
    bt(st, 2, ref);
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%.60s %g of %g", n ? ", " : "", sqlite3_column_text(st, 0),
                 sqlite3_column_double(st, 1), sqlite3_column_double(st, 2));
    }
    sqlite3_reset(st);
    return 0;
}

/* The branch a person chose (out[0] = 0: none) and whether a person released the order. */
static int person_choices(octx *c, const char *ref, char *branch, size_t len, int *released) {
    sqlite3_stmt *st = S(c, S_PERSON);
    if (!st) return SB_EIO;
    branch[0] = '\0';
    *released = 0;
    sqlite3_bind_int64(st, 1, c->e->integ);
    bt(st, 2, ref);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *b = (const char *)sqlite3_column_text(st, 0);
        if (sqlite3_column_int(st, 1) && b && *b) snprintf(branch, len, "%s", b);
        if (sqlite3_column_int(st, 2)) *released = 1;
    }
    sqlite3_reset(st);
    return 0;
}

/* The audit row of what Amazon changed: {"action": ..., "changes": "...", ...}. */
static int audit_amazon(octx *c, const char *ref, const char *action, const char *changes, const char *k2, const char *v2) {
    sb_buf b;
    sb_buf_init(&b, 16384);
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "action", action);
    sb_jw_kstr(&w, "changes", changes);
    if (k2 && v2 && *v2) sb_jw_kstr(&w, k2, v2);
    sb_jw_end_obj(&w);
    int rc = sb_jw_error(&w) ? sb_seterr(c->err, SB_ENOMEM, "order %s: audit too large", ref)
                             : audit(c, ref, "amazon", b.data);
    sb_buf_free(&b);
    return rc;
}

typedef struct seen_row {
    int64_t id;
    char stage[24], inv[32], inv_date[16], branch[128];
    int dispatched, some_left;    /* all of it left / some line has left */
} seen_row;

/* The light refresh: status, lastUpdatedTime and where the JSON is, on every row. */
static int refresh_rows(octx *c, const sb_order *o, const seen_row *rows, int n) {
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        sqlite3_stmt *u = S(c, S_UPDATE_SEEN);
        if (!u) return SB_EIO;
        sqlite3_bind_int64(u, 1, rows[i].id);
        bt(u, 2, o->status);
        bt(u, 3, o->updated);
        if (!(rc = bind_raw(c, u, 4, o, i == 0))) rc = step_done(c, u, "updating order");
    }
    return rc;
}

static int store_new(octx *c, const sb_order *o, const sb_decision *d, int norm_rc, const char *norm_err,
                     const char *ref);
static int delete_order(octx *c, const char *ref);

/* The audit row of a retry that linked an order's lines: {"action": "relink", "why": ...}. */
static int audit_relink(octx *c, const char *ref, const char *why) {
    sb_buf b;
    sb_buf_init(&b, 4096);
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "action", "relink");
    sb_jw_kstr(&w, "why", why);
    sb_jw_end_obj(&w);
    int rc = sb_jw_error(&w) ? sb_seterr(c->err, SB_ENOMEM, "order %s: audit too large", ref) : audit(c, ref, "retry", b.data);
    sb_buf_free(&b);
    return rc;
}

/* Stores an order that nothing has left of again from what Amazon now says, keeping its
 * invoice numbers and what a person decided. */
static int store_again(octx *c, const sb_order *o, const sb_decision *d, const seen_row *rows, int n,
                       const order_diff *df) {
    char pbranch[128], note[512] = "";
    int released = 0, rc;
    sb_split_line *all = NULL;
    sb_decision d2 = *d;
    if ((rc = person_choices(c, o->order_id, pbranch, sizeof pbranch, &released))) return rc;
    if (*pbranch) {
        /* the branch a person chose stays; the whole order goes there */
        const char *route = d->nsplits >= 1 ? d->splits[0].branch : NULL;
        if (d->nsplits > 1 || !same(route, pbranch))
            snprintf(note, sizeof note, "%s (%.200s): kept branch %s a person chose; the rules now give %s%s",
                     c->relink ? "Stored again" : "Amazon changed the order", df->text, pbranch, route && *route ? route : "no branch", d->nsplits > 1 ? " and more (a split)" : "");
        all = calloc((size_t)(o->nlines > 0 ? o->nlines : 1), sizeof *all);
        if (!all) return sb_seterr(c->err, SB_ENOMEM, "order %s: out of memory", o->order_id);
        for (int i = 0; i < o->nlines; i++) all[i] = (sb_split_line){i, o->lines[i].qty};
        d2.nsplits = 1;
        d2.splits[0] = (sb_split){pbranch, o->nlines, all};
    }
    int keep_open = released && !strcmp(rows[0].stage, "open");
    if (keep_open && d->attention) {
        size_t k = strlen(note);
        snprintf(note + k, sizeof note - k, "%s%s (%.200s): kept open as a person released it; the rules now say: %.150s",
                 k ? "; " : "", c->relink ? "Stored again" : "Amazon changed the order", df->text, d->attention_reason ? d->attention_reason : "needs attention");
    }
    c->nkeep = n;
    for (int i = 0; i < n && i <= SB_MAX_SPLITS; i++) {
        snprintf(c->keep_inv[i], sizeof c->keep_inv[i], "%s", rows[i].inv);
        snprintf(c->keep_inv_date[i], sizeof c->keep_inv_date[i], "%s", rows[i].inv_date);
    }
    c->again = 1;
    c->keep_open = keep_open;
    c->note = *note ? note : NULL;
    long created = c->res->created, held = c->res->held;
    if (!(rc = c->relink ? audit_relink(c, o->order_id, c->relink)
                         : audit_amazon(c, o->order_id, "update", df->text, "kept", *pbranch ? pbranch : NULL)) &&
        !(rc = delete_order(c, o->order_id)))
        rc = store_new(c, o, &d2, 0, NULL, o->order_id);
    c->res->created = created;
    c->res->held = held;
    c->again = c->keep_open = 0;
    c->note = NULL;
    free(all);
    if (!rc) c->res->updated++;
    return rc;
}

/* An order we already have, seen again. decided: the hooks decided it (no rule error, it
 * normalised), so it can follow Amazon; otherwise only its status and JSON are refreshed. */
/* The stored rows (splits) of order ref into rows (at most SB_MAX_SPLITS + 1): their
 * count, or SB_EIO; *live counts those not cancelled, *all_left / *some_left say whether
 * all of those / some line of them left the warehouse. */
static int load_rows(octx *c, const char *ref, seen_row *rows, int *live, int *all_left, int *some_left) {
    sqlite3_stmt *st = S(c, S_ROWS);
    if (!st) return SB_EIO;
    sqlite3_bind_int64(st, 1, c->e->integ);
    bt(st, 2, ref);
    int n = 0;
    *live = 0, *all_left = 1, *some_left = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n <= SB_MAX_SPLITS) {
        seen_row *r = &rows[n++];
        r->id = sqlite3_column_int64(st, 0);
        snprintf(r->stage, sizeof r->stage, "%s", sqlite3_column_text(st, 1));
        r->dispatched = sqlite3_column_int(st, 2) || !strcmp(r->stage, "dispatched");
        snprintf(r->inv, sizeof r->inv, "%s", sqlite3_column_text(st, 3));
        snprintf(r->inv_date, sizeof r->inv_date, "%s", sqlite3_column_text(st, 4));
        r->some_left = r->dispatched || sqlite3_column_int(st, 5);
        snprintf(r->branch, sizeof r->branch, "%s", sqlite3_column_text(st, 6));
        if (strcmp(r->stage, "cancelled")) {
            (*live)++;
            if (!r->dispatched) *all_left = 0;
            if (r->some_left) *some_left = 1;
        }
    }
    sqlite3_reset(st);
    return n;
}

static int update_seen(octx *c, const sb_order *o, const sb_decision *d, int decided) {
    seen_row rows[SB_MAX_SPLITS + 1];
    int rc = 0, all_left = 1, some_left = 0, live = 0;
    int n = load_rows(c, o->order_id, rows, &live, &all_left, &some_left);
    if (n < 0) return n;
    if (n == 0) return 0;
    order_diff df;
    if ((rc = order_diff_of(c, rows[0].id, o, &df))) return rc;
    if (df.older) {
        /* what is stored is newer: the answer is not followed back in time */
        c->res->unchanged++;
        c->res->stale++;
        return 0;
    }
    if (!df.status && !df.fields && !df.lines) {
        /* nothing the engine keeps changed: no write at all, or only Amazon's time */
        c->res->unchanged++;
        return df.time ? refresh_rows(c, o, rows, n) : 0;
    }
    note_late(c, o, ", changed,");
    int cancelled = o->status && !strcmp(o->status, "CANCELLED");
    int again = !cancelled && live && decided && !some_left &&
                (df.fields || df.lines || !strcmp(rows[0].stage, "needs_attention"));
    if (!again && (rc = refresh_rows(c, o, rows, n))) return rc;
    if (cancelled) {
        char left[512];
        if (live && some_left && !all_left && (rc = left_lines(c, o->order_id, left, sizeof left))) return rc;
        for (int i = 0; i < n && !rc; i++) {
            if (!strcmp(rows[i].stage, "cancelled")) continue;
            if (all_left) {
                rc = set_stage(c, rows[i].id, "needs_attention", "cancelled by Amazon after it was dispatched");
                if (!rc && i == 0) rc = audit(c, o->order_id, "cancel", "{\"action\":\"flag\",\"reason\":\"cancelled after dispatch\"}");
            } else if (some_left) {
                /* part of it has left: nothing is released until a person decides */
                char why[700];
                snprintf(why, sizeof why, "cancelled by Amazon after part of it was dispatched (already left: %s); "
                         "the rest is still reserved", left);
                if (!rows[i].dispatched) rc = set_stage(c, rows[i].id, "needs_attention", why);
                if (!rc && i == 0) rc = audit_amazon(c, o->order_id, "flag", "cancelled after part of it was dispatched", "left", left);
            } else {
                if (!(rc = sb_store_reserve_order(c->e->store, rows[i].id, NULL, -1, c->err))) rc = set_stage(c, rows[i].id, "cancelled", NULL);
                if (!rc && i == 0) rc = audit(c, o->order_id, "cancel", "{\"action\":\"cancel\",\"released\":true}");
                if (!rc && i == 0) c->res->cancelled++;
            }
        }
        if (!rc) c->res->updated++;
        return rc;
    }
    if (live == 0) {                            /* cancelled here: only the record follows */
        c->res->updated++;
        return audit_amazon(c, o->order_id, "refresh", df.text, NULL, NULL);
    }
    if (some_left) {
        if (!df.fields && !df.lines) {          /* e.g. UNSHIPPED -> SHIPPED: what dispatch leads to */
            c->res->updated++;
            return audit_amazon(c, o->order_id, "refresh", df.text, NULL, NULL);
        }
        char why[1200];
        snprintf(why, sizeof why, "changed by Amazon after %s dispatched: %s", all_left ? "it was" : "part of it was", df.text);
        for (int i = 0; i < n && !rc; i++)
            if (strcmp(rows[i].stage, "cancelled")) rc = set_stage(c, rows[i].id, "needs_attention", why);
        if (!rc) rc = audit_amazon(c, o->order_id, "flag", df.text, NULL, NULL);
        if (!rc) c->res->updated++;
        return rc;
    }
    if (!decided) {
        /* the rules cannot decide it again: a person looks at what Amazon changed */
        if (df.fields || df.lines) {
            char why[1200];
            snprintf(why, sizeof why, "changed by Amazon (%s) but the rules could not decide it again: %.200s",
                     df.text, d && d->error ? d->error : "it could not be read");
            /* one held for a rule error stays so (orders retry runs it from the JSON just kept) */
            for (int i = 0; i < n && !rc; i++)
                if (!strcmp(rows[i].stage, "open") || !strcmp(rows[i].stage, "needs_attention"))
                    rc = set_stage(c, rows[i].id, "needs_attention", why);
        }
        if (!rc) rc = audit_amazon(c, o->order_id, "refresh", df.text, NULL, NULL);
        if (!rc) c->res->updated++;
        return rc;
    }
    /* only the status changed: the hooks run again for an order held for attention (a
     * PENDING order completing), otherwise the status is all there is to follow */
    if (!df.fields && !df.lines && strcmp(rows[0].stage, "needs_attention")) {
        c->res->updated++;
        return audit_amazon(c, o->order_id, "refresh", df.text, NULL, NULL);
    }
    return store_again(c, o, d, rows, n, &df);
}

/* A retry of an order kept for an unknown SKU (held, or released by a person with its
 * line unlinked): stored again from its Amazon JSON exactly as a download stores an
 * order Amazon changed (store_again): lines linked to the products imported since, kits
 * expanded, stock reserved, the hooks' decisions applied, invoice numbers and a person's
 * branch kept. 1 when it cannot be (something of it has left, or it is cancelled), with
 * why in c->err; 0 when stored; negative on a store error. */
static int relink_order(octx *c, const sb_order *o, const sb_decision *d) {
    seen_row rows[SB_MAX_SPLITS + 1];
    int all_left, some_left, live;
    int n = load_rows(c, o->order_id, rows, &live, &all_left, &some_left);
    if (n < 0) return n;
    if (n == 0 || !live) { snprintf(c->err, sizeof c->err, "it is cancelled"); return 1; }
    if (some_left) {
        snprintf(c->err, sizeof c->err, "part of it has left the warehouse; move or dispatch its lines by hand");
        return 1;
    }
    order_diff df;
    memset(&df, 0, sizeof df);
    snprintf(df.text, sizeof df.text, "its SKUs were linked to products");
    c->relink = "a retry: lines linked to the products now known";
    int rc = store_again(c, o, d, rows, n, &df);
    c->relink = NULL;
    return rc;
}

/* The key of an order Amazon sent without an id: a hash of its own JSON, or of its page
 * and its place there, so that a repeated window finds it again and two such orders
 * never share a key. */
static const char *noid_key(const octx *c, const sb_order *o, char *key, size_t len) {
    if (c->held_key) {                          /* a retry: the key it is stored under */
        snprintf(key, len, "%s", c->held_key);
        return key;
    }
    /* the page's own bytes: o->raw_json is re-encoded, in an order that varies by state */
    unsigned char h[SHA256_DIGEST_LENGTH];
    const char *bytes = c->page ? c->page : o->raw_json ? o->raw_json : "";
    size_t n = c->page ? c->page_len : o->raw_json ? strlen(o->raw_json) : 0;
    SHA256((const unsigned char *)bytes, n, h);
    int k = snprintf(key, len, "noid-");
    for (int i = 0; i < 8; i++) k += snprintf(key + k, len - (size_t)k, "%02x", h[i]);
    if (c->page) snprintf(key + k, len - (size_t)k, "-%d", o->page_index);
    return key;
}

static int apply_order(octx *c, const sb_order *o, const sb_decision *d, int norm_rc, const char *norm_err) {
    char stage[24] = "", key[48];
    const char *ref = o->order_id && *o->order_id ? o->order_id : norm_rc ? noid_key(c, o, key, sizeof key) : NULL;
    int64_t existing = ref ? find_first(c, ref, stage, sizeof stage) : 0;
    if (existing < 0) return SB_EIO;
    if (existing > 0 && ref == key) {
        if (!c->held_key) return 0;             /* the same unreadable order, seen again */
        int rc = delete_order(c, ref);          /* a retry: stored again, with today's reason */
        return rc ? rc : store_new(c, o, d, norm_rc, norm_err, ref);
    }
    if (existing > 0) {
        int held = !strcmp(stage, "rule_error") || !strcmp(stage, "rejected");
        if (!held || norm_rc || d->error) return update_seen(c, o, d, !norm_rc && !d->error);
        int rc = delete_order(c, o->order_id);       /* stored again from scratch below */
        if (rc) return rc;
    } else if (!norm_rc && !d->error && !d->download) {
        c->res->skipped++;
        return 0;
    }
    if (norm_rc) sb_warn("order rejected integration=%s order=%s: %s", c->e->name,
                         o->order_id && *o->order_id ? o->order_id : "(no id)", norm_err);
    else if (d->error) sb_warn("order held for a rule error integration=%s order=%s hook=%s: %s",
                               c->e->name, o->order_id, d->error_hook ? d->error_hook : "?", d->error);
    if (existing == 0) note_late(c, o, "");
    int rc = store_new(c, o, d, norm_rc, norm_err, ref ? ref : "");
    if (!rc && c->came_by && ref) {
        sqlite3_stmt *st = S(c, S_CAME_BY);
        if (!st) return SB_EIO;
        sqlite3_bind_int64(st, 1, c->e->integ);
        bt(st, 2, ref);
        bt(st, 3, c->came_by);
        rc = step_done(c, st, "record how the order came");
    }
    return rc;
}

static int stopping(const sb_engine *e) { return e->stop && *e->stop; }

/* Applies the n orders of the page open in rules (body is that page), each in its own
 * transaction: the hooks decide an order while no transaction is open, so a slow rule
 * never holds the database's write lock, and its rows are then written and committed
 * together. The engine stopping is honoured between orders and inside a rule (SB_EINTR:
 * the orders before are kept, the window is repeated). c->err says why on failure. */
static int apply_orders(octx *c, sb_rules *rules, const char *body, size_t len, int n) {
    sb_engine *e = c->e;
    c->rules = rules;
    c->page = body;
    c->page_len = len;
    c->page_orders = n;
    c->page_id = 0;
    for (int i = 0; i < n; i++) {
        sb_order o;
        sb_decision d;
        char nerr[SB_ERRLEN] = "";
        if (stopping(e))
            return sb_seterr(c->err, SB_EINTR, "stopped before order %d of %d", i + 1, n);
        memset(&o, 0, sizeof o);
        memset(&d, 0, sizeof d);
        int nrc = sb_rules_page_order(c->rules, i, &o, &d, nerr);
        if (nrc == SB_EINTR) return sb_seterr(c->err, SB_EINTR, "stopped at order %d of %d: %s", i + 1, n, nerr);
        c->res->fetched++;
        int64_t page_id = c->page_id;           /* a page row written by a rolled-back order goes with it */
        int rc = sb_store_begin(e->store, c->err);
        if (!rc && (rc = apply_order(c, &o, &d, nrc, nerr))) sb_store_rollback(e->store);
        if (!rc) rc = sb_store_commit(e->store, c->err);
        if (rc) {
            char why[SB_ERRLEN];
            snprintf(why, sizeof why, "%s", c->err);
            c->page_id = page_id;
            return sb_seterr(c->err, rc, "order %d of %d (%s) was not stored, the orders before it were: %.300s",
                             i + 1, n, o.order_id && *o.order_id ? o.order_id : "no id", why);
        }
    }
    return 0;
}

/* ---- the next page, fetched and read while this one is applied ----
 * The fetch thread uses e->api alone while it runs (nothing in apply_orders calls
 * Amazon) and writes only its own buffer. Given a second rule state (the engine's twin:
 * the same pack, hash checked, and context), it also decodes the page into it and
 * normalises its orders (sb_rules_page_prepare: the engine's own Lua, no rule, no
 * look-up), so the engine thread is left with the hooks and the database. The engine
 * joins the thread before it touches that buffer, that state or the client again. Every
 * page comes unchecked, read ahead or not (the rule host's decoding is its only one):
 * the engine fetches it again the checked way when it cannot be read. */
/* Where pages come from: Amazon (searchOrders), or pages already in memory (the
 * benchmark). fetch is called by one thread at a time. */
typedef struct page_source {
    int (*fetch)(void *ud, const sb_search_orders_params *p, sb_buf *body, char *err);
    void *ud;
    int again;                    /* fetch can ask for the same page again (by its token) */
} page_source;

static int fetch_amazon(void *ud, const sb_search_orders_params *p, sb_buf *body, char *err) {
    return sb_spapi_search_orders(ud, p, body, err);
}

typedef struct memory_pages {
    char *const *pages;
    const size_t *lens;
    int n, next;
} memory_pages;

static int fetch_memory(void *ud, const sb_search_orders_params *p, sb_buf *body, char *err) {
    memory_pages *m = ud;
    (void)p;
    if (m->next >= m->n) return sb_seterr(err, SB_EINVAL, "no page %d in memory", m->next + 1);
    sb_buf_reset(body);
    if (sb_buf_append(body, m->pages[m->next], m->lens[m->next])) return sb_seterr(err, SB_ENOMEM, "page too large");
    m->next++;
    return 0;
}

typedef struct prefetch {
    pthread_t th;
    int running;
    const page_source *src;
    sb_rules *rules;              /* the state to read the page into, or NULL: fetch only */
    sb_search_orders_params p;
    char token[4096];
    sb_buf body;
    int rc;                       /* of the fetch */
    int read;                     /* 1: the page is open and prepared in rules */
    int n;                        /* its orders */
    char next[4096];              /* its next token */
    char err[SB_ERRLEN];
} prefetch;

static void *prefetch_main(void *arg) {
    prefetch *f = arg;
    char e[SB_ERRLEN];
    const char *next = NULL;
    f->rc = f->src->fetch(f->src->ud, &f->p, &f->body, f->err);
    f->read = 0;
    if (f->rc || !f->rules) return NULL;
    if (sb_rules_page_open(f->rules, f->body.data, f->body.len, &f->n, &next, e) ||
        strlen(next ? next : "") >= sizeof f->next || sb_rules_page_prepare(f->rules, e))
        return NULL;          /* read again by the engine thread, which says why */
    snprintf(f->next, sizeof f->next, "%s", next ? next : "");
    f->read = 1;
    return NULL;
}

/* 0 when the fetch runs in the background; otherwise the caller fetches it itself. */
static int prefetch_start(prefetch *f, const page_source *src, sb_rules *rules, const sb_search_orders_params *p,
                          const char *token) {
    if (strlen(token) >= sizeof f->token) return -1;
    f->src = src;
    f->rules = rules;
    f->p = *p;
    memcpy(f->token, token, strlen(token) + 1);
    f->p.pagination_token = f->token;
    f->p.unchecked = 1;
    f->rc = 0;
    f->read = 0;
    f->err[0] = 0;
    if (pthread_create(&f->th, NULL, prefetch_main, f)) return -1;
    f->running = 1;
    return 0;
}

/* A second state for reading pages ahead, or NULL (then pages are read on the engine
 * thread): loaded from the same pack, and used only when its hash is the engine's, so
 * every order of the pass is decided by the same rules whichever state read it. */
static sb_rules *load_twin(sb_engine *e) {
    char why[SB_ERRLEN];
    sb_rules *t = NULL;
    if (sb_engine_load_pack(e, sb_settings_str(&e->settings, "rules.pack"), &t, why)) return NULL;
    if (strcmp(sb_rules_hash(t), sb_rules_hash(e->rules))) {
        sb_info("orders: the rule pack changed on disk during the pass; pages are read one at a time "
                "integration=%s", e->name);
        sb_rules_free(t);
        return NULL;
    }
    return t;
}

static int prefetch_wait(prefetch *f) {
    if (!f->running) return -1;
    pthread_join(f->th, NULL);
    f->running = 0;
    return 0;
}


/* ---- a window in progress ----
 * After each page of an Amazon window its bounds and the next page's token are kept in
 * sync_state, so a pause for the rate limit, a failure or a restart goes on from the
 * first page not yet stored instead of page 1. Amazon keeps a token 24 hours; one kept
 * longer than 23 is dropped and the window starts again from the watermark. */
#define RESUME_MAX_AGE (23 * 3600)

typedef struct resume {
    char after[32], before[32], token[4096];
    long pages;                   /* pages stored before the token's */
} resume;

static int resume_load(sb_engine *e, resume *r) {
    sqlite3_stmt *st;
    int ok = 0;
    if (sb_store_prepare(e->store, "SELECT resume_after, resume_before, resume_token, resume_saved_at, resume_pages "
                                   "FROM sync_state WHERE integration_id = ?1 AND job = 'orders' "
                                   "AND resume_token IS NOT NULL", &st, NULL)) return 0;
    sqlite3_bind_int64(st, 1, e->integ);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0), *b = (const char *)sqlite3_column_text(st, 1);
        const char *t = (const char *)sqlite3_column_text(st, 2), *at = (const char *)sqlite3_column_text(st, 3);
        const char *wm = sb_settings_str(&e->settings, "orders.last_updated");
        int64_t saved = at ? sb_time_parse(at) : -1;
        if (a && b && t && *t && strlen(t) < sizeof r->token && saved > 0 && sb_now() - saved < RESUME_MAX_AGE &&
            (!*wm || strcmp(b, wm) > 0)) {
            snprintf(r->after, sizeof r->after, "%s", a);
            snprintf(r->before, sizeof r->before, "%s", b);
            snprintf(r->token, sizeof r->token, "%s", t);
            r->pages = sqlite3_column_int64(st, 4);
            ok = 1;
        } else {
            sb_info("orders: the kept page token of window %s..%s is too old or done; the window starts again "
                    "integration=%s", a ? a : "?", b ? b : "?", e->name);
        }
    }
    sqlite3_finalize(st);
    return ok;
}

/* token NULL: the window is done (or starts again from its first page). */
static void resume_save(sb_engine *e, const sb_orders_result *res, const char *token) {
    sqlite3_stmt *st;
    char now[32];
    if (sb_store_prepare(e->store,
            "INSERT INTO sync_state(integration_id, job, resume_after, resume_before, resume_token, resume_saved_at, "
            "resume_pages) VALUES (?1, 'orders', ?2, ?3, ?4, ?5, ?6) ON CONFLICT(integration_id, job) DO UPDATE SET "
            "resume_after = ?2, resume_before = ?3, resume_token = ?4, resume_saved_at = ?5, resume_pages = ?6",
            &st, NULL)) return;
    sqlite3_bind_int64(st, 1, e->integ);
    bt(st, 2, token ? res->after : NULL);
    bt(st, 3, token ? res->before : NULL);
    bt(st, 4, token);
    bt(st, 5, token ? sb_time_format(sb_now(), now, sizeof now) : NULL);
    sqlite3_bind_int64(st, 6, res->pages + (res->resumed_at_page > 0 ? res->resumed_at_page - 1 : 0));
    if (sqlite3_step(st) != SQLITE_DONE)
        sb_warn("orders: cannot keep the window's next page token integration=%s: %s (a restart begins the window "
                "again)", e->name, sqlite3_errmsg(e->store->db));
    sqlite3_finalize(st);
}

static int set_watermark(sb_engine *e, const char *value, char *err) {
    return sb_settings_set_watermark(e->store, e->integ, "orders.last_updated", value, err);
}

static int record_run(sb_engine *e, const sb_orders_result *r, const char *error) {
    char counts[768];
    snprintf(counts, sizeof counts,
             "{\"pages\":%ld,\"fetched\":%ld,\"created\":%ld,\"updated\":%ld,\"skipped\":%ld,\"held\":%ld,"
             "\"rule_errors\":%ld,\"rejected\":%ld,\"cancelled\":%ld,\"dispatched\":%ld,\"unchanged\":%ld,"
             "\"late\":%ld,\"missed\":%ld,\"reconciled\":%s",
             r->pages, r->fetched, r->created, r->updated, r->skipped, r->held, r->rule_errors, r->rejected,
             r->cancelled, r->dispatched, r->unchanged, r->late, r->missed, r->reconciled ? "true" : "false");
    size_t n = strlen(counts);
    if (r->clock_known)
        n += (size_t)snprintf(counts + n, sizeof counts - n, ",\"amazon_clock_skew_ms\":%lld", (long long)r->clock_skew_ms);
    if (r->resumed_at_page > 0)
        n += (size_t)snprintf(counts + n, sizeof counts - n, ",\"resumed_at_page\":%ld", r->resumed_at_page);
    if (r->paused_until > 0) {
        char t[32];
        n += (size_t)snprintf(counts + n, sizeof counts - n, ",\"paused_until\":\"%s\"",
                              sb_time_format(r->paused_until / 1000, t, sizeof t));
    }
    snprintf(counts + n, sizeof counts - n, "}");
    char why[SB_ERRLEN];
    int rc = sb_engine_record_run(e, "orders", error == NULL, error, counts, NULL, why);
    if (rc) sb_warn("orders: the run's result was not recorded integration=%s: %s", e->name, why);
    return rc;
}

/* Applies every page of a window from src, each order in its own transaction; after the
 * last one the orders watermark moves to watermark (when not NULL). The next page is fetched, and
 * read into the twin rule state (rules.read_ahead), while this one is applied. */
static int run_pages(octx *c, const page_source *src, sb_search_orders_params *p, const char *watermark,
                     const char *start_token, char *err) {
    sb_engine *e = c->e;
    sb_orders_result *res = c->res;
    sb_buf body;
    prefetch f = {.running = 0};
    sb_rules *twin = NULL;
    int twin_tried = 0, rc = 0;
    sb_buf_init(&body, (size_t)64 << 20);
    sb_buf_init(&f.body, (size_t)64 << 20);
    char token[4096] = "", next_token[4096] = "";
    if (start_token) snprintf(token, sizeof token, "%s", start_token);
    sb_rules *cur = e->rules;
    for (;;) {
        int unchecked = 0, n = 0, read = 0;
        const char *next = NULL;
        p->pagination_token = *token ? token : NULL;
        if (prefetch_wait(&f) == 0) {
            if ((rc = f.rc)) { sb_seterr(err, rc, "%s", f.err); goto out; }
            sb_buf t = body;
            body = f.body;
            f.body = t;
            unchecked = 1;
            if (f.rules) cur = f.rules;
            if ((read = f.read)) {
                n = f.n;
                memcpy(next_token, f.next, sizeof next_token);
            }
        } else {
            /* the page is decoded once, by the rule host that needs it: the client's own
             * JSON check is skipped when the page can be asked for again, checked */
            sb_search_orders_params once = *p;
            once.unchecked = unchecked = src->again;
            if ((rc = src->fetch(src->ud, &once, &body, err))) goto out;
        }
        res->pages++;
        if (!read) {
            rc = sb_rules_page_open(cur, body.data, body.len, &n, &next, c->err);
            if (rc && unchecked && src->again) {
                sb_warn("orders page %ld could not be read, fetching it again integration=%s: %s",
                        res->pages, e->name, c->err);
                if ((rc = src->fetch(src->ud, p, &body, err))) goto out;
                rc = sb_rules_page_open(cur, body.data, body.len, &n, &next, c->err);
            }
            if (rc) {
                sb_seterr(err, rc, "page %ld of window %s..%s: %s", res->pages, res->after, res->before, c->err);
                goto out;
            }
            snprintf(next_token, sizeof next_token, "%s", next ? next : "");
        }
        if (*next_token && !stopping(e)) {
            if (!twin && !twin_tried) {
                twin_tried = 1;
                if (sb_settings_bool(&e->settings, "rules.read_ahead")) twin = load_twin(e);
            }
            prefetch_start(&f, src, !twin ? NULL : cur == twin ? e->rules : twin, p, next_token);
        }
        if ((rc = apply_orders(c, cur, body.data, body.len, n))) {
            sb_seterr(err, rc, "page %ld of window %s..%s: %s%s", res->pages, res->after, res->before, c->err,
                      rc == SB_EINTR ? "; the window will be repeated" : "");
            goto out;
        }
        /* the watermark moves only once every order of the window is stored */
        if (!*next_token && watermark && (rc = set_watermark(e, watermark, err))) goto out;
        if (watermark) resume_save(e, res, *next_token ? next_token : NULL);
        if (e->progress) e->progress(e->progress_ud, res);
        if (!*next_token) break;
        memcpy(token, next_token, sizeof token);
        if (stopping(e)) {
            rc = sb_seterr(err, SB_EINTR, "stopped after page %ld; the window %s..%s will be repeated",
                           res->pages, res->after, res->before);
            goto out;
        }
    }
out:
    prefetch_wait(&f);           /* a page fetched for nothing: the window is repeated */
    sb_buf_free(&f.body);
    sb_rules_free(twin);
    sb_buf_free(&body);
    return rc;
}

int sb_orders_apply_pages(sb_engine *e, char *const *pages, const size_t *lens, int npages,
                          sb_orders_result *res, char *err) {
    octx c = {.e = e, .res = res};
    memory_pages m = {pages, lens, npages, 0};
    page_source src = {fetch_memory, &m, 0};
    sb_search_orders_params p = {.max_results = SEARCH_PAGE_SIZE};
    memset(res, 0, sizeof *res);
    int rc = npages > 0 ? sb_engine_rules(e, err) : 0;
    if (!rc && npages > 0) rc = run_pages(&c, &src, &p, NULL, NULL, err);
    octx_done(&c);
    return rc;
}

int sb_orders_apply_order(sb_engine *e, const char *body, size_t len, sb_orders_result *res, char *err) {
    memset(res, 0, sizeof *res);
    sb_json *j = NULL;
    sb_buf page;
    sb_buf_init(&page, (size_t)SB_JSON_MAX_BYTES + 64);
    int rc = sb_json_parse(body, len, &j, err);
    int node = rc ? 0 : sb_json_get(j, SB_JSON_ROOT, "order");
    if (!rc && sb_json_type(j, node, NULL) != SB_JSON_OBJ)
        rc = sb_seterr(err, SB_EINVAL, "getOrder's answer has no order object");
    if (!rc && (sb_buf_append(&page, "{\"orders\":[", 11) || sb_json_encode(j, node, &page, err) ||
                sb_buf_append(&page, "]}", 2)))
        rc = rc ? rc : sb_seterr(err, SB_ENOMEM, "getOrder's order does not fit a page");
    sb_json_free(j);
    if (!rc) rc = sb_engine_rules(e, err);
    if (!rc) {
        octx c = {.e = e, .res = res, .came_by = "notification"};
        memory_pages m = {&page.data, &page.len, 1, 0};
        page_source src = {fetch_memory, &m, 0};
        sb_search_orders_params p = {.max_results = 1};
        rc = run_pages(&c, &src, &p, NULL, NULL, err);
        octx_done(&c);
    }
    sb_buf_free(&page);
    return rc;
}

const char *sb_orders_counts(const sb_orders_result *r, char *buf, size_t n) {
    snprintf(buf, n, "%ld order%s in %ld page%s: %ld new, %ld updated, %ld skipped by status, %ld need attention, "
             "%ld rule error%s, %ld rejected, %ld cancelled, %ld auto-dispatched, %ld unchanged", r->fetched,
             r->fetched == 1 ? "" : "s", r->pages, r->pages == 1 ? "" : "s", r->created, r->updated, r->skipped, r->held,
             r->rule_errors, r->rule_errors == 1 ? "" : "s", r->rejected, r->cancelled, r->dispatched, r->unchanged);
    size_t l = strlen(buf);
    if (r->late || r->missed)
        snprintf(buf + l, n - l, "; listed late: %ld found by the overlap, %ld only by the reconciliation", r->late, r->missed);
    return buf;
}

/* Where a pass's window starts: orders.overlap_minutes before the watermark, since Amazon
 * lists some orders after their lastUpdatedTime and such an order would fall into a window
 * already finished; once a day (orders.reconcile_hours > 0) orders.reconcile_hours before
 * its end when that is earlier. *watermark is the watermark (0: none yet), *normal the start
 * without the reconciliation (0 when this pass is none), *reconcile 1 on the reconciliation.
 * Orders are keyed on Amazon's id, so what is read twice costs calls, not writes. */
static int64_t window_start(sb_engine *e, int64_t now, int64_t before, int64_t *watermark, int64_t *normal,
                            int *reconcile) {
    const char *wm = sb_settings_str(&e->settings, "orders.last_updated");
    const char *last = sb_settings_str(&e->settings, "orders.last_reconciled");
    long back_h = sb_settings_int(&e->settings, "orders.reconcile_hours");
    int64_t t = *wm ? sb_time_parse(wm) : -1;
    *watermark = *normal = 0;
    *reconcile = back_h > 0 && (!*last || now - sb_time_parse(last) >= 86400 || sb_time_parse(last) > now);
    if (t < 0) {
        sb_info("no orders watermark yet integration=%s: starting 7 days back", e->name);
        return before - DEFAULT_LOOKBACK;
    }
    *watermark = t;
    int64_t start = t - (int64_t)sb_settings_int(&e->settings, "orders.overlap_minutes") * 60;
    if (!*reconcile || before - (int64_t)back_h * 3600 >= start) return start;
    *normal = start;
    return before - (int64_t)back_h * 3600;
}

int sb_sync_orders(sb_engine *e, sb_orders_result *res, char *err) {
    octx c = {.e = e, .res = res, .came_by = "download"};
    char **mkts = NULL;
    int rc = 0;
    memset(res, 0, sizeof *res);
    if (!sb_settings_bool(&e->settings, "orders.enabled")) {
        sb_info("orders download is off integration=%s (orders.enabled=false)", e->name);
        return 0;
    }
    if ((rc = sb_engine_rules(e, err)) || (rc = sb_engine_api(e, err))) goto out;
    /* the window: from the watermark (less the overlap) to two minutes before Amazon's now (the access
     * token's answer tells Amazon's clock; a margin of 2 s for its whole seconds, 5 s on
     * this machine's clock when Amazon's is not known) */
    if ((rc = sb_spapi_measure_clock(e->api, err))) goto out;
    res->clock_known = sb_spapi_clock_skew(e->api, &res->clock_skew_ms);
    if (res->clock_known && (res->clock_skew_ms > 5000 || res->clock_skew_ms < -5000))
        sb_warn("Amazon's clock is %.1f s %s this machine's integration=%s: order windows follow Amazon's; "
                "set this machine's clock right (NTP)", (double)(res->clock_skew_ms < 0 ? -res->clock_skew_ms : res->clock_skew_ms) / 1000,
                res->clock_skew_ms < 0 ? "behind" : "ahead of", e->name);
    int64_t now = sb_spapi_amazon_now(e->api) / 1000, before = now - TWO_MINUTES - (res->clock_known ? 2 : 5);
    int64_t after = window_start(e, now, before, &c.watermark, &c.normal_start, &res->reconciled);
    sb_time_format(after, res->after, sizeof res->after);
    sb_time_format(before, res->before, sizeof res->before);
    resume r;
    const char *start_token = NULL;
    if (resume_load(e, &r)) {                   /* the same window, from its next page */
        snprintf(res->after, sizeof res->after, "%s", r.after);
        snprintf(res->before, sizeof res->before, "%s", r.before);
        start_token = r.token;
        res->resumed_at_page = r.pages + 1;
        res->reconciled = 0;                    /* the reconciliation, if due, is the next window's */
        c.normal_start = 0;
        after = sb_time_parse(r.after);
        before = sb_time_parse(r.before);
        sb_info("orders window %s..%s resumes at page %ld integration=%s", res->after, res->before,
                res->resumed_at_page, e->name);
    }
    if (before <= after) {
        sb_info("orders window is empty integration=%s after=%s", e->name, res->after);
        goto out;
    }
    mkts = sb_settings_list(sb_settings_str(&e->settings, "integration.marketplaces"));
    int nm = 0;
    while (mkts && mkts[nm]) nm++;
    sb_search_orders_params p = {
        .last_updated_after = res->after, .last_updated_before = res->before,
        .marketplace_ids = (const char *const *)mkts, .nmarketplaces = nm,
        .max_results = SEARCH_PAGE_SIZE,
        .included_data = "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT",
    };
    page_source src = {fetch_amazon, e->api, 1};
    if ((rc = run_pages(&c, &src, &p, res->before, start_token, err))) {
        if (rc == SB_ELATER) res->paused_until = sb_spapi_retry_at(e->api, SB_OP_SEARCH_ORDERS);
        else if (start_token && res->pages <= 1 && rc != SB_EINTR) {
            /* the kept token itself may be what Amazon refuses (expired, other filters) */
            resume_save(e, res, NULL);
            sb_warn("orders: the window %s..%s could not go on from its kept page token; the next run starts it "
                    "again integration=%s", res->after, res->before, e->name);
        }
        goto out;
    }
    if (res->reconciled) {
        char at[32];
        sb_time_format(now, at, sizeof at);
        /* every order is stored and the watermark moved: a failure here costs only an
         * early look-back on the next pass, so it is told, not the run's failure */
        char werr[SB_ERRLEN];
        if (sb_settings_set_watermark(e->store, e->integ, "orders.last_reconciled", at, werr))
            sb_warn("orders: the window %s..%s is stored but when its look-back ran was not (%s); the next "
                    "pass looks back again integration=%s", res->after, res->before, werr, e->name);
        sb_info("orders reconciliation integration=%s window=%s..%s: %ld order%s the normal windows missed "
                "(%ld found by the overlap)", e->name, res->after, res->before, res->missed,
                res->missed == 1 ? "" : "s", res->late);
    }
    /* pages only a few orders still point at give those their own copy; pages no order
     * points at any more (each updated from a later page) go */
    for (int k = S_COMPACT_PAGES; k <= S_PRUNE_PAGES; k++) {
        sqlite3_stmt *q = S(&c, k);
        if (!q) { sb_warn("orders: %s", c.err); break; }
        sqlite3_bind_int64(q, 1, e->integ);
        if (step_done(&c, q, "tidying stored orders pages")) sb_warn("orders: %s", c.err);
        sqlite3_reset(q);
    }
    sb_info("orders synced integration=%s window=%s..%s pages=%ld fetched=%ld created=%ld updated=%ld "
            "skipped=%ld held=%ld rule_errors=%ld rejected=%ld cancelled=%ld dispatched=%ld",
            e->name, res->after, res->before, res->pages, res->fetched, res->created, res->updated,
            res->skipped, res->held, res->rule_errors, res->rejected, res->cancelled, res->dispatched);
out:
    if (rc == SB_ELATER)
        sb_info("orders window %s..%s paused after page %ld integration=%s (the next run goes on from there): %s",
                res->after, res->before, res->pages, e->name, err);
    else if (rc && rc != SB_EINTR)
        sb_error("orders sync failed integration=%s (the watermark stays at %s; the next run goes on from the "
                 "first page not stored): %s", e->name, *res->after ? res->after : "?", err);
    record_run(e, res, rc && rc != SB_ELATER ? err : NULL);
    sb_settings_list_free(mkts);
    octx_done(&c);
    return rc;
}

int sb_orders_retry(sb_engine *e, const char *order_ref, long *fixed, char *err) {
    sb_orders_retry_result r;
    int rc = sb_orders_retry_ex(e, order_ref, &r, err);
    *fixed = r.fixed;
    return rc;
}

/* Keeps why order ref stays held, for the first SB_RETRY_KEEP of them. */
static void retry_kept(sb_orders_retry_result *out, const char *ref, const char *why) {
    out->held++;
    if (out->nkept >= SB_RETRY_KEEP) return;
    snprintf(out->kept[out->nkept].order, sizeof out->kept[0].order, "%s", ref);
    snprintf(out->kept[out->nkept].why, sizeof out->kept[0].why, "%s", why && *why ? why : "held");
    out->nkept++;
}

int sb_orders_retry_ex(sb_engine *e, const char *order_ref, sb_orders_retry_result *out, char *err) {
    return sb_orders_retry_for(e, order_ref, SB_RETRY_RULE_ERROR | SB_RETRY_UNKNOWN_SKU, out, err);
}

/* 1 when a live split of order ref has a line whose SKU is not a product (that SKU in
 * sku), else 0. */
static int unknown_sku_of(sb_store *s, int64_t integ, const char *ref, char *sku, size_t len) {
    sqlite3_stmt *st;
    int found = 0;
    sku[0] = '\0';
    if (sb_store_prepare(s, "SELECT COALESCE(l.sku, '(none)') FROM sales_orders o JOIN sales_order_lines l ON l.order_id = o.id "
                            "WHERE o.integration_id = ?1 AND o.order_ref = ?2 AND o.stage IN ('needs_attention','open') "
                            "AND l.stock_bearing = 1 AND l.product_id IS NULL ORDER BY o.split_no, l.line_no LIMIT 1", &st, NULL))
        return 0;
    sqlite3_bind_int64(st, 1, integ);
    bt(st, 2, ref);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(sku, len, "%s", sqlite3_column_text(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

int sb_orders_unknown_sku(sb_store *s, int64_t integ, const char *ref, char *sku, size_t len) {
    return unknown_sku_of(s, integ, ref, sku, len);
}

/* The stage and attention reason of the first split of ref, after a retry stored it. */
static void stage_of(sb_store *s, int64_t integ, const char *ref, char *stage, size_t slen, char *why, size_t wlen) {
    sqlite3_stmt *st;
    stage[0] = why[0] = '\0';
    if (sb_store_prepare(s, "SELECT stage, COALESCE(attention_reason, rule_error, '') FROM sales_orders "
                            "WHERE integration_id = ?1 AND order_ref = ?2 ORDER BY split_no LIMIT 1", &st, NULL)) return;
    sqlite3_bind_int64(st, 1, integ);
    bt(st, 2, ref);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(stage, slen, "%s", sqlite3_column_text(st, 0));
        snprintf(why, wlen, "%s", sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
}

int sb_orders_retry_for(sb_engine *e, const char *order_ref, int kinds, sb_orders_retry_result *out, char *err) {
    octx c;
    sb_orders_result res;
    memset(&c, 0, sizeof c);
    memset(&res, 0, sizeof res);
    memset(out, 0, sizeof *out);
    c.e = e;
    c.res = &res;
    long fixed_n = 0, *fixed = &fixed_n;
    int rc = sb_engine_rules(e, err);
    if (rc) return rc;
    sqlite3_stmt *st;
    /* held for a rule error (or rejected), or kept with a line whose SKU was not a product
     * (held for it, or released so by a person): the JSON is taken from its page only for
     * the orders found */
    if ((rc = sb_store_prepare(e->store, "SELECT o.order_ref, (SELECT r.raw_json FROM sales_orders_raw r WHERE r.order_id = o.id), "
                                         "o.stage IN ('rule_error','rejected') "
                                         "FROM sales_orders o WHERE o.integration_id = ?1 AND o.source = 'amazon' "
                                         "AND o.split_no = 0 AND ((?3 AND o.stage IN ('rule_error','rejected')) OR (?4 AND "
                                         "EXISTS (SELECT 1 FROM sales_orders o2 JOIN sales_order_lines l ON l.order_id = o2.id "
                                         "WHERE o2.integration_id = o.integration_id AND o2.order_ref = o.order_ref "
                                         "AND o2.stage IN ('needs_attention','open') AND l.stock_bearing = 1 AND l.product_id IS NULL "
                                         "AND " SB_STORE_SKU_PRODUCT("l.sku") " IS NOT NULL))) "
                                         "AND (?2 IS NULL OR o.order_ref = ?2) "
                                         "AND (o.raw_json IS NOT NULL OR o.raw_page_id IS NOT NULL) ORDER BY o.id", &st, err))) return rc;
    sqlite3_bind_int64(st, 1, e->integ);
    bt(st, 2, order_ref);
    sqlite3_bind_int(st, 3, (kinds & SB_RETRY_RULE_ERROR) != 0);
    sqlite3_bind_int(st, 4, (kinds & SB_RETRY_UNKNOWN_SKU) != 0);
    /* collect first, then re-apply each in its own transaction */
    char **refs = NULL, **raws = NULL;
    char *rule_held = NULL;
    int n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!sqlite3_column_text(st, 1)) {      /* its page is gone: nothing to re-run from */
            sb_warn("order %s: its Amazon JSON is missing; it stays held", sqlite3_column_text(st, 0));
            continue;
        }
        if (n == cap) {
            int nc = cap ? cap * 2 : 16;
            char **r1 = realloc(refs, (size_t)nc * sizeof *refs);
            if (r1) refs = r1;
            char **r2 = r1 ? realloc(raws, (size_t)nc * sizeof *raws) : NULL;
            if (r2) raws = r2;
            char *r3 = r2 ? realloc(rule_held, (size_t)nc) : NULL;
            if (r3) rule_held = r3;
            if (!r1 || !r2 || !r3) { rc = sb_seterr(err, SB_ENOMEM, "retry: out of memory"); break; }
            cap = nc;
        }
        refs[n] = strdup((const char *)sqlite3_column_text(st, 0));
        raws[n] = strdup((const char *)sqlite3_column_text(st, 1));
        rule_held[n] = (char)sqlite3_column_int(st, 2);
        if (!refs[n] || !raws[n]) { free(refs[n]); free(raws[n]); rc = sb_seterr(err, SB_ENOMEM, "retry: out of memory"); break; }
        n++;
    }
    sqlite3_finalize(st);
    if (!rc && order_ref && n == 0) {
        char sku[128];
        if (unknown_sku_of(e->store, e->integ, order_ref, sku, sizeof sku))
            rc = sb_seterr(err, SB_EINVAL, "order %s: SKU '%s' is still not a product: import it "
                           "(sellerbridge import products FILE) or link it to one (sellerbridge products alias SKU PRODUCT_SKU), then retry", order_ref, sku);
        else
            rc = sb_seterr(err, SB_ENOTFOUND, "order %s is not held for a rule error or for a SKU that was not a product", order_ref);
    }
    for (int i = 0; i < n && !rc; i++) {
        sb_order o;
        sb_decision d;
        char nerr[SB_ERRLEN] = "";
        memset(&o, 0, sizeof o);
        memset(&d, 0, sizeof d);
        if (stopping(e)) { rc = sb_seterr(err, SB_EINTR, "retry stopped before order %s: the engine is stopping", refs[i]); break; }
        /* decided with no transaction open, like a download */
        int nrc = sb_rules_order_json(e->rules, raws[i], strlen(raws[i]), &o, &d, nerr);
        if (nrc == SB_EINTR) { rc = sb_seterr(err, SB_EINTR, "retry stopped at order %s: %s", refs[i], nerr); break; }
        out->tried++;
        if (!nrc && !d.error && !d.download) {
            /* the fixed pack would not have downloaded it: keep it held, say why */
            retry_kept(out, refs[i], "the rule pack would not download it");
            continue;
        }
        if (!rule_held[i]) {
            /* a SKU that was not a product: stored again only when the rules decide it */
            if (nrc || d.error) { retry_kept(out, refs[i], nrc ? nerr : d.error); continue; }
            if ((rc = sb_store_begin(e->store, err))) break;
            c.err[0] = '\0';
            int lrc = relink_order(&c, &o, &d);
            if (lrc < 0) {
                sb_seterr(err, lrc, "order %s: %s", refs[i], c.err);
                sb_store_rollback(e->store);
                rc = lrc;
                break;
            }
            if (lrc > 0) { sb_store_rollback(e->store); retry_kept(out, refs[i], c.err); continue; }
            if ((rc = sb_store_commit(e->store, err))) break;
            char stage[24], why[256];
            stage_of(e->store, e->integ, refs[i], stage, sizeof stage, why, sizeof why);
            char sku[128];
            if (unknown_sku_of(e->store, e->integ, refs[i], sku, sizeof sku)) {
                char still[256];
                snprintf(still, sizeof still, "SKU '%.100s' is still not a product", sku);
                retry_kept(out, refs[i], still);
            } else if (!strcmp(stage, "open")) (*fixed)++;
            else retry_kept(out, refs[i], why);
            continue;
        }
        if ((rc = sb_store_begin(e->store, err))) break;
        c.held_key = refs[i];
        if ((rc = apply_order(&c, &o, &d, nrc, nerr))) {
            sb_seterr(err, rc, "order %s: %s", refs[i], c.err);
            sb_store_rollback(e->store);
            break;
        }
        if ((rc = sb_store_commit(e->store, err))) break;
        if (!nrc && !d.error) (*fixed)++;
        else retry_kept(out, refs[i], nrc ? nerr : d.error);
    }
    out->fixed = fixed_n;
    for (int i = 0; i < n; i++) { free(refs[i]); free(raws[i]); }
    free(refs);
    free(raws);
    free(rule_held);
    octx_done(&c);
    return rc;
}

int sb_orders_check_reserved(sb_store *s, char *report, size_t len) {
    sqlite3_stmt *st;
    const char *q =
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
    if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK) return SB_EIO;
    int n = 0;
    if (report && len) report[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (report && strlen(report) + 100 < len) {
            size_t l = strlen(report);
            snprintf(report + l, len - l, "%s%s@%s reserved %g, open lines %g", n ? "; " : "",
                     sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                     sqlite3_column_double(st, 2), sqlite3_column_double(st, 3));
        }
        n++;
    }
    sqlite3_finalize(st);
    return n;
}
