/* spapi.c: the SP-API client's transport: libcurl handles (a shared connection cache,
 * keep-alive, TLS verification, timeouts), the LWA token, the per-operation token
 * buckets and the retry policy. One idea: every request goes through sp_call(), which
 * takes a bucket token, attaches the access token, and classifies the outcome as done,
 * retry-after-backoff (network, 5xx, invalid JSON), wait-for-bucket (429) or refresh the
 * token once (403 Unauthorized); everything else becomes one error line. A request marked
 * once (not idempotent) never takes the retry-after-backoff way once it may have reached
 * Amazon: that outcome is SB_EAMBIG.
 *
 * Why one file: handles, the token, the buckets and the retry policy all serve the one
 * sp_call path and share its state. */
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <openssl/crypto.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/scrub.h"
#include "json/json.h"
#include "spapi/spapi_int.h"

#define TOKEN_EARLY_MS 60000
#define MAX_POOL 8

static const struct { const char *name; double rate, burst; } op_table[SB_OP_COUNT] = {
    [SB_OP_LWA_TOKEN] = {"lwaToken", 0, 0},
    [SB_OP_SEARCH_ORDERS] = {"searchOrders", 0.0056, 20},
    [SB_OP_GET_ORDER] = {"getOrder", 0.5, 30},
    [SB_OP_CONFIRM_SHIPMENT] = {"confirmShipment", 2, 10},
    [SB_OP_CREATE_FEED_DOCUMENT] = {"createFeedDocument", 0.5, 15},
    [SB_OP_UPLOAD_FEED_DOCUMENT] = {"uploadFeedDocument", 0, 0},
    [SB_OP_CREATE_FEED] = {"createFeed", 0.0083, 15},
    [SB_OP_GET_FEED] = {"getFeed", 2, 15},
    [SB_OP_GET_FEED_DOCUMENT] = {"getFeedDocument", 0.0222, 10},
    [SB_OP_CREATE_REPORT] = {"createReport", 0.0167, 15},
    [SB_OP_GET_REPORT] = {"getReport", 2, 15},
    [SB_OP_GET_REPORT_DOCUMENT] = {"getReportDocument", 0.0167, 15},
    [SB_OP_DOWNLOAD_DOCUMENT] = {"downloadDocument", 0, 0},
    [SB_OP_SEARCH_LISTINGS] = {"searchListingsItems", 5, 5},
    [SB_OP_PATCH_LISTINGS] = {"patchListingsItem", 5, 5},
    [SB_OP_GET_FEEDS] = {"getFeeds", 0.0222, 10},
    [SB_OP_GET_REPORTS] = {"getReports", 0.0222, 10},
    [SB_OP_CREATE_DESTINATION] = {"createDestination", 1, 5},
    [SB_OP_GET_DESTINATIONS] = {"getDestinations", 1, 5},
    [SB_OP_CREATE_SUBSCRIPTION] = {"createSubscription", 1, 5},
    [SB_OP_GET_SUBSCRIPTION] = {"getSubscription", 1, 5},
    [SB_OP_LWA_GRANTLESS] = {"lwaGrantlessToken", 0, 0},
};

/* The grantless token's scope (Notifications API destinations). */
#define GRANTLESS_SCOPE "sellingpartnerapi::notifications"

typedef struct bucket {
    double rate, burst, tokens;   /* rate already scaled; rate 0 = no bucket */
    int64_t last_ms;
    int64_t retry_at_ms;          /* after its SB_ELATER: when it grants the refused call */
} bucket;

struct sb_spapi {
    char *endpoint, *lwa_endpoint, *client_id, *client_secret, *refresh_token, *ca_file;
    long connect_timeout_ms, timeout_ms, retry_base_ms, max_body;
    int max_retries;
    double rate_scale;
    char user_agent[128];

    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_mu;
    CURL *pool[MAX_POOL];
    int npool;

    pthread_mutex_t tok_mu;       /* held across a refresh: one refresh at a time */
    char token[4096];
    int64_t token_exp_ms;
    long refreshes;
    /* the grantless token (client_credentials), under tok_mu too */
    char gtoken[4096];
    int64_t gtoken_exp_ms;
    long grefreshes;

    pthread_mutex_t mu;           /* buckets, stats, rng, clock */
    bucket buckets[SB_OP_COUNT];
    long max_wait_ms;             /* longer rate-limit waits are SB_ELATER */
    volatile int *stop;           /* abandons a GET in flight */
    int64_t skew_ms;              /* Amazon's clock minus ours, once have_skew */
    int have_skew;
    sb_spapi_stats stats[SB_OP_COUNT];
    uint64_t rng;
};

const char *sb_spapi_op_name(int op) {
    return op >= 0 && op < SB_OP_COUNT ? op_table[op].name : "?";
}

const char *sp_endpoint(sb_spapi *s) { return s->endpoint; }
long sp_max_body(sb_spapi *s) { return s->max_body; }

/* ---- curl plumbing ---- */

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *ud) {
    sb_spapi *s = ud;
    pthread_mutex_lock(&s->share_mu[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud) {
    sb_spapi *s = ud;
    pthread_mutex_unlock(&s->share_mu[d]);
}

static CURL *pool_get(sb_spapi *s) {
    CURL *h = NULL;
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool) h = s->pool[--s->npool];
    pthread_mutex_unlock(&s->pool_mu);
    if (h) curl_easy_reset(h);
    else h = curl_easy_init();
    return h;
}

static void pool_put(sb_spapi *s, CURL *h) {
    if (!h) return;
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool < MAX_POOL) { s->pool[s->npool++] = h; h = NULL; }
    pthread_mutex_unlock(&s->pool_mu);
    if (h) curl_easy_cleanup(h);
}

static char *dup_trim_slash(const char *u) {
    char *d = sb_strdup(u);
    if (d) {
        size_t n = strlen(d);
        while (n && d[n - 1] == '/') d[--n] = '\0';
    }
    return d;
}

static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

sb_spapi *sb_spapi_new(const sb_spapi_config *c, char *err) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (!c || !c->endpoint || !*c->endpoint) { sb_seterr(err, SB_EINVAL, "spapi: endpoint is not set"); return NULL; }
    if (!c->lwa_endpoint || !*c->lwa_endpoint) { sb_seterr(err, SB_EINVAL, "spapi: LWA token endpoint is not set"); return NULL; }
    if (!c->client_id || !*c->client_id) { sb_seterr(err, SB_EINVAL, "spapi: LWA client id is not set"); return NULL; }
    if (!c->client_secret || !*c->client_secret) { sb_seterr(err, SB_EINVAL, "spapi: LWA client secret is not set"); return NULL; }
    if (!c->refresh_token || !*c->refresh_token) { sb_seterr(err, SB_EINVAL, "spapi: LWA refresh token is not set"); return NULL; }
    if (strncmp(c->endpoint, "http://", 7) && strncmp(c->endpoint, "https://", 8)) {
        sb_seterr(err, SB_EINVAL, "spapi: endpoint '%s' is not an http(s) URL", c->endpoint);
        return NULL;
    }
    pthread_once(&once, global_init);
    sb_spapi *s = calloc(1, sizeof *s);
    if (!s) { sb_seterr(err, SB_ENOMEM, "spapi: out of memory"); return NULL; }
    s->endpoint = dup_trim_slash(c->endpoint);
    s->lwa_endpoint = sb_strdup(c->lwa_endpoint);
    s->client_id = sb_strdup(c->client_id);
    s->client_secret = sb_strdup(c->client_secret);
    s->refresh_token = sb_strdup(c->refresh_token);
    s->ca_file = sb_strdup(c->ca_file);
    s->connect_timeout_ms = c->connect_timeout_ms > 0 ? c->connect_timeout_ms : 10000;
    s->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 60000;
    s->retry_base_ms = c->retry_base_ms > 0 ? c->retry_base_ms : 500;
    s->max_body = c->max_body_bytes > 0 ? c->max_body_bytes : (256L << 20);
    s->max_retries = c->max_retries == 0 ? 4 : c->max_retries < 0 ? 0 : c->max_retries;
    s->rate_scale = c->rate_scale > 0 ? c->rate_scale : 1.0;
    s->max_wait_ms = c->max_wait_ms > 0 ? c->max_wait_ms : 0;
    s->stop = c->stop;
    snprintf(s->user_agent, sizeof s->user_agent, "sellerbridge/%s (Language=C; Platform=Linux)", SB_VERSION);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_mutex_init(&s->tok_mu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&s->share_mu[i], NULL);
    int64_t now = sb_now_ms();
    for (int i = 0; i < SB_OP_COUNT; i++) {
        s->buckets[i].rate = op_table[i].rate * s->rate_scale;
        s->buckets[i].burst = op_table[i].burst;
        s->buckets[i].tokens = op_table[i].burst;
        s->buckets[i].last_ms = now;
        s->stats[i].op = op_table[i].name;
        s->stats[i].rate = s->buckets[i].rate;
    }
    s->rng = (uint64_t)now * 6364136223846793005ULL + (uint64_t)(uintptr_t)s;
    s->share = curl_share_init();
    if (!s->endpoint || !s->lwa_endpoint || !s->client_id || !s->client_secret || !s->refresh_token || !s->share) {
        sb_seterr(err, SB_ENOMEM, "spapi: out of memory");
        sb_spapi_free(s);
        return NULL;
    }
    sb_scrub_add(s->client_secret);
    sb_scrub_add(s->refresh_token);
    curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    return s;
}

void sb_spapi_free(sb_spapi *s) {
    if (!s) return;
    for (int i = 0; i < s->npool; i++) curl_easy_cleanup(s->pool[i]);
    if (s->share) curl_share_cleanup(s->share);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_mutex_destroy(&s->tok_mu);
    pthread_mutex_destroy(&s->mu);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&s->share_mu[i]);
    if (s->share) {   /* added by sb_spapi_new once the share was made */
        sb_scrub_remove(s->client_secret);
        sb_scrub_remove(s->refresh_token);
    }
    if (s->token[0]) sb_scrub_remove(s->token);
    if (s->gtoken[0]) sb_scrub_remove(s->gtoken);
    /* wipe secrets before freeing */
    if (s->client_secret) memset(s->client_secret, 0, strlen(s->client_secret));
    if (s->refresh_token) memset(s->refresh_token, 0, strlen(s->refresh_token));
    memset(s->token, 0, sizeof s->token);
    memset(s->gtoken, 0, sizeof s->gtoken);
    free(s->endpoint); free(s->lwa_endpoint); free(s->client_id); free(s->client_secret);
    free(s->refresh_token); free(s->ca_file);
    free(s);
}

/* ---- secrets ---- */

/* Replaces this client's secrets in text (in place) by "****", raw or encoded
 * (core/scrub.h), and every other secret the process knows. */
static void scrub(sb_spapi *s, char *text) {
    if (!text) return;
    sb_scrub_text(text, s->client_secret);
    sb_scrub_text(text, s->refresh_token);
    sb_scrub_text(text, s->token);
    sb_scrub_text(text, s->gtoken);
    sb_scrub_all(text);
}

/* An error body is scrubbed before any part of it is quoted in a message: a snippet
 * cut at 160 bytes could otherwise keep the start of an echoed secret. */
static void scrub_body(sb_spapi *s, sb_buf *body) {
    if (!body || !body->len || memchr(body->data, 0, body->len)) return;
    scrub(s, body->data);
    body->len = strlen(body->data);
}

/* "https://host/path?sig=..." -> "https://host/path" (pre-signed URLs are credentials). */
static void url_for_log(const char *url, char *out, size_t n) {
    snprintf(out, n, "%.*s", (int)strcspn(url, "?"), url);
}

/* ---- one HTTP exchange ---- */

typedef struct resp {
    sb_buf *body;
    char request_id[128];
    char rate_limit[32];
    char date[64];                /* the Date header: Amazon's clock */
    long status;
    int overflow;
    long sent;                /* request bytes libcurl wrote (CURLINFO_REQUEST_SIZE) */
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
    resp *r = ud;
    if (!r->body) return sz * n;
    if (sb_buf_append(r->body, p, sz * n)) { r->overflow = 1; return 0; }
    return sz * n;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t outlen) {
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) || line[nl] != ':') return;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    snprintf(out, outlen, "%.*s", (int)(end - v), v);
}

void sp_header_line(const char *line, size_t len, char *request_id, size_t idlen,
                    char *rate_limit, size_t rllen) {
    if (len > 5 && !strncmp(line, "HTTP/", 5)) { request_id[0] = '\0'; rate_limit[0] = '\0'; }
    header_value(line, len, "x-amzn-RequestId", request_id, idlen);
    header_value(line, len, "x-amzn-RateLimit-Limit", rate_limit, rllen);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud) {
    resp *r = ud;
    size_t len = sz * n;
    sp_header_line(p, len, r->request_id, sizeof r->request_id, r->rate_limit, sizeof r->rate_limit);
    header_value(p, len, "Date", r->date, sizeof r->date);
    return len;
}

/* Amazon's clock from an answer's Date header (whole seconds: the middle of the second
 * is the best guess). The latest answer wins. */
static void note_date(sb_spapi *s, const resp *r) {
    if (!r->date[0]) return;
    time_t t = curl_getdate(r->date, NULL);
    if (t <= 0) return;
    int64_t skew = (int64_t)t * 1000 + 500 - sb_now_ms();
    pthread_mutex_lock(&s->mu);
    s->skew_ms = skew;
    s->have_skew = 1;
    pthread_mutex_unlock(&s->mu);
}

int sb_spapi_clock_skew(sb_spapi *s, int64_t *skew_ms) {
    pthread_mutex_lock(&s->mu);
    int have = s->have_skew;
    *skew_ms = have ? s->skew_ms : 0;
    pthread_mutex_unlock(&s->mu);
    return have;
}

int64_t sb_spapi_amazon_now(sb_spapi *s) {
    int64_t skew;
    sb_spapi_clock_skew(s, &skew);
    return sb_now_ms() + skew;
}

int64_t sb_spapi_retry_at(sb_spapi *s, int op) {
    if (op < 0 || op >= SB_OP_COUNT) return 0;
    pthread_mutex_lock(&s->mu);
    int64_t t = s->buckets[op].retry_at_ms;
    pthread_mutex_unlock(&s->mu);
    return t;
}

/* A wait inside a call (a bucket under a second, a retry's backoff): in steps, so an
 * engine that is stopping is not held by it. */
static void nap(sb_spapi *s, int64_t ms) {
    while (ms > 0 && !(s->stop && *s->stop)) {
        int64_t step = ms < 200 ? ms : 200;
        sb_sleep_ms(step);
        ms -= step;
    }
}

/* libcurl's progress callback: non-zero abandons the transfer (the engine is stopping). */
static int on_progress(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln) {
    (void)dlt; (void)dln; (void)ult; (void)uln;
    volatile int *stop = ud;
    return *stop != 0;
}

static CURLcode http_once(sb_spapi *s, const sp_req *q, struct curl_slist *hdrs, resp *r,
                          char *cerr) {
    CURL *h = pool_get(s);
    if (!h) { snprintf(cerr, CURL_ERROR_SIZE, "out of memory"); return CURLE_OUT_OF_MEMORY; }
    cerr[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, q->url);
    curl_easy_setopt(h, CURLOPT_SHARE, s->share);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
    if (!strcmp(q->method, "GET")) curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (q->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
    }
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (s->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, s->user_agent);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max_body);
    if (q->decode_encoding) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    if (s->stop && !strcmp(q->method, "GET")) {     /* a read can be given up; a change is let finish */
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)s->stop);
    }
    /* libcurl silently sends a request again when a reused keep-alive connection turns
     * out dead and nothing came back (Curl_retry_request needs a reused connection;
     * CURLOPT_FORBID_RETRY_ON_REUSE is 8.16+, Debian 12 has 7.88). A request that must
     * go at most once therefore gets a connection of its own, closed afterwards. */
    if (q->once) {
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(h);
    if (cc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &r->sent);
    if (!cerr[0]) snprintf(cerr, CURL_ERROR_SIZE, "%s", curl_easy_strerror(cc));
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_SHARE, NULL);
    pool_put(s, h);
    return cc;
}

/* A failed exchange after which Amazon may have acted on the request: it went out (some
 * bytes written) and the failure is not one of connecting. */
static int maybe_reached(CURLcode cc, long sent) {
    if (sent <= 0) return 0;
    switch (cc) {
    case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST: case CURLE_SSL_CONNECT_ERROR:
        return 0;
    default:
        return 1;
    }
}

static int transient_curl(CURLcode cc) {
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT: case CURLE_COULDNT_CONNECT: case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR: case CURLE_SEND_ERROR: case CURLE_GOT_NOTHING:
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_SSL_CONNECT_ERROR: case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: case CURLE_BAD_CONTENT_ENCODING:
        return 1;
    default:
        return 0;
    }
}

/* ---- errors ---- */

/* "HTTP 400 InvalidInput: message (details)" from an SP-API or LWA error body. */
static void describe_error(long status, const sb_buf *body, char *out, size_t n) {
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    int len = snprintf(out, n, "HTTP %ld", status);
    if (body && body->len && !sb_json_parse(body->data, body->len, &j, e)) {
        const char *code = sb_json_str(j, SB_JSON_ROOT, "errors[0].code");
        const char *msg = sb_json_str(j, SB_JSON_ROOT, "errors[0].message");
        const char *det = sb_json_str(j, SB_JSON_ROOT, "errors[0].details");
        if (!code && !msg) {   /* LWA shape */
            code = sb_json_str(j, SB_JSON_ROOT, "error");
            msg = sb_json_str(j, SB_JSON_ROOT, "error_description");
        }
        if (code || msg) {
            snprintf(out + len, n - (size_t)len, " %s: %s%s%s%s", code ? code : "(no code)",
                     msg ? msg : "(no message)", det && *det ? " (" : "", det && *det ? det : "",
                     det && *det ? ")" : "");
            sb_json_free(j);
            return;
        }
        sb_json_free(j);
    }
    if (body && body->len) {   /* not JSON (e.g. S3 XML): a printable snippet */
        char snip[161];
        size_t k = 0;
        for (size_t i = 0; i < body->len && k < sizeof snip - 1; i++) {
            unsigned char c = (unsigned char)body->data[i];
            snip[k++] = (c < 0x20 || c > 0x7e) ? ' ' : (char)c;
        }
        snip[k] = '\0';
        snprintf(out + len, n - (size_t)len, ": %s", snip);
    }
}

static int error_code_is(const sb_buf *body, const char *code) {
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    int yes = 0;
    if (body && body->len && !sb_json_parse(body->data, body->len, &j, e)) {
        const char *c = sb_json_str(j, SB_JSON_ROOT, "errors[0].code");
        yes = c && !strcmp(c, code);
        sb_json_free(j);
    }
    return yes;
}

static int valid_json(const sb_buf *b) {
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    if (!b || !b->len) return 0;
    if (sb_json_parse(b->data, b->len, &j, e)) return 0;
    sb_json_free(j);
    return 1;
}

/* ---- one response, classified (pure: no network, no client state) ---- */

int sp_rate_limit_parse(const char *v, double *rate) {
    if (!v || !v[0]) return 0;
    char *end;
    double r = strtod(v, &end);
    if (end == v || !(r > 0) || r > 10000) return 0;
    *rate = r;
    return 1;
}

int sp_response_action(long status, int sp, int want_json, int refreshed, const sb_buf *body,
                       char *what, size_t n, int *code) {
    what[0] = '\0';
    *code = 0;
    if (status >= 200 && status < 300) {
        if (want_json && !valid_json(body)) {
            snprintf(what, n, "HTTP %ld with an invalid JSON body (%zu bytes)", status, body ? body->len : 0);
            return SP_RETRY;
        }
        return SP_DONE;
    }
    describe_error(status, body, what, n);
    if (status == 429) return SP_THROTTLED;
    if (status == 403 && sp && !refreshed && error_code_is(body, "Unauthorized")) return SP_REFRESH;
    if (status >= 500) return SP_RETRY;
    *code = status == 403 || status == 401 ? SB_EAUTH : SB_EHTTP;
    return SP_FAIL;
}

int sp_lwa_token_response(long status, const sb_buf *body, char *token, size_t toklen,
                          int64_t *ttl_ms, char *what, size_t n) {
    what[0] = '\0';
    if (status != 200) {
        describe_error(status, body, what, n);
        return status >= 500 || status == 429 ? SP_RETRY : SP_FAIL;
    }
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    if (body && sb_json_parse(body->data, body->len, &j, e) == 0) {
        const char *at = sb_json_str(j, SB_JSON_ROOT, "access_token");
        double ttl = sb_json_num(j, SB_JSON_ROOT, "expires_in", 3600);
        /* a nonsense lifetime (NaN, <= 0, 1e300) must not reach the integer cast */
        if (!(ttl > 0)) ttl = 3600;
        if (ttl > 86400) ttl = 86400;
        if (at && *at && strlen(at) < toklen) {
            snprintf(token, toklen, "%s", at);
            *ttl_ms = (int64_t)(ttl * 1000);
            sb_json_free(j);
            return SP_DONE;
        }
        sb_json_free(j);
    }
    snprintf(what, n, "HTTP 200 without an access_token in the response");
    return SP_RETRY;
}

/* ---- buckets ---- */

static void refill(bucket *b, int64_t now) {
    if (now > b->last_ms) {
        b->tokens += (double)(now - b->last_ms) * b->rate / 1000.0;
        if (b->tokens > b->burst) b->tokens = b->burst;
        b->last_ms = now;
    }
}

/* How long to wait for a bucket at tokens (< 1 once the call's token is taken) filling
 * at rate per second: until it is back at 0, plus a margin of 2% of one token's interval
 * (at least 100 ms) so that a request arriving a little early, or an Amazon bucket a
 * little behind ours, still finds its token. */
int64_t sp_bucket_wait_ms(double tokens, double rate) {
    if (rate <= 0 || tokens >= 0) return 0;
    double ms = -tokens * 1000.0 / rate, margin = 20.0 / rate;
    return (int64_t)ceil(ms + (margin < 100 ? 100 : margin));
}

/* Takes one token: 0 when it was there or has been waited for (through the clock), or
 * SB_ELATER when the wait is longer than max_wait_ms: then the token is left where it
 * was and retry_at says when it will be there. */
static int bucket_take(sb_spapi *s, int op) {
    bucket *b = &s->buckets[op];
    int64_t wait = 0;
    pthread_mutex_lock(&s->mu);
    if (b->rate > 0) {
        int64_t now = sb_now_ms();
        refill(b, now);
        b->tokens -= 1;
        wait = sp_bucket_wait_ms(b->tokens, b->rate);
        if (s->max_wait_ms && wait > s->max_wait_ms) {
            b->tokens += 1;
            b->retry_at_ms = now + wait;
            pthread_mutex_unlock(&s->mu);
            return SB_ELATER;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (wait > 0) {
        sb_debug("spapi waiting for rate limit op=%s wait_ms=%lld", op_table[op].name, (long long)wait);
        nap(s, wait);
    }
    return 0;
}

/* After the k-th 429 in a row: empty the bucket and push it 2^(k-1)-1 tokens into debt. */
static int64_t bucket_throttled(sb_spapi *s, int op, int k) {
    bucket *b = &s->buckets[op];
    int64_t wait = 0;
    pthread_mutex_lock(&s->mu);
    if (b->rate > 0) {
        refill(b, sb_now_ms());
        double debt = (double)((1 << (k > 4 ? 4 : k - 1)) - 1);
        if (b->tokens > 0) b->tokens = 0;
        b->tokens -= debt;
        wait = (int64_t)ceil((1 - b->tokens) * 1000.0 / b->rate);
    }
    pthread_mutex_unlock(&s->mu);
    return wait;
}

static void bucket_header(sb_spapi *s, int op, const char *v) {
    double r;
    if (!sp_rate_limit_parse(v, &r)) return;
    pthread_mutex_lock(&s->mu);
    bucket *b = &s->buckets[op];
    if (b->rate > 0) {
        refill(b, sb_now_ms());
        b->rate = r * s->rate_scale;
        s->stats[op].rate = b->rate;
    }
    pthread_mutex_unlock(&s->mu);
}

static int64_t backoff_ms(sb_spapi *s, int attempt) {
    int64_t base = s->retry_base_ms << (attempt > 8 ? 8 : attempt - 1);
    if (base > 30000) base = 30000;
    pthread_mutex_lock(&s->mu);
    s->rng ^= s->rng << 13; s->rng ^= s->rng >> 7; s->rng ^= s->rng << 17;
    uint64_t r = s->rng;
    pthread_mutex_unlock(&s->mu);
    return base / 2 + (int64_t)(r % (uint64_t)(base / 2 + 1));   /* "equal jitter" */
}

static void count(sb_spapi *s, int op, long status, int network) {
    pthread_mutex_lock(&s->mu);
    sb_spapi_stats *st = &s->stats[op];
    st->calls++;
    if (network) st->network_errors++;
    else if (status >= 200 && status < 300) st->status_2xx++;
    else if (status >= 400 && status < 500) st->status_4xx++;
    else if (status >= 500) st->status_5xx++;
    if (status == 429) st->throttled++;
    pthread_mutex_unlock(&s->mu);
}

static void count_end(sb_spapi *s, int op, int ok, int retried) {
    pthread_mutex_lock(&s->mu);
    if (ok) s->stats[op].ok++;
    else s->stats[op].failed++;
    s->stats[op].retries += retried;
    pthread_mutex_unlock(&s->mu);
}

/* ---- LWA ---- */

static int form_add(sb_buf *b, const char *k, const char *v) {
    char *e = curl_easy_escape(NULL, v, 0);
    if (!e) return SB_ENOMEM;
    int rc = sb_buf_printf(b, "%s%s=%s", b->len ? "&" : "", k, e);
    curl_free(e);
    return rc;
}

/* Refresh-token grant, or (grantless) the client_credentials grant with the
 * Notifications scope and no refresh token. Called with tok_mu held. */
static int lwa_refresh(sb_spapi *s, int grantless, char *err) {
    char *token = grantless ? s->gtoken : s->token;
    size_t toklen = grantless ? sizeof s->gtoken : sizeof s->token;
    int op = grantless ? SB_OP_LWA_GRANTLESS : SB_OP_LWA_TOKEN;
    sb_buf form, body;
    sb_buf_init(&form, 16384);
    sb_buf_init(&body, 1 << 20);
    struct curl_slist *h = NULL;
    int rc = 0;
    if ((grantless ? form_add(&form, "grant_type", "client_credentials") || form_add(&form, "scope", GRANTLESS_SCOPE)
                   : form_add(&form, "grant_type", "refresh_token") || form_add(&form, "refresh_token", s->refresh_token)) ||
        form_add(&form, "client_id", s->client_id) || form_add(&form, "client_secret", s->client_secret)) {
        rc = sb_seterr(err, SB_ENOMEM, "LWA token: out of memory");
        goto out;
    }
    h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded;charset=UTF-8");
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h, "Expect:");
    sp_req q = {.op = op, .method = "POST", .url = s->lwa_endpoint,
                .body = form.data, .body_len = form.len};
    char cerr[CURL_ERROR_SIZE], what[SB_ERRLEN], urllog[256];
    url_for_log(s->lwa_endpoint, urllog, sizeof urllog);
    for (int attempt = 0;; attempt++) {
        resp r = {.body = &body};
        sb_buf_reset(&body);
        CURLcode cc = http_once(s, &q, h, &r, cerr);
        note_date(s, &r);
        count(s, op, r.status, cc != CURLE_OK);
        int retry = 0;
        if (cc != CURLE_OK) {
            snprintf(what, sizeof what, "%s", cerr);
            retry = transient_curl(cc);
        } else {
            int64_t ttl_ms = 0;
            char old[sizeof s->token];
            if (r.status != 200) scrub_body(s, &body);
            memcpy(old, token, sizeof old);
            int a = sp_lwa_token_response(r.status, &body, token, toklen, &ttl_ms, what, sizeof what);
            if (a == SP_DONE && strcmp(old, token)) {
                if (old[0]) sb_scrub_remove(old);
                sb_scrub_add(token);
            }
            OPENSSL_cleanse(old, sizeof old);
            if (a == SP_DONE) {
                if (grantless) { s->gtoken_exp_ms = sb_now_ms() + ttl_ms; s->grefreshes++; }
                else { s->token_exp_ms = sb_now_ms() + ttl_ms; s->refreshes++; }
                count_end(s, op, 1, attempt);
                char masked[64];
                sb_info("LWA %saccess token refreshed expires_in=%llds client_id=%s", grantless ? "grantless " : "",
                        (long long)(ttl_ms / 1000), sb_mask(s->client_id, masked, sizeof masked));
                goto out;
            }
            retry = a == SP_RETRY;
        }
        scrub(s, what);
        if (!retry || attempt >= s->max_retries) {
            count_end(s, op, 0, attempt);
            rc = sb_seterr(err, cc == CURLE_OK && r.status >= 400 && r.status < 500 ? SB_EAUTH : SB_EHTTP,
                           "LWA %stoken (%s): %s%s", grantless ? "grantless " : "", urllog, what,
                           cc == CURLE_OK && r.status >= 400 && r.status < 500
                               ? grantless ? " - check the client id and client secret (a grantless token of scope "
                                             GRANTLESS_SCOPE " is asked for the Notifications API's destinations)"
                                           : " - check the client id, client secret and refresh token" : "");
            sb_error("%s", err ? err : what);
            goto out;
        }
        int64_t w = backoff_ms(s, attempt + 1);
        sb_warn("LWA %stoken call failed, retrying attempt=%d/%d wait_ms=%lld error=\"%s\"", grantless ? "grantless " : "",
                attempt + 1, s->max_retries, (long long)w, what);
        nap(s, w);
    }
out:
    if (form.data) memset(form.data, 0, form.len);
    sb_buf_free(&form);
    sb_buf_free(&body);
    curl_slist_free_all(h);
    return rc;
}

/* Copies a valid access token into tok: the seller's, or the grantless one. stale: the
 * token that was refused (it is refreshed unless another thread already did). */
static int get_token_of(sb_spapi *s, int grantless, char *tok, size_t toklen, const char *stale, char *err) {
    int rc = 0;
    char *cur = grantless ? s->gtoken : s->token;
    int64_t *exp = grantless ? &s->gtoken_exp_ms : &s->token_exp_ms;
    pthread_mutex_lock(&s->tok_mu);
    if (stale && !strcmp(stale, cur)) *exp = 0;
    if (!cur[0] || sb_now_ms() >= *exp - TOKEN_EARLY_MS) rc = lwa_refresh(s, grantless, err);
    if (!rc) snprintf(tok, toklen, "%s", cur);
    pthread_mutex_unlock(&s->tok_mu);
    return rc;
}

static int get_token(sb_spapi *s, char *tok, size_t toklen, const char *stale, char *err) {
    return get_token_of(s, 0, tok, toklen, stale, err);
}

int sb_spapi_measure_clock(sb_spapi *s, char *err) {
    char tok[4096];
    int rc = get_token(s, tok, sizeof tok, NULL, err);
    memset(tok, 0, sizeof tok);
    return rc;
}

void sb_spapi_forget_token(sb_spapi *s) {
    pthread_mutex_lock(&s->tok_mu);
    if (s->token[0]) sb_scrub_remove(s->token);
    memset(s->token, 0, sizeof s->token);
    s->token_exp_ms = 0;
    if (s->gtoken[0]) sb_scrub_remove(s->gtoken);
    memset(s->gtoken, 0, sizeof s->gtoken);
    s->gtoken_exp_ms = 0;
    pthread_mutex_unlock(&s->tok_mu);
}

long sb_spapi_grantless_refreshes(sb_spapi *s) {
    pthread_mutex_lock(&s->tok_mu);
    long n = s->grefreshes;
    pthread_mutex_unlock(&s->tok_mu);
    return n;
}

long sb_spapi_token_refreshes(sb_spapi *s) {
    pthread_mutex_lock(&s->tok_mu);
    long n = s->refreshes;
    pthread_mutex_unlock(&s->tok_mu);
    return n;
}

/* ---- the call ---- */

/* The error of a request that may have reached Amazon: SB_EAMBIG, one line saying so. */
static int ambiguous(sb_spapi *s, const char *name, char *what, const char *request_id, const char *urllog,
                     char *err) {
    scrub(s, what);
    return sb_seterr(err, SB_EAMBIG, "%s: %s (request id %s, %s) - Amazon may have acted on it; not sent again, "
                     "ask Amazon before repeating", name, what, request_id, urllog);
}

int sp_call(sb_spapi *s, sp_req *q, char *err) {
    const char *name = op_table[q->op].name;
    char tok[4096] = "", hdr[4200], cerr[CURL_ERROR_SIZE], what[SB_ERRLEN], urllog[512];
    char stale[4096] = "";
    int rc = 0, attempts = 0, throttles = 0, refreshed = 0, retried = 0, action, code;
    sb_buf own;
    sb_buf_init(&own, (size_t)s->max_body);
    sb_buf *out = q->out ? q->out : &own;
    out->max = out->max ? out->max : (size_t)s->max_body;
    url_for_log(q->url, urllog, sizeof urllog);
    for (;;) {
        struct curl_slist *h = NULL;
        if (q->sp) {
            if ((rc = bucket_take(s, q->op)) == SB_ELATER) {
                char at[32];
                int64_t t = sb_spapi_retry_at(s, q->op);
                sb_time_format(t / 1000, at, sizeof at);
                rc = sb_seterr(err, SB_ELATER, "%s: Amazon's rate limit grants the next call at %s (in %lld s); "
                               "the job comes back then", name, at, (long long)((t - sb_now_ms() + 999) / 1000));
                sb_info("%s", err ? err : name);
                goto done;                      /* not a call: nothing counted */
            }
            if ((rc = get_token_of(s, q->grantless, tok, sizeof tok, stale[0] ? stale : NULL, err)) < 0) {
                /* err already names LWA; prefix the operation */
                if (err) {
                    char tmp[SB_ERRLEN];
                    snprintf(tmp, sizeof tmp, "%s: %s", name, err);
                    snprintf(err, SB_ERRLEN, "%s", tmp);
                }
                break;
            }
            stale[0] = '\0';
            char date[32];
            time_t now = (time_t)(sb_now_ms() / 1000);
            struct tm tm;
            gmtime_r(&now, &tm);
            strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
            snprintf(hdr, sizeof hdr, "x-amz-access-token: %s", tok);
            h = curl_slist_append(h, hdr);
            snprintf(hdr, sizeof hdr, "x-amz-date: %s", date);
            h = curl_slist_append(h, hdr);
            h = curl_slist_append(h, "Accept: application/json");
        }
        if (q->body || q->content_type) {
            snprintf(hdr, sizeof hdr, "Content-Type: %s", q->content_type ? q->content_type : "application/json");
            h = curl_slist_append(h, hdr);
        }
        h = curl_slist_append(h, "Expect:");
        resp r = {.body = out};
        sb_buf_reset(out);
        CURLcode cc = http_once(s, q, h, &r, cerr);
        note_date(s, &r);
        curl_slist_free_all(h);
        memset(hdr, 0, sizeof hdr);
        count(s, q->op, r.status, cc != CURLE_OK);
        q->status = r.status;
        if (cc == CURLE_OK && (r.status < 200 || r.status >= 300)) scrub_body(s, out);
        int retry = 0;
        if (cc != CURLE_OK) {
            if (r.overflow || cc == CURLE_FILESIZE_EXCEEDED) {
                rc = sb_seterr(err, SB_EHTTP, "%s: response larger than %ld bytes (%s)", name, s->max_body, urllog);
                break;
            }
            if (cc == CURLE_ABORTED_BY_CALLBACK) {
                rc = sb_seterr(err, SB_EINTR, "%s: given up: the engine is stopping", name);
                goto done;
            }
            snprintf(what, sizeof what, "%s", cerr);
            retry = transient_curl(cc);
            if (!retry) {
                rc = sb_seterr(err, SB_EHTTP, "%s: %s (%s)", name, what, urllog);
                break;
            }
            if (q->once && maybe_reached(cc, r.sent)) {
                rc = ambiguous(s, name, what, "none", urllog, err);
                break;
            }
        } else if ((action = sp_response_action(r.status, q->sp, q->want_json, refreshed, out, what,
                                                sizeof what, &code)) == SP_DONE) {
            if (q->sp) bucket_header(s, q->op, r.rate_limit);
            rc = 0;
            count_end(s, q->op, 1, retried);
            goto done;
        } else if (action == SP_RETRY && r.status < 300) {
            if (q->once) {   /* Amazon answered yes, but the answer cannot be read */
                rc = ambiguous(s, name, what, r.request_id[0] ? r.request_id : "none", urllog, err);
                break;
            }
            retry = 1;
        } else if (action == SP_THROTTLED) {
            throttles++;
            if (throttles > s->max_retries) {
                rc = sb_seterr(err, SB_ETHROTTLED, "%s: %s (request id %s) - still throttled after %d waits",
                               name, what, r.request_id[0] ? r.request_id : "none", throttles - 1);
                break;
            }
            int64_t w = q->sp ? bucket_throttled(s, q->op, throttles) : backoff_ms(s, throttles);
            sb_warn("spapi throttled (429), waiting for the rate limit op=%s wait_ms=%lld request_id=%s throttles=%d/%d",
                    name, (long long)w, r.request_id[0] ? r.request_id : "none", throttles, s->max_retries);
            retried++;
            /* bucket_take() on the next round does the wait for SP-API calls */
            if (!q->sp) nap(s, w);
            continue;
        } else if (action == SP_REFRESH) {
            refreshed = 1;
            retried++;
            snprintf(stale, sizeof stale, "%s", tok);
            sb_info("spapi access token refused, refreshing once op=%s request_id=%s", name,
                    r.request_id[0] ? r.request_id : "none");
            continue;
        } else {
            retry = action == SP_RETRY;
            if (retry && q->once) {   /* a 5xx: Amazon may have acted before it failed */
                rc = ambiguous(s, name, what, r.request_id[0] ? r.request_id : "none", urllog, err);
                break;
            }
            if (!retry) {
                scrub(s, what);
                rc = sb_seterr(err, code,
                               "%s: %s (request id %s)", name, what, r.request_id[0] ? r.request_id : "none");
                break;
            }
            snprintf(what + strlen(what), sizeof what - strlen(what), " (request id %s)",
                     r.request_id[0] ? r.request_id : "none");
        }
        /* retry with backoff */
        scrub(s, what);
        attempts++;
        if (attempts > s->max_retries) {
            rc = sb_seterr(err, SB_EHTTP, "%s: %s - gave up after %d attempts (%s)", name, what, attempts, urllog);
            break;
        }
        retried++;
        int64_t w = backoff_ms(s, attempts);
        sb_warn("spapi call failed, retrying op=%s attempt=%d/%d wait_ms=%lld error=\"%s\"", name, attempts,
                s->max_retries, (long long)w, what);
        nap(s, w);
    }
    count_end(s, q->op, 0, retried);
    if (err) {
        scrub(s, err);
        if (q->answer && q->status == q->answer) sb_info("%s", err);
        else sb_error("%s", err);
    }
done:
    memset(tok, 0, sizeof tok);
    memset(stale, 0, sizeof stale);
    sb_buf_free(&own);
    return rc;
}

/* ---- helpers for the operations ---- */

int sp_escape(sb_buf *b, const char *v) {
    char *e = curl_easy_escape(NULL, v, 0);
    if (!e) return SB_ENOMEM;
    int rc = sb_buf_append(b, e, strlen(e));
    curl_free(e);
    return rc;
}

int sp_qadd(sb_buf *q, const char *k, const char *v) {
    if (!v) return 0;
    int rc = sb_buf_printf(q, "%c%s=", q->len ? '&' : '?', k);
    return rc ? rc : sp_escape(q, v);
}

int sp_qadd_list(sb_buf *q, const char *k, const char *const *v, int n) {
    if (n <= 0 || !v) return 0;
    int rc = sb_buf_printf(q, "%c%s=", q->len ? '&' : '?', k);
    for (int i = 0; i < n && !rc; i++) {
        if (i) rc = sb_buf_append(q, ",", 1);
        if (!rc) rc = sp_escape(q, v[i]);
    }
    return rc;
}

int sp_gunzip(const char *in, size_t len, sb_buf *out, char *err) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) return sb_seterr(err, SB_ENOMEM, "gunzip: cannot initialise zlib");
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    unsigned char chunk[65536];
    int zrc, rc = 0;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        zrc = inflate(&z, Z_NO_FLUSH);
        if (zrc != Z_OK && zrc != Z_STREAM_END) {
            rc = sb_seterr(err, SB_EINVAL, "gunzip: corrupt data (%s)", z.msg ? z.msg : "zlib error");
            break;
        }
        if (sb_buf_append(out, chunk, sizeof chunk - z.avail_out)) {
            rc = sb_seterr(err, SB_ENOMEM, "gunzip: document larger than %zu bytes", out->max);
            break;
        }
        if (zrc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
            rc = sb_seterr(err, SB_EINVAL, "gunzip: truncated data");
            break;
        }
    } while (zrc != Z_STREAM_END);
    inflateEnd(&z);
    return rc;
}

/* ---- counters ---- */

void sb_spapi_get_stats(sb_spapi *s, sb_spapi_stats out[SB_OP_COUNT]) {
    pthread_mutex_lock(&s->mu);
    memcpy(out, s->stats, sizeof s->stats);
    pthread_mutex_unlock(&s->mu);
}

int sb_spapi_metrics(sb_spapi *s, sb_buf *out) {
    sb_spapi_stats st[SB_OP_COUNT];
    sb_spapi_get_stats(s, st);
    static const char *names[] = {"calls", "ok", "failed", "throttled", "retries", "status_2xx",
                                  "status_4xx", "status_5xx", "network_errors"};
    int rc = 0;
    for (size_t k = 0; k < sizeof names / sizeof *names && !rc; k++) {
        rc = sb_buf_printf(out, "# TYPE sellerbridge_spapi_%s_total counter\n", names[k]);
        for (int i = 0; i < SB_OP_COUNT && !rc; i++) {
            const long v[] = {st[i].calls, st[i].ok, st[i].failed, st[i].throttled, st[i].retries,
                              st[i].status_2xx, st[i].status_4xx, st[i].status_5xx, st[i].network_errors};
            rc = sb_buf_printf(out, "sellerbridge_spapi_%s_total{op=\"%s\"} %ld\n", names[k], st[i].op, v[k]);
        }
    }
    return rc;
}
