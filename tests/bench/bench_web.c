/* bench_web.c: admin API latency on loopback with 1,000,000 stored orders while the orders
 * job runs against the simulator in the server's worker (restarted with its watermark
 * rewound whenever it finishes, so a sync is always running). Client threads with
 * keep-alive connections call the dashboard's read endpoints; prints p50/p99 per endpoint
 * and overall. Synthetic orders are inserted with SQL (a recursive CTE) for speed.
 * Usage: bench_web [orders=1000000] [requests per client thread=2000] [client threads=4] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "core/embed.h"
#include "support/http.h"
#include "core/log.h"
#include "csvio/csvio.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "sim/sim.h"
#include "web/web.h"
#include "store/store_int.h"

static char base[64], auth[128];
static long norders = 1000000, nreq = 2000;
static volatile int done;
static long sync_runs;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request on the kept handle c (its connection reused, as a dashboard's browser does). */
static long call(CURL *c, const char *method, const char *path, const char *body, sb_buf *out) {
    char url[256];
    struct curl_slist *h = curl_slist_append(NULL, auth);
    snprintf(url, sizeof url, "%s%s", base, path);
    long st = t_http(c, method, url, h, body, 60000, out);
    curl_slist_free_all(h);
    return st;
}

/* The sync, kept running: start, wait, rewind the watermark, start again. */
static void *syncer(void *ud) {
    (void)ud;
    CURL *c = curl_easy_init();
    sb_buf b;
    sb_buf_init(&b, 1 << 24);
    while (!done) {
        if (call(c, "POST", "/api/v1/jobs/orders/run", "{}", &b) != 202) { usleep(50000); continue; }
        do { usleep(20000); call(c, "GET", "/api/v1/jobs", NULL, &b); } while (!done && b.data && strstr(b.data, "\"running\":true"));
        if (b.data && strstr(b.data, "\"error\":\"")) fprintf(stderr, "sync error: %.300s\n", strstr(b.data, "\"error\":\""));
        sync_runs++;
        call(c, "PUT", "/api/v1/settings/orders.last_updated", "{\"value\":\"2026-01-01T00:00:00Z\"}", &b);
    }
    sb_buf_free(&b);
    curl_easy_cleanup(c);
    return NULL;
}

#define NKINDS 7
static const char *const kinds[NKINDS] = {"orders list", "orders by stage", "order detail", "order explain",
                                          "attention", "jobs", "settings"};
typedef struct worker { unsigned seed; double *lat[NKINDS]; long n[NKINDS]; long errors; } worker;

static void *client(void *ud) {
    worker *w = ud;
    CURL *c = curl_easy_init();
    char path[160];
    for (int k = 0; k < NKINDS; k++) w->lat[k] = calloc((size_t)nreq, sizeof(double));
    for (long i = 0; i < nreq; i++) {
        int k = (int)(i % NKINDS);
        long x = rand_r(&w->seed) % norders + 1;
        switch (k) {
        case 0: snprintf(path, sizeof path, "/api/v1/orders?limit=50&page=%ld", 1 + x % 20); break;
        case 1: snprintf(path, sizeof path, "/api/v1/orders?stage=needs_attention&limit=50"); break;
        case 2: snprintf(path, sizeof path, "/api/v1/orders/900-%07ld-%07ld", x, x); break;
        case 3: snprintf(path, sizeof path, "/api/v1/orders/900-%07ld-%07ld/explain", x, x); break;
        case 4: snprintf(path, sizeof path, "/api/v1/attention?limit=100"); break;
        case 5: snprintf(path, sizeof path, "/api/v1/jobs"); break;
        default: snprintf(path, sizeof path, "/api/v1/settings"); break;
        }
        double t0 = now_s();
        long st = call(c, "GET", path, NULL, NULL);
        double dt = now_s() - t0;
        if (st != 200) w->errors++;
        w->lat[k][w->n[k]++] = dt;
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, long n, double p) {
    if (!n) return 0;
    long i = (long)(p * (double)(n - 1) + 0.5);
    return v[i] * 1000;
}

static int setup(const char *db, sb_sim *sim, char *err) {
    static const char *const csv[] = {"branches", "customer_groups", "gl_accounts", "products", "boms", "stock",
                                      "customers", "orders", NULL};
    sb_store *s = NULL;
    int64_t integ;
    unsigned char key[SB_KEY_LEN];
    char lwa[160];
    int rc = sb_store_open(db, SB_STORE_CREATE, &s, err);
    if (!rc) rc = sb_store_integration_add(s, "bench", &integ, err);
    for (int i = 0; !rc && csv[i]; i++) {
        char path[64];
        sb_csv_result res;
        snprintf(path, sizeof path, "examples/data/%s.csv", csv[i]);
        const sb_embedded_file *f = sb_embed_find(path);
        rc = f ? sb_csv_import_mem(s, integ, csv[i], path, f->data, f->len, &res, err) : sb_seterr(err, SB_ENOTFOUND, "%s", path);
    }
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", sb_sim_url(sim));
    const char *set[][2] = {{"additional.mf_branch", "LA Warehouse"}, {"orders.fba_branch", "Amazon FBA"},
                            {"orders.statuses", "UNSHIPPED,PARTIALLY_SHIPPED,SHIPPED"},
                            {"orders.last_updated", "2026-01-01T00:00:00Z"}, {"api.rate_scale", "1000"},
                            {"api.endpoint", sb_sim_url(sim)}, {"api.lwa_endpoint", lwa}, {NULL, NULL}};
    for (int i = 0; !rc && set[i][0]; i++) rc = sb_settings_set(s, integ, set[i][0], set[i][1], err);
    if (!rc) rc = sb_secrets_key(db, 1, key, err);
    if (!rc) rc = sb_secrets_put(s, integ, "lwa.client_id", SB_SIM_CLIENT_ID, key, err);
    if (!rc) rc = sb_secrets_put(s, integ, "lwa.client_secret", SB_SIM_CLIENT_SECRET, key, err);
    if (!rc) rc = sb_secrets_put(s, integ, "lwa.refresh_token", SB_SIM_REFRESH_TOKEN, key, err);
    double t0 = now_s();
    char sql[2048];
    /* one line and one audit row per order; 2% need attention, 1% rule errors */
    snprintf(sql, sizeof sql,
        "PRAGMA synchronous=OFF; BEGIN;"
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < %ld) "
        "INSERT INTO sales_orders(integration_id, source, order_ref, stage, amazon_status, fulfilled_by, branch, buyer_name, "
        "  buyer_email, total, currency, ship_city, ship_country, created_time, updated_time, attention_reason, rule_error) "
        "SELECT %lld, 'amazon', printf('900-%%07d-%%07d', x, x), "
        "  CASE x %% 100 WHEN 0 THEN 'needs_attention' WHEN 1 THEN 'needs_attention' WHEN 2 THEN 'rule_error' "
        "    WHEN 3 THEN 'dispatched' WHEN 4 THEN 'cancelled' ELSE 'open' END, 'UNSHIPPED', 'MERCHANT', 'LA Warehouse', "
        "  'Buyer ' || x, 'b' || x || '@example.com', printf('%%d.99', x %% 500), 'USD', 'Los Angeles', 'US', "
        "  strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 1767225600 + x * 20, 'unixepoch'), "
        "  strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 1767225600 + x * 20, 'unixepoch'), "
        "  CASE WHEN x %% 100 < 2 THEN 'no delivery address' END, CASE WHEN x %% 100 = 2 THEN 'route.lua:3: boom' END FROM n;"
        "INSERT INTO sales_order_lines(order_id, line_no, item_id, sku, qty, unit_price, line_total) "
        "  SELECT id, 1, 'I' || id, 'SKU-' || (id %% 50), 1 + id %% 3, '9.99', '9.99' FROM sales_orders WHERE order_ref LIKE '900-%%';"
        "INSERT INTO audit_log(integration_id, order_ref, entries, pack_hash) "
        "  SELECT integration_id, order_ref, json_array(json_array('route', '{\"branch\":\"LA Warehouse\",\"row\":2}')), "
        "  'bench' FROM sales_orders "
        "  WHERE order_ref LIKE '900-%%';"
        "COMMIT; PRAGMA synchronous=NORMAL; ANALYZE;", norders, (long long)integ);
    if (!rc) rc = sb_store_exec(s, sql, err);
    if (!rc) printf("stored %ld synthetic orders with lines and audit rows in %.1f s\n", norders, now_s() - t0);
    sb_store_close(s);
    return rc;
}

int main(int argc, char **argv) {
    if (argc > 1) norders = atol(argv[1]);
    if (argc > 2) nreq = atol(argv[2]);
    int nthreads = argc > 3 ? atoi(argv[3]) : 4;
    char dir[] = "/tmp/sbbenchwebXXXXXX", db[128], err[SB_ERRLEN], tok[SB_WEB_TOKEN_HEX + 1], tpath[256];
    sb_log_set_level(SB_LOG_WARN);
    curl_global_init(CURL_GLOBAL_ALL);
    if (!mkdtemp(dir)) return 1;
    snprintf(db, sizeof db, "%s/bench.db", dir);
    unsetenv("SELLERBRIDGE_KEY_FILE");
    sb_sim *sim = NULL;
    sb_sim_options so = {.generate = 5000, .seed = 11, .unthrottled = 1};
    if (sb_sim_start(&so, &sim, err) || setup(db, sim, err)) { fprintf(stderr, "set-up: %s\n", err); return 1; }
    sb_web_options o = {.db_path = db, .listen = "127.0.0.1:0", .threads = 4};
    sb_web *w = NULL;
    if (sb_web_start(&o, &w, err) || sb_web_token(db, NULL, 0, tok, tpath, sizeof tpath, err)) { fprintf(stderr, "%s\n", err); return 1; }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", sb_web_port(w));
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);

    pthread_t sy, th[64];
    worker wk[64];
    if (nthreads > 64) nthreads = 64;
    pthread_create(&sy, NULL, syncer, NULL);
    usleep(300000);
    double t0 = now_s();
    for (int i = 0; i < nthreads; i++) {
        memset(&wk[i], 0, sizeof wk[i]);
        wk[i].seed = (unsigned)i * 7919u + 1;
        pthread_create(&th[i], NULL, client, &wk[i]);
    }
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    double elapsed = now_s() - t0;
    done = 1;
    pthread_join(sy, NULL);

    long total = 0, errors = 0;
    for (int i = 0; i < nthreads; i++) { errors += wk[i].errors; for (int k = 0; k < NKINDS; k++) total += wk[i].n[k]; }
    double *allv = calloc((size_t)total, sizeof(double));
    long na = 0;
    printf("%ld requests from %d keep-alive clients in %.1f s (%.0f req/s), %ld errors, %ld orders sync runs meanwhile\n",
           total, nthreads, elapsed, (double)total / elapsed, errors, sync_runs);
    printf("%-16s %8s %9s %9s %9s\n", "endpoint", "n", "p50 ms", "p99 ms", "max ms");
    for (int k = 0; k < NKINDS; k++) {
        long n = 0;
        for (int i = 0; i < nthreads; i++) n += wk[i].n[k];
        double *v = calloc((size_t)n, sizeof(double));
        long m = 0;
        for (int i = 0; i < nthreads; i++) for (long j = 0; j < wk[i].n[k]; j++) { v[m++] = wk[i].lat[k][j]; allv[na++] = wk[i].lat[k][j]; }
        qsort(v, (size_t)n, sizeof *v, cmp);
        printf("%-16s %8ld %9.2f %9.2f %9.2f\n", kinds[k], n, pct(v, n, .50), pct(v, n, .99), n ? v[n - 1] * 1000 : 0);
        free(v);
    }
    qsort(allv, (size_t)na, sizeof *allv, cmp);
    printf("%-16s %8ld %9.2f %9.2f %9.2f\n", "all", na, pct(allv, na, .50), pct(allv, na, .99), na ? allv[na - 1] * 1000 : 0);
    free(allv);
    for (int i = 0; i < nthreads; i++) for (int k = 0; k < NKINDS; k++) free(wk[i].lat[k]);
    sb_web_stop(w);
    sb_sim_stop(sim);
    curl_global_cleanup();
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
    return 0;
}
