/* sim_int.h: the simulator's internal state, shared by sim.c (server, auth, buckets,
 * faults, request log, admin), sim_orders.c (orders, generator, searchOrders),
 * sim_docs.c (feeds, reports, listings, documents) and sim_sandbox.c (Amazon's static
 * sandbox cases). Every handler runs with sim->mu held. */
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
    int64_t created, updated;         /* epoch seconds */
    char status[24], fb[12], mp[20], svc[24];
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
    int64_t created;
    int polls;
    char status[16];
} sim_job;

typedef struct sim_fault {
    char op[40], kind[16];
    long count;                       /* remaining; -1 = use probability */
    double probability;
    long delay_ms, after_bytes;
    long skip;                        /* let this many matching calls through first */
} sim_fault;

typedef struct sim_bucket { double rate, burst, tokens; int64_t last_ms; int header; } sim_bucket;

#define SIM_MAX_FAULTS 64
#define SIM_MAX_TOKENS 64
#define SIM_MAX_LOG 20000

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

    struct { char tok[96]; int64_t exp_ms; } tokens[SIM_MAX_TOKENS];
    int ntok_next;

    sim_fault faults[SIM_MAX_FAULTS];
    int nfaults;
    uint64_t rng;

    sim_bucket buckets[32];
    long throttled[32];

    char **log; size_t nlog;
    long seq;
};

typedef struct sim_req {
    struct MHD_Connection *c;
    char *raw_uri;
    const char *method, *path;
    sb_buf body;
    int started;
    int op;                           /* index into the op table, -1 = admin/document */
    int stuck;                        /* a "stuck" fault: a feed or report does not move on */
} sim_req;

typedef struct sim_resp {
    int status;
    sb_buf body;
    const char *ctype;
    int content_encoding_gzip;
    int rate_header;                  /* op index whose rate goes into x-amzn-RateLimit-Limit, -1 none */
} sim_resp;

/* sim.c */
int64_t sim_now_ms(sb_sim *sim);
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

/* sim_docs.c */
int sim_listings_load(sb_sim *sim, sb_json *j, int node, char *err);
void sim_docs_free(sb_sim *sim);
void sim_h_create_feed_document(sb_sim *sim, sim_req *rq, sim_resp *rs);
void sim_h_create_feed(sb_sim *sim, sim_req *rq, sim_resp *rs);
void sim_h_get_feed(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id);
void sim_h_get_document(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id, int report);
void sim_h_create_report(sb_sim *sim, sim_req *rq, sim_resp *rs);
void sim_h_get_report(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id);
void sim_h_search_listings(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *seller);
void sim_h_patch_listing(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *seller, const char *sku);
void sim_h_doc_url(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id);
sim_listing *sim_listing_find(sb_sim *sim, const char *sku);

/* sim_sandbox.c: 1 when the request is one of Amazon's static sandbox cases (rs filled) */
int sim_sandbox(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *opname, const char *pathid);

#endif
