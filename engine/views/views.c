/* views.c: the table of documents, their arguments, the error document, and the helpers
 * every builder uses (typed columns, checked row loops, checked arguments).
 *
 * The one idea: a document is a function of (store, integration, id, arguments) only, so
 * the web API and the CLI, calling the same row of docs[] with the same arguments, get
 * the same bytes. Nothing here knows about HTTP or argv. The SQL of the documents is the
 * store's (store/listing.h, store/reports.h): rows come as typed values, and a query that
 * fails is an error with SQLite's cause, never a short list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "views/views_int.h"

const char *const sb_vw_stages[] = {"open", "needs_attention", "rule_error", "rejected", "dispatched", "cancelled", NULL};

static const struct {
    const char *name;
    sb_view_fn fn;
    int needs_id;
    const char *args;           /* the arguments it takes, space-separated */
} docs[] = {
    {"orders", sb_view_orders, 0, "stage status search from to limit page offset"},
    {"order", sb_view_order, 1, ""},
    {"explain", sb_view_explain, 1, ""},
    {"attention", sb_view_attention, 0, "reason sku limit page offset"},
    {"summary", sb_view_summary, 0, ""},          /* web only so far (the runtime's status will use it) */
    {"dispatch", sb_view_dispatch, 0, "limit"},   /* web only so far */
    {"orders_per_day", sb_view_orders_per_day, 0, ""},   /* the dashboard's charts */
    {"sync_per_hour", sb_view_sync_per_hour, 0, ""},
    {"jobs", sb_view_jobs, 0, ""},
    {"notifications", sb_view_notifications, 0, ""},   /* notifications status */
    {"outbox", sb_view_outbox, 0, "all limit page offset"},
    {"stock", sb_view_stock, 0, "errors limit page offset"},
    {"products", sb_view_products, 0, "search limit page offset"},
    {"aliases", sb_view_aliases, 0, "limit page offset"},
    {"settings", sb_view_settings, 0, ""},
    {"setting", sb_view_setting, 1, ""},
};
#define NDOCS (int)(sizeof docs / sizeof *docs)

static int find_doc(const char *name) {
    for (int i = 0; i < NDOCS; i++)
        if (!strcmp(docs[i].name, name)) return i;
    return -1;
}

int sb_view_takes(const char *doc, const char *name) {
    int d = find_doc(doc);
    if (d < 0 || !name || !*name) return 0;
    size_t n = strlen(name);
    for (const char *p = docs[d].args; (p = strstr(p, name)); p += n)
        if ((p == docs[d].args || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
    return 0;
}

int sb_view_args_add(sb_view_args *a, const char *name, const char *value, char *err) {
    if (a->n >= SB_VIEW_MAX_ARGS) return sb_seterr(err, SB_EINVAL, "more than %d arguments", SB_VIEW_MAX_ARGS);
    a->a[a->n].name = name;
    a->a[a->n].value = value;
    a->n++;
    return 0;
}

const char *sb_view_args_get(const sb_view_args *a, const char *name) {
    if (!a) return NULL;
    for (int i = a->n - 1; i >= 0; i--)            /* the last one given wins */
        if (!strcmp(a->a[i].name, name)) return a->a[i].value;
    return NULL;
}

int sb_view_build(const sb_view_ctx *c, const char *doc, const char *id, const sb_view_args *a, sb_buf *out,
                  char *err) {
    int d = find_doc(doc);
    if (d < 0) return sb_seterr(err, SB_ENOTFOUND, "no such document '%s'", doc);
    if (docs[d].needs_id && (!id || !*id)) return sb_seterr(err, SB_EINVAL, "the %s document needs an id", doc);
    if (id && strlen(id) > 256) return sb_seterr(err, SB_EINVAL, "id longer than 256 bytes");
    sb_jw jw;
    sb_jw_init(&jw, out);
    int rc = docs[d].fn(c, id, a, &jw, err);
    if (!rc && (rc = sb_jw_error(&jw))) sb_seterr(err, rc, "the %s document is larger than %zu bytes", doc, out->max);
    return rc;
}

const char *sb_view_code_of(int rc) {
    switch (rc) {
    case 0: return "ok";
    case SB_EINVAL: return "invalid";
    case SB_ENOTFOUND: return "not_found";
    case SB_EBUSY: return "busy";
    case SB_ERULE: return "rule";
    case SB_EHTTP: case SB_ETHROTTLED: case SB_EAMBIG: return "amazon";
    case SB_EAUTH: return "auth";
    case SB_EIO: return "io";
    case SB_ESCHEMA: return "schema";
    case SB_ENOMEM: return "too_large";
    case SB_ELATER: return "later";
    case SB_EINTR: return "stopped";
    default: return "failed";
    }
}

void sb_view_error_doc(sb_buf *out, const char *code, const char *msg) {
    sb_jw jw;
    sb_jw_init(&jw, out);
    sb_jw_obj(&jw);
    sb_jw_kstr(&jw, "error", msg);
    sb_jw_kstr(&jw, "code", code);
    sb_jw_end_obj(&jw);
}

/* ---- helpers for the builders ---- */

void sb_vw_value(sb_jw *jw, const sb_store_value *v) {
    switch (v->type) {
    case SB_VAL_INT: sb_jw_int(jw, v->i); break;
    case SB_VAL_REAL: sb_jw_num(jw, v->d); break;
    case SB_VAL_TEXT: sb_jw_str(jw, v->text); break;
    default: sb_jw_null(jw);
    }
}

void sb_vw_col(sb_jw *jw, const char *key, const sb_store_row *r, int i) {
    sb_jw_key(jw, key);
    if (i < r->n) sb_vw_value(jw, &r->v[i]);
    else sb_jw_null(jw);
}

void sb_vw_row(sb_jw *jw, const sb_store_row *r) {
    for (int i = 0; i < r->n; i++) sb_vw_col(jw, r->name[i], r, i);
}

int sb_vw_obj(void *jw, const sb_store_row *r) {
    sb_jw_obj(jw);
    sb_vw_row(jw, r);
    sb_jw_end_obj(jw);
    return 0;
}

const char *sb_vw_text(const sb_store_value *v) { return v->type == SB_VAL_TEXT ? v->text : NULL; }

void sb_vw_json_text(sb_jw *jw, const char *text) {
    if (!text) { sb_jw_null(jw); return; }
    sb_json *j = NULL;
    char err[SB_ERRLEN];
    if (*text && sb_json_parse(text, strlen(text), &j, err) == 0) sb_jw_raw(jw, text, strlen(text));
    else sb_jw_str(jw, text);
    sb_json_free(j);
}

int sb_vw_arg_long(const sb_view_ctx *c, const sb_view_args *a, const char *name, long dflt, long lo, long hi,
                   long *out, char *err) {
    const char *v = sb_view_args_get(a, name);
    *out = dflt;
    if (!v || !*v) return 0;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end || end == v || n < lo || n > hi)
        return sb_seterr(err, SB_EINVAL, "%s%s: '%.64s' is not allowed (allowed: a whole number from %ld to %ld)",
                         c->arg_prefix ? c->arg_prefix : "", name, v, lo, hi);
    *out = n;
    return 0;
}

int sb_vw_arg_enum(const sb_view_ctx *c, const sb_view_args *a, const char *name, const char *const *allowed,
                   const char **out, char *err) {
    const char *v = sb_view_args_get(a, name);
    *out = NULL;
    if (!v || !*v) return 0;
    for (int i = 0; allowed[i]; i++)
        if (!strcmp(allowed[i], v)) { *out = allowed[i]; return 0; }
    char list[512] = "";
    size_t n = 0;
    for (int i = 0; allowed[i] && n < sizeof list; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", allowed[i]);
    return sb_seterr(err, SB_EINVAL, "%s%s: '%.64s' is not allowed (allowed: %s)", c->arg_prefix ? c->arg_prefix : "",
                     name, v, list);
}

int sb_vw_paging(const sb_view_ctx *c, const sb_view_args *a, long dflt, long max, long *limit, long *offset,
                 char *err) {
    long page;
    int rc = sb_vw_arg_long(c, a, "limit", dflt, 1, max, limit, err);
    if (!rc) rc = sb_vw_arg_long(c, a, "page", 1, 1, 1000000000L / max, &page, err);
    if (!rc) rc = sb_vw_arg_long(c, a, "offset", (page - 1) * *limit, 0, 1000000000L, offset, err);
    return rc;
}

void sb_vw_page_begin(sb_jw *jw, const char *key, long limit, long offset, long total) {
    sb_jw_kint(jw, "page", offset / limit + 1);
    sb_jw_kint(jw, "limit", limit);
    sb_jw_kint(jw, "offset", offset);
    sb_jw_kint(jw, "total", total);
    sb_jw_kbool(jw, "total_capped", total >= offset + SB_VIEW_COUNT_CAP);
    sb_jw_key(jw, key);
    sb_jw_arr(jw);
}

void sb_vw_page_end(sb_jw *jw, long limit, long offset, long total) {
    sb_jw_end_arr(jw);
    sb_jw_kbool(jw, "has_more", offset + limit < total);   /* a capped total is past the page */
}

long sb_vw_count_cap(long offset) { return offset + SB_VIEW_COUNT_CAP; }
