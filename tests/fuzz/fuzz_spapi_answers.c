/* fuzz_spapi_answers.c: what the SP-API client reads out of Amazon's answers, beyond the
 * status and error handling fuzz_spapi_response covers: feed and report status
 * (getFeed, getReport), the feed and report lists (getFeeds, getReports), document
 * records and their downloads (getFeedDocument, getReportDocument, gzip or plain),
 * getOrder, listing pages (searchListingsItems) and the gunzip of a document.
 *
 * A small libmicrohttpd server on a loopback port plays Amazon: its LWA endpoint gives a
 * token, and every other request is answered with the input. The input is
 *
 *     byte 0: the operation   byte 1: the HTTP status (200, 201, 202, 400, 403, 404, 429, 500)
 *     then the answer's body, and after a line "--" the document a download gets;
 *     "@URL@" in either is replaced by the server's address, so a document record can point
 *     back at it.
 *
 * Every call must return 0 or an sb_status, with a one-line message on failure, and
 * what it filled in must be NUL-terminated within its fields. The client makes no retries
 * and waits for no rate limit, so each input is one or two exchanges. */
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "fuzz.h"
#include "spapi/spapi_int.h"

static struct MHD_Daemon *d;
static sb_spapi *client;
static char base[64];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *answer, *document;     /* what the server says now (under mu) */
static size_t answer_len, document_len;
static unsigned answer_status;

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                             const char *version, const char *upload, size_t *upload_len, void **ctx) {
    (void)cls; (void)method; (void)version; (void)upload;
    if (!*ctx) { *ctx = c; return MHD_YES; }          /* headers first, then the body */
    if (*upload_len) { *upload_len = 0; return MHD_YES; }
    static const char token[] = "{\"access_token\":\"Atza|fuzz\",\"token_type\":\"bearer\",\"expires_in\":3600}";
    struct MHD_Response *r;
    unsigned status = 200;
    pthread_mutex_lock(&mu);
    if (!strcmp(url, "/auth/o2/token"))
        r = MHD_create_response_from_buffer(sizeof token - 1, (void *)token, MHD_RESPMEM_MUST_COPY);
    else if (!strncmp(url, "/document", 9))
        r = MHD_create_response_from_buffer(document_len, document ? document : (char *)"", MHD_RESPMEM_MUST_COPY);
    else {
        r = MHD_create_response_from_buffer(answer_len, answer ? answer : (char *)"", MHD_RESPMEM_MUST_COPY);
        status = answer_status;
    }
    pthread_mutex_unlock(&mu);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static void stop(void) {
    sb_spapi_free(client);
    client = NULL;
    if (d) MHD_stop_daemon(d);
    d = NULL;
    free(answer);
    free(document);
    answer = document = NULL;
}

static void start(void) {
    char err[SB_ERRLEN], lwa[96];
    sb_log_set_level(SB_LOG_OFF);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, serve, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)5, MHD_OPTION_END);
    if (!d) abort();
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", di ? di->port : 0);
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", base);
    sb_spapi_config c = {.endpoint = base, .lwa_endpoint = lwa, .client_id = "amzn1.application-oa2-client.fuzz",
                         .client_secret = "fuzz-secret", .refresh_token = "Atzr|fuzz-refresh", .connect_timeout_ms = 200,
                         .timeout_ms = 1000, .max_retries = -1, .rate_scale = 1e9, .max_body_bytes = 1 << 20};
    if (!(client = sb_spapi_new(&c, err))) abort();
    sb_fuzz_atexit(stop);
}

/* text with every "@URL@" replaced by the server's address (malloc'd) */
static char *with_url(const char *t, size_t n, size_t *out_len) {
    size_t cap = n * (strlen(base) + 1) + 1, o = 0;
    char *r = malloc(cap);
    if (!r) abort();
    for (size_t i = 0; i < n;) {
        if (i + 5 <= n && !memcmp(t + i, "@URL@", 5)) {
            memcpy(r + o, base, strlen(base));
            o += strlen(base);
            i += 5;
        } else r[o++] = t[i++];
    }
    r[o] = '\0';
    *out_len = o;
    return r;
}

static void check_err(int rc, const char *err) {
    if (rc > 0 || rc < SB_EAMBIG) abort();                /* 0 or a known sb_status */
    if (rc && (!err[0] || strchr(err, '\n') || strlen(err) >= SB_ERRLEN)) abort();
}

static void check_proc(const sb_spapi_processing *p) {
    if (memchr(p->id, 0, sizeof p->id) == NULL || memchr(p->type, 0, sizeof p->type) == NULL ||
        memchr(p->status, 0, sizeof p->status) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const unsigned statuses[] = {200, 201, 202, 400, 403, 404, 429, 500};
    if (size < 2) return 0;
    if (!client) start();
    const char *body = (const char *)data + 2;
    size_t blen = size - 2, alen, dlen = 0;
    const char *sep = NULL;
    for (size_t i = 0; i + 4 <= blen; i++)
        if (!memcmp(body + i, "\n--\n", 4)) { sep = body + i; break; }
    pthread_mutex_lock(&mu);
    free(answer);
    free(document);
    answer = with_url(body, sep ? (size_t)(sep - body) : blen, &alen);
    document = sep ? with_url(sep + 4, blen - (size_t)(sep - body) - 4, &dlen) : NULL;
    answer_len = alen;
    document_len = dlen;
    answer_status = statuses[data[1] % 8];
    pthread_mutex_unlock(&mu);

    char err[SB_ERRLEN] = "";
    sb_spapi_processing p, list[8];
    sb_spapi_document doc;
    sb_buf out;
    sb_buf_init(&out, 1 << 20);
    int n = -1, rc = 0;
    memset(&p, 0, sizeof p);
    switch (data[0] % 9) {
    case 0: rc = sb_spapi_get_feed(client, "50001", &p, err); check_proc(&p); break;
    case 1: rc = sb_spapi_get_report(client, "60001", &p, err); check_proc(&p); break;
    case 2:
        rc = sb_spapi_get_feeds(client, "JSON_LISTINGS_FEED", "ATVPDKIKX0DER", "2026-12-01T00:00:00Z", list, 8, &n, err);
        if (!rc && (n < 0 || n > 8)) abort();
        for (int i = 0; !rc && i < n; i++) check_proc(&list[i]);
        break;
    case 3:
        rc = sb_spapi_get_reports(client, "GET_MERCHANT_LISTINGS_ALL_DATA", NULL, "2026-12-01T00:00:00Z", list, 8, &n, err);
        if (!rc && (n < 0 || n > 8)) abort();
        for (int i = 0; !rc && i < n; i++) check_proc(&list[i]);
        break;
    case 4:
        rc = sb_spapi_get_feed_document(client, "amzn1.tortuga.fuzz", &doc, &out, err);
        if (!memchr(doc.url, 0, sizeof doc.url) || !memchr(doc.compression, 0, sizeof doc.compression)) abort();
        break;
    case 5: rc = sb_spapi_get_report_document(client, "amzn1.spdoc.fuzz", &doc, &out, err); break;
    case 6: rc = sb_spapi_get_order(client, "111-0000001-0000001", "PACKAGES", &out, err); break;
    case 7: {
        const char *mp[] = {"ATVPDKIKX0DER"};
        sb_search_listings_params lp = {.seller_id = "A1FUZZ", .marketplace_ids = mp, .nmarketplaces = 1,
                                        .included_data = "summaries,fulfillmentAvailability"};
        rc = sb_spapi_search_listings(client, &lp, &out, err);
        break;
    }
    default: {                                          /* the gunzip of a document, alone */
        sb_buf g;
        sb_buf_init(&g, 1 << 20);
        rc = sp_gunzip(body, blen, &g, err);
        if (!rc && g.len > g.max) abort();
        sb_buf_free(&g);
        break;
    }
    }
    check_err(rc, err);
    if (out.len > out.max) abort();
    sb_buf_free(&out);
    return 0;
}
