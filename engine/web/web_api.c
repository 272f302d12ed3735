/* web_api.c: the JSON admin API under /api/v1 (routes listed in route() below).
 *
 * Handlers read with a borrowed connection (rq->s) and write JSON with sb_jw. Writes go
 * through the same functions as the CLI (sb_settings_set, sb_orders_fix), inside one
 * transaction per request, so a refused change returns 400 {"error": the CLI's message}
 * and leaves the database as it was. Nothing here runs a rule or loads a rule pack: the
 * retry of held orders is a job (web_jobs.c) and the pack check has its own thread
 * (web_rules.c), so a slow pack never holds a request thread. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "sync/engine.h"
#include "sync/orders.h"
#include "sync/fix.h"
#include "sync/tracking.h"
#include "web/web_int.h"

static const char *const stages[] = {"open", "needs_attention", "rule_error", "rejected", "dispatched", "cancelled", NULL};

/* ---- helpers ---- */

void sb_web_jw_col(sb_jw *jw, const char *key, void *stmt, int i) {
    sqlite3_stmt *st = stmt;
    sb_jw_key(jw, key);
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: sb_jw_int(jw, sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: sb_jw_num(jw, sqlite3_column_double(st, i)); break;
    case SQLITE_NULL: sb_jw_null(jw); break;
    default: sb_jw_str(jw, (const char *)sqlite3_column_text(st, i));
    }
}

/* Writes every column of the current row under its SQL name. */
static void jw_row(sb_jw *jw, sqlite3_stmt *st) {
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) sb_web_jw_col(jw, sqlite3_column_name(st, i), st, i);
}

/* A stored JSON text (canonical setting, audit decision, counts): raw when it parses,
 * else as a string, so a bad row can never break the response. */
static void jw_json_text(sb_jw *jw, const char *text) {
    if (!text) { sb_jw_null(jw); return; }
    sb_json *j = NULL;
    char err[SB_ERRLEN];
    if (*text && sb_json_parse(text, strlen(text), &j, err) == 0) sb_jw_raw(jw, text, strlen(text));
    else sb_jw_str(jw, text);
    sb_json_free(j);
}

void sb_web_begin_ok(sb_web_resp *rs, sb_jw *jw) {
    rs->status = 200;
    rs->ctype = "application/json";
    sb_buf_reset(&rs->body);
    sb_jw_init(jw, &rs->body);
}

static int db_fail(sb_web_req *rq, sb_web_resp *rs, const char *what) {
    return sb_web_error(rs, 500, "%s: %s", what, sqlite3_errmsg(rq->s->db));
}

static long arg_long(sb_web_req *rq, const char *name, long dflt, long lo, long hi) {
    const char *v = sb_web_arg(rq, name);
    if (!v || !*v) return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end) return dflt;
    return n < lo ? lo : n > hi ? hi : n;
}

static int is_list_type(sb_setting_type t) {
    return t == SB_ST_ENUM_LIST || t == SB_ST_STRING_LIST || t == SB_ST_BRANCH_LIST || t == SB_ST_GRID ||
           t == SB_ST_MARKETPLACES;
}

/* Re-encodes a request value as JSON text (an empty table is an empty list here: no
 * setting takes an empty object). */
static void reencode(sb_json *j, int node, sb_jw *jw) {
    switch (sb_json_type(j, node, NULL)) {
    case SB_JSON_BOOL: sb_jw_bool(jw, sb_json_bool(j, node, NULL, 0)); break;
    case SB_JSON_NUM: {
        double v = sb_json_num(j, node, NULL, 0);
        if (v == floor(v) && fabs(v) < 1e15) sb_jw_int(jw, (long long)v); else sb_jw_num(jw, v);
        break;
    }
    case SB_JSON_STR: sb_jw_str(jw, sb_json_str(j, node, NULL)); break;
    case SB_JSON_ARR: {
        sb_jw_arr(jw);
        size_t n = sb_json_len(j, node, NULL);
        for (size_t i = 0; i < n; i++) reencode(j, sb_json_at(j, node, i), jw);
        sb_jw_end_arr(jw);
        break;
    }
    case SB_JSON_OBJ: {
        int it = 0, first = 1;
        const char *k;
        int v;
        while ((v = sb_json_next(j, node, &it, &k))) {
            if (first) sb_jw_obj(jw);
            first = 0;
            sb_jw_key(jw, k);
            reencode(j, v, jw);
        }
        if (first) { sb_jw_arr(jw); sb_jw_end_arr(jw); }
        else sb_jw_end_obj(jw);
        break;
    }
    default: sb_jw_null(jw);
    }
}

/* The text `settings set NAME TEXT` would get for a JSON value: strings as they are,
 * booleans true/false, numbers in plain notation, lists and rows as JSON. NULL = null. */
static char *value_text(sb_json *j, int node) {
    int t = sb_json_type(j, node, NULL);
    if (t == SB_JSON_NULL || t == SB_JSON_NONE) return NULL;
    if (t == SB_JSON_STR) return sb_strdup(sb_json_str(j, node, NULL));
    sb_buf b;
    sb_buf_init(&b, SB_WEB_MAX_BODY * 2);
    sb_jw jw;
    sb_jw_init(&jw, &b);
    reencode(j, node, &jw);
    if (!b.data) return sb_strdup("");
    return b.data;
}

static void jw_setting_value(sb_jw *jw, const sb_setting_def *d, const char *v) {
    if (!v) v = "";
    switch (d->type) {
    case SB_ST_BOOL: sb_jw_bool(jw, !strcmp(v, "true")); break;
    case SB_ST_INT: if (*v) sb_jw_int(jw, strtoll(v, NULL, 10)); else sb_jw_null(jw); break;
    case SB_ST_NUMBER: if (*v) sb_jw_num(jw, strtod(v, NULL)); else sb_jw_null(jw); break;
    default:
        if (is_list_type(d->type)) {
            if (*v == '[') jw_json_text(jw, v);
            else { sb_jw_arr(jw); sb_jw_end_arr(jw); }
        } else sb_jw_str(jw, v);
    }
}

static void jw_names(sb_web_req *rq, sb_jw *jw, const char *key, const char *sql) {
    sqlite3_stmt *st;
    sb_jw_key(jw, key);
    sb_jw_arr(jw);
    if (sqlite3_prepare_v2(rq->s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) sb_jw_str(jw, (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sb_jw_end_arr(jw);
}

static void jw_choices(sb_web_req *rq, sb_jw *jw) {
    sb_jw_key(jw, "choices");
    sb_jw_obj(jw);
    jw_names(rq, jw, "branches", "SELECT name FROM branches ORDER BY name");
    jw_names(rq, jw, "groups", "SELECT name FROM customer_groups ORDER BY name");
    jw_names(rq, jw, "gl_accounts", "SELECT code FROM gl_accounts ORDER BY code");
    sb_jw_end_obj(jw);
}

/* ---- settings ---- */

/* A stable machine name per type, for the page's form generator. */
static const char *kind_name(sb_setting_type t) {
    static const char *const k[] = {"bool", "int", "number", "enum", "string", "datetime", "time", "branch",
        "branch_list", "customer", "group", "gl", "enum_list", "string_list", "grid", "url", "tz",
        "marketplaces", "path"};
    return (unsigned)t < sizeof k / sizeof *k ? k[t] : "string";
}

static void settings_get(sb_web_req *rq, sb_web_resp *rs) {
    sb_web *w = rq->w;
    sb_settings st;
    char err[SB_ERRLEN];
    if (sb_settings_load(rq->s, w->integ, &st, err)) { sb_web_error(rs, 500, "%s", err); return; }
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    sb_jw_kstr(&jw, "integration", w->integ_name);
    sb_jw_key(&jw, "sections");
    sb_jw_arr(&jw);
    static const char *const sections[] = {"Products", "Stock", "Orders", "Additional", "Integration"};
    for (int i = 0; i < 5; i++) sb_jw_str(&jw, sections[i]);
    sb_jw_end_arr(&jw);
    sb_jw_key(&jw, "settings");
    sb_jw_arr(&jw);
    for (int i = 0; i < st.n; i++) {
        const sb_setting_def *d = st.defs[i];
        char allowed[1024];
        sb_settings_describe_allowed(d, allowed, sizeof allowed);
        sb_jw_obj(&jw);
        sb_jw_kstr(&jw, "name", d->name);
        sb_jw_kstr(&jw, "section", d->section);
        sb_jw_kstr(&jw, "type", sb_settings_type_name(d->type));
        sb_jw_kstr(&jw, "kind", kind_name(d->type));
        sb_jw_kstr(&jw, "label", d->label);
        sb_jw_kstr(&jw, "allowed", allowed);
        if (d->allowed) {
            sb_jw_key(&jw, "options");
            sb_jw_arr(&jw);
            for (const char *p = d->allowed; *p;) {
                const char *bar = strchr(p, '|');
                size_t n = bar ? (size_t)(bar - p) : strlen(p);
                sb_jw_strn(&jw, p, n);
                p += n + (bar ? 1 : 0);
            }
            sb_jw_end_arr(&jw);
        }
        if (d->type == SB_ST_INT || d->type == SB_ST_NUMBER) {
            sb_jw_key(&jw, "min"); sb_jw_num(&jw, d->min);
            sb_jw_key(&jw, "max"); sb_jw_num(&jw, d->max);
        }
        sb_jw_key(&jw, "default");
        jw_setting_value(&jw, d, d->def);
        sb_jw_key(&jw, "value");
        jw_setting_value(&jw, d, st.values[i]);
        sb_jw_kbool(&jw, "is_set", st.is_set[i]);
        sb_jw_end_obj(&jw);
    }
    sb_jw_end_arr(&jw);
    sb_settings_free(&st);
    jw_choices(rq, &jw);
    /* credentials: masked only; the plain value is wiped as soon as it is masked */
    sb_jw_key(&jw, "credentials");
    sb_jw_arr(&jw);
    unsigned char key[SB_KEY_LEN];
    int have_key = sb_secrets_key(w->db_path, 0, key, err) == 0;
    for (int i = 0; sb_credential_names[i]; i++) {
        char masked[64] = "(key file unavailable)";
        char *v = NULL;
        if (have_key) {
            int r = sb_secrets_get(rq->s, w->integ, sb_credential_names[i], &v, key, err);
            if (r == 0) sb_mask(v, masked, sizeof masked);
            else snprintf(masked, sizeof masked, "%s", r == SB_ENOTFOUND ? "(not set)" : "(cannot decrypt)");
            sb_secrets_wipe(v);
        }
        sb_jw_obj(&jw);
        sb_jw_kstr(&jw, "name", sb_credential_names[i]);
        sb_jw_kstr(&jw, "masked", masked);
        sb_jw_end_obj(&jw);
    }
    memset(key, 0, sizeof key);
    sb_jw_end_arr(&jw);
    sb_jw_end_obj(&jw);
}

/* Sets names[i] = texts[i] (NULL text = unset) in one transaction: all or nothing. */
static void settings_apply(sb_web_req *rq, sb_web_resp *rs, const char **names, char **texts, int n) {
    char err[SB_ERRLEN], host[256];
    /* a token holder must not be able to send the credentials elsewhere: the endpoints
     * that receive them take only Amazon's own hosts here (others: the CLI, on the host).
     * A value the CLI would refuse gets the CLI's message (400), as every setting does. */
    for (int k = 0; k < n; k++) {
        if (!texts[k] || !sb_settings_sends_credentials(names[k])) continue;
        char *canon = NULL;
        int vrc = sb_settings_validate(rq->s, rq->w->integ, sb_settings_find(names[k]), texts[k], &canon, err);
        free(canon);
        if (vrc) { sb_web_error(rs, 400, "%s", err); return; }
        if (!sb_settings_amazon_endpoint(texts[k], host, sizeof host)) {
            sb_web_error(rs, 403, "%s: the dashboard sets only Amazon's own hosts (https on amazon.com, "
                         "amazon.co.uk or amazon.co.jp), not '%s', because this URL receives the Amazon "
                         "credentials; change it with 'sellerbridge settings set %s URL' on the machine",
                         names[k], host, names[k]);
            return;
        }
    }
    int rc = sb_store_begin(rq->s, err), i = 0;
    if (rc) { sb_web_error(rs, sb_web_status_of(rc), "%s", err); return; }
    for (i = 0; i < n && !rc; i++)
        rc = texts[i] ? sb_settings_set(rq->s, rq->w->integ, names[i], texts[i], err)
                      : sb_settings_unset(rq->s, rq->w->integ, names[i], err);
    if (!rc) rc = sb_store_commit(rq->s, err);
    else sb_store_rollback(rq->s);
    if (rc) {
        int status = rc == SB_EINVAL || rc == SB_ENOTFOUND ? 400 : sb_web_status_of(rc);
        sb_web_error(rs, status, "%s", err);
        return;
    }
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    sb_jw_kbool(&jw, "ok", 1);
    sb_jw_key(&jw, "changed");
    sb_jw_arr(&jw);
    for (i = 0; i < n; i++) sb_jw_str(&jw, names[i]);
    sb_jw_end_arr(&jw);
    sb_jw_end_obj(&jw);
    sb_info("web: settings changed count=%d first=%s", n, n ? names[0] : "-");
}

#define MAX_SET 128

/* PUT /settings {"NAME": value, ...} (or {"settings": {...}}); PUT /settings/NAME
 * {"value": v}; DELETE /settings/NAME. */
static void settings_put(sb_web_req *rq, sb_web_resp *rs, const char *one, int del) {
    const char *names[MAX_SET];
    char *texts[MAX_SET];
    int n = 0;
    sb_json *j = rq->json;
    if (one) {
        if (!del && !sb_json_get(j, SB_JSON_ROOT, "value")) {
            sb_web_error(rs, 400, "expected a JSON body {\"value\": ...}");
            return;
        }
        names[0] = one;
        texts[0] = del ? NULL : value_text(j, sb_json_get(j, SB_JSON_ROOT, "value"));
        n = 1;
    } else {
        int obj = sb_json_get(j, SB_JSON_ROOT, "settings");
        if (!obj) obj = sb_json_get(j, SB_JSON_ROOT, NULL);
        if (!obj || sb_json_type(j, obj, NULL) != SB_JSON_OBJ) {
            sb_web_error(rs, 400, "expected a JSON object {\"setting.name\": value, ...}");
            return;
        }
        int it = 0, v;
        const char *k;
        while ((v = sb_json_next(j, obj, &it, &k)) && n < MAX_SET) {
            names[n] = k;
            texts[n] = value_text(j, v);
            n++;
        }
        if (!n) { sb_web_error(rs, 400, "no settings in the request"); return; }
    }
    settings_apply(rq, rs, names, texts, n);
    for (int i = 0; i < n; i++) free(texts[i]);
}

/* ---- routing grid (the setting orders.routing.grid and its two companions) ---- */

static void routing_get(sb_web_req *rq, sb_web_resp *rs) {
    static const char *const names[] = {"orders.routing.enabled", "orders.routing.grid", "orders.routing.no_stock",
                                        "orders.split", "additional.mf_branch"};
    static const char *const keys[] = {"enabled", "grid", "no_stock", "split", "default_branch"};
    char err[SB_ERRLEN];
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    for (int i = 0; i < 5; i++) {
        char *v = NULL;
        int is_set;
        if (sb_settings_get(rq->s, rq->w->integ, names[i], &v, &is_set, err)) { free(v); sb_web_error(rs, 500, "%s", err); return; }
        sb_jw_key(&jw, keys[i]);
        jw_setting_value(&jw, sb_settings_find(names[i]), v);
        free(v);
    }
    jw_choices(rq, &jw);
    sb_jw_end_obj(&jw);
}

static void routing_put(sb_web_req *rq, sb_web_resp *rs) {
    static const char *const names[] = {"orders.routing.grid", "orders.routing.enabled", "orders.routing.no_stock", "orders.split"};
    static const char *const keys[] = {"grid", "enabled", "no_stock", "split"};
    const char *set[4];
    char *texts[4];
    int n = 0;
    for (int i = 0; i < 4; i++) {
        int node = sb_json_get(rq->json, SB_JSON_ROOT, keys[i]);
        if (!node) continue;
        set[n] = names[i];
        texts[n] = value_text(rq->json, node);
        n++;
    }
    if (!n) { sb_web_error(rs, 400, "expected {\"grid\": [rows], \"enabled\": bool, \"no_stock\": \"keep\"|\"default\"}"); return; }
    settings_apply(rq, rs, set, texts, n);
    for (int i = 0; i < n; i++) free(texts[i]);
}

/* ---- orders ---- */

#define ORDER_LIST_COLS \
    "o.order_ref AS \"order\", o.split_no AS split, o.stage, o.amazon_status AS status, o.branch, " \
    "o.fulfilled_by, o.total, o.currency, COALESCE(c.name, o.buyer_name) AS customer, o.invoice_no, " \
    "COALESCE(o.rule_error, o.attention_reason) AS problem, o.ship_country AS country, o.created_time AS created, " \
    "o.updated_time AS updated, o.dispatched_at "

static int valid_stage(const char *s) {
    for (int i = 0; stages[i]; i++) if (!strcmp(stages[i], s)) return 1;
    return 0;
}

static void orders_list(sb_web_req *rq, sb_web_resp *rs) {
    const char *stage = sb_web_arg(rq, "stage"), *status = sb_web_arg(rq, "status");
    if (stage && !*stage) stage = NULL;
    if (status && !*status) status = NULL;
    if (stage && !valid_stage(stage)) {
        sb_web_error(rs, 400, "stage '%s' is not one of open, needs_attention, rule_error, rejected, dispatched, cancelled", stage);
        return;
    }
    long limit = arg_long(rq, "limit", 50, 1, 500), page = arg_long(rq, "page", 1, 1, 1000000);
    char sql[1024];
    /* newest first by row id: an index walk, whatever the table's size */
    snprintf(sql, sizeof sql, "SELECT " ORDER_LIST_COLS "FROM sales_orders o LEFT JOIN customers c ON c.id = o.customer_id "
             "WHERE o.integration_id = ?1%s%s ORDER BY o.id DESC LIMIT ?4 OFFSET ?5",
             stage ? " AND o.stage = ?2" : "", status ? " AND o.amazon_status = ?3" : "");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(rq->s->db, sql, -1, &st, NULL) != SQLITE_OK) { db_fail(rq, rs, "orders"); return; }
    sqlite3_bind_int64(st, 1, rq->w->integ);
    if (stage) sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
    if (status) sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, limit + 1);
    sqlite3_bind_int64(st, 5, (page - 1) * limit);
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    sb_jw_kint(&jw, "page", page);
    sb_jw_kint(&jw, "limit", limit);
    sb_jw_key(&jw, "orders");
    sb_jw_arr(&jw);
    long n = 0;
    int more = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == limit) { more = 1; break; }
        sb_jw_obj(&jw);
        jw_row(&jw, st);
        sb_jw_end_obj(&jw);
        n++;
    }
    sqlite3_finalize(st);
    sb_jw_end_arr(&jw);
    sb_jw_kbool(&jw, "has_more", more);
    sb_jw_end_obj(&jw);
}

/* Writes the order's splits with their lines and shipments; returns how many. */
static int jw_order_splits(sb_web_req *rq, sb_jw *jw, const char *ref) {
    sqlite3_stmt *st, *l;
    if (sqlite3_prepare_v2(rq->s->db,
            "SELECT o.id, o.order_ref AS \"order\", o.split_no AS split, o.stage, o.amazon_status AS status, o.branch, "
            "o.distribution_branch, o.fulfilled_by, o.service_level, o.programs, o.marketplace_id AS marketplace, "
            "o.created_time AS created, o.updated_time AS updated, c.ref AS customer_ref, "
            "COALESCE(c.name, o.buyer_name) AS customer, o.buyer_email, o.gl_account, o.invoice_no, o.invoice_date, "
            "o.payment_type, o.total, o.shipping_total, o.currency, o.ship_name, o.ship_city, o.ship_state, "
            "o.ship_postal, o.ship_country, o.etd, o.attention_reason AS attention, o.rule_error, "
            "o.rule_pack_hash AS pack_hash, o.dispatched_at, o.auto_dispatched "
            "FROM sales_orders o LEFT JOIN customers c ON c.id = o.customer_id "
            "WHERE o.integration_id = ?1 AND o.source IN ('amazon','import') AND o.order_ref = ?2 ORDER BY o.split_no",
            -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_int64(st, 1, rq->w->integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    int found = 0;
    sb_jw_key(jw, "splits");
    sb_jw_arr(jw);
    while (sqlite3_step(st) == SQLITE_ROW) {
        found++;
        int64_t oid = sqlite3_column_int64(st, 0);
        sb_jw_obj(jw);
        jw_row(jw, st);
        sb_jw_key(jw, "lines");
        sb_jw_arr(jw);
        if (sqlite3_prepare_v2(rq->s->db, "SELECT line_no AS line, item_id, sku, asin, title, qty, qty_dispatched AS dispatched, "
                                          "unit_price, line_total, kit_sku, stock_bearing FROM sales_order_lines "
                                          "WHERE order_id = ? ORDER BY line_no", -1, &l, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(l, 1, oid);
            while (sqlite3_step(l) == SQLITE_ROW) { sb_jw_obj(jw); jw_row(jw, l); sb_jw_end_obj(jw); }
            sqlite3_finalize(l);
        }
        sb_jw_end_arr(jw);
        sb_jw_key(jw, "shipments");
        sb_jw_arr(jw);
        if (sqlite3_prepare_v2(rq->s->db, "SELECT carrier, service, tracking, shipped_at, confirm_state, lines "
                                          "FROM shipments WHERE order_id = ? ORDER BY id", -1, &l, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(l, 1, oid);
            while (sqlite3_step(l) == SQLITE_ROW) {
                sb_jw_obj(jw);
                for (int i = 0; i < 5; i++) sb_web_jw_col(jw, sqlite3_column_name(l, i), l, i);
                sb_jw_key(jw, "lines");
                jw_json_text(jw, (const char *)sqlite3_column_text(l, 5));
                sb_jw_end_obj(jw);
            }
            sqlite3_finalize(l);
        }
        sb_jw_end_arr(jw);
        sb_jw_end_obj(jw);
    }
    sb_jw_end_arr(jw);
    sqlite3_finalize(st);
    return found;
}

static void order_get(sb_web_req *rq, sb_web_resp *rs, const char *ref, int explain) {
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    sb_jw_kstr(&jw, "order", ref);
    int found = jw_order_splits(rq, &jw, ref);
    if (found < 0) { db_fail(rq, rs, "order"); return; }
    if (!found) { sb_web_error(rs, 404, "order %s is not stored for this integration", ref); return; }
    if (explain) {
        sqlite3_stmt *a;
        sb_jw_key(&jw, "decisions");
        sb_jw_arr(&jw);
        if (sqlite3_prepare_v2(rq->s->db, "SELECT at, hook, pack_hash, decision FROM audit WHERE integration_id = ?1 "
                                          "AND order_ref = ?2 ORDER BY id", -1, &a, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(a, 1, rq->w->integ);
            sqlite3_bind_text(a, 2, ref, -1, SQLITE_STATIC);
            while (sqlite3_step(a) == SQLITE_ROW) {
                sb_jw_obj(&jw);
                sb_web_jw_col(&jw, "at", a, 0);
                sb_web_jw_col(&jw, "hook", a, 1);
                sb_web_jw_col(&jw, "pack", a, 2);
                sb_jw_key(&jw, "decision");
                jw_json_text(&jw, (const char *)sqlite3_column_text(a, 3));
                sb_jw_end_obj(&jw);
            }
            sqlite3_finalize(a);
        }
        sb_jw_end_arr(&jw);
    }
    sb_jw_end_obj(&jw);
}

/* A person fixes a held order: a branch (the stock reservation moves with it) and/or
 * resolved (back to open); the same function as `orders fix`. */
static void order_fix(sb_web_req *rq, sb_web_resp *rs, const char *ref) {
    const char *branch = sb_json_str(rq->json, SB_JSON_ROOT, "branch");
    int resolve = sb_json_bool(rq->json, SB_JSON_ROOT, "resolve", 0);
    if (branch && !*branch) branch = NULL;
    if (!branch && !resolve) { sb_web_error(rs, 400, "fix needs {\"branch\": NAME} and/or {\"resolve\": true}"); return; }
    char err[SB_ERRLEN];
    int rc = sb_orders_fix(rq->s, rq->w->integ, ref, branch, resolve, "web", err);
    if (rc) { sb_web_error(rs, sb_web_status_of(rc), "%s", err); return; }
    sb_info("web: order fixed order=%s branch=%s resolved=%d", ref, branch ? branch : "(kept)", resolve);
    order_get(rq, rs, ref, 0);
}

static void attention_list(sb_web_req *rq, sb_web_resp *rs) {
    long limit = arg_long(rq, "limit", 200, 1, 1000);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(rq->s->db, "SELECT " ORDER_LIST_COLS ", o.rule_pack_hash AS pack_hash FROM sales_orders o "
                                      "LEFT JOIN customers c ON c.id = o.customer_id WHERE o.integration_id = ?1 "
                                      "AND o.stage IN ('needs_attention','rule_error','rejected') ORDER BY o.id DESC LIMIT ?2",
                           -1, &st, NULL) != SQLITE_OK) { db_fail(rq, rs, "attention"); return; }
    sqlite3_bind_int64(st, 1, rq->w->integ);
    sqlite3_bind_int64(st, 2, limit);
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    sb_jw_key(&jw, "orders");
    sb_jw_arr(&jw);
    while (sqlite3_step(st) == SQLITE_ROW) { sb_jw_obj(&jw); jw_row(&jw, st); sb_jw_end_obj(&jw); }
    sqlite3_finalize(st);
    sb_jw_end_arr(&jw);
    /* how many there are in all, so a list that stops can say "showing 200 of 10925" */
    if (sqlite3_prepare_v2(rq->s->db, "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM sales_order_lines l "
                                      "WHERE l.order_id = o.id AND l.stock_bearing = 1 AND l.product_id IS NULL)) "
                                      "FROM sales_orders o WHERE o.integration_id = ?1 "
                                      "AND o.stage IN ('needs_attention','rule_error','rejected')", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, rq->w->integ);
        if (sqlite3_step(st) == SQLITE_ROW) {
            sb_jw_kint(&jw, "total", sqlite3_column_int64(st, 0));
            sb_jw_kint(&jw, "unknown_sku", sqlite3_column_int64(st, 1));
        }
        sqlite3_finalize(st);
    }
    sb_jw_kint(&jw, "limit", limit);
    jw_choices(rq, &jw);
    sb_jw_end_obj(&jw);
}

static void summary(sb_web_req *rq, sb_web_resp *rs) {
    sqlite3_stmt *st;
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    sb_jw_kstr(&jw, "integration", rq->w->integ_name);
    sb_jw_kstr(&jw, "version", SB_VERSION);
    sb_jw_kbool(&jw, "tracking_available", 1);
    sb_jw_key(&jw, "stages");
    sb_jw_obj(&jw);
    for (int i = 0; stages[i]; i++) {
        long n = 0;
        if (sqlite3_prepare_v2(rq->s->db, "SELECT COUNT(*) FROM sales_orders WHERE stage = ?1 AND integration_id = ?2",
                               -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, stages[i], -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, rq->w->integ);
            if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        sb_jw_kint(&jw, stages[i], n);
    }
    sb_jw_end_obj(&jw);
    /* Amazon's clock as the last orders pass measured it (its Date headers), or null */
    sb_jw_key(&jw, "amazon_clock");
    int have = 0;
    if (sqlite3_prepare_v2(rq->s->db, "SELECT json_extract(last_counts, '$.amazon_clock_skew_ms'), last_run_at FROM sync_state "
                           "WHERE integration_id = ?1 AND job = 'orders' AND json_valid(last_counts) "
                           "AND json_extract(last_counts, '$.amazon_clock_skew_ms') IS NOT NULL", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, rq->w->integ);
        if (sqlite3_step(st) == SQLITE_ROW) {
            have = 1;
            sb_jw_obj(&jw);
            sb_jw_kint(&jw, "skew_ms", sqlite3_column_int64(st, 0));
            sb_jw_kstr(&jw, "measured_at", (const char *)sqlite3_column_text(st, 1));
            sb_jw_end_obj(&jw);
        }
        sqlite3_finalize(st);
    }
    if (!have) sb_jw_null(&jw);
    sb_jw_end_obj(&jw);
}

/* ---- dispatch, stock, rules ---- */

static void jw_counts(sb_web_req *rq, sb_jw *jw, const char *key, const char *sql) {
    sqlite3_stmt *st;
    sb_jw_key(jw, key);
    sb_jw_obj(jw);
    if (sqlite3_prepare_v2(rq->s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, rq->w->integ);
        while (sqlite3_step(st) == SQLITE_ROW)
            sb_jw_kint(jw, sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "(none)",
                       sqlite3_column_int64(st, 1));
        sqlite3_finalize(st);
    }
    sb_jw_end_obj(jw);
}

static void dispatch_get(sb_web_req *rq, sb_web_resp *rs) {
    char err[SB_ERRLEN], *v = NULL;
    int is_set;
    sb_settings_get(rq->s, rq->w->integ, "additional.auto_update_status", &v, &is_set, err);
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    sb_jw_kbool(&jw, "auto_update_status", v && !strcmp(v, "true"));
    free(v);
    sb_jw_kbool(&jw, "tracking_available", 1);
    jw_counts(rq, &jw, "confirm_states", "SELECT s.confirm_state, COUNT(*) FROM shipments s JOIN sales_orders o ON o.id = s.order_id "
                                          "WHERE o.integration_id = ?1 GROUP BY s.confirm_state");
    jw_counts(rq, &jw, "outbox", "SELECT kind || ':' || status, COUNT(*) FROM outbox WHERE integration_id = ?1 GROUP BY kind, status");
    sqlite3_stmt *st;
    sb_jw_key(&jw, "shipments");
    sb_jw_arr(&jw);
    if (sqlite3_prepare_v2(rq->s->db, "SELECT o.order_ref AS \"order\", o.split_no AS split, o.branch, s.carrier, s.service, "
                                      "s.tracking, s.shipped_at, s.confirm_state FROM shipments s JOIN sales_orders o "
                                      "ON o.id = s.order_id WHERE o.integration_id = ?1 ORDER BY s.id DESC LIMIT ?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, rq->w->integ);
        sqlite3_bind_int64(st, 2, arg_long(rq, "limit", 100, 1, 1000));
        while (sqlite3_step(st) == SQLITE_ROW) { sb_jw_obj(&jw); jw_row(&jw, st); sb_jw_end_obj(&jw); }
        sqlite3_finalize(st);
    }
    sb_jw_end_arr(&jw);
    sb_jw_end_obj(&jw);
}

/* "Update Dispatched Orders": queue every unconfirmed eligible package and send the due
 * confirmations now (sb_tracking_send manual), holding the engine lock like a job run. */
static void update_dispatched(sb_web_req *rq, sb_web_resp *rs) {
    sb_web *w = rq->w;
    char err[SB_ERRLEN] = "";
    if (w->o.run_job) {
        int rc = w->o.run_job(w->o.run_job_ud, "update-dispatched", err);
        if (rc) sb_web_error(rs, sb_web_status_of(rc), "%s", err);
        else { rs->status = 202; rs->ctype = "application/json"; sb_buf_reset(&rs->body);
               sb_buf_printf(&rs->body, "{\"started\":true,\"message\":\"confirmation of dispatched orders started\"}"); }
        return;
    }
    sb_store *s = NULL;
    sb_engine *e = NULL;
    sb_tracking_result r;
    memset(&r, 0, sizeof r);
    int rc = sb_store_open(w->db_path, 0, &s, err);
    if (!rc) rc = sb_store_lock_engine(s, err);
    if (!rc) rc = sb_engine_open(s, w->db_path, w->integ, &e, err);
    int sent_rc = rc ? rc : sb_tracking_send(e, 1, &r, err);
    if (e && e->api) sb_web_add_stats(w, e->api);
    sb_engine_close(e);
    sb_store_close(s);
    if (rc || (sent_rc && sent_rc != SB_EHTTP)) { sb_web_error(rs, sb_web_status_of(rc ? rc : sent_rc), "%s", err); return; }
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    char msg[SB_ERRLEN + 256];
    snprintf(msg, sizeof msg, "%ld newly queued, %ld sent to Amazon, %ld failed, %ld waiting to retry, %ld need no confirmation%s%s",
             r.queued, r.sent, r.failed, r.retry_later, r.not_required, sent_rc ? ": " : "", sent_rc ? err : "");
    sb_jw_kbool(&jw, "ok", sent_rc == 0);
    sb_jw_kstr(&jw, "message", msg);
    sb_jw_kint(&jw, "queued", r.queued);
    sb_jw_kint(&jw, "due", r.due);
    sb_jw_kint(&jw, "sent", r.sent);
    sb_jw_kint(&jw, "failed", r.failed);
    sb_jw_kint(&jw, "retry_later", r.retry_later);
    sb_jw_kint(&jw, "not_required", r.not_required);
    sb_jw_end_obj(&jw);
    sb_info("web: update dispatched orders integration=%s sent=%ld failed=%ld", w->integ_name, r.sent, r.failed);
}

static void stock_get(sb_web_req *rq, sb_web_resp *rs) {
    int errors_only = arg_long(rq, "errors", 0, 0, 1);
    long limit = arg_long(rq, "limit", 200, 1, 5000), page = arg_long(rq, "page", 1, 1, 1000000);
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    jw_counts(rq, &jw, "counts", "SELECT COALESCE(status,'(none)'), COUNT(*) FROM stock_sent WHERE integration_id = ?1 GROUP BY status");
    sqlite3_stmt *st;
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT sku, quantity, latency, sent_at, status, error FROM stock_sent WHERE integration_id = ?1 %s "
             "ORDER BY (error IS NULL), sent_at DESC, sku LIMIT ?2 OFFSET ?3", errors_only ? "AND error IS NOT NULL" : "");
    sb_jw_key(&jw, "items");
    sb_jw_arr(&jw);
    if (sqlite3_prepare_v2(rq->s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, rq->w->integ);
        sqlite3_bind_int64(st, 2, limit);
        sqlite3_bind_int64(st, 3, (page - 1) * limit);
        while (sqlite3_step(st) == SQLITE_ROW) { sb_jw_obj(&jw); jw_row(&jw, st); sb_jw_end_obj(&jw); }
        sqlite3_finalize(st);
    }
    sb_jw_end_arr(&jw);
    sb_jw_end_obj(&jw);
}

/* ---- routing of requests ---- */

void sb_web_api(sb_web_req *rq, sb_web_resp *rs) {
    char path[512];
    char *seg[6] = {0};
    int n = 0;
    snprintf(path, sizeof path, "%s", rq->path);
    for (char *p = strtok(path, "/"); p && n < 6; p = strtok(NULL, "/")) seg[n++] = p;
    const char *m = rq->method;
    int get = !strcmp(m, "GET") || !strcmp(m, "HEAD"), post = !strcmp(m, "POST"), put = !strcmp(m, "PUT"),
        del = !strcmp(m, "DELETE");
#define IS(i, s) (n > (i) && !strcmp(seg[i], s))
    if (n == 0) { sb_web_error(rs, 404, "see /api/v1/summary, settings, routing, orders, attention, jobs, status, dispatch, stock, rules"); return; }
    if (IS(0, "summary") && n == 1 && get) summary(rq, rs);
    else if (IS(0, "settings") && n == 1 && get) settings_get(rq, rs);
    else if (IS(0, "settings") && n == 1 && put) settings_put(rq, rs, NULL, 0);
    else if (IS(0, "settings") && n == 2 && (put || del)) settings_put(rq, rs, seg[1], del);
    else if (IS(0, "routing") && n == 1 && get) routing_get(rq, rs);
    else if (IS(0, "routing") && n == 1 && put) routing_put(rq, rs);
    else if (IS(0, "orders") && n == 1 && get) orders_list(rq, rs);
    else if (IS(0, "orders") && n == 2 && get) order_get(rq, rs, seg[1], 0);
    else if (IS(0, "orders") && n == 3 && IS(2, "explain") && get) order_get(rq, rs, seg[1], 1);
    else if (IS(0, "orders") && n == 3 && IS(2, "fix") && post) order_fix(rq, rs, seg[1]);
    else if (IS(0, "orders") && n == 3 && IS(2, "retry") && post) sb_web_retry_run(rq, seg[1], rs);
    else if (IS(0, "attention") && n == 1 && get) attention_list(rq, rs);
    else if (IS(0, "attention") && n == 2 && IS(1, "retry") && post) sb_web_retry_run(rq, NULL, rs);
    else if (IS(0, "jobs") && n == 1 && get) sb_web_jobs_get(rq, rs);
    else if (IS(0, "status") && n == 1 && get) sb_web_status_get(rq, rs);
    else if (IS(0, "jobs") && n == 3 && IS(2, "run") && post) sb_web_jobs_run(rq, seg[1], rs);
    else if (IS(0, "dispatch") && n == 1 && get) dispatch_get(rq, rs);
    else if (IS(0, "update-dispatched") && n == 1 && post) update_dispatched(rq, rs);
    else if (IS(0, "stock") && n == 1 && get) stock_get(rq, rs);
    else if (IS(0, "rules") && n == 1 && get) sb_web_rules_get(rq, rs);
    else sb_web_error(rs, 404, "no such API call: %s /api/v1%s", m, rq->path);
#undef IS
}
