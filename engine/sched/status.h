/* status.h: what the engine is doing, as one document: per integration and job, its
 * state (idle, running since T, waiting for Amazon until T and why), last run and
 * success, last error, next due time, and Amazon's clock as last measured; whether an
 * engine is running on the database. `sellerbridge status --json` prints it and the
 * dashboard's GET /api/status serves it, byte for byte the same; the CLI's table is
 * drawn from the same rows. */
#ifndef SB_SCHED_STATUS_H
#define SB_SCHED_STATUS_H
#include <stdint.h>
#include <stdio.h>
#include "core/util.h"
#include "store/store.h"

/* Amazon's clock this far from the machine's (ms, either way) is a warning. */
#define SB_STATUS_SKEW_WARN_MS 5000

/* Writes the document for integ (0 = every integration) into out. */
int sb_status_json(sb_store *s, int64_t integ, sb_buf *out, char *err);
/* Prints the same rows as a table for people. */
int sb_status_print(sb_store *s, int64_t integ, FILE *f, char *err);

#endif
