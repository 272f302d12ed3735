/* cli.c: helpers shared by the command implementations: usage and errors (as JSON
 * documents under --json), opening the database, and printing engine/views' documents
 * (their bytes under --json, a table drawn from them otherwise). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "core/log.h"
#include "core/scrub.h"
#include "core/util.h"
#include "json/json.h"
#include "secrets/secrets.h"

int sb_cli_json_mode;
static int error_printed;

int sb_cli_error_printed(void) { return error_printed; }
void sb_cli_failure_documented(void) { error_printed = 1; }

void sb_cli_json_error(const char *code, const char *msg) {
    if (!sb_cli_json_mode) return;
    sb_buf b;
    sb_buf_init(&b, (size_t)1 << 20);
    sb_view_error_doc(&b, code, msg);
    if (b.data) printf("%s\n", b.data);
    fflush(stdout);
    sb_buf_free(&b);
    error_printed = 1;
}

int sb_cli_fail(const char *cmd, int rc, const char *fmt, ...) {
    char msg[SB_ERRLEN * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cmd) fprintf(stderr, "sellerbridge %s: %s\n", cmd, msg);
    else fprintf(stderr, "sellerbridge: %s\n", msg);
    sb_cli_json_error(sb_view_code_of(rc), msg);
    return SB_EXIT_FAIL;
}

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
    char msg[SB_ERRLEN * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sellerbridge %s: %s\nusage: sellerbridge %s\n", cmd->name, msg, cmd->usage);
    sb_cli_json_error("usage", msg);
    return SB_EXIT_USAGE;
}

int sb_cli_parse_long(const sb_command *cmd, const char *opt, const char *text, long lo, long hi, long *out) {
    char *end = NULL;
    long n = strtol(text, &end, 10);
    if (!*text || *end || n < lo || n > hi)
        return sb_cli_usage_error(cmd, "%s: '%.64s' is not allowed (allowed: a whole number from %ld to %ld)", opt, text, lo, hi);
    *out = n;
    return 0;
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
    int rc = sb_store_open(cli->db_path, 0, s, err);
    if (rc) return sb_cli_fail(NULL, rc, "%s", err);
    if (integ && (rc = sb_store_integration(*s, cli->integration, integ, name, namelen, err))) {
        sb_cli_fail(NULL, rc, "%s", err);
        sb_store_close(*s);
        *s = NULL;
        return SB_EXIT_FAIL;
    }
    return SB_EXIT_OK;
}

/* ---- engine/views' documents ---- */

int sb_cli_view_args(const sb_command *cmd, const char *doc, int argc, char **argv, int from,
                     const char *const *flags, sb_view_args *a) {
    char err[SB_ERRLEN];
    for (int i = from; i < argc; i++) {
        const char *o = argv[i];
        int flag = -1;
        for (int f = 0; flags && flags[f]; f += 3)
            if (!strcmp(o, flags[f])) flag = f;
        if (flag >= 0) {
            if (sb_view_args_add(a, flags[flag + 1], flags[flag + 2], err)) return sb_cli_usage_error(cmd, "%s", err);
            continue;
        }
        if (strncmp(o, "--", 2) || !sb_view_takes(doc, o + 2))
            return sb_cli_usage_error(cmd, "unknown argument '%s'", o);
        if (i + 1 >= argc) return sb_cli_usage_error(cmd, "%s needs a value", o);
        if (sb_view_args_add(a, o + 2, argv[++i], err)) return sb_cli_usage_error(cmd, "%s", err);
    }
    return 0;
}

/* The stored credentials, registered with the scrubber while a document is printed (as
 * the web server does), so no output carries one however it was stored. */
static int scrub_secrets(sb_store *s, int64_t integ, const char *db_path, char *held[SB_CREDENTIALS_MAX]) {
    unsigned char key[SB_KEY_LEN];
    char err[SB_ERRLEN];
    int n = 0;
    if (sb_secrets_key(db_path, 0, key, err)) return 0;
    for (int i = 0; sb_credential_names[i] && n < SB_CREDENTIALS_MAX; i++) {
        char *v = NULL;
        if (sb_secrets_get(s, integ, sb_credential_names[i], &v, key, err) == 0 && v) {
            if (sb_scrub_add(v) == 0) held[n++] = v;
            else sb_secrets_wipe(v);
        }
    }
    memset(key, 0, sizeof key);
    return n;
}

int sb_cli_view(sb_cli *cli, const sb_command *cmd, const char *doc, const char *id, const sb_view_args *a,
                sb_cli_draw draw) {
    sb_store *s;
    int64_t integ;
    char name[128], err[SB_ERRLEN];
    if (sb_cli_open(cli, &s, &integ, name, sizeof name)) return SB_EXIT_FAIL;
    sb_view_ctx c = {.s = s, .integ = integ, .integ_name = name, .db_path = cli->db_path, .arg_prefix = "--"};
    sb_buf b;
    sb_buf_init(&b, (size_t)64 << 20);
    int rc = sb_view_build(&c, doc, id, a, &b, err), ex = SB_EXIT_OK;
    if (rc == SB_EINVAL) ex = sb_cli_usage_error(cmd, "%s", err);
    else if (rc) ex = sb_cli_fail(cmd->name, rc, "%s", err);
    else if (b.data) {
        char *held[SB_CREDENTIALS_MAX];
        int nheld = scrub_secrets(s, integ, cli->db_path, held);
        sb_scrub_all(b.data);
        b.len = strlen(b.data);
        for (int i = 0; i < nheld; i++) { sb_scrub_remove(held[i]); sb_secrets_wipe(held[i]); }
        if (cli->json) {
            fwrite(b.data, 1, b.len, stdout);
            putchar('\n');
        } else {
            sb_json *j = NULL;
            if (sb_json_parse(b.data, b.len, &j, err)) ex = sb_cli_fail(cmd->name, SB_EIO, "%s document: %s", doc, err);
            else draw(j);
            sb_json_free(j);
        }
    }
    sb_buf_free(&b);
    sb_store_close(s);
    return ex;
}

const char *sb_cli_cell(sb_json *j, int node, const char *path) {
    static char bufs[8][512];
    static unsigned next;
    char *out = bufs[next++ % 8];
    out[0] = '\0';
    switch (sb_json_type(j, node, path)) {
    case SB_JSON_STR: return sb_cli_text(sb_json_str(j, node, path));
    case SB_JSON_NUM: {
        double v = sb_json_num(j, node, path, 0);
        if (v == floor(v) && fabs(v) < 1e15) snprintf(out, sizeof bufs[0], "%.0f", v);
        else snprintf(out, sizeof bufs[0], "%g", v);
        return out;
    }
    case SB_JSON_BOOL: return sb_json_bool(j, node, path, 0) ? "true" : "false";
    case SB_JSON_ARR: case SB_JSON_OBJ: {
        int it = 0;
        const char *k;
        int v = sb_json_get(j, node, path);
        if (sb_json_type(j, v, NULL) == SB_JSON_OBJ && !sb_json_next(j, v, &it, &k)) return "[]";   /* cjson: [] or {} */
        sb_buf b;
        char err[SB_ERRLEN];
        sb_buf_init(&b, 1 << 20);
        if (sb_json_encode(j, sb_json_get(j, node, path), &b, err) == 0 && b.data) snprintf(out, sizeof bufs[0], "%s", b.data);
        sb_buf_free(&b);
        return sb_cli_text(out);
    }
    default: return out;
    }
}

void sb_cli_paging_footer(sb_json *j, const char *key, const char *noun) {
    long total = (long)sb_json_num(j, SB_JSON_ROOT, "total", 0), offset = (long)sb_json_num(j, SB_JSON_ROOT, "offset", 0);
    long limit = (long)sb_json_num(j, SB_JSON_ROOT, "limit", 0);
    long shown = (long)sb_json_len(j, SB_JSON_ROOT, key);
    const char *s = total == 1 ? "" : "s";
    if (!total) printf("(no %ss)\n", noun);
    else if (shown == total) printf("(%ld %s%s)\n", total, noun, s);
    else if (!shown) printf("(none of the %ld %s%s at --offset %ld)\n", total, noun, s, offset);
    else {
        printf("(showing %ld-%ld of %s%ld %s%s", offset + 1, offset + shown,
               sb_json_bool(j, SB_JSON_ROOT, "total_capped", 0) ? "at least " : "", total, noun, s);
        if (offset + shown < total) printf("; --offset %ld --limit %ld for the next", offset + shown, limit);
        printf(")\n");
    }
}
