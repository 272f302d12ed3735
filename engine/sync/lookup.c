/* lookup.c: the read-only look-ups the rules see, answered from the store
 * (engine/store/lookup.h, statements prepared once per connection). Stock "open" is the
 * reserved column that the order changes keep up to date. With BOM expansion on, a kit's
 * stock is what its components can make.
 *
 * Customers are walled per integration: a rule sees the customers its own integration
 * made and the business's own (imported, no integration), never another integration's,
 * unless orders.shared_customers says so. Products, stock, branches, groups and GL
 * accounts are the business's and shared by every integration.
 *
 * A look-up the database cannot answer returns its error (logged with the cause here),
 * which the rule host raises: a rule never reads it as "not found". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "core/util.h"
#include "store/lookup.h"
#include "sync/engine.h"
#include "store/aliases.h"

struct sb_engine_lookup {
    sb_lookup api;
    sb_store *s;
    int bom_expand;
    int64_t scope;              /* the integration, -1 = customers shared */
    sb_store_product product;   /* strings handed out, valid until the next call */
    sb_store_customer customer[3];
};

/* rc as the rules take it: found, not found, or a failure logged with its cause */
static int answer(int rc, const char *what, const char *key, const char *err) {
    if (rc < 0 && rc != SB_ENOTFOUND) sb_warn("look-up failed what=%s key=%s: %s", what, key ? key : "", err);
    return rc;
}

static int lk_stock(void *ud, const char *sku, const char *branch, double *soh, double *open) {
    sb_engine_lookup *l = ud;
    char err[SB_ERRLEN];
    if (l->bom_expand) {
        double can;
        int rc = sb_store_kit_can_make(l->s, sku, branch, &can, err);
        if (!rc) {
            *soh = can < 0 ? 0 : can;
            *open = 0;
            return 0;
        }
        if (rc != SB_ENOTFOUND) return answer(rc, "kit stock", sku, err);
    }
    return answer(sb_store_stock_at(l->s, sku, branch, soh, open, err), "stock", sku, err);
}

static int lk_product(void *ud, const char *sku, sb_product_info *out) {
    sb_engine_lookup *l = ud;
    sb_store_product *p = &l->product;
    char err[SB_ERRLEN];
    int rc = sb_store_product_by_sku(l->s, sku, p, err);
    if (rc) return answer(rc, "product", sku, err);
    *out = (sb_product_info){.sku = p->sku, .asin = p->asin, .name = p->name, .batch_tracked = p->batch_tracked,
                             .serial_tracked = p->serial_tracked, .is_kit = p->is_kit, .buffer = p->buffer,
                             .latency = p->latency};
    return 0;
}

static int customer(sb_engine_lookup *l, sb_store_cust_key by, const char *key, sb_customer_info *out) {
    sb_store_customer *c = &l->customer[by];
    char err[SB_ERRLEN];
    int rc = sb_store_customer_find(l->s, by, key, l->scope, c, err);
    if (rc) return answer(rc, "customer", NULL, err);   /* a customer key (e-mail) stays out of the log */
    *out = (sb_customer_info){.id = c->id, .ref = c->ref, .channel_id = c->channel_id, .email = c->email,
                              .name = c->name, .group = c->group};
    return 0;
}

static int lk_cust_id(void *ud, const char *id, sb_customer_info *o) { return customer(ud, SB_CUST_BY_CHANNEL_ID, id, o); }
static int lk_cust_email(void *ud, const char *e, sb_customer_info *o) { return customer(ud, SB_CUST_BY_EMAIL, e, o); }
static int lk_cust_ref(void *ud, const char *r, sb_customer_info *o) { return customer(ud, SB_CUST_BY_REF, r, o); }

static int lk_gl(void *ud, const char *code) {
    sb_engine_lookup *l = ud;
    char err[SB_ERRLEN];
    return answer(sb_store_has_gl(l->s, code, err), "GL account", code, err);
}

static int lk_group(void *ud, const char *name) {
    sb_engine_lookup *l = ud;
    char err[SB_ERRLEN];
    return answer(sb_store_has_group(l->s, name, err), "customer group", name, err);
}

sb_engine_lookup *sb_engine_lookup_new(sb_store *s, int64_t integ, int shared_customers, int bom_expand) {
    sb_engine_lookup *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->s = s;
    l->scope = shared_customers ? -1 : integ;
    l->bom_expand = bom_expand;
    l->api = (sb_lookup){l, lk_stock, lk_product, lk_cust_id, lk_cust_email, lk_cust_ref, lk_gl, lk_group};
    return l;
}

void sb_engine_lookup_free(sb_engine_lookup *l) { free(l); }

const sb_lookup *sb_engine_lookup_get(sb_engine_lookup *l) { return &l->api; }
