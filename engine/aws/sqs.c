/* sqs.c: the SQS client of sqs.h (libcurl, SQS's JSON protocol) and the check of a
 * queue's attributes against what Amazon needs to deliver SP-API notifications.
 *
 * One idea: every operation goes through sqs_call(), which builds the signed POST (curl
 * signs with CURLOPT_AWS_SIGV4; the body through CURLOPT_POSTFIELDS so its hash is
 * signed), runs it with the client's timeouts, and decides per answer: done, retry after
 * a backoff on the engine's clock (network, 5xx, throttling; only when repeating is safe)
 * or fail with one line naming the operation, the HTTP status and SQS's __type/message.
 * Every error text is scrubbed of the secret key and the session token before it leaves.
 *
 * Why one file: every operation is one signed request through sqs_call and a reader of
 * its answer; the queue check reads the same attributes. */
#include <ctype.h>
#include <curl/curl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdarg.h>
#include "aws/sqs.h"
#include "aws/sqs_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/scrub.h"
#include "json/json.h"

/* An answer holds at most SB_SQS_MAX_BATCH bodies, each JSON-escaped (6 bytes a byte at
 * worst), plus handles and attributes. */
#define SQS_MAX_ANSWER ((size_t)SB_SQS_MAX_BATCH * (SB_SQS_MAX_BODY * 6 + 16384) + 65536)
#define SQS_MAX_REQUEST ((size_t)SB_SQS_MAX_BODY * 6 + 8192)

struct sb_sqs {
    char *endpoint;                   /* the queue URL's scheme://host[:port]/: where the JSON protocol posts */
    char *url, *region, *akid, *secret, *token, *ca_file;
    long connect_timeout_ms, timeout_ms, retry_base_ms;
    int max_retries;
    volatile int *stop;
    CURL *h;
    uint64_t rng;
};

/* ---- construction ---- */

/* scheme://host[:port]/ of a URL (malloc'd), or NULL. */
static char *endpoint_of(const char *url) {
    CURLU *u = curl_url();
    char *e = NULL, *out = NULL;
    if (u && !curl_url_set(u, CURLUPART_URL, url, 0) && !curl_url_set(u, CURLUPART_PATH, "/", 0) &&
        !curl_url_set(u, CURLUPART_QUERY, NULL, 0) && !curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) &&
        !curl_url_get(u, CURLUPART_URL, &e, 0))
        out = sb_strdup(e);
    curl_free(e);
    curl_url_cleanup(u);
    return out;
}

/* https, or http to a loopback host (the simulator, local test servers). */
static int url_ok(const char *url, char *why, size_t n) {
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int ok = 0;
    if (!u) { snprintf(why, n, "out of memory"); return 0; }
    if (curl_url_set(u, CURLUPART_URL, url, 0) || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0)) {
        snprintf(why, n, "not a URL");
        goto out;
    }
    if (!strcasecmp(scheme, "https")) ok = 1;
    else if (!strcasecmp(scheme, "http") &&
             (!strcmp(host, "127.0.0.1") || !strcasecmp(host, "localhost") || !strcmp(host, "[::1]")))
        ok = 1;
    else snprintf(why, n, "plain http is allowed to 127.0.0.1, localhost or [::1] only");
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

static int region_ok(const char *r) {
    if (!r || !*r || strlen(r) > 32) return 0;
    for (const char *p = r; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-')) return 0;
    return 1;
}

sb_sqs *sb_sqs_new(const sb_sqs_config *c, char *err) {
    char why[128];
    if (!c || !c->queue_url || !*c->queue_url) { sb_seterr(err, SB_EINVAL, "sqs: the queue URL is missing"); return NULL; }
    if (!url_ok(c->queue_url, why, sizeof why)) {
        sb_seterr(err, SB_EINVAL, "sqs: queue URL '%.200s' refused: %s", c->queue_url, why);
        return NULL;
    }
    if (!region_ok(c->region)) {
        sb_seterr(err, SB_EINVAL, "sqs: region '%.40s' is not an AWS region name such as us-east-1", c->region ? c->region : "");
        return NULL;
    }
    if (!c->access_key_id || !*c->access_key_id || strchr(c->access_key_id, ':')) {
        sb_seterr(err, SB_EINVAL, "sqs: the AWS access key id is missing or has a ':'");
        return NULL;
    }
    if (!c->secret_access_key || !*c->secret_access_key) { sb_seterr(err, SB_EINVAL, "sqs: the AWS secret access key is missing"); return NULL; }
    sb_sqs *q = calloc(1, sizeof *q);
    if (!q) { sb_seterr(err, SB_ENOMEM, "sqs: out of memory"); return NULL; }
    q->url = sb_strdup(c->queue_url);
    q->endpoint = endpoint_of(c->queue_url);
    q->region = sb_strdup(c->region);
    q->akid = sb_strdup(c->access_key_id);
    q->secret = sb_strdup(c->secret_access_key);
    q->token = c->session_token && *c->session_token ? sb_strdup(c->session_token) : NULL;
    q->ca_file = c->ca_file ? sb_strdup(c->ca_file) : NULL;
    q->h = curl_easy_init();
    if (!q->url || !q->endpoint || !q->region || !q->akid || !q->secret || !q->h || (c->session_token && *c->session_token && !q->token) ||
        (c->ca_file && !q->ca_file)) {
        sb_sqs_free(q);
        sb_seterr(err, SB_ENOMEM, "sqs: out of memory");
        return NULL;
    }
    q->connect_timeout_ms = c->connect_timeout_ms > 0 ? c->connect_timeout_ms : 10000;
    q->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 30000;
    q->max_retries = c->max_retries == 0 ? 3 : c->max_retries < 0 ? 0 : c->max_retries > 10 ? 10 : c->max_retries;
    q->retry_base_ms = c->retry_base_ms > 0 ? c->retry_base_ms : 200;
    q->stop = c->stop;
    q->rng = (uint64_t)sb_now_ms() * 2654435761u + 1;
    sb_scrub_add(q->secret);
    if (q->token) sb_scrub_add(q->token);
    return q;
}

void sb_sqs_free(sb_sqs *q) {
    if (!q) return;
    if (q->secret) { sb_scrub_remove(q->secret); memset(q->secret, 0, strlen(q->secret)); }
    if (q->token) { sb_scrub_remove(q->token); memset(q->token, 0, strlen(q->token)); }
    if (q->h) curl_easy_cleanup(q->h);
    free(q->endpoint); free(q->url); free(q->region); free(q->akid); free(q->secret); free(q->token); free(q->ca_file);
    free(q);
}

/* ---- one call ---- */

void sb_sqs_sign_setup(void *curl, const char *region, const char *service, const char *akid, const char *secret,
                       const char *body, size_t len) {
    CURL *h = curl;
    char provider[128];
    snprintf(provider, sizeof provider, "aws:amz:%s:%s", region, service);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, provider);   /* curl copies option strings */
    curl_easy_setopt(h, CURLOPT_USERNAME, akid);
    curl_easy_setopt(h, CURLOPT_PASSWORD, secret);
}

typedef struct answer { sb_buf body; int over; char ctype[64]; } answer;

static size_t on_body(char *p, size_t sz, size_t nm, void *ud) {
    answer *a = ud;
    size_t n = sz * nm;
    if (sb_buf_append(&a->body, p, n)) { a->over = 1; return 0; }
    return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud) {
    answer *a = ud;
    size_t n = sz * nm;
    if (n > 13 && !strncasecmp(p, "Content-Type:", 13)) {
        const char *v = p + 13;
        while (*v == ' ' && v < p + n) v++;
        size_t l = (size_t)(p + n - v);
        while (l && (v[l - 1] == '\r' || v[l - 1] == '\n')) l--;
        snprintf(a->ctype, sizeof a->ctype, "%.*s", (int)(l < sizeof a->ctype ? l : sizeof a->ctype - 1), v);
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln) {
    (void)dlt; (void)dln; (void)ult; (void)uln;
    volatile int *stop = ud;
    return stop && *stop != 0;
}

static int stopped(sb_sqs *q) { return q->stop && *q->stop; }

/* A wait between tries on the engine's clock, in steps so a stop is not held by it. */
static void nap(sb_sqs *q, int64_t ms) {
    while (ms > 0 && !stopped(q)) {
        int64_t step = ms < 200 ? ms : 200;
        sb_sleep_ms(step);
        ms -= step;
    }
}

static int64_t backoff_ms(sb_sqs *q, int attempt) {
    int64_t base = q->retry_base_ms << (attempt > 8 ? 8 : attempt - 1);
    if (base > 20000) base = 20000;
    q->rng ^= q->rng << 13; q->rng ^= q->rng >> 7; q->rng ^= q->rng << 17;
    return base / 2 + (int64_t)(q->rng % (uint64_t)(base / 2 + 1));   /* equal jitter */
}

static int transient_curl(CURLcode cc) {
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT: case CURLE_COULDNT_CONNECT: case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR: case CURLE_SEND_ERROR: case CURLE_GOT_NOTHING:
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_SSL_CONNECT_ERROR: case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* Nothing can have reached SQS: the connection was never made. */
static int never_sent(CURLcode cc) {
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_SSL_CONNECT_ERROR;
}

static void scrub(sb_sqs *q, char *text) {
    sb_scrub_text(text, q->secret);
    if (q->token) sb_scrub_text(text, q->token);
    sb_scrub_all(text);
}

/* SQS's error: "__type" ("com.amazonaws.sqs#QueueDoesNotExist" -> the part after '#')
 * and "message" (or "Message"). 1 when the body was SQS's error JSON. */
static int sqs_error_of(const sb_buf *body, char *type, size_t tn, char *msg, size_t mn) {
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    type[0] = msg[0] = '\0';
    if (!body->len || sb_json_parse(body->data, body->len, &j, e)) return 0;
    const char *t = sb_json_str(j, SB_JSON_ROOT, "__type");
    if (!t) t = sb_json_str(j, SB_JSON_ROOT, "code");
    const char *m = sb_json_str(j, SB_JSON_ROOT, "message");
    if (!m) m = sb_json_str(j, SB_JSON_ROOT, "Message");
    if (t) {
        const char *h = strrchr(t, '#');
        sb_escape_controls(h ? h + 1 : t, strlen(h ? h + 1 : t), type, tn);
    }
    if (m) sb_escape_controls(m, strlen(m), msg, mn);
    sb_json_free(j);
    return t != NULL || m != NULL;
}

static int throttling(const char *type) {
    return !strcmp(type, "ThrottlingException") || !strcmp(type, "RequestThrottled") ||
           !strcmp(type, "RequestThrottledException") || !strcmp(type, "ServiceUnavailable") ||
           !strcmp(type, "InternalError") || !strcmp(type, "InternalFailure");
}

/* One operation: POST body, answer parsed into *doc (NULL for an empty 200 body).
 * idempotent: may be repeated after any failure; otherwise only when nothing was sent.
 * timeout_ms: this call's total timeout instead of the client's (a long poll's wait + 10 s), 0 = the client's. */
static int sqs_call(sb_sqs *q, const char *op, const sb_buf *req, int idempotent, long timeout_ms, sb_json **doc,
                    char *err) {
    char target[80], cerr[CURL_ERROR_SIZE], what[SB_ERRLEN], type[128], msg[256];
    struct curl_slist *hdrs = NULL, *t;
    answer a;
    int rc = 0;
    *doc = NULL;
    sb_buf_init(&a.body, SQS_MAX_ANSWER);
    snprintf(target, sizeof target, "X-Amz-Target: AmazonSQS.%s", op);
    if (!(t = curl_slist_append(hdrs, "Content-Type: application/x-amz-json-1.0"))) goto oom;
    hdrs = t;
    if (!(t = curl_slist_append(hdrs, target))) goto oom;
    hdrs = t;
    if (q->token) {
        char *tok = malloc(strlen(q->token) + 32);
        if (!tok) goto oom;
        sprintf(tok, "X-Amz-Security-Token: %s", q->token);
        t = curl_slist_append(hdrs, tok);
        memset(tok, 0, strlen(tok));
        free(tok);
        if (!t) goto oom;
        hdrs = t;
    }
    for (int attempt = 0;; attempt++) {
        CURL *h = q->h;
        int retry = 0;
        long status = 0;
        curl_easy_reset(h);
        sb_buf_reset(&a.body);
        a.over = 0;
        a.ctype[0] = '\0';
        cerr[0] = '\0';
        curl_easy_setopt(h, CURLOPT_URL, q->endpoint);   /* POST /, the queue named by QueueUrl in the body */
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        sb_sqs_sign_setup(h, q->region, "sqs", q->akid, q->secret, req->data, req->len);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, q->connect_timeout_ms);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : q->timeout_ms);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (q->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, q->ca_file);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_USERAGENT, "sellerbridge/" SB_VERSION " sqs");
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)SQS_MAX_ANSWER);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
        if (q->stop) {
            curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
            curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)q->stop);
        }
        if (!idempotent) {   /* a reused connection found dead would make curl send it again */
            curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
            curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
        }
        CURLcode cc = curl_easy_perform(h);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        if (cc == CURLE_ABORTED_BY_CALLBACK && stopped(q)) {
            rc = sb_seterr(err, SB_EINTR, "SQS %s: stopped", op);
            goto out;
        }
        if (cc != CURLE_OK) {
            if (a.over || cc == CURLE_FILESIZE_EXCEEDED)
                snprintf(what, sizeof what, "answer larger than %zu bytes", SQS_MAX_ANSWER);
            else snprintf(what, sizeof what, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
            retry = transient_curl(cc) && (idempotent || never_sent(cc));
            if (!retry && !idempotent && transient_curl(cc)) {
                scrub(q, what);
                rc = sb_seterr(err, SB_EAMBIG, "SQS %s: %s after the request may have reached SQS; not repeated", op, what);
                goto out;
            }
        } else {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            if (status == 200) {
                char e[SB_ERRLEN];
                if (!a.body.len) goto out;   /* an empty answer (local-aws-sqs' empty receive) */
                if (!sb_json_parse(a.body.data, a.body.len, doc, e)) {
                    if (sb_json_type(*doc, SB_JSON_ROOT, NULL) == SB_JSON_OBJ) goto out;
                    sb_json_free(*doc);
                    *doc = NULL;
                    snprintf(e, sizeof e, "not a JSON object");
                }
                char snip[96];
                sb_escape_controls(a.body.data, a.body.len < 60 ? a.body.len : 60, snip, sizeof snip);
                snprintf(what, sizeof what, "HTTP 200 but the answer is not SQS's JSON (%.200s; %s: \"%s\")", e,
                         a.ctype[0] ? a.ctype : "no Content-Type", snip);
                retry = idempotent;
            } else if (sqs_error_of(&a.body, type, sizeof type, msg, sizeof msg)) {
                snprintf(what, sizeof what, "HTTP %ld %s: %s", status, type[0] ? type : "(no __type)", msg);
                retry = (status >= 500 || throttling(type)) && idempotent;
            } else {
                char snip[96];
                sb_escape_controls(a.body.data ? a.body.data : "", a.body.len < 60 ? a.body.len : 60, snip, sizeof snip);
                snprintf(what, sizeof what, "HTTP %ld, not SQS's error JSON (%s: \"%s\")", status,
                         a.ctype[0] ? a.ctype : "no Content-Type", snip);
                retry = status >= 500 && idempotent;
            }
        }
        scrub(q, what);
        if (!idempotent && status >= 500) {   /* SQS may have taken it: not repeated, and said so */
            rc = sb_seterr(err, SB_EAMBIG, "SQS %s: %s; SQS may have taken the request: not repeated", op, what);
            goto out;
        }
        if (!retry || attempt >= q->max_retries || stopped(q)) {
            int code = status == 403 || status == 401 ? SB_EAUTH : SB_EHTTP;
            rc = sb_seterr(err, code, "SQS %s: %s%s", op, what,
                           attempt ? " (after retries)" : "");
            if (stopped(q)) rc = sb_seterr(err, SB_EINTR, "SQS %s: stopped (last: %s)", op, what);
            goto out;
        }
        int64_t w = backoff_ms(q, attempt + 1);
        sb_warn("SQS %s failed, retrying attempt=%d/%d wait_ms=%lld error=\"%s\"", op, attempt + 1, q->max_retries,
                (long long)w, what);
        nap(q, w);
    }
oom:
    rc = sb_seterr(err, SB_ENOMEM, "SQS %s: out of memory", op);
out:
    if (rc && err) scrub(q, err);
    curl_slist_free_all(hdrs);
    sb_buf_free(&a.body);
    return rc;
}

/* The request body: {"QueueUrl": ..., then the caller's fields}. */
static void req_begin(sb_sqs *q, sb_buf *b, sb_jw *w) {
    sb_buf_init(b, SQS_MAX_REQUEST);
    sb_jw_init(w, b);
    sb_jw_obj(w);
    sb_jw_kstr(w, "QueueUrl", q->url);
}

static int req_end(sb_jw *w, const char *op, char *err) {
    sb_jw_end_obj(w);
    if (sb_jw_error(w) || !w->b->data) return sb_seterr(err, SB_ENOMEM, "SQS %s: request too large or out of memory", op);
    return 0;
}

/* ---- operations ---- */

int sb_sqs_receive(sb_sqs *q, int max, int wait_s, int visibility_s, sb_sqs_message *out, int *n, char *err) {
    sb_buf b;
    sb_jw w;
    sb_json *j = NULL;
    int rc;
    *n = 0;
    if (max < 1 || max > SB_SQS_MAX_BATCH)
        return sb_seterr(err, SB_EINVAL, "SQS ReceiveMessage: MaxNumberOfMessages %d is not 1..%d", max, SB_SQS_MAX_BATCH);
    if (wait_s < 0 || wait_s > 20) return sb_seterr(err, SB_EINVAL, "SQS ReceiveMessage: WaitTimeSeconds %d is not 0..20", wait_s);
    if (visibility_s < 0 || visibility_s > 43200)
        return sb_seterr(err, SB_EINVAL, "SQS ReceiveMessage: VisibilityTimeout %d is not 0..43200", visibility_s);
    req_begin(q, &b, &w);
    sb_jw_kint(&w, "MaxNumberOfMessages", max);
    sb_jw_kint(&w, "WaitTimeSeconds", wait_s);
    sb_jw_kint(&w, "VisibilityTimeout", visibility_s);
    sb_jw_key(&w, "MessageSystemAttributeNames");
    sb_jw_arr(&w);
    sb_jw_str(&w, "ApproximateReceiveCount");
    sb_jw_str(&w, "SentTimestamp");
    sb_jw_end_arr(&w);
    sb_jw_key(&w, "AttributeNames");   /* the older name, for servers that know only it */
    sb_jw_arr(&w);
    sb_jw_str(&w, "ApproximateReceiveCount");
    sb_jw_str(&w, "SentTimestamp");
    sb_jw_end_arr(&w);
    if ((rc = req_end(&w, "ReceiveMessage", err))) goto out;
    if ((rc = sqs_call(q, "ReceiveMessage", &b, 1, (long)wait_s * 1000 + 10000, &j, err))) goto out;
    int msgs = sb_json_get(j, SB_JSON_ROOT, "Messages");
    if (!msgs || sb_json_type(j, msgs, NULL) == SB_JSON_NULL) goto out;
    if (sb_json_type(j, msgs, NULL) != SB_JSON_ARR) {
        rc = sb_seterr(err, SB_EHTTP, "SQS ReceiveMessage: Messages is not a list");
        goto out;
    }
    size_t cnt = sb_json_len(j, msgs, NULL);
    if (cnt > (size_t)max) {
        rc = sb_seterr(err, SB_EHTTP, "SQS ReceiveMessage: %zu messages in the answer, more than the %d asked for", cnt, max);
        goto out;
    }
    for (size_t i = 0; i < cnt; i++) {
        int m = sb_json_at(j, msgs, i);
        sb_sqs_message *o = &out[*n];
        memset(o, 0, sizeof *o);
        const char *id = sb_json_str(j, m, "MessageId"), *hd = sb_json_str(j, m, "ReceiptHandle");
        const char *body = sb_json_str(j, m, "Body");
        if (id && strlen(id) < sizeof o->id) snprintf(o->id, sizeof o->id, "%s", id);
        if (!hd || strlen(hd) >= sizeof o->handle) {
            /* no usable handle: the message cannot be deleted; it is counted, not sized */
            o->handle[0] = '\0';
        } else snprintf(o->handle, sizeof o->handle, "%s", hd);
        o->receive_count = (int)sb_json_int(j, m, "Attributes.ApproximateReceiveCount", 0);
        o->sent_ms = sb_json_int(j, m, "Attributes.SentTimestamp", 0);
        if (o->receive_count < 0 || o->receive_count > 1000000) o->receive_count = 0;
        if (body && o->handle[0]) {
            size_t bl = strlen(body);
            if (bl <= SB_SQS_MAX_BODY) {
                if (!(o->body = malloc(bl + 1))) {
                    sb_sqs_messages_free(out, *n);
                    *n = 0;
                    rc = sb_seterr(err, SB_ENOMEM, "SQS ReceiveMessage: out of memory");
                    goto out;
                }
                memcpy(o->body, body, bl + 1);
                o->body_len = bl;
            }
        }
        (*n)++;
    }
out:
    sb_json_free(j);
    sb_buf_free(&b);
    return rc;
}

void sb_sqs_messages_free(sb_sqs_message *m, int n) {
    for (int i = 0; m && i < n; i++) {
        free(m[i].body);
        m[i].body = NULL;
    }
}

int sb_sqs_delete(sb_sqs *q, const char *handle, char *err) {
    sb_buf b;
    sb_jw w;
    sb_json *j = NULL;
    int rc;
    if (!handle || !*handle || strlen(handle) >= SB_SQS_HANDLE_MAX)
        return sb_seterr(err, SB_EINVAL, "SQS DeleteMessage: the receipt handle is empty or longer than %d", SB_SQS_HANDLE_MAX - 1);
    req_begin(q, &b, &w);
    sb_jw_kstr(&w, "ReceiptHandle", handle);
    if (!(rc = req_end(&w, "DeleteMessage", err))) rc = sqs_call(q, "DeleteMessage", &b, 1, 0, &j, err);
    sb_json_free(j);
    sb_buf_free(&b);
    return rc;
}

int sb_sqs_change_visibility(sb_sqs *q, const char *handle, int visibility_s, char *err) {
    sb_buf b;
    sb_jw w;
    sb_json *j = NULL;
    int rc;
    if (!handle || !*handle || strlen(handle) >= SB_SQS_HANDLE_MAX)
        return sb_seterr(err, SB_EINVAL, "SQS ChangeMessageVisibility: the receipt handle is empty or longer than %d",
                         SB_SQS_HANDLE_MAX - 1);
    if (visibility_s < 0 || visibility_s > 43200)
        return sb_seterr(err, SB_EINVAL, "SQS ChangeMessageVisibility: VisibilityTimeout %d is not 0..43200", visibility_s);
    req_begin(q, &b, &w);
    sb_jw_kstr(&w, "ReceiptHandle", handle);
    sb_jw_kint(&w, "VisibilityTimeout", visibility_s);
    if (!(rc = req_end(&w, "ChangeMessageVisibility", err))) rc = sqs_call(q, "ChangeMessageVisibility", &b, 1, 0, &j, err);
    sb_json_free(j);
    sb_buf_free(&b);
    return rc;
}

int sb_sqs_send(sb_sqs *q, const char *body, char *id, size_t idlen, char *err) {
    sb_buf b;
    sb_jw w;
    sb_json *j = NULL;
    int rc;
    if (id && idlen) id[0] = '\0';
    size_t bl = body ? strlen(body) : 0;
    if (!bl) return sb_seterr(err, SB_EINVAL, "SQS SendMessage: the message body is empty");
    if (bl > SB_SQS_MAX_BODY)
        return sb_seterr(err, SB_EINVAL, "SQS SendMessage: the body is %zu bytes, more than SQS's %d", bl, SB_SQS_MAX_BODY);
    req_begin(q, &b, &w);
    sb_jw_kstr(&w, "MessageBody", body);
    if ((rc = req_end(&w, "SendMessage", err))) goto out;
    if ((rc = sqs_call(q, "SendMessage", &b, 0, 0, &j, err))) goto out;
    const char *mid = sb_json_str(j, SB_JSON_ROOT, "MessageId");
    if (!mid) { rc = sb_seterr(err, SB_EHTTP, "SQS SendMessage: the answer has no MessageId"); goto out; }
    if (id && idlen) snprintf(id, idlen, "%s", mid);
out:
    sb_json_free(j);
    sb_buf_free(&b);
    return rc;
}

/* ---- attributes ---- */

static long attr_long(sb_json *j, int a, const char *name) {
    int64_t v = sb_json_int(j, a, name, -1);
    return v < 0 || v > 100000000000LL ? -1 : (long)v;
}

int sb_sqs_attributes_parse(const char *json, size_t len, sb_sqs_attributes *out, char *err) {
    sb_json *j = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    out->retention_s = out->visibility_s = out->approx_messages = -1;
    if ((rc = sb_json_parse(json, len, &j, err))) return rc;
    int a = sb_json_get(j, SB_JSON_ROOT, "Attributes");
    if (a && sb_json_type(j, a, NULL) != SB_JSON_OBJ) {
        rc = sb_seterr(err, SB_EHTTP, "SQS GetQueueAttributes: Attributes is not an object");
        goto out;
    }
    const char *s;
    if ((s = sb_json_str(j, a, "QueueArn")) && strlen(s) < sizeof out->arn) snprintf(out->arn, sizeof out->arn, "%s", s);
    s = sb_json_str(j, a, "FifoQueue");
    out->fifo = (s && !strcasecmp(s, "true")) || sb_json_bool(j, a, "FifoQueue", 0);
    if ((s = sb_json_str(j, a, "KmsMasterKeyId")) && strlen(s) < sizeof out->kms_key)
        snprintf(out->kms_key, sizeof out->kms_key, "%s", s);
    out->retention_s = attr_long(j, a, "MessageRetentionPeriod");
    out->visibility_s = attr_long(j, a, "VisibilityTimeout");
    out->approx_messages = attr_long(j, a, "ApproximateNumberOfMessages");
    if ((s = sb_json_str(j, a, "Policy")) && *s && strlen(s) <= 20480 && !(out->policy = sb_strdup(s))) rc = SB_ENOMEM;
    if ((s = sb_json_str(j, a, "RedrivePolicy")) && *s && strlen(s) <= 4096 && !(out->redrive_policy = sb_strdup(s))) rc = SB_ENOMEM;
    if (rc) { sb_sqs_attributes_free(out); rc = sb_seterr(err, SB_ENOMEM, "SQS GetQueueAttributes: out of memory"); }
out:
    sb_json_free(j);
    return rc;
}

int sb_sqs_get_attributes(sb_sqs *q, sb_sqs_attributes *out, char *err) {
    sb_buf b, enc;
    sb_jw w;
    sb_json *j = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    out->retention_s = out->visibility_s = out->approx_messages = -1;
    req_begin(q, &b, &w);
    sb_jw_key(&w, "AttributeNames");
    sb_jw_arr(&w);
    sb_jw_str(&w, "All");
    sb_jw_end_arr(&w);
    sb_buf_init(&enc, SQS_MAX_ANSWER);
    if ((rc = req_end(&w, "GetQueueAttributes", err))) goto out;
    if ((rc = sqs_call(q, "GetQueueAttributes", &b, 1, 0, &j, err))) goto out;
    if (!j) goto out;   /* nothing said */
    if ((rc = sb_json_encode(j, SB_JSON_ROOT, &enc, err))) goto out;
    rc = sb_sqs_attributes_parse(enc.data ? enc.data : "{}", enc.len ? enc.len : 2, out, err);
out:
    sb_json_free(j);
    sb_buf_free(&enc);
    sb_buf_free(&b);
    return rc;
}

void sb_sqs_attributes_free(sb_sqs_attributes *a) {
    if (!a) return;
    free(a->policy);
    free(a->redrive_policy);
    a->policy = a->redrive_policy = NULL;
}

/* ---- what Amazon needs ---- */

static int is_amazon(const char *p) {
    return !strcmp(p, "*") || !strcmp(p, SB_SQS_AMAZON_ACCOUNT) ||
           !strcmp(p, "arn:aws:iam::" SB_SQS_AMAZON_ACCOUNT ":root");
}

/* A string or a list of strings at node; calls match on each; 1 when one matched. */
static int any_of(sb_json *j, int node, int (*match)(const char *, const void *), const void *ud) {
    if (!node) return 0;
    if (sb_json_type(j, node, NULL) == SB_JSON_STR) return match(sb_json_str(j, node, NULL), ud);
    if (sb_json_type(j, node, NULL) != SB_JSON_ARR) return 0;
    for (size_t i = 0; i < sb_json_len(j, node, NULL) && i < 1000; i++) {
        int e = sb_json_at(j, node, i);
        const char *s = sb_json_str(j, e, NULL);
        if (s && match(s, ud)) return 1;
    }
    return 0;
}

static int m_amazon(const char *s, const void *ud) { (void)ud; return is_amazon(s); }
static int m_action(const char *s, const void *ud) {
    return !strcmp(s, "*") || !strcasecmp(s, "sqs:*") || !strcasecmp(s, (const char *)ud) ||
           !fnmatch(s, (const char *)ud, FNM_CASEFOLD);
}
static int m_resource(const char *s, const void *ud) {
    const char *arn = ud;
    return !strcmp(s, "*") || !*arn || !strcmp(s, arn) || !fnmatch(s, arn, 0);
}

/* Does one Allow statement in the policy let Amazon's account do action on arn? */
static int policy_allows(sb_json *j, const char *action, const char *arn) {
    int st = sb_json_get(j, SB_JSON_ROOT, "Statement");
    size_t n = sb_json_type(j, st, NULL) == SB_JSON_ARR ? sb_json_len(j, st, NULL) : st ? 1 : 0;
    for (size_t i = 0; i < n && i < 1000; i++) {
        int s = sb_json_type(j, st, NULL) == SB_JSON_ARR ? sb_json_at(j, st, i) : st;
        const char *eff = sb_json_str(j, s, "Effect");
        if (!eff || strcmp(eff, "Allow")) continue;
        int pr = sb_json_get(j, s, "Principal");
        int ok = sb_json_type(j, pr, NULL) == SB_JSON_STR ? is_amazon(sb_json_str(j, pr, NULL))
                                                          : any_of(j, sb_json_get(j, pr, "AWS"), m_amazon, NULL);
        if (!ok) continue;
        if (!any_of(j, sb_json_get(j, s, "Action"), m_action, action)) continue;
        int res = sb_json_get(j, s, "Resource");
        if (res && !any_of(j, res, m_resource, arn)) continue;
        return sb_json_get(j, s, "Condition") ? 2 : 1;   /* 2: only under a Condition */
    }
    return 0;
}

static void add_line(char *report, size_t n, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add_line(char *report, size_t n, size_t *used, const char *fmt, ...) {
    if (!report || !n || *used >= n - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(report + *used, n - *used, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    *used += (size_t)k < n - *used ? (size_t)k : n - *used - 1;
    if (*used < n - 1) { report[(*used)++] = '\n'; report[*used] = '\0'; }
}

int sb_sqs_check_for_amazon(const sb_sqs_attributes *a, char *report, size_t n) {
    size_t used = 0;
    int blocking = 0;
    if (report && n) report[0] = '\0';
    const char *arn = a->arn;
    if (a->fifo) {
        blocking++;
        add_line(report, n, &used, "blocking: FifoQueue: the queue is a FIFO queue; Amazon delivers nothing to a FIFO "
                                   "queue: use a Standard queue");
    }
    if (!a->policy) {
        blocking++;
        add_line(report, n, &used, "blocking: Policy: the queue has no policy (or these keys may not read it); "
                                   "Amazon's subscription is created but nothing arrives: allow principal "
                                   "arn:aws:iam::%s:root sqs:SendMessage and sqs:GetQueueAttributes on %s",
                 SB_SQS_AMAZON_ACCOUNT, arn[0] ? arn : "the queue's ARN");
    } else {
        sb_json *j = NULL;
        char e[SB_ERRLEN];
        if (sb_json_parse(a->policy, strlen(a->policy), &j, e)) {
            blocking++;
            add_line(report, n, &used, "blocking: Policy: not JSON (%.200s)", e);
        } else {
            int send = policy_allows(j, "sqs:SendMessage", arn), get = policy_allows(j, "sqs:GetQueueAttributes", arn);
            if (!send || !get) {
                blocking++;
                add_line(report, n, &used, "blocking: Policy: does not allow Amazon's account %s %s%s%s on %s; "
                                           "Amazon's subscription is created but nothing arrives",
                         SB_SQS_AMAZON_ACCOUNT, send ? "" : "sqs:SendMessage", !send && !get ? " and " : "",
                         get ? "" : "sqs:GetQueueAttributes", arn[0] ? arn : "the queue");
            } else if (send == 2 || get == 2)
                add_line(report, n, &used, "check: Policy: the statement allowing Amazon's account has a Condition "
                                           "(not evaluated here): Amazon's requests must meet it");
            sb_json_free(j);
        }
    }
    if (a->kms_key[0])
        add_line(report, n, &used, "check: KmsMasterKeyId: the queue is encrypted with %s; its key policy must grant "
                                   "arn:aws:iam::%s:root kms:GenerateDataKey and kms:Decrypt (this cannot be checked "
                                   "from here)", a->kms_key, SB_SQS_AMAZON_ACCOUNT);
    if (!a->redrive_policy)
        add_line(report, n, &used, "advice: RedrivePolicy: none; add a dead-letter queue (maxReceiveCount 3) so a "
                                   "message that keeps failing is set aside");
    if (a->retention_s >= 0 && a->retention_s < 14 * 86400)
        add_line(report, n, &used, "advice: MessageRetentionPeriod: %ld s (%.1f days); set 1209600 (14 days) so "
                                   "notifications wait out a long stop of the engine", a->retention_s,
                 (double)a->retention_s / 86400.0);
    return blocking;
}
