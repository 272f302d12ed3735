/* web_api.c: the JSON admin API under /api/v1 (routes listed in sb_web_api() below).
 *
 * The documents people read (summary, orders, an order and its explanation, needs
 * attention, dispatch, jobs, outbox, stock, settings) are engine/views' (sb_web_view),
 * the same bytes the CLI's --json prints; the other handlers read with a borrowed
 * connection (rq->s) and write JSON with sb_jw. Writes go through the same functions
 * as the CLI (sb_settings_set, sb_orders_fix), inside one transaction per request, so a
 * refused change returns 400 {"error": the CLI's message, "code": "invalid"} and leaves
 * the database as it was. Nothing here runs a rule or loads a rule pack: the retry of
 * held orders is a job (web_jobs.c) and the pack check has its own thread (web_rules.c),
 * so a slow pack never holds a request thread. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "store/aliases.h"
#include "core/scrub.h"
#include "sync/connect.h"
#include "sync/engine.h"
#include "sync/orders.h"
#include "sync/fix.h"
#include "sync/notify_setup.h"
#include "sync/tracking.h"
#include "views/views.h"
#include "web/web_int.h"

/* ---- helpers ---- */

void sb_web_begin_ok(sb_web_resp *rs, sb_jw *jw) {
    rs->status = 200;
    rs->ctype = "application/json";
    sb_buf_reset(&rs->body);
    if (jw) sb_jw_init(jw, &rs->body);
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

/* ---- the documents of engine/views ---- */

static sb_view_ctx view_ctx(sb_web_req *rq) {
    sb_view_ctx c = {.s = rq->s, .integ = rq->w->integ, .integ_name = rq->w->integ_name,
                     .db_path = rq->w->db_path, .arg_prefix = ""};
    return c;
}

typedef struct view_args { const char *doc; sb_view_args a; } view_args;

/* Collects the query arguments the document takes (others are ignored, as before). */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    view_args *va = cls;
    if (key && sb_view_takes(va->doc, key)) sb_view_args_add(&va->a, key, value ? value : "", NULL);
    return MHD_YES;
}

/* The status of a view's error: a bad argument is the request's fault (400). */
static int view_status(int rc) {
    return rc == SB_EINVAL ? 400 : sb_web_status_of(rc);
}

void sb_web_view(sb_web_req *rq, sb_web_resp *rs, const char *doc, const char *id) {
    sb_web *w = rq->w;
    view_args va = {.doc = doc};
    MHD_get_connection_values(rq->c, MHD_GET_ARGUMENT_KIND, collect_arg, &va);
    sb_view_ctx c = view_ctx(rq);
    /* the worker's state, copied under the lock, for the jobs document */
    char job[32], started[32], finished[32], error[SB_ERRLEN], result[sizeof w->job_result];
    sb_view_run_now rn = {.job = job, .started = started, .finished = finished, .error = error, .result = result};
    pthread_mutex_lock(&w->mu);
    rn.running = w->job_running;
    snprintf(job, sizeof job, "%s", w->job_name);
    snprintf(started, sizeof started, "%s", w->job_started);
    snprintf(finished, sizeof finished, "%s", w->job_finished);
    snprintf(error, sizeof error, "%s", w->job_error);
    snprintf(result, sizeof result, "%s", w->job_result);
    pthread_mutex_unlock(&w->mu);
    c.run_now = &rn;
    char err[SB_ERRLEN];
    sb_web_begin_ok(rs, NULL);
    int rc = sb_view_build(&c, doc, id, &va.a, &rs->body, err);
    if (rc) {
        rs->status = view_status(rc);
        sb_buf_reset(&rs->body);
        sb_view_error_doc(&rs->body, sb_view_code_of(rc), err);
    }
}

/* ---- settings ---- */

static void settings_get(sb_web_req *rq, sb_web_resp *rs) { sb_web_view(rq, rs, "settings", NULL); }

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
        sb_view_setting_value(&jw, sb_settings_find(names[i]), v);
        free(v);
    }
    sb_view_ctx c = view_ctx(rq);
    if (sb_view_choices(&c, &jw, err)) { sb_web_error(rs, 500, "%s", err); return; }
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
    sb_web_view(rq, rs, "order", ref);
}

/* ---- SKU aliases ---- */

/* POST /aliases {"sku": AMAZON_SKU, "product": PRODUCT_SKU}: links them (the CLI's
 * `products alias`), then releases the orders waiting on the SKU in the worker (202 with
 * the job; 200 when none waited). */
static void alias_post(sb_web_req *rq, sb_web_resp *rs) {
    const char *sku = sb_json_str(rq->json, SB_JSON_ROOT, "sku"), *product = sb_json_str(rq->json, SB_JSON_ROOT, "product");
    if (!sku || !product) { sb_web_error(rs, 400, "link needs {\"sku\": AMAZON_SKU, \"product\": PRODUCT_SKU}"); return; }
    char err[SB_ERRLEN];
    sb_alias_change ch;
    int rc = sb_store_alias_set(rq->s, sku, product, &ch, err);
    if (rc) { sb_web_error(rs, sb_web_status_of(rc), "%s", err); return; }
    sb_info("web: SKU alias stored sku=%s product=%s waiting=%ld", sku, product, ch.waiting);
    if (ch.waiting) {
        sb_web_retry_bulk(rq, "unknown_sku", NULL, 1, rs);
        if (rs->status != 202) return;      /* the alias stays; the job's refusal says why */
    }
    if (!ch.waiting) rs->status = 200;
    rs->ctype = "application/json";
    sb_buf_reset(&rs->body);
    sb_jw jw;
    sb_jw_init(&jw, &rs->body);
    sb_jw_obj(&jw);
    sb_jw_kstr(&jw, "sku", sku);
    sb_jw_kstr(&jw, "product", product);
    sb_jw_kint(&jw, "waiting", ch.waiting);
    sb_jw_kbool(&jw, "started", ch.waiting > 0);
    if (ch.waiting) sb_jw_kstr(&jw, "job", "retry");
    sb_jw_end_obj(&jw);
}

static void alias_delete(sb_web_req *rq, sb_web_resp *rs, const char *sku) {
    char err[SB_ERRLEN];
    sb_alias_change ch;
    int rc = sb_store_alias_remove(rq->s, sku, &ch, err);
    if (rc) { sb_web_error(rs, sb_web_status_of(rc), "%s", err); return; }
    sb_info("web: SKU alias removed sku=%s product=%s", sku, ch.product_sku);
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    sb_jw_kstr(&jw, "sku", sku);
    sb_jw_kstr(&jw, "product", ch.product_sku);
    sb_jw_kbool(&jw, "removed", 1);
    sb_jw_end_obj(&jw);
}

/* ---- connect ---- */

/* POST /connect {"client_id", "client_secret", "refresh_token"}: the CLI's `connect`
 * (sync/connect.h): stored encrypted when Amazon accepts them, else the earlier ones
 * stay. The answer says what Amazon answered and shows the values masked only; while the
 * call runs the values are registered with the scrubber, so no log line can carry them. */
static void connect_post(sb_web_req *rq, sb_web_resp *rs) {
    static const char *const keys[3] = {"client_id", "client_secret", "refresh_token"};
    char *v[3] = {NULL, NULL, NULL}, err[SB_ERRLEN];
    for (int i = 0; i < 3; i++) {
        const char *x = sb_json_str(rq->json, SB_JSON_ROOT, keys[i]);
        if (!x || !*x) {
            sb_web_error(rs, 400, "connect needs {\"client_id\", \"client_secret\", \"refresh_token\"}: %s is missing", keys[i]);
            goto out;
        }
        if (!(v[i] = strdup(x))) { sb_web_error(rs, 500, "out of memory"); goto out; }
        if (i) sb_scrub_add(v[i]);
    }
    sb_connect_result res;
    int rc = sb_connect(rq->s, rq->w->db_path, rq->w->integ, v[0], v[1], v[2], &res, err);
    if (rc) {
        sb_web_error(rs, rc == SB_EAUTH ? 400 : sb_web_status_of(rc), "%s", err);
        goto out;
    }
    sb_info("web: connect: Amazon accepted the LWA credentials integration=%s", rq->w->integ_name);
    char m[3][64];
    sb_jw jw;
    sb_web_begin_ok(rs, &jw);
    sb_jw_obj(&jw);
    sb_jw_kbool(&jw, "accepted", 1);
    sb_jw_kstr(&jw, "said", res.said);
    sb_jw_key(&jw, "credentials");
    sb_jw_obj(&jw);
    for (int i = 0; i < 3; i++) sb_jw_kstr(&jw, keys[i], sb_mask(v[i], m[i], sizeof m[i]));
    sb_jw_end_obj(&jw);
    sb_jw_end_obj(&jw);
out:
    for (int i = 0; i < 3; i++) {
        if (i && v[i]) sb_scrub_remove(v[i]);
        sb_secrets_wipe(v[i]);
    }
}

/* ---- dispatch ---- */

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

/* ---- notifications ---- */

/* The Notifications section's "Set up" button: the same steps and document as
 * `sellerbridge notifications setup --json` (engine/sync/notify_setup.c). 200 with the
 * document whether or not every step passed ("ok" says); an error only when the steps
 * could not run. */
static void notifications_setup(sb_web_req *rq, sb_web_resp *rs) {
    char err[SB_ERRLEN] = "";
    sb_notify_setup_result r;
    int rc = sb_notify_setup(rq->s, rq->w->db_path, rq->w->integ, &r, err);
    if (rc) { sb_web_error(rs, sb_web_status_of(rc), "%s", err); return; }
    sb_web_begin_ok(rs, NULL);
    if (sb_notify_setup_json(&r, &rs->body)) { sb_web_error(rs, 500, "out of memory"); return; }
    sb_info("web: notifications setup integration=%s ok=%d changed=%d", rq->w->integ_name, r.ok, r.changed);
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
    if (n == 0) { sb_web_error(rs, 404, "see /api/v1/summary, settings, routing, orders, attention, products, aliases, jobs, status, dispatch, outbox, stock, rules"); return; }
    if (IS(0, "summary") && n == 1 && get) sb_web_view(rq, rs, "summary", NULL);
    else if (IS(0, "settings") && n == 1 && get) settings_get(rq, rs);
    else if (IS(0, "settings") && n == 1 && put) settings_put(rq, rs, NULL, 0);
    else if (IS(0, "settings") && n == 2 && (put || del)) settings_put(rq, rs, seg[1], del);
    else if (IS(0, "routing") && n == 1 && get) routing_get(rq, rs);
    else if (IS(0, "routing") && n == 1 && put) routing_put(rq, rs);
    else if (IS(0, "routing") && n == 2 && IS(1, "try") && post) sb_web_route_try(rq, sb_json_str(rq->json, SB_JSON_ROOT, "order"), rs);
    else if (IS(0, "settings") && n == 2 && get) sb_web_view(rq, rs, "setting", seg[1]);
    else if (IS(0, "orders") && n == 1 && get) sb_web_view(rq, rs, "orders", NULL);
    else if (IS(0, "orders") && n == 2 && get) sb_web_view(rq, rs, "order", seg[1]);
    else if (IS(0, "orders") && n == 3 && IS(2, "explain") && get) sb_web_view(rq, rs, "explain", seg[1]);
    else if (IS(0, "orders") && n == 3 && IS(2, "fix") && post) order_fix(rq, rs, seg[1]);
    else if (IS(0, "orders") && n == 3 && IS(2, "retry") && post) sb_web_retry_run(rq, seg[1], rs);
    else if (IS(0, "attention") && n == 1 && get) sb_web_view(rq, rs, "attention", NULL);
    else if (IS(0, "attention") && n == 2 && IS(1, "retry") && post) {
        const char *reason = sb_web_arg(rq, "reason"), *sku = sb_web_arg(rq, "sku");
        if ((reason && *reason) || (sku && *sku)) sb_web_retry_bulk(rq, reason, sku, 0, rs);
        else sb_web_retry_run(rq, NULL, rs);
    }
    else if (IS(0, "connect") && n == 1 && post) connect_post(rq, rs);
    else if (IS(0, "products") && n == 1 && get) sb_web_view(rq, rs, "products", NULL);
    else if (IS(0, "aliases") && n == 1 && get) sb_web_view(rq, rs, "aliases", NULL);
    else if (IS(0, "aliases") && n == 1 && post) alias_post(rq, rs);
    else if (IS(0, "aliases") && n == 2 && del) alias_delete(rq, rs, seg[1]);
    else if (IS(0, "jobs") && n == 1 && get) sb_web_view(rq, rs, "jobs", NULL);
    else if (IS(0, "notifications") && n == 1 && get) sb_web_view(rq, rs, "notifications", NULL);
    else if (IS(0, "status") && n == 1 && get) sb_web_status_get(rq, rs);
    else if (IS(0, "charts") && n == 2 && IS(1, "orders") && get) sb_web_view(rq, rs, "orders_per_day", NULL);
    else if (IS(0, "charts") && n == 2 && IS(1, "sync") && get) sb_web_view(rq, rs, "sync_per_hour", NULL);
    else if (IS(0, "jobs") && n == 3 && IS(2, "run") && post) sb_web_jobs_run(rq, seg[1], rs);
    else if (IS(0, "dispatch") && n == 1 && get) sb_web_view(rq, rs, "dispatch", NULL);
    else if (IS(0, "update-dispatched") && n == 1 && post) update_dispatched(rq, rs);
    else if (IS(0, "stock") && n == 1 && get) sb_web_view(rq, rs, "stock", NULL);
    else if (IS(0, "outbox") && n == 1 && get) sb_web_view(rq, rs, "outbox", NULL);
    else if (IS(0, "rules") && n == 1 && get) sb_web_rules_get(rq, rs);
    else if (IS(0, "notifications") && n == 2 && IS(1, "setup") && post) notifications_setup(rq, rs);
    else sb_web_error(rs, 404, "no such API call: %s /api/v1%s", m, rq->path);
#undef IS
}
