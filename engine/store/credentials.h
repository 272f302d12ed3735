/* credentials.h: the credentials table's rows as engine/secrets keeps them: a nonce, a
 * ciphertext and a tag per (integration, name). Only sealed bytes pass through here; the
 * encryption and the plain values stay in engine/secrets. */
#ifndef SB_STORE_CREDENTIALS_H
#define SB_STORE_CREDENTIALS_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

#define SB_CRED_NONCE_LEN 12
#define SB_CRED_TAG_LEN 16
#define SB_CRED_MAX_BYTES (64 * 1024)   /* a stored ciphertext larger than this is refused */

typedef struct sb_store_sealed {
    unsigned char nonce[SB_CRED_NONCE_LEN], tag[SB_CRED_TAG_LEN];
    unsigned char *ct;          /* malloc'd (free it); ctlen bytes, never NULL on success */
    size_t ctlen;
} sb_store_sealed;

/* Inserts or replaces integ's credential name. */
int sb_store_credential_put(sb_store *s, int64_t integ, const char *name, const sb_store_sealed *v, char *err);
/* SB_ENOTFOUND when not set; SB_EINVAL when the row's nonce or tag has the wrong size or
 * the ciphertext is over SB_CRED_MAX_BYTES; SB_EIO when the database cannot be read. */
int sb_store_credential_get(sb_store *s, int64_t integ, const char *name, sb_store_sealed *out, char *err);
int sb_store_credential_delete(sb_store *s, int64_t integ, const char *name, char *err);

#endif
