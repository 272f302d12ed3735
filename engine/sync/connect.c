/* connect.c: a seller account's LWA values, checked with one token call (see connect.h).
 *
 * The one idea: the values are written, the engine's own client is built from the
 * database as every job builds it (sb_engine_api: endpoints, timeouts, retries) and asks
 * for one access token; when Amazon says no, the values stored before are written back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "core/util.h"
#include "secrets/secrets.h"
#include "spapi/spapi.h"
#include "sync/connect.h"
#include "sync/engine.h"

static const char *const names[3] = {"lwa.client_id", "lwa.client_secret", "lwa.refresh_token"};

static int check_value(const char *name, const char *v, char *err) {
    if (!v || !*v) return sb_seterr(err, SB_EINVAL, "%s is empty", name);
    size_t n = strlen(v);
    if (n > SB_CONNECT_VALUE_MAX) return sb_seterr(err, SB_EINVAL, "%s is %zu characters long; at most %d", name, n, SB_CONNECT_VALUE_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x21 || v[i] == 0x7f)
            return sb_seterr(err, SB_EINVAL, "%s has a space or control character at position %zu (copy it again without it)", name, i + 1);
    return 0;
}

/* Amazon's answer to the token call in plain words. */
static void plain_words(const char *msg, char *out, size_t n) {
    if (strstr(msg, "invalid_grant"))
        snprintf(out, n, "Amazon refused the refresh token (invalid_grant): it is mistyped, was revoked, or was issued to "
                 "another app; authorise the app again in Seller Central and copy the new refresh token");
    else if (strstr(msg, "invalid_client"))
        snprintf(out, n, "Amazon refused the client id or client secret (invalid_client): copy both again from the "
                 "app's LWA credentials in the Developer Console");
    else if (strstr(msg, "unauthorized_client"))
        snprintf(out, n, "Amazon says this app may not use the refresh token (unauthorized_client): the token belongs to "
                 "another app");
    else
        snprintf(out, n, "Amazon did not accept the credentials: %.400s", msg);
}

int sb_connect(sb_store *s, const char *db_path, int64_t integ, const char *client_id, const char *client_secret,
               const char *refresh_token, sb_connect_result *out, char *err) {
    const char *vals[3] = {client_id, client_secret, refresh_token};
    char *old[3] = {NULL, NULL, NULL};
    unsigned char key[SB_KEY_LEN];
    sb_engine *e = NULL;
    int rc = 0, stored = 0;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 3 && !rc; i++) rc = check_value(names[i], vals[i], err);
    if (rc) return rc;
    if ((rc = sb_secrets_key(db_path, 1, key, err))) return rc;
    for (int i = 0; i < 3 && !rc; i++) {
        int g = sb_secrets_get(s, integ, names[i], &old[i], key, err);
        if (g && g != SB_ENOTFOUND) rc = g;
    }
    /* all three in one transaction: a half-connected account never shows */
    if (!rc && !(rc = sb_store_begin(s, err))) {
        for (int i = 0; i < 3 && !rc; i++) rc = sb_secrets_put(s, integ, names[i], vals[i], key, err);
        if (!rc) rc = sb_store_commit(s, err);
        else sb_store_rollback(s);
        stored = !rc;
    }
    if (!rc) rc = sb_engine_open(s, db_path, integ, &e, err);
    if (!rc) rc = sb_engine_api(e, err);
    if (!rc) rc = sb_spapi_measure_clock(e->api, err);
    if (!rc) {
        out->accepted = 1;
        out->clock_known = sb_spapi_clock_skew(e->api, &out->clock_skew_ms);
        snprintf(out->said, sizeof out->said, "Amazon accepted the credentials: it issued an access token");
        sb_info("connect: Amazon accepted the LWA credentials integration_id=%lld", (long long)integ);
    } else if (stored) {
        char why[SB_ERRLEN];
        if (rc == SB_EAUTH) plain_words(err, out->said, sizeof out->said);
        else snprintf(out->said, sizeof out->said, "Amazon could not be reached to check them: %.400s", err);
        snprintf(why, sizeof why, "%s", out->said);
        /* put back what was there (or nothing) */
        char rerr[SB_ERRLEN];
        int back = sb_store_begin(s, rerr);
        for (int i = 0; i < 3 && !back; i++)
            back = old[i] ? sb_secrets_put(s, integ, names[i], old[i], key, rerr) : sb_secrets_delete(s, integ, names[i], rerr);
        if (!back) back = sb_store_commit(s, rerr);
        else sb_store_rollback(s);
        if (back) snprintf(why + strlen(why), sizeof why - strlen(why), "; and putting back the earlier values failed: %.200s", rerr);
        else snprintf(why + strlen(why), sizeof why - strlen(why), "; nothing was changed (%s)",
                      old[0] || old[1] || old[2] ? "the earlier credentials stay" : "no credentials are stored");
        sb_warn("connect: %s", why);
        sb_seterr(err, rc, "%s", why);
    }
    sb_engine_close(e);
    for (int i = 0; i < 3; i++) sb_secrets_wipe(old[i]);
    memset(key, 0, sizeof key);
    return rc;
}
