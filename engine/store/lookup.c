/* lookup.c: look-ups of branches, groups, GL accounts, customers, products and stock
 * (see lookup.h). Every statement is a static string run through sb_store_cached. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/util.h"
#include "store/aliases.h"
#include "store/lookup.h"
#include "store/store_int.h"

/* 1 / 0 / negative for a statement whose first parameter is key (and ?2 integ when
 * integ is not 0). */
static int has(sb_store *s, const char *sql, const char *key, int64_t integ, const char *what, char *err) {
    sqlite3_stmt *st;
    if (!key) return 0;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (integ) sqlite3_bind_int64(st, 2, integ);
    int step = sqlite3_step(st);
    rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : sb_store_error(s, what, err);
    sqlite3_reset(st);
    return rc;
}

static const char branch_sql[] = "SELECT 1 FROM branches WHERE name = ?1";
static const char group_sql[] = "SELECT 1 FROM customer_groups WHERE name = ?1";
static const char gl_sql[] = "SELECT 1 FROM gl_accounts WHERE code = ?1";
static const char cust_ref_sql[] =
    "SELECT 1 FROM customers WHERE ref = ?1 AND (integration_id IS NULL OR "
    "integration_id = ?2 OR EXISTS (SELECT 1 FROM settings WHERE integration_id = ?2 AND "
    "name = 'orders.shared_customers' AND value = 'true'))";

int sb_store_has_branch(sb_store *s, const char *n, char *err) { return has(s, branch_sql, n, 0, "looking up a branch", err); }
int sb_store_has_group(sb_store *s, const char *n, char *err) { return has(s, group_sql, n, 0, "looking up a customer group", err); }
int sb_store_has_gl(sb_store *s, const char *c, char *err) { return has(s, gl_sql, c, 0, "looking up a GL account", err); }
int sb_store_has_customer_ref(sb_store *s, int64_t integ, const char *ref, char *err) {
    /* integ 0 is no integration: bound as such, not left out */
    return has(s, cust_ref_sql, ref, integ ? integ : -1, "looking up a customer", err);
}

static const char *keep(char *buf, sqlite3_stmt *st, int col) {
    const char *v = (const char *)sqlite3_column_text(st, col);
    if (!v) return NULL;
    snprintf(buf, SB_LOOKUP_TEXT, "%s", v);
    return buf;
}

int sb_store_stock_at(sb_store *s, const char *sku, const char *branch, double *soh, double *open, char *err) {
    static const char sql[] =
        "SELECT s.on_hand, s.reserved FROM stock s JOIN products p ON p.id = s.product_id "
        "JOIN branches b ON b.id = s.branch_id WHERE p.sku = ?1 AND b.name = ?2";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *soh = sqlite3_column_double(st, 0);
        *open = sqlite3_column_double(st, 1);
    } else {
        rc = step == SQLITE_DONE ? SB_ENOTFOUND : sb_store_error(s, "reading stock", err);
    }
    sqlite3_reset(st);
    return rc;
}

int sb_store_kit_can_make(sb_store *s, const char *sku, const char *branch, double *can, char *err) {
    static const char sql[] =
        "SELECT c.qty, COALESCE(s.on_hand, 0), COALESCE(s.reserved, 0) FROM products k "
        "JOIN bom_components c ON c.kit_id = k.id "
        "LEFT JOIN stock s ON s.product_id = c.component_id AND s.branch_id = (SELECT id FROM branches WHERE name = ?2) "
        "WHERE k.sku = ?1 AND k.order_type = 'kit'";
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err), n = 0, step;
    if (rc) return rc;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
    double least = INFINITY;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        double per = sqlite3_column_double(st, 0);
        double k = floor((sqlite3_column_double(st, 1) - sqlite3_column_double(st, 2)) / per);
        if (k < least) least = k;
        n++;
    }
    if (step != SQLITE_DONE) rc = sb_store_error(s, "reading a kit's components", err);
    else if (!n) rc = SB_ENOTFOUND;
    else *can = least;
    sqlite3_reset(st);
    return rc;
}

int sb_store_stock_namers(sb_store *s, const char *sku, int kits, int (*cb)(void *ctx, const char *sku), void *ctx,
                          char *err) {
    static const char sql[] =
        "WITH read_(id) AS (SELECT id FROM products WHERE sku = ?1 UNION SELECT c.component_id FROM products k "
        "JOIN bom_components c ON c.kit_id = k.id WHERE ?2 AND k.sku = ?1 AND k.order_type = 'kit'), "
        "held(id) AS (SELECT id FROM read_ UNION SELECT c.kit_id FROM bom_components c "
        "WHERE ?2 AND c.component_id IN (SELECT id FROM read_)) "
        "SELECT sku FROM products WHERE id IN (SELECT id FROM held) "
        "UNION ALL SELECT channel_sku FROM sku_aliases WHERE product_id IN (SELECT id FROM held)";
    sqlite3_stmt *st;
    int step, rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, kits != 0);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (v && (rc = cb(ctx, v))) break;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the SKUs that reserve a product", err);
    sqlite3_reset(st);
    return rc;
}

int sb_store_product_by_sku(sb_store *s, const char *sku, sb_store_product *out, char *err) {
    static const char sql[] =
        "SELECT sku, asin, name, batch_tracked, serial_tracked, order_type = 'kit', buffer_stock, COALESCE(latency, 0) "
        "FROM products WHERE id = " SB_STORE_SKU_PRODUCT("?1");   /* own SKU, else an alias */
    sqlite3_stmt *st;
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->sku = keep(out->text[0], st, 0);
        out->asin = keep(out->text[1], st, 1);
        out->name = keep(out->text[2], st, 2);
        out->batch_tracked = sqlite3_column_int(st, 3);
        out->serial_tracked = sqlite3_column_int(st, 4);
        out->is_kit = sqlite3_column_int(st, 5);
        out->buffer = sqlite3_column_double(st, 6);
        out->latency = sqlite3_column_int(st, 7);
    } else {
        rc = step == SQLITE_DONE ? SB_ENOTFOUND : sb_store_error(s, "reading a product", err);
    }
    sqlite3_reset(st);
    return rc;
}

/* ?2: the integration's id, or -1 when customers are shared between integrations */
#define SCOPE "(?2 < 0 OR c.integration_id IS NULL OR c.integration_id = ?2)"
#define CUSTOMER "SELECT c.id, c.ref, c.channel_customer_id, c.email, c.name, g.name FROM customers c " \
                 "LEFT JOIN customer_groups g ON g.id = c.group_id WHERE "
static const char *const cust_sql[] = {
    CUSTOMER "c.channel_customer_id = ?1 AND " SCOPE " ORDER BY c.id LIMIT 1",
    CUSTOMER "c.email = ?1 COLLATE NOCASE AND " SCOPE " ORDER BY c.id LIMIT 1",
    CUSTOMER "c.ref = ?1 AND " SCOPE,
};

int sb_store_customer_find(sb_store *s, sb_store_cust_key by, const char *key, int64_t scope,
                           sb_store_customer *out, char *err) {
    sqlite3_stmt *st;
    if ((unsigned)by > SB_CUST_BY_REF) return sb_seterr(err, SB_EINVAL, "customer look-up: unknown key kind %d", (int)by);
    if (!key || !*key) return SB_ENOTFOUND;
    int rc = sb_store_cached(s, cust_sql[by], &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, scope);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->ref = keep(out->text[0], st, 1);
        out->channel_id = keep(out->text[1], st, 2);
        out->email = keep(out->text[2], st, 3);
        out->name = keep(out->text[3], st, 4);
        out->group = keep(out->text[4], st, 5);
    } else {
        rc = step == SQLITE_DONE ? SB_ENOTFOUND : sb_store_error(s, "reading a customer", err);
    }
    sqlite3_reset(st);
    return rc;
}
