/* views_int.h: what the document builders (views_orders.c, views_status.c,
 * views_products.c) share with the table of documents (views.c): the store's typed
 * values as JSON, argument checks, the keys of a page. */
#ifndef SB_VIEWS_INT_H
#define SB_VIEWS_INT_H
#include "store/rows.h"
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

/* A stored value as JSON: integer, number, null or string. */
void sb_vw_value(sb_jw *jw, const sb_store_value *v);
/* Column i of row under key. */
void sb_vw_col(sb_jw *jw, const char *key, const sb_store_row *r, int i);
/* Every column of row under its name. */
void sb_vw_row(sb_jw *jw, const sb_store_row *r);
/* A row callback (ctx the sb_jw) writing the row as an object into the open array. */
int sb_vw_obj(void *jw, const sb_store_row *r);
/* A stored JSON text: raw when it parses, else as a string, NULL as null. */
void sb_vw_json_text(sb_jw *jw, const char *text);
/* The text of a text value, else NULL. */
const char *sb_vw_text(const sb_store_value *v);
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
/* A page of a paged document inside its open object: sb_vw_page_begin writes "page",
 * "limit", "offset", "total", "total_capped" and opens the array of rows under key;
 * sb_vw_page_end closes it and writes "has_more". The total is counted up to
 * sb_vw_count_cap(offset). */
void sb_vw_page_begin(sb_jw *jw, const char *key, long limit, long offset, long total);
void sb_vw_page_end(sb_jw *jw, long limit, long offset, long total);
long sb_vw_count_cap(long offset);

extern const char *const sb_vw_stages[];

#endif
