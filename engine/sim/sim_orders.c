/* sim_orders.c: the simulator's orders: a vector sorted by (lastUpdatedTime, orderId),
 * searchOrders paging over it with cursor tokens bound to a hash of the filters, getOrder,
 * confirmShipment, and the generator. Generated orders keep only their sort/filter fields
 * (about 150 bytes each); their JSON is rebuilt from (seed, index) when a page is served,
 * so 100,000 orders cost little memory and a page costs O(page). Stored orders (scenario
 * or admin) keep their JSON per includedData section.
 *
 * Why one file: the order book, its paging tokens and the generator share one sorted
 * vector. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "sim/sim_int.h"

static const char *sec_names[NSEC] = {"buyer", "recipient", "proceeds", "expense", "promotion", "cancellation",
                                      "packages", "tax", "payment", "fulfillmentOrders"};
static const char *sec_data[NSEC] = {"BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION",
                                     "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS"};
static const char *statuses[] = {"PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED",
                                 "CANCELLED", "UNFULFILLABLE", NULL};

static int in_list(const char *v, const char *const *list) {
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], v)) return 1;
    return 0;
}

static void order_free(sim_order *o) {
    if (!o) return;
    for (int i = 0; i < o->nbase; i++) { free(o->base[i].k); free(o->base[i].v); }
    free(o->base);
    for (int i = 0; i < NSEC; i++) free(o->sec[i]);
    free(o);
}

void sim_orders_free(sb_sim *sim) {
    for (size_t i = 0; i < sim->norders; i++) order_free(sim->orders[i]);
    free(sim->orders);
    sim->orders = NULL;
    sim->norders = sim->cap_orders = 0;
}

static int cmp_key(const sim_order *a, int64_t upd, const char *id) {
    if (a->updated != upd) return a->updated < upd ? -1 : 1;
    return strcmp(a->id, id);
}

static int cmp_orders(const void *x, const void *y) {
    const sim_order *a = *(sim_order *const *)x, *b = *(sim_order *const *)y;
    return cmp_key(a, b->updated, b->id);
}

/* First index whose key is > (upd, id) (strict) or >= (upd, "") */
static size_t lower_bound(sb_sim *sim, int64_t upd, const char *id, int strict) {
    size_t lo = 0, hi = sim->norders;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = cmp_key(sim->orders[mid], upd, id);
        if (c < 0 || (strict && c == 0)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int reserve(sb_sim *sim, size_t n) {
    if (n <= sim->cap_orders) return 0;
    size_t cap = sim->cap_orders ? sim->cap_orders : 1024;
    while (cap < n) cap *= 2;
    sim_order **p = realloc(sim->orders, cap * sizeof *p);
    if (!p) return SB_ENOMEM;
    sim->orders = p;
    sim->cap_orders = cap;
    return 0;
}

static sim_order *find(sb_sim *sim, const char *id, size_t *idx) {
    for (size_t i = 0; i < sim->norders; i++)
        if (!strcmp(sim->orders[i]->id, id)) { if (idx) *idx = i; return sim->orders[i]; }
    return NULL;
}

static void unlink_at(sb_sim *sim, size_t i) {
    memmove(sim->orders + i, sim->orders + i + 1, (sim->norders - i - 1) * sizeof *sim->orders);
    sim->norders--;
}

static int insert_sorted(sb_sim *sim, sim_order *o) {
    if (reserve(sim, sim->norders + 1)) return SB_ENOMEM;
    size_t i = lower_bound(sim, o->updated, o->id, 0);
    memmove(sim->orders + i + 1, sim->orders + i, (sim->norders - i) * sizeof *sim->orders);
    sim->orders[i] = o;
    sim->norders++;
    return 0;
}

static void write_order(sb_sim *sim, const sim_order *o, unsigned mask, sb_jw *w);
static int order_change(sb_sim *sim, sb_json *j, int n, int64_t at_ms, char *err);

/* ---- stored orders ---- */

static int order_from_json(sb_sim *sim, sb_json *j, int n, sim_order **out, char *err) {
    sim_order *o = calloc(1, sizeof *o);
    sb_buf v;
    sb_buf_init(&v, 16u << 20);
    int rc = 0;
    if (!o) return sb_seterr(err, SB_ENOMEM, "sim: out of memory");
    o->gen = -1;
    const char *id = sb_json_str(j, n, "orderId");
    if (!id || !*id || strlen(id) >= sizeof o->id) { rc = sb_seterr(err, SB_EINVAL, "sim: order without a valid orderId"); goto out; }
    snprintf(o->id, sizeof o->id, "%s", id);
    int64_t now = sim_now_ms(sim);
    const char *ct = sb_json_str(j, n, "createdTime"), *ut = sb_json_str(j, n, "lastUpdatedTime");
    o->created = ct ? sb_time_parse_ms(ct) : now;
    o->updated = ut ? sb_time_parse_ms(ut) : now;
    /* "_sim": the simulator's own settings for this order, never sent to a client */
    o->listing_delay_ms = sb_json_get(j, n, "_sim.listing_delay_s")
                              ? (int64_t)(sb_json_num(j, n, "_sim.listing_delay_s", 0) * 1000) : -1;
    if (o->created < 0 || o->updated < 0) { rc = sb_seterr(err, SB_EINVAL, "sim: order %s: bad createdTime/lastUpdatedTime", id); goto out; }
    sb_json_strcpy(j, n, "salesChannel.marketplaceId", o->mp, sizeof o->mp);
    if (!o->mp[0]) snprintf(o->mp, sizeof o->mp, "ATVPDKIKX0DER");
    sb_json_strcpy(j, n, "fulfillment.fulfillmentStatus", o->status, sizeof o->status);
    if (!o->status[0]) snprintf(o->status, sizeof o->status, "UNSHIPPED");
    if (!in_list(o->status, statuses)) { rc = sb_seterr(err, SB_EINVAL, "sim: order %s: unknown fulfillmentStatus %s", id, o->status); goto out; }
    sb_json_strcpy(j, n, "fulfillment.fulfilledBy", o->fb, sizeof o->fb);
    if (!o->fb[0]) snprintf(o->fb, sizeof o->fb, "MERCHANT");
    sb_json_strcpy(j, n, "fulfillment.fulfillmentServiceLevel", o->svc, sizeof o->svc);
    if (!o->svc[0]) snprintf(o->svc, sizeof o->svc, "STANDARD");
    int it = 0, vn;
    const char *k;
    while ((vn = sb_json_next(j, n, &it, &k))) {
        if (!strcmp(k, "orderId") || !strcmp(k, "createdTime") || !strcmp(k, "lastUpdatedTime") || !strcmp(k, "fulfillment") ||
            !strcmp(k, "_sim"))
            continue;
        sb_buf_reset(&v);
        if ((rc = sb_json_encode(j, vn, &v, err))) goto out;
        int s = -1;
        for (int i = 0; i < NSEC; i++)
            if (!strcmp(k, sec_names[i])) s = i;
        if (s >= 0) {
            free(o->sec[s]);
            o->sec[s] = strdup(v.data);
        } else {
            sim_kv *b = realloc(o->base, (size_t)(o->nbase + 1) * sizeof *b);
            if (!b) { rc = sb_seterr(err, SB_ENOMEM, "sim: out of memory"); goto out; }
            o->base = b;
            o->base[o->nbase].k = strdup(k);
            o->base[o->nbase].v = strdup(v.data);
            o->nbase++;
        }
    }
    if (!sb_json_get(j, n, "orderItems")) { /* required by the model; keep the order, as Amazon would send [] */
        sim_kv *b = realloc(o->base, (size_t)(o->nbase + 1) * sizeof *b);
        if (b) { o->base = b; o->base[o->nbase].k = strdup("orderItems"); o->base[o->nbase].v = strdup("[]"); o->nbase++; }
    }
out:
    sb_buf_free(&v);
    if (rc) order_free(o);
    else *out = o;
    return rc;
}

/* Adds or replaces one order object (or applies a status change). */
static int upsert_one(sb_sim *sim, sb_json *j, int n, char *err) {
    const char *id = sb_json_str(j, n, "orderId");
    const char *st = sb_json_str(j, n, "fulfillmentStatus");
    size_t idx;
    if (id && st && !sb_json_get(j, n, "createdTime")) {   /* status change */
        const char *ut = sb_json_str(j, n, "lastUpdatedTime");
        return order_change(sim, j, n, ut && sb_time_parse_ms(ut) >= 0 ? sb_time_parse_ms(ut) : sim_now_ms(sim), err);
    }
    sim_order *o = NULL;
    int rc = order_from_json(sim, j, n, &o, err);
    if (rc) return rc;
    sim_order *old = find(sim, o->id, &idx);
    char prev[24] = "";
    if (old) {
        snprintf(prev, sizeof prev, "%s", old->status);
        if (!sb_json_get(j, n, "createdTime")) o->created = old->created;
        if (o->listing_delay_ms < 0) o->listing_delay_ms = old->listing_delay_ms;
        unlink_at(sim, idx);
        order_free(old);
    }
    if ((rc = insert_sorted(sim, o))) { order_free(o); return sb_seterr(err, rc, "sim: out of memory"); }
    sim_sqs_order_event(sim, o, prev[0] ? prev : NULL, 0);
    return 0;
}

int sim_orders_load(sb_sim *sim, sb_json *j, int node, char *err) {
    int rc = 0;
    if (sb_json_type(j, node, NULL) == SB_JSON_ARR) {
        for (size_t i = 0; i < sb_json_len(j, node, NULL) && !rc; i++) rc = upsert_one(sim, j, sb_json_at(j, node, i), err);
    } else if (sb_json_type(j, node, NULL) == SB_JSON_OBJ && sb_json_get(j, node, "orderId")) {
        rc = upsert_one(sim, j, node, err);
    } else if (sb_json_type(j, node, NULL) != SB_JSON_OBJ) {   /* {} is an empty list */
        rc = sb_seterr(err, SB_EINVAL, "sim: orders must be an order object or an array of them");
    }
    return rc;
}

int sim_orders_upsert_json(sb_sim *sim, const char *json, char *err) {
    sb_json *j = NULL;
    int rc = sb_json_parse(json, strlen(json), &j, err);
    if (!rc) rc = sim_orders_load(sim, j, SB_JSON_ROOT, err);
    sb_json_free(j);
    return rc;
}

/* ---- generator ---- */

typedef struct rng { uint64_t s; } rng;
static uint64_t rnext(rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static long rint_(rng *r, long n) { return (long)(rnext(r) % (uint64_t)n); }

static const struct { const char *mp, *country, *states[5]; int weight; } gen_mps[] = {
    {"ATVPDKIKX0DER", "US", {"CA", "NY", "TX", "WA", "FL"}, 55},
    {"A2EUQ1WTGCTBG2", "CA", {"ON", "BC", "QC", "AB", "NS"}, 15},
    {"A39IBJ37TRP1C6", "AU", {"NSW", "VIC", "QLD", "WA", "SA"}, 20},
    {"A1F83G8C2ARO7P", "GB", {"London", "Kent", "Essex", "Surrey", "Devon"}, 10},
};
static const char *first_names[] = {"Alice", "Bruno", "Chen", "Dana", "Emeka", "Fatima", "Grace", "Hiro", "Ines", "Jack"};
static const char *last_names[] = {"Smith", "Garcia", "Wang", "Okafor", "Muller", "Rossi", "Tanaka", "Kowalski", "Silva", "Brown"};
static const char *cities[] = {"Springfield", "Riverside", "Fairview", "Kingston", "Lakeside"};
static const char *levels[] = {"STANDARD", "STANDARD", "STANDARD", "EXPEDITED", "NEXT_DAY", "SECOND_DAY"};

static rng gen_rng(sb_sim *sim, long i, uint64_t stream) {
    rng r = {sim->seed * 0x2545f4914f6cdd1dULL ^ ((uint64_t)i * 0x9e3779b97f4a7c15ULL) ^ (stream << 56)};
    rnext(&r);
    return r;
}

static void gen_meta(sb_sim *sim, long i, long n, sim_order *o) {
    rng r = gen_rng(sim, i, 1);
    o->gen = i;
    int64_t span = 29 * 86400;
    o->listing_delay_ms = -1;
    o->created = sim->gen_base - 30 * 86400 + (int64_t)((double)span * (double)i / (double)(n > 0 ? n : 1)) + rint_(&r, 600);
    o->updated = o->created + rint_(&r, 6 * 3600);
    if (o->updated > sim->gen_base - 600) o->updated = sim->gen_base - 600;
    o->created *= 1000;
    o->updated *= 1000;
    o->shipped_ms = o->updated;
    snprintf(o->id, sizeof o->id, "%03ld-%07ld-%07ld", 100 + (long)(i % 900), (long)((i * 7919) % 10000000),
             (long)(i % 10000000));
    long w = rint_(&r, 100), acc = 0;
    for (size_t k = 0; k < sizeof gen_mps / sizeof *gen_mps; k++) {
        acc += gen_mps[k].weight;
        if (w < acc) { snprintf(o->mp, sizeof o->mp, "%s", gen_mps[k].mp); break; }
    }
    long s = rint_(&r, 100);
    const char *st = s < 10 ? "PENDING" : s < 60 ? "UNSHIPPED" : s < 65 ? "PARTIALLY_SHIPPED" : s < 93 ? "SHIPPED" : "CANCELLED";
    snprintf(o->status, sizeof o->status, "%s", st);
    snprintf(o->gen_status, sizeof o->gen_status, "%s", st);
    snprintf(o->fb, sizeof o->fb, "%s", rint_(&r, 100) < 70 ? "MERCHANT" : "AMAZON");
    snprintf(o->svc, sizeof o->svc, "%s", levels[rint_(&r, 6)]);
}

void sim_orders_generate(sb_sim *sim, long n) {
    if (reserve(sim, sim->norders + (size_t)n)) { sb_error("sim: out of memory generating %ld orders", n); return; }
    for (long i = 0; i < n; i++) {
        sim_order *o = calloc(1, sizeof *o);
        if (!o) break;
        gen_meta(sim, i, n, o);
        sim->orders[sim->norders++] = o;
    }
    qsort(sim->orders, sim->norders, sizeof *sim->orders, cmp_orders);
}

static void money(sb_jw *w, const char *key, long cents, const char *cur) {
    char a[32];
    snprintf(a, sizeof a, "%ld.%02ld", cents / 100, cents % 100);
    sb_jw_key(w, key);
    sb_jw_obj(w);
    sb_jw_kstr(w, "amount", a);
    sb_jw_kstr(w, "currencyCode", cur);
    sb_jw_end_obj(w);
}

static void write_fulfillment(sb_jw *w, const sim_order *o) {
    sb_jw_key(w, "fulfillment");
    sb_jw_obj(w);
    sb_jw_kstr(w, "fulfillmentStatus", o->status);
    sb_jw_kstr(w, "fulfilledBy", o->fb);
    sb_jw_kstr(w, "fulfillmentServiceLevel", o->svc);
    sb_jw_end_obj(w);
}

static void gen_write(sb_sim *sim, const sim_order *o, unsigned mask, sb_jw *w) {
    rng r = gen_rng(sim, o->gen, 2);
    const char *cur = sim_currency(o->mp);
    size_t mpi = 0;
    for (size_t k = 0; k < sizeof gen_mps / sizeof *gen_mps; k++)
        if (!strcmp(gen_mps[k].mp, o->mp)) mpi = k;
    int pending = !strcmp(o->status, "PENDING");
    int prime = rint_(&r, 100) < 30, business = rint_(&r, 100) < 10;
    int nlines = 1 + (int)rint_(&r, 3);
    /* what had shipped when the simulator started follows the generated status; packages
     * confirmed since (confirmShipment) come on top */
    int gen_shipped = !strcmp(o->gen_status, "SHIPPED"), gen_partial = !strcmp(o->gen_status, "PARTIALLY_SHIPPED");
    long price[3], qty[3], sku[3], shipped[3], total = 0;
    for (int l = 0; l < nlines; l++) {
        sku[l] = rint_(&r, 200);
        qty[l] = 1 + rint_(&r, 3);
        if (gen_partial && nlines == 1 && qty[l] < 2) qty[l] = 2;   /* a part must be left to ship */
        shipped[l] = gen_shipped ? qty[l] : !gen_partial ? 0 : nlines == 1 ? qty[l] - 1 : l < nlines - 1 ? qty[l] : 0;
        price[l] = 499 + rint_(&r, 20000);
        total += price[l] * qty[l];
    }
    const char *fn = first_names[rint_(&r, 10)], *ln = last_names[rint_(&r, 10)];
    char ts[32], name[64], email[96];
    snprintf(name, sizeof name, "%s %s", fn, ln);
    snprintf(email, sizeof email, "%.16s%ld@marketplace.amazon.com", fn, (long)(o->gen % 100000));
    for (char *p = email; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    sb_jw_obj(w);
    sb_jw_kstr(w, "orderId", o->id);
    sb_jw_kstr(w, "createdTime", sb_time_format_ms(o->created, ts, sizeof ts));
    sb_jw_kstr(w, "lastUpdatedTime", sb_time_format_ms(o->updated, ts, sizeof ts));
    sb_jw_key(w, "programs");
    sb_jw_arr(w);
    if (prime) sb_jw_str(w, "PRIME");
    if (business) sb_jw_str(w, "AMAZON_BUSINESS");
    if (!strcmp(o->fb, "AMAZON")) sb_jw_str(w, "DELIVERY_BY_AMAZON");
    sb_jw_end_arr(w);
    sb_jw_key(w, "salesChannel");
    sb_jw_obj(w);
    sb_jw_kstr(w, "channelName", "AMAZON");
    sb_jw_kstr(w, "marketplaceId", o->mp);
    sb_jw_end_obj(w);
    if ((mask & (1u << SEC_BUYER)) && !pending) {
        sb_jw_key(w, "buyer");
        sb_jw_obj(w);
        sb_jw_kstr(w, "buyerName", name);
        if (!strcmp(o->fb, "MERCHANT")) sb_jw_kstr(w, "buyerEmail", email);
        if (business) sb_jw_kstr(w, "buyerCompanyName", "Acme Supplies Pty Ltd");
        sb_jw_end_obj(w);
    }
    if ((mask & (1u << SEC_RECIPIENT)) && !pending) {
        char line1[64], postal[16];
        snprintf(line1, sizeof line1, "%ld %s Street", 1 + rint_(&r, 999), last_names[rint_(&r, 10)]);
        snprintf(postal, sizeof postal, "%05ld", 1000 + rint_(&r, 90000));
        sb_jw_key(w, "recipient");
        sb_jw_obj(w);
        sb_jw_key(w, "deliveryAddress");
        sb_jw_obj(w);
        sb_jw_kstr(w, "name", name);
        sb_jw_kstr(w, "addressLine1", line1);
        sb_jw_kstr(w, "city", cities[rint_(&r, 5)]);
        sb_jw_kstr(w, "stateOrRegion", gen_mps[mpi].states[rint_(&r, 5)]);
        sb_jw_kstr(w, "postalCode", postal);
        sb_jw_kstr(w, "countryCode", gen_mps[mpi].country);
        sb_jw_kstr(w, "addressType", business ? "COMMERCIAL" : "RESIDENTIAL");
        sb_jw_end_obj(w);
        sb_jw_end_obj(w);
    }
    if ((mask & (1u << SEC_PROCEEDS)) && !pending) {
        sb_jw_key(w, "proceeds");
        sb_jw_obj(w);
        money(w, "grandTotal", total, cur);
        sb_jw_end_obj(w);
    }
    if (mask & MASK_FULFILLMENT) write_fulfillment(w, o);
    sb_jw_key(w, "orderItems");
    sb_jw_arr(w);
    sb_json *conf = NULL;   /* confirmed packages, for the quantities shipped since */
    char ce[SB_ERRLEN];
    if ((mask & MASK_FULFILLMENT) && o->sec[SEC_PACKAGES] &&
        sb_json_parse(o->sec[SEC_PACKAGES], strlen(o->sec[SEC_PACKAGES]), &conf, ce))
        conf = NULL;
    for (int l = 0; l < nlines; l++) {
        char itemid[32], skus[24], asin[16], title[48];
        snprintf(itemid, sizeof itemid, "%011ld%03d", (long)(o->gen % 100000000000L), l);
        snprintf(skus, sizeof skus, "SKU-%04ld", sku[l]);
        snprintf(asin, sizeof asin, "B0SIM%05ld", sku[l]);
        snprintf(title, sizeof title, "Simulated product %ld", sku[l]);
        sb_jw_obj(w);
        sb_jw_kstr(w, "orderItemId", itemid);
        sb_jw_kint(w, "quantityOrdered", qty[l]);
        sb_jw_key(w, "product");
        sb_jw_obj(w);
        sb_jw_kstr(w, "asin", asin);
        sb_jw_kstr(w, "title", title);
        sb_jw_kstr(w, "sellerSku", skus);
        if (!pending) {
            sb_jw_key(w, "price");
            sb_jw_obj(w);
            money(w, "unitPrice", price[l], cur);
            sb_jw_end_obj(w);
        }
        sb_jw_end_obj(w);
        if ((mask & (1u << SEC_PROCEEDS)) && !pending) {
            sb_jw_key(w, "proceeds");
            sb_jw_obj(w);
            money(w, "proceedsTotal", price[l] * qty[l], cur);
            sb_jw_end_obj(w);
        }
        if (mask & MASK_FULFILLMENT) {   /* ItemFulfillment, with includedData=FULFILLMENT */
            long done = shipped[l];
            for (size_t k = 0; conf && k < sb_json_len(conf, SB_JSON_ROOT, NULL); k++) {
                int pk = sb_json_at(conf, SB_JSON_ROOT, k), items = sb_json_get(conf, pk, "packageItems");
                for (size_t m = 0; m < sb_json_len(conf, items, NULL); m++) {
                    int pi = sb_json_at(conf, items, m);
                    const char *oi = sb_json_str(conf, pi, "orderItemId");
                    if (oi && !strcmp(oi, itemid)) done += (long)sb_json_num(conf, pi, "quantity", 0);
                }
            }
            if (done > qty[l]) done = qty[l];
            sb_jw_key(w, "fulfillment");
            sb_jw_obj(w);
            sb_jw_kint(w, "quantityFulfilled", done);
            /* a cancellation leaves nothing to ship */
            sb_jw_kint(w, "quantityUnfulfilled", !strcmp(o->status, "CANCELLED") ? 0 : qty[l] - done);
            sb_jw_end_obj(w);
        }
        sb_jw_end_obj(w);
    }
    sb_jw_end_arr(w);
    sb_json_free(conf);
    int gen_pkg = (gen_shipped || gen_partial) && !strcmp(o->fb, "MERCHANT");   /* packages are FBM only */
    if ((mask & (1u << SEC_PACKAGES)) && (gen_pkg || o->sec[SEC_PACKAGES])) {
        static const char *carriers[][2] = {{"USPS", "USPS Priority Mail"}, {"UPS", "UPS Ground"},
                                            {"FedEx", "FedEx Home Delivery"}, {"DHL", "DHL Express"}};
        sb_jw_key(w, "packages");
        sb_jw_arr(w);
        if (gen_pkg) {   /* one package with what had shipped */
            long c = o->gen % 4;
            char ref[24], trk[32];
            snprintf(ref, sizeof ref, "%ld", 1 + o->gen);
            snprintf(trk, sizeof trk, "%s%012ld", c == 1 ? "1Z" : "94", (long)((o->gen * 104729) % 1000000000000L));
            sb_jw_obj(w);
            sb_jw_kstr(w, "packageReferenceId", ref);
            sb_jw_kstr(w, "createdTime", sb_time_format_ms(o->shipped_ms, ts, sizeof ts));
            sb_jw_key(w, "packageStatus");
            sb_jw_obj(w);
            sb_jw_kstr(w, "status", "SHIPPED");
            sb_jw_end_obj(w);
            sb_jw_kstr(w, "carrier", carriers[c][0]);
            sb_jw_kstr(w, "shipTime", sb_time_format_ms(o->shipped_ms, ts, sizeof ts));
            sb_jw_kstr(w, "shippingService", carriers[c][1]);
            sb_jw_kstr(w, "trackingNumber", trk);
            sb_jw_key(w, "packageItems");
            sb_jw_arr(w);
            for (int l = 0; l < nlines; l++) {
                if (!shipped[l]) continue;
                char itemid[32];
                snprintf(itemid, sizeof itemid, "%011ld%03d", (long)(o->gen % 100000000000L), l);
                sb_jw_obj(w);
                sb_jw_kstr(w, "orderItemId", itemid);
                sb_jw_kint(w, "quantity", shipped[l]);
                sb_jw_end_obj(w);
            }
            sb_jw_end_arr(w);
            sb_jw_end_obj(w);
        }
        if (o->sec[SEC_PACKAGES]) {   /* confirmed since: the encoded array's elements */
            const char *a = o->sec[SEC_PACKAGES];
            size_t n = strlen(a);
            if (n > 2) sb_jw_raw(w, a + 1, n - 2);
        }
        sb_jw_end_arr(w);
    }
    sb_jw_end_obj(w);
}

/* A stored order's orderItems without their item-level fulfillment (Amazon sends it with
 * includedData=FULFILLMENT only). */
static void write_items_without_fulfillment(sb_jw *w, const char *items) {
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    if (sb_json_parse(items, strlen(items), &j, e)) { sb_jw_raw(w, items, strlen(items)); return; }
    sb_buf v;
    sb_buf_init(&v, 16u << 20);
    sb_jw_arr(w);
    for (size_t i = 0; i < sb_json_len(j, SB_JSON_ROOT, NULL); i++) {
        int it = sb_json_at(j, SB_JSON_ROOT, i), iter = 0, vn;
        const char *k;
        sb_jw_obj(w);
        while ((vn = sb_json_next(j, it, &iter, &k))) {
            if (!strcmp(k, "fulfillment")) continue;
            sb_buf_reset(&v);
            if (sb_json_encode(j, vn, &v, e)) continue;
            sb_jw_key(w, k);
            sb_jw_raw(w, v.data, v.len);
        }
        sb_jw_end_obj(w);
    }
    sb_jw_end_arr(w);
    sb_buf_free(&v);
    sb_json_free(j);
}

static void write_order(sb_sim *sim, const sim_order *o, unsigned mask, sb_jw *w) {
    if (o->gen >= 0) { gen_write(sim, o, mask, w); return; }
    char ts[32];
    sb_jw_obj(w);
    sb_jw_kstr(w, "orderId", o->id);
    sb_jw_kstr(w, "createdTime", sb_time_format_ms(o->created, ts, sizeof ts));
    sb_jw_kstr(w, "lastUpdatedTime", sb_time_format_ms(o->updated, ts, sizeof ts));
    for (int i = 0; i < o->nbase; i++) {
        sb_jw_key(w, o->base[i].k);
        if (!strcmp(o->base[i].k, "orderItems") && !(mask & MASK_FULFILLMENT) && strstr(o->base[i].v, "\"fulfillment\""))
            write_items_without_fulfillment(w, o->base[i].v);
        else sb_jw_raw(w, o->base[i].v, strlen(o->base[i].v));
    }
    for (int i = 0; i < NSEC; i++)
        if (o->sec[i] && (mask & (1u << i))) {
            sb_jw_key(w, sec_names[i]);
            sb_jw_raw(w, o->sec[i], strlen(o->sec[i]));
        }
    if (mask & MASK_FULFILLMENT) write_fulfillment(w, o);
    sb_jw_end_obj(w);
}

void sim_order_write(sb_sim *sim, const sim_order *o, sb_jw *w) { write_order(sim, o, ~0u, w); }

/* ---- includedData ---- */

static int parse_included(const char *v, unsigned *mask, char *bad, size_t badn) {
    *mask = 0;
    if (!v) return 0;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", v);
    for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int ok = 0;
        if (!strcmp(t, "FULFILLMENT")) { *mask |= MASK_FULFILLMENT; ok = 1; }
        for (int i = 0; i < NSEC; i++)
            if (!strcmp(t, sec_data[i])) { *mask |= 1u << i; ok = 1; }
        if (!ok) { snprintf(bad, badn, "%s", t); return -1; }
    }
    return 0;
}

/* ---- searchOrders ---- */

static uint64_t fnv(uint64_t h, const char *s) {
    for (s = s ? s : "~"; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (h ^ '|') * 0x100000001b3ULL;
}

static int csv_has(const char *csv, const char *v) {
    if (!csv) return 1;
    size_t n = strlen(v);
    for (const char *p = csv; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, v, n)) return 1;
        p += k;
        if (*p) p++;
    }
    return 0;
}

static int csv_check(const char *csv, const char *const *allowed, int (*known)(const char *), char *bad, size_t badn,
                     int *count) {
    *count = 0;
    if (!csv) return 0;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", csv);
    for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        (*count)++;
        if ((allowed && !in_list(t, allowed)) || (known && !known(t))) { snprintf(bad, badn, "%s", t); return -1; }
    }
    return 0;
}

void sim_h_search_orders(sb_sim *sim, sim_req *rq, sim_resp *rs) {
    const char *ua = sim_arg(rq, "lastUpdatedAfter"), *ub = sim_arg(rq, "lastUpdatedBefore");
    const char *ca = sim_arg(rq, "createdAfter"), *cb = sim_arg(rq, "createdBefore");
    const char *mids = sim_arg(rq, "marketplaceIds"), *fst = sim_arg(rq, "fulfillmentStatuses");
    const char *fby = sim_arg(rq, "fulfilledBy"), *mrp = sim_arg(rq, "maxResultsPerPage");
    const char *inc = sim_arg(rq, "includedData"), *tok = sim_arg(rq, "paginationToken");
    char msg[600], bad[256], ts[32];
    int64_t now = sim_now_ms(sim);   /* ms: Amazon's SDK sends and compares milliseconds */
    if (!ua == !ca) {
        sim_error(rs, 400, "InvalidInput", ua ? "createdAfter and lastUpdatedAfter cannot both be set"
                                              : "Either createdAfter or lastUpdatedAfter must be provided", NULL);
        return;
    }
    if ((ub && !ua) || (cb && !ca)) {
        sim_error(rs, 400, "InvalidInput", "lastUpdatedBefore requires lastUpdatedAfter and createdBefore requires createdAfter", NULL);
        return;
    }
    const char *an = ua ? "lastUpdatedAfter" : "createdAfter", *bn = ua ? "lastUpdatedBefore" : "createdBefore";
    int64_t after = sb_time_parse_ms(ua ? ua : ca), before;
    if (after < 0) {
        snprintf(msg, sizeof msg, "Invalid %s: %s is not a valid ISO 8601 date-time", an, ua ? ua : ca);
        sim_error(rs, 400, "InvalidInput", msg, NULL);
        return;
    }
    if (ub || cb) {
        before = sb_time_parse_ms(ub ? ub : cb);
        if (before < 0) {
            snprintf(msg, sizeof msg, "Invalid %s: %s is not a valid ISO 8601 date-time", bn, ub ? ub : cb);
            sim_error(rs, 400, "InvalidInput", msg, NULL);
            return;
        }
        if (before > now - 120000) {
            snprintf(msg, sizeof msg, "%s must be a date at least 2 minutes before the time the request is made", bn);
            sim_error(rs, 400, "InvalidInput", msg, NULL);
            return;
        }
        if (before < after) {
            snprintf(msg, sizeof msg, "%s must be after %s", bn, an);
            sim_error(rs, 400, "InvalidInput", msg, NULL);
            return;
        }
    } else before = now - 120000;
    int cnt;
    if (csv_check(mids, NULL, sim_known_marketplace, bad, sizeof bad, &cnt) || cnt > 50) {
        snprintf(msg, sizeof msg, cnt > 50 ? "At most 50 marketplaceIds are allowed" : "Invalid marketplaceId: %s", bad);
        sim_error(rs, 400, "InvalidInput", msg, NULL);
        return;
    }
    if (csv_check(fst, statuses, NULL, bad, sizeof bad, &cnt)) {
        snprintf(msg, sizeof msg, "Invalid fulfillmentStatuses value: %s", bad);
        sim_error(rs, 400, "InvalidInput", msg, NULL);
        return;
    }
    static const char *fbys[] = {"MERCHANT", "AMAZON", NULL};
    if (csv_check(fby, fbys, NULL, bad, sizeof bad, &cnt)) {
        snprintf(msg, sizeof msg, "Invalid fulfilledBy value: %s", bad);
        sim_error(rs, 400, "InvalidInput", msg, NULL);
        return;
    }
    long max = 100;
    if (mrp) {
        char *end;
        max = strtol(mrp, &end, 10);
        if (*end || max < 1 || max > 100) {
            sim_error(rs, 400, "InvalidInput", "maxResultsPerPage must be between 1 and 100", NULL);
            return;
        }
    }
    unsigned mask;
    if (parse_included(inc, &mask, bad, sizeof bad)) {
        snprintf(msg, sizeof msg, "Invalid includedData value: %s", bad);
        sim_error(rs, 400, "InvalidInput", msg, NULL);
        return;
    }
    /* the filters a token is bound to (all but maxResultsPerPage and includedData) */
    char ab[24], bb[24];
    snprintf(ab, sizeof ab, "%lld", (long long)after);
    snprintf(bb, sizeof bb, "%lld", (long long)before);
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, ua ? "u" : "c");
    h = fnv(h, ab);
    h = fnv(h, (ub || cb) ? bb : NULL);
    h = fnv(h, mids);
    h = fnv(h, fst);
    h = fnv(h, fby);
    size_t start;
    int created_mode = ca != NULL;
    if (tok) {
        unsigned char raw[256];
        int n = sim_unb64(tok, raw, sizeof raw - 1);
        unsigned long long th = 0;
        long long tu = 0;
        char tid[48] = "";
        if (n > 3) {
            raw[n] = '\0';
            if (sscanf((char *)raw + 3, "v1:%llx:%lld:%47s", &th, &tu, tid) != 3) n = -1;
        }
        if (n <= 3) {
            sim_error(rs, 400, "InvalidInput", "Invalid paginationToken", "We could not decode your paginationToken.");
            return;
        }
        if (th != h) {
            sim_error(rs, 400, "InvalidInput", "Invalid paginationToken",
                      "The paginationToken does not match the other request parameters, which must be identical on every page.");
            return;
        }
        if (!ub && !cb) before = now - 120000;
        start = lower_bound(sim, tu, tid, 1);
    } else {
        start = created_mode ? 0 : lower_bound(sim, after, "", 0);
    }
    sb_jw w;
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    sb_jw_key(&w, "orders");
    sb_jw_arr(&w);
    long got = 0;
    sim_order *last = NULL;
    int more = 0;
    for (size_t i = start; i < sim->norders; i++) {
        sim_order *o = sim->orders[i];
        /* both bounds are "at or after" / "at or before" (the 2026-01-01 model) */
        if (!created_mode && o->updated > before) break;
        if (created_mode && (o->created < after || o->created > before)) continue;
        int64_t delay = o->listing_delay_ms >= 0 ? o->listing_delay_ms : sim->listing_delay_ms;
        if (delay > 0 && now < o->updated + sim_scaled_ms(sim, (double)delay / 1000.0)) continue;   /* listed late */
        if (mids && !csv_has(mids, o->mp)) continue;
        if (fst && !csv_has(fst, o->status)) continue;
        if (fby && !csv_has(fby, o->fb)) continue;
        if (got == max) { more = 1; break; }
        write_order(sim, o, mask, &w);
        last = o;
        got++;
    }
    sb_jw_end_arr(&w);
    if (more && last) {
        char raw[128], t64[200];
        raw[0] = (char)0xfb; raw[1] = (char)0xff; raw[2] = (char)0xbf;   /* base64 "+/+/": callers must encode */
        int n = snprintf(raw + 3, sizeof raw - 3, "v1:%llx:%lld:%s", (unsigned long long)h, (long long)last->updated, last->id);
        sim_b64((unsigned char *)raw, (size_t)n + 3, t64, sizeof t64);
        sb_jw_key(&w, "pagination");
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "nextToken", t64);
        sb_jw_end_obj(&w);
    }
    /* echoed as sent (the SDK's millisecond form), else the bound the simulator used */
    sb_jw_kstr(&w, created_mode ? "createdBefore" : "lastUpdatedBefore",
               (ub || cb) ? (ub ? ub : cb) : sb_time_format_ms(before, ts, sizeof ts));
    sb_jw_end_obj(&w);
}

void sim_h_get_order(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id) {
    unsigned mask;
    char bad[64], msg[128];
    if (parse_included(sim_arg(rq, "includedData"), &mask, bad, sizeof bad)) {
        snprintf(msg, sizeof msg, "Invalid includedData value: %s", bad);
        sim_error(rs, 400, "InvalidInput", msg, NULL);
        return;
    }
    sim_order *o = find(sim, id, NULL);
    if (!o) {
        sim_error(rs, 404, "NotFound", "The requested order was not found", id);
        return;
    }
    sb_jw w;
    rs->status = 200;
    sb_buf_reset(&rs->body);
    sb_jw_init(&w, &rs->body);
    sb_jw_obj(&w);
    sb_jw_key(&w, "order");
    char *confirmed = o->sec[SEC_PACKAGES];
    if (rq->stale) o->sec[SEC_PACKAGES] = NULL;   /* as before the confirmations since */
    write_order(sim, o, mask, &w);
    o->sec[SEC_PACKAGES] = confirmed;
    sb_jw_end_obj(&w);
}

/* confirmShipment: validates the body the way users report Amazon does, and marks the
 * order SHIPPED (and bumps lastUpdatedTime) when every line is covered. */
void sim_h_confirm_shipment(sb_sim *sim, sim_req *rq, sim_resp *rs, const char *id) {
    sb_json *j = NULL;
    char e[SB_ERRLEN];
    if (!rq->body.len || sb_json_parse(rq->body.data, rq->body.len, &j, e)) {
        sim_error(rs, 400, "InvalidInput", "Request body is not valid JSON", NULL);
        goto out;
    }
    const char *mp = sb_json_str(j, SB_JSON_ROOT, "marketplaceId");
    int pd = sb_json_get(j, SB_JSON_ROOT, "packageDetail");
    if (!mp || !pd) { sim_error(rs, 400, "InvalidInput", "marketplaceId and packageDetail are required", NULL); goto out; }
    if (!sim_known_marketplace(mp)) { sim_error(rs, 400, "InvalidInput", "Marketplace ID is not defined", mp); goto out; }
    int prt = sb_json_type(j, pd, "packageReferenceId");
    if (prt == SB_JSON_NUM) {
        sim_error(rs, 400, "InvalidInput", "Please check the fields with invalid type [packageDetail.packageReferenceId]", NULL);
        goto out;
    }
    const char *pr = sb_json_str(j, pd, "packageReferenceId");
    int digits = pr && *pr;
    for (const char *p = pr; p && *p; p++) digits &= *p >= '0' && *p <= '9';
    if (!digits || strspn(pr, "0") == strlen(pr)) {
        sim_error(rs, 400, "InvalidInput", "PackageReferenceId: is invalid, must be a positive numeric value.", NULL);
        goto out;
    }
    const char *cc = sb_json_str(j, pd, "carrierCode"), *tn = sb_json_str(j, pd, "trackingNumber");
    const char *sd = sb_json_str(j, pd, "shipDate");
    if (!cc || !*cc) { sim_error(rs, 400, "InvalidInput", "carrierCode is required", NULL); goto out; }
    if (!strcmp(cc, "Other") && !sb_json_str(j, pd, "carrierName")) {
        sim_error(rs, 400, "InvalidInput", "carrierName is required when carrierCode is Other", NULL);
        goto out;
    }
    if (!tn || !*tn) { sim_error(rs, 400, "InvalidInput", "trackingNumber is required", NULL); goto out; }
    if (!sd || sb_time_parse(sd) < 0 || !strchr(sd, 'T')) { sim_error(rs, 400, "InvalidInput", "Invalid Input", "shipDate must be ISO 8601"); goto out; }
    if (sb_json_type(j, pd, "orderItems") != SB_JSON_ARR) {
        sim_error(rs, 400, "InvalidInput", "OrderItemId is invalid, please obtain the value through the getOrderItems API", NULL);
        goto out;
    }
    for (size_t i = 0; i < sb_json_len(j, pd, "orderItems"); i++) {
        int it = sb_json_at(j, sb_json_get(j, pd, "orderItems"), i);
        if (!sb_json_str(j, it, "orderItemId") || sb_json_num(j, it, "quantity", 0) < 1) {
            sim_error(rs, 400, "InvalidInput", "OrderItemId is invalid, please obtain the value through the getOrderItems API", NULL);
            goto out;
        }
    }
    size_t idx;
    sim_order *o = find(sim, id, &idx);
    if (!o) { sim_error(rs, 404, "NotFound", "Order not found", id); goto out; }
    if (!strcmp(o->fb, "AMAZON")) { sim_error(rs, 400, "InvalidInput", "Cannot confirm shipment of an order fulfilled by Amazon", id); goto out; }
    if (!strcmp(o->status, "CANCELLED")) { sim_error(rs, 400, "InvalidInput", "The order is cancelled", id); goto out; }
    /* the package joins the order's packages (getOrder/searchOrders with PACKAGES), so a
     * client can see what Amazon already has; the same packageReferenceId replaces */
    sb_buf pk;
    sb_jw pw;
    sb_buf_init(&pk, 1 << 20);
    sb_jw_init(&pw, &pk);
    sb_jw_arr(&pw);
    sb_json *old = NULL;
    char oe[SB_ERRLEN];
    if (o->sec[SEC_PACKAGES] && !sb_json_parse(o->sec[SEC_PACKAGES], strlen(o->sec[SEC_PACKAGES]), &old, oe)) {
        for (size_t i = 0; i < sb_json_len(old, SB_JSON_ROOT, NULL); i++) {
            int node = sb_json_at(old, SB_JSON_ROOT, i);
            const char *ref = sb_json_str(old, node, "packageReferenceId");
            if (ref && !strcmp(ref, pr) && sim->refuse_repeat_confirm) {
                /* Amazon's refusal of a repeat does not always say why */
                sim_error(rs, 400, "InvalidInput", "Invalid Input", NULL);
                sb_json_free(old);
                sb_buf_free(&pk);
                goto out;
            }
            if (ref && !strcmp(ref, pr)) continue;
            sb_buf one;
            sb_buf_init(&one, 1 << 20);
            if (!sb_json_encode(old, node, &one, oe)) sb_jw_raw(&pw, one.data, one.len);
            sb_buf_free(&one);
        }
    }
    sb_json_free(old);
    sb_jw_obj(&pw);
    sb_jw_kstr(&pw, "packageReferenceId", pr);
    sb_jw_kstr(&pw, "carrier", !strcmp(cc, "Other") ? sb_json_str(j, pd, "carrierName") : cc);
    sb_jw_kstr(&pw, "trackingNumber", tn);
    sb_jw_kstr(&pw, "shipTime", sd);
    char cts[32];
    sb_jw_kstr(&pw, "createdTime", sb_time_format_ms(sim_now_ms(sim), cts, sizeof cts));
    sb_jw_key(&pw, "packageStatus");
    sb_jw_obj(&pw);
    sb_jw_kstr(&pw, "status", "SHIPPED");
    sb_jw_end_obj(&pw);
    sb_jw_key(&pw, "packageItems");
    sb_jw_arr(&pw);
    for (size_t i = 0; i < sb_json_len(j, pd, "orderItems"); i++) {
        int it = sb_json_at(j, sb_json_get(j, pd, "orderItems"), i);
        sb_jw_obj(&pw);
        sb_jw_kstr(&pw, "orderItemId", sb_json_str(j, it, "orderItemId"));
        sb_jw_kint(&pw, "quantity", (long long)sb_json_num(j, it, "quantity", 0));
        sb_jw_end_obj(&pw);
    }
    sb_jw_end_arr(&pw);
    sb_jw_end_obj(&pw);
    sb_jw_end_arr(&pw);
    free(o->sec[SEC_PACKAGES]);
    o->sec[SEC_PACKAGES] = pk.data;
    unlink_at(sim, idx);
    char prev[24];
    snprintf(prev, sizeof prev, "%s", o->status);
    snprintf(o->status, sizeof o->status, "SHIPPED");
    o->updated = sim_now_ms(sim);
    insert_sorted(sim, o);
    sim_sqs_order_event(sim, o, prev, 0);
    rs->status = 204;
    sb_buf_reset(&rs->body);
out:
    sb_json_free(j);
}

/* ---- order changes (admin status changes and scheduled changes) ---- */

/* A generated order as a stored one (its JSON rendered with every section), so fields
 * can be changed; it keeps its place, created time and late-listing delay. */
static int materialize(sb_sim *sim, size_t idx, char *err) {
    sim_order *o = sim->orders[idx], *no = NULL;
    sb_buf b;
    sb_jw w;
    sb_json *j = NULL;
    sb_buf_init(&b, 16u << 20);
    sb_jw_init(&w, &b);
    write_order(sim, o, ~0u, &w);
    int rc = sb_jw_error(&w) ? SB_ENOMEM : sb_json_parse(b.data, b.len, &j, err);
    if (!rc) rc = order_from_json(sim, j, SB_JSON_ROOT, &no, err);
    if (!rc) {
        no->created = o->created;
        no->updated = o->updated;
        no->listing_delay_ms = o->listing_delay_ms;
        sim->orders[idx] = no;
        order_free(o);
    }
    sb_json_free(j);
    sb_buf_free(&b);
    return rc;
}

static int set_base(sim_order *o, const char *k, const char *v) {
    for (int i = 0; i < o->nbase; i++)
        if (!strcmp(o->base[i].k, k)) {
            char *nv = v ? strdup(v) : NULL;
            if (v && !nv) return SB_ENOMEM;
            free(o->base[i].v);
            if (nv) { o->base[i].v = nv; return 0; }
            free(o->base[i].k);   /* null removes the field */
            o->base[i] = o->base[--o->nbase];
            return 0;
        }
    if (!v) return 0;
    sim_kv *b = realloc(o->base, (size_t)(o->nbase + 1) * sizeof *b);
    if (!b) return SB_ENOMEM;
    o->base = b;
    o->base[o->nbase].k = strdup(k);
    o->base[o->nbase].v = strdup(v);
    if (!o->base[o->nbase].k || !o->base[o->nbase].v) return SB_ENOMEM;
    o->nbase++;
    return 0;
}

/* Applies {"orderId", "fulfillmentStatus"?, "fulfillment"?: {...}, other Order fields} to
 * an order (an orderId the simulator does not have, with orderItems, is a new order placed
 * at at_ms: createdTime and lastUpdatedTime default to it): the fields given replace the order's (null removes one), and lastUpdatedTime
 * becomes at_ms. A generated order changing only its status stays generated (it then
 * renders the buyer, address and prices a PENDING order lacked); any other field makes it
 * a stored order first. */
static int order_change(sb_sim *sim, sb_json *j, int n, int64_t at_ms, char *err) {
    const char *id = sb_json_str(j, n, "orderId");
    size_t idx;
    sim_order *o = id ? find(sim, id, &idx) : NULL;
    if (!o && id && sb_json_get(j, n, "orderItems")) {   /* a new order: the buyer places it at at_ms */
        sim_order *no = NULL;
        int rc = order_from_json(sim, j, n, &no, err);
        if (rc) return rc;
        if (!sb_json_get(j, n, "createdTime")) no->created = at_ms;
        if (!sb_json_get(j, n, "lastUpdatedTime")) no->updated = at_ms;
        if ((rc = insert_sorted(sim, no))) { order_free(no); return sb_seterr(err, rc, "sim: out of memory"); }
        sim_sqs_order_event(sim, no, NULL, 0);
        return 0;
    }
    if (!o) return sb_seterr(err, SB_ENOTFOUND, "sim: no order %s", id ? id : "(no orderId)");
    const char *st = sb_json_str(j, n, "fulfillmentStatus");
    if (!st) st = sb_json_str(j, n, "fulfillment.fulfillmentStatus");
    if (st && !in_list(st, statuses)) return sb_seterr(err, SB_EINVAL, "sim: unknown fulfillmentStatus %s", st);
    int it = 0, vn, fields = 0;
    const char *k;
    while ((vn = sb_json_next(j, n, &it, &k)))
        fields += strcmp(k, "orderId") && strcmp(k, "fulfillmentStatus") && strcmp(k, "fulfillment") &&
                  strcmp(k, "lastUpdatedTime") && strcmp(k, "createdTime") && strcmp(k, "_sim");
    int rc = 0;
    if (o->gen >= 0 && fields) {
        if ((rc = materialize(sim, idx, err))) return rc;
        o = sim->orders[idx];
    }
    unlink_at(sim, idx);
    char prev[24];
    snprintf(prev, sizeof prev, "%s", o->status);
    /* a buyer's cancellation request: the cancellation section given (not removed) */
    int buyer_cancel = sb_json_get(j, n, "cancellation") && sb_json_type(j, n, "cancellation") != SB_JSON_NULL;
    if (st) snprintf(o->status, sizeof o->status, "%s", st);
    const char *fb = sb_json_str(j, n, "fulfillment.fulfilledBy"), *svc = sb_json_str(j, n, "fulfillment.fulfillmentServiceLevel");
    if (fb && *fb) snprintf(o->fb, sizeof o->fb, "%s", fb);
    if (svc && *svc) snprintf(o->svc, sizeof o->svc, "%s", svc);
    if (sb_json_get(j, n, "_sim.listing_delay_s"))
        o->listing_delay_ms = (int64_t)(sb_json_num(j, n, "_sim.listing_delay_s", 0) * 1000);
    sb_buf v;
    sb_buf_init(&v, 16u << 20);
    it = 0;
    while (!rc && (vn = sb_json_next(j, n, &it, &k))) {
        if (!strcmp(k, "orderId") || !strcmp(k, "fulfillmentStatus") || !strcmp(k, "fulfillment") ||
            !strcmp(k, "lastUpdatedTime") || !strcmp(k, "createdTime") || !strcmp(k, "_sim"))
            continue;
        int null = sb_json_type(j, vn, NULL) == SB_JSON_NULL;
        sb_buf_reset(&v);
        if (!null && (rc = sb_json_encode(j, vn, &v, err))) break;
        int s = -1;
        for (int i = 0; i < NSEC; i++)
            if (!strcmp(k, sec_names[i])) s = i;
        if (s >= 0) {
            free(o->sec[s]);
            o->sec[s] = null ? NULL : strdup(v.data);
        } else if ((rc = set_base(o, k, null ? NULL : v.data))) sb_seterr(err, rc, "sim: out of memory");
    }
    sb_buf_free(&v);
    o->updated = at_ms;
    int irc = insert_sorted(sim, o);
    if (!rc && !irc) sim_sqs_order_event(sim, o, prev, buyer_cancel);
    return rc ? rc : irc;
}

int sim_changes_load(sb_sim *sim, sb_json *j, int node, char *err) {
    int arr = sb_json_type(j, node, NULL) == SB_JSON_ARR;
    size_t n = arr ? sb_json_len(j, node, NULL) : 1;
    int64_t now = sim_now_ms(sim);
    for (size_t i = 0; i < n; i++) {
        int c = arr ? sb_json_at(j, node, i) : node, od = sb_json_get(j, c, "order");
        const char *at = sb_json_str(j, c, "at");
        if (!od || !sb_json_str(j, od, "orderId"))
            return sb_seterr(err, SB_EINVAL, "sim: schedule entry %zu needs an \"order\" with an orderId", i + 1);
        if (!at && !sb_json_get(j, c, "after_s"))
            return sb_seterr(err, SB_EINVAL, "sim: schedule entry %zu needs \"at\" (ISO time) or \"after_s\"", i + 1);
        int64_t at_ms = at ? sb_time_parse_ms(at) : now + sim_scaled_ms(sim, sb_json_num(j, c, "after_s", 0));
        if (at_ms < 0) return sb_seterr(err, SB_EINVAL, "sim: schedule entry %zu: bad time '%s'", i + 1, at);
        const char *st = sb_json_str(j, od, "fulfillmentStatus");
        if (st && !in_list(st, statuses)) return sb_seterr(err, SB_EINVAL, "sim: schedule entry %zu: unknown fulfillmentStatus %s", i + 1, st);
        if (sim->nchanges >= SIM_MAX_CHANGES) return sb_seterr(err, SB_EINVAL, "sim: at most %d scheduled changes", SIM_MAX_CHANGES);
        sb_buf b;
        sb_buf_init(&b, 16u << 20);
        int rc = sb_json_encode(j, od, &b, err);
        sim_change *p = rc ? NULL : realloc(sim->changes, (sim->nchanges + 1) * sizeof *p);
        if (!p) { sb_buf_free(&b); return rc ? rc : sb_seterr(err, SB_ENOMEM, "sim: out of memory"); }
        sim->changes = p;
        p[sim->nchanges++] = (sim_change){.at_ms = at_ms, .patch = b.data};
    }
    return 0;
}

/* Applies every due change, earliest first (lastUpdatedTime = its own time, even when
 * the first request after it comes later). */
void sim_changes_apply_due(sb_sim *sim) {
    int64_t now = sim_now_ms(sim);
    for (;;) {
        sim_change *next = NULL;
        for (size_t i = 0; i < sim->nchanges; i++) {
            sim_change *c = &sim->changes[i];
            if (!c->done && c->at_ms <= now && (!next || c->at_ms < next->at_ms)) next = c;
        }
        if (!next) return;
        next->done = 1;
        sb_json *j = NULL;
        char err[SB_ERRLEN];
        int rc = sb_json_parse(next->patch, strlen(next->patch), &j, err);
        if (!rc) rc = order_change(sim, j, SB_JSON_ROOT, next->at_ms, err);
        if (rc) sb_warn("sim: scheduled change not applied: %s", err);
        sb_json_free(j);
    }
}

void sim_changes_free(sb_sim *sim) {
    for (size_t i = 0; i < sim->nchanges; i++) free(sim->changes[i].patch);
    free(sim->changes);
    sim->changes = NULL;
    sim->nchanges = 0;
}
