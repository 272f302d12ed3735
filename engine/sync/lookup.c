/* lookup.c: the read-only look-ups the rules see, answered from the store with cached
 * prepared statements. Stock "open" is the reserved column that the order changes keep
 * up to date. With BOM expansion on, a kit's stock is what its components can make.
 *
 * Customers are walled per integration: a rule sees the customers its own integration
 * made and the business's own (imported, no integration), never another integration's,
 * unless orders.shared_customers says so. Products, stock, branches, groups and GL
 * accounts are the business's and shared by every integration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "core/util.h"
#include "sync/engine.h"
#include "store/aliases.h"

enum { Q_STOCK, Q_KIT, Q_PRODUCT, Q_CUST_ID, Q_CUST_EMAIL, Q_CUST_REF, Q_GL, Q_GROUP, Q_COUNT };

/* ?2: this integration's id, or -1 when customers are shared between integrations */
#define SCOPE "(?2 < 0 OR c.integration_id IS NULL OR c.integration_id = ?2)"

static const char *const sql[Q_COUNT] = {
    "SELECT s.on_hand, s.reserved FROM stock s JOIN products p ON p.id = s.product_id "
    "JOIN branches b ON b.id = s.branch_id WHERE p.sku = ?1 AND b.name = ?2",
    "SELECT c.qty, COALESCE(s.on_hand, 0), COALESCE(s.reserved, 0) FROM products k "
    "JOIN bom_components c ON c.kit_id = k.id "
    "LEFT JOIN stock s ON s.product_id = c.component_id AND s.branch_id = (SELECT id FROM branches WHERE name = ?2) "
    "WHERE k.sku = ?1 AND k.order_type = 'kit'",
    "SELECT sku, asin, name, batch_tracked, serial_tracked, order_type = 'kit', buffer_stock, COALESCE(latency, 0) "
    "FROM products WHERE id = " SB_STORE_SKU_PRODUCT("?1"),   /* own SKU, else an alias */
    "SELECT c.id, c.ref, c.channel_customer_id, c.email, c.name, g.name FROM customers c "
    "LEFT JOIN customer_groups g ON g.id = c.group_id WHERE c.channel_customer_id = ?1 AND " SCOPE " ORDER BY c.id LIMIT 1",
    "SELECT c.id, c.ref, c.channel_customer_id, c.email, c.name, g.name FROM customers c "
    "LEFT JOIN customer_groups g ON g.id = c.group_id WHERE c.email = ?1 COLLATE NOCASE AND " SCOPE " ORDER BY c.id LIMIT 1",
    "SELECT c.id, c.ref, c.channel_customer_id, c.email, c.name, g.name FROM customers c "
    "LEFT JOIN customer_groups g ON g.id = c.group_id WHERE c.ref = ?1 AND " SCOPE,
    "SELECT 1 FROM gl_accounts WHERE code = ?1",
    "SELECT 1 FROM customer_groups WHERE name = ?1",
};

struct sb_engine_lookup {
    sb_lookup api;
    sb_store *s;
    int bom_expand;
    int64_t scope;              /* the integration, -1 = customers shared */
    sqlite3_stmt *q[Q_COUNT];
    char str[Q_COUNT][6][256];  /* strings handed out, valid until the next call */
};

static sqlite3_stmt *stmt(sb_engine_lookup *l, int i) {
    if (!l->q[i] && sqlite3_prepare_v3(l->s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &l->q[i], NULL) != SQLITE_OK)
        return NULL;
    sqlite3_reset(l->q[i]);
    return l->q[i];
}

static const char *keep(sb_engine_lookup *l, int q, int slot, sqlite3_stmt *st, int col) {
    const char *v = (const char *)sqlite3_column_text(st, col);
    if (!v) return NULL;
    snprintf(l->str[q][slot], sizeof l->str[q][slot], "%s", v);
    return l->str[q][slot];
}

static int lk_stock(void *ud, const char *sku, const char *branch, double *soh, double *open) {
    sb_engine_lookup *l = ud;
    sqlite3_stmt *st;
    if (l->bom_expand && (st = stmt(l, Q_KIT))) {
        sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
        int n = 0;
        double can = INFINITY;
        while (sqlite3_step(st) == SQLITE_ROW) {
            double per = sqlite3_column_double(st, 0);
            double avail = sqlite3_column_double(st, 1) - sqlite3_column_double(st, 2);
            double k = floor(avail / per);
            if (k < can) can = k;
            n++;
        }
        sqlite3_reset(st);
        if (n) {
            *soh = can < 0 ? 0 : can;
            *open = 0;
            return 0;
        }
    }
    if (!(st = stmt(l, Q_STOCK))) return SB_EIO;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
    int rc = SB_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *soh = sqlite3_column_double(st, 0);
        *open = sqlite3_column_double(st, 1);
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

static int lk_product(void *ud, const char *sku, sb_product_info *out) {
    sb_engine_lookup *l = ud;
    sqlite3_stmt *st = stmt(l, Q_PRODUCT);
    if (!st) return SB_EIO;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    int rc = SB_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->sku = keep(l, Q_PRODUCT, 0, st, 0);
        out->asin = keep(l, Q_PRODUCT, 1, st, 1);
        out->name = keep(l, Q_PRODUCT, 2, st, 2);
        out->batch_tracked = sqlite3_column_int(st, 3);
        out->serial_tracked = sqlite3_column_int(st, 4);
        out->is_kit = sqlite3_column_int(st, 5);
        out->buffer = sqlite3_column_double(st, 6);
        out->latency = sqlite3_column_int(st, 7);
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

static int customer(sb_engine_lookup *l, int q, const char *key, sb_customer_info *out) {
    sqlite3_stmt *st = stmt(l, q);
    if (!st) return SB_EIO;
    if (!key || !*key) return SB_ENOTFOUND;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, l->scope);
    int rc = SB_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->ref = keep(l, q, 0, st, 1);
        out->channel_id = keep(l, q, 1, st, 2);
        out->email = keep(l, q, 2, st, 3);
        out->name = keep(l, q, 3, st, 4);
        out->group = keep(l, q, 4, st, 5);
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

static int lk_cust_id(void *ud, const char *id, sb_customer_info *o) { return customer(ud, Q_CUST_ID, id, o); }
static int lk_cust_email(void *ud, const char *e, sb_customer_info *o) { return customer(ud, Q_CUST_EMAIL, e, o); }
static int lk_cust_ref(void *ud, const char *r, sb_customer_info *o) { return customer(ud, Q_CUST_REF, r, o); }

static int exists(sb_engine_lookup *l, int q, const char *key) {
    sqlite3_stmt *st = stmt(l, q);
    if (!st || !key) return SB_ENOTFOUND;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : SB_ENOTFOUND;
    sqlite3_reset(st);
    return rc;
}

static int lk_gl(void *ud, const char *code) { return exists(ud, Q_GL, code) == 0; }
static int lk_group(void *ud, const char *name) { return exists(ud, Q_GROUP, name) == 0; }

sb_engine_lookup *sb_engine_lookup_new(sb_store *s, int64_t integ, int shared_customers, int bom_expand) {
    sb_engine_lookup *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->s = s;
    l->scope = shared_customers ? -1 : integ;
    l->bom_expand = bom_expand;
    l->api = (sb_lookup){l, lk_stock, lk_product, lk_cust_id, lk_cust_email, lk_cust_ref, lk_gl, lk_group};
    return l;
}

void sb_engine_lookup_free(sb_engine_lookup *l) {
    if (!l) return;
    for (int i = 0; i < Q_COUNT; i++) sqlite3_finalize(l->q[i]);
    free(l);
}

const sb_lookup *sb_engine_lookup_get(sb_engine_lookup *l) { return &l->api; }
