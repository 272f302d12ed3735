/* cli.h: the git-style command table. Each command lives in its own cmd_<name>.c and is
 * listed in main.c. Exit codes: 0 ok, 1 failure, 2 usage (a bad option or option value).
 * Under --json every error is also an error document on standard output,
 * {"error": message, "code": name}, the shape the web API answers; the documents people
 * read come from engine/views (sb_cli_view), byte for byte what the web API serves. */
#ifndef SB_CLI_H
#define SB_CLI_H
#include <stdio.h>

enum { SB_EXIT_OK = 0, SB_EXIT_FAIL = 1, SB_EXIT_USAGE = 2 };

typedef struct sb_cli {
    const char *db_path;        /* --db, else SELLERBRIDGE_DB, else ./sellerbridge.db */
    const char *integration;    /* --integration, else the only/first one */
    int json;                   /* --json */
    int serve_banner;           /* sb_cli_serve prints where the dashboard is (demo --serve) */
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
/* text as a whole number lo..hi for option opt into *out; else a usage error of cmd naming
 * the option and the range (returns SB_EXIT_USAGE), 0 when it is one. */
int sb_cli_parse_long(const sb_command *cmd, const char *opt, const char *text, long lo, long hi, long *out);
/* Writes s as a JSON string literal (quotes and escapes) to f. */
void sb_cli_json_str(FILE *f, const char *s);
const sb_command *sb_cli_find(const char *name);

/* --json for the whole run (main sets it before the command runs). */
extern int sb_cli_json_mode;
/* A failure of command cmd (NULL: the program): "sellerbridge CMD: message" on stderr
 * and, under --json, the error document on stdout with sb_view_code_of(rc). Returns
 * SB_EXIT_FAIL. */
int sb_cli_fail(const char *cmd, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The error document {"error": msg, "code": code} on stdout, under --json only. */
void sb_cli_json_error(const char *code, const char *msg);
/* 1 once an error document has been printed (main prints one for a command that failed
 * without saying why in JSON). */
int sb_cli_error_printed(void);
/* A command whose --json document itself says what failed (notifications setup's
 * "ok": false) marks it printed, so main adds no error document after it. */
void sb_cli_failure_documented(void);

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
SB_CMD(jobs);
SB_CMD(notifications);
SB_CMD(connect);

#endif

#include <stdint.h>
#include "store/store.h"
/* Opens cli->db_path (must exist) and resolves the integration; prints the error and
 * returns SB_EXIT_FAIL on failure. name may be NULL. */
int sb_cli_open(sb_cli *cli, sb_store **s, int64_t *integ, char *name, size_t namelen);

#include "views/views.h"
#include "json/json.h"
/* Draws document j (parsed from text) as a table for people. */
typedef void (*sb_cli_draw)(sb_json *j);
/* Prints engine/views' document doc (id may be NULL) with arguments a: under --json its
 * bytes and a newline, else draw() of it. A bad argument is a usage error of cmd (exit
 * 2), a missing order or setting exit 1. */
int sb_cli_view(sb_cli *cli, const sb_command *cmd, const char *doc, const char *id, const sb_view_args *a,
                sb_cli_draw draw);
/* argv[from..] as --NAME VALUE arguments of doc into a (names the document does not take
 * are a usage error). flags (NULL or triples ending in NULL: option, argument, value)
 * are options without a value, e.g. {"--all", "all", "1", NULL}. */
int sb_cli_view_args(const sb_command *cmd, const char *doc, int argc, char **argv, int from,
                     const char *const *flags, sb_view_args *a);
/* Table helpers for draw functions: value at path as text for a cell ("" when null or
 * absent; numbers in plain notation; lists and objects as JSON), made safe for a
 * terminal (sb_cli_text); rotating buffers as sb_cli_text. */
const char *sb_cli_cell(sb_json *j, int node, const char *path);
/* The footer every paged table prints: "(3 orders)", or "(showing 1-50 of 1234 orders;
 * --offset 50 --limit 50 for the next)" when the page stops before the total. key: the
 * document's list, noun: one of its rows. */
void sb_cli_paging_footer(sb_json *j, const char *key, const char *noun);
/* After a retry (orders retry, products alias): "N still held: ORDER (why); ...; and M
 * more" when some orders stay held, nothing otherwise. */
struct sb_orders_retry_result;
void sb_cli_still_held(const struct sb_orders_retry_result *r);

/* The engine (`run`, `demo --serve`, cmd_sync.c): every job on its schedule and, when
 * listen is not NULL, the dashboard, until SIGTERM or SIGINT; returns an exit code. */
int sb_cli_serve(sb_cli *cli, sb_store *s, const char *listen);

/* `sellerbridge sync products|stock` (cmd_jobs.c); returns an exit code. */
int sb_cli_sync_job(sb_cli *cli, const char *job);
/* cmd_notify_run.c: `sync notifications` (one read of the queue) and `notifications status`
 * (argv[0] "notifications", argv[1] "status"). */
int sb_cli_notifications_sync(sb_cli *cli);
int sb_cli_notifications_status(sb_cli *cli, const sb_command *cmd, int argc, char **argv);

/* `products list|aliases|alias` (cmd_products.c); argv[1] is the subcommand; returns an exit code. */
int sb_cli_products(sb_cli *cli, int argc, char **argv);

/* `rules use PACK` and `rules dry-run PACK` (cmd_rules_store.c); return exit codes. */
int sb_cli_rules_use(sb_cli *cli, const char *pack);
int sb_cli_rules_dry_run(sb_cli *cli, const char *pack, long limit);
