/* csvio.c: CSV import and export of master data (see csvio.h).
 *
 * Each kind is a row of the `kinds` table: its columns with a type, the key columns that
 * must be unique within a file, and the upsert that stores one row. libcsv splits the
 * file; we feed it one physical line at a time so every row knows its line number. Keys
 * seen in this file go into a temporary table, which finds duplicates for us. */
#include <csv.h>
#include <stdarg.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/util.h"
#include "csvio/csvio.h"

enum coltype { C_TEXT, C_BOOL, C_NUM, C_POS, C_LATENCY, C_DATE, C_ORDER_TYPE, C_COUNTRY,
               C_EMAIL, C_BRANCH, C_PRODUCT, C_GROUP, C_CUSTOMER };

typedef struct column { const char *name; enum coltype type; int required; } column;

#define MAXCOLS 14
typedef struct kind {
    const char *name;
    column cols[MAXCOLS];
    int key[3];                 /* column indexes + 1 forming the in-file key; 0 ends */
    const char *exists_sql;     /* ?1.. = key columns: does the row exist already? */
    const char *upsert_sql;     /* ?1..?N = the columns in order */
    const char *export_sql;     /* columns in the same order */
} kind;

static const kind kinds[] = {
    {"branches", {{"name", C_TEXT, 1}, {"country", C_COUNTRY, 0}, {"state", C_TEXT, 0}, {"address", C_TEXT, 0}}, {1},
     "SELECT 1 FROM branches WHERE name = ?1",
     "INSERT INTO branches(name, country, state, address) VALUES (?1,?2,?3,?4) ON CONFLICT(name) DO UPDATE SET "
     "country = excluded.country, state = excluded.state, address = excluded.address",
     "SELECT name, country, state, address FROM branches ORDER BY name"},
    {"customer_groups", {{"name", C_TEXT, 1}}, {1},
     "SELECT 1 FROM customer_groups WHERE name = ?1",
     "INSERT INTO customer_groups(name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
     "SELECT name FROM customer_groups ORDER BY name"},
    {"gl_accounts", {{"code", C_TEXT, 1}, {"name", C_TEXT, 0}}, {1},
     "SELECT 1 FROM gl_accounts WHERE code = ?1",
     "INSERT INTO gl_accounts(code, name) VALUES (?1,?2) ON CONFLICT(code) DO UPDATE SET name = excluded.name",
     "SELECT code, name FROM gl_accounts ORDER BY code"},
    {"products", {{"sku", C_TEXT, 1}, {"asin", C_TEXT, 0}, {"name", C_TEXT, 0}, {"created_date", C_DATE, 0},
                  {"batch_tracked", C_BOOL, 0}, {"serial_tracked", C_BOOL, 0}, {"order_type", C_ORDER_TYPE, 0},
                  {"buffer_stock", C_NUM, 0}, {"latency", C_LATENCY, 0}}, {1},
     "SELECT 1 FROM products WHERE sku = ?1",
     "INSERT INTO products(sku, asin, name, created_date, batch_tracked, serial_tracked, order_type, buffer_stock, latency) "
     "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(sku) DO UPDATE SET asin = excluded.asin, name = excluded.name, "
     "created_date = excluded.created_date, batch_tracked = excluded.batch_tracked, serial_tracked = excluded.serial_tracked, "
     "order_type = excluded.order_type, buffer_stock = excluded.buffer_stock, latency = excluded.latency, "
     "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')",
     "SELECT sku, asin, name, created_date, CASE batch_tracked WHEN 1 THEN 'yes' ELSE 'no' END, "
     "CASE serial_tracked WHEN 1 THEN 'yes' ELSE 'no' END, order_type, buffer_stock, latency FROM products ORDER BY sku"},
    {"boms", {{"kit_sku", C_PRODUCT, 1}, {"component_sku", C_PRODUCT, 1}, {"qty", C_POS, 1}}, {1, 2},
     "SELECT 1 FROM bom_components WHERE kit_id = (SELECT id FROM products WHERE sku = ?1) "
     "AND component_id = (SELECT id FROM products WHERE sku = ?2)",
     "INSERT INTO bom_components(kit_id, component_id, qty) VALUES ((SELECT id FROM products WHERE sku = ?1), "
     "(SELECT id FROM products WHERE sku = ?2), ?3) ON CONFLICT(kit_id, component_id) DO UPDATE SET qty = excluded.qty",
     "SELECT k.sku, c.sku, b.qty FROM bom_components b JOIN products k ON k.id = b.kit_id "
     "JOIN products c ON c.id = b.component_id ORDER BY k.sku, c.sku"},
    {"stock", {{"sku", C_PRODUCT, 1}, {"branch", C_BRANCH, 1}, {"on_hand", C_NUM, 1}}, {1, 2},
     "SELECT 1 FROM stock WHERE product_id = (SELECT id FROM products WHERE sku = ?1) "
     "AND branch_id = (SELECT id FROM branches WHERE name = ?2)",
     "INSERT INTO stock(product_id, branch_id, on_hand) VALUES ((SELECT id FROM products WHERE sku = ?1), "
     "(SELECT id FROM branches WHERE name = ?2), ?3) ON CONFLICT(product_id, branch_id) DO UPDATE SET "
     "on_hand = excluded.on_hand, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE on_hand <> excluded.on_hand",
     "SELECT p.sku, b.name, s.on_hand FROM stock s JOIN products p ON p.id = s.product_id "
     "JOIN branches b ON b.id = s.branch_id ORDER BY p.sku, b.name"},
    {"customers", {{"ref", C_TEXT, 1}, {"channel_customer_id", C_TEXT, 0}, {"email", C_EMAIL, 0}, {"name", C_TEXT, 0},
                   {"company", C_TEXT, 0}, {"phone", C_TEXT, 0}, {"address1", C_TEXT, 0}, {"address2", C_TEXT, 0},
                   {"city", C_TEXT, 0}, {"state", C_TEXT, 0}, {"postcode", C_TEXT, 0}, {"country", C_COUNTRY, 0},
                   {"group", C_GROUP, 0}}, {1},
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
     "WHERE c.ref IS NOT NULL ORDER BY c.ref"},
    {"orders", {{"order_ref", C_TEXT, 1}, {"branch", C_BRANCH, 1}, {"sku", C_PRODUCT, 1}, {"qty", C_POS, 1},
                {"etd", C_DATE, 0}, {"customer_ref", C_CUSTOMER, 0}}, {1, 3},
     NULL, NULL,   /* stored by import_order_line */
     "SELECT o.order_ref, o.branch, l.sku, l.qty, o.etd, c.ref FROM sales_orders o "
     "JOIN sales_order_lines l ON l.order_id = o.id LEFT JOIN customers c ON c.id = o.customer_id "
     "WHERE o.stage IN ('open','needs_attention') ORDER BY o.order_ref, l.line_no"},
};

const char *const sb_csv_kinds[] = {"branches", "customer_groups", "gl_accounts", "products", "boms",
                                    "stock", "customers", "orders", NULL};

static const kind *find_kind(const char *name) {
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kinds[i].name, name)) return &kinds[i];
    return NULL;
}

static int ncols(const kind *k) {
    int n = 0;
    while (n < MAXCOLS && k->cols[n].name) n++;
    return n;
}

int sb_csv_describe(const char *name, char *out, size_t outlen) {
    const kind *k = find_kind(name);
    out[0] = '\0';
    if (!k) return SB_ENOTFOUND;
    for (int i = 0; i < ncols(k); i++) {
        size_t l = strlen(out);
        snprintf(out + l, outlen - l, "%s%s%s", i ? "," : "", k->cols[i].name, k->cols[i].required ? "*" : "");
    }
    return 0;
}

/* ---- import -------------------------------------------------------------------- */

typedef struct import_ctx {
    sb_store *s;
    int64_t integ;
    const kind *k;
    const char *label;
    sb_csv_result *res;
    long line;                  /* physical line being fed */
    long row_line;              /* line where the current record started */
    int nfields;
    char *fields[64];
    int header_done;
    int map[MAXCOLS];           /* column -> field index, -1 when absent */
    int fatal;                  /* header problems: stop reading */
    sqlite3_stmt *exists, *upsert, *key;
    char err[SB_ERRLEN];
    int hard_error;             /* storage failure (not the file's fault) */
    int row_refused;            /* a field of this row was refused (NUL, too long) */
} import_ctx;

static void add_error(import_ctx *c, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_error(import_ctx *c, long line, const char *fmt, ...) {
    sb_csv_result *r = c->res;
    if (r->nerrors >= SB_CSV_MAX_ERRORS) { r->more_errors++; return; }
    char msg[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0) snprintf(r->errors[r->nerrors++], sizeof r->errors[0], "%s:%ld: %s", c->label, line, msg);
    else snprintf(r->errors[r->nerrors++], sizeof r->errors[0], "%s: %s", c->label, msg);
}

static int utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        int extra = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2 : (b & 0xF8) == 0xF0 ? 3 : -1;
        if (extra < 0 || (b >= 0xC0 && b < 0xC2) || b > 0xF4 || i + (size_t)extra >= n + (extra ? 0 : 1)) return 0;
        for (int j = 1; j <= extra; j++)
            if (i + (size_t)j >= n || (s[i + j] & 0xC0) != 0x80) return 0;
        i += (size_t)extra + 1;
    }
    return 1;
}

/* 1 when v, after any leading quotes, starts like a formula (csvio.h). */
static int formula_like(const char *v, size_t len) {
    size_t i = 0;
    while (i < len && v[i] == '\'') i++;
    return i < len && v[i] && strchr(SB_CSV_FORMULA_CHARS, v[i]);
}

static void on_field(void *data, size_t len, void *vc) {
    import_ctx *c = vc;
    if (c->nfields == 0) c->row_line = c->line;
    int col = c->nfields + 1;
    const char *nul = memchr(data, 0, len);
    if (len > SB_CSV_MAX_FIELD) {
        add_error(c, c->line, "column %d: the field has %zu bytes, more than the %d allowed", col, len, SB_CSV_MAX_FIELD);
        c->row_refused = 1;
        len = 0;
    } else if (nul) {
        /* a NUL would silently end the text where it is: refused, not cut */
        add_error(c, c->line, "column %d: a NUL byte (at byte %zu of the field) is not allowed", col,
                  (size_t)(nul - (const char *)data) + 1);
        c->row_refused = 1;
        len = 0;
    }
    const char *src = data;
    if (len > 1 && src[0] == '\'' && formula_like(src + 1, len - 1)) { src++; len--; }   /* export's ' */
    char *f = malloc(len + 1);
    if (!f) { c->hard_error = SB_ENOMEM; return; }
    if (len) memcpy(f, src, len);
    f[len] = '\0';
    if (c->nfields < 64) c->fields[c->nfields++] = f;
    else free(f);
}

static void clear_fields(import_ctx *c) {
    for (int i = 0; i < c->nfields; i++) free(c->fields[i]);
    c->nfields = 0;
    c->row_refused = 0;
}

static void do_header(import_ctx *c) {
    const kind *k = c->k;
    int n = ncols(k);
    char cols[400];
    sb_csv_describe(k->name, cols, sizeof cols);
    for (int i = 0; i < n; i++) c->map[i] = -1;
    for (int f = 0; f < c->nfields; f++) {
        char *h = c->fields[f];
        if (f == 0 && !strncmp(h, "\xEF\xBB\xBF", 3)) memmove(h, h + 3, strlen(h + 3) + 1);  /* BOM */
        for (char *p = h; *p; p++) *p = (char)tolower((unsigned char)*p);
        int found = -1;
        for (int i = 0; i < n; i++)
            if (!strcmp(k->cols[i].name, h)) found = i;
        if (found < 0) { add_error(c, c->row_line, "unknown column '%s' (columns of %s: %s)", h, k->name, cols); c->fatal = 1; continue; }
        if (c->map[found] >= 0) { add_error(c, c->row_line, "column '%s' appears twice", h); c->fatal = 1; continue; }
        c->map[found] = f;
    }
    for (int i = 0; i < n; i++)
        if (k->cols[i].required && c->map[i] < 0) {
            add_error(c, c->row_line, "missing required column '%s' (columns of %s: %s; * = required)", k->cols[i].name, k->name, cols);
            c->fatal = 1;
        }
    c->header_done = 1;
}

static int ref_exists(sb_store *s, enum coltype t, const char *v) {
    sqlite3_stmt *st;
    const char *sql = t == C_BRANCH ? "SELECT 1 FROM branches WHERE name = ?" :
                      t == C_PRODUCT ? "SELECT 1 FROM products WHERE sku = ?" :
                      t == C_GROUP ? "SELECT 1 FROM customer_groups WHERE name = ?" :
                                     "SELECT 1 FROM customers WHERE ref = ?";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return 0;
    sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/* Checks and converts field v of column col, binding it as parameter idx of st.
 * Returns 0, or -1 after add_error. */
static int bind_value(import_ctx *c, const column *col, const char *v, sqlite3_stmt *st, int idx) {
    long line = c->row_line;
    if (!*v) {
        if (col->required) { add_error(c, line, "column '%s': a value is required", col->name); return -1; }
        switch (col->type) {
        case C_BOOL: sqlite3_bind_int(st, idx, 0); break;
        case C_NUM: sqlite3_bind_double(st, idx, 0); break;
        case C_ORDER_TYPE: sqlite3_bind_text(st, idx, "standard", -1, SQLITE_STATIC); break;
        default: sqlite3_bind_null(st, idx); break;
        }
        return 0;
    }
    char *end;
    switch (col->type) {
    case C_TEXT:
        sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
        break;
    case C_BOOL:
        if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "y")) sqlite3_bind_int(st, idx, 1);
        else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "n")) sqlite3_bind_int(st, idx, 0);
        else { add_error(c, line, "column '%s': '%s' is not yes/no (allowed: yes, no, true, false, 1, 0)", col->name, v); return -1; }
        break;
    case C_NUM: case C_POS: {
        double d = strtod(v, &end);
        if (*end || !isfinite(d)) { add_error(c, line, "column '%s': '%s' is not a number", col->name, v); return -1; }
        if (col->type == C_POS ? d <= 0 : d < 0) { add_error(c, line, "column '%s': '%s' must be %s", col->name, v, col->type == C_POS ? "greater than 0" : "0 or more"); return -1; }
        sqlite3_bind_double(st, idx, d);
        break;
    }
    case C_LATENCY: {
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 30) { add_error(c, line, "column '%s': '%s' is not a handling time from 1 to 30 days", col->name, v); return -1; }
        sqlite3_bind_int(st, idx, (int)n);
        break;
    }
    case C_DATE: {
        int64_t t = sb_time_parse(v);
        char ts[32];
        if (t < 0) { add_error(c, line, "column '%s': '%s' is not a date (YYYY-MM-DD)", col->name, v); return -1; }
        if (strlen(v) == 10) sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
        else sqlite3_bind_text(st, idx, sb_time_format(t, ts, sizeof ts), -1, SQLITE_TRANSIENT);
        break;
    }
    case C_ORDER_TYPE:
        if (strcasecmp(v, "standard") && strcasecmp(v, "kit")) { add_error(c, line, "column '%s': '%s' is not an order type (allowed: standard, kit)", col->name, v); return -1; }
        sqlite3_bind_text(st, idx, !strcasecmp(v, "kit") ? "kit" : "standard", -1, SQLITE_STATIC);
        break;
    case C_COUNTRY:
        if (strlen(v) != 2 || !isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1])) { add_error(c, line, "column '%s': '%s' is not a two-letter country code such as US or AU", col->name, v); return -1; }
        sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
        break;
    case C_EMAIL:
        if (!strchr(v, '@') || strchr(v, ' ')) { add_error(c, line, "column '%s': '%s' is not an e-mail address", col->name, v); return -1; }
        sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
        break;
    case C_BRANCH: case C_PRODUCT: case C_GROUP: case C_CUSTOMER:
        if (!ref_exists(c->s, col->type, v)) {
            static const char *what[] = {[C_BRANCH] = "branch", [C_PRODUCT] = "product", [C_GROUP] = "customer group", [C_CUSTOMER] = "customer"};
            add_error(c, line, "column '%s': %s '%s' does not exist", col->name, what[col->type], v);
            return -1;
        }
        sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
        break;
    }
    return 0;
}

static const char *field_of(import_ctx *c, int col) {
    int f = c->map[col];
    return f >= 0 && f < c->nfields ? c->fields[f] : "";
}

/* Open orders: one CSV row per line; the first row of an order_ref in this file
 * replaces that imported order's lines. */
static int import_order_line(import_ctx *c) {
    sb_store *s = c->s;
    const char *ref = field_of(c, 0), *branch = field_of(c, 1), *sku = field_of(c, 2),
               *etd = field_of(c, 4), *cust = field_of(c, 5);
    double qty = strtod(field_of(c, 3), NULL);
    sqlite3_stmt *st = NULL;
    int64_t oid = 0;
    int rc = 0, fresh_in_file = 0;
    char e[SB_ERRLEN];
    /* temp table of refs handled in this file */
    if (sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO temp.import_orders(ref) VALUES (?)", -1, &st, NULL) != SQLITE_OK) goto dberr;
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) goto dberr;
    fresh_in_file = sqlite3_changes(s->db) > 0;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM sales_orders WHERE source = 'import' AND order_ref = ?", -1, &st, NULL) != SQLITE_OK) goto dberr;
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) oid = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (oid && fresh_in_file) {
        /* release what the old lines reserved, then drop them */
        char sql[256];
        if (sb_store_reserve_order(s, oid, NULL, -1, e)) goto dberr;
        snprintf(sql, sizeof sql, "DELETE FROM sales_order_lines WHERE order_id = %lld", (long long)oid);
        if (sb_store_exec(s, sql, e)) goto dberr;
        c->res->updated++;
    }
    if (!oid) {
        if (sqlite3_prepare_v2(s->db, "INSERT INTO sales_orders(integration_id, source, order_ref, stage, branch, etd, customer_id) "
                                      "VALUES (NULL, 'import', ?1, 'open', ?2, ?3, (SELECT id FROM customers WHERE ref = ?4))", -1, &st, NULL) != SQLITE_OK) goto dberr;
        c->res->inserted++;
    } else {
        if (sqlite3_prepare_v2(s->db, "UPDATE sales_orders SET branch = ?2, etd = ?3, customer_id = (SELECT id FROM customers "
                                      "WHERE ref = ?4), updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?5", -1, &st, NULL) != SQLITE_OK) goto dberr;
        sqlite3_bind_int64(st, 5, oid);
    }
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, branch, -1, SQLITE_STATIC);
    if (*etd) sqlite3_bind_text(st, 3, etd, 10, SQLITE_STATIC); else sqlite3_bind_null(st, 3);
    if (*cust) sqlite3_bind_text(st, 4, cust, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 4);
    if (sqlite3_step(st) != SQLITE_DONE) goto dberr;
    if (!oid) oid = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO sales_order_lines(order_id, line_no, sku, product_id, qty) VALUES (?1, "
                                  "(SELECT COALESCE(MAX(line_no), 0) + 1 FROM sales_order_lines WHERE order_id = ?1), ?2, "
                                  "(SELECT id FROM products WHERE sku = ?2), ?3)", -1, &st, NULL) != SQLITE_OK) goto dberr;
    sqlite3_bind_int64(st, 1, oid);
    sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, qty);
    if (sqlite3_step(st) != SQLITE_DONE) goto dberr;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM products WHERE sku = ?", -1, &st, NULL) != SQLITE_OK) goto dberr;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sb_store_reserve(s, sqlite3_column_int64(st, 0), branch, qty, e)) goto dberr;
    goto out;
dberr:
    rc = c->hard_error = sb_store_error(s, "storing order", c->err);
out:
    sqlite3_finalize(st);
    return rc;
}

static void on_row(int term, void *vc) {
    import_ctx *c = vc;
    (void)term;
    if (c->hard_error || c->fatal) { clear_fields(c); return; }
    if (!c->header_done) { do_header(c); clear_fields(c); return; }
    const kind *k = c->k;
    int n = ncols(k);
    c->res->rows++;
    int bad = 0;
    if (c->nfields == 1 && !c->fields[0][0]) { clear_fields(c); c->res->rows--; return; }  /* blank line */
    for (int f = 0; f < c->nfields; f++)
        if (!utf8_valid((const unsigned char *)c->fields[f], strlen(c->fields[f]))) {
            add_error(c, c->row_line, "column %d: not valid UTF-8 text (save the file as UTF-8)", f + 1);
            bad = 1;
        }
    if (bad || c->row_refused) { clear_fields(c); return; }   /* its problem is named already */
    /* in-file key */
    char keybuf[1024] = "";
    for (int i = 0; i < 3 && k->key[i]; i++) {
        size_t l = strlen(keybuf);
        snprintf(keybuf + l, sizeof keybuf - l, "%s%s", i ? "\x1f" : "", field_of(c, k->key[i] - 1));
    }
    sqlite3_reset(c->key);
    sqlite3_bind_text(c->key, 1, keybuf, -1, SQLITE_STATIC);
    if (sqlite3_step(c->key) != SQLITE_DONE) {
        char kdesc[300] = "";
        for (int i = 0; i < 3 && k->key[i]; i++) {
            size_t l = strlen(kdesc);
            snprintf(kdesc + l, sizeof kdesc - l, "%s %s '%s'", i ? "," : "", k->cols[k->key[i] - 1].name, field_of(c, k->key[i] - 1));
        }
        add_error(c, c->row_line, "duplicate key%s: this row repeats an earlier row of the file", kdesc);
        clear_fields(c);
        return;
    }
    sqlite3_stmt *st = c->upsert ? c->upsert : NULL;
    sqlite3_stmt *probe = NULL;
    if (!st) {   /* orders: validate with a throwaway statement */
        if (sqlite3_prepare_v2(c->s->db, "SELECT ?1,?2,?3,?4,?5,?6", -1, &probe, NULL) != SQLITE_OK) { c->hard_error = SB_EIO; clear_fields(c); return; }
        st = probe;
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    for (int i = 0; i < n; i++)
        if (bind_value(c, &k->cols[i], field_of(c, i), st, i + 1)) bad = 1;
    if (!bad && !strcmp(k->name, "boms")) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(c->s->db, "SELECT order_type FROM products WHERE sku = ?", -1, &q, NULL) == SQLITE_OK) {
            sqlite3_bind_text(q, 1, field_of(c, 0), -1, SQLITE_STATIC);
            if (sqlite3_step(q) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(q, 0), "kit")) {
                add_error(c, c->row_line, "column 'kit_sku': product '%s' is not a kit (set its order_type to kit)", field_of(c, 0));
                bad = 1;
            }
            sqlite3_finalize(q);
        }
        if (!bad && !strcmp(field_of(c, 0), field_of(c, 1))) { add_error(c, c->row_line, "column 'component_sku': a kit cannot contain itself"); bad = 1; }
    }
    if (!bad && c->res->nerrors == 0) {
        if (probe) {
            import_order_line(c);
        } else {
            int existed = 0;
            sqlite3_reset(c->exists);
            sqlite3_clear_bindings(c->exists);
            for (int i = 0; i < 3 && k->key[i]; i++)
                sqlite3_bind_text(c->exists, i + 1, field_of(c, k->key[i] - 1), -1, SQLITE_STATIC);
            existed = sqlite3_step(c->exists) == SQLITE_ROW;
            if (sqlite3_step(st) != SQLITE_DONE) {
                add_error(c, c->row_line, "cannot store the row: %s", sqlite3_errmsg(c->s->db));
            } else if (existed) c->res->updated++;
            else c->res->inserted++;
        }
    }
    sqlite3_finalize(probe);
    clear_fields(c);
}

int sb_csv_import_mem(sb_store *s, int64_t integ, const char *kname, const char *label,
                      const char *data, size_t len, sb_csv_result *res, char *err) {
    memset(res, 0, sizeof *res);
    const kind *k = find_kind(kname);
    if (!k) return sb_seterr(err, SB_EINVAL, "'%s' is not a kind of data (allowed: branches, customer_groups, "
                             "gl_accounts, products, boms, stock, customers, orders)", kname);
    import_ctx c = {.s = s, .integ = integ, .k = k, .label = label, .res = res, .line = 1};
    struct csv_parser p;
    int rc = 0, began = 0;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) return SB_ENOMEM;
    csv_set_blk_size(&p, 16384);   /* libcsv grows a field by this much: fewer, larger steps */
    if ((rc = sb_store_begin(s, err))) goto out;
    began = 1;
    if ((rc = sb_store_exec(s, "CREATE TEMP TABLE IF NOT EXISTS import_keys(k TEXT PRIMARY KEY);"
                               "CREATE TEMP TABLE IF NOT EXISTS import_orders(ref TEXT PRIMARY KEY);"
                               "DELETE FROM temp.import_keys; DELETE FROM temp.import_orders;", err))) goto out;
    if ((rc = sb_store_prepare(s, "INSERT INTO temp.import_keys(k) VALUES (?)", &c.key, err))) goto out;
    if (k->upsert_sql) {
        if ((rc = sb_store_prepare(s, k->upsert_sql, &c.upsert, err))) goto out;
        if ((rc = sb_store_prepare(s, k->exists_sql, &c.exists, err))) goto out;
    }
    /* feed one physical line at a time so rows know their line numbers, in pieces of at
     * most a field's size so that libcsv never holds more than that of one field */
    size_t off = 0;
    while (off < len && !c.fatal && !c.hard_error) {
        const char *nl = memchr(data + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (data + off)) + 1 : len - off;
        for (size_t done = 0; done < n && !c.fatal;) {
            size_t piece = n - done < SB_CSV_MAX_FIELD ? n - done : SB_CSV_MAX_FIELD;
            if (csv_parse(&p, data + off + done, piece, on_field, on_row, &c) != piece) {
                add_error(&c, c.line, "malformed CSV: %s (a quote is not closed or a quoted field is followed by text)",
                          csv_strerror(csv_error(&p)));
                c.fatal = 1;
            } else if (p.entry_pos > SB_CSV_MAX_FIELD) {
                add_error(&c, c.line, "column %d: a field longer than the %d bytes allowed", c.nfields + 1, SB_CSV_MAX_FIELD);
                c.fatal = 1;
            }
            done += piece;
        }
        if (c.fatal) break;
        off += n;
        c.line++;
    }
    if (!c.fatal && !c.hard_error && csv_fini(&p, on_field, on_row, &c) != 0) {
        add_error(&c, c.line - 1, "malformed CSV: %s (a quote is not closed at the end of the file)", csv_strerror(csv_error(&p)));
    }
    clear_fields(&c);
    if (!c.header_done && !res->nerrors) add_error(&c, 0, "the file is empty: expected a header row");
    if (c.hard_error) { rc = sb_seterr(err, c.hard_error, "%s: %s", label, c.err); goto out; }
    if (res->nerrors) {
        rc = sb_seterr(err, SB_EINVAL, "%s: %d problem%s%s; nothing was imported", label,
                       res->nerrors + res->more_errors, res->nerrors + res->more_errors == 1 ? "" : "s",
                       res->more_errors ? " (first ones shown)" : "");
        goto out;
    }
    rc = sb_store_commit(s, err);
    began = 0;
out:
    sqlite3_finalize(c.key);
    sqlite3_finalize(c.upsert);
    sqlite3_finalize(c.exists);
    if (began) sb_store_rollback(s);
    if (rc) res->inserted = res->updated = 0;
    csv_free(&p);
    return rc;
}

int sb_csv_import(sb_store *s, int64_t integ, const char *kname, const char *path,
                  sb_csv_result *res, char *err) {
    char *data = NULL;
    size_t len = 0;
    memset(res, 0, sizeof *res);
    int rc = sb_file_read(path, &data, &len, (size_t)256 << 20, err);
    if (rc) return rc;
    const char *base = strrchr(path, '/');
    rc = sb_csv_import_mem(s, integ, kname, base ? base + 1 : path, data, len, res, err);
    free(data);
    return rc;
}

int sb_csv_export(sb_store *s, int64_t integ, const char *kname, FILE *out, char *err) {
    const kind *k = find_kind(kname);
    (void)integ;
    if (!k) return sb_seterr(err, SB_EINVAL, "'%s' is not a kind of data (allowed: branches, customer_groups, "
                             "gl_accounts, products, boms, stock, customers, orders)", kname);
    int n = ncols(k);
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', out);
        fputs(k->cols[i].name, out);
    }
    fputc('\n', out);
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, k->export_sql, &st, err);
    if (rc) return rc;
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) {
            if (i) fputc(',', out);
            const char *v = (const char *)sqlite3_column_text(st, i);
            char num[64];
            if (sqlite3_column_type(st, i) == SQLITE_FLOAT) {
                snprintf(num, sizeof num, "%.15g", sqlite3_column_double(st, i));
                v = num;
            }
            if (v && *v && formula_like(v, strlen(v))) {   /* a spreadsheet shows it as text */
                sb_buf q;
                sb_buf_init(&q, strlen(v) + 16);
                sb_buf_printf(&q, "'%s", v);
                csv_fwrite(out, q.data, q.len);
                sb_buf_free(&q);
            } else if (v && *v) {
                csv_fwrite(out, v, strlen(v));
            }
        }
        fputc('\n', out);
    }
    sqlite3_finalize(st);
    return 0;
}
