/* notify.h: the store's records of Amazon's ORDER_CHANGE notifications (table
 * notifications, migration 14): what the notifications job (engine/sync/notify.c) read
 * from the queue, so a duplicate delivery is told apart, a failing one is counted and set
 * aside after its tries, and `notifications status` can say how they arrive. Times are
 * ms on the engine's clock (sb_now_ms). */
#ifndef SB_STORE_NOTIFY_H
#define SB_STORE_NOTIFY_H
#include <stdint.h>
#include "store/store.h"

#define SB_NOTICE_ID_MAX 160

/* A notification as read. */
typedef struct sb_notice {
    char id[SB_NOTICE_ID_MAX];      /* NotificationMetadata.NotificationId ("sqs:" + MessageId when unreadable) */
    char message_id[128];
    char order_ref[64];             /* AmazonOrderId, "" when unreadable */
    char change_type[40];           /* OrderChangeType */
    char event_time[40];            /* EventTime as Amazon wrote it */
} sb_notice;

enum sb_notice_state { SB_NOTICE_NEW, SB_NOTICE_DONE, SB_NOTICE_FAILED, SB_NOTICE_POISON, SB_NOTICE_IGNORED };

/* Records a delivery of n at now_ms: a new row (state new) or one more delivery of a
 * known one. *state gets the row's state before this delivery and *tries its failed
 * tries so far. */
int sb_store_notice_seen(sb_store *s, int64_t integ, const sb_notice *n, int64_t now_ms, int *state, int *tries,
                         char *err);
/* The notification's order is stored (or it needed nothing): state done, lag_ms = how
 * long after Amazon's EventTime it was done (-1: unknown). */
int sb_store_notice_done(sb_store *s, int64_t integ, const char *id, int64_t now_ms, int64_t lag_ms, char *err);
/* Not a notification for orders: state ignored. */
int sb_store_notice_ignored(sb_store *s, int64_t integ, const char *id, int64_t now_ms, char *err);
/* A try failed: tries + 1 and why; poison = set aside for a person with its body (kept
 * for them to read; the queue's redrive policy takes the message). */
int sb_store_notice_failed(sb_store *s, int64_t integ, const char *id, const char *why, int poison,
                           const char *body, char *err);
/* Forgets done and ignored rows last seen before before_ms (14 days: SQS keeps a message
 * at most that long, so no duplicate can come later). *n = rows removed. */
int sb_store_notice_prune(sb_store *s, int64_t integ, int64_t before_ms, long *n, char *err);

/* How notifications arrive, for `notifications status` and the sweep's schedule. */
typedef struct sb_notice_stats {
    long total, done, failed, poison, ignored, waiting;   /* rows by state (waiting = new) */
    long duplicates;                /* copies Amazon sent again (another message, the same NotificationId) */
    int64_t last_seen_ms;           /* the latest delivery, 0 = none */
    int64_t last_lag_ms;            /* EventTime to done of the latest done one, -1 = unknown */
    int64_t max_lag_ms;             /* the largest over the rows kept */
    long orders_by_notification, orders_by_download;   /* the integration's orders by the path that brought them */
} sb_notice_stats;
int sb_store_notice_stats(sb_store *s, int64_t integ, sb_notice_stats *out, char *err);

/* The poison notifications (newest first, at most max): id, order, tries, why. */
typedef struct sb_notice_row {
    char id[SB_NOTICE_ID_MAX], order_ref[64], state[12];
    int tries, deliveries;
    char error[256];
    int64_t last_seen_ms;
} sb_notice_row;
int sb_store_notice_list(sb_store *s, int64_t integ, const char *state, sb_notice_row *out, int max, int *n,
                         char *err);

/* The notifications job's row of sync_state: its last read for people. "" when never. */
typedef struct sb_notice_job {
    char state[16], last_run[32], last_success[32], next_due[32];
    char last_error[512];
    char counts[512];           /* the last read's counts as JSON, "" when none */
} sb_notice_job;
int sb_store_notice_job(sb_store *s, int64_t integ, sb_notice_job *out, char *err);

#endif
