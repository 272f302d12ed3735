/* test_kits_stock.c: a kit's stock upload quantity, end to end against the in-process
 * simulator: what the kit's components make (per branch, then through the stock rule),
 * sent again when a component or the BOM changes and only then, a kit without a BOM
 * reported and not sent. What Amazon has is read from the simulator's listings, what
 * was sent from its request log, what was reported from the log (stderr, captured). */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "csvio/csvio.h"
#include "json/json.h"
#include "secrets/secrets.h"
#include "sim/sim.h"
#include "store/aliases.h"
#include "store/store.h"
#include "sync/engine.h"
#include "sync/stock.h"
#include "support/fixture.h"
#include "t.h"
#include "store/store_int.h"

#define MP "ATVPDKIKX0DER"

/* KIT-AB starts at 50 and KIT-NB at 9 on Amazon: a kit nobody updates keeps those */
static const char *LISTINGS =
    "[{\"sku\":\"A\",\"quantity\":0},{\"sku\":\"B\",\"quantity\":0},{\"sku\":\"C\",\"quantity\":0},"
    " {\"sku\":\"KIT-AB\",\"quantity\":50},{\"sku\":\"KIT-AC\",\"quantity\":4},{\"sku\":\"KIT-NB\",\"quantity\":9},"
    " {\"sku\":\"AMZ-D\",\"quantity\":1}]";   /* a SKU of Amazon's, linked to product D by an alias */

typedef struct fx {
    char dir[128], db[192], log[256];
    sb_store *s;
    int64_t integ;
    sb_sim *sim;
} fx;

static void import(fx *f, const char *kind, const char *csv) { t_import(f->s, f->integ, kind, csv); }
static void set(fx *f, const char *name, const char *value) { t_set(f->s, f->integ, name, value); }
static void sql(fx *f, const char *q) { t_sql(f->s, q); }
static double qnum(fx *f, const char *q) { return t_qnum(f->s, q); }

static void fx_open(fx *f) {
    char err[SB_ERRLEN], scen[1024];
    memset(f, 0, sizeof *f);
    atomic_store(&t_fake_ms, sb_time_parse("2026-11-27T10:00:00Z") * 1000);
    sb_clock_set(&t_fake_clock);
    snprintf(f->dir, sizeof f->dir, "/tmp/sbkits.XXXXXX");
    if (!mkdtemp(f->dir)) { perror("mkdtemp"); exit(1); }
    snprintf(f->db, sizeof f->db, "%s/sb.db", f->dir);
    snprintf(f->log, sizeof f->log, "%s/log", f->dir);
    T_EQ(sb_store_open(f->db, SB_STORE_CREATE, &f->s, err), 0);
    T_EQ(sb_store_integration_add(f->s, "t", &f->integ, err), 0);
    snprintf(scen, sizeof scen, "{\"listings\":%s}", LISTINGS);
    sb_sim_options o = {.port = 0, .scenario_json = scen, .time_scale = 1000};
    if (sb_sim_start(&o, &f->sim, err)) { fprintf(stderr, "sim: %s\n", err); exit(1); }
    import(f, "branches", "name\nLA\nNJ\nFBA\n");
    /* A's own buffer is A's: a kit subtracts only its own */
    import(f, "products", "sku,name,order_type,buffer_stock\nA,Alpha,standard,3\nB,Beta,standard,0\nC,Gamma,standard,0\n"
                          "KIT-AB,2 x A + 1 x B,kit,1\nKIT-AC,A + C,kit,0\nKIT-NB,no BOM yet,kit,0\n");
    import(f, "boms", "kit_sku,component_sku,qty\nKIT-AB,A,2\nKIT-AB,B,1\nKIT-AC,A,1\nKIT-AC,C,1\n");
    /* LA makes min(7/2, 5/1) = 3 kits; NJ min(4/2, no B) = 0: 3, not min(11/2, 5) = 5 */
    import(f, "stock", "sku,branch,on_hand\nA,LA,7\nA,NJ,4\nB,LA,5\nA,FBA,100\nB,FBA,100\n");
    /* written long ago: a later run looks at what changed since, not at rows of its own
     * second (which a run looks at again, and would hide a missing kit mark) */
    sql(f, "UPDATE products SET updated_at = '2026-01-01T00:00:00Z'; UPDATE stock SET updated_at = '2026-01-01T00:00:00Z'");
    t_connect_sim(f->s, f->integ, sb_sim_url(f->sim));
    set(f, "api.rate_scale", "1000");
    set(f, "orders.fba_branch", "FBA");
    set(f, "orders.bom_expand", "true");
    set(f, "stock.enabled", "true");
}

static void fx_close(fx *f) {
    char cmd[300];
    sb_store_close(f->s);
    sb_sim_stop(f->sim);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd)) {}
    sb_clock_set(NULL);
}

/* One stock run with stderr (the log) going to f->log; returns the run's code and leaves
 * the log's text in logbuf. */
static char logbuf[1 << 14];
static int stock_run(fx *f, sb_stock_result *r) {
    sb_engine *e = NULL;
    char err[SB_ERRLEN] = "";
    int rc;
    fflush(stderr);
    int saved = dup(2), fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved < 0 || fd < 0 || dup2(fd, 2) < 0) { perror("log capture"); exit(1); }
    close(fd);
    rc = sb_engine_open(f->s, f->db, f->integ, &e, err);
    if (!rc) rc = sb_sync_stock(e, r, err);
    sb_engine_close(e);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    if (rc) fprintf(stderr, "(stock run: %s)\n", err);
    FILE *lf = fopen(f->log, "r");
    size_t n = lf ? fread(logbuf, 1, sizeof logbuf - 1, lf) : 0;
    logbuf[n] = '\0';
    if (lf) fclose(lf);
    return rc;
}

/* The SKUs patched since the log was last cleared, in order, space separated (a call
 * the simulator throttled and the client repeated counts once). */
static const char *patched(fx *f) {
    static char out[1024];
    sb_buf b;
    sb_json *j = NULL;
    char err[SB_ERRLEN];
    size_t used = 0;
    out[0] = '\0';
    sb_buf_init(&b, 1u << 24);
    sb_sim_requests_json(f->sim, &b);
    if (!sb_json_parse(b.data, b.len, &j, err))
        for (size_t i = 0; i < sb_json_len(j, SB_JSON_ROOT, NULL); i++) {
            int r = sb_json_at(j, SB_JSON_ROOT, i);
            const char *o = sb_json_str(j, r, "op"), *path = sb_json_str(j, r, "path");
            const char *sku = path ? strrchr(path, '/') : NULL;
            if (o && !strcmp(o, "patchListingsItem") && (int)sb_json_num(j, r, "status", 0) == 200 && sku &&
                used < sizeof out - 64)
                used += (size_t)snprintf(out + used, sizeof out - used, "%s%s", used ? " " : "", sku + 1);
        }
    sb_json_free(j);
    sb_buf_free(&b);
    sb_sim_requests_clear(f->sim);
    return out;
}

/* an open merchant order line of sku in branch (reserved as the order download would) */
static void open_line(fx *f, const char *ref, const char *branch, const char *etd, const char *sku, double qty) {
    char q[512], err[SB_ERRLEN];
    snprintf(q, sizeof q, "INSERT INTO sales_orders(integration_id, order_ref, marketplace_id, stage, fulfilled_by, branch, etd) "
             "VALUES (%lld, '%s', '" MP "', 'open', 'MERCHANT', '%s', '%s')", (long long)f->integ, ref, branch, etd);
    sql(f, q);
    snprintf(q, sizeof q, "INSERT INTO sales_order_lines(order_id, line_no, sku, product_id, qty) VALUES (%lld, 1, '%s', "
             "(SELECT id FROM products WHERE sku = '%s'), %g)", (long long)sqlite3_last_insert_rowid(f->s->db), sku, sku, qty);
    sql(f, q);
    snprintf(q, sizeof q, "SELECT id FROM products WHERE sku = '%s'", sku);
    T_EQ(sb_store_reserve(f->s, (int64_t)qnum(f, q), branch, qty, err), 0);
    T_EQ(sb_stock_mark_dirty(f->s, f->integ, sku, err), 0);
}

static void test_kit_quantity(void) {
    fx f;
    sb_stock_result r;
    fx_open(&f);

    /* first run: every SKU; the kits from their components */
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 3);
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AC"), 0);      /* C has no stock anywhere */
    T_EQ(sb_sim_listing_quantity(f.sim, "A"), 11);
    T_EQ(sb_sim_listing_quantity(f.sim, "B"), 5);
    T_EQ(sb_sim_listing_quantity(f.sim, "C"), 0);
    /* no BOM: reported by name, not sent (Amazon keeps its 9), not recorded as sent */
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-NB"), 9);
    T_EQ(r.no_bom, 1);
    T_CONTAINS(logbuf, "sku=KIT-NB: the kit has no BOM");
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM stock_sent WHERE sku = 'KIT-NB'"), 0);
    T_STREQ(patched(&f), "A B C KIT-AB KIT-AC");
    T_EQ(qnum(&f, "SELECT quantity FROM stock_sent WHERE sku = 'KIT-AB' AND status = 'accepted'"), 3);

    /* nothing changed: nothing sent, the kit without a BOM reported again */
    T_EQ(stock_run(&f, &r), 0);
    T_STREQ(patched(&f), "");
    T_EQ(r.no_bom, 1);
    T_CONTAINS(logbuf, "sku=KIT-NB");

    /* B drops to 2 in LA: B and the kit, nothing else (A, KIT-AC unchanged) */
    import(&f, "stock", "sku,branch,on_hand\nB,LA,2\n");
    T_EQ(stock_run(&f, &r), 0);
    T_STREQ(patched(&f), "B KIT-AB");
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 2);
    T_EQ(sb_sim_listing_quantity(f.sim, "B"), 2);
    T_EQ(sb_sim_listing_quantity(f.sim, "A"), 11);

    /* the kit's own buffer (1), not its components' (A has 3) */
    set(&f, "stock.subtract_buffer", "true");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 1);
    T_EQ(sb_sim_listing_quantity(f.sim, "A"), 8);
    set(&f, "stock.subtract_buffer", "false");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 2);
    patched(&f);

    /* an order of 4 x A in LA, due in 13 days: available (7 - 4) / 2 = 1 kit in LA; the
     * order is not due within 7 days, so etd7 still makes 2; soh 2 (B limits) */
    open_line(&f, "111-0000001-0000001", "LA", "2026-12-10", "A", 4);
    T_EQ(stock_run(&f, &r), 0);
    T_STREQ(patched(&f), "A KIT-AB");     /* KIT-AC looked at, still 0 */
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 1);
    T_EQ(sb_sim_listing_quantity(f.sim, "A"), 7);
    set(&f, "stock.formula", "etd7");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 2);
    set(&f, "stock.formula", "etd30");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 1);
    set(&f, "stock.formula", "soh");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 2);
    set(&f, "stock.formula", "available");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 1);
    patched(&f);

    /* a changed BOM marks its kit: 3 x B now, and B has 2 ... */
    import(&f, "boms", "kit_sku,component_sku,qty\nKIT-AB,B,3\n");
    T_EQ(stock_run(&f, &r), 0);
    T_STREQ(patched(&f), "KIT-AB");
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 0);
    /* ... and a kit that gets its BOM is sent: B in LA 2 */
    import(&f, "boms", "kit_sku,component_sku,qty\nKIT-NB,B,1\n");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(r.no_bom, 0);
    T_STREQ(patched(&f), "KIT-NB");
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-NB"), 2);
    /* a component taken out of the BOM marks the kit too: KIT-AB is 2 x A only,
     * (7 - 4) / 2 in LA + 4 / 2 in NJ */
    sql(&f, "DELETE FROM bom_components WHERE component_id = (SELECT id FROM products WHERE sku = 'B') "
            "AND kit_id = (SELECT id FROM products WHERE sku = 'KIT-AB')");
    T_EQ(stock_run(&f, &r), 0);
    T_STREQ(patched(&f), "KIT-AB");
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 3);

    /* without BOM expansion orders reserve the kit itself: its own stock is sent */
    import(&f, "stock", "sku,branch,on_hand\nKIT-AB,LA,4\n");
    set(&f, "orders.bom_expand", "false");
    T_EQ(stock_run(&f, &r), 0);
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AB"), 4);
    T_EQ(sb_sim_listing_quantity(f.sim, "KIT-AC"), 0);
    fx_close(&f);
}

/* A product Amazon lists under another SKU (an alias, store/aliases.h): its stock goes
 * to the listing's SKU, not the product's own, and a change of its stock sends it again. */
static void test_alias_listing(void) {
    fx f;
    sb_stock_result r;
    char err[SB_ERRLEN];
    fx_open(&f);
    T_EQ(stock_run(&f, &r), 0);
    patched(&f);
    import(&f, "products", "sku,name\nD,Delta\n");
    T_EQ(sb_store_alias_set(f.s, "AMZ-D", "D", NULL, err), 0);
    import(&f, "stock", "sku,branch,on_hand\nD,LA,6\n");
    T_EQ(stock_run(&f, &r), 0);
    T_STREQ(patched(&f), "AMZ-D");
    T_EQ(sb_sim_listing_quantity(f.sim, "AMZ-D"), 6);
    T_EQ(qnum(&f, "SELECT quantity FROM stock_sent WHERE sku = 'AMZ-D' AND status = 'accepted'"), 6);
    T_EQ(qnum(&f, "SELECT COUNT(*) FROM stock_sent WHERE sku = 'D'"), 0);
    T_EQ(stock_run(&f, &r), 0);
    T_STREQ(patched(&f), "");                  /* nothing changed: nothing sent */
    import(&f, "stock", "sku,branch,on_hand\nD,LA,4\n");
    T_EQ(stock_run(&f, &r), 0);
    T_STREQ(patched(&f), "AMZ-D");
    T_EQ(sb_sim_listing_quantity(f.sim, "AMZ-D"), 4);
    fx_close(&f);
}

int main(void) {
    sb_log_set_level(SB_LOG_WARN);
    test_kit_quantity();
    test_alias_listing();
    return t_done();
}
