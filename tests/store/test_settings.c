/* test_settings.c: every setting's validation, driven by settings_cases.txt: each line
 * is "NAME<TAB>VALUE<TAB>EXPECT" where EXPECT is "= CANONICAL" for an accepted value or
 * "! TEXT" for a refusal whose message contains TEXT. After each refusal the stored
 * value must be unchanged. Every setting must appear in the cases at least once. The
 * cases run in the source tree (relative pack folders); the value "@broken" is a rule
 * pack written here that does not load. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "settings/settings.h"
#include "t.h"
#include "store/store_int.h"

static void seed(sb_store *s) {
    char err[SB_ERRLEN];
    sb_store_exec(s, "INSERT INTO branches(name, country) VALUES ('Sydney','AU'),('LA','US'),('NJ','US'),('FBA','US');"
                     "INSERT INTO customers(ref, email) VALUES ('CASH','cash@example.com');"
                     /* a customer another integration made: not this one's to select */
                     "INSERT INTO integrations(name) VALUES ('other');"
                     "INSERT INTO customers(ref, integration_id) VALUES ('OTHERS', (SELECT id FROM integrations WHERE name = 'other'));"
                     "INSERT INTO customer_groups(name) VALUES ('Retail');"
                     "INSERT INTO gl_accounts(code, name) VALUES ('4010','Amazon sales');", err);
}

static char *unescape(char *s) {   /* \t and \n in case values */
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] == 't') { *w++ = '\t'; r++; }
        else if (r[0] == '\\' && r[1] == 'n') { *w++ = '\n'; r++; }
        else *w++ = *r;
    }
    *w = '\0';
    return s;
}

int main(void) {
    char dir[] = "/tmp/sbsetXXXXXX", db[64], err[SB_ERRLEN];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/a.db", dir);
    sb_store *s;
    int64_t integ;
    T_EQ(sb_store_open(db, SB_STORE_CREATE, &s, err), 0);
    T_EQ(sb_store_integration_add(s, "main", &integ, err), 0);
    seed(s);

    /* relative rule-pack folders in the cases are the source tree's; "@broken" is a pack
     * that does not load */
    const char *src = getenv("SB_SOURCE_DIR");
    T_CHECK(src && chdir(src) == 0);
    char broken[96], gl[128];
    snprintf(broken, sizeof broken, "%s/broken", dir);
    snprintf(gl, sizeof gl, "%s/gl.lua", broken);
    T_EQ(mkdir(broken, 0700), 0);
    FILE *g = fopen(gl, "w");
    T_CHECK(g != NULL);
    if (g) { fputs("return function(order\n", g); fclose(g); }
    const char *path = getenv("SB_SETTINGS_CASES");
    FILE *f = path ? fopen(path, "r") : NULL;
    T_CHECK(f != NULL);
    if (!f) return t_done();
    int n, covered[128] = {0};
    const sb_setting_def *defs = sb_settings_defs(&n);
    char line[2048];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *name = line, *value = strchr(name, '\t'), *expect = value ? strchr(value + 1, '\t') : NULL;
        if (!expect) { fprintf(stderr, "cases:%d: malformed\n", lineno); t_fail++; continue; }
        *value++ = '\0';
        *expect++ = '\0';
        unescape(value);
        if (!strcmp(value, "<empty>")) value[0] = '\0';
        if (!strcmp(value, "@broken")) value = broken;
        for (int i = 0; i < n; i++)
            if (!strcmp(defs[i].name, name)) covered[i] = 1;
        char *before = NULL, *after = NULL;
        sb_settings_get(s, integ, name, &before, NULL, err);
        err[0] = '\0';
        int rc = sb_settings_set(s, integ, name, value, err);
        sb_settings_get(s, integ, name, &after, NULL, err + strlen(err));
        if (expect[0] == '=') {
            if (rc != 0 || !after || strcmp(after, expect + 2)) {
                fprintf(stderr, "cases:%d: %s=%s: expected '%s', got rc %d value '%s' (%s)\n", lineno, name, value,
                        expect + 2, rc, after ? after : "", err);
                t_fail++;
            } else t_pass++;
        } else {
            if (rc != SB_EINVAL || !strstr(err, expect + 2) || !strstr(err, name) || strcmp(before, after)) {
                fprintf(stderr, "cases:%d: %s=%s: expected refusal containing '%s', got rc %d '%s' (before '%s' after '%s')\n",
                        lineno, name, value, expect + 2, rc, err, before, after);
                t_fail++;
            } else t_pass++;
        }
        free(before);
        free(after);
    }
    fclose(f);
    for (int i = 0; i < n; i++)
        if (!covered[i]) { fprintf(stderr, "setting %s has no validation case\n", defs[i].name); t_fail++; }

    /* which endpoint values count as Amazon's own (the only ones the dashboard may set) */
    char host[256];
    T_EQ(sb_settings_sends_credentials("api.lwa_endpoint"), 1);
    T_EQ(sb_settings_sends_credentials("api.endpoint"), 1);
    T_EQ(sb_settings_sends_credentials("api.timeout_ms"), 0);
    T_EQ(sb_settings_amazon_endpoint("", host, sizeof host), 1);
    T_EQ(sb_settings_amazon_endpoint("sandbox", host, sizeof host), 1);
    T_EQ(sb_settings_amazon_endpoint("https://api.amazon.com/auth/o2/token", host, sizeof host), 1);
    T_STREQ(host, "api.amazon.com");
    T_EQ(sb_settings_amazon_endpoint("https://sellingpartnerapi-fe.amazon.com", host, sizeof host), 1);
    T_EQ(sb_settings_amazon_endpoint("http://api.amazon.com/auth/o2/token", host, sizeof host), 0);
    T_EQ(sb_settings_amazon_endpoint("https://api.amazon.com.evil.example/t", host, sizeof host), 0);
    T_EQ(sb_settings_amazon_endpoint("https://api.amazon.com@evil.example/t", host, sizeof host), 0);
    T_STREQ(host, "evil.example");
    T_EQ(sb_settings_amazon_endpoint("https://evilamazon.com/t", host, sizeof host), 0);
    T_EQ(sb_settings_amazon_endpoint("http://127.0.0.1:8123", host, sizeof host), 0);

    /* unknown setting; unset returns to default; the snapshot sees stored values */
    T_EQ(sb_settings_set(s, integ, "orders.nope", "1", err), SB_EINVAL);
    T_CONTAINS(err, "'orders.nope' is not a setting");
    T_CHECK(strstr(err, "did you mean") == NULL);              /* nothing is that near */
    /* a mistyped name: the nearest setting is suggested */
    T_EQ(sb_settings_set(s, integ, "stock.formla", "soh", err), SB_EINVAL);
    T_CONTAINS(err, "'stock.formla' is not a setting; did you mean stock.formula?");
    T_EQ(sb_settings_set(s, integ, "orders.auto_dowload", "true", err), SB_EINVAL);
    T_CONTAINS(err, "did you mean orders.auto_download?");
    T_EQ(sb_settings_set(s, integ, "additional.fulfillment_latency", "7", err), 0);
    sb_settings st;
    T_EQ(sb_settings_load(s, integ, &st, err), 0);
    T_EQ(sb_settings_int(&st, "additional.fulfillment_latency"), 7);
    sb_settings_free(&st);
    T_EQ(sb_settings_unset(s, integ, "additional.fulfillment_latency", err), 0);
    T_EQ(sb_settings_load(s, integ, &st, err), 0);
    T_EQ(sb_settings_int(&st, "additional.fulfillment_latency"), 2);
    sb_settings_free(&st);
    char **l = sb_settings_list("[\"a\",\"b c\"]");
    T_STREQ(l[1], "b c");
    T_CHECK(l[2] == NULL);
    sb_settings_list_free(l);

    sb_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    T_EQ(system(cmd), 0);
    return t_done();
}
