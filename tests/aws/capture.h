/* capture.h: a loopback HTTP server for the SQS tests (libmicrohttpd on 127.0.0.1): it
 * keeps the last request whole (method, path, headers in the order sent, body) and
 * answers with the status, Content-Type and body the test set. Header-only, like t.h. */
#ifndef SB_TEST_AWS_CAPTURE_H
#define SB_TEST_AWS_CAPTURE_H
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <strings.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cap_server {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    /* the answer */
    int status;
    char ctype[64];
    char *answer;
    /* the last request */
    char method[16], path[256];
    char headers[8192];              /* "name: value\n" each, as received */
    char *body; size_t body_len;
    int requests;
} cap_server;

typedef struct cap_conn { char *b; size_t n; int started; } cap_conn;

static enum MHD_Result cap_hdr(void *cls, enum MHD_ValueKind kind, const char *k, const char *v) {
    cap_server *s = cls;
    size_t l = strlen(s->headers);
    snprintf(s->headers + l, sizeof s->headers - l, "%s: %s\n", k, v ? v : "");
    return MHD_YES;
}

static enum MHD_Result cap_on(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *ver,
                              const char *up, size_t *up_size, void **cc) {
    cap_server *s = cls;
    cap_conn *k = *cc;
    if (!k) {
        if (!(k = calloc(1, sizeof *k))) return MHD_NO;
        *cc = k;
        return MHD_YES;
    }
    if (*up_size) {
        char *nb = realloc(k->b, k->n + *up_size + 1);
        if (!nb) return MHD_NO;
        memcpy(nb + k->n, up, *up_size);
        k->b = nb;
        k->n += *up_size;
        k->b[k->n] = '\0';
        *up_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&s->mu);
    snprintf(s->method, sizeof s->method, "%s", method);
    snprintf(s->path, sizeof s->path, "%s", url);
    s->headers[0] = '\0';
    MHD_get_connection_values(c, MHD_HEADER_KIND, cap_hdr, s);
    free(s->body);
    s->body = k->b ? k->b : strdup("");
    s->body_len = k->n;
    k->b = NULL;
    s->requests++;
    const char *a = s->answer ? s->answer : "";
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(a), (void *)a, MHD_RESPMEM_MUST_COPY);
    if (s->ctype[0]) MHD_add_response_header(r, "Content-Type", s->ctype);
    int st = s->status;
    pthread_mutex_unlock(&s->mu);
    enum MHD_Result rr = MHD_queue_response(c, (unsigned)st, r);
    MHD_destroy_response(r);
    return rr;
}

static void cap_done(void *cls, struct MHD_Connection *c, void **cc, enum MHD_RequestTerminationCode t) {
    cap_conn *k = *cc;
    if (k) { free(k->b); free(k); }
    *cc = NULL;
}

static inline int cap_start(cap_server *s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->status = 200;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, cap_on, s, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, cap_done, s, MHD_OPTION_END);
    if (!s->d) return -1;
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = i ? i->port : 0;
    return 0;
}

/* The answer to the next requests (copied). */
static inline void cap_answer(cap_server *s, int status, const char *ctype, const char *body) {
    pthread_mutex_lock(&s->mu);
    s->status = status;
    snprintf(s->ctype, sizeof s->ctype, "%s", ctype ? ctype : "");
    free(s->answer);
    s->answer = body ? strdup(body) : NULL;
    pthread_mutex_unlock(&s->mu);
}

static inline void cap_stop(cap_server *s) {
    if (s->d) MHD_stop_daemon(s->d);
    free(s->answer);
    free(s->body);
    pthread_mutex_destroy(&s->mu);
}

/* The value of header name (case-insensitive) in the last request, copied to out. */
static inline int cap_header(cap_server *s, const char *name, char *out, size_t n) {
    size_t l = strlen(name);
    out[0] = '\0';
    for (const char *p = s->headers; *p;) {
        const char *e = strchr(p, '\n');
        if (!e) break;
        if (!strncasecmp(p, name, l) && p[l] == ':') {
            const char *v = p + l + 2;
            snprintf(out, n, "%.*s", (int)(e - v), v);
            return 0;
        }
        p = e + 1;
    }
    return -1;
}

#endif
