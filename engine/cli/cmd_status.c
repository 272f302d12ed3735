/* cmd_status.c: `sellerbridge status`: what the engine is doing, per integration and job
 * (engine/sched/status.h); --json prints the dashboard's GET /api/v1/status document. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "sched/status.h"

static int run_status(sb_cli *cli, int argc, char **argv) {
    for (int i = 1; i < argc; i++) return sb_cli_usage_error(&sb_cmd_status, "unknown argument '%s'", argv[i]);
    sb_store *s;
    int64_t integ = 0;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, &s, cli->integration ? &integ : NULL, NULL, 0)) return SB_EXIT_FAIL;
    int rc;
    if (cli->json) {
        sb_buf b;
        sb_buf_init(&b, 64u << 20);
        if (!(rc = sb_status_json(s, integ, &b, err))) printf("%.*s\n", (int)b.len, b.data ? b.data : "");
        sb_buf_free(&b);
    } else {
        rc = sb_status_print(s, integ, stdout, err);
    }
    if (rc) sb_cli_fail("status", rc, "%s", err);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_status = {"status", run_status,
    "Show what the engine is doing: each integration's jobs, their state, last run and next due time",
    "status [--json]\n"
    "  Per integration (all of them, or --integration NAME) and job (tracking, orders, stock,\n"
    "  products): idle, running since T, or waiting for Amazon until T and why (its rate limit,\n"
    "  a feed or report it is still processing); the last run, its error, the next due time,\n"
    "  and Amazon's clock as last measured (a warning past 5 s). Whether an engine is running.\n"
    "  --json prints the dashboard's GET /api/v1/status document."};
