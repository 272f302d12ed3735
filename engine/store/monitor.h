/* monitor.h: what the dashboard's job buttons and /metrics read: the orders a retry would
 * re-run, orders by stage, the outbox's depth by kind, and each job's last success and
 * whether its last run failed. Counts that cannot be read are errors (the web answers
 * 500), never zeros. */
#ifndef SB_STORE_MONITOR_H
#define SB_STORE_MONITOR_H
#include <stdint.h>
#include "store/store.h"

/* Orders of integ a retry would re-run (held for a rule error or rejected); ref NULL =
 * all, else that order. */
int sb_store_count_held(sb_store *s, int64_t integ, const char *ref, long *n, char *err);
/* *yes 1 when a retry of order ref would act: it is held for a rule error, or kept with a
 * stock-bearing line whose SKU is now a product (the retry links it). */
int sb_store_retry_would_act(sb_store *s, int64_t integ, const char *ref, int *yes, char *err);

#define SB_MONITOR_KINDS 32
#define SB_MONITOR_JOBS 32

typedef struct sb_store_monitor {
    long outbox_pending, outbox_failed;
    struct { char kind[64]; long n; } kinds[SB_MONITOR_KINDS];  /* pending by kind, label-safe kinds only */
    int nkinds;
    struct { char job[32]; int64_t last_success; int failed; } jobs[SB_MONITOR_JOBS];   /* last_success -1: none */
    int njobs;
} sb_store_monitor;

/* Stored Amazon orders of integ in each of the NULL-terminated stages into counts. */
int sb_store_orders_by_stage(sb_store *s, int64_t integ, const char *const *stages, long *counts, char *err);
int sb_store_monitor_read(sb_store *s, int64_t integ, sb_store_monitor *out, char *err);

#endif
