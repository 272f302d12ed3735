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
#include "store/import.h"

enum coltype { C_TEXT, C_BOOL, C_NUM, C_POS, C_LATENCY, C_DATE, C_ORDER_TYPE, C_COUNTRY,
               C_EMAIL, C_BRANCH, C_PRODUCT, C_GROUP, C_CUSTOMER };

typedef struct column { const char *name; enum coltype type; int required; } column;

#define MAXCOLS 14
typedef struct kind {
    const char *name;
    column cols[MAXCOLS];
    int key[3];                 /* column indexes + 1 forming the in-file key; 0 ends */
} kind;

static const kind kinds[] = {
    {"branches", {{"name", C_TEXT, 1}, {"country", C_COUNTRY, 0}, {"state", C_TEXT, 0}, {"address", C_TEXT, 0}}, {1}},
    {"customer_groups", {{"name", C_TEXT, 1}}, {1}},
    {"gl_accounts", {{"code", C_TEXT, 1}, {"name", C_TEXT, 0}}, {1}},
    {"products", {{"sku", C_TEXT, 1}, {"asin", C_TEXT, 0}, {"name", C_TEXT, 0}, {"created_date", C_DATE, 0},
                  {"batch_tracked", C_BOOL, 0}, {"serial_tracked", C_BOOL, 0}, {"order_type", C_ORDER_TYPE, 0},
                  {"buffer_stock", C_NUM, 0}, {"latency", C_LATENCY, 0}}, {1}},
    {"boms", {{"kit_sku", C_PRODUCT, 1}, {"component_sku", C_PRODUCT, 1}, {"qty", C_POS, 1}}, {1, 2}},
    {"stock", {{"sku", C_PRODUCT, 1}, {"branch", C_BRANCH, 1}, {"on_hand", C_NUM, 1}}, {1, 2}},
    {"customers", {{"ref", C_TEXT, 1}, {"channel_customer_id", C_TEXT, 0}, {"email", C_EMAIL, 0}, {"name", C_TEXT, 0},
                   {"company", C_TEXT, 0}, {"phone", C_TEXT, 0}, {"address1", C_TEXT, 0}, {"address2", C_TEXT, 0},
                   {"city", C_TEXT, 0}, {"state", C_TEXT, 0}, {"postcode", C_TEXT, 0}, {"country", C_COUNTRY, 0},
                   {"group", C_GROUP, 0}}, {1}},
    {"orders", {{"order_ref", C_TEXT, 1}, {"branch", C_BRANCH, 1}, {"sku", C_PRODUCT, 1}, {"qty", C_POS, 1},
                {"etd", C_DATE, 0}, {"customer_ref", C_CUSTOMER, 0}}, {1, 3}},
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
    sb_store_import *im;        /* the transaction and statements of this import */
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

/* A failure of the store (not the file's fault): the import stops with it. */
static void hard(import_ctx *c, int rc, const char *e) {
    if (!c->hard_error) snprintf(c->err, sizeof c->err, "%s", e);
    c->hard_error = rc;
}

/* Checks and converts field v of column col into *out (date text into own, 32 bytes).
 * Returns 0, or -1 after add_error (or with c->hard_error set when the store failed). */
static int value_of(import_ctx *c, const column *col, const char *v, sb_store_value *out, char *own) {
    long line = c->row_line;
    *out = (sb_store_value){.type = SB_VAL_NULL};
    if (!*v) {
        if (col->required) { add_error(c, line, "column '%s': a value is required", col->name); return -1; }
        switch (col->type) {
        case C_BOOL: *out = (sb_store_value){.type = SB_VAL_INT, .i = 0}; break;
        case C_NUM: *out = (sb_store_value){.type = SB_VAL_REAL, .d = 0}; break;
        case C_ORDER_TYPE: *out = (sb_store_value){.type = SB_VAL_TEXT, .text = "standard"}; break;
        default: break;
        }
        return 0;
    }
    char *end;
    switch (col->type) {
    case C_TEXT:
        *out = (sb_store_value){.type = SB_VAL_TEXT, .text = v};
        break;
    case C_BOOL:
        if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "y")) *out = (sb_store_value){.type = SB_VAL_INT, .i = 1};
        else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "n")) *out = (sb_store_value){.type = SB_VAL_INT, .i = 0};
        else { add_error(c, line, "column '%s': '%s' is not yes/no (allowed: yes, no, true, false, 1, 0)", col->name, v); return -1; }
        break;
    case C_NUM: case C_POS: {
        double d = strtod(v, &end);
        if (*end || !isfinite(d)) { add_error(c, line, "column '%s': '%s' is not a number", col->name, v); return -1; }
        if (col->type == C_POS ? d <= 0 : d < 0) { add_error(c, line, "column '%s': '%s' must be %s", col->name, v, col->type == C_POS ? "greater than 0" : "0 or more"); return -1; }
        *out = (sb_store_value){.type = SB_VAL_REAL, .d = d};
        break;
    }
    case C_LATENCY: {
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 30) { add_error(c, line, "column '%s': '%s' is not a handling time from 1 to 30 days", col->name, v); return -1; }
        *out = (sb_store_value){.type = SB_VAL_INT, .i = n};
        break;
    }
    case C_DATE: {
        int64_t t = sb_time_parse(v);
        if (t < 0) { add_error(c, line, "column '%s': '%s' is not a date (YYYY-MM-DD)", col->name, v); return -1; }
        *out = (sb_store_value){.type = SB_VAL_TEXT, .text = strlen(v) == 10 ? v : sb_time_format(t, own, 32)};
        break;
    }
    case C_ORDER_TYPE:
        if (strcasecmp(v, "standard") && strcasecmp(v, "kit")) { add_error(c, line, "column '%s': '%s' is not an order type (allowed: standard, kit)", col->name, v); return -1; }
        *out = (sb_store_value){.type = SB_VAL_TEXT, .text = !strcasecmp(v, "kit") ? "kit" : "standard"};
        break;
    case C_COUNTRY:
        if (strlen(v) != 2 || !isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1])) { add_error(c, line, "column '%s': '%s' is not a two-letter country code such as US or AU", col->name, v); return -1; }
        *out = (sb_store_value){.type = SB_VAL_TEXT, .text = v};
        break;
    case C_EMAIL:
        if (!strchr(v, '@') || strchr(v, ' ')) { add_error(c, line, "column '%s': '%s' is not an e-mail address", col->name, v); return -1; }
        *out = (sb_store_value){.type = SB_VAL_TEXT, .text = v};
        break;
    case C_BRANCH: case C_PRODUCT: case C_GROUP: case C_CUSTOMER: {
        static const sb_store_ref ref[] = {[C_BRANCH] = SB_REF_BRANCH, [C_PRODUCT] = SB_REF_PRODUCT,
                                           [C_GROUP] = SB_REF_GROUP, [C_CUSTOMER] = SB_REF_CUSTOMER};
        char e[SB_ERRLEN];
        int found = sb_store_ref_exists(c->s, ref[col->type], v, e);
        if (found < 0) { hard(c, found, e); return -1; }
        if (!found) {
            static const char *what[] = {[C_BRANCH] = "branch", [C_PRODUCT] = "product", [C_GROUP] = "customer group", [C_CUSTOMER] = "customer"};
            add_error(c, line, "column '%s': %s '%s' does not exist", col->name, what[col->type], v);
            return -1;
        }
        *out = (sb_store_value){.type = SB_VAL_TEXT, .text = v};
        break;
    }
    }
    return 0;
}

static const char *field_of(import_ctx *c, int col) {
    int f = c->map[col];
    return f >= 0 && f < c->nfields ? c->fields[f] : "";
}

/* Open orders: one CSV row per line; the first row of an order_ref in this file
 * replaces that imported order's lines. */
static void import_order_line(import_ctx *c) {
    int created, replaced;
    char e[SB_ERRLEN];
    int rc = sb_store_import_order_line(c->im, field_of(c, 0), field_of(c, 1), field_of(c, 2),
                                        strtod(field_of(c, 3), NULL), field_of(c, 4), field_of(c, 5),
                                        &created, &replaced, e);
    if (rc) { hard(c, rc, e); return; }
    if (created) c->res->inserted++;
    if (replaced) c->res->updated++;
}

static void on_row(int term, void *vc) {
    import_ctx *c = vc;
    (void)term;
    if (c->hard_error || c->fatal) { clear_fields(c); return; }
    if (!c->header_done) { do_header(c); clear_fields(c); return; }
    const kind *k = c->k;
    int n = ncols(k);
    c->res->rows++;
    int bad = 0, rc;
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
    int dup;
    char e[SB_ERRLEN];
    if ((rc = sb_store_import_key(c->im, keybuf, &dup, e))) { hard(c, rc, e); clear_fields(c); return; }
    if (dup) {
        char kdesc[300] = "";
        for (int i = 0; i < 3 && k->key[i]; i++) {
            size_t l = strlen(kdesc);
            snprintf(kdesc + l, sizeof kdesc - l, "%s %s '%s'", i ? "," : "", k->cols[k->key[i] - 1].name, field_of(c, k->key[i] - 1));
        }
        add_error(c, c->row_line, "duplicate key%s: this row repeats an earlier row of the file", kdesc);
        clear_fields(c);
        return;
    }
    sb_store_value vals[MAXCOLS];
    char own[MAXCOLS][32];
    for (int i = 0; i < n; i++)
        if (value_of(c, &k->cols[i], field_of(c, i), &vals[i], own[i])) bad = 1;
    if (c->hard_error) { clear_fields(c); return; }
    if (!bad && !strcmp(k->name, "boms")) {
        int kit = 1;
        if ((rc = sb_store_product_is_kit(c->s, field_of(c, 0), &kit, e))) { hard(c, rc, e); clear_fields(c); return; }
        if (!kit) {
            add_error(c, c->row_line, "column 'kit_sku': product '%s' is not a kit (set its order_type to kit)", field_of(c, 0));
            bad = 1;
        }
        if (!bad && !strcmp(field_of(c, 0), field_of(c, 1))) { add_error(c, c->row_line, "column 'component_sku': a kit cannot contain itself"); bad = 1; }
    }
    if (!bad && c->res->nerrors == 0) {
        if (!strcmp(k->name, "orders")) {
            import_order_line(c);
        } else {
            const char *keys[3];
            int nkeys = 0, existed;
            for (int i = 0; i < 3 && k->key[i]; i++) keys[nkeys++] = field_of(c, k->key[i] - 1);
            if (sb_store_import_row(c->im, vals, n, keys, nkeys, &existed, e)) add_error(c, c->row_line, "%s", e);
            else if (existed) c->res->updated++;
            else c->res->inserted++;
        }
    }
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
    int rc = 0;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) return SB_ENOMEM;
    csv_set_blk_size(&p, 16384);   /* libcsv grows a field by this much: fewer, larger steps */
    if ((rc = sb_store_import_begin(s, k->name, &c.im, err))) goto out;
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
    rc = sb_store_import_commit(c.im, err);
out:
    sb_store_import_end(c.im);      /* rolls back what was not committed */
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

/* One exported row (sb_store_export_fn): numbers stored as reals written with 15
 * digits, formula cells neutralised. */
static int export_row(void *ud, const sb_store_value *v, int n) {
    FILE *out = ud;
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', out);
        const char *t = v[i].text;
        char num[64];
        if (v[i].type == SB_VAL_REAL) {
            snprintf(num, sizeof num, "%.15g", v[i].d);
            t = num;
        }
        if (t && *t && formula_like(t, strlen(t))) {   /* a spreadsheet shows it as text */
            sb_buf q;
            sb_buf_init(&q, strlen(t) + 16);
            sb_buf_printf(&q, "'%s", t);
            csv_fwrite(out, q.data, q.len);
            sb_buf_free(&q);
        } else if (t && *t) {
            csv_fwrite(out, t, strlen(t));
        }
    }
    fputc('\n', out);
    return 0;
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
    return sb_store_export_each(s, k->name, export_row, out, err);
}
