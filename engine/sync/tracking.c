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
#include "store/stock.h"
#include "store/tracking.h"
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

/* A line as dispatch plans it: the stored line, what this dispatch takes from it, and
 * the kit line it is a component of (-1 none). */
typedef struct dline {
    sb_store_dispatch_line r;
    double take;
    int parent;
} dline;

static int load_lines(sb_engine *e, const char *ref, dline *l, int *n, char *err) {
    sb_store_dispatch_line *rows = calloc(MAX_LINES, sizeof *rows);
    if (!rows) return sb_seterr(err, SB_ENOMEM, "out of memory");
    int rc = sb_store_dispatch_lines(e->store, e->integ, ref, rows, MAX_LINES, n, err);
    for (int i = 0; !rc && i < *n; i++) {
        dline *d = &l[i];
        memset(d, 0, sizeof *d);
        d->r = rows[i];
        d->parent = -1;
        if (d->r.kit_sku[0])
            for (int k = i - 1; k >= 0; k--)
                if (l[k].r.order_id == d->r.order_id && !l[k].r.kit_sku[0]) {
                    if (!strcmp(l[k].r.sku, d->r.kit_sku)) d->parent = k;
                    break;
                }
    }
    free(rows);
    return rc;
}

static int stock_out(sb_engine *e, int64_t product, const char *branch, double qty, int reserves, char *err) {
    if (!product || qty == 0) return 0;
    return sb_store_stock_take(e->store, product, branch, qty, reserves ? qty : 0.0, err);
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
    sb_store_shipment_row row;
    char pkg[24], key[160];
    int rc = sb_store_shipment_get(e->store, sid, &row, err);
    if (rc) return rc;
    snprintf(pkg, sizeof pkg, "%d", row.package_no);
    const char *ref = row.order_ref, *mp = row.marketplace, *carrier = row.carrier, *service = row.service;
    const char *tracking = row.tracking, *shipped = row.shipped_at;
    sb_json *j = NULL;
    rc = sb_json_parse(row.lines, strlen(row.lines), &j, err);
    if (rc) { free(row.lines); return rc; }
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
    if (rc) {
        sb_buf_free(&body);
        rc = sb_seterr(err, rc, "order %s package %s cannot be confirmed: %s", ref, pkg, err);
        free(row.lines);
        return rc;
    }
    snprintf(key, sizeof key, "%s#%s", ref, pkg);
    free(row.lines);
    rc = sb_store_outbox_queue(e->store, e->integ, key, body.data ? body.data : "", err);
    sb_buf_free(&body);
    if (!rc) rc = sb_store_shipment_state(e->store, sid, "queued", err);
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
    sb_store_dispatch_order o;
    if ((rc = sb_store_dispatch_order_get(e->store, e->integ, req->order_ref, &o, err))) goto out;
    const char *stage = o.stage, *branch = o.branch, *fb = o.fulfilled_by, *source = o.source;
    int auto_d = o.auto_dispatched, found = o.found, any_open = o.any_open;
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
        for (int i = 0; i < n; i++) if (!l[i].r.kit_sku[0]) l[i].take = l[i].r.qty - l[i].r.done;
    } else {
        for (int k = 0; k < req->nlines; k++) {
            double want = req->lines[k].qty, left = 0;
            int known = 0;
            if (!(want > 0) || want != floor(want)) {
                rc = sb_seterr(err, SB_EINVAL, "line %s: quantity %g must be a whole number above 0", req->lines[k].sku, want);
                goto out;
            }
            for (int i = 0; i < n; i++)
                if (!l[i].r.kit_sku[0] && !strcmp(l[i].r.sku, req->lines[k].sku)) { known = 1; left += l[i].r.qty - l[i].r.done - l[i].take; }
            if (!known) { rc = sb_seterr(err, SB_EINVAL, "order %s has no open line with SKU %s", req->order_ref, req->lines[k].sku); goto out; }
            if (want > left + 1e-9) {
                rc = sb_seterr(err, SB_EINVAL, "line %s: %g to dispatch but only %g left on order %s", req->lines[k].sku, want, left, req->order_ref);
                goto out;
            }
            for (int i = 0; i < n && want > 1e-9; i++) {
                if (l[i].r.kit_sku[0] || strcmp(l[i].r.sku, req->lines[k].sku)) continue;
                double t = l[i].r.qty - l[i].r.done - l[i].take;
                if (t > want) t = want;
                l[i].take += t;
                want -= t;
            }
        }
    }
    double total = 0;
    for (int i = 0; i < n; i++) if (!l[i].r.kit_sku[0]) total += l[i].take;
    if (total <= 1e-9) { rc = sb_seterr(err, SB_EINVAL, "order %s has nothing left to dispatch", req->order_ref); goto out; }
    /* components follow their kit */
    for (int i = 0; i < n; i++)
        if (l[i].parent >= 0 && l[l[i].parent].r.qty > 0) l[i].take = l[i].r.qty * l[l[i].parent].take / l[l[i].parent].r.qty;
    for (int i = 0; i < n && !rc; i++) {
        if (l[i].take <= 1e-12) continue;
        rc = sb_store_dispatch_line_take(e->store, l[i].r.id, l[i].take, err);
        if (!rc && l[i].r.stock_bearing) rc = stock_out(e, l[i].r.product, l[i].r.branch, l[i].take, l[i].r.reserves, err);
        if (!rc && l[i].r.stock_bearing && l[i].r.product) rc = sb_stock_mark_dirty(e->store, e->integ, l[i].r.sku, err);
    }
    if (rc) goto out;
    char now[32];
    sb_time_format(sb_now(), now, sizeof now);
    /* a split order whose lines are all dispatched is dispatched */
    long still_open = 0;
    if ((rc = sb_store_dispatch_close(e->store, e->integ, req->order_ref, now, &still_open, err))) goto out;
    res->complete = still_open == 0;
    /* the package */
    if ((rc = sb_store_shipment_count(e->store, e->integ, req->order_ref, &res->package_no, err))) goto out;
    res->package_no++;
    sb_buf lj;
    sb_buf_init(&lj, 1 << 20);
    sb_jw w;
    sb_jw_init(&w, &lj);
    sb_jw_arr(&w);
    int64_t order_id = 0;
    const char *why = not_required(e, fb, branch, auto_d, source);
    for (int i = 0; i < n; i++) {
        if (l[i].r.kit_sku[0] || l[i].take <= 1e-12) continue;
        if (!order_id) order_id = l[i].r.order_id;
        if (!l[i].r.item_id[0] && !why) why = "a line has no Amazon order item id";
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "sku", l[i].r.sku);
        sb_jw_kstr(&w, "item_id", l[i].r.item_id);
        sb_jw_key(&w, "qty");
        sb_jw_num(&w, l[i].take);
        sb_jw_end_obj(&w);
    }
    sb_jw_end_arr(&w);
    int want_auto = sb_settings_bool(&e->settings, "additional.auto_update_status");
    snprintf(res->confirm_state, sizeof res->confirm_state, "%s", why ? "not_required" : "none");
    if (why) snprintf(res->why_not, sizeof res->why_not, "%s", why);
    sb_store_shipment sh = {.order_id = order_id, .carrier = req->carrier,
                            .service = req->service && *req->service ? req->service : NULL, .tracking = req->tracking,
                            .shipped_at = now, .lines = lj.data ? lj.data : "[]", .confirm_state = res->confirm_state,
                            .package_no = res->package_no};
    int64_t sid = 0;
    rc = sb_store_shipment_add(e->store, &sh, &sid, err);
    sb_buf_free(&lj);
    if (rc) goto out;
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
    const char *fba = sb_settings_str(&e->settings, "orders.fba_branch");
    int64_t ids[4096];
    int n = 0;
    int rc = sb_store_shipments_unconfirmed(e->store, e->integ, fba, ids, 4096, &n, err);
    if (rc || !n) return rc;
    if ((rc = sb_store_begin(e->store, err))) return rc;
    for (int i = 0; i < n; i++) {
        char e2[SB_ERRLEN];
        int r = queue_shipment(e, ids[i], e2);
        if (r) {
            /* a package that cannot be described to Amazon is shown, not sent */
            sb_warn("shipment %lld not queued: %s", (long long)ids[i], e2);
            if ((rc = sb_store_shipment_state(e->store, ids[i], "failed", err))) break;
        } else (*queued)++;
    }
    if (rc) { sb_store_rollback(e->store); return rc; }
    return sb_store_commit(e->store, err);
}

/* The confirmations due, copied out before any is sent (each send commits on its own). */
typedef struct outbox_list { orow *rows; size_t n, cap; } outbox_list;

static int collect_row(void *ctx, const sb_store_outbox_row *r) {
    outbox_list *ol = ctx;
    if (ol->n == ol->cap) {
        size_t nc = ol->cap ? ol->cap * 2 : 64;
        orow *nr = realloc(ol->rows, nc * sizeof *nr);
        if (!nr) return SB_ENOMEM;
        ol->rows = nr;
        ol->cap = nc;
    }
    orow *o = &ol->rows[ol->n];
    o->id = r->id;
    snprintf(o->key, sizeof o->key, "%s", r->key);
    if (!(o->payload = sb_strdup(r->payload))) return SB_ENOMEM;
    o->attempts = r->attempts;
    o->claimed_by = r->claimed_by;
    o->claimed_until = r->claimed_until && *r->claimed_until ? sb_time_parse(r->claimed_until) : 0;
    ol->n++;
    return 0;
}

int sb_tracking_send(sb_engine *e, int manual, sb_tracking_result *res, char *err) {
    memset(res, 0, sizeof *res);
    int rc = 0;
    if (manual && (rc = queue_unconfirmed(e, &res->queued, err))) return rc;
    char now[32];
    sb_time_format(sb_now(), now, sizeof now);
    outbox_list ol = {NULL, 0, 0};
    if ((rc = sb_store_outbox_due(e->store, e->integ, manual, now, collect_row, &ol, err))) {
        if (rc == SB_ENOMEM) sb_seterr(err, SB_ENOMEM, "out of memory reading the confirmations due");
        for (size_t i = 0; i < ol.n; i++) free(ol.rows[i].payload);
        free(ol.rows);
        return rc;
    }
    orow *rows = ol.rows;
    size_t n = ol.n;
    res->due = (long)n;
    char first_err[SB_ERRLEN] = "";
    for (size_t i = 0; i < n && !rc; i++) {
        char ref[160], cerr[SB_ERRLEN] = "";
        snprintf(ref, sizeof ref, "%s", rows[i].key);
        char *hash = strrchr(ref, '#');
        int pkg = hash ? atoi(hash + 1) : 0;
        if (hash) *hash = '\0';
        /* still to be confirmed? (the order may have moved to the FBA branch since) */
        sb_store_confirm_target t;
        if ((rc = sb_store_confirm_target_get(e->store, e->integ, ref, pkg, &t, err))) break;
        const char *why = "its shipment no longer exists";
        int64_t sid = t.shipment;
        if (t.found) why = not_required(e, t.fulfilled_by, t.branch, t.auto_dispatched, t.source);
        if (why) {
            snprintf(cerr, sizeof cerr, "not sent: %s", why);
            rc = sb_store_outbox_not_sent(e->store, rows[i].id, cerr, err);
            if (!rc && sid) rc = sb_store_shipment_state(e->store, sid, "not_required", err);
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
        int claimed = 0;
        if ((rc = sb_store_outbox_claim(e->store, rows[i].id, rows[i].attempts, inflight, (int64_t)getpid(), until,
                                        &claimed, err))) break;
        if (!claimed) {
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
            rc = sb_store_outbox_sent(e->store, rows[i].id, now, err);
            if (!rc) rc = sb_store_shipment_state(e->store, sid, "confirmed", err);
            res->sent++;
            sb_info("shipment confirmed order=%s package=%d attempts=%d%s", ref, pkg, attempts,
                    had ? " (Amazon already had it)" : "");
        } else {
            /* an outcome not known either way (ambiguous, or Amazon could not be asked)
             * stays pending: the next try asks Amazon first */
            int give_up = (crc != SB_EAMBIG && permanent(cerr)) || attempts >= MAX_ATTEMPTS;
            char next[32];
            sb_time_format(sb_now() + sb_tracking_backoff_s(attempts), next, sizeof next);
            rc = sb_store_outbox_retry(e->store, rows[i].id, give_up, cerr, next, err);
            if (!rc) rc = sb_store_shipment_state(e->store, sid, give_up ? "failed" : "queued", err);
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
