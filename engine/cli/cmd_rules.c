/* cmd_rules.c: `sellerbridge rules check PACK` and `sellerbridge rules test PACK
 * [CASES_DIR]`: the rule author's tools. Neither needs the database: check loads the
 * pack and lints the folder; test runs table-driven case files through the real host.
 * (`rules dry-run` and `rules use` need the store and live elsewhere.) */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "rules/rules.h"
#include "rules/rules_cases.h"
#include "sellerbridge.h"

static int sb_is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int sb_is_hook_file(const char *name) {
    static const char *const hooks[] = {"status.lua", "validate.lua", "customer.lua",
                                        "route.lua", "gl.lua", "stock.lua", NULL};
    for (int i = 0; hooks[i]; i++)
        if (!strcmp(name, hooks[i])) return 1;
    return 0;
}

/* Problems load cannot see: files that look like hooks but are not one. */
static int sb_rules_lint_dir(const char *pack) {
    int n = 0;
    DIR *d = opendir(pack);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".lua") && !sb_is_hook_file(e->d_name)) {
            printf("%s:1: not a hook file and never loaded (hooks: status, validate, customer, route, gl, stock)\n", e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

static int sb_rules_check_cmd(const char *pack) {
    static char report[64 * 1024];
    sb_rules *r = sb_rules_load_ex(pack, NULL, report, sizeof report);
    int problems = 0;
    if (!r) {
        printf("%s\n", report);
        problems++;
    }
    if (strcmp(pack, "default")) problems += sb_rules_lint_dir(pack);
    if (r) {
        if (!problems) printf("%s: ok (sha256 %s)\n", sb_rules_name(r), sb_rules_hash(r));
        sb_rules_free(r);
    }
    return problems ? SB_EXIT_FAIL : SB_EXIT_OK;
}

static int sb_rules_test_cmd(const sb_command *cmd, const char *pack, const char *cases) {
    char dir[4096], err[SB_ERRLEN];
    if (cases) snprintf(dir, sizeof dir, "%s", cases);
    else if (strcmp(pack, "default")) snprintf(dir, sizeof dir, "%s/cases", pack);
    else {
        snprintf(dir, sizeof dir, "tests/rules/cases");
        if (!sb_is_dir(dir)) {
            const char *src = getenv("SB_SOURCE_DIR");
            snprintf(dir, sizeof dir, "%s/tests/rules/cases", src && *src ? src : SB_SOURCE_DIR);
        }
    }
    if (!sb_is_dir(dir)) return sb_cli_usage_error(cmd, "no cases folder '%s'", dir);
    static char report[64 * 1024];
    sb_rules *r = sb_rules_load_ex(pack, NULL, report, sizeof report);
    if (!r) {
        printf("%s\n", report);
        return SB_EXIT_FAIL;
    }
    int pass = 0, fail = 0;
    int rc = sb_rules_run_cases(r, dir, stdout, &pass, &fail, err);
    sb_rules_free(r);
    if (rc < 0) {
        sb_cli_fail("rules", SB_ERR, "%s", err);
        return SB_EXIT_FAIL;
    }
    printf("%d passed, %d failed\n", pass, fail);
    return fail || !pass ? SB_EXIT_FAIL : SB_EXIT_OK;
}

static int sb_rules_run(sb_cli *cli, int argc, char **argv) {
    const sb_command *cmd = &sb_cmd_rules;
    if (argc < 2) return sb_cli_usage_error(cmd, "missing subcommand");
    if (!strcmp(argv[1], "check")) {
        if (argc != 3) return sb_cli_usage_error(cmd, "check takes one PACK");
        return sb_rules_check_cmd(argv[2]);
    }
    if (!strcmp(argv[1], "test")) {
        if (argc != 3 && argc != 4) return sb_cli_usage_error(cmd, "test takes PACK [CASES_DIR]");
        return sb_rules_test_cmd(cmd, argv[2], argc == 4 ? argv[3] : NULL);
    }
    if (!strcmp(argv[1], "use")) {
        if (argc != 3) return sb_cli_usage_error(cmd, "use takes one PACK");
        return sb_cli_rules_use(cli, argv[2]);
    }
    if (!strcmp(argv[1], "dry-run")) {
        long limit = 0;
        if (argc == 5 && !strcmp(argv[3], "--limit")) {
            if (sb_cli_parse_long(cmd, "--limit", argv[4], 1, 100000000L, &limit)) return SB_EXIT_USAGE;
        } else if (argc != 3) return sb_cli_usage_error(cmd, "dry-run takes PACK [--limit N]");
        return sb_cli_rules_dry_run(cli, argv[2], limit);
    }
    return sb_cli_usage_error(cmd, "unknown subcommand '%s'", argv[1]);
}

const sb_command sb_cmd_rules = {
    "rules", sb_rules_run,
    "Check, test, dry-run and deploy rule packs",
    "rules check PACK | test PACK [CASES_DIR] | dry-run PACK [--limit N] | use PACK\n\n"
    "  PACK is a folder of hook files, or 'default' for the built-in pack.\n"
    "  check   load and lint the pack; every problem as file:line; exit 1 on problems\n"
    "  test    run the case files (default PACK/cases; tests/rules/cases for 'default')\n"
    "  dry-run run the pack over the stored orders; print what would change; change nothing\n"
    "  use     deploy the pack to the integration (only if it loads cleanly)"
};
