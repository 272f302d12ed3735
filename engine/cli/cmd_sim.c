/* cmd_sim.c: `sellerbridge sim`: runs the built-in SP-API simulator in the foreground
 * until SIGINT/SIGTERM. The first line on stdout is "listening on http://127.0.0.1:PORT",
 * so a script can read the base URL and point the engine (or curl) at it. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "sim/sim.h"

static int run(sb_cli *cli, int argc, char **argv) {
    sb_sim_options o = {0};
    char err[SB_ERRLEN];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--port") && v) { o.port = (int)strtol(v, &end, 10); i++; }
        else if (!strcmp(a, "--scenario") && v) { o.scenario_path = v; i++; }
        else if (!strcmp(a, "--generate") && v) { o.generate = strtol(v, &end, 10); i++; }
        else if (!strcmp(a, "--seed") && v) { o.seed = strtoull(v, &end, 10); i++; }
        else if (!strcmp(a, "--time-scale") && v) { o.time_scale = strtod(v, &end); i++; }
        else if (!strcmp(a, "--unthrottled")) o.unthrottled = 1;
        else if (!strcmp(a, "--log-requests")) o.log_requests = 1;
        else return sb_cli_usage_error(&sb_cmd_sim, "unknown or incomplete option '%s'", a);
        if (end && *end) return sb_cli_usage_error(&sb_cmd_sim, "'%s' is not a number for %s", v, a);
        if (o.port < 0 || o.port > 65535 || o.generate < 0 || o.generate > 5000000 || o.time_scale < 0)
            return sb_cli_usage_error(&sb_cmd_sim, "value out of range for %s (--generate: 0 to 5000000)", a);
    }
    /* block the stop signals in every thread (MHD's inherit this mask), then wait */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sb_sim *sim = NULL;
    if (sb_sim_start(&o, &sim, err)) {
        fprintf(stderr, "sellerbridge sim: %s\n", err);
        return SB_EXIT_FAIL;
    }
    printf("listening on %s\n", sb_sim_url(sim));
    printf("orders %zu; LWA token URL %s/auth/o2/token; client id %s\n", sb_sim_order_count(sim), sb_sim_url(sim),
           SB_SIM_CLIENT_ID);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "sellerbridge sim: stopping on signal %d\n", sig);
    sb_sim_stop(sim);
    (void)cli;
    return SB_EXIT_OK;
}

const sb_command sb_cmd_sim = {
    "sim", run, "Run the built-in SP-API simulator (loopback) for tests and demos",
    "sim [--port N] [--scenario FILE] [--generate N] [--seed S] [--time-scale X]\n"
    "                        [--unthrottled] [--log-requests]\n"
    "  Serves LWA, Orders, Feeds, Reports and Listings on 127.0.0.1 until SIGINT/SIGTERM.\n"
    "  The first output line is \"listening on http://127.0.0.1:PORT\". Scenario format:\n"
    "  engine/sim/README.md. --time-scale multiplies Amazon's rate limits.\n"};
