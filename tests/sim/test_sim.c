/* test_sim.c: the simulator on its own, over raw HTTP (libcurl, no client logic): the
 * 2-minute rule, access-token checks, pagination tokens that must be percent-encoded and
 * come with identical filters, admin endpoints ("a new order arrives", "the buyer
 * cancels"), Amazon's sandbox cases, and 100,000 generated orders paging quickly. */
#include <curl/curl.h>
#include <time.h>
#include "common.h"
#include "support/sim_http.h"
#include "support/json_get.h"

/* One raw request; returns the HTTP status, body in out. */
static long http(sb_sim *sim, const char *method, const char *path, const char *token, const char *body, sb_buf *out) {
    return t_sim_req(sim, method, path, token, body, 5000, out);
}
static void get_token(sb_sim *sim, char *tok, size_t n) { t_sim_token(sim, tok, n); }

static const char *code_of(sb_buf *b, char *out, size_t n) { return t_jtext(b, "errors[0].code", out, n); }

int main(void) {
    char err[SB_ERRLEN], tok[128], code[64], path[2048];
    fake_clock_install("2026-11-27T12:00:00Z");
    sb_buf b;
    sb_buf_init(&b, 64u << 20);
    sb_sim *sim = NULL;
    sb_sim_options o = {.generate = 100000, .seed = 42, .unthrottled = 1};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    T_EQ(sb_sim_start(&o, &sim, err), 0);
    if (!sim) { printf("%s\n", err); return 1; }
    T_EQ(sb_sim_order_count(sim), 100000);
    get_token(sim, tok, sizeof tok);
    T_CHECK(tok[0] != '\0');

    /* access token */
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z", NULL, NULL, &b), 403);
    T_STREQ(code_of(&b, code, sizeof code), "Unauthorized");
    T_CONTAINS(b.data, "Access token is missing in the request header.");
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z", "Atza|forged", NULL, &b), 403);
    /* required params, the 2-minute rule, marketplace ids, page size */
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders", tok, NULL, &b), 400);
    T_CONTAINS(b.data, "Either createdAfter or lastUpdatedAfter must be provided");
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z&lastUpdatedBefore=2026-11-27T11:59:00Z", tok, NULL, &b), 400);
    T_CONTAINS(b.data, "at least 2 minutes before");
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z&lastUpdatedBefore=2026-11-27T11:57:59Z", tok, NULL, &b), 200);
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z&marketplaceIds=NOPE", tok, NULL, &b), 400);
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z&maxResultsPerPage=101", tok, NULL, &b), 400);
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z&includedData=EVERYTHING", tok, NULL, &b), 400);

    /* page through all 100,000 with filters; tokens must be encoded and filters identical */
    const char *base = "/orders/2026-01-01/orders?lastUpdatedAfter=2026-01-01T00%3A00%3A00Z&lastUpdatedBefore=2026-11-27T11%3A50%3A00Z"
                       "&includedData=BUYER,RECIPIENT,PROCEEDS,FULFILLMENT&maxResultsPerPage=100";
    char next[512] = "";
    long total = 0, pages = 0, shipped = 0;
    struct timespec p0, p1;
    clock_gettime(CLOCK_MONOTONIC, &p0);
    int64_t last_upd = 0, sorted = 1;
    for (;;) {
        if (next[0]) {
            char *e = curl_easy_escape(NULL, next, 0);
            snprintf(path, sizeof path, "%s&paginationToken=%s", base, e);
            curl_free(e);
        } else snprintf(path, sizeof path, "%s", base);
        if (http(sim, "GET", path, tok, NULL, &b) != 200) { T_CHECK(0); fprintf(stderr, "%s\n", b.data); break; }
        sb_json *j = NULL;
        sb_json_parse(b.data, b.len, &j, err);
        size_t n = sb_json_len(j, SB_JSON_ROOT, "orders");
        int arr = sb_json_get(j, SB_JSON_ROOT, "orders");
        for (size_t i = 0; i < n; i++) {
            int od = sb_json_at(j, arr, i);
            int64_t u = sb_time_parse(sb_json_str(j, od, "lastUpdatedTime"));
            if (u < last_upd) sorted = 0;
            last_upd = u;
            if (!strcmp(sb_json_str(j, od, "fulfillment.fulfillmentStatus"), "SHIPPED")) shipped++;
        }
        total += (long)n;
        pages++;
        next[0] = '\0';
        sb_json_strcpy(j, SB_JSON_ROOT, "pagination.nextToken", next, sizeof next);
        if (pages == 1) {
            /* the raw token has '+': sent unencoded it decodes to a space and is refused */
            snprintf(path, sizeof path, "%s&paginationToken=%s", base, next);
            T_EQ(http(sim, "GET", path, tok, NULL, &b), 400);
            T_CONTAINS(b.data, "Invalid paginationToken");
            /* the same token with other filters is refused */
            char *e = curl_easy_escape(NULL, next, 0);
            snprintf(path, sizeof path, "/orders/2026-01-01/orders?lastUpdatedAfter=2026-02-01T00%%3A00%%3A00Z&lastUpdatedBefore=2026-11-27T11%%3A50%%3A00Z&paginationToken=%s", e);
            curl_free(e);
            T_EQ(http(sim, "GET", path, tok, NULL, &b), 400);
            T_CONTAINS(b.data, "must be identical");
        }
        sb_json_free(j);
        if (!next[0] || pages > 2000) break;
    }
    clock_gettime(CLOCK_MONOTONIC, &p1);
    double secs = (double)(p1.tv_sec - p0.tv_sec) + (double)(p1.tv_nsec - p0.tv_nsec) / 1e9;
    printf("paged %ld orders in %ld pages in %.2f s\n", total, pages, secs);
    T_EQ(total, 100000);
    T_EQ(pages, 1000);
    T_CHECK(sorted);
    T_CHECK(shipped > 20000 && shipped < 35000);
    /* the time is a figure for a person (it failed a run on a loaded machine as a check) */

    /* a new order arrives; the buyer cancels it */
    T_EQ(sb_sim_orders_upsert(sim, "{\"orderId\":\"113-5555555-5555555\",\"salesChannel\":{\"marketplaceId\":\"A39IBJ37TRP1C6\"},"
                                   "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\"},"
                                   "\"orderItems\":[{\"orderItemId\":\"1\",\"quantityOrdered\":1,\"product\":{\"sellerSku\":\"X\"}}]}", err), 0);
    T_EQ(sb_sim_order_count(sim), 100001);
    atomic_fetch_add(&fake_ms, 10 * 60000);
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-27T11%3A50%3A00Z&includedData=FULFILLMENT", tok, NULL, &b), 200);
    T_CONTAINS(b.data, "\"orderId\":\"113-5555555-5555555\"");
    T_CONTAINS(b.data, "\"lastUpdatedTime\":\"2026-11-27T12:00:00Z\"");
    T_EQ(http(sim, "POST", "/_sim/orders", NULL, "{\"orderId\":\"113-5555555-5555555\",\"fulfillmentStatus\":\"CANCELLED\"}", &b), 200);
    atomic_fetch_add(&fake_ms, 10 * 60000);
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-27T12%3A05%3A00Z&includedData=FULFILLMENT", tok, NULL, &b), 200);
    T_CONTAINS(b.data, "\"fulfillmentStatus\":\"CANCELLED\"");
    T_EQ(http(sim, "POST", "/_sim/orders", NULL, "{\"orderId\":\"nope\",\"fulfillmentStatus\":\"CANCELLED\"}", &b), 400);
    /* faults and request log over HTTP */
    T_EQ(http(sim, "POST", "/_sim/faults", NULL, "{\"op\":\"getOrder\",\"kind\":\"503\",\"count\":1}", &b), 200);
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders/113-5555555-5555555", tok, NULL, &b), 503);
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders/113-5555555-5555555", tok, NULL, &b), 200);
    T_EQ(http(sim, "POST", "/_sim/faults", NULL, "{\"op\":\"getOrder\",\"kind\":\"meteor\"}", &b), 400);
    T_EQ(http(sim, "GET", "/_sim/requests", NULL, NULL, &b), 200);
    T_CONTAINS(b.data, "\"path\":\"/orders/2026-01-01/orders/113-5555555-5555555\",\"query\":\"\"");
    T_CHECK(strstr(b.data, tok) == NULL);
    /* sandbox cases */
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?createdAfter=TEST_CASE_400", tok, NULL, &b), 400);
    T_STREQ(code_of(&b, code, sizeof code), "InvalidInput");
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?createdAfter=2024-12-25T00:00:00Z&marketplaceIds=A1VC38T7YXB528"
                          "&includedData=BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES", tok, NULL, &b), 200);
    T_CONTAINS(b.data, "250-1234567-8901234");
    T_CONTAINS(b.data, "\"nextToken\":\"2YgYW55IGNhcm5hbCBwbGVhc3VyZS4\"");
    T_EQ(http(sim, "GET", "/feeds/2021-06-30/feeds/feedId1", tok, NULL, &b), 200);
    T_CONTAINS(b.data, "\"processingStatus\":\"CANCELLED\"");
    T_EQ(http(sim, "POST", "/feeds/2021-06-30/documents", tok, "{}", &b), 400);
    T_STREQ(code_of(&b, code, sizeof code), "400");
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?createdAfter=2024-12-20T00:00:00Z&marketplaceIds=A2Q3Y263D00KWC"
                          "&includedData=BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,TAX,PAYMENT", tok, NULL, &b), 200);
    T_CONTAINS(b.data, "\"orderId\":\"171-2345678-9012345\"");
    T_CONTAINS(b.data, "\"programs\":[\"AMAZON_BUSINESS\",\"DELIVERY_BY_AMAZON\"]");
    T_CHECK(strstr(b.data, "nextToken") == NULL);
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders/028-1234567-8901234", tok, NULL, &b), 200);
    T_CONTAINS(b.data, "{\"order\":{\"orderId\":\"028-1234567-8901234\"");
    T_CONTAINS(b.data, "\"fulfillmentStatus\":\"SHIPPED\"");
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders/114-9876543-1234567", tok, NULL, &b), 200);
    T_CONTAINS(b.data, "IN_STORE_PICK_UP");
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders/TEST_CASE_400", tok, NULL, &b), 400);
    T_EQ(http(sim, "GET", "/reports/2021-06-30/documents/0356cf79-b8b0-4226-b4b9-0ee058ea5760", tok, NULL, &b), 200);
    T_CONTAINS(b.data, "Report_47700__GET_MERCHANT_LISTINGS_ALL_DATA_.txt");
    T_EQ(http(sim, "GET", "/feeds/2021-06-30/documents/0356cf79-b8b0-4226-b4b9-0ee058ea5760", tok, NULL, &b), 200);
    T_CONTAINS(b.data, "\"feedDocumentId\":\"0356cf79-b8b0-4226-b4b9-0ee058ea5760\"");
    T_EQ(http(sim, "GET", "/listings/2021-08-01/items/A1SIMSELLER0001?identifiersType=SKU&identifiers=GM-ZDPI-9B4E,HW-ZDPI-9B4E,"
                          "TC-ZDPI-9B4E&marketplaceIds=ATVPDKIKX0DER,A2EUQ1WTGCTBG2&includedData=summaries,offers,"
                          "fulfillmentAvailability,issues&pageSize=1", tok, NULL, &b), 200);
    T_CONTAINS(b.data, "\"numberOfResults\":3");
    T_EQ(http(sim, "GET", "/listings/2021-08-01/items/SellerId?marketplaceIds=invalid", tok, NULL, &b), 400);
    T_STREQ(code_of(&b, code, sizeof code), "BAD_REQUEST");
    T_EQ(http(sim, "GET", "/nowhere", tok, NULL, &b), 404);
    /* throttling: a bucket at Amazon's rate (time scale 1) */
    sb_sim_stop(sim);
    sb_sim_options o2 = {.time_scale = 1};
    T_EQ(sb_sim_start(&o2, &sim, err), 0);
    get_token(sim, tok, sizeof tok);
    int ok = 0, throttled = 0;
    for (int i = 0; i < 25; i++) {
        long st = http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z", tok, NULL, &b);
        ok += st == 200;
        if (st == 429) { throttled++; T_STREQ(code_of(&b, code, sizeof code), "QuotaExceeded"); }
    }
    T_EQ(ok, 20);          /* the burst */
    T_EQ(throttled, 5);
    atomic_fetch_add(&fake_ms, 180000);   /* one token per ~180 s */
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z", tok, NULL, &b), 200);
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders?lastUpdatedAfter=2026-11-01T00:00:00Z", tok, NULL, &b), 429);
    /* token expiry */
    sb_sim_expire_tokens(sim);
    T_EQ(http(sim, "GET", "/orders/2026-01-01/orders/x", tok, NULL, &b), 403);
    T_CONTAINS(b.data, "has expired");
    T_EQ(sb_sim_reset(sim, err), 0);
    T_EQ(sb_sim_request_count(sim), 0);
    sb_sim_stop(sim);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("whole test %.2f s\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    sb_buf_free(&b);
    sb_clock_set(NULL);
    return t_done();
}
