/* web_int.h: what the server (web.c), the API handlers (web_api.c) and the metrics and
 * jobs code (web_jobs.c) share. A handler gets a parsed request with a borrowed store
 * connection and fills a response; web.c does transport, auth and headers. */
#ifndef SB_WEB_INT_H
#define SB_WEB_INT_H
#include <pthread.h>
#include <stdint.h>
#include <microhttpd.h>
#include "core/util.h"
#include "json/json.h"
#include "spapi/spapi.h"
#include "store/store.h"
#include "web/web.h"

#define SB_WEB_MAX_THREADS 16
#define SB_WEB_MAX_BODY (1u << 20)       /* largest request body accepted */
#define SB_WEB_MAX_RESPONSE (64u << 20)  /* largest response built */

/* One check of a rule pack: loaded with the limits, off the request threads. key names
 * what was checked (the pack setting, the limits, each .lua file's mtime and size) so a
 * request can tell whether the kept result is still the pack's. */
typedef struct sb_web_check {
    char key[65];                       /* SHA-256 hex of that description */
    char pack[4096];
    int ok;
    char name[128], hash[72], at[32];
    char report[8192];                  /* one "file:line: message" per line when !ok */
} sb_web_check;

struct sb_web {
    sb_web_options o;
    char *db_path;
    char listen[128];
    char url[160];
    char token_path[4096];
    unsigned char token_hash[32];       /* SHA-256 of the token; the token is not kept */
    char *secrets[3];                   /* the stored LWA secrets, registered with core/scrub.h */
    int64_t integ;
    char integ_name[128];
    struct MHD_Daemon *d;
    int port;
    volatile int stopping;

    pthread_mutex_t mu;                 /* guards everything below */
    pthread_cond_t cv;
    int npool;
    sb_store *pool[SB_WEB_MAX_THREADS];
    unsigned char busy[SB_WEB_MAX_THREADS];

    /* the run-now worker: one job at a time, "orders" (download) or "retry" (held
     * orders through the rules); no request thread ever runs a rule */
    pthread_t worker;
    int worker_started;                 /* a thread to join */
    int job_running;
    char job_name[32];
    char job_started[32], job_finished[32];
    char job_error[SB_ERRLEN];
    char job_result[4096];              /* JSON object of the last run's counts */

    /* the rule pack check (web_rules.c): one checker thread, one kept result */
    pthread_t checker;
    int checker_started;                /* a thread to join */
    int check_running;
    int check_have;                     /* check holds a result */
    sb_web_check check;
    sb_spapi_stats totals[SB_OP_COUNT]; /* Amazon counters of the runs started here */
    long requests;
};

typedef struct sb_web_req {
    sb_web *w;
    struct MHD_Connection *c;
    const char *method;
    const char *path;                   /* after "/api/v1", e.g. "/orders/X/fix" */
    sb_buf body;
    int too_large;
    sb_store *s;                        /* borrowed from the pool for the handler */
    sb_json *json;                      /* the parsed body (POST/PUT), or NULL */
} sb_web_req;

typedef struct sb_web_resp {
    int status;
    const char *ctype;
    sb_buf body;
    int asset;                  /* an embedded file: sent as it is */
} sb_web_resp;

/* {"error": message} with status. Returns status. */
int sb_web_error(sb_web_resp *rs, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A 200 JSON answer: status, content type, an empty body and jw (unless NULL) writing into it. */
void sb_web_begin_ok(sb_web_resp *rs, sb_jw *jw);
/* The status an sb_status maps to (SB_EINVAL 400, SB_ENOTFOUND 404, SB_EBUSY 409, ...). */
int sb_web_status_of(int rc);
const char *sb_web_arg(sb_web_req *rq, const char *name);

/* web_api.c: everything under /api/v1. */
void sb_web_api(sb_web_req *rq, sb_web_resp *rs);
/* web_status.c: GET /api/v1/status */
void sb_web_status_get(sb_web_req *rq, sb_web_resp *rs);
/* Answers engine/views' document doc (id: the order or setting, or NULL) with the
 * request's query arguments; a view's error is {"error": message, "code": name}. */
void sb_web_view(sb_web_req *rq, sb_web_resp *rs, const char *doc, const char *id);
/* web_jobs.c */
void sb_web_metrics(sb_web *w, sb_store *s, sb_web_resp *rs);
void sb_web_jobs_run(sb_web_req *rq, const char *job, sb_web_resp *rs);
void sb_web_jobs_stop(sb_web *w);
/* Starts the retry of held orders (all when ref is NULL) in the worker: 202 at once, 409
 * while a job runs; the result shows in the jobs view (run_now). */
void sb_web_retry_run(sb_web_req *rq, const char *ref, sb_web_resp *rs);
/* The same for the bulk actions: every held order of a reason (unknown_sku, rule_error,
 * rejected; NULL any) and/or with a line of sku; release: the orders a SKU alias just
 * stored releases (every integration). 202 at once, 400 for a bad reason, 409 while a
 * job runs. */
void sb_web_retry_bulk(sb_web_req *rq, const char *reason, const char *sku, int release, sb_web_resp *rs);
/* The routing grid's "try it": the rules route stored order ref in the worker (nothing is
 * stored); 202 at once, the branch and the reason in the jobs view's result. */
void sb_web_route_try(sb_web_req *rq, const char *ref, sb_web_resp *rs);
/* web_rules.c: GET /rules from the last check; starts a check when the pack changed. */
void sb_web_rules_get(sb_web_req *rq, sb_web_resp *rs);
void sb_web_rules_stop(sb_web *w);
/* Adds a finished run's Amazon counters to the totals /metrics reports. */
void sb_web_add_stats(sb_web *w, sb_spapi *api);


#endif
