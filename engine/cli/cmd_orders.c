/* cmd_orders.c: what people do with downloaded orders: list and show them, explain every
 * rule decision, fix and retry held orders, check stock reservations, and number batch
 * invoices. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "sync/engine.h"
#include "sync/fix.h"
#include "sync/orders.h"

static void col(sb_cli *cli, sqlite3_stmt *st, int i, const char *key, int first) {
    const char *v = (const char *)sqlite3_column_text(st, i);
    if (cli->json) {
        printf("%s\"%s\":", first ? "" : ",", key);
        if (sqlite3_column_type(st, i) == SQLITE_INTEGER || sqlite3_column_type(st, i) == SQLITE_FLOAT) printf("%s", v);
        else sb_cli_json_str(stdout, v);
    }
}

static int list_orders(sb_cli *cli, sb_store *s, int64_t integ, int argc, char **argv) {
    const char *stage = NULL, *status = NULL;
    long limit = 50;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--stage") && i + 1 < argc) stage = argv[++i];
        else if (!strcmp(argv[i], "--status") && i + 1 < argc) status = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = strtol(argv[++i], NULL, 10);
        else return sb_cli_usage_error(&sb_cmd_orders, "unknown argument '%s'", argv[i]);
    }
    sqlite3_stmt *st;
    char err[SB_ERRLEN];
    if (sb_store_prepare(s, "SELECT o.order_ref, o.split_no, o.stage, o.amazon_status, o.branch, o.fulfilled_by, "
                            "o.total, o.currency, COALESCE(c.name, o.buyer_name), o.invoice_no, "
                            "COALESCE(o.rule_error, o.attention_reason), o.updated_time FROM sales_orders o "
                            "LEFT JOIN customers c ON c.id = o.customer_id WHERE o.integration_id = ?1 "
                            "AND (?2 IS NULL OR o.stage = ?2) AND (?3 IS NULL OR o.amazon_status = ?3) "
                            "ORDER BY o.updated_time DESC, o.order_ref, o.split_no LIMIT ?4", &st, err)) {
        fprintf(stderr, "sellerbridge orders: %s\n", err);
        return SB_EXIT_FAIL;
    }
    sqlite3_bind_int64(st, 1, integ);
    if (stage) sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
    if (status) sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, limit);
    static const char *keys[] = {"order", "split", "stage", "status", "branch", "fulfilled_by", "total",
                                 "currency", "customer", "invoice", "problem", "updated"};
    if (cli->json) printf("[");
    else printf("%-22s %-2s %-16s %-18s %-14s %-10s %-20s %s\n", "ORDER", "#", "STAGE", "AMAZON STATUS", "BRANCH", "TOTAL", "CUSTOMER", "PROBLEM");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        if (cli->json) {
            printf("%s{", n ? "," : "");
            for (int i = 0; i < 12; i++) col(cli, st, i, keys[i], i == 0);
            printf("}");
        } else {
            const char *t[12];
            for (int i = 0; i < 12; i++) t[i] = sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "";
            printf("%-22s %-2s %-16s %-18s %-14s %-10s %-20.20s %s\n", sb_cli_text(t[0]), t[1], sb_cli_text(t[2]),
                   sb_cli_text(t[3]), sb_cli_text(t[4]), sb_cli_text(t[6]), sb_cli_text(t[8]), sb_cli_text(t[10]));
        }
    }
    if (cli->json) printf("]\n");
    sqlite3_finalize(st);
    if (!cli->json) {
        /* a list that stops says so: "showing 50 of 10925 orders (--limit N for more)" */
        long total = 0, shown = 0;
        if (!sb_store_prepare(s, "SELECT count(*), min(count(*), ?4) FROM sales_orders o WHERE o.integration_id = ?1 "
                                 "AND (?2 IS NULL OR o.stage = ?2) AND (?3 IS NULL OR o.amazon_status = ?3)", &st, err)) {
            sqlite3_bind_int64(st, 1, integ);
            if (stage) sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
            if (status) sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, limit < 0 ? 0 : limit);
            if (sqlite3_step(st) == SQLITE_ROW) { total = sqlite3_column_int64(st, 0); shown = sqlite3_column_int64(st, 1); }
            sqlite3_finalize(st);
        }
        if (total > shown) printf("showing %ld of %ld order rows (--limit N for more)\n", shown, total);
    }
    return SB_EXIT_OK;
}

static int show_order(sb_cli *cli, sb_store *s, int64_t integ, const char *ref, int explain) {
    sqlite3_stmt *st;
    char err[SB_ERRLEN];
    int found = 0;
    if (sb_store_prepare(s, "SELECT o.id, o.order_ref, o.split_no, o.stage, o.amazon_status, o.branch, "
                            "o.distribution_branch, o.fulfilled_by, o.service_level, o.programs, o.marketplace_id, "
                            "o.created_time, o.updated_time, c.ref, COALESCE(c.name, o.buyer_name), o.buyer_email, "
                            "o.gl_account, o.invoice_no, o.invoice_date, o.total, o.currency, o.ship_city, o.ship_state, "
                            "o.ship_country, o.attention_reason, o.rule_error, o.rule_pack_hash, o.dispatched_at "
                            "FROM sales_orders o LEFT JOIN customers c ON c.id = o.customer_id "
                            "WHERE o.integration_id = ?1 AND o.order_ref = ?2 ORDER BY o.split_no", &st, err)) {
        fprintf(stderr, "sellerbridge orders: %s\n", err);
        return SB_EXIT_FAIL;
    }
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    static const char *keys[] = {"id", "order", "split", "stage", "status", "branch", "distribution_branch",
        "fulfilled_by", "service_level", "programs", "marketplace", "created", "updated", "customer_ref",
        "customer", "buyer_email", "gl_account", "invoice_no", "invoice_date", "total", "currency", "city",
        "state", "country", "attention", "rule_error", "pack_hash", "dispatched_at"};
    if (cli->json) printf("{\"orders\":[");
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t oid = sqlite3_column_int64(st, 0);
        if (cli->json) {
            printf("%s{", found ? "," : "");
            for (int i = 0; i < 28; i++) col(cli, st, i, keys[i], i == 0);
            printf(",\"lines\":[");
        } else {
            printf("%sorder %s split %d\n", found ? "\n" : "", sb_cli_text(ref), sqlite3_column_int(st, 2));
            for (int i = 3; i < 28; i++)
                if (sqlite3_column_text(st, i)) printf("  %-20s %s\n", keys[i], sb_cli_text(sqlite3_column_text(st, i)));
            printf("  lines:\n");
        }
        found++;
        sqlite3_stmt *l;
        if (sb_store_prepare(s, "SELECT line_no, sku, qty, qty_dispatched, unit_price, kit_sku, stock_bearing, item_id "
                                "FROM sales_order_lines WHERE order_id = ? ORDER BY line_no", &l, err) == 0) {
            sqlite3_bind_int64(l, 1, oid);
            for (int n = 0; sqlite3_step(l) == SQLITE_ROW; n++) {
                if (cli->json) {
                    printf("%s{\"line\":%d,\"sku\":", n ? "," : "", sqlite3_column_int(l, 0));
                    sb_cli_json_str(stdout, (const char *)sqlite3_column_text(l, 1));
                    printf(",\"qty\":%g,\"dispatched\":%g,\"kit_sku\":", sqlite3_column_double(l, 2), sqlite3_column_double(l, 3));
                    sb_cli_json_str(stdout, (const char *)sqlite3_column_text(l, 5));
                    printf(",\"stock_bearing\":%s}", sqlite3_column_int(l, 6) ? "true" : "false");
                } else {
                    printf("    %2d %-16s qty %-5g dispatched %-5g %s%s\n", sqlite3_column_int(l, 0), sb_cli_text(sqlite3_column_text(l, 1)),
                           sqlite3_column_double(l, 2), sqlite3_column_double(l, 3),
                           sqlite3_column_text(l, 5) ? "component of " : "",
                           sqlite3_column_text(l, 5) ? sb_cli_text(sqlite3_column_text(l, 5)) : (sqlite3_column_int(l, 6) ? "" : "(kit)"));
                }
            }
            sqlite3_finalize(l);
        }
        if (cli->json) printf("]}");
    }
    sqlite3_finalize(st);
    if (cli->json) printf("]");
    if (explain && found) {
        sqlite3_stmt *a;
        /* what Amazon changed (hook 'amazon', written by the download) reads as a sentence */
        if (sb_store_prepare(s, "SELECT at, hook, decision, pack_hash, CASE WHEN hook = 'amazon' AND json_valid(decision) "
                                "THEN CASE json_extract(decision, '$.action') WHEN 'update' THEN 'updated by Amazon: ' "
                                "WHEN 'refresh' THEN 'updated by Amazon: ' ELSE 'changed by Amazon, held for a person: ' END "
                                "|| COALESCE(json_extract(decision, '$.changes'), '') "
                                "|| COALESCE(' (kept branch ' || json_extract(decision, '$.kept') || ', a person''s choice)', '') "
                                "|| COALESCE(' (already left: ' || json_extract(decision, '$.left') || ')', '') END "
                                "FROM audit WHERE integration_id = ?1 AND order_ref = ?2 ORDER BY id", &a, err) == 0) {
            sqlite3_bind_int64(a, 1, integ);
            sqlite3_bind_text(a, 2, ref, -1, SQLITE_STATIC);
            if (cli->json) printf(",\"decisions\":[");
            else printf("\ndecisions (hook, rule pack, decision):\n");
            for (int n = 0; sqlite3_step(a) == SQLITE_ROW; n++) {
                const char *hash = (const char *)sqlite3_column_text(a, 3);
                if (cli->json) {
                    printf("%s{\"at\":\"%s\",\"hook\":\"%s\",\"pack\":", n ? "," : "", sqlite3_column_text(a, 0), sqlite3_column_text(a, 1));
                    sb_cli_json_str(stdout, hash);
                    printf(",\"decision\":%s}", sqlite3_column_text(a, 2));
                } else {
                    const char *said = (const char *)sqlite3_column_text(a, 4);
                    printf("  %s %-9s %.12s  %s\n", sb_cli_text(sqlite3_column_text(a, 0)), sb_cli_text(sqlite3_column_text(a, 1)),
                           hash ? sb_cli_text(hash) : "-", sb_cli_text(said ? said : (const char *)sqlite3_column_text(a, 2)));
                }
            }
            if (cli->json) printf("]");
            sqlite3_finalize(a);
        }
    }
    if (cli->json) printf("}\n");
    if (!found) {
        fprintf(stderr, "sellerbridge orders: order %s is not stored for this integration\n", ref);
        return SB_EXIT_FAIL;
    }
    return SB_EXIT_OK;
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
        fprintf(stderr, "sellerbridge orders: %s\n", err);
        return SB_EXIT_FAIL;
    }
    printf("order %s:%s%s%s%s\n", sb_cli_text(ref), linked ? " lines linked to products, stock reserved;" : "",
           branch ? " branch " : "", branch ? sb_cli_text(branch) : "", resolve ? " resolved, now open" : "");
    return SB_EXIT_OK;
}

/* orders retry [ID | --all] [--reason rule_error|unknown_sku]: re-runs held orders, one
 * transaction each (a held order is never half fixed); without an ID every held order. */
static int retry_orders(sb_cli *cli, sb_store *s, int64_t integ, int argc, char **argv) {
    const char *ref = NULL;
    int kinds = SB_RETRY_RULE_ERROR | SB_RETRY_UNKNOWN_SKU, all = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--all")) all = 1;
        else if (!strcmp(argv[i], "--reason") && i + 1 < argc) {
            const char *r = argv[++i];
            if (!strcmp(r, "rule_error")) kinds = SB_RETRY_RULE_ERROR;
            else if (!strcmp(r, "unknown_sku")) kinds = SB_RETRY_UNKNOWN_SKU;
            else return sb_cli_usage_error(&sb_cmd_orders, "--reason '%s' is not one of rule_error, unknown_sku", r);
        } else if (argv[i][0] != '-' && !ref) ref = argv[i];
        else return sb_cli_usage_error(&sb_cmd_orders, "unknown argument '%s'", argv[i]);
    }
    if (all && ref) return sb_cli_usage_error(&sb_cmd_orders, "retry takes an order id or --all, not both");
    char err[SB_ERRLEN];
    sb_engine *e = NULL;
    sb_orders_retry_result r;
    memset(&r, 0, sizeof r);
    int rc = sb_engine_open(s, cli->db_path, integ, &e, err);
    if (!rc) rc = sb_orders_retry_for(e, ref, kinds, &r, err);
    sb_engine_close(e);
    if (rc) {
        fprintf(stderr, "sellerbridge orders: %s\n", err);
        return SB_EXIT_FAIL;
    }
    printf("%ld held %s\n", r.fixed, r.fixed == 1 ? "order now passes the rules and is stored"
                                                 : "orders now pass the rules and are stored");
    if (r.held) {
        printf("%ld still held", r.held);
        for (int i = 0; i < r.nkept; i++) printf("%s %s (%s)", i ? ";" : ":", sb_cli_text(r.kept[i].order), sb_cli_text(r.kept[i].why));
        if (r.held > r.nkept) printf("; and %ld more", r.held - r.nkept);
        printf("\n");
    }
    return SB_EXIT_OK;
}

/* The order's JSON as Amazon sent it (kept once per page, or as its own text). */
static int raw_order(sb_store *s, int64_t integ, const char *ref) {
    sqlite3_stmt *st;
    char err[SB_ERRLEN];
    if (sb_store_prepare(s, "SELECT raw_json FROM sales_orders_raw WHERE integration_id = ?1 AND order_ref = ?2 "
                            "ORDER BY split_no LIMIT 1", &st, err)) {
        fprintf(stderr, "sellerbridge orders: %s\n", err);
        return SB_EXIT_FAIL;
    }
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    int rc = SB_EXIT_OK;
    if (sqlite3_step(st) != SQLITE_ROW) {
        fprintf(stderr, "sellerbridge orders: no order %s\n", ref);
        rc = SB_EXIT_FAIL;
    } else if (!sqlite3_column_text(st, 0)) {
        fprintf(stderr, "sellerbridge orders: order %s has no Amazon JSON (entered by CSV import?)\n", ref);
        rc = SB_EXIT_FAIL;
    } else {
        printf("%s\n", sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return rc;
}

static int run_orders(sb_cli *cli, int argc, char **argv) {
    if (argc < 2) return sb_cli_usage_error(&sb_cmd_orders, "missing subcommand");
    const char *sub = argv[1];
    sb_store *s;
    int64_t integ;
    if (strcmp(sub, "list") && strcmp(sub, "check") && argc < 3 && strcmp(sub, "retry"))
        return sb_cli_usage_error(&sb_cmd_orders, "'%s' needs an order id", sub);
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    int rc = SB_EXIT_OK;
    if (!strcmp(sub, "list")) rc = list_orders(cli, s, integ, argc, argv);
    else if (!strcmp(sub, "show")) rc = show_order(cli, s, integ, argv[2], 0);
    else if (!strcmp(sub, "explain")) rc = show_order(cli, s, integ, argv[2], 1);
    else if (!strcmp(sub, "raw")) rc = raw_order(s, integ, argv[2]);
    else if (!strcmp(sub, "fix")) rc = fix_order(cli, s, integ, argc, argv);
    else if (!strcmp(sub, "retry")) rc = retry_orders(cli, s, integ, argc, argv); else if (!strcmp(sub, "check")) {
        char report[4096];
        int n = sb_orders_check_reserved(s, report, sizeof report);
        if (n < 0) { fprintf(stderr, "sellerbridge orders: check failed\n"); rc = SB_EXIT_FAIL; }
        else if (n > 0) { fprintf(stderr, "stock reservations do not match open orders: %s\n", report); rc = SB_EXIT_FAIL; }
        else printf("stock reservations match the open orders\n");
    } else rc = sb_cli_usage_error(&sb_cmd_orders, "unknown subcommand '%s'", sub);
    sb_store_close(s);
    return rc;
}

const sb_command sb_cmd_orders = {"orders", run_orders,
    "List, show and explain orders; fix and retry held orders; check stock reservations",
    "orders list [--stage open|needs_attention|rule_error|rejected|dispatched|cancelled] [--status S] [--limit N]\n"
    "       orders show ID | explain ID | raw ID          (raw: the order's JSON as Amazon sent it)\n"
    "       orders fix ID [--branch NAME] [--resolve]     (an order needing attention)\n"
    "       orders retry [ID | --all] [--reason rule_error|unknown_sku]\n"
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
    if (!rc) rc = sb_store_begin(s, err);
    if (!rc) {
        sqlite3_stmt *st, *u;
        char until_ts[32];
        if (until) {
            int64_t t = sb_time_parse(until);
            if (strlen(until) == 10) t += 86400 - 1;     /* the whole day */
            sb_time_format(t, until_ts, sizeof until_ts);
        }
        rc = sb_store_prepare(s, "SELECT id FROM sales_orders WHERE integration_id = ?1 AND source = 'amazon' "
                                 "AND invoice_no IS NULL AND stage NOT IN ('cancelled','rule_error','rejected') "
                                 "AND (?2 IS NULL OR created_time <= ?2) AND (?3 IS NULL OR payment_type = ?3) "
                                 "ORDER BY created_time, order_ref, split_no", &st, err);
        if (!rc && !(rc = sb_store_prepare(s, "UPDATE sales_orders SET invoice_no = printf('INV-%06d', "
                                              "(SELECT next_invoice_no FROM integrations WHERE id = ?2)), invoice_date = ?3 "
                                              "WHERE id = ?1", &u, err))) {
            sqlite3_bind_int64(st, 1, integ);
            if (until) sqlite3_bind_text(st, 2, until_ts, -1, SQLITE_STATIC);
            if (payment) sqlite3_bind_text(st, 3, payment, -1, SQLITE_STATIC);
            while (!rc && sqlite3_step(st) == SQLITE_ROW) {
                sqlite3_reset(u);
                sqlite3_bind_int64(u, 1, sqlite3_column_int64(st, 0));
                sqlite3_bind_int64(u, 2, integ);
                sqlite3_bind_text(u, 3, e->today, -1, SQLITE_STATIC);
                if (sqlite3_step(u) != SQLITE_DONE) { rc = sb_store_error(s, "numbering invoice", err); break; }
                char q[128];
                snprintf(q, sizeof q, "UPDATE integrations SET next_invoice_no = next_invoice_no + 1 WHERE id = %lld", (long long)integ);
                rc = sb_store_exec(s, q, err);
                n++;
            }
            sqlite3_finalize(u);
        }
        sqlite3_finalize(st);
        if (!rc && n) {
            char q[256];
            sqlite3_stmt *r;
            snprintf(q, sizeof q, "SELECT printf('INV-%%06d', next_invoice_no - %ld), printf('INV-%%06d', next_invoice_no - 1) "
                                  "FROM integrations WHERE id = %lld", n, (long long)integ);
            if (sqlite3_prepare_v2(s->db, q, -1, &r, NULL) == SQLITE_OK && sqlite3_step(r) == SQLITE_ROW) {
                snprintf(first, sizeof first, "%s", sqlite3_column_text(r, 0));
                snprintf(last, sizeof last, "%s", sqlite3_column_text(r, 1));
            }
            sqlite3_finalize(r);
        }
        if (!rc) rc = sb_store_commit(s, err);
        else sb_store_rollback(s);
    }
    if (rc) fprintf(stderr, "sellerbridge invoices: %s\n", err);
    else if (n) printf("%ld orders invoiced %s .. %s dated %s\n", n, first, last, e->today);
    else printf("no uninvoiced orders in this batch\n");
    sb_engine_close(e);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_invoices = {"invoices", run_invoices,
    "Number and date the uninvoiced orders of a batch (orders.invoice_mode = batch)",
    "invoices batch [--until YYYY-MM-DD] [--payment-type T]"};
