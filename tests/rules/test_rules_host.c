/* test_rules_host.c: the rule host itself: loading and hashing packs, decoding a page,
 * normalising orders, the decision checks, and hostile or broken rules (Redis
 * scripting.tcl style): each hostile hook must fail with a clear "file:line: message",
 * and the very next call on the same host must still work. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "t.h"
#include "rules/rules.h"
#include "rules/rules_int.h"        /* sb_rules_pcall_trusted and the state behind a host */
#include "sellerbridge.h"

/* ---- fixtures ---------------------------------------------------------------------- */

static const char *ORDER_FMT =
    "{\"orderId\":\"%s\",\"createdTime\":\"2026-03-01T18:22:41Z\","
    "\"lastUpdatedTime\":\"2026-03-01T18:40:03Z\",\"programs\":[\"PRIME\",\"AMAZON_BUSINESS\"],"
    "\"salesChannel\":{\"channelName\":\"AMAZON\",\"marketplaceId\":\"ATVPDKIKX0DER\"},"
    "\"buyer\":{\"buyerName\":\"Dana Ortiz\",\"buyerEmail\":\"Dana@Example.com\",\"buyerPurchaseOrderNumber\":\"PO-1\"},"
    "\"recipient\":{\"deliveryAddress\":{\"name\":\"Dana Ortiz\",\"addressLine1\":\"41 Orchard St\","
    "\"city\":\"Brooklyn\",\"stateOrRegion\":\"ny\",\"postalCode\":\"11201\",\"countryCode\":\"us\"}},"
    "\"proceeds\":{\"grandTotal\":{\"amount\":\"47.97\",\"currencyCode\":\"USD\"}},"
    "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\",\"fulfillmentServiceLevel\":\"STANDARD\"},"
    "\"orderItems\":["
    "{\"orderItemId\":\"1\",\"quantityOrdered\":2,\"product\":{\"sellerSku\":\"MUG-01\",\"asin\":\"B0MUG\","
    "\"price\":{\"unitPrice\":{\"amount\":\"12.99\",\"currencyCode\":\"USD\"}}},"
    "\"proceeds\":{\"proceedsTotal\":{\"amount\":\"25.98\",\"currencyCode\":\"USD\"},"
    "\"breakdowns\":[{\"type\":\"SHIPPING\",\"subtotal\":{\"amount\":\"2.5\",\"currencyCode\":\"USD\"}}]}},"
    "{\"orderItemId\":\"2\",\"quantityOrdered\":1,\"product\":{\"sellerSku\":\"TEE-02\"},"
    "\"proceeds\":{\"breakdowns\":[{\"type\":\"SHIPPING\",\"subtotal\":{\"amount\":\"3.49\",\"currencyCode\":\"USD\"}}]},"
    "\"fulfillment\":{\"quantityFulfilled\":1}}]}";

static char *order_json(const char *id) {
    static char buf[4096];
    snprintf(buf, sizeof buf, ORDER_FMT, id);
    return buf;
}

static int stock_calls;
static int lk_stock(void *ud, const char *sku, const char *branch, double *soh, double *open) {
    (void)ud;
    stock_calls++;
    if (!strcmp(branch, "Main")) { *soh = 100; *open = 0; return 0; }
    if (!strcmp(branch, "East") && !strcmp(sku, "MUG-01")) { *soh = 1; *open = 0; return 0; }
    if (!strcmp(branch, "East") && !strcmp(sku, "TEE-02")) { *soh = 4; *open = 1.5; return 0; }
    if (!strcmp(sku, "BROKEN")) return SB_EIO;
    return SB_ENOTFOUND;
}
static int lk_customer(void *ud, const char *k, sb_customer_info *out) {
    (void)ud;
    if (strcmp(k, "dana@example.com") && strcmp(k, "Dana@Example.com") && strcmp(k, "C1")) return SB_ENOTFOUND;
    out->id = 11;
    out->ref = "C1";
    out->email = "dana@example.com";
    return 0;
}
static int lk_gl(void *ud, const char *code) { (void)ud; return !strcmp(code, "4000"); }
static int lk_group(void *ud, const char *g) { (void)ud; return !strcmp(g, "Amazon"); }

static const sb_lookup LOOKUP = {NULL, lk_stock, NULL, lk_customer, lk_customer, lk_customer, lk_gl, lk_group};
static const sb_branch_info BRANCHES[] = {{"Main", "US", "NJ"}, {"East", "US", "NY"}, {"FBA", "US", NULL}};
static const sb_setting_value SETTINGS[] = {
    {"orders.statuses", 'j', "[\"UNSHIPPED\"]"},
    {"orders.customer_mode", 's', "id_or_email_update_else_insert"},
    {"orders.fba_branch", 's', "FBA"},
    {"additional.mf_branch", 's', "Main"},
    {"orders.routing.enabled", 'b', "false"},
    {"orders.split", 'b', "0"},
    {"orders.gl_account", 's', ""},
    {"stock.formula", 's', "available"},
};

static void set_ctx(sb_rules *r) {
    char err[SB_ERRLEN] = "";
    sb_rules_ctx ctx = {"test", SETTINGS, (int)(sizeof SETTINGS / sizeof SETTINGS[0]),
                        BRANCHES, 3, "2026-03-02", &LOOKUP};
    int rc = sb_rules_set_context(r, &ctx, err);
    T_EQ(rc, 0);
    if (rc) fprintf(stderr, "set_context: %s\n", err);
}

static char tmpdir[256];

/* writes PACK/file with the given text; returns the pack folder */
static const char *pack_with(const char *file, const char *text, size_t len) {
    static int n;
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/pack%d", tmpdir, ++n);
    mkdir(dir, 0700);
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, len ? len : strlen(text), f);
    fclose(f);
    return dir;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_default_pack_and_page(void) {
    char err[SB_ERRLEN] = "";
    sb_rules *r = sb_rules_load(NULL, NULL, err);
    T_CHECK(r != NULL);
    if (!r) return;
    T_STREQ(sb_rules_name(r), "default");
    T_EQ(strlen(sb_rules_hash(r)), 64);
    sb_rules *r2 = sb_rules_load("default", NULL, err);
    T_STREQ(sb_rules_hash(r2), sb_rules_hash(r));
    sb_rules_free(r2);
    set_ctx(r);

    char body[12000];
    snprintf(body, sizeof body, "{\"orders\":[%s,", order_json("111-1"));
    snprintf(body + strlen(body), sizeof body - strlen(body), "%s,{\"orderId\":\"111-3\",\"createdTime\":\"x\"}],"
             "\"pagination\":{\"nextToken\":\"tok-2\"}}", order_json("111-2"));
    int n = 0;
    const char *next = NULL;
    T_EQ(sb_rules_page_open(r, body, strlen(body), &n, &next, err), 0);
    T_EQ(n, 3);
    T_STREQ(next, "tok-2");

    sb_order o;
    sb_decision d;
    T_EQ(sb_rules_page_order(r, 1, &o, &d, err), 0);
    T_STREQ(o.order_id, "111-2");
    T_STREQ(o.status, "UNSHIPPED");
    T_STREQ(o.fulfilled_by, "MERCHANT");
    T_STREQ(o.programs, "PRIME,AMAZON_BUSINESS");
    T_STREQ(o.buyer_email, "Dana@Example.com");
    T_STREQ(o.buyer_po, "PO-1");
    T_STREQ(o.ship.state, "NY");
    T_STREQ(o.ship.country, "US");
    T_CHECK(o.ship.line2 == NULL);
    T_STREQ(o.total, "47.97");
    T_STREQ(o.currency, "USD");
    T_STREQ(o.shipping_total, "5.99");
    T_EQ(o.nlines, 2);
    T_STREQ(o.lines[0].sku, "MUG-01");
    T_EQ(o.lines[0].qty, 2);
    T_STREQ(o.lines[0].unit_price, "12.99");
    T_STREQ(o.lines[0].line_total, "25.98");
    T_EQ(o.lines[1].qty_shipped, 1);
    T_CHECK(o.raw_json == NULL);    /* from a page: kept as the page's orders[1] */
    T_EQ(o.page_index, 1);
    T_CHECK(d.error == NULL);
    T_EQ(d.download, 1);
    T_EQ(d.attention, 0);
    T_EQ(d.customer_action, SB_CUST_UPDATE);
    T_EQ(d.customer_id, 11);
    T_EQ(d.nsplits, 1);
    T_STREQ(d.splits[0].branch, "Main");
    T_EQ(d.splits[0].nlines, 2);
    T_EQ(d.splits[0].lines[1].line, 1);
    T_CHECK(d.gl_account == NULL);
    T_EQ(d.naudit, 5);
    T_STREQ(d.audit[3].hook, "route");
    T_CONTAINS(d.audit[3].decision_json, "\"branch\":\"Main\"");
    T_STREQ(d.audit[2].decision_json, "{\"action\":\"update\",\"id\":11}");

    /* a malformed order: negative, names the order and the field, raw JSON kept */
    T_CHECK(sb_rules_page_order(r, 2, &o, &d, err) < 0);
    T_CONTAINS(err, "order 111-3: field 'lastUpdatedTime' is missing");
    T_CONTAINS(o.raw_json, "111-3");
    T_STREQ(o.order_id, "111-3");
    T_CHECK(sb_rules_page_order(r, 3, &o, &d, err) < 0);

    /* the same order again, from stored JSON */
    const char *j = order_json("111-9");
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_STREQ(o.order_id, "111-9");

    /* whole-page failures */
    T_CHECK(sb_rules_page_open(r, "{\"orders\":[", 11, &n, &next, err) < 0);
    T_CONTAINS(err, "invalid JSON");
    T_CHECK(sb_rules_page_open(r, "{\"errors\":[]}", 13, &n, &next, err) < 0);
    T_CONTAINS(err, "no \"orders\"");
    char *deep = malloc(200001);
    memset(deep, '[', 200000);
    deep[200000] = 0;
    T_CHECK(sb_rules_page_open(r, deep, 200000, &n, &next, err) < 0);
    free(deep);
    T_EQ(sb_rules_page_open(r, "{\"orders\":[]}", 13, &n, &next, err), 0);
    T_EQ(n, 0);
    T_CHECK(next == NULL);
    sb_rules_free(r);
}

typedef struct hostile {
    const char *name, *file, *code, *want1, *want2;
} hostile;

/* Hooks that misbehave only for order "EVIL", so the next call shows the host recovered. */
static const hostile HOSTILE[] = {
    {"infinite loop", "route.lua", "while true do end", "route.lua:", "rule timeout"},
    {"loop in pcall", "route.lua", "while true do pcall(function() while true do end end) end", "route.lua:", "rule timeout"},
    {"loop in xpcall handler", "route.lua", "xpcall(function() error('x') end, function() while true do end end)", "route.lua", "rule timeout"},
    {"timeout caught by a tail-called pcall", "route.lua", "return pcall(function() while true do end end)", "route.lua", "rule timeout"},
    {"string bomb", "route.lua", "local s = string.rep('x', 1 << 30) return {branch = s}", "route.lua", "out of memory"},
    {"table growth", "route.lua", "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1024) .. i end", "route.lua", "out of memory"},
    {"concat bomb", "route.lua", "local s = 'xx' while true do s = s .. s end", "route.lua", "out of memory"},
    {"deep recursion", "route.lua", "local function f(n) return f(n + 1) + 1 end return f(1)", "route.lua", ""},
    {"io", "route.lua", "return io.open('/etc/passwd')", "route.lua:", "nonexistent global variable 'io'"},
    {"os", "route.lua", "return os.execute('true')", "route.lua:", "nonexistent global variable 'os'"},
    {"debug", "route.lua", "return debug.getregistry()", "route.lua:", "nonexistent global variable 'debug'"},
    {"package", "route.lua", "return package.loaded", "route.lua:", "nonexistent global variable 'package'"},
    {"require", "route.lua", "return require('os')", "route.lua:", "nonexistent global variable 'require'"},
    {"load", "route.lua", "return load('return 1')()", "route.lua:", "nonexistent global variable 'load'"},
    {"loadstring", "route.lua", "return loadstring('return 1')()", "route.lua:", "nonexistent global variable 'loadstring'"},
    {"dofile", "route.lua", "return dofile('/etc/passwd')", "route.lua:", "nonexistent global variable 'dofile'"},
    {"loadfile", "route.lua", "return loadfile('/etc/passwd')", "route.lua:", "nonexistent global variable 'loadfile'"},
    {"collectgarbage", "route.lua", "collectgarbage('stop')", "route.lua:", "nonexistent global variable 'collectgarbage'"},
    {"rawset", "route.lua", "rawset(settings, 'x', 1)", "route.lua:", "nonexistent global variable 'rawset'"},
    {"print", "route.lua", "print('hello')", "route.lua:", "nonexistent global variable 'print'"},
    {"_G", "route.lua", "return _G.os", "route.lua:", "nonexistent global variable '_G'"},
    {"string.dump", "route.lua", "return string.dump(function() end)", "route.lua:", "attempt to call a nil value (field 'dump')"},
    {"method dump", "route.lua", "return ('x'):dump()", "route.lua:", "attempt to call a nil value (method 'dump')"},
    {"string metatable", "route.lua", "getmetatable('').__index.upper = nil", "route.lua:", "attempt to index a nil value"},
    {"string table write", "route.lua", "string.upper = nil", "route.lua:", "read-only table 'string'"},
    {"settings write", "route.lua", "settings['additional.mf_branch'] = 'East'", "route.lua:", "read-only table 'settings'"},
    {"nested settings write", "route.lua", "local s = settings['orders.statuses'] s[1] = 'X'", "route.lua:", "read-only table 'settings'"},
    {"global write", "route.lua", "x = 1", "route.lua:", "attempt to assign to global 'x'"},
    {"raw order write", "route.lua", "order.raw.orderId = 'X'", "route.lua:4:", "read-only table 'order.raw' (field 'orderId')"},
    {"nested raw order write", "route.lua", "local a = order.raw.recipient.deliveryAddress a.city = 'X'", "route.lua:4:",
     "read-only table 'order.raw' (field 'city')"},
    {"raw order metatable", "route.lua", "setmetatable(order.raw, nil)", "route.lua:", "cannot change a protected metatable"},
    {"env metatable", "route.lua", "setmetatable(_ENV, nil)", "route.lua:", "cannot change a protected metatable"},
    {"__gc finalizer", "route.lua", "setmetatable({}, {__gc = function() while true do end end})", "route.lua:", "__gc metamethods are not allowed"},
    {"runtime error", "route.lua", "local x = nil\n  return x.y", "route.lua:5:", "attempt to index a nil value (local 'x')"},
    {"error table", "route.lua", "error({code = 1})", "route.lua", "error object is a table value"},
    {"error level 0", "route.lua", "error('plain', 0)", "route.lua: plain", ""},
    {"wrong decision type", "route.lua", "return 'Main'", "route.lua: the decision must be a table, got string", ""},
    {"wrong field type", "route.lua", "return {branch = 42}", "route.lua: branch must be a string, got number", ""},
    {"unknown branch", "route.lua", "return {branch = 'Sydny'}", "route.lua: branch 'Sydny' does not exist", ""},
    {"branch and splits", "route.lua", "return {branch = 'Main', splits = {}}", "route.lua: the decision needs exactly one of", ""},
    {"too many splits", "route.lua",
     "local s = {branch = 'Main', lines = {{line = 1, qty = 1}}} return {splits = {s, s, s, s}}",
     "route.lua: 4 splits; an order splits into 1 to 3 orders", ""},
    {"splits do not add up", "route.lua",
     "return {splits = {{branch = 'Main', lines = {{line = 1, qty = 1}, {line = 2, qty = 1}}}, {branch = 'East', lines = {{line = 1, qty = 2}}}}}",
     "route.lua: the splits give line 1 (MUG-01) 3, the order has 2", ""},
    {"split line out of range", "route.lua",
     "return {splits = {{branch = 'Main', lines = {{line = 7, qty = 1}}}}}", "route.lua: splits[1].lines[1].line 7 is not a line of the order", ""},
    {"unknown distribution branch", "route.lua", "return {branch = 'Main', distribution_branch = 'Nowhere'}", "route.lua: branch 'Nowhere' does not exist", ""},
    {"unknown customer id", "customer.lua", "return {action = 'keep', id = 99}", "customer.lua: customer id 99 does not exist", ""},
    {"unknown customer ref", "customer.lua", "return {action = 'selected', ref = 'NOPE'}", "customer.lua: customer ref 'NOPE' does not exist", ""},
    {"unknown customer action", "customer.lua", "return {action = 'merge'}", "customer.lua: unknown action 'merge'", ""},
    {"unknown group", "customer.lua", "return {action = 'insert', group = 'VIP'}", "customer.lua: customer group 'VIP' does not exist", ""},
    {"unknown GL", "gl.lua", "return '9999'", "gl.lua: GL account '9999' does not exist", ""},
    {"GL wrong type", "gl.lua", "return 4000", "gl.lua: the decision must be a table, a string or nil, got number", ""},
    {"status without download", "status.lua", "return {}", "status.lua: the decision lacks 'download'", ""},
    {"validate wrong type", "validate.lua", "return {attention = 'yes'}", "validate.lua: attention must be a boolean, got string", ""},
};

static void test_hostile(void) {
    for (size_t i = 0; i < sizeof HOSTILE / sizeof HOSTILE[0]; i++) {
        const hostile *h = &HOSTILE[i];
        if (getenv("SB_VERBOSE")) fprintf(stderr, "hostile: %s\n", h->name);
        char code[2048], err[SB_ERRLEN] = "";
        char hook[32];
        snprintf(hook, sizeof hook, "%.*s", (int)(strlen(h->file) - 4), h->file);
        snprintf(code, sizeof code,
                 "-- hostile: %s\nreturn function(order)\n  if order.id == 'EVIL' then\n  %s\n  end\n  return defaults.%s(order)\nend\n",
                 h->name, h->code, hook);
        sb_rules_limits lim = {0, 16 << 20};
        sb_rules *r = sb_rules_load(pack_with(h->file, code, 0), &lim, err);
        T_CHECK(r != NULL);
        if (!r) { fprintf(stderr, "%s: %s\n", h->name, err); continue; }
        set_ctx(r);
        sb_order o;
        sb_decision d;
        const char *j = order_json("EVIL");
        int rc = sb_rules_order_json(r, j, strlen(j), &o, &d, err);
        T_EQ(rc, 0);
        T_CHECK(d.error != NULL);
        if (d.error) {
            T_CONTAINS(d.error, h->want1);
            T_CONTAINS(d.error, h->want2);
            T_STREQ(d.error_hook, hook);
            if (strstr(d.error, h->want1) == NULL || strstr(d.error, h->want2) == NULL)
                fprintf(stderr, "  (case '%s')\n", h->name);
        }
        T_STREQ(o.order_id, "EVIL");           /* held, not lost */
        T_CHECK(sb_rules_memory(r) <= (16u << 20));
        /* the same host, the next order */
        j = order_json("111-1");
        rc = sb_rules_order_json(r, j, strlen(j), &o, &d, err);
        T_EQ(rc, 0);
        T_CHECK(d.error == NULL);
        if (d.error) fprintf(stderr, "  after '%s': %s\n", h->name, d.error);
        T_EQ(d.nsplits, 1);
        sb_rules_free(r);
    }
}

static void test_broken_packs(void) {
    char err[SB_ERRLEN] = "";
    sb_rules *good = sb_rules_load(NULL, NULL, err);
    T_CHECK(good != NULL);
    set_ctx(good);

    sb_rules *r = sb_rules_load(pack_with("route.lua", "return function(order)\n  return {branch = \nend\n", 0), NULL, err);
    T_CHECK(r == NULL);
    T_CONTAINS(err, "route.lua:3:");
    T_CHECK(strstr(err, "rules/route.lua") == NULL);

    r = sb_rules_load(pack_with("gl.lua", "\x1bLuaT\x00\x19\x93\r\n\x1a\nreturn 1", 20), NULL, err);
    T_CHECK(r == NULL);
    T_CONTAINS(err, "gl.lua: bytecode is not allowed");

    r = sb_rules_load(pack_with("gl.lua", "local x = os.time()\nreturn function() end\n", 0), NULL, err);
    T_CHECK(r == NULL);
    T_CONTAINS(err, "gl.lua:1: Script attempted to access nonexistent global variable 'os'");

    r = sb_rules_load(pack_with("status.lua", "helper = 1\nreturn function() end\n", 0), NULL, err);
    T_CHECK(r == NULL);
    T_CONTAINS(err, "status.lua:1: attempt to assign to global 'helper'");

    r = sb_rules_load(pack_with("stock.lua", "while true do end\n", 0), NULL, err);
    T_CHECK(r == NULL);
    T_CONTAINS(err, "stock.lua:1: rule timeout");

    r = sb_rules_load(pack_with("customer.lua", "return 42\n", 0), NULL, err);
    T_CHECK(r == NULL);
    T_CONTAINS(err, "customer.lua:1: the file must return the hook function (got number)");

    r = sb_rules_load("/nonexistent/pack", NULL, err);
    T_CHECK(r == NULL);
    T_CONTAINS(err, "/nonexistent/pack");

    /* the caller still holds the previous generation, and it still works */
    sb_order o;
    sb_decision d;
    const char *j = order_json("111-1");
    T_EQ(sb_rules_order_json(good, j, strlen(j), &o, &d, err), 0);
    T_CHECK(d.error == NULL);
    T_STREQ(d.splits[0].branch, "Main");

    /* a pack overriding one hook inherits the rest, and hashes differently */
    r = sb_rules_load(pack_with("gl.lua", "return function(order) return '4000' end\n", 0), NULL, err);
    T_CHECK(r != NULL);
    if (r) {
        T_CHECK(strcmp(sb_rules_hash(r), sb_rules_hash(good)) != 0);
        set_ctx(r);
        T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
        T_STREQ(d.gl_account, "4000");
        T_STREQ(d.splits[0].branch, "Main");
        sb_rules_free(r);
    }

    /* the traceback of a rule error */
    r = sb_rules_load(pack_with("route.lua", "local function inner() error('boom') end\nreturn function(o) inner() end\n", 0), NULL, err);
    T_CHECK(r != NULL);
    if (r) {
        set_ctx(r);
        T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
        T_STREQ(d.error, "route.lua:1: boom");
        T_CONTAINS(sb_rules_last_traceback(r), "stack traceback:");
        T_CONTAINS(sb_rules_last_traceback(r), "in upvalue 'inner'");
        sb_rules_free(r);
    }
    sb_rules_free(good);
}

static void test_stock_hook(void) {
    char err[SB_ERRLEN] = "";
    sb_rules *r = sb_rules_load(pack_with("stock.lua", "return function(item)\n  if item.sku == 'BAD' then return -1 end\n"
                                          "  if item.sku == 'LOOP' then while true do end end\n  return defaults.stock(item)\nend\n", 0), NULL, err);
    T_CHECK(r != NULL);
    if (!r) return;
    set_ctx(r);
    sb_stock_branch b[] = {{"Main", 10, 3, 1, 2, 0}};
    sb_stock_input in = {"MUG-01", 0, 1, b};
    long q = -1;
    T_EQ(sb_rules_stock(r, &in, &q, err), 0);
    T_EQ(q, 7);
    in.sku = "BAD";
    T_EQ(sb_rules_stock(r, &in, &q, err), SB_ERULE);
    T_CONTAINS(err, "stock.lua: must return a whole number >= 0, got -1");
    in.sku = "LOOP";
    T_EQ(sb_rules_stock(r, &in, &q, err), SB_ERULE);
    T_CONTAINS(err, "stock.lua:3: rule timeout");
    in.sku = "MUG-01";
    T_EQ(sb_rules_stock(r, &in, &q, err), 0);
    T_EQ(q, 7);
    sb_rules_free(r);
}

static void test_context_errors(void) {
    char err[SB_ERRLEN] = "";
    sb_rules *r = sb_rules_load(NULL, NULL, err);
    sb_order o;
    sb_decision d;
    const char *j = order_json("111-1");
    T_CHECK(sb_rules_order_json(r, j, strlen(j), &o, &d, err) < 0);
    T_CONTAINS(err, "set_context");
    sb_setting_value bad[] = {{"orders.routing.grid", 'j', "[{"}};
    sb_rules_ctx ctx = {"t", bad, 1, BRANCHES, 3, "2026-03-02", &LOOKUP};
    T_CHECK(sb_rules_set_context(r, &ctx, err) < 0);
    T_CONTAINS(err, "setting orders.routing.grid: invalid JSON");
    sb_setting_value badb[] = {{"orders.split", 'b', "maybe"}};
    ctx.settings = badb;
    T_CHECK(sb_rules_set_context(r, &ctx, err) < 0);
    T_CONTAINS(err, "orders.split: 'maybe' is not a boolean");
    sb_rules_free(r);
}

/* available(sku, branch) is soh - open as one number (0 without a stock row), stock()
 * still gives its table, and either asks the callback once per SKU and branch per call. */
static void test_available(void) {
    char err[SB_ERRLEN] = "";
    sb_rules *r = sb_rules_load(pack_with("route.lua",
        "return function(order)\n"
        "  if order.id == 'BADARG' then return {branch = 'Main', reason = tostring(available({}, 'East'))} end\n"
        "  if order.id == 'BROKEN' then return {branch = 'Main', reason = tostring(available('BROKEN', 'East'))} end\n"
        "  local t = available('TEE-02', 'East')\n"
        "  local m = available('MUG-01', 'East') + available('MUG-01', 'East')\n"
        "  local s = stock('TEE-02', 'East')\n"
        "  local n, ns = available('NOPE', 'East'), stock('NOPE', 'East')\n"
        "  local again = available('NOPE', 'East')\n"
        "  return {branch = 'Main', reason = string.format('%s %s %s %s|%s %s %s %s %s',\n"
        "    t, math.type(t), m, s.soh - s.open == t, n, math.type(n), ns, again, math.type(again))}\n"
        "end\n", 0), NULL, err);
    T_CHECK(r != NULL);
    if (!r) { fprintf(stderr, "available: %s\n", err); return; }
    set_ctx(r);
    sb_order o;
    sb_decision d;
    const char *j = order_json("111-1");
    stock_calls = 0;
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_CHECK(d.error == NULL);
    if (d.error) fprintf(stderr, "available: %s\n", d.error);
    T_STREQ(d.route_reason, "2.5 float 2.0 true|0 integer nil 0 integer");
    T_EQ(stock_calls, 3);                  /* TEE-02, MUG-01 and NOPE at East, once each */
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_EQ(stock_calls, 6);                  /* asked again by the next call */
    j = order_json("BADARG");
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_CHECK(d.error != NULL);
    if (d.error) T_CONTAINS(d.error, "route.lua:2: bad argument #1 to 'available' (string expected, got table)");
    j = order_json("BROKEN");
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_CHECK(d.error != NULL);
    if (d.error) T_CONTAINS(d.error, "route.lua:3: look-up available failed");
    sb_rules_free(r);
}

/* A C function a rule could reach that runs trusted Lua: f(g) calls g trusted. */
static long trusted_calls;
static int call_trusted(lua_State *L) {
    char msg[SB_ERRLEN];
    if (++trusted_calls > 2000000) return luaL_error(L, "escaped the budget");
    lua_pushvalue(L, 1);
    if (sb_rules_pcall_trusted(sb_rules_of(L), 0, 0, msg, sizeof msg) < 0) return luaL_error(L, "%s", msg);
    return 0;
}

/* sb_rules_pcall_trusted runs the engine's own Lua without the count hook and puts the
 * hook back afterwards, after an error too: rule code run after it is still stopped by
 * the budget. */
static void test_trusted_pcall(void) {
    char err[SB_ERRLEN] = "", msg[SB_ERRLEN] = "";
    sb_rules_limits lim = {1000000, 16 << 20};
    sb_rules *r = sb_rules_load(pack_with("route.lua", "return function(order)\n"
                                          "  if order.id == 'EVIL' then while true do end end\n"
                                          "  return defaults.route(order)\nend\n", 0), &lim, err);
    T_CHECK(r != NULL);
    if (!r) { fprintf(stderr, "trusted: %s\n", err); return; }
    set_ctx(r);
    lua_State *L = r->L;
    lua_Hook hook = lua_gethook(L);
    int mask = lua_gethookmask(L), count = lua_gethookcount(L);
    T_CHECK(hook != NULL);
    T_EQ(mask, LUA_MASKCOUNT);
    const char *loop = "local n = ... for i = 1, n do end return n";

    /* 3 million loop instructions: over the budget as rule code, fine as trusted code */
    T_EQ(luaL_loadstring(L, loop), LUA_OK);
    lua_pushinteger(L, 3000000);
    T_EQ(sb_rules_pcall(r, 1, 1, "loop.lua", msg, sizeof msg), SB_ERULE);
    T_CONTAINS(msg, "rule timeout");
    T_EQ(luaL_loadstring(L, loop), LUA_OK);
    lua_pushinteger(L, 3000000);
    T_EQ(sb_rules_pcall_trusted(r, 1, 1, msg, sizeof msg), 0);
    T_EQ(lua_tointeger(L, -1), 3000000);
    lua_pop(L, 1);
    T_CHECK(lua_gethook(L) == hook);
    T_EQ(lua_gethookmask(L), mask);
    T_EQ(lua_gethookcount(L), count);

    /* an error and a memory error: reported, and the hook is back */
    T_EQ(luaL_loadstring(L, "error('bad page', 0)"), LUA_OK);
    T_EQ(sb_rules_pcall_trusted(r, 0, 1, msg, sizeof msg), SB_ERULE);
    T_STREQ(msg, "bad page");
    T_CHECK(lua_gethook(L) == hook);
    T_EQ(lua_gethookcount(L), count);
    T_EQ(luaL_loadstring(L, "local t = {} for i = 1, 1e9 do t[i] = i end"), LUA_OK);
    T_EQ(sb_rules_pcall_trusted(r, 0, 0, msg, sizeof msg), SB_ERULE);
    T_STREQ(msg, "rules: out of memory (limit 16777216 bytes)");
    T_CHECK(lua_gethook(L) == hook);
    T_EQ(lua_gettop(L), 0);

    /* rule code after trusted calls: the infinite loop still times out, the next order runs */
    sb_order o;
    sb_decision d;
    const char *j = order_json("EVIL");
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_CHECK(d.error != NULL);
    if (d.error) T_STREQ(d.error, "route.lua:2: rule timeout");
    j = order_json("111-1");
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_CHECK(d.error == NULL);
    T_STREQ(d.nsplits ? d.splits[0].branch : "", "Main");

    /* trusted calls made from inside rule code keep the budget: a loop of them times out */
    T_EQ(luaL_loadstring(L, "local f, g = ... while true do f(g) end"), LUA_OK);
    lua_pushcfunction(L, call_trusted);
    T_EQ(luaL_loadstring(L, "return 1"), LUA_OK);
    trusted_calls = 0;
    T_EQ(sb_rules_pcall(r, 2, 0, "loop.lua", msg, sizeof msg), SB_ERULE);
    T_CONTAINS(msg, "rule timeout");
    T_CHECK(trusted_calls > 0 && trusted_calls < 2000000);
    T_CHECK(lua_gethook(L) == hook);
    T_EQ(lua_gettop(L), 0);
    sb_rules_free(r);
}

/* order.raw: Amazon's order, read-only, with #, ipairs, pairs and nested objects; and
 * order.skus, each SKU's total */
static void test_raw_order(void) {
    char err[SB_ERRLEN] = "";
    const char *code =
        "return function(order)\n"
        "  local r, n, ids = order.raw, 0, {}\n"
        "  for _ in pairs(r) do n = n + 1 end\n"
        "  for _, it in ipairs(r.orderItems) do ids[#ids + 1] = it.orderItemId end\n"
        "  return {attention = true, reason = table.concat({r.buyer.buyerPurchaseOrderNumber, #r.orderItems,\n"
        "    r.orderItems[2].product.sellerSku, n, tostring(r.nosuch), table.concat(ids, ','),\n"
        "    r.recipient.deliveryAddress.stateOrRegion, order.skus['MUG-01'], order.skus['TEE-02']}, '|')}\n"
        "end\n";
    sb_rules *r = sb_rules_load(pack_with("validate.lua", code, 0), NULL, err);
    T_CHECK(r != NULL);
    if (!r) { fprintf(stderr, "%s\n", err); return; }
    set_ctx(r);
    sb_order o;
    sb_decision d;
    const char *j = order_json("111-9");
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_CHECK(d.error == NULL);
    if (d.error) fprintf(stderr, "raw: %s\n", d.error);
    T_EQ(d.attention, 1);
    /* 10 top-level fields in ORDER_FMT; the state as Amazon sent it, not upper-cased */
    T_STREQ(d.attention_reason, "PO-1|2|TEE-02|10|nil|1,2|ny|2.0|1.0");   /* JSON numbers decode as floats */
    sb_rules_free(r);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sbrules.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_default_pack_and_page();
    test_hostile();
    test_broken_packs();
    test_stock_hook();
    test_context_errors();
    test_trusted_pcall();
    test_available();
    test_raw_order();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
    return t_done();
}
