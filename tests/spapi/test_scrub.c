/* test_scrub.c: secrets out of every message in every encoding they travel in.
 *
 * Pins: each case of scrub_cases.txt (raw, percent-encoded in both hex cases, form
 * encoded, encoded twice, JSON-escaped, \u escapes, mixed, cut off at the end); the
 * registry (base64 form added, counted adds, removal); and end to end, an LWA endpoint
 * that echoes the request (client secret and refresh token form-encoded) in its error
 * body as LWA JSON, as a JSON \u-escaped description, as plain text, and in a 500 that
 * is retried: neither the returned message nor any log line holds either secret. A log
 * line with a newline and an escape sequence from outside stays one escaped line. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>
#include "core/log.h"
#include "core/scrub.h"
#include "core/util.h"
#include "spapi/spapi.h"
#include "t.h"

#define REFRESH "Atzr|IwEBIKREFRESHSECRET/x+y=z"
#define CLIENT_SECRET "amzn1.oa2-cs.v1.CLIENTSECRET|42"

static void test_cases(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/tests/spapi/scrub_cases.txt", getenv("SB_SOURCE_DIR") ? getenv("SB_SOURCE_DIR") : ".");
    FILE *f = fopen(path, "r");
    T_CHECK(f != NULL);
    if (!f) return;
    char line[4096];
    int n = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *why = strtok(line, "\t"), *secret = strtok(NULL, "\t"), *text = strtok(NULL, "\t"), *want = strtok(NULL, "\t");
        if (!why || !secret || !text || !want) { fprintf(stderr, "scrub_cases:%d: malformed\n", lineno); t_fail++; continue; }
        char buf[4096];
        snprintf(buf, sizeof buf, "%s", text);
        sb_scrub_text(buf, secret);
        if (strcmp(buf, want)) { t_fail++; fprintf(stderr, "scrub_cases:%d (%s): got '%s', expected '%s'\n", lineno, why, buf, want); }
        else t_pass++;
        n++;
    }
    fclose(f);
    T_CHECK(n >= 10);
}

static void test_registry(void) {
    char b64[] = "Authorization: Basic QXR6cnxJd0VCSUtSRUZSRVNIU0VDUkVUL3greT16";   /* base64 of REFRESH */
    char raw[] = "token " REFRESH " end";
    T_EQ(sb_scrub_add(REFRESH), 0);
    T_EQ(sb_scrub_add(REFRESH), 0);
    sb_scrub_all(b64);
    T_STREQ(b64, "Authorization: Basic ****");
    sb_scrub_remove(REFRESH);
    sb_scrub_all(raw);
    T_STREQ(raw, "token **** end");       /* added twice: still there after one remove */
    sb_scrub_remove(REFRESH);
    char kept[] = "token " REFRESH " end";
    sb_scrub_all(kept);
    T_STREQ(kept, "token " REFRESH " end");
    /* sb_seterr and the logger go through the registry */
    char err[SB_ERRLEN];
    sb_scrub_add(CLIENT_SECRET);
    sb_seterr(err, SB_EINVAL, "echo: client_secret=%s", "amzn1.oa2-cs.v1.CLIENTSECRET%7C42");
    T_STREQ(err, "echo: client_secret=****");
    sb_scrub_remove(CLIENT_SECRET);
}

/* ---- an LWA endpoint that echoes what it was sent ---- */

static int mode;     /* 0 LWA JSON error, 1 \u-escaped JSON, 2 plain text, 3 500 with JSON */

static enum MHD_Result echo(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                            const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)cls; (void)url; (void)method; (void)version;
    sb_buf *b = *con_cls;
    if (!b) {
        b = calloc(1, sizeof *b);
        sb_buf_init(b, 1 << 20);
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_size) { sb_buf_append(b, upload, *upload_size); *upload_size = 0; return MHD_YES; }
    sb_buf out;
    sb_buf_init(&out, 1 << 20);
    const char *req = b->data ? b->data : "";
    if (mode == 0 || mode == 3) {
        sb_buf_printf(&out, "{\"error\":\"invalid_client\",\"error_description\":\"received %s\"}", req);
    } else if (mode == 1) {
        sb_buf_printf(&out, "{\"error\":\"invalid_grant\",\"error_description\":\"");
        for (const char *p = req; *p; p++)
            if (*p == '%' || *p == '&' || *p == '|') sb_buf_printf(&out, "\\u%04x", (unsigned char)*p);
            else sb_buf_append(&out, p, 1);
        sb_buf_printf(&out, "\"}");
    } else {   /* text: the secret lands across the 160-byte snippet cut */
        sb_buf_printf(&out, "Bad Request. You sent: %s", req);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(out.len, out.data, MHD_RESPMEM_MUST_COPY);
    sb_buf_free(&out);
    MHD_add_response_header(r, "Content-Type", mode == 2 ? "text/plain" : "application/json");
    enum MHD_Result q = MHD_queue_response(c, mode == 3 ? 500 : 400, r);
    MHD_destroy_response(r);
    return q;
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t) {
    (void)cls; (void)c; (void)t;
    sb_buf *b = *con_cls;
    if (b) { sb_buf_free(b); free(b); }
    *con_cls = NULL;
}

/* The secrets and their tell-tale pieces in any form a message could carry them. */
static void no_secret(const char *what, const char *text) {
    const char *pieces[] = {"REFRESHSECRET", "CLIENTSECRET", "IwEBIK", NULL};
    for (int i = 0; pieces[i]; i++)
        if (strstr(text, pieces[i])) { t_fail++; fprintf(stderr, "%s carries '%s': %s\n", what, pieces[i], text); }
        else t_pass++;
}

static void test_echoing_endpoint(void) {
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, echo, NULL,
                                            MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
    T_CHECK(d != NULL);
    if (!d) return;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char lwa[128], logpath[] = "/tmp/sbscrubXXXXXX";
    snprintf(lwa, sizeof lwa, "http://127.0.0.1:%u/auth/o2/token", (unsigned)info->port);
    int logfd = mkstemp(logpath);
    int saved = dup(2);
    for (mode = 0; mode < 4; mode++) {
        char err[SB_ERRLEN] = "";
        sb_spapi_config c = {.endpoint = lwa, .lwa_endpoint = lwa, .client_id = "amzn1.application-oa2-client.x",
                             .client_secret = CLIENT_SECRET, .refresh_token = REFRESH, .connect_timeout_ms = 2000,
                             .timeout_ms = 5000, .max_retries = 1, .retry_base_ms = 1};
        sb_spapi *s = sb_spapi_new(&c, err);
        T_CHECK(s != NULL);
        if (!s) continue;
        sb_search_orders_params p = {.marketplace_ids = (const char *[]){"ATVPDKIKX0DER"}, .nmarketplaces = 1,
                                     .last_updated_after = "2026-11-01T00:00:00Z"};
        sb_buf body;
        sb_buf_init(&body, 1 << 20);
        fflush(stderr);
        dup2(logfd, 2);
        int rc = sb_spapi_search_orders(s, &p, &body, err);
        fflush(stderr);
        dup2(saved, 2);
        T_CHECK(rc != 0);
        T_CONTAINS(err, mode == 3 ? "HTTP 500" : "HTTP 400");
        if (mode == 0 || mode == 3) T_CONTAINS(err, "client_secret=****");
        no_secret("the error", err);
        sb_buf_free(&body);
        sb_spapi_free(s);
    }
    close(saved);
    char *log = NULL;
    size_t len = 0;
    char e[SB_ERRLEN];
    T_EQ(sb_file_read(logpath, &log, &len, 1 << 20, e), 0);
    T_CHECK(log && strstr(log, "LWA token") != NULL);      /* the log lines are there */
    if (log) no_secret("the log", log);
    free(log);
    close(logfd);
    unlink(logpath);
    MHD_stop_daemon(d);
}

/* A log line with text from outside stays one line, without terminal sequences. */
static void test_log_line(void) {
    char path[] = "/tmp/sblogXXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    fflush(stderr);
    dup2(fd, 2);
    sb_warn("rule failed order=%s error=\"%s\"", "111-1", "boom\n2026-12-01T00:00:00Z ERROR forged\033[2J\r");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *log = NULL, e[SB_ERRLEN];
    size_t len = 0;
    T_EQ(sb_file_read(path, &log, &len, 1 << 16, e), 0);
    T_CONTAINS(log, "error=\"boom\\n2026-12-01T00:00:00Z ERROR forged\\x1b[2J\\r\"\n");
    T_EQ(log ? (long)(strchr(log, '\n') - log) : 0, log ? (long)len - 1 : 1);   /* one newline: the end */
    free(log);
    close(fd);
    unlink(path);
}

int main(void) {
    sb_log_set_level(SB_LOG_DEBUG);
    test_cases();
    test_registry();
    test_log_line();
    test_echoing_endpoint();
    return t_done();
}
