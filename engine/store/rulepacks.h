/* rulepacks.h: what the store knows about rule-pack versions: how many stored orders each
 * pack (by content hash) decided, the decision recorded last for an order and hook, and
 * the stored Amazon orders a dry run replays. Row loops check their end code: a database
 * that cannot be read is an error, never "nothing recorded". */
#ifndef SB_STORE_RULEPACKS_H
#define SB_STORE_RULEPACKS_H
#include <stdint.h>
#include "store/store.h"

#define SB_PACK_COUNTS_MAX 20       /* the packs listed, most orders first */

typedef struct sb_store_pack_count {
    char hash[72];
    int64_t orders;
} sb_store_pack_count;

/* The pack versions that decided integ's stored orders: up to SB_PACK_COUNTS_MAX into
 * out, *n of them. */
int sb_store_pack_counts(sb_store *s, int64_t integ, sb_store_pack_count out[SB_PACK_COUNTS_MAX], int *n, char *err);

/* The decision (JSON) recorded last for (order ref, hook): *json malloc'd, or NULL with
 * 0 when none is recorded. */
int sb_store_decision_recorded(sb_store *s, int64_t integ, const char *ref, const char *hook, char **json, char *err);

/* The customer id stored on the order (its first split): *id 0 when it has none. */
int sb_store_order_customer(sb_store *s, int64_t integ, const char *ref, int64_t *id, char *err);

/* Calls row for integ's stored Amazon orders, newest update first, at most limit (<= 0:
 * all), not cancelled, each with the order's JSON as Amazon sent it (NULL when its page
 * is gone). The orders are chosen first and only their JSON is taken from the pages, so
 * a page is parsed only for the rows the limit keeps. row returns 0 to go on; anything
 * else stops the loop and is returned. */
/* The JSON Amazon sent of order ref (its first split), malloc'd into *raw; SB_ENOTFOUND
 * when it has none (err says whether the order is not kept or has no JSON), another code when the database cannot be read. */
int sb_store_order_raw(sb_store *s, int64_t integ, const char *ref, char **raw, char *err);

typedef int (*sb_store_replay_fn)(void *ud, const char *ref, const char *raw);
int sb_store_replay_orders(sb_store *s, int64_t integ, long limit, sb_store_replay_fn row, void *ud, char *err);

#endif
