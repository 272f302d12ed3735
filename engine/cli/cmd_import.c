/* cmd_import.c: `sellerbridge import KIND FILE.csv` and `sellerbridge export KIND`. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
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
        for (int i = 0; i < res.nerrors; i++) fprintf(stderr, "%s\n", sb_cli_text(res.errors[i]));
        if (res.more_errors) fprintf(stderr, "... and %d more\n", res.more_errors);
        sb_cli_fail("import", SB_ERR, "%s", err);
    } else if (cli->json) {
        printf("{\"kind\":\"%s\",\"rows\":%ld,\"inserted\":%ld,\"updated\":%ld}\n", argv[1], res.rows, res.inserted, res.updated);
    } else {
        printf("%s: %ld row%s imported (%ld new, %ld updated)\n", argv[1], res.rows, res.rows == 1 ? "" : "s", res.inserted, res.updated);
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

/* Opens path for the export as a file only this user can read (0600 whatever the
 * umask; an existing file is made 0600 too, before anything is written to it). */
static FILE *open_private(const char *path, char *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) { sb_seterr(err, SB_EIO, "%s: %s", path, strerror(errno)); return NULL; }
    FILE *f = fchmod(fd, 0600) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) { sb_seterr(err, SB_EIO, "%s: %s", path, strerror(errno)); close(fd); }
    return f;
}

static int run_export(sb_cli *cli, int argc, char **argv) {
    const char *out = NULL;
    if (argc == 4 && !strcmp(argv[2], "--out")) out = argv[3];
    else if (argc != 2) return sb_cli_usage_error(&sb_cmd_export, "expected KIND [--out FILE]");
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN];
    FILE *f = stdout;
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    int rc = 0;
    if (out && !(f = open_private(out, err))) rc = SB_EIO;
    if (!rc) rc = sb_csv_export(s, integ, argv[1], f, err);
    if (out && f && fclose(f) != 0 && !rc) rc = sb_seterr(err, SB_EIO, "%s: %s", out, strerror(errno));
    if (rc) sb_cli_fail("export", SB_ERR, "%s", err);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_export = {"export", run_export,
    "Export master data or open orders as CSV (same columns as import)",
    "export KIND [--out FILE]   (branches|customer_groups|gl_accounts|products|boms|stock|customers|orders)\n"
    "  --out FILE writes a file only you can read (mode 0600); without it the CSV goes to stdout.\n"
    "  Cells starting with = + - @ tab or CR get a leading ' so a spreadsheet shows them as text;\n"
    "  import takes that ' off again."};
