/* cmd_jobs.c: the products, stock and tracking jobs from the command line:
 *   products sync                      download listings (GET_MERCHANT_LISTINGS_ALL_DATA)
 *   stock sync | status [--all]        upload quantity + handling time; per-SKU results
 *   dispatch ORDER --carrier C --tracking T [--service S] [--line SKU:QTY ...]
 *   update-dispatched                  the "Update Dispatched Orders" button
 *   outbox [--all]                     confirmations waiting, failed or (--all) sent
 * sb_cli_sync_job() runs "products" or "stock" for `sellerbridge sync JOB`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "sync/engine.h"
#include "sync/products.h"
#include "sync/stock.h"
#include "sync/tracking.h"
#include "json/json.h"

int sb_cli_sync_job(sb_cli *cli, const char *job);

static int with_engine(sb_cli *cli, sb_store **s, sb_engine **e, char *name, size_t namelen) {
    int64_t integ;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, s, &integ, name, namelen)) return SB_EXIT_FAIL;
    if (sb_engine_open(*s, cli->db_path, integ, e, err)) {
        sb_cli_fail(NULL, SB_ERR, "%s", err);
        sb_store_close(*s);
        return SB_EXIT_FAIL;
    }
    return 0;
}

static int run_products_sync(sb_cli *cli) {
    sb_store *s;
    sb_engine *e;
    char err[SB_ERRLEN] = "", name[128];
    if (with_engine(cli, &s, &e, name, sizeof name)) return SB_EXIT_FAIL;
    sb_products_result r;
    int rc = sb_sync_products(e, &r, err);
    if (rc == SB_ELATER) {                      /* nothing failed: Amazon is not done yet */
        printf("products %s: waiting: %s\n", name, err);
        rc = 0;
    } else if (rc) sb_cli_fail("products", SB_ERR, "%s", err);
    else if (!sb_settings_bool(&e->settings, "products.enabled"))
        printf("products %s: download is off (products.enabled=false)\n", name);
    else if (cli->json) {
        printf("{\"integration\":");
        sb_cli_json_str(stdout, name);
        printf(",\"rows\":%ld,\"created\":%ld,\"linked\":%ld,\"older\":%ld,\"bad\":%ld,\"watermark\":", r.rows, r.created,
               r.linked, r.older, r.bad);
        sb_cli_json_str(stdout, r.watermark);
        printf(",\"problems\":[");
        for (long i = 0; i < r.bad && i < SB_PRODUCTS_MAX_PROBLEMS; i++) {
            if (i) putchar(',');
            sb_cli_json_str(stdout, r.problems[i]);
        }
        printf("]}\n");
    } else {
        printf("products %s: %ld listings: %ld new products, %ld linked, %ld opened before the watermark, %ld bad rows skipped; "
               "products.last_updated = %s\n", name, r.rows, r.created, r.linked, r.older, r.bad, *r.watermark ? r.watermark : "(not set)");
        for (long i = 0; i < r.bad && i < SB_PRODUCTS_MAX_PROBLEMS; i++) printf("  skipped %s\n", sb_cli_text(r.problems[i]));
    }
    sb_engine_close(e);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

static int run_stock_sync(sb_cli *cli) {
    sb_store *s;
    sb_engine *e;
    char err[SB_ERRLEN] = "", name[128];
    if (with_engine(cli, &s, &e, name, sizeof name)) return SB_EXIT_FAIL;
    sb_stock_result r;
    int rc = sb_sync_stock(e, &r, err);
    if (rc && !r.sent && !r.failed) sb_cli_fail("stock", SB_ERR, "%s", err);
    if (!sb_settings_bool(&e->settings, "stock.enabled")) printf("stock %s: upload is off (stock.enabled=false)\n", name);
    else if (cli->json)
        printf("{\"candidates\":%ld,\"unchanged\":%ld,\"sent\":%ld,\"accepted\":%ld,\"failed\":%ld,\"rule_errors\":%ld,"
               "\"feeds\":%ld,\"waiting\":%ld,\"resolved\":%ld,\"no_bom\":%ld,\"full\":%s,\"mode\":\"%s\",\"watermark\":\"%s\"}\n",
               r.candidates, r.unchanged, r.sent, r.accepted, r.failed, r.rule_errors, r.feeds, r.waiting, r.resolved,
               r.no_bom, r.full ? "true" : "false", r.mode, r.watermark);
    else {
        printf("stock %s: %ld SKUs looked at%s, %ld unchanged, %ld sent%s%s%s, %ld accepted, %ld failed; stock.last_updated = %s\n",
               name, r.candidates, r.full ? " (all: first run or settings changed)" : "", r.unchanged, r.sent,
               *r.mode ? " by " : "", r.mode, r.feeds ? " (JSON_LISTINGS_FEED)" : "", r.accepted, r.failed,
               *r.watermark ? r.watermark : "(not set)");
        if (r.waiting || r.resolved)
            printf("stock %s: %ld SKUs wait for a feed Amazon has not finished (not sent again until it ends); "
                   "%ld SKUs of earlier feeds settled\n", name, r.waiting, r.resolved);
        if (r.no_bom)
            printf("stock %s: %ld kit%s without a BOM not sent (the log names them; import their boms)\n", name, r.no_bom,
                   r.no_bom == 1 ? "" : "s");
        if (r.failed) sb_cli_fail("stock", SB_ERR, "%s", err);
    }
    sb_engine_close(e);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

int sb_cli_sync_job(sb_cli *cli, const char *job) {
    if (!strcmp(job, "products")) return run_products_sync(cli);
    if (!strcmp(job, "stock")) return run_stock_sync(cli);
    return -1;
}

static int run_products(sb_cli *cli, int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "list") || !strcmp(argv[1], "alias") || !strcmp(argv[1], "aliases")))
        return sb_cli_products(cli, argc, argv);   /* cmd_products.c */
    if (argc != 2 || strcmp(argv[1], "sync"))
        return sb_cli_usage_error(&sb_cmd_products, "expected: products sync | list | aliases | alias SKU PRODUCT_SKU");
    return run_products_sync(cli);
}

const sb_command sb_cmd_products = {"products", run_products,
    "Download products from Amazon (listings report); list products; link Amazon SKUs to products",
    "products sync   (listings opened after products.last_updated: new SKUs become products, known SKUs get ASIN/title)\n"
    "       products list [--search TEXT] [--limit 1..500] [--offset N | --page N]   (TEXT: SKU, name or linked SKU)\n"
    "       products alias AMAZON_SKU PRODUCT_SKU   (link a SKU of Amazon's to a product once: the orders waiting on\n"
    "                                                it are stored again, lines linked, stock reserved, holds released;\n"
    "                                                the stock upload sends the product's stock under AMAZON_SKU)\n"
    "       products alias AMAZON_SKU --remove\n"
    "       products aliases [--limit 1..500] [--offset N | --page N]"};

static void draw_stock(sb_json *j) {
    printf("%-24s %-9s %8s %7s %-20s %s\n", "SKU", "STATUS", "QTY", "LATENCY", "SENT AT", "ERROR (attempts)");
    int items = sb_json_get(j, SB_JSON_ROOT, "items");
    for (size_t i = 0; i < sb_json_len(j, items, NULL); i++) {
        int x = sb_json_at(j, items, i);
        const char *q = sb_cli_cell(j, x, "quantity"), *l = sb_cli_cell(j, x, "latency"), *at = sb_cli_cell(j, x, "sent_at");
        const char *error = sb_cli_cell(j, x, "error");
        printf("%-24s %-9s %8s %7s %-20s %s", sb_cli_cell(j, x, "sku"), sb_cli_cell(j, x, "status"), *q ? q : "-",
               *l ? l : "-", *at ? at : "-", error);
        if (*error) printf(" (%s)", sb_cli_cell(j, x, "attempts"));
        printf("\n");
    }
    sb_cli_paging_footer(j, "items", "SKU");
}

/* stock status = GET /stock?errors=1, --all = GET /stock */
static int stock_status(sb_cli *cli, int argc, char **argv) {
    static const char *const flags[] = {"--all", "errors", "0", NULL};
    sb_view_args a = {0};
    sb_view_args_add(&a, "errors", "1", NULL);
    if (sb_cli_view_args(&sb_cmd_stock, "stock", argc, argv, 2, flags, &a)) return SB_EXIT_USAGE;
    return sb_cli_view(cli, &sb_cmd_stock, "stock", NULL, &a, draw_stock);
}

static int run_stock(sb_cli *cli, int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "sync")) return run_stock_sync(cli);
    if (argc >= 2 && !strcmp(argv[1], "status")) return stock_status(cli, argc, argv);
    return sb_cli_usage_error(&sb_cmd_stock, "expected: stock sync | stock status [--all]");
}

const sb_command sb_cmd_stock = {"stock", run_stock,
    "Upload stock with handling time to Amazon; show per-SKU results",
    "stock sync              send changed quantity + handling time (patch for few SKUs, JSON_LISTINGS_FEED for many)\n"
    "stock status [--all] [--limit 1..5000] [--offset N]\n"
    "                        SKUs whose last upload did not go through (with --all: also what Amazon accepted)"};

static void print_tracking(const sb_tracking_result *t) {
    printf("confirmations: %ld due, %ld sent, %ld to retry later, %ld failed (need a person), %ld not required%s\n",
           t->due, t->sent, t->retry_later, t->failed, t->not_required, t->queued ? "" : "");
}

static int run_dispatch(sb_cli *cli, int argc, char **argv) {
    sb_dispatch_req req = {0};
    sb_dispatch_line lines[256];
    int nl = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--carrier") && i + 1 < argc) req.carrier = argv[++i];
        else if (!strcmp(a, "--tracking") && i + 1 < argc) req.tracking = argv[++i];
        else if (!strcmp(a, "--service") && i + 1 < argc) req.service = argv[++i];
        else if (!strcmp(a, "--line") && i + 1 < argc) {
            char *spec = argv[++i], *colon = strrchr(spec, ':'), *end = NULL;
            if (!colon || colon == spec || nl >= 256) return sb_cli_usage_error(&sb_cmd_dispatch, "--line '%s': expected SKU:QTY", spec);
            double q = strtod(colon + 1, &end);
            if (!end || *end || end == colon + 1) return sb_cli_usage_error(&sb_cmd_dispatch, "--line '%s': '%s' is not a quantity", spec, colon + 1);
            *colon = '\0';
            lines[nl].sku = spec;
            lines[nl++].qty = q;
        } else if (a[0] == '-') return sb_cli_usage_error(&sb_cmd_dispatch, "unknown option '%s'", a);
        else if (!req.order_ref) req.order_ref = a;
        else return sb_cli_usage_error(&sb_cmd_dispatch, "one order at a time ('%s')", a);
    }
    if (!req.order_ref || !req.carrier || !req.tracking)
        return sb_cli_usage_error(&sb_cmd_dispatch, "ORDER, --carrier and --tracking are required");
    req.lines = nl ? lines : NULL;
    req.nlines = nl;
    sb_store *s;
    sb_engine *e;
    char err[SB_ERRLEN], name[128];
    if (with_engine(cli, &s, &e, name, sizeof name)) return SB_EXIT_FAIL;
    sb_dispatch_result r;
    int rc = sb_tracking_dispatch(e, &req, &r, err), ex = SB_EXIT_OK;
    if (rc) {
        sb_cli_fail("dispatch", SB_ERR, "%s", err);
        ex = SB_EXIT_FAIL;
    } else {
        if (!cli->json)
            printf("order %s: package %d dispatched (%s); confirmation to Amazon: %s%s%s\n", sb_cli_text(req.order_ref),
                   r.package_no, r.complete ? "order complete" : "partial", !strcmp(r.confirm_state, "none") ?
                   "not sent (Auto Update Order Status is off; use update-dispatched)" : r.confirm_state,
                   *r.why_not ? " - " : "", r.why_not);
        sb_tracking_result t;
        memset(&t, 0, sizeof t);
        char cerr[SB_ERRLEN] = "";
        /* the dispatch is stored whatever happens next: a failed confirmation stays in the
         * outbox, where the engine (sellerbridge run) sends it again; exit 0 */
        if (r.queued && sb_tracking_send(e, 0, &t, cerr))
            fprintf(stderr, "sellerbridge dispatch: the dispatch is stored; its confirmation to Amazon failed and stays "
                    "in the outbox, where the engine sends it again (sellerbridge outbox shows it): %s\n", cerr);
        if (cli->json) {
            sb_buf b;
            sb_buf_init(&b, 1 << 20);
            sb_jw jw;
            sb_jw_init(&jw, &b);
            sb_jw_obj(&jw);
            sb_jw_kstr(&jw, "order", req.order_ref);
            sb_jw_kint(&jw, "package", r.package_no);
            sb_jw_kbool(&jw, "complete", r.complete);
            sb_jw_kstr(&jw, "confirm", r.confirm_state);
            sb_jw_kint(&jw, "sent", t.sent);
            sb_jw_kstr(&jw, "confirmation_error", *cerr ? cerr : NULL);
            sb_jw_end_obj(&jw);
            if (b.data) printf("%s\n", b.data);
            sb_buf_free(&b);
        } else if (r.queued) print_tracking(&t);
    }
    sb_engine_close(e);
    sb_store_close(s);
    return ex;
}

const sb_command sb_cmd_dispatch = {"dispatch", run_dispatch,
    "Dispatch an order (whole or some lines) as one package; confirm it to Amazon when auto update is on",
    "dispatch ORDER --carrier C --tracking T [--service S] [--line SKU:QTY ...]\n"
    "  without --line everything not dispatched yet goes in this package; run it again for the next package"};

static int run_update_dispatched(sb_cli *cli, int argc, char **argv) {
    if (argc != 1) return sb_cli_usage_error(&sb_cmd_update_dispatched, "takes no arguments");
    sb_store *s;
    sb_engine *e;
    char err[SB_ERRLEN], name[128];
    if (with_engine(cli, &s, &e, name, sizeof name)) return SB_EXIT_FAIL;
    sb_tracking_result t;
    int rc = sb_tracking_send(e, 1, &t, err);
    if (cli->json)
        printf("{\"queued\":%ld,\"due\":%ld,\"sent\":%ld,\"retry_later\":%ld,\"failed\":%ld,\"not_required\":%ld}\n", t.queued,
               t.due, t.sent, t.retry_later, t.failed, t.not_required);
    else {
        printf("update dispatched %s: %ld package%s newly queued; ", name, t.queued, t.queued == 1 ? "" : "s");
        print_tracking(&t);
    }
    if (rc) sb_cli_fail("update-dispatched", SB_ERR, "%s", err);
    sb_engine_close(e);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_update_dispatched = {"update-dispatched", run_update_dispatched,
    "Update Dispatched Orders: send tracking of every unconfirmed dispatched merchant-fulfilled order",
    "update-dispatched   (whatever additional.auto_update_status says; failed confirmations are tried again now)"};

static void draw_outbox(sb_json *j) {
    printf("%-17s %-26s %-8s %8s %-20s %s\n", "KIND", "KEY", "STATUS", "ATTEMPTS", "NEXT TRY / SENT", "LAST ERROR");
    int items = sb_json_get(j, SB_JSON_ROOT, "items");
    for (size_t i = 0; i < sb_json_len(j, items, NULL); i++) {
        int x = sb_json_at(j, items, i);
        const char *sent = sb_cli_cell(j, x, "sent_at"), *next = sb_cli_cell(j, x, "next_attempt_at");
        printf("%-17s %-26s %-8s %8s %-20s %s\n", sb_cli_cell(j, x, "kind"), sb_cli_cell(j, x, "key"),
               sb_cli_cell(j, x, "status"), sb_cli_cell(j, x, "attempts"), *sent ? sent : *next ? next : "now",
               sb_cli_cell(j, x, "last_error"));
    }
    sb_cli_paging_footer(j, "items", "message");
}

/* outbox = GET /outbox, --all = GET /outbox?all=1 */
static int run_outbox(sb_cli *cli, int argc, char **argv) {
    static const char *const flags[] = {"--all", "all", "1", NULL};
    sb_view_args a = {0};
    if (sb_cli_view_args(&sb_cmd_outbox, "outbox", argc, argv, 1, flags, &a)) return SB_EXIT_USAGE;
    return sb_cli_view(cli, &sb_cmd_outbox, "outbox", NULL, &a, draw_outbox);
}

const sb_command sb_cmd_outbox = {"outbox", run_outbox,
    "Show confirmations to Amazon waiting for a retry or failed (--all: also the sent ones)",
    "outbox [--all] [--limit 1..5000] [--offset N]"};

/* jobs = GET /jobs: each job's last run, success, next check and error, and the schedule
 * the settings give. */
static void draw_jobs(sb_json *j) {
    printf("%-10s %-20s %-20s %-20s %5s  %s\n", "JOB", "LAST RUN", "LAST SUCCESS", "NEXT CHECK", "EMPTY", "LAST ERROR");
    int jobs = sb_json_get(j, SB_JSON_ROOT, "jobs");
    size_t n = sb_json_len(j, jobs, NULL);
    for (size_t i = 0; i < n; i++) {
        int x = sb_json_at(j, jobs, i);
        const char *run = sb_cli_cell(j, x, "last_run_at"), *ok = sb_cli_cell(j, x, "last_success_at");
        const char *next = sb_cli_cell(j, x, "next_check_at");
        printf("%-10s %-20s %-20s %-20s %5s  %s\n", sb_cli_cell(j, x, "job"), *run ? run : "-", *ok ? ok : "-",
               *next ? next : "-", sb_cli_cell(j, x, "empty_streak"), sb_cli_cell(j, x, "last_error"));
    }
    if (!n) printf("(no job has run yet)\n");
    /* the schedule's keys are setting names (with dots): looked up by iteration */
    static const char *const names[] = {"orders.enabled", "orders.auto_download", "orders.auto_download_start",
                                        "integration.timezone", "orders.last_updated", "stock.enabled", "products.enabled"};
    int sched = sb_json_get(j, SB_JSON_ROOT, "schedule");
    printf("schedule:");
    for (int k = 0; k < 7; k++) {
        int it = 0, v;
        const char *key;
        while ((v = sb_json_next(j, sched, &it, &key)))
            if (!strcmp(key, names[k])) { printf(" %s=%s", names[k], sb_cli_cell(j, v, NULL)); break; }
    }
    printf("\n");
}

static int run_jobs(sb_cli *cli, int argc, char **argv) {
    if (argc != 1) return sb_cli_usage_error(&sb_cmd_jobs, "takes no arguments");
    sb_view_args a = {0};
    return sb_cli_view(cli, &sb_cmd_jobs, "jobs", NULL, &a, draw_jobs);
}

const sb_command sb_cmd_jobs = {"jobs", run_jobs,
    "Show each job's last run, last success, next check and last error (the dashboard's Sync status)",
    "jobs   [--json: the document GET /api/v1/jobs answers]"};
