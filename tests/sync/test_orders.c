/* test_orders.c: the order download, and the jobs that follow it (confirmations, stock),
 * end to end against the in-process simulator, driven by case files in cases/ (tests as
 * data). Each case starts from a fresh database with the sample data of examples/data and
 * the demo settings, and a fresh simulator holding the demo scenario. Directives, one per
 * line:
 *
 *   sim generate=N            restart the simulator with N generated orders added
 *   set NAME VALUE            a setting (VALUE "now-Nd" = N days before the clock)
 *   pack DIR                  write the following "file NAME" blocks into a temp pack
 *   file NAME ... eof         a rule file for the pack
 *   sync [fail|paused]        one orders pass; "fail" expects it to fail, "paused" to stop
 *                             for Amazon's rate limit (SB_ELATER: come back later)
 *   retry                     re-run held orders
 *   fix REF BRANCH|- [resolve] a person's fix (sb_orders_fix); "fix! ..." expects a refusal
 *   order JSON                add or change an order in the simulator; "@now-N" in it becomes the
 *                             time N seconds before the clock ("@now" the clock)
 *   dispatchline REF SKU QTY  a person dispatches QTY of SKU of order REF (a package)
 *   fault JSON                inject a simulator fault
 *   clearfaults
 *   advance SECONDS           move the clock on
 *   integration NAME          add an integration (copying the demo settings) and use it
 *   expect SQL => RESULT      rows joined by ';', columns by '|', NULL as ''
 *   consistent                stock reserved equals the open order lines
 *   sql STATEMENT             change the database directly (a person's edit elsewhere)
 *   simconfig JSON            sb_sim_configure (listings, repeat_confirmation, clock_offset_s, ...)
 *   dispatch REF CARRIER TRACKING   dispatch the whole order (queued when auto update is on)
 *   track [manual] [fail]     one run of the confirmation sender
 *   stock [fail]              one stock upload run
 *   requests OP [STATUS] => N the simulator logged N calls of OP (with that status)
 *   clearrequests             empty the simulator's request log
 *   listing SKU => QTY        the simulator's quantity for SKU
 */
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/embed.h"
#include "core/log.h"
#include "csvio/csvio.h"
#include "json/json.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "sim/sim.h"
#include "sync/engine.h"
#include "sync/fix.h"
#include "sync/orders.h"
#include "sync/stock.h"
#include "sync/tracking.h"
#include "support/sim_log.h"
#include "t.h"
#include "store/store_int.h"

static int64_t offset_ms;
static int64_t test_now(void *ud) {
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms;
}
static void test_sleep(void *ud, int64_t ms) { (void)ud; offset_ms += ms; }   /* waiting costs nothing */
static const sb_clock test_clock = {test_now, test_sleep, NULL};

typedef struct ctx {
    char dir[64], db[96];
    sb_store *s;
    int64_t integ;
    sb_sim *sim;
    const char *file;
    int line;
    char pack[128];
} ctx;

static const char *const kinds[] = {"branches", "customer_groups", "gl_accounts", "products", "boms", "stock",
                                    "customers", "orders", NULL};

static int point_at_sim(ctx *c, int64_t integ) {
    char err[SB_ERRLEN], lwa[256];
    unsigned char key[SB_KEY_LEN];
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", sb_sim_url(c->sim));
    int rc = sb_settings_set(c->s, integ, "api.endpoint", sb_sim_url(c->sim), err);
    if (!rc) rc = sb_settings_set(c->s, integ, "api.lwa_endpoint", lwa, err);
    if (!rc) rc = sb_settings_set(c->s, integ, "api.max_retries", "2", err);
    if (!rc) rc = sb_settings_set(c->s, integ, "api.timeout_ms", "5000", err);
    if (!rc) rc = sb_secrets_key(c->db, 1, key, err);
    if (!rc) rc = sb_secrets_put(c->s, integ, "lwa.client_id", SB_SIM_CLIENT_ID, key, err);
    if (!rc) rc = sb_secrets_put(c->s, integ, "lwa.client_secret", SB_SIM_CLIENT_SECRET, key, err);
    if (!rc) rc = sb_secrets_put(c->s, integ, "lwa.refresh_token", SB_SIM_REFRESH_TOKEN, key, err);
    if (rc) fprintf(stderr, "%s: set-up: %s\n", c->file, err);
    return rc;
}

static const char *const demo_settings[][2] = {
    {"additional.mf_branch", "LA Warehouse"}, {"orders.fba_branch", "Amazon FBA"},
    {"orders.statuses", "UNSHIPPED,PARTIALLY_SHIPPED,SHIPPED"}, {"orders.customer_group", "Amazon Retail"},
    {"orders.gl_account", "4010"}, {"orders.routing.enabled", "true"},
    {"orders.routing.grid", "[{\"countries\":[\"US\"],\"states\":[\"NY\",\"NJ\",\"PA\",\"MA\",\"FL\"],"
                            "\"branch\":\"NJ Warehouse\",\"backups\":[\"LA Warehouse\"]},"
                            "{\"countries\":[\"US\"],\"branch\":\"LA Warehouse\",\"backups\":[\"NJ Warehouse\"]},"
                            "{\"countries\":[\"AU\"],\"branch\":\"Sydney\",\"backups\":[\"Melbourne\"]}]"},
    {"orders.bom_expand", "true"}, {"orders.last_updated", "2026-11-01T00:00:00Z"},
    {"integration.marketplaces", "ATVPDKIKX0DER,A39IBJ37TRP1C6"}, {NULL, NULL}};

static int start_sim(ctx *c, long generate) {
    char err[SB_ERRLEN];
    if (c->sim) sb_sim_stop(c->sim);
    c->sim = NULL;
    const sb_embedded_file *scen = sb_embed_find("examples/data/demo-scenario.json");
    sb_sim_options so = {.scenario_json = scen->data, .generate = generate, .seed = 7, .unthrottled = 1};
    if (sb_sim_start(&so, &c->sim, err)) { fprintf(stderr, "%s: sim: %s\n", c->file, err); return -1; }
    return point_at_sim(c, c->integ);
}

static int setup(ctx *c) {
    char err[SB_ERRLEN];
    snprintf(c->dir, sizeof c->dir, "/tmp/sbsyncXXXXXX");
    if (!mkdtemp(c->dir)) return -1;
    snprintf(c->db, sizeof c->db, "%s/t.db", c->dir);
    setenv("SELLERBRIDGE_KEY_FILE", "", 1);
    unsetenv("SELLERBRIDGE_KEY_FILE");
    if (sb_store_open(c->db, SB_STORE_CREATE, &c->s, err)) { fprintf(stderr, "%s\n", err); return -1; }
    if (sb_store_integration_add(c->s, "main", &c->integ, err)) return -1;
    for (int i = 0; kinds[i]; i++) {
        char path[64];
        sb_csv_result res;
        snprintf(path, sizeof path, "examples/data/%s.csv", kinds[i]);
        const sb_embedded_file *f = sb_embed_find(path);
        if (!f || sb_csv_import_mem(c->s, c->integ, kinds[i], path, f->data, f->len, &res, err)) { fprintf(stderr, "%s\n", err); return -1; }
    }
    for (int i = 0; demo_settings[i][0]; i++)
        if (sb_settings_set(c->s, c->integ, demo_settings[i][0], demo_settings[i][1], err)) { fprintf(stderr, "%s\n", err); return -1; }
    return start_sim(c, 0);
}

static void teardown(ctx *c) {
    sb_sim_stop(c->sim);
    sb_store_close(c->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", c->dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", c->dir);
}

static void query(ctx *c, const char *sql, char *out, size_t len) {
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(c->s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(out, len, "SQL error: %s", sqlite3_errmsg(c->s->db));
        return;
    }
    for (int row = 0; sqlite3_step(st) == SQLITE_ROW; row++) {
        size_t l = strlen(out);
        if (row) snprintf(out + l, len - l, ";");
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            l = strlen(out);
            const char *v = (const char *)sqlite3_column_text(st, i);
            char num[64];
            if (sqlite3_column_type(st, i) == SQLITE_FLOAT) { snprintf(num, sizeof num, "%g", sqlite3_column_double(st, i)); v = num; }
            snprintf(out + l, len - l, "%s%s", i ? "|" : "", v ? v : "");
        }
    }
    sqlite3_finalize(st);
}

/* expect: 0 ok, 1 a failure, 2 a pause for Amazon's rate limit (SB_ELATER) */
static int run_sync(ctx *c, int expect) {
    char err[SB_ERRLEN] = "";
    sb_engine *e = NULL;
    sb_orders_result r;
    int rc = sb_engine_open(c->s, c->db, c->integ, &e, err);
    if (!rc) rc = sb_sync_orders(e, &r, err);
    sb_engine_close(e);
    if (expect == 2) {
        if (rc == SB_ELATER && strstr(err, "grants the next call at")) return 0;
        fprintf(stderr, "%s:%d: sync should have paused for the rate limit: rc %d %s\n", c->file, c->line, rc, err);
        return -1;
    }
    if (!expect && rc) { fprintf(stderr, "%s:%d: sync failed: %s\n", c->file, c->line, err); return -1; }
    if (expect && !rc) { fprintf(stderr, "%s:%d: sync should have failed\n", c->file, c->line); return -1; }
    return 0;
}

/* One run of a job on a fresh engine: kind 't' tracking (manual when flag), 's' stock,
 * 'd' dispatch of ref (args: ref, carrier, tracking). */
static int run_job(ctx *c, int kind, int flag, int expect_fail, const char *a1, const char *a2, const char *a3) {
    char err[SB_ERRLEN] = "";
    sb_engine *e = NULL;
    int rc = sb_engine_open(c->s, c->db, c->integ, &e, err);
    if (!rc && kind == 't') {
        sb_tracking_result r;
        rc = sb_tracking_send(e, flag, &r, err);
    } else if (!rc && kind == 's') {
        sb_stock_result r;
        rc = sb_sync_stock(e, &r, err);
    } else if (!rc && kind == 'd') {
        sb_dispatch_req rq = {.order_ref = a1, .carrier = a2, .tracking = a3};
        sb_dispatch_result r;
        rc = sb_tracking_dispatch(e, &rq, &r, err);
    }
    sb_engine_close(e);
    if (!expect_fail && rc) { fprintf(stderr, "%s:%d: %s\n", c->file, c->line, err); return -1; }
    if (expect_fail && !rc) { fprintf(stderr, "%s:%d: should have failed\n", c->file, c->line); return -1; }
    return 0;
}


/* Replaces each "@now-N" / "@now" in line by the clock's time (less N seconds). */
static void subst_now(const char *line, char *out, size_t len) {
    size_t o = 0;
    for (const char *p = line; *p && o + 24 < len;) {
        if (strncmp(p, "@now", 4)) { out[o++] = *p++; continue; }
        p += 4;
        long back = *p == '-' ? strtol(p + 1, (char **)&p, 10) : 0;
        char ts[32];
        sb_time_format(sb_now() - back, ts, sizeof ts);
        o += (size_t)snprintf(out + o, len - o, "%s", ts);
    }
    out[o] = '\0';
}

static void run_case(const char *dir, const char *name) {
    char path[9000], line[8192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    ctx c;
    memset(&c, 0, sizeof c);
    c.file = name;
    offset_ms = 0;
    if (!f || setup(&c)) { t_fail++; fprintf(stderr, "%s: cannot set up\n", name); if (f) fclose(f); teardown(&c); return; }
    int before_fail = t_fail;
    FILE *packfile = NULL;
    while (fgets(line, sizeof line, f)) {
        c.line++;
        line[strcspn(line, "\n")] = '\0';
        char err[SB_ERRLEN] = "";
        if (packfile) {
            if (!strcmp(line, "eof")) { fclose(packfile); packfile = NULL; }
            else fprintf(packfile, "%s\n", line);
            continue;
        }
        if (!line[0] || line[0] == '#') continue;
        if (!strncmp(line, "sim generate=", 13)) {
            if (start_sim(&c, strtol(line + 13, NULL, 10))) t_fail++;
        } else if (!strncmp(line, "set ", 4)) {
            char *name2 = line + 4, *value = strchr(name2, ' ');
            if (!value) { t_fail++; continue; }
            *value++ = '\0';
            char buf[64];
            if (!strncmp(value, "now-", 4)) {
                char ts[32];
                sb_time_format(sb_now() - strtol(value + 4, NULL, 10) * 86400, ts, sizeof ts);
                snprintf(buf, sizeof buf, "%s", ts);
                value = buf;
            }
            if (!strcmp(value, "@pack")) value = c.pack;
            if (sb_settings_set(c.s, c.integ, name2, value, err)) { t_fail++; fprintf(stderr, "%s:%d: %s\n", name, c.line, err); }
        } else if (!strncmp(line, "pack", 4)) {
            snprintf(c.pack, sizeof c.pack, "%s/pack", c.dir);
            snprintf(path, sizeof path, "mkdir -p %s", c.pack);
            if (system(path) != 0) t_fail++;
        } else if (!strncmp(line, "file ", 5)) {
            snprintf(path, sizeof path, "%s/%s", c.pack, line + 5);
            packfile = fopen(path, "w");
        } else if (!strncmp(line, "sync", 4)) {
            if (run_sync(&c, strstr(line, "fail") ? 1 : strstr(line, "paused") ? 2 : 0)) t_fail++; else t_pass++;
        } else if (!strcmp(line, "retry")) {
            sb_engine *e = NULL;
            long fixed = 0;
            if (sb_engine_open(c.s, c.db, c.integ, &e, err) || sb_orders_retry(e, NULL, &fixed, err)) { t_fail++; fprintf(stderr, "%s:%d: retry: %s\n", name, c.line, err); }
            sb_engine_close(e);
        } else if (!strncmp(line, "fix ", 4) || !strncmp(line, "fix! ", 5)) {
            int refuse = line[3] == '!';
            char ref[64] = "", br[64] = "", res[16] = "";
            char *args = line + (refuse ? 5 : 4), *p = strrchr(args, ' ');
            int resolve = p && !strcmp(p + 1, "resolve");
            if (resolve) *p = '\0';
            if (sscanf(args, "%63s", ref) != 1) { t_fail++; continue; }
            snprintf(br, sizeof br, "%s", args + strlen(ref) + (args[strlen(ref)] ? 1 : 0));
            (void)res;
            int frc = sb_orders_fix(c.s, c.integ, ref, strcmp(br, "-") ? br : NULL, resolve, "test", err);
            if ((frc != 0) != refuse) { t_fail++; fprintf(stderr, "%s:%d: fix: rc %d %s\n", name, c.line, frc, err); }
            else t_pass++;
        } else if (!strncmp(line, "order ", 6)) {
            char json[8192];
            subst_now(line + 6, json, sizeof json);
            if (sb_sim_orders_upsert(c.sim, json, err)) { t_fail++; fprintf(stderr, "%s:%d: %s\n", name, c.line, err); }
        } else if (!strncmp(line, "dispatchline ", 13)) {
            char ref[64], sku[64];
            double qty = 0;
            if (sscanf(line + 13, "%63s %63s %lf", ref, sku, &qty) != 3) { t_fail++; continue; }
            sb_engine *e = NULL;
            sb_dispatch_line dl = {sku, qty};
            sb_dispatch_req rq = {.order_ref = ref, .carrier = "UPS", .tracking = "1Z999", .lines = &dl, .nlines = 1};
            sb_dispatch_result dr;
            if (sb_engine_open(c.s, c.db, c.integ, &e, err) || sb_tracking_dispatch(e, &rq, &dr, err)) {
                t_fail++;
                fprintf(stderr, "%s:%d: dispatch: %s\n", name, c.line, err);
            }
            sb_engine_close(e);
        } else if (!strncmp(line, "fault ", 6)) {
            if (sb_sim_fault_add(c.sim, line + 6, err)) { t_fail++; fprintf(stderr, "%s:%d: %s\n", name, c.line, err); }
        } else if (!strcmp(line, "clearfaults")) {
            sb_sim_faults_clear(c.sim);
        } else if (!strncmp(line, "advance ", 8)) {
            offset_ms += strtol(line + 8, NULL, 10) * 1000;
        } else if (!strncmp(line, "integration ", 12)) {
            int64_t id;
            if (sb_store_integration_add(c.s, line + 12, &id, err)) { t_fail++; continue; }
            for (int i = 0; demo_settings[i][0]; i++) sb_settings_set(c.s, id, demo_settings[i][0], demo_settings[i][1], err);
            c.integ = id;
            if (point_at_sim(&c, id)) t_fail++;
        } else if (!strncmp(line, "expect ", 7)) {
            char *arrow = strstr(line, " => ");
            if (!arrow) { t_fail++; fprintf(stderr, "%s:%d: expect needs ' => '\n", name, c.line); continue; }
            *arrow = '\0';
            char got[8192];
            query(&c, line + 7, got, sizeof got);
            if (strcmp(got, arrow + 4)) {
                t_fail++;
                fprintf(stderr, "%s:%d: %s\n   expected: %s\n   got:      %s\n", name, c.line, line + 7, arrow + 4, got);
            } else t_pass++;
        } else if (!strncmp(line, "sql ", 4)) {
            if (sb_store_exec(c.s, line + 4, err)) { t_fail++; fprintf(stderr, "%s:%d: %s\n", name, c.line, err); }
        } else if (!strcmp(line, "clearrequests")) {
            sb_sim_requests_clear(c.sim);
        } else if (!strncmp(line, "simconfig ", 10)) {
            if (sb_sim_configure(c.sim, line + 10, err)) { t_fail++; fprintf(stderr, "%s:%d: %s\n", name, c.line, err); }
        } else if (!strncmp(line, "dispatch ", 9)) {
            char ref[64], carrier[64], tracking[64];
            if (sscanf(line + 9, "%63s %63s %63s", ref, carrier, tracking) != 3) { t_fail++; continue; }
            if (run_job(&c, 'd', 0, 0, ref, carrier, tracking)) t_fail++; else t_pass++;
        } else if (!strcmp(line, "track") || !strncmp(line, "track ", 6)) {
            if (run_job(&c, 't', strstr(line, "manual") != NULL, strstr(line, "fail") != NULL, NULL, NULL, NULL)) t_fail++;
            else t_pass++;
        } else if (!strcmp(line, "stock") || !strncmp(line, "stock ", 6)) {
            if (run_job(&c, 's', 0, strstr(line, "fail") != NULL, NULL, NULL, NULL)) t_fail++; else t_pass++;
        } else if (!strncmp(line, "requests ", 9) || !strncmp(line, "listing ", 8)) {
            char *arrow = strstr(line, " => "), what[96] = "";
            int status = 0;
            if (!arrow) { t_fail++; fprintf(stderr, "%s:%d: needs ' => '\n", name, c.line); continue; }
            *arrow = '\0';
            int listing = line[0] == 'l';
            if (sscanf(line + (listing ? 8 : 9), "%95s %d", what, &status) < 1) { t_fail++; continue; }
            long got = listing ? sb_sim_listing_quantity(c.sim, what) : t_sim_calls(c.sim, what, status);
            if (got != strtol(arrow + 4, NULL, 10)) {
                t_fail++;
                fprintf(stderr, "%s:%d: %s\n   expected: %s\n   got:      %ld\n", name, c.line, line, arrow + 4, got);
            } else t_pass++;
        } else if (!strcmp(line, "consistent")) {
            char report[2048];
            int n = sb_orders_check_reserved(c.s, report, sizeof report);
            if (n != 0) { t_fail++; fprintf(stderr, "%s:%d: reservations: %s\n", name, c.line, report); }
            else t_pass++;
        } else {
            t_fail++;
            fprintf(stderr, "%s:%d: unknown directive '%s'\n", name, c.line, line);
        }
    }
    if (packfile) fclose(packfile);
    fclose(f);
    teardown(&c);
    printf("%s %s\n", t_fail == before_fail ? "ok  " : "FAIL", name);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    const char *dir = getenv("SB_SYNC_CASES");
    sb_clock_set(&test_clock);
    sb_log_set_level(SB_LOG_ERROR);
    if (argc > 1) { for (int i = 1; i < argc; i++) run_case(dir, argv[i]); return t_done(); }
    DIR *d = dir ? opendir(dir) : NULL;
    T_CHECK(d != NULL);
    if (!d) return t_done();
    char *names[256];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        if (strstr(de->d_name, ".case")) names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    T_CHECK(n >= 10);
    for (int i = 0; i < n; i++) { run_case(dir, names[i]); free(names[i]); }
    return t_done();
}
