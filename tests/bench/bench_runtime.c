/* bench_runtime.c: the engine's runtime with many integrations at Amazon's pace, sped up.
 * N integrations (default 50) in one database, each with its own in-process simulator
 * (its own seller, buckets and feeds) at time scale S (default 60: Amazon's rates and
 * its feed processing times, 1 to 10 minutes here, run S times faster; api.rate_scale S),
 * each downloading its orders, uploading stock by feeds and confirming a package a person
 * dispatches from another connection at a random moment. Prints: the largest lateness of
 * any job run (started minus due; goal <= 1 s), the delay from a dispatch's commit to its
 * confirmShipment being done (goal <= 5 s), peak RSS, and the CPU the process uses over
 * a minute once everything is idle (goal <= 1% of a core; the idle simulators included).
 * Real time, so figures depend on the machine: a benchmark, not a test. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "csvio/csvio.h"
#include "sched/sched.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "sim/sim.h"
#include "store/store.h"
#include "sync/engine.h"
#include "sync/tracking.h"
#include "store/store_int.h"

#define MP "ATVPDKIKX0DER"
#define MAXI 500

static int nint = 50;
static double scale = 60;
static char db[256];
static volatile int stop_flag;
static _Atomic int64_t dispatched_ms[MAXI + 1], confirmed_ms[MAXI + 1];
static _Atomic int64_t max_late_ms, runs_total;
static _Atomic int late_job = -1;

static void die(const char *what, const char *err) { fprintf(stderr, "%s: %s\n", what, err); exit(1); }

static void on_run(void *ud, const char *integ, int job, int64_t due, int64_t started, int rc, int64_t next) {
    (void)ud; (void)next;
    atomic_fetch_add(&runs_total, 1);
    int64_t late = started - due;
    if (due > 0 && late > atomic_load(&max_late_ms)) { atomic_store(&max_late_ms, late); atomic_store(&late_job, job); }
    int i = atoi(integ + 1);
    if (job == SB_JOB_TRACKING && rc == 0 && i > 0 && i <= MAXI && atomic_load(&dispatched_ms[i]) &&
        !atomic_load(&confirmed_ms[i]))
        atomic_store(&confirmed_ms[i], sb_now_ms());
}

static void *engine_main(void *arg) {
    (void)arg;
    sb_store *s;
    char err[SB_ERRLEN];
    if (sb_store_open(db, 0, &s, err)) die("engine", err);
    sb_sched_opts o = {.db_path = db, .stop = &stop_flag, .on_run = on_run};
    if (sb_sched_run(s, &o, err)) fprintf(stderr, "engine: %s\n", err);
    sb_store_close(s);
    return NULL;
}

static void set(sb_store *s, int64_t integ, const char *name, const char *value) {
    char err[SB_ERRLEN];
    if (sb_settings_set(s, integ, name, value, err)) die(name, err);
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    if (argc > 1) nint = atoi(argv[1]);
    if (argc > 2) scale = atof(argv[2]);
    int active_s = argc > 3 ? atoi(argv[3]) : 60, idle_s = argc > 4 ? atoi(argv[4]) : 60;
    if (nint < 1 || nint > MAXI) nint = 50;
    sb_log_set_level(SB_LOG_ERROR);
    char dir[] = "/tmp/sbbenchrtXXXXXX", err[SB_ERRLEN];
    if (!mkdtemp(dir)) die("mkdtemp", "failed");
    snprintf(db, sizeof db, "%s/b.db", dir);
    sb_store *s;
    unsigned char key[SB_KEY_LEN];
    if (sb_store_open(db, SB_STORE_CREATE, &s, err) || sb_secrets_key(db, 1, key, err)) die("db", err);
    sb_csv_result cr;
    const char *br = "name\nLA\nNJ\nFBA\n", *pr = "sku,name\nA-1,Alpha\nB-2,Beta\nC-3,Gamma\n",
               *sk = "sku,branch,on_hand\nA-1,LA,10\nB-2,LA,3\nC-3,NJ,7\n";
    sb_sim **sims = calloc((size_t)nint, sizeof *sims);
    srand(42);
    for (int i = 1; i <= nint; i++) {
        char name[16], scen[1024], lwa[256], q[512];
        int64_t id;
        snprintf(name, sizeof name, "i%d", i);
        snprintf(scen, sizeof scen, "{\"generate\":{\"count\":300,\"seed\":%d},\"time_scale\":%g,"
                 "\"processing\":{\"feed\":{\"queue_s\":30,\"processing_s\":[60,600]}},"
                 "\"listings\":[{\"sku\":\"A-1\"},{\"sku\":\"B-2\"},{\"sku\":\"C-3\"}]}", i, scale);
        sb_sim_options so = {.scenario_json = scen};
        if (sb_sim_start(&so, &sims[i - 1], err)) die("sim", err);
        if (sb_store_integration_add(s, name, &id, err)) die("integration", err);
        if (i == 1 && (sb_csv_import_mem(s, id, "branches", "branches", br, strlen(br), &cr, err) ||
                       sb_csv_import_mem(s, id, "products", "products", pr, strlen(pr), &cr, err) ||
                       sb_csv_import_mem(s, id, "stock", "stock", sk, strlen(sk), &cr, err))) die("import", err);
        const char *url = sb_sim_url(sims[i - 1]);
        snprintf(lwa, sizeof lwa, "%s/auth/o2/token", url);
        char sc[32];
        snprintf(sc, sizeof sc, "%g", scale);
        set(s, id, "api.endpoint", url);
        set(s, id, "api.lwa_endpoint", lwa);
        set(s, id, "api.rate_scale", sc);
        set(s, id, "integration.seller_id", SB_SIM_SELLER_ID);
        set(s, id, "integration.marketplaces", MP);
        set(s, id, "orders.fba_branch", "FBA");
        set(s, id, "additional.mf_branch", "LA");
        set(s, id, "stock.enabled", "true");
        set(s, id, "stock.patch_threshold", "1");
        set(s, id, "additional.auto_update_status", "true");
        if (sb_secrets_put(s, id, "lwa.client_id", SB_SIM_CLIENT_ID, key, err) ||
            sb_secrets_put(s, id, "lwa.client_secret", SB_SIM_CLIENT_SECRET, key, err) ||
            sb_secrets_put(s, id, "lwa.refresh_token", SB_SIM_REFRESH_TOKEN, key, err)) die("secrets", err);
        /* the order a person dispatches: known to Amazon, open here */
        snprintf(q, sizeof q, "{\"orderId\":\"114-%07d-0000001\",\"salesChannel\":{\"marketplaceId\":\"" MP "\"},"
                 "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\"}}", i);
        if (sb_sim_orders_upsert(sims[i - 1], q, err)) die("sim order", err);
        snprintf(q, sizeof q, "INSERT INTO sales_orders(integration_id, order_ref, marketplace_id, stage, fulfilled_by, "
                 "branch) VALUES (%lld, '114-%07d-0000001', '" MP "', 'open', 'MERCHANT', 'LA')", (long long)id, i);
        if (sb_store_exec(s, q, err)) die("order", err);
        snprintf(q, sizeof q, "INSERT INTO sales_order_lines(order_id, line_no, item_id, sku, product_id, qty) VALUES "
                 "(last_insert_rowid(), 1, 'ITEM-1', 'A-1', (SELECT id FROM products WHERE sku = 'A-1'), 1)");
        if (sb_store_exec(s, q, err)) die("line", err);
    }
    /* dispatch times: spread over the active phase's first 80% */
    int64_t *when = calloc((size_t)nint + 1, sizeof *when);
    int64_t t0 = sb_now_ms();
    for (int i = 1; i <= nint; i++) when[i] = t0 + 3000 + (int64_t)(rand() % (active_s * 800 > 1 ? active_s * 800 : 1));
    pthread_t th;
    double c0 = cpu_s();
    pthread_create(&th, NULL, engine_main, NULL);
    int left = nint;
    while (sb_now_ms() < t0 + active_s * 1000) {
        for (int i = 1; i <= nint && left; i++) {
            if (!when[i] || sb_now_ms() < when[i]) continue;
            sb_engine *e;
            char ref[32];
            snprintf(ref, sizeof ref, "114-%07d-0000001", i);
            if (sb_engine_open(s, db, i, &e, err)) die("engine open", err);
            sb_dispatch_req rq = {.order_ref = ref, .carrier = "UPS", .tracking = "1Z1"};
            sb_dispatch_result res;
            if (sb_tracking_dispatch(e, &rq, &res, err)) fprintf(stderr, "dispatch %s: %s\n", ref, err);
            else atomic_store(&dispatched_ms[i], sb_now_ms());
            sb_engine_close(e);
            when[i] = 0;
            left--;
        }
        usleep(20000);
    }
    double c1 = cpu_s();
    long runs_active = (long)atomic_load(&runs_total);
    /* idle: every job done or waiting on its schedule */
    sleep((unsigned)idle_s);
    double c2 = cpu_s();
    long runs_idle = (long)atomic_load(&runs_total) - runs_active;
    stop_flag = 1;
    int64_t stop_at = sb_now_ms();
    pthread_join(th, NULL);
    int64_t stopped = sb_now_ms() - stop_at;

    int64_t worst = 0, sum = 0;
    int n = 0, missing = 0;
    for (int i = 1; i <= nint; i++) {
        int64_t d = atomic_load(&dispatched_ms[i]), c = atomic_load(&confirmed_ms[i]);
        if (!d) continue;
        if (!c) { missing++; continue; }
        if (c - d > worst) worst = c - d;
        sum += c - d;
        n++;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("integrations %d, time scale %g, active %d s (%ld job runs), idle %d s (%ld job runs)\n", nint, scale, active_s,
           runs_active, idle_s, runs_idle);
    printf("largest lateness of a job run: %lld ms (%s; goal <= 1000 ms)\n", (long long)atomic_load(&max_late_ms),
           atomic_load(&late_job) >= 0 ? sb_job_name(atomic_load(&late_job)) : "-");
    printf("dispatch to confirmShipment done: worst %lld ms, mean %lld ms over %d dispatches, %d not confirmed (goal <= 5000 ms)\n",
           (long long)worst, (long long)(n ? sum / n : 0), n, missing);
    printf("peak RSS: %.1f MiB (engine and %d simulators in one process)\n", (double)ru.ru_maxrss / 1024, nint);
    printf("CPU: active %.1f%% of a core, idle %.2f%% of a core (goal <= 1%%)\n", 100 * (c1 - c0) / active_s,
           100 * (c2 - c1) / idle_s);
    printf("SIGTERM-equivalent stop to return: %lld ms\n", (long long)stopped);
    for (int i = 0; i < nint; i++) sb_sim_stop(sims[i]);
    free(sims);
    free(when);
    sb_store_close(s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return 0;
}
