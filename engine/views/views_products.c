/* views_products.c: the product documents: the products (for the dashboard's product
 * picker, with the Amazon SKUs linked to each) and the SKU aliases (store/aliases.h),
 * each paged with a total like every list. The aliases are the business's, shared by
 * every integration; the orders still waiting on a SKU are counted within the
 * integration asked about. The SQL is the store's (sb_store_aliases, sb_store_products). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/aliases.h"
#include "views/views_int.h"

static void kstr_or_null(sb_jw *jw, const char *k, const char *v, int has) {
    if (has) sb_jw_kstr(jw, k, v);
    else { sb_jw_key(jw, k); sb_jw_null(jw); }
}

int sb_view_products(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    (void)id;
    long limit, offset, total = 0;
    const char *search = sb_view_args_get(a, "search");
    int rc = sb_vw_paging(c, a, 50, 500, &limit, &offset, err);
    if (rc) return rc;
    if (search && !*search) search = NULL;
    if (search && strlen(search) > 200)
        return sb_seterr(err, SB_EINVAL, "%ssearch: longer than 200 characters", c->arg_prefix ? c->arg_prefix : "");
    sb_product_row *rows = NULL;
    int n = 0;
    if ((rc = sb_store_products(c->s, search, limit, offset, SB_VIEW_COUNT_CAP, &rows, &n, &total, err))) return rc;
    sb_jw_obj(jw);
    sb_vw_page_begin(jw, "products", limit, offset, total);
    for (int i = 0; i < n; i++) {
        sb_jw_obj(jw);
        sb_jw_kstr(jw, "sku", rows[i].sku);
        kstr_or_null(jw, "name", rows[i].name, rows[i].has_name);
        kstr_or_null(jw, "asin", rows[i].asin, rows[i].has_asin);
        sb_jw_kstr(jw, "type", rows[i].type);
        kstr_or_null(jw, "aliases", rows[i].aliases, rows[i].has_aliases);
        sb_jw_end_obj(jw);
    }
    sb_vw_page_end(jw, limit, offset, total);
    sb_jw_end_obj(jw);
    free(rows);
    return 0;
}

int sb_view_aliases(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    (void)id;
    long limit, offset, total = 0;
    int rc = sb_vw_paging(c, a, 50, 500, &limit, &offset, err);
    if (rc) return rc;
    sb_alias_row *rows = NULL;
    int n = 0;
    if ((rc = sb_store_aliases(c->s, c->integ, limit, offset, SB_VIEW_COUNT_CAP, &rows, &n, &total, err))) return rc;
    sb_jw_obj(jw);
    sb_vw_page_begin(jw, "aliases", limit, offset, total);
    for (int i = 0; i < n; i++) {
        sb_jw_obj(jw);
        sb_jw_kstr(jw, "sku", rows[i].sku);
        sb_jw_kstr(jw, "product", rows[i].product);
        kstr_or_null(jw, "name", rows[i].name, rows[i].has_name);
        sb_jw_kstr(jw, "linked_at", rows[i].linked_at);
        sb_jw_kint(jw, "waiting", rows[i].waiting);
        sb_jw_end_obj(jw);
    }
    sb_vw_page_end(jw, limit, offset, total);
    sb_jw_end_obj(jw);
    free(rows);
    return 0;
}
