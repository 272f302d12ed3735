/* stock.c: the stock upload job (see stock.h): plan (which SKUs, what quantity), send
 * (patchListingsItem or JSON_LISTINGS_FEED), record (stock_sent, watermark).
 *
 * A kit (with orders.bom_expand on, where its components carry its orders' stock) has
 * per-branch figures of its own, made from its components' by kit_figures: each is the
 * smallest whole number of kits over the components, so the stock rule sees a kit as
 * any other SKU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "json/json.h"
#include "store/aliases.h"
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
    static const char *sql = "INSERT INTO stock_dirty(integration_id, sku) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
    sqlite3_stmt *st;
    if (!sku || !*sku) return 0;
    if (sb_store_cached(s, sql, &st, err)) return SB_EIO;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sb_store_error(s, "marking stock to sync", err);
    sqlite3_reset(st);
    return rc;
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

/* The statements kit_figures reads a kit with: its BOM, then per component the stock
 * rows and open order lines of the two per-SKU statements (q1, q2 with "= ?1"). */
typedef struct kit_stmts { sqlite3_stmt *bom, *stock, *open; } kit_stmts;

/* Whole kits that x units of a component make at per units a kit; the margin keeps
 * 5.9999999 (a sum of REAL quantities) from losing a kit. Negative x (more open than on
 * hand) gives a negative count, as a plain SKU's shortage counts against its total. */
static double whole_kits(double x, double per) { return floor(x / per + 1e-9); }

/* Fills br[0..nb) with kit's figures: soh is the smallest whole number of kits the
 * components on hand make; each open figure is chosen so that soh minus it is the
 * smallest number of kits the components make with that figure taken off, e.g.
 * soh - open = min over components of floor((soh_c - open_c) / qty_c). A stock rule that
 * sums soh - open (or soh - open_etd7, ...) over branches then counts whole kits.
 * Returns the number of components (0: the kit has no BOM; br is left zero). */
static int kit_figures(sb_engine *e, kit_stmts *k, int64_t kit, const char **bnames, int nb, sb_stock_branch *br,
                       char *err) {
    double m[MAX_BRANCHES][5] = {{0}};  /* per branch: min kits by soh, avail, etd7, etd30, no etd */
    int nc = 0, step;
    sqlite3_bind_int64(k->bom, 1, kit);
    while ((step = sqlite3_step(k->bom)) == SQLITE_ROW) {
        int64_t comp = sqlite3_column_int64(k->bom, 0);
        double per = sqlite3_column_double(k->bom, 1);
        sb_stock_branch c[MAX_BRANCHES];
        memset(c, 0, sizeof c);
        sqlite3_bind_int64(k->stock, 1, comp);
        while (sqlite3_step(k->stock) == SQLITE_ROW) {
            const char *bn = (const char *)sqlite3_column_text(k->stock, 1);
            for (int b = 0; b < nb; b++)
                if (!strcmp(bn, bnames[b])) {
                    c[b].soh = sqlite3_column_double(k->stock, 2);
                    c[b].open = sqlite3_column_double(k->stock, 3);
                    break;
                }
        }
        sqlite3_reset(k->stock);
        sqlite3_bind_int64(k->open, 1, comp);
        while (sqlite3_step(k->open) == SQLITE_ROW) {
            const char *bn = (const char *)sqlite3_column_text(k->open, 1);
            for (int b = 0; bn && b < nb; b++)
                if (!strcmp(bn, bnames[b])) {
                    c[b].open_etd7 = sqlite3_column_double(k->open, 2);
                    c[b].open_etd30 = sqlite3_column_double(k->open, 3);
                    c[b].open_no_etd = sqlite3_column_double(k->open, 4);
                    break;
                }
        }
        sqlite3_reset(k->open);
        for (int b = 0; b < nb; b++) {
            double f[5] = {whole_kits(c[b].soh, per), whole_kits(c[b].soh - c[b].open, per),
                           whole_kits(c[b].soh - c[b].open_etd7, per), whole_kits(c[b].soh - c[b].open_etd30, per),
                           whole_kits(c[b].soh - c[b].open_no_etd, per)};
            for (int i = 0; i < 5; i++)
                if (!nc || f[i] < m[b][i]) m[b][i] = f[i];
        }
        nc++;
    }
    int rc = step == SQLITE_DONE ? 0 : sb_store_error(e->store, "reading a kit's components", err);
    sqlite3_reset(k->bom);
    if (rc) return rc;
    for (int b = 0; nc && b < nb; b++) {
        br[b].soh = m[b][0];
        br[b].open = m[b][0] - m[b][1];
        br[b].open_etd7 = m[b][0] - m[b][2];
        br[b].open_etd30 = m[b][0] - m[b][3];
        br[b].open_no_etd = m[b][0] - m[b][4];
    }
    return nc;
}

int sb_stock_plan_build(sb_engine *e, sb_stock_plan *plan, char *err) {
    sqlite3_stmt *cand = NULL, *sst = NULL, *ost = NULL, *q = NULL;
    kit_stmts kit = {NULL, NULL, NULL};
    int rc;
    memset(plan, 0, sizeof *plan);
    if ((rc = sb_engine_rules(e, err))) return rc;
    fingerprint(e, plan->fingerprint, sizeof plan->fingerprint);
    /* the inputs of the last run: a change means every SKU is looked at again */
    if ((rc = sb_store_prepare(e->store, "SELECT COALESCE(fingerprint, '') FROM sync_state WHERE integration_id = ?1 AND job = 'stock'",
                               &q, err))) return rc;
    sqlite3_bind_int64(q, 1, e->integ);
    plan->full = !(sqlite3_step(q) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), plan->fingerprint));
    sqlite3_finalize(q);
    /* the snapshot never reaches the current second: a row written later in that same
     * second is looked at again next time (its pair is unchanged, so it is not resent) */
    if ((rc = sb_store_prepare(e->store, "SELECT MIN(MAX(m), strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 second')) FROM "
                               "(SELECT MAX(updated_at) AS m FROM stock UNION ALL SELECT MAX(updated_at) FROM products)",
                               &q, err))) return rc;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
        snprintf(plan->snapshot, sizeof plan->snapshot, "%s", sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    const char *wm = sb_settings_str(&e->settings, "stock.last_updated");
    int full = plan->full || !*wm;
    int bom = sb_settings_bool(&e->settings, "orders.bom_expand");   /* kits from their components */
    char sql[4096];
    /* a changed component makes its kits candidates too (bom_components_component,
     * schema 9); a changed BOM marks its kit in stock_dirty (triggers, schema 9) */
#define CHANGED_IDS "SELECT product_id FROM stock WHERE updated_at > ?2 " \
        " UNION SELECT id FROM products WHERE updated_at > ?2 " \
        " UNION SELECT " SB_STORE_SKU_PRODUCT("d.sku") " FROM stock_dirty d WHERE d.integration_id = ?1 "
    snprintf(sql, sizeof sql,
        "SELECT p.id, " SB_STORE_LISTING_SKU("p.id", "p.sku") ", p.buffer_stock, COALESCE(p.latency, 0), ss.quantity IS NOT NULL AND ss.latency IS NOT NULL, "
        "COALESCE(ss.quantity, 0), COALESCE(ss.latency, 0), COALESCE(ss.status, '') = 'failed', "
        "MAX(p.updated_at, COALESCE((SELECT MAX(updated_at) FROM stock s WHERE s.product_id = p.id), ''), "
        "    CASE WHEN p.order_type = 'kit' THEN COALESCE((SELECT MAX(s.updated_at) FROM bom_components c "
        "    JOIN stock s ON s.product_id = c.component_id WHERE c.kit_id = p.id), '') ELSE '' END), "
        "ss.pending_feed IS NOT NULL OR ss.pending_document IS NOT NULL, p.order_type = 'kit' "
        "FROM products p LEFT JOIN stock_sent ss ON ss.integration_id = ?1 AND ss.sku = " SB_STORE_LISTING_SKU("p.id", "p.sku") " "
        "WHERE COALESCE(p.fulfillment_channel, 'DEFAULT') = 'DEFAULT' %s ORDER BY p.id",
        full ? "" :
        "AND p.id IN (" CHANGED_IDS
        " UNION SELECT " SB_STORE_SKU_PRODUCT("x.sku") " FROM stock_sent x WHERE x.integration_id = ?1 "
        "   AND (status IS NOT 'accepted' OR quantity IS NULL) "   /* products never sent are marked in
                                                                    * stock_dirty by triggers (schema 5) */
        " UNION SELECT c.kit_id FROM bom_components c WHERE c.component_id IN (" CHANGED_IDS "))");
#undef CHANGED_IDS
    if ((rc = sb_store_prepare(e->store, sql, &cand, err))) goto out;
    sqlite3_bind_int64(cand, 1, e->integ);
    if (!full) sqlite3_bind_text(cand, 2, wm, -1, SQLITE_STATIC);
    /* Per-SKU figures. A full run reads them in one pass each, ordered by product id and
     * walked alongside the candidates (two statements instead of two per SKU); a partial
     * run looks up only its few SKUs. Columns: product id, branch, figures. */
    static const char q1t[] = "SELECT s.product_id, b.name, s.on_hand, s.reserved FROM stock s JOIN branches b ON b.id = s.branch_id "
                              "WHERE %s ORDER BY s.product_id";
    static const char q2t[] =
            "SELECT l.product_id, o.branch, SUM(CASE WHEN COALESCE(o.etd, '') <> '' AND substr(o.etd, 1, 10) <= ?2 THEN l.qty - l.qty_dispatched ELSE 0 END), "
            "SUM(CASE WHEN COALESCE(o.etd, '') <> '' AND substr(o.etd, 1, 10) <= ?3 THEN l.qty - l.qty_dispatched ELSE 0 END), "
            "SUM(CASE WHEN COALESCE(o.etd, '') = '' THEN l.qty - l.qty_dispatched ELSE 0 END) "
            "FROM sales_order_lines l JOIN sales_orders o ON o.id = l.order_id WHERE %s AND l.stock_bearing = 1 "
            "AND o.stage IN ('open', 'needs_attention') AND COALESCE(o.fulfilled_by, '') <> 'AMAZON' "
            "GROUP BY l.product_id, o.branch ORDER BY l.product_id";
    char q1[512], q2[1200];
    snprintf(q1, sizeof q1, q1t, full ? "1" : "s.product_id = ?1");
    snprintf(q2, sizeof q2, q2t, full ? "l.product_id IS NOT NULL AND ?1 IS NULL" : "l.product_id = ?1");
    if ((rc = sb_store_prepare(e->store, q1, &sst, err))) goto out;
    if ((rc = sb_store_prepare(e->store, q2, &ost, err))) goto out;
    if (bom) {
        /* kits read their components one by one, whatever the run: the per-SKU forms */
        char k1[512], k2[1200];
        snprintf(k1, sizeof k1, q1t, "s.product_id = ?1");
        snprintf(k2, sizeof k2, q2t, "l.product_id = ?1");
        if ((rc = sb_store_prepare(e->store, "SELECT component_id, qty FROM bom_components WHERE kit_id = ?1",
                                   &kit.bom, err)) ||
            (rc = sb_store_prepare(e->store, k1, &kit.stock, err)) ||
            (rc = sb_store_prepare(e->store, k2, &kit.open, err)))
            goto out;
    }
    int srow = 0, orow = 0;                 /* full run: the walking cursors are on a row */
    char d7[16], d30[16];
    add_days(e->today, 7, d7, sizeof d7);
    add_days(e->today, 30, d30, sizeof d30);
    sqlite3_bind_text(ost, 2, d7, -1, SQLITE_STATIC);
    sqlite3_bind_text(ost, 3, d30, -1, SQLITE_STATIC);
    if (kit.open) {
        sqlite3_bind_text(kit.open, 2, d7, -1, SQLITE_STATIC);
        sqlite3_bind_text(kit.open, 3, d30, -1, SQLITE_STATIC);
    }
    if (full) {
        srow = sqlite3_step(sst) == SQLITE_ROW;
        orow = sqlite3_step(ost) == SQLITE_ROW;
    }
    const char *bnames[MAX_BRANCHES];
    int nb = selected_branches(e, bnames, MAX_BRANCHES);
    sb_stock_branch br[MAX_BRANCHES];
    int buffer_on = sb_settings_bool(&e->settings, "stock.subtract_buffer");
    int def_lat = default_latency(e);
    while ((rc = sqlite3_step(cand)) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(cand, 0);
        const char *sku = (const char *)sqlite3_column_text(cand, 1);
        plan->candidates++;
        if (sqlite3_column_int(cand, 9)) { plan->waiting++; continue; }   /* its feed first */
        for (int b = 0; b < nb; b++) {
            memset(&br[b], 0, sizeof br[b]);
            br[b].branch = bnames[b];
        }
        if (bom && sqlite3_column_int(cand, 10)) {
            /* a kit: its own stock rows are not read (the walking cursors skip them) */
            int nc = kit_figures(e, &kit, pid, bnames, nb, br, err);
            if (nc < 0) { rc = nc; goto out; }
            if (nc == 0) {
                /* most likely a BOM not imported yet: Amazon is told neither 0 (it would hide
                 * a listing that may have stock) nor the kit's own stock (usually none);
                 * it is reported and looked at again at every run until it has a BOM */
                sb_warn("stock of kit not sent integration=%s sku=%s: the kit has no BOM (import its boms); "
                        "Amazon keeps the quantity it has", e->name, sku);
                sb_stock_item *it = plan_add(plan);
                if (!it || !(it->sku = sb_strdup(sku))) { rc = SB_ENOMEM; goto out; }
                it->product = pid;
                it->outcome = 3;
                plan->no_bom++;
                continue;
            }
        } else {
            if (!full) {
                sqlite3_bind_int64(sst, 1, pid);
                srow = sqlite3_step(sst) == SQLITE_ROW;
            }
            while (srow && sqlite3_column_int64(sst, 0) < pid) srow = sqlite3_step(sst) == SQLITE_ROW;
            for (; srow && sqlite3_column_int64(sst, 0) == pid; srow = sqlite3_step(sst) == SQLITE_ROW) {
                const char *bn = (const char *)sqlite3_column_text(sst, 1);
                for (int b = 0; b < nb; b++)
                    if (!strcmp(bn, bnames[b])) {
                        br[b].soh = sqlite3_column_double(sst, 2);
                        br[b].open = sqlite3_column_double(sst, 3);
                        break;
                    }
            }
            if (!full) {
                sqlite3_reset(sst);
                sqlite3_bind_int64(ost, 1, pid);
                orow = sqlite3_step(ost) == SQLITE_ROW;
            }
            while (orow && sqlite3_column_int64(ost, 0) < pid) orow = sqlite3_step(ost) == SQLITE_ROW;
            for (; orow && sqlite3_column_int64(ost, 0) == pid; orow = sqlite3_step(ost) == SQLITE_ROW) {
                const char *bn = (const char *)sqlite3_column_text(ost, 1);
                for (int b = 0; bn && b < nb; b++)
                    if (!strcmp(bn, bnames[b])) {
                        br[b].open_etd7 = sqlite3_column_double(ost, 2);
                        br[b].open_etd30 = sqlite3_column_double(ost, 3);
                        br[b].open_no_etd = sqlite3_column_double(ost, 4);
                        break;
                    }
            }
            if (!full) sqlite3_reset(ost);
        }
        sb_stock_input in = {.sku = sku, .buffer = buffer_on ? sqlite3_column_double(cand, 2) : 0,
                             .nbranches = nb, .branches = br};
        long qty = 0;
        char rerr[SB_ERRLEN];
        int rr = sb_rules_stock(e->rules, &in, &qty, rerr);
        if (rr == SB_EINTR) { rc = sb_seterr(err, SB_EINTR, "stock: stopped at SKU %s: %s", sku, rerr); goto out; }
        int lat = sqlite3_column_int(cand, 3);
        if (lat < 1 || lat > 30) lat = def_lat;
        int has_prev = sqlite3_column_int(cand, 4), prev_failed = sqlite3_column_int(cand, 7);
        long pq = sqlite3_column_int64(cand, 5);
        int pl = sqlite3_column_int(cand, 6);
        if (!rr && has_prev && !prev_failed && pq == qty && pl == lat) { plan->unchanged++; continue; }
        sb_stock_item *it = plan_add(plan);
        if (!it || !(it->sku = sb_strdup(sku))) { rc = SB_ENOMEM; goto out; }
        it->product = pid;
        it->qty = qty;
        it->latency = lat;
        it->has_prev = has_prev;
        it->prev_qty = pq;
        it->prev_latency = pl;
        it->prev_failed = prev_failed;
        if (sqlite3_column_text(cand, 8)) snprintf(it->changed_at, sizeof it->changed_at, "%s", sqlite3_column_text(cand, 8));
        if (rr) {
            it->outcome = -1;
            it->error = sb_strdup(rerr);
            plan->rule_errors++;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : sb_store_error(e->store, "listing stock to sync", err);
out:
    sqlite3_finalize(cand);
    sqlite3_finalize(sst);
    sqlite3_finalize(ost);
    sqlite3_finalize(kit.bom);
    sqlite3_finalize(kit.stock);
    sqlite3_finalize(kit.open);
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

/* One statement with ?1 = the integration and up to three text parameters (NULL = not
 * bound). */
static int exec_sql(sb_engine *e, const char *sql, const char *a, const char *b, const char *c, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(e->store, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, e->integ);
    const char *v[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (v[i]) sqlite3_bind_text(st, i + 2, v[i], -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sb_store_error(e->store, "stock feed bookkeeping", err);
    sqlite3_finalize(st);
    return rc;
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
    sqlite3_stmt *st = NULL;
    int rc = sb_store_begin(e->store, err);
    if (rc) return rc;
    rc = sb_store_prepare(e->store,
        "INSERT INTO stock_sent(integration_id, sku, status, error, pending_feed, pending_document, pending_quantity, "
        "pending_latency, pending_message, pending_since) VALUES (?1, ?2, 'pending', ?3, NULL, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT(integration_id, sku) DO UPDATE SET status = 'pending', error = ?3, pending_feed = NULL, "
        "pending_document = ?4, pending_quantity = ?5, pending_latency = ?6, pending_message = ?7, pending_since = ?8",
        &st, err);
    char note[400];
    snprintf(note, sizeof note, "in the feed of document %s, being created since %s (feed id not known yet)", doc, since);
    for (size_t i = from; !rc && i < from + n; i++) {
        const sb_stock_item *it = &plan->items[i];
        sqlite3_bind_int64(st, 1, e->integ);
        sqlite3_bind_text(st, 2, it->sku, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, note, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, doc, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, it->qty);
        sqlite3_bind_int(st, 6, it->latency);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)(i - from + 1));
        sqlite3_bind_text(st, 8, since, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(e->store, "recording the stock feed to create", err);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
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
    int rc = sb_store_begin(e->store, err);
    if (rc) return rc;
    if (!(rc = exec_sql(e, "UPDATE stock_sent SET pending_feed = ?3, pending_document = NULL, error = ?4 "
                           "WHERE integration_id = ?1 AND pending_document = ?2", doc, feed_id, note, err)))
        rc = exec_sql(e, "INSERT OR IGNORE INTO feeds_created(integration_id, feed_id, feed_type, document_id, created_at) "
                         "VALUES (?1, ?3, '" FEED_TYPE "', ?2, ?4)", doc, feed_id, now, err);
    if (!rc) rc = exec_sql(e, "DELETE FROM feeds_created WHERE integration_id = ?1 AND created_at < ?2", old, NULL, NULL, err);
    if (rc) { sb_store_rollback(e->store); return rc; }
    return sb_store_commit(e->store, err);
}

/* Amazon has no feed of document doc (intent since `since`): it was never created; its
 * SKUs are failed with why and so sent again (by this run when it plans after this). */
static int forget_intent(sb_engine *e, const char *doc, const char *why, char *err) {
    return exec_sql(e, "UPDATE stock_sent SET status = 'failed', error = ?3, attempts = attempts + 1, "
                       "pending_document = NULL WHERE integration_id = ?1 AND pending_document = ?2", doc, why, NULL, err);
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
    sqlite3_stmt *st = NULL;
    char from[32], others[300] = "";
    int n = 0, found = 0, rc;
    if (!list) return sb_seterr(err, SB_ENOMEM, "out of memory");
    int64_t t = sb_time_parse(since);
    sb_time_format((t > 0 ? t : sb_now()) - LOOKUP_MARGIN_S, from, sizeof from);
    if ((rc = sb_spapi_get_feeds(e->api, FEED_TYPE, mp, from, list, LOOKUP_MAX, &n, err))) goto out;
    if ((rc = sb_store_prepare(e->store, "SELECT 1 FROM feeds_created WHERE integration_id = ?1 AND feed_id = ?2", &st, err)))
        goto out;
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, e->integ);
        sqlite3_bind_text(st, 2, list[i].id, -1, SQLITE_STATIC);
        int known = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
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
    sqlite3_finalize(st);
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
    sqlite3_stmt *ok = NULL, *bad = NULL;
    char now[32];
    int rc = sb_store_begin(e->store, err);
    if (rc) return rc;
    sb_time_format(sb_now(), now, sizeof now);
    if ((rc = sb_store_prepare(e->store,
            "UPDATE stock_sent SET quantity = pending_quantity, latency = pending_latency, sent_at = ?3, "
            "status = 'accepted', error = NULL, attempts = 0, pending_feed = NULL "
            "WHERE integration_id = ?1 AND sku = ?2 AND pending_feed = ?4", &ok, err)) ||
        (rc = sb_store_prepare(e->store,
            "UPDATE stock_sent SET status = 'failed', error = ?3, attempts = attempts + 1, pending_feed = NULL "
            "WHERE integration_id = ?1 AND sku = ?2 AND pending_feed = ?4", &bad, err)))
        goto out;
    for (size_t i = 0; i < mini->n && !rc; i++) {
        sb_stock_item *it = &mini->items[i];
        if (!it->sku) continue;
        sqlite3_stmt *s = it->outcome == 1 ? ok : bad;
        sqlite3_bind_int64(s, 1, e->integ);
        sqlite3_bind_text(s, 2, it->sku, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, s == ok ? now : it->error ? it->error : "failed", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, feed_id, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) rc = sb_store_error(e->store, "recording an earlier stock feed", err);
        sqlite3_reset(s);
        if (!rc) rc = sb_stock_mark_dirty(e->store, e->integ, it->sku, err);
    }
out:
    sqlite3_finalize(ok);
    sqlite3_finalize(bad);
    if (rc) { sb_store_rollback(e->store); return rc; }
    return sb_store_commit(e->store, err);
}

/* The intents an earlier run left without a feed id (a crash between createFeed and its
 * record, or a lost answer Amazon could not be asked about): a feed found on Amazon is
 * adopted and then followed like any pending feed; none there means it was not created,
 * and its SKUs are sent again by this run; when Amazon cannot be asked they keep waiting. */
static int resolve_intents(sb_engine *e, char *err) {
    sqlite3_stmt *st = NULL;
    char docs[100][256], since[100][32], **mkts = NULL;
    int nd = 0, rc;
    if ((rc = sb_store_prepare(e->store, "SELECT pending_document, MIN(pending_since) FROM stock_sent WHERE integration_id = ?1 "
                                         "AND pending_document IS NOT NULL GROUP BY pending_document LIMIT 100", &st, err)))
        return rc;
    sqlite3_bind_int64(st, 1, e->integ);
    while (nd < 100 && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(docs[nd], sizeof docs[nd], "%s", sqlite3_column_text(st, 0));
        snprintf(since[nd], sizeof since[nd], "%s", sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
        nd++;
    }
    sqlite3_finalize(st);
    if (!nd || (rc = sb_engine_api(e, err))) return rc;
    mkts = sb_settings_list(sb_settings_str(&e->settings, "integration.marketplaces"));
    for (int k = 0; k < nd && !rc; k++) {
        char fid[128] = "", ferr[SB_ERRLEN];
        int f = find_feed(e, since[k], mkts && mkts[0] ? mkts[0] : NULL, fid, sizeof fid, ferr);
        if (f > 0) {
            sb_info("stock feed %s found on Amazon for document %s (its createFeed answer was never recorded) "
                    "integration=%s: following it", fid, docs[k], e->name);
            rc = adopt_feed(e, docs[k], fid, err);
        } else if (f == 0) {
            char why[SB_ERRLEN];
            snprintf(why, sizeof why, "the feed of document %s (intended %s) is not on Amazon: it was not created; sent again",
                     docs[k], since[k]);
            sb_warn("%s integration=%s", why, e->name);
            rc = forget_intent(e, docs[k], why, err);
        } else {
            sb_warn("stock feed of document %s: cannot tell whether Amazon has it (%s); its SKUs keep waiting "
                    "integration=%s", docs[k], ferr, e->name);
        }
    }
    sb_settings_list_free(mkts);
    return rc;
}

/* Looks once at each feed an earlier run stopped waiting for: ended, its SKUs are settled
 * (and looked at again by this run); still queued or in progress, they keep waiting. */
static int resolve_pending(sb_engine *e, sb_stock_result *res, char *err) {
    sqlite3_stmt *st = NULL;
    char **feeds = NULL;
    int nf = 0, rc;
    if ((rc = resolve_intents(e, err))) return rc;
    if ((rc = sb_store_prepare(e->store, "SELECT DISTINCT pending_feed FROM stock_sent WHERE integration_id = ?1 "
                                         "AND pending_feed IS NOT NULL LIMIT 100", &st, err))) return rc;
    sqlite3_bind_int64(st, 1, e->integ);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char **f = realloc(feeds, (size_t)(nf + 1) * sizeof *feeds);
        if (!f) break;
        feeds = f;
        if ((feeds[nf] = sb_strdup((const char *)sqlite3_column_text(st, 0)))) nf++;
    }
    sqlite3_finalize(st);
    st = NULL;
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
        if ((rc = sb_store_prepare(e->store, "SELECT sku, pending_quantity, pending_latency, pending_message FROM stock_sent "
                                             "WHERE integration_id = ?1 AND pending_feed = ?2 ORDER BY pending_message",
                                   &st, err))) break;
        sqlite3_bind_int64(st, 1, e->integ);
        sqlite3_bind_text(st, 2, feeds[k], -1, SQLITE_STATIC);
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            long m = (long)sqlite3_column_int64(st, 3);
            if (m < 1 || m > SB_STOCK_FEED_MAX) m = (long)mini.n + 1;    /* not ours to trust: keep order */
            while (rc == 0 && mini.n < (size_t)m) if (!plan_add(&mini)) rc = sb_seterr(err, SB_ENOMEM, "out of memory");
            if (rc) break;
            sb_stock_item *it = &mini.items[m - 1];
            if (!it->sku && !(it->sku = sb_strdup((const char *)sqlite3_column_text(st, 0)))) rc = sb_seterr(err, SB_ENOMEM, "out of memory");
            it->qty = (long)sqlite3_column_int64(st, 1);
            it->latency = sqlite3_column_int(st, 2);
        }
        sqlite3_finalize(st);
        st = NULL;
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
    for (int k = 0; k < nf; k++) free(feeds[k]);
    free(feeds);
    return rc;
}

static int record(sb_engine *e, sb_stock_plan *plan, sb_stock_result *res, const char *run_error, char *err) {
    sqlite3_stmt *ok = NULL, *bad = NULL, *undirty = NULL, *st = NULL;
    char now[32], wm[24] = "";
    int rc;
    sb_time_format(sb_now(), now, sizeof now);
    if ((rc = sb_store_begin(e->store, err))) return rc;
    if ((rc = sb_store_prepare(e->store,
            "INSERT INTO stock_sent(integration_id, sku, quantity, latency, sent_at, status, error, attempts) "
            "VALUES (?1, ?2, ?3, ?4, ?5, 'accepted', NULL, 0) ON CONFLICT(integration_id, sku) DO UPDATE SET "
            "quantity = excluded.quantity, latency = excluded.latency, sent_at = excluded.sent_at, status = 'accepted', "
            "error = NULL, attempts = 0, pending_feed = NULL, pending_document = NULL", &ok, err))) goto out;
    if ((rc = sb_store_prepare(e->store,
            "INSERT INTO stock_sent(integration_id, sku, status, error, attempts) VALUES (?1, ?2, 'failed', ?3, 1) "
            "ON CONFLICT(integration_id, sku) DO UPDATE SET status = 'failed', error = excluded.error, "
            "attempts = attempts + 1, pending_feed = NULL, pending_document = NULL", &bad, err))) goto out;
    if ((rc = sb_store_prepare(e->store, "DELETE FROM stock_dirty WHERE integration_id = ?1 AND (sku = ?2 OR sku IN "   /* an alias: its product's own too */
                                         "(SELECT p.sku FROM sku_aliases a JOIN products p ON p.id = a.product_id WHERE a.channel_sku = ?2))",
                               &undirty, err))) goto out;
    /* the watermark: the run's snapshot, held back to the oldest change of a failed SKU */
    snprintf(wm, sizeof wm, "%s", plan->snapshot);
    for (size_t i = 0; i < plan->n && !rc; i++) {
        sb_stock_item *it = &plan->items[i];
        sqlite3_stmt *s = it->outcome == 1 ? ok : it->outcome < 0 ? bad : NULL;   /* 2: stays pending */
        if (!s) continue;
        sqlite3_bind_int64(s, 1, e->integ);
        sqlite3_bind_text(s, 2, it->sku, -1, SQLITE_STATIC);
        if (s == ok) {
            sqlite3_bind_int64(s, 3, it->qty);
            sqlite3_bind_int(s, 4, it->latency);
            sqlite3_bind_text(s, 5, now, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_text(s, 3, it->error ? it->error : "failed", -1, SQLITE_STATIC);
            if (it->changed_at[0] && strcmp(it->changed_at, wm) <= 0) {
                int64_t t = sb_time_parse(it->changed_at);
                if (t > 0) sb_time_format(t - 1, wm, sizeof wm);
            }
        }
        if (sqlite3_step(s) != SQLITE_DONE) rc = sb_store_error(e->store, "recording stock sent", err);
        sqlite3_reset(s);
    }
    /* dirty marks are consumed by this run (failed SKUs come back through their status,
     * kits without a BOM by a new mark) */
    if (!rc && (rc = sb_store_prepare(e->store, "DELETE FROM stock_dirty WHERE integration_id = ?1", &st, err)) == 0) {
        sqlite3_bind_int64(st, 1, e->integ);
        if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(e->store, "clearing stock marks", err);
        sqlite3_finalize(st);
        st = NULL;
    }
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
out:
    sqlite3_finalize(ok);
    sqlite3_finalize(bad);
    sqlite3_finalize(undirty);
    sqlite3_finalize(st);
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
