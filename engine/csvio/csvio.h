/* csvio.h: master data in and out as CSV (libcsv): branches, products, BOMs, stock
 * levels, customers, customer groups, GL accounts and open orders with ETD. Columns are
 * matched by header name; a file is imported in one transaction or not at all, and every
 * bad row is reported as "file:line: column 'x': reason". */
#ifndef SB_CSVIO_H
#define SB_CSVIO_H
#include <stdint.h>
#include <stdio.h>
#include "store/store.h"

#define SB_CSV_MAX_ERRORS 20
#define SB_CSV_MAX_FIELD 65536      /* bytes in one field: a longer one refuses the file */

/* A cell a spreadsheet would run as a formula starts with one of these (OWASP "CSV
 * injection"): export writes such a cell with a leading ' (and one more ' in front of
 * ' ... ' followed by one of them), and import takes exactly that ' off again, so an
 * export imports unchanged. */
#define SB_CSV_FORMULA_CHARS "=+-@\t\r"

/* The kinds, NULL-terminated, and a kind's columns as "a,b,c" (required ones with *). */
extern const char *const sb_csv_kinds[];
int sb_csv_describe(const char *kind, char *out, size_t outlen);

typedef struct sb_csv_result {
    long rows;                  /* data rows read */
    long inserted, updated;
    int nerrors;                /* > 0: nothing was imported */
    char errors[SB_CSV_MAX_ERRORS][300];
    int more_errors;            /* errors beyond the ones kept */
} sb_csv_result;

/* Imports path as kind (label names the file in messages; NULL = path). Returns 0, or
 * SB_EINVAL with res->errors filled (and err summarising), or another negative code. */
int sb_csv_import(sb_store *s, int64_t integ, const char *kind, const char *path,
                  sb_csv_result *res, char *err);
int sb_csv_import_mem(sb_store *s, int64_t integ, const char *kind, const char *label,
                      const char *data, size_t len, sb_csv_result *res, char *err);
/* Writes kind as CSV with a header row, formula cells neutralised (above). */
int sb_csv_export(sb_store *s, int64_t integ, const char *kind, FILE *out, char *err);

#endif
