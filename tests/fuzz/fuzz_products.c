/* fuzz_products.c: the listings report parser (sb_products_import_tsv). The first byte
 * picks the marketplace (a US one reads dates month first, a UK one day first), the rest
 * is the tab-separated report. One engine over an in-memory database with the example
 * products; the database is put back after every input that imported something. */
#include <stdlib.h>
#include "fuzz.h"
#include "sync/engine.h"
#include "sync/products.h"

static sb_engine *engine;

static void done(void) {
    sb_engine_close(engine);
    engine = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t integ;
    sb_store *s = sb_fuzz_db(&integ);
    char err[SB_ERRLEN];
    if (!engine) {
        if (sb_engine_open(s, ":memory:", integ, &engine, err)) abort();
        sb_fuzz_atexit(done);
    }
    if (size < 1) return 0;
    const char *mp = data[0] & 1 ? "ATVPDKIKX0DER" : "A1F83G8C2ARO7P";
    sb_products_result res;
    if (sb_products_import_tsv(engine, (const char *)data + 1, size - 1, mp, &res, err) == 0)
        sb_fuzz_db_reset();
    return 0;
}
