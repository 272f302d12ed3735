/* sim_sqs.c: the simulator's Amazon SQS queue and the ORDER_CHANGE notifications Amazon
 * puts into it.
 *
 * One Standard queue, {sim url}/000000000000/sellerbridge-sim, spoken to in SQS's JSON
 * protocol (POST, X-Amz-Target: AmazonSQS.<op>, Content-Type application/x-amz-json-1.0,
 * an Authorization header that starts with AWS4-HMAC-SHA256; the signature itself is not
 * checked). The idea to read it by: messages are kept in delivery order, each with the
 * simulator-clock time it becomes visible; a receive takes the visible ones (moving those
 * received maxReceiveCount times to the dead-letter list first), and a long poll waits on
 * a condition variable with sim->mu, waking at least every 50 ms real time to look at the
 * (possibly fake or scaled) clock again. Amazon's side (sim_sqs_push, the notifications)
 * goes through the delivery knobs: loss, duplicates, reordering, delay, a policy that
 * does not allow Amazon (nothing delivered, silently). */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "sim/sim_int.h"

#define SQS_MAX_BODY (256 * 1024)

typedef struct sqs_msg {
    char id[40], handle[96];
    char *body;
    int64_t visible_at, sent_ms, first_receive_ms;
    int receives;
} sqs_msg;

struct sim_sqs {
    sqs_msg *m; size_t n, cap;        /* the queue, oldest delivery first */
    sqs_msg *dead; size_t ndead, capdead;
    pthread_cond_t cv;
    long waiting;
    uint64_t idrng;                   /* ids: seeded from the real time and pid, never the scenario's
                                       * seed, so a restarted simulator repeats no MessageId or
                                       * NotificationId (a consumer dedupes on them for days) */
    /* knobs (scenario "sqs") */
    int visibility_s, max_receive, policy_allows, down;
    long retention_s;
    double duplicate, reorder, lost, delay_s, double_encoded;
    int subscribed_knob;              /* "notifications": {"subscribed": true} */
    /* counters */
    long notified, lost_count, duplicated, refused;
};

static const char *const sqs_ops[] = {"SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
                                      "GetQueueAttributes", "GetQueueUrl", NULL};

int sim_sqs_known_op(const char *op) {
    for (int i = 0; sqs_ops[i]; i++)
        if (!strcmp(op, sqs_ops[i])) return 1;
    return 0;
}

static void knobs_default(struct sim_sqs *q) {
    q->visibility_s = 30;
    q->max_receive = 0;
    q->policy_allows = 1;
    q->down = 0;
    q->retention_s = 345600;
    q->duplicate = q->reorder = q->lost = q->delay_s = q->double_encoded = 0;
    q->subscribed_knob = 0;
}

int sim_sqs_init(sb_sim *sim) {
    struct sim_sqs *q = calloc(1, sizeof *q);
    if (!q) return SB_ENOMEM;
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &a);
    pthread_condattr_destroy(&a);
    knobs_default(q);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    q->idrng = ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)q;
    sim->sqs = q;
    return 0;
}

static void msgs_free(sqs_msg *m, size_t n) {
    for (size_t i = 0; i < n; i++) free(m[i].body);
}

void sim_sqs_reset(sb_sim *sim) {
    struct sim_sqs *q = sim->sqs;
    if (!q) return;
    msgs_free(q->m, q->n);
    msgs_free(q->dead, q->ndead);
    q->n = q->ndead = 0;
    q->notified = q->lost_count = q->duplicated = q->refused = 0;
    knobs_default(q);
    sim->order_change_subscribed = 0;
    sim->order_change_arn[0] = '\0';
}

void sim_sqs_free(sb_sim *sim) {
    struct sim_sqs *q = sim->sqs;
    if (!q) return;
    sim_sqs_reset(sim);
    free(q->m);
    free(q->dead);
    pthread_cond_destroy(&q->cv);
    free(q);
    sim->sqs = NULL;
}

void sim_sqs_wake(sb_sim *sim) {
    pthread_mutex_lock(&sim->mu);
    if (sim->sqs) pthread_cond_broadcast(&sim->sqs->cv);
    pthread_mutex_unlock(&sim->mu);
}

static int prob(sb_json *j, int n, const char *k, double *out, char *err) {
    if (!sb_json_get(j, n, k)) return 0;
    double v = sb_json_num(j, n, k, -1);
    if (sb_json_type(j, n, k) == SB_JSON_BOOL) v = sb_json_bool(j, n, k, 0) ? 1 : 0;
    if (!(v >= 0 && v <= 1)) return sb_seterr(err, SB_EINVAL, "sim: sqs.%s must be a probability from 0 to 1 (or true/false)", k);
    *out = v;
    return 0;
}

int sim_sqs_load(sb_sim *sim, sb_json *j, int node, char *err) {
    struct sim_sqs *q = sim->sqs;
    int s, rc = 0;
    if (!q) return 0;
    if ((s = sb_json_get(j, node, "notifications"))) {
        if (sb_json_type(j, s, NULL) != SB_JSON_OBJ) return sb_seterr(err, SB_EINVAL, "sim: notifications must be an object");
        if (sb_json_get(j, s, "subscribed")) q->subscribed_knob = sb_json_bool(j, s, "subscribed", 0);
    }
    if (!(s = sb_json_get(j, node, "sqs"))) return 0;
    if (sb_json_type(j, s, NULL) != SB_JSON_OBJ) return sb_seterr(err, SB_EINVAL, "sim: sqs must be an object of knobs");
    static const char *const known[] = {"visibility_timeout_s", "retention_s", "max_receive_count", "duplicate", "reorder",
                                        "lost", "delay_s", "double_encoded", "policy_allows_amazon", "down", NULL};
    int it = 0;
    const char *k;
    while (sb_json_next(j, s, &it, &k)) {
        int ok = 0;
        for (int i = 0; known[i]; i++) ok |= !strcmp(k, known[i]);
        if (!ok) return sb_seterr(err, SB_EINVAL, "sim: sqs.%s is not a knob (visibility_timeout_s, retention_s, "
                                                  "max_receive_count, duplicate, reorder, lost, delay_s, double_encoded, "
                                                  "policy_allows_amazon, down)", k);
    }
    if (sb_json_get(j, s, "visibility_timeout_s")) {
        double v = sb_json_num(j, s, "visibility_timeout_s", -1);
        if (!(v >= 0 && v <= 43200)) return sb_seterr(err, SB_EINVAL, "sim: sqs.visibility_timeout_s must be 0..43200");
        q->visibility_s = (int)v;
    }
    if (sb_json_get(j, s, "retention_s")) {
        double v = sb_json_num(j, s, "retention_s", -1);
        if (!(v >= 60 && v <= 1209600)) return sb_seterr(err, SB_EINVAL, "sim: sqs.retention_s must be 60..1209600");
        q->retention_s = (long)v;
    }
    if (sb_json_get(j, s, "max_receive_count")) {
        double v = sb_json_num(j, s, "max_receive_count", -1);
        if (!(v >= 0 && v <= 1000)) return sb_seterr(err, SB_EINVAL, "sim: sqs.max_receive_count must be 0 (no dead-letter queue) .. 1000");
        q->max_receive = (int)v;
    }
    if (sb_json_get(j, s, "delay_s")) {
        double v = sb_json_num(j, s, "delay_s", -1);
        if (!(v >= 0 && v <= 86400 * 14)) return sb_seterr(err, SB_EINVAL, "sim: sqs.delay_s must be 0..1209600 seconds");
        q->delay_s = v;
    }
    if ((rc = prob(j, s, "duplicate", &q->duplicate, err)) || (rc = prob(j, s, "reorder", &q->reorder, err)) ||
        (rc = prob(j, s, "lost", &q->lost, err)) || (rc = prob(j, s, "double_encoded", &q->double_encoded, err)))
        return rc;
    if (sb_json_get(j, s, "policy_allows_amazon")) q->policy_allows = sb_json_bool(j, s, "policy_allows_amazon", 1);
    if (sb_json_get(j, s, "down")) q->down = sb_json_bool(j, s, "down", 0);
    return 0;
}

/* ---- protocol ---- */

int sim_sqs_target(sim_req *rq, char *op, size_t n) {
    if (strcmp(rq->method, "POST")) return 0;
    const char *t = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "X-Amz-Target");
    if (!t || strncmp(t, "AmazonSQS.", 10) || strlen(t + 10) >= n) return 0;
    snprintf(op, n, "%s", t + 10);
    return 1;
}

void sim_sqs_error(sim_resp *rs, int status, const char *type, const char *msg) {
    sb_jw w;
    rs->status = status;
    rs->ctype = "application/x-amz-json-1.0";
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    char t[128];
    snprintf(t, sizeof t, "com.amazonaws.sqs#%s", type);
    sb_jw_kstr(&w, "__type", t);
    sb_jw_kstr(&w, "message", msg);
    sb_jw_end_obj(&w);
}

static int chance(sb_sim *sim, double p) {
    return p > 0 && (p >= 1 || (double)(sim_rand(sim) % 1000000) / 1e6 < p);
}

static uint64_t id_rand(struct sim_sqs *q) {   /* splitmix64 */
    uint64_t z = (q->idrng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A UUID-like (version 4 layout) id. */
static void uuid(sb_sim *sim, char *out, size_t n) {
    uint64_t a = id_rand(sim->sqs), b = id_rand(sim->sqs);
    snprintf(out, n, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffULL));
}

/* Appends (or, at_front, inserts first) a message; 0 or SB_ENOMEM / SB_EINVAL (full). */
static int enqueue(sb_sim *sim, const char *body, int64_t visible_at, int at_front, char *id_out, size_t idn) {
    struct sim_sqs *q = sim->sqs;
    if (q->n >= SIM_SQS_MAX_MESSAGES) return SB_EINVAL;
    if (q->n == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 64;
        sqs_msg *m = realloc(q->m, nc * sizeof *m);
        if (!m) return SB_ENOMEM;
        q->m = m;
        q->cap = nc;
    }
    sqs_msg e = {0};
    if (!(e.body = strdup(body))) return SB_ENOMEM;
    uuid(sim, e.id, sizeof e.id);
    e.sent_ms = sim_now_ms(sim);
    e.visible_at = visible_at;
    if (at_front && q->n) {
        memmove(q->m + 1, q->m, q->n * sizeof *q->m);
        q->m[0] = e;
    } else q->m[q->n] = e;
    q->n++;
    if (id_out) snprintf(id_out, idn, "%s", e.id);
    pthread_cond_broadcast(&q->cv);
    return 0;
}

/* Amazon delivers body: the delivery knobs apply. With sim->mu held. */
static int deliver_locked(sb_sim *sim, const char *body) {
    struct sim_sqs *q = sim->sqs;
    if (strlen(body) > SQS_MAX_BODY) return SB_EINVAL;
    if (!q->policy_allows) { q->refused++; return 0; }   /* Amazon may not send: nothing, silently */
    if (chance(sim, q->lost)) { q->lost_count++; return 0; }
    int64_t vis = sim_now_ms(sim) + (int64_t)(q->delay_s * 1000);
    int copies = chance(sim, q->duplicate) ? 2 : 1;
    if (copies == 2) q->duplicated++;
    int rc = 0;
    for (int c = 0; c < copies && !rc; c++) rc = enqueue(sim, body, vis, chance(sim, q->reorder), NULL, 0);
    return rc;
}

int sim_sqs_push(sb_sim *sim, const char *body) {
    pthread_mutex_lock(&sim->mu);
    int rc = deliver_locked(sim, body);
    pthread_mutex_unlock(&sim->mu);
    return rc;
}

void sim_sqs_stats_get(sb_sim *sim, sim_sqs_stats *out) {
    pthread_mutex_lock(&sim->mu);
    struct sim_sqs *q = sim->sqs;
    *out = (sim_sqs_stats){(long)q->n, (long)q->ndead, q->waiting, q->notified, q->lost_count, q->duplicated, q->refused};
    pthread_mutex_unlock(&sim->mu);
}

char *sim_sqs_body(sb_sim *sim, size_t i) {
    pthread_mutex_lock(&sim->mu);
    char *b = i < sim->sqs->n ? strdup(sim->sqs->m[i].body) : NULL;
    pthread_mutex_unlock(&sim->mu);
    return b;
}

static sqs_msg *by_handle(struct sim_sqs *q, const char *h, size_t *idx, int *stale) {
    *stale = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (!strcmp(q->m[i].handle, h)) { *idx = i; return &q->m[i]; }
        size_t l = strlen(q->m[i].id);
        /* a handle of an earlier receive of a message still there: SQS's no-op */
        if (!strncmp(h, "AQEB", 4) && !strncmp(h + 4, q->m[i].id, l) && h[4 + l] == '-') { *stale = 1; *idx = i; return &q->m[i]; }
    }
    return NULL;
}

static void ok_json(sim_resp *rs) {
    rs->status = 200;
    rs->ctype = "application/x-amz-json-1.0";
    sb_buf_reset(&rs->body);
}

static void attr_str(sb_jw *w, const char *k, long long v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    sb_jw_kstr(w, k, b);
}

static void h_attributes(sb_sim *sim, sim_resp *rs) {
    struct sim_sqs *q = sim->sqs;
    sb_jw w;
    char pol[768], rd[256];
    long visible = 0, hidden = 0, delayed = 0;
    int64_t now = sim_now_ms(sim);
    for (size_t i = 0; i < q->n; i++) {
        if (q->m[i].visible_at <= now) visible++;
        else if (q->m[i].receives) hidden++;
        else delayed++;
    }
    ok_json(rs);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    sb_jw_key(&w, "Attributes");
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "QueueArn", SIM_SQS_ARN);
    sb_jw_kstr(&w, "FifoQueue", "false");
    attr_str(&w, "VisibilityTimeout", q->visibility_s);
    attr_str(&w, "MessageRetentionPeriod", q->retention_s);
    attr_str(&w, "MaximumMessageSize", SQS_MAX_BODY);
    attr_str(&w, "ReceiveMessageWaitTimeSeconds", 0);
    attr_str(&w, "DelaySeconds", 0);
    attr_str(&w, "ApproximateNumberOfMessages", visible);
    attr_str(&w, "ApproximateNumberOfMessagesNotVisible", hidden);
    attr_str(&w, "ApproximateNumberOfMessagesDelayed", delayed);
    snprintf(pol, sizeof pol,
             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"%s\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
             "\"arn:aws:iam::%s:root\"},\"Action\":[\"sqs:SendMessage\",\"sqs:GetQueueAttributes\"],\"Resource\":\"%s\"}]}",
             q->policy_allows ? "AllowSellingPartnerAPI" : "AllowOwnAccountOnly",
             q->policy_allows ? "437568002678" : SIM_SQS_ACCOUNT, SIM_SQS_ARN);
    sb_jw_kstr(&w, "Policy", pol);
    if (q->max_receive > 0) {
        snprintf(rd, sizeof rd, "{\"deadLetterTargetArn\":\"%s-dlq\",\"maxReceiveCount\":%d}", SIM_SQS_ARN, q->max_receive);
        sb_jw_kstr(&w, "RedrivePolicy", rd);
    }
    sb_jw_end_obj(&w);
    sb_jw_end_obj(&w);
}

/* Moves message i to the dead-letter list (keeps its body). */
static void to_dead(struct sim_sqs *q, size_t i) {
    if (q->ndead == q->capdead) {
        size_t nc = q->capdead ? q->capdead * 2 : 16;
        sqs_msg *d = realloc(q->dead, nc * sizeof *d);
        if (!d) return;   /* kept in the queue: tried again next time */
        q->dead = d;
        q->capdead = nc;
    }
    q->dead[q->ndead++] = q->m[i];
    memmove(q->m + i, q->m + i + 1, (q->n - i - 1) * sizeof *q->m);
    q->n--;
}

/* Takes up to max visible messages: their index into idx; 0..max. */
static int take_visible(sb_sim *sim, int max, int vis_s, size_t *idx) {
    struct sim_sqs *q = sim->sqs;
    int64_t now = sim_now_ms(sim);
    int got = 0;
    for (size_t i = 0; i < q->n && got < max;) {
        sqs_msg *m = &q->m[i];
        if (now - m->sent_ms > (int64_t)q->retention_s * 1000) {   /* past retention: gone */
            free(m->body);
            memmove(q->m + i, q->m + i + 1, (q->n - i - 1) * sizeof *q->m);
            q->n--;
            continue;
        }
        if (m->visible_at > now) { i++; continue; }
        if (q->max_receive > 0 && m->receives >= q->max_receive) {
            size_t before = q->n;
            to_dead(q, i);
            if (q->n < before) continue;
        }
        m->receives++;
        if (!m->first_receive_ms) m->first_receive_ms = now;
        m->visible_at = now + (int64_t)vis_s * 1000;
        snprintf(m->handle, sizeof m->handle, "AQEB%s-%d-%08llx", m->id, m->receives,
                 (unsigned long long)(sim_rand(sim) & 0xffffffffULL));
        idx[got++] = i++;
    }
    return got;
}

/* The client of a long poll hung up (gave up, or its engine stopped): the wait ends. */
static int client_gone(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return 0;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return 0;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return 1;
    char b;
    return recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static void h_receive(sb_sim *sim, sim_req *rq, sim_resp *rs, sb_json *j) {
    struct sim_sqs *q = sim->sqs;
    int max = (int)sb_json_num(j, SB_JSON_ROOT, "MaxNumberOfMessages", 1);
    double wait = sb_json_num(j, SB_JSON_ROOT, "WaitTimeSeconds", 0);
    double vis = sb_json_num(j, SB_JSON_ROOT, "VisibilityTimeout", q->visibility_s);
    if (max < 1 || max > 10) {
        sim_sqs_error(rs, 400, "InvalidParameterValue", "Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.");
        return;
    }
    if (!(wait >= 0 && wait <= 20)) {
        sim_sqs_error(rs, 400, "InvalidParameterValue", "Value for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.");
        return;
    }
    if (!(vis >= 0 && vis <= 43200)) {
        sim_sqs_error(rs, 400, "InvalidParameterValue", "Value for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.");
        return;
    }
    size_t idx[10];
    int64_t deadline = sim_now_ms(sim) + (int64_t)(wait * 1000);
    int got = take_visible(sim, max, (int)vis, idx);
    q->waiting++;
    while (!got && !sim->stopping && !client_gone(rq->c)) {
        int64_t left = deadline - sim_now_ms(sim);
        if (left <= 0) break;
        int64_t real = sb_clock_real_ms(left);
        if (real > 50) real = 50;   /* look at the clock again: it may be fake or scaled */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)(real % 1000) * 1000000L;
        ts.tv_sec += (time_t)(real / 1000) + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&q->cv, &sim->mu, &ts);
        sim_changes_apply_due(sim);   /* a scheduled change due meanwhile notifies now */
        got = take_visible(sim, max, (int)vis, idx);
    }
    q->waiting--;
    sb_jw w;
    ok_json(rs);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    sb_jw_key(&w, "Messages");
    sb_jw_arr(&w);
    for (int i = 0; i < got; i++) {
        sqs_msg *m = &q->m[idx[i]];
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "MessageId", m->id);
        sb_jw_kstr(&w, "ReceiptHandle", m->handle);
        sb_jw_kstr(&w, "Body", m->body);
        sb_jw_key(&w, "Attributes");
        sb_jw_obj(&w);
        attr_str(&w, "ApproximateReceiveCount", m->receives);
        attr_str(&w, "SentTimestamp", m->sent_ms);
        attr_str(&w, "ApproximateFirstReceiveTimestamp", m->first_receive_ms);
        sb_jw_end_obj(&w);
        sb_jw_end_obj(&w);
    }
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
}

void sim_sqs_handle(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *op) {
    struct sim_sqs *q = sim->sqs;
    sb_json *j = NULL;
    char err[SB_ERRLEN];
    const char *auth = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Authorization");
    const char *ct = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Content-Type");
    if (!auth || strncmp(auth, "AWS4-HMAC-SHA256 ", 17)) {
        sim_sqs_error(rs, 403, "MissingAuthenticationToken", "Request is missing Authentication Token (a Signature V4 Authorization header)");
        return;
    }
    if (q->down) {
        sim_sqs_error(rs, 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.");
        return;
    }
    if (!ct || strcmp(ct, "application/x-amz-json-1.0")) {
        char m[160];
        snprintf(m, sizeof m, "Content-Type must be application/x-amz-json-1.0, not '%.80s'", ct ? ct : "");
        sim_sqs_error(rs, 400, "InvalidParameterValue", m);
        return;
    }
    if (!sim_sqs_known_op(op)) {
        char m[160];
        snprintf(m, sizeof m, "The action %.60s is not valid for this endpoint.", op);
        sim_sqs_error(rs, 400, "InvalidAction", m);
        return;
    }
    if (sb_json_parse(rq->body.data ? rq->body.data : "", rq->body.len, &j, err) ||
        sb_json_type(j, SB_JSON_ROOT, NULL) != SB_JSON_OBJ) {
        sim_sqs_error(rs, 400, "SerializationException", "The request body is not a JSON object");
        goto out;
    }
    if (!strcmp(op, "GetQueueUrl")) {
        const char *name = sb_json_str(j, SB_JSON_ROOT, "QueueName");
        if (!name || strcmp(name, SIM_SQS_NAME)) { sim_sqs_error(rs, 400, "QueueDoesNotExist", "The specified queue does not exist."); goto out; }
        char u[160];
        snprintf(u, sizeof u, "%s/%s/%s", sim->url, SIM_SQS_ACCOUNT, SIM_SQS_NAME);
        ok_json(rs);
        sb_jw w;
        sb_jw_init(&w, &rs->body);
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "QueueUrl", u);
        sb_jw_end_obj(&w);
        goto out;
    }
    const char *url = sb_json_str(j, SB_JSON_ROOT, "QueueUrl");
    const char *tail = "/" SIM_SQS_ACCOUNT "/" SIM_SQS_NAME;
    if (!url || strlen(url) < strlen(tail) || strcmp(url + strlen(url) - strlen(tail), tail)) {
        sim_sqs_error(rs, 400, "QueueDoesNotExist", "The specified queue does not exist.");
        goto out;
    }
    if (!strcmp(op, "SendMessage")) {
        const char *body = sb_json_str(j, SB_JSON_ROOT, "MessageBody");
        if (!body || !*body) { sim_sqs_error(rs, 400, "MissingParameter", "The request must contain the parameter MessageBody."); goto out; }
        if (strlen(body) > SQS_MAX_BODY) {
            sim_sqs_error(rs, 400, "InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.");
            goto out;
        }
        double d = sb_json_num(j, SB_JSON_ROOT, "DelaySeconds", 0);
        if (!(d >= 0 && d <= 900)) { sim_sqs_error(rs, 400, "InvalidParameterValue", "Value for parameter DelaySeconds is invalid."); goto out; }
        char id[40];
        int rc = enqueue(sim, body, sim_now_ms(sim) + (int64_t)(d * 1000), 0, id, sizeof id);
        if (rc) { sim_sqs_error(rs, rc == SB_EINVAL ? 400 : 500, rc == SB_EINVAL ? "OverLimit" : "InternalError", "The queue is full."); goto out; }
        ok_json(rs);
        sb_jw w;
        sb_jw_init(&w, &rs->body);
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "MessageId", id);
        sb_jw_end_obj(&w);
    } else if (!strcmp(op, "ReceiveMessage")) {
        h_receive(sim, rq, rs, j);
    } else if (!strcmp(op, "DeleteMessage") || !strcmp(op, "ChangeMessageVisibility")) {
        const char *h = sb_json_str(j, SB_JSON_ROOT, "ReceiptHandle");
        size_t i;
        int stale;
        sqs_msg *m = h ? by_handle(q, h, &i, &stale) : NULL;
        if (!h || (!m && strncmp(h, "AQEB", 4))) {
            sim_sqs_error(rs, 400, "ReceiptHandleIsInvalid", "The input receipt handle is invalid.");
            goto out;
        }
        if (!strcmp(op, "DeleteMessage")) {
            if (m && !stale) {   /* an older handle, or one of a message already gone: a no-op */
                free(m->body);
                memmove(q->m + i, q->m + i + 1, (q->n - i - 1) * sizeof *q->m);
                q->n--;
            }
        } else {
            double v = sb_json_num(j, SB_JSON_ROOT, "VisibilityTimeout", -1);
            if (!(v >= 0 && v <= 43200)) { sim_sqs_error(rs, 400, "InvalidParameterValue", "Value for parameter VisibilityTimeout is invalid."); goto out; }
            if (!m || stale) { sim_sqs_error(rs, 400, "MessageNotInflight", "The message referred to is not in flight."); goto out; }
            m->visible_at = sim_now_ms(sim) + (int64_t)(v * 1000);
            if (!v) pthread_cond_broadcast(&q->cv);
        }
        ok_json(rs);
        sb_buf_append(&rs->body, "{}", 2);
    } else if (!strcmp(op, "GetQueueAttributes")) {
        h_attributes(sim, rs);
    }
out:
    sb_json_free(j);
}

/* ---- ORDER_CHANGE ---- */

static const char *v0_status(const char *s) {
    static const char *const map[][2] = {{"PENDING_AVAILABILITY", "PendingAvailability"}, {"PENDING", "Pending"},
                                         {"UNSHIPPED", "Unshipped"}, {"PARTIALLY_SHIPPED", "PartiallyShipped"},
                                         {"SHIPPED", "Shipped"}, {"CANCELLED", "Canceled"},
                                         {"UNFULFILLABLE", "Unfulfillable"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(s, map[i][0])) return map[i][1];
    return "Pending";
}

static int subscribed(sb_sim *sim) {
    return sim->sqs && (sim->sqs->subscribed_knob ||
                        (sim->order_change_subscribed && !strcmp(sim->order_change_arn, SIM_SQS_ARN)));
}

void sim_sqs_order_event(sb_sim *sim, const sim_order *o, const char *prev_status, int buyer_cancel) {
    struct sim_sqs *q = sim->sqs;
    if (!subscribed(sim)) return;
    if (prev_status && !buyer_cancel && !strcmp(prev_status, o->status)) return;   /* not an important change */
    sb_buf ob, nb, enc;
    sb_jw ow, w;
    sb_json *j = NULL;
    char err[SB_ERRLEN], ts[32], nid[40], reason[96];
    sb_buf_init(&ob, 16u << 20);
    sb_buf_init(&nb, SQS_MAX_BODY * 2);
    sb_buf_init(&enc, SQS_MAX_BODY * 2);
    sb_jw_init(&ow, &ob);
    sim_order_write(sim, o, &ow);
    if (sb_jw_error(&ow) || !ob.data || sb_json_parse(ob.data, ob.len, &j, err)) {
        sb_warn("sim: ORDER_CHANGE for %s not sent: the order does not render", o->id);
        goto out;
    }
    const char *status = v0_status(o->status);
    if (buyer_cancel) snprintf(reason, sizeof reason, "Buyer Requested Cancel");
    else if (!prev_status) snprintf(reason, sizeof reason, "New order (%s)", status);
    else snprintf(reason, sizeof reason, "Order status changed from %s to %s", v0_status(prev_status), status);
    int64_t now = sim_now_ms(sim);
    sb_jw_init(&w, &nb);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "NotificationVersion", "1.0");
    sb_jw_kstr(&w, "NotificationType", "ORDER_CHANGE");
    sb_jw_kstr(&w, "PayloadVersion", "1.0");
    sb_jw_kstr(&w, "EventTime", sb_time_format_ms(now, ts, sizeof ts));
    sb_jw_key(&w, "Payload");
    sb_jw_obj(&w);
    sb_jw_key(&w, "OrderChangeNotification");
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "NotificationLevel", "OrderLevel");
    sb_jw_kstr(&w, "SellerId", sim->seller_id);
    sb_jw_kstr(&w, "AmazonOrderId", o->id);
    sb_jw_kstr(&w, "OrderChangeType", buyer_cancel ? "BuyerRequestedChange" : "OrderStatusChange");
    sb_jw_key(&w, "OrderChangeTrigger");
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "TimeOfOrderChange", sb_time_format_ms(o->updated, ts, sizeof ts));
    sb_jw_kstr(&w, "ChangeReason", reason);
    sb_jw_end_obj(&w);
    sb_jw_key(&w, "Summary");
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "MarketplaceId", o->mp);
    sb_jw_kstr(&w, "OrderStatus", status);
    sb_jw_kstr(&w, "PurchaseDate", sb_time_format_ms(o->created, ts, sizeof ts));
    sb_jw_kstr(&w, "DestinationPostalCode", sb_json_str(j, SB_JSON_ROOT, "recipient.deliveryAddress.postalCode"));
    sb_jw_kstr(&w, "FulfillmentType", !strcmp(o->fb, "AMAZON") ? "AFN" : "MFN");
    sb_jw_kstr(&w, "OrderType", "StandardOrder");
    int items = sb_json_get(j, SB_JSON_ROOT, "orderItems");
    size_t ni = sb_json_len(j, items, NULL);
    long shipped = 0, unshipped = 0;
    sb_jw_key(&w, "OrderItems");
    sb_jw_arr(&w);
    for (size_t i = 0; i < ni && i < 100; i++) {
        int it = sb_json_at(j, items, i);
        long qty = (long)sb_json_int(j, it, "quantityOrdered", 0);
        long qs = (long)sb_json_int(j, it, "fulfillment.quantityFulfilled", 0);
        shipped += qs;
        unshipped += qty > qs ? qty - qs : 0;
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "OrderItemId", sb_json_str(j, it, "orderItemId"));
        sb_jw_kstr(&w, "SellerSKU", sb_json_str(j, it, "product.sellerSku"));
        sb_jw_key(&w, "SupplySourceId");
        sb_jw_null(&w);
        sb_jw_kint(&w, "Quantity", qty);
        sb_jw_kint(&w, "QuantityShipped", qs);
        if (buyer_cancel) sb_jw_kbool(&w, "IsBuyerRequestedCancel", 1);
        sb_jw_end_obj(&w);
    }
    sb_jw_end_arr(&w);
    sb_jw_kint(&w, "NumberOfItemsShipped", shipped);
    sb_jw_kint(&w, "NumberOfItemsUnshipped", unshipped);
    sb_jw_end_obj(&w);   /* Summary */
    sb_jw_end_obj(&w);   /* OrderChangeNotification */
    sb_jw_end_obj(&w);   /* Payload */
    uuid(sim, nid, sizeof nid);
    sb_jw_key(&w, "NotificationMetadata");
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "ApplicationId", "amzn1.sellerapps.app.sellerbridge-sim");
    sb_jw_kstr(&w, "SubscriptionId", "sim-subscription-order-change");
    sb_jw_kstr(&w, "PublishTime", sb_time_format_ms(now, ts, sizeof ts));
    sb_jw_kstr(&w, "NotificationId", nid);
    sb_jw_end_obj(&w);
    sb_jw_end_obj(&w);
    if (sb_jw_error(&w) || !nb.data) { sb_warn("sim: ORDER_CHANGE for %s not sent: too large", o->id); goto out; }
    const char *body = nb.data;
    if (chance(sim, q->double_encoded)) {   /* the body is a JSON string holding the JSON */
        sb_jw ew;
        sb_jw_init(&ew, &enc);
        sb_jw_str(&ew, nb.data);
        if (!sb_jw_error(&ew) && enc.data) body = enc.data;
    }
    q->notified++;
    if (deliver_locked(sim, body)) sb_warn("sim: ORDER_CHANGE for %s not queued (queue full or body too large)", o->id);
out:
    sb_json_free(j);
    sb_buf_free(&ob);
    sb_buf_free(&nb);
    sb_buf_free(&enc);
}
