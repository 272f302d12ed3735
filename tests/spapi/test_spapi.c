/* test_spapi.c: the SP-API client against the in-process simulator: LWA caching and
 * refresh, searchOrders paging (token encoding, identical filters), getOrder,
 * confirmShipment, every fault kind (recovers within the retry budget or ends in one
 * clear error), rate limits on a fake clock (no 429 at the published pace; recovery when
 * the simulator is stricter), Feeds, Reports and Listings, the requests that go out once
 * (SB_EAMBIG, getFeeds/getReports), and no secret in any error, log line or recorded
 * request. */
#include "common.h"
#include "spapi/spapi_int.h"      /* sp_bucket_wait_ms */

#define NOW "2026-11-27T12:00:00Z"

static const char *scenario =
    "{\"orders\":["
    " {\"orderId\":\"111-0000001-0000001\",\"createdTime\":\"2026-11-20T10:00:00Z\",\"lastUpdatedTime\":\"2026-11-20T10:05:00Z\","
    "  \"programs\":[],\"salesChannel\":{\"marketplaceId\":\"ATVPDKIKX0DER\"},"
    "  \"buyer\":{\"buyerName\":\"Ann Lee\",\"buyerEmail\":\"ann@marketplace.amazon.com\"},"
    "  \"recipient\":{\"deliveryAddress\":{\"name\":\"Ann Lee\",\"city\":\"Austin\",\"stateOrRegion\":\"TX\",\"countryCode\":\"US\"}},"
    "  \"proceeds\":{\"grandTotal\":{\"amount\":\"20.00\",\"currencyCode\":\"USD\"}},"
    "  \"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\",\"fulfillmentServiceLevel\":\"STANDARD\"},"
    "  \"orderItems\":[{\"orderItemId\":\"79039765272157\",\"quantityOrdered\":2,"
    "    \"product\":{\"asin\":\"B000TEST01\",\"title\":\"Widget\",\"sellerSku\":\"W-1\",\"price\":{\"unitPrice\":{\"amount\":\"10.00\",\"currencyCode\":\"USD\"}}}}]}"
    "],"
    "\"listings\":["
    " {\"sku\":\"W-1\",\"asin\":\"B000TEST01\",\"title\":\"Widget\",\"price\":\"10.00\",\"quantity\":5,\"open_date\":\"2026-01-02T03:04:05Z\"},"
    " {\"sku\":\"W-2\",\"asin\":\"B000TEST02\",\"title\":\"Gadget\",\"price\":\"12.50\",\"quantity\":7},"
    " {\"sku\":\"F-1\",\"asin\":\"B000TEST03\",\"title\":\"FBA thing\",\"price\":\"3.00\",\"fulfillment_channel\":\"AMAZON_NA\"}"
    "]}";

static const char *mp_us[] = {"ATVPDKIKX0DER"};

static void test_lwa_and_search(sb_sim *sim, sb_spapi *s) {
    char err[SB_ERRLEN] = "";
    sb_buf body;
    sb_buf_init(&body, 64u << 20);
    sb_search_orders_params p = {.last_updated_after = "2026-10-27T00:00:00Z", .last_updated_before = "2026-11-27T11:55:00Z",
                                 .marketplace_ids = NULL, .max_results = 100,
                                 .included_data = "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT"};
    /* page through everything: 250 generated + 1 stored */
    int pages = 0;
    long total = 0;
    char token[512] = "";
    sb_sim_requests_clear(sim);
    do {
        p.pagination_token = token[0] ? token : NULL;
        int rc = sb_spapi_search_orders(s, &p, &body, err);
        T_EQ(rc, 0);
        if (rc) { fprintf(stderr, "%s\n", err); break; }
        sb_json *j = NULL;
        T_EQ(sb_json_parse(body.data, body.len, &j, err), 0);
        total += (long)sb_json_len(j, SB_JSON_ROOT, "orders");
        if (pages == 0) T_STREQ(sb_json_str(j, SB_JSON_ROOT, "lastUpdatedBefore"), "2026-11-27T11:55:00Z");
        token[0] = '\0';
        sb_json_strcpy(j, SB_JSON_ROOT, "pagination.nextToken", token, sizeof token);
        if (token[0]) T_CHECK(strchr(token, '+') != NULL);   /* the simulator's tokens need encoding */
        sb_json_free(j);
        pages++;
    } while (token[0] && pages < 10);
    T_EQ(total, 251);
    T_EQ(pages, 3);
    T_EQ(sb_spapi_token_refreshes(s), 1);   /* one LWA call for all pages */

    /* every page carried identical filters, and the token exactly once percent-encoded */
    sb_json *log = requests(sim);
    size_t n = sb_json_len(log, SB_JSON_ROOT, NULL), searches = 0;
    const char *first_after = NULL;
    for (size_t i = 0; i < n; i++) {
        int r = sb_json_at(log, SB_JSON_ROOT, i);
        const char *op = sb_json_str(log, r, "op");
        if (strcmp(op, "searchOrders")) continue;
        searches++;
        const char *q = sb_json_str(log, r, "query");
        if (!first_after) first_after = sb_json_str(log, r, "args.lastUpdatedAfter");
        T_STREQ(sb_json_str(log, r, "args.lastUpdatedAfter"), "2026-10-27T00:00:00Z");
        T_STREQ(sb_json_str(log, r, "args.lastUpdatedBefore"), "2026-11-27T11:55:00Z");
        T_STREQ(sb_json_str(log, r, "args.includedData"), "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT");
        T_STREQ(sb_json_str(log, r, "args.maxResultsPerPage"), "100");
        T_CONTAINS(q, "lastUpdatedAfter=2026-10-27T00%3A00%3A00Z");
        if (searches > 1) {
            T_CONTAINS(q, "paginationToken=%2B%2F%2B%2F");
            T_CHECK(strstr(q, "%252B") == NULL);          /* not double-encoded */
            T_CHECK(strchr(strstr(q, "paginationToken="), '+') == NULL);
        }
        T_STREQ(sb_json_str(log, r, "headers.x-amz-access-token"), "****");
        T_CONTAINS(sb_json_str(log, r, "headers.user-agent"), "sellerbridge/");
        T_CONTAINS(sb_json_str(log, r, "headers.user-agent"), "(Language=C; Platform=Linux)");
    }
    T_EQ(searches, 3);
    sb_json_free(log);

    /* the 2-minute rule is refused before any request */
    size_t before_count = sb_sim_request_count(sim);
    sb_search_orders_params bad = p;
    bad.pagination_token = NULL;
    bad.last_updated_before = "2026-11-27T11:59:00Z";
    T_EQ(sb_spapi_search_orders(s, &bad, &body, err), SB_EINVAL);
    T_CONTAINS(err, "at least 2 minutes in the past");
    bad.last_updated_before = NULL;
    bad.last_updated_after = NULL;
    T_EQ(sb_spapi_search_orders(s, &bad, &body, err), SB_EINVAL);
    bad.last_updated_after = "yesterday";
    T_EQ(sb_spapi_search_orders(s, &bad, &body, err), SB_EINVAL);
    T_CONTAINS(err, "not an ISO 8601");
    T_EQ(sb_sim_request_count(sim), before_count);

    /* Amazon-side validation comes back as one clear line */
    const char *badmp[] = {"XXNOTAMARKET"};
    sb_search_orders_params m = p;
    m.pagination_token = NULL;
    m.marketplace_ids = badmp;
    m.nmarketplaces = 1;
    T_EQ(sb_spapi_search_orders(s, &m, &body, err), SB_EHTTP);
    T_CONTAINS(err, "searchOrders: HTTP 400 InvalidInput: Invalid marketplaceId: XXNOTAMARKET (request id sim-");

    /* a token with other filters is refused by the simulator, as Amazon does */
    p.pagination_token = NULL;
    p.max_results = 1;
    T_EQ(sb_spapi_search_orders(s, &p, &body, err), 0);
    sb_json *j = NULL;
    sb_json_parse(body.data, body.len, &j, err);
    sb_json_strcpy(j, SB_JSON_ROOT, "pagination.nextToken", token, sizeof token);
    sb_json_free(j);
    p.pagination_token = token;
    p.last_updated_after = "2026-10-28T00:00:00Z";
    T_EQ(sb_spapi_search_orders(s, &p, &body, err), SB_EHTTP);
    T_CONTAINS(err, "Invalid paginationToken");
    sb_buf_free(&body);
}

static void test_get_confirm(sb_sim *sim, sb_spapi *s) {
    char err[SB_ERRLEN] = "";
    sb_buf body;
    sb_buf_init(&body, 1 << 20);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", "BUYER,FULFILLMENT", &body, err), 0);
    T_CONTAINS(body.data, "\"buyerName\":\"Ann Lee\"");
    T_CONTAINS(body.data, "\"fulfillmentStatus\":\"UNSHIPPED\"");
    T_CHECK(strstr(body.data, "\"recipient\"") == NULL);     /* not requested */
    T_CONTAINS(body.data, "\"programs\":[]");
    T_EQ(sb_spapi_get_order(s, "TEST_CASE_400", NULL, &body, err), SB_EHTTP);
    T_CONTAINS(err, "getOrder: HTTP 400 InvalidInput: Invalid Input (request id ");
    T_EQ(sb_spapi_get_order(s, "999-9999999-9999999", NULL, &body, err), SB_EHTTP);
    T_CONTAINS(err, "getOrder: HTTP 404 NotFound");

    sb_shipment_item items[] = {{"79039765272157", 2}};
    sb_shipment sh = {.order_id = "111-0000001-0000001", .marketplace_id = "ATVPDKIKX0DER", .package_reference_id = "1",
                      .carrier_code = "Other", .carrier_name = "Aramex", .shipping_method = "Road",
                      .tracking_number = "TRK123", .ship_date = "2026-11-27T09:00:00Z", .items = items, .nitems = 1};
    sb_shipment b = sh;
    b.carrier_name = NULL;
    T_EQ(sb_spapi_confirm_shipment(s, &b, err), SB_EINVAL);
    T_CONTAINS(err, "carrierName is required");
    b = sh;
    b.package_reference_id = "PKG-1";
    T_EQ(sb_spapi_confirm_shipment(s, &b, err), SB_EINVAL);
    T_CONTAINS(err, "packageReferenceId 'PKG-1' must be a positive number");
    b = sh;
    b.ship_date = "02/21/2022";
    T_EQ(sb_spapi_confirm_shipment(s, &b, err), SB_EINVAL);
    sb_sim_requests_clear(sim);
    T_EQ(sb_spapi_confirm_shipment(s, &sh, err), 0);
    sb_json *log = requests(sim);
    const char *sent = sb_json_str(log, SB_JSON_ROOT, "[0].body");
    T_CONTAINS(sent, "\"packageReferenceId\":\"1\"");
    T_CONTAINS(sent, "\"orderItems\":[{\"orderItemId\":\"79039765272157\",\"quantity\":2}]");
    T_CONTAINS(sent, "\"carrierName\":\"Aramex\"");
    T_STREQ(sb_json_str(log, SB_JSON_ROOT, "[0].headers.content-type"), "application/json");
    sb_json_free(log);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", "FULFILLMENT", &body, err), 0);
    T_CONTAINS(body.data, "\"fulfillmentStatus\":\"SHIPPED\"");
    /* the sandbox case with a non-ISO shipDate, through the raw-body variant */
    T_EQ(sb_spapi_confirm_shipment_json(s, "902-1106328-1059050",
                                        "{\"marketplaceId\":\"ATVPDKIKX0DER\",\"packageDetail\":{\"packageReferenceId\":\"1\","
                                        "\"carrierCode\":\"FedEx\",\"trackingNumber\":\"1\",\"shipDate\":\"02/21/2022\","
                                        "\"orderItems\":[{\"orderItemId\":\"1\",\"quantity\":1}]}}", err), SB_EHTTP);
    T_CONTAINS(err, "confirmShipment: HTTP 400 Invalid Input: Invalid Input");
    sb_buf_free(&body);
}

/* Each fault once: recovered. Each fault past the budget: one clear error. */
static void test_faults(sb_sim *sim, sb_spapi *s) {
    char err[SB_ERRLEN], f[256];
    sb_buf body;
    sb_buf_init(&body, 1 << 20);
    static const char *kinds[] = {"500", "503", "drop", "truncate", "badjson", "expiredtoken", "429"};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        sb_spapi_stats before[SB_OP_COUNT], after[SB_OP_COUNT];
        sb_spapi_get_stats(s, before);
        snprintf(f, sizeof f, "{\"op\":\"getOrder\",\"kind\":\"%s\",\"count\":2}", kinds[k]);
        T_EQ(sb_sim_fault_add(sim, f, err), 0);
        int rc = sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err);
        if (!strcmp(kinds[k], "expiredtoken")) {
            /* one refresh-and-retry only: the second 403 is reported */
            T_EQ(rc, SB_EAUTH);
            T_CONTAINS(err, "getOrder: HTTP 403 Unauthorized: Access to requested resource is denied. "
                            "(The access token you provided has expired.)");
            sb_sim_faults_clear(sim);
            continue;
        }
        if (rc) fprintf(stderr, "fault %s: %s\n", kinds[k], err);
        T_EQ(rc, 0);
        T_CONTAINS(body.data, "111-0000001-0000001");
        sb_spapi_get_stats(s, after);
        T_EQ(after[SB_OP_GET_ORDER].retries - before[SB_OP_GET_ORDER].retries, 2);
        if (!strcmp(kinds[k], "429")) T_EQ(after[SB_OP_GET_ORDER].throttled - before[SB_OP_GET_ORDER].throttled, 2);
        /* past the budget (max_retries 3): ends with one error */
        snprintf(f, sizeof f, "{\"op\":\"getOrder\",\"kind\":\"%s\",\"count\":10}", kinds[k]);
        sb_sim_fault_add(sim, f, err);
        rc = sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err);
        T_CHECK(rc == SB_EHTTP || rc == SB_ETHROTTLED);
        T_CHECK(!strncmp(err, "getOrder: ", 10));
        if (!strcmp(kinds[k], "503")) T_CONTAINS(err, "HTTP 503 ServiceUnavailable");
        if (!strcmp(kinds[k], "429")) { T_EQ(rc, SB_ETHROTTLED); T_CONTAINS(err, "HTTP 429 QuotaExceeded"); }
        if (!strcmp(kinds[k], "badjson")) T_CONTAINS(err, "invalid JSON");
        if (strcmp(kinds[k], "429")) T_CONTAINS(err, "gave up after 4 attempts");
        sb_sim_faults_clear(sim);
    }
    /* expired token once: refreshed and retried */
    long r0 = sb_spapi_token_refreshes(s);
    sb_sim_fault_add(sim, "{\"op\":\"getOrder\",\"kind\":\"expiredtoken\",\"count\":1}", err);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), 0);
    T_EQ(sb_spapi_token_refreshes(s), r0 + 1);
    /* all tokens expire on the server side */
    sb_sim_expire_tokens(sim);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), 0);
    T_EQ(sb_spapi_token_refreshes(s), r0 + 2);
    /* invalid pagination token: not retried */
    sb_sim_fault_add(sim, "{\"op\":\"searchOrders\",\"kind\":\"badtoken\",\"count\":1}", err);
    sb_search_orders_params p = {.last_updated_after = "2026-11-01T00:00:00Z", .pagination_token = "abc"};
    T_EQ(sb_spapi_search_orders(s, &p, &body, err), SB_EHTTP);
    T_CONTAINS(err, "searchOrders: HTTP 400 InvalidInput: Invalid paginationToken");
    /* LWA 500 once, then fine */
    sb_spapi_forget_token(s);
    sb_sim_fault_add(sim, "{\"op\":\"lwaToken\",\"kind\":\"503\",\"count\":1}", err);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), 0);
    sb_sim_faults_clear(sim);
    sb_buf_free(&body);
}

/* A delay past the client's timeout: retried, then recovered; or a clear timeout error. */
static void test_timeout(sb_sim *sim) {
    char err[SB_ERRLEN];
    sb_buf body;
    sb_buf_init(&body, 1 << 20);
    sb_spapi *s = client_for(sim, NULL, 300, err);
    T_CHECK(s != NULL);
    sb_sim_fault_add(sim, "{\"op\":\"getOrder\",\"kind\":\"delay\",\"delay_ms\":1500,\"count\":1}", err);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), 0);
    sb_sim_fault_add(sim, "{\"op\":\"getOrder\",\"kind\":\"delay\",\"delay_ms\":1500,\"count\":4}", err);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), SB_EHTTP);
    T_CONTAINS(err, "getOrder: ");
    T_CONTAINS(err, "gave up after 4 attempts");
    T_CONTAINS(err, "imed out");
    sb_sim_faults_clear(sim);
    sb_spapi_free(s);
    sb_buf_free(&body);
}

static void test_lwa_errors(sb_sim *sim) {
    char err[SB_ERRLEN] = "";
    sb_buf body;
    sb_buf_init(&body, 1 << 20);
    sb_spapi *s = client_for(sim, "Atzr|WRONG-refresh-token-secret-value", 2000, err);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), SB_EAUTH);
    T_CONTAINS(err, "getOrder: LWA token");
    T_CONTAINS(err, "HTTP 400 invalid_grant: The request has an invalid grant parameter : refresh_token");
    T_CHECK(strstr(err, "WRONG-refresh-token-secret-value") == NULL);
    T_CHECK(strstr(err, SB_SIM_CLIENT_SECRET) == NULL);
    sb_spapi_free(s);
    char lwa[128];
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", sb_sim_url(sim));
    sb_spapi_config c = {.endpoint = sb_sim_url(sim), .lwa_endpoint = lwa, .client_id = SB_SIM_CLIENT_ID,
                         .client_secret = "wrong-client-secret-value", .refresh_token = SB_SIM_REFRESH_TOKEN,
                         .timeout_ms = 2000, .retry_base_ms = 10};
    s = sb_spapi_new(&c, err);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), SB_EAUTH);
    T_CONTAINS(err, "HTTP 401 invalid_client: Client authentication failed");
    T_CHECK(strstr(err, "wrong-client-secret-value") == NULL);
    sb_spapi_free(s);
    c.client_secret = NULL;
    T_CHECK(sb_spapi_new(&c, err) == NULL);
    T_CONTAINS(err, "client secret is not set");
    sb_buf_free(&body);
}

/* The token is refreshed 60 s before it expires, not after. */
static void test_token_refresh_early(sb_sim *sim, sb_spapi *s) {
    char err[SB_ERRLEN];
    sb_buf body;
    sb_buf_init(&body, 1 << 20);
    sb_spapi_forget_token(s);
    long r0 = sb_spapi_token_refreshes(s);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), 0);
    T_EQ(sb_spapi_token_refreshes(s), r0 + 1);
    atomic_fetch_add(&fake_ms, (int64_t)3500 * 1000);     /* 100 s left: still cached */
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), 0);
    T_EQ(sb_spapi_token_refreshes(s), r0 + 1);
    atomic_fetch_add(&fake_ms, (int64_t)45 * 1000);       /* 55 s left: refreshed early */
    sb_sim_requests_clear(sim);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), 0);
    T_EQ(sb_spapi_token_refreshes(s), r0 + 2);
    sb_json *log = requests(sim);
    T_STREQ(sb_json_str(log, SB_JSON_ROOT, "[0].op"), "lwaToken");
    T_EQ(sb_json_num(log, SB_JSON_ROOT, "[0].status", 0), 200);   /* never a 403 first */
    T_STREQ(sb_json_str(log, SB_JSON_ROOT, "[1].op"), "getOrder");
    T_EQ(sb_json_num(log, SB_JSON_ROOT, "[1].status", 0), 200);
    const char *form = sb_json_str(log, SB_JSON_ROOT, "[0].body");
    T_CONTAINS(form, "grant_type=refresh_token&refresh_token=****");
    T_CONTAINS(sb_json_str(log, SB_JSON_ROOT, "[0].headers.content-type"), "application/x-www-form-urlencoded");
    sb_json_free(log);
    sb_buf_free(&body);
}

/* Published pace on a fake clock: no 429 at all. Stricter simulator: recovers. */
static void test_rates(sb_sim *sim, sb_spapi *s) {
    char err[SB_ERRLEN];
    sb_buf body;
    sb_buf_init(&body, 4u << 20);
    long th0 = sb_sim_throttled(sim, NULL);
    int64_t t0 = atomic_load(&fake_ms);
    sb_shipment_item items[] = {{"79039765272157", 1}};
    sb_shipment sh = {.order_id = "902-1106328-1059050", .marketplace_id = "ATVPDKIKX0DER", .package_reference_id = "1",
                      .carrier_code = "FedEx", .tracking_number = "1Z", .ship_date = "2026-11-27T09:00:00Z",
                      .items = items, .nitems = 1};
    int fails = 0;
    for (int i = 0; i < 60; i++) fails += sb_spapi_confirm_shipment(s, &sh, err) != 0;   /* sandbox 204 case */
    T_EQ(fails, 0);
    T_EQ(sb_sim_throttled(sim, NULL), th0);
    /* 10 burst + 50 at 2/s = at least 25 s of (fake) time */
    T_CHECK(atomic_load(&fake_ms) - t0 >= 24000);
    sb_search_orders_params p = {.last_updated_after = "2026-11-26T00:00:00Z", .max_results = 5};
    t0 = atomic_load(&fake_ms);
    for (int i = 0; i < 25; i++) fails += sb_spapi_search_orders(s, &p, &body, err) != 0;
    T_EQ(fails, 0);
    T_EQ(sb_sim_throttled(sim, "searchOrders"), 0);
    /* the bucket started with some tokens used above; >= 4 waits of ~179 s */
    T_CHECK(atomic_load(&fake_ms) - t0 >= 4 * 178000);

    /* the simulator is stricter than published (getOrder 0.1/s, burst 3), no header */
    sb_sim_set_rate(sim, "getOrder", 0.1, 3, 0);
    sb_spapi_stats a[SB_OP_COUNT], b[SB_OP_COUNT];
    sb_spapi_get_stats(s, a);
    for (int i = 0; i < 20; i++) {
        int rc = sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err);
        if (rc) fprintf(stderr, "strict getOrder %d: %s\n", i, err);
        fails += rc != 0;
    }
    T_EQ(fails, 0);
    sb_spapi_get_stats(s, b);
    T_CHECK(b[SB_OP_GET_ORDER].throttled > a[SB_OP_GET_ORDER].throttled);
    /* with x-amzn-RateLimit-Limit the client adopts the stricter rate: no more 429s */
    sb_sim_set_rate(sim, "getOrder", 0.1, 3, 1);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), 0);
    atomic_fetch_add(&fake_ms, 60000);
    sb_spapi_get_stats(s, a);
    for (int i = 0; i < 20; i++) fails += sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err) != 0;
    T_EQ(fails, 0);
    sb_spapi_get_stats(s, b);
    /* at most the one 429 that reveals the smaller burst (Amazon does not publish it) */
    T_CHECK(b[SB_OP_GET_ORDER].throttled - a[SB_OP_GET_ORDER].throttled <= 1);
    T_CHECK(b[SB_OP_GET_ORDER].rate < 0.11);
    sb_sim_set_rate(sim, "getOrder", 0, 0, 1);
    sb_buf_free(&body);
}

static void test_feeds_reports_listings(sb_sim *sim, sb_spapi *s) {
    char err[SB_ERRLEN] = "", id[128];
    sb_buf body;
    sb_buf_init(&body, 16u << 20);
    sb_spapi_document doc;
    T_EQ(sb_spapi_create_feed_document(s, "application/json; charset=UTF-8", &doc, err), 0);
    T_CHECK(doc.id[0] && doc.url[0]);
    const char *feed = "{\"header\":{\"sellerId\":\"" SB_SIM_SELLER_ID "\",\"version\":\"2.0\"},\"messages\":["
                       "{\"messageId\":1,\"sku\":\"W-1\",\"operationType\":\"PATCH\",\"productType\":\"PRODUCT\","
                       "\"patches\":[{\"op\":\"replace\",\"path\":\"/attributes/fulfillment_availability\","
                       "\"value\":[{\"fulfillment_channel_code\":\"DEFAULT\",\"quantity\":42,\"lead_time_to_ship_max_days\":3}]}]},"
                       "{\"messageId\":2,\"sku\":\"NOPE\",\"operationType\":\"PATCH\",\"productType\":\"PRODUCT\",\"patches\":[]}]}";
    /* the wrong content type is what breaks real uploads */
    T_EQ(sb_spapi_upload_document(s, doc.url, "application/json", feed, strlen(feed), err), SB_EAUTH);
    T_CONTAINS(err, "uploadFeedDocument: HTTP 403: ");
    T_CONTAINS(err, "SignatureDoesNotMatch");
    T_CHECK(strstr(err, "sig=") == NULL);      /* the pre-signed query is not logged */
    T_EQ(sb_spapi_upload_document(s, doc.url, "application/json; charset=UTF-8", feed, strlen(feed), err), 0);
    T_EQ(sb_spapi_create_feed(s, "JSON_LISTINGS_FEED", mp_us, 1, doc.id, id, sizeof id, err), 0);
    sb_spapi_processing st;
    int polls = 0;
    do { T_EQ(sb_spapi_get_feed(s, id, &st, err), 0); polls++; } while (strcmp(st.status, "DONE") && polls < 10);
    T_STREQ(st.status, "DONE");
    T_STREQ(st.type, "JSON_LISTINGS_FEED");
    T_CHECK(st.document_id[0] != '\0');
    sb_spapi_document rd;
    T_EQ(sb_spapi_get_feed_document(s, st.document_id, &rd, &body, err), 0);
    T_STREQ(rd.compression, "GZIP");
    T_CONTAINS(body.data, "\"messagesAccepted\":1");
    T_CONTAINS(body.data, "\"messagesInvalid\":1");
    T_EQ(sb_sim_listing_quantity(sim, "W-1"), 42);
    T_EQ(sb_spapi_create_feed(s, "JSON_LISTINGS_FEED", mp_us, 1, "no-such-doc", id, sizeof id, err), SB_EHTTP);
    T_CONTAINS(err, "createFeed: HTTP 400 400: Invalid input (inputFeedDocumentId does not exist)");

    /* report */
    T_EQ(sb_spapi_create_report(s, "GET_MERCHANT_LISTINGS_ALL_DATA", mp_us, 1, NULL, id, sizeof id, err), 0);
    polls = 0;
    do { T_EQ(sb_spapi_get_report(s, id, &st, err), 0); polls++; } while (strcmp(st.status, "DONE") && polls < 10);
    T_STREQ(st.status, "DONE");
    T_EQ(sb_spapi_get_report_document(s, st.document_id, &rd, &body, err), 0);
    T_CHECK(body.data && !strncmp(body.data, "item-name\titem-description\tlisting-id\tseller-sku\t", 49));
    T_CONTAINS(body.data, "\tW-2\t12.50\t7\t");
    T_CONTAINS(body.data, "\tW-1\t10.00\t42\t2026-01-02 03:04:05 UTC\t");
    T_CONTAINS(body.data, "AMAZON_NA");

    /* listings */
    sb_search_listings_params lp = {.seller_id = SB_SIM_SELLER_ID, .marketplace_ids = mp_us, .nmarketplaces = 1,
                                    .included_data = "summaries,fulfillmentAvailability", .page_size = 2};
    T_EQ(sb_spapi_search_listings(s, &lp, &body, err), 0);
    sb_json *j = NULL;
    sb_json_parse(body.data, body.len, &j, err);
    T_EQ(sb_json_num(j, SB_JSON_ROOT, "numberOfResults", 0), 3);
    T_EQ(sb_json_len(j, SB_JSON_ROOT, "items"), 2);
    T_EQ(sb_json_num(j, SB_JSON_ROOT, "items[0].fulfillmentAvailability[0].quantity", -1), 42);
    char next[128];
    sb_json_strcpy(j, SB_JSON_ROOT, "pagination.nextToken", next, sizeof next);
    sb_json_free(j);
    lp.page_token = next;
    T_EQ(sb_spapi_search_listings(s, &lp, &body, err), 0);
    T_CONTAINS(body.data, "\"sku\":\"F-1\"");
    T_EQ(sb_spapi_patch_listings_quantity(s, SB_SIM_SELLER_ID, "W-2", mp_us, 1, "PRODUCT", 3, 2, &body, err), 0);
    T_CONTAINS(body.data, "\"status\":\"ACCEPTED\"");
    T_EQ(sb_sim_listing_quantity(sim, "W-2"), 3);
    T_EQ(sb_spapi_patch_listings_quantity(s, SB_SIM_SELLER_ID, "NO SUCH/SKU", mp_us, 1, "PRODUCT", 3, 2, NULL, err),
         SB_EINVAL);
    T_CONTAINS(err, "patchListingsItem: sku NO SUCH/SKU: status INVALID");
    sb_json *log = requests(sim);
    size_t n = sb_json_len(log, SB_JSON_ROOT, NULL);
    T_CONTAINS(sb_json_str(log, sb_json_at(log, SB_JSON_ROOT, n - 1), "path"), "/NO SUCH/SKU");   /* decoded */
    sb_json_free(log);
    T_EQ(sb_spapi_patch_listings_quantity(s, SB_SIM_SELLER_ID, "BadSKU", mp_us, 1, "PRODUCT", 3, 2, NULL, err), SB_EHTTP);
    T_CONTAINS(err, "patchListingsItem: HTTP 400 BAD_REQUEST: Invalid input (Invalid input)");
    sb_buf_free(&body);
}

/* The bucket's wait keeps a margin: 2% of one token's interval, at least 100 ms. */
static void test_bucket_margin(void) {
    T_EQ(sp_bucket_wait_ms(0.5, 2), 0);
    T_EQ(sp_bucket_wait_ms(-0.5, 2), 350);                 /* 250 ms + 100 ms */
    T_EQ(sp_bucket_wait_ms(-1, 0.0056), 182143);           /* searchOrders: 178.6 s + 3.6 s */
    T_EQ(sp_bucket_wait_ms(-1, 0), 0);                     /* no bucket */
}

/* A client that may wait at most a second: the 21st searchOrders of a burst is not made
 * (SB_ELATER, no request reaches Amazon), retry_at says when; at that time it is. */
static void test_come_back_later(sb_sim *sim) {
    char err[SB_ERRLEN] = "", lwa[128];
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", sb_sim_url(sim));
    sb_spapi_config c = {.endpoint = sb_sim_url(sim), .lwa_endpoint = lwa, .client_id = SB_SIM_CLIENT_ID,
                         .client_secret = SB_SIM_CLIENT_SECRET, .refresh_token = SB_SIM_REFRESH_TOKEN,
                         .max_retries = 3, .rate_scale = 1.0, .max_wait_ms = 1000};
    sb_spapi *s = sb_spapi_new(&c, err);
    T_CHECK(s != NULL);
    if (!s) return;
    sb_buf body;
    sb_buf_init(&body, 4u << 20);
    sb_search_orders_params p = {.last_updated_after = "2026-11-26T00:00:00Z", .max_results = 5};
    int fails = 0;
    atomic_fetch_add(&fake_ms, (int64_t)4000 * 1000);      /* the simulator's bucket is full again */
    for (int i = 0; i < 20; i++) fails += sb_spapi_search_orders(s, &p, &body, err) != 0;
    T_EQ(fails, 0);
    size_t n = sb_sim_request_count(sim);
    int64_t t0 = atomic_load(&fake_ms);
    T_EQ(sb_spapi_search_orders(s, &p, &body, err), SB_ELATER);
    T_CONTAINS(err, "searchOrders: Amazon's rate limit grants the next call at ");
    T_EQ(sb_sim_request_count(sim), n);                    /* nothing was sent */
    T_EQ(atomic_load(&fake_ms), t0);                       /* nothing was waited for */
    int64_t at = sb_spapi_retry_at(s, SB_OP_SEARCH_ORDERS);
    T_CHECK(at - t0 >= 178000 && at - t0 <= 190000);
    atomic_store(&fake_ms, at);
    T_EQ(sb_spapi_search_orders(s, &p, &body, err), 0);
    T_EQ(sb_sim_request_count(sim), n + 1);
    sb_buf_free(&body);
    sb_spapi_free(s);
}

/* Amazon's clock from its Date header: 40 s behind ours, measured to about a second; a
 * lastUpdatedBefore two minutes before our clock is then refused before any call. */
static void test_amazon_clock(sb_sim *sim) {
    char err[SB_ERRLEN] = "", before[32];
    T_EQ(sb_sim_configure(sim, "{\"clock_offset_s\":-40}", err), 0);
    sb_spapi *s = client_for(sim, NULL, 3000, err);
    T_CHECK(s != NULL);
    if (!s) return;
    int64_t skew = 1;
    T_EQ(sb_spapi_clock_skew(s, &skew), 0);                /* not measured before an answer */
    T_EQ(sb_spapi_measure_clock(s, err), 0);
    T_EQ(sb_spapi_clock_skew(s, &skew), 1);
    T_CHECK(skew <= -39000 && skew >= -41000);
    T_CHECK(sb_spapi_amazon_now(s) - (atomic_load(&fake_ms) - 40000) < 1500);
    sb_buf body;
    sb_buf_init(&body, 4u << 20);
    sb_time_format(atomic_load(&fake_ms) / 1000 - 125, before, sizeof before);
    sb_search_orders_params p = {.last_updated_after = "2026-11-26T00:00:00Z", .last_updated_before = before,
                                 .max_results = 5};
    size_t n = sb_sim_request_count(sim);
    T_EQ(sb_spapi_search_orders(s, &p, &body, err), SB_EINVAL);
    T_CONTAINS(err, "must be at least 2 minutes in the past");
    T_EQ(sb_sim_request_count(sim), n);
    sb_time_format(sb_spapi_amazon_now(s) / 1000 - 122, before, sizeof before);
    T_EQ(sb_spapi_search_orders(s, &p, &body, err), 0);
    sb_buf_free(&body);
    sb_spapi_free(s);
    T_EQ(sb_sim_configure(sim, "{\"clock_offset_s\":0}", err), 0);
}

/* The engine stopping: a GET is given up at once (SB_EINTR, a clear line); a POST, which
 * changes something on Amazon, is let finish. */
static void test_stop(sb_sim *sim) {
    char err[SB_ERRLEN] = "", lwa[128];
    static volatile int stop;
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", sb_sim_url(sim));
    sb_spapi_config c = {.endpoint = sb_sim_url(sim), .lwa_endpoint = lwa, .client_id = SB_SIM_CLIENT_ID,
                         .client_secret = SB_SIM_CLIENT_SECRET, .refresh_token = SB_SIM_REFRESH_TOKEN,
                         .max_retries = 3, .rate_scale = 1.0, .stop = &stop};
    sb_spapi *s = sb_spapi_new(&c, err);
    T_CHECK(s != NULL);
    if (!s) return;
    sb_buf body;
    sb_buf_init(&body, 4u << 20);
    atomic_fetch_add(&fake_ms, (int64_t)600 * 1000);
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), 0);
    stop = 1;
    T_EQ(sb_spapi_get_order(s, "111-0000001-0000001", NULL, &body, err), SB_EINTR);
    T_CONTAINS(err, "getOrder: given up: the engine is stopping");
    sb_shipment_item items[] = {{"79039765272157", 1}};
    sb_shipment sh = {.order_id = "902-1106328-1059050", .marketplace_id = "ATVPDKIKX0DER", .package_reference_id = "1",
                      .carrier_code = "FedEx", .tracking_number = "1Z", .ship_date = "2026-11-27T09:00:00Z",
                      .items = items, .nitems = 1};
    T_EQ(sb_spapi_confirm_shipment(s, &sh, err), 0);
    stop = 0;
    sb_buf_free(&body);
    sb_spapi_free(s);
}


/* confirmShipment, createFeed and createReport go out once: an outcome Amazon may have
 * acted on is SB_EAMBIG after one request; what it cannot have acted on is retried; an
 * idempotent PATCH is still retried after a 5xx. getFeeds/getReports find what was made. */
static void test_once(sb_sim *sim, sb_spapi *s) {
    char err[SB_ERRLEN] = "", id[128];
    sb_shipment_item items[] = {{"79039765272157", 1}};
    sb_shipment sh = {.order_id = "111-0000001-0000001", .marketplace_id = "ATVPDKIKX0DER", .package_reference_id = "7",
                      .carrier_code = "UPS", .tracking_number = "1Z7", .ship_date = "2026-11-27T09:00:00Z",
                      .items = items, .nitems = 1};
    static const char *ambiguous[] = {"{\"op\":\"confirmShipment\",\"kind\":\"500\"}",
                                      "{\"op\":\"confirmShipment\",\"kind\":\"503\",\"committed\":true}",
                                      "{\"op\":\"confirmShipment\",\"kind\":\"drop\",\"committed\":true}",
                                      "{\"op\":\"confirmShipment\",\"kind\":\"badjson\"}"};
    for (int k = 0; k < 3; k++) {
        sb_sim_requests_clear(sim);
        T_EQ(sb_sim_fault_add(sim, ambiguous[k], err), 0);
        T_EQ(sb_spapi_confirm_shipment(s, &sh, err), SB_EAMBIG);
        T_CONTAINS(err, "confirmShipment: ");
        T_CONTAINS(err, "not sent again");
        T_EQ(sim_calls(sim, "confirmShipment"), 1);
    }
    /* a 204 with a body that is not JSON is no problem: confirmShipment has no body to read */
    sb_sim_requests_clear(sim);
    T_EQ(sb_sim_fault_add(sim, ambiguous[3], err), 0);
    T_EQ(sb_spapi_confirm_shipment(s, &sh, err), 0);
    T_EQ(sim_calls(sim, "confirmShipment"), 1);
    /* Amazon did not act on a 429 or a refused token: those are repeated */
    sb_sim_requests_clear(sim);
    T_EQ(sb_sim_fault_add(sim, "[{\"op\":\"confirmShipment\",\"kind\":\"429\"},"
                               "{\"op\":\"confirmShipment\",\"kind\":\"expiredtoken\"}]", err), 0);
    T_EQ(sb_spapi_confirm_shipment(s, &sh, err), 0);
    T_EQ(sim_calls(sim, "confirmShipment"), 3);
    sb_sim_faults_clear(sim);
    /* createFeed: a 503 Amazon acted on is ambiguous; getFeeds shows the feed it made */
    sb_spapi_document doc;
    T_EQ(sb_spapi_create_feed_document(s, "application/json", &doc, err), 0);
    T_EQ(sb_spapi_upload_document(s, doc.url, "application/json", "{\"messages\":[]}", 15, err), 0);
    sb_sim_requests_clear(sim);
    T_EQ(sb_sim_fault_add(sim, "{\"op\":\"createFeed\",\"kind\":\"503\",\"committed\":true}", err), 0);
    T_EQ(sb_spapi_create_feed(s, "JSON_LISTINGS_FEED", mp_us, 1, doc.id, id, sizeof id, err), SB_EAMBIG);
    T_EQ(sim_calls(sim, "createFeed"), 1);
    sb_spapi_processing list[200];
    int n = -1;
    char since[32];
    sb_time_format(sb_now() - 60, since, sizeof since);
    T_EQ(sb_spapi_get_feeds(s, "JSON_LISTINGS_FEED", "ATVPDKIKX0DER", since, list, 200, &n, err), 0);
    T_CHECK(n >= 1);
    if (n >= 1) {
        T_STREQ(list[0].type, "JSON_LISTINGS_FEED");
        T_STREQ(list[0].status, "IN_QUEUE");
        T_CHECK(sb_time_parse_ms(list[0].created) >= (sb_now() - 60) * 1000);
    }
    T_EQ(sb_spapi_get_feeds(s, "JSON_LISTINGS_FEED", NULL, "2099-01-01T00:00:00Z", list, 200, &n, err), 0);
    T_EQ(n, 0);
    T_EQ(sb_spapi_get_feeds(s, "JSON_LISTINGS_FEED", NULL, "yesterday", list, 200, &n, err), SB_EINVAL);
    /* createReport: the same */
    sb_sim_requests_clear(sim);
    T_EQ(sb_sim_fault_add(sim, "{\"op\":\"createReport\",\"kind\":\"drop\",\"committed\":true}", err), 0);
    T_EQ(sb_spapi_create_report(s, "GET_MERCHANT_LISTINGS_ALL_DATA", mp_us, 1, NULL, id, sizeof id, err), SB_EAMBIG);
    T_EQ(sim_calls(sim, "createReport"), 1);
    T_EQ(sb_spapi_get_reports(s, "GET_MERCHANT_LISTINGS_ALL_DATA", "ATVPDKIKX0DER", since, list, 200, &n, err), 0);
    T_CHECK(n >= 1);
    /* patchListingsItem sets a value: a 500 is still retried */
    sb_sim_requests_clear(sim);
    T_EQ(sb_sim_fault_add(sim, "{\"op\":\"patchListingsItem\",\"kind\":\"500\"}", err), 0);
    T_EQ(sb_spapi_patch_listings_quantity(s, SB_SIM_SELLER_ID, "W-2", mp_us, 1, "PRODUCT", 6, 2, NULL, err), 0);
    T_EQ(sim_calls(sim, "patchListingsItem"), 2);
    sb_sim_faults_clear(sim);
}

int main(void) {
    char err[SB_ERRLEN] = "";
    fake_clock_install(NOW);
    capture_stderr();
    sb_sim_options o = {.scenario_json = scenario, .generate = 250, .seed = 7};
    sb_sim *sim = NULL;
    T_EQ(sb_sim_start(&o, &sim, err), 0);
    if (!sim) { fflush(stderr); printf("sim start: %s\n", err); return 1; }
    sb_spapi *s = client_for(sim, NULL, 3000, err);
    T_CHECK(s != NULL);
    test_lwa_and_search(sim, s);
    test_get_confirm(sim, s);
    test_faults(sim, s);
    test_timeout(sim);
    test_lwa_errors(sim);
    test_token_refresh_early(sim, s);
    test_rates(sim, s);
    test_feeds_reports_listings(sim, s);
    test_bucket_margin();
    test_come_back_later(sim);
    test_amazon_clock(sim);
    test_stop(sim);
    test_once(sim, s);

    sb_buf m;
    sb_buf_init(&m, 1 << 20);
    T_EQ(sb_spapi_metrics(s, &m), 0);
    T_CONTAINS(m.data, "sellerbridge_spapi_calls_total{op=\"searchOrders\"} ");
    T_CONTAINS(m.data, "sellerbridge_spapi_throttled_total{op=\"getOrder\"} ");
    sb_buf_free(&m);
    /* no secret in the request log */
    sb_buf rl;
    sb_buf_init(&rl, 256u << 20);
    sb_sim_requests_json(sim, &rl);
    T_CHECK(strstr(rl.data, SB_SIM_CLIENT_SECRET) == NULL);
    T_CHECK(strstr(rl.data, SB_SIM_REFRESH_TOKEN) == NULL);
    T_CHECK(strstr(rl.data, "Atza|sim-") == NULL);
    sb_buf_free(&rl);
    sb_spapi_free(s);
    sb_sim_stop(sim);
    sb_clock_set(NULL);
    char *logs = captured_stderr();
    T_CHECK(strstr(logs, "spapi call failed, retrying op=getOrder") != NULL);   /* logs are written */
    T_CHECK(strstr(logs, SB_SIM_CLIENT_SECRET) == NULL);
    T_CHECK(strstr(logs, SB_SIM_REFRESH_TOKEN) == NULL);
    T_CHECK(strstr(logs, "WRONG-refresh-token-secret-value") == NULL);
    T_CHECK(strstr(logs, "wrong-client-secret-value") == NULL);
    T_CHECK(strstr(logs, "Atza|sim-") == NULL);
    free(logs);
    return t_done();
}
