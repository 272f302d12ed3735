/* grid.h: checking the routing grid setting (orders.routing.grid), see grid.c. */
#ifndef SB_SETTINGS_GRID_H
#define SB_SETTINGS_GRID_H
#include "core/util.h"
#include "store/store.h"

#define SB_GRID_MAX_ROWS 200

/* Checks the grid JSON `in` against the store's branches (fba, the FBA branch, may be
 * no row's branch or backup; NULL or "" = none set) and appends its canonical JSON to
 * out; returns 0, or -1 with the reason (row number first, never the grid's text) in
 * msg. */
int sb_grid_check(sb_store *s, const char *in, const char *fba, sb_buf *out, char *msg, size_t msglen);
/* 1 when code is an ISO 3166-1 alpha-2 country code (upper case). */
int sb_grid_country_known(const char *code);

#endif
