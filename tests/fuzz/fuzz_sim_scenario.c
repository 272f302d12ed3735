/* fuzz_sim_scenario.c: the simulator's scenario files and its run-time configuration.
 * The input is a scenario (orders, listings, faults, rates, clock_offset_s,
 * listing_delay_s, processing, schedule, ...): the simulator starts from it or refuses it
 * with a one-line message; a running simulator takes the same text through
 * sb_sim_configure (POST /_sim/config) or refuses it the same way, and then resets. A
 * simulator that starts holds the text's orders and at most 5,000,000 generated ones. */
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "fuzz.h"
#include "sim/sim.h"

static sb_sim *running;

static void stop_running(void) { sb_sim_stop(running); running = NULL; }

static int64_t fixed_now(void *ud) { (void)ud; return 1796032800000LL; }   /* 2026-12-01T00:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[SB_ERRLEN] = "";
    char *text = sb_fuzz_cstr(data, size);
    sb_log_set_level(SB_LOG_OFF);
    if (!running) {
        sb_sim_options base = {.scenario_json = "{}", .now_ms = fixed_now};
        if (sb_sim_start(&base, &running, err)) abort();       /* the fixture, not a finding */
        sb_fuzz_atexit(stop_running);
    }
    /* 1. as a scenario file */
    sb_sim *sim = NULL;
    sb_sim_options o = {.scenario_json = text, .now_ms = fixed_now};
    int rc = sb_sim_start(&o, &sim, err);
    if (rc) {
        if (!err[0] || strchr(err, '\n') || sim) abort();      /* refused with one line, nothing left running */
    } else {
        if (!sim) abort();
        if (sb_sim_order_count(sim) > size + 5000000) abort();  /* the text's orders and at most 5M generated */
        if (sb_sim_reset(sim, err)) abort();                   /* what started can start again */
        sb_sim_stop(sim);
    }
    /* 2. as run-time configuration of a running simulator */
    err[0] = '\0';
    if (sb_sim_configure(running, text, err) && (!err[0] || strchr(err, '\n'))) abort();
    if (sb_sim_reset(running, err)) abort();
    free(text);
    return 0;
}
