/* test_secrets.c: credentials round-trip through AES-256-GCM, are not stored in the
 * clear, fail on a wrong key or a moved ciphertext, and the key file is private. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "secrets/secrets.h"
#include "t.h"
#include "store/store_int.h"

int main(void) {
    char dir[] = "/tmp/sbsecXXXXXX", db[64], keyf[80], err[SB_ERRLEN] = "";
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/a.db", dir);
    snprintf(keyf, sizeof keyf, "%s/a.db.key", dir);
    unsetenv("SELLERBRIDGE_KEY");
    unsetenv("SELLERBRIDGE_KEY_FILE");
    sb_store *s;
    unsigned char key[SB_KEY_LEN], key2[SB_KEY_LEN];
    T_EQ(sb_store_open(db, SB_STORE_CREATE, &s, err), 0);
    int64_t a, b;
    T_EQ(sb_store_integration_add(s, "a", &a, err), 0);
    T_EQ(sb_store_integration_add(s, "b", &b, err), 0);

    T_EQ(sb_secrets_key(db, 0, key, err), SB_EIO);          /* no key file yet, not creating */
    T_CONTAINS(err, "sellerbridge init");
    T_EQ(sb_secrets_key(db, 1, key, err), 0);
    struct stat st;
    T_EQ(stat(keyf, &st), 0);
    T_EQ(st.st_mode & 0777, 0600);
    T_EQ(sb_secrets_key(db, 0, key2, err), 0);
    T_CHECK(memcmp(key, key2, SB_KEY_LEN) == 0);

    const char *secret = "Atzr|IwEBIFAKE-refresh-token-0123456789abcdef";
    T_EQ(sb_secrets_put(s, a, "lwa.refresh_token", secret, key, err), 0);
    char *v = NULL;
    T_EQ(sb_secrets_get(s, a, "lwa.refresh_token", &v, key, err), 0);
    T_STREQ(v, secret);
    sb_secrets_wipe(v);

    /* not in the clear anywhere in the row */
    sqlite3_stmt *q;
    sqlite3_prepare_v2(s->db, "SELECT count(*) FROM credentials WHERE instr(ciphertext, CAST('IwEBIFAKE' AS BLOB)) > 0", -1, &q, NULL);
    T_CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 0);
    sqlite3_finalize(q);

    /* wrong key */
    key2[0] ^= 1;
    T_EQ(sb_secrets_get(s, a, "lwa.refresh_token", &v, key2, err), SB_EAUTH);
    T_CHECK(strstr(err, "IwEB") == NULL);
    /* the same ciphertext moved to another integration does not decrypt (AAD) */
    T_EQ(sb_store_exec(s, "INSERT INTO credentials(integration_id, name, nonce, ciphertext, tag) "
                          "SELECT 2, name, nonce, ciphertext, tag FROM credentials WHERE integration_id = 1", err), 0);
    T_EQ(sb_secrets_get(s, b, "lwa.refresh_token", &v, key, err), SB_EAUTH);
    T_EQ(sb_secrets_get(s, a, "lwa.client_id", &v, key, err), SB_ENOTFOUND);

    /* a key from the environment wins; a malformed one is refused */
    setenv("SELLERBRIDGE_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
    T_EQ(sb_secrets_key(db, 0, key2, err), 0);
    T_EQ(key2[1], 0x11);
    setenv("SELLERBRIDGE_KEY", "xyz", 1);
    T_EQ(sb_secrets_key(db, 0, key2, err), SB_EINVAL);
    unsetenv("SELLERBRIDGE_KEY");
    /* a key file others can read is refused */
    chmod(keyf, 0644);
    T_EQ(sb_secrets_key(db, 0, key2, err), SB_EINVAL);
    T_CONTAINS(err, "chmod 600");

    sb_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    T_EQ(system(cmd), 0);
    return t_done();
}
