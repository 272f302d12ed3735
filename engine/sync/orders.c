/* orders.c: the order pass (see orders.h): the window, its pages, the watermark, the
 * window in progress kept for a resume, the run's record, and the retry of held orders.
 * A page's orders are decided by the rules ahead, while no write transaction is open (the
 * look-ups read one snapshot), and then stored together in one transaction, each order a
 * savepoint of it (sync/order_apply.c, which says why a crash leaves each order whole or
 * absent); an order whose look-ups read what a waiting one will change is decided again
 * after those are stored. The watermark moves only after the last order of the window is
 * stored, so a failure anywhere repeats the window, which is harmless. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "json/json.h"
#include "store/fix.h"
#include "store/orders.h"
#include "sync/order_apply.h"
#include "sync/orders.h"

#define SEARCH_PAGE_SIZE 100
#define DEFAULT_LOOKBACK (7 * 86400)
#define TWO_MINUTES 120

static int stopping(const sb_engine *e) { return e->stop && *e->stop; }

/* What a page's decided orders may hold of the rule host's memory before they are
 * stored (its arena is bounded at 16 MiB; a page of ordinary orders holds well under
 * one). */
#define KEPT_MAX_BYTES ((size_t)4 << 20)

/* Stores the k decided orders of v (v[i].index their place in the page of n) and forgets
 * them: their decisions (the rule host's kept memory) and the look-ups' marks. */
static int store_decided(sb_order_pass *c, sb_rules *rules, sb_order_decided *v, int *k, int n) {
    sb_store_rollback(c->e->store);                 /* the look-ups' snapshot ends */
    int failed, rc = sb_order_apply_all(c, v, *k, &failed);
    if (rc) {
        char why[SB_ERRLEN];
        snprintf(why, sizeof why, "%s", c->err);
        /* the orders before the batch were stored by an earlier commit, and in it those
         * before a failed order (sb_order_apply_all commits them); a failed commit loses
         * the whole batch */
        int at = failed < 0 ? 0 : failed, first = v[at].index, last = v[*k - 1].index;
        int many = failed < 0 && last > first;
        const char *id = v[at].o.order_id && *v[at].o.order_id ? v[at].o.order_id : "no id";
        char before[64] = "";
        if (first > 0)
            snprintf(before, sizeof before, ", the %s before %s %s stored", first == 1 ? "order" : "orders",
                     many ? "them" : "it", first == 1 ? "was" : "were");
        if (many)
            sb_seterr(c->err, rc, "orders %d to %d of %d were not stored%s: %.300s", first + 1, last + 1, n,
                      before, why);
        else
            sb_seterr(c->err, rc, "order %d of %d (%s) was not stored%s: %.300s", first + 1, n, id, before, why);
    }
    *k = 0;
    sb_engine_lookup_pending_clear(c->e->lookup);
    sb_rules_keep(rules, 1);
    if (!rc) rc = sb_store_begin_read(c->e->store, c->err);   /* and the next one begins */
    return rc;
}

/* Applies the n orders of the page open in rules (body is that page). The hooks decide
 * each order while no transaction is open, so a slow rule never holds the database's
 * write lock; the decided orders wait, and are stored together in one transaction
 * (sb_order_apply_all): when the page is decided, when the engine stops, when they hold
 * much memory, and before an order whose look-ups read what one of them will change (the
 * look-ups' pending marks, sync/lookup.c): that order is then decided again, so each order
 * is decided as though the ones before it were stored. The engine stopping is honoured
 * between orders and inside a rule (SB_EINTR: the orders before are kept, the window is
 * repeated). c->err says why on failure. */
static int apply_orders(sb_order_pass *c, sb_rules *rules, const char *body, size_t len, int n) {
    sb_engine *e = c->e;
    c->page = body;
    c->page_len = len;
    c->page_orders = n;
    c->page_id = 0;
    if (n <= 0) return 0;
    sb_order_decided *v = calloc((size_t)n, sizeof *v);
    if (!v) return sb_seterr(c->err, SB_ENOMEM, "out of memory for the %d orders of a page", n);
    int k = 0, rc = 0;
    sb_engine_lookup_pending_clear(e->lookup);
    sb_rules_keep(rules, 1);
    /* the look-ups read one snapshot (a read, which holds no lock a writer waits for)
     * until the decided orders are stored: one read lock for many look-ups */
    rc = sb_store_begin_read(e->store, c->err);
    for (int i = 0; i < n && !rc; i++) {
        if (stopping(e)) {
            if (!(rc = store_decided(c, rules, v, &k, n)))
                rc = sb_seterr(c->err, SB_EINTR, "stopped before order %d of %d", i + 1, n);
            break;
        }
        sb_order_decided *x = &v[k];
        memset(x, 0, sizeof *x);
        x->index = i;
        x->norm_rc = sb_rules_page_order(rules, i, &x->o, &x->d, x->norm_err);
        if (x->norm_rc != SB_EINTR && sb_engine_lookup_stale(e->lookup)) {
            /* it read what a waiting order changes: store those, then decide it again */
            sb_order_decided again = {.index = i};
            if ((rc = store_decided(c, rules, v, &k, n))) break;
            x = &v[0];
            *x = again;
            x->norm_rc = sb_rules_page_order(rules, i, &x->o, &x->d, x->norm_err);
        }
        if (x->norm_rc == SB_EINTR) {
            char why[SB_ERRLEN];
            snprintf(why, sizeof why, "%s", x->norm_err);
            if (!(rc = store_decided(c, rules, v, &k, n)))
                rc = sb_seterr(c->err, SB_EINTR, "stopped at order %d of %d: %s", i + 1, n, why);
            break;
        }
        c->res->fetched++;
        if ((rc = sb_engine_lookup_pending(e->lookup, &x->o, x->norm_rc ? NULL : &x->d, c->err))) {
            sb_seterr(c->err, rc, "order %d of %d (%s): %s", i + 1, n, x->o.order_id ? x->o.order_id : "no id", c->err);
            break;
        }
        k++;
        if (sb_rules_kept_bytes(rules) > KEPT_MAX_BYTES) rc = store_decided(c, rules, v, &k, n);
    }
    if (!rc) rc = store_decided(c, rules, v, &k, n);
    sb_store_rollback(e->store);
    sb_rules_keep(rules, 0);
    sb_engine_lookup_pending_clear(e->lookup);
    free(v);
    return rc;
}

/* Where pages come from: Amazon (searchOrders), or pages already in memory (the
 * benchmark). */
typedef struct page_source {
    int (*fetch)(void *ud, const sb_search_orders_params *p, sb_buf *body, char *err);
    void *ud;
    int again;                    /* fetch can ask for the same page again (by its token) */
} page_source;

static int fetch_amazon(void *ud, const sb_search_orders_params *p, sb_buf *body, char *err) {
    return sb_spapi_search_orders(ud, p, body, err);
}

typedef struct memory_pages {
    char *const *pages;
    const size_t *lens;
    int n, next;
} memory_pages;

static int fetch_memory(void *ud, const sb_search_orders_params *p, sb_buf *body, char *err) {
    memory_pages *m = ud;
    (void)p;
    if (m->next >= m->n) return sb_seterr(err, SB_EINVAL, "no page %d in memory", m->next + 1);
    sb_buf_reset(body);
    if (sb_buf_append(body, m->pages[m->next], m->lens[m->next])) return sb_seterr(err, SB_ENOMEM, "page too large");
    m->next++;
    return 0;
}

/* ---- a window in progress ----
 * After each page of an Amazon window its bounds and the next page's token are kept in
 * sync_state, so a pause for the rate limit, a failure or a restart goes on from the
 * first page not yet stored instead of page 1. Amazon keeps a token 24 hours; one kept
 * longer than 23 is dropped and the window starts again from the watermark. */
#define RESUME_MAX_AGE (23 * 3600)

typedef struct resume {
    char after[32], before[32], token[4096];
    long pages;                   /* pages stored before the token's */
} resume;

static int resume_load(sb_engine *e, resume *r) {
    sb_store_orders_resume k;
    char why[SB_ERRLEN];
    if (sb_store_orders_resume_get(e->store, e->integ, &k, why)) {
        sb_warn("orders: cannot read the window in progress integration=%s: %s (the window starts again)", e->name, why);
        return 0;
    }
    if (!k.found) return 0;
    const char *wm = sb_settings_str(&e->settings, "orders.last_updated");
    int64_t saved = *k.saved_at ? sb_time_parse(k.saved_at) : -1;
    if (*k.after && *k.before && *k.token && saved > 0 && sb_now() - saved < RESUME_MAX_AGE && (!*wm || strcmp(k.before, wm) > 0)) {
        snprintf(r->after, sizeof r->after, "%s", k.after);
        snprintf(r->before, sizeof r->before, "%s", k.before);
        snprintf(r->token, sizeof r->token, "%s", k.token);
        r->pages = k.pages;
        return 1;
    }
    sb_info("orders: the kept page token of window %s..%s is too old or done; the window starts again "
            "integration=%s", *k.after ? k.after : "?", *k.before ? k.before : "?", e->name);
    return 0;
}

/* token NULL: the window is done (or starts again from its first page). */
static void resume_save(sb_engine *e, const sb_orders_result *res, const char *token) {
    char now[32], why[SB_ERRLEN];
    if (sb_store_orders_resume_set(e->store, e->integ, res->after, res->before, token,
                                   sb_time_format(sb_now(), now, sizeof now),
                                   res->pages + (res->resumed_at_page > 0 ? res->resumed_at_page - 1 : 0), why))
        sb_warn("orders: cannot keep the window's next page token integration=%s: %s (a restart begins the window "
                "again)", e->name, why);
}

static int set_watermark(sb_engine *e, const char *value, char *err) {
    return sb_settings_set_watermark(e->store, e->integ, "orders.last_updated", value, err);
}

static int record_run(sb_engine *e, const sb_orders_result *r, const char *error) {
    char counts[768];
    snprintf(counts, sizeof counts,
             "{\"pages\":%ld,\"fetched\":%ld,\"created\":%ld,\"updated\":%ld,\"skipped\":%ld,\"held\":%ld,"
             "\"rule_errors\":%ld,\"rejected\":%ld,\"cancelled\":%ld,\"dispatched\":%ld,\"unchanged\":%ld,"
             "\"late\":%ld,\"missed\":%ld,\"reconciled\":%s",
             r->pages, r->fetched, r->created, r->updated, r->skipped, r->held, r->rule_errors, r->rejected,
             r->cancelled, r->dispatched, r->unchanged, r->late, r->missed, r->reconciled ? "true" : "false");
    size_t n = strlen(counts);
    if (r->clock_known)
        n += (size_t)snprintf(counts + n, sizeof counts - n, ",\"amazon_clock_skew_ms\":%lld", (long long)r->clock_skew_ms);
    if (r->resumed_at_page > 0)
        n += (size_t)snprintf(counts + n, sizeof counts - n, ",\"resumed_at_page\":%ld", r->resumed_at_page);
    if (r->paused_until > 0) {
        char t[32];
        n += (size_t)snprintf(counts + n, sizeof counts - n, ",\"paused_until\":\"%s\"",
                              sb_time_format(r->paused_until / 1000, t, sizeof t));
    }
    snprintf(counts + n, sizeof counts - n, "}");
    char why[SB_ERRLEN];
    int rc = sb_engine_record_run(e, "orders", error == NULL, error, counts, NULL, why);
    if (rc) sb_warn("orders: the run's result was not recorded integration=%s: %s", e->name, why);
    return rc;
}

/* Applies every page of a window from src, a page's orders in one transaction; after the
 * last one the orders watermark moves to watermark (when not NULL). Pages are fetched and
 * decided one at a time, in the engine's one rule state. */
static int run_pages(sb_order_pass *c, const page_source *src, sb_search_orders_params *p, const char *watermark,
                     const char *start_token, char *err) {
    sb_engine *e = c->e;
    sb_orders_result *res = c->res;
    sb_buf body;
    int rc = 0;
    sb_buf_init(&body, (size_t)64 << 20);
    char token[4096] = "", next_token[4096] = "";
    if (start_token) snprintf(token, sizeof token, "%s", start_token);
    for (;;) {
        int n = 0;
        const char *next = NULL;
        p->pagination_token = *token ? token : NULL;
        /* the page is decoded once, by the rule host that needs it: the client's own
         * JSON check is skipped when the page can be asked for again, checked */
        sb_search_orders_params once = *p;
        once.unchecked = src->again;
        if ((rc = src->fetch(src->ud, &once, &body, err))) goto out;
        res->pages++;
        rc = sb_rules_page_open(e->rules, body.data, body.len, &n, &next, c->err);
        if (rc && src->again) {
            sb_warn("orders page %ld could not be read, fetching it again integration=%s: %s",
                    res->pages, e->name, c->err);
            if ((rc = src->fetch(src->ud, p, &body, err))) goto out;
            rc = sb_rules_page_open(e->rules, body.data, body.len, &n, &next, c->err);
        }
        if (rc) {
            sb_seterr(err, rc, "page %ld of window %s..%s: %s", res->pages, res->after, res->before, c->err);
            goto out;
        }
        snprintf(next_token, sizeof next_token, "%s", next ? next : "");
        if ((rc = apply_orders(c, e->rules, body.data, body.len, n))) {
            sb_seterr(err, rc, "page %ld of window %s..%s: %s%s", res->pages, res->after, res->before, c->err,
                      rc == SB_EINTR ? "; the window will be repeated" : "");
            goto out;
        }
        /* the watermark moves only once every order of the window is stored */
        if (!*next_token && watermark && (rc = set_watermark(e, watermark, err))) goto out;
        if (watermark) resume_save(e, res, *next_token ? next_token : NULL);
        if (e->progress) e->progress(e->progress_ud, res);
        if (!*next_token) break;
        memcpy(token, next_token, sizeof token);
        if (stopping(e)) {
            rc = sb_seterr(err, SB_EINTR, "stopped after page %ld; the window %s..%s will be repeated",
                           res->pages, res->after, res->before);
            goto out;
        }
    }
out:
    sb_buf_free(&body);
    return rc;
}

int sb_orders_apply_pages(sb_engine *e, char *const *pages, const size_t *lens, int npages,
                          sb_orders_result *res, char *err) {
    sb_order_pass c = {.e = e, .res = res};
    memory_pages m = {pages, lens, npages, 0};
    page_source src = {fetch_memory, &m, 0};
    sb_search_orders_params p = {.max_results = SEARCH_PAGE_SIZE};
    memset(res, 0, sizeof *res);
    int rc = npages > 0 ? sb_engine_rules(e, err) : 0;
    if (!rc && npages > 0) rc = run_pages(&c, &src, &p, NULL, NULL, err);
    return rc;
}

int sb_orders_apply_order(sb_engine *e, const char *body, size_t len, sb_orders_result *res, char *err) {
    memset(res, 0, sizeof *res);
    sb_json *j = NULL;
    sb_buf page;
    sb_buf_init(&page, (size_t)SB_JSON_MAX_BYTES + 64);
    int rc = sb_json_parse(body, len, &j, err);
    int node = rc ? 0 : sb_json_get(j, SB_JSON_ROOT, "order");
    if (!rc && sb_json_type(j, node, NULL) != SB_JSON_OBJ)
        rc = sb_seterr(err, SB_EINVAL, "getOrder's answer has no order object");
    if (!rc && (sb_buf_append(&page, "{\"orders\":[", 11) || sb_json_encode(j, node, &page, err) ||
                sb_buf_append(&page, "]}", 2)))
        rc = rc ? rc : sb_seterr(err, SB_ENOMEM, "getOrder's order does not fit a page");
    sb_json_free(j);
    if (!rc) rc = sb_engine_rules(e, err);
    if (!rc) {
        sb_order_pass c = {.e = e, .res = res, .came_by = "notification"};
        memory_pages m = {&page.data, &page.len, 1, 0};
        page_source src = {fetch_memory, &m, 0};
        sb_search_orders_params p = {.max_results = 1};
        rc = run_pages(&c, &src, &p, NULL, NULL, err);
        }
    sb_buf_free(&page);
    return rc;
}

const char *sb_orders_counts(const sb_orders_result *r, char *buf, size_t n) {
    snprintf(buf, n, "%ld order%s in %ld page%s: %ld new, %ld updated, %ld skipped by status, %ld need attention, "
             "%ld rule error%s, %ld rejected, %ld cancelled, %ld auto-dispatched, %ld unchanged", r->fetched,
             r->fetched == 1 ? "" : "s", r->pages, r->pages == 1 ? "" : "s", r->created, r->updated, r->skipped, r->held,
             r->rule_errors, r->rule_errors == 1 ? "" : "s", r->rejected, r->cancelled, r->dispatched, r->unchanged);
    size_t l = strlen(buf);
    if (r->late || r->missed)
        snprintf(buf + l, n - l, "; listed late: %ld found by the overlap, %ld only by the reconciliation", r->late, r->missed);
    return buf;
}

/* Where a pass's window starts: orders.overlap_minutes before the watermark, since Amazon
 * lists some orders after their lastUpdatedTime and such an order would fall into a window
 * already finished; once a day (orders.reconcile_hours > 0) orders.reconcile_hours before
 * its end when that is earlier. *watermark is the watermark (0: none yet), *normal the start
 * without the reconciliation (0 when this pass is none), *reconcile 1 on the reconciliation.
 * Orders are keyed on Amazon's id, so what is read twice costs calls, not writes. */
static int64_t window_start(sb_engine *e, int64_t now, int64_t before, int64_t *watermark, int64_t *normal,
                            int *reconcile) {
    const char *wm = sb_settings_str(&e->settings, "orders.last_updated");
    const char *last = sb_settings_str(&e->settings, "orders.last_reconciled");
    long back_h = sb_settings_int(&e->settings, "orders.reconcile_hours");
    int64_t t = *wm ? sb_time_parse(wm) : -1;
    *watermark = *normal = 0;
    *reconcile = back_h > 0 && (!*last || now - sb_time_parse(last) >= 86400 || sb_time_parse(last) > now);
    if (t < 0) {
        sb_info("no orders watermark yet integration=%s: starting 7 days back", e->name);
        return before - DEFAULT_LOOKBACK;
    }
    *watermark = t;
    int64_t start = t - (int64_t)sb_settings_int(&e->settings, "orders.overlap_minutes") * 60;
    if (!*reconcile || before - (int64_t)back_h * 3600 >= start) return start;
    *normal = start;
    return before - (int64_t)back_h * 3600;
}

int sb_sync_orders(sb_engine *e, sb_orders_result *res, char *err) {
    sb_order_pass c = {.e = e, .res = res, .came_by = "download"};
    char **mkts = NULL;
    int rc = 0;
    memset(res, 0, sizeof *res);
    if (!sb_settings_bool(&e->settings, "orders.enabled")) {
        sb_info("orders download is off integration=%s (orders.enabled=false)", e->name);
        return 0;
    }
    if ((rc = sb_engine_rules(e, err)) || (rc = sb_engine_api(e, err))) goto out;
    /* the window: from the watermark (less the overlap) to two minutes before Amazon's now (the access
     * token's answer tells Amazon's clock; a margin of 2 s for its whole seconds, 5 s on
     * this machine's clock when Amazon's is not known) */
    if ((rc = sb_spapi_measure_clock(e->api, err))) goto out;
    res->clock_known = sb_spapi_clock_skew(e->api, &res->clock_skew_ms);
    if (res->clock_known && (res->clock_skew_ms > 5000 || res->clock_skew_ms < -5000))
        sb_warn("Amazon's clock is %.1f s %s this machine's integration=%s: order windows follow Amazon's; "
                "set this machine's clock right (NTP)", (double)(res->clock_skew_ms < 0 ? -res->clock_skew_ms : res->clock_skew_ms) / 1000,
                res->clock_skew_ms < 0 ? "behind" : "ahead of", e->name);
    int64_t now = sb_spapi_amazon_now(e->api) / 1000, before = now - TWO_MINUTES - (res->clock_known ? 2 : 5);
    int64_t after = window_start(e, now, before, &c.watermark, &c.normal_start, &res->reconciled);
    sb_time_format(after, res->after, sizeof res->after);
    sb_time_format(before, res->before, sizeof res->before);
    resume r;
    const char *start_token = NULL;
    if (resume_load(e, &r)) {                   /* the same window, from its next page */
        snprintf(res->after, sizeof res->after, "%s", r.after);
        snprintf(res->before, sizeof res->before, "%s", r.before);
        start_token = r.token;
        res->resumed_at_page = r.pages + 1;
        res->reconciled = 0;                    /* the reconciliation, if due, is the next window's */
        c.normal_start = 0;
        after = sb_time_parse(r.after);
        before = sb_time_parse(r.before);
        sb_info("orders window %s..%s resumes at page %ld integration=%s", res->after, res->before,
                res->resumed_at_page, e->name);
    }
    if (before <= after) {
        sb_info("orders window is empty integration=%s after=%s", e->name, res->after);
        goto out;
    }
    mkts = sb_settings_list(sb_settings_str(&e->settings, "integration.marketplaces"));
    int nm = 0;
    while (mkts && mkts[nm]) nm++;
    sb_search_orders_params p = {
        .last_updated_after = res->after, .last_updated_before = res->before,
        .marketplace_ids = (const char *const *)mkts, .nmarketplaces = nm,
        .max_results = SEARCH_PAGE_SIZE,
        .included_data = "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT",
    };
    page_source src = {fetch_amazon, e->api, 1};
    if ((rc = run_pages(&c, &src, &p, res->before, start_token, err))) {
        if (rc == SB_ELATER) res->paused_until = sb_spapi_retry_at(e->api, SB_OP_SEARCH_ORDERS);
        else if (start_token && res->pages <= 1 && rc != SB_EINTR) {
            /* the kept token itself may be what Amazon refuses (expired, other filters) */
            resume_save(e, res, NULL);
            sb_warn("orders: the window %s..%s could not go on from its kept page token; the next run starts it "
                    "again integration=%s", res->after, res->before, e->name);
        }
        goto out;
    }
    if (res->reconciled) {
        char at[32];
        sb_time_format(now, at, sizeof at);
        /* every order is stored and the watermark moved: a failure here costs only an
         * early look-back on the next pass, so it is told, not the run's failure */
        char werr[SB_ERRLEN];
        if (sb_settings_set_watermark(e->store, e->integ, "orders.last_reconciled", at, werr))
            sb_warn("orders: the window %s..%s is stored but when its look-back ran was not (%s); the next "
                    "pass looks back again integration=%s", res->after, res->before, werr, e->name);
        sb_info("orders reconciliation integration=%s window=%s..%s: %ld order%s the normal windows missed "
                "(%ld found by the overlap)", e->name, res->after, res->before, res->missed,
                res->missed == 1 ? "" : "s", res->late);
    }
    /* pages only a few orders still point at give those their own copy; pages no order
     * points at any more (each updated from a later page) go */
    if (sb_store_raw_pages_tidy(e->store, e->integ, c.err)) sb_warn("orders: %s", c.err);
    sb_info("orders synced integration=%s window=%s..%s pages=%ld fetched=%ld created=%ld updated=%ld "
            "skipped=%ld held=%ld rule_errors=%ld rejected=%ld cancelled=%ld dispatched=%ld",
            e->name, res->after, res->before, res->pages, res->fetched, res->created, res->updated,
            res->skipped, res->held, res->rule_errors, res->rejected, res->cancelled, res->dispatched);
out:
    if (rc == SB_ELATER)
        sb_info("orders window %s..%s paused after page %ld integration=%s (the next run goes on from there): %s",
                res->after, res->before, res->pages, e->name, err);
    else if (rc && rc != SB_EINTR)
        sb_error("orders sync failed integration=%s (the watermark stays at %s; the next run goes on from the "
                 "first page not stored): %s", e->name, *res->after ? res->after : "?", err);
    record_run(e, res, rc && rc != SB_ELATER ? err : NULL);
    sb_settings_list_free(mkts);
    return rc;
}

int sb_orders_retry(sb_engine *e, const char *order_ref, long *fixed, char *err) {
    sb_orders_retry_result r;
    int rc = sb_orders_retry_ex(e, order_ref, &r, err);
    *fixed = r.fixed;
    return rc;
}

/* Keeps why order ref stays held, for the first SB_RETRY_KEEP of them. */
static void retry_kept(sb_orders_retry_result *out, const char *ref, const char *why) {
    out->held++;
    if (out->nkept >= SB_RETRY_KEEP) return;
    snprintf(out->kept[out->nkept].order, sizeof out->kept[0].order, "%s", ref);
    snprintf(out->kept[out->nkept].why, sizeof out->kept[0].why, "%s", why && *why ? why : "held");
    out->nkept++;
}

int sb_orders_retry_ex(sb_engine *e, const char *order_ref, sb_orders_retry_result *out, char *err) {
    return sb_orders_retry_for(e, order_ref, SB_RETRY_RULE_ERROR | SB_RETRY_UNKNOWN_SKU, out, err);
}

/* 1 when a live split of order ref has a line whose SKU is not a product (that SKU in
 * sku), else 0 (a failed read too, told in the log). */
static int unknown_sku_of(sb_store *s, int64_t integ, const char *ref, char *sku, size_t len) {
    char why[SB_ERRLEN];
    int found = 0;
    if (sb_store_order_unknown_sku(s, integ, ref, sku, len, &found, why)) sb_warn("order %s: %s", ref, why);
    return found;
}

int sb_orders_unknown_sku(sb_store *s, int64_t integ, const char *ref, char *sku, size_t len) {
    return unknown_sku_of(s, integ, ref, sku, len);
}

/* The held orders a retry runs, collected before any is run again (each writes). */
typedef struct held_list {
    char **refs, **raws, *rule_held;
    int n, cap;
} held_list;

static int collect_held(void *ud, const char *ref, const char *raw, int rule_held) {
    held_list *h = ud;
    if (!raw) {                                 /* its page is gone: nothing to re-run from */
        sb_warn("order %s: its Amazon JSON is missing; it stays held", ref);
        return 0;
    }
    if (h->n == h->cap) {
        int nc = h->cap ? h->cap * 2 : 16;
        char **r1 = realloc(h->refs, (size_t)nc * sizeof *h->refs);
        if (r1) h->refs = r1;
        char **r2 = r1 ? realloc(h->raws, (size_t)nc * sizeof *h->raws) : NULL;
        if (r2) h->raws = r2;
        char *r3 = r2 ? realloc(h->rule_held, (size_t)nc) : NULL;
        if (r3) h->rule_held = r3;
        if (!r1 || !r2 || !r3) return SB_ENOMEM;
        h->cap = nc;
    }
    h->refs[h->n] = strdup(ref);
    h->raws[h->n] = strdup(raw);
    h->rule_held[h->n] = (char)rule_held;
    if (!h->refs[h->n] || !h->raws[h->n]) { free(h->refs[h->n]); free(h->raws[h->n]); return SB_ENOMEM; }
    h->n++;
    return 0;
}

int sb_orders_retry_for(sb_engine *e, const char *order_ref, int kinds, sb_orders_retry_result *out, char *err) {
    sb_order_pass c;
    sb_orders_result res;
    held_list h = {0};
    memset(&c, 0, sizeof c);
    memset(&res, 0, sizeof res);
    memset(out, 0, sizeof *out);
    c.e = e;
    c.res = &res;
    int rc = sb_engine_rules(e, err);
    if (rc) return rc;
    /* held for a rule error (or rejected), or kept with a line whose SKU was not a product
     * (held for it, or released so by a person) */
    rc = sb_store_orders_held(e->store, e->integ, order_ref, (kinds & SB_RETRY_RULE_ERROR) != 0,
                              (kinds & SB_RETRY_UNKNOWN_SKU) != 0, collect_held, &h, err);
    if (rc == SB_ENOMEM) rc = sb_seterr(err, SB_ENOMEM, "retry: out of memory");
    if (!rc && order_ref && h.n == 0) {
        char sku[128];
        if (unknown_sku_of(e->store, e->integ, order_ref, sku, sizeof sku))
            rc = sb_seterr(err, SB_EINVAL, "order %s: SKU '%s' is still not a product: import it "
                           "(sellerbridge import products FILE) or link it to one (sellerbridge products alias SKU PRODUCT_SKU), then retry", order_ref, sku);
        else
            rc = sb_seterr(err, SB_ENOTFOUND, "order %s is not held for a rule error or for a SKU that was not a product", order_ref);
    }
    for (int i = 0; i < h.n && !rc; i++) {
        sb_order o;
        sb_decision d;
        char nerr[SB_ERRLEN] = "";
        memset(&o, 0, sizeof o);
        memset(&d, 0, sizeof d);
        if (stopping(e)) { rc = sb_seterr(err, SB_EINTR, "retry stopped before order %s: the engine is stopping", h.refs[i]); break; }
        /* decided with no transaction open, like a download */
        int nrc = sb_rules_order_json(e->rules, h.raws[i], strlen(h.raws[i]), &o, &d, nerr);
        if (nrc == SB_EINTR) { rc = sb_seterr(err, SB_EINTR, "retry stopped at order %s: %s", h.refs[i], nerr); break; }
        out->tried++;
        if (!nrc && !d.error && !d.download) {
            /* the fixed pack would not have downloaded it: keep it held, say why */
            retry_kept(out, h.refs[i], "the rule pack would not download it");
            continue;
        }
        if (!h.rule_held[i]) {
            /* a SKU that was not a product: stored again only when the rules decide it */
            if (nrc || d.error) { retry_kept(out, h.refs[i], nrc ? nerr : d.error); continue; }
            c.err[0] = '\0';
            int lrc = sb_order_relink(&c, &o, &d);
            if (lrc < 0) { rc = sb_seterr(err, lrc, "order %s: %s", h.refs[i], c.err); break; }
            if (lrc > 0) { retry_kept(out, h.refs[i], c.err); continue; }
            char stage[24], why[256], sku[128];
            if ((rc = sb_store_order_state(e->store, e->integ, h.refs[i], stage, sizeof stage, why, sizeof why, err))) break;
            if (unknown_sku_of(e->store, e->integ, h.refs[i], sku, sizeof sku)) {
                char still[256];
                snprintf(still, sizeof still, "SKU '%.100s' is still not a product", sku);
                retry_kept(out, h.refs[i], still);
            } else if (!strcmp(stage, "open")) out->fixed++;
            else retry_kept(out, h.refs[i], why);
            continue;
        }
        c.held_key = h.refs[i];
        if ((rc = sb_order_apply(&c, &o, &d, nrc, nerr))) { sb_seterr(err, rc, "order %s: %s", h.refs[i], c.err); break; }
        if (!nrc && !d.error) out->fixed++;
        else retry_kept(out, h.refs[i], nrc ? nerr : d.error);
    }
    for (int i = 0; i < h.n; i++) { free(h.refs[i]); free(h.raws[i]); }
    free(h.refs);
    free(h.raws);
    free(h.rule_held);
    return rc;
}

int sb_orders_check_reserved(sb_store *s, char *report, size_t len) {
    char why[SB_ERRLEN];
    int n = 0, rc = sb_store_orders_reserved_check(s, report, len, &n, why);
    return rc ? rc : n;
}
