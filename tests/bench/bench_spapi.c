/* bench_spapi.c: SP-API client + simulator throughput on loopback. Prints requests/s for
 * getOrder through the full client (bucket, token, retries, JSON check) against an
 * unthrottled simulator, and the time to page through 10,000 generated orders with
 * searchOrders (100 per page, all includedData sections the engine uses), and the time
 * sb_json_parse takes to read those pages again from memory (parse, read each order's
 * id and lines, free), without the network, and a small error body read 100,000 times.
 * Usage: bench_spapi [requests] [orders] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/log.h"
#include "json/json.h"
#include "sim/sim.h"
#include "spapi/spapi.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    long nreq = argc > 1 ? atol(argv[1]) : 5000, norders = argc > 2 ? atol(argv[2]) : 10000;
    char err[SB_ERRLEN], lwa[128], first[48] = "";
    sb_log_set_level(SB_LOG_WARN);
    sb_sim_options o = {.generate = norders, .seed = 1, .unthrottled = 1};
    sb_sim *sim = NULL;
    if (sb_sim_start(&o, &sim, err)) { fprintf(stderr, "%s\n", err); return 1; }
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", sb_sim_url(sim));
    sb_spapi_config c = {.endpoint = sb_sim_url(sim), .lwa_endpoint = lwa, .client_id = SB_SIM_CLIENT_ID,
                         .client_secret = SB_SIM_CLIENT_SECRET, .refresh_token = SB_SIM_REFRESH_TOKEN,
                         .timeout_ms = 10000, .rate_scale = 1e6};   /* client buckets out of the way */
    sb_spapi *s = sb_spapi_new(&c, err);
    if (!s) { fprintf(stderr, "%s\n", err); return 1; }
    sb_buf body;
    sb_buf_init(&body, 64u << 20);

    /* page through all orders */
    sb_search_orders_params p = {.last_updated_after = "2000-01-01T00:00:00Z", .max_results = 100,
                                 .included_data = "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT"};
    char token[512] = "";
    long total = 0, pages = 0;
    size_t bytes = 0;
    enum { MAX_KEPT = 1000 };
    char *kept[MAX_KEPT];
    size_t kept_len[MAX_KEPT];
    int nkept = 0;
    double t0 = now_s();
    do {
        p.pagination_token = token[0] ? token : NULL;
        if (sb_spapi_search_orders(s, &p, &body, err)) { fprintf(stderr, "%s\n", err); return 1; }
        sb_json *j = NULL;
        if (sb_json_parse(body.data, body.len, &j, err)) { fprintf(stderr, "%s\n", err); return 1; }
        total += (long)sb_json_len(j, SB_JSON_ROOT, "orders");
        if (!first[0]) sb_json_strcpy(j, SB_JSON_ROOT, "orders[0].orderId", first, sizeof first);
        token[0] = '\0';
        sb_json_strcpy(j, SB_JSON_ROOT, "pagination.nextToken", token, sizeof token);
        sb_json_free(j);
        bytes += body.len;
        pages++;
        if (nkept < MAX_KEPT && (kept[nkept] = malloc(body.len))) {
            memcpy(kept[nkept], body.data, body.len);
            kept_len[nkept++] = body.len;
        }
    } while (token[0]);
    double t1 = now_s();
    printf("searchOrders: %ld orders in %ld pages in %.3f s (%.0f orders/s, %.1f ms/page, %.1f MB JSON, decoded by the caller)\n",
           total, pages, t1 - t0, (double)total / (t1 - t0), 1000 * (t1 - t0) / (double)pages, (double)bytes / 1e6);

    /* the same pages read again from memory: the reader alone */
    {
        size_t pbytes = 0;
        long porders = 0, lines = 0;
        int rounds = 5;
        double p0 = now_s();
        for (int r = 0; r < rounds; r++)
            for (int k = 0; k < nkept; k++) {
                sb_json *j = NULL;
                if (sb_json_parse(kept[k], kept_len[k], &j, err)) { fprintf(stderr, "%s\n", err); return 1; }
                int arr = sb_json_get(j, SB_JSON_ROOT, "orders");
                size_t n = sb_json_len(j, arr, NULL);
                for (size_t i = 0; i < n; i++) {
                    int od = sb_json_at(j, arr, i);
                    if (sb_json_str(j, od, "orderId")) porders++;
                    lines += (long)sb_json_len(j, od, "orderItems");
                }
                sb_json_free(j);
                pbytes += kept_len[k];
            }
        double p1 = now_s();
        printf("sb_json_parse: %d pages x %d rounds (%ld orders, %ld lines) in %.3f s = %.1f MB/s, %.2f ms per page\n",
               nkept, rounds, porders, lines, p1 - p0, (double)pbytes / 1e6 / (p1 - p0),
               1000 * (p1 - p0) / (double)(nkept * rounds));
        for (int k = 0; k < nkept; k++) free(kept[k]);
        /* a small document, as the client checks every answer and reads its errors */
        static const char small[] = "{\"errors\":[{\"code\":\"InvalidInput\",\"message\":\"Invalid input\","
                                    "\"details\":\"marketplaceIds is required\"}]}";
        long nsmall = 100000, found = 0;
        p0 = now_s();
        for (long i = 0; i < nsmall; i++) {
            sb_json *j = NULL;
            if (sb_json_parse(small, sizeof small - 1, &j, err)) { fprintf(stderr, "%s\n", err); return 1; }
            found += sb_json_str(j, SB_JSON_ROOT, "errors[0].code") != NULL;
            sb_json_free(j);
        }
        p1 = now_s();
        printf("sb_json_parse of a %zu-byte error body: %ld in %.3f s = %.1f us each\n", sizeof small - 1, found,
               p1 - p0, 1e6 * (p1 - p0) / (double)nsmall);
    }

    /* small requests through the full client */
    t0 = now_s();
    for (long i = 0; i < nreq; i++)
        if (sb_spapi_get_order(s, first, "FULFILLMENT", &body, err)) { fprintf(stderr, "%s\n", err); return 1; }
    t1 = now_s();
    printf("getOrder: %ld requests in %.3f s = %.0f requests/s (one connection, keep-alive)\n", nreq, t1 - t0,
           (double)nreq / (t1 - t0));
    sb_spapi_stats st[SB_OP_COUNT];
    sb_spapi_get_stats(s, st);
    printf("LWA token calls: %ld, getOrder retries: %ld\n", st[SB_OP_LWA_TOKEN].calls, st[SB_OP_GET_ORDER].retries);
    sb_buf_free(&body);
    sb_spapi_free(s);
    sb_sim_stop(sim);
    return 0;
}
