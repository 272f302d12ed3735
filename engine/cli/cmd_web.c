/* cmd_web.c: `sellerbridge web`: the dashboard and admin API until SIGTERM/SIGINT, and
 * `sellerbridge web token-path`, which prints where the admin token is (making it when
 * missing). The token itself is never printed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "core/util.h"
#include "web/web.h"

static volatile sig_atomic_t web_stop;
static void on_signal(int sig) { (void)sig; web_stop = 1; }

static int run_web(sb_cli *cli, int argc, char **argv) {
    const char *listen = NULL, *token_file = NULL;
    int threads = 0, token_path_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc) listen = argv[++i];
        else if (!strcmp(argv[i], "--token-file") && i + 1 < argc) token_file = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            long t;
            if (sb_cli_parse_long(&sb_cmd_web, "--threads", argv[++i], 1, 16, &t)) return SB_EXIT_USAGE;
            threads = (int)t;
        }
        else if (!strcmp(argv[i], "token-path") && i == 1) token_path_only = 1;
        else return sb_cli_usage_error(&sb_cmd_web, "unknown argument '%s'", argv[i]);
    }
    char err[SB_ERRLEN];
    if (token_path_only) {
        char path[4096];
        if (access(cli->db_path, F_OK) != 0) {
            sb_cli_fail("web", SB_ENOTFOUND, "%s: no database (run 'sellerbridge init')", cli->db_path);
            return SB_EXIT_FAIL;
        }
        if (sb_web_token(cli->db_path, token_file, 1, NULL, path, sizeof path, err)) {
            sb_cli_fail("web", SB_ERR, "%s", err);
            return SB_EXIT_FAIL;
        }
        printf("%s\n", path);
        return SB_EXIT_OK;
    }
    sb_web_options o = {.db_path = cli->db_path, .listen = listen, .integration = cli->integration,
                        .token_file = token_file, .threads = threads};
    sb_web *w;
    if (sb_web_start(&o, &w, err)) {
        sb_cli_fail("web", SB_ERR, "%s", err);
        return SB_EXIT_FAIL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("sellerbridge web: dashboard at %s\n"
           "admin token: in %s (send 'Authorization: Bearer TOKEN'; in a browser open %s#token=TOKEN once)\n",
           sb_web_url(w), sb_web_token_path(w), sb_web_url(w));
    fflush(stdout);
    while (!web_stop) pause();
    sb_web_stop(w);
    printf("sellerbridge web: stopped\n");
    return SB_EXIT_OK;
}

const sb_command sb_cmd_web = {"web", run_web,
    "Serve the web dashboard and admin API (127.0.0.1:8080 unless --listen says otherwise)",
    "web [--listen HOST:PORT] [--token-file PATH] [--threads N] [--integration NAME]\n"
    "       web token-path       (print where the admin token is kept; makes it when missing)"};
