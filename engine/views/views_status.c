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
#include "store/reports.h"
#include "views/views_int.h"

/* ---- summary and dispatch (the dashboard's header and its Dispatch tab) ---- */

/* One (name, count) pair as a key of the open object; NULL names "(none)". */
static int count_key(void *jw, const char *name, int64_t n) {
    sb_jw_kint(jw, name ? name : "(none)", n);
    return 0;
}

/* {name: count} under key, of a (name, count) reader. */
static int counts(const sb_view_ctx *c, sb_jw *jw, const char *key,
                  int (*read)(sb_store *, int64_t, sb_store_count_fn, void *, char *), char *err) {
    sb_jw_key(jw, key);
    sb_jw_obj(jw);
    int rc = read(c->s, c->integ, count_key, jw, err);
    sb_jw_end_obj(jw);
    return rc;
}

int sb_view_summary(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    long n[8] = {0};
    sb_store_clock clock;
    int rc = sb_store_stage_counts(c->s, c->integ, sb_vw_stages, n, err);
    if (!rc) rc = sb_store_amazon_clock(c->s, c->integ, &clock, err);
    if (rc) return rc;
    sb_jw_obj(jw);
    sb_jw_kstr(jw, "integration", c->integ_name);
    sb_jw_kstr(jw, "version", SB_VERSION);
    sb_jw_kbool(jw, "tracking_available", 1);
    sb_jw_key(jw, "stages");
    sb_jw_obj(jw);
    for (int i = 0; sb_vw_stages[i]; i++) sb_jw_kint(jw, sb_vw_stages[i], n[i]);
    sb_jw_end_obj(jw);
    /* Amazon's clock as the last orders pass measured it (its Date headers), or null */
    sb_jw_key(jw, "amazon_clock");
    if (clock.found) {
        sb_jw_obj(jw);
        sb_jw_kint(jw, "skew_ms", clock.skew_ms);
        sb_jw_kstr(jw, "measured_at", clock.has_at ? clock.measured_at : NULL);
        sb_jw_end_obj(jw);
    } else sb_jw_null(jw);
    sb_jw_end_obj(jw);
    return 0;
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
    rc = counts(c, jw, "confirm_states", sb_store_shipment_states, err);
    if (!rc) rc = counts(c, jw, "outbox", sb_store_outbox_states, err);
    if (!rc) {
        sb_jw_key(jw, "shipments");
        sb_jw_arr(jw);
        rc = sb_store_shipments_recent(c->s, c->integ, limit, sb_vw_obj, jw, err);
        sb_jw_end_arr(jw);
    }
    sb_jw_end_obj(jw);
    return rc;
}

/* ---- jobs ---- */

/* A job's row; its last counts raw when they are an object. */
static int job_row(void *jw, const sb_store_row *r) {
    sb_jw_obj(jw);
    for (int i = 0; i < 6; i++) sb_vw_col(jw, r->name[i], r, i);
    const char *counts = sb_vw_text(&r->v[6]);
    sb_jw_key(jw, "last_counts");
    if (counts && *counts == '{') sb_jw_raw(jw, counts, strlen(counts)); else sb_jw_null(jw);
    sb_jw_end_obj(jw);
    return 0;
}

int sb_view_jobs(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    sb_jw_obj(jw);
    sb_jw_key(jw, "jobs");
    sb_jw_arr(jw);
    int rc = sb_store_job_runs(c->s, c->integ, job_row, jw, err);
    sb_jw_end_arr(jw);
    if (rc) return rc;
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

int sb_view_outbox(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    long all, limit, offset, total = 0;
    int rc = sb_vw_arg_long(c, a, "all", 0, 0, 1, &all, err);
    if (!rc) rc = sb_vw_paging(c, a, 500, 5000, &limit, &offset, err);
    if (!rc) rc = sb_store_outbox_count(c->s, c->integ, (int)all, sb_vw_count_cap(offset), &total, err);
    if (rc) return rc;
    sb_jw_obj(jw);
    sb_jw_kbool(jw, "all", (int)all);
    sb_vw_page_begin(jw, "items", limit, offset, total);
    rc = sb_store_outbox_page(c->s, c->integ, (int)all, limit, offset, sb_vw_obj, jw, err);
    sb_vw_page_end(jw, limit, offset, total);
    sb_jw_end_obj(jw);
    return rc;
}

/* ---- stock ---- */

int sb_view_stock(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    long errors, limit, offset, total = 0;
    int rc = sb_vw_arg_long(c, a, "errors", 0, 0, 1, &errors, err);
    if (!rc) rc = sb_vw_paging(c, a, 200, 5000, &limit, &offset, err);
    if (rc) return rc;
    sb_jw_obj(jw);
    sb_jw_kbool(jw, "errors", (int)errors);
    rc = counts(c, jw, "counts", sb_store_stock_sent_states, err);
    if (!rc) rc = sb_store_stock_sent_count(c->s, c->integ, (int)errors, sb_vw_count_cap(offset), &total, err);
    if (!rc) {
        sb_vw_page_begin(jw, "items", limit, offset, total);
        rc = sb_store_stock_sent_page(c->s, c->integ, (int)errors, limit, offset, sb_vw_obj, jw, err);
        sb_vw_page_end(jw, limit, offset, total);
    }
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

static int name_item(void *jw, const char *name) {
    sb_jw_str(jw, name);
    return 0;
}

/* [name, ...] under key. */
static int names(const sb_view_ctx *c, sb_jw *jw, const char *key, sb_store_names_kind kind, char *err) {
    sb_jw_key(jw, key);
    sb_jw_arr(jw);
    int rc = sb_store_names(c->s, kind, name_item, jw, err);
    sb_jw_end_arr(jw);
    return rc;
}

int sb_view_choices(const sb_view_ctx *c, sb_jw *jw, char *err) {
    sb_jw_key(jw, "choices");
    sb_jw_obj(jw);
    int rc = names(c, jw, "branches", SB_NAMES_BRANCHES, err);
    if (!rc) rc = names(c, jw, "groups", SB_NAMES_GROUPS, err);
    if (!rc) rc = names(c, jw, "gl_accounts", SB_NAMES_GL_ACCOUNTS, err);
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
