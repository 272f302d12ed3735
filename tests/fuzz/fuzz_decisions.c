/* fuzz_decisions.c: the decision reader (engine/rules/order.c, sb_take_*) fed random Lua
 * values. A pack made of tests/fuzz/fuzz_decisions.lua (written to a temporary folder and
 * loaded once, with small limits) turns each input into the decision of one order hook:
 * byte 0 picks the hook, the rest is a program that builds tables, strings, numbers,
 * metatables and cycles (see the .lua file). The input reaches the pack hex-encoded in
 * the setting fuzz.bytes; the pack talks back through the product() look-up.
 *
 * The one idea: every call must come back 0, and its decision must be either held by the
 * fuzzed hook with a one-line error, or valid as the sync would store it (branches that
 * exist, whole quantities that add up to the order's, known customer, GL account and
 * group, audit JSON that parses), with no metamethod of the decision run by the engine
 * and no name with a NUL accepted. A second, clean call then checks the state still
 * decides the fixed decisions. A broken invariant aborts with what broke. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/util.h"
#include "fuzz.h"
#include "json/json.h"
#include "rules/rules.h"

#define MAX_INPUT 4096          /* longer inputs are cut (the pack's budget ends them anyway) */
#define NHOOKS 5

/* three lines of 2, 1 and 3 */
static const char ORDER[] =
    "{\"orderId\":\"FUZZ-1\",\"createdTime\":\"2026-03-01T18:22:41Z\","
    "\"lastUpdatedTime\":\"2026-03-01T18:40:03Z\",\"programs\":[\"PRIME\"],"
    "\"salesChannel\":{\"channelName\":\"AMAZON\",\"marketplaceId\":\"ATVPDKIKX0DER\"},"
    "\"buyer\":{\"buyerName\":\"Dana Ortiz\",\"buyerEmail\":\"Dana@Example.com\"},"
    "\"recipient\":{\"deliveryAddress\":{\"name\":\"Dana Ortiz\",\"addressLine1\":\"41 Orchard St\","
    "\"city\":\"Brooklyn\",\"stateOrRegion\":\"NY\",\"postalCode\":\"11201\",\"countryCode\":\"US\"}},"
    "\"proceeds\":{\"grandTotal\":{\"amount\":\"59.97\",\"currencyCode\":\"USD\"}},"
    "\"fulfillment\":{\"fulfillmentStatus\":\"UNSHIPPED\",\"fulfilledBy\":\"MERCHANT\","
    "\"fulfillmentServiceLevel\":\"STANDARD\"},"
    "\"orderItems\":["
    "{\"orderItemId\":\"1\",\"quantityOrdered\":2,\"product\":{\"sellerSku\":\"MUG-01\"}},"
    "{\"orderItemId\":\"2\",\"quantityOrdered\":1,\"product\":{\"sellerSku\":\"TEE-02\"}},"
    "{\"orderItemId\":\"3\",\"quantityOrdered\":3,\"product\":{\"sellerSku\":\"CAP-03\"}}]}";
static const double QTY[] = {2, 1, 3};

static const char *const HOOK_NAMES[NHOOKS] = {"status", "validate", "customer", "route", "gl"};
static const sb_branch_info BRANCHES[] = {{"Main", "US", "NJ"}, {"East", "US", "NY"}, {"FBA", "US", NULL}};
#define NBRANCHES 3

static sb_rules *rules;

/* what the pack said through product() during the current call */
static struct {
    int returned;               /* FUZZ-RETURN: the fuzzed hook has returned its decision */
    int mm_after;               /* FUZZ-MM after that: the engine ran a metamethod */
    int nul;                    /* FUZZ-NUL: a name field holds a NUL */
} said;

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz_decisions: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static int lk_product(void *ud, const char *sku, sb_product_info *out) {
    (void)ud; (void)out;
    if (!strcmp(sku, "FUZZ-BEGIN")) memset(&said, 0, sizeof said);
    else if (!strcmp(sku, "FUZZ-RETURN")) said.returned = 1;
    else if (!strcmp(sku, "FUZZ-NUL")) said.nul = 1;
    else if (!strcmp(sku, "FUZZ-MM") && said.returned) said.mm_after++;
    return SB_ENOTFOUND;
}

static int lk_customer(void *ud, const char *k, sb_customer_info *out) {
    (void)ud;
    memset(out, 0, sizeof *out);
    if (!strcmp(k, "C2")) {
        out->id = 12;
        out->ref = "C2";
        return 0;
    }
    if (strcmp(k, "C1") && strcmp(k, "dana@example.com") && strcmp(k, "Dana@Example.com")) return SB_ENOTFOUND;
    out->id = 11;
    out->ref = "C1";
    out->email = "dana@example.com";
    return 0;
}

static int lk_gl(void *ud, const char *code) { (void)ud; return !strcmp(code, "4000"); }
static int lk_group(void *ud, const char *g) { (void)ud; return !strcmp(g, "Amazon"); }

static const sb_lookup LOOKUP = {NULL, NULL, lk_product, lk_customer, lk_customer, lk_customer,
                                 lk_gl, lk_group};

static void done(void) {
    sb_rules_free(rules);
    rules = NULL;
}

/* writes the pack (the .lua once per hook, with its name in front) into a temporary
 * folder, loads it and removes the folder */
static void setup(void) {
    char path[4096], dir[] = "/tmp/fuzz_decisions.XXXXXX", err[SB_ERRLEN];
    const char *src_dir = getenv("SB_SOURCE_DIR");
    char *src = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/tests/fuzz/fuzz_decisions.lua", src_dir && *src_dir ? src_dir : SB_SOURCE_DIR);
    if (sb_file_read(path, &src, &len, (size_t)1 << 20, err) < 0) fail("%s", err);
    if (!mkdtemp(dir)) fail("mkdtemp: cannot make %s", dir);
    for (int h = 0; h < NHOOKS; h++) {
        snprintf(path, sizeof path, "%s/%s.lua", dir, HOOK_NAMES[h]);
        FILE *f = fopen(path, "wb");
        if (!f) fail("cannot write %s", path);
        fprintf(f, "local HOOK = \"%s\"\n", HOOK_NAMES[h]);
        fwrite(src, 1, len, f);
        if (fclose(f)) fail("cannot write %s", path);
    }
    free(src);
    sb_rules_limits lim = {.instructions = 200000, .memory_bytes = (size_t)8 << 20, .time_ms = 2000};
    rules = sb_rules_load(dir, &lim, err);
    for (int h = 0; h < NHOOKS; h++) {
        snprintf(path, sizeof path, "%s/%s.lua", dir, HOOK_NAMES[h]);
        unlink(path);
    }
    rmdir(dir);
    if (!rules) fail("the pack does not load: %s", err);
    sb_fuzz_atexit(done);
}

/* the context with fuzz.bytes = hex of data[0..size) */
static void set_bytes(const uint8_t *data, size_t size) {
    static char hex[2 * MAX_INPUT + 1];
    static const char digits[] = "0123456789abcdef";
    char err[SB_ERRLEN];
    for (size_t i = 0; i < size; i++) {
        hex[2 * i] = digits[data[i] >> 4];
        hex[2 * i + 1] = digits[data[i] & 15];
    }
    hex[2 * size] = 0;
    sb_setting_value settings[] = {{"fuzz.bytes", 's', hex}};
    sb_rules_ctx ctx = {.integration = "fuzz", .settings = settings, .nsettings = 1,
                        .branches = BRANCHES, .nbranches = NBRANCHES, .today = "2026-03-02",
                        .lookup = &LOOKUP};
    if (sb_rules_set_context(rules, &ctx, err)) fail("set_context: %s", err);
}

static int is_branch(const char *b) {
    for (int i = 0; b && i < NBRANCHES; i++)
        if (!strcmp(b, BRANCHES[i].name)) return 1;
    return 0;
}

/* the audit of the n hooks that decided: the fuzzed hook's entry must parse as a JSON
 * object (one parse: each makes a Lua state), the fixed hooks' entries are known */
static void check_audit(const sb_decision *d, int n, int fuzzed) {
    static const char *const FIXED_AUDIT[NHOOKS] = {
        "{\"download\":true}", "{\"attention\":false}",
        "{\"action\":\"insert\",\"key\":\"dana@example.com\"}",
        ("{\"splits\":[{\"branch\":\"Main\",\"lines\":[{\"line\":1,\"qty\":2},{\"line\":2,\"qty\":1},"
         "{\"line\":3,\"qty\":3}]}]}"),
        "{\"account\":null}"};
    if (d->naudit != n) fail("%d audit entries, %d hooks decided", d->naudit, n);
    for (int i = 0; i < n; i++) {
        const sb_audit_entry *a = &d->audit[i];
        if (!a->hook || strcmp(a->hook, HOOK_NAMES[i])) fail("audit entry %d is for %s, not %s", i, a->hook, HOOK_NAMES[i]);
        if (!a->decision_json) fail("the %s audit entry has no decision", a->hook);
        if (i != fuzzed) {
            if (strcmp(a->decision_json, FIXED_AUDIT[i])) fail("the fixed %s decision reads %.300s", a->hook, a->decision_json);
            continue;
        }
        char err[SB_ERRLEN];
        sb_json *j = NULL;
        if (sb_json_parse(a->decision_json, strlen(a->decision_json), &j, err) < 0)
            fail("the %s audit entry is not JSON (%s): %.200s", a->hook, err, a->decision_json);
        int ty = sb_json_type(j, SB_JSON_ROOT, NULL);
        sb_json_free(j);
        if (ty != SB_JSON_OBJ) fail("the %s audit entry is not an object: %.200s", a->hook, a->decision_json);
    }
}

/* every split names branches that exist and splits each line of the order exactly */
static void check_route(const sb_order *o, const sb_decision *d) {
    double sum[3] = {0, 0, 0};
    if (d->nsplits < 1 || d->nsplits > SB_MAX_SPLITS) fail("%d splits", d->nsplits);
    if (d->distribution_branch && !is_branch(d->distribution_branch))
        fail("distribution branch '%s' does not exist", d->distribution_branch);
    for (int s = 0; s < d->nsplits; s++) {
        const sb_split *sp = &d->splits[s];
        if (!is_branch(sp->branch)) fail("split %d: branch '%s' does not exist", s, sp->branch ? sp->branch : "(null)");
        if (sp->nlines < 1 || sp->nlines > o->nlines) fail("split %d has %d lines", s, sp->nlines);
        for (int i = 0; i < sp->nlines; i++) {
            int li = sp->lines[i].line;
            double q = sp->lines[i].qty;
            if (li < 0 || li >= o->nlines) fail("split %d: line index %d", s, li);
            for (int k = 0; k < i; k++)
                if (sp->lines[k].line == li) fail("split %d names line %d twice", s, li + 1);
            if (!(q >= 1) || q > QTY[li] || q != floor(q))
                fail("split %d: line %d qty %.17g", s, li + 1, q);
            sum[li] += q;
        }
    }
    for (int i = 0; i < o->nlines; i++)
        if (sum[i] != QTY[i]) fail("line %d: the splits give %.17g, the order has %g", i + 1, sum[i], QTY[i]);
}

/* the decision of one call in which hook fuzzed (-1: none) built its decision */
static void check(int rc, const char *err, const sb_order *o, const sb_decision *d, int fuzzed) {
    if (rc) fail("sb_rules_order_json returned %d: %s", rc, err);
    if (!o->order_id || strcmp(o->order_id, "FUZZ-1") || o->nlines != 3) fail("the order came back changed");
    if (said.mm_after) fail("the engine ran %d metamethods of a decision", said.mm_after);
    if (d->error) {
        int h = 0;
        while (h < NHOOKS && (!d->error_hook || strcmp(d->error_hook, HOOK_NAMES[h]))) h++;
        if (h != fuzzed) fail("held by %s, but %s built the decision: %s", d->error_hook ? d->error_hook : "(null)",
                              fuzzed >= 0 ? HOOK_NAMES[fuzzed] : "no hook", d->error);
        for (const char *p = d->error; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) fail("the error has control character %#x: %s", *p, d->error);
        if (strlen(d->error) >= SB_ERRLEN) fail("an error of %zu bytes", strlen(d->error));
        /* the reader's own message (a rule may raise the same text, but not once it returned) */
        char raised[64];
        snprintf(raised, sizeof raised, "%s.lua: the decision cannot be read: ", HOOK_NAMES[h]);
        if (said.returned && !strncmp(d->error, raised, strlen(raised))) fail("reading the decision raised: %s", d->error);
        check_audit(d, h, fuzzed);
        return;
    }
    if (said.nul) fail("a name with a NUL byte was accepted");
    if (d->download != 0 && d->download != 1) fail("download %d", d->download);
    if (!d->download) {
        check_audit(d, 1, fuzzed);
        if (d->customer_action || d->nsplits) fail("a skipped order was decided further");
        return;
    }
    check_audit(d, NHOOKS, fuzzed);
    if (d->attention != 0 && d->attention != 1) fail("attention %d", d->attention);
    if (d->attention && !d->attention_reason) fail("attention without a reason");
    switch (d->customer_action) {
    case SB_CUST_INSERT:
        if (d->customer_id || !d->customer_key || !*d->customer_key) fail("insert with id %lld", (long long)d->customer_id);
        if (d->customer_group && strcmp(d->customer_group, "Amazon")) fail("group '%s' does not exist", d->customer_group);
        break;
    case SB_CUST_UPDATE: case SB_CUST_KEEP: case SB_CUST_SELECTED:
        if (d->customer_id != 11 && d->customer_id != 12) fail("customer id %lld does not exist", (long long)d->customer_id);
        if (d->customer_key || d->customer_group || d->customer_name) fail("an existing customer with a key, group or name");
        break;
    default:
        fail("customer action %d", d->customer_action);
    }
    check_route(o, d);
    if (d->gl_account && strcmp(d->gl_account, "4000")) fail("GL account '%s' does not exist", d->gl_account);
    if (fuzzed < 0 && (d->attention || d->customer_action != SB_CUST_INSERT || d->nsplits != 1 ||
                       strcmp(d->splits[0].branch, "Main") || d->splits[0].nlines != 3 || d->gl_account))
        fail("the clean call did not give the fixed decisions");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[SB_ERRLEN] = "";
    sb_order o;
    sb_decision d;
    if (!rules) setup();
    if (size > MAX_INPUT) size = MAX_INPUT;
    set_bytes(data, size);
    memset(&said, 0, sizeof said);
    int rc = sb_rules_order_json(rules, ORDER, sizeof ORDER - 1, &o, &d, err);
    check(rc, err, &o, &d, size ? data[0] % NHOOKS : -1);
    /* the next order on the same state is decided as if nothing had happened */
    set_bytes(NULL, 0);
    memset(&said, 0, sizeof said);
    rc = sb_rules_order_json(rules, ORDER, sizeof ORDER - 1, &o, &d, err);
    check(rc, err, &o, &d, -1);
    return 0;
}
