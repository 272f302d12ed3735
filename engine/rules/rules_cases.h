/* rules_cases.h: table-driven rule tests (`sellerbridge rules test`). A case is one JSON
 * file: the order (Orders API 2026-01-01 shape) or a stock item, the settings, look-up
 * fixtures, and the expected decision; rules/README.md documents the format. Files named
 * _*.json are not cases: _base.json, when present, is merged under every case. */
#ifndef SB_RULES_CASES_H
#define SB_RULES_CASES_H
#include <stdio.h>
#include "rules/rules.h"

/* Runs every case file in cases_dir (sorted by name) against r, writing "ok NAME" or
 * "FAIL NAME: why" lines to out. Returns 0 when the folder was read (counts in *npass,
 * *nfail), or a negative code with err. */
int sb_rules_run_cases(sb_rules *r, const char *cases_dir, FILE *out, int *npass, int *nfail, char *err);

/* Runs one case file. Returns 1 pass, 0 fail (why in msg), negative on a broken case. */
int sb_rules_run_case_file(sb_rules *r, const char *path, char *msg, size_t msglen);

#endif
