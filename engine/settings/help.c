/* help.c: the settings page's label and help text per setting (see help.h). The words are
 * the page's own where it has them (Amazon Seller Settings, last updated 22/10/2019),
 * with "Cin7" read as the inventory this program keeps. */
#include <stddef.h>
#include <string.h>
#include "settings/help.h"

static const struct { const char *name, *label, *help; } help[] = {
    {"products.enabled", "Product Downloads", "Ticking the Products checkbox enables products to be downloaded from Amazon Seller."},
    {"products.last_updated", "Last Updated", "Only products created after this date will be downloaded."},
    {"stock.enabled", "Stock", "Ticking the Stock checkbox enables stock to be updated from the inventory to Amazon Seller."},
    {"stock.last_updated", "Last Updated", "When updating stock, only stock that has changed after this date will be updated. "
     "Leave this field alone at all times unless under special circumstances."},
    {"stock.branches", "Get Stock Levels From", "When updating stock levels, you can choose to only update stock levels from "
     "particular branches (none chosen: every branch)."},
    {"stock.formula", "Stock Levels To Update To Amazon", "How the stock number to update is calculated. Stock available: stock "
     "on hand minus open orders, i.e. stock you can dispatch without disappointing other customers. Stock on Hand: the stock "
     "you have physically, regardless of outstanding orders. SOH less open orders within 7 (or 30) days of ETD: if you can "
     "replenish stock within a week (or a month); the ETD must be entered for all outstanding orders for this to be accurate."},
    {"stock.subtract_buffer", "Subtract Buffer Stock From Stock Levels", "Takes each product's buffer stock off the level "
     "sent, to ensure you never oversell."},
    {"orders.enabled", "Orders", "Ticking the Orders checkbox enables orders to be downloaded from Amazon Seller."},
    {"orders.last_updated", "Last Updated", "Only orders updated after this date and time will be downloaded. After orders "
     "are downloaded successfully, this field is changed automatically."},
    {"orders.statuses", "Download Orders When Order Status Is", "Orders are downloaded at the statuses checked here. For "
     "instance, if only Unshipped is checked, only orders whose status is Unshipped will be downloaded."},
    {"orders.custom_statuses", "Add Custom Status (Optional)", "Additional statuses you use within Amazon Seller; the "
     "status name must match exactly."},
    {"orders.auto_download", "Auto Download Orders", "Orders are checked for every 5 minutes at first. When none are found "
     "the wait grows (10 minutes, 20, ...) up to every 2 hours; when an order is downloaded it is 5 minutes again."},
    {"orders.auto_download_start", "Start Time", "When the schedule should start each day (the integration's time zone)."},
    {"orders.auto_dispatch", "Auto Dispatch Orders", "Dispatches orders automatically upon download: useful if you dispatch "
     "from Amazon Seller and download orders for stock purposes only. Not possible for orders with batch or serial "
     "numbers, or when there is not enough stock."},
    {"orders.bom_expand", "Automatically Load BOMs for Kits", "Expands a finished product's bill of materials when orders "
     "are downloaded. The finished product needs its Order Type set to Kit."},
    {"orders.fba_branch", "FBA Branch", "The branch all new FBA orders are downloaded into. Orders in this branch do not "
     "have their status updated to Amazon once dispatched, so it should differ from the Merchant Fulfilled branch in "
     "Additional Settings."},
    {"orders.routing.enabled", "Route Branch by Country and Stock", "Branches are routed by country, state, shipping "
     "options and stock: see the Routing grid tab."},
    {"orders.customer_mode", "How To Create Or Assign A Customer From An Order", "How customer records are handled when "
     "orders are downloaded: match existing contacts by e-mail address or ID, or download all orders to one "
     "predefined contact, e.g. so that the CRM is not filled by online customers."},
    {"orders.customer_selected", "Selected Customer", "The predefined contact for the \"assign to selected customer\" "
     "options (a customer ref)."},
    {"orders.customer_group", "Assign To CRM Customer Group (Optional)", "New customer contacts are put in this reporting "
     "group. The choices are the customer groups of the inventory."},
    {"orders.invoice_mode", "Invoice Options", "Import Invoices Individually adds an invoice date and an invoice number to "
     "every new order. Allow batch invoices leaves them blank until you fill them in or process a batch of payments."},
    {"orders.gl_account", "Order GL Account (Optional)", "An alternative General Ledger account applied to Amazon Seller "
     "orders at the order level."},
    {"additional.mf_branch", "Download Merchant Fulfilled Orders Into This Branch", "The branch all new merchant "
     "fulfilled orders are downloaded into. It should differ from the FBA Branch in Orders Settings."},
    {"additional.fulfillment_latency", "Fulfillment Latency", "A value from 1 to 30 (days) submitted as the fulfillment "
     "latency of all products when stock is uploaded."},
    {"additional.auto_update_status", "Auto Update Order Status", "Dispatched orders and their tracking codes are updated "
     "to Amazon Seller automatically. Without it, Update Dispatched Orders (Dispatch & tracking) does it when pressed."},
};

static int find(const char *name) {
    for (size_t i = 0; name && i < sizeof help / sizeof *help; i++)
        if (!strcmp(help[i].name, name)) return (int)i;
    return -1;
}

const char *sb_settings_page_label(const char *name) {
    int i = find(name);
    return i < 0 ? NULL : help[i].label;
}

const char *sb_settings_help(const char *name) {
    int i = find(name);
    return i < 0 ? NULL : help[i].help;
}
