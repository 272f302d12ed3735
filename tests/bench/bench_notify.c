/* bench_notify.c: how long an order takes from Amazon's notification to its commit here,
 * and what it costs in getOrder calls. The runtime runs on the real clock against the
 * in-process simulator at Amazon's rates (getOrder 0.5/s, burst 30) and its SQS queue
 * with long polling (notifications.wait_seconds 20); a pusher creates N orders on the
 * simulator and sends each one's ORDER_CHANGE notification (some twice: Amazon delivers at
 * least once) every INTERVAL ms. Prints the latency from the notification's EventTime to
 * the committed order (p50, p90, max), getOrder calls per order, and duplicates seen.
 * Usage: bench_notify [N=25] [INTERVAL_MS=200] [DUP_EVERY=5] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "aws/sqs.h"
#include "core/clock.h"
#include "core/log.h"
#include "sched/sched.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "sim/sim.h"
#include "store/store.h"
#include "support/fixture.h"
#include "support/sim_log.h"
#include "store/store_int.h"

static volatile int stop_flag;
static int n_orders = 25, interval_ms = 200, dup_every = 5;
static sb_sim *sim;
static sb_sqs *amazon;

static void die(const char *what, const char *err) { fprintf(stderr, "bench_notify: %s: %s\n", what, err); exit(1); }

static void *pusher(void *arg) {
    (void)arg;
    char err[SB_ERRLEN], q[1024], body[2048], ts[32], id[32];
    for (int i = 0; i < n_orders; i++) {
        snprintf(id, sizeof id, "114-%07d-0000001", i + 1);
        snprintf(q, sizeof q, "{\"orderId\":\"%s\",\"salesChannel\":{\"marketplaceId\":\"" T_MP "\"},"
                 "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\"},"
                 "\"orderItems\":[{\"orderItemId\":\"1\",\"quantityOrdered\":1,\"product\":{\"sellerSku\":\"MUG\"}}]}", id);
        if (sb_sim_orders_upsert(sim, q, err)) die("sim order", err);
        int64_t now = sb_now_ms();
        snprintf(ts, sizeof ts, "%s", "");
        char iso[40];
        time_t t = (time_t)(now / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(iso, sizeof iso, "%s.%03dZ", ts, (int)(now % 1000));
        snprintf(body, sizeof body, "{\"NotificationType\":\"ORDER_CHANGE\",\"EventTime\":\"%s\",\"Payload\":"
                 "{\"OrderChangeNotification\":{\"AmazonOrderId\":\"%s\",\"OrderChangeType\":\"OrderStatusChange\"}},"
                 "\"NotificationMetadata\":{\"NotificationId\":\"bench-%d\"}}", iso, id, i);
        if (sb_sqs_send(amazon, body, NULL, 0, err)) die("send", err);
        if (dup_every > 0 && i % dup_every == dup_every - 1 && sb_sqs_send(amazon, body, NULL, 0, err)) die("send", err);
        usleep((useconds_t)interval_ms * 1000);
    }
    return NULL;
}

typedef struct run_arg { sb_store *s; const char *db; int rc; char err[SB_ERRLEN]; } run_arg;
static void *engine_main(void *arg) {
    run_arg *a = arg;
    sb_sched_opts o = {.db_path = a->db, .stop = &stop_flag};
    a->rc = sb_sched_run(a->s, &o, a->err);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc > 1) n_orders = atoi(argv[1]);
    if (argc > 2) interval_ms = atoi(argv[2]);
    if (argc > 3) dup_every = atoi(argv[3]);
    if (n_orders < 1 || n_orders > 10000 || interval_ms < 0) die("usage", "bench_notify [N] [INTERVAL_MS] [DUP_EVERY]");
    sb_log_set_level(SB_LOG_WARN);
    char dir[] = "/tmp/sbbnXXXXXX", db[64], err[SB_ERRLEN], queue[160];
    if (!mkdtemp(dir)) die("mkdtemp", "failed");
    snprintf(db, sizeof db, "%s/b.db", dir);
    sb_sim_options so = {.scenario_json = "{}"};
    if (sb_sim_start(&so, &sim, err)) die("sim", err);
    sb_store *s;
    int64_t integ;
    if (sb_store_open(db, SB_STORE_CREATE, &s, err) || sb_store_integration_add(s, "main", &integ, err)) die("store", err);
    t_import(s, integ, "branches", "name\nLA\n");
    t_import(s, integ, "products", "sku,name\nMUG,Mug\n");
    t_import(s, integ, "stock", "sku,branch,on_hand\nMUG,LA,100000\n");
    t_connect_sim(s, integ, sb_sim_url(sim));
    snprintf(queue, sizeof queue, "%s/000000000000/sellerbridge-sim", sb_sim_url(sim));
    t_set(s, integ, "additional.mf_branch", "LA");
    t_set(s, integ, "orders.auto_download", "false");
    t_set(s, integ, "notifications.enabled", "true");
    t_set(s, integ, "notifications.queue_url", queue);
    t_set(s, integ, "notifications.wait_seconds", "20");
    unsigned char key[SB_KEY_LEN];
    if (sb_secrets_key(db, 1, key, err) ||
        sb_secrets_put(s, integ, "aws.access_key_id", "AKIDBENCH", key, err) ||
        sb_secrets_put(s, integ, "aws.secret_access_key", "bench-secret", key, err)) die("keys", err);
    sb_sqs_config c = {.queue_url = queue, .region = "us-east-1", .access_key_id = "AKIDAMAZON", .secret_access_key = "x"};
    if (!(amazon = sb_sqs_new(&c, err))) die("queue", err);

    run_arg ra = {.s = s, .db = db};
    pthread_t eng, push;
    pthread_create(&eng, NULL, engine_main, &ra);
    int64_t t0 = sb_now_ms();
    pthread_create(&push, NULL, pusher, NULL);
    pthread_join(push, NULL);
    /* until every notification is done, or 60 s after the last push */
    int64_t deadline = sb_now_ms() + 60000;
    while (sb_now_ms() < deadline && t_qnum(s, "SELECT COUNT(*) FROM notifications WHERE state = 'done'") < n_orders)
        usleep(50000);
    int64_t took = sb_now_ms() - t0;
    stop_flag = 1;
    pthread_join(eng, NULL);
    if (ra.rc) die("runtime", ra.err);

    int64_t *lag = calloc((size_t)n_orders, sizeof *lag);
    int n = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT lag_ms FROM notifications WHERE state = 'done' AND lag_ms IS NOT NULL", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW && n < n_orders) lag[n++] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    qsort(lag, (size_t)n, sizeof *lag, cmp);
    long stored = (long)t_qnum(s, "SELECT COUNT(*) FROM sales_orders WHERE came_by = 'notification'");
    long dups = (long)t_qnum(s, "SELECT COALESCE(SUM(copies), 0) FROM notifications");
    long gets = t_sim_calls(sim, "getOrder", 0);
    printf("bench_notify: %d orders, one notification every %d ms (every %dth sent twice), simulator at Amazon's rates, "
           "SQS long polling 20 s\n", n_orders, interval_ms, dup_every);
    if (n)
        printf("  notification to committed order: p50 %lld ms, p90 %lld ms, max %lld ms (goal: under 2 s)\n",
               (long long)lag[n / 2], (long long)lag[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1], (long long)lag[n - 1]);
    printf("  orders stored: %ld of %d; duplicates seen: %ld; getOrder calls: %ld (%.2f per order); %lld ms in all\n",
           stored, n_orders, dups, gets, stored ? (double)gets / stored : 0.0, (long long)took);
    free(lag);
    sb_sqs_free(amazon);
    sb_store_close(s);
    sb_sim_stop(sim);
    return stored == n_orders ? 0 : 1;
}
