/* store/invoices.c: the SQL of batch invoice numbers (see store/invoices.h). A batch walks the orders to number while it numbers them, one
 * UPDATE of the order and one of the counter each, inside its one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "store/invoices.h"
#include "store/store_int.h"

static int number(sb_store *s, int64_t integ, const char *until, const char *payment, const char *date, long *n,
                  char *err) {
    sqlite3_stmt *st = NULL, *u = NULL, *next = NULL;
    int rc = sb_store_prepare(s, "SELECT id FROM sales_orders WHERE integration_id = ?1 AND source = 'amazon' "
                                 "AND invoice_no IS NULL AND stage NOT IN ('cancelled','rule_error','rejected') "
                                 "AND (?2 IS NULL OR created_time <= ?2) AND (?3 IS NULL OR payment_type = ?3) "
                                 "ORDER BY created_time, order_ref, split_no", &st, err), step = SQLITE_DONE;
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    if (until) sqlite3_bind_text(st, 2, until, -1, SQLITE_STATIC);
    if (payment) sqlite3_bind_text(st, 3, payment, -1, SQLITE_STATIC);
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!u) {               /* the writes, once there is an order to number */
            rc = sb_store_prepare(s, "UPDATE sales_orders SET invoice_no = printf('INV-%06d', "
                                     "(SELECT next_invoice_no FROM integrations WHERE id = ?2)), invoice_date = ?3 "
                                     "WHERE id = ?1", &u, err);
            if (!rc) rc = sb_store_prepare(s, "UPDATE integrations SET next_invoice_no = next_invoice_no + 1 WHERE id = ?1",
                                           &next, err);
            if (rc) break;
            sqlite3_bind_int64(u, 2, integ);
            sqlite3_bind_text(u, 3, date, -1, SQLITE_STATIC);
            sqlite3_bind_int64(next, 1, integ);
        }
        sqlite3_reset(u);
        sqlite3_bind_int64(u, 1, sqlite3_column_int64(st, 0));
        if (sqlite3_step(u) != SQLITE_DONE) { rc = sb_store_error(s, "numbering invoice", err); break; }
        sqlite3_reset(next);
        if (sqlite3_step(next) != SQLITE_DONE) { rc = sb_store_error(s, "numbering invoice", err); break; }
        (*n)++;
    }
    if (!rc && step != SQLITE_DONE) rc = sb_store_error(s, "reading the orders to invoice", err);
    sqlite3_finalize(st);
    sqlite3_finalize(u);
    sqlite3_finalize(next);
    return rc;
}

/* The first and last of the n numbers just given. */
static int range(sb_store *s, int64_t integ, long n, char *first, char *last, size_t len, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "SELECT printf('INV-%06d', next_invoice_no - ?2), printf('INV-%06d', next_invoice_no - 1) "
                                 "FROM integrations WHERE id = ?1", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_int64(st, 2, n);
    if (sqlite3_step(st) == SQLITE_ROW) {
        sb_store_col_text(st, 0, first, len);
        sb_store_col_text(st, 1, last, len);
    } else rc = sb_store_error(s, "reading the invoice numbers given", err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_invoices_number(sb_store *s, int64_t integ, const char *until, const char *payment, const char *date,
                             long *n, char *first, char *last, size_t len, char *err) {
    *n = 0;
    first[0] = last[0] = '\0';
    int rc = sb_store_begin(s, err);
    if (rc) return rc;
    rc = number(s, integ, until, payment, date, n, err);
    if (!rc && *n) rc = range(s, integ, *n, first, last, len, err);
    if (rc) {
        sb_store_rollback(s);
        *n = 0;
        first[0] = last[0] = '\0';
        return rc;
    }
    return sb_store_commit(s, err);
}
