/* cmd_init.c: `sellerbridge init` creates the database, its key file and the first
 * integration; `sellerbridge integration list|add` manages further ones. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "store/store.h"

static int run_init(sb_cli *cli, int argc, char **argv) {
    const char *name = "main", *region = NULL, *marketplaces = NULL, *seller = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
        else if (!strcmp(argv[i], "--region") && i + 1 < argc) region = argv[++i];
        else if (!strcmp(argv[i], "--marketplace") && i + 1 < argc) marketplaces = argv[++i];
        else if (!strcmp(argv[i], "--seller-id") && i + 1 < argc) seller = argv[++i];
        else return sb_cli_usage_error(&sb_cmd_init, "unknown argument '%s'", argv[i]);
    }
    char err[SB_ERRLEN];
    unsigned char key[SB_KEY_LEN];
    sb_store *s = NULL;
    int64_t id = 0, rc = SB_EXIT_FAIL;
    if (sb_store_open(cli->db_path, SB_STORE_CREATE, &s, err)) goto fail;
    if (sb_secrets_key(cli->db_path, 1, key, err)) goto fail;
    int64_t existing;
    if (sb_store_integration(s, name, &existing, NULL, 0, NULL) == 0) {
        printf("database %s is ready (schema %d); integration '%s' already exists\n",
               cli->db_path, sb_store_user_version(s), name);
        rc = SB_EXIT_OK;
        goto done;
    }
    if (sb_store_integration_add(s, name, &id, err)) goto fail;
    if (region && sb_settings_set(s, id, "integration.region", region, err)) goto fail;
    if (marketplaces && sb_settings_set(s, id, "integration.marketplaces", marketplaces, err)) goto fail;
    if (seller && sb_settings_set(s, id, "integration.seller_id", seller, err)) goto fail;
    printf("database %s is ready (schema %d); integration '%s' created\n",
           cli->db_path, sb_store_user_version(s), name);
    rc = SB_EXIT_OK;
    goto done;
fail:
    sb_cli_fail("init", SB_ERR, "%s", err);
done:
    sb_store_close(s);
    return (int)rc;
}

const sb_command sb_cmd_init = {"init", run_init,
    "Create the database (schema, key file) and the first integration",
    "init [--name NAME] [--region na|eu|fe] [--marketplace ID[,ID...]] [--seller-id ID]"};

static int run_integration(sb_cli *cli, int argc, char **argv) {
    if (argc < 2) return sb_cli_usage_error(&sb_cmd_integration, "missing subcommand");
    sb_store *s;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, &s, NULL, NULL, 0)) return SB_EXIT_FAIL;
    int rc = SB_EXIT_OK;
    if (!strcmp(argv[1], "list")) {
        sqlite3_stmt *st;
        if (sb_store_prepare(s, "SELECT id, name, created_at FROM integrations ORDER BY id", &st, err) == 0) {
            if (cli->json) printf("[");
            for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
                if (cli->json) {
                    printf("%s{\"id\":%lld,\"name\":", n ? "," : "", (long long)sqlite3_column_int64(st, 0));
                    sb_cli_json_str(stdout, (const char *)sqlite3_column_text(st, 1));
                    printf("}");
                } else printf("%-4lld %-20s %s\n", (long long)sqlite3_column_int64(st, 0),
                              sqlite3_column_text(st, 1), sqlite3_column_text(st, 2));
            }
            if (cli->json) printf("]\n");
            sqlite3_finalize(st);
        }
    } else if (!strcmp(argv[1], "add") && argc == 3) {
        int64_t id;
        if (sb_store_integration_add(s, argv[2], &id, err)) { sb_cli_fail("integration", SB_ERR, "%s", err); rc = SB_EXIT_FAIL; }
        else printf("integration '%s' created\n", argv[2]);
    } else {
        rc = sb_cli_usage_error(&sb_cmd_integration, "unknown subcommand '%s'", argv[1]);
    }
    sb_store_close(s);
    return rc;
}

const sb_command sb_cmd_integration = {"integration", run_integration,
    "List or add integrations (seller accounts) in this database",
    "integration list | integration add NAME"};
