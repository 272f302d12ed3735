/* cmd_settings.c: `sellerbridge settings list|get|set|unset` and `credentials`. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "secrets/secrets.h"
#include "settings/marketplaces.h"
#include "settings/settings.h"

/* settings list = GET /settings: the sections in the page's order, each setting's value
 * (or "(not set)"), marked when it is the default. */
static void draw_settings(sb_json *j) {
    int list = sb_json_get(j, SB_JSON_ROOT, "settings");
    char section[64] = "";
    for (size_t i = 0; i < sb_json_len(j, list, NULL); i++) {
        int x = sb_json_at(j, list, i);
        const char *sec = sb_cli_cell(j, x, "section");
        if (strcmp(section, sec)) {
            printf("%s[%s]\n", i ? "\n" : "", sec);
            snprintf(section, sizeof section, "%s", sec);
        }
        const char *v = sb_cli_cell(j, x, "value");
        /* beside a drop-down's value, the settings page's words for it */
        char path[160];
        snprintf(path, sizeof path, "option_labels.%s", v);
        const char *word = *v && !strchr(v, '.') ? sb_json_str(j, x, path) : NULL;
        printf("%-34s %-s%s%s%s\n", sb_cli_cell(j, x, "name"), *v ? v : "(not set)", word ? ": " : "",
               word ? sb_cli_text(word) : "", sb_json_bool(j, x, "is_set", 0) ? "" : "  [default]");
    }
}

static int run_settings(sb_cli *cli, int argc, char **argv) {
    if (argc < 2) return sb_cli_usage_error(&sb_cmd_settings, "missing subcommand");
    const char *sub = argv[1];
    int want = !strcmp(sub, "list") ? 2 : !strcmp(sub, "get") || !strcmp(sub, "unset") ? 3 : !strcmp(sub, "set") ? 4 : -1;
    if (want < 0) return sb_cli_usage_error(&sb_cmd_settings, "unknown subcommand '%s'", sub);
    if (argc != want) return sb_cli_usage_error(&sb_cmd_settings, "wrong number of arguments for '%s'", sub);
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN], name[128];
    if (sb_cli_open(cli, &s, &integ, name, sizeof name)) return SB_EXIT_FAIL;
    int rc = SB_EXIT_OK;
    if (!strcmp(sub, "list") || (!strcmp(sub, "get") && cli->json)) {
        sb_store_close(s);       /* the documents of engine/views open their own */
        sb_view_args a = {0};
        return sb_cli_view(cli, &sb_cmd_settings, *sub == 'l' ? "settings" : "setting", *sub == 'l' ? NULL : argv[2], &a,
                           draw_settings);
    } else if (!strcmp(sub, "get")) {
        char *v;
        int is_set;
        if (sb_settings_get(s, integ, argv[2], &v, &is_set, err)) { sb_cli_fail("settings", SB_ERR, "%s", err); rc = SB_EXIT_FAIL; goto out; }
        printf("%s\n", sb_cli_text(v));
        free(v);
    } else if (!strcmp(sub, "set")) {
        if (sb_settings_set(s, integ, argv[2], argv[3], err)) { sb_cli_fail("settings", SB_ERR, "%s", err); rc = SB_EXIT_FAIL; goto out; }
        char *v, host[256];
        sb_settings_get(s, integ, argv[2], &v, NULL, err);
        printf("%s = %s\n", argv[2], sb_cli_text(v));
        if (sb_settings_sends_credentials(argv[2]) && !sb_settings_amazon_endpoint(v, host, sizeof host))
            fprintf(stderr, "sellerbridge settings: %s: %s will now be sent to %s, which is not Amazon\n", argv[2],
                    !strcmp(argv[2], "api.lwa_endpoint") ? "the LWA client id, client secret and refresh token"
                                                         : "the Amazon access token", host);
        char misfit[SB_ERRLEN];
        if ((!strcmp(argv[2], "integration.marketplaces") || !strcmp(argv[2], "integration.region")) &&
            sb_marketplaces_misfit(s, integ, misfit, sizeof misfit))
            fprintf(stderr, "sellerbridge settings: warning: %s; Amazon answers an integration only for the marketplaces "
                    "of its region\n", misfit);
        free(v);
    } else {
        if (sb_settings_unset(s, integ, argv[2], err)) { sb_cli_fail("settings", SB_ERR, "%s", err); rc = SB_EXIT_FAIL; goto out; }
        printf("%s reset to its default\n", argv[2]);
    }
out:
    sb_store_close(s);
    return rc;
}

const sb_command sb_cmd_settings = {"settings", run_settings,
    "Show and change the integration's settings (every option of the settings page)",
    "settings list | get NAME | set NAME VALUE | unset NAME   [--json] [--integration NAME]"};

static int run_credentials(sb_cli *cli, int argc, char **argv) {
    if (argc < 2) return sb_cli_usage_error(&sb_cmd_credentials, "missing subcommand");
    const char *sub = argv[1];
    if (!((!strcmp(sub, "list") && argc == 2) || (!strcmp(sub, "set") && (argc == 3 || argc == 4)) ||
          (!strcmp(sub, "delete") && argc == 3)))
        return sb_cli_usage_error(&sb_cmd_credentials, "wrong subcommand or arguments");
    if (argc >= 3 && !sb_credential_known(argv[2]))
        return sb_cli_usage_error(&sb_cmd_credentials, "'%s' is not a credential (allowed: lwa.client_id, lwa.client_secret, lwa.refresh_token, aws.access_key_id, aws.secret_access_key, aws.session_token)", argv[2]);
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN];
    unsigned char key[SB_KEY_LEN];
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    int rc = SB_EXIT_OK;
    if (sb_secrets_key(cli->db_path, 0, key, err)) { sb_cli_fail("credentials", SB_ERR, "%s", err); rc = SB_EXIT_FAIL; goto out; }
    if (!strcmp(sub, "list")) {
        for (int i = 0; sb_credential_names[i]; i++) {
            char *v = NULL, masked[64];
            int r = sb_secrets_get(s, integ, sb_credential_names[i], &v, key, err);
            printf("%-20s %s\n", sb_credential_names[i],
                   r == 0 ? sb_mask(v, masked, sizeof masked) : r == SB_ENOTFOUND ? "(not set)" : err);
            sb_secrets_wipe(v);
        }
    } else if (!strcmp(sub, "set")) {
        char line[8192];
        const char *value = argc == 4 ? argv[3] : NULL;
        if (value)   /* other local users see argv (ps, /proc) and the shell keeps it in its history */
            fprintf(stderr, "sellerbridge credentials: warning: the value was given on the command line, where other "
                    "users of this machine can see it (ps) and the shell history keeps it; give it on standard "
                    "input instead: sellerbridge credentials set %s < file (or type it after the command)\n", argv[2]);
        if (!value) {   /* read from stdin so the secret stays out of shell history */
            if (!fgets(line, sizeof line, stdin)) { sb_cli_fail("credentials", SB_ERR, "no value on standard input"); rc = SB_EXIT_FAIL; goto out; }
            line[strcspn(line, "\r\n")] = '\0';
            value = line;
        }
        if (!*value) { sb_cli_fail("credentials", SB_ERR, "%s: empty value", argv[2]); rc = SB_EXIT_FAIL; goto out; }
        char masked[64];
        if (sb_secrets_put(s, integ, argv[2], value, key, err)) { sb_cli_fail("credentials", SB_ERR, "%s", err); rc = SB_EXIT_FAIL; }
        else printf("%s stored encrypted: %s\n", argv[2], sb_mask(value, masked, sizeof masked));
        memset(line, 0, sizeof line);
    } else {
        if (sb_secrets_delete(s, integ, argv[2], err)) { sb_cli_fail("credentials", SB_ERR, "%s", err); rc = SB_EXIT_FAIL; }
        else printf("%s deleted\n", argv[2]);
    }
out:
    memset(key, 0, sizeof key);
    sb_store_close(s);
    return rc;
}

const sb_command sb_cmd_credentials = {"credentials", run_credentials,
    "Store the Login with Amazon credentials encrypted, and show them masked",
    "credentials list | set NAME [VALUE] (value from stdin when omitted) | delete NAME"};
