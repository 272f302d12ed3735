/* cli.c: helpers shared by the command implementations. */
#include <stdarg.h>
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "json/json.h"

int sb_cli_wants_help(const sb_command *cmd, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: sellerbridge %s\n\n%s\n", cmd->usage, cmd->summary);
            return 1;
        }
    }
    return 0;
}

int sb_cli_usage_error(const sb_command *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sellerbridge %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: sellerbridge %s\n", cmd->usage);
    return SB_EXIT_USAGE;
}

const char *sb_cli_text(const void *s) {
    static char bufs[16][4096];
    static unsigned next;
    char *out = bufs[next++ % 16];
    const char *t = s ? s : "";
    return sb_escape_controls(t, strlen(t), out, sizeof bufs[0]);
}

void sb_cli_json_str(FILE *f, const char *s) {
    if (!s) { fputs("null", f); return; }
    sb_buf b;
    sb_buf_init(&b, (size_t)64 << 20);
    if (sb_json_quote(&b, s, strlen(s)) == 0) fwrite(b.data, 1, b.len, f);
    sb_buf_free(&b);
}

int sb_cli_open(sb_cli *cli, sb_store **s, int64_t *integ, char *name, size_t namelen) {
    char err[SB_ERRLEN];
    if (sb_store_open(cli->db_path, 0, s, err)) {
        fprintf(stderr, "sellerbridge: %s\n", err);
        return SB_EXIT_FAIL;
    }
    if (integ && sb_store_integration(*s, cli->integration, integ, name, namelen, err)) {
        fprintf(stderr, "sellerbridge: %s\n", err);
        sb_store_close(*s);
        *s = NULL;
        return SB_EXIT_FAIL;
    }
    return SB_EXIT_OK;
}
