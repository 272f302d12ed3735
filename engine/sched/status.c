/* status.c: the engine's status document and table (see status.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/clock.h"
#include "core/util.h"
#include "json/json.h"
#include "sched/status.h"
#include "store/jobs.h"

static void kstr_or_null(sb_jw *w, const char *k, const char *v) {
    sb_jw_key(w, k);
    if (v && *v) sb_jw_str(w, v); else sb_jw_null(w);
}

/* A person's words for a clock this far off, or NULL when it is close enough. */
static const char *skew_warning(int64_t skew, char *out, size_t n) {
    if (skew < SB_STATUS_SKEW_WARN_MS && skew > -SB_STATUS_SKEW_WARN_MS) return NULL;
    snprintf(out, n, "this machine's clock is %.1f s %s Amazon's: set it right (NTP); the engine keeps to Amazon's "
             "clock meanwhile", (double)(skew < 0 ? -skew : skew) / 1000, skew < 0 ? "ahead of" : "behind");
    return out;
}

/* Amazon's clock as measured for the integration whose rows start at rows[i] (the orders
 * job's row carries it): 1 and *skew, or 0 when not measured yet. */
static int integ_skew(const sb_store_job_status *rows, int n, int i, int64_t *skew) {
    for (int k = i; k < n && !strcmp(rows[k].integration, rows[i].integration); k++)
        if (rows[k].has_skew) { *skew = rows[k].clock_skew_ms; return 1; }
    return 0;
}

int sb_status_json(sb_store *s, int64_t integ, sb_buf *out, char *err) {
    sb_store_job_status *rows;
    int n, rc = sb_store_jobs_status(s, integ, &rows, &n, err);
    if (rc) return rc;
    long pid = 0;
    int running = sb_store_engine_running(s, &pid);
    sb_jw w;
    sb_jw_init(&w, out);
    sb_jw_obj(&w);
    sb_jw_key(&w, "engine");
    sb_jw_obj(&w);
    sb_jw_kbool(&w, "running", running);
    sb_jw_key(&w, "pid");
    if (running && pid > 0) sb_jw_int(&w, pid); else sb_jw_null(&w);
    sb_jw_end_obj(&w);
    sb_jw_key(&w, "integrations");
    sb_jw_arr(&w);
    for (int i = 0; i < n;) {
        const char *name = rows[i].integration;
        sb_jw_obj(&w);
        sb_jw_kstr(&w, "integration", name);
        int64_t skew = 0;
        int has = integ_skew(rows, n, i, &skew);
        sb_jw_key(&w, "amazon_clock_skew_ms");
        if (has) sb_jw_int(&w, skew); else sb_jw_null(&w);
        char warn[200];
        kstr_or_null(&w, "warning", has ? skew_warning(skew, warn, sizeof warn) : NULL);
        sb_jw_key(&w, "jobs");
        sb_jw_arr(&w);
        for (; i < n && !strcmp(rows[i].integration, name); i++) {
            const sb_store_job_status *r = &rows[i];
            sb_jw_obj(&w);
            sb_jw_kstr(&w, "job", r->job);
            sb_jw_kstr(&w, "state", *r->state ? r->state : "never run");
            kstr_or_null(&w, "since", r->since);
            kstr_or_null(&w, "next_due", r->next_due);
            kstr_or_null(&w, "waiting_until", !strcmp(r->state, "waiting") ? r->waiting_until : NULL);
            kstr_or_null(&w, "waiting_for", !strcmp(r->state, "waiting") ? r->waiting_why : NULL);
            kstr_or_null(&w, "last_run", r->last_run);
            kstr_or_null(&w, "last_success", r->last_success);
            kstr_or_null(&w, "last_error", r->last_error);
            sb_jw_end_obj(&w);
        }
        sb_jw_end_arr(&w);
        sb_jw_end_obj(&w);
    }
    sb_jw_end_arr(&w);
    sb_jw_end_obj(&w);
    free(rows);
    if (w.rc) return sb_seterr(err, w.rc, "status: out of memory");
    return 0;
}

static const char *or_dash(const char *v) { return v && *v ? v : "-"; }

/* Text from outside (an integration's name, Amazon's error) made safe for a terminal. */
static const char *safe(const char *s, char *out, size_t n) { return sb_escape_controls(s, strlen(s), out, n); }

int sb_status_print(sb_store *s, int64_t integ, FILE *f, char *err) {
    sb_store_job_status *rows;
    int n, rc = sb_store_jobs_status(s, integ, &rows, &n, err);
    if (rc) return rc;
    long pid = 0;
    if (sb_store_engine_running(s, &pid)) fprintf(f, "engine: running (pid %ld)\n", pid);
    else fprintf(f, "engine: not running (start it with `sellerbridge run`)\n");
    const char *cur = NULL;
    for (int i = 0; i < n; i++) {
        const sb_store_job_status *r = &rows[i];
        if (!cur || strcmp(cur, r->integration)) {
            cur = r->integration;
            char nm[300];
            fprintf(f, "\nintegration %s", safe(cur, nm, sizeof nm));
            int64_t skew;
            if (integ_skew(rows, n, i, &skew)) {
                char warn[200];
                const char *wt = skew_warning(skew, warn, sizeof warn);
                fprintf(f, " (Amazon's clock %+lld ms%s%s)", (long long)skew, wt ? ": " : "", wt ? wt : "");
            }
            fprintf(f, "\n  %-9s %-10s %-21s %-21s %s\n", "JOB", "STATE", "LAST RUN", "NEXT DUE", "NOTE");
        }
        char note[700] = "";
        if (!strcmp(r->state, "waiting"))
            snprintf(note, sizeof note, "waiting until %s for %s", or_dash(r->waiting_until), or_dash(r->waiting_why));
        else if (!strcmp(r->state, "running"))
            snprintf(note, sizeof note, "running since %s", or_dash(r->since));
        else if (*r->last_error)
            snprintf(note, sizeof note, "last run failed: %s", r->last_error);
        char sn[2100];
        fprintf(f, "  %-9s %-10s %-21s %-21s %s\n", r->job, *r->state ? r->state : "never run", or_dash(r->last_run),
                or_dash(r->next_due), safe(note, sn, sizeof sn));
    }
    if (!n) fprintf(f, "no job has run yet\n");
    free(rows);
    return 0;
}
