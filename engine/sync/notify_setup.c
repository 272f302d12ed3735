/* notify_setup.c: the setup of an integration's ORDER_CHANGE notifications (see
 * notify_setup.h). One idea: each step fills its sb_notify_step and the next step runs
 * only when what it needs is there (the queue's ARN for the destination, the destination
 * for the subscription); a step that changes something on Amazon first asks Amazon what
 * it has, so running the setup again is always safe. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aws/sqs.h"
#include "core/log.h"
#include "json/json.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "spapi/spapi.h"
#include "sync/engine.h"
#include "sync/notify_setup.h"

#define MAX_DESTINATIONS 100

static const char *step_names[SB_NOTIFY_STEPS] = {"settings", "queue", "destination", "subscription", "stored",
                                                  "enabled"};
enum { ST_SETTINGS, ST_QUEUE, ST_DEST, ST_SUB, ST_STORED, ST_ENABLED };

static void say(sb_notify_step *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(sb_notify_step *st, const char *fmt, ...) {
    size_t len = strlen(st->message);
    va_list ap;
    va_start(ap, fmt);
    if (len < sizeof st->message - 1) vsnprintf(st->message + len, sizeof st->message - len, fmt, ap);
    va_end(ap);
}

static void fix(sb_notify_step *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fix(sb_notify_step *st, const char *fmt, ...) {
    size_t len = strlen(st->fix);
    if (len && len < sizeof st->fix - 2) { st->fix[len++] = '\n'; st->fix[len] = '\0'; }
    va_list ap;
    va_start(ap, fmt);
    if (len < sizeof st->fix - 1) vsnprintf(st->fix + len, sizeof st->fix - len, fmt, ap);
    va_end(ap);
    st->status = SB_NOTIFY_FAILED;
}

/* A credential as malloc'd text, or NULL when not set (*rc < 0 on another failure). */
static char *credential(sb_engine *e, const unsigned char *key, const char *name, int *rc, char *err) {
    char *v = NULL;
    int r = sb_secrets_get(e->store, e->integ, name, &v, key, err);
    if (r == SB_ENOTFOUND) return NULL;
    if (r) *rc = r;
    return v;
}

/* Step 1: what the setup needs is set. Fills the keys (caller wipes them). */
static void step_settings(sb_engine *e, sb_notify_step *st, char **akid, char **secret, char **session) {
    char err[SB_ERRLEN] = "";
    unsigned char key[SB_KEY_LEN];
    int rc = sb_secrets_key(e->db_path, 0, key, err);
    st->status = SB_NOTIFY_OK;
    if (rc) { fix(st, "the credentials cannot be read: %s", err); return; }
    *akid = credential(e, key, "aws.access_key_id", &rc, err);
    *secret = credential(e, key, "aws.secret_access_key", &rc, err);
    *session = credential(e, key, "aws.session_token", &rc, err);
    memset(key, 0, sizeof key);
    if (rc) { fix(st, "the credentials cannot be read: %s", err); return; }
    if (!*sb_settings_str(&e->settings, "notifications.queue_url"))
        fix(st, "notifications.queue_url is not set: sellerbridge settings set notifications.queue_url "
                "https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE (a Standard queue)");
    if (!*sb_settings_str(&e->settings, "notifications.region"))
        fix(st, "notifications.region is not set: sellerbridge settings set notifications.region REGION (the "
                "queue's, e.g. us-east-1)");
    if (!*akid)
        fix(st, "aws.access_key_id is not set: sellerbridge credentials set aws.access_key_id (the reader's key, "
                "allowed sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes, sqs:ChangeMessageVisibility)");
    if (!*secret)
        fix(st, "aws.secret_access_key is not set: sellerbridge credentials set aws.secret_access_key");
    if (st->status == SB_NOTIFY_OK)
        say(st, "queue %s in %s, AWS key set%s", sb_settings_str(&e->settings, "notifications.queue_url"),
            sb_settings_str(&e->settings, "notifications.region"), *session ? " (temporary, with a session token)" : "");
    else say(st, "settings missing");
}

/* Step 2: the queue's attributes with the reader's keys, and what Amazon needs of them.
 * 1 when the destination can be set up (the ARN is known and the queue is not FIFO). */
static int step_queue(sb_engine *e, sb_notify_step *st, const char *akid, const char *secret, const char *session,
                      char *arn, size_t arnlen) {
    char err[SB_ERRLEN] = "", report[1536] = "";
    sb_sqs_config c = {.queue_url = sb_settings_str(&e->settings, "notifications.queue_url"),
                       .region = sb_settings_str(&e->settings, "notifications.region"),
                       .access_key_id = akid, .secret_access_key = secret, .session_token = session,
                       .stop = e->stop};
    sb_sqs_attributes a;
    memset(&a, 0, sizeof a);
    st->status = SB_NOTIFY_OK;
    sb_sqs *q = sb_sqs_new(&c, err);
    int go = 0;
    if (!q) {
        fix(st, "the queue cannot be used: %s", err);
        say(st, "queue not read");
        goto out;
    }
    if (sb_sqs_get_attributes(q, &a, err)) {
        fix(st, "%s - check notifications.queue_url and notifications.region, and that the reader's key may "
                "sqs:GetQueueAttributes on the queue", err);
        say(st, "the queue's attributes could not be read");
        goto out;
    }
    if (!a.arn[0] || !sb_spapi_sqs_arn_valid(a.arn)) {
        fix(st, "SQS did not give the queue's ARN (QueueArn '%s'): let the reader's key read all the queue's "
                "attributes", a.arn);
        say(st, "no queue ARN");
        goto out;
    }
    snprintf(arn, arnlen, "%s", a.arn);
    int blocking = sb_sqs_check_for_amazon(&a, report, sizeof report);
    say(st, "%s: %s queue", a.arn, a.fifo ? "FIFO" : "Standard");
    if (report[0]) {
        /* the blocking lines are what to do; "check:" and "advice:" lines are said too */
        char *save = NULL;
        for (char *line = strtok_r(report, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            if (!strncmp(line, "blocking: ", 10)) fix(st, "%s", line + 10);
            else say(st, "; %s", line);
        }
    }
    if (blocking && st->status == SB_NOTIFY_OK) fix(st, "the queue cannot receive Amazon's notifications");
    go = !a.fifo;   /* a policy is fixed on AWS later; a FIFO queue needs another queue (and destination) */
out:
    sb_sqs_attributes_free(&a);
    sb_sqs_free(q);
    return go;
}

static int find_destination(sb_spapi *api, const char *arn, char *id, size_t idlen, char *err) {
    sb_spapi_destination *d = calloc(MAX_DESTINATIONS, sizeof *d);
    int n = 0, rc;
    if (!d) return sb_seterr(err, SB_ENOMEM, "getDestinations: out of memory");
    id[0] = '\0';
    if (!(rc = sb_spapi_get_destinations(api, d, MAX_DESTINATIONS, &n, err)))
        for (int i = 0; i < n; i++)
            if (!strcmp(d[i].arn, arn)) { snprintf(id, idlen, "%s", d[i].id); break; }
    free(d);
    return rc;
}

/* Step 3: the destination of the queue's ARN, found or created. 1 when there is one. */
static int step_destination(sb_engine *e, sb_notify_step *st, const char *arn, char *id, size_t idlen) {
    char err[SB_ERRLEN] = "";
    st->status = SB_NOTIFY_OK;
    if (sb_engine_api(e, err)) {
        fix(st, "the Amazon client is not ready: %s", err);
        say(st, "Amazon not asked");
        return 0;
    }
    if (find_destination(e->api, arn, id, idlen, err)) {
        fix(st, "%s - the application's client id and secret must be allowed the Notifications API "
                "(a grantless token of scope sellingpartnerapi::notifications)", err);
        say(st, "the destinations could not be listed");
        return 0;
    }
    if (id[0]) { say(st, "destination %s of %s found", id, arn); return 1; }
    char name[160];
    snprintf(name, sizeof name, "sellerbridge %s", e->name);
    sb_spapi_destination d;
    long status = 0;
    int rc = sb_spapi_create_destination(e->api, name, arn, &d, &status, err);
    if (!rc) {
        snprintf(id, idlen, "%s", d.id);
        st->changed = 1;
        say(st, "destination %s created for %s", id, arn);
        sb_info("notifications setup: destination created integration=%s destination=%s arn=%s", e->name, id, arn);
        return 1;
    }
    if (rc == SB_EAMBIG || status == 409) {
        /* Amazon may have it (or has it): ask, never send it again blindly */
        char why[SB_ERRLEN];
        snprintf(why, sizeof why, "%s", err);
        if (find_destination(e->api, arn, id, idlen, err)) {
            fix(st, "%s; and the destinations could not be listed to see whether Amazon made it: %s - run the "
                    "setup again (it lists before it creates)", why, err);
        } else if (id[0]) {
            st->changed = rc == SB_EAMBIG;
            say(st, "destination %s of %s found after %s", id, arn, status == 409 ? "Amazon said it exists" :
                "an unclear answer to createDestination");
            return 1;
        } else {
            fix(st, "%s; Amazon does not list a destination for %s - run the setup again", why, arn);
        }
        say(st, "no destination");
        return 0;
    }
    fix(st, "%s", err);
    say(st, "no destination");
    return 0;
}

/* Step 4: the ORDER_CHANGE subscription to destination dest, found or created. */
static int step_subscription(sb_engine *e, sb_notify_step *st, const char *dest, char *id, size_t idlen) {
    char err[SB_ERRLEN] = "";
    sb_spapi_subscription sub;
    long status = 0;
    st->status = SB_NOTIFY_OK;
    int rc = sb_spapi_get_order_change_subscription(e->api, &sub, &status, err);
    int created = 0, ambiguous = 0;
    if (rc && status == 404) {
        rc = sb_spapi_create_order_change_subscription(e->api, dest, &sub, &status, err);
        created = !rc;
        if (rc == SB_EAMBIG || (rc && status == 409)) {
            ambiguous = rc == SB_EAMBIG;
            char why[SB_ERRLEN];
            snprintf(why, sizeof why, "%s", err);
            rc = sb_spapi_get_order_change_subscription(e->api, &sub, &status, err);
            if (rc) {
                fix(st, "%s; and getSubscription then said: %s - run the setup again (it asks before it creates)",
                    why, err);
                say(st, "no subscription");
                return 0;
            }
        }
    }
    if (rc) {
        fix(st, "%s%s", err, status == 403 ? " - the seller's authorization of this application must include the "
                                             "role that ORDER_CHANGE notifications need" : "");
        say(st, "no subscription");
        return 0;
    }
    if (strcmp(sub.destination_id, dest)) {
        fix(st, "Amazon's ORDER_CHANGE subscription %s sends to destination %s, not to this queue's %s: delete it "
                "(Notifications API deleteSubscriptionById) and run the setup again", sub.id, sub.destination_id, dest);
        say(st, "subscription %s goes elsewhere", sub.id);
        return 0;
    }
    snprintf(id, idlen, "%s", sub.id);
    st->changed = created || ambiguous;
    say(st, "ORDER_CHANGE subscription %s %s", id, created ? "created" : ambiguous ? "found after an unclear answer "
                                                                       "to createSubscription" : "found");
    if (created) sb_info("notifications setup: subscription created integration=%s subscription=%s", e->name, id);
    return 1;
}

/* Sets name to value unless it holds it; 1 when it changed, < 0 on failure. */
static int store_value(sb_engine *e, const char *name, const char *value, char *err) {
    if (!strcmp(sb_settings_str(&e->settings, name), value)) return 0;
    int rc = sb_settings_set_watermark(e->store, e->integ, name, value, err);
    return rc ? rc : 1;
}

int sb_notify_setup(sb_store *s, const char *db_path, int64_t integ, sb_notify_setup_result *r, char *err) {
    sb_engine *e = NULL;
    char *akid = NULL, *secret = NULL, *session = NULL;
    char e2[SB_ERRLEN];
    memset(r, 0, sizeof *r);
    for (int i = 0; i < SB_NOTIFY_STEPS; i++) { r->steps[i].name = step_names[i]; r->steps[i].status = SB_NOTIFY_NOT_RUN; }
    int rc = sb_engine_open(s, db_path, integ, &e, err);
    if (rc) return rc;
    snprintf(r->integration, sizeof r->integration, "%s", e->name);
    sb_notify_step *st = r->steps;
    step_settings(e, &st[ST_SETTINGS], &akid, &secret, &session);
    int ok = st[ST_SETTINGS].status == SB_NOTIFY_OK;
    if (ok && step_queue(e, &st[ST_QUEUE], akid, secret, session, r->queue_arn, sizeof r->queue_arn) &&
        step_destination(e, &st[ST_DEST], r->queue_arn, r->destination_id, sizeof r->destination_id))
        step_subscription(e, &st[ST_SUB], r->destination_id, r->subscription_id, sizeof r->subscription_id);
    /* what was found is stored even when a later step failed: the next run starts there */
    sb_notify_step *sd = &st[ST_STORED];
    if (r->destination_id[0]) {
        sd->status = SB_NOTIFY_OK;
        int a = store_value(e, "notifications.destination_id", r->destination_id, e2);
        int b = a < 0 ? 0 : r->subscription_id[0] ? store_value(e, "notifications.subscription_id", r->subscription_id, e2) : 0;
        if (a < 0 || b < 0) fix(sd, "the settings could not be written: %s", e2);
        else {
            sd->changed = a || b;
            say(sd, "notifications.destination_id %s, notifications.subscription_id %s%s", r->destination_id,
                r->subscription_id[0] ? r->subscription_id : "(none yet)", sd->changed ? " stored" : " already stored");
        }
    }
    int all = 1;
    for (int i = 0; i < ST_ENABLED; i++) all &= st[i].status == SB_NOTIFY_OK;
    sb_notify_step *se = &st[ST_ENABLED];
    int was_on = sb_settings_bool(&e->settings, "notifications.enabled");
    if (all) {
        se->status = SB_NOTIFY_OK;
        if (was_on) say(se, "notifications.enabled was already on");
        else if (sb_settings_set(e->store, e->integ, "notifications.enabled", "true", e2))
            fix(se, "notifications.enabled could not be turned on: %s", e2);
        else { se->changed = 1; say(se, "notifications.enabled turned on"); }
    } else {
        say(se, "notifications.enabled left %s: a step above failed", was_on ? "on" : "off");
    }
    r->enabled = all ? se->status == SB_NOTIFY_OK : was_on;
    r->ok = all && se->status == SB_NOTIFY_OK;
    for (int i = 0; i < SB_NOTIFY_STEPS; i++) r->changed |= st[i].changed;
    sb_info("notifications setup integration=%s ok=%d changed=%d destination=%s subscription=%s", e->name, r->ok,
            r->changed, r->destination_id[0] ? r->destination_id : "-", r->subscription_id[0] ? r->subscription_id : "-");
    sb_secrets_wipe(akid);
    sb_secrets_wipe(secret);
    sb_secrets_wipe(session);
    sb_engine_close(e);
    return 0;
}

const char *sb_notify_setup_summary(const sb_notify_setup_result *r, char *out, size_t n) {
    int failed = 0;
    for (int i = 0; i < SB_NOTIFY_STEPS; i++) failed += r->steps[i].status == SB_NOTIFY_FAILED;
    if (r->ok) snprintf(out, n, "notifications are on for %s; %s", r->integration,
                        r->changed ? "the steps marked changed were done now" : "nothing changed: everything was already set up");
    else snprintf(out, n, "notifications are not set up for %s: %d step%s failed; do what it says and run the setup "
                  "again", r->integration, failed, failed == 1 ? "" : "s");
    return out;
}

int sb_notify_setup_json(const sb_notify_setup_result *r, sb_buf *out) {
    static const char *status[] = {"ok", "failed", "not_run"};
    char msg[256];
    sb_jw w;
    sb_jw_init(&w, out);
    sb_jw_obj(&w);
    sb_jw_kbool(&w, "ok", r->ok);
    sb_jw_kbool(&w, "changed", r->changed);
    sb_jw_kbool(&w, "enabled", r->enabled);
    sb_jw_kstr(&w, "integration", r->integration);
    sb_jw_kstr(&w, "queue_arn", r->queue_arn);
    sb_jw_kstr(&w, "destination_id", r->destination_id);
    sb_jw_kstr(&w, "subscription_id", r->subscription_id);
    sb_jw_kstr(&w, "message", sb_notify_setup_summary(r, msg, sizeof msg));
    sb_jw_key(&w, "steps");
    sb_jw_arr(&w);
    for (int i = 0; i < SB_NOTIFY_STEPS; i++) {
        const sb_notify_step *st = &r->steps[i];
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "step", st->name);
        sb_jw_kstr(&w, "status", status[st->status]);
        sb_jw_kbool(&w, "changed", st->changed);
        sb_jw_kstr(&w, "message", st->message);
        sb_jw_kstr(&w, "fix", st->fix);
        sb_jw_end_obj(&w);
    }
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
    return sb_jw_error(&w);
}
