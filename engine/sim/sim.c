/* sim.c: the simulator's server half: libmicrohttpd on 127.0.0.1 (a thread per
 * connection, so a "delay" fault stalls only its own connection), request routing, the
 * LWA token endpoint, access-token checks, per-operation token buckets, fault injection,
 * the request log and the /_sim/ admin endpoints. The idea to read it by: each request is
 * collected whole, then handled in one step under sim->mu (route -> fault -> auth ->
 * bucket -> sandbox case -> handler), and the response is post-processed for the
 * body-level faults (truncate, badjson, drop) after the lock is released.
 *
 * Why one file: the request path (route, fault, auth, bucket, handler) and the admin
 * endpoints share the server's lock and state. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>
#include "core/clock.h"
#include "core/log.h"
#include "sim/sim_int.h"

/* Operations: name, Amazon's default rate and burst. Index = bucket index. */
static const struct { const char *name; double rate, burst; } ops[] = {
    {"searchOrders", 0.0056, 20}, {"getOrder", 0.5, 30}, {"confirmShipment", 2, 10},
    {"createFeedDocument", 0.5, 15}, {"createFeed", 0.0083, 15}, {"getFeed", 2, 15},
    {"getFeedDocument", 0.0222, 10}, {"createReport", 0.0167, 15}, {"getReport", 2, 15},
    {"getReportDocument", 0.0167, 15}, {"searchListingsItems", 5, 5}, {"patchListingsItem", 5, 5},
    {"getListingsItem", 5, 10}, {"lwaToken", 0, 0}, {"document", 0, 0}, {"getFeeds", 0.0222, 10},
    {"getReports", 0.0222, 10},
    {"createDestination", 1, 5}, {"getDestinations", 1, 5}, {"createSubscription", 1, 5}, {"getSubscription", 1, 5},
};
enum { OP_SEARCH, OP_GET_ORDER, OP_CONFIRM, OP_CFD, OP_CF, OP_GF, OP_GFD, OP_CR, OP_GR, OP_GRD, OP_SLI, OP_PLI,
       OP_GLI, OP_LWA, OP_DOC, OP_GFS, OP_GRS, OP_CDST, OP_GDST, OP_CSUB, OP_GSUB, NOPS };

/* Grantless operations (Notifications API destinations): they take the application's
 * client_credentials token and refuse the seller's; every other operation the reverse. */
static int op_grantless(int op) { return op == OP_CDST || op == OP_GDST; }

/* The operations that change something at Amazon (POST, PATCH, PUT): the ones a
 * post-commit fault applies to. "document" is the PUT of a feed upload. */
static int op_writes(int op) {
    return op == OP_CONFIRM || op == OP_CFD || op == OP_CF || op == OP_CR || op == OP_PLI || op == OP_LWA || op == OP_DOC ||
           op == OP_CDST || op == OP_CSUB;
}

static const char *marketplaces[][2] = {
    {"ATVPDKIKX0DER", "USD"}, {"A2EUQ1WTGCTBG2", "CAD"}, {"A1AM78C64UM0Y8", "MXN"}, {"A2Q3Y263D00KWC", "BRL"},
    {"A1F83G8C2ARO7P", "GBP"}, {"A1PA6795UKMFR9", "EUR"}, {"A13V1IB3VIYZZH", "EUR"}, {"APJ6JRA9NG5V4", "EUR"},
    {"A1RKKUPIHCS9HS", "EUR"}, {"A1805IZSGTT6HS", "EUR"}, {"A2NODRKZP88ZB9", "SEK"}, {"A1C3SOZRARQ6R3", "PLN"},
    {"AMEN7PMS3EDWL", "EUR"}, {"A28R8C7NBKEWEA", "EUR"}, {"A33AVAJ2PDY3EV", "TRY"}, {"A2VIGQ35RCS4UG", "AED"},
    {"A17E79C6D8DWNP", "SAR"}, {"ARBP9OOSHTCHU", "EGP"}, {"AE08WJ6YKNBMC", "ZAR"}, {"A21TJRUUN4KGV", "INR"},
    {"A1VC38T7YXB528", "JPY"}, {"A39IBJ37TRP1C6", "AUD"}, {"A19VAU5U5O7RUS", "SGD"},
};

int sim_known_marketplace(const char *id) {
    for (size_t i = 0; i < sizeof marketplaces / sizeof *marketplaces; i++)
        if (!strcmp(marketplaces[i][0], id)) return 1;
    return 0;
}

const char *sim_currency(const char *mp) {
    for (size_t i = 0; i < sizeof marketplaces / sizeof *marketplaces; i++)
        if (!strcmp(marketplaces[i][0], mp)) return marketplaces[i][1];
    return "USD";
}

int64_t sim_now_ms(sb_sim *sim) {
    return (sim->opt.now_ms ? sim->opt.now_ms(sim->opt.now_ud) : sb_now_ms()) + sim->clock_offset_ms;
}

int64_t sim_scaled_ms(sb_sim *sim, double seconds) {
    double scale = sim->time_scale > 0 ? sim->time_scale : 1;
    return (int64_t)(seconds * 1000.0 / scale + 0.5);
}

uint64_t sim_rand(sb_sim *sim) {
    uint64_t z = (sim->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

const char *sim_arg(sim_req *rq, const char *name) {
    return MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, name);
}

void sim_json(sim_resp *rs, int status, const char *json) {
    rs->status = status;
    sb_buf_reset(&rs->body);
    if (json) sb_buf_append(&rs->body, json, strlen(json));
}

void sim_error(sim_resp *rs, int status, const char *code, const char *msg, const char *details) {
    sb_jw w;
    rs->status = status;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    sb_jw_key(&w, "errors");
    sb_jw_arr(&w);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "code", code);
    sb_jw_kstr(&w, "message", msg);
    if (details) sb_jw_kstr(&w, "details", details);
    sb_jw_end_obj(&w);
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
}

/* ---- base64 (pagination tokens) ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void sim_b64(const unsigned char *in, size_t n, char *out, size_t outlen) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < outlen; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

int sim_unb64(const char *in, unsigned char *out, size_t outlen) {
    size_t o = 0, len = strlen(in);
    if (len % 4) return -1;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            const char *p = in[i + k] == '=' ? NULL : strchr(b64, in[i + k]);
            if (in[i + k] == '=') { pad++; v <<= 6; continue; }
            if (!p || !in[i + k] || pad) return -1;
            v = v << 6 | (uint32_t)(p - b64);
        }
        if (o + 3 > outlen) return -1;
        out[o++] = (unsigned char)(v >> 16);
        if (pad < 2) out[o++] = (unsigned char)(v >> 8);
        if (pad < 1) out[o++] = (unsigned char)v;
    }
    return (int)o;
}

int sim_gzip(const char *in, size_t len, sb_buf *out) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return SB_ENOMEM;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    unsigned char chunk[16384];
    int zrc, rc = 0;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        zrc = deflate(&z, Z_FINISH);
        if ((rc = sb_buf_append(out, chunk, sizeof chunk - z.avail_out))) break;
    } while (zrc == Z_OK);
    deflateEnd(&z);
    return rc ? rc : zrc == Z_STREAM_END ? 0 : SB_ERR;
}

/* ---- access tokens ---- */

/* A grantless token (client_credentials) is told from a seller's by its prefix. */
#define GRANTLESS_PREFIX "Atza|simg-"
static void issue_token(sb_sim *sim, int grantless, char *out, size_t n) {
    int i = sim->ntok_next++ % SIM_MAX_TOKENS;
    snprintf(sim->tokens[i].tok, sizeof sim->tokens[i].tok, "%s%ld-%016llx", grantless ? GRANTLESS_PREFIX : "Atza|sim-",
             sim->seq, (unsigned long long)sim_rand(sim));
    sim->tokens[i].exp_ms = sim_now_ms(sim) + (int64_t)sim->token_ttl * 1000;
    snprintf(out, n, "%s", sim->tokens[i].tok);
}

/* LWA's answer to a grant: a new token, and the grant's own field (the scope asked for,
 * or the refresh token it came with). */
static void grant_token(sb_sim *sim, sim_resp *rs, int grantless, const char *key, const char *value) {
    char tok[96];
    sb_jw w;
    issue_token(sim, grantless, tok, sizeof tok);
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "access_token", tok);
    sb_jw_kstr(&w, key, value);
    sb_jw_kstr(&w, "token_type", "bearer");
    sb_jw_kint(&w, "expires_in", sim->token_ttl);
    sb_jw_end_obj(&w);
}

/* 0 valid, 1 missing, 2 unknown, 3 expired */
static int check_token(sb_sim *sim, const char *tok) {
    if (!tok || !*tok) return 1;
    for (int i = 0; i < SIM_MAX_TOKENS; i++)
        if (sim->tokens[i].tok[0] && !strcmp(sim->tokens[i].tok, tok))
            return sim_now_ms(sim) >= sim->tokens[i].exp_ms ? 3 : 0;
    return 2;
}

void sb_sim_expire_tokens(sb_sim *sim) {
    pthread_mutex_lock(&sim->mu);
    for (int i = 0; i < SIM_MAX_TOKENS; i++) sim->tokens[i].exp_ms = 0;
    pthread_mutex_unlock(&sim->mu);
}

void sb_sim_set_token_ttl(sb_sim *sim, int seconds) {
    pthread_mutex_lock(&sim->mu);
    sim->token_ttl = seconds > 0 ? seconds : 3600;
    pthread_mutex_unlock(&sim->mu);
}

/* ---- buckets ---- */

static void buckets_init(sb_sim *sim) {
    int64_t now = sim_now_ms(sim);
    for (int i = 0; i < NOPS; i++) {
        sim_bucket *b = &sim->buckets[i];
        b->rate = ops[i].rate * sim->time_scale;
        b->burst = ops[i].burst;
        b->tokens = b->burst;
        b->last_ms = now;
        b->header = 1;
    }
}

static int op_index(const char *name) {
    for (int i = 0; i < NOPS; i++)
        if (!strcmp(ops[i].name, name)) return i;
    return -1;
}

void sb_sim_set_rate(sb_sim *sim, const char *op, double rate, double burst, int send_header) {
    int i = op_index(op);
    if (i < 0) return;
    pthread_mutex_lock(&sim->mu);
    sim_bucket *b = &sim->buckets[i];
    b->rate = (rate > 0 ? rate : ops[i].rate) * sim->time_scale;
    b->burst = burst > 0 ? burst : ops[i].burst;
    if (b->tokens > b->burst) b->tokens = b->burst;
    b->header = send_header;
    pthread_mutex_unlock(&sim->mu);
}

static int bucket_take(sb_sim *sim, int op) {
    sim_bucket *b = &sim->buckets[op];
    if (sim->unthrottled || b->rate <= 0) return 1;
    int64_t now = sim_now_ms(sim);
    if (now > b->last_ms) {
        b->tokens += (double)(now - b->last_ms) * b->rate / 1000.0;
        if (b->tokens > b->burst) b->tokens = b->burst;
        b->last_ms = now;
    }
    if (b->tokens >= 1 - 1e-6) { b->tokens -= 1; return 1; }
    sim->throttled[op]++;
    return 0;
}

long sb_sim_throttled(sb_sim *sim, const char *op) {
    long n = 0;
    pthread_mutex_lock(&sim->mu);
    for (int i = 0; i < NOPS; i++)
        if (!op || !strcmp(op, ops[i].name)) n += sim->throttled[i];
    pthread_mutex_unlock(&sim->mu);
    return n;
}

/* ---- faults ---- */

static int fault_parse(sb_sim *sim, sb_json *j, int n, char *err) {
    if (sim->nfaults >= SIM_MAX_FAULTS) return sb_seterr(err, SB_EINVAL, "sim: at most %d faults", SIM_MAX_FAULTS);
    sim_fault f = {0};
    const char *op = sb_json_str(j, n, "op"), *kind = sb_json_str(j, n, "kind");
    if (!kind) {   /* allow "kind": 503 as a number */
        double k = sb_json_num(j, n, "kind", 0);
        if (k > 0) { snprintf(f.kind, sizeof f.kind, "%d", (int)k); kind = f.kind; }
    }
    static const char *kinds[] = {"500", "503", "429", "delay", "drop", "truncate", "badjson", "badtoken",
                                  "expiredtoken", "stuck", "stale", "403", "html", NULL};
    int ok = 0;
    for (int i = 0; kind && kinds[i]; i++) ok |= !strcmp(kinds[i], kind);
    if (!ok) return sb_seterr(err, SB_EINVAL, "sim: fault kind '%s' is not one of 500, 503, 429, delay, drop, "
                                               "truncate, badjson, badtoken, expiredtoken, stuck, stale, 403, html", kind ? kind : "");
    if (!strcmp(kind, "stale") && (!op || strcmp(op, "getOrder")))
        return sb_seterr(err, SB_EINVAL, "sim: a stale fault is for getOrder only");
    if (op && strcmp(op, "*") && op_index(op) < 0 && !sim_sqs_known_op(op))
        return sb_seterr(err, SB_EINVAL, "sim: fault op '%s' is not an operation name", op);
    /* a pre-signed document URL (upload or download) has no token, pages or feed status */
    if (op && !strcmp(op, "document") && strcmp(kind, "500") && strcmp(kind, "503") && strcmp(kind, "drop") &&
        strcmp(kind, "delay"))
        return sb_seterr(err, SB_EINVAL, "sim: fault kind '%s' does not apply to documents (500, 503, drop, delay)", kind);
    f.committed = sb_json_bool(j, n, "committed", 0);
    if (f.committed && strcmp(kind, "500") && strcmp(kind, "503") && strcmp(kind, "drop") && strcmp(kind, "delay"))
        return sb_seterr(err, SB_EINVAL, "sim: a committed fault is 500, 503, drop or delay, not '%s'", kind);
    if (f.committed && op && strcmp(op, "*") && !op_writes(op_index(op)))
        return sb_seterr(err, SB_EINVAL, "sim: a committed fault needs an operation that changes something "
                                         "(POST, PATCH or PUT), not '%s'", op);
    snprintf(f.op, sizeof f.op, "%s", op ? op : "*");
    snprintf(f.kind, sizeof f.kind, "%s", kind);
    f.probability = sb_json_num(j, n, "probability", 0);
    f.count = f.probability > 0 ? -1 : (long)sb_json_num(j, n, "count", 1);
    f.delay_ms = (long)sb_json_num(j, n, "delay_ms", 2000);
    f.after_bytes = (long)sb_json_num(j, n, "after_bytes", -1);
    f.skip = (long)sb_json_num(j, n, "skip", 0);
    sim->faults[sim->nfaults++] = f;
    return 0;
}

static int faults_load(sb_sim *sim, sb_json *j, int node, char *err) {
    int rc = 0;
    if (sb_json_type(j, node, NULL) == SB_JSON_ARR) {
        for (size_t i = 0; i < sb_json_len(j, node, NULL) && !rc; i++) rc = fault_parse(sim, j, sb_json_at(j, node, i), err);
    } else rc = fault_parse(sim, j, node, err);
    return rc;
}

/* Parses json and applies it with load under the simulator's lock (faults, settings). */
static int load_locked(sb_sim *sim, const char *json, int (*load)(sb_sim *, sb_json *, int, char *), char *err) {
    sb_json *j = NULL;
    int rc = sb_json_parse(json, strlen(json), &j, err);
    if (rc) return rc;
    pthread_mutex_lock(&sim->mu);
    rc = load(sim, j, SB_JSON_ROOT, err);
    pthread_mutex_unlock(&sim->mu);
    sb_json_free(j);
    return rc;
}

int sb_sim_fault_add(sb_sim *sim, const char *json, char *err) { return load_locked(sim, json, faults_load, err); }

void sb_sim_faults_clear(sb_sim *sim) {
    pthread_mutex_lock(&sim->mu);
    sim->nfaults = 0;
    pthread_mutex_unlock(&sim->mu);
}

/* The fault that applies to this call of op, or NULL; consumes one count. committed
 * picks the post-commit faults (asked once the operation took effect) or the others. */
static int take_fault(sb_sim *sim, const char *op, int committed, sim_fault *out) {
    for (int i = 0; i < sim->nfaults; i++) {
        sim_fault *f = &sim->faults[i];
        if (f->committed != committed) continue;
        if (strcmp(f->op, "*") && strcmp(f->op, op)) continue;
        if (!strcmp(op, "document") && strcmp(f->op, "document")) continue;   /* named, never by "*" */
        if (f->count == 0) continue;
        if (f->skip > 0) { f->skip--; continue; }
        if (f->count < 0) {
            if ((double)(sim_rand(sim) % 1000000) / 1e6 >= f->probability) continue;
        } else f->count--;
        *out = *f;
        return 1;
    }
    return 0;
}

/* ---- request log ---- */

typedef struct hdr_ctx { sb_jw *w; } hdr_ctx;

static enum MHD_Result log_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    sb_jw *w = cls;
    char lk[128];
    size_t i = 0;
    for (; key[i] && i < sizeof lk - 1; i++) lk[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
    lk[i] = '\0';
    sb_jw_key(w, lk);
    if (!strcmp(lk, "x-amz-access-token") || !strcmp(lk, "authorization")) sb_jw_str(w, "****");
    else sb_jw_str(w, value ? value : "");
    return MHD_YES;
}

static enum MHD_Result log_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    sb_jw *w = cls;
    sb_jw_kstr(w, key, value ? value : "");
    return MHD_YES;
}

static void mask_in(char *s, const char *secret) {
    size_t n = strlen(secret);
    char *p;
    if (n < 4) return;
    while ((p = strstr(s, secret))) {
        memcpy(p, "****", 4);
        memmove(p + 4, p + n, strlen(p + n) + 1);
    }
}

static void record(sb_sim *sim, sim_req *rq, const char *opname, int status, const char *logged_body) {
    sb_buf b;
    sb_buf_init(&b, 1 << 20);
    sb_jw w;
    sb_jw_init(&w, &b);
    const char *q = strchr(rq->raw_uri ? rq->raw_uri : "", '?');
    sb_jw_obj(&w);
    sb_jw_kint(&w, "seq", sim->seq);
    sb_jw_kstr(&w, "op", opname);
    sb_jw_kstr(&w, "method", rq->method);
    sb_jw_kstr(&w, "path", rq->path);
    sb_jw_kstr(&w, "query", q ? q + 1 : "");
    sb_jw_key(&w, "args");
    sb_jw_obj(&w);
    MHD_get_connection_values(rq->c, MHD_GET_ARGUMENT_KIND, log_arg, &w);
    sb_jw_end_obj(&w);
    sb_jw_key(&w, "headers");
    sb_jw_obj(&w);
    MHD_get_connection_values(rq->c, MHD_HEADER_KIND, log_header, &w);
    sb_jw_end_obj(&w);
    const char *body = logged_body ? logged_body : rq->body.data ? rq->body.data : "";
    size_t blen = strlen(body);
    sb_jw_key(&w, "body");
    sb_jw_strn(&w, body, blen > 65536 ? 65536 : blen);
    sb_jw_kint(&w, "status", status);
    sb_jw_end_obj(&w);
    if (sb_jw_error(&w) || !b.data) { sb_buf_free(&b); return; }
    mask_in(b.data, sim->client_secret);
    mask_in(b.data, sim->refresh_token);
    if (sim->nlog >= SIM_MAX_LOG) {   /* keep the newest */
        free(sim->log[0]);
        memmove(sim->log, sim->log + 1, (sim->nlog - 1) * sizeof *sim->log);
        sim->nlog--;
    }
    if (!sim->log) sim->log = calloc(SIM_MAX_LOG, sizeof *sim->log);
    if (sim->log) sim->log[sim->nlog++] = b.data;
    else sb_buf_free(&b);
    if (sim->opt.log_requests) sb_info("sim request %s %s status=%d", rq->method, rq->path, status);
}

int sb_sim_requests_json(sb_sim *sim, sb_buf *out) {
    int rc = 0;
    pthread_mutex_lock(&sim->mu);
    rc = sb_buf_append(out, "[", 1);
    for (size_t i = 0; i < sim->nlog && !rc; i++) {
        if (i) rc = sb_buf_append(out, ",", 1);
        if (!rc) rc = sb_buf_append(out, sim->log[i], strlen(sim->log[i]));
    }
    if (!rc) rc = sb_buf_append(out, "]", 1);
    pthread_mutex_unlock(&sim->mu);
    return rc;
}

size_t sb_sim_request_count(sb_sim *sim) {
    pthread_mutex_lock(&sim->mu);
    size_t n = sim->nlog;
    pthread_mutex_unlock(&sim->mu);
    return n;
}

static void log_clear_locked(sb_sim *sim) {
    for (size_t i = 0; i < sim->nlog; i++) free(sim->log[i]);
    sim->nlog = 0;
}

void sb_sim_requests_clear(sb_sim *sim) {
    pthread_mutex_lock(&sim->mu);
    log_clear_locked(sim);
    pthread_mutex_unlock(&sim->mu);
}

/* ---- LWA ---- */

typedef struct form { sb_buf f[5]; } form;
static const char *form_keys[] = {"grant_type", "refresh_token", "client_id", "client_secret", "scope"};
#define NFORM 5

static enum MHD_Result form_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                 const char *ctype, const char *enc, const char *data, uint64_t off, size_t size) {
    form *f = cls;
    for (int i = 0; i < NFORM; i++)
        if (!strcmp(key, form_keys[i])) sb_buf_append(&f->f[i], data ? data : "", size);
    return MHD_YES;
}

static void h_lwa(sb_sim *sim, sim_req *rq, sim_resp *rs, sb_buf *logged) {
    form f;
    for (int i = 0; i < NFORM; i++) { sb_buf_init(&f.f[i], 8192); sb_buf_append(&f.f[i], "", 0); }
    const char *ct = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Content-Type");
    if (ct && strstr(ct, "json")) {
        sb_json *j = NULL;
        char e[SB_ERRLEN];
        if (rq->body.len && !sb_json_parse(rq->body.data, rq->body.len, &j, e)) {
            for (int i = 0; i < NFORM; i++) {
                const char *v = sb_json_str(j, SB_JSON_ROOT, form_keys[i]);
                if (v) sb_buf_append(&f.f[i], v, strlen(v));
            }
            sb_json_free(j);
        }
    } else if (rq->body.len) {
        struct MHD_PostProcessor *pp = MHD_create_post_processor(rq->c, 4096, form_iter, &f);
        if (pp) {
            MHD_post_process(pp, rq->body.data, rq->body.len);
            MHD_destroy_post_processor(pp);
        }
    }
    const char *grant = f.f[0].data, *rt = f.f[1].data, *cid = f.f[2].data, *cs = f.f[3].data, *scope = f.f[4].data;
    sb_buf_printf(logged, "grant_type=%s&refresh_token=%s&client_id=%s&client_secret=%s", grant, *rt ? "****" : "",
                  cid, *cs ? "****" : "");
    if (*scope) sb_buf_printf(logged, "&scope=%s", scope);
    int grantless = !strcmp(grant, "client_credentials");
    rs->status = 400;
    if (grantless && (!*cid || !*cs || strcmp(cid, sim->client_id) || strcmp(cs, sim->client_secret)))
        sim_json(rs, 401, "{\"error_description\":\"Client authentication failed\",\"error\":\"invalid_client\"}");
    else if (grantless && strcmp(scope, "sellingpartnerapi::notifications") &&
             strcmp(scope, "sellingpartnerapi::client_credential:rotation"))
        sim_json(rs, 400, "{\"error_description\":\"The request has an invalid parameter : scope\",\"error\":\"invalid_scope\"}");
    else if (grantless)
        grant_token(sim, rs, 1, "scope", scope);
    else if (strcmp(grant, "refresh_token"))
        sim_json(rs, 400, "{\"error_description\":\"The authorization grant type is not supported by the "
                          "authorization server\",\"error\":\"unsupported_grant_type\"}");
    else if (!*cid || !*cs || strcmp(cid, sim->client_id) || strcmp(cs, sim->client_secret))
        sim_json(rs, 401, "{\"error_description\":\"Client authentication failed\",\"error\":\"invalid_client\"}");
    else if (strcmp(rt, sim->refresh_token))
        sim_json(rs, 400, "{\"error_description\":\"The request has an invalid grant parameter : refresh_token\","
                          "\"error\":\"invalid_grant\"}");
    else
        grant_token(sim, rs, 0, "refresh_token", rt);
    for (int i = 0; i < NFORM; i++) sb_buf_free(&f.f[i]);
}

/* ---- Amazon's time and behaviour (scenario keys, POST /_sim/config, sb_sim_configure) ---- */

/* clock_offset_s, listing_delay_s, processing, schedule: each optional; schedule adds. */
static int apply_config(sb_sim *sim, sb_json *j, int node, char *err) {
    int n, rc = 0;
    if (sb_json_get(j, node, "clock_offset_s"))
        sim->clock_offset_ms = (int64_t)(sb_json_num(j, node, "clock_offset_s", 0) * 1000);
    if (sb_json_get(j, node, "listing_delay_s")) {
        double d = sb_json_num(j, node, "listing_delay_s", 0);
        if (d < 0) return sb_seterr(err, SB_EINVAL, "sim: listing_delay_s must be >= 0");
        sim->listing_delay_ms = (int64_t)(d * 1000);
    }
    if ((n = sb_json_get(j, node, "processing")) && (rc = sim_processing_load(sim, j, n, err))) return rc;
    if ((n = sb_json_get(j, node, "schedule")) && (rc = sim_changes_load(sim, j, n, err))) return rc;
    if ((n = sb_json_get(j, node, "listings")) && (rc = sim_listings_load(sim, j, n, err))) return rc;
    if ((rc = sim_sqs_load(sim, j, node, err))) return rc;   /* "sqs" and "notifications" */
    const char *rep = sb_json_str(j, node, "repeat_confirmation");
    if (rep) {
        if (strcmp(rep, "replace") && strcmp(rep, "invalid_input"))
            return sb_seterr(err, SB_EINVAL, "sim: repeat_confirmation '%s' is not replace or invalid_input", rep);
        sim->refuse_repeat_confirm = !strcmp(rep, "invalid_input");
    }
    return 0;
}

int sb_sim_configure(sb_sim *sim, const char *json, char *err) { return load_locked(sim, json, apply_config, err); }

/* ---- admin over HTTP ---- */

static void h_admin(sb_sim *sim, sim_req *rq, sim_resp *rs) {
    char err[SB_ERRLEN];
    const char *p = rq->path + strlen("/_sim/");
    int post = !strcmp(rq->method, "POST");
    if (!strcmp(p, "orders") && post) {
        /* unlock-free internal versions: we already hold mu */
        if (sim_orders_upsert_json(sim, rq->body.data ? rq->body.data : "", err)) sim_error(rs, 400, "InvalidInput", err, NULL);
        else sim_json(rs, 200, "{\"ok\":true}");
    } else if (!strcmp(p, "faults") && post) {
        sb_json *j = NULL;
        if (sb_json_parse(rq->body.data ? rq->body.data : "", rq->body.len, &j, err) ||
            faults_load(sim, j, SB_JSON_ROOT, err))
            sim_error(rs, 400, "InvalidInput", err, NULL);
        else sim_json(rs, 200, "{\"ok\":true}");
        sb_json_free(j);
    } else if (!strcmp(p, "config") && post) {
        sb_json *j = NULL;
        if (sb_json_parse(rq->body.data ? rq->body.data : "", rq->body.len, &j, err) ||
            apply_config(sim, j, SB_JSON_ROOT, err))
            sim_error(rs, 400, "InvalidInput", err, NULL);
        else sim_json(rs, 200, "{\"ok\":true}");
        sb_json_free(j);
    } else if (!strcmp(p, "faults") && !strcmp(rq->method, "DELETE")) {
        sim->nfaults = 0;
        sim_json(rs, 200, "{\"ok\":true}");
    } else if (!strcmp(p, "requests") && !strcmp(rq->method, "GET")) {
        rs->status = 200;
        sb_buf_reset(&rs->body);
        sb_buf_append(&rs->body, "[", 1);
        for (size_t i = 0; i < sim->nlog; i++) {
            if (i) sb_buf_append(&rs->body, ",", 1);
            sb_buf_append(&rs->body, sim->log[i], strlen(sim->log[i]));
        }
        sb_buf_append(&rs->body, "]", 1);
    } else if (!strcmp(p, "requests") && !strcmp(rq->method, "DELETE")) {
        log_clear_locked(sim);
        sim_json(rs, 200, "{\"ok\":true}");
    } else if (!strcmp(p, "tokens/expire") && post) {
        for (int i = 0; i < SIM_MAX_TOKENS; i++) sim->tokens[i].exp_ms = 0;
        sim_json(rs, 200, "{\"ok\":true}");
    } else if (!strcmp(p, "state") && !strcmp(rq->method, "GET")) {
        sb_jw w;
        rs->status = 200;
        sb_buf_reset(&rs->body);
        sb_jw_init(&w, &rs->body);
        sb_jw_obj(&w);
        sb_jw_kint(&w, "orders", (long long)sim->norders);
        sb_jw_kint(&w, "listings", (long long)sim->nlistings);
        sb_jw_kint(&w, "feeds", (long long)sim->nfeeds);
        sb_jw_kint(&w, "reports", (long long)sim->nreports);
        sb_jw_kint(&w, "requests", (long long)sim->nlog);
        sb_jw_kint(&w, "faults", sim->nfaults);
        sb_jw_kint(&w, "now_ms", sim_now_ms(sim));
        sb_jw_kint(&w, "clock_offset_ms", sim->clock_offset_ms);
        size_t pending = 0;
        for (size_t i = 0; i < sim->nchanges; i++) pending += !sim->changes[i].done;
        sb_jw_kint(&w, "scheduled_changes_pending", (long long)pending);
        sim_docs_state(sim, &w);
        sb_jw_end_obj(&w);
    } else sim_error(rs, 404, "NotFound", "Unknown admin resource", rq->path);
}

/* ---- routing ---- */

/* Splits "/a/b/{x}" style paths: returns 1 if path starts with prefix, *rest = remainder. */
static int under(const char *path, const char *prefix, const char **rest) {
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n)) return 0;
    *rest = path + n;
    return 1;
}

/* One segment id (no '/'), copied to out. */
static int segment(const char *s, char *out, size_t n) {
    if (!*s || strchr(s, '/') || strlen(s) >= n) return 0;
    snprintf(out, n, "%s", s);
    return 1;
}

/* Which operation a request is; id gets the path parameter. */
static int route_raw(const char *m, const char *p, char *id, size_t idn, char *id2, size_t id2n);
static int route(sim_req *rq, char *id, size_t idn, char *id2, size_t id2n) {
    /* match on the raw path so an encoded '/' inside an id stays inside it */
    char raw[2048];
    snprintf(raw, sizeof raw, "%.*s", (int)strcspn(rq->raw_uri, "?"), rq->raw_uri);
    int op = route_raw(rq->method, raw, id, idn, id2, id2n);
    MHD_http_unescape(id);
    MHD_http_unescape(id2);
    return op;
}

static int route_raw(const char *m, const char *p, char *id, size_t idn, char *id2, size_t id2n) {
    const char *r;
    int get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
    id[0] = id2[0] = '\0';
    if (post && !strcmp(p, "/auth/o2/token")) return OP_LWA;
    if (get && !strcmp(p, "/orders/2026-01-01/orders")) return OP_SEARCH;
    if (get && under(p, "/orders/2026-01-01/orders/", &r) && segment(r, id, idn)) return OP_GET_ORDER;
    if (post && under(p, "/orders/v0/orders/", &r)) {
        const char *sl = strchr(r, '/');
        if (sl && !strcmp(sl, "/shipmentConfirmation") && (size_t)(sl - r) < idn && sl > r) {
            snprintf(id, idn, "%.*s", (int)(sl - r), r);
            return OP_CONFIRM;
        }
    }
    if (post && !strcmp(p, "/feeds/2021-06-30/documents")) return OP_CFD;
    if (post && !strcmp(p, "/feeds/2021-06-30/feeds")) return OP_CF;
    if (get && !strcmp(p, "/feeds/2021-06-30/feeds")) return OP_GFS;
    if (get && !strcmp(p, "/reports/2021-06-30/reports")) return OP_GRS;
    if (get && under(p, "/feeds/2021-06-30/feeds/", &r) && segment(r, id, idn)) return OP_GF;
    if (get && under(p, "/feeds/2021-06-30/documents/", &r) && segment(r, id, idn)) return OP_GFD;
    if (post && !strcmp(p, "/reports/2021-06-30/reports")) return OP_CR;
    if (get && under(p, "/reports/2021-06-30/reports/", &r) && segment(r, id, idn)) return OP_GR;
    if (get && under(p, "/reports/2021-06-30/documents/", &r) && segment(r, id, idn)) return OP_GRD;
    if (under(p, "/listings/2021-08-01/items/", &r)) {
        const char *sl = strchr(r, '/');
        if (get && segment(r, id, idn)) return OP_SLI;
        if (get && sl && sl > r && (size_t)(sl - r) < idn && segment(sl + 1, id2, id2n)) {
            snprintf(id, idn, "%.*s", (int)(sl - r), r);
            return OP_GLI;
        }
        if (!strcmp(m, "PATCH") && sl && sl > r && (size_t)(sl - r) < idn && segment(sl + 1, id2, id2n)) {
            snprintf(id, idn, "%.*s", (int)(sl - r), r);
            return OP_PLI;
        }
    }
    if (under(p, "/_sim/docs/", &r) && segment(r, id, idn)) return OP_DOC;
    if (post && !strcmp(p, "/notifications/v1/destinations")) return OP_CDST;
    if (get && !strcmp(p, "/notifications/v1/destinations")) return OP_GDST;
    if (under(p, "/notifications/v1/subscriptions/", &r) && segment(r, id, idn)) return post ? OP_CSUB : get ? OP_GSUB : -1;
    return -1;
}

static void handle(sb_sim *sim, sim_req *rq, sim_resp *rs, sim_fault *fault, int *has_fault) {
    char id[512], id2[512];
    sb_buf logged;
    sb_buf_init(&logged, 1 << 16);
    *has_fault = 0;
    sim->seq++;
    rs->rate_header = -1;
    sim_changes_apply_due(sim);   /* scheduled order changes whose time has come */
    if (!strncmp(rq->path, "/_sim/", 6) && strncmp(rq->path, "/_sim/docs/", 11)) {
        h_admin(sim, rq, rs);
        goto out;   /* admin calls are not recorded */
    }
    char sqsop[48];
    if (sim_sqs_target(rq, sqsop, sizeof sqsop)) {   /* the simulator's SQS queue (sim_sqs.c) */
        rq->op = -1;
        if (take_fault(sim, sqsop, 0, fault)) {
            *has_fault = 1;
            const char *k = fault->kind;
            if (!strcmp(k, "500")) { sim_sqs_error(rs, 500, "InternalError", "We encountered an internal error. Please try again."); goto sqsrec; }
            if (!strcmp(k, "503")) { sim_sqs_error(rs, 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."); goto sqsrec; }
            if (!strcmp(k, "403")) { sim_sqs_error(rs, 403, "AccessDenied", "Access to the resource https://sqs.us-east-1.amazonaws.com/ is denied."); goto sqsrec; }
        }
        sim_sqs_handle(sim, rq, rs, sqsop);
    sqsrec:
        record(sim, rq, sqsop, rs->status, NULL);
        goto out;
    }
    int op = route(rq, id, sizeof id, id2, sizeof id2);
    rq->op = op;
    const char *opname = op >= 0 ? ops[op].name : "unknown";
    if (op < 0) {
        sim_error(rs, 404, "NotFound", "Resource not found", rq->path);
        record(sim, rq, opname, rs->status, NULL);
        goto out;
    }
    if (take_fault(sim, opname, 0, fault)) {
        *has_fault = 1;
        const char *k = fault->kind;
        if (!strcmp(k, "500")) { sim_error(rs, 500, "InternalFailure", "We encountered an internal error. Please try again.", NULL); goto rec; }
        if (!strcmp(k, "503")) { sim_error(rs, 503, "ServiceUnavailable", "Service temporarily unavailable. Please try again.", NULL); goto rec; }
        if (!strcmp(k, "429")) { sim->throttled[op]++; sim_error(rs, 429, "QuotaExceeded", "You exceeded your quota for the requested resource.", NULL); goto rec; }
        if (!strcmp(k, "expiredtoken")) { sim_error(rs, 403, "Unauthorized", "Access to requested resource is denied.", "The access token you provided has expired."); goto rec; }
        if (!strcmp(k, "badtoken")) { sim_error(rs, 400, "InvalidInput", "Invalid paginationToken", "We could not decode your paginationToken."); goto rec; }
        if (!strcmp(k, "stuck")) rq->stuck = 1;
        if (!strcmp(k, "stale")) rq->stale = 1;
    }
    if (op == OP_LWA) {
        h_lwa(sim, rq, rs, &logged);
        record(sim, rq, opname, rs->status, logged.data);
        goto out;
    }
    if (op != OP_DOC) {
        const char *tok = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "x-amz-access-token");
        int t = check_token(sim, tok);
        if (t == 1) { sim_error(rs, 403, "Unauthorized", "Access to requested resource is denied.", "Access token is missing in the request header."); goto rec; }
        if (t == 2) { sim_error(rs, 403, "Unauthorized", "Access to requested resource is denied.", "The access token you provided is revoked, malformed or invalid."); goto rec; }
        if (t == 3) { sim_error(rs, 403, "Unauthorized", "Access to requested resource is denied.", "The access token you provided has expired."); goto rec; }
        int grantless_tok = !strncmp(tok, GRANTLESS_PREFIX, strlen(GRANTLESS_PREFIX));
        if (grantless_tok != op_grantless(op)) {
            sim_error(rs, 403, "Unauthorized", "Access to requested resource is denied.",
                      grantless_tok ? "A grantless access token cannot call this operation: it needs the selling "
                                      "partner's authorization (a token from the refresh token)."
                                    : "This is a grantless operation: it needs an access token from grant_type "
                                      "client_credentials with scope sellingpartnerapi::notifications.");
            goto rec;
        }
        if (!bucket_take(sim, op)) {
            sim_error(rs, 429, "QuotaExceeded", "You exceeded your quota for the requested resource.", NULL);
            goto rec;
        }
        if (sim->buckets[op].header) rs->rate_header = op;
        if (sim_sandbox(sim, rq, rs, opname, id)) goto rec;
    }
    switch (op) {
    case OP_SEARCH: sim_h_search_orders(sim, rq, rs); break;
    case OP_GET_ORDER: sim_h_get_order(sim, rq, rs, id); break;
    case OP_CONFIRM: sim_h_confirm_shipment(sim, rq, rs, id); break;
    case OP_CFD: sim_h_create_feed_document(sim, rq, rs); break;
    case OP_CF: sim_h_create_feed(sim, rq, rs); break;
    case OP_GF: sim_h_get_feed(sim, rq, rs, id); break;
    case OP_GFD: sim_h_get_document(sim, rq, rs, id, 0); break;
    case OP_CR: sim_h_create_report(sim, rq, rs); break;
    case OP_GR: sim_h_get_report(sim, rq, rs, id); break;
    case OP_GRD: sim_h_get_document(sim, rq, rs, id, 1); break;
    case OP_SLI: sim_h_search_listings(sim, rq, rs, id); break;
    case OP_PLI: sim_h_patch_listing(sim, rq, rs, id, id2); break;
    case OP_GLI: sim_h_get_listing(sim, rq, rs, id, id2); break;
    case OP_DOC: sim_h_doc_url(sim, rq, rs, id); break;
    case OP_GFS: sim_h_list_jobs(sim, rq, rs, 0); break;
    case OP_GRS: sim_h_list_jobs(sim, rq, rs, 1); break;
    case OP_CDST: sim_h_create_destination(sim, rq, rs); break;
    case OP_GDST: sim_h_get_destinations(sim, rq, rs); break;
    case OP_CSUB: sim_h_create_subscription(sim, rq, rs, id); break;
    case OP_GSUB: sim_h_get_subscription(sim, rq, rs, id); break;
    }
    /* post-commit: the operation took effect; the answer is lost or an error */
    if (op_writes(op) && rs->status >= 200 && rs->status < 300 && !*has_fault && take_fault(sim, opname, 1, fault)) {
        *has_fault = 1;
        if (!strcmp(fault->kind, "500")) sim_error(rs, 500, "InternalFailure", "We encountered an internal error. Please try again.", NULL);
        else if (!strcmp(fault->kind, "503")) sim_error(rs, 503, "ServiceUnavailable", "Service temporarily unavailable. Please try again.", NULL);
        else if (!strcmp(fault->kind, "drop")) rq->drop_now = 1;
    }
rec:
    if (rs->status != 200 && rs->status != 201 && rs->status != 202 && rs->status != 204 && rs->status != 400 &&
        rs->status != 404)
        rs->rate_header = -1;
    record(sim, rq, opname, rs->status, NULL);
out:
    sb_buf_free(&logged);
}

/* ---- MHD glue ---- */

typedef struct drop_ctx { sb_buf body; size_t limit; } drop_ctx;

static ssize_t drop_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    drop_ctx *d = cls;
    if (pos >= d->limit) return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = d->limit - (size_t)pos;
    if (n > max) n = max;
    memcpy(buf, d->body.data + pos, n);
    return (ssize_t)n;
}

static void drop_free(void *cls) {
    drop_ctx *d = cls;
    sb_buf_free(&d->body);
    free(d);
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c) {
    sim_req *rq = calloc(1, sizeof *rq);
    if (!rq) return NULL;
    rq->raw_uri = strdup(uri ? uri : "");
    sb_buf_init(&rq->body, 64u << 20);
    return rq;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    sim_req *rq = *con_cls;
    if (!rq) return;
    free(rq->raw_uri);
    sb_buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}

static void stall(sb_sim *sim, long ms) {
    while (ms > 0 && !sim->stopping) {
        long step = ms > 20 ? 20 : ms;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    sb_sim *sim = cls;
    sim_req *rq = *con_cls;
    if (!rq) return MHD_NO;
    if (!rq->started) {
        rq->started = 1;
        rq->c = c;
        rq->method = method;
        rq->path = url;
        return MHD_YES;
    }
    if (*upload_size) {
        if (sb_buf_append(&rq->body, upload, *upload_size)) return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    sim_resp rs = {.status = 500, .ctype = "application/json", .rate_header = -1};
    sb_buf_init(&rs.body, 256u << 20);
    sim_fault f;
    int has_fault = 0;
    pthread_mutex_lock(&sim->mu);
    handle(sim, rq, &rs, &f, &has_fault);
    char rate[32] = "";
    if (rs.rate_header >= 0) {
        double r = sim->buckets[rs.rate_header].rate / (sim->time_scale > 0 ? sim->time_scale : 1);
        snprintf(rate, sizeof rate, "%g", r);
    }
    char reqid[48];
    snprintf(reqid, sizeof reqid, "sim-%08lx-%04lx", sim->seq, (unsigned long)(sim_rand(sim) & 0xffff));
    pthread_mutex_unlock(&sim->mu);

    if (has_fault && !strcmp(f.kind, "delay")) stall(sim, f.delay_ms);
    if (rq->drop_now) { sb_buf_free(&rs.body); return MHD_NO; }   /* closed with no answer at all */
    if (has_fault && !strcmp(f.kind, "truncate") && rs.body.len > 1) {
        rs.body.len /= 2;
        rs.body.data[rs.body.len] = '\0';
    }
    if (has_fault && !strcmp(f.kind, "badjson")) sim_json(&rs, rs.status, "{\"orders\": [ {\"orderId\": ");
    if (has_fault && !strcmp(f.kind, "html")) {   /* a proxy's or load balancer's page instead of the service */
        rs.status = 502;
        rs.ctype = "text/html";
        sb_buf_reset(&rs.body);
        sb_buf_printf(&rs.body, "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>");
    }
    struct MHD_Response *resp;
    if (has_fault && !strcmp(f.kind, "drop")) {
        drop_ctx *d = calloc(1, sizeof *d);
        if (!d) { sb_buf_free(&rs.body); return MHD_NO; }
        if (!rs.body.len) sb_buf_append(&rs.body, "{}", 2);
        d->body = rs.body;
        d->limit = f.after_bytes >= 0 && (size_t)f.after_bytes < rs.body.len ? (size_t)f.after_bytes : rs.body.len / 2;
        rs.body.data = NULL;
        resp = MHD_create_response_from_callback(d->body.len, 4096, drop_reader, d, drop_free);
    } else {
        resp = MHD_create_response_from_buffer(rs.body.len, rs.body.data ? rs.body.data : (char *)"",
                                               MHD_RESPMEM_MUST_COPY);
    }
    sb_buf_free(&rs.body);
    if (!resp) return MHD_NO;
    if (rs.status != 204) MHD_add_response_header(resp, "Content-Type", rs.ctype);
    if (rs.content_encoding_gzip) MHD_add_response_header(resp, "Content-Encoding", "gzip");
    MHD_add_response_header(resp, "x-amzn-RequestId", reqid);
    /* Amazon's clock, as Amazon tells it: the simulator's, with its clock_offset_s */
    char date[64];
    time_t now = (time_t)(sim_now_ms(sim) / 1000);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    MHD_add_response_header(resp, "Date", date);
    if (rate[0]) MHD_add_response_header(resp, "x-amzn-RateLimit-Limit", rate);
    if (rs.status == 429) MHD_add_response_header(resp, "x-amzn-ErrorType", "TooManyRequestsException");
    enum MHD_Result r = MHD_queue_response(c, (unsigned)rs.status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* ---- scenario ---- */

static int load_scenario(sb_sim *sim, const char *text, size_t len, char *err) {
    sb_json *j = NULL;
    int rc = sb_json_parse(text, len, &j, err);
    if (rc) {
        char tmp[SB_ERRLEN];
        snprintf(tmp, sizeof tmp, "scenario: %s", err ? err : "");
        return sb_seterr(err, rc, "%s", tmp);
    }
    int n;
    const char *v;
    /* the clock first: default times of the orders below are the simulator's now */
    if (sb_json_get(j, SB_JSON_ROOT, "clock_offset_s"))
        sim->clock_offset_ms = (int64_t)(sb_json_num(j, SB_JSON_ROOT, "clock_offset_s", 0) * 1000);
    if ((v = sb_json_str(j, SB_JSON_ROOT, "credentials.client_id"))) snprintf(sim->client_id, sizeof sim->client_id, "%s", v);
    if ((v = sb_json_str(j, SB_JSON_ROOT, "credentials.client_secret"))) snprintf(sim->client_secret, sizeof sim->client_secret, "%s", v);
    if ((v = sb_json_str(j, SB_JSON_ROOT, "credentials.refresh_token"))) snprintf(sim->refresh_token, sizeof sim->refresh_token, "%s", v);
    if ((v = sb_json_str(j, SB_JSON_ROOT, "seller_id"))) snprintf(sim->seller_id, sizeof sim->seller_id, "%s", v);
    sim->token_ttl = (int)sb_json_num(j, SB_JSON_ROOT, "token_ttl_s", sim->token_ttl);
    if (!(sim->opt.time_scale > 0)) sim->time_scale = sb_json_num(j, SB_JSON_ROOT, "time_scale", sim->time_scale);
    sim->unthrottled = sim->unthrottled || sb_json_bool(j, SB_JSON_ROOT, "unthrottled", 0);
    sim->gzip_reports = sb_json_bool(j, SB_JSON_ROOT, "gzip_documents", sim->gzip_reports);
    if ((n = sb_json_get(j, SB_JSON_ROOT, "orders")) && (rc = sim_orders_load(sim, j, n, err))) goto out;
    if ((n = sb_json_get(j, SB_JSON_ROOT, "faults")) && (rc = faults_load(sim, j, n, err))) goto out;
    if ((rc = apply_config(sim, j, SB_JSON_ROOT, err))) goto out;   /* listings too */
    if ((n = sb_json_get(j, SB_JSON_ROOT, "generate"))) {
        double cnt = sb_json_num(j, n, "count", 0);
        if (!sim->opt.seed) sim->seed = (uint64_t)sb_json_num(j, n, "seed", 1);
        if (!(cnt <= (double)(SIM_MAX_GENERATE - sim->ngen))) {
            rc = sb_seterr(err, SB_EINVAL, "sim: generate.count %g is more than the simulator makes (%ld in all)", cnt,
                           SIM_MAX_GENERATE);
            goto out;
        }
        if (cnt > 0) sim->ngen += (long)cnt;
    }
out:
    sb_json_free(j);
    return rc;
}

static int build_state(sb_sim *sim, char *err) {
    snprintf(sim->client_id, sizeof sim->client_id, "%s", SB_SIM_CLIENT_ID);
    snprintf(sim->client_secret, sizeof sim->client_secret, "%s", SB_SIM_CLIENT_SECRET);
    snprintf(sim->refresh_token, sizeof sim->refresh_token, "%s", SB_SIM_REFRESH_TOKEN);
    snprintf(sim->seller_id, sizeof sim->seller_id, "%s", SB_SIM_SELLER_ID);
    sim->token_ttl = 3600;
    sim->time_scale = sim->opt.time_scale > 0 ? sim->opt.time_scale : 1.0;
    sim->unthrottled = sim->opt.unthrottled;
    sim->gzip_reports = 1;
    sim->seed = sim->opt.seed ? sim->opt.seed : 1;
    sim->ngen = sim->opt.generate > 0 ? (sim->opt.generate < SIM_MAX_GENERATE ? sim->opt.generate : SIM_MAX_GENERATE) : 0;
    sim->rng = sim->seed * 7919;
    sim->clock_offset_ms = 0;
    sim->listing_delay_ms = 0;
    sim->refuse_repeat_confirm = 0;
    int rc = 0;
    if (sim->scenario_text) rc = load_scenario(sim, sim->scenario_text, strlen(sim->scenario_text), err);
    sim->gen_base = sim_now_ms(sim) / 1000;   /* after the scenario's clock offset */
    if (!rc && sim->ngen > 0) sim_orders_generate(sim, sim->ngen);
    buckets_init(sim);
    return rc;
}

static void free_state(sb_sim *sim) {
    sim_orders_free(sim);
    sim_docs_free(sim);
    log_clear_locked(sim);
    sim->nfaults = 0;
    sim->nproc = 0;
    sim_changes_free(sim);
    sim_notify_free(sim);
    memset(sim->tokens, 0, sizeof sim->tokens);
    memset(sim->throttled, 0, sizeof sim->throttled);
    sim_sqs_reset(sim);
}

int sb_sim_start(const sb_sim_options *o, sb_sim **out, char *err) {
    int rc = 0;
    *out = NULL;
    sb_sim *sim = calloc(1, sizeof *sim);
    if (!sim) return sb_seterr(err, SB_ENOMEM, "sim: out of memory");
    if (o) sim->opt = *o;
    pthread_mutex_init(&sim->mu, NULL);
    if (sim_sqs_init(sim)) { rc = sb_seterr(err, SB_ENOMEM, "sim: out of memory"); goto fail; }
    if (sim->opt.scenario_path) {
        if ((rc = sb_file_read(sim->opt.scenario_path, &sim->scenario_text, NULL, 256u << 20, err))) goto fail;
    } else if (sim->opt.scenario_json) {
        sim->scenario_text = strdup(sim->opt.scenario_json);
    }
    sim->opt.scenario_path = sim->opt.scenario_json = NULL;
    if ((rc = build_state(sim, err))) goto fail;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)(sim->opt.port > 0 ? sim->opt.port : 0));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sim->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                              on_request, sim, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_URI_LOG_CALLBACK, uri_log, sim, MHD_OPTION_NOTIFY_COMPLETED, completed, sim,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
    if (!sim->d) {
        rc = sb_seterr(err, SB_EIO, "sim: cannot listen on 127.0.0.1:%d (port in use?)", sim->opt.port);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(sim->d, MHD_DAEMON_INFO_BIND_PORT);
    sim->port = info ? info->port : sim->opt.port;
    snprintf(sim->url, sizeof sim->url, "http://127.0.0.1:%d", sim->port);
    *out = sim;
    return 0;
fail:
    free_state(sim);
    sim_sqs_free(sim);
    free(sim->log);
    free(sim->scenario_text);
    pthread_mutex_destroy(&sim->mu);
    free(sim);
    return rc;
}

int sb_sim_port(sb_sim *sim) { return sim->port; }
const char *sb_sim_url(sb_sim *sim) { return sim->url; }

void sb_sim_stop(sb_sim *sim) {
    if (!sim) return;
    sim->stopping = 1;
    sim_sqs_wake(sim);   /* long polls end */
    if (sim->d) MHD_stop_daemon(sim->d);
    free_state(sim);
    sim_sqs_free(sim);
    free(sim->log);
    free(sim->scenario_text);
    pthread_mutex_destroy(&sim->mu);
    free(sim);
}

int sb_sim_reset(sb_sim *sim, char *err) {
    pthread_mutex_lock(&sim->mu);
    free_state(sim);
    int rc = build_state(sim, err);
    pthread_mutex_unlock(&sim->mu);
    return rc;
}

int sb_sim_orders_upsert(sb_sim *sim, const char *json, char *err) {
    pthread_mutex_lock(&sim->mu);
    int rc = sim_orders_upsert_json(sim, json, err);
    pthread_mutex_unlock(&sim->mu);
    return rc;
}

size_t sb_sim_order_count(sb_sim *sim) {
    pthread_mutex_lock(&sim->mu);
    size_t n = sim->norders;
    pthread_mutex_unlock(&sim->mu);
    return n;
}

long sb_sim_listing_quantity(sb_sim *sim, const char *sku) {
    pthread_mutex_lock(&sim->mu);
    sim_listing *l = sim_listing_find(sim, sku);
    long q = l ? l->quantity : -1;
    pthread_mutex_unlock(&sim->mu);
    return q;
}
