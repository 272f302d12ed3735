/* test_order_plan.c: the order plan (engine/sync/order_plan.h) without a database or a
 * rule pack, as tables: a new order's stage, rows, invoice and auto-dispatch; a line the
 * inventory does not know; what Amazon changed (order_diff); what follows from a change
 * (sb_plan_seen, the cancellation of each row); and a person's choice kept when an order
 * is stored again. */
#include <string.h>
#include "t.h"
#include "sync/order_plan.h"

static sb_order_line two_lines[2] = {
    {.item_id = "111", .sku = "MUG-BLK-12", .qty = 2, .unit_price = "9.99"},
    {.item_id = "222", .sku = "SPOON-SET-4", .qty = 1, .unit_price = "4.50"},
};

static sb_order order_of(const char *status, const char *fulfilled_by) {
    sb_order o = {.order_id = "111-0000000-0000001", .status = status, .fulfilled_by = fulfilled_by,
                  .updated = "2026-11-27T10:00:00Z", .currency = "USD", .total = "24.48",
                  .shipping_total = "0", .nlines = 2, .lines = two_lines};
    o.ship.city = "Austin";
    return o;
}

/* ---- a new order ---- */
static const struct new_case {
    const char *name, *status, *fulfilled_by;
    int norm_rc;
    const char *error;
    int attention;
    const char *reason;
    int nsplits, auto_dispatch, individual;
    int again, keep_open;
    const char *note, *inv0;
    /* expected */
    const char *stage, *attention_text;
    int held, cancelled, whole, rows, dispatchable, invoice0;
    const char *line_stage;       /* the stage a row with an unknown SKU gets (NULL: unchanged) */
    int line_held;
} new_cases[] = {
    {"routed, open", "UNSHIPPED", "MERCHANT", 0, NULL, 0, NULL, 2, 1, 1, 0, 0, NULL, NULL,
     "open", "", 0, 0, 0, 2, 1, SB_INV_NEW, "needs_attention", 1},
    {"no routing: one row as sent", "UNSHIPPED", "MERCHANT", 0, NULL, 0, NULL, 0, 1, 0, 0, 0, NULL, NULL,
     "open", "", 0, 0, 1, 1, 1, SB_INV_NONE, "needs_attention", 1},
    {"rejected", "UNSHIPPED", "MERCHANT", -22, NULL, 0, NULL, 2, 1, 1, 0, 0, NULL, NULL,
     "rejected", "", 1, 0, 1, 1, 0, SB_INV_NONE, NULL, 0},
    {"rule error", "UNSHIPPED", "MERCHANT", 0, "route.lua:3: boom", 0, NULL, 1, 1, 1, 0, 0, NULL, NULL,
     "rule_error", "", 1, 0, 1, 1, 0, SB_INV_NONE, NULL, 0},
    {"attention with its reason", "UNSHIPPED", "MERCHANT", 0, NULL, 1, "PO box", 1, 1, 1, 0, 0, NULL, NULL,
     "needs_attention", "PO box", 0, 0, 0, 1, 0, SB_INV_NEW, "needs_attention", 0},
    {"attention, no reason", "UNSHIPPED", "MERCHANT", 0, NULL, 1, NULL, 1, 0, 1, 0, 0, NULL, NULL,
     "needs_attention", "needs attention", 0, 0, 0, 1, 0, SB_INV_NEW, "needs_attention", 0},
    {"cancelled when first seen", "CANCELLED", "MERCHANT", 0, NULL, 0, NULL, 1, 1, 1, 0, 0, NULL, NULL,
     "cancelled", "", 0, 1, 0, 1, 1, SB_INV_NEW, "cancelled", 0},
    {"fulfilled by Amazon: never auto-dispatched", "UNSHIPPED", "AMAZON", 0, NULL, 0, NULL, 1, 1, 1, 0, 0, NULL, NULL,
     "open", "", 0, 0, 0, 1, 0, SB_INV_NEW, "needs_attention", 1},
    {"stored again: released by a person stays open", "UNSHIPPED", "MERCHANT", 0, NULL, 1, "PO box", 1, 1, 1, 1, 1,
     "kept open", "INV-000007", "open", "PO box; kept open", 0, 0, 0, 1, 0, SB_INV_KEEP, "open", 1},
    {"stored again: invoice kept, note added", "UNSHIPPED", "MERCHANT", 0, NULL, 0, NULL, 1, 0, 1, 1, 0,
     "kept branch", "INV-000007", "open", "kept branch", 0, 0, 0, 1, 0, SB_INV_KEEP, "needs_attention", 1},
    {"stored again without a number: a new one", "UNSHIPPED", "MERCHANT", 0, NULL, 0, NULL, 1, 0, 1, 1, 0,
     NULL, "", "open", "", 0, 0, 0, 1, 0, SB_INV_NEW, "needs_attention", 1},
};

static void test_new(void) {
    static sb_split_line sl[2] = {{0, 2}, {1, 1}};
    for (size_t i = 0; i < sizeof new_cases / sizeof *new_cases; i++) {
        const struct new_case *c = &new_cases[i];
        fprintf(stderr, "new: %s\n", c->name);
        sb_order o = order_of(c->status, c->fulfilled_by);
        sb_decision d = {.download = 1, .error = c->error, .attention = c->attention, .attention_reason = c->reason,
                         .nsplits = c->nsplits};
        for (int k = 0; k < c->nsplits; k++) d.splits[k] = (sb_split){k ? "Dallas" : "Austin", 1, &sl[k]};
        sb_plan_settings set = {c->auto_dispatch, c->individual};
        sb_plan_keep keep = {.again = c->again, .keep_open = c->keep_open, .note = c->note, .ninv = 1};
        if (c->inv0) snprintf(keep.inv[0], sizeof keep.inv[0], "%s", c->inv0);
        sb_order_plan p;
        sb_plan_new(&o, &d, c->norm_rc, c->norm_rc ? "no orderId" : NULL, &set, c->again ? &keep : NULL, &p);
        T_STREQ(p.stage, c->stage);
        T_STREQ(p.attention, c->attention_text);
        T_EQ(p.held, c->held);
        T_EQ(p.cancelled, c->cancelled);
        T_EQ(p.whole, c->whole);
        T_EQ(p.nsplits, c->rows);
        T_EQ(p.dispatchable, c->dispatchable);
        T_EQ(sb_plan_invoice(&p, 0), c->invoice0);
        if (c->norm_rc) T_STREQ(p.rule_error, "no orderId");
        if (c->error) T_STREQ(p.rule_error, c->error);
        if (!p.whole) T_STREQ(sb_plan_branch(&p, &d, p.nsplits - 1), p.nsplits > 1 ? "Dallas" : "Austin");
        else T_CHECK(sb_plan_branch(&p, &d, 0) == NULL);
        /* a row with a SKU that is not a product */
        const char *stage = NULL;
        char why[1600];
        int held = -1;
        int changes = sb_plan_line_hold(&p, 0, "SKU 'X' is not a product", &stage, why, sizeof why, &held);
        T_EQ(changes, c->line_stage != NULL);
        if (c->line_stage) {
            T_STREQ(stage, c->line_stage);
            T_CONTAINS(why, "SKU 'X' is not a product");
            if (*c->attention_text) T_CONTAINS(why, c->attention_text);
        }
        T_EQ(held, c->line_held);
        T_EQ(sb_plan_line_hold(&p, 0, "", &stage, why, sizeof why, &held), 0);   /* every SKU known */
        /* dispatched now only when open, allowed and its lines are free */
        T_EQ(sb_plan_dispatch_now(&p, 1), c->auto_dispatch && c->dispatchable && !strcmp(c->stage, "open"));
        T_EQ(sb_plan_dispatch_now(&p, 0), 0);
        sb_plan_tally t = {0};
        sb_plan_count_new(&p, &d, c->norm_rc, &t);
        T_EQ(t.created, !c->norm_rc);
        T_EQ(t.rejected, c->norm_rc != 0);
        T_EQ(t.rule_errors, !c->norm_rc && c->error);
        T_EQ(t.cancelled, c->cancelled);
    }
}

/* ---- what Amazon changed ---- */
static const struct diff_case {
    const char *name;
    const char *was_status, *was_city, *was_updated;
    int n;                        /* stored lines: the first n of MUG 2 @9.99, SPOON 1 @4.50, FORK 3 */
    double mug_qty;
    const char *mug_price;
    int status, fields, lines, time, older;
    const char *text;             /* contained in the text ("" nothing) */
} diff_cases[] = {
    {"the same", "UNSHIPPED", "Austin", "2026-11-27T10:00:00Z", 2, 2, "9.99", 0, 0, 0, 0, 0, ""},
    {"only Amazon's time", "UNSHIPPED", "Austin", "2026-11-27T09:00:00Z", 2, 2, "9.99", 0, 0, 0, 1, 0, ""},
    {"older than stored", "UNSHIPPED", "Austin", "2026-11-27T11:00:00Z", 2, 2, "9.99", 0, 0, 0, 1, 1, ""},
    {"status", "PENDING", "Austin", "2026-11-27T10:00:00Z", 2, 2, "9.99", 1, 0, 0, 0, 0, "status PENDING -> UNSHIPPED"},
    {"city", "UNSHIPPED", "Dallas", "2026-11-27T10:00:00Z", 2, 2, "9.99", 0, 1, 0, 0, 0, "city Dallas -> Austin"},
    {"qty", "UNSHIPPED", "Austin", "2026-11-27T10:00:00Z", 2, 3, "9.99", 0, 0, 1, 0, 0, "qty MUG-BLK-12 3 -> 2"},
    {"price", "UNSHIPPED", "Austin", "2026-11-27T10:00:00Z", 2, 2, "8.99", 0, 1, 0, 0, 0, "price MUG-BLK-12 8.99 -> 9.99"},
    {"a line added", "UNSHIPPED", "Austin", "2026-11-27T10:00:00Z", 1, 2, "9.99", 0, 0, 1, 0, 0, "line SPOON-SET-4 added (qty 1)"},
    {"a line removed", "UNSHIPPED", "Austin", "2026-11-27T10:00:00Z", 3, 2, "9.99", 0, 0, 1, 0, 0, "line FORK removed (qty 3)"},
};

static void test_diff(void) {
    for (size_t i = 0; i < sizeof diff_cases / sizeof *diff_cases; i++) {
        const struct diff_case *c = &diff_cases[i];
        fprintf(stderr, "diff: %s\n", c->name);
        sb_order o = order_of("UNSHIPPED", "MERCHANT");
        const char *kept[SB_KEPT_N] = {0};
        kept[SB_KEPT_STATUS] = c->was_status;
        kept[SB_KEPT_FULFILLED_BY] = "MERCHANT";
        kept[SB_KEPT_CURRENCY] = "USD";
        kept[SB_KEPT_TOTAL] = "24.48";
        kept[SB_KEPT_SHIPPING] = "0";
        kept[SB_KEPT_CITY] = c->was_city;
        kept[SB_KEPT_UPDATED] = c->was_updated;
        sb_stored_line sl[3] = {{"111", "MUG-BLK-12", "", c->mug_qty, 0}, {"222", "SPOON-SET-4", "4.50", 1, 0},
                                {"333", "FORK", "", 3, 0}};
        snprintf(sl[0].price, sizeof sl[0].price, "%s", c->mug_price);
        order_diff df;
        sb_order_diff(kept, sl, c->n, &o, &df);
        T_EQ(df.status, c->status);
        T_EQ(df.fields, c->fields);
        T_EQ(df.lines, c->lines);
        T_EQ(df.time, c->time);
        T_EQ(df.older, c->older);
        if (*c->text) T_CONTAINS(df.text, c->text);
        else T_STREQ(df.text, "");
    }
}

/* ---- what follows from a change ---- */
enum { F_STATUS = 1, F_FIELDS = 2, F_LINES = 4, F_TIME = 8, F_OLDER = 16 };
static const struct seen_case {
    const char *name, *status;
    int changed;                  /* F_* */
    int live, all_left, some_left;
    const char *first_stage;
    int decided;
    int action, refresh, flag;
    const char *why;              /* contained in why ("" none) */
    int cancel_row;               /* sb_plan_cancel_row, for SB_SEEN_CANCEL */
} seen_cases[] = {
    {"older: left", "UNSHIPPED", F_TIME | F_OLDER | F_FIELDS, 1, 0, 0, "open", 1, SB_SEEN_STALE, 0, 0, "", 0},
    {"nothing kept changed", "UNSHIPPED", 0, 1, 0, 0, "open", 1, SB_SEEN_UNCHANGED, 0, 0, "", 0},
    {"only the time", "UNSHIPPED", F_TIME, 1, 0, 0, "open", 1, SB_SEEN_UNCHANGED, 1, 0, "", 0},
    {"cancelled, nothing left", "CANCELLED", F_STATUS, 1, 0, 0, "open", 1, SB_SEEN_CANCEL, 1, 0, "", SB_CANCEL_RELEASE},
    {"cancelled after dispatch", "CANCELLED", F_STATUS, 1, 1, 1, "dispatched", 1, SB_SEEN_CANCEL, 1, 0, "",
     SB_CANCEL_FLAG_DISPATCHED},
    {"cancelled after part left", "CANCELLED", F_STATUS, 2, 0, 1, "open", 1, SB_SEEN_CANCEL, 1, 0, "",
     SB_CANCEL_FLAG_PART},
    {"cancelled here already", "UNSHIPPED", F_FIELDS, 0, 1, 0, "cancelled", 1, SB_SEEN_REFRESH, 1, 0, "", 0},
    {"shipped after dispatch", "SHIPPED", F_STATUS, 1, 1, 1, "dispatched", 1, SB_SEEN_REFRESH, 1, 0, "", 0},
    {"changed after dispatch", "UNSHIPPED", F_FIELDS, 1, 1, 1, "dispatched", 1, SB_SEEN_FLAG_LEFT, 1, 0,
     "changed by Amazon after it was dispatched", 0},
    {"changed after part left", "UNSHIPPED", F_LINES, 2, 0, 1, "open", 1, SB_SEEN_FLAG_LEFT, 1, 0,
     "after part of it was dispatched", 0},
    {"changed, not decided", "UNSHIPPED", F_LINES, 1, 0, 0, "rule_error", 0, SB_SEEN_FLAG_UNDECIDED, 1, 1,
     "the rules could not decide it again: route.lua:1", 0},
    {"status only, not decided", "UNSHIPPED", F_STATUS, 1, 0, 0, "open", 0, SB_SEEN_FLAG_UNDECIDED, 1, 0, "", 0},
    {"status only, open", "UNSHIPPED", F_STATUS, 1, 0, 0, "open", 1, SB_SEEN_REFRESH, 1, 0, "", 0},
    {"status only, held for attention: decided again", "UNSHIPPED", F_STATUS, 1, 0, 0, "needs_attention", 1,
     SB_SEEN_AGAIN, 0, 0, "", 0},
    {"fields changed, nothing left: stored again", "UNSHIPPED", F_FIELDS, 1, 0, 0, "open", 1, SB_SEEN_AGAIN, 0, 0, "", 0},
    {"lines changed, nothing left: stored again", "UNSHIPPED", F_LINES | F_TIME, 2, 0, 0, "open", 1, SB_SEEN_AGAIN, 0,
     0, "", 0},
};

static void test_seen(void) {
    for (size_t i = 0; i < sizeof seen_cases / sizeof *seen_cases; i++) {
        const struct seen_case *c = &seen_cases[i];
        fprintf(stderr, "seen: %s\n", c->name);
        sb_order o = order_of(c->status, "MERCHANT");
        order_diff df = {.status = !!(c->changed & F_STATUS), .fields = !!(c->changed & F_FIELDS),
                         .lines = !!(c->changed & F_LINES), .time = !!(c->changed & F_TIME),
                         .older = !!(c->changed & F_OLDER), .text = "city Dallas -> Austin"};
        sb_plan_rows rows = {.n = c->live ? c->live : 1, .live = c->live, .all_left = c->all_left,
                             .some_left = c->some_left, .first_stage = c->first_stage};
        sb_seen_plan sp;
        sb_plan_seen(&o, &rows, &df, c->decided, c->decided ? NULL : "route.lua:1: boom", &sp);
        T_EQ(sp.action, c->action);
        T_EQ(sp.refresh, c->refresh);
        T_EQ(sp.flag, c->flag);
        if (*c->why) T_CONTAINS(sp.why, c->why);
        if (c->action == SB_SEEN_CANCEL) T_EQ(sb_plan_cancel_row(&rows), c->cancel_row);
    }
    char why[700];
    sb_plan_cancel_why("MUG-BLK-12 1 of 2", why, sizeof why);
    T_CONTAINS(why, "already left: MUG-BLK-12 1 of 2");
}

/* ---- stored again: what a person decided stays ---- */
static const struct again_case {
    const char *name, *person, *first_stage, *route;
    int released, nsplits, attention, relink;
    /* expected */
    int splits, keep_open;
    const char *branch, *note;    /* note contained ("" none) */
} again_cases[] = {
    {"no person: the rules' decision", "", "open", "Austin", 0, 1, 0, 0, 1, 0, "Austin", ""},
    {"the person's branch is the route", "Austin", "open", "Austin", 0, 1, 0, 0, 1, 0, "Austin", ""},
    {"the person's branch over the route", "Dallas", "open", "Austin", 0, 1, 0, 0, 1, 0, "Dallas",
     "Amazon changed the order (city Dallas -> Austin): kept branch Dallas a person chose; the rules now give Austin"},
    {"the person's branch over a split", "Dallas", "open", "Dallas", 0, 2, 0, 1, 1, 0, "Dallas",
     "Stored again (city Dallas -> Austin): kept branch Dallas a person chose; the rules now give Dallas and more"},
    {"released and open: kept open", "", "open", "Austin", 1, 1, 1, 0, 1, 1, "Austin",
     "kept open as a person released it; the rules now say: PO box"},
    {"released but held: not kept open", "", "needs_attention", "Austin", 1, 1, 1, 0, 1, 0, "Austin", ""},
};

static void test_again(void) {
    static sb_split_line sl[2] = {{0, 2}, {1, 1}};
    for (size_t i = 0; i < sizeof again_cases / sizeof *again_cases; i++) {
        const struct again_case *c = &again_cases[i];
        fprintf(stderr, "again: %s\n", c->name);
        sb_order o = order_of("UNSHIPPED", "MERCHANT");
        sb_decision d = {.download = 1, .attention = c->attention, .attention_reason = "PO box", .nsplits = c->nsplits};
        for (int k = 0; k < c->nsplits; k++) d.splits[k] = (sb_split){k ? "Sydney" : c->route, 1, &sl[k]};
        sb_plan_again a;
        T_EQ(sb_plan_again_of(&o, &d, c->person, c->released, c->first_stage, "city Dallas -> Austin", c->relink, &a), 0);
        T_EQ(a.d.nsplits, c->splits);
        T_STREQ(a.d.splits[0].branch, c->branch);
        T_EQ(a.keep_open, c->keep_open);
        if (*c->note) T_CONTAINS(a.note, c->note);
        else T_STREQ(a.note, "");
        if (*c->person) {         /* the whole order goes to the person's branch */
            T_EQ(a.d.splits[0].nlines, 2);
            T_EQ(a.d.splits[0].lines[1].line, 1);
            T_CHECK(a.d.splits[0].lines[0].qty == 2);
        }
        sb_plan_again_free(&a);
    }
}

int main(void) {
    test_new();
    test_diff();
    test_seen();
    test_again();
    return t_done();
}
