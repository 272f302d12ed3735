/* order_plan.c: the plan of an order's rows from its decision and what is stored (see
 * order_plan.h). Everything here is a function of its arguments. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/util.h"
#include "sync/order_plan.h"

static int same(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }
static int is(const char *a, const char *b) { return a && !strcmp(a, b); }

void sb_plan_new(const sb_order *o, const sb_decision *d, int norm_rc, const char *norm_err,
                 const sb_plan_settings *set, const sb_plan_keep *keep, sb_order_plan *p) {
    memset(p, 0, sizeof *p);
    p->stage = "open";
    p->set = *set;
    p->keep = keep && keep->again ? keep : NULL;
    if (norm_rc) {
        p->stage = "rejected";
        p->rule_error = norm_err;
    } else if (d->error) {
        p->stage = "rule_error";
        p->rule_error = d->error;
    } else if (d->attention) {
        p->stage = "needs_attention";
        snprintf(p->attention, sizeof p->attention, "%s", d->attention_reason ? d->attention_reason : "needs attention");
    }
    p->held = norm_rc || d->error;
    if (p->keep && p->keep->keep_open && !p->held && !strcmp(p->stage, "needs_attention")) p->stage = "open";  /* a person's */
    if (p->keep && p->keep->note && !p->held) {
        size_t n = strlen(p->attention);
        snprintf(p->attention + n, sizeof p->attention - n, "%s%s", n ? "; " : "", p->keep->note);
    }
    /* Already cancelled by Amazon when first seen: stored cancelled, reserving nothing,
     * which is the state a repeated pass reaches through update_seen; otherwise a crash
     * that repeats the window would release stock an uninterrupted run keeps reserved. */
    p->cancelled = !p->held && is(o->status, "CANCELLED");
    if (p->cancelled) p->stage = "cancelled";
    p->whole = p->held || d->nsplits < 1;     /* no routing decision: lines as Amazon sent them */
    p->nsplits = p->whole ? 1 : d->nsplits;
    int fba = is(o->fulfilled_by, "AMAZON");
    p->dispatchable = set->auto_dispatch && !p->held && !d->attention && !fba;   /* judged only when it matters */
    p->keep_open = p->keep && p->keep->keep_open;
}

const char *sb_plan_branch(const sb_order_plan *p, const sb_decision *d, int k) {
    return p->whole ? NULL : d->splits[k].branch;
}

int sb_plan_invoice(const sb_order_plan *p, int k) {
    if (!p->set.individual || p->held) return SB_INV_NONE;
    /* stored again: the number it was given stays (no gap in the sequence) */
    if (p->keep && k < p->keep->ninv && k <= SB_MAX_SPLITS && p->keep->inv[k][0]) return SB_INV_KEEP;
    return SB_INV_NEW;
}

int sb_plan_line_hold(const sb_order_plan *p, int k, const char *line_attention, const char **stage, char *why,
                      size_t len, int *held) {
    *held = 0;
    if (!*line_attention || p->held) return 0;
    /* a line the inventory does not know cannot reserve stock: a person decides */
    snprintf(why, len, "%s%s%s", p->attention, *p->attention ? "; " : "", line_attention);
    *stage = !strcmp(p->stage, "open") && !p->keep_open ? "needs_attention" : p->stage;
    *held = k == 0 && !strcmp(p->stage, "open");
    return 1;
}

int sb_plan_dispatch_now(const sb_order_plan *p, int lines_ok) {
    return p->set.auto_dispatch && p->dispatchable && lines_ok && !strcmp(p->stage, "open");
}

void sb_plan_count_new(const sb_order_plan *p, const sb_decision *d, int norm_rc, sb_plan_tally *t) {
    if (norm_rc) { t->rejected++; return; }
    if (d->error) t->rule_errors++;
    else if (p->cancelled) t->cancelled++;
    else if (d->attention) t->held++;
    t->created++;
}

/* ---- an order seen again ---- */

static void diff_add(order_diff *df, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diff_add(order_diff *df, const char *fmt, ...) {
    char one[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(one, sizeof one, fmt, ap);
    va_end(ap);
    size_t n = strlen(df->text);
    if (n + strlen(one) + 8 >= sizeof df->text) {
        if (n + 6 < sizeof df->text && (n < 5 || strcmp(df->text + n - 5, "; ..."))) snprintf(df->text + n, sizeof df->text - n, "; ...");
        return;
    }
    snprintf(df->text + n, sizeof df->text - n, "%s%s", n ? "; " : "", one);
}

void sb_order_diff(const char *const kept[SB_KEPT_N], sb_stored_line *sl, int n, const sb_order *o, order_diff *df) {
    memset(df, 0, sizeof *df);
    const sb_address *a = &o->ship;
    const char *now[SB_KEPT_UPDATED] = {o->status, o->fulfilled_by, o->service_level, o->programs, o->currency,
                                        o->total, o->shipping_total, o->buyer_name, o->buyer_email, o->buyer_company,
                                        a->name, a->company, a->line1, a->line2, a->line3, a->city, a->state,
                                        a->postal, a->country, a->phone};
    static const char *const label[SB_KEPT_UPDATED] = {
        "status", "fulfilled by", "service level", "programs", "currency", "total", "shipping", "buyer name",
        "buyer e-mail", "buyer company", "delivery name", "delivery company", "address line 1", "address line 2",
        "address line 3", "city", "state", "postal code", "country", "phone"};
    for (int i = 0; i < SB_KEPT_UPDATED; i++) {
        const char *was = kept[i];
        if (same(was, now[i])) continue;
        if (i == SB_KEPT_STATUS) df->status = 1; else df->fields = 1;
        diff_add(df, "%s %.60s -> %.60s", label[i], was && *was ? was : "(none)", now[i] && *now[i] ? now[i] : "(none)");
    }
    const char *was_updated = kept[SB_KEPT_UPDATED];
    df->time = !same(was_updated, o->updated);
    if (df->time && was_updated && o->updated) {
        int64_t was_ms = sb_time_parse_ms(was_updated), now_ms = sb_time_parse_ms(o->updated);
        df->older = was_ms >= 0 && now_ms >= 0 && now_ms < was_ms;
    }
    for (int i = 0; i < o->nlines; i++) {
        const sb_order_line *ol = &o->lines[i];
        const char *sku = ol->sku ? ol->sku : "";
        sb_stored_line *m = NULL;
        for (int k = 0; k < n && !m; k++)
            if (!sl[k].seen && (ol->item_id && *ol->item_id ? !strcmp(sl[k].item, ol->item_id) : !*sl[k].item && !strcmp(sl[k].sku, sku)))
                m = &sl[k];
        if (!m) { df->lines = 1; diff_add(df, "line %.60s added (qty %g)", sku, ol->qty); continue; }
        m->seen = 1;
        if (strcmp(m->sku, sku)) { df->lines = 1; diff_add(df, "sku %.60s -> %.60s", m->sku, sku); }
        if (m->qty - ol->qty > 1e-9 || ol->qty - m->qty > 1e-9) { df->lines = 1; diff_add(df, "qty %.60s %g -> %g", sku, m->qty, ol->qty); }
        if (!same(m->price, ol->unit_price)) {
            df->fields = 1;
            diff_add(df, "price %.60s %.20s -> %.20s", sku, *m->price ? m->price : "(none)", ol->unit_price && *ol->unit_price ? ol->unit_price : "(none)");
        }
    }
    for (int k = 0; k < n; k++)
        if (!sl[k].seen) { df->lines = 1; diff_add(df, "line %.60s removed (qty %g)", sl[k].sku, sl[k].qty); }
}

/* ---- what follows from what Amazon changed ----
 * An order nothing of which has left follows Amazon: stored again from scratch with the
 * hooks run on what came (reservations made again from the new lines, the invoice number
 * kept, what a person decided kept over the rules, the difference in its attention
 * reason). An order of which something has left is not changed: a person is told what
 * Amazon changed (or that it was cancelled, and which lines had left). */
void sb_plan_seen(const sb_order *o, const sb_plan_rows *rows, const order_diff *df, int decided,
                  const char *rule_error, sb_seen_plan *out) {
    memset(out, 0, sizeof *out);
    if (df->older) {            /* what is stored is newer: the answer is not followed back in time */
        out->action = SB_SEEN_STALE;
        return;
    }
    if (!df->status && !df->fields && !df->lines) {
        /* nothing the engine keeps changed: no write at all, or only Amazon's time */
        out->action = SB_SEEN_UNCHANGED;
        out->refresh = df->time;
        return;
    }
    int needs_attention = is(rows->first_stage, "needs_attention");
    int cancelled = is(o->status, "CANCELLED");
    int again = !cancelled && rows->live && decided && !rows->some_left && (df->fields || df->lines || needs_attention);
    out->refresh = !again;
    if (cancelled) out->action = SB_SEEN_CANCEL;
    else if (rows->live == 0) out->action = SB_SEEN_REFRESH;      /* cancelled here: only the record follows */
    else if (rows->some_left) {
        if (!df->fields && !df->lines) out->action = SB_SEEN_REFRESH;  /* e.g. UNSHIPPED -> SHIPPED: what dispatch leads to */
        else {
            out->action = SB_SEEN_FLAG_LEFT;
            snprintf(out->why, sizeof out->why, "changed by Amazon after %s dispatched: %s",
                     rows->all_left ? "it was" : "part of it was", df->text);
        }
    } else if (!decided) {
        /* the rules cannot decide it again: a person looks at what Amazon changed; one held
         * for a rule error stays so (orders retry runs it from the JSON just kept) */
        out->action = SB_SEEN_FLAG_UNDECIDED;
        out->flag = df->fields || df->lines;
        if (out->flag)
            snprintf(out->why, sizeof out->why, "changed by Amazon (%s) but the rules could not decide it again: %.200s",
                     df->text, rule_error ? rule_error : "it could not be read");
    } else if (!df->fields && !df->lines && !needs_attention) {
        /* only the status changed: the hooks run again for an order held for attention (a
         * PENDING order completing), otherwise the status is all there is to follow */
        out->action = SB_SEEN_REFRESH;
    } else {
        out->action = SB_SEEN_AGAIN;
    }
}

int sb_plan_cancel_row(const sb_plan_rows *rows) {
    return rows->all_left ? SB_CANCEL_FLAG_DISPATCHED : rows->some_left ? SB_CANCEL_FLAG_PART : SB_CANCEL_RELEASE;
}

void sb_plan_cancel_why(const char *left, char *why, size_t len) {
    /* part of it has left: nothing is released until a person decides */
    snprintf(why, len, "cancelled by Amazon after part of it was dispatched (already left: %s); the rest is still reserved",
             left);
}

int sb_plan_again_of(const sb_order *o, const sb_decision *d, const char *pbranch, int released,
                     const char *first_stage, const char *diff_text, int relink, sb_plan_again *out) {
    memset(out, 0, sizeof *out);
    out->d = *d;
    const char *why = relink ? "Stored again" : "Amazon changed the order";
    if (pbranch && *pbranch) {
        /* the branch a person chose stays; the whole order goes there */
        const char *route = d->nsplits >= 1 ? d->splits[0].branch : NULL;
        if (d->nsplits > 1 || !same(route, pbranch))
            snprintf(out->note, sizeof out->note, "%s (%.200s): kept branch %s a person chose; the rules now give %s%s",
                     why, diff_text, pbranch, route && *route ? route : "no branch", d->nsplits > 1 ? " and more (a split)" : "");
        out->all = calloc((size_t)(o->nlines > 0 ? o->nlines : 1), sizeof *out->all);
        if (!out->all) return SB_ENOMEM;
        for (int i = 0; i < o->nlines; i++) out->all[i] = (sb_split_line){i, o->lines[i].qty};
        out->d.nsplits = 1;
        out->d.splits[0] = (sb_split){pbranch, o->nlines, out->all};
    }
    out->keep_open = released && is(first_stage, "open");
    if (out->keep_open && d->attention) {
        size_t k = strlen(out->note);
        snprintf(out->note + k, sizeof out->note - k, "%s%s (%.200s): kept open as a person released it; the rules now say: %.150s",
                 k ? "; " : "", why, diff_text, d->attention_reason ? d->attention_reason : "needs attention");
    }
    return 0;
}

void sb_plan_again_free(sb_plan_again *a) {
    free(a->all);
    a->all = NULL;
}
