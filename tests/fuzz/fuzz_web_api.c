/* fuzz_web_api.c: the admin API as a client on the wire sees it: the input is one raw
 * HTTP request (request line, path, query string, headers, Authorization, body) sent to
 * the dashboard's own server on a loopback port, where libmicrohttpd parses it and
 * serve() / web_api.c handle it. "@TOKEN@" in the input is replaced by the real admin
 * token, so the fuzzer reaches past the 401. Checked after every input: an answer, when
 * there is one, is an HTTP response; no answer carries the admin token or the key; the
 * server still answers GET /api/v1/summary; the endpoints that receive the credentials
 * are never set to anything but Amazon's hosts. Then the database (the example master
 * data) is put back, after any background job the input started has finished. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "fuzz.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "web/web_int.h"
#include "store/store_int.h"

#define MAX_REQUEST (64 * 1024)
#define MAX_ANSWER (8 << 20)

static sb_web *web;
static sb_store *fix;            /* our own connection to the server's database */
static char dir[] = "/tmp/sbfzwebXXXXXX", dbpath[64], token[SB_WEB_TOKEN_HEX + 1], keyhex[2 * SB_KEY_LEN + 1];

static void stop(void) {
    sb_web_stop(web);
    sb_store_close(fix);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
}

static void copy_db(sqlite3 *to, sqlite3 *from) {
    for (int tries = 0; tries < 200; tries++) {   /* the server's threads may hold a lock */
        sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
        if (!b) abort();
        int rc = sqlite3_backup_step(b, -1);
        sqlite3_backup_finish(b);
        if (rc == SQLITE_DONE) return;
        usleep(5000);
    }
    abort();
}

static void setup(void) {
    char err[SB_ERRLEN], path[4096];
    int64_t integ;
    sb_store *pristine = sb_fuzz_db(&integ);
    if (!mkdtemp(dir)) abort();
    snprintf(dbpath, sizeof dbpath, "%s/f.db", dir);
    if (sb_store_open(dbpath, SB_STORE_CREATE, &fix, err)) { fprintf(stderr, "%s\n", err); abort(); }
    copy_db(fix->db, pristine->db);
    unsigned char key[SB_KEY_LEN];
    if (sb_secrets_key(dbpath, 1, key, err)) abort();
    for (int i = 0; i < SB_KEY_LEN; i++) snprintf(keyhex + 2 * i, 3, "%02x", key[i]);
    /* every input is a new connection from 127.0.0.1, and one the server cannot finish
     * reading stays until its idle time-out: the per-client limit is the global one here */
    sb_web_options o = {.db_path = dbpath, .listen = "127.0.0.1:0", .threads = 2, .idle_timeout_s = 1,
                        .per_client_limit = SB_WEB_MAX_CONNECTIONS};
    if (sb_web_start(&o, &web, err)) { fprintf(stderr, "%s\n", err); abort(); }
    if (sb_web_token(dbpath, NULL, 0, token, path, sizeof path, err)) abort();
    sb_fuzz_atexit(stop);
}

/* 1 once out holds one whole answer: its headers and Content-Length bytes of body (a
 * keep-alive connection stays open after it, so the end of the stream does not come). */
static int answered(const sb_buf *out) {
    if (!out->len) return 0;
    const char *end = memmem(out->data, out->len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - out->data) + 4;
    for (const char *p = out->data; p < end; p++)
        if ((p[0] == '\n') && !strncasecmp(p + 1, "Content-Length:", 15))
            return out->len >= head + strtoul(p + 16, NULL, 10);
    return 0;
}

/* Sends req, reads one answer (or until the server closes, or wait_ms pass without a
 * byte: a request that never ends is answered only by the server's idle time-out) into
 * out. */
static void exchange(const char *req, size_t len, long wait_ms, sb_buf *out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sb_web_port(web))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    struct timeval tv = {.tv_sec = wait_ms / 1000, .tv_usec = (wait_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sb_buf_reset(out);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) abort();   /* the server is gone */
    for (size_t done = 0; done < len;) {
        ssize_t n = send(fd, req + done, len - done, MSG_NOSIGNAL);
        if (n <= 0) break;              /* the server may close on a bad request */
        done += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    char buf[65536];
    ssize_t n;
    while (!answered(out) && (n = recv(fd, buf, sizeof buf, 0)) > 0)
        if (sb_buf_append(out, buf, (size_t)n)) break;
    close(fd);
    if (out->len) sb_buf_append(out, "", 1);
}

static int job_running(void) {
    pthread_mutex_lock(&web->mu);
    int r = web->job_running || web->check_running;
    pthread_mutex_unlock(&web->mu);
    return r;
}

static void check_endpoints(void) {
    static const char *const names[] = {"api.endpoint", "api.lwa_endpoint"};
    char err[SB_ERRLEN];
    for (int i = 0; i < 2; i++) {
        char *v = NULL;
        if (sb_settings_get(fix, 1, names[i], &v, NULL, err)) abort();
        if (!sb_settings_amazon_endpoint(v, NULL, 0)) { fprintf(stderr, "%s set to %s\n", names[i], v); abort(); }
        free(v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!web) setup();
    if (size > MAX_REQUEST) return 0;
    sb_buf req, ans;
    sb_buf_init(&req, 4 * MAX_REQUEST);
    sb_buf_init(&ans, MAX_ANSWER);
    for (size_t i = 0; i < size;) {   /* @TOKEN@ -> the admin token */
        if (size - i >= 7 && !memcmp(data + i, "@TOKEN@", 7)) { sb_buf_append(&req, token, SB_WEB_TOKEN_HEX); i += 7; }
        else sb_buf_append(&req, data + i++, 1);
    }
    if (req.len) exchange(req.data, req.len, 500, &ans);
    if (ans.len && strncmp(ans.data, "HTTP/1.", 7)) { fprintf(stderr, "not an HTTP answer: %.200s\n", ans.data); abort(); }
    /* a secret in the answer that the request did not carry itself (a 404 echoes its path) */
    for (int i = 0; i < 2 && ans.len; i++) {
        const char *secret = i ? keyhex : token;
        if (strstr(ans.data, secret) && !memmem(req.data, req.len, secret, strlen(secret))) {
            fprintf(stderr, "an answer carried a secret\n");
            abort();
        }
    }
    /* still serving */
    char health[256];
    int hl = snprintf(health, sizeof health, "GET /api/v1/summary HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      "Authorization: Bearer %s\r\n\r\n", token);
    exchange(health, (size_t)hl, 10000, &ans);
    if (!ans.len || strncmp(ans.data, "HTTP/1.1 200", 12)) {
        fprintf(stderr, "the server stopped answering: %.300s\n", ans.len ? ans.data : "(nothing)");
        abort();
    }
    check_endpoints();
    /* put the database back once nothing the input started still runs */
    for (int i = 0; i < 2000 && job_running(); i++) usleep(5000);
    int64_t integ;
    copy_db(fix->db, sb_fuzz_db(&integ)->db);
    sb_buf_free(&req);
    sb_buf_free(&ans);
    return 0;
}
