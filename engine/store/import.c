/* import.c: the SQL of CSV import and export, one row of `kinds` per kind of data (see
 * import.h for the column orders). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "store/import.h"
#include "store/store_int.h"

typedef struct kind_sql {
    const char *name;
    const char *exists_sql;     /* ?1.. = key columns: does the row exist already? */
    const char *upsert_sql;     /* ?1..?N = the columns in order */
    const char *export_sql;     /* the columns in the same order */
    int ncols;
} kind_sql;

static const kind_sql kinds[] = {
    {"branches",
     "SELECT 1 FROM branches WHERE name = ?1",
     "INSERT INTO branches(name, country, state, address) VALUES (?1,?2,?3,?4) ON CONFLICT(name) DO UPDATE SET "
     "country = excluded.country, state = excluded.state, address = excluded.address",
     "SELECT name, country, state, address FROM branches ORDER BY name", 4},
    {"customer_groups",
     "SELECT 1 FROM customer_groups WHERE name = ?1",
     "INSERT INTO customer_groups(name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
     "SELECT name FROM customer_groups ORDER BY name", 1},
    {"gl_accounts",
     "SELECT 1 FROM gl_accounts WHERE code = ?1",
     "INSERT INTO gl_accounts(code, name) VALUES (?1,?2) ON CONFLICT(code) DO UPDATE SET name = excluded.name",
     "SELECT code, name FROM gl_accounts ORDER BY code", 2},
    {"products",
     "SELECT 1 FROM products WHERE sku = ?1",
     "INSERT INTO products(sku, asin, name, created_date, batch_tracked, serial_tracked, order_type, buffer_stock, latency) "
     "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(sku) DO UPDATE SET asin = excluded.asin, name = excluded.name, "
     "created_date = excluded.created_date, batch_tracked = excluded.batch_tracked, serial_tracked = excluded.serial_tracked, "
     "order_type = excluded.order_type, buffer_stock = excluded.buffer_stock, latency = excluded.latency, "
     "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')",
     "SELECT sku, asin, name, created_date, CASE batch_tracked WHEN 1 THEN 'yes' ELSE 'no' END, "
     "CASE serial_tracked WHEN 1 THEN 'yes' ELSE 'no' END, order_type, buffer_stock, latency FROM products ORDER BY sku", 9},
    {"boms",
     "SELECT 1 FROM bom_components WHERE kit_id = (SELECT id FROM products WHERE sku = ?1) "
     "AND component_id = (SELECT id FROM products WHERE sku = ?2)",
     "INSERT INTO bom_components(kit_id, component_id, qty) VALUES ((SELECT id FROM products WHERE sku = ?1), "
     "(SELECT id FROM products WHERE sku = ?2), ?3) ON CONFLICT(kit_id, component_id) DO UPDATE SET qty = excluded.qty",
     "SELECT k.sku, c.sku, b.qty FROM bom_components b JOIN products k ON k.id = b.kit_id "
     "JOIN products c ON c.id = b.component_id ORDER BY k.sku, c.sku", 3},
    {"stock",
     "SELECT 1 FROM stock WHERE product_id = (SELECT id FROM products WHERE sku = ?1) "
     "AND branch_id = (SELECT id FROM branches WHERE name = ?2)",
     "INSERT INTO stock(product_id, branch_id, on_hand) VALUES ((SELECT id FROM products WHERE sku = ?1), "
     "(SELECT id FROM branches WHERE name = ?2), ?3) ON CONFLICT(product_id, branch_id) DO UPDATE SET "
     "on_hand = excluded.on_hand, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE on_hand <> excluded.on_hand",
     "SELECT p.sku, b.name, s.on_hand FROM stock s JOIN products p ON p.id = s.product_id "
     "JOIN branches b ON b.id = s.branch_id ORDER BY p.sku, b.name", 3},
    {"customers",
     "SELECT 1 FROM customers WHERE ref = ?1",
     "INSERT INTO customers(ref, channel_customer_id, email, name, company, phone, address1, address2, city, state, "
     "postcode, country, group_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,(SELECT id FROM customer_groups "
     "WHERE name = ?13)) ON CONFLICT(ref) DO UPDATE SET channel_customer_id = excluded.channel_customer_id, "
     "email = excluded.email, name = excluded.name, company = excluded.company, phone = excluded.phone, "
     "address1 = excluded.address1, address2 = excluded.address2, city = excluded.city, state = excluded.state, "
     "postcode = excluded.postcode, country = excluded.country, group_id = excluded.group_id, "
     "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')",
     "SELECT c.ref, c.channel_customer_id, c.email, c.name, c.company, c.phone, c.address1, c.address2, c.city, "
     "c.state, c.postcode, c.country, g.name FROM customers c LEFT JOIN customer_groups g ON g.id = c.group_id "
     "WHERE c.ref IS NOT NULL ORDER BY c.ref", 13},
    {"orders", NULL, NULL,     /* stored by sb_store_import_order_line */
     "SELECT o.order_ref, o.branch, l.sku, l.qty, o.etd, c.ref FROM sales_orders o "
     "JOIN sales_order_lines l ON l.order_id = o.id LEFT JOIN customers c ON c.id = o.customer_id "
     "WHERE o.stage IN ('open','needs_attention') ORDER BY o.order_ref, l.line_no", 6},
};

static const kind_sql *find_kind(const char *name, char *err) {
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kinds[i].name, name)) return &kinds[i];
    sb_seterr(err, SB_EINVAL, "'%s' is not a kind of data the store knows", name);
    return NULL;
}

struct sb_store_import {
    sb_store *s;
    const kind_sql *k;
    sqlite3_stmt *key, *exists, *upsert;
    int began;
};

int sb_store_import_begin(sb_store *s, const char *kind, sb_store_import **out, char *err) {
    const kind_sql *k = find_kind(kind, err);
    *out = NULL;
    if (!k) return SB_EINVAL;
    sb_store_import *im = calloc(1, sizeof *im);
    if (!im) return sb_seterr(err, SB_ENOMEM, "import: out of memory");
    im->s = s;
    im->k = k;
    int rc = sb_store_begin(s, err);
    if (rc) goto out;
    im->began = 1;
    if ((rc = sb_store_exec(s, "CREATE TEMP TABLE IF NOT EXISTS import_keys(k TEXT PRIMARY KEY);"
                               "CREATE TEMP TABLE IF NOT EXISTS import_orders(ref TEXT PRIMARY KEY);"
                               "DELETE FROM temp.import_keys; DELETE FROM temp.import_orders;", err))) goto out;
    if ((rc = sb_store_prepare(s, "INSERT INTO temp.import_keys(k) VALUES (?)", &im->key, err))) goto out;
    if (k->upsert_sql && ((rc = sb_store_prepare(s, k->upsert_sql, &im->upsert, err)) ||
                          (rc = sb_store_prepare(s, k->exists_sql, &im->exists, err)))) goto out;
out:
    if (rc) { sb_store_import_end(im); im = NULL; }
    *out = im;
    return rc;
}

int sb_store_import_key(sb_store_import *im, const char *key, int *dup, char *err) {
    sqlite3_reset(im->key);
    sqlite3_bind_text(im->key, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(im->key);
    *dup = 0;
    if (step == SQLITE_DONE) return 0;
    if (sqlite3_errcode(im->s->db) == SQLITE_CONSTRAINT) { *dup = 1; return 0; }   /* the key is there */
    return sb_store_error(im->s, "import: recording the row's key", err);
}

static void bind(sqlite3_stmt *st, int idx, const sb_store_value *v) {
    switch (v->type) {
    case SB_VAL_INT: sqlite3_bind_int64(st, idx, v->i); break;
    case SB_VAL_REAL: sqlite3_bind_double(st, idx, v->d); break;
    case SB_VAL_TEXT: sqlite3_bind_text(st, idx, v->text, -1, SQLITE_STATIC); break;
    default: sqlite3_bind_null(st, idx); break;
    }
}

int sb_store_import_row(sb_store_import *im, const sb_store_value *v, int n, const char *const *keys, int nkeys,
                        int *existed, char *err) {
    *existed = 0;
    if (!im->upsert || n != im->k->ncols) return sb_seterr(err, SB_EINVAL, "import: %s takes %d columns, not %d", im->k->name,
                                                          im->k->ncols, n);
    sqlite3_reset(im->exists);
    sqlite3_clear_bindings(im->exists);
    for (int i = 0; i < nkeys; i++) sqlite3_bind_text(im->exists, i + 1, keys[i], -1, SQLITE_STATIC);
    int step = sqlite3_step(im->exists);
    if (step != SQLITE_ROW && step != SQLITE_DONE) return sb_store_error(im->s, "import: looking for the row", err);
    *existed = step == SQLITE_ROW;
    sqlite3_reset(im->upsert);
    sqlite3_clear_bindings(im->upsert);
    for (int i = 0; i < n; i++) bind(im->upsert, i + 1, &v[i]);
    int rc = sqlite3_step(im->upsert) == SQLITE_DONE ? 0 : sb_store_error(im->s, "cannot store the row", err);
    sqlite3_reset(im->upsert);
    return rc;
}

/* One statement with text parameters (NULL binds NULL), run to its end. */
static int run(sb_store *s, const char *sql, int n, const char *const *p, int64_t id, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, sql, &st, err);
    if (rc) return rc;
    for (int i = 0; i < n; i++)
        if (p[i]) sqlite3_bind_text(st, i + 1, p[i], -1, SQLITE_STATIC);
    if (id) sqlite3_bind_int64(st, n + 1, id);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "storing order", err);
    sqlite3_finalize(st);
    return rc;
}

/* The id that sql (one text parameter) finds, 0 when none. */
static int id_of(sb_store *s, const char *sql, const char *v, int64_t *id, char *err) {
    sqlite3_stmt *st;
    *id = 0;
    int rc = sb_store_prepare(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE) rc = sb_store_error(s, "storing order", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_import_order_line(sb_store_import *im, const char *ref, const char *branch, const char *sku, double qty,
                               const char *etd, const char *customer_ref, int *created, int *replaced, char *err) {
    sb_store *s = im->s;
    sqlite3_stmt *st = NULL;
    int64_t oid = 0, pid = 0;
    char day[11] = "";
    *created = *replaced = 0;
    if (etd && *etd) snprintf(day, sizeof day, "%s", etd);     /* the date part */
    /* the refs handled in this file: the first line of one replaces its stored lines */
    const char *p[4] = {ref};
    int rc = run(s, "INSERT OR IGNORE INTO temp.import_orders(ref) VALUES (?)", 1, p, 0, err);
    if (rc) return rc;
    int fresh_in_file = sqlite3_changes(s->db) > 0;
    if ((rc = id_of(s, "SELECT id FROM sales_orders WHERE source = 'import' AND order_ref = ?", ref, &oid, err))) return rc;
    if (oid && fresh_in_file) {
        /* release what the old lines reserved, then drop them */
        char sql[256];
        if ((rc = sb_store_reserve_order(s, oid, NULL, -1, err))) return rc;
        snprintf(sql, sizeof sql, "DELETE FROM sales_order_lines WHERE order_id = %lld", (long long)oid);
        if ((rc = sb_store_exec(s, sql, err))) return rc;
        *replaced = 1;
    }
    p[0] = ref;
    p[1] = branch;
    p[2] = *day ? day : NULL;
    p[3] = customer_ref && *customer_ref ? customer_ref : NULL;
    if (!oid) {
        if ((rc = run(s, "INSERT INTO sales_orders(integration_id, source, order_ref, stage, branch, etd, customer_id) "
                         "VALUES (NULL, 'import', ?1, 'open', ?2, ?3, (SELECT id FROM customers WHERE ref = ?4))",
                      4, p, 0, err))) return rc;
        oid = sqlite3_last_insert_rowid(s->db);
        *created = 1;
    } else if ((rc = run(s, "UPDATE sales_orders SET branch = ?2, etd = ?3, customer_id = (SELECT id FROM customers "
                            "WHERE ref = ?4), updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?5",
                         4, p, oid, err))) {
        return rc;
    }
    if ((rc = sb_store_prepare(s, "INSERT INTO sales_order_lines(order_id, line_no, sku, product_id, qty) VALUES (?1, "
                                  "(SELECT COALESCE(MAX(line_no), 0) + 1 FROM sales_order_lines WHERE order_id = ?1), ?2, "
                                  "(SELECT id FROM products WHERE sku = ?2), ?3)", &st, err))) return rc;
    sqlite3_bind_int64(st, 1, oid);
    sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, qty);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, "storing order", err);
    sqlite3_finalize(st);
    if (rc || (rc = id_of(s, "SELECT id FROM products WHERE sku = ?", sku, &pid, err))) return rc;
    return pid ? sb_store_reserve(s, pid, branch, qty, err) : 0;
}

int sb_store_import_commit(sb_store_import *im, char *err) {
    int rc = sb_store_commit(im->s, err);
    im->began = 0;          /* a failed COMMIT rolled back already */
    return rc;
}

void sb_store_import_end(sb_store_import *im) {
    if (!im) return;
    sqlite3_finalize(im->key);
    sqlite3_finalize(im->exists);
    sqlite3_finalize(im->upsert);
    if (im->began) sb_store_rollback(im->s);
    free(im);
}

int sb_store_ref_exists(sb_store *s, sb_store_ref what, const char *v, char *err) {
    static const char *const sql[] = {
        [SB_REF_BRANCH] = "SELECT 1 FROM branches WHERE name = ?",
        [SB_REF_PRODUCT] = "SELECT 1 FROM products WHERE sku = ?",
        [SB_REF_GROUP] = "SELECT 1 FROM customer_groups WHERE name = ?",
        [SB_REF_CUSTOMER] = "SELECT 1 FROM customers WHERE ref = ?",
    };
    if ((unsigned)what > SB_REF_CUSTOMER) return sb_seterr(err, SB_EINVAL, "import: unknown reference kind %d", (int)what);
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, sql[what], &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : sb_store_error(s, "import: looking up a reference", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_product_is_kit(sb_store *s, const char *sku, int *kit, char *err) {
    sqlite3_stmt *st;
    *kit = 0;
    int rc = sb_store_prepare(s, "SELECT order_type = 'kit' FROM products WHERE sku = ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) *kit = sqlite3_column_int(st, 0);
    else if (step != SQLITE_DONE) rc = sb_store_error(s, "import: reading a product's order type", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_export_each(sb_store *s, const char *kind, sb_store_export_fn fn, void *ud, char *err) {
    const kind_sql *k = find_kind(kind, err);
    if (!k) return SB_EINVAL;
    sqlite3_stmt *st;
    sb_store_value v[16];
    int rc = sb_store_prepare(s, k->export_sql, &st, err), step;
    if (rc) return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < k->ncols; i++) {
            int t = sqlite3_column_type(st, i);
            v[i] = (sb_store_value){.type = t == SQLITE_NULL ? SB_VAL_NULL : t == SQLITE_FLOAT ? SB_VAL_REAL : SB_VAL_TEXT};
            if (t == SQLITE_FLOAT) v[i].d = sqlite3_column_double(st, i);
            else if (t != SQLITE_NULL) v[i].text = (const char *)sqlite3_column_text(st, i);
        }
        if ((rc = fn(ud, v, k->ncols))) break;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "export: reading the rows", err);
    sqlite3_finalize(st);
    return rc;
}
