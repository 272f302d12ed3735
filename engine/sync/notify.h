/* notify.h: the notifications job. Amazon pushes an ORDER_CHANGE notification into the
 * seller's SQS queue for every important change of an order (new, status, a buyer's
 * cancellation). One run reads the queue once (SQS long polling: the wait is SQS's, up to
 * notifications.wait_seconds), and for each message:
 *   - reads the notification (the body, or a JSON string holding it), recognises one seen
 *     before by its NotificationId (delivery is at least once) and one for another type;
 *   - fetches each order once per run with getOrder (the client's bucket: 0.5/s, burst 30;
 *     a longer wait ends the run with SB_ELATER and the messages left come back from the
 *     queue), because a notification is a trigger, never the record: the payload has no
 *     prices, no buyer, no address, and may be late, repeated or out of order;
 *   - stores it through the download's own path (sb_orders_apply_order: same hooks,
 *     idempotency, audit, lifecycle; an answer older than what is stored is left);
 *   - deletes the message only after the order is committed. A crash before the delete
 *     brings the message back after its visibility timeout, and it is then recognised.
 * A message that fails notifications.max_tries times (or can never be read) is set aside
 * as poison: its row keeps the body and why for a person, and it is not deleted, so the
 * queue's redrive policy moves it to the dead-letter queue. The scheduled download stays
 * the safety net for what never arrives. */
#ifndef SB_SYNC_NOTIFY_H
#define SB_SYNC_NOTIFY_H
#include <stdint.h>
#include "sync/engine.h"

typedef struct sb_notify_result {
    long received;              /* messages read from the queue */
    long orders;                /* distinct orders fetched with getOrder */
    long created, updated;      /* what storing them did (sb_orders_result's counts) */
    long unchanged;             /* fetched and already as stored */
    long duplicates;            /* a NotificationId already done: deleted, nothing fetched */
    long ignored;               /* another notification type: deleted */
    long failed;                /* a try that failed: left on the queue for its next delivery */
    long poison;                /* set aside (now or before) after its tries */
    long deleted;               /* messages deleted after their order was stored */
    int64_t paused_until;       /* SB_ELATER: when (ms, engine clock) getOrder may be called again */
    int64_t max_lag_ms;         /* Amazon's EventTime to the committed order, largest this run (-1: none) */
} sb_notify_result;

/* One read of the queue and what it brought (above), recorded as the job's run (its
 * counts as sb_notify_counts writes them). 0, SB_ELATER (getOrder's rate limit: come back
 * at paused_until), SB_EINTR (stopped), or a negative code with err naming the setting,
 * credential or call that failed. Off (notifications.enabled false) or without a queue:
 * 0 and nothing read. kept: NULL = a reader for this call only; else the caller's reader
 * of the queue (its connection kept across reads), made here when *kept is NULL and left
 * there for the next call; the caller frees it (sb_sqs_free) when the settings or keys
 * change. */
struct sb_sqs;
int sb_sync_notifications(sb_engine *e, struct sb_sqs **kept, sb_notify_result *res, char *err);
/* The counts of a read as one JSON object into out (n bytes): sync_state's, the job
 * history's and `sync notifications --json`'s. */
void sb_notify_counts(const sb_notify_result *r, char *out, size_t n);

/* Reads one SQS message body into n: the notification JSON, or a JSON string holding it.
 * *type gets NotificationType ("" if absent). SB_EINVAL with why when it is not a
 * notification this can act on (no NotificationId, no AmazonOrderId for ORDER_CHANGE).
 * Pure: for the job and its tests. */
struct sb_notice;
int sb_notify_parse(const char *body, size_t len, struct sb_notice *n, char *type, size_t typelen,
                    int64_t *event_ms, char *err);

#endif
