/* marketplaces.h: Amazon's marketplaces and their regions (REFERENCE.md section 3.2): the
 * one table both `init` and the settings' cross-check read, so an integration's
 * marketplaces are always of its region. */
#ifndef SB_SETTINGS_MARKETPLACES_H
#define SB_SETTINGS_MARKETPLACES_H
#include <stddef.h>
#include <stdint.h>

/* The region ("na", "eu", "fe") of marketplace id and its country (when country is not
 * NULL), or NULL for an id not in the table. */
const char *sb_marketplace_region(const char *id, const char **country);

/* Checks the marketplaces (a canonical JSON list) against region. With region NULL they
 * must share one region, which is written to derived (when not NULL). what names the
 * value in a message ("--marketplace", "integration.marketplaces:"), whence says where the
 * region came from (" (integration.region)", or "" for an option). Ids not in the table
 * are left to the setting's own check. 0, or SB_EINVAL with err naming the marketplace,
 * its country and region, and the marketplaces the region allows. */
int sb_marketplaces_region_check(const char *region, const char *mkts_json, const char *what, const char *whence,
                                 char *derived, size_t dlen, char *err);

struct sb_store;
/* Whether integ's marketplaces (as stored, or their default) fit its region: 0 when they
 * do (or cannot be read), 1 with msg saying which does not and what the region allows. */
int sb_marketplaces_misfit(struct sb_store *s, int64_t integ, char *msg, size_t n);

#endif
