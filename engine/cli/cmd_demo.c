/* cmd_demo.c: `sellerbridge demo`, the README's first command: a demo database in
 * ./sellerbridge-demo/ with the sample master data (compiled in from examples/data), the
 * settings a typical seller chooses, and the main job run against the built-in
 * simulator; `--serve` then keeps the simulator, the engine and the dashboard running on
 * it. Safe to run again: it starts from a fresh demo database each time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "core/clock.h"
#include "core/embed.h"
#include "core/log.h"
#include "core/util.h"
#include "csvio/csvio.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "sim/sim.h"
#include "store/demo.h"
#include "store/store.h"
#include "sync/engine.h"
#include "sync/orders.h"

static const char *const demo_kinds[] = {"branches", "customer_groups", "gl_accounts", "products",
                                         "boms", "stock", "customers", "orders", NULL};

static const char *const demo_settings[][2] = {
    {"additional.mf_branch", "LA Warehouse"},
    {"orders.fba_branch", "Amazon FBA"},
    {"orders.statuses", "UNSHIPPED,PARTIALLY_SHIPPED,SHIPPED"},
    {"orders.customer_group", "Amazon Retail"},
    {"orders.gl_account", "4010"},
    {"orders.routing.enabled", "true"},
    {"orders.routing.grid", "[{\"countries\":[\"US\"],\"states\":[\"NY\",\"NJ\",\"PA\",\"MA\",\"FL\"],"
                            "\"branch\":\"NJ Warehouse\",\"backups\":[\"LA Warehouse\"]},"
                            "{\"countries\":[\"US\"],\"branch\":\"LA Warehouse\",\"backups\":[\"NJ Warehouse\"]},"
                            "{\"countries\":[\"AU\"],\"branch\":\"Sydney\",\"backups\":[\"Melbourne\"]}]"},
    {"orders.bom_expand", "true"},
    {"stock.enabled", "true"},
    {"stock.subtract_buffer", "true"},
    {"additional.fulfillment_latency", "2"},
    {"orders.last_updated", "2026-11-01T00:00:00Z"},   /* the scenario's orders are from November 2026 */
    {NULL, NULL}
};

/* Builds the demo database at dir/sellerbridge.db. */
static int demo_setup(const char *db, int64_t *integ, sb_store **out, char *err) {
    sb_store *s = NULL;
    int rc;
    char key[4200];
    unsigned char k[SB_KEY_LEN];
    unlink(db);
    snprintf(key, sizeof key, "%s-wal", db); unlink(key);
    snprintf(key, sizeof key, "%s-shm", db); unlink(key);
    if ((rc = sb_store_open(db, SB_STORE_CREATE, &s, err))) return rc;
    if ((rc = sb_secrets_key(db, 1, k, err))) goto out;
    if ((rc = sb_store_integration_add(s, "demo", integ, err))) goto out;
    for (int i = 0; demo_kinds[i]; i++) {
        char path[64];
        snprintf(path, sizeof path, "examples/data/%s.csv", demo_kinds[i]);
        const sb_embedded_file *f = sb_embed_find(path);
        sb_csv_result res;
        if (!f) { rc = sb_seterr(err, SB_ENOTFOUND, "%s is not compiled in", path); goto out; }
        if ((rc = sb_csv_import_mem(s, *integ, demo_kinds[i], path, f->data, f->len, &res, err))) goto out;
        printf("  imported %-16s %3ld rows\n", demo_kinds[i], res.rows);
    }
    for (int i = 0; demo_settings[i][0]; i++)
        if ((rc = sb_settings_set(s, *integ, demo_settings[i][0], demo_settings[i][1], err))) goto out;
out:
    if (rc) { sb_store_close(s); s = NULL; }
    *out = s;
    return rc;
}

/* The demo's clock: real time plus an offset, so "three minutes later" takes no time. */
static int64_t offset_ms;
static int64_t demo_now(void *ud) {
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms;
}
static void demo_sleep(void *ud, int64_t ms) {
    (void)ud;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    if (ms > 0) nanosleep(&ts, NULL);
}

static int sync_once(sb_store *s, const char *db, int64_t integ, sb_orders_result *r, char *err) {
    sb_engine *e;
    int rc = sb_engine_open(s, db, integ, &e, err);
    if (!rc) rc = sb_sync_orders(e, r, err);
    sb_engine_close(e);
    return rc;
}

static int print_order(void *ctx, const sb_store_demo_order *o) {
    (void)ctx;
    printf("  %-22s %-2d %-16s %-12s %-14s %-11s %s\n", o->order_ref, o->split_no, o->stage, o->amazon_status,
           o->branch[0] ? o->branch : "-", o->invoice_no[0] ? o->invoice_no : "-", o->why);
    return 0;
}

/* The table of the demo's Amazon orders, one row per part. */
static int print_orders(sb_store *s, int64_t integ, char *err) {
    printf("  %-22s %-2s %-16s %-12s %-14s %-11s %s\n", "ORDER", "#", "STAGE", "AMAZON", "BRANCH", "INVOICE", "WHY");
    return sb_store_demo_orders(s, integ, print_order, NULL, err);
}

static void print_result(const char *what, const sb_orders_result *r) {
    char counts[512];
    printf("%s: %s\n", what, sb_orders_counts(r, counts, sizeof counts));
}

static int run_demo(sb_cli *cli, int argc, char **argv) {
    const char *dir = "sellerbridge-demo", *listen = "127.0.0.1:8080";
    int serve = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--serve")) serve = 1;
        else if (!strcmp(argv[i], "--listen") && i + 1 < argc) listen = argv[++i];
        else return sb_cli_usage_error(&sb_cmd_demo, "unknown argument '%s'", argv[i]);
    }
    char db[4096], err[SB_ERRLEN];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        sb_cli_fail("demo", SB_EIO, "%s: %s", dir, strerror(errno));
        return SB_EXIT_FAIL;
    }
    snprintf(db, sizeof db, "%s/sellerbridge.db", dir);
    printf("sellerbridge %s demo: database %s\n", SB_VERSION, db);
    sb_store *s = NULL;
    sb_sim *sim = NULL;
    int64_t integ;
    int rc = SB_EXIT_FAIL;
    static const sb_clock demo_clock = {demo_now, demo_sleep, NULL};
    sb_clock_set(&demo_clock);
    if (demo_setup(db, &integ, &s, err)) goto fail;

    const sb_embedded_file *scen = sb_embed_find("examples/data/demo-scenario.json");
    sb_sim_options so = {.scenario_json = scen ? scen->data : "{}", .time_scale = 1.0};
    if (sb_sim_start(&so, &sim, err)) goto fail;
    char lwa[256];
    unsigned char key[SB_KEY_LEN];
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", sb_sim_url(sim));
    if (sb_settings_set(s, integ, "api.endpoint", sb_sim_url(sim), err) ||
        sb_settings_set(s, integ, "api.lwa_endpoint", lwa, err) ||
        sb_settings_set(s, integ, "integration.seller_id", SB_SIM_SELLER_ID, err) ||
        /* one integration has one region: North America's US and CA marketplaces (an
         * amazon.com order shipped to Sydney still shows the routing by country) */
        sb_settings_set(s, integ, "integration.region", "na", err) ||
        sb_settings_set(s, integ, "integration.marketplaces", "ATVPDKIKX0DER,A2EUQ1WTGCTBG2", err) ||
        sb_secrets_key(db, 0, key, err) ||
        sb_secrets_put(s, integ, "lwa.client_id", SB_SIM_CLIENT_ID, key, err) ||
        sb_secrets_put(s, integ, "lwa.client_secret", SB_SIM_CLIENT_SECRET, key, err) ||
        sb_secrets_put(s, integ, "lwa.refresh_token", SB_SIM_REFRESH_TOKEN, key, err)) goto fail;
    printf("\nAmazon simulator at %s with %zu orders; integration 'demo' in region na (US and CA marketplaces);\n"
           "settings: FBA branch 'Amazon FBA', merchant-fulfilled 'LA Warehouse', routing US east coast -> NJ,\n"
           "rest of US -> LA, shipped to AU -> Sydney; kits expanded.\n\n",
           sb_sim_url(sim), sb_sim_order_count(sim));

    sb_orders_result r;
    if (sync_once(s, db, integ, &r, err)) goto fail;
    print_result("first download", &r);
    if (print_orders(s, integ, err)) goto fail;

    /* the buyer of the NJ order cancels; the next check, three minutes later, sees it */
    if (sb_sim_orders_upsert(sim, "{\"orderId\":\"111-0000002-0000002\",\"fulfillmentStatus\":\"CANCELLED\"}", err)) goto fail;
    offset_ms += 3 * 60 * 1000;
    if (sync_once(s, db, integ, &r, err)) goto fail;
    printf("\nthe buyer of 111-0000002-0000002 cancels on Amazon; three minutes later:\n");
    print_result("next download", &r);
    if (sync_once(s, db, integ, &r, err)) goto fail;
    print_result("and again (nothing new, nothing duplicated)", &r);

    char report[1024];
    int bad = sb_orders_check_reserved(s, report, sizeof report);
    printf("\nstock reservations %s\n", bad == 0 ? "match the open orders" : report);
    printf("Amazon calls: %zu (LWA token and searchOrders pages)\n", sb_sim_request_count(sim));
    printf("\nnext: sellerbridge --db %s orders list | orders explain 111-0000004-0000004 | settings list\n", db);
    rc = bad == 0 ? SB_EXIT_OK : SB_EXIT_FAIL;
    if (!serve) {
        /* the database points at this simulator, which stops with the demo */
        printf("the simulator stops with the demo: `sellerbridge demo --serve` keeps it, the engine and the "
               "dashboard running (then sync, dispatch and the dashboard work on %s)\n", db);
        goto done;
    }
    if (rc) goto done;
    /* --serve: the engine and the dashboard on the demo database, against this simulator */
    printf("\nserving: Amazon simulator at %s\n", sb_sim_url(sim));
    sb_cli dcli = *cli;
    dcli.db_path = db;
    dcli.integration = NULL;
    dcli.serve_banner = 1;
    rc = sb_cli_serve(&dcli, s, listen);
    goto done;
fail:
    sb_cli_fail("demo", SB_ERR, "%s", err);
done:
    sb_sim_stop(sim);
    sb_store_close(s);
    sb_clock_set(NULL);
    (void)cli;
    return rc;
}

const sb_command sb_cmd_demo = {"demo", run_demo,
    "Run the main job end to end on a demo database with the built-in Amazon simulator",
    "demo [--dir DIR] [--serve [--listen ADDR:PORT]]   (default ./sellerbridge-demo; needs no credentials)\n"
    "  --serve: then keeps the simulator, the engine and the dashboard (127.0.0.1:8080 unless\n"
    "  --listen) running on the demo database until Ctrl-C, so sync, dispatch and the dashboard go on working"};
