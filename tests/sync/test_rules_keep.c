/* test_rules_keep.c: in the daemon a rule pack that stops loading (a broken edit) leaves
 * the pack that loaded last running; a pack that never loaded is an error; a fixed pack
 * takes over at the next check. */
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "settings/settings.h"
#include "sync/engine.h"
#include "t.h"

static void write_gl(const char *dir, const char *body) {
    char p[256];
    snprintf(p, sizeof p, "%s/gl.lua", dir);
    FILE *f = fopen(p, "w");
    if (f) { fputs(body, f); fclose(f); }
}

int main(void) {
    char dir[] = "/tmp/sbkeepXXXXXX", db[96], pack[96], err[SB_ERRLEN], h1[65];
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/t.db", dir);
    snprintf(pack, sizeof pack, "%s/pack", dir);
    snprintf(err, sizeof err, "mkdir -p %s", pack);
    T_EQ(system(err), 0);
    sb_log_set_level(SB_LOG_OFF);
    sb_store *s;
    int64_t integ;
    T_EQ(sb_store_open(db, SB_STORE_CREATE, &s, err), 0);
    T_EQ(sb_store_integration_add(s, "main", &integ, err), 0);
    T_EQ(sb_settings_set(s, integ, "rules.pack", pack, err), 0);
    sb_rules *last = NULL;
    sb_engine *e;

    /* a broken pack with nothing before it: an error naming the file and line */
    write_gl(pack, "return function(order\n");
    T_EQ(sb_engine_open(s, db, integ, &e, err), 0);
    T_EQ(sb_engine_rules_keep(e, &last, err), SB_ERULE);
    T_CONTAINS(err, "gl.lua:2:");
    T_CHECK(last == NULL);
    sb_engine_close(e);

    /* it loads: it becomes the kept pack */
    write_gl(pack, "return function(order) return {account = nil} end\n");
    T_EQ(sb_engine_open(s, db, integ, &e, err), 0);
    T_EQ(sb_engine_rules_keep(e, &last, err), 0);
    T_CHECK(last != NULL && e->rules == last);
    snprintf(h1, sizeof h1, "%s", last ? sb_rules_hash(last) : "");
    sb_engine_close(e);
    T_CHECK(last != NULL);           /* the engine only borrowed it */

    /* a broken edit: the last pack keeps running, with this engine's look-ups */
    write_gl(pack, "return function(order) return {account = \n");
    T_EQ(sb_engine_open(s, db, integ, &e, err), 0);
    T_EQ(sb_engine_rules_keep(e, &last, err), 0);
    T_CHECK(e->rules == last);
    T_STREQ(sb_rules_hash(e->rules), h1);
    sb_engine_close(e);

    /* fixed: the new pack takes over */
    write_gl(pack, "return function(order) return {} end\n");
    T_EQ(sb_engine_open(s, db, integ, &e, err), 0);
    T_EQ(sb_engine_rules_keep(e, &last, err), 0);
    T_CHECK(strcmp(sb_rules_hash(e->rules), h1) != 0);
    sb_engine_close(e);

    sb_rules_free(last);
    sb_store_close(s);
    snprintf(err, sizeof err, "rm -rf %s", dir);
    T_EQ(system(err), 0);
    return t_done();
}
