/* engine.h: everything one job run of one integration needs, opened together: the
 * store, a snapshot of the settings, the loaded rule pack with its context, and (lazily)
 * the SP-API client built from the settings and the decrypted credentials. The jobs
 * (orders, stock, products, tracking) take an sb_engine; the scheduler makes one per
 * run so a changed setting or rule pack takes effect at the next run. */
#ifndef SB_SYNC_ENGINE_H
#define SB_SYNC_ENGINE_H
#include <stdint.h>
#include "rules/rules.h"
#include "settings/settings.h"
#include "spapi/spapi.h"
#include "store/store.h"

typedef struct sb_engine_lookup sb_engine_lookup;
struct sb_orders_result;

/* The longest wait for Amazon's rate limit a job sleeps inside a call; a longer one ends
 * the call with SB_ELATER and the job comes back when Amazon grants it. */
#define SB_ENGINE_MAX_WAIT_MS 1000

typedef struct sb_engine {
    sb_store *store;            /* not owned */
    const char *db_path;
    int64_t integ;
    char name[128];
    sb_settings settings;
    sb_rules *rules;            /* NULL until sb_engine_rules() */
    int rules_borrowed;         /* rules belong to the caller (sb_engine_rules_keep) */
    char today[16];             /* YYYY-MM-DD in the integration's time zone */
    sb_spapi *api;              /* NULL until sb_engine_api() */
    int api_borrowed;           /* api belongs to the caller (sb_engine_api_keep) */
    sb_engine_lookup *lookup;
    sb_setting_value *rule_settings;
    sb_branch_info *branches;
    int nbranches;
    char *branch_names;         /* storage for branches */
    volatile int *stop;         /* set by a signal handler: finish the order and return */
    /* called after each page of orders is stored, with the pass so far (a terminal's
     * progress line); NULL = none */
    void (*progress)(void *ud, const struct sb_orders_result *r);
    void *progress_ud;
    /* the clock the packs it loads measure their time limits by (sb_rules_limits);
     * NULL = the real one. Tests install one to move time and to look at the engine
     * while a rule runs. */
    int64_t (*rules_clock_us)(void *ud);
    void *rules_clock_ud;
} sb_engine;

int sb_engine_open(sb_store *s, const char *db_path, int64_t integ, sb_engine **out, char *err);
void sb_engine_close(sb_engine *e);
/* Loads the integration's rule pack (rules.pack) and sets its context. */
int sb_engine_rules(sb_engine *e, char *err);
/* Builds the SP-API client from the settings and credentials. */
int sb_engine_api(sb_engine *e, char *err);
/* For a long-running engine: loads the integration's pack; when it no longer loads (a
 * broken edit), keeps using *last, the last pack that did, and logs why. On success the
 * new pack replaces *last. *last belongs to the caller; the engine only borrows it. */
int sb_engine_rules_keep(sb_engine *e, sb_rules **last, char *err);
/* For a long-running engine: uses *kept, the integration's client from an earlier run
 * (its access token, rate-limit buckets and Amazon's clock carry over), or builds one and
 * keeps it there. *kept belongs to the caller (sb_spapi_free), who drops it when the
 * settings or credentials may have changed. */
int sb_engine_api_keep(sb_engine *e, sb_spapi **kept, char *err);
/* Loads another pack (rules check/dry-run) with this engine's context. */
int sb_engine_load_pack(sb_engine *e, const char *pack, sb_rules **out, char *err);
/* Records a run of job ("orders", "products", "stock") in sync_state: when it ran,
 * last_success_at when ok, a message for people (NULL clears it), the counts as JSON,
 * and the fingerprint of the job's inputs (NULL keeps the stored one). */
int sb_engine_record_run(sb_engine *e, const char *job, int ok, const char *message,
                         const char *counts, const char *fingerprint, char *err);
/* Today's date and a local time of day in the integration's time zone. */
void sb_engine_local_date(const char *tz, int64_t t, char *out, size_t outlen);
/* Seconds east of UTC of tz at time t. */
long sb_engine_tz_offset(const char *tz, int64_t t);

/* The store-backed look-ups the rules see (engine/sync/lookup.c): customers of integ
 * and the imported ones only, unless shared_customers. */
sb_engine_lookup *sb_engine_lookup_new(sb_store *s, int64_t integ, int shared_customers, int bom_expand);
void sb_engine_lookup_free(sb_engine_lookup *l);
/* The orders decided but not yet stored (the order pass decides a page's orders, then
 * stores them together): _pending marks what storing o as d will change (the stock of
 * its products, the customer it inserts or updates); a look-up that reads a marked thing
 * makes the decision being made stale, and _stale says so once (1) and forgets it. The
 * pass stores the pending orders, _clear forgets their marks, and the stale order is
 * decided again. */
int sb_engine_lookup_pending(sb_engine_lookup *l, const sb_order *o, const sb_decision *d, char *err);
void sb_engine_lookup_pending_clear(sb_engine_lookup *l);
int sb_engine_lookup_stale(sb_engine_lookup *l);
const sb_lookup *sb_engine_lookup_get(sb_engine_lookup *l);

#endif
