/* spapi_int.h: what spapi.c (transport, auth, buckets, retries) shares with spapi_ops.c
 * (the operations). Not for use outside engine/spapi. */
#ifndef SB_SPAPI_INT_H
#define SB_SPAPI_INT_H
#include "spapi/spapi.h"

typedef struct sp_req {
    int op;                   /* enum sb_spapi_op */
    const char *method;       /* GET, POST, PUT, PATCH */
    const char *url;          /* absolute URL */
    const char *body;         /* request body or NULL */
    size_t body_len;
    const char *content_type; /* sent with a body */
    int sp;                   /* an SP-API call: bucket, access token, SP-API headers */
    int want_json;            /* a 2xx body must be valid JSON (retried otherwise) */
    int decode_encoding;      /* let libcurl decode Content-Encoding (document downloads) */
    int once;                 /* not idempotent (confirmShipment, createFeed, createReport):
                               * sent on a fresh connection and never again after it may
                               * have reached Amazon; such an outcome is SB_EAMBIG */
    long answer;              /* a 4xx that is an answer here, not a failure (404: there is none,
                               * 409: it exists): still an error code, logged at INFO, not ERROR */
    int grantless;            /* an SP-API call with the grantless token (Notifications destinations) */
    sb_buf *out;              /* response body (reset first); may be NULL */
    long status;              /* out: final HTTP status */
} sp_req;

/* Runs r with the bucket, token and retry policy. 0 on a 2xx. A request with once set is
 * repeated only when it cannot have reached Amazon (no connection, 429, a refused token);
 * after a 5xx, a time-out or a drop once it went out, or a 2xx that cannot be read, it
 * returns SB_EAMBIG and the caller asks Amazon what happened. */
int sp_call(sb_spapi *s, sp_req *r, char *err);
/* Endpoint base URL without a trailing slash. */
const char *sp_endpoint(sb_spapi *s);
/* Appends "&k=v" (or "?k=v" when q is empty) with v percent-encoded once. */
int sp_qadd(sb_buf *q, const char *k, const char *v);
/* Appends the comma-joined list, each element percent-encoded. */
int sp_qadd_list(sb_buf *q, const char *k, const char *const *v, int n);
/* Appends s percent-encoded (a path segment). */
int sp_escape(sb_buf *b, const char *s);
/* gunzip into out (bounded by out->max). */
int sp_gunzip(const char *in, size_t len, sb_buf *out, char *err);
long sp_max_body(sb_spapi *s);

/* One HTTP response classified, without network or client state (what sp_call and the
 * LWA refresh decide; the fuzz target tests/fuzz/fuzz_spapi_response.c drives these). */
enum { SP_DONE, SP_RETRY, SP_THROTTLED, SP_REFRESH, SP_FAIL };
/* One header line as libcurl hands it: a status line clears both, the rest fill them. */
void sp_header_line(const char *line, size_t len, char *request_id, size_t idlen,
                    char *rate_limit, size_t rllen);
/* The wait for a bucket left at tokens (< 0 after taking one) at rate per second, with
 * the margin that keeps Amazon's published rate from yielding a 429; 0 = none. */
int64_t sp_bucket_wait_ms(double tokens, double rate);
/* x-amzn-RateLimit-Limit -> *rate; 0 when absent or not a sane rate. */
int sp_rate_limit_parse(const char *v, double *rate);
/* An SP-API (sp) or plain response: SP_DONE on a 2xx (valid JSON when want_json), else
 * what = "HTTP 400 Code: message (details)" and SP_RETRY, SP_THROTTLED, SP_REFRESH (a 403
 * Unauthorized not yet refreshed) or SP_FAIL with *code SB_EAUTH or SB_EHTTP. */
int sp_response_action(long status, int sp, int want_json, int refreshed, const sb_buf *body,
                       char *what, size_t n, int *code);
/* The LWA token response: SP_DONE with token and *ttl_ms, else SP_RETRY or SP_FAIL, what
 * saying why. */
int sp_lwa_token_response(long status, const sb_buf *body, char *token, size_t toklen,
                          int64_t *ttl_ms, char *what, size_t n);

#endif
