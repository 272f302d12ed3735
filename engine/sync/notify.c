/* notify.c: the notifications job: ORDER_CHANGE messages from the seller's SQS queue,
 * each order fetched with getOrder and stored through the download's own path (see
 * notify.h for the rules it keeps). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aws/sqs.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "json/json.h"
#include "secrets/secrets.h"
#include "store/notify.h"
#include "sync/notify.h"
#include "sync/orders.h"

/* SQS keeps a message at most 14 days: no duplicate of a row older than that can come. */
#define NOTIFY_KEEP_MS (14LL * 24 * 3600 * 1000)
#define NOTIFY_INCLUDED "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT"   /* as the download asks */

/* Copies a string field of at most outlen - 1 bytes; 0 when absent, -1 when too long. */
static int field(sb_json *j, int node, const char *path, char *out, size_t outlen) {
    const char *v = sb_json_str(j, node, path);
    out[0] = '\0';
    if (!v) return 0;
    if (strlen(v) >= outlen) return -1;
    memcpy(out, v, strlen(v) + 1);
    return 1;
}

int sb_notify_parse(const char *body, size_t len, sb_notice *n, char *type, size_t typelen, int64_t *event_ms,
                    char *err) {
    sb_json *j = NULL, *inner = NULL;
    char e2[SB_ERRLEN];
    int rc = sb_json_parse(body, len, &j, e2);
    *event_ms = -1;
    type[0] = '\0';
    if (rc) return sb_seterr(err, SB_EINVAL, "the message is not JSON: %.300s", e2);
    sb_json *doc = j;
    if (sb_json_type(j, SB_JSON_ROOT, NULL) == SB_JSON_STR) {
        /* Amazon's newer samples also meet a body that is a JSON string holding the JSON */
        const char *s = sb_json_str(j, SB_JSON_ROOT, NULL);
        if ((rc = sb_json_parse(s, strlen(s), &inner, e2))) {
            rc = sb_seterr(err, SB_EINVAL, "the message is a JSON string that does not hold JSON: %.300s", e2);
            goto out;
        }
        doc = inner;
    }
    if (sb_json_type(doc, SB_JSON_ROOT, NULL) != SB_JSON_OBJ) {
        rc = sb_seterr(err, SB_EINVAL, "the message is not a notification (not a JSON object)");
        goto out;
    }
    if (field(doc, SB_JSON_ROOT, "NotificationType", type, typelen) < 0) {
        rc = sb_seterr(err, SB_EINVAL, "NotificationType is too long");
        goto out;
    }
    int r = field(doc, SB_JSON_ROOT, "NotificationMetadata.NotificationId", n->id, sizeof n->id);
    if (r <= 0) {
        rc = sb_seterr(err, SB_EINVAL, "NotificationMetadata.NotificationId is %s", r < 0 ? "too long" : "missing");
        goto out;
    }
    if (field(doc, SB_JSON_ROOT, "EventTime", n->event_time, sizeof n->event_time) > 0)
        *event_ms = sb_time_parse_ms(n->event_time);
    if (strcmp(type, "ORDER_CHANGE")) goto out;          /* another type: the caller ignores it */
    const char *p = "Payload.OrderChangeNotification";
    int on = sb_json_get(doc, SB_JSON_ROOT, p);
    if (sb_json_type(doc, on, NULL) != SB_JSON_OBJ) {
        rc = sb_seterr(err, SB_EINVAL, "notification %s: %s is missing", n->id, p);
        goto out;
    }
    r = field(doc, on, "AmazonOrderId", n->order_ref, sizeof n->order_ref);
    if (r <= 0) {
        rc = sb_seterr(err, SB_EINVAL, "notification %s: %s.AmazonOrderId is %s", n->id, p, r < 0 ? "too long" : "missing");
        goto out;
    }
    if (field(doc, on, "OrderChangeType", n->change_type, sizeof n->change_type) < 0) n->change_type[0] = '\0';
out:
    sb_json_free(inner);
    sb_json_free(j);
    return rc;
}

/* The queue's reader, from the settings and the AWS keys. NULL with err naming what is
 * missing and the command that sets it. */
static sb_sqs *open_queue(sb_engine *e, char *err) {
    static const char *const names[] = {"aws.access_key_id", "aws.secret_access_key", "aws.session_token"};
    char *v[3] = {NULL, NULL, NULL};
    unsigned char key[SB_KEY_LEN];
    sb_sqs *q = NULL;
    int rc = sb_secrets_key(e->db_path, 0, key, err);
    for (int i = 0; !rc && i < 3; i++) {
        rc = sb_secrets_get(e->store, e->integ, names[i], &v[i], key, err);
        if (rc == SB_ENOTFOUND && i == 2) rc = 0;      /* only temporary keys have one */
        else if (rc == SB_ENOTFOUND)
            rc = sb_seterr(err, SB_EINVAL, "notifications: the AWS key %s is not set (sellerbridge credentials set %s)",
                           names[i], names[i]);
    }
    memset(key, 0, sizeof key);
    if (!rc) {
        sb_sqs_config c = {
            .queue_url = sb_settings_str(&e->settings, "notifications.queue_url"),
            .region = sb_settings_str(&e->settings, "notifications.region"),
            .access_key_id = v[0], .secret_access_key = v[1], .session_token = v[2],
            .connect_timeout_ms = sb_settings_int(&e->settings, "api.connect_timeout_ms"),
            .timeout_ms = sb_settings_int(&e->settings, "api.timeout_ms"),
            .max_retries = (int)sb_settings_int(&e->settings, "api.max_retries"),
            .stop = e->stop,
        };
        if (c.max_retries == 0) c.max_retries = -1;
        q = sb_sqs_new(&c, err);
    }
    for (int i = 0; i < 3; i++) sb_secrets_wipe(v[i]);
    return q;
}

/* One message of the run: what it is and what becomes of it. */
typedef struct msg {
    sb_notice n;
    int readable, state, tries;
    int64_t event_ms;
    int fetch;                  /* its order is to be fetched (a new or failed ORDER_CHANGE) */
} msg;

static void delete_message(sb_engine *e, sb_sqs *q, const sb_sqs_message *m, sb_notify_result *res) {
    char err[SB_ERRLEN];
    if (sb_sqs_delete(q, m->handle, err))   /* it comes back and is recognised then */
        sb_warn("notifications: message %s stays on the queue integration=%s: %s", m->id, e->name, err);
    else res->deleted++;
}

/* A try of message k failed: counted, and set aside after its tries. */
static void failed(sb_engine *e, const sb_sqs_message *m, msg *k, const char *why, int permanent, long max_tries,
                   sb_notify_result *res) {
    char err[SB_ERRLEN];
    int poison = permanent || k->tries + 1 >= max_tries || m->receive_count >= max_tries;
    if (sb_store_notice_failed(e->store, e->integ, k->n.id, why, poison, m->body, err))
        sb_error("notifications: %s", err);
    if (poison) {
        res->poison++;
        sb_error("notification set aside integration=%s notification=%s order=%s after %d tr%s (the queue's "
                 "redrive policy takes it; the scheduled download still finds the order): %s", e->name, k->n.id,
                 *k->n.order_ref ? k->n.order_ref : "?", k->tries + 1, k->tries ? "ies" : "y", why);
    } else {
        res->failed++;
        sb_warn("notification failed integration=%s notification=%s order=%s try=%d of %ld (it comes back from "
                "the queue): %s", e->name, k->n.id, *k->n.order_ref ? k->n.order_ref : "?", k->tries + 1, max_tries, why);
    }
}

/* Fetches the order of message first and stores it; every message of the same order in
 * this batch is settled with it. */
static int fetch_and_store(sb_engine *e, sb_sqs *q, sb_sqs_message *m, msg *k, int n, int first, long max_tries,
                           sb_buf *body, sb_notify_result *res, char *err) {
    const char *ref = k[first].n.order_ref;
    char why[SB_ERRLEN];
    int rc = sb_engine_api(e, why);
    if (!rc) rc = sb_spapi_get_order(e->api, ref, NOTIFY_INCLUDED, body, why);
    if (rc == SB_ELATER) {
        res->paused_until = sb_spapi_retry_at(e->api, SB_OP_GET_ORDER);
        return sb_seterr(err, rc, "getOrder waits for Amazon's rate limit until %lld", (long long)res->paused_until);
    }
    if (rc == SB_EINTR) return sb_seterr(err, rc, "stopped before order %s: %s", ref, why);
    /* what fails every order alike (no client, a refused token, throttling past the
     * retries) ends the run and counts no message's try: they all come back */
    if (rc == SB_EINVAL || rc == SB_EAUTH || rc == SB_ETHROTTLED) return sb_seterr(err, rc, "%s", why);
    sb_orders_result o;
    if (!rc) {
        res->orders++;
        rc = sb_orders_apply_order(e, body->data, body->len, &o, why);
        if (rc == SB_EINTR) return sb_seterr(err, rc, "stopped storing order %s: %s", ref, why);
    }
    if (!rc) {
        res->created += o.created;
        res->updated += o.updated;
        res->unchanged += o.unchanged;
    }
    int64_t now = sb_now_ms();
    for (int i = first; i < n; i++) {
        if (!k[i].fetch || strcmp(k[i].n.order_ref, ref)) continue;
        k[i].fetch = 0;
        if (rc) {
            char w[SB_ERRLEN];
            snprintf(w, sizeof w, "order %.64s: %.400s", ref, why);
            failed(e, &m[i], &k[i], w, 0, max_tries, res);
            continue;
        }
        int64_t lag = k[i].event_ms >= 0 && now >= k[i].event_ms ? now - k[i].event_ms : -1;
        char e2[SB_ERRLEN];
        if (sb_store_notice_done(e->store, e->integ, k[i].n.id, now, lag, e2)) {
            sb_error("notifications: %s", e2);       /* not deleted: it comes back and is fetched again */
            continue;
        }
        if (lag > res->max_lag_ms) res->max_lag_ms = lag;
        delete_message(e, q, &m[i], res);
    }
    return 0;
}

void sb_notify_counts(const sb_notify_result *r, char *out, size_t n) {
    snprintf(out, n, "{\"received\":%ld,\"orders\":%ld,\"new\":%ld,\"updated\":%ld,\"unchanged\":%ld,"
             "\"duplicates\":%ld,\"ignored\":%ld,\"failed\":%ld,\"poison\":%ld,\"deleted\":%ld,\"lag_ms\":%lld}",
             r->received, r->orders, r->created, r->updated, r->unchanged, r->duplicates, r->ignored, r->failed,
             r->poison, r->deleted, (long long)r->max_lag_ms);
}

/* One read of queue q and what it brought. */
static int read_queue(sb_engine *e, sb_sqs *q, sb_notify_result *res, char *err) {
    long max_tries = sb_settings_int(&e->settings, "notifications.max_tries");
    sb_sqs_message m[SB_SQS_MAX_BATCH];
    msg k[SB_SQS_MAX_BATCH];
    int n = 0, rc = 0;
    sb_buf body;
    sb_buf_init(&body, (size_t)64 << 20);
    rc = sb_sqs_receive(q, SB_SQS_MAX_BATCH, (int)sb_settings_int(&e->settings, "notifications.wait_seconds"),
                        (int)sb_settings_int(&e->settings, "notifications.visibility_seconds"), m, &n, err);
    if (rc) goto out;
    res->received = n;
    int64_t now = sb_now_ms();
    for (int i = 0; i < n; i++) {
        char type[64], why[SB_ERRLEN], e2[SB_ERRLEN];
        memset(&k[i], 0, sizeof k[i]);
        snprintf(k[i].n.message_id, sizeof k[i].n.message_id, "%s", m[i].id);
        int prc = m[i].body ? sb_notify_parse(m[i].body, m[i].body_len, &k[i].n, type, sizeof type, &k[i].event_ms, why)
                            : sb_seterr(why, SB_EINVAL, "the message is larger than SQS allows (%d bytes)", SB_SQS_MAX_BODY);
        if (prc && !*k[i].n.id) snprintf(k[i].n.id, sizeof k[i].n.id, "sqs:%.120s", m[i].id);
        if (sb_store_notice_seen(e->store, e->integ, &k[i].n, now, &k[i].state, &k[i].tries, e2)) {
            rc = sb_seterr(err, SB_EIO, "notifications: %s", e2);   /* nothing deleted: all come back */
            goto out;
        }
        int twice = 0;
        for (int p = 0; p < i && !twice; p++) twice = !strcmp(k[p].n.id, k[i].n.id);
        if (k[i].state == SB_NOTICE_DONE || k[i].state == SB_NOTICE_IGNORED) {
            res->duplicates++;
            delete_message(e, q, &m[i], res);
        } else if (k[i].state == SB_NOTICE_POISON) {
            res->poison++;              /* set aside before: left to the queue's redrive policy */
        } else if (prc) {
            failed(e, &m[i], &k[i], why, 1, max_tries, res);   /* it can never be read */
        } else if (strcmp(type, "ORDER_CHANGE")) {
            res->ignored++;
            if (sb_store_notice_ignored(e->store, e->integ, k[i].n.id, now, e2)) sb_error("notifications: %s", e2);
            else delete_message(e, q, &m[i], res);
        } else {
            if (twice) res->duplicates++;   /* twice in one read: settled with the first */
            k[i].fetch = 1;
        }
    }
    /* each order once, in the order its first message came */
    for (int i = 0; i < n; i++) {
        if (!k[i].fetch) continue;
        if (e->stop && *e->stop) { rc = sb_seterr(err, SB_EINTR, "stopped; the messages left come back from the queue"); break; }
        if ((rc = fetch_and_store(e, q, m, k, n, i, max_tries, &body, res, err))) break;
    }
    /* getOrder's rate limit: the messages not fetched are given back for when Amazon
     * grants the call, rather than hidden for their whole visibility timeout */
    if (rc == SB_ELATER) {
        int64_t wait_ms = res->paused_until - sb_now_ms();
        int vis = wait_ms > 0 ? (int)((wait_ms + 999) / 1000) : 0;
        for (int i = 0; i < n; i++) {
            char e3[SB_ERRLEN];
            if (k[i].fetch && sb_sqs_change_visibility(q, m[i].handle, vis, e3))
                sb_warn("notifications: message %s comes back at its visibility timeout integration=%s: %s", m[i].id,
                        e->name, e3);
        }
    }
    long pruned = 0;
    char e2[SB_ERRLEN];
    if (!rc && sb_store_notice_prune(e->store, e->integ, now - NOTIFY_KEEP_MS, &pruned, e2))
        sb_warn("notifications: %s", e2);
    if (res->received)
        sb_info("notifications integration=%s received=%ld orders=%ld new=%ld updated=%ld duplicates=%ld failed=%ld "
                "poison=%ld deleted=%ld lag_ms=%lld", e->name, res->received, res->orders, res->created, res->updated,
                res->duplicates, res->failed, res->poison, res->deleted, (long long)res->max_lag_ms);
out:
    sb_sqs_messages_free(m, n);
    sb_buf_free(&body);
    return rc;
}

int sb_sync_notifications(sb_engine *e, sb_sqs **kept, sb_notify_result *res, char *err) {
    memset(res, 0, sizeof *res);
    res->max_lag_ms = -1;
    if (!sb_settings_bool(&e->settings, "notifications.enabled") || !*sb_settings_str(&e->settings, "notifications.queue_url"))
        return 0;
    sb_sqs *q = kept && *kept ? *kept : open_queue(e, err);
    int rc = q ? read_queue(e, q, res, err) : SB_EINVAL;
    if (kept) *kept = q;
    else sb_sqs_free(q);
    /* every read is recorded, an empty one too: it is what says the queue answers */
    char counts[320], e2[SB_ERRLEN];
    sb_notify_counts(res, counts, sizeof counts);
    if (rc != SB_EINTR && sb_engine_record_run(e, "notifications", rc == 0 || rc == SB_ELATER,
                                               rc && rc != SB_ELATER ? err : NULL, counts, NULL, e2))
        sb_warn("notifications: the read's result was not recorded integration=%s: %s", e->name, e2);
    return rc;
}
