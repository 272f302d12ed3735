/* cli.h: the git-style command table. Each command lives in its own cmd_<name>.c and is
 * listed in main.c. Exit codes: 0 ok, 1 failure, 2 usage. */
#ifndef SB_CLI_H
#define SB_CLI_H
#include <stdio.h>

enum { SB_EXIT_OK = 0, SB_EXIT_FAIL = 1, SB_EXIT_USAGE = 2 };

typedef struct sb_cli {
    const char *db_path;        /* --db, else SELLERBRIDGE_DB, else ./sellerbridge.db */
    const char *integration;    /* --integration, else the only/first one */
    int json;                   /* --json */
} sb_cli;

typedef struct sb_command {
    const char *name;
    int (*run)(sb_cli *cli, int argc, char **argv);   /* argv[0] is the command name */
    const char *summary;
    const char *usage;          /* printed by --help */
} sb_command;

/* True when argv holds --help or -h. Prints usage for cmd to stdout. */
int sb_cli_wants_help(const sb_command *cmd, int argc, char **argv);
int sb_cli_usage_error(const sb_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text from outside (Amazon, a buyer, a CSV file, a rule, a setting) made safe for a
 * human-readable line: control characters escaped (sb_escape_controls), so it cannot
 * move the cursor, recolour the terminal or forge a line. s may be NULL (""). The result
 * lives in one of 16 rotating 4 KiB buffers: enough for the arguments of one printf,
 * and the CLI is single-threaded. */
const char *sb_cli_text(const void *s);
/* Writes s as a JSON string literal (quotes and escapes) to f. */
void sb_cli_json_str(FILE *f, const char *s);
const sb_command *sb_cli_find(const char *name);

#define SB_CMD(name) extern const sb_command sb_cmd_##name
SB_CMD(init);
SB_CMD(settings);
SB_CMD(credentials);
SB_CMD(import);
SB_CMD(export);
SB_CMD(integration);
SB_CMD(sim);
SB_CMD(rules);
SB_CMD(demo);
SB_CMD(sync);
SB_CMD(run);
SB_CMD(orders);
SB_CMD(invoices);
SB_CMD(products); SB_CMD(stock); SB_CMD(dispatch); SB_CMD(update_dispatched); SB_CMD(outbox);
SB_CMD(web);
SB_CMD(status);

#endif

#include <stdint.h>
#include "store/store.h"
/* Opens cli->db_path (must exist) and resolves the integration; prints the error and
 * returns SB_EXIT_FAIL on failure. name may be NULL. */
int sb_cli_open(sb_cli *cli, sb_store **s, int64_t *integ, char *name, size_t namelen);

/* `sellerbridge sync products|stock` (cmd_jobs.c); returns an exit code. */
int sb_cli_sync_job(sb_cli *cli, const char *job);

/* `rules use PACK` and `rules dry-run PACK` (cmd_rules_store.c); return exit codes. */
int sb_cli_rules_use(sb_cli *cli, const char *pack);
int sb_cli_rules_dry_run(sb_cli *cli, const char *pack, long limit);
