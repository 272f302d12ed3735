/* tracking.c: local dispatch and confirmShipment through the outbox (see tracking.h).
 *
 * Stock: a dispatched quantity leaves the order's branch (on_hand and, for orders that
 * reserve, reserved drop by the same amount); a kit line's components follow their kit
 * in proportion. Every write of one dispatch is in one transaction. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "json/json.h"
#include "sync/stock.h"
#include "sync/tracking.h"

#define MAX_LINES 512
#define MAX_ATTEMPTS 8          /* then the row is 'failed' and waits for a person */
#define SENDS_PER_RUN 2         /* POSTs of one row in one run, each after Amazon was seen
                                 * not to have the package when one may have reached it */

static const struct { const char *name, *code; } carriers[] = {
    {"UPS", "UPS"}, {"USPS", "USPS"}, {"FedEx", "FedEx"}, {"Fed Ex", "FedEx"}, {"DHL", "DHL"},
    {"DHL eCommerce", "DHL eCommerce"}, {"Amazon Shipping", "Amazon Shipping"},
    {"Royal Mail", "Royal Mail"}, {"Parcelforce", "Parcelforce"}, {"DPD", "DPD"}, {"Evri", "Evri"},
    {"Hermes", "Hermes"}, {"Yodel", "Yodel"}, {"TNT", "TNT"}, {"GLS", "GLS"}, {"OnTrac", "OnTrac"},
    {"Australia Post", "Australia Post"}, {"StarTrack", "StarTrack"}, {"Canada Post", "Canada Post"},
    {"Purolator", "Purolator"}, {"Japan Post", "Japan Post"}, {"Yamato Transport", "Yamato Transport"},
    {"Sagawa Express", "Sagawa Express"}, {"La Poste", "La Poste"}, {"Colissimo", "Colissimo"},
    {"Deutsche Post", "Deutsche Post"}, {"Poste Italiane", "Poste Italiane"}, {"Correos", "Correos"},
    {"India Post", "India Post"}, {"Aramex", "Aramex"}, {"Chronopost", "Chronopost"}, {"SEUR", "SEUR"},
};

const char *sb_tracking_carrier_code(const char *carrier) {
    if (!carrier) return NULL;
    for (size_t i = 0; i < sizeof carriers / sizeof *carriers; i++)
        if (!strcasecmp(carrier, carriers[i].name)) return carriers[i].code;
    return NULL;
}

long sb_tracking_backoff_s(int attempts) {
    long s = 60;
    for (int i = 1; i < attempts && s < 6 * 3600; i++) s *= 2;
    return s > 6 * 3600 ? 6 * 3600 : s;
}

static int exec_bind(sb_store *s, const char *sql, char *err, const char *fmt, ...);

/* Binds by a tiny format: 'i' int64, 'd' double, 's' text (NULL = null). */
#include <stdarg.h>
static int vbind(sqlite3_stmt *st, const char *fmt, va_list ap) {
    for (int i = 0; fmt && fmt[i]; i++) {
        switch (fmt[i]) {
        case 'i': sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t)); break;
        case 'd': sqlite3_bind_double(st, i + 1, va_arg(ap, double)); break;
        case 's': { const char *v = va_arg(ap, const char *);
                    if (v) sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(st, i + 1); } break;
        default: return SB_EINVAL;
        }
    }
    return 0;
}

static int exec_bind(sb_store *s, const char *sql, char *err, const char *fmt, ...) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, sql, &st, err);
    if (rc) return rc;
    va_list ap;
    va_start(ap, fmt);
    vbind(st, fmt, ap);
    va_end(ap);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sb_store_error(s, "tracking", err);
    sqlite3_finalize(st);
    return rc;
}

typedef struct dline {
    int64_t id, order_id, product;
    char sku[128], item_id[64], kit_sku[128], branch[128];
    double qty, done, take;
    int stock_bearing, reserves, parent;   /* parent: index of the kit line, -1 */
} dline;

static int load_lines(sb_engine *e, const char *ref, dline *l, int *n, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(e->store,
        "SELECT l.id, l.order_id, COALESCE(l.product_id, 0), l.sku, COALESCE(l.item_id, ''), COALESCE(l.kit_sku, ''), "
        "COALESCE(o.branch, ''), l.qty, l.qty_dispatched, l.stock_bearing, COALESCE(o.fulfilled_by, '') <> 'AMAZON' "
        "FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id "
        "WHERE o.integration_id = ?1 AND o.source = 'amazon' AND o.order_ref = ?2 AND o.stage = 'open' "
        "ORDER BY o.split_no, l.line_no", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, e->integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    *n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n >= MAX_LINES) { sqlite3_finalize(st); return sb_seterr(err, SB_EINVAL, "order %s has more than %d lines", ref, MAX_LINES); }
        dline *d = &l[(*n)++];
        memset(d, 0, sizeof *d);
        d->id = sqlite3_column_int64(st, 0);
        d->order_id = sqlite3_column_int64(st, 1);
        d->product = sqlite3_column_int64(st, 2);
        snprintf(d->sku, sizeof d->sku, "%s", sqlite3_column_text(st, 3));
        snprintf(d->item_id, sizeof d->item_id, "%s", sqlite3_column_text(st, 4));
        snprintf(d->kit_sku, sizeof d->kit_sku, "%s", sqlite3_column_text(st, 5));
        snprintf(d->branch, sizeof d->branch, "%s", sqlite3_column_text(st, 6));
        d->qty = sqlite3_column_double(st, 7);
        d->done = sqlite3_column_double(st, 8);
        d->stock_bearing = sqlite3_column_int(st, 9);
        d->reserves = sqlite3_column_int(st, 10);
        d->parent = -1;
        if (d->kit_sku[0])
            for (int k = *n - 2; k >= 0; k--)
                if (l[k].order_id == d->order_id && !l[k].kit_sku[0]) {
                    if (!strcmp(l[k].sku, d->kit_sku)) d->parent = k;
                    break;
                }
    }
    sqlite3_finalize(st);
    return 0;
}

static int stock_out(sb_engine *e, int64_t product, const char *branch, double qty, int reserves, char *err) {
    if (!product || qty == 0) return 0;
    int rc = exec_bind(e->store,
        "INSERT INTO stock(product_id, branch_id, on_hand, reserved) SELECT ?1, id, -?3, -?4 FROM branches WHERE name = ?2 "
        "ON CONFLICT(product_id, branch_id) DO UPDATE SET on_hand = on_hand - ?3, reserved = reserved - ?4, "
        "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')", err, "isdd", product, branch, qty, reserves ? qty : 0.0);
    return rc;
}

/* Why an order must not be confirmed to Amazon, or NULL when it must. */
static const char *not_required(sb_engine *e, const char *fulfilled_by, const char *branch, int auto_dispatched,
                                const char *source) {
    const char *fba = sb_settings_str(&e->settings, "orders.fba_branch");
    if (source && strcmp(source, "amazon")) return "not an Amazon order";
    if (fulfilled_by && !strcmp(fulfilled_by, "AMAZON")) return "fulfilled by Amazon";
    if (*fba && branch && !strcmp(branch, fba)) return "in the FBA branch";
    if (auto_dispatched) return "auto-dispatched on download (already shipped on Amazon)";
    return NULL;
}

/* Builds the confirmShipment body of shipment sid and upserts its outbox row (a sent
 * row is left alone). */
static int queue_shipment(sb_engine *e, int64_t sid, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(e->store,
        "SELECT s.package_no, s.carrier, COALESCE(s.service, ''), s.tracking, s.shipped_at, s.lines, o.order_ref, "
        "COALESCE(o.marketplace_id, '') FROM shipments s JOIN sales_orders o ON o.id = s.order_id WHERE s.id = ?1", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, sid);
    if (sqlite3_step(st) != SQLITE_ROW) { sqlite3_finalize(st); return sb_seterr(err, SB_ENOTFOUND, "shipment %lld not found", (long long)sid); }
    char pkg[24], key[160], ref[128], mp[32], carrier[128], service[128], tracking[128], shipped[40];
    snprintf(pkg, sizeof pkg, "%d", sqlite3_column_int(st, 0));
    snprintf(carrier, sizeof carrier, "%s", sqlite3_column_text(st, 1));
    snprintf(service, sizeof service, "%s", sqlite3_column_text(st, 2));
    snprintf(tracking, sizeof tracking, "%s", sqlite3_column_text(st, 3));
    snprintf(shipped, sizeof shipped, "%s", sqlite3_column_text(st, 4));
    const char *lines = (const char *)sqlite3_column_text(st, 5);
    snprintf(ref, sizeof ref, "%s", sqlite3_column_text(st, 6));
    snprintf(mp, sizeof mp, "%s", sqlite3_column_text(st, 7));
    sb_json *j = NULL;
    rc = sb_json_parse(lines, strlen(lines), &j, err);
    sqlite3_finalize(st);
    if (rc) return rc;
    size_t n = sb_json_len(j, SB_JSON_ROOT, NULL);
    sb_shipment_item items[MAX_LINES];
    if (n > MAX_LINES) n = MAX_LINES;
    for (size_t i = 0; i < n; i++) {
        int it = sb_json_at(j, SB_JSON_ROOT, i);
        items[i].order_item_id = sb_json_str(j, it, "item_id");
        items[i].quantity = (int)sb_json_num(j, it, "qty", 0);
    }
    const char *code = sb_tracking_carrier_code(carrier);
    sb_shipment sh = {
        .order_id = ref, .marketplace_id = mp, .package_reference_id = pkg,
        .carrier_code = code ? code : "Other", .carrier_name = code ? NULL : carrier,
        .shipping_method = *service ? service : NULL, .tracking_number = tracking, .ship_date = shipped,
        .items = items, .nitems = (int)n,
    };
    sb_buf body;
    sb_buf_init(&body, 1 << 20);
    rc = sb_spapi_shipment_json(&sh, &body, err);
    sb_json_free(j);
    if (rc) { sb_buf_free(&body); return sb_seterr(err, rc, "order %s package %s cannot be confirmed: %s", ref, pkg, err); }
    snprintf(key, sizeof key, "%s#%s", ref, pkg);
    rc = exec_bind(e->store,
        "INSERT INTO outbox(integration_id, kind, key, payload, status) VALUES (?1, 'confirm_shipment', ?2, ?3, 'pending') "
        "ON CONFLICT(integration_id, kind, key) DO UPDATE SET status = 'pending', next_attempt_at = NULL, "
        "payload = excluded.payload WHERE outbox.status <> 'sent'", err, "iss", e->integ, key, body.data);
    sb_buf_free(&body);
    if (!rc) rc = exec_bind(e->store, "UPDATE shipments SET confirm_state = 'queued' WHERE id = ?1 AND confirm_state <> 'confirmed'",
                            err, "i", sid);
    return rc;
}

int sb_tracking_dispatch(sb_engine *e, const sb_dispatch_req *req, sb_dispatch_result *res, char *err) {
    dline *l = calloc(MAX_LINES, sizeof *l);
    int n = 0, rc, in_tx = 0;
    memset(res, 0, sizeof *res);
    if (!l) return SB_ENOMEM;
    if (!req->order_ref || !*req->order_ref) { rc = sb_seterr(err, SB_EINVAL, "an order id is required"); goto out; }
    if (!req->carrier || !*req->carrier) { rc = sb_seterr(err, SB_EINVAL, "a carrier is required (--carrier)"); goto out; }
    if (!req->tracking || !*req->tracking) { rc = sb_seterr(err, SB_EINVAL, "a tracking number is required (--tracking); Amazon needs one even for untracked services"); goto out; }
    if ((rc = sb_store_begin(e->store, err))) goto out;
    in_tx = 1;
    /* the order as a whole: its stage, branch and how it is fulfilled */
    sqlite3_stmt *st;
    if ((rc = sb_store_prepare(e->store,
            "SELECT id, stage, COALESCE(branch, ''), COALESCE(fulfilled_by, ''), auto_dispatched, source FROM sales_orders "
            "WHERE integration_id = ?1 AND order_ref = ?2 ORDER BY source = 'amazon' DESC, split_no", &st, err))) goto out;
    sqlite3_bind_int64(st, 1, e->integ);
    sqlite3_bind_text(st, 2, req->order_ref, -1, SQLITE_STATIC);
    char stage[24] = "", branch[128] = "", fb[24] = "", source[16] = "";
    int auto_d = 0, found = 0, any_open = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!found) {
            snprintf(branch, sizeof branch, "%s", sqlite3_column_text(st, 2));
            snprintf(fb, sizeof fb, "%s", sqlite3_column_text(st, 3));
            auto_d = sqlite3_column_int(st, 4);
            snprintf(source, sizeof source, "%s", sqlite3_column_text(st, 5));
        }
        snprintf(stage, sizeof stage, "%s", sqlite3_column_text(st, 1));
        any_open |= !strcmp(stage, "open");
        found = 1;
    }
    sqlite3_finalize(st);
    if (!found) { rc = sb_seterr(err, SB_EINVAL, "order %s does not exist", req->order_ref); goto out; }
    if (strcmp(source, "amazon")) { rc = sb_seterr(err, SB_EINVAL, "order %s is not an Amazon order", req->order_ref); goto out; }
    if (!any_open) {
        rc = sb_seterr(err, SB_EINVAL, "order %s cannot be dispatched: its stage is %s%s", req->order_ref, stage,
                       !strcmp(stage, "dispatched") ? " (nothing is left to dispatch)" : "");
        goto out;
    }
    if ((rc = load_lines(e, req->order_ref, l, &n, err))) goto out;
    /* what to take from each Amazon-facing line */
    if (!req->lines || req->nlines == 0) {
        for (int i = 0; i < n; i++) if (!l[i].kit_sku[0]) l[i].take = l[i].qty - l[i].done;
    } else {
        for (int k = 0; k < req->nlines; k++) {
            double want = req->lines[k].qty, left = 0;
            int known = 0;
            if (!(want > 0) || want != floor(want)) {
                rc = sb_seterr(err, SB_EINVAL, "line %s: quantity %g must be a whole number above 0", req->lines[k].sku, want);
                goto out;
            }
            for (int i = 0; i < n; i++)
                if (!l[i].kit_sku[0] && !strcmp(l[i].sku, req->lines[k].sku)) { known = 1; left += l[i].qty - l[i].done - l[i].take; }
            if (!known) { rc = sb_seterr(err, SB_EINVAL, "order %s has no open line with SKU %s", req->order_ref, req->lines[k].sku); goto out; }
            if (want > left + 1e-9) {
                rc = sb_seterr(err, SB_EINVAL, "line %s: %g to dispatch but only %g left on order %s", req->lines[k].sku, want, left, req->order_ref);
                goto out;
            }
            for (int i = 0; i < n && want > 1e-9; i++) {
                if (l[i].kit_sku[0] || strcmp(l[i].sku, req->lines[k].sku)) continue;
                double t = l[i].qty - l[i].done - l[i].take;
                if (t > want) t = want;
                l[i].take += t;
                want -= t;
            }
        }
    }
    double total = 0;
    for (int i = 0; i < n; i++) if (!l[i].kit_sku[0]) total += l[i].take;
    if (total <= 1e-9) { rc = sb_seterr(err, SB_EINVAL, "order %s has nothing left to dispatch", req->order_ref); goto out; }
    /* components follow their kit */
    for (int i = 0; i < n; i++)
        if (l[i].parent >= 0 && l[l[i].parent].qty > 0) l[i].take = l[i].qty * l[l[i].parent].take / l[l[i].parent].qty;
    for (int i = 0; i < n && !rc; i++) {
        if (l[i].take <= 1e-12) continue;
        rc = exec_bind(e->store, "UPDATE sales_order_lines SET qty_dispatched = qty_dispatched + ?2 WHERE id = ?1", err,
                       "id", l[i].id, l[i].take);
        if (!rc && l[i].stock_bearing) rc = stock_out(e, l[i].product, l[i].branch, l[i].take, l[i].reserves, err);
        if (!rc && l[i].stock_bearing && l[i].product) rc = sb_stock_mark_dirty(e->store, e->integ, l[i].sku, err);
    }
    if (rc) goto out;
    char now[32];
    sb_time_format(sb_now(), now, sizeof now);
    /* a split order whose lines are all dispatched is dispatched */
    if ((rc = exec_bind(e->store,
            "UPDATE sales_orders SET stage = 'dispatched', dispatched_at = ?3, updated_at = ?3 "
            "WHERE integration_id = ?1 AND order_ref = ?2 AND source = 'amazon' AND stage = 'open' AND NOT EXISTS "
            "(SELECT 1 FROM sales_order_lines l WHERE l.order_id = sales_orders.id AND l.qty_dispatched < l.qty - 1e-9)",
            err, "iss", e->integ, req->order_ref, now))) goto out;
    if ((rc = sb_store_prepare(e->store,
            "SELECT COUNT(*) FROM sales_orders WHERE integration_id = ?1 AND order_ref = ?2 AND source = 'amazon' AND stage = 'open'",
            &st, err))) goto out;
    sqlite3_bind_int64(st, 1, e->integ);
    sqlite3_bind_text(st, 2, req->order_ref, -1, SQLITE_STATIC);
    res->complete = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
    sqlite3_finalize(st);
    /* the package */
    if ((rc = sb_store_prepare(e->store,
            "SELECT COUNT(*) FROM shipments s JOIN sales_orders o ON o.id = s.order_id WHERE o.integration_id = ?1 AND o.order_ref = ?2",
            &st, err))) goto out;
    sqlite3_bind_int64(st, 1, e->integ);
    sqlite3_bind_text(st, 2, req->order_ref, -1, SQLITE_STATIC);
    res->package_no = (sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0) + 1;
    sqlite3_finalize(st);
    sb_buf lj;
    sb_buf_init(&lj, 1 << 20);
    sb_jw w;
    sb_jw_init(&w, &lj);
    sb_jw_arr(&w);
    int64_t order_id = 0;
    const char *why = not_required(e, fb, branch, auto_d, source);
    for (int i = 0; i < n; i++) {
        if (l[i].kit_sku[0] || l[i].take <= 1e-12) continue;
        if (!order_id) order_id = l[i].order_id;
        if (!l[i].item_id[0] && !why) why = "a line has no Amazon order item id";
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "sku", l[i].sku);
        sb_jw_kstr(&w, "item_id", l[i].item_id);
        sb_jw_key(&w, "qty");
        sb_jw_num(&w, l[i].take);
        sb_jw_end_obj(&w);
    }
    sb_jw_end_arr(&w);
    int want_auto = sb_settings_bool(&e->settings, "additional.auto_update_status");
    snprintf(res->confirm_state, sizeof res->confirm_state, "%s", why ? "not_required" : "none");
    if (why) snprintf(res->why_not, sizeof res->why_not, "%s", why);
    rc = exec_bind(e->store,
        "INSERT INTO shipments(order_id, carrier, service, tracking, shipped_at, lines, confirm_state, package_no) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err, "issssssi", order_id, req->carrier,
        req->service && *req->service ? req->service : NULL, req->tracking, now, lj.data, res->confirm_state,
        (int64_t)res->package_no);
    sb_buf_free(&lj);
    if (rc) goto out;
    int64_t sid = sqlite3_last_insert_rowid(e->store->db);
    if (!why && want_auto) {
        if ((rc = queue_shipment(e, sid, err))) goto out;
        res->queued = 1;
        snprintf(res->confirm_state, sizeof res->confirm_state, "queued");
    }
    if ((rc = sb_store_commit(e->store, err))) goto out;
    in_tx = 0;
    sb_info("dispatched order=%s package=%d carrier=%s tracking=%s complete=%d confirm=%s%s%s", req->order_ref,
            res->package_no, req->carrier, req->tracking, res->complete, res->confirm_state, why ? " why=" : "", why ? why : "");
out:
    if (in_tx) sb_store_rollback(e->store);
    free(l);
    return rc;
}

typedef struct orow { int64_t id; int attempts; char key[160]; char *payload; int64_t claimed_by, claimed_until; } orow;

/* A claim another sender holds: a live process (not this one's own earlier, finished
 * claim) within its time. A claim of a process that died (a kill, a crash) is void. */
static int claimed_elsewhere(const orow *r, int64_t now) {
    if (!r->claimed_by || r->claimed_until <= now) return 0;
    if (r->claimed_by == (int64_t)getpid()) return 1;      /* another thread of this engine */
    return kill((pid_t)r->claimed_by, 0) == 0 || errno == EPERM;
}

/* How long a claim holds: the POST, the getOrder check before a repeat, and a margin. */
static int64_t claim_s(sb_engine *e) {
    return 3 * (sb_settings_int(&e->settings, "api.timeout_ms") / 1000 + 1) + 30;
}

/* Before a repeat of a confirmation whose earlier attempt may have reached Amazon (a crash
 * after the call, a time-out, a dropped answer), ask Amazon whether it has the package:
 * 1 yes, 0 no (a 404: Amazon does not know the order), negative when it cannot be told
 * (the send then waits for the next try). */
static int amazon_has_package(sb_engine *e, const char *order_id, int pkg, char *err) {
    sb_buf body;
    sb_json *j = NULL;
    char want[16];
    int found = 0;
    sb_buf_init(&body, 16 << 20);
    snprintf(want, sizeof want, "%d", pkg);
    int rc = sb_spapi_get_order(e->api, order_id, "PACKAGES", &body, err);
    if (rc && err && strstr(err, "HTTP 404")) rc = 0;   /* Amazon does not know the order: no package */
    else if (!rc) rc = sb_json_parse(body.data, body.len, &j, err);
    if (!rc && j) {
        int pk = sb_json_get(j, SB_JSON_ROOT, "order.packages");
        for (size_t i = 0; i < sb_json_len(j, pk, NULL) && !found; i++) {
            const char *ref = sb_json_str(j, sb_json_at(j, pk, i), "packageReferenceId");
            found = ref && !strcmp(ref, want);
        }
    }
    sb_json_free(j);
    sb_buf_free(&body);
    return rc ? rc : found;
}

static int permanent(const char *msg) {
    return msg && (strstr(msg, "HTTP 400") || strstr(msg, "HTTP 404") || strstr(msg, "SB_EINVAL"));
}

/* Confirms one package with at most SENDS_PER_RUN POSTs. maybe_sent: an earlier attempt
 * may have reached Amazon (a run before this one). Before every POST after such an
 * attempt, or after an ambiguous answer (SB_EAMBIG: 5xx, time-out, drop once it went
 * out), Amazon is asked whether it has the package (getOrder PACKAGES); a refusal counts
 * as sent only when Amazon shows the package, whatever its wording (Amazon's generic
 * "Invalid Input" says nothing). 0 = Amazon has it (*had: it had it before this POST or
 * refused a repeat), else the error of the last step in cerr. */
static int confirm_once(sb_engine *e, const char *ref, int pkg, const char *payload, int maybe_sent, int *had,
                        char *cerr) {
    int crc = 0, has, sends = 0;
    *had = 0;
    for (;;) {
        if (maybe_sent) {
            char why[SB_ERRLEN];
            snprintf(why, sizeof why, "%s", crc ? cerr : "an earlier attempt may have reached Amazon");
            if ((has = amazon_has_package(e, ref, pkg, cerr)) > 0) { *had = 1; return 0; }
            if (has < 0) {
                char msg[SB_ERRLEN];
                snprintf(msg, sizeof msg, "could not check whether Amazon already has package %d (%.200s): %.250s",
                         pkg, why, cerr);
                snprintf(cerr, SB_ERRLEN, "%s", msg);
                return SB_EAMBIG;   /* not known either way: the row waits and asks again */
            }
            if (crc && sends == SENDS_PER_RUN) return crc;   /* cerr still holds the last answer */
            sb_info("order %s package %d: Amazon does not have it; sending it (again)", ref, pkg);
        }
        if (sends == SENDS_PER_RUN) return crc;
        crc = sb_spapi_confirm_shipment_json(e->api, ref, payload, cerr);
        sends++;
        if (crc == SB_EAMBIG) {
            sb_warn("order %s package %d: the confirmation may have reached Amazon; asking Amazon before sending "
                    "it again: %s", ref, pkg, cerr);
            maybe_sent = 1;
            continue;
        }
        if (crc && permanent(cerr)) {
            /* refused: perhaps because Amazon has it already (a repeat, or a person
             * confirmed it elsewhere); Amazon's packages decide, not the wording */
            char why[SB_ERRLEN];
            snprintf(why, sizeof why, "%s", cerr);
            if ((has = amazon_has_package(e, ref, pkg, cerr)) > 0) { *had = 1; return 0; }
            if (has < 0) {
                snprintf(cerr, SB_ERRLEN, "refused (%.200s) and could not check whether Amazon has package %d",
                         why, pkg);
                return SB_EAMBIG;
            }
            snprintf(cerr, SB_ERRLEN, "%s", why);
        }
        return crc;
    }
}

/* Queues every eligible dispatched package that is not confirmed (the manual button). */
static int queue_unconfirmed(sb_engine *e, long *queued, char *err) {
    sqlite3_stmt *st;
    const char *fba = sb_settings_str(&e->settings, "orders.fba_branch");
    int rc = sb_store_prepare(e->store,
        "SELECT s.id FROM shipments s JOIN sales_orders o ON o.id = s.order_id WHERE o.integration_id = ?1 "
        "AND o.source = 'amazon' AND COALESCE(o.fulfilled_by, '') <> 'AMAZON' AND o.auto_dispatched = 0 "
        "AND COALESCE(o.branch, '') <> ?2 AND s.confirm_state IN ('none', 'failed') ORDER BY s.id", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, e->integ);
    sqlite3_bind_text(st, 2, fba, -1, SQLITE_STATIC);
    int64_t ids[4096];
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 4096) ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (!n) return 0;
    if ((rc = sb_store_begin(e->store, err))) return rc;
    for (int i = 0; i < n; i++) {
        char e2[SB_ERRLEN];
        int r = queue_shipment(e, ids[i], e2);
        if (r) {
            /* a package that cannot be described to Amazon is shown, not sent */
            sb_warn("shipment %lld not queued: %s", (long long)ids[i], e2);
            exec_bind(e->store, "UPDATE shipments SET confirm_state = 'failed' WHERE id = ?1", err, "i", ids[i]);
        } else (*queued)++;
    }
    return sb_store_commit(e->store, err);
}

int sb_tracking_send(sb_engine *e, int manual, sb_tracking_result *res, char *err) {
    memset(res, 0, sizeof *res);
    int rc = 0;
    if (manual && (rc = queue_unconfirmed(e, &res->queued, err))) return rc;
    char now[32];
    sb_time_format(sb_now(), now, sizeof now);
    sqlite3_stmt *st;
    if ((rc = sb_store_prepare(e->store,
            "SELECT id, key, payload, attempts, COALESCE(claimed_by, 0), claimed_until FROM outbox "
            "WHERE integration_id = ?1 AND kind = 'confirm_shipment' "
            "AND (status = 'pending' OR (?2 AND status = 'failed')) "
            "AND (?2 OR next_attempt_at IS NULL OR next_attempt_at <= ?3) ORDER BY id", &st, err))) return rc;
    sqlite3_bind_int64(st, 1, e->integ);
    sqlite3_bind_int(st, 2, manual);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    size_t cap = 64, n = 0;
    orow *rows = malloc(cap * sizeof *rows);
    while (rows && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            orow *nr = realloc(rows, (cap *= 2) * sizeof *rows);
            if (!nr) break;
            rows = nr;
        }
        rows[n].id = sqlite3_column_int64(st, 0);
        snprintf(rows[n].key, sizeof rows[n].key, "%s", sqlite3_column_text(st, 1));
        rows[n].payload = sb_strdup((const char *)sqlite3_column_text(st, 2));
        rows[n].attempts = sqlite3_column_int(st, 3);
        rows[n].claimed_by = sqlite3_column_int64(st, 4);
        rows[n].claimed_until = sqlite3_column_type(st, 5) == SQLITE_NULL ? 0
                              : sb_time_parse((const char *)sqlite3_column_text(st, 5));
        n++;
    }
    sqlite3_finalize(st);
    if (!rows) return SB_ENOMEM;
    res->due = (long)n;
    char first_err[SB_ERRLEN] = "";
    for (size_t i = 0; i < n && !rc; i++) {
        char ref[160], cerr[SB_ERRLEN] = "";
        snprintf(ref, sizeof ref, "%s", rows[i].key);
        char *hash = strrchr(ref, '#');
        int pkg = hash ? atoi(hash + 1) : 0;
        if (hash) *hash = '\0';
        /* still to be confirmed? (the order may have moved to the FBA branch since) */
        if ((rc = sb_store_prepare(e->store,
                "SELECT COALESCE(o.fulfilled_by, ''), COALESCE(o.branch, ''), o.auto_dispatched, o.source, s.id "
                "FROM shipments s JOIN sales_orders o ON o.id = s.order_id WHERE o.integration_id = ?1 AND o.order_ref = ?2 "
                "AND s.package_no = ?3", &st, err))) break;
        sqlite3_bind_int64(st, 1, e->integ);
        sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, pkg);
        const char *why = "its shipment no longer exists";
        int64_t sid = 0;
        if (sqlite3_step(st) == SQLITE_ROW) {
            why = not_required(e, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                               sqlite3_column_int(st, 2), (const char *)sqlite3_column_text(st, 3));
            sid = sqlite3_column_int64(st, 4);
        }
        sqlite3_finalize(st);
        if (why) {
            snprintf(cerr, sizeof cerr, "not sent: %s", why);
            rc = exec_bind(e->store, "UPDATE outbox SET status = 'failed', last_error = ?2 WHERE id = ?1", err, "is", rows[i].id, cerr);
            if (!rc && sid) rc = exec_bind(e->store, "UPDATE shipments SET confirm_state = 'not_required' WHERE id = ?1", err, "i", sid);
            res->not_required++;
            continue;
        }
        if ((rc = sb_engine_api(e, err))) break;
        /* in flight: committed before the call, so a crash leaves a visible trace; the
         * repeat first asks Amazon whether the package arrived */
        char inflight[64];
        sb_time_format(sb_now(), now, sizeof now);
        snprintf(inflight, sizeof inflight, "in flight since %s", now);
        if (claimed_elsewhere(&rows[i], sb_now())) {
            res->due--;             /* another sender has it now: not this run's */
            sb_info("shipment confirmation order=%s package=%d is being sent by process %lld; left to it", ref, pkg,
                    (long long)rows[i].claimed_by);
            continue;
        }
        /* ...and claimed: only if no other sender (a person's `dispatch` while the engine
         * runs) took the row since it was read, so one POST goes out for it, not two */
        char until[32];
        sb_time_format(sb_now() + claim_s(e), until, sizeof until);
        if ((rc = exec_bind(e->store, "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, claimed_by = ?4, "
                            "claimed_until = ?5 WHERE id = ?1 AND attempts = ?3 AND status <> 'sent'", err, "isiis",
                            rows[i].id, inflight, (int64_t)rows[i].attempts, (int64_t)getpid(), until))) break;
        if (sqlite3_changes(e->store->db) == 0) {
            res->due--;
            sb_info("shipment confirmation order=%s package=%d is being sent by another process", ref, pkg);
            continue;
        }
        int attempts = rows[i].attempts + 1, had = 0;
        /* tried before: only again if Amazon does not have it, so it is never sent twice */
        int crc = confirm_once(e, ref, pkg, rows[i].payload, rows[i].attempts > 0, &had, cerr);
        sb_time_format(sb_now(), now, sizeof now);
        if ((rc = sb_store_begin(e->store, err))) break;
        if (!crc) {
            rc = exec_bind(e->store, "UPDATE outbox SET status = 'sent', sent_at = ?2, last_error = NULL, next_attempt_at = NULL, "
                           "claimed_by = NULL, claimed_until = NULL WHERE id = ?1", err, "is", rows[i].id, now);
            if (!rc) rc = exec_bind(e->store, "UPDATE shipments SET confirm_state = 'confirmed' WHERE id = ?1", err, "i", sid);
            res->sent++;
            sb_info("shipment confirmed order=%s package=%d attempts=%d%s", ref, pkg, attempts,
                    had ? " (Amazon already had it)" : "");
        } else {
            /* an outcome not known either way (ambiguous, or Amazon could not be asked)
             * stays pending: the next try asks Amazon first */
            int give_up = (crc != SB_EAMBIG && permanent(cerr)) || attempts >= MAX_ATTEMPTS;
            char next[32];
            sb_time_format(sb_now() + sb_tracking_backoff_s(attempts), next, sizeof next);
            rc = exec_bind(e->store, "UPDATE outbox SET status = ?2, last_error = ?3, next_attempt_at = ?4, claimed_by = NULL, "
                           "claimed_until = NULL WHERE id = ?1", err,
                           "isss", rows[i].id, give_up ? "failed" : "pending", cerr, give_up ? NULL : next);
            if (!rc) rc = exec_bind(e->store, "UPDATE shipments SET confirm_state = ?2 WHERE id = ?1", err, "is", sid,
                                    give_up ? "failed" : "queued");
            if (give_up) res->failed++; else res->retry_later++;
            if (!*first_err) snprintf(first_err, sizeof first_err, "order %s package %d: %s", ref, pkg, cerr);
            sb_warn("shipment confirmation failed order=%s package=%d attempts=%d %s: %s", ref, pkg, attempts,
                    give_up ? "(needs a person)" : "(will retry)", cerr);
        }
        if (rc) { sb_store_rollback(e->store); break; }
        if ((rc = sb_store_commit(e->store, err))) break;
    }
    for (size_t i = 0; i < n; i++) free(rows[i].payload);
    free(rows);
    if (!rc && (res->failed || res->retry_later))
        rc = sb_seterr(err, SB_EHTTP, "%ld confirmation%s not sent (%ld to retry, %ld need a person); first: %s",
                       res->failed + res->retry_later, res->failed + res->retry_later == 1 ? "" : "s", res->retry_later,
                       res->failed, first_err);
    return rc;
}
