/* web.h: the web dashboard and its admin API (libmicrohttpd).
 *
 * One sb_web serves one integration of one database: the one-page app compiled into the
 * binary (engine/web/assets/) at "/", the JSON API under "/api/v1/" and Prometheus text
 * at "/metrics". It listens on 127.0.0.1:8080 unless told otherwise.
 *
 * Every /api/ and /metrics request needs the admin token ("Authorization: Bearer T").
 * The token is 32 random bytes in hex, made at first use in a 0600 file next to the
 * database ("<db>.web-token"); only its SHA-256 is kept in memory and compared in
 * constant time. State-changing requests (POST/PUT/DELETE) are also refused when the
 * browser says they come from another site (Origin not this host, or Sec-Fetch-Site
 * cross-site/same-site); no CORS header is ever sent. No response carries a secret:
 * credentials are shown masked.
 *
 * Each handler borrows one SQLite connection from a small pool (one per server thread,
 * checked out under a mutex), so connections are never shared between threads. */
#ifndef SB_WEB_H
#define SB_WEB_H
#include <stdint.h>
#include "spapi/spapi.h"

#define SB_WEB_DEFAULT_LISTEN "127.0.0.1:8080"
#define SB_WEB_TOKEN_HEX 64
/* Connections: all of them, from one client address, and how long one may sit idle. One
 * local process holding every connection open must not lock the dashboard for others. */
#define SB_WEB_MAX_CONNECTIONS 256
#define SB_WEB_MAX_PER_CLIENT 32
#define SB_WEB_IDLE_TIMEOUT_S 10

typedef struct sb_web sb_web;

typedef struct sb_web_options {
    const char *db_path;        /* required; the database must exist (sellerbridge init) */
    const char *listen;         /* "HOST:PORT" (IPv4 or a name); NULL = 127.0.0.1:8080;
                                   port 0 = any free port (tests) */
    const char *integration;    /* NULL = the only integration (an error names the choices) */
    const char *token_file;     /* NULL = "<db_path>.web-token" */
    int threads;                /* server threads and pooled connections; 0 = 4 */
    int idle_timeout_s;         /* 0 = SB_WEB_IDLE_TIMEOUT_S */
    int per_client_limit;       /* 0 = SB_WEB_MAX_PER_CLIENT */
    /* Optional: start a job now (POST /api/v1/jobs/orders/run). NULL = the server runs
     * sb_sync_orders itself in a worker thread, holding the engine lock (409 when another
     * engine holds it). `sellerbridge run` passes its own so its scheduler does the run. */
    int (*run_job)(void *ud, const char *job, char *err);
    void *run_job_ud;
    /* Optional: a live SP-API client whose counters /metrics adds (not owned). */
    sb_spapi *api;
} sb_web_options;

/* Starts the server (its own threads; returns at once). On failure *out is NULL and err
 * says why (bad --listen, port in use, no database, no token file). */
int sb_web_start(const sb_web_options *o, sb_web **out, char *err);
/* Stops serving, waits for a running job to finish its page, frees everything. */
void sb_web_stop(sb_web *w);
int sb_web_port(const sb_web *w);
const char *sb_web_url(const sb_web *w);           /* "http://127.0.0.1:8080/" */
const char *sb_web_token_path(const sb_web *w);

/* The admin token file: reads it, or (create set) makes it when missing. token gets the
 * 64 hex digits plus NUL (may be NULL); path gets the file's path. */
int sb_web_token(const char *db_path, const char *token_file, int create,
                 char token[SB_WEB_TOKEN_HEX + 1], char *path, size_t pathlen, char *err);

#endif
