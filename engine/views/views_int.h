/* views_int.h: what the document builders (views_orders.c, views_status.c) share with the
 * table of documents (views.c): typed columns, argument checks, row loops that check
 * their end code. */
#ifndef SB_VIEWS_INT_H
#define SB_VIEWS_INT_H
#include "views/views.h"

typedef int (*sb_view_fn)(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);

/* views_orders.c */
int sb_view_orders(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_order(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_explain(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_attention(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
/* views_products.c */
int sb_view_products(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_aliases(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
/* views_status.c */
int sb_view_summary(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_dispatch(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_orders_per_day(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_sync_per_hour(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_notifications(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_jobs(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_outbox(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_stock(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_settings(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);
int sb_view_setting(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err);

/* Column i of the current row as a typed JSON value under key. */
void sb_vw_col(sb_jw *jw, const char *key, sqlite3_stmt *st, int i);
/* Every column of the current row under its SQL name. */
void sb_vw_row(sb_jw *jw, sqlite3_stmt *st);
/* A stored JSON text: raw when it parses, else as a string, NULL as null. */
void sb_vw_json_text(sb_jw *jw, const char *text);
/* Writes every row of st as an object (sb_vw_row) into the open array; 0 or SB_EIO
 * when the loop ends in anything but SQLITE_DONE. */
int sb_vw_rows(const sb_view_ctx *c, sqlite3_stmt *st, sb_jw *jw, const char *what, char *err);
/* Argument `name` as a whole number in lo..hi, dflt when absent or empty; SB_EINVAL
 * naming it, the value and the range otherwise. */
int sb_vw_arg_long(const sb_view_ctx *c, const sb_view_args *a, const char *name, long dflt, long lo, long hi,
                   long *out, char *err);
/* Argument `name` as one of allowed (NULL-terminated); NULL when absent or empty. */
int sb_vw_arg_enum(const sb_view_ctx *c, const sb_view_args *a, const char *name, const char *const *allowed,
                   const char **out, char *err);
/* limit, page and offset into limit and offset (offset wins over page). */
int sb_vw_paging(const sb_view_ctx *c, const sb_view_args *a, long dflt, long max, long *limit, long *offset,
                 char *err);
/* A page of a paged document inside its open object: "page", "limit", "offset", "total",
 * "total_capped", the rows of st under key (sb_vw_rows), "has_more". The total comes
 * from a count statement "SELECT COUNT(*) FROM (SELECT 1 ... LIMIT cap)" bound with
 * sb_vw_count_cap(offset). */
int sb_vw_page(const sb_view_ctx *c, sqlite3_stmt *st, sb_jw *jw, const char *key, long limit, long offset, long total,
               char *err);
long sb_vw_count_cap(long offset);
/* Prepares sql on the store; SB_EIO with "what: message". */
int sb_vw_prepare(const sb_view_ctx *c, const char *sql, sqlite3_stmt **st, const char *what, char *err);
/* SELECT COUNT(*)-like statement: its first column, or SB_EIO. */
int sb_vw_count(const sb_view_ctx *c, sqlite3_stmt *st, long *n, const char *what, char *err);

extern const char *const sb_vw_stages[];

#endif
