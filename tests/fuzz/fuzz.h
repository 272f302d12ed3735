/* fuzz.h: what the fuzz targets share. Each fuzz_*.c defines LLVMFuzzerTestOneInput and
 * sets up its state lazily on the first input, so the same file runs under libFuzzer
 * (SB_FUZZ=ON, clang) and under replay.c (any compiler: feeds every corpus file once,
 * as a ctest). Every target is deterministic: state that an input may change (the
 * in-memory database) is put back before the next input. */
#ifndef SB_FUZZ_H
#define SB_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An in-memory database with one integration ("main") and the master data of
 * examples/data (branches, groups, GL accounts, products, customers, stock), created
 * once; a pristine copy is kept so sb_fuzz_db_reset() can put it back. Aborts on
 * failure (a broken fixture is not a finding). */
sb_store *sb_fuzz_db(int64_t *integ);
void sb_fuzz_db_reset(void);

/* Called by replay.c after the last input, so LeakSanitizer sees only real leaks. Each
 * target registers its own clean-up (at most 4). */
void sb_fuzz_atexit(void (*fn)(void));
void sb_fuzz_cleanup(void);

/* data[0..size) as a NUL-terminated malloc'd copy (aborts when out of memory). */
char *sb_fuzz_cstr(const uint8_t *data, size_t size);

#endif
