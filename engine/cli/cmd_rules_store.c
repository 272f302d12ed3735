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
#include "store/lookup.h"
#include "store/rulepacks.h"
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
        char lerr[SB_ERRLEN];
        int have = k == 0 ? sb_store_has_branch(s, name, lerr) : k == 1 ? sb_store_has_gl(s, name, lerr)
                 : sb_store_has_group(s, name, lerr);
        if (have < 0) { fprintf(stderr, "sellerbridge rules: warning: %s:%d: %s\n", file, no, lerr); continue; }
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
 * "keep" of that very customer is no change. *same 1 when so. */
static int same_customer(sb_store *s, int64_t integ, const char *ref, const char *old, const char *now, int *same,
                         char *err) {
    int64_t id;
    *same = 0;
    if (!strstr(old, "\"action\":\"insert\"")) return 0;
    int rc = sb_store_order_customer(s, integ, ref, &id, err);
    if (rc || !id) return rc;
    char key[48];
    snprintf(key, sizeof key, "\"id\":%lld", (long long)id);
    const char *p = strstr(now, key);
    *same = p && (p[strlen(key)] == ',' || p[strlen(key)] == '}');
    return 0;
}

typedef struct dry_run {
    sb_cli *cli;
    sb_store *s;
    int64_t integ;
    sb_rules *r;
    long seen, changed, errors;
    char *err;
} dry_run;

/* One stored order through the pack, printed when a decision differs from the one
 * recorded (sb_store_replay_fn). */
static int dry_run_order(void *ud, const char *ref, const char *raw) {
    dry_run *x = ud;
    sb_cli *cli = x->cli;
    if (!raw) return 0;                     /* its page is gone: nothing to run */
    sb_order o;
    sb_decision d;
    char nerr[SB_ERRLEN] = "";
    memset(&o, 0, sizeof o);
    memset(&d, 0, sizeof d);
    x->seen++;
    int nrc = sb_rules_order_json(x->r, raw, strlen(raw), &o, &d, nerr);
    if (nrc || d.error) {
        x->errors++;
        if (cli->json) {
            printf("%s{\"order\":", x->changed + x->errors > 1 ? "," : "");
            sb_cli_json_str(stdout, ref);
            printf(",\"error\":");
            sb_cli_json_str(stdout, nrc ? nerr : d.error);
            printf("}");
        } else printf("%s  error: %s\n", ref, nrc ? nerr : d.error);
        return 0;
    }
    int diff = 0, rc = 0;
    for (int i = 0; i < d.naudit && !rc; i++) {
        char *old = NULL;
        int same = 0;
        if ((rc = sb_store_decision_recorded(x->s, x->integ, ref, d.audit[i].hook, &old, x->err))) break;
        if (old && !strcmp(old, d.audit[i].decision_json)) same = 1;
        else if (old && !strcmp(d.audit[i].hook, "customer"))
            rc = same_customer(x->s, x->integ, ref, old, d.audit[i].decision_json, &same, x->err);
        if (rc || same) {
            free(old);
            continue;
        }
        if (!diff++) x->changed++;
        if (cli->json) {
            printf("%s{\"order\":", x->changed + x->errors > 1 || diff > 1 ? "," : "");
            sb_cli_json_str(stdout, ref);
            printf(",\"hook\":\"%s\",\"recorded\":%s,\"would_be\":%s}", d.audit[i].hook, old ? old : "null",
                   d.audit[i].decision_json);
        } else {
            printf("%s  %-9s %s\n%*s -> %s\n", ref, d.audit[i].hook, old ? old : "(none recorded)",
                   (int)strlen(ref) + 11, "", d.audit[i].decision_json);
        }
        free(old);
    }
    return rc;
}

int sb_cli_rules_dry_run(sb_cli *cli, const char *pack, long limit) {
    sb_store *s;
    int64_t integ;
    char err[SB_ERRLEN], path[PATH_MAX];
    if (sb_cli_open(cli, &s, &integ, NULL, 0)) return SB_EXIT_FAIL;
    sb_engine *e = NULL;
    sb_rules *r = NULL;
    pack_path(pack, path, sizeof path);
    int rc = sb_engine_open(s, cli->db_path, integ, &e, err);
    if (!rc) rc = sb_engine_load_pack(e, path, &r, err);
    if (rc) goto out;
    /* read-only from here: a transaction that is rolled back guards against any write */
    if ((rc = sb_store_begin_read(s, err))) goto out;
    dry_run x = {cli, s, integ, r, 0, 0, 0, err};
    if (cli->json) printf("[");
    rc = sb_store_replay_orders(s, integ, limit, dry_run_order, &x, err);
    if (cli->json) printf("]\n");
    else if (!rc)
        printf("%ld orders run through %s (sha256 %.12s): %ld would change, %ld would be held for a rule error; "
               "nothing was changed\n", x.seen, path, sb_rules_hash(r), x.changed, x.errors);
    sb_store_rollback(s);
out:
    if (rc) sb_cli_fail("rules", SB_ERR, "%s", err);
    sb_rules_free(r);
    sb_engine_close(e);
    sb_store_close(s);
    return rc ? SB_EXIT_FAIL : SB_EXIT_OK;
}
