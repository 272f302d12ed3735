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
 * which the rule host raises: a rule never reads it as "not found".
 *
 * The pending orders: the pass decides a page's orders before it stores them together
 * (sync/orders.c), so a decision could read what an order decided before it, and not yet
 * stored, is about to change: the stock at a branch of the SKUs it reserves, takes or
 * releases, a customer it inserts or updates. Each pending order leaves marks here (a
 * line's SKU at a branch, or at any branch when the branch is not known before it is
 * stored; a customer's e-mail, channel id or id), hashed, and costs no query but one for
 * the lines an order already stored has. A look-up that reads a marked thing makes the
 * decision stale; the pass then stores the pending orders and decides that order again.
 * A stock look-up asks the store which SKUs a line can carry to change what it reads
 * (the product's own and its aliases; with kits expanded, the kits and components
 * around it): only while orders are pending. A hash that collides costs a needless store.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "core/util.h"
#include "store/lookup.h"
#include "store/orders.h"
#include "sync/engine.h"
#include "store/aliases.h"

/* Marks past this many make every look-up stale until the pending orders are stored. */
#define PENDING_MAX 4096

struct sb_engine_lookup {
    sb_lookup api;
    sb_store *s;
    int bom_expand;
    int64_t integ;
    int64_t scope;              /* the integration, -1 = customers shared */
    sb_store_product product;   /* strings handed out, valid until the next call */
    sb_store_customer customer[3];
    uint64_t pending[PENDING_MAX];   /* the pending orders' marks */
    int npending, overflow, stale;
};

/* ---- the pending orders' marks ---- */

enum { MARK_STOCK = 'S', MARK_EMAIL = 'E', MARK_CHANNEL = 'K', MARK_CUSTOMER = 'C' };

#define FNV_START 14695981039346656037ull
static uint64_t fnv(uint64_t h, const void *data, size_t n, int fold) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)(fold ? tolower(p[i]) : p[i])) * 1099511628211ull;
    return h;
}

/* an e-mail is case-folded, as SQLite's NOCASE compares it */
static uint64_t mark_str(char kind, const char *v) { return fnv(fnv(FNV_START, &kind, 1, 0), v, strlen(v), kind == MARK_EMAIL); }
static uint64_t mark_id(char kind, int64_t id) { return fnv(fnv(FNV_START, &kind, 1, 0), &id, sizeof id, 0); }
/* the stock of what sku names at branch (NULL: at any branch) */
static uint64_t mark_stock(const char *sku, const char *branch) {
    uint64_t h = mark_str(MARK_STOCK, sku);
    return branch ? fnv(fnv(h, "@", 1, 0), branch, strlen(branch), 0) : h;
}

static void mark(sb_engine_lookup *l, uint64_t m) {
    if (l->npending == PENDING_MAX) l->overflow = 1;
    else l->pending[l->npending++] = m;
}

static int marked(const sb_engine_lookup *l, uint64_t m) {
    if (l->overflow) return 1;
    for (int i = 0; i < l->npending; i++)
        if (l->pending[i] == m) return 1;
    return 0;
}

/* A look-up read m: the decision being made is stale when a pending order marked it. */
static void reads(sb_engine_lookup *l, uint64_t m) {
    if (l->npending && marked(l, m)) l->stale = 1;
}

/* Marking a pending order's SKUs: at each branch it names, or at any. */
typedef struct marking {
    sb_engine_lookup *l;
    const char *branch[SB_MAX_SPLITS];
    int nbranches;              /* 0: at any branch */
} marking;

static int mark_sku(void *ud, const char *sku) {
    marking *m = ud;
    if (!sku || !*sku) return 0;
    if (!m->nbranches) mark(m->l, mark_stock(sku, NULL));
    for (int i = 0; i < m->nbranches; i++) mark(m->l, mark_stock(sku, m->branch[i]));
    return 0;
}

typedef struct reading { sb_engine_lookup *l; const char *branch; } reading;

static int read_sku(void *ud, const char *sku) {
    reading *r = ud;
    reads(r->l, mark_stock(sku, r->branch));
    reads(r->l, mark_stock(sku, NULL));
    return 0;
}

/* A stock look-up of sku at branch, against the marks of every SKU whose lines change
 * what it reads. */
static void reads_stock(sb_engine_lookup *l, const char *sku, const char *branch) {
    char err[SB_ERRLEN];
    reading r = {l, branch};
    if (!l->npending || l->stale) return;
    if (sb_store_stock_namers(l->s, sku, l->bom_expand, read_sku, &r, err)) l->stale = 1;   /* cannot tell: stale */
}

int sb_engine_lookup_pending(sb_engine_lookup *l, const sb_order *o, const sb_decision *d, char *err) {
    /* a decided order reserves at (and auto-dispatch takes from) the branches of its
     * splits; a held one, or one whose branch is left to its row, at one not known yet */
    marking m = {l, {NULL}, 0};
    for (int k = 0; d && !d->error && k < d->nsplits && k < SB_MAX_SPLITS; k++) {
        if (!d->splits[k].branch) { m.nbranches = 0; break; }
        m.branch[m.nbranches++] = d->splits[k].branch;
    }
    for (int i = 0; i < o->nlines; i++) mark_sku(&m, o->lines[i].sku);
    /* stored before: storing it again, cancelling or releasing it changes its old lines'
     * stock, at the branch it was stored at or one a person chose */
    marking any = {l, {NULL}, 0};
    int rc = o->order_id && *o->order_id ? sb_store_order_skus(l->s, l->integ, o->order_id, mark_sku, &any, err) : 0;
    if (rc) return rc;
    if (d && (d->customer_action == SB_CUST_INSERT || d->customer_action == SB_CUST_UPDATE)) {
        if (o->buyer_email && *o->buyer_email) mark(l, mark_str(MARK_EMAIL, o->buyer_email));
        if (d->customer_key && *d->customer_key) mark(l, mark_str(MARK_CHANNEL, d->customer_key));
        if (d->customer_action == SB_CUST_UPDATE) mark(l, mark_id(MARK_CUSTOMER, d->customer_id));
    }
    return 0;
}

void sb_engine_lookup_pending_clear(sb_engine_lookup *l) {
    l->npending = l->overflow = l->stale = 0;
}

int sb_engine_lookup_stale(sb_engine_lookup *l) {
    int v = l->stale;
    l->stale = 0;
    return v;
}

/* ---- the look-ups ---- */

/* rc as the rules take it: found, not found, or a failure logged with its cause */
static int answer(int rc, const char *what, const char *key, const char *err) {
    if (rc < 0 && rc != SB_ENOTFOUND) sb_warn("look-up failed what=%s key=%s: %s", what, key ? key : "", err);
    return rc;
}

static int lk_stock(void *ud, const char *sku, const char *branch, double *soh, double *open) {
    sb_engine_lookup *l = ud;
    char err[SB_ERRLEN];
    reads_stock(l, sku, branch);
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
    if (by == SB_CUST_BY_EMAIL) reads(l, mark_str(MARK_EMAIL, key));
    else if (by == SB_CUST_BY_CHANNEL_ID) reads(l, mark_str(MARK_CHANNEL, key));
    int rc = sb_store_customer_find(l->s, by, key, l->scope, c, err);
    if (rc) return answer(rc, "customer", NULL, err);   /* a customer key (e-mail) stays out of the log */
    reads(l, mark_id(MARK_CUSTOMER, c->id));
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
    l->integ = integ;
    l->scope = shared_customers ? -1 : integ;
    l->bom_expand = bom_expand;
    l->api = (sb_lookup){l, lk_stock, lk_product, lk_cust_id, lk_cust_email, lk_cust_ref, lk_gl, lk_group};
    return l;
}

void sb_engine_lookup_free(sb_engine_lookup *l) { free(l); }

const sb_lookup *sb_engine_lookup_get(sb_engine_lookup *l) { return &l->api; }
