/* cmd_sync.c: `sellerbridge sync orders` (one pass now) and `sellerbridge run` (the
 * daemon: every enabled integration's jobs on their schedule until SIGTERM/SIGINT). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "sched/sched.h"
#include "store/jobs.h"
#include "sync/engine.h"
#include "sync/orders.h"
#include "web/web.h"

static volatile int stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

/* On a terminal, a line that grows with the download: a 20,000-order first run is not
 * silent for minutes. */
static void show_progress(void *ud, const sb_orders_result *r) {
    (void)ud;
    fprintf(stderr, "\rsync orders: page %ld, %ld order%s read: %ld new, %ld updated, %ld need attention   ", r->pages,
            r->fetched, r->fetched == 1 ? "" : "s", r->created, r->updated, r->held);
    fflush(stderr);
}

static void print_result(sb_cli *cli, const char *name, const sb_orders_result *r) {
    if (cli->json) {
        printf("{\"integration\":");
        sb_cli_json_str(stdout, name);   /* a name people chose: quoted properly */
        printf(",\"window\":[\"%s\",\"%s\"],\"pages\":%ld,\"fetched\":%ld,\"created\":%ld,"
               "\"updated\":%ld,\"skipped\":%ld,\"held\":%ld,\"rule_errors\":%ld,\"rejected\":%ld,"
               "\"cancelled\":%ld,\"dispatched\":%ld}\n", r->after, r->before, r->pages, r->fetched,
               r->created, r->updated, r->skipped, r->held, r->rule_errors, r->rejected, r->cancelled, r->dispatched);
    } else {
        char counts[512];
        printf("orders %s: window %s .. %s, %s\n", name, r->after, r->before, sb_orders_counts(r, counts, sizeof counts));
    }
}

static int run_sync(sb_cli *cli, int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "products") || !strcmp(argv[1], "stock")))
        return sb_cli_sync_job(cli, argv[1]);
    if (argc == 2 && !strcmp(argv[1], "notifications")) return sb_cli_notifications_sync(cli);
    if (argc != 2 || strcmp(argv[1], "orders"))
        return sb_cli_usage_error(&sb_cmd_sync, "expected a job: orders, notifications, products or stock");
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN], name[128];
    if (sb_cli_open(cli, &s, &integ, name, sizeof name)) return SB_EXIT_FAIL;
    install_signals();
    sb_engine *e = NULL;
    int rc = sb_engine_open(s, cli->db_path, integ, &e, err);
    sb_orders_result r;
    memset(&r, 0, sizeof r);
    int tty = !cli->json && isatty(STDERR_FILENO);
    if (!rc) {
        e->stop = &stop_flag;
        if (tty) e->progress = show_progress;
        rc = sb_sync_orders(e, &r, err);
    }
    if (tty && r.pages) fputc('\n', stderr);   /* the progress line stays, the result follows */
    if (rc == SB_ELATER) {                      /* paused, not failed: the next run goes on */
        print_result(cli, name, &r);
        if (!cli->json) printf("paused: %s\n", err);
        rc = 0;
    } else if (rc) sb_cli_fail("sync", rc, "%s", err);
    else print_result(cli, name, &r);
    sb_engine_close(e);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_sync = {"sync", run_sync,
    "Run one job now: orders, notifications, products or stock",
    "sync orders|notifications|products|stock [--integration NAME] [--json]\n"
    "  orders: download orders updated since orders.last_updated, run the rules, store them\n"
    "  notifications: read Amazon's ORDER_CHANGE notifications from the SQS queue once and store\n"
    "    each order they name (getOrder), deleting each message after its order is stored\n"
    "  products: import listings opened after products.last_updated (merchant listings report)\n"
    "  stock: send changed stock levels with the handling time (patchListingsItem or a feed)"};

/* The dashboard's "run now" and "Update Dispatched Orders" inside the daemon: the
 * scheduler thread owns the engine lock, so the web thread only asks it. */
static int web_run_job(void *ud, const char *job, char *err) {
    (void)ud;
    if (sb_sched_request(job) != 0) return sb_seterr(err, SB_EINVAL, "unknown job '%s'", job);
    return 0;
}

/* A scaled clock (--clock, SELLERBRIDGE_CLOCK) only against the simulator: every
 * integration's endpoints must be loopback URLs, or the daemon does not start. */
static int check_clock(sb_store *s, char *err) {
    if (sb_clock_scale() == 1) return 0;
    sb_store_integ *in;
    int n, rc = sb_store_integrations(s, &in, &n, err);
    for (int k = 0; !rc && k < n; k++) {
        sb_settings set;
        if ((rc = sb_settings_load(s, in[k].id, &set, err))) break;
        for (int i = 0; i < 2 && !rc; i++) {
            const char *name = i ? "api.lwa_endpoint" : "api.endpoint", *v = sb_settings_str(&set, name);
            if (!sb_settings_url_loopback(v))
                rc = sb_seterr(err, SB_EINVAL, "the clock runs %g times faster than real time (--clock or %s), but "
                               "integration %s has %s '%s', not the simulator on a loopback address: Amazon's clock, "
                               "rate limits and processing times are real time; unset the scaled clock",
                               sb_clock_scale(), SB_CLOCK_ENV, in[k].name, name, *v ? v : "(Amazon's)");
        }
        sb_settings_free(&set);
    }
    free(in);
    return rc;
}

static int run_run(sb_cli *cli, int argc, char **argv) {
    const char *listen = "127.0.0.1:8080";
    int web = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc) listen = argv[++i];
        else if (!strcmp(argv[i], "--no-web")) web = 0;
        else return sb_cli_usage_error(&sb_cmd_run, "unknown argument '%s'", argv[i]);
    }
    sb_store *s;
    char err[SB_ERRLEN];
    if (sb_cli_open(cli, &s, NULL, NULL, 0)) return SB_EXIT_FAIL;
    if (check_clock(s, err)) {
        sb_cli_fail("run", SB_EINVAL, "%s", err);
        sb_store_close(s);
        return SB_EXIT_FAIL;
    }
    if (sb_clock_spec()) sb_info("scaled clock %s: %g times real time (simulator only)", sb_clock_spec(), sb_clock_scale());
    int rc = sb_cli_serve(cli, s, web ? listen : NULL);
    sb_store_close(s);
    return rc;
}

int sb_cli_serve(sb_cli *cli, sb_store *s, const char *listen) {
    char err[SB_ERRLEN];
    install_signals();
    sb_web *w = NULL;
    if (listen) {
        sb_web_options wo = {.db_path = cli->db_path, .listen = listen, .integration = cli->integration,
                             .run_job = web_run_job};
        if (sb_web_start(&wo, &w, err)) sb_warn("dashboard not started (the engine runs without it): %s", err);
        else {
            sb_info("dashboard at %s (token in %s)", sb_web_url(w), sb_web_token_path(w));
            if (cli->serve_banner) printf("dashboard at %s (token in %s)\n", sb_web_url(w), sb_web_token_path(w));
        }
    }
    if (cli->serve_banner) { printf("the engine runs; Ctrl-C stops it\n"); fflush(stdout); }
    sb_sched_opts o = {.db_path = cli->db_path, .stop = &stop_flag};
    int rc = sb_sched_run(s, &o, err);
    if (rc) sb_cli_fail("run", rc, "%s", err);
    sb_web_stop(w);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

const sb_command sb_cmd_run = {"run", run_run,
    "Run the engine: every integration's jobs on their schedule, and the dashboard, until SIGTERM or SIGINT",
    "run [--listen ADDR:PORT] [--no-web]\n"
    "  One engine per database. Orders follow orders.auto_download and orders.auto_download_start;\n"
    "  after each orders check: stock (stock.enabled) and tracking confirmations\n"
    "  (additional.auto_update_status); products once a day (products.enabled).\n"
    "  The dashboard listens on 127.0.0.1:8080 unless --listen or --no-web.\n"
    "  --clock SPEC (or SELLERBRIDGE_CLOCK): the simulator's scaled clock (`sellerbridge sim --clock`);\n"
    "  refused unless every endpoint is a loopback URL."};
