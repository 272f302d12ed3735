/* common.h: shared set-up for the SP-API client and simulator tests: a fake clock that
 * both the client and the in-process simulator read (sleeping advances it, so rate
 * limits and backoff cost no real time), stderr captured to a file so the tests can
 * assert that no secret reached a log line, and small request-log helpers. */
#ifndef SB_TEST_SPAPI_COMMON_H
#define SB_TEST_SPAPI_COMMON_H
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/clock.h"
#include "json/json.h"
#include "sim/sim.h"
#include "spapi/spapi.h"
#include "t.h"

static _Atomic int64_t fake_ms;
static inline int64_t fake_now(void *ud) { (void)ud; return atomic_load(&fake_ms); }
static inline void fake_sleep(void *ud, int64_t ms) { (void)ud; if (ms > 0) atomic_fetch_add(&fake_ms, ms); }
static const sb_clock fake_clock = {fake_now, fake_sleep, NULL};

static inline void fake_clock_install(const char *iso) {
    atomic_store(&fake_ms, sb_time_parse(iso) * 1000);
    sb_clock_set(&fake_clock);
}

/* stderr capture */
static int saved_stderr = -1;
static FILE *cap_file;
static inline void capture_stderr(void) {
    if (getenv("SB_TEST_NOCAPTURE")) return;
    fflush(stderr);
    cap_file = tmpfile();
    saved_stderr = dup(2);
    dup2(fileno(cap_file), 2);
}
/* Restores stderr and returns what was written (caller frees); echoes it. */
static inline char *captured_stderr(void) {
    if (!cap_file) return calloc(1, 1);
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    long n = ftell(cap_file);
    char *s = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    rewind(cap_file);
    if (n > 0 && fread(s, 1, (size_t)n, cap_file) != (size_t)n) s[0] = '\0';
    fclose(cap_file);
    fputs(s, stderr);
    return s;
}

/* The request log as a document. */
static inline sb_json *requests(sb_sim *sim) {
    sb_buf b;
    sb_buf_init(&b, 256u << 20);
    char err[SB_ERRLEN];
    sb_json *j = NULL;
    sb_sim_requests_json(sim, &b);
    if (sb_json_parse(b.data, b.len, &j, err)) fprintf(stderr, "request log: %s\n", err);
    sb_buf_free(&b);
    return j;
}

/* Calls of op in the simulator's request log since the last clear. */
static inline int sim_calls(sb_sim *sim, const char *op) {
    sb_json *log = requests(sim);
    int n = 0;
    for (size_t i = 0; i < sb_json_len(log, SB_JSON_ROOT, NULL); i++) {
        const char *o = sb_json_str(log, sb_json_at(log, SB_JSON_ROOT, i), "op");
        n += o && !strcmp(o, op);
    }
    sb_json_free(log);
    return n;
}

static inline sb_spapi *client_for(sb_sim *sim, const char *refresh_token, long timeout_ms, char *err) {
    char lwa[128];
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", sb_sim_url(sim));
    sb_spapi_config c = {.endpoint = sb_sim_url(sim), .lwa_endpoint = lwa, .client_id = SB_SIM_CLIENT_ID,
                         .client_secret = SB_SIM_CLIENT_SECRET,
                         .refresh_token = refresh_token ? refresh_token : SB_SIM_REFRESH_TOKEN,
                         .connect_timeout_ms = 2000, .timeout_ms = timeout_ms, .max_retries = 3,
                         .rate_scale = 1.0, .retry_base_ms = 50};
    return sb_spapi_new(&c, err);
}

#endif
