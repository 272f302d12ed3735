/* sim_int.h: the simulator's internal state, shared by sim.c (server, auth, buckets,
 * faults, request log, admin), sim_orders.c (orders, generator, searchOrders),
 * sim_docs.c (feeds, reports, listings, documents), sim_notify.c (Notifications API
 * destinations and subscriptions) and sim_sandbox.c (Amazon's static sandbox cases). Every handler runs with sim->mu held. */
#ifndef SB_SIM_INT_H
#define SB_SIM_INT_H
#include <microhttpd.h>
#include <pthread.h>
#include "json/json.h"
#include "sim/sim.h"

enum { SEC_BUYER, SEC_RECIPIENT, SEC_PROCEEDS, SEC_EXPENSE, SEC_PROMOTION, SEC_CANCELLATION, SEC_PACKAGES,
       SEC_TAX, SEC_PAYMENT, SEC_FULFILLMENT_ORDERS, NSEC };
#define MASK_FULFILLMENT (1u << NSEC)

typedef struct sim_kv { char *k, *v; } sim_kv;   /* key and encoded JSON value */

typedef struct sim_order {
    char id[40];
    int64_t created, updated;         /* epoch ms (Amazon's times carry milliseconds) */
    int64_t listing_delay_ms;         /* late listing: searchOrders shows it this long after
                                       * updated (getOrder at once); -1 = the scenario's default */
    char status[24], fb[12], mp[20], svc[24];
    int64_t shipped_ms;               /* generated: when what had shipped at start shipped */
    char gen_status[24];              /* generated orders: the status generated, which fixes the
                                       * packages and quantities shipped before the sim started */
    long gen;                         /* generator index, or -1 for a stored order */
    sim_kv *base; int nbase;          /* other top-level fields (stored orders) */
    char *sec[NSEC];                  /* encoded section values (stored orders) */
} sim_order;

typedef struct sim_listing {
    char sku[80], asin[16], title[160], product_type[48], mp[20], channel[16], status[16];
    char price[24], currency[4];
    long quantity;
    int lead_time;
    int64_t created, updated;
} sim_listing;

typedef struct sim_doc {
    char id[48], sig[24], content_type[128];
    sb_buf data;
    int uploaded, gzip;               /* gzip: data is gzip (compressionAlgorithm GZIP) */
} sim_doc;

typedef struct sim_job {              /* a feed or a report */
    char id[32], type[64], input_doc[48], result_doc[48], mp[24];
    int64_t created;                  /* epoch ms */
    int64_t start_ms, end_ms;         /* processingStartTime / EndTime; 0 = not yet (or, with
                                       * timed = 0, set when the polls get there) */
    int timed;                        /* 1: status follows the clock (a processing time is set) */
    int polls;
    char status[16];
} sim_job;

/* A processing time for feeds or reports (of one type, or all): seconds in the queue and
 * in progress, each fixed (lo == hi) or uniform in [lo, hi], Amazon seconds. */
typedef struct sim_proc {
    char key[64];                     /* "feed", "report" or a feedType / reportType */
    double queue_lo, queue_hi, run_lo, run_hi;
} sim_proc;

/* A scheduled order change: at at_ms (simulator time) the patch is applied. */
typedef struct sim_change {
    int64_t at_ms;
    char *patch;                      /* encoded order object: orderId and the fields to change */
    int done;
} sim_change;

typedef struct sim_fault {
    char op[40], kind[16];
    int committed;                    /* post-commit: the operation takes effect, then this answer */
    long count;                       /* remaining; -1 = use probability */
    double probability;
    long delay_ms, after_bytes;
    long skip;                        /* let this many matching calls through first */
} sim_fault;

typedef struct sim_bucket { double rate, burst, tokens; int64_t last_ms; int header; } sim_bucket;

#define SIM_MAX_FAULTS 64
#define SIM_MAX_TOKENS 64
#define SIM_MAX_LOG 20000
#define SIM_MAX_PROC 32
#define SIM_MAX_CHANGES 4096
#define SIM_MAX_GENERATE 5000000L   /* generated orders (each is a few hundred bytes kept) */

struct sb_sim {
    struct MHD_Daemon *d;
    int port;
    char url[64];
    sb_sim_options opt;
    char *scenario_text;
    pthread_mutex_t mu;
    volatile int stopping;

    /* configuration (scenario) */
    char client_id[256], client_secret[256], refresh_token[1024], seller_id[64];
    int token_ttl;
    double time_scale;
    int unthrottled;
    int gzip_reports;
    int64_t clock_offset_ms;          /* the simulator's now = the clock's + this (Amazon's clock is not ours) */
    int64_t listing_delay_ms;         /* default late listing for orders that name none */
    int refuse_repeat_confirm;        /* repeat_confirmation "invalid_input": a package already
                                       * confirmed is refused with Amazon's generic 400 */
    sim_proc proc[SIM_MAX_PROC];
    int nproc;
    sim_change *changes;
    size_t nchanges;

    /* orders sorted by (updated, id) */
    sim_order **orders;
    size_t norders, cap_orders;
    uint64_t seed;
    int64_t gen_base;                 /* generator time base (epoch s) */
    long ngen;

    sim_listing *listings; size_t nlistings, cap_listings;
    sim_doc **docs; size_t ndocs;
    sim_job *feeds; size_t nfeeds;
    sim_job *reports; size_t nreports;
    long next_id;
    struct sim_notify *notify;        /* sim_notify.c: destinations and subscriptions (NULL = none yet) */

    struct { char tok[96]; int64_t exp_ms; } tokens[SIM_MAX_TOKENS];
    int ntok_next;

    sim_fault faults[SIM_MAX_FAULTS];
    int nfaults;
    uint64_t rng;

    sim_bucket buckets[32];
    long throttled[32];

    char **log; size_t nlog;
    long seq;

    struct sim_sqs *sqs;              /* the SQS queue and its knobs (sim_sqs.c) */
    int order_change_subscribed;      /* an ORDER_CHANGE subscription exists */
    char order_change_arn[256];       /* its destination's SQS ARN */
};

typedef struct sim_req {
    struct MHD_Connection *c;
    char *raw_uri;
    const char *method, *path;
    sb_buf body;
    int started;
    int op;                           /* index into the op table, -1 = admin/document */
    int stuck;                        /* a "stuck" fault: a feed or report does not move on */
    int stale;                        /* a "stale" fault: getOrder without the packages confirmed
                                       * since (a read that lags the write) */
    int drop_now;                     /* a post-commit drop: close the connection, no answer */
} sim_req;

typedef struct sim_resp {
    int status;
    sb_buf body;
    const char *ctype;
    int content_encoding_gzip;
    int rate_header;                  /* op index whose rate goes into x-amzn-RateLimit-Limit, -1 none */
} sim_resp;

/* sim.c */
int64_t sim_now_ms(sb_sim *sim);      /* the simulator's clock, offset included */
/* A duration in Amazon seconds as simulator-clock ms: divided by time_scale, as the
 * buckets' rates are multiplied by it. */
int64_t sim_scaled_ms(sb_sim *sim, double seconds);
const char *sim_arg(sim_req *rq, const char *name);
void sim_error(sim_resp *rs, int status, const char *code, const char *msg, const char *details);
void sim_json(sim_resp *rs, int status, const char *json);
uint64_t sim_rand(sb_sim *sim);
int sim_known_marketplace(const char *id);
const char *sim_currency(const char *mp);
void sim_b64(const unsigned char *in, size_t n, char *out, size_t outlen);
int sim_unb64(const char *in, unsigned char *out, size_t outlen);
int sim_gzip(const char *in, size_t len, sb_buf *out);

/* sim_orders.c */
int sim_orders_load(sb_sim *sim, sb_json *j, int node, char *err);   /* array of orders */
int sim_orders_upsert_json(sb_sim *sim, const char *json, char *err);
void sim_orders_generate(sb_sim *sim, long n);
void sim_orders_free(sb_sim *sim);
void sim_h_search_orders(sb_sim *sim, sim_req *rq, sim_resp *rs);
void sim_h_get_order(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id);
void sim_h_confirm_shipment(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id);
/* Scheduled changes: load an array (or one) of {"at" | "after_s", "order": {...}}, and
 * apply those that are due (called before each request). */
int sim_changes_load(sb_sim *sim, sb_json *j, int node, char *err);
void sim_changes_apply_due(sb_sim *sim);
void sim_changes_free(sb_sim *sim);

/* sim_docs.c */
int sim_listings_load(sb_sim *sim, sb_json *j, int node, char *err);
void sim_docs_free(sb_sim *sim);
void sim_h_create_feed_document(sb_sim *sim, sim_req *rq, sim_resp *rs);
void sim_h_create_feed(sb_sim *sim, sim_req *rq, sim_resp *rs);
void sim_h_get_feed(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id);
void sim_h_get_document(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id, int report);
void sim_h_create_report(sb_sim *sim, sim_req *rq, sim_resp *rs);
/* getFeeds (report 0) and getReports (report 1) */
void sim_h_list_jobs(sb_sim *sim, sim_req *rq, sim_resp *rs, int report);
void sim_h_get_report(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id);
void sim_h_search_listings(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *seller);
void sim_h_patch_listing(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *seller, const char *sku);
void sim_h_get_listing(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *seller, const char *sku);
/* Processing times: {"feed": {"queue_s": 5, "processing_s": [60, 600]}, "JSON_LISTINGS_FEED": ...} */
int sim_processing_load(sb_sim *sim, sb_json *j, int node, char *err);
void sim_h_doc_url(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id);
sim_listing *sim_listing_find(sb_sim *sim, const char *sku);
/* GET /_sim/state's detail: "feed_list" (each feed as getFeed shows it, oldest first, with
 * its inputFeedDocumentId) and "listing_quantities" ({sku: quantity}), into an open object */
void sim_docs_state(sb_sim *sim, sb_jw *w);

/* sim_orders.c: the order as getOrder shows it with every section (an open writer) */
void sim_order_write(sb_sim *sim, const sim_order *o, sb_jw *w);

/* sim_sqs.c: the simulator's SQS queue (SQS's JSON protocol, a POST with X-Amz-Target:
 * AmazonSQS.*), and the ORDER_CHANGE notifications Amazon would put into it. */
#define SIM_SQS_ACCOUNT "000000000000"
#define SIM_SQS_NAME "sellerbridge-sim"
#define SIM_SQS_ARN "arn:aws:sqs:us-east-1:" SIM_SQS_ACCOUNT ":" SIM_SQS_NAME
#define SIM_SQS_MAX_MESSAGES 100000
int sim_sqs_init(sb_sim *sim);        /* 0 or SB_ENOMEM; at start */
void sim_sqs_reset(sb_sim *sim);      /* messages and knobs back to the defaults (state rebuilt) */
void sim_sqs_free(sb_sim *sim);       /* at stop */
void sim_sqs_wake(sb_sim *sim);       /* ends long polls (the simulator stops) */
/* scenario keys "sqs": {...knobs} and "notifications": {"subscribed": bool} */
int sim_sqs_load(sb_sim *sim, sb_json *j, int node, char *err);
/* The operation of an SQS request (X-Amz-Target AmazonSQS.<op>) into op; 0 if not one. */
int sim_sqs_target(sim_req *rq, char *op, size_t n);
int sim_sqs_known_op(const char *op);
/* Handles one SQS request; may wait on sim->mu (long polling). */
void sim_sqs_handle(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *op);
void sim_sqs_error(sim_resp *rs, int status, const char *type, const char *msg);
/* An order was created (prev_status NULL) or changed: an ORDER_CHANGE notification when
 * subscribed to the simulator's queue. buyer_cancel: a buyer asked to cancel. */
void sim_sqs_order_event(sb_sim *sim, const sim_order *o, const char *prev_status, int buyer_cancel);
/* Amazon delivers body into the queue, with the delivery knobs (loss, duplicates,
 * reordering, delay, a policy that does not allow Amazon). Takes sim->mu. 0, or SB_EINVAL
 * for a body over 256 KiB. */
int sim_sqs_push(sb_sim *sim, const char *body);
/* Test views (take sim->mu): messages in the queue (visible or not), in the dead-letter
 * list, long polls waiting now, notifications sent, lost by the "lost" knob. */
typedef struct sim_sqs_stats { long queued, dead, waiting, notified, lost, duplicated, refused; } sim_sqs_stats;
void sim_sqs_stats_get(sb_sim *sim, sim_sqs_stats *out);
/* A copy of the body of message i (0 = first in the queue, visible or not); free it. */
char *sim_sqs_body(sb_sim *sim, size_t i);
/* sim_notify.c: the Notifications API v1 (the grantless token is checked by sim.c) */
void sim_h_create_destination(sb_sim *sim, sim_req *rq, sim_resp *rs);
void sim_h_get_destinations(sb_sim *sim, sim_req *rq, sim_resp *rs);
void sim_h_create_subscription(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *type);
void sim_h_get_subscription(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *type);
void sim_notify_free(sb_sim *sim);   /* also clears order_change_subscribed and order_change_arn */

/* sim_sandbox.c: 1 when the request is one of Amazon's static sandbox cases (rs filled) */
int sim_sandbox(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *opname, const char *pathid);

#endif
