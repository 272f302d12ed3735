/* sim_notify.c: the simulator's Notifications API v1: createDestination and
 * getDestinations (grantless; sim.c checks the token), createSubscription and
 * getSubscription (the seller's token), with the answers Amazon gives that the setup acts
 * on: 409 for a destination whose ARN exists and for a second subscription of a type, 400
 * "Processing Directive eventFilter must not be empty" for an ORDER_CHANGE subscription
 * without its eventFilter, and 400 for marketplaceIds in that filter. A subscription to
 * ORDER_CHANGE sets sim->order_change_subscribed and order_change_arn (the destination's
 * queue), which the simulator's own queue reads to start receiving ORDER_CHANGE messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/sim_int.h"

#define SIM_MAX_DESTINATIONS 20
#define SIM_MAX_SUBSCRIPTIONS 16

typedef struct sim_destination { char id[48], name[257], arn[256]; } sim_destination;
typedef struct sim_subscription { char type[64], id[48], destination_id[48], payload_version[16], filter[48]; } sim_subscription;

struct sim_notify {
    sim_destination dest[SIM_MAX_DESTINATIONS];
    int ndest;
    sim_subscription sub[SIM_MAX_SUBSCRIPTIONS];
    int nsub;
    long next;
};

static struct sim_notify *state(sb_sim *sim) {
    if (!sim->notify) sim->notify = calloc(1, sizeof *sim->notify);
    return sim->notify;
}

void sim_notify_free(sb_sim *sim) {
    free(sim->notify);
    sim->notify = NULL;
    sim->order_change_subscribed = 0;
    sim->order_change_arn[0] = '\0';
}

/* ^arn:aws:sqs:\S+:\S+:\S+ as Amazon's SqsResource */
static int arn_ok(const char *a) {
    if (!a || strncmp(a, "arn:aws:sqs:", 12) || strlen(a) >= sizeof ((sim_destination *)0)->arn) return 0;
    int parts = 0;
    for (const char *p = a + 12;; p++) {
        size_t n = strcspn(p, ": \t\r\n");
        if (!n) return 0;
        parts++;
        p += n;
        if (*p != ':') return *p == '\0' && parts >= 3;
    }
}

static sb_json *body_json(sim_req *rq, sim_resp *rs) {
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    if (!rq->body.len || sb_json_parse(rq->body.data, rq->body.len, &j, e) ||
        sb_json_type(j, SB_JSON_ROOT, NULL) != SB_JSON_OBJ) {
        sb_json_free(j);
        sim_error(rs, 400, "InvalidInput", "Could not parse the request body as JSON", NULL);
        return NULL;
    }
    return j;
}

static void write_destination(sb_jw *w, const sim_destination *d) {
    sb_jw_obj(w);
    sb_jw_kstr(w, "name", d->name);
    sb_jw_kstr(w, "destinationId", d->id);
    sb_jw_key(w, "resource");
    sb_jw_obj(w);
    sb_jw_key(w, "sqs");
    sb_jw_obj(w);
    sb_jw_kstr(w, "arn", d->arn);
    sb_jw_end_obj(w);
    sb_jw_end_obj(w);
    sb_jw_end_obj(w);
}

static void begin(sim_resp *rs, sb_jw *w) {
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(w, &rs->body);
    sb_jw_obj(w);
    sb_jw_key(w, "payload");
}

void sim_h_create_destination(sb_sim *sim, sim_req *rq, sim_resp *rs) {
    struct sim_notify *n = state(sim);
    sb_json *j = body_json(rq, rs);
    if (!j) return;
    const char *name = sb_json_str(j, SB_JSON_ROOT, "name");
    const char *arn = sb_json_str(j, SB_JSON_ROOT, "resourceSpecification.sqs.arn");
    if (!n) sim_error(rs, 500, "InternalFailure", "We encountered an internal error. Please try again.", NULL);
    else if (!name || !*name || strlen(name) > 256)
        sim_error(rs, 400, "InvalidInput", "name is required and must be at most 256 characters", NULL);
    else if (sb_json_get(j, SB_JSON_ROOT, "resourceSpecification.eventBridge"))
        sim_error(rs, 400, "InvalidInput", "The simulator has no EventBridge destinations; ORDER_CHANGE is delivered "
                  "to SQS only", NULL);
    else if (!arn_ok(arn))
        sim_error(rs, 400, "InvalidInput", "resourceSpecification.sqs.arn must match ^arn:aws:sqs:\\S+:\\S+:\\S+",
                  arn ? arn : "(missing)");
    else {
        for (int i = 0; i < n->ndest; i++)
            if (!strcmp(n->dest[i].arn, arn)) {
                sim_error(rs, 409, "Conflict", "A destination with this resource already exists.", n->dest[i].id);
                goto out;
            }
        if (n->ndest >= SIM_MAX_DESTINATIONS) {
            sim_error(rs, 400, "InvalidInput", "Too many destinations for this application", NULL);
            goto out;
        }
        sim_destination *d = &n->dest[n->ndest++];
        snprintf(d->id, sizeof d->id, "sim-dest-%06ld", ++n->next);
        snprintf(d->name, sizeof d->name, "%s", name);
        snprintf(d->arn, sizeof d->arn, "%s", arn);
        sb_jw w;
        begin(rs, &w);
        write_destination(&w, d);
        sb_jw_end_obj(&w);
    }
out:
    sb_json_free(j);
}

void sim_h_get_destinations(sb_sim *sim, sim_req *rq, sim_resp *rs) {
    (void)rq;
    struct sim_notify *n = sim->notify;
    sb_jw w;
    begin(rs, &w);
    sb_jw_arr(&w);
    for (int i = 0; n && i < n->ndest; i++) write_destination(&w, &n->dest[i]);
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
}

static void write_subscription(sim_resp *rs, const sim_subscription *s) {
    sb_jw w;
    begin(rs, &w);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "subscriptionId", s->id);
    sb_jw_kstr(&w, "payloadVersion", s->payload_version);
    sb_jw_kstr(&w, "destinationId", s->destination_id);
    if (s->filter[0]) {
        sb_jw_key(&w, "processingDirective");
        sb_jw_obj(&w);
        sb_jw_key(&w, "eventFilter");
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "eventFilterType", s->filter);
        sb_jw_end_obj(&w);
        sb_jw_end_obj(&w);
    }
    sb_jw_end_obj(&w);
    sb_jw_end_obj(&w);
}

static sim_subscription *find_sub(struct sim_notify *n, const char *type) {
    for (int i = 0; n && i < n->nsub; i++)
        if (!strcmp(n->sub[i].type, type)) return &n->sub[i];
    return NULL;
}

void sim_h_create_subscription(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *type) {
    struct sim_notify *n = state(sim);
    sb_json *j = body_json(rq, rs);
    if (!j) return;
    const char *pv = sb_json_str(j, SB_JSON_ROOT, "payloadVersion");
    const char *did = sb_json_str(j, SB_JSON_ROOT, "destinationId");
    int filter = sb_json_get(j, SB_JSON_ROOT, "processingDirective.eventFilter");
    const char *ftype = sb_json_str(j, filter, "eventFilterType");
    sim_destination *d = NULL;
    for (int i = 0; n && did && i < n->ndest; i++)
        if (!strcmp(n->dest[i].id, did)) d = &n->dest[i];
    if (!n) sim_error(rs, 500, "InternalFailure", "We encountered an internal error. Please try again.", NULL);
    else if (strcmp(type, "ORDER_CHANGE"))
        sim_error(rs, 400, "InvalidInput", "The simulator has subscriptions to ORDER_CHANGE only", type);
    else if (!pv || !did)
        sim_error(rs, 400, "InvalidInput", "payloadVersion and destinationId are required", NULL);
    else if (strcmp(pv, "1.0"))
        sim_error(rs, 400, "InvalidInput", "payloadVersion is not supported for ORDER_CHANGE", pv);
    else if (!d)
        sim_error(rs, 400, "InvalidInput", "The destination does not exist", did);
    else if (!filter || sb_json_type(j, filter, NULL) != SB_JSON_OBJ || !ftype)
        sim_error(rs, 400, "InvalidInput", "Processing Directive eventFilter must not be empty", NULL);
    else if (strcmp(ftype, "ORDER_CHANGE") || sb_json_get(j, filter, "marketplaceIds")) {
        sb_buf b;
        sb_buf_init(&b, 8192);
        char e[SB_ERRLEN], msg[9000];
        sb_json_encode(j, filter, &b, e);
        snprintf(msg, sizeof msg, "EventFilter Payload %s failed to validate for notification type ORDER_CHANGE",
                 b.data ? b.data : "{}");
        sim_error(rs, 400, "InvalidInput", msg, NULL);
        sb_buf_free(&b);
    } else if (find_sub(n, type))
        sim_error(rs, 409, "Conflict", "A subscription for the specified notification type and payload version "
                  "already exists.", find_sub(n, type)->id);
    else if (n->nsub >= SIM_MAX_SUBSCRIPTIONS)
        sim_error(rs, 400, "InvalidInput", "Too many subscriptions", NULL);
    else {
        sim_subscription *s = &n->sub[n->nsub++];
        snprintf(s->type, sizeof s->type, "%s", type);
        snprintf(s->id, sizeof s->id, "sim-sub-%06ld", ++n->next);
        snprintf(s->destination_id, sizeof s->destination_id, "%s", d->id);
        snprintf(s->payload_version, sizeof s->payload_version, "%s", pv);
        snprintf(s->filter, sizeof s->filter, "%s", ftype);
        sim->order_change_subscribed = 1;
        snprintf(sim->order_change_arn, sizeof sim->order_change_arn, "%s", d->arn);
        write_subscription(rs, s);
    }
    sb_json_free(j);
}

void sim_h_get_subscription(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *type) {
    const char *pv = sim_arg(rq, "payloadVersion");
    sim_subscription *s = find_sub(sim->notify, type);
    if (!s || (pv && strcmp(pv, s->payload_version)))
        sim_error(rs, 404, "NotFound", "The subscription does not exist.", type);
    else write_subscription(rs, s);
}
