/* cmd_notify.c: `sellerbridge notifications SUBCOMMAND`: Amazon's ORDER_CHANGE
 * notifications through the seller's SQS queue. Sub-commands come from the table below
 * (`setup`, and `status`: the notifications document, cmd_notify_run.c). setup runs
 * engine/sync/notify_setup.c, the same as the dashboard's POST /api/v1/notifications/setup,
 * and --json prints that endpoint's document. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "sync/notify_setup.h"

static int run_setup(sb_cli *cli, int argc, char **argv) {
    for (int i = 2; i < argc; i++) return sb_cli_usage_error(&sb_cmd_notifications, "unknown argument '%s'", argv[i]);
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN], name[128];
    if (sb_cli_open(cli, &s, &integ, name, sizeof name)) return SB_EXIT_FAIL;
    sb_notify_setup_result r;
    int rc = sb_notify_setup(s, cli->db_path, integ, &r, err);
    sb_store_close(s);
    if (rc) return sb_cli_fail("notifications setup", rc, "%s", err);
    if (cli->json) {
        sb_buf b;
        sb_buf_init(&b, 1u << 20);
        if (sb_notify_setup_json(&r, &b)) { sb_buf_free(&b); return sb_cli_fail("notifications setup", SB_ENOMEM, "out of memory"); }
        printf("%.*s\n", (int)b.len, b.data ? b.data : "");
        sb_buf_free(&b);
        if (!r.ok) sb_cli_failure_documented();
    } else {
        printf("notifications setup for %s:\n", sb_cli_text(r.integration));
        for (int i = 0; i < SB_NOTIFY_STEPS; i++) {
            const sb_notify_step *st = &r.steps[i];
            const char *mark = st->status == SB_NOTIFY_OK ? (st->changed ? "OK (changed)" : "OK")
                             : st->status == SB_NOTIFY_FAILED ? "FAILED" : "not run";
            printf("  %-13s %-13s %s\n", st->name, mark, sb_cli_text(st->message));
            if (st->fix[0]) {
                /* one line per thing to do */
                char copy[sizeof st->fix];
                snprintf(copy, sizeof copy, "%s", st->fix);
                char *save = NULL;
                for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                    printf("  %-13s %-13s -> %s\n", "", "", sb_cli_text(l));
            }
        }
        char msg[256];
        printf("%s\n", sb_notify_setup_summary(&r, msg, sizeof msg));
    }
    return r.ok ? SB_EXIT_OK : SB_EXIT_FAIL;
}

static int run_status(sb_cli *cli, int argc, char **argv) {
    return sb_cli_notifications_status(cli, &sb_cmd_notifications, argc, argv);
}

static const struct { const char *name; int (*run)(sb_cli *, int, char **); } subs[] = {
    {"setup", run_setup},
    {"status", run_status},
};

static int run_notifications(sb_cli *cli, int argc, char **argv) {
    if (argc < 2) return sb_cli_usage_error(&sb_cmd_notifications, "missing subcommand");
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (!strcmp(argv[1], subs[i].name)) return subs[i].run(cli, argc, argv);
    return sb_cli_usage_error(&sb_cmd_notifications, "unknown subcommand '%s'", argv[1]);
}

const sb_command sb_cmd_notifications = {"notifications", run_notifications,
    "Connect the seller's SQS queue to Amazon's ORDER_CHANGE notifications (setup) and see how they arrive (status)",
    "notifications setup|status [--integration NAME] [--json]\n"
    "  Checks the settings (notifications.queue_url, notifications.region, the aws.* credentials),\n"
    "  reads the queue's attributes with the reader's keys and says what Amazon needs that is\n"
    "  missing (a Standard queue, a policy letting 437568002678 sqs:SendMessage and\n"
    "  sqs:GetQueueAttributes, the KMS key policy, a dead-letter queue), finds or creates the\n"
    "  destination (getDestinations, createDestination) and the ORDER_CHANGE subscription, stores\n"
    "  notifications.destination_id and subscription_id and turns notifications.enabled on when\n"
    "  every step passed. Safe to run again: a second run changes nothing. Exit 1 when a step\n"
    "  failed (each says what to do). --json prints POST /api/v1/notifications/setup's document.\n"
    "  status: whether notifications arrive (off, no queue, not subscribed, waiting for the first,\n"
    "  arriving, failing), the last one and its lag, copies Amazon sent again, failed and set-aside\n"
    "  ones with why, the orders each path brought, the last read of the queue. --json prints\n"
    "  GET /api/v1/notifications."};
