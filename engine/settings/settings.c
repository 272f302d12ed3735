/* settings.c: the settings registry and its validation (see settings.h).
 *
 * The registry below is the settings page as data. Lists and the routing grid arrive
 * as JSON (or, for lists, comma-separated text), decoded with engine/json (jansson);
 * what is stored is canonical JSON written here.
 *
 * Why one file: the settings table (every definition with its help text) and its one
 * validator are the settings page as data. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include "core/util.h"
#include "core/clock.h"
#include "json/json.h"
#include "rules/rules.h"
#include "settings/grid.h"
#include "settings/settings.h"
#include "store/lookup.h"
#include "store/settings.h"

#define STATUSES "PENDING_AVAILABILITY|PENDING|UNSHIPPED|PARTIALLY_SHIPPED|SHIPPED|CANCELLED|UNFULFILLABLE"
#define CUSTOMER_MODES "id_or_email_update_else_insert|id_or_email_keep_else_insert|" \
    "id_keep_else_selected|email_update_else_insert|email_update_else_selected|selected"

/* The settings page's words for the values of its drop-downs (shared/spec/
 * amazon-seller-settings.txt), shown beside the stored value by the dashboard and the
 * CLI; a value without an entry is shown as it is. */
static const struct { const char *setting, *value, *label; } option_labels[] = {
    {"stock.formula", "available", "Stock available (stock on hand minus open orders)"},
    {"stock.formula", "soh", "Stock on Hand (regardless of outstanding orders)"},
    {"stock.formula", "etd7", "SOH Less Open Orders within 7 days of ETD"},
    {"stock.formula", "etd30", "SOH Less Open Orders within 30 days of ETD"},
    {"orders.customer_mode", "id_or_email_update_else_insert", "If Customer ID or email exists update customer or else insert new customer"},
    {"orders.customer_mode", "id_or_email_keep_else_insert", "If Customer ID or email exists do not update or else insert new customer"},
    {"orders.customer_mode", "id_keep_else_selected", "If Customer ID exists do not update else assign to selected customer"},
    {"orders.customer_mode", "email_update_else_insert", "If email exists update customer else insert new customer"},
    {"orders.customer_mode", "email_update_else_selected", "If email exists update customer else assign to selected customer"},
    {"orders.customer_mode", "selected", "Assign to selected customer"},
    {"orders.invoice_mode", "individual", "Import Invoices Individually (an invoice date and number for every new order)"},
    {"orders.invoice_mode", "batch", "Allow batch invoices (no invoice date or number until a batch of payments)"},
    {"orders.routing.no_stock", "keep", "Keep the matched branch"},
    {"orders.routing.no_stock", "default", "Use the merchant-fulfilled branch"},
    {"integration.region", "na", "North America"},
    {"integration.region", "eu", "Europe"},
    {"integration.region", "fe", "Far East"},
};

const char *sb_settings_option_label(const char *setting, const char *value) {
    for (size_t i = 0; i < sizeof option_labels / sizeof *option_labels; i++)
        if (!strcmp(option_labels[i].setting, setting) && !strcmp(option_labels[i].value, value))
            return option_labels[i].label;
    return NULL;
}

static const sb_setting_def defs[] = {
    /* Integration: what the settings page takes for granted */
    {"integration.region", "Integration", SB_ST_ENUM, "na", "na|eu|fe", 0, 0, "Selling Partner API region (North America, Europe, Far East)"},
    {"integration.marketplaces", "Integration", SB_ST_MARKETPLACES, "[\"ATVPDKIKX0DER\"]", NULL, 0, 0, "Marketplace ids to download orders from"},
    {"integration.seller_id", "Integration", SB_ST_STRING, "", NULL, 0, 0, "Seller (merchant) id, for listings calls"},
    {"integration.timezone", "Integration", SB_ST_TZ, "UTC", NULL, 0, 0, "Time zone of the schedule's daily start and of invoice dates"},
    {"api.endpoint", "Integration", SB_ST_URL, "", NULL, 0, 0, "SP-API base URL: empty = the region's production host, 'sandbox' = Amazon's sandbox, or an https URL or loopback http URL (the simulator); receives the access token"},
    {"api.lwa_endpoint", "Integration", SB_ST_URL, "https://api.amazon.com/auth/o2/token", NULL, 0, 0, "Login with Amazon token URL; receives the client id, client secret and refresh token"},
    {"api.connect_timeout_ms", "Integration", SB_ST_INT, "10000", NULL, 100, 60000, "Connect timeout per Amazon call (ms)"},
    {"api.timeout_ms", "Integration", SB_ST_INT, "30000", NULL, 1000, 300000, "Total timeout per Amazon call (ms)"},
    {"api.max_retries", "Integration", SB_ST_INT, "5", NULL, 0, 10, "Retries of a failed Amazon call (5xx, timeout, throttling)"},
    {"api.rate_scale", "Integration", SB_ST_NUMBER, "1", NULL, 0.001, 1000000, "Multiplier on Amazon's published rate limits and on how often reports and feeds are polled (1 for Amazon; larger only for the simulator)"},
    {"rules.pack", "Integration", SB_ST_PATH, "default", NULL, 0, 0, "Rule pack folder ('default' = the built-in pack)"},
    {"rules.instructions", "Integration", SB_ST_INT, "1000000", NULL, 10000, 100000000, "Instruction budget per rule call"},
    {"rules.memory_mb", "Integration", SB_ST_INT, "32", NULL, 1, 1024, "Memory cap of the rule state (MiB)"},
    {"rules.time_ms", "Integration", SB_ST_INT, "200", NULL, 10, 10000, "Wall-clock limit per rule hook call (ms); a hook over it holds its order"},
    {"rules.load_ms", "Integration", SB_ST_INT, "500", NULL, 10, 10000, "Wall-clock limit for a rule pack's top-level code when it loads (ms)"},
    {"stock.patch_threshold", "Integration", SB_ST_INT, "20", NULL, 0, 25000, "Up to this many changed SKUs go by patchListingsItem, more by a feed"},

    /* Products */
    {"products.enabled", "Products", SB_ST_BOOL, "false", NULL, 0, 0, "Products: download products from Amazon Seller"},
    {"products.last_updated", "Products", SB_ST_DATETIME, "", NULL, 0, 0, "Last Updated: only products created after this date are downloaded"},

    /* Stock */
    {"stock.enabled", "Stock", SB_ST_BOOL, "false", NULL, 0, 0, "Stock: update stock levels to Amazon Seller"},
    {"stock.last_updated", "Stock", SB_ST_DATETIME, "", NULL, 0, 0, "Last Updated: only stock changed after this date is updated"},
    {"stock.branches", "Stock", SB_ST_BRANCH_LIST, "[]", NULL, 0, 0, "Get Stock Levels From: these branches (empty = all branches)"},
    {"stock.formula", "Stock", SB_ST_ENUM, "available", "available|soh|etd7|etd30", 0, 0, "Stock Levels To Update To Amazon: available, stock on hand, SOH less open orders within 7 or 30 days of ETD"},
    {"stock.subtract_buffer", "Stock", SB_ST_BOOL, "false", NULL, 0, 0, "Subtract Buffer Stock From Stock Levels"},

    /* Orders */
    {"orders.enabled", "Orders", SB_ST_BOOL, "true", NULL, 0, 0, "Orders: download orders from Amazon Seller"},
    {"orders.last_updated", "Orders", SB_ST_DATETIME, "", NULL, 0, 0, "Last Updated: orders updated after this time are downloaded (advanced after each successful download)"},
    {"orders.overlap_minutes", "Orders", SB_ST_INT, "720", NULL, 0, 10080, "Each download starts this many minutes before the last one ended, for orders Amazon lists late (sellers report 2 to 12 hours); costs calls only"},
    {"orders.reconcile_hours", "Orders", SB_ST_INT, "48", NULL, 0, 720, "Once a day a download looks back this many hours and reports orders the others missed (0 = never)"},
    {"orders.last_reconciled", "Orders", SB_ST_DATETIME, "", NULL, 0, 0, "When the daily look-back (orders.reconcile_hours) last ran (set by the download)"},
    {"orders.statuses", "Orders", SB_ST_ENUM_LIST, "[\"UNSHIPPED\",\"PARTIALLY_SHIPPED\"]", STATUSES, 0, 0, "Download Orders When Order Status Is"},
    {"orders.custom_statuses", "Orders", SB_ST_STRING_LIST, "[]", NULL, 0, 0, "Custom statuses to download (exact match)"},
    {"orders.auto_download", "Orders", SB_ST_BOOL, "true", NULL, 0, 0, "Auto Download Orders on the 5-to-120-minute schedule"},
    {"orders.auto_download_start", "Orders", SB_ST_TIME, "00:00", NULL, 0, 0, "When the schedule starts each day (HH:MM, integration time zone)"},
    {"orders.auto_dispatch", "Orders", SB_ST_BOOL, "false", NULL, 0, 0, "Auto Dispatch Orders on download"},
    {"orders.bom_expand", "Orders", SB_ST_BOOL, "false", NULL, 0, 0, "Automatically Load BOMs for Kits"},
    {"orders.fba_branch", "Orders", SB_ST_BRANCH, "", NULL, 0, 0, "FBA Branch for Amazon-fulfilled orders"},
    {"orders.routing.enabled", "Orders", SB_ST_BOOL, "false", NULL, 0, 0, "Route Branch by Country and Stock"},
    {"orders.routing.grid", "Orders", SB_ST_GRID, "[]", NULL, 0, 0, "Routing rows: countries, states, shipping options, branch, up to two backup branches"},
    {"orders.routing.no_stock", "Orders", SB_ST_ENUM, "keep", "keep|default", 0, 0, "When no routed branch has the stock: keep the matched branch, or use the merchant-fulfilled branch"},
    {"orders.split", "Orders", SB_ST_BOOL, "false", NULL, 0, 0, "Split orders by stock into at most three orders"},
    {"orders.distribution_branch", "Orders", SB_ST_BRANCH, "", NULL, 0, 0, "Distribution branch recorded on routed orders (optional)"},
    {"orders.customer_mode", "Orders", SB_ST_ENUM, "id_or_email_update_else_insert", CUSTOMER_MODES, 0, 0, "How To Create Or Assign A Customer From An Order"},
    {"orders.customer_selected", "Orders", SB_ST_CUSTOMER, "", NULL, 0, 0, "The selected customer (a customer ref) for the 'assign to selected customer' modes"},
    {"orders.shared_customers", "Orders", SB_ST_BOOL, "false", NULL, 0, 0, "Share customers with the other integrations of this database (off: an order's rules see and update only this integration's customers and the imported ones)"},
    {"orders.customer_group", "Orders", SB_ST_GROUP, "", NULL, 0, 0, "Assign To CRM Customer Group (optional) for new customers"},
    {"orders.invoice_mode", "Orders", SB_ST_ENUM, "individual", "individual|batch", 0, 0, "Invoice Options: import invoices individually, or allow batch invoices"},
    {"orders.gl_account", "Orders", SB_ST_GL, "", NULL, 0, 0, "Order GL Account (optional)"},

    /* Notifications: not on the settings page. Amazon's ORDER_CHANGE notifications, read
     * from the seller's own SQS queue, bring an order within seconds; the schedule above
     * stays the safety net (README, "Orders in near real time"). */
    {"notifications.enabled", "Notifications", SB_ST_BOOL, "false", NULL, 0, 0, "Read Amazon's ORDER_CHANGE notifications from the SQS queue below and download each order as it changes"},
    {"notifications.queue_url", "Notifications", SB_ST_URL, "", NULL, 0, 0, "The SQS queue's URL (a Standard queue, not FIFO), e.g. https://sqs.us-east-1.amazonaws.com/123456789012/sellerbridge; read with the aws.* credentials"},
    {"notifications.region", "Notifications", SB_ST_STRING, "us-east-1", NULL, 0, 0, "The AWS region of the queue (it may differ from the SP-API region)"},
    {"notifications.wait_seconds", "Notifications", SB_ST_INT, "20", NULL, 0, 20, "How long one read of the queue waits for a message (SQS long polling, seconds)"},
    {"notifications.visibility_seconds", "Notifications", SB_ST_INT, "120", NULL, 30, 43200, "How long a message read stays hidden from other readers while its order is downloaded (seconds)"},
    {"notifications.max_tries", "Notifications", SB_ST_INT, "5", NULL, 1, 100, "Reads of one message that fail before it is set aside for a person (and left to the queue's redrive policy)"},
    {"notifications.sweep_minutes", "Notifications", SB_ST_INT, "30", NULL, 0, 1440, "While notifications arrive, the scheduled download runs at most this often (0 = keep the schedule as it is)"},
    {"notifications.destination_id", "Notifications", SB_ST_STRING, "", NULL, 0, 0, "Amazon's destination for the queue (set by 'notifications setup')"},
    {"notifications.subscription_id", "Notifications", SB_ST_STRING, "", NULL, 0, 0, "Amazon's ORDER_CHANGE subscription (set by 'notifications setup')"},

    /* Additional Settings */
    {"additional.mf_branch", "Additional", SB_ST_BRANCH, "", NULL, 0, 0, "Download Merchant Fulfilled Orders Into This Branch"},
    {"additional.fulfillment_latency", "Additional", SB_ST_INT, "2", NULL, 1, 30, "Fulfillment Latency (handling days) sent with stock"},
    {"additional.auto_update_status", "Additional", SB_ST_BOOL, "false", NULL, 0, 0, "Auto Update Order Status: confirm dispatched orders and tracking to Amazon"},
};

/* The setting whose name is nearest to a mistyped one (edit distance at most a third of
 * its length), for "did you mean"; NULL when none is that near. */
static const char *nearest_name(const char *name) {
    const char *best = NULL;
    size_t n = strlen(name), bestd = n / 3 + 1;
    if (n > 64) return NULL;
    for (size_t k = 0; k < sizeof defs / sizeof *defs; k++) {
        const char *c = defs[k].name;
        size_t m = strlen(c), row[65];
        if (m > 64) continue;
        for (size_t j = 0; j <= m; j++) row[j] = j;
        for (size_t i = 1; i <= n; i++) {
            size_t diag = row[0];
            row[0] = i;
            for (size_t j = 1; j <= m; j++) {
                size_t up = row[j], v = diag + (name[i - 1] != c[j - 1]);
                if (up + 1 < v) v = up + 1;
                if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
                diag = up;
                row[j] = v;
            }
        }
        if (row[m] < bestd) { bestd = row[m]; best = c; }
    }
    return best;
}

static int not_a_setting(const char *name, char *err) {
    const char *near = nearest_name(name);
    if (near) return sb_seterr(err, SB_EINVAL, "'%s' is not a setting; did you mean %s? (see 'sellerbridge settings list')",
                               name, near);
    return sb_seterr(err, SB_EINVAL, "'%s' is not a setting (see 'sellerbridge settings list')", name);
}


static const char *const marketplaces[] = {
    "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8", "A2Q3Y263D00KWC",
    "A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4",
    "A1RKKUPIHCS9HS", "A1805IZSGTT6HS", "A2NODRKZP88ZB9", "A1C3SOZRARQ6R3",
    "AMEN7PMS3EDWL", "A28R8C7NBKEWEA", "A33AVAJ2PDY3EV", "A2VIGQ35RCS4UG",
    "A17E79C6D8DWNP", "ARBP9OOSHTCHU", "AE08WJ6YKNBMC", "A21TJRUUN4KGV",
    "A1VC38T7YXB528", "A39IBJ37TRP1C6", "A19VAU5U5O7RUS", NULL
};

const sb_setting_def *sb_settings_defs(int *n) {
    *n = (int)(sizeof defs / sizeof *defs);
    return defs;
}

const sb_setting_def *sb_settings_find(const char *name) {
    for (size_t i = 0; i < sizeof defs / sizeof *defs; i++)
        if (!strcmp(defs[i].name, name)) return &defs[i];
    return NULL;
}

const char *sb_settings_type_name(sb_setting_type t) {
    static const char *names[] = {"bool", "integer", "number", "choice", "text", "date-time",
        "time", "branch", "branch list", "customer", "customer group", "GL account",
        "choice list", "text list", "routing grid", "URL", "time zone", "marketplace list", "path"};
    return names[t];
}

char sb_settings_rule_type(sb_setting_type t) {
    switch (t) {
    case SB_ST_BOOL: return 'b';
    case SB_ST_INT: return 'i';
    case SB_ST_BRANCH_LIST: case SB_ST_ENUM_LIST: case SB_ST_STRING_LIST:
    case SB_ST_GRID: case SB_ST_MARKETPLACES: return 'j';
    default: return 's';
    }
}

static void list_allowed(const char *allowed, char *out, size_t outlen) {
    size_t j = 0;
    for (const char *p = allowed; *p && j + 3 < outlen; p++) {
        if (*p == '|') { out[j++] = ','; out[j++] = ' '; }
        else out[j++] = *p;
    }
    out[j] = '\0';
}

void sb_settings_describe_allowed(const sb_setting_def *d, char *out, size_t outlen) {
    char l[400];
    switch (d->type) {
    case SB_ST_BOOL: snprintf(out, outlen, "true or false"); break;
    case SB_ST_INT: snprintf(out, outlen, "a whole number from %.0f to %.0f", d->min, d->max); break;
    case SB_ST_NUMBER: snprintf(out, outlen, "a number from %g to %g", d->min, d->max); break;
    case SB_ST_ENUM: list_allowed(d->allowed, l, sizeof l); snprintf(out, outlen, "one of %s", l); break;
    case SB_ST_ENUM_LIST: list_allowed(d->allowed, l, sizeof l); snprintf(out, outlen, "a list (JSON array or comma-separated) of %s", l); break;
    case SB_ST_DATETIME: snprintf(out, outlen, "a date YYYY-MM-DD or date-time YYYY-MM-DDTHH:MM:SSZ, or empty"); break;
    case SB_ST_TIME: snprintf(out, outlen, "a time of day HH:MM from 00:00 to 23:59"); break;
    case SB_ST_BRANCH: snprintf(out, outlen, "the name of an existing branch"); break;
    case SB_ST_BRANCH_LIST: snprintf(out, outlen, "a list of existing branch names (empty = all)"); break;
    case SB_ST_CUSTOMER: snprintf(out, outlen, "the ref of an existing customer"); break;
    case SB_ST_GROUP: snprintf(out, outlen, "the name of an existing customer group"); break;
    case SB_ST_GL: snprintf(out, outlen, "the code of an existing GL account"); break;
    case SB_ST_STRING_LIST: snprintf(out, outlen, "a list of texts (JSON array or comma-separated)"); break;
    case SB_ST_GRID: snprintf(out, outlen, "a JSON array of rows {\"countries\":[ISO codes], \"states\":[US/AU/CA codes], \"shipping\":[Amazon service levels or programs], \"branch\":\"..\", \"backups\":[at most 2]}, each naming at least one condition or \"any\": true"); break;
    case SB_ST_URL: snprintf(out, outlen, "an https URL, an http URL to 127.0.0.1, localhost or [::1], 'sandbox', or empty"); break;
    case SB_ST_TZ: snprintf(out, outlen, "a time zone name such as UTC, Australia/Sydney or America/New_York"); break;
    case SB_ST_MARKETPLACES: snprintf(out, outlen, "a list of Amazon marketplace ids such as ATVPDKIKX0DER"); break;
    case SB_ST_PATH: snprintf(out, outlen, "'default' (the built-in pack) or the folder of a rule pack that loads"); break;
    default: snprintf(out, outlen, "text"); break;
    }
}

/* An AWS region name: two letters, words, a number (us-east-1, us-gov-west-1,
 * ap-southeast-2). */
static int aws_region(const char *v) {
    size_t n = strlen(v), parts = 0, i = 0;
    if (n < 9 || n > 32 || !islower((unsigned char)v[0]) || !islower((unsigned char)v[1]) || v[2] != '-') return 0;
    for (i = 0; i < n; i++) {
        if (v[i] == '-') parts++;
        else if (!islower((unsigned char)v[i]) && !isdigit((unsigned char)v[i])) return 0;
    }
    return parts >= 2 && isdigit((unsigned char)v[n - 1]) && v[n - 2] == '-';
}

/* ---- JSON in ------------------------------------------------------------------- */

/* Reads a list from JSON array text or comma-separated text into a NULL-terminated
 * array of trimmed, non-empty strings. */
static char **parse_list(const char *in, char *msg, size_t msglen) {
    size_t cap = 8, n = 0;
    char **out = calloc(cap, sizeof *out);
    if (!out) return NULL;
    const char *p = in;
    while (isspace((unsigned char)*p)) p++;
    if (*p == '{') { snprintf(msg, msglen, "a JSON object is not a list: give a JSON array or comma-separated values"); free(out); return NULL; }
    if (*p == '[') {
        sb_json *j;
        char e[SB_ERRLEN];
        if (sb_json_parse(in, strlen(in), &j, e)) { snprintf(msg, msglen, "not valid JSON (%.200s)", e); free(out); return NULL; }
        size_t len = sb_json_len(j, SB_JSON_ROOT, NULL);
        for (size_t i = 0; i < len; i++) {
            const char *v = sb_json_str(j, sb_json_at(j, SB_JSON_ROOT, i), NULL);
            if (!v) {
                snprintf(msg, msglen, "item %zu is not a text", i + 1);
                sb_json_free(j);
                sb_settings_list_free(out);
                return NULL;
            }
            if (n + 2 > cap) { cap *= 2; out = realloc(out, cap * sizeof *out); }
            out[n++] = strdup(v);
            out[n] = NULL;
        }
        sb_json_free(j);
        return out;
    }
    char *copy = strdup(in), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok)) tok++;
        char *e = tok + strlen(tok);
        while (e > tok && isspace((unsigned char)e[-1])) *--e = '\0';
        if (!*tok) continue;
        if (n + 2 > cap) { cap *= 2; out = realloc(out, cap * sizeof *out); }
        out[n++] = strdup(tok);
        out[n] = NULL;
    }
    free(copy);
    return out;
}

char **sb_settings_list(const char *json) {
    char msg[128];
    return parse_list(json && *json ? json : "[]", msg, sizeof msg);
}

void sb_settings_list_free(char **list) {
    if (!list) return;
    for (char **p = list; *p; p++) free(*p);
    free(list);
}

static int in_allowed(const char *allowed, const char *v) {
    size_t n = strlen(v);
    for (const char *p = allowed; *p;) {
        const char *e = strchr(p, '|');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !strncmp(p, v, n)) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static int is_marketplace(const char *v) {
    for (int i = 0; marketplaces[i]; i++)
        if (!strcmp(marketplaces[i], v)) return 1;
    return 0;
}

static int valid_tz(const char *v) {
    if (!strcmp(v, "UTC")) return 1;
    if (!*v || strstr(v, "..") || v[0] == '/') return 0;
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p)) return 0;
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", v);
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* ---- the endpoints that receive the credentials -------------------------------- */

/* Splits an http(s) URL with libcurl's parser (so "http://127.0.0.1@evil.example/" is
 * evil.example): https or not, loopback host or not, and the host (lower case). */
static int url_parts(const char *url, int *https, int *loopback, char *host, size_t hostlen) {
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL;
    int rc = -1;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) goto out;
    if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || !*h) goto out;
    if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) goto out;
    for (char *p = h; *p; p++) *p = (char)tolower((unsigned char)*p);
    *https = !strcasecmp(scheme, "https");
    *loopback = !strcmp(h, "127.0.0.1") || !strcmp(h, "localhost") || !strcmp(h, "[::1]");
    if (host) snprintf(host, hostlen, "%s", h);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(h);
    curl_url_cleanup(u);
    return rc;
}

int sb_settings_url_loopback(const char *url) {
    int https = 0, loopback = 0;
    return url && !url_parts(url, &https, &loopback, NULL, 0) && loopback;
}

int sb_settings_sends_credentials(const char *name) {
    return name && (!strcmp(name, "api.endpoint") || !strcmp(name, "api.lwa_endpoint"));
}

/* Amazon's own hosts: the Selling Partner API and Login with Amazon, by https only. */
static int amazon_host(const char *host) {
    static const char *const suffixes[] = {".amazon.com", ".amazon.co.uk", ".amazon.co.jp", NULL};
    size_t n = strlen(host);
    for (int i = 0; suffixes[i]; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && !strcmp(host + n - k, suffixes[i])) return 1;
    }
    return 0;
}

int sb_settings_amazon_endpoint(const char *value, char *host, size_t hostlen) {
    int https = 0, loopback = 0;
    char h[256] = "";
    if (host && hostlen) host[0] = '\0';
    if (!value || !*value || !strcmp(value, "sandbox")) return 1;
    if (url_parts(value, &https, &loopback, h, sizeof h)) return 0;
    if (host) snprintf(host, hostlen, "%s", h);
    return https && amazon_host(h);
}

/* ---- validation ---------------------------------------------------------------- */

#define REFUSE(...) do { char m_[SB_ERRLEN]; snprintf(m_, sizeof m_, __VA_ARGS__); \
    rc = sb_seterr(err, SB_EINVAL, "%s: '%s' is not allowed: %s (allowed: %s)", d->name, value, m_, allowed); \
    goto out; } while (0)

static int validate(sb_store *s, int64_t integ, const sb_setting_def *d, const char *value, int by_engine,
                    char **canon, char *err);

int sb_settings_validate(sb_store *s, int64_t integ, const sb_setting_def *d,
                         const char *value, char **canon, char *err) {
    return validate(s, integ, d, value, 0, canon, err);
}

/* by_engine: a watermark the engine moves (from the data's or Amazon's clock, which may
 * be ahead of this machine's): not refused for being in the future. */
static int validate(sb_store *s, int64_t integ, const sb_setting_def *d, const char *value, int by_engine,
                    char **canon, char *err) {
    char allowed[600], msg[SB_ERRLEN];
    int rc = 0, found = 0;
    char **list = NULL;
    sb_buf b;
    sb_buf_init(&b, 1 << 20);
    sb_settings_describe_allowed(d, allowed, sizeof allowed);
    if (!value) value = "";
    switch (d->type) {
    case SB_ST_BOOL:
        if (!strcasecmp(value, "true") || !strcmp(value, "1") || !strcasecmp(value, "yes") || !strcasecmp(value, "on")) sb_buf_printf(&b, "true");
        else if (!strcasecmp(value, "false") || !strcmp(value, "0") || !strcasecmp(value, "no") || !strcasecmp(value, "off")) sb_buf_printf(&b, "false");
        else REFUSE("not a yes/no value");
        break;
    case SB_ST_INT: {
        char *end;
        long v = strtol(value, &end, 10);
        if (!*value || *end) REFUSE("not a whole number");
        if (v < d->min || v > d->max) REFUSE("out of range");
        sb_buf_printf(&b, "%ld", v);
        break;
    }
    case SB_ST_NUMBER: {
        char *end;
        double v = strtod(value, &end);
        if (!*value || *end || !isfinite(v)) REFUSE("not a number");
        if (v < d->min || v > d->max) REFUSE("out of range");
        sb_buf_printf(&b, "%g", v);
        break;
    }
    case SB_ST_ENUM:
        if (!in_allowed(d->allowed, value)) REFUSE("not one of the choices");
        sb_buf_printf(&b, "%s", value);
        break;
    case SB_ST_STRING:
        if (!strcmp(d->name, "notifications.region") && !aws_region(value))
            REFUSE("not an AWS region (such as us-east-1, eu-west-1 or ap-southeast-2)");
        sb_buf_printf(&b, "%s", value);
        break;
    case SB_ST_PATH: {
        /* the pack is loaded now, so a wrong folder is refused here and not at the next
         * sync ("the watermark stays at ?") */
        if (!*value) value = "default";
        if (strcmp(value, "default")) {
            struct stat sb;
            if (stat(value, &sb) != 0) REFUSE("no such folder");
            if (!S_ISDIR(sb.st_mode)) REFUSE("not a folder (a rule pack is a folder of hook files)");
            char report[SB_ERRLEN];
            sb_rules *r = sb_rules_load_ex(value, NULL, report, sizeof report);
            if (!r) {
                report[strcspn(report, "\n")] = '\0';
                REFUSE("the pack does not load: %.300s", report);
            }
            sb_rules_free(r);
        }
        sb_buf_printf(&b, "%s", value);
        break;
    }
    case SB_ST_DATETIME: {
        if (!*value) break;
        int64_t t = sb_time_parse(value);
        char ts[32];
        if (t < 0) REFUSE("not a valid date");
        /* a start in the future downloads or sends nothing until then; an hour of slack
         * for the watermarks the engine writes from Amazon's clock */
        int64_t now = sb_now();
        if (!by_engine && t > now + SB_SETTINGS_FUTURE_SLACK_S) {
            char nows[32];
            REFUSE("it is in the future (now is %s); nothing would be %s until then",
                   sb_time_format(now, nows, sizeof nows),
                   !strncmp(d->name, "stock.", 6) ? "sent" : "downloaded");
        }
        sb_buf_printf(&b, "%s", sb_time_format(t, ts, sizeof ts));
        break;
    }
    case SB_ST_TIME: {
        int h, m, n = 0;
        if (sscanf(value, "%2d:%2d%n", &h, &m, &n) != 2 || value[n] || h < 0 || h > 23 || m < 0 || m > 59)
            REFUSE("not a time of day");
        sb_buf_printf(&b, "%02d:%02d", h, m);
        break;
    }
    case SB_ST_BRANCH:
        if (!*value) break;
        if ((found = sb_store_has_branch(s, value, err)) < 0) { rc = found; goto out; }
        if (!found) {
            char names[400];
            sb_store_branch_names(s, names, sizeof names);
            rc = sb_seterr(err, SB_EINVAL, "%s: branch '%s' does not exist (branches: %s)", d->name, value, names);
            goto out;
        }
        sb_buf_printf(&b, "%s", value);
        break;
    case SB_ST_CUSTOMER:
        if (!*value) break;
        if ((found = sb_store_has_customer_ref(s, integ, value, err)) < 0) { rc = found; goto out; }
        if (!found) REFUSE("no customer of this integration has this ref");
        sb_buf_printf(&b, "%s", value);
        break;
    case SB_ST_GROUP:
        if (!*value) break;
        if ((found = sb_store_has_group(s, value, err)) < 0) { rc = found; goto out; }
        if (!found) REFUSE("no customer group has this name");
        sb_buf_printf(&b, "%s", value);
        break;
    case SB_ST_GL:
        if (!*value) break;
        if ((found = sb_store_has_gl(s, value, err)) < 0) { rc = found; goto out; }
        if (!found) REFUSE("no GL account has this code");
        sb_buf_printf(&b, "%s", value);
        break;
    case SB_ST_URL: {
        if (!strcmp(value, "sandbox") && !strcmp(d->name, "notifications.queue_url"))
            REFUSE("'sandbox' is for api.endpoint; give the queue's URL");
        if (!*value || !strcmp(value, "sandbox")) { sb_buf_printf(&b, "%s", value); break; }
        int https = 0, loopback = 0;
        if (url_parts(value, &https, &loopback, NULL, 0)) REFUSE("not an http(s) URL");
        if (!https && !loopback)
            REFUSE("plain http would send the Amazon credentials unencrypted; use https, or http only to "
                   "127.0.0.1, localhost or [::1] (the simulator)");
        sb_buf_printf(&b, "%s", value);
        break;
    }
    case SB_ST_TZ:
        if (!valid_tz(value)) REFUSE("unknown time zone");
        sb_buf_printf(&b, "%s", value);
        break;
    case SB_ST_GRID:
        /* the reason first and whole; the grid's text is the caller's, not repeated */
        char *fba = NULL;
        if (sb_settings_get(s, integ, "orders.fba_branch", &fba, NULL, NULL)) fba = NULL;
        int grc = sb_grid_check(s, *value ? value : "[]", fba, &b, msg, sizeof msg);
        free(fba);
        if (grc) {
            rc = sb_seterr(err, SB_EINVAL, "%s: %s; nothing was saved", d->name, msg);
            goto out;
        }
        break;
    case SB_ST_BRANCH_LIST: case SB_ST_ENUM_LIST: case SB_ST_STRING_LIST: case SB_ST_MARKETPLACES: {
        if (!(list = parse_list(value, msg, sizeof msg))) REFUSE("%s", msg);
        sb_jw w;
        sb_jw_init(&w, &b);
        sb_jw_arr(&w);
        for (int i = 0; list[i]; i++) {
            const char *v = list[i];
            if (d->type == SB_ST_BRANCH_LIST && (found = sb_store_has_branch(s, v, err)) < 0) { rc = found; goto out; }
            if (d->type == SB_ST_BRANCH_LIST && !found) REFUSE("branch '%s' does not exist", v);
            if (d->type == SB_ST_ENUM_LIST && !in_allowed(d->allowed, v)) REFUSE("'%s' is not one of the choices", v);
            if (d->type == SB_ST_MARKETPLACES && !is_marketplace(v)) REFUSE("'%s' is not an Amazon marketplace id", v);
            for (int j = 0; j < i; j++)
                if (!strcmp(list[j], v)) REFUSE("'%s' is listed twice", v);
            sb_jw_str(&w, v);
        }
        sb_jw_end_arr(&w);
        if (d->type == SB_ST_MARKETPLACES && !list[0]) REFUSE("at least one marketplace is needed");
        if (!strcmp(d->name, "orders.statuses") && !list[0])
            REFUSE("an empty list downloads no order; name at least one status");
        break;
    }
    }
    if (!b.data) sb_buf_append(&b, "", 0);
out:
    sb_settings_list_free(list);
    if (rc) { sb_buf_free(&b); *canon = NULL; }
    else *canon = b.data;
    return rc;
}
#undef REFUSE

/* Rules that tie two settings together, checked against the value about to be stored. */
static int cross_check(sb_store *s, int64_t integ, const char *name, const char *canon, char *err) {
    char *other = NULL;
    int rc = 0;
    if (!strcmp(name, "orders.fba_branch") || !strcmp(name, "additional.mf_branch")) {
        const char *on = !strcmp(name, "orders.fba_branch") ? "additional.mf_branch" : "orders.fba_branch";
        if (*canon && !sb_settings_get(s, integ, on, &other, NULL, NULL) && !strcmp(other, canon))
            rc = sb_seterr(err, SB_EINVAL, "%s: '%s' is already the %s (%s); FBA and merchant-fulfilled "
                           "orders need different branches", name, canon,
                           !strcmp(on, "orders.fba_branch") ? "FBA branch" : "merchant-fulfilled branch", on);
        if (!rc && *canon && !strcmp(name, "orders.fba_branch")) {
            /* the FBA branch may not already be a stock source or a routing target */
            char *v = NULL;
            if (!sb_settings_get(s, integ, "stock.branches", &v, NULL, NULL)) {
                char **l = sb_settings_list(v);
                for (int i = 0; l && l[i] && !rc; i++)
                    if (!strcmp(l[i], canon))
                        rc = sb_seterr(err, SB_EINVAL, "orders.fba_branch: '%s' is not allowed: it is in stock.branches "
                                       "(stock sent to Amazon); remove it there first (allowed: a branch that is no stock "
                                       "source and no routing target)", canon);
                sb_settings_list_free(l);
            }
            free(v);
            v = NULL;
            if (!rc && !sb_settings_get(s, integ, "orders.routing.grid", &v, NULL, NULL)) {
                sb_buf g;
                char msg[SB_ERRLEN];
                sb_buf_init(&g, 1 << 20);
                if (sb_grid_check(s, v, canon, &g, msg, sizeof msg) && strstr(msg, "FBA branch"))
                    rc = sb_seterr(err, SB_EINVAL, "orders.fba_branch: '%s' is not allowed: orders.routing.grid routes "
                                   "merchant-fulfilled orders there (%s); change the grid first (allowed: a branch that is "
                                   "no stock source and no routing target)", canon, msg);
                sb_buf_free(&g);
            }
            free(v);
        }
    } else if (!strcmp(name, "stock.branches") &&
               !sb_settings_get(s, integ, "orders.fba_branch", &other, NULL, NULL) && *other) {
        /* Amazon holds the FBA stock and counts it itself: sending it as ours oversells */
        char **l = sb_settings_list(canon);
        for (int i = 0; l && l[i] && !rc; i++)
            if (!strcmp(l[i], other))
                rc = sb_seterr(err, SB_EINVAL, "stock.branches: '%s' is not allowed: it is the FBA branch "
                               "(orders.fba_branch); Amazon holds and counts that stock itself (allowed: the "
                               "merchant branches, or empty for all of them)", other);
        sb_settings_list_free(l);
    } else if (!strcmp(name, "orders.customer_mode") && strstr(canon, "selected")) {
        if (!sb_settings_get(s, integ, "orders.customer_selected", &other, NULL, NULL) && !*other)
            rc = sb_seterr(err, SB_EINVAL, "orders.customer_mode: '%s' assigns orders to the selected "
                           "customer, but orders.customer_selected is not set; set it first", canon);
    } else if (!strcmp(name, "orders.customer_selected") && !*canon) {
        if (!sb_settings_get(s, integ, "orders.customer_mode", &other, NULL, NULL) && strstr(other, "selected"))
            rc = sb_seterr(err, SB_EINVAL, "orders.customer_selected: cannot be emptied while "
                           "orders.customer_mode is '%s'", other);
    }
    free(other);
    return rc;
}

static int set_value(sb_store *s, int64_t integ, const char *name, const char *value, int by_engine, char *err);

int sb_settings_set(sb_store *s, int64_t integ, const char *name, const char *value, char *err) {
    return set_value(s, integ, name, value, 0, err);
}

int sb_settings_set_watermark(sb_store *s, int64_t integ, const char *name, const char *value, char *err) {
    return set_value(s, integ, name, value, 1, err);
}

static int set_value(sb_store *s, int64_t integ, const char *name, const char *value, int by_engine, char *err) {
    const sb_setting_def *d = sb_settings_find(name);
    if (!d) return not_a_setting(name, err);
    char *canon = NULL;
    int rc = validate(s, integ, d, value, by_engine, &canon, err);
    if (rc) return rc;
    if ((rc = cross_check(s, integ, name, canon, err))) goto out;
    rc = sb_store_setting_put(s, integ, name, canon, err);
out:
    free(canon);
    return rc;
}

int sb_settings_unset(sb_store *s, int64_t integ, const char *name, char *err) {
    const sb_setting_def *d = sb_settings_find(name);
    if (!d) return not_a_setting(name, err);
    int rc = cross_check(s, integ, name, d->def, err);
    if (rc) return rc;
    return sb_store_setting_delete(s, integ, name, err);
}

int sb_settings_get(sb_store *s, int64_t integ, const char *name, char **value,
                    int *is_set, char *err) {
    const sb_setting_def *d = sb_settings_find(name);
    if (!d) return not_a_setting(name, err);
    char *v;
    *value = NULL;
    int rc = sb_store_setting_get(s, integ, name, &v, err);
    if (rc) return rc;
    if (is_set) *is_set = v != NULL;
    if (!v && !(v = strdup(d->def))) return sb_seterr(err, SB_ENOMEM, "%s: out of memory", name);
    *value = v;
    return 0;
}

int sb_settings_load(sb_store *s, int64_t integ, sb_settings *out, char *err) {
    int n, rc = 0;
    const sb_setting_def *all = sb_settings_defs(&n);
    memset(out, 0, sizeof *out);
    out->n = n;
    out->defs = calloc((size_t)n, sizeof *out->defs);
    out->values = calloc((size_t)n, sizeof *out->values);
    out->is_set = calloc((size_t)n, sizeof *out->is_set);
    if (!out->defs || !out->values || !out->is_set) { sb_settings_free(out); return SB_ENOMEM; }
    for (int i = 0; i < n && !rc; i++) {
        out->defs[i] = &all[i];
        rc = sb_settings_get(s, integ, all[i].name, &out->values[i], &out->is_set[i], err);
    }
    if (rc) sb_settings_free(out);
    return rc;
}

void sb_settings_free(sb_settings *st) {
    if (st->values)
        for (int i = 0; i < st->n; i++) free(st->values[i]);
    free(st->values);
    free(st->defs);
    free(st->is_set);
    memset(st, 0, sizeof *st);
}

const char *sb_settings_str(const sb_settings *st, const char *name) {
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->defs[i]->name, name)) return st->values[i];
    return "";
}

int sb_settings_bool(const sb_settings *st, const char *name) { return !strcmp(sb_settings_str(st, name), "true"); }
long sb_settings_int(const sb_settings *st, const char *name) { return strtol(sb_settings_str(st, name), NULL, 10); }
double sb_settings_num(const sb_settings *st, const char *name) { return strtod(sb_settings_str(st, name), NULL); }
