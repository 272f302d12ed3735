/* test_views.c: engine/views on a scratch database, without HTTP or argv.
 *
 * Pins: a paged list's total is exact up to SB_VIEW_COUNT_CAP past its offset and says
 * when it stopped counting; has_more follows; the filters each narrow the list; a bad
 * argument is SB_EINVAL naming it (with the front end's prefix) and what is allowed; a
 * query that fails is SB_EIO (never an empty list); an order that is not stored is
 * SB_ENOTFOUND; unknown documents and missing ids are refused; the orders chart's
 * document counts per day by stage and by branch. */
#include <stdlib.h>
#include <string.h>
#include "json/json.h"
#include "store/store.h"
#include "views/views.h"
#include "t.h"
#include "support/json_get.h"
#include "store/store_int.h"

static sb_store *S;
static int64_t INTEG;

/* Builds doc with "name=value" pairs (NULL-terminated); returns the code, the text in b. */
static int build(const char *doc, const char *id, const char *const *kv, sb_buf *b, char *err) {
    sb_view_args a = {0};
    for (int i = 0; kv && kv[i]; i += 2) sb_view_args_add(&a, kv[i], kv[i + 1], NULL);
    sb_view_ctx c = {.s = S, .integ = INTEG, .integ_name = "main", .db_path = NULL, .arg_prefix = "--"};
    sb_buf_reset(b);
    return sb_view_build(&c, doc, id, &a, b, err);
}

static long num(sb_buf *b, const char *path) { return (long)t_jnum(b, path); }
static int flag(sb_buf *b, const char *path) { return t_jflag(b, path); }

int main(void) {
    char dir[] = "/tmp/sbviewsXXXXXX", path[128], err[SB_ERRLEN];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/v.db", dir);
    T_EQ(sb_store_open(path, SB_STORE_CREATE, &S, err), 0);
    T_EQ(sb_store_integration_add(S, "main", &INTEG, err), 0);
    /* 10,050 open orders, 7 needing attention (one of them buyer 'Zoë 100%'), 3 cancelled */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10060) "
             "INSERT INTO sales_orders(integration_id, source, order_ref, stage, amazon_status, buyer_name) "
             "SELECT %lld, 'amazon', printf('111-%%07d', i), CASE WHEN i <= 7 THEN 'needs_attention' "
             "WHEN i <= 10 THEN 'cancelled' ELSE 'open' END, CASE WHEN i <= 10 THEN 'CANCELED' ELSE 'UNSHIPPED' END, "
             "CASE WHEN i = 3 THEN 'Zoë 100%%' ELSE 'Buyer ' || i END FROM n", (long long)INTEG);
    T_EQ(sb_store_exec(S, sql, err), 0);
    sb_buf b;
    sb_buf_init(&b, 1 << 26);

    /* totals: capped past SB_VIEW_COUNT_CAP, exact near the end */
    const char *first[] = {"limit", "10", NULL};
    T_EQ(build("orders", NULL, first, &b, err), 0);
    T_EQ(num(&b, "total"), SB_VIEW_COUNT_CAP);
    T_EQ(flag(&b, "total_capped"), 1);
    T_EQ(flag(&b, "has_more"), 1);
    T_CONTAINS(b.data, "\"orders\":[{\"order\":\"111-0010060\"");      /* newest first */
    const char *last[] = {"limit", "10", "offset", "10055", NULL};
    T_EQ(build("orders", NULL, last, &b, err), 0);
    T_EQ(num(&b, "total"), 10060);
    T_EQ(flag(&b, "total_capped"), 0);
    T_EQ(flag(&b, "has_more"), 0);
    T_EQ(num(&b, "page"), 1006);
    T_CONTAINS(b.data, "\"order\":\"111-0000005\"");
    const char *page[] = {"limit", "25", "page", "3", NULL};
    T_EQ(build("orders", NULL, page, &b, err), 0);
    T_EQ(num(&b, "offset"), 50);

    /* filters */
    const char *held[] = {"stage", "needs_attention", NULL};
    T_EQ(build("orders", NULL, held, &b, err), 0);
    T_EQ(num(&b, "total"), 7);
    T_EQ(flag(&b, "has_more"), 0);
    const char *status[] = {"status", "CANCELED", "stage", "cancelled", NULL};
    T_EQ(build("orders", NULL, status, &b, err), 0);
    T_EQ(num(&b, "total"), 3);
    const char *search[] = {"search", "100%", NULL};                /* '%' is a character here */
    T_EQ(build("orders", NULL, search, &b, err), 0);
    T_EQ(num(&b, "total"), 1);
    T_CONTAINS(b.data, "\"customer\":\"Zoë 100%\"");
    const char *search2[] = {"search", "111-000000_", NULL};        /* so is '_' */
    T_EQ(build("orders", NULL, search2, &b, err), 0);
    T_EQ(num(&b, "total"), 0);
    T_EQ(build("attention", NULL, NULL, &b, err), 0);
    T_EQ(num(&b, "total"), 7);
    T_CONTAINS(b.data, "\"choices\":{\"branches\":");

    /* refused arguments name the option and what is allowed */
    const char *bad[][5] = {{"stage", "bogus", NULL}, {"limit", "x", NULL}, {"limit", "501", NULL},
                            {"page", "0", NULL}, {"offset", "-1", NULL}, {"search", "", "limit", "5x", NULL}};
    const char *want[] = {"--stage: 'bogus' is not allowed (allowed: open, needs_attention, rule_error, rejected, dispatched, cancelled)",
                          "--limit: 'x' is not allowed (allowed: a whole number from 1 to 500)",
                          "--limit: '501' is not allowed (allowed: a whole number from 1 to 500)",
                          "--page: '0' is not allowed", "--offset: '-1' is not allowed", "--limit: '5x' is not allowed"};
    for (int i = 0; i < 6; i++) {
        T_EQ(build("orders", NULL, bad[i], &b, err), SB_EINVAL);
        T_CONTAINS(err, want[i]);
    }
    const char *stock_bad[] = {"errors", "2", NULL};
    T_EQ(build("stock", NULL, stock_bad, &b, err), SB_EINVAL);
    T_CONTAINS(err, "--errors: '2' is not allowed (allowed: a whole number from 0 to 1)");
    T_CHECK(sb_view_takes("orders", "stage") && sb_view_takes("orders", "search") && !sb_view_takes("orders", "stag"));
    T_CHECK(!sb_view_takes("order", "limit") && !sb_view_takes("nothing", "limit"));

    /* records and documents that are not there */
    T_EQ(build("order", "NO-SUCH", NULL, &b, err), SB_ENOTFOUND);
    T_STREQ(err, "order NO-SUCH is not stored for this integration");
    T_EQ(build("order", NULL, NULL, &b, err), SB_EINVAL);
    T_EQ(build("nothing", NULL, NULL, &b, err), SB_ENOTFOUND);
    T_EQ(build("setting", "no.such", NULL, &b, err), SB_ENOTFOUND);
    T_EQ(build("order", "111-0000003", NULL, &b, err), 0);
    T_CONTAINS(b.data, "{\"order\":\"111-0000003\",\"splits\":[{\"id\":");

    /* a query that fails is an error, not an empty list */
    T_EQ(sb_store_exec(S, "DROP TABLE stock_sent", err), 0);
    T_EQ(build("stock", NULL, NULL, &b, err), SB_EIO);
    T_CONTAINS(err, "stock: no such table: stock_sent");
    T_EQ(sb_store_exec(S, "DROP TABLE outbox", err), 0);
    T_EQ(build("outbox", NULL, NULL, &b, err), SB_EIO);

    /* sync health per hour: the 48 hours before the latest run, runs of every job counted
     * where they belong, a failed run, a paused check, unreadable counts left out */
    snprintf(sql, sizeof sql,
             "INSERT INTO job_runs(integration_id, job, at, ok, counts) VALUES "
             "(%1$lld, 'orders', '2026-11-25T09:00:00Z', 1, '{\"created\":50}'),"          /* more than 48 h before */
             "(%1$lld, 'orders', '2026-11-27T09:05:00Z', 1, '{\"created\":3,\"updated\":1}'),"
             "(%1$lld, 'orders', '2026-11-27T09:40:00Z', 0, '{\"created\":0}'),"
             "(%1$lld, 'orders', '2026-11-27T10:00:00Z', 1, '{\"created\":2,\"paused_until\":\"2026-11-27T10:03:00Z\"}'),"
             "(%1$lld, 'notifications', '2026-11-27T10:10:00Z', 1, '{\"received\":4,\"new\":3,\"updated\":1}'),"
             "(%1$lld, 'stock', '2026-11-27T10:20:00Z', 1, 'not json'),"
             "(%1$lld, 'stock', '2026-11-27T10:25:00Z', 1, '{\"accepted\":7,\"failed\":2,\"rule_errors\":1}')", (long long)INTEG);
    T_EQ(sb_store_exec(S, sql, err), 0);
    T_EQ(build("sync_per_hour", NULL, NULL, &b, err), 0);
    T_STREQ(b.data, "{\"hours\":[\"2026-11-27T09\",\"2026-11-27T10\"],\"checks\":[2,1],\"downloaded\":[4,2],"
                    "\"notified\":[0,4],\"failed\":[1,0],\"paused\":[0,1],\"notifications\":[0,4],"
                    "\"stock_accepted\":[0,7],\"stock_refused\":[0,3]}");

    /* orders per day (created) by stage and by branch: the 30 days up to the newest order,
     * the branches by name, an order without one under "no branch" */
    snprintf(sql, sizeof sql,
             "INSERT INTO sales_orders(integration_id, source, order_ref, stage, branch, created_time) VALUES "
             "(%1$lld, 'amazon', 'P-1', 'open', 'LA Warehouse', '2026-11-03T10:00:00Z'),"
             "(%1$lld, 'amazon', 'P-2', 'open', 'LA Warehouse', '2026-11-03T11:00:00Z'),"
             "(%1$lld, 'amazon', 'P-3', 'needs_attention', 'NJ Warehouse', '2026-11-03T12:00:00Z'),"
             "(%1$lld, 'amazon', 'P-4', 'cancelled', 'LA Warehouse', '2026-11-05T09:00:00Z'),"
             "(%1$lld, 'amazon', 'P-5', 'rule_error', NULL, '2026-11-05T10:00:00Z'),"
             "(%1$lld, 'amazon', 'P-6', 'open', 'LA Warehouse', '2026-10-01T00:00:00Z')", (long long)INTEG);
    T_EQ(sb_store_exec(S, sql, err), 0);
    T_EQ(build("orders_per_day", NULL, NULL, &b, err), 0);
    T_STREQ(b.data, "{\"days\":[\"2026-11-03\",\"2026-11-05\"],\"stages\":{\"open\":[2,0],\"needs_attention\":[1,0],"
                    "\"rule_error\":[0,1],\"rejected\":[0,0],\"dispatched\":[0,0],\"cancelled\":[0,1]},"
                    "\"branches\":{\"LA Warehouse\":[2,1],\"NJ Warehouse\":[1,0],\"no branch\":[0,1]}}");
    /* 20 more branches: 15 series by name, the rest (B13..B20) as "other branches" */
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) "
             "INSERT INTO sales_orders(integration_id, source, order_ref, stage, branch, created_time) "
             "SELECT %lld, 'amazon', printf('Q-%%02d', i), 'open', printf('B%%02d', i), '2026-11-05T11:00:00Z' FROM n",
             (long long)INTEG);
    T_EQ(sb_store_exec(S, sql, err), 0);
    T_EQ(build("orders_per_day", NULL, NULL, &b, err), 0);
    T_CONTAINS(b.data, "\"stages\":{\"open\":[2,20],");
    T_CONTAINS(b.data, "\"branches\":{\"B01\":[0,1],");
    T_CONTAINS(b.data, "\"B12\":[0,1],\"LA Warehouse\":[2,1],\"NJ Warehouse\":[1,0],\"no branch\":[0,1],"
                       "\"other branches\":[0,8]}}");
    T_CHECK(strstr(b.data, "B13") == NULL);
    /* every document's reads (store/listing.h, store/reports.h) fail with SQLite's cause:
     * each row drops one more table, after the documents read earlier ones */
    static const struct { const char *drop, *doc, *id, *kv, *cause; } broken[] = {
        {"audit_log", "explain", "111-0000003", NULL, "decisions: no such table: main.audit_log"},
        {"shipments", "order", "111-0000003", NULL, "shipments: no such table: shipments"},
        {NULL, "dispatch", NULL, NULL, "confirm_states: no such table: shipments"},
        {"job_runs", "sync_per_hour", NULL, NULL, "sync per hour: no such table: job_runs"},
        {"sync_state", "jobs", NULL, NULL, "jobs: no such table: sync_state"},
        {NULL, "summary", NULL, NULL, "summary: no such table: sync_state"},
        {"gl_accounts", "attention", NULL, NULL, "gl_accounts: no such table: gl_accounts"},
        {NULL, "settings", NULL, NULL, "gl_accounts: no such table: gl_accounts"},
        {"sales_order_lines", "order", "111-0000003", NULL, "order lines: no such table: sales_order_lines"},
        {NULL, "orders", NULL, "MUG", "orders: no such table: sales_order_lines"},
        {NULL, "attention", NULL, NULL, "attention: no such table: sales_order_lines"},
        {"customers", "orders", NULL, NULL, "orders: no such table: customers"},
        {"sales_orders", "orders_per_day", NULL, NULL, "orders per day: no such table: sales_orders"},
    };
    for (size_t i = 0; i < sizeof broken / sizeof *broken; i++) {
        if (broken[i].drop) {
            snprintf(sql, sizeof sql, "PRAGMA foreign_keys=OFF; DROP TABLE %s;", broken[i].drop);
            T_EQ(sb_store_exec(S, sql, err), 0);
        }
        const char *kv[] = {"search", broken[i].kv, NULL};
        err[0] = '\0';
        T_EQ(build(broken[i].doc, broken[i].id, broken[i].kv ? kv : NULL, &b, err), SB_EIO);
        T_CONTAINS(err, broken[i].cause);
    }

    /* the error document */
    sb_buf_reset(&b);
    sb_view_error_doc(&b, sb_view_code_of(SB_ENOTFOUND), "order \"X\" is not stored");
    T_STREQ(b.data, "{\"error\":\"order \\\"X\\\" is not stored\",\"code\":\"not_found\"}");

    sb_buf_free(&b);
    sb_store_close(S);
    snprintf(sql, sizeof sql, "rm -rf '%s'", dir);
    if (system(sql)) {}
    return t_done();
}
