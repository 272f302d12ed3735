/* engine.c: opening one integration for a job run (see engine.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/clock.h"
#include "core/log.h"
#include "core/scrub.h"
#include "core/util.h"
#include "secrets/secrets.h"
#include "store/integrations.h"
#include "sync/engine.h"

/* Local time in a named zone. The C library knows one zone at a time, the one TZ names,
 * so the zone is switched for the call, under a lock (the engine's jobs run on threads).
 * TZ is only ever replaced, never removed: glibc's setenv replaces an existing entry in
 * place, so another thread's getenv (libcurl reads its proxy variables) never sees the
 * environment being moved; the process's own zone is kept as TZ=":/etc/localtime" when
 * TZ was not set, which is what glibc reads then. */
static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;

static void with_tz(const char *tz, int64_t t, struct tm *out) {
    pthread_mutex_lock(&tz_mu);
    const char *cur = getenv("TZ");
    char *old = strdup(cur ? cur : ":/etc/localtime");
    setenv("TZ", tz && *tz ? tz : "UTC", 1);
    tzset();
    time_t tt = (time_t)t;
    localtime_r(&tt, out);
    if (old) setenv("TZ", old, 1);
    tzset();
    free(old);
    pthread_mutex_unlock(&tz_mu);
}

void sb_engine_local_date(const char *tz, int64_t t, char *out, size_t outlen) {
    struct tm tm;
    with_tz(tz, t, &tm);
    strftime(out, outlen, "%Y-%m-%d", &tm);
}

long sb_engine_tz_offset(const char *tz, int64_t t) {
    struct tm tm;
    with_tz(tz, t, &tm);
    return tm.tm_gmtoff;
}

typedef struct branch_rows {
    sb_buf names;               /* name, country, state of each, NUL-terminated */
    size_t (*offs)[3];
    int n;
} branch_rows;

static int add_branch(void *ud, const char *name, const char *country, const char *state) {
    branch_rows *b = ud;
    const char *v[3] = {name, country, state};
    if (b->n % 64 == 0) {
        size_t (*g)[3] = realloc(b->offs, (size_t)(b->n + 64) * sizeof *g);
        if (!g) return SB_ENOMEM;
        b->offs = g;
    }
    for (int c = 0; c < 3; c++) {
        b->offs[b->n][c] = b->names.len;
        if (sb_buf_append(&b->names, v[c], strlen(v[c]) + 1)) return SB_ENOMEM;
    }
    b->n++;
    return 0;
}

static int load_branches(sb_engine *e, char *err) {
    branch_rows b = {.n = 0};
    sb_buf_init(&b.names, 16 << 20);
    int rc = sb_store_branches_each(e->store, add_branch, &b, err);
    if (rc == SB_ENOMEM) sb_seterr(err, rc, "out of memory reading the branches");
    if (!rc && !(e->branches = calloc((size_t)b.n + 1, sizeof *e->branches)))
        rc = sb_seterr(err, SB_ENOMEM, "out of memory reading the branches");
    if (rc) {
        free(b.offs);
        free(b.names.data);
        return rc;
    }
    e->branch_names = b.names.data;
    for (int i = 0; i < b.n; i++) {
        e->branches[i].name = b.names.data + b.offs[i][0];
        e->branches[i].country = b.names.data + b.offs[i][1];
        e->branches[i].state = b.names.data + b.offs[i][2];
    }
    e->nbranches = b.n;
    free(b.offs);
    return 0;
}

int sb_engine_open(sb_store *s, const char *db_path, int64_t integ, sb_engine **out, char *err) {
    sb_engine *e = calloc(1, sizeof *e);
    int rc = 0;
    if (!e) return SB_ENOMEM;
    e->store = s;
    e->db_path = db_path;
    e->integ = integ;
    if ((rc = sb_store_integration_name(s, integ, e->name, sizeof e->name, err))) goto out;
    if ((rc = sb_settings_load(s, integ, &e->settings, err))) goto out;
    sb_engine_local_date(sb_settings_str(&e->settings, "integration.timezone"), sb_now(), e->today, sizeof e->today);
    if ((rc = load_branches(e, err))) goto out;
    e->lookup = sb_engine_lookup_new(s, integ, sb_settings_bool(&e->settings, "orders.shared_customers"),
                                     sb_settings_bool(&e->settings, "orders.bom_expand"));
    e->rule_settings = calloc((size_t)e->settings.n, sizeof *e->rule_settings);
    if (!e->lookup || !e->rule_settings) { rc = SB_ENOMEM; goto out; }
    for (int i = 0; i < e->settings.n; i++) {
        e->rule_settings[i].name = e->settings.defs[i]->name;
        e->rule_settings[i].type = sb_settings_rule_type(e->settings.defs[i]->type);
        e->rule_settings[i].value = e->settings.values[i];
    }
out:
    if (rc) { sb_engine_close(e); e = NULL; }
    *out = e;
    return rc;
}

void sb_engine_close(sb_engine *e) {
    if (!e) return;
    if (!e->rules_borrowed) sb_rules_free(e->rules);
    if (!e->api_borrowed) sb_spapi_free(e->api);
    sb_engine_lookup_free(e->lookup);
    sb_settings_free(&e->settings);
    free(e->rule_settings);
    free(e->branches);
    free(e->branch_names);
    free(e);
}

static int set_context(sb_engine *e, sb_rules *r, char *err) {
    sb_rules_ctx ctx = {
        .integration = e->name,
        .settings = e->rule_settings, .nsettings = e->settings.n,
        .branches = e->branches, .nbranches = e->nbranches,
        .today = e->today,
        .lookup = sb_engine_lookup_get(e->lookup),
        .stop = e->stop,            /* a rule running at SIGTERM stops within its next tick */
    };
    return sb_rules_set_context(r, &ctx, err);
}

int sb_engine_load_pack(sb_engine *e, const char *pack, sb_rules **out, char *err) {
    sb_rules_limits lim = {
        .instructions = sb_settings_int(&e->settings, "rules.instructions"),
        .memory_bytes = (size_t)sb_settings_int(&e->settings, "rules.memory_mb") << 20,
        .time_ms = sb_settings_int(&e->settings, "rules.time_ms"),
        .load_ms = sb_settings_int(&e->settings, "rules.load_ms"),
        .clock_us = e->rules_clock_us, .clock_ud = e->rules_clock_ud,
    };
    char e2[SB_ERRLEN];
    sb_rules *r = sb_rules_load(pack, &lim, e2);
    *out = NULL;
    if (!r) return sb_seterr(err, SB_ERULE, "rule pack '%s' does not load: %s", pack, e2);
    int rc = set_context(e, r, e2);
    if (rc) {
        sb_rules_free(r);
        return sb_seterr(err, rc, "rule pack '%s': %s", pack, e2);
    }
    *out = r;
    return 0;
}

int sb_engine_rules_keep(sb_engine *e, sb_rules **last, char *err) {
    const char *pack = sb_settings_str(&e->settings, "rules.pack");
    sb_rules *r = NULL;
    char why[SB_ERRLEN];
    int rc = sb_engine_load_pack(e, pack, &r, why);
    if (!rc) {
        sb_rules_free(*last);
        *last = r;
    } else if (!*last) {
        return sb_seterr(err, rc, "%s", why);
    } else {
        sb_error("%s; integration %s keeps running the pack that loaded last (sha256 %.12s) until it is fixed",
                 why, e->name, sb_rules_hash(*last));
        if ((rc = set_context(e, *last, why))) return sb_seterr(err, rc, "%s", why);
    }
    if (e->rules && !e->rules_borrowed) sb_rules_free(e->rules);
    e->rules = *last;
    e->rules_borrowed = 1;
    return 0;
}

int sb_engine_rules(sb_engine *e, char *err) {
    if (e->rules) return 0;
    return sb_engine_load_pack(e, sb_settings_str(&e->settings, "rules.pack"), &e->rules, err);
}

static const char *region_host(const char *region, int sandbox) {
    if (!strcmp(region, "eu")) return sandbox ? "https://sandbox.sellingpartnerapi-eu.amazon.com" : "https://sellingpartnerapi-eu.amazon.com";
    if (!strcmp(region, "fe")) return sandbox ? "https://sandbox.sellingpartnerapi-fe.amazon.com" : "https://sellingpartnerapi-fe.amazon.com";
    return sandbox ? "https://sandbox.sellingpartnerapi-na.amazon.com" : "https://sellingpartnerapi-na.amazon.com";
}

int sb_engine_api_keep(sb_engine *e, sb_spapi **kept, char *err) {
    if (e->api) return 0;
    if (!*kept) {
        int rc = sb_engine_api(e, err);
        if (rc) return rc;
        *kept = e->api;
    }
    e->api = *kept;
    e->api_borrowed = 1;
    return 0;
}

int sb_engine_api(sb_engine *e, char *err) {
    if (e->api) return 0;
    unsigned char key[SB_KEY_LEN];
    char *cid = NULL, *secret = NULL, *refresh = NULL;
    int rc = sb_secrets_key(e->db_path, 0, key, err);
    if (!rc) rc = sb_secrets_get(e->store, e->integ, "lwa.client_id", &cid, key, err);
    if (!rc) rc = sb_secrets_get(e->store, e->integ, "lwa.client_secret", &secret, key, err);
    if (!rc) rc = sb_secrets_get(e->store, e->integ, "lwa.refresh_token", &refresh, key, err);
    memset(key, 0, sizeof key);
    /* a database written before the endpoints were checked may hold a plain-http URL:
     * refuse it here too rather than send the credentials */
    for (int i = 0; !rc && i < 2; i++) {
        const char *name = i ? "api.lwa_endpoint" : "api.endpoint";
        char *canon = NULL;
        rc = sb_settings_validate(e->store, e->integ, sb_settings_find(name), sb_settings_str(&e->settings, name), &canon, err);
        free(canon);
    }
    if (!rc) {
        const char *ep = sb_settings_str(&e->settings, "api.endpoint");
        const char *region = sb_settings_str(&e->settings, "integration.region");
        sb_spapi_config c = {
            .endpoint = !*ep ? region_host(region, 0) : !strcmp(ep, "sandbox") ? region_host(region, 1) : ep,
            .lwa_endpoint = sb_settings_str(&e->settings, "api.lwa_endpoint"),
            .client_id = cid, .client_secret = secret, .refresh_token = refresh,
            .connect_timeout_ms = sb_settings_int(&e->settings, "api.connect_timeout_ms"),
            .timeout_ms = sb_settings_int(&e->settings, "api.timeout_ms"),
            .max_retries = (int)sb_settings_int(&e->settings, "api.max_retries"),
            .rate_scale = sb_settings_num(&e->settings, "api.rate_scale"),
            .max_wait_ms = SB_ENGINE_MAX_WAIT_MS,
            .stop = e->stop,
        };
        if (c.max_retries == 0) c.max_retries = -1;
        if (c.rate_scale != 1 && !sb_settings_url_loopback(c.endpoint))
            rc = sb_seterr(err, SB_EINVAL, "api.rate_scale is %g, but api.endpoint %s is not the simulator: Amazon's "
                           "rate limits are Amazon's, and calls faster than they allow are refused with 429 "
                           "(the scale is only for the simulator on a loopback address); set api.rate_scale 1",
                           c.rate_scale, c.endpoint);
        else if (sb_clock_scale() != 1 && !(sb_settings_url_loopback(c.endpoint) && sb_settings_url_loopback(c.lwa_endpoint)))
            rc = sb_seterr(err, SB_EINVAL, "the clock runs %g times faster than real time (--clock or %s), but %s %s is "
                           "not the simulator: Amazon's clock, rate limits and processing times are real time, so a "
                           "scaled clock is only for the simulator on a loopback address; unset %s",
                           sb_clock_scale(), SB_CLOCK_ENV, sb_settings_url_loopback(c.endpoint) ? "api.lwa_endpoint" : "api.endpoint",
                           sb_settings_url_loopback(c.endpoint) ? c.lwa_endpoint : c.endpoint, SB_CLOCK_ENV);
        else if (!(e->api = sb_spapi_new(&c, err))) rc = SB_EINVAL;
    }
    sb_secrets_wipe(cid);
    sb_secrets_wipe(secret);
    sb_secrets_wipe(refresh);
    if (rc) sb_warn("amazon client not ready integration=%s: %s", e->name, err);
    return rc;
}

int sb_engine_record_run(sb_engine *e, const char *job, int ok, const char *message,
                         const char *counts, const char *fingerprint, char *err) {
    char *clean = message ? strdup(message) : NULL;
    if (clean) { sb_scrub_all(clean); message = clean; }   /* a stored error keeps no secret */
    int rc = sb_store_record_run(e->store, e->integ, job, sb_now(), ok, message, counts, fingerprint, err);
    free(clean);
    return rc;
}
