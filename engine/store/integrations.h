/* integrations.h: what a job run reads and writes about its integration beside the
 * settings: the integration's name, the business's branches (the rules' context), and
 * the record of each run in sync_state (when, whether it succeeded, its counts). */
#ifndef SB_STORE_INTEGRATIONS_H
#define SB_STORE_INTEGRATIONS_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

#define SB_STORE_BRANCHES_MAX 4096  /* branches handed to the rules; the rest are not read */

/* integ's name into name (len bytes); "" and 0 when there is no such integration. */
int sb_store_integration_name(sb_store *s, int64_t integ, char *name, size_t len, char *err);

/* Calls fn for each branch by name, at most SB_STORE_BRANCHES_MAX; country and state are
 * "" when not set. fn returns 0 to go on; anything else stops and is returned. */
typedef int (*sb_store_branch_fn)(void *ud, const char *name, const char *country, const char *state);
int sb_store_branches_each(sb_store *s, sb_store_branch_fn fn, void *ud, char *err);

/* Records one run of job: its time (now, epoch s), ok, message (NULL: none; the caller
 * scrubs it), counts (JSON text) and fingerprint (NULL keeps the one recorded). */
int sb_store_record_run(sb_store *s, int64_t integ, const char *job, int64_t now, int ok, const char *message,
                        const char *counts, const char *fingerprint, char *err);

#endif
