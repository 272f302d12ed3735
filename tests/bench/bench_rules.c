/* bench_rules.c: how long the default pack takes per order and per SKU (a program, not a
 * test: build the target bench_rules in a non-sanitized tree and run it).
 *   hooks     the five order hooks only, on an already normalised order (goal <= 5 us):
 *             the median of 7 rounds, with the fastest and slowest round beside it
 *   page      sb_rules_page_order: normalise + raw_json + hooks + C checks, no decode
 *   decode    sb_rules_order_json on a ~2 KB order: the above plus cjson decode
 *   stock     sb_rules_stock per SKU over 3 branches
 * It reaches into rules_int.h only to time the hooks alone. `bench_rules [N [HOOK]]` sets
 * the number of rounds (default 200000); with HOOK (status ... gl, or "hooks" for all
 * five) it runs only that, once, so that
 *   valgrind --tool=callgrind --toggle-collect=bench_hooks bench_rules 2000 route
 * counts the instructions of route.lua alone (divide by N for one order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "rules/rules_int.h"
#include "sellerbridge.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int lk_stock(void *ud, const char *sku, const char *branch, double *soh, double *open) {
    (void)ud; (void)sku;
    *soh = branch[0] == 'W' ? 1 : 40;
    *open = 2;
    return 0;
}
static int lk_customer(void *ud, const char *k, sb_customer_info *out) {
    (void)ud;
    if (strcmp(k, "x7k2m9p4q1@marketplace.amazon.com")) return SB_ENOTFOUND;
    out->id = 11;
    return 0;
}
static int lk_true(void *ud, const char *s) { (void)ud; (void)s; return 1; }

static const char *ORDER =
    "{\"orderId\":\"113-4407815-2087412\",\"orderAliases\":[{\"aliasId\":\"SO-88123\",\"aliasType\":\"SELLER_ORDER_ID\"}],"
    "\"createdTime\":\"2026-03-01T18:22:41Z\",\"lastUpdatedTime\":\"2026-03-01T18:40:03Z\",\"programs\":[\"PRIME\"],"
    "\"salesChannel\":{\"channelName\":\"AMAZON\",\"marketplaceId\":\"ATVPDKIKX0DER\",\"marketplaceName\":\"Amazon.com\"},"
    "\"buyer\":{\"buyerName\":\"Dana Ortiz\",\"buyerEmail\":\"x7k2m9p4q1@marketplace.amazon.com\",\"buyerCompanyName\":\"\"},"
    "\"recipient\":{\"deliveryAddress\":{\"name\":\"Dana Ortiz\",\"addressLine1\":\"41 Orchard St\",\"addressLine2\":\"Apt 3\","
    "\"city\":\"Brooklyn\",\"districtOrCounty\":\"Kings\",\"stateOrRegion\":\"NY\",\"postalCode\":\"11201\",\"countryCode\":\"US\","
    "\"phone\":\"+1 555 0100\",\"addressType\":\"RESIDENTIAL\"},\"deliveryPreference\":{\"addressInstruction\":\"Leave at door\"}},"
    "\"proceeds\":{\"grandTotal\":{\"amount\":\"71.96\",\"currencyCode\":\"USD\"},\"breakdowns\":["
    "{\"type\":\"ITEM\",\"subtotal\":{\"amount\":\"65.97\",\"currencyCode\":\"USD\"}},"
    "{\"type\":\"SHIPPING\",\"subtotal\":{\"amount\":\"5.99\",\"currencyCode\":\"USD\"}}]},"
    "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\",\"fulfillmentServiceLevel\":\"STANDARD\","
    "\"shipByWindow\":{\"earliestDateTime\":\"2026-03-02T07:00:00Z\",\"latestDateTime\":\"2026-03-03T06:59:59Z\"},"
    "\"deliverByWindow\":{\"earliestDateTime\":\"2026-03-05T07:00:00Z\",\"latestDateTime\":\"2026-03-09T06:59:59Z\"}},"
    "\"orderItems\":["
    "{\"orderItemId\":\"40221577210421\",\"quantityOrdered\":2,\"product\":{\"asin\":\"B0MUG00001\",\"title\":\"Enamel camp mug, 12 oz\","
    "\"sellerSku\":\"MUG-01\",\"condition\":{\"conditionType\":\"NEW\"},\"price\":{\"unitPrice\":{\"amount\":\"12.99\",\"currencyCode\":\"USD\"}}},"
    "\"proceeds\":{\"proceedsTotal\":{\"amount\":\"25.98\",\"currencyCode\":\"USD\"},\"breakdowns\":[{\"type\":\"ITEM\",\"subtotal\":{\"amount\":\"25.98\",\"currencyCode\":\"USD\"}}]},"
    "\"fulfillment\":{\"quantityFulfilled\":0,\"quantityUnfulfilled\":2}},"
    "{\"orderItemId\":\"40221577210422\",\"quantityOrdered\":1,\"product\":{\"asin\":\"B0TEE00002\",\"title\":\"Logo T-shirt, navy, L\","
    "\"sellerSku\":\"TEE-02\",\"condition\":{\"conditionType\":\"NEW\"},\"price\":{\"unitPrice\":{\"amount\":\"16.00\",\"currencyCode\":\"USD\"}}},"
    "\"proceeds\":{\"proceedsTotal\":{\"amount\":\"16.00\",\"currencyCode\":\"USD\"},\"breakdowns\":[{\"type\":\"ITEM\",\"subtotal\":{\"amount\":\"16.00\",\"currencyCode\":\"USD\"}}]},"
    "\"fulfillment\":{\"quantityFulfilled\":0,\"quantityUnfulfilled\":1}},"
    "{\"orderItemId\":\"40221577210423\",\"quantityOrdered\":1,\"product\":{\"asin\":\"B0CAP00003\",\"title\":\"Trucker cap\","
    "\"sellerSku\":\"CAP-03\",\"condition\":{\"conditionType\":\"NEW\"},\"price\":{\"unitPrice\":{\"amount\":\"23.99\",\"currencyCode\":\"USD\"}}},"
    "\"proceeds\":{\"proceedsTotal\":{\"amount\":\"23.99\",\"currencyCode\":\"USD\"},\"breakdowns\":[{\"type\":\"ITEM\",\"subtotal\":{\"amount\":\"23.99\",\"currencyCode\":\"USD\"}}]},"
    "\"fulfillment\":{\"quantityFulfilled\":0,\"quantityUnfulfilled\":1}}]}";

static const int ORDER_HOOKS[] = {SB_HOOK_STATUS, SB_HOOK_VALIDATE, SB_HOOK_CUSTOMER, SB_HOOK_ROUTE, SB_HOOK_GL};

/* n rounds of the hooks hooks[0..nh) on the order table at index ord; us per round, or
 * -1 when a hook fails. */
__attribute__((noinline)) static double bench_hooks(sb_rules *r, int ord, const int *hooks, int nh, int n) {
    lua_State *L = r->L;
    double t0 = now_us();
    for (int i = 0; i < n; i++)
        for (int h = 0; h < nh; h++) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, r->hook_ref[hooks[h]]);
            lua_pushvalue(L, ord);
            char msg[SB_ERRLEN];
            if (sb_rules_pcall(r, 1, 1, "bench", msg, sizeof msg) < 0) { fprintf(stderr, "%s\n", msg); return -1; }
            lua_pop(L, 1);
        }
    return (now_us() - t0) / n;
}

__attribute__((noinline)) static double bench_page(sb_rules *r, int n, sb_order *o, sb_decision *d, char *err) {
    double t0 = now_us();
    for (int i = 0; i < n; i++) sb_rules_page_order(r, 0, o, d, err);
    return (now_us() - t0) / n;
}

__attribute__((noinline)) static double bench_json(sb_rules *r, int n, size_t len, sb_order *o, sb_decision *d, char *err) {
    double t0 = now_us();
    for (int i = 0; i < n; i++) sb_rules_order_json(r, ORDER, len, o, d, err);
    return (now_us() - t0) / n;
}

__attribute__((noinline)) static double bench_stock(sb_rules *r, int n, const sb_stock_input *in, long *q, char *err) {
    double t0 = now_us();
    for (int i = 0; i < n; i++) sb_rules_stock(r, in, q, err);
    return (now_us() - t0) / n;
}

int main(int argc, char **argv) {
    char err[SB_ERRLEN] = "";
    sb_rules *r = sb_rules_load(NULL, NULL, err);
    if (!r) { fprintf(stderr, "%s\n", err); return 1; }
    sb_lookup lk = {NULL, lk_stock, NULL, lk_customer, lk_customer, lk_customer, lk_true, lk_true};
    sb_branch_info br[] = {{"Main", "US", "NJ"}, {"East", "US", "NY"}, {"West", "US", "CA"}, {"FBA", "US", NULL}};
    sb_setting_value st[] = {
        {"orders.statuses", 'j', "[\"UNSHIPPED\",\"PARTIALLY_SHIPPED\"]"},
        {"orders.custom_statuses", 'j', "[]"},
        {"orders.customer_mode", 's', "id_or_email_update_else_insert"},
        {"orders.customer_group", 's', "Amazon"},
        {"orders.fba_branch", 's', "FBA"},
        {"additional.mf_branch", 's', "Main"},
        {"orders.routing.enabled", 'b', "true"},
        {"orders.routing.grid", 'j', "[{\"countries\":[\"US\"],\"states\":[\"CA\",\"OR\",\"WA\"],\"branch\":\"West\",\"backups\":[\"East\"]},"
                                     "{\"countries\":[\"US\"],\"shipping\":[\"NEXT_DAY\"],\"branch\":\"West\"},"
                                     "{\"countries\":[\"US\"],\"branch\":\"East\",\"backups\":[\"West\",\"Main\"]}]"},
        {"orders.routing.no_stock", 's', "keep"},
        {"orders.split", 'b', "true"},
        {"orders.gl_account", 's', "4100"},
        {"stock.formula", 's', "available"},
        {"stock.subtract_buffer", 'b', "true"},
    };
    sb_rules_ctx ctx = {"bench", st, (int)(sizeof st / sizeof st[0]), br, 4, "2026-03-02", &lk};
    if (sb_rules_set_context(r, &ctx, err) < 0) { fprintf(stderr, "%s\n", err); return 1; }

    size_t len = strlen(ORDER);
    sb_order o;
    sb_decision d;
    if (sb_rules_order_json(r, ORDER, len, &o, &d, err) < 0 || d.error) {
        fprintf(stderr, "%s%s\n", err, d.error ? d.error : "");
        return 1;
    }
    printf("order JSON %zu bytes, %d lines -> branch %s, customer action %d\n", len, o.nlines,
           d.splits[0].branch, d.customer_action);

    const int N = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 200000;
    /* hooks only: normalise once, then call the five hooks on that table */
    lua_State *L = r->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->normalize_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->decode_ref);
    lua_pushlstring(L, ORDER, len);
    lua_call(L, 1, 1);
    lua_call(L, 1, 1);
    int ord = lua_gettop(L);
    if (argc > 2) {                 /* one hook, or the five, for callgrind */
        for (int h = 0; h < 5; h++)
            if (!strcmp(argv[2], sb_rules_hook_names[ORDER_HOOKS[h]])) {
                double us = bench_hooks(r, ord, &ORDER_HOOKS[h], 1, N);
                printf("%s: %.2f us/order\n", argv[2], us);
                return us < 0;
            }
        if (strcmp(argv[2], "hooks")) { fprintf(stderr, "bench_rules: unknown hook '%s'\n", argv[2]); return 2; }
        double us = bench_hooks(r, ord, ORDER_HOOKS, 5, N);
        printf("hooks: %.2f us/order\n", us);
        return us < 0;
    }
    /* the five hooks in 7 rounds: this VM's timing jumps now and then, so the median round
     * is the figure, printed with the fastest and the slowest */
    enum { ROUNDS = 7 };
    double round_us[ROUNDS];
    for (int k = 0; k < ROUNDS; k++) round_us[k] = bench_hooks(r, ord, ORDER_HOOKS, 5, N / ROUNDS > 0 ? N / ROUNDS : 1);
    for (int a = 1; a < ROUNDS; a++)
        for (int b = a; b > 0 && round_us[b] < round_us[b - 1]; b--) {
            double t = round_us[b];
            round_us[b] = round_us[b - 1];
            round_us[b - 1] = t;
        }
    double hooks_us = round_us[ROUNDS / 2];
    double one_us[5];
    for (int h = 0; h < 5; h++) one_us[h] = bench_hooks(r, ord, &ORDER_HOOKS[h], 1, N);
    if (hooks_us < 0) return 1;
    lua_settop(L, 0);

    /* page path: decode once, then page_order repeatedly */
    char *page = malloc(len + 32);
    int n = snprintf(page, len + 32, "{\"orders\":[%s]}", ORDER);
    int norders;
    const char *next;
    sb_rules_page_open(r, page, (size_t)n, &norders, &next, err);
    double page_us = bench_page(r, N, &o, &d, err);
    free(page);

    double full_us = bench_json(r, N, len, &o, &d, err);

    sb_stock_branch sbr[] = {{"Main", 40, 2, 1, 2, 0}, {"East", 12, 1, 0, 1, 0}, {"West", 3, 0, 0, 0, 0}};
    sb_stock_input in = {"MUG-01", 2, 3, sbr};
    long q = 0;
    double stock_us = bench_stock(r, N, &in, &q, err);

    printf("order hooks only (status..gl, default pack): %6.2f us/order (goal <= 5; median of %d rounds, fastest %.2f, "
           "slowest %.2f)\n", hooks_us, ROUNDS, round_us[0], round_us[ROUNDS - 1]);
    printf("  per hook:");
    for (int h = 0; h < 5; h++) printf(" %s %.2f", sb_rules_hook_names[ORDER_HOOKS[h]], one_us[h]);
    printf(" us\n");
    printf("page_order (normalise+raw_json+hooks+checks):  %6.2f us/order\n", page_us);
    printf("order_json incl. cjson decode of %zu bytes:   %6.2f us/order\n", len, full_us);
    printf("stock hook (3 branches):                      %6.2f us/SKU (qty %ld)\n", stock_us, q);
    printf("Lua state: %zu KiB\n", sb_rules_memory(r) / 1024);
    sb_rules_free(r);
    return 0;
}
