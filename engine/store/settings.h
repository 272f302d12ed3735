/* store/settings.h: the settings table's rows, one value per (integration, name). What a
 * setting means, its default and its checks stay in engine/settings; this is only the
 * stored text. */
#ifndef SB_STORE_SETTINGS_H
#define SB_STORE_SETTINGS_H
#include <stdint.h>
#include "store/store.h"

/* Inserts or replaces the value. */
int sb_store_setting_put(sb_store *s, int64_t integ, const char *name, const char *value, char *err);
int sb_store_setting_delete(sb_store *s, int64_t integ, const char *name, char *err);
/* *value malloc'd, or NULL with 0 when the setting is not stored; SB_EIO when the
 * database cannot be read, never "not stored". */
int sb_store_setting_get(sb_store *s, int64_t integ, const char *name, char **value, char *err);

#endif
