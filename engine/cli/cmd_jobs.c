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

int sb_cli_sync_job(sb_cli *cli, const char *job);

static int with_engine(sb_cli *cli, sb_store **s, sb_engine **e, char *name, size_t namelen) {
    int64_t integ;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, s, &integ, name, namelen)) return SB_EXIT_FAIL;
    if (sb_engine_open(*s, cli->db_path, integ, e, err)) {
        fprintf(stderr, "sellerbridge: %s\n", err);
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
    } else if (rc) fprintf(stderr, "sellerbridge products: %s\n", err);
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
    if (rc && !r.sent && !r.failed) fprintf(stderr, "sellerbridge stock: %s\n", err);
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
        if (r.failed) fprintf(stderr, "sellerbridge stock: %s\n", err);
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
    if (argc != 2 || strcmp(argv[1], "sync")) return sb_cli_usage_error(&sb_cmd_products, "expected: products sync");
    return run_products_sync(cli);
}

const sb_command sb_cmd_products = {"products", run_products,
    "Download products from Amazon (listings report) into the inventory",
    "products sync   (listings opened after products.last_updated: new SKUs become products, known SKUs get ASIN/title)"};

static int stock_status(sb_cli *cli, int all) {
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s,
        "SELECT sku, COALESCE(quantity, -1), COALESCE(latency, -1), COALESCE(sent_at, ''), COALESCE(status, ''), "
        "COALESCE(error, ''), attempts FROM stock_sent WHERE integration_id = ?1 AND (?2 OR status <> 'accepted') "
        "ORDER BY status <> 'failed', sku", &st, err);
    if (rc) { fprintf(stderr, "sellerbridge stock: %s\n", err); sb_store_close(s); return SB_EXIT_FAIL; }
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_int(st, 2, all);
    int n = 0;
    if (cli->json) printf("[");
    else printf("%-24s %-9s %8s %7s %-20s %s\n", "SKU", "STATUS", "QTY", "LATENCY", "ACCEPTED AT", "ERROR (attempts)");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *sku = (const char *)sqlite3_column_text(st, 0), *status = (const char *)sqlite3_column_text(st, 4);
        const char *error = (const char *)sqlite3_column_text(st, 5), *at = (const char *)sqlite3_column_text(st, 3);
        long q = sqlite3_column_int64(st, 1);
        int l = sqlite3_column_int(st, 2), att = sqlite3_column_int(st, 6);
        if (cli->json) {
            printf("%s{\"sku\":", n ? "," : "");
            sb_cli_json_str(stdout, sku);
            printf(",\"status\":\"%s\",\"quantity\":%ld,\"latency\":%d,\"sent_at\":\"%s\",\"attempts\":%d,\"error\":", status, q, l,
                   at, att);
            sb_cli_json_str(stdout, error);
            printf("}");
        } else {
            char qs[24] = "-", ls[24] = "-";
            if (q >= 0) snprintf(qs, sizeof qs, "%ld", q);
            if (l >= 0) snprintf(ls, sizeof ls, "%d", l);
            printf("%-24s %-9s %8s %7s %-20s %s", sb_cli_text(sku), status, qs, ls, *at ? sb_cli_text(at) : "-", sb_cli_text(error));
            if (*error) printf(" (%d)", att);
            printf("\n");
        }
        n++;
    }
    sqlite3_finalize(st);
    if (cli->json) printf("]\n");
    else if (!n) printf("(%s)\n", all ? "nothing sent yet" : "no failed SKUs");
    sb_store_close(s);
    return SB_EXIT_OK;
}

static int run_stock(sb_cli *cli, int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "sync")) return run_stock_sync(cli);
    if (argc >= 2 && !strcmp(argv[1], "status")) {
        int all = argc == 3 && !strcmp(argv[2], "--all");
        if (argc > 3 || (argc == 3 && !all)) return sb_cli_usage_error(&sb_cmd_stock, "status takes only --all");
        return stock_status(cli, all);
    }
    return sb_cli_usage_error(&sb_cmd_stock, "expected: stock sync | stock status [--all]");
}

const sb_command sb_cmd_stock = {"stock", run_stock,
    "Upload stock with handling time to Amazon; show per-SKU results",
    "stock sync              send changed quantity + handling time (patch for few SKUs, JSON_LISTINGS_FEED for many)\n"
    "stock status [--all]    SKUs whose last upload failed (with --all: also what Amazon accepted)"};

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
        fprintf(stderr, "sellerbridge dispatch: %s\n", err);
        ex = SB_EXIT_FAIL;
    } else {
        if (cli->json) {
            printf("{\"order\":");
            sb_cli_json_str(stdout, req.order_ref);
            printf(",\"package\":%d,\"complete\":%s,\"confirm\":\"%s\"}\n", r.package_no,
                   r.complete ? "true" : "false", r.confirm_state);
        }
        else
            printf("order %s: package %d dispatched (%s)%s; confirmation to Amazon: %s%s%s\n", req.order_ref, r.package_no,
                   r.complete ? "order complete" : "partial", "", !strcmp(r.confirm_state, "none") ?
                   "not sent (Auto Update Order Status is off; use update-dispatched)" : r.confirm_state,
                   *r.why_not ? " - " : "", r.why_not);
        if (r.queued) {
            sb_tracking_result t;
            if (sb_tracking_send(e, 0, &t, err)) {
                fprintf(stderr, "sellerbridge dispatch: the dispatch is stored; the confirmation stays in the outbox: %s\n", err);
                ex = SB_EXIT_FAIL;
            }
            if (!cli->json) print_tracking(&t);
        }
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
    if (rc) fprintf(stderr, "sellerbridge update-dispatched: %s\n", err);
    sb_engine_close(e);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_update_dispatched = {"update-dispatched", run_update_dispatched,
    "Update Dispatched Orders: send tracking of every unconfirmed dispatched merchant-fulfilled order",
    "update-dispatched   (whatever additional.auto_update_status says; failed confirmations are tried again now)"};

static int run_outbox(sb_cli *cli, int argc, char **argv) {
    int all = argc == 2 && !strcmp(argv[1], "--all");
    if (argc > 2 || (argc == 2 && !all)) return sb_cli_usage_error(&sb_cmd_outbox, "takes only --all");
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    sqlite3_stmt *st;
    if (sb_store_prepare(s, "SELECT kind, key, status, attempts, COALESCE(next_attempt_at, ''), COALESCE(last_error, ''), "
                            "COALESCE(sent_at, '') FROM outbox WHERE integration_id = ?1 AND (?2 OR status <> 'sent' OR last_error IS NOT NULL) "
                            "ORDER BY status = 'sent', id", &st, err)) {
        fprintf(stderr, "sellerbridge outbox: %s\n", err);
        sb_store_close(s);
        return SB_EXIT_FAIL;
    }
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_int(st, 2, all);
    int n = 0;
    if (cli->json) printf("[");
    else printf("%-17s %-26s %-8s %8s %-20s %s\n", "KIND", "KEY", "STATUS", "ATTEMPTS", "NEXT TRY / SENT", "LAST ERROR");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *c[7];
        for (int i = 0; i < 7; i++) c[i] = (const char *)sqlite3_column_text(st, i);
        int att = sqlite3_column_int(st, 3);
        if (cli->json) {
            printf("%s{\"kind\":\"%s\",\"key\":", n ? "," : "", c[0]);
            sb_cli_json_str(stdout, c[1]);
            printf(",\"status\":\"%s\",\"attempts\":%d,\"next_attempt_at\":\"%s\",\"sent_at\":\"%s\",\"last_error\":", c[2], att, c[4], c[6]);
            sb_cli_json_str(stdout, c[5]);
            printf("}");
        } else
            printf("%-17s %-26s %-8s %8d %-20s %s\n", sb_cli_text(c[0]), sb_cli_text(c[1]), sb_cli_text(c[2]), att,
                   *c[6] ? sb_cli_text(c[6]) : *c[4] ? sb_cli_text(c[4]) : "now", sb_cli_text(c[5]));
        n++;
    }
    sqlite3_finalize(st);
    if (cli->json) printf("]\n");
    else if (!n) printf("(nothing waiting or failed)\n");
    sb_store_close(s);
    return SB_EXIT_OK;
}

const sb_command sb_cmd_outbox = {"outbox", run_outbox,
    "Show confirmations to Amazon waiting for a retry or failed (--all: also the sent ones)",
    "outbox [--all]"};
