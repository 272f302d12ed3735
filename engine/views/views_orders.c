/* views_orders.c: the order documents: the list (filters, paging, a total), one order's
 * splits with lines and shipments, its explanation (every rule decision, with a sentence
 * for what Amazon changed), and the orders needing attention.
 *
 * The list is newest first by row id (an index walk whatever the table's size); the
 * total is a count over the same WHERE (up to SB_VIEW_COUNT_CAP past the offset), so a
 * list that stops at its limit says how many there are. */
#include <stdio.h>
#include <string.h>
#include "store/listing.h"
#include "store/reports.h"
#include "views/views_int.h"

/* 0 when d is a calendar day YYYY-MM-DD, else -1. */
static int day_check(const char *d) {
    int y, m, dd;
    char tail;
    if (strlen(d) != 10 || d[4] != '-' || d[7] != '-' || sscanf(d, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) != 3) return -1;
    for (int i = 0; i < 10; i++) if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9')) return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || dd < 1 || dd > mdays[m - 1]) return -1;
    if (m == 2 && dd == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return -1;
    return 0;
}

int sb_view_orders(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    const char *stage, *status = sb_view_args_get(a, "status"), *search = sb_view_args_get(a, "search");
    long limit, offset, total = 0;
    int rc = sb_vw_arg_enum(c, a, "stage", sb_vw_stages, &stage, err);
    if (!rc) rc = sb_vw_paging(c, a, 50, 500, &limit, &offset, err);
    if (rc) return rc;
    if (status && !*status) status = NULL;
    if (search && !*search) search = NULL;
    if ((status && strlen(status) > 64) || (search && strlen(search) > 200))
        return sb_seterr(err, SB_EINVAL, "%s%s: longer than %d characters", c->arg_prefix ? c->arg_prefix : "", status && strlen(status) > 64 ?
                         "status" : "search", status && strlen(status) > 64 ? 64 : 200);
    const char *from = sb_view_args_get(a, "from"), *to = sb_view_args_get(a, "to");
    if (from && !*from) from = NULL;
    if (to && !*to) to = NULL;
    for (int k = 0; k < 2; k++) {
        const char *d = k ? to : from;
        if (d && day_check(d) != 0)
            return sb_seterr(err, SB_EINVAL, "%s%s: '%.40s' is not a day (YYYY-MM-DD, e.g. 2026-11-30)",
                             c->arg_prefix ? c->arg_prefix : "", k ? "to" : "from", d);
    }
    if (from && to && strcmp(from, to) > 0)
        return sb_seterr(err, SB_EINVAL, "%sfrom %s is after %sto %s", c->arg_prefix ? c->arg_prefix : "", from,
                         c->arg_prefix ? c->arg_prefix : "", to);
    sb_store_order_filter f = {.stage = stage, .status = status, .search = search, .from = from, .to = to};
    rc = sb_store_orders_count(c->s, c->integ, &f, sb_vw_count_cap(offset), &total, err);
    if (rc) return rc;
    sb_jw_obj(jw);
    sb_vw_page_begin(jw, "orders", limit, offset, total);
    rc = sb_store_orders_page(c->s, c->integ, &f, limit, offset, sb_vw_obj, jw, err);
    sb_vw_page_end(jw, limit, offset, total);
    sb_jw_end_obj(jw);
    return rc;
}

/* A package: its columns, with its lines as JSON. */
static int shipment(void *jw, const sb_store_row *r) {
    sb_jw_obj(jw);
    for (int i = 0; i < 5; i++) sb_vw_col(jw, r->name[i], r, i);
    sb_jw_key(jw, "lines");
    sb_vw_json_text(jw, sb_vw_text(&r->v[5]));
    sb_jw_end_obj(jw);
    return 0;
}

typedef struct {
    const sb_view_ctx *c;
    sb_jw *jw;
    int found;
    char *err;
} splits_ctx;

/* A split with its lines and shipments. */
static int split(void *ctx, const sb_store_row *r) {
    splits_ctx *x = ctx;
    x->found++;
    sb_jw_obj(x->jw);
    sb_vw_row(x->jw, r);
    sb_jw_key(x->jw, "lines");
    sb_jw_arr(x->jw);
    int rc = sb_store_order_lines(x->c->s, r->v[0].i, sb_vw_obj, x->jw, x->err);
    sb_jw_end_arr(x->jw);
    sb_jw_key(x->jw, "shipments");
    sb_jw_arr(x->jw);
    if (!rc) rc = sb_store_order_shipments(x->c->s, r->v[0].i, shipment, x->jw, x->err);
    sb_jw_end_arr(x->jw);
    sb_jw_end_obj(x->jw);
    return rc;
}

/* The order's splits with their lines and shipments; *found says how many. */
static int order_splits(const sb_view_ctx *c, sb_jw *jw, const char *ref, int *found, char *err) {
    splits_ctx x = {c, jw, 0, err};
    sb_jw_key(jw, "splits");
    sb_jw_arr(jw);
    int rc = sb_store_order_splits(c->s, c->integ, ref, split, &x, err);
    sb_jw_end_arr(jw);
    *found = x.found;
    return rc;
}

/* A rule decision; what Amazon changed (hook 'amazon', written by the download) also as
 * a sentence ("said"). */
static int decision(void *jw, const sb_store_row *r) {
    sb_jw_obj(jw);
    sb_vw_col(jw, "at", r, 0);
    sb_vw_col(jw, "hook", r, 1);
    sb_vw_col(jw, "pack", r, 2);
    sb_jw_key(jw, "decision");
    sb_vw_json_text(jw, sb_vw_text(&r->v[3]));
    sb_vw_col(jw, "said", r, 4);
    sb_jw_end_obj(jw);
    return 0;
}

/* Every rule decision on the order, oldest first. */
static int decisions(const sb_view_ctx *c, sb_jw *jw, const char *ref, char *err) {
    sb_jw_key(jw, "decisions");
    sb_jw_arr(jw);
    int rc = sb_store_order_decisions(c->s, c->integ, ref, decision, jw, err);
    sb_jw_end_arr(jw);
    return rc;
}

static int order_doc(const sb_view_ctx *c, const char *ref, int explain, sb_jw *jw, char *err) {
    int found = 0;
    sb_jw_obj(jw);
    sb_jw_kstr(jw, "order", ref);
    int rc = order_splits(c, jw, ref, &found, err);
    if (!rc && !found) return sb_seterr(err, SB_ENOTFOUND, "order %s is not stored for this integration", ref);
    if (!rc && explain) rc = decisions(c, jw, ref, err);
    sb_jw_end_obj(jw);
    return rc;
}

int sb_view_order(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    return order_doc(c, id, 0, jw, err);
}

int sb_view_explain(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    return order_doc(c, id, 1, jw, err);
}

/* What the list can be narrowed to (bulk actions act on the same sets): the reason they
 * are held for (store/listing.h's sb_store_held, in this order after SB_HELD_ANY), and
 * a SKU of their lines. */
static const char *const reasons[] = {"unknown_sku", "rule_error", "rejected", "other", NULL};

static sb_store_held held_of(const char *reason) {
    for (int i = 0; reason && reasons[i]; i++)
        if (!strcmp(reasons[i], reason)) return (sb_store_held)(SB_HELD_UNKNOWN_SKU + i);
    return SB_HELD_ANY;
}

static int unknown_sku(void *jw, const char *sku, int64_t n) {
    sb_jw_obj(jw);
    sb_jw_kstr(jw, "sku", sku);
    sb_jw_kint(jw, "orders", n);
    sb_jw_end_obj(jw);
    return 0;
}

int sb_view_attention(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    (void)id;
    long limit, offset, total = 0;
    const char *reason = NULL, *sku = sb_view_args_get(a, "sku");
    int rc = sb_vw_paging(c, a, 200, 1000, &limit, &offset, err);
    if (!rc) rc = sb_vw_arg_enum(c, a, "reason", reasons, &reason, err);
    if (rc) return rc;
    if (sku && !*sku) sku = NULL;
    if (sku && strlen(sku) > 120)
        return sb_seterr(err, SB_EINVAL, "%ssku: longer than 120 characters", c->arg_prefix ? c->arg_prefix : "");
    sb_store_held why = held_of(reason);
    if ((rc = sb_store_held_count(c->s, c->integ, why, sku, sb_vw_count_cap(offset), &total, err))) return rc;
    sb_jw_obj(jw);
    if (reason) sb_jw_kstr(jw, "reason", reason);
    if (sku) sb_jw_kstr(jw, "sku", sku);
    sb_vw_page_begin(jw, "orders", limit, offset, total);
    rc = sb_store_held_page(c->s, c->integ, why, sku, limit, offset, sb_vw_obj, jw, err);
    sb_vw_page_end(jw, limit, offset, total);
    /* how many of them wait for a product (a line whose SKU is not one yet): importing it,
     * or linking the SKU to a product (an alias), releases them (counted to the same cap
     * as the total) */
    long unknown = 0;
    if (!rc) rc = sb_store_held_waiting(c->s, c->integ, sb_vw_count_cap(offset), &unknown, err);
    if (!rc) sb_jw_kint(jw, "unknown_sku", unknown);
    /* the sets a bulk action can take, each with how many orders it would change: by
     * reason, and the SKUs no product has with the orders waiting on each (the first 20) */
    if (!rc) {
        sb_jw_key(jw, "reasons");
        sb_jw_obj(jw);
        for (int i = 0; reasons[i] && !rc; i++) {
            long n = 0;
            rc = sb_store_held_count(c->s, c->integ, held_of(reasons[i]), NULL, SB_VIEW_COUNT_CAP, &n, err);
            sb_jw_kint(jw, reasons[i], n);
        }
        sb_jw_end_obj(jw);
    }
    if (!rc) {
        sb_jw_key(jw, "unknown_skus");
        sb_jw_arr(jw);
        rc = sb_store_held_skus(c->s, c->integ, 20, unknown_sku, jw, err);
        sb_jw_end_arr(jw);
    }
    if (!rc) rc = sb_view_choices(c, jw, err);
    sb_jw_end_obj(jw);
    return rc;
}

enum { MAXDAYS = 30, MAXBR = 16 };
typedef struct {
    char days[MAXDAYS][11], branches[MAXBR][128];
    long counts[MAXDAYS][8], bcounts[MAXDAYS][MAXBR];
    int nd, ns, nb;
} per_day;

/* The index of name among names[0..*n), added when new; once max - 1 names are taken, a
 * new one counts under "other branches" (the last slot). */
static int branch_slot(char (*names)[128], int *n, int max, const char *name) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(names[i], name)) return i;
    if (*n >= max - 1 && strcmp(name, "other branches")) return branch_slot(names, n, max, "other branches");
    if (*n >= max) return max - 1;      /* not reached: the last slot is "other branches" */
    snprintf(names[*n], 128, "%s", name);
    return (*n)++;
}

/* One (day, stage, branch) count into its day, days coming oldest first; 1 stops the walk. */
static int day_count(void *ctx, const char *day, const char *stage, const char *branch, int64_t n) {
    per_day *d = ctx;
    if (!day || !stage) return 0;
    if (!d->nd || strcmp(d->days[d->nd - 1], day)) {
        if (d->nd == MAXDAYS) return 1;             /* bounded by the query: 30 days */
        snprintf(d->days[d->nd++], sizeof d->days[0], "%s", day);
    }
    for (int k = 0; k < d->ns; k++)
        if (!strcmp(sb_vw_stages[k], stage)) d->counts[d->nd - 1][k] += n;
    int b = branch_slot(d->branches, &d->nb, MAXBR, branch && *branch ? branch : "no branch");
    d->bcounts[d->nd - 1][b] += n;
    return 0;
}

/* Orders per day over the 30 days up to the newest order (the dashboard's chart), by stage
 * and by branch: {"days": [...], "stages": {"open": [n per day], ...}, "branches": {"LA
 * Warehouse": [n per day], ...}}, the days oldest first and only those with orders; the
 * branches by name, an order without one under "no branch", past MAXBR - 1 names the rest
 * under "other branches". */
int sb_view_orders_per_day(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    (void)id; (void)a;
    per_day dd = {.nd = 0}, *d = &dd;
    while (sb_vw_stages[d->ns]) d->ns++;
    int rc = sb_store_orders_per_day(c->s, c->integ, day_count, d, err);
    if (rc < 0) return rc;
    int nd = d->nd, ns = d->ns, nb = d->nb, order[MAXBR];
    for (int i = 0; i < nb; i++) {                  /* the branches by name */
        int j = i;
        for (; j > 0 && strcmp(d->branches[order[j - 1]], d->branches[i]) > 0; j--) order[j] = order[j - 1];
        order[j] = i;
    }
    sb_jw_obj(jw);
    sb_jw_key(jw, "days");
    sb_jw_arr(jw);
    for (int i = 0; i < nd; i++) sb_jw_str(jw, d->days[i]);
    sb_jw_end_arr(jw);
    sb_jw_key(jw, "stages");
    sb_jw_obj(jw);
    for (int k = 0; k < ns; k++) {
        sb_jw_key(jw, sb_vw_stages[k]);
        sb_jw_arr(jw);
        for (int i = 0; i < nd; i++) sb_jw_int(jw, d->counts[i][k]);
        sb_jw_end_arr(jw);
    }
    sb_jw_end_obj(jw);
    sb_jw_key(jw, "branches");
    sb_jw_obj(jw);
    for (int k = 0; k < nb; k++) {
        sb_jw_key(jw, d->branches[order[k]]);
        sb_jw_arr(jw);
        for (int i = 0; i < nd; i++) sb_jw_int(jw, d->bcounts[i][order[k]]);
        sb_jw_end_arr(jw);
    }
    sb_jw_end_obj(jw);
    sb_jw_end_obj(jw);
    return 0;
}

/* Sync health over time, the dashboard's second chart: per hour of the 48 before the
 * latest run, the orders checks, the orders the download and the notifications brought,
 * the runs that failed (any job), the checks Amazon's rate limit paused, the
 * notifications read, and the stock levels Amazon accepted and refused. */
int sb_view_sync_per_hour(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    (void)id; (void)a;
    static const char *const keys[] = {[SB_HOUR_CHECKS] = "checks", [SB_HOUR_DOWNLOADED] = "downloaded",
        [SB_HOUR_NOTIFIED] = "notified", [SB_HOUR_FAILED] = "failed", [SB_HOUR_PAUSED] = "paused",
        [SB_HOUR_NOTIFICATIONS] = "notifications", [SB_HOUR_STOCK_ACCEPTED] = "stock_accepted",
        [SB_HOUR_STOCK_REFUSED] = "stock_refused"};
    enum { NK = sizeof keys / sizeof *keys };
    sb_store_hour h[SB_STORE_HOURS];
    int n = 0;
    int rc = sb_store_runs_per_hour(c->s, c->integ, h, &n, err);
    if (rc) return rc;
    sb_jw_obj(jw);
    sb_jw_key(jw, "hours");
    sb_jw_arr(jw);
    for (int i = 0; i < n; i++) sb_jw_str(jw, h[i].hour);
    sb_jw_end_arr(jw);
    for (int k = 0; k < NK; k++) {
        sb_jw_key(jw, keys[k]);
        sb_jw_arr(jw);
        for (int i = 0; i < n; i++) sb_jw_int(jw, h[i].n[k]);
        sb_jw_end_arr(jw);
    }
    sb_jw_end_obj(jw);
    return 0;
}
