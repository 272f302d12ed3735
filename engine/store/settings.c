/* store/settings.c: the settings table's rows (see store/settings.h). */
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "store/settings.h"
#include "store/store_int.h"

int sb_store_setting_put(sb_store *s, int64_t integ, const char *name, const char *value, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "INSERT INTO settings(integration_id, name, value) VALUES (?,?,?) "
                                 "ON CONFLICT(integration_id, name) DO UPDATE SET value = excluded.value, "
                                 "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, name, err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_setting_delete(sb_store *s, int64_t integ, const char *name, char *err) {
    return sb_store_run_named(s, "DELETE FROM settings WHERE integration_id = ?1 AND name = ?2", integ, name, name, err);
}

int sb_store_setting_get(sb_store *s, int64_t integ, const char *name, char **value, char *err) {
    static const char sql[] = "SELECT value FROM settings WHERE integration_id = ? AND name = ?";
    sqlite3_stmt *st;
    *value = NULL;
    /* read for every setting each time an integration is opened: prepared once */
    int rc = sb_store_cached(s, sql, &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (!(*value = strdup(v ? v : ""))) rc = sb_seterr(err, SB_ENOMEM, "%s: out of memory", name);
    } else if (step != SQLITE_DONE) {
        rc = sb_store_error(s, name, err);
    }
    sqlite3_reset(st);
    return rc;
}
