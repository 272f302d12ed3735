/* test_rules_host.c: the rule host itself: loading and hashing packs, decoding a page,
 * normalising orders, the decision checks, and hostile or broken rules (Redis
 * scripting.tcl style): each hostile hook must fail with a clear "file:line: message",
 * and the very next call on the same host must still work. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "t.h"
#include "json/json.h"
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
static int lk_gl(void *ud, const char *code) { (void)ud; return !strcmp(code, "BROKEN") ? SB_EIO : !strcmp(code, "4000"); }
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
                        BRANCHES, 3, "2026-03-02", &LOOKUP, NULL};
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

/* One case of hostile.txt: hooks that misbehave only for order "EVIL", so the next call
 * shows the host recovered. */
typedef struct hostile {
    char name[128], file[32], want1[256], want2[256], code[1536];
    int line;
} hostile;

/* Reads the next case of f into h; 0 at the end. */
static int hostile_next(FILE *f, int *lineno, hostile *h) {
    char line[2400];
    while (fgets(line, sizeof line, f)) {
        ++*lineno;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        char *field[5], *p = line;
        int n = 0;
        while (n < 5 && p) {
            field[n++] = p;
            if (n == 5) break;
            char *tab = strchr(p, '\t');
            if (tab) *tab++ = 0;
            p = tab;
        }
        if (n != 5) { fprintf(stderr, "hostile.txt:%d: needs 5 tab-separated fields\n", *lineno); t_fail++; continue; }
        memset(h, 0, sizeof *h);
        h->line = *lineno;
        snprintf(h->name, sizeof h->name, "%s", field[0]);
        snprintf(h->file, sizeof h->file, "%s", field[1]);
        snprintf(h->want1, sizeof h->want1, "%s", strcmp(field[2], "-") ? field[2] : "");
        snprintf(h->want2, sizeof h->want2, "%s", strcmp(field[3], "-") ? field[3] : "");
        size_t o = 0;
        for (const char *c = field[4]; *c && o + 1 < sizeof h->code; c++) {
            if (!strncmp(c, "<nl>", 4)) { h->code[o++] = '\n'; c += 3; }
            else h->code[o++] = *c;
        }
        return 1;
    }
    return 0;
}

static void test_hostile(void) {
    FILE *f = fopen(SB_SOURCE_DIR "/tests/rules/hostile.txt", "r");
    T_CHECK(f != NULL);
    if (!f) return;
    hostile hc, *h = &hc;
    int lineno = 0, ncases = 0;
    while (hostile_next(f, &lineno, h)) {
        ncases++;
        if (getenv("SB_VERBOSE")) fprintf(stderr, "hostile: %s\n", h->name);
        char code[4096], err[SB_ERRLEN] = "";
        char hook[32];
        snprintf(hook, sizeof hook, "%.*s", (int)(strlen(h->file) - 4), h->file);
        snprintf(code, sizeof code,
                 "-- hostile: %s\nreturn function(order)\n  if order.id == 'EVIL' then\n  %s\n  end\n  return defaults.%s(order)\nend\n",
                 h->name, h->code, hook);
        /* time is no limit here (the clock tests below move it themselves) */
        sb_rules_limits lim = {.memory_bytes = 16 << 20, .time_ms = 60000};
        sb_rules *r = sb_rules_load(pack_with(h->file, code, 0), &lim, err);
        T_CHECK(r != NULL);
        if (!r) { fprintf(stderr, "hostile.txt:%d (%s): %s\n", h->line, h->name, err); continue; }
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
            T_CHECK(strchr(d.error, '\n') == NULL);         /* one line for a log or a list */
            if (strstr(d.error, h->want1) == NULL || strstr(d.error, h->want2) == NULL)
                fprintf(stderr, "  (hostile.txt:%d '%s')\n", h->line, h->name);
        } else {
            fprintf(stderr, "  hostile.txt:%d '%s' was not held\n", h->line, h->name);
        }
        T_STREQ(o.order_id, "EVIL");           /* held, not lost */
        T_CHECK(sb_rules_memory(r) <= (16u << 20) + (1u << 20));
        /* the same host, the next order */
        j = order_json("111-1");
        rc = sb_rules_order_json(r, j, strlen(j), &o, &d, err);
        T_EQ(rc, 0);
        T_CHECK(d.error == NULL);
        if (d.error) fprintf(stderr, "  after hostile.txt:%d '%s': %s\n", h->line, h->name, d.error);
        T_EQ(d.nsplits, 1);
        sb_rules_free(r);
    }
    fclose(f);
    T_CHECK(ncases >= 80);
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
    T_CONTAINS(err, "stock.lua:1: rule exceeded its instruction limit");

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

    /* a GL account the look-up cannot check holds the order as a database failure, not
     * as an account that does not exist */
    r = sb_rules_load(pack_with("gl.lua", "return function(order) return 'BROKEN' end\n", 0), NULL, err);
    T_CHECK(r != NULL);
    if (r) {
        set_ctx(r);
        T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
        T_CHECK(d.error != NULL);
        if (d.error) T_CONTAINS(d.error, "GL account 'BROKEN' could not be looked up: the database could not be read");
        T_CHECK(!d.error || !strstr(d.error, "does not exist"));
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
    T_CONTAINS(err, "stock.lua:3: rule exceeded its instruction limit");
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
    sb_rules_ctx ctx = {"t", bad, 1, BRANCHES, 3, "2026-03-02", &LOOKUP, NULL};
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
    sb_rules_limits lim = {.instructions = 1000000, .memory_bytes = 16 << 20, .time_ms = 60000};
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
    T_CONTAINS(msg, "rule exceeded its instruction limit");
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
    if (d.error) T_STREQ(d.error, "route.lua:2: rule exceeded its instruction limit (1000000)");
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
    T_CONTAINS(msg, "rule exceeded its instruction limit");
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

/* ---- the clock, the stop flag and the engine's memory ------------------------------ */

/* A rule clock that moves 1 ms each time the host looks at it; after stop_after looks it
 * sets the stop flag (the daemon's SIGTERM). */
static int64_t fake_us;
static int fake_looks, stop_after;
static volatile int stop_flag;
static int64_t fake_clock(void *ud) {
    (void)ud;
    fake_looks++;
    if (stop_after && fake_looks >= stop_after) stop_flag = 1;
    return fake_us += 1000;
}

static sb_rules *clock_pack(const char *route_body, long time_ms, long load_ms, char *err) {
    char code[1024];
    snprintf(code, sizeof code, "%s\nreturn function(order)\n  if order.id == 'EVIL' then %s end\n"
             "  return defaults.route(order)\nend\n", load_ms ? route_body : "", load_ms ? "" : route_body);
    sb_rules_limits lim = {.instructions = 100000000, .time_ms = time_ms, .load_ms = load_ms ? load_ms : 60000,
                           .clock_us = fake_clock};
    fake_looks = 0;
    return sb_rules_load(pack_with("route.lua", code, 0), &lim, err);
}

/* The time limit holds in Lua code and inside the C library, by the rule's own clock:
 * the call gives up once that clock passed its limit, a few looks later at most. */
static void test_time_limit(void) {
    static const char *const bodies[] = {
        "while true do end",                                        /* the count hook looks */
        "for i = 1, 1e15 do local _ = ('x'):rep(10) end",           /* the library looks */
        "local t = {} for i = 1, 64 do t[i] = i end for i = 1, 1e15 do table.sort(t, function(a, b) return a > b end) end",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char err[SB_ERRLEN] = "";
        sb_rules *r = clock_pack(bodies[i], 50, 0, err);
        T_CHECK(r != NULL);
        if (!r) { fprintf(stderr, "%s\n", err); continue; }
        set_ctx(r);
        sb_order o;
        sb_decision d;
        const char *j = order_json("EVIL");
        fake_looks = 0;
        T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
        T_CONTAINS(d.error, "route.lua:3: rule exceeded its time limit (50 ms)");
        T_CHECK(fake_looks >= 50 && fake_looks <= 60);        /* 50 ms by that clock, and then at once */
        if (fake_looks > 60) fprintf(stderr, "  case %zu: %d looks at the clock\n", i, fake_looks);
        j = order_json("111-1");
        T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
        T_CHECK(d.error == NULL);
        sb_rules_free(r);
    }
    /* a pack whose top-level code never returns does not load */
    char err[SB_ERRLEN] = "";
    sb_rules *r = clock_pack("while true do end", 50, 40, err);
    T_CHECK(r == NULL);
    T_CONTAINS(err, "route.lua:1: rule exceeded its time limit (40 ms to load)");
    sb_rules_free(r);
}

/* SIGTERM while a rule runs: the call returns SB_EINTR at once, nothing is held, and the
 * host decides the next order when the flag is down again. */
static void test_stop_flag(void) {
    char err[SB_ERRLEN] = "";
    sb_rules *r = clock_pack("while true do end", 60000, 0, err);
    T_CHECK(r != NULL);
    if (!r) return;
    sb_rules_ctx ctx = {"test", SETTINGS, (int)(sizeof SETTINGS / sizeof SETTINGS[0]),
                        BRANCHES, 3, "2026-03-02", &LOOKUP, &stop_flag};
    T_EQ(sb_rules_set_context(r, &ctx, err), 0);
    sb_order o;
    sb_decision d;
    const char *j = order_json("EVIL");
    fake_looks = 0;
    stop_after = 5;
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), SB_EINTR);
    T_CONTAINS(err, "EVIL");
    T_CONTAINS(err, "stopping");
    T_CHECK(d.error == NULL);
    T_CHECK(fake_looks <= 6);
    stop_after = 0;
    stop_flag = 0;
    j = order_json("111-1");
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_CHECK(d.error == NULL);
    sb_rules_free(r);
}

/* A pack that keeps its whole memory share in its own variables: later orders are still
 * read and normalised (the engine's own Lua has a reserve), and held by the pack's error,
 * each under its own id, never rejected without one. */
static void test_memory_reserve(void) {
    const char *code =
        "local keep = {}\n"
        "return function(order)\n"
        "  local s = string.rep('x', 60000)\n"
        "  for i = 1, 1e9 do keep[#keep + 1] = s .. i end\n"
        "end\n";
    char err[SB_ERRLEN] = "";
    sb_rules_limits lim = {.memory_bytes = 4 << 20, .time_ms = 60000};
    sb_rules *r = sb_rules_load(pack_with("route.lua", code, 0), &lim, err);
    T_CHECK(r != NULL);
    if (!r) return;
    set_ctx(r);
    char body[20000];
    snprintf(body, sizeof body, "{\"orders\":[%s,", order_json("222-1"));
    snprintf(body + strlen(body), sizeof body - strlen(body), "%s,", order_json("222-2"));
    snprintf(body + strlen(body), sizeof body - strlen(body), "%s]}", order_json("222-3"));
    int n = 0;
    T_EQ(sb_rules_page_open(r, body, strlen(body), &n, NULL, err), 0);
    T_EQ(n, 3);
    for (int i = 0; i < n; i++) {
        sb_order o;
        sb_decision d;
        char id[16];
        snprintf(id, sizeof id, "222-%d", i + 1);
        T_EQ(sb_rules_page_order(r, i, &o, &d, err), 0);
        T_STREQ(o.order_id, id);
        T_CONTAINS(d.error, "out of memory");
        T_STREQ(d.error_hook, "route");
    }
    sb_rules_free(r);
}

/* A hook that puts a metatable on the order: what C reads of the order it reads raw, and
 * what later hooks trip over holds the order; nothing reaches the engine. */
static void test_order_metatable(void) {
    const char *code =
        "return function(order)\n"
        "  setmetatable(order, {__index = function() error('boom') end, __newindex = function() error('bang') end,\n"
        "                       __len = function() error('len') end, __pairs = function() error('pairs') end})\n"
        "  return defaults.validate(order)\n"
        "end\n";
    char err[SB_ERRLEN] = "";
    sb_rules *r = sb_rules_load(pack_with("validate.lua", code, 0), NULL, err);
    T_CHECK(r != NULL);
    if (!r) return;
    set_ctx(r);
    sb_order o;
    sb_decision d;
    const char *j = order_json("333-1");
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_STREQ(o.order_id, "333-1");
    T_CHECK(d.error != NULL || d.nsplits == 1);     /* held or decided, never the engine */
    j = order_json("333-2");
    T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
    T_STREQ(o.order_id, "333-2");
    sb_rules_free(r);
}

/* A decision's strings may be a megabyte each; its audit entry keeps the first 1024 bytes
 * of each (cut between characters) and stays one JSON object. The decision keeps them all. */
static void test_long_audit_strings(void) {
    static const struct { const char *file, *code; int audit; size_t full; } cases[] = {
        {"status.lua", "return function() return {download = true, reason = 'x' .. string.rep('\\u{e9}', 50000) .. '\\n'} end\n", 0, 100002},
        {"customer.lua", "return function() return {action = 'insert', key = string.rep('k', 1 << 20),\n"
                         "  name = string.rep('\"', 1 << 20)} end\n", 2, 1 << 20},
        {"route.lua", "return function() return {branch = 'Main', reason = string.rep('x\\n', 10000)} end\n", 3, 20000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[SB_ERRLEN] = "";
        sb_rules *r = sb_rules_load(pack_with(cases[i].file, cases[i].code, 0), NULL, err);
        T_CHECK(r != NULL);
        if (!r) { fprintf(stderr, "%s: %s\n", cases[i].file, err); continue; }
        set_ctx(r);
        sb_order o;
        sb_decision d;
        const char *j = order_json("444-1");
        T_EQ(sb_rules_order_json(r, j, strlen(j), &o, &d, err), 0);
        T_CHECK(d.error == NULL);
        T_EQ(d.naudit, 5);
        const char *a = d.audit[cases[i].audit].decision_json;
        sb_json *doc = NULL;
        T_EQ(sb_json_parse(a, strlen(a), &doc, err), 0);
        T_EQ(sb_json_type(doc, SB_JSON_ROOT, NULL), SB_JSON_OBJ);
        const char *k = cases[i].audit == 2 ? "key" : "reason";
        const char *v = sb_json_str(doc, SB_JSON_ROOT, k);
        T_CHECK(v && strlen(v) <= 1024 + 3 && strlen(v) > 1000);
        T_CHECK(v && !strcmp(v + strlen(v) - 3, "..."));
        if (cases[i].audit == 0) T_CHECK(v && ((unsigned char)v[strlen(v) - 4] & 0xc0) != 0xc0);  /* no half character */
        const char *full = cases[i].audit == 0 ? d.skip_reason : cases[i].audit == 2 ? d.customer_key : d.route_reason;
        T_EQ(full ? strlen(full) : 0, cases[i].full);
        sb_json_free(doc);
        sb_rules_free(r);
    }
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
    test_time_limit();
    test_stop_flag();
    test_memory_reserve();
    test_order_metatable();
    test_long_audit_strings();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
    return t_done();
}
