/* test_store.c: the database opens with the right pragmas, an old schema is migrated in
 * place keeping its data (and what a migration adds does its work), a newer one is
 * refused, and the engine lock is exclusive. The audit view (migration 18) reads old rows
 * as they were and a write of several entries as one row each. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store/orders.h"
#include "store/store.h"
#include "t.h"
#include "store/store_int.h"

static int64_t count(sb_store *s, const char *sql) {
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int main(void) {
    char path[] = "/tmp/sbstoreXXXXXX", db[64], err[SB_ERRLEN] = "";
    T_CHECK(mkdtemp(path) != NULL);
    snprintf(db, sizeof db, "%s/a.db", path);
    sb_store *s = NULL;

    /* missing file without CREATE: a message that says what to do */
    T_EQ(sb_store_open(db, 0, &s, err), SB_ENOTFOUND);
    T_CONTAINS(err, "run 'sellerbridge init'");

    /* an old database at schema 1 with data in it */
    T_EQ(sb_store_open(db, SB_STORE_CREATE | SB_STORE_NO_MIGRATE, &s, err), 0);
    T_EQ(sb_store_migrate(s, 1, err), 0);
    T_EQ(sb_store_user_version(s), 1);
    T_EQ(sb_store_exec(s, "INSERT INTO integrations(name) VALUES ('old');"
                          "INSERT INTO branches(name) VALUES ('Sydney');", err), 0);
    T_EQ(count(s, "SELECT count(*) FROM sqlite_master WHERE name = 'shipments'"), 0);
    sb_store_close(s);

    /* opened by this program: upgraded in place, data kept */
    T_EQ(sb_store_open(db, 0, &s, err), 0);
    T_EQ(sb_store_user_version(s), sb_store_schema_version());
    T_CHECK(sb_store_schema_version() >= 2);
    T_EQ(count(s, "SELECT count(*) FROM sqlite_master WHERE name = 'shipments'"), 1);
    T_EQ(count(s, "SELECT count(*) FROM branches WHERE name = 'Sydney'"), 1);
    T_EQ(count(s, "PRAGMA foreign_keys"), 1);
    T_EQ(count(s, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
    int64_t id = 0;
    T_EQ(sb_store_integration(s, NULL, &id, NULL, 0, err), 0);
    T_CHECK(id > 0);
    /* foreign keys are enforced */
    T_CHECK(sb_store_exec(s, "INSERT INTO stock(product_id, branch_id, on_hand) VALUES (999, 999, 1)", err) != 0);

    /* one engine per database */
    sb_store *s2 = NULL;
    T_EQ(sb_store_open(db, 0, &s2, err), 0);
    T_EQ(sb_store_lock_engine(s, err), 0);
    T_EQ(sb_store_lock_engine(s2, err), SB_EBUSY);
    T_CONTAINS(err, "another sellerbridge engine");
    sb_store_close(s2);

    /* a database from a newer program is refused, untouched */
    T_EQ(sb_store_exec(s, "PRAGMA user_version = 999", err), 0);
    sb_store_close(s);
    T_EQ(sb_store_open(db, 0, &s, err), SB_ESCHEMA);
    T_CONTAINS(err, "newer than this program");
    T_CHECK(s == NULL);
    T_EQ(sb_store_open(db, SB_STORE_NO_MIGRATE, &s, err), 0);
    T_EQ(sb_store_user_version(s), 999);
    sb_store_close(s);

    /* schema 9: kits of a database from before it are marked for the stock upload once,
     * and a change of a BOM marks its kit from then on (every integration) */
    snprintf(db, sizeof db, "%s/kits.db", path);
    T_EQ(sb_store_open(db, SB_STORE_CREATE | SB_STORE_NO_MIGRATE, &s, err), 0);
    T_EQ(sb_store_migrate(s, 8, err), 0);
    T_EQ(sb_store_exec(s, "INSERT INTO integrations(name) VALUES ('one'), ('two');"
                          "INSERT INTO products(sku, order_type) VALUES ('A', 'standard'), ('B', 'standard'), ('K', 'kit');"
                          "INSERT INTO bom_components(kit_id, component_id, qty) SELECT k.id, a.id, 2 FROM products k, products a "
                          "  WHERE k.sku = 'K' AND a.sku = 'A';"
                          "DELETE FROM stock_dirty;", err), 0);
    sb_store_close(s);
    T_EQ(sb_store_open(db, 0, &s, err), 0);
    T_EQ(sb_store_user_version(s), sb_store_schema_version());
    T_EQ(count(s, "SELECT count(*) FROM stock_dirty WHERE sku = 'K'"), 2);
    T_EQ(count(s, "SELECT count(*) FROM stock_dirty"), 2);
    T_EQ(count(s, "SELECT count(*) FROM sqlite_master WHERE name = 'bom_components_component'"), 1);
    static const char *const bom_edits[] = {
        "INSERT INTO bom_components(kit_id, component_id, qty) SELECT k.id, b.id, 1 FROM products k, products b "
        "WHERE k.sku = 'K' AND b.sku = 'B'",
        "UPDATE bom_components SET qty = 3 WHERE component_id = (SELECT id FROM products WHERE sku = 'A')",
        "DELETE FROM bom_components WHERE component_id = (SELECT id FROM products WHERE sku = 'B')",
        NULL};
    for (int i = 0; bom_edits[i]; i++) {
        T_EQ(sb_store_exec(s, "DELETE FROM stock_dirty", err), 0);
        T_EQ(sb_store_exec(s, bom_edits[i], err), 0);
        T_EQ(count(s, "SELECT count(*) FROM stock_dirty WHERE sku = 'K'"), 2);
        T_EQ(count(s, "SELECT count(*) FROM stock_dirty"), 2);
    }
    /* a kit deleted with its BOM (cascade) leaves no mark without a SKU */
    T_EQ(sb_store_exec(s, "DELETE FROM stock_dirty; DELETE FROM products WHERE sku = 'K'", err), 0);
    T_EQ(count(s, "SELECT count(*) FROM bom_components"), 0);
    T_EQ(count(s, "SELECT count(*) FROM stock_dirty WHERE sku IS NULL"), 0);
    sb_store_close(s);

    /* schema 18: the audit rows of a database from before it read the same through the
     * view (ids, order, decision text byte for byte), and a write after them of several
     * entries reads as that many rows, in order, after the old ones */
    snprintf(db, sizeof db, "%s/audit.db", path);
    T_EQ(sb_store_open(db, SB_STORE_CREATE | SB_STORE_NO_MIGRATE, &s, err), 0);
    T_EQ(sb_store_migrate(s, 17, err), 0);
    static const char old_audit[] =
        "SELECT group_concat(hook || '|' || decision || '|' || COALESCE(pack_hash, '-') || '|' || at, '~') "
        "FROM (SELECT * FROM audit ORDER BY id)";
    T_EQ(sb_store_exec(s, "INSERT INTO integrations(name) VALUES ('one');"
                          "INSERT INTO audit(id, integration_id, order_ref, hook, decision, pack_hash, at) VALUES "
                          "(7, 1, 'A', 'route', '{\"branch\":\"LA\",\"q\":1.50}', 'h1', '2026-01-01T00:00:00Z'),"
                          "(9, 1, 'A', 'person', 'not json, \"kept\"', NULL, '2026-01-02T00:00:00Z'),"
                          "(8, 1, 'B', 'gl', '{}', 'h1', '2026-01-01T00:00:01Z');", err), 0);
    char before[512] = "", after[512] = "";
    sqlite3_stmt *q;
    T_EQ(sqlite3_prepare_v2(s->db, old_audit, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW) snprintf(before, sizeof before, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sb_store_close(s);
    T_EQ(sb_store_open(db, 0, &s, err), 0);
    T_EQ(count(s, "SELECT count(*) FROM sqlite_master WHERE name = 'audit' AND type = 'view'"), 1);
    T_EQ(sqlite3_prepare_v2(s->db, old_audit, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW) snprintf(after, sizeof after, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    /* (the view's ids are the log's times 32: the order is what is kept) */
    T_CONTAINS(before, "route|{\"branch\":\"LA\",\"q\":1.50}|h1|2026-01-01T00:00:00Z~gl|");
    T_STREQ(after, before);
    T_EQ(count(s, "SELECT count(*) FROM audit WHERE order_ref = 'A'"), 2);
    sb_audit_entry e[3] = {{"status", "{\"keep\":true}"}, {"route", "{\"branch\":\"NJ\"}"}, {"gl", "{\"account\":\"4010\"}"}};
    T_EQ(sb_store_order_audit(s, 1, "A", "h2", "2026-02-01T00:00:00Z", e, 3, err), 0);
    T_EQ(count(s, "SELECT count(*) FROM audit_log WHERE order_ref = 'A'"), 3);
    T_EQ(count(s, "SELECT count(*) FROM audit WHERE order_ref = 'A' AND pack_hash = 'h2'"), 3);
    char hooks[128] = "";
    T_EQ(sqlite3_prepare_v2(s->db, "SELECT group_concat(hook || '=' || decision, ' ') FROM (SELECT * FROM audit "
                                   "WHERE order_ref = 'A' ORDER BY id)", -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW) snprintf(hooks, sizeof hooks, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    T_STREQ(hooks, "route={\"branch\":\"LA\",\"q\":1.50} person=not json, \"kept\" status={\"keep\":true} "
                   "route={\"branch\":\"NJ\"} gl={\"account\":\"4010\"}");
    /* the order's look-up goes through the log's index, not a scan */
    char plan[256] = "";
    T_EQ(sqlite3_prepare_v2(s->db, "EXPLAIN QUERY PLAN SELECT decision FROM audit WHERE integration_id = 1 "
                                   "AND order_ref = 'A' AND hook = 'gl' ORDER BY id DESC LIMIT 1", -1, &q, NULL), SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
        size_t n = strlen(plan);
        snprintf(plan + n, sizeof plan - n, "%s;", (const char *)sqlite3_column_text(q, 3));
    }
    sqlite3_finalize(q);
    T_CONTAINS(plan, "USING INDEX audit_log_order");
    sb_store_close(s);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", path);
    T_EQ(system(cmd), 0);
    return t_done();
}
