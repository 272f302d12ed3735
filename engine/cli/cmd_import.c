/* cmd_import.c: `sellerbridge import KIND FILE.csv` and `sellerbridge export KIND`. */
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "csvio/csvio.h"

static int run_import(sb_cli *cli, int argc, char **argv) {
    if (argc != 3) return sb_cli_usage_error(&sb_cmd_import, "expected KIND and FILE");
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    sb_csv_result res;
    int rc = sb_csv_import(s, integ, argv[1], argv[2], &res, err);
    if (rc) {
        for (int i = 0; i < res.nerrors; i++) fprintf(stderr, "%s\n", res.errors[i]);
        if (res.more_errors) fprintf(stderr, "... and %d more\n", res.more_errors);
        fprintf(stderr, "sellerbridge import: %s\n", err);
    } else if (cli->json) {
        printf("{\"kind\":\"%s\",\"rows\":%ld,\"inserted\":%ld,\"updated\":%ld}\n", argv[1], res.rows, res.inserted, res.updated);
    } else {
        printf("%s: %ld rows imported (%ld new, %ld updated)\n", argv[1], res.rows, res.inserted, res.updated);
    }
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_import = {"import", run_import,
    "Import master data from CSV: branches, customer_groups, gl_accounts, products, boms, stock, customers, orders",
    "import KIND FILE.csv   (KIND: branches|customer_groups|gl_accounts|products|boms|stock|customers|orders)\n"
    "  Columns are matched by header name; the whole file is imported or, on any bad row, nothing.\n"
    "  branches: name*,country,state,address          customer_groups: name*\n"
    "  gl_accounts: code*,name                         boms: kit_sku*,component_sku*,qty*\n"
    "  products: sku*,asin,name,created_date,batch_tracked,serial_tracked,order_type,buffer_stock,latency\n"
    "  stock: sku*,branch*,on_hand*                    orders: order_ref*,branch*,sku*,qty*,etd,customer_ref\n"
    "  customers: ref*,channel_customer_id,email,name,company,phone,address1,address2,city,state,postcode,country,group"};

static int run_export(sb_cli *cli, int argc, char **argv) {
    if (argc != 2) return sb_cli_usage_error(&sb_cmd_export, "expected KIND");
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    int rc = sb_csv_export(s, integ, argv[1], stdout, err);
    if (rc) fprintf(stderr, "sellerbridge export: %s\n", err);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_export = {"export", run_export,
    "Export master data or open orders as CSV (same columns as import)",
    "export KIND   (branches|customer_groups|gl_accounts|products|boms|stock|customers|orders)"};
