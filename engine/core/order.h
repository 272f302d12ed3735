/* order.h: the normalised Amazon order as C sees it, and the decisions the rule hooks
 * return for it. Plain data, no Lua: the rule host (engine/rules) fills these from the
 * Lua tables, the order sync (engine/sync) validates nothing further and stores them.
 *
 * Ownership: every pointer in sb_order and sb_decision points into memory owned by the
 * rule host (an arena reset on the next sb_rules_* call), so a caller copies what it
 * keeps beyond that. Strings are UTF-8, never NULL for required fields, NULL or "" for
 * absent optional ones. Money is kept as the decimal string Amazon sent. */
#ifndef SB_CORE_ORDER_H
#define SB_CORE_ORDER_H
#include <stdint.h>

typedef struct sb_address {
    const char *name, *company, *line1, *line2, *line3, *city, *district, *state,
               *postal, *country, *phone, *type;
} sb_address;

typedef struct sb_order_line {
    const char *item_id;        /* Amazon orderItemId */
    const char *sku, *asin, *title;
    double qty;                 /* quantityOrdered */
    double qty_shipped;         /* fulfillment.quantityFulfilled, 0 if absent */
    const char *unit_price;     /* product.price.unitPrice.amount */
    const char *line_total;     /* proceeds.proceedsTotal.amount */
} sb_order_line;

typedef struct sb_order {
    const char *order_id;       /* orderId, e.g. 902-3159896-1390916 */
    const char *marketplace_id;
    const char *status;         /* fulfillment.fulfillmentStatus, e.g. UNSHIPPED */
    const char *fulfilled_by;   /* MERCHANT or AMAZON */
    const char *service_level;  /* fulfillment.fulfillmentServiceLevel, e.g. STANDARD */
    const char *created;        /* createdTime, ISO-8601 */
    const char *updated;        /* lastUpdatedTime */
    const char *programs;       /* comma-separated programs[], e.g. "PRIME,AMAZON_BUSINESS" */
    const char *buyer_name, *buyer_email, *buyer_company, *buyer_po;
    sb_address ship;
    const char *currency;       /* proceeds.grandTotal.currencyCode */
    const char *total;          /* proceeds.grandTotal.amount */
    const char *shipping_total; /* sum of SHIPPING breakdowns, "0" if none */
    int nlines;
    sb_order_line *lines;
    /* The order object as Amazon sent it: from a page, it is orders[page_index] of the
     * page's body and raw_json is NULL (the page is stored once instead of re-encoding
     * each order), unless the order could not be normalised; from sb_rules_order_json,
     * raw_json is the text it was given. */
    const char *raw_json;
    int page_index;
} sb_order;

enum sb_customer_action {
    SB_CUST_INSERT = 1,         /* create a new customer from the order's buyer */
    SB_CUST_UPDATE,             /* update customer_id from the order's buyer */
    SB_CUST_KEEP,               /* use customer_id as it is */
    SB_CUST_SELECTED            /* the configured selected customer (customer_id) */
};

/* The fields of an order a stored row keeps and compares when Amazon sends it again, in
 * this order (engine/store/orders.h reads them, engine/sync/order_plan.h compares). */
enum {
    SB_KEPT_STATUS, SB_KEPT_FULFILLED_BY, SB_KEPT_SERVICE_LEVEL, SB_KEPT_PROGRAMS, SB_KEPT_CURRENCY, SB_KEPT_TOTAL,
    SB_KEPT_SHIPPING, SB_KEPT_BUYER_NAME, SB_KEPT_BUYER_EMAIL, SB_KEPT_BUYER_COMPANY, SB_KEPT_SHIP_NAME,
    SB_KEPT_SHIP_COMPANY, SB_KEPT_LINE1, SB_KEPT_LINE2, SB_KEPT_LINE3, SB_KEPT_CITY, SB_KEPT_STATE, SB_KEPT_POSTAL,
    SB_KEPT_COUNTRY, SB_KEPT_PHONE, SB_KEPT_UPDATED, SB_KEPT_N
};

#define SB_MAX_SPLITS 3
#define SB_MAX_AUDIT 8          /* audit rows one order's decisions make */

typedef struct sb_audit_entry { const char *hook, *decision_json; } sb_audit_entry;

typedef struct sb_split_line {
    int line;                   /* index into sb_order.lines */
    double qty;
} sb_split_line;

typedef struct sb_split {
    const char *branch;
    int nlines;
    sb_split_line *lines;
} sb_split;

typedef struct sb_decision {
    /* status.lua */
    int download;               /* 0: the status filter skipped it */
    const char *skip_reason;
    /* validate.lua */
    int attention;              /* 1: store with stage needs_attention */
    const char *attention_reason;
    /* customer.lua */
    int customer_action;        /* enum sb_customer_action */
    int64_t customer_id;        /* local customers.id for UPDATE, KEEP, SELECTED */
    const char *customer_key;   /* channel customer id for INSERT (buyer identity) */
    const char *customer_group; /* group for a new customer, NULL for none */
    const char *customer_name;  /* name for a new customer in place of the buyer's; the
                                 * order's contact details are then not copied to it */
    /* route.lua */
    int nsplits;                /* 1..SB_MAX_SPLITS; split 0 carries freight */
    sb_split splits[SB_MAX_SPLITS];
    const char *distribution_branch;  /* NULL for none */
    const char *route_reason;   /* e.g. "grid row 2 (US, CA)" */
    /* gl.lua */
    const char *gl_account;     /* NULL for the default account */
    /* when a hook failed: the order is stored, held, and re-run after a fix */
    const char *error;          /* "route.lua:12: branch 'Sydny' does not exist" */
    const char *error_hook;     /* "route" */
    /* one audit entry per hook that ran: hook name and its decision as JSON */
    int naudit;
    sb_audit_entry audit[SB_MAX_AUDIT];
} sb_decision;

#endif
