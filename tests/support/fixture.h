/* fixture.h: what the test programs that drive the engine against the in-process
 * simulator share: a fake clock (atomic, since the runtime's job threads move it too), the
 * database helpers that fail the test on an error and say which (t_import, t_set, t_sql,
 * t_qnum, t_qtext), and connecting an integration to a simulator (its endpoints, seller,
 * marketplace and the demo credentials). Header-only, like t.h: each test is one program. */
#ifndef SB_TEST_FIXTURE_H
#define SB_TEST_FIXTURE_H
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "core/clock.h"
#include "csvio/csvio.h"
#include "secrets/secrets.h"
#include "settings/settings.h"
#include "sim/sim.h"
#include "store/store.h"
#include "t.h"
#include "store/store_int.h"

#define T_MP "ATVPDKIKX0DER"

static _Atomic int64_t t_fake_ms;
static inline int64_t t_fake_now(void *ud) { (void)ud; return atomic_load(&t_fake_ms); }
static inline void t_fake_sleep(void *ud, int64_t ms) { (void)ud; if (ms > 0) atomic_fetch_add(&t_fake_ms, ms); }
static const sb_clock t_fake_clock = {t_fake_now, t_fake_sleep, NULL};

static inline void t_import(sb_store *s, int64_t integ, const char *kind, const char *csv) {
    sb_csv_result r;
    char err[SB_ERRLEN];
    int rc = sb_csv_import_mem(s, integ, kind, kind, csv, strlen(csv), &r, err);
    if (rc) fprintf(stderr, "import %s: %s\n", kind, err);
    T_EQ(rc, 0);
}

static inline void t_set(sb_store *s, int64_t integ, const char *name, const char *value) {
    char err[SB_ERRLEN];
    int rc = sb_settings_set(s, integ, name, value, err);
    if (rc) fprintf(stderr, "set %s=%s: %s\n", name, value, err);
    T_EQ(rc, 0);
}

static inline void t_sql(sb_store *s, const char *q) {
    char err[SB_ERRLEN];
    int rc = sb_store_exec(s, q, err);
    if (rc) fprintf(stderr, "%s: %s\n", q, err);
    T_EQ(rc, 0);
}

/* The first column of the first row of q as a number; -12345 (and a message) when the
 * query fails. */
static inline double t_qnum(sb_store *s, const char *q) {
    sqlite3_stmt *st;
    double v = -12345;
    if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
    } else fprintf(stderr, "%s: %s\n", q, sqlite3_errmsg(s->db));
    return v;
}

/* The same as text ("" when absent), in a buffer the next call reuses. */
static inline const char *t_qtext(sb_store *s, const char *q) {
    static char out[1024];
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            snprintf(out, sizeof out, "%s", sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    } else fprintf(stderr, "%s: %s\n", q, sqlite3_errmsg(s->db));
    return out;
}

/* Points integ at the simulator at url with the simulator's demo credentials. */
static inline void t_connect_sim(sb_store *s, int64_t integ, const char *url) {
    char lwa[256], err[SB_ERRLEN];
    unsigned char key[SB_KEY_LEN];
    T_EQ(sb_secrets_key(s->path, 1, key, err), 0);
    snprintf(lwa, sizeof lwa, "%s/auth/o2/token", url);
    t_set(s, integ, "api.endpoint", url);
    t_set(s, integ, "api.lwa_endpoint", lwa);
    t_set(s, integ, "integration.seller_id", SB_SIM_SELLER_ID);
    t_set(s, integ, "integration.marketplaces", T_MP);
    T_EQ(sb_secrets_put(s, integ, "lwa.client_id", SB_SIM_CLIENT_ID, key, err), 0);
    T_EQ(sb_secrets_put(s, integ, "lwa.client_secret", SB_SIM_CLIENT_SECRET, key, err), 0);
    T_EQ(sb_secrets_put(s, integ, "lwa.refresh_token", SB_SIM_REFRESH_TOKEN, key, err), 0);
}

#endif
