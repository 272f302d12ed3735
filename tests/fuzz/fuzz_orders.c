/* fuzz_orders.c: order normalisation from JSON. The input is a searchOrders page body:
 * sb_rules_page_open decodes it and every order (up to 32) goes through
 * sb_rules_page_order (normalize.lua, then the default pack's hooks); the same bytes are
 * also fed to sb_rules_order_json as one stored order. The default pack is loaded once,
 * with every setting at its default, the example branches and fixed look-ups (no
 * database), so a run depends on the input alone. */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "rules/rules.h"
#include "settings/settings.h"

#define MAX_ORDERS 32

static sb_rules *rules;
static sb_setting_value *values;

static int stock(void *ud, const char *sku, const char *branch, double *soh, double *open) {
    (void)ud; (void)branch;
    if (strncmp(sku, "MUG", 3)) return SB_ENOTFOUND;
    *soh = 10;
    *open = 2;
    return 0;
}

static int product(void *ud, const char *sku, sb_product_info *out) {
    (void)ud;
    if (strcmp(sku, "MUG-BLK-12") && strcmp(sku, "GIFT-SET-1")) return SB_ENOTFOUND;
    memset(out, 0, sizeof *out);
    out->sku = sku;
    out->asin = "B0C1MUGBK1";
    out->name = "Black ceramic mug 12oz";
    out->is_kit = sku[0] == 'G';
    out->buffer = 2;
    return 0;
}

static int customer(void *ud, const char *key, sb_customer_info *out) {
    (void)ud;
    if (strcmp(key, "jane.doe@marketplace.amazon.com") && strcmp(key, "C-1001")) return SB_ENOTFOUND;
    memset(out, 0, sizeof *out);
    out->id = 2;
    out->ref = "C-1001";
    out->channel_id = out->email = "jane.doe@marketplace.amazon.com";
    out->name = "Jane Doe";
    out->group = "Amazon Retail";
    return 0;
}

static int gl_exists(void *ud, const char *code) { (void)ud; return !strcmp(code, "4000") || !strcmp(code, "4010"); }
static int group_exists(void *ud, const char *name) { (void)ud; return !strcmp(name, "Amazon Retail"); }

static const sb_lookup lookup = {NULL, stock, product, customer, customer, customer, gl_exists, group_exists};
static const sb_branch_info branches[] = {
    {"Sydney", "AU", "NSW"}, {"LA Warehouse", "US", "CA"}, {"NJ Warehouse", "US", "NJ"},
    {"Amazon FBA", "US", ""},
};

static void done(void) {
    sb_rules_free(rules);
    free(values);
    rules = NULL;
    values = NULL;
}

static void setup(void) {
    char err[SB_ERRLEN];
    int n;
    const sb_setting_def *defs = sb_settings_defs(&n);
    rules = sb_rules_load(NULL, NULL, err);
    values = calloc((size_t)n, sizeof *values);
    if (!rules || !values) abort();
    for (int i = 0; i < n; i++) {
        values[i].name = defs[i].name;
        values[i].type = sb_settings_rule_type(defs[i].type);
        values[i].value = defs[i].def;
    }
    sb_rules_ctx ctx = {.integration = "main", .settings = values, .nsettings = n,
                        .branches = branches, .nbranches = (int)(sizeof branches / sizeof *branches),
                        .today = "2026-11-27", .lookup = &lookup};
    if (sb_rules_set_context(rules, &ctx, err)) abort();
    sb_fuzz_atexit(done);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[SB_ERRLEN];
    int norders = 0;
    const char *next = NULL;
    sb_order o;
    sb_decision d;
    if (!rules) setup();
    if (sb_rules_page_open(rules, (const char *)data, size, &norders, &next, err) == 0) {
        for (int i = 0; i < norders && i < MAX_ORDERS; i++) sb_rules_page_order(rules, i, &o, &d, err);
    }
    sb_rules_order_json(rules, (const char *)data, size, &o, &d, err);
    return 0;
}
