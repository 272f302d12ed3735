/* views_status.c: the documents about the integration rather than one order: orders by
 * stage and Amazon's clock (summary), shipments and their confirmations (dispatch), each
 * job's last run and the schedule (jobs), confirmations to Amazon (outbox), the last stock
 * upload per SKU (stock), and the settings page (settings, setting) with the choices its
 * drop-downs offer and the credentials masked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "settings/help.h"
#include "views/views_int.h"

/* ---- summary and dispatch (the dashboard's header and its Dispatch tab) ---- */

/* {name: count} of a two-column statement (?1 the integration); NULL names "(none)". */
static int counts(const sb_view_ctx *c, sb_jw *jw, const char *key, const char *sql, char *err) {
    sqlite3_stmt *st;
    int rc = sb_vw_prepare(c, sql, &st, key, err), r;
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->integ);
    sb_jw_key(jw, key);
    sb_jw_obj(jw);
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        sb_jw_kint(jw, sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "(none)",
                   sqlite3_column_int64(st, 1));
    if (r != SQLITE_DONE) rc = sb_seterr(err, SB_EIO, "%s: %s", key, sqlite3_errmsg(c->s->db));
    sb_jw_end_obj(jw);
    sqlite3_finalize(st);
    return rc;
}

int sb_view_summary(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    sqlite3_stmt *st;
    int rc = sb_vw_prepare(c, "SELECT COUNT(*) FROM sales_orders WHERE stage = ?1 AND integration_id = ?2", &st, "summary", err);
    if (rc) return rc;
    sb_jw_obj(jw);
    sb_jw_kstr(jw, "integration", c->integ_name);
    sb_jw_kstr(jw, "version", SB_VERSION);
    sb_jw_kbool(jw, "tracking_available", 1);
    sb_jw_key(jw, "stages");
    sb_jw_obj(jw);
    for (int i = 0; sb_vw_stages[i] && !rc; i++) {
        long n = 0;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, sb_vw_stages[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, c->integ);
        rc = sb_vw_count(c, st, &n, "summary", err);
        sb_jw_kint(jw, sb_vw_stages[i], n);
    }
    sqlite3_finalize(st);
    sb_jw_end_obj(jw);
    /* Amazon's clock as the last orders pass measured it (its Date headers), or null */
    if (!rc) rc = sb_vw_prepare(c, "SELECT json_extract(last_counts, '$.amazon_clock_skew_ms'), last_run_at FROM sync_state "
                                   "WHERE integration_id = ?1 AND job = 'orders' AND json_valid(last_counts) "
                                   "AND json_extract(last_counts, '$.amazon_clock_skew_ms') IS NOT NULL", &st, "summary", err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->integ);
    sb_jw_key(jw, "amazon_clock");
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        sb_jw_obj(jw);
        sb_jw_kint(jw, "skew_ms", sqlite3_column_int64(st, 0));
        sb_jw_kstr(jw, "measured_at", (const char *)sqlite3_column_text(st, 1));
        sb_jw_end_obj(jw);
    } else if (r == SQLITE_DONE) sb_jw_null(jw);
    else rc = sb_seterr(err, SB_EIO, "summary: %s", sqlite3_errmsg(c->s->db));
    sqlite3_finalize(st);
    sb_jw_end_obj(jw);
    return rc;
}

int sb_view_dispatch(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    long limit;
    char *v = NULL;
    int is_set;
    int rc = sb_vw_arg_long(c, a, "limit", 100, 1, 1000, &limit, err);
    if (!rc) rc = sb_settings_get(c->s, c->integ, "additional.auto_update_status", &v, &is_set, err);
    if (rc) return rc;
    sb_jw_obj(jw);
    sb_jw_kbool(jw, "auto_update_status", v && !strcmp(v, "true"));
    free(v);
    sb_jw_kbool(jw, "tracking_available", 1);
    rc = counts(c, jw, "confirm_states", "SELECT s.confirm_state, COUNT(*) FROM shipments s JOIN sales_orders o "
                                         "ON o.id = s.order_id WHERE o.integration_id = ?1 GROUP BY s.confirm_state", err);
    if (!rc) rc = counts(c, jw, "outbox", "SELECT kind || ':' || status, COUNT(*) FROM outbox WHERE integration_id = ?1 "
                                          "GROUP BY kind, status", err);
    sqlite3_stmt *st = NULL;
    if (!rc) rc = sb_vw_prepare(c, "SELECT o.order_ref AS \"order\", o.split_no AS split, o.branch, s.carrier, s.service, "
                                   "s.tracking, s.shipped_at, s.confirm_state FROM shipments s JOIN sales_orders o "
                                   "ON o.id = s.order_id WHERE o.integration_id = ?1 ORDER BY s.id DESC LIMIT ?2",
                                &st, "dispatch", err);
    if (!rc) {
        sqlite3_bind_int64(st, 1, c->integ);
        sqlite3_bind_int64(st, 2, limit);
        sb_jw_key(jw, "shipments");
        sb_jw_arr(jw);
        rc = sb_vw_rows(c, st, jw, "dispatch", err);
        sb_jw_end_arr(jw);
    }
    sqlite3_finalize(st);
    sb_jw_end_obj(jw);
    return rc;
}

/* ---- jobs ---- */

int sb_view_jobs(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    sqlite3_stmt *st;
    int rc = sb_vw_prepare(c, "SELECT job, last_run_at, last_success_at, next_check_at, empty_streak, last_error, "
                              "last_counts FROM sync_state WHERE integration_id = ?1 ORDER BY job", &st, "jobs", err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->integ);
    sb_jw_obj(jw);
    sb_jw_key(jw, "jobs");
    sb_jw_arr(jw);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        sb_jw_obj(jw);
        for (int i = 0; i < 6; i++) sb_vw_col(jw, sqlite3_column_name(st, i), st, i);
        const char *counts = (const char *)sqlite3_column_text(st, 6);
        sb_jw_key(jw, "last_counts");
        if (counts && *counts == '{') sb_jw_raw(jw, counts, strlen(counts)); else sb_jw_null(jw);
        sb_jw_end_obj(jw);
    }
    if (r != SQLITE_DONE) rc = sb_seterr(err, SB_EIO, "jobs: %s", sqlite3_errmsg(c->s->db));
    sqlite3_finalize(st);
    sb_jw_end_arr(jw);
    /* the schedule as the settings say it */
    static const char *const names[] = {"orders.enabled", "orders.auto_download", "orders.auto_download_start",
                                        "orders.last_updated", "stock.enabled", "products.enabled", "integration.timezone"};
    sb_jw_key(jw, "schedule");
    sb_jw_obj(jw);
    for (int i = 0; i < 7 && !rc; i++) {
        char *v = NULL;
        int is_set;
        rc = sb_settings_get(c->s, c->integ, names[i], &v, &is_set, err);
        if (!rc) {
            if (!strcmp(v, "true") || !strcmp(v, "false")) sb_jw_kbool(jw, names[i], !strcmp(v, "true"));
            else sb_jw_kstr(jw, names[i], v);
        }
        free(v);
    }
    sb_jw_end_obj(jw);
    /* the web server's run-now worker; elsewhere there is none */
    static const sb_view_run_now idle = {0};
    const sb_view_run_now *rn = c->run_now ? c->run_now : &idle;
    sb_jw_key(jw, "run_now");
    sb_jw_obj(jw);
    sb_jw_kbool(jw, "running", rn->running);
    sb_jw_kstr(jw, "job", rn->job && *rn->job ? rn->job : NULL);
    sb_jw_kstr(jw, "started", rn->started && *rn->started ? rn->started : NULL);
    sb_jw_kstr(jw, "finished", rn->finished && *rn->finished ? rn->finished : NULL);
    sb_jw_kstr(jw, "error", rn->error && *rn->error ? rn->error : NULL);
    sb_jw_key(jw, "result");
    if (rn->result && *rn->result) sb_jw_raw(jw, rn->result, strlen(rn->result)); else sb_jw_null(jw);
    sb_jw_end_obj(jw);
    sb_jw_end_obj(jw);
    return rc;
}

/* ---- outbox ---- */

#define OUTBOX_WHERE "WHERE integration_id = ?1 AND (?2 OR status <> 'sent' OR last_error IS NOT NULL) "

int sb_view_outbox(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    long all, limit, offset, total = 0;
    int rc = sb_vw_arg_long(c, a, "all", 0, 0, 1, &all, err);
    if (!rc) rc = sb_vw_paging(c, a, 500, 5000, &limit, &offset, err);
    sqlite3_stmt *st = NULL;
    if (!rc) rc = sb_vw_prepare(c, "SELECT COUNT(*) FROM (SELECT 1 FROM outbox " OUTBOX_WHERE "LIMIT ?3)", &st, "outbox", err);
    if (!rc) {
        sqlite3_bind_int64(st, 1, c->integ);
        sqlite3_bind_int(st, 2, (int)all);
        sqlite3_bind_int64(st, 3, sb_vw_count_cap(offset));
        rc = sb_vw_count(c, st, &total, "outbox", err);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!rc) rc = sb_vw_prepare(c, "SELECT kind, key, status, attempts, next_attempt_at, sent_at, last_error FROM outbox "
                                   OUTBOX_WHERE "ORDER BY status = 'sent', id LIMIT ?3 OFFSET ?4", &st, "outbox", err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->integ);
    sqlite3_bind_int(st, 2, (int)all);
    sqlite3_bind_int64(st, 3, limit);
    sqlite3_bind_int64(st, 4, offset);
    sb_jw_obj(jw);
    sb_jw_kbool(jw, "all", (int)all);
    rc = sb_vw_page(c, st, jw, "items", limit, offset, total, err);
    sqlite3_finalize(st);
    sb_jw_end_obj(jw);
    return rc;
}

/* ---- stock ---- */

/* errors=1: what did not go through (not accepted, or with an error) */
#define STOCK_WHERE "WHERE integration_id = ?1 AND (NOT ?2 OR status IS NULL OR status <> 'accepted' OR error IS NOT NULL) "

int sb_view_stock(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    long errors, limit, offset, total = 0;
    int rc = sb_vw_arg_long(c, a, "errors", 0, 0, 1, &errors, err);
    if (!rc) rc = sb_vw_paging(c, a, 200, 5000, &limit, &offset, err);
    if (rc) return rc;
    sqlite3_stmt *st = NULL;
    sb_jw_obj(jw);
    sb_jw_kbool(jw, "errors", (int)errors);
    sb_jw_key(jw, "counts");
    sb_jw_obj(jw);
    rc = sb_vw_prepare(c, "SELECT COALESCE(status,'(none)'), COUNT(*) FROM stock_sent WHERE integration_id = ?1 "
                          "GROUP BY status ORDER BY status", &st, "stock", err);
    if (!rc) {
        sqlite3_bind_int64(st, 1, c->integ);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) sb_jw_kint(jw, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
        if (r != SQLITE_DONE) rc = sb_seterr(err, SB_EIO, "stock: %s", sqlite3_errmsg(c->s->db));
    }
    sqlite3_finalize(st);
    st = NULL;
    sb_jw_end_obj(jw);
    if (!rc) rc = sb_vw_prepare(c, "SELECT COUNT(*) FROM (SELECT 1 FROM stock_sent " STOCK_WHERE "LIMIT ?3)", &st, "stock", err);
    if (!rc) {
        sqlite3_bind_int64(st, 1, c->integ);
        sqlite3_bind_int(st, 2, (int)errors);
        sqlite3_bind_int64(st, 3, sb_vw_count_cap(offset));
        rc = sb_vw_count(c, st, &total, "stock", err);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (!rc) rc = sb_vw_prepare(c, "SELECT sku, quantity, latency, sent_at, status, error, attempts FROM stock_sent "
                                   STOCK_WHERE "ORDER BY (error IS NULL), sent_at DESC, sku LIMIT ?3 OFFSET ?4", &st, "stock", err);
    if (!rc) {
        sqlite3_bind_int64(st, 1, c->integ);
        sqlite3_bind_int(st, 2, (int)errors);
        sqlite3_bind_int64(st, 3, limit);
        sqlite3_bind_int64(st, 4, offset);
        rc = sb_vw_page(c, st, jw, "items", limit, offset, total, err);
    }
    sqlite3_finalize(st);
    sb_jw_end_obj(jw);
    return rc;
}

/* ---- settings ---- */

static int is_list_type(sb_setting_type t) {
    return t == SB_ST_ENUM_LIST || t == SB_ST_STRING_LIST || t == SB_ST_BRANCH_LIST || t == SB_ST_GRID ||
           t == SB_ST_MARKETPLACES;
}

/* A stable machine name per type, for the page's form generator. */
static const char *kind_name(sb_setting_type t) {
    static const char *const k[] = {"bool", "int", "number", "enum", "string", "datetime", "time", "branch",
        "branch_list", "customer", "group", "gl", "enum_list", "string_list", "grid", "url", "tz",
        "marketplaces", "path"};
    return (unsigned)t < sizeof k / sizeof *k ? k[t] : "string";
}

void sb_view_setting_value(sb_jw *jw, const struct sb_setting_def *d, const char *v) {
    if (!v) v = "";
    switch (d->type) {
    case SB_ST_BOOL: sb_jw_bool(jw, !strcmp(v, "true")); break;
    case SB_ST_INT: if (*v) sb_jw_int(jw, strtoll(v, NULL, 10)); else sb_jw_null(jw); break;
    case SB_ST_NUMBER: if (*v) sb_jw_num(jw, strtod(v, NULL)); else sb_jw_null(jw); break;
    default:
        if (is_list_type(d->type)) {
            if (*v == '[') sb_vw_json_text(jw, v);
            else { sb_jw_arr(jw); sb_jw_end_arr(jw); }
        } else sb_jw_str(jw, v);
    }
}

static int names(const sb_view_ctx *c, sb_jw *jw, const char *key, const char *sql, char *err) {
    sqlite3_stmt *st;
    int rc = sb_vw_prepare(c, sql, &st, key, err), r;
    if (rc) return rc;
    sb_jw_key(jw, key);
    sb_jw_arr(jw);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) sb_jw_str(jw, (const char *)sqlite3_column_text(st, 0));
    if (r != SQLITE_DONE) rc = sb_seterr(err, SB_EIO, "%s: %s", key, sqlite3_errmsg(c->s->db));
    sb_jw_end_arr(jw);
    sqlite3_finalize(st);
    return rc;
}

int sb_view_choices(const sb_view_ctx *c, sb_jw *jw, char *err) {
    sb_jw_key(jw, "choices");
    sb_jw_obj(jw);
    int rc = names(c, jw, "branches", "SELECT name FROM branches ORDER BY name", err);
    if (!rc) rc = names(c, jw, "groups", "SELECT name FROM customer_groups ORDER BY name", err);
    if (!rc) rc = names(c, jw, "gl_accounts", "SELECT code FROM gl_accounts ORDER BY code", err);
    sb_jw_end_obj(jw);
    return rc;
}

static void setting_obj(sb_jw *jw, const sb_setting_def *d, const char *value, int is_set) {
    char allowed[1024];
    sb_settings_describe_allowed(d, allowed, sizeof allowed);
    sb_jw_obj(jw);
    sb_jw_kstr(jw, "name", d->name);
    sb_jw_kstr(jw, "section", d->section);
    sb_jw_kstr(jw, "type", sb_settings_type_name(d->type));
    sb_jw_kstr(jw, "kind", kind_name(d->type));
    sb_jw_kstr(jw, "label", d->label);
    /* the page's own label and help beside the option, where the page has the setting */
    if (sb_settings_page_label(d->name)) sb_jw_kstr(jw, "page_label", sb_settings_page_label(d->name));
    if (sb_settings_help(d->name)) sb_jw_kstr(jw, "help", sb_settings_help(d->name));
    sb_jw_kstr(jw, "allowed", allowed);
    if (d->allowed) {
        sb_jw_key(jw, "options");
        sb_jw_arr(jw);
        for (const char *p = d->allowed; *p;) {
            const char *bar = strchr(p, '|');
            size_t n = bar ? (size_t)(bar - p) : strlen(p);
            sb_jw_strn(jw, p, n);
            p += n + (bar ? 1 : 0);
        }
        sb_jw_end_arr(jw);
        /* the page's words for them, where it has some */
        int any = 0;
        for (const char *p = d->allowed; *p;) {
            const char *bar = strchr(p, '|');
            size_t n = bar ? (size_t)(bar - p) : strlen(p);
            char v[128];
            snprintf(v, sizeof v, "%.*s", (int)n, p);
            const char *l = sb_settings_option_label(d->name, v);
            if (l) {
                if (!any++) { sb_jw_key(jw, "option_labels"); sb_jw_obj(jw); }
                sb_jw_kstr(jw, v, l);
            }
            p += n + (bar ? 1 : 0);
        }
        if (any) sb_jw_end_obj(jw);
    }
    if (d->type == SB_ST_INT || d->type == SB_ST_NUMBER) {
        sb_jw_key(jw, "min"); sb_jw_num(jw, d->min);
        sb_jw_key(jw, "max"); sb_jw_num(jw, d->max);
    }
    sb_jw_key(jw, "default");
    sb_view_setting_value(jw, d, d->def);
    sb_jw_key(jw, "value");
    sb_view_setting_value(jw, d, value);
    sb_jw_kbool(jw, "is_set", is_set);
    sb_jw_end_obj(jw);
}

int sb_view_settings(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    sb_settings st;
    int rc = sb_settings_load(c->s, c->integ, &st, err);
    if (rc) return rc;
    sb_jw_obj(jw);
    sb_jw_kstr(jw, "integration", c->integ_name);
    sb_jw_key(jw, "sections");
    sb_jw_arr(jw);
    static const char *const sections[] = {"Products", "Stock", "Orders", "Additional", "Notifications", "Integration"};
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) sb_jw_str(jw, sections[i]);
    sb_jw_end_arr(jw);
    sb_jw_key(jw, "settings");
    sb_jw_arr(jw);
    for (int i = 0; i < st.n; i++) setting_obj(jw, st.defs[i], st.values[i], st.is_set[i]);
    sb_jw_end_arr(jw);
    sb_settings_free(&st);
    rc = sb_view_choices(c, jw, err);
    /* credentials: masked only; the plain value is wiped as soon as it is masked */
    sb_jw_key(jw, "credentials");
    sb_jw_arr(jw);
    unsigned char key[SB_KEY_LEN];
    char kerr[SB_ERRLEN];
    int have_key = c->db_path && sb_secrets_key(c->db_path, 0, key, kerr) == 0;
    for (int i = 0; sb_credential_names[i]; i++) {
        char masked[64] = "(key file unavailable)";
        char *v = NULL;
        if (have_key) {
            int r = sb_secrets_get(c->s, c->integ, sb_credential_names[i], &v, key, kerr);
            if (r == 0) sb_mask(v, masked, sizeof masked);
            else snprintf(masked, sizeof masked, "%s", r == SB_ENOTFOUND ? "(not set)" : "(cannot decrypt)");
            sb_secrets_wipe(v);
        }
        sb_jw_obj(jw);
        sb_jw_kstr(jw, "name", sb_credential_names[i]);
        sb_jw_kstr(jw, "masked", masked);
        sb_jw_end_obj(jw);
    }
    memset(key, 0, sizeof key);
    sb_jw_end_arr(jw);
    sb_jw_end_obj(jw);
    return rc;
}

int sb_view_setting(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    char *v = NULL;
    int is_set = 0;
    int rc = sb_settings_get(c->s, c->integ, id, &v, &is_set, err);
    const sb_setting_def *d = sb_settings_find(id);
    if (!d) rc = rc ? SB_ENOTFOUND : sb_seterr(err, SB_ENOTFOUND, "'%s' is not a setting", id);   /* a missing record, not a bad argument */
    if (!rc) setting_obj(jw, d, v, is_set);
    free(v);
    return rc;
}
