/* credentials.c: the credentials table's sealed rows (see credentials.h). */
#include <stdlib.h>
#include <string.h>
#include "core/util.h"
#include "store/credentials.h"
#include "store/store_int.h"

int sb_store_credential_put(sb_store *s, int64_t integ, const char *name, const sb_store_sealed *v, char *err) {
    sqlite3_stmt *st;
    int rc = sb_store_prepare(s, "INSERT INTO credentials(integration_id, name, nonce, ciphertext, tag) "
                                 "VALUES (?,?,?,?,?) ON CONFLICT(integration_id, name) DO UPDATE SET "
                                 "nonce = excluded.nonce, ciphertext = excluded.ciphertext, tag = excluded.tag, "
                                 "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, v->nonce, SB_CRED_NONCE_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, v->ct, (int)v->ctlen, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, v->tag, SB_CRED_TAG_LEN, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = sb_store_error(s, name, err);
    sqlite3_finalize(st);
    return rc;
}

int sb_store_credential_get(sb_store *s, int64_t integ, const char *name, sb_store_sealed *out, char *err) {
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    int rc = sb_store_prepare(s, "SELECT nonce, ciphertext, tag FROM credentials WHERE integration_id = ? AND name = ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, integ);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        rc = sb_seterr(err, SB_ENOTFOUND, "credential %s is not set (use 'sellerbridge credentials set %s')", name, name);
        goto out;
    }
    if (step != SQLITE_ROW) { rc = sb_store_error(s, "reading credential", err); goto out; }
    int ctl = sqlite3_column_bytes(st, 1);
    if (sqlite3_column_bytes(st, 0) != SB_CRED_NONCE_LEN || sqlite3_column_bytes(st, 2) != SB_CRED_TAG_LEN ||
        ctl < 0 || ctl > SB_CRED_MAX_BYTES) {
        rc = sb_seterr(err, SB_EINVAL, "credential %s is damaged in the database", name);
        goto out;
    }
    const void *ct = sqlite3_column_blob(st, 1);
    if (!(out->ct = malloc((size_t)ctl + 1))) { rc = sb_seterr(err, SB_ENOMEM, "credential %s: out of memory", name); goto out; }
    memcpy(out->nonce, sqlite3_column_blob(st, 0), SB_CRED_NONCE_LEN);
    memcpy(out->tag, sqlite3_column_blob(st, 2), SB_CRED_TAG_LEN);
    if (ctl) memcpy(out->ct, ct, (size_t)ctl);
    out->ctlen = (size_t)ctl;
out:
    sqlite3_finalize(st);
    return rc;
}

int sb_store_credential_delete(sb_store *s, int64_t integ, const char *name, char *err) {
    return sb_store_run_named(s, "DELETE FROM credentials WHERE integration_id = ?1 AND name = ?2", integ, name, name, err);
}
