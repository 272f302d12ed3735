/* spapi_notify.c: the Notifications API v1 operations the setup needs (destinations and
 * the ORDER_CHANGE subscription), each a thin layer over sp_call() like spapi_ops.c. The
 * one idea: two of them change things on Amazon and go out once (sp_req.once), and the
 * caller learns Amazon's HTTP status, because 409 (it exists) and 404 (there is none) are
 * answers the setup acts on, not failures. Destinations use the grantless token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json/json.h"
#include "spapi/spapi_int.h"

#define NOTIFY_BASE "/notifications/v1"
#define MAX_NOTIFY_BODY (4u << 20)      /* the largest answer kept: a list of destinations */

int sb_spapi_sqs_arn_valid(const char *arn) {
    /* ^arn:aws:sqs:\S+:\S+:\S+ (Amazon's SqsResource), and it fits what we keep */
    if (!arn || strncmp(arn, "arn:aws:sqs:", 12) || strlen(arn) >= SB_SPAPI_NOTIFY_ARN_MAX) return 0;
    int parts = 0;
    const char *p = arn + 12;
    for (;;) {
        size_t n = strcspn(p, ": \t\r\n");
        if (!n) return 0;
        parts++;
        p += n;
        if (*p != ':') break;
        p++;
    }
    return *p == '\0' && parts >= 3;
}

/* One call; *j gets the parsed 2xx body, *status Amazon's status (0: no answer). */
static int notify_call(sb_spapi *s, int op, const char *method, const char *url, const char *body, int once,
                       int grantless, long answer, sb_json **j, long *status, char *err) {
    sb_buf resp;
    sb_buf_init(&resp, MAX_NOTIFY_BODY);
    sp_req r = {.op = op, .method = method, .url = url, .body = body, .body_len = body ? strlen(body) : 0,
                .content_type = body ? "application/json" : NULL, .sp = 1, .want_json = 1, .once = once,
                .grantless = grantless, .answer = answer, .out = &resp};
    int rc = sp_call(s, &r, err);
    if (status) *status = r.status;
    if (!rc && (rc = sb_json_parse(resp.data, resp.len, j, err)))
        rc = sb_seterr(err, once ? SB_EAMBIG : SB_EHTTP, "%s: unreadable response%s", sb_spapi_op_name(op),
                       once ? " - Amazon may have acted on it; not sent again" : "");
    sb_buf_free(&resp);
    return rc;
}

static void read_destination(sb_json *j, int node, sb_spapi_destination *d) {
    memset(d, 0, sizeof *d);
    sb_json_strcpy(j, node, "destinationId", d->id, sizeof d->id);
    sb_json_strcpy(j, node, "name", d->name, sizeof d->name);
    sb_json_strcpy(j, node, "resource.sqs.arn", d->arn, sizeof d->arn);
}

static int read_subscription(sb_json *j, int op, sb_spapi_subscription *sub, char *err) {
    int p = sb_json_get(j, SB_JSON_ROOT, "payload");
    memset(sub, 0, sizeof *sub);
    sb_json_strcpy(j, p, "subscriptionId", sub->id, sizeof sub->id);
    sb_json_strcpy(j, p, "destinationId", sub->destination_id, sizeof sub->destination_id);
    sb_json_strcpy(j, p, "payloadVersion", sub->payload_version, sizeof sub->payload_version);
    sb_json_strcpy(j, p, "processingDirective.eventFilter.eventFilterType", sub->event_filter_type,
                   sizeof sub->event_filter_type);
    if (!sub->id[0] || !sub->destination_id[0])
        return sb_seterr(err, SB_EHTTP, "%s: the answer has no payload.subscriptionId or payload.destinationId",
                         sb_spapi_op_name(op));
    return 0;
}

int sb_spapi_create_destination(sb_spapi *s, const char *name, const char *arn, sb_spapi_destination *out,
                                long *status, char *err) {
    sb_buf u, b;
    sb_json *j = NULL;
    int rc = 0;
    if (status) *status = 0;
    memset(out, 0, sizeof *out);
    if (!name || !*name || strlen(name) > 256)
        return sb_seterr(err, SB_EINVAL, "createDestination: the name must be 1..256 characters");
    if (!sb_spapi_sqs_arn_valid(arn))
        return sb_seterr(err, SB_EINVAL, "createDestination: '%s' is not an SQS queue ARN "
                         "(arn:aws:sqs:REGION:ACCOUNT:NAME)", arn ? arn : "");
    sb_buf_init(&u, 4096);
    sb_buf_init(&b, 4096);
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "name", name);
    sb_jw_key(&w, "resourceSpecification");
    sb_jw_obj(&w);
    sb_jw_key(&w, "sqs");
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "arn", arn);
    sb_jw_end_obj(&w);
    sb_jw_end_obj(&w);
    sb_jw_end_obj(&w);
    if (sb_jw_error(&w) || sb_buf_printf(&u, "%s" NOTIFY_BASE "/destinations", sp_endpoint(s))) {
        rc = sb_seterr(err, SB_ENOMEM, "createDestination: out of memory");
        goto out;
    }
    if ((rc = notify_call(s, SB_OP_CREATE_DESTINATION, "POST", u.data, b.data, 1, 1, 409, &j, status, err))) goto out;
    read_destination(j, sb_json_get(j, SB_JSON_ROOT, "payload"), out);
    /* a 2xx without an id: it exists, which one is not known */
    if (!out->id[0])
        rc = sb_seterr(err, SB_EAMBIG, "createDestination: the answer has no payload.destinationId - "
                       "list the destinations to find it");
out:
    sb_json_free(j);
    sb_buf_free(&u);
    sb_buf_free(&b);
    return rc;
}

int sb_spapi_get_destinations(sb_spapi *s, sb_spapi_destination *out, int max, int *n, char *err) {
    sb_buf u;
    sb_json *j = NULL;
    int rc;
    *n = 0;
    if (max < 1) return sb_seterr(err, SB_EINVAL, "getDestinations: no room for the answer");
    sb_buf_init(&u, 4096);
    if (sb_buf_printf(&u, "%s" NOTIFY_BASE "/destinations", sp_endpoint(s))) {
        rc = sb_seterr(err, SB_ENOMEM, "getDestinations: out of memory");
        goto out;
    }
    if ((rc = notify_call(s, SB_OP_GET_DESTINATIONS, "GET", u.data, NULL, 0, 1, 0, &j, NULL, err))) goto out;
    int list = sb_json_get(j, SB_JSON_ROOT, "payload");
    if (sb_json_type(j, list, NULL) != SB_JSON_ARR) {
        rc = sb_seterr(err, SB_EHTTP, "getDestinations: the answer's payload is not a list");
        goto out;
    }
    for (size_t i = 0; i < sb_json_len(j, list, NULL) && *n < max; i++) {
        read_destination(j, sb_json_at(j, list, i), &out[*n]);
        if (out[*n].id[0]) (*n)++;
    }
out:
    sb_json_free(j);
    sb_buf_free(&u);
    return rc;
}

int sb_spapi_create_order_change_subscription(sb_spapi *s, const char *destination_id, sb_spapi_subscription *out,
                                              long *status, char *err) {
    sb_buf u, b;
    sb_json *j = NULL;
    int rc = 0;
    if (status) *status = 0;
    memset(out, 0, sizeof *out);
    if (!destination_id || !*destination_id || strlen(destination_id) >= SB_SPAPI_NOTIFY_ID_MAX)
        return sb_seterr(err, SB_EINVAL, "createSubscription: the destination id is empty or too long");
    sb_buf_init(&u, 4096);
    sb_buf_init(&b, 4096);
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "payloadVersion", "1.0");
    sb_jw_kstr(&w, "destinationId", destination_id);
    sb_jw_key(&w, "processingDirective");
    sb_jw_obj(&w);
    sb_jw_key(&w, "eventFilter");
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "eventFilterType", "ORDER_CHANGE");
    sb_jw_end_obj(&w);
    sb_jw_end_obj(&w);
    sb_jw_end_obj(&w);
    if (sb_jw_error(&w) || sb_buf_printf(&u, "%s" NOTIFY_BASE "/subscriptions/ORDER_CHANGE", sp_endpoint(s))) {
        rc = sb_seterr(err, SB_ENOMEM, "createSubscription: out of memory");
        goto out;
    }
    if ((rc = notify_call(s, SB_OP_CREATE_SUBSCRIPTION, "POST", u.data, b.data, 1, 0, 409, &j, status, err))) goto out;
    if ((rc = read_subscription(j, SB_OP_CREATE_SUBSCRIPTION, out, err)))
        rc = sb_seterr(err, SB_EAMBIG, "createSubscription: the answer has no subscription id - "
                       "get the subscription to find it");
out:
    sb_json_free(j);
    sb_buf_free(&u);
    sb_buf_free(&b);
    return rc;
}

int sb_spapi_get_order_change_subscription(sb_spapi *s, sb_spapi_subscription *out, long *status, char *err) {
    sb_buf u;
    sb_json *j = NULL;
    int rc;
    if (status) *status = 0;
    memset(out, 0, sizeof *out);
    sb_buf_init(&u, 4096);
    if (sb_buf_printf(&u, "%s" NOTIFY_BASE "/subscriptions/ORDER_CHANGE?payloadVersion=1.0", sp_endpoint(s))) {
        rc = sb_seterr(err, SB_ENOMEM, "getSubscription: out of memory");
        goto out;
    }
    if ((rc = notify_call(s, SB_OP_GET_SUBSCRIPTION, "GET", u.data, NULL, 0, 0, 404, &j, status, err))) goto out;
    rc = read_subscription(j, SB_OP_GET_SUBSCRIPTION, out, err);
out:
    sb_json_free(j);
    sb_buf_free(&u);
    return rc;
}
