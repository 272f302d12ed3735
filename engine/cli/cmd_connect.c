/* cmd_connect.c: `sellerbridge connect [--integration NAME]`: asks for the three Login with
 * Amazon values (the client id shown as typed, the client secret and the refresh token
 * read without echo from a terminal; three lines of standard input otherwise), stores them
 * encrypted and checks them with one token call (sync/connect.h), saying what Amazon
 * answered. Values Amazon refuses are not kept. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "secrets/secrets.h"
#include "sync/connect.h"

#define LINE_MAX_LEN (SB_CONNECT_VALUE_MAX + 2)

/* One line of standard input into buf without its newline; on a terminal the prompt goes
 * to stderr first, and with hide set the typing is not echoed. 0, or -1 at end of input
 * or for a line longer than the buffer (the rest of it is read and dropped). */
static int read_value(const char *prompt, int hide, char *buf, size_t n) {
    int tty = isatty(STDIN_FILENO);
    struct termios was, quiet;
    int hidden = 0;
    if (tty) {
        fprintf(stderr, "%s: ", prompt);
        fflush(stderr);
        if (hide && tcgetattr(STDIN_FILENO, &was) == 0) {
            quiet = was;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            quiet.c_lflag |= ECHONL;
            hidden = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
    }
    int rc = fgets(buf, (int)n, stdin) ? 0 : -1;
    if (hidden) tcsetattr(STDIN_FILENO, TCSAFLUSH, &was);
    if (!rc && !strchr(buf, '\n') && !feof(stdin)) {            /* too long: drop the rest */
        int c;
        while ((c = getchar()) != EOF && c != '\n') {}
        memset(buf, 0, n);
        return -2;
    }
    if (!rc) buf[strcspn(buf, "\r\n")] = '\0';
    return rc;
}

static int run_connect(sb_cli *cli, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--integration") && i + 1 < argc) cli->integration = argv[++i];
        else return sb_cli_usage_error(&sb_cmd_connect, "unknown argument '%s'", argv[i]);
    }
    sb_store *s;
    int64_t integ;
    char name[128];
    if (sb_cli_open(cli, &s, &integ, name, sizeof name)) return SB_EXIT_FAIL;
    static const char *const prompts[3] = {"LWA client id (amzn1.application-oa2-client...)", "LWA client secret",
                                           "refresh token (Atzr|...)"};
    static const char *const names[3] = {"lwa.client_id", "lwa.client_secret", "lwa.refresh_token"};
    char v[3][LINE_MAX_LEN], err[SB_ERRLEN];
    int rc = 0;
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "Connecting integration '%s' to Amazon. The secret and the token are not shown as you type.\n", name);
    for (int i = 0; i < 3 && !rc; i++) {
        int r = read_value(prompts[i], i > 0, v[i], sizeof v[i]);
        if (r == -2) rc = sb_cli_fail("connect", SB_EINVAL, "%s is longer than %d characters; nothing was changed", names[i], SB_CONNECT_VALUE_MAX);
        else if (r) rc = sb_cli_fail("connect", SB_EINVAL, "no %s on standard input (give the client id, the client secret "
                                    "and the refresh token, one a line); nothing was changed", names[i]);
    }
    if (!rc) {
        sb_connect_result res;
        int crc = sb_connect(s, cli->db_path, integ, v[0], v[1], v[2], &res, err);
        if (crc) rc = sb_cli_fail("connect", crc, "%s", err);
        else {
            char m[3][64];
            if (sb_cli_json_mode) {
                printf("{\"integration\":");
                sb_cli_json_str(stdout, name);
                printf(",\"accepted\":true,\"said\":");
                sb_cli_json_str(stdout, res.said);
                printf(",\"client_id\":");
                sb_cli_json_str(stdout, sb_mask(v[0], m[0], sizeof m[0]));
                printf("}\n");
            } else {
                printf("%s.\nintegration %s: credentials stored encrypted (client id %s, client secret %s, refresh token %s)\n",
                       res.said, sb_cli_text(name), sb_mask(v[0], m[0], sizeof m[0]), sb_mask(v[1], m[1], sizeof m[1]),
                       sb_mask(v[2], m[2], sizeof m[2]));
                if (res.clock_known && (res.clock_skew_ms > 1000 || res.clock_skew_ms < -1000))
                    printf("Amazon's clock is %lld s %s this machine's\n", (long long)(res.clock_skew_ms < 0 ? -res.clock_skew_ms : res.clock_skew_ms) / 1000,
                           res.clock_skew_ms < 0 ? "behind" : "ahead of");
            }
        }
    }
    for (int i = 0; i < 3; i++) memset(v[i], 0, sizeof v[i]);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_connect = {"connect", run_connect,
    "Connect a seller account: store the three LWA values encrypted and check them with Amazon",
    "connect [--integration NAME]\n"
    "  asks for the LWA client id, the client secret and the refresh token (the secret and the token\n"
    "  without echo; from standard input, one a line, when it is not a terminal), checks them with one\n"
    "  token call and keeps them only when Amazon accepts them"};
