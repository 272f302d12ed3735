/* spapi_ops.c: the SP-API operations the engine uses, each a thin layer over sp_call():
 * validate the arguments the way Amazon would (so a bad call never leaves the machine),
 * build the URL and body, and pick the fields the caller needs out of the response. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "json/json.h"
#include "spapi/spapi_int.h"

#define QMAX (64 * 1024)

static int url_start(sb_spapi *s, sb_buf *u, const char *path) {
    sb_buf_init(u, QMAX);
    return sb_buf_printf(u, "%s%s", sp_endpoint(s), path);
}

static int check_time(const char *op, const char *name, const char *v, int64_t *t, char *err) {
    *t = -1;
    if (!v) return 0;
    if ((*t = sb_time_parse(v)) < 0)
        return sb_seterr(err, SB_EINVAL, "%s: %s '%s' is not an ISO 8601 date-time", op, name, v);
    return 0;
}

int sb_spapi_search_orders(sb_spapi *s, const sb_search_orders_params *p, sb_buf *body, char *err) {
    static const char *op = "searchOrders";
    sb_buf u, q;
    sb_buf_init(&q, QMAX);
    int rc = 0;
    int64_t ua, ub, ca, cb;
    if ((rc = url_start(s, &u, "/orders/2026-01-01/orders"))) goto oom;
    if ((rc = check_time(op, "lastUpdatedAfter", p->last_updated_after, &ua, err)) ||
        (rc = check_time(op, "lastUpdatedBefore", p->last_updated_before, &ub, err)) ||
        (rc = check_time(op, "createdAfter", p->created_after, &ca, err)) ||
        (rc = check_time(op, "createdBefore", p->created_before, &cb, err)))
        goto out;
    if (!p->last_updated_after == !p->created_after) {
        rc = sb_seterr(err, SB_EINVAL, "%s: exactly one of lastUpdatedAfter and createdAfter is required", op);
        goto out;
    }
    if ((p->last_updated_before && !p->last_updated_after) || (p->created_before && !p->created_after)) {
        rc = sb_seterr(err, SB_EINVAL, "%s: lastUpdatedBefore goes with lastUpdatedAfter, createdBefore with createdAfter", op);
        goto out;
    }
    int64_t before = ub >= 0 ? ub : cb, after = ua >= 0 ? ua : ca;
    if (before >= 0) {
        int64_t limit = sb_spapi_amazon_now(s) / 1000 - 120;
        if (before > limit) {
            char lim[32];
            sb_time_format(limit, lim, sizeof lim);
            rc = sb_seterr(err, SB_EINVAL, "%s: %s %s must be at least 2 minutes in the past (no later than %s)",
                           op, ub >= 0 ? "lastUpdatedBefore" : "createdBefore",
                           ub >= 0 ? p->last_updated_before : p->created_before, lim);
            goto out;
        }
        if (before < after) {
            rc = sb_seterr(err, SB_EINVAL, "%s: the before-time is earlier than the after-time", op);
            goto out;
        }
    }
    if (p->max_results < 0 || p->max_results > 100) {
        rc = sb_seterr(err, SB_EINVAL, "%s: maxResultsPerPage %d is outside 1..100", op, p->max_results);
        goto out;
    }
    if (p->nmarketplaces > 50) {
        rc = sb_seterr(err, SB_EINVAL, "%s: %d marketplaces, at most 50 allowed", op, p->nmarketplaces);
        goto out;
    }
    if (p->pagination_token && !*p->pagination_token) {
        rc = sb_seterr(err, SB_EINVAL, "%s: empty paginationToken", op);
        goto out;
    }
    char mr[16];
    snprintf(mr, sizeof mr, "%d", p->max_results);
    if ((rc = sp_qadd(&q, "createdAfter", p->created_after)) || (rc = sp_qadd(&q, "createdBefore", p->created_before)) ||
        (rc = sp_qadd(&q, "lastUpdatedAfter", p->last_updated_after)) ||
        (rc = sp_qadd(&q, "lastUpdatedBefore", p->last_updated_before)) ||
        (rc = sp_qadd_list(&q, "fulfillmentStatuses", p->fulfillment_statuses, p->nstatuses)) ||
        (rc = sp_qadd_list(&q, "marketplaceIds", p->marketplace_ids, p->nmarketplaces)) ||
        (rc = sp_qadd(&q, "fulfilledBy", p->fulfilled_by)) ||
        (rc = sp_qadd(&q, "maxResultsPerPage", p->max_results ? mr : NULL)) ||
        (rc = sp_qadd(&q, "includedData", p->included_data)) ||
        (rc = sp_qadd(&q, "paginationToken", p->pagination_token)) ||
        (rc = sb_buf_append(&u, q.data ? q.data : "", q.len)))
        goto oom;
    sp_req r = {.op = SB_OP_SEARCH_ORDERS, .method = "GET", .url = u.data, .sp = 1, .want_json = !p->unchecked,
                .out = body};
    rc = sp_call(s, &r, err);
    goto out;
oom:
    rc = sb_seterr(err, SB_ENOMEM, "%s: request too large", op);
out:
    sb_buf_free(&u);
    sb_buf_free(&q);
    return rc;
}

int sb_spapi_get_order(sb_spapi *s, const char *order_id, const char *included_data, sb_buf *body, char *err) {
    sb_buf u, q;
    sb_buf_init(&q, QMAX);
    int rc;
    if (!order_id || !*order_id) return sb_seterr(err, SB_EINVAL, "getOrder: order id is empty");
    if ((rc = url_start(s, &u, "/orders/2026-01-01/orders/")) || (rc = sp_escape(&u, order_id)) ||
        (rc = sp_qadd(&q, "includedData", included_data)) || (rc = sb_buf_append(&u, q.data ? q.data : "", q.len))) {
        rc = sb_seterr(err, SB_ENOMEM, "getOrder: request too large");
        goto out;
    }
    sp_req r = {.op = SB_OP_GET_ORDER, .method = "GET", .url = u.data, .sp = 1, .want_json = 1, .out = body};
    rc = sp_call(s, &r, err);
out:
    sb_buf_free(&u);
    sb_buf_free(&q);
    return rc;
}

/* ---- confirmShipment ---- */

static int positive_digits(const char *s) {
    if (!s || !*s) return 0;
    int nonzero = 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s)) return 0;
        if (*s != '0') nonzero = 1;
    }
    return nonzero;
}

int sb_spapi_shipment_json(const sb_shipment *sh, sb_buf *out, char *err) {
    static const char *op = "confirmShipment";
    if (!sh->order_id || !*sh->order_id) return sb_seterr(err, SB_EINVAL, "%s: order id is empty", op);
    if (!sh->marketplace_id || !*sh->marketplace_id)
        return sb_seterr(err, SB_EINVAL, "%s: order %s: marketplaceId is empty", op, sh->order_id);
    if (!positive_digits(sh->package_reference_id))
        return sb_seterr(err, SB_EINVAL, "%s: order %s: packageReferenceId '%s' must be a positive number", op,
                         sh->order_id, sh->package_reference_id ? sh->package_reference_id : "");
    if (!sh->carrier_code || !*sh->carrier_code)
        return sb_seterr(err, SB_EINVAL, "%s: order %s: carrierCode is empty", op, sh->order_id);
    if (!strcmp(sh->carrier_code, "Other") && (!sh->carrier_name || !*sh->carrier_name))
        return sb_seterr(err, SB_EINVAL, "%s: order %s: carrierName is required when carrierCode is Other", op,
                         sh->order_id);
    if (!sh->tracking_number || !*sh->tracking_number)
        return sb_seterr(err, SB_EINVAL, "%s: order %s: trackingNumber is empty", op, sh->order_id);
    if (!sh->ship_date || sb_time_parse(sh->ship_date) < 0 || !strchr(sh->ship_date, 'T'))
        return sb_seterr(err, SB_EINVAL, "%s: order %s: shipDate '%s' is not an ISO 8601 date-time", op,
                         sh->order_id, sh->ship_date ? sh->ship_date : "");
    if (sh->nitems <= 0 || !sh->items)
        return sb_seterr(err, SB_EINVAL, "%s: order %s: no order items", op, sh->order_id);
    for (int i = 0; i < sh->nitems; i++) {
        if (!sh->items[i].order_item_id || !*sh->items[i].order_item_id)
            return sb_seterr(err, SB_EINVAL, "%s: order %s: item %d has no orderItemId", op, sh->order_id, i + 1);
        if (sh->items[i].quantity <= 0)
            return sb_seterr(err, SB_EINVAL, "%s: order %s: item %s quantity %d must be positive", op,
                             sh->order_id, sh->items[i].order_item_id, sh->items[i].quantity);
    }
    sb_jw w;
    sb_jw_init(&w, out);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "marketplaceId", sh->marketplace_id);
    sb_jw_key(&w, "packageDetail");
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "packageReferenceId", sh->package_reference_id);
    sb_jw_kstr(&w, "carrierCode", sh->carrier_code);
    if (sh->carrier_name && *sh->carrier_name) sb_jw_kstr(&w, "carrierName", sh->carrier_name);
    if (sh->shipping_method && *sh->shipping_method) sb_jw_kstr(&w, "shippingMethod", sh->shipping_method);
    sb_jw_kstr(&w, "trackingNumber", sh->tracking_number);
    sb_jw_kstr(&w, "shipDate", sh->ship_date);
    sb_jw_key(&w, "orderItems");
    sb_jw_arr(&w);
    for (int i = 0; i < sh->nitems; i++) {
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "orderItemId", sh->items[i].order_item_id);
        sb_jw_kint(&w, "quantity", sh->items[i].quantity);
        sb_jw_end_obj(&w);
    }
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
    sb_jw_end_obj(&w);
    if (sb_jw_error(&w)) return sb_seterr(err, SB_ENOMEM, "%s: request body too large", op);
    return 0;
}

int sb_spapi_confirm_shipment_json(sb_spapi *s, const char *order_id, const char *json, char *err) {
    sb_buf u;
    int rc;
    if (!order_id || !*order_id || !json) return sb_seterr(err, SB_EINVAL, "confirmShipment: order id or body missing");
    if ((rc = url_start(s, &u, "/orders/v0/orders/")) || (rc = sp_escape(&u, order_id)) ||
        (rc = sb_buf_printf(&u, "/shipmentConfirmation"))) {
        rc = sb_seterr(err, SB_ENOMEM, "confirmShipment: request too large");
        goto out;
    }
    sp_req r = {.op = SB_OP_CONFIRM_SHIPMENT, .method = "POST", .url = u.data, .body = json,
                .body_len = strlen(json), .content_type = "application/json", .sp = 1, .once = 1};
    rc = sp_call(s, &r, err);
out:
    sb_buf_free(&u);
    return rc;
}

int sb_spapi_confirm_shipment(sb_spapi *s, const sb_shipment *sh, char *err) {
    sb_buf b;
    sb_buf_init(&b, 1 << 20);
    int rc = sb_spapi_shipment_json(sh, &b, err);
    if (!rc) rc = sb_spapi_confirm_shipment_json(s, sh->order_id, b.data, err);
    sb_buf_free(&b);
    return rc;
}

/* ---- small JSON POST/GET helper: returns the parsed response ---- */

/* once: the request is not idempotent (see sp_req); an unreadable 2xx is then SB_EAMBIG. */
static int call_json(sb_spapi *s, int op, const char *method, sb_buf *url, const char *body, int once,
                     sb_json **out, char *err) {
    sb_buf resp;
    sb_buf_init(&resp, 16 << 20);
    sp_req r = {.op = op, .method = method, .url = url->data, .body = body, .body_len = body ? strlen(body) : 0,
                .content_type = body ? "application/json" : NULL, .sp = 1, .want_json = 1, .once = once, .out = &resp};
    int rc = sp_call(s, &r, err);
    if (!rc && (rc = sb_json_parse(resp.data, resp.len, out, err)))
        rc = sb_seterr(err, once ? SB_EAMBIG : SB_EHTTP, "%s: unreadable response%s", sb_spapi_op_name(op),
                       once ? " - Amazon may have acted on it; not sent again" : "");
    sb_buf_free(&resp);
    return rc;
}

static int need_field(sb_json *j, const char *path, char *dst, size_t n, int op, char *err) {
    if (sb_json_strcpy(j, SB_JSON_ROOT, path, dst, n) < 0 || !*dst)
        return sb_seterr(err, SB_EHTTP, "%s: response has no %s", sb_spapi_op_name(op), path);
    return 0;
}

static void list_body(sb_jw *w, const char *key, const char *const *v, int n) {
    sb_jw_key(w, key);
    sb_jw_arr(w);
    for (int i = 0; i < n; i++) sb_jw_str(w, v[i]);
    sb_jw_end_arr(w);
}

/* ---- Feeds ---- */

int sb_spapi_create_feed_document(sb_spapi *s, const char *content_type, sb_spapi_document *doc, char *err) {
    sb_buf u, b;
    sb_buf_init(&b, 4096);
    sb_json *j = NULL;
    int rc;
    memset(doc, 0, sizeof *doc);
    if (!content_type || !*content_type) return sb_seterr(err, SB_EINVAL, "createFeedDocument: content type is empty");
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "contentType", content_type);
    sb_jw_end_obj(&w);
    if ((rc = url_start(s, &u, "/feeds/2021-06-30/documents")) || sb_jw_error(&w)) {
        rc = sb_seterr(err, SB_ENOMEM, "createFeedDocument: out of memory");
        goto out;
    }
    if ((rc = call_json(s, SB_OP_CREATE_FEED_DOCUMENT, "POST", &u, b.data, 0, &j, err))) goto out;
    if ((rc = need_field(j, "feedDocumentId", doc->id, sizeof doc->id, SB_OP_CREATE_FEED_DOCUMENT, err)) ||
        (rc = need_field(j, "url", doc->url, sizeof doc->url, SB_OP_CREATE_FEED_DOCUMENT, err)))
        goto out;
out:
    sb_json_free(j);
    sb_buf_free(&u);
    sb_buf_free(&b);
    return rc;
}

int sb_spapi_upload_document(sb_spapi *s, const char *url, const char *content_type, const void *data,
                             size_t len, char *err) {
    if (!url || !*url || !content_type || !*content_type)
        return sb_seterr(err, SB_EINVAL, "uploadFeedDocument: url or content type missing");
    sb_buf resp;
    sb_buf_init(&resp, 1 << 20);
    sp_req r = {.op = SB_OP_UPLOAD_FEED_DOCUMENT, .method = "PUT", .url = url, .body = data ? data : "",
                .body_len = len, .content_type = content_type, .out = &resp};
    int rc = sp_call(s, &r, err);
    sb_buf_free(&resp);
    return rc;
}

int sb_spapi_create_feed(sb_spapi *s, const char *feed_type, const char *const *mids, int nm,
                         const char *document_id, char *feed_id, size_t feed_id_len, char *err) {
    sb_buf u, b;
    sb_buf_init(&b, 64 * 1024);
    sb_json *j = NULL;
    int rc;
    if (!feed_type || !*feed_type || !document_id || !*document_id || nm < 1 || nm > 25)
        return sb_seterr(err, SB_EINVAL, "createFeed: feed type, document id and 1..25 marketplaces are required");
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "feedType", feed_type);
    list_body(&w, "marketplaceIds", mids, nm);
    sb_jw_kstr(&w, "inputFeedDocumentId", document_id);
    sb_jw_end_obj(&w);
    if ((rc = url_start(s, &u, "/feeds/2021-06-30/feeds")) || sb_jw_error(&w)) {
        rc = sb_seterr(err, SB_ENOMEM, "createFeed: out of memory");
        goto out;
    }
    if ((rc = call_json(s, SB_OP_CREATE_FEED, "POST", &u, b.data, 1, &j, err))) goto out;
    /* a 202 without an id: the feed exists, which one is not known */
    if ((rc = need_field(j, "feedId", feed_id, feed_id_len, SB_OP_CREATE_FEED, err))) rc = SB_EAMBIG;
out:
    sb_json_free(j);
    sb_buf_free(&u);
    sb_buf_free(&b);
    return rc;
}

static int get_processing(sb_spapi *s, int op, const char *base, const char *id, const char *idkey,
                          const char *typekey, const char *dockey, sb_spapi_processing *out, char *err) {
    sb_buf u;
    sb_json *j = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    if (!id || !*id) return sb_seterr(err, SB_EINVAL, "%s: id is empty", sb_spapi_op_name(op));
    if ((rc = url_start(s, &u, base)) || (rc = sp_escape(&u, id))) {
        rc = sb_seterr(err, SB_ENOMEM, "%s: out of memory", sb_spapi_op_name(op));
        goto out;
    }
    if ((rc = call_json(s, op, "GET", &u, NULL, 0, &j, err))) goto out;
    if ((rc = need_field(j, idkey, out->id, sizeof out->id, op, err)) ||
        (rc = need_field(j, "processingStatus", out->status, sizeof out->status, op, err)))
        goto out;
    sb_json_strcpy(j, SB_JSON_ROOT, typekey, out->type, sizeof out->type);
    sb_json_strcpy(j, SB_JSON_ROOT, dockey, out->document_id, sizeof out->document_id);
    sb_json_strcpy(j, SB_JSON_ROOT, "createdTime", out->created, sizeof out->created);
out:
    sb_json_free(j);
    sb_buf_free(&u);
    return rc;
}

int sb_spapi_get_feed(sb_spapi *s, const char *feed_id, sb_spapi_processing *out, char *err) {
    return get_processing(s, SB_OP_GET_FEED, "/feeds/2021-06-30/feeds/", feed_id, "feedId", "feedType",
                          "resultFeedDocumentId", out, err);
}

/* getFeeds / getReports: listkey "feeds"/"reports", each entry's idkey, typekey, dockey. */
static int list_processing(sb_spapi *s, int op, const char *path, const char *typesq, const char *type,
                           const char *mp, const char *since, const char *listkey, const char *idkey,
                           const char *typekey, const char *dockey, sb_spapi_processing *out, int max, int *n,
                           char *err) {
    const char *name = sb_spapi_op_name(op);
    char next[4096] = "";
    int rc = 0;
    *n = 0;
    if (!type || !*type || max < 1) return sb_seterr(err, SB_EINVAL, "%s: a type and room for the answer are required", name);
    if (since && sb_time_parse(since) < 0) return sb_seterr(err, SB_EINVAL, "%s: createdSince '%s' is not ISO 8601", name, since);
    for (int page = 0; page < 10 && *n < max; page++) {
        sb_buf u, q;
        sb_json *j = NULL;
        sb_buf_init(&q, QMAX);
        /* the first page carries the filters; the next ones nextToken and nothing else */
        if ((rc = url_start(s, &u, path)) ||
            (next[0] ? (rc = sp_qadd(&q, "nextToken", next))
                     : ((rc = sp_qadd(&q, typesq, type)) || (rc = sp_qadd(&q, "marketplaceIds", mp)) ||
                        (rc = sp_qadd(&q, "createdSince", since)) || (rc = sp_qadd(&q, "pageSize", "100")))) ||
            (rc = sb_buf_append(&u, q.data ? q.data : "", q.len))) {
            rc = sb_seterr(err, SB_ENOMEM, "%s: request too large", name);
        } else if (!(rc = call_json(s, op, "GET", &u, NULL, 0, &j, err))) {
            int list = sb_json_get(j, SB_JSON_ROOT, listkey);
            for (size_t i = 0; i < sb_json_len(j, list, NULL) && *n < max; i++) {
                int it = sb_json_at(j, list, i);
                sb_spapi_processing *p = &out[(*n)++];
                memset(p, 0, sizeof *p);
                sb_json_strcpy(j, it, idkey, p->id, sizeof p->id);
                sb_json_strcpy(j, it, typekey, p->type, sizeof p->type);
                sb_json_strcpy(j, it, "processingStatus", p->status, sizeof p->status);
                sb_json_strcpy(j, it, dockey, p->document_id, sizeof p->document_id);
                sb_json_strcpy(j, it, "createdTime", p->created, sizeof p->created);
                if (!p->id[0]) (*n)--;
            }
            if (sb_json_strcpy(j, SB_JSON_ROOT, "nextToken", next, sizeof next) < 0) next[0] = '\0';
        }
        sb_json_free(j);
        sb_buf_free(&u);
        sb_buf_free(&q);
        if (rc || !next[0]) break;
    }
    return rc;
}

int sb_spapi_get_feeds(sb_spapi *s, const char *feed_type, const char *mp, const char *since,
                       sb_spapi_processing *out, int max, int *n, char *err) {
    return list_processing(s, SB_OP_GET_FEEDS, "/feeds/2021-06-30/feeds", "feedTypes", feed_type, mp, since, "feeds",
                           "feedId", "feedType", "resultFeedDocumentId", out, max, n, err);
}

int sb_spapi_get_reports(sb_spapi *s, const char *report_type, const char *mp, const char *since,
                         sb_spapi_processing *out, int max, int *n, char *err) {
    return list_processing(s, SB_OP_GET_REPORTS, "/reports/2021-06-30/reports", "reportTypes", report_type, mp, since,
                           "reports", "reportId", "reportType", "reportDocumentId", out, max, n, err);
}

/* getFeedDocument / getReportDocument, then the download. */
static int get_document(sb_spapi *s, int op, const char *base, const char *idkey, const char *id,
                        sb_spapi_document *docp, sb_buf *content, char *err) {
    sb_buf u, raw;
    sb_buf_init(&raw, (size_t)sp_max_body(s));
    sb_json *j = NULL;
    sb_spapi_document local, *doc = docp ? docp : &local;
    int rc;
    memset(doc, 0, sizeof *doc);
    if (!id || !*id) return sb_seterr(err, SB_EINVAL, "%s: document id is empty", sb_spapi_op_name(op));
    if ((rc = url_start(s, &u, base)) || (rc = sp_escape(&u, id))) {
        rc = sb_seterr(err, SB_ENOMEM, "%s: out of memory", sb_spapi_op_name(op));
        goto out;
    }
    if ((rc = call_json(s, op, "GET", &u, NULL, 0, &j, err))) goto out;
    if ((rc = need_field(j, idkey, doc->id, sizeof doc->id, op, err)) ||
        (rc = need_field(j, "url", doc->url, sizeof doc->url, op, err)))
        goto out;
    sb_json_strcpy(j, SB_JSON_ROOT, "compressionAlgorithm", doc->compression, sizeof doc->compression);
    sp_req r = {.op = SB_OP_DOWNLOAD_DOCUMENT, .method = "GET", .url = doc->url, .decode_encoding = 1, .out = &raw};
    if ((rc = sp_call(s, &r, err))) goto out;
    sb_buf_reset(content);
    /* gunzip when the document is gzip data (libcurl already undid a Content-Encoding) */
    if (raw.len >= 2 && (unsigned char)raw.data[0] == 0x1f && (unsigned char)raw.data[1] == 0x8b) {
        if ((rc = sp_gunzip(raw.data, raw.len, content, err)) < 0) {
            char tmp[SB_ERRLEN];
            snprintf(tmp, sizeof tmp, "%s: document %s: %s", sb_spapi_op_name(op), doc->id, err ? err : "");
            rc = sb_seterr(err, rc, "%s", tmp);
        }
    } else if (!strcmp(doc->compression, "GZIP") && raw.len) {
        rc = sb_seterr(err, SB_EHTTP, "%s: document %s is marked GZIP but is not gzip data",
                       sb_spapi_op_name(op), doc->id);
    } else if (sb_buf_append(content, raw.data ? raw.data : "", raw.len)) {
        rc = sb_seterr(err, SB_ENOMEM, "%s: document larger than the buffer limit", sb_spapi_op_name(op));
    }
out:
    sb_json_free(j);
    sb_buf_free(&u);
    sb_buf_free(&raw);
    return rc;
}

int sb_spapi_get_feed_document(sb_spapi *s, const char *document_id, sb_spapi_document *doc, sb_buf *content,
                               char *err) {
    return get_document(s, SB_OP_GET_FEED_DOCUMENT, "/feeds/2021-06-30/documents/", "feedDocumentId",
                        document_id, doc, content, err);
}

/* ---- Reports ---- */

int sb_spapi_create_report(sb_spapi *s, const char *report_type, const char *const *mids, int nm,
                           const char *data_start_time, char *report_id, size_t report_id_len, char *err) {
    sb_buf u, b;
    sb_buf_init(&b, 64 * 1024);
    sb_json *j = NULL;
    int rc;
    if (!report_type || !*report_type || nm < 1 || nm > 25)
        return sb_seterr(err, SB_EINVAL, "createReport: report type and 1..25 marketplaces are required");
    if (data_start_time && sb_time_parse(data_start_time) < 0)
        return sb_seterr(err, SB_EINVAL, "createReport: dataStartTime '%s' is not ISO 8601", data_start_time);
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "reportType", report_type);
    if (data_start_time) sb_jw_kstr(&w, "dataStartTime", data_start_time);
    list_body(&w, "marketplaceIds", mids, nm);
    sb_jw_end_obj(&w);
    if ((rc = url_start(s, &u, "/reports/2021-06-30/reports")) || sb_jw_error(&w)) {
        rc = sb_seterr(err, SB_ENOMEM, "createReport: out of memory");
        goto out;
    }
    if ((rc = call_json(s, SB_OP_CREATE_REPORT, "POST", &u, b.data, 1, &j, err))) goto out;
    if ((rc = need_field(j, "reportId", report_id, report_id_len, SB_OP_CREATE_REPORT, err))) rc = SB_EAMBIG;
out:
    sb_json_free(j);
    sb_buf_free(&u);
    sb_buf_free(&b);
    return rc;
}

int sb_spapi_get_report(sb_spapi *s, const char *report_id, sb_spapi_processing *out, char *err) {
    return get_processing(s, SB_OP_GET_REPORT, "/reports/2021-06-30/reports/", report_id, "reportId", "reportType",
                          "reportDocumentId", out, err);
}

int sb_spapi_get_report_document(sb_spapi *s, const char *document_id, sb_spapi_document *doc, sb_buf *content,
                                 char *err) {
    return get_document(s, SB_OP_GET_REPORT_DOCUMENT, "/reports/2021-06-30/documents/", "reportDocumentId",
                        document_id, doc, content, err);
}

/* ---- Listings Items ---- */

int sb_spapi_search_listings(sb_spapi *s, const sb_search_listings_params *p, sb_buf *body, char *err) {
    sb_buf u, q;
    sb_buf_init(&q, QMAX);
    int rc;
    if (!p->seller_id || !*p->seller_id || p->nmarketplaces < 1)
        return sb_seterr(err, SB_EINVAL, "searchListingsItems: seller id and marketplace ids are required");
    if (p->page_size < 0 || p->page_size > 20)
        return sb_seterr(err, SB_EINVAL, "searchListingsItems: pageSize %d is outside 1..20", p->page_size);
    if (!p->identifiers != !p->identifiers_type)
        return sb_seterr(err, SB_EINVAL, "searchListingsItems: identifiers and identifiersType go together");
    char ps[16];
    snprintf(ps, sizeof ps, "%d", p->page_size);
    if ((rc = url_start(s, &u, "/listings/2021-08-01/items/")) || (rc = sp_escape(&u, p->seller_id)) ||
        (rc = sp_qadd_list(&q, "marketplaceIds", p->marketplace_ids, p->nmarketplaces)) ||
        (rc = sp_qadd(&q, "includedData", p->included_data)) || (rc = sp_qadd(&q, "identifiers", p->identifiers)) ||
        (rc = sp_qadd(&q, "identifiersType", p->identifiers_type)) ||
        (rc = sp_qadd(&q, "lastUpdatedAfter", p->last_updated_after)) ||
        (rc = sp_qadd(&q, "pageSize", p->page_size ? ps : NULL)) || (rc = sp_qadd(&q, "pageToken", p->page_token)) ||
        (rc = sb_buf_append(&u, q.data ? q.data : "", q.len))) {
        rc = sb_seterr(err, SB_ENOMEM, "searchListingsItems: request too large");
        goto out;
    }
    sp_req r = {.op = SB_OP_SEARCH_LISTINGS, .method = "GET", .url = u.data, .sp = 1, .want_json = 1, .out = body};
    rc = sp_call(s, &r, err);
out:
    sb_buf_free(&u);
    sb_buf_free(&q);
    return rc;
}

int sb_spapi_patch_listings_item(sb_spapi *s, const char *seller_id, const char *sku, const char *const *mids,
                                 int nm, const char *json, sb_buf *body, char *err) {
    sb_buf u, q, own;
    sb_buf_init(&q, QMAX);
    sb_buf_init(&own, 1 << 20);
    sb_buf *out = body ? body : &own;
    sb_json *j = NULL;
    int rc;
    if (!seller_id || !*seller_id || !sku || !*sku || nm < 1 || !json)
        return sb_seterr(err, SB_EINVAL, "patchListingsItem: seller id, sku, marketplace ids and body are required");
    if ((rc = url_start(s, &u, "/listings/2021-08-01/items/")) || (rc = sp_escape(&u, seller_id)) ||
        (rc = sb_buf_append(&u, "/", 1)) || (rc = sp_escape(&u, sku)) ||
        (rc = sp_qadd_list(&q, "marketplaceIds", mids, nm)) || (rc = sb_buf_append(&u, q.data, q.len))) {
        rc = sb_seterr(err, SB_ENOMEM, "patchListingsItem: request too large");
        goto out;
    }
    sp_req r = {.op = SB_OP_PATCH_LISTINGS, .method = "PATCH", .url = u.data, .body = json, .body_len = strlen(json),
                .content_type = "application/json", .sp = 1, .want_json = 1, .out = out};
    if ((rc = sp_call(s, &r, err))) goto out;
    if ((rc = sb_json_parse(out->data, out->len, &j, err))) goto out;
    const char *st = sb_json_str(j, SB_JSON_ROOT, "status");
    if (!st || (strcmp(st, "ACCEPTED") && strcmp(st, "VALID"))) {
        const char *code = sb_json_str(j, SB_JSON_ROOT, "issues[0].code");
        const char *msg = sb_json_str(j, SB_JSON_ROOT, "issues[0].message");
        rc = sb_seterr(err, SB_EINVAL, "patchListingsItem: sku %s: status %s: %s %s", sku, st ? st : "(none)",
                       code ? code : "", msg ? msg : "");
    }
out:
    sb_json_free(j);
    sb_buf_free(&u);
    sb_buf_free(&q);
    sb_buf_free(&own);
    return rc;
}

int sb_spapi_patch_listings_quantity(sb_spapi *s, const char *seller_id, const char *sku,
                                     const char *const *mids, int nm, const char *product_type, long quantity,
                                     int lead_time_days, sb_buf *body, char *err) {
    if (quantity < 0) return sb_seterr(err, SB_EINVAL, "patchListingsItem: sku %s: quantity %ld is negative",
                                       sku ? sku : "", quantity);
    sb_buf b;
    sb_buf_init(&b, 8192);
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "productType", product_type && *product_type ? product_type : "PRODUCT");
    sb_jw_key(&w, "patches");
    sb_jw_arr(&w);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "op", "replace");
    sb_jw_kstr(&w, "path", "/attributes/fulfillment_availability");
    sb_jw_key(&w, "value");
    sb_jw_arr(&w);
    sb_jw_obj(&w);
    sb_jw_kstr(&w, "fulfillment_channel_code", "DEFAULT");
    sb_jw_kint(&w, "quantity", quantity);
    if (lead_time_days >= 0) sb_jw_kint(&w, "lead_time_to_ship_max_days", lead_time_days);
    sb_jw_end_obj(&w);
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
    int rc = sb_jw_error(&w) ? sb_seterr(err, SB_ENOMEM, "patchListingsItem: out of memory")
                             : sb_spapi_patch_listings_item(s, seller_id, sku, mids, nm, b.data, body, err);
    sb_buf_free(&b);
    return rc;
}
