/* cmd_rules_store.c: the rule-pack commands that need the database: `rules dry-run`
 * runs a pack over the stored orders and prints what would change against the decisions
 * recorded, changing nothing; `rules use` deploys a pack to the integration after it
 * loads cleanly (every decision it makes is recorded with its content hash). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "core/util.h"
#include "settings/settings.h"
#include "sync/engine.h"

/* Pack names are kept as absolute paths, so the daemon finds them from any directory. */
static void pack_path(const char *pack, char *out, size_t len) {
    char abs[PATH_MAX];
    if (!strcmp(pack, "default") || !realpath(pack, abs)) snprintf(out, len, "%s", pack);
    else snprintf(out, len, "%s", abs);
}

/* What the pack's `needs` file (lines "branch NAME", "gl CODE", "group NAME"; # comments)
 * names that the database lacks, said on stderr: the pack is deployed all the same (a
 * branch may be imported next), but a person knows why orders would be held. Returns how
 * many are missing. */
static int pack_needs(sb_store *s, const char *path) {
    char file[PATH_MAX + 8], line[320], missing[3][1024] = {"", "", ""};
    static const char *const kinds[3] = {"branch", "gl", "group"};
    static const char *const what[3] = {"branches", "GL accounts", "customer groups"};
    static const char *const how[3] = {"import branches FILE", "import gl_accounts FILE", "import customer_groups FILE"};
    snprintf(file, sizeof file, "%s/needs", path);
    FILE *f = fopen(file, "r");
    if (!f) return 0;
    int n = 0, no = 0;
    while (no < 1000 && fgets(line, sizeof line, f)) {
        no++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line || *line == '#') continue;
        char *sp = strchr(line, ' ');
        int k = -1;
        for (int i = 0; sp && i < 3; i++)
            if ((size_t)(sp - line) == strlen(kinds[i]) && !strncmp(line, kinds[i], (size_t)(sp - line))) k = i;
        if (k < 0) { fprintf(stderr, "sellerbridge rules: warning: %s:%d: '%s' is not 'branch NAME', 'gl CODE' or 'group NAME'\n",
                             file, no, sb_cli_text(line)); continue; }
        const char *name = sp + 1;
        int have = k == 0 ? sb_store_branch_exists(s, name) : k == 1 ? sb_store_gl_exists(s, name) : sb_store_group_exists(s, name);
        if (have) continue;
        size_t l = strlen(missing[k]);
        snprintf(missing[k] + l, sizeof missing[k] - l, "%s'%s'", l ? ", " : "", name);
        n++;
    }
    fclose(f);
    for (int k = 0; k < 3; k++)
        if (*missing[k])
            fprintf(stderr, "sellerbridge rules: warning: the pack names %s the database lacks: %s (sellerbridge %s); "
                    "orders it sends there are held until they exist\n", what[k], sb_cli_text(missing[k]), how[k]);
    return n;
}

int sb_cli_rules_use(sb_cli *cli, const char *pack) {
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN], path[PATH_MAX], name[128];
    if (sb_cli_open(cli, &s, &integ, name, sizeof name)) return SB_EXIT_FAIL;
    sb_engine *e = NULL;
    sb_rules *r = NULL;
    pack_path(pack, path, sizeof path);
    int rc = sb_engine_open(s, cli->db_path, integ, &e, err);
    if (!rc) rc = sb_engine_load_pack(e, path, &r, err);
    if (!rc) rc = sb_settings_set(s, integ, "rules.pack", path, err);
    if (rc) sb_cli_fail("rules", SB_ERR, "%s; integration '%s' keeps its current pack", err, name);
    else {
        printf("integration '%s' now uses rule pack %s (sha256 %s)\n", name, path, sb_rules_hash(r));
        int missing = pack_needs(s, path);
        if (missing) printf("%d thing%s the pack names %s missing: see the warning%s above\n", missing, missing == 1 ? "" : "s",
                            missing == 1 ? "is" : "are", missing == 1 ? "" : "s");
    }
    sb_rules_free(r);
    sb_engine_close(e);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}

/* A customer the recorded decision inserted is found by the same rule now: "update" or
 * "keep" of that very customer is no change. */
static int same_customer(sb_store *s, int64_t integ, const char *ref, const char *old, const char *now) {
    if (!strstr(old, "\"action\":\"insert\"")) return 0;
    sqlite3_stmt *st;
    int same = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT customer_id FROM sales_orders WHERE integration_id = ?1 AND order_ref = ?2 "
                                  "AND split_no = 0", -1, &st, NULL) != SQLITE_OK) return 0;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        char id[48];
        snprintf(id, sizeof id, "\"id\":%lld", (long long)sqlite3_column_int64(st, 0));
        const char *p = strstr(now, id);
        same = p && (p[strlen(id)] == ',' || p[strlen(id)] == '}');
    }
    sqlite3_finalize(st);
    return same;
}

/* The decision recorded last for (order, hook), or NULL. */
static char *recorded(sb_store *s, int64_t integ, const char *ref, const char *hook) {
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT decision FROM audit WHERE integration_id = ?1 AND order_ref = ?2 "
                                  "AND hook = ?3 ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) return NULL;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hook, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

int sb_cli_rules_dry_run(sb_cli *cli, const char *pack, long limit) {
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN], path[PATH_MAX];
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    sb_engine *e = NULL;
    sb_rules *r = NULL;
    sqlite3_stmt *st = NULL;
    long seen = 0, changed = 0, errors = 0;
    pack_path(pack, path, sizeof path);
    int rc = sb_engine_open(s, cli->db_path, integ, &e, err);
    if (!rc) rc = sb_engine_load_pack(e, path, &r, err);
    /* the orders are chosen first (a materialised set) and only their JSON is taken from
     * the pages: a page is parsed per order, so never for the rows the limit leaves out */
    if (!rc) rc = sb_store_prepare(s, "WITH pick AS MATERIALIZED (SELECT id, order_ref, updated_time FROM sales_orders "
                                      "WHERE integration_id = ?1 AND source = 'amazon' AND split_no = 0 "
                                      "AND (raw_json IS NOT NULL OR raw_page_id IS NOT NULL) AND stage <> 'cancelled' "
                                      "ORDER BY updated_time DESC LIMIT ?2) "
                                      "SELECT p.order_ref, (SELECT r.raw_json FROM sales_orders_raw r WHERE r.order_id = p.id) "
                                      "FROM pick p ORDER BY p.updated_time DESC", &st, err);
    if (rc) goto out;
    /* read-only from here: a transaction that is rolled back guards against any write */
    sb_store_exec(s, "BEGIN", NULL);
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    if (cli->json) printf("[");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ref = (const char *)sqlite3_column_text(st, 0), *raw = (const char *)sqlite3_column_text(st, 1);
        if (!raw) continue;                     /* its page is gone: nothing to run */
        sb_order o;
        sb_decision d;
        char nerr[SB_ERRLEN] = "";
        memset(&o, 0, sizeof o);
        memset(&d, 0, sizeof d);
        seen++;
        int nrc = sb_rules_order_json(r, raw, strlen(raw), &o, &d, nerr);
        if (nrc || d.error) {
            errors++;
            if (cli->json) {
                printf("%s{\"order\":", changed + errors > 1 ? "," : "");
                sb_cli_json_str(stdout, ref);
                printf(",\"error\":");
                sb_cli_json_str(stdout, nrc ? nerr : d.error);
                printf("}");
            } else printf("%s  error: %s\n", ref, nrc ? nerr : d.error);
            continue;
        }
        int diff = 0;
        for (int i = 0; i < d.naudit; i++) {
            char *old = recorded(s, integ, ref, d.audit[i].hook);
            if (old && (!strcmp(old, d.audit[i].decision_json) ||
                        (!strcmp(d.audit[i].hook, "customer") && same_customer(s, integ, ref, old, d.audit[i].decision_json)))) {
                free(old);
                continue;
            }
            if (!diff++) changed++;
            if (cli->json) {
                printf("%s{\"order\":", changed + errors > 1 || diff > 1 ? "," : "");
                sb_cli_json_str(stdout, ref);
                printf(",\"hook\":\"%s\",\"recorded\":%s,\"would_be\":%s}", d.audit[i].hook, old ? old : "null",
                       d.audit[i].decision_json);
            } else {
                printf("%s  %-9s %s\n%*s -> %s\n", ref, d.audit[i].hook, old ? old : "(none recorded)",
                       (int)strlen(ref) + 11, "", d.audit[i].decision_json);
            }
            free(old);
        }
    }
    if (cli->json) printf("]\n");
    else printf("%ld orders run through %s (sha256 %.12s): %ld would change, %ld would be held for a rule error; "
                "nothing was changed\n", seen, path, sb_rules_hash(r), changed, errors);
    sb_store_rollback(s);
out:
    if (rc) sb_cli_fail("rules", SB_ERR, "%s", err);
    sqlite3_finalize(st);
    sb_rules_free(r);
    sb_engine_close(e);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}
