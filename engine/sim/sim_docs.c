/* sim_docs.c: the simulator's Feeds, Reports and Listings Items, and the pre-signed
 * document URLs they hand out (/_sim/docs/{id}?sig=...). Feeds and reports move one
 * step per poll (IN_QUEUE -> IN_PROGRESS -> DONE) unless the scenario gives their type a
 * processing time: then the status follows the simulator's clock (queue time, then
 * processing time), however often they are polled. At DONE a JSON_LISTINGS_FEED is applied
 * to the listings and a processing report is produced, and a
 * GET_MERCHANT_LISTINGS_ALL_DATA report renders the listings as tab-separated text.
 * Result documents are gzip (compressionAlgorithm GZIP) unless the scenario turns that off.
 *
 * Why one file: feeds, reports and listings share the document URLs and the one state
 * machine every document follows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/sim_int.h"

sim_listing *sim_listing_find(sb_sim *sim, const char *sku) {
    for (size_t i = 0; i < sim->nlistings; i++)
        if (!strcmp(sim->listings[i].sku, sku)) return &sim->listings[i];
    return NULL;
}

int sim_listings_load(sb_sim *sim, sb_json *j, int node, char *err) {
    size_t n = sb_json_len(j, node, NULL);
    int64_t now = sim_now_ms(sim) / 1000;
    for (size_t i = 0; i < n; i++) {
        int e = sb_json_at(j, node, i);
        sim_listing l;
        memset(&l, 0, sizeof l);
        if (sb_json_strcpy(j, e, "sku", l.sku, sizeof l.sku) < 0 || !l.sku[0])
            return sb_seterr(err, SB_EINVAL, "sim: listing %zu has no sku", i + 1);
        sb_json_strcpy(j, e, "asin", l.asin, sizeof l.asin);
        sb_json_strcpy(j, e, "title", l.title, sizeof l.title);
        sb_json_strcpy(j, e, "product_type", l.product_type, sizeof l.product_type);
        if (!l.product_type[0]) snprintf(l.product_type, sizeof l.product_type, "PRODUCT");
        sb_json_strcpy(j, e, "marketplace_id", l.mp, sizeof l.mp);
        if (!l.mp[0]) snprintf(l.mp, sizeof l.mp, "ATVPDKIKX0DER");
        sb_json_strcpy(j, e, "fulfillment_channel", l.channel, sizeof l.channel);
        if (!l.channel[0]) snprintf(l.channel, sizeof l.channel, "DEFAULT");
        sb_json_strcpy(j, e, "status", l.status, sizeof l.status);
        if (!l.status[0]) snprintf(l.status, sizeof l.status, "Active");
        if (sb_json_strcpy(j, e, "price", l.price, sizeof l.price) < 0)
            snprintf(l.price, sizeof l.price, "%.2f", sb_json_num(j, e, "price", 0));
        snprintf(l.currency, sizeof l.currency, "%s", sim_currency(l.mp));
        l.quantity = (long)sb_json_num(j, e, "quantity", 0);
        l.lead_time = (int)sb_json_num(j, e, "lead_time_days", 2);
        const char *od = sb_json_str(j, e, "open_date");
        l.created = od && sb_time_parse(od) >= 0 ? sb_time_parse(od) : now;
        l.updated = l.created;
        sim_listing *old = sim_listing_find(sim, l.sku);
        if (old) { *old = l; continue; }
        if (sim->nlistings == sim->cap_listings) {
            size_t cap = sim->cap_listings ? sim->cap_listings * 2 : 64;
            sim_listing *p = realloc(sim->listings, cap * sizeof *p);
            if (!p) return sb_seterr(err, SB_ENOMEM, "sim: out of memory");
            sim->listings = p;
            sim->cap_listings = cap;
        }
        sim->listings[sim->nlistings++] = l;
    }
    return 0;
}

void sim_docs_free(sb_sim *sim) {
    for (size_t i = 0; i < sim->ndocs; i++) {
        sb_buf_free(&sim->docs[i]->data);
        free(sim->docs[i]);
    }
    free(sim->docs);
    free(sim->listings);
    free(sim->feeds);
    free(sim->reports);
    sim->docs = NULL;
    sim->listings = NULL;
    sim->feeds = sim->reports = NULL;
    sim->ndocs = sim->nlistings = sim->cap_listings = sim->nfeeds = sim->nreports = 0;
}

static sim_doc *doc_new(sb_sim *sim, const char *ctype) {
    sim_doc **p = realloc(sim->docs, (sim->ndocs + 1) * sizeof *p);
    if (!p) return NULL;
    sim->docs = p;
    sim_doc *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    snprintf(d->id, sizeof d->id, "amzn1.tortuga.4.na.sim%06ld", ++sim->next_id);
    snprintf(d->sig, sizeof d->sig, "%016llx", (unsigned long long)sim_rand(sim));
    snprintf(d->content_type, sizeof d->content_type, "%s", ctype);
    sb_buf_init(&d->data, 512u << 20);
    sim->docs[sim->ndocs++] = d;
    return d;
}

static sim_doc *doc_find(sb_sim *sim, const char *id) {
    for (size_t i = 0; i < sim->ndocs; i++)
        if (!strcmp(sim->docs[i]->id, id)) return sim->docs[i];
    return NULL;
}

static void doc_url(sb_sim *sim, const sim_doc *d, char *out, size_t n, int enc) {
    snprintf(out, n, "%s/_sim/docs/%s?sig=%s%s", sim->url, d->id, d->sig, enc ? "&enc=gzip" : "");
}

/* GET or PUT of a pre-signed URL: no access token, the signature covers the content type. */
void sim_h_doc_url(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id) {
    sim_doc *d = doc_find(sim, id);
    const char *sig = sim_arg(rq, "sig");
    rs->ctype = "application/xml";
    if (!d || !sig || strcmp(sig, d->sig)) {
        sim_json(rs, 403, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>"
                          "<Message>Request has expired or the signature is invalid</Message></Error>");
        return;
    }
    if (!strcmp(rq->method, "PUT")) {
        const char *ct = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Content-Type");
        if (!ct || strcmp(ct, d->content_type)) {
            sim_json(rs, 403, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch</Code>"
                              "<Message>The request signature we calculated does not match the signature you "
                              "provided. Check your key and signing method.</Message></Error>");
            return;
        }
        sb_buf_reset(&d->data);
        sb_buf_append(&d->data, rq->body.data ? rq->body.data : "", rq->body.len);
        d->uploaded = 1;
        sim_json(rs, 200, "");
        return;
    }
    if (strcmp(rq->method, "GET") || !d->uploaded) {
        sim_json(rs, 404, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
                          "<Message>The specified key does not exist.</Message></Error>");
        return;
    }
    rs->status = 200;
    rs->ctype = d->gzip ? "application/octet-stream" : "text/plain; charset=UTF-8";
    sb_buf_reset(&rs->body);
    const char *enc = sim_arg(rq, "enc");
    if (enc && d->gzip) rs->content_encoding_gzip = 1;   /* gzip bytes served as Content-Encoding */
    sb_buf_append(&rs->body, d->data.data ? d->data.data : "", d->data.len);
}

/* ---- Feeds ---- */

static int body_json(sim_req *rq, sim_resp *rs, sb_json **j) {
    char e[SB_ERRLEN];
    if (!rq->body.len || sb_json_parse(rq->body.data, rq->body.len, j, e)) {
        sim_error(rs, 400, "400", "Invalid input", "Request body is not valid JSON");
        return -1;
    }
    return 0;
}

static int marketplaces_ok(sb_json *j, sim_resp *rs, char *first, size_t n) {
    size_t k = sb_json_len(j, SB_JSON_ROOT, "marketplaceIds");
    if (k < 1 || k > 25) { sim_error(rs, 400, "400", "Invalid input", "marketplaceIds must hold 1 to 25 ids"); return -1; }
    int m = sb_json_get(j, SB_JSON_ROOT, "marketplaceIds");
    for (size_t i = 0; i < k; i++) {
        const char *id = sb_json_str(j, sb_json_at(j, m, i), NULL);
        if (!id || !sim_known_marketplace(id)) { sim_error(rs, 400, "400", "Invalid input", "Invalid marketplaceId"); return -1; }
        if (i == 0) snprintf(first, n, "%s", id);
    }
    return 0;
}

void sim_h_create_feed_document(sb_sim *sim, sim_req *rq, sim_resp *rs) {
    sb_json *j = NULL;
    if (body_json(rq, rs, &j)) return;
    const char *ct = sb_json_str(j, SB_JSON_ROOT, "contentType");
    if (!ct || !*ct) sim_error(rs, 400, "400", "Invalid input", "Invalid input");
    else {
        sim_doc *d = doc_new(sim, ct);
        if (!d) sim_error(rs, 500, "InternalFailure", "out of memory", NULL);
        else {
            char url[512];
            doc_url(sim, d, url, sizeof url, 0);
            sb_jw w;
            rs->status = 201;
            sb_buf_reset(&rs->body);
            sb_jw_init(&w, &rs->body);
            sb_jw_obj(&w);
            sb_jw_kstr(&w, "feedDocumentId", d->id);
            sb_jw_kstr(&w, "url", url);
            sb_jw_end_obj(&w);
        }
    }
    sb_json_free(j);
}

/* ---- processing times ---- */

static int proc_range(sb_json *j, int e, const char *key, double *lo, double *hi, char *err) {
    int v = sb_json_get(j, e, key);
    *lo = *hi = 0;
    if (!v) return 0;
    if (sb_json_type(j, v, NULL) == SB_JSON_NUM) *lo = *hi = sb_json_num(j, v, NULL, 0);
    else if (sb_json_type(j, v, NULL) == SB_JSON_ARR && sb_json_len(j, v, NULL) == 2) {
        *lo = sb_json_num(j, sb_json_at(j, v, 0), NULL, -1);
        *hi = sb_json_num(j, sb_json_at(j, v, 1), NULL, -1);
    } else return sb_seterr(err, SB_EINVAL, "sim: processing %s must be seconds or [min, max]", key);
    if (*lo < 0 || *hi < *lo) return sb_seterr(err, SB_EINVAL, "sim: processing %s needs 0 <= min <= max", key);
    return 0;
}

int sim_processing_load(sb_sim *sim, sb_json *j, int node, char *err) {
    int it = 0, e, rc;
    const char *k;
    if (sb_json_type(j, node, NULL) != SB_JSON_OBJ)
        return sb_seterr(err, SB_EINVAL, "sim: processing must be an object keyed by feed, report or a type");
    while ((e = sb_json_next(j, node, &it, &k))) {
        sim_proc p;
        memset(&p, 0, sizeof p);
        if (strlen(k) >= sizeof p.key) return sb_seterr(err, SB_EINVAL, "sim: processing key too long");
        snprintf(p.key, sizeof p.key, "%s", k);
        if ((rc = proc_range(j, e, "queue_s", &p.queue_lo, &p.queue_hi, err)) ||
            (rc = proc_range(j, e, "processing_s", &p.run_lo, &p.run_hi, err)))
            return rc;
        int i = 0;
        while (i < sim->nproc && strcmp(sim->proc[i].key, k)) i++;
        if (i == SIM_MAX_PROC) return sb_seterr(err, SB_EINVAL, "sim: at most %d processing entries", SIM_MAX_PROC);
        sim->proc[i] = p;
        if (i == sim->nproc) sim->nproc++;
    }
    return 0;
}

static double draw(sb_sim *sim, double lo, double hi) {
    return hi > lo ? lo + (hi - lo) * (double)(sim_rand(sim) % 1000001) / 1e6 : lo;
}

static sim_job *job_add(sb_sim *sim, sim_job **arr, size_t *n, const char *kind, const char *type) {
    sim_job *p = realloc(*arr, (*n + 1) * sizeof *p);
    if (!p) return NULL;
    *arr = p;
    sim_job *jb = &p[(*n)++];
    memset(jb, 0, sizeof *jb);
    snprintf(jb->id, sizeof jb->id, "%ld", 50000 + ++sim->next_id);
    snprintf(jb->status, sizeof jb->status, "IN_QUEUE");
    snprintf(jb->type, sizeof jb->type, "%s", type);
    jb->created = sim_now_ms(sim);
    const sim_proc *pr = NULL;   /* the type's own, else the kind's */
    for (int i = 0; i < sim->nproc; i++)
        if (!strcmp(sim->proc[i].key, type) || (!pr && !strcmp(sim->proc[i].key, kind))) pr = &sim->proc[i];
    if (pr) {
        jb->timed = 1;
        jb->start_ms = jb->created + sim_scaled_ms(sim, draw(sim, pr->queue_lo, pr->queue_hi));
        jb->end_ms = jb->start_ms + sim_scaled_ms(sim, draw(sim, pr->run_lo, pr->run_hi));
    }
    return jb;
}

void sim_h_create_feed(sb_sim *sim, sim_req *rq, sim_resp *rs) {
    sb_json *j = NULL;
    char mp[24];
    if (body_json(rq, rs, &j)) return;
    const char *type = sb_json_str(j, SB_JSON_ROOT, "feedType"), *doc = sb_json_str(j, SB_JSON_ROOT, "inputFeedDocumentId");
    sim_doc *d = doc ? doc_find(sim, doc) : NULL;
    if (!type || !doc) sim_error(rs, 400, "400", "Invalid input", "feedType and inputFeedDocumentId are required");
    else if (marketplaces_ok(j, rs, mp, sizeof mp)) ;
    else if (!d) sim_error(rs, 400, "400", "Invalid input", "inputFeedDocumentId does not exist");
    else if (!d->uploaded) sim_error(rs, 400, "400", "Invalid input", "The feed document has not been uploaded");
    else {
        sim_job *f = job_add(sim, &sim->feeds, &sim->nfeeds, "feed", type);
        if (!f) sim_error(rs, 500, "InternalFailure", "out of memory", NULL);
        else {
            snprintf(f->input_doc, sizeof f->input_doc, "%s", doc);
            snprintf(f->mp, sizeof f->mp, "%s", mp);
            char body[96];
            snprintf(body, sizeof body, "{\"feedId\":\"%s\"}", f->id);
            sim_json(rs, 202, body);
        }
    }
    sb_json_free(j);
}

/* Applies a JSON_LISTINGS_FEED to the listings; fills the processing report. */
static void process_listings_feed(sb_sim *sim, sim_job *f, sim_doc *in, sb_buf *report) {
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    long processed = 0, accepted = 0, invalid = 0;
    sb_jw w;
    sb_jw_init(&w, report);
    sb_jw_obj(&w);
    sb_jw_key(&w, "header");
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "sellerId", sim->seller_id);
    sb_jw_kstr(&w, "version", "2.0");
    sb_jw_kstr(&w, "feedId", f->id);
    sb_jw_end_obj(&w);
    sb_jw_key(&w, "issues");
    sb_jw_arr(&w);
    if (!in->data.len || sb_json_parse(in->data.data, in->data.len, &j, e)) {
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "code", "4000001");
        sb_jw_kstr(&w, "severity", "ERROR");
        sb_jw_kstr(&w, "message", "The feed document is not valid JSON");
        sb_jw_end_obj(&w);
    } else {
        int msgs = sb_json_get(j, SB_JSON_ROOT, "messages");
        for (size_t i = 0; i < sb_json_len(j, msgs, NULL); i++) {
            int m = sb_json_at(j, msgs, i);
            processed++;
            const char *sku = sb_json_str(j, m, "sku"), *opt = sb_json_str(j, m, "operationType");
            long mid = (long)sb_json_num(j, m, "messageId", 0);
            sim_listing *l = sku ? sim_listing_find(sim, sku) : NULL;
            const char *problem = NULL;
            long qty = -1, lead = -1;
            if (!sku || !opt || mid <= 0) problem = "messageId, sku and operationType are required";
            else if (!l) problem = "The SKU does not exist in the catalogue of this seller";
            else if (!strcmp(opt, "PATCH") || !strcmp(opt, "PARTIAL_UPDATE")) {
                int ps = sb_json_get(j, m, "patches");
                for (size_t k = 0; k < sb_json_len(j, ps, NULL); k++) {
                    int p = sb_json_at(j, ps, k);
                    const char *path = sb_json_str(j, p, "path");
                    if (path && !strcmp(path, "/attributes/fulfillment_availability")) {
                        qty = (long)sb_json_num(j, p, "value[0].quantity", -1);
                        lead = (long)sb_json_num(j, p, "value[0].lead_time_to_ship_max_days", -1);
                    }
                }
                int at = sb_json_get(j, m, "attributes.fulfillment_availability");
                if (at) {
                    qty = (long)sb_json_num(j, at, "[0].quantity", -1);
                    lead = (long)sb_json_num(j, at, "[0].lead_time_to_ship_max_days", -1);
                }
                if (qty < 0) problem = "fulfillment_availability quantity is missing or negative";
            } else if (strcmp(opt, "DELETE") && strcmp(opt, "UPDATE")) problem = "Unknown operationType";
            if (problem) {
                invalid++;
                sb_jw_obj(&w);
                sb_jw_kint(&w, "messageId", mid);
                if (sku) sb_jw_kstr(&w, "sku", sku);
                sb_jw_kstr(&w, "code", "4000003");
                sb_jw_kstr(&w, "severity", "ERROR");
                sb_jw_kstr(&w, "message", problem);
                sb_jw_end_obj(&w);
            } else {
                accepted++;
                if (qty >= 0) {
                    l->quantity = qty;
                    if (lead >= 0) l->lead_time = (int)lead;
                    l->updated = sim_now_ms(sim) / 1000;
                }
            }
        }
    }
    sb_jw_end_arr(&w);
    sb_jw_key(&w, "summary");
    sb_jw_obj(&w);
    sb_jw_kint(&w, "errors", invalid + (j ? 0 : 1));
    sb_jw_kint(&w, "warnings", 0);
    sb_jw_kint(&w, "messagesProcessed", processed);
    sb_jw_kint(&w, "messagesAccepted", accepted);
    sb_jw_kint(&w, "messagesInvalid", invalid);
    sb_jw_end_obj(&w);
    sb_jw_end_obj(&w);
    sb_json_free(j);
}

static sim_doc *result_doc(sb_sim *sim, const char *text, size_t len, const char *ctype) {
    sim_doc *d = doc_new(sim, ctype);
    if (!d) return NULL;
    if (sim->gzip_reports) { sim_gzip(text, len, &d->data); d->gzip = 1; }
    else sb_buf_append(&d->data, text, len);
    d->uploaded = 1;
    return d;
}

static void write_job(sb_jw *w, const sim_job *jb, const char *idk, const char *typek, const char *dock) {
    char ts[32];
    sb_jw_obj(w);
    sb_jw_kstr(w, idk, jb->id);
    sb_jw_kstr(w, typek, jb->type);
    sb_jw_key(w, "marketplaceIds");
    sb_jw_arr(w);
    sb_jw_str(w, jb->mp);
    sb_jw_end_arr(w);
    sb_jw_kstr(w, "createdTime", sb_time_format_ms(jb->created, ts, sizeof ts));
    sb_jw_kstr(w, "processingStatus", jb->status);
    int started = strcmp(jb->status, "IN_QUEUE") != 0, ended = started && strcmp(jb->status, "IN_PROGRESS");
    if (started && jb->start_ms) sb_jw_kstr(w, "processingStartTime", sb_time_format_ms(jb->start_ms, ts, sizeof ts));
    if (ended && jb->end_ms) sb_jw_kstr(w, "processingEndTime", sb_time_format_ms(jb->end_ms, ts, sizeof ts));
    if (jb->result_doc[0]) sb_jw_kstr(w, dock, jb->result_doc);
    sb_jw_end_obj(w);
}

/* One poll of a feed or report: 1 when the caller is to make its result now (job_finish).
 * Untimed: IN_QUEUE -> IN_PROGRESS, then 1 from the second poll on. Timed (a processing
 * time): IN_QUEUE until start_ms, IN_PROGRESS until end_ms on the simulator's clock, then
 * 1, however often it is polled. A "stuck" fault holds it where it is: Amazon's queue is
 * slow today. */
static int job_poll(sb_sim *sim, sim_job *j, const sim_req *rq) {
    if (rq->stuck) return 0;
    j->polls++;
    int queued = !strcmp(j->status, "IN_QUEUE"), running = !strcmp(j->status, "IN_PROGRESS");
    if (!queued && !running) return 0;
    int64_t now = sim_now_ms(sim);
    if (j->timed) {
        if (now >= j->end_ms) return 1;
        if (now >= j->start_ms) snprintf(j->status, sizeof j->status, "IN_PROGRESS");
        return 0;
    }
    if (queued) {
        snprintf(j->status, sizeof j->status, "IN_PROGRESS");
        j->start_ms = now;
        return 0;
    }
    if (j->polls < 2) return 0;
    j->end_ms = now;
    return 1;
}

/* The job's result document from text: DONE, or FATAL when it cannot be stored. */
static void job_finish(sb_sim *sim, sim_job *j, const sb_buf *text, const char *ctype) {
    sim_doc *d = result_doc(sim, text->data ? text->data : "", text->len, ctype);
    if (d) snprintf(j->result_doc, sizeof j->result_doc, "%s", d->id);
    snprintf(j->status, sizeof j->status, d ? "DONE" : "FATAL");
}

void sim_h_get_feed(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id) {
    sim_job *f = NULL;
    for (size_t i = 0; i < sim->nfeeds; i++)
        if (!strcmp(sim->feeds[i].id, id)) f = &sim->feeds[i];
    if (!f) { sim_error(rs, 404, "NotFound", "Feed not found", id); return; }
    if (job_poll(sim, f, rq)) {
        sb_buf rep;
        sb_buf_init(&rep, 64u << 20);
        sim_doc *in = doc_find(sim, f->input_doc);
        if (!strcmp(f->type, "JSON_LISTINGS_FEED") && in) process_listings_feed(sim, f, in, &rep);
        else sb_buf_printf(&rep, "{\"summary\":{\"messagesProcessed\":0},\"note\":\"feed type %s is accepted but not applied by the simulator\"}", f->type);
        job_finish(sim, f, &rep, "application/json");
        sb_buf_free(&rep);
    }
    sb_jw w;
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    write_job(&w, f, "feedId", "feedType", "resultFeedDocumentId");
}

void sim_h_get_document(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id, int report) {
    sim_doc *d = doc_find(sim, id);
    if (!d || !d->uploaded) { sim_error(rs, 404, report ? "NotFound" : "NotFound", "Document not found", id); return; }
    const char *e = sim_arg(rq, "enableContentEncodingUrlHeader");
    char url[512];
    doc_url(sim, d, url, sizeof url, e && !strcmp(e, "true"));
    sb_jw w;
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, report ? "reportDocumentId" : "feedDocumentId", d->id);
    sb_jw_kstr(&w, "url", url);
    if (d->gzip) sb_jw_kstr(&w, "compressionAlgorithm", "GZIP");
    sb_jw_end_obj(&w);
}

/* getFeeds / getReports: the filters (types csv, marketplaceIds, processingStatuses,
 * createdSince, createdUntil, pageSize 1..100, default 10) or a nextToken alone, as the
 * model says; newest first. The token carries the offset and the filters. */
static int csv_contains(const char *csv, const char *v);

static enum MHD_Result count_args(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind; (void)key; (void)value;
    (*(int *)cls)++;
    return MHD_YES;
}

void sim_h_list_jobs(sb_sim *sim, sim_req *rq, sim_resp *rs, int report) {
    const char *typesk = report ? "reportTypes" : "feedTypes";
    char f[6][1024];   /* types, marketplaces, statuses, since, until, page size */
    long offset = 0;
    memset(f, 0, sizeof f);
    const char *tok = sim_arg(rq, "nextToken");
    if (tok) {
        int nargs = 0;
        MHD_get_connection_values(rq->c, MHD_GET_ARGUMENT_KIND, count_args, &nargs);
        if (nargs != 1) { sim_error(rs, 400, "InvalidInput", "nextToken must be the only parameter", NULL); return; }
        unsigned char raw[8192];
        int n = sim_unb64(tok, raw, sizeof raw - 1);
        if (n < 0) { sim_error(rs, 400, "InvalidInput", "Invalid nextToken", NULL); return; }
        raw[n] = '\0';
        char *p = (char *)raw, *nl = strchr(p, '\n');
        offset = strtol(p, NULL, 10);
        for (int i = 0; i < 6 && nl; i++) {
            p = nl + 1;
            nl = strchr(p, '\n');
            snprintf(f[i], sizeof f[i], "%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
        }
    } else {
        const char *v[6] = {sim_arg(rq, typesk), sim_arg(rq, "marketplaceIds"), sim_arg(rq, "processingStatuses"),
                            sim_arg(rq, "createdSince"), sim_arg(rq, "createdUntil"), sim_arg(rq, "pageSize")};
        if (!v[0] || !*v[0]) {
            char m[96];
            snprintf(m, sizeof m, "%s or nextToken is required", typesk);
            sim_error(rs, 400, "InvalidInput", m, NULL);
            return;
        }
        for (int i = 0; i < 6; i++) snprintf(f[i], sizeof f[i], "%s", v[i] ? v[i] : "");
    }
    long size = f[5][0] ? strtol(f[5], NULL, 10) : 10;
    if (size < 1 || size > 100) { sim_error(rs, 400, "InvalidInput", "pageSize must be 1 to 100", f[5]); return; }
    int64_t since = f[3][0] ? sb_time_parse_ms(f[3]) : sim_now_ms(sim) - (int64_t)90 * 86400000;
    int64_t until = f[4][0] ? sb_time_parse_ms(f[4]) : INT64_MAX;
    if (since < 0 || until < 0) { sim_error(rs, 400, "InvalidInput", "createdSince and createdUntil must be ISO 8601", NULL); return; }
    sim_job *arr = report ? sim->reports : sim->feeds;
    size_t n = report ? sim->nreports : sim->nfeeds;
    sb_jw w;
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    sb_jw_key(&w, report ? "reports" : "feeds");
    sb_jw_arr(&w);
    long seen = 0, put = 0, more = 0;
    for (size_t k = n; k-- > 0;) {   /* created in order, so newest first is backwards */
        sim_job *jb = &arr[k];
        if (!csv_contains(f[0], jb->type) || (f[1][0] && !csv_contains(f[1], jb->mp)) ||
            (f[2][0] && !csv_contains(f[2], jb->status)) || jb->created < since || jb->created > until)
            continue;
        if (seen++ < offset) continue;
        if (put == size) { more = 1; break; }
        write_job(&w, jb, report ? "reportId" : "feedId", report ? "reportType" : "feedType",
                  report ? "reportDocumentId" : "resultFeedDocumentId");
        put++;
    }
    sb_jw_end_arr(&w);
    if (more) {
        char raw[8192], t64[11000];
        int len = snprintf(raw, sizeof raw, "%ld\n%s\n%s\n%s\n%s\n%s\n%s", offset + put, f[0], f[1], f[2], f[3], f[4], f[5]);
        if (len > 0 && (size_t)len < sizeof raw) {
            sim_b64((unsigned char *)raw, (size_t)len, t64, sizeof t64);
            sb_jw_kstr(&w, "nextToken", t64);
        }
    }
    sb_jw_end_obj(&w);
}

/* ---- Reports ---- */

void sim_h_create_report(sb_sim *sim, sim_req *rq, sim_resp *rs) {
    sb_json *j = NULL;
    char mp[24];
    if (body_json(rq, rs, &j)) return;
    const char *type = sb_json_str(j, SB_JSON_ROOT, "reportType");
    if (!type) sim_error(rs, 400, "400", "Invalid input", "reportType is required");
    else if (marketplaces_ok(j, rs, mp, sizeof mp)) ;
    else if (strcmp(type, "GET_MERCHANT_LISTINGS_ALL_DATA")) sim_error(rs, 400, "400", "Invalid input", "The simulator serves GET_MERCHANT_LISTINGS_ALL_DATA only");
    else {
        sim_job *r = job_add(sim, &sim->reports, &sim->nreports, "report", type);
        if (!r) sim_error(rs, 500, "InternalFailure", "out of memory", NULL);
        else {
            snprintf(r->mp, sizeof r->mp, "%s", mp);
            char body[96];
            snprintf(body, sizeof body, "{\"reportId\":\"%s\"}", r->id);
            sim_json(rs, 202, body);
        }
    }
    sb_json_free(j);
}

static void tsv_field(sb_buf *b, const char *s) {
    for (; *s; s++) sb_buf_append(b, (*s == '\t' || *s == '\n' || *s == '\r') ? " " : s, 1);
}

static void render_listings(sb_sim *sim, const char *mp, sb_buf *b) {
    static const char *cols = "item-name\titem-description\tlisting-id\tseller-sku\tprice\tquantity\topen-date\t"
                              "image-url\titem-is-marketplace\tproduct-id-type\tzshop-shipping-fee\titem-note\t"
                              "item-condition\tzshop-category1\tzshop-browse-path\tzshop-storefront-feature\tasin1\t"
                              "asin2\tasin3\twill-ship-internationally\texpedited-shipping\tzshop-boldface\tproduct-id\t"
                              "bid-for-featured-placement\tadd-delete\tpending-quantity\tfulfillment-channel\t"
                              "merchant-shipping-group\tstatus\n";
    sb_buf_append(b, cols, strlen(cols));
    for (size_t i = 0; i < sim->nlistings; i++) {
        sim_listing *l = &sim->listings[i];
        if (strcmp(l->mp, mp)) continue;
        char od[40];
        sb_time_format(l->created, od, sizeof od);
        od[10] = ' ';               /* "2026-03-01 10:00:00 UTC" like the report's locale dates */
        snprintf(od + 19, sizeof od - 19, " UTC");
        int fba = strcmp(l->channel, "DEFAULT") != 0;
        tsv_field(b, l->title);
        sb_buf_printf(b, "\t\t%08zuSIM\t", i + 1);
        tsv_field(b, l->sku);
        sb_buf_printf(b, "\t%s\t", l->price);
        if (!fba) sb_buf_printf(b, "%ld", l->quantity);
        sb_buf_printf(b, "\t%s\t\ty\t1\t\t\t11\t\t\t\t%s\t\t\t\t\t\t%s\t\t\t0\t%s\tMigrated Template\t%s\n", od, l->asin,
                      l->asin, fba ? "AMAZON_NA" : "DEFAULT", l->status);
    }
}

void sim_h_get_report(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id) {
    sim_job *r = NULL;
    for (size_t i = 0; i < sim->nreports; i++)
        if (!strcmp(sim->reports[i].id, id)) r = &sim->reports[i];
    if (!r) { sim_error(rs, 404, "NotFound", "Report not found", id); return; }
    if (job_poll(sim, r, rq)) {
        sb_buf t;
        sb_buf_init(&t, 256u << 20);
        render_listings(sim, r->mp, &t);
        job_finish(sim, r, &t, "text/tab-separated-values; charset=UTF-8");
        sb_buf_free(&t);
    }
    sb_jw w;
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    write_job(&w, r, "reportId", "reportType", "reportDocumentId");
}

/* ---- Listings Items ---- */

static int csv_contains(const char *csv, const char *v) {
    size_t n = strlen(v);
    for (const char *p = csv; p && *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, v, n)) return 1;
        p += k;
        if (*p) p++;
    }
    return 0;
}

/* One Item of the Listings Items model, with the sections includedData names
 * (summaries when it names none). */
static void write_listing(sb_jw *w, const sim_listing *l, const char *inc) {
    int want_fa = inc && csv_contains(inc, "fulfillmentAvailability");
    int want_sum = !inc || csv_contains(inc, "summaries");
    int want_off = inc && csv_contains(inc, "offers");
    int want_attr = inc && csv_contains(inc, "attributes");
    int want_iss = inc && csv_contains(inc, "issues");
    int want_pt = inc && csv_contains(inc, "productTypes");
    char ts[32];
    sb_jw_obj(w);
    sb_jw_kstr(w, "sku", l->sku);
    if (want_sum) {
        sb_jw_key(w, "summaries");
        sb_jw_arr(w);
        sb_jw_obj(w);
        sb_jw_kstr(w, "marketplaceId", l->mp);
        sb_jw_kstr(w, "asin", l->asin);
        sb_jw_kstr(w, "productType", l->product_type);
        sb_jw_kstr(w, "conditionType", "new_new");
        sb_jw_key(w, "status");
        sb_jw_arr(w);
        if (!strcmp(l->status, "Active")) { sb_jw_str(w, "BUYABLE"); sb_jw_str(w, "DISCOVERABLE"); }
        sb_jw_end_arr(w);
        sb_jw_kstr(w, "itemName", l->title);
        sb_jw_kstr(w, "createdDate", sb_time_format(l->created, ts, sizeof ts));
        sb_jw_kstr(w, "lastUpdatedDate", sb_time_format(l->updated, ts, sizeof ts));
        sb_jw_end_obj(w);
        sb_jw_end_arr(w);
    }
    if (want_attr) {   /* the product-type attributes the engine reads and patches */
        sb_jw_key(w, "attributes");
        sb_jw_obj(w);
        sb_jw_key(w, "item_name");
        sb_jw_arr(w);
        sb_jw_obj(w);
        sb_jw_kstr(w, "value", l->title);
        sb_jw_kstr(w, "marketplace_id", l->mp);
        sb_jw_end_obj(w);
        sb_jw_end_arr(w);
        sb_jw_key(w, "fulfillment_availability");
        sb_jw_arr(w);
        sb_jw_obj(w);
        sb_jw_kstr(w, "fulfillment_channel_code", l->channel);
        if (!strcmp(l->channel, "DEFAULT")) {
            sb_jw_kint(w, "quantity", l->quantity);
            sb_jw_kint(w, "lead_time_to_ship_max_days", l->lead_time);
        }
        sb_jw_end_obj(w);
        sb_jw_end_arr(w);
        sb_jw_end_obj(w);
    }
    if (want_iss) {
        sb_jw_key(w, "issues");
        sb_jw_arr(w);
        sb_jw_end_arr(w);
    }
    if (want_off) {
        sb_jw_key(w, "offers");
        sb_jw_arr(w);
        sb_jw_obj(w);
        sb_jw_kstr(w, "marketplaceId", l->mp);
        sb_jw_kstr(w, "offerType", "B2C");
        sb_jw_key(w, "price");
        sb_jw_obj(w);
        sb_jw_kstr(w, "currencyCode", l->currency);
        sb_jw_kstr(w, "amount", l->price);
        sb_jw_end_obj(w);
        sb_jw_end_obj(w);
        sb_jw_end_arr(w);
    }
    if (want_fa) {
        sb_jw_key(w, "fulfillmentAvailability");
        sb_jw_arr(w);
        sb_jw_obj(w);
        sb_jw_kstr(w, "fulfillmentChannelCode", l->channel);
        sb_jw_kint(w, "quantity", l->quantity);
        sb_jw_end_obj(w);
        sb_jw_end_arr(w);
    }
    if (want_pt) {
        sb_jw_key(w, "productTypes");
        sb_jw_arr(w);
        sb_jw_obj(w);
        sb_jw_kstr(w, "marketplaceId", l->mp);
        sb_jw_kstr(w, "productType", l->product_type);
        sb_jw_end_obj(w);
        sb_jw_end_arr(w);
    }
    sb_jw_end_obj(w);
}

void sim_h_search_listings(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *seller) {
    const char *mids = sim_arg(rq, "marketplaceIds"), *inc = sim_arg(rq, "includedData");
    const char *ids = sim_arg(rq, "identifiers"), *idt = sim_arg(rq, "identifiersType");
    const char *ps = sim_arg(rq, "pageSize"), *pt = sim_arg(rq, "pageToken");
    if (strcmp(seller, sim->seller_id)) { sim_error(rs, 403, "Unauthorized", "Access to requested resource is denied.", "The sellerId does not match the access token"); return; }
    if (!mids) { sim_error(rs, 400, "InvalidInput", "Missing required marketplaceIds", NULL); return; }
    if (!!ids != !!idt) { sim_error(rs, 400, "InvalidInput", "identifiers and identifiersType must be given together", NULL); return; }
    long size = ps ? strtol(ps, NULL, 10) : 10;
    if (size < 1 || size > 20) { sim_error(rs, 400, "InvalidInput", "pageSize must be between 1 and 20", NULL); return; }
    long start = 0;
    if (pt) {
        unsigned char raw[64];
        int n = sim_unb64(pt, raw, sizeof raw - 1);
        if (n <= 0 || (raw[n] = 0, sscanf((char *)raw, "p:%ld", &start) != 1) || start < 0) {
            sim_error(rs, 400, "InvalidInput", "Invalid pageToken", NULL);
            return;
        }
    }
    long total = 0, emitted = 0, next = -1;
    sb_jw w;
    sb_buf items;
    sb_buf_init(&items, 64u << 20);
    sb_jw_init(&w, &items);
    sb_jw_arr(&w);
    for (size_t i = 0; i < sim->nlistings; i++) {
        sim_listing *l = &sim->listings[i];
        if (!csv_contains(mids, l->mp)) continue;
        if (ids && !csv_contains(ids, !strcmp(idt, "ASIN") ? l->asin : l->sku)) continue;
        if (total++ < start) continue;
        if (emitted == size) { if (next < 0) next = total - 1; continue; }
        emitted++;
        write_listing(&w, l, inc);
    }
    sb_jw_end_arr(&w);
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    sb_jw_kint(&w, "numberOfResults", total);
    if (next >= 0) {
        char raw[32], t64[64];
        int n = snprintf(raw, sizeof raw, "p:%ld", next);
        sim_b64((unsigned char *)raw, (size_t)n, t64, sizeof t64);
        sb_jw_key(&w, "pagination");
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "nextToken", t64);
        sb_jw_end_obj(&w);
    }
    sb_jw_key(&w, "items");
    sb_jw_raw(&w, items.data, items.len);
    sb_jw_end_obj(&w);
    sb_buf_free(&items);
}

void sim_h_patch_listing(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *seller, const char *sku) {
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    if (strcmp(seller, sim->seller_id)) { sim_error(rs, 403, "Unauthorized", "Access to requested resource is denied.", "The sellerId does not match the access token"); return; }
    if (!sim_arg(rq, "marketplaceIds")) { sim_error(rs, 400, "InvalidInput", "Missing required marketplaceIds", NULL); return; }
    if (!rq->body.len || sb_json_parse(rq->body.data, rq->body.len, &j, e)) {
        sim_error(rs, 400, "InvalidInput", "Request body is not valid JSON", NULL);
        return;
    }
    const char *pt = sb_json_str(j, SB_JSON_ROOT, "productType");
    int ps = sb_json_get(j, SB_JSON_ROOT, "patches");
    sim_listing *l = sim_listing_find(sim, sku);
    const char *issue = NULL;
    if (!pt || !ps || sb_json_type(j, ps, NULL) != SB_JSON_ARR) {
        sim_error(rs, 400, "InvalidInput", "productType and a non-empty patches array are required", NULL);
        goto out;
    }
    long qty = -1, lead = -1;
    for (size_t k = 0; k < sb_json_len(j, ps, NULL); k++) {
        int p = sb_json_at(j, ps, k);
        const char *op = sb_json_str(j, p, "op"), *path = sb_json_str(j, p, "path");
        if (!op || !path || strncmp(path, "/attributes/", 12)) { issue = "Each patch needs op and a /attributes/ path"; break; }
        if (!strcmp(path, "/attributes/fulfillment_availability")) {
            qty = (long)sb_json_num(j, p, "value[0].quantity", -1);
            lead = (long)sb_json_num(j, p, "value[0].lead_time_to_ship_max_days", -1);
            if (qty < 0) issue = "fulfillment_availability needs a quantity >= 0";
        }
    }
    if (!issue && !l) issue = "The SKU does not exist for this seller";
    const char *mode = sim_arg(rq, "mode");
    int preview = mode && !strcmp(mode, "VALIDATION_PREVIEW");
    if (!issue && !preview && qty >= 0) {
        l->quantity = qty;
        if (lead >= 0) l->lead_time = (int)lead;
        l->updated = sim_now_ms(sim) / 1000;
    }
    sb_jw w;
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "sku", sku);
    sb_jw_kstr(&w, "status", issue ? "INVALID" : preview ? "VALID" : "ACCEPTED");
    char sub[48];
    snprintf(sub, sizeof sub, "sim-%016llx", (unsigned long long)sim_rand(sim));
    sb_jw_kstr(&w, "submissionId", sub);
    sb_jw_key(&w, "issues");
    sb_jw_arr(&w);
    if (issue) {
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "code", "90000900");
        sb_jw_kstr(&w, "message", issue);
        sb_jw_kstr(&w, "severity", "ERROR");
        sb_jw_end_obj(&w);
    }
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
out:
    sb_json_free(j);
}

/* getListingsItem: one SKU; 404 NOT_FOUND (Amazon's words) when the seller has no such
 * SKU in the marketplaces asked for. */
void sim_h_get_listing(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *seller, const char *sku) {
    const char *mids = sim_arg(rq, "marketplaceIds"), *inc = sim_arg(rq, "includedData");
    static const char *known[] = {"summaries", "attributes", "issues", "offers", "fulfillmentAvailability",
                                  "procurement", "relationships", "productTypes", NULL};
    char msg[256];
    if (strcmp(seller, sim->seller_id)) { sim_error(rs, 403, "Unauthorized", "Access to requested resource is denied.", "The sellerId does not match the access token"); return; }
    if (!mids || !*mids) { sim_error(rs, 400, "InvalidInput", "Missing required marketplaceIds", NULL); return; }
    for (const char *p = inc; p && *p;) {
        size_t k = strcspn(p, ","), ok = 0;
        for (int i = 0; known[i]; i++) ok |= strlen(known[i]) == k && !strncmp(known[i], p, k);
        if (!ok) {
            snprintf(msg, sizeof msg, "Invalid includedData value: %.*s", (int)k, p);
            sim_error(rs, 400, "InvalidInput", msg, NULL);
            return;
        }
        p += k;
        if (*p) p++;
    }
    sim_listing *l = sim_listing_find(sim, sku);
    if (!l || !csv_contains(mids, l->mp)) {
        snprintf(msg, sizeof msg, "SKU '%.80s' not found in marketplace %.60s", sku, mids);
        sim_error(rs, 404, "NOT_FOUND", msg, NULL);
        return;
    }
    sb_jw w;
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    write_listing(&w, l, inc);
}

void sim_docs_state(sb_sim *sim, sb_jw *w) {
    sb_jw_key(w, "feed_list");
    sb_jw_arr(w);
    for (size_t i = 0; i < sim->nfeeds; i++) write_job(w, &sim->feeds[i], "feedId", "feedType", "resultFeedDocumentId");
    sb_jw_end_arr(w);
    sb_jw_key(w, "feed_inputs");          /* feedId -> inputFeedDocumentId */
    sb_jw_obj(w);
    for (size_t i = 0; i < sim->nfeeds; i++) sb_jw_kstr(w, sim->feeds[i].id, sim->feeds[i].input_doc);
    sb_jw_end_obj(w);
    sb_jw_key(w, "listing_quantities");
    sb_jw_obj(w);
    for (size_t i = 0; i < sim->nlistings; i++) sb_jw_kint(w, sim->listings[i].sku, sim->listings[i].quantity);
    sb_jw_end_obj(w);
}
