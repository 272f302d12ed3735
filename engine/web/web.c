/* web.c: the dashboard's HTTP server on libmicrohttpd (see web.h): listening, the admin
 * token, the cross-site checks, the embedded page, and the store connection pool.
 *
 * The one idea: every request goes through on_request() -> serve(), which decides in
 * this order: static asset (no token), token (401), cross-site state change (403), then
 * hands /api/v1/... to web_api.c with a pooled connection. Handlers never see a request
 * that failed a check, and never write headers themselves. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "core/embed.h"
#include "core/log.h"
#include "core/scrub.h"
#include "views/views.h"
#include "secrets/secrets.h"
#include "web/web_int.h"

/* ---- the token ---- */

static int is_hex_token(const char *t) {
    if (strlen(t) != SB_WEB_TOKEN_HEX) return 0;
    for (int i = 0; i < SB_WEB_TOKEN_HEX; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f'))) return 0;
    return 1;
}

/* A token file that another user made, or that others may read or change, would let
 * them in: it is refused, not used with a warning. */
static int read_token(const char *path, char token[SB_WEB_TOKEN_HEX + 1], char *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errno == ENOENT ? SB_ENOTFOUND
                       : errno == ELOOP ? sb_seterr(err, SB_EINVAL, "%s: the admin token file is a symbolic link; refused", path)
                       : sb_seterr(err, SB_EIO, "%s: %s", path, strerror(errno));
    struct stat stt = {0};
    if (fstat(fd, &stt) != 0 || !S_ISREG(stt.st_mode) || stt.st_uid != geteuid() || (stt.st_mode & 077)) {
        int mode = (int)(stt.st_mode & 0777), mine = stt.st_uid == geteuid(), reg = S_ISREG(stt.st_mode);
        close(fd);
        if (!reg) return sb_seterr(err, SB_EINVAL, "%s: the admin token file is not a regular file; refused", path);
        if (!mine) return sb_seterr(err, SB_EINVAL, "%s: the admin token file belongs to another user (uid %ld); refused",
                                    path, (long)stt.st_uid);
        return sb_seterr(err, SB_EINVAL, "%s: the admin token file may be read or changed by others (mode %03o); "
                         "refused: delete it to make a new one, or 'chmod 600 %s' if you made it", path, mode, path);
    }
    char buf[SB_WEB_TOKEN_HEX + 8];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) return sb_seterr(err, SB_EIO, "%s: %s", path, strerror(errno));
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = '\0';
    int ok = is_hex_token(buf);
    if (ok) memcpy(token, buf, SB_WEB_TOKEN_HEX + 1);
    OPENSSL_cleanse(buf, sizeof buf);
    if (!ok) return sb_seterr(err, SB_EINVAL, "%s: not an admin token (64 hex digits); delete it to make a new one", path);
    return 0;
}

int sb_web_token(const char *db_path, const char *token_file, int create,
                 char token[SB_WEB_TOKEN_HEX + 1], char *path, size_t pathlen, char *err) {
    char tok[SB_WEB_TOKEN_HEX + 1];
    if (token_file && *token_file) snprintf(path, pathlen, "%s", token_file);
    else snprintf(path, pathlen, "%s.web-token", db_path);
    int rc = read_token(path, tok, err);
    if (rc == SB_ENOTFOUND && create) {
        unsigned char raw[32];
        if (RAND_bytes(raw, sizeof raw) != 1) return sb_seterr(err, SB_EIO, "no random bytes for the admin token");
        for (int i = 0; i < 32; i++) snprintf(tok + 2 * i, 3, "%02x", raw[i]);
        OPENSSL_cleanse(raw, sizeof raw);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 && fchmod(fd, 0600) != 0) sb_warn("cannot chmod the admin token file=%s", path);
        if (fd < 0 && errno == EEXIST) {
            rc = read_token(path, tok, err);          /* another process made it first */
        } else if (fd < 0) {
            rc = sb_seterr(err, SB_EIO, "%s: %s", path, strerror(errno));
        } else {
            char line[SB_WEB_TOKEN_HEX + 2];
            memcpy(line, tok, SB_WEB_TOKEN_HEX);
            line[SB_WEB_TOKEN_HEX] = '\n';
            rc = write(fd, line, SB_WEB_TOKEN_HEX + 1) == SB_WEB_TOKEN_HEX + 1 ? 0
                 : sb_seterr(err, SB_EIO, "%s: %s", path, strerror(errno));
            OPENSSL_cleanse(line, sizeof line);
            if (close(fd) != 0 && !rc) rc = sb_seterr(err, SB_EIO, "%s: %s", path, strerror(errno));
            if (rc) unlink(path);
            else sb_info("admin token created file=%s", path);
        }
    } else if (rc == SB_ENOTFOUND) {
        rc = sb_seterr(err, SB_ENOTFOUND, "%s: no admin token yet (start 'sellerbridge web' once)", path);
    }
    if (!rc && token) memcpy(token, tok, sizeof tok);
    OPENSSL_cleanse(tok, sizeof tok);
    return rc;
}

/* Constant time: both sides are hashed, so neither length nor content leaks. */
static int token_ok(sb_web *w, const char *auth) {
    if (!auth || strncasecmp(auth, "Bearer ", 7)) return 0;
    const char *t = auth + 7;
    while (*t == ' ') t++;
    unsigned char h[32];
    SHA256((const unsigned char *)t, strlen(t), h);
    return CRYPTO_memcmp(h, w->token_hash, sizeof h) == 0;
}

/* ---- small shared helpers ---- */

/* The error document's code for an HTTP status (engine/views names the same codes for an
 * sb_status, so the CLI's --json errors read alike). */
static const char *code_of_status(int status) {
    switch (status) {
    case 400: return "invalid";
    case 401: return "unauthorised";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "busy";
    case 413: return "too_large";
    case 422: return "rule";
    case 502: return "amazon";
    case 503: return "unavailable";
    default: return "failed";
    }
}

int sb_web_error(sb_web_resp *rs, int status, const char *fmt, ...) {
    char msg[SB_ERRLEN * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sb_buf_reset(&rs->body);
    sb_view_error_doc(&rs->body, code_of_status(status), msg);
    rs->status = status;
    rs->ctype = "application/json";
    return status;
}

int sb_web_status_of(int rc) {
    switch (rc) {
    case SB_EINVAL: return 400;
    case SB_ENOTFOUND: return 404;
    case SB_EBUSY: return 409;
    case SB_ERULE: return 422;
    case SB_EHTTP: case SB_ETHROTTLED: case SB_EAUTH: case SB_EAMBIG: return 502;
    default: return 500;
    }
}

const char *sb_web_arg(sb_web_req *rq, const char *name) {
    return MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- the store pool ---- */

static sb_store *pool_get(sb_web *w, char *err) {
    pthread_mutex_lock(&w->mu);
    int i;
    for (;;) {
        for (i = 0; i < w->npool && w->busy[i]; i++) {}
        if (i < w->npool) break;
        pthread_cond_wait(&w->cv, &w->mu);
    }
    w->busy[i] = 1;
    sb_store *s = w->pool[i];
    pthread_mutex_unlock(&w->mu);
    if (!s && sb_store_open(w->db_path, 0, &s, err) == 0) {
        pthread_mutex_lock(&w->mu);
        w->pool[i] = s;
        pthread_mutex_unlock(&w->mu);
    }
    if (!s) {
        pthread_mutex_lock(&w->mu);
        w->busy[i] = 0;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    return s;
}

static void pool_put(sb_web *w, sb_store *s) {
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < w->npool; i++)
        if (w->pool[i] == s) { w->busy[i] = 0; break; }
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* ---- cross-site checks ---- */

/* A state change is refused when the browser says it comes from elsewhere: Sec-Fetch-Site
 * other than same-origin/none, or an Origin whose host:port is not the Host we serve. */
static int cross_site(sb_web_req *rq) {
    const char *sfs = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (sfs && strcasecmp(sfs, "same-origin") && strcasecmp(sfs, "none")) return 1;
    const char *origin = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Origin");
    if (origin) {
        const char *host = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Host");
        if (!host || strncmp(origin, "http://", 7) || strcmp(origin + 7, host)) return 1;
    }
    return 0;
}

/* ---- serving ---- */

static const char *ctype_of(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot) return "application/octet-stream";
    if (!strcmp(dot, ".html")) return "text/html; charset=utf-8";
    if (!strcmp(dot, ".js")) return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css")) return "text/css; charset=utf-8";
    if (!strcmp(dot, ".svg")) return "image/svg+xml";
    if (!strcmp(dot, ".png")) return "image/png";
    return "application/octet-stream";
}

static int serve_asset(const char *url, sb_web_resp *rs) {
    char path[256];
    const char *name = !strcmp(url, "/") || !strcmp(url, "/index.html") ? "index.html" : url + 1;
    if (strchr(name, '/') || strstr(name, "..") || strlen(name) > 100) return 0;
    snprintf(path, sizeof path, "engine/web/assets/%s", name);
    const sb_embedded_file *f = sb_embed_find(path);
    if (!f) return 0;
    sb_buf_append(&rs->body, f->data, f->len);
    rs->asset = 1;
    rs->status = 200;
    rs->ctype = ctype_of(name);
    return 1;
}

static void serve(sb_web_req *rq, const char *url, sb_web_resp *rs) {
    sb_web *w = rq->w;
    const char *m = rq->method;
    int is_get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
    if (is_get && serve_asset(url, rs)) return;
    int api = !strncmp(url, "/api/v1/", 8) || !strcmp(url, "/api/v1");
    int metrics = !strcmp(url, "/metrics");
    if (!api && !metrics) {
        if (!strncmp(url, "/api/", 5)) { sb_web_error(rs, 404, "no such API: %s (this server has /api/v1)", url); return; }
        sb_web_error(rs, 404, "not found: %s", url);
        return;
    }
    if (!token_ok(w, MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Authorization"))) {
        /* no path: where the token lives is for the machine's user, not for whoever asks */
        sb_web_error(rs, 401, "missing or wrong admin token: send 'Authorization: Bearer TOKEN'; on the machine, "
                     "'sellerbridge web token-path' says where the token is");
        return;
    }
    int changes = !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "DELETE") || !strcmp(m, "PATCH");
    if (!is_get && !changes) { sb_web_error(rs, 405, "method %s is not allowed", m); return; }
    if (changes && cross_site(rq)) {
        sb_web_error(rs, 403, "cross-site request refused: state changes are accepted only from this dashboard");
        return;
    }
    if (rq->too_large) { sb_web_error(rs, 413, "request body larger than %u bytes", SB_WEB_MAX_BODY); return; }
    char err[SB_ERRLEN];
    if (changes && rq->body.len) {
        if (sb_json_parse(rq->body.data, rq->body.len, &rq->json, err)) {
            sb_web_error(rs, 400, "request body is not JSON: %s", err);
            return;
        }
    }
    rq->s = pool_get(w, err);
    if (!rq->s) { sb_web_error(rs, 503, "database not available: %s", err); return; }
    if (metrics) {
        if (!is_get) sb_web_error(rs, 405, "/metrics is read-only");
        else sb_web_metrics(w, rq->s, rs);
    } else {
        rq->path = url + 7;
        sb_web_api(rq, rs);
    }
    pool_put(w, rq->s);
    rq->s = NULL;
}

static void req_free(sb_web_req *rq) {
    if (!rq) return;
    sb_buf_free(&rq->body);
    sb_json_free(rq->json);
    free(rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls; (void)c; (void)toe;
    req_free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    sb_web *w = cls;
    sb_web_req *rq = *con_cls;
    (void)version;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq) return MHD_NO;
        rq->w = w;
        rq->c = c;
        rq->method = method;
        sb_buf_init(&rq->body, SB_WEB_MAX_BODY);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_large && sb_buf_append(&rq->body, upload, *upload_size)) rq->too_large = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    sb_web_resp rs = {.status = 500, .ctype = "application/json"};
    sb_buf_init(&rs.body, SB_WEB_MAX_RESPONSE);
    serve(rq, url, &rs);
    /* no answer carries a secret, however it was stored or encoded (assets are ours) */
    if (!rs.asset && rs.body.len && !memchr(rs.body.data, 0, rs.body.len)) {
        sb_scrub_all(rs.body.data);
        rs.body.len = strlen(rs.body.data);
    }
    pthread_mutex_lock(&w->mu);
    w->requests++;
    pthread_mutex_unlock(&w->mu);
    struct MHD_Response *resp = MHD_create_response_from_buffer(rs.body.len, rs.body.data ? rs.body.data : (char *)"",
                                                                MHD_RESPMEM_MUST_COPY);
    sb_buf_free(&rs.body);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", rs.ctype);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (!strncmp(rs.ctype, "text/html", 9))
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    if (rs.status == 401) MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"sellerbridge\"");
    enum MHD_Result r = MHD_queue_response(c, (unsigned)rs.status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* ---- start and stop ---- */

/* The stored credentials go into the scrub registry, so an answer never carries one even
 * when an older version stored it in an error. Without the key there is nothing to add. */
static void register_secrets(sb_web *w) {
    static const char *const names[] = {"lwa.client_secret", "lwa.refresh_token", "lwa.client_id"};
    unsigned char key[SB_KEY_LEN];
    char e[SB_ERRLEN];
    if (sb_secrets_key(w->db_path, 0, key, e)) return;
    for (int i = 0; i < 3; i++)
        if (sb_secrets_get(w->pool[0], w->integ, names[i], &w->secrets[i], key, e) == 0)
            sb_scrub_add(w->secrets[i]);
    OPENSSL_cleanse(key, sizeof key);
}

static int parse_listen(const char *listen, struct sockaddr_in *sa, char *err) {
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host || !colon[1])
        return sb_seterr(err, SB_EINVAL, "--listen '%s' is not HOST:PORT (e.g. 127.0.0.1:8080)", listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return sb_seterr(err, SB_EINVAL, "--listen '%s': port must be 0..65535", listen);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
        if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
            return sb_seterr(err, SB_EINVAL, "--listen '%s': '%s' is not an IPv4 address or a known host name", listen, host);
        sa->sin_addr = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
        freeaddrinfo(ai);
    }
    return 0;
}

int sb_web_start(const sb_web_options *o, sb_web **out, char *err) {
    *out = NULL;
    if (!o || !o->db_path) return sb_seterr(err, SB_EINVAL, "web: no database");
    sb_web *w = calloc(1, sizeof *w);
    if (!w) return sb_seterr(err, SB_ENOMEM, "web: out of memory");
    int rc = 0;
    w->o = *o;
    w->db_path = strdup(o->db_path);
    snprintf(w->listen, sizeof w->listen, "%s", o->listen && *o->listen ? o->listen : SB_WEB_DEFAULT_LISTEN);
    w->o.db_path = w->db_path;
    w->o.listen = w->listen;
    w->o.integration = NULL;
    w->o.token_file = NULL;
    w->npool = o->threads > 0 ? (o->threads > SB_WEB_MAX_THREADS ? SB_WEB_MAX_THREADS : o->threads) : 4;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    char tok[SB_WEB_TOKEN_HEX + 1];
    struct sockaddr_in sa;
    if ((rc = parse_listen(w->listen, &sa, err))) goto fail;
    /* the first connection migrates the schema and resolves the integration */
    if ((rc = sb_store_open(w->db_path, 0, &w->pool[0], err))) goto fail;
    if ((rc = sb_store_integration(w->pool[0], o->integration, &w->integ, w->integ_name, sizeof w->integ_name, err))) goto fail;
    if ((rc = sb_web_token(w->db_path, o->token_file, 1, tok, w->token_path, sizeof w->token_path, err))) goto fail;
    SHA256((const unsigned char *)tok, strlen(tok), w->token_hash);
    OPENSSL_cleanse(tok, sizeof tok);
    register_secrets(w);
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;
    w->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)w->npool,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, w,
                            /* idle connections go after a short time; one client cannot take them all */
                            MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)(o->idle_timeout_s > 0 ? o->idle_timeout_s : SB_WEB_IDLE_TIMEOUT_S),
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)SB_WEB_MAX_CONNECTIONS,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            (unsigned)(o->per_client_limit > 0 ? o->per_client_limit : SB_WEB_MAX_PER_CLIENT),
                            MHD_OPTION_END);
    if (!w->d) { rc = sb_seterr(err, SB_EIO, "web: cannot listen on %s (address in use or not local?)", w->listen); goto fail; }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
    w->port = info ? info->port : ntohs(sa.sin_port);
    char ip[INET_ADDRSTRLEN] = "127.0.0.1";
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
    snprintf(w->url, sizeof w->url, "http://%s:%d/", ip, w->port);
    sb_info("web dashboard listening url=%s integration=%s token_file=%s", w->url, w->integ_name, w->token_path);
    *out = w;
    return 0;
fail:
    sb_web_stop(w);
    return rc;
}

void sb_web_stop(sb_web *w) {
    if (!w) return;
    w->stopping = 1;
    if (w->d) MHD_stop_daemon(w->d);
    sb_web_jobs_stop(w);
    sb_web_rules_stop(w);
    for (int i = 0; i < 3; i++) {
        sb_scrub_remove(w->secrets[i]);
        sb_secrets_wipe(w->secrets[i]);
    }
    for (int i = 0; i < SB_WEB_MAX_THREADS; i++) sb_store_close(w->pool[i]);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    OPENSSL_cleanse(w->token_hash, sizeof w->token_hash);
    free(w->db_path);
    free(w);
}

int sb_web_port(const sb_web *w) { return w->port; }
const char *sb_web_url(const sb_web *w) { return w->url; }
const char *sb_web_token_path(const sb_web *w) { return w->token_path; }
