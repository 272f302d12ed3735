/* views.h: the documents both front ends show, each built once from the database.
 *
 * A document is named (orders, order, explain, attention, jobs, outbox, stock, settings,
 * setting) and takes an optional id (the order, the setting) and query arguments by name
 * (stage, limit, ...). sb_view_build() writes it as compact JSON with sb_jw; the web API
 * answers it as the body of GET /api/v1/<...> and the CLI's --json prints exactly those
 * bytes plus a newline, and the CLI's tables are drawn from the same document. An error
 * is a document too (sb_view_error_doc): {"error": message, "code": name}, the shape the
 * web API answers for every error.
 *
 * Adding a document: write `static int build_x(const sb_view_ctx *c, const char *id,
 * const sb_view_args *a, sb_jw *jw, char *err)` in a views_*.c file, add a row to docs[]
 * in views.c (name, the arguments it takes, whether it needs an id), a route in
 * engine/web/web_api.c (sb_web_view) and a command in engine/cli that calls
 * sb_cli_view(). The argument names are the web's query names; the CLI takes them as
 * --NAME VALUE. */
#ifndef SB_VIEWS_H
#define SB_VIEWS_H
#include <stdint.h>
#include "core/util.h"
#include "json/json.h"

/* the store's connection; a document's rows come from its typed reads (store/listing.h,
 * store/reports.h), so the documents need no SQLite type */
typedef struct sb_store sb_store;

#define SB_VIEW_MAX_ARGS 16
/* A paged document counts its rows up to this many past its offset: "total" is exact
 * below it, else "total_capped" is true and the total is at least that (counting all of
 * a million orders would cost a second a request). */
#define SB_VIEW_COUNT_CAP 10000

typedef struct sb_view_args {
    int n;
    struct { const char *name, *value; } a[SB_VIEW_MAX_ARGS];
} sb_view_args;

/* The web server's run-now worker, for the jobs document (the CLI has none: idle). */
typedef struct sb_view_run_now {
    int running;
    const char *job, *started, *finished, *error;
    const char *result;         /* JSON object text, or NULL */
} sb_view_run_now;

typedef struct sb_view_ctx {
    sb_store *s;                /* borrowed */
    int64_t integ;
    const char *integ_name;
    const char *db_path;        /* for the key that decrypts the credentials (masked) */
    const sb_view_run_now *run_now;   /* NULL: no worker */
    const char *arg_prefix;     /* how an argument is named in messages: "" (web), "--" (CLI) */
} sb_view_ctx;

/* Adds name=value (borrowed); SB_EINVAL past SB_VIEW_MAX_ARGS. */
int sb_view_args_add(sb_view_args *a, const char *name, const char *value, char *err);
const char *sb_view_args_get(const sb_view_args *a, const char *name);

/* Builds document `doc` (id: the order or setting, NULL when it takes none) into out
 * (appended). 0, or: SB_ENOTFOUND (no such document, order or setting), SB_EINVAL (a bad
 * argument: the message names it, the value and what is allowed), SB_EIO (the database),
 * SB_ENOMEM; err says which. On error out may hold part of a document. */
int sb_view_build(const sb_view_ctx *c, const char *doc, const char *id, const sb_view_args *a,
                  sb_buf *out, char *err);
/* 1 when doc is a document and takes argument name (the CLI refuses other options). */
int sb_view_takes(const char *doc, const char *name);

/* The error document {"error": msg, "code": code} (appended to out). */
void sb_view_error_doc(sb_buf *out, const char *code, const char *msg);
/* The code name of an sb_status: invalid, not_found, busy, rule, amazon, io, ... */
const char *sb_view_code_of(int rc);

/* A setting's value as typed JSON (bool, number, list) from its stored text; the web's
 * routing document uses it too. */
struct sb_setting_def;
void sb_view_setting_value(sb_jw *jw, const struct sb_setting_def *d, const char *v);
/* {"branches": [...], "groups": [...], "gl_accounts": [...]} under key "choices". */
int sb_view_choices(const sb_view_ctx *c, sb_jw *jw, char *err);

#endif
