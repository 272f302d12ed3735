/* notify_setup.h: `sellerbridge notifications setup` and the dashboard's button: connect
 * one integration's SQS queue to Amazon's ORDER_CHANGE notifications, step by step, and
 * say for each step what was found or done, or what the seller has to do.
 *
 * Steps, in order: the settings (queue URL, region, AWS keys); the queue's attributes read
 * with the reader's keys and what Amazon needs of them (sb_sqs_check_for_amazon: a
 * Standard queue, the policy for account 437568002678, KMS, a dead-letter queue); the
 * destination (getDestinations by the queue's ARN, else createDestination); the
 * ORDER_CHANGE subscription (getSubscription, else createSubscription; 409 -> get);
 * notifications.destination_id and subscription_id stored; notifications.enabled turned on
 * only when every step passed. Idempotent: a second run finds everything and changes
 * nothing. createDestination and createSubscription are never sent twice blindly: after
 * an ambiguous answer Amazon is asked what it has. */
#ifndef SB_SYNC_NOTIFY_SETUP_H
#define SB_SYNC_NOTIFY_SETUP_H
#include <stdint.h>
#include "core/util.h"
#include "store/store.h"

enum { SB_NOTIFY_OK, SB_NOTIFY_FAILED, SB_NOTIFY_NOT_RUN };

typedef struct sb_notify_step {
    const char *name;           /* settings, queue, destination, subscription, stored, enabled */
    int status;                 /* SB_NOTIFY_OK, SB_NOTIFY_FAILED, SB_NOTIFY_NOT_RUN */
    int changed;                /* this step changed something on Amazon or in the settings */
    char message[1024];         /* what was found or done */
    char fix[1536];             /* what to do ("" when nothing) */
} sb_notify_step;

#define SB_NOTIFY_STEPS 6

typedef struct sb_notify_setup_result {
    char integration[128];
    sb_notify_step steps[SB_NOTIFY_STEPS];
    int ok;                     /* every step passed: notifications.enabled is on */
    int changed;                /* something changed (0 on a second run) */
    int enabled;                /* notifications.enabled after the run */
    char queue_arn[256], destination_id[128], subscription_id[128];
} sb_notify_setup_result;

/* Runs the setup of integ (db_path: for the credentials' key). 0 when the steps ran,
 * whatever they found (r->ok says whether all passed); a negative sb_status, err set,
 * when they could not run at all (the integration or its settings cannot be read). */
int sb_notify_setup(sb_store *s, const char *db_path, int64_t integ, sb_notify_setup_result *r, char *err);

/* The result as the JSON document `notifications setup --json` prints and POST
 * /api/v1/notifications/setup answers: {"ok", "changed", "enabled", "integration",
 * "queue_arn", "destination_id", "subscription_id", "message", "steps": [{"step",
 * "status": "ok"|"failed"|"not_run", "changed", "message", "fix"}]}. */
int sb_notify_setup_json(const sb_notify_setup_result *r, sb_buf *out);
/* One line for people: "notifications are on; nothing changed", ... */
const char *sb_notify_setup_summary(const sb_notify_setup_result *r, char *out, size_t n);

#endif
