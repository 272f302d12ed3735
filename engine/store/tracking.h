/* store/tracking.h: the tracking job's records (engine/sync/tracking.c decides, this
 * reads and writes): an order's lines as a dispatch takes from them, the packages
 * (shipments) and their confirmShipment rows in the outbox.
 *
 * Crash safety, as the job relies on it: a dispatch (lines, stock, the order's stage,
 * the package and its outbox row) is written inside the caller's one transaction. A
 * confirmation is claimed (sb_store_outbox_claim: attempts + 1, the claiming process and
 * until when) and committed BEFORE the POST, only when no other sender took the row since
 * it was read; its outcome (sb_store_outbox_sent / _retry) is written after Amazon
 * answers. A row claimed by a crashed run has attempts > 0, so the repeat first asks
 * Amazon whether it has the package: a confirmation is never sent twice blindly.
 *
 * The order-side writes a dispatch makes (qty_dispatched, the dispatched stage) live here
 * until engine/store/orders.c owns the order record. Every function returns 0 or a
 * negative code; a failing read is SB_EIO "what: message", never "nothing there". */
#ifndef SB_STORE_TRACKING_H
#define SB_STORE_TRACKING_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

#define SB_STORE_SHIPMENT_LINES_MAX (1 << 20)   /* bytes of a package's lines document */

/* What a dispatch needs of the order ref as a whole (its Amazon part first). */
typedef struct sb_store_dispatch_order {
    int found, any_open;        /* a row exists; one of its parts is open */
    char stage[24];             /* the last part's stage */
    char branch[128], fulfilled_by[24], source[16];
    int auto_dispatched;
} sb_store_dispatch_order;
int sb_store_dispatch_order_get(sb_store *s, int64_t integ, const char *ref, sb_store_dispatch_order *out, char *err);

/* One open line of an Amazon order, in split then line order. */
typedef struct sb_store_dispatch_line {
    int64_t id, order_id, product;  /* product 0 when not linked */
    char sku[128], item_id[64], kit_sku[128], branch[128];
    double qty, done;               /* ordered, dispatched so far */
    int stock_bearing, reserves;    /* reserves: not fulfilled by Amazon */
} sb_store_dispatch_line;
/* The open lines of ref into out[0..max); more than max is SB_EINVAL naming the order. */
int sb_store_dispatch_lines(sb_store *s, int64_t integ, const char *ref, sb_store_dispatch_line *out, int max, int *n,
                            char *err);
/* Adds qty to line's qty_dispatched. */
int sb_store_dispatch_line_take(sb_store *s, int64_t line, double qty, char *err);
/* Parts of ref whose lines are all dispatched become dispatched at now; *open is the
 * number of parts still open after that. */
int sb_store_dispatch_close(sb_store *s, int64_t integ, const char *ref, const char *now, long *open, char *err);

/* A package as dispatch records it. */
typedef struct sb_store_shipment {
    int64_t order_id;
    const char *carrier, *service, *tracking, *shipped_at;   /* service NULL: none */
    const char *lines;              /* [{"sku","item_id","qty"}] */
    const char *confirm_state;      /* none, not_required */
    int package_no;
} sb_store_shipment;
/* The packages ref has so far. */
int sb_store_shipment_count(sb_store *s, int64_t integ, const char *ref, int *n, char *err);
int sb_store_shipment_add(sb_store *s, const sb_store_shipment *sh, int64_t *id, char *err);

/* A package as its confirmation describes it; lines is owned by the caller (free). */
typedef struct sb_store_shipment_row {
    int package_no;
    char carrier[128], service[128], tracking[128], shipped_at[40], order_ref[128], marketplace[32];
    char *lines;
} sb_store_shipment_row;
/* SB_ENOTFOUND naming the shipment when there is none. */
int sb_store_shipment_get(sb_store *s, int64_t sid, sb_store_shipment_row *out, char *err);
/* Sets the package's confirm_state; queued leaves a confirmed one alone. */
int sb_store_shipment_state(sb_store *s, int64_t sid, const char *state, char *err);
/* Ids of the packages a person may confirm (not FBA, not auto-dispatched, state none or
 * failed) into ids[0..max) in id order. */
int sb_store_shipments_unconfirmed(sb_store *s, int64_t integ, const char *fba_branch, int64_t *ids, int max, int *n,
                                   char *err);

/* Upserts the confirmShipment row of key ("ORDER#PKG") with payload (a sent row is left). */
int sb_store_outbox_queue(sb_store *s, int64_t integ, const char *key, const char *payload, char *err);

/* One confirmation due; key and payload valid during the callback only. */
typedef struct sb_store_outbox_row {
    int64_t id;
    const char *key, *payload;
    int attempts;
    int64_t claimed_by;             /* process id, 0 none */
    const char *claimed_until;      /* "" none */
} sb_store_outbox_row;
/* Calls cb for each confirmation due at now (manual: failed ones and not-yet-due too). */
int sb_store_outbox_due(sb_store *s, int64_t integ, int manual, const char *now,
                        int (*cb)(void *ctx, const sb_store_outbox_row *r), void *ctx, char *err);

/* What decides whether the package pkg of ref is still to be confirmed. */
typedef struct sb_store_confirm_target {
    int found;
    char fulfilled_by[24], branch[128], source[16];
    int auto_dispatched;
    int64_t shipment;
} sb_store_confirm_target;
int sb_store_confirm_target_get(sb_store *s, int64_t integ, const char *ref, int pkg, sb_store_confirm_target *out,
                                char *err);

/* The row is not to be sent: failed with why. */
int sb_store_outbox_not_sent(sb_store *s, int64_t id, const char *why, char *err);
/* Claims the row for pid until `until` when its attempts are still `attempts` and it is
 * not sent; *claimed 0 when another sender took it first. */
int sb_store_outbox_claim(sb_store *s, int64_t id, int attempts, const char *note, int64_t pid, const char *until,
                          int *claimed, char *err);
/* Amazon has it: sent at now. */
int sb_store_outbox_sent(sb_store *s, int64_t id, const char *now, char *err);
/* Not sent this time: failed for good (give_up) or pending again from next. */
int sb_store_outbox_retry(sb_store *s, int64_t id, int give_up, const char *why, const char *next, char *err);

#endif
