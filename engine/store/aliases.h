/* aliases.h: SKU aliases. A seller's Amazon listing may carry a SKU (the "channel SKU")
 * that is not the SKU of any product in the inventory; a person links it to a product
 * once, and every place that matches a channel SKU to a product (an order's lines, the
 * stock upload's listing SKU, the products download) looks at products.sku first and
 * then here. The SQL of the table lives in this module; the other modules use the
 * fragment below in their own statements. */
#ifndef SB_STORE_ALIASES_H
#define SB_STORE_ALIASES_H
#include <stdint.h>
#include "store/store.h"

/* The longest channel SKU accepted (Amazon's seller SKU is at most 40 characters; the
 * products download refuses more than 120). */
#define SB_ALIAS_SKU_MAX 120

/* SQL: the id of the product that the channel SKU expression x names (its own SKU, else
 * its alias), or NULL. x is an SQL expression such as "l.sku" or "?1". */
#define SB_STORE_SKU_PRODUCT(x) \
    "COALESCE((SELECT id FROM products WHERE sku = " x "), (SELECT product_id FROM sku_aliases WHERE channel_sku = " x "))"
/* SQL: the SKU Amazon's listing of product expression p carries: its first alias, else
 * its own SKU. */
#define SB_STORE_LISTING_SKU(p, psku) \
    "COALESCE((SELECT MIN(channel_sku) FROM sku_aliases WHERE product_id = " p "), " psku ")"

typedef struct sb_alias_change {
    char product_sku[128];      /* the product linked (set) or unlinked (remove) */
    long waiting;               /* orders of every integration with a line of this SKU not linked */
} sb_alias_change;

/* Links channel_sku to the product whose SKU is product_sku, and marks the channel SKU
 * for the next stock upload of every integration. SB_EINVAL naming the value when
 * channel_sku is empty, too long or has control characters, when it is itself a
 * product's SKU, or when it is linked to another product already (remove it first);
 * SB_ENOTFOUND when no product has product_sku. Linking again to the same product is
 * not an error. out (may be NULL) says what changed. */
int sb_store_alias_set(sb_store *s, const char *channel_sku, const char *product_sku, sb_alias_change *out, char *err);
/* Unlinks channel_sku (SB_ENOTFOUND when it is not an alias). Order lines linked through
 * it stay linked. */
int sb_store_alias_remove(sb_store *s, const char *channel_sku, sb_alias_change *out, char *err);
/* The product id channel_sku names (own SKU or alias) in *id; 0 or SB_ENOTFOUND. */
int sb_store_sku_product(sb_store *s, const char *channel_sku, int64_t *id, char *err);

/* A page of the aliases, by channel SKU: the product, when linked, and how many orders of
 * integration integ still wait on the SKU (a line with no product). A page of the
 * products, by SKU, whose SKU, name or an alias contains search (NULL: all; '%' and '_'
 * taken literally), with their aliases ("A, B"). *rows is malloc'd (free it), *n its
 * length (at most limit); *total counts the matching rows up to offset + cap. Text that
 * is NULL in the table is "" with its has_ flag 0. */
typedef struct sb_alias_row {
    char sku[SB_ALIAS_SKU_MAX + 8], product[128], name[256], linked_at[24];
    int has_name;
    long waiting;
} sb_alias_row;
int sb_store_aliases(sb_store *s, int64_t integ, long limit, long offset, long cap, sb_alias_row **rows, int *n,
                     long *total, char *err);

typedef struct sb_product_row {
    char sku[128], name[256], asin[32], type[16], aliases[512];
    int has_name, has_asin, has_aliases;
} sb_product_row;
int sb_store_products(sb_store *s, const char *search, long limit, long offset, long cap, sb_product_row **rows,
                      int *n, long *total, char *err);

#endif
