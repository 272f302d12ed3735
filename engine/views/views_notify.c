/* views_notify.c: the notifications document (`notifications status`, GET
 * /api/v1/notifications): whether Amazon's ORDER_CHANGE notifications arrive, how late,
 * how many came twice, failed or were set aside, which path brought the orders, and the
 * last read of the queue. Read through engine/store's notify functions only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "settings/settings.h"
#include "store/notify.h"
#include "views/views_int.h"

#define POISON_SHOWN 20

/* What a person should know first, from the settings and the counts. */
static const char *health(int enabled, const char *queue, const char *subscription, const sb_notice_stats *st,
                          const sb_notice_job *job) {
    if (!enabled) return "off";
    if (!*queue) return "no queue (set notifications.queue_url)";
    if (*job->last_error && strcmp(job->last_run, job->last_success)) return "failing";
    if (!*subscription) return "not subscribed (run notifications setup)";
    if (!st->total) return "waiting for the first notification";
    return "arriving";
}

static void ms_time(sb_jw *jw, const char *key, int64_t ms) {
    char ts[32];
    if (ms > 0) sb_jw_kstr(jw, key, sb_time_format(ms / 1000, ts, sizeof ts));
    else { sb_jw_key(jw, key); sb_jw_null(jw); }
}

static void opt_str(sb_jw *jw, const char *key, const char *v) {
    if (v && *v) sb_jw_kstr(jw, key, v);
    else { sb_jw_key(jw, key); sb_jw_null(jw); }
}

static void opt_ms(sb_jw *jw, const char *key, int64_t v) {
    sb_jw_key(jw, key);
    if (v >= 0) sb_jw_int(jw, v); else sb_jw_null(jw);
}

int sb_view_notifications(const sb_view_ctx *c, const char *id, const sb_view_args *a, sb_jw *jw, char *err) {
    (void)id;
    (void)a;
    static const char *const names[] = {"notifications.enabled", "notifications.queue_url", "notifications.region",
                                        "notifications.subscription_id", "notifications.sweep_minutes"};
    char *v[5] = {NULL};
    sb_notice_stats st;
    sb_notice_job job;
    sb_notice_row poison[POISON_SHOWN];
    int npoison = 0, rc = 0;
    for (int i = 0; i < 5 && !rc; i++) rc = sb_settings_get(c->s, c->integ, names[i], &v[i], NULL, err);
    if (!rc) rc = sb_store_notice_stats(c->s, c->integ, &st, err);
    if (!rc) rc = sb_store_notice_job(c->s, c->integ, &job, err);
    if (!rc) rc = sb_store_notice_list(c->s, c->integ, "poison", poison, POISON_SHOWN, &npoison, err);
    if (rc) goto out;
    int enabled = !strcmp(v[0], "true");
    sb_jw_obj(jw);
    sb_jw_kstr(jw, "integration", c->integ_name);
    sb_jw_kstr(jw, "health", health(enabled, v[1], v[3], &st, &job));
    sb_jw_kbool(jw, "enabled", enabled);
    opt_str(jw, "queue_url", v[1]);
    sb_jw_kstr(jw, "region", v[2]);
    opt_str(jw, "subscription_id", v[3]);
    sb_jw_kint(jw, "sweep_minutes", atol(v[4]));
    sb_jw_key(jw, "notifications");
    sb_jw_obj(jw);
    sb_jw_kint(jw, "kept", st.total);
    sb_jw_kint(jw, "done", st.done);
    sb_jw_kint(jw, "waiting", st.waiting);
    sb_jw_kint(jw, "failed", st.failed);
    sb_jw_kint(jw, "poison", st.poison);
    sb_jw_kint(jw, "ignored", st.ignored);
    sb_jw_kint(jw, "duplicates", st.duplicates);
    ms_time(jw, "last_received", st.last_seen_ms);
    opt_ms(jw, "last_lag_ms", st.last_lag_ms);
    opt_ms(jw, "max_lag_ms", st.max_lag_ms);
    sb_jw_end_obj(jw);
    sb_jw_key(jw, "orders_by");
    sb_jw_obj(jw);
    sb_jw_kint(jw, "notification", st.orders_by_notification);
    sb_jw_kint(jw, "download", st.orders_by_download);
    sb_jw_end_obj(jw);
    sb_jw_key(jw, "last_read");
    sb_jw_obj(jw);
    opt_str(jw, "state", job.state);
    opt_str(jw, "at", job.last_run);
    opt_str(jw, "last_success", job.last_success);
    opt_str(jw, "error", job.last_error);
    sb_jw_key(jw, "counts");
    size_t cl = strlen(job.counts);
    if (cl && job.counts[0] == '{' && job.counts[cl - 1] == '}') sb_jw_raw(jw, job.counts, cl);
    else sb_jw_null(jw);
    sb_jw_end_obj(jw);
    sb_jw_key(jw, "set_aside");
    sb_jw_arr(jw);
    for (int i = 0; i < npoison; i++) {
        sb_jw_obj(jw);
        sb_jw_kstr(jw, "notification_id", poison[i].id);
        opt_str(jw, "order", poison[i].order_ref);
        sb_jw_kint(jw, "tries", poison[i].tries);
        sb_jw_kint(jw, "deliveries", poison[i].deliveries);
        sb_jw_kstr(jw, "error", poison[i].error);
        ms_time(jw, "last_received", poison[i].last_seen_ms);
        sb_jw_end_obj(jw);
    }
    sb_jw_end_arr(jw);
    sb_jw_end_obj(jw);
out:
    for (int i = 0; i < 5; i++) free(v[i]);
    return rc;
}
