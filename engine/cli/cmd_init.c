/* cmd_init.c: `sellerbridge init` creates the database, its key file and the first
 * integration; `sellerbridge integration list|add|remove` manages further ones. A refused
 * init leaves nothing behind, a second one changes nothing unless it names a new
 * integration, and the marketplaces must be of the integration's region. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "store/integrations.h"
#include "store/jobs.h"
#include "core/util.h"
#include "secrets/secrets.h"
#include "settings/marketplaces.h"
#include "settings/settings.h"
#include "store/store.h"

/* Removes what a failed init created: the database (and its -wal, -shm) and key file. */
static void remove_created(const char *db, int db_existed, int key_existed) {
    char p[4096];
    if (!db_existed) {
        unlink(db);
        snprintf(p, sizeof p, "%s-wal", db);
        unlink(p);
        snprintf(p, sizeof p, "%s-shm", db);
        unlink(p);
    }
    if (!key_existed && !getenv("SELLERBRIDGE_KEY")) {
        const char *kf = getenv("SELLERBRIDGE_KEY_FILE");
        if (kf && *kf) snprintf(p, sizeof p, "%s", kf);
        else snprintf(p, sizeof p, "%s.key", db);
        unlink(p);
    }
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int run_init(sb_cli *cli, int argc, char **argv) {
    const char *name = "main", *region = NULL, *marketplaces = NULL, *seller = NULL;
    int named = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i], named = 1;
        else if (!strcmp(argv[i], "--region") && i + 1 < argc) region = argv[++i];
        else if (!strcmp(argv[i], "--marketplace") && i + 1 < argc) marketplaces = argv[++i];
        else if (!strcmp(argv[i], "--seller-id") && i + 1 < argc) seller = argv[++i];
        else return sb_cli_usage_error(&sb_cmd_init, "unknown argument '%s'", argv[i]);
    }
    char err[SB_ERRLEN], keyfile[4096], derived[8] = "";
    unsigned char key[SB_KEY_LEN];
    sb_store *s = NULL;
    int64_t id = 0, rc = SB_EXIT_FAIL;
    const char *kf = getenv("SELLERBRIDGE_KEY_FILE");
    snprintf(keyfile, sizeof keyfile, "%s%s", kf && *kf ? kf : cli->db_path, kf && *kf ? "" : ".key");
    int db_existed = file_exists(cli->db_path), key_existed = file_exists(keyfile);
    /* the options are checked before anything is created: a refused init leaves nothing */
    char *canon_region = NULL, *canon_mkts = NULL;
    if (region && sb_settings_validate(NULL, 0, sb_settings_find("integration.region"), region, &canon_region, err)) goto fail_early;
    if (marketplaces && sb_settings_validate(NULL, 0, sb_settings_find("integration.marketplaces"), marketplaces, &canon_mkts, err))
        goto fail_early;
    if (canon_mkts && sb_marketplaces_region_check(canon_region, canon_mkts, "--marketplace", "", derived, sizeof derived, err))
        goto fail_early;
    if (sb_store_open(cli->db_path, SB_STORE_CREATE, &s, err)) goto fail;
    if (sb_secrets_key(cli->db_path, 1, key, err)) goto fail;
    int64_t existing;
    if (sb_store_integration(s, name, &existing, NULL, 0, NULL) == 0) {
        printf("database %s is ready (schema %d); integration '%s' already exists; nothing changed\n",
               cli->db_path, sb_store_user_version(s), name);
        rc = SB_EXIT_OK;
        goto done;
    }
    /* a second init without --name would add 'main' beside the integrations there, and
     * every command would then ask which one */
    if (!named) {
        char names[512] = "";
        size_t n = 0;
        sb_store_integ *all = NULL;
        int nall = 0;
        if (sb_store_integrations(s, &all, &nall, err)) goto fail;
        for (int i = 0; i < nall && n < sizeof names; i++)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s'%s'", n ? ", " : "", all[i].name);
        free(all);
        if (n) {
            snprintf(err, SB_ERRLEN, "database %s already has integration %s; nothing changed (to add another seller "
                     "account: sellerbridge init --name NAME, or integration add NAME)", cli->db_path, names);
            goto fail;
        }
    }
    if (sb_store_integration_add(s, name, &id, err)) goto fail;
    if (!canon_region && *derived) region = derived;
    if (region && sb_settings_set(s, id, "integration.region", region, err)) goto fail;
    if (marketplaces && sb_settings_set(s, id, "integration.marketplaces", marketplaces, err)) goto fail;
    if (seller && sb_settings_set(s, id, "integration.seller_id", seller, err)) goto fail;
    printf("database %s is ready (schema %d); integration '%s' created%s%s%s\n",
           cli->db_path, sb_store_user_version(s), name, region ? " (region " : "", region ? region : "", region ? ")" : "");
    rc = SB_EXIT_OK;
    goto done;
fail:
    sb_store_close(s);
    s = NULL;
    remove_created(cli->db_path, db_existed, key_existed);
fail_early:
    sb_cli_fail("init", SB_ERR, "%s%s", err, db_existed ? "" : " (no database was created)");
done:
    free(canon_region);
    free(canon_mkts);
    sb_store_close(s);
    return (int)rc;
}

const sb_command sb_cmd_init = {"init", run_init,
    "Create the database (schema, key file) and the first integration",
    "init [--name NAME] [--region na|eu|fe] [--marketplace ID[,ID...]] [--seller-id ID]"};

/* integration remove NAME [--yes] [--force]: says what it deletes; deletes only with
 * --yes, and while orders are not yet confirmed to Amazon only with --force. The stock
 * its open orders reserve is released first; the customers it made stay, unassigned. */
static int remove_integration(sb_store *s, int argc, char **argv) {
    const char *name = argv[2];
    int yes = 0, force = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--yes")) yes = 1;
        else if (!strcmp(argv[i], "--force")) force = 1;
        else return sb_cli_usage_error(&sb_cmd_integration, "unknown argument '%s'", argv[i]);
    }
    char err[SB_ERRLEN];
    int64_t id;
    if (sb_store_integration(s, name, &id, NULL, 0, err)) {
        fprintf(stderr, "sellerbridge integration: no integration '%s' (see 'sellerbridge integration list')\n", name);
        return SB_EXIT_FAIL;
    }
    sb_store_integ_counts c;
    if (sb_store_integration_counts(s, id, &c, err)) {
        fprintf(stderr, "sellerbridge integration: %s; nothing deleted\n", err);
        return SB_EXIT_FAIL;
    }
    long orders = c.orders, open = c.open, queued = c.queued, settings = c.settings;
    printf("integration '%s' would be deleted with its %ld stored setting%s, its credentials, %ld order%s (their lines, "
           "invoices and audit rows; %ld not yet dispatched and confirmed), %ld confirmation%s queued for Amazon; the "
           "stock its open orders reserve is released; customers it made stay, unassigned\n",
           name, settings, settings == 1 ? "" : "s", orders, orders == 1 ? "" : "s", open, queued, queued == 1 ? "" : "s");
    if ((open > 0 || queued > 0) && !force) {
        fprintf(stderr, "sellerbridge integration: '%s' has %ld order%s not yet confirmed to Amazon and %ld queued "
                "confirmation%s; dispatch or cancel them first, or add --force to delete them anyway\n",
                name, open, open == 1 ? "" : "s", queued, queued == 1 ? "" : "s");
        return SB_EXIT_FAIL;
    }
    if (!yes) {
        fprintf(stderr, "sellerbridge integration: nothing deleted; run again with --yes to delete '%s'\n", name);
        return SB_EXIT_FAIL;
    }
    int rc = sb_store_integration_remove(s, id, err);
    if (rc) {
        fprintf(stderr, "sellerbridge integration: %s; nothing deleted\n", err);
        return SB_EXIT_FAIL;
    }
    printf("integration '%s' deleted\n", name);
    return SB_EXIT_OK;
}

typedef struct list_arg {
    sb_cli *cli;
    int n;
} list_arg;

/* One row of `integration list` (sb_store_integ_fn). */
static int list_one(void *ud, int64_t id, const char *name, const char *created_at) {
    list_arg *a = ud;
    if (a->cli->json) {
        printf("%s{\"id\":%lld,\"name\":", a->n ? "," : "", (long long)id);
        sb_cli_json_str(stdout, name);
        printf("}");
    } else printf("%-4lld %-20s %s\n", (long long)id, name, created_at ? created_at : "");
    a->n++;
    return 0;
}

static int run_integration(sb_cli *cli, int argc, char **argv) {
    if (argc < 2) return sb_cli_usage_error(&sb_cmd_integration, "missing subcommand");
    sb_store *s;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, &s, NULL, NULL, 0)) return SB_EXIT_FAIL;
    int rc = SB_EXIT_OK;
    if (!strcmp(argv[1], "list")) {
        list_arg a = {cli, 0};
        if (cli->json) printf("[");
        int lrc = sb_store_integrations_each(s, list_one, &a, err);
        if (cli->json) printf("]\n");
        if (lrc) { sb_cli_fail("integration", SB_ERR, "%s", err); rc = SB_EXIT_FAIL; }
    } else if (!strcmp(argv[1], "add") && argc == 3) {
        int64_t id;
        if (sb_store_integration_add(s, argv[2], &id, err)) { sb_cli_fail("integration", SB_ERR, "%s", err); rc = SB_EXIT_FAIL; }
        else printf("integration '%s' created\n", argv[2]);
    } else if (!strcmp(argv[1], "remove") && argc >= 3) {
        rc = remove_integration(s, argc, argv);
    } else {
        rc = sb_cli_usage_error(&sb_cmd_integration, "unknown subcommand '%s'", argv[1]);
    }
    sb_store_close(s);
    return rc;
}

const sb_command sb_cmd_integration = {"integration", run_integration,
    "List, add or remove integrations (seller accounts) in this database",
    "integration list | integration add NAME | integration remove NAME [--yes] [--force]\n"
    "  remove says what it deletes and deletes only with --yes; while the integration has orders\n"
    "  not yet confirmed to Amazon (or confirmations queued) it also needs --force"};
