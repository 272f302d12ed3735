/* fix.c: a person's fix of a held order, and the bulk fixes: every order held on a SKU,
 * every order a new SKU alias releases (see fix.h). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "core/log.h"
#include "core/util.h"
#include "json/json.h"
#include "store/aliases.h"
#include "store/fix.h"
#include "store/jobs.h"
#include "sync/engine.h"
#include "sync/fix.h"
#include "sync/orders.h"

int sb_orders_fix(sb_store *s, int64_t integ, const char *ref, const char *branch, int resolve,
                  const char *via, char *err) {
    int64_t oid = 0;
    int rc;
    char stage[24] = "", old_branch[128] = "";
    if (branch && !*branch) branch = NULL;
    if (!branch && !resolve) return sb_seterr(err, SB_EINVAL, "order %s: nothing to fix: give a branch and/or resolve", ref);
    if (branch && !sb_store_branch_exists(s, branch)) {
        char names[512];
        sb_store_branch_names(s, names, sizeof names);
        return sb_seterr(err, SB_EINVAL, "branch '%s' does not exist (branches: %s)", branch, names);
    }
    if ((rc = sb_store_begin(s, err))) return rc;
    if ((rc = sb_store_order_fix_target(s, integ, ref, &oid, stage, sizeof stage, old_branch, sizeof old_branch, err)))
        goto out;
    if (!oid) { rc = sb_seterr(err, SB_ENOTFOUND, "order %s is not stored for this integration", ref); goto out; }
    if (strcmp(stage, "needs_attention") && strcmp(stage, "open")) {
        rc = sb_seterr(err, SB_EINVAL, "order %s is %s; only open orders or orders needing attention can be fixed "
                       "(rule errors: fix the pack and run 'orders retry')", ref, stage);
        goto out;
    }
    if (resolve) {
        /* a line whose SKU has become a product since: releasing it here would leave the
         * line unlinked with nothing reserved; the retry links it as a download would */
        char sku[128];
        if ((rc = sb_store_order_unlinked_sku(s, integ, ref, sku, sizeof sku, err))) goto out;
        if (*sku) {
            rc = sb_seterr(err, SB_EINVAL, "order %s: SKU '%s' is now a product (or an alias of one) but its line is not linked yet; "
                           "retry the order first ('orders retry %s' or the dashboard's Retry): it links the line "
                           "and reserves the stock", ref, sku, ref);
            goto out;
        }
    }
    if (branch && strcmp(branch, old_branch)) {
        /* the reservation moves with the order (Amazon-fulfilled orders reserve nothing) */
        if (*old_branch && (rc = sb_store_reserve_order(s, oid, old_branch, -1, err))) goto out;
        if ((rc = sb_store_reserve_order(s, oid, branch, +1, err))) goto out;
        if ((rc = sb_store_order_move(s, oid, branch, err))) goto out;
    }
    if (resolve && (rc = sb_store_order_resolve(s, oid, err))) goto out;
    sb_buf dec;
    sb_buf_init(&dec, 4096);
    sb_jw jw;
    sb_jw_init(&jw, &dec);
    sb_jw_obj(&jw);
    sb_jw_kstr(&jw, "branch", branch ? branch : old_branch);
    sb_jw_kbool(&jw, "moved", branch != NULL);   /* a branch chosen: kept when Amazon changes the order */
    sb_jw_kbool(&jw, "resolved", resolve);
    sb_jw_kstr(&jw, "via", via);
    sb_jw_end_obj(&jw);
    rc = sb_store_order_audit_person(s, integ, ref, dec.data, err);
    sb_buf_free(&dec);
    if (!rc) return sb_store_commit(s, err);
out:
    sb_store_rollback(s);
    return rc;
}

long sb_orders_count_sku(sb_store *s, int64_t integ, const char *sku, long cap) {
    long n = 0;
    char err[SB_ERRLEN];
    if (sb_store_orders_on_sku_count(s, integ, sku, cap, &n, err)) sb_warn("orders held on %s: %s", sku, err);
    return n;
}

/* Adds r to the sum. */
static void add_result(sb_orders_retry_result *sum, const sb_orders_retry_result *r) {
    sum->tried += r->tried;
    sum->fixed += r->fixed;
    sum->held += r->held;
    for (int i = 0; i < r->nkept && sum->nkept < SB_RETRY_KEEP; i++) sum->kept[sum->nkept++] = r->kept[i];
}

typedef struct refs { char **v; size_t n, cap; } refs;

static int collect(void *ctx, const char *ref) {
    refs *r = ctx;
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 16;
        char **g = realloc(r->v, nc * sizeof *r->v);
        if (!g) return SB_ENOMEM;
        r->v = g;
        r->cap = nc;
    }
    if (!(r->v[r->n] = strdup(ref))) return SB_ENOMEM;
    r->n++;
    return 0;
}

int sb_orders_retry_sku(sb_engine *e, const char *sku, int kinds, sb_orders_retry_result *out, char *err) {
    refs r = {NULL, 0, 0};
    memset(out, 0, sizeof *out);
    if (!sku || !*sku) return sb_seterr(err, SB_EINVAL, "SKU is empty");
    if (strlen(sku) > SB_ALIAS_SKU_MAX) return sb_seterr(err, SB_EINVAL, "SKU is longer than %d characters", SB_ALIAS_SKU_MAX);
    /* collected first: each retry writes */
    int rc = sb_store_orders_on_sku(e->store, e->integ, sku, collect, &r, err);
    if (rc == SB_ENOMEM) rc = sb_seterr(err, SB_ENOMEM, "retry: out of memory");
    for (size_t i = 0; i < r.n && !rc; i++) {
        sb_orders_retry_result one;
        char oerr[SB_ERRLEN];
        int orc = sb_orders_retry_for(e, r.v[i], kinds, &one, oerr);
        if (orc == SB_EINVAL || orc == SB_ENOTFOUND) {   /* not of the kinds asked, or its SKU still unknown */
            one.held++;
            if (one.nkept < SB_RETRY_KEEP) {
                snprintf(one.kept[one.nkept].order, sizeof one.kept[0].order, "%s", r.v[i]);
                snprintf(one.kept[one.nkept].why, sizeof one.kept[0].why, "%.250s", oerr);
                one.nkept++;
            }
        } else if (orc) rc = sb_seterr(err, orc, "%s", oerr);
        add_result(out, &one);
    }
    for (size_t i = 0; i < r.n; i++) free(r.v[i]);
    free(r.v);
    return rc;
}

int sb_orders_release_linked(sb_store *s, const char *db_path, volatile int *stop, sb_orders_retry_result *out, char *err) {
    sb_store_integ *ig = NULL;
    int ni = 0;
    memset(out, 0, sizeof *out);
    int rc = sb_store_integrations(s, &ig, &ni, err);
    for (int i = 0; !rc && i < ni; i++) {
        sb_engine *e = NULL;
        sb_orders_retry_result one;
        memset(&one, 0, sizeof one);
        if (!(rc = sb_engine_open(s, db_path, ig[i].id, &e, err))) {
            e->stop = stop;
            rc = sb_orders_retry_for(e, NULL, SB_RETRY_UNKNOWN_SKU, &one, err);
        }
        sb_engine_close(e);
        add_result(out, &one);
    }
    free(ig);
    return rc;
}
