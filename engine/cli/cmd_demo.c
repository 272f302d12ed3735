/* cmd_demo.c: `sellerbridge demo`, the README's first command: a demo database in
 * ./sellerbridge-demo/ with the sample master data (compiled in from examples/data), the
 * settings a typical seller chooses, and the main job run against the built-in
 * simulator. Safe to run again: it starts from a fresh demo database each time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "core/embed.h"
#include "core/util.h"
#include "csvio/csvio.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "store/store.h"

static const char *const demo_kinds[] = {"branches", "customer_groups", "gl_accounts", "products",
                                         "boms", "stock", "customers", "orders", NULL};

static const char *const demo_settings[][2] = {
    {"additional.mf_branch", "LA Warehouse"},
    {"orders.fba_branch", "Amazon FBA"},
    {"orders.statuses", "UNSHIPPED,PARTIALLY_SHIPPED,SHIPPED"},
    {"orders.customer_group", "Amazon Retail"},
    {"orders.gl_account", "4010"},
    {"orders.routing.enabled", "true"},
    {"orders.routing.grid", "[{\"countries\":[\"US\"],\"states\":[\"NY\",\"NJ\",\"PA\",\"MA\",\"FL\"],"
                            "\"branch\":\"NJ Warehouse\",\"backups\":[\"LA Warehouse\"]},"
                            "{\"countries\":[\"US\"],\"branch\":\"LA Warehouse\",\"backups\":[\"NJ Warehouse\"]},"
                            "{\"countries\":[\"AU\"],\"branch\":\"Sydney\",\"backups\":[\"Melbourne\"]}]"},
    {"orders.bom_expand", "true"},
    {"stock.enabled", "true"},
    {"stock.subtract_buffer", "true"},
    {"additional.fulfillment_latency", "2"},
    {NULL, NULL}
};

/* Builds the demo database at dir/sellerbridge.db. */
static int demo_setup(const char *db, int64_t *integ, sb_store **out, char *err) {
    sb_store *s = NULL;
    int rc;
    char key[4200];
    unsigned char k[SB_KEY_LEN];
    unlink(db);
    snprintf(key, sizeof key, "%s-wal", db); unlink(key);
    snprintf(key, sizeof key, "%s-shm", db); unlink(key);
    if ((rc = sb_store_open(db, SB_STORE_CREATE, &s, err))) return rc;
    if ((rc = sb_secrets_key(db, 1, k, err))) goto out;
    if ((rc = sb_store_integration_add(s, "demo", integ, err))) goto out;
    for (int i = 0; demo_kinds[i]; i++) {
        char path[64];
        snprintf(path, sizeof path, "examples/data/%s.csv", demo_kinds[i]);
        const sb_embedded_file *f = sb_embed_find(path);
        sb_csv_result res;
        if (!f) { rc = sb_seterr(err, SB_ENOTFOUND, "%s is not compiled in", path); goto out; }
        if ((rc = sb_csv_import_mem(s, *integ, demo_kinds[i], path, f->data, f->len, &res, err))) goto out;
        printf("  imported %-16s %3ld rows\n", demo_kinds[i], res.rows);
    }
    for (int i = 0; demo_settings[i][0]; i++)
        if ((rc = sb_settings_set(s, *integ, demo_settings[i][0], demo_settings[i][1], err))) goto out;
out:
    if (rc) { sb_store_close(s); s = NULL; }
    *out = s;
    return rc;
}

static int run_demo(sb_cli *cli, int argc, char **argv) {
    const char *dir = "sellerbridge-demo";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else return sb_cli_usage_error(&sb_cmd_demo, "unknown argument '%s'", argv[i]);
    }
    char db[4096], err[SB_ERRLEN];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "sellerbridge demo: %s: %s\n", dir, strerror(errno));
        return SB_EXIT_FAIL;
    }
    snprintf(db, sizeof db, "%s/sellerbridge.db", dir);
    printf("sellerbridge %s demo: database %s\n", SB_VERSION, db);
    sb_store *s;
    int64_t integ;
    if (demo_setup(db, &integ, &s, err)) {
        fprintf(stderr, "sellerbridge demo: %s\n", err);
        return SB_EXIT_FAIL;
    }
    sb_settings st;
    if (sb_settings_load(s, integ, &st, err) == 0) {
        printf("\nsettings of integration 'demo' (changed from the defaults):\n");
        for (int i = 0; i < st.n; i++)
            if (st.is_set[i]) printf("  %-32s %s\n", st.defs[i]->name, st.values[i]);
        sb_settings_free(&st);
    }
    sb_store_close(s);
    printf("\nnext: sellerbridge --db %s settings list\n", db);
    (void)cli;
    return SB_EXIT_OK;
}

const sb_command sb_cmd_demo = {"demo", run_demo,
    "Run the main job end to end on a demo database with the built-in Amazon simulator",
    "demo [--dir DIR]   (default ./sellerbridge-demo; needs no credentials)"};
