/* store/rows.c: the row loops of the read-only documents' statements (see store/rows.h):
 * each column taken with the type SQLite gives it, and the end of every loop checked. */
#include <stddef.h>
#include "core/util.h"
#include "store/rows.h"
#include "store/store_int.h"

int sb_store_rows_prepare(sb_store *s, const char *sql, sqlite3_stmt **st, const char *what, char *err) {
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return sb_store_error(s, what, err);
    }
    return 0;
}

static void take(sqlite3_stmt *st, sb_store_row *r) {
    int n = sqlite3_column_count(st);
    r->n = n < SB_STORE_ROW_MAX ? n : SB_STORE_ROW_MAX;
    for (int i = 0; i < r->n; i++) {
        sb_store_value *v = &r->v[i];
        r->name[i] = sqlite3_column_name(st, i);
        *v = (sb_store_value){.type = SB_VAL_NULL};
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER: v->type = SB_VAL_INT; v->i = sqlite3_column_int64(st, i); break;
        case SQLITE_FLOAT: v->type = SB_VAL_REAL; v->d = sqlite3_column_double(st, i); break;
        case SQLITE_NULL: break;
        default: v->type = SB_VAL_TEXT; v->text = (const char *)sqlite3_column_text(st, i);
                 if (!v->text) v->type = SB_VAL_NULL;    /* out of memory reading it */
        }
    }
}

int sb_store_rows_each(sb_store *s, sqlite3_stmt *st, sb_store_row_fn fn, void *ctx, const char *what, char *err) {
    sb_store_row r;
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        take(st, &r);
        if ((rc = fn(ctx, &r))) return rc;
    }
    return step == SQLITE_DONE ? 0 : sb_store_error(s, what, err);
}

int sb_store_rows_counts(sb_store *s, sqlite3_stmt *st, sb_store_count_fn fn, void *ctx, const char *what, char *err) {
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1)))) return rc;
    return step == SQLITE_DONE ? 0 : sb_store_error(s, what, err);
}

int sb_store_rows_count(sb_store *s, sqlite3_stmt *st, long *n, const char *what, char *err) {
    *n = 0;
    if (sqlite3_step(st) != SQLITE_ROW) return sb_store_error(s, what, err);
    *n = (long)sqlite3_column_int64(st, 0);
    return 0;
}
