/* cmd_notify_run.c: the notifications job from the command line:
 *   sync notifications       one read of the SQS queue and the orders it brought
 *   notifications status     the notifications document (engine/views), as a table or --json
 * (`notifications setup` is cmd_notify.c's). */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "sync/engine.h"
#include "sync/notify.h"

int sb_cli_notifications_sync(sb_cli *cli) {
    sb_store *s;
    sb_engine *e;
    int64_t integ;
    char err[SB_ERRLEN] = "", name[128];
    if (sb_cli_open(cli, &s, &integ, name, sizeof name)) return SB_EXIT_FAIL;
    if (sb_engine_open(s, cli->db_path, integ, &e, err)) {
        sb_cli_fail("sync", SB_ERR, "%s", err);
        sb_store_close(s);
        return SB_EXIT_FAIL;
    }
    sb_notify_result r;
    int rc = sb_sync_notifications(e, NULL, &r, err);
    int on = sb_settings_bool(&e->settings, "notifications.enabled");
    if (rc && rc != SB_ELATER) sb_cli_fail("sync", rc, "notifications %s: %s", name, err);
    else if (cli->json) {
        char counts[320];
        sb_notify_counts(&r, counts, sizeof counts);
        printf("{\"integration\":");
        sb_cli_json_str(stdout, name);
        printf(",\"enabled\":%s,\"waiting\":%s,\"counts\":%s}\n", on ? "true" : "false",
               rc == SB_ELATER ? "true" : "false", counts);
    }
    else if (!on)
        printf("notifications %s: off (notifications.enabled=false; see `sellerbridge notifications setup`)\n", name);
    else {
        printf("notifications %s: %ld message%s, %ld order%s fetched: %ld new, %ld updated, %ld unchanged; "
               "%ld duplicate%s, %ld ignored, %ld failed, %ld set aside; %ld deleted from the queue\n", name,
               r.received, r.received == 1 ? "" : "s", r.orders, r.orders == 1 ? "" : "s", r.created, r.updated,
               r.unchanged, r.duplicates, r.duplicates == 1 ? "" : "s", r.ignored, r.failed, r.poison, r.deleted);
        if (rc == SB_ELATER) printf("  the rest waits for Amazon's getOrder rate limit: %s\n", err);
    }
    sb_engine_close(e);
    sb_store_close(s);
    return rc && rc != SB_ELATER ? SB_EXIT_FAIL : SB_EXIT_OK;
}

static void draw_status(sb_json *j) {
    printf("notifications %s: %s\n", sb_cli_cell(j, SB_JSON_ROOT, "integration"), sb_cli_cell(j, SB_JSON_ROOT, "health"));
    printf("  queue          %s (%s)\n", *sb_cli_cell(j, SB_JSON_ROOT, "queue_url") ? sb_cli_cell(j, SB_JSON_ROOT, "queue_url")
                                                                                     : "(not set)",
           sb_cli_cell(j, SB_JSON_ROOT, "region"));
    printf("  subscription   %s\n", *sb_cli_cell(j, SB_JSON_ROOT, "subscription_id") ? sb_cli_cell(j, SB_JSON_ROOT, "subscription_id")
                                                                                      : "(none)");
    int n = sb_json_get(j, SB_JSON_ROOT, "notifications");
    printf("  last received  %s\n", *sb_cli_cell(j, n, "last_received") ? sb_cli_cell(j, n, "last_received") : "never");
    printf("  lag            last %s ms, largest %s ms (Amazon's EventTime to the order stored)\n",
           *sb_cli_cell(j, n, "last_lag_ms") ? sb_cli_cell(j, n, "last_lag_ms") : "-",
           *sb_cli_cell(j, n, "max_lag_ms") ? sb_cli_cell(j, n, "max_lag_ms") : "-");
    printf("  kept           %s: %s done, %s waiting, %s failed, %s set aside, %s ignored; %s duplicate deliveries\n",
           sb_cli_cell(j, n, "kept"), sb_cli_cell(j, n, "done"), sb_cli_cell(j, n, "waiting"), sb_cli_cell(j, n, "failed"),
           sb_cli_cell(j, n, "poison"), sb_cli_cell(j, n, "ignored"), sb_cli_cell(j, n, "duplicates"));
    printf("  orders by      notification %s, download %s (the download runs at most every %s minutes while "
           "notifications arrive)\n", sb_cli_cell(j, SB_JSON_ROOT, "orders_by.notification"),
           sb_cli_cell(j, SB_JSON_ROOT, "orders_by.download"), sb_cli_cell(j, SB_JSON_ROOT, "sweep_minutes"));
    int l = sb_json_get(j, SB_JSON_ROOT, "last_read");
    printf("  last read      %s%s%s\n", *sb_cli_cell(j, l, "at") ? sb_cli_cell(j, l, "at") : "never",
           *sb_cli_cell(j, l, "error") ? ": " : "", sb_cli_cell(j, l, "error"));
    int p = sb_json_get(j, SB_JSON_ROOT, "set_aside");
    for (size_t i = 0; i < sb_json_len(j, p, NULL); i++) {
        int x = sb_json_at(j, p, i);
        printf("  set aside      %s order %s after %s tries: %s\n", sb_cli_cell(j, x, "notification_id"),
               sb_cli_cell(j, x, "order"), sb_cli_cell(j, x, "tries"), sb_cli_cell(j, x, "error"));
    }
}

int sb_cli_notifications_status(sb_cli *cli, const sb_command *cmd, int argc, char **argv) {
    sb_view_args a = {0};
    if (sb_cli_view_args(cmd, "notifications", argc, argv, 2, NULL, &a)) return SB_EXIT_USAGE;
    return sb_cli_view(cli, cmd, "notifications", NULL, &a, draw_status);
}
