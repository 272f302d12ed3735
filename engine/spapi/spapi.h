/* spapi.h: the Amazon Selling Partner API client (libcurl).
 *
 * One sb_spapi per seller account. It owns the LWA access token (refresh-token grant,
 * cached, refreshed 60 s before expiry, one refresh at a time) and, for the Notifications
 * API's grantless operations, a second one of the application (client_credentials), a token bucket per
 * operation at Amazon's published default rate and burst (adjusted by
 * x-amzn-RateLimit-Limit, multiplied by rate_scale), bounded retries (5xx, timeouts,
 * dropped connections, invalid JSON: exponential backoff with jitter; 429: wait for the
 * bucket; 403 on an expired token: refresh once) and counters per operation.
 *
 * A request that is not idempotent (confirmShipment, createFeed, createReport) goes out at
 * most once per call, on a connection of its own: after a 5xx, a time-out, a dropped
 * connection once it was sent, or a 2xx that cannot be read, the call returns SB_EAMBIG
 * without repeating it, and the caller asks Amazon (getOrder PACKAGES, getFeeds,
 * getReports) what happened. Only outcomes Amazon cannot have acted on (no connection,
 * 429, a refused access token) are retried for it.
 *
 * Every call returns 0 or a negative sb_status; on failure err holds ONE line naming the
 * operation, the HTTP status, Amazon's code, message and details and x-amzn-RequestId,
 * e.g. "searchOrders: HTTP 400 InvalidInput: Invalid Input (request id abc)". Secrets
 * never appear in err or in log lines. All functions are thread-safe; calls from several
 * threads share the buckets, the token and the connection cache.
 *
 * Waiting (buckets, backoff) goes through engine/core/clock.h, so a test clock makes it
 * instant. */
#ifndef SB_SPAPI_H
#define SB_SPAPI_H
#include <stdint.h>
#include "core/util.h"

typedef struct sb_spapi_config {
    const char *endpoint;       /* SP-API base URL: region host, sandbox host, or the simulator */
    const char *lwa_endpoint;   /* full token URL, e.g. https://api.amazon.com/auth/o2/token */
    const char *client_id, *client_secret, *refresh_token;
    long connect_timeout_ms, timeout_ms;   /* 0 = 10 s / 60 s */
    int max_retries;            /* retries after the first attempt (and separately, 429 waits); 0 = 4, <0 = none */
    double rate_scale;          /* 1.0 = Amazon's published rates; larger = faster (simulator); 0 = 1.0 */
    long retry_base_ms;         /* first backoff step for 5xx/network retries; 0 = 500 ms */
    long max_body_bytes;        /* largest response kept; 0 = 256 MiB */
    const char *ca_file;        /* optional CA bundle; TLS verification is always on */
    /* A rate-limit wait longer than this is not slept: the call returns SB_ELATER without
     * calling, and sb_spapi_retry_at says when Amazon grants it (a job comes back then
     * instead of holding the engine). 0 = wait inside the call however long it takes. */
    long max_wait_ms;
    /* set by a signal handler: a GET in flight is abandoned at once (SB_EINTR); a request
     * that changes something on Amazon is let finish. NULL: none. */
    volatile int *stop;
} sb_spapi_config;

typedef struct sb_spapi sb_spapi;

/* Copies everything it needs from c. NULL with err set on bad configuration. */
sb_spapi *sb_spapi_new(const sb_spapi_config *c, char *err);
void sb_spapi_free(sb_spapi *s);

/* After SB_ELATER: when (ms since the epoch, local clock) the refused call of operation
 * op (enum sb_spapi_op) can be made. Per operation, because the jobs of one client run
 * on threads of their own and each wants the time of its own refusal. */
int64_t sb_spapi_retry_at(sb_spapi *s, int op);

/* Amazon's clock, from the Date header of its answers (LWA's and SP-API's): *skew_ms is
 * Amazon's time minus this machine's, about right to a second. 1 once measured, else 0.
 * sb_spapi_amazon_now is the local time corrected by it (the local time until measured);
 * sb_spapi_measure_clock gets an access token when none is cached, which measures it. */
int sb_spapi_clock_skew(sb_spapi *s, int64_t *skew_ms);
int64_t sb_spapi_amazon_now(sb_spapi *s);
int sb_spapi_measure_clock(sb_spapi *s, char *err);

/* Operations: index of the bucket and counters. */
enum sb_spapi_op {
    SB_OP_LWA_TOKEN,            /* LWA token call (no bucket) */
    SB_OP_SEARCH_ORDERS, SB_OP_GET_ORDER, SB_OP_CONFIRM_SHIPMENT,
    SB_OP_CREATE_FEED_DOCUMENT, SB_OP_UPLOAD_FEED_DOCUMENT, SB_OP_CREATE_FEED, SB_OP_GET_FEED,
    SB_OP_GET_FEED_DOCUMENT, SB_OP_CREATE_REPORT, SB_OP_GET_REPORT, SB_OP_GET_REPORT_DOCUMENT,
    SB_OP_DOWNLOAD_DOCUMENT,    /* GET of a pre-signed document URL (no bucket) */
    SB_OP_SEARCH_LISTINGS, SB_OP_PATCH_LISTINGS,
    SB_OP_GET_FEEDS, SB_OP_GET_REPORTS,
    /* Notifications API v1 (1 request/s, burst 5 each) and the grantless LWA token call */
    SB_OP_CREATE_DESTINATION, SB_OP_GET_DESTINATIONS, SB_OP_CREATE_SUBSCRIPTION, SB_OP_GET_SUBSCRIPTION,
    SB_OP_LWA_GRANTLESS,        /* client_credentials token call (no bucket) */
    SB_OP_COUNT
};
const char *sb_spapi_op_name(int op);     /* "searchOrders", ... */

/* ---- Orders API 2026-01-01 ---- */
typedef struct sb_search_orders_params {
    const char *last_updated_after, *last_updated_before;   /* ISO 8601 UTC */
    const char *const *marketplace_ids; int nmarketplaces;
    const char *const *fulfillment_statuses; int nstatuses;
    int max_results;              /* 1..100; 0 = Amazon's default (100) */
    const char *included_data;    /* e.g. "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT" */
    const char *pagination_token; /* from the previous page's pagination.nextToken, as is */
    /* optional, added after the required ones */
    const char *created_after, *created_before;   /* instead of last_updated_* */
    const char *fulfilled_by;                     /* "MERCHANT" or "AMAZON" */
    /* 1: a 2xx body is returned without the client's own JSON check (decoding it is
     * as dear as decoding the page). For a caller that decodes the page anyway and, when
     * it cannot, asks for the page again with the check on. */
    int unchecked;
} sb_search_orders_params;

/* One page of GET /orders/2026-01-01/orders; the raw JSON body goes into body (reset
 * first). Refuses (SB_EINVAL, no call) a missing lastUpdatedAfter/createdAfter, both set,
 * a before-time < 2 minutes before Amazon's now (sb_spapi_amazon_now), before < after, max_results out of 1..100, or
 * more than 50 marketplaces. Filters must be identical on every page of one search: the
 * caller passes the same params with pagination_token set. */
int sb_spapi_search_orders(sb_spapi *s, const sb_search_orders_params *p, sb_buf *body, char *err);
/* GET /orders/2026-01-01/orders/{orderId}; body = {"order":{...}}. */
int sb_spapi_get_order(sb_spapi *s, const char *order_id, const char *included_data,
                       sb_buf *body, char *err);

/* ---- Orders v0 confirmShipment ---- */
typedef struct sb_shipment_item { const char *order_item_id; int quantity; } sb_shipment_item;
typedef struct sb_shipment {
    const char *order_id, *marketplace_id;
    const char *package_reference_id;   /* positive integer as a string, e.g. "1" */
    const char *carrier_code;           /* e.g. "FedEx", or "Other" with carrier_name */
    const char *carrier_name;           /* required when carrier_code is "Other" */
    const char *shipping_method;        /* optional */
    const char *tracking_number;
    const char *ship_date;              /* ISO 8601, e.g. 2026-11-27T10:00:00Z */
    const sb_shipment_item *items; int nitems;
} sb_shipment;

/* Validates sh (SB_EINVAL names the bad field), builds the ConfirmShipmentRequest body
 * (packageReferenceId as a JSON string of digits, orderItems an array) and POSTs it.
 * 204 = 0. */
int sb_spapi_confirm_shipment(sb_spapi *s, const sb_shipment *sh, char *err);
/* Writes sh's request body into out (also used by the simulator tests). */
int sb_spapi_shipment_json(const sb_shipment *sh, sb_buf *out, char *err);
/* The same with a caller-built JSON body. */
int sb_spapi_confirm_shipment_json(sb_spapi *s, const char *order_id, const char *json, char *err);

/* ---- Feeds 2021-06-30 and Reports 2021-06-30 ---- */
typedef struct sb_spapi_document {
    char id[256];
    char url[4096];
    char compression[16];   /* "GZIP" or "" */
} sb_spapi_document;

typedef struct sb_spapi_processing {
    char id[128];
    char type[96];
    char status[24];          /* IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL */
    char document_id[256];    /* resultFeedDocumentId / reportDocumentId, "" until DONE */
    char created[40];         /* createdTime as Amazon sent it (Amazon's clock) */
} sb_spapi_processing;

/* createFeedDocument: {"contentType": content_type} -> doc->id, doc->url. */
int sb_spapi_create_feed_document(sb_spapi *s, const char *content_type, sb_spapi_document *doc, char *err);
/* PUT data to the pre-signed url with exactly content_type and no SP-API headers. */
int sb_spapi_upload_document(sb_spapi *s, const char *url, const char *content_type,
                             const void *data, size_t len, char *err);
/* createFeed -> feed_id (feed_id_len bytes). */
int sb_spapi_create_feed(sb_spapi *s, const char *feed_type, const char *const *marketplace_ids,
                         int nmarketplaces, const char *document_id, char *feed_id,
                         size_t feed_id_len, char *err);
int sb_spapi_get_feed(sb_spapi *s, const char *feed_id, sb_spapi_processing *out, char *err);
/* getFeedDocument, then downloads the url and gunzips when compressionAlgorithm is GZIP;
 * content gets the plain document. doc (may be NULL) receives the document record. */
int sb_spapi_get_feed_document(sb_spapi *s, const char *document_id, sb_spapi_document *doc,
                               sb_buf *content, char *err);

/* getFeeds: the feeds of feed_type (in marketplace_id when not NULL) created at or after
 * created_since (ISO 8601, Amazon's clock), as Amazon lists them; at most max into out,
 * *n of them, following nextToken (alone, as the model requires) for at most 10 pages.
 * What an ambiguous createFeed is looked for with: Amazon's Feed has no input document
 * id, so the caller tells its feed by type, marketplace and creation time. */
int sb_spapi_get_feeds(sb_spapi *s, const char *feed_type, const char *marketplace_id, const char *created_since,
                       sb_spapi_processing *out, int max, int *n, char *err);
/* getReports: the same for reports of report_type. */
int sb_spapi_get_reports(sb_spapi *s, const char *report_type, const char *marketplace_id, const char *created_since,
                         sb_spapi_processing *out, int max, int *n, char *err);

/* createReport {"reportType","marketplaceIds",["dataStartTime"]} -> report_id. */
int sb_spapi_create_report(sb_spapi *s, const char *report_type, const char *const *marketplace_ids,
                           int nmarketplaces, const char *data_start_time, char *report_id,
                           size_t report_id_len, char *err);
int sb_spapi_get_report(sb_spapi *s, const char *report_id, sb_spapi_processing *out, char *err);
int sb_spapi_get_report_document(sb_spapi *s, const char *document_id, sb_spapi_document *doc,
                                 sb_buf *content, char *err);

/* ---- Listings Items 2021-08-01 ---- */
typedef struct sb_search_listings_params {
    const char *seller_id;
    const char *const *marketplace_ids; int nmarketplaces;
    const char *included_data;       /* e.g. "summaries,fulfillmentAvailability" */
    const char *identifiers;         /* csv, with identifiers_type */
    const char *identifiers_type;    /* SKU, ASIN, ... */
    const char *last_updated_after;  /* optional */
    int page_size;                   /* 1..20; 0 = default (10) */
    const char *page_token;
} sb_search_listings_params;

/* One page of searchListingsItems; raw JSON into body. */
int sb_spapi_search_listings(sb_spapi *s, const sb_search_listings_params *p, sb_buf *body, char *err);

/* patchListingsItem replacing /attributes/fulfillment_availability with
 * [{fulfillment_channel_code:"DEFAULT", quantity, lead_time_to_ship_max_days}]
 * (lead_time_days < 0 leaves it out). body (may be NULL) gets the submission response;
 * a status other than ACCEPTED/VALID is returned as SB_EINVAL with the first issue. */
int sb_spapi_patch_listings_quantity(sb_spapi *s, const char *seller_id, const char *sku,
                                     const char *const *marketplace_ids, int nmarketplaces,
                                     const char *product_type, long quantity, int lead_time_days,
                                     sb_buf *body, char *err);
/* The same with a caller-built ListingsItemPatchRequest body. */
int sb_spapi_patch_listings_item(sb_spapi *s, const char *seller_id, const char *sku,
                                 const char *const *marketplace_ids, int nmarketplaces,
                                 const char *json, sb_buf *body, char *err);

/* ---- Notifications API v1 ----
 * createDestination and getDestinations are grantless: they carry a second access token
 * of the application itself (grant_type=client_credentials,
 * scope=sellingpartnerapi::notifications, the client id and secret, no refresh token),
 * cached and refreshed beside the seller's and never logged. createSubscription and
 * getSubscription carry the seller's token. createDestination and createSubscription go
 * out at most once (SB_EAMBIG after an answer that may hide a success: the caller lists
 * the destinations or gets the subscription to see what Amazon has). status (may be
 * NULL) gets Amazon's HTTP status: 409 = the destination or subscription exists, 404 from
 * getSubscription = none. */
#define SB_SPAPI_NOTIFY_ID_MAX 128
#define SB_SPAPI_NOTIFY_ARN_MAX 256
typedef struct sb_spapi_destination {
    char id[SB_SPAPI_NOTIFY_ID_MAX];      /* destinationId */
    char name[256];
    char arn[SB_SPAPI_NOTIFY_ARN_MAX];    /* resource.sqs.arn ("" for an EventBridge destination) */
} sb_spapi_destination;

typedef struct sb_spapi_subscription {
    char id[SB_SPAPI_NOTIFY_ID_MAX];      /* subscriptionId */
    char destination_id[SB_SPAPI_NOTIFY_ID_MAX];
    char payload_version[16];
    char event_filter_type[48];           /* processingDirective.eventFilter.eventFilterType */
} sb_spapi_subscription;

/* 1 when arn has the shape Amazon's SqsResource requires (arn:aws:sqs:REGION:ACCOUNT:NAME). */
int sb_spapi_sqs_arn_valid(const char *arn);
/* POST /notifications/v1/destinations {"name", "resourceSpecification":{"sqs":{"arn"}}}. */
int sb_spapi_create_destination(sb_spapi *s, const char *name, const char *arn, sb_spapi_destination *out,
                                long *status, char *err);
/* GET /notifications/v1/destinations: at most max into out, *n of them. */
int sb_spapi_get_destinations(sb_spapi *s, sb_spapi_destination *out, int max, int *n, char *err);
/* POST /notifications/v1/subscriptions/ORDER_CHANGE with payloadVersion "1.0", the
 * destination and processingDirective.eventFilter.eventFilterType "ORDER_CHANGE" (never
 * marketplaceIds: Amazon refuses them for ORDER_CHANGE). */
int sb_spapi_create_order_change_subscription(sb_spapi *s, const char *destination_id, sb_spapi_subscription *out,
                                              long *status, char *err);
/* GET /notifications/v1/subscriptions/ORDER_CHANGE?payloadVersion=1.0. */
int sb_spapi_get_order_change_subscription(sb_spapi *s, sb_spapi_subscription *out, long *status, char *err);
/* Number of grantless token calls that succeeded so far. */
long sb_spapi_grantless_refreshes(sb_spapi *s);

/* ---- counters ---- */
typedef struct sb_spapi_stats {
    const char *op;
    long calls;        /* HTTP attempts */
    long ok;           /* operations that succeeded */
    long failed;       /* operations that ended in an error */
    long throttled;    /* 429 responses */
    long retries;      /* attempts after the first (any reason) */
    long status_2xx, status_4xx, status_5xx, network_errors;
    double rate;       /* current bucket rate (requests/s, scaled) */
} sb_spapi_stats;

/* Copies the counters of every operation into out (SB_OP_COUNT entries). */
void sb_spapi_get_stats(sb_spapi *s, sb_spapi_stats out[SB_OP_COUNT]);
/* Appends the counters as Prometheus text (sellerbridge_spapi_*{op="..."}). */
int sb_spapi_metrics(sb_spapi *s, sb_buf *out);

/* Drops the cached access token (the next call refreshes). For tests and after a
 * credentials change. */
void sb_spapi_forget_token(sb_spapi *s);
/* Number of LWA refreshes done so far. */
long sb_spapi_token_refreshes(sb_spapi *s);

#endif
