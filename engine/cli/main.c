/* main.c: sellerbridge's entry point: global options, then one git-style command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "sellerbridge.h"

static const sb_command *commands[] = {
    &sb_cmd_init, &sb_cmd_integration, &sb_cmd_settings, &sb_cmd_credentials,
    &sb_cmd_import, &sb_cmd_export, &sb_cmd_demo,
    &sb_cmd_sync, &sb_cmd_run, &sb_cmd_status, &sb_cmd_orders, &sb_cmd_invoices,
    &sb_cmd_rules, &sb_cmd_sim,
    &sb_cmd_products, &sb_cmd_stock, &sb_cmd_dispatch, &sb_cmd_update_dispatched, &sb_cmd_outbox, &sb_cmd_jobs,
    &sb_cmd_notifications,
    &sb_cmd_web, &sb_cmd_connect,
    NULL
};

const sb_command *sb_cli_find(const char *name) {
    for (int i = 0; commands[i]; i++)
        if (!strcmp(commands[i]->name, name)) return commands[i];
    return NULL;
}

static void usage(FILE *f) {
    fprintf(f, "usage: sellerbridge [--db PATH] [--integration NAME] [--json] [--log-level L] [--clock SPEC] COMMAND [ARGS]\n\n"
               "commands:\n");
    for (int i = 0; commands[i]; i++)
        fprintf(f, "  %-18s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\n'sellerbridge COMMAND --help' shows a command's options.\n");
}

int main(int argc, char **argv) {
    sb_cli cli = {0};
    /* the zone switches for integrations' local times replace TZ in place (see
     * engine/sync/engine.c); set it now, while there is one thread */
    if (!getenv("TZ")) setenv("TZ", ":/etc/localtime", 1);
    cli.db_path = getenv("SELLERBRIDGE_DB");
    if (!cli.db_path || !*cli.db_path) cli.db_path = "sellerbridge.db";
    const char *lvl = getenv("SELLERBRIDGE_LOG");
    if (lvl && sb_log_level_from_name(lvl) >= 0) sb_log_set_level(sb_log_level_from_name(lvl));
    const char *clock = NULL;   /* --clock SPEC (else $SELLERBRIDGE_CLOCK): the scaled clock, core/clock.h */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--db") && i + 1 < argc) cli.db_path = argv[++i];
        else if (!strcmp(a, "--integration") && i + 1 < argc) cli.integration = argv[++i];
        else if (!strcmp(a, "--json")) cli.json = 1;
        else if (!strcmp(a, "--clock") && i + 1 < argc) clock = argv[++i];
        else if (!strcmp(a, "--log-level") && i + 1 < argc) {
            int l = sb_log_level_from_name(argv[++i]);
            if (l < 0) { fprintf(stderr, "sellerbridge: --log-level: '%s' is not one of debug, info, warn, error, off\n", argv[i]); return SB_EXIT_USAGE; }
            sb_log_set_level(l);
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return SB_EXIT_OK; }
        else if (!strcmp(a, "--version")) { printf("sellerbridge %s\n", sb_version()); return SB_EXIT_OK; }
        else { fprintf(stderr, "sellerbridge: unknown option '%s'\n", a); usage(stderr); return SB_EXIT_USAGE; }
    }
    if (i >= argc) { usage(stderr); return SB_EXIT_USAGE; }
    const sb_command *cmd = sb_cli_find(argv[i]);
    if (!cmd) {
        char msg[300];
        snprintf(msg, sizeof msg, "'%.200s' is not a command", argv[i]);
        fprintf(stderr, "sellerbridge: %s\n", msg);
        sb_cli_json_mode = cli.json;
        sb_cli_json_error("usage", msg);
        usage(stderr);
        return SB_EXIT_USAGE;
    }
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    /* global options may also follow the command name */
    for (int j = 1; j < sub_argc; j++) {
        int take = 0;
        if (!strcmp(sub_argv[j], "--db") && j + 1 < sub_argc) { cli.db_path = sub_argv[j + 1]; take = 2; }
        else if (!strcmp(sub_argv[j], "--integration") && j + 1 < sub_argc) { cli.integration = sub_argv[j + 1]; take = 2; }
        else if (!strcmp(sub_argv[j], "--json")) { cli.json = 1; take = 1; }
        else if (!strcmp(sub_argv[j], "--clock") && j + 1 < sub_argc) { clock = sub_argv[j + 1]; take = 2; }
        else if (!strcmp(sub_argv[j], "--")) break;
        if (take) {
            memmove(&sub_argv[j], &sub_argv[j + take], (size_t)(sub_argc - j - take) * sizeof *sub_argv);
            sub_argc -= take;
            j--;
        }
    }
    if (sb_cli_wants_help(cmd, sub_argc, sub_argv)) return SB_EXIT_OK;
    char err[SB_ERRLEN];
    if (clock ? sb_clock_use_scaled(clock, err) : sb_clock_from_env(err)) {
        fprintf(stderr, "sellerbridge: %s%s\n", clock ? "--clock: " : "", err);
        return SB_EXIT_USAGE;
    }
    sb_cli_json_mode = cli.json;
    int rc = cmd->run(&cli, sub_argc, sub_argv);
    /* under --json a failure is always an error document, even from a command that
     * wrote its reason only to stderr */
    if (rc != SB_EXIT_OK && cli.json && !sb_cli_error_printed()) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s failed (exit %d); the reason is on standard error", cmd->name, rc);
        sb_cli_json_error(rc == SB_EXIT_USAGE ? "usage" : "failed", msg);
    }
    return rc;
}
