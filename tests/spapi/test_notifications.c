/* test_notifications.c: the Notifications API v1 against the in-process simulator, and
 * `notifications setup` end to end. The client: each operation and its errors (409 on a
 * repeated ARN or subscription, 404 before there is a subscription, the simulator's 400s
 * for a missing eventFilter and for marketplaceIds, a seller token refused on a grantless
 * operation and the reverse); the grantless token is a token of its own (client
 * credentials, no refresh token sent, cached, never in a log line or an error); an
 * ambiguous createDestination or createSubscription (a committed 500) is not sent again.
 * The setup: a first run creates both and stores their ids and turns notifications on, a
 * second run finds both and changes nothing; after ambiguous answers it looks them up; a
 * FIFO queue, a policy without Amazon's account and missing keys are reported with the fix.
 * The SQS side is a scripted loopback queue (libmicrohttpd) answering GetQueueAttributes
 * with the attributes each case sets. */
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "common.h"
#include "support/fixture.h"
#include "support/sim_http.h"
#include "sim/sim_int.h"           /* order_change_subscribed, order_change_arn */
#include "sync/notify_setup.h"
#include "store/store_int.h"

#define ARN "arn:aws:sqs:us-east-1:000000000000:sellerbridge-sim"
#define POLICY_OK "{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\"," \
    "\\\"Principal\\\":{\\\"AWS\\\":\\\"arn:aws:iam::437568002678:root\\\"},\\\"Action\\\":[\\\"sqs:SendMessage\\\"," \
    "\\\"sqs:GetQueueAttributes\\\"],\\\"Resource\\\":\\\"" ARN "\\\"}]}"
#define POLICY_OTHER "{\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":{\\\"AWS\\\":" \
    "\\\"arn:aws:iam::999988887777:root\\\"},\\\"Action\\\":\\\"sqs:*\\\",\\\"Resource\\\":\\\"*\\\"}]}"
#define REDRIVE "{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:000000000000:dlq\\\",\\\"maxReceiveCount\\\":3}"

static const char *ATTR_GOOD = "{\"Attributes\":{\"QueueArn\":\"" ARN "\",\"FifoQueue\":\"false\","
    "\"MessageRetentionPeriod\":\"1209600\",\"RedrivePolicy\":\"" REDRIVE "\",\"Policy\":\"" POLICY_OK "\"}}";
static const char *ATTR_FIFO = "{\"Attributes\":{\"QueueArn\":\"" ARN ".fifo\",\"FifoQueue\":\"true\","
    "\"MessageRetentionPeriod\":\"1209600\",\"RedrivePolicy\":\"" REDRIVE "\",\"Policy\":\"" POLICY_OK "\"}}";
static const char *ATTR_POLICY = "{\"Attributes\":{\"QueueArn\":\"" ARN "\",\"FifoQueue\":\"false\","
    "\"MessageRetentionPeriod\":\"1209600\",\"RedrivePolicy\":\"" REDRIVE "\",\"Policy\":\"" POLICY_OTHER "\"}}";

/* ---- the scripted queue ---- */

static const char *queue_attrs;   /* the GetQueueAttributes answer */
static int queue_calls;

static enum MHD_Result on_queue(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)cls; (void)url; (void)method; (void)version; (void)upload;
    if (!*con_cls) { *con_cls = (void *)1; return MHD_YES; }
    if (*upload_size) { *upload_size = 0; return MHD_YES; }
    const char *target = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
    const char *body = "{\"__type\":\"com.amazonaws.sqs#UnsupportedOperation\",\"message\":\"not scripted\"}";
    unsigned status = 400;
    if (target && !strcmp(target, "AmazonSQS.GetQueueAttributes")) { body = queue_attrs; status = 200; queue_calls++; }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/x-amz-json-1.0");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static struct MHD_Daemon *queue_start(char *url, size_t n) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_queue, NULL,
                                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!d) { fprintf(stderr, "cannot start the queue stub\n"); exit(1); }
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(url, n, "http://127.0.0.1:%u/000000000000/sellerbridge-sim", i ? i->port : 0);
    return d;
}

/* ---- helpers ---- */


/* A grantless token straight from the simulator's LWA endpoint. */
static void grantless_token(sb_sim *sim, char *tok, size_t n) {
    char form[512];
    snprintf(form, sizeof form, "grant_type=client_credentials&scope=sellingpartnerapi%%3A%%3Anotifications"
             "&client_id=%s&client_secret=%s", SB_SIM_CLIENT_ID, SB_SIM_CLIENT_SECRET);
    t_sim_grant(sim, form, tok, n);
}

/* ---- the client and the simulator ---- */

static void test_client(sb_sim *sim) {
    char err[SB_ERRLEN] = "", errs[4][SB_ERRLEN];
    sb_spapi *s = client_for(sim, NULL, 5000, err);
    T_CHECK(s != NULL);
    sb_spapi_destination d[8], one;
    int n = -1;
    long status = 0;

    /* destinations: none, one created, listed, the same ARN again is 409 */
    T_EQ(sb_spapi_get_destinations(s, d, 8, &n, err), 0);
    T_EQ(n, 0);
    T_EQ(sb_spapi_create_destination(s, "sellerbridge t", ARN, &one, &status, err), 0);
    T_EQ(status, 200);
    T_CHECK(one.id[0] != '\0');
    T_STREQ(one.arn, ARN);
    T_EQ(sb_spapi_get_destinations(s, d, 8, &n, err), 0);
    T_EQ(n, 1);
    T_STREQ(d[0].id, one.id);
    T_STREQ(d[0].arn, ARN);
    T_STREQ(d[0].name, "sellerbridge t");
    sb_spapi_destination again;
    T_EQ(sb_spapi_create_destination(s, "sellerbridge t", ARN, &again, &status, errs[0]), SB_EHTTP);
    T_EQ(status, 409);
    T_CONTAINS(errs[0], "createDestination: HTTP 409 Conflict");
    /* a bad ARN never leaves the machine */
    size_t before = sb_sim_request_count(sim);
    T_EQ(sb_spapi_create_destination(s, "x", "arn:aws:sns:us-east-1:1:q", &again, &status, errs[1]), SB_EINVAL);
    T_CONTAINS(errs[1], "is not an SQS queue ARN");
    T_EQ(sb_spapi_create_destination(s, "x", "arn:aws:sqs:us-east-1::q", &again, &status, err), SB_EINVAL);
    T_EQ(sb_sim_request_count(sim), before);

    /* the grantless token: its own LWA call, no refresh token sent, the seller's not asked yet */
    T_EQ(sb_spapi_grantless_refreshes(s), 1);
    T_EQ(sb_spapi_token_refreshes(s), 0);
    sb_json *log = requests(sim);
    int lwa = 0;
    for (size_t i = 0; i < sb_json_len(log, SB_JSON_ROOT, NULL); i++) {
        int r = sb_json_at(log, SB_JSON_ROOT, i);
        if (strcmp(sb_json_str(log, r, "op"), "lwaToken")) continue;
        lwa++;
        const char *body = sb_json_str(log, r, "body");
        T_CONTAINS(body, "grant_type=client_credentials");
        T_CONTAINS(body, "scope=sellingpartnerapi::notifications");
        T_CONTAINS(body, "refresh_token=&");              /* empty: none was sent */
    }
    T_EQ(lwa, 1);
    sb_json_free(log);

    /* the subscription: none (404), created with the seller's token, 409 when repeated */
    sb_spapi_subscription sub, got;
    T_EQ(sb_spapi_get_order_change_subscription(s, &got, &status, errs[2]), SB_EHTTP);
    T_EQ(status, 404);
    T_EQ(sim->order_change_subscribed, 0);
    T_EQ(sb_spapi_create_order_change_subscription(s, one.id, &sub, &status, err), 0);
    T_CHECK(sub.id[0] != '\0');
    T_STREQ(sub.destination_id, one.id);
    T_STREQ(sub.event_filter_type, "ORDER_CHANGE");
    T_EQ(sim->order_change_subscribed, 1);
    T_STREQ(sim->order_change_arn, ARN);
    T_EQ(sb_spapi_token_refreshes(s), 1);
    T_EQ(sb_spapi_grantless_refreshes(s), 1);   /* cached */
    T_EQ(sb_spapi_create_order_change_subscription(s, one.id, &got, &status, errs[3]), SB_EHTTP);
    T_EQ(status, 409);
    T_EQ(sb_spapi_get_order_change_subscription(s, &got, &status, err), 0);
    T_STREQ(got.id, sub.id);
    T_STREQ(got.destination_id, one.id);
    T_STREQ(got.payload_version, "1.0");
    /* the body the client sent: the eventFilter, never marketplaceIds */
    log = requests(sim);
    for (size_t i = 0; i < sb_json_len(log, SB_JSON_ROOT, NULL); i++) {
        int r = sb_json_at(log, SB_JSON_ROOT, i);
        if (strcmp(sb_json_str(log, r, "op"), "createSubscription")) continue;
        const char *body = sb_json_str(log, r, "body");
        T_CONTAINS(body, "\"eventFilter\":{\"eventFilterType\":\"ORDER_CHANGE\"}");
        T_CONTAINS(body, "\"payloadVersion\":\"1.0\"");
        T_CHECK(strstr(body, "marketplaceIds") == NULL);
        T_STREQ(sb_json_str(log, r, "path"), "/notifications/v1/subscriptions/ORDER_CHANGE");
    }
    sb_json_free(log);

    /* no token, secret or refresh token in any error */
    for (int i = 0; i < 4; i++) {
        T_CHECK(strstr(errs[i], "Atza|") == NULL);
        T_CHECK(strstr(errs[i], SB_SIM_CLIENT_SECRET) == NULL);
        T_CHECK(strstr(errs[i], SB_SIM_REFRESH_TOKEN) == NULL);
    }
    sb_spapi_free(s);
}

/* The simulator's refusals, as Amazon words them, sent raw. */
static void test_sim_refusals(sb_sim *sim) {
    char seller[128], gl[128];
    sb_buf b;
    sb_buf_init(&b, 1 << 20);
    T_EQ(sb_sim_reset(sim, NULL), 0);
    t_sim_token(sim, seller, sizeof seller);
    grantless_token(sim, gl, sizeof gl);
    T_CHECK(seller[0] && gl[0] && strcmp(seller, gl));
    const char *dest = "{\"name\":\"n\",\"resourceSpecification\":{\"sqs\":{\"arn\":\"" ARN "\"}}}";
    /* a grantless operation refuses the seller's token, and the reverse */
    T_EQ(t_sim_req(sim, "POST", "/notifications/v1/destinations", seller, dest, 5000, &b), 403);
    T_CONTAINS(b.data, "grantless operation");
    T_EQ(t_sim_req(sim, "GET", "/notifications/v1/destinations", seller, NULL, 5000, &b), 403);
    T_EQ(t_sim_req(sim, "POST", "/notifications/v1/destinations", gl, dest, 5000, &b), 200);
    sb_json *j = NULL;
    char err[SB_ERRLEN], did[64] = "", body[512];
    T_EQ(sb_json_parse(b.data, b.len, &j, err), 0);
    sb_json_strcpy(j, SB_JSON_ROOT, "payload.destinationId", did, sizeof did);
    sb_json_free(j);
    T_EQ(t_sim_req(sim, "POST", "/notifications/v1/destinations", gl, dest, 5000, &b), 409);
    T_EQ(t_sim_req(sim, "GET", "/orders/2026-01-01/orders/111-0000001-0000001", gl, NULL, 5000, &b), 403);
    snprintf(body, sizeof body, "{\"payloadVersion\":\"1.0\",\"destinationId\":\"%s\","
             "\"processingDirective\":{\"eventFilter\":{\"eventFilterType\":\"ORDER_CHANGE\"}}}", did);
    T_EQ(t_sim_req(sim, "POST", "/notifications/v1/subscriptions/ORDER_CHANGE", gl, body, 5000, &b), 403);
    T_CONTAINS(b.data, "A grantless access token cannot call this operation");
    /* without the eventFilter, with marketplaceIds in it, with a destination that is not there */
    snprintf(body, sizeof body, "{\"payloadVersion\":\"1.0\",\"destinationId\":\"%s\"}", did);
    T_EQ(t_sim_req(sim, "POST", "/notifications/v1/subscriptions/ORDER_CHANGE", seller, body, 5000, &b), 400);
    T_CONTAINS(b.data, "Processing Directive eventFilter must not be empty");
    snprintf(body, sizeof body, "{\"payloadVersion\":\"1.0\",\"destinationId\":\"%s\",\"processingDirective\":"
             "{\"eventFilter\":{\"eventFilterType\":\"ORDER_CHANGE\",\"marketplaceIds\":[\"ATVPDKIKX0DER\"]}}}", did);
    T_EQ(t_sim_req(sim, "POST", "/notifications/v1/subscriptions/ORDER_CHANGE", seller, body, 5000, &b), 400);
    T_CONTAINS(b.data, "failed to validate for notification type ORDER_CHANGE");
    T_EQ(t_sim_req(sim, "POST", "/notifications/v1/subscriptions/ORDER_CHANGE", seller,
                   "{\"payloadVersion\":\"1.0\",\"destinationId\":\"nope\",\"processingDirective\":{\"eventFilter\":"
                   "{\"eventFilterType\":\"ORDER_CHANGE\"}}}", 5000, &b), 400);
    T_EQ(sim->order_change_subscribed, 0);
    /* the scope is checked */
    sb_buf_free(&b);
}

/* A createDestination / createSubscription whose answer is lost after Amazon acted: the
 * client says so (SB_EAMBIG) and sends nothing again. */
static void test_ambiguous_client(sb_sim *sim) {
    char err[SB_ERRLEN] = "";
    T_EQ(sb_sim_reset(sim, err), 0);
    sb_spapi *s = client_for(sim, NULL, 5000, err);
    T_EQ(sb_sim_fault_add(sim, "[{\"op\":\"createDestination\",\"kind\":\"500\",\"committed\":true},"
                               "{\"op\":\"createSubscription\",\"kind\":\"503\",\"committed\":true}]", err), 0);
    sb_spapi_destination d;
    sb_spapi_subscription sub;
    long status;
    T_EQ(sb_spapi_create_destination(s, "n", ARN, &d, &status, err), SB_EAMBIG);
    T_CONTAINS(err, "not sent again");
    T_EQ(sim_calls(sim, "createDestination"), 1);
    sb_spapi_destination list[4];
    int n = 0;
    T_EQ(sb_spapi_get_destinations(s, list, 4, &n, err), 0);
    T_EQ(n, 1);                                      /* Amazon made it */
    T_EQ(sb_spapi_create_order_change_subscription(s, list[0].id, &sub, &status, err), SB_EAMBIG);
    T_EQ(sim_calls(sim, "createSubscription"), 1);
    T_EQ(sim->order_change_subscribed, 1);
    sb_spapi_free(s);
}

/* ---- the setup end to end ---- */

typedef struct fx { char dir[64], db[96]; sb_store *s; int64_t integ; } fx;

static void fx_open(fx *f, sb_sim *sim, const char *queue_url, int keys) {
    char err[SB_ERRLEN];
    unsigned char key[SB_KEY_LEN];
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sbnotify.XXXXXX");
    if (!mkdtemp(f->dir)) { perror("mkdtemp"); exit(1); }
    snprintf(f->db, sizeof f->db, "%s/sb.db", f->dir);
    T_EQ(sb_store_open(f->db, SB_STORE_CREATE, &f->s, err), 0);
    T_EQ(sb_store_integration_add(f->s, "t", &f->integ, err), 0);
    t_connect_sim(f->s, f->integ, sb_sim_url(sim));
    if (queue_url) t_set(f->s, f->integ, "notifications.queue_url", queue_url);
    t_set(f->s, f->integ, "notifications.region", "us-east-1");
    T_EQ(sb_secrets_key(f->db, 0, key, err), 0);
    if (keys) {
        T_EQ(sb_secrets_put(f->s, f->integ, "aws.access_key_id", "AKIDEXAMPLE0000TEST", key, err), 0);
        T_EQ(sb_secrets_put(f->s, f->integ, "aws.secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", key, err), 0);
    }
}

static void fx_close(fx *f) {
    char cmd[128];
    sb_store_close(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd)) {}
}

static const char *setting(fx *f, const char *name) {
    static char out[256];
    char *v = NULL, err[SB_ERRLEN];
    int set;
    out[0] = '\0';
    if (!sb_settings_get(f->s, f->integ, name, &v, &set, err)) snprintf(out, sizeof out, "%s", v);
    free(v);
    return out;
}

static void test_setup(sb_sim *sim, const char *queue_url) {
    char err[SB_ERRLEN] = "";
    fx f;
    sb_notify_setup_result r;
    T_EQ(sb_sim_reset(sim, err), 0);
    queue_attrs = ATTR_GOOD;
    fx_open(&f, sim, queue_url, 1);

    /* first run: creates both, stores them, turns notifications on */
    T_EQ(sb_notify_setup(f.s, f.db, f.integ, &r, err), 0);
    T_EQ(r.ok, 1);
    T_EQ(r.changed, 1);
    T_EQ(r.enabled, 1);
    T_STREQ(r.queue_arn, ARN);
    for (int i = 0; i < SB_NOTIFY_STEPS; i++) T_EQ(r.steps[i].status, SB_NOTIFY_OK);
    T_CONTAINS(r.steps[2].message, "created");
    T_CONTAINS(r.steps[3].message, "created");
    T_EQ(sim_calls(sim, "createDestination"), 1);
    T_EQ(sim_calls(sim, "createSubscription"), 1);
    T_STREQ(setting(&f, "notifications.destination_id"), r.destination_id);
    T_STREQ(setting(&f, "notifications.subscription_id"), r.subscription_id);
    T_STREQ(setting(&f, "notifications.enabled"), "true");
    T_EQ(sim->order_change_subscribed, 1);
    T_STREQ(sim->order_change_arn, ARN);
    char dest[128], sub[128];
    snprintf(dest, sizeof dest, "%s", r.destination_id);
    snprintf(sub, sizeof sub, "%s", r.subscription_id);

    /* second run: finds both, changes nothing, says so */
    sb_buf j1, j2;
    sb_buf_init(&j1, 1 << 20);
    sb_buf_init(&j2, 1 << 20);
    T_EQ(sb_notify_setup(f.s, f.db, f.integ, &r, err), 0);
    T_EQ(r.ok, 1);
    T_EQ(r.changed, 0);
    T_STREQ(r.destination_id, dest);
    T_STREQ(r.subscription_id, sub);
    for (int i = 0; i < SB_NOTIFY_STEPS; i++) T_EQ(r.steps[i].changed, 0);
    T_CONTAINS(r.steps[2].message, "found");
    T_CONTAINS(r.steps[3].message, "found");
    T_EQ(sim_calls(sim, "createDestination"), 1);
    T_EQ(sim_calls(sim, "createSubscription"), 1);
    T_EQ(sb_notify_setup_json(&r, &j1), 0);
    T_CONTAINS(j1.data, "\"changed\":false");
    T_CONTAINS(j1.data, "nothing changed");
    /* the document is the same on a third run (no clock in it: CLI and web compare equal) */
    T_EQ(sb_notify_setup(f.s, f.db, f.integ, &r, err), 0);
    T_EQ(sb_notify_setup_json(&r, &j2), 0);
    T_STREQ(j1.data, j2.data);
    sb_buf_free(&j1);
    sb_buf_free(&j2);
    fx_close(&f);

    /* ambiguous answers: each create goes out once and is looked up */
    T_EQ(sb_sim_reset(sim, err), 0);
    fx_open(&f, sim, queue_url, 1);
    T_EQ(sb_sim_fault_add(sim, "[{\"op\":\"createDestination\",\"kind\":\"drop\",\"committed\":true},"
                               "{\"op\":\"createSubscription\",\"kind\":\"500\",\"committed\":true}]", err), 0);
    T_EQ(sb_notify_setup(f.s, f.db, f.integ, &r, err), 0);
    T_EQ(r.ok, 1);
    T_CONTAINS(r.steps[2].message, "found after an unclear answer to createDestination");
    T_CONTAINS(r.steps[3].message, "found after an unclear answer to createSubscription");
    T_EQ(sim_calls(sim, "createDestination"), 1);
    T_EQ(sim_calls(sim, "createSubscription"), 1);
    T_EQ(sim_calls(sim, "getDestinations"), 2);
    T_CHECK(r.subscription_id[0] != '\0');
    /* a new database against the same Amazon: both found, nothing made twice */
    fx_close(&f);
    fx_open(&f, sim, queue_url, 1);
    T_EQ(sb_notify_setup(f.s, f.db, f.integ, &r, err), 0);
    T_EQ(r.ok, 1);
    T_EQ(sim_calls(sim, "createDestination"), 1);
    fx_close(&f);

    /* a FIFO queue: nothing set up on Amazon, the fix named, notifications stay off */
    T_EQ(sb_sim_reset(sim, err), 0);
    queue_attrs = ATTR_FIFO;
    fx_open(&f, sim, queue_url, 1);
    T_EQ(sb_notify_setup(f.s, f.db, f.integ, &r, err), 0);
    T_EQ(r.ok, 0);
    T_EQ(r.enabled, 0);
    T_EQ(r.steps[1].status, SB_NOTIFY_FAILED);
    T_CONTAINS(r.steps[1].fix, "Standard queue");
    T_EQ(r.steps[2].status, SB_NOTIFY_NOT_RUN);
    T_EQ(sim_calls(sim, "createDestination"), 0);
    T_STREQ(setting(&f, "notifications.enabled"), "false");
    fx_close(&f);

    /* a policy without Amazon's account: destination and subscription made, still off */
    T_EQ(sb_sim_reset(sim, err), 0);
    queue_attrs = ATTR_POLICY;
    fx_open(&f, sim, queue_url, 1);
    T_EQ(sb_notify_setup(f.s, f.db, f.integ, &r, err), 0);
    T_EQ(r.ok, 0);
    T_EQ(r.steps[1].status, SB_NOTIFY_FAILED);
    T_CONTAINS(r.steps[1].fix, "437568002678");
    T_CONTAINS(r.steps[1].fix, "sqs:SendMessage");
    T_EQ(r.steps[2].status, SB_NOTIFY_OK);
    T_EQ(r.steps[3].status, SB_NOTIFY_OK);
    T_EQ(r.steps[5].status, SB_NOTIFY_NOT_RUN);
    T_STREQ(setting(&f, "notifications.enabled"), "false");
    T_STREQ(setting(&f, "notifications.destination_id"), r.destination_id);
    /* the policy fixed: the next run turns it on and creates nothing more */
    queue_attrs = ATTR_GOOD;
    T_EQ(sb_notify_setup(f.s, f.db, f.integ, &r, err), 0);
    T_EQ(r.ok, 1);
    T_EQ(sim_calls(sim, "createDestination"), 1);
    T_EQ(sim_calls(sim, "createSubscription"), 1);
    T_STREQ(setting(&f, "notifications.enabled"), "true");
    fx_close(&f);

    /* missing settings and keys: each named with its command; Amazon not asked */
    T_EQ(sb_sim_reset(sim, err), 0);
    fx_open(&f, sim, NULL, 0);
    int calls = queue_calls;
    T_EQ(sb_notify_setup(f.s, f.db, f.integ, &r, err), 0);
    T_EQ(r.ok, 0);
    T_EQ(r.steps[0].status, SB_NOTIFY_FAILED);
    T_CONTAINS(r.steps[0].fix, "sellerbridge settings set notifications.queue_url");
    T_CONTAINS(r.steps[0].fix, "sellerbridge credentials set aws.access_key_id");
    T_CONTAINS(r.steps[0].fix, "sellerbridge credentials set aws.secret_access_key");
    for (int i = 1; i < SB_NOTIFY_STEPS; i++) T_EQ(r.steps[i].status, SB_NOTIFY_NOT_RUN);
    T_EQ(queue_calls, calls);
    T_EQ(sb_sim_request_count(sim), 0);
    fx_close(&f);
}

int main(void) {
    char err[SB_ERRLEN], queue_url[128];
    fake_clock_install("2026-11-27T12:00:00Z");
    struct MHD_Daemon *q = queue_start(queue_url, sizeof queue_url);
    sb_sim *sim;
    sb_sim_options o = {.port = 0, .now_ms = fake_now};
    if (sb_sim_start(&o, &sim, err)) { fprintf(stderr, "sim: %s\n", err); return 1; }
    capture_stderr();
    test_client(sim);
    test_sim_refusals(sim);
    test_ambiguous_client(sim);
    test_setup(sim, queue_url);
    char *log = captured_stderr();
    /* no secret in any log line: the tokens (seller's and grantless), LWA's and AWS's */
    T_CHECK(strstr(log, "Atza|") == NULL);
    T_CHECK(strstr(log, SB_SIM_CLIENT_SECRET) == NULL);
    T_CHECK(strstr(log, SB_SIM_REFRESH_TOKEN) == NULL);
    T_CHECK(strstr(log, "wJalrXUtnFEMI") == NULL);
    T_CONTAINS(log, "LWA grantless access token refreshed");
    free(log);
    sb_sim_stop(sim);
    MHD_stop_daemon(q);
    return t_done();
}
