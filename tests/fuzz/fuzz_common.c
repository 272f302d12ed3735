/* fuzz_common.c: the shared fixture of the fuzz targets (see fuzz.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/embed.h"
#include "core/log.h"
#include "csvio/csvio.h"
#include "fuzz.h"
#include "store/store_int.h"

static sb_store *db, *pristine;
static int64_t db_integ;
static void (*cleanups[4])(void);
static int ncleanups;

static void die(const char *what, const char *err) {
    fprintf(stderr, "fuzz fixture: %s: %s\n", what, err);
    abort();
}

static void copy_db(sqlite3 *to, sqlite3 *from) {
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b) die("backup", sqlite3_errmsg(to));
    sqlite3_backup_step(b, -1);
    if (sqlite3_backup_finish(b) != SQLITE_OK) die("backup", sqlite3_errmsg(to));
}

static void close_dbs(void) {
    sb_store_close(db);
    sb_store_close(pristine);
    db = pristine = NULL;
}

sb_store *sb_fuzz_db(int64_t *integ) {
    static const char *const kinds[] = {"branches", "customer_groups", "gl_accounts", "products",
                                        "boms", "customers", "stock", NULL};
    char err[SB_ERRLEN], path[64];
    if (db) { *integ = db_integ; return db; }
    sb_log_set_level(SB_LOG_OFF);
    if (sb_store_open(":memory:", SB_STORE_CREATE, &db, err)) die("open", err);
    if (sb_store_integration_add(db, "main", &db_integ, err)) die("integration", err);
    for (int i = 0; kinds[i]; i++) {
        snprintf(path, sizeof path, "examples/data/%s.csv", kinds[i]);
        const sb_embedded_file *f = sb_embed_find(path);
        sb_csv_result res;
        if (!f) die(path, "not embedded");
        if (sb_csv_import_mem(db, db_integ, kinds[i], path, f->data, f->len, &res, err)) die(path, err);
    }
    if (sb_store_open(":memory:", SB_STORE_CREATE | SB_STORE_NO_MIGRATE, &pristine, err)) die("open", err);
    copy_db(pristine->db, db->db);
    sb_fuzz_atexit(close_dbs);
    *integ = db_integ;
    return db;
}

void sb_fuzz_db_reset(void) {
    if (db) copy_db(db->db, pristine->db);
}

void sb_fuzz_atexit(void (*fn)(void)) {
    if (ncleanups < 4) cleanups[ncleanups++] = fn;
}

void sb_fuzz_cleanup(void) {
    while (ncleanups > 0) cleanups[--ncleanups]();
}

char *sb_fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
