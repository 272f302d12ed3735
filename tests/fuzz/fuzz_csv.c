/* fuzz_csv.c: CSV import (sb_csv_import_mem). The first byte picks the kind (branches,
 * products, customers, ...), the rest is the file. It runs against an in-memory
 * database holding the example master data, put back after every input. */
#include "csvio/csvio.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t integ;
    sb_store *s = sb_fuzz_db(&integ);
    int nkinds = 0;
    while (sb_csv_kinds[nkinds]) nkinds++;
    if (size < 1 || !nkinds) return 0;
    const char *kind = sb_csv_kinds[data[0] % nkinds];
    sb_csv_result res;
    char err[SB_ERRLEN];
    if (sb_csv_import_mem(s, integ, kind, "fuzz.csv", (const char *)data + 1, size - 1, &res, err) == 0)
        sb_fuzz_db_reset();
    return 0;
}
