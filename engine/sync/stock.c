/* stock.c: the stock upload job (see stock.h): plan (which SKUs, what quantity), send
 * (patchListingsItem or JSON_LISTINGS_FEED), record (stock_sent, watermark).
 *
 * A kit (with orders.bom_expand on, where its components carry its orders' stock) has
 * per-branch figures of its own, made from its components' by kit_figures: each is the
 * smallest whole number of kits over the components, so the stock rule sees a kit as
 * any other SKU.
 *
 * Why one file: plan, send and record are one job over one set of figures (its SQL is
 * in engine/store/stock.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "json/json.h"
#include "store/stock.h"
#include "sync/stock.h"

#define FEED_MAX_POLLS 120      /* an hour; the next run sends the same pairs again */
#define FEED_TYPE "JSON_LISTINGS_FEED"
#define CREATES_PER_RUN 2       /* createFeed calls for one document in one run, each after
                                 * Amazon was seen not to have the feed */
#define LOOKUP_MARGIN_S 300     /* getFeeds from this long before the intent: Amazon's clock
                                 * may be behind ours */
#define LOOKUP_MAX 100          /* feeds read back per look-up */
#define MAX_BRANCHES 64
#define FEED_CONTENT_TYPE "application/json"
#define PRODUCT_TYPE "PRODUCT"  /* offer-only patches; the listing's own type is not needed */

int sb_stock_mark_dirty(sb_store *s, int64_t integ, const char *sku, char *err) {
    return sb_store_stock_mark_dirty(s, integ, sku, err);
}

void sb_stock_plan_free(sb_stock_plan *p) {
    for (size_t i = 0; i < p->n; i++) { free(p->items[i].sku); free(p->items[i].error); }
    free(p->items);
    memset(p, 0, sizeof *p);
}

static sb_stock_item *plan_add(sb_stock_plan *p) {
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 256;
        sb_stock_item *ni = realloc(p->items, nc * sizeof *ni);
        if (!ni) return NULL;
        p->items = ni;
        p->cap = nc;
    }
    sb_stock_item *it = &p->items[p->n++];
    memset(it, 0, sizeof *it);
    return it;
}

/* The selected branches: stock.branches, or every branch but the FBA one. */
static int selected_branches(sb_engine *e, const char **names, int max) {
    char **list = sb_settings_list(sb_settings_str(&e->settings, "stock.branches"));
    const char *fba = sb_settings_str(&e->settings, "orders.fba_branch");
    int n = 0;
    if (list && list[0]) {
        for (int i = 0; list[i] && n < max; i++)
            for (int b = 0; b < e->nbranches; b++)
                if (!strcmp(e->branches[b].name, list[i])) names[n++] = e->branches[b].name;
    } else {
        for (int b = 0; b < e->nbranches && n < max; b++)
            if (!*fba || strcmp(e->branches[b].name, fba)) names[n++] = e->branches[b].name;
    }
    sb_settings_list_free(list);
    return n;
}

static int default_latency(sb_engine *e) {
    long l = sb_settings_int(&e->settings, "additional.fulfillment_latency");
    return l >= 1 && l <= 30 ? (int)l : 2;
}

static void fingerprint(sb_engine *e, char *out, size_t outlen) {
    const char *parts[] = {"stock.formula", "stock.branches", "stock.subtract_buffer", "additional.fulfillment_latency",
                           "orders.fba_branch", "integration.marketplaces", "orders.bom_expand"};
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        for (const char *c = sb_settings_str(&e->settings, parts[i]); *c; c++) { h ^= (unsigned char)*c; h *= 1099511628211ull; }
        h ^= 0xff; h *= 1099511628211ull;
    }
    for (const char *c = e->rules ? sb_rules_hash(e->rules) : ""; c && *c; c++) { h ^= (unsigned char)*c; h *= 1099511628211ull; }
    snprintf(out, outlen, "stock-v1-%016llx", (unsigned long long)h);
}

static void add_days(const char *today, int days, char *out, size_t outlen) {
    int64_t t = sb_time_parse(today);
    char buf[32];
    sb_time_format(t + (int64_t)days * 86400, buf, sizeof buf);
    snprintf(out, outlen, "%.10s", buf);
}

/* Whole kits that x units of a component make at per units a kit; the margin keeps
 * 5.9999999 (a sum of REAL quantities) from losing a kit. Negative x (more open than on
 * hand) gives a negative count, as a plain SKU's shortage counts against its total. */
static double whole_kits(double x, double per) { return floor(x / per + 1e-9); }

/* kit_figures' walk over a kit's BOM: per branch the smallest number of kits by soh,
 * avail, etd7, etd30, no etd. */
typedef struct kit_walk {
    sb_store_stock_reader *r;
    int nb, nc;
    double m[MAX_BRANCHES][5];
    sb_store_stock_fig c[MAX_BRANCHES];
    char *err;
} kit_walk;

static int kit_component(void *ctx, int64_t comp, double per) {
    kit_walk *k = ctx;
    int rc = sb_store_stock_component_figures(k->r, comp, k->c, k->err);
    if (rc) return rc;
    for (int b = 0; b < k->nb; b++) {
        const sb_store_stock_fig *c = &k->c[b];
        double f[5] = {whole_kits(c->soh, per), whole_kits(c->soh - c->open, per), whole_kits(c->soh - c->open_etd7, per),
                       whole_kits(c->soh - c->open_etd30, per), whole_kits(c->soh - c->open_no_etd, per)};
        for (int i = 0; i < 5; i++)
            if (!k->nc || f[i] < k->m[b][i]) k->m[b][i] = f[i];
    }
    k->nc++;
    return 0;
}

/* Fills fig[0..nb) with kit's figures: soh is the smallest whole number of kits the
 * components on hand make; each open figure is chosen so that soh minus it is the
 * smallest number of kits the components make with that figure taken off, e.g.
 * soh - open = min over components of floor((soh_c - open_c) / qty_c). A stock rule that
 * sums soh - open (or soh - open_etd7, ...) over branches then counts whole kits.
 * Returns the number of components (0: the kit has no BOM; fig is left zero). */
static int kit_figures(sb_store_stock_reader *r, int64_t kit, int nb, sb_stock_branch *br, char *err) {
    kit_walk k;
    memset(&k, 0, sizeof k);
    k.r = r;
    k.nb = nb;
    k.err = err;
    int rc = sb_store_stock_bom(r, kit, kit_component, &k, err);
    if (rc) return rc;
    for (int b = 0; k.nc && b < nb; b++) {
        br[b].soh = k.m[b][0];
        br[b].open = k.m[b][0] - k.m[b][1];
        br[b].open_etd7 = k.m[b][0] - k.m[b][2];
        br[b].open_etd30 = k.m[b][0] - k.m[b][3];
        br[b].open_no_etd = k.m[b][0] - k.m[b][4];
    }
    return k.nc;
}

/* What sb_stock_plan_build's walk over the candidates carries. */
typedef struct plan_walk {
    sb_engine *e;
    sb_stock_plan *plan;
    sb_store_stock_reader *r;
    int bom, nb, buffer_on, def_lat;
    const char **bnames;
    sb_stock_branch br[MAX_BRANCHES];
    sb_store_stock_fig fig[MAX_BRANCHES];
    char *err;
} plan_walk;

static int plan_candidate(void *ctx, const sb_store_stock_candidate *c) {
    plan_walk *w = ctx;
    sb_engine *e = w->e;
    sb_stock_plan *plan = w->plan;
    int nb = w->nb, rc;
    plan->candidates++;
    if (c->waiting) { plan->waiting++; return 0; }   /* its feed first */
    for (int b = 0; b < nb; b++) {
        memset(&w->br[b], 0, sizeof w->br[b]);
        w->br[b].branch = w->bnames[b];
    }
    if (w->bom && c->is_kit) {
        /* a kit: its own stock rows are not read (the walking cursors skip them) */
        int nc = kit_figures(w->r, c->product, nb, w->br, w->err);
        if (nc < 0) return nc;
        if (nc == 0) {
            /* most likely a BOM not imported yet: Amazon is told neither 0 (it would hide
             * a listing that may have stock) nor the kit's own stock (usually none);
             * it is reported and looked at again at every run until it has a BOM */
            sb_warn("stock of kit not sent integration=%s sku=%s: the kit has no BOM (import its boms); "
                    "Amazon keeps the quantity it has", e->name, c->sku);
            sb_stock_item *it = plan_add(plan);
            if (!it || !(it->sku = sb_strdup(c->sku))) return SB_ENOMEM;
            it->product = c->product;
            it->outcome = 3;
            plan->no_bom++;
            return 0;
        }
    } else {
        if ((rc = sb_store_stock_figures(w->r, c->product, w->fig, w->err))) return rc;
        for (int b = 0; b < nb; b++) {
            w->br[b].soh = w->fig[b].soh;
            w->br[b].open = w->fig[b].open;
            w->br[b].open_etd7 = w->fig[b].open_etd7;
            w->br[b].open_etd30 = w->fig[b].open_etd30;
            w->br[b].open_no_etd = w->fig[b].open_no_etd;
        }
    }
    sb_stock_input in = {.sku = c->sku, .buffer = w->buffer_on ? c->buffer : 0, .nbranches = nb, .branches = w->br};
    long qty = 0;
    char rerr[SB_ERRLEN];
    int rr = sb_rules_stock(e->rules, &in, &qty, rerr);
    if (rr == SB_EINTR) return sb_seterr(w->err, SB_EINTR, "stock: stopped at SKU %s: %s", c->sku, rerr);
    int lat = c->latency;
    if (lat < 1 || lat > 30) lat = w->def_lat;
    if (!rr && c->has_prev && !c->prev_failed && c->prev_qty == qty && c->prev_latency == lat) { plan->unchanged++; return 0; }
    sb_stock_item *it = plan_add(plan);
    if (!it || !(it->sku = sb_strdup(c->sku))) return SB_ENOMEM;
    it->product = c->product;
    it->qty = qty;
    it->latency = lat;
    it->has_prev = c->has_prev;
    it->prev_qty = c->prev_qty;
    it->prev_latency = c->prev_latency;
    it->prev_failed = c->prev_failed;
    snprintf(it->changed_at, sizeof it->changed_at, "%s", c->changed_at);
    if (rr) {
        it->outcome = -1;
        it->error = sb_strdup(rerr);
        plan->rule_errors++;
    }
    return 0;
}

int sb_stock_plan_build(sb_engine *e, sb_stock_plan *plan, char *err) {
    plan_walk w;
    char last[sizeof plan->fingerprint] = "", d7[16], d30[16];
    int rc;
    memset(plan, 0, sizeof *plan);
    memset(&w, 0, sizeof w);
    if ((rc = sb_engine_rules(e, err))) return rc;
    fingerprint(e, plan->fingerprint, sizeof plan->fingerprint);
    /* the inputs of the last run: a change means every SKU is looked at again */
    if ((rc = sb_store_stock_fingerprint(e->store, e->integ, last, sizeof last, err))) return rc;
    plan->full = strcmp(last, plan->fingerprint) != 0;
    if ((rc = sb_store_stock_snapshot(e->store, plan->snapshot, sizeof plan->snapshot, err))) return rc;
    const char *wm = sb_settings_str(&e->settings, "stock.last_updated");
    int full = plan->full || !*wm;
    const char *bnames[MAX_BRANCHES];
    w.e = e;
    w.plan = plan;
    w.err = err;
    w.bnames = bnames;
    w.nb = selected_branches(e, bnames, MAX_BRANCHES);
    w.bom = sb_settings_bool(&e->settings, "orders.bom_expand");   /* kits from their components */
    w.buffer_on = sb_settings_bool(&e->settings, "stock.subtract_buffer");
    w.def_lat = default_latency(e);
    add_days(e->today, 7, d7, sizeof d7);
    add_days(e->today, 30, d30, sizeof d30);
    if (!(rc = sb_store_stock_reader_open(e->store, full, w.bom, d7, d30, bnames, w.nb, &w.r, err)))
        rc = sb_store_stock_candidates(e->store, e->integ, full ? NULL : wm, plan_candidate, &w, err);
    if (rc == SB_ENOMEM) sb_seterr(err, SB_ENOMEM, "out of memory planning the stock upload");
    sb_store_stock_reader_close(w.r);
    if (rc) sb_stock_plan_free(plan);
    return rc;
}

int sb_stock_feed_json(const sb_stock_plan *plan, size_t from, size_t n, const char *seller_id, sb_buf *out, char *err) {
    sb_jw w;
    sb_jw_init(&w, out);
    sb_jw_obj(&w);
    sb_jw_key(&w, "header");
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "sellerId", seller_id);
    sb_jw_kstr(&w, "version", "2.0");
    sb_jw_kstr(&w, "issueLocale", "en_US");
    sb_jw_end_obj(&w);
    sb_jw_key(&w, "messages");
    sb_jw_arr(&w);
    for (size_t i = from; i < from + n && i < plan->n; i++) {
        const sb_stock_item *it = &plan->items[i];
        if (it->outcome) continue;
        sb_buf_printf(out, "%s{\"messageId\":%zu,\"sku\":", w.first[w.depth] ? "" : ",", i - from + 1);
        w.first[w.depth] = 0;
        sb_json_quote(out, it->sku, strlen(it->sku));
        sb_buf_printf(out, ",\"operationType\":\"PATCH\",\"productType\":\"" PRODUCT_TYPE "\",\"patches\":[{\"op\":\"replace\","
                      "\"path\":\"/attributes/fulfillment_availability\",\"value\":[{\"fulfillment_channel_code\":\"DEFAULT\","
                      "\"quantity\":%ld,\"lead_time_to_ship_max_days\":%d}]}]}", it->qty, it->latency);
    }
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
    if (sb_jw_error(&w)) return sb_seterr(err, SB_ENOMEM, "feed document larger than its limit");
    return 0;
}

static void fail_item(sb_stock_item *it, const char *msg) {
    if (it->outcome) return;
    it->outcome = -1;
    free(it->error);
    it->error = sb_strdup(msg);
}

/* Reads a listings feed processing report: ERROR issues by messageId fail their SKU; the
 * rest of the slice is accepted. An ERROR without messageId with nothing accepted fails
 * the whole slice. */
void sb_stock_apply_report(sb_stock_plan *plan, size_t from, size_t n, const char *feed_id, const char *text, size_t len) {
    sb_json *j = NULL;
    char e[SB_ERRLEN], msg[SB_ERRLEN + 160];
    if (sb_json_parse(text, len, &j, e)) {
        snprintf(msg, sizeof msg, "feed %s: processing report is not readable: %s", feed_id, e);
        for (size_t i = from; i < from + n; i++) fail_item(&plan->items[i], msg);
        return;
    }
    /* a report of another number of messages is not this slice's feed: a feed found on
     * Amazon after a lost answer is told by type and time only (find_feed), so this is
     * the check that it carried what these SKUs were sent in */
    double processed = sb_json_num(j, SB_JSON_ROOT, "summary.messagesProcessed", -1);
    if (processed >= 0 && processed != (double)n) {
        snprintf(msg, sizeof msg, "feed %s: Amazon processed %.0f messages, the feed of these SKUs had %zu: not their "
                 "feed, or not all of it; sent again", feed_id, processed > 1e9 ? 1e9 : processed, n);
        for (size_t i = from; i < from + n; i++) fail_item(&plan->items[i], msg);
        sb_json_free(j);
        return;
    }
    int issues = sb_json_get(j, SB_JSON_ROOT, "issues");
    const char *global = NULL;
    for (size_t k = 0; k < sb_json_len(j, issues, NULL); k++) {
        int is = sb_json_at(j, issues, k);
        const char *sev = sb_json_str(j, is, "severity");
        if (!sev || strcmp(sev, "ERROR")) continue;
        double mid = sb_json_num(j, is, "messageId", 0);     /* compared as a double: 1e300 */
        const char *code = sb_json_str(j, is, "code"), *m = sb_json_str(j, is, "message");
        snprintf(msg, sizeof msg, "feed %s: %s%s%s", feed_id, code ? code : "", code ? ": " : "", m ? m : "error");
        if (mid >= 1 && mid < (double)n + 1) fail_item(&plan->items[from + (size_t)mid - 1], msg);
        else if (!global) global = m ? m : "error";
    }
    double accepted = sb_json_num(j, SB_JSON_ROOT, "summary.messagesAccepted", -1);
    if (global && !(accepted >= 1)) {
        snprintf(msg, sizeof msg, "feed %s: %s", feed_id, global);
        for (size_t i = from; i < from + n; i++) fail_item(&plan->items[i], msg);
    }
    for (size_t i = from; i < from + n; i++)
        if (!plan->items[i].outcome) plan->items[i].outcome = 1;
    sb_json_free(j);
}

/* Records, in its own transaction and before createFeed, what the feed of document doc
 * will carry (the intent: pending_document, pending_* per SKU, pending_since = since), so
 * that neither a lost answer, a run that stops waiting nor a crash sends these SKUs again
 * while Amazon may still apply the feed: they wait until the feed is found and ends, or
 * Amazon is seen not to have it. */
static int mark_intent(sb_engine *e, const sb_stock_plan *plan, size_t from, size_t n, const char *doc,
                       const char *since, char *err) {
    char note[400];
    int rc = sb_store_begin(e->store, err);
    if (rc) return rc;
    snprintf(note, sizeof note, "in the feed of document %s, being created since %s (feed id not known yet)", doc, since);
    for (size_t i = from; !rc && i < from + n; i++) {
        const sb_stock_item *it = &plan->items[i];
        rc = sb_store_stock_intent(e->store, e->integ, it->sku, it->qty, it->latency, (long)(i - from + 1), doc, since,
                                   note, err);
    }
    if (rc) { sb_store_rollback(e->store); return rc; }
    return sb_store_commit(e->store, err);
}

/* The feed of document doc is feed_id (createFeed's answer, or found on Amazon): its SKUs
 * wait for that feed, and the feed is remembered as the engine's own. */
static int adopt_feed(sb_engine *e, const char *doc, const char *feed_id, char *err) {
    char now[32], old[32], note[300];
    sb_time_format(sb_now(), now, sizeof now);
    sb_time_format(sb_now() - (int64_t)90 * 86400, old, sizeof old);   /* Amazon keeps feeds 90 days */
    snprintf(note, sizeof note, "in feed %s, submitted %s, not finished by Amazon yet", feed_id, now);
    return sb_store_stock_adopt_feed(e->store, e->integ, doc, feed_id, note, now, old, err);
}

/* Amazon has no feed of document doc (intent since `since`): it was never created; its
 * SKUs are failed with why and so sent again (by this run when it plans after this). */
static int forget_intent(sb_engine *e, const char *doc, const char *why, char *err) {
    return sb_store_stock_forget_intent(e->store, e->integ, doc, why, err);
}

/* Looks on Amazon for the feed of an intent recorded at since (our clock): feeds of our
 * type in marketplace mp created from LOOKUP_MARGIN_S before it that this engine has not
 * recorded as its own (feeds_created). Amazon's Feed does not name its input document,
 * so type, marketplace and time are what tells it. 1 with fid set when exactly one such
 * feed exists, 0 when none does (it was not created), SB_EAMBIG when several do (which
 * one is ours cannot be told: the SKUs wait, and err says so), other negatives when
 * Amazon could not be asked. */
static int find_feed(sb_engine *e, const char *since, const char *mp, char *fid, size_t fidlen, char *err) {
    sb_spapi_processing *list = calloc(LOOKUP_MAX, sizeof *list);
    char from[32], others[300] = "";
    int n = 0, found = 0, rc;
    if (!list) return sb_seterr(err, SB_ENOMEM, "out of memory");
    int64_t t = sb_time_parse(since);
    sb_time_format((t > 0 ? t : sb_now()) - LOOKUP_MARGIN_S, from, sizeof from);
    if ((rc = sb_spapi_get_feeds(e->api, FEED_TYPE, mp, from, list, LOOKUP_MAX, &n, err))) goto out;
    for (int i = 0; i < n; i++) {
        int known;
        if ((rc = sb_store_stock_feed_is_ours(e->store, e->integ, list[i].id, &known, err))) goto out;
        if (known) continue;
        if (!found++) snprintf(fid, fidlen, "%s", list[i].id);
        size_t l = strlen(others);
        snprintf(others + l, sizeof others - l, "%s%s", l ? ", " : "", list[i].id);
    }
    rc = found;
    if (found > 1)
        rc = sb_seterr(err, SB_EAMBIG, "%d %s feeds created since %s that this engine did not record (%s): which one is "
                       "its own cannot be told, so none is followed and none created; cancel or finish the others on "
                       "Amazon", found, FEED_TYPE, from, others);
out:
    free(list);
    return rc;
}

static int feed_ended(const char *status) {
    return !strcmp(status, "DONE") || !strcmp(status, "FATAL") || !strcmp(status, "CANCELLED");
}

/* Sends items[from .. from+n) as one JSON_LISTINGS_FEED and looks for its report while
 * the next look is due within a second (the simulator at speed); otherwise, or after an
 * hour of looks, its SKUs wait (outcome 2) for the next run to look again. */
static int send_feed(sb_engine *e, sb_stock_plan *plan, size_t from, size_t n, const char *seller,
                     char **mkts, int nm, char *err) {
    sb_buf doc, report;
    sb_spapi_document d;
    sb_spapi_processing p;
    char feed_id[128] = "", since[32];
    int rc, found = 0;
    sb_buf_init(&doc, (size_t)256 << 20);
    sb_buf_init(&report, (size_t)256 << 20);
    if ((rc = sb_stock_feed_json(plan, from, n, seller, &doc, err))) goto out;
    if ((rc = sb_spapi_create_feed_document(e->api, FEED_CONTENT_TYPE, &d, err))) goto out;
    if ((rc = sb_spapi_upload_document(e->api, d.url, FEED_CONTENT_TYPE, doc.data, doc.len, err))) goto out;
    /* the intent before the call: from here on a lost answer or a crash leads to a look
     * on Amazon, never to a second feed created blindly */
    sb_time_format(sb_now(), since, sizeof since);
    if ((rc = mark_intent(e, plan, from, n, d.id, since, err))) goto out;
    for (int k = 0; k < CREATES_PER_RUN && !feed_id[0]; k++) {
        char cerr[SB_ERRLEN];
        int crc = sb_spapi_create_feed(e->api, FEED_TYPE, (const char *const *)mkts, nm, d.id, feed_id, sizeof feed_id, cerr);
        if (!crc) break;
        feed_id[0] = '\0';
        if (crc != SB_EAMBIG) { rc = sb_seterr(err, crc, "%s", cerr); goto out; }   /* refused: not created */
        sb_warn("stock feed of document %s integration=%s: %s; looking for it on Amazon before creating another",
                d.id, e->name, cerr);
        int f = find_feed(e, since, mkts[0], feed_id, sizeof feed_id, err);
        if (f > 0) { found = 1; break; }
        feed_id[0] = '\0';
        if (f < 0) {
            sb_warn("stock feed of document %s: cannot tell whether Amazon has it (%s); its %zu SKUs wait for the next "
                    "run to look again", d.id, err, n);
            break;
        }
        sb_info("stock feed of document %s is not on Amazon: it was not created%s", d.id,
                k + 1 < CREATES_PER_RUN ? "; creating it" : "");
    }
    if (!feed_id[0]) {   /* Amazon may still have it: wait, the next run looks again */
        for (size_t i = from; i < from + n; i++) plan->items[i].outcome = 2;
        goto out;
    }
    sb_info("stock feed %s integration=%s feed=%s messages=%zu", found ? "found on Amazon after a lost answer" : "submitted",
            e->name, feed_id, n);
    int marked = adopt_feed(e, d.id, feed_id, err) == 0;
    if (!marked) sb_warn("stock feed %s: %s (a crash now would send its SKUs again)", feed_id, err);
    memset(&p, 0, sizeof p);
    int deferred = 0;
    for (int i = 0; i < FEED_MAX_POLLS; i++) {
        int64_t w = sb_poll_wait_ms(i, sb_settings_num(&e->settings, "api.rate_scale"));
        /* Amazon takes minutes to hours: a kept feed is looked at by the next run instead
         * of waited for here (only the simulator at speed answers within a second) */
        if (marked && w > SB_ENGINE_MAX_WAIT_MS) { deferred = 1; break; }
        sb_sleep_ms(w);
        if ((rc = sb_spapi_get_feed(e->api, feed_id, &p, err))) {
            if (!marked) goto out;
            /* Amazon has the feed: it waits for the next run instead of going again */
            sb_warn("stock feed %s: %s; its %zu SKUs wait for it until the next run", feed_id, err, n);
            p.status[0] = 0;
            rc = 0;
            break;
        }
        if (feed_ended(p.status)) break;
        if (e->stop && *e->stop) break;
    }
    if (marked && !feed_ended(p.status)) {
        if (deferred && !p.status[0])
            sb_info("stock feed %s is with Amazon; its %zu SKUs are looked at by the next run", feed_id, n);
        else
            sb_warn("stock feed %s is still %s; its %zu SKUs are not sent again until it ends (looked at next run)",
                    feed_id, p.status[0] ? p.status : "unanswered", n);
        for (size_t i = from; i < from + n; i++) plan->items[i].outcome = 2;
    } else if (!strcmp(p.status, "DONE")) {
        if (!p.document_id[0]) { rc = sb_seterr(err, SB_EHTTP, "feed %s is DONE without a processing report", feed_id); goto out; }
        if ((rc = sb_spapi_get_feed_document(e->api, p.document_id, NULL, &report, err))) goto out;
        sb_stock_apply_report(plan, from, n, feed_id, report.data ? report.data : "", report.len);
    } else {
        char why[SB_ERRLEN] = "";
        if ((!strcmp(p.status, "FATAL")) && p.document_id[0] &&
            !sb_spapi_get_feed_document(e->api, p.document_id, NULL, &report, why) && report.len) {
            sb_json *j = NULL;
            char e2[SB_ERRLEN];
            if (!sb_json_parse(report.data, report.len, &j, e2)) {
                const char *m = sb_json_str(j, SB_JSON_ROOT, "issues[0].message");
                snprintf(why, sizeof why, "%s", m ? m : "");
                sb_json_free(j);
            }
        }
        rc = sb_seterr(err, SB_EHTTP, "feed %s ended %s%s%s; its SKUs are sent again at the next run", feed_id,
                       p.status[0] ? p.status : "without an answer", *why ? ": " : "", why);
    }
out:
    if (rc) for (size_t i = from; i < from + n; i++) fail_item(&plan->items[i], err);
    sb_buf_free(&doc);
    sb_buf_free(&report);
    return rc;
}

/* Writes the outcome of an earlier feed's SKUs (items, by message). Accepted pairs become
 * what Amazon has; every SKU is marked to be looked at again, since its stock may have
 * changed while it waited. */
static int settle_pending(sb_engine *e, const char *feed_id, sb_stock_plan *mini, char *err) {
    char now[32];
    int rc = sb_store_begin(e->store, err);
    if (rc) return rc;
    sb_time_format(sb_now(), now, sizeof now);
    for (size_t i = 0; i < mini->n && !rc; i++) {
        sb_stock_item *it = &mini->items[i];
        if (!it->sku) continue;
        int ok = it->outcome == 1;
        rc = sb_store_stock_settle(e->store, e->integ, feed_id, it->sku, ok, ok ? now : it->error ? it->error : "failed", err);
        if (!rc) rc = sb_stock_mark_dirty(e->store, e->integ, it->sku, err);
    }
    if (rc) { sb_store_rollback(e->store); return rc; }
    return sb_store_commit(e->store, err);
}

/* The intents an earlier run left without a feed id (a crash between createFeed and its
 * record, or a lost answer Amazon could not be asked about): a feed found on Amazon is
 * adopted and then followed like any pending feed; none there means it was not created,
 * and its SKUs are sent again by this run; when Amazon cannot be asked they keep waiting. */
static int resolve_intents(sb_engine *e, char *err) {
    sb_store_stock_intent_row in[SB_STORE_STOCK_DOCS];
    char **mkts = NULL;
    int nd = 0, rc;
    if ((rc = sb_store_stock_intents(e->store, e->integ, in, SB_STORE_STOCK_DOCS, &nd, err))) return rc;
    if (!nd || (rc = sb_engine_api(e, err))) return rc;
    mkts = sb_settings_list(sb_settings_str(&e->settings, "integration.marketplaces"));
    for (int k = 0; k < nd && !rc; k++) {
        char fid[128] = "", ferr[SB_ERRLEN];
        int f = find_feed(e, in[k].since, mkts && mkts[0] ? mkts[0] : NULL, fid, sizeof fid, ferr);
        if (f > 0) {
            sb_info("stock feed %s found on Amazon for document %s (its createFeed answer was never recorded) "
                    "integration=%s: following it", fid, in[k].doc, e->name);
            rc = adopt_feed(e, in[k].doc, fid, err);
        } else if (f == 0) {
            char why[SB_ERRLEN];
            snprintf(why, sizeof why, "the feed of document %s (intended %s) is not on Amazon: it was not created; sent again",
                     in[k].doc, in[k].since);
            sb_warn("%s integration=%s", why, e->name);
            rc = forget_intent(e, in[k].doc, why, err);
        } else {
            sb_warn("stock feed of document %s: cannot tell whether Amazon has it (%s); its SKUs keep waiting "
                    "integration=%s", in[k].doc, ferr, e->name);
        }
    }
    sb_settings_list_free(mkts);
    return rc;
}

/* The feeds an earlier run stopped waiting for, copied out before Amazon is asked. */
typedef struct feed_list { char **ids; int n; } feed_list;

static int collect_feed(void *ctx, const char *id) {
    feed_list *fl = ctx;
    char **f = realloc(fl->ids, (size_t)(fl->n + 1) * sizeof *f);
    if (!f) return SB_ENOMEM;
    fl->ids = f;
    if (!(f[fl->n] = sb_strdup(id ? id : ""))) return SB_ENOMEM;
    fl->n++;
    return 0;
}

/* One SKU of an earlier feed into mini, at its message's place. */
static int mini_add(void *ctx, const char *sku, long qty, int latency, long m) {
    sb_stock_plan *mini = ctx;
    if (m < 1 || m > SB_STOCK_FEED_MAX) m = (long)mini->n + 1;    /* not ours to trust: keep order */
    while (mini->n < (size_t)m)
        if (!plan_add(mini)) return SB_ENOMEM;
    sb_stock_item *it = &mini->items[m - 1];
    if (!it->sku && !(it->sku = sb_strdup(sku ? sku : ""))) return SB_ENOMEM;
    it->qty = qty;
    it->latency = latency;
    return 0;
}

/* Looks once at each feed an earlier run stopped waiting for: ended, its SKUs are settled
 * (and looked at again by this run); still queued or in progress, they keep waiting. */
static int resolve_pending(sb_engine *e, sb_stock_result *res, char *err) {
    feed_list fl = {NULL, 0};
    int rc;
    if ((rc = resolve_intents(e, err))) return rc;
    if ((rc = sb_store_stock_pending_feeds(e->store, e->integ, collect_feed, &fl, err))) {
        if (rc == SB_ENOMEM) sb_seterr(err, SB_ENOMEM, "out of memory");
        goto out;
    }
    char **feeds = fl.ids;
    int nf = fl.n;
    if (nf && (rc = sb_engine_api(e, err))) goto out;
    for (int k = 0; k < nf && !rc; k++) {
        sb_spapi_processing p;
        char ferr[SB_ERRLEN];
        memset(&p, 0, sizeof p);
        if (sb_spapi_get_feed(e->api, feeds[k], &p, ferr)) {
            sb_warn("stock feed %s: cannot ask Amazon about it (%s); its SKUs keep waiting", feeds[k], ferr);
            continue;
        }
        if (!feed_ended(p.status)) {
            sb_warn("stock feed %s is still %s; its SKUs are not sent again until it ends integration=%s",
                    feeds[k], p.status, e->name);
            continue;
        }
        /* the feed's SKUs, each at its message's place */
        sb_stock_plan mini;
        memset(&mini, 0, sizeof mini);
        if ((rc = sb_store_stock_feed_skus(e->store, e->integ, feeds[k], mini_add, &mini, err)) == SB_ENOMEM)
            sb_seterr(err, SB_ENOMEM, "out of memory");
        if (!rc) {
            char why[SB_ERRLEN + 64];
            sb_buf report;
            sb_buf_init(&report, (size_t)256 << 20);
            if (!strcmp(p.status, "DONE") && p.document_id[0] &&
                sb_spapi_get_feed_document(e->api, p.document_id, NULL, &report, why) == 0) {
                sb_stock_apply_report(&mini, 0, mini.n, feeds[k], report.data ? report.data : "", report.len);
            } else {
                if (!strcmp(p.status, "DONE")) snprintf(why, sizeof why, "feed %s is DONE but its report cannot be read", feeds[k]);
                else snprintf(why, sizeof why, "feed %s ended %s; its SKUs are sent again", feeds[k], p.status);
                for (size_t i = 0; i < mini.n; i++) fail_item(&mini.items[i], why);
            }
            sb_buf_free(&report);
            rc = settle_pending(e, feeds[k], &mini, err);
            long n = 0;
            for (size_t i = 0; i < mini.n; i++) n += mini.items[i].sku != NULL;
            res->resolved += n;
            sb_info("stock feed %s ended %s integration=%s skus=%ld: they are looked at again now", feeds[k], p.status,
                    e->name, n);
        }
        sb_stock_plan_free(&mini);
    }
out:
    for (int k = 0; k < fl.n; k++) free(fl.ids[k]);
    free(fl.ids);
    return rc;
}

static int record(sb_engine *e, sb_stock_plan *plan, sb_stock_result *res, const char *run_error, char *err) {
    char now[32], wm[24] = "";
    int rc;
    sb_time_format(sb_now(), now, sizeof now);
    if ((rc = sb_store_begin(e->store, err))) return rc;
    /* the watermark: the run's snapshot, held back to the oldest change of a failed SKU */
    snprintf(wm, sizeof wm, "%s", plan->snapshot);
    for (size_t i = 0; i < plan->n && !rc; i++) {
        sb_stock_item *it = &plan->items[i];
        if (it->outcome == 1) {
            rc = sb_store_stock_accepted(e->store, e->integ, it->sku, it->qty, it->latency, now, err);
        } else if (it->outcome < 0) {
            rc = sb_store_stock_failed(e->store, e->integ, it->sku, it->error ? it->error : "failed", err);
            if (it->changed_at[0] && strcmp(it->changed_at, wm) <= 0) {
                int64_t t = sb_time_parse(it->changed_at);
                if (t > 0) sb_time_format(t - 1, wm, sizeof wm);
            }
        }   /* 2: stays pending */
    }
    /* dirty marks are consumed by this run (failed SKUs come back through their status,
     * kits without a BOM by a new mark) */
    if (!rc) rc = sb_store_stock_clear_dirty(e->store, e->integ, err);
    for (size_t i = 0; i < plan->n && !rc; i++)
        if (plan->items[i].outcome == 3) rc = sb_stock_mark_dirty(e->store, e->integ, plan->items[i].sku, err);
    const char *old = sb_settings_str(&e->settings, "stock.last_updated");
    if (!rc && wm[0] && strcmp(wm, old) > 0) rc = sb_settings_set_watermark(e->store, e->integ, "stock.last_updated", wm, err);
    snprintf(res->watermark, sizeof res->watermark, "%s", !rc && wm[0] && strcmp(wm, old) > 0 ? wm : old);
    if (!rc) {
        char counts[400];
        snprintf(counts, sizeof counts,
                 "{\"candidates\":%ld,\"unchanged\":%ld,\"sent\":%ld,\"accepted\":%ld,\"failed\":%ld,\"rule_errors\":%ld,"
                 "\"feeds\":%ld,\"waiting\":%ld,\"no_bom\":%ld,\"full\":%s,\"mode\":\"%s\"}", res->candidates, res->unchanged,
                 res->sent, res->accepted, res->failed, res->rule_errors, res->feeds, res->waiting, res->no_bom,
                 res->full ? "true" : "false", res->mode);
        rc = sb_engine_record_run(e, "stock", run_error == NULL, run_error, counts, plan->fingerprint, err);
    }
    if (rc) { sb_store_rollback(e->store); return rc; }
    return sb_store_commit(e->store, err);
}

int sb_sync_stock(sb_engine *e, sb_stock_result *res, char *err) {
    sb_stock_plan plan;
    char **mkts = NULL, run_err[SB_ERRLEN] = "";
    int rc, nm = 0;
    memset(res, 0, sizeof *res);
    if (!sb_settings_bool(&e->settings, "stock.enabled")) {
        sb_info("stock upload is off integration=%s (stock.enabled=false)", e->name);
        return 0;
    }
    if ((rc = resolve_pending(e, res, err))) return rc;
    if ((rc = sb_stock_plan_build(e, &plan, err))) return rc;
    res->candidates = plan.candidates;
    res->waiting = plan.waiting;
    res->unchanged = plan.unchanged;
    res->rule_errors = plan.rule_errors;
    res->no_bom = plan.no_bom;
    res->full = plan.full;
    size_t to_send = 0;
    for (size_t i = 0; i < plan.n; i++) to_send += plan.items[i].outcome == 0;
    const char *seller = sb_settings_str(&e->settings, "integration.seller_id");
    mkts = sb_settings_list(sb_settings_str(&e->settings, "integration.marketplaces"));
    while (mkts && mkts[nm]) nm++;
    if (to_send) {
        long thr = sb_settings_int(&e->settings, "stock.patch_threshold");
        snprintf(res->mode, sizeof res->mode, "%s", (long)to_send <= thr ? "patch" : "feed");
        if (!*seller) rc = sb_seterr(run_err, SB_EINVAL, "integration.seller_id is not set: Amazon needs the merchant token to update listings");
        else if (!nm) rc = sb_seterr(run_err, SB_EINVAL, "integration.marketplaces is empty");
        else rc = sb_engine_api(e, run_err);
        if (rc) {
            for (size_t i = 0; i < plan.n; i++) fail_item(&plan.items[i], run_err);
        } else if (!strcmp(res->mode, "patch")) {
            for (size_t i = 0; i < plan.n; i++) {
                sb_stock_item *it = &plan.items[i];
                if (it->outcome) continue;
                char perr[SB_ERRLEN];
                int prc = sb_spapi_patch_listings_quantity(e->api, seller, it->sku, (const char *const *)mkts, nm, PRODUCT_TYPE,
                                                           it->qty, it->latency, NULL, perr);
                res->sent++;
                if (!prc) { it->outcome = 1; continue; }
                fail_item(it, perr);
                if (!*run_err) snprintf(run_err, sizeof run_err, "%.100s: %.400s", it->sku, perr);
                if (prc == SB_EAUTH) {
                    /* the account is refused: the rest would fail the same way */
                    for (size_t k = i + 1; k < plan.n; k++) fail_item(&plan.items[k], perr);
                    break;
                }
            }
        } else {
            /* feeds of at most SB_STOCK_FEED_MAX messages, over the SKUs still to send */
            size_t i = 0;
            while (i < plan.n) {
                while (i < plan.n && plan.items[i].outcome) i++;
                if (i >= plan.n) break;
                size_t from = i, k = 0;
                while (i < plan.n && k < SB_STOCK_FEED_MAX) { if (!plan.items[i].outcome) k++; i++; }
                /* a slice holds only SKUs to send: compact rule errors out of it first */
                size_t w = from;
                for (size_t r = from; r < i; r++)
                    if (!plan.items[r].outcome) {
                        if (r != w) { sb_stock_item t = plan.items[w]; plan.items[w] = plan.items[r]; plan.items[r] = t; }
                        w++;
                    }
                char ferr[SB_ERRLEN];
                res->feeds++;
                res->sent += (long)k;
                if (send_feed(e, &plan, from, k, seller, mkts, nm, ferr) && !*run_err) snprintf(run_err, sizeof run_err, "%s", ferr);
            }
        }
    }
    for (size_t i = 0; i < plan.n; i++) {
        if (plan.items[i].outcome == 1) res->accepted++;
        else if (plan.items[i].outcome < 0) res->failed++;
        else if (plan.items[i].outcome == 2) res->waiting++;
        if (plan.items[i].outcome < 0)
            sb_warn("stock not accepted integration=%s sku=%s qty=%ld latency=%d: %s", e->name, plan.items[i].sku,
                    plan.items[i].qty, plan.items[i].latency, plan.items[i].error ? plan.items[i].error : "?");
    }
    if (!*run_err && res->failed) snprintf(run_err, sizeof run_err, "%ld SKU%s not accepted (see 'sellerbridge stock status')",
                                           res->failed, res->failed == 1 ? "" : "s");
    rc = record(e, &plan, res, *run_err ? run_err : NULL, err);
    if (!rc && res->failed)
        rc = sb_seterr(err, SB_EHTTP, "%ld of %ld SKUs not accepted (sent again at the next run); first: %s", res->failed,
                       (long)plan.n, run_err);
    sb_info("stock synced integration=%s candidates=%ld unchanged=%ld sent=%ld accepted=%ld failed=%ld waiting=%ld "
            "no_bom=%ld mode=%s feeds=%ld full=%d", e->name, res->candidates, res->unchanged, res->sent, res->accepted,
            res->failed, res->waiting, res->no_bom, *res->mode ? res->mode : "none", res->feeds, res->full);
    sb_settings_list_free(mkts);
    sb_stock_plan_free(&plan);
    return rc;
}
