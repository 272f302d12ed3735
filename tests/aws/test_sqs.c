/* test_sqs.c: sb_sqs against the simulator's SQS queue in-process (send, receive,
 * delete, visibility and receive counts, long polls, the stop flag, the delivery faults,
 * the dead-letter redrive, ORDER_CHANGE notifications) and against a scripted loopback
 * server for the answers the simulator does not give (an oversize message, a secret
 * echoed in an error). Time is the fake clock: a long poll's wait and a visibility
 * timeout pass when the test moves the clock, never by sleeping. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "aws/sqs.h"
#include "core/clock.h"
#include "core/scrub.h"
#include "json/json.h"
#include "sim/sim.h"
#include "sim/sim_int.h"
#include "capture.h"
#include "t.h"

static _Atomic int64_t fake_ms = 1764650000000LL;   /* 2025-12-02 */
static int64_t fnow(void *ud) { (void)ud; return atomic_load(&fake_ms); }
static void fsleep(void *ud, int64_t ms) { (void)ud; if (ms > 0) atomic_fetch_add(&fake_ms, ms); }
static const sb_clock fake = {fnow, fsleep, NULL};

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYsqsTESTKEY"

static sb_sim *start_sim(const char *scenario) {
    sb_sim_options o = {.scenario_json = scenario, .now_ms = fnow};
    sb_sim *sim = NULL;
    char err[SB_ERRLEN];
    int rc = sb_sim_start(&o, &sim, err);
    if (rc) fprintf(stderr, "sim: %s\n", err);
    T_EQ(rc, 0);
    return sim;
}

static sb_sqs *client(const char *base, volatile int *stop) {
    char url[256], err[SB_ERRLEN];
    snprintf(url, sizeof url, "%s/000000000000/sellerbridge-sim", base);
    sb_sqs_config c = {.queue_url = url, .region = "us-east-1", .access_key_id = "AKIDSQSTEST",
                       .secret_access_key = SECRET, .retry_base_ms = 10, .max_retries = 2, .stop = stop};
    sb_sqs *q = sb_sqs_new(&c, err);
    if (!q) fprintf(stderr, "sqs: %s\n", err);
    T_CHECK(q != NULL);
    return q;
}

/* Waits (bounded) until the simulator holds `n` long polls: the condition, not a guess. */
static int wait_for_pollers(sb_sim *sim, long n) {
    for (int i = 0; i < 20000; i++) {
        sim_sqs_stats st;
        sim_sqs_stats_get(sim, &st);
        if (st.waiting == n) return 1;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

typedef struct poll_arg { sb_sqs *q; int wait_s, rc, n; sb_sqs_message m[10]; char err[SB_ERRLEN]; } poll_arg;
static void *poller(void *p) {
    poll_arg *a = p;
    a->rc = sb_sqs_receive(a->q, 10, a->wait_s, 30, a->m, &a->n, a->err);
    return NULL;
}

static size_t sink(char *p, size_t sz, size_t n, void *ud) { sb_buf_append(ud, p, sz * n); return sz * n; }

/* A POST to the simulator's queue with the headers given (no signing): the status. */
static long raw_post(sb_sim *sim, const char *auth, const char *ctype, const char *body, sb_buf *out) {
    struct curl_slist *h = NULL;
    char b1[256], b2[256];
    snprintf(b1, sizeof b1, "Content-Type: %s", ctype);
    h = curl_slist_append(h, b1);
    h = curl_slist_append(h, "X-Amz-Target: AmazonSQS.GetQueueAttributes");
    if (auth) { snprintf(b2, sizeof b2, "Authorization: %s", auth); h = curl_slist_append(h, b2); }
    CURL *c = curl_easy_init();
    long st = 0;
    sb_buf_reset(out);
    curl_easy_setopt(c, CURLOPT_URL, sb_sim_url(sim));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return st;
}

static void test_basics(void) {
    sb_sim *sim = start_sim("{}");
    sb_sqs *q = client(sb_sim_url(sim), NULL);
    char err[SB_ERRLEN], id[64];
    sb_sqs_message m[10];
    int n = -1;
    T_EQ(sb_sqs_send(q, "{\"hello\":1}", id, sizeof id, err), 0);
    T_CHECK(strlen(id) > 20);
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 1);
    T_STREQ(m[0].body, "{\"hello\":1}");
    T_STREQ(m[0].id, id);
    T_EQ(m[0].receive_count, 1);
    T_EQ(m[0].sent_ms, fnow(NULL));
    char first[SB_SQS_HANDLE_MAX];
    snprintf(first, sizeof first, "%s", m[0].handle);
    sb_sqs_messages_free(m, n);
    /* hidden for the visibility timeout, then back with a higher count */
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 0);
    atomic_fetch_add(&fake_ms, 29000);
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 0);
    atomic_fetch_add(&fake_ms, 1000);
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 1);
    T_EQ(m[0].receive_count, 2);
    T_CHECK(strcmp(first, m[0].handle) != 0);
    /* a lease extended, then given back at once */
    T_EQ(sb_sqs_change_visibility(q, m[0].handle, 120, err), 0);
    atomic_fetch_add(&fake_ms, 60000);
    sb_sqs_message m2[10];
    int n2 = -1;
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m2, &n2, err), 0);
    T_EQ(n2, 0);
    T_EQ(sb_sqs_change_visibility(q, m[0].handle, 0, err), 0);
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m2, &n2, err), 0);
    T_EQ(n2, 1);
    if (n2 == 1) T_EQ(m2[0].receive_count, 3);
    T_EQ(sb_sqs_change_visibility(q, m2[0].handle, 43201, err), SB_EINVAL);
    sb_sqs_messages_free(m, n);
    memcpy(m, m2, sizeof m2);
    n = n2;
    /* the older handle is a no-op; the newest deletes */
    T_EQ(sb_sqs_delete(q, first, err), 0);
    sb_sqs_attributes a;
    T_EQ(sb_sqs_get_attributes(q, &a, err), 0);
    T_EQ(a.approx_messages, 0);   /* in flight, not visible */
    sb_sqs_attributes_free(&a);
    T_EQ(sb_sqs_delete(q, m[0].handle, err), 0);
    sb_sqs_messages_free(m, n);
    atomic_fetch_add(&fake_ms, 31000);
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 0);
    /* a handle that was never issued is SQS's error, naming the operation */
    T_CHECK(sb_sqs_delete(q, "bogus", err) != 0);
    T_CONTAINS(err, "SQS DeleteMessage: HTTP 400 ReceiptHandleIsInvalid");
    /* attributes: what `notifications setup` checks, and Amazon can deliver */
    T_EQ(sb_sqs_get_attributes(q, &a, err), 0);
    T_STREQ(a.arn, "arn:aws:sqs:us-east-1:000000000000:sellerbridge-sim");
    T_EQ(a.fifo, 0);
    T_EQ(a.visibility_s, 30);
    T_EQ(a.retention_s, 345600);
    T_CHECK(a.redrive_policy == NULL);
    char report[2048];
    T_EQ(sb_sqs_check_for_amazon(&a, report, sizeof report), 0);
    T_CONTAINS(report, "advice: RedrivePolicy");
    sb_sqs_attributes_free(&a);
    /* bounds refused before anything is sent */
    int before = (int)sb_sim_request_count(sim);
    T_EQ(sb_sqs_receive(q, 11, 0, 30, m, &n, err), SB_EINVAL);
    T_CONTAINS(err, "MaxNumberOfMessages 11");
    T_EQ(sb_sqs_receive(q, 1, 21, 30, m, &n, err), SB_EINVAL);
    char *big = malloc(SB_SQS_MAX_BODY + 2);
    memset(big, 'x', SB_SQS_MAX_BODY + 1);
    big[SB_SQS_MAX_BODY + 1] = '\0';
    T_EQ(sb_sqs_send(q, big, NULL, 0, err), SB_EINVAL);
    T_CONTAINS(err, "SendMessage: the body is 262145 bytes");
    T_EQ(sim_sqs_push(sim, big), SB_EINVAL);
    big[SB_SQS_MAX_BODY] = '\0';   /* exactly the largest: goes */
    T_EQ(sb_sqs_send(q, big, NULL, 0, err), 0);
    T_EQ(sb_sqs_receive(q, 1, 0, 30, m, &n, err), 0);
    T_EQ(n, 1);
    T_EQ(m[0].body_len, SB_SQS_MAX_BODY);
    sb_sqs_messages_free(m, n);
    free(big);
    T_EQ((int)sb_sim_request_count(sim), before + 2);
    /* the request as SQS wants it */
    sb_buf log;
    sb_buf_init(&log, 64u << 20);
    sb_sim_requests_json(sim, &log);
    T_CONTAINS(log.data, "\"content-type\":\"application/x-amz-json-1.0\"");
    T_CONTAINS(log.data, "\"x-amz-target\":\"AmazonSQS.ReceiveMessage\"");
    T_CHECK(strstr(log.data, SECRET) == NULL);
    sb_buf_free(&log);
    sb_sqs_free(q);
    /* an unsigned request is refused, as real SQS does (the simulator needs AWS4-HMAC-SHA256) */
    char body[256];
    snprintf(body, sizeof body, "{\"QueueUrl\":\"%s/000000000000/sellerbridge-sim\"}", sb_sim_url(sim));
    sb_buf_init(&log, 1 << 20);
    T_EQ(raw_post(sim, NULL, "application/x-amz-json-1.0", body, &log), 403);
    T_CONTAINS(log.data, "MissingAuthenticationToken");
    T_EQ(raw_post(sim, "AWS4-HMAC-SHA256 Credential=x", "application/x-amz-json-1.0", body, &log), 200);
    T_CONTAINS(log.data, "\"QueueArn\"");
    /* a charset after the content type is not SQS's JSON protocol */
    T_EQ(raw_post(sim, "AWS4-HMAC-SHA256 Credential=x", "application/x-amz-json-1.0; charset=utf-8", body, &log), 400);
    T_CONTAINS(log.data, "Content-Type must be application/x-amz-json-1.0");
    /* another queue does not exist */
    T_EQ(raw_post(sim, "AWS4-HMAC-SHA256 Credential=x", "application/x-amz-json-1.0",
                  "{\"QueueUrl\":\"http://127.0.0.1/1/other\"}", &log), 400);
    T_CONTAINS(log.data, "QueueDoesNotExist");
    sb_buf_free(&log);
    /* a restarted simulator (same scenario, same seed) repeats no MessageId: consumers
     * dedupe on ids for days */
    sb_sim *sim2 = start_sim("{}");
    sb_sqs *q2 = client(sb_sim_url(sim2), NULL);
    char id2[64];
    T_EQ(sb_sqs_send(q2, "again", id2, sizeof id2, err), 0);
    T_CHECK(strcmp(id, id2) != 0);
    sb_sqs_free(q2);
    sb_sim_stop(sim2);
    sb_sim_stop(sim);
}

static void test_long_poll(void) {
    sb_sim *sim = start_sim("{}");
    volatile int stop = 0;
    poll_arg a = {.q = client(sb_sim_url(sim), &stop), .wait_s = 20};
    pthread_t th;
    /* a message arriving during the wait ends it at once (the clock does not move) */
    int64_t t0 = fnow(NULL);
    pthread_create(&th, NULL, poller, &a);
    T_CHECK(wait_for_pollers(sim, 1));
    T_EQ(sim_sqs_push(sim, "arrived"), 0);
    pthread_join(th, NULL);
    T_EQ(a.rc, 0);
    T_EQ(a.n, 1);
    if (a.n == 1) T_STREQ(a.m[0].body, "arrived");
    T_EQ(fnow(NULL), t0);
    sb_sqs_messages_free(a.m, a.n);
    /* nothing comes: the wait ends when the simulator's clock passes it */
    a.wait_s = 5;
    pthread_create(&th, NULL, poller, &a);
    T_CHECK(wait_for_pollers(sim, 1));
    atomic_fetch_add(&fake_ms, 4000);
    T_CHECK(wait_for_pollers(sim, 1));   /* still waiting at 4 s */
    atomic_fetch_add(&fake_ms, 1001);
    pthread_join(th, NULL);
    T_EQ(a.rc, 0);
    T_EQ(a.n, 0);
    /* the stop flag abandons a long poll */
    a.wait_s = 20;
    pthread_create(&th, NULL, poller, &a);
    T_CHECK(wait_for_pollers(sim, 1));
    stop = 1;
    pthread_join(th, NULL);
    T_EQ(a.rc, SB_EINTR);
    T_CONTAINS(a.err, "ReceiveMessage");
    stop = 0;
    T_CHECK(wait_for_pollers(sim, 0));
    /* stopping the simulator ends its waits */
    pthread_create(&th, NULL, poller, &a);
    T_CHECK(wait_for_pollers(sim, 1));
    sb_sim_stop(sim);
    pthread_join(th, NULL);
    T_EQ(a.n, 0);
    sb_sqs_free(a.q);
}

static void configure(sb_sim *sim, const char *json) {
    char err[SB_ERRLEN];
    T_EQ(sb_sim_reset(sim, err), 0);
    int rc = sb_sim_configure(sim, json, err);
    if (rc) fprintf(stderr, "configure %s: %s\n", json, err);
    T_EQ(rc, 0);
}

static int receive_all(sb_sqs *q, char bodies[][32], int max) {
    sb_sqs_message m[10];
    int n = 0;
    char err[SB_ERRLEN];
    if (sb_sqs_receive(q, 10, 0, 30, m, &n, err)) { fprintf(stderr, "%s\n", err); return -1; }
    for (int i = 0; i < n && i < max; i++) snprintf(bodies[i], 32, "%s", m[i].body ? m[i].body : "(null)");
    sb_sqs_messages_free(m, n);
    return n;
}

static void test_faults(void) {
    sb_sim *sim = start_sim("{}");
    sb_sqs *q = client(sb_sim_url(sim), NULL);
    char got[10][32], err[SB_ERRLEN], report[2048];
    sim_sqs_stats st;
    /* duplicate delivery */
    configure(sim, "{\"sqs\":{\"duplicate\":1}}");
    sim_sqs_push(sim, "d1");
    T_EQ(receive_all(q, got, 10), 2);
    T_STREQ(got[0], "d1");
    T_STREQ(got[1], "d1");
    /* lost */
    configure(sim, "{\"sqs\":{\"lost\":1}}");
    sim_sqs_push(sim, "l1");
    sim_sqs_stats_get(sim, &st);
    T_EQ(st.lost, 1);
    T_EQ(receive_all(q, got, 10), 0);
    /* reordered: each delivery goes ahead of the earlier ones */
    configure(sim, "{\"sqs\":{\"reorder\":1}}");
    sim_sqs_push(sim, "r1");
    sim_sqs_push(sim, "r2");
    T_EQ(receive_all(q, got, 10), 2);
    T_STREQ(got[0], "r2");
    T_STREQ(got[1], "r1");
    /* delayed by 60 s on the simulator's clock */
    configure(sim, "{\"sqs\":{\"delay_s\":60}}");
    sim_sqs_push(sim, "late");
    T_EQ(receive_all(q, got, 10), 0);
    atomic_fetch_add(&fake_ms, 59000);
    T_EQ(receive_all(q, got, 10), 0);
    atomic_fetch_add(&fake_ms, 1000);
    T_EQ(receive_all(q, got, 10), 1);
    T_STREQ(got[0], "late");
    /* a policy that does not allow Amazon: nothing arrives, and the check says why */
    configure(sim, "{\"sqs\":{\"policy_allows_amazon\":false}}");
    sim_sqs_push(sim, "p1");
    T_EQ(receive_all(q, got, 10), 0);
    sim_sqs_stats_get(sim, &st);
    T_EQ(st.refused, 1);
    sb_sqs_attributes a;
    T_EQ(sb_sqs_get_attributes(q, &a, err), 0);
    T_EQ(sb_sqs_check_for_amazon(&a, report, sizeof report), 1);
    T_CONTAINS(report, "blocking: Policy: does not allow Amazon's account 437568002678");
    sb_sqs_attributes_free(&a);
    /* the queue down: 5xx, retried a bounded number of times, then an error naming it */
    configure(sim, "{\"sqs\":{\"down\":true}}");
    size_t before = sb_sim_request_count(sim);
    sb_sqs_message m[10];
    int n = 0;
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), SB_EHTTP);
    T_CONTAINS(err, "SQS ReceiveMessage: HTTP 503 ServiceUnavailable");
    T_EQ(sb_sim_request_count(sim) - before, 3);   /* 1 + max_retries 2 */
    /* SendMessage is not repeated after an answer that may mean it was taken */
    before = sb_sim_request_count(sim);
    T_EQ(sb_sqs_send(q, "x", NULL, 0, err), SB_EAMBIG);
    T_CONTAINS(err, "SQS SendMessage: HTTP 503 ServiceUnavailable");
    T_CONTAINS(err, "not repeated");
    T_EQ(sb_sim_request_count(sim) - before, 1);
    /* redrive: after maxReceiveCount receives the message goes to the dead-letter list */
    configure(sim, "{\"sqs\":{\"max_receive_count\":2}}");
    sim_sqs_push(sim, "poison");
    T_EQ(receive_all(q, got, 10), 1);
    atomic_fetch_add(&fake_ms, 30000);
    T_EQ(receive_all(q, got, 10), 1);
    atomic_fetch_add(&fake_ms, 30000);
    T_EQ(receive_all(q, got, 10), 0);
    sim_sqs_stats_get(sim, &st);
    T_EQ(st.dead, 1);
    T_EQ(st.queued, 0);
    T_EQ(sb_sqs_get_attributes(q, &a, err), 0);
    T_CONTAINS(a.redrive_policy, "\"maxReceiveCount\":2");
    T_EQ(sb_sqs_check_for_amazon(&a, report, sizeof report), 0);
    T_CHECK(strstr(report, "RedrivePolicy") == NULL);
    sb_sqs_attributes_free(&a);
    /* bad answers: HTML, truncated JSON, SQS's 403 */
    configure(sim, "{}");
    T_EQ(sb_sim_fault_add(sim, "{\"op\":\"ReceiveMessage\",\"kind\":\"html\",\"count\":5}", err), 0);
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), SB_EHTTP);
    T_CONTAINS(err, "SQS ReceiveMessage: HTTP 502, not SQS's error JSON (text/html");
    sb_sim_faults_clear(sim);
    T_EQ(sb_sim_fault_add(sim, "{\"op\":\"GetQueueAttributes\",\"kind\":\"truncate\",\"count\":5}", err), 0);
    T_EQ(sb_sqs_get_attributes(q, &a, err), SB_EHTTP);
    T_CONTAINS(err, "SQS GetQueueAttributes: HTTP 200 but the answer is not SQS's JSON");
    sb_sim_faults_clear(sim);
    T_EQ(sb_sim_fault_add(sim, "{\"op\":\"DeleteMessage\",\"kind\":\"403\",\"count\":5}", err), 0);
    before = sb_sim_request_count(sim);
    T_EQ(sb_sqs_delete(q, "AQEBx-1-0", err), SB_EAUTH);
    T_CONTAINS(err, "SQS DeleteMessage: HTTP 403 AccessDenied: Access to the resource");
    T_EQ(sb_sim_request_count(sim) - before, 1);   /* a refusal is not retried */
    sb_sim_faults_clear(sim);
    /* a 500 once is retried and the call succeeds */
    T_EQ(sb_sim_fault_add(sim, "{\"op\":\"GetQueueAttributes\",\"kind\":\"500\",\"count\":1}", err), 0);
    T_EQ(sb_sqs_get_attributes(q, &a, err), 0);
    sb_sqs_attributes_free(&a);
    /* an unknown knob is refused, naming it and the knobs there are */
    T_CHECK(sb_sim_configure(sim, "{\"sqs\":{\"dupes\":1}}", err) != 0);
    T_CONTAINS(err, "sqs.dupes is not a knob");
    T_CHECK(sb_sim_configure(sim, "{\"sqs\":{\"lost\":2}}", err) != 0);
    T_CONTAINS(err, "sqs.lost must be a probability");
    sb_sqs_free(q);
    sb_sim_stop(sim);
}

/* ORDER_CHANGE: a new order, its status change and a buyer's cancellation request each
 * put the schema's envelope into the queue; a late-listed order notifies on time. */
static void test_order_change(void) {
    sb_sim *sim = start_sim("{\"notifications\":{\"subscribed\":true},\"sqs\":{\"double_encoded\":0}}");
    sb_sqs *q = client(sb_sim_url(sim), NULL);
    char err[SB_ERRLEN];
    sb_sqs_message m[10];
    int n = 0;
    const char *order = "{\"orderId\":\"114-0000001-0000001\",\"salesChannel\":{\"marketplaceId\":\"ATVPDKIKX0DER\"},"
                        "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\"},"
                        "\"_sim\":{\"listing_delay_s\":3600},"
                        "\"recipient\":{\"deliveryAddress\":{\"postalCode\":\"98101\"}},"
                        "\"orderItems\":[{\"orderItemId\":\"OI-1\",\"quantityOrdered\":2,\"product\":{\"sellerSku\":\"SKU-A\"}}]}";
    T_EQ(sb_sim_orders_upsert(sim, order, err), 0);
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 1);
    sb_json *j = NULL;
    if (n == 1 && !sb_json_parse(m[0].body, m[0].body_len, &j, err)) {
        T_STREQ(sb_json_str(j, 1, "NotificationType"), "ORDER_CHANGE");
        T_STREQ(sb_json_str(j, 1, "NotificationVersion"), "1.0");
        T_STREQ(sb_json_str(j, 1, "PayloadVersion"), "1.0");
        T_CHECK(sb_json_str(j, 1, "EventTime") != NULL);
        T_CHECK(strlen(sb_json_str(j, 1, "NotificationMetadata.NotificationId")) == 36);
        T_CHECK(sb_json_str(j, 1, "NotificationMetadata.PublishTime") != NULL);
        T_CHECK(sb_json_str(j, 1, "NotificationMetadata.ApplicationId") != NULL);
        T_CHECK(sb_json_str(j, 1, "NotificationMetadata.SubscriptionId") != NULL);
        int p = sb_json_get(j, 1, "Payload.OrderChangeNotification");
        T_STREQ(sb_json_str(j, p, "NotificationLevel"), "OrderLevel");
        T_STREQ(sb_json_str(j, p, "SellerId"), "A1SIMSELLER0001");
        T_STREQ(sb_json_str(j, p, "AmazonOrderId"), "114-0000001-0000001");
        T_STREQ(sb_json_str(j, p, "OrderChangeType"), "OrderStatusChange");
        T_CHECK(sb_json_str(j, p, "OrderChangeTrigger.TimeOfOrderChange") != NULL);
        T_STREQ(sb_json_str(j, p, "Summary.OrderStatus"), "Unshipped");
        T_STREQ(sb_json_str(j, p, "Summary.MarketplaceId"), "ATVPDKIKX0DER");
        T_STREQ(sb_json_str(j, p, "Summary.FulfillmentType"), "MFN");
        T_STREQ(sb_json_str(j, p, "Summary.OrderType"), "StandardOrder");
        T_STREQ(sb_json_str(j, p, "Summary.DestinationPostalCode"), "98101");
        T_STREQ(sb_json_str(j, p, "Summary.OrderItems[0].SellerSKU"), "SKU-A");
        T_STREQ(sb_json_str(j, p, "Summary.OrderItems[0].OrderItemId"), "OI-1");
        T_EQ(sb_json_int(j, p, "Summary.OrderItems[0].Quantity", -1), 2);
        T_EQ(sb_json_type(j, p, "Summary.OrderItems[0].SupplySourceId"), SB_JSON_NULL);
        /* on time although searchOrders lists the order only an hour later */
        char ts[32];
        T_STREQ(sb_json_str(j, p, "OrderChangeTrigger.TimeOfOrderChange"), sb_time_format_ms(fnow(NULL), ts, sizeof ts));
    }
    sb_json_free(j);
    j = NULL;
    T_EQ(sb_sqs_delete(q, m[0].handle, err), 0);
    sb_sqs_messages_free(m, n);
    /* the same status again is not an important change */
    T_EQ(sb_sim_orders_upsert(sim, "{\"orderId\":\"114-0000001-0000001\",\"fulfillmentStatus\":\"UNSHIPPED\"}", err), 0);
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 0);
    /* a buyer's cancellation request, double-encoded this time */
    T_EQ(sb_sim_configure(sim, "{\"sqs\":{\"double_encoded\":1}}", err), 0);
    T_EQ(sb_sim_orders_upsert(sim, "{\"orderId\":\"114-0000001-0000001\",\"fulfillmentStatus\":\"CANCELLED\","
                                   "\"cancellation\":{\"requester\":\"BUYER\"}}", err), 0);
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 1);
    if (n == 1 && !sb_json_parse(m[0].body, m[0].body_len, &j, err)) {
        T_EQ(sb_json_type(j, 1, NULL), SB_JSON_STR);
        const char *inner = sb_json_str(j, 1, NULL);
        sb_json *k = NULL;
        if (inner && !sb_json_parse(inner, strlen(inner), &k, err)) {
            T_STREQ(sb_json_str(k, 1, "Payload.OrderChangeNotification.OrderChangeType"), "BuyerRequestedChange");
            T_STREQ(sb_json_str(k, 1, "Payload.OrderChangeNotification.OrderChangeTrigger.ChangeReason"), "Buyer Requested Cancel");
            T_STREQ(sb_json_str(k, 1, "Payload.OrderChangeNotification.Summary.OrderStatus"), "Canceled");
        } else T_CHECK(0);
        sb_json_free(k);
    }
    sb_json_free(j);
    sb_sqs_messages_free(m, n);
    /* unsubscribed (or subscribed to another queue): nothing */
    T_EQ(sb_sim_reset(sim, err), 0);
    T_EQ(sb_sim_configure(sim, "{\"notifications\":{\"subscribed\":false}}", err), 0);
    T_EQ(sb_sim_orders_upsert(sim, "{\"orderId\":\"114-0000002-0000002\",\"orderItems\":[]}", err), 0);
    sim_sqs_stats st;
    sim_sqs_stats_get(sim, &st);
    T_EQ(st.notified, 0);
    T_EQ(st.queued, 0);
    /* another person's createSubscription sets these two fields: the sim's queue ARN notifies */
    pthread_mutex_lock(&sim->mu);
    sim->order_change_subscribed = 1;
    snprintf(sim->order_change_arn, sizeof sim->order_change_arn, "%s", SIM_SQS_ARN);
    pthread_mutex_unlock(&sim->mu);
    T_EQ(sb_sim_orders_upsert(sim, "{\"orderId\":\"114-0000003-0000003\",\"orderItems\":[]}", err), 0);
    sim_sqs_stats_get(sim, &st);
    T_EQ(st.notified, 1);
    /* a scheduled change notifies when its time comes */
    T_EQ(sb_sim_configure(sim, "{\"schedule\":[{\"after_s\":60,\"order\":{\"orderId\":\"114-0000003-0000003\",\"fulfillmentStatus\":\"SHIPPED\"}}]}", err), 0);
    atomic_fetch_add(&fake_ms, 60000);
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);   /* the request applies due changes first */
    T_EQ(n, 2);
    if (n == 2) T_CONTAINS(m[1].body, "\"OrderStatus\":\"Shipped\"");
    sb_sqs_messages_free(m, n);
    /* an order the schedule places while a long poll waits reaches it (no other request) */
    T_EQ(sb_sim_configure(sim, "{\"schedule\":[{\"after_s\":10,\"order\":{\"orderId\":\"114-0000004-0000004\",\"orderItems\":[]}}]}", err), 0);
    poll_arg pa = {.q = q, .wait_s = 20};
    pthread_t th;
    pthread_create(&th, NULL, poller, &pa);
    T_CHECK(wait_for_pollers(sim, 1));
    atomic_fetch_add(&fake_ms, 10000);
    pthread_join(th, NULL);
    T_EQ(pa.rc, 0);
    T_EQ(pa.n, 1);
    if (pa.n == 1) T_CONTAINS(pa.m[0].body, "\"AmazonOrderId\":\"114-0000004-0000004\"");
    sb_sqs_messages_free(pa.m, pa.n);
    sb_sqs_free(q);
    sb_sim_stop(sim);
}

/* Answers only a scripted server gives: an oversize body, a secret echoed back. */
static void test_scripted(void) {
    cap_server s;
    T_EQ(cap_start(&s), 0);
    char base[64], err[SB_ERRLEN];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", s.port);
    sb_sqs *q = client(base, NULL);
    /* a body over SB_SQS_MAX_BODY is counted with body NULL, not sized */
    size_t big = SB_SQS_MAX_BODY + 10;
    char *ans = malloc(big + 256);
    int k = sprintf(ans, "{\"Messages\":[{\"MessageId\":\"m1\",\"ReceiptHandle\":\"h1\",\"Body\":\"");
    memset(ans + k, 'y', big);
    strcpy(ans + k + big, "\"},{\"MessageId\":\"m2\",\"ReceiptHandle\":\"h2\",\"Body\":\"ok\"}]}");
    cap_answer(&s, 200, "application/x-amz-json-1.0", ans);
    free(ans);
    sb_sqs_message m[10];
    int n = 0;
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 2);
    T_CHECK(m[0].body == NULL);
    T_STREQ(m[0].handle, "h1");
    T_STREQ(m[1].body, "ok");
    sb_sqs_messages_free(m, n);
    /* more messages than asked for is an error, not an overflow */
    cap_answer(&s, 200, "application/x-amz-json-1.0",
               "{\"Messages\":[{\"Body\":\"a\",\"ReceiptHandle\":\"1\"},{\"Body\":\"b\",\"ReceiptHandle\":\"2\"}]}");
    T_EQ(sb_sqs_receive(q, 1, 0, 30, m, &n, err), SB_EHTTP);
    T_CONTAINS(err, "more than the 1 asked for");
    /* empty answers are "no messages" */
    cap_answer(&s, 200, "application/x-amz-json-1.0", "");
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 0);
    cap_answer(&s, 200, "application/x-amz-json-1.0", "{}");
    T_EQ(sb_sqs_receive(q, 10, 0, 30, m, &n, err), 0);
    T_EQ(n, 0);
    /* a secret echoed in an error never reaches err */
    cap_answer(&s, 400, "application/x-amz-json-1.0",
               "{\"__type\":\"com.amazon.coral.service#InvalidClientTokenId\",\"message\":\"key " SECRET " is invalid\"}");
    T_EQ(sb_sqs_delete(q, "h1", err), SB_EHTTP);
    T_CONTAINS(err, "SQS DeleteMessage: HTTP 400 InvalidClientTokenId: key ****");
    T_CHECK(strstr(err, "wJalrXUtnFEMI") == NULL);
    /* the request had the JSON protocol's shape and was signed by curl */
    char h[1024];
    T_EQ(cap_header(&s, "Content-Type", h, sizeof h), 0);
    T_STREQ(h, "application/x-amz-json-1.0");
    T_EQ(cap_header(&s, "X-Amz-Target", h, sizeof h), 0);
    T_STREQ(h, "AmazonSQS.DeleteMessage");
    T_EQ(cap_header(&s, "Authorization", h, sizeof h), 0);
    T_CONTAINS(h, "AWS4-HMAC-SHA256 Credential=AKIDSQSTEST/");
    T_CONTAINS(h, "/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=");
    T_CONTAINS(s.body, "\"ReceiptHandle\":\"h1\"");
    sb_sqs_free(q);
    /* a session token is sent and signed */
    char url[128];
    snprintf(url, sizeof url, "%s/000000000000/q", base);
    sb_sqs_config c = {.queue_url = url, .region = "eu-west-1", .access_key_id = "ASIATEST",
                       .secret_access_key = SECRET, .session_token = "FwoGZXIvYXdzEXAMPLETOKEN"};
    q = sb_sqs_new(&c, err);
    cap_answer(&s, 200, "application/x-amz-json-1.0", "{\"MessageId\":\"abc\"}");
    char id[64];
    T_EQ(sb_sqs_send(q, "hi", id, sizeof id, err), 0);
    T_STREQ(id, "abc");
    T_EQ(cap_header(&s, "X-Amz-Security-Token", h, sizeof h), 0);
    T_STREQ(h, "FwoGZXIvYXdzEXAMPLETOKEN");
    T_EQ(cap_header(&s, "Authorization", h, sizeof h), 0);
    T_CONTAINS(h, "x-amz-security-token");
    sb_sqs_free(q);
    /* what sb_sqs_new refuses, named */
    c.queue_url = "http://sqs.us-east-1.amazonaws.com/1/q";
    T_CHECK(sb_sqs_new(&c, err) == NULL);
    T_CONTAINS(err, "plain http is allowed to 127.0.0.1");
    c.queue_url = url;
    c.region = "US East";
    T_CHECK(sb_sqs_new(&c, err) == NULL);
    T_CONTAINS(err, "region 'US East'");
    c.region = "us-east-1";
    c.secret_access_key = "";
    T_CHECK(sb_sqs_new(&c, err) == NULL);
    T_CONTAINS(err, "secret access key is missing");
    cap_stop(&s);
}

int main(void) {
    sb_clock_set(&fake);
    test_basics();
    test_long_poll();
    test_faults();
    test_order_change();
    test_scripted();
    sb_clock_set(NULL);
    return t_done();
}
