/* store/rows.h: a read-only row as the store hands it to a reader that shows it: each
 * column's name and its value typed as the database holds it (an integer, a real, text or
 * NULL). The documents of engine/views are written from these, so a number stored as an
 * integer stays 2 and a real 2.5, whatever the table declares; the functions that return
 * them (store/listing.h, store/reports.h) name the columns they give.
 *
 * Row loops here tell the end from an error: a step that is neither a row nor the end is
 * SB_EIO "what: SQLite's message", never a short list. */
#ifndef SB_STORE_ROWS_H
#define SB_STORE_ROWS_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

typedef enum { SB_VAL_NULL, SB_VAL_INT, SB_VAL_REAL, SB_VAL_TEXT } sb_store_val_type;
typedef struct sb_store_value {
    sb_store_val_type type;
    int64_t i;
    double d;
    const char *text;           /* SB_VAL_TEXT: the caller's, valid for the call */
} sb_store_value;

#define SB_STORE_ROW_MAX 48     /* columns of a row */

/* One row: n columns, name[i] and v[i]; valid during the callback only. */
typedef struct sb_store_row {
    int n;
    const char *name[SB_STORE_ROW_MAX];
    sb_store_value v[SB_STORE_ROW_MAX];
} sb_store_row;

/* Called for each row; a non-zero return stops the walk and is returned. */
typedef int (*sb_store_row_fn)(void *ctx, const sb_store_row *row);
/* Called with a name (NULL when the column is NULL) and how many rows have it. */
typedef int (*sb_store_count_fn)(void *ctx, const char *name, int64_t n);

#endif
