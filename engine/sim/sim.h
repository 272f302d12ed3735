/* sim.h: the built-in SP-API simulator: a loopback HTTP server (libmicrohttpd, its own
 * threads) that behaves like Amazon where the engine cares: LWA token grant, Orders
 * 2026-01-01 searchOrders/getOrder, Orders v0 confirmShipment, Feeds, Reports, Listings
 * Items and the pre-signed document URLs, with Amazon's error shapes, the 2-minute rule,
 * pagination tokens bound to their filters, per-operation token buckets (429
 * QuotaExceeded) and Amazon's static sandbox cases. Tests drive it through admin calls
 * (C functions below, or HTTP under /_sim/) to add or change orders, inject faults and
 * read back every request the client sent (secrets masked).
 *
 * State comes from a scenario JSON file and/or a generator; the format is in
 * engine/sim/README.md. */
#ifndef SB_SIM_H
#define SB_SIM_H
#include <stdint.h>
#include "core/util.h"

typedef struct sb_sim sb_sim;

typedef struct sb_sim_options {
    int port;                     /* 0 = pick a free port */
    const char *scenario_path;    /* scenario file, or NULL */
    const char *scenario_json;    /* scenario text (used when scenario_path is NULL) */
    long generate;                /* generate this many orders (adds to the scenario's) */
    uint64_t seed;                /* generator seed (0 = 1) */
    double time_scale;            /* bucket rates are Amazon's times this; 0 = 1 (or the scenario's) */
    int unthrottled;              /* no buckets at all (benchmarks) */
    /* the simulator's "now" in epoch ms; NULL = sb_now_ms() from core/clock.h */
    int64_t (*now_ms)(void *ud);
    void *now_ud;
    int log_requests;             /* also log each request at INFO level */
} sb_sim_options;

/* Starts the server on 127.0.0.1. On success *out is running; stop with sb_sim_stop. */
int sb_sim_start(const sb_sim_options *o, sb_sim **out, char *err);
int sb_sim_port(sb_sim *sim);
/* "http://127.0.0.1:PORT" */
const char *sb_sim_url(sb_sim *sim);
void sb_sim_stop(sb_sim *sim);

/* Demo credentials accepted when the scenario names none. */
#define SB_SIM_CLIENT_ID "amzn1.application-oa2-client.simdemo"
#define SB_SIM_CLIENT_SECRET "sim-demo-client-secret-0123456789"
#define SB_SIM_REFRESH_TOKEN "Atzr|sim-demo-refresh-token-0123456789"
#define SB_SIM_SELLER_ID "A1SIMSELLER0001"

/* ---- admin (the same as the /_sim/ HTTP endpoints) ---- */

/* Adds or replaces orders: json is one Orders 2026-01-01 order object or an array of
 * them. lastUpdatedTime defaults to the simulator's now (createdTime too, for new
 * orders). A partial {"orderId":..., "fulfillmentStatus":"CANCELLED"} changes the status
 * of an existing order and bumps lastUpdatedTime ("the buyer cancels"). */
int sb_sim_orders_upsert(sb_sim *sim, const char *json, char *err);
size_t sb_sim_order_count(sb_sim *sim);

/* Adds faults: one object or an array, e.g.
 *   {"op":"searchOrders","kind":"503","count":2}
 *   {"op":"*","kind":"drop","probability":0.1,"after_bytes":100}
 * kinds: 500, 503, 429 (QuotaExceeded), delay (delay_ms), drop (connection closed after
 * after_bytes of the body), truncate (half the body, valid length), badjson,
 * badtoken (400 invalid pagination token), expiredtoken (403 expired access token).
 * count = next N matching calls (default 1); probability instead applies at random;
 * skip = let the first N matching calls through (a fault on page 2 of a search).
 * "committed": true (500, 503, drop, delay; POST/PATCH/PUT operations only): the operation
 * takes effect first, then the answer is lost (a drop closes the connection unanswered). */
int sb_sim_fault_add(sb_sim *sim, const char *json, char *err);
void sb_sim_faults_clear(sb_sim *sim);

/* Amazon's time and behaviour, the same keys as the scenario file (README "Time and
 * behaviour"), each optional:
 *   {"clock_offset_s": -90,                 the simulator's now = the clock's + this
 *    "listing_delay_s": 600,                default late listing (searchOrders only)
 *    "processing": {"feed": {"queue_s": 30, "processing_s": [60, 600]}, "report": ...},
 *    "schedule": [{"at": ISO | "after_s": N, "order": {"orderId": ..., fields}}]}   (adds)
 * Faults with "committed": true (500, 503, drop, delay) let the operation take effect first. */
int sb_sim_configure(sb_sim *sim, const char *json, char *err);

/* Appends the request log as a JSON array of {seq, method, path, query (raw, as sent),
 * args {name: decoded value}, headers {lower-case name: value}, body, status, op}. The
 * access token, client secret and refresh token appear as "****". */
int sb_sim_requests_json(sb_sim *sim, sb_buf *out);
size_t sb_sim_request_count(sb_sim *sim);
void sb_sim_requests_clear(sb_sim *sim);

/* Makes every issued access token expire now (the next SP-API call gets 403). */
void sb_sim_expire_tokens(sb_sim *sim);
/* Lifetime of new access tokens in seconds (default 3600 or the scenario's). */
void sb_sim_set_token_ttl(sb_sim *sim, int seconds);
/* Overrides an operation's bucket (Amazon's rate/burst times time_scale); the value is
 * also what x-amzn-RateLimit-Limit reports. rate <= 0 restores the default. */
void sb_sim_set_rate(sb_sim *sim, const char *op, double rate, double burst, int send_header);
/* Throttle statistics: 429s sent for op (NULL = all). */
long sb_sim_throttled(sb_sim *sim, const char *op);
/* Quantity the simulator holds for a listing (after patches and feeds), or -1. */
long sb_sim_listing_quantity(sb_sim *sim, const char *sku);
/* Back to the state right after start (scenario + generator), faults and log cleared. */
int sb_sim_reset(sb_sim *sim, char *err);

#endif
