/* store/demo.c: the SQL of `sellerbridge demo` (see store/demo.h): its table of the Amazon
 * orders it downloaded. Run once a demo, so the statement is prepared and finalized. */
#include <string.h>
#include "core/util.h"
#include "store/demo.h"
#include "store/store_int.h"

int sb_store_demo_orders(sb_store *s, int64_t integ, int (*cb)(void *ctx, const sb_store_demo_order *o), void *ctx,
                         char *err) {
    static const char sql[] =
        "SELECT order_ref, split_no, stage, COALESCE(amazon_status, ''), COALESCE(branch, ''), COALESCE(invoice_no, ''), "
        "COALESCE(attention_reason, rule_error, '') FROM sales_orders WHERE integration_id = ?1 AND source = 'amazon' "
        "ORDER BY order_ref, split_no";
    sqlite3_stmt *st;
    int step;
    int rc = sb_store_prepare(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        sb_store_demo_order o;
        memset(&o, 0, sizeof o);
        sb_store_col_text(st, 0, o.order_ref, sizeof o.order_ref);
        o.split_no = sqlite3_column_int(st, 1);
        sb_store_col_text(st, 2, o.stage, sizeof o.stage);
        sb_store_col_text(st, 3, o.amazon_status, sizeof o.amazon_status);
        sb_store_col_text(st, 4, o.branch, sizeof o.branch);
        sb_store_col_text(st, 5, o.invoice_no, sizeof o.invoice_no);
        sb_store_col_text(st, 6, o.why, sizeof o.why);
        if ((rc = cb(ctx, &o))) break;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the demo's orders", err);
    sqlite3_finalize(st);
    return rc;
}
