/* integrations.h: what a job run reads and writes about its integration beside the
 * settings: the integration's name, the business's branches (the rules' context), and
 * the record of each run in sync_state (when, whether it succeeded, its counts); and
 * the list, counts and removal of integrations that `integration` shows and does. */
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

/* Calls fn for each integration by id (created_at as stored). fn returns 0 to go on. */
typedef int (*sb_store_integ_fn)(void *ud, int64_t id, const char *name, const char *created_at);
int sb_store_integrations_each(sb_store *s, sb_store_integ_fn fn, void *ud, char *err);

/* What removing an integration deletes. */
typedef struct sb_store_integ_counts {
    long orders;                /* distinct order refs */
    long open;                  /* of them, not yet dispatched and confirmed */
    long queued;                /* outbox rows pending or failed */
    long settings;              /* stored settings */
} sb_store_integ_counts;
int sb_store_integration_counts(sb_store *s, int64_t integ, sb_store_integ_counts *out, char *err);

/* Deletes integ with everything that cascades from it, in one transaction: the stock its
 * open orders reserve is released first. Nothing changes on failure. */
int sb_store_integration_remove(sb_store *s, int64_t integ, char *err);

#endif
