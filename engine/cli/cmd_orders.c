/* cmd_orders.c: what people do with downloaded orders: list and show them, explain every
 * rule decision, fix and retry held orders, check stock reservations, and number batch
 * invoices. list, attention, show and explain print engine/views' documents (the web
 * API's bytes under --json). */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "store/invoices.h"
#include "store/rulepacks.h"
#include "sync/engine.h"
#include "sync/fix.h"
#include "sync/orders.h"

void sb_cli_still_held(const sb_orders_retry_result *r) {
    if (!r->held) return;
    printf("%ld still held", r->held);
    for (int i = 0; i < r->nkept; i++)
        printf("%s %s (%s)", i ? ";" : ":", sb_cli_text(r->kept[i].order), sb_cli_text(r->kept[i].why));
    if (r->held > r->nkept) printf("; and %ld more", r->held - r->nkept);
    printf("\n");
}

/* ---- the documents of engine/views, drawn as tables ---- */

static void draw_list(sb_json *j, int attention) {
    if (attention)
        printf("%-22s %-2s %-16s %-14s %-20s %s\n", "ORDER", "#", "STAGE", "BRANCH", "CUSTOMER", "PROBLEM");
    else
        printf("%-22s %-2s %-16s %-18s %-14s %-10s %-20s %s\n", "ORDER", "#", "STAGE", "AMAZON STATUS", "BRANCH", "TOTAL",
               "CUSTOMER", "PROBLEM");
    size_t n = sb_json_len(j, SB_JSON_ROOT, "orders");
    for (size_t i = 0; i < n; i++) {
        int o = sb_json_at(j, sb_json_get(j, SB_JSON_ROOT, "orders"), i);
        if (attention)
            printf("%-22s %-2s %-16s %-14s %-20.20s %s\n", sb_cli_cell(j, o, "order"), sb_cli_cell(j, o, "split"),
                   sb_cli_cell(j, o, "stage"), sb_cli_cell(j, o, "branch"), sb_cli_cell(j, o, "customer"),
                   sb_cli_cell(j, o, "problem"));
        else
            printf("%-22s %-2s %-16s %-18s %-14s %-10s %-20.20s %s\n", sb_cli_cell(j, o, "order"), sb_cli_cell(j, o, "split"),
                   sb_cli_cell(j, o, "stage"), sb_cli_cell(j, o, "status"), sb_cli_cell(j, o, "branch"),
                   sb_cli_cell(j, o, "total"), sb_cli_cell(j, o, "customer"), sb_cli_cell(j, o, "problem"));
    }
    sb_cli_paging_footer(j, "orders", "order");
}

static void draw_orders(sb_json *j) { draw_list(j, 0); }
static void draw_attention(sb_json *j) { draw_list(j, 1); }

/* One order: each split's fields that have a value, its lines and shipments; with
 * explain, every decision (what Amazon changed as a sentence). */
static void draw_order(sb_json *j) {
    static const char *const keys[] = {"stage", "status", "branch", "distribution_branch", "fulfilled_by",
        "service_level", "programs", "marketplace", "created", "updated", "customer_ref", "customer", "buyer_email",
        "gl_account", "invoice_no", "invoice_date", "payment_type", "total", "shipping_total", "currency", "ship_name",
        "ship_city", "ship_state", "ship_postal", "ship_country", "etd", "attention", "rule_error", "pack_hash",
        "dispatched_at", NULL};
    int splits = sb_json_get(j, SB_JSON_ROOT, "splits");
    size_t n = sb_json_len(j, splits, NULL);
    for (size_t i = 0; i < n; i++) {
        int o = sb_json_at(j, splits, i);
        printf("%sorder %s split %s\n", i ? "\n" : "", sb_cli_cell(j, SB_JSON_ROOT, "order"), sb_cli_cell(j, o, "split"));
        for (int k = 0; keys[k]; k++) {
            const char *v = sb_cli_cell(j, o, keys[k]);
            if (*v) printf("  %-20s %s\n", keys[k], v);
        }
        printf("  lines:\n");
        int lines = sb_json_get(j, o, "lines");
        for (size_t l = 0; l < sb_json_len(j, lines, NULL); l++) {
            int x = sb_json_at(j, lines, l);
            const char *kit = sb_cli_cell(j, x, "kit_sku");
            printf("    %2s %-16s qty %-5s dispatched %-5s %s%s\n", sb_cli_cell(j, x, "line"), sb_cli_cell(j, x, "sku"),
                   sb_cli_cell(j, x, "qty"), sb_cli_cell(j, x, "dispatched"), *kit ? "component of " : "",
                   *kit ? kit : sb_json_num(j, x, "stock_bearing", 1) ? "" : "(kit)");
        }
        int ships = sb_json_get(j, o, "shipments");
        for (size_t p = 0; p < sb_json_len(j, ships, NULL); p++) {
            int x = sb_json_at(j, ships, p);
            printf("  shipment %s %s %s (%s)\n", sb_cli_cell(j, x, "carrier"), sb_cli_cell(j, x, "tracking"),
                   sb_cli_cell(j, x, "shipped_at"), sb_cli_cell(j, x, "confirm_state"));
        }
    }
    int d = sb_json_get(j, SB_JSON_ROOT, "decisions");
    if (!d) return;
    printf("\ndecisions (hook, rule pack, decision):\n");
    for (size_t i = 0; i < sb_json_len(j, d, NULL); i++) {
        int x = sb_json_at(j, d, i);
        const char *said = sb_cli_cell(j, x, "said"), *pack = sb_cli_cell(j, x, "pack");
        printf("  %s %-9s %.12s  %s\n", sb_cli_cell(j, x, "at"), sb_cli_cell(j, x, "hook"), *pack ? pack : "-",
               *said ? said : sb_cli_cell(j, x, "decision"));
    }
}

/* A person fixes a held order: another branch (its reserved stock moves with it) and/or
 * resolved. Resolving an order kept for a SKU that is now a product first stores it
 * again the way a retry does (lines linked, stock reserved, hooks run), so the release
 * never leaves a line unlinked with nothing reserved. */
static int fix_order(sb_cli *cli, sb_store *s, int64_t integ, int argc, char **argv) {
    const char *ref = argv[2], *branch = NULL;
    int resolve = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--branch") && i + 1 < argc) branch = argv[++i];
        else if (!strcmp(argv[i], "--resolve")) resolve = 1;
        else return sb_cli_usage_error(&sb_cmd_orders, "unknown argument '%s'", argv[i]);
    }
    if (!branch && !resolve) return sb_cli_usage_error(&sb_cmd_orders, "fix needs --branch NAME and/or --resolve");
    char err[SB_ERRLEN], sku[128];
    int linked = 0;
    if (resolve && sb_orders_unknown_sku(s, integ, ref, sku, sizeof sku)) {
        sb_engine *e = NULL;
        sb_orders_retry_result r;
        int rc = sb_engine_open(s, cli->db_path, integ, &e, err);
        if (!rc) rc = sb_orders_retry_for(e, ref, SB_RETRY_UNKNOWN_SKU, &r, err);
        sb_engine_close(e);
        if (rc && rc != SB_EINVAL) {
            fprintf(stderr, "sellerbridge orders: %s\n", err);
            return SB_EXIT_FAIL;
        }
        /* still a SKU no product has: released as before (a line the inventory does not
         * stock), and said so */
        if (rc == SB_EINVAL) fprintf(stderr, "sellerbridge orders: warning: %s; releasing it with that line unlinked "
                                     "(nothing reserved for it)\n", err);
        else if (r.nkept && sb_orders_unknown_sku(s, integ, ref, sku, sizeof sku))
            fprintf(stderr, "sellerbridge orders: warning: order %s: lines not linked: %s\n", ref, r.kept[0].why);
        else linked = 1;
    }
    if (sb_orders_fix(s, integ, ref, branch, resolve, "cli", err)) {
        sb_cli_fail("orders", SB_ERR, "%s", err);
        return SB_EXIT_FAIL;
    }
    printf("order %s:%s%s%s%s\n", sb_cli_text(ref), linked ? " lines linked to products, stock reserved;" : "",
           branch ? " branch " : "", branch ? sb_cli_text(branch) : "", resolve ? " resolved, now open" : "");
    return SB_EXIT_OK;
}

/* orders retry [ID | --all] [--reason rule_error|unknown_sku] [--sku SKU]: re-runs held
 * orders, one transaction each (a held order is never half fixed); without an ID every
 * held order, with --sku those with a line of that SKU. */
static int retry_orders(sb_cli *cli, sb_store *s, int64_t integ, int argc, char **argv) {
    const char *ref = NULL, *sku = NULL;
    int kinds = SB_RETRY_RULE_ERROR | SB_RETRY_UNKNOWN_SKU, all = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--all")) all = 1;
        else if (!strcmp(argv[i], "--sku") && i + 1 < argc) sku = argv[++i];
        else if (!strcmp(argv[i], "--reason") && i + 1 < argc) {
            const char *r = argv[++i];
            if (!strcmp(r, "rule_error")) kinds = SB_RETRY_RULE_ERROR;
            else if (!strcmp(r, "unknown_sku")) kinds = SB_RETRY_UNKNOWN_SKU;
            else return sb_cli_usage_error(&sb_cmd_orders, "--reason '%s' is not one of rule_error, unknown_sku", r);
        } else if (argv[i][0] != '-' && !ref) ref = argv[i];
        else return sb_cli_usage_error(&sb_cmd_orders, "unknown argument '%s'", argv[i]);
    }
    if (all && ref) return sb_cli_usage_error(&sb_cmd_orders, "retry takes an order id or --all, not both");
    if (sku && ref) return sb_cli_usage_error(&sb_cmd_orders, "retry takes an order id or --sku, not both");
    if (sku && !*sku) return sb_cli_usage_error(&sb_cmd_orders, "--sku needs a SKU");
    char err[SB_ERRLEN];
    sb_engine *e = NULL;
    sb_orders_retry_result r;
    memset(&r, 0, sizeof r);
    int rc = sb_engine_open(s, cli->db_path, integ, &e, err);
    if (!rc) rc = sku ? sb_orders_retry_sku(e, sku, kinds, &r, err) : sb_orders_retry_for(e, ref, kinds, &r, err);
    sb_engine_close(e);
    if (rc) return sb_cli_fail("orders", rc, "%s", err);
    if (sku && !r.tried && !r.held) printf("no held order has a line of SKU %s\n", sb_cli_text(sku));
    printf("%ld held %s\n", r.fixed, r.fixed == 1 ? "order now passes the rules and is stored"
                                                 : "orders now pass the rules and are stored");
    sb_cli_still_held(&r);
    return SB_EXIT_OK;
}

/* The order's JSON as Amazon sent it (kept once per page, or as its own text). */
static int raw_order(sb_store *s, int64_t integ, const char *ref) {
    char err[SB_ERRLEN], *json = NULL;
    int rc = sb_store_order_raw(s, integ, ref, &json, err);
    if (rc) return sb_cli_fail("orders", rc == SB_ENOTFOUND ? SB_ERR : rc, "%s", err);
    printf("%s\n", json);
    free(json);
    return SB_EXIT_OK;
}

static int run_orders(sb_cli *cli, int argc, char **argv) {
    if (argc < 2) return sb_cli_usage_error(&sb_cmd_orders, "missing subcommand");
    const char *sub = argv[1];
    sb_store *s;
    int64_t integ;
    sb_view_args a = {0};
    if (!strcmp(sub, "list") || !strcmp(sub, "attention")) {
        const char *doc = !strcmp(sub, "list") ? "orders" : "attention";
        if (sb_cli_view_args(&sb_cmd_orders, doc, argc, argv, 2, NULL, &a)) return SB_EXIT_USAGE;
        return sb_cli_view(cli, &sb_cmd_orders, doc, NULL, &a, *doc == 'o' ? draw_orders : draw_attention);
    }
    if (strcmp(sub, "check") && argc < 3 && strcmp(sub, "retry"))
        return sb_cli_usage_error(&sb_cmd_orders, "'%s' needs an order id", sub);
    if (!strcmp(sub, "show") || !strcmp(sub, "explain")) {
        if (argc > 3) return sb_cli_usage_error(&sb_cmd_orders, "unknown argument '%s'", argv[3]);
        return sb_cli_view(cli, &sb_cmd_orders, !strcmp(sub, "show") ? "order" : "explain", argv[2], &a, draw_order);
    }
    if (strcmp(sub, "raw") && strcmp(sub, "fix") && strcmp(sub, "retry") && strcmp(sub, "check"))
        return sb_cli_usage_error(&sb_cmd_orders, "unknown subcommand '%s'", sub);
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    int rc = SB_EXIT_OK;
    if (!strcmp(sub, "raw")) rc = raw_order(s, integ, argv[2]);
    else if (!strcmp(sub, "fix")) rc = fix_order(cli, s, integ, argc, argv);
    else if (!strcmp(sub, "retry")) rc = retry_orders(cli, s, integ, argc, argv);
    else {
        char report[4096];
        int n = sb_orders_check_reserved(s, report, sizeof report);
        if (n < 0) rc = sb_cli_fail("orders", SB_EIO, "check failed");
        else if (n > 0) rc = sb_cli_fail("orders", SB_ERR, "stock reservations do not match open orders: %s", report);
        else printf("stock reservations match the open orders\n");
    }
    sb_store_close(s);
    return rc;
}

const sb_command sb_cmd_orders = {"orders", run_orders,
    "List, show and explain orders; fix and retry held orders; check stock reservations",
    "orders list [--stage open|needs_attention|rule_error|rejected|dispatched|cancelled] [--status S]\n"
    "            [--search TEXT] [--limit 1..500] [--offset N | --page N]   (TEXT: order id, buyer, e-mail or SKU)\n"
    "            [--from YYYY-MM-DD] [--to YYYY-MM-DD]                    (the days the orders were made)\n"
    "       orders attention [--reason unknown_sku|rule_error|rejected|other] [--sku SKU]\n"
    "            [--limit 1..1000] [--offset N | --page N]   (needs attention, rule errors, rejected)\n"
    "       orders show ID | explain ID | raw ID          (raw: the order's JSON as Amazon sent it)\n"
    "       orders fix ID [--branch NAME] [--resolve]     (an order needing attention)\n"
    "       orders retry [ID | --all] [--reason rule_error|unknown_sku] [--sku SKU]\n"
    "                                                      (re-run held orders after fixing the rule pack, or after\n"
    "                                                       importing the products their SKUs lacked: lines linked,\n"
    "                                                       stock reserved; without ID every held order)\n"
    "       orders check                                   (reserved stock equals open order lines)"};

static int run_invoices(sb_cli *cli, int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "batch")) return sb_cli_usage_error(&sb_cmd_invoices, "expected 'batch'");
    const char *until = NULL, *payment = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--until") && i + 1 < argc) until = argv[++i];
        else if (!strcmp(argv[i], "--payment-type") && i + 1 < argc) payment = argv[++i];
        else return sb_cli_usage_error(&sb_cmd_invoices, "unknown argument '%s'", argv[i]);
    }
    if (until && sb_time_parse(until) < 0) return sb_cli_usage_error(&sb_cmd_invoices, "--until '%s' is not a date (YYYY-MM-DD)", until);
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    sb_engine *e = NULL;
    int rc = sb_engine_open(s, cli->db_path, integ, &e, err);
    long n = 0;
    char first[32] = "", last[32] = "";
    if (!rc) {
        char until_ts[32];
        if (until) {
            int64_t t = sb_time_parse(until);
            if (strlen(until) == 10) t += 86400 - 1;     /* the whole day */
            sb_time_format(t, until_ts, sizeof until_ts);
        }
        rc = sb_store_invoices_number(s, integ, until ? until_ts : NULL, payment, e->today, &n, first, last,
                                      sizeof first, err);
    }
    if (rc) sb_cli_fail("invoices", SB_ERR, "%s", err);
    else if (n) printf("%ld orders invoiced %s .. %s dated %s\n", n, first, last, e->today);
    else printf("no uninvoiced orders in this batch\n");
    sb_engine_close(e);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_invoices = {"invoices", run_invoices,
    "Number and date the uninvoiced orders of a batch (orders.invoice_mode = batch)",
    "invoices batch [--until YYYY-MM-DD] [--payment-type T]"};
