/* secrets.h: credentials kept encrypted at rest (AES-256-GCM, openssl). The 32-byte key
 * comes from SELLERBRIDGE_KEY (64 hex digits) or from a 0600 key file: the path in
 * SELLERBRIDGE_KEY_FILE, else "<database>.key", made by `sellerbridge init`. The
 * integration and credential names are bound in as associated data, so a ciphertext
 * copied to another row does not decrypt. Plain values never reach a log or message. */
#ifndef SB_SECRETS_H
#define SB_SECRETS_H
#include <stdint.h>
#include "store/store.h"

#define SB_KEY_LEN 32

/* The credentials an integration can hold: Login with Amazon's three, and the AWS keys
 * that read the seller's SQS queue of notifications (Signature V4; the session token only
 * for temporary keys). */
#define SB_CREDENTIALS_MAX 8
extern const char *const sb_credential_names[];   /* NULL-terminated */
int sb_credential_known(const char *name);

/* Loads the key; with create set, makes a new key file when none exists. */
int sb_secrets_key(const char *db_path, int create, unsigned char key[SB_KEY_LEN], char *err);
int sb_secrets_put(sb_store *s, int64_t integ, const char *name, const char *value,
                   const unsigned char key[SB_KEY_LEN], char *err);
/* *value is malloc'd; SB_ENOTFOUND when the credential is not set. Wipe it after use. */
int sb_secrets_get(sb_store *s, int64_t integ, const char *name, char **value,
                   const unsigned char key[SB_KEY_LEN], char *err);
int sb_secrets_delete(sb_store *s, int64_t integ, const char *name, char *err);
void sb_secrets_wipe(char *value);   /* zeroes and frees */

#endif
