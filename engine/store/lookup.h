/* lookup.h: the read-only look-ups of the business's records: does a branch, customer
 * group, GL account or customer ref exist (the settings' checks), and what the rules
 * read (stock at a branch, what a kit's components can make, a product, a customer).
 *
 * The one idea: a look-up has three answers. Found (1 or 0), not found (0 or
 * SB_ENOTFOUND), and "the database could not be read" (a negative code with the cause in
 * err), which no caller may take for "not found". The statements run per order line are
 * prepared once per connection (sb_store_cached). */
#ifndef SB_STORE_LOOKUP_H
#define SB_STORE_LOOKUP_H
#include <stdint.h>
#include "store/store.h"

/* 1 when it exists, 0 when not, a negative code (err says why) when the database cannot
 * be read. */
int sb_store_has_branch(sb_store *s, const char *name, char *err);
int sb_store_has_group(sb_store *s, const char *name, char *err);
int sb_store_has_gl(sb_store *s, const char *code, char *err);
/* A customer integ may use: its own, an imported one (no integration), or any when integ's
 * orders.shared_customers is on. */
int sb_store_has_customer_ref(sb_store *s, int64_t integ, const char *ref, char *err);

#define SB_LOOKUP_TEXT 256          /* longer text from a row is cut here */

/* The rest answer 0 when found, SB_ENOTFOUND when not, another negative code when the
 * database cannot be read. */

/* sku's stock at branch: on hand, and reserved by open order lines. */
int sb_store_stock_at(sb_store *s, const char *sku, const char *branch, double *soh, double *open, char *err);
/* When sku is a kit (a product of order type kit with components): how many its
 * components' free stock at branch can make (floor of the least, may be negative). */
int sb_store_kit_can_make(sb_store *s, const char *sku, const char *branch, double *can, char *err);

/* Calls cb with every SKU an order line can carry whose stock a look-up of sku's stock
 * reads: the product with that SKU, by its own SKU and its aliases; with kits (kits 1,
 * orders.bom_expand) a kit's components as well, since its stock is what they make, and
 * every kit they are components of, whose lines reserve them. A SKU may come twice. */
int sb_store_stock_namers(sb_store *s, const char *sku, int kits, int (*cb)(void *ctx, const char *sku), void *ctx,
                          char *err);

typedef struct sb_store_product {
    const char *sku, *asin, *name;  /* into text, NULL when the column is */
    int batch_tracked, serial_tracked, is_kit, latency;
    double buffer;
    char text[3][SB_LOOKUP_TEXT];
} sb_store_product;
int sb_store_product_by_sku(sb_store *s, const char *sku, sb_store_product *out, char *err);

typedef enum { SB_CUST_BY_CHANNEL_ID, SB_CUST_BY_EMAIL, SB_CUST_BY_REF } sb_store_cust_key;
typedef struct sb_store_customer {
    int64_t id;
    const char *ref, *channel_id, *email, *name, *group;   /* into text, NULL when the column is */
    char text[5][SB_LOOKUP_TEXT];
} sb_store_customer;
/* The first customer (by id) with that channel id, e-mail (any case) or ref that the
 * scope may see: scope is an integration's id (its own and imported customers), or -1
 * for every customer (orders.shared_customers). */
int sb_store_customer_find(sb_store *s, sb_store_cust_key by, const char *key, int64_t scope,
                           sb_store_customer *out, char *err);

#endif
