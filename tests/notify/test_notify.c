/* test_notify.c: the notifications job (engine/sync/notify.c).
 * 1. What is read from a message body, as data (parse_cases.txt).
 * 2. Against the in-process simulator and its SQS queue on the fake clock: a new order is
 *    stored within seconds of its notification (came_by notification); duplicates and
 *    reordered messages change nothing; a lost notification is caught by the download; a
 *    message is deleted only after its order is committed; a poison message is tried a
 *    bounded number of times and set aside for a person. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aws/sqs.h"
#include "core/log.h"
#include "sched/sched.h"
#include "store/notify.h"
#include "sync/engine.h"
#include "sync/notify.h"
#include "sync/orders.h"
#include "support/fixture.h"
#include "support/sim_log.h"
#include "t.h"
#include "store/store_int.h"

#define QUEUE_PATH "/000000000000/sellerbridge-sim"
#define O_NEW "113-1000001-0000001"
#define O_TWO "113-1000002-0000002"
#define O_LOST "113-1000003-0000003"
#define O_GONE "113-1000004-0000004"
#define O_FAIL "113-1000005-0000005"
/* what an order needs to be stored open: its buyer and where it goes */
#define WHO "\"buyer\":{\"buyerName\":\"Ann Lee\",\"buyerEmail\":\"ann@example.com\"},\"recipient\":{\"deliveryAddress\":" \
            "{\"name\":\"Ann Lee\",\"addressLine1\":\"1 Main St\",\"city\":\"Austin\",\"stateOrRegion\":\"TX\"," \
            "\"postalCode\":\"73301\",\"countryCode\":\"US\"}}"
#define ITEMS "\"orderItems\":[{\"orderItemId\":\"1\",\"quantityOrdered\":2,\"product\":{\"sellerSku\":\"MUG\"}}]"

typedef struct fx {
    sb_sim *sim;
    sb_store *s;
    int64_t integ;
    char db[96], queue[160];
    sb_sqs *q;                  /* the test's own client of the simulator's queue (Amazon's side) */
} fx;

/* An ORDER_CHANGE notification as Amazon sends it, EventTime = the clock now. */
static void push(fx *f, const char *nid, const char *order, const char *status) {
    char body[2048], ts[32], err[SB_ERRLEN];
    int64_t now = sb_now_ms();
    snprintf(body, sizeof body,
             "{\"NotificationVersion\":\"1.0\",\"NotificationType\":\"ORDER_CHANGE\",\"PayloadVersion\":\"1.0\","
             "\"EventTime\":\"%s\",\"Payload\":{\"OrderChangeNotification\":{\"NotificationLevel\":\"OrderLevel\","
             "\"SellerId\":\"" SB_SIM_SELLER_ID "\",\"AmazonOrderId\":\"%s\",\"OrderChangeType\":\"OrderStatusChange\","
             "\"OrderChangeTrigger\":{\"TimeOfOrderChange\":\"%s\",\"ChangeReason\":\"status\"},\"Summary\":{"
             "\"MarketplaceId\":\"" T_MP "\",\"OrderStatus\":\"%s\",\"PurchaseDate\":null,\"DestinationPostalCode\":null,"
             "\"FulfillmentType\":\"MFN\",\"OrderType\":\"StandardOrder\",\"OrderItems\":[]}}},"
             "\"NotificationMetadata\":{\"ApplicationId\":\"app\",\"SubscriptionId\":\"sub\",\"PublishTime\":\"%s\","
             "\"NotificationId\":\"%s\"}}",
             sb_time_format(now / 1000, ts, sizeof ts), order, ts, status, ts, nid);
    int rc = sb_sqs_send(f->q, body, NULL, 0, err);
    if (rc) fprintf(stderr, "send %s: %s\n", nid, err);
    T_EQ(rc, 0);
}

static void push_raw(fx *f, const char *body) {
    char err[SB_ERRLEN];
    int rc = sb_sqs_send(f->q, body, NULL, 0, err);
    if (rc) fprintf(stderr, "send: %s\n", err);
    T_EQ(rc, 0);
}

static void sim_order(fx *f, const char *id, const char *status) {
    char q[1024], err[SB_ERRLEN];
    snprintf(q, sizeof q, "{\"orderId\":\"%s\",\"salesChannel\":{\"marketplaceId\":\"" T_MP "\"},"
             "\"fulfillment\":{\"fulfillmentStatus\":\"%s\",\"fulfilledBy\":\"MERCHANT\"},"
             WHO "," ITEMS "}", id, status);
    int rc = sb_sim_orders_upsert(f->sim, q, err);
    if (rc) fprintf(stderr, "sim order %s: %s\n", id, err);
    T_EQ(rc, 0);
}

/* One run of the job, as the runtime makes it: its own engine on the database. */
static int run_once(fx *f, sb_notify_result *r, char *err) {
    sb_engine *e;
    int rc = sb_engine_open(f->s, f->db, f->integ, &e, err);
    if (!rc) rc = sb_sync_notifications(e, NULL, r, err);
    sb_engine_close(e);
    return rc;
}

static long q_count(fx *f, const char *fmt, const char *arg) {
    char q[512];
    snprintf(q, sizeof q, fmt, arg);
    return (long)t_qnum(f->s, q);
}

/* Messages the queue still holds, visible or not (Amazon's side would see them). */
static long queue_left(fx *f) {
    sb_sqs_attributes a;
    char err[SB_ERRLEN];
    if (sb_sqs_get_attributes(f->q, &a, err)) { fprintf(stderr, "attributes: %s\n", err); return -1; }
    long n = a.approx_messages;
    sb_sqs_attributes_free(&a);
    return n;
}

static void setup(fx *f) {
    char dir[] = "/tmp/sbntXXXXXX", err[SB_ERRLEN];
    memset(f, 0, sizeof *f);
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(f->db, sizeof f->db, "%s/t.db", dir);
    sb_sim_options o = {.scenario_json = "{}"};
    T_EQ(sb_sim_start(&o, &f->sim, err), 0);
    T_EQ(sb_store_open(f->db, SB_STORE_CREATE, &f->s, err), 0);
    T_EQ(sb_store_integration_add(f->s, "main", &f->integ, err), 0);
    t_import(f->s, f->integ, "branches", "name\nLA\n");
    t_import(f->s, f->integ, "products", "sku,name\nMUG,Mug\n");
    t_import(f->s, f->integ, "stock", "sku,branch,on_hand\nMUG,LA,50\n");
    t_connect_sim(f->s, f->integ, sb_sim_url(f->sim));
    t_set(f->s, f->integ, "additional.mf_branch", "LA");
    snprintf(f->queue, sizeof f->queue, "%s" QUEUE_PATH, sb_sim_url(f->sim));
    t_set(f->s, f->integ, "notifications.enabled", "true");
    t_set(f->s, f->integ, "notifications.queue_url", f->queue);
    t_set(f->s, f->integ, "notifications.wait_seconds", "0");
    t_set(f->s, f->integ, "notifications.visibility_seconds", "30");
    t_set(f->s, f->integ, "notifications.max_tries", "3");
    unsigned char key[SB_KEY_LEN];
    T_EQ(sb_secrets_key(f->db, 1, key, err), 0);
    T_EQ(sb_secrets_put(f->s, f->integ, "aws.access_key_id", "AKIDTESTREADER", key, err), 0);
    T_EQ(sb_secrets_put(f->s, f->integ, "aws.secret_access_key", "reader-secret-0123456789", key, err), 0);
    sb_sqs_config c = {.queue_url = f->queue, .region = "us-east-1", .access_key_id = "AKIDAMAZON",
                       .secret_access_key = "amazon-side-secret"};
    f->q = sb_sqs_new(&c, err);
    if (!f->q) fprintf(stderr, "test queue client: %s\n", err);
    T_CHECK(f->q != NULL);
}

static void teardown(fx *f) {
    sb_sqs_free(f->q);
    sb_store_close(f->s);
    sb_sim_stop(f->sim);
}

/* A new order is stored within seconds of its notification, once; a second delivery of
 * the same notification and a reordered, older one change nothing. */
static void new_order_and_duplicates(fx *f) {
    char err[SB_ERRLEN];
    sb_notify_result r;
    sim_order(f, O_NEW, "UNSHIPPED");
    int64_t t0 = sb_now_ms();
    push(f, "n-new-1", O_NEW, "Unshipped");
    T_EQ(run_once(f, &r, err), 0);
    T_EQ(r.received, 1);
    T_EQ(r.orders, 1);
    T_EQ(r.created, 1);
    T_EQ(r.deleted, 1);
    T_CHECK(r.max_lag_ms >= 0 && r.max_lag_ms < 5000);
    T_CHECK(sb_now_ms() - t0 < 5000);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s' AND came_by = 'notification'", O_NEW), 1);
    T_STREQ(t_qtext(f->s, "SELECT state FROM notifications WHERE notification_id = 'n-new-1'"), "done");
    T_EQ(queue_left(f), 0);
    long gets = t_sim_calls(f->sim, "getOrder", 0);
    /* Amazon delivers it again (at least once), and an older notification of the same
     * order arrives after the newer one: nothing changes, nothing is fetched for the copy */
    push(f, "n-new-1", O_NEW, "Unshipped");
    push(f, "n-new-0", O_NEW, "Pending");
    T_EQ(run_once(f, &r, err), 0);
    T_EQ(r.received, 2);
    T_EQ(r.duplicates, 1);
    T_EQ(r.created, 0);
    T_EQ(r.updated, 0);
    T_EQ(r.unchanged, 1);
    T_EQ(t_sim_calls(f->sim, "getOrder", 0), gets + 1);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s'", O_NEW), 1);
    T_STREQ(t_qtext(f->s, "SELECT deliveries || ' ' || copies FROM notifications WHERE notification_id = 'n-new-1'"), "2 1");
    T_EQ(queue_left(f), 0);
    char report[512];
    T_EQ(sb_orders_check_reserved(f->s, report, sizeof report), 0);
    /* a Pending order becoming Unshipped: the first is skipped by the status filter, the
     * second stores it, delivered in the wrong order or not */
    sim_order(f, O_TWO, "PENDING");
    push(f, "n-two-1", O_TWO, "Pending");
    T_EQ(run_once(f, &r, err), 0);
    T_EQ(r.created, 0);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s'", O_TWO), 0);
    sim_order(f, O_TWO, "UNSHIPPED");
    push(f, "n-two-2", O_TWO, "Unshipped");
    T_EQ(run_once(f, &r, err), 0);
    T_EQ(r.created, 1);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s' AND stage = 'open'", O_TWO), 1);
}

/* An answer older than what is stored (a replica behind, a late notification) is left. */
static void stale_answer_left(fx *f) {
    char err[SB_ERRLEN];
    sb_engine *e;
    sb_orders_result o;
    const char *old = "{\"order\":{\"orderId\":\"" O_NEW "\",\"createdTime\":\"2026-01-01T00:00:00Z\","
                      "\"lastUpdatedTime\":\"2026-01-01T00:00:00Z\",\"salesChannel\":{\"marketplaceId\":\"" T_MP "\"},"
                      "\"fulfillment\":{\"fulfillmentStatus\":\"CANCELLED\",\"fulfilledBy\":\"MERCHANT\"}," WHO "," ITEMS "}}";
    T_EQ(sb_engine_open(f->s, f->db, f->integ, &e, err), 0);
    T_EQ(sb_orders_apply_order(e, old, strlen(old), &o, err), 0);
    sb_engine_close(e);
    T_EQ(o.stale, 1);
    T_EQ(o.cancelled, 0);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s' AND stage = 'open'", O_NEW), 1);
}

/* The scheduled download finds the order whose notification never came. */
static void lost_caught_by_sweep(fx *f) {
    char err[SB_ERRLEN], ts[32];
    sim_order(f, O_LOST, "UNSHIPPED");
    t_set(f->s, f->integ, "orders.last_updated", sb_time_format(sb_now() - 3600, ts, sizeof ts));
    atomic_fetch_add(&t_fake_ms, 180000);       /* past searchOrders' 2-minute rule */
    sb_engine *e;
    sb_orders_result o;
    T_EQ(sb_engine_open(f->s, f->db, f->integ, &e, err), 0);
    int rc = sb_sync_orders(e, &o, err);
    if (rc) fprintf(stderr, "sweep: %s\n", err);
    T_EQ(rc, 0);
    sb_engine_close(e);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s' AND came_by = 'download'", O_LOST), 1);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s' AND came_by = 'notification'", O_NEW), 1);
}

/* A failed try leaves the message on the queue (deleted only after a commit) and it is
 * tried again when it comes back; one that keeps failing is tried max_tries times and set
 * aside; one that can never be read is set aside at once; neither is deleted (the
 * queue's redrive policy takes them) and neither costs a call once set aside. */
static void failures_and_poison(fx *f) {
    char err[SB_ERRLEN];
    sb_notify_result r;
    sim_order(f, O_FAIL, "UNSHIPPED");
    T_EQ(sb_sim_fault_add(f->sim, "{\"op\":\"getOrder\",\"kind\":\"500\",\"count\":100}", err), 0);
    t_set(f->s, f->integ, "api.max_retries", "0");
    push(f, "n-fail-1", O_FAIL, "Unshipped");
    T_EQ(run_once(f, &r, err), 0);
    T_EQ(r.failed, 1);
    T_EQ(r.deleted, 0);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s'", O_FAIL), 0);
    T_STREQ(t_qtext(f->s, "SELECT state || ' ' || tries FROM notifications WHERE notification_id = 'n-fail-1'"), "failed 1");
    sb_sim_faults_clear(f->sim);
    /* hidden for its visibility timeout, then back */
    T_EQ(run_once(f, &r, err), 0);
    T_EQ(r.received, 0);
    atomic_fetch_add(&t_fake_ms, 31000);
    T_EQ(run_once(f, &r, err), 0);
    T_EQ(r.received, 1);
    T_EQ(r.created, 1);
    T_EQ(r.deleted, 1);
    T_EQ(queue_left(f), 0);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s' AND came_by = 'notification'", O_FAIL), 1);

    /* an order Amazon does not know: three tries, then set aside */
    push(f, "n-gone-1", O_GONE, "Unshipped");
    long before = t_sim_calls(f->sim, "getOrder", 0);
    for (int i = 0; i < 5; i++) {
        T_EQ(run_once(f, &r, err), 0);
        T_EQ(r.received, 1);
        T_EQ(r.poison, i >= 2);
        T_EQ(r.failed, i < 2);
        atomic_fetch_add(&t_fake_ms, 31000);
    }
    T_EQ(t_sim_calls(f->sim, "getOrder", 0), before + 3);
    T_STREQ(t_qtext(f->s, "SELECT state || ' ' || tries || ' ' || deliveries FROM notifications "
                          "WHERE notification_id = 'n-gone-1'"), "poison 3 5");
    T_CONTAINS(t_qtext(f->s, "SELECT error FROM notifications WHERE notification_id = 'n-gone-1'"), O_GONE);
    T_EQ(queue_left(f), 1);

    /* a body that can never be read: set aside at once, with the body kept for a person */
    push_raw(f, "<html>Bad Gateway</html>");
    atomic_fetch_add(&t_fake_ms, 31000);
    T_EQ(run_once(f, &r, err), 0);
    T_EQ(r.received, 2);
    T_EQ(r.poison, 2);
    T_EQ((long)t_qnum(f->s, "SELECT COUNT(*) FROM notifications WHERE state = 'poison' AND body LIKE '<html>%'"), 1);
    T_CONTAINS(t_qtext(f->s, "SELECT error FROM notifications WHERE body LIKE '<html>%'"), "not JSON");
    sb_notice_stats st;
    T_EQ(sb_store_notice_stats(f->s, f->integ, &st, err), 0);
    T_EQ(st.poison, 2);
    T_EQ(st.duplicates, 1);             /* n-new-1's copy; redeliveries of one message are not copies */
    T_EQ(st.orders_by_notification, 3);
    T_EQ(st.orders_by_download, 1);
    t_set(f->s, f->integ, "api.max_retries", "5");
}

/* getOrder's rate limit: the order that must wait is not fetched, and its message is
 * given back to the queue for when Amazon grants the call (not hidden for its whole
 * visibility timeout); it is stored then. */
static void rate_limited(fx *f) {
    char err[SB_ERRLEN];
    sb_notify_result r;
    sim_order(f, "113-1000007-0000007", "UNSHIPPED");
    sim_order(f, "113-1000008-0000008", "UNSHIPPED");
    sb_sim_set_rate(f->sim, "getOrder", 0.5, 1, 1);
    push(f, "n-rl-1", "113-1000007-0000007", "Unshipped");
    push(f, "n-rl-2", "113-1000008-0000008", "Unshipped");
    atomic_fetch_add(&t_fake_ms, 5000);         /* the bucket full: one call */
    int rc = run_once(f, &r, err);
    T_EQ(rc, SB_ELATER);
    T_EQ(r.created, 1);
    T_CHECK(r.paused_until > sb_now_ms() && r.paused_until <= sb_now_ms() + 5000);
    int64_t back = r.paused_until;
    T_EQ(run_once(f, &r, err), 0);
    T_EQ(r.received, 0);                        /* given back for later, not yet visible */
    atomic_store(&t_fake_ms, back + 1000);
    T_EQ(run_once(f, &r, err), 0);
    T_EQ(r.received, 1);
    T_EQ(r.created, 1);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s' AND came_by = 'notification'",
                 "113-1000008-0000008"), 1);
    T_STREQ(t_qtext(f->s, "SELECT tries FROM notifications WHERE notification_id = 'n-rl-2'"), "0");
    sb_sim_set_rate(f->sim, "getOrder", 0.5, 30, 1);
}

/* The runtime runs the job on its own schedule and, while notifications arrive, the
 * download only every notifications.sweep_minutes. */
static _Atomic long orders_runs;
static _Atomic int64_t orders_gap_ms, last_orders_ms;
static const char *rt_db;
static int64_t rt_integ;
static void on_run(void *ud, const char *integ, int job, int64_t due, int64_t started, int rc, int64_t next) {
    (void)ud; (void)integ; (void)due; (void)rc;
    if (job != SB_JOB_ORDERS) return;
    if (atomic_load(&orders_runs) == 0) {
        /* a person turns notifications on while the engine runs (another connection) */
        sb_store *s;
        char err[SB_ERRLEN];
        if (sb_store_open(rt_db, 0, &s, err) == 0) {
            t_set(s, rt_integ, "notifications.enabled", "true");
            sb_store_close(s);
        } else fprintf(stderr, "on_run: %s\n", err);
    }
    atomic_fetch_add(&orders_runs, 1);
    atomic_store(&last_orders_ms, started);
    atomic_store(&orders_gap_ms, next - started);
}

static void runtime_stretches_the_sweep(fx *f) {
    char err[SB_ERRLEN];
    t_set(f->s, f->integ, "orders.last_updated", "");
    t_set(f->s, f->integ, "notifications.subscription_id", "sub-1");
    t_set(f->s, f->integ, "notifications.sweep_minutes", "30");
    t_set(f->s, f->integ, "notifications.enabled", "false");    /* turned on by on_run, the engine running */
    rt_db = f->db;
    rt_integ = f->integ;
    sim_order(f, "113-1000006-0000006", "UNSHIPPED");
    push(f, "n-rt-1", "113-1000006-0000006", "Unshipped");
    volatile int stop = 0;
    sb_sched_opts o = {.db_path = f->db, .stop = &stop, .until_ms = sb_now_ms() + 65 * 60 * 1000LL, .on_run = on_run};
    int rc = sb_sched_run(f->s, &o, err);
    if (rc) fprintf(stderr, "runtime: %s\n", err);
    T_EQ(rc, 0);
    T_EQ(q_count(f, "SELECT COUNT(*) FROM sales_orders WHERE order_ref = '%s' AND came_by = 'notification'",
                 "113-1000006-0000006"), 1);
    /* 65 minutes of clock: the schedule alone checks every 5 to 120 minutes; with
     * notifications arriving the gap is at least 30 minutes */
    T_CHECK(atomic_load(&orders_runs) >= 2);
    T_CHECK(atomic_load(&orders_gap_ms) >= 30 * 60 * 1000LL);
    T_STREQ(t_qtext(f->s, "SELECT state FROM notifications WHERE notification_id = 'n-rt-1'"), "done");
}

static void parse_cases(const char *path) {
    FILE *f = fopen(path, "r");
    T_CHECK(f != NULL);
    if (!f) return;
    char line[8192];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *name = line, *body = strchr(name, '\t'), *expect = body ? strchr(body + 1, '\t') : NULL;
        if (!expect) { fprintf(stderr, "%s:%d: malformed\n", path, lineno); t_fail++; continue; }
        *body++ = '\0';
        *expect++ = '\0';
        sb_notice n;
        memset(&n, 0, sizeof n);
        char type[64], err[SB_ERRLEN] = "";
        int64_t ev;
        int rc = sb_notify_parse(body, strlen(body), &n, type, sizeof type, &ev, err);
        if (expect[0] == '=') {
            char got[512];
            snprintf(got, sizeof got, "= %s %s %s %s", *n.id ? n.id : "-", *n.order_ref ? n.order_ref : "-",
                     *type ? type : "-", *n.change_type ? n.change_type : "-");
            if (rc || strcmp(got, expect)) {
                fprintf(stderr, "%s:%d: %s: expected '%s', got rc %d '%s' (%s)\n", path, lineno, name, expect, rc, got, err);
                t_fail++;
            } else t_pass++;
        } else if (rc != SB_EINVAL || !strstr(err, expect + 2)) {
            fprintf(stderr, "%s:%d: %s: expected an error containing '%s', got rc %d '%s'\n", path, lineno, name,
                    expect + 2, rc, err);
            t_fail++;
        } else t_pass++;
    }
    fclose(f);
}

int main(void) {
    const char *src = getenv("SB_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/notify/parse_cases.txt", src ? src : "../..");
    parse_cases(path);

    atomic_store(&t_fake_ms, sb_time_parse("2026-12-01T10:00:00Z") * 1000);
    sb_clock_set(&t_fake_clock);
    sb_log_set_level(SB_LOG_ERROR);
    fx f;
    setup(&f);
    if (f.q) {
        new_order_and_duplicates(&f);
        stale_answer_left(&f);
        lost_caught_by_sweep(&f);
        failures_and_poison(&f);
        rate_limited(&f);
        runtime_stretches_the_sweep(&f);
    }
    teardown(&f);
    return t_done();
}
