/* bench_sqs.c: what the SQS client and the simulator's queue cost (by hand, Release):
 * the time from a message put into the queue (as Amazon delivers) to the return of the
 * long poll already waiting for it, and send + receive + delete round trips per second,
 * sb_sqs to the in-process simulator on loopback. Real clock. Usage: bench_sqs [N]. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "aws/sqs.h"
#include "core/clock.h"
#include "sim/sim.h"
#include "sim/sim_int.h"

static int64_t mono_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

typedef struct arg { sb_sqs *q; int n; int64_t done_us; char err[SB_ERRLEN]; } arg;
static void *poll1(void *p) {
    arg *a = p;
    sb_sqs_message m[10];
    if (sb_sqs_receive(a->q, 10, 20, 30, m, &a->n, a->err)) a->n = -1;
    a->done_us = mono_us();
    for (int i = 0; i < a->n; i++) sb_sqs_delete(a->q, m[i].handle, a->err);
    sb_sqs_messages_free(m, a->n > 0 ? a->n : 0);
    return NULL;
}

static int cmp(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 1 || n > 100000) n = 200;
    sb_sim *sim;
    char err[SB_ERRLEN], url[160];
    sb_sim_options o = {.unthrottled = 1};
    if (sb_sim_start(&o, &sim, err)) { fprintf(stderr, "%s\n", err); return 1; }
    snprintf(url, sizeof url, "%s/000000000000/sellerbridge-sim", sb_sim_url(sim));
    sb_sqs_config c = {.queue_url = url, .region = "us-east-1", .access_key_id = "AKIDBENCH", .secret_access_key = "bench-secret-0123"};
    sb_sqs *q = sb_sqs_new(&c, err);
    if (!q) { fprintf(stderr, "%s\n", err); return 1; }
    int64_t *lat = calloc((size_t)n, sizeof *lat);
    for (int i = 0; i < n; i++) {
        arg a = {.q = q};
        pthread_t th;
        pthread_create(&th, NULL, poll1, &a);
        for (;;) {   /* until the long poll is waiting in the simulator */
            sim_sqs_stats st;
            sim_sqs_stats_get(sim, &st);
            if (st.waiting == 1) break;
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        int64_t t0 = mono_us();
        sim_sqs_push(sim, "{\"NotificationType\":\"ORDER_CHANGE\"}");
        pthread_join(th, NULL);
        if (a.n != 1) { fprintf(stderr, "poll %d got %d: %s\n", i, a.n, a.err); return 1; }
        lat[i] = a.done_us - t0;
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp);
    printf("push -> waiting long poll returns (%d): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", n, lat[n / 2] / 1000.0,
           lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1000.0, lat[n - 1] / 1000.0);
    int rounds = n * 5;
    int64_t t0 = mono_us();
    for (int i = 0; i < rounds; i++) {
        sb_sqs_message m[1];
        int got = 0;
        if (sb_sqs_send(q, "{\"x\":1}", NULL, 0, err) || sb_sqs_receive(q, 1, 0, 30, m, &got, err) || got != 1 ||
            sb_sqs_delete(q, m[0].handle, err)) { fprintf(stderr, "round %d: %s\n", i, err); return 1; }
        sb_sqs_messages_free(m, got);
    }
    double s = (mono_us() - t0) / 1e6;
    printf("send + receive + delete: %d rounds in %.2f s = %.0f rounds/s (%.0f calls/s)\n", rounds, s, rounds / s, 3 * rounds / s);
    free(lat);
    sb_sqs_free(q);
    sb_sim_stop(sim);
    return 0;
}
