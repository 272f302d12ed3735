/* import.h: the rows a CSV import writes and an export reads (engine/csvio parses and
 * checks the file; this stores it). One import is one transaction: begin, a row at a
 * time, commit or nothing. Keys seen in the file go into a temporary table, which finds a
 * row that repeats an earlier one.
 *
 * A row is an array of typed values in the kind's column order (csvio's `kinds` table):
 *   branches        name, country, state, address
 *   customer_groups name
 *   gl_accounts     code, name
 *   products        sku, asin, name, created_date, batch_tracked, serial_tracked,
 *                   order_type, buffer_stock, latency
 *   boms            kit_sku, component_sku, qty
 *   stock           sku, branch, on_hand
 *   customers       ref, channel_customer_id, email, name, company, phone, address1,
 *                   address2, city, state, postcode, country, group
 *   orders          order_ref, branch, sku, qty, etd, customer_ref (sb_store_import_order_line) */
#ifndef SB_STORE_IMPORT_H
#define SB_STORE_IMPORT_H
#include <stdint.h>
#include "store/rows.h"            /* sb_store_value */


typedef struct sb_store_import sb_store_import;

/* Begins importing kind (one of the kinds above): the transaction, the temporary key
 * tables emptied, the statements prepared. */
int sb_store_import_begin(sb_store *s, const char *kind, sb_store_import **out, char *err);
/* Records key (the row's key columns joined); *dup 1 when the file had it already. */
int sb_store_import_key(sb_store_import *im, const char *key, int *dup, char *err);
/* Stores one row of n values; keys are the values of the key columns (nkeys). *existed
 * 1 when it replaced a stored row. */
int sb_store_import_row(sb_store_import *im, const sb_store_value *v, int n, const char *const *keys, int nkeys,
                        int *existed, char *err);
/* Open orders: one line of order ref (imported orders have no integration); the first
 * line of a ref in this file replaces that stored order's lines, releasing what they
 * reserved. *created 1 for a new order, *replaced 1 when old lines were dropped. */
int sb_store_import_order_line(sb_store_import *im, const char *ref, const char *branch, const char *sku, double qty,
                               const char *etd, const char *customer_ref, int *created, int *replaced, char *err);
/* Commits; on failure nothing is kept. */
int sb_store_import_commit(sb_store_import *im, char *err);
/* Rolls back what was not committed and frees im. */
void sb_store_import_end(sb_store_import *im);

/* What a referring column names: 1 exists, 0 not, negative when it cannot be read. */
typedef enum { SB_REF_BRANCH, SB_REF_PRODUCT, SB_REF_GROUP, SB_REF_CUSTOMER } sb_store_ref;
int sb_store_ref_exists(sb_store *s, sb_store_ref what, const char *v, char *err);
/* *kit 1 when product sku is a kit, 0 when it is another product or none. */
int sb_store_product_is_kit(sb_store *s, const char *sku, int *kit, char *err);

/* Calls fn with each stored row of kind, n values in column order (text, or SB_VAL_REAL
 * for a number stored as one; SB_VAL_NULL for an empty cell). fn returns 0 to go on. */
typedef int (*sb_store_export_fn)(void *ud, const sb_store_value *v, int n);
int sb_store_export_each(sb_store *s, const char *kind, sb_store_export_fn fn, void *ud, char *err);

#endif
