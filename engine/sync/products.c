/* products.c: the products download (see products.h): reports API round trip, then a
 * tab-separated reader that finds columns by their header name. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "store/products.h"
#include "sync/products.h"

#define REPORT_MAX_POLLS 120    /* an hour */
#define REPORT_TYPE "GET_MERCHANT_LISTINGS_ALL_DATA"
#define MAX_COLS 256

static const struct { const char *abbr; int offset_min; } zones[] = {
    {"UTC", 0}, {"GMT", 0}, {"Z", 0}, {"BST", 60}, {"IST", 60}, {"WET", 0}, {"WEST", 60}, {"CET", 60}, {"CEST", 120},
    {"MET", 60}, {"MEST", 120}, {"EET", 120}, {"EEST", 180}, {"PST", -480}, {"PDT", -420}, {"MST", -420},
    {"MDT", -360}, {"CST", -360}, {"CDT", -300}, {"EST", -300}, {"EDT", -240}, {"AKST", -540}, {"AKDT", -480},
    {"HST", -600}, {"JST", 540}, {"KST", 540}, {"AEST", 600}, {"AEDT", 660}, {"ACST", 570}, {"ACDT", 630},
    {"AWST", 480}, {"NZST", 720}, {"NZDT", 780}, {"BRT", -180}, {"SGT", 480},
};

static int month_first_marketplace(const char *mp) {
    static const char *const us_style[] = {"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8", "A2Q3Y263D00KWC", NULL};
    for (int i = 0; mp && us_style[i]; i++) if (!strcmp(mp, us_style[i])) return 1;
    return 0;
}

int64_t sb_products_parse_date(const char *s, int month_first) {
    if (!s) return -1;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return -1;
    if (strlen(s) > 10 && s[4] == '-' && s[10] == 'T') return sb_time_parse(s);
    int a = 0, b = 0, c = 0, H = 0, M = 0, S = 0, y, mo, d, used = 0;
    char sep1 = 0, sep2 = 0;
    if (sscanf(s, "%d%c%d%c%d%n", &a, &sep1, &b, &sep2, &c, &used) != 5 || sep1 != sep2) return -1;
    if (sep1 == '-' && a > 31) { y = a; mo = b; d = c; }
    else if (sep1 == '/' || sep1 == '.' || sep1 == '-') {
        y = c;
        if (sep1 == '/' && month_first) { mo = a; d = b; } else { d = a; mo = b; }
        if (mo > 12 && d <= 12) { int t = mo; mo = d; d = t; }
        if (y < 100) y += 2000;
    } else return -1;
    const char *p = s + used;
    int n2 = 0;
    if (sscanf(p, " %d:%d:%d%n", &H, &M, &S, &n2) == 3) p += n2;
    else if (sscanf(p, " %d:%d%n", &H, &M, &n2) == 2) p += n2;
    while (isspace((unsigned char)*p)) p++;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || H > 23 || M > 59 || S > 60 || y < 1990 || y > 2200) return -1;
    int off = 0;
    if (*p == '+' || *p == '-') {
        int hh = 0, mm = 0;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) < 1 && sscanf(p + 1, "%2d%2d", &hh, &mm) < 1) return -1;
        off = (hh * 60 + mm) * (*p == '-' ? -1 : 1);
    } else if (*p) {
        char abbr[8] = "";
        int k = 0;
        while (k < 7 && isalpha((unsigned char)p[k])) { abbr[k] = (char)toupper((unsigned char)p[k]); k++; }
        abbr[k] = '\0';
        int known = 0;
        for (size_t i = 0; i < sizeof zones / sizeof *zones; i++)
            if (!strcmp(zones[i].abbr, abbr)) { off = zones[i].offset_min; known = 1; }
        if (!known) return -1;
    }
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = H;
    tm.tm_min = M;
    tm.tm_sec = S;
    return (int64_t)timegm(&tm) - (int64_t)off * 60;
}

static void problem(sb_products_result *res, long line, const char *fmt, const char *v) {
    res->bad++;
    char msg[120];
    snprintf(msg, sizeof msg, fmt, v ? v : "");
    sb_warn("products report line %ld skipped: %s", line, msg);
    if (res->bad <= SB_PRODUCTS_MAX_PROBLEMS) snprintf(res->problems[res->bad - 1], sizeof res->problems[0], "line %ld: %s", line, msg);
}

/* Splits line (modified in place) on tabs into f; returns the field count (max+1 when
 * there are more than max). */
static int split_tabs(char *line, char **f, int max) {
    int n = 0;
    for (char *p = line;;) {
        if (n == max) return max + 1;
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = '\0';
        p = t + 1;
    }
    return n;
}

typedef struct cols { int sku, asin, name, open, channel; } cols;

static int import_one(sb_engine *e, char *text, const char *mp, int64_t wm, int64_t *latest,
                      sb_products_result *res, char *err) {
    char *f[MAX_COLS + 1];
    long line = 0;
    int month_first = month_first_marketplace(mp), rc = 0;
    cols c = {-1, -1, -1, -1, -1};
    int ncols = 0;
    for (char *p = text; p && *p && !rc;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        char *ln = p;
        p = nl ? nl + 1 : NULL;
        line++;
        size_t L = strlen(ln);
        if (L && ln[L - 1] == '\r') ln[--L] = '\0';
        if (line == 1) {
            if (!strncmp(ln, "\xEF\xBB\xBF", 3)) ln += 3;
            ncols = split_tabs(ln, f, MAX_COLS);
            if (ncols > MAX_COLS) return sb_seterr(err, SB_EINVAL, "report for %s: more than %d columns", mp, MAX_COLS);
            for (int i = 0; i < ncols; i++) {
                char *h = f[i];
                while (isspace((unsigned char)*h)) h++;
                for (char *q = h + strlen(h); q > h && isspace((unsigned char)q[-1]);) *--q = '\0';
                if (!strcasecmp(h, "seller-sku")) c.sku = i;
                else if (!strcasecmp(h, "asin1")) c.asin = i;
                else if (!strcasecmp(h, "item-name")) c.name = i;
                else if (!strcasecmp(h, "open-date")) c.open = i;
                else if (!strcasecmp(h, "fulfillment-channel")) c.channel = i;
            }
            if (c.sku < 0) return sb_seterr(err, SB_EINVAL, "report for %s: no 'seller-sku' column in the header (line 1)", mp);
            if (c.open < 0) return sb_seterr(err, SB_EINVAL, "report for %s: no 'open-date' column in the header (line 1)", mp);
            continue;
        }
        if (!L) continue;
        res->rows++;
        int n = split_tabs(ln, f, MAX_COLS);
        if (n > ncols) { problem(res, line, "%s", "more fields than the header has columns"); continue; }
        #define COL(i) ((i) >= 0 && (i) < n ? f[i] : "")
        const char *sku = COL(c.sku), *asin = COL(c.asin), *name = COL(c.name), *od = COL(c.open), *ch = COL(c.channel);
        #undef COL
        while (isspace((unsigned char)*sku)) sku++;
        if (!*sku) { problem(res, line, "%s", "seller-sku is empty"); continue; }
        if (strlen(sku) > 120) { problem(res, line, "seller-sku is longer than 120 characters%s", ""); continue; }
        int64_t t = sb_products_parse_date(od, month_first);
        if (t < 0) { problem(res, line, "open-date '%.60s' is not a date", od); continue; }
        char chan[32] = "";
        for (int i = 0; ch[i] && i < 31; i++) { chan[i] = (char)toupper((unsigned char)ch[i]); chan[i + 1] = '\0'; }
        sb_store_listing row = {sku, asin, name, chan, t};
        sb_store_listing_outcome done;
        if ((rc = sb_store_product_listing(e->store, &row, t > wm, &done, err))) break;
        if (t <= wm) res->older++;
        else if (done == SB_LISTING_LINKED) res->linked++;
        else res->created++;
        if (t > wm && t > *latest) *latest = t;
    }
    return rc;
}

/* Imports n report texts (modified in place) in one transaction with the watermark. */
static int import_all(sb_engine *e, char **texts, const char *const *mps, int n, sb_products_result *res, char *err) {
    const char *wms = sb_settings_str(&e->settings, "products.last_updated");
    int64_t wm = *wms ? sb_time_parse(wms) : -1, latest = wm;
    int rc = sb_store_begin(e->store, err);
    if (rc) return rc;
    for (int i = 0; i < n && !rc; i++) rc = import_one(e, texts[i], mps[i], wm, &latest, res, err);
    if (!rc && latest > wm) {
        char v[32];
        sb_time_format(latest, v, sizeof v);
        rc = sb_settings_set_watermark(e->store, e->integ, "products.last_updated", v, err);
        if (!rc) snprintf(res->watermark, sizeof res->watermark, "%s", v);
    } else snprintf(res->watermark, sizeof res->watermark, "%s", wms);
    if (rc) {
        sb_store_rollback(e->store);
        snprintf(res->watermark, sizeof res->watermark, "%s", wms);
        return rc;
    }
    return sb_store_commit(e->store, err);
}

int sb_products_import_tsv(sb_engine *e, const char *text, size_t len, const char *marketplace_id,
                           sb_products_result *res, char *err) {
    char *copy = malloc(len + 1);
    if (!copy) return SB_ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    memset(res, 0, sizeof *res);
    int rc = import_all(e, &copy, &marketplace_id, 1, res, err);
    free(copy);
    return rc;
}

static int record_run(sb_engine *e, const sb_products_result *r, const char *error) {
    char counts[300], last[SB_ERRLEN + 200];
    snprintf(counts, sizeof counts, "{\"rows\":%ld,\"created\":%ld,\"linked\":%ld,\"older\":%ld,\"bad\":%ld}",
             r->rows, r->created, r->linked, r->older, r->bad);
    if (error) snprintf(last, sizeof last, "%s", error);
    else if (r->bad) snprintf(last, sizeof last, "%ld bad row%s skipped; first: %s", r->bad, r->bad == 1 ? "" : "s", r->problems[0]);
    return sb_engine_record_run(e, "products", error == NULL, error || r->bad ? last : NULL, counts, NULL, NULL);
}

/* ---- reports Amazon is still making ----
 * A listings report takes Amazon minutes. It is requested once per marketplace and kept
 * in sync_state.pending_reports as "MP=ID;MP=ID;" before anything waits for it; a run
 * looks at each (polling again only while the next look is due within a second: the
 * simulator at speed) and, while one is still being made, ends with SB_ELATER: the next
 * run looks at the same report again instead of requesting another. */
#define PENDING_MAX 2048

/* The report kept for mp into id; 0 when there is none. */
static int pending_find(const char *list, const char *mp, char *id, size_t n) {
    size_t ml = strlen(mp);
    for (const char *p = list; p && *p; ) {
        const char *end = strchr(p, ';');
        if (!end) break;
        if ((size_t)(end - p) > ml + 1 && !strncmp(p, mp, ml) && p[ml] == '=' && (size_t)(end - p - ml - 1) < n) {
            snprintf(id, n, "%.*s", (int)(end - p - ml - 1), p + ml + 1);
            return 1;
        }
        p = end + 1;
    }
    return 0;
}

#define REPORT_CREATES 2            /* createReport calls per marketplace and run */
#define REPORT_LOOKUP_MARGIN_S 300  /* Amazon's clock may be behind ours */

/* createReport, never repeated blindly: after an ambiguous answer (SB_EAMBIG) the report is
 * looked for on Amazon (getReports by type and marketplace, created since just before the
 * call) and the newest one found is used; none there means it was not created, and it is
 * asked for again. A report changes nothing on Amazon, so a report of the same type made
 * meanwhile by someone else is as good; its id, once known, is kept (pending_reports),
 * and a crash before that costs one unread report. */
static int create_report(sb_engine *e, const char *mp, char *id, size_t idlen, char *err) {
    const char *m[1] = {mp};
    char since[32];
    int rc = 0;
    sb_time_format(sb_now() - REPORT_LOOKUP_MARGIN_S, since, sizeof since);
    for (int k = 0; k < REPORT_CREATES; k++) {
        if ((rc = sb_spapi_create_report(e->api, REPORT_TYPE, m, 1, NULL, id, idlen, err)) != SB_EAMBIG) return rc;
        sb_warn("listings report for %s: %s; looking for it on Amazon before asking for another", mp, err);
        sb_spapi_processing list[20];
        char lerr[SB_ERRLEN];
        int n = 0, best = -1;
        if ((rc = sb_spapi_get_reports(e->api, REPORT_TYPE, mp, since, list, 20, &n, lerr)))
            return sb_seterr(err, rc, "listings report for %s: its createReport answer was lost and Amazon cannot be asked "
                             "(%s); the next run asks for a new one", mp, lerr);
        for (int i = 0; i < n; i++)   /* the newest; "10:00:00Z" and "10:00:00.812Z" are compared as times */
            if (best < 0 || sb_time_parse_ms(list[i].created) > sb_time_parse_ms(list[best].created)) best = i;
        if (best >= 0) {
            snprintf(id, idlen, "%s", list[best].id);
            sb_info("listings report %s for %s found on Amazon after a lost answer: following it", id, mp);
            return 0;
        }
        rc = SB_EAMBIG;
        sb_info("listings report for %s is not on Amazon: it was not created%s", mp, k + 1 < REPORT_CREATES ? "; asking again" : "");
    }
    return rc;
}

/* One report for one marketplace: requested (or the one kept), looked at, downloaded
 * (gunzipped). *none when Amazon had no data (CANCELLED); *waiting when Amazon is still
 * making it (nothing downloaded; it stays kept). */
static int fetch_report(sb_engine *e, const char *mp, char *pending, sb_buf *out, int *none, int *waiting, char *err) {
    char id[128] = "";
    sb_spapi_processing p;
    int rc = 0;
    *none = *waiting = 0;
    if (!pending_find(pending, mp, id, sizeof id)) {
        if ((rc = create_report(e, mp, id, sizeof id, err))) return rc;
        size_t l = strlen(pending);
        if (l + strlen(mp) + strlen(id) + 3 > PENDING_MAX || strchr(id, ';') || strchr(id, '='))
            return sb_seterr(err, SB_EINVAL, "listings report id '%.60s' for %s cannot be kept", id, mp);
        strcat(strcat(strcat(strcat(pending + l, mp), "="), id), ";");     /* fits: checked above */
        if ((rc = sb_store_pending_reports_save(e->store, e->integ, pending, err))) return rc;
        sb_info("listings report requested integration=%s marketplace=%s report=%s", e->name, mp, id);
    }
    memset(&p, 0, sizeof p);
    double scale = sb_settings_num(&e->settings, "api.rate_scale");
    for (int i = 0;; i++) {
        if ((rc = sb_spapi_get_report(e->api, id, &p, err))) return rc;
        if (!strcmp(p.status, "DONE") || !strcmp(p.status, "FATAL") || !strcmp(p.status, "CANCELLED")) break;
        int64_t w = sb_poll_wait_ms(i, scale);
        if (w > SB_ENGINE_MAX_WAIT_MS || i + 1 >= REPORT_MAX_POLLS) {
            *waiting = 1;
            sb_info("listings report %s for %s is %s integration=%s: looked at again at the next run", id, mp,
                    p.status, e->name);
            return 0;
        }
        if (e->stop && *e->stop) return sb_seterr(err, SB_EINTR, "stopped while report %s was %s", id, p.status);
        sb_sleep_ms(w);
    }
    if (!strcmp(p.status, "CANCELLED")) { *none = 1; return 0; }
    if (strcmp(p.status, "DONE"))
        return sb_seterr(err, SB_ERR, "listings report %s for %s ended %s", id, mp, p.status);
    if (!p.document_id[0]) return sb_seterr(err, SB_ERR, "listings report %s is DONE without a document", id);
    return sb_spapi_get_report_document(e->api, p.document_id, NULL, out, err);
}

int sb_sync_products(sb_engine *e, sb_products_result *res, char *err) {
    memset(res, 0, sizeof *res);
    if (!sb_settings_bool(&e->settings, "products.enabled")) {
        sb_info("products download is off integration=%s (products.enabled=false)", e->name);
        return 0;
    }
    char **mkts = sb_settings_list(sb_settings_str(&e->settings, "integration.marketplaces"));
    int nm = 0, rc = 0;
    while (mkts && mkts[nm]) nm++;
    char **texts = calloc((size_t)nm + 1, sizeof *texts);
    const char **mps = calloc((size_t)nm + 1, sizeof *mps);
    int nt = 0;
    if (!texts || !mps) { rc = SB_ENOMEM; goto out; }
    if (!nm) { rc = sb_seterr(err, SB_EINVAL, "integration.marketplaces is empty"); goto out; }
    if ((rc = sb_engine_api(e, err))) goto out;
    char pending[PENDING_MAX];
    int waiting = 0;
    if ((rc = sb_store_pending_reports(e->store, e->integ, pending, sizeof pending, err))) goto out;
    for (int i = 0; i < nm && !rc; i++) {
        sb_buf b;
        int none = 0, wait = 0;
        sb_buf_init(&b, (size_t)512 << 20);
        rc = fetch_report(e, mkts[i], pending, &b, &none, &wait, err);
        waiting += wait;
        if (!rc && !none && !wait) {
            texts[nt] = b.data ? b.data : sb_strdup("");
            mps[nt++] = mkts[i];
            b.data = NULL;
        }
        sb_buf_free(&b);
    }
    if (!rc && waiting) {
        rc = sb_seterr(err, SB_ELATER, "products: %d listings report%s still being made by Amazon; looked at again "
                       "at the next run", waiting, waiting == 1 ? " is" : "s are");
        goto out;
    }
    /* every report ended: the next run requests new ones (a report that failed too) */
    if (rc != SB_EINTR && rc != SB_EHTTP && rc != SB_ETHROTTLED && rc != SB_ELATER && rc != SB_EAMBIG)
        sb_store_pending_reports_save(e->store, e->integ, "", NULL);
    if (!rc) rc = import_all(e, texts, mps, nt, res, err);
    if (!rc)
        sb_info("products synced integration=%s rows=%ld created=%ld linked=%ld older=%ld bad=%ld watermark=%s", e->name,
                res->rows, res->created, res->linked, res->older, res->bad, res->watermark);
out:
    if (rc == SB_ELATER) sb_info("products download waits integration=%s: %s", e->name, err);
    else if (rc) sb_error("products download failed integration=%s (products.last_updated unchanged): %s", e->name, err);
    record_run(e, res, rc && rc != SB_ELATER ? err : NULL);
    for (int i = 0; i < nt; i++) free(texts[i]);
    free(texts);
    free(mps);
    sb_settings_list_free(mkts);
    return rc;
}
