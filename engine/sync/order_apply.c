/* order_apply.c: an order's decisions applied to the store (see order_apply.h).
 *
 * The one idea: the rules decide orders while no transaction is open, then every change
 * an order makes (the sales order rows, customer, lines, reserved stock, auto-dispatch,
 * invoice number, audit rows) happens inside one transaction, the page's decided orders
 * together (sb_order_apply_all, each order a savepoint of it) or one order alone
 * (sb_order_apply), and the pass moves the watermark only after the last order of the
 * window is stored. A crash at any point therefore leaves each order whole or absent, and
 * repeating the window is harmless because an order already stored is only compared with
 * what came and updated where Amazon changed it (update_seen). No rule ever runs while
 * this engine holds the database's write lock. What to write is the plan's
 * (sync/order_plan.h); this file reads what the plan needs and writes what it says. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "json/json.h"
#include "store/orders.h"
#include "sync/order_apply.h"
#include "sync/order_plan.h"

static const char *pack_hash(const sb_order_pass *c) { return c->e->rules ? sb_rules_hash(c->e->rules) : NULL; }

static void tally(sb_orders_result *r, const sb_plan_tally *t) {
    r->created += t->created;
    r->updated += t->updated;
    r->unchanged += t->unchanged;
    r->held += t->held;
    r->rule_errors += t->rule_errors;
    r->rejected += t->rejected;
    r->cancelled += t->cancelled;
    r->dispatched += t->dispatched;
    r->stale += t->stale;
}

/* Where the order's JSON is kept: its own text, or its place in the page, whose row is
 * written the first time an order of the page needs it. keep 0: nowhere (the later rows
 * of a split). */
static int raw_of(sb_order_pass *c, const sb_order *o, int keep, sb_store_raw_place *raw) {
    memset(raw, 0, sizeof *raw);
    if (!keep) return 0;
    if (o->raw_json) { raw->json = o->raw_json; return 0; }
    if (!c->page) return 0;
    int rc;
    if (!c->page_id && (rc = sb_store_raw_page_add(c->e->store, c->e->integ, c->page, c->page_len, c->page_orders,
                                                   &c->page_id, c->err))) return rc;
    raw->page_id = c->page_id;
    raw->index = o->page_index;
    return 0;
}

static int audit(sb_order_pass *c, const char *ref, const char *hook, const char *decision) {
    sb_audit_entry a = {hook, decision};
    return sb_store_order_audit(c->e->store, c->e->integ, ref, pack_hash(c), sb_store_now(c->e->store), &a, 1, c->err);
}

/* An audit row {"k1": v1, "k2": v2, "k3": v3} of hook (a pair with a NULL or "" value left out). */
static int audit_json(sb_order_pass *c, const char *ref, const char *hook, const char *k1, const char *v1,
                      const char *k2, const char *v2, const char *k3, const char *v3) {
    sb_buf b;
    sb_buf_init(&b, 16384);
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, k1, v1);
    sb_jw_kstr(&w, k2, v2);
    if (k3 && v3 && *v3) sb_jw_kstr(&w, k3, v3);
    sb_jw_end_obj(&w);
    int rc = sb_jw_error(&w) ? sb_seterr(c->err, SB_ENOMEM, "order %s: audit too large", ref) : audit(c, ref, hook, b.data);
    sb_buf_free(&b);
    return rc;
}

/* The audit row of what Amazon changed: {"action": ..., "changes": "...", ...}. */
static int audit_amazon(sb_order_pass *c, const char *ref, const char *action, const char *changes, const char *k2,
                        const char *v2) {
    return audit_json(c, ref, "amazon", "action", action, "changes", changes, k2, v2);
}

static int set_stage(sb_order_pass *c, int64_t id, const char *stage, const char *reason) {
    return sb_store_order_stage(c->e->store, id, stage, reason, sb_store_now(c->e->store), c->err);
}

/* The buyer as the customer record takes it. */
static void contact_of(const sb_order *o, const char *name, sb_store_buyer *cu) {
    const sb_address *a = &o->ship;
    cu->email = o->buyer_email;
    cu->name = name;
    cu->company = o->buyer_company;
    cu->phone = a->phone;
    cu->address1 = a->line1;
    cu->address2 = a->line2;
    cu->city = a->city;
    cu->state = a->state;
    cu->postcode = a->postal;
    cu->country = a->country;
}

static int resolve_customer(sb_order_pass *c, const sb_order *o, const sb_decision *d, int64_t *id) {
    sb_engine *e = c->e;
    sb_store_buyer cu = {.key = d->customer_key};
    *id = 0;
    switch (d->customer_action) {
    case SB_CUST_INSERT:
        cu.group = d->customer_group;
        if (d->customer_name) cu.name = d->customer_name;   /* its own (e.g. anonymous buyers') */
        else contact_of(o, o->buyer_name && *o->buyer_name ? o->buyer_name : o->ship.name, &cu);
        return sb_store_customer_add(e->store, e->integ, &cu, sb_store_now(e->store), id, c->err);
    case SB_CUST_UPDATE: {
        int changed, rc;
        contact_of(o, o->buyer_name, &cu);
        int64_t wall = sb_settings_bool(&e->settings, "orders.shared_customers") ? -1 : e->integ;
        if ((rc = sb_store_customer_update(e->store, d->customer_id, &cu, wall, sb_store_now(e->store), &changed, c->err)))
            return rc;
        if (!changed)
            return sb_seterr(c->err, SB_ERULE, "customer id %lld is not a customer of integration '%s'",
                             (long long)d->customer_id, e->name);
        *id = d->customer_id;
        return 0;
    }
    case SB_CUST_KEEP: case SB_CUST_SELECTED:
        *id = d->customer_id;
        return 0;
    default:
        return 0;
    }
}

typedef struct kit_ctx {
    sb_order_pass *c;
    sb_store_order_line line;   /* the kit's line; each component is stored from it */
    int *line_no, n;
    double qty;
} kit_ctx;

static int add_component(void *ud, int64_t product, const char *sku, const char *name, double per) {
    kit_ctx *k = ud;
    sb_store_order_line l = k->line;
    l.line_no = ++*k->line_no;
    l.sku = sku;
    l.title = name;
    l.product_id = product;
    l.qty = per * k->qty;
    k->n++;
    return sb_store_order_line_add(k->c->e->store, &l, k->c->err);
}

/* Stores one row's lines (kits expanded when enabled), then judges whether it can be
 * dispatched now (*dispatchable) and reserves its stock. A kit with no components
 * carries its own. SKUs that are not products are named in attention. */
static int store_lines(sb_order_pass *c, int64_t oid, const sb_order *o, const sb_split *sp, int whole,
                       const char *branch, int *dispatchable, char *attention, size_t attlen) {
    sb_store *s = c->e->store;
    int rc = 0, line_no = 0;
    int bom = sb_settings_bool(&c->e->settings, "orders.bom_expand");
    int nlines = whole ? o->nlines : sp->nlines;
    for (int k = 0; k < nlines && !rc; k++) {
        const sb_order_line *l = whole ? &o->lines[k] : &o->lines[sp->lines[k].line];
        double qty = whole ? l->qty : sp->lines[k].qty;
        sb_store_order_product p;
        if ((rc = sb_store_order_product_of(s, l->sku, &p, c->err))) break;
        if (!p.found) {
            size_t n = strlen(attention);
            snprintf(attention + n, attlen - n, "%sSKU '%s' is not a product", n ? "; " : "", l->sku ? l->sku : "(none)");
            *dispatchable = 0;
        }
        sb_store_order_line row = {oid, ++line_no, l->item_id, l->sku, l->asin, l->title, p.id, qty,
                                   l->unit_price, l->line_total, NULL, 1};
        if (!(bom && p.kit)) {
            rc = sb_store_order_line_add(s, &row, c->err);
            continue;
        }
        /* the kit line stays for the invoice; its components carry the stock */
        row.stock_bearing = 0;
        if ((rc = sb_store_order_line_add(s, &row, c->err))) break;
        kit_ctx kc = {c, {oid, 0, l->item_id, NULL, NULL, NULL, 0, 0, NULL, NULL, l->sku, 1}, &line_no, 0, qty};
        if ((rc = sb_store_order_bom(s, p.id, add_component, &kc, c->err))) break;
        if (kc.n == 0) rc = sb_store_order_line_bears(s, oid, row.line_no, c->err);
    }
    if (rc) return rc;
    /* can it be dispatched now? every stock-bearing line a product, untracked, in stock */
    if (*dispatchable && (rc = sb_store_order_can_dispatch(s, oid, branch, dispatchable, c->err))) return rc;
    return sb_store_reserve_order(s, oid, branch, +1, c->err);
}

/* A new order (or one stored again with keep): the rows, customer, lines, stock,
 * invoice, audit. */
static int store_new(sb_order_pass *c, const sb_order *o, const sb_decision *d, int norm_rc, const char *norm_err,
                     const char *ref, const sb_plan_keep *keep) {
    sb_engine *e = c->e;
    sb_plan_settings set = {sb_settings_bool(&e->settings, "orders.auto_dispatch"),
                            !strcmp(sb_settings_str(&e->settings, "orders.invoice_mode"), "individual")};
    sb_order_plan p;
    sb_plan_tally t = {0};
    sb_plan_new(o, d, norm_rc, norm_err, &set, keep, &p);
    int64_t customer = 0;
    int rc = 0;
    if (!p.held && (rc = resolve_customer(c, o, d, &customer))) return rc;
    for (int k = 0; k < p.nsplits && !rc; k++) {
        const char *branch = sb_plan_branch(&p, d, k);
        char invoice_no[32] = "";
        const char *invoice_date = e->today;
        int inv = sb_plan_invoice(&p, k);
        if (inv == SB_INV_KEEP) {
            snprintf(invoice_no, sizeof invoice_no, "%s", keep->inv[k]);
            if (keep->inv_date[k][0]) invoice_date = keep->inv_date[k];
        } else if (inv == SB_INV_NEW) {
            long long no;
            if ((rc = sb_store_invoice_next(e->store, e->integ, &no, c->err))) break;
            if (no) snprintf(invoice_no, sizeof invoice_no, "INV-%06lld", no);
        }
        sb_store_order_row row = {
            .integ = e->integ, .ref = ref, .split_no = k, .o = o, .stage = p.stage, .branch = branch,
            .distribution_branch = p.held ? NULL : d->distribution_branch, .gl_account = p.held ? NULL : d->gl_account,
            .customer_id = customer, .invoice_no = invoice_no, .invoice_date = *invoice_no ? invoice_date : NULL,
            .total = k == 0 ? o->total : NULL, .shipping_total = k == 0 ? o->shipping_total : "0",
            .attention_reason = p.attention, .rule_error = p.rule_error, .pack_hash = pack_hash(c),
            .now = sb_store_now(e->store),
        };
        int64_t oid;
        if ((rc = raw_of(c, o, k == 0, &row.raw)) || (rc = sb_store_order_add(e->store, &row, &oid, c->err))) break;
        int lines_ok = p.dispatchable;
        char line_attention[512] = "";
        if ((rc = store_lines(c, oid, o, p.whole ? NULL : &d->splits[k], p.whole, branch, &lines_ok, line_attention,
                              sizeof line_attention))) break;
        const char *stage;
        char both[1600];
        int held;
        if (sb_plan_line_hold(&p, k, line_attention, &stage, both, sizeof both, &held)) {
            t.held += held;
            rc = set_stage(c, oid, stage, both);
            continue;
        }
        if (sb_plan_dispatch_now(&p, lines_ok)) {
            char now[32];
            if ((rc = sb_store_order_auto_dispatch(e->store, oid, branch, sb_time_format(sb_now(), now, sizeof now), c->err)))
                break;
            if (k == 0) t.dispatched++;
        }
    }
    if (rc) return rc;
    sb_plan_count_new(&p, d, norm_rc, &t);
    tally(c->res, &t);
    if (norm_rc) return audit(c, ref, "normalise", "{\"error\":\"rejected\"}");
    return sb_store_order_audit(e->store, e->integ, ref, pack_hash(c), sb_store_now(e->store), d->audit, d->naudit, c->err);
}

/* An order new or changed, though Amazon last changed it before the watermark: listed
 * late, found by the overlap (or only by the reconciliation, before the overlap's start). */
static void note_late(sb_order_pass *c, const sb_order *o, const char *what) {
    int64_t t = o->updated && c->watermark ? sb_time_parse(o->updated) : -1;
    if (t < 0) return;
    if (c->normal_start && t < c->normal_start) {
        c->res->missed++;
        sb_warn("orders: %s%s (last updated %s) was missed by the windows and found by the daily reconciliation "
                "integration=%s; a larger orders.overlap_minutes would have found it sooner", o->order_id, what,
                o->updated, c->e->name);
    } else if (t < c->watermark) {
        c->res->late++;
        sb_info("orders: %s%s (last updated %s) was listed late and found by the overlap integration=%s",
                o->order_id, what, o->updated, c->e->name);
    }
}

/* ---- an order seen again ---- */

typedef struct lines_ctx {
    sb_stored_line *v;
    int n, cap;
} lines_ctx;

static int add_stored_line(void *ud, const char *item, const char *sku, double qty, const char *price) {
    lines_ctx *lc = ud;
    if (lc->n == lc->cap) {
        int nc = lc->cap ? lc->cap * 2 : 16;
        sb_stored_line *t = nc <= 10000 ? realloc(lc->v, (size_t)nc * sizeof *lc->v) : NULL;
        if (!t) return SB_ENOMEM;
        lc->v = t;
        lc->cap = nc;
    }
    sb_stored_line *l = &lc->v[lc->n++];
    snprintf(l->item, sizeof l->item, "%s", item);
    snprintf(l->sku, sizeof l->sku, "%s", sku);
    snprintf(l->price, sizeof l->price, "%s", price);
    l->qty = qty;
    l->seen = 0;
    return 0;
}

/* What Amazon changed: the order as stored (its first row, its lines over every row) against o. */
static int diff_stored(sb_order_pass *c, int64_t first, const sb_order *o, order_diff *df) {
    char *kept[SB_KEPT_N];
    lines_ctx lc = {NULL, 0, 0};
    int rc = sb_store_order_kept(c->e->store, first, kept, c->err);
    if (rc == SB_ENOTFOUND) return sb_seterr(c->err, SB_EIO, "order %s: its row is gone", o->order_id);
    if (rc) return rc;
    rc = sb_store_order_top_lines(c->e->store, c->e->integ, o->order_id, add_stored_line, &lc, c->err);
    if (rc == SB_ENOMEM) rc = sb_seterr(c->err, SB_ENOMEM, "order %s: too many lines to compare", o->order_id);
    if (!rc) sb_order_diff((const char *const *)kept, lc.v, lc.n, o, df);
    sb_store_order_kept_free(kept);
    free(lc.v);
    return rc;
}

typedef struct left_ctx { char *out; size_t len; } left_ctx;

/* "MUG-BLK-12 1 of 2, SPOON-SET-4 1 of 1": the lines that already left. */
static int add_left(void *ud, const char *sku, double dispatched, double qty) {
    left_ctx *l = ud;
    size_t n = strlen(l->out);
    snprintf(l->out + n, l->len - n, "%s%.60s %g of %g", n ? ", " : "", sku, dispatched, qty);
    return 0;
}

typedef struct seen_rows {
    sb_store_order_split row[SB_MAX_SPLITS + 1];
    sb_plan_rows sum;
} seen_rows;

/* The stored rows (splits) of ref, and what the plan needs of them. */
static int load_rows(sb_order_pass *c, const char *ref, seen_rows *r) {
    int n, rc = sb_store_order_stored(c->e->store, c->e->integ, ref, r->row, SB_MAX_SPLITS + 1, &n, c->err);
    if (rc) return rc;
    r->sum = (sb_plan_rows){.n = n, .all_left = 1, .first_stage = n ? r->row[0].stage : ""};
    for (int i = 0; i < n; i++) {
        if (!strcmp(r->row[i].stage, "cancelled")) continue;
        r->sum.live++;
        if (!r->row[i].dispatched) r->sum.all_left = 0;
        if (r->row[i].some_left) r->sum.some_left = 1;
    }
    return 0;
}

/* The light refresh: status, lastUpdatedTime and where the JSON is, on every row. */
static int refresh_rows(sb_order_pass *c, const sb_order *o, const seen_rows *r) {
    int rc = 0;
    for (int i = 0; i < r->sum.n && !rc; i++) {
        sb_store_raw_place raw;
        if (!(rc = raw_of(c, o, i == 0, &raw)))
            rc = sb_store_order_refresh(c->e->store, r->row[i].id, o->status, o->updated, &raw, sb_store_now(c->e->store), c->err);
    }
    return rc;
}

/* Stores an order that nothing has left of again from what Amazon now says, keeping its
 * invoice numbers and what a person decided. relink: why a retry does it (NULL: Amazon
 * changed it). */
static int store_again(sb_order_pass *c, const sb_order *o, const sb_decision *d, const seen_rows *r,
                       const order_diff *df, const char *relink) {
    char pbranch[128];
    int released = 0, rc;
    sb_plan_again a;
    if ((rc = sb_store_order_person(c->e->store, c->e->integ, o->order_id, pbranch, sizeof pbranch, &released, c->err)))
        return rc;
    if (sb_plan_again_of(o, d, pbranch, released, r->sum.first_stage, df->text, relink != NULL, &a))
        return sb_seterr(c->err, SB_ENOMEM, "order %s: out of memory", o->order_id);
    sb_plan_keep keep = {.again = 1, .keep_open = a.keep_open, .note = *a.note ? a.note : NULL, .ninv = r->sum.n};
    for (int i = 0; i < r->sum.n && i <= SB_MAX_SPLITS; i++) {
        snprintf(keep.inv[i], sizeof keep.inv[i], "%s", r->row[i].inv);
        snprintf(keep.inv_date[i], sizeof keep.inv_date[i], "%s", r->row[i].inv_date);
    }
    long created = c->res->created, held = c->res->held;
    if (!(rc = relink ? audit_json(c, o->order_id, "retry", "action", "relink", "why", relink, NULL, NULL)
                      : audit_amazon(c, o->order_id, "update", df->text, "kept", *pbranch ? pbranch : NULL)) &&
        !(rc = sb_store_order_remove(c->e->store, c->e->integ, o->order_id, c->err)))
        rc = store_new(c, o, &a.d, 0, NULL, o->order_id, &keep);
    c->res->created = created;
    c->res->held = held;
    sb_plan_again_free(&a);
    if (!rc) c->res->updated++;
    return rc;
}

/* A cancelled order's live rows: flagged when something left, else released. */
static int cancel_rows(sb_order_pass *c, const sb_order *o, const seen_rows *r) {
    int rc = 0, how = sb_plan_cancel_row(&r->sum);
    char left[512] = "", why[700];
    left_ctx lc = {left, sizeof left};
    if (r->sum.live && how == SB_CANCEL_FLAG_PART &&
        (rc = sb_store_order_left_lines(c->e->store, c->e->integ, o->order_id, add_left, &lc, c->err))) return rc;
    sb_plan_cancel_why(left, why, sizeof why);
    for (int i = 0; i < r->sum.n && !rc; i++) {
        const sb_store_order_split *row = &r->row[i];
        if (!strcmp(row->stage, "cancelled")) continue;
        if (how == SB_CANCEL_FLAG_DISPATCHED) {
            rc = set_stage(c, row->id, "needs_attention", "cancelled by Amazon after it was dispatched");
            if (!rc && i == 0) rc = audit(c, o->order_id, "cancel", "{\"action\":\"flag\",\"reason\":\"cancelled after dispatch\"}");
        } else if (how == SB_CANCEL_FLAG_PART) {
            if (!row->dispatched) rc = set_stage(c, row->id, "needs_attention", why);
            if (!rc && i == 0) rc = audit_amazon(c, o->order_id, "flag", "cancelled after part of it was dispatched", "left", left);
        } else {
            if (!(rc = sb_store_reserve_order(c->e->store, row->id, NULL, -1, c->err))) rc = set_stage(c, row->id, "cancelled", NULL);
            if (!rc && i == 0) rc = audit(c, o->order_id, "cancel", "{\"action\":\"cancel\",\"released\":true}");
            if (!rc && i == 0) c->res->cancelled++;
        }
    }
    return rc;
}

/* An order we already have, seen again. decided: the hooks decided it (no rule error, it
 * normalised), so it can follow Amazon; otherwise only its status and JSON are refreshed. */
static int update_seen(sb_order_pass *c, const sb_order *o, const sb_decision *d, int decided) {
    seen_rows r;
    order_diff df;
    sb_seen_plan sp;
    int rc = load_rows(c, o->order_id, &r);
    if (rc || r.sum.n == 0) return rc;
    if ((rc = diff_stored(c, r.row[0].id, o, &df))) return rc;
    sb_plan_seen(o, &r.sum, &df, decided, d ? d->error : NULL, &sp);
    if (sp.action == SB_SEEN_STALE) {
        c->res->unchanged++;
        c->res->stale++;
        return 0;
    }
    if (sp.action == SB_SEEN_UNCHANGED) {
        c->res->unchanged++;
        return sp.refresh ? refresh_rows(c, o, &r) : 0;
    }
    note_late(c, o, ", changed,");
    if (sp.refresh && (rc = refresh_rows(c, o, &r))) return rc;
    switch (sp.action) {
    case SB_SEEN_CANCEL:
        rc = cancel_rows(c, o, &r);
        break;
    case SB_SEEN_REFRESH:
        rc = audit_amazon(c, o->order_id, "refresh", df.text, NULL, NULL);
        break;
    case SB_SEEN_FLAG_LEFT:
        for (int i = 0; i < r.sum.n && !rc; i++)
            if (strcmp(r.row[i].stage, "cancelled")) rc = set_stage(c, r.row[i].id, "needs_attention", sp.why);
        if (!rc) rc = audit_amazon(c, o->order_id, "flag", df.text, NULL, NULL);
        break;
    case SB_SEEN_FLAG_UNDECIDED:
        for (int i = 0; i < r.sum.n && !rc && sp.flag; i++)
            if (!strcmp(r.row[i].stage, "open") || !strcmp(r.row[i].stage, "needs_attention"))
                rc = set_stage(c, r.row[i].id, "needs_attention", sp.why);
        if (!rc) rc = audit_amazon(c, o->order_id, "refresh", df.text, NULL, NULL);
        break;
    default:
        return store_again(c, o, d, &r, &df, NULL);
    }
    if (!rc) c->res->updated++;
    return rc;
}

int sb_order_relink(sb_order_pass *c, const sb_order *o, const sb_decision *d) {
    seen_rows r;
    sb_store *s = c->e->store;
    int rc = sb_store_begin(s, c->err);
    if (!rc) rc = load_rows(c, o->order_id, &r);
    if (!rc && (r.sum.n == 0 || !r.sum.live)) { snprintf(c->err, sizeof c->err, "it is cancelled"); rc = 1; }
    else if (!rc && r.sum.some_left) {
        snprintf(c->err, sizeof c->err, "part of it has left the warehouse; move or dispatch its lines by hand");
        rc = 1;
    }
    if (!rc) {
        order_diff df;
        memset(&df, 0, sizeof df);
        snprintf(df.text, sizeof df.text, "its SKUs were linked to products");
        rc = store_again(c, o, d, &r, &df, "a retry: lines linked to the products now known");
    }
    if (rc) sb_store_rollback(s);
    else rc = sb_store_commit(s, c->err);
    return rc;
}

/* The key of an order Amazon sent without an id: a hash of its own JSON, or of its page
 * and its place there, so that a repeated window finds it again and two such orders
 * never share a key. */
static const char *noid_key(const sb_order_pass *c, const sb_order *o, char *key, size_t len) {
    if (c->held_key) {                          /* a retry: the key it is stored under */
        snprintf(key, len, "%s", c->held_key);
        return key;
    }
    /* the page's own bytes: o->raw_json is re-encoded, in an order that varies by state */
    unsigned char h[SHA256_DIGEST_LENGTH];
    const char *bytes = c->page ? c->page : o->raw_json ? o->raw_json : "";
    size_t n = c->page ? c->page_len : o->raw_json ? strlen(o->raw_json) : 0;
    SHA256((const unsigned char *)bytes, n, h);
    int k = snprintf(key, len, "noid-");
    for (int i = 0; i < 8; i++) k += snprintf(key + k, len - (size_t)k, "%02x", h[i]);
    if (c->page) snprintf(key + k, len - (size_t)k, "-%d", o->page_index);
    return key;
}

static int apply_order(sb_order_pass *c, const sb_order *o, const sb_decision *d, int norm_rc, const char *norm_err) {
    sb_store *s = c->e->store;
    char stage[24] = "", key[48];
    const char *ref = o->order_id && *o->order_id ? o->order_id : norm_rc ? noid_key(c, o, key, sizeof key) : NULL;
    int64_t existing = 0;
    int rc;
    if (ref && (rc = sb_store_order_first(s, c->e->integ, ref, &existing, stage, sizeof stage, c->err))) return rc;
    if (existing > 0 && ref == key) {
        if (!c->held_key) return 0;             /* the same unreadable order, seen again */
        rc = sb_store_order_remove(s, c->e->integ, ref, c->err);   /* a retry: stored again, with today's reason */
        return rc ? rc : store_new(c, o, d, norm_rc, norm_err, ref, NULL);
    }
    if (existing > 0) {
        int held = !strcmp(stage, "rule_error") || !strcmp(stage, "rejected");
        if (!held || norm_rc || d->error) return update_seen(c, o, d, !norm_rc && !d->error);
        if ((rc = sb_store_order_remove(s, c->e->integ, o->order_id, c->err))) return rc;  /* stored again below */
    } else if (!norm_rc && !d->error && !d->download) {
        c->res->skipped++;
        return 0;
    }
    if (norm_rc) sb_warn("order rejected integration=%s order=%s: %s", c->e->name,
                         o->order_id && *o->order_id ? o->order_id : "(no id)", norm_err);
    else if (d->error) sb_warn("order held for a rule error integration=%s order=%s hook=%s: %s",
                               c->e->name, o->order_id, d->error_hook ? d->error_hook : "?", d->error);
    if (existing == 0) note_late(c, o, "");
    rc = store_new(c, o, d, norm_rc, norm_err, ref ? ref : "", NULL);
    if (!rc && c->came_by && ref) rc = sb_store_order_came_by(s, c->e->integ, ref, c->came_by, c->err);
    return rc;
}

int sb_order_apply(sb_order_pass *c, const sb_order *o, const sb_decision *d, int norm_rc, const char *norm_err) {
    sb_store *s = c->e->store;
    int64_t page_id = c->page_id;               /* a page row written by a rolled-back order goes with it */
    int rc = sb_store_begin(s, c->err);
    if (!rc && (rc = apply_order(c, o, d, norm_rc, norm_err))) sb_store_rollback(s);
    if (!rc) rc = sb_store_commit(s, c->err);
    if (rc) c->page_id = page_id;
    return rc;
}

int sb_order_apply_all(sb_order_pass *c, const sb_order_decided *v, int n, int *failed) {
    sb_store *s = c->e->store;
    sb_orders_result before = *c->res;
    int64_t page_id = c->page_id;
    int rc = 0, k = 0;
    *failed = 0;
    if (n <= 0) return 0;
    if (n == 1) return sb_order_apply(c, &v->o, &v->d, v->norm_rc, v->norm_err);
    if ((rc = sb_store_begin(s, c->err))) { *failed = -1; return rc; }
    for (; k < n; k++) {
        sb_orders_result at = *c->res;
        int64_t at_page = c->page_id;       /* a page row written by a taken-back order goes with it */
        if ((rc = sb_store_part_begin(s, c->err))) break;
        if ((rc = apply_order(c, &v[k].o, &v[k].d, v[k].norm_rc, v[k].norm_err)) ||
            (rc = sb_store_part_end(s, c->err))) {
            sb_store_part_undo(s);
            *c->res = at;
            c->page_id = at_page;
            break;
        }
    }
    *failed = k;
    if (k == 0 && rc) {                     /* nothing of the batch to keep */
        sb_store_rollback(s);
        c->page_id = page_id;
        return rc;
    }
    char why[SB_ERRLEN];
    if (rc) snprintf(why, sizeof why, "%s", c->err);
    int crc = sb_store_commit(s, c->err);
    if (crc) {                              /* nothing of it is stored: the counts as before */
        *c->res = before;
        c->page_id = page_id;
        *failed = -1;
        return crc;
    }
    if (rc) snprintf(c->err, sizeof c->err, "%s", why);
    return rc;
}
